"""The main window as a whole: files, drops, errors, the worker path, controls, settings."""

from __future__ import annotations

import os

import numpy as np
import pytest
from image_files import write_png
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLineEdit

from engine import PipelineSpec, load_image, run_pipeline
from gui.panels.views import PipelineRequest
from gui.window.main_window import DEMO_SPEC, MainWindow


def test_open_by_api_replaces_the_canvas_and_is_remembered(window, driver, qtbot, tmp_path):
    path = tmp_path / "photo.png"
    pixels = write_png(path)
    with qtbot.waitSignal(window.image_opened, timeout=10_000) as opened:
        window.open_file(path)
    assert opened.args == [str(path)]
    np.testing.assert_allclose(window.model.image, pixels / 255.0, atol=1e-6)
    assert "photo.png" in window.windowTitle()
    driver.wait()
    assert window.row.panels[0].title == "Input (24, 32)"
    assert window.recent.paths()[0] == str(path.resolve())
    cc = window.canvas_controls
    assert (cc.rows.value(), cc.cols.value(), cc.square.isChecked()) == (24, 32, False)
    window._fill_recent()
    assert any("photo.png" in a.text() for a in window.recent_menu.actions())
    window.actions_by_name["undo"].trigger()  # opening is undoable
    assert window.model.shape == (10, 10)


def test_drop_a_file_on_the_window(window, qtbot, tmp_path):
    path = tmp_path / "dropped.png"
    pixels = write_png(path, 12, 9, seed=4)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.image_opened, timeout=10_000):
        QApplication.sendEvent(window, drop)
    np.testing.assert_allclose(window.model.image, pixels / 255.0, atol=1e-6)


@pytest.mark.parametrize("content", [b"", b"not an image at all", "truncated"])
def test_a_bad_file_keeps_the_image_and_names_the_file(window, qtbot, tmp_path, warnings,
                                                       content):
    path = tmp_path / "broken.png"
    if content == "truncated":
        good = tmp_path / "good.png"
        write_png(good, 64, 64)
        content = good.read_bytes()[:200]
    path.write_bytes(content)
    before = window.model.image.copy()
    with qtbot.waitSignal(window.open_failed, timeout=10_000) as failed:
        window.open_file(path)
    np.testing.assert_array_equal(window.model.image, before)
    assert len(warnings) == 1
    title, text = warnings[0]
    assert str(path) in text and failed.args[0] == str(path)
    try:
        load_image(path)
    except ValueError as exc:  # the engine's own reason is what the box says
        assert str(exc).split(": ", 1)[1] in text
    else:
        pytest.fail("load_image accepted a bad file")


def test_a_missing_file_and_a_folder_are_reported(window, qtbot, tmp_path, warnings):
    for path in (tmp_path / "nope.png", tmp_path):
        with qtbot.waitSignal(window.open_failed, timeout=10_000):
            window.open_file(path)
    assert [str(p) in t for p, (_, t) in zip((tmp_path / "nope.png", tmp_path), warnings,
                                              strict=True)] == [True, True]
    assert window.model.shape == (10, 10)


def test_fifty_quick_requests_draw_only_the_last(window, driver, qtbot):
    drawn: list[int] = []
    window.row.drawn.connect(drawn.append)
    window.model.set_image(np.random.default_rng(1).random((256, 256)).astype(np.float32))
    window.pipeline_controls.convolve.setChecked(True)
    driver.wait()
    drawn.clear()
    ids = [window.request_compute() for _ in range(50)]
    driver.wait()
    qtbot.wait(50)
    assert drawn == [ids[-1]]
    assert window.row.request_id == ids[-1] == window.runner.latest(PipelineRequest)


