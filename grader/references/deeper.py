"""Hidden tests for notebook 10 (deeper networks: receptive fields, residual and dense blocks).

References live here, independent of the student's notebook: the receptive-field
recursion, the parameter counts of both blocks and their output shapes. Random
cases come from :func:`seeding.rng` (per student while grading). The Keras blocks
are judged by the graph they build (:mod:`utils.checks.deeper` walks it), on random
non-square inputs, channel counts and strides; the outputs of typical mistakes are
computed with small variants of the references so a failing test names the cause.
"""
from __future__ import annotations

from typing import Callable

from utils.checks import deeper as visible
from utils.checks.core import passed

from . import seeding

SEED = 10010
N_CASES = 40


# ---------------------------------------------------------------- references
def ref_receptive_field(layers) -> int:
    """Receptive field of the last layer: grow by (f - 1) input pixels times the jump so far."""
    field, jump = 1, 1
    for f, s in layers:
        field += (f - 1) * jump
        jump *= s
    return field


def _field_variant(layers, *, start: int = 1, stride_of: str = "below") -> int:
    """Wrong recursions: strides ignored, own stride included, from above, without the 1."""
    pairs = list(layers)
    field = start
    for i, (f, _) in enumerate(pairs):
        if stride_of == "none":
            chosen = []
        elif stride_of == "own":
            chosen = pairs[:i + 1]
        elif stride_of == "above":
            chosen = pairs[i + 1:]
        else:
            chosen = pairs[:i]
        jump = 1
        for _, s in chosen:
            jump *= s
        field += (f - 1) * jump
    return field


_RF_VARIANTS = dict(zip(visible.RF_MISTAKES, (
    dict(stride_of="none"), dict(stride_of="own"), dict(start=0), dict(stride_of="above"))))


def needs_projection(n_C_prev: int, filters: int, stride: int) -> bool:
    """The shortcut needs a 1x1 convolution when the stride or the channel count changes."""
    return stride != 1 or n_C_prev != filters


def ref_residual_block_params(n_C_prev: int, filters: int, stride: int = 1, *,
                              bn_per_channel: int = 4, bias: int = 1,
                              projection: bool | None = None, conv2_in: int | None = None,
                              projection_kernel: int = 1) -> int:
    """Parameters of the spec's residual block; keyword arguments make the typical mistakes."""
    conv2_in = filters if conv2_in is None else conv2_in
    total = ((9 * n_C_prev + bias) * filters + bn_per_channel * filters
             + (9 * conv2_in + bias) * filters + bn_per_channel * filters)
    if needs_projection(n_C_prev, filters, stride) if projection is None else projection:
        total += (projection_kernel ** 2 * n_C_prev + bias) * filters
    return total


def _param_mistakes(c: int, f: int, s: int) -> list[int]:
    """The outputs of visible.PARAM_MISTAKES, in the same order, for one block."""
    ref = ref_residual_block_params
    return [
        ref(c, f, s, bn_per_channel=2),
        ref(c, f, s, bn_per_channel=0),
        ref(c, f, s, projection=False),
        ref(c, f, s, projection=True),
        ref(c, f, s, projection=s != 1),
        ref(c, f, s, projection=c != f),
        ref(c, f, s, bias=0),
        ref(c, f, s, conv2_in=c),
        ref(c, f, s, projection_kernel=3),
    ]


def ref_dense_block_params(n_C_prev: int, n_layers: int, growth_rate: int) -> int:
    """Parameters of the spec's dense block: per layer BN (4 per channel) and a 3x3 Conv2D."""
    total = 0
    for k in range(n_layers):
        channels = n_C_prev + k * growth_rate
        total += 4 * channels + (9 * channels + 1) * growth_rate
    return total


