"""What the panels draw of large stages, and what a redraw touches: a 12 MP photo is drawn
from reduced copies while readouts and maxima keep the full-resolution values, a zoom
shows the visible part at full resolution, titles that change text but not size lay
nothing out again, and a comparison where only B changed reuses A's run."""

from __future__ import annotations

import threading
import weakref

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF

from engine import InputTransform, PipelineSpec, run_pipeline

PREWITT = np.array([[-1, 0, 1]] * 3, np.float64)
LINE_COL = 2001


def photo_with_a_line(path) -> np.ndarray:
    """A dim 3000x4000 photo with a one-pixel bright vertical line; returns it as loaded
    (grey, 0..1)."""
    rng = np.random.default_rng(7)
    pixels = (rng.random((3000, 4000)) * 20).astype(np.uint8)
    pixels[:, LINE_COL] = 255
    cv2.imwrite(str(path), pixels)
    return pixels.astype(np.float64) / 255.0


def conv_relu_at(image: np.ndarray, row: int, col: int) -> float:
    """The valid Prewitt correlation plus ReLU at one output cell, by a plain loop."""
    total = 0.0
    for i in range(3):
        for j in range(3):
            total += PREWITT[i, j] * image[row + i, col + j]
    return max(total, 0.0)


def open_photo(window, driver, qtbot, path) -> None:
    window.pipeline_controls.set_spec(PipelineSpec(levels=6))
    driver.wait()
    with qtbot.waitSignal(window.image_opened, timeout=30_000):
        window.open_file(path)
    qtbot.waitUntil(lambda: window.up_to_date()
                    and window.row.result.stages[0].shape == (3000, 4000), timeout=60_000)


def test_a_12mp_photo_is_drawn_reduced_but_read_at_full_resolution(window, driver, qtbot,
                                                                   tmp_path):
    image = photo_with_a_line(tmp_path / "line.png")
    open_photo(window, driver, qtbot, tmp_path / "line.png")
    row = window.row
    conv = row.panels[1]
    stage = conv.stage
    assert stage.shape == (2998, 3998)
    drawn = conv.image_item.image
    ratio = row.graphics.devicePixelRatioF()
    # no more pixels than the screen shows (panels are taken to have at least 256 a side)
    screen = max(256, max(p.view.width() for p in row.panels) * ratio,
                 max(p.view.height() for p in row.panels) * ratio)
    assert drawn.shape[0] < stage.shape[0] and drawn.shape[1] < stage.shape[1]
    assert max(drawn.shape) <= np.ceil(screen), (drawn.shape, screen)
    # the one-pixel line stays bright in every reduced row (a mean over the ~16 columns a
    # drawn pixel covers would make it about 16 of 255)
    assert (drawn.max(axis=1) >= 240).all()
    # the maximum: the cell left of the line, value 3 (the line's full height), at full res
    r, c, value = stage.maxima[0]
    assert c == LINE_COL - 2 and value == conv_relu_at(image, r, c) == 3.0
    box = conv.max_box.rect()
    assert box == conv.cell_rect(r, c, r + 1, c + 1)
    assert (box.width(), box.height()) == (1.0, 1.0)  # one input pixel: a full-res cell
    # hover: the readout is the full-resolution value of the hovered cell
    row.show_area(QRectF(LINE_COL - 20, 1480, 40, 40))
    qtbot.wait(50)
    x, y = conv.cell_center(1490, LINE_COL - 2)
    driver.hover(y, x, panel=1)
    want = conv_relu_at(image, 1490, LINE_COL - 2)
    qtbot.waitUntil(lambda: f"row 1490, col {LINE_COL - 2}" in window.hover_label.text())
    assert f"value {want:.4g}" in window.hover_label.text()
    x, y = conv.cell_center(1490, LINE_COL - 9)
    driver.hover(y, x, panel=1)
    want = conv_relu_at(image, 1490, LINE_COL - 9)
    qtbot.waitUntil(lambda: f"row 1490, col {LINE_COL - 9}" in window.hover_label.text())
    assert f"value {want:.4g}" in window.hover_label.text()


