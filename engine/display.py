"""Preparing maps for display: colour ranges, reduction and 8-bit conversion.

The window, the comparison rows and figure sets all colour a stage over the range
:func:`stage_ranges` gives, so a colour means the same value wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from .fused import side_by_side
from .pipeline import PipelineResult

#: Stages with more pixels than this are drawn from a reduced copy (area average) when
#: the screen size is not known.
MAX_DRAWN_PIXELS = 4_000_000
#: The ways of reducing a map for display (see :func:`reduce_to`).
REDUCTIONS = ("area", "max", "largest magnitude")


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


def block_starts(size: int, n: int) -> np.ndarray:
    """The first cell of each of the `n` blocks a side of `size` cells is reduced to (for
    :func:`reduce_to`'s maximum and largest magnitude): the side is cut into whole steps of
    ``size // n`` cells (the fewer than a step left over join the last one), and the steps
    are shared out evenly among the blocks; the last block runs to the end.

    >>> block_starts(10, 3).tolist(), block_starts(4, 3).tolist()
    ([0, 3, 6], [0, 1, 2])
    """
    step = size // n
    if step > 1:
        return (np.arange(n) * (size // step)) // n * step
    return (np.arange(n) * size) // n


#: Maps with at least this many cells are reduced on two threads.
PARALLEL_REDUCE_CELLS = 1 << 20
#: Bytes of the rows reduced at a time, so that the minimum reads them from the cache
#: right after the maximum.
REDUCE_CHUNK_BYTES = 1 << 20


def block_extremes(arr: np.ndarray, rows: int, cols: int, ufuncs: Sequence[np.ufunc]
                   ) -> list[np.ndarray]:
    """Per ufunc (np.maximum, np.minimum), its reduction over the blocks of a ``rows x cols``
    split of a float32 array (:func:`block_starts` on each side).

    Each side goes in whole steps first: the rows by one reduction over a reshaped view per
    chunk of rows (numpy without the interpreter lock; a large map on two threads, every
    ufunc of a chunk while it is in the cache), the columns of that small result by one
    pass per column of a step; then the steps are merged into the blocks.
    """
    height, width = arr.shape
    step = height // rows
    if step <= 1:
        tall = [_merge_rows(u, arr, block_starts(height, rows)) for u in ufuncs]
    else:
        whole = height // step
        steps = [np.empty((whole, width), np.float32) for _ in ufuncs]
        chunk = max(1, REDUCE_CHUNK_BYTES // (4 * step * width))

        def reduce_steps(first: int, last: int) -> None:
            for c0 in range(first, last, chunk):
                c1 = min(c0 + chunk, last)
                block = arr[c0 * step:c1 * step].reshape(c1 - c0, step, width)
                for u, out in zip(ufuncs, steps, strict=True):
                    u.reduce(block, axis=1, out=out[c0:c1])

        half = whole // 2
        if arr.size >= PARALLEL_REDUCE_CELLS and half:
            side_by_side(lambda: reduce_steps(0, half), lambda: reduce_steps(half, whole))
        else:
            reduce_steps(0, whole)
        rest = arr[whole * step:]
        if rest.shape[0]:  # the few rows left over join the last step
            for u, out in zip(ufuncs, steps, strict=True):
                u(out[whole - 1], u.reduce(rest, axis=0), out=out[whole - 1])
        tall = [_merge_rows(u, out, block_starts(height, rows) // step)
                for u, out in zip(ufuncs, steps, strict=True)]
    return [_reduce_cols(u, t, cols) for u, t in zip(ufuncs, tall, strict=True)]


def _merge_rows(ufunc: np.ufunc, arr: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """`ufunc` over the rows of `arr` from each of `starts` to the next (the last to the
    end), row after row in order: one gather of every block's first row, then one of
    the k-th rows of the blocks that have k+1 or more (numpy's reduceat is several times
    slower along rows, and blocks here are mostly a row or two)."""
    if len(starts) == arr.shape[0]:
        return arr
    lengths = np.diff(np.append(starts, arr.shape[0]))
    out = arr[starts]
    for k in range(1, int(lengths.max())):
        longer = lengths > k
        out[longer] = ufunc(out[longer], arr[starts[longer] + k])
    return out


def _reduce_cols(ufunc: np.ufunc, arr: np.ndarray, cols: int) -> np.ndarray:
    """`ufunc` over the `cols` column blocks (:func:`block_starts`) of a small map."""
    width = arr.shape[1]
    step = width // cols
    if step <= 1:
        return arr if width == cols else ufunc.reduceat(arr, block_starts(width, cols), axis=1)
    whole = width // step
    cut = whole * step
    steps = arr[:, 0:cut:step].copy()  # one strided pass per column of a step
    for j in range(1, step):
        ufunc(steps, arr[:, j:cut:step], out=steps)
    if cut < width:  # the few columns left over join the last step
        ufunc(steps[:, -1], ufunc.reduce(arr[:, cut:], axis=1), out=steps[:, -1])
    if whole == cols:
        return steps
    return ufunc.reduceat(steps, block_starts(width, cols) // step, axis=1)


def reduce_to(arr: np.ndarray, width: int, height: int, how: str) -> np.ndarray:
    """Reduce `arr` to at most ``height x width`` cells, each output cell summarising the
    block of input cells it covers: ``"area"`` their mean, ``"max"`` their maximum,
    ``"largest magnitude"`` the one farthest from 0 (keeping its sign). Sides already
    within the size are kept. A maximum keeps a one-cell-wide edge visible, which an
    average would fade.

    Returns
    -------
    np.ndarray
        float32, at most ``(height, width)``.

    Raises
    ------
    ValueError
        For an unknown `how`.

    >>> edge = np.zeros((8, 8), np.float32); edge[:, 3] = 1.0  # a one-cell-wide line
    >>> reduce_to(edge, 2, 2, "max").tolist()
    [[1.0, 0.0], [1.0, 0.0]]
    >>> reduce_to(edge, 2, 2, "area").tolist()
    [[0.25, 0.0], [0.25, 0.0]]
    >>> signed = edge.copy(); signed[:, 3] = -2.0  # a negative edge beside positive cells
    >>> reduce_to(signed, 2, 2, "largest magnitude").tolist()
    [[-2.0, 0.0], [-2.0, 0.0]]
    """
    if how not in REDUCTIONS:
        raise ValueError(f"unknown reduction {how!r}; use area, max or largest magnitude.")
    arr = np.asarray(arr, dtype=np.float32)
    rows, cols = max(1, min(height, arr.shape[0])), max(1, min(width, arr.shape[1]))
    if (rows, cols) == arr.shape:
        return arr
    if how == "area":
        step = min(arr.shape[0] // rows, arr.shape[1] // cols)
        if step > 1:
            # whole blocks first (OpenCV's fast path for an integer ratio); the fewer than
            # `step` cells left at the bottom and right edges are dropped, less than one
            # cell of the result
            h, w = arr.shape[0] // step, arr.shape[1] // step
            arr = _block_means(arr[:h * step, :w * step], step)
        if (rows, cols) == arr.shape:
            return arr
        return cv2.resize(arr, (cols, rows), interpolation=cv2.INTER_AREA)
    if how == "max":
        return block_extremes(arr, rows, cols, (np.maximum,))[0]
    high, low = block_extremes(arr, rows, cols, (np.maximum, np.minimum))
    return np.where(np.abs(high) >= np.abs(low), high, low)


def _block_means(arr: np.ndarray, step: int) -> np.ndarray:
    """The means of the ``step x step`` blocks of `arr` (whose sides are multiples of
    `step`) by OpenCV's area resize, a large map in two halves of whole blocks side by
    side: each mean reads its own block alone, so the halves are those of one call."""
    h, w = arr.shape[0] // step, arr.shape[1] // step
    half = h // 2
    if arr.size < PARALLEL_REDUCE_CELLS or half == 0:
        return cv2.resize(arr, (w, h), interpolation=cv2.INTER_AREA)
    out = np.empty((h, w), np.float32)
    side_by_side(
        lambda: cv2.resize(arr[:half * step], (w, half), dst=out[:half],
                           interpolation=cv2.INTER_AREA),
        lambda: cv2.resize(arr[half * step:], (w, h - half), dst=out[half:],
                           interpolation=cv2.INTER_AREA))
    return out


def reduction_for(name: str, levels: tuple[float, float]) -> str:
    """How a stage is reduced for display: the input by its mean (a photo stays a photo),
    a map drawn over a range that reaches below 0 by the value of largest magnitude, any
    other map by its maximum (thin edges stay visible).

    >>> reduction_for("input", (0.0, 1.0)), reduction_for("pool1", (0.0, 3.0))
    ('area', 'max')
    """
    if name == "input":
        return "area"
    return "largest magnitude" if levels[0] < 0 else "max"


def fit_cells(shape: tuple[int, int], screen: tuple[int, int]) -> tuple[int, int]:
    """The ``(rows, cols)`` a map of `shape` is drawn with in a view of `screen` (rows,
    cols) device pixels: its own shape when it fits, else reduced by one factor on both
    sides (the aspect kept) until it fits.

    >>> fit_cells((3000, 4000), (300, 380)), fit_cells((60, 80), (300, 380))
    ((285, 380), (60, 80))
    """
    rows, cols = shape
    factor = max(rows / max(1, screen[0]), cols / max(1, screen[1]))
    if factor <= 1.0:
        return rows, cols
    return max(1, int(np.ceil(rows / factor))), max(1, int(np.ceil(cols / factor)))


#: A map of at most this many times its screen's pixels is drawn whole (see
#: :func:`display_image`).
DRAWN_WHOLE = 4


def display_image(x: np.ndarray, levels: tuple[float, float], how: str,
                  screen: tuple[int, int] | None = None) -> np.ndarray:
    """The uint8 image drawing map `x` over `levels`: reduced (:func:`reduce_to` with `how`)
    to the `screen` pixels (rows, cols) it is shown on, or without `screen` to at most
    :data:`MAX_DRAWN_PIXELS` by area. A map of at most :data:`DRAWN_WHOLE` times the
    screen's pixels (half its sides) is drawn whole: drawing it costs less than asking
    again for the part a zoom shows."""
    if screen is None:
        small = drawable(x)
    elif x.size <= DRAWN_WHOLE * screen[0] * screen[1]:
        small = x
    else:
        rows, cols = fit_cells(x.shape, screen)
        small = reduce_to(x, cols, rows, how)
    return to_uint8(small, *levels)


def value_range(x: np.ndarray, extremes: tuple[float, float] | None = None
                ) -> tuple[float, float]:
    """Return ``(min, max)`` of `x` as floats, the colour range a map is drawn with;
    `extremes`, when given, are that min and max already measured.

    A constant map gets the range from 0 to its value, so a single lit cell (the 1x1
    last level of the article's pixel example) is drawn lit, not at the low end.
    """
    if extremes is None:
        lo, hi, _, _ = cv2.minMaxLoc(x)
    else:
        lo, hi = extremes
    if lo == hi:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    return float(lo), float(hi)


def stage_ranges(results: Sequence[PipelineResult], shared_levels: bool = False
                 ) -> dict[str, tuple[float, float]]:
    """Return the colour range of every stage name, covering it in all of `results`.

    The input keeps at least [0, 1] (the canvas' own scale, widened if an image leaves
    it). Other stages use their own ``(min, max)`` (see :func:`value_range`; read from
    :attr:`engine.Stage.extremes` where the run measured them), or with `shared_levels`
    one range over all of them, so their colours compare.
    """
    ranges: dict[str, tuple[float, float]] = {}
    for result in results:
        for stage in result.stages:
            lo, hi = value_range(stage.array, getattr(stage, "extremes", None))
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
