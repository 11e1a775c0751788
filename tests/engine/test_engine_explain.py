"""explain_cell against the stages it explains, on random pipelines of every padding, pool
mode and activation, against plain-loop references, and on the article's one-pixel demo."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from engine import PipelineSpec, run_pipeline
from engine.conv import ACTIVATIONS, PADDINGS
from engine.explain import ExplainError, _fma32, explain_cell, weighted_sum
from engine.pool import POOL_MODES
from tests.reference_ops import pad_like_torch


def random_spec(rng: np.random.Generator, padding: str, mode: str, activation: str
                ) -> PipelineSpec:
    kh, kw = (int(v) for v in rng.integers(1, 8, 2))
    kernel = rng.standard_normal((kh, kw)).astype(np.float32)
    kernel[rng.random((kh, kw)) < 0.25] = 0.0  # OpenCV skips zero taps
    size = 2 if mode == "aps" else int(rng.integers(1, 5))
    stride = None if mode == "aps" else int(rng.integers(1, 4))
    return PipelineSpec(kernel=tuple(map(tuple, kernel.tolist())), padding=padding,
                        stride=int(rng.integers(1, 4)), activation=activation,
                        pool_mode=mode, pool_size=size, pool_stride=stride,
                        levels=3, blur_size=int(rng.integers(1, 8)))


def random_result(seed: int, padding: str, mode: str, activation: str):
    rng = np.random.default_rng(seed)
    spec = random_spec(rng, padding, mode, activation)
    h, w = (int(v) for v in rng.integers(9, 41, 2))
    image = rng.standard_normal((h, w)).astype(np.float32) * rng.choice([1.0, 0.01, 255.0])
    return run_pipeline(image, spec)


def same_bits(a: np.float32, b: np.float32) -> bool:
    return np.float32(a).view(np.uint32) == np.float32(b).view(np.uint32)


CASES = list(itertools.product(PADDINGS, POOL_MODES, ACTIVATIONS))


@pytest.mark.parametrize(("padding", "mode", "activation"), CASES)
def test_every_cell_is_recomputed_bit_for_bit(padding, mode, activation):
    case = CASES.index((padding, mode, activation))
    for seed in (2 * case, 2 * case + 1):  # fixed seeds, a different pipeline per case
        result = random_result(seed, padding, mode, activation)
        for index, stage in enumerate(result.stages):
            previous = result.stages[index - 1].array if index else None
            for row, col in np.ndindex(stage.shape):
                e = explain_cell(result, stage.name, row, col)
                held = stage.array[row, col]
                assert same_bits(e.value, held)
                assert same_bits(e.recompute(), held), (stage.name, row, col, result.spec)
                if previous is None:
                    continue
                # every input that is not zero padding is the cell its position names
                real = (e.positions[..., 0] >= 0)
                if e.operation == "blurmax":
                    for (i, j) in zip(*np.nonzero(real), strict=True):
                        r, c = e.maxima_at[i, j]
                        assert e.inputs[i, j] == previous[r, c]
                else:
                    rows, cols = e.positions[..., 0][real], e.positions[..., 1][real]
                    np.testing.assert_array_equal(e.inputs[real], previous[rows, cols])
                    assert np.all(e.inputs[~real] == 0)


def test_conv_patch_matches_a_plain_loop_over_the_padded_image():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((11, 13)).astype(np.float32)
    for padding, stride in itertools.product(PADDINGS, (1, 2, 3)):
        kernel = rng.standard_normal((3, 4)).astype(np.float32)
        r = run_pipeline(x, PipelineSpec(kernel=tuple(map(tuple, kernel.tolist())),
                                         padding=padding, stride=stride, levels=0,
                                         activation="none"))
        xp = pad_like_torch(x, 3, 4, padding)  # numpy's np.pad, not OpenCV
        top, left = (0, 0) if padding == "valid" else (1, 1)
        conv = r["conv"].array
        for i, j in np.ndindex(conv.shape):
            e = explain_cell(r, "conv", i, j)
            patch = np.zeros((3, 4))
            outside = np.zeros((3, 4), bool)
            for a in range(3):
                for b in range(4):
                    patch[a, b] = xp[i * stride + a, j * stride + b]
                    rr, cc = i * stride + a - top, j * stride + b - left
                    outside[a, b] = not (0 <= rr < x.shape[0] and 0 <= cc < x.shape[1])
            np.testing.assert_array_equal(e.inputs, patch.astype(np.float32))
            np.testing.assert_array_equal(e.padded, outside)
            np.testing.assert_array_equal(e.weights, kernel)
            exact = sum(float(k) * float(v) for k, v in zip(kernel.ravel(), patch.ravel(),
                                                            strict=True))
            assert float(e.total) == pytest.approx(exact, rel=1e-5, abs=1e-5)
            if padding == "same":
                assert np.all(e.positions[outside] == -1)


def test_fused_and_plain_sums_are_both_needed():
    """Neither accumulation alone reproduces a convolution stage, so the recorded one
    matters (this is what makes the bit-for-bit test above able to fail)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((20, 37)).astype(np.float32)
    kernel = rng.standard_normal((5, 5)).astype(np.float32)
    r = run_pipeline(x, PipelineSpec(kernel=tuple(map(tuple, kernel.tolist())), levels=0,
                                     activation="none"))
    wrong = {"fused": 0, "plain": 0}
    kinds = set()
    for i, j in np.ndindex(r["conv"].shape):
        e = explain_cell(r, "conv", i, j)
        kinds.add(e.accumulation)
        other = "plain" if e.accumulation == "fused" else "fused"
        wrong[other] += not same_bits(weighted_sum(e.inputs, e.weights, other == "fused"),
                                      e.value)
    assert kinds == {"fused", "plain"}
    assert wrong["fused"] > 0 and wrong["plain"] > 0


