"""The export dialog's figure-set options, through real clicks and keys: every option reaches
the written set, the choices are remembered (hostile remembered values clamped), invalid
choices disable Export with the reason, and the sheet is previewed at its real size, drawn
off the GUI thread."""

from __future__ import annotations

import json
import threading

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QMessageBox
from test_gui_export import (
    decode,
    drive_dialog,
    host,  # noqa: F401 - the fixture behind `compared`
    type_into,
)

import gui.export.jobs as export_jobs
from engine import CompareSetup, InputTransform
from figures import FigureSetOptions
from figures.drawing import SheetRow, sheet_width_for
from figures.figure_set import MAX_DPI, MAX_TITLE, MAX_WIDTH, MIN_PANEL
from gui.export.dialog import ExportDialog, remembered_options
from gui.window.settings import AppSettings

LEFT = Qt.MouseButton.LeftButton
#: The stages of the host's pipeline (input, conv, 3 pools) side by side.
STAGES = 5


@pytest.fixture
def compared(request, monkeypatch):
    """The host window showing a comparison (rows A, B, A-B); a question or a warning box
    fails the test instead of waiting for an answer."""
    window = request.getfixturevalue("host")
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a: asked.append(a[2]) or
                        QMessageBox.StandardButton.No)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: asked.append(a[2]))
    window.setup = CompareSetup(InputTransform("mirror"))
    yield window
    assert asked == []


def open_tab(qtbot, dialog: ExportDialog, title: str) -> None:
    """Click the tab named `title`."""
    bar = dialog.tabs.tabBar()
    index = next(i for i in range(bar.count()) if bar.tabText(i) == title)
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())
    assert dialog.tabs.currentIndex() == index


