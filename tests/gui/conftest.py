"""Qt test setup: no mouse-rate limit, isolated settings, and no thread or timer left
running after a test (each named with the place that started it)."""

from __future__ import annotations

import functools
import gc
import os
import sys
import sysconfig
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import pyqtgraph as pg
import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, QThread, QTimer
from PySide6.QtWidgets import QMessageBox

# Row-major images as the app uses them, and every mouse move delivered (pyqtgraph
# otherwise drops moves closer than 10 ms apart, which synthetic drags are).
pg.setConfigOptions(mouseRateLimit=0, imageAxisOrder="row-major", antialias=False)


@pytest.fixture(autouse=True)
def collect_garbage_after_the_test():
    """Collect the test's windows and panels here, after they were closed, not at whatever
    allocation of a later test Python's collector happens to run on: a pyqtgraph view
    collected while another widget is being built or laid out can crash the process."""
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory):
    """Point QSettings (INI, both scopes) at a fresh folder for every test."""
    folder = tmp_path_factory.mktemp("settings")
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    yield folder


# -- threads and timers left running ---------------------------------------------------------------
#: How long a timer that is about to fire (a short single shot) may still take at teardown.
GRACE_S = 0.5
_LIBRARY = tuple(sorted({os.path.join(os.path.realpath(p), "") for p in (
    sys.prefix, sys.base_prefix, sys.exec_prefix, *sysconfig.get_paths().values()) if p}))


@functools.cache
def _is_library(filename: str) -> bool:
    """True for Python's and installed packages' code (Qt bindings, pyqtgraph, pytest-qt)."""
    if filename.startswith("<"):
        return True
    path = os.path.realpath(filename)
    return path.startswith(_LIBRARY) or "site-packages" in Path(path).parts


@dataclass(frozen=True)
class _Where:
    """Where something was started: the first project or test frame from the caller outwards
    (file, line), and the outermost one, the test or fixture behind it."""

    file: str
    line: int
    test_file: str
    test_line: int

    @classmethod
    def of(cls, frame: FrameType | None) -> _Where:
        # Walks the frames only (no source lines read): cheap enough for every start.
        first = last = None
        while frame is not None:
            if not _is_library(frame.f_code.co_filename):
                last = (frame.f_code.co_filename, frame.f_lineno)
                first = first or last
            frame = frame.f_back
        if first is None or last is None:
            return cls("<unknown>", 0, "<unknown>", 0)
        return cls(*first, *last)

    def describe(self, root: Path) -> str:
        def short(file: str) -> str:
            path = Path(file)
            return path.relative_to(root).as_posix() if path.is_relative_to(root) else file

        here = f"{short(self.file)}:{self.line}"
        test = f"{short(self.test_file)}:{self.test_line}"
        return here if here == test else f"{here} (from {test})"


def _from_project(frame: FrameType) -> bool:
    return not _is_library(frame.f_code.co_filename)


@dataclass
class _SingleShot:
    where: _Where
    msec: int
    due: float
    context: weakref.ref | None
    fired: bool = False
    cancelled: bool = False

    def pending(self) -> bool:
        """Not fired yet, and Qt has not dropped it with its context object."""
        if self.fired or self.cancelled:
            return False
        if self.context is None:
            return True
        context = self.context()
        return context is not None and shiboken6.isValid(context)


@dataclass
class _Started:
    """The threads and timers a test started, with where it started them."""

    threads: list[tuple[QThread, _Where]] = field(default_factory=list)
    timers: dict[int, tuple[weakref.ref, _Where]] = field(default_factory=dict)
    shots: list[_SingleShot] = field(default_factory=list)

    def running_timers(self) -> list[tuple[QTimer, _Where]]:
        running = []
        for ref, where in self.timers.values():
            timer = ref()
            # A timer whose owner is gone was deleted with it, and stopped.
            if timer is not None and shiboken6.isValid(timer) and timer.isActive():
                running.append((timer, where))
        return running

    def about_to_fire(self, deadline: float) -> bool:
        now = time.monotonic()
        return (any(s.pending() and s.due <= deadline for s in self.shots)
                or any(t.isSingleShot() and now + t.remainingTime() / 1000 <= deadline
                       for t, _ in self.running_timers()))


def _record_starts(monkeypatch, started: _Started) -> None:
    """Patch QThread.start, QTimer.start and QTimer.singleShot to note where each is called.

    Every thread counts. A timer counts when project or test code starts it (not pyqtgraph,
    Qt or pytest-qt on their own behalf). A single shot's callable is wrapped to note that it
    fired (PySide6 calls a bare callable or bound method without any context either way).
    """
    thread_start = QThread.start
    timer_start = QTimer.start
    single_shot = QTimer.singleShot

    def recording_thread_start(self, *args, **kwargs):
        started.threads.append((self, _Where.of(sys._getframe(1))))
        return thread_start(self, *args, **kwargs)

    def recording_timer_start(self, *args, **kwargs):
        caller = sys._getframe(1)
        if _from_project(caller):
            started.timers[id(self)] = (weakref.ref(self), _Where.of(caller))
        return timer_start(self, *args, **kwargs)

    def recording_single_shot(msec: int, *args: Any):
        caller = sys._getframe(1)
        functor = args[-1] if args else None
        if not _from_project(caller) or not callable(functor):
            return single_shot(msec, *args)
        context = args[0] if len(args) == 2 and isinstance(args[0], QObject) else None
        shot = _SingleShot(_Where.of(caller), msec, time.monotonic() + msec / 1000,
                           weakref.ref(context) if context is not None else None)
        started.shots.append(shot)

        def fire(*call_args):
            shot.fired = True
            if not shot.cancelled:
                return functor(*call_args)
            return None

        return single_shot(msec, *args[:-1], fire)

    monkeypatch.setattr(QThread, "start", recording_thread_start)
    monkeypatch.setattr(QTimer, "start", recording_timer_start)
    monkeypatch.setattr(QTimer, "singleShot", staticmethod(recording_single_shot))


