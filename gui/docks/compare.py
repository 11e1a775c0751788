"""The Compare dock: comparison on/off, what B is, the mirrored kernel, the difference rows.

:class:`CompareControls` only edits; the window reads :meth:`CompareControls.setup`
(a frozen :class:`engine.CompareSetup`) whenever
:attr:`CompareControls.changed` fires. The other image B is held here once loaded
(:meth:`CompareControls.set_image_b`), read-only, so a failed load keeps the previous B.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine import CompareSetup, InputImage, InputTransform
from gui.docks.controls import _spin

#: Transform kind -> the label in the "B is" chooser.
B_CHOICES: dict[str, str] = {
    "mirror": "A mirrored left-right",
    "flip": "A flipped up-down",
    "shift": "A shifted by (dx, dy)",
    "rotate": "A rotated 90° × turns",
    "other": "another image (File > Open as B…)",
}


class CompareControls(QWidget):
    """Edits the comparison: on/off, B's transform or other image, kernel mirroring, rows.

    Signals
    -------
    toggled(bool)
        Comparison mode switched on or off.
    changed()
        What B is (or how it is compared) changed; read :meth:`setup`.
    rows_changed()
        A difference row was switched on or off.
    open_b_requested()
        The "Open as B…" button was pressed.
    """

    toggled = Signal(bool)
    changed = Signal()
    rows_changed = Signal()
    open_b_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.enabled = QCheckBox("Compare A with B")
        self.enabled.setToolTip("Show a second row of panels, B, and the metrics (View > Compare)")
        self.kind = QComboBox()
        for kind, label in B_CHOICES.items():
            self.kind.addItem(label, kind)
        self.kind.setToolTip("How input B is made from A, or another photo")
        self.dx = _spin(-4096, 4096, 1, "Pixels to the right (negative: left)")
        self.dy = _spin(-4096, 4096, 0, "Pixels down (negative: up)")
        self.wrap = QCheckBox("Wrap around")
        self.wrap.setChecked(True)
        self.wrap.setToolTip("Circular shift; off: the uncovered pixels are 0")
        self.turns = _spin(1, 3, 1, "Quarter turns counter-clockwise")
        self.open_b = QPushButton("Open as B…")
        self.open_b.setToolTip("Load another photo as B")
        self.b_label = QLabel("no image B loaded")
        self.b_label.setWordWrap(True)
        self.b_label.setStyleSheet("color: #9aa0a6")
        self.mirror_kernel = QCheckBox("Mirror the kernel too")
        self.mirror_kernel.setToolTip(
            "Run B with the kernel mirrored like the input: then the convolution commutes "
            "with the mirror (its error is 0)")
        self.signed_row = QCheckBox("Row A − B (signed)")
        self.signed_row.setToolTip("Signed difference per stage, blue < 0 < red")
        self.magnitude_row = QCheckBox("Row |A − B|")
        self.magnitude_row.setToolTip("Absolute difference per stage; boxes mark the largest")

        shift = QHBoxLayout()
        for label, box in (("dx", self.dx), ("dy", self.dy)):
            shift.addWidget(QLabel(label))
            shift.addWidget(box, 1)
        self._shift_row = QWidget()
        shift.setContentsMargins(0, 0, 0, 0)
        self._shift_row.setLayout(shift)
        form = QFormLayout()
        form.addRow(self.enabled)
        form.addRow("B is", self.kind)
        form.addRow("Shift", self._shift_row)
        form.addRow("", self.wrap)
        form.addRow("Turns", self.turns)
        form.addRow(self.open_b, self.b_label)
        form.addRow(self.mirror_kernel)
        form.addRow(self.signed_row)
        form.addRow(self.magnitude_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(form)
        layout.addStretch(1)

        self._image_b: InputImage | None = None
        self.enabled.toggled.connect(self.toggled)
        self.kind.currentIndexChanged.connect(self._on_kind)
        for spin in (self.dx, self.dy, self.turns):
            spin.valueChanged.connect(self.changed)
        for box in (self.wrap, self.mirror_kernel):
            box.toggled.connect(self.changed)
        for box in (self.signed_row, self.magnitude_row):
            box.toggled.connect(self.rows_changed)
        self.open_b.clicked.connect(self.open_b_requested)
        self._enable_fields()

    # -- reading --------------------------------------------------------------------------------
    def kind_name(self) -> str:
        """The chosen transform kind ("mirror", "flip", "shift", "rotate", "other")."""
        return self.kind.currentData()

    def transform(self) -> InputTransform:
        """The transform the controls describe."""
        return InputTransform(self.kind_name(), dy=self.dy.value(), dx=self.dx.value(),
                              wrap=self.wrap.isChecked(), turns=self.turns.value())

    def setup(self) -> CompareSetup:
        """The frozen comparison setup; with kind "other" and no image B loaded yet, B is
        A mirrored until one is (the label says so)."""
        transform = self.transform()
        if transform.kind == "other" and self._image_b is None:
            transform = InputTransform("mirror")
        mirror_kernel = self.mirror_kernel.isChecked() and transform.mirror_axis is not None
        return CompareSetup(transform, self._image_b if transform.kind == "other" else None,
                            mirror_kernel, self.signed_row.isChecked(),
                            self.magnitude_row.isChecked())

    @property
    def image_b(self) -> InputImage | None:
        """The other image B (pixels read-only, and where they came from), or None."""
        return self._image_b

    # -- writing --------------------------------------------------------------------------------
    def set_kind(self, kind: str) -> None:
        """Choose the transform kind (emits :attr:`changed` if it differs)."""
        self.kind.setCurrentIndex(self.kind.findData(kind))

    def set_transform(self, transform: InputTransform) -> None:
        """Show `transform` in the controls; emits :attr:`changed` once."""
        widgets = (self.kind, self.dx, self.dy, self.wrap, self.turns)
        blockers = [QSignalBlocker(w) for w in widgets]
        self.kind.setCurrentIndex(self.kind.findData(transform.kind))
        self.dx.setValue(transform.dx)
        self.dy.setValue(transform.dy)
        self.wrap.setChecked(transform.wrap)
        self.turns.setValue(max(1, transform.turns % 4))
        del blockers
        self._enable_fields()
        self.changed.emit()

    def set_image_b(self, image: InputImage) -> None:
        """Keep `image` as B, choose "another image" and emit :attr:`changed`."""
        self._image_b = image
        self.b_label.setToolTip(image.source.path or image.label)
        with QSignalBlocker(self.kind):
            self.kind.setCurrentIndex(self.kind.findData("other"))
        self._enable_fields()
        self.changed.emit()

    def set_setup(self, setup: CompareSetup | None) -> None:
        """Show `setup` in the controls (B, its transform, the kernel and row options);
        emits :attr:`changed` and :attr:`rows_changed` once each. None keeps them."""
        if setup is None:
            return
        boxes = (self.mirror_kernel, self.signed_row, self.magnitude_row)
        with QSignalBlocker(self.mirror_kernel), QSignalBlocker(self.signed_row), \
                QSignalBlocker(self.magnitude_row):
            for box, on in zip(boxes, (setup.mirror_kernel, setup.signed_row,
                                       setup.magnitude_row), strict=True):
                box.setChecked(on)
        if setup.image_b is not None:
            self.set_image_b(setup.image_b)
        else:
            self.set_transform(setup.transform)
        self.rows_changed.emit()

    def _on_kind(self) -> None:
        self._enable_fields()
        self.changed.emit()

    def _enable_fields(self) -> None:
        kind = self.kind_name()
        self._shift_row.setEnabled(kind == "shift")
        self.wrap.setEnabled(kind == "shift")
        self.turns.setEnabled(kind == "rotate")
        self.mirror_kernel.setEnabled(kind in ("mirror", "flip"))
        self.b_label.setText(self.b_text())

    def b_text(self) -> str:
        """What the label beside "Open as B…" says: the loaded image only while B is that
        image, so a name that no longer describes B is never shown as B."""
        image = self._image_b
        if image is None:
            if self.kind_name() == "other":
                return "no image B loaded: B is A mirrored until you open one"
            return "no image B loaded"
        h, w = image.shape
        if self.kind_name() == "other":
            return f"B: {image.label} ({h} x {w})"
        return f"loaded, not in use ({B_CHOICES[self.kind_name()]} is B): {image.label}"

