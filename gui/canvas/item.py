"""Editing the input with the mouse: the Input panel's image item is the canvas.

Gestures (tool "auto", the default):

- on a sparse canvas (:meth:`CanvasModel.is_sparse`: lit pixels on a dark ground, as in
  the demo), left press on a lit (non-zero) pixel, then drag: move that pixel;
- otherwise (a dark pixel, or any pixel of a photo), left drag: paint with the brush value;
- Shift + left drag: always paint; right drag: erase (paint 0);
- middle drag and the wheel pan and zoom the (linked) views as usual.

Tool "paint" always paints, tool "move" only ever moves, tool "slide" (or Ctrl + left
drag with any tool) slides the whole image by whole pixels, wrapping around when
:attr:`CanvasItem.slide_wrap` is set. With :attr:`CanvasItem.pen` on, painting draws like
a pen (a round, soft-edged tip, :meth:`CanvasModel.paint_pen`) instead of a square
brush. One drag is one undo step.
:meth:`CanvasItem.left_drag_mode` says which a left drag does now, for the window to show.

The item may draw a reduced copy of a large canvas (:mod:`gui.canvas.display`); presses
and drags are read in canvas pixels all the same, so a press on pixel (r, c) edits (r, c).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal

from gui.canvas.model import CanvasModel
from gui.panels.stage_panel import IndexedImageItem

TOOLS = ("auto", "paint", "move", "slide")


class CanvasItem(IndexedImageItem):
    """An image item, drawn as every panel's image, that turns mouse presses and drags into
    edits of a :class:`CanvasModel`.

    Attributes
    ----------
    tool : str
        One of ``TOOLS``.
    brush_value : float
        Value painted by the left button.
    brush_size : int
        Side of the square brush, in pixels.
    pen : bool
        Paint with the soft round pen instead of the square brush.
    slide_wrap : bool
        A slide moves pixels out of one side into the other (else 0 comes in).

    Signals
    -------
    stroke_finished()
        A drag ended (the edit is one undo step).
    """

    stroke_finished = Signal()

    def __init__(self, model: CanvasModel) -> None:
        super().__init__()
        self.model = model
        self.tool = "auto"
        self.brush_value = 1.0
        self.brush_size = 1
        self.pen = False
        self.slide_wrap = True
        self._origin: tuple[int, int] = (0, 0)  # where a slide started
        self._last: tuple[float, float] | None = None
        self._value = 0.0
        self._mode: str | None = None  # "paint" or "move" during a drag
        self.setAcceptedMouseButtons(Qt.MouseButton.LeftButton | Qt.MouseButton.RightButton)

    def left_drag_mode(self) -> str:
        """What a left drag starting on a lit pixel does now: "move" or "paint" (tool
        "auto" moves on a sparse canvas and paints on a photo)."""
        if self.tool != "auto":
            return self.tool
        return "move" if self.model.is_sparse() else "paint"

    def _pixel(self, pos) -> tuple[float, float]:
        # The view's coordinates are canvas pixels (x the column, y the row); the item's
        # own are those of the image it draws, which may be a reduced copy stretched over
        # the canvas' place.
        p = self.mapToParent(pos)
        return p.y(), p.x()

    def mousePressEvent(self, ev) -> None:  # noqa: N802 - Qt override
        if self._mode is not None:  # a second button during a drag: ignore it
            ev.accept()
            return
        button = ev.button()
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            ev.ignore()
            return
        r, c = self._pixel(ev.pos())
        row, col = math.floor(r), math.floor(c)
        h, w = self.model.shape
        if not (0 <= row < h and 0 <= col < w):
            ev.ignore()
            return
        ev.accept()
        shift = bool(ev.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        ctrl = bool(ev.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if button == Qt.MouseButton.RightButton:
            self._start_paint(r, c, 0.0)
        elif self.tool == "slide" or ctrl:
            self._mode = "slide"
            self._origin = (row, col)
            self.model.begin_slide()
        elif self.tool == "paint" or (self.tool == "auto" and (
                shift or not self.model.is_lit(row, col) or not self.model.is_sparse())):
            self._start_paint(r, c, self.brush_value)
        elif self.model.is_lit(row, col):
            self._mode = "move"
            self.model.begin_move(row, col)
        else:
            self._mode = "none"

    def _start_paint(self, r: float, c: float, value: float) -> None:
        self._mode = "paint"
        self._value = value
        self._last = (r, c)
        self.model.begin_stroke()
        self._paint(r, c, r, c)

    def _paint(self, r0: float, c0: float, r1: float, c1: float) -> None:
        if self.pen:
            self.model.paint_pen(r0, c0, r1, c1, self._value)
        else:
            self.model.paint_line(r0, c0, r1, c1, self._value, self.brush_size)

    def mouseMoveEvent(self, ev) -> None:  # noqa: N802 - Qt override
        if self._mode is None:
            ev.ignore()
            return
        ev.accept()
        r, c = self._pixel(ev.pos())
        if self._mode == "paint":
            r0, c0 = self._last if self._last is not None else (r, c)
            self._paint(r0, c0, r, c)
            self._last = (r, c)
        elif self._mode == "slide":
            self.model.slide_to(math.floor(r) - self._origin[0], math.floor(c) - self._origin[1],
                                self.slide_wrap)
        elif self._mode == "move":
            self.model.move_to(math.floor(r), math.floor(c))

    def mouseReleaseEvent(self, ev) -> None:  # noqa: N802 - Qt override
        if self._mode is None:
            ev.ignore()
            return
        ev.accept()
        if ev.buttons() != Qt.MouseButton.NoButton:
            return
        self.finish_stroke()

    def finish_stroke(self) -> None:
        """End the current drag, if any (also called when the view loses the mouse)."""
        if self._mode is None:
            return
        self._mode = None
        self._last = None
        self.model.end_stroke()
        self.stroke_finished.emit()

    def ungrabMouseEvent(self, ev) -> None:  # noqa: N802 - Qt override
        self.finish_stroke()
        super().ungrabMouseEvent(ev)
