"""The Network box shows only the settings that apply to what is chosen."""

from __future__ import annotations

import shutil

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
