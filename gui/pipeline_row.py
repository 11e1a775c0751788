"""A row of linked stage panels: Input, Convolution, Pool 1 ... Pool n.

:class:`PipelineRow` is a self-contained widget: give it :class:`~gui.render.PipelineView`
objects to draw, listen to :attr:`PipelineRow.hovered` for the cell under the
pointer, and call :meth:`PipelineRow.show_related` to outline related cells. All
panels share input-pixel coordinates and linked views, so zooming one zooms all;
:meth:`PipelineRow.link_to` links a second row (for example a comparison row) the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine import PipelineResult

from .render import PipelineView
from .stage_panel import StagePanel, colormap_lut

ImageItemFactory = Callable[[], pg.ImageItem]


class PipelineRow(QWidget):
    """Linked panels for the stages of one pipeline result.

    Parameters
    ----------
    input_item : pg.ImageItem, optional
        The image item of the Input panel (the editable canvas in the main window).
        When given, the Input panel's pixels come from :meth:`show_input`, not from
        results, so edits appear before the pipeline has run.
    input_lut, stage_lut : str
        Colormap names for the input and for the other stages.

    Signals
    -------
    hovered(int, int, int)
        Stage index, row and col of the cell under the pointer; (-1, -1, -1) when none.
    drawn(int)
        A result was drawn; the argument is its request id.
    """

    hovered = Signal(int, int, int)
    drawn = Signal(int)

    def __init__(self, input_item: pg.ImageItem | None = None, input_lut: str = "grey",
                 stage_lut: str = "viridis", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#202124")
        self.graphics.ci.setSpacing(4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self.input_lut = colormap_lut(input_lut)
        self.stage_lut = colormap_lut(stage_lut)
        self._live_input = input_item is not None
        self.panels: list[StagePanel] = []
        self._names: list[str] = []
        self._add_panel(input_item or pg.ImageItem())
        self.view: PipelineView | None = None
        self.request_id = 0
        self._hover: tuple[int, int, int] = (-1, -1, -1)
        self._fitted_shape: tuple[int, int] | None = None
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)

    # -- structure ------------------------------------------------------------------------------
    @property
    def result(self) -> PipelineResult | None:
        """The result drawn last, or None before the first."""
        return self.view.result if self.view is not None else None

    @property
    def input_panel(self) -> StagePanel:
        """The first panel."""
        return self.panels[0]

    def _add_panel(self, item: pg.ImageItem) -> StagePanel:
        col = len(self.panels)
        label = self.graphics.addLabel("", row=0, col=col)
        view = self.graphics.addViewBox(row=1, col=col)
        panel = StagePanel(label, view, item)
        if self.panels:
            panel.view.setXLink(self.panels[0].view)
            panel.view.setYLink(self.panels[0].view)
        self.panels.append(panel)
        return panel

    def _sync_panels(self, count: int) -> None:
        while len(self.panels) < count:
            self._add_panel(pg.ImageItem())
        while len(self.panels) > count:
            panel = self.panels.pop()
            self.graphics.removeItem(panel.label)
            self.graphics.removeItem(panel.view)

    def link_to(self, other: PipelineRow) -> None:
        """Link this row's views to `other`'s, so zooming and panning either moves both."""
        self.panels[0].view.setXLink(other.panels[0].view)
        self.panels[0].view.setYLink(other.panels[0].view)

    # -- drawing --------------------------------------------------------------------------------
    def show_input(self, image: np.ndarray, rect: tuple[int, int, int, int] | None = None) -> None:
        """Draw uint8 `image` in the Input panel (the live canvas); `rect` is the changed part.

        Only meaningful for a row built with `input_item`.
        """
        panel = self.input_panel
        h, w = image.shape
        panel.rect = QRectF(0, 0, w, h)
        if rect is None or panel.image_item.image is None \
                or panel.image_item.image.shape != image.shape:
            panel._drawn = None
            panel.set_image(image, self.input_lut)
        else:
            panel.image_item.updateImage(image)
        if self._fitted_shape != (h, w):
            self._fitted_shape = (h, w)
            self.fit()

    def show_view(self, view: PipelineView, request_id: int = 0) -> None:
        """Draw every stage of `view`, its maxima and the receptive field of the deepest maximum.

        Emits :attr:`drawn` with `request_id` when done.
        """
        self.view = view
        self.request_id = request_id
        stages = view.result.stages
        self._sync_panels(len(stages))
        for i, (panel, stage, image) in enumerate(zip(self.panels, stages, view.images,
                                                      strict=True)):
            if i == 0 and self._live_input:
                panel.stage = stage
                panel.set_title(stage.title)
                panel.show_maxima()
            else:
                panel.show_stage(stage, image, self.input_lut if i == 0 else self.stage_lut)
        deepest = stages[-1]
        if len(stages) > 1 and deepest.maxima:
            r, c, _ = deepest.maxima[0]
            self.input_panel.show_field(deepest.receptive_field(r, c))
        else:
            self.input_panel.show_field(None)
        if self._fitted_shape != stages[0].shape:
            self._fitted_shape = stages[0].shape
            self.fit()
        if self._hover[0] >= 0:
            self._emit_hover(*self._hover, force=True)
        self.drawn.emit(request_id)

    def fit(self) -> None:
        """Show the whole input in every (linked) panel."""
        panel = self.input_panel
        if self._fitted_shape is not None:
            h, w = self._fitted_shape
            panel.view.setRange(QRectF(0, 0, w, h), padding=0.02)

    def show_related(self, related: dict[int, tuple[int, int, int, int]] | None) -> None:
        """Outline, per stage index, a half-open cell range ``(r0, c0, r1, c1)``; None clears."""
        for i, panel in enumerate(self.panels):
            panel.show_hover(None if related is None else related.get(i))

    # -- hover ----------------------------------------------------------------------------------
    def cell_under(self, scene_pos: QPointF) -> tuple[int, int, int]:
        """Return (stage index, row, col) under a scene position, or (-1, -1, -1)."""
        for i, panel in enumerate(self.panels):
            if panel.view.sceneBoundingRect().contains(scene_pos):
                p = panel.view.mapSceneToView(scene_pos)
                cell = panel.cell_at(p.x(), p.y())
                if cell is not None:
                    return i, cell[0], cell[1]
                break
        return -1, -1, -1

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self._emit_hover(*self.cell_under(scene_pos))

    def _emit_hover(self, index: int, row: int, col: int, force: bool = False) -> None:
        result = self.result
        if result is not None and index >= len(result.stages):
            index, row, col = -1, -1, -1
        if result is not None and index >= 0:
            rows, cols = result.stages[index].shape
            if not (row < rows and col < cols):
                index, row, col = -1, -1, -1
        if (index, row, col) == self._hover and not force:
            return
        self._hover = (index, row, col)
        if index < 0 or result is None:
            self.show_related(None)
        else:
            self.show_related(result.related_cells(index, row, col))
        self.hovered.emit(index, row, col)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self._emit_hover(-1, -1, -1)
        super().leaveEvent(event)
