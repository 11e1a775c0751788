"""Reading image files robustly: every failure is an ImageLoadError that says why."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

DEFAULT_MAX_PIXELS = 64_000_000


class ImageLoadError(ValueError):
    """An image file could not be read; the message names the file and the reason."""


def _read_bytes(path: str | os.PathLike, max_pixels: int) -> tuple[Path, np.ndarray]:
    p = Path(path)
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
        raise ValueError(f"max_pixels must be an integer >= 1; got {max_pixels!r}.")
    if not p.exists():
        raise ImageLoadError(f"{p}: no such file; check the path.")
    if p.is_dir():
        raise ImageLoadError(f"{p}: is a folder, not an image file; choose a file inside it.")
    try:
        data = np.fromfile(p, dtype=np.uint8)
    except OSError as exc:
        raise ImageLoadError(f"{p}: cannot be read ({exc.strerror or exc}).") from exc
    if data.size == 0:
        raise ImageLoadError(f"{p}: the file is empty (0 bytes).")
    return p, data


def _decode(p: Path, data: np.ndarray, flags: int, max_pixels: int) -> np.ndarray:
    size = _header_size(data)
    if size is not None and size[0] * size[1] > max_pixels:
        raise ImageLoadError(
            f"{p}: the image is {size[1]}x{size[0]} ({size[0] * size[1]:,} pixels), more than "
            f"the limit of {max_pixels:,} pixels; scale it down first."
        )
    try:
        img = cv2.imdecode(data, flags)
    except cv2.error as exc:
        raise ImageLoadError(f"{p}: cannot be decoded ({str(exc).strip().splitlines()[-1]}).") \
            from exc
    if img is None:
        kind = _sniff(data)
        if kind:
            raise ImageLoadError(f"{p}: the {kind} file is truncated or corrupt.")
        raise ImageLoadError(
            f"{p}: not an image (the contents are not PNG, JPEG, BMP, TIFF or WebP)."
        )
    if img.shape[0] * img.shape[1] > max_pixels:
        raise ImageLoadError(
            f"{p}: the image is {img.shape[1]}x{img.shape[0]} ({img.shape[0] * img.shape[1]:,} "
            f"pixels), more than the limit of {max_pixels:,} pixels; scale it down first."
        )
    if img.size == 0:
        raise ImageLoadError(f"{p}: the image has no pixels.")
    return img


_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"RIFF", "WebP"),
    (b"GIF8", "GIF"),
)


def _sniff(data: np.ndarray) -> str | None:
    head = data[:12].tobytes()
    for magic, kind in _SIGNATURES:
        if head.startswith(magic):
            return kind
    return None


def _header_size(data: np.ndarray) -> tuple[int, int] | None:
    """(rows, cols) from a PNG header without decoding, so huge files fail fast."""
    head = data[:24].tobytes()
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        return int.from_bytes(head[20:24], "big"), int.from_bytes(head[16:20], "big")
    return None


def _to_gray_float(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    scale = 1.0 / 65535.0 if img.dtype == np.uint16 else 1.0 / 255.0
    if img.dtype not in (np.uint8, np.uint16):
        lo, hi = float(np.min(img)), float(np.max(img))
        img = img.astype(np.float32)
        scale = 1.0
        if lo < 0.0 or hi > 1.0:
            img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    if img.ndim == 3:
        img = cv2.cvtColor(img.astype(np.float32), cv2.COLOR_BGR2GRAY)
    return np.ascontiguousarray(img, dtype=np.float32) * np.float32(scale)


def load_image(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as a 2-D float32 array in [0, 1].

    Colour becomes luma grey (the weights of ``cv2.COLOR_BGR2GRAY``), 16-bit data is
    scaled by 1/65535, alpha is ignored and EXIF orientation is applied.

    Parameters
    ----------
    path : str or path-like
        PNG, JPEG, BMP, TIFF or WebP file; non-ASCII paths work.
    max_pixels : int
        Refuse larger images.

    Returns
    -------
    (H, W) float32 array in [0, 1]

    Raises
    ------
    ImageLoadError
        (a ValueError) naming the file and the reason: missing, a folder, empty,
        not an image, truncated or corrupt, or more pixels than `max_pixels`.
    """
    p, data = _read_bytes(path, max_pixels)
    # IMREAD_UNCHANGED keeps 16 bits but ignores EXIF orientation; ANYDEPTH|COLOR
    # keeps depth and applies the orientation, dropping alpha.
    img = _decode(p, data, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR, max_pixels)
    return _to_gray_float(img)


def load_color_image(path: str | os.PathLike, *,
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file for display as RGB uint8 ``(H, W, 3)``, EXIF orientation applied.

    Raises
    ------
    ImageLoadError
        For the same reasons as :func:`load_image`.
    """
    p, data = _read_bytes(path, max_pixels)
    img = _decode(p, data, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR, max_pixels)
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        img = np.clip(img.astype(np.float32) * 255.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
