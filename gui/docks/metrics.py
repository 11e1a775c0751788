"""The Metrics dock: per stage, how B differs from A, and what the comparison means.

:class:`MetricsPanel` shows a table (distance, displacement of the global maximum in the
stage's cells and in input pixels, equivariance error, near-tie peaks), how many levels
ran when pooling stopped early, and :attr:`engine.Comparison.note` and the drift note
(:func:`engine.notes.drift_note`) in plain words; under a seam note it offers circular
padding (:attr:`MetricsPanel.padding_fix_requested`). Values the engine leaves undefined
read "n/a", never "nan" or 0. The cell texts come from :func:`error_text` and
:func:`stage_summary`, which the panel titles of row B use too, so the table and the
titles always say the same thing.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import Comparison, PipelineResult, StageComparison, stride_text
from gui.panels.views import DISPOSER

ERROR_HEADER = "equivariance error\n‖f(Tx) − T′f(x)‖/‖f(x)‖"
COLUMNS = ("stage", "shape A / B", "distance\n‖A − B‖/max", "peak moved\ndy (rows)",
           "peak moved\ndx (cols)", ERROR_HEADER, "peak moved\n(input px)", "peak")
#: What a table cell or title says for a value the engine leaves undefined.
UNDEFINED = "n/a"


def number_text(value: float | None, digits: int) -> str:
    """`value` with `digits` decimals, or "n/a" when it is undefined (None or NaN)."""
    if value is None or math.isnan(value):
        return UNDEFINED
    return f"{value:.{digits}f}"


def distance_text(comp: StageComparison, digits: int = 4) -> str:
    """The distance of one stage; "n/a (both zero)" when both maps are zero, where the
    engine leaves it undefined (a feature that left both maps is no match)."""
    return "n/a (both zero)" if comp.both_zero else number_text(comp.distance, digits)


def tie_text(comp: StageComparison) -> str:
    """Which peaks are near-ties (the second largest cell within 1% of the largest), where
    the peak is no stable feature and its displacement says little; "" when neither."""
    if comp.near_tie_a and comp.near_tie_b:
        return "near-tie in A and B"
    if comp.near_tie:
        return f"near-tie in {'A' if comp.near_tie_a else 'B'}"
    return ""


def levels_text(result: PipelineResult) -> str | None:
    """How many pooling levels ran and why the rest did not, or None when all ran."""
    if result.stop_cause is None and result.levels_produced == result.levels_requested:
        return None
    why = f": {result.stop_cause}" if result.stop_cause else ""
    return f"{result.levels_produced} of {result.levels_requested} levels ran{why}"


def error_text(comp: StageComparison) -> str:
    """The equivariance (or transform) error of one stage as text, saying why it is absent
    (the reason the engine gives, :attr:`engine.StageComparison.error_note`)."""
    if comp.equivariance_error is not None:
        return f"{comp.equivariance_error:.4f}"
    return f"n/a: {comp.error_note}" if comp.error_note else "n/a"


def stage_summary(comp: StageComparison, other_image: bool,
                  stride: tuple[int, int]) -> tuple[str, str]:
    """A panel title and subtitle for row B: the stage and its distance, then the peak's
    displacement and the error (or, when B is `other_image`, B's shape)."""
    dy, dx = comp.displacement
    title = f"{comp.name.capitalize()} · d {number_text(comp.distance, 3)}"
    moved = f"Δ({dy}, {dx})"  # short: the subtitle must fit a narrow panel
    if comp.both_zero:
        moved = f"Δ {UNDEFINED}: both zero"
    elif comp.displacement_px != comp.displacement:
        moved += f" = {comp.displacement_px[0]},{comp.displacement_px[1]} px"
    if comp.near_tie and not comp.both_zero:
        moved += " (tie)"
    if other_image:
        return title, f"{moved} · {comp.shape_b[0]}×{comp.shape_b[1]}"
    if comp.equivariance_error is not None:
        return title, f"{moved} err {comp.equivariance_error:.3f}"
    return title, f"{moved} err n/a, S={stride_text(stride)}"


class MetricsPanel(QWidget):
    """A table of per-stage metrics and the comparison's note.

    Signals
    -------
    padding_fix_requested(str)
        The "Use circular padding" button under a seam note was pressed; the argument is
        the padding that removes the seam (the comparison's ``fix_padding``).
    """

    padding_fix_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("Comparison off: View > Compare (Ctrl+B)")
        self.heading.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        # Fitted to the contents by show_comparison, for the columns whose texts changed:
        # ResizeToContents measures every column again for every cell set.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        for j in (3, 4):
            self.table.horizontalHeaderItem(j).setToolTip(
                "How far the global maximum of B sits from that of A, in the stage's own "
                "cells (peak B − peak A)")
        self.table.horizontalHeaderItem(6).setToolTip(
            "The same displacement in input pixels (cells times the stage's stride): in "
            "cells it shrinks with depth mostly because the cells grow")
        self.table.horizontalHeaderItem(7).setToolTip(
            "A near-tie: the second largest cell is within 1% of the largest, so the peak is "
            "not a stable feature and its displacement says little")
        self.table.horizontalHeaderItem(2).setToolTip(
            "n/a where both maps are zero: a feature that left both maps is no match")
        self.table.horizontalHeaderItem(5).setToolTip(
            "T is the transform of the input, T′ the same transform acting on the stage: a "
            "shift divided by the stage's stride S (undefined when S does not divide it), or "
            "the same mirror, flip or rotation of the map.")
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note.setStyleSheet("background: #fff8e1; color: #3c3c3c; padding: 6px;"
                                " border-left: 3px solid #ffb000;")
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.note.setMinimumWidth(220)
        self.note.setVisible(False)
        self.fix_padding = QPushButton("Use circular padding")
        self.fix_padding.setToolTip("Pad the convolution circularly, so it moves exactly with a "
                                    "wrapping shift (Controls > Padding)")
        self.fix_padding.setVisible(False)
        self.fix_padding.clicked.connect(self._request_padding)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.note, 1)
        side.addWidget(self.fix_padding)
        # table and note side by side: the dock stays low and the panel rows keep the height
        body = QHBoxLayout()
        body.addWidget(self.table, 3)
        body.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addLayout(body, 1)
        self.comparison: Comparison | None = None

    def _request_padding(self) -> None:
        if self.comparison is not None and self.comparison.fix_padding:
            self.padding_fix_requested.emit(self.comparison.fix_padding)

    def show_comparison(self, comparison: Comparison, description: str,
                        drift_note: str | None = None) -> None:
        """Fill the table from `comparison`; `description` says what B is, `drift_note` why
        row A's pooled panels drift (:attr:`gui.panels.views.PipelineView.drift_note`)."""
        DISPOSER.release(self.comparison)  # its runs are freed off the GUI thread
        self.comparison = comparison
        heading = f"B = {description}"
        for row, result in (("A", comparison.a), ("B", comparison.b)):
            levels = levels_text(result)
            if levels:
                heading += f" · {row}: {levels}"
        self.heading.setText(heading)
        if self.table.rowCount() != len(comparison.stages):
            self.table.setRowCount(len(comparison.stages))
        changed: set[int] = set()
        for i, comp in enumerate(comparison.stages):
            a, b = comp.shape_a, comp.shape_b
            shapes = f"{a[0]}×{a[1]}" if a == b else f"{a[0]}×{a[1]} / {b[0]}×{b[1]}"
            # with both maps zero neither has a peak: no displacement to speak of
            dy, dx = (UNDEFINED, UNDEFINED) if comp.both_zero else comp.displacement
            pixels = UNDEFINED if comp.both_zero \
                else f"{comp.displacement_px[0]}, {comp.displacement_px[1]}"
            cells = (comp.name, shapes, distance_text(comp), str(dy), str(dx),
                     error_text(comp), pixels, "" if comp.both_zero else tie_text(comp))
            for j, text in enumerate(cells):
                item = self.table.item(i, j)
                if item is None:
                    item = QTableWidgetItem()
                    if 0 < j < 5 or j == 6:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                              | Qt.AlignmentFlag.AlignVCenter)
                    self.table.setItem(i, j, item)
                if item.text() != text:  # during a drag most cells stay the same
                    item.setText(text)
                    changed.add(j)
        for j in sorted(changed):
            self.table.resizeColumnToContents(j)
        notes = [n for n in (comparison.note, drift_note) if n]
        self.note.setText("\n\n".join(notes))
        self.note.setVisible(bool(notes))
        self.fix_padding.setVisible(comparison.fix_padding is not None)

    def clear(self) -> None:
        """Show that comparison is off."""
        self.comparison = None
        self.heading.setText("Comparison off: View > Compare (Ctrl+B)")
        self.table.setRowCount(0)
        self.note.setVisible(False)
        self.fix_padding.setVisible(False)

    def column(self, index: int) -> list[str]:
        """The texts of one column, top to bottom."""
        return [self.table.item(r, index).text() for r in range(self.table.rowCount())]
