"""Qt test setup: no mouse-rate limit, isolated settings, and no thread or timer left
running after a test."""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QSettings, QThread
from PySide6.QtWidgets import QMessageBox

# Row-major images as the app uses them, and every mouse move delivered (pyqtgraph
# otherwise drops moves closer than 10 ms apart, which synthetic drags are).
pg.setConfigOptions(mouseRateLimit=0, imageAxisOrder="row-major", antialias=False)


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory):
    """Point QSettings (INI, both scopes) at a fresh folder for every test."""
    folder = tmp_path_factory.mktemp("settings")
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(folder))
    yield folder


@pytest.fixture(autouse=True)
def no_thread_left_running(monkeypatch):
    """Fail a test that leaves a QThread it started running (and stop it, so the
    process does not abort when the thread object is destroyed)."""
    started: list[QThread] = []
    original = QThread.start

    def recording_start(self, *args, **kwargs):
        started.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(QThread, "start", recording_start)
    yield
    running = []
    for thread in started:
        try:
            alive = thread.isRunning()
        except RuntimeError:  # the C++ object is already gone, so the thread is too
            continue
        if alive:
            running.append(thread.objectName() or repr(thread))
            thread.quit()
            thread.wait(10_000)
    if running:
        pytest.fail(f"test left QThread(s) running: {', '.join(running)}")


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