def test_fma32_rounds_once_like_exact_arithmetic():
    rng = np.random.default_rng(11)
    a, b, c = (rng.standard_normal(20000).astype(np.float32) for _ in range(3))
    # near-cancelling sums, where one rounding differs from two most often
    c[::2] = -(a[::2] * b[::2]).astype(np.float32)
    for x, y, z in zip(a.tolist(), b.tolist(), c.tolist(), strict=True):
        exact = Fraction(x) * Fraction(y) + Fraction(z)
        got = _fma32(x, y, z)
        lo = float(np.float32(float(exact)))
        # the float32 nearest the exact value, by comparing both neighbours exactly
        candidates = [lo, float(np.nextafter(np.float32(lo), np.float32(np.inf))),
                      float(np.nextafter(np.float32(lo), np.float32(-np.inf)))]
        best = min(abs(Fraction(v) - exact) for v in candidates)
        assert abs(Fraction(got) - exact) == best


def test_one_pixel_demo_by_hand():
    """The article's 10x10 image: the lit pixel wins every window it is in."""
    for pixel, cells in (((2, 2), [(1, 1), (0, 0)]), ((7, 7), [(3, 3), (1, 1)])):
        img = np.zeros((10, 10))
        img[pixel] = 1.0
        r = run_pipeline(img, PipelineSpec(convolve=False, levels=2))
        e1 = explain_cell(r, "pool 1", *cells[0])
        assert e1.operation == "max" and e1.source == "input"
        assert e1.winner == pixel and float(e1.value) == 1.0 and not e1.tie
        top = (pixel[0] // 2 * 2, pixel[1] // 2 * 2)
        assert e1.positions.tolist() == [[[top[0], top[1]], [top[0], top[1] + 1]],
                                         [[top[0] + 1, top[1]], [top[0] + 1, top[1] + 1]]]
        e2 = explain_cell(r, "pool 2", *cells[1])
        assert e2.source == "pool 1" and e2.winner == cells[0]
        # a window of zeros: every cell ties, the first wins
        e0 = explain_cell(r, "pool 1", 4 - cells[0][0], 4 - cells[0][1])
        assert e0.tie and e0.winner == tuple(e0.positions[0, 0]) and float(e0.value) == 0.0


def test_article_conv_cell_by_hand():
    img = np.zeros((10, 10))
    img[2, 2] = 1.0
    r = run_pipeline(img, PipelineSpec(levels=1))  # Prewitt (vertical edges), valid, ReLU
    e = explain_cell(r, "conv", 1, 0)  # the pixel sits right of the patch centre
    assert e.operation == "correlate" and e.activation == "relu"
    assert e.inputs.tolist() == [[0, 0, 0], [0, 0, 1], [0, 0, 0]]
    assert e.weights.tolist() == [[-1, 0, 1]] * 3
    assert e.products.tolist() == [[0, 0, 0], [0, 0, 1], [0, 0, 0]]
    assert float(e.total) == 1.0 and float(e.value) == 1.0
    left = explain_cell(r, "conv", 1, 2)  # pixel left of centre: -1, cut by the ReLU
    assert float(left.total) == -1.0 and float(left.value) == 0.0
    assert tuple(e.positions[1, 2]) == (2, 2) and not e.padded.any()


def test_blurmax_and_aps_details():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((12, 15)).astype(np.float32)
    r = run_pipeline(x, PipelineSpec(convolve=False, pool_mode="blurmax", levels=1,
                                     blur_size=3))
    e = explain_cell(r, "pool 1", 0, 0)
    assert e.operation == "blurmax" and e.inputs.shape == (3, 3)
    taps = np.array([1.0, 2.0, 1.0])
    np.testing.assert_array_equal(e.weights, np.outer(taps, taps) / 16)
    # row -1 of the max map reflects to row 1; each input is its 2x2 window's maximum
    assert e.padded[0].all() and tuple(e.positions[0, 1]) == (1, 0)
    for i, j in np.ndindex(3, 3):
        r0, c0 = e.positions[i, j]
        assert e.inputs[i, j] == x[r0:r0 + 2, c0:c0 + 2].max()
    a = run_pipeline(x, PipelineSpec(convolve=False, pool_mode="aps", levels=1))
    e = explain_cell(a, "pool 1", 2, 7)  # the last column wraps around the odd width
    i, j = e.phase
    padded = np.pad(x, ((0, 0), (0, 1)), mode="wrap")
    np.testing.assert_array_equal(a["pool 1"].array, padded[i::2, j::2])
    norms = [float((padded[p::2, q::2].astype(np.float64) ** 2).sum()) for p in (0, 1)
             for q in (0, 1)]
    np.testing.assert_allclose(e.phase_norms, norms, rtol=1e-6)
    assert e.phase == divmod(int(np.argmax(norms)), 2)
    assert e.positions[0, 1].tolist() == [4, 0] and e.padded[:, 1].all()


def test_errors_name_the_stage_and_the_fix():
    r = run_pipeline(np.zeros((8, 8)), PipelineSpec(levels=1))
    with pytest.raises(ExplainError, match=r"no stage 'pool 9'.*'pool 1'"):
        explain_cell(r, "pool 9", 0, 0)
    with pytest.raises(ExplainError, match=r"\(3, 0\) is outside stage 'pool 1' of shape "
                                           r"\(3, 3\); give 0 <= row < 3"):
        explain_cell(r, "pool 1", 3, 0)
    with pytest.raises(ExplainError, match="outside"):
        explain_cell(r, "conv", True, 0)
    with pytest.raises(ExplainError, match="PipelineResult"):
        explain_cell(np.zeros((2, 2)), "conv", 0, 0)
    assert issubclass(ExplainError, ValueError)
