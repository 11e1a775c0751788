"""Network mode through the real window: draw, slide, read the answer, open models."""

from __future__ import annotations

import json
import zipfile

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.networks import NETWORKS, NetworkChoice, prepare_input, shift_map
from gui.docks.controls import KERNEL_ONLY, VARIANTS

NAMES = ("digits-max", "digits-blurmax", "digits-aps")


def wait_network(qtbot, window, timeout: int = 30_000) -> None:
    """Wait until the newest answer and its shift maps are drawn."""
    qtbot.waitUntil(window.network.up_to_date, timeout=timeout)


def choose(window, key: str) -> None:
    """Pick `key` in the Controls dock's Network combo, as a user does."""
    box = window.network.controls.network
    box.setCurrentIndex(box.findData(key))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def draw_seven(driver) -> None:
    """A 7 drawn with the mouse: a bar, then a stroke down to the left."""
    driver.drag([(6.5, 8.5), (6.5, 14.5), (6.5, 20.5)])
    driver.drag([(6.5, 20.5), (12.5, 17.5), (18.5, 14.5), (23.5, 12.5)])


@pytest.fixture
def digit_window(qtbot, window, driver):
    """The window with digits-max chosen and its canvas cleared."""
    choose(window, "digits-max")
    wait_network(qtbot, window)
    assert window.model.shape == (28, 28)
    window.canvas_controls.clear.click()
    driver.wait()
    wait_network(qtbot, window)
    return window


def test_drawn_digit_answer_matches_the_network(qtbot, digit_window, driver):
    window = digit_window
    draw_seven(driver)
    wait_network(qtbot, window)
    image = window.model.image.copy()
    # the pen: full white along the stroke, soft grey at its edge, black away from it
    assert image.max() == 1.0 and image[6, 14] == 1.0
    assert ((image > 0.05) & (image < 0.95)).any()
    assert image[25:, :].max() == 0 and image[:, :5].max() == 0
    # the chart against onnxruntime on the same pixels (the bundled net takes [0, 1])
    result = NETWORKS["digits-max"].run(image[None])
    chart = window.network.rows[0].chart
    assert [b.index for b in chart.bars] == list(range(10))
    np.testing.assert_allclose([b.probability for b in chart.bars], result.probabilities,
                               atol=1e-6)
    assert chart.top1.index == int(np.argmax(result.probabilities))
    assert sum(b.top1 for b in chart.bars) == 1


def test_sliding_the_digit_updates_the_shift_map(qtbot, digit_window, driver):
    window = digit_window
    draw_seven(driver)
    wait_network(qtbot, window)
    before = window.model.image.copy()
    window.canvas_controls.tool.setCurrentText("slide")
    driver.drag([(14.5, 14.5), (14.5, 15.5), (15.5, 16.5)])
    wait_network(qtbot, window)
    image = window.model.image
    expected = np.zeros_like(before)
    expected[1:, 2:] = before[:-1, :-2]  # wrap is off: black comes in
    np.testing.assert_array_equal(image, expected)
    smap = window.network.rows[0].shift_map.shift_map
    net = NETWORKS["digits-max"]
    reference = shift_map(net, prepare_input(image, net))
    np.testing.assert_array_equal(smap.top1, reference.top1)
    np.testing.assert_allclose(smap.confidence, reference.confidence, atol=1e-9)
    # one cell again straight from the network: a circular shift by (dy, dx)
    for dy, dx in ((0, 0), (3, -2), (-4, 4)):
        p = net.run(np.roll(image, (dy, dx), axis=(0, 1))[None]).probabilities
        assert smap.at(dy, dx) == (int(np.argmax(p)), pytest.approx(float(p.max()), abs=1e-6))
    # undo takes the slide back in one step
    window.actions_by_name["undo"].trigger()
    np.testing.assert_array_equal(window.model.image, before)


