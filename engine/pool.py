"""Pooling: max, average, the anti-aliased MaxBlurPool / BlurPool (Zhang 2019) and adaptive
polyphase sampling (APS; Chaman & Dokmanic 2021)."""

from __future__ import annotations

import cv2
import numpy as np

from ._checks import as_image, choice, positive_int

POOL_MODES = ("max", "avg", "blurmax", "blur", "aps")


def binomial_taps(n: int) -> np.ndarray:
    """Return the `n` binomial taps (row n-1 of Pascal's triangle) as float64.

    Examples
    --------
    >>> binomial_taps(4).tolist()
    [1.0, 3.0, 3.0, 1.0]
    """
    n = positive_int(n, "blur_size")
    taps = np.array([1.0])
    for _ in range(n - 1):
        taps = np.convolve(taps, [1.0, 1.0])
    return taps


def blur_kernel(n: int) -> np.ndarray:
    """Return the n x n binomial blur (outer product of taps), normalised to sum 1, float32."""
    taps = binomial_taps(n)
    return (np.outer(taps, taps) / taps.sum() ** 2).astype(np.float32)


def pool_layers(size: int, stride: int, mode: str, blur_size: int,
                length: int = 0) -> list[tuple[int, int, int, int, str]]:
    """Return the sliding-window layers of one pooling step along an axis of `length` cells as
    ``(window, stride, pad_before, pad_after, border)`` (see ``engine.geometry``).

    Plain max/avg pooling is one layer; MaxBlurPool is a stride-1 max followed by a
    strided blur with reflect padding; BlurPool is the strided blur alone. An APS cell
    is one pixel at one of the four phases of a 2x2 window, chosen from the data: its
    layer is that whole 2x2 window (the union of the phases, a conservative receptive
    field), with one row or column of circular padding after an odd `length`.
    """
    if mode == "aps":
        return [(2, 2, 0, length % 2, "circular")]
    before = (blur_size - 1) // 2
    blur = (blur_size, stride, before, blur_size - 1 - before, "reflect")
    if mode == "blurmax":
        return [(size, 1, 0, 0, "zero"), blur]
    if mode == "blur":
        return [blur]
    return [(size, stride, 0, 0, "zero")]


def pool2d(x: np.ndarray, *, size: int = 2, stride: int | None = None, mode: str = "max",
           blur_size: int = 4) -> np.ndarray:
    """Pool `x` like ``torch.nn.functional.max_pool2d`` / ``avg_pool2d`` (no padding, floor mode).

    Parameters
    ----------
    x : (H, W) array
        Input; not modified.
    size : int
        Window size, >= 1.
    stride : int, optional
        Step between windows; defaults to `size`.
    mode : {"max", "avg", "blurmax", "blur", "aps"}
        "blurmax" is MaxBlurPool (max over `size` with stride 1, then a binomial
        blur of `blur_size` taps with stride `stride` and reflect padding);
        "blur" is BlurPool alone (the anti-aliased average). "aps" is adaptive
        polyphase sampling (size and stride 2 only): an odd side is first padded by
        one row or column circularly (bottom, right), then of the four polyphase
        components ``x[i::2, j::2]``, in the order (0, 0), (0, 1), (1, 0), (1, 1), the
        one with the largest L2 norm is kept (on a tie, the first). A circular shift of
        an even-sided `x` only permutes the components, so the output is a circular
        shift of the unshifted output (unless norms tie).
    blur_size : int
        Taps of the binomial blur for "blurmax" and "blur".

    Returns
    -------
    float32 array of shape ``((H - size) // stride + 1, (W - size) // stride + 1)``
        for max/avg; remainder rows and columns are dropped. ``(ceil(H / 2), ceil(W / 2))``
        for aps.

    Raises
    ------
    ValueError
        For a bad image, unknown mode, size/stride/blur_size below 1, a window
        larger than the input, or aps with a size or stride other than 2.

    Examples
    --------
    >>> pool2d(np.arange(16.0).reshape(4, 4)).tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    >>> pool2d(np.array([[0, 1, 0, 2], [0, 0, 0, 0]]), mode="aps").tolist()  # phase (0, 1)
    [[1.0, 2.0]]
    """
    x = as_image(x)
    size = positive_int(size, "size")
    stride = positive_int(size if stride is None else stride, "stride")
    mode = choice(mode, "mode", POOL_MODES)
    blur_size = positive_int(blur_size, "blur_size")
    check_aps(mode, size, stride)
    check_pool_fits(x.shape, size, stride, mode, blur_size)
    return pool2d_unchecked(x, size, stride, mode, blur_size)


