"""Moving input: frames of a video file, a folder of numbered images, or a camera, as the
same grey float32 images :func:`engine.image_io.load_image` makes of a photograph.

A :class:`VideoReader` hands out one :class:`Frame` at a time and is used by one thread at a
time (open a camera on the thread the platform wants, then read it on a worker). The rules:

- Files: whatever the OpenCV wheel's FFmpeg reads (MP4, AVI, MOV, MKV, WebM, GIF ...).
  A file that ends before the frame count its header announces is truncated or damaged:
  the frames before the damage are delivered, then :meth:`VideoReader.read` raises
  :class:`VideoError` (it does not end quietly, so a cut-off recording is never mistaken
  for a whole one). A file whose header is unreadable does not open.
- Folders: every image file in it (PNG, JPEG, BMP, TIFF, WebP, PNM) in natural order
  (``frame2`` before ``frame10``), played at :data:`FOLDER_FPS` frames per second. All
  frames must have the first frame's size.
- Cameras: opened through the platform's own backend (V4L2 on Linux, DirectShow on
  Windows, AVFoundation on macOS). A camera that is missing or busy does not open; one that
  stops delivering (unplugged) makes :meth:`VideoReader.read` raise :class:`VideoError`.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .image_io import image_format, load_image, open_regular, to_gray_float

#: Frames per second of a folder of images (it has no frame rate of its own).
FOLDER_FPS = 30.0
#: Frames per second assumed when a file or camera does not say (or says nonsense).
DEFAULT_FPS = 30.0
#: Suffixes of the image files a folder's frames are read from.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm",
                  ".pbm", ".pnm")
#: Consecutive failed grabs after which a camera counts as stopped.
CAMERA_RETRIES = 3
#: Still-image formats (as engine.image_io names them) that are refused as videos.
_STILL = {"BMP", "Radiance HDR", "JPEG", "WebP", "Sun raster", "PNM", "PAM", "PFM", "TIFF",
          "PNG", "JPEG 2000"}
_HEAD_BYTES = 64


class VideoError(ValueError):
    """A video, folder or camera that cannot be read; the one-line message names it and
    says what to do."""


class TruncatedVideoError(VideoError):
    """A file that breaks off before the frame count its header announces.

    Attributes
    ----------
    good_frames : int
        How many frames were read before the damage (frames ``0 .. good_frames - 1``).
    """

    def __init__(self, message: str, good_frames: int) -> None:
        super().__init__(message)
        self.good_frames = good_frames


@dataclass(frozen=True)
class Frame:
    """One frame: its position in the stream, its time and its grey image.

    Attributes
    ----------
    index : int
        0 for the first frame of the stream (after a seek, the frame sought).
    time_s : float
        Seconds from the start: ``index / fps`` for files and folders; for a camera the
        time from its first frame (0) to the grab of this one.
    image : (H, W) float32 array
        Grey in [0, 1], read-only, converted as load_image converts a colour photograph.
    """

    index: int
    time_s: float
    image: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class VideoInfo:
    """What a stream is.

    Attributes
    ----------
    source : str
        The file or folder path, or ``"camera N"``.
    kind : str
        ``"file"``, ``"folder"`` or ``"camera"``.
    frame_count : int or None
        Frames in a file (as its header says) or a folder; None for a camera or a file that
        does not say.
    fps : float
        Frames per second (:data:`DEFAULT_FPS` when a file or camera does not say,
        :data:`FOLDER_FPS` for a folder).
    shape : (rows, cols)
        The size of every frame.
    """

    source: str
    kind: str
    frame_count: int | None
    fps: float
    shape: tuple[int, int]


def _grey(source: str, bgr: np.ndarray) -> np.ndarray:
    """A decoded frame (grey, BGR or BGRA; 8 or 16 bits) as read-only grey float32."""
    if bgr.ndim == 3 and bgr.shape[2] == 1:
        bgr = bgr[:, :, 0]
    elif bgr.ndim == 3 and bgr.shape[2] == 4:
        bgr = bgr[:, :, :3]
    out = to_gray_float(Path(source), bgr)
    out.setflags(write=False)
    return out


def _fps(value: float) -> float:
    return float(value) if np.isfinite(value) and 0.0 < value <= 1000.0 else DEFAULT_FPS


class VideoReader:
    """Frames of one file, folder or camera, read one at a time.

    Made by :func:`open_video` and :func:`open_camera`, never directly. One thread uses a
    reader at a time; it is a context manager that closes itself.

    Attributes
    ----------
    info : VideoInfo
    """

    def __init__(self, info: VideoInfo) -> None:
        self.info = info
        self._next = 0  # the index of the frame read() returns next
        self._closed = False

    # -- the interface ------------------------------------------------------------------
    def read(self) -> Frame | None:
        """Return the next frame, or None at the end of a file or folder.

        Raises
        ------
        VideoError
            For a truncated or corrupt file (a :class:`TruncatedVideoError` saying how many
            frames were good), an unreadable image in a folder, a frame of another size, a
            camera that stopped delivering, or a closed reader.
        """
        if self._closed:
            raise VideoError(f"{self.info.source}: the video is closed; open it again.")
        frame = self._read()
        if frame is not None:
            self._next = frame.index + 1
        return frame

    def seek(self, index: int) -> None:
        """Make `index` the frame the next :meth:`read` returns (files and folders).

        Raises
        ------
        VideoError
            For a camera, or an index outside ``0 .. frame_count - 1``.
        """
        if self.info.kind == "camera":
            raise VideoError(f"{self.info.source}: a camera cannot seek; it only plays live.")
        count = self.info.frame_count
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0 \
                or (count is not None and index >= count):
            span = "at least 0" if count is None else f"0 to {count - 1}"
            raise VideoError(f"{self.info.source}: cannot seek to frame {index!r}; use {span}.")
        self._seek(int(index))
        self._next = int(index)

    def close(self) -> None:
        """Release the file or camera (safe to call twice)."""
        if not self._closed:
            self._closed = True
            self._close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<VideoReader {self.info.source!r} {self.info.kind} next={self._next}>"

    # -- per kind -----------------------------------------------------------------------
    def _read(self) -> Frame | None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _seek(self, index: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _close(self) -> None:
        pass

    def _checked(self, image: np.ndarray, index: int) -> np.ndarray:
        if image.shape != self.info.shape:
            raise VideoError(f"{self.info.source}: frame {index} is {image.shape[1]}x"
                             f"{image.shape[0]}, the first was {self.info.shape[1]}x"
                             f"{self.info.shape[0]}; a video's frames must keep one size.")
        return image


class _CaptureReader(VideoReader):
    """A file or camera read through an OpenCV VideoCapture (or a stand-in for one)."""

    def __init__(self, info: VideoInfo, capture, first: np.ndarray,
                 started: float | None = None) -> None:
        super().__init__(info)
        self._cap = capture
        self._pending: np.ndarray | None = first  # frame 0, read to learn the size
        self._started = started

    def _read(self) -> Frame | None:
        index = self._next
        first = self._pending is not None
        if first:
            image, self._pending = self._pending, None
        else:
            image = self._grab(index)
            if image is None:
                return None
        if self._started is None:
            when = index / self.info.fps
        else:  # a camera's clock starts at its first frame
            when = 0.0 if first else time.monotonic() - self._started
        return Frame(index, when, self._checked(image, index))

    def _grab(self, index: int) -> np.ndarray | None:
        info = self.info
        if info.kind == "camera":
            for _ in range(CAMERA_RETRIES):
                ok, bgr = self._cap.read()
                if ok and bgr is not None and bgr.size:
                    return _grey(info.source, bgr)
            raise VideoError(f"{info.source} stopped delivering frames (unplugged, or taken "
                             "by another program); plug it in again and reopen it.")
        ok, bgr = self._cap.read()
        if ok and bgr is not None and bgr.size:
            return _grey(info.source, bgr)
        if info.frame_count is not None and index < info.frame_count:
            raise TruncatedVideoError(
                f"{info.source}: the video breaks off after {index} of the {info.frame_count} "
                "frames its header announces; the file is truncated or damaged (frames up to "
                "the damage were read).", index)
        return None

    def _seek(self, index: int) -> None:
        self._pending = None
        if not self._cap.set(cv2.CAP_PROP_POS_FRAMES, index):
            raise VideoError(f"{self.info.source}: cannot seek to frame {index}; the file "
                             "may be damaged (play it from the start instead).")

    def _close(self) -> None:
        self._pending = None
        self._cap.release()


class _FolderReader(VideoReader):
    """Numbered image files in a folder, one frame each."""

    def __init__(self, info: VideoInfo, files: list[Path], first: np.ndarray) -> None:
        super().__init__(info)
        self._files = files
        self._pending: np.ndarray | None = first

    def _read(self) -> Frame | None:
        index = self._next
        if index >= len(self._files):
            return None
        if index == 0 and self._pending is not None:
            image = self._pending
        else:
            image = _load_frame(self._files[index])
        self._pending = None
        return Frame(index, index / self.info.fps, self._checked(image, index))

    def _seek(self, index: int) -> None:
        self._pending = None


def _load_frame(path: Path) -> np.ndarray:
    try:
        image = load_image(path)
    except ValueError as exc:  # ImageLoadError: already names the file and the reason
        raise VideoError(str(exc)) from None
    image.setflags(write=False)
    return image


def natural_key(name: str) -> tuple:
    """Sort key that orders numbers by value: ``frame2`` before ``frame10``.

    Examples
    --------
    >>> sorted(["f10.png", "f2.png", "f1.png"], key=natural_key)
    ['f1.png', 'f2.png', 'f10.png']
    """
    parts = re.split(r"(\d+)", name.lower())
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts if p), name


def _open_folder(folder: Path) -> VideoReader:
    try:
        files = sorted((p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                        and not p.name.startswith(".") and p.is_file()),
                       key=lambda p: natural_key(p.name))
    except OSError as exc:
        raise VideoError(f"{folder}: cannot list the folder ({exc.strerror or exc}).") from None
    if not files:
        raise VideoError(f"{folder}: the folder holds no images; put numbered frames in it "
                         f"({', '.join(s[1:] for s in IMAGE_SUFFIXES[:5])} ...), e.g. "
                         "frame1.png, frame2.png.")
    first = _load_frame(files[0])
    info = VideoInfo(str(folder), "folder", len(files), FOLDER_FPS, first.shape)
    return _FolderReader(info, files, first)


def _check_file(p: Path) -> None:
    fd, size = open_regular(p, VideoError, "a video")
    try:
        head = os.read(fd, _HEAD_BYTES) if size else b""
    except OSError as exc:
        raise VideoError(f"{p}: cannot be read ({exc.strerror or exc}).") from None
    finally:
        os.close(fd)
    if not head:
        raise VideoError(f"{p}: the file is empty (0 bytes); it holds no video.")
    kind = image_format(head)
    if kind in _STILL:
        raise VideoError(f"{p}: a still image ({kind}), not a video; open it as an image, "
                         "or put numbered images in a folder and open the folder.")


def open_video(path: str | os.PathLike) -> VideoReader:
    """Open a video file or a folder of numbered images.

    Parameters
    ----------
    path : str or path-like
        A file the OpenCV wheel reads (MP4, AVI, MOV, MKV, WebM, GIF ...), or a folder of
        images read in natural order at :data:`FOLDER_FPS`.

    Returns
    -------
    VideoReader
        Positioned at frame 0; its ``info`` says the size, frame rate and count.

    Raises
    ------
    VideoError
        Missing, empty, a still image, not a video OpenCV can read (or a damaged header), a
        video without a single frame, a folder with no images, or an unreadable first image.

    Examples
    --------
    >>> open_video("no/such/video.mp4")
    Traceback (most recent call last):
    ...
    engine.video_input.VideoError: no/such/video.mp4: no such file; check the path.
    """
    p = Path(path)
    if p.is_dir():
        return _open_folder(p)
    _check_file(p)
    cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise VideoError(f"{p}: not a video OpenCV can read, or its header is damaged; "
                         "convert it to MP4 or AVI, or check that it was copied whole.")
    ok, bgr = cap.read()
    if not ok or bgr is None or not bgr.size:
        cap.release()
        raise VideoError(f"{p}: the video holds no frame OpenCV can decode; it may be "
                         "damaged or use a codec the OpenCV wheel lacks (convert it to MP4).")
    count = cap.get(cv2.CAP_PROP_FRAME_COUNT)
    frame_count = int(count) if np.isfinite(count) and 0 < count < 2**31 else None
    first = _grey(str(p), bgr)
    info = VideoInfo(str(p), "file", frame_count, _fps(cap.get(cv2.CAP_PROP_FPS)), first.shape)
    return _CaptureReader(info, cap, first)


def camera_backend(platform: str = sys.platform) -> int:
    """Return the OpenCV capture API for cameras on `platform`: V4L2 on Linux, DirectShow
    on Windows (Media Foundation can take seconds to open), AVFoundation on macOS, and
    ``CAP_ANY`` elsewhere.

    Examples
    --------
    >>> camera_backend("linux") == cv2.CAP_V4L2
    True
    """
    if platform.startswith("linux"):
        return cv2.CAP_V4L2
    if platform.startswith("win"):
        return cv2.CAP_DSHOW
    if platform == "darwin":
        return cv2.CAP_AVFOUNDATION
    return cv2.CAP_ANY


CaptureFactory = Callable[[int, int], object]


def open_camera(device: int, *, capture_factory: CaptureFactory = cv2.VideoCapture,
                api_preference: int | None = None) -> VideoReader:
    """Open camera number `device` and read its first frame.

    On macOS call this from the main thread (the system asks for permission there); the
    reader may then be used from one worker thread.

    Parameters
    ----------
    device : int
        The camera's index (0 is the first).
    capture_factory : callable
        ``capture_factory(device, api)`` returns an object with ``isOpened()``,
        ``read() -> (ok, frame)``, ``get(prop)`` and ``release()``, like
        ``cv2.VideoCapture`` (the default); tests pass a stand-in.
    api_preference : int, optional
        The OpenCV capture API; by default :func:`camera_backend` for this platform.

    Returns
    -------
    VideoReader
        ``info.kind == "camera"``, ``frame_count`` None; frame 0 is the frame read here.

    Raises
    ------
    VideoError
        If `device` is not a whole number >= 0, or the camera is missing, busy or delivers
        no frame.
    """
    if isinstance(device, bool) or not isinstance(device, (int, np.integer)) or device < 0:
        raise VideoError(f"camera {device!r}: a camera is a whole number >= 0 (0 is the first).")
    source = f"camera {int(device)}"
    api = camera_backend() if api_preference is None else api_preference
    cap = capture_factory(int(device), api)
    if not cap.isOpened():
        cap.release()
        raise VideoError(f"{source}: no such camera, or it is busy (in use by another program);"
                         " plug it in, close the other program, or pick another camera.")
    bgr = None
    for _ in range(CAMERA_RETRIES):
        ok, bgr = cap.read()
        if ok and bgr is not None and bgr.size:
            break
    else:
        cap.release()
        raise VideoError(f"{source}: the camera opened but delivers no frames (busy, or "
                         "access was refused); close other programs that use it and retry.")
    started = time.monotonic()
    first = _grey(source, bgr)
    info = VideoInfo(source, "camera", None, _fps(cap.get(cv2.CAP_PROP_FPS)), first.shape)
    return _CaptureReader(info, cap, first, started)


def probe_cameras(max_index: int = 4, *,
                  capture_factory: CaptureFactory = cv2.VideoCapture) -> list[int]:
    """Return the indices in ``0 .. max_index - 1`` of the cameras that open and deliver a
    frame (OpenCV has no list of devices, so this tries each); each is released again.

    Raises
    ------
    ValueError
        If `max_index` is not a whole number >= 0.
    """
    if isinstance(max_index, bool) or not isinstance(max_index, (int, np.integer)) \
            or max_index < 0:
        raise ValueError(f"max_index must be a whole number >= 0; got {max_index!r}.")
    found = []
    for device in range(int(max_index)):
        try:
            reader = open_camera(device, capture_factory=capture_factory)
        except VideoError:
            continue
        reader.close()
        found.append(device)
    return found
