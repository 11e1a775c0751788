"""The guide's steps: every number in their texts is what the engine computes, every setup
leaves the task undone, and the state after the task is acknowledged with true numbers."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import onnxruntime as ort
import pytest

from engine import EXAMPLES, InputImage, run_pipeline, run_state
from engine.examples import pixel_image, sample_photo
from engine.guide_steps import FLIP_DIGIT, STEPS
from engine.networks import held_out_digits
from engine.sweep import sweep_stages
from resources import network_path

BY_KEY = {step.key: step for step in STEPS}
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def shapes(result) -> set[str]:
    return {str(n) for s in result.stages for n in s.shape}


def distances(run) -> dict[str, float]:
    return {c.name: c.distance for c in run.comparison.stages}


def after(step_key: str, **changes):
    """The state a step's task leads to, and its run."""
    state = BY_KEY[step_key].setup()
    if "spec" in changes:
        changes["spec"] = state.spec.replace(**changes["spec"])
    if "compare" in changes:
        changes["compare"] = dataclasses.replace(state.compare, **changes["compare"])
    state = state.replace(**changes)
    return state, run_state(state)


def onnx_probabilities(name: str, image: np.ndarray) -> np.ndarray:
    """The bundled network's class probabilities for one 28x28 image, by onnxruntime alone."""
    session = ort.InferenceSession(str(network_path(name)), providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name:
                                image[None, None].astype(np.float32)})[0][0].astype(np.float64)
    p = np.exp(logits - logits.max())
    return p / p.sum()


def verified_numbers(key: str) -> set[str]:
    """The numbers the engine gives for the facts step `key` states (plus the step's own
    operands: window sizes, the pixels' places, the shift)."""
    step = BY_KEY[key]
    state = step.setup()
    run = run_state(state)
    if key == "pixel":
        moved, moved_run = after("pixel", a=InputImage(pixel_image(7, 7)))
        apart = {str(abs(c.displacement[0])) for c in moved_run.comparison.stages}
        assert [abs(c.displacement[0]) for c in moved_run.comparison.stages] == [5, 2, 1, 0]
        assert [s.shape for s in run.a.stages] == [(10, 10), (5, 5), (2, 2), (1, 1)]
        assert run.a.levels_produced == 3  # "three" pools
        return apart | shapes(run.a) | {"7", "2"}
    if key == "maximum":
        assert [s.maxima[0][2] for s in run.a.stages] == [1.0] * 4  # the 1 reaches every level
        assert [s.stride[0] for s in run.a.stages[1:]] == [2, 4, 8]
        _, avg = after("maximum", spec={"pool_mode": "avg"})
        peaks = [s.maxima[0][2] for s in avg.a.stages[1:3]]
        assert peaks == [0.25, 0.0625]
        return {"1", "2", "4", "8", "0.25", "0.0625"}
    if key == "floor":
        assert run.a.stages[0].shape == (11, 11) and run.a["pool 1"].shape == (5, 5)
        assert 11 // 2 == 5 and run.a.spec.pool_size == 2 == run.a.spec.effective_pool_stride
        return {"11", "5", "2", "10", "1"}
    if key == "seam":
        assert state.compare.transform.shift == (0, 1)
        conv = next(c for c in run.comparison.stages if c.name == "conv")
        assert conv.equivariance_error > 0.01  # "not 0"
        return {"1", "0"}
    if key == "photo":
        assert [s.shape for s in run.a.stages] == [
            (400, 600), (398, 598), (199, 299), (99, 149), (49, 74), (24, 37), (12, 18), (6, 9)]
        assert state.spec.kernel == "prewitt_vertical" and state.spec.kernel_array.shape == (3, 3)
        return shapes(run.a) | {"3", "2"}
    if key == "mirror":
        conv = next(c for c in run.comparison.stages if c.name == "conv")
        assert conv.equivariance_error > 1.0  # "far from 0"
        return {"0"}
    if key == "sweep":
        setup = step.sweep
        names, d = sweep_stages(state.a.pixels, state.spec, list(range(setup.max_shift + 1)),
                                axis=setup.axis, wrap=setup.wrap, align=setup.align)
        pool1, pool2 = d[:, names.index("pool 1")], d[:, names.index("pool 2")]
        assert np.all(pool1[::2] < 1e-6)
        assert {f"{v:.2f}" for v in pool1[1::2]} == {"0.58"}
        assert [s for s in range(9) if pool2[s] < 1e-6] == [0, 4, 8]
        assert {"pool 1", "pool 2"} <= set(names)
        return {"0", "8", "0.58", "4", "1", "2"}  # 1 and 2 name the pools
    if key == "blurmax":
        d = distances(run)
        assert (f"{d['pool 1']:.2f}", f"{d['pool 3']:.2f}") == ("0.59", "0.22")
        assert state.spec.pool_mode == "max" and state.spec.padding == "circular"
        return {"1", "0.59", "3", "0.22", "2"}
    if key == "aps":
        return {"4", "2"}
    if key in ("flip", "kept"):
        images, labels = held_out_digits()
        assert labels[FLIP_DIGIT] == 1 and np.array_equal(state.a.pixels, images[FLIP_DIGIT])
        assert np.array_equal(state.compare.image_b.pixels, state.a.pixels)
        assert state.network.name == {"flip": "digits-max", "kept": "digits-aps"}[key]
        p = onnx_probabilities(state.network.name, images[FLIP_DIGIT])
        assert int(np.argmax(p)) == run.network.a.top1 == 1
        said = {"flip": "97.2", "kept": "80.7"}[key]
        assert f"{p.max():.1%}" == f"{run.network.a.top1_probability:.1%}" == f"{said}%"
        return {"1", said}
    raise AssertionError(f"no verified numbers for step {key!r}")


