"""The exporter of the real main window: an export in the background while the person keeps
editing, a comparison exported as rows A and B, and Copy figure."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine import mirror, run_pipeline
from figures import FigureSetOptions


@pytest.fixture
def exporter(window):
    return window.exporter


def test_the_window_keeps_computing_while_a_set_is_written(window, driver, exporter, qtbot,
                                                           tmp_path):
    photo = np.random.default_rng(3).random((400, 600)).astype(np.float32)
    window.model.set_image(photo)
    driver.wait()
    exported_image = window.model.image.copy()
    spec = window.pipeline_controls.spec()
    target = tmp_path / "set"
    # a sweep of 16 shifts keeps the export busy for a while (half a second here)
    options = FigureSetOptions(formats=("npz",), width=600, animate_shifts=16)
    with qtbot.waitSignal(exporter.exported, timeout=30_000):
        assert exporter.export_to(target, options)
        # editing goes on: the input moves and the pipeline is recomputed and drawn
        qtbot.keyClick(window, Qt.Key.Key_Right)
        driver.wait()
        assert not np.array_equal(window.model.image, exported_image)
        assert exporter.is_exporting()
    # the set shows the image as it was when the export started
    with np.load(target / "stages.npz") as stages:
        for stage in run_pipeline(exported_image, spec):
            np.testing.assert_array_equal(stages[f"A/{stage.name}"], stage.array)


def test_ctrl_shift_c_in_the_window_copies_the_figure(window, exporter, qtbot):
    with qtbot.waitSignal(exporter.figure_copied, timeout=30_000) as blocker:
        qtbot.keyClick(window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier
                       | Qt.KeyboardModifier.ShiftModifier)
    assert blocker.args[0].width() == FigureSetOptions().width
    assert QApplication.clipboard().image().width() == FigureSetOptions().width


def test_a_comparison_is_exported_as_rows_a_and_b(window, driver, exporter, qtbot, tmp_path):
    photo = np.random.default_rng(5).random((40, 60)).astype(np.float32)
    window.model.set_image(photo)
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    driver.wait()
    assert window.compare.active
    spec = window.pipeline_controls.spec()
    target = tmp_path / "compare-set"
    with qtbot.waitSignal(exporter.exported, timeout=30_000):
        assert exporter.export_to(target, FigureSetOptions(formats=("npz", "json"), width=300))
    with np.load(target / "stages.npz") as stages:
        for stage in run_pipeline(mirror(photo), spec):
            np.testing.assert_array_equal(stages[f"B/{stage.name}"], stage.array)
