"""Visible checks for notebook 09: batch normalisation.

Every check uses small fixed inputs and compares with expected outputs written
here as constants (computed once with the grader's reference and checked against
Keras' ``BatchNormalization`` by ``tests/test_batchnorm.py``). The outputs that
typical mistakes give are constants too, so a failing check can name the mistake.
No graded function is solved in this module.

Shapes: ``X`` is ``(N, D)`` (a batch of feature vectors) or ``(m, n_H, n_W, n_C)``
(a batch of feature maps, channels-last); ``gamma``, ``beta`` and every statistic
have one value per feature or channel: shape ``(D,)`` or ``(n_C,)``.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from . import core

# ------------------------------------------------------------ likely mistakes
# (shared with grader/references/batchnorm.py, so visible and hidden messages agree)
UNBIASED = ("the unbiased variance was used (dividing by N - 1, `ddof=1`); batch norm "
            "divides by the number of values N (`np.var`'s default, `ddof=0`), as Keras does.")
NO_EPS = ("eps was left out: divide by sqrt(var + eps), not sqrt(var) (without eps a channel "
          "with zero variance divides by zero).")
EPS_OUTSIDE = ("eps was added outside the square root: the denominator is sqrt(var + eps), "
               "not sqrt(var) + eps.")
EPS_IGNORED = ("the eps argument was ignored (a fixed 1e-5 was used): use the eps that is "
               "passed in.")
NO_SQRT = ("the variance was used as the standard deviation: divide by sqrt(var + eps), "
           "not by var + eps.")
BATCH_AXIS_ONLY = ("for feature maps the statistics were taken over the batch axis only "
                   "(axis=0, one mean per pixel and channel); spatial batch norm pools every "
                   "axis except the channels: axis=(0, 1, 2), one mean per channel.")
PER_EXAMPLE = ("the statistics were taken per example (over the feature or channel axis) "
               "instead of per feature over the batch: average over every axis except the "
               "last one.")
ALL_AXES = ("the statistics were taken over every axis, the last one included (one mean for "
            "the whole array); keep one mean and one variance per feature or channel.")
KEEPDIMS = ("batch_mean and batch_var still have the axes kept by `keepdims=True`; return them "
            "with shape (D,) or (n_C,), e.g. `.reshape(-1)` (or compute them without keepdims).")
GAMMA_BETA_SWAPPED = ("gamma and beta are swapped: out = gamma * x_hat + beta (gamma scales, "
                      "beta shifts).")
NO_GAMMA_BETA = "gamma and beta were not applied: out = gamma * x_hat + beta."
RETURN_ORDER = ("batch_mean and batch_var are swapped: return (out, batch_mean, batch_var) "
                "in that order.")
RETURNS_STD = ("the standard deviation was returned in place of the variance: batch_var is "
               "the (biased) variance, the square of the standard deviation.")
BATCH_STATS_AT_INFERENCE = ("the batch's own mean and variance were used; at inference the "
                            "output must not depend on the other examples of the batch: "
                            "normalise with running_mean and running_var (with the batch's "
                            "statistics a batch of one always gives beta).")
MOMENTUM_REVERSED = ("the momentum is applied the wrong way round: in Keras' convention it "
                     "weighs the old value, new = momentum * running + (1 - momentum) * batch "
                     "(PyTorch's momentum=0.1 means the opposite).")
MOMENTUM_IGNORED = ("the momentum argument was ignored (a fixed 0.99 was used): use the "
                    "momentum that is passed in.")
MOMENTUM_OTHER_DEFAULT = ("the default momentum is not 0.99: called without momentum the "
                          "update must use Keras' default, momentum=0.99.")
NOT_UPDATED = ("the running statistics were returned unchanged: blend them with the batch's, "
               "new = momentum * running + (1 - momentum) * batch.")
REPLACED_BY_BATCH = ("the running statistics were replaced by the batch's: they are a moving "
                     "average, new = momentum * running + (1 - momentum) * batch.")
UPDATE_SWAPPED = ("new_mean and new_var are swapped (or the mean was updated with the "
                  "variance): return (new_mean, new_var) in that order.")
IN_PLACE = ("the running statistics were updated in place (`running_mean *= momentum`, "
            "`+=`, or assigning into running_mean[...]): compute new arrays, e.g. "
            "`new_mean = momentum * running_mean + (1 - momentum) * batch_mean`, and leave "
            "the inputs as they were: the caller (and Keras) keeps the old values until it "
            "stores the new ones.")
BW_NO_MEAN_VAR = ("dX ignores that the batch mean and variance depend on X "
                  "(dX = dout * gamma / sqrt(var + eps) treats them as constants); every x_i "
                  "also moves the mean and the variance: "
                  "dX = gamma / (N * sigma) * (N * dout - sum(dout) - x_hat * sum(dout * x_hat)).")
BW_NO_VAR = ("dX ignores that the batch variance depends on X: the term "
             "- x_hat * sum(dout * x_hat) is missing.")
BW_NO_MEAN = ("dX ignores that the batch mean depends on X: the term - sum(dout) is missing "
              "(only the variance's path was followed).")
BW_NO_GAMMA = "dX forgot gamma: the gradient that reaches x_hat is dout * gamma."
BW_N_BATCH = ("N was taken as X.shape[0] (the batch size); for feature maps each channel's "
              "statistics pool N = m * n_H * n_W values.")
BW_BATCH_AXIS_ONLY = ("for feature maps the sums were taken over the batch axis only (axis=0); "
                      "they run over every axis except the channels, axis=(0, 1, 2).")
DGAMMA_X = "dgamma used X instead of x_hat: dgamma = sum(dout * x_hat)."
DGAMMA_NO_XHAT = "dgamma forgot x_hat (it equals dbeta): dgamma = sum(dout * x_hat)."
PARAMS_AVERAGED = ("dgamma and dbeta were averaged over the batch instead of summed: the "
                   "loss adds up the contributions of every value, dbeta = sum(dout).")
BW_SWAPPED = "dgamma and dbeta are swapped: return (dX, dgamma, dbeta) in that order."

# ------------------------------------------------------------ fixed inputs
# (N, D) = (4, 3): columns with means 4, 2, 1 and variances 5, 8, 3.5
FD_X = np.array([[1.0, 2.0, -1.0], [3.0, 6.0, 0.0], [5.0, -2.0, 1.0], [7.0, 2.0, 4.0]])
FD_GAMMA = np.array([2.0, 0.5, 1.5])
FD_BETA = np.array([0.25, -1.0, 3.0])
FD_DOUT = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0], [-1.0, 1.0, 2.0], [2.5, 0.0, -1.0]])
# (m, n_H, n_W, n_C) = (2, 2, 3, 2): a batch of two 2x3 feature maps with two channels
FM_X = ((np.arange(24).reshape(2, 2, 3, 2) * 7) % 11 - 5).astype(float) \
    * np.array([1.0, 3.0]) + np.array([0.0, 2.0])
FM_GAMMA = np.array([0.5, 2.0])
FM_BETA = np.array([1.0, -0.5])
FM_DOUT = ((np.arange(24).reshape(2, 2, 3, 2) * 5) % 7 - 3) / 2.0
# eps matters: a large eps, a nearly constant column and a constant one
EPS_X = np.array([[0.1, 4.0, 2.0], [0.3, 4.0, -2.0], [0.2, 4.0, 0.0]])
EPS_GAMMA = np.array([1.0, 2.0, 0.5])
EPS_BETA = np.array([0.0, 1.0, -1.0])
EPS_LARGE = 0.25
# inference: running statistics far from the batch's own
INF_X = np.array([[1.0, 0.0, 3.0], [2.0, -1.0, 1.0], [4.0, 2.0, 2.0]])
INF_GAMMA = np.array([1.5, 1.0, 0.5])
INF_BETA = np.array([0.0, 0.5, -2.0])
INF_MEAN = np.array([0.5, -1.0, 2.0])
INF_VAR = np.array([4.0, 0.25, 1.0])
INF_FM_X = np.array([[[[1.0, -2.0], [0.5, 0.0]], [[3.0, 1.0], [-1.0, 2.0]]]])  # (1, 2, 2, 2)
INF_FM_GAMMA = np.array([2.0, 0.5])
INF_FM_BETA = np.array([-1.0, 1.0])
INF_FM_MEAN = np.array([1.0, 0.5])
INF_FM_VAR = np.array([0.5, 2.0])
# running statistics (as Keras starts them: mean 0, variance 1) and one batch's statistics
RUN_MEAN = np.array([0.0, 1.0, -2.0])
RUN_VAR = np.array([1.0, 4.0, 0.5])
BATCH_MEAN = np.array([2.0, -1.0, 0.0])
BATCH_VAR = np.array([0.5, 1.0, 3.0])

# ------------------------------------------------------------ expected outputs
# Written out (computed once with grader/references/batchnorm.py; the test suite
# checks them against that reference and against Keras). Each mistake's output too.
FD_OUT = np.array([[-2.43327888972, -1., 1.39643483933], [-0.644426296574, -0.292893660755,
    2.19821741967], [1.14442629657, -1.70710633925, 3.], [2.93327888972, -1., 5.405347741]])
FD_MEAN = np.array([4., 2., 1.])
FD_VAR = np.array([5., 8., 3.5])
FD_MISTAKES = {
    UNBIASED: (np.array([[-2.07378826488, -1., 1.61127133826], [-0.524596088295,
        -0.387627851354, 2.30563566913], [1.02459608829, -1.61237214865, 3.], [2.57378826488,
        -1., 5.0830929926]]), None, np.array([6.66666666667, 10.6666666667, 4.66666666667])),
    NO_EPS: (np.array([[-2.433281573, -1., 1.39643254853], [-0.644427191, -0.292893218813,
        2.19821627426], [1.144427191, -1.70710678119, 3.], [2.933281573, -1., 5.40535117721]]),
        None, None),
    EPS_OUTSIDE: (np.array([[-2.43326957305, -1., 1.39644111991], [-0.644423191018,
        -0.292895718805, 2.19822055995], [1.14442319102, -1.7071042812, 3.], [2.93326957305,
        -1., 5.40533832014]]), None, None),
    NO_SQRT: (np.array([[-0.949997600005, -1., 2.14285959183], [-0.149999200002, -0.7500003125,
        2.57142979591], [0.649999200002, -1.2499996875, 3.], [1.4499976, -1., 4.28571061226]]),
        None, None),
    GAMMA_BETA_SWAPPED: (np.array([[1.66459013878, 0.5, -1.70713032134], [1.88819671293,
        -0.91421267849, -0.103565160669], [2.11180328707, 1.91421267849, 1.5], [2.33540986122,
        0.5, 6.31069548201]]), None, None),
    NO_GAMMA_BETA: (np.array([[-1.34163944486, 0., -1.06904344045], [-0.447213148287,
        1.41421267849, -0.534521720223], [0.447213148287, -1.41421267849, 0.], [1.34163944486,
        0., 1.60356516067]]), None, None),
    ALL_AXES: (np.array([[-0.753928576776, -1.06274553605, 1.11763391855], [0.751964288388,
        -0.309799103467, 1.68234374298], [2.25785715355, -1.81569196863, 2.24705356742],
        [3.76375001872, -1.06274553605, 3.94118304073]]), np.array(2.33333333333),
        np.array(7.05555555556)),
    PER_EXAMPLE: (np.array([[0.784520765725, -0.465479234275, 0.995547128531], [0.25,
        -0.387628074614, 1.16288422384], [2.80744649716, -1.58123784026, 2.82562864792],
        [2.84553966443, -1.56777430159, 2.75666815646]]), np.array([0.666666666667, 3.,
        1.33333333333, 4.33333333333]), np.array([1.55555555556, 6., 8.22222222222,
        4.22222222222])),
}
FM_OUT = np.array([[[[0.311423567806, 0.691366724488], [0.762128141606, 2.64087591001],
    [1.21283271541, -2.55781525139]], [[1.66353728921, -0.608306065863], [0.461658425739,
    1.34120311966], [0.912362999539, -3.85748804174]]], [[[1.36306757334, -1.90797885621],
    [1.81377214714, 0.0415303293126], [0.611893283672, 1.99103951484]], [[1.06259785747,
    -3.20765164656], [1.51330243127, -1.25814246104], [0.311423567806, 0.691366724488]]]])
FM_MEAN = np.array([-0.416666666667, 2.5])
FM_VAR = np.array([11.0763888889, 85.25])
FM_MISTAKES = {
    UNBIASED: (np.array([[[[0.340738233256, 0.640646802878], [0.772255026034, 2.50715975304],
        [1.20377181881, -2.47020811406]], [[1.63528861159, -0.603695163898], [0.484577164182,
        1.26281778627], [0.91609395696, -3.71455008084]]], [[[1.34761074974, -1.84803713067],
        [1.77912754252, 0.0184758194902], [0.628416095108, 1.88498876965]], [[1.05993288789,
        -3.09237909745], [1.49144968066, -1.22586614729], [0.340738233256, 0.640646802878]]]]),
        None, np.array([12.0833333333, 93.])),
    NO_EPS: (np.array([[[[0.311423256975, 0.691366794363], [0.762128034228, 2.64087609423],
        [1.21283281148, -2.55781537208]], [[1.66353758873, -0.608306072215], [0.461658182726,
        1.34120322765], [0.912362959979, -3.85748823866]]], [[[1.36306773723, -1.90797893879],
        [1.81377251448, 0.0415303610739], [0.611893108477, 1.99103966094]], [[1.06259788573,
        -3.20765180537], [1.51330266298, -1.2581425055], [0.311423256975, 0.691366794363]]]]),
        None, None),
    EPS_OUTSIDE: (np.array([[[[0.311425325935, 0.691365504041], [0.762128748959, 2.64087269247],
        [1.21283217198, -2.55781314334]], [[1.66353559501, -0.608305954913], [0.461659800276,
        1.34120123352], [0.912363223301, -3.8574846023]]], [[[1.36306664633, -1.90797741387],
        [1.81377006935, 0.0415297745643], [0.611894274618, 1.991036963]], [[1.06259769764,
        -3.20764887282], [1.51330112067, -1.25814168439], [0.311425325935, 0.691365504041]]]]),
        None, None),
    NO_SQRT: (np.array([[[[0.793103635066, -0.370967757071], [0.928526710296, -0.159824086824],
        [1.06394978552, -0.72287387415]], [[1.19937286075, -0.511730203903], [0.838244660143,
        -0.300586533656], [0.973667735372, -0.863636320981]]], [[[1.1090908106,
        -0.652492650734], [1.24451388583, -0.441348980487], [0.883385685219, -0.23020531024]],
        [[1.01880876045, -0.793255097565], [1.15423183568, -0.582111427318], [0.793103635066,
        -0.370967757071]]]]), None, None),
    GAMMA_BETA_SWAPPED: (np.array([[[[-0.877152864388, 1.70215831888], [0.0242562832114,
        1.2147810225], [0.925665430811, 2.51445381285]], [[1.82707457841, 2.02707651647],
        [-0.576683148522, 1.53969922008], [0.324725999078, 2.83937201043]]], [[[1.22613514668,
        2.35199471405], [2.12754429428, 1.86461741767], [-0.276213432655, 1.37724012129]],
        [[0.625195714944, 2.67691291164], [1.52660486254, 2.18953561526], [-0.877152864388,
        1.70215831888]]]]), None, None),
    NO_GAMMA_BETA: (np.array([[[[-1.37715286439, 0.595683362244], [-0.475743716789,
        1.57043795501], [0.425665430811, -1.02890762569]], [[1.32707457841, -0.0541530329313],
        [-1.07668314852, 0.920601559831], [-0.175274000922, -1.67874402087]]],
        [[[0.726135146677, -0.703989428106], [1.62754429428, 0.270765164656], [-0.776213432655,
        1.24551975742]], [[0.125195714944, -1.35382582328], [1.02660486254, -0.379071230519],
        [-1.37715286439, 0.595683362244]]]]), None, None),
    ALL_AXES: (np.array([[[[0.574022947938, 1.46243221226], [0.785542587582, 4.00066788799],
        [0.997062227227, -2.76796058063]], [[1.20858186687, -0.229724904898], [0.644529494486,
        2.30851077084], [0.856049134131, -4.46011769779]]], [[[1.06756877378, -1.92188202206],
        [1.27908841342, 0.61635365368], [0.715036041034, 3.15458932942]], [[0.926555680679,
        -3.61403913921], [1.13807532032, -1.07580346348], [0.574022947938, 1.46243221226]]]]),
        np.array(1.04166666667), np.array(50.2899305556)),
    PER_EXAMPLE: (np.array([[[[0.625526622797, 1.29325279224], [0.815400447858, 3.57173869296],
        [1.00527427292, -2.50422370897]], [[1.19514809798, -0.225737808246], [0.688817897818,
        2.05274809248], [0.878691722878, -4.02321430946]]], [[[1.06746906367, -2.1732327791],
        [1.3103576929, 0.741430771594], [0.662654681632, 3.65609432229]], [[0.905543310857,
        -4.1163418129], [1.14843194008, -1.20167826221], [0.500728928816, 1.71298528849]]]]),
        np.array([0.916666666667, 1.16666666667]), np.array([62.4097222222, 38.1388888889])),
    BATCH_AXIS_ONLY: (np.array([[[[0.500000204082, 1.49999972222], [0.500000204082,
        1.49999972222], [1.499999375, -2.4999999093]], [[1.499999375, 1.49999972222],
        [0.500000204082, 1.49999972222], [1.499999375, -2.4999999093]]], [[[1.49999979592,
        -2.49999972222], [1.49999979592, -2.49999972222], [0.500000624999, 1.4999999093]],
        [[0.500000624999, -2.49999972222], [1.49999979592, -2.49999972222], [0.500000624999,
        1.4999999093]]]]), np.array([[[-1.5, 2.], [1.5, 11.], [-1., 3.5]], [[2., -4.], [-0.5,
        5.], [-3., -2.5]]]), np.array([[[12.25, 36.], [12.25, 36.], [4., 110.25]], [[4., 36.],
        [12.25, 36.], [4., 110.25]]])),
}
EPS_OUT = np.array([[-0.197385508488, 1., -0.414459956231], [0.197385508488, 1.,
    -1.58554004377], [-5.47854840627e-17, 1., -1.]])
EPS_MEAN = np.array([0.2, 4., 0.])
EPS_VAR = np.array([0.00666666666667, 0., 2.66666666667])
EPS_MISTAKES = {
    UNBIASED: (np.array([[-0.196116135138, 1., -0.514928749927], [0.196116135138, 1.,
        -1.48507125007], [-5.44331621827e-17, 1., -1.]]), None, np.array([0.01, 0., 4.])),
    NO_EPS: (np.array([[-1.22474487139, np.nan, -0.387627564304], [1.22474487139, np.nan,
        -1.6123724357], [-3.39934988878e-16, np.nan, -1.]]), None, None),
    EPS_OUTSIDE: (np.array([[-0.301523000431, 1., -0.468930625848], [0.301523000431, 1.,
        -1.53106937415], [-8.36894443831e-17, 1., -1.]]), None, None),
    NO_SQRT: (np.array([[-0.38961038961, 1., -0.657142857143], [0.38961038961, 1.,
        -1.34285714286], [-1.08138606295e-16, 1., -1.]]), None, None),
    GAMMA_BETA_SWAPPED: (np.array([[1., 2., -0.671080087538], [1., 2., 1.67108008754], [1., 2.,
        0.5]]), None, None),
    NO_GAMMA_BETA: (np.array([[-0.197385508488, 0., 1.17108008754], [0.197385508488, 0.,
        -1.17108008754], [-5.47854840627e-17, 0., 0.]]), None, None),
    ALL_AXES: (np.array([[-0.610943150991, 3.44377260396, -0.859013119002], [-0.516951896992,
        3.44377260396, -1.79892565899], [-0.563947523991, 3.44377260396, -1.32896938899]]),
        np.array(1.4), np.array(4.27777777778)),
    PER_EXAMPLE: (np.array([[-1.15837940246, 3.35670292225, -1.00998602933], [-0.18506153611,
        3.56442414324, -1.54857526776], [-0.62925909032, 3.72678939138, -1.36706780269]]),
        np.array([2.03333333333, 0.766666666667, 1.4]), np.array([2.53555555556, 6.10888888889,
        3.38666666667])),
    EPS_IGNORED: (np.array([[-1.22382734483, 1., -0.387628712499], [1.22382734483, 1.,
        -1.6123712875], [-3.39680324098e-16, 1., -1.]]), None, None),
}
INF_OUT = np.array([[0.374999531251, 2.4999600012, -1.50000249998], [1.12499859375, 0.5,
    -2.49999750002], [2.62499671876, 6.4998800036, -2.]])
INF_MISTAKES = {
    BATCH_STATS_AT_INFERENCE: np.array([[-1.60356229718, 0.232739617137, -1.38763215705],
        [-0.400890574294, -0.56904153145, -2.61236784295], [2.00445287147, 1.83630191431,
        -2.]]),
    NO_EPS: np.array([[0.375, 2.5, -1.5], [1.125, 0.5, -2.5], [2.625, 6.5, -2.]]),
    NO_SQRT: np.array([[0.187499531251, 4.4998400064, -1.50000499995], [0.562498593754, 0.5,
        -2.49999500005], [1.31249671876, 12.4995200192, -2.]]),
    GAMMA_BETA_SWAPPED: np.array([[1.5, 1.9999800006, -1.49999000007], [1.5, 1., 2.49999000007],
        [1.5, 3.9999400018, 0.5]]),
}
INF_ONE_OUT = np.array([[0.374999531251, 2.4999600012, -1.50000249998]])
INF_ONE_MISTAKES = {
    BATCH_STATS_AT_INFERENCE: np.array([[0., 0.5, -2.]]),
    NO_EPS: np.array([[0.375, 2.5, -1.5]]),
    NO_SQRT: np.array([[0.187499531251, 4.4998400064, -1.50000499995]]),
    GAMMA_BETA_SWAPPED: np.array([[1.5, 1.9999800006, -1.49999000007]]),
}
INF_FM_OUT = np.array([[[[-1., 0.166666666667], [-2.15470053838, 0.833333333333]],
    [[3.61880215352, 1.16666666667], [-5.61880215352, 1.5]]]])
INF_FM_MISTAKES = {
    BATCH_STATS_AT_INFERENCE: np.array([[[[-0.835042780232, 0.279423307877], [-1.49487165931,
        0.919935923097]], [[1.80427273606, 1.24019223071], [-3.47435829653, 1.56044853832]]]]),
    NO_EPS: np.array([[[[-1., 0.116116523517], [-2.41421356237, 0.823223304703]],
        [[4.65685424949, 1.1767766953], [-6.65685424949, 1.53033008589]]]]),
    EPS_OUTSIDE: np.array([[[[-1., 0.248894475888], [-2.04481549985, 0.849778895178]],
        [[3.17926199942, 1.15022110482], [-5.17926199942, 1.45066331447]]]]),
    NO_SQRT: np.array([[[[-1., 0.444444444444], [-2.33333333333, 0.888888888889]],
        [[4.33333333333, 1.11111111111], [-6.33333333333, 1.33333333333]]]]),
    GAMMA_BETA_SWAPPED: np.array([[[[2., -1.16666666667], [2.57735026919, 0.166666666667]],
        [[-0.309401076759, 0.833333333333], [4.30940107676, 1.5]]]]),
    EPS_IGNORED: np.array([[[[-1., 0.116118733217], [-2.41419942045, 0.823223746643]],
        [[4.6567976818, 1.17677625336], [-6.6567976818, 1.53032876007]]]]),
}
UPD_DEFAULT_MEAN = np.array([0.02, 0.98, -1.98])
UPD_DEFAULT_VAR = np.array([0.995, 3.97, 0.525])
UPD_DEFAULT_MISTAKES = {
    MOMENTUM_REVERSED: (np.array([1.98, -0.98, -0.02]), np.array([0.505, 1.03, 2.975])),
    NOT_UPDATED: (np.array([0., 1., -2.]), np.array([1., 4., 0.5])),
    REPLACED_BY_BATCH: (np.array([2., -1., 0.]), np.array([0.5, 1., 3.])),
    MOMENTUM_OTHER_DEFAULT + ' (here momentum=0.9)': (np.array([0.2, 0.8, -1.8]),
        np.array([0.95, 3.7, 0.75])),
    MOMENTUM_OTHER_DEFAULT + ' (here momentum=0.1)': (np.array([1.8, -0.8, -0.2]),
        np.array([0.55, 1.3, 2.75])),
}
UPD_09_MEAN = np.array([0.2, 0.8, -1.8])
UPD_09_VAR = np.array([0.95, 3.7, 0.75])
UPD_09_MISTAKES = {
    MOMENTUM_REVERSED: (np.array([1.8, -0.8, -0.2]), np.array([0.55, 1.3, 2.75])),
    NOT_UPDATED: (np.array([0., 1., -2.]), np.array([1., 4., 0.5])),
    REPLACED_BY_BATCH: (np.array([2., -1., 0.]), np.array([0.5, 1., 3.])),
    MOMENTUM_IGNORED: (np.array([0.02, 0.98, -1.98]), np.array([0.995, 3.97, 0.525])),
}
FD_BW_DX = np.array([[0.804982727771, -0.441941462028, -0.672923029351], [-0.402492146507,
    0.265165098187, 0.0143183642206], [-1.60996702078, 0.265164656247, 1.10245104796],
    [1.20747643952, -0.0883882924057, -0.443846382829]])
FD_BW_DGAMMA = np.array([1.565246019, 2.82842535698, -2.67260860111])
FD_BW_DBETA = np.array([2.5, 2., 2.5])
FD_BW_MISTAKES = {
    BW_NO_MEAN_VAR: (np.array([[0.894426296574, -0.353553169623, 0.400891290167], [0.,
        0.530329754434, 0.801782580334], [-0.894426296574, 0.176776584811, 1.60356516067],
        [2.23606574144, 0., -0.801782580334]]), None, None),
    BW_NO_VAR: (np.array([[0.335409861215, -0.441941462028, -0.100222822542], [-0.559016435359,
        0.441941462028, 0.300668467625], [-1.45344273193, 0.0883882924057, 1.10245104796],
        [1.67704930608, -0.0883882924057, -1.30289669304]]), None, None),
    BW_NO_MEAN: (np.array([[1.36399916313, -0.353553169623, -0.171808916642], [0.156524288852,
        0.353553390593, 0.51543247693], [-1.05095058543, 0.353552948652, 1.60356516067],
        [1.76649287488, 0., 0.0572677298801]]), None, None),
    BW_NO_GAMMA: (np.array([[0.402491363885, -0.883882924057, -0.448615352901],
        [-0.201246073253, 0.530330196375, 0.00954557614704], [-0.804983510392, 0.530329312493,
        0.734967365307], [0.60373821976, -0.176776584811, -0.295897588553]]), None, None),
    UNBIASED: (np.array([[0.595470285381, -0.382732592904, -0.458775635795], [-0.382456971094,
        0.267912922676, 0.0743965768574], [-1.36038422757, 0.191366188809, 0.954750954944],
        [1.14737091328, -0.0765465185808, -0.570371896006]]), np.array([1.35554315452,
        2.44948859459, -2.31454776956]), None),
    DGAMMA_X: (None, np.array([13.5, 12., -2.5]), None),
    DGAMMA_NO_XHAT: (None, np.array([2.5, 2., 2.5]), None),
    PARAMS_AVERAGED: (None, np.array([0.391311504751, 0.707106339245, -0.668152150279]),
        np.array([0.625, 0.5, 0.625])),
}
FM_BW_DX = np.array([[[[-0.277157369206, 0.284740135022], [-0.0219936154675, -0.0665399591761],
    [0.233170138271, 0.0398604537408]], [[-0.0374881107572, -0.311419640458], [0.10836693124,
    0.0954427263813], [-0.162291317788, 0.201843139298]]], [[[0.0928724359504, -0.1494369549],
    [-0.177785813078, 0.257425411939], [-0.0319307710803, -0.0938546822599]], [[0.223232982658,
    0.012545730657], [-0.04742526637, -0.338734363542], [0.0984297756272, 0.0681280032974]]]])
FM_BW_DGAMMA = np.array([-2.64162958533, -4.65716083209])
FM_BW_DBETA = np.array([0.5, -1.])
FM_BW_MISTAKES = {
    BW_NO_MEAN_VAR: (np.array([[[[-0.2253522869, 0.216612131725], [0., -0.216612131725],
        [0.2253522869, 0.108306065863]], [[-0.0751174289666, -0.324918197588], [0.150234857933,
        0.], [-0.150234857933, 0.324918197588]]], [[[0.0751174289666, -0.108306065863],
        [-0.2253522869, 0.216612131725], [0., -0.216612131725]], [[0.2253522869,
        0.108306065863], [-0.0751174289666, -0.324918197588], [0.150234857933, 0.]]]]), None,
        None),
    BW_NO_VAR: (np.array([[[[-0.231612072647, 0.234663142702], [-0.00625978574722,
        -0.198561120748], [0.219092501153, 0.12635707684]], [[-0.0813772147138, -0.30686718661],
        [0.143975072186, 0.0180510109771], [-0.15649464368, 0.342969208565]]],
        [[[0.0688576432194, -0.0902550548854], [-0.231612072647, 0.234663142702],
        [-0.00625978574722, -0.198561120748]], [[0.219092501153, 0.12635707684],
        [-0.0813772147138, -0.30686718661], [0.143975072186, 0.0180510109771]]]]), None, None),
    BW_NO_MEAN: (np.array([[[[-0.270897583459, 0.266689124045], [-0.0157338297203,
        -0.0845909701532], [0.239429924018, 0.0218094427637]], [[-0.03122832501,
        -0.329470651435], [0.114626716987, 0.0773917154042], [-0.156031532041,
        0.183792128321]]], [[[0.0991322216976, -0.167487965877], [-0.17152602733,
        0.239374400962], [-0.0256709853331, -0.111905693237]], [[0.229492768405,
        -0.00550528032013], [-0.0411654806228, -0.356785374519], [0.104689561374,
        0.0500769923204]]]]), None, None),
    BW_NO_GAMMA: (np.array([[[[-0.554314738412, 0.142370067511], [-0.043987230935,
        -0.033269979588], [0.466340276542, 0.0199302268704]], [[-0.0749762215144,
        -0.155709820229], [0.21673386248, 0.0477213631906], [-0.324582635576, 0.100921569649]]],
        [[[0.185744871901, -0.0747184774502], [-0.355571626155, 0.128712705969],
        [-0.0638615421607, -0.04692734113]], [[0.446465965316, 0.00627286532848],
        [-0.0948505327401, -0.169367181771], [0.196859551254, 0.0340640016487]]]]), None, None),
    UNBIASED: (np.array([[[[-0.261724132782, 0.268622503186], [-0.0198019525064,
        -0.0742405464683], [0.222120227769, 0.0450646627241]], [[-0.0393938501967,
        -0.29779838693], [0.106594455829, 0.0852047107024], [-0.154919622137, 0.204509919895]]],
        [[[0.0870025581385, -0.138353129759], [-0.174511519827, 0.244649967873],
        [-0.0285232138018, -0.098213081781]], [[0.213398966474, 0.0210921274114],
        [-0.0481151114922, -0.321770922243], [0.0978731945333, 0.0612321753896]]]]),
        np.array([-2.52916786878, -4.45889204762]), None),
    DGAMMA_X: (None, np.array([-9., -45.5]), None),
    DGAMMA_NO_XHAT: (None, np.array([0.5, -1.]), None),
    PARAMS_AVERAGED: (None, np.array([-0.220135798777, -0.388096736007]),
        np.array([0.0416666666667, -0.0833333333333])),
    BW_N_BATCH: (np.array([[[[-0.536182780736, 0.62538015151], [-0.131961692805,
        0.683820903569], [0.272259395126, -0.302367606868]], [[0.15065848029, -0.243926854809],
        [-0.100972702226, 0.572656358288], [-0.222573617061, -0.413532152149]]],
        [[[0.181647470869, -0.35509140009], [0.0600465560336, 0.461491813007], [-0.191584626482,
        0.519932565066]], [[0.212636461449, -0.466255945371], [0.0910355466129,
        -0.407815193312], [-0.160595635903, 0.408768019785]]]]), None, None),
    BW_BATCH_AXIS_ONLY: (np.array([[[[-1.16617932991e-07, 6.94444155652e-08],
        [8.74634497548e-08, -9.2592554087e-08], [4.68748242179e-07, 1.29575622023e-08]],
        [[-6.24997656257e-07, -9.2592554087e-08], [8.74634497548e-08, 6.94444155652e-08],
        [-6.24997656257e-07, 1.29575622023e-08]]], [[[1.16617932991e-07, -6.94444155652e-08],
        [-8.74634497548e-08, 9.2592554087e-08], [-4.68748242179e-07, -1.29575622023e-08]],
        [[6.24997656257e-07, 9.2592554087e-08], [-8.74634497548e-08, -6.94444155652e-08],
        [6.24997656257e-07, -1.29575622023e-08]]]]), np.array([[[1.99999918367, 1.49999979167],
        [-1.49999938776, -1.99999972222], [1.499998125, -1.49999993197]], [[-1.9999975,
        -1.99999972222], [-1.49999938776, 1.49999979167], [-1.9999975, -1.49999993197]]]),
        np.array([[[-1., 0.5], [-1.5, 0.], [1.5, -0.5]], [[1., -1.], [0.5, -1.5], [0., 1.5]]])),
}


# ------------------------------------------------------------ shared helpers
def unpack(result: Any, name: str, names: Sequence[str]) -> tuple:
    """Split a tuple result such as ``(out, batch_mean, batch_var)``; fail clearly otherwise."""
    what = "(" + ", ".join(names) + ")"
    if result is None:
        core.fail(f"`{name}` returned None.",
                  hint=f"end the function with `return {what[1:-1]}`.")
    if not isinstance(result, (tuple, list)) or len(result) != len(names):
        kind = type(result).__name__
        extra = f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
        core.fail(f"`{name}` returned a {kind}{extra}; expected {len(names)} values {what}.",
                  hint=f"return all of them, in this order: `return {what[1:-1]}`.")
    return tuple(result)


def stat_shape_mistakes(X_shape: Sequence[int]) -> dict:
    """``{description: shape}`` of statistics taken over the wrong axes, or kept 4-D."""
    X_shape = tuple(X_shape)
    n = X_shape[-1]
    out = {BATCH_AXIS_ONLY: X_shape[1:],
           PER_EXAMPLE: X_shape[:-1] if len(X_shape) == 2 else (X_shape[0],),
           ALL_AXES: (),
           KEEPDIMS: (1,) * (len(X_shape) - 1) + (n,)}
    return {k: v for k, v in out.items() if tuple(v) != (n,)}


def check_stats(value: Any, expected, what: str, name: str, X_shape, inputs, mistakes,
                case: str, shape_mistakes: Mapping | None = None, **tol) -> None:
    """One statistic (``batch_mean``, ``dgamma`` ...): shape ``(D,)`` then values."""
    arr = core.as_array(value, f"{name} ({what})")
    core.check_shape(arr, np.shape(expected), f"{name} ({what})", inputs,
                     stat_shape_mistakes(X_shape) if shape_mistakes is None else shape_mistakes)
    core.check_array(arr, expected, f"{name} ({what})", inputs=inputs, mistakes=mistakes,
                     case=case, require_float=True, **tol)


def _backward_shape_mistakes(X_shape: Sequence[int]) -> dict:
    """The statistics' shape mistakes, worded for the sums of the backward pass."""
    wording = {BATCH_AXIS_ONLY: BW_BATCH_AXIS_ONLY,
               PER_EXAMPLE: "the sums were taken per example; dgamma and dbeta sum over "
                            "every axis except the last one.",
               ALL_AXES: "the sums were taken over every axis; keep one value per feature "
                         "or channel.",
               KEEPDIMS: "dgamma and dbeta still have the axes kept by `keepdims=True`; "
                         "return them with shape (D,) or (n_C,)."}
    return {wording[k]: v for k, v in stat_shape_mistakes(X_shape).items()}


