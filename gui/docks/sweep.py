"""The Shift sweep dock: distance per stage as the input slides 0..N pixels, one curve per stage.

:class:`SweepPanel` asks its `source` for a snapshot of the input and the current
spec, submits a :class:`SweepRequest` (:func:`engine.shift_sweep` on the job runner's
own "sweep" lane: a newer sweep replaces an older one), shows progress, cancels on
request (``runner.cancel(SweepRequest)``) and keeps the previous curves until new ones
arrive. Errors and cancellation go to :attr:`SweepPanel.message`, which the window
shows in its status bar.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine import PipelineSpec, SweepCancelled, sweep_stages
from gui.docks.controls import _combo, _spin
from gui.worker import (
    JobContext,
    JobDone,
    JobFailed,
    JobProgress,
    JobRunner,
    JobSettled,
    Request,
    error_message,
)

SWEEP = "sweep"
DIRECTIONS = {"horizontal (right)": "x", "vertical (down)": "y", "diagonal": "diagonal"}
REFERENCES = {
    "f(x) unmoved (invariance)": False,
    "f(x) moved by whole cells (periodic 2^k)": True,
}
MAX_SHIFT = 64


@dataclass(frozen=True)
class SweepResult:
    """What a sweep measured: shifts (rows), stage names (columns), distances."""

    shifts: np.ndarray
    names: list[str]
    distances: np.ndarray
    axis: str
    wrap: bool
    align: bool


def run_sweep(image: np.ndarray, spec: PipelineSpec, shifts: list[int] | tuple[int, ...],
              axis: str, wrap: bool, align: bool, context: JobContext) -> SweepResult:
    """The sweep job: :func:`engine.sweep_stages` with the context's progress, stopping once
    the context is cancelled (Cancel, a newer sweep, shutdown).

    Returns
    -------
    SweepResult

    Raises
    ------
    engine.SweepCancelled
        When stopped.
    ValueError
        From :func:`engine.sweep_stages` for an impossible spec or image.
    """
    names, distances = sweep_stages(image, spec, shifts, axis=axis, wrap=wrap, align=align,
                                    progress=lambda done, total: context.progress(done / total),
                                    cancel=lambda: context.cancelled)
    return SweepResult(np.asarray(shifts), names, distances, axis, wrap, align)


@dataclass(frozen=True, slots=True, eq=False)
class SweepRequest(Request[SweepResult]):
    """A shift sweep of a frozen input snapshot; :func:`run_sweep` with these arguments.
    Stopping by :class:`engine.SweepCancelled` counts as cancelled."""

    lane: ClassVar[str] = SWEEP
    cancellations: ClassVar[tuple[type[BaseException], ...]] = (SweepCancelled,)
    image: np.ndarray
    spec: PipelineSpec
    shifts: tuple[int, ...]
    axis: str
    wrap: bool
    align: bool

    def run(self, context: JobContext) -> SweepResult:
        """Sweep; see :func:`run_sweep` for what is returned and raised."""
        return run_sweep(self.image, self.spec, self.shifts, self.axis, self.wrap, self.align,
                         context)


class SweepPanel(QWidget):
    """Sweep settings, Run / Cancel, a progress bar and the curves.

    Parameters
    ----------
    runner : JobRunner
        Runs the :class:`SweepRequest` (lane ``"sweep"``).
    source : callable
        Returns ``(image snapshot, spec)`` for a new sweep; raises ValueError when the
        controls hold no valid spec.

    Signals
    -------
    message(str)
        Text for the status bar (errors, cancellation, completion).
    finished(object)
        A sweep completed; the argument is its :class:`SweepResult`.
    """

    message = Signal(str)
    finished = Signal(object)

    def __init__(self, runner: JobRunner, source: Callable[[], tuple[np.ndarray, PipelineSpec]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.source = source
        self.direction = _combo(DIRECTIONS, "horizontal (right)", "Direction of the shift")
        self.max_shift = _spin(1, MAX_SHIFT, 16, "Largest shift N: shifts 0, 1, ..., N pixels")
        self.border = _combo(["circular (wrap around)", "zero fill"], "circular (wrap around)",
                             "What enters at the border: the pixels that left, or zeros")
        self.reference = _combo(REFERENCES, "f(x) unmoved (invariance)",
                                "Compare f(shift x) with f(x) in place (how much the map changes "
                                "at all), or with f(x) moved by the shift in whole cells (what "
                                "the stage does besides moving along: 0 at multiples of 2^k "
                                "for an equivariant stage)")
        self.run_button = QPushButton("Run sweep")
        self.run_button.setToolTip("Pool mode, kernel and levels come from the Controls dock")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "shift (pixels)")
        self.plot.setLabel("left", "distance to reference")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumSize(260, 120)
        self.legend = self.plot.addLegend(offset=(8, 4), labelTextSize="8pt", colCount=4,
                                          brush=pg.mkBrush(32, 33, 36, 200))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.result: SweepResult | None = None

        # settings on the left, curves on the right: the dock stays low under the panels
        form = QFormLayout()
        form.addRow("Direction", self.direction)
        form.addRow("Shifts 0 … N", self.max_shift)
        form.addRow("Border", self.border)
        form.addRow("Compare with", self.reference)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        side = QVBoxLayout()
        side.addLayout(form)
        side.addLayout(buttons)
        side.addWidget(self.progress)
        side.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(side)
        layout.addWidget(self.plot, 1)

        self._request = 0
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        runner.subscribe(SweepRequest, done=self._on_finished, failed=self._on_failed,
                         progress=self._on_progress, settled=self._on_settled, owner=self)

    @property
    def running(self) -> bool:
        """True while a sweep submitted here has not ended."""
        return self._request != 0

    def run(self) -> int:
        """Start a sweep with the current settings, replacing one that is running.

        Returns the request id, or 0 when the source could not give an input.
        """
        try:
            image, spec = self.source()
        except ValueError as exc:
            self.message.emit(f"Cannot sweep: {exc}")
            return 0
        shifts = tuple(range(self.max_shift.value() + 1))
        axis = DIRECTIONS[self.direction.currentText()]
        wrap = self.border.currentIndex() == 0
        align = REFERENCES[self.reference.currentText()]
        # a running sweep is cancelled by the newer request on its lane
        self._request = self.runner.submit(SweepRequest(image, spec, shifts, axis, wrap, align))
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self.message.emit(f"Sweeping shifts 0…{shifts[-1]} ({self.direction.currentText()})…")
        return self._request

    def cancel(self) -> None:
        """Stop the running sweep; the previous curves stay."""
        if self._request:
            self.runner.cancel(self._request)

    def _end(self) -> None:
        self._request = 0
        self.progress.setValue(0)
        self.cancel_button.setEnabled(False)

    def _on_progress(self, event: JobProgress) -> None:
        if event.request_id == self._request:
            self.progress.setValue(round(1000 * event.fraction))

    def _on_failed(self, event: JobFailed) -> None:
        if event.request_id != self._request:
            return
        self._end()
        self.message.emit(f"Shift sweep failed: {error_message(event.error)}")

    def _on_settled(self, event: JobSettled) -> None:
        if event.request_id == self._request and event.cancelled:
            self._end()
            self.message.emit("Shift sweep cancelled; the previous curves are kept.")

    def _on_finished(self, event: JobDone[SweepResult]) -> None:
        if event.request_id != self._request:
            return
        result = event.result
        self._end()
        self.show_result(result)
        self.message.emit(f"Shift sweep done: {len(result.shifts)} shifts, "
                          f"{len(result.names)} stages.")
        self.finished.emit(result)

    def show_result(self, result: SweepResult) -> None:
        """Draw one curve per stage, named in the legend."""
        self.result = result
        for name in list(self.curves):
            if name not in result.names:
                self.legend.removeItem(self.curves[name])
                self.plot.removeItem(self.curves.pop(name))
        count = len(result.names)
        for j, name in enumerate(result.names):
            curve = self.curves.get(name)
            if curve is None:
                curve = self.plot.plot([], [], name=name)
                self.curves[name] = curve
            color = pg.intColor(j, hues=max(count, 2), maxValue=230)
            curve.setPen(pg.mkPen(color, width=2))
            curve.setSymbol("o")
            curve.setSymbolSize(4)
            curve.setSymbolBrush(color)
            curve.setSymbolPen(None)
            curve.setData(result.shifts.astype(float), result.distances[:, j])
        mode = "vs f(x) moved by whole cells" if result.align else "vs f(x) unmoved"
        self.plot.setTitle(f"{mode}, {'circular' if result.wrap else 'zero-filled'} shifts "
                           f"({result.axis})", size="9pt")
