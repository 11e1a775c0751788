"""The window tells the truth and edits only what a gesture means to edit: the status bar's
levels, undo of whole states, painting on photos, the wheel over the Controls, the kernel
grid's refusals, the example's explanation, the window's size and the comparison docks."""

from __future__ import annotations

import time

import numpy as np
from image_files import write_png
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from engine import EXAMPLES


def wait_compared(qtbot, window) -> None:
    rows = window.compare.rows
    qtbot.waitUntil(lambda: window.up_to_date() and rows.request_id == window.row.request_id,
                    timeout=30_000)


def open_photo(qtbot, window, driver, path, rows=24, cols=32):
    pixels = write_png(path, rows, cols)
    with qtbot.waitSignal(window.image_opened, timeout=10_000):
        window.open_file(path)
    driver.wait()
    return pixels


# -- an early stop is said plainly, not as an alarm -----------------------------------------------
def test_an_early_stop_says_how_many_levels_ran_and_why_without_alarm(window, driver):
    window.pipeline_controls.levels.setValue(12)
    driver.wait()
    result = window.row.result
    assert (result.levels_produced, result.levels_requested) == (3, 12)
    text = window.notice_label.text()
    assert text.startswith("3 of 12 pooling levels ran: ")
    assert result.stop_cause in text
    assert "#c5221f" not in window.notice_label.styleSheet()  # not red: nothing is wrong
    window.pipeline_controls.levels.setValue(2)
    driver.wait()
    assert window.notice_label.text() == ""


# -- left drag paints on a photo, moves a pixel on a sparse canvas --------------------------------
def test_left_drag_paints_on_a_photo_and_moves_on_the_demo(window, driver, qtbot, tmp_path):
    assert window.drag_label.text() == "Left drag: move a lit pixel"
    driver.drag([(2.5, 2.5), (2.5, 5.5)])  # the demo's lit pixel moves
    assert window.model.image[2, 2] == 0 and window.model.image[2, 5] == 1

    pixels = open_photo(qtbot, window, driver, tmp_path / "photo.png") / 255.0
    assert window.drag_label.text() == "Left drag: paint"
    assert window.model.is_lit(4, 4)
    driver.drag([(4.5, 4.5), (4.5, 10.5)])
    image = window.model.image
    np.testing.assert_array_equal(image[4, 4:11], 1.0)  # painted, nothing picked up
    np.testing.assert_allclose(image[5:], pixels[5:], atol=1e-6)
    window.actions_by_name["undo"].trigger()
    np.testing.assert_allclose(window.model.image, pixels, atol=1e-6)


