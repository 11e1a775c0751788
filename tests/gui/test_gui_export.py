"""File > Export figure set… and Edit > Copy figure, through a real window host, a real job
runner and real key presses: the files written, cancel, refusal to overwrite, the clipboard."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import cv2
import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox

from cli import main as export_command
from engine import (
    CompareSetup,
    ImageSource,
    InputImage,
    InputTransform,
    PipelineSpec,
    ViewState,
    example_state,
    load_image,
    report,
    run_pipeline,
)
from figures import ExportJob, FigureSetOptions, reproducing_command
from gui.export.action import FigureExporter
from gui.export.dialog import ExportDialog, remembered_options
from gui.export.jobs import (
    CopyFigureRequest,
    ExportRequest,
    window_export_job,
)
from gui.window.settings import AppSettings
from gui.worker import JobContext, JobRunner, Request

SPEC = PipelineSpec(levels=3)
CTRL = Qt.KeyboardModifier.ControlModifier
LEFT = Qt.MouseButton.LeftButton


def write_test_photo(path: Path) -> None:
    """A 40 x 56 grey image with edges and a bright square, as a PNG file."""
    rows, cols = np.mgrid[0:40, 0:56]
    img = ((rows * 3 + cols * 2) % 97 * 2).astype(np.uint8)
    img[10:22, 30:44] = 250
    ok, data = cv2.imencode(".png", img)
    assert ok
    data.tofile(str(path))


class Host(QMainWindow):
    """A minimal window: an image from a file, a spec, an optional comparison, a job runner,
    File and Edit menus, and the exporter wired in as the main window wires it."""

    def __init__(self, image_path: Path) -> None:
        super().__init__()
        self.runner = JobRunner(self)
        self.image = load_image(image_path)
        self.source = ImageSource.of_file(image_path)
        self.edited = False
        self.spec = SPEC
        self.setup: CompareSetup | None = None
        file_menu = self.menuBar().addMenu("&File")
        edit_menu = self.menuBar().addMenu("&Edit")
        self.quit_action = file_menu.addAction("&Quit")
        self.exporter = FigureExporter(self, self.runner, self.statusBar(), self.export_job,
                                       AppSettings())
        self.actions = self.exporter.install_actions(file_menu, edit_menu,
                                                     file_before=self.quit_action)
        self.file_menu, self.edit_menu = file_menu, edit_menu

    @property
    def path(self) -> Path:
        return Path(self.source.path)

    def export_job(self) -> ExportJob:
        return window_export_job(ViewState(InputImage(self.image, self.source, self.edited),
                                           self.spec, self.setup))


@pytest.fixture
def host(qtbot, tmp_path):
    photo = tmp_path / "photo.png"
    write_test_photo(photo)
    win = Host(photo)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    yield win
    assert win.runner.shutdown()


def drive_dialog(qtbot, fill) -> list[str]:
    """Once the export dialog is open, call ``fill(dialog)``; the dialog is closed even if
    `fill` fails, and any failure is returned (the caller asserts there is none)."""
    errors: list[str] = []

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ExportDialog):
            QTimer.singleShot(10, attempt)
            return
        try:
            fill(dialog)
        except Exception as exc:  # noqa: BLE001 - reported by the test after exec returns
            errors.append(repr(exc))
        if dialog.isVisible():
            dialog.reject()

    QTimer.singleShot(0, attempt)
    return errors


def type_into(qtbot, widget, text: str) -> None:
    """Replace a line edit's (or spin box's) text by typing, as a person would."""
    widget.selectAll()
    qtbot.keyClick(widget, Qt.Key.Key_Delete)
    qtbot.keyClicks(widget, text)


def files_in(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def decode(path: Path) -> np.ndarray:
    img = cv2.imdecode(np.fromfile(str(path), np.uint8), cv2.IMREAD_UNCHANGED)
    assert img is not None, path
    return img


def test_ctrl_e_writes_the_set_chosen_in_the_dialog(host, qtbot, tmp_path):
    target = tmp_path / "figures" / "photo-set"

    def fill(dialog: ExportDialog) -> None:
        type_into(qtbot, dialog.folder_edit, str(target))
        type_into(qtbot, dialog.width_box.lineEdit(), "400")
        qtbot.mouseClick(dialog.format_boxes["svg"], LEFT)  # PNG, NPZ, CSV, JSON remain
        qtbot.mouseClick(dialog.ok_button, LEFT)

    progress: list[float] = []
    host.runner.subscribe(ExportRequest, progress=lambda p: progress.append(p.fraction))
    errors = drive_dialog(qtbot, fill)
    with qtbot.waitSignal(host.exporter.exported, timeout=30_000) as blocker:
        qtbot.keyClick(host, Qt.Key.Key_E, CTRL)
        assert not errors
        assert host.exporter.is_exporting()
        assert not host.actions[0].isEnabled()  # one export at a time
    folder, count = blocker.args
    assert Path(folder) == target

    names = files_in(target)
    assert count == len(names)
    assert f"{target}" in host.statusBar().currentMessage()
    assert f"({count} files)" in host.statusBar().currentMessage()
    assert not any(n.endswith(".svg") for n in names)
    for name in ("sheet.png", "stages.npz", "metrics.csv", "metrics.json", "manifest.json"):
        assert name in names

    reference = run_pipeline(load_image(host.path), SPEC)
    pngs = [n for n in names if n.endswith(".png")]
    assert len(pngs) == len(reference.names) + 1  # one panel per stage and the sheet
    for name in pngs:
        assert decode(target / name).shape[1] == 400
    with np.load(target / "stages.npz") as stages:
        assert sorted(stages.files) == sorted(f"A/{n}" for n in reference.names)
        for stage in reference:
            np.testing.assert_array_equal(stages[f"A/{stage.name}"], stage.array)

    # the manifest's command writes the same set again
    argv = json.loads((target / "manifest.json").read_text())["command"]["argv"]
    again = tmp_path / "again"
    argv[argv.index("--out") + 1] = str(again)
    assert export_command(argv[2:]) == 0
    assert files_in(again) == names
    with np.load(target / "stages.npz") as first, np.load(again / "stages.npz") as second:
        for key in first.files:
            np.testing.assert_array_equal(first[key], second[key])
    assert progress and progress == sorted(progress) and progress[-1] < 1
    # the GUI thread kept running: the progress widget is gone, the action is back
    assert not host.exporter.progress_widget.isVisible()
    assert host.actions[0].isEnabled()
    assert list(tmp_path.joinpath("figures").iterdir()) == [target]  # no temporary folder

    # the choices are remembered for the next time
    options = remembered_options(AppSettings())
    assert (options.width, options.formats) == (400, ("png", "npz", "csv", "json"))
    seen: list[tuple[str, int, bool]] = []
    errors = drive_dialog(qtbot, lambda d: seen.append(
        (d.folder_edit.text(), d.width_box.value(), d.format_boxes["svg"].isChecked())))
    assert host.exporter.export_dialog() == 0  # rejected: nothing starts
    assert not errors
    assert seen == [(str(target), 400, False)]


def test_actions_sit_in_the_file_and_edit_menus_with_their_shortcuts(host):
    export, copy = host.actions
    assert host.file_menu.actions().index(export) == \
        host.file_menu.actions().index(host.quit_action) - 1
    assert copy in host.edit_menu.actions()
    assert export.shortcut().toString() == "Ctrl+E"
    assert copy.shortcut().toString() == "Ctrl+Shift+C"


@dataclass(frozen=True, slots=True, eq=False)
class Sum(Request):
    """A quick job on a lane of its own."""

    lane: ClassVar[str] = "other"
    values: tuple[int, ...]

    def run(self, context: JobContext) -> int:
        return sum(self.values)


def slow_options() -> FigureSetOptions:
    """Options whose export takes long enough (a 200-shift sweep) to be stopped midway."""
    return FigureSetOptions(width=300, animate_shifts=200)


def old_figure_set(folder: Path) -> None:
    """Make `folder` an earlier figure set (only a figure set may be replaced)."""
    (folder / "sub").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps({"format": report.FORMAT}))
    (folder / "notes.txt").write_text("keep me")
    (folder / "sub" / "data.bin").write_bytes(b"\x00\x01")


def existing_folder(tmp_path: Path, name: str, monkeypatch) -> dict[str, bytes]:
    """Make an earlier figure set `name` and confirm replacing it; return its contents."""
    folder = tmp_path / name
    old_figure_set(folder)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a: QMessageBox.StandardButton.Yes)
    return contents(folder)


def contents(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in files_in(folder)}


def other_paths(tmp_path: Path) -> list[str]:
    """What a test left next to the photo (temporary folders would show here)."""
    return sorted(p.name for p in tmp_path.iterdir() if p.name != "photo.png")


@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "existing-folder"])
def test_cancel_button_stops_the_export_and_leaves_nothing(host, qtbot, tmp_path, monkeypatch,
                                                           existing):
    target = tmp_path / "set"
    before = existing_folder(tmp_path, "set", monkeypatch) if existing else None
    host.setup = CompareSetup(InputTransform("mirror"))
    started: list[float] = []
    host.runner.subscribe(ExportRequest, progress=lambda p: started.append(p.fraction))
    rid = host.exporter.export_to(target, slow_options())
    assert rid and host.exporter.progress_widget.isVisible()
    qtbot.waitUntil(lambda: bool(started), timeout=10_000)
    assert host.exporter.progress_widget.label.text().startswith("Export: ")

    # the window stays usable meanwhile: another job runs and is delivered
    with qtbot.waitSignal(host.runner.finished, timeout=10_000,
                          check_params_cb=lambda done: isinstance(done.request, Sum)):
        host.runner.submit(Sum((1, 2, 3)))
    assert host.exporter.is_exporting()

    with qtbot.waitSignal(host.exporter.export_cancelled, timeout=30_000) as blocker:
        qtbot.mouseClick(host.exporter.progress_widget.cancel, LEFT)
    assert Path(blocker.args[0]) == target
    assert "cancelled" in host.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not host.exporter.is_exporting(), timeout=5000)
    assert not host.exporter.progress_widget.isVisible()
    if existing:
        assert contents(target) == before
        assert other_paths(tmp_path) == ["set"]
    else:
        assert other_paths(tmp_path) == []


def test_closing_during_an_export_stops_it_and_leaves_nothing(host, qtbot, tmp_path):
    started: list[float] = []
    host.runner.subscribe(ExportRequest, progress=lambda p: started.append(p.fraction))
    assert host.exporter.export_to(tmp_path / "set", slow_options())
    qtbot.waitUntil(lambda: bool(started), timeout=10_000)
    assert host.runner.shutdown()  # what the window does when it closes
    assert other_paths(tmp_path) == []


def test_a_non_empty_folder_is_replaced_only_after_confirmation(host, qtbot, tmp_path,
                                                                monkeypatch):
    target = tmp_path / "old"
    old_figure_set(target)
    asked: list[str] = []
    answer = [QMessageBox.StandardButton.No]

    def question(parent, title, text, *args):
        asked.append(text)
        return answer[0]

    monkeypatch.setattr(QMessageBox, "question", question)
    options = FigureSetOptions(formats=("png",), width=200)
    with qtbot.waitSignal(host.exporter.export_cancelled, timeout=1000):
        assert host.exporter.export_to(target, options) == 0
    assert len(asked) == 1 and str(target) in asked[0]
    assert host.runner.latest(ExportRequest) == 0  # nothing was submitted
    assert "notes.txt" in files_in(target)
    assert (target / "notes.txt").read_text() == "keep me"
    assert "left as it is" in host.statusBar().currentMessage()

    answer[0] = QMessageBox.StandardButton.Yes
    with qtbot.waitSignal(host.exporter.exported, timeout=30_000):
        assert host.exporter.export_to(target, options) > 0
    assert len(asked) == 2
    names = files_in(target)
    assert "notes.txt" not in names and "sheet.png" in names
    assert decode(target / "sheet.png").shape[1] == 200


@pytest.mark.parametrize("existing", [False, True], ids=["new-folder", "existing-folder"])
def test_a_failing_export_says_why_and_leaves_nothing(host, qtbot, tmp_path, monkeypatch,
                                                      existing):
    warnings: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning",
                        lambda parent, title, text, *a: warnings.append(text))
    host.image = host.image[:2, :2]  # a 3 x 3 valid convolution cannot run on 2 x 2
    target = tmp_path / "failed"
    before = existing_folder(tmp_path, "failed", monkeypatch) if existing else None
    with qtbot.waitSignal(host.exporter.export_failed, timeout=30_000) as blocker:
        host.exporter.export_to(target, FigureSetOptions(width=200))
    assert "larger than the padded input" in blocker.args[0]
    qtbot.waitUntil(lambda: bool(warnings), timeout=5000)
    assert "nothing was left behind" in warnings[0]
    assert "Export failed" in host.statusBar().currentMessage()
    if existing:
        assert contents(target) == before
        assert other_paths(tmp_path) == ["failed"]
    else:
        assert other_paths(tmp_path) == []
    qtbot.waitUntil(lambda: host.actions[0].isEnabled(), timeout=5000)


def test_a_folder_that_is_not_a_figure_set_is_never_replaced(host, qtbot, tmp_path,
                                                             monkeypatch):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.tex").write_text("precious")
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a: asked.append(a) or
                        QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(host.exporter.export_failed, timeout=1000) as blocker:
        assert host.exporter.export_to(target, FigureSetOptions()) == 0
    assert "not a figure set written by ShiftLab" in blocker.args[0]
    assert asked == [] and host.runner.latest(ExportRequest) == 0
    assert files_in(target) == ["thesis.tex"]
    monkeypatch.chdir(tmp_path)
    with qtbot.waitSignal(host.exporter.export_failed, timeout=1000) as blocker:
        assert host.exporter.export_to(tmp_path, FigureSetOptions()) == 0
    assert "is the current folder" in blocker.args[0]


def test_a_file_in_place_of_the_folder_is_refused(host, qtbot, tmp_path):
    target = tmp_path / "taken"
    target.write_text("a file")
    with qtbot.waitSignal(host.exporter.export_failed, timeout=1000) as blocker:
        assert host.exporter.export_to(target, FigureSetOptions()) == 0
    assert "exists and is not a folder" in blocker.args[0]
    assert target.read_text() == "a file"


def test_ctrl_shift_c_puts_the_composite_sheet_on_the_clipboard(host, qtbot):
    settings = AppSettings()
    settings.set_value("export/width", 520)
    host.setup = CompareSetup(InputTransform("mirror"))
    with qtbot.waitSignal(host.exporter.figure_copied, timeout=30_000) as blocker:
        qtbot.keyClick(host, Qt.Key.Key_C, CTRL | Qt.KeyboardModifier.ShiftModifier)
    image = blocker.args[0]
    assert image.width() == 520
    clipboard = QApplication.clipboard().image()
    assert (clipboard.width(), clipboard.height()) == (image.width(), image.height())
    # a comparison sheet has three rows (A, B, A - B): taller than the single-row sheet
    host.setup = None
    with qtbot.waitSignal(host.exporter.figure_copied, timeout=30_000) as single:
        host.actions[1].trigger()
    assert single.args[0].width() == 520
    assert single.args[0].height() < image.height()
    assert "Figure copied" in host.statusBar().currentMessage()
    assert host.runner.latest(CopyFigureRequest) > 0


def test_browse_puts_a_set_in_a_new_subfolder_of_a_folder_with_other_files(
        qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    busy = tmp_path / "documents"
    busy.mkdir()
    (busy / "letter.txt").write_text("x")
    earlier = tmp_path / "earlier-set"
    earlier.mkdir()
    (earlier / "manifest.json").write_text("{}")
    chosen = [busy]
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a: str(chosen[0]))
    dialog = ExportDialog(tmp_path / "photo-figures", FigureSetOptions())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.mouseClick(dialog.browse, LEFT)
    assert dialog.folder() == busy / "photo-figures"
    chosen[0] = earlier
    qtbot.mouseClick(dialog.browse, LEFT)
    assert dialog.folder() == earlier
    # OK needs a folder and a format
    for box in dialog.format_boxes.values():
        if box.isChecked():
            qtbot.mouseClick(box, LEFT)
    assert not dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.format_boxes["json"], LEFT)
    assert dialog.ok_button.isEnabled()
    assert dialog.options().formats == ("json",)
    dialog.folder_edit.clear()
    assert not dialog.ok_button.isEnabled()


def test_the_command_is_recorded_only_when_the_sources_give_the_same_images(tmp_path):
    photo = tmp_path / "a.png"
    write_test_photo(photo)
    image = InputImage.load(ImageSource.of_file(photo))
    options = FigureSetOptions()

    def command(a, setup=None):
        state = ViewState(a, SPEC, setup).verified()
        return reproducing_command(state, tmp_path / "out", options)

    moved = CompareSetup(InputTransform("shift", dx=1))
    argv = command(image, moved)
    assert argv[2] == str(photo) and argv[argv.index("--shift") + 1:][:2] == ["0", "1"]
    edited = InputImage(1 - image.pixels, image.source, edited=True)
    assert command(edited)[2] == str(tmp_path / "out" / "session.shiftlab")
    # marked edited but equal to the file: the check finds it is the file after all
    assert command(InputImage(image.pixels, image.source, edited=True))[2] == str(photo)
    assert "--rotate" in command(image, CompareSetup(InputTransform("rotate")))


def test_an_edited_image_is_exported_without_its_file(host, qtbot, tmp_path):
    host.image, host.edited = 1.0 - host.image, True  # inverted after loading the file
    target = tmp_path / "edited"
    with qtbot.waitSignal(host.exporter.exported, timeout=30_000):
        host.exporter.export_to(target, FigureSetOptions(formats=("npz",), width=200))
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["command"]["argv"][2] == str(target / "session.shiftlab")
    record = manifest["inputs"]["A"]
    assert record["path"] == str(host.path) and record["sha256"] is None
    assert record["source"] == "photo.png (edited)"
    with np.load(target / "stages.npz") as stages:
        np.testing.assert_array_equal(stages["A/input"], host.image)


def test_a_built_in_example_exports_with_the_command_that_repeats_it(host, qtbot, tmp_path):
    state = example_state("pixel")
    host.image, host.source = state.a.pixels, state.a.source
    host.spec, host.setup = state.spec, state.compare
    target = tmp_path / "pixel"
    with qtbot.waitSignal(host.exporter.exported, timeout=30_000):
        host.exporter.export_to(target, FigureSetOptions(formats=("npz",), width=200))
    manifest = json.loads((target / "manifest.json").read_text())
    argv = manifest["command"]["argv"]
    assert argv[2] == "example:pixel" and manifest["inputs"]["A"]["source"] == "example:pixel"
    again = tmp_path / "again"
    argv[argv.index("--out") + 1] = str(again)
    assert export_command(argv[2:]) == 0
    with np.load(target / "stages.npz") as first, np.load(again / "stages.npz") as second:
        assert first.files == second.files and "B/pool 2" in first.files
        for key in first.files:
            np.testing.assert_array_equal(first[key], second[key])
    # the same example with a painted pixel is no longer the example
    edited = state.a.pixels.copy()
    edited[5, 5] = 1.0
    painted = ViewState(InputImage(edited, state.a.source, True), state.spec).verified()
    assert painted.a.label == "example:pixel (edited)"
    assert reproducing_command(painted, tmp_path / "x", FigureSetOptions())[2] == \
        str(tmp_path / "x" / "session.shiftlab")
