"""The comparison plot dock: peak displacement and distance per stage, stage names on the x axis."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine import Comparison

from .metrics_dock import displacement_sum


def stage_axis_ticks(names: list[str]) -> list[list[tuple[int, str]]]:
    """Tick labels for an x axis whose values are stage indices."""
    return [[(i, name) for i, name in enumerate(names)]]


class ComparePlot(QWidget):
    """Two linked plots: displacement |dy|+|dx| of the global maximum (cells) and distance.

    Attributes
    ----------
    displacement, distance : pg.PlotDataItem
        The curves; ``getData()`` returns (stage index, value).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.displacement_plot = pg.PlotWidget()
        self.distance_plot = pg.PlotWidget()
        pen = pg.mkPen("#ff2d55", width=2)
        self.displacement = self.displacement_plot.plot(
            [], [], pen=pen, symbol="o", symbolBrush="#ff2d55", symbolSize=8)
        self.distance = self.distance_plot.plot(
            [], [], pen=pg.mkPen("#38a1ff", width=2), symbol="s", symbolBrush="#38a1ff",
            symbolSize=7)
        for plot, label in ((self.displacement_plot, "peak moved |dy|+|dx| (cells)"),
                            (self.distance_plot, "distance ‖A − B‖/max")):
            plot.setLabel("left", label)
            plot.showGrid(x=True, y=True, alpha=0.25)
            plot.setMouseEnabled(x=False, y=False)
            plot.setMinimumHeight(120)
        self.distance_plot.setXLink(self.displacement_plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.displacement_plot)
        layout.addWidget(self.distance_plot)

    def show_comparison(self, comparison: Comparison) -> None:
        """Plot every compared stage of `comparison`."""
        names = [c.name for c in comparison.stages]
        x = np.arange(len(names), dtype=float)
        self.displacement.setData(x, np.array([displacement_sum(c) for c in comparison.stages],
                                              dtype=float))
        self.distance.setData(x, np.array([c.distance for c in comparison.stages]))
        for plot in (self.displacement_plot, self.distance_plot):
            plot.getAxis("bottom").setTicks(stage_axis_ticks(names))
            plot.enableAutoRange()

    def clear(self) -> None:
        """Remove the curves' data."""
        self.displacement.setData([], [])
        self.distance.setData([], [])
