"""Recording what the panels show to an MP4, one video frame per drawn result.

Grabbing the rows is GUI work (:meth:`Recorder.capture`, a widget render); encoding runs
on the ``live-record`` lane with the figure sets' encoder
(:class:`figures.video.Mp4Writer`: H.264 through PyAV, else OpenCV's mp4v). Grabs wait
in a short backlog while a batch encodes (:class:`~gui.live.batches.Batcher`), so no grab
is replaced by a newer one; a backlog that grows past :data:`MAX_BACKLOG` drops its oldest
grabs (and says how many at Stop). Stop writes the file.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from figures.drawing import qimage_to_bgr
from figures.video import Mp4Writer
from gui.live.batches import Batcher
from gui.worker import JobDone, JobFailed, JobRunner, Request, error_message

RECORD = "live-record"
MAX_BACKLOG = 90


def widget_pixels(widget: QWidget) -> np.ndarray:
    """Render `widget` and return its pixels as an ``(h, w, 3)`` uint8 BGR array of even
    size (the encoder's yuv420p halves the colour planes); GUI thread."""
    bgr = qimage_to_bgr(widget.grab().toImage())
    h, w = bgr.shape[:2]
    return bgr[:h - h % 2, :w - w % 2]


class VideoFile:
    """An :class:`~figures.video.Mp4Writer` opened at the first frame; used only by the
    record lane, and closed by the GUI thread only when nothing encodes."""

    def __init__(self, path: str, fps: int) -> None:
        self.path = path
        self.fps = fps
        self.size: tuple[int, int] | None = None
        self.frames = 0
        self._writer: Mp4Writer | None = None
        self._lock = threading.Lock()

    def write(self, bgr: np.ndarray) -> None:
        """Append one BGR frame (resized to the first frame's size if the window changed)."""
        with self._lock:
            if self._writer is None:
                h, w = bgr.shape[:2]
                self.size = (w, h)
                self._writer = Mp4Writer(self.path, self.size, self.fps)
            if (bgr.shape[1], bgr.shape[0]) != self.size:
                bgr = cv2.resize(bgr, self.size, interpolation=cv2.INTER_AREA)
            self._writer.write(bgr)
            self.frames += 1

    def close(self) -> None:
        """Flush and close the file (safe to call twice)."""
        with self._lock:
            if self._writer is not None:
                writer, self._writer = self._writer, None
                writer.close()


@dataclass(frozen=True, slots=True, eq=False)
class EncodeRequest(Request[int]):
    """Encode `frames` into `video`; `finish` closes the file afterwards."""

    lane: ClassVar[str] = RECORD
    video: VideoFile
    frames: tuple[np.ndarray, ...]
    finish: bool = False

    def run(self, context) -> int:
        """Encode (and close when finishing).

        Returns
        -------
        int
            The frames written to the file so far.

        Raises
        ------
        OSError, ValueError
            If the file cannot be opened or written (the writer is closed then).
        """
        try:
            for bgr in self.frames:
                self.video.write(bgr)
        except BaseException:
            self.video.close()
            raise
        if self.finish:
            self.video.close()
        return self.video.frames


class Recorder(QObject):
    """Start, capture, stop; the results come as signals.

    Signals
    -------
    finished(str, int, int)
        The file was written: its path, the frames in it, the grabs dropped.
    failed(str, str)
        Recording stopped on an error: the path and the reason.
    """

    finished = Signal(str, int, int)
    failed = Signal(str, str)

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.video: VideoFile | None = None
        self._stopping = False
        self.batches = Batcher(runner, EncodeRequest, self._request, MAX_BACKLOG, self)
        runner.subscribe(EncodeRequest, done=self._on_done, failed=self._on_failed, owner=self)

    @property
    def recording(self) -> bool:
        """True from :meth:`start` until :meth:`stop` (or an error)."""
        return self.video is not None and not self._stopping

    def start(self, path: str, fps: float) -> None:
        """Record into `path` at `fps` frames per second (rounded, at least 1)."""
        self.video = VideoFile(str(path), max(1, round(fps)))
        self._stopping = False
        self.batches.reset()

    def capture(self, widget: QWidget) -> None:
        """Grab `widget` as the next frame (GUI thread)."""
        if self.recording:
            self.batches.add(widget_pixels(widget))

    def stop(self) -> None:
        """Write what is grabbed and close the file; :attr:`finished` follows."""
        if self.video is None or self._stopping:
            return
        self._stopping = True
        self.batches.finish()

    def abort(self) -> None:
        """Close the file now, without the grabs still waiting (the window closes)."""
        self.batches.reset()
        if self.video is not None:
            self.video.close()
        self.video = None

    def _request(self, frames: tuple[np.ndarray, ...], final: bool) -> EncodeRequest:
        return EncodeRequest(self.video, frames, final)

    def _on_done(self, event: JobDone[int]) -> None:
        if event.request.finish and event.request.video is self.video:
            video, self.video = self.video, None
            self.finished.emit(video.path, event.result, self.batches.dropped)

    def _on_failed(self, event: JobFailed) -> None:
        video = event.request.video
        if video is self.video:
            self.video = None
            self.batches.reset()
        self.failed.emit(video.path, error_message(event.error))
