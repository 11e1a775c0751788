"""A video file or a camera as the window's input: the reader and the jobs that read it.

A :class:`FrameFeed` wraps one :class:`engine.video_input.VideoReader` behind a lock, so
the read lane's thread reads frames while the GUI thread may close it at any time (a
camera is opened on the GUI thread, as macOS requires, and only read on the worker).
Every read is a :class:`ReadFrameRequest` on the ``live-read`` lane: a newer request
replaces a pending one (dragging the scrubber reads only where it stops), and the feed
knows which frame comes next, so a request for a frame a few ahead reads on to it and a
request for any other frame seeks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from engine.video_input import Frame, VideoError, VideoInfo, VideoReader, open_video
from gui.worker import JobContext, Request

READ = "live-read"
#: A frame at most this many ahead of the next one is reached by reading on (decoding the
#: frames between); any other is reached by seeking.
READ_ON_LIMIT = 8
#: File > Open video… offers these (OpenCV's FFmpeg reads them; GIF through its own
#: decoder); a folder of numbered images opens through File > Open image sequence….
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".gif", ".m4v", ".mpg", ".mpeg",
                  ".wmv")
VIDEO_FILTER = ("Videos (" + " ".join(f"*{s}" for s in VIDEO_SUFFIXES) + ");;All files (*)")


def is_video_path(path: str | Path) -> bool:
    """True if `path` names a video file by its suffix, or is a folder (of numbered
    images); what a drop on the window opens as a video rather than as an image."""
    p = Path(path)
    return p.is_dir() or p.suffix.lower() in VIDEO_SUFFIXES


class FrameFeed:
    """A reader shared by the GUI thread (open, close) and the read lane (read, seek).

    Reads are one at a time. :meth:`close` never waits for a read: a camera that was
    unplugged can block a read for seconds, and closing the window must not hang on it.
    While a read is in progress, the reader is closed as soon as that read returns.

    Parameters
    ----------
    reader : VideoReader
        Owned from now on: :meth:`close` closes it.
    """

    def __init__(self, reader: VideoReader) -> None:
        self._reader = reader
        self._reading = threading.Lock()  # one read at a time
        self._state = threading.Lock()  # guards the flags below, held only briefly
        self._busy = False
        self._closing = False
        self._closed = False
        self._next = 0  # the index the next read() returns, as far as the feed knows
        self.info: VideoInfo = reader.info

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called (the reader itself may close a moment later,
        when a read in progress returns)."""
        return self._closing

    @property
    def is_camera(self) -> bool:
        """True for a camera (no frame count, no seeking)."""
        return self.info.kind == "camera"

    def read(self, target: int | None = None) -> tuple[Frame | None, int]:
        """Read frame `target` (None: the next one); worker thread.

        Returns
        -------
        (Frame or None, int)
            The frame (None at the end of the video) and how many frames were decoded
            to reach it.

        Raises
        ------
        VideoError
            If the feed was closed, or the reader fails (a damaged file, a camera that
            stopped); the message names the source.
        """
        with self._reading:
            with self._state:
                if self._closing:
                    raise VideoError(f"{self.info.source}: the video was closed; open it "
                                     "again.")
                self._busy = True
            try:
                return self._read(target)
            finally:
                with self._state:
                    self._busy = False
                    if self._closing:
                        self._close_reader()

    def _read(self, target: int | None) -> tuple[Frame | None, int]:
        read = 0
        if target is not None and target != self._next:
            ahead = target - self._next
            if 0 < ahead <= READ_ON_LIMIT and not self.is_camera:
                for _ in range(ahead):  # decoding on is cheaper than a seek here
                    if self._reader.read() is None:
                        self._next = target
                        return None, read
                    read += 1
            elif not self.is_camera:
                self._reader.seek(target)
            self._next = target
        frame = self._reader.read()
        if frame is None:
            return None, read
        self._next = frame.index + 1
        return frame, read + 1

    def close(self) -> None:
        """Close the reader now, or when the read in progress returns; safe to call twice."""
        with self._state:
            self._closing = True
            if not self._busy:
                self._close_reader()

    def _close_reader(self) -> None:
        """Release the file or camera once; the state lock is held."""
        if not self._closed:
            self._closed = True
            self._reader.close()


@dataclass(frozen=True)
class FrameRead:
    """What a read job hands over: the frame (None past the end), how many frames were
    decoded for it, and the frame's pixels as a float32 array the canvas may own."""

    frame: Frame | None
    decoded: int
    target: int | None
    pixels: np.ndarray | None


def own_pixels(frame: Frame) -> np.ndarray:
    """The frame's grey pixels as a writable, C-contiguous float32 array of its own (the
    canvas edits a paused frame in place)."""
    image = frame.image
    if image.dtype == np.float32 and image.flags.c_contiguous and image.flags.owndata:
        # the reader made these pixels for this frame alone and only marked them read-only
        # (no view of them is kept): hand them over without a second full-frame copy
        image.setflags(write=True)
        return image
    return np.array(image, dtype=np.float32, order="C", copy=True)


@dataclass(frozen=True, slots=True, eq=False)
class ReadFrameRequest(Request[FrameRead]):
    """Read frame `target` of `feed` (None: the next frame; a camera's next frame)."""

    lane: ClassVar[str] = READ
    feed: FrameFeed
    target: int | None = None

    def run(self, context: JobContext) -> FrameRead:
        """Read the frame.

        Returns
        -------
        FrameRead

        Raises
        ------
        engine.video_input.VideoError
            If the source fails; the message names it.
        """
        frame, decoded = self.feed.read(self.target)
        return FrameRead(frame, decoded, self.target,
                         None if frame is None else own_pixels(frame))


@dataclass(frozen=True)
class OpenedVideo:
    """A video opened off the GUI thread, with its first frame (None for an empty one)."""

    path: str
    feed: FrameFeed
    first: FrameRead


@dataclass(frozen=True, slots=True, eq=False)
class OpenVideoRequest(Request[OpenedVideo]):
    """Open the video file (or folder of numbered images) `path` and read its first frame;
    on the read lane, so it replaces any read still pending for the previous video."""

    lane: ClassVar[str] = READ
    path: str

    def run(self, context: JobContext) -> OpenedVideo:
        """Open and read frame 0.

        Returns
        -------
        OpenedVideo

        Raises
        ------
        engine.video_input.VideoError
            If the file is not a video OpenCV reads, or has no frame; the message names
            the file.
        """
        feed = FrameFeed(open_video(self.path))
        try:
            frame, decoded = feed.read()
            if frame is None:
                raise VideoError(f"{self.path}: the video has no frame that can be read; "
                                 "it may be empty or damaged.")
        except BaseException:
            feed.close()
            raise
        return OpenedVideo(self.path, feed, FrameRead(frame, decoded, 0, own_pixels(frame)))
