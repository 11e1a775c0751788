"""The "Export figure set" dialog: where the set goes and how it is written, remembered.

The dialog only collects choices; :class:`gui.export.action.FigureExporter` asks before
replacing a non-empty folder and runs the export off the GUI thread.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.limits import MAX_TOP_K
from figures import FigureSetOptions
from figures.drawing import BACKGROUNDS
from figures.figure_set import FORMATS, MAX_ANIMATED_SHIFTS, MAX_WIDTH
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
    return FigureSetOptions(
        formats=formats or default.formats,
        width=settings.int_value("export/width", default.width, MIN_WIDTH, MAX_WIDTH),
        background=settings.text_value("export/background", default.background,
                                       BACKGROUNDS),
        top_k=settings.int_value("export/top_k", default.top_k, 0, MAX_TOP_K),
        animate_shifts=settings.int_value("export/animate_shifts", default.animate_shifts, 0,
                                          MAX_ANIMATED_SHIFTS))


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
    settings.sync()


class ExportDialog(QDialog):
    """Ask for the output folder and the :class:`figures.FigureSetOptions`.

    Browse picks a folder; if it holds other files (and is not an earlier figure set),
    the set goes into a new subfolder of it named as the current folder.

    OK is enabled only while a folder is named and at least one format is checked.
    """

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
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse)

        self.format_boxes: dict[str, QCheckBox] = {}
        formats_row = QHBoxLayout()
        for fmt in FORMATS:
            box = QCheckBox(fmt.upper())
            box.setChecked(fmt in options.formats)
            box.setToolTip(FORMAT_TIPS[fmt])
            box.toggled.connect(self._update_ok)
            self.format_boxes[fmt] = box
            formats_row.addWidget(box)

        self.width_box = QSpinBox()
        self.width_box.setRange(MIN_WIDTH, MAX_WIDTH)
        self.width_box.setSuffix(" px")
        self.width_box.setValue(options.width)
        self.width_box.setToolTip("Width of every PNG (and of the copied figure)")
        self.background = QComboBox()
        self.background.addItems(BACKGROUNDS)
        self.background.setCurrentText(options.background)
        self.top_k = QSpinBox()
        self.top_k.setRange(0, MAX_TOP_K)
        self.top_k.setSpecialValueText("none")
        self.top_k.setValue(options.top_k)
        self.top_k.setToolTip("Maxima recorded and marked per stage (none: no markers)")
        self.animate = QSpinBox()
        self.animate.setRange(0, MAX_ANIMATED_SHIFTS)
        self.animate.setValue(options.animate_shifts)
        self.animate.setSpecialValueText("none")
        self.animate.setToolTip("Also write sweep.gif/.mp4 and a sweep plot for shifts "
                                "0..N pixels to the right (circular)")

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.folder_edit.textChanged.connect(self._update_ok)

        form = QFormLayout(self)
        form.addRow("Folder", folder_row)
        form.addRow("Formats", formats_row)
        form.addRow("Width", self.width_box)
        form.addRow("Background", self.background)
        form.addRow("Top-k maxima", self.top_k)
        form.addRow("Animate shifts", self.animate)
        form.addRow(self.buttons)
        self.resize(max(self.sizeHint().width(), 560), self.sizeHint().height())
        self._update_ok()

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
            If no format is checked (OK is disabled then).
        """
        return FigureSetOptions(
            formats=tuple(f for f, box in self.format_boxes.items() if box.isChecked()),
            width=self.width_box.value(), background=self.background.currentText(),
            top_k=self.top_k.value(), animate_shifts=self.animate.value())

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
        ready = bool(self.folder_edit.text().strip()) and any(
            box.isChecked() for box in self.format_boxes.values())
        self.ok_button.setEnabled(ready)
