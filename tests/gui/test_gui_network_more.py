"""Network mode with the window's other tools: export, comparison, the network sweep."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine import mirror
from engine.networks import NETWORKS, network_sweep, prepare_input, shift_map, short_name
from figures import FigureSetOptions
from gui.docks.controls import VARIANTS
from resources import NETWORK_NAMES as VARIANT_NAMES


def wait_network(qtbot, window, timeout: int = 30_000) -> None:
    qtbot.waitUntil(window.network.up_to_date, timeout=timeout)


def choose(window, key: str) -> None:
    box = window.network.controls.network
    box.setCurrentIndex(box.findData(key))


def export_from_the_window(qtbot, window, target) -> dict:
    """Export the window's state as a set (PNG, CSV, JSON) into `target`; its manifest."""
    with qtbot.waitSignal(window.exporter.exported, timeout=60_000):
        assert window.exporter.export_to(target, FigureSetOptions(formats=("png", "csv", "json"),
                                                                  width=300))
    return json.loads((target / "manifest.json").read_text(encoding="utf-8"))


def test_export_from_the_window_writes_the_network(qtbot, window, driver, tmp_path):
    choose(window, "digits-aps")
    wait_network(qtbot, window)
    image = window.model.image.copy()
    target = tmp_path / "set"
    manifest = export_from_the_window(qtbot, window, target)
    assert "--network" in manifest["command"]["argv"]
    assert manifest["command"]["argv"][manifest["command"]["argv"].index("--network") + 1] \
        == "digits-aps"
    net = NETWORKS["digits-aps"]
    p = net.run(image[None]).probabilities
    with open(target / "probabilities.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    got = {int(r["class"]): float(r["probability"]) for r in rows}
    np.testing.assert_allclose([got[k] for k in range(10)], p, atol=1e-6)
    reference = shift_map(net, prepare_input(image, net))
    with open(target / "shift_map.csv", encoding="utf-8") as f:
        cells = list(csv.DictReader(f))
    assert len(cells) == 81
    for cell in cells:
        dy, dx = int(cell["dy"]), int(cell["dx"])
        assert int(cell["top1"]) == reference.at(dy, dx)[0]
        assert float(cell["probability"]) == pytest.approx(reference.at(dy, dx)[1], abs=1e-6)


def test_export_from_the_window_writes_all_three(qtbot, window, driver, tmp_path):
    window.network.choice_actions[VARIANTS].trigger()  # the menu entry
    wait_network(qtbot, window)
    image = window.model.image.copy()
    target = tmp_path / "set"
    manifest = export_from_the_window(qtbot, window, target)
    argv = manifest["command"]["argv"]
    assert argv[argv.index("--network") + 1] == "digits-all"
    assert [r["name"] for r in manifest["networks"]] == list(VARIANT_NAMES)
    for name in VARIANT_NAMES:
        net = NETWORKS[name]
        with open(target / f"{name}_probabilities.csv", encoding="utf-8") as f:
            got = [float(r["probability"]) for r in csv.DictReader(f)]
        np.testing.assert_allclose(got, net.run(image[None]).probabilities, atol=1e-6)
        reference = shift_map(net, prepare_input(image, net))
        with open(target / f"{name}_shift_map.csv", encoding="utf-8") as f:
            for cell in csv.DictReader(f):
                assert int(cell["top1"]) == reference.at(int(cell["dy"]), int(cell["dx"]))[0]
        assert any(p.name.startswith(f"{name}_A_") for p in (target / "panels").iterdir())


def test_network_sweep_dock_plots_the_engine_sweep(qtbot, window, driver):
    choose(window, "digits-max")
    wait_network(qtbot, window)
    mode = window.network
    panel = mode.sweep
    panel.max_shift.setValue(5)
    panel.wrap.setChecked(False)
    panel.follow.setCurrentIndex(panel.follow.findText("3"))
    image = window.model.image.copy()
    panel.run.click()
    qtbot.waitUntil(lambda: panel.sweep is not None, timeout=30_000)
    assert mode.sweep_dock.isVisible()
    sweep = panel.sweep
    reference = network_sweep(NETWORKS["digits-max"], image, range(6), axis="x", wrap=False,
                              class_index=3)
    assert sweep.layers == reference.layers
    np.testing.assert_allclose(sweep.distances, reference.distances, atol=1e-9)
    # the probability plotted is class 3's, straight from the network at each shift
    for s in range(6):
        moved = np.zeros_like(image)
        moved[:, s:] = image[:, :28 - s]
        p = NETWORKS["digits-max"].run(moved[None]).probabilities
        assert sweep.probability[s] == pytest.approx(p[3], abs=1e-6)
    curve = panel.probability.listDataItems()[0]
    np.testing.assert_allclose(curve.yData, sweep.probability)
    assert "class 3" in panel.status.text()


def test_comparing_shows_b_through_the_network(qtbot, window, driver):
    choose(window, "digits-blurmax")
    wait_network(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    driver.wait()
    assert window.compare.active
    wait_network(qtbot, window)
    image = window.model.image.copy()
    row = window.network.rows[0]
    run = row.drawn.run
    net = NETWORKS["digits-blurmax"]
    b = net.run(mirror(image)[None])  # the default B: A mirrored left-right
    assert run.b.top1 == b.top1
    np.testing.assert_allclose(run.b.probabilities, b.probabilities, atol=1e-6)
    assert f"B: <b>{b.top1}</b>" in row.header.text()
    for stage in run.comparison.stages:
        assert short_name(stage.name) in row.header.text()


def test_choosing_a_digit_network_is_one_undo_step(qtbot, window, driver):
    demo = window.model.image.copy()
    assert window.network.choice is None
    choose(window, "digits-aps")
    wait_network(qtbot, window)
    assert window.model.shape == (28, 28) and window.canvas_item.pen
    window.actions_by_name["undo"].trigger()
    driver.wait()
    np.testing.assert_array_equal(window.model.image, demo)
    assert window.network.choice is None and not window.network.panel.isVisible()
    assert not window.canvas_item.pen
    window.actions_by_name["redo"].trigger()
    wait_network(qtbot, window)
    assert window.network.choice.name == "digits-aps" and window.model.shape == (28, 28)
    # the demo turns the network off
    window.actions_by_name["demo"].trigger()
    assert window.network.choice is None


def test_a_dropped_model_file_opens(qtbot, window, driver, tmp_path, warnings):
    from PySide6.QtCore import QMimeData, QPointF, QUrl
    from PySide6.QtGui import QDropEvent

    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 5 * 5, 3)).eval()
    path = tmp_path / "dropped.onnx"
    torch.onnx.export(model, (torch.zeros(1, 1, 10, 10),), str(path), dynamo=False,
                      opset_version=17)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    wait_network(qtbot, window)
    assert not warnings
    assert window.network.choice.path == str(path)
    image = window.model.image.copy()  # the 10x10 demo, as the model takes it
    with torch.no_grad():
        logits = model(torch.from_numpy(image[None, None]))[0].numpy()
    p = np.exp(logits - logits.max())
    np.testing.assert_allclose([b.probability for b in window.network.rows[0].chart.bars],
                               p / p.sum(), atol=1e-5)
    # choose other layers: one more panel, kept in the choice
    mode = window.network
    shown = mode.rows[0].drawn.view.layer_names
    from engine.networks import panel_layers

    extra = next(n for n in panel_layers(mode.rows[0].drawn.view.result) if n not in shown)
    mode.toggle_layer(extra)
    wait_network(qtbot, window)
    assert extra in mode.rows[0].drawn.view.layer_names
    assert mode.choice.layers == mode.rows[0].drawn.view.layer_names


