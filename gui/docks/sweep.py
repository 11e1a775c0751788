"""The Shift sweep dock: distance per stage as the input slides 0..N pixels, one curve per stage.

:class:`SweepPanel` asks its `source` for a snapshot of the input and the current
spec, submits a :class:`SweepRequest` (:func:`engine.shift_sweep` on the job runner's
own "sweep" lane: a newer sweep replaces an older one), shows progress, cancels on
request (``runner.cancel(SweepRequest)``) and keeps the previous curves until new ones
arrive; once the input or the pipeline differs from what they were measured on
(:meth:`SweepPanel.input_changed`), they are greyed and the title says they are stale.
Distances the engine leaves undefined (both maps zero) are gaps in the curves. The
settings are remembered (:class:`~gui.window.settings.AppSettings` checks them as they are
read). Errors and cancellation go to :attr:`SweepPanel.message`, which the window
shows in its status bar.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
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
from gui.docks.metrics_plot import plain_axes
from gui.window.settings import AppSettings
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
BORDERS = ["circular (wrap around)", "zero fill"]
#: Settings keys of the remembered sweep settings.
SETTINGS_KEYS = {"direction": "sweep/direction", "max_shift": "sweep/max_shift",
                 "border": "sweep/border", "reference": "sweep/reference"}
STALE_COLOR = (140, 140, 140, 150)


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
              axis: str, wrap: bool, align: bool, context: JobContext,
              on_shift: Callable[[int, list[str], int, np.ndarray], object] | None = None
              ) -> SweepResult:
    """The sweep job: :func:`engine.sweep_stages` with the context's progress, stopping once
    the context is cancelled (Cancel, a newer sweep, shutdown). Each shift's distances go
    to ``on_shift(request_id, names, i, row)`` as soon as they are measured (not once the
    request is cancelled).

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
    def deliver(names: list[str], i: int, row: np.ndarray) -> None:
        if on_shift is not None and not context.cancelled:
            on_shift(context.request_id, names, i, row)

    names, distances = sweep_stages(image, spec, shifts, axis=axis, wrap=wrap, align=align,
                                    progress=lambda done, total: context.progress(done / total),
                                    cancel=lambda: context.cancelled, on_shift=deliver)
    return SweepResult(np.asarray(shifts), names, distances, axis, wrap, align)


@dataclass(frozen=True, slots=True, eq=False)
class SweepRequest(Request[SweepResult]):
    """A shift sweep of a frozen input snapshot; :func:`run_sweep` with these arguments.
    Stopping by :class:`engine.SweepCancelled` counts as cancelled. `on_shift` receives
    every shift's distances from the worker thread as they are measured (a Qt signal's
    ``emit`` queues them to the GUI thread)."""

    lane: ClassVar[str] = SWEEP
    cancellations: ClassVar[tuple[type[BaseException], ...]] = (SweepCancelled,)
    image: np.ndarray
    spec: PipelineSpec
    shifts: tuple[int, ...]
    axis: str
    wrap: bool
    align: bool
    on_shift: Callable[[int, list[str], int, np.ndarray], object] | None = None

    def run(self, context: JobContext) -> SweepResult:
        """Sweep; see :func:`run_sweep` for what is returned and raised."""
        return run_sweep(self.image, self.spec, self.shifts, self.axis, self.wrap, self.align,
                         context, self.on_shift)


class _ShiftRows(QObject):
    """Carries one shift's distances from the worker thread to the panel."""

    measured = Signal(int, object, int, object)  # request id, stage names, index, row


