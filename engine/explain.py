"""The arithmetic behind one cell of a pipeline stage: which cells of the previous stage it
reads, with which weights, and how they combine into the value the stage holds.

:func:`explain_cell` reads a :class:`~engine.pipeline.PipelineResult`; nothing is run again.
:meth:`CellExplanation.recompute` combines ``inputs`` and ``weights`` in the order and the
float32 rounding the engine used, so it returns the stage's value bit for bit.

What "exactly" takes
--------------------
Maxima, APS phases and average pools are plain numpy float32 arithmetic and are repeated
in the engine's order (an average sums each window column first, then the column sums, then
multiplies by ``float32(1 / size**2)``). Convolutions and blurs are ``cv2.filter2D`` in
float32; OpenCV adds the products of the kernel's non-zero taps in row-major order, but
the columns it handles in SIMD blocks (8 floats with AVX2) use fused multiply-adds (one
rounding per tap) and the leftover columns at the right end of the padded map a plain
multiply then add (two roundings per tap). Which of the two a cell got is recorded in
``accumulation``; the two differ in the last bits for about half of all cells, so neither
alone reproduces a stage. The block width is that of x86-64 with AVX2 (the machine the
tests run on); on a CPU where OpenCV dispatches to another width, ``recompute`` may differ
from the stage in the last bit of a few right-edge cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .conv import BORDER_TYPES, padding_amounts
from .pipeline import PipelineResult
from .pool import blur_kernel

__all__ = ["OPERATIONS", "CellExplanation", "ExplainError", "explain_cell"]

#: What a cell can be: the input itself, a convolution (cross-correlation) or a pooling mode.
OPERATIONS = ("input", "correlate", "max", "avg", "blurmax", "blur", "aps")
#: Floats per SIMD block in OpenCV's float32 filter (AVX2); see the module notes.
SIMD_LANES = 8



class ExplainError(ValueError):
    """A stage or cell that :func:`explain_cell` cannot explain; the message says why and
    what to ask for instead."""


@dataclass(frozen=True, eq=False)
class CellExplanation:
    """How cell (`row`, `col`) of stage `stage` got its `value`.

    Attributes
    ----------
    stage : str
        The stage's name as the result holds it (``"conv"``, ``"pool 2"``).
    row, col : int
    value : numpy.float32
        The value the stage holds (read, not recomputed).
    operation : str
        One of :data:`OPERATIONS`.
    inputs : (h, w) float32 array
        The values combined, shaped like the window or patch. ``"correlate"``: the padded
        input patch under the kernel. ``"max"``, ``"avg"``: the pooling window.
        ``"aps"``: the 2x2 window holding the four phases of this cell. ``"blur"``: the
        blur window (reflect-padded). ``"blurmax"``: the stride-1 maxima under the blur
        window; each is the maximum of a ``pool_size`` window of the previous stage (see
        `maxima_at`). ``"input"``: the value itself, 1x1.
    positions : (h, w, 2) int array
        Where each input comes from, as (row, col) in `source` (for ``"blurmax"``, in the
        stride-1 max map, whose cell (r, c) is the maximum of the previous stage's window
        with top-left corner (r, c)). A padded cell whose value is a copy (circular,
        reflect, replicate) gives the cell copied; a zero-padded cell gives (-1, -1).
    padded : (h, w) bool array
        True where the patch lies outside the map it reads (padding).
    weights : (h, w) float32 array or None
        The kernel (``"correlate"``) or the normalised binomial blur (``"blur"``,
        ``"blurmax"``); None otherwise.
    winner : (int, int) or None
        ``"max"`` and ``"aps"``: the (row, col) in `source` of the value kept (the first
        in row-major order among equal maxima).
    tie : bool
        ``"max"``: another window cell equals the winner. ``"aps"``: another phase had the
        same largest norm (the first was kept).
    source : str or None
        The stage the inputs come from (None for the input).
    activation : str or None
        ``"correlate"``: the activation applied to the sum (``"relu"``, ``"abs"``, ``"none"``).
    total : numpy.float32 or None
        ``"correlate"``: the sum of products before the activation.
    accumulation : str or None
        ``"correlate"``, ``"blur"``, ``"blurmax"``: ``"fused"`` (one rounding per tap) or
        ``"plain"`` (product rounded, then sum rounded), as OpenCV added this cell.
    maxima_at : (h, w, 2) int array or None
        ``"blurmax"``: the (row, col) in `source` of each input's maximum.
    phase : (int, int) or None
        ``"aps"``: the phase (i, j) kept for the whole stage, ``x[i::2, j::2]``.
    phase_norms : tuple of 4 floats or None
        ``"aps"``: the squared L2 norms of phases (0, 0), (0, 1), (1, 0), (1, 1).
    """

    stage: str
    row: int
    col: int
    value: np.float32
    operation: str
    inputs: np.ndarray
    positions: np.ndarray
    padded: np.ndarray
    weights: np.ndarray | None = None
    winner: tuple[int, int] | None = None
    tie: bool = False
    source: str | None = None
    activation: str | None = None
    total: np.float32 | None = None
    accumulation: str | None = None
    maxima_at: np.ndarray | None = None
    phase: tuple[int, int] | None = None
    phase_norms: tuple[float, float, float, float] | None = None

    @property
    def products(self) -> np.ndarray | None:
        """``weights * inputs`` in float32 (each product rounded once), or None without
        weights. A fused sum does not round them, so their float32 sum may differ from
        `total` in the last bits."""
        return None if self.weights is None else self.weights * self.inputs

    def recompute(self) -> np.float32:
        """Combine `inputs` (and `weights`) as the engine did; equals `value` bit for bit
        (see the module notes for the one machine-dependent case)."""
        op = self.operation
        if op == "input":
            return np.float32(self.inputs[0, 0])
        if op == "max":
            return np.float32(self.inputs.max())
        if op == "aps":
            return np.float32(self.inputs[self.phase])
        if op == "avg":
            size = self.inputs.shape[0]
            columns = self.inputs[0].copy()
            for r in range(1, size):
                columns = columns + self.inputs[r]
            total = columns[0]
            for c in range(1, size):
                total = np.float32(total + columns[c])
            return np.float32(total * np.float32(1.0 / (size * size)))
        total = weighted_sum(self.inputs, self.weights, self.accumulation == "fused")
        if op == "correlate":
            return activate_value(total, self.activation)
        return total


def activate_value(x: np.float32, activation: str | None) -> np.float32:
    """One value through the engine's activation (ReLU keeps x > 0, else +0)."""
    if activation == "relu":
        return x if x > 0 else np.float32(0.0)
    if activation == "abs":
        return np.float32(abs(x))
    return x


