# Typical mistakes in 04_conv_layer: the answer cells of a student who
# (1) forgets the stride when cutting the slice in conv_forward (the window of output
#     (h, w) starts at row h, column w), which only shows when stride > 1, and
# (2) writes relu by assigning into Z, so the caller's array is changed in place.
# conv_single_step and conv_layer_params are right and the output shapes are right,
# so the score is partial.

# %% grade_id: conv_forward
def conv_forward(A_prev, W, b, hparameters):
    """Forward pass of a convolutional layer."""
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    f, f, n_C_prev, n_C = W.shape
    stride = hparameters["stride"]
    pad = hparameters["pad"]
    n_H = int((n_H_prev + 2 * pad - f) / stride) + 1
    n_W = int((n_W_prev + 2 * pad - f) / stride) + 1
    Z = np.zeros((m, n_H, n_W, n_C))
    A_prev_pad = np.pad(A_prev, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    a_slice_prev = a_prev_pad[h:h + f, w:w + f, :]
                    Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c],
                                                     b[:, :, :, c])
    cache = (A_prev, W, b, hparameters)
    return Z, cache

# %% grade_id: relu
def relu(Z):
    """Rectified linear unit."""
    Z[Z < 0] = 0
    return Z
