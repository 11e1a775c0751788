"""One panel of the pipeline view: a stage's image in input-pixel coordinates, with overlays.

A :class:`StagePanel` draws, never computes: it receives a uint8 image, the stage
(for its title, shape, maxima and display rectangle) and rectangles to outline.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage
from PySide6.QtWidgets import (
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsRectItem,
    QSizePolicy,
)

from engine import Stage
from engine.display import colormap_table

#: Colours: the global maximum, the other top-k maxima, the hovered region, the receptive field.
MAX_COLOR = "#ff2d55"
TOPK_COLOR = "#ffb000"
HOVER_COLOR = "#38e1ff"
FIELD_COLOR = "#4dff88"
#: The dark edge around every marker, so that it stays visible on the brightest colours
#: of a colormap (viridis ends in yellow, close to the top-k colour).
HALO_COLOR = "#101010"
#: Title and subtitle sizes in points, and the smallest they shrink to before eliding.
TITLE_PT, SUBTITLE_PT = 11.0, 8.0
MIN_TITLE_PT, MIN_SUBTITLE_PT = 8.0, 7.0


_METRICS: dict[tuple[str, float], QFontMetricsF] = {}


def _metrics(font: QFont, size: float) -> QFontMetricsF:
    """The metrics of `font` at point `size`, made once per family and size: a title is
    fitted on every drawn result, and building a QFontMetricsF is most of its cost."""
    key = (font.key(), size)
    metrics = _METRICS.get(key)
    if metrics is None:
        sized = QFont(font)
        sized.setPointSizeF(size)
        metrics = _METRICS[key] = QFontMetricsF(sized)
    return metrics


def fitted_line(text: str, font: QFont, size: float, smallest: float,
                width: float) -> tuple[str, float]:
    """Fit one line of `text` into `width` pixels: the largest point size from `size` down
    to `smallest` (half-point steps) at which it fits, else the text elided ("…") at
    `smallest`.

    Returns
    -------
    (str, float)
        The text to show and its point size.
    """
    def fits(point: float) -> bool:
        return _metrics(font, point).horizontalAdvance(text) <= width

    full = _metrics(font, size).horizontalAdvance(text)
    if full <= width:
        return text, size
    # A line's width grows about in proportion to the point size: start from the size
    # that proportion gives, not from `size`, then step to the largest size that fits.
    step = max(smallest, min(size - 0.5, math.floor(2 * size * width / full) / 2))
    if fits(step):
        while step + 0.5 < size and fits(step + 0.5):
            step += 0.5
        return text, step
    while step - 0.5 >= smallest:
        step -= 0.5
        if fits(step):
            return text, step
    return _metrics(font, step).elidedText(text, Qt.TextElideMode.ElideRight, width), step


#: Colours of a panel's title and subtitle.
TITLE_COLOR, SUBTITLE_COLOR = "#e8eaed", "#9aa0a6"
#: Space around the two lines, in pixels.
TITLE_MARGIN = 2.0


class TitleLabel(pg.GraphicsWidget):
    """A panel title and subtitle that always fit the panel's width: each line shrinks
    (down to :data:`MIN_TITLE_PT` / :data:`MIN_SUBTITLE_PT`) and is then elided; the owner
    puts the whole text in the tooltip.

    It paints its two lines itself. A new text repaints it and nothing else: its height is
    fixed at that of both lines at full size, so a drag that rewrites every title lays
    nothing out again, and panels of stacked rows keep the same size whatever their
    titles. It never sets a minimum width from its text: panels on one line keep equal
    widths and stay inside the widget.

    Attributes
    ----------
    title, subtitle : str
        The whole texts.
    shown : (str, str)
        The title and subtitle as drawn (possibly elided).
    title_size, subtitle_size : float
        Their point sizes as drawn.
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.title, self.subtitle = text, ""
        self.shown = (text, "")
        self.title_size, self.subtitle_size = TITLE_PT, SUBTITLE_PT
        self._font = QFont()
        self._fitted_width = -1.0
        self._pens = (pg.mkPen(TITLE_COLOR), pg.mkPen(SUBTITLE_COLOR))
        height = (_metrics(self._font, TITLE_PT).height()
                  + _metrics(self._font, SUBTITLE_PT).height() + 2 * TITLE_MARGIN)
        # Preferred, not Fixed: with fixed titles the row's layout was shrunk back to its
        # minimum height after it had been given the row's size, squashing the views.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(0, height)
        self.setPreferredHeight(height)
        # redrawn from a cached pixmap when a neighbouring panel repaints, not painted again
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def font(self) -> QFont:
        """The font the lines are drawn in (at :attr:`title_size` / :attr:`subtitle_size`)."""
        return QFont(self._font)

    def set_lines(self, title: str, subtitle: str) -> None:
        """Show `title` and, smaller and grey, `subtitle`, fitted to the current width."""
        self.title, self.subtitle = title, subtitle
        self._fit()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self.width() != self._fitted_width:
            self._fit()

    def _fit(self) -> None:
        self._fitted_width = self.width()
        room = self._fitted_width - 2 * TITLE_MARGIN
        if room <= 0:  # not laid out yet: a resize fits it
            self.shown = (self.title, self.subtitle)
            self.title_size, self.subtitle_size = TITLE_PT, SUBTITLE_PT
        else:
            title, self.title_size = fitted_line(self.title, self._font, TITLE_PT,
                                                 MIN_TITLE_PT, room)
            subtitle, self.subtitle_size = fitted_line(self.subtitle, self._font,
                                                       SUBTITLE_PT, MIN_SUBTITLE_PT, room)
            self.shown = (title, subtitle)
        self.update()

    def paint(self, painter, *args) -> None:
        width = self.width()
        y = TITLE_MARGIN
        # the title's line keeps its full-size height, so subtitles line up across panels
        heights = (_metrics(self._font, TITLE_PT).height(),
                   _metrics(self._font, SUBTITLE_PT).height())
        for text, size, pen, height in zip(self.shown, (self.title_size, self.subtitle_size),
                                           self._pens, heights, strict=True):
            if text:
                font = QFont(self._font)
                font.setPointSizeF(size)
                painter.setFont(font)
                painter.setPen(pen)
                painter.drawText(QRectF(0, y, width, height), Qt.AlignmentFlag.AlignCenter,
                                 text)
            y += height


