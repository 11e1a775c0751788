"""The window's docks: controls, metrics, plots, sweeps, the inspector and "What you see"."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def on_screen(widget: QWidget) -> bool:
    """True if some of `widget` can be seen now.

    ``isVisible()`` alone is also true for the dock behind another dock's tab, which
    nobody sees; a dock that is updated for every result of a drag is updated only while
    it can be seen, and catches up when its tab is selected.
    """
    return widget.isVisible() and not widget.visibleRegion().isEmpty()
