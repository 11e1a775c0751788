"""The Input panel's pixels: the canvas drawn at the resolution of its screen pixels.

A canvas with many more pixels than its panel is drawn from a copy reduced by whole
blocks: each drawn pixel is the mean of a ``k x k`` block of the canvas
(:func:`engine.display.reduce_to` by area, then :func:`engine.display.to_uint8` over 0..1,
as a small canvas is drawn). Because the blocks are whole, an edit redraws only the blocks
it touched. Zoomed in, the visible part is drawn over it from a finer copy (factors that
halve down to 1, full resolution), the coarsest one the screen can still show. Painting,
hover readouts and exports keep reading the canvas itself, in canvas pixels.

The copies of an opened file are made on the worker with the file
(:meth:`InputPixels.of` in the load job); after any other whole-image change the copy
drawn whole is made at once and finer ones when a zoom first needs them.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QRectF, Qt, QTimer

from engine.display import DRAWN_WHOLE, reduce_to, to_uint8
from gui.panels.pipeline_row import DETAIL_BELOW
from gui.panels.stage_panel import IndexedImageItem

if TYPE_CHECKING:
    from gui.canvas.model import CanvasModel
    from gui.panels.pipeline_row import PipelineRow

Rect = tuple[int, int, int, int]  # top, left, bottom, right (half-open)



def block_factor(shape: tuple[int, int], screen: tuple[int, int]) -> int:
    """The side of the blocks a canvas of `shape` (rows, cols) is reduced by to be drawn in
    `screen` (rows, cols) device pixels: 1 (drawn whole) when it has at most
    :data:`~engine.display.DRAWN_WHOLE` times the screen's pixels, as every other panel,
    else the smallest whole factor that fits it (at most its shorter side).

    >>> block_factor((10, 10), (300, 380)), block_factor((3000, 4000), (300, 380))
    (1, 11)
    """
    rows, cols = shape
    if rows * cols <= DRAWN_WHOLE * screen[0] * screen[1]:
        return 1
    factor = math.ceil(max(rows / max(1, screen[0]), cols / max(1, screen[1])))
    return max(1, min(factor, rows, cols))


def reduced_pixels(image: np.ndarray, factor: int) -> np.ndarray:
    """The uint8 pixels drawing `image` (0..1 as 0..255) reduced by `factor`: each one the
    mean of a ``factor x factor`` block, rows and columns that make no whole block left out
    (fewer than `factor`); `factor` 1 is the image itself.

    >>> reduced_pixels(np.array([[0, 1, 1], [1, 0, 1]], np.float32), 2).tolist()
    [[128]]
    """
    rows, cols = image.shape[0] // factor, image.shape[1] // factor
    whole = image[:rows * factor, :cols * factor]
    return to_uint8(reduce_to(whole, cols, rows, "area"), 0.0, 1.0)


def blocks_of(rect: Rect, factor: int, shape: tuple[int, int]) -> Rect | None:
    """The blocks ``(r0, c0, r1, c1)`` (half-open, in blocks of `factor`) that the canvas
    rectangle `rect` meets on a canvas of `shape`, or None when it meets no whole block."""
    top, left, bottom, right = rect
    rows, cols = shape[0] // factor, shape[1] // factor
    r0, c0 = top // factor, left // factor
    r1, c1 = min(rows, -(-bottom // factor)), min(cols, -(-right // factor))
    return (r0, c0, r1, c1) if r0 < r1 and c0 < c1 else None


def finer_factors(base: int) -> list[int]:
    """The factors of the finer copies under one reduced by `base`, coarsest first: the
    powers of two below it, down to 1.

    >>> finer_factors(11), finer_factors(2), finer_factors(1)
    ([8, 4, 2, 1], [1], [])
    """
    out, k = [], 1
    while k < base:
        out.append(k)
        k *= 2
    return out[::-1]


class InputPixels:
    """The uint8 copies drawing one canvas: :attr:`base` is drawn whole, the finer ones
    (:func:`finer_factors`) under a zoom.

    Parameters
    ----------
    shape : (int, int)
        The canvas' rows and cols.
    base : int
        The factor of the copy drawn whole (1: the canvas at full resolution).
    copies : dict
        Factor to uint8 copy (:func:`reduced_pixels`); at least `base`.
    """

    def __init__(self, shape: tuple[int, int], base: int, copies: dict[int, np.ndarray]) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.base = base
        self.copies = dict(copies)

    @classmethod
    def of(cls, image: np.ndarray, screen: tuple[int, int] | None,
           every: bool = False) -> InputPixels:
        """The copies drawing `image` in `screen` (rows, cols) device pixels (None: drawn
        whole); with `every`, the finer ones too (the load job makes them all off the GUI
        thread)."""
        base = 1 if screen is None else block_factor(image.shape, screen)
        factors = [base, *finer_factors(base)] if every else [base]
        return cls(image.shape, base, {k: reduced_pixels(image, k) for k in factors})

    @property
    def image(self) -> np.ndarray:
        """The copy drawn whole."""
        return self.copies[self.base]

    def copy(self, factor: int, image: np.ndarray) -> np.ndarray:
        """The copy reduced by `factor`, made from `image` (the canvas) if not made yet."""
        if factor not in self.copies:
            self.copies[factor] = reduced_pixels(image, factor)
        return self.copies[factor]

    def update(self, image: np.ndarray, rect: Rect) -> None:
        """Redraw, in every copy, the blocks that the edit of `image` inside `rect` touched."""
        for factor, copy in self.copies.items():
            blocks = blocks_of(rect, factor, self.shape)
            if blocks is not None:
                r0, c0, r1, c1 = blocks
                copy[r0:r1, c0:c1] = reduced_pixels(
                    image[r0 * factor:r1 * factor, c0 * factor:c1 * factor], factor)


class InputDisplay(QObject):
    """Draws a :class:`~gui.canvas.model.CanvasModel` in a row's Input panel: the copy
    drawn whole through :meth:`PipelineRow.show_input`, and, zoomed in, a finer copy of
    the visible part in :attr:`detail` over it.

    Call :meth:`show` on every change of the canvas.

    Attributes
    ----------
    pixels : InputPixels or None
        What is drawn.
    detail : IndexedImageItem
        The visible part from a finer copy (hidden when the copy drawn whole suffices).
    detail_blocks : (int, int, int, int, int) or None
        The factor and the blocks ``(r0, c0, r1, c1)`` the detail shows.
    """

    def __init__(self, model: CanvasModel, row: PipelineRow) -> None:
        super().__init__(row)
        self.model = model
        self.row = row
        self.pixels: InputPixels | None = None
        self.detail = IndexedImageItem()
        self.detail.setZValue(0.5)  # over the canvas, under the outlines and markers
        self.detail.setAcceptedMouseButtons(Qt.MouseButton.NoButton)  # edits go to the canvas
        self.detail.setVisible(False)
        self.detail_blocks: tuple[int, int, int, int, int] | None = None
        view = row.input_panel.view
        view.addItem(self.detail)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh_detail)
        view.sigRangeChanged.connect(lambda *_: self._timer.start())
        view.sigResized.connect(lambda *_: self._timer.start())

    def show(self, rect: Rect | None, prepared: InputPixels | None = None) -> None:
        """Draw the canvas after a change inside `rect` (None: the whole image); `prepared`
        holds copies of the new image made off the GUI thread."""
        image = self.model.image
        pixels = self.pixels
        if rect is None or pixels is None or pixels.shape != image.shape:
            if prepared is not None and prepared.shape == image.shape:
                pixels = prepared
            else:
                pixels = InputPixels.of(image, self.row.panel_pixels())
            self.pixels = pixels
            self.row.show_input(pixels.image, shape=image.shape)
            self.refresh_detail()
        else:
            pixels.update(image, rect)
            self.row.show_input(pixels.image, rect, shape=image.shape)
            self.refresh_detail(rect)

    def wanted_detail(self) -> tuple[int, int, int, int, int] | None:
        """The factor and blocks ``(k, r0, c0, r1, c1)`` of the finer copy the visible part
        needs, or None when the copy drawn whole has at least
        :data:`~gui.panels.pipeline_row.DETAIL_BELOW` (as the stage panels) of the screen's
        pixels there."""
        pixels = self.pixels
        view = self.row.input_panel.view
        if pixels is None or pixels.base == 1 or view.width() <= 0:
            return None
        area = view.viewRect()
        h, w = pixels.shape
        seen = area.intersected(QRectF(0, 0, w, h))
        if seen.isEmpty() or area.width() <= 0:
            return None
        density = view.width() * self.row.graphics.devicePixelRatioF() / area.width()
        need = 1.0 / (DETAIL_BELOW * density)  # the largest factor the screen can take
        if pixels.base <= need:
            return None
        k = max((f for f in finer_factors(pixels.base) if f <= need), default=1)
        r0 = max(0, math.floor(seen.top() / k) - 1)
        c0 = max(0, math.floor(seen.left() / k) - 1)
        r1 = min(h // k, math.ceil(seen.bottom() / k) + 1)
        c1 = min(w // k, math.ceil(seen.right() / k) + 1)
        return (k, r0, c0, r1, c1) if r0 < r1 and c0 < c1 else None

    def refresh_detail(self, rect: Rect | None = None) -> None:
        """Draw the visible part from the finer copy it needs, or hide it; after an edit
        inside `rect` only when the part drawn is touched."""
        wanted = self.wanted_detail()
        if wanted is None:
            self.detail_blocks = None
            self.detail.setVisible(False)
            return
        k, r0, c0, r1, c1 = wanted
        if rect is not None and wanted == self.detail_blocks:
            top, left, bottom, right = rect
            if bottom <= r0 * k or top >= r1 * k or right <= c0 * k or left >= c1 * k:
                return  # the edit is outside the part drawn
        part = np.ascontiguousarray(self.pixels.copy(k, self.model.image)[r0:r1, c0:c1])
        self.detail_blocks = wanted
        self.detail.setImage(part, levels=(0, 255), lut=self.row.input_lut, autoLevels=False)
        self.detail.setRect(QRectF(c0 * k, r0 * k, (c1 - c0) * k, (r1 - r0) * k))
        self.detail.setVisible(True)
