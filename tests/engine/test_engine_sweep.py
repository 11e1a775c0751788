"""shift_sweep against stage-by-stage references, its periodicity, progress and cancelling.

The distance itself is checked against a plain formula in test_engine_compare.py.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine import (
    PipelineSpec,
    SweepCancelled,
    compare_results,
    normalized_distance,
    run_pipeline,
    sample_photo,
    shift_sweep,
    sweep_stages,
    translate,
)


@pytest.fixture(scope="module")
def small() -> np.ndarray:
    return np.random.default_rng(7).random((32, 48))


CIRCULAR = PipelineSpec(padding="circular", levels=3)


def test_shape_dtype_and_zero_at_shift_zero(small):
    shifts = [0, 1, -3, 5]
    out = shift_sweep(small, CIRCULAR, shifts)
    assert out.shape == (4, len(run_pipeline(small, CIRCULAR).stages))
    assert out.dtype == np.float64
    assert not out[0].any()
    assert shift_sweep(small, CIRCULAR, []).shape == (0, 5)


def test_aligned_curves_vanish_at_multiples_of_each_stride(small):
    shifts = list(range(0, 25))
    out = shift_sweep(small, CIRCULAR, shifts, align=True)
    names = run_pipeline(small, CIRCULAR).names
    assert names == ["input", "conv", "pool 1", "pool 2", "pool 3"]
    np.testing.assert_allclose(out[:, :2], 0, atol=1e-6)  # circular conv is equivariant
    for k in (1, 2, 3):
        column = out[:, names.index(f"pool {k}")]
        period = 2 ** k
        on = [i for i in shifts if i % period == 0]
        off = [i for i in shifts if i % period]
        np.testing.assert_allclose(column[on], 0, atol=1e-6)
        assert column[off].min() > 1e-3, k  # max pooling cannot follow in-between shifts


def test_in_place_sweep_matches_compare_results(small):
    spec = PipelineSpec(levels=3)
    shifts = [0, 2, -5, 9]
    for axis, (uy, ux) in {"x": (0, 1), "y": (1, 0), "diagonal": (1, 1), "xy": (1, 1)}.items():
        for wrap in (True, False):
            out = shift_sweep(small, spec, shifts, axis=axis, wrap=wrap, align=False)
            base = run_pipeline(small, spec)
            for i, s in enumerate(shifts):
                moved = run_pipeline(translate(small, s * uy, s * ux, wrap=wrap), spec)
                expected = [r.distance for r in compare_results(base, moved)]
                np.testing.assert_allclose(out[i], expected, rtol=1e-9, atol=1e-12)


def test_aligned_sweep_compares_with_the_map_moved_by_whole_cells(small):
    spec = PipelineSpec(levels=3)
    base = run_pipeline(small, spec)
    shifts = [3, -6, 7]
    for wrap in (True, False):
        out = shift_sweep(small, spec, shifts, axis="diagonal", wrap=wrap, align=True)
        for i, s in enumerate(shifts):
            moved = run_pipeline(translate(small, s, s, wrap=wrap), spec)
            for j, (ref, stage) in enumerate(zip(base.stages, moved.stages, strict=True)):
                cells = int(np.floor(s / stage.stride[0] + 0.5))  # nearest cell, halves up
                expected = translate(ref.array, cells, cells, wrap=wrap)
                assert out[i, j] == pytest.approx(normalized_distance(stage.array, expected),
                                                  rel=1e-9, abs=1e-12)


def test_progress_is_reported_in_order(small):
    calls = []
    shift_sweep(small, CIRCULAR, range(6), progress=lambda done, total: calls.append((done,
                                                                                     total)))
    assert calls == [(i, 6) for i in range(1, 7)]


def test_cancel_stops_after_the_third_shift(small):
    calls = []
    with pytest.raises(SweepCancelled) as info:
        shift_sweep(small, CIRCULAR, range(20), progress=lambda d, t: calls.append(d),
                    cancel=lambda: len(calls) >= 3)
    assert calls == [1, 2, 3]
    assert (info.value.done, info.value.total) == (3, 20)


def test_cancel_with_an_event_set_from_another_thread(small):
    event = threading.Event()
    calls = []

    def progress(done, total):
        calls.append(done)
        if done == 2:
            worker = threading.Thread(target=event.set)
            worker.start()
            worker.join()

    with pytest.raises(SweepCancelled):
        shift_sweep(small, CIRCULAR, range(20), progress=progress, cancel=event)
    assert calls == [1, 2]


def test_blurmax_is_steadier_than_max_on_a_photo():
    coffee = sample_photo("coffee")
    odd = list(range(1, 16, 2))
    for align in (True, False):
        curves = {mode: shift_sweep(coffee, PipelineSpec(pool_mode=mode), odd, align=align)
                  for mode in ("max", "blurmax")}
        names = run_pipeline(coffee).names
        pools = [j for j, n in enumerate(names) if n.startswith("pool")]
        mean_max = curves["max"][:, pools].mean(axis=0)
        mean_blur = curves["blurmax"][:, pools].mean(axis=0)
        assert (mean_blur < mean_max).all(), (align, mean_max, mean_blur)
        np.testing.assert_allclose(curves["max"][:, :2], curves["blurmax"][:, :2])


@pytest.mark.parametrize("kwargs, word", [
    ({"axis": "z"}, "axis"),
    ({"shifts": [1, 2.5]}, "shifts"),
    ({"shifts": 5}, "shifts"),
    ({"progress": 3}, "progress"),
    ({"cancel": 3}, "cancel"),
    ({"wrap": None}, "wrap"),
])
def test_bad_arguments_name_themselves(small, kwargs, word):
    args = {"shifts": [0, 1], **kwargs}
    with pytest.raises(ValueError, match=word):
        shift_sweep(small, CIRCULAR, args.pop("shifts"), **args)


def test_sweep_stages_names_the_stages_that_ran():
    img = np.random.default_rng(2).random((12, 12)).astype(np.float32)
    spec = PipelineSpec(convolve=False, levels=6)  # 12 -> 6 -> 3 -> 1: three levels fit
    names, distances = sweep_stages(img, spec, range(3))
    assert names == run_pipeline(img, spec).names == ["input", "pool 1", "pool 2", "pool 3"]
    np.testing.assert_array_equal(distances, shift_sweep(img, spec, range(3)))
