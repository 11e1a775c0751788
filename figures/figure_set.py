"""A figure set: every panel, the composite sheet, the data and the manifest, in one folder.

The set is written into a temporary folder next to the target and moved into place at
the end, so a failure or a cancel leaves nothing behind and never touches an existing
folder; an existing figure set is replaced only with ``force=True`` (renamed aside, the
new set moved in, the old one deleted; put back if the move fails). Which folders may
take a set is :mod:`figures.target`.

:func:`write_figure_set` draws only on QImage and QSvgGenerator, never on widgets, so the
window may call it from a worker thread (a QGuiApplication must exist). Its `progress`
callback runs on that thread too.

Layout of a set (comparison rows and files only when there is an image B)::

    panels/A_input.png  panels/A_conv.svg  panels/B_pool_1.png  panels/A-B_pool_1.png ...
    sheet.png  sheet.svg            the whole pipeline, A over B over A - B
    stages.npz                      every stage array, keys "A/input", "B/pool 1" ...
    metrics.csv  metrics.json       per-stage numbers (engine.report)
    sweep.gif  sweep.mp4            with animate_shifts=N: one frame per shift 0..N
    sweep_plot.png  sweep_plot.svg  sweep.csv
    manifest.json                   version, spec, kernel, inputs + SHA-256, command line

With a network chosen (``state.network``) the set shows the network instead of the
pipeline: ``panels/A_<layer>.png`` per chosen layer (the maximum over channels at its
place over the input), the sheet of those layers (A over B over A - B),
``probabilities.png`` and ``.csv``, ``shift_map.png`` and ``.csv`` (the top-1 class for
every shift in -r..r), ``layers.npz`` (every chosen layer, all channels), metrics of the
comparison per layer, with ``animate_shifts=N`` the network's sweep (``sweep_plot``, per
layer distance and the followed class's probability; no animation), and the network in
manifest.json. With the digit networks side by side (``state.network.side_by_side``) each
network writes all of these with its name in front (``panels/digits-aps_A_<layer>.png``,
``digits-aps_probabilities.png``, ``digits-aps_shift_map.csv``, ``digits-aps_sheet.png``
...), and manifest.json lists every network under ``networks``.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtGui import QGuiApplication, QImage

from engine import (
    InputImage,
    PipelineResult,
    PipelineSpec,
    StageComparison,
    ViewState,
    find_maxima,
    report,
    run_pipeline,
    run_state,
    save_session,
    shift_sweep,
    translate,
)
from engine.display import stage_ranges
from engine.limits import MAX_TOP_K, bounded_int
from engine.networks import NetworkRun, network_sweep, short_name
from engine.sweep import SWEEP_AXES, SweepCancelled, cancel_check
from figures import drawing as draw
from figures.drawing import Panel, SheetRow
from figures.network_figures import (
    network_caption,
    network_record,
    network_sheet_rows,
    probability_drawing,
    probability_rows,
    shift_map_drawing,
    shift_map_rows,
)
from figures.target import (
    ExportTargetError,
    check_target,
    make_workspace,
    move_into_place,
)
from figures.video import Mp4Writer, write_gif

#: Every format a set can be written in; DEFAULT_FORMATS are written unless asked otherwise.
FORMATS = ("png", "svg", "pdf", "npz", "csv", "json")
DEFAULT_FORMATS = ("png", "svg", "npz", "csv", "json")
#: The session file every set carries: ``shiftlab export SET/session.shiftlab`` writes the
#: same arrays again, and ``shiftlab SET/session.shiftlab`` opens the window as exported.
SESSION_FILE = "session.shiftlab"
ROW_A, ROW_B, ROW_DIFF = "A", "B", "A-B"
#: The widest PNG a set is drawn at: example:mirror at 4000 px peaks near 300 MB and takes
#: 9 s; 8000 px took 840 MB and 28 s, 12000 px 1.75 GB and 65 s.
MAX_WIDTH = 4000
#: Bounds of the sheet's columns, text size (pixels) and title length.
MAX_COLUMNS = 14
MIN_FONT, MAX_FONT = 6, 72
MAX_TITLE = 200


def is_title(text: object) -> bool:
    """True when `text` can be a sheet's caption: one line of at most MAX_TITLE characters.

    >>> is_title("Coffee, mirrored"), is_title("two\\nlines")
    (True, False)
    """
    return isinstance(text, str) and len(text) <= MAX_TITLE and not any(
        c in text for c in "\r\n")


#: Bounds of a stage's width on the sheet and of the resolution written into files.
MIN_PANEL = 32
MIN_DPI, MAX_DPI = 36, 1200
#: The most shifts an animated sweep renders (frames are streamed to disk one by one).
MAX_ANIMATED_SHIFTS = 256
#: Frames per second of the shift animation.
ANIMATION_FPS = 2

ProgressCallback = Callable[[int, int, str], object]


class ExportNotice(UserWarning):
    """Something the person should know about a set that was written all the same (an
    MP4 that is not H.264, say); the command line prints it as one line."""


class ExportCancelled(Exception):
    """Writing a figure set was cancelled; nothing was left behind."""


@dataclass(frozen=True)
class FigureSetOptions:
    """How a figure set is written.

    Attributes
    ----------
    formats : tuple of str
        Any of ``"png"``, ``"svg"``, ``"pdf"`` (panels, sheet, sweep plot; PDF is vector
        and not written by default), ``"npz"`` (stages), ``"csv"``, ``"json"`` (metrics,
        sweep table). manifest.json is always written.
    width : int
        Width in pixels of every PNG (SVG user units match), 64..MAX_WIDTH.
    background : {"white", "transparent"}
        Behind panels and sheets (animations are always on white).
    top_k : int
        Maxima recorded and marked per stage, 0..engine.limits.MAX_TOP_K (0: no markers
        and no maxima columns); 3 by default, as in the window.
    diff_markers : bool
        Also mark the largest |A - B| cells on the difference row (off by default: the
        markers clutter a map that is mostly near zero).
    columns : int or None
        At most this many stages side by side on the sheet (1..MAX_COLUMNS); the rest wrap
        into bands below. None: all in one band.
    font_size : int or None
        Text size on the sheet in pixels (MIN_FONT..MAX_FONT); None: it follows the width.
    title : str or None
        The sheet's caption instead of the default (what is shown and the pipeline);
        one line, at most MAX_TITLE characters.
    panel_width : int or None
        Each stage on the sheet at least this many pixels wide (MIN_PANEL..MAX_WIDTH); the
        sheet is as wide as that needs (at most MAX_WIDTH) instead of `width`.
    dpi : int or None
        The resolution PNGs say they have and PDFs are sized for (MIN_DPI..MAX_DPI), so a
        figure lands at its physical size: `width` pixels at 300 dpi are width/300 inches.
        None: PNGs say nothing and PDFs use 96.
    colorbars : bool
        A colour bar with its end values under every panel of the sheet (on by default).
    levels_shared : bool
        One colour range for all feature stages (conv and pools) instead of one each.
    metrics_on_sheet : bool
        Under every panel of row B: the distance to A, how far the peak moved (in cells
        and input pixels) and the equivariance error or why it is undefined; and the same
        per stage as a small table under the sheet.
    scale_panels : bool
        Draw the sheet's stages at their true relative scale, in input-pixel coordinates
        as the window does (a pool 2 panel covers the input's area in cells 4 px wide),
        with the receptive field of the deepest maximum outlined on the input.
    sweep_axis : {"x", "y", "diagonal"}
        The direction of the animated sweep's shifts (engine.sweep.SWEEP_AXES).
    sweep_aligned : bool
        The sweep's distance to f(x) moved by the shift in whole cells ("moved by whole
        cells": equivariance) instead of to f(x) unmoved (invariance).
    sweep_wrap : bool
        Circular shifts (True) or zero fill.
    animate_shifts : int
        0 for none (at most MAX_ANIMATED_SHIFTS); N writes a sweep over shifts 0..N
        pixels along x (circular): GIF and MP4 of the composite sheet, and the sweep plot
        and table.
    compress : bool
        Write stages.npz zlib-compressed (smaller, slower: see the README's numbers).

    Raises
    ------
    ValueError
        If a field is out of range; the message names it.
    """

    formats: tuple[str, ...] = DEFAULT_FORMATS
    width: int = 1200
    background: str = "white"
    top_k: int = 3
    animate_shifts: int = 0
    compress: bool = False
    diff_markers: bool = False
    columns: int | None = None
    font_size: int | None = None
    title: str | None = None
    panel_width: int | None = None
    dpi: int | None = None
    colorbars: bool = True
    levels_shared: bool = False
    metrics_on_sheet: bool = False
    scale_panels: bool = False
    sweep_axis: str = "x"
    sweep_aligned: bool = False
    sweep_wrap: bool = True

    def __post_init__(self) -> None:
        formats = (self.formats,) if isinstance(self.formats, str) else tuple(self.formats)
        unknown = [f for f in formats if f not in FORMATS]
        if unknown or not formats:
            raise ValueError(f"formats must be one or more of {', '.join(FORMATS)}; "
                             f"got {list(formats)!r}.")
        object.__setattr__(self, "formats", tuple(f for f in FORMATS if f in formats))
        bounded_int(self.width, "width", 64, MAX_WIDTH)
        bounded_int(self.top_k, "top_k", 0, MAX_TOP_K)
        bounded_int(self.animate_shifts, "animate_shifts", 0, MAX_ANIMATED_SHIFTS)
        if self.columns is not None:
            bounded_int(self.columns, "columns", 1, MAX_COLUMNS)
        if self.font_size is not None:
            bounded_int(self.font_size, "font_size", MIN_FONT, MAX_FONT)
        if self.title is not None and not is_title(self.title):
            raise ValueError(f"title must be one line of at most {MAX_TITLE} characters; "
                             f"got {self.title!r:.80}.")
        if self.panel_width is not None:
            bounded_int(self.panel_width, "panel_width", MIN_PANEL, MAX_WIDTH)
        if self.dpi is not None:
            bounded_int(self.dpi, "dpi", MIN_DPI, MAX_DPI)
        if self.sweep_axis not in SWEEP_AXES:
            raise ValueError(f"sweep_axis must be one of {', '.join(SWEEP_AXES)}; "
                             f"got {self.sweep_axis!r}.")
        for name in ("compress", "diff_markers", "colorbars", "levels_shared",
                     "metrics_on_sheet", "scale_panels", "sweep_aligned", "sweep_wrap"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False; got {getattr(self, name)!r}.")
        if self.background not in draw.BACKGROUNDS:
            raise ValueError(f"background must be one of {', '.join(draw.BACKGROUNDS)}; "
                             f"got {self.background!r}.")

    def to_dict(self) -> dict:
        """The options as JSON-ready values."""
        return {"formats": list(self.formats), "width": self.width,
                "background": self.background, "top_k": self.top_k,
                "animate_shifts": self.animate_shifts, "compress": self.compress,
                "diff_markers": self.diff_markers, "columns": self.columns,
                "font_size": self.font_size, "title": self.title,
                "panel_width": self.panel_width, "dpi": self.dpi, "colorbars": self.colorbars,
                "levels_shared": self.levels_shared, "metrics_on_sheet": self.metrics_on_sheet,
                "scale_panels": self.scale_panels, "sweep_axis": self.sweep_axis,
                "sweep_aligned": self.sweep_aligned, "sweep_wrap": self.sweep_wrap}


@dataclass(frozen=True, eq=False)
class ExportJob:
    """Everything a figure set shows: a state (input A, the pipeline, what B is) and the
    command that writes the set again.

    Attributes
    ----------
    state : ViewState
        With a comparison the set shows rows A, B and A - B.
    command : tuple of str
        The command line that writes this set again (see
        :func:`figures.command.reproducing_command`); empty when there is none.
    """

    state: ViewState
    command: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.state, ViewState):
            raise ValueError(f"state must be an engine.ViewState; got "
                             f"{type(self.state).__name__}.")
        object.__setattr__(self, "command", tuple(str(a) for a in self.command))

    @property
    def spec(self) -> PipelineSpec:
        """The pipeline of row A."""
        return self.state.spec

    @property
    def comparing(self) -> bool:
        """True when the set shows B."""
        return self.state.compare is not None


@dataclass(frozen=True)
class FigureData:
    """The computed results behind a figure set (pure data, no Qt).

    Attributes
    ----------
    job : ExportJob
    top_k : int
    results : dict
        ``"A"`` (and ``"B"``) -> PipelineResult.
    comparisons : list of StageComparison or None
        B against A per common stage, with the transform error
        ``||f(T x) - T' f(x)|| / ||f(x)||`` when B is a shift, mirror or flip of A.
    differences : dict
        Stage name -> A - B over the compared (top-left overlap) cells, float32.
    network : NetworkRun or None
        The state's network run (layers, answers, comparison, shift map), if it has one
        (side by side: the first network's).
    more_networks : tuple of NetworkRun
        Side by side, the other networks' runs.
    """

    job: ExportJob
    top_k: int
    results: dict[str, PipelineResult]
    comparisons: list[StageComparison] | None
    differences: dict[str, np.ndarray]
    network: NetworkRun | None = None
    more_networks: tuple[NetworkRun, ...] = ()

    @property
    def networks(self) -> tuple[NetworkRun, ...]:
        """Every network's run, the first one first (empty without a network)."""
        return () if self.network is None else (self.network, *self.more_networks)


def compute_figure_data(job: ExportJob, top_k: int = 5, *,
                        results: dict[str, PipelineResult] | None = None) -> FigureData:
    """Run the pipeline on A (and B), compare them and take the differences
    (:func:`engine.run_state`).

    Parameters
    ----------
    job : ExportJob
    top_k : int
        Maxima recorded per stage.
    results : dict, optional
        ``{"A": ..., "B": ...}`` runs already made of the job's state (the window has
        them), used instead of running the pipeline again.

    Raises
    ------
    ValueError
        If the spec cannot run on an image (e.g. a kernel larger than the image), or a
        given result was made with another spec. Rows not given are computed.
    """
    run = run_state(job.state, results=results, top_k=max(1, top_k))
    comparison = run.comparison
    return FigureData(job, top_k, run.results,
                      None if comparison is None else comparison.stages,
                      {} if comparison is None else comparison.differences, run.network,
                      run.more_networks)


def describe_spec(spec: PipelineSpec, result: PipelineResult | None = None) -> str:
    """A one-line summary of a pipeline, e.g. ``"sobel_vertical 3x3, valid, relu; max pool
    2/2 x 6"``; with the `result` of a run that stopped early, how many levels ran and why
    the rest did not (``"max pool 2/2 x 3 of 20 (stopped: input (1, 1) is smaller than the
    pooling window 2x2)"``)."""
    parts = []
    if spec.convolve:
        kh, kw = spec.kernel_array.shape
        stride = f", stride {spec.stride}" if spec.stride != 1 else ""
        parts.append(f"{spec.kernel_name} {kh}x{kw}, {spec.padding}{stride}, {spec.activation}")
    else:
        parts.append("no convolution")
    pool = f"{spec.pool_mode} pool {spec.pool_size}/{spec.effective_pool_stride}"
    if spec.pool_mode in ("blurmax", "blur"):
        pool += f" (blur {spec.blur_size})"
    levels = f" x {spec.levels}"
    if result is not None and result.levels_produced < spec.levels:
        levels = f" x {result.levels_produced} of {spec.levels} (stopped: {result.stop_cause})"
    return f"{'; '.join(parts)}; {pool}{levels}"


def _caption(data: FigureData, title: str | None = None) -> str:
    if title is not None:
        return title
    return f"{data.job.state.caption} | {describe_spec(data.job.spec, data.results[ROW_A])}"


def _stage_panels(result: PipelineResult, top_k: int,
                  ranges: dict[str, tuple[float, float]], scaled: bool = False
                  ) -> dict[str, Panel]:
    """Panels coloured as the window shows stages: the input grey, every later stage
    viridis, each over its range in `ranges` (see :func:`engine.display.stage_ranges`).
    `scaled`: each at its place over the input, and the input with the receptive field
    of the deepest stage's maximum (when it has one) outlined, as the window draws them."""
    panels = {s.name: Panel(s.title, s.array, s.maxima[:top_k],
                            "grey" if s.name == "input" else "viridis", ranges[s.name])
              for s in result}
    if not scaled:
        return panels
    deepest = result.stages[-1]
    field = None
    if deepest.maxima and deepest.maxima[0][2] > ranges[deepest.name][0]:
        field = deepest.receptive_field(*deepest.maxima[0][:2])
    for s in result:
        panels[s.name] = replace(panels[s.name], place=s.display_rect(),
                                 extent=s.input_shape,
                                 field=field if s.name == "input" else None)
    return panels


def _diff_panels(data: FigureData, markers: bool, scaled: bool) -> dict[str, Panel]:
    panels = {}
    a = data.results[ROW_A]
    for name, diff in data.differences.items():
        marks = find_maxima(np.abs(diff), data.top_k) if markers and data.top_k else []
        title = f"{name.capitalize()} A\u2212B {diff.shape}"
        panels[name] = Panel(title, diff, marks, "diverging")
        if scaled and diff.shape == a[name].shape:
            panels[name] = replace(panels[name], place=a[name].display_rect(),
                                   extent=a[name].input_shape)
    return panels


def figure_panels(data: FigureData, *, diff_markers: bool = False,
                  levels_shared: bool = False, scale_panels: bool = False
                  ) -> dict[str, dict[str, Panel]]:
    """Return the panels of a set: row (``"A"``, ``"B"``, ``"A-B"``) -> stage name -> Panel;
    the difference row's largest cells are marked only with `diff_markers`, with
    `levels_shared` all feature stages share one colour range, and with `scale_panels`
    every panel is drawn at its true scale over the input (with the receptive field)."""
    # rows A and B share one colour range per stage, as in the window's comparison mode
    ranges = stage_ranges(list(data.results.values()), levels_shared)
    rows = {row: _stage_panels(result, data.top_k, ranges, scale_panels)
            for row, result in data.results.items()}
    if data.job.comparing:
        rows[ROW_DIFF] = _diff_panels(data, diff_markers, scale_panels)
    return rows


def metrics_note(comp: StageComparison) -> str:
    """A stage's comparison for the sheet, in three short lines: the distance and the
    equivariance error (n/a; :func:`metrics_table` says why), how far the peak moved in
    the stage's cells ("(tie)": a near-tie, no stable peak), and the same in input pixels;
    n/a when neither map has a peak.

    >>> from engine import example_state, run_state
    >>> print(metrics_note(run_state(example_state("pixel")).comparison.stages[1]))
    d 1.414 · error n/a
    peak (2, 2) cells
    = (4, 4) input px
    """
    if comp.both_zero:
        return "d n/a: both maps zero\nno peak to follow"
    # why an error is n/a is in the table under the sheet; here it must stay short
    error = (f"error {comp.equivariance_error:.3f}" if comp.equivariance_error is not None
             else "error n/a")
    first = f"d {comp.distance:.3f} · {error}"
    (dy, dx), (py, px) = comp.displacement, comp.displacement_px
    tie = " (tie)" if comp.near_tie else ""
    return f"{first}\npeak ({dy}, {dx}) cells{tie}\n= ({py}, {px}) input px"


def sheet_rows(data: FigureData, panels: dict[str, dict[str, Panel]] | None = None,
               *, metrics: bool = False) -> list[SheetRow]:
    """Return the composite sheet's rows: A, then B and A - B in a comparison, one column
    per stage of A (a stage B lacks leaves an empty place). `panels` defaults to
    ``figure_panels(data)``; on the sheet a difference is titled by its shape only, its
    row being labelled A-B. With `metrics`, row B's panels carry their
    :func:`metrics_note`."""
    panels = figure_panels(data) if panels is None else panels
    if metrics and data.comparisons and ROW_B in panels:
        notes = {c.name: metrics_note(c) for c in data.comparisons}
        panels = {**panels, ROW_B: {n: replace(p, note=notes.get(n, ""))
                                    for n, p in panels[ROW_B].items()}}
    names = data.results[ROW_A].names
    labels = {ROW_A: "A", ROW_B: "B", ROW_DIFF: "A\u2212B"}
    rows = []
    for row, by_name in panels.items():
        if row == ROW_DIFF:
            by_name = {n: replace(p, title=str(p.array.shape)) for n, p in by_name.items()}
        rows.append(SheetRow(labels[row], [by_name.get(n) for n in names]))
    return rows


def render_composite(source: ExportJob | FigureData, width: int = 1200, *,
                     background: str = "white", top_k: int = 5) -> QImage:
    """Return the composite sheet as a QImage (for "Copy figure").

    Parameters
    ----------
    source : ExportJob or FigureData
        A job is computed first (which takes as long as a pipeline run).
    width : int
        Width in pixels.

    Raises
    ------
    ValueError
        For a job that cannot run, or a width too small for the stages.
    """
    _require_gui_application()
    data = source if isinstance(source, FigureData) else compute_figure_data(source, top_k)
    return draw.render(draw.sheet_drawing(sheet_rows(data), width, _caption(data)),
                          background)


def panel_file_stem(row: str, stage: str) -> str:
    """File name (without extension) of a panel, e.g. ``"A_pool_1"`` or ``"A-B_conv"``; a
    network layer by its short name, other characters than letters, digits, ``.``, ``-``
    and ``_`` made ``_`` (``"A_features.6_Relu"``)."""
    return f"{row}_{re.sub(r'[^A-Za-z0-9._-]+', '_', short_name(stage))}"


# ---------------------------------------------------------------- writing a set


@dataclass
class _Writer:
    """The state of one export while its steps run in the temporary folder."""

    job: ExportJob
    options: FigureSetOptions
    folder: Path
    cancelled: Callable[[], bool]
    data: FigureData | None = None
    panels: dict[str, dict[str, Panel]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    sweep: np.ndarray | None = None
    #: The animation's frames, on disk beside the set (a memory map), and the MP4 writer
    #: that takes each frame as it is drawn.
    frames: np.memmap | None = None
    video: Mp4Writer | None = None
    codec: str | None = None

    def close(self) -> None:
        """Close the video writer and drop the frames' memory map."""
        if self.video is not None:
            self.video.close()
            self.video = None
        self.frames = None

    def path(self, name: str) -> Path:
        self.files.append(name)
        return self.folder / name

    def has(self, fmt: str) -> bool:
        return fmt in self.options.formats


def _plan(job: ExportJob, options: FigureSetOptions,
          stage_names: dict[str, list[str]]) -> list[tuple[str, Callable]]:
    """The steps of an export as (progress message, function of the _Writer).

    `stage_names` gives each row's stages (row -> names): predicted before the
    pipeline runs, the real ones after (fewer when pooling stops early); for a network
    its layers, known once it ran.
    """
    net = job.state.network is not None
    members = job.state.network.members if net else ()
    steps: list[tuple[str, Callable]] = [
        ("running the network" if net else "computing stages", _compute)]
    if {"png", "svg", "pdf"} & set(options.formats):
        for row, names in stage_names.items():
            steps += [(f"writing {row} {short_name(name)}",
                       lambda w, r=row, n=name: _write_panel(w, r, n)) for name in names]
        if not net:
            steps.append(("writing the composite sheet", _write_sheet))
        for k, m in enumerate(members):
            steps += [(f"writing the sheet of {m.label}", lambda w, k=k: _write_sheet(w, k)),
                      (f"writing the probabilities of {m.label}",
                       lambda w, k=k: _write_probabilities(w, k)),
                      (f"writing the shift map of {m.label}",
                       lambda w, k=k: _write_shift_map(w, k))]
    if "npz" in options.formats:
        steps += [(f"writing {_prefix(job.state, k)}layers.npz",
                   lambda w, k=k: _write_layers(w, k)) for k in range(len(members))] if net \
            else [("writing stages.npz", _write_stages)]
    if {"csv", "json"} & set(options.formats):
        steps += [(f"writing the metrics of {m.label}",
                   lambda w, k=k: _write_network_metrics(w, k))
                  for k, m in enumerate(members)] if net \
            else [("writing metrics", _write_metrics)]
    if options.animate_shifts and net:
        steps += [(f"sweeping shifts 0..{options.animate_shifts} through {m.label}",
                   lambda w, k=k: _network_sweep(w, k)) for k, m in enumerate(members)]
    elif options.animate_shifts:
        steps.append((f"sweeping shifts 0..{options.animate_shifts}", _sweep))
        for s in range(options.animate_shifts + 1):
            steps.append((f"rendering shift {s}", lambda w, s=s: _render_frame(w, s)))
        steps.append(("writing sweep.gif and sweep.mp4", _write_animation))
        steps.append(("writing the sweep plot", _write_sweep_plot))
    steps.append((f"writing {SESSION_FILE}", _write_session))
    steps.append(("writing manifest.json", _write_manifest))
    return steps


def _prefix(state: ViewState, index: int) -> str:
    """What the files of network `index` start with: nothing for one network, its name
    and ``_`` side by side."""
    members = state.network.members
    return "" if len(members) == 1 else f"{members[index].label}_"


def _expected_names(job: ExportJob) -> dict[str, list[str]]:
    """Stage names per row if every pooling level fits (the count before running); for a
    network none (its layers are known once it ran)."""
    if job.state.network is not None:
        return {}
    spec = job.spec
    names = ["input"] + (["conv"] if spec.convolve else [])
    names += [f"pool {level}" for level in range(1, spec.levels + 1)]
    rows = [ROW_A] + ([ROW_B, ROW_DIFF] if job.comparing else [])
    return {row: names for row in rows}


def _actual_names(w: _Writer) -> dict[str, list[str]]:
    return {row: list(panels) for row, panels in w.panels.items()}


def _compute(w: _Writer) -> None:
    w.data = compute_figure_data(w.job, w.options.top_k)
    if w.data.network is not None:
        labels = {"A": ROW_A, "B": ROW_B, "A\u2212B": ROW_DIFF}
        w.panels = {}
        for k, run in enumerate(w.data.networks):
            names = run.a.layer_names
            prefix = _prefix(w.job.state, k)
            w.panels.update({prefix + labels[r.label]: {
                n: p for n, p in zip(names, r.panels, strict=True) if p is not None}
                for r in network_sheet_rows(run, w.options.top_k)})
        return
    w.panels = options_panels(w.data, w.options)


def _write_panel(w: _Writer, row: str, name: str) -> None:
    panel = w.panels[row][name]
    stem = f"panels/{panel_file_stem(row, name)}"
    (w.folder / "panels").mkdir(exist_ok=True)
    _write_drawing(w, stem, draw.panel_drawing(panel, w.options.width))


def _write_sheet(w: _Writer, index: int | None = None) -> None:
    """The composite sheet; with `index`, the sheet of that network."""
    if index is not None:
        o = w.options
        run = w.data.networks[index]
        drawing = draw.sheet_drawing(network_sheet_rows(run, o.top_k), o.width,
                                     o.title or network_caption(run),
                                     columns=o.columns, font_px=o.font_size,
                                     colorbars=o.colorbars)
        _write_drawing(w, _prefix(w.job.state, index) + "sheet", drawing)
        return
    _write_drawing(w, "sheet", sheet_drawing_for(w.data, w.options, w.panels))


def _write_probabilities(w: _Writer, index: int) -> None:
    run, prefix = w.data.networks[index], _prefix(w.job.state, index)
    if run.a.probabilities is None:
        return
    if w.has("csv"):
        report.write_csv(w.path(f"{prefix}probabilities.csv"), *probability_rows(run.a))
    width = min(w.options.width, 900)
    _write_drawing(w, f"{prefix}probabilities", probability_drawing(run.a, width))
    if run.b is not None:
        if w.has("csv"):
            report.write_csv(w.path(f"{prefix}probabilities_B.csv"), *probability_rows(run.b))
        _write_drawing(w, f"{prefix}probabilities_B", probability_drawing(
            run.b, width, f"B ({w.job.state.compare.description}): {run.b.top1_label} "
                          f"({run.b.top1_probability:.2f})"))


def _write_shift_map(w: _Writer, index: int) -> None:
    run, prefix = w.data.networks[index], _prefix(w.job.state, index)
    smap = run.shift_map
    if smap is None:
        return
    if w.has("csv"):
        report.write_csv(w.path(f"{prefix}shift_map.csv"), *shift_map_rows(smap))
    _write_drawing(w, f"{prefix}shift_map", shift_map_drawing(
        smap, min(w.options.width, 1000), network=run.choice.label if prefix else ""))


def _write_layers(w: _Writer, index: int) -> None:
    run = w.data.networks[index]
    arrays = {f"{row}/{p.name}": p.activations for row, view in (("A", run.a), ("B", run.b))
              if view is not None for p in view.panels}
    arrays["A/input"] = run.a.prepared.x
    if run.b is not None:
        arrays["B/input"] = run.b.prepared.x
    report.write_npz(w.path(f"{_prefix(w.job.state, index)}layers.npz"), arrays,
                     compress=w.options.compress)


def _write_network_metrics(w: _Writer, index: int) -> None:
    run, prefix = w.data.networks[index], _prefix(w.job.state, index)
    document = {"network": network_record(run)}
    if run.comparison is not None:
        document["comparison"] = report.comparison_metrics(run.comparison.stages)
        for record in document["comparison"]:
            record["distance_all_channels"] = run.comparison.tensor_distances[record["stage"]]
    if w.has("json"):
        report.write_json(w.path(f"{prefix}metrics.json"), document)
    if w.has("csv") and run.comparison is not None:
        columns = ["layer", "distance", "distance_all_channels", "peak_moved_cells",
                   "peak_moved_px", "equivariance_error", "error_note"]
        # the JSON's records, so a layer zero in A and B moves by n/a (null), not by (0, 0)
        rows = [[r["stage"], r["distance"], r["distance_all_channels"], r["displacement"],
                 r["displacement_px"], r["equivariance_error"], r.get("error_note")]
                for r in document["comparison"]]
        report.write_csv(w.path(f"{prefix}metrics.csv"), columns, rows)


def _network_sweep(w: _Writer, index: int) -> None:
    o = w.options
    run, prefix = w.data.networks[index], _prefix(w.job.state, index)
    shifts = list(range(o.animate_shifts + 1))
    try:
        sweep = network_sweep(run.choice.load(), w.job.state.a.pixels, shifts,
                              axis=o.sweep_axis, wrap=o.sweep_wrap,
                              preparation=run.choice.preparation, layers=run.a.layer_names,
                              cancel=w.cancelled)
    except SweepCancelled as exc:
        raise ExportCancelled("figure set export cancelled during the shift sweep") from exc
    names = [short_name(n) for n in sweep.layers]
    values = sweep.distances
    if sweep.probability is not None:
        names.append(f"p({run.a.labels[sweep.class_index] if run.a.labels else sweep.class_index})")
        values = np.column_stack([values, sweep.probability])
    how, _ = _sweep_words(o)
    plot = draw.SweepPlot(shifts, names, values,
                          f"{run.choice.label}: each layer and the answer as the input is {how}",
                          f"shift along {o.sweep_axis} (network input pixels)",
                          "distance to the unshifted layer / probability")
    if {"png", "svg", "pdf"} & set(o.formats):
        _write_drawing(w, f"{prefix}sweep_plot", draw.plot_drawing(plot, o.width))
    if w.has("csv"):
        report.write_csv(w.path(f"{prefix}sweep.csv"),
                         *report.sweep_table(shifts, names, values, o.sweep_axis))


def options_panels(data: FigureData, options: FigureSetOptions) -> dict[str, dict[str, Panel]]:
    """The panels `options` ask for: difference markers, shared levels, true scale."""
    return figure_panels(data, diff_markers=options.diff_markers,
                         levels_shared=options.levels_shared,
                         scale_panels=options.scale_panels)


def sheet_drawing_for(data: FigureData, options: FigureSetOptions,
                      panels: dict[str, dict[str, Panel]] | None = None) -> draw.Drawing:
    """The composite sheet as a set with `options` draws it (sheet.png, Copy figure and the
    dialog's preview alike): the panels :func:`options_panels` gives (or `panels`), row
    B's metrics when asked, the columns, text size, colour bars and caption, `options.width`
    wide or as wide as `options.panel_width` needs.

    Raises
    ------
    ValueError
        If the panel width makes the sheet wider than MAX_WIDTH.
    """
    o = options
    panels = options_panels(data, o) if panels is None else panels
    rows = sheet_rows(data, panels, metrics=o.metrics_on_sheet)
    width = o.width
    if o.panel_width is not None:
        width = draw.sheet_width_for(o.panel_width, rows, o.columns)
        if width > MAX_WIDTH:
            raise ValueError(f"a panel width of {o.panel_width} px makes the sheet {width} px "
                             f"wide, more than {MAX_WIDTH}; choose a smaller panel width or "
                             "fewer columns.")
    table = metrics_table(data) if o.metrics_on_sheet else None
    return draw.sheet_drawing(rows, width, _caption(data, o.title), columns=o.columns,
                              font_px=o.font_size, colorbars=o.colorbars, table=table)


def metrics_table(data: FigureData) -> list[list[str]] | None:
    """The comparison's numbers per stage as a small table for the sheet: a header line,
    then stage, distance, peak move in cells and in input pixels (a near-tie marked), and
    the equivariance error or why it is undefined; None without a comparison."""
    if not data.comparisons:
        return None
    lines = [["stage", "distance", "peak moved (cells)", "(input px)", "equivariance error"]]
    for c in data.comparisons:
        if c.both_zero:
            lines.append([c.name, "n/a", "n/a", "n/a", c.error_note or "n/a"])
            continue
        error = (f"{c.equivariance_error:.4f}" if c.equivariance_error is not None
                 else f"n/a: {c.error_note}" if c.error_note else "n/a")
        tie = " (tie)" if c.near_tie else ""
        lines.append([c.name, f"{c.distance:.4f}", f"{c.displacement}{tie}",
                      f"{c.displacement_px}", error])
    return lines


def sheet_image(job: ExportJob, options: FigureSetOptions) -> QImage:
    """The composite sheet of `job` drawn as :func:`sheet_drawing_for` says, on the
    options' background (a pipeline run first).

    Raises
    ------
    ValueError
        If the pipeline cannot run on the images, or the sheet would be too wide.
    RuntimeError
        If no QGuiApplication exists.
    """
    _require_gui_application()
    data = compute_figure_data(job, options.top_k)
    return draw.render(sheet_drawing_for(data, options), options.background)


def _write_drawing(w: _Writer, stem: str, drawing: draw.Drawing) -> None:
    """Write `drawing` as stem.png, stem.svg and/or stem.pdf, as the formats ask."""
    o = w.options
    if w.has("png"):
        draw.write_png(w.path(f"{stem}.png"), draw.render(drawing, o.background), o.dpi)
    if w.has("svg"):
        draw.write_svg(w.path(f"{stem}.svg"), drawing, o.background)
    if w.has("pdf"):
        draw.write_pdf(w.path(f"{stem}.pdf"), drawing, o.background, o.dpi or 96)


def _write_stages(w: _Writer) -> None:
    report.write_npz(w.path("stages.npz"), report.stage_arrays(w.data.results),
                     compress=w.options.compress)


def _metrics_document(data: FigureData) -> dict:
    records = {row: [report.stage_metrics(s, row) for s in result]
               for row, result in data.results.items()}
    comparison = None if data.comparisons is None else report.comparison_metrics(data.comparisons)
    return report.metrics_document(records, comparison)


def _write_metrics(w: _Writer) -> None:
    document = _metrics_document(w.data)
    if w.has("json"):
        report.write_json(w.path("metrics.json"), document)
    if w.has("csv"):
        report.write_csv(w.path("metrics.csv"), *report.metrics_table(document, w.options.top_k))


_SWEEP_WORDS = {"x": "right", "y": "down", "diagonal": "down and right",
                "xy": "down and right"}


def _sweep_words(o: FigureSetOptions) -> tuple[str, str]:
    """How the sweep moves the input, and what its distance compares, in words."""
    how = "circular" if o.sweep_wrap else "zero fill"
    moved = f"moved {_SWEEP_WORDS[o.sweep_axis]} ({how})"
    against = ("f(x) moved by the shift in whole cells" if o.sweep_aligned
               else "the unshifted map")
    return moved, against


def _sweep(w: _Writer) -> None:
    shifts = range(w.options.animate_shifts + 1)
    o = w.options
    try:
        w.sweep = shift_sweep(w.job.state.a.pixels, w.job.spec, shifts, axis=o.sweep_axis,
                              wrap=o.sweep_wrap, align=o.sweep_aligned, cancel=w.cancelled)
    except SweepCancelled as exc:
        raise ExportCancelled("figure set export cancelled during the shift sweep") from exc


def _render_frame(w: _Writer, shift: int) -> None:
    o = w.options
    top_k = o.top_k
    base = w.data.results[ROW_A]
    unit_y, unit_x = SWEEP_AXES[o.sweep_axis]
    moved = run_pipeline(translate(w.job.state.a.pixels, unit_y * shift, unit_x * shift,
                                   wrap=o.sweep_wrap), w.job.spec, top_k=max(1, top_k))
    ranges = stage_ranges([base, moved])
    scaled = o.scale_panels
    rows = [SheetRow("A", list(_stage_panels(base, top_k, ranges, scaled).values())),
            SheetRow(f"+{shift}",
                     [_stage_panels(moved, top_k, ranges, scaled).get(n) for n in base.names])]
    last = base.names[-1]
    how, against = _sweep_words(o)
    distance = w.sweep[shift, -1]
    caption = (f"A {how} by {shift} px | {last}: distance to {against} "
               + ("n/a (both zero)" if np.isnan(distance) else f"{distance:.3f}")
               + f" | {describe_spec(w.job.spec, base)}")
    drawing = draw.sheet_drawing(rows, w.options.width, caption, columns=w.options.columns,
                                 font_px=w.options.font_size, colorbars=w.options.colorbars)
    frame = draw.qimage_to_bgr(draw.render(drawing, "white"))
    # Codecs want even sizes: pad with white.
    h, wd = frame.shape[:2]
    frame = cv2.copyMakeBorder(frame, 0, h % 2, 0, wd % 2, cv2.BORDER_CONSTANT,
                               value=(255, 255, 255))
    if w.frames is None:
        _start_animation(w, frame.shape)
    elif frame.shape != w.frames.shape[1:]:
        raise RuntimeError(f"frame {shift} is {frame.shape}, frame 0 {w.frames.shape[1:]}; "
                           "a circular shift should keep every stage's shape.")
    w.frames[shift] = frame
    w.video.write(frame)


def _start_animation(w: _Writer, shape: tuple[int, ...]) -> None:
    """Open the MP4 writer and the frames' memory map (beside the set, so frames live on
    disk, not in memory, until the GIF is written)."""
    count = w.options.animate_shifts + 1
    w.frames = np.memmap(w.folder.parent / "frames.raw", np.uint8, "w+", shape=(count, *shape))
    w.video = Mp4Writer(w.path("sweep.mp4"), (shape[1], shape[0]), ANIMATION_FPS)
    if w.video.notice:
        warnings.warn(w.video.notice, ExportNotice, stacklevel=2)


def _write_animation(w: _Writer) -> None:
    w.codec = w.video.codec
    w.video.close()
    w.video = None
    write_gif(w.path("sweep.gif"), iter(w.frames), ANIMATION_FPS)
    w.frames = None


def _write_sweep_plot(w: _Writer) -> None:
    names = w.data.results[ROW_A].names
    shifts = list(range(w.options.animate_shifts + 1))
    how, against = _sweep_words(w.options)
    axis = w.options.sweep_axis
    plot = draw.SweepPlot(
        shifts, names, w.sweep, f"How much each stage changes as the input is {how}",
        f"shift along {axis} (pixels)", f"distance to {against}")
    _write_drawing(w, "sweep_plot", draw.plot_drawing(plot, w.options.width))
    if w.has("csv"):
        report.write_csv(w.path("sweep.csv"), *report.sweep_table(shifts, names, w.sweep, axis))


def _input_record(image: InputImage) -> dict:
    source = image.source
    exact = image.reloadable  # the source gives exactly these pixels
    return {"source": image.label, **source.to_dict(),
            "sha256": source.sha256 if exact and source.kind == "file" else None,
            "shape": list(image.shape), "array_sha256": report.array_sha256(image.pixels)}


def _inputs(state: ViewState) -> dict[str, dict]:
    inputs = {ROW_A: _input_record(state.a)}
    if state.compare is not None:
        if state.compare.image_b is not None:
            inputs[ROW_B] = _input_record(state.compare.image_b)
        else:
            b = state.image_b()
            inputs[ROW_B] = {"source": f"A {state.compare.description}", "kind": "transform",
                             "shape": list(b.shape),
                             "array_sha256": report.array_sha256(b)}
    return inputs


def _transform_record(state: ViewState) -> dict | None:
    if state.compare is None:
        return None
    setup = state.compare
    t = setup.transform
    return {"kind": t.kind, "description": setup.description,
            "shift": list(t.shift) if t.shift is not None else None, "wrap": t.wrap,
            "turns": t.turns if t.kind == "rotate" else None,
            "mirror_kernel": setup.kernel_mirrored(state.spec)}


def _write_session(w: _Writer) -> None:
    save_session(w.path(SESSION_FILE), w.job.state)


def _write_manifest(w: _Writer) -> None:
    job = w.job
    network = w.data.network
    manifest = report.build_manifest(
        spec=job.spec, inputs=_inputs(job.state), transform=_transform_record(job.state),
        command=job.command, options=w.options.to_dict(),
        files=[*w.files, "manifest.json"], results={} if network is not None else w.data.results)
    manifest["session"] = SESSION_FILE
    if network is not None:
        records = [network_record(run, [f for f in w.files
                                        if f.startswith(f"panels/{_prefix(job.state, k)}")])
                   for k, run in enumerate(w.data.networks)]
        manifest["network"] = records[0]
        if job.state.network.side_by_side:
            manifest["networks"] = records
    manifest["rendering"] = dict(draw.COLORMAPS)
    if w.options.animate_shifts and network is None:
        o = w.options
        manifest["animation"] = {
            "shifts": list(range(o.animate_shifts + 1)), "axis": o.sweep_axis,
            "wrap": o.sweep_wrap, "aligned": o.sweep_aligned, "fps": ANIMATION_FPS,
            "mp4_codec": w.codec, "gif": "adaptive palette, no dither",
            "distance": f"engine.shift_sweep(align={o.sweep_aligned}): "
                        "||f(shift x) - T'f(x)|| / max(||.||, ||.||), T' the shift in whole "
                        "cells when aligned, else none"}
    report.write_json(w.path("manifest.json"), manifest)


def write_figure_set(out_dir: str | os.PathLike, job: ExportJob,
                     options: FigureSetOptions | None = None, *, force: bool = False,
                     progress: ProgressCallback | None = None,
                     cancel: Callable[[], bool] | threading.Event | None = None) -> Path:
    """Write a figure set into the folder `out_dir` in one go.

    Where a set may go, and how it is put there, is :mod:`figures.target`: built in a
    temporary folder beside it and renamed into place at the end; missing parents are
    created only then.

    Parameters
    ----------
    out_dir : path
        The folder to write. It may exist if it is empty; a non-empty one is replaced
        only with `force`, and only if it is a figure set. Never the current folder, home,
        the root, or a folder holding one of the state's input files.
    job : ExportJob
        What to show.
    options : FigureSetOptions, optional
        Formats, width, background, top-k, animation; the defaults otherwise.
    force : bool
        Replace an existing figure set.
    progress : callable, optional
        ``progress(step, total, message)`` before each step (1-based), on the calling
        thread, e.g. ``(3, 13, "writing A conv")``.
    cancel : callable or threading.Event, optional
        Checked between steps (and between shifts of a sweep); when it returns True (or
        the event is set) the export stops.

    Returns
    -------
    Path
        The folder written (absolute).

    Raises
    ------
    ExportTargetError
        Before anything is written, when `out_dir` may not take the set (see
        :func:`figures.target.check_target`); after writing, when it filled up meanwhile.
    ExportWriteError
        If writing a file fails (a full disk, say); the message names the file as it
        would have been in `out_dir`. Nothing is left behind, an old set is untouched.
    ExportCancelled
        When `cancel` asked; nothing is left behind and an existing folder is untouched.
    ValueError
        If the pipeline cannot run on the images.
    KeyboardInterrupt
        Nothing is left behind, except as :class:`figures.target.InterruptedAfterPlacing`
        says.
    RuntimeError
        If no QGuiApplication (or QApplication) exists.
    """
    _require_gui_application()
    options = options or FigureSetOptions()
    cancelled = cancel_check(cancel)
    target = check_target(out_dir, force, input_files(job.state))
    steps = _plan(job, options, _expected_names(job))
    tmp_root = make_workspace(target)
    # The set is built in a plain subfolder (mkdtemp's own folder is private, 0700) so it
    # gets the usual permissions when it is moved into place.
    tmp = tmp_root / target.name
    writer = None
    try:
        tmp.mkdir()
        writer = _Writer(job, options, tmp, cancelled)
        i = 0
        while i < len(steps):
            message, step = steps[i]
            if cancelled():
                raise ExportCancelled("figure set export cancelled")
            if progress is not None:
                progress(i + 1, len(steps), message)
            try:
                step(writer)
            except OSError as exc:
                raise ExportWriteError.naming(exc, tmp, target) from exc
            if step is _compute:  # now the real stage names are known
                steps = _plan(job, options, _actual_names(writer))
            i += 1
        if cancelled():
            raise ExportCancelled("figure set export cancelled")
        writer.close()
        move_into_place(tmp, target, force)
    finally:
        if writer is not None:
            writer.close()
        shutil.rmtree(tmp_root, ignore_errors=True)  # only the marker after a move
    return target


class ExportWriteError(ExportTargetError):
    """A file of the set could not be written (a full disk, a quota, a name too long).

    Attributes
    ----------
    errno : int or None
        The operating system's error number.
    """

    def __init__(self, message: str, errno: int | None = None) -> None:
        super().__init__(message)
        self.errno = errno

    @classmethod
    def naming(cls, exc: OSError, tmp: Path, target: Path) -> ExportWriteError:
        """The error for `exc`, raised while writing into `tmp`, naming the file as it
        would be in `target` (the temporary folder is gone by the time anyone reads it)."""
        name = exc.filename
        if name is not None:
            try:
                name = target / Path(name).relative_to(tmp)
            except ValueError:
                pass
        where = f"{name}: " if name is not None else f"{target}: "
        reason = exc.strerror or " ".join(str(exc).replace(str(tmp), str(target)).split())
        return cls(f"{where}could not be written ({reason}); nothing was written. Free "
                   "some space or choose another output folder.", exc.errno)


def input_files(state: ViewState) -> tuple[Path, ...]:
    """The files `state` reads: its images (A's, and B's when it is another file) and its
    network's model and labels files."""
    images = [state.a] + ([state.compare.image_b] if state.compare is not None
                          and state.compare.image_b is not None else [])
    files = [Path(i.source.path) for i in images if i.source.kind == "file" and i.source.path]
    if state.network is not None:
        files += [Path(p) for p in (state.network.path, state.network.labels_path) if p]
    return tuple(files)


def _require_gui_application() -> None:
    if QGuiApplication.instance() is None:
        raise RuntimeError("drawing figures needs a QGuiApplication (or QApplication); "
                           "create one first (the export command does).")

