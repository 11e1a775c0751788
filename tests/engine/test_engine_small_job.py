"""The shortcuts that make the job of a dragged pixel on a small canvas cheap, each against
a plain computation: the largest cells of small and large maps (with and without their
row maxima), small inputs run stage by stage instead of in bands, a shift's transform
error written into one buffer, and the near-tie warning read from recorded cells."""

from __future__ import annotations

import numpy as np
import pytest
from reference_ops import ref_argmax_order

import engine.pipeline as pipeline_module
from engine import (
    CompareSetup,
    InputImage,
    InputTransform,
    PipelineSpec,
    ViewState,
    run_pipeline,
    run_state,
)
from engine.comparison import transform_error_notes
from engine.describe import NEAR_TIE_TITLE, describe
from engine.maxima import LEADING_CELLS, SMALL_MAP_CELLS, is_near_tie, maxima_unchecked
from engine.transforms import translate_unchecked


def plain_largest(x: np.ndarray, count: int) -> list[tuple[int, int, float]]:
    """The `count` largest cells, largest first, ties in row-major order, by sorting all."""
    return ref_argmax_order(np.ascontiguousarray(x))[:count]


def fills(shape: tuple[int, int], seed: int) -> dict[str, np.ndarray]:
    """Maps of `shape` that exercise the searches: distinct values, one lit cell in zeros
    (ties at the cut), a few levels (ties everywhere), signed zeros, a constant."""
    rng = np.random.default_rng(seed)
    lit = np.zeros(shape, np.float32)
    lit[shape[0] // 3, shape[1] // 2] = 1.0
    levels = rng.integers(0, 3, shape).astype(np.float32)
    signed_zeros = np.where(rng.random(shape) < 0.5, np.float32(-0.0), np.float32(0.0))
    signed_zeros[-1, -1] = -1.0
    return {"random": rng.random(shape, np.float32), "one lit": lit, "levels": levels,
            "signed zeros": signed_zeros.astype(np.float32),
            "constant": np.full(shape, 2.0, np.float32)}


# tiny, small (both sides of SMALL_MAP_CELLS), searched by rows, and few rows for many cells
SHAPES = [(1, 1), (3, 5), (16, 16), (17, 16), (32, 32), (33, 32), (62, 62), (45, 131),
          (3, 700)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("count", [1, 3, LEADING_CELLS, 12])
def test_largest_cells_on_every_path_equal_a_sort_of_all_cells(shape, count):
    for kind, x in fills(shape, 7).items():
        want = plain_largest(x, count)
        got = maxima_unchecked(x, count)
        assert got == want, kind
        # entries are plain numbers, and signed zeros keep their sign
        for (_, _, v), (_, _, w) in zip(got, want, strict=True):
            assert type(v) is float and np.signbit(v) == np.signbit(w)
        # with the row maxima given, and from a map whose rows are padded (a view)
        padded = np.zeros((shape[0], shape[1] + 3), np.float32)
        padded[:, :shape[1]] = x
        view = padded[:, :shape[1]]
        assert maxima_unchecked(view, count, view.max(axis=1)) == want, kind
        assert maxima_unchecked(view, count) == want, kind
    assert (16 * 16 <= SMALL_MAP_CELLS < 33 * 32), "the shapes no longer straddle the cut"


def test_many_rows_tied_at_the_cut_take_the_first_cells_in_row_major_order():
    x = np.zeros((300, 40), np.float32)
    x[250, 3] = 5.0  # one cell above a map of equal values: the rest are ties
    x[200, 39] = 4.0
    x[17, 5] = x[299, 0] = 1.0  # later rows hold larger ties than the earliest zeros
    want = plain_largest(x, LEADING_CELLS)
    assert maxima_unchecked(x, LEADING_CELLS) == want
    assert want[:4] == [(250, 3, 5.0), (200, 39, 4.0), (17, 5, 1.0), (299, 0, 1.0)]
    assert want[4:] == [(0, c, 0.0) for c in range(LEADING_CELLS - 4)]


SMALL_SPECS = [PipelineSpec(levels=6), PipelineSpec(levels=3, padding="same"),
               PipelineSpec(levels=3, pool_mode="avg", activation="abs"),
               PipelineSpec(levels=2, padding="circular", kernel="laplacian")]


@pytest.mark.parametrize("spec", SMALL_SPECS)
@pytest.mark.parametrize("shape", [(64, 64), (37, 90)])
def test_a_small_input_run_stage_by_stage_equals_the_banded_run(monkeypatch, spec, shape):
    image = np.random.default_rng(3).random(shape, np.float32)
    image[5:9, 11] = 1.0  # ties among the largest input cells
    staged = run_pipeline(image, spec, top_k=4)
    monkeypatch.setattr(pipeline_module, "BANDED_CELLS", 0)
    bands = run_pipeline(image, spec, top_k=4)
    assert staged.names == bands.names
    for a, b in zip(staged.stages, bands.stages, strict=True):
        assert a.array.dtype == np.float32 and not a.array.flags.writeable
        assert np.array_equal(a.array, b.array), a.name
        assert a.maxima == b.maxima == plain_largest(a.array, 4), a.name
        assert a.leading == b.leading, a.name
        assert list(a.leading) == plain_largest(a.array, LEADING_CELLS), a.name
        assert a.geometry == b.geometry
    assert image[5, 11] == 1.0  # the caller's image is not the input stage
    assert not np.shares_memory(staged["input"].array, image)


@pytest.mark.parametrize("transform", [
    InputTransform("shift", dy=3, dx=5), InputTransform("shift", dy=-4, dx=8),
    InputTransform("shift", dy=2, dx=-6, wrap=False), InputTransform("shift", dy=40, dx=0,
                                                                        wrap=False)])
def test_shift_errors_written_into_one_buffer_equal_np_roll_and_a_float64_norm(transform):
    spec = PipelineSpec(levels=3)
    a = np.random.default_rng(4).random((36, 44), np.float32)
    b = translate_unchecked(a, transform.dy, transform.dx, transform.wrap)
    run_a, run_b = run_pipeline(a, spec), run_pipeline(b, spec)
    notes = transform_error_notes(run_a, run_b, transform)
    for stage, (error, note) in zip(run_a.stages, notes, strict=True):
        sy, sx = stage.stride
        if transform.dy % sy or transform.dx % sx:
            assert error is None and note.startswith("shift not a multiple"), stage.name
            continue
        moved = translate_unchecked(np.ascontiguousarray(stage.array), transform.dy // sy,
                                    transform.dx // sx, transform.wrap)
        diff = np.asarray(run_b[stage.name].array, np.float64) - moved
        plain = np.linalg.norm(diff) / np.linalg.norm(np.asarray(stage.array, np.float64))
        assert note is None and error == pytest.approx(plain, rel=1e-5, abs=1e-7), stage.name
    # the conv stage (padded rows) moved exactly as np.roll moves it: a run compared with
    # itself moved by whole cells has error 0 wherever the move is defined
    same = transform_error_notes(run_a, run_a, InputTransform("shift", dy=0, dx=0))
    assert [e for e, _ in same] == [0.0] * len(run_a.stages)


def near_tie_map(seed: int) -> np.ndarray:
    image = np.zeros((70, 70), np.float32)
    rng = np.random.default_rng(seed)
    for _ in range(3):
        image[rng.integers(2, 68), rng.integers(2, 68)] = rng.choice([1.0, 0.996, 0.9])
    return image


@pytest.mark.parametrize("spec", [PipelineSpec(convolve=False, levels=3),
                                  PipelineSpec(levels=4)])
@pytest.mark.parametrize("seed", range(6))
def test_the_one_row_description_reads_recorded_cells_and_says_what_a_full_scan_says(seed,
                                                                                     spec):
    state = ViewState(InputImage(near_tie_map(seed)), spec)
    run = run_state(state)
    assert all(len(s.leading) == min(LEADING_CELLS, s.array.size) for s in run.a.stages)
    flagged = [s.name for s in run.a.stages
               if s.maxima and s.maxima[0][2] > 0 and is_near_tie(s.array)]
    text = describe(state, run)
    if flagged:
        assert text[NEAR_TIE_TITLE].text.startswith(f"At {', '.join(flagged)} another")
    else:
        assert NEAR_TIE_TITLE not in text
    # a run that recorded no cells is described by a scan of its maps, alike
    bare = run_state(state)
    for stage in bare.a.stages:
        object.__setattr__(stage, "leading", ())
    assert describe(state, bare) == text


def test_some_seed_warns_and_some_does_not():
    spec = PipelineSpec(convolve=False, levels=3)
    states = [ViewState(InputImage(near_tie_map(seed)), spec) for seed in range(6)]
    said = {NEAR_TIE_TITLE in describe(s, run_state(s)) for s in states}
    assert said == {True, False}


def test_a_compared_drag_job_keeps_its_numbers_against_plain_peaks_and_norms():
    image = np.zeros((64, 64), np.float32)
    image[16, 20] = 1.0
    setup = CompareSetup(InputTransform("shift", dy=3, dx=5))
    run = run_state(ViewState(InputImage(image), PipelineSpec(levels=6), setup))
    comparison = run.comparison
    for comp in comparison.stages:
        a = np.asarray(comparison.a[comp.name].array, np.float64)
        b = np.asarray(comparison.b[comp.name].array, np.float64)
        assert comp.peak_a == np.unravel_index(int(np.argmax(a)), a.shape)
        assert comp.peak_b == np.unravel_index(int(np.argmax(b)), b.shape)
        reference = max(np.linalg.norm(a), np.linalg.norm(b))
        if reference == 0:
            assert comp.both_zero
        else:
            assert comp.distance == pytest.approx(np.linalg.norm(a - b) / reference, rel=1e-5)
        assert comp.near_tie_a == is_near_tie(comparison.a[comp.name].array)
        assert comp.near_tie_b == is_near_tie(comparison.b[comp.name].array)
