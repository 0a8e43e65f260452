"""Figures for the notebooks: shared primitives in :mod:`utils.plotting.core`,
topic figures in ``utils/plotting/<topic>.py``.

``from utils import plotting`` gives the primitives directly
(``plotting.show_matrix``, ``plotting.show_images`` ...).
"""
from .core import (  # noqa: F401
    show_matrix,
    show_images,
    show_kernels,
    show_heatmap,
    show_feature_maps,
    plot_training_curves,
    new_axes,
)
