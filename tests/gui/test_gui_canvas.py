"""Editing the input through real mouse and keyboard events on the main window."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine import run_pipeline


def drawn_maxima(window) -> list[tuple[int, int] | None]:
    """Position of the global-maximum box of every panel, read back from the drawn items
    and converted to cell indices with the stage's display rectangle (None: no box)."""
    out = []
    for panel in window.row.panels:
        if not panel.max_box.isVisible():
            out.append(None)
            continue
        box = panel.max_box.rect()
        x0, y0, w, h = panel.stage.display_rect()
        rows, cols = panel.stage.shape
        out.append((round((box.y() - y0) / (h / rows)), round((box.x() - x0) / (w / cols))))
    return out


def engine_maxima(window) -> list[tuple[int, int] | None]:
    """The engine's answer for the canvas image and the controls, computed here; a constant
    stage has no meaningful maximum (None)."""
    result = run_pipeline(window.model.image.copy(), window.pipeline_controls.spec(),
                          top_k=window.pipeline_controls.top_k())
    return [s.maxima[0][:2] if s.array.max() > s.array.min() else None for s in result.stages]


def test_demo_is_the_article_example(window):
    img = window.model.image
    assert img.shape == (10, 10) and img[2, 2] == 1 and img.sum() == 1
    assert "ShiftLab" in window.windowTitle()
    assert [p.title for p in window.row.panels] == \
        ["Input (10, 10)", "Pool 1 (5, 5)", "Pool 2 (2, 2)"]
    assert drawn_maxima(window) == [(2, 2), (1, 1), (0, 0)]
    # the fixed-size marker sits on the centre of the same cell, in input coordinates
    assert [p.max_marker.points for p in window.row.panels] == [[(2.5, 2.5)], [(3.0, 3.0)],
                                                                 [(2.0, 2.0)]]


def test_dragging_the_lit_pixel_moves_it_and_the_maxima(window, driver):
    path = [(2.5, 2.5), (3.5, 3.5), (5.5, 5.5), (7.5, 7.5)]
    driver.drag(path)
    expected = np.zeros((10, 10), np.float32)
    expected[7, 7] = 1
    np.testing.assert_array_equal(window.model.image, expected)
    assert drawn_maxima(window) == engine_maxima(window) == [(7, 7), (3, 3), (1, 1)]
    # the Input panel shows the edited pixels (uint8, 255 where lit)
    shown = window.row.input_panel.image_item.image
    np.testing.assert_array_equal(shown, (expected * 255).astype(np.uint8))
    # the pooled panels show the pooled image
    pool2 = window.row.panels[2].image_item.image
    assert pool2.shape == (2, 2) and pool2[1, 1] == pool2.max() and pool2[0, 0] == pool2.min()


def test_drag_over_another_lit_pixel_leaves_it_in_place(window, driver):
    window.model.set_image(np.pad(np.eye(2, dtype=np.float32), ((2, 6), (2, 6))))
    driver.wait()
    # press on (2, 2), pass over the lit (3, 3), end at (5, 5): (3, 3) is still there
    driver.drag([(2.5, 2.5), (3.5, 3.5), (5.5, 5.5)])
    lit = sorted(zip(*np.nonzero(window.model.image), strict=True))
    assert [tuple(map(int, p)) for p in lit] == [(3, 3), (5, 5)]


