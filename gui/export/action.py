"""File > Export figure set… and Edit > Copy figure, run off the GUI thread.

A window wires them in with a few lines::

    self.exporter = FigureExporter(self, self.runner, self.statusBar(), self.export_job,
                                   self.settings)
    self.exporter.install_actions(self.menus["file"], self.menus["edit"],
                                  file_before=self.actions_by_name["quit"])

where ``export_job()`` returns the :class:`figures.ExportJob` of what the window
shows, :func:`gui.export.jobs.window_export_job` of the window's
:class:`engine.ViewState` (frozen copies of its images, so later edits never reach the
export). The export runs as an :class:`~gui.export.jobs.ExportRequest` on the runner's
"export" lane, the copied figure as a :class:`~gui.export.jobs.CopyFigureRequest` on
"copy-figure" and the dialog's preview as a :class:`~gui.export.jobs.SheetPreviewRequest`
on "export-preview"; a progress bar with the step's text and a Cancel button
(``runner.cancel(ExportRequest)``) sits in the status bar meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStatusBar,
    QWidget,
)

from figures import ExportJob, ExportTargetError, FigureSetOptions
from figures.figure_set import input_files
from figures.target import check_target
from gui.export.dialog import ExportDialog, remember, remembered_folder, remembered_options
from gui.export.jobs import (
    CopyFigureRequest,
    ExportOutcome,
    ExportRequest,
    SheetPreview,
    SheetPreviewRequest,
)
from gui.window.settings import AppSettings
from gui.worker import JobDone, JobFailed, JobProgress, JobRunner, JobSettled, error_message

#: How long (ms) the status bar shows the outcome of an export or a copy.
MESSAGE_MS = 15_000


class ExportProgress(QWidget):
    """A step label, a progress bar and a Cancel button, for the status bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setMaximumWidth(160)
        self.bar.setTextVisible(False)
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop the export; nothing is written")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self.hide()

    def start(self, folder: Path) -> None:
        """Show the widget for an export into `folder`, at zero."""
        self.bar.setValue(0)
        self.label.setText(f"Exporting to {folder.name}…")
        self.cancel.setEnabled(True)
        self.show()

    def set_progress(self, fraction: float, message: str) -> None:
        """Show `fraction` (0..1) done and the current step."""
        self.bar.setValue(round(fraction * self.bar.maximum()))
        if message:
            self.label.setText(f"Export: {message}")


