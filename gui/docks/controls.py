"""The controls dock: pipeline parameters, display options and canvas tools.

:class:`PipelineControls` edits a :class:`engine.PipelineSpec` (emitting
:attr:`PipelineControls.changed` on every edit); :class:`CanvasControls` holds the
canvas size, brush and tool and the Clear / Invert / Random buttons. Their spin boxes and
combo boxes take the mouse wheel only once focused (:func:`wheel_only_when_focused`), so
scrolling the dock never edits what passes under the pointer.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QObject, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine import ACTIVATIONS, KERNELS, PADDINGS, POOL_MODES, PipelineSpec
from engine.limits import (
    MAX_BLUR_SIZE,
    MAX_KERNEL_SIZE,
    MAX_LEVELS,
    MAX_POOL_SIZE,
    MAX_STRIDE,
    MAX_TOP_K,
)
from gui.canvas.item import TOOLS

CUSTOM = "custom"
#: Where a kernel cell keeps the last value it accepted, to put back a refused entry.
ACCEPTED_ROLE = Qt.ItemDataRole.UserRole


class _WheelGuard(QObject):
    """Passes a wheel event on to the parent (the scroll area) unless the field has focus."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            event.ignore()  # an ignored event goes on to the parent widgets
            return True
        return False


def wheel_only_when_focused(root: QWidget) -> None:
    """Make every spin box and combo box under `root` take the mouse wheel only while it
    has the keyboard focus (a click or Tab gives it); otherwise the wheel scrolls whatever
    holds them. A wheel event does not give such a field the focus either."""
    guard = _WheelGuard(root)
    for field in (*root.findChildren(QAbstractSpinBox), *root.findChildren(QComboBox)):
        field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        field.installEventFilter(guard)


def _spin(lo: int, hi: int, value: int, tip: str, special: str | None = None) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setToolTip(tip)
    if special:
        box.setSpecialValueText(special)
    return box


def _combo(items, current: str, tip: str) -> QComboBox:
    box = QComboBox()
    box.addItems(list(items))
    box.setCurrentText(current)
    box.setToolTip(tip)
    return box


