"""Processed frames per second of tracking, against the source's 30 fps: a 640x480 and a
1920x1080 H.264 video (the coffee photo sliding 3 px per frame) through the article's
pipeline (vertical Prewitt, valid, ReLU, 6 max pools).

For each size it times, over whole passes through the video:
  read      decoding and grey conversion alone (engine.open_video)
  track     read + pipeline + trajectory (what the window's live view needs per frame)
  + mp4     track + the annotated frame drawn and encoded (what ``shiftlab track`` does)

Run: .venv/bin/python tests/benchmarks/bench_track.py [repeats] [frames]
Prints the median and the best of the repeats in frames per second.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from engine import PipelineSpec, Trajectory, open_video, run_pipeline, sample_photo  # noqa: E402
from engine.trajectory import track_points  # noqa: E402

SOURCE_FPS = 30
SIZES = {"640x480": (480, 640), "1080p": (1080, 1920)}


def write_source(path: Path, shape: tuple[int, int], frames: int) -> Path:
    """The coffee photo, scaled to cover `shape`, sliding right 3 px a frame, as H.264."""
    from figures.video import Mp4Writer

    rows, cols = shape
    photo = (sample_photo("coffee") * 255).astype(np.uint8)
    scale = max(rows / photo.shape[0], (cols + 3 * frames) / photo.shape[1])
    big = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    writer = Mp4Writer(path, (cols, rows), SOURCE_FPS)
    try:
        for i in range(frames):
            grey = big[:rows, 3 * i:3 * i + cols]
            writer.write(cv2.cvtColor(np.ascontiguousarray(grey), cv2.COLOR_GRAY2BGR))
    finally:
        writer.close()
    return path


def one_pass(path: Path, mode: str, folder: Path) -> tuple[int, float]:
    """Run one pass; return (frames, seconds)."""
    from figures.trajectory import annotated_frame
    from figures.video import Mp4Writer

    spec = PipelineSpec()
    trajectory = Trajectory()
    video = None
    count = 0
    start = time.perf_counter()
    with open_video(path) as reader:
        while (frame := reader.read()) is not None:
            count += 1
            if mode == "read":
                continue
            result = run_pipeline(frame.image, spec, top_k=1)
            points = track_points(result, frame.index, frame.time_s)
            trajectory.append(points)
            if mode == "+ mp4":
                picture = annotated_frame(result, points, f"frame {frame.index}")
                if video is None:
                    video = Mp4Writer(folder / "annotated.mp4",
                                      (picture.shape[1], picture.shape[0]), SOURCE_FPS)
                video.write(picture)
    if video is not None:
        video.close()
    return count, time.perf_counter() - start


def main(repeats: int = 3, frames: int = 90) -> None:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (drawing needs it)
    print(f"{os.cpu_count()} cores; source {SOURCE_FPS} fps; article's pipeline; "
          f"median (best) of {repeats} passes over {frames} frames")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for label, shape in SIZES.items():
            path = write_source(folder / f"{label}.mp4", shape, frames)
            for mode in ("read", "track", "+ mp4"):
                rates = []
                for _ in range(repeats):
                    count, seconds = one_pass(path, mode, folder)
                    rates.append(count / seconds)
                median = statistics.median(rates)
                verdict = "keeps up" if median >= SOURCE_FPS else "drops frames"
                print(f"{label:8s} {mode:6s} {median:7.1f} fps ({max(rates):.1f})  "
                      f"{median / SOURCE_FPS:5.2f}x real time, {verdict}")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
