# Typical mistakes in 10_deeper_networks: the answer cells of a student who
# (1) puts the block's ReLU at the end of the main path, before the Add, and returns the
#     sum without a ReLU (so the block can only ever add to its input), and
# (2) counts only the trainable batch-norm parameters (gamma and beta, 2 per channel),
#     forgetting the moving mean and variance that count_params() counts too.
# receptive_field and dense_block are right, so the score is partial.

# %% grade_id: residual_block
def residual_block(x, filters, stride=1):
    """A residual block: relu(main_path(x) + shortcut(x))."""
    y = layers.Conv2D(filters, (3, 3), strides=stride, padding="same")(x)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    y = layers.Conv2D(filters, (3, 3), padding="same")(y)
    y = layers.BatchNormalization()(y)
    y = layers.ReLU()(y)
    shortcut = x
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, (1, 1), strides=stride)(x)
    return layers.Add()([y, shortcut])

# %% grade_id: residual_block_params
def residual_block_params(n_C_prev, filters, stride=1):
    """Number of parameters of residual_block(x, filters, stride)."""
    total = (9 * n_C_prev + 1) * filters + (9 * filters + 1) * filters
    total += 2 * (2 * filters)  # gamma and beta of each BatchNormalization
    if stride != 1 or n_C_prev != filters:
        total += (n_C_prev + 1) * filters
    return total
