# Typical mistakes in 11_fast_convolution: the answer cells of a student who
# (1) builds im2col with sliding_window_view and reshapes the view as it comes, so the
#     columns are in channel-first order (channel, window row, window column) instead of
#     (window row, window column, channel): the shapes are right, the values are not, and
# (2) writes conv_forward_fast without im2col, with a Python loop over the output rows
#     and columns (a tensordot per position): right values, but the loop over positions
#     is found in the code.
# The shapes of both functions and the values of conv_forward_fast are right, so the
# score is partial.

# %% grade_id: im2col
def im2col(A_prev, f, stride=1, pad=0):
    """Every window of the batch as one row."""
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    windows = sliding_window_view(A_pad, (f, f), axis=(1, 2))[:, ::stride, ::stride]
    m, n_H, n_W = windows.shape[:3]
    return windows.reshape(m * n_H * n_W, -1)

# %% grade_id: conv_forward_fast
def conv_forward_fast(A_prev, W, b, hparameters):
    """Forward pass of a convolutional layer."""
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, _, _, n_C = W.shape
    stride, pad = hparameters["stride"], hparameters["pad"]
    n_H = (n_H_prev + 2 * pad - f) // stride + 1
    n_W = (n_W_prev + 2 * pad - f) // stride + 1
    A_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    Z = np.zeros((m, n_H, n_W, n_C))
    for h in range(n_H):
        for w in range(n_W):
            window = A_pad[:, h * stride:h * stride + f, w * stride:w * stride + f, :]
            Z[:, h, w, :] = np.tensordot(window, W, axes=3) + b.reshape(1, n_C)
    return Z, (A_prev, W, b, hparameters)
