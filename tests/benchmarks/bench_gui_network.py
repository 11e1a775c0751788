"""How closely network mode's answer follows a drag in the real window, and how long the GUI
ever stalls meanwhile.

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_gui_network.py

Drives the real main window (offscreen) with synthetic mouse events, as the tests do: the
canvas is slid with the mouse (tool "slide"), one move every 16 ms (60 Hz), while a
5 ms QTimer heartbeat records the longest gap between its ticks (a GUI stall). For each
move it measures the time from sending it to the moment an answer that includes it is
drawn (the bar chart and layer panels of a network request submitted after the move).

Cases:

- a drawn 7 through the bundled digit network ``digits-max`` (28x28), and the three
  digit networks side by side; target: median <= 16 ms;
- a ResNet-18-sized ONNX model at 224x224 (random weights, built here with PyTorch,
  tests/torch_models.py) on a 400x600 picture resized to it; target: median <= 150 ms
  and no stall over 50 ms.

The shift map is computed on its own lane meanwhile (for the ResNet only once the drag
pauses), so it may lag the drag; its time is not in these numbers.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEvent, QPointF, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QMouseEvent  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui.app import configure_pyqtgraph  # noqa: E402

LEFT, NONE = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
MOVE_MS = 16
HEARTBEAT_MS = 5


def send(window, kind, row, col, button, buttons) -> None:
    row_widget = window.row
    scene = row_widget.panels[0].view.mapViewToScene(QPointF(col, row))
    local = QPointF(row_widget.graphics.mapFromScene(scene))
    viewport = row_widget.graphics.viewport()
    QApplication.sendEvent(viewport, QMouseEvent(
        kind, local, QPointF(viewport.mapToGlobal(local.toPoint())), button, buttons,
        Qt.KeyboardModifier.NoModifier))


def wait(app, condition, timeout_s: float = 120.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not condition():
        app.processEvents()
        time.sleep(0.001)
        if time.perf_counter() > deadline:
            raise TimeoutError("the window did not settle")


def drag(app, window, moves: int) -> tuple[list[float], float, int]:
    """Slide the canvas with `moves` mouse moves at 60 Hz; return the move-to-answer
    latencies (ms), the longest heartbeat gap (ms) and how many moves got no answer of
    their own (coalesced into a later one is fine; counted only if never answered)."""
    mode = window.network
    h, w = window.model.shape
    r0, c0 = h / 2, w / 2
    submitted: dict[int, float] = {}
    original = mode.request

    def recording_request() -> int:
        request_id = original()
        submitted[request_id] = time.perf_counter()
        return request_id

    mode.request = recording_request
    sent: list[float] = []
    latencies: list[float] = []
    answered = 0  # moves answered so far (in order)
    last_drawn = [mode._drawn_id]
    gaps = [0.0]
    clock = QElapsedTimer()
    clock.start()
    last_tick = [clock.elapsed()]

    def heartbeat() -> None:
        nonlocal answered
        now_ms = clock.elapsed()
        gaps[0] = max(gaps[0], now_ms - last_tick[0])
        last_tick[0] = now_ms
        drawn = mode._drawn_id
        if drawn != last_drawn[0] and drawn in submitted:
            last_drawn[0] = drawn
            now = time.perf_counter()
            while answered < len(sent) and sent[answered] <= submitted[drawn]:
                latencies.append((now - sent[answered]) * 1000)
                answered += 1

    step = [0]

    def move() -> None:
        k = step[0]
        if k >= moves:
            return
        step[0] += 1
        dx = (k % 8) - 4 if k % 16 < 8 else 4 - (k % 8)  # back and forth by a few pixels
        send(window, QEvent.Type.MouseMove, r0, c0 + dx, NONE, LEFT)
        sent.append(time.perf_counter())

    beat = QTimer()
    beat.timeout.connect(heartbeat)
    mover = QTimer()
    mover.timeout.connect(move)
    send(window, QEvent.Type.MouseMove, r0, c0, NONE, NONE)
    send(window, QEvent.Type.MouseButtonPress, r0, c0, LEFT, LEFT)
    beat.start(HEARTBEAT_MS)
    mover.start(MOVE_MS)
    wait(app, lambda: step[0] >= moves)
    mover.stop()
    wait(app, lambda: mode.answer_up_to_date() and answered == len(sent), 60)
    beat.stop()
    send(window, QEvent.Type.MouseButtonRelease, r0, c0, LEFT, NONE)
    wait(app, mode.up_to_date)
    mode.request = original
    return latencies, gaps[0], len(sent) - answered


def report(name: str, latencies: list[float], stall: float, missed: int, target: float,
           stall_target: float | None = None) -> None:
    median = statistics.median(latencies)
    p95 = float(np.percentile(latencies, 95))
    verdict = "met" if median <= target else "MISSED"
    line = (f"{name}: move-to-answer median {median:.1f} ms, p95 {p95:.1f} ms "
            f"(target {target:.0f} ms: {verdict}); longest GUI stall {stall:.0f} ms")
    if stall_target is not None:
        line += f" (target {stall_target:.0f} ms: {'met' if stall <= stall_target else 'MISSED'})"
    if missed:
        line += f"; {missed} moves never answered"
    print(line, flush=True)


def main() -> None:
    app = QApplication.instance() or QApplication([])
    configure_pyqtgraph()
    import pyqtgraph as pg

    pg.setConfigOptions(mouseRateLimit=0)
    with tempfile.TemporaryDirectory() as tmp:
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(QSettings.Format.IniFormat, scope, tmp)
        from gui.window.main_window import MainWindow

        window = MainWindow()
        window.resize(1600, 1000)
        window.show()
        wait(app, window.up_to_date)
        mode = window.network

        # -- the digit networks --------------------------------------------------------------
        mode.choose("digits-max")
        wait(app, mode.up_to_date)
        model = window.model
        model.clear()
        model.begin_stroke()
        for (a, b), (c, d) in (((6, 8), (6, 20)), ((6, 20), (22, 11))):
            model.paint_pen(a, b, c, d, 1.0)
        model.end_stroke()
        window.canvas_controls.tool.setCurrentText("slide")
        wait(app, mode.up_to_date)
        report("digits-max 28x28", *drag(app, window, 300), target=16, stall_target=50)
        mode.choose("variants")
        wait(app, mode.up_to_date)
        report("three digit networks side by side", *drag(app, window, 300), target=16,
               stall_target=50)

        # -- a ResNet-18-sized model ---------------------------------------------------------
        try:
            import torch
            from torch_models import resnet
        except ImportError:
            print("ResNet-18 224x224: torch not installed, skipped")
        else:
            torch.manual_seed(0)
            net = resnet(64, ((64, 1), (128, 2), (256, 2), (512, 2)), 2, 1000).eval()
            path = Path(tmp) / "resnet18.onnx"
            torch.onnx.export(net, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False,
                              opset_version=17)
            rng = np.random.default_rng(0)
            y, x = np.mgrid[0:400, 0:600] / 60.0
            picture = (0.5 + 0.25 * np.sin(x) * np.cos(y * 1.3)
                       + 0.05 * rng.random((400, 600))).astype(np.float32)
            window.canvas_controls.tool.setCurrentText("auto")
            mode.choose("kernel")
            model.set_image(picture)
            mode.open_model(path)
            wait(app, lambda: mode.choice is not None and mode.choice.path is not None)
            wait(app, mode.up_to_date)
            window.canvas_controls.tool.setCurrentText("slide")
            report("ResNet-18 224x224 (400x600 resized)", *drag(app, window, 120),
                   target=150, stall_target=50)
        window.close()


if __name__ == "__main__":
    main()
