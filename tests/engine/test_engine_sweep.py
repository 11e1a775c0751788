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


# -- the sweep's shortcuts against the plain definition ---------------------------------------

def plain_sweep(x, spec, shifts, axis, wrap, align):
    """The definition: run every moved input, move the unshifted maps by whole cells,
    compare whole maps with numpy in float64."""
    uy, ux = {"x": (0, 1), "y": (1, 0), "diagonal": (1, 1)}[axis]
    base = run_pipeline(x, spec)
    rows = []
    for s in shifts:
        moved = run_pipeline(translate(x, s * uy, s * ux, wrap=wrap), spec)
        row = []
        for ref, stage in zip(base.stages, moved.stages, strict=True):
            expected = ref.array
            if align:
                cy, cx = (int(np.floor(s * u / st + 0.5))
                          for u, st in zip((uy, ux), stage.stride, strict=True))
                expected = translate(expected, cy, cx, wrap=wrap)
            a, b = stage.array.astype(np.float64), expected.astype(np.float64)
            scale = max(np.linalg.norm(a), np.linalg.norm(b))
            row.append(np.linalg.norm(a - b) / scale if scale else np.nan)
        rows.append(row)
    return np.array(rows)


@pytest.mark.parametrize("padding", ["valid", "same", "circular", "reflect", "replicate"])
def test_every_padding_border_and_reference_equals_the_plain_definition(padding):
    rng = np.random.default_rng(sum(map(ord, padding)))
    for trial in range(4):
        shape = (int(rng.integers(12, 30)), int(rng.integers(12, 30)))
        x = rng.random(shape).astype(np.float32)
        if trial == 3:
            x[:, : shape[1] // 2] = 0  # maps that vanish under some shifts (NaN distances)
        mode = ("max", "avg", "blurmax", "aps")[trial]
        spec = PipelineSpec(kernel=rng.normal(size=(3, 2)), padding=padding, pool_mode=mode,
                            levels=3)
        shifts = [0, 1, -2, 5, 13, -shape[1] - 1]
        for axis in ("x", "y", "diagonal"):
            for wrap in (True, False):
                for align in (True, False):
                    got = shift_sweep(x, spec, shifts, axis=axis, wrap=wrap, align=align)
                    want = plain_sweep(x, spec, shifts, axis, wrap, align)
                    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12,
                                               err_msg=f"{axis} wrap={wrap} align={align}")


def test_translate_into_writes_what_translate_returns():
    from engine.sweep import translate_into

    rng = np.random.default_rng(12)
    for _ in range(400):
        x = rng.random((int(rng.integers(1, 9)), int(rng.integers(1, 9)))).astype(np.float32)
        dy, dx = (int(v) for v in rng.integers(-11, 12, 2))
        for wrap in (True, False):
            out = np.full_like(x, 7.0)  # stale values must all be overwritten
            assert translate_into(x, dy, dx, wrap, out) is out
            np.testing.assert_array_equal(out, translate(x, dy, dx, wrap=wrap))


def test_the_distance_to_a_moved_map_needs_no_moved_copy():
    from engine.compare import l2_norm
    from engine.sweep import moved_distance

    rng = np.random.default_rng(13)
    for trial in range(300):
        shape = (int(rng.integers(1, 8)), int(rng.integers(1, 8)))
        a = rng.random(shape).astype(np.float32)
        b = rng.random(shape).astype(np.float32)
        if trial % 5 == 0:
            b[:] = 0
        if trial % 10 == 0:
            a[:] = 0  # both zero: undefined
        cy, cx = (int(v) for v in rng.integers(-9, 10, 2))
        for wrap in (True, False):
            want = normalized_distance(a, translate(b, cy, cx, wrap=wrap)) \
                if (a.any() or b.any()) else np.nan
            got = moved_distance(a, b, cy, cx, wrap, l2_norm(b))
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_each_shift_is_delivered_as_soon_as_it_is_measured(small):
    calls = []
    out = shift_sweep(small, CIRCULAR, [3, 0, -2, 7],
                      on_shift=lambda names, i, row: calls.append((names, i, row)),
                      progress=lambda done, total: calls.append(done))
    names = run_pipeline(small, CIRCULAR).names
    assert [c if isinstance(c, int) else c[1] for c in calls] == [0, 1, 1, 2, 2, 3, 3, 4]
    for names_got, i, row in calls[::2]:
        assert names_got == names
        np.testing.assert_array_equal(row, out[i])
        row[:] = -1  # a copy: the result is not affected
    assert (out >= 0).all()
    with pytest.raises(ValueError, match="on_shift"):
        shift_sweep(small, CIRCULAR, [0], on_shift=5)


