"""The "Export figure set" dialog: where the set goes, how it is written, remembered, and
a preview of its composite sheet at its real size.

The dialog only collects choices and shows what it is given: the options are checked by
:class:`figures.FigureSetOptions` itself, and the preview is drawn off the GUI thread by
:class:`gui.export.action.FigureExporter` (it asks for one with
:attr:`ExportDialog.preview_requested` and hands it back to :meth:`ExportDialog.show_preview`).
The exporter also asks before replacing a non-empty folder and runs the export.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.limits import MAX_TOP_K
from engine.sweep import SWEEP_AXES
from figures import FigureSetOptions
from figures.drawing import BACKGROUNDS
from figures.figure_set import (
    FORMATS,
    MAX_ANIMATED_SHIFTS,
    MAX_COLUMNS,
    MAX_DPI,
    MAX_FONT,
    MAX_TITLE,
    MAX_WIDTH,
    MIN_DPI,
    MIN_FONT,
    MIN_PANEL,
    is_title,
)
from gui.window.settings import AppSettings

#: What each format checkbox writes, shown as its tooltip.
FORMAT_TIPS = {
    "png": "Every panel, the composite sheet (and sweep plot) as PNG",
    "svg": "Every panel, the composite sheet (and sweep plot) as SVG",
    "pdf": "Every panel, the composite sheet (and sweep plot) as vector PDF",
    "npz": "stages.npz: every stage array",
    "csv": "metrics.csv (and sweep.csv): per-stage numbers as a table",
    "json": "metrics.json: per-stage numbers",
}
#: The narrowest figure (FigureSetOptions refuses less).
MIN_WIDTH = 64
DEFAULT_FOLDER_NAME = "shiftlab-figures"
#: The optional numbers: option name -> (settings key, smallest, largest, default shown
#: while the option is off).
OPTIONAL_NUMBERS: dict[str, tuple[str, int, int, int]] = {
    "panel_width": ("export/panel_width", MIN_PANEL, MAX_WIDTH, 200),
    "dpi": ("export/dpi", MIN_DPI, MAX_DPI, 300),
    "columns": ("export/columns", 1, MAX_COLUMNS, 4),
    "font_size": ("export/font_size", MIN_FONT, MAX_FONT, 14),
}
#: The yes/no options and their settings keys.
SWITCHES = ("diff_markers", "colorbars", "levels_shared", "metrics_on_sheet", "scale_panels",
            "compress", "sweep_aligned", "sweep_wrap")
#: The sweep's direction as offered, and its two modes (FigureSetOptions.sweep_aligned).
AXIS_LABELS = {"x": "x (right)", "y": "y (down)", "diagonal": "diagonal (down and right)"}
SWEEP_MODES = {False: "distance to f(x) unmoved (invariance)",
               True: "distance to f(x) moved by whole cells (equivariance)"}
#: How long (ms) the preview waits after a change before it is drawn again.
PREVIEW_DELAY_MS = 400


def _optional_number(settings: AppSettings, key: str, minimum: int,
                     maximum: int) -> int | None:
    """An optional whole number stored as 0 for "off": None when missing or 0, else
    clamped to ``minimum..maximum`` (a notice names `key` when it was changed)."""
    if not settings.qsettings.contains(key):
        return None
    value = settings.int_value(key, 0, 0, maximum)
    if value == 0:
        return None
    if value < minimum:
        settings.notice(key, f"{value} is outside {minimum}..{maximum}; using {minimum}")
    return max(value, minimum)


def _remembered_title(settings: AppSettings) -> str | None:
    """The remembered caption; None (the default caption) when missing, empty or not one
    line of at most MAX_TITLE characters."""
    text = settings.text_value("export/title", "")
    if not is_title(text):
        settings.notice("export/title", f"not one line of at most {MAX_TITLE} characters; "
                                        "using the default caption")
        return None
    return text or None


def remembered_options(settings: AppSettings) -> FigureSetOptions:
    """The export options last used: numbers clamped to the dialog's ranges, the default
    for any value that is missing or unusable (each change noted by `settings`)."""
    default = FigureSetOptions()
    named = [f.strip() for text in settings.text_list("export/formats")
             for f in text.split(",") if f.strip()]
    formats = tuple(f for f in FORMATS if f in named)
    if set(named) - set(formats):
        settings.notice("export/formats", f"unknown formats ignored: "
                                          f"{', '.join(sorted(set(named) - set(formats)))}")
    values = {
        name: _optional_number(settings, key, low, high)
        for name, (key, low, high, _) in OPTIONAL_NUMBERS.items()}
    values.update({name: settings.bool_value(f"export/{name}", getattr(default, name))
                   for name in SWITCHES})
    return FigureSetOptions(
        formats=formats or default.formats,
        width=settings.int_value("export/width", default.width, MIN_WIDTH, MAX_WIDTH),
        background=settings.text_value("export/background", default.background,
                                       BACKGROUNDS),
        top_k=settings.int_value("export/top_k", default.top_k, 0, MAX_TOP_K),
        animate_shifts=settings.int_value("export/animate_shifts", default.animate_shifts, 0,
                                          MAX_ANIMATED_SHIFTS),
        title=_remembered_title(settings),
        sweep_axis=settings.text_value("export/sweep_axis", default.sweep_axis, SWEEP_AXES),
        **values)


def remembered_folder(settings: AppSettings) -> Path:
    """The folder last exported to, or ``~/shiftlab-figures`` the first time."""
    text = settings.text_value("export/folder", "")
    return Path(text) if text else Path.home() / DEFAULT_FOLDER_NAME


def remember(settings: AppSettings, folder: Path, options: FigureSetOptions) -> None:
    """Store `folder` and `options` as the next export's defaults."""
    settings.set_value("export/folder", str(folder))
    settings.set_value("export/formats", ",".join(options.formats))
    settings.set_value("export/width", options.width)
    settings.set_value("export/background", options.background)
    settings.set_value("export/top_k", options.top_k)
    settings.set_value("export/animate_shifts", options.animate_shifts)
    for name, (key, *_) in OPTIONAL_NUMBERS.items():
        settings.set_value(key, getattr(options, name) or 0)
    for name in SWITCHES:
        settings.set_value(f"export/{name}", getattr(options, name))
    settings.set_value("export/title", options.title or "")
    settings.set_value("export/sweep_axis", options.sweep_axis)
    settings.sync()


