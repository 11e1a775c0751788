"""Videos written by the tests: a bright block moving a known number of pixels per frame.

FFV1 (in AVI or MKV) is lossless, so the decoded frames are the frames written and the
block's corner is exactly where it was put; MJPG, mp4v and H.264 are lossy and move the
brightest pixel around inside the block.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np


@dataclass(frozen=True)
class Motion:
    """A ``size`` x ``size`` white block on black, its top-left corner at
    ``(top + i * dy, left + i * dx)`` in frame i."""

    frames: int = 12
    shape: tuple[int, int] = (64, 128)
    top: int = 12
    left: int = 6
    dy: int = 0
    dx: int = 3
    size: int = 7
    fps: float = 25.0

    def corner(self, i: int) -> tuple[int, int]:
        return self.top + i * self.dy, self.left + i * self.dx

    def grey(self, i: int) -> np.ndarray:
        """Frame i as uint8 grey."""
        img = np.zeros(self.shape, np.uint8)
        r, c = self.corner(i)
        img[r:r + self.size, c:c + self.size] = 255
        return img

    def bgr(self, i: int) -> np.ndarray:
        return cv2.cvtColor(self.grey(i), cv2.COLOR_GRAY2BGR)


def write_video(path: Path, motion: Motion = Motion(), fourcc: str = "FFV1") -> Path:
    """Write `motion` with OpenCV's VideoWriter and the given codec; return `path`."""
    height, width = motion.shape
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), motion.fps,
                             (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} to {path}"
    for i in range(motion.frames):
        writer.write(motion.bgr(i))
    writer.release()
    return path


def write_pyav(path: Path, motion: Motion = Motion(), codec: str = "libx264") -> Path:
    """Write `motion` with PyAV's encoder `codec`: libx264 (H.264, for MP4) or libvpx-vp9
    (for WebM); no Qt needed, unlike figures.video."""
    import av

    height, width = motion.shape
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=int(motion.fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(motion.frames):
            frame = av.VideoFrame.from_ndarray(motion.bgr(i), format="bgr24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


def write_gif(path: Path, motion: Motion = Motion()) -> Path:
    """Write `motion` as an animated GIF with Pillow (two colours: lossless)."""
    from PIL import Image

    frames = [Image.fromarray(motion.grey(i)) for i in range(motion.frames)]
    frames[0].save(path, save_all=True, append_images=frames[1:],
                   duration=int(1000 / motion.fps), loop=0)
    return path


def write_folder(folder: Path, motion: Motion = Motion(), name: str = "frame{}.png") -> Path:
    """Write `motion` as numbered PNGs ``frame0.png``, ``frame1.png`` ... into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(motion.frames):
        assert cv2.imwrite(str(folder / name.format(i)), motion.grey(i))
    return folder


def truncate(path: Path, fraction: float) -> Path:
    """Cut `path` to `fraction` of its bytes, in place; return it."""
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * fraction)])
    return path