def weighted_sum(inputs: np.ndarray, weights: np.ndarray, fused: bool) -> np.float32:
    """Sum ``weights * inputs`` over the non-zero weights in row-major order in float32,
    as OpenCV's filter does: with a fused multiply-add per tap when `fused`, else each
    product rounded and then added.

    Examples
    --------
    >>> x = np.float32([[1 + 2**-22, 1 + 2**-23]]); w = np.float32([[-1, 1 + 2**-23]])
    >>> float(weighted_sum(x, w, fused=True)), float(weighted_sum(x, w, fused=False))
    (1.4210854715202004e-14, 0.0)
    """
    total = 0.0
    for w, x in zip(weights.ravel().tolist(), inputs.ravel().tolist(), strict=True):
        if w == 0.0:
            continue
        if fused:
            total = _fma32(w, x, total)
        else:
            total = float(np.float32(total + float(np.float32(w * x))))
    return np.float32(total)


def _fma32(a: float, b: float, c: float) -> float:
    """``a * b + c`` rounded once to float32, for float32 a, b, c (held as Python floats).

    The product is exact in double; the double sum is rounded, but its error is known
    exactly (two-sum) and only matters when the double sum lies on a float32 midpoint.
    """
    p = a * b
    s = p + c
    bp = s - p
    err = (p - (s - bp)) + (c - bp)
    r = float(np.float32(s))
    if err == 0.0 or r == s:
        return r
    other = float(np.nextafter(np.float32(r), np.float32(np.inf if s > r else -np.inf)))
    if (r + other) / 2 != s:
        return r
    return max(r, other) if err > 0 else min(r, other)


def _fused(col: int, padded_width: int) -> bool:
    """Whether OpenCV's filter handled full-resolution column `col` of a map
    `padded_width` wide in its SIMD body (fused multiply-add) or in the leftover loop."""
    return col < padded_width - padded_width % SIMD_LANES


