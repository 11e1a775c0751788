"""A network's layers as linked panels over the input, and a grid of one layer's channels.

:class:`LayersView` draws the input as the network got it and one panel per chosen layer
(:class:`engine.networks.LayerPanel`), each placed over the input in input pixels
(``panel.rect``), all views linked, titled with its channels x rows x cols. Each panel
shows the maximum over channels ("max") or one channel ("ch N"), its largest cell (red
box); the input shows the receptive field of the deepest panel's largest cell (dashed
green). Hovering a cell says its layer, channel, row, col and
value, and outlines the related cells of every other panel
(:meth:`LayerPanel.related_cells`) and its receptive field on the input.

:class:`ChannelGrid` shows every channel of one layer as a thumbnail, in the panel's
channel order; choosing one shows it large in its panel, "max over channels" goes back.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsRectItem, QListView, QListWidget, QListWidgetItem

from engine.display import to_uint8
from engine.networks import LayerPanel, short_name
from gui.network.requests import DrawnRun, panel_image

PEAK_PEN = QPen(QColor("#e8000b"), 0)
FIELD_PEN = QPen(QColor("#1ac938"), 0, Qt.PenStyle.DashLine)
HOVER_PEN = QPen(QColor("#ffc400"), 0)
#: Thumbnails shown at most in a channel grid (the first in the panel's order).
MAX_THUMBNAILS = 256
THUMB = 56


def _set_text(label: pg.LabelItem, text: str) -> None:
    """Set a title only when it changes (each change lays the whole scene out again)."""
    if label.text != text:
        label.setText(text)


def _box(pen: QPen) -> QGraphicsRectItem:
    item = QGraphicsRectItem()
    pen = QPen(pen)
    pen.setCosmetic(True)
    pen.setWidth(2)
    item.setPen(pen)
    item.setZValue(10)
    item.setVisible(False)
    return item


def _cells_rect(panel: LayerPanel, r0: int, c0: int, r1: int, c1: int) -> QRectF:
    """Cells ``[r0, r1) x [c0, c1)`` of `panel` as drawn, in input pixels."""
    x0, y0, _, _ = panel.rect
    sy, sx = panel.stride
    return QRectF(x0 + c0 * sx, y0 + r0 * sy, (c1 - c0) * sx, (r1 - r0) * sy)


class LayersView(pg.GraphicsLayoutWidget):
    """The input and the chosen layers of one network, linked (see the module notes).

    Attributes
    ----------
    drawn : DrawnRun or None
        What is drawn.
    channels : dict
        Layer name -> the channel shown large (absent: the maximum over channels).
    hovered_cell : (str, int, int, int) or None
        The layer, channel, row and col of the layer cell under the pointer (the channel
        shown there: the largest one under "max"), None over no layer cell.

    Signals
    -------
    hovered(str)
        The hovered cell described (empty when the pointer is over no cell).
    layer_clicked(str)
        A layer's panel was clicked (its channels can be shown in a grid).
    """

    hovered = Signal(str)
    layer_clicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.setMinimumSize(280, 110)
        self.drawn: DrawnRun | None = None
        self.channels: dict[str, int] = {}
        self.hovered_cell: tuple[str, int, int, int] | None = None
        self.boxes: list[pg.ViewBox] = []
        self.images: list[pg.ImageItem] = []
        self.labels: list[pg.LabelItem] = []
        self.peaks: list[QGraphicsRectItem] = []
        self.outlines: list[QGraphicsRectItem] = []
        self.field = _box(FIELD_PEN)
        self._names: tuple[str, ...] | None = None
        self.scene().sigMouseMoved.connect(self._on_mouse)
        self.scene().sigMouseClicked.connect(self._on_click)

    # -- building ---------------------------------------------------------------------------
    def _build(self, count: int) -> None:
        self.clear()
        self.boxes, self.images, self.labels, self.peaks, self.outlines = [], [], [], [], []
        for i in range(count):
            label = self.addLabel("", row=0, col=i, size="7pt", color="k")
            box = self.addViewBox(row=1, col=i, lockAspect=True, invertY=True,
                                  enableMenu=False)
            image = pg.ImageItem()
            box.addItem(image)
            peak, outline = _box(PEAK_PEN), _box(HOVER_PEN)
            box.addItem(peak)
            box.addItem(outline)
            if self.boxes:
                box.setXLink(self.boxes[0])
                box.setYLink(self.boxes[0])
            self.boxes.append(box)
            self.images.append(image)
            self.labels.append(label)
            self.peaks.append(peak)
            self.outlines.append(outline)
        self.field = _box(FIELD_PEN)
        self.boxes[0].addItem(self.field)

    def link_to(self, other: LayersView) -> None:
        """Link this view's panels to `other`'s (rows of networks side by side)."""
        if self.boxes and other.boxes and other is not self:
            self.boxes[0].setXLink(other.boxes[0])
            self.boxes[0].setYLink(other.boxes[0])

    @property
    def panels(self) -> tuple[LayerPanel, ...]:
        """The layer panels drawn (after the input)."""
        return () if self.drawn is None else self.drawn.view.panels

    def show_run(self, drawn: DrawnRun) -> bool:
        """Draw `drawn`; return True when the panels were rebuilt (other layers or input
        size), so linked views are linked again and fitted."""
        view = drawn.view
        key = (view.layer_names, view.prepared.shape)
        rebuilt = key != self._names
        if rebuilt:
            self._build(1 + len(view.panels))
            self._names = key
            self.channels = {k: v for k, v in self.channels.items() if k in view.layer_names}
        self.drawn = drawn
        h, w = view.prepared.shape
        self.images[0].setImage(drawn.input_image, levels=(0, 255), autoLevels=False)
        self.images[0].setRect(QRectF(0, 0, w, h))
        _set_text(self.labels[0], f"input {h}x{w}")
        for i, panel in enumerate(view.panels, start=1):
            self._draw_panel(i, panel, drawn.images[i - 1])
        if view.panels:
            deepest = view.panels[-1]
            top, left, bottom, right = deepest.peak_field
            self.field.setRect(QRectF(left, top, right - left, bottom - top))
            self.field.setVisible(True)
        else:
            self.field.setVisible(False)
        if rebuilt:
            self.fit()
        return rebuilt

    def _draw_panel(self, i: int, panel: LayerPanel, maximum: np.ndarray) -> None:
        channel = self.channels.get(panel.name)
        image = maximum if channel is None else panel_image(panel.channel_map(channel))
        self.images[i].setImage(image, levels=(0, 255), autoLevels=False)
        self.images[i].setRect(QRectF(*panel.rect))
        c, h, w = panel.shape
        what = "max" if channel is None else f"ch {channel}"
        _set_text(self.labels[i], f"{short_name(panel.name)}<br>{c}x{h}x{w} · {what}")
        row, col, _ = panel.map_maxima(channel, 1)[0]
        self.peaks[i].setRect(_cells_rect(panel, row, col, row + 1, col + 1))
        self.peaks[i].setVisible(True)

    def set_channel(self, layer: str, channel: int | None) -> None:
        """Show `channel` of `layer` large (None: the maximum over channels)."""
        if channel is None:
            self.channels.pop(layer, None)
        else:
            self.channels[layer] = int(channel)
        if self.drawn is not None:
            for i, panel in enumerate(self.panels, start=1):
                if panel.name == layer:
                    self._draw_panel(i, panel, self.drawn.images[i - 1])

    def fit(self) -> None:
        """Show the input and every map whole."""
        if self.drawn is None or not self.boxes:
            return
        rects = [QRectF(*p.rect) for p in self.panels]
        h, w = self.drawn.view.prepared.shape
        whole = QRectF(0, 0, w, h)
        for r in rects:
            whole = whole.united(r)
        self.boxes[0].setRange(whole, padding=0.02)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # Linked views with locked aspect keep the range they had while the row was being
        # laid out (tiny), which shows the maps far too small: fit again at the new size.
        if getattr(self, "drawn", None) is not None:  # pyqtgraph resizes during __init__
            self.fit()

    # -- pointer ----------------------------------------------------------------------------
    def _box_at(self, pos) -> int | None:
        for i, box in enumerate(self.boxes):
            if box.sceneBoundingRect().contains(pos):
                return i
        return None

    def hide_outlines(self) -> None:
        """Remove the hover outlines."""
        for item in self.outlines:
            item.setVisible(False)

    def hover_at(self, index: int, y: float, x: float) -> str:
        """Outline what relates to input position (y, x) of panel `index` (0: the input)
        and describe it; return the description ("" over no cell)."""
        self.hide_outlines()
        self.hovered_cell = None
        if self.drawn is None:
            return ""
        panels = self.panels
        view = self.drawn.view
        if index == 0:
            h, w = view.prepared.shape
            r, c = int(np.floor(y)), int(np.floor(x))
            if not (0 <= r < h and 0 <= c < w):
                return ""
            for i, other in enumerate(panels, start=1):
                cell = other.cell_at(y, x)
                if cell is not None:
                    self.outlines[i].setRect(_cells_rect(other, *cell, cell[0] + 1, cell[1] + 1))
                    self.outlines[i].setVisible(True)
            return (f"input (as the network gets it)   row {r}, col {c}   value "
                    f"{float(view.prepared.pixels[0, r, c]):.4g}")
        panel = panels[index - 1]
        cell = panel.cell_at(y, x)
        if cell is None:
            return ""
        row, col = cell
        value = panel.value_at(row, col, self.channels.get(panel.name))
        self.hovered_cell = (panel.name, value.channel, row, col)
        self.outlines[index].setRect(_cells_rect(panel, row, col, row + 1, col + 1))
        self.outlines[index].setVisible(True)
        for i, other in enumerate(panels, start=1):
            if other is panel:
                continue
            related = panel.related_cells(row, col, other)
            if related is not None:
                self.outlines[i].setRect(_cells_rect(other, *related))
                self.outlines[i].setVisible(True)
        top, left, bottom, right = panel.receptive_field(row, col)
        self.outlines[0].setRect(QRectF(left, top, right - left, bottom - top))
        self.outlines[0].setVisible(True)
        return (f"{panel.title}   channel {value.channel}, row {value.row}, col {value.col}"
                f"   value {value.value:.4g}   receptive field rows {top}..{bottom - 1}, "
                f"cols {left}..{right - 1}")

    def _on_mouse(self, pos) -> None:
        index = self._box_at(pos)
        if index is None:
            self.hide_outlines()
            self.hovered_cell = None
            self.hovered.emit("")
            return
        p = self.boxes[index].mapSceneToView(pos)
        self.hovered.emit(self.hover_at(index, p.y(), p.x()))

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.hovered_cell = None
        super().leaveEvent(event)

    def _on_click(self, event) -> None:
        index = self._box_at(event.scenePos())
        if index is not None and index > 0 and index - 1 < len(self.panels):
            self.layer_clicked.emit(self.panels[index - 1].name)


def _thumbnail(array: np.ndarray, lo: float, hi: float) -> QIcon:
    img = to_uint8(array, lo, hi)  # lo is the channel's smallest value
    h, w = img.shape
    qimage = QImage(img.data, w, h, w, QImage.Format.Format_Grayscale8).copy()
    return QIcon(QPixmap.fromImage(qimage).scaled(
        THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation))


class ChannelGrid(QListWidget):
    """One layer's channels as thumbnails (the panel's order), after a "max over channels"
    entry; choosing one emits :attr:`channel_chosen`.

    Signals
    -------
    channel_chosen(str, object)
        The layer name and the channel (None: the maximum over channels).
    """

    channel_chosen = Signal(str, object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setSpacing(2)
        self.panel: LayerPanel | None = None
        self.itemClicked.connect(self._on_item)

    def show_panel(self, panel: LayerPanel | None) -> None:
        """Show the channels of `panel` (its first :data:`MAX_THUMBNAILS` in its order)."""
        self.panel = panel
        self.clear()
        if panel is None:
            return
        top = QListWidgetItem("max")
        top.setToolTip("the maximum over channels")
        top.setData(Qt.ItemDataRole.UserRole, -1)
        top.setIcon(_thumbnail(panel.channel_max, float(panel.channel_max.min()),
                               float(panel.channel_max.max())))
        self.addItem(top)
        for c in panel.order[:MAX_THUMBNAILS]:
            item = QListWidgetItem(str(c))
            item.setToolTip(f"{panel.title}: channel {c}, peak {panel.channel_peaks[c]:.4g}")
            item.setData(Qt.ItemDataRole.UserRole, int(c))
            item.setIcon(_thumbnail(panel.activations[c], float(panel.channel_lows[c]),
                                    float(panel.channel_peaks[c])))
            self.addItem(item)

    def _on_item(self, item: QListWidgetItem) -> None:
        if self.panel is None:
            return
        c = int(item.data(Qt.ItemDataRole.UserRole))
        self.channel_chosen.emit(self.panel.name, None if c < 0 else c)
