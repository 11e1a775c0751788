"""translate / mirror / rotate90 against hand-written references, and what a mirror does to
a convolution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    KERNELS,
    PipelineSpec,
    conv2d,
    first_asymmetric_stage,
    mirror,
    mirror_kernel,
    mirror_note,
    mirror_symmetry,
    rotate90,
    run_pipeline,
    sample_photo,
    translate,
)


def reference_shift(x: np.ndarray, dy: int, dx: int, wrap: bool) -> np.ndarray:
    """Pixel by pixel: out[r, c] = x[r - dy, c - dx] (wrapped, or 0 outside)."""
    h, w = x.shape
    out = np.zeros((h, w))
    for r in range(h):
        for c in range(w):
            sr, sc = r - dy, c - dx
            if wrap:
                out[r, c] = x[sr % h, sc % w]
            elif 0 <= sr < h and 0 <= sc < w:
                out[r, c] = x[sr, sc]
    return out


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 7), w=st.integers(1, 7), dy=st.integers(-10, 10),
       dx=st.integers(-10, 10), wrap=st.booleans(), seed=st.integers(0, 2**16))
def test_translate_matches_pixelwise_reference(h, w, dy, dx, wrap, seed):
    x = np.random.default_rng(seed).normal(size=(h, w))
    before = x.copy()
    out = translate(x, dy, dx, wrap=wrap)
    assert out.dtype == np.float32 and out.shape == (h, w)
    np.testing.assert_array_equal(out, reference_shift(x.astype(np.float32), dy, dx, wrap))
    np.testing.assert_array_equal(x, before)


def test_translate_direction_and_roll():
    x = np.zeros((5, 6), dtype=np.float32)
    x[1, 2] = 7
    down_right = translate(x, 2, 3)
    assert down_right[3, 5] == 7 and down_right.sum() == 7
    up_left = translate(x, -1, -2, wrap=False)
    assert up_left[0, 0] == 7 and up_left.sum() == 7
    np.testing.assert_array_equal(translate(x, -4, 9), np.roll(x, (-4, 9), axis=(0, 1)))


def test_translate_zero_fill_and_shifts_beyond_the_image():
    x = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(translate(x, 0, 2, wrap=False),
                                  [[0, 0, 1, 2], [0, 0, 5, 6], [0, 0, 9, 10]])
    for dy, dx in [(3, 0), (0, -4), (-100, 100), (2, 4)]:
        assert not translate(x, dy, dx, wrap=False).any()
    np.testing.assert_array_equal(translate(x, 3, 8), x)  # full periods wrap back


def test_translate_returns_a_new_array_even_for_zero_shift():
    x = np.ones((3, 3), dtype=np.float32)
    out = translate(x, 0, 0)
    out[0, 0] = 5
    assert x[0, 0] == 1


@pytest.mark.parametrize("bad, arg", [((1.5, 0), "dy"), ((0, "2"), "dx"), ((True, 0), "dy")])
def test_translate_rejects_non_integer_shifts(bad, arg):
    with pytest.raises(ValueError, match=arg):
        translate(np.zeros((3, 3)), *bad)


def test_translate_rejects_bad_wrap_and_bad_images():
    with pytest.raises(ValueError, match="wrap"):
        translate(np.zeros((3, 3)), 1, 1, wrap="no")
    with pytest.raises(ValueError, match="2-D"):
        translate(np.zeros((3, 3, 3)), 1, 1)


def test_mirror_against_slicing_by_hand():
    x = np.arange(12, dtype=np.float64).reshape(3, 4)
    lr = mirror(x)
    ud = mirror(x, axis=0)
    for r in range(3):
        for c in range(4):
            assert lr[r, c] == x[r, 3 - c]
            assert ud[r, c] == x[2 - r, c]
    assert lr.dtype == np.float32 and lr.flags.c_contiguous
    np.testing.assert_array_equal(mirror(mirror(x)), x)
    lr[0, 0] = -1
    assert x[0, 3] == 3


@pytest.mark.parametrize("axis", [2, -1, True, "x"])
def test_mirror_rejects_bad_axis(axis):
    with pytest.raises(ValueError, match="axis"):
        mirror(np.zeros((2, 2)), axis=axis)


def test_rotate90_counter_clockwise_and_shape():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)  # [[0,1,2],[3,4,5]]
    r = rotate90(x)
    assert r.shape == (3, 2)
    # counter-clockwise: the right column becomes the top row
    np.testing.assert_array_equal(r, [[2, 5], [1, 4], [0, 3]])
    np.testing.assert_array_equal(rotate90(x, -1), [[3, 0], [4, 1], [5, 2]])
    np.testing.assert_array_equal(rotate90(x, 4), x)
    np.testing.assert_array_equal(rotate90(rotate90(x, 3), 1), x)
    with pytest.raises(ValueError, match="k"):
        rotate90(x, 0.5)


def test_mirror_kernel_and_symmetry():
    sobel = KERNELS["prewitt_vertical"]
    np.testing.assert_array_equal(mirror_kernel("prewitt_vertical"), sobel[:, ::-1])
    np.testing.assert_array_equal(mirror_kernel("prewitt_vertical"), -sobel)
    np.testing.assert_array_equal(mirror_kernel(sobel, axis=0), sobel)
    assert mirror_symmetry("prewitt_vertical", 1) == "antisymmetric"
    assert mirror_symmetry("prewitt_vertical", 0) == "symmetric"
    assert mirror_symmetry("laplacian", 1) == "symmetric"
    assert mirror_symmetry([[1, 2, 0]], 1) == "neither"
    assert mirror_symmetry(np.zeros((2, 2)), 1) == "symmetric"
    with pytest.raises(ValueError, match="kernel"):
        mirror_kernel("no_such_kernel")


@pytest.fixture(scope="module")
def coffee() -> np.ndarray:
    return sample_photo("coffee")


@pytest.fixture(scope="module")
def coffee_levels(coffee) -> np.ndarray:
    """The photo in 0..255 grey levels: integer sums are exact in float32, so identities
    that only reorder the sum hold bit for bit."""
    return np.round(coffee * 255)


def test_symmetric_kernel_commutes_with_the_mirror_exactly(coffee, coffee_levels):
    for padding in ("valid", "same", "circular", "reflect"):
        lhs = conv2d(mirror(coffee_levels), "laplacian", padding=padding)
        rhs = mirror(conv2d(coffee_levels, "laplacian", padding=padding))
        np.testing.assert_array_equal(lhs, rhs)
        np.testing.assert_allclose(conv2d(mirror(coffee), "laplacian", padding=padding),
                                   mirror(conv2d(coffee, "laplacian", padding=padding)),
                                   atol=1e-6)


def test_sobel_vertical_negates_under_the_mirror(coffee, coffee_levels):
    lhs = conv2d(mirror(coffee_levels), "prewitt_vertical")
    rhs = mirror(conv2d(coffee_levels, "prewitt_vertical"))
    np.testing.assert_array_equal(lhs, -rhs)
    assert np.abs(rhs).max() > 100  # a real photo with real edges, not a flat image
    # mirroring the kernel too makes the mirror commute
    np.testing.assert_array_equal(
        conv2d(mirror(coffee_levels), mirror_kernel("prewitt_vertical")), rhs)
    # on the float photo the same holds up to float32 rounding
    np.testing.assert_allclose(conv2d(mirror(coffee), "prewitt_vertical"),
                               -mirror(conv2d(coffee, "prewitt_vertical")), atol=1e-6)


@settings(max_examples=30, deadline=None)
@given(h=st.integers(3, 9), w=st.integers(3, 9), kh=st.sampled_from([1, 3]),
       kw=st.sampled_from([1, 3]), axis=st.sampled_from([0, 1]), seed=st.integers(0, 2**16))
def test_mirrored_kernel_commutes_for_any_kernel(h, w, kh, kw, axis, seed):
    rng = np.random.default_rng(seed)
    x, k = rng.normal(size=(h, w)), rng.normal(size=(kh, kw))
    for padding in ("valid", "circular"):
        np.testing.assert_allclose(conv2d(mirror(x, axis), mirror_kernel(k, axis), padding=padding),
                                   mirror(conv2d(x, k, padding=padding), axis), atol=1e-5)


def test_mirror_note_says_what_the_kernel_does():
    sobel = mirror_note(PipelineSpec(kernel="prewitt_vertical"), 1)
    assert "antisymmetric" in sobel and "-mirror(conv(x))" in sobel
    assert "opposite edges" in sobel and "Mirror the kernel too" in sobel
    assert "vertical Prewitt" in sobel
    lap = mirror_note(PipelineSpec(kernel="laplacian"), 1)
    assert "symmetric" in lap and "antisymmetric" not in lap and "= mirror(conv(x))" in lap
    up_down = mirror_note(PipelineSpec(kernel="prewitt_vertical"), 0)
    assert "antisymmetric" not in up_down and "up-down" in up_down
    other = mirror_note(PipelineSpec(kernel=[[1, 2, 0]]), 1)
    assert "neither" in other and "custom" in other
    assert "sign" in mirror_note(PipelineSpec(activation="abs"), 1)
    assert "negated" in mirror_note(PipelineSpec(activation="none"), 1)
    assert mirror_note(PipelineSpec(convolve=False), 1) is None


def reference_asymmetric_stage(spec: PipelineSpec, shape, axis) -> str | None:
    """Run the pipeline on an image and on its mirror with a mirrored kernel: the first
    stage where the mirror does not commute (random data, so a mismatch shows)."""
    x = np.random.default_rng(0).random(shape)
    flipped = spec.replace(kernel=mirror_kernel(spec.kernel_array, axis)) if spec.convolve \
        else spec
    a, b = run_pipeline(x, spec), run_pipeline(mirror(x, axis), flipped)
    for sa, sb in zip(a.stages, b.stages, strict=True):
        if not np.allclose(mirror(sa.array, axis), sb.array, atol=1e-5):
            return sa.name
    return None


@pytest.mark.parametrize("spec, shape", [
    (PipelineSpec(), (400, 600)),
    (PipelineSpec(), (34, 66)),
    (PipelineSpec(convolve=False, levels=3), (10, 10)),
    (PipelineSpec(convolve=False, levels=3), (16, 16)),
    (PipelineSpec(padding="same", kernel=[[1, 2], [3, 4]]), (16, 16)),
    (PipelineSpec(stride=2, levels=1), (17, 17)),
    (PipelineSpec(stride=2, levels=1), (16, 16)),
    (PipelineSpec(pool_mode="blurmax", levels=2), (32, 32)),
    (PipelineSpec(pool_mode="blur", blur_size=3, levels=3), (19, 19)),
    (PipelineSpec(pool_mode="blurmax", blur_size=3, levels=3), (20, 20)),
    (PipelineSpec(pool_mode="avg", pool_size=3, pool_stride=2, levels=3), (21, 21)),
])
@pytest.mark.parametrize("axis", [0, 1])
def test_first_asymmetric_stage_matches_a_real_run(spec, shape, axis):
    assert first_asymmetric_stage(spec, shape, axis) == reference_asymmetric_stage(spec, shape,
                                                                                   axis)


def test_mirror_note_names_the_first_asymmetric_stage():
    note = mirror_note(PipelineSpec(), 1, (400, 600))
    assert "pool 2" in note  # 598 -> 299 -> 149 drops a column
    assert mirror_note(PipelineSpec(convolve=False, levels=3), 1, (16, 16)) is None