class FigureExporter(QObject):
    """Export figure sets and copy the composite figure for a window, off its GUI thread.

    Parameters
    ----------
    window : QWidget
        Parent of the dialogs; the actions are added to it so their shortcuts work.
    runner : JobRunner
        The window's job runner; it runs the export and copy requests on their own lanes.
    status_bar : QStatusBar
        Where the progress widget and the outcome messages go.
    snapshot : callable
        Returns the :class:`figures.ExportJob` of what the window shows now (its
        ``command`` is filled in here), or None when there is nothing to export; may
        raise ValueError (e.g. an unfinished kernel), which is reported.
    settings : AppSettings, optional
        Where the dialog's choices are remembered.

    Signals
    -------
    exported(str, int)
        A set was written: its folder and the number of files.
    export_failed(str)
        An export could not start or failed; the message says why.
    export_cancelled(str)
        An export was cancelled (nothing written) or not started; the folder.
    figure_copied(QImage)
        The composite figure is on the clipboard.
    """

    exported = Signal(str, int)
    export_failed = Signal(str)
    export_cancelled = Signal(str)
    figure_copied = Signal(QImage)

    def __init__(self, window: QWidget, runner: JobRunner, status_bar: QStatusBar,
                 snapshot: Callable[[], ExportJob | None],
                 settings: AppSettings | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.runner = runner
        self.status_bar = status_bar
        self.snapshot = snapshot
        self.settings = settings or AppSettings()
        self.progress_widget = ExportProgress(status_bar)
        status_bar.addPermanentWidget(self.progress_widget)
        self.progress_widget.cancel.clicked.connect(self.cancel_export)
        self.export_action = QAction("&Export figure set…", window)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setStatusTip("Write every panel, the composite sheet, the data and "
                                        "a manifest into a folder")
        self.export_action.triggered.connect(self.export_dialog)
        self.copy_action = QAction("Copy &figure", window)
        self.copy_action.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.copy_action.setStatusTip("Copy the composite sheet of every stage as an image")
        self.copy_action.triggered.connect(self.copy_figure)
        self._export_id = 0  # the export request running now, 0 if none
        self._export_folder = Path()
        self.dialog: ExportDialog | None = None  # the export dialog while it is open
        runner.subscribe(ExportRequest, done=self._on_exported, failed=self._on_export_failed,
                         progress=self._on_progress, settled=self._on_settled, owner=self)
        runner.subscribe(CopyFigureRequest, done=self._on_copied, failed=self._on_copy_failed,
                         owner=self)
        runner.subscribe(SheetPreviewRequest, done=self._on_preview,
                         failed=self._on_preview_failed, owner=self)

    # -- wiring ---------------------------------------------------------------------------------
    def install_actions(self, file_menu: QMenu, edit_menu: QMenu,
                        file_before: QAction | None = None) -> tuple[QAction, QAction]:
        """Add "Export figure set…" to `file_menu` (before `file_before` if given) and
        "Copy figure" to `edit_menu`, and both to the window for their shortcuts.

        Returns
        -------
        (QAction, QAction)
            The export and the copy action.
        """
        if file_before is not None:
            file_menu.insertAction(file_before, self.export_action)
        else:
            file_menu.addAction(self.export_action)
        edit_menu.addAction(self.copy_action)
        self.window.addAction(self.export_action)
        self.window.addAction(self.copy_action)
        return self.export_action, self.copy_action

    def is_exporting(self) -> bool:
        """True while an export runs."""
        return self._export_id != 0

    # -- export ---------------------------------------------------------------------------------
    def export_dialog(self) -> int:
        """Ask for a folder and options, then export; return the request id (0 if nothing
        was started: dialog cancelled, replace declined, nothing to export)."""
        if self.is_exporting():
            self.status_bar.showMessage("An export is already running; cancel it first.",
                                        MESSAGE_MS)
            return 0
        dialog = ExportDialog(remembered_folder(self.settings),
                              remembered_options(self.settings), self.window)
        dialog.preview_requested.connect(self.preview)
        self.dialog = dialog
        try:
            accepted = dialog.exec()
        finally:
            self.dialog = None
            self.runner.cancel(SheetPreviewRequest)
            dialog.deleteLater()
        if not accepted:
            return 0
        folder, options = dialog.folder(), dialog.options()
        remember(self.settings, folder, options)
        return self.export_to(folder, options)

    def export_to(self, folder: str | Path, options: FigureSetOptions) -> int:
        """Export the window's current state into `folder` in the background.

        A folder that holds a figure set is replaced only if the person confirms; one that
        holds anything else, the current folder, home, the root and a folder holding the
        input are refused (:func:`figures.target.check_target`). Return the request id,
        or 0 if nothing was started (the reason is in the status bar).
        """
        folder = Path(folder).expanduser().absolute()
        if self.is_exporting():
            self.status_bar.showMessage("An export is already running; cancel it first.",
                                        MESSAGE_MS)
            return 0
        job = self._snapshot()
        if job is None:
            return 0
        try:
            check_target(folder, True, input_files(job.state))
            force = folder.is_dir() and any(folder.iterdir())
        except (ExportTargetError, OSError) as exc:
            self._fail(str(exc))
            return 0
        if force and not self._confirm_replace(folder):
            self.status_bar.showMessage(f"Not exported: {folder} was left as it is.",
                                        MESSAGE_MS)
            self.export_cancelled.emit(str(folder))
            return 0
        self._export_folder = folder
        self._export_id = self.runner.submit(ExportRequest(folder, job, options, force))
        self.export_action.setEnabled(False)
        self.progress_widget.start(folder)
        return self._export_id

    def cancel_export(self) -> None:
        """Stop the running export; it leaves nothing behind."""
        if self.is_exporting():
            self.runner.cancel(ExportRequest)
            self.progress_widget.cancel.setEnabled(False)
            self.progress_widget.label.setText("Cancelling the export…")

    def _confirm_replace(self, folder: Path) -> bool:
        count = sum(1 for _ in folder.iterdir())
        answer = QMessageBox.question(
            self.window, "Replace folder?",
            f"{folder}\nholds a figure set ({count} item{'s' if count != 1 else ''}).\n\n"
            "Replace it with the new figure set?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _snapshot(self) -> ExportJob | None:
        try:
            job = self.snapshot()
        except ValueError as exc:
            self._fail(f"Nothing to export: {exc}")
            return None
        if job is None:
            self._fail("Nothing to export: there is no image.")
        return job

    def _fail(self, message: str) -> None:
        self.status_bar.showMessage(message, MESSAGE_MS)
        self.export_failed.emit(message)

    # -- preview --------------------------------------------------------------------------------
    def preview(self, options: FigureSetOptions) -> int:
        """Draw the composite sheet of what the window shows with `options` off the GUI
        thread, for the open export dialog; return the request id (0 if there is nothing
        to draw: the dialog says why, or no dialog is open)."""
        if self.dialog is None:
            return 0
        try:
            job = self.snapshot()
        except ValueError as exc:
            self._preview_failed(None, f"nothing to draw: {exc}")
            return 0
        if job is None:
            self._preview_failed(None, "nothing to draw: there is no image.")
            return 0
        return self.runner.submit(SheetPreviewRequest(job, options))

    def _preview_failed(self, options: FigureSetOptions | None, message: str) -> None:
        if self.dialog is not None:
            self.dialog.show_preview_error(options, message)

    def _on_preview(self, event: JobDone[SheetPreview]) -> None:
        if self.dialog is not None:
            self.dialog.show_preview(event.result.options, event.result.image)

    def _on_preview_failed(self, event: JobFailed) -> None:
        # only a ValueError is about the options; anything else is no verdict on them
        options = event.request.options if isinstance(event.error, ValueError) else None
        self._preview_failed(options, error_message(event.error))

    # -- copy figure ----------------------------------------------------------------------------
    def copy_figure(self) -> int:
        """Render the composite sheet (with the remembered export options: as the set's
        sheet.png) off the GUI thread and put it on the clipboard; return the request id
        (0 if there is nothing to copy)."""
        job = self._snapshot()
        if job is None:
            return 0
        options = remembered_options(self.settings)
        self.status_bar.showMessage("Rendering the figure…")
        return self.runner.submit(CopyFigureRequest(job, options))

    # -- results (GUI thread) -------------------------------------------------------------------
    def _on_progress(self, event: JobProgress) -> None:
        if event.request_id == self._export_id:
            self.progress_widget.set_progress(event.fraction, event.text or "")

    def _on_copied(self, event: JobDone[QImage]) -> None:
        image = event.result
        QApplication.clipboard().setImage(image)
        self.status_bar.showMessage(
            f"Figure copied ({image.width()} x {image.height()} px).", MESSAGE_MS)
        self.figure_copied.emit(image)

    def _on_copy_failed(self, event: JobFailed) -> None:
        self.status_bar.showMessage(
            f"Could not copy the figure: {error_message(event.error)}", MESSAGE_MS)

    def _on_exported(self, event: JobDone[ExportOutcome]) -> None:
        if event.request_id != self._export_id:
            return
        outcome = event.result
        n = len(outcome.files)
        self.status_bar.showMessage(
            f"Figure set written to {outcome.folder} ({n} files).", MESSAGE_MS)
        self.exported.emit(str(outcome.folder), n)

    def _on_export_failed(self, event: JobFailed) -> None:
        if event.request_id != self._export_id:
            return
        message = error_message(event.error)
        text = (f"The figure set could not be written to {self._export_folder}; "
                f"nothing was left behind.\n\n{message}")
        self._fail(f"Export failed: {message}")
        QMessageBox.warning(self.window, "Export failed", text)

    def _on_settled(self, event: JobSettled) -> None:
        if event.request_id != self._export_id:
            return
        self._export_id = 0
        self.progress_widget.hide()
        self.export_action.setEnabled(True)
        if event.cancelled:
            folder = self._export_folder
            self.status_bar.showMessage(
                f"Export cancelled; nothing was written to {folder}.", MESSAGE_MS)
            self.export_cancelled.emit(str(folder))