def test_zooming_in_draws_the_visible_part_at_full_resolution(window, driver, qtbot, tmp_path):
    photo_with_a_line(tmp_path / "line.png")
    open_photo(window, driver, qtbot, tmp_path / "line.png")
    row = window.row
    panels = row.panels[1:3]  # the convolution and the first pool
    assert all(p.reduced for p in panels)
    row.show_area(QRectF(LINE_COL - 30, 1000, 60, 60))
    qtbot.waitUntil(lambda: all(p.detail_cells is not None and p.detail_item.isVisible()
                                for p in panels), timeout=10_000)
    for panel in panels:
        r0, c0, r1, c1 = panel.detail_cells
        area = row.panels[0].view.viewRect()
        # the cells cover what the view shows of the stage
        covered = panel.cell_rect(r0, c0, r1, c1)
        assert covered.contains(area.intersected(panel.rect))
        lo, hi = panel.levels
        part = panel.stage.array[r0:r1, c0:c1].astype(np.float64)
        want = np.clip(np.floor((part - lo) * (255.0 / (hi - lo)) + 0.5), 0, 255)
        got = panel.detail_item.image
        assert got.shape == part.shape  # one drawn pixel per cell: full resolution
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1
        assert panel.detail_item.mapRectToParent(panel.detail_item.boundingRect()) == covered
    # zoomed out again: the reduced copy is enough and the part is hidden
    row.fit()
    qtbot.waitUntil(lambda: all(p.detail_cells is None and not p.detail_item.isVisible()
                                for p in panels), timeout=10_000)


