"""The export jobs and the :class:`~gui.export.ExportJob` of what the window shows.

:func:`window_export_job` runs on the GUI thread and copies the window's images. The
worker runs an :class:`ExportRequest` (:func:`export_figure_set`: it checks which images
still equal their files, records the command that writes the set again, and writes the
set, reporting each step's text through the context) and a :class:`CopyFigureRequest`
(the composite sheet for the clipboard).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from PySide6.QtGui import QImage

from cli import EXAMPLE_PREFIX, build_parser
from cli import load_inputs as load_command_inputs
from engine import EXAMPLES, ImageLoadError, PipelineSpec, load_image
from figures import (
    ExportCancelled,
    ExportJob,
    FigureSetOptions,
    ImageInput,
    Transform,
    render_composite,
    reproducing_command,
    write_figure_set,
)
from gui.comparison.job import CompareSetup
from gui.worker import JobContext, Request

#: The lanes of the export and of Copy figure (independent: copying never stops an export).
EXPORT = "export"
COPY_FIGURE = "copy-figure"

#: How the window names the source of an example's image: "example NAME".
WINDOW_EXAMPLE_PREFIX = "example "


def image_input(image: np.ndarray, source: str) -> ImageInput:
    """An :class:`~gui.export.ImageInput` (a copy of `image`) named after `source`, the
    window's name for where it came from: a file path (kept as its path), ``"example
    NAME"`` (named ``example:NAME``, as the export command calls it) or anything else
    ("demo", "canvas", an example's description), kept as the label."""
    if source.startswith(WINDOW_EXAMPLE_PREFIX) and ":" not in source:
        return ImageInput(image, EXAMPLE_PREFIX + source[len(WINDOW_EXAMPLE_PREFIX):])
    path = Path(source)
    if source and path.is_file():
        return ImageInput(image, path.name, path)
    return ImageInput(image, source or "canvas")


def window_export_job(image: np.ndarray, source: str, spec: PipelineSpec,
                      setup: CompareSetup | None = None) -> ExportJob:
    """The :class:`~gui.export.ExportJob` of what the window shows: the canvas `image` as
    A (copied), and with a comparison `setup`, B and how it relates to A.

    Parameters
    ----------
    image : (H, W) array
        The canvas.
    source : str
        Where it came from (``CanvasModel.source``); see :func:`image_input`.
    spec : PipelineSpec
    setup : CompareSetup, optional
        While comparing: B as a transform of A, or another image.

    Raises
    ------
    ValueError
        For comparing with another image when none is loaded, or a bad image.
    """
    a = image_input(image, source)
    if setup is None:
        return ExportJob(a, spec)
    t = setup.transform
    if t.kind == "other":
        if setup.image_b is None:
            raise ValueError("comparing with another image, but no image B is loaded; "
                             "open one with File > Open as B.")
        b = image_input(setup.image_b, setup.source_b)
        if a.label.startswith(EXAMPLE_PREFIX) and b.path is None:
            # presumably the example's own B (the export checks it before naming the example)
            return ExportJob(a, spec, b, Transform("example", setup.source_b))
        return ExportJob(a, spec, b, Transform("compare", "another image"))
    b = ImageInput(t.apply(a.array), f"{a.label} {t.description}")
    return ExportJob(a, spec, b, Transform(t.kind, t.description, t.shift, t.wrap,
                                           mirror_kernel=setup.mirror_kernel_too))


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
    """The export job: :func:`~gui.export.write_figure_set` with the context's progress
    (fraction and the step's text) and cancellation (Cancel, shutdown).

    First the job's sources are checked (:func:`verified_sources`) and the command that
    writes the set again is recorded if there is one (:func:`job_command`).

    Returns
    -------
    ExportOutcome
        What was written.

    Raises
    ------
    figures.ExportCancelled
        When cancelled: nothing is left behind, an existing folder is untouched.
    ExportTargetError, ValueError, OSError
        As :func:`~gui.export.write_figure_set`; nothing is left behind.
    """
    def progress(index: int, total: int, message: str) -> None:
        context.progress((index - 1) / total, message)

    context.progress(0.0, "checking the source files")
    job = verified_sources(job)
    job = dataclasses.replace(job, command=job_command(job, folder, options))
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
    """Render the composite sheet of `job` for the clipboard (Edit > Copy figure)."""

    lane: ClassVar[str] = COPY_FIGURE
    job: ExportJob
    width: int
    background: str
    top_k: int

    def run(self, context: JobContext) -> QImage:
        """Render the sheet.

        Returns
        -------
        QImage
            :func:`figures.render_composite` at `width` pixels.

        Raises
        ------
        ValueError
            For an impossible spec or image.
        """
        return render_composite(self.job, self.width, background=self.background,
                                top_k=self.top_k)


def _equals_source(image: ImageInput) -> bool:
    """Whether `image` is exactly what its file (or built-in example) loads."""
    try:
        if image.path is not None:
            return np.array_equal(load_image(image.path), image.array)
        name = image.label[len(EXAMPLE_PREFIX):]
        return name in EXAMPLES and np.array_equal(EXAMPLES[name].load()[0], image.array)
    except ImageLoadError:  # the file is gone or changed into something unreadable
        return False


def verified_sources(job: ExportJob) -> ExportJob:
    """Return `job` with every image that no longer equals its file or built-in example
    (edited since it was loaded) relabelled ``"... (edited)"`` and its file dropped, so
    the manifest names a source (and its SHA-256) only for an image that is exactly it.
    Reads the files."""
    changes = {}
    for row in ("a", "b"):
        image = getattr(job, row)
        named = image is not None and (image.path is not None
                                       or image.label.startswith(EXAMPLE_PREFIX))
        if named and not _equals_source(image):
            changes[row] = ImageInput(image.array, f"{image.label} (edited)")
    return dataclasses.replace(job, **changes) if changes else job


def job_command(job: ExportJob, folder: Path, options: FigureSetOptions) -> tuple[str, ...]:
    """The export command that writes `job` again into `folder`, or ``()`` when there is
    none: image A is neither a file nor a built-in example, B was made in a way the command
    cannot repeat, or the images the command would load differ from the job's (an edited
    canvas). Reads the files, as the command would.
    """
    if job.a.path is not None:
        source: str | Path = job.a.path
    elif job.a.label.startswith(EXAMPLE_PREFIX):
        source = job.a.label
    else:
        return ()
    other = job.b.path if job.b is not None else None
    try:
        argv = reproducing_command(source, folder, job.spec, options, job.transform, other)
    except ValueError:  # a transform the command has no option for (e.g. a rotation)
        return ()
    try:
        args = build_parser().parse_args(argv[2:])
    except SystemExit as exc:  # argparse exits (on this thread) instead of raising
        raise RuntimeError(f"the export command rejects its own arguments {argv}") from exc
    try:
        a, b, _, _ = load_command_inputs(args)
    except ValueError:  # a file gone or unreadable: the command could not run
        return ()
    same_b = (b is None and job.b is None) or (
        b is not None and job.b is not None and np.array_equal(b.array, job.b.array))
    return tuple(argv) if same_b and np.array_equal(a.array, job.a.array) else ()
