"""write_figure_set: a complete set, or nothing at all (cancel, failure, failed move), and
usable from a worker thread."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

import figures.figure_set as figure_set
from engine import (
    CompareSetup,
    InputImage,
    InputTransform,
    PipelineSpec,
    ViewState,
    report,
    run_pipeline,
)
from figures.figure_set import (
    ExportCancelled,
    ExportJob,
    ExportTargetError,
    ExportWriteError,
    FigureSetOptions,
    compute_figure_data,
    render_composite,
    write_figure_set,
)

SPEC = PipelineSpec(levels=2)
OPTIONS = FigureSetOptions(width=160)


def _job() -> ExportJob:
    img = np.random.default_rng(5).random((20, 26)).astype(np.float32)
    return ExportJob(ViewState(InputImage(img), SPEC, CompareSetup(InputTransform("mirror"))))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _existing(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """An earlier figure set (only a figure set may be replaced) and its files' bytes."""
    target = tmp_path / "set"
    write_figure_set(target, _job(), FigureSetOptions(width=100, formats=("json",)))
    return target, _snapshot(target)


def test_writes_a_complete_set_with_the_files_the_manifest_lists(qapp, tmp_path):
    calls = []
    out = write_figure_set(tmp_path / "a" / "set", _job(), OPTIONS,
                           progress=lambda *args: calls.append(args))
    assert out == (tmp_path / "a" / "set").absolute()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert manifest["files"] == on_disk
    names = ["input", "conv", "pool 1", "pool 2"]
    for row in ("A", "B", "A-B"):
        for name in names:
            stem = f"panels/{row}_{name.replace(' ', '_')}"
            assert f"{stem}.png" in on_disk and f"{stem}.svg" in on_disk
    assert {"sheet.png", "sheet.svg", "stages.npz", "metrics.csv", "metrics.json"} <= \
        set(on_disk)
    # the folder has the permissions of a plain mkdir, not mkdtemp's private 0700
    plain = tmp_path / "plain"
    plain.mkdir()
    assert out.stat().st_mode == plain.stat().st_mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "plain"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["set"]
    # progress: steps 1..total in order, one call each
    total = calls[-1][1]
    assert [c[0] for c in calls] == list(range(1, total + 1))
    assert all(c[1] == total for c in calls)
    messages = [c[2] for c in calls]
    assert "writing B pool 2" in messages and messages[0] == "computing stages"


def test_cancel_midway_leaves_nothing_and_keeps_the_old_set(qapp, tmp_path):
    target, before = _existing(tmp_path)
    seen = []

    def progress(step, total, message):
        seen.append(step)

    with pytest.raises(ExportCancelled):
        write_figure_set(target, _job(), OPTIONS, force=True, progress=progress,
                         cancel=lambda: len(seen) >= 4)
    assert seen == [1, 2, 3, 4]
    assert [p.name for p in tmp_path.iterdir()] == ["set"]
    assert _snapshot(target) == before


def test_cancel_by_event_during_the_shift_sweep(qapp, tmp_path):
    event = threading.Event()

    def progress(step, total, message):
        if message.startswith("sweeping"):
            event.set()

    options = FigureSetOptions(width=160, animate_shifts=3)
    with pytest.raises(ExportCancelled):
        write_figure_set(tmp_path / "set", _job(), options, progress=progress, cancel=event)
    assert list(tmp_path.iterdir()) == []


def test_a_failing_writer_leaves_nothing_and_keeps_the_old_set(qapp, tmp_path, monkeypatch):
    target, before = _existing(tmp_path)

    def disk_full(path, arrays, compress=False):
        Path(path).write_bytes(b"half")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(report, "write_npz", disk_full)
    with pytest.raises(ExportWriteError) as failed:
        write_figure_set(target, _job(), OPTIONS, force=True)
    # one line naming the file where it was going, not the deleted temporary folder
    message = str(failed.value)
    assert message.startswith(f"{target / 'stages.npz'}: could not be written (No space")
    assert ".tmp-" not in message and "\n" not in message and failed.value.errno == 28
    assert [p.name for p in tmp_path.iterdir()] == ["set"]
    assert _snapshot(target) == before


def test_a_failed_move_puts_the_old_set_back(qapp, tmp_path, monkeypatch):
    target, before = _existing(tmp_path)
    real_rename = os.rename

    def rename(src, dst):
        if ".tmp-" in str(src):  # the new set moving in
            raise OSError(5, "Input/output error")
        real_rename(src, dst)

    monkeypatch.setattr(figure_set.os, "rename", rename)
    with pytest.raises(OSError, match="Input/output"):
        write_figure_set(target, _job(), OPTIONS, force=True)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["set"]
    assert _snapshot(target) == before


def test_force_replaces_an_existing_set(qapp, tmp_path):
    target, before = _existing(tmp_path)
    write_figure_set(target, _job(), OPTIONS, force=True)
    assert "sheet.png" not in before and (target / "sheet.png").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["set"]


def test_target_checks_come_before_any_writing(qapp, tmp_path):
    target, before = _existing(tmp_path)
    with pytest.raises(ExportTargetError, match="not empty"):
        write_figure_set(target, _job(), OPTIONS)
    assert _snapshot(target) == before
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportTargetError, match="not a folder"):
        write_figure_set(tmp_path / "file", _job(), OPTIONS)
    with pytest.raises(ExportTargetError, match="cannot create"):
        write_figure_set(tmp_path / "file" / "set", _job(), OPTIONS)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "set"]
    empty = tmp_path / "empty"
    empty.mkdir()
    write_figure_set(empty, _job(), OPTIONS)  # an empty folder needs no force
    assert (empty / "manifest.json").exists()