def check_aps(mode: str, size: int, stride: int | None) -> None:
    """Raise ValueError if `mode` is "aps" with a size or stride other than 2."""
    if mode == "aps" and (size != 2 or stride not in (None, 2)):
        raise ValueError(f"aps pooling keeps one of the four phases of a stride-2 grid: use "
                         f"size 2 and stride 2 (got size {size}, stride {stride or size}).")


def check_pool_fits(shape: tuple[int, int], size: int, stride: int, mode: str,
                    blur_size: int) -> None:
    """Raise ValueError if one pooling step would leave no rows or columns."""
    reason = pool_stop_reason(shape, size, stride, mode, blur_size)
    if reason:
        raise ValueError(reason + "; use a smaller size or a larger input.")


def pool_stop_reason(shape: tuple[int, int], size: int, stride: int, mode: str,
                     blur_size: int) -> str | None:
    """Return why a pooling step cannot run on `shape`, or None when it can."""
    h, w = shape
    if mode != "blur" and (h < size or w < size):
        return f"input {shape} is smaller than the pooling window {size}x{size}"
    if mode in ("blurmax", "blur"):
        bh, bw = (h, w) if mode == "blur" else (h - size + 1, w - size + 1)
        pad = blur_size - 1 - (blur_size - 1) // 2
        if pad >= min(bh, bw):
            return (f"input {shape} is too small for the reflect padding ({pad}) "
                    f"of a {blur_size}-tap blur")
    return None


def pool2d_unchecked(x: np.ndarray, size: int, stride: int, mode: str,
                     blur_size: int) -> np.ndarray:
    """pool2d for already validated arguments (the pipeline's hot path)."""
    if mode == "max":
        return _window_reduce(x, size, stride, np.maximum)
    if mode == "avg":
        out = _window_reduce(x, size, stride, np.add)
        out *= np.float32(1.0 / (size * size))
        return out
    if mode == "aps":
        return _aps(x)
    if mode == "blurmax":
        x = _window_reduce(x, size, 1, np.maximum)
    return _blur(x, blur_size, stride)


def pooled_shape(shape: tuple[int, int], size: int, stride: int) -> tuple[int, int]:
    """The shape max or average pooling (window `size`, step `stride`) gives `shape`."""
    return (shape[0] - size) // stride + 1, (shape[1] - size) // stride + 1


def _aps(x: np.ndarray) -> np.ndarray:
    return aps_with_tie(x)[0]


def aps_with_tie(x: np.ndarray) -> tuple[np.ndarray, bool]:
    """Adaptive polyphase sampling of stride 2 (see :func:`pool2d`) of a validated image.

    Returns the kept phase and whether another phase had the same (largest) norm: then
    the choice is the first by order, and a shift of the input can choose differently, so
    the output need not be a shift of the unshifted output. Norms are summed in double
    precision by OpenCV; an exact circular shift gives the components the same norms up to
    the rounding of the sum's order.

    Examples
    --------
    >>> aps_with_tie(np.float32([[1, 0], [0, 1]]))  # (0, 0) and (1, 1) tie
    (array([[1.]], dtype=float32), True)
    """
    h, w = x.shape
    if h % 2 or w % 2:
        x = np.pad(x, ((0, h % 2), (0, w % 2)), mode="wrap")
    phases = [np.ascontiguousarray(x[i::2, j::2]) for i in (0, 1) for j in (0, 1)]
    norms = [cv2.norm(phase, cv2.NORM_L2SQR) for phase in phases]
    best = int(np.argmax(norms))  # the first of equal largest norms
    return phases[best], norms.count(norms[best]) > 1