def colormap_lut(name: str) -> np.ndarray:
    """Return a 256-entry uint8 RGB lookup table: :func:`engine.display.colormap_table` for
    "grey" and "viridis" (shared with figure sets), else pyqtgraph's colormap `name`."""
    if name in ("grey", "viridis"):
        return colormap_table(name)
    return pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False)


_COLOR_TABLES: dict[bytes, list[int]] = {}


def color_table(lut: np.ndarray) -> list[int]:
    """The 256 ARGB entries of a QImage colour table for a 256 x 3 uint8 `lut`, made once
    per table."""
    key = lut.tobytes()
    table = _COLOR_TABLES.get(key)
    if table is None:
        rgb = lut.astype(np.uint32)
        table = _COLOR_TABLES[key] = (0xFF000000 | rgb[:, 0] << 16 | rgb[:, 1] << 8
                                      | rgb[:, 2]).tolist()
    return table


class IndexedImageItem(pg.ImageItem):
    """An ImageItem that draws a uint8 image with levels (0, 255) and a 256-colour lookup
    table (every panel's image, prepared on the worker) as an indexed QImage over the
    array itself, with a colour table made once per lookup table. pyqtgraph's own
    rendering rebuilds the table from the lookup table for every image, which costs more
    than the drawing of a small panel; every other image is rendered by pyqtgraph."""

    def render(self) -> None:
        image, lut, levels = self.image, self.lut, self.levels
        if not (isinstance(image, np.ndarray) and image.ndim == 2 and image.size
                and image.dtype == np.uint8 and isinstance(lut, np.ndarray)
                and lut.shape == (256, 3) and lut.dtype == np.uint8
                and levels is not None and np.array_equal(levels, (0, 255))
                and not self.autoDownsample and self.axisOrder == "row-major"):
            super().render()
            return
        pixels = np.ascontiguousarray(image)
        qimage = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0],
                        QImage.Format.Format_Indexed8)
        qimage.setColorTable(color_table(lut))
        self._indexed_pixels = pixels  # the QImage reads this buffer: keep it alive
        self.qimage = qimage
        self._processingBuffer = self._displayBuffer = None
        self._renderRequired = False
        self._unrenderable = False


