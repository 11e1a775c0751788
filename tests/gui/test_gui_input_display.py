"""The Input panel of a large photo: drawn from a copy reduced to the panel's pixels (made
with the file, updated where a stroke paints), at full resolution where a zoom needs it,
while painting, hover readouts and states keep the canvas' own pixels and coordinates."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt

from engine import PipelineSpec
from engine.display import reduce_to, to_uint8

SHIFT = Qt.KeyboardModifier.ShiftModifier


def write_photo(path, rows: int = 2000, cols: int = 3000) -> np.ndarray:
    """A smooth random grey photo written as PNG; returns it as loaded (0..1 float32)."""
    rng = np.random.default_rng(3)
    pixels = cv2.GaussianBlur((rng.random((rows, cols)) * 255).astype(np.uint8), (0, 0), 2)
    cv2.imwrite(str(path), pixels)
    return pixels.astype(np.float32) / 255.0


def open_photo(window, driver, qtbot, path) -> None:
    window.pipeline_controls.set_spec(PipelineSpec(levels=3))
    driver.wait()
    with qtbot.waitSignal(window.image_opened, timeout=30_000):
        window.open_file(path)
    shape = window.model.shape
    qtbot.waitUntil(lambda: window.up_to_date()
                    and window.row.result.stages[0].shape == shape, timeout=60_000)


def engine_reduction(canvas: np.ndarray, drawn_shape: tuple[int, int]) -> np.ndarray:
    """The engine's area reduction of the canvas' whole blocks to `drawn_shape`, in uint8."""
    rows, cols = drawn_shape
    f = canvas.shape[0] // rows
    return to_uint8(reduce_to(canvas[:rows * f, :cols * f], cols, rows, "area"), 0.0, 1.0)


def block_means(canvas: np.ndarray, f: int) -> np.ndarray:
    """A plain reference: the mean of every whole f x f block, as 0..255."""
    rows, cols = canvas.shape[0] // f, canvas.shape[1] // f
    blocks = canvas[:rows * f, :cols * f].astype(np.float64).reshape(rows, f, cols, f)
    return blocks.mean(axis=(1, 3)) * 255.0


def pointer_at(window, driver, row: float, col: float) -> tuple[float, float]:
    """Where the pointer the driver sends for (row, col) is, in canvas coordinates: the
    integer widget position mapped back through the view, as the user sees it."""
    graphics = window.row.graphics
    local = driver.widget_pos(row, col)
    view = window.row.input_panel.view.mapSceneToView(graphics.mapToScene(local))
    return view.y(), view.x()


def under(pixel: int, coord: float) -> bool:
    """True if canvas coordinate `coord` lies on pixel `pixel` (either side of a border,
    which float arithmetic may put a hair to one side or the other)."""
    return pixel - 1e-6 <= coord <= pixel + 1 + 1e-6


def wait_detail(qtbot, window, factor: int) -> None:
    shown = window.input_display
    qtbot.waitUntil(lambda: shown.detail.isVisible() and shown.detail_blocks is not None
                    and shown.detail_blocks[0] == factor, timeout=10_000)


def detail_matches_canvas(window) -> None:
    """The detail shows the canvas' blocks it claims, where it claims them."""
    shown = window.input_display
    k, r0, c0, r1, c1 = shown.detail_blocks
    canvas = window.model.image
    got = shown.detail.image
    if k == 1:
        np.testing.assert_array_equal(got, to_uint8(canvas[r0:r1, c0:c1], 0.0, 1.0))
    else:
        want = block_means(canvas[r0 * k:r1 * k, c0 * k:c1 * k], k)
        assert np.abs(got.astype(float) - want).max() <= 0.5 + 1e-4
    placed = shown.detail.mapRectToParent(shown.detail.boundingRect())
    assert placed == QRectF(c0 * k, r0 * k, (c1 - c0) * k, (r1 - r0) * k)