def test_an_aligned_input_is_zero_and_undefined_once_nothing_is_left():
    x = np.zeros((16, 16), np.float32)
    x[2, 3] = 1.0
    spec = PipelineSpec(convolve=False, levels=1)
    out = shift_sweep(x, spec, [0, 5, 14, 20], align=True, wrap=False)
    np.testing.assert_array_equal(out[:, 0], [0.0, 0.0, np.nan, np.nan])  # 3 + 14 > 15
    assert np.isnan(shift_sweep(np.zeros((8, 8)), spec, [1], align=True)[0, 0])


# -- maps of circular shifts cut from one convolution -----------------------------------------

@pytest.mark.parametrize("padding", ["valid", "circular"])
@pytest.mark.parametrize("kernel, mode, size, activation, convolve", [
    ("prewitt_vertical", "max", 2, "relu", True),
    ("prewitt_horizontal", "avg", 2, "none", True),
    ([[1, -1, 0], [0, 1, 1]], "max", 3, "abs", True),
    ("prewitt_vertical", "avg", 3, "relu", False),
])
def test_circular_shifts_are_cut_from_one_convolution_bit_for_bit(padding, kernel, mode, size,
                                                                 activation, convolve):
    from engine.sweep import CircularLevels

    rng = np.random.default_rng(len(padding) + size)
    for shape in [(size ** 3 * 2, size ** 3), (size ** 2 * 3, size ** 3 + size), (30, 26)]:
        x = (rng.normal(size=shape) * 4).astype(np.float32)
        spec = PipelineSpec(kernel=kernel, padding=padding, pool_mode=mode, pool_size=size,
                            activation=activation, convolve=convolve, levels=4)
        base = run_pipeline(x, spec)
        assert CircularLevels.applies(base)
        levels = CircularLevels(x, base)
        for dy, dx in [(0, 0), (1, 0), (0, 5), (-3, 7), (size ** 3 + 1, -size), (40, 41)]:
            moved = translate(x, dy, dx)
            want = run_pipeline(moved, spec).stages[1:]
            got = levels.maps(dy, dx, moved)
            assert len(got) == len(want)
            for a, stage in zip(got, want, strict=True):
                np.testing.assert_array_equal(bits(a), bits(stage.array),
                                              err_msg=f"{shape} {(dy, dx)} {stage.name}")


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint32)


def test_the_shortcut_is_kept_to_pipelines_that_follow_circular_shifts_exactly():
    from engine.sweep import CircularLevels

    x = np.zeros((16, 16), np.float32)
    applies = {spec: CircularLevels.applies(run_pipeline(x, spec)) for spec in [
        PipelineSpec(),
        PipelineSpec(kernel="sobel_vertical"),  # a tap of 2: fused and plain sums differ
        PipelineSpec(padding="same"),
        PipelineSpec(stride=2),
        PipelineSpec(pool_mode="blurmax"),
        PipelineSpec(pool_mode="aps"),
        PipelineSpec(pool_size=3, pool_stride=2),
        PipelineSpec(convolve=False, pool_mode="avg"),
    ]}
    assert list(applies.values()) == [True, False, False, False, False, False, False, True]


@pytest.mark.parametrize("padding", ["valid", "circular"])
def test_sweeps_through_the_shortcut_equal_the_plain_definition(padding):
    rng = np.random.default_rng(21)
    for shape in [(32, 48), (30, 36)]:
        x = rng.random(shape).astype(np.float32)
        for spec in (PipelineSpec(padding=padding, levels=4),
                     PipelineSpec(padding=padding, pool_mode="avg", levels=3,
                                  kernel="prewitt_horizontal")):
            shifts = [0, 1, 2, 5, 8, -3, 17, 33]
            for axis in ("x", "y", "diagonal"):
                for align in (True, False):
                    got = shift_sweep(x, spec, shifts, axis=axis, align=align)
                    want = plain_sweep(x, spec, shifts, axis, True, align)
                    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12,
                                               err_msg=f"{shape} {axis} align={align}")


def test_translate_into_a_padded_map_writes_what_translate_returns():
    """A map whose rows are padded (as the convolution stage's are) is moved block by
    block, with the same values as the flat move of a contiguous one."""
    from engine.transforms import translate_into

    rng = np.random.default_rng(13)
    strided = 0
    for _ in range(300):
        h, w = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        padded = rng.random((h, w + 3)).astype(np.float32)[:, :w]  # rows are strided
        strided += not padded.flags.c_contiguous  # (one row is contiguous all the same)
        dy, dx = (int(v) for v in rng.integers(-11, 12, 2))
        for wrap in (True, False):
            out = np.full((h, w), 7.0, np.float32)
            assert translate_into(padded, dy, dx, wrap, out) is out
            np.testing.assert_array_equal(out, translate(padded, dy, dx, wrap=wrap))
    assert strided > 250
