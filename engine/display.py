"""Preparing maps for display: colour ranges, reduction and 8-bit conversion.

The window, the comparison rows and figure sets all colour a stage over the range
:func:`stage_ranges` gives, so a colour means the same value wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .pipeline import PipelineResult

#: Stages with more pixels than this are drawn from a reduced copy (area average).
MAX_DRAWN_PIXELS = 4_000_000


def to_uint8(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map `x` linearly from [lo, hi] to 0..255 (rounded, saturating above `hi`), as a
    C-contiguous uint8 array. Values must be >= `lo`: convertScaleAbs takes the absolute
    value of ``(x - lo) * scale``, which only then is the identity."""
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    return cv2.convertScaleAbs(x, alpha=scale, beta=-lo * scale)


def drawable(x: np.ndarray, max_pixels: int = MAX_DRAWN_PIXELS) -> np.ndarray:
    """Return `x`, or an area-averaged reduction of it when it has more than `max_pixels`."""
    if x.size <= max_pixels:
        return x
    f = int(np.ceil(np.sqrt(x.size / max_pixels)))
    h, w = max(1, x.shape[0] // f), max(1, x.shape[1] // f)
    return cv2.resize(x, (w, h), interpolation=cv2.INTER_AREA)


def value_range(x: np.ndarray) -> tuple[float, float]:
    """Return ``(min, max)`` of `x` as floats, the colour range a map is drawn with.

    A constant map gets the range from 0 to its value, so a single lit cell (the 1x1
    last level of the article's pixel example) is drawn lit, not at the low end.
    """
    lo, hi, _, _ = cv2.minMaxLoc(x)
    if lo == hi:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    return float(lo), float(hi)


def stage_ranges(results: Sequence[PipelineResult], shared_levels: bool = False
                 ) -> dict[str, tuple[float, float]]:
    """Return the colour range of every stage name, covering it in all of `results`.

    The input keeps at least [0, 1] (the canvas' own scale, widened if an image leaves
    it). Other stages use their own ``(min, max)`` (see :func:`value_range`), or with
    `shared_levels` one range over all of them, so their colours compare.
    """
    ranges: dict[str, tuple[float, float]] = {}
    for result in results:
        for stage in result.stages:
            lo, hi = value_range(stage.array)
            if stage.name in ranges:
                lo, hi = min(lo, ranges[stage.name][0]), max(hi, ranges[stage.name][1])
            ranges[stage.name] = (lo, hi)
    if "input" in ranges:
        lo, hi = ranges["input"]
        ranges["input"] = (min(0.0, lo), max(1.0, hi))
    features = [n for n in ranges if n != "input"]
    if shared_levels and features:
        common = (min(ranges[n][0] for n in features), max(ranges[n][1] for n in features))
        ranges.update({n: common for n in features})
    return ranges


def difference_range(x: np.ndarray, signed: bool) -> tuple[float, float]:
    """The colour range of a difference map: centred on 0 when `signed` (so 0 is the
    middle of a diverging colormap; an all-zero map gets -1 .. 1), else its own range
    (at least one unit wide)."""
    lo, hi = value_range(x)
    if signed:
        m = max(abs(lo), abs(hi)) or 1.0
        return -m, m
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def colormap_table(name: str) -> np.ndarray:
    """The 256-entry RGB lookup table (uint8, shape (256, 3)) of a colormap: ``"grey"`` or
    ``"viridis"`` (OpenCV's, the matplotlib table). The window's panels and figure sets
    both colour stages with it, so a figure matches the screen.

    Raises
    ------
    ValueError
        For another name.

    >>> colormap_table("viridis").shape, colormap_table("grey")[255].tolist()
    ((256, 3), [255, 255, 255])
    """
    ramp = np.arange(256, dtype=np.uint8)
    if name == "grey":
        return np.stack([ramp] * 3, axis=1)
    if name == "viridis":
        bgr = cv2.applyColorMap(ramp.reshape(256, 1), cv2.COLORMAP_VIRIDIS).reshape(256, 3)
        return np.ascontiguousarray(bgr[:, ::-1])
    raise ValueError(f"colormap must be 'grey' or 'viridis'; got {name!r}.")