def test_thousands_of_edits_drawn_through_the_window(window, driver, qtbot):
    """Many signal emits and redraws through the real path (pyqtgraph emits on every
    setImage; some PySide6 builds crash after a few hundred emits)."""
    drawn: list[int] = []
    window.row.drawn.connect(drawn.append)
    emits = 0

    def count(*_):
        nonlocal emits
        emits += 1

    window.model.changed.connect(count)
    window.canvas_item.sigImageChanged.connect(count)
    for i in range(5000):
        window.model.begin_move(*divmod(int(np.argmax(window.model.image)), 10))
        window.model.move_to((i * 3) % 10, (i * 7) % 10)
        window.model.end_stroke()
        if i % 40 == 0:
            driver.wait()
    driver.wait()
    assert emits >= 10_000 and len(drawn) >= 125
    r, c, _ = run_pipeline(window.model.image.copy(), window.pipeline_controls.spec(),
                           top_k=1).stages[-1].maxima[0]
    assert window.row.result.stages[-1].maxima[0][:2] == (r, c)


def test_a_worker_exception_shows_in_the_status_bar(window, driver, qtbot):
    window.model.set_image(np.ones((2, 2), np.float32))
    window.pipeline_controls.convolve.setChecked(True)  # a 3x3 valid kernel cannot fit
    qtbot.waitUntil(lambda: "Computation failed" in window.notice_label.text(), timeout=10_000)
    assert "kernel" in window.notice_label.text()
    window.pipeline_controls.convolve.setChecked(False)  # still usable
    window.model.set_image(np.eye(4, dtype=np.float32))
    driver.wait()
    assert window.row.result.stages[0].shape == (4, 4) and window.notice_label.text() == ""


def test_closing_during_a_long_compute_stops_the_worker(qtbot):
    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    photo = np.random.default_rng(0).random((3000, 4000)).astype(np.float32)
    win.model.set_image(photo, copy=False)
    win.pipeline_controls.set_spec(PipelineSpec(levels=6))
    rid = win.request_compute()
    assert rid > 0
    threads = list(win.runner._threads.values())
    assert any(t.isRunning() for t in threads)
    win.close()
    assert not any(t.isRunning() for t in threads)
    assert win.row.request_id != rid  # nothing drawn after closing


def test_controls_recompute(window, driver):
    pc = window.pipeline_controls
    pc.convolve.setChecked(True)
    driver.wait()
    assert window.row.result.names == ["input", "conv", "pool 1", "pool 2"]
    assert [p.title for p in window.row.panels][1] == "Conv (8, 8)"
    pc.levels.setValue(3)
    pc.pool_mode.setCurrentText("blurmax")
    pc.padding.setCurrentText("circular")
    pc.kernel.preset.setCurrentText("laplacian")
    driver.wait()
    spec = PipelineSpec(kernel="laplacian", padding="circular", pool_mode="blurmax", levels=3)
    reference = run_pipeline(window.model.image.copy(), spec, top_k=pc.top_k())
    assert window.row.result.names == reference.names
    for got, want in zip(window.row.result.stages, reference.stages, strict=True):
        np.testing.assert_array_equal(got.array, want.array)
        assert got.maxima == want.maxima
    pc.kernel.table.item(0, 0).setText("2.5")  # a custom kernel
    driver.wait()
    assert window.row.result.spec.kernel[0][0] == 2.5 and pc.kernel.preset.currentText() == "custom"
    pc.top_k_box.setValue(5)
    driver.wait()
    assert len(window.row.panels[1].top_k.points) <= 4
    assert len(window.row.result.stages[1].maxima) == 5


def test_hover_reports_the_cell_and_outlines_related_cells(window, driver, qtbot):
    driver.hover(3.5, 3.5, panel=1)  # pool 1 cell (1, 1) covers input [2, 4) x [2, 4)
    text = window.hover_label.text()
    assert window.hover_label.isVisible()
    assert "Pool 1 (5, 5)" in text and "row 1, col 1" in text and "value 1" in text
    related = window.row.result.related_cells(1, 1, 1)
    for i, panel in enumerate(window.row.panels):
        box = panel.hover_box
        assert box.isVisible()
        r0, c0, r1, c1 = related[i]
        x0, y0, w, h = panel.stage.display_rect()
        rows, cols = panel.stage.shape
        expected = (x0 + c0 * w / cols, y0 + r0 * h / rows, (c1 - c0) * w / cols,
                    (r1 - r0) * h / rows)
        got = box.rect()
        assert (got.x(), got.y(), got.width(), got.height()) == pytest.approx(expected)
    assert window.row.panels[0].hover_box.rect().getRect() == (2, 2, 2, 2)
    driver.hover(2.5, 2.5, panel=0)
    assert window.hover_label.text() == "Input (10, 10)   row 2, col 2   value 1"
    # the receptive field of the deepest maximum is outlined on the input
    field = window.row.input_panel.field_box
    top, left, bottom, right = window.row.result.stages[-1].receptive_field(0, 0)
    assert field.isVisible() and field.rect().getRect() == (left, top, right - left, bottom - top)


