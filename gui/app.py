"""Starting the window: a display check, Qt and pyqtgraph options, the main window.

The command line is parsed in ``main.py``.
"""

from __future__ import annotations

import errno
import os
import re
import socket
import sys
from collections.abc import Mapping, Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from gui.window.settings import APPLICATION, ORGANIZATION

#: What to do when no window can open, appended to the reason.
NO_WINDOW_ADVICE = ("run ShiftLab in a desktop session, or use 'shiftlab export INPUT --out DIR' "
                    "to write figures without a window")

# Qt platforms that need a display server; any other (offscreen, minimal, vnc, eglfs, ...)
# draws without one, and Qt on macOS and Windows always has its native one.
_X11 = ("xcb",)
_WAYLAND = ("wayland", "wayland-egl")
_LOCAL_X_DISPLAY = re.compile(r"^(?:unix)?:(\d+)(?:\.\d+)?$")


def _local_x_server_listens(display: int) -> bool | None:
    """Whether an X server listens on local display `display`: True, False, or None when
    a connection attempt says neither (a sandbox, a permission), so Qt should decide."""
    names = [f"/tmp/.X11-unix/X{display}"]
    if sys.platform.startswith("linux"):
        names.append(f"\0/tmp/.X11-unix/X{display}")  # the abstract socket Xorg also opens
    answer: bool | None = False
    for name in names:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            try:
                sock.connect(name)
            except OSError as exc:
                if exc.errno not in (errno.ENOENT, errno.ECONNREFUSED):
                    answer = None
                continue
            return True
    return answer


def display_problem(env: Mapping[str, str] | None = None,
                    platform: str | None = None) -> str | None:
    """Say why Qt cannot open a window here, before a QApplication tries (and aborts).

    Only Linux and the other Unixes (not macOS) need a display server. With
    ``QT_QPA_PLATFORM`` unset (or ``xcb`` / ``wayland``) there must be a Wayland display
    (``WAYLAND_DISPLAY``) or an X display (``DISPLAY``); a local X display such as ``:0``
    must also have a server listening on its socket. Remote X displays (``host:0``) and
    sockets that cannot be probed are left to Qt.

    Parameters
    ----------
    env : mapping of str to str, optional
        The environment; ``os.environ`` when omitted.
    platform : str, optional
        ``sys.platform`` when omitted.

    Returns
    -------
    str or None
        The reason, in a few words, or None when a window can (as far as can be told) open.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win32", "darwin")):
        return None
    requested = {name.split(":")[0].strip().lower()
                 for name in env.get("QT_QPA_PLATFORM", "").split(";")} - {""}
    if requested - set(_X11 + _WAYLAND):
        return None  # offscreen, minimal, vnc, eglfs, ...: no display server needed
    x11_only = bool(requested) and requested <= set(_X11)
    if env.get("WAYLAND_DISPLAY") and not x11_only:
        return None
    display = env.get("DISPLAY", "")
    if not display:
        if x11_only:
            return "no X display to open a window on (QT_QPA_PLATFORM=xcb, DISPLAY is not set)"
        return "no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set)"
    if requested and not requested & set(_X11):
        return None  # Wayland only: its default socket may serve without WAYLAND_DISPLAY
    local = _LOCAL_X_DISPLAY.match(display)
    if local and _local_x_server_listens(int(local.group(1))) is False:
        return f"cannot reach the X display {display} (no X server listens on its socket)"
    return None


def configure_pyqtgraph() -> None:
    """Row-major images (numpy order, no transposes) and crisp, unsmoothed pixels."""
    pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


def run_app(argv: Sequence[str]) -> int:
    """Open the main window, optionally with the file named in `argv`.

    Where no window can open (no display, or an X server that is not running), print one
    line to stderr saying so and what to do instead, and return 1, before Qt would abort.

    Parameters
    ----------
    argv : sequence of str
        Nothing, or the one file to open (``main.py`` parses the command line).

    Returns
    -------
    int
        The process exit code: the application's, or 1 without a display.

    Raises
    ------
    ValueError
        If `argv` holds more than one item.
    """
    if len(argv) > 1:
        raise ValueError(f"argv: expected at most one file to open, got {len(argv)}; the "
                         "command line is parsed in main.py")
    app = QApplication.instance()
    if app is None:
        problem = display_problem()
        if problem:
            print(f"shiftlab: error: {problem}; {NO_WINDOW_ADVICE}.", file=sys.stderr)
            return 1
        app = QApplication([sys.argv[0] if sys.argv else "shiftlab"])
    configure_pyqtgraph()
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    from gui.window.main_window import MainWindow

    window = MainWindow(guide_on_first_start=True)
    window.show()
    if argv and argv[0].endswith(".shiftlab"):
        window.open_session(argv[0])  # a session (figure sets carry one): the state as saved
    elif argv:
        window.open_file(argv[0])
    code = app.exec()
    window.close()  # idempotent: makes sure the worker threads are stopped
    return code