def test_painting_and_erasing_with_the_mouse(window, driver):
    driver.drag([(8.5, 0.5), (8.5, 9.5)])  # dark start: paints a row
    img = window.model.image
    assert img[8].tolist() == [1.0] * 10 and img[2, 2] == 1 and img.sum() == 11
    assert drawn_maxima(window) == engine_maxima(window)
    driver.drag([(8.5, 3.2), (8.5, 6.8)], button=Qt.MouseButton.RightButton)
    assert window.model.image[8].tolist() == [1, 1, 1, 0, 0, 0, 0, 1, 1, 1]
    window.canvas_controls.brush_value.setValue(0.5)
    window.canvas_controls.brush_size.setValue(3)
    driver.drag([(2.5, 2.5), (2.5, 2.5)], modifiers=Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(window.model.image[1:4, 1:4], np.full((3, 3), 0.5))
    assert drawn_maxima(window) == engine_maxima(window)


def test_one_drag_is_one_undo_step(window, driver, qtbot):
    before = window.model.image.copy()
    driver.drag([(2.5, 2.5), (4.5, 4.5), (6.5, 2.5)])
    after = window.model.image.copy()
    assert not np.array_equal(before, after)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(window.model.image, before)
    driver.wait()
    assert drawn_maxima(window) == engine_maxima(window)
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    np.testing.assert_array_equal(window.model.image, after)
    driver.wait()
    assert drawn_maxima(window) == engine_maxima(window)


@pytest.mark.parametrize("wrap", [False, True])
def test_arrow_keys_nudge_the_image(window, driver, qtbot, wrap):
    window.canvas_controls.wrap.setChecked(wrap)
    window.model.set_image(np.pad(np.ones((1, 1), np.float32), ((0, 9), (9, 0))))  # (0, 9)
    start = window.model.image.copy()
    qtbot.keyClick(window, Qt.Key.Key_Right)
    expected = np.roll(start, 1, axis=1) if wrap else np.zeros_like(start)
    np.testing.assert_array_equal(window.model.image, expected)
    qtbot.keyClick(window, Qt.Key.Key_Up)
    expected = np.roll(expected, -1, axis=0) if wrap else expected
    np.testing.assert_array_equal(window.model.image, expected)
    qtbot.keyClick(window, Qt.Key.Key_Down)
    qtbot.keyClick(window, Qt.Key.Key_Left)
    np.testing.assert_array_equal(window.model.image, start if wrap else np.zeros_like(start))
    driver.wait()
    assert drawn_maxima(window) == engine_maxima(window)
    if not wrap:
        assert drawn_maxima(window) == [None, None, None]


def test_transforms_match_numpy_and_undo(window, driver, qtbot):
    rng = np.random.default_rng(3)
    img = rng.random((10, 13)).astype(np.float32)
    window.model.set_image(img)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    np.testing.assert_array_equal(window.model.image, img[:, ::-1])
    window.actions_by_name["flip"].trigger()
    np.testing.assert_array_equal(window.model.image, img[::-1, ::-1])
    window.actions_by_name["rotate"].trigger()
    np.testing.assert_array_equal(window.model.image, np.rot90(img[::-1, ::-1]))
    for _ in range(3):
        window.actions_by_name["undo"].trigger()
    np.testing.assert_array_equal(window.model.image, img)
    window.model.nudge(2, -3, False)
    reference = np.zeros_like(img)
    reference[2:, :-3] = img[:-2, 3:]
    np.testing.assert_array_equal(window.model.image, reference)
    driver.wait()
    assert drawn_maxima(window) == engine_maxima(window)
    assert window.row.panels[0].title == "Input (10, 13)"


def test_clear_invert_random_and_resize(window, driver, qtbot):
    cc = window.canvas_controls
    qtbot.mouseClick(cc.invert, Qt.MouseButton.LeftButton)
    assert window.model.image.sum() == 99
    qtbot.mouseClick(cc.clear, Qt.MouseButton.LeftButton)
    assert window.model.image.sum() == 0
    qtbot.mouseClick(cc.random, Qt.MouseButton.LeftButton)
    assert set(np.unique(window.model.image)) <= {0.0, 1.0}
    cc.square.setChecked(False)
    cc.cols.setValue(24)
    cc.rows.setValue(16)
    assert window.model.shape == (16, 24)
    driver.wait()
    assert [p.stage.shape for p in window.row.panels] == [(16, 24), (8, 12), (4, 6)]
    assert drawn_maxima(window) == engine_maxima(window)


def test_painting_a_large_image_undoes_exactly(window, driver, qtbot):
    rng = np.random.default_rng(7)
    photo = rng.random((300, 420)).astype(np.float32)
    window.model.set_image(photo)
    driver.wait()
    window.row.fit()
    qtbot.wait(20)
    before = window.model.image.copy()
    path = [(20.5 + 7 * i, 30.5 + 9 * i) for i in range(30)]  # crosses many 64x64 tiles
    driver.drag(path, modifiers=Qt.KeyboardModifier.ShiftModifier)
    after = window.model.image.copy()
    changed = np.argwhere(after != before)
    assert len(changed) > 30 and set(np.unique(after[after != before])) == {1.0}
    assert drawn_maxima(window) == engine_maxima(window)
    window.actions_by_name["undo"].trigger()
    np.testing.assert_array_equal(window.model.image, before)
    window.actions_by_name["redo"].trigger()
    np.testing.assert_array_equal(window.model.image, after)
    driver.wait()
    np.testing.assert_array_equal(window.row.input_panel.image_item.image,
                                  np.round(after * 255).astype(np.uint8))


def test_wheel_on_one_panel_zooms_every_panel(window, qtbot):
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    views = [p.view for p in window.row.panels]
    before = [v.viewRect() for v in views]
    row = window.row
    target = views[2].mapViewToScene(QPointF(5, 5))
    pos = QPointF(row.graphics.mapFromScene(target))
    event = QWheelEvent(pos, QPointF(row.graphics.viewport().mapToGlobal(pos.toPoint())),
                        QPoint(0, 0), QPoint(0, 240), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(row.graphics.viewport(), event)
    qtbot.wait(20)
    after = [v.viewRect() for v in views]
    for b, a in zip(before, after, strict=True):
        assert a.width() < 0.9 * b.width()
    assert all(abs(a.width() - after[0].width()) < 0.05 * after[0].width() for a in after)
    # the zoomed area survives a re-layout (more levels add a panel): it is still shown,
    # filling the (re-shaped) view in one direction
    zoomed = after[0]
    window.pipeline_controls.levels.setValue(3)
    qtbot.waitUntil(lambda: len(window.row.panels) == 4)
    qtbot.wait(20)
    now = views[0].viewRect()
    assert now.adjusted(-0.01, -0.01, 0.01, 0.01).contains(zoomed)
    assert now.width() == pytest.approx(zoomed.width(), rel=0.02) or \
        now.height() == pytest.approx(zoomed.height(), rel=0.02)
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(20)
    assert views[0].viewRect().contains(QPointF(0, 0)) and \
        views[0].viewRect().contains(QPointF(10, 10))


def test_pipeline_menu_keys(window, driver, qtbot):
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    driver.wait()
    assert window.row.result.names == ["input", "conv", "pool 1", "pool 2"]
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    driver.wait()
    assert window.row.result.spec.levels == 1 and window.row.result.spec.pool_mode == "avg"
    assert [p.title for p in window.row.panels] == ["Input (10, 10)", "Conv (8, 8)",
                                                    "Pool 1 (4, 4)"]
