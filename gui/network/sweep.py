"""The network's shift sweep: how far each chosen layer moves, and how sure the answer stays,
as the input slides (:func:`engine.networks.network_sweep`, on its own worker lane).

The Network sweep dock holds the axis, the largest shift, wrap-around and the class to
follow (the unshifted top-1, or one the user names, e.g. the true class), a Run button and
two plots: per layer, the distance of the shifted input's map from the unshifted one
(``||f(shifted) - f(x)|| / max(...)``, compared in place) and the followed class's
probability, both against the shift.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import SWEEP_AXES, SweepCancelled
from engine.networks import NetworkChoice, NetworkSweep, network_sweep, short_name
from figures.drawing import PLOT_COLORS
from gui.worker import JobContext, Request

NETWORK_SWEEP = "network-sweep"
TOP1 = -1


@dataclass(frozen=True, slots=True, eq=False)
class NetworkSweepRequest(Request[NetworkSweep]):
    """Sweep a frozen canvas snapshot through ``shifts`` along `axis` with `choice`."""

    lane: ClassVar[str] = NETWORK_SWEEP
    cancellations: ClassVar[tuple[type[BaseException], ...]] = (SweepCancelled,)
    image: np.ndarray
    choice: NetworkChoice
    shifts: tuple[int, ...]
    axis: str
    wrap: bool
    class_index: int | None = None

    def run(self, context: JobContext) -> NetworkSweep:
        """Run the sweep.

        Returns
        -------
        NetworkSweep

        Raises
        ------
        engine.SweepCancelled
            When cancelled (a newer sweep, or Stop).
        ValueError
            For a network that cannot run, or a class it does not have.
        """
        c = self.choice
        return network_sweep(
            c.load(), self.image, self.shifts, axis=self.axis, wrap=self.wrap,
            preparation=c.preparation, layers=c.layers, class_index=self.class_index,
            progress=lambda done, total: context.progress(done / total, f"shift {done}"),
            cancel=lambda: context.cancelled)


class NetworkSweepPanel(QWidget):
    """The dock's contents (see the module notes).

    Attributes
    ----------
    sweep : NetworkSweep or None
        What the plots show.

    Signals
    -------
    run_requested()
        Run was pressed.
    """

    run_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sweep: NetworkSweep | None = None
        self.axis = QComboBox()
        self.axis.addItems([a for a in SWEEP_AXES if a != "xy"])
        self.axis.setToolTip("Slide the input along x, y or the diagonal")
        self.max_shift = QSpinBox()
        self.max_shift.setRange(1, 32)
        self.max_shift.setValue(8)
        self.max_shift.setToolTip("Shifts 0 .. this many pixels of the network's input")
        self.wrap = QCheckBox("Wrap")
        self.wrap.setChecked(True)
        self.wrap.setToolTip("Circular shifts (else black comes in)")
        self.follow = QComboBox()
        self.follow.setToolTip("The class whose probability is plotted")
        self.follow.addItem("top-1 class", TOP1)
        self.run = QPushButton("Run")
        self.run.clicked.connect(self.run_requested)
        self.status = QLabel("Press Run to slide the input through the network.")
        self.status.setWordWrap(True)
        bar = QHBoxLayout()
        for w in (QLabel("Along"), self.axis, QLabel("up to"), self.max_shift, self.wrap,
                  QLabel("Follow"), self.follow, self.run):
            bar.addWidget(w)
        bar.addStretch(1)
        self.plots = pg.GraphicsLayoutWidget()
        self.plots.setBackground("w")
        self.distance = self.plots.addPlot(row=0, col=0)
        self.probability = self.plots.addPlot(row=1, col=0)
        self.probability.setXLink(self.distance)
        for plot, label in ((self.distance, "distance to unshifted"),
                            (self.probability, "probability")):
            plot.setMenuEnabled(False)
            plot.showGrid(x=True, y=True, alpha=0.2)
            for name in ("left", "bottom"):
                axis = plot.getAxis(name)
                axis.setPen("k")
                axis.setTextPen("k")
                axis.enableAutoSIPrefix(False)
            plot.setLabel("left", label, color="k")
        self.probability.setLabel("bottom", "shift (pixels)", color="k")
        self.probability.setYRange(0, 1, padding=0.02)
        self.legend = self.distance.addLegend(offset=(-5, 5), labelTextColor="k")
        self.plots.setMinimumHeight(220)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.status)
        layout.addWidget(self.plots, 1)

    def set_classes(self, labels: list[str]) -> None:
        """Offer these classes to follow (besides the top-1 class)."""
        current = [self.follow.itemText(i) for i in range(1, self.follow.count())]
        if current == labels:
            return
        while self.follow.count() > 1:
            self.follow.removeItem(1)
        for i, label in enumerate(labels):
            self.follow.addItem(label, i)

    def class_index(self) -> int | None:
        """The class to follow, or None for the unshifted top-1."""
        value = self.follow.currentData()
        return None if value is None or value == TOP1 else int(value)

    def shifts(self) -> tuple[int, ...]:
        """0 .. the largest shift."""
        return tuple(range(self.max_shift.value() + 1))

    def show_sweep(self, sweep: NetworkSweep, network: str, label: str | None) -> None:
        """Plot `sweep` of `network` (`label`: the followed class's name)."""
        self.sweep = sweep
        self.distance.clear()
        self.probability.clear()
        x = np.asarray(sweep.shifts, float)
        for j, name in enumerate(sweep.layers):
            pen = pg.mkPen(PLOT_COLORS[j % len(PLOT_COLORS)], width=2)
            self.distance.plot(x, sweep.distances[:, j], pen=pen, symbol="o", symbolSize=5,
                               symbolBrush=PLOT_COLORS[j % len(PLOT_COLORS)],
                               name=short_name(name))
        text = f"{network}: shifts along {sweep.axis}, {'wrapping' if sweep.wrap else 'zero fill'}"
        if sweep.probability is not None:
            self.probability.plot(x, sweep.probability, pen=pg.mkPen("#d62728", width=2),
                                  symbol="o", symbolSize=5, symbolBrush="#d62728")
            changes = int(np.count_nonzero(sweep.top1 != sweep.top1[0]))
            text += (f"; class {label}: probability {sweep.probability.min():.1%} .. "
                     f"{sweep.probability.max():.1%}; the top-1 class differs from the "
                     f"unshifted one at {changes} of {len(x)} shifts")
        self.status.setText(text)