def _viewport_event(widget, kind, scene_pos) -> None:
    viewport = widget.viewport()
    local = QPointF(widget.mapFromScene(scene_pos))
    event = QMouseEvent(kind, local, QPointF(viewport.mapToGlobal(local.toPoint())),
                        Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


def test_hover_names_the_cell_and_outlines_related_cells(qtbot, digit_window, driver):
    window = digit_window
    draw_seven(driver)
    wait_network(qtbot, window)
    layers = window.network.rows[0].layers
    qtbot.waitUntil(lambda: layers.boxes[-1].width() > 10)
    deep = layers.panels[-1]
    row, col = 2, 3
    y, x = deep.cell_centre(row, col)
    box = layers.boxes[len(layers.panels)]
    _viewport_event(layers, QEvent.Type.MouseMove, box.mapViewToScene(QPointF(x, y)))
    value = deep.value_at(row, col)
    text = window.hover_label.text()
    assert f"channel {value.channel}, row {row}, col {col}" in text
    assert f"{value.value:.4g}" in text
    shallow = layers.panels[0]
    r0, c0, r1, c1 = deep.related_cells(row, col, shallow)
    outline = layers.outlines[1]
    assert outline.isVisible()
    sy, sx = shallow.stride
    rect = outline.rect()
    assert (rect.top(), rect.left()) == (shallow.rect[1] + r0 * sy, shallow.rect[0] + c0 * sx)
    assert (rect.height(), rect.width()) == ((r1 - r0) * sy, (c1 - c0) * sx)


def test_channel_grid_opens_a_channel_large(qtbot, digit_window, driver):
    window = digit_window
    draw_seven(driver)
    wait_network(qtbot, window)
    mode = window.network
    layers = mode.rows[0].layers
    name = layers.panels[0].name
    mode._show_channels(name)
    grid = mode.grid
    panel = layers.panels[0]
    assert grid.count() == 1 + panel.shape[0]
    # sorted by activation: the first thumbnail is the channel with the largest peak
    assert int(grid.item(1).data(Qt.ItemDataRole.UserRole)) == int(np.argmax(panel.channel_peaks))
    item = grid.item(3)
    channel = int(item.data(Qt.ItemDataRole.UserRole))
    rect = grid.visualItemRect(item)
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert layers.channels[name] == channel
    shown = layers.images[1].image
    a = panel.activations[channel]
    expected = np.round((a - a.min()) / (a.max() - a.min()) * 255) if a.max() > a.min() \
        else np.zeros_like(a)
    np.testing.assert_allclose(shown.astype(float), expected, atol=1.0)


def test_three_variants_side_by_side(qtbot, window, driver):
    choose(window, VARIANTS)
    wait_network(qtbot, window)
    mode = window.network
    assert len(mode.rows) == 3
    image = window.model.image.copy()
    for row, name in zip(mode.rows, NAMES, strict=True):
        net = NETWORKS[name]
        assert row.drawn.view.network == name
        p = net.run(image[None]).probabilities
        assert row.chart.top1.index == int(np.argmax(p))
        reference = shift_map(net, prepare_input(image, net))
        np.testing.assert_array_equal(row.shift_map.shift_map.top1, reference.top1)
    # the same edit reaches all three
    window.actions_by_name["nudge-right"].trigger()
    wait_network(qtbot, window)
    moved = window.model.image.copy()
    assert not np.array_equal(moved, image)
    for row, name in zip(mode.rows, NAMES, strict=True):
        p = NETWORKS[name].run(moved[None]).probabilities
        np.testing.assert_allclose([b.probability for b in row.chart.bars], p, atol=1e-6)
    choose(window, KERNEL_ONLY)
    assert not mode.rows and not mode.panel.isVisible()


def test_damaged_model_file_keeps_the_state(qtbot, window, driver, warnings, tmp_path):
    choose(window, "digits-aps")
    wait_network(qtbot, window)
    before_choice, before_image = window.network.choice, window.model.image.copy()
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07this is not a protobuf model" * 10)
    with qtbot.waitSignal(window.open_failed, timeout=20_000) as blocker:
        window.open_file(bad)  # what a drop of the file on the window does
    assert blocker.args[0] == str(bad)
    assert len(warnings) == 1 and str(bad) in warnings[0][1]
    assert window.network.choice == before_choice
    np.testing.assert_array_equal(window.model.image, before_image)
    assert window.network.controls.network.currentData() == "digits-aps"


torch = pytest.importorskip("torch")


def _export_model(path, seed: int = 0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, 5)).eval()
    torch.onnx.export(model, (torch.zeros(1, 3, 32, 32),), str(path), dynamo=False,
                      opset_version=17)
    return model


