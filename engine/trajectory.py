"""Where each stage's maximum goes over time: one point per frame and stage.

A downsampling stage moves its maximum in steps of its stride while the input's moves
smoothly; the trajectory records both in the stage's own cells and in input pixels, so the
staircase can be drawn next to the input's path and written to a CSV file.
"""

from __future__ import annotations

import csv
import io
import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from .maxima import is_near_tie
from .pipeline import PipelineResult, Stage

#: The CSV columns, in order; one line per frame and stage.
TRAJECTORY_COLUMNS = ("frame", "time_s", "stage", "row", "col", "value", "input_row",
                      "input_col")


@dataclass(frozen=True)
class TrackPoint:
    """The global maximum of one stage in one frame.

    Attributes
    ----------
    frame : int
        The frame's index in its stream.
    time_s : float
        The frame's time in seconds.
    stage : str
        The stage's name (``input``, ``conv``, ``pool 1`` ...).
    row, col : int or None
        The largest cell (the first in row-major order when several are equal); None when
        the stage is constant (a blank frame: nothing stands out, so there is no feature).
    value : float
        The stage's largest value (its only value when it is constant).
    input_row, input_col : float or None
        Where that cell sits over the input, in input pixel indices (pixel ``j``'s centre
        is ``j``): the centre of the cell's receptive field before clipping to the image,
        which is also the centre of the square the window draws for the cell
        (:meth:`engine.Stage.display_rect`; in the window's scene coordinates, where pixel
        ``j`` spans ``[j, j + 1)``, add 0.5). Along each axis,
        ``offset + index * stride + (extent - 1) / 2``. None when `row` is None.
    near_tie : bool
        The maximum is not clearly the largest (:func:`engine.maxima.is_near_tie`): a cell
        away from it is within 1%, or nothing is positive. Its position may jump.
    """

    frame: int
    time_s: float
    stage: str
    row: int | None
    col: int | None
    value: float
    input_row: float | None
    input_col: float | None
    near_tie: bool

    @property
    def found(self) -> bool:
        """True when the stage has a maximum (it is not constant)."""
        return self.row is not None


def cell_centre(stage: Stage, row: int, col: int) -> tuple[float, float]:
    """Return the centre of cell (row, col) of `stage` in input pixel indices
    ``(input_row, input_col)``, as :class:`TrackPoint` defines it.

    Examples
    --------
    >>> from engine.pipeline import PipelineSpec, run_pipeline
    >>> r = run_pipeline(np.eye(8), PipelineSpec(convolve=False, levels=2))
    >>> cell_centre(r["input"], 3, 5), cell_centre(r["pool 1"], 1, 2)
    ((3.0, 5.0), (2.5, 4.5))
    """
    gy, gx = stage.geometry.y, stage.geometry.x
    return (gy.offset + row * gy.stride + (gy.extent - 1) / 2,
            gx.offset + col * gx.stride + (gx.extent - 1) / 2)


def track_points(result: PipelineResult, frame: int, time_s: float) -> list[TrackPoint]:
    """Return one :class:`TrackPoint` per stage of `result`: its global maximum.

    Parameters
    ----------
    result : PipelineResult
        One frame run through the pipeline (each stage records its maxima).
    frame : int
        The frame's index.
    time_s : float
        The frame's time in seconds.

    Returns
    -------
    list of TrackPoint
        In stage order. A constant stage (all 0 for a black frame) has no feature: its row,
        col, input_row and input_col are None and near_tie is True.

    Examples
    --------
    >>> from engine.pipeline import PipelineSpec, run_pipeline
    >>> img = np.zeros((8, 8)); img[5, 6] = 1
    >>> r = run_pipeline(img, PipelineSpec(convolve=False, levels=1))
    >>> [(p.stage, p.row, p.col, p.input_col) for p in track_points(r, 0, 0.0)]
    [('input', 5, 6, 6.0), ('pool 1', 2, 3, 6.5)]
    """
    points = []
    for stage in result.stages:
        row, col, value = stage.maxima[0]
        arr = stage.array
        if value <= float(arr.min()):  # constant: no position stands out
            points.append(TrackPoint(int(frame), float(time_s), stage.name, None, None,
                                     float(value), None, None, True))
            continue
        in_row, in_col = cell_centre(stage, row, col)
        points.append(TrackPoint(int(frame), float(time_s), stage.name, int(row), int(col),
                                 float(value), float(in_row), float(in_col),
                                 bool(is_near_tie(arr))))
    return points


