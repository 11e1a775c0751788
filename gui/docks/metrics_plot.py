"""The comparison plot dock: peak displacement, distance and equivariance error per stage,
stage names on the x axis.

Values the engine leaves undefined (a distance where both maps are zero, an error where
the transform does not act on the stage) are NaN in the curves: gaps, never 0. The axes
read in the quantities' own units (no automatic SI prefix), and each plot's key sits in
its title, where it cannot cover a curve.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

from engine import Comparison
from gui.panels.views import DISPOSER

DY_COLOR, DX_COLOR = "#ff2d55", "#ffb000"
DISTANCE_COLOR, ERROR_COLOR = "#38a1ff", "#4dff88"


def stage_axis_ticks(names: list[str]) -> list[list[tuple[int, str]]]:
    """Tick labels for an x axis whose values are stage indices."""
    return [[(i, name) for i, name in enumerate(names)]]


def plain_axes(plot: pg.PlotWidget) -> None:
    """Make `plot`'s axes read in the data's own units: pyqtgraph otherwise scales values
    below 1 by 1000 and names the factor in a label that a small plot cuts off."""
    for side in ("left", "bottom"):
        plot.getAxis(side).enableAutoSIPrefix(False)


def key_title(entries: list[tuple[str, str]]) -> str:
    """A plot title naming each curve in its colour: ``(colour, name)`` pairs."""
    return " &nbsp; ".join(f"<span style='color:{color}'>{name}</span>"
                           for color, name in entries)


def finite_or_nan(values: list[float | None]) -> np.ndarray:
    """`values` as float64 with None as NaN (a gap in a curve drawn with connect="finite")."""
    return np.array([np.nan if v is None else v for v in values], dtype=float)


class ComparePlot(QWidget):
    """Two linked plots: how far the global maximum moved (dy and dx, in each stage's own
    cells), and the distance and the equivariance error, per stage.

    Attributes
    ----------
    dy, dx, distance, error : pg.PlotDataItem
        The curves; ``getData()`` returns (stage index, value), NaN where undefined.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.displacement_plot = pg.PlotWidget()
        self.distance_plot = pg.PlotWidget()
        self.dy = self.displacement_plot.plot(
            [], [], pen=pg.mkPen(DY_COLOR, width=2), symbol="o", symbolBrush=DY_COLOR,
            symbolSize=9, connect="finite")
        self.dx = self.displacement_plot.plot(
            [], [], pen=pg.mkPen(DX_COLOR, width=2, style=Qt.PenStyle.DashLine), symbol="x",
            symbolBrush=DX_COLOR, symbolPen=DX_COLOR, symbolSize=9, connect="finite")
        self.distance = self.distance_plot.plot(
            [], [], pen=pg.mkPen(DISTANCE_COLOR, width=2), symbol="s",
            symbolBrush=DISTANCE_COLOR, symbolSize=7, connect="finite")
        self.error = self.distance_plot.plot(
            [], [], pen=pg.mkPen(ERROR_COLOR, width=2, style=Qt.PenStyle.DashLine),
            symbol="t", symbolBrush=ERROR_COLOR, symbolPen=ERROR_COLOR, symbolSize=8,
            connect="finite")
        self.displacement_plot.setTitle(
            key_title([(DY_COLOR, "● dy (rows)"), (DX_COLOR, "✕ dx (cols)")]), size="8pt")
        self.distance_plot.setTitle(
            key_title([(DISTANCE_COLOR, "■ distance ‖A − B‖/max"),
                       (ERROR_COLOR, "▲ equivariance error (gaps: n/a)")]), size="8pt")
        for plot, label in ((self.displacement_plot, "peak moved (cells)"),
                            (self.distance_plot, "distance, error")):
            plot.setLabel("left", label)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMouseEnabled(x=False, y=False)
            plot.setMinimumSize(200, 100)
            plain_axes(plot)
        self.distance_plot.setXLink(self.displacement_plot)
        layout = QHBoxLayout(self)  # side by side: the dock stays low
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.displacement_plot)
        layout.addWidget(self.distance_plot)
        self.comparison: Comparison | None = None
        self._names: list[str] = []

    def show_comparison(self, comparison: Comparison) -> None:
        """Plot every compared stage of `comparison`."""
        DISPOSER.release(self.comparison)  # its runs are freed off the GUI thread
        self.comparison = comparison
        stages = comparison.stages
        names = [c.name for c in stages]
        x = np.arange(len(names), dtype=float)
        # no peak in either map where both are zero: a gap, not a displacement of 0
        moved = [(None, None) if c.both_zero else c.displacement for c in stages]
        values = {self.dy: finite_or_nan([m[0] for m in moved]),
                  self.dx: finite_or_nan([m[1] for m in moved]),
                  self.distance: finite_or_nan([c.distance for c in stages]),
                  self.error: finite_or_nan([c.equivariance_error for c in stages])}
        for curve, y in values.items():  # during a drag most curves stay the same
            old_x, old_y = curve.getData()
            if old_y is None or not np.array_equal(old_x, x) \
                    or not np.array_equal(old_y, y, equal_nan=True):
                curve.setData(x, y)
        for plot in (self.displacement_plot, self.distance_plot):
            plot.enableAutoRange(axis="y")
            if names != self._names:  # ticks and the x range change with the stages only
                plot.getAxis("bottom").setTicks(stage_axis_ticks(names))
                plot.setXRange(-0.3, len(names) - 0.7, padding=0)  # end markers fully visible
        self._names = names

    def clear(self) -> None:
        """Remove the curves' data."""
        self.comparison = None
        self._names = []
        for curve in (self.dy, self.dx, self.distance, self.error):
            curve.setData([], [])
