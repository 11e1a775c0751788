"""Animations that play everywhere: MP4 in H.264 (yuv420p) and GIFs without dithering.

H.264 comes from PyAV, whose wheel ships libx264; browsers, PowerPoint and Keynote play
it. Without PyAV the MP4 is written by OpenCV with the older ``mp4v`` codec (MPEG-4 Part
2, which those do not play), and :attr:`Mp4Writer.notice` says so in one line. GIFs are
written by Pillow with each frame's own most frequent colours as its palette and no
dithering, so flat colour fields stay flat and no colour appears that was not drawn.
Frames are taken one at a time: neither writer holds the whole animation in memory.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable

import cv2
import numpy as np
from PIL import Image

try:  # PyAV: H.264 in the wheel
    import av
except ImportError:  # pragma: no cover - exercised by monkeypatching in the tests
    av = None

#: The codec names an MP4 is written with, by writer.
H264, MP4V = "h264", "mp4v"


class Mp4Writer:
    """Write BGR frames of one even size to an MP4 file, one at a time.

    Parameters
    ----------
    path : path
        The file to write.
    size : (width, height)
        Even numbers (yuv420p halves the colour planes).
    fps : int
        Frames per second.

    Attributes
    ----------
    codec : str
        ``"h264"`` (PyAV) or ``"mp4v"`` (OpenCV, when PyAV is missing).
    notice : str or None
        One line saying why the MP4 is not H.264, or None.

    Raises
    ------
    OSError
        If no writer can open the file.
    """

    def __init__(self, path: str | os.PathLike, size: tuple[int, int], fps: int) -> None:
        self.path = os.fspath(path)
        self.notice: str | None = None
        self._container = self._stream = self._cv = None
        width, height = size
        if av is not None:
            self.codec = H264
            self._container = av.open(self.path, mode="w")
            self._stream = self._container.add_stream("libx264", rate=fps)
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"crf": "18", "preset": "medium"}
            return
        self.codec = MP4V
        self.notice = (f"PyAV is not installed, so {os.path.basename(self.path)} is MPEG-4 "
                       "Part 2 (mp4v), which browsers and slide software may not play; pip "
                       "install av for H.264.")
        self._cv = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
        if not self._cv.isOpened():
            raise OSError(errno.EIO, "OpenCV could not open an mp4v video writer", self.path)

    def write(self, frame: np.ndarray) -> None:
        """Append one ``(height, width, 3)`` uint8 BGR frame."""
        if self._cv is not None:
            self._cv.write(frame)
            return
        picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="bgr24")
        for packet in self._stream.encode(picture):
            self._container.mux(packet)

    def close(self) -> None:
        """Flush and close the file (safe to call twice)."""
        if self._cv is not None:
            self._cv.release()
            self._cv = None
        if self._container is not None:
            try:
                for packet in self._stream.encode():
                    self._container.mux(packet)
            finally:
                self._container.close()
                self._container = None


def _packed(rgb: np.ndarray) -> np.ndarray:
    return (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) \
        | rgb[..., 2]


def palette_indices(rgb: np.ndarray, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """An ``(h, w, 3)`` uint8 frame as palette indices: the palette is its `size` most
    frequent colours (a figure is mostly flat colour: the maps' cells, white, markers, so
    these are the colours drawn), and every other pixel (antialiased edges) takes the
    nearest of them.

    Returns
    -------
    (indices, palette)
        ``(h, w)`` uint8 and ``(n, 3)`` uint8, n <= `size`.

    >>> frame = np.zeros((2, 3, 3), np.uint8); frame[0, :2] = 255; frame[0, 2] = 250
    >>> indices, palette = palette_indices(frame, 2)
    >>> palette.tolist(), indices.tolist()
    ([[0, 0, 0], [255, 255, 255]], [[1, 1, 1], [0, 0, 0]])
    """
    packed = _packed(rgb)
    colours, inverse, counts = np.unique(packed.ravel(), return_inverse=True,
                                         return_counts=True)
    keep = np.sort(colours[np.argsort(-counts, kind="stable")[:size]])
    def split(p: np.ndarray) -> np.ndarray:
        return np.stack([(p >> 16) & 255, (p >> 8) & 255, p & 255], axis=1).astype(np.int32)
    palette = split(keep)
    # nearest palette colour of every distinct colour (a few thousand at most)
    nearest = np.empty(len(colours), np.uint8)
    every = split(colours)
    for start in range(0, len(colours), 4096):
        block = every[start:start + 4096]
        d = ((block[:, None, :] - palette[None, :, :]) ** 2).sum(axis=2)
        nearest[start:start + 4096] = d.argmin(axis=1)
    return nearest[inverse].reshape(rgb.shape[:2]), palette.astype(np.uint8)


def write_gif(path: str | os.PathLike, frames: Iterable[np.ndarray], fps: int) -> None:
    """Write BGR frames as a looping GIF: each frame's palette is its own 256 most frequent
    colours (:func:`palette_indices`), every other pixel takes the nearest of them, with no
    dithering; so the GIF holds no colour the frame does not.

    Raises
    ------
    ValueError
        If there is no frame.
    OSError
        If the file cannot be written.
    """
    def quantized(images: Iterable[np.ndarray]):
        for frame in images:
            indices, palette = palette_indices(np.ascontiguousarray(frame[:, :, ::-1]))
            picture = Image.fromarray(indices, mode="P")
            picture.putpalette(palette.ravel().tolist())
            yield picture

    pictures = quantized(frames)
    first = next(pictures, None)
    if first is None:
        raise ValueError("an animation needs at least one frame.")
    first.save(os.fspath(path), format="GIF", save_all=True, append_images=pictures,
               duration=int(1000 / fps), loop=0, optimize=False, disposal=1)
