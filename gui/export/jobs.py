"""The export jobs and the :class:`figures.ExportJob` of what the window shows.

:func:`window_export_job` runs on the GUI thread: the window's state already holds
frozen copies of its images. The worker runs an :class:`ExportRequest`
(:func:`export_figure_set`: it checks which images still equal their sources, records
the command that writes the set again, and writes the set, reporting each step's text
through the context), a :class:`CopyFigureRequest` (the composite sheet for the
clipboard) and a :class:`SheetPreviewRequest` (the sheet the export dialog's options
give, shown before anything is written); both draw the sheet with
:func:`figures.figure_set.sheet_image`, as the set's sheet.png is drawn.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from PySide6.QtGui import QImage

from engine import ViewState
from figures import (
    ExportCancelled,
    ExportJob,
    FigureSetOptions,
    reproducing_command,
    write_figure_set,
)
from figures.figure_set import sheet_image
from gui.worker import JobContext, Request

#: The lanes of the export, of Copy figure and of the dialog's preview (independent:
#: copying or previewing never stops an export).
EXPORT = "export"
COPY_FIGURE = "copy-figure"
PREVIEW = "export-preview"


def window_export_job(state: ViewState) -> ExportJob:
    """The :class:`figures.ExportJob` of what the window shows; its command is filled in
    on the worker (:func:`export_figure_set`), once the sources are checked."""
    return ExportJob(state)


@dataclass(frozen=True)
class ExportOutcome:
    """What an export job did.

    Attributes
    ----------
    folder : Path
        The set's folder (absolute).
    files : tuple of str
        Paths of the files written, relative to `folder`.
    """

    folder: Path
    files: tuple[str, ...] = ()


def export_figure_set(folder: Path, job: ExportJob, options: FigureSetOptions, force: bool,
                      context: JobContext) -> ExportOutcome:
    """The export job: :func:`figures.write_figure_set` with the context's progress
    (fraction and the step's text) and cancellation (Cancel, shutdown).

    First every image is checked against its source (:meth:`engine.ViewState.verified`:
    an edited image is recorded as edited, with its pixels in the set's session), then
    the command that writes the set again is recorded
    (:func:`figures.reproducing_command`).

    Returns
    -------
    ExportOutcome
        What was written.

    Raises
    ------
    figures.ExportCancelled
        When cancelled: nothing is left behind, an existing folder is untouched.
    ExportTargetError, ValueError, OSError
        As :func:`figures.write_figure_set`; nothing is left behind.
    """
    def progress(index: int, total: int, message: str) -> None:
        context.progress((index - 1) / total, message)

    context.progress(0.0, "checking the source files")
    state = job.state.verified()
    job = dataclasses.replace(job, state=state,
                              command=tuple(reproducing_command(state, folder, options)))
    written = write_figure_set(folder, job, options, force=force, progress=progress,
                               cancel=lambda: context.cancelled)
    files = tuple(sorted(p.relative_to(written).as_posix()
                         for p in written.rglob("*") if p.is_file()))
    return ExportOutcome(written, files)


@dataclass(frozen=True, slots=True, eq=False)
class ExportRequest(Request[ExportOutcome]):
    """Write the figure set of `job` into `folder` (:func:`export_figure_set`).

    Stopping by :class:`figures.ExportCancelled` counts as cancelled.

    Attributes
    ----------
    folder : Path
        Absolute.
    job : ExportJob
        Copies of the images; later edits never reach it.
    options : FigureSetOptions
    force : bool
        Replace a non-empty `folder` (the person confirmed).
    """

    lane: ClassVar[str] = EXPORT
    cancellations: ClassVar[tuple[type[BaseException], ...]] = (ExportCancelled,)
    folder: Path
    job: ExportJob
    options: FigureSetOptions
    force: bool

    def run(self, context: JobContext) -> ExportOutcome:
        """Export; see :func:`export_figure_set` for what is returned and raised."""
        return export_figure_set(self.folder, self.job, self.options, self.force, context)


@dataclass(frozen=True, slots=True, eq=False)
class CopyFigureRequest(Request[QImage]):
    """Render the composite sheet of `job` for the clipboard (Edit > Copy figure), with the
    sheet's `options` (the formats are not used)."""

    lane: ClassVar[str] = COPY_FIGURE
    job: ExportJob
    options: FigureSetOptions

    def run(self, context: JobContext) -> QImage:
        """Render the sheet.

        Returns
        -------
        QImage
            :func:`sheet_image` of `job` and `options`.

        Raises
        ------
        ValueError
            For an impossible spec, image or panel width.
        """
        return sheet_image(self.job, self.options)


@dataclass(frozen=True)
class SheetPreview:
    """The sheet an export would write, for the export dialog.

    Attributes
    ----------
    options : FigureSetOptions
        The options it was drawn with.
    image : QImage
        The sheet at its real size.
    """

    options: FigureSetOptions
    image: QImage


@dataclass(frozen=True, slots=True, eq=False)
class SheetPreviewRequest(Request[SheetPreview]):
    """Draw the composite sheet of `job` with `options` for the export dialog's preview;
    a newer preview replaces one still waiting."""

    lane: ClassVar[str] = PREVIEW
    job: ExportJob
    options: FigureSetOptions

    def run(self, context: JobContext) -> SheetPreview:
        """Render the sheet.

        Returns
        -------
        SheetPreview
            :func:`sheet_image` of `job` and `options`, with the options.

        Raises
        ------
        ValueError
            For an impossible spec, image or panel width.
        """
        context.check()
        return SheetPreview(self.options, sheet_image(self.job, self.options))
