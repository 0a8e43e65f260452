# Typical mistakes in 08_backprop: the answer cells of a student who
# (1) forgets the stride when locating the window in conv_backward (the window of output
#     (h, w) starts at row h, column w), which only shows when stride > 1, and
# (2) assigns (`=`) instead of adding (`+=`) in pool_backward, so where windows overlap
#     (stride < f) the last window wins; right when the windows tile the input.
# The shapes, the tiny one-channel case, relu_backward, numerical_gradient and
# relative_error are right, so the score is partial.

# %% grade_id: conv_backward
def conv_backward(dZ, cache):
    """Backward pass of a convolutional layer."""
    A_prev, W, b, hparameters = cache
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f, n_C_prev, n_C = W.shape
    pad = hparameters["pad"]
    m, n_H, n_W, n_C = dZ.shape
    A_prev_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    dA_prev_pad = np.zeros(A_prev_pad.shape)
    dW = np.zeros(W.shape)
    db = np.zeros((1, 1, 1, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                a_slice = A_prev_pad[i, h:h + f, w:w + f, :]
                for c in range(n_C):
                    dA_prev_pad[i, h:h + f, w:w + f, :] += W[:, :, :, c] * dZ[i, h, w, c]
                    dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
                    db[:, :, :, c] += dZ[i, h, w, c]
    dA_prev = dA_prev_pad[:, pad:pad + n_H_prev, pad:pad + n_W_prev, :]
    return dA_prev, dW, db

# %% grade_id: pool_backward
def pool_backward(dA, cache, mode="max"):
    """Backward pass of a pooling layer."""
    A_prev, hparameters = cache
    f = hparameters["f"]
    stride = hparameters["stride"]
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(A_prev.shape)
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    top, left = h * stride, w * stride
                    if mode == "max":
                        window = A_prev[i, top:top + f, left:left + f, c]
                        mask = window == np.max(window)
                        dA_prev[i, top:top + f, left:left + f, c] = mask * dA[i, h, w, c]
                    else:
                        dA_prev[i, top:top + f, left:left + f, c] = dA[i, h, w, c] / (f * f)
    return dA_prev
