"""How cells of one stage map to cells of another: receptive fields and strides.

Every stage of a pipeline is a stack of sliding-window layers, each described by
``(window, stride, pad_before)``. Composing them gives, for a stage, a
:class:`Geometry`: cell ``i`` reads the input span ``[i*stride + offset,
i*stride + offset + extent)`` along each axis (before clipping to the image).
"""

from __future__ import annotations

from dataclasses import dataclass

Layer = tuple[int, int, int]  # (window, stride, pad_before), the same on both axes


@dataclass(frozen=True)
class Axis:
    """One axis of a geometry: cell i reads ``[i*stride + offset, i*stride + offset + extent)``."""

    stride: int = 1
    offset: int = 0
    extent: int = 1

    def then(self, window: int, stride: int, pad_before: int) -> Axis:
        """Return the axis after one more sliding-window layer."""
        return Axis(
            stride=self.stride * stride,
            offset=self.offset - pad_before * self.stride,
            extent=(window - 1) * self.stride + self.extent,
        )

    def span(self, i: int, limit: int) -> tuple[int, int]:
        """Return the half-open input span read by cell `i`, clipped to ``[0, limit)``."""
        start = i * self.stride + self.offset
        return max(0, start), min(limit, start + self.extent)

    def cells_reading(self, start: int, stop: int, count: int) -> tuple[int, int]:
        """Return the half-open range of cells (of `count`) whose span meets ``[start, stop)``."""
        # cell i meets it when i*s + o < stop and i*s + o + e > start
        lo = -((-(start - self.offset - self.extent + 1)) // self.stride)  # ceil division
        hi = (stop - 1 - self.offset) // self.stride + 1
        return max(0, lo), min(count, hi)


@dataclass(frozen=True)
class Geometry:
    """Where the cells of a stage come from, along rows (``y``) and columns (``x``)."""

    y: Axis = Axis()
    x: Axis = Axis()

    @classmethod
    def of_layers(cls, layers: list[Layer]) -> Geometry:
        """Compose square sliding-window layers, first to last."""
        axis = Axis()
        for layer in layers:
            axis = axis.then(*layer)
        return cls(axis, axis)

    def then(self, layers_y: list[Layer], layers_x: list[Layer]) -> Geometry:
        """Return the geometry after further layers (rows and columns may differ)."""
        y, x = self.y, self.x
        for layer in layers_y:
            y = y.then(*layer)
        for layer in layers_x:
            x = x.then(*layer)
        return Geometry(y, x)

    @property
    def stride(self) -> tuple[int, int]:
        """The stride in input pixels, ``(rows, cols)``."""
        return self.y.stride, self.x.stride
