"""The editable input image with undo/redo; no widgets, only numpy and one Qt signal.

Every edit goes through :class:`CanvasModel`, which owns the float32 image and
announces changes with :attr:`CanvasModel.changed` carrying the touched rectangle
(``None`` for the whole image), so the display can update just that part.

A stroke (one mouse drag) writes the image in place and is one undo step; its undo
entry holds only the 64x64 tiles it touched, so a drag on a 12-megapixel photo
costs no full copy. Whole-image edits replace the array. The array is never handed
to another thread while it may still be written: :meth:`CanvasModel.snapshot` (or a
caller's own buffer) copies it, and :meth:`CanvasModel.input_image` shares it read-only,
the model then copying it before its next write in place if that share is still held
(so a state kept for undo, which is mostly followed by a new image, costs no copy).

Every step also puts back where the pixels came from (:attr:`CanvasModel.source` and
``edited``). A step that showed a whole new state (an example, a photo, a session) holds
the :class:`engine.ViewState` it replaced: undoing it puts those pixels back and emits
:attr:`CanvasModel.state_restored` so the owner restores the rest (pipeline, comparison,
title), and the opposite step keeps the state undone, which the owner supplies through
:attr:`CanvasModel.state_provider`.
"""

from __future__ import annotations

import math
import sys
import weakref
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from engine import ImageSource, InputImage, ViewState, mirror, rotate90, translate

Rect = tuple[int, int, int, int]  # top, left, bottom, right (half-open)
TILE = 64

#: A canvas is sparse (lit pixels to move around, not a picture) when at most this share of
#: its pixels is lit.
SPARSE_SHARE = 0.25
#: Undo history is cut when its snapshots together exceed this many bytes.
UNDO_BUDGET_BYTES = 600_000_000
MIN_CANVAS, MAX_CANVAS = 1, 4096
#: The pen's width in pixels (:meth:`CanvasModel.paint_pen`), about a digit's stroke at 28x28.
PEN_WIDTH = 2.0


def demo_image(rows: int = 10, cols: int = 10, pixel: tuple[int, int] = (2, 2)) -> np.ndarray:
    """Return the article's first example: a dark image with one lit pixel, float32."""
    img = np.zeros((rows, cols), np.float32)
    img[pixel] = 1.0
    return img