class LayoutRequests(QObject):
    """Counts the layout requests a graphics layout receives."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def lit_pixel_window(window, driver, size: int = 48) -> None:
    img = np.zeros((size, size), np.float32)
    img[10, 10] = 1.0
    window.model.set_image(img)
    window.pipeline_controls.set_spec(PipelineSpec(levels=3))
    driver.wait()


def wait_compared(qtbot, window) -> None:
    rows = window.compare.rows
    qtbot.waitUntil(lambda: window.up_to_date() and rows.request_id == window.row.request_id,
                    timeout=20_000)


def test_a_drag_that_rewrites_titles_of_the_same_size_lays_nothing_out(window, driver, qtbot):
    lit_pixel_window(window, driver)
    mode = window.compare
    mode.controls.set_transform(InputTransform("shift", dy=3, dx=5))
    mode.set_active(True)
    mode.controls.signed_row.setChecked(True)
    wait_compared(qtbot, window)
    driver.drag([(10.5, 10.5), (12.5, 11.5)])
    wait_compared(qtbot, window)
    qtbot.wait(100)  # the first layouts of the rows have settled
    rows = [window.row, mode.rows.b, mode.rows.signed]
    counters = []
    for row in rows:
        counter = LayoutRequests()
        row.graphics.ci.installEventFilter(counter)
        counters.append(counter)
    titles = [[p.title + p.subtitle for p in row.panels] for row in rows]
    driver.drag([(12.5, 11.5), (15.5, 13.5), (18.5, 21.5)])
    wait_compared(qtbot, window)
    qtbot.wait(50)
    after = [[p.title + p.subtitle for p in row.panels] for row in rows]
    # the drag did rewrite titles (row B's distances, the difference rows' ranges) ...
    assert after[1] != titles[1]
    # ... and no row was laid out again
    assert [c.count for c in counters] == [0, 0, 0]
    for row, counter in zip(rows, counters, strict=True):
        row.graphics.ci.removeEventFilter(counter)
    # the titles say what the engine computed for the lit pixel where it was left
    a = run_pipeline(window.model.image.copy(), window.pipeline_controls.spec())
    assert [p.stage.shape for p in window.row.panels] == [s.shape for s in a.stages]


def test_only_b_changed_reuses_a_s_run(window, driver, qtbot):
    lit_pixel_window(window, driver)
    mode = window.compare
    mode.controls.set_transform(InputTransform("shift", dy=1, dx=0))
    mode.set_active(True)
    wait_compared(qtbot, window)
    a_before, b_before = window.row.result, mode.rows.b.result
    sent: list[object] = []  # images handed to row A's panels from now on
    for panel in window.row.panels:
        original = panel.set_image
        panel.set_image = lambda image, *a, _f=original, **k: (sent.append(image),
                                                                _f(image, *a, **k))[1]
    mode.controls.set_transform(InputTransform("shift", dy=2, dx=1))
    qtbot.waitUntil(lambda: mode.rows.b.result is not b_before, timeout=10_000)
    wait_compared(qtbot, window)
    assert window.row.result is a_before  # A was not computed again
    assert sent == []  # nor drawn again
    # B is the engine's run of the shifted input, and A still that of the canvas
    spec = window.pipeline_controls.spec()
    shifted = np.roll(window.model.image, (2, 1), axis=(0, 1))
    reference_b = run_pipeline(shifted, spec)
    for got, want in zip(mode.rows.b.result.stages, reference_b.stages, strict=True):
        np.testing.assert_array_equal(got.array, want.array)
    reference_a = run_pipeline(window.model.image.copy(), spec)
    for got, want in zip(window.row.result.stages, reference_a.stages, strict=True):
        np.testing.assert_array_equal(got.array, want.array)
    # an edit of A computes A again
    driver.drag([(10.5, 10.5), (14.5, 12.5)])
    wait_compared(qtbot, window)
    assert window.row.result is not a_before


def test_a_recompute_with_the_same_metrics_leaves_the_plot_alone(window, driver, qtbot):
    lit_pixel_window(window, driver)
    mode = window.compare
    mode.controls.set_transform(InputTransform("shift", dy=3, dx=5))
    mode.set_active(True)
    mode.plot_dock.raise_()  # its tab brought to the front
    wait_compared(qtbot, window)
    qtbot.waitUntil(lambda: mode.plot.comparison is mode.rows.view.comparison)
    plot = mode.plot
    calls: list[str] = []
    for name in ("dy", "dx", "distance", "error"):
        curve = getattr(plot, name)
        curve.setData = lambda *a, _set=curve.setData, _n=name, **k: (calls.append(_n),
                                                                      _set(*a, **k))
    axis = plot.displacement_plot.getAxis("bottom")
    axis.setTicks = lambda *a, _set=axis.setTicks, **k: (calls.append("ticks"), _set(*a, **k))
    before = plot.comparison
    # shared colour levels: a new comparison of the same runs, with the same numbers
    window.pipeline_controls.shared.setChecked(True)
    qtbot.waitUntil(lambda: plot.comparison is not before, timeout=10_000)
    assert calls == []
    distances = plot.distance.getData()[1]
    assert list(distances) == [c.distance for c in plot.comparison.stages]
    # another shift moves the peaks by other amounts: only then the curves are redrawn
    mode.controls.set_transform(InputTransform("shift", dy=1, dx=0))
    qtbot.waitUntil(lambda: mode.rows.view.comparison.transform.dx == 0, timeout=10_000)
    wait_compared(qtbot, window)
    qtbot.waitUntil(lambda: plot.comparison is mode.rows.view.comparison)
    assert {"dy", "dx"} & set(calls) and "ticks" not in calls
    moved = [c.displacement for c in plot.comparison.stages]
    assert list(plot.dy.getData()[1]) == [float(m[0]) for m in moved]
    assert list(plot.dx.getData()[1]) == [float(m[1]) for m in moved]


def test_views_drawn_before_are_freed_off_the_gui_thread(window, driver, qtbot):
    lit_pixel_window(window, driver)
    freed: list[str] = []
    old = window.row.view
    weakref.finalize(old, lambda: freed.append(threading.current_thread().name))
    del old
    for end in ((12.5, 14.5), (20.5, 30.5), (5.5, 7.5)):
        start = tuple(float(v) + 0.5 for v in np.argwhere(window.model.image)[0])
        driver.drag([start, end])
    qtbot.waitUntil(lambda: bool(freed), timeout=20_000)
    assert freed == ["shiftlab-disposer"]
    assert window.row.result.stages[1].array.shape == (46, 46)


def test_a_dock_behind_a_tab_waits_and_catches_up(window, driver, qtbot):
    """The plot behind the Metrics tab is not redrawn for every result of a drag (nobody
    sees it); selecting its tab shows the newest comparison."""
    lit_pixel_window(window, driver)
    mode = window.compare
    mode.controls.set_transform(InputTransform("shift", dy=3, dx=5))
    mode.set_active(True)
    mode.metrics_dock.raise_()
    wait_compared(qtbot, window)
    qtbot.waitUntil(lambda: mode.metrics.comparison is mode.rows.view.comparison)
    assert mode.plot_dock.isVisible()  # docked, but behind the Metrics tab
    behind = mode.plot.comparison
    mode.controls.set_transform(InputTransform("shift", dy=1, dx=2))
    wait_compared(qtbot, window)
    qtbot.waitUntil(lambda: mode.metrics.comparison is mode.rows.view.comparison)
    assert mode.plot.comparison is behind
    mode.plot_dock.raise_()
    qtbot.waitUntil(lambda: mode.plot.comparison is mode.rows.view.comparison, timeout=5_000)
    moved = [c.displacement for c in mode.plot.comparison.stages]
    assert list(mode.plot.dx.getData()[1]) == [float(m[1]) for m in moved]

