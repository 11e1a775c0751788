"""Convolution, activation and the first pooling levels in one pass over bands of rows.

A 12-megapixel map is 48 MB, far more than the caches hold; run stage by stage, every
stage reads its whole input back from memory. Here each band of rows is convolved,
activated and pooled as deep as the band allows while it is still in the cache, so main
memory sees the input read once and each stage written once.

The values are those of the stage-by-stage run bit for bit: the convolution is the same
``cv2.filter2D`` call on the same padded width (OpenCV's arithmetic for a cell depends on
its column, never on how many rows the call gets), and a pooling band starts at a
multiple of its window, so it pools exactly the windows the whole map would.
"""

from __future__ import annotations

import functools
import math
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import cv2
import numpy as np

from .conv import BORDER_TYPES, activate_owned, padding_amounts
from .pool import pooled_shape, window_pool_into

A = TypeVar("A")
B = TypeVar("B")

#: Bytes of one band of the convolution map: a band, its input rows and its pooled rows stay
#: in the cache (2 MB measured fastest among 0.5 to 4 MB on a 32 MB shared cache).
BAND_BYTES = 1 << 21
#: Maps with fewer cells run on one thread.
PARALLEL_CELLS = 1 << 20
#: Pooling levels run inside the bands at most; deeper maps are small enough to pool whole.
BAND_LEVELS = 3


def banded(stride: int, pool_mode: str, pool_size: int, pool_stride: int) -> bool:
    """Whether :func:`conv_pool_bands` computes a convolution of `stride` followed by
    `pool_mode` pooling: a stride-1 convolution, then max or average pooling whose windows
    neither overlap nor leave gaps."""
    return stride == 1 and pool_mode in ("max", "avg") and pool_size == pool_stride


class Recycler:
    """Large float32 arrays handed out again once nobody else holds them.

    A 12-megapixel map is 48 MB; fresh memory costs the system about 4 ms of zeroing per
    map before the first value lands in it, and a comparison of two runs makes about seven
    such maps per edit. On a thread inside :meth:`active` the recycler keeps the arrays it
    hands out and hands one out again when its only holders are the recycler and the
    caller: every result, view or reader of an array holds a reference to it (a view holds
    its base), so nobody can still be reading an array that is handed out again. What is
    handed out is a new view each time: code that knows an array by identity or by a weak
    reference never takes a new map for one it saw before. Elsewhere :meth:`empty` is
    ``np.empty``.
    """

    def __init__(self, max_bytes: int, min_bytes: int) -> None:
        self.max_bytes, self.min_bytes = max_bytes, min_bytes
        self._arrays: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._local = threading.local()  # per thread: on, and the ids handed out
        # The count of an array only a list holds, read as every check reads it (what a
        # count includes differs between Python versions).
        self._alone = _references([np.empty(0, np.float32)], 0)

    def _free(self, i: int) -> bool:
        """Whether array `i` is held by nobody but the recycler."""
        return _references(self._arrays, i) == self._alone

    @contextmanager
    def active(self) -> Iterator[None]:
        """Recycle on this thread within the block; at its end, forget the free arrays that
        the block did not use (the maps of an image no longer shown)."""
        handed: set[int] = set()
        self._local.on, self._local.handed = True, handed
        try:
            yield
        finally:
            self._local.on = False
            with self._lock:
                arrays = self._arrays
                for i in reversed(range(len(arrays))):
                    if id(arrays[i]) not in handed and self._free(i):
                        del arrays[i]

    def empty(self, shape: tuple[int, ...]) -> np.ndarray:
        """A writable float32 array of `shape` (its values are left over: write them all)."""
        shape = tuple(int(n) for n in shape)
        if not getattr(self._local, "on", False) or 4 * math.prod(shape) < self.min_bytes:
            return np.empty(shape, np.float32)
        with self._lock:
            arrays = self._arrays
            for i in range(len(arrays)):
                if arrays[i].shape == shape and self._free(i):
                    arr = arrays.pop(i)
                    break
            else:
                arr = np.empty(shape, np.float32)
                total = arr.nbytes + sum(a.nbytes for a in arrays)
                while arrays and total > self.max_bytes:
                    total -= arrays.pop(0).nbytes  # in use, it is freed by its holder
            arr.setflags(write=True)  # its last holder may have marked it read-only
            arrays.append(arr)  # the most recently used last
            self._local.handed.add(id(arr))
            return arr.view()


