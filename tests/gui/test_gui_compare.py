"""Comparison mode in the real window: the toggle, B as a transform or a file, the table,
the plot, the difference rows, live drags, the mirror note and the mirrored kernel."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from image_files import write_png
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from engine import InputTransform, compare_inputs, load_image, translate
from gui.window.main_window import MainWindow


def wait_compared(qtbot, window) -> None:
    """Wait until the newest request is drawn in row A and in the comparison rows."""
    rows = window.compare.rows
    qtbot.waitUntil(lambda: window.up_to_date() and rows.request_id == window.row.request_id,
                    timeout=20_000)


def expected_error(comp, transform, stride) -> str:
    """The error text as the table should show it, written plainly."""
    if comp.equivariance_error is not None:
        return f"{comp.equivariance_error:.4f}"
    if transform.kind == "other":
        return "n/a: another image"
    sy, sx = stride
    if transform.kind == "shift" and (transform.dy % sy or transform.dx % sx):
        return f"n/a: shift not a multiple of S = {sy if sy == sx else (sy, sx)}"
    return "n/a" if not comp.partial else "n/a: shapes differ"


def check_table(window, reference) -> None:
    """The metrics table and row B's titles say what `reference` (computed here) says."""
    metrics = window.compare.metrics
    assert metrics.column(0) == [c.name for c in reference.stages]
    assert metrics.column(2) == [f"{c.distance:.4f}" for c in reference.stages]
    assert metrics.column(3) == [str(c.displacement[0]) for c in reference.stages]
    assert metrics.column(4) == [str(c.displacement[1]) for c in reference.stages]
    errors = [expected_error(c, reference.transform, reference.a[c.name].stride)
              for c in reference.stages]
    assert metrics.column(5) == errors
    header = metrics.table.horizontalHeaderItem(5).text().replace("\n", " ")
    assert header == "equivariance error ‖f(Tx) − T′f(x)‖/‖f(x)‖"
    b_row = window.compare.rows.b
    for panel, comp in zip(b_row.panels, reference.stages, strict=False):
        assert f"d {comp.distance:.3f}" in panel.title
        assert f"Δ({comp.displacement[0]}, {comp.displacement[1]})" in panel._subtitle
    # row B draws B's stages
    for got, want in zip(b_row.result.stages, reference.b.stages, strict=True):
        np.testing.assert_array_equal(got.array, want.array)


def reference_for(window, image_b=None, transform=None, mirror_kernel_too=False):
    pc = window.pipeline_controls
    return compare_inputs(window.model.image.copy(), image_b, pc.spec(), transform=transform,
                          mirror_kernel_too=mirror_kernel_too, top_k=pc.top_k())


def test_toggle_by_shortcut_and_menu_and_change_the_transform(window, qtbot):
    mode = window.compare
    assert not mode.rows.b.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert mode.active and mode.controls.enabled.isChecked()
    assert window.actions_by_name["compare"].isChecked()
    wait_compared(qtbot, window)
    assert mode.rows.b.isVisible() and mode.metrics_dock.isVisible()
    check_table(window, reference_for(window, transform=InputTransform("mirror")))

    # shift by (dy, dx) = (5, 5) with wrap: the article's displacement 5, 2, 1
    mode.controls.set_kind("shift")
    mode.controls.dx.setValue(5)
    mode.controls.dy.setValue(5)
    wait_compared(qtbot, window)
    shift = InputTransform("shift", dy=5, dx=5)
    reference = reference_for(window, transform=shift)
    check_table(window, reference)
    assert window.compare.metrics.column(3) == ["5", "2", "1"]
    assert window.compare.metrics.column(5)[1:] == ["n/a: shift not a multiple of S = 2",
                                                    "n/a: shift not a multiple of S = 4"]
    np.testing.assert_array_equal(mode.rows.b.result.stages[0].array,
                                  translate(window.model.image, 5, 5))
    # a shift of 4, zero-filled, is a multiple of both strides
    mode.controls.wrap.setChecked(False)
    mode.controls.dx.setValue(4)
    mode.controls.dy.setValue(0)
    wait_compared(qtbot, window)
    reference = reference_for(window, transform=InputTransform("shift", dy=0, dx=4, wrap=False))
    check_table(window, reference)
    assert all(c.equivariance_error is not None for c in reference.stages)
    mode.plot_dock.raise_()  # the plot catches up when it comes to the front
    qtbot.waitUntil(lambda: mode.plot.comparison is mode.view.comparison, timeout=5_000)
    x, y = mode.plot.dx.getData()
    np.testing.assert_array_equal(y, [c.displacement[1] for c in reference.stages])
    np.testing.assert_array_equal(x, np.arange(len(reference.stages)))

    mode.metrics_dock.raise_()
    mode.controls.set_kind("rotate")
    wait_compared(qtbot, window)
    check_table(window, reference_for(window, transform=InputTransform("rotate", turns=1)))

    window.actions_by_name["compare"].trigger()  # off through the menu action
    assert not mode.active and not mode.rows.b.isVisible()
    assert not mode.controls.enabled.isChecked()
    assert mode.metrics.table.rowCount() == 0
    qtbot.waitUntil(window.up_to_date, timeout=10_000)
    assert window.row.result.names == ["input", "pool 1", "pool 2"]
    assert window.actions_by_name["compare"] in window.menus["view"].actions()

    # the checkbox in the Compare dock turns it on again
    mode.compare_dock.raise_()
    qtbot.waitUntil(mode.controls.enabled.isVisible, timeout=5_000)
    box = mode.controls.enabled
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert mode.active and window.actions_by_name["compare"].isChecked()
    wait_compared(qtbot, window)
    check_table(window, reference_for(window, transform=InputTransform("rotate", turns=1)))