@dataclass(frozen=True)
class TrackSeries:
    """One stage's trajectory as arrays of equal length, one entry per frame.

    ``row``, ``col``, ``input_row`` and ``input_col`` are float64 with NaN where the stage
    had no feature; ``frame`` is int64, ``near_tie`` bool.
    """

    stage: str
    frame: np.ndarray = field(repr=False)
    time_s: np.ndarray = field(repr=False)
    row: np.ndarray = field(repr=False)
    col: np.ndarray = field(repr=False)
    value: np.ndarray = field(repr=False)
    input_row: np.ndarray = field(repr=False)
    input_col: np.ndarray = field(repr=False)
    near_tie: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return len(self.frame)


def _nan(v: float | None) -> float:
    return np.nan if v is None else v


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return format(v, ".9g")
    return str(v)


class Trajectory:
    """The track points of a stream, frame after frame.

    Parameters
    ----------
    max_frames : int, optional
        Keep only the points of the last `max_frames` appends (a live camera runs for
        ever); by default keep everything.

    Examples
    --------
    >>> from engine.pipeline import PipelineSpec, run_pipeline
    >>> t = Trajectory()
    >>> for i in range(3):
    ...     img = np.zeros((8, 8)); img[1, 2 * i] = 1
    ...     t.append(track_points(run_pipeline(img, PipelineSpec(convolve=False, levels=1)),
    ...                           i, i / 10))
    >>> t.stages, t.series("pool 1").col.tolist()
    (['input', 'pool 1'], [0.0, 1.0, 2.0])
    >>> print(t.csv_text().splitlines()[2])
    0,0,pool 1,0,0,1,0.5,0.5
    """

    def __init__(self, max_frames: int | None = None) -> None:
        if max_frames is not None and (isinstance(max_frames, bool)
                                       or not isinstance(max_frames, int) or max_frames < 1):
            raise ValueError(f"max_frames must be a whole number >= 1 or None; got "
                             f"{max_frames!r}.")
        self._frames: deque[tuple[TrackPoint, ...]] = deque(maxlen=max_frames)

    def append(self, points: Iterable[TrackPoint]) -> None:
        """Add one frame's points (as :func:`track_points` returns them).

        Raises
        ------
        ValueError
            If an item is not a TrackPoint.
        """
        points = tuple(points)
        bad = next((p for p in points if not isinstance(p, TrackPoint)), None)
        if bad is not None:
            raise ValueError(f"a trajectory takes TrackPoints; got {type(bad).__name__}.")
        self._frames.append(points)

    def clear(self) -> None:
        """Forget every point."""
        self._frames.clear()

    @property
    def points(self) -> list[TrackPoint]:
        """Every point, in the order appended."""
        return [p for frame in self._frames for p in frame]

    def __len__(self) -> int:
        """The number of appends (frames) kept."""
        return len(self._frames)

    @property
    def stages(self) -> list[str]:
        """Stage names in the order they first appear."""
        return list(dict.fromkeys(p.stage for p in self.points))

    def series(self, stage: str) -> TrackSeries:
        """Return the arrays of `stage` (empty when it never appeared)."""
        ps = [p for frame in self._frames for p in frame if p.stage == stage]
        return TrackSeries(
            stage,
            np.array([p.frame for p in ps], np.int64),
            np.array([p.time_s for p in ps], np.float64),
            np.array([_nan(p.row) for p in ps], np.float64),
            np.array([_nan(p.col) for p in ps], np.float64),
            np.array([p.value for p in ps], np.float64),
            np.array([_nan(p.input_row) for p in ps], np.float64),
            np.array([_nan(p.input_col) for p in ps], np.float64),
            np.array([p.near_tie for p in ps], bool),
        )

    def csv_text(self) -> str:
        """Return the CSV: a header of :data:`TRAJECTORY_COLUMNS`, then one line per frame
        and stage; an empty field where a stage had no feature."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(TRAJECTORY_COLUMNS)
        writer.writerows([_text(getattr(p, name)) for name in TRAJECTORY_COLUMNS]
                         for p in self.points)
        return out.getvalue()

    def write_csv(self, path: str | os.PathLike) -> None:
        """Write :meth:`csv_text` to `path` (UTF-8).

        Raises
        ------
        OSError
            If the file cannot be written.
        """
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(self.csv_text())