# ---------------------------------------------------------------- tests
def receptive_field_random(receptive_field: Callable) -> None:
    """Random stacks of 1-8 layers, kernel sizes 1-7, strides 1-3, plus one layer and none."""
    rng = seeding.rng(SEED)
    stacks = [[], [(int(rng.choice([2, 3, 5, 7])), int(rng.integers(2, 4)))]]
    for _ in range(N_CASES):
        n = int(rng.integers(2, 9))
        stacks.append([(int(rng.choice([1, 2, 3, 3, 5, 7])), int(rng.choice([1, 1, 2, 2, 3])))
                       for _ in range(n)])
    cases = [((stack,), {}, ref_receptive_field(stack)) for stack in stacks]
    mistakes = {description: [_field_variant(stack, **kw) for stack in stacks]
                for description, kw in _RF_VARIANTS.items()}
    visible.check_count_cases(receptive_field, "receptive_field", cases, mistakes, ("layers",))
    passed(f"receptive_field: {len(cases)} random stacks of convolutions and pools")


def residual_block_params_random(residual_block_params: Callable) -> None:
    """Random channel counts and strides 1-3; identity cases, the default stride."""
    rng = seeding.rng(SEED + 1)
    cases, outputs = [], []
    for k in range(N_CASES):
        c = int(rng.integers(1, 257))
        if k % 3 == 0:  # identity shortcut
            f, s = c, 1
        else:
            f = int(rng.integers(1, 257))
            s = int(rng.choice([1, 2, 3]))
        args = (c, f) if k % 5 == 0 and s == 1 else (c, f, s)
        cases.append((args, {}, ref_residual_block_params(c, f, s)))
        outputs.append(_param_mistakes(c, f, s))
    mistakes = {description: [row[i] for row in outputs]
                for i, description in enumerate(visible.PARAM_MISTAKES)}
    visible.check_count_cases(residual_block_params, "residual_block_params", cases, mistakes,
                              visible.PARAMS_ARGS)
    passed(f"residual_block_params: {len(cases)} random blocks")


def _shape(rng, low: int = 3, high: int = 13) -> tuple[int, int]:
    h = int(rng.integers(low, high))
    w = int(rng.integers(low, high))
    while w == h:
        w = int(rng.integers(low, high))
    return h, w


def residual_block_identity_random(residual_block: Callable) -> None:
    """Random non-square inputs with stride 1 and filters = n_C_prev (once with the default stride)."""
    rng = seeding.rng(SEED + 2)
    for omit_stride in (False, True):
        h, w = _shape(rng)
        c = int(rng.integers(1, 25))
        visible.judge_residual_block(residual_block, (h, w, c), c, 1,
                                     ref_residual_block_params(c, c, 1), omit_stride=omit_stride)
    passed("residual_block: identity shortcut on 2 random inputs (graph, shapes, counts)")


def residual_block_projection_random(residual_block: Callable) -> None:
    """Random inputs: a stride with the same channels, a channel change, both (odd sizes too)."""
    rng = seeding.rng(SEED + 3)
    c1 = int(rng.integers(2, 25))
    c2 = int(rng.integers(1, 25))
    f2 = int(rng.integers(1, 33))
    while f2 == c2:
        f2 = int(rng.integers(1, 33))
    c3, f3 = int(rng.integers(1, 25)), int(rng.integers(1, 33))
    cases = [(c1, c1, 2), (c2, f2, 1), (c3, f3, int(rng.choice([2, 3])))]
    for c, f, s in cases:
        h, w = _shape(rng, 4, 14)
        visible.judge_residual_block(residual_block, (h, w, c), f, s,
                                     ref_residual_block_params(c, f, s))
    passed("residual_block: 1x1 projection on 3 random inputs (stride, channel change, both)")


def dense_block_random(dense_block: Callable) -> None:
    """Random inputs, 1-4 layers, growth rates 1-16 (once equal to the input's channels)."""
    rng = seeding.rng(SEED + 4)
    c = int(rng.integers(2, 17))
    cases = [(c, int(rng.integers(2, 5)), c),
             (int(rng.integers(1, 25)), int(rng.integers(1, 5)), int(rng.integers(1, 17)))]
    for c, n_layers, growth in cases:
        h, w = _shape(rng)
        visible.judge_dense_block(dense_block, (h, w, c), n_layers, growth,
                                  ref_dense_block_params(c, n_layers, growth))
    passed("dense_block: 2 random blocks (graph, concatenations, shapes, counts)")
