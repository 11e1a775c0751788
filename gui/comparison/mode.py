"""Comparison mode, the shift sweep and the examples, attached to the main window.

:class:`CompareMode` builds the Compare, Metrics, Plot and Shift sweep docks, the
comparison rows under row A, View > Compare, File > Open as B… and File > Examples.
The window's pipeline request carries :meth:`CompareMode.setup` (what B is, while
comparing), so A and B are computed and drawn together, latest request winning; the
window draws row A and hands the :class:`~gui.panels.views.StateView` to
:meth:`CompareMode.draw` for the rest.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np
from PySide6.QtCore import QObject, QSignalBlocker, Qt, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine import (
    EXAMPLES,
    CompareSetup,
    ImageLoadError,
    ImageSource,
    InputImage,
    InputTransform,
    example_state,
)
from gui.comparison.rows import AreaSync, CompareRows, HoverEcho, SceneFit
from gui.docks import on_screen
from gui.docks.compare import CompareControls
from gui.docks.metrics import MetricsPanel
from gui.docks.metrics_plot import ComparePlot
from gui.docks.sweep import SweepPanel
from gui.panels.views import StateView
from gui.window.examples_menu import fill_examples_menu
from gui.window.files import IMAGE_FILTER
from gui.worker import JobContext, JobDone, JobFailed, Request, error_message

LOAD_B = "load-b"
COMPARE_SHORTCUT = "Ctrl+B"
METRICS_HEIGHT = 200  # pixels for the Metrics / plot / sweep docks when comparison starts


@dataclass(frozen=True, slots=True, eq=False)
class LoadBRequest(Request[InputImage]):
    """Load the image file `path` as B (File > Open as B…)."""

    lane: ClassVar[str] = LOAD_B
    path: str

    def run(self, context: JobContext) -> InputImage:
        """Read the file.

        Returns
        -------
        InputImage
            The grey float32 pixels and their source (path and SHA-256).

        Raises
        ------
        engine.ImageLoadError
            If the file cannot be read; the message names the file and the reason.
        """
        return InputImage.load(ImageSource.of_file(self.path))


class CompareHost(Protocol):
    """What comparison mode needs of the window it is attached to (its public parts)."""

    runner: object
    model: object
    row: object
    rows: list
    rows_layout: object
    controls_dock: object
    pipeline_controls: object
    recent: object
    menus: dict
    actions_by_name: dict

    def add_dock(self, widget, title, area): ...
    def add_row(self, row) -> None: ...
    def add_action(self, menu, name, text, slot, shortcut=None, tip="", checkable=False): ...
    def add_file_entry(self, entry) -> None: ...
    def tabifyDockWidget(self, first, second) -> None: ...  # noqa: N802 - Qt's name
    def resizeDocks(self, docks, sizes, orientation) -> None: ...  # noqa: N802 - Qt's name
    def statusBar(self): ...  # noqa: N802 - Qt's name
    def schedule_compute(self) -> None: ...
    def show_hover_text(self, text: str) -> None: ...
    def open_state(self, state, message: str = "") -> None: ...


class CompareMode(QObject):
    """Everything comparison mode adds to `window`.

    Attributes
    ----------
    controls : CompareControls
    metrics : MetricsPanel
    plot : ComparePlot
    sweep : SweepPanel
    rows : CompareRows
    compare_action : QAction
        View > Compare (checkable, Ctrl+B).
    """

    def __init__(self, window: CompareHost) -> None:
        super().__init__(window)
        self.window = window
        self.controls = CompareControls()
        self.metrics = MetricsPanel()
        self.plot = ComparePlot()
        self.sweep = SweepPanel(window.runner, self._sweep_source)
        self.rows = CompareRows(self)
        self.view: StateView | None = None

        right = Qt.DockWidgetArea.RightDockWidgetArea
        self.compare_dock = window.add_dock(self.controls, "Compare", right)
        window.tabifyDockWidget(window.controls_dock, self.compare_dock)
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.metrics_dock = window.add_dock(self.metrics, "Metrics", bottom)
        self.plot_dock = window.add_dock(self.plot, "Metrics plot", bottom)
        self.sweep_dock = window.add_dock(self.sweep, "Shift sweep", bottom)
        window.tabifyDockWidget(self.metrics_dock, self.plot_dock)
        window.tabifyDockWidget(self.plot_dock, self.sweep_dock)
        window.controls_dock.raise_()
        for dock in (self.metrics_dock, self.plot_dock, self.sweep_dock):
            dock.setVisible(False)
        self._legend_a = window.row.legend.text()
        for row in self.rows.rows:
            window.add_row(row)
        for row in window.rows:  # rows share the height equally
            window.rows_layout.setStretchFactor(row, 1)
        self.area_sync = AreaSync([window.row, *self.rows.rows], self)
        self.scene_fit = SceneFit([window.row, *self.rows.rows], self)
        self.hover_echo = HoverEcho([window.row, *self.rows.rows], self,
                                    transform=self._shown_transform)
        for name in ("fit", "zoom-in", "zoom-out"):
            window.actions_by_name[name].triggered.connect(self._follow_a)

        self.compare_action = window.add_action(
            "view", "compare", "&Compare A with B", self.set_active, COMPARE_SHORTCUT,
            "Show row B (a transform of A or another photo), the differences and the metrics",
            checkable=True)
        self.open_b_action = window.add_action("file", "open-b", "Open as &B…", self.choose_b,
                                            "Ctrl+Shift+O", "Open another photo as input B")
        self.examples_menu = window.menus["file"].addMenu("&Examples")
        window.add_file_entry(self.open_b_action)  # next to Open, not after Quit
        window.add_file_entry(self.examples_menu)
        self.example_actions = fill_examples_menu(self.examples_menu, self.load_example)

        for dock in (self.metrics_dock, self.plot_dock):
            dock.visibilityChanged.connect(
                lambda visible: visible and QTimer.singleShot(0, self._show_metrics))
        self.controls.toggled.connect(self.compare_action.setChecked)
        self.controls.changed.connect(self._on_setup_changed)
        self.controls.rows_changed.connect(self._on_rows_changed)
        self.controls.open_b_requested.connect(self.choose_b)
        self.sweep.message.connect(lambda text: window.statusBar().showMessage(text, 10_000))
        self.rows.b.hovered.connect(self._on_hover_b)
        window.row.drawn.connect(self._on_a_drawn)
        window.runner.subscribe(LoadBRequest, done=self._on_job_finished,
                                failed=self._on_job_failed, owner=self)

    # -- mode -----------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """True while comparing."""
        return self.rows.active

    def set_active(self, on: bool) -> None:
        """Switch comparison mode on or off (the action, the checkbox and the rows follow)."""
        on = bool(on)
        with QSignalBlocker(self.controls.enabled):
            self.controls.enabled.setChecked(on)
        with QSignalBlocker(self.compare_action):
            self.compare_action.setChecked(on)
        if on == self.rows.active:
            return
        self.rows.set_active(on)
        row_a = self.window.row
        row_a.set_wrap(not on)  # stacked rows line up stage by stage
        row_a.legend.setWordWrap(not on)  # a wrapping label would take the rows' height
        if on:
            for dock in (self.metrics_dock, self.plot_dock, self.sweep_dock):
                dock.setVisible(True)
            self.metrics_dock.raise_()
            # the docks below take what the table needs, the rows keep the rest
            QTimer.singleShot(0, lambda: self.window.resizeDocks(
                [self.metrics_dock], [METRICS_HEIGHT], Qt.Orientation.Vertical))
        else:
            self.window.row.legend.setText(self._legend_a)
            self.view = None
            self.metrics.clear()
            self.plot.clear()
        self.window.schedule_compute()

    def draw(self, view: StateView, request_id: int) -> None:
        """Draw B, the difference rows, the metrics and the plot of a pipeline job's view
        (row A is the window's); a view without B is ignored."""
        if view.comparison is None or not self.active:
            return
        self.view = view
        self.window.row.legend.setText("A = the input (the canvas; drag or paint here)")
        QTimer.singleShot(0, self.scene_fit.refit)
        self.rows.show_view(view, request_id)
        self._show_metrics()

    def _show_metrics(self) -> None:
        """Fill the metrics table and the plot, each only while it can be seen (a drag
        redraws them for every result); a dock brought to the front catches up."""
        if self.view is None:
            return
        comparison = self.view.comparison
        if on_screen(self.metrics) and self.metrics.comparison is not comparison:
            self.metrics.show_comparison(comparison, self.view.setup.description,
                                         self.view.a.drift_note)
        if on_screen(self.plot) and self.plot.comparison is not comparison:
            self.plot.show_comparison(comparison)

    def _shown_transform(self) -> InputTransform | None:
        """The transform between the rows A and B shown now, or None."""
        if self.view is None or self.view.comparison is None or not self.active:
            return None
        return self.view.comparison.transform

    def _on_a_drawn(self, _request_id: int) -> None:
        """Results measured on another input or pipeline are marked stale."""
        result = self.window.row.result
        if result is not None:
            self.sweep.input_changed(result.stages[0].array, result.spec)

    def _follow_a(self) -> None:
        QTimer.singleShot(0, lambda: self.area_sync.follow(self.window.row))

    def _on_setup_changed(self) -> None:
        if self.active:
            self.window.schedule_compute()

    def _on_rows_changed(self) -> None:
        self.rows.set_difference_rows(self.controls.signed_row.isChecked(),
                                      self.controls.magnitude_row.isChecked())
        if self.active:  # only the rows shown are computed
            self.window.schedule_compute()

    def _on_hover_b(self, index: int, row: int, col: int) -> None:
        result = self.rows.b.result
        if index < 0 or result is None:
            return
        stage = result.stages[index]
        value = float(stage.array[row, col])
        self.window.show_hover_text(
            f"B: {stage.title}   row {row}, col {col}   value {value:.4g}")

    # -- B from a file --------------------------------------------------------------------------
    def open_b(self, path: str | Path) -> int:
        """Load `path` as B off the GUI thread; on failure a message box names the file and
        the reason and the previous B stays. Returns the request id."""
        self.window.statusBar().showMessage(f"Opening {path} as B…")
        return self.window.runner.submit(LoadBRequest(str(path)))

    def choose_b(self) -> None:
        """Ask for an image file and open it as B."""
        recent = self.window.recent.paths()
        start = str(Path(recent[0]).parent) if recent else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open image as B", start,
                                              IMAGE_FILTER)
        if path:
            self.open_b(path)

    def _on_job_finished(self, event: JobDone[InputImage]) -> None:
        path = event.request.path
        self.controls.set_image_b(event.result)
        self.window.statusBar().showMessage(f"Opened {path} as B", 5000)
        self.set_active(True)

    def _on_job_failed(self, event: JobFailed) -> None:
        path = event.request.path
        # an ImageLoadError names the file and the reason; anything else gets the path
        error = event.error
        reason = str(error) if isinstance(error, ImageLoadError) \
            else f"{path}: {error_message(error)}"
        print(f"shiftlab: cannot open image B: {reason}", file=sys.stderr)
        self.window.statusBar().showMessage(f"Could not open {path} as B", 8000)
        QMessageBox.warning(self.window, "Cannot open image B",
                            f"Could not open the image as B.\n\n{reason}")

    # -- examples -------------------------------------------------------------------------------
    def load_example(self, name: str) -> None:
        """Open example `name` (:func:`engine.example_state`): A into the canvas (undoable),
        its pipeline into the controls, B as the example says, comparison on. Its
        explanation is part of the What you see dock, which stays; the status bar only
        names it."""
        self.window.open_state(example_state(name),
                               f"Example: {EXAMPLES[name].title} (What you see explains it)")

    def apply_setup(self, setup: CompareSetup | None) -> None:
        """Show `setup` in the Compare dock and switch comparison on, or off for None."""
        if setup is not None:
            self.controls.set_setup(setup)
        self.set_active(setup is not None)

    def setup(self) -> CompareSetup | None:
        """What B is while comparing (:meth:`CompareControls.setup`), else None."""
        return self.controls.setup() if self.active else None

    # -- sweep ----------------------------------------------------------------------------------
    def _sweep_source(self) -> tuple[np.ndarray, object]:
        spec = self.window.pipeline_controls.spec()
        return self.window.model.image.copy(), spec