def test_panels_are_linked_and_drawn_in_input_coordinates(window, qtbot):
    views = [p.view for p in window.row.panels]
    views[2].setRange(xRange=(1, 4), yRange=(1, 4), padding=0)
    QApplication.processEvents()
    for v in views:
        (x0, x1), (y0, y1) = v.viewRange()
        assert x0 <= 1.01 and x1 >= 3.99 and y0 <= 1.01 and y1 >= 3.99
        assert x1 - x0 < 9 or y1 - y0 < 9
        assert v.yInverted()
    for panel in window.row.panels:
        rect = panel.image_item.mapRectToParent(panel.image_item.boundingRect())
        assert rect.getRect() == pytest.approx(panel.stage.display_rect())


def test_settings_are_remembered(qtbot):
    first = MainWindow()
    qtbot.addWidget(first)
    first.pipeline_controls.set_spec(PipelineSpec(kernel="laplacian", levels=4, pool_mode="avg"))
    first.pipeline_controls.top_k_box.setValue(7)
    first.canvas_controls.wrap.setChecked(True)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.pipeline_controls.spec() == PipelineSpec(kernel="laplacian", levels=4,
                                                           pool_mode="avg")
    assert second.pipeline_controls.top_k() == 7
    assert second.canvas_controls.wrap.isChecked() and second.wrap_action.isChecked()
    second.close()


def test_run_app_with_a_bad_file_keeps_the_demo(qtbot, tmp_path, warnings, capsys,
                                                monkeypatch):
    import gui.app as app_module

    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 broken")
    windows = []

    def exec_once(self):
        win = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
        windows.append(win)
        qtbot.waitUntil(lambda: bool(warnings), timeout=10_000)
        return 0

    monkeypatch.setattr(type(QApplication.instance()), "exec", exec_once)
    assert app_module.run_app([str(bad)]) == 0
    assert windows and windows[0].model.shape == (10, 10)
    assert str(bad) in warnings[0][1] and "bad.jpg" in capsys.readouterr().err


def test_synthetic_pointer_positions_fall_inside_the_view(window, driver):
    pos = driver.widget_pos(2.5, 2.5)
    assert window.row.graphics.viewport().rect().contains(QPoint(pos.x(), pos.y()))