def mistake_parts(mistakes: Mapping[str, Sequence], i: int, like) -> dict:
    """Component ``i`` of each mistake's tuple of outputs, where it differs from ``like``."""
    out = {}
    for description, outputs in (mistakes or {}).items():
        if outputs[i] is None:  # this mistake gives the right value for this output
            continue
        part = np.asarray(outputs[i], dtype=np.float64)
        if part.shape != np.shape(like) or not np.allclose(part, like, equal_nan=True):
            out[description] = part
    return out


def _spread(X) -> tuple[float, float]:
    """``max|X|`` and the smallest standard deviation of a feature (for tolerances only)."""
    flat = np.asarray(X, dtype=np.float64).reshape(-1, np.shape(X)[-1])
    return float(np.abs(flat).max()), float(flat.std(axis=0).min())


def forward_tolerance(X, gamma, beta, eps) -> dict:
    """``check_array`` tolerances for ``out = gamma * x_hat + beta`` that are fair to float32.

    Each value needs the feature's mean of ``N`` values; its rounding is amplified by
    ``max|X| / sigma``. The bound is :func:`core.rounding_atol` with ``terms = N`` and
    ``scale = max|gamma| * max|X| / sigma_min + max|beta|``.
    """
    x_max, std_min = _spread(X)
    scale = (float(np.abs(gamma).max()) * x_max / np.sqrt(std_min ** 2 + eps)
             + float(np.abs(beta).max()))
    return {"rtol": 1e-5, "atol": 1e-7, "terms": int(np.size(X) // np.shape(X)[-1]),
            "scale": max(float(scale), 1.0)}


def check_forward_result(result, X, gamma, beta, eps, expected, mistakes, case: str,
                         name: str = "batchnorm_forward") -> None:
    """``(out, batch_mean, batch_var)`` against ``expected``, naming mistakes.

    ``mistakes`` maps a description to the ``(out, batch_mean, batch_var)`` that
    mistake gives (a component may have another shape).
    """
    out, mean, var = unpack(result, name, ("out", "batch_mean", "batch_var"))
    inputs = {"X": X, "gamma": gamma, "beta": beta, "eps": eps}
    exp_out, exp_mean, exp_var = (np.asarray(e, dtype=np.float64) for e in expected)
    arr = core.as_array(out, f"{name} (out)")
    core.check_shape(arr, exp_out.shape, f"{name} (out)", inputs,
                     {"out has the shape of the statistics: return the normalised batch, "
                      "of the shape of X, first": exp_mean.shape})
    tol = forward_tolerance(X, gamma, beta, eps)
    core.check_array(arr, exp_out, f"{name} (out)", inputs=inputs,
                     mistakes=core.group_alternatives(mistake_parts(mistakes, 0, exp_out)),
                     case=case, require_float=True, **tol)
    X64 = np.asarray(X, dtype=np.float64)
    terms = X64.size // X64.shape[-1]
    mean_mistakes = {RETURN_ORDER: exp_var, **mistake_parts(mistakes, 1, exp_mean)}
    check_stats(mean, exp_mean, "batch_mean", name, X64.shape, inputs, mean_mistakes, case,
                terms=terms, scale=max(1.0, float(np.abs(X64).max())))
    var_mistakes = {RETURN_ORDER: exp_mean, RETURNS_STD: np.sqrt(exp_var),
                    **mistake_parts(mistakes, 2, exp_var)}
    check_stats(var, exp_var, "batch_var", name, X64.shape, inputs, var_mistakes, case,
                terms=terms, scale=max(1.0, float(np.abs(X64).max()) ** 2))


def check_inference_result(out, X, gamma, beta, mean, var, eps, expected, mistakes,
                           case: str) -> None:
    """``batchnorm_inference``'s output against ``expected``, naming mistakes."""
    inputs = {"X": X, "gamma": gamma, "beta": beta, "running_mean": mean,
              "running_var": var, "eps": eps}
    X64 = np.asarray(X, dtype=np.float64)
    if isinstance(out, (tuple, list)):
        core.fail(f"`batchnorm_inference` returned a {type(out).__name__}; expected the "
                  "array out.",
                  hint="at inference nothing is measured on the batch: return only `out`.")
    arr = core.as_array(out, "batchnorm_inference")
    scale = (float(np.abs(gamma).max()) * (float(np.abs(X64).max()) + float(np.abs(mean).max()))
             / float(np.sqrt(np.min(var) + eps)) + float(np.abs(beta).max()))
    core.check_array(arr, expected, "batchnorm_inference", inputs=inputs,
                     mistakes=core.group_alternatives(dict(mistakes)), case=case,
                     require_float=True, terms=2, scale=max(scale, 1.0))


def call_update(update_running_stats, *args, **kwargs):
    """Call ``update_running_stats`` on copies; an in-place update is named as such."""
    try:
        return core.call(update_running_stats, *args, name="update_running_stats", **kwargs)
    except core.CheckFailure as err:
        if "in place" not in str(err) or err.__cause__ is not None:
            raise
        which = str(err).split("argument #")[1].split(" ")[0] if "argument #" in str(err) else "?"
        names = {"1": "running_mean", "2": "running_var", "3": "batch_mean", "4": "batch_var"}
        core.fail(f"`update_running_stats` changed its input {names.get(which, '#' + which)} "
                  "in place.", hint=IN_PLACE)


def check_update_result(result, rm, rv, bm, bv, momentum, expected, mistakes, case: str):
    """``(new_mean, new_var)`` against ``expected``, naming mistakes."""
    new_mean, new_var = unpack(result, "update_running_stats", ("new_mean", "new_var"))
    inputs = {"running_mean": rm, "running_var": rv, "batch_mean": bm, "batch_var": bv,
              "momentum": momentum}
    exp_mean, exp_var = (np.asarray(e, dtype=np.float64) for e in expected)
    for value, exp, what, i, other in ((new_mean, exp_mean, "new_mean", 0, exp_var),
                                       (new_var, exp_var, "new_var", 1, exp_mean)):
        arr = core.as_array(value, f"update_running_stats ({what})")
        named = {UPDATE_SWAPPED: other, **mistake_parts(mistakes, i, exp)}
        scale = max(1.0, float(np.abs(exp).max()), float(np.abs(other).max()))
        core.check_array(arr, exp, f"update_running_stats ({what})", inputs=inputs,
                         mistakes=core.group_alternatives(named), case=case,
                         require_float=True, terms=2, scale=scale)


def backward_tolerance(dout, X, gamma, eps) -> dict:
    """Tolerances for ``dX`` that are fair to float32.

    ``dX = gamma / (N * sigma) * (N * dout - sum(dout) - x_hat * sum(dout * x_hat))``:
    sums of ``N`` terms, of size up to ``max|dout| * max|x_hat|`` and rounded after
    ``x_hat`` itself carries the rounding of the mean (``max|X| / sigma``).
    """
    x_max, std_min = _spread(X)
    sigma_min = float(np.sqrt(std_min ** 2 + eps))
    scale = (float(np.abs(gamma).max()) / sigma_min * float(np.abs(dout).max())
             * (1.0 + x_max / sigma_min) ** 2)
    return {"rtol": 1e-5, "atol": 1e-7, "terms": int(np.size(X) // np.shape(X)[-1]),
            "scale": max(scale, 1.0)}


def check_backward_result(result, dout, X, gamma, eps, expected, mistakes, case: str):
    """``(dX, dgamma, dbeta)`` against ``expected``, naming mistakes.

    ``mistakes`` maps a description to the ``(dX, dgamma, dbeta)`` that mistake gives.
    """
    dX, dgamma, dbeta = unpack(result, "batchnorm_backward", ("dX", "dgamma", "dbeta"))
    inputs = {"dout": dout, "X": X, "gamma": gamma, "eps": eps}
    exp = [np.asarray(e, dtype=np.float64) for e in expected]
    X64 = np.asarray(X, dtype=np.float64)
    terms = X64.size // X64.shape[-1]
    arr = core.as_array(dX, "batchnorm_backward (dX)")
    core.check_shape(arr, exp[0].shape, "batchnorm_backward (dX)", inputs)
    core.check_array(arr, exp[0], "batchnorm_backward (dX)", inputs=inputs,
                     mistakes=core.group_alternatives(mistake_parts(mistakes, 0, exp[0])),
                     case=case, require_float=True, **backward_tolerance(dout, X, gamma, eps))
    x_max, std_min = _spread(X)
    scale = float(np.abs(dout).max()) * max(1.0, x_max / float(np.sqrt(std_min ** 2 + eps)))
    dbeta_right = (np.shape(dbeta) == exp[2].shape
                   and np.allclose(np.asarray(dbeta, dtype=np.float64), exp[2]))
    for i, what, other in ((1, "dgamma", exp[2]), (2, "dbeta", exp[1])):
        value = (dgamma, dbeta)[i - 1]
        # dgamma equal to dbeta: swapped outputs, or x_hat forgotten (then dbeta is right)
        named = {} if (i == 1 and dbeta_right) else {BW_SWAPPED: other}
        named.update(mistake_parts(mistakes, i, exp[i]))
        check_stats(value, exp[i], what, "batchnorm_backward", X64.shape, inputs, named,
                    case, shape_mistakes=_backward_shape_mistakes(X64.shape),
                    terms=terms, scale=max(scale, 1.0))


# ------------------------------------------------------------ the visible checks
FORWARD_CASES = (  # (X, gamma, beta, eps or None for the default, expected, mistakes, case)
    (FD_X, FD_GAMMA, FD_BETA, None, (FD_OUT, FD_MEAN, FD_VAR), FD_MISTAKES,
     "the (4, 3) batch of feature vectors"),
    (FM_X, FM_GAMMA, FM_BETA, None, (FM_OUT, FM_MEAN, FM_VAR), FM_MISTAKES,
     "the (2, 2, 3, 2) batch of feature maps"),
)
SHAPE_CASES = ((4, 3), (5, 1), (2, 2, 3, 2), (3, 4, 2, 5), (1, 3, 3, 4))


def _filled(shape) -> np.ndarray:
    """A fixed array of the given shape whose features differ in offset and spread."""
    n = int(np.prod(shape))
    base = (np.arange(n).reshape(shape) * 7 % 11 - 5).astype(float)
    return base * (1.0 + np.arange(shape[-1])) + np.arange(shape[-1])


def _forward(batchnorm_forward, X, gamma, beta, eps, expected, mistakes, case):
    kwargs = {} if eps is None else {"eps": eps}
    result = core.call(batchnorm_forward, X, gamma, beta,
                       name="batchnorm_forward", **kwargs)
    check_forward_result(result, X, gamma, beta, 1e-5 if eps is None else eps, expected,
                         mistakes, case)


def batchnorm_forward_shapes(batchnorm_forward) -> None:
    """Shapes of ``(out, batch_mean, batch_var)`` on (N, D) and (m, n_H, n_W, n_C) batches."""
    for shape in SHAPE_CASES:
        X = _filled(shape)
        gamma, beta = np.ones(shape[-1]), np.zeros(shape[-1])
        result = core.call(batchnorm_forward, X, gamma, beta, name="batchnorm_forward")
        out, mean, var = unpack(result, "batchnorm_forward", ("out", "batch_mean", "batch_var"))
        inputs = {"X": X, "gamma": gamma, "beta": beta}
        core.check_shape(core.as_array(out, "batchnorm_forward (out)"), shape,
                         "batchnorm_forward (out)", inputs)
        for value, what in ((mean, "batch_mean"), (var, "batch_var")):
            core.check_shape(core.as_array(value, f"batchnorm_forward ({what})"), (shape[-1],),
                             f"batchnorm_forward ({what})", inputs, stat_shape_mistakes(shape))
    core.passed(f"batchnorm_forward: right shapes on {len(SHAPE_CASES)} batches, e.g. "
                "(2, 2, 3, 2) -> out (2, 2, 3, 2), batch_mean and batch_var (2,)")


def batchnorm_forward_worked_example(batchnorm_forward) -> None:
    """Values of ``(out, batch_mean, batch_var)`` on the (4, 3) batch of the notebook."""
    _forward(batchnorm_forward, *FORWARD_CASES[0])
    core.passed("batchnorm_forward: right out, batch_mean and batch_var on the (4, 3) batch")


def batchnorm_forward_feature_maps(batchnorm_forward) -> None:
    """Values on a (2, 2, 3, 2) batch of feature maps: statistics per channel."""
    _forward(batchnorm_forward, *FORWARD_CASES[1])
    core.passed("batchnorm_forward: per-channel statistics over (m, n_H, n_W) on the "
                "(2, 2, 3, 2) feature maps")


def batchnorm_forward_eps(batchnorm_forward) -> None:
    """eps = 0.25 on a batch with a nearly constant and a constant feature."""
    _forward(batchnorm_forward, EPS_X, EPS_GAMMA, EPS_BETA, EPS_LARGE,
             (EPS_OUT, EPS_MEAN, EPS_VAR), EPS_MISTAKES,
             f"the (3, 3) batch with eps = {EPS_LARGE} (its second feature is constant)")
    core.passed(f"batchnorm_forward: eps = {EPS_LARGE} used inside the square root; a "
                "constant feature gives beta")


def batchnorm_inference_values(batchnorm_inference) -> None:
    """Running statistics, not the batch's: a (3, 3) batch, a batch of one, feature maps."""
    cases = ((INF_X, INF_GAMMA, INF_BETA, INF_MEAN, INF_VAR, None, INF_OUT, INF_MISTAKES,
              "the (3, 3) batch"),
             (INF_X[:1], INF_GAMMA, INF_BETA, INF_MEAN, INF_VAR, None, INF_ONE_OUT,
              INF_ONE_MISTAKES, "a batch of one example"),
             (INF_FM_X, INF_FM_GAMMA, INF_FM_BETA, INF_FM_MEAN, INF_FM_VAR, EPS_LARGE,
              INF_FM_OUT, INF_FM_MISTAKES, f"a (1, 2, 2, 2) feature map with eps = {EPS_LARGE}"))
    for X, gamma, beta, mean, var, eps, expected, mistakes, case in cases:
        kwargs = {} if eps is None else {"eps": eps}
        out = core.call(batchnorm_inference, X, gamma, beta, mean,
                        var, name="batchnorm_inference", **kwargs)
        check_inference_result(out, X, gamma, beta, mean, var, 1e-5 if eps is None else eps,
                               expected, mistakes, case)
    core.passed("batchnorm_inference: normalises with the running statistics (a batch of one "
                "too), eps inside the square root")


def update_running_stats_values(update_running_stats) -> None:
    """Keras' convention with the default momentum (0.99) and momentum = 0.9; inputs untouched."""
    stats = (RUN_MEAN, RUN_VAR, BATCH_MEAN, BATCH_VAR)
    for kwargs, expected, mistakes, case in (
            ({}, (UPD_DEFAULT_MEAN, UPD_DEFAULT_VAR), UPD_DEFAULT_MISTAKES,
             "a call with the default momentum (0.99)"),
            ({"momentum": 0.9}, (UPD_09_MEAN, UPD_09_VAR), UPD_09_MISTAKES,
             "a call with momentum = 0.9")):
        result = call_update(update_running_stats, *stats, **kwargs)
        check_update_result(result, *stats, kwargs.get("momentum", 0.99), expected, mistakes,
                            case)
    core.passed("update_running_stats: new = momentum * running + (1 - momentum) * batch, "
                "inputs left unchanged")


def _backward(batchnorm_backward, dout, X, gamma, expected, mistakes, case):
    result = core.call(batchnorm_backward, dout, X, gamma, name="batchnorm_backward")
    check_backward_result(result, dout, X, gamma, 1e-5, expected, mistakes, case)


def batchnorm_backward_worked_example(batchnorm_backward) -> None:
    """``(dX, dgamma, dbeta)`` on the (4, 3) batch of the notebook."""
    _backward(batchnorm_backward, FD_DOUT, FD_X, FD_GAMMA, (FD_BW_DX, FD_BW_DGAMMA, FD_BW_DBETA),
              FD_BW_MISTAKES, "the (4, 3) batch")
    core.passed("batchnorm_backward: right dX, dgamma and dbeta on the (4, 3) batch")


def batchnorm_backward_feature_maps(batchnorm_backward) -> None:
    """``(dX, dgamma, dbeta)`` on the (2, 2, 3, 2) feature maps: sums over (m, n_H, n_W)."""
    _backward(batchnorm_backward, FM_DOUT, FM_X, FM_GAMMA, (FM_BW_DX, FM_BW_DGAMMA, FM_BW_DBETA),
              FM_BW_MISTAKES, "the (2, 2, 3, 2) feature maps")
    core.passed("batchnorm_backward: right gradients on the (2, 2, 3, 2) feature maps")