def click(qtbot, widget) -> None:
    """Click `widget`; a checkbox on its box (a wide one is not toggled by its far end)."""
    if isinstance(widget, QCheckBox):
        qtbot.mouseClick(widget, LEFT, pos=QPoint(8, widget.height() // 2))
    else:
        qtbot.mouseClick(widget, LEFT)


def set_number(qtbot, optional, value: int) -> None:
    """Turn an optional number on (by its checkbox) and type `value`."""
    if not optional.check.isChecked():
        click(qtbot, optional.check)
    type_into(qtbot, optional.spin.lineEdit(), str(value))


CHOSEN = FigureSetOptions(
    formats=("png", "pdf", "npz", "json"), width=300, background="transparent", top_k=5,
    animate_shifts=2, compress=True, diff_markers=True, columns=2, font_size=9,
    title="Edges, mirrored", panel_width=64, dpi=150, colorbars=False, levels_shared=True,
    metrics_on_sheet=True, scale_panels=True, sweep_axis="diagonal", sweep_aligned=True,
    sweep_wrap=False)


def choose_everything(qtbot, dialog: ExportDialog) -> None:
    """Set every option to CHOSEN's value by clicks and keys, as a person would."""
    open_tab(qtbot, dialog, "Files")
    for fmt in ("svg", "csv", "pdf"):  # PNG, NPZ and JSON stay ticked
        click(qtbot, dialog.format_boxes[fmt])
    type_into(qtbot, dialog.width_box.lineEdit(), "300")
    set_number(qtbot, dialog.dpi, 150)
    qtbot.keyClick(dialog.background, Qt.Key.Key_Down)
    click(qtbot, dialog.compress)
    open_tab(qtbot, dialog, "Sheet layout")
    set_number(qtbot, dialog.panel_width, 64)
    set_number(qtbot, dialog.columns, 2)
    set_number(qtbot, dialog.font_size, 9)
    type_into(qtbot, dialog.title, "Edges, mirrored")
    click(qtbot, dialog.scale_panels)
    open_tab(qtbot, dialog, "Marks and scales")
    type_into(qtbot, dialog.top_k.lineEdit(), "5")
    for box in (dialog.diff_markers, dialog.colorbars, dialog.levels_shared,
                dialog.metrics_on_sheet):
        click(qtbot, box)
    open_tab(qtbot, dialog, "Animation")
    assert not dialog.sweep_axis.isEnabled()  # no sweep: its settings do not apply
    type_into(qtbot, dialog.animate.lineEdit(), "2")
    assert dialog.sweep_axis.isEnabled()
    qtbot.keyClick(dialog.sweep_axis, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.sweep_axis, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.sweep_mode, Qt.Key.Key_Down)
    click(qtbot, dialog.sweep_wrap)


def test_every_option_chosen_in_the_dialog_reaches_the_set_and_is_remembered(
        compared, qtbot, tmp_path):
    target = tmp_path / "set"
    chosen: list[FigureSetOptions] = []

    def fill(dialog: ExportDialog) -> None:
        type_into(qtbot, dialog.folder_edit, str(target))
        choose_everything(qtbot, dialog)
        chosen.append(dialog.options())
        assert dialog.ok_button.isEnabled(), dialog.reason.text()
        click(qtbot, dialog.ok_button)

    errors = drive_dialog(qtbot, fill)
    with qtbot.waitSignal(compared.exporter.exported, timeout=60_000):
        qtbot.keyClick(compared, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        assert not errors
    assert chosen == [CHOSEN]
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["options"] == CHOSEN.to_dict()
    assert (target / "sheet.pdf").is_file() and not (target / "sheet.svg").exists()
    panel = decode(target / "panels" / "A_input.png")
    assert panel.shape[1] == 300 and panel.shape[2] == 4  # transparent: with alpha

    # the next opening offers the same choices
    assert remembered_options(AppSettings()) == CHOSEN
    seen: list[FigureSetOptions] = []
    errors = drive_dialog(qtbot, lambda d: seen.append(d.options()))
    assert compared.exporter.export_dialog() == 0
    assert not errors
    assert seen == [CHOSEN]


def test_hostile_remembered_options_are_clamped_or_forgotten(compared, qtbot, capsys):
    settings = AppSettings()
    hostile = {"panel_width": 5, "dpi": 10**9, "columns": -4, "font_size": "large",
               "title": "x" * (MAX_TITLE + 1), "sweep_axis": "sideways",
               "scale_panels": "maybe", "sweep_wrap": "no", "compress": "yes",
               "colorbars": "off", "width": -1}
    for name, value in hostile.items():
        settings.set_value(f"export/{name}", value)
    settings.sync()
    seen: list[tuple] = []

    def inspect(dialog: ExportDialog) -> None:
        seen.append((dialog.options(), dialog.panel_width.spin.minimum(),
                     dialog.dpi.spin.maximum(), dialog.ok_button.isEnabled()))

    errors = drive_dialog(qtbot, inspect)
    assert compared.exporter.export_dialog() == 0
    assert not errors
    expected = FigureSetOptions(panel_width=MIN_PANEL, dpi=MAX_DPI, width=64, compress=True,
                                colorbars=False, sweep_wrap=False)
    assert seen == [(expected, MIN_PANEL, MAX_DPI, True)]
    err = capsys.readouterr().err
    for name in ("panel_width", "dpi", "columns", "font_size", "title", "sweep_axis",
                 "scale_panels", "width"):
        assert f"setting export/{name}:" in err


@pytest.fixture
def dialog(qtbot, tmp_path):
    dialog = ExportDialog(tmp_path / "set", FigureSetOptions())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def test_invalid_choices_disable_export_and_say_why(dialog, qtbot):
    assert dialog.ok_button.isEnabled() and dialog.reason.text() == ""
    for box in dialog.format_boxes.values():
        if box.isChecked():
            click(qtbot, box)
    assert not dialog.ok_button.isEnabled()
    assert "formats must be one or more of" in dialog.reason.text()
    assert "\n" not in dialog.reason.text()
    click(qtbot, dialog.format_boxes["pdf"])
    assert dialog.ok_button.isEnabled() and dialog.reason.text() == ""

    open_tab(qtbot, dialog, "Sheet layout")
    type_into(qtbot, dialog.title, "t" * (MAX_TITLE + 1))
    assert not dialog.ok_button.isEnabled()
    assert f"title must be one line of at most {MAX_TITLE}" in dialog.reason.text()
    qtbot.keyClick(dialog.title, Qt.Key.Key_Backspace)
    assert dialog.ok_button.isEnabled()
    assert dialog.options().title == "t" * MAX_TITLE

    dialog.folder_edit.clear()
    assert not dialog.ok_button.isEnabled() and "folder" in dialog.reason.text()


def test_the_preview_shows_the_sheet_at_its_real_size_drawn_off_the_gui_thread(
        compared, qtbot, monkeypatch):
    threads: list[int] = []
    draw = export_jobs.sheet_image

    def recording(job, options):
        threads.append(threading.get_ident())
        return draw(job, options)

    monkeypatch.setattr(export_jobs, "sheet_image", recording)
    shown: list[tuple] = []

    def shown_width(dialog: ExportDialog) -> int:
        image = dialog.preview_image()
        return 0 if image is None else image.width()

    def fill(dialog: ExportDialog) -> None:
        assert dialog.preview_image() is None
        type_into(qtbot, dialog.width_box.lineEdit(), "500")
        click(qtbot, dialog.preview_button)
        qtbot.waitUntil(lambda: shown_width(dialog) == 500, timeout=30_000)
        image = dialog.preview_image()
        label = dialog.preview_label
        shown.append((image.width(), round(label.width() * label.devicePixelRatioF()),
                      dialog.preview_status.text()))
        tall = image.height()

        # once previewed, the preview follows the options
        open_tab(qtbot, dialog, "Sheet layout")
        set_number(qtbot, dialog.panel_width, 100)
        wide = sheet_width_for(100, [SheetRow("A", [None] * STAGES)] * 3)
        qtbot.waitUntil(lambda: shown_width(dialog) == wide, timeout=30_000)
        shown.append((wide, dialog.preview_status.text()))
        set_number(qtbot, dialog.columns, 2)
        narrow = sheet_width_for(100, [SheetRow("A", [None] * STAGES)] * 3, 2)
        qtbot.waitUntil(lambda: shown_width(dialog) == narrow, timeout=30_000)
        assert dialog.preview_image().height() > tall  # three bands of rows A, B, A-B

        # a sheet too wide to write: no preview, and Export says why
        click(qtbot, dialog.columns.check)
        type_into(qtbot, dialog.panel_width.spin.lineEdit(), "2000")
        qtbot.waitUntil(lambda: "No preview" in dialog.preview_status.text(), timeout=30_000)
        assert not dialog.ok_button.isEnabled()
        assert f"more than {MAX_WIDTH}" in dialog.reason.text()
        type_into(qtbot, dialog.panel_width.spin.lineEdit(), "120")
        qtbot.waitUntil(lambda: dialog.ok_button.isEnabled(), timeout=30_000)

    errors = drive_dialog(qtbot, fill)
    assert compared.exporter.export_dialog() == 0
    assert not errors
    width, label_width, status = shown[0]
    assert (width, label_width) == (500, 500)
    assert status.startswith("500 x ") and status.endswith(" px, at 100%")
    assert shown[1][1].startswith(f"{shown[1][0]} x ")
    assert threads and threading.get_ident() not in threads
    assert compared.runner.latest(export_jobs.SheetPreviewRequest) > 0
