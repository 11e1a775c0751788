"""Closing while a job cannot be stopped: the window closes in about two seconds, the job's
thread is left running (never destroyed while it runs) and the process exits cleanly."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import shiboken6
from image_files import write_png
from PySide6.QtWidgets import QApplication

from gui.window.main_window import MainWindow
from gui.worker import (
    SHUTDOWN_TIMEOUT_MS,
    JobContext,
    JobRunner,
    JobSettled,
    Outcome,
    Request,
    detached_threads,
)

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True, eq=False)
class Blocked(Request[None]):
    """A load that blocks until `gate` is set, as a read from a stalled device would; it
    never looks at its cancellation."""

    lane: ClassVar[str] = "load"
    started: threading.Event
    gate: threading.Event

    def run(self, context: JobContext) -> None:
        self.started.set()
        self.gate.wait(60)


def test_shutdown_gives_up_after_its_timeout_and_detaches_the_thread(qtbot):
    started, gate = threading.Event(), threading.Event()
    runner = JobRunner()
    try:
        runner.submit(Blocked(started, gate))
        assert started.wait(5)
        thread = runner._threads["load"]
        t0 = time.monotonic()
        assert runner.shutdown(300) is False
        assert time.monotonic() - t0 < 2
        assert thread.isRunning() and thread in detached_threads()
        assert thread.parent() is not runner
        shiboken6.delete(runner)  # a running thread destroyed with it would abort
        QApplication.processEvents()
        assert shiboken6.isValid(thread) and thread.isRunning()
    finally:
        gate.set()
    qtbot.waitUntil(lambda: not detached_threads(), timeout=5000)


def test_closing_the_window_while_a_job_blocks_takes_about_two_seconds(qtbot, capfd):
    started, gate = threading.Event(), threading.Event()
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    try:
        win.runner.submit(Blocked(started, gate))
        assert started.wait(5)
        thread = win.runner._threads["load"]
        t0 = time.monotonic()
        win.close()
        assert time.monotonic() - t0 < SHUTDOWN_TIMEOUT_MS / 1000 + 1.5
        assert thread.isRunning() and thread in detached_threads()
        runner = win.runner
        runner.deleteLater()  # as when the window goes: its runner and anything it owns
        qtbot.waitUntil(lambda: not shiboken6.isValid(runner), timeout=2000)
        assert shiboken6.isValid(thread) and thread.isRunning()
    finally:
        gate.set()
    qtbot.waitUntil(lambda: not detached_threads(), timeout=5000)
    err = capfd.readouterr().err
    assert "a background job (load) did not stop within 2 s" in err
    assert "QThread: Destroyed" not in err


def test_an_open_behind_a_blocked_load_runs_on_a_new_thread(window, qtbot, tmp_path):
    started, gate = threading.Event(), threading.Event()
    photo = tmp_path / "photo.png"
    pixels = write_png(photo, 12, 16)
    window.runner.stuck_after_ms = 300
    settled: list[JobSettled] = []
    window.runner.subscribe(Blocked, settled=settled.append, owner=window)
    try:
        window.runner.submit(Blocked(started, gate))
        assert started.wait(5)
        blocked_thread = window.runner._threads["load"]
        with qtbot.waitSignal(window.image_opened, timeout=5000):
            window.open_file(photo)
        np.testing.assert_allclose(window.model.image, pixels / 255.0, atol=1e-6)
        assert blocked_thread in detached_threads() and blocked_thread.isRunning()
        assert window.runner._threads["load"] is not blocked_thread
    finally:
        gate.set()
    # the settled event is queued to the GUI thread, and may arrive after the thread ended
    qtbot.waitUntil(lambda: not detached_threads() and bool(settled), timeout=5000)
    assert [e.outcome for e in settled] == [Outcome.CANCELLED]  # its late result is dropped


def test_a_job_that_stops_when_cancelled_keeps_its_thread(window, qtbot, tmp_path):
    photo = tmp_path / "photo.png"
    write_png(photo, 12, 16)
    window.runner.stuck_after_ms = 300
    with qtbot.waitSignal(window.image_opened, timeout=5000):
        window.open_file(photo)
    thread = window.runner._threads["load"]
    for _ in range(3):
        with qtbot.waitSignal(window.image_opened, timeout=5000):
            window.open_file(photo)
            window.open_file(photo)  # cancels the one before: it stops (or ends) in time
    qtbot.wait(400)
    assert window.runner._threads["load"] is thread and not detached_threads()
    assert not window.runner._watchdog.isActive()


SCRIPT = """
import sys, threading, time
from dataclasses import dataclass
from typing import ClassVar
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, sys.argv[1])
app = QApplication(["shiftlab"])
from gui.app import run_app
from gui.window.main_window import MainWindow
from gui.worker import JobContext, Request

started = threading.Event()
never = threading.Event()


@dataclass(frozen=True, slots=True, eq=False)
class Blocked(Request[None]):
    lane: ClassVar[str] = "load"

    def run(self, context: JobContext) -> None:
        started.set()
        never.wait()


def close_while_blocked():
    window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    window.runner.submit(Blocked())
    started.wait(10)
    t0 = time.monotonic()
    window.close()
    print(f"closed in {time.monotonic() - t0:.2f} s", flush=True)


QTimer.singleShot(0, close_while_blocked)
sys.exit(run_app([]))
"""


def test_the_app_exits_cleanly_while_a_job_still_blocks(tmp_path):
    """The real quit path in a process of its own: its blocked thread is still running
    when Python and Qt tear down, which must neither abort nor wait for it."""
    script = tmp_path / "blocked.py"
    script.write_text(textwrap.dedent(SCRIPT))
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    t0 = time.monotonic()
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "settings")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    elapsed = time.monotonic() - t0
    assert "QThread: Destroyed" not in done.stderr
    assert done.returncode == 0, done.stderr
    closed = re.search(r"closed in ([\d.]+) s", done.stdout)
    assert closed and float(closed.group(1)) < SHUTDOWN_TIMEOUT_MS / 1000 + 1.5, done.stdout
    assert "a background job (load) did not stop within 2 s" in done.stderr
    assert elapsed < 30
