"""pool2d and pool_pyramid: hand-computed cases, a plain reference, torch when present."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_ops import pascal_row, ref_pool

from engine import POOL_MODES, binomial_taps, blur_kernel, pool2d, pool_pyramid

X4 = np.arange(16.0).reshape(4, 4)  # x[i, j] = 4 i + j


def test_max_and_avg_by_hand():
    np.testing.assert_array_equal(pool2d(X4), [[5, 7], [13, 15]])
    np.testing.assert_array_equal(pool2d(X4, mode="avg"), [[2.5, 4.5], [10.5, 12.5]])
    np.testing.assert_array_equal(pool2d(X4, size=3, stride=1), [[10, 11], [14, 15]])
    np.testing.assert_array_equal(pool2d(X4, size=2, stride=3), [[5]])
    np.testing.assert_array_equal(pool2d(X4, size=1, stride=2), [[0, 2], [8, 10]])
    # floor mode: the remainder row and column are dropped
    x5 = np.arange(25.0).reshape(5, 5)
    np.testing.assert_array_equal(pool2d(x5), [[6, 8], [16, 18]])
    np.testing.assert_array_equal(pool2d(x5, size=3, stride=2), [[12, 14], [22, 24]])


def test_blurmax_by_hand():
    # max 2x2 stride 1: m[i, j] = x[i+1, j+1] (3x3); reflect-pad one after (index 3 -> 1);
    # mean of 2x2 at stride 2.
    expected = [[(5 + 6 + 9 + 10) / 4, (7 + 6 + 11 + 10) / 4],
                [(13 + 14 + 9 + 10) / 4, (15 + 14 + 11 + 10) / 4]]
    np.testing.assert_allclose(pool2d(X4, mode="blurmax", blur_size=2), expected, rtol=1e-6)


def test_blur_by_hand():
    # taps 1,2,1 with reflect padding 1/1: x is 4i + j, so each axis blurs on its own;
    # at the edge (2 f(0) + 2 f(1)) / 4.  rows: 0 -> 2, 2 -> 8; cols: 0 -> 0.5, 2 -> 2.
    np.testing.assert_allclose(pool2d(X4, mode="blur", blur_size=3),
                               [[2.5, 4.0], [8.5, 10.0]], rtol=1e-6)


def test_binomial_taps_are_pascals_triangle():
    assert binomial_taps(1).tolist() == [1.0]
    assert binomial_taps(5).tolist() == [1, 4, 6, 4, 1]
    for n in range(1, 9):
        assert binomial_taps(n).tolist() == pascal_row(n)
        k = blur_kernel(n)
        assert k.shape == (n, n) and k.dtype == np.float32
        assert k.sum() == pytest.approx(1.0, abs=1e-6)
    for bad in (0, -1):
        with pytest.raises(ValueError, match="blur_size must be >= 1"):
            blur_kernel(bad)


def test_random_cases_match_the_plain_reference():
    rng = np.random.default_rng(10)
    seen = set()
    cases = 0
    while cases < 150:
        h, w = (int(v) for v in rng.integers(1, 12, size=2))
        size = int(rng.integers(1, 5))
        stride = int(rng.integers(1, 4))
        mode = POOL_MODES[cases % len(POOL_MODES)]
        blur_size = int(rng.integers(1, 6))
        if mode == "aps":  # size and stride 2 only
            size = stride = 2
        x = rng.normal(size=(h, w))
        # torch's rule: a window must fit, and reflect padding must be narrower than its input
        blur_in = (h, w) if mode == "blur" else (h - size + 1, w - size + 1)
        ok = min(blur_in) >= 1
        if mode in ("blur", "blurmax"):
            ok = ok and blur_size - 1 - (blur_size - 1) // 2 < min(blur_in)
        if not ok:
            with pytest.raises(ValueError, match="smaller|too small"):
                pool2d(x, size=size, stride=stride, mode=mode, blur_size=blur_size)
            continue
        out = pool2d(x, size=size, stride=stride, mode=mode, blur_size=blur_size)
        ref = ref_pool(x, size, stride, mode, blur_size)
        assert out.dtype == np.float32
        assert out.shape == ref.shape, (x.shape, size, stride, mode, blur_size)
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)
        seen.add((mode, size % 2, blur_size % 2))
        cases += 1
    assert len(seen) >= 14  # every mode with odd and even windows and blurs


SLIDING_MODES = tuple(m for m in POOL_MODES if m != "aps")


def test_stride_defaults_to_size():
    x = np.random.default_rng(11).normal(size=(9, 7))
    for mode in SLIDING_MODES:
        np.testing.assert_array_equal(pool2d(x, size=3, mode=mode),
                                      pool2d(x, size=3, stride=3, mode=mode))
    np.testing.assert_allclose(pool2d(x, size=3), ref_pool(x, 3, 3, "max"))


def test_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    rng = np.random.default_rng(12)
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(4, 15, size=2))
        size, stride = int(rng.integers(1, 5)), int(rng.integers(1, 4))
        x = rng.normal(size=(h, w)).astype(np.float32)
        t = torch.tensor(x)[None, None]
        np.testing.assert_allclose(pool2d(x, size=size, stride=stride),
                                   functional.max_pool2d(t, size, stride)[0, 0].numpy())
        np.testing.assert_allclose(pool2d(x, size=size, stride=stride, mode="avg"),
                                   functional.avg_pool2d(t, size, stride)[0, 0].numpy(),
                                   rtol=1e-5, atol=1e-6)


@st.composite
def periodic_case(draw):
    stride = draw(st.integers(1, 4))
    size = draw(st.integers(1, stride))  # windows tile without overlapping the wrap
    h, w = stride * draw(st.integers(1, 5)), stride * draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    x = np.random.default_rng(seed).normal(size=(h, w)).astype(np.float32)
    my, mx = draw(st.integers(-6, 6)), draw(st.integers(-6, 6))
    return x, size, stride, my, mx


@settings(max_examples=50, deadline=None)
@given(case=periodic_case())
def test_max_pool_commutes_with_circular_shifts_by_multiples_of_the_stride(case):
    x, size, stride, my, mx = case
    shifted = np.roll(x, (my * stride, mx * stride), axis=(0, 1))
    np.testing.assert_array_equal(pool2d(shifted, size=size, stride=stride),
                                  np.roll(pool2d(x, size=size, stride=stride), (my, mx), (0, 1)))


def test_one_pixel_shift_can_change_a_max_pool_completely():
    # The reason the app exists: max pooling is not shift invariant.
    x = np.zeros((4, 4))
    x[1, 1] = 1.0
    assert pool2d(x)[0, 0] == 1.0
    assert pool2d(np.roll(x, 1, axis=1))[0, 1] == 1.0 and pool2d(np.roll(x, 1, axis=1))[0, 0] == 0


def test_pool_pyramid_shapes_and_early_stop():
    shapes = [p.shape for p in pool_pyramid(np.zeros((10, 10)), 6)]
    assert shapes == [(10, 10), (5, 5), (2, 2), (1, 1)]
    shapes = [p.shape for p in pool_pyramid(np.zeros((400, 600)), 6)]
    assert shapes[-1] == (6, 9) and len(shapes) == 7
    assert len(pool_pyramid(np.zeros((3, 3)), 0)) == 1


def test_pool_pyramid_levels_match_repeated_pool2d():
    x = np.random.default_rng(13).normal(size=(37, 29))
    for mode in POOL_MODES:
        size = 2 if mode == "aps" else 3
        pyramid = pool_pyramid(x, 3, size=size, stride=2, mode=mode, blur_size=3)
        assert len(pyramid) == 4
        expected = x
        np.testing.assert_array_equal(pyramid[0], x.astype(np.float32))
        for level in pyramid[1:]:
            expected = ref_pool(expected, size, 2, mode, 3)
            np.testing.assert_allclose(level, expected, rtol=1e-5, atol=1e-5)


BAD_IMAGES = [
    (np.zeros(5), "2-D"),
    (np.zeros((2, 2, 1)), "2-D"),
    (np.zeros((0, 3)), "empty"),
    (np.array([[np.nan, 1.0], [1.0, 1.0]]), "NaN"),
    (np.array([[np.inf, 1.0], [1.0, 1.0]]), "infinite"),
]


@pytest.mark.parametrize("bad, words", BAD_IMAGES)
@pytest.mark.parametrize("call", [pool2d, lambda x: pool_pyramid(x, 2)])
def test_bad_images_are_refused_naming_x(call, bad, words):
    with pytest.raises(ValueError, match=words) as info:
        call(bad)
    assert str(info.value).startswith("x ")


@pytest.mark.parametrize("kwargs, words", [
    ({"size": 0}, "size must be >= 1"),
    ({"size": 2.0}, "size must be an integer"),
    ({"stride": 0}, "stride must be >= 1"),
    ({"stride": -1}, "stride must be >= 1"),
    ({"mode": "median"}, "unknown mode 'median'"),
    ({"blur_size": 0, "mode": "blurmax"}, "blur_size must be >= 1"),
    ({"size": 6}, r"smaller than the pooling window 6x6"),
    ({"mode": "blur", "blur_size": 12}, "too small for the reflect padding"),
    ({"mode": "blurmax", "size": 4, "blur_size": 4}, "too small for the reflect padding"),
])
def test_bad_arguments_are_refused_by_name(kwargs, words):
    with pytest.raises(ValueError, match=words):
        pool2d(np.ones((5, 5)), **kwargs)
    if "size" not in words or "window" in words or "reflect" in words:
        return
    with pytest.raises(ValueError, match=words):
        pool_pyramid(np.ones((5, 5)), 2, **kwargs)


@pytest.mark.parametrize("levels", [-1, 1.5, True, "2"])
def test_pool_pyramid_refuses_bad_levels(levels):
    with pytest.raises(ValueError, match="levels must be an integer >= 0"):
        pool_pyramid(np.ones((4, 4)), levels)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
@pytest.mark.parametrize("kwargs", [
    {"size": 2}, {"size": 1}, {"size": 1, "stride": 1, "mode": "avg"},
    {"size": 3, "stride": 1, "mode": "avg"}, {"mode": "blurmax"}, {"mode": "blur", "stride": 1},
])
def test_inputs_are_never_modified(kwargs, dtype):
    x = (np.random.default_rng(14).normal(size=(9, 8)) * 40).astype(dtype)
    before = x.copy()
    out = pool2d(x, **kwargs)
    pyramid = pool_pyramid(x, 2, **kwargs)
    assert np.array_equal(x, before)
    assert not np.shares_memory(out, x)
    assert not any(np.shares_memory(p, x) for p in pyramid)
    out[...] = 123.0  # writing to a result never reaches the input
    assert np.array_equal(x, before)
    x.setflags(write=False)
    np.testing.assert_array_equal(pool2d(x, **kwargs), pool2d(before, **kwargs))