def test_a_labels_file_names_the_classes(qtbot, window, driver, tmp_path, warnings):
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
                                torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                torch.nn.Linear(4, 3)).eval()
    path = tmp_path / "three.onnx"
    torch.onnx.export(model, (torch.zeros(1, 3, 16, 16),), str(path), dynamo=False,
                      opset_version=17)
    window.network.open_model(path)
    wait_network(qtbot, window)
    chart = window.network.rows[0].chart
    assert [b.label for b in chart.bars] == ["class 0", "class 1", "class 2"]
    names = tmp_path / "names.txt"
    names.write_text("cat\ndog\nboat\n", encoding="utf-8")
    window.network.set_labels(str(names))
    wait_network(qtbot, window)
    assert [b.label for b in chart.bars] == ["cat", "dog", "boat"]
    assert window.current_state().network.labels_path == str(names)
    # a labels file that does not fit is reported, and the last answer stays drawn
    wrong = tmp_path / "two.txt"
    wrong.write_text("cat\ndog\n", encoding="utf-8")
    window.network.set_labels(str(wrong))
    qtbot.waitUntil(lambda: window.network.error.isVisible(), timeout=30_000)
    assert f"2 labels in {wrong} for 3 classes" in window.network.error.text()
    assert [b.label for b in chart.bars] == ["cat", "dog", "boat"]


def test_ctrl_drag_slides_the_whole_digit(qtbot, window, driver):
    choose(window, "digits-max")
    wait_network(qtbot, window)
    window.canvas_controls.wrap.setChecked(True)
    assert window.canvas_controls.tool.currentText() == "paint"
    before = window.model.image.copy()
    driver.drag([(10.5, 10.5), (12.5, 11.5), (13.5, 9.5)],
                modifiers=Qt.KeyboardModifier.ControlModifier)
    wait_network(qtbot, window)
    np.testing.assert_array_equal(window.model.image, np.roll(before, (3, -1), axis=(0, 1)))
    p = NETWORKS["digits-max"].run(window.model.image[None]).probabilities
    assert window.network.rows[0].chart.top1.index == int(np.argmax(p))