class KernelGrid(QWidget):
    """A preset chooser and an editable grid of kernel values (1x1 .. 7x7)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preset = _combo([*KERNELS, CUSTOM], PipelineSpec().kernel, "Kernel preset")
        self.rows = _spin(1, MAX_KERNEL_SIZE, 3, "Kernel rows")
        self.cols = _spin(1, MAX_KERNEL_SIZE, 3, "Kernel columns")
        self.table = QTableWidget(3, 3)
        self.table.setToolTip("Kernel values (cross-correlation: not flipped); edit any cell")
        for header in (self.table.horizontalHeader(), self.table.verticalHeader()):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            header.setMinimumSectionSize(24)
        self.table.horizontalHeader().setVisible(False)
        self.table.verticalHeader().setVisible(False)
        self.table.setFixedHeight(150)
        #: Why the last entry was refused ("" when none was); hidden while empty.
        self.refusal = QLabel("")
        self.refusal.setWordWrap(True)
        self.refusal.setStyleSheet("color: #c5221f;")
        self.refusal.setVisible(False)
        size = QHBoxLayout()
        size.addWidget(self.rows)
        size.addWidget(self.cols)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow("Preset", self.preset)
        layout.addRow("Rows x cols", size)
        layout.addRow(self.table)
        layout.addRow(self.refusal)
        self._fill(KERNELS[PipelineSpec().kernel])
        self.preset.currentTextChanged.connect(self._on_preset)
        self.rows.valueChanged.connect(self._on_size)
        self.cols.valueChanged.connect(self._on_size)
        self.table.itemChanged.connect(self._on_item)

    def _fill(self, k: np.ndarray) -> None:
        blockers = [QSignalBlocker(w) for w in (self.table, self.rows, self.cols)]
        self.rows.setValue(k.shape[0])
        self.cols.setValue(k.shape[1])
        self.table.setRowCount(k.shape[0])
        self.table.setColumnCount(k.shape[1])
        for r in range(k.shape[0]):
            for c in range(k.shape[1]):
                text = f"{float(k[r, c]):g}"
                item = QTableWidgetItem(text)
                item.setData(ACCEPTED_ROLE, text)
                self.table.setItem(r, c, item)
        del blockers
        self._show_refusal("")

    def values(self) -> np.ndarray:
        """The grid as a float64 array, the values as typed (every cell holds a finite
        number: the grid refuses anything else). Finite values the engine refuses
        (beyond ±1e6) are kept, so the spec's message names them and their cell."""
        out = np.zeros((self.table.rowCount(), self.table.columnCount()), np.float64)
        for r in range(out.shape[0]):
            for c in range(out.shape[1]):
                item = self.table.item(r, c)
                try:
                    out[r, c] = float(item.text()) if item is not None else 0.0
                except ValueError:
                    out[r, c] = 0.0
        return out

    def kernel(self) -> str | np.ndarray:
        """The preset name, or the grid values when they differ from every preset."""
        name = self.preset.currentText()
        return name if name in KERNELS else self.values()

    def set_kernel(self, kernel: str | np.ndarray) -> None:
        """Show a preset name or explicit values (without emitting :attr:`changed`)."""
        blocker = QSignalBlocker(self.preset)
        if isinstance(kernel, str):
            self.preset.setCurrentText(kernel)
            self._fill(KERNELS[kernel])
        else:
            self.preset.setCurrentText(CUSTOM)
            self._fill(np.asarray(kernel, np.float32))
        del blocker

    def _on_preset(self, name: str) -> None:
        if name in KERNELS:
            self._fill(KERNELS[name])
        self.changed.emit()

    def _on_size(self) -> None:
        old = self.values()
        new = np.zeros((self.rows.value(), self.cols.value()), np.float64)
        h, w = min(old.shape[0], new.shape[0]), min(old.shape[1], new.shape[1])
        new[:h, :w] = old[:h, :w]
        self._fill(new)
        self._mark_custom()

    def _on_item(self, item: QTableWidgetItem) -> None:
        """Accept a finite number; put back the cell's last value for anything else
        ("abc", "inf", "nan") and say why under the grid."""
        text = item.text().strip()
        try:
            value = float(text)
        except ValueError:
            value = None
        old = item.data(ACCEPTED_ROLE) or "0"
        if value is None or not math.isfinite(value):
            what = "not a number" if value is None else "not a finite number"
            with QSignalBlocker(self.table):
                item.setText(old)
            self._show_refusal(f"Row {item.row() + 1}, column {item.column() + 1}: "
                               f"{text!r} is {what}; kept {old}.")
            return
        with QSignalBlocker(self.table):
            item.setData(ACCEPTED_ROLE, text)
        self._show_refusal("")
        self._mark_custom()

    def _show_refusal(self, text: str) -> None:
        self.refusal.setText(text)
        self.refusal.setVisible(bool(text))

    def _mark_custom(self) -> None:
        with QSignalBlocker(self.preset):
            self.preset.setCurrentText(CUSTOM)
        self.changed.emit()