def test_a_large_photo_is_drawn_reduced_to_the_panel(window, driver, qtbot, tmp_path):
    photo = write_photo(tmp_path / "photo.png")
    open_photo(window, driver, qtbot, tmp_path / "photo.png")
    canvas = window.model.image
    np.testing.assert_allclose(canvas, photo, atol=1e-6)  # the canvas keeps every pixel
    drawn = window.canvas_item.image
    rows, cols = window.row.panel_pixels()
    # no more drawn pixels than the largest panel has, the same factor on both sides
    assert drawn.dtype == np.uint8 and drawn.shape[0] <= rows and drawn.shape[1] <= cols
    f = canvas.shape[0] // drawn.shape[0]
    assert f > 1 and canvas.shape[1] // f == drawn.shape[1]
    np.testing.assert_array_equal(drawn, engine_reduction(canvas, drawn.shape))
    assert np.abs(drawn - block_means(canvas, f)).max() <= 0.5 + 1e-4
    # stretched over the canvas' place, as the other panels over theirs
    item = window.canvas_item
    assert item.mapRectToParent(item.boundingRect()) == QRectF(0, 0, 3000, 2000)
    assert not window.input_display.detail.isVisible()
    # the hover readout is the canvas' full-resolution value
    driver.hover(1234.5, 2345.5)
    y, x = pointer_at(window, driver, 1234.5, 2345.5)
    qtbot.waitUntil(lambda: "row " in window.hover_label.text())
    r, c = map(int, re.search(r"row (\d+), col (\d+)", window.hover_label.text()).groups())
    assert under(r, y) and under(c, x)
    assert f"value {canvas[r, c]:.4g}" in window.hover_label.text()