class SweepPanel(QWidget):
    """Sweep settings, Run / Cancel, a progress bar and the curves.

    Parameters
    ----------
    runner : JobRunner
        Runs the :class:`SweepRequest` (lane ``"sweep"``).
    source : callable
        Returns ``(image snapshot, spec)`` for a new sweep; raises ValueError when the
        controls hold no valid spec.

    The curves grow as the shifts are measured; a cancelled sweep keeps the curves it
    measured so far (the previous curves stay only when it measured none).

    Signals
    -------
    message(str)
        Text for the status bar (errors, cancellation, completion).
    finished(object)
        A sweep completed; the argument is its :class:`SweepResult`.
    grown(object)
        The curves grew by one shift; the argument is the partial :class:`SweepResult`
        (the shifts measured so far).
    """

    message = Signal(str)
    finished = Signal(object)
    grown = Signal(object)

    def __init__(self, runner: JobRunner, source: Callable[[], tuple[np.ndarray, PipelineSpec]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.source = source
        self.direction = _combo(DIRECTIONS, "horizontal (right)", "Direction of the shift")
        self.max_shift = _spin(1, MAX_SHIFT, 16, "Largest shift N: shifts 0, 1, ..., N pixels")
        self.border = _combo(BORDERS, "circular (wrap around)",
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
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p%")
        # idle, an empty bar looks like a text field: it shows only while a sweep runs
        policy = self.progress.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.progress.setSizePolicy(policy)
        self.progress.setVisible(False)
        self.plot = pg.PlotWidget()
        self.plot.setLabel("bottom", "shift (pixels)")
        self.plot.setLabel("left", "distance to reference")
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumSize(260, 120)
        plain_axes(self.plot)
        # the key sits under the axes, in the plot's own layout, so it never covers a curve
        self.legend = pg.LegendItem(labelTextSize="8pt", colCount=8)
        self.plot.plotItem.layout.addItem(self.legend, 4, 1)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.result: SweepResult | None = None
        self.stale = False
        self._measured: tuple[np.ndarray, PipelineSpec] | None = None  # the curves' input
        # the last input found equal to the measured one (weakly held: it may be 12 MP)
        self._found_same: weakref.ref | None = None
        self._pending: tuple[np.ndarray, PipelineSpec] | None = None
        # the running sweep's distances so far: (shifts, names, rows, how many measured)
        self._growing: tuple[np.ndarray, list[str], np.ndarray, int] | None = None
        self._settings_of_run: tuple[str, bool, bool] = ("x", True, False)
        self._run_shifts: tuple[int, ...] = ()
        self._frozen = False  # Cancel was asked: shifts still arriving are not drawn
        self._rows = _ShiftRows(self)
        self._rows.measured.connect(self._on_shift)
        self.settings = AppSettings()
        self._restore_settings()

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
        for combo in (self.direction, self.border, self.reference):
            combo.currentIndexChanged.connect(self._remember)
        self.max_shift.valueChanged.connect(self._remember)
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
        self._request = self.runner.submit(SweepRequest(image, spec, shifts, axis, wrap, align,
                                                        self._rows.measured.emit))
        self._pending = (image, spec)
        self._growing = None
        self._frozen = False
        self._settings_of_run = (axis, wrap, align)
        self._run_shifts = shifts
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.message.emit(f"Sweeping shifts 0…{shifts[-1]} ({self.direction.currentText()})…")
        return self._request

    def cancel(self) -> None:
        """Stop the running sweep. The curves stop growing at once and keep the shifts
        drawn so far (the previous curves stay when none was drawn)."""
        if self._request:
            self._frozen = True
            self.runner.cancel(self._request)

    def _end(self) -> None:
        self._request = 0
        self._growing = None
        self.progress.setValue(0)
        self.progress.setVisible(False)
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
            growing = self._growing
            self._end()
            if growing is None:
                self.message.emit("Shift sweep cancelled; the previous curves are kept.")
                return
            shifts, _, _, done = growing
            self.finished_partially(self._partial_result(growing))
            self.message.emit(f"Shift sweep cancelled after {done} of {len(shifts)} shifts; "
                              "the curves measured so far are kept.")

    def _on_shift(self, request_id: int, names: list[str], index: int, row: np.ndarray
                  ) -> None:
        if request_id != self._request or self._frozen:
            return
        if self._growing is None or self._growing[1] != names:
            shifts = np.asarray(self._run_shifts, dtype=int)
            self._growing = (shifts, names, np.full((len(shifts), len(names)), np.nan), 0)
            self._measured, self._found_same = self._pending, None
            # the curves grow left to right in the frame of the whole sweep
            self.plot.setXRange(float(shifts.min()), float(shifts.max()))
        shifts, names, rows, done = self._growing
        rows[index] = row
        self._growing = (shifts, names, rows, max(done, index + 1))
        partial = self._partial_result(self._growing)
        self.show_result(partial)
        self.plot.setTitle(f"{self._title(partial)} … {len(partial.shifts)} of {len(shifts)} "
                           "shifts", size="9pt")
        self.grown.emit(partial)

    def _partial_result(self, growing: tuple[np.ndarray, list[str], np.ndarray, int]
                        ) -> SweepResult:
        shifts, names, rows, done = growing
        axis, wrap, align = self._settings_of_run
        return SweepResult(shifts[:done], list(names), rows[:done].copy(), axis, wrap, align)

    def finished_partially(self, result: SweepResult) -> None:
        """Keep `result`, the shifts a cancelled sweep measured, as the panel's result."""
        self._measured, self._found_same = self._pending, None
        self.show_result(result)

    def _on_finished(self, event: JobDone[SweepResult]) -> None:
        if event.request_id != self._request:
            return
        result = event.result
        self._end()
        self._measured, self._found_same = self._pending, None
        self.plot.enableAutoRange(axis="x")
        self.show_result(result)
        self.message.emit(f"Shift sweep done: {len(result.shifts)} shifts, "
                          f"{len(result.names)} stages.")
        self.finished.emit(result)

    def show_result(self, result: SweepResult) -> None:
        """Draw one curve per stage, named in the legend."""
        self.result = result
        self.stale = False
        for name in list(self.curves):
            self.legend.removeItem(self.curves[name])
            if name not in result.names:
                self.plot.removeItem(self.curves.pop(name))
        count = len(result.names)
        for j, name in enumerate(result.names):
            curve = self.curves.get(name)
            if curve is None:
                curve = self.plot.plot([], [], connect="finite")
                self.curves[name] = curve
            self.legend.addItem(curve, name)
            color = pg.intColor(j, hues=max(count, 2), maxValue=230)
            curve.setPen(pg.mkPen(color, width=2))
            curve.setSymbol("o")
            curve.setSymbolSize(4)
            curve.setSymbolBrush(color)
            curve.setSymbolPen(None)
            curve.setData(result.shifts.astype(float), result.distances[:, j])
        self.plot.setTitle(self._title(result), size="9pt")

    @staticmethod
    def _title(result: SweepResult) -> str:
        mode = "vs f(x) moved by whole cells" if result.align else "vs f(x) unmoved"
        title = (f"{mode}, {'circular' if result.wrap else 'zero-filled'} shifts "
                 f"({result.axis})")
        if np.isnan(result.distances).any():
            title += "; gaps: both maps zero (undefined)"
        return title

    def input_changed(self, image: np.ndarray, spec: PipelineSpec) -> None:
        """Mark the curves stale when `image` or `spec` differ from what they measured:
        greyed, and the title says to run the sweep again."""
        if self._measured is None or self.stale:
            return
        measured_image, measured_spec = self._measured
        if spec == measured_spec and self._found_same is not None \
                and image is self._found_same():
            return  # this very array was compared already (a redraw of the same result)
        same = spec == measured_spec and (
            image is measured_image or (image.shape == measured_image.shape
                                        and np.array_equal(image, measured_image)))
        if same:
            self._found_same = weakref.ref(image)
            return
        self.stale = True
        for curve in self.curves.values():
            curve.setPen(pg.mkPen(STALE_COLOR, width=1, style=Qt.PenStyle.DotLine))
            curve.setSymbolBrush(STALE_COLOR)
        self.plot.setTitle("<span style='color:#ffb000'>stale: the input or pipeline changed "
                           "since this sweep (Run sweep again)</span>", size="9pt")

    def _restore_settings(self) -> None:
        settings = self.settings
        keys = SETTINGS_KEYS
        self.direction.setCurrentText(settings.text_value(
            keys["direction"], self.direction.currentText(), list(DIRECTIONS)))
        self.max_shift.setValue(settings.int_value(keys["max_shift"], self.max_shift.value(),
                                                   1, MAX_SHIFT))
        self.border.setCurrentText(settings.text_value(
            keys["border"], self.border.currentText(), BORDERS))
        self.reference.setCurrentText(settings.text_value(
            keys["reference"], self.reference.currentText(), list(REFERENCES)))

    def _remember(self) -> None:
        keys = SETTINGS_KEYS
        for key, value in ((keys["direction"], self.direction.currentText()),
                           (keys["max_shift"], self.max_shift.value()),
                           (keys["border"], self.border.currentText()),
                           (keys["reference"], self.reference.currentText())):
            self.settings.set_value(key, value)
