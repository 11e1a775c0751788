"""The Trajectories dock: where each stage's global maximum is, frame after frame.

:class:`TrajectoryPanel` draws the points :func:`engine.trajectory.track_points` made on
the worker for every processed frame: the maximum's column (left) and row (right) over
time, one stepped curve per stage, either in input pixels (the input's smooth path and
each pooled stage's staircase on one scale) or in the stage's own cells. Near-ties (a
rival peak almost as large elsewhere, so the position may jump) are underlined in red.
Export CSV… writes :meth:`engine.trajectory.Trajectory.write_csv` on its own lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.trajectory import TrackPoint, Trajectory
from gui.docks.metrics_plot import plain_axes
from gui.worker import JobContext, JobDone, JobFailed, JobRunner, Request, error_message

CSV_LANE = "live-csv"
#: What the curves' vertical axis counts.
UNITS = {"input pixels": "input", "stage cells": "cells"}
#: The curves are redrawn at most this often while frames arrive (ms).
REDRAW_MS = 500
#: The most frames kept (2 minutes at 30 fps); `shiftlab track` measures a whole video.
MAX_FRAMES = 3600
#: The fields of a point the curves read.
FIELDS = ("time_s", "row", "col", "input_row", "input_col", "near_tie")
NEAR_TIE_COLOR = (255, 60, 60)
STAGE_COLORS = ((235, 235, 235), (255, 200, 0), (80, 220, 80), (0, 190, 255), (200, 110, 255),
                (255, 140, 0), (64, 224, 208), (255, 120, 190), (180, 255, 60), (150, 150, 255))
CSV_FILTER = "CSV files (*.csv);;All files (*)"


@dataclass(frozen=True, slots=True, eq=False)
class WriteTrajectoryRequest(Request[int]):
    """Write `trajectory` as CSV to `path` off the GUI thread."""

    lane: ClassVar[str] = CSV_LANE
    trajectory: Trajectory
    path: str
    rows: int

    def run(self, context: JobContext) -> int:
        """Write the file.

        Returns
        -------
        int
            The number of data rows written.

        Raises
        ------
        OSError
            If the file cannot be written.
        """
        self.trajectory.write_csv(self.path)
        return self.rows


def stage_color(index: int) -> tuple[int, int, int]:
    """The curve colour of stage `index`: the input near white, the others bright colours
    that stand out on the plots' dark background and differ from the near-tie mark's red."""
    if index == 0:
        return STAGE_COLORS[0]
    return STAGE_COLORS[1 + (index - 1) % (len(STAGE_COLORS) - 1)]


class TrajectoryPanel(QWidget):
    """The curves, the unit toggle, Clear and Export CSV….

    Parameters
    ----------
    runner : JobRunner
        Runs the CSV export.

    Signals
    -------
    message(str)
        Text for the status bar.
    exported(str)
        The CSV file was written (its path).
    """

    message = Signal(str)
    exported = Signal(str)

    def __init__(self, runner: JobRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self._points: dict[int, tuple[TrackPoint, ...]] = {}  # frame -> its stages' points
        self._stages: list[str] = []
        # per stage, the points' fields in frame order, appended as frames come in order
        # (a frame shown again or out of order rebuilds them at the next redraw)
        self._columns: dict[str, dict[str, list]] = {}
        self._last_frame = -1
        self._rebuild = False
        self._dropped = False  # frames beyond MAX_FRAMES were forgotten
        self._stale = False
        self._export_id = 0
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(REDRAW_MS)
        self._redraw_timer.timeout.connect(self.redraw)

        self.units = QComboBox()
        self.units.addItems(list(UNITS))
        self.units.setToolTip("Input pixels: every stage on the input's scale, so a pooled "
                              "stage's staircase lies on the input's path. Stage cells: each "
                              "stage's own row and column.")
        self.count_label = QLabel("no frames yet")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Forget the points recorded so far")
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("One line per frame and stage: frame, time, stage, "
                                      "row, col, value, input row, input col, near-tie")
        self.export_button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(QLabel("Position in"))
        top.addWidget(self.units)
        top.addWidget(self.count_label, 1)
        top.addWidget(self.clear_button)
        top.addWidget(self.export_button)

        self.plots = {"col": pg.PlotWidget(), "row": pg.PlotWidget()}
        plots = QHBoxLayout()
        self.curves: dict[str, dict[str, pg.PlotDataItem]] = {"col": {}, "row": {}}
        # per stage, a wide red line under the curve where its maximum is a near-tie (a
        # line, not a mark per point: thousands of marks cost tens of ms per redraw)
        self.ties: dict[str, dict[str, pg.PlotDataItem]] = {"col": {}, "row": {}}
        for axis, plot in self.plots.items():
            plot.setLabel("bottom", "time (s)")
            # no grid: its translucent lines cost more to paint than the curves
            plot.setMinimumSize(220, 110)
            plain_axes(plot)
            plot.getViewBox().invertY(axis == "row")  # rows grow downwards, as in the image
            plots.addWidget(plot, 1)
        # the key is a line of text under the plots: a legend inside a plot is cut off or
        # covers curves in a low dock
        self.legend = QLabel("")
        self.legend.setWordWrap(True)
        self.legend.setStyleSheet("color: #c8c8c8; background: #202124; padding: 2px 6px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addLayout(plots, 1)
        layout.addWidget(self.legend)
        self._set_titles()

        self.units.currentIndexChanged.connect(self._on_units)
        self.clear_button.clicked.connect(self.clear)
        self.export_button.clicked.connect(self.choose_export)
        runner.subscribe(WriteTrajectoryRequest, done=self._on_exported,
                         failed=self._on_export_failed, owner=self)

    # -- data -----------------------------------------------------------------------------------
    @property
    def unit(self) -> str:
        """``"input"`` (input pixels) or ``"cells"`` (each stage's own cells)."""
        return UNITS[self.units.currentText()]

    def set_unit(self, unit: str) -> None:
        """Show positions in ``"input"`` pixels or stage ``"cells"``."""
        self.units.setCurrentText(next(k for k, v in UNITS.items() if v == unit))

    @property
    def frames(self) -> list[int]:
        """The frame indices with points, in order."""
        return sorted(self._points)

    def points(self) -> list[TrackPoint]:
        """Every point, by frame and then stage order."""
        return [p for f in sorted(self._points) for p in self._points[f]]

    def trajectory(self) -> Trajectory:
        """The points as the engine's :class:`~engine.trajectory.Trajectory`, by frame."""
        trajectory = Trajectory()
        for frame in sorted(self._points):
            trajectory.append(self._points[frame])
        return trajectory

    def add(self, points: list[TrackPoint] | tuple[TrackPoint, ...]) -> None:
        """Add one frame's points (a frame shown again replaces its earlier points)."""
        if not points:
            return
        frame = points[0].frame
        if frame <= self._last_frame:
            self._rebuild = True
        else:
            self._append_columns(points)
        self._last_frame = max(self._last_frame, frame)
        self._points.pop(frame, None)  # the dict's order is the order frames were shown
        self._points[frame] = tuple(points)
        if len(self._points) > MAX_FRAMES + MAX_FRAMES // 10:
            # a camera runs for ever: keep the frames shown last (dropped in chunks, so
            # the curves are rebuilt once per chunk, not at every frame)
            for old in list(self._points)[:len(self._points) - MAX_FRAMES]:
                del self._points[old]
            self._dropped = True
            self._rebuild = True
        for p in points:
            if p.stage not in self._stages:
                self._stages.append(p.stage)
        self.export_button.setEnabled(True)
        self._schedule_redraw()

    def clear(self) -> None:
        """Forget every point."""
        self._points.clear()
        self._stages.clear()
        self._columns.clear()
        self._last_frame = -1
        self._dropped = False
        self._rebuild = False
        self.export_button.setEnabled(False)
        self.redraw()

    # -- drawing --------------------------------------------------------------------------------
    def _schedule_redraw(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def cancel_redraw(self) -> None:
        """Drop a redraw that is due (the window closes)."""
        self._redraw_timer.stop()

    def _on_units(self) -> None:
        self._set_titles()
        self.redraw()

    def _set_titles(self) -> None:
        what = "input px" if self.unit == "input" else "cells"
        for axis, name in (("col", "column"), ("row", "row")):
            self.plots[axis].setLabel("left", f"{name} ({what})")
            self.plots[axis].setTitle(f"Maximum's {name}", size="9pt")

    def _append_columns(self, points) -> None:
        for p in points:
            columns = self._columns.setdefault(p.stage, {name: [] for name in FIELDS})
            for name in FIELDS:
                value = getattr(p, name)
                columns[name].append(np.nan if value is None else value)

    def series(self, stage: str, axis: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(time_s, position, near_tie)`` of `stage`, one entry per frame in order: the
        points' maximum along `axis` (``"row"`` or ``"col"``) in the shown unit, NaN where
        the stage had no maximum."""
        if self._rebuild:
            self._rebuild = False
            self._columns.clear()
            for frame in sorted(self._points):
                self._append_columns(self._points[frame])
        columns = self._columns.get(stage, {name: [] for name in FIELDS})
        name = ("input_" + axis) if self.unit == "input" else axis
        return (np.array(columns["time_s"], float), np.array(columns[name], float),
                np.array(columns["near_tie"], bool))

    def redraw(self) -> None:
        """Draw the curves from the points (put off while the panel is hidden)."""
        self._redraw_timer.stop()
        if not self.isVisible():
            self._stale = True
            return
        self._stale = False
        count = len(self._points)
        text = f"{count} frame{'s' if count != 1 else ''}" if count else "no frames yet"
        if self._dropped:
            text += f" (the last {MAX_FRAMES} shown; older ones are dropped)"
        self.count_label.setText(text)
        # curves in pipeline order (of the newest frame; stages it lacks come after)
        newest = [p.stage for p in self._points[max(self._points)]] if self._points else []
        self._stages = newest + [s for s in self._stages if s not in newest]
        for axis in ("col", "row"):
            curves, ties = self.curves[axis], self.ties[axis]
            for name in list(curves):
                if name not in self._stages:
                    self.plots[axis].removeItem(curves.pop(name))
                    self.plots[axis].removeItem(ties.pop(name))
            for j, stage in enumerate(self._stages):
                t, v, tie = self.series(stage, axis)
                if stage not in curves:
                    curves[stage] = self._curve(axis, 0)
                    ties[stage] = self._curve(axis, -1)
                    ties[stage].setPen(pg.mkPen((*NEAR_TIE_COLOR, 200), width=5))
                curves[stage].setPen(pg.mkPen(stage_color(j), width=2 if j == 0 else 1.5))
                # a step holds a frame's value until the next frame
                step = "left" if len(t) > 1 else None
                curves[stage].setData(t, v, stepMode=step, connect="finite")
                ties[stage].setData(t, np.where(tie, v, np.nan), stepMode=step, connect="finite")
        self.legend.setText(self._key())

    def _curve(self, axis: str, z: int) -> pg.PlotDataItem:
        curve = self.plots[axis].plot([], [])
        curve.setZValue(z)
        curve.setClipToView(True)  # long recordings: draw only what is in view, thinned
        curve.setDownsampling(auto=True, method="peak")
        return curve

    def _key(self) -> str:
        """The curves' colours and the near-tie mark, as one line of rich text."""
        if not self._stages:
            return ""
        items = []
        for j, stage in enumerate(self._stages):
            r, g, b = stage_color(j)
            items.append(f"<span style='color:rgb({r},{g},{b})'>&#9632;</span>&nbsp;{stage}")
        r, g, b = NEAR_TIE_COLOR
        items.append(f"<span style='color:rgb({r},{g},{b})'>&#9644;</span>&nbsp;near-tie "
                     "(a rival peak within 1%)")
        return "&nbsp;&nbsp; ".join(items)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if self._stale:
            self.redraw()

    # -- export ---------------------------------------------------------------------------------
    def choose_export(self) -> None:
        """Ask where to write the CSV, then write it off the GUI thread."""
        path, _ = QFileDialog.getSaveFileName(self, "Export trajectory", "trajectory.csv",
                                              CSV_FILTER)
        if path:
            self.export_to(path)

    def export_to(self, path: str | Path) -> int:
        """Write the points to `path` on the ``live-csv`` lane; :attr:`exported` or a
        message box follows. Returns the request id (0 when there is nothing to write)."""
        points = self.points()
        if not points:
            self.message.emit("No trajectory to export yet: play a video first.")
            return 0
        self._export_id = self.runner.submit(
            WriteTrajectoryRequest(self.trajectory(), str(path), len(points)))
        self.message.emit(f"Writing {path}…")
        return self._export_id

    def _on_exported(self, event: JobDone[int]) -> None:
        path = event.request.path
        self.message.emit(f"Wrote {event.result} trajectory rows to {path}")
        self.exported.emit(path)

    def _on_export_failed(self, event: JobFailed) -> None:
        reason = f"{event.request.path}: {error_message(event.error)}"
        self.message.emit("Could not write the trajectory")
        QMessageBox.warning(self, "Cannot export the trajectory", reason)