def test_open_as_b_from_the_menu_and_a_corrupt_file_keeps_b(
        window, qtbot, tmp_path, warnings, monkeypatch):
    window.model.set_image(np.random.default_rng(7).random((40, 48)).astype(np.float32))
    window.pipeline_controls.convolve.setChecked(True)
    path = tmp_path / "other.png"
    pixels = write_png(path, 36, 52, seed=9)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    window.actions_by_name["open-b"].trigger()
    qtbot.waitUntil(lambda: window.compare.controls.image_b is not None, timeout=10_000)
    assert window.compare.active  # opening B turns comparison on
    wait_compared(qtbot, window)
    b = window.compare.controls.image_b.pixels
    np.testing.assert_allclose(b, pixels / 255.0, atol=1e-6)
    reference = reference_for(window, image_b=load_image(path),
                              transform=InputTransform("other"))
    check_table(window, reference)
    assert window.compare.metrics.column(1)[0] == "40×48 / 36×52"
    assert "other.png" in window.compare.rows.b.legend.text()
    before = window.compare.metrics.column(2)

    bad = tmp_path / "corrupt.png"
    bad.write_bytes(path.read_bytes()[:120])
    window.compare.open_b(bad)
    qtbot.waitUntil(lambda: bool(warnings), timeout=10_000)
    title, text = warnings[0]
    assert str(bad) in text
    try:
        load_image(bad)
    except ValueError as exc:
        assert str(exc).split(": ", 1)[1] in text
    else:
        pytest.fail("load_image accepted a corrupt file")
    np.testing.assert_array_equal(window.compare.controls.image_b.pixels, b)
    wait_compared(qtbot, window)
    assert window.compare.metrics.column(2) == before


def test_dragging_on_a_updates_b_and_the_table_live(window, driver, qtbot):
    mode = window.compare
    mode.controls.set_transform(InputTransform("shift", dy=5, dx=5))
    mode.set_active(True)
    wait_compared(qtbot, window)
    seen: list[np.ndarray] = []
    mode.rows.drawn.connect(lambda _rid: seen.append(mode.rows.b.result.stages[0].array.copy()))
    driver.drag([(2.5, 2.5), (3.5, 2.5), (4.5, 3.5), (4.5, 6.5)], wait=False)
    wait_compared(qtbot, window)
    a = window.model.image
    assert a[4, 6] == 1 and a.sum() == 1
    np.testing.assert_array_equal(mode.rows.b.result.stages[0].array, translate(a, 5, 5))
    check_table(window, reference_for(window, transform=InputTransform("shift", dy=5, dx=5)))
    assert len(seen) >= 1
    # hovering a cell of A outlines its counterpart in B under the shift: A's pool 1 cell
    # over pixels 2..3 moves by 5 to centre 8.5, B's pool 1 cell over pixels 8..9; B's
    # input outlines what feeds that cell, so both are A's outlines moved by (6, 6)
    driver.hover(3.5, 3.5, panel=1)
    for panel_a, panel_b in zip(window.row.panels[:2], mode.rows.b.panels[:2], strict=True):
        assert panel_a.hover_box.isVisible() and panel_b.hover_box.isVisible()
        assert panel_b.hover_box.rect() == panel_a.hover_box.rect().translated(6, 6)