def _window_reduce(x: np.ndarray, size: int, stride: int, op: np.ufunc,
                   out: np.ndarray | None = None) -> np.ndarray:
    """Reduce every size x size window (step `stride`) with `op`, rows first, then columns.

    Each pass combines strided slices with a ufunc: the row pass reads whole rows, which
    streams through memory, and leaves the column pass a smaller array. A reshape-based
    reduction is an order of magnitude slower for large images. Returns `out` when given
    (it must have the result's shape), else a new array.
    """
    oh = (x.shape[0] - size) // stride + 1
    ow = (x.shape[1] - size) // stride + 1
    span_r, span_c = (oh - 1) * stride + 1, (ow - 1) * stride + 1
    rows = _reduce_phases([x[i:i + span_r:stride] for i in range(size)], op)
    return _reduce_phases([rows[:, j:j + span_c:stride] for j in range(size)], op, out)


def _reduce_phases(phases: list[np.ndarray], op: np.ufunc,
                   out: np.ndarray | None = None) -> np.ndarray:
    """Combine equally shaped slices with `op` into `out`, or a new C-contiguous float32
    array."""
    if len(phases) == 1:
        if out is None:
            return np.array(phases[0], dtype=np.float32, order="C")
        out[...] = phases[0]
        return out
    if out is None:
        out = op(phases[0], phases[1], dtype=np.float32, order="C")  # new: one pass, not two
    else:
        op(phases[0], phases[1], out=out)
    for phase in phases[2:]:
        op(out, phase, out=out)
    return out


def window_pool_into(x: np.ndarray, size: int, mode: str, out: np.ndarray) -> np.ndarray:
    """Max or average pooling of `x` with window and stride `size` written into `out`,
    with the arithmetic of :func:`pool2d` (the same values bit for bit); returns `out`.

    Pooling a band of rows that starts at a multiple of `size` gives exactly the rows of
    the whole map's pooling that the band covers, which lets a caller pool in tiles.
    """
    if mode == "max":
        return _window_reduce(x, size, size, np.maximum, out)
    _window_reduce(x, size, size, np.add, out)
    out *= np.float32(1.0 / (size * size))
    return out


def _blur(x: np.ndarray, blur_size: int, stride: int) -> np.ndarray:
    """Binomial blur with reflect padding ((k-1)//2 before, rest after), sampled with `stride`."""
    k = blur_kernel(blur_size)
    before = (blur_size - 1) // 2
    after = blur_size - 1 - before
    if blur_size > 1:
        x = cv2.copyMakeBorder(x, before, after, before, after, cv2.BORDER_REFLECT_101)
    oh, ow = x.shape[0] - blur_size + 1, x.shape[1] - blur_size + 1
    full = cv2.filter2D(x, cv2.CV_32F, k, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    return np.ascontiguousarray(full[:oh:stride, :ow:stride])


def pool_pyramid(x: np.ndarray, levels: int, *, size: int = 2, stride: int | None = None,
                 mode: str = "max", blur_size: int = 4) -> list[np.ndarray]:
    """Pool `x` repeatedly: ``[x, p1, ..., p_levels]``.

    Stops early (a shorter list) when the next level would have no rows or columns.
    The first element is a float32 copy of `x`.

    Raises
    ------
    ValueError
        For a bad image, levels below 0 or any invalid pooling argument.

    Examples
    --------
    >>> [p.shape for p in pool_pyramid(np.zeros((10, 10)), 6)]
    [(10, 10), (5, 5), (2, 2), (1, 1)]
    """
    x = as_image(x)
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 0:
        raise ValueError(f"levels must be an integer >= 0; got {levels!r}.")
    size = positive_int(size, "size")
    stride = positive_int(size if stride is None else stride, "stride")
    mode = choice(mode, "mode", POOL_MODES)
    blur_size = positive_int(blur_size, "blur_size")
    check_aps(mode, size, stride)
    out = [x.copy()]
    for _ in range(int(levels)):
        if pool_stop_reason(out[-1].shape, size, stride, mode, blur_size):
            break
        out.append(pool2d_unchecked(out[-1], size, stride, mode, blur_size))
    return out
