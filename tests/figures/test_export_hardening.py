"""The export command under abuse: folders it must never replace, flags without sense,
two exports at once, signals, litter from killed exports, and errors that must be one line.

Every file and folder is made by the test; signals go to a real subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from test_export_cli import REPO, _photo_file, run_export

import cli
import figures.figure_set as figure_set
import figures.target as target_module
import figures.video
from engine import InputImage, PipelineSpec, ViewState
from figures.figure_set import ExportJob, FigureSetOptions, write_figure_set
from figures.target import MARKER, ExportTargetError, check_target

SMALL = ("--levels", "1", "--width", "100", "--formats", "json")


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# -- 1. folders that never take a set ---------------------------------------------------------
def test_force_into_the_current_folder_deletes_nothing(tmp_path):
    photo = _photo_file(tmp_path / "photo.png")
    before = _files(tmp_path)
    for out in (".", "", str(tmp_path)):
        done = run_export(photo, *SMALL, "--out", out, "--force", cwd=tmp_path)
        assert done.returncode == (2 if out == "" else 1), done.stderr
        assert _files(tmp_path) == before  # the photo survives; nothing was added
    assert "is the current folder" in _one_line(
        run_export(photo, *SMALL, "--out", ".", "--force", cwd=tmp_path).stderr)


def test_force_never_replaces_a_folder_above_the_input_or_the_current_folder(tmp_path):
    folder = tmp_path / "shots"
    folder.mkdir()
    photo = _photo_file(folder / "photo.png")
    (folder / "manifest.json").write_text('{"format": "shiftlab-figure-set/1"}')
    before = _files(tmp_path)
    for out in (folder, tmp_path):
        done = run_export(photo, *SMALL, "--out", out, "--force", cwd=REPO)
        assert done.returncode == 1
        assert f"where the input {photo} is" in _one_line(done.stderr)
    work = tmp_path / "shots"
    done = run_export("example:pixel", *SMALL, "--out", tmp_path, "--force", cwd=work)
    assert "is the current folder or holds it" in _one_line(done.stderr)
    assert _files(tmp_path) == before


def test_home_and_root_are_refused_before_anything_else(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / "letter.txt").write_text("keep")
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(ExportTargetError, match="is your home folder"):
        check_target(home, True)
    with pytest.raises(ExportTargetError, match="is your home folder or holds it"):
        check_target(tmp_path, True)
    with pytest.raises(ExportTargetError, match="is the root folder"):
        check_target("/", True)
    with pytest.raises(ExportTargetError, match="name is empty"):
        check_target("  ", True)
    assert (home / "letter.txt").read_text() == "keep"


def test_a_figure_set_is_recognised_by_its_manifest_only(qapp, tmp_path):
    job = ExportJob(figure_set_state())
    lookalike = tmp_path / "lookalike"
    lookalike.mkdir()
    (lookalike / "manifest.json").write_text('{"format": "something-else"}')
    (lookalike / "sheet.png").write_bytes(b"mine")
    with pytest.raises(ExportTargetError, match="not a figure set written by ShiftLab"):
        write_figure_set(lookalike, job, FigureSetOptions(formats=("json",)), force=True)
    assert _files(lookalike) == {"manifest.json": b'{"format": "something-else"}',
                                 "sheet.png": b"mine"}


def figure_set_state() -> ViewState:
    return ViewState(InputImage(np.eye(12, dtype=np.float32)), PipelineSpec(levels=1))


# -- 5. flags with bounds ------------------------------------------------------------------------
@pytest.mark.parametrize("flag, value, words", [
    ("--levels", "1000000000", "--levels: 1000000000 is out of range: use 0 to 12"),
    ("--top-k", "1000000000", "--top-k: 1000000000 is out of range: use 0 to 50"),
    ("--width", "100000", "--width: 100000 is out of range: use 64 to 4000"),
    ("--animate-shifts", "3000", "--animate-shifts: 3000 is out of range: use 0 to 256"),
    ("--pool-size", "1000", "--pool-size: 1000 is out of range: use 1 to 8"),
    ("--stride", "99", "--stride: 99 is out of range: use 1 to 8"),
    ("--blur-size", "2147483648", "--blur-size: 2147483648 is out of range: use 1 to 7"),
])
def test_flags_beyond_what_the_window_offers_are_usage_errors(flag, value, words, tmp_path,
                                                              capsys):
    assert cli.main(["example:pixel", "--out", str(tmp_path / "set"), flag, value]) == 2
    assert words in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_animation_frames_live_on_disk_not_in_a_list(qapp, tmp_path, monkeypatch):
    seen = {}
    real = figure_set._write_animation

    def spy(w):
        seen["frames"] = w.frames
        real(w)

    monkeypatch.setattr(figure_set, "_write_animation", spy)
    options = FigureSetOptions(width=160, animate_shifts=3, formats=("png",))
    out = write_figure_set(tmp_path / "set", ExportJob(figure_set_state()), options)
    assert isinstance(seen["frames"], np.memmap) and len(seen["frames"]) == 4
    capture = cv2.VideoCapture(str(out / "sweep.mp4"))
    count = 0
    while capture.read()[0]:
        count += 1
    assert count == 4
    ok, gif = cv2.imreadanimation(str(out / "sweep.gif"))
    assert ok and len(gif.frames) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]  # frames.raw went too


# -- 6. two exports to one folder -------------------------------------------------------------
def test_a_set_that_appears_while_writing_is_never_replaced(qapp, tmp_path):
    target = tmp_path / "set"

    def meanwhile(step, total, message):
        if step == 2:  # another export finishes first
            write_figure_set(target, ExportJob(figure_set_state()),
                             FigureSetOptions(formats=("json",)))

    with pytest.raises(ExportTargetError, match="appeared there while the set was being"):
        write_figure_set(target, ExportJob(figure_set_state()),
                         FigureSetOptions(formats=("json", "csv")), progress=meanwhile)
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["options"]["formats"] == ["json"]  # the first set, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_two_export_processes_at_once_one_wins_and_nothing_is_replaced(tmp_path):
    photo = _photo_file(tmp_path / "photo.png", 200, 260)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    args = [sys.executable, str(REPO / "main.py"), "export", str(photo), "--mirror",
            "--width", "300", "--out", str(tmp_path / "set"), "--quiet"]
    procs = [subprocess.Popen(args + ["--top-k", str(k)], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for k in (3, 4)]
    results = [(p.wait(timeout=180), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 1], results
    winner = next(i for i, r in enumerate(results) if r[0] == 0)
    manifest = json.loads((tmp_path / "set" / "manifest.json").read_text())
    assert manifest["options"]["top_k"] == (3, 4)[winner]
    loser = results[1 - winner][2]
    assert "appeared there" in _one_line(loser) or "not empty" in loser
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "set"]


# -- 7. signals and litter ----------------------------------------------------------------------
@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                          (signal.SIGINT, 130)])
def test_signals_stop_the_export_like_ctrl_c_and_leave_nothing(signum, code, tmp_path):
    photo = _photo_file(tmp_path / "photo.png", 120, 160)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), "export", str(photo), "--animate-shifts",
         "256", "--width", "600", "--out", str(tmp_path / "deep" / "set")],
        env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in proc.stderr:  # progress lines; send the signal mid-animation
        if "rendering shift 3" in line:
            break
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "nothing was written" in _one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]  # no deep/, no tmp


def test_stale_temporary_folders_of_killed_exports_are_cleaned(qapp, tmp_path):
    target = tmp_path / "set"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead_pid = int(dead.stdout)

    def leftover(name: str, pid, for_target: Path = target) -> Path:
        folder = tmp_path / name
        (folder / "set").mkdir(parents=True)
        (folder / "set" / "half.png").write_bytes(b"x" * 100)
        if pid != "none":
            (folder / MARKER).write_text(json.dumps({"pid": pid, "target": str(for_target)}))
        return folder

    killed = leftover("set.tmp-killed1", dead_pid)
    aside = leftover("set.old-killed2", None)  # marked abandoned
    running = leftover("set.tmp-running", os.getpid())
    unmarked = leftover("set.tmp-user", "none")
    other = leftover("set.tmp-other", dead_pid, tmp_path / "elsewhere")
    write_figure_set(target, ExportJob(figure_set_state()), FigureSetOptions(formats=("json",)))
    assert not killed.exists() and not aside.exists()
    assert running.exists() and unmarked.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "set", "set.tmp-other", "set.tmp-running", "set.tmp-user"]


def test_a_failed_export_creates_no_parent_folders(tmp_path):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    done = run_export("example:pixel", "--compare", bad, "--out", tmp_path / "a" / "b" / "set")
    assert done.returncode == 1 and str(bad) in _one_line(done.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.png"]


def test_ctrl_c_while_the_old_set_is_deleted_says_what_happened(qapp, tmp_path, monkeypatch,
                                                                 capsys):
    target = tmp_path / "set"
    assert cli.main(["example:pixel", "--out", str(target), "--quiet", "--formats", "json"]) == 0
    capsys.readouterr()
    real_rmtree = target_module.shutil.rmtree

    def interrupted(path, *args, **kwargs):
        if ".old-" in str(path):
            raise KeyboardInterrupt
        real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(target_module.shutil, "rmtree", interrupted)
    assert cli.main(["example:pixel", "--out", str(target), "--quiet", "--force",
                     "--formats", "json,csv", "--top-k", "2"]) == 130
    err = _one_line(capsys.readouterr().err)
    assert "nothing was written" not in err
    assert f"the new figure set is in {target}" in err and "next export there deletes" in err
    assert json.loads((target / "manifest.json").read_text())["options"]["top_k"] == 2
    assert len([p for p in tmp_path.iterdir() if ".old-" in p.name]) == 1
    monkeypatch.undo()
    assert cli.main(["example:pixel", "--out", str(target), "--quiet", "--force",
                     "--formats", "json"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


# -- 9. errors in one line ------------------------------------------------------------------------
def test_a_video_writer_failure_names_the_file_in_the_target(qapp, tmp_path, monkeypatch,
                                                             capsys):
    class Closed:
        def __init__(self, *args):
            pass

        def isOpened(self):  # noqa: N802 (OpenCV's name)
            return False

        def release(self):
            pass

    monkeypatch.setattr(figures.video, "av", None)  # the OpenCV fallback, which fails
    monkeypatch.setattr(figures.video.cv2, "VideoWriter", Closed)
    target = tmp_path / "set"
    assert cli.main(["example:pixel", "--out", str(target), "--quiet",
                     "--animate-shifts", "2"]) == 1
    err = _one_line(capsys.readouterr().err)
    assert f"{target / 'sweep.mp4'}: could not be written (OpenCV could not open" in err
    assert ".tmp-" not in err
    assert list(tmp_path.iterdir()) == []


def test_unreadable_and_overlong_output_names_are_one_line(tmp_path, monkeypatch, capsys):
    long_name = tmp_path / ("x" * 300)
    assert cli.main(["example:pixel", "--out", str(long_name)]) == 1
    assert "File name too long" in _one_line(capsys.readouterr().err)

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "x").write_text("x")
    monkeypatch.setattr(Path, "iterdir", denied)
    assert cli.main(["example:pixel", "--out", str(locked)]) == 1
    err = _one_line(capsys.readouterr().err)
    assert err.endswith(f"{locked}: cannot be used (Permission denied); choose another "
                        "output folder.")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write into any folder")
def test_a_parent_folder_without_write_permission_is_one_line(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert cli.main(["example:pixel", "--out", str(locked / "set")]) == 1
    assert "not writable" in _one_line(capsys.readouterr().err)


@pytest.mark.parametrize("extra, code, words", [
    ((), 0, None),  # all-zero maps: 0/0 distances and an empty sweep
    (("--kernel-values", "1e30,0;0,1e30"), 1, "row 1, column 1 is beyond ±1e+06"),
])
def test_no_runtime_warnings_reach_the_user(extra, code, words, tmp_path):
    flat = tmp_path / "flat.png"
    cv2.imwrite(str(flat), np.zeros((40, 40), np.uint8))
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run(
        [sys.executable, "-W", "error", str(REPO / "main.py"), "export", str(flat), "--mirror",
         "--quiet", "--animate-shifts", "2", "--width", "200", "--out", str(tmp_path / "s"),
         *extra], env=env, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == code, done.stderr
    if words is None:
        assert done.stderr == ""
    else:
        assert words in _one_line(done.stderr)