@pytest.mark.parametrize("key", list(BY_KEY))
def test_every_number_in_a_step_is_the_engines(key):
    step = BY_KEY[key]
    said = numbers(step.title) | numbers(step.text) | numbers(step.task)
    unverified = said - verified_numbers(key)
    assert not unverified, f"step {key!r} says {sorted(unverified)} unchecked"


@pytest.mark.parametrize("key", [s.key for s in STEPS if s.check is not None])
def test_a_fresh_step_is_not_done(key):
    state = BY_KEY[key].setup()
    assert BY_KEY[key].check(state, run_state(state)) is None


def test_the_pixel_step_acknowledges_the_drag_with_the_distances():
    state, run = after("pixel", a=InputImage(pixel_image(7, 7)))
    text = BY_KEY["pixel"].check(state, run)
    assert text.startswith("Done: the pixels are 5 → 2 → 1 → 0 cells apart")
    state, run = after("pixel", a=InputImage(pixel_image(6, 7)))
    assert BY_KEY["pixel"].check(state, run) is None


def test_the_maximum_step_acknowledges_avg_with_the_diluted_peaks():
    state, run = after("maximum", spec={"pool_mode": "avg"})
    assert BY_KEY["maximum"].check(state, run) == (
        "Done: averaged, the peaks are 0.25, 0.0625, 0.015625: each window dilutes the 1.")
    reference = run_pipeline(pixel_image(2, 2), state.spec)
    assert [s.maxima[0][2] for s in reference.stages[1:]] == [0.25, 0.0625, 0.015625]


def test_the_floor_step_acknowledges_a_pixel_in_the_dropped_row_only():
    state, run = after("floor", a=InputImage(pixel_image(10, 3, 11)))
    assert BY_KEY["floor"].check(state, run).startswith("Done: the pixel at (10, 3)")
    assert run.a["pool 1"].array.max() == 0.0
    state, run = after("floor", a=InputImage(pixel_image(9, 3, 11)))
    assert BY_KEY["floor"].check(state, run) is None


def test_the_seam_step_acknowledges_circular_padding():
    state, run = after("seam", spec={"padding": "circular"})
    conv = next(c for c in run.comparison.stages if c.name == "conv")
    assert conv.equivariance_error < 1e-6
    assert BY_KEY["seam"].check(state, run).startswith("Done: with circular padding")
    state, run = after("seam", spec={"padding": "reflect"})
    assert BY_KEY["seam"].check(state, run) is None


def test_the_photo_step_acknowledges_a_seventh_pool():
    state, run = after("photo", spec={"levels": 7})
    assert run.a.stages[-1].shape == (3, 4)
    assert sample_photo("coffee").shape == (400, 600)
    assert BY_KEY["photo"].check(state, run) == "Done: 7 pools end in a 3×4 map."


def test_the_mirror_step_acknowledges_the_mirrored_kernel():
    state, run = after("mirror", compare={"mirror_kernel": True})
    assert BY_KEY["mirror"].check(state, run).startswith(
        "Done: with the kernel mirrored too the conv error is 0.0000")


