"""The comparison rows under row A: B, and optionally A − B and |A − B|, all linked to A.

:class:`CompareRows` owns three :class:`~gui.panels.pipeline_row.PipelineRow` widgets (one
line each, so stacked rows line up stage by stage) and draws a
:class:`~gui.panels.views.StateView` into them. Row B's panel titles carry
each stage's distance, peak displacement and equivariance error; each row's
bottom line says what it shows.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal

from engine import InputTransform
from gui.docks.metrics import stage_summary
from gui.panels.pipeline_row import PipelineRow
from gui.panels.views import DISPOSER, StateView

DIVERGING = "CET-D1"  # blue < 0 (white) < red
ROW_STYLE = "color: #e8eaed; background: #2b2c30; padding: 2px 8px; font-weight: bold;"


class SceneFit(QObject):
    """Makes each row's panel layout fill its widget again after the widget was resized.

    Rows that are shown, hidden and resized as the comparison rows come and go can keep
    a panel layout of their earlier, larger size (its lower part then lies outside the
    widget); setting the layout's geometry to the widget's range again, once the resize
    has settled, repairs that.
    """

    def __init__(self, rows: list[PipelineRow], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows = list(rows)
        for row in self.rows:
            row.graphics.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            QTimer.singleShot(0, self.refit)
        return False

    def refit(self) -> None:
        """Fit every visible row's panel layout to its widget."""
        for row in self.rows:
            graphics = row.graphics
            if row.isVisible() and graphics.ci.geometry() != graphics.range:
                graphics.ci.setGeometry(graphics.range)


