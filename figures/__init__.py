"""Figure sets: panels, composite sheet, data files, session and manifest, in one folder.

Headless: QtGui and QtSvg draw on images, never on widgets, so the window may write a set
from a worker thread and the command line without a display (a QGuiApplication must
exist)::

    state = engine.example_state("mirror")
    options = FigureSetOptions(width=1200)
    job = ExportJob(state, tuple(reproducing_command(state, out, options)))
    write_figure_set(out, job, options, force=False, progress=report, cancel=stop_event)

and for "Copy figure": ``render_composite(compute_figure_data(job, results=runs), width)``.
The command line (``shiftlab export ...``) is :mod:`cli`.
"""

from figures.command import reproducing_command
from figures.figure_set import (
    SESSION_FILE,
    ExportCancelled,
    ExportJob,
    ExportTargetError,
    ExportWriteError,
    FigureData,
    FigureSetOptions,
    compute_figure_data,
    render_composite,
    write_figure_set,
)

__all__ = [
    "SESSION_FILE",
    "ExportCancelled",
    "ExportJob",
    "ExportTargetError",
    "ExportWriteError",
    "FigureData",
    "FigureSetOptions",
    "compute_figure_data",
    "render_composite",
    "reproducing_command",
    "write_figure_set",
]