def test_painting_edits_the_canvas_and_redraws_the_blocks(window, driver, qtbot, tmp_path):
    write_photo(tmp_path / "photo.png")
    open_photo(window, driver, qtbot, tmp_path / "photo.png")
    before = window.model.image.copy()
    drawn_before = window.canvas_item.image.copy()
    points = [(300.5, 400.5), (300.5, 700.5), (900.5, 700.5)]
    driver.drag(points, modifiers=SHIFT)  # Shift: paint, even on a lit photo
    after = window.model.image
    changed = np.argwhere(after != before)
    assert len(changed) > 100 and set(np.unique(after[after != before])) == {1.0}
    # the stroke spans the canvas pixels under the pointer
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    corners = [pointer_at(window, driver, *p) for p in points]
    assert under(top, min(y for y, _ in corners)) and under(bottom, max(y for y, _ in corners))
    assert under(left, min(x for _, x in corners)) and under(right, max(x for _, x in corners))
    # the drawn copy is the reduction of the new canvas, changed only in the touched blocks
    drawn = window.canvas_item.image
    np.testing.assert_array_equal(drawn, engine_reduction(after, drawn.shape))
    f = after.shape[0] // drawn.shape[0]
    moved = np.argwhere(drawn != drawn_before)
    assert len(moved) and (moved.min(axis=0) >= (top // f, left // f)).all()
    assert (moved.max(axis=0) <= (bottom // f, right // f)).all()
    # the pipeline ran on the full-resolution canvas
    driver.wait()
    np.testing.assert_array_equal(window.row.result.stages[0].array, after)
    # undo puts the pixels and the drawn copy back
    window.actions_by_name["undo"].trigger()
    np.testing.assert_array_equal(window.model.image, before)
    np.testing.assert_array_equal(window.canvas_item.image, drawn_before)


def test_zooming_in_draws_the_visible_part_finer(window, driver, qtbot, tmp_path):
    write_photo(tmp_path / "photo.png")
    open_photo(window, driver, qtbot, tmp_path / "photo.png")
    row = window.row
    shown = window.input_display
    # close in: one canvas pixel covers several screen pixels, drawn at full resolution
    row.show_area(QRectF(1500, 1000, 40, 30))
    wait_detail(qtbot, window, 1)
    detail_matches_canvas(window)
    k, r0, c0, r1, c1 = shown.detail_blocks
    seen = row.input_panel.view.viewRect().intersected(QRectF(0, 0, 3000, 2000))
    assert QRectF(c0, r0, c1 - c0, r1 - r0).contains(seen)
    assert (r1 - r0) * (c1 - c0) < 100 * 100  # the visible part, not the whole canvas
    # a dab where the pointer is edits exactly that pixel, and the detail shows it
    before = window.model.image.copy()
    driver.drag([(1012.5, 1517.5)], modifiers=SHIFT)
    after = window.model.image
    assert np.argwhere(after != before).tolist() == [[1012, 1517]] and after[1012, 1517] == 1
    assert shown.detail.image[1012 - r0, 1517 - c0] == 255
    detail_matches_canvas(window)
    drawn = window.canvas_item.image
    np.testing.assert_array_equal(drawn, engine_reduction(after, drawn.shape))
    # halfway out: a copy between the two, still finer than the one drawn whole
    base = after.shape[0] // drawn.shape[0]
    row.show_area(QRectF(1000, 600, 1000, 750))
    qtbot.waitUntil(lambda: shown.detail_blocks is not None
                    and 1 < shown.detail_blocks[0] < base, timeout=10_000)
    detail_matches_canvas(window)
    # all the way out: the reduced copy is enough again
    row.fit()
    qtbot.waitUntil(lambda: not shown.detail.isVisible() and shown.detail_blocks is None,
                    timeout=10_000)


def test_small_canvases_are_drawn_whole(window, driver):
    for size in (10, 28, 64):
        img = np.zeros((size, size), np.float32)
        img[size // 3, size // 2] = 1.0
        img[-1, 0] = 0.5
        window.model.set_image(img)
        driver.wait()
        np.testing.assert_array_equal(window.canvas_item.image, to_uint8(img, 0.0, 1.0))
        assert not window.input_display.detail.isVisible()
        window.row.show_area(QRectF(0, 0, 3, 3))  # zoomed in: nothing drawn over it
        window.row.fit()
        assert window.input_display.detail_blocks is None


def test_a_state_shares_the_canvas_until_the_canvas_is_written(window, driver):
    """A state keeps the pixels it was made with; taking it costs no copy, and the canvas
    copies its pixels before a write only while such a state is held."""
    model = window.model
    img = np.zeros((20, 30), np.float32)
    img[5, 6] = 1.0
    model.set_image(img)
    driver.wait()
    state = window.current_state()
    assert np.shares_memory(state.a.pixels, model.image)  # no copy taken
    driver.drag([(10.5, 12.5)], modifiers=SHIFT)
    assert model.image[10, 12] == 1.0 and state.a.pixels[10, 12] == 0.0
    assert not np.shares_memory(state.a.pixels, model.image)
    np.testing.assert_array_equal(state.a.pixels, img)
    # a state made and dropped leaves the canvas written in place
    address = model.image.ctypes.data  # (holding the array itself would hold a share)
    window.current_state()
    driver.drag([(11.5, 12.5)], modifiers=SHIFT)
    assert model.image.ctypes.data == address and model.image[11, 12] == 1.0
    # undo of the stroke writes in place as well, and keeps a held state intact
    state = window.current_state()
    window.actions_by_name["undo"].trigger()
    assert model.image[11, 12] == 0.0 and state.a.pixels[11, 12] == 1.0


def test_a_press_on_a_reduced_copy_picks_the_pixel_under_the_pointer(window, driver, qtbot,
                                                                     tmp_path):
    """Painting goes to the canvas pixel under the pointer whatever copy is drawn."""
    write_photo(tmp_path / "photo.png")
    open_photo(window, driver, qtbot, tmp_path / "photo.png")
    item = window.canvas_item
    assert item.image.shape != window.model.shape
    for point in ((10.5, 20.5), (1985.5, 2985.5), (1000.5, 1500.5)):
        before = window.model.image.copy()
        driver.drag([point], modifiers=SHIFT)
        y, x = pointer_at(window, driver, *point)
        changed = np.argwhere(window.model.image != before).tolist()
        assert len(changed) == 1 and under(changed[0][0], y) and under(changed[0][1], x)
        r, c = changed[0]
        scene = window.row.input_panel.view.mapViewToScene(QPointF(c + 0.5, r + 0.5))
        local = item.mapFromScene(scene)
        assert item._pixel(local) == pytest.approx((r + 0.5, c + 0.5), abs=1e-9)


def test_what_a_left_drag_does_follows_the_lit_count_through_edits(window, driver):
    """Sparse (a press moves a lit pixel) at most a quarter lit, counted through edits."""
    model, item = window.model, window.canvas_item
    img = np.zeros((20, 20), np.float32)
    img[:5] = 1.0  # exactly a quarter lit
    model.set_image(img)
    driver.wait()
    assert item.left_drag_mode() == "move"
    driver.drag([(10.5, 3.5)], modifiers=SHIFT)  # one more lit pixel
    assert np.count_nonzero(model.image) == 101 and item.left_drag_mode() == "paint"
    driver.drag([(0.5, 0.5), (0.5, 1.5)], button=Qt.MouseButton.RightButton)  # erase two
    assert np.count_nonzero(model.image) == 99 and item.left_drag_mode() == "move"
    window.actions_by_name["undo"].trigger()
    assert item.left_drag_mode() == "paint"
    # a large photo is counted only until it is clearly not sparse; erasing most of it
    # with strokes makes it sparse all the same
    model.set_image(np.ones((256, 4096), np.float32))
    assert not model.is_sparse()
    model.begin_stroke()
    for top in range(0, 256, 16):
        model.paint_line(top + 7, 0, top + 7, 4095, 0.0, size=16)  # rows top .. top + 15
        assert model.is_sparse() == (np.count_nonzero(model.image) <= 0.25 * model.image.size)
    model.end_stroke()
    assert model.is_sparse() and np.count_nonzero(model.image) == 0


def test_undoing_an_open_brings_the_canvas_back_without_a_copy(window, driver, qtbot,
                                                               tmp_path):
    model = window.model
    img = np.zeros((300, 400), np.float32)
    img[100:110, 200:210] = 0.75
    model.set_image(img)
    driver.wait()
    before = model.image
    address = before.ctypes.data
    del before
    photo = write_photo(tmp_path / "photo.png")
    open_photo(window, driver, qtbot, tmp_path / "photo.png")
    window.actions_by_name["undo"].trigger()
    driver.wait()
    # the very array the open replaced, not a copy of it
    assert model.image.ctypes.data == address
    np.testing.assert_array_equal(model.image, img)
    np.testing.assert_array_equal(window.canvas_item.image, to_uint8(img, 0.0, 1.0))
    window.actions_by_name["redo"].trigger()
    np.testing.assert_allclose(model.image, photo, atol=1e-6)
    window.actions_by_name["undo"].trigger()
    assert model.image.ctypes.data == address
    np.testing.assert_array_equal(model.image, img)
    # nothing else holds it now: a stroke writes it in place
    driver.drag([(50.5, 60.5)], modifiers=SHIFT)
    assert model.image.ctypes.data == address
    assert np.count_nonzero(model.image != img) == 1 and model.image.max() == 1.0
    # a state still held when the canvas is written keeps its pixels
    want = model.image.copy()
    state = window.current_state()
    driver.drag([(120.5, 150.5)], modifiers=SHIFT)
    np.testing.assert_array_equal(state.a.pixels, want)
    assert np.count_nonzero(model.image != want) == 1
    window.actions_by_name["undo"].trigger()
    np.testing.assert_array_equal(model.image, want)
