"""Sessions through the real window: save, reopen exactly, refuse a damaged file, undo."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from engine import InputTransform, load_session, rotate90, run_pipeline


def test_save_and_reopen_a_session_restores_canvas_pipeline_and_comparison(
        window, driver, qtbot, tmp_path, monkeypatch):
    driver.drag([(2.5, 2.5), (6.5, 5.5)])  # move the lit pixel: an edited canvas
    window.compare.controls.set_transform(InputTransform("rotate", turns=1))
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    driver.wait()
    pixels = window.model.image.copy()
    spec = window.pipeline_controls.spec()
    path = tmp_path / "mine.shiftlab"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(tmp_path / "mine"), "")))
    with qtbot.waitSignal(window.session_saved, timeout=10_000):
        qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    saved = load_session(path)
    np.testing.assert_array_equal(saved.state.a.pixels, pixels)
    assert saved.state.compare.transform.kind == "rotate" and "docks" in saved.window

    window.show_demo()  # change everything, then reopen
    window.compare.set_active(False)
    driver.wait()
    with qtbot.waitSignal(window.session_opened, timeout=10_000):
        window.open_session(path)
    driver.wait()
    np.testing.assert_array_equal(window.model.image, pixels)
    assert window.pipeline_controls.spec() == spec and window.compare.active
    qtbot.waitUntil(lambda: window.compare.view is not None
                    and window.compare.view.comparison.b.stages[0].shape == (10, 10),
                    timeout=10_000)
    b = window.compare.view.comparison.b
    for stage in run_pipeline(rotate90(pixels, 1), spec):
        np.testing.assert_array_equal(b[stage.name].array, stage.array)
    window.actions_by_name["undo"].trigger()  # opening a session is undoable
    assert not np.array_equal(window.model.image, pixels)


def test_a_damaged_session_says_why_and_changes_nothing(window, driver, qtbot, tmp_path,
                                                        warnings):
    bad = tmp_path / "bad.shiftlab"
    bad.write_bytes(b"not a session at all")
    before = window.model.image.copy()
    spec = window.pipeline_controls.spec()
    with qtbot.waitSignal(window.open_failed, timeout=10_000):
        window.open_session(bad)
    assert warnings and str(bad) in warnings[0][1] and "not a ShiftLab session" in warnings[0][1]
    np.testing.assert_array_equal(window.model.image, before)
    assert window.pipeline_controls.spec() == spec