#: Height of a colour bar in pixels: one line of small text with the strip between.
BAR_HEIGHT = 11
BAR_PT = 6.5
BAR_INSET = 8.0


def bar_number(value: float) -> str:
    """A colour bar's end value: three significant digits, as the panel subtitles."""
    return f"{value:.3g}"


class ColorBar(pg.GraphicsWidget):
    """A thin colour strip with its end values at either side: the lookup table from the
    darkest (left) to the brightest (right) and the values they mean. A range centred on
    zero (a signed difference) also marks 0 in the middle.

    It draws the range it is given (a panel's levels, computed on the worker); it computes
    nothing.

    Attributes
    ----------
    levels : (float, float) or None
        The range drawn; None draws nothing.
    texts : (str, str)
        The end values as drawn.
    caption : str
        Drawn before the low value (a row's shared bar names what it covers).
    """

    def __init__(self) -> None:
        super().__init__()
        self.levels: tuple[float, float] | None = None
        self.texts = ("", "")
        self.caption = ""
        self._strip = QImage()
        self.setFixedHeight(BAR_HEIGHT)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(0)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    @property
    def centred(self) -> bool:
        """True for a range symmetric about zero (a signed difference), marked at 0."""
        return self.levels is not None and self.levels[0] < 0 < self.levels[1] \
            and self.levels[0] == -self.levels[1]

    def set_range(self, levels: tuple[float, float] | None, lut: np.ndarray | None = None,
                  caption: str = "") -> None:
        """Draw `levels` with the colours of `lut` (256 x 3 uint8); None clears."""
        self.levels, self.caption = levels, caption
        self.texts = ("", "") if levels is None else (bar_number(levels[0]),
                                                      bar_number(levels[1]))
        if lut is not None:
            rgb = np.ascontiguousarray(lut[None, :, :3], dtype=np.uint8)
            self._strip = QImage(rgb.data, 256, 1, 768, QImage.Format.Format_RGB888).copy()
        tip = "" if levels is None else (
            f"{caption}colours from {self.texts[0]} (left) to {self.texts[1]} (right)"
            + (", 0 in the middle" if self.centred else ""))
        self.setToolTip(tip)
        self.update()

    def paint(self, painter, *args) -> None:
        if self.levels is None or self._strip.isNull():
            return
        font = QFont(painter.font())
        font.setPointSizeF(BAR_PT)
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        # inset, so the end values of neighbouring panels' bars do not run together
        rect = self.boundingRect().adjusted(BAR_INSET, 0, -BAR_INSET, 0)
        low, high = self.caption + self.texts[0], self.texts[1]
        gap = 3.0
        if metrics.horizontalAdvance(low + high) + 2 * gap + 8 > rect.width():
            # a narrow panel: two significant digits, and no caption
            low, high = (f"{v:.2g}" for v in self.levels)
        lw, hw = metrics.horizontalAdvance(low), metrics.horizontalAdvance(high)
        if lw + hw + gap > rect.width():
            return  # no room even for the numbers: the tooltip and the subtitle have them
        strip = QRectF(rect.left() + lw + gap, rect.center().y() - 2.0,
                       rect.width() - lw - hw - 2 * gap, 4.0)
        painter.setPen(QColor("#c8c8c8"))
        base = rect.center().y() + metrics.ascent() / 2 - 1
        painter.drawText(QPointF(rect.left(), base), low)
        painter.drawText(QPointF(rect.right() - hw, base), high)
        if strip.width() < 6:
            return
        painter.drawImage(strip, self._strip)
        if self.centred:
            x = strip.center().x()
            painter.setPen(QColor("#e8eaed"))
            painter.drawLine(QPointF(x, strip.top() - 2), QPointF(x, strip.bottom() + 2))


