"""The facts a comparison and the panels read, computed once and by shortcuts (recorded
extremes and largest cells, mirrors written into one buffer, the input's known transform
error, block reductions on two threads, recycled maps), against plain computations."""

from __future__ import annotations

import weakref

import numpy as np
import pytest

from engine import (
    CompareSetup,
    InputImage,
    InputTransform,
    PipelineSpec,
    ViewState,
    run_pipeline,
    run_state,
)
from engine import display as display_module
from engine import pipeline as pipeline_module
from engine.compare import compare_results, leading_cells
from engine.comparison import Differences, compare_runs, transform_error_notes
from engine.display import block_starts, reduce_to, stage_ranges, value_range
from engine.fused import Recycler
from engine.maxima import LEADING_CELLS, find_maxima, is_near_tie


def photo(shape: tuple[int, int], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.random(shape).astype(np.float32)


def plain_norm(x: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(x, np.float64)))


SPECS = [PipelineSpec(levels=3), PipelineSpec(levels=2, padding="same"),
         PipelineSpec(levels=2, pool_mode="blurmax"), PipelineSpec(convolve=False, levels=2),
         PipelineSpec(kernel="laplacian", activation="none", levels=2)]


@pytest.mark.parametrize("spec", SPECS)
def test_recorded_extremes_and_largest_cells_are_the_arrays_own(monkeypatch, spec):
    image = photo((67, 91))
    image[5, 7] = image.max()  # a tie for the largest input cell
    result = run_pipeline(image, spec, top_k=3)
    for stage in result.stages:
        arr = np.asarray(stage.array)
        if stage.extremes is not None:
            assert stage.extremes == (float(arr.min()), float(arr.max()))
        assert list(stage.leading) in ([], find_maxima(arr, LEADING_CELLS))
        assert stage.maxima == find_maxima(arr, 3)
        peak = np.unravel_index(int(np.argmax(arr)), arr.shape)
        assert leading_cells(stage)[0][:2] == (int(peak[0]), int(peak[1]))
    # the article's banded pipeline (a large input's) records the facts of its two
    # large stages
    monkeypatch.setattr(pipeline_module, "BANDED_CELLS", 0)
    banded = run_pipeline(image, PipelineSpec(levels=3))
    for name in ("input", "conv"):
        assert banded[name].extremes is not None and len(banded[name].leading) == LEADING_CELLS
    assert len(run_pipeline(image, spec, top_k=12)["input"].leading) == LEADING_CELLS


def test_stage_ranges_read_from_extremes_equal_ranges_measured_on_the_arrays():
    a = run_pipeline(photo((40, 52), 1), PipelineSpec(levels=3))
    b = run_pipeline(photo((40, 52), 2) * 3 - 1, PipelineSpec(levels=3))
    for shared in (False, True):
        got = stage_ranges([a, b], shared)
        plain = {}
        for stage in a.stages:
            both = [value_range(np.ascontiguousarray(r[stage.name].array)) for r in (a, b)]
            plain[stage.name] = (min(lo for lo, _ in both), max(hi for _, hi in both))
        plain["input"] = (min(0.0, plain["input"][0]), max(1.0, plain["input"][1]))
        if shared:
            names = [n for n in plain if n != "input"]
            common = (min(plain[n][0] for n in names), max(plain[n][1] for n in names))
            plain.update({n: common for n in names})
        assert got == plain


