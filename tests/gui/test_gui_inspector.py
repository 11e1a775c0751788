"""The Inspector through the real window: clicks and keys open it, its grids show what
explain_cell says and the value the stage holds, and hovering a grid cell outlines its
source on the panels."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engine import explain_cell
from engine.pool import blur_kernel
from gui.docks.inspector import NUMBER, VALUE, ExplainRequest

NONE = Qt.MouseButton.NoButton
LEFT = Qt.MouseButton.LeftButton


def send(row_widget, kind, point: QPointF, button=NONE, buttons=NONE) -> None:
    viewport = row_widget.graphics.viewport()
    event = QMouseEvent(kind, point, QPointF(viewport.mapToGlobal(point.toPoint())), button,
                        buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def cell_point(row_widget, index: int, r: int, c: int) -> QPointF:
    """Viewport position of the centre of cell (r, c) of panel `index`."""
    panel = row_widget.panels[index]
    scene = panel.view.mapViewToScene(QPointF(*panel.cell_center(r, c)))
    return QPointF(row_widget.graphics.mapFromScene(scene))


def click(row_widget, index: int, r: int, c: int) -> None:
    """Move to a cell, press and release the left button there (a click, not a drag)."""
    p = cell_point(row_widget, index, r, c)
    send(row_widget, QEvent.Type.MouseMove, p)
    send(row_widget, QEvent.Type.MouseButtonPress, p, LEFT, LEFT)
    send(row_widget, QEvent.Type.MouseButtonRelease, p, LEFT, NONE)


def wait_for(qtbot, window, stage: str, r: int, c: int):
    """Wait until the inspector shows cell (r, c) of `stage`; return its explanation."""
    panel = window.inspector.panel

    def shown() -> bool:
        e = panel.explanation
        return e is not None and (e.stage, e.row, e.col) == (stage, r, c)

    qtbot.waitUntil(shown, timeout=10_000)
    return panel.explanation


def grid_texts(grid) -> list[list[str]]:
    return [[grid.item(i, j).text() for j in range(grid.columnCount())]
            for i in range(grid.rowCount())]


def formatted(values: np.ndarray) -> list[list[str]]:
    return [[NUMBER.format(float(v)) for v in line] for line in values]


def set_pipeline(window, driver, **controls) -> None:
    pc = window.pipeline_controls
    pc.convolve.setChecked(controls.get("convolve", True))
    pc.levels.setValue(controls.get("levels", 2))
    pc.pool_mode.setCurrentText(controls.get("pool_mode", "max"))
    pc.padding.setCurrentText(controls.get("padding", "valid"))
    pc.kernel.preset.setCurrentText(controls.get("kernel", "prewitt_vertical"))
    driver.wait()


def test_clicking_a_conv_cell_shows_patch_kernel_products_sum_and_relu(window, driver, qtbot):
    window.canvas_controls.random.click()  # random pixels: every product differs
    set_pipeline(window, driver, padding="same")
    assert not window.inspector.dock.isVisible()
    click(window.row, 1, 0, 3)  # a top-row cell: its patch reaches into the zero padding
    e = wait_for(qtbot, window, "conv", 0, 3)
    want = explain_cell(window.row.result, "conv", 0, 3)
    panel = window.inspector.panel
    assert window.inspector.dock.isVisible()
    assert grid_texts(panel.grids["inputs"]) == formatted(want.inputs)
    assert grid_texts(panel.grids["weights"]) == formatted(want.weights)
    assert grid_texts(panel.grids["products"]) == formatted(want.weights * want.inputs)
    # the padded top row is labelled and its cells are zeros
    grid = panel.grids["inputs"]
    assert grid.verticalHeaderItem(0).text() == "pad" and want.padded[0].all()
    held = float(window.row.result["conv"].array[0, 3])
    assert VALUE.format(held) in panel.header.text()
    assert f"Sum of the products = {VALUE.format(float(want.total))}" in panel.lines.text()
    assert f"ReLU: max({VALUE.format(float(want.total))}, 0) = <b>{VALUE.format(held)}</b>" \
        in panel.lines.text()
    assert e.recompute() == held


def test_a_pooling_cell_marks_the_winner_and_hover_outlines_its_source(window, driver, qtbot):
    window.canvas_controls.random.click()
    set_pipeline(window, driver, convolve=False, levels=2)
    click(window.row, 2, 1, 0)
    wait_for(qtbot, window, "pool 2", 1, 0)
    want = explain_cell(window.row.result, "pool 2", 1, 0)
    panel = window.inspector.panel
    grid = panel.grids["inputs"]
    assert grid_texts(grid) == formatted(want.inputs)
    # the winner's grid cell is the one painted, and it holds the stage's value
    (i, j), = [(i, j) for i in range(2) for j in range(2)
               if grid.item(i, j).background().color().name() == "#ff2d55"]
    assert tuple(want.positions[i, j]) == want.winner
    assert grid.item(i, j).text() == NUMBER.format(float(window.row.result["pool 2"]
                                                         .array[1, 0]))
    assert f"Maximum = <b>{VALUE.format(float(want.value))}</b> at {want.winner}" \
        in panel.lines.text()
    # hover a grid cell: its cell of pool 1 is outlined in the pool 1 panel
    rect = grid.visualRect(grid.model().index(1, 1))
    event = QMouseEvent(QEvent.Type.MouseMove, QPointF(rect.center()),
                        QPointF(grid.viewport().mapToGlobal(rect.center())), NONE, NONE,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(grid.viewport(), event)
    r, c = want.positions[1, 1]
    pool1 = window.row.panels[1]
    assert pool1.hover_box.isVisible()
    assert pool1.hover_box.rect() == pool1.cell_rect(r, c, r + 1, c + 1)
    assert not window.row.panels[2].hover_box.isVisible()


def test_key_i_inspects_the_hovered_input_pixel_and_clicks_there_still_edit(
        window, driver, qtbot):
    before = window.model.image.copy()
    submitted = []
    window.runner.subscribe(ExplainRequest, settled=submitted.append, owner=window)
    driver.drag([(2.5, 2.5), (2.5, 2.5)])  # a left click on the input: the canvas's
    QApplication.processEvents()
    assert not submitted and window.inspector.target is None
    driver.drag([(2.5, 2.5), (7.5, 7.5)])  # a drag still moves the lit pixel
    assert window.model.image[7, 7] == before[2, 2] and window.model.image[2, 2] == 0
    driver.hover(7.5, 7.5, panel=0)
    qtbot.keyClick(window, Qt.Key.Key_I)
    e = wait_for(qtbot, window, "input", 7, 7)
    assert e.operation == "input" and float(e.value) == 1.0
    assert "The input holds 1 here." in window.inspector.panel.lines.text()


@pytest.mark.parametrize("mode", ["blurmax", "aps", "avg"])
def test_other_pool_modes(window, driver, qtbot, mode):
    window.canvas_controls.random.click()
    set_pipeline(window, driver, convolve=False, levels=1, pool_mode=mode)
    click(window.row, 1, 2, 1)
    e = wait_for(qtbot, window, "pool 1", 2, 1)
    result = window.row.result
    want = explain_cell(result, "pool 1", 2, 1)
    panel = window.inspector.panel
    assert grid_texts(panel.grids["inputs"]) == formatted(want.inputs)
    held = float(result["pool 1"].array[2, 1])
    assert f"<b>{VALUE.format(held)}</b>" in panel.lines.text()
    assert e.recompute() == held
    if mode == "blurmax":
        n = result.spec.blur_size  # shown in units of 1 / (2 ** (n - 1)) ** 2
        assert grid_texts(panel.grids["weights"]) == formatted(blur_kernel(n) * 4 ** (n - 1))
        taps = [1.0]
        for _ in range(n - 1):
            taps = [a + b for a, b in zip([0.0, *taps], [*taps, 0.0], strict=True)]
        assert " ".join(NUMBER.format(t) for t in taps) in panel.captions["weights"].text()
    if mode == "aps":
        grid = panel.grids["inputs"]
        i, j = want.phase
        assert grid.item(i, j).background().color().name() == "#ff2d55"
        assert f"Phase kept for the whole map: {want.phase}" in panel.lines.text()


def test_row_b_cells_are_inspected_and_follow_edits(window, driver, qtbot):
    set_pipeline(window, driver, convolve=True, levels=1)
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    b = window.compare.rows.b
    qtbot.waitUntil(lambda: b.isVisible() and b.result is not None, timeout=10_000)
    QApplication.processEvents()
    click(b, 1, 2, 2)
    wait_for(qtbot, window, "conv", 2, 2)
    panel = window.inspector.panel
    assert "Row B" in panel.header.text()
    want = explain_cell(b.result, "conv", 2, 2)
    assert grid_texts(panel.grids["inputs"]) == formatted(want.inputs)
    # B's Input panel is not the canvas: a click there inspects too
    click(b, 0, 4, 5)
    e = wait_for(qtbot, window, "input", 4, 5)
    assert float(e.value) == float(b.result["input"].array[4, 5]) and "Row B" in \
        panel.header.text()
    click(b, 1, 2, 2)
    wait_for(qtbot, window, "conv", 2, 2)
    # an edit of A recomputes B; the inspector follows the same cell into the new result
    old = b.result
    window.canvas_controls.random.click()
    driver.wait()
    qtbot.waitUntil(lambda: b.result is not old and panel.explanation is not None
                    and np.array_equal(panel.explanation.inputs,
                                       explain_cell(b.result, "conv", 2, 2).inputs),
                    timeout=10_000)
