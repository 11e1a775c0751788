"""The comparison plot dock: peak displacement and distance per stage, stage names on the x axis."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

from engine import Comparison


def stage_axis_ticks(names: list[str]) -> list[list[tuple[int, str]]]:
    """Tick labels for an x axis whose values are stage indices."""
    return [[(i, name) for i, name in enumerate(names)]]


class ComparePlot(QWidget):
    """Two linked plots: how far the global maximum moved (dy and dx, in each stage's own
    cells) and the distance, per stage.

    Attributes
    ----------
    dy, dx, distance : pg.PlotDataItem
        The curves; ``getData()`` returns (stage index, value).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.displacement_plot = pg.PlotWidget()
        self.distance_plot = pg.PlotWidget()
        self.displacement_plot.addLegend(offset=(-10, 10), labelTextSize="8pt")
        self.dy = self.displacement_plot.plot(
            [], [], pen=pg.mkPen("#ff2d55", width=2), symbol="o", symbolBrush="#ff2d55",
            symbolSize=9, name="dy (rows)")
        self.dx = self.displacement_plot.plot(
            [], [], pen=pg.mkPen("#ffb000", width=2, style=Qt.PenStyle.DashLine), symbol="x",
            symbolBrush="#ffb000", symbolPen="#ffb000", symbolSize=9, name="dx (cols)")
        self.distance = self.distance_plot.plot(
            [], [], pen=pg.mkPen("#38a1ff", width=2), symbol="s", symbolBrush="#38a1ff",
            symbolSize=7)
        for plot, label in ((self.displacement_plot, "peak moved (cells)"),
                            (self.distance_plot, "distance ‖A − B‖/max")):
            plot.setLabel("left", label)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMouseEnabled(x=False, y=False)
            plot.setMinimumSize(200, 100)
        self.distance_plot.setXLink(self.displacement_plot)
        layout = QHBoxLayout(self)  # side by side: the dock stays low
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.displacement_plot)
        layout.addWidget(self.distance_plot)
        self.comparison: Comparison | None = None

    def show_comparison(self, comparison: Comparison) -> None:
        """Plot every compared stage of `comparison`."""
        self.comparison = comparison
        names = [c.name for c in comparison.stages]
        x = np.arange(len(names), dtype=float)
        self.dy.setData(x, np.array([c.displacement[0] for c in comparison.stages], float))
        self.dx.setData(x, np.array([c.displacement[1] for c in comparison.stages], float))
        self.distance.setData(x, np.array([c.distance for c in comparison.stages]))
        for plot in (self.displacement_plot, self.distance_plot):
            plot.getAxis("bottom").setTicks(stage_axis_ticks(names))
            plot.enableAutoRange(axis="y")
            plot.setXRange(-0.3, len(names) - 0.7, padding=0)  # end markers fully visible

    def clear(self) -> None:
        """Remove the curves' data."""
        self.comparison = None
        self.dy.setData([], [])
        self.dx.setData([], [])
        self.distance.setData([], [])
