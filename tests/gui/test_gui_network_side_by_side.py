"""The three digit networks side by side are part of the window's state: a session saved
with them opens with three rows and undo brings them back (the export of all three is in
test_gui_network_more.py)."""

from __future__ import annotations

import json
import zipfile

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from engine.networks import NETWORKS, prepare_input, shift_map
from gui.docks.controls import VARIANTS

NAMES = ("digits-max", "digits-blurmax", "digits-aps")


def wait_network(qtbot, window, timeout: int = 30_000) -> None:
    qtbot.waitUntil(window.network.up_to_date, timeout=timeout)


def check_three_rows(window, image: np.ndarray) -> None:
    """Three rows, each with its own network's answer and shift map for `image`."""
    mode = window.network
    assert mode.choice.side_by_side and len(mode.rows) == 3
    assert window.network.choice_actions[VARIANTS].isChecked()
    for row, name in zip(mode.rows, NAMES, strict=True):
        net = NETWORKS[name]
        assert row.drawn.view.network == name
        p = net.run(image[None]).probabilities
        np.testing.assert_allclose([b.probability for b in row.chart.bars], p, atol=1e-6)
        assert row.chart.top1.index == int(np.argmax(p))
        reference = shift_map(net, prepare_input(image, net))
        np.testing.assert_array_equal(row.shift_map.shift_map.top1, reference.top1)


def test_a_session_and_undo_keep_the_three_networks(qtbot, window, driver, tmp_path,
                                                    monkeypatch):
    window.network.choice_actions[VARIANTS].trigger()  # Pipeline > Network > Three ...
    wait_network(qtbot, window)
    window.actions_by_name["nudge-right"].trigger()
    wait_network(qtbot, window)
    image = window.model.image.copy()
    check_three_rows(window, image)

    path = tmp_path / "three.shiftlab"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "three"), "")))
    with qtbot.waitSignal(window.session_saved, timeout=20_000):
        qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    with zipfile.ZipFile(path) as archive:
        network = json.loads(archive.read("session.json"))["state"]["network"]
    assert network == {"name": NAMES[0], "side_by_side": True}

    # the demo turns the networks off; undo brings all three back
    window.actions_by_name["demo"].trigger()
    driver.wait()
    assert window.network.choice is None and not window.network.rows
    window.actions_by_name["undo"].trigger()
    wait_network(qtbot, window)
    np.testing.assert_array_equal(window.model.image, image)
    check_three_rows(window, image)

    # off again, then the session opens with three rows
    window.actions_by_name["demo"].trigger()
    driver.wait()
    assert window.network.choice is None
    with qtbot.waitSignal(window.session_opened, timeout=20_000):
        window.open_session(path)
    wait_network(qtbot, window)
    np.testing.assert_array_equal(window.model.image, image)
    check_three_rows(window, image)
    assert window.current_state().network.side_by_side