# -- the wheel scrolls the Controls, it does not edit them ----------------------------------------
def wheel(widget, steps: int = -1) -> None:
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(pos, QPointF(widget.mapToGlobal(pos.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_changes_a_field_only_when_it_has_focus(window, qtbot):
    pc, cc = window.pipeline_controls, window.canvas_controls
    window.controls_dock.raise_()
    window.setFocus()
    for field in (pc.pool_size, pc.levels, pc.stride, cc.brush_size):
        before = field.value()
        wheel(field)
        assert field.value() == before, field.toolTip()
    for box in (pc.pool_mode, pc.padding, cc.tool):
        before = box.currentText()
        wheel(box, 1)
        wheel(box, -1)
        assert box.currentText() == before, box.toolTip()
    pc.pool_size.setFocus()
    qtbot.waitUntil(pc.pool_size.hasFocus, timeout=2000)
    wheel(pc.pool_size, 1)  # focused: the wheel is meant for it
    assert pc.pool_size.value() == 3


# -- the kernel grid refuses what is not a finite number, in place --------------------------------
def type_into_cell(qtbot, table, row: int, col: int, text: str) -> None:
    table.setFocus()
    table.setCurrentCell(row, col)
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = next(w for w in table.viewport().findChildren(QLineEdit) if w.isVisible())
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: table.state() != table.State.EditingState, timeout=2000)


def test_the_kernel_grid_refuses_what_is_not_a_finite_number(window, driver, qtbot):
    pc = window.pipeline_controls
    pc.convolve.setChecked(True)
    driver.wait()
    grid = pc.kernel
    spec = window.row.result.spec
    drawn: list[int] = []
    window.row.drawn.connect(drawn.append)
    for text in ("abc", "inf", "nan", "-Infinity"):
        type_into_cell(qtbot, grid.table, 0, 0, text)
        assert grid.table.item(0, 0).text() == "-1"  # the old value stays
        assert grid.refusal.isVisible() and repr(text) in grid.refusal.text()
        assert "row 1, column 1" in grid.refusal.text().lower()
        assert pc.spec() == spec and pc.kernel.preset.currentText() == spec.kernel
    qtbot.wait(100)
    assert drawn == [] and window.notice_label.text() == ""
    type_into_cell(qtbot, grid.table, 0, 0, "2.5")
    driver.wait()
    assert not grid.refusal.isVisible()
    assert window.row.result.spec.kernel[0][0] == 2.5


# -- the example's explanation has a place that stays (What you see) ---------------------------
def explained(window) -> tuple[str, str] | None:
    """The example paragraph of What you see once it describes the drawn result (title and
    text), or None when it has none."""
    deadline = time.monotonic() + 10
    while not window.what_you_see.up_to_date() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.005)
    assert window.what_you_see.up_to_date()
    first = window.what_you_see.description.paragraphs[0]
    return (first.title, first.text) if first.title.startswith("Example") else None


def test_the_example_explanation_stays_after_hovering(window, driver, qtbot):
    assert explained(window) is None
    window.compare.example_actions[1].trigger()
    wait_compared(qtbot, window)
    example = EXAMPLES["mirror"]
    assert explained(window) == (f"Example: {example.title}", example.description)
    QApplication.processEvents()  # the rows just drawn are laid out before the hover
    driver.hover(20.5, 30.5)
    driver.hover(40.5, 60.5, panel=1)
    assert window.hover_label.text()
    assert explained(window) == (f"Example: {example.title}", example.description)
    panel = window.what_you_see.panel
    assert window.what_you_see_dock.isVisible() and panel.height() > 20
    assert example.description in panel.toPlainText()
    window.actions_by_name["demo"].trigger()  # another input: the explanation goes
    driver.wait()
    assert explained(window) is None and window.what_you_see_dock.isVisible()


# -- the window fits its screen -------------------------------------------------------------------
def test_the_window_fits_the_available_screen(window, qtbot):
    area = window.screen().availableGeometry()
    qtbot.wait(50)
    frame = window.frameGeometry()
    assert area.contains(frame), (area, frame)
    assert window.statusBar().isVisible()
    assert area.contains(window.statusBar().mapToGlobal(window.statusBar().rect().center()))
    window.compare.load_example("mirror")  # the docks shown with it do not widen it past
    wait_compared(qtbot, window)
    qtbot.waitUntil(lambda: area.contains(window.frameGeometry()), timeout=2000)
    for widget in (window.controls_dock, window.what_you_see_dock, window.compare.metrics_dock,
                   window.statusBar()):
        corner = widget.mapToGlobal(widget.rect().bottomRight())
        assert area.contains(corner), widget


def test_a_remembered_size_larger_than_the_screen_shrinks(qtbot):
    from gui.window.main_window import MainWindow
    from gui.window.settings import AppSettings

    first = MainWindow()
    qtbot.addWidget(first)
    first.setGeometry(0, 0, 3000, 2000)
    first.save_settings()
    first.close()
    second = MainWindow(AppSettings())
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    qtbot.wait(50)
    area = second.screen().availableGeometry()
    assert area.contains(second.frameGeometry())
    second.close()


# -- the Metrics docks take no room without comparison --------------------------------------------
def test_the_metrics_docks_go_with_comparison(window, qtbot):
    compare = window.compare
    docks = (compare.metrics_dock, compare.plot_dock)
    compare.compare_action.trigger()
    qtbot.waitUntil(lambda: compare.metrics_dock.isVisible(), timeout=5000)
    compare.compare_action.trigger()
    assert not any(d.isVisible() for d in docks)
    compare.load_example("pixel")
    wait_compared(qtbot, window)
    assert compare.metrics_dock.isVisible()
    compare.controls.enabled.setChecked(False)  # off from the Compare dock's checkbox
    assert not any(d.isVisible() for d in docks)


# -- undo and redo bring back whole states ------------------------------------------------------
def shown(window) -> tuple:
    """What the window shows, beyond the pixels, in comparable form."""
    state = window.current_state()
    compare = state.compare
    return (state.a.source, state.spec, state.title, window.windowTitle(),
            explained(window),
            None if compare is None else compare.description)


def test_undo_and_redo_restore_the_whole_state_of_an_example(window, driver, qtbot):
    from gui.window.main_window import DEMO_SPEC

    window.pipeline_controls.levels.setValue(1)
    driver.wait()
    before_pixels = window.model.image.copy()
    before = shown(window)
    assert before[1] == DEMO_SPEC.replace(levels=1) and before[-1] is None
    window.compare.example_actions[1].trigger()  # the photo and its mirror
    wait_compared(qtbot, window)
    example = shown(window)
    example_pixels = window.model.image.copy()
    assert example[1] == EXAMPLES["mirror"].spec and example[-1] == "mirrored left-right"

    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    driver.wait()
    np.testing.assert_array_equal(window.model.image, before_pixels)
    assert shown(window) == before
    assert not window.compare.active and window.row.result.spec == before[1]
    assert window.row.result.stages[-1].shape == (5, 5)

    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    wait_compared(qtbot, window)
    np.testing.assert_array_equal(window.model.image, example_pixels)
    assert shown(window) == example
    assert window.compare.active and window.compare.rows.b.result is not None


def test_undo_of_an_opened_photo_restores_the_example_before_it(window, driver, qtbot,
                                                                tmp_path):
    window.compare.load_example("pixel")
    wait_compared(qtbot, window)
    example = shown(window)
    window.pipeline_controls.levels.setValue(2)  # a change after the example is kept too
    driver.wait()
    example = (example[0], window.pipeline_controls.spec(), *example[2:])
    open_photo(qtbot, window, driver, tmp_path / "photo.png")
    photo = shown(window)
    assert photo[2] == "" and "photo.png" in photo[3] and photo[4] is None
    driver.drag([(3.5, 3.5), (3.5, 6.5)])  # an edit of the photo, then two undos
    window.actions_by_name["undo"].trigger()
    assert not window.model.edited and shown(window) == photo
    window.actions_by_name["undo"].trigger()
    wait_compared(qtbot, window)
    assert shown(window) == example
    window.actions_by_name["redo"].trigger()
    driver.wait()
    assert shown(window) == photo


def test_undo_of_an_opened_session_restores_the_state_before_it(window, driver, qtbot,
                                                                tmp_path):
    from engine import ViewState, example_state, save_session

    path = tmp_path / "two.shiftlab"
    save_session(path, example_state("two-photos").replace(top_k=5))
    before = shown(window)
    with qtbot.waitSignal(window.session_opened, timeout=20_000):
        window.open_session(path)
    wait_compared(qtbot, window)
    opened = shown(window)
    assert opened[-1].startswith("another image") and window.pipeline_controls.top_k() == 5
    window.actions_by_name["undo"].trigger()
    driver.wait()
    assert shown(window) == before and window.pipeline_controls.top_k() == 3
    assert isinstance(window.current_state(), ViewState)


# -- a restart shows an input and a pipeline that belong together ---------------------------------
def restart(qtbot, first):
    """Close `first` and open a new window on the same settings, once it is drawn."""
    from conftest import Driver

    from gui.window.main_window import MainWindow

    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    second.show()
    qtbot.waitExposed(second)
    return second, Driver(qtbot, second)


def test_a_restart_after_an_example_shows_the_example_again(window, qtbot):
    from engine import EXAMPLES as examples

    window.compare.load_example("mirror")
    wait_compared(qtbot, window)
    second, driver = restart(qtbot, window)
    with qtbot.waitSignal(second.last_state_restored, timeout=20_000):
        pass
    wait_compared(qtbot, second)
    result = second.row.result
    assert result.spec == examples["mirror"].spec and result.stop_reason is None
    assert result.stages[0].shape == (400, 600) and result.stages[-1].shape == (6, 9)
    assert second.compare.active and second.compare.controls.kind_name() == "mirror"
    assert second.notice_label.text() == ""
    assert explained(second)[0] == f"Example: {examples['mirror'].title}"
    assert not second.model.can_undo()  # the start is not an edit
    second.close()


def test_a_restart_keeps_a_drawn_canvas_with_its_pipeline(window, driver, qtbot):
    window.pipeline_controls.levels.setValue(1)
    driver.drag([(6.5, 1.5), (6.5, 8.5)])
    pixels = window.model.image.copy()
    second, driver = restart(qtbot, window)
    with qtbot.waitSignal(second.last_state_restored, timeout=20_000):
        pass
    driver.wait()
    np.testing.assert_array_equal(second.model.image, pixels)
    assert second.row.result.spec.levels == 1 and not second.compare.active
    second.close()


def test_a_file_opened_at_start_wins_over_the_last_state(window, qtbot, tmp_path):
    window.compare.load_example("pixel")
    wait_compared(qtbot, window)
    path = tmp_path / "photo.png"
    write_png(path, 20, 20)
    second, driver = restart(qtbot, window)
    with qtbot.waitSignal(second.image_opened, timeout=10_000):
        second.open_file(path)
    qtbot.wait(300)  # the last state's reading has ended by now, and is dropped
    driver.wait()
    assert second.model.shape == (20, 20) and "photo.png" in second.windowTitle()
    second.close()


def test_a_last_state_whose_file_is_gone_starts_the_demo_with_its_pipeline(window, driver,
                                                                          qtbot, tmp_path,
                                                                          capsys):
    from gui.window.main_window import DEMO_SPEC

    path = tmp_path / "photo.png"
    open_photo(qtbot, window, driver, path)
    window.pipeline_controls.levels.setValue(6)
    driver.wait()
    window.close()
    path.unlink()
    second, driver = restart(qtbot, window)
    qtbot.waitUntil(lambda: "not shown again" in second.statusBar().currentMessage(),
                    timeout=10_000)
    driver.wait()
    assert second.pipeline_controls.spec() == DEMO_SPEC
    assert second.row.result.stop_reason is None
    assert "photo.png" in capsys.readouterr().err
    second.close()


# -- the seam note's fix sets the Controls' padding ------------------------------------------------
def test_the_seam_notes_fix_pads_circularly(window, qtbot):
    window.compare.load_example("shift")
    wait_compared(qtbot, window)
    metrics = window.compare.metrics
    qtbot.waitUntil(metrics.fix_padding.isVisible, timeout=5000)
    qtbot.mouseClick(metrics.fix_padding, Qt.MouseButton.LeftButton)
    assert window.pipeline_controls.padding.currentText() == "circular"
    wait_compared(qtbot, window)
    assert window.row.result.spec.padding == "circular"
    conv = next(c for c in window.compare.view.comparison.stages if c.name == "conv")
    assert conv.equivariance_error < 1e-6