class PipelineControls(QWidget):
    """Every pipeline parameter, plus top-k and the shared-levels toggle.

    Signals
    -------
    changed()
        Any parameter changed; read :meth:`spec`, :meth:`top_k`, :meth:`shared_levels`.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        default = PipelineSpec(convolve=False, levels=2)
        conv = QGroupBox("Convolution")
        conv.setCheckable(True)
        conv.setChecked(default.convolve)
        conv.setToolTip("Convolve the input before pooling (then the activation)")
        self.convolve = conv
        self.kernel = KernelGrid()
        self.padding = _combo(PADDINGS, default.padding, "Padding of the convolution")
        self.stride = _spin(1, MAX_STRIDE, default.stride, "Stride of the convolution")
        self.activation = _combo(ACTIVATIONS, default.activation, "Activation after convolution")
        form = QFormLayout(conv)
        form.addRow(self.kernel)
        form.addRow("Padding", self.padding)
        form.addRow("Stride", self.stride)
        form.addRow("Activation", self.activation)

        pool = QGroupBox("Pooling")
        self.pool_mode = _combo(POOL_MODES, default.pool_mode,
                                "max, avg, blurmax (MaxBlurPool) or blur (BlurPool)")
        self.pool_size = _spin(1, MAX_POOL_SIZE, default.pool_size, "Pooling window")
        self.pool_stride = _spin(0, MAX_POOL_SIZE, 0, "Pooling stride (= window when 'same')",
                                 "same")
        self.blur_size = _spin(1, MAX_BLUR_SIZE, default.blur_size,
                                "Binomial blur taps for blurmax/blur")
        self.levels = _spin(0, MAX_LEVELS, default.levels, "Number of pooling levels")
        form = QFormLayout(pool)
        form.addRow("Mode", self.pool_mode)
        form.addRow("Window", self.pool_size)
        form.addRow("Stride", self.pool_stride)
        form.addRow("Blur taps", self.blur_size)
        form.addRow("Levels", self.levels)

        show = QGroupBox("Display")
        self.top_k_box = _spin(1, MAX_TOP_K, 3, "How many maxima to mark in each panel")
        self.shared = QCheckBox("Shared colour levels")
        self.shared.setToolTip("One value range for all feature maps (else each panel its own)")
        form = QFormLayout(show)
        form.addRow("Top-k maxima", self.top_k_box)
        form.addRow(self.shared)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for group in (conv, pool, show):
            layout.addWidget(group)
        layout.addStretch(1)

        conv.toggled.connect(self.changed)
        self.kernel.changed.connect(self.changed)
        for box in (self.padding, self.activation, self.pool_mode):
            box.currentTextChanged.connect(self.changed)
        for spin in (self.stride, self.pool_size, self.pool_stride, self.blur_size, self.levels,
                     self.top_k_box):
            spin.valueChanged.connect(self.changed)
        self.shared.toggled.connect(self.changed)
        self.pool_mode.currentTextChanged.connect(self._enable_blur)
        self._enable_blur()
        wheel_only_when_focused(self)

    def _enable_blur(self) -> None:
        self.blur_size.setEnabled(self.pool_mode.currentText() in ("blurmax", "blur"))

    def spec(self) -> PipelineSpec:
        """The spec the controls describe.

        Raises
        ------
        ValueError
            If the kernel grid holds values the engine refuses.
        """
        return PipelineSpec(
            kernel=self.kernel.kernel(),
            convolve=self.convolve.isChecked(),
            padding=self.padding.currentText(),
            stride=self.stride.value(),
            activation=self.activation.currentText(),
            pool_mode=self.pool_mode.currentText(),
            pool_size=self.pool_size.value(),
            pool_stride=self.pool_stride.value() or None,
            levels=self.levels.value(),
            blur_size=self.blur_size.value(),
        )

    def set_spec(self, spec: PipelineSpec) -> None:
        """Show `spec` in the controls; emits :attr:`changed` once."""
        widgets = (self.convolve, self.kernel, self.padding, self.stride, self.activation,
                   self.pool_mode, self.pool_size, self.pool_stride, self.blur_size, self.levels)
        blockers = [QSignalBlocker(w) for w in widgets]
        self.convolve.setChecked(spec.convolve)
        self.kernel.set_kernel(spec.kernel if isinstance(spec.kernel, str)
                               else np.array(spec.kernel, np.float32))
        self.padding.setCurrentText(spec.padding)
        self.stride.setValue(spec.stride)
        self.activation.setCurrentText(spec.activation)
        self.pool_mode.setCurrentText(spec.pool_mode)
        self.pool_size.setValue(spec.pool_size)
        self.pool_stride.setValue(spec.pool_stride or 0)
        self.blur_size.setValue(spec.blur_size)
        self.levels.setValue(spec.levels)
        del blockers
        self._enable_blur()
        self.changed.emit()

    def top_k(self) -> int:
        """How many maxima each stage records."""
        return self.top_k_box.value()

    def shared_levels(self) -> bool:
        """True when the feature maps share one colour range."""
        return self.shared.isChecked()


class CanvasControls(QGroupBox):
    """Canvas size, drag tool, brush, wrap-around, and Clear / Invert / Random.

    Signals
    -------
    size_requested(int, int)
        The user chose a new canvas size (rows, cols).
    """

    size_requested = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Canvas", parent)
        self.rows = _spin(8, 4096, 10, "Canvas rows (a loaded photo shows its own size)")
        self.cols = _spin(8, 4096, 10, "Canvas columns")
        self.square = QCheckBox("Square")
        self.square.setChecked(True)
        self.tool = _combo(TOOLS, "auto", "Left drag: auto = move a lit pixel, paint on a dark "
                           "one; paint; move; slide the whole image (also Ctrl + drag)")
        self.brush_value = QDoubleSpinBox()
        self.brush_value.setRange(0.0, 1.0)
        self.brush_value.setSingleStep(0.1)
        self.brush_value.setValue(1.0)
        self.brush_value.setToolTip("Value painted by the left button (right button erases)")
        self.brush_size = _spin(1, 64, 1, "Brush size in pixels")
        self.wrap = QCheckBox("Wrap around when shifting")
        self.wrap.setToolTip("Arrow keys and Shift move pixels out of one side into the other")
        self.clear = QPushButton("Clear")
        self.invert = QPushButton("Invert")
        self.random = QPushButton("Random")
        size = QHBoxLayout()
        size.addWidget(self.rows)
        size.addWidget(self.cols)
        size.addWidget(self.square)
        buttons = QGridLayout()
        for i, b in enumerate((self.clear, self.invert, self.random)):
            buttons.addWidget(b, 0, i)
        form = QFormLayout(self)
        form.addRow("Size", size)
        form.addRow("Left drag", self.tool)
        form.addRow("Brush value", self.brush_value)
        form.addRow("Brush size", self.brush_size)
        form.addRow(self.wrap)
        form.addRow(buttons)
        for box in (self.rows, self.cols):
            box.setKeyboardTracking(False)  # typed sizes apply on Enter, arrow steps at once
            box.valueChanged.connect(self._request)
        self._syncing = False
        wheel_only_when_focused(self)

    def _request(self) -> None:
        if self._syncing:
            return
        if self.square.isChecked():
            side = self.rows.value() if self.sender() is self.rows else self.cols.value()
            self.set_size(side, side)
        self.size_requested.emit(self.rows.value(), self.cols.value())

    def set_size(self, rows: int, cols: int) -> None:
        """Show (rows, cols) without requesting a resize (sizes beyond the range are clipped).

        A non-square size unticks Square, so stepping one side does not crop the other.
        """
        self._syncing = True
        try:
            if rows != cols:
                self.square.setChecked(False)
            self.rows.setValue(rows)
            self.cols.setValue(cols)
        finally:
            self._syncing = False


#: The entries of the Network combo besides a user's model: the single-kernel pipeline,
#: each bundled network, and the three digit networks side by side.
KERNEL_ONLY = "kernel"
VARIANTS = "variants"
MODEL = "model"


class NetworkControls(QGroupBox):
    """Which network runs on the canvas and how its input is made.

    The combo holds the single-kernel pipeline (no network), each bundled network, the
    three digit networks side by side and, once opened, the user's model. Fit, mean, std
    and the labels file apply to a user's model; the note says how the canvas was fitted.

    Signals
    -------
    chosen(str)
        :data:`KERNEL_ONLY`, a bundled name, :data:`VARIANTS` or :data:`MODEL`.
    settings_changed()
        Fit, mean, std or channel order edited.
    """

    chosen = Signal(str)
    settings_changed = Signal()

    def __init__(self, names: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__("Network", parent)
        self.network = QComboBox()
        self.network.addItem("Single kernel (no network)", KERNEL_ONLY)
        for name in names:
            self.network.addItem(name, name)
        self.network.addItem("Three digit networks side by side", VARIANTS)
        self.network.setToolTip("Run the canvas through a trained network")
        self.open_model = QPushButton("Open model…")
        self.open_model.setToolTip("Open an ONNX model file (dropping one on the window works "
                                   "too)")
        self.fit = _combo(("resize", "crop"), "resize",
                          "How an image is fitted to the model's input: stretched, or scaled "
                          "to cover it and centre-cropped")
        self.order = _combo(("activation", "index"), "activation",
                            "Channel order of the grid: by largest activation or by index")
        self.mean = QLineEdit()
        self.std = QLineEdit()
        for box, what in ((self.mean, "mean"), (self.std, "standard deviation")):
            box.setToolTip(f"Per-channel {what}, comma separated (empty: the network's "
                           "default; ImageNet's for a three-channel model)")
            box.setPlaceholderText("default")
            box.editingFinished.connect(self.settings_changed)
        self.labels = QPushButton("Labels file…")
        self.labels.setToolTip("A text file with one class name per line")
        self.layers = QPushButton("Layers…")
        self.layers.setToolTip("Choose the layers shown as panels")
        self.note = QLabel("")
        self.note.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_model)
        buttons.addWidget(self.labels)
        buttons.addWidget(self.layers)
        self._form = form = QFormLayout(self)
        form.addRow(self.network)
        form.addRow(buttons)
        form.addRow("Fit", self.fit)
        form.addRow("Mean", self.mean)
        form.addRow("Std", self.std)
        form.addRow("Channels", self.order)
        form.addRow(self.note)
        self._show_fields(KERNEL_ONLY)
        self.network.currentIndexChanged.connect(
            lambda _i: self.chosen.emit(self.network.currentData()))
        self.fit.currentTextChanged.connect(self.settings_changed)
        self.order.currentTextChanged.connect(self.settings_changed)
        wheel_only_when_focused(self)

    def show_choice(self, key: str, model_label: str = "") -> None:
        """Show `key` chosen without emitting :attr:`chosen` (a model gets its own entry)."""
        with QSignalBlocker(self.network):
            index = self.network.findData(MODEL)
            if model_label:
                if index < 0:
                    self.network.addItem(model_label, MODEL)
                else:
                    self.network.setItemText(index, model_label)
            self.network.setCurrentIndex(self.network.findData(key))
        self._show_fields(key)

    def _show_fields(self, key: str) -> None:
        """Show only the settings that apply to `key`, so the single-kernel pipeline keeps
        the dock short: fit, mean, std and labels for a user's model; layers and channel
        order for any network."""
        user, network = key == MODEL, key != KERNEL_ONLY
        for w in (self.fit, self.mean, self.std):
            self._form.setRowVisible(w, user)
        self.labels.setVisible(user)
        self.layers.setVisible(network)
        self._form.setRowVisible(self.order, network)

    def show_settings(self, fit: str, mean, std, order: str) -> None:
        """Show a choice's settings without emitting :attr:`settings_changed`."""
        with QSignalBlocker(self.fit), QSignalBlocker(self.order):
            self.fit.setCurrentText(fit)
            self.order.setCurrentText(order)
        self.mean.setText("" if mean is None else ", ".join(f"{v:g}" for v in mean))
        self.std.setText("" if std is None else ", ".join(f"{v:g}" for v in std))

    def values(self, box: QLineEdit) -> tuple[float, ...] | None:
        """The numbers in `box` (None when empty).

        Raises
        ------
        ValueError
            If a value is not a number; the message names the field.
        """
        text = box.text().strip()
        if not text:
            return None
        name = "mean" if box is self.mean else "std"
        try:
            return tuple(float(v) for v in text.replace(";", ",").split(","))
        except ValueError:
            raise ValueError(f"{name} must be numbers separated by commas (one per channel, "
                             f"or one for all); got {text!r}.") from None