class TilePatch:
    """The original contents of the tiles a stroke touched, saved before the first write."""

    def __init__(self) -> None:
        self.tiles: dict[tuple[int, int], np.ndarray] = {}

    @property
    def nbytes(self) -> int:
        """Memory held by the saved tiles."""
        return sum(t.nbytes for t in self.tiles.values())

    def save(self, image: np.ndarray, rect: Rect) -> None:
        """Keep the tiles of `image` meeting `rect` that are not saved yet."""
        top, left, bottom, right = rect
        for ty in range(top // TILE, (bottom - 1) // TILE + 1):
            for tx in range(left // TILE, (right - 1) // TILE + 1):
                if (ty, tx) not in self.tiles:
                    self.tiles[ty, tx] = image[ty * TILE:(ty + 1) * TILE,
                                               tx * TILE:(tx + 1) * TILE].copy()

    def swap(self, image: np.ndarray) -> tuple[TilePatch, Rect]:
        """Write the saved tiles back into `image`; return the patch that undoes that and
        the rectangle that changed."""
        other = TilePatch()
        ys, xs = zip(*self.tiles, strict=True)
        for (ty, tx), saved in self.tiles.items():
            block = image[ty * TILE:(ty + 1) * TILE, tx * TILE:(tx + 1) * TILE]
            other.tiles[ty, tx] = block.copy()
            block[...] = saved
        h, w = image.shape
        rect = (min(ys) * TILE, min(xs) * TILE, min(h, (max(ys) + 1) * TILE),
                min(w, (max(xs) + 1) * TILE))
        return other, rect


@dataclass(eq=False)
class Step:
    """One entry of the history: what undo (or redo) puts back.

    Attributes
    ----------
    pixels : ndarray, TilePatch or None
        The replaced image, or a stroke's saved tiles; None for a whole-state step, whose
        pixels are ``state.a.pixels``.
    source : ImageSource
        Where those pixels came from.
    edited : bool
        Whether they may differ from what `source` gives.
    state : ViewState or None
        For a whole-state step, the state it replaced.
    """

    pixels: np.ndarray | TilePatch | None
    source: ImageSource
    edited: bool
    state: ViewState | None = None

    @property
    def nbytes(self) -> int:
        """Memory the step holds (its images)."""
        if self.state is None:
            return self.pixels.nbytes
        b = self.state.compare.image_b if self.state.compare is not None else None
        return self.state.a.pixels.nbytes + (b.pixels.nbytes if b is not None else 0)


class CanvasModel(QObject):
    """The input image and its edit history.

    Signals
    -------
    changed(object)
        The image changed; the argument is the touched ``(top, left, bottom,
        right)`` rectangle, or None when the whole image (or its shape) changed.
    history_changed()
        Undo/redo availability changed.
    state_restored(object)
        Undo or redo of a whole-state step put back the pixels of this
        :class:`engine.ViewState` (emitted after :attr:`changed`); show the rest of it.

    Attributes
    ----------
    state_provider : callable or None
        Returns what is shown now as a ViewState; asked when a whole-state step is undone
        or redone, to keep the state it leaves. Without one, only the pixels are kept.
    """

    changed = Signal(object)
    history_changed = Signal()
    state_restored = Signal(object)

    def __init__(self, image: np.ndarray | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._image = demo_image() if image is None else self._own(image)
        self._undo: list[Step] = []
        self._redo: list[Step] = []
        self._stroke_open = False
        self._patch: TilePatch | None = None
        self._move: tuple[float, int, int, float] | None = None  # value, row, col, covered value
        self._slide_base: np.ndarray | None = None  # the image when a slide began
        self._slid: tuple[int, int, bool | None] = (0, 0, None)  # the slide's shown offset
        # arrays handed out read-only by input_image(), copied before a write in place
        self._shared: list[weakref.ref] = []
        # how many pixels are not 0: a count kept through edits (None: not counted yet),
        # exact or, for a photo counted only until it was clearly not sparse, a lower bound
        self._lit: int | None = None
        self._lit_exact = False
        #: Where the pixels came from; `edited` says they may have changed since.
        self.source = ImageSource()
        self.edited = False
        self.state_provider: Callable[[], ViewState] | None = None

    # -- reading -----------------------------------------------------------------------------
    @property
    def image(self) -> np.ndarray:
        """The current image (float32, read it, do not write it; use :meth:`snapshot`)."""
        return self._image

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return self._image.shape

    def _writable(self) -> None:
        """Before a write in place: if the image was shared read-only (:meth:`input_image`)
        and a share may still be held, write into a copy from now on."""
        image = self._image
        alive = [r for r in self._shared if r() is not None]
        self._shared = [r for r in alive if r() is not image]
        # a share is a view, which holds the image: a reference more than the attribute's
        # means one may still be read (counted beside an array only a local holds, as
        # what getrefcount includes differs between Python versions)
        probe = np.empty(0)
        if len(alive) != len(self._shared) \
                and sys.getrefcount(image) - sys.getrefcount(probe) > 1:
            self._image = image.copy()

    def _take_back(self, pixels: np.ndarray) -> np.ndarray:
        """The image to edit for a state's read-only `pixels`: the array they view when the
        model shared it (:meth:`input_image`; shared again, so it is copied before a write
        while the state is still held), else a copy."""
        base = pixels.base
        if isinstance(base, np.ndarray) and base.flags.writeable and base.dtype == np.float32 \
                and base.flags.c_contiguous and base.shape == pixels.shape \
                and base.ctypes.data == pixels.ctypes.data \
                and any(r() is base for r in self._shared):
            self._shared.append(weakref.ref(base))
            return base
        return np.array(pixels, dtype=np.float32, order="C")

    def snapshot(self) -> np.ndarray:
        """Return a read-only copy, safe to hand to another thread."""
        arr = self._image.copy()
        arr.setflags(write=False)
        return arr

    @property
    def editing(self) -> bool:
        """True during a stroke, while the image is being written in place."""
        return self._stroke_open

    def can_undo(self) -> bool:
        """True if there is an edit to undo."""
        return bool(self._undo)

    def can_redo(self) -> bool:
        """True if there is an undone edit to redo."""
        return bool(self._redo)

    # -- history ------------------------------------------------------------------------------
    def _push_undo(self, old: np.ndarray | TilePatch | ViewState) -> None:
        """Keep `old` (a replaced array, a stroke's patch, or a replaced state) as the
        newest undo step."""
        if isinstance(old, ViewState):
            self._undo.append(Step(None, old.a.source, old.a.edited, old))
        else:
            self._undo.append(Step(old, self.source, self.edited))
        self._redo.clear()
        total = sum(a.nbytes for a in self._undo)
        while len(self._undo) > 1 and total > UNDO_BUDGET_BYTES:
            total -= self._undo.pop(0).nbytes
        self.history_changed.emit()

    def undo(self) -> bool:
        """Restore the image before the last edit; return False if there is none."""
        return self._step(self._undo, self._redo)

    def redo(self) -> bool:
        """Re-apply the last undone edit; return False if there is none."""
        return self._step(self._redo, self._undo)

    def _step(self, source: list[Step], target: list[Step]) -> bool:
        self.end_stroke()
        if not source:
            return False
        entry = source.pop()
        self._lit = None
        if entry.state is not None:
            now = self.state_provider() if self.state_provider is not None \
                else ViewState(self.input_image())
            target.append(Step(None, now.a.source, now.a.edited, now))
            self._image = self._take_back(entry.state.a.pixels)
            rect = None
        elif isinstance(entry.pixels, TilePatch):
            self._writable()
            inverse, rect = entry.pixels.swap(self._image)
            target.append(Step(inverse, self.source, self.edited))
        else:
            target.append(Step(self._image, self.source, self.edited))
            self._image, rect = entry.pixels, None
        self.source, self.edited = entry.source, entry.edited
        self.history_changed.emit()
        self.changed.emit(rect)
        if entry.state is not None:
            self.state_restored.emit(entry.state)
        return True

    # -- whole-image edits (each one undo step) --------------------------------------------------
    @staticmethod
    def _own(image: np.ndarray) -> np.ndarray:
        arr = np.array(image, dtype=np.float32, order="C", copy=True)
        if arr.ndim != 2 or arr.size == 0:
            raise ValueError(f"image must be a non-empty 2-D array; got shape {arr.shape}.")
        return arr

    def set_image(self, image: np.ndarray, source: ImageSource | None = None,
                  undoable: bool = True, copy: bool = True,
                  replaced: ViewState | None = None) -> None:
        """Replace the image with `image` (copied unless `copy` is False and the caller
        hands it over). With a `source` (a loaded photo, an example) the image is exactly
        what the source gives; without one it is an edit of the current image.

        `replaced` makes the undo step a whole-state step: the state shown until now
        (whose pixels are the current image), which undo restores with
        :attr:`state_restored`.
        """
        new = self._own(image) if copy or image.dtype != np.float32 else image
        if new.ndim != 2 or new.size == 0:
            raise ValueError(f"image must be a non-empty 2-D array; got shape {new.shape}.")
        self.end_stroke()
        if undoable:
            self._push_undo(self._image if replaced is None else replaced)
        self._image = np.ascontiguousarray(new)
        self._lit = None
        if source is None:
            self.edited = True
        else:
            self.source, self.edited = source, False
        self.changed.emit(None)

    def input_image(self) -> InputImage:
        """The current pixels and where they came from, frozen: the image itself, read-only
        (the model writes into a copy while this is held)."""
        view = self._image.view()
        view.setflags(write=False)
        if not any(r() is self._image for r in self._shared):
            self._shared.append(weakref.ref(self._image))
        return InputImage(view, self.source, self.edited)

    def apply(self, fn, *args, **kwargs) -> None:
        """Replace the image with ``fn(image, *args, **kwargs)`` as one undo step."""
        out = np.ascontiguousarray(fn(self._image, *args, **kwargs), dtype=np.float32)
        self.set_image(out, copy=np.shares_memory(out, self._image))

    def clear(self) -> None:
        """Set every pixel to 0."""
        self.set_image(np.zeros_like(self._image), copy=False)

    def invert(self) -> None:
        """Replace each value v by 1 - v."""
        self.set_image(1.0 - self._image, copy=False)

    def randomize(self, density: float = 0.1, seed: int | None = None) -> None:
        """Light a random fraction `density` of the pixels (value 1), the rest 0."""
        rng = np.random.default_rng(seed)
        self.set_image((rng.random(self._image.shape) < density).astype(np.float32), copy=False)

    def resize(self, rows: int, cols: int) -> None:
        """Change the canvas size, keeping the top-left content and padding with 0.

        Raises
        ------
        ValueError
            If a size is outside 1 .. 4096.
        """
        for name, v in (("rows", rows), ("cols", cols)):
            if not MIN_CANVAS <= v <= MAX_CANVAS:
                raise ValueError(f"{name} must be within {MIN_CANVAS}..{MAX_CANVAS}; got {v}.")
        if (rows, cols) == self.shape:
            return
        out = np.zeros((rows, cols), np.float32)
        h, w = min(rows, self.shape[0]), min(cols, self.shape[1])
        out[:h, :w] = self._image[:h, :w]
        self.set_image(out, copy=False)

    def nudge(self, dy: int, dx: int, wrap: bool) -> None:
        """Shift the whole image by (dy, dx) pixels, wrapping around or filling with 0."""
        self.apply(translate, int(dy), int(dx), wrap=wrap)

    def mirror(self, axis: int) -> None:
        """Mirror left-right (axis 1) or flip up-down (axis 0)."""
        self.apply(mirror, axis)

    def rotate90(self, turns: int = 1) -> None:
        """Rotate counter-clockwise by 90 degrees `turns` times."""
        self.apply(rotate90, turns)

    # -- strokes (a drag is one undo step) --------------------------------------------------------
    def begin_stroke(self) -> None:
        """Start an edit that may span many calls; it ends at :meth:`end_stroke`."""
        self.end_stroke()
        self._patch = TilePatch()
        self._push_undo(self._patch)
        self._stroke_open = True

    def end_stroke(self) -> None:
        """Close the current stroke, if any (a stroke that changed nothing leaves no undo step)."""
        if self._patch is not None and not self._patch.tiles and self._undo \
                and self._undo[-1].pixels is self._patch:
            self._undo.pop()
            self.history_changed.emit()
        self._patch = None
        self._stroke_open = False
        self._move = None
        self._slide_base = None

    def _before_write(self, rect: Rect) -> None:
        self._writable()
        self.edited = True
        if self._patch is not None:
            self._patch.save(self._image, rect)
        if self._lit is not None:
            top, left, bottom, right = rect
            self._lit -= np.count_nonzero(self._image[top:bottom, left:right])

    def _after_write(self, rect: Rect) -> None:
        """Count the lit pixels of `rect` again after writing it (:meth:`_before_write`
        uncounted them)."""
        if self._lit is not None:
            top, left, bottom, right = rect
            self._lit += np.count_nonzero(self._image[top:bottom, left:right])

    def paint_line(self, r0: float, c0: float, r1: float, c1: float, value: float,
                   size: int = 1) -> Rect | None:
        """Paint `value` with a `size` x `size` square brush along the line between two points.

        Points are in pixel coordinates (pixel (r, c) covers [r, r+1) x [c, c+1)).
        Returns the touched rectangle, or None when the line misses the image.
        """
        if not self._stroke_open:
            self.begin_stroke()
        h, w = self.shape
        steps = int(max(abs(r1 - r0), abs(c1 - c0))) + 1
        rows = np.floor(np.linspace(r0, r1, steps + 1)).astype(int)
        cols = np.floor(np.linspace(c0, c1, steps + 1)).astype(int)
        half = (size - 1) // 2
        top, left = rows.min() - half, cols.min() - half
        bottom, right = rows.max() - half + size, cols.max() - half + size
        top, left, bottom, right = max(0, top), max(0, left), min(h, bottom), min(w, right)
        if top >= bottom or left >= right:
            return None
        self._before_write((top, left, bottom, right))
        for r, c in zip(rows, cols, strict=True):
            self._image[max(0, r - half):max(0, r - half + size),
                        max(0, c - half):max(0, c - half + size)] = value
        rect = (top, left, bottom, right)
        self._after_write(rect)
        self.changed.emit(rect)
        return rect

    def paint_pen(self, r0: float, c0: float, r1: float, c1: float, value: float,
                  width: float = PEN_WIDTH) -> Rect | None:
        """Draw like a pen along the line between two points: a round tip `width` pixels
        across whose edge fades over one pixel. A pixel takes the brighter (for `value`
        above 0.5) or darker of its value and the pen's, so strokes never dim each other.

        Points are in pixel coordinates as for :meth:`paint_line`. Returns the touched
        rectangle, or None when the line misses the image.
        """
        if not self._stroke_open:
            self.begin_stroke()
        h, w = self.shape
        reach = width / 2 + 0.5
        top, left = max(0, math.floor(min(r0, r1) - reach)), max(0, math.floor(min(c0, c1) - reach))
        bottom = min(h, math.ceil(max(r0, r1) + reach) + 1)
        right = min(w, math.ceil(max(c0, c1) + reach) + 1)
        if top >= bottom or left >= right:
            return None
        rect = (top, left, bottom, right)
        self._before_write(rect)
        # distance of each pixel centre to the segment, then a coverage ramp at the edge
        yy, xx = np.mgrid[top:bottom, left:right].astype(np.float32) + 0.5
        dy, dx = r1 - r0, c1 - c0
        length2 = dy * dy + dx * dx
        t = np.zeros_like(yy) if length2 == 0 else np.clip(
            ((yy - r0) * dy + (xx - c0) * dx) / length2, 0.0, 1.0)
        dist = np.hypot(yy - (r0 + t * dy), xx - (c0 + t * dx))
        cover = np.clip(width / 2 + 0.5 - dist, 0.0, 1.0)
        patch = self._image[top:bottom, left:right]
        if value >= 0.5:
            np.maximum(patch, cover * value, out=patch)
        else:
            np.minimum(patch, 1.0 - cover * (1.0 - value), out=patch)
        self._after_write(rect)
        self.changed.emit(rect)
        return rect

    def begin_slide(self) -> None:
        """Start sliding the whole image with the pointer (one undo step)."""
        self.begin_stroke()
        self._slide_base = self._image.copy()
        self._slid = (0, 0, None)  # the offset (and wrap) shown: the base itself

    def slide_to(self, dy: int, dx: int, wrap: bool) -> Rect | None:
        """Show the image as it was at :meth:`begin_slide`, moved by (dy, dx) pixels
        (wrapping around or filling with 0). Returns the whole image's rectangle, or None
        outside a slide, or when the image already shows that offset (a pointer move
        within the same pixel changes nothing)."""
        base = self._slide_base
        if base is None or not self._stroke_open:
            return None
        offset = (int(dy), int(dx), bool(wrap))
        if offset == self._slid or (offset[:2] == (0, 0) and self._slid[:2] == (0, 0)):
            return None
        self._slid = offset
        h, w = self.shape
        rect = (0, 0, h, w)
        self._lit = None  # counted again when asked, not twice on every move
        self._before_write(rect)
        self._image[...] = translate(base, int(dy), int(dx), wrap=wrap)
        self._after_write(rect)
        self.changed.emit(rect)
        return rect

    def is_lit(self, row: int, col: int) -> bool:
        """True if pixel (row, col) is inside the image and not 0."""
        h, w = self.shape
        return 0 <= row < h and 0 <= col < w and self._image[row, col] != 0

    def is_sparse(self) -> bool:
        """True when at most ``SPARSE_SHARE`` of the pixels are lit (not 0): the demo and
        drawn pixel art, not a photo, whose pixels are nearly all lit. The count is kept
        through edits, so a photo is counted once, not on every press."""
        limit = SPARSE_SHARE * self._image.size
        if self._lit is None or (not self._lit_exact and self._lit <= limit):
            self._count_lit(limit)
        return self._lit <= limit

    def _count_lit(self, limit: float) -> None:
        """Count the lit pixels a band of rows at a time, stopping once more than `limit`
        are lit (a photo, after about a quarter of it). An edit changes the count by what
        it changes in its rectangle (:meth:`_before_write`, :meth:`_after_write`), which
        keeps an exact count exact and a lower bound a lower bound."""
        rows, cols = self._image.shape
        band = max(1, (1 << 18) // cols)  # about a megabyte of pixels a time
        lit, top = 0, 0
        while top < rows and lit <= limit:
            lit += int(np.count_nonzero(self._image[top:top + band]))
            top += band
        self._lit, self._lit_exact = lit, top >= rows

    def begin_move(self, row: int, col: int) -> None:
        """Pick up pixel (row, col) to move it; the pixel's place becomes 0."""
        self.begin_stroke()
        # The pixel stays where it is until the pointer moves; its place is then left at 0.
        self._move = (float(self._image[row, col]), row, col, 0.0)

    def move_to(self, row: int, col: int) -> Rect | None:
        """Move the picked-up pixel to (row, col), clamped to the image; restore what it covered.

        Returns the rectangle spanning the old and new place, or None if nothing moved.
        """
        if self._move is None:
            return None
        h, w = self.shape
        row, col = min(max(row, 0), h - 1), min(max(col, 0), w - 1)
        value, r, c, covered = self._move
        if (row, col) == (r, c):
            return None
        self._before_write((r, c, r + 1, c + 1))
        self._before_write((row, col, row + 1, col + 1))
        self._image[r, c] = covered
        covered = float(self._image[row, col])
        self._image[row, col] = value
        self._after_write((r, c, r + 1, c + 1))
        self._after_write((row, col, row + 1, col + 1))
        self._move = (value, row, col, covered)
        rect = (min(r, row), min(c, col), max(r, row) + 1, max(c, col) + 1)
        self.changed.emit(rect)
        return rect

    @property
    def moving(self) -> bool:
        """True while a picked-up pixel is being moved."""
        return self._move is not None