def test_from_a_worker_thread_the_data_equals_the_pipeline(qapp, tmp_path):
    job = _job()
    out: dict = {}

    def work() -> None:
        try:
            out["path"] = write_figure_set(tmp_path / "set", job, OPTIONS)
        except BaseException as exc:  # reported on the test thread
            out["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert not thread.is_alive() and "error" not in out, out.get("error")
    expected = {"A": run_pipeline(job.state.a.pixels, SPEC),
                "B": run_pipeline(job.state.image_b(), SPEC)}
    with np.load(out["path"] / "stages.npz") as data:
        assert sorted(data.files) == sorted(f"{r}/{s.name}" for r in "AB" for s in expected[r])
        for row, result in expected.items():
            for stage in result:
                assert np.array_equal(data[f"{row}/{stage.name}"], stage.array)


def test_the_job_keeps_its_own_copy_of_the_images(qapp):
    img = np.zeros((10, 10), np.float32)
    job = ExportJob(ViewState(InputImage(img), PipelineSpec(convolve=False, levels=1)))
    img[3, 3] = 1.0
    assert job.state.a.pixels.max() == 0.0 and not job.state.a.pixels.flags.writeable


def test_render_composite_from_a_job_or_its_data(qapp):
    job = _job()
    image = render_composite(job, 500)
    assert image.width() == 500 and image.height() > 100
    assert render_composite(compute_figure_data(job), 500) == image
    ready = {"A": run_pipeline(job.state.a.pixels, SPEC),
             "B": run_pipeline(job.state.image_b(), SPEC)}
    data = compute_figure_data(job, results=ready)
    assert data.results["A"] is ready["A"] and data.results["B"] is ready["B"]
    assert render_composite(data, 500) == image
    with pytest.raises(ValueError, match="another spec"):
        compute_figure_data(job, results={"A": run_pipeline(job.state.a.pixels,
                                                            PipelineSpec())})


def test_b_with_fewer_stages_leaves_gaps_and_compares_the_overlap(qapp, tmp_path):
    a = np.random.default_rng(7).random((64, 64)).astype(np.float32)
    b = np.random.default_rng(8).random((16, 20)).astype(np.float32)
    spec = PipelineSpec(convolve=False, levels=5)
    job = ExportJob(ViewState(InputImage(a), spec,
                              CompareSetup(InputTransform("other"), InputImage(b))))
    out = write_figure_set(tmp_path / "set", job, FigureSetOptions(width=200))
    panels = {p.name for p in (out / "panels").iterdir()}
    assert "A_pool_5.png" in panels and "B_pool_4.png" in panels
    assert "B_pool_5.png" not in panels and "A-B_pool_5.png" not in panels
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    by_stage = {c["stage"]: c for c in metrics["comparison"]}
    assert by_stage["pool 4"]["compared_shape"] == [1, 1]
    assert by_stage["pool 2"]["shape_a"] == [16, 16] and by_stage["pool 2"]["shape_b"] == [4, 5]
    assert by_stage["pool 2"]["compared_shape"] == [4, 5] and by_stage["pool 2"]["partial"]
    assert "pool 5" not in by_stage
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["stages"]["B"]["levels_produced"] == 4
    assert "stopped after 4 of 5" in manifest["stages"]["B"]["stop_reason"]


@pytest.mark.parametrize("changes, message", [
    ({"width": 10}, "width"), ({"formats": ("gif",)}, "formats"), ({"formats": ()}, "formats"),
    ({"background": "black"}, "background"), ({"top_k": -1}, "top_k"),
    ({"top_k": 51}, "top_k"), ({"animate_shifts": -1}, "animate_shifts"),
    ({"compress": 1}, "compress"), ({"diff_markers": "yes"}, "diff_markers"),
])
def test_options_name_the_bad_field(changes, message):
    with pytest.raises(ValueError, match=message):
        FigureSetOptions(**changes)


def test_formats_limit_the_files(qapp, tmp_path):
    out = write_figure_set(tmp_path / "set", _job(), FigureSetOptions(formats=("json",)))
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "metrics.json",
                                                     "session.shiftlab"]


def test_rows_a_and_b_share_one_colour_range_per_stage_as_in_the_window():
    a = np.random.default_rng(11).random((30, 40)).astype(np.float32)
    b = a * 0.5
    job = figure_set.ExportJob(ViewState(InputImage(a), PipelineSpec(levels=2),
                                         CompareSetup(InputTransform("other"), InputImage(b))))
    panels = figure_set.figure_panels(figure_set.compute_figure_data(job))
    for s in run_pipeline(a, job.spec):
        s_b = run_pipeline(b, job.spec)[s.name]
        lo = min(float(s.array.min()), float(s_b.array.min()))
        hi = max(float(s.array.max()), float(s_b.array.max()))
        if s.name == "input":
            lo, hi = min(lo, 0.0), max(hi, 1.0)
        assert panels["A"][s.name].levels == panels["B"][s.name].levels == (lo, hi)


def test_the_caption_says_how_many_levels_ran_when_pooling_stops_early():
    spec = PipelineSpec(convolve=False, levels=12)
    result = run_pipeline(np.ones((10, 10), np.float32), spec)
    text = figure_set.describe_spec(spec, result)
    assert text.endswith("max pool 2/2 x 3 of 12 (stopped: input (1, 1) is smaller than the "
                         "pooling window 2x2)")
    assert figure_set.describe_spec(spec).endswith("x 12")  # before it ran: what was asked
    data = compute_figure_data(ExportJob(ViewState(InputImage(np.ones((10, 10), np.float32)),
                                                   spec)))
    assert "x 3 of 12" in figure_set._caption(data)
