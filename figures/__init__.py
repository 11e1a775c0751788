"""Exporting figure sets: panels, composite sheet, data files and manifest, in one folder.

For the window (File > Export, from a worker thread; a QApplication exists)::

    job = ExportJob(ImageInput(a, "photo.jpg", Path("photo.jpg")), spec,
                    ImageInput(b, "photo.jpg mirrored"), Transform("mirror", "mirrored left-right"),
                    command=tuple(reproducing_command("photo.jpg", out, spec, options,
                                                      Transform("mirror", "..."))))
    write_figure_set(out, job, FigureSetOptions(width=1200), force=False,
                     progress=relay_to_gui_thread, cancel=stop_event)

and for "Copy figure": ``render_composite(compute_figure_data(job, results=runs), width)``.
The headless command is :func:`gui.export.cli.main` (``python main.py export ...``).
"""

from figures.command import reproducing_command
from figures.figure_set import (
    ExportCancelled,
    ExportJob,
    ExportTargetError,
    FigureData,
    FigureSetOptions,
    ImageInput,
    Transform,
    compute_figure_data,
    render_composite,
    write_figure_set,
)

__all__ = [
    "ExportCancelled",
    "ExportJob",
    "ExportTargetError",
    "FigureData",
    "FigureSetOptions",
    "ImageInput",
    "Transform",
    "compute_figure_data",
    "render_composite",
    "reproducing_command",
    "write_figure_set",
]