def test_shift_dialog_shifts_with_and_without_wrap(window, driver, qtbot):
    from PySide6.QtCore import QTimer

    from gui.window.dialogs import ShiftDialog

    img = np.zeros((10, 10), np.float32)
    img[1, 8] = 1
    window.model.set_image(img)

    def answer(dx, dy, wrap):
        dialog = next(w for w in QApplication.topLevelWidgets()
                      if isinstance(w, ShiftDialog) and w.isVisible())
        dialog.dx.setValue(dx)
        dialog.dy.setValue(dy)
        dialog.wrap.setChecked(wrap)
        qtbot.keyClick(dialog, Qt.Key.Key_Return)  # the OK button is the default

    QTimer.singleShot(50, lambda: answer(3, 2, True))
    qtbot.keyClick(window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(window.model.image, np.roll(img, (2, 3), axis=(0, 1)))
    QTimer.singleShot(50, lambda: answer(9, 0, False))
    window.actions_by_name["shift"].trigger()
    assert window.model.image.sum() == 0  # (3, 1) moved 9 right: off the edge, no wrap
    driver.wait()
    assert window.row.result.stages[-1].maxima[0][2] == 0


def test_kernel_grid_size_and_values(window, driver):
    pc = window.pipeline_controls
    pc.convolve.setChecked(True)
    pc.kernel.rows.setValue(1)
    pc.kernel.cols.setValue(5)
    driver.wait()
    spec = window.row.result.spec
    assert np.array(spec.kernel).shape == (1, 5) and pc.kernel.preset.currentText() == "custom"
    # the top-left 1x3 of the Prewitt survives the resize; new cells are 0
    assert np.array(spec.kernel).tolist() == [[-1.0, 0.0, 1.0, 0.0, 0.0]]
    assert window.row.panels[1].title == "Conv (10, 6)"
    pc.kernel.preset.setCurrentText("identity")
    driver.wait()
    assert window.row.result.spec.kernel == "identity"
    assert (pc.kernel.rows.value(), pc.kernel.cols.value()) == (3, 3)
    pc.kernel.table.item(1, 1).setText("0")  # the map goes dark
    driver.wait()
    assert window.row.result["conv"].array.max() == 0
    pc.kernel.table.item(1, 1).setText("not a number")  # refused: the cell keeps 0
    assert pc.kernel.table.item(1, 1).text() == "0" and pc.kernel.refusal.isVisible()


def test_open_from_the_recent_files_menu(window, qtbot, tmp_path):
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    write_png(first, 8, 12)
    write_png(second, 16, 9, seed=2)
    for path in (first, second):
        with qtbot.waitSignal(window.image_opened, timeout=10_000):
            window.open_file(path)
    window._fill_recent()
    entries = [a for a in window.recent_menu.actions() if a.toolTip().endswith(".png")]
    assert [a.toolTip() for a in entries] == [str(second.resolve()), str(first.resolve())]
    with qtbot.waitSignal(window.image_opened, timeout=10_000):
        entries[1].trigger()
    assert window.model.shape == (8, 12)


def unopenable_files(tmp_path) -> list:
    """A loop of symbolic links, a FIFO (a read would block) and a truncated PNG."""
    loop_a, loop_b = tmp_path / "a.png", tmp_path / "b.png"
    os.symlink(loop_a, loop_b)
    os.symlink(loop_b, loop_a)
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    good, truncated = tmp_path / "good.png", tmp_path / "cut.png"
    write_png(good, 64, 64)
    truncated.write_bytes(good.read_bytes()[:200])
    good.unlink()
    return [loop_a, fifo, truncated]


def test_every_failed_open_shows_a_box_naming_the_file_and_says_so(window, qtbot, tmp_path,
                                                                   warnings):
    for path in unopenable_files(tmp_path):
        with qtbot.waitSignal(window.open_failed, timeout=10_000):
            window.open_file(path)
        assert window.statusBar().currentMessage() == f"Could not open {path}"
        title, text = warnings[-1]
        assert title == "Cannot open image" and str(path) in text
    assert len(warnings) == 3 and window.model.shape == (10, 10)


def test_failed_opens_from_the_recent_menu_are_reported_and_forgotten(window, qtbot, tmp_path,
                                                                      warnings):
    bad = unopenable_files(tmp_path)
    good = tmp_path / "fine.png"
    write_png(good, 8, 12)
    window.settings.set_value("files/recent", [str(p) for p in [*bad, good]])
    menu = window.recent_menu
    for path in bad:
        menu.popup(window.mapToGlobal(QPoint(10, 10)))  # fills it, as opening it does
        qtbot.waitExposed(menu)
        with qtbot.waitSignal(window.open_failed, timeout=10_000):
            qtbot.keyClick(menu, Qt.Key.Key_1)  # the first entry: "&1 name"
        assert window.statusBar().currentMessage() == f"Could not open {path}"
        assert str(path) in warnings[-1][1]
    assert len(warnings) == 3
    assert window.recent.paths() == [str(good)]
    menu.popup(window.mapToGlobal(QPoint(10, 10)))
    qtbot.waitExposed(menu)
    with qtbot.waitSignal(window.image_opened, timeout=10_000):
        qtbot.keyClick(menu, Qt.Key.Key_1)
    assert window.model.shape == (8, 12)


def type_into_kernel_cell(qtbot, table, row: int, col: int, text: str) -> None:
    """Edit one cell of the kernel grid from the keyboard: F2, select all, type, Return."""
    table.setFocus()
    table.setCurrentCell(row, col)
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editors = [w for w in table.viewport().findChildren(QLineEdit) if w.isVisible()]
    assert len(editors) == 1 and table.state() == table.State.EditingState
    editor = editors[0]
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # the delegate commits the text and closes the editor once events are processed
    qtbot.waitUntil(lambda: table.state() != table.State.EditingState, timeout=2000)
    assert table.item(row, col).text() == text


def test_huge_kernel_values_are_refused_and_the_last_pipeline_stays(window, driver, qtbot,
                                                                    recwarn, capsys):
    from gui.window.settings import AppSettings

    pc = window.pipeline_controls
    table = pc.kernel.table
    pc.convolve.setChecked(True)
    driver.wait()
    drawn: list[int] = []
    window.row.drawn.connect(drawn.append)

    def refused(text: str, cell: str) -> None:
        before = window.row.result
        qtbot.waitUntil(lambda: window.notice_label.text().startswith(
            f"Invalid pipeline: kernel value {text} at {cell} is beyond ±1e+06"), timeout=5000)
        qtbot.wait(100)
        assert drawn == [] and window.row.result is before

    type_into_kernel_cell(qtbot, table, 0, 0, "1e38")
    refused("1e+38", "row 1, column 1")
    type_into_kernel_cell(qtbot, table, 0, 0, "2")
    driver.wait()
    assert drawn and window.notice_label.text() == ""
    valid = window.row.result.spec
    assert valid.kernel[0][0] == 2
    assert all(np.isfinite(stage.array).all() for stage in window.row.result.stages)
    drawn.clear()
    type_into_kernel_cell(qtbot, table, 1, 2, "-1e39")  # beyond float32 too
    refused("-1e+39", "row 2, column 3")
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]

    window.close()  # the last valid pipeline is the one remembered
    assert AppSettings().spec(DEMO_SPEC) == valid
    assert "the last valid one is remembered: kernel value -1e+39" in capsys.readouterr().err


