"""The Inspector dock: the arithmetic behind one cell, as small grids of numbers.

Click a cell of a stage panel in row A or B (a left click that is not a drag; on the Input
panel a left press edits the canvas, so there the key does it) or press ``I`` over any
cell. The cell is explained by :func:`engine.explain.explain_cell` on the worker (an
:class:`ExplainRequest` holding the row's frozen result), never on the GUI thread: an APS
cell reads the norms of a whole map, which on a 12 MP photo takes milliseconds. The dock
shows, for a convolution, the input patch, the kernel, the products, their sum and the
activation; for pooling, the window with the winner marked, the blur taps (blurmax, blur)
or the phase kept (APS). Hovering a grid cell outlines where it comes from on the panels.
The inspected cell follows every new result of its row.

In network mode, ``I`` over a cell of a layer panel splits it into its input channels
(:func:`engine.networks.explain_layer.explain_layer_cell`, on the worker through a
:class:`LayerExplainRequest`): the channels contributing most, with their contribution and
share, and whether the contributions and the bias give onnxruntime's Conv output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import PipelineResult
from engine.explain import CellExplanation, explain_cell
from engine.networks import NetworkChoice, NetworkView, short_name
from engine.networks.explain_layer import LayerCellExplanation, explain_layer_cell
from gui.panels.pipeline_row import PipelineRow
from gui.worker import JobContext, JobDone, JobFailed, Request, error_message

#: How the grids print a number, and the value line (more digits).
NUMBER = "{:.4g}"
VALUE = "{:.6g}"
WINNER_BG = "#ff2d55"
PADDED_FG = "#8a8f98"
CELL_W, CELL_H = 66, 20
#: Input channels listed for a network layer cell.
TOP_CHANNELS = 8


@dataclass(frozen=True, slots=True, eq=False)
class ExplainRequest(Request[CellExplanation]):
    """Explain cell (`row`, `col`) of stage `stage` of a drawn result (read only, shared).

    Attributes
    ----------
    result : PipelineResult
    stage : str
    row, col : int
    """

    lane: ClassVar[str] = "inspect"
    result: PipelineResult
    stage: str
    row: int
    col: int

    def run(self, context: JobContext) -> CellExplanation:
        """Return :func:`engine.explain.explain_cell` of the cell.

        Raises
        ------
        engine.ExplainError
            If the stage or cell is not in the result.
        """
        return explain_cell(self.result, self.stage, self.row, self.col)


@dataclass(frozen=True, slots=True, eq=False)
class LayerExplainRequest(Request[LayerCellExplanation]):
    """Split a cell of a network layer into its input channels' contributions.

    Attributes
    ----------
    choice : NetworkChoice
        The network that made `view`.
    view : NetworkView
        The drawn run (read only, shared).
    layer : str
    channel, row, col : int
    top : int
        Channels kept, the largest first.
    """

    lane: ClassVar[str] = "inspect"
    choice: NetworkChoice
    view: NetworkView
    layer: str
    channel: int
    row: int
    col: int
    top: int = TOP_CHANNELS

    def run(self, context: JobContext) -> LayerCellExplanation:
        """Return :func:`~engine.networks.explain_layer.explain_layer_cell` of the cell.

        Raises
        ------
        engine.networks.explain_layer.LayerExplainError
            If the layer is not a Conv output or a ReLU of one, or the cell is outside it.
        engine.networks.NetworkLoadError, engine.networks.NetworkChoiceError
            If the network cannot be loaded again.
        """
        network = self.choice.load()
        return explain_layer_cell(network, self.view.result, self.view.prepared.x, self.layer,
                                  self.channel, self.row, self.col, self.top)


def source_cells(e: CellExplanation, i: int, j: int, pool_size: int
                 ) -> tuple[int, int, int, int] | None:
    """The half-open cell range ``(r0, c0, r1, c1)`` of the source stage that grid cell
    (i, j) of `e` comes from, or None for zero padding."""
    r, c = (int(v) for v in e.positions[i, j])
    if r < 0:
        return None
    if e.operation == "blurmax":  # an input is the maximum of a window of the source
        return r, c, r + pool_size, c + pool_size
    return r, c, r + 1, c + 1


class NumberGrid(QTableWidget):
    """A small read-only grid of numbers; the mouse over a cell emits :attr:`cell_hovered`.

    Signals
    -------
    cell_hovered(int, int)
        The grid cell under the pointer, (-1, -1) when it leaves.
    """

    cell_hovered = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setMouseTracking(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for header in (self.horizontalHeader(), self.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setMinimumSectionSize(10)
        self.horizontalHeader().setDefaultSectionSize(CELL_W)
        self.verticalHeader().setDefaultSectionSize(CELL_H)
        self.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cellEntered.connect(self.cell_hovered)
        self.texts: list[list[str]] = []

    def show_values(self, values: np.ndarray, labels: tuple[list[str], list[str]],
                    winner: tuple[int, int] | None = None,
                    padded: np.ndarray | None = None,
                    tips: list[list[str]] | None = None) -> None:
        """Show `values` with row and column `labels`; mark the `winner` cell and grey the
        `padded` ones."""
        rows, cols = values.shape
        self.setRowCount(rows)
        self.setColumnCount(cols)
        self.setVerticalHeaderLabels(labels[0])
        self.setHorizontalHeaderLabels(labels[1])
        self.texts = [[NUMBER.format(float(v)) for v in line] for line in values]
        bold = QFont(self.font())
        bold.setBold(True)
        for i in range(rows):
            for j in range(cols):
                item = QTableWidgetItem(self.texts[i][j])
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if padded is not None and padded[i, j]:
                    item.setForeground(QBrush(QColor(PADDED_FG)))
                if winner == (i, j):
                    item.setBackground(QBrush(QColor(WINNER_BG)))
                    item.setForeground(QBrush(QColor("white")))
                    item.setFont(bold)
                if tips is not None:
                    item.setToolTip(tips[i][j])
                self.setItem(i, j, item)
        # columns as narrow as the widest number allows, so a 7x7 window fits the dock
        metrics = QFontMetrics(bold)
        cell_w = min(CELL_W, max(metrics.horizontalAdvance(t) for line in self.texts
                                 for t in line + labels[1]) + 8)
        self.horizontalHeader().setDefaultSectionSize(cell_w)
        width = self.verticalHeader().sizeHint().width() + cols * cell_w + 2 * self.frameWidth()
        height = self.horizontalHeader().sizeHint().height() + rows * CELL_H \
            + 2 * self.frameWidth()
        self.setFixedSize(width, height)

    def leaveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.cell_hovered.emit(-1, -1)
        super().leaveEvent(event)


class InspectorPanel(QWidget):
    """Draws one :class:`~engine.explain.CellExplanation` as captioned grids and lines.

    Attributes
    ----------
    explanation : CellExplanation or None
        What is shown.
    grids : dict of str to NumberGrid
        The grids shown, by role: ``"inputs"`` and, with weights, ``"weights"`` and
        ``"products"``.
    lines : QLabel
        The sum, the activation and the value, in words.

    Signals
    -------
    source_hovered(object)
        The source cell range ``(r0, c0, r1, c1)`` under the pointer in the inputs or
        products grid, or None.
    """

    source_hovered = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.explanation: CellExplanation | None = None
        self.pool_size = 1
        self.header = QLabel("Click a cell of a stage panel (or press I over any cell) to "
                             "see the arithmetic behind it.")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self.lines = QLabel("")
        self.lines.setWordWrap(True)
        self.lines.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.header)
        layout.addWidget(self.lines)  # the result first, the grids that make it below
        layout.addWidget(self.body)
        layout.addStretch(1)
        self.scroll = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self.grids: dict[str, NumberGrid] = {}
        self.captions: dict[str, QLabel] = {}

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._wrap_text()

    def _wrap_text(self) -> None:
        """Keep the text as wide as the visible part: a grid wider than the dock scrolls
        sideways, and the words must not run off with it."""
        width = max(120, self.scroll.viewport().width() - 14)
        for label in (self.header, self.lines, *self.captions.values()):
            label.setMaximumWidth(width)

    def show_message(self, text: str) -> None:
        """Show `text` (a problem, or how to start) instead of an explanation."""
        self.explanation = None
        self._clear()
        self.header.setText(text)
        self.lines.setText("")

    def _clear(self) -> None:
        while self.body_layout.count():
            widget = self.body_layout.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.grids, self.captions = {}, {}

    def _grid(self, role: str, caption: str) -> NumberGrid:
        label = QLabel(caption)
        label.setWordWrap(True)
        label.setStyleSheet("color: #5f6368; margin-top: 4px;")
        grid = NumberGrid()
        if role in ("inputs", "products"):
            grid.cell_hovered.connect(self._on_grid_hover)
        self.body_layout.addWidget(label)
        self.body_layout.addWidget(grid)
        self.grids[role], self.captions[role] = grid, label
        return grid

    def show_explanation(self, e: CellExplanation, row_name: str, pool_size: int) -> None:
        """Show `e`, a cell of row `row_name` ("A" or "B"); `pool_size` is the pipeline's
        pooling window (a blurmax input is the maximum of such a window)."""
        self.explanation, self.pool_size = e, pool_size
        self._clear()
        what = {"input": "an input pixel", "correlate": "cross-correlation",
                "max": "max pooling", "avg": "average pooling",
                "blurmax": "MaxBlurPool (max, stride 1, then a binomial blur)",
                "blur": "BlurPool (a binomial blur)",
                "aps": "adaptive polyphase sampling (APS)"}[e.operation]
        self.header.setText(f"<b>Row {row_name} · {e.stage} · cell ({e.row}, {e.col})</b>"
                            f" = {VALUE.format(float(e.value))}<br>{what}"
                            + (f" of <i>{e.source}</i>" if e.source else ""))
        h, w = e.inputs.shape
        # headers: the source rows and columns (a zero-padded line has none)
        labels = ([str(int(r)) if r >= 0 else "pad" for r in e.positions[:, :, 0].max(1)],
                  [str(int(c)) if c >= 0 else "pad" for c in e.positions[:, :, 1].max(0)])
        tips = [[self._tip(e, i, j) for j in range(w)] for i in range(h)]
        winner = e.phase
        if e.operation == "max":
            hits = np.argwhere((e.positions[..., 0] == e.winner[0])
                               & (e.positions[..., 1] == e.winner[1]))
            winner = (int(hits[0][0]), int(hits[0][1]))
        caption = {
            "input": "The pixel:",
            "correlate": f"Input patch from {e.source} (row and column numbers; grey: "
                         "padding)",
            "max": f"Window of {e.source} (red: the maximum kept)",
            "avg": f"Window of {e.source}",
            "blurmax": f"Maxima of {pool_size}x{pool_size} windows of {e.source} under the "
                       "blur (stride 1; headers: their top-left cells; grey: reflected)",
            "blur": f"Window of {e.source} under the blur (grey: reflected padding)",
            "aps": f"The 2x2 window of {e.source}: phases (0, 0) (0, 1) / (1, 0) (1, 1) "
                   "(red: the phase kept)",
        }[e.operation]
        self._grid("inputs", caption).show_values(e.inputs, labels, winner, e.padded, tips)
        if e.weights is not None:
            kh, kw = e.weights.shape
            taps = ([str(i) for i in range(kh)], [str(j) for j in range(kw)])
            if e.operation == "correlate":
                self._grid("weights", "Kernel:").show_values(e.weights, taps)
            else:  # binomial taps over a power of two: whole numbers read better
                unit = int(round(1.0 / float(e.weights.min())))
                row = " ".join(NUMBER.format(float(v)) for v in e.weights[0] * unit
                               / np.sqrt(float(e.weights[0, 0]) * unit))
                self._grid("weights", f"Blur taps in 1/{unit} (the binomial {row} times "
                                      "itself, summing to 1):").show_values(
                    e.weights * unit, taps)
            self._grid("products", "Products (patch x weights):").show_values(
                e.products, labels, None, e.padded, tips)
        self.lines.setText(self._summary(e))
        self._wrap_text()

    @staticmethod
    def _tip(e: CellExplanation, i: int, j: int) -> str:
        r, c = (int(v) for v in e.positions[i, j])
        value = NUMBER.format(float(e.inputs[i, j]))
        if r < 0:
            return f"{value}: zero padding"
        where = f"({r}, {c}) of {e.source or e.stage}"
        if e.operation == "blurmax":
            mr, mc = (int(v) for v in e.maxima_at[i, j])
            where = f"the maximum of the window at {where}, found at ({mr}, {mc})"
        pad = " (padding: a copy)" if e.padded[i, j] else ""
        return f"{value} from {where}{pad}"

    @staticmethod
    def _summary(e: CellExplanation) -> str:
        value = VALUE.format(float(e.value))
        if e.operation == "input":
            return f"The input holds {value} here."
        if e.operation == "correlate":
            act = {"relu": f"ReLU: max({VALUE.format(float(e.total))}, 0)",
                   "abs": f"abs({VALUE.format(float(e.total))})",
                   "none": "no activation"}[e.activation]
            return (f"Sum of the products = {VALUE.format(float(e.total))}<br>"
                    f"{act} = <b>{value}</b><br>"
                    f"<span style='color:#5f6368'>float32, {e.accumulation} multiply-adds, "
                    "as OpenCV summed it</span>")
        if e.operation == "max":
            tie = " (tied: the first in reading order is shown)" if e.tie else ""
            return f"Maximum = <b>{value}</b> at {e.winner}{tie}"
        if e.operation == "avg":
            return (f"Mean of the {e.inputs.size} values = <b>{value}</b><br>"
                    "<span style='color:#5f6368'>float32: each column summed, then the "
                    f"column sums, then x 1/{e.inputs.size}</span>")
        if e.operation in ("blur", "blurmax"):
            return f"Sum of the products = <b>{value}</b>"
        norms = ", ".join(f"{p}: {VALUE.format(n)}" for p, n in zip(
            ("(0, 0)", "(0, 1)", "(1, 0)", "(1, 1)"), e.phase_norms, strict=True))
        tie = "<br><b>Tie:</b> another phase has the same norm; the first was kept, so a " \
              "shift need not shift this map." if e.tie else ""
        return (f"Phase kept for the whole map: {e.phase} (largest sum of squares)<br>"
                f"Sums of squares: {norms}<br>Value = <b>{value}</b> from {e.winner}{tie}")

    def show_layer_explanation(self, e: LayerCellExplanation, network: str) -> None:
        """Show `e`, a cell of a layer of `network`: its top input channels as a table."""
        self.explanation = None
        self._clear()
        through = (f"{e.via} of the convolution <i>{short_name(e.conv)}</i>" if e.via
                   else "convolution")
        self.header.setText(f"<b>{network} · {short_name(e.layer)} · channel {e.channel}, "
                            f"cell ({e.row}, {e.col})</b> = {VALUE.format(e.value)}<br>"
                            f"{through} of <i>{short_name(e.source)}</i>")
        values = np.array([[p.channel, p.contribution, 100.0 * p.share]
                           for p in e.contributions])
        grid = self._grid("channels", f"The {len(e.contributions)} of {e.channels} input "
                                      "channels contributing most (share: of the sum of "
                                      "absolute contributions, in %):")
        grid.show_values(values, ([str(i + 1) for i in range(len(values))],
                                  ["channel", "contrib.", "share %"]))
        check = ("= onnxruntime's Conv output" if e.reproduces
                 else "<b>differs from</b> onnxruntime's Conv output")
        text = (f"Sum over all {e.channels} channels + bias {VALUE.format(e.bias)} = "
                f"{VALUE.format(e.total)}<br>{check} {VALUE.format(e.pre_activation)} "
                f"(float32 tolerance {e.tolerance:.2g})")
        if e.via == "Relu":
            text += f"<br>ReLU: max({VALUE.format(e.pre_activation)}, 0) = " \
                    f"<b>{VALUE.format(e.value)}</b>"
        self.lines.setText(text)
        self._wrap_text()

    def _on_grid_hover(self, i: int, j: int) -> None:
        e = self.explanation
        if e is None or i < 0 or e.source is None:
            self.source_hovered.emit(None)
            return
        self.source_hovered.emit(source_cells(e, i, j, self.pool_size))


class Inspector(QObject):
    """Installs the Inspector dock, its View menu entry (``I``) and the clicks on rows
    A and B of `window`.

    Attributes
    ----------
    panel : InspectorPanel
    dock : QDockWidget
    target : (PipelineRow, str, int, int) or None
        The row, stage name and cell inspected.
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.panel = InspectorPanel()
        self.dock = window.add_dock(self.panel, "Inspector")
        # a tab beside the controls: the right column's full height, not a sliver under it
        window.tabifyDockWidget(window.controls_dock, self.dock)
        self.dock.setVisible(False)
        self.action = window.add_action(
            "view", "inspect", "&Inspect cell", self.inspect_hovered, "I",
            "Show the arithmetic behind the hovered cell (or click a stage's cell)")
        self.rows: dict[str, PipelineRow] = {"A": window.row, "B": window.compare.rows.b}
        self.target: tuple[PipelineRow, str, int, int] | None = None
        self._shown_for: PipelineRow | None = None
        for row in self.rows.values():
            row.graphics.scene().sigMouseClicked.connect(
                lambda ev, r=row: self._on_click(r, ev))
            row.drawn.connect(lambda _id, r=row: self._on_drawn(r))
        self.panel.source_hovered.connect(self._outline_source)
        window.runner.subscribe(ExplainRequest, done=self._on_done, failed=self._on_failed,
                                owner=self)
        window.runner.subscribe(LayerExplainRequest, done=self._on_layer_done,
                                failed=self._on_failed, owner=self)

    def row_name(self, row: PipelineRow) -> str:
        """"A" or "B"."""
        return next(name for name, r in self.rows.items() if r is row)

    def inspect(self, row: PipelineRow, index: int, r: int, c: int) -> int:
        """Explain cell (r, c) of stage `index` of `row`'s drawn result on the worker.

        Returns the request id (0 when the row has no such cell drawn)."""
        result = row.result
        if result is None or not 0 <= index < len(result.stages):
            return 0
        self.target = (row, result.stages[index].name, r, c)
        return self.window.runner.submit(ExplainRequest(result, self.target[1], r, c))

    def inspect_hovered(self) -> int:
        """Inspect the cell under the pointer in row A or B, or in a network's layer panel,
        if any."""
        network = getattr(self.window, "network", None)  # installed after the inspector
        for net_row in network.rows if network is not None and network.active else ():
            cell, drawn = net_row.layers.hovered_cell, net_row.drawn
            if cell is not None and drawn is not None and net_row.isVisible():
                self.target = None
                return self.window.runner.submit(
                    LayerExplainRequest(drawn.run.choice, drawn.view, *cell))
        for row in self.rows.values():
            index, r, c = row.hovered_cell
            if index >= 0 and row.isVisible():
                return self.inspect(row, index, r, c)
        self.dock.setVisible(True)
        self.dock.raise_()
        return 0

    def _on_click(self, row: PipelineRow, ev) -> None:
        if ev.button() != Qt.MouseButton.LeftButton or ev.double():
            return
        index, r, c = row.cell_under(ev.scenePos())
        # a left press on row A's Input panel edits the canvas (there the key inspects)
        if index > 0 or (index == 0 and row is not self.window.row):
            self.inspect(row, index, r, c)

    def _on_drawn(self, row: PipelineRow) -> None:
        """Follow the inspected cell into the row's new result (if it is still there)."""
        if self.target is None or self.target[0] is not row or not self.dock.isVisible():
            return
        _row, name, r, c = self.target
        result = row.result
        if name not in result.names:
            self.panel.show_message(f"Row {self.row_name(row)} has no stage {name!r} now.")
            return
        rows, cols = result[name].shape
        if r < rows and c < cols:
            self.inspect(row, result.names.index(name), r, c)
        else:
            self.panel.show_message(f"Cell ({r}, {c}) is outside {name} {(rows, cols)} now.")

    def _on_done(self, event: JobDone[CellExplanation]) -> None:
        row = self.target[0] if self.target is not None else self.window.row
        if self._shown_for is not None and self._shown_for is not row:
            self._shown_for.show_related(None)
        self._shown_for = row
        self.panel.show_explanation(event.result, self.row_name(row),
                                    event.request.result.spec.pool_size)
        self.dock.setVisible(True)
        self.dock.raise_()

    def _on_layer_done(self, event: JobDone[LayerCellExplanation]) -> None:
        if self._shown_for is not None:
            self._shown_for.show_related(None)
            self._shown_for = None
        self.panel.show_layer_explanation(event.result, event.request.view.network)
        self.dock.setVisible(True)
        self.dock.raise_()

    def _on_failed(self, event: JobFailed) -> None:
        self.panel.show_message(f"Cannot explain this cell: {error_message(event.error)}")
        self.dock.setVisible(True)

    def _outline_source(self, cells: tuple[int, int, int, int] | None) -> None:
        row, e = self._shown_for, self.panel.explanation
        if row is None or e is None or row.result is None or e.source not in row.result.names:
            return
        if cells is None:
            row.show_related(None)
            return
        row.show_related({row.result.names.index(e.source): cells})
