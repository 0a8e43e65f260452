# Typical mistakes in 09_batchnorm: the answer cells of a student who
# (1) takes the statistics in batchnorm_forward over the batch axis only (axis=0): right
#     for a batch of feature vectors (N, D), wrong for feature maps, where batch norm pools
#     every example and every position of a channel;
# (2) applies the momentum the wrong way round in update_running_stats (PyTorch's habit:
#     the momentum weighs the new batch instead of the old value), and
# (3) treats the batch mean and variance as constants in batchnorm_backward, keeping only
#     the direct path dout * gamma / sqrt(var + eps).
# batchnorm_inference is right and so are the (N, D) forward values, so the score is partial.

# %% grade_id: batchnorm_forward
def batchnorm_forward(X, gamma, beta, eps=1e-5):
    """Batch normalisation in training mode."""
    batch_mean = np.mean(X, axis=0)
    batch_var = np.var(X, axis=0)
    x_hat = (X - batch_mean) / np.sqrt(batch_var + eps)
    out = gamma * x_hat + beta
    return out, batch_mean, batch_var

# %% grade_id: update_running_stats
def update_running_stats(running_mean, running_var, batch_mean, batch_var, momentum=0.99):
    """One step of the running statistics."""
    new_mean = (1 - momentum) * running_mean + momentum * batch_mean
    new_var = (1 - momentum) * running_var + momentum * batch_var
    return new_mean, new_var

# %% grade_id: batchnorm_backward
def batchnorm_backward(dout, X, gamma, eps=1e-5):
    """Gradients of training-mode batch normalisation."""
    axes = tuple(range(X.ndim - 1))
    mean = X.mean(axis=axes)
    std = np.sqrt(X.var(axis=axes) + eps)
    x_hat = (X - mean) / std
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    dX = dout * gamma / std
    return dX, dgamma, dbeta