def test_the_sweep_step_acknowledges_the_sawtooth():
    step = BY_KEY["sweep"]
    state = step.setup()
    shifts = np.arange(step.sweep.max_shift + 1)
    names, d = sweep_stages(state.a.pixels, state.spec, list(shifts), axis="x", wrap=True,
                            align=True)
    assert step.check_sweep(names, shifts, d) == (
        "Done: pool 1 is 0 at shifts 0, 2, 4, 6, 8 and 0.58 at 1, 3, 5, 7: a sawtooth.")
    names, d = sweep_stages(state.a.pixels, state.spec, list(shifts), axis="x", wrap=True,
                            align=False)
    assert step.check_sweep(names, shifts, d) is None  # compared in place: no sawtooth


def test_the_blurmax_and_aps_steps_acknowledge_with_the_runs_distances():
    state, run = after("blurmax", spec={"pool_mode": "blurmax"})
    d = distances(run)
    assert d["pool 1"] < 0.59 and d["pool 3"] < 0.22
    assert BY_KEY["blurmax"].check(state, run) == (
        f"Done: with blurmax the distance is {d['pool 1']:.2f} at pool 1 and "
        f"{d['pool 3']:.2f} at pool 3.")
    state, run = after("aps", spec={"pool_mode": "aps"})
    zero = [c.name for c in run.comparison.stages if c.name.startswith("pool")
            and c.distance <= 1e-6]
    assert zero == ["pool 2", "pool 3", "pool 4", "pool 5", "pool 6"]
    assert run.a.aps_ties == ()
    assert BY_KEY["aps"].check(state, run).startswith(
        "Done: with APS the distance is 0 at pool 2, pool 3, pool 4, pool 5, pool 6")


def test_the_steps_reuse_the_examples_where_they_show_one():
    assert BY_KEY["mirror"].setup().spec == EXAMPLES["mirror"].spec
    assert BY_KEY["seam"].setup().compare.transform == EXAMPLES["shift"].b


def test_the_pixel_steps_do_not_search_a_large_input():
    big = np.zeros((400, 600), np.float32)
    big[7, 7] = 1.0
    state, run = after("pixel", a=InputImage(big))
    assert BY_KEY["pixel"].check(state, run) is None


def nudged_right(key: str, wrap: bool = True):
    """Step `key`'s digit moved one pixel right, with or without wrap-around, and its run."""
    moved = np.roll(BY_KEY[key].setup().a.pixels, 1, 1)
    if not wrap:
        moved[:, 0] = 0  # the uncovered column
    return after(key, a=InputImage(moved))


def test_the_flip_digit_moves_the_same_with_or_without_wrap():
    digit = held_out_digits()[0][FLIP_DIGIT]
    assert not (digit[0].any() or digit[-1].any() or digit[:, 0].any() or digit[:, -1].any())


def test_the_flip_step_acknowledges_the_nudge_with_both_answers():
    images, _ = held_out_digits()
    before = onnx_probabilities("digits-max", images[FLIP_DIGIT])
    after_p = onnx_probabilities("digits-max", np.roll(images[FLIP_DIGIT], 1, 1))
    assert int(np.argmax(before)) == 1 and int(np.argmax(after_p)) == 7
    for wrap in (True, False):
        state, run = nudged_right("flip", wrap)
        assert BY_KEY["flip"].check(state, run) == (
            f"Done: one pixel over, digits-max's answer went from 1 ({before.max():.1%}) "
            f"to 7 ({after_p.max():.1%}).")
    assert f"{after_p.max():.1%}" == "52.4%"
    state, run = after("flip", a=InputImage(np.roll(images[FLIP_DIGIT], 2, 1)))
    assert BY_KEY["flip"].check(state, run) is None  # two pixels is not the nudge asked


def test_the_kept_step_acknowledges_the_kept_answer():
    images, _ = held_out_digits()
    moved = onnx_probabilities("digits-aps", np.roll(images[FLIP_DIGIT], 1, 1))
    np.testing.assert_allclose(moved, onnx_probabilities("digits-aps", images[FLIP_DIGIT]),
                               atol=1e-6)
    state, run = nudged_right("kept")
    assert run.network.a.top1 == run.network.b.top1 == int(np.argmax(moved)) == 1
    assert BY_KEY["kept"].check(state, run) == (
        f"Done: one pixel over, digits-aps still answers 1 ({moved.max():.1%}).")
    assert f"{moved.max():.1%}" == "80.7%"
    state, run = nudged_right("flip")  # the answer digits-max changes is no kept answer
    assert BY_KEY["kept"].check(state, run) is None