def test_open_an_onnx_model_built_here(qtbot, window, driver, tmp_path):
    path = tmp_path / "tiny.onnx"
    model = _export_model(path)
    window.open_file(path)
    wait_network(qtbot, window)
    mode = window.network
    assert mode.choice.path == str(path) and mode.choice.sha256 is not None
    assert mode.controls.network.currentText() == "Model: tiny.onnx"
    assert not window.canvas_item.pen  # a user's model keeps the canvas as it is
    image = window.model.image.copy()  # the 10x10 demo, resized up to 32x32
    grey = np.clip(cv2.resize(image, (32, 32), interpolation=cv2.INTER_LINEAR), 0, 1)
    mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
    std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
    x = (np.repeat(grey[None], 3, axis=0) - mean) / std
    with torch.no_grad():
        logits = model(torch.from_numpy(x[None].astype(np.float32)))[0].numpy()
    chart = mode.rows[0].chart
    np.testing.assert_allclose([b.probability for b in chart.bars], softmax(logits),
                               atol=1e-5)
    assert "resized 10x10 -> 32x32" in mode.rows[0].header.text()
    assert len(mode.rows[0].layers.panels) >= 2
    # the recent models list remembers it
    assert mode.recent_models()[0] == str(path)
    # crop instead of resize is one field away
    mode.controls.fit.setCurrentText("crop")
    wait_network(qtbot, window)
    assert mode.choice.fit == "crop"
    assert "centre-cropped" in mode.rows[0].header.text()


def test_session_round_trip_with_a_network(qtbot, window, driver, tmp_path):
    path = tmp_path / "tiny.onnx"
    _export_model(path, seed=1)
    window.open_file(path)
    wait_network(qtbot, window)
    chosen = window.network.choice
    session = tmp_path / "s.shiftlab"
    with qtbot.waitSignal(window.session_saved, timeout=20_000):
        window.save_session_to(session)
    with zipfile.ZipFile(session) as archive:
        network = json.loads(archive.read("session.json"))["state"]["network"]
    assert network["path"] == str(path) and network["sha256"] == chosen.sha256
    choose(window, KERNEL_ONLY)
    assert window.network.choice is None
    with qtbot.waitSignal(window.session_opened, timeout=20_000):
        window.open_session(session)
    assert window.network.choice == chosen
    wait_network(qtbot, window)
    assert window.current_state().network == chosen
    # a bundled network comes back by name
    choose(window, "digits-blurmax")
    wait_network(qtbot, window)
    assert window.current_state().network == NetworkChoice.bundled("digits-blurmax")


def test_shift_map_follows_a_drag_before_its_end(qtbot, digit_window, driver):
    window = digit_window
    draw_seven(driver)
    wait_network(qtbot, window)
    window.canvas_controls.tool.setCurrentText("slide")
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    net = NETWORKS["digits-max"]
    row = window.network.rows[0]
    before = row.shift_map.shift_map
    driver.send(QEvent.Type.MouseButtonPress, 14.5, 14.5, left, left)
    driver.send(QEvent.Type.MouseMove, 14.5, 17.5, none, left)
    assert window.model.editing
    moved = shift_map(net, prepare_input(window.model.image, net))
    assert not np.allclose(before.confidence, moved.confidence, atol=1e-9)  # a new map is due

    def map_of_the_moved_digit() -> bool:
        smap = row.shift_map.shift_map
        reference = shift_map(net, prepare_input(window.model.image, net))
        return smap is not None and np.array_equal(smap.top1, reference.top1) \
            and np.allclose(smap.confidence, reference.confidence, atol=1e-9)

    qtbot.waitUntil(map_of_the_moved_digit, timeout=30_000)
    assert window.model.editing  # still dragging
    driver.send(QEvent.Type.MouseButtonRelease, 14.5, 17.5, left, none)
    wait_network(qtbot, window)
