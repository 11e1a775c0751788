"""How fast the real window processes a playing video, and how long the GUI ever stalls.

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_gui_live.py

Writes two MJPG videos (smooth texture sliding 2 px per frame, 30 fps, 3 s): 640x480 and
1920x1080. Each is opened in the real window (offscreen) with the article's pipeline
(vertical Prewitt, valid, ReLU, 6 max pools of 2) and played to the end with Space, as a
person would; per run it prints the input frame rate (frames read), the processed frame
rate (frames whose result was drawn), the frames dropped, and the longest gap between
ticks of a 5 ms QTimer (the GUI's longest stall). Medians over the runs, and the worst.

Targets: 640x480 processed at the source rate (30 fps); 1080p: no stall over 50 ms
(frames are dropped instead).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
for folder in (ROOT, ROOT / "tests" / "gui", Path(__file__).resolve().parent):
    sys.path.insert(0, str(folder))

import numpy as np  # noqa: E402
from bench_gui import (  # noqa: E402
    StallMeter,
    bench_app,
    closing_windows,
    settle,
    wait_drawn,
)
from live_videos import write_textured  # noqa: E402
from PySide6.QtCore import QEventLoop, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from engine import PipelineSpec  # noqa: E402

RUNS = 3
FPS, SECONDS = 30.0, 3
SIZES = {"640x480": (480, 640), "1920x1080": (1080, 1920)}


def play_once(app, window, path: Path) -> tuple[float, float, int, int, float]:
    """Open `path`, play it to the end; return input fps, processed fps, frames read,
    frames dropped and the longest GUI stall in ms."""
    live = window.live
    processed: list[int] = []
    window.open_file(path)
    deadline = time.perf_counter() + 60
    while live.feed is None or live.shown is None or live._busy:
        app.processEvents()
        if time.perf_counter() > deadline:
            raise TimeoutError("the video did not open")
    wait_drawn(app, window)
    settle(app, 0.3)
    live.frame_processed.connect(processed.append)
    with StallMeter() as meter:
        t0 = time.perf_counter()
        QTest.keyClick(window, Qt.Key.Key_Space)
        assert live.playing, "Space did not start playing"
        while live.playing:
            # wait for events rather than spin: a busy loop would take a core from the
            # workers (the 5 ms heartbeat wakes it often enough)
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
            if time.perf_counter() - t0 > 120:
                raise TimeoutError("playback did not end")
        elapsed = time.perf_counter() - t0
        while live._busy or live._held is not None:
            app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
    live.frame_processed.disconnect(processed.append)
    read = live.input_rate.total - 1  # the first frame was read when the file opened
    count = live.info.frame_count
    assert processed and processed[-1] == count - 1, "the last frame was not processed"
    dropped = read - len(processed)
    return read / elapsed, len(processed) / elapsed, read, dropped, meter.worst


def main() -> int:
    return closing_windows(run)


def run() -> int:
    app, folder = bench_app("shiftlab-bench-live-")
    from gui.window.main_window import MainWindow

    window = MainWindow()
    window.resize(1600, 900)
    window.show()
    wait_drawn(app, window)
    window.pipeline_controls.set_spec(PipelineSpec())  # the article's pipeline
    wait_drawn(app, window)
    print(f"{RUNS} runs each, medians (worst); source {FPS:g} fps, {SECONDS} s, the article's "
          "pipeline")
    print(f"{'video':<11}{'input fps':>11}{'processed fps':>15}{'dropped':>9}"
          f"{'longest GUI stall ms':>23}")
    for name, shape in SIZES.items():
        path = folder / f"slide-{name}.avi"
        write_textured(path, int(FPS * SECONDS), shape, FPS)
        runs = np.array([play_once(app, window, path) for _ in range(RUNS)])
        inputs, outs, _reads, dropped, stalls = runs.T
        print(f"{name:<11}{np.median(inputs):>11.1f}{np.median(outs):>8.1f} ({outs.min():4.1f})"
              f"{np.median(dropped):>9.0f}{np.median(stalls):>14.1f} ({stalls.max():5.1f})")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
