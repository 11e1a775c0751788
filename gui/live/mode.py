"""Live input attached to the main window: a video file or a camera as input A.

:class:`LiveMode` adds File > Open video…, Open image sequence… and Camera…, the Video
menu (play/pause Space, step `,` and `.`, loop, grab the frame as B with G, record), the
transport bar under the panels, the Trajectories dock and the input and processed frame
rates in the status bar.

The frame pump, in order:

1. Reading. Every frame is read on the ``live-read`` lane (:mod:`gui.live.source`). A
   file plays by a clock: a timer asks for the frame the clock has reached (reading on
   past frames it skipped, or seeking); a camera is read again as soon as a frame arrives.
2. Latest wins. An arriving frame waits in a slot of one; a newer frame replaces it (the
   older is dropped, never queued).
3. Delivery. When the pipeline has settled the request that followed the last delivery,
   the waiting frame becomes the canvas image (through :class:`CanvasModel`'s public
   :meth:`~gui.canvas.model.CanvasModel.set_image`) and the window's own coalescing
   :meth:`schedule_compute` computes it; so the window computes frames at the rate it
   can, and the GUI thread handles only the frames it shows.
4. Results. The first result drawn for a delivered frame counts as processed; its
   :class:`engine.PipelineResult` goes to :func:`engine.trajectory.track_points` on the
   ``live-track`` lane (in batches, nothing dropped) and the points to the Trajectories
   dock; while recording, the rows are grabbed for the MP4.

A paused frame is an ordinary canvas: edits, comparison and export work on it, and undo
reaches back to before the video (the first frame over an edited or other image is one
undo step; frames replacing frames are not).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import cv2
from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QToolBar,
)

from engine import ImageSource, InputImage, PipelineResult
from engine.trajectory import TrackPoint, track_points
from engine.video_input import VideoError, open_camera, probe_cameras
from gui.live.batches import Batcher
from gui.live.recorder import Recorder
from gui.live.source import (
    VIDEO_FILTER,
    FrameFeed,
    FrameRead,
    OpenedVideo,
    OpenVideoRequest,
    ReadFrameRequest,
)
from gui.live.trajectory_dock import TrajectoryPanel
from gui.live.transport import TransportBar
from gui.panels.views import PipelineRequest
from gui.worker import JobContext, JobDone, JobFailed, JobSettled, Request, error_message

TRACK = "live-track"
#: How many cameras File > Camera… tries (OpenCV cannot list them).
CAMERA_PROBE = 4
#: The playback timer never ticks faster than this (ms).
MIN_TICK_MS = 4
#: Frame rates are measured over the frames of the last this many seconds.
RATE_WINDOW_S = 2.0
#: The status bar's rates are rewritten at most this often (s).
RATE_TEXT_EVERY_S = 0.25
RECORD_FILTER = "MP4 video (*.mp4)"
#: The Trajectories dock's height when it first opens (pixels).
TRAJECTORY_HEIGHT = 250


@dataclass(frozen=True, slots=True, eq=False)
class TrackRequest(Request[tuple[tuple[TrackPoint, ...], ...]]):
    """:func:`engine.trajectory.track_points` of drawn results: ``(result, frame index,
    time in seconds)`` each."""

    lane: ClassVar[str] = TRACK
    items: tuple[tuple[PipelineResult, int, float], ...]

    def run(self, context: JobContext) -> tuple[tuple[TrackPoint, ...], ...]:
        """Measure every item.

        Returns
        -------
        tuple of tuple of TrackPoint
            One frame's points per item, in order.
        """
        return tuple(tuple(track_points(r, f, t)) for r, f, t in self.items)


class RateMeter:
    """Events per second over the last :data:`RATE_WINDOW_S` seconds."""

    def __init__(self) -> None:
        self._times: deque[float] = deque()
        self.total = 0

    def tick(self, count: int = 1) -> None:
        """Count `count` events now."""
        now = time.monotonic()
        for _ in range(count):
            self._times.append(now)
        self.total += count
        while self._times and now - self._times[0] > RATE_WINDOW_S:
            self._times.popleft()

    def rate(self) -> float:
        """Events per second, or 0 with fewer than two events in the window."""
        if len(self._times) < 2:
            return 0.0
        span = self._times[-1] - self._times[0]
        return (len(self._times) - 1) / span if span > 0 else 0.0

    def reset(self) -> None:
        """Forget every event."""
        self._times.clear()
        self.total = 0


class LiveMode(QObject):
    """Everything live input adds to `window` (a :class:`~gui.window.main_window.MainWindow`).

    Attributes
    ----------
    capture_factory : callable
        Makes a camera capture, ``capture_factory(index, api)`` (``cv2.VideoCapture``);
        tests put a stand-in here.
    feed : FrameFeed or None
        The open video or camera.
    shown : FrameRead or None
        The frame in the canvas (until it is edited, it is the frame's pixels).
    trajectory : TrajectoryPanel
    transport : TransportBar
    recorder : Recorder

    Signals
    -------
    opened(str)
        A video or camera opened (its source).
    frame_shown(int)
        A frame became the canvas image.
    frame_processed(int)
        The pipeline's result of that frame was drawn.
    problem(str)
        A message box or status message reported a problem (the text).
    """

    opened = Signal(str)
    frame_shown = Signal(int)
    frame_processed = Signal(int)
    problem = Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.runner = window.runner
        self.capture_factory = cv2.VideoCapture
        self.feed: FrameFeed | None = None
        self.shown: FrameRead | None = None
        self.playing = False
        self.speed = 1.0
        self._held: FrameRead | None = None
        self._read_id = 0
        self._open_id = 0
        self._cursor = 0  # the frame most recently asked for or read
        self._last_index = -1  # the index of the last frame read
        self._base = 0  # the newest pipeline request id when the last frame was delivered
        self._busy = False  # the pipeline has not yet settled a request after the delivery
        self._fresh = False  # the delivered frame has no drawn result yet
        self._touched = False  # the canvas changed since the last delivery
        self._delivering = False
        self._truncation_told = False
        self._clock = QElapsedTimer()
        self._clock_origin = 0
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self.input_rate = RateMeter()
        self.processed_rate = RateMeter()
        self.delivered = 0
        self._rates_written = 0.0

        self._build_actions()
        self.transport = TransportBar({k: self.actions[k] for k in
                                       ("play", "back", "forward", "loop", "grab", "record")})
        self.toolbar = QToolBar("Transport")
        self.toolbar.setObjectName("toolbar-transport")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(self.transport)
        window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, self.toolbar)
        self.toolbar.setVisible(False)
        self.trajectory = TrajectoryPanel(self.runner)
        self.trajectory_dock = window.add_dock(self.trajectory, "Trajectories",
                                               Qt.DockWidgetArea.BottomDockWidgetArea)
        self.trajectory_dock.setVisible(False)
        self.rate_label = QLabel("")
        self.rate_label.setMinimumWidth(self.rate_label.fontMetrics().horizontalAdvance(
            "input 00.0 fps · processed 00.0 fps · dropped 0000"))  # no jitter as it counts
        window.statusBar().addPermanentWidget(self.rate_label)
        self.rate_label.setVisible(False)
        self.recorder = Recorder(self.runner, self)
        self.tracker = Batcher(self.runner, TrackRequest,
                               lambda items, _final: TrackRequest(items), parent=self)

        self.transport.scrubbed.connect(self.seek)
        self.transport.speed_changed.connect(self.set_speed)
        self.trajectory.message.connect(self._status)
        self.recorder.finished.connect(self._on_recorded)
        self.recorder.failed.connect(self._on_record_failed)
        window.model.changed.connect(self._on_model_changed)
        self.runner.subscribe(OpenVideoRequest, done=self._on_opened,
                              failed=self._on_open_failed, settled=self._on_open_settled,
                              owner=self)
        self.runner.subscribe(ReadFrameRequest, done=self._on_read, failed=self._on_read_failed,
                              settled=self._on_read_settled, owner=self)
        self.runner.subscribe(PipelineRequest, done=self._on_pipeline_done,
                              settled=self._on_pipeline_settled, owner=self)
        self.runner.subscribe(TrackRequest, done=self._on_tracked, owner=self)
        window.installEventFilter(self)
        self._update_actions()

    # -- construction ---------------------------------------------------------------------------
    def _build_actions(self) -> None:
        w = self.window
        menu = QMenu("&Video", w)
        w.menuBar().insertMenu(w.menus["view"].menuAction(), menu)
        w.menus["video"] = menu
        self.actions = {
            "open": w.add_action("file", "open-video", "Open &video…", self.choose_video,
                                 "Ctrl+Shift+V", "Open a video file as input A and play it"),
            "sequence": w.add_action("file", "open-sequence", "Open image se&quence…",
                                     self.choose_sequence, None,
                                     "Open a folder of numbered images as a video"),
            "camera": w.add_action("file", "camera", "&Camera…", self.choose_camera, None,
                                   "Use a camera as input A"),
            "play": w.add_action("video", "live-play", "&Play", self.toggle_play, "Space",
                                 "Play or pause the video or camera"),
            "back": w.add_action("video", "live-back", "Step &back", self.step_back, ",",
                                 "Show the previous frame (pauses)"),
            "forward": w.add_action("video", "live-forward", "Step &forward", self.step_forward,
                                    ".", "Show the next frame (pauses)"),
            "loop": w.add_action("video", "live-loop", "&Loop", self._set_loop, None,
                                 "Start again from the first frame at the end", checkable=True),
            "grab": w.add_action("video", "live-grab-b", "&Grab frame as B", self.grab_as_b,
                                 "G", "Compare the live input with this frame, kept fixed as B"),
            "record": w.add_action("video", "live-record", "&Record panels…", self.toggle_record,
                                   None, "Record what the panels show (all rows) to an MP4"),
            "close": w.add_action("video", "live-close", "&Close video", self.close_source,
                                  None, "Stop reading the video or camera; the frame stays"),
        }
        for key in ("open", "sequence", "camera"):
            w.menus["file"].removeAction(self.actions[key])
            w.add_file_entry(self.actions[key])
        self.loop = False

    def _update_actions(self) -> None:
        has = self.feed is not None
        seekable = has and not self.feed.is_camera
        self.actions["play"].setEnabled(has)
        self.actions["play"].setText("&Pause" if self.playing else "&Play")
        self.actions["back"].setEnabled(seekable)
        self.actions["forward"].setEnabled(has)
        self.actions["loop"].setEnabled(seekable)
        self.actions["grab"].setEnabled(has)
        self.actions["close"].setEnabled(has)
        self.actions["record"].setText("Stop &recording" if self.recorder.recording
                                       else "&Record panels…")

    # -- opening --------------------------------------------------------------------------------
    def choose_video(self) -> None:
        """Ask for a video file and open it."""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open video", self._start_folder(),
                                              VIDEO_FILTER)
        if path:
            self.open_video(path)

    def choose_sequence(self) -> None:
        """Ask for a folder of numbered images and open it as a video."""
        path = QFileDialog.getExistingDirectory(self.window, "Open image sequence",
                                                self._start_folder())
        if path:
            self.open_video(path)

    def _start_folder(self) -> str:
        recent = self.window.recent.paths()
        return str(Path(recent[0]).parent) if recent else ""

    def open_video(self, path: str | Path) -> int:
        """Open the video file or image folder `path` off the GUI thread and show its first
        frame (paused); a file that is not a video gives a message box and the canvas
        stays. Returns the request id."""
        self.pause()
        self.window.statusBar().showMessage(f"Opening {path}…")
        self._open_id = self.runner.submit(OpenVideoRequest(str(path)))
        return self._open_id

    def _on_opened(self, event: JobDone[OpenedVideo]) -> None:
        opened = event.result
        self._use_feed(opened.feed)
        self.window.recent.add(opened.path)
        info = opened.feed.info
        count = f"{info.frame_count} frames, " if info.frame_count else ""
        self._status(f"Opened {opened.path}: {info.shape[1]}x{info.shape[0]}, {count}"
                     f"{info.fps:g} fps · Space plays", 10_000)
        self.input_rate.tick(opened.first.decoded)
        self._last_index = 0
        self._take(opened.first)
        self.opened.emit(info.source)

    def _on_open_failed(self, event: JobFailed) -> None:
        path, reason = event.request.path, error_message(event.error)
        self.window.recent.remove(path)
        self.window.open_failed.emit(path, reason)  # as for an image that cannot be opened
        self._report("Cannot open the video", reason, f"Could not open {path}")

    def _on_open_settled(self, event: JobSettled) -> None:
        if event.request_id == self._open_id:
            self._open_id = 0

    def choose_camera(self) -> None:
        """Find the cameras (on the GUI thread: macOS asks for permission there) and open
        one; with several, ask which."""
        self.window.statusBar().showMessage("Looking for cameras…")
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # each try can take a moment
        try:
            devices = probe_cameras(CAMERA_PROBE, capture_factory=self.capture_factory)
        finally:
            QApplication.restoreOverrideCursor()
        if not devices:
            self._report("No camera", f"No camera answered (tried cameras 0 to "
                         f"{CAMERA_PROBE - 1}); plug one in, or close the program using it.",
                         "No camera found")
            return
        device = devices[0]
        if len(devices) > 1:
            names = [f"camera {d}" for d in devices]
            name, ok = QInputDialog.getItem(self.window, "Camera", "Use", names, 0, False)
            if not ok:
                return
            device = devices[names.index(name)]
        self.open_camera(device)

    def open_camera(self, device: int) -> bool:
        """Open camera `device` here, on the GUI thread, and start reading it on the
        worker; a missing or busy camera gives a message box. Returns True if it opened."""
        self.pause()
        try:
            reader = open_camera(device, capture_factory=self.capture_factory)
        except VideoError as exc:
            self._report("Cannot open the camera", str(exc), f"Could not open camera {device}")
            return False
        self._use_feed(FrameFeed(reader))
        self._status(f"Reading {reader.info.source} · Space pauses", 8000)
        self.opened.emit(reader.info.source)
        self.play()
        return True

    def _use_feed(self, feed: FrameFeed) -> None:
        """Make `feed` the source (closing the previous one) and show the transport."""
        old, self.feed = self.feed, feed
        if old is not None and old is not feed:
            old.close()
        self._held = None
        self._cursor, self._last_index = 0, -1
        self._truncation_told = False
        self.input_rate.reset()
        self.processed_rate.reset()
        self.delivered = 0
        self.tracker.reset()
        self.trajectory.clear()
        info = feed.info
        self.transport.set_source(Path(info.source).name if info.kind != "camera"
                                  else info.source, info.frame_count or 0, not feed.is_camera)
        self.toolbar.setVisible(True)
        if not self.trajectory_dock.isVisible():
            self.trajectory_dock.setVisible(True)
            # the curves need some height; the panels keep the rest
            QTimer.singleShot(0, self, lambda: self.window.resizeDocks(
                [self.trajectory_dock], [TRAJECTORY_HEIGHT], Qt.Orientation.Vertical))
        self.rate_label.setVisible(True)
        self._update_actions()

    def close_source(self) -> None:
        """Stop and close the video or camera; the last frame stays in the canvas."""
        self.pause()
        if self.recorder.recording:
            self.recorder.stop()
        feed, self.feed = self.feed, None
        self._held = None
        if feed is not None:
            feed.close()
        self.toolbar.setVisible(False)
        self.rate_label.setVisible(False)
        self._update_actions()

    # -- transport ------------------------------------------------------------------------------
    @property
    def info(self):
        """The open source's :class:`~engine.video_input.VideoInfo`, or None."""
        return self.feed.info if self.feed is not None else None

    def toggle_play(self) -> None:
        """Play if paused, pause if playing."""
        if self.playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        """Play the file from the current frame (from the start at its end), or read the
        camera continuously."""
        if self.feed is None or self.playing:
            return
        self.playing = True
        if self.feed.is_camera:
            self._read(None)
        else:
            count = self.feed.info.frame_count
            if count and self._last_index >= count - 1:
                self._cursor = self._last_index = -1
                self._read(0)
            self._restart_clock(max(self._last_index, 0))
        self._update_actions()

    def pause(self) -> None:
        """Stop playing; the frame shown stays (and is an ordinary canvas)."""
        self.playing = False
        self._timer.stop()
        self._update_actions()
        self._show_rates()

    def step_forward(self) -> None:
        """Pause and show the next frame (a camera's next frame)."""
        if self.feed is None:
            return
        self.pause()
        if self.feed.is_camera:
            self._read(None)
            return
        count = self.feed.info.frame_count
        if count and self._cursor >= count - 1:
            self._status("This is the last frame", 3000)
            return
        self._read(self._cursor + 1)

    def step_back(self) -> None:
        """Pause and show the previous frame (files only)."""
        if self.feed is None or self.feed.is_camera:
            return
        self.pause()
        if self._cursor <= 0:
            self._status("This is the first frame", 3000)
            return
        self._read(self._cursor - 1)

    def seek(self, index: int) -> None:
        """Show frame `index` (the scrubber); playback goes on from there."""
        if self.feed is None or self.feed.is_camera:
            return
        self._read(int(index))
        self._last_index = int(index)  # the clock goes on from here, also backwards
        if self.playing:
            self._restart_clock(int(index))

    def set_speed(self, factor: float) -> None:
        """Play at `factor` times the source's frame rate."""
        self.speed = float(factor)
        if self.playing and self.feed is not None and not self.feed.is_camera:
            self._restart_clock(max(self._last_index, 0))

    def _set_loop(self, on: bool) -> None:
        self.loop = bool(on)

    def _restart_clock(self, origin: int) -> None:
        self._clock_origin = origin
        self._clock.start()
        rate = self.feed.info.fps * self.speed
        self._timer.start(max(MIN_TICK_MS, int(1000 / rate / 2)))

    def _clock_index(self) -> int:
        rate = self.feed.info.fps * self.speed
        return self._clock_origin + int(self._clock.elapsed() / 1000 * rate)

    def _tick(self) -> None:
        if self.feed is None or not self.playing or self._read_id:
            return
        want = self._clock_index()
        if want <= self._last_index:
            return
        count = self.feed.info.frame_count
        if count and want >= count:
            if self._last_index >= count - 1:
                self._at_end()
                return
            want = count - 1
        self._read(want)  # frames the clock passed meanwhile are skipped (read on or sought)

    def _read(self, target: int | None) -> None:
        if self._open_id:  # a read would replace the open waiting on the same lane
            return
        if target is not None:
            self._cursor = target
        self._read_id = self.runner.submit(ReadFrameRequest(self.feed, target))

    # -- frames in ------------------------------------------------------------------------------
    def _on_read(self, event: JobDone[FrameRead]) -> None:
        read = event.result
        if event.request.feed is not self.feed:
            return
        if read.frame is None:
            self._at_end()
            return
        self.input_rate.tick(read.decoded)
        self._last_index = read.frame.index
        self._cursor = read.frame.index
        self._take(read)

    def _at_end(self) -> None:
        if self.loop and self.playing:
            self._cursor = self._last_index = -1
            self._read(0)
            self._restart_clock(0)
            return
        self.pause()
        count = self.feed.info.frame_count if self.feed is not None else None
        if count is not None:
            self._last_index = count - 1
        self._status("End of the video · Space plays it again", 5000)

    def _on_read_failed(self, event: JobFailed) -> None:
        if event.request.feed is not self.feed:
            return
        self.pause()
        reason = error_message(event.error)
        if self.feed.is_camera:
            self._report("The camera stopped", reason, "The camera stopped; the last frame "
                         "stays")
        elif not self._truncation_told:
            self._truncation_told = True
            self._report("The video cannot be read further", reason,
                         "The video breaks off; the last good frame stays")
        else:
            self._status(f"The video breaks off: {reason}", 8000)

    def _on_read_settled(self, event: JobSettled) -> None:
        if event.request_id != self._read_id:
            return
        self._read_id = 0
        if self.playing and self.feed is not None and event.request.feed is self.feed \
                and self.feed.is_camera and not event.cancelled:
            self._read(None)  # a camera is read again as soon as a frame is in

    def _take(self, read: FrameRead) -> None:
        """Keep `read` as the waiting frame (dropping an older one) and deliver it if the
        pipeline is free."""
        self._held = read
        self._deliver()
        self._show_rates()

    def _deliver(self) -> None:
        if self._held is None or self._busy or self.window.model.editing:
            return
        read, self._held = self._held, None
        model = self.window.model
        # A frame over another frame is no undo step; over anything else (an edit, a
        # photo, the demo) it is one, so undo gets back there.
        undoable = self._touched or self.shown is None or model.image is not self.shown.pixels
        self._delivering = True
        try:
            model.set_image(read.pixels, source=ImageSource(), undoable=undoable, copy=False)
        finally:
            self._delivering = False
        self.shown = read
        self._touched = False
        self._fresh = True
        self.delivered += 1
        self._base = self.runner.latest(PipelineRequest)
        self._busy = True
        self._show_position(read)
        self.frame_shown.emit(read.frame.index)

    def _on_model_changed(self, _rect) -> None:
        if not self._delivering:
            self._touched = True

    def _show_position(self, read: FrameRead) -> None:
        info = self.feed.info if self.feed is not None else None
        frame = read.frame
        count = (info.frame_count or 0) if info is not None else 0
        duration = count / info.fps if info is not None and count else None
        self.transport.show_position(frame.index, frame.time_s, count, duration)
        source = info.source if info is not None else "video"
        name = Path(source).name if info is not None and info.kind != "camera" else source
        self.window.setWindowTitle(f"ShiftLab — {name} · frame {frame.index + 1}")

    # -- results --------------------------------------------------------------------------------
    def _on_pipeline_done(self, event: JobDone) -> None:
        if self.recorder.recording:  # every row is drawn by now (the window draws first)
            self.recorder.capture(self.window.centralWidget())
        # Only a request made after the last delivery computed that frame; while the canvas
        # still holds the frame untouched (a changed pipeline too), its result is tracked.
        if self.shown is None or event.request_id <= self._base or self._touched:
            return
        view, _ms = event.result
        frame = self.shown.frame
        self.tracker.add((view.a.result, frame.index, frame.time_s))
        if self._fresh:
            self._fresh = False
            self.processed_rate.tick()
            self.frame_processed.emit(frame.index)

    def _on_pipeline_settled(self, event: JobSettled) -> None:
        if not self._busy or event.request_id <= self._base \
                or event.request_id != self.runner.latest(PipelineRequest):
            return
        self._busy = False
        # after the event loop has painted this result (and run its timers), not in the
        # same pass: the GUI thread's work comes in short pieces, not one long one
        QTimer.singleShot(0, self, self._deliver)

    def _on_tracked(self, event: JobDone) -> None:
        for points in event.result:
            self.trajectory.add(points)

    def _show_rates(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._rates_written < RATE_TEXT_EVERY_S and self.playing:
            return
        self._rates_written = now
        dropped = max(0, self.input_rate.total - self.delivered - (self._held is not None))
        if self.playing:
            text = (f"input {self.input_rate.rate():.1f} fps · processed "
                    f"{self.processed_rate.rate():.1f} fps · dropped {dropped}")
        else:
            text = f"paused · dropped {dropped}" if self.feed is not None else ""
        self.rate_label.setText(text)
        self.rate_label.setToolTip("Frames read from the source per second, frames computed "
                                   "and drawn per second, and frames skipped because the "
                                   "pipeline was still busy (they are dropped, never queued)")

    # -- comparison and recording ---------------------------------------------------------------
    def grab_as_b(self) -> None:
        """Make the frame shown B, a fixed reference the live input is compared with."""
        model = self.window.model
        index = self.shown.frame.index if self.shown is not None else None
        image = InputImage(model.image.copy(), ImageSource(), edited=True)
        compare = self.window.compare
        compare.controls.set_image_b(image)
        compare.set_active(True)
        what = f"Frame {index + 1}" if index is not None else "The canvas"
        self._status(f"{what} is now B, a fixed reference; play to compare the live input "
                     "with it", 8000)

    def toggle_record(self) -> None:
        """Start recording (asks for the file) or stop and write it."""
        if self.recorder.recording:
            self.stop_recording()
            return
        path, _ = QFileDialog.getSaveFileName(self.window, "Record panels", "recording.mp4",
                                              RECORD_FILTER)
        if path:
            if not path.lower().endswith(".mp4"):
                path += ".mp4"
            self.start_recording(path)

    def start_recording(self, path: str | Path) -> None:
        """Record every result drawn from now on into the MP4 `path` (at the source's frame
        rate, one video frame per drawn result)."""
        fps = self.feed.info.fps if self.feed is not None else 30.0
        self.recorder.start(str(path), fps)
        self._update_actions()
        self._status(f"Recording the panels to {path} · Video > Stop recording writes it",
                     8000)

    def stop_recording(self) -> None:
        """Write the recording (on the worker); a message says where."""
        self.recorder.stop()
        self._update_actions()

    def _on_recorded(self, path: str, frames: int, dropped: int) -> None:
        self._update_actions()
        if frames == 0:
            self._status("Nothing was drawn while recording, so no file was written", 8000)
            return
        extra = f" ({dropped} grabs dropped: the encoder fell behind)" if dropped else ""
        self._status(f"Recorded {frames} frames to {path}{extra}", 10_000)

    def _on_record_failed(self, path: str, reason: str) -> None:
        self._update_actions()
        self._report("Cannot record", f"{path}: {reason}", "Recording stopped")

    # -- messages and closing -------------------------------------------------------------------
    def _status(self, text: str, ms: int = 5000) -> None:
        self.window.statusBar().showMessage(text, ms)

    def _report(self, title: str, reason: str, status: str) -> None:
        self._status(status, 10_000)
        self.problem.emit(reason)
        QMessageBox.warning(self.window, title, reason)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if watched is self.window and event.type() == QEvent.Type.Close:
            self.shutdown()
        return super().eventFilter(watched, event)

    def shutdown(self) -> None:
        """Stop playing, close the recording and the source (the window closes)."""
        self.pause()
        self.trajectory.cancel_redraw()
        self.recorder.abort()
        if self.feed is not None:
            self.feed.close()