def _outline(color: str, width: float = 2.0, style=Qt.PenStyle.SolidLine) -> QGraphicsRectItem:
    item = QGraphicsRectItem()
    pen = pg.mkPen(color, width=width, style=style)
    pen.setCosmetic(True)
    item.setPen(pen)
    item.setZValue(10)
    item.setVisible(False)
    return item


class Markers:
    """Rings (or squares) of a fixed screen size at points of a view.

    Plain graphics items that ignore the view's scaling: far cheaper to paint than a
    scatter plot for the handful of maxima a panel marks. Each marker is a dark, wider
    halo with the coloured line on it, visible on dark and bright cells alike.
    """

    def __init__(self, view: pg.ViewBox, color: str, radius: float, z: float,
                 square: bool = False) -> None:
        self.view = view
        self.radius = radius
        self.z = z
        self.square = square
        self.pen = pg.mkPen(color, width=2 if square else 1.5)
        self.pen.setCosmetic(True)
        self.halo_pen = pg.mkPen(HALO_COLOR, width=self.pen.widthF() + 2.5)
        self.halo_pen.setCosmetic(True)
        self.items: list[QGraphicsEllipseItem | QGraphicsRectItem] = []
        self.points: list[tuple[float, float]] = []

    def set_points(self, points: list[tuple[float, float]]) -> None:
        """Show one marker at each ``(x, y)`` in view coordinates; hide the rest."""
        self.points = list(points)
        r = self.radius
        while len(self.items) < len(self.points):
            shape = QGraphicsRectItem if self.square else QGraphicsEllipseItem
            item = shape(-r, -r, 2 * r, 2 * r)
            item.setPen(self.halo_pen)
            line = shape(-r, -r, 2 * r, 2 * r, item)
            line.setPen(self.pen)
            item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
            item.setZValue(self.z)
            self.view.addItem(item)
            self.items.append(item)
        for i, item in enumerate(self.items):
            if i < len(self.points):
                item.setPos(*self.points[i])
            item.setVisible(i < len(self.points))