@pytest.mark.parametrize("kind, axis", [("mirror", 1), ("flip", 0)])
@pytest.mark.parametrize("mirror_kernel", [False, True])
def test_mirror_errors_match_an_explicit_flip_and_a_float64_norm(kind, axis, mirror_kernel):
    image = photo((83, 117), 3)
    setup = CompareSetup(InputTransform(kind), mirror_kernel=mirror_kernel)
    state = ViewState(InputImage(image), PipelineSpec(levels=4), setup)
    run = run_state(state)
    a, b = run.a, run.b
    np.testing.assert_array_equal(b["input"].array, np.flip(image, axis))
    for comp in run.comparison.stages:
        fa, fb = a[comp.name].array, b[comp.name].array
        expected = np.flip(np.asarray(fa, np.float64), axis)
        want = plain_norm(fb - expected) / plain_norm(fa)
        assert comp.equivariance_error == pytest.approx(want, rel=1e-5, abs=1e-9)
    # the shortcut for the input (B made from A here) and the buffer agree with the
    # transform of every stage made anew, value for value
    anew = [(None if e is None else float(e), n) for e, n in
            transform_error_notes(a, b, InputTransform(kind))]
    assert [(c.equivariance_error, c.error_note) for c in run.comparison.stages] == anew
    if mirror_kernel:
        assert run.comparison.stages[1].equivariance_error < 1e-6  # the mirror commutes


def test_an_all_zero_input_made_into_b_has_an_undefined_error_either_way():
    zero = np.zeros((20, 24), np.float32)
    state = ViewState(InputImage(zero), PipelineSpec(levels=2),
                      CompareSetup(InputTransform("rotate")))
    run = run_state(state)
    first = run.comparison.stages[0]
    assert (first.equivariance_error, first.error_note) == (None, "both maps are zero")
    assert transform_error_notes(run.a, run.b, InputTransform("rotate"))[0] == \
        (None, "both maps are zero")


def test_a_b_given_by_the_caller_is_measured_not_assumed():
    image = photo((30, 40), 4)
    other = photo((30, 40), 5)
    state = ViewState(InputImage(image), PipelineSpec(levels=2),
                      CompareSetup(InputTransform("mirror")))
    b = run_pipeline(other, state.spec_b)
    run = run_state(state, results={"B": b})
    want = plain_norm(other - image[:, ::-1]) / plain_norm(image)
    assert run.comparison.stages[0].equivariance_error == pytest.approx(want, rel=1e-6)


def test_comparison_facts_match_plain_peaks_near_ties_and_distances():
    a = run_pipeline(photo((50, 64), 6), PipelineSpec(levels=3))
    b = run_pipeline(photo((44, 70), 7), PipelineSpec(levels=3))
    flat = photo((50, 64), 6)
    flat[:] = 0.5  # every cell ties
    c = run_pipeline(flat, PipelineSpec(convolve=False, levels=1))
    for x, y in ((a, b), (a, a), (c, c)):
        for comp in compare_results(x, y):
            fa, fb = np.asarray(x[comp.name].array), np.asarray(y[comp.name].array)
            for arr, peak, tie in ((fa, comp.peak_a, comp.near_tie_a),
                                   (fb, comp.peak_b, comp.near_tie_b)):
                assert peak == tuple(int(v) for v in np.unravel_index(np.argmax(arr),
                                                                      arr.shape))
                assert tie == is_near_tie(arr)
            rows, cols = comp.compared_shape
            da, db = fa[:rows, :cols], fb[:rows, :cols]
            scale = max(plain_norm(da), plain_norm(db))
            if scale == 0:
                assert comp.both_zero
            else:
                assert comp.distance == pytest.approx(plain_norm(da - db) / scale, abs=1e-6)


def test_differences_are_taken_once_when_read():
    a = run_pipeline(photo((30, 36), 8), PipelineSpec(levels=2))
    b = run_pipeline(photo((28, 40), 9), PipelineSpec(levels=2))
    stages, differences = compare_runs(a, b, None)
    assert isinstance(differences, Differences)
    assert list(differences) == [s.name for s in stages] and len(differences) == len(stages)
    assert "conv" in differences and "pool 9" not in differences
    assert differences._taken == {}  # nothing taken before it is read
    for comp in stages:
        rows, cols = comp.compared_shape
        first = differences[comp.name]
        np.testing.assert_array_equal(first, a[comp.name].array[:rows, :cols]
                                      - b[comp.name].array[:rows, :cols])
        assert differences[comp.name] is first
    with pytest.raises(KeyError):
        differences["pool 9"]