def test_a_drag_outlines_the_hovered_cells_of_its_newest_result(window, driver, qtbot):
    """Dragging the lit pixel, the hover follows the drag's results: the outlines and the
    readout are those of the cell under the pointer in the result drawn for the move, not
    of the result the move replaces."""
    from PySide6.QtCore import QEvent

    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    driver.send(QEvent.Type.MouseButtonPress, 2.5, 2.5, left, left)
    assert window.model.moving
    for r, c in ((3.5, 4.5), (5.5, 6.5), (7.5, 7.5)):
        drawn = window.row.request_id
        driver.send(QEvent.Type.MouseMove, r, c, none, left)
        # the move's result is not drawn yet: no readout of the result it replaces (where
        # the pixel has not moved yet, the new cell would read 0)
        assert window.row.request_id == drawn
        assert f"row {int(r)}, col {int(c)}" not in window.hover_label.text()
        driver.wait()
        assert window.hover_label.text() == f"Input (10, 10)   row {int(r)}, col {int(c)}   value 1"
        related = window.row.result.related_cells(0, int(r), int(c))
        for i, panel in enumerate(window.row.panels):
            x0, y0, w, h = panel.stage.display_rect()
            rows, cols = panel.stage.shape
            r0, c0, r1, c1 = related[i]
            assert panel.hover_box.rect().getRect() == pytest.approx(
                (x0 + c0 * w / cols, y0 + r0 * h / rows, (c1 - c0) * w / cols,
                 (r1 - r0) * h / rows))
    driver.send(QEvent.Type.MouseButtonRelease, 7.5, 7.5, left, none)
    driver.wait()
    assert np.argwhere(window.model.image).tolist() == [[7, 7]]
