"""The Network box shows only the settings that apply to what is chosen."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import QPointF

from engine.networks import NETWORKS
from gui.docks.controls import KERNEL_ONLY
from tests.gui.test_gui_network import choose, wait_network


def shown(controls) -> set[str]:
    """The names of the Network box's optional settings visible in the dock."""
    widgets = {"fit": controls.fit, "mean": controls.mean, "std": controls.std,
               "labels": controls.labels, "layers": controls.layers,
               "channels": controls.order}
    return {name for name, w in widgets.items() if w.isVisibleTo(controls)}


def test_settings_appear_with_the_network_that_uses_them(qtbot, window, tmp_path):
    controls = window.network.controls
    window.show()
    qtbot.waitExposed(window)
    assert shown(controls) == set()  # the single-kernel pipeline has none of them
    choose(window, "digits-max")
    wait_network(qtbot, window)
    assert window.network.choice.name == "digits-max"
    assert shown(controls) == {"layers", "channels"}
    model = tmp_path / "mine.onnx"
    shutil.copyfile(NETWORKS["digits-max"].path, model)  # a user's model file
    window.network.open_model(model)  # read on the worker
    qtbot.waitUntil(lambda: window.network.choice.path == str(model), timeout=30_000)
    assert shown(controls) == {"fit", "mean", "std", "labels", "layers", "channels"}
    choose(window, KERNEL_ONLY)
    qtbot.waitUntil(lambda: window.network.choice is None)
    assert shown(controls) == set()


def test_shift_map_cells_are_square_on_screen(qtbot, window):
    window.resize(1360, 780)
    window.show()
    qtbot.waitExposed(window)
    choose(window, "digits-max")
    wait_network(qtbot, window)
    view = window.network.rows[0].shift_map
    qtbot.waitUntil(lambda: view.shift_map is not None, timeout=30_000)
    qtbot.wait(50)  # let the layout settle
    corner = view.plot.vb.mapViewToScene(QPointF(0.0, 0.0))
    step = view.plot.vb.mapViewToScene(QPointF(1.0, 1.0)) - corner  # one shift each way
    assert abs(step.x()) == pytest.approx(abs(step.y()), rel=0.02)
    assert abs(step.x()) > 0
