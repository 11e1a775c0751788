"""The Metrics dock: per stage, how B differs from A, and what the comparison means.

:class:`MetricsPanel` shows a table (distance, displacement of the global maximum,
equivariance error) and :attr:`engine.Comparison.note` in plain words. The cell
texts come from :func:`error_text` and :func:`stage_summary`, which the panel titles
of row B use too, so the table and the titles always say the same thing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import Comparison, StageComparison, stride_text

ERROR_HEADER = "equivariance error\n‖f(Tx) − T′f(x)‖/‖f(x)‖"
COLUMNS = ("stage", "shape A / B", "distance\n‖A − B‖/max", "peak moved\ndy (rows)",
           "peak moved\ndx (cols)", ERROR_HEADER)


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
    title = f"{comp.name.capitalize()} · d {comp.distance:.3f}"
    moved = f"Δ({dy}, {dx})"  # short: the subtitle must fit a narrow panel
    if other_image:
        return title, f"{moved} · {comp.shape_b[0]}×{comp.shape_b[1]}"
    if comp.equivariance_error is not None:
        return title, f"{moved} err {comp.equivariance_error:.3f}"
    return title, f"{moved} err n/a, S={stride_text(stride)}"


class MetricsPanel(QWidget):
    """A table of per-stage metrics and the comparison's note."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("Comparison off: View > Compare (Ctrl+B)")
        self.heading.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        for j in (3, 4):
            self.table.horizontalHeaderItem(j).setToolTip(
                "How far the global maximum of B sits from that of A, in the stage's own "
                "cells (peak B − peak A)")
        self.table.horizontalHeaderItem(len(COLUMNS) - 1).setToolTip(
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
        # table and note side by side: the dock stays low and the panel rows keep the height
        body = QHBoxLayout()
        body.addWidget(self.table, 3)
        body.addWidget(self.note, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.heading)
        layout.addLayout(body, 1)
        self.comparison: Comparison | None = None

    def show_comparison(self, comparison: Comparison, description: str) -> None:
        """Fill the table from `comparison`; `description` says what B is."""
        self.comparison = comparison
        self.heading.setText(f"B = {description}")
        self.table.setRowCount(len(comparison.stages))
        for i, comp in enumerate(comparison.stages):
            a, b = comp.shape_a, comp.shape_b
            shapes = f"{a[0]}×{a[1]}" if a == b else f"{a[0]}×{a[1]} / {b[0]}×{b[1]}"
            cells = (comp.name, shapes, f"{comp.distance:.4f}", str(comp.displacement[0]),
                     str(comp.displacement[1]), error_text(comp))
            for j, text in enumerate(cells):
                item = self.table.item(i, j)
                if item is None:
                    item = QTableWidgetItem()
                    if 0 < j < len(COLUMNS) - 1:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                              | Qt.AlignmentFlag.AlignVCenter)
                    self.table.setItem(i, j, item)
                if item.text() != text:  # during a drag most cells stay the same
                    item.setText(text)
        self.note.setText(comparison.note or "")
        self.note.setVisible(bool(comparison.note))

    def clear(self) -> None:
        """Show that comparison is off."""
        self.comparison = None
        self.heading.setText("Comparison off: View > Compare (Ctrl+B)")
        self.table.setRowCount(0)
        self.note.setVisible(False)

    def column(self, index: int) -> list[str]:
        """The texts of one column, top to bottom."""
        return [self.table.item(r, index).text() for r in range(self.table.rowCount())]