class OptionalNumber(QWidget):
    """A checkbox that turns an option on and a spin box with its value: ``value()`` is
    None while the box is unchecked.

    Parameters
    ----------
    label : str
        The checkbox's text.
    minimum, maximum : int
        The spin box's range.
    value : int or None
        None: unchecked, the spin box showing `shown`.
    shown : int
        The spin box's value while the option is off.
    suffix : str
        After the number, e.g. ``" px"``.
    """

    changed = Signal()

    def __init__(self, label: str, minimum: int, maximum: int, value: int | None,
                 shown: int, suffix: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.check = QCheckBox(label)
        self.check.setChecked(value is not None)
        self.spin = QSpinBox()
        self.spin.setRange(minimum, maximum)
        self.spin.setSuffix(suffix)
        self.spin.setValue(shown if value is None else value)
        self.spin.setEnabled(value is not None)
        self.check.toggled.connect(self.spin.setEnabled)
        self.check.toggled.connect(self.changed)
        self.spin.valueChanged.connect(self.changed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.check)
        layout.addWidget(self.spin, 1)

    def setToolTip(self, text: str) -> None:  # noqa: N802 - Qt's name
        """Show `text` on the checkbox and the spin box."""
        super().setToolTip(text)
        self.check.setToolTip(text)
        self.spin.setToolTip(text)

    def value(self) -> int | None:
        """The number, or None while the option is off."""
        return self.spin.value() if self.check.isChecked() else None


class ExportDialog(QDialog):
    """Ask for the output folder and the :class:`figures.FigureSetOptions`, grouped in tabs
    (Files, Sheet layout, Marks and scales, Animation), with a preview of the composite
    sheet beside them.

    Browse picks a folder; if it holds other files (and is not an earlier figure set),
    the set goes into a new subfolder of it named as the current folder.

    OK is enabled only while a folder is named and the options are valid (as
    :class:`figures.FigureSetOptions` checks them); otherwise a line under the tabs says
    why. "Preview" (and, once a preview is shown, every change, after a short pause) asks
    for the sheet of the current options through :attr:`preview_requested`; whoever
    draws it hands it back to :meth:`show_preview` or :meth:`show_preview_error`.

    Signals
    -------
    preview_requested(object)
        The :class:`figures.FigureSetOptions` to draw the sheet with.
    """

    preview_requested = Signal(object)

    def __init__(self, folder: Path, options: FigureSetOptions,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export figure set")
        self.folder_edit = QLineEdit(str(folder))
        self.folder_edit.setToolTip("The folder to create; an existing non-empty folder is "
                                    "replaced only after you confirm")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(QLabel("Folder"))
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._files_tab(options), "Files")
        self.tabs.addTab(self._layout_tab(options), "Sheet layout")
        self.tabs.addTab(self._marks_tab(options), "Marks and scales")
        self.tabs.addTab(self._animation_tab(options), "Animation")

        self.reason = QLabel("")
        self.reason.setStyleSheet("color: #c0392b")
        # one line that never widens the dialog; the whole reason is its tooltip
        self.reason.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.folder_edit.textChanged.connect(self._update_ok)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tabs, 1)
        left_layout.addWidget(self.reason)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(self._preview_pane())
        splitter.setStretchFactor(1, 1)
        self.splitter = splitter

        layout = QVBoxLayout(self)
        layout.addLayout(folder_row)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.buttons)

        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.request_preview)
        self._live = False  # redraw on every change once a preview was asked for
        self._failed: tuple[FigureSetOptions, str] | None = None
        self._fit_to_screen()
        self._update_ok()

    # -- the tabs -------------------------------------------------------------------------------
    def _form(self) -> tuple[QWidget, QFormLayout]:
        page = QWidget()
        form = QFormLayout(page)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        return page, form

    def _spin(self, minimum: int, maximum: int, value: int, tip: str,
              suffix: str = "", special: str = "") -> QSpinBox:
        box = QSpinBox()
        box.setRange(minimum, maximum)
        box.setSuffix(suffix)
        if special:
            box.setSpecialValueText(special)
        box.setValue(value)
        box.setToolTip(tip)
        box.valueChanged.connect(self._changed)
        return box

    def _switch(self, text: str, checked: bool, tip: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setChecked(checked)
        box.setToolTip(tip)
        box.toggled.connect(self._changed)
        return box

    def _optional(self, name: str, label: str, value: int | None, tip: str,
                  suffix: str = "") -> OptionalNumber:
        _, low, high, shown = OPTIONAL_NUMBERS[name]
        widget = OptionalNumber(label, low, high, value, shown, suffix)
        widget.setToolTip(tip)
        widget.changed.connect(self._changed)
        return widget

    def _files_tab(self, options: FigureSetOptions) -> QWidget:
        page, form = self._form()
        self.format_boxes: dict[str, QCheckBox] = {}
        formats = QWidget()
        grid = QHBoxLayout(formats)
        grid.setContentsMargins(0, 0, 0, 0)
        for fmt in FORMATS:
            box = self._switch(fmt.upper(), fmt in options.formats, FORMAT_TIPS[fmt])
            self.format_boxes[fmt] = box
            grid.addWidget(box)
        grid.addStretch(1)
        self.width_box = self._spin(MIN_WIDTH, MAX_WIDTH, options.width,
                                    "Width of every PNG (SVG and PDF alike) and of the sheet, "
                                    "unless a panel width is set", " px")
        self.dpi = self._optional("dpi", "Set", options.dpi,
                                  f"The resolution PNGs say they have and PDFs are sized for "
                                  f"({MIN_DPI}..{MAX_DPI}), so a figure lands at its "
                                  "physical size; off: PNGs say none, PDFs use 96", " dpi")
        self.background = QComboBox()
        self.background.addItems(BACKGROUNDS)
        self.background.setCurrentText(options.background)
        self.background.setToolTip("Behind panels and sheets (animations are always on white)")
        self.background.currentTextChanged.connect(self._changed)
        self.compress = self._switch("Compress stages.npz", options.compress,
                                     "Write stages.npz zlib-compressed: smaller, and slower "
                                     "to write")
        form.addRow("Formats", formats)
        form.addRow("Width", self.width_box)
        form.addRow("Resolution", self.dpi)
        form.addRow("Background", self.background)
        form.addRow("", self.compress)
        return page

    def _layout_tab(self, options: FigureSetOptions) -> QWidget:
        page, form = self._form()
        self.panel_width = self._optional(
            "panel_width", "At least", options.panel_width,
            f"Each stage on the sheet at least this wide ({MIN_PANEL}..{MAX_WIDTH} px); the "
            f"sheet widens to fit (at most {MAX_WIDTH} px) instead of taking the width", " px")
        self.columns = self._optional(
            "columns", "At most", options.columns,
            f"At most this many stages side by side (1..{MAX_COLUMNS}); the rest wrap into "
            "bands below; off: all in one band", " stages")
        self.font_size = self._optional(
            "font_size", "Fixed", options.font_size,
            f"Text size on the sheet ({MIN_FONT}..{MAX_FONT} px); off: it follows the width",
            " px")
        self.title = QLineEdit(options.title or "")
        self.title.setPlaceholderText("what is shown and the pipeline")
        self.title.setToolTip(f"The sheet's caption, one line of at most {MAX_TITLE} "
                              "characters; empty: what is shown and the pipeline")
        self.title.textChanged.connect(self._changed)
        self.scale_panels = self._switch(
            "Panels at true scale", options.scale_panels,
            "Draw the stages at their true relative scale in input-pixel coordinates, as the "
            "window does, with the receptive field of the deepest maximum on the input")
        form.addRow("Panel width", self.panel_width)
        form.addRow("Columns", self.columns)
        form.addRow("Font size", self.font_size)
        form.addRow("Title", self.title)
        form.addRow("", self.scale_panels)
        return page

    def _marks_tab(self, options: FigureSetOptions) -> QWidget:
        page, form = self._form()
        self.top_k = self._spin(0, MAX_TOP_K, options.top_k,
                                "Maxima recorded and marked per stage (none: no markers "
                                "and no maxima columns)", special="none")
        self.diff_markers = self._switch(
            "Mark the difference row", options.diff_markers,
            "Also mark the largest |A\u2212B| cells on the difference row")
        self.colorbars = self._switch(
            "Colour bars", options.colorbars,
            "A colour bar with its end values under every panel of the sheet")
        self.levels_shared = self._switch(
            "One colour range for all feature stages", options.levels_shared,
            "Conv and pools share one colour range instead of one each")
        self.metrics_on_sheet = self._switch(
            "Metrics on the sheet", options.metrics_on_sheet,
            "Under every panel of row B: the distance to A, how far the peak moved (cells "
            "and input pixels) and the equivariance error")
        form.addRow("Top-k maxima", self.top_k)
        for box in (self.diff_markers, self.colorbars, self.levels_shared,
                    self.metrics_on_sheet):
            form.addRow("", box)
        return page

    def _animation_tab(self, options: FigureSetOptions) -> QWidget:
        page, form = self._form()
        self.animate = self._spin(0, MAX_ANIMATED_SHIFTS, options.animate_shifts,
                                  "Also write sweep.gif/.mp4, a sweep plot and sweep.csv for "
                                  "shifts 0..N pixels", " px", special="none")
        self.sweep_axis = QComboBox()
        for axis in SWEEP_AXES:
            self.sweep_axis.addItem(AXIS_LABELS.get(axis, axis), axis)
        self.sweep_axis.setCurrentIndex(self.sweep_axis.findData(options.sweep_axis))
        self.sweep_axis.setToolTip("The direction the input moves in, one pixel per frame")
        self.sweep_axis.currentIndexChanged.connect(self._changed)
        self.sweep_mode = QComboBox()
        for aligned, text in SWEEP_MODES.items():
            self.sweep_mode.addItem(text, aligned)
        self.sweep_mode.setCurrentIndex(self.sweep_mode.findData(options.sweep_aligned))
        self.sweep_mode.setToolTip("What each stage is compared with: f(x) unmoved, or f(x) "
                                   "moved by the shift in whole cells")
        self.sweep_mode.currentIndexChanged.connect(self._changed)
        self.sweep_wrap = self._switch("Wrap around (circular)", options.sweep_wrap,
                                       "Circular shifts; off: the uncovered pixels are 0")
        form.addRow("Animate shifts", self.animate)
        form.addRow("Direction", self.sweep_axis)
        form.addRow("Compared with", self.sweep_mode)
        form.addRow("", self.sweep_wrap)
        self.animate.valueChanged.connect(self._enable_sweep)
        self._enable_sweep()
        return page

    def _preview_pane(self) -> QWidget:
        self.preview_button = QPushButton("Preview")
        self.preview_button.setToolTip("Draw the composite sheet these options give, at its "
                                       "real size; afterwards it follows every change")
        self.preview_button.clicked.connect(self.request_preview)
        self.preview_status = QLabel("The sheet at 100%: press Preview")
        self.preview_status.setToolTip("The sheet's size in pixels, as sheet.png is written")
        self.preview_status.setSizePolicy(QSizePolicy.Policy.Ignored,
                                          QSizePolicy.Policy.Preferred)
        self.preview_label = QLabel()
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.preview_area = QScrollArea()
        self.preview_area.setWidget(self.preview_label)
        self.preview_area.setWidgetResizable(False)
        self.preview_area.setMinimumSize(320, 240)
        top = QHBoxLayout()
        top.addWidget(self.preview_button)
        top.addWidget(self.preview_status, 1)
        pane = QWidget()
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.preview_area, 1)
        return pane

    def _fit_to_screen(self) -> None:
        screen = self.screen() or QGuiApplication.primaryScreen()
        hint = self.sizeHint()
        width, height = max(hint.width(), 1200), max(hint.height(), 600)
        if screen is not None:
            room = screen.availableGeometry()
            width = min(width, room.width() - 40)
            height = min(height, room.height() - 60)
        self.resize(width, height)
        options_width = self.tabs.sizeHint().width()
        self.splitter.setSizes([options_width, max(width - options_width, 320)])

    # -- choices --------------------------------------------------------------------------------
    @property
    def ok_button(self) -> QPushButton:
        """The button that accepts the dialog."""
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def folder(self) -> Path:
        """The chosen folder (``~`` expanded)."""
        return Path(self.folder_edit.text().strip()).expanduser()

    def options(self) -> FigureSetOptions:
        """The chosen options.

        Raises
        ------
        ValueError
            If they are invalid, e.g. no format checked (OK is disabled then).
        """
        return FigureSetOptions(
            formats=tuple(f for f, box in self.format_boxes.items() if box.isChecked()),
            width=self.width_box.value(), background=self.background.currentText(),
            top_k=self.top_k.value(), animate_shifts=self.animate.value(),
            compress=self.compress.isChecked(), diff_markers=self.diff_markers.isChecked(),
            columns=self.columns.value(), font_size=self.font_size.value(),
            title=self.title.text() or None, panel_width=self.panel_width.value(),
            dpi=self.dpi.value(), colorbars=self.colorbars.isChecked(),
            levels_shared=self.levels_shared.isChecked(),
            metrics_on_sheet=self.metrics_on_sheet.isChecked(),
            scale_panels=self.scale_panels.isChecked(),
            sweep_axis=self.sweep_axis.currentData(),
            sweep_aligned=self.sweep_mode.currentData(),
            sweep_wrap=self.sweep_wrap.isChecked())

    def problem(self) -> str:
        """Why OK is disabled, in one line; empty while the choices can be exported."""
        if not self.folder_edit.text().strip():
            return "Name the folder to write."
        try:
            options = self.options()
        except ValueError as exc:
            return str(exc).splitlines()[0]
        if self._failed is not None and self._failed[0] == options:
            return self._failed[1]
        return ""

    # -- preview --------------------------------------------------------------------------------
    def request_preview(self) -> None:
        """Ask for the sheet of the current options (nothing while they are invalid)."""
        self._preview_timer.stop()
        self._live = True
        try:
            options = self.options()
        except ValueError as exc:
            self.preview_status.setText(f"No preview: {exc}")
            return
        self.preview_status.setText("Drawing the sheet…")
        self.preview_requested.emit(options)

    def show_preview(self, options: FigureSetOptions, image: QImage) -> None:
        """Show `image`, the sheet of `options`, at 100% (one image pixel per screen
        pixel) with its size."""
        pixmap = QPixmap.fromImage(image)
        pixmap.setDevicePixelRatio(self.devicePixelRatioF())
        self.preview_label.setPixmap(pixmap)
        self.preview_label.resize(pixmap.deviceIndependentSize().toSize())
        self.preview_status.setText(f"{image.width()} x {image.height()} px, at 100%")
        self.preview_status.setToolTip(self._preview_tip(options))
        if self._failed is not None and self._failed[0] == options:
            self._failed = None
            self._update_ok()

    def show_preview_error(self, options: FigureSetOptions | None, message: str) -> None:
        """Say why the sheet of `options` cannot be drawn; while those options are chosen,
        OK is disabled with `message` (None: the window has nothing to draw)."""
        line = message.splitlines()[0] if message else "unknown error"
        self.preview_status.setText(f"No preview: {line}")
        self.preview_status.setToolTip(message)
        if options is not None:
            self._failed = (options, line)
            self._update_ok()

    def preview_image(self) -> QImage | None:
        """The sheet shown now, or None."""
        pixmap = self.preview_label.pixmap()
        return None if pixmap is None or pixmap.isNull() else pixmap.toImage()

    @staticmethod
    def _preview_tip(options: FigureSetOptions) -> str:
        if options.panel_width is not None:
            return f"As wide as stages of at least {options.panel_width} px need"
        return f"{options.width} px wide, as chosen"

    def done(self, result: int) -> None:
        """Close the dialog; a preview still due is not asked for."""
        self._preview_timer.stop()
        self._live = False
        super().done(result)

    # -- updates --------------------------------------------------------------------------------
    def _changed(self) -> None:
        self._update_ok()
        if self._live:
            self._preview_timer.start()

    def _enable_sweep(self) -> None:
        animate = self.animate.value() > 0
        for widget in (self.sweep_axis, self.sweep_mode, self.sweep_wrap):
            widget.setEnabled(animate)

    def _browse(self) -> None:
        start = self.folder()
        start = start if start.is_dir() else start.parent
        chosen = QFileDialog.getExistingDirectory(self, "Folder for the figure set", str(start))
        if not chosen:
            return
        folder = Path(chosen)
        # A set replaces the whole folder: a folder of other files gets the set in a new
        # subfolder instead; an earlier set (or an empty folder) is used as it is.
        if any(folder.iterdir()) and not (folder / "manifest.json").is_file():
            folder = folder / (self.folder().name or DEFAULT_FOLDER_NAME)
        self.folder_edit.setText(str(folder))

    def _update_ok(self) -> None:
        problem = self.problem()
        self.reason.setText(problem)
        self.reason.setToolTip(problem)
        self.ok_button.setEnabled(not problem)
