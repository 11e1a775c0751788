"""One panel of the pipeline view: a stage's image in input-pixel coordinates, with overlays.

A :class:`StagePanel` draws, never computes: it receives a uint8 image, the stage
(for its title, shape, maxima and display rectangle) and rectangles to outline.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsRectItem

from engine import Stage
from engine.display import colormap_table

#: Colours: the global maximum, the other top-k maxima, the hovered region, the receptive field.
MAX_COLOR = "#ff2d55"
TOPK_COLOR = "#ffb000"
HOVER_COLOR = "#38e1ff"
FIELD_COLOR = "#4dff88"


def colormap_lut(name: str) -> np.ndarray:
    """Return a 256-entry uint8 RGB lookup table: :func:`engine.display.colormap_table` for
    "grey" and "viridis" (shared with figure sets), else pyqtgraph's colormap `name`."""
    if name in ("grey", "viridis"):
        return colormap_table(name)
    return pg.colormap.get(name).getLookupTable(0.0, 1.0, 256, alpha=False)


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
    scatter plot for the handful of maxima a panel marks.
    """

    def __init__(self, view: pg.ViewBox, color: str, radius: float, z: float,
                 square: bool = False) -> None:
        self.view = view
        self.radius = radius
        self.z = z
        self.square = square
        self.pen = pg.mkPen(color, width=2 if square else 1.5)
        self.pen.setCosmetic(True)
        self.items: list[QGraphicsEllipseItem | QGraphicsRectItem] = []
        self.points: list[tuple[float, float]] = []

    def set_points(self, points: list[tuple[float, float]]) -> None:
        """Show one marker at each ``(x, y)`` in view coordinates; hide the rest."""
        self.points = list(points)
        r = self.radius
        while len(self.items) < len(self.points):
            item = (QGraphicsRectItem if self.square else QGraphicsEllipseItem)(-r, -r, 2 * r,
                                                                              2 * r)
            item.setPen(self.pen)
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
    label : pg.LabelItem
        The title above the view.
    view : pg.ViewBox
        Where to draw (both created by the row's layout).
    image_item : pg.ImageItem
        The item holding the stage image (the editable canvas for the input).
    """

    def __init__(self, label: pg.LabelItem, view: pg.ViewBox, image_item: pg.ImageItem) -> None:
        self.label = label
        self.view = view
        self.image_item = image_item
        self.stage: Stage | None = None
        self.rect = QRectF(0, 0, 1, 1)
        self._drawn: np.ndarray | None = None
        self._title = ""
        self._subtitle = ""
        self.levels: tuple[float, float] = (0.0, 1.0)
        view.setMenuEnabled(False)
        self.view.invertY(True)
        self.view.setAspectLocked(True)
        self.view.setDefaultPadding(0.02)
        image_item.setZValue(0)
        view.addItem(image_item)
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
                   levels: tuple[float, float]) -> None:
        """Show `stage`: its title and value range, `image` (uint8, None to keep the pixels
        shown) placed with the stage's display rectangle, and its maxima. An image equal
        to the one shown is not sent again."""
        self.stage = stage
        self.levels = levels
        rect = QRectF(*stage.display_rect())
        if image is not None and rect != self.rect:
            self.rect = rect
            self.image_item.setRect(rect)
        self.set_title(stage.title, f"{levels[0]:.3g} … {levels[1]:.3g}")
        if image is not None:
            self.set_image(image, lut)
        self.show_maxima()

    @property
    def title(self) -> str:
        """The panel's title text."""
        return self._title

    def set_title(self, text: str, subtitle: str = "") -> None:
        """Show `text` above the panel, and `subtitle` (the value range) in small grey."""
        if (text, subtitle) != (self._title, self._subtitle):
            self._title, self._subtitle = text, subtitle
            small = f"<br><span style='font-size:8pt; color:#9aa0a6'>{subtitle}</span>" \
                if subtitle else ""
            self.label.setText(f"{text}{small}", color="#e8eaed", size="11pt")

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
        if not maxima or not maxima[0][2] > lo:
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
