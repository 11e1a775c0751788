"""The Inspector in network mode through the real window: I over a layer cell lists the
input channels contributing most to it, as the engine computes them from the model file."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import numpy_helper
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.networks import NETWORKS
from engine.networks.explain_layer import explain_layer_cell
from gui.docks.inspector import NUMBER, TOP_CHANNELS


def _choose(qtbot, window, key: str) -> None:
    box = window.network.controls.network
    box.setCurrentIndex(box.findData(key))
    qtbot.waitUntil(window.network.up_to_date, timeout=30_000)


def _hover_layer_cell(layers, index: int, row: int, col: int) -> None:
    """Move the pointer over cell (row, col) of panel `index` (0: the first layer)."""
    panel = layers.panels[index]
    y, x = panel.cell_centre(row, col)
    scene = layers.boxes[index + 1].mapViewToScene(QPointF(x, y))
    viewport = layers.viewport()
    local = QPointF(layers.mapFromScene(scene))
    QApplication.sendEvent(viewport, QMouseEvent(
        QEvent.Type.MouseMove, local, QPointF(viewport.mapToGlobal(local.toPoint())),
        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))


@pytest.fixture
def seven(qtbot, window, driver):
    """digits-max on a 7 drawn with the mouse."""
    _choose(qtbot, window, "digits-max")
    window.canvas_controls.clear.click()
    driver.wait()
    driver.drag([(6.5, 8.5), (6.5, 14.5), (6.5, 20.5)])
    driver.drag([(6.5, 20.5), (12.5, 17.5), (18.5, 14.5), (23.5, 12.5)])
    qtbot.waitUntil(window.network.up_to_date, timeout=30_000)
    layers = window.network.rows[0].layers
    qtbot.waitUntil(lambda: layers.boxes[-1].width() > 10)
    return window


@pytest.mark.parametrize(("index", "row", "col"), [(0, 6, 7), (1, 3, 3)])
def test_key_i_over_a_layer_cell_shows_its_top_input_channels(qtbot, seven, index, row, col):
    window = seven
    layers = window.network.rows[0].layers
    _hover_layer_cell(layers, index, row, col)
    panel = layers.panels[index]
    value = panel.value_at(row, col)
    assert layers.hovered_cell == (panel.name, value.channel, row, col)
    qtbot.keyClick(window, Qt.Key.Key_I)
    inspector = window.inspector
    qtbot.waitUntil(lambda: "channels" in inspector.panel.grids, timeout=10_000)
    assert inspector.dock.isVisible()
    view = window.network.rows[0].drawn.view
    want = explain_layer_cell(NETWORKS["digits-max"], view.result, view.prepared.x,
                              panel.name, value.channel, row, col, top=TOP_CHANNELS)
    assert want.reproduces and want.value == pytest.approx(value.value)
    grid = inspector.panel.grids["channels"]
    assert grid.rowCount() == len(want.contributions) == TOP_CHANNELS
    shown = [(int(grid.item(i, 0).text()), grid.item(i, 1).text()) for i in range(3)]
    assert shown == [(p.channel, NUMBER.format(p.contribution)) for p in want.contributions[:3]]
    # the table's top channel really is the largest part: recompute it with plain loops
    conv_in = view.result.activations[want.source]
    weights, pad = _conv_weights(want.conv)
    top = want.contributions[0].channel
    part = 0.0
    for i in range(weights.shape[2]):
        for j in range(weights.shape[3]):
            y, x = row + i - pad, col + j - pad
            if 0 <= y < conv_in.shape[1] and 0 <= x < conv_in.shape[2]:
                part += float(weights[value.channel, top, i, j]) * float(conv_in[top, y, x])
    assert float(grid.item(0, 1).text()) == pytest.approx(part, rel=1e-3, abs=1e-4)
    header = inspector.panel.header.text()
    assert f"channel {value.channel}, cell ({row}, {col})" in header
    assert "= onnxruntime's Conv output" in inspector.panel.lines.text()


def _conv_weights(conv_output: str) -> tuple[np.ndarray, int]:
    """The kernel of a digits-max Conv and its (stride 1, equal) zero padding."""
    model = onnx.load(str(NETWORKS["digits-max"].path))
    node = next(n for n in model.graph.node if conv_output in n.output)
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    assert list(attrs.get("strides", [1, 1])) == [1, 1]
    assert list(attrs.get("dilations", [1, 1])) == [1, 1]
    pads = list(attrs.get("pads", [0, 0, 0, 0]))
    assert len(set(pads)) == 1
    weights = next(numpy_helper.to_array(t) for t in model.graph.initializer
                   if t.name == node.input[1])
    return weights, int(pads[0])


def test_a_max_pool_layer_is_refused_with_the_reason(qtbot, window, driver):
    _choose(qtbot, window, "digits-blurmax")
    layers = window.network.rows[0].layers
    qtbot.waitUntil(lambda: layers.boxes[-1].width() > 10)
    assert "MaxPool" in layers.panels[0].name
    _hover_layer_cell(layers, 0, 2, 2)
    qtbot.keyClick(window, Qt.Key.Key_I)
    panel = window.inspector.panel
    qtbot.waitUntil(lambda: "Cannot explain" in panel.header.text(), timeout=10_000)
    assert "MaxPool" in panel.header.text() and "not of a Conv" in panel.header.text()
    assert "channels" not in panel.grids

