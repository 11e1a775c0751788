"""Videos written by the live-input tests and benchmark: a bright block moving a known
number of pixels per frame, as MJPG in an AVI (OpenCV's own writer, nothing downloaded)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

#: The block: a 3x3 square whose centre pixel is the single brightest pixel (JPEG keeps
#: 255 against the ring's 120 apart, so the input's maximum is exactly the centre).
RING, PEAK = 120, 255


def block_centre(frame: int, start: tuple[int, int], step: tuple[int, int]) -> tuple[int, int]:
    """Where the block's centre (row, col) is in frame `frame`."""
    return start[0] + step[0] * frame, start[1] + step[1] * frame


def block_frame(shape: tuple[int, int], centre: tuple[int, int]) -> np.ndarray:
    """One grey uint8 frame: black, with the block at `centre`."""
    img = np.zeros(shape, np.uint8)
    r, c = centre
    img[r - 1:r + 2, c - 1:c + 2] = RING
    img[r, c] = PEAK
    return img


def write_moving_block(path: str | Path, frames: int = 24, shape: tuple[int, int] = (48, 96),
                       start: tuple[int, int] = (20, 6), step: tuple[int, int] = (0, 3),
                       fps: float = 30.0) -> list[tuple[int, int]]:
    """Write an MJPG AVI of the block moving by `step` pixels per frame from `start`.

    Returns the block's centre in every frame.
    """
    h, w = shape
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened(), f"OpenCV cannot write MJPG to {path}"
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 100)
    centres = []
    for i in range(frames):
        centre = block_centre(i, start, step)
        centres.append(centre)
        writer.write(cv2.cvtColor(block_frame(shape, centre), cv2.COLOR_GRAY2BGR))
    writer.release()
    return centres


def write_textured(path: str | Path, frames: int, shape: tuple[int, int],
                   fps: float = 30.0, seed: int = 0) -> None:
    """Write an MJPG AVI of smooth random texture sliding right by 2 pixels per frame
    (a photo-like load for the benchmark)."""
    h, w = shape
    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur((rng.random((h, w + 2 * frames)) * 255).astype(np.uint8), (0, 0), 3)
    base = cv2.normalize(base, None, 0, 255, cv2.NORM_MINMAX)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened(), f"OpenCV cannot write MJPG to {path}"
    for i in range(frames):
        start = 2 * (frames - 1 - i)
        writer.write(cv2.cvtColor(np.ascontiguousarray(base[:, start:start + w]),
                                  cv2.COLOR_GRAY2BGR))
    writer.release()
