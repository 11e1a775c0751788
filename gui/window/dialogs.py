"""Small dialogs: shifting the input by (dx, dy)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QSpinBox,
    QWidget,
)


class ShiftDialog(QDialog):
    """Ask for a shift (dx right, dy down) and whether pixels wrap around."""

    def __init__(self, wrap: bool, limit: int = 4096, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Shift input")
        self.dx = QSpinBox()
        self.dy = QSpinBox()
        for box in (self.dx, self.dy):
            box.setRange(-limit, limit)
        self.dx.setValue(1)
        self.dx.setToolTip("Pixels to the right (negative: to the left)")
        self.dy.setToolTip("Pixels down (negative: up)")
        self.wrap = QCheckBox("Wrap around (circular shift)")
        self.wrap.setChecked(wrap)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Right (dx)", self.dx)
        form.addRow("Down (dy)", self.dy)
        form.addRow(self.wrap)
        form.addRow(buttons)

    def values(self) -> tuple[int, int, bool]:
        """``(dy, dx, wrap)`` as chosen."""
        return self.dy.value(), self.dx.value(), self.wrap.isChecked()