def _axis(start: int, count: int, length: int, border: int) -> tuple[list[int], list[bool]]:
    """Source indices of `count` cells from padded index `start` of an axis of `length`
    (-1 where the border is a constant), and which of them are padding."""
    indices = range(start, start + count)
    return ([p if 0 <= p < length else cv2.borderInterpolate(p, length, border)
             for p in indices], [not 0 <= p < length for p in indices])


def _gather(x: np.ndarray, rows: tuple[list[int], list[bool]],
            cols: tuple[list[int], list[bool]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values, positions and padded-mask of the patch at `rows` x `cols` (from
    :func:`_axis`) of `x`; a -1 index reads zero and has position (-1, -1)."""
    r = np.array(rows[0])[:, None].repeat(len(cols[0]), 1)
    c = np.array(cols[0])[None, :].repeat(len(rows[0]), 0)
    zero = (r < 0) | (c < 0)
    values = np.where(zero, np.float32(0.0), x[np.maximum(r, 0), np.maximum(c, 0)])
    positions = np.stack([np.where(zero, -1, r), np.where(zero, -1, c)], axis=-1)
    padded = np.array(rows[1])[:, None] | np.array(cols[1])[None, :]
    return values.astype(np.float32), positions, padded


def explain_cell(result: PipelineResult, stage: str, row: int, col: int) -> CellExplanation:
    """Explain how cell (`row`, `col`) of stage `stage` of `result` got its value.

    Parameters
    ----------
    result : PipelineResult
        A run of :func:`engine.run_pipeline` (read only).
    stage : str
        The stage's name as the result holds it: ``"input"``, ``"conv"``, ``"pool 1"`` ...
    row, col : int
        The cell, inside the stage.

    Returns
    -------
    CellExplanation
        Its inputs, their positions in the previous stage, the weights, the winner (max,
        APS) and the value; ``recompute()`` gives the value again from them.

    Raises
    ------
    ExplainError
        If `result` has no stage `stage` or the cell lies outside it.

    Examples
    --------
    >>> from engine import PipelineSpec, run_pipeline
    >>> img = np.zeros((10, 10)); img[2, 2] = 1
    >>> r = run_pipeline(img, PipelineSpec(convolve=False, levels=2))
    >>> e = explain_cell(r, "pool 1", 1, 1)
    >>> e.operation, e.inputs.tolist(), e.winner, float(e.value)
    ('max', [[1.0, 0.0], [0.0, 0.0]], (2, 2), 1.0)
    >>> e.positions[0, 0].tolist(), bool(e.recompute() == e.value)
    ([2, 2], True)
    """
    if not isinstance(result, PipelineResult):
        raise ExplainError(f"result must be a PipelineResult (from engine.run_pipeline); "
                           f"got {type(result).__name__}.")
    names = result.names
    if stage not in names:
        raise ExplainError(f"no stage {stage!r} in this result; ask for one of {names}.")
    index = names.index(stage)
    array = result.stages[index].array
    if isinstance(row, bool) or isinstance(col, bool) or not (
            isinstance(row, (int, np.integer)) and isinstance(col, (int, np.integer))
            and 0 <= row < array.shape[0] and 0 <= col < array.shape[1]):
        raise ExplainError(f"cell ({row!r}, {col!r}) is outside stage {stage!r} of shape "
                           f"{array.shape}; give 0 <= row < {array.shape[0]} and "
                           f"0 <= col < {array.shape[1]}.")
    row, col = int(row), int(col)
    value = np.float32(array[row, col])
    if index == 0:
        return CellExplanation(stage, row, col, value, "input", np.float32([[value]]),
                               np.array([[[row, col]]]), np.zeros((1, 1), bool))
    source = result.stages[index - 1]
    x = source.array
    spec = result.spec
    common = dict(stage=stage, row=row, col=col, value=value, source=source.name)
    if stage == "conv":
        k = spec.kernel_array
        top, bottom, left, right = padding_amounts(k.shape, spec.padding)
        border = BORDER_TYPES.get(spec.padding, cv2.BORDER_CONSTANT)  # valid: no padding
        s = spec.stride
        rows = _axis(row * s - top, k.shape[0], x.shape[0], border)
        cols = _axis(col * s - left, k.shape[1], x.shape[1], border)
        inputs, positions, outside = _gather(x, rows, cols)
        fused = _fused(col * s, x.shape[1] + left + right)
        total = weighted_sum(inputs, k, fused)
        return CellExplanation(**common, operation="correlate", inputs=inputs,
                               positions=positions, padded=outside, weights=k,
                               activation=spec.activation, total=total,
                               accumulation="fused" if fused else "plain")
    mode, size, s = spec.pool_mode, spec.pool_size, spec.effective_pool_stride
    if mode in ("max", "avg"):
        rows, cols = (_axis(i * s, size, n, cv2.BORDER_CONSTANT)
                      for i, n in ((row, x.shape[0]), (col, x.shape[1])))
        inputs, positions, outside = _gather(x, rows, cols)
        if mode == "avg":
            return CellExplanation(**common, operation="avg", inputs=inputs,
                                   positions=positions, padded=outside)
        win = np.unravel_index(int(np.argmax(inputs)), inputs.shape)
        return CellExplanation(**common, operation="max", inputs=inputs, positions=positions,
                               padded=outside, winner=tuple(int(v) for v in positions[win]),
                               tie=int((inputs == inputs.max()).sum()) > 1)
    if mode == "aps":
        return _explain_aps(x, common)
    return _explain_blur(x, mode, size, s, spec.blur_size, common)


def _explain_aps(x: np.ndarray, common: dict) -> CellExplanation:
    h, w = x.shape
    padded_x = np.pad(x, ((0, h % 2), (0, w % 2)), mode="wrap") if h % 2 or w % 2 else x
    norms = tuple(cv2.norm(np.ascontiguousarray(padded_x[i::2, j::2]), cv2.NORM_L2SQR)
                  for i in (0, 1) for j in (0, 1))
    best = int(np.argmax(norms))
    phase = divmod(best, 2)
    row, col = common["row"], common["col"]
    # one row or column of circular padding after an odd side
    rows, cols = _axis(2 * row, 2, h, cv2.BORDER_WRAP), _axis(2 * col, 2, w, cv2.BORDER_WRAP)
    inputs, positions, outside = _gather(x, rows, cols)
    return CellExplanation(**common, operation="aps", inputs=inputs, positions=positions,
                           padded=outside, winner=tuple(int(v) for v in positions[phase]),
                           tie=norms.count(norms[best]) > 1, phase=phase, phase_norms=norms)


def _explain_blur(x: np.ndarray, mode: str, size: int, stride: int, taps: int,
                  common: dict) -> CellExplanation:
    k = blur_kernel(taps)
    before = (taps - 1) // 2
    # blurmax blurs the stride-1 max map M, M[r, c] = max of x[r:r+size, c:c+size]
    mh, mw = (x.shape[0] - size + 1, x.shape[1] - size + 1) if mode == "blurmax" else x.shape
    border = cv2.BORDER_REFLECT_101
    rows, row_pad = _axis(common["row"] * stride - before, taps, mh, border)
    cols, col_pad = _axis(common["col"] * stride - before, taps, mw, border)
    r = np.array(rows)[:, None].repeat(taps, 1)
    c = np.array(cols)[None, :].repeat(taps, 0)
    positions = np.stack([r, c], axis=-1)
    outside = np.array(row_pad)[:, None] | np.array(col_pad)[None, :]
    fused = _fused(common["col"] * stride, mw + taps - 1)
    accumulation = "fused" if fused else "plain"
    if mode == "blur":
        return CellExplanation(**common, operation="blur", inputs=x[r, c].astype(np.float32),
                               positions=positions, padded=outside, weights=k,
                               accumulation=accumulation)
    inputs = np.empty((taps, taps), np.float32)
    maxima_at = np.empty((taps, taps, 2), int)
    for i in range(taps):
        for j in range(taps):
            window = x[rows[i]:rows[i] + size, cols[j]:cols[j] + size]
            a, b = np.unravel_index(int(np.argmax(window)), window.shape)
            inputs[i, j] = window[a, b]
            maxima_at[i, j] = (rows[i] + a, cols[j] + b)
    return CellExplanation(**common, operation="blurmax", inputs=inputs, positions=positions,
                           padded=outside, weights=k, accumulation=accumulation,
                           maxima_at=maxima_at)