def test_image_b_is_made_once_and_is_b_s_input_stage():
    state = ViewState(InputImage(photo((20, 30), 10)), PipelineSpec(levels=2),
                      CompareSetup(InputTransform("mirror")))
    pixels = state.image_b()
    assert state.image_b() is pixels and not pixels.flags.writeable
    assert run_state(state).b["input"].array is pixels


def plain_blocks(arr: np.ndarray, rows: int, cols: int, fn) -> np.ndarray:
    """Per block of :func:`block_starts` on each side, `fn` of its cells, by a loop."""
    rs = [*block_starts(arr.shape[0], rows).tolist(), arr.shape[0]]
    cs = [*block_starts(arr.shape[1], cols).tolist(), arr.shape[1]]
    out = np.empty((rows, cols), np.float32)
    for i in range(rows):
        for j in range(cols):
            out[i, j] = fn(arr[rs[i]:rs[i + 1], cs[j]:cs[j + 1]])
    return out


def test_block_starts_cut_whole_steps_and_share_them_out_evenly():
    for size in range(1, 120):
        for n in range(1, size + 1):
            starts = block_starts(size, n).tolist()
            assert starts[0] == 0 and len(starts) == n
            assert all(np.diff(starts) > 0)
            step = size // n
            if step > 1:  # every block but the last is a whole number of steps
                assert all(s % step == 0 for s in starts)
                widths = np.diff([*starts, (size // step) * step])
                assert widths.max() - widths.min() <= step


@pytest.mark.parametrize("shape, target", [((301, 457), (40, 50)), ((97, 1000), (96, 7)),
                                           ((64, 64), (64, 3)), ((5, 900), (2, 450))])
def test_block_reductions_equal_a_plain_loop_on_one_and_two_threads(monkeypatch, shape,
                                                                    target):
    arr = np.random.default_rng(11).standard_normal((shape[0], shape[1] + 5))
    arr = arr.astype(np.float32)[:, :shape[1]]  # rows padded, as the conv stage's are
    rows, cols = target
    high = plain_blocks(arr, rows, cols, np.max)
    low = plain_blocks(arr, rows, cols, np.min)
    magnitude = np.where(np.abs(high) >= np.abs(low), high, low)
    for parallel, chunk in ((1 << 30, 1 << 20), (1, 4096)):
        monkeypatch.setattr(display_module, "PARALLEL_REDUCE_CELLS", parallel)
        monkeypatch.setattr(display_module, "REDUCE_CHUNK_BYTES", chunk)
        np.testing.assert_array_equal(reduce_to(arr, cols, rows, "max"), high)
        np.testing.assert_array_equal(reduce_to(arr, cols, rows, "largest magnitude"),
                                      magnitude)


def test_the_recycler_hands_out_an_array_only_once_nobody_holds_it():
    recycler = Recycler(max_bytes=1 << 30, min_bytes=1 << 10)
    assert recycler.empty((64, 64)) is not recycler.empty((64, 64))  # not active: new
    with recycler.active():
        first = recycler.empty((64, 64))
        first[:] = 1.0
        first.setflags(write=False)
        view = first[:10, :10]
        memory, seen = weakref.ref(first.base), weakref.ref(first)
        del first
        assert seen() is None  # what was handed out is a view of its own
        second = recycler.empty((64, 64))  # a view still holds the first
        assert second.base is not memory() and second.flags.writeable
        del view
        third = recycler.empty((64, 64))
        assert third.base is memory() and third.flags.writeable  # free again: handed out
        small = recycler.empty((8, 8))  # below min_bytes: new, not kept
        kept_small = weakref.ref(small)
        unused = recycler.empty((32, 64))
        kept_unused = weakref.ref(unused.base)
        del small, unused
        assert kept_small() is None and kept_unused() is not None
        held = {id(second.base), id(third.base)}
        del second, third
    assert kept_unused() is not None  # used in the block: kept for the next
    with recycler.active():
        again = recycler.empty((64, 64))
        assert id(again.base) in held
    assert kept_unused() is None  # a block that did not use it forgot it


def test_a_shown_result_keeps_its_maps_while_the_next_jobs_recycle():
    from engine.fused import RECYCLER

    spec = PipelineSpec(levels=3)
    setup = CompareSetup(InputTransform("mirror"))
    images = [photo((1200, 900), seed) for seed in (20, 21, 22, 23)]
    with RECYCLER.active():
        shown = run_state(ViewState(InputImage(images[0]), spec, setup))
    expected = [run_pipeline(images[0], spec), run_pipeline(images[0][:, ::-1], spec)]
    dropped: list[weakref.ref] = []
    for image in images[1:]:
        with RECYCLER.active():
            newer = run_state(ViewState(InputImage(image), spec, setup))
        for result, want in zip((shown.a, shown.b), expected, strict=True):
            for got, ref in zip(result.stages, want.stages, strict=True):
                np.testing.assert_array_equal(got.array, ref.array)
        dropped += [weakref.ref(newer.a["conv"].array.base),
                    weakref.ref(newer.b["conv"].array.base), weakref.ref(newer.b["input"].array)]
        del newer  # dropped: its maps go to the next job
    with RECYCLER.active():
        last = run_state(ViewState(InputImage(images[0]), spec, setup))
    # the dropped runs' memory, reused
    assert any(ref() is last.a["conv"].array.base for ref in dropped)
    for result, want in zip((last.a, last.b), expected, strict=True):
        for got, ref in zip(result.stages, want.stages, strict=True):
            np.testing.assert_array_equal(got.array, ref.array)


@pytest.mark.parametrize("rows", [1501, 1500, 3])
@pytest.mark.parametrize("axis", [0, 1])
def test_a_large_map_is_flipped_in_two_halves_like_np_flip(rows, axis):
    from engine.fused import flip_into

    src = np.random.default_rng(rows).random((rows, 1003)).astype(np.float32)[:, :1000]
    dst = np.full((rows, 1000), np.nan, np.float32)
    assert flip_into(src, axis, dst) is dst
    np.testing.assert_array_equal(dst, np.flip(src, axis))


def test_norms_measured_together_on_two_threads_are_those_measured_one_by_one():
    from engine.compare import Norms, l2_norm

    rng = np.random.default_rng(30)
    maps = [rng.random((1500, 1001)).astype(np.float32)[:, :1000] for _ in range(3)]
    maps.append(rng.random((40, 30)).astype(np.float32))
    norms = Norms()
    norms.measure(maps, [(maps[0], maps[1]), (maps[2], maps[0])])
    for arr in maps:
        assert norms(arr) == l2_norm(arr)
        assert norms(arr) == pytest.approx(plain_norm(arr), rel=1e-6)
    assert norms.relative(maps[0], maps[1]) == \
        l2_norm(maps[0], maps[1]) / max(l2_norm(maps[0]), l2_norm(maps[1]))
    assert norms.relative(maps[2], maps[0], 2.0) == l2_norm(maps[2], maps[0]) / 2.0


@pytest.mark.parametrize("shape, target", [((3001, 1207), (150, 60)), ((1500, 1400), (99, 100))])
def test_an_area_reduction_in_two_halves_equals_one_resize_and_a_plain_mean(shape, target):
    import cv2

    arr = np.random.default_rng(40).random((shape[0], shape[1] + 2)).astype(np.float32)
    arr = arr[:, :shape[1]]
    rows, cols = target
    step = min(shape[0] // rows, shape[1] // cols)
    h, w = shape[0] // step, shape[1] // step
    whole = cv2.resize(arr[:h * step, :w * step], (w, h), interpolation=cv2.INTER_AREA)
    want = cv2.resize(whole, (cols, rows), interpolation=cv2.INTER_AREA) \
        if (h, w) != (rows, cols) else whole
    got = reduce_to(arr, cols, rows, "area")
    np.testing.assert_array_equal(got, want)
    means = arr[:h * step, :w * step].astype(np.float64).reshape(h, step, w, step).mean((1, 3))
    np.testing.assert_allclose(whole, means, rtol=1e-5, atol=1e-6)
