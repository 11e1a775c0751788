"""run_pipeline: the article's facts, stage geometry checked by brute force, validation."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from reference_ops import ref_argmax_order, ref_conv2d, ref_pool, ref_relu

from engine import KERNELS, PADDINGS, POOL_MODES, PipelineSpec, pool2d, run_pipeline


def lit(shape, *pixels):
    img = np.zeros(shape)
    for r, c in pixels:
        img[r, c] = 1.0
    return img


# -- the article ----------------------------------------------------------------------------

@pytest.mark.parametrize("pixel, cell", [((2, 2), (0, 0)), ((7, 7), (1, 1))])
def test_lit_pixel_after_two_max_pools(pixel, cell):
    result = run_pipeline(lit((10, 10), pixel), PipelineSpec(convolve=False, levels=2))
    assert result.names == ["input", "pool 1", "pool 2"]
    stage = result["pool 2"]
    assert stage.shape == (2, 2)
    assert stage.title == "Pool 2 (2, 2)"
    assert stage.maxima[0] == (*cell, 1.0)
    r, c = np.unravel_index(np.argmax(stage.array), stage.shape)
    assert (r, c) == cell


def test_the_two_pixels_move_closer_with_each_pool():
    spec = PipelineSpec(convolve=False, levels=3)
    a, b = run_pipeline(lit((10, 10), (2, 2)), spec), run_pipeline(lit((10, 10), (7, 7)), spec)
    distances = [abs(sa.maxima[0][0] - sb.maxima[0][0]) for sa, sb in zip(a, b, strict=True)]
    assert distances == [5, 2, 1, 0]


def test_articles_photo_pipeline_ends_six_by_nine():
    img = np.random.default_rng(30).random((400, 600)).astype(np.float32)
    result = run_pipeline(img)  # prewitt_vertical, valid, relu, 6 max pools of 2
    assert result.names == ["input", "conv"] + [f"pool {i}" for i in range(1, 7)]
    shapes = [s.shape for s in result]
    assert shapes == [(400, 600), (398, 598), (199, 299), (99, 149), (49, 74), (24, 37),
                      (12, 18), (6, 9)]
    assert result.levels_produced == 6 and result.stop_reason is None
    # against the plain reference on a crop, so the loops stay quick
    crop = img[:40, :50]
    small = run_pipeline(crop, PipelineSpec(levels=2))
    expected = ref_relu(ref_conv2d(crop, KERNELS["prewitt_vertical"]))
    np.testing.assert_allclose(small["conv"].array, expected, atol=1e-5)
    for level in (1, 2):
        expected = ref_pool(expected, 2, 2, "max")
        np.testing.assert_allclose(small[f"pool {level}"].array, expected, atol=1e-5)


def test_pooling_stops_early_and_says_why():
    result = run_pipeline(lit((10, 10), (2, 2)), PipelineSpec(convolve=False, levels=6))
    assert [s.shape for s in result] == [(10, 10), (5, 5), (2, 2), (1, 1)]
    assert result.levels_requested == 6 and result.levels_produced == 3
    assert "stopped after 3 of 6 levels" in result.stop_reason
    assert "(1, 1)" in result.stop_reason and "window 2x2" in result.stop_reason
    result = run_pipeline(np.ones((12, 12)), PipelineSpec(pool_mode="blurmax", levels=5))
    assert result.levels_produced < 5 and "reflect padding" in result.stop_reason


@pytest.mark.parametrize("mode", POOL_MODES)
@pytest.mark.parametrize("padding", PADDINGS)
def test_every_stage_matches_the_reference(padding, mode):
    rng = np.random.default_rng(31)
    img = rng.normal(size=(23, 19))
    kernel = rng.normal(size=(3, 2))
    spec = PipelineSpec(kernel=kernel, padding=padding, stride=2, activation="abs",
                        pool_mode=mode, pool_size=2, pool_stride=2, levels=2, blur_size=3)
    result = run_pipeline(img, spec, top_k=3)
    expected = np.abs(ref_conv2d(img, kernel, padding, 2))
    np.testing.assert_allclose(result["conv"].array, expected, rtol=1e-5, atol=1e-5)
    for level in (1, 2):
        expected = ref_pool(expected, 2, 2, mode, 3)
        stage = result[f"pool {level}"]
        np.testing.assert_allclose(stage.array, expected, rtol=1e-5, atol=1e-5)
        assert stage.maxima == find_top(stage.array, 3)


def find_top(arr, k):
    return ref_argmax_order(arr)[:k]


def test_stage_arrays_are_read_only_and_maxima_follow_top_k():
    result = run_pipeline(np.random.default_rng(32).random((20, 20)), top_k=4)
    for stage in result:
        assert not stage.array.flags.writeable
        assert stage.maxima == find_top(stage.array, 4)
        assert stage.array.dtype == np.float32


def test_strides_and_display_rect():
    spec = PipelineSpec(kernel=np.ones((3, 3)), padding="valid", stride=2, levels=2)
    result = run_pipeline(np.zeros((40, 50)), spec)
    assert [s.stride for s in result] == [(1, 1), (2, 2), (4, 4), (8, 8)]
    x, y, w, h = result["pool 2"].display_rect()
    rows, cols = result["pool 2"].shape
    assert (w, h) == (cols * 8, rows * 8)
    # every cell's square is centred on its receptive field
    top, left, bottom, right = result["pool 2"].receptive_field(0, 0)
    assert (x + 4, y + 4) == ((left + right - 1) / 2 + 0.5, (top + bottom - 1) / 2 + 0.5)


# -- geometry against brute force ---------------------------------------------------------

GEOMETRY_SPECS = [
    PipelineSpec(kernel=np.ones((3, 2)), padding=p, stride=s, activation="none", pool_mode=m,
                 pool_size=ps, pool_stride=pst, levels=2, blur_size=b)
    for p, s, m, ps, pst, b in [
        ("valid", 1, "max", 2, None, 4), ("same", 2, "avg", 3, 2, 4),
        ("circular", 1, "max", 2, None, 4), ("reflect", 1, "blurmax", 2, 2, 4),
        ("replicate", 2, "blur", 2, 2, 3), ("circular", 2, "blurmax", 3, 1, 2),
        ("reflect", 1, "max", 3, 3, 4), ("same", 1, "blur", 2, 2, 4),
    ]
]


def downstream(result, s, array):
    """Stage arrays after stage `s` when stage `s` holds `array` (a perturbed copy)."""
    spec = result.spec
    out = {s: array}
    for t in range(s + 1, len(result.stages)):
        out[t] = pool2d(out[t - 1], size=spec.pool_size, stride=spec.effective_pool_stride,
                        mode=spec.pool_mode, blur_size=spec.blur_size)
    return out


def dependencies(img, spec, seed):
    """For every stage s and cell a, the cells of later stages that change when a changes.

    Yields ``(s, a, t, b)``. The kernel is random with mixed signs so that a change can
    cancel nowhere systematically; each cell is pushed both ways by a large amount.
    """
    rng = np.random.default_rng(seed)
    kh, kw = np.array(spec.kernel).shape
    spec = spec.replace(kernel=rng.normal(size=(kh, kw)))
    base = run_pipeline(img, spec, top_k=1)
    for s, stage in enumerate(base.stages):
        for a in itertools.product(range(stage.shape[0]), range(stage.shape[1])):
            for delta in (60.0, -60.0):
                arr = stage.array.copy()
                arr[a] += delta
                if s == 0:
                    changed = {t: st.array for t, st in enumerate(run_pipeline(arr, spec,
                                                                                top_k=1))}
                else:
                    changed = downstream(base, s, arr)
                for t in range(s + 1, len(base.stages)):
                    for b in map(tuple, np.argwhere(changed[t] != base.stages[t].array)):
                        yield base, s, a, t, b


def inside(cell, rect):
    r0, c0, r1, c1 = rect
    return r0 <= cell[0] < r1 and c0 <= cell[1] < c1


@pytest.mark.parametrize("spec", GEOMETRY_SPECS, ids=lambda s: f"{s.padding}-{s.pool_mode}")
def test_receptive_fields_and_related_cells_hold_every_dependency(spec):
    img = np.random.default_rng(33).normal(size=(13, 11))
    found = 0
    for base, s, a, t, b in dependencies(img, spec, seed=34):
        found += 1
        related_b = base.related_cells(t, *b)
        related_a = base.related_cells(s, *a)
        assert inside(a, related_b[s]), (s, a, t, b, related_b[s])
        assert inside(b, related_a[t]), (s, a, t, b, related_a[t])
        if s == 0:
            top, left, bottom, right = base.stages[t].receptive_field(*b)
            assert inside(a, (top, left, bottom, right))
            assert inside(b, base.stages[t].cells_reading(a[0], a[1], a[0] + 1, a[1] + 1))
    assert found > 100


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_receptive_field_is_exact_for_positive_kernels(padding, mode):
    # With a positive kernel, no activation and zero padding, every pixel inside the field
    # can change the cell, so the bounding box of the changing pixels is the field itself.
    img = np.random.default_rng(35).random((14, 12))
    spec = PipelineSpec(kernel=np.full((3, 2), 0.5), padding=padding, activation="none",
                        pool_mode=mode, pool_size=2, levels=2)
    base = run_pipeline(img, spec)
    boxes: dict = {}
    for p in itertools.product(range(14), range(12)):
        x = img.copy()
        x[p] += 50.0
        res = run_pipeline(x, spec)
        for t in range(1, len(res.stages)):
            for b in map(tuple, np.argwhere(res.stages[t].array != base.stages[t].array)):
                r0, c0, r1, c1 = boxes.get((t, b), (99, 99, -1, -1))
                boxes[(t, b)] = (min(r0, p[0]), min(c0, p[1]), max(r1, p[0] + 1),
                                 max(c1, p[1] + 1))
    for t, stage in enumerate(base.stages[1:], start=1):
        for b in itertools.product(range(stage.shape[0]), range(stage.shape[1])):
            top, left, bottom, right = stage.receptive_field(*b)
            assert boxes[(t, b)] == (top, left, bottom, right)
            related = base.related_cells(t, *b)[0]
            assert related == (top, left, bottom, right)


def test_circular_border_cell_reads_the_far_side():
    result = run_pipeline(np.zeros((8, 8)), PipelineSpec(padding="circular", levels=0))
    assert result["conv"].receptive_field(0, 3) == (0, 2, 8, 5)  # rows wrap: the whole axis
    assert result["conv"].receptive_field(3, 3) == (2, 2, 5, 5)


def test_related_cells_of_the_article_pixel():
    result = run_pipeline(lit((10, 10), (2, 2)), PipelineSpec(convolve=False, levels=2))
    related = result.related_cells(0, 2, 2)
    assert related == {0: (2, 2, 3, 3), 1: (1, 1, 2, 2), 2: (0, 0, 1, 1)}
    assert result.related_cells(2, 1, 1)[0] == (4, 4, 8, 8)
    with pytest.raises(ValueError, match=r"cell \(2, 0\) is outside stage 'pool 2'"):
        result.related_cells(2, 2, 0)
    with pytest.raises(ValueError, match="outside"):
        result["pool 1"].receptive_field(-1, 0)


# -- the spec and validation ---------------------------------------------------------------

def test_spec_is_frozen_and_round_trips():
    spec = PipelineSpec(kernel=[[1, 2], [3, 4]], levels=3)
    assert spec.kernel == ((1.0, 2.0), (3.0, 4.0)) and spec.kernel_name == "custom"
    np.testing.assert_array_equal(spec.kernel_array, [[1, 2], [3, 4]])
    assert spec.replace(levels=1).levels == 1 and spec.levels == 3
    assert PipelineSpec(**spec.to_dict()) == spec
    assert hash(spec) == hash(PipelineSpec(**spec.to_dict()))
    with pytest.raises(AttributeError):
        spec.levels = 2
    named = PipelineSpec()
    assert named.kernel_name == "prewitt_vertical" and named.effective_pool_stride == 2
    named.kernel_array[0, 0] = 99.0  # a copy: the shared kernel is untouched
    assert KERNELS["prewitt_vertical"][0, 0] == -1.0


@pytest.mark.parametrize("changes, words", [
    ({"padding": "zeros"}, "unknown padding 'zeros'"),
    ({"activation": "tanh"}, "unknown activation 'tanh'"),
    ({"pool_mode": "median"}, "unknown pool_mode 'median'"),
    ({"kernel": "sobel"}, "unknown kernel 'sobel'"),
    ({"kernel": [[]]}, "kernel is empty"),
    ({"kernel": [1.0, 2.0]}, "kernel must be 2-D"),
    ({"kernel": [[np.nan]]}, "kernel holds"),
    ({"stride": 0}, "stride must be within 1..8"),
    ({"pool_size": 0}, "pool_size must be within 1..8"),
    ({"pool_stride": 0}, "pool_stride must be within 1..8"),
    ({"blur_size": -1}, "blur_size must be within 1..7"),
    ({"levels": -1}, "levels must be within 0..12"),
    # the bounds the window's controls have, so no flag or session runs out of memory
    ({"levels": 1_000_000_000}, "levels must be within 0..12"),
    ({"levels": 2**31}, "levels must be within 0..12"),
    ({"pool_size": 2**40}, "pool_size must be within 1..8"),
    ({"stride": 9}, "stride must be within 1..8"),
    ({"levels": 1.5}, "levels must be an integer within 0..12"),
    ({"kernel": np.ones((8, 3))}, "kernel is 8x3; the largest is 7x7"),
])
def test_bad_specs_are_refused_by_name(changes, words):
    with pytest.raises(ValueError, match=words):
        PipelineSpec(**changes)
    with pytest.raises(ValueError, match=words):
        PipelineSpec().replace(**changes)


@pytest.mark.parametrize("bad, words", [
    (np.zeros(9), "image must be a 2-D array"),
    (np.zeros((3, 3, 3)), "image must be a 2-D array"),
    (np.zeros((0, 5)), "image is empty"),
    (np.array([[0.0, np.nan], [0.0, 0.0]]), "image holds 1 NaN"),
    (np.array([[0.0, np.inf], [0.0, 0.0]]), "image holds 1 NaN or infinite"),
])
def test_bad_images_are_refused_naming_image(bad, words):
    with pytest.raises(ValueError, match=words):
        run_pipeline(bad)


def test_kernel_larger_than_the_image_and_bad_top_k():
    with pytest.raises(ValueError, match=r"kernel \(3, 3\) is larger than the padded input"):
        run_pipeline(np.ones((2, 5)))
    run_pipeline(np.ones((2, 5)), PipelineSpec(padding="same"))  # fine when padded
    with pytest.raises(ValueError, match="reflect padding"):
        run_pipeline(np.ones((1, 5)), PipelineSpec(padding="reflect"))
    for top_k in (0, -1, 1.0):
        with pytest.raises(ValueError, match="top_k must be"):
            run_pipeline(np.ones((4, 4)), top_k=top_k)


@pytest.mark.parametrize("spec", [
    PipelineSpec(), PipelineSpec(convolve=False, pool_size=1, pool_stride=1, levels=2),
    PipelineSpec(convolve=False, levels=0), PipelineSpec(padding="reflect", pool_mode="blur"),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_the_image_is_never_modified_nor_shared(spec, dtype):
    img = (np.random.default_rng(36).random((20, 24)) * 200).astype(dtype)
    before = img.copy()
    result = run_pipeline(img, spec)
    assert np.array_equal(img, before)
    assert img.flags.writeable
    assert not any(np.shares_memory(stage.array, img) for stage in result)
    img[...] = 0  # editing the image afterwards leaves the result alone
    np.testing.assert_array_equal(result["input"].array, before.astype(np.float32))
    before.setflags(write=False)
    again = run_pipeline(before, spec)
    for s1, s2 in zip(result, again, strict=True):
        np.testing.assert_array_equal(s1.array, s2.array)


def test_a_memory_mapped_image_is_copied(tmp_path):
    img = np.memmap(tmp_path / "pixels.f32", dtype=np.float32, mode="w+", shape=(12, 14))
    img[:] = np.random.default_rng(37).random((12, 14))
    before = np.array(img)
    result = run_pipeline(img, PipelineSpec(levels=1))
    img[:] = 0.0
    img.flush()
    np.testing.assert_array_equal(result["input"].array, before)
    assert result["input"].maxima == find_top(before, 5)


def test_spec_must_be_a_pipeline_spec():
    with pytest.raises(ValueError, match="spec must be a PipelineSpec"):
        run_pipeline(np.ones((8, 8)), {"levels": 2})


@pytest.mark.parametrize("value", [1e38, -2e6, 1e39, 3.5e38])
def test_a_kernel_that_would_overflow_is_refused_by_the_spec(value):
    # One check for the window, the command line and sessions: the spec refuses it, and
    # the message names the cell, where a 1e38 kernel used to run into inf and NaN maps.
    with pytest.raises(ValueError, match=r"row 1, column 2 is beyond ±1e\+06"):
        PipelineSpec(kernel=[[0.0, value], [1.0, 1.0]])
    limit = PipelineSpec(kernel=[[1e6] * 7] * 7, padding="same", levels=1)
    result = run_pipeline(np.ones((16, 16), np.float32), limit)
    assert all(np.isfinite(s.array).all() for s in result)


def test_top_k_is_bounded_like_the_window():
    image = np.zeros((8, 8), np.float32)
    assert len(run_pipeline(image, PipelineSpec(levels=0), top_k=50)["input"].maxima) == 50
    with pytest.raises(ValueError, match="top_k must be within 1..50; got 1000000000"):
        run_pipeline(image, PipelineSpec(levels=0), top_k=1_000_000_000)