@pytest.mark.parametrize("signed", [True, False])
def test_difference_rows(window, qtbot, signed):
    mode = window.compare
    window.model.set_image(np.random.default_rng(5).random((32, 32)).astype(np.float32))
    window.pipeline_controls.convolve.setChecked(True)
    mode.set_active(True)
    box = mode.controls.signed_row if signed else mode.controls.magnitude_row
    row = mode.rows.signed if signed else mode.rows.magnitude
    box.click()
    wait_compared(qtbot, window)
    assert row.isVisible()
    reference = reference_for(window, transform=InputTransform("mirror"))
    for stage, comp in zip(row.result.stages, reference.stages, strict=True):
        a, b = reference.a[comp.name].array, reference.b[comp.name].array
        want = a - b if signed else np.abs(a - b)
        np.testing.assert_allclose(stage.array, want, atol=1e-6)
    # rows follow each other: zooming A (View > Zoom in) zooms the difference row too
    qtbot.wait(50)  # the layout settles after a row appears
    before = window.row.panels[0].view.viewRect()
    for _ in range(3):
        window.actions_by_name["zoom-in"].trigger()
    qtbot.waitUntil(lambda: row._area == window.row._area, timeout=5_000)
    area = window.row.panels[0].view.viewRect()
    assert area.width() * area.height() < 0.5 * before.width() * before.height()
    shown = row.panels[1].view.viewRect()
    assert shown.contains(window.row._area.adjusted(0.01, 0.01, -0.01, -0.01))
    assert shown.width() < 1.5 * area.width() + 1 and shown.height() < 1.5 * area.height() + 1
    box.click()
    assert not row.isVisible()


def test_mirror_note_and_the_mirrored_kernel(window, qtbot):
    mode = window.compare
    photo = np.random.default_rng(11).random((64, 96)).astype(np.float32)
    photo = cv2.GaussianBlur(photo, (0, 0), 2)
    window.model.set_image(photo)
    window.pipeline_controls.convolve.setChecked(True)
    window.pipeline_controls.kernel.preset.setCurrentText("prewitt_vertical")
    mode.controls.set_kind("mirror")
    mode.set_active(True)
    wait_compared(qtbot, window)
    reference = reference_for(window, transform=InputTransform("mirror"))
    assert mode.metrics_dock.isVisible() and mode.metrics.note.isVisible()
    assert mode.metrics.note.text() == reference.note
    assert "opposite edges light up" in reference.note
    conv = reference.stages[1]
    assert conv.name == "conv" and conv.equivariance_error > 0.5
    check_table(window, reference)

    mode.controls.mirror_kernel.click()
    wait_compared(qtbot, window)
    mirrored = reference_for(window, transform=InputTransform("mirror"), mirror_kernel_too=True)
    check_table(window, mirrored)
    assert mirrored.stages[1].equivariance_error == pytest.approx(0, abs=1e-6)
    assert mode.metrics.column(5)[1] == "0.0000"
    assert mode.metrics.note.text() == mirrored.note and "commutes" in mirrored.note
    assert "kernel mirrored too" in mode.rows.b.legend.text()


def test_the_comparison_setup_is_remembered_but_comparison_starts_off(qtbot):
    first = MainWindow()
    qtbot.addWidget(first)
    setup = InputTransform("shift", dy=-3, dx=4, wrap=False)
    first.compare.controls.set_transform(setup)
    first.compare.controls.signed_row.setChecked(True)
    first.compare.set_active(True)
    first.close()
    second = MainWindow()
    qtbot.addWidget(second)
    assert second.compare.controls.transform() == setup
    assert second.compare.controls.signed_row.isChecked()
    assert not second.compare.controls.magnitude_row.isChecked()
    assert not second.compare.active
    second.close()
