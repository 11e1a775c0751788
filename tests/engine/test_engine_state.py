"""The one state model (engine.state) and session files (engine.session)."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest
from image_files import write_png

from engine import (
    EXAMPLES,
    KERNELS,
    CompareSetup,
    ImageSource,
    InputImage,
    InputTransform,
    PipelineSpec,
    SessionError,
    StateError,
    ViewState,
    compare_inputs,
    example_state,
    load_session,
    mirror_kernel,
    report,
    rotate90,
    run_state,
    save_session,
)
from engine.state import state_from_dict, state_to_dict


def arrays(run) -> dict[str, np.ndarray]:
    """Every stage array of a run, keyed like stages.npz, with the difference rows."""
    out = report.stage_arrays(run.results)
    for row, result in (("A-B", run.signed), ("|A-B|", run.magnitude)):
        if result is not None:
            out.update({f"{row}/{s.name}": s.array for s in result})
    return out


def assert_same_arrays(x: dict, y: dict) -> None:
    assert sorted(x) == sorted(y)
    for key in x:
        np.testing.assert_array_equal(x[key], y[key], err_msg=key)


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_state_matches_the_example(name):
    example = EXAMPLES[name]
    state = example_state(name)
    a, b = example.load()
    np.testing.assert_array_equal(state.a.pixels, a)
    np.testing.assert_array_equal(state.image_b(), b)
    assert state.spec == example.spec and state.a.source.label == f"example:{name}"
    run = run_state(state)
    reference = compare_inputs(a, b, example.spec, transform=example.b_transform, top_k=3)
    assert [s.distance for s in run.comparison.stages] == \
        [s.distance for s in reference.stages]


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_session_round_trip_reproduces_every_example(tmp_path, name):
    state = example_state(name).replace(
        compare=CompareSetup(example_state(name).compare.transform,
                             example_state(name).compare.image_b, signed_row=True,
                             magnitude_row=True))
    path = tmp_path / f"{name}.shiftlab"
    save_session(path, state, {"docks": "abc"})
    with zipfile.ZipFile(path) as archive:  # examples are stored by reference
        assert archive.namelist() == ["session.json"]
    session = load_session(path)
    assert session.window == {"docks": "abc"}
    assert session.state.spec == state.spec and session.state.caption == state.caption
    assert_same_arrays(arrays(run_state(state)), arrays(run_state(session.state)))


def test_edited_canvas_with_a_rotation_round_trips_with_its_pixels(tmp_path):
    rng = np.random.default_rng(3)
    pixels = rng.random((12, 9)).astype(np.float32)
    state = ViewState(InputImage(pixels), PipelineSpec(kernel="laplacian", levels=2),
                      CompareSetup(InputTransform("rotate", turns=1), signed_row=True))
    path = tmp_path / "canvas.shiftlab"
    save_session(path, state)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["a.npy", "session.json"]
    loaded = load_session(path).state
    np.testing.assert_array_equal(loaded.a.pixels, pixels)
    np.testing.assert_array_equal(loaded.image_b(), rotate90(pixels, 1))
    run = run_state(loaded)
    assert_same_arrays(arrays(run_state(state)), arrays(run))
    # the rotation's transform error is measured (not n/a) and is 0 for the input
    errors = [s.equivariance_error for s in run.comparison.stages]
    assert errors[0] == 0.0 and all(e is not None for e in errors[:2])


def test_a_photo_is_stored_by_reference_and_a_changed_file_is_refused(tmp_path):
    photo = tmp_path / "photo.png"
    write_png(photo, 20, 24)
    state = ViewState(InputImage.load(ImageSource.of_file(photo)))
    assert state.a.source.sha256 and state.a.reloadable
    path = tmp_path / "photo.shiftlab"
    save_session(path, state)
    assert load_session(path).state.a.source.path == str(photo)
    write_png(photo, 20, 24, seed=9)
    with pytest.raises(SessionError, match="changed since it was saved"):
        load_session(path)


def test_an_edited_photo_keeps_its_source_and_its_pixels(tmp_path):
    photo = tmp_path / "photo.png"
    write_png(photo, 16, 16)
    image = InputImage.load(ImageSource.of_file(photo))
    edited = InputImage(1.0 - image.pixels, image.source, edited=True)
    assert edited.label == "photo.png (edited)" and not edited.reloadable
    assert edited.verified().edited and not InputImage(image.pixels, image.source,
                                                       True).verified().edited
    path = tmp_path / "edited.shiftlab"
    save_session(path, ViewState(edited))
    np.testing.assert_array_equal(load_session(path).state.a.pixels, edited.pixels)


def test_mirrored_kernel_and_b_have_one_owner():
    state = example_state("mirror").replace(
        compare=CompareSetup(InputTransform("mirror"), mirror_kernel=True))
    assert state.spec_b.kernel_name == "custom"
    np.testing.assert_array_equal(state.spec_b.kernel_array,
                                  mirror_kernel(state.spec.kernel_array, 1))
    run = run_state(state)
    assert run.comparison.kernel_mirrored and run.comparison.stages[1].equivariance_error < 1e-6
    assert "kernel mirrored too" in state.compare.description


def test_difference_rows_hold_a_minus_b_and_name_why_errors_are_undefined():
    run = run_state(example_state("shift").replace(
        compare=CompareSetup(InputTransform("shift", dx=1), signed_row=True,
                             magnitude_row=True)))
    for comp in run.comparison.stages:
        a, b = run.a[comp.name].array, run.b[comp.name].array
        np.testing.assert_array_equal(run.signed[comp.name].array, a - b)
        np.testing.assert_array_equal(run.magnitude[comp.name].array, np.abs(a - b))
        assert run.signed[comp.name].maxima == []
    notes = [s.error_note for s in run.comparison.stages]
    assert notes[:2] == [None, None] and notes[2] == "shift not a multiple of S = 2"
    other = run_state(example_state("two-photos"))
    assert {s.error_note for s in other.comparison.stages} == {"another image"}


def test_malformed_states_are_refused_with_the_field_named():
    good = state_to_dict(example_state("pixel"))
    assert state_from_dict(json.loads(json.dumps(good))).caption == \
        example_state("pixel").caption
    for change, words in ((("spec", "levels"), "levels"), (("top_k",), "top_k"),
                          (("compare", "transform", "kind"), "kind")):
        bad = json.loads(json.dumps(good))
        target = bad
        for key in change[:-1]:
            target = target[key]
        target[change[-1]] = "lots"
        with pytest.raises(StateError, match=words):
            state_from_dict(bad)
    with pytest.raises(StateError, match="pixels are missing"):
        state_from_dict(state_to_dict(ViewState.demo()))


def write_session(path, document, members=None):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("session.json", json.dumps(document))
        for name, data in (members or {}).items():
            archive.writestr(name, data)


def test_damaged_and_newer_sessions_are_refused(tmp_path):
    good = tmp_path / "good.shiftlab"
    save_session(good, ViewState.demo())
    data = good.read_bytes()
    cases = {
        "truncated": (data[: len(data) // 2], "not a ShiftLab session"),
        "text": (b"hello", "not a ShiftLab session"),
        "empty": (b"", "not a ShiftLab session"),
    }
    for name, (content, words) in cases.items():
        path = tmp_path / f"{name}.shiftlab"
        path.write_bytes(content)
        with pytest.raises(SessionError, match=words) as info:
            load_session(path)
        assert str(path) in str(info.value)
    newer = tmp_path / "newer.shiftlab"
    write_session(newer, {"format": "shiftlab-session", "version": 99, "state": {}})
    with pytest.raises(SessionError, match="newer ShiftLab"):
        load_session(newer)
    with pytest.raises(SessionError, match="no such file"):
        load_session(tmp_path / "missing.shiftlab")
    with pytest.raises(SessionError, match="not a regular file"):
        load_session(tmp_path)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.shiftlab"
    os.mkfifo(fifo)
    with pytest.raises(SessionError, match="not a regular file"):
        load_session(fifo)


def test_pixels_that_lie_are_refused(tmp_path):
    good = state_to_dict(ViewState.demo())
    document = {"format": "shiftlab-session", "version": 1, "state": good}
    import io

    def npy(arr):
        buffer = io.BytesIO()
        np.save(buffer, arr)
        return buffer.getvalue()

    for arr, words in ((np.full((10, 10), np.nan, np.float32), "not finite"),
                       (np.zeros((10, 10), np.float64), "float32"),
                       (np.zeros((4, 4), np.float32), "shape")):
        path = tmp_path / "lie.shiftlab"
        write_session(path, document, {"a.npy": npy(arr)})
        with pytest.raises(SessionError, match=words):
            load_session(path)
    path = tmp_path / "pickle.shiftlab"
    write_session(path, document, {"a.npy": npy(np.array([{"x": 1}], dtype=object))})
    with pytest.raises(SessionError, match="damaged"):
        load_session(path)


@pytest.mark.parametrize("old, new", [("sobel_vertical", "prewitt_vertical"),
                                      ("sobel3_horizontal", "sobel_horizontal"),
                                      ("laplacian", "laplacian")])
def test_a_format_1_session_keeps_the_kernel_it_was_saved_with(tmp_path, old, new):
    # format 1 called Prewitt's kernel "sobel" and the true Sobel "sobel3"
    state = state_to_dict(example_state("pixel").replace(spec=PipelineSpec(kernel=new)))
    state["spec"]["kernel"] = old
    path = tmp_path / "old.shiftlab"
    write_session(path, {"format": "shiftlab-session", "version": 1, "state": state})
    assert load_session(path).state.spec.kernel == new
    np.testing.assert_array_equal(load_session(path).state.spec.kernel_array, KERNELS[new])
    current = tmp_path / "new.shiftlab"
    save_session(current, ViewState.demo().replace(spec=PipelineSpec(kernel="sobel_vertical")))
    assert load_session(current).state.spec.kernel == "sobel_vertical"  # the true Sobel now
    assert json.loads(zipfile.ZipFile(current).read("session.json"))["version"] == 2
