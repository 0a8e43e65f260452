# Typical mistakes in 01_edge_detection: the answer cells of a student who
# (1) reverses only the rows of the kernel in convolve2d_valid (a half flip),
# (2) writes VERTICAL_EDGE with the signs the other way round ([-1, 0, 1] rows), and
# (3) measures edge strength as |gx| + |gy| instead of sqrt(gx**2 + gy**2).
# conv2d_valid, HORIZONTAL_EDGE, SOBEL_X and SCHARR_X are right, so the score is partial.

# %% grade_id: convolve2d_valid
def convolve2d_valid(image, kernel):
    """Valid 2-D convolution: flip the kernel, then slide it."""
    flipped = np.asarray(kernel)[::-1]
    return conv2d_valid(image, flipped)

# %% grade_id: edge_kernels
VERTICAL_EDGE = np.array([[-1, 0, 1],
                          [-1, 0, 1],
                          [-1, 0, 1]])
HORIZONTAL_EDGE = np.array([[1, 1, 1],
                            [0, 0, 0],
                            [-1, -1, -1]])

# %% grade_id: edge_magnitude
def edge_magnitude(image):
    """Edge strength from the two Sobel responses."""
    gx = conv2d_valid(image, SOBEL_X)
    gy = conv2d_valid(image, SOBEL_X.T)
    return np.abs(gx) + np.abs(gy)