class AreaSync(QObject):
    """Keeps stacked rows showing the same input area: a zoom or pan in any row (or
    :meth:`follow`) shows that row's area in every other row.

    Rows in separate graphics scenes are not linked view to view: pyqtgraph aligns linked
    views by their scene positions, which differ between scenes, and aspect-locked views
    of slightly different sizes then push each other's ranges around.
    """

    def __init__(self, rows: list[PipelineRow], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows: list[PipelineRow] = []
        for row in rows:
            self.add(row)

    def add(self, row: PipelineRow) -> None:
        """Include `row`; its first panel's views must already exist."""
        view = row.panels[0].view
        view.setXLink(None)
        view.setYLink(None)
        self.rows.append(row)
        for panel in row.panels:
            panel.view.sigRangeChangedManually.connect(
                lambda *_, r=row: QTimer.singleShot(0, lambda: self.follow(r)))

    def follow(self, source: PipelineRow) -> None:
        """Show `source`'s current area in every other visible row."""
        area = source.panels[0].view.viewRect()
        for row in self.rows:
            if row is not source and row.isVisible():
                row.show_area(area)


class HoverEcho(QObject):
    """Outlines, in the other rows, the cells related to the hovered cell.

    Between A (``rows[0]``) and B (``rows[1]``) that is the counterpart under the
    transform that makes B from A (:meth:`engine.InputTransform.counterpart`: mirrored,
    flipped, rotated, shifted); between rows of the same shapes otherwise (B of another
    image, the difference rows, which are cell by cell A − B), the same cells.

    Parameters
    ----------
    rows : list of PipelineRow
        A, B, then any further rows.
    transform : callable, optional
        Returns the transform shown between A and B now, or None.
    """

    def __init__(self, rows: list[PipelineRow], parent: QObject | None = None,
                 transform: Callable[[], InputTransform | None] | None = None) -> None:
        super().__init__(parent)
        self.rows = list(rows)
        self.transform = transform or (lambda: None)
        for row in self.rows:
            row.hovered.connect(lambda i, r, c, source=row: self.echo(source, i, r, c))

    def echo(self, source: PipelineRow, index: int, row: int, col: int) -> None:
        """Show (index < 0: clear) the cells related to `source`'s cell in the other rows."""
        for other in self.rows:
            if other is not source and other.isVisible():
                other.show_related(self.related(source, other, index, row, col))

    def related(self, source: PipelineRow, other: PipelineRow, index: int, row: int,
                col: int) -> dict[int, tuple[int, int, int, int]] | None:
        """The cell ranges of `other` that correspond to `source`'s cell, per stage index."""
        if index < 0 or source.result is None or other.result is None:
            return None
        transform = self._transform_between(source, other)
        if transform is not None:
            if index >= len(other.result.stages):
                return None
            stage = source.result.stages[index]
            cell = transform.counterpart(row, col, stage.shape, stage.stride)
            rows, cols = other.result.stages[index].shape
            if cell is None or not (cell[0] < rows and cell[1] < cols):
                return None
            return other.result.related_cells(index, *cell)
        shapes = [s.shape for s in source.result.stages]
        if [s.shape for s in other.result.stages][:len(shapes)] != shapes:
            return None
        return source.result.related_cells(index, row, col)

    def _transform_between(self, source: PipelineRow, other: PipelineRow
                           ) -> InputTransform | None:
        transform = self.transform()
        if transform is None or transform.kind == "other" or len(self.rows) < 2:
            return None
        a, b = self.rows[0], self.rows[1]
        if (source, other) == (b, a):
            return transform
        if (source, other) == (a, b):
            return transform.inverse
        return None


class CompareRows(QObject):
    """Rows B, A − B and |A − B|; the window adds :attr:`rows` to its layout.

    Every row has the same title and bottom lines, so stacked panels are the same size
    and show the input area at the same scale.

    Signals
    -------
    drawn(int)
        A comparison was drawn into the rows; the argument is its request id.
    """

    drawn = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.b = PipelineRow(wrap=False)
        self.signed = PipelineRow(input_lut=DIVERGING, stage_lut=DIVERGING, wrap=False)
        self.magnitude = PipelineRow(input_lut="inferno", stage_lut="inferno", wrap=False)
        self.rows = [self.b, self.signed, self.magnitude]
        for row, text in zip(self.rows, ("B", "A − B (signed: blue < 0 < red)",
                                         "|A − B| (boxes: largest differences)"), strict=True):
            row.legend.setText(text)
            row.legend.setStyleSheet(ROW_STYLE)
            row.legend.setWordWrap(False)  # wrapping labels upset the rows' equal heights
            row.graphics.setAcceptDrops(False)
            row.setVisible(False)
        self.active = False
        self.show_signed = False
        self.show_magnitude = False
        self.view: StateView | None = None
        self.request_id = 0

    def set_active(self, on: bool) -> None:
        """Show (or hide) the comparison rows."""
        self.active = on
        self._update_visibility()

    def set_difference_rows(self, signed: bool, magnitude: bool) -> None:
        """Choose which difference rows are shown while comparing (they are drawn from
        the next comparison that prepared them)."""
        self.show_signed, self.show_magnitude = signed, magnitude
        self._update_visibility()

    def _update_visibility(self) -> None:
        self.b.setVisible(self.active)
        self.signed.setVisible(self.active and self.show_signed)
        self.magnitude.setVisible(self.active and self.show_magnitude)

    def show_view(self, view: StateView, request_id: int = 0) -> None:
        """Draw B with its per-stage metrics in the titles, and the shown difference rows."""
        DISPOSER.release(self.view)  # freed off the GUI thread once nothing else holds it
        self.view = view
        self.request_id = request_id
        comparison = view.comparison
        by_name = {c.name: c for c in comparison.stages}
        titles = []
        for stage in view.b.result.stages:
            comp = by_name.get(stage.name)
            titles.append((stage.title, "not in A") if comp is None else stage_summary(
                comp, comparison.transform.kind == "other", comparison.a[stage.name].stride))
        self.b.show_view(view.b, request_id, titles)
        self.b.legend.setText(f"B = {view.setup.description}")
        self._draw_differences(view, request_id)
        self.drawn.emit(request_id)

    def _draw_differences(self, view: StateView, request_id: int) -> None:
        for row, shown, data, prefix in ((self.signed, self.show_signed, view.signed, "A − B"),
                                         (self.magnitude, self.show_magnitude, view.magnitude,
                                          "|A − B|")):
            if not shown or data is None:
                continue
            # two lines, as rows A and B: equal titles keep the linked views equal
            titles = [(f"{prefix} {stage.name}",
                       f"± {hi:.3g}" if prefix == "A − B" else f"0 … {hi:.3g}")
                      for stage, (_lo, hi) in zip(data.result.stages, data.levels,
                                                  strict=True)]
            row.show_view(data, request_id, titles)
