"""The list of recently opened files, kept in the settings and shown as a menu."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMenu

from gui.window.settings import AppSettings

KEY = "files/recent"
MAX_RECENT = 10


def _absolute(path: str) -> str:
    """`path` with its symbolic links resolved, or only made absolute when they cannot be
    (a loop of links, a name too long)."""
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError, ValueError):  # RuntimeError: a symlink loop (Python 3.11)
        return str(Path(path).absolute())


class RecentFiles:
    """Most recent first, without duplicates, at most `limit` entries."""

    def __init__(self, settings: AppSettings, limit: int = MAX_RECENT) -> None:
        self.settings = settings
        self.limit = limit

    def paths(self) -> list[str]:
        """The remembered paths, most recent first (entries that are not file names are
        dropped, with a notice)."""
        return self.settings.text_list(KEY)

    def add(self, path: str) -> None:
        """Put `path` (made absolute) first."""
        path = _absolute(path)
        items = [p for p in self.paths() if p != path]
        self.settings.set_value(KEY, [path, *items][: self.limit])

    def remove(self, path: str) -> None:
        """Forget `path` (for example after it failed to open), as given or made absolute."""
        forget = {path, _absolute(path)}
        self.settings.set_value(KEY, [p for p in self.paths() if p not in forget])

    def clear(self) -> None:
        """Forget every path."""
        self.settings.set_value(KEY, [])

    def fill_menu(self, menu: QMenu, open_path: Callable[[str], None]) -> None:
        """Rebuild `menu` with one entry per path (Ctrl+1 .. Ctrl+9) and a Clear entry."""
        menu.clear()
        paths = self.paths()
        for i, path in enumerate(paths):
            action = menu.addAction(f"&{i + 1} {Path(path).name}" if i < 9 else Path(path).name)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: open_path(p))
        if not paths:
            menu.addAction("(none)").setEnabled(False)
        menu.addSeparator()
        menu.addAction("Clear recent files",
                       lambda: (self.clear(), self.fill_menu(menu, open_path)))
