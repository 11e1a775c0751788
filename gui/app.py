"""Starting the application: Qt and pyqtgraph options, the main window, the command line."""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from gui.window.settings import APPLICATION, ORGANIZATION

USAGE = "usage: shiftlab [IMAGE]   (or: shiftlab export INPUT --out DIR)"


def configure_pyqtgraph() -> None:
    """Row-major images (numpy order, no transposes) and crisp, unsmoothed pixels."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


def run_app(argv: list[str]) -> int:
    """Open the main window, optionally with the image file named in `argv`.

    Parameters
    ----------
    argv : list of str
        Arguments after the program name: nothing, or one image path.

    Returns
    -------
    int
        The process exit code (2 for bad arguments).
    """
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return 0
    if len(argv) > 1:
        print(USAGE, file=sys.stderr)
        return 2
    configure_pyqtgraph()
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "shiftlab"])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    from gui.window.main_window import MainWindow

    window = MainWindow()
    window.show()
    if argv:
        window.open_file(argv[0])
    code = app.exec()
    window.close()  # idempotent: makes sure the worker threads are stopped
    return code
