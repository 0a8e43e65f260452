# Typical mistakes in 02_padding: the answer cells of a student who
# (1) counts the windows of coverage_counts on the unpadded image, ignoring pad (pad=0 works),
# (2) reads pad = (pad_h, pad_w) the wrong way round in zero_pad (an int pad still works), and
# (3) returns f // 2 in same_padding without rejecting an even f (odd f still work).
# So coverage_counts_valid, zero_pad_int_pad and same_padding_odd_filters pass, the other
# three tests fail: a partial score.

# %% grade_id: coverage_counts
def coverage_counts(n, f, pad):
    """How many positions of an f x f window read each pixel of an n x n image."""
    counts = np.zeros((n, n), dtype=int)
    for top in range(n - f + 1):
        for left in range(n - f + 1):
            counts[top:top + f, left:left + f] += 1
    return counts

# %% grade_id: zero_pad
def zero_pad(X, pad):
    """Pad the height and width of a batch of images with zeros."""
    if isinstance(pad, int):
        pad_h = pad_w = pad
    else:
        pad_w, pad_h = pad
    return np.pad(X, ((0, 0), (pad_h, pad_h), (pad_w, pad_w), (0, 0)))

# %% grade_id: same_padding
def same_padding(f):
    """Padding on each side that keeps the size for an f x f filter."""
    return f // 2
