"""Colour bars in the real window: each panel's bar shows its stage's range (checked against
ranges computed here with numpy), one bar per row with shared levels (the L key), a signed
difference row's bars centred on zero, and the strip drawn in the panels' colours."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QApplication

from gui.panels.stage_panel import bar_number


def own_range(array: np.ndarray, is_input: bool) -> tuple[float, float]:
    """A stage's colour range written plainly: (min, max); a constant map from 0 to its
    value; the input at least [0, 1]."""
    lo, hi = float(array.min()), float(array.max())
    if lo == hi:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    if is_input:
        lo, hi = min(lo, 0.0), max(hi, 1.0)
    return lo, hi


def wait_compared(qtbot, window) -> None:
    rows = window.compare.rows
    qtbot.waitUntil(lambda: window.up_to_date() and rows.request_id == window.row.request_id,
                    timeout=20_000)


def random_photo(window, driver, seed: int = 1) -> None:
    window.model.set_image(np.random.default_rng(seed).random((40, 48)).astype(np.float32))
    window.pipeline_controls.convolve.setChecked(True)
    window.pipeline_controls.levels.setValue(3)
    driver.wait()


def test_each_panel_has_a_bar_with_its_stage_range(window, driver):
    random_photo(window, driver)
    row = window.row
    assert not row.shared_bar.isVisible()
    for i, (panel, stage) in enumerate(zip(row.panels, row.result.stages, strict=True)):
        lo, hi = own_range(stage.array, i == 0)
        assert panel.bar.isVisible()
        assert panel.bar.levels == (lo, hi)
        assert panel.bar.texts == (bar_number(lo), bar_number(hi))
        assert not panel.bar.centred
        # the bar sits under its panel's view, as wide as its column
        bar = panel.bar.sceneBoundingRect()
        view = panel.view.sceneBoundingRect()
        assert bar.top() >= view.bottom() - 1 and bar.top() - view.bottom() < 10
        assert abs(bar.left() - view.left()) < 2 and abs(bar.width() - view.width()) < 2
        assert 0 < bar.height() <= 14


def test_the_strip_is_drawn_in_the_panels_colours(window, driver, qtbot):
    random_photo(window, driver)
    QApplication.processEvents()
    panel = window.row.panels[1]
    image = window.row.graphics.grab().toImage()
    bar = panel.bar
    rect = bar.sceneBoundingRect()
    y = rect.center().y()

    def colour_at(x: float) -> tuple[int, int, int]:
        p = window.row.graphics.mapFromScene(QPointF(x, y))
        c = image.pixelColor(int(p.x() * image.devicePixelRatio()),
                             int(p.y() * image.devicePixelRatio()))
        return c.red(), c.green(), c.blue()

    lut = window.row.stage_lut
    xs = np.linspace(rect.left(), rect.right(), 400)
    colours = [colour_at(x) for x in xs]

    def near(c, want) -> bool:
        return max(abs(int(a) - int(b)) for a, b in zip(c, want, strict=True)) <= 24

    hits_low = [i for i, c in enumerate(colours) if near(c, lut[0])]
    hits_high = [i for i, c in enumerate(colours) if near(c, lut[255])]
    # the darkest colour left of the brightest, both inside the bar
    assert hits_low and hits_high and max(hits_low) < min(hits_high)


def test_shared_levels_give_one_bar_per_row(window, driver, qtbot):
    random_photo(window, driver)
    row = window.row
    qtbot.keyClick(window, Qt.Key.Key_L)
    qtbot.waitUntil(lambda: window.up_to_date() and row.view.shared_levels, timeout=10_000)
    stages = row.result.stages
    features = [own_range(s.array, False) for s in stages[1:]]
    shared = (min(r[0] for r in features), max(r[1] for r in features))
    assert row.shared_bar.isVisible() and row.shared_bar.levels == shared
    assert row.shared_bar.texts == (bar_number(shared[0]), bar_number(shared[1]))
    assert row.panels[0].bar.isVisible()
    assert row.panels[0].bar.levels == own_range(stages[0].array, True)
    assert "shared" not in row.panels[0].subtitle  # the input keeps its own range
    assert all("shared" in p.subtitle for p in row.panels[1:])
    assert not any(p.bar.isVisible() for p in row.panels[1:])
    # the one bar runs from the first stage after the input to the end of its line
    first, last = row.panels[1].view.sceneBoundingRect(), \
        row.panels[row._columns - 1].view.sceneBoundingRect()
    bar = row.shared_bar.sceneBoundingRect()
    assert abs(bar.left() - first.left()) < 2 and abs(bar.right() - last.right()) < 2
    qtbot.keyClick(window, Qt.Key.Key_L)
    qtbot.waitUntil(lambda: window.up_to_date() and not row.view.shared_levels,
                    timeout=10_000)
    assert not row.shared_bar.isVisible() and all(p.bar.isVisible() for p in row.panels)
    assert row.panels[2].bar.levels == own_range(stages[2].array, False)


def test_difference_bars_are_centred_on_zero(window, driver, qtbot):
    random_photo(window, driver)
    mode = window.compare
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    mode.controls.signed_row.click()
    mode.controls.magnitude_row.click()
    wait_compared(qtbot, window)
    a, b = window.row.result, mode.rows.b.result
    signed, magnitude = mode.rows.signed, mode.rows.magnitude
    assert signed.isVisible() and magnitude.isVisible()
    for i, stage in enumerate(a.stages):
        diff = stage.array.astype(np.float64) - b.stages[i].array
        m = float(np.float32(np.abs(diff).max())) or 1.0  # an all-zero map: -1 .. 1
        bar = signed.panels[i].bar
        assert bar.levels == (-m, m) and bar.centred
        assert bar.texts == (bar_number(-m), bar_number(m))
        mag = magnitude.panels[i].bar
        assert not mag.centred and mag.levels[1] == float(np.abs(diff).astype(np.float32).max())
        # row B shares A's colour range stage by stage: the same bar
        assert mode.rows.b.panels[i].bar.levels == window.row.panels[i].bar.levels
