"""Every number the window shows is true: plot axes in their own units, undefined values
as gaps and n/a, the equivariance error plotted, early stops and seams said, the
counterpart of a hovered cell, displacements in input pixels, readable titles with their
colour scale, and a sweep that says when its curves are stale."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QMouseEvent
from PySide6.QtWidgets import QApplication

from engine import ImageSource, InputImage, InputTransform, PipelineSpec, compare_inputs
from engine.comparison import SEAM_FREE_PADDING, seam_note
from engine.notes import drift_note
from gui.docks.sweep import SETTINGS_KEYS, SweepPanel
from gui.panels.stage_panel import HALO_COLOR, TOPK_COLOR


def wait_compared(qtbot, window) -> None:
    rows = window.compare.rows
    qtbot.waitUntil(lambda: window.up_to_date() and rows.request_id == window.row.request_id,
                    timeout=30_000)


def compare(qtbot, window, transform: InputTransform, image=None, spec=None) -> None:
    """Show `image` (and `spec`) compared with `transform` of it, and wait for the result."""
    if image is not None:
        window.model.set_image(np.asarray(image, np.float32))
    if spec is not None:
        window.pipeline_controls.set_spec(spec)
    window.compare.controls.set_transform(transform)
    window.compare.set_active(True)
    wait_compared(qtbot, window)


def reference(window, transform):
    pc = window.pipeline_controls
    return compare_inputs(window.model.image.copy(), None, pc.spec(), transform=transform,
                          top_k=pc.top_k())


def pixel(rows: int, cols: int, at: tuple[int, int]) -> np.ndarray:
    image = np.zeros((rows, cols), np.float32)
    image[at] = 1
    return image


def show_plot(qtbot, window) -> None:
    mode = window.compare
    mode.plot_dock.raise_()
    qtbot.waitUntil(lambda: mode.plot.comparison is mode.view.comparison, timeout=5_000)


def axis_scale(plot: pg.PlotWidget, side: str = "left") -> tuple[float, str]:
    axis = plot.getAxis(side)
    return axis.autoSIPrefixScale, axis.labelString()


def hover_b(window, row: float, col: float, panel: int) -> None:
    """A real mouse move over input coordinates (row, col) of a panel of row B."""
    row_b = window.compare.rows.b
    view = row_b.panels[panel].view
    local = QPointF(row_b.graphics.mapFromScene(view.mapViewToScene(QPointF(col, row))))
    viewport = row_b.graphics.viewport()
    none = Qt.MouseButton.NoButton
    event = QMouseEvent(QEvent.Type.MouseMove, local,
                        QPointF(viewport.mapToGlobal(local.toPoint())), none, none,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(viewport, event)


# -- 1: axes in the quantity's own units ----------------------------------------------------------
def test_plot_axes_read_in_the_quantities_own_units(window, qtbot):
    yy, xx = np.mgrid[:32, :32]
    image = np.exp(-((yy - 14.0) ** 2 + (xx - 15.0) ** 2) / 60.0)  # smooth: small distances
    compare(qtbot, window, InputTransform("shift", dx=1), image,
            PipelineSpec(levels=2, padding="circular"))
    show_plot(qtbot, window)
    plot = window.compare.plot
    _, distances = plot.distance.getData()
    assert np.nanmax(distances) < 1  # where pyqtgraph would scale by 1000
    # an axis whose values all lie below 1 is where pyqtgraph would scale by 1000
    qtbot.waitUntil(lambda: plot.distance_plot.getViewBox().viewRange()[1][1] < 1,
                    timeout=5_000)
    for widget in (plot.distance_plot, plot.displacement_plot):
        scale, label = axis_scale(widget)
        assert scale == 1 and "x0.001" not in label

    sweep = window.compare.sweep
    window.compare.sweep_dock.raise_()
    sweep.max_shift.setValue(2)
    with qtbot.waitSignal(sweep.finished, timeout=30_000):
        sweep.run()
    assert np.nanmax(sweep.result.distances) < 0.8
    qtbot.waitUntil(lambda: sweep.plot.getViewBox().viewRange()[1][1] < 1, timeout=5_000)
    scale, label = axis_scale(sweep.plot)
    assert scale == 1 and "x0.001" not in label


# -- 2: the receptive field only for a maximum that exists ----------------------------------------
def test_no_receptive_field_once_the_feature_has_left_the_deepest_map(window, driver):
    window.model.set_image(pixel(10, 10, (9, 9)))  # pooling drops the last row and column
    driver.wait()
    deepest = window.row.result.stages[-1]
    assert not deepest.array.any()
    assert not window.row.input_panel.field_box.isVisible()
    last = window.row.panels[len(window.row.result.stages) - 1]
    assert "no feature left" in last.subtitle

    window.model.set_image(pixel(10, 10, (2, 2)))
    driver.wait()
    assert window.row.input_panel.field_box.isVisible()
    assert "no feature left" not in last.subtitle


# -- 3 and 4: undefined values are n/a and gaps; the error is plotted ------------------------------
def test_an_all_zero_pair_is_n_a_in_the_table_titles_and_a_gap_in_the_plot(window, qtbot):
    shift = InputTransform("shift", dx=4, wrap=False)
    # pooling drops A's last row and column, the shift pushes B's pixel out
    compare(qtbot, window, shift, pixel(17, 17, (16, 16)), PipelineSpec(convolve=False,
                                                                       levels=3))
    ref = reference(window, shift)
    both_zero = [c.both_zero for c in ref.stages]
    assert any(both_zero) and not all(both_zero)
    metrics = window.compare.metrics
    for text, comp in zip(metrics.column(2), ref.stages, strict=True):
        assert "nan" not in text.lower()
        assert text == ("n/a (both zero)" if comp.both_zero else f"{comp.distance:.4f}")
    for column in (3, 4, 6):  # neither map has a peak to have moved
        assert [t == "n/a" for t in metrics.column(column)] == both_zero
    for panel, comp in zip(window.compare.rows.b.panels, ref.stages, strict=False):
        assert "nan" not in panel.title.lower() + panel.subtitle.lower()
        if comp.both_zero:
            assert "d n/a" in panel.title and "Δ n/a" in panel.subtitle

    show_plot(qtbot, window)
    plot = window.compare.plot
    _, distance = plot.distance.getData()
    np.testing.assert_array_equal(np.isnan(distance), both_zero)
    for curve in (plot.dy, plot.dx):
        np.testing.assert_array_equal(np.isnan(curve.getData()[1]), both_zero)
    _, error = plot.error.getData()
    want = [math.nan if c.equivariance_error is None else c.equivariance_error
            for c in ref.stages]
    np.testing.assert_array_equal(error, want)  # NaN where n/a
    assert plot.distance.opts["connect"] == plot.error.opts["connect"] == "finite"


def test_the_metrics_plot_shows_the_equivariance_error(window, qtbot):
    shift = InputTransform("shift", dy=2, dx=2)
    compare(qtbot, window, shift, np.random.default_rng(4).random((24, 24)),
            PipelineSpec(levels=3))
    show_plot(qtbot, window)
    ref = reference(window, shift)
    x, y = window.compare.plot.error.getData()
    np.testing.assert_array_equal(x, np.arange(len(ref.stages)))
    want = [math.nan if c.equivariance_error is None else c.equivariance_error
            for c in ref.stages]
    assert not all(math.isnan(v) for v in want) and any(math.isnan(v) for v in want)
    np.testing.assert_allclose(y, want, rtol=0, atol=1e-12)


def test_sweep_gaps_where_both_maps_are_zero(window, qtbot):
    window.model.set_image(pixel(16, 16, (8, 12)))
    window.pipeline_controls.set_spec(PipelineSpec(convolve=False, levels=2))
    sweep = window.compare.sweep
    sweep.border.setCurrentIndex(1)  # zero fill
    sweep.reference.setCurrentIndex(1)  # moved by whole cells
    sweep.max_shift.setValue(8)
    window.compare.set_active(True)
    with qtbot.waitSignal(sweep.finished, timeout=30_000):
        sweep.run()
    assert np.isnan(sweep.result.distances).any()
    for j, curve in enumerate(sweep.curves.values()):
        _, y = curve.getData()
        np.testing.assert_array_equal(np.isnan(y), np.isnan(sweep.result.distances[:, j]))
        assert curve.opts["connect"] == "finite"
    assert "gaps" in sweep.plot.plotItem.titleLabel.text


# -- 6: how many levels ran ------------------------------------------------------------------------
def test_an_early_stop_says_how_many_levels_ran_and_why(window, qtbot):
    compare(qtbot, window, InputTransform("mirror"), pixel(10, 10, (2, 2)),
            PipelineSpec(convolve=False, levels=12))
    result = window.row.result
    assert result.levels_produced == 3 and result.stop_cause
    last = window.row.panels[len(result.stages) - 1]
    assert "3 of 12 levels" in last.subtitle
    assert result.stop_reason in last.label.toolTip()
    heading = window.compare.metrics.heading.text()
    assert f"A: 3 of 12 levels ran: {result.stop_cause}" in heading


# -- 9: the seam of a wrapping shift and its one-click fix ----------------------------------------
def test_a_wrapping_shift_through_valid_padding_shows_the_seam_and_offers_the_fix(window,
                                                                                  qtbot):
    shift = InputTransform("shift", dx=1)
    spec = PipelineSpec(levels=2, padding="valid")
    compare(qtbot, window, shift, np.random.default_rng(1).random((24, 24)), spec)
    metrics = window.compare.metrics
    note = seam_note(window.pipeline_controls.spec(), shift)
    assert note and note in metrics.note.text() and metrics.note.isVisible()
    assert metrics.fix_padding.isVisible()
    with qtbot.waitSignal(metrics.padding_fix_requested, timeout=2_000) as blocker:
        qtbot.mouseClick(metrics.fix_padding, Qt.MouseButton.LeftButton)
    assert blocker.args == [SEAM_FREE_PADDING]

    window.pipeline_controls.set_spec(PipelineSpec(levels=2, padding="circular"))
    wait_compared(qtbot, window)
    assert not metrics.fix_padding.isVisible()


# -- 14: nothing stale is shown as current ---------------------------------------------------------
def test_the_sweep_marks_its_curves_stale_when_the_input_changes(window, driver, qtbot):
    sweep = window.compare.sweep
    sweep.max_shift.setValue(3)
    with qtbot.waitSignal(sweep.finished, timeout=30_000):
        sweep.run()
    window.pipeline_controls.set_spec(window.pipeline_controls.spec())  # same input, redrawn
    driver.wait()
    assert not sweep.stale
    window.model.set_image(pixel(10, 10, (5, 5)))
    driver.wait()
    assert sweep.stale and "stale" in sweep.plot.plotItem.titleLabel.text
    with qtbot.waitSignal(sweep.finished, timeout=30_000):
        sweep.run()
    assert not sweep.stale and "stale" not in sweep.plot.plotItem.titleLabel.text


def test_the_compare_dock_names_b_only_while_b_is_that_image(window, qtbot):
    controls = window.compare.controls
    photo = InputImage(np.random.default_rng(0).random((12, 12)).astype(np.float32),
                       ImageSource("file", path="/photos/beach.png"))
    controls.set_image_b(photo)
    assert controls.b_label.text().startswith("B: beach.png")
    controls.set_transform(InputTransform("mirror"))
    assert not controls.b_label.text().startswith("B:")
    assert "not in use" in controls.b_label.text()
    controls.set_kind("other")
    assert controls.b_label.text().startswith("B: beach.png")


# -- 16: why blurmax panels drift ------------------------------------------------------------------
def test_blurmax_drift_is_explained_where_the_panels_drift(window, driver, qtbot):
    window.model.set_image(np.random.default_rng(3).random((32, 32)))
    window.pipeline_controls.set_spec(PipelineSpec(levels=3, pool_mode="blurmax"))
    driver.wait()
    note = drift_note(window.row.result)
    assert note
    assert window.row.note.isVisible() and window.row.note.text() == note
    assert note in window.row.panels[2].label.toolTip()  # pool 1
    compare(qtbot, window, InputTransform("mirror"))
    assert note in window.compare.metrics.note.text()

    window.pipeline_controls.set_spec(PipelineSpec(levels=3, pool_mode="max"))
    wait_compared(qtbot, window)
    assert drift_note(window.row.result) is None
    assert not window.row.note.isVisible()
    assert note not in window.compare.metrics.note.text()


# -- 17: hovering B outlines the counterpart in A --------------------------------------------------
@pytest.mark.parametrize("transform, b_cell, a_cell", [
    (InputTransform("mirror"), (1, 7), (1, 2)),
    (InputTransform("flip"), (1, 7), (8, 7)),
    (InputTransform("rotate", turns=1), (1, 7), (7, 8)),
    (InputTransform("shift", dy=2, dx=3, wrap=True), (1, 7), (9, 4)),
    (InputTransform("shift", dy=2, dx=3, wrap=False), (3, 7), (1, 4)),
])
def test_hovering_b_outlines_the_counterpart_in_a(window, qtbot, transform, b_cell, a_cell):
    compare(qtbot, window, transform, pixel(10, 10, (2, 2)),
            PipelineSpec(convolve=False, levels=2))
    hover_b(window, b_cell[0] + 0.5, b_cell[1] + 0.5, panel=0)
    box = window.row.input_panel.hover_box
    qtbot.waitUntil(box.isVisible, timeout=2_000)
    rect = box.rect()
    assert (rect.y(), rect.x(), rect.height(), rect.width()) == (*a_cell, 1, 1)


def test_hovering_b_where_a_shift_filled_zeros_outlines_nothing_in_a(window, qtbot):
    compare(qtbot, window, InputTransform("shift", dx=3, wrap=False), pixel(10, 10, (2, 2)),
            PipelineSpec(convolve=False, levels=2))
    hover_b(window, 4.5, 1.5, panel=0)
    qtbot.waitUntil(window.compare.rows.b.input_panel.hover_box.isVisible, timeout=2_000)
    assert not window.row.input_panel.hover_box.isVisible()


# -- 18: displacement in input pixels, near-ties flagged -------------------------------------------
def test_displacement_in_input_pixels_and_near_ties_are_shown(window, qtbot):
    shift = InputTransform("shift", dy=4, dx=4)
    compare(qtbot, window, shift, pixel(16, 16, (2, 2)),
            PipelineSpec(convolve=False, levels=2))
    ref = reference(window, shift)
    metrics = window.compare.metrics
    assert metrics.column(6) == [f"{c.displacement_px[0]}, {c.displacement_px[1]}"
                                 for c in ref.stages]
    assert metrics.column(6)[-1] == "4, 4" and metrics.column(3)[-1] == "1"
    assert metrics.column(7) == ["" for _ in ref.stages]  # one pixel: no tie
    pool = window.compare.rows.b.panels[2]
    assert "= 4,4 px" in pool.subtitle

    image = np.zeros((16, 16), np.float32)
    image[2, 2], image[10, 10] = 1.0, 0.995  # two peaks within 1%
    compare(qtbot, window, shift, image)
    ref = reference(window, shift)
    assert any(c.near_tie for c in ref.stages)
    for text, comp in zip(metrics.column(7), ref.stages, strict=True):
        assert ("near-tie" in text) == comp.near_tie
    for panel, comp in zip(window.compare.rows.b.panels, ref.stages, strict=False):
        assert ("(tie)" in panel.subtitle) == comp.near_tie


# -- 20 and 21: readable titles, each with its colour scale ----------------------------------------
@pytest.mark.parametrize("rows", [2, 4])
def test_titles_fit_their_panels_with_8_stages(window, qtbot, rows):
    window.compare.controls.signed_row.setChecked(rows == 4)
    window.compare.controls.magnitude_row.setChecked(rows == 4)
    compare(qtbot, window, InputTransform("shift", dy=1, dx=1),
            np.random.default_rng(5).random((200, 300)), PipelineSpec(levels=6))
    qtbot.waitUntil(lambda: all(row.isVisible() for row in window.rows[:rows]), timeout=5_000)
    qtbot.wait(50)  # the layouts settle
    for row in window.rows[:rows]:
        assert len(row.panels) == 8
        for panel in row.panels:
            label = panel.label
            width = label.geometry().width()
            for line, size in ((panel.shown_title, label.title_size),
                               (panel.shown_subtitle, label.subtitle_size)):
                font = label.font()
                font.setPointSizeF(size)
                assert QFontMetricsF(font).horizontalAdvance(line) <= width + 1, line
                assert size >= 7
            assert panel.title in label.toolTip()


def test_every_panel_says_its_colour_scale(window, qtbot):
    compare(qtbot, window, InputTransform("mirror"), np.random.default_rng(6).random((20, 20)),
            PipelineSpec(levels=2))
    for row in (window.row, window.compare.rows.b):
        for panel in row.panels:
            lo, hi = panel.levels
            assert f"darkest {lo:.4g}, brightest {hi:.4g}" in panel.label.toolTip()
            assert "the same in rows A and B" in panel.label.toolTip()
    window.pipeline_controls.shared.setChecked(True)
    wait_compared(qtbot, window)
    for panel in window.row.panels[1:]:
        assert "shared" in panel.subtitle and "shared by every stage" in panel.label.toolTip()


# -- 22: progress in percent, rings on bright cells, remembered sweep settings ---------------------
def test_sweep_progress_reads_in_percent_and_hides_when_idle(window, qtbot):
    sweep = window.compare.sweep
    window.compare.set_active(True)
    assert not sweep.progress.isVisible()
    seen: list[str] = []
    sweep.progress.valueChanged.connect(lambda _v: seen.append(sweep.progress.text()))
    sweep.max_shift.setValue(6)
    with qtbot.waitSignal(sweep.finished, timeout=30_000):
        sweep.run()
        assert sweep.progress.isVisible() and sweep.progress.isTextVisible()
    assert seen and all(text.endswith("%") for text in seen if text)
    assert not sweep.progress.isVisible()


def test_top_k_rings_have_a_dark_edge_on_bright_cells(window, driver):
    image = np.zeros((10, 10), np.float32)
    image[1, 1], image[1, 6], image[6, 1] = 1.0, 0.9, 0.8
    window.model.set_image(image)
    driver.wait()
    rings = [item for panel in window.row.panels for item in panel.top_k.items
             if item.isVisible()]
    assert rings
    for ring in rings:
        assert ring.pen().color() == QColor(HALO_COLOR)
        assert ring.pen().widthF() > 2
        (line,) = ring.childItems()
        assert line.pen().color() == QColor(TOPK_COLOR)


def test_sweep_settings_are_remembered_and_checked(qtbot, window):
    sweep = window.compare.sweep
    sweep.direction.setCurrentText("diagonal")
    sweep.max_shift.setValue(9)
    sweep.border.setCurrentIndex(1)
    sweep.reference.setCurrentIndex(1)
    again = SweepPanel(window.runner, lambda: None)
    qtbot.addWidget(again)
    assert again.direction.currentText() == "diagonal"
    assert again.max_shift.value() == 9
    assert again.border.currentIndex() == 1 and again.reference.currentIndex() == 1

    sweep.settings.set_value(SETTINGS_KEYS["max_shift"], "100000")
    sweep.settings.set_value(SETTINGS_KEYS["direction"], "sideways")
    third = SweepPanel(window.runner, lambda: None)
    qtbot.addWidget(third)
    assert third.max_shift.value() == third.max_shift.maximum()
    assert third.direction.currentText() == "horizontal (right)"