class StagePanel:
    """A titled view with the stage image, maxima markers and outline rectangles.

    Parameters
    ----------
    label : TitleLabel
        The title above the view.
    view : pg.ViewBox
        Where to draw (both created by the row's layout).
    image_item : pg.ImageItem
        The item holding the stage image (the editable canvas for the input).
    bar : ColorBar, optional
        The colour bar showing the panel's range (the row places it under the view).
    """

    def __init__(self, label: TitleLabel, view: pg.ViewBox, image_item: pg.ImageItem,
                 bar: ColorBar | None = None) -> None:
        self.label = label
        self.view = view
        self.image_item = image_item
        self.bar = bar or ColorBar()
        self.stage: Stage | None = None
        self.rect = QRectF(0, 0, 1, 1)
        self._drawn: np.ndarray | None = None
        self._bar_lut: np.ndarray | None = None
        self._title = ""
        self._subtitle = ""
        self.levels: tuple[float, float] = (0.0, 1.0)
        self.shared_levels = False
        view.setMenuEnabled(False)
        self.view.invertY(True)
        self.view.setAspectLocked(True)
        self.view.setDefaultPadding(0.02)
        image_item.setZValue(0)
        view.addItem(image_item)
        # The visible part at full resolution, over a reduced image when zoomed in.
        self.detail_item = IndexedImageItem()
        self.detail_item.setZValue(1)
        self.detail_item.setVisible(False)
        view.addItem(self.detail_item)
        #: The half-open cell range (r0, c0, r1, c1) the detail shows, or None.
        self.detail_cells: tuple[int, int, int, int] | None = None
        self.top_k = Markers(view, TOPK_COLOR, radius=4.5, z=11)
        # The global maximum: a box around its cell, and a marker of fixed screen size so
        # that it stays visible when cells are smaller than a screen pixel.
        self.max_marker = Markers(view, MAX_COLOR, radius=7.5, z=12, square=True)
        self.max_box = _outline(MAX_COLOR, 2.5)
        self.hover_box = _outline(HOVER_COLOR, 2.0)
        self.field_box = _outline(FIELD_COLOR, 2.0, Qt.PenStyle.DashLine)
        for item in (self.max_box, self.hover_box, self.field_box):
            view.addItem(item)

    # -- geometry -------------------------------------------------------------------------------
    def cell_size(self) -> tuple[float, float]:
        """Width and height of one cell in input pixels."""
        if self.stage is None:
            return 1.0, 1.0
        rows, cols = self.stage.shape
        return self.rect.width() / cols, self.rect.height() / rows

    def cell_rect(self, r0: int, c0: int, r1: int, c1: int) -> QRectF:
        """Input-coordinate rectangle of the half-open cell range ``[r0, r1) x [c0, c1)``."""
        sx, sy = self.cell_size()
        return QRectF(self.rect.x() + c0 * sx, self.rect.y() + r0 * sy,
                      (c1 - c0) * sx, (r1 - r0) * sy)

    def cell_center(self, row: int, col: int) -> tuple[float, float]:
        """Input coordinates ``(x, y)`` of the centre of cell (row, col)."""
        sx, sy = self.cell_size()
        return self.rect.x() + (col + 0.5) * sx, self.rect.y() + (row + 0.5) * sy

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The (row, col) of the cell under input coordinates (x, y), or None outside."""
        if self.stage is None:
            return None
        sx, sy = self.cell_size()
        col = int(np.floor((x - self.rect.x()) / sx))
        row = int(np.floor((y - self.rect.y()) / sy))
        rows, cols = self.stage.shape
        if 0 <= row < rows and 0 <= col < cols:
            return row, col
        return None

    # -- drawing --------------------------------------------------------------------------------
    def show_stage(self, stage: Stage, image: np.ndarray | None, lut: np.ndarray,
                   levels: tuple[float, float], shared: bool = False,
                   title: tuple[str, str] | None = None) -> None:
        """Show `stage`: its title and value range (`shared`: the range is shared with
        the other rows, so a colour means one value in all of them), `image` (uint8, None
        to keep the pixels shown) placed with the stage's display rectangle, and its
        maxima. An image equal to the one shown is not sent again. `title` (a title and
        subtitle) replaces the stage's title and range."""
        self.stage = stage
        self.levels = levels
        self.shared_levels = shared
        rect = QRectF(*stage.display_rect())
        if image is not None and rect != self.rect:
            self.rect = rect
            self.image_item.setRect(rect)
        self.set_title(*(title or (stage.title, self.range_text())))
        if (levels, lut is self._bar_lut) != (self.bar.levels, True):
            self._bar_lut = lut
            self.bar.set_range(levels, lut)
        if image is not None:
            self.set_image(image, lut)
            self.clear_detail()  # drawn from the stage shown before
        self.show_maxima()

    @property
    def reduced(self) -> bool:
        """True when the image drawn has fewer cells than the stage (a reduced copy)."""
        drawn = self.image_item.image
        return self.stage is not None and drawn is not None \
            and tuple(drawn.shape[:2]) != tuple(self.stage.shape)

    def show_detail(self, image: np.ndarray, cells: tuple[int, int, int, int],
                    lut: np.ndarray) -> None:
        """Draw uint8 `image` (the stage's cells ``[r0, r1) x [c0, c1)``, at full or
        nearly full resolution) over the reduced image."""
        self.detail_cells = cells
        self.detail_item.setImage(image, levels=(0, 255), lut=lut, autoLevels=False)
        self.detail_item.setRect(self.cell_rect(*cells))
        self.detail_item.setVisible(True)

    def clear_detail(self) -> None:
        """Hide the full-resolution part."""
        if self.detail_cells is not None:
            self.detail_cells = None
            self.detail_item.setVisible(False)

    def range_text(self) -> str:
        """The colour scale in words: the values drawn darkest and brightest, and whether
        the other rows share them."""
        lo, hi = self.levels
        return f"{lo:.3g} … {hi:.3g}" + (" shared" if self.shared_levels else "")

    def scale_text(self) -> str:
        """The colour scale in a sentence, for the title's tooltip."""
        lo, hi = self.levels
        whose = ("one range shared by every stage" if self.shared_levels
                 else "this stage's own range, the same in rows A and B")
        return f"colours: darkest {lo:.4g}, brightest {hi:.4g} ({whose})"

    @property
    def has_maximum(self) -> bool:
        """True when the stage has a largest cell to mark (it is not constant at the
        bottom of its range, as a map that every feature has left)."""
        maxima = self.stage.maxima if self.stage is not None else []
        return bool(maxima) and maxima[0][2] > self.levels[0]

    @property
    def title(self) -> str:
        """The panel's title text."""
        return self._title

    @property
    def subtitle(self) -> str:
        """The small line under the title."""
        return self._subtitle

    @property
    def shown_title(self) -> str:
        """The title as drawn: shrunk or elided to fit the panel (the tooltip has it all)."""
        return self.label.shown[0]

    @property
    def shown_subtitle(self) -> str:
        """The subtitle as drawn."""
        return self.label.shown[1]

    def set_title(self, text: str, subtitle: str = "") -> None:
        """Show `text` above the panel, and `subtitle` (the value range) in small grey (the
        row sets the title's tooltip, with the whole texts, once the panels are drawn)."""
        if (text, subtitle) != (self._title, self._subtitle):
            self._title, self._subtitle = text, subtitle
            self.label.set_lines(text, subtitle)

    def set_image(self, image: np.ndarray, lut: np.ndarray) -> None:
        """Send `image` to the image item unless the same pixels are already shown."""
        same = (self._drawn is not None and self._drawn.shape == image.shape
                and image.size <= 1_000_000 and np.array_equal(self._drawn, image))
        if same:
            return
        self._drawn = image
        self.image_item.setImage(image, levels=(0, 255), lut=lut, autoLevels=False)
        self.image_item.setRect(self.rect)

    def show_maxima(self) -> None:
        """Outline the global maximum cell and ring the other top-k cells.

        Nothing is marked in a constant stage, and no ring marks a cell tied with the
        stage's minimum (its background), where the order is arbitrary.
        """
        maxima = self.stage.maxima if self.stage is not None else []
        lo, hi = self.levels
        if not self.has_maximum:
            self.max_box.setVisible(False)
            self.max_marker.set_points([])
            self.top_k.set_points([])
            return
        r, c, _ = maxima[0]
        self.max_box.setRect(self.cell_rect(r, c, r + 1, c + 1))
        self.max_box.setVisible(True)
        sx, sy = self.cell_size()
        self.max_marker.set_points([self.cell_center(r, c)])
        self.top_k.set_points([self.cell_center(m[0], m[1]) for m in maxima[1:] if m[2] > lo])

    def show_hover(self, cells: tuple[int, int, int, int] | None) -> None:
        """Outline the cell range ``(r0, c0, r1, c1)``, or hide the outline for None/empty."""
        if cells is None or cells[0] >= cells[2] or cells[1] >= cells[3]:
            self.hover_box.setVisible(False)
            return
        self.hover_box.setRect(self.cell_rect(*cells))
        self.hover_box.setVisible(True)

    def show_field(self, field: tuple[int, int, int, int] | None) -> None:
        """Outline an input-pixel rectangle ``(top, left, bottom, right)``, or hide it."""
        if field is None:
            self.field_box.setVisible(False)
            return
        top, left, bottom, right = field
        self.field_box.setRect(QRectF(left, top, right - left, bottom - top))
        self.field_box.setVisible(True)