def _stop_threads(started: _Started, root: Path) -> list[str]:
    left = []
    for thread, where in started.threads:
        try:
            alive = thread.isRunning()
        except RuntimeError:  # the C++ object is already gone, so the thread is too
            continue
        if alive:
            name = thread.objectName() or repr(thread)
            left.append(f"QThread {name} started at {where.describe(root)}")
            thread.quit()
            thread.wait(10_000)
    return left


def _stop_timers(started: _Started, root: Path) -> list[str]:
    """Give timers one round of events (and the grace if one is about to fire), then name
    and stop every timer still running and cancel every single shot still pending."""
    app = QCoreApplication.instance()
    if app is None:
        return []
    app.processEvents()
    deadline = time.monotonic() + GRACE_S
    while started.about_to_fire(deadline) and time.monotonic() < deadline:
        time.sleep(0.005)
        app.processEvents()
    if started.running_timers():
        # Widgets closed at teardown are deleted later, and their timers with them.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    left = []
    for timer, where in started.running_timers():
        kind = "single-shot " if timer.isSingleShot() else ""
        left.append(f"{kind}QTimer {timer.objectName() or repr(timer)} "
                    f"({timer.interval()} ms) started at {where.describe(root)}")
        if timer.thread() is QThread.currentThread():
            timer.stop()
    for shot in started.shots:
        if shot.pending():
            left.append(f"QTimer.singleShot({shot.msec} ms) started at {shot.where.describe(root)}")
            shot.cancelled = True
    return left


@pytest.fixture(autouse=True)
def no_thread_or_timer_left_running(monkeypatch, pytestconfig):
    """Fail a test that leaves a QThread, a QTimer or a QTimer.singleShot running, naming
    where each was started; stop the threads (a QThread destroyed while running aborts the
    process) and the timers, so the next test starts clean."""
    started = _Started()
    _record_starts(monkeypatch, started)
    yield started
    left = _stop_threads(started, pytestconfig.rootpath)
    left += _stop_timers(started, pytestconfig.rootpath)
    if left:
        pytest.fail("test left running:\n  " + "\n  ".join(left), pytrace=False)


# -- the main window and real input events ---------------------------------------------------------
class Driver:
    """Sends real mouse events to the Input panel of a window, in input-pixel coordinates."""

    def __init__(self, qtbot, window) -> None:
        self.qtbot = qtbot
        self.window = window

    def widget_pos(self, row: float, col: float, panel: int = 0):
        """Viewport position of input coordinates (row, col) (pixel centres at +0.5)."""
        from PySide6.QtCore import QPointF

        row_widget = self.window.row
        scene = row_widget.panels[panel].view.mapViewToScene(QPointF(col, row))
        return row_widget.graphics.mapFromScene(scene)

    def send(self, kind, row, col, button, buttons, modifiers=None, panel: int = 0) -> None:
        from PySide6.QtCore import QPointF, Qt
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        viewport = self.window.row.graphics.viewport()
        local = QPointF(self.widget_pos(row, col, panel))
        event = QMouseEvent(kind, local, QPointF(viewport.mapToGlobal(local.toPoint())),
                            button, buttons, modifiers or Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(viewport, event)

    def drag(self, points, button=None, modifiers=None, wait: bool = True) -> None:
        """Press at the first (row, col), move through the others, release at the last."""
        from PySide6.QtCore import QEvent, Qt

        button = button or Qt.MouseButton.LeftButton
        none = Qt.MouseButton.NoButton
        (r, c), rest = points[0], points[1:]
        self.send(QEvent.Type.MouseMove, r, c, none, none, modifiers)
        self.send(QEvent.Type.MouseButtonPress, r, c, button, button, modifiers)
        for r, c in rest:
            self.send(QEvent.Type.MouseMove, r, c, none, button, modifiers)
        self.send(QEvent.Type.MouseButtonRelease, r, c, button, none, modifiers)
        if wait:
            self.wait()

    def hover(self, row: float, col: float, panel: int = 0) -> None:
        """Move the pointer (no button) over input coordinates of a panel."""
        from PySide6.QtCore import QEvent, Qt

        none = Qt.MouseButton.NoButton
        self.send(QEvent.Type.MouseMove, row, col, none, none, panel=panel)

    def wait(self, timeout: int = 10_000) -> None:
        """Wait until the newest pipeline request is drawn."""
        self.qtbot.waitUntil(self.window.up_to_date, timeout=timeout)


@pytest.fixture
def window(qtbot):
    """A shown main window with its first result drawn."""
    from gui.window.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    Driver(qtbot, win).wait()
    yield win
    win.close()


@pytest.fixture
def driver(qtbot, window):
    """Real mouse events for `window`."""
    return Driver(qtbot, window)


@pytest.fixture
def warnings(monkeypatch):
    """Record QMessageBox.warning calls instead of blocking on a modal box."""
    calls: list[tuple[str, str]] = []

    def record(parent, title, text, *args, **kwargs):
        calls.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(record))
    return calls
