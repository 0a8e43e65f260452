# Typical mistakes in 05_pooling: the answer cells of a student who
# (1) takes np.max / np.mean of the whole window including the channel axis in
#     pool_forward, so the channels are mixed (right on one-channel inputs such as
#     the worked examples, wrong as soon as there are several channels), and
# (2) averages over the wrong axes in global_average_pool (batch and height).
# The shapes and the one-channel worked examples are right, so the score is partial.

# %% grade_id: pool_forward
def pool_forward(A_prev, hparameters, mode="max"):
    """Forward pass of a pooling layer."""
    m, n_H_prev, n_W_prev, n_C = A_prev.shape
    f = hparameters["f"]
    stride = hparameters["stride"]
    n_H = (n_H_prev - f) // stride + 1
    n_W = (n_W_prev - f) // stride + 1
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h in range(n_H):
            for w in range(n_W):
                for c in range(n_C):
                    window = A_prev[i, h * stride:h * stride + f, w * stride:w * stride + f]
                    if mode == "max":
                        A[i, h, w, c] = np.max(window)
                    else:
                        A[i, h, w, c] = np.mean(window)
    cache = (A_prev, hparameters)
    return A, cache

# %% grade_id: global_average_pool
def global_average_pool(A):
    """Average of each channel."""
    return np.mean(A, axis=(0, 1))
