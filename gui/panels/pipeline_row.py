"""A row of linked stage panels: Input, Convolution, Pool 1 ... Pool n.

:class:`PipelineRow` is a self-contained widget: give it :class:`~gui.panels.views.PipelineView`
objects to draw, listen to :attr:`PipelineRow.hovered` for the cell under the
pointer, and call :meth:`PipelineRow.show_related` to outline related cells. All
panels share input-pixel coordinates and linked views, so zooming one zooms all;
:meth:`PipelineRow.link_to` links a second row (for example a comparison row) the same way.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QTimer, Signal
from PySide6.QtWidgets import QGraphicsGridLayout, QLabel, QVBoxLayout, QWidget

from engine import PipelineResult
from gui.panels.stage_panel import (
    BAR_HEIGHT,
    FIELD_COLOR,
    HOVER_COLOR,
    MAX_COLOR,
    TOPK_COLOR,
    ColorBar,
    IndexedImageItem,
    StagePanel,
    TitleLabel,
    colormap_lut,
)
from gui.panels.views import DISPOSER, MIN_SCREEN, PipelineView, detail_request_class
from gui.worker import JobDone, JobFailed, error_message

#: A zoomed-in panel asks for its visible part at full resolution once its reduced image
#: has fewer than this share of the screen pixels it covers.
DETAIL_BELOW = 0.9

@contextmanager
def laid_out_once(layout: QGraphicsGridLayout) -> Iterator[None]:
    """Re-place many items in `layout` and lay it out once, at the end.

    pyqtgraph's ``GraphicsLayout.addItem`` activates the whole layout after every item it
    adds: re-placing the 24 titles, views and bars of an 8-stage row so took about 80 ms
    of the GUI thread, against about 16 ms with one activation.
    """
    layout.activate = lambda: None  # an instance attribute: shadows the method meanwhile
    try:
        yield
    finally:
        del layout.activate
        layout.activate()


#: During a drag the hover follows the results; without one for this long, it follows the
#: pointer (milliseconds).
HOVER_IN_DRAG_MS = 50

LEGEND = (
    f"<span style='color:{MAX_COLOR}'>&#9633;</span> largest cell &nbsp;&nbsp; "
    f"<span style='color:{TOPK_COLOR}'>&#9675;</span> next largest (top-k) &nbsp;&nbsp; "
    f"<span style='color:{FIELD_COLOR}'>&#9482;&#9482;</span> input pixels that feed the "
    "deepest maximum (none when no feature is left) &nbsp;&nbsp; "
    f"<span style='color:{HOVER_COLOR}'>&#9633;</span> cells related to the hovered cell"
)


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
    wrap : bool
        Spread the panels over several lines when that makes them larger (the default);
        False keeps them on one line (for stacking rows to compare them).
    bars : bool
        Draw a colour bar under each panel (the default).

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
                 stage_lut: str = "viridis", wrap: bool = True, bars: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#202124")
        self.graphics.ci.setSpacing(4)
        self.legend = QLabel(LEGEND)
        self.legend.setWordWrap(True)
        self.legend.setToolTip("Wheel: zoom. Middle drag: pan. Every panel follows.")
        self.legend.setStyleSheet("color: #c8c8c8; background: #202124; padding: 3px 8px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # why the pooled panels drift (blurmax); shown while the row stands alone, the
        # Metrics dock says it while comparing (a note here would make the rows unequal)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #3c3c3c; background: #fff8e1; padding: 3px 8px;")
        self.note.setVisible(False)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.legend)
        self.input_lut = colormap_lut(input_lut)
        self.stage_lut = colormap_lut(stage_lut)
        self._live_input = input_item is not None
        self.wrap = wrap
        self._columns = 0
        self.panels: list[StagePanel] = []
        self.view: PipelineView | None = None
        self.request_id = 0
        self._hover: tuple[int, int, int] = (-1, -1, -1)
        self._fitted_shape: tuple[int, int] | None = None
        self._area: QRectF | None = None  # what the views show, in input coordinates
        # With shared colour levels every stage after the input has one range: one bar
        # for them all, under the first of them, instead of one per panel.
        self.shared_bar = ColorBar()
        self.shared_bar.setVisible(False)
        self.shared_bars = False
        self.bars = bars
        self._add_panel(input_item or IndexedImageItem())
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        # the visible part at full resolution, asked for once a zoom or draw has settled
        self._detail_kind = detail_request_class(f"row{id(self):x}")
        self._detail_runner = None
        self._detail_timer = QTimer(self)
        self._detail_timer.setSingleShot(True)
        self._detail_timer.setInterval(0)
        self._detail_timer.timeout.connect(self.request_detail)
        self.panels[0].view.sigRangeChanged.connect(lambda *_: self._detail_timer.start())
        #: The cell hovered during a drag, outlined with the drag's next result.
        self._pending_hover: tuple[int, int, int] | None = None
        self._hover_timer = QTimer(self)
        self._hover_timer.setSingleShot(True)
        self._hover_timer.setInterval(HOVER_IN_DRAG_MS)
        self._hover_timer.timeout.connect(self._emit_pending_hover)

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
        label = TitleLabel()  # never wider than its column: every panel gets the same width
        view = pg.ViewBox()
        panel = StagePanel(label, view, item)
        if self.panels:
            panel.view.setXLink(self.panels[0].view)
            panel.view.setYLink(self.panels[0].view)
        view.sigRangeChangedManually.connect(lambda *_: self._on_user_range(view))
        self.panels.append(panel)
        self._place(panel, len(self.panels) - 1, self._columns or len(self.panels))
        return panel

    def _place(self, panel: StagePanel, index: int, columns: int) -> None:
        """Put a panel's title, view and (unless one shared bar stands for it) colour bar
        in line ``index // columns``: three layout rows per line."""
        r, c = divmod(index, columns)
        self.graphics.ci.addItem(panel.label, row=3 * r, col=c)
        self.graphics.ci.addItem(panel.view, row=3 * r + 1, col=c)
        own_bar = self.bars and (index == 0 or not self.shared_bars)
        panel.bar.setVisible(own_bar)
        if own_bar:
            self.graphics.ci.addItem(panel.bar, row=3 * r + 2, col=c)
        one_bar = self.bars and self.shared_bars
        if index == 1 and one_bar:  # the row's one bar, to the end of the line
            self.graphics.ci.addItem(self.shared_bar, row=3 * r + 2, col=c, rowspan=1,
                                     colspan=columns - c)
        self.shared_bar.setVisible(one_bar and len(self.panels) > 1)
        # the bar hugs its view: no layout spacing between them
        self.graphics.ci.layout.setRowSpacing(3 * r + 1, 0 if self.bars else
                                              self.graphics.ci.layout.verticalSpacing())

    def _unplace(self, panel: StagePanel) -> None:
        for item in (panel.label, panel.view, panel.bar):
            if item in self.graphics.ci.items:
                self.graphics.ci.removeItem(item)

    def _sync_panels(self, count: int) -> None:
        changed = len(self.panels) != count
        while len(self.panels) < count:
            self._add_panel(IndexedImageItem())
        while len(self.panels) > count:
            self._unplace(self.panels.pop())
        if changed:
            self._arrange(force=True)

    def best_columns(self) -> int:
        """How many panels per line make them largest in the current widget size.

        A row built with ``wrap=False`` keeps every panel on one line.
        """
        n = len(self.panels)
        if not self.wrap or n <= 1:
            return max(1, n)
        h, w = self._fitted_shape or (1, 1)
        width, height = max(1, self.graphics.width()), max(1, self.graphics.height())
        title = 40 + BAR_HEIGHT * self.bars  # pixels of title above, colour bar under

        def side(cols: int) -> float:
            lines = -(-n // cols)
            cell_w, cell_h = width / cols, height / lines - title
            return min(cell_w / w, cell_h / h)

        return max(range(1, n + 1), key=side)

    def _arrange(self, force: bool = False, refit: bool = False) -> None:
        """Lay the panels out in the best number of columns (again if `force`); fit the
        views to the input when the columns change or `refit` asks for it."""
        columns = self.best_columns()
        if columns == self._columns and not force:
            return
        self._columns = columns
        with laid_out_once(self.graphics.ci.layout):
            for panel in self.panels:
                self._unplace(panel)
            if self.shared_bar in self.graphics.ci.items:
                self.graphics.ci.removeItem(self.shared_bar)
            for i, panel in enumerate(self.panels):
                self._place(panel, i, columns)
        grid = self.graphics.ci.layout
        for c in range(grid.columnCount()):
            grid.setColumnStretchFactor(c, 1 if c < columns else 0)
        if refit or self._area is None:
            self.fit()
        self._reapply_area()

    def _reapply_area(self) -> None:
        # Views that are resized or re-placed keep a locked aspect by widening their range;
        # showing the remembered area again, once the layout has settled, undoes that.
        QTimer.singleShot(0, self._apply_area)

    def _apply_area(self) -> None:
        if self._area is not None:
            self.panels[0].view.setRange(self._area, padding=0)

    def _on_user_range(self, view: pg.ViewBox) -> None:
        self._area = view.viewRect()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._arrange()
        self._reapply_area()
        self._detail_timer.start()

    def panel_pixels(self) -> tuple[int, int]:
        """The device pixels (rows, cols) of the largest panel view (at least
        :data:`~gui.panels.views.MIN_SCREEN` a side): stages with many more cells are
        drawn from a copy reduced to it."""
        ratio = self.graphics.devicePixelRatioF()
        rows = max((p.view.height() for p in self.panels), default=0) * ratio
        cols = max((p.view.width() for p in self.panels), default=0) * ratio
        return max(MIN_SCREEN, math.ceil(rows)), max(MIN_SCREEN, math.ceil(cols))

    # -- full resolution where zoomed in ------------------------------------------------------
    def detail_cells(self, index: int) -> tuple[int, int, int, int] | None:
        """The cells ``(r0, c0, r1, c1)`` of stage `index` that its zoomed-in panel shows
        when its reduced image has fewer pixels there than the screen, else None."""
        panel = self.panels[index]
        if not panel.reduced or panel.view.width() <= 0 or (index == 0 and self._live_input):
            return None  # (the live canvas draws its own zoomed-in part)
        area = panel.view.viewRect()
        seen = area.intersected(panel.rect)
        if seen.isEmpty():
            return None
        drawn_cols = panel.image_item.image.shape[1] * seen.width() / panel.rect.width()
        screen_cols = seen.width() * panel.view.width() / area.width() \
            * self.graphics.devicePixelRatioF()
        if drawn_cols >= DETAIL_BELOW * screen_cols:
            return None
        rows, cols = panel.stage.shape
        sx, sy = panel.cell_size()
        c0 = max(0, math.floor((seen.left() - panel.rect.x()) / sx) - 1)
        r0 = max(0, math.floor((seen.top() - panel.rect.y()) / sy) - 1)
        c1 = min(cols, math.ceil((seen.right() - panel.rect.x()) / sx) + 1)
        r1 = min(rows, math.ceil((seen.bottom() - panel.rect.y()) / sy) + 1)
        return (r0, c0, r1, c1) if r0 < r1 and c0 < c1 else None

    def request_detail(self) -> int:
        """Ask the worker for the visible part of every zoomed-in panel whose reduced image
        is coarser than the screen; hide the parts no longer needed. Returns the request
        id (0 when nothing is asked)."""
        view = self.view
        runner = self._detail_runner or getattr(self.window(), "runner", None)
        if view is None or runner is None or not self.isVisible():
            return 0
        if self._detail_runner is None:
            self._detail_runner = runner
            runner.subscribe(self._detail_kind, done=self._on_detail, failed=self._on_detail_failed,
                             owner=self)
        count = len(view.result.stages)
        cells = tuple(self.detail_cells(i) for i in range(count))
        for panel, wanted in zip(self.panels, cells, strict=False):
            if wanted is None:
                panel.clear_detail()
        if all(c is None or c == p.detail_cells for c, p in zip(cells, self.panels, strict=False)):
            return 0
        return runner.submit(self._detail_kind(view.result, cells, tuple(view.levels),
                                               tuple(view.reductions), self.panel_pixels()))

    def _on_detail(self, event: JobDone) -> None:
        request = event.request
        if self.view is None or request.result is not self.view.result:
            return  # made for a result no longer shown
        for i, (panel, image, cells) in enumerate(zip(self.panels, event.result, request.cells,
                                                      strict=False)):
            if image is not None and cells == self.detail_cells(i):
                panel.show_detail(image, cells, self.input_lut if i == 0 else self.stage_lut)

    def _on_detail_failed(self, event: JobFailed) -> None:
        print(f"shiftlab: cannot draw the zoomed-in part: {error_message(event.error)}",
              file=sys.stderr)

    def set_wrap(self, on: bool) -> None:
        """Spread the panels over several lines (True) or keep them on one line (False)."""
        if on != self.wrap:
            self.wrap = on
            self._arrange(force=True)
            self._show_note()

    def link_to(self, other: PipelineRow) -> None:
        """Link this row's views to `other`'s, so zooming and panning either moves both."""
        self.panels[0].view.setXLink(other.panels[0].view)
        self.panels[0].view.setYLink(other.panels[0].view)

    # -- drawing --------------------------------------------------------------------------------
    def show_input(self, image: np.ndarray, rect: tuple[int, int, int, int] | None = None,
                   shape: tuple[int, int] | None = None) -> None:
        """Draw uint8 `image` in the Input panel (the live canvas); `rect` is the changed part,
        `shape` the canvas' (when `image` is a reduced copy stretched over it).

        Only meaningful for a row built with `input_item`.
        """
        panel = self.input_panel
        h, w = image.shape if shape is None else shape
        panel.rect = QRectF(0, 0, w, h)
        if rect is None or panel.image_item.image is None \
                or panel.image_item.image.shape != image.shape:
            panel._drawn = None
            panel.set_image(image, self.input_lut)
        else:
            panel.image_item.updateImage(image)
        if self._fitted_shape != (h, w):
            self._fitted_shape = (h, w)
            self._arrange(force=True, refit=True)

    def show_view(self, view: PipelineView, request_id: int = 0,
                  titles: list[tuple[str, str]] | None = None) -> None:
        """Draw every stage of `view`, its maxima and the receptive field of the deepest maximum.

        `titles` (a title and subtitle per stage) replace the stages' titles and ranges.
        Emits :attr:`drawn` with `request_id` when done.
        """
        if view is self.view:  # reused by the worker (only the other row's input changed):
            self.request_id = request_id  # nothing to draw, and the zoomed detail stays
            for panel, title in zip(self.panels, titles or [], strict=False):
                panel.set_title(*title)
            self._set_tips()
            self.drawn.emit(request_id)
            return
        DISPOSER.release(self.view)  # the view drawn before is freed off this thread
        self.view = view
        self.request_id = request_id
        stages = view.result.stages
        self._sync_panels(len(stages))
        for i, (panel, stage, image, levels) in enumerate(
                zip(self.panels, stages, view.images, view.levels, strict=True)):
            live = i == 0 and self._live_input  # the canvas draws its own pixels
            panel.show_stage(stage, None if live else image,
                             self.input_lut if i == 0 else self.stage_lut, levels,
                             view.shared_levels and i > 0,  # the input keeps its own
                             titles[i] if titles else None)
        shared = view.shared_levels and len(stages) > 1
        if shared:  # every stage after the input has the range of the first of them
            self.shared_bar.set_range(view.levels[1], self.stage_lut, "shared ")
        if shared != self.shared_bars:
            self.shared_bars = shared
            self._arrange(force=True)
        deepest, last = stages[-1], self.panels[len(stages) - 1]
        if len(stages) > 1 and last.has_maximum:
            r, c, _ = deepest.maxima[0]
            self.input_panel.show_field(deepest.receptive_field(r, c))
        else:
            self.input_panel.show_field(None)
            if len(stages) > 1 and titles is None:
                last.set_title(deepest.title, f"{last.range_text()} · no feature left")
        result = view.result
        if result.levels_produced != result.levels_requested and titles is None:
            last.set_title(last.title, f"{last.subtitle} · {result.levels_produced} of "
                                       f"{result.levels_requested} levels")
        self._set_tips()
        self._show_note()
        if self._fitted_shape != stages[0].shape:
            self._fitted_shape = stages[0].shape
            self._arrange(force=True, refit=True)
        if self._pending_hover is not None:
            self._emit_pending_hover()
        elif self._hover[0] >= 0:
            self._emit_hover(*self._hover, force=True)
        self._detail_timer.start()
        self.drawn.emit(request_id)

    def _set_tips(self) -> None:
        """Each shown panel's title tooltip: the whole title and subtitle (also when the
        panel is too narrow for them), the colour scale, and why pooling stopped (the last
        panel) or why pooled panels drift."""
        view = self.view
        result = view.result
        shown = self.panels[:len(result.stages)]
        for panel in shown:
            tip = f"{panel.title}\n{panel.subtitle}\n{panel.scale_text()}"
            if panel is shown[-1] and result.stop_reason:
                tip += f"\n\n{result.stop_reason}"
            if view.drift_note and panel.stage.name.startswith("pool"):
                tip += f"\n\n{view.drift_note}"
            panel.label.setToolTip(tip)

    def _show_note(self) -> None:
        note = self.view.drift_note if self.view is not None else None
        self.note.setText(note or "")
        self.note.setVisible(bool(note) and self.wrap)

    def fit(self) -> None:
        """Show the whole input in every (linked) panel."""
        if self._fitted_shape is not None:
            h, w = self._fitted_shape
            pad = 0.02 * max(h, w)
            self.show_area(QRectF(-pad, -pad, w + 2 * pad, h + 2 * pad))

    def zoom(self, factor: float) -> None:
        """Scale the shown area by `factor` around its centre (below 1 zooms in)."""
        area = self.panels[0].view.viewRect()
        c = area.center()
        w, h = area.width() * factor, area.height() * factor
        self.show_area(QRectF(c.x() - w / 2, c.y() - h / 2, w, h))

    def show_area(self, rect: QRectF) -> None:
        """Show (at least) the input-coordinate rectangle `rect` in every (linked) panel,
        and keep showing it when the panels are resized or re-arranged."""
        self._area = QRectF(rect)
        self._apply_area()

    def show_related(self, related: dict[int, tuple[int, int, int, int]] | None) -> None:
        """Outline, per stage index, a half-open cell range ``(r0, c0, r1, c1)``; None clears."""
        for i, panel in enumerate(self.panels):
            panel.show_hover(None if related is None else related.get(i))

    # -- hover ----------------------------------------------------------------------------------
    @property
    def hovered_cell(self) -> tuple[int, int, int]:
        """(stage index, row, col) of the cell under the pointer; (-1, -1, -1) when none."""
        return self._hover

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
        cell = self.cell_under(scene_pos)
        if self.graphics.scene().mouseGrabberItem() is None:
            self._emit_hover(*cell)
            return
        # A drag on the canvas: its edit's result is drawn next, with the hover of where the
        # pointer is then; outlining cells of the result about to be replaced (here and in
        # the other rows) only holds that result back.
        self._pending_hover = cell
        if not self._hover_timer.isActive():
            self._hover_timer.start()  # in case the drag changes nothing

    def _emit_pending_hover(self) -> None:
        self._hover_timer.stop()
        if self._pending_hover is not None:
            cell, self._pending_hover = self._pending_hover, None
            self._emit_hover(*cell, force=True)

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
