# Typical mistakes in 03_strides: the answer cells of a student who
# (1) rounds (n + 2*pad - f) / stride to the nearest integer instead of flooring it in
#     conv_output_size (right whenever the stride divides evenly), and
# (2) uses only the first number of a (vertical, horizontal) stride pair in conv2d, on both
#     axes (int strides still work).
# So conv_output_size_worked_examples, conv2d_stride_worked_example and conv2d_zero_padding
# pass; conv_output_size_floor and conv2d_stride_pad_pairs fail: a partial score.

# %% grade_id: conv_output_size
def conv_output_size(n, f, pad=0, stride=1):
    """Number of positions of an f-wide window along one axis."""
    return round((n + 2 * pad - f) / stride) + 1

# %% grade_id: conv2d
def conv2d(image, kernel, stride=1, pad=0):
    """2-D cross-correlation with zero padding and a stride."""
    if isinstance(stride, tuple):
        stride = stride[0]
    p_v, p_h = pad if isinstance(pad, tuple) else (pad, pad)
    padded = np.pad(image, ((p_v, p_v), (p_h, p_h)))
    f_h, f_w = kernel.shape
    n_H = (padded.shape[0] - f_h) // stride + 1
    n_W = (padded.shape[1] - f_w) // stride + 1
    Z = np.zeros((n_H, n_W))
    for i in range(n_H):
        for j in range(n_W):
            window = padded[i * stride:i * stride + f_h, j * stride:j * stride + f_w]
            Z[i, j] = np.sum(window * kernel)
    return Z
