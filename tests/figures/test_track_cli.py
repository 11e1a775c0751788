"""The track command as a user runs it (in-process ``main(argv)`` and a subprocess without a
display) on videos the tests write: the CSV against the known motion of a bright block, the
plot and the annotated MP4 decoded, exit codes, --force, Ctrl+C and cancel."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest
from moving_videos import Motion, truncate, write_folder, write_video

import figures.trajectory as trajectory_module
from engine import PipelineSpec, run_pipeline, track_points
from engine.report import FORMAT
from figures.figure_set import ExportCancelled
from figures.trajectory import (
    PLOT_WIDTH,
    TrackOptions,
    annotated_frame,
    stage_color,
    write_track,
)
from main import main

REPO = Path(__file__).resolve().parents[2]
MOTION = Motion(frames=12, dx=3, dy=1)


def one_line(text: str) -> str:
    return " ".join(text.split())


def read_csv(folder: Path) -> list[dict]:
    text = (folder / "trajectory.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert text.splitlines()[0] == "frame,time_s,stage,row,col,value,input_row,input_col"
    return rows


def by_stage(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["stage"], []).append(r)
    return out


def mp4_frames(path: Path) -> list[np.ndarray]:
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    return frames


@pytest.fixture
def video(tmp_path) -> Path:
    return write_video(tmp_path / "moving.avi", MOTION)  # lossless FFV1


def test_the_articles_pipeline_csv_follows_the_block_and_every_file_decodes(qapp, tmp_path,
                                                                           video, capsys):
    out = tmp_path / "track"
    assert main(["track", str(video), "--out", str(out)]) == 0
    std = capsys.readouterr()
    assert std.out.strip() == str(out.resolve())
    assert "[1/12] tracking frames" in std.err and "[12/12] tracking frames" in std.err
    rows = read_csv(out)
    stages = by_stage(rows)
    assert list(stages) == ["input", "conv"] + [f"pool {k}" for k in range(1, 6)]
    assert len(rows) == MOTION.frames * len(stages)  # one line per frame and stage
    for i in range(MOTION.frames):
        top, left = MOTION.corner(i)
        inp, conv = stages["input"][i], stages["conv"][i]
        assert (int(inp["frame"]), float(inp["time_s"])) == (i, pytest.approx(i / MOTION.fps))
        assert (int(inp["row"]), int(inp["col"])) == (top, left)
        assert (float(inp["input_row"]), float(inp["input_col"])) == (top, left)
        # the vertical Prewitt answers the block's left edge two columns to its right
        assert (int(conv["row"]), int(conv["col"]), float(conv["value"])) == (top, left - 2, 3)
        for k in range(1, 6):
            pool = stages[f"pool {k}"][i]
            assert (int(pool["row"]), int(pool["col"])) == (top // 2**k, (left - 2) // 2**k)
    plot = cv2.imread(str(out / "trajectory.png"))
    assert plot is not None and plot.shape[1] == PLOT_WIDTH
    svg = ET.parse(out / "trajectory.svg").getroot()
    assert svg.tag.endswith("svg") and svg.get("viewBox") == f"0 0 {PLOT_WIDTH} {plot.shape[0]}"
    frames = mp4_frames(out / "annotated.mp4")
    assert len(frames) == MOTION.frames
    assert frames[0].shape[1] == 640  # 128 px enlarged 5x, so the legend fits
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == FORMAT and manifest["kind"] == "trajectory"
    assert manifest["trajectory"]["video_codec"] == "h264"
    assert sorted(manifest["files"]) == sorted(p.name for p in out.iterdir())
    assert manifest["command"]["argv"][:3] == ["shiftlab", "track", str(video)]


def test_without_convolution_each_level_is_the_input_column_divided_by_its_stride(
        qapp, tmp_path, video):
    out = tmp_path / "track"
    assert main(["track", str(video), "--out", str(out), "-q", "--no-conv", "--levels", "4",
                 "--no-video", "--width", "400"]) == 0
    stages = by_stage(read_csv(out))
    assert list(stages) == ["input", "pool 1", "pool 2", "pool 3", "pool 4"]
    assert not (out / "annotated.mp4").exists()
    assert cv2.imread(str(out / "trajectory.png")).shape[1] == 400
    for k in range(1, 5):
        for inp, pool in zip(stages["input"], stages[f"pool {k}"], strict=True):
            assert int(pool["col"]) == int(inp["col"]) // 2**k
            assert int(pool["row"]) == int(inp["row"]) // 2**k
            # in input pixels: the centre of the 2^k x 2^k window the cell pools
            assert float(pool["input_col"]) == int(pool["col"]) * 2**k + (2**k - 1) / 2


def test_the_manifests_command_writes_the_same_csv_again(qapp, tmp_path, video, capsys):
    out = tmp_path / "track"
    assert main(["track", str(video), "--out", str(out), "-q", "--pool", "blurmax",
                 "--levels", "2", "--no-video", "--max-frames", "5"]) == 0
    first = (out / "trajectory.csv").read_text()
    argv = json.loads((out / "manifest.json").read_text())["command"]["argv"]
    assert argv[:2] == ["shiftlab", "track"] and "--max-frames" in argv
    assert main([*argv[1:], "--force", "-q"]) == 0
    assert (out / "trajectory.csv").read_text() == first
    assert len(read_csv(out)) == 5 * 4


def test_a_folder_of_frames_in_a_subprocess_without_a_display(tmp_path):
    folder = write_folder(tmp_path / "frames", MOTION)
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    done = subprocess.run([sys.executable, str(REPO / "main.py"), "track", str(folder),
                           "--out", str(tmp_path / "out"), "--no-conv", "--levels", "3"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str((tmp_path / "out").resolve())
    stages = by_stage(read_csv(tmp_path / "out"))
    cols = [MOTION.corner(i)[1] for i in range(MOTION.frames)]
    assert [int(r["col"]) for r in stages["input"]] == cols  # frame10 after frame9
    assert [int(r["col"]) for r in stages["pool 3"]] == [c // 8 for c in cols]
    assert [float(r["time_s"]) for r in stages["input"]] == pytest.approx(
        [i / 30 for i in range(MOTION.frames)])
    assert len(mp4_frames(tmp_path / "out" / "annotated.mp4")) == MOTION.frames


# -- bad input -------------------------------------------------------------------------------
@pytest.mark.parametrize("make,message", [
    (lambda d: d / "missing.mp4", "no such file"),
    (lambda d: (d / "notes.avi").write_text("not a video") and d / "notes.avi",
     "not a video OpenCV can read"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "holds no images"),
    (lambda d: write_video(d / "tiny.avi", Motion(frames=2, shape=(2, 2), top=0, left=0,
                                                  size=1, dx=0)),
     "kernel"),
])
def test_bad_input_exits_1_with_one_line_and_writes_nothing(qapp, tmp_path, capsys, make,
                                                            message):
    source = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["track", str(source), "--out", str(tmp_path / "o" / "t"), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("shiftlab track: error: ") and err.count("\n") == 1
    assert message in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_truncated_video_fails_then_its_good_frames_track_with_max_frames(qapp, tmp_path,
                                                                            capsys):
    cut = truncate(write_video(tmp_path / "cut.avi", MOTION, "MJPG"), 0.7)
    assert main(["track", str(cut), "--out", str(tmp_path / "t"), "-q"]) == 1
    err = one_line(capsys.readouterr().err)
    assert "breaks off after" in err and "Nothing was written" in err
    assert not (tmp_path / "t").exists()
    good = int(err.split("--max-frames ")[1].rstrip("."))
    assert 0 < good < MOTION.frames
    assert main(["track", str(cut), "--out", str(tmp_path / "t"), "-q",
                 "--max-frames", str(good)]) == 0
    assert len(mp4_frames(tmp_path / "t" / "annotated.mp4")) == good
    assert {int(r["frame"]) for r in read_csv(tmp_path / "t")} == set(range(good))


@pytest.mark.parametrize("args", [[], ["--levels", "99"], ["--max-frames", "0"],
                                  ["--width", "10"], ["--pool", "median"], ["--out", " "]])
def test_usage_errors_exit_2(tmp_path, video, capsys, args):
    argv = ["track", str(video)] + (["--out", str(tmp_path / "t")] if args else []) + args
    assert main(argv) == 2
    assert "usage: shiftlab track" in capsys.readouterr().err
    assert not (tmp_path / "t").exists()


def test_help_names_the_files_and_the_main_help_names_track(capsys):
    assert main(["track", "--help"]) == 0
    text = capsys.readouterr().out
    assert all(w in text for w in ("trajectory.csv", "annotated.mp4", "--no-conv", "--pool",
                                   "--levels", "--force", "--quiet", "--max-frames"))
    assert main(["--help"]) == 0
    assert "shiftlab track VIDEO --out DIR" in capsys.readouterr().out


# -- --force and where a folder may go ---------------------------------------------------------
def test_force_replaces_only_what_shiftlab_wrote(qapp, tmp_path, video, capsys):
    out = tmp_path / "t"
    args = ["track", str(video), "--out", str(out), "-q", "--no-video", "--levels", "1"]
    assert main(args) == 0
    assert main(args) == 1
    assert "--force" in capsys.readouterr().err
    assert main([*args, "--force"]) == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    assert main(["track", str(video), "--out", str(mine), "-q", "--force"]) == 1
    assert (mine / "notes.txt").read_text() == "keep me" and len(list(mine.iterdir())) == 1
    assert main(["track", str(video), "--out", str(tmp_path), "-q", "--force"]) == 1
    assert "where the input" in one_line(capsys.readouterr().err)


# -- interruptions -----------------------------------------------------------------------------
def test_ctrl_c_mid_video_leaves_nothing_behind(qapp, tmp_path, video, capsys, monkeypatch):
    calls = []

    def interrupted(image, spec, **kw):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return run_pipeline(image, spec, **kw)

    monkeypatch.setattr(trajectory_module, "run_pipeline", interrupted)
    assert main(["track", str(video), "--out", str(tmp_path / "deep" / "t"), "-q"]) == 130
    assert "interrupted; nothing was written" in one_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moving.avi"]


def test_sigint_to_a_running_track_exits_130_and_leaves_nothing(tmp_path):
    big = Motion(frames=150, shape=(480, 640), size=40, dx=2)
    source = write_video(tmp_path / "big.avi", big, "MJPG")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), "track", str(source),
                             "--out", str(tmp_path / "t")], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for line in proc.stderr:
        if line.startswith("[1/150]"):
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "nothing was written" in one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.avi"]


def test_cancel_stops_between_frames_and_leaves_nothing(qapp, tmp_path, video):
    stop = threading.Event()
    seen = []

    def progress(step, total, message):
        seen.append(step)
        if step == 3:
            stop.set()

    with pytest.raises(ExportCancelled, match="nothing was written"):
        write_track(tmp_path / "t", video, PipelineSpec(levels=2), TrackOptions(),
                    progress=progress, cancel=stop)
    assert seen == [1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moving.avi"]
    with pytest.raises(ValueError, match="max_frames"):
        TrackOptions(max_frames=0)


# -- the annotated frame -----------------------------------------------------------------------
def test_each_stage_is_outlined_where_its_maximum_is(qapp):
    motion = Motion(shape=(64, 128), top=20, left=50, size=6)
    result = run_pipeline(motion.grey(0) / np.float32(255),
                          PipelineSpec(convolve=False, levels=2), top_k=1)
    points = track_points(result, 0, 0.0)
    frame = annotated_frame(result, points, "caption")
    scale = 5  # 128 px enlarged to 640
    assert frame.shape[1] == 640 and frame.shape[0] % 2 == 0
    pool2 = points[2]
    assert (pool2.row, pool2.col) == (5, 12)
    colour = stage_color(2)
    bgr = np.array([colour.blue(), colour.green(), colour.red()])

    def near(y0, y1, x0, x1) -> int:
        patch = frame[y0:y1, x0:x1].astype(int)
        return int((np.abs(patch - bgr).sum(axis=2) < 30).sum())

    # pool 2's cell (5, 12) covers input rows 20..23, columns 48..51: its outline's top edge
    top, left, side = 20 * scale, 48 * scale, 4 * scale
    assert near(top - 2, top + 3, left, left + side) > side  # the top edge is drawn
    assert near(top + 40 - 2, top + 40 + 3, left + 80, left + 80 + side) == 0  # elsewhere: not


def test_the_pipeline_flags_mean_what_they_mean_for_export(qapp, tmp_path, video):
    """Kernel values starting with a minus sign are read as values, not options; the
    article's kernel written out gives the article's trajectory."""
    named, written = tmp_path / "named", tmp_path / "written"
    assert main(["track", str(video), "--out", str(named), "-q", "--no-video"]) == 0
    assert main(["track", str(video), "--out", str(written), "-q", "--no-video",
                 "--kernel-values", "-1,0,1;-1,0,1;-1,0,1"]) == 0
    assert (named / "trajectory.csv").read_text() == (written / "trajectory.csv").read_text()
    flat = tmp_path / "flat"
    assert main(["track", str(video), "--out", str(flat), "-q", "--no-video",
                 "--levels", "0", "--padding", "same"]) == 0
    stages = by_stage(read_csv(flat))
    assert list(stages) == ["input", "conv"]
    # 'same' padding keeps the size: the conv cell sits on the input pixel it is centred on
    assert all(float(r["input_col"]) == int(r["col"]) for r in stages["conv"])