def _references(arrays: list[np.ndarray], i: int) -> int:
    return sys.getrefcount(arrays[i])


#: The engine's recycler of large maps (see :class:`Recycler`), with room for the maps
#: of a comparison of two 12-megapixel runs: the one shown and the one being made.
RECYCLER = Recycler(max_bytes=1 << 30, min_bytes=1 << 22)


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine-bands")


def side_by_side(here: Callable[[], A], there: Callable[[], B]) -> tuple[A, B]:
    """Run `there` on the engine's helper thread while `here` runs on this one; return
    both results (an exception of either is raised here, after both ended).

    Worth it for calls that release the GIL (OpenCV, numpy on large arrays). There is one
    helper thread: `there` must not call this function itself (it would wait for its own
    thread); callers on several threads take turns on the helper.

    Examples
    --------
    >>> side_by_side(lambda: 1, lambda: 2)
    (1, 2)
    """
    future = _pool().submit(there)
    try:
        first = here()
    finally:
        second = future.result()
    return first, second


def flip_into(src: np.ndarray, axis: int, dst: np.ndarray) -> np.ndarray:
    """Write `src` mirrored along `axis` (1: left-right, 0: up-down; the values of
    ``np.flip``) into `dst`, a large map in two halves side by side; return `dst`.

    `src` is float32 with contiguous rows (it may be a view with padded rows); `dst` is
    C-contiguous of the same shape.

    >>> flip_into(np.eye(2, 3, dtype=np.float32), 1, np.empty((2, 3), np.float32)).tolist()
    [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    rows = src.shape[0]
    half = rows // 2
    if src.size < PARALLEL_CELLS or half == 0:
        return cv2.flip(src, axis, dst=dst)
    # output rows [0, half) and [half, rows) read the input rows they come from
    top = src[:half] if axis else src[rows - half:]
    bottom = src[half:] if axis else src[:rows - half]
    side_by_side(lambda: cv2.flip(top, axis, dst=dst[:half]),
                 lambda: cv2.flip(bottom, axis, dst=dst[half:]))
    return dst


def band_rows(width: int, size: int, levels: int) -> tuple[int, int]:
    """Return ``(rows, levels)``: the rows of a band of a map `width` floats wide, a
    multiple of ``size ** levels``, and how many pooling levels run inside the bands."""
    budget = max(1, BAND_BYTES // (4 * width))
    unit, inside = 1, 0
    while inside < min(levels, BAND_LEVELS) and unit * size <= max(budget, size):
        unit *= size
        inside += 1
    return unit * max(1, budget // unit), inside


def conv_pool_bands(x: np.ndarray, k: np.ndarray, padding: str, activation: str, mode: str,
                    size: int, levels: int, *, copy_input: bool,
                    scratch: dict | None = None, row_maxima: bool = True) -> BandedRun:
    """Convolve validated `x` with `k` (stride 1), activate, and pool `levels` times with
    window and stride `size` ("max" or "avg"); the caller has checked that every level fits.

    Without `row_maxima` the row maxima and minima are not taken (their arrays hold
    garbage).
    With a `scratch` dict, the maps are written into the arrays it holds from an earlier
    call with the same shapes (new ones are stored there): a caller that runs many inputs
    one after the other and is done with each result before the next saves the time the
    system takes to hand out fresh memory.

    Returns
    -------
    BandedRun
        With `input_copy` a copy of `x` made band by band on the way when `copy_input`
        (valid padding only; None otherwise), and the row maxima and minima of the input
        and of the convolution taken while their bands were in the cache.
    """
    kh, kw = k.shape
    top, bottom, left, right = padding_amounts(k.shape, padding)
    # The filter reads `x` itself, not the copy: a band reads rows of the next half.
    copy = RECYCLER.empty(x.shape) if copy_input and padding == "valid" else None
    src = x
    if padding != "valid":
        src = cv2.copyMakeBorder(x, top, bottom, left, right, BORDER_TYPES[padding], value=0.0)
    hp, wp = src.shape
    oh, ow = hp - kh + 1, wp - kw + 1

    def buffer(key: str, shape: tuple[int, ...]) -> np.ndarray:
        if scratch is None:
            return RECYCLER.empty(shape)
        arr = scratch.get(key)
        if arr is None or arr.shape != shape:
            arr = scratch[key] = np.empty(shape, np.float32)
        arr.setflags(write=True)  # the last result marked it read-only
        return arr

    full = buffer("conv", (hp, wp))
    conv = full[:oh, :ow]
    shapes = [(oh, ow)]
    for _ in range(levels):
        shapes.append(pooled_shape(shapes[-1], size, size))
    pools = [buffer(f"pool {level}", shape) for level, shape in enumerate(shapes[1:], 1)]
    input_max = buffer("input row max", (x.shape[0],))
    input_min = buffer("input row min", (x.shape[0],))
    conv_max = buffer("conv row max", (oh,))
    conv_min = buffer("conv row min", (oh,))
    rows, inside = band_rows(wp, size, levels)

    def run_bands(start: int, stop: int) -> None:
        """Bands of conv rows [start, stop). With valid padding, also copy and measure the
        input rows from `start` up to the next half's first (the last half: to the end)."""
        if copy is not None:  # one large copy streams past the cache; bands would not
            copy[start:stop if stop < oh else hp] = x[start:stop if stop < oh else hp]
        for r0 in range(start, stop, rows):
            r1 = min(r0 + rows, stop)
            end = r1 + kh - 1  # the padded input rows this band reads
            if padding == "valid" and row_maxima:
                mine = slice(r0, end if r1 == oh else r1)
                np.max(x[mine], axis=1, out=input_max[mine])
                np.min(x[mine], axis=1, out=input_min[mine])
            # Anchor (0, 0): out[i, j] = sum k[a, b] * src[i + a, j + b]. The last kh - 1
            # rows of the band read OpenCV's border; the next band writes them again, or,
            # at the end of a half, the junk goes to a scratch band so that it cannot land
            # on rows the other half has written.
            if end > stop < oh:
                scratch = cv2.filter2D(src[r0:end], cv2.CV_32F, k, anchor=(0, 0),
                                       borderType=cv2.BORDER_CONSTANT)
                full[r0:r1] = scratch[:r1 - r0]
            else:
                cv2.filter2D(src[r0:end], cv2.CV_32F, k, dst=full[r0:end], anchor=(0, 0),
                             borderType=cv2.BORDER_CONSTANT)
            activate_owned(full[r0:r1], activation)
            current = conv[r0:r1]
            if row_maxima:
                np.max(current, axis=1, out=conv_max[r0:r1])
                np.min(current, axis=1, out=conv_min[r0:r1])
            step = 1
            for level in range(inside):
                step *= size
                first, last = r0 // step, r1 // step
                if last <= first:
                    break
                current = window_pool_into(current, size, mode, pools[level][first:last])

    # Two halves on two threads (OpenCV and numpy release the GIL); the second starts
    # at a band boundary, and neither reads what the other writes.
    half = rows * (oh // (2 * rows))
    if half == 0 or oh * wp < PARALLEL_CELLS:
        run_bands(0, oh)
    else:
        side_by_side(lambda: run_bands(0, half), lambda: run_bands(half, oh))
    if padding != "valid" and row_maxima:
        np.max(x, axis=1, out=input_max)
        np.min(x, axis=1, out=input_min)
    for level in range(inside, levels):
        window_pool_into(pools[level - 1] if level else conv, size, mode, pools[level])
    return BandedRun(copy, conv, pools, input_max, conv_max, input_min, conv_min)


@dataclass(frozen=True)
class BandedRun:
    """What :func:`conv_pool_bands` computed."""

    input_copy: np.ndarray | None
    conv: np.ndarray
    pools: list[np.ndarray]
    input_row_max: np.ndarray
    conv_row_max: np.ndarray
    input_row_min: np.ndarray
    conv_row_min: np.ndarray
