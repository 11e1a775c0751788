"""Adaptive polyphase sampling: against a plain loop, its refusals, its geometry, and its
circular-shift guarantee through a whole pipeline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from reference_ops import ref_aps

from engine import POOL_MODES, PipelineSpec, pool2d, pool_pyramid, run_pipeline


def test_aps_is_a_pool_mode():
    assert "aps" in POOL_MODES


def test_aps_by_hand():
    x = np.array([[0, 1, 0, 2], [0, 0, 0, 0]])
    np.testing.assert_array_equal(pool2d(x, mode="aps"), [[1, 2]])
    # an odd side gets its first column again at the right: [[0, 1, 0, 0], [0, 3, 0, 0]]
    np.testing.assert_array_equal(pool2d(np.array([[0, 1, 0], [0, 3, 0]]), mode="aps"),
                                  [[3, 0]])
    # (0, 0) and (1, 1) tie: the first, (0, 0)
    assert pool2d(np.array([[1.0, 0.0], [0.0, -1.0]]), mode="aps").tolist() == [[1.0]]
    tie = np.array([[0.0, 0.0], [0.0, 0.0]])
    tie[0, 1] = tie[1, 0] = 5.0
    assert pool2d(tie, mode="aps").tolist() == [[5.0]]  # (0, 1) comes before (1, 0)


def test_aps_matches_the_plain_loop():
    rng = np.random.default_rng(40)
    for _ in range(200):
        h, w = (int(v) for v in rng.integers(2, 14, size=2))
        x = rng.normal(size=(h, w))
        out = pool2d(x, mode="aps")
        assert out.dtype == np.float32 and out.flags.c_contiguous
        np.testing.assert_array_equal(out, ref_aps(x.astype(np.float32)).astype(np.float32))


@pytest.mark.parametrize("kwargs", [{"size": 3}, {"stride": 1}, {"size": 2, "stride": 3}])
def test_aps_other_sizes_or_strides_are_refused_with_the_fix(kwargs):
    with pytest.raises(ValueError, match="use size 2 and stride 2"):
        pool2d(np.zeros((8, 8)), mode="aps", **kwargs)
    with pytest.raises(ValueError, match="use size 2 and stride 2"):
        pool_pyramid(np.zeros((8, 8)), 2, mode="aps", **kwargs)
    spec_args = {"pool_size": kwargs.get("size", 2), "pool_stride": kwargs.get("stride")}
    with pytest.raises(ValueError, match="use size 2 and stride 2"):
        PipelineSpec(pool_mode="aps", **spec_args)


def test_aps_pyramid_stops_like_max_pooling():
    shapes = [p.shape for p in pool_pyramid(np.ones((10, 7)), 6, mode="aps")]
    assert shapes == [(10, 7), (5, 4), (3, 2), (2, 1)]


def test_aps_geometry_is_the_union_of_the_four_phases():
    spec = PipelineSpec(convolve=False, pool_mode="aps", levels=3)
    result = run_pipeline(np.random.default_rng(41).random((16, 12)), spec)
    assert [s.stride for s in result] == [(1, 1), (2, 2), (4, 4), (8, 8)]
    # a level-k cell can come from any pixel of its 2^k x 2^k block
    assert result["pool 1"].receptive_field(3, 2) == (6, 4, 8, 6)
    assert result["pool 2"].receptive_field(1, 1) == (4, 4, 8, 8)
    # an odd side wraps: the last cell of a 5-row map also reads row 0, so the whole axis
    odd = run_pipeline(np.ones((5, 4)), PipelineSpec(convolve=False, pool_mode="aps", levels=1))
    assert odd["pool 1"].shape == (3, 2)
    assert odd["pool 1"].receptive_field(2, 0) == (0, 0, 5, 2)
    assert odd["pool 1"].receptive_field(1, 1) == (2, 2, 4, 4)


@st.composite
def shifted_pipeline(draw):
    levels = draw(st.integers(1, 3))
    h = 2**levels * draw(st.integers(1, 4))
    w = 2**levels * draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**32 - 1))
    dy, dx = draw(st.integers(-20, 20)), draw(st.integers(-20, 20))
    conv = draw(st.booleans())
    return levels, h, w, seed, dy, dx, conv


@settings(max_examples=60, deadline=None)
@given(case=shifted_pipeline())
def test_a_circular_shift_only_reselects_the_phase(case):
    """With circular padding and sides divisible by 2^levels, the deepest map of a shifted
    input is a circular shift of the unshifted one (random values: no norms tie)."""
    levels, h, w, seed, dy, dx, conv = case
    rng = np.random.default_rng(seed)
    x = rng.random((h, w))
    spec = PipelineSpec(kernel=rng.normal(size=(3, 3)), convolve=conv, padding="circular",
                        activation="abs", pool_mode="aps", levels=levels)
    deep = run_pipeline(x, spec)[f"pool {levels}"].array
    moved = run_pipeline(np.roll(x, (dy, dx), axis=(0, 1)), spec)[f"pool {levels}"].array
    assert moved.shape == deep.shape
    matches = [(ry, rx) for ry in range(deep.shape[0]) for rx in range(deep.shape[1])
               if np.allclose(np.roll(deep, (ry, rx), axis=(0, 1)), moved, rtol=0, atol=1e-6)]
    assert matches, "the shifted input's deepest map is no circular shift of the unshifted one"


def test_max_pooling_has_no_such_guarantee():
    x = np.zeros((8, 8))
    x[2:4, 2:4] = [[1, 0], [0, 0.5]]
    spec = PipelineSpec(convolve=False, pool_mode="max", levels=1)
    a = run_pipeline(x, spec)["pool 1"].array
    b = run_pipeline(np.roll(x, 1, axis=1), spec)["pool 1"].array
    assert not any(np.array_equal(np.roll(a, (ry, rx), (0, 1)), b)
                   for ry in range(4) for rx in range(4))
    spec = spec.replace(pool_mode="aps")
    a = run_pipeline(x, spec)["pool 1"].array
    b = run_pipeline(np.roll(x, 1, axis=1), spec)["pool 1"].array
    assert any(np.array_equal(np.roll(a, (ry, rx), (0, 1)), b)
               for ry in range(4) for rx in range(4))


def test_ties_are_reported_by_stage():
    """Drawn binary pixel art ties often: a lone lit pixel lies in one phase (no tie), a lit
    2x2 block lights all four phases alike, and a blank map ties everywhere."""
    spec = PipelineSpec(convolve=False, pool_mode="aps", levels=2)
    one = np.zeros((8, 8))
    one[2, 2] = 1
    assert run_pipeline(one, spec).aps_ties == ()
    block = np.zeros((8, 8))
    block[2:4, 2:4] = 1
    assert run_pipeline(block, spec).aps_ties == ("pool 1",)  # then a lone pixel at (1, 1)
    assert run_pipeline(np.zeros((8, 8)), spec).aps_ties == ("pool 1", "pool 2")
    rng = np.random.default_rng(42)
    assert run_pipeline(rng.random((8, 8)), spec).aps_ties == ()
    assert run_pipeline(block, spec.replace(pool_mode="max")).aps_ties == ()
