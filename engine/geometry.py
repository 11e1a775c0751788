"""How cells of one stage map to cells of another: receptive fields and strides.

Every stage of a pipeline is a stack of sliding-window layers, each described by
``(window, stride, pad_before[, pad_after, border])``. Composing them gives, for a
stage, a :class:`Geometry`: cell ``i`` reads the input span ``[i*stride + offset,
i*stride + offset + extent)`` along each axis (before clipping to the image).

That linear span is exact for zero and replicate padding. Reflect and circular
padding make border cells read pixels outside it (the mirror image, or the far side
of the image), so the exact relations walk the layers one by one
(:func:`cells_read`, :func:`cells_fed`).
"""

from __future__ import annotations

from dataclasses import dataclass

# (window, stride, pad_before[, pad_after, border]); border is one of BORDERS, "zero"
# when left out. A layer is the same on both axes unless given per axis.
Layer = tuple
BORDERS = ("zero", "replicate", "reflect", "circular")


def _full(layer: Layer) -> tuple[int, int, int, int, str]:
    window, stride, before = layer[:3]
    after = layer[3] if len(layer) > 3 else 0
    border = layer[4] if len(layer) > 4 else "zero"
    return window, stride, before, after, border


def _lengths(layers: tuple[Layer, ...], n: int) -> list[int]:
    """Length of the map entering each layer, and of the last output."""
    out = [n]
    for window, stride, before, after, _ in map(_full, layers):
        out.append((out[-1] + before + after - window) // stride + 1)
    return out


def _fold(lo: int, hi: int, n: int, border: str) -> tuple[int, int]:
    """Hull of the real cells (of `n`) that padded positions ``[lo, hi)`` read."""
    if border == "circular":
        return (lo, hi) if lo >= 0 and hi <= n else (0, n)  # a wrapped window: the whole axis
    if border == "reflect":  # position -p reads p, position n-1+p reads n-1-p
        first = max(lo, 0) if hi <= n else min(max(lo, 0), 2 * n - 1 - hi)
        last = min(hi, n) - 1 if lo >= 0 else max(min(hi, n) - 1, -lo)
        return first, last + 1
    return max(lo, 0), min(hi, n)  # zero padding reads nothing; replicate reads the edge cell


def cells_read(layers: tuple[Layer, ...], n: int, lo: int, hi: int,
               down_to: int = 0) -> tuple[int, int]:
    """Half-open range of cells, in the map entering layer `down_to`, that the output
    cells ``[lo, hi)`` of `layers` depend on (`n` is the length of the first map)."""
    lengths = _lengths(layers, n)
    for level in range(len(layers) - 1, down_to - 1, -1):
        window, stride, before, _, border = _full(layers[level])
        lo, hi = _fold(lo * stride - before, (hi - 1) * stride - before + window,
                       lengths[level], border)
        if hi <= lo:
            return lo, lo
    return lo, hi


def cells_fed(layers: tuple[Layer, ...], n: int, lo: int, hi: int,
              start: int = 0) -> tuple[int, int]:
    """Half-open range of output cells of `layers` that depend on cells ``[lo, hi)`` of the
    map entering layer `start` (`n` is the length of the first map)."""
    lengths = _lengths(layers, n)
    for level in range(start, len(layers)):
        window, stride, before, after, border = _full(layers[level])
        m, count = lengths[level], lengths[level + 1]
        targets = [(lo, hi)]  # padded positions holding the cells [lo, hi)
        if border == "reflect":
            targets.append((-(hi - 1), -max(lo, 1) + 1))
            targets.append((2 * m - 1 - min(hi, m - 1), 2 * m - 1 - lo))
        elif border == "circular":
            wraps = max(before, after) // m + 1
            targets += [(lo + q * m, hi + q * m) for q in range(-wraps, wraps + 1) if q]
        ranges = []
        for t0, t1 in targets:
            if t1 <= t0:
                continue
            # cell c reads padded positions [c*stride - before, c*stride - before + window)
            c0 = max(0, (t0 + before - window) // stride + 1)
            c1 = min(count, -(-(t1 + before) // stride))
            if c0 < c1:
                ranges.append((c0, c1))
        if not ranges:
            return 0, 0
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    return lo, hi


@dataclass(frozen=True)
class Axis:
    """One axis of a geometry: cell i reads ``[i*stride + offset, i*stride + offset + extent)``."""

    stride: int = 1
    offset: int = 0
    extent: int = 1

    def then(self, window: int, stride: int, pad_before: int, pad_after: int = 0,
             border: str = "zero") -> Axis:
        """Return the axis after one more sliding-window layer (the unclipped span does
        not depend on `pad_after` or `border`)."""
        return Axis(
            stride=self.stride * stride,
            offset=self.offset - pad_before * self.stride,
            extent=(window - 1) * self.stride + self.extent,
        )


@dataclass(frozen=True)
class Geometry:
    """Where the cells of a stage come from, along rows (``y``) and columns (``x``)."""

    y: Axis = Axis()
    x: Axis = Axis()
    layers_y: tuple[Layer, ...] = ()
    layers_x: tuple[Layer, ...] = ()

    def then(self, layers_y: list[Layer], layers_x: list[Layer]) -> Geometry:
        """Return the geometry after further layers (rows and columns may differ)."""
        y, x = self.y, self.x
        for layer in layers_y:
            y = y.then(*layer)
        for layer in layers_x:
            x = x.then(*layer)
        return Geometry(y, x, self.layers_y + tuple(layers_y), self.layers_x + tuple(layers_x))

    @property
    def stride(self) -> tuple[int, int]:
        """The stride in input pixels, ``(rows, cols)``."""
        return self.y.stride, self.x.stride
