"""Where each stage's maximum went, drawn: the trajectory plot, video frames with each stage's
maximum marked, and the folder ``shiftlab track`` writes (trajectory.csv, the plot as PNG
and SVG, annotated.mp4 and manifest.json).

Drawn with QPainter like :mod:`figures.drawing` (a QGuiApplication must exist), and written
like a figure set (:mod:`figures.target`): built in a temporary folder beside the target and
moved into place at the end, so a failure, a cancel or Ctrl+C leaves nothing behind, and
``--force`` may replace an earlier result.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
)

from engine import PipelineResult, PipelineSpec, run_pipeline
from engine import report as engine_report
from engine.display import to_uint8
from engine.sweep import cancel_check
from engine.trajectory import TRAJECTORY_COLUMNS, TrackPoint, TrackSeries, Trajectory, track_points
from engine.video_input import VideoInfo, open_video
from figures.drawing import (
    HALO,
    PLOT_COLORS,
    TEXT_COLOR,
    Canvas,
    Drawing,
    draw_text,
    nice_ticks,
    render,
    text_font,
    write_png,
    write_svg,
)
from figures.figure_set import ExportCancelled, ExportWriteError
from figures.target import check_target, make_workspace, move_into_place
from figures.video import Mp4Writer

#: The files of a track folder.
CSV_FILE, PLOT_STEM, VIDEO_FILE, MANIFEST_FILE = ("trajectory.csv", "trajectory",
                                                  "annotated.mp4", "manifest.json")
#: Annotated frames wider than this are reduced (by area) to this width; narrower than
#: MIN_VIDEO_WIDTH enlarged by a whole factor, so the legend under them fits.
MAX_VIDEO_WIDTH, MIN_VIDEO_WIDTH = 1280, 640
#: The plot's width in pixels unless asked otherwise, and its bounds.
PLOT_WIDTH, MIN_PLOT_WIDTH, MAX_PLOT_WIDTH = 1200, 200, 4000


def stage_color(index: int) -> QColor:
    """The colour of the stage at `index` in the plot and on annotated frames."""
    return QColor(PLOT_COLORS[index % len(PLOT_COLORS)])


def stage_label(name: str, stride: tuple[int, int]) -> str:
    """A stage's name with its stride when it has one, e.g. ``"pool 2 (stride 4)"``.

    >>> stage_label("pool 2", (4, 4)), stage_label("conv", (1, 1)), stage_label("p", (2, 3))
    ('pool 2 (stride 4)', 'conv', 'p (stride 2x3)')
    """
    sy, sx = stride
    if (sy, sx) == (1, 1):
        return name
    return f"{name} (stride {sy if sy == sx else f'{sy}x{sx}'})"


# -- the plot ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrajectoryPlot:
    """What the trajectory plot shows.

    Attributes
    ----------
    series : sequence of TrackSeries
        One per stage, in stage order (:meth:`engine.trajectory.Trajectory.series`).
    labels : sequence of str
        The legend's text per series (:func:`stage_label`).
    shape : (rows, cols)
        The input's size: the vertical axes span it.
    title : str
    """

    series: Sequence[TrackSeries]
    labels: Sequence[str]
    shape: tuple[int, int]
    title: str


def plot_of(trajectory: Trajectory, result: PipelineResult, title: str) -> TrajectoryPlot:
    """The plot of `trajectory`, labelled with the stages (and strides) of `result`."""
    names = trajectory.stages
    strides = {s.name: s.stride for s in result.stages}
    return TrajectoryPlot([trajectory.series(n) for n in names],
                          [stage_label(n, strides.get(n, (1, 1))) for n in names],
                          result["input"].shape, title)


def _paint_trajectory(canvas: Canvas, plot: TrajectoryPlot, width: int, height: int) -> None:
    painter = canvas.painter
    font_px = max(9.0, width * 0.016)
    left, right = width * 0.08, width * 0.2
    top, gap, bottom = font_px * 2.6, font_px * 2.2, font_px * 3.0
    panel_h = (height - top - gap - bottom) / 2
    draw_text(painter, QRectF(0, 0, width, top), plot.title, font_px * 1.15)
    times = np.concatenate([s.time_s for s in plot.series]) if plot.series else np.zeros(1)
    t_max = float(times.max()) if times.size and times.max() > 0 else 1.0
    t_ticks = nice_ticks(t_max)
    t_max = t_ticks[-1]
    for k, (axis, extent) in enumerate((("input_col", plot.shape[1]),
                                        ("input_row", plot.shape[0]))):
        area = QRectF(left, top + k * (panel_h + gap), width - left - right, panel_h)
        v_ticks = nice_ticks(float(max(extent, 1)))
        v_max = v_ticks[-1]

        def at(t: float, v: float, area: QRectF = area, v_max: float = v_max) -> QPointF:
            return QPointF(area.left() + t / t_max * area.width(),
                           area.bottom() - v / v_max * area.height())

        painter.setPen(QPen(TEXT_COLOR, 1.0))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        for v in v_ticks:
            p = at(0.0, v)
            painter.setPen(QPen(QColor(225, 225, 225), 1.0))
            painter.drawLine(p, QPointF(area.right(), p.y()))
            draw_text(painter, QRectF(0, p.y() - font_px, left - 6, 2 * font_px), f"{v:g}",
                       font_px * 0.8, align=Qt.AlignmentFlag.AlignRight)
        for t in t_ticks:
            p = at(t, 0.0)
            painter.setPen(QPen(TEXT_COLOR, 1.0))
            painter.drawLine(p, p + QPointF(0, 4))
            draw_text(painter, QRectF(p.x() - 3 * font_px, p.y() + 4, 6 * font_px,
                                       font_px * 1.3), f"{t:g}", font_px * 0.8)
        what = "column" if axis == "input_col" else "row"
        painter.save()
        painter.translate(font_px * 0.9, area.center().y())
        painter.rotate(-90)
        draw_text(painter, QRectF(-area.height() / 2, -font_px, area.height(), 2 * font_px),
                   f"{what} of the maximum (input px)", font_px * 0.9)
        painter.restore()
        for j, series in enumerate(plot.series):
            _paint_steps(painter, series.time_s, getattr(series, axis), series.near_tie, at,
                         stage_color(j), max(1.5, width * 0.0018))
    draw_text(painter, QRectF(left, height - font_px * 1.6, width - left - right,
                               font_px * 1.5), "time (s)", font_px)
    _paint_legend(painter, plot.labels, QPointF(width - right + 10, top), font_px)


def _paint_steps(painter: QPainter, t: np.ndarray, v: np.ndarray, tie: np.ndarray,
                 at: Callable[[float, float], QPointF], colour: QColor, line: float) -> None:
    """A position held from its frame until the next (a step), with a gap where the stage
    had no feature and a ring on each near-tie."""
    path = QPainterPath()
    started = False
    for i in range(len(t)):
        if not np.isfinite(v[i]):
            started = False
            continue
        point = at(t[i], v[i])
        if started:
            path.lineTo(QPointF(point.x(), path.currentPosition().y()))
            path.lineTo(point)
        else:
            path.moveTo(point)
            started = True
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.setPen(QPen(colour, line))
    painter.drawPath(path)
    painter.setPen(QPen(colour, max(1.0, line * 0.7)))
    for i in np.flatnonzero(tie & np.isfinite(v)):
        painter.drawEllipse(at(t[i], v[i]), line * 2.2, line * 2.2)


def _paint_legend(painter: QPainter, labels: Sequence[str], origin: QPointF,
                  font_px: float) -> None:
    row_h = font_px * 1.5
    for j, label in enumerate(labels):
        y = origin.y() + j * row_h + row_h / 2
        painter.setPen(QPen(stage_color(j), 2.5))
        painter.drawLine(QPointF(origin.x(), y), QPointF(origin.x() + 20, y))
        draw_text(painter, QRectF(origin.x() + 26, y - row_h / 2, 400, row_h), label,
                   font_px * 0.9, align=Qt.AlignmentFlag.AlignLeft)
    y = origin.y() + len(labels) * row_h + row_h / 2
    painter.setPen(QPen(TEXT_COLOR, 1.2))
    painter.drawEllipse(QPointF(origin.x() + 10, y), 3.5, 3.5)
    draw_text(painter, QRectF(origin.x() + 26, y - row_h / 2, 400, row_h),
               "near-tie (may jump)", font_px * 0.9, align=Qt.AlignmentFlag.AlignLeft)


def trajectory_drawing(plot: TrajectoryPlot, width: int = PLOT_WIDTH) -> Drawing:
    """The trajectory plot `width` pixels wide: the column (top) and row (bottom) of each
    stage's maximum in input pixels against time, held between frames so a downsampled
    stage shows its staircase; near-ties ringed, gaps where a stage had no feature.

    Raises
    ------
    ValueError
        If `width` is below 200 pixels.
    """
    if width < MIN_PLOT_WIDTH:
        raise ValueError(f"the trajectory plot is at least {MIN_PLOT_WIDTH} pixels wide; "
                         f"got {width}.")
    height = round(width * 0.7)
    return Drawing(width, height, plot.title,
                   lambda c: _paint_trajectory(c, plot, width, height))


# -- annotated frames --------------------------------------------------------------------------
def annotated_frame(result: PipelineResult, points: Sequence[TrackPoint], caption: str,
                    max_width: int = MAX_VIDEO_WIDTH) -> np.ndarray:
    """Return the input of `result` in grey with each stage's maximum outlined in its colour:
    the square the window draws for that cell (a stride-sized square centred on its
    receptive field; dashed for a near-tie). A strip under it holds `caption` and each
    stage's colour with its cell. Frames narrower than :data:`MIN_VIDEO_WIDTH` are enlarged
    by a whole factor (nearest neighbour, pixels stay square); wider than `max_width`
    reduced by area.

    Returns
    -------
    (H, W, 3) uint8 BGR array
        H and W even (as H.264 wants); the same size for every frame of one size.
    """
    inp = result["input"].array
    rows, cols = inp.shape
    grey = to_uint8(inp, 0.0, 1.0)
    if cols > max_width:
        scale = max_width / cols
        grey = cv2.resize(grey, (max(2, round(cols * scale)), max(2, round(rows * scale))),
                          interpolation=cv2.INTER_AREA)
    elif cols < MIN_VIDEO_WIDTH:
        k = MIN_VIDEO_WIDTH // cols + (MIN_VIDEO_WIDTH % cols > 0)
        grey = cv2.resize(grey, (cols * k, rows * k), interpolation=cv2.INTER_NEAREST)
    h, w = grey.shape
    sx_px, sy_px = w / cols, h / rows
    font_px = max(12.0, w * 0.016)
    font = text_font(font_px * 0.9)
    metrics = QFontMetricsF(font)
    legend = [(stage_color(j), f"{p.stage} ({p.row}, {p.col})" if p.found
               else f"{p.stage}: none") for j, p in enumerate(points)]
    line_h = round(font_px * 1.6)
    placed, x, line = [], 6.0, 1
    for colour, text in legend:
        item_w = font_px * 1.2 + metrics.horizontalAdvance(text) + font_px
        if x + item_w > w - 6 and x > 6.0:
            x, line = 6.0, line + 1
        placed.append((colour, text, x, h + line * line_h))
        x += item_w
    height = h + (line + 1) * line_h
    # Paint straight onto the frame's memory: RGB32 is the word 0xffRRGGBB, stored B, G, R,
    # 255 on little-endian machines, so the BGR frame the encoder takes needs no conversion.
    buf = np.full((height + height % 2, w + w % 2, 4), 255, np.uint8)
    buf[:h, :w] = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGRA)  # grey: any byte order
    image = QImage(buf.data, buf.shape[1], buf.shape[0], buf.strides[0],
                   QImage.Format.Format_RGB32)
    strides = {s.name: s.stride for s in result.stages}
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for j, p in enumerate(points):
            if not p.found:
                continue
            sy, sx = strides.get(p.stage, (1, 1))
            side_x, side_y = max(sx * sx_px, 5.0), max(sy * sy_px, 5.0)
            cx, cy = (p.input_col + 0.5) * sx_px, (p.input_row + 0.5) * sy_px
            box = QRectF(cx - side_x / 2, cy - side_y / 2, side_x, side_y)
            style = Qt.PenStyle.DashLine if p.near_tie else Qt.PenStyle.SolidLine
            for pen_colour, pen_w in ((HALO, 3.5), (stage_color(j), 2.0)):
                painter.setPen(QPen(pen_colour, pen_w, style))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRect(box)
        draw_text(painter, QRectF(6, h, w - 12, line_h), caption, font_px,
                   align=Qt.AlignmentFlag.AlignLeft)
        for colour, text, x, y in placed:
            painter.fillRect(QRectF(x, y + line_h * 0.3, font_px * 0.8, line_h * 0.4), colour)
            draw_text(painter, QRectF(x + font_px * 1.2, y, w - x, line_h), text,
                       font_px * 0.9, align=Qt.AlignmentFlag.AlignLeft)
    finally:
        painter.end()
    if sys.byteorder == "little":
        return cv2.cvtColor(buf, cv2.COLOR_BGRA2BGR)
    return np.ascontiguousarray(buf[:, :, 3:0:-1])


# -- the folder --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrackOptions:
    """What ``track`` writes besides trajectory.csv.

    Attributes
    ----------
    width : int
        The plot's width in pixels.
    video : bool
        Write annotated.mp4.
    max_frames : int or None
        Track at most this many frames from the start (all when None).
    """

    width: int = PLOT_WIDTH
    video: bool = True
    max_frames: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.width, bool) or not isinstance(self.width, int) \
                or not MIN_PLOT_WIDTH <= self.width <= MAX_PLOT_WIDTH:
            raise ValueError(f"width must be a whole number of pixels from {MIN_PLOT_WIDTH} "
                             f"to {MAX_PLOT_WIDTH}; got {self.width!r}.")
        if self.max_frames is not None and (isinstance(self.max_frames, bool)
                                            or not isinstance(self.max_frames, int)
                                            or self.max_frames < 1):
            raise ValueError(f"max_frames must be a whole number >= 1 or None; got "
                             f"{self.max_frames!r}.")


@dataclass(frozen=True)
class TrackSummary:
    """What was written: the folder, the stream, the frames tracked and the MP4's codec
    (None without a video)."""

    folder: Path
    info: VideoInfo
    frames: int
    codec: str | None


ProgressCallback = Callable[[int, int, str], None]


def write_track(out_dir: str | os.PathLike, source: str | os.PathLike,
                spec: PipelineSpec | None = None, options: TrackOptions | None = None, *,
                force: bool = False, progress: ProgressCallback | None = None,
                cancel: Callable[[], bool] | object | None = None,
                command: Sequence[str] = ()) -> TrackSummary:
    """Track every frame of the video (or folder of images) `source` through `spec` and write
    the folder `out_dir`: trajectory.csv, trajectory.png and .svg, annotated.mp4 (unless
    ``options.video`` is False) and manifest.json.

    Parameters
    ----------
    out_dir : path
        The folder to write; the rules of :func:`figures.target.check_target` (new or empty;
        replaced only with `force` when ShiftLab wrote it; never where the input is).
    source : path
        What :func:`engine.video_input.open_video` opens.
    spec : PipelineSpec, optional
        The article's pipeline by default.
    options : TrackOptions, optional
    force : bool
        Replace an earlier figure set or track folder.
    progress : callable, optional
        ``progress(step, total, message)`` after each frame and before each file; `total` is
        0 while the number of frames is unknown.
    cancel : callable or threading.Event, optional
        Checked before each frame; when it asks, tracking stops and nothing is written.
    command : sequence of str
        The command line that writes the folder again (recorded in the manifest).

    Returns
    -------
    TrackSummary

    Raises
    ------
    engine.VideoError
        If the video cannot be opened, or breaks off (truncated or damaged); nothing is
        written.
    figures.target.ExportTargetError
        If `out_dir` may not take the folder; ExportWriteError (one) when a file cannot be
        written.
    ExportCancelled
        When `cancel` asked; nothing is written.
    ValueError
        If the pipeline cannot run on the frames (too small for the kernel).
    RuntimeError
        If no QGuiApplication exists.
    KeyboardInterrupt
        Nothing is left behind.
    """
    if QGuiApplication.instance() is None:
        raise RuntimeError("drawing the trajectory needs a QGuiApplication; create one first "
                           "(the track command does).")
    spec = PipelineSpec() if spec is None else spec
    options = TrackOptions() if options is None else options
    cancelled = cancel_check(cancel)
    target = check_target(out_dir, force, (source,))
    reader = open_video(source)
    tmp_root = None
    video = None
    try:
        info = reader.info
        total = info.frame_count or 0
        if options.max_frames is not None:
            total = min(total, options.max_frames) if total else options.max_frames
        tmp_root = make_workspace(target)
        tmp = tmp_root / target.name
        tmp.mkdir()
        trajectory, result = Trajectory(), None
        count = 0
        try:
            while options.max_frames is None or count < options.max_frames:
                if cancelled():
                    raise ExportCancelled("tracking cancelled; nothing was written")
                frame = reader.read()
                if frame is None:
                    break
                result = run_pipeline(frame.image, spec, top_k=1)
                points = track_points(result, frame.index, frame.time_s)
                trajectory.append(points)
                if options.video:
                    picture = annotated_frame(
                        result, points, f"frame {frame.index}  {frame.time_s:.3f} s  "
                        f"{Path(info.source).name}")
                    if video is None:
                        video = Mp4Writer(tmp / VIDEO_FILE, (picture.shape[1], picture.shape[0]),
                                          max(1, round(info.fps)))
                    video.write(picture)
                count += 1
                if progress is not None:
                    progress(count, total, "tracking frames")
            codec = None
            if video is not None:
                codec = video.codec
                video.close()
            trajectory.write_csv(tmp / CSV_FILE)
            drawing = trajectory_drawing(plot_of(
                trajectory, result, f"Where each stage's maximum goes: {Path(info.source).name}"
                f" ({count} frames)"), options.width)
            write_png(tmp / f"{PLOT_STEM}.png", render(drawing))
            write_svg(tmp / f"{PLOT_STEM}.svg", drawing)
            files = [CSV_FILE, f"{PLOT_STEM}.png", f"{PLOT_STEM}.svg", MANIFEST_FILE]
            files += [VIDEO_FILE] if codec else []
            _write_manifest(tmp, info, spec, result, count, codec, files, command)
        except OSError as exc:
            raise ExportWriteError.naming(exc, tmp, target) from exc
        if cancelled():
            raise ExportCancelled("tracking cancelled; nothing was written")
        move_into_place(tmp, target, force)
    finally:
        reader.close()
        if video is not None:
            video.close()
        if tmp_root is not None:
            shutil.rmtree(tmp_root, ignore_errors=True)
    return TrackSummary(target, info, count, codec)


def _write_manifest(folder: Path, info: VideoInfo, spec: PipelineSpec,
                    result: PipelineResult, count: int, codec: str | None,
                    files: Sequence[str], command: Sequence[str]) -> None:
    source = {"source": str(Path(info.source).resolve()), "kind": info.kind,
              "frame_count": info.frame_count, "fps": info.fps, "shape": list(info.shape)}
    manifest = engine_report.build_manifest(
        spec=spec, inputs={"A": source}, transform=None, command=command,
        options={"frames_tracked": count}, files=files, results={"A": result})
    manifest["kind"] = "trajectory"
    manifest["trajectory"] = {
        "columns": list(TRAJECTORY_COLUMNS),
        "input_pixels": "input_row/input_col: centre of the cell's receptive field in input "
                        "pixel indices (pixel j's centre is j)",
        "no_feature": "empty row/col where a stage is constant (nothing stands out)",
        "video_codec": codec, "video_fps": max(1, round(info.fps)) if codec else None}
    engine_report.write_json(folder / MANIFEST_FILE, manifest)
