"""Figure drawing: crisp nearest-neighbour pixels, markers, SVG with the embedded image,
and drawing off the GUI thread."""

from __future__ import annotations

import base64
import threading
import xml.etree.ElementTree as ET

import cv2
import numpy as np
import pytest

from figures import drawing as figures
from figures.drawing import Panel, SheetRow

SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def _rgba(image) -> np.ndarray:
    return figures.qimage_to_rgba(image)


def _opaque_block(rgba: np.ndarray) -> tuple[slice, slice]:
    """Rows and columns of the image drawn on a transparent panel: the rows that are
    opaque over most of the width (title text is not), and their opaque columns."""
    opaque = rgba[:, :, 3] == 255
    rows = np.flatnonzero(opaque.sum(axis=1) > rgba.shape[1] // 3)
    cols = np.flatnonzero(opaque[rows].all(axis=0))
    assert rows.size and cols.size
    assert np.all(np.diff(rows) == 1) and np.all(np.diff(cols) == 1)
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _plain_grey(arr: np.ndarray, height: int, width: int) -> np.ndarray:
    """Grey picture written plainly, min..max of `arr` -> 0..255: enlarged by nearest
    neighbour (pixel (y, x) shows cell (floor(y * rows / height), floor(x * cols /
    width))); larger than the picture, each pixel shows the mean of the whole block of
    cells it covers (sides that divide exactly)."""
    lo, hi = float(arr.min()), float(arr.max())
    rows, cols = arr.shape
    out = np.zeros((height, width), np.uint8)
    for y in range(height):
        for x in range(width):
            if rows > height or cols > width:
                by, bx = rows // height, cols // width
                v = float(np.mean(arr[y * by:(y + 1) * by, x * bx:(x + 1) * bx], dtype=np.float64))
            else:
                v = arr[y * rows // height, x * cols // width]
            out[y, x] = int(np.floor((v - lo) / (hi - lo) * 255 + 0.5))
    return out


def test_colorize_is_plain_nearest_neighbour_grey():
    arr = np.array([[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]])
    for h, w in ((30, 40), (7, 9), (3, 4)):
        rgba = figures.colorize(arr, w, h)
        assert rgba.shape == (h, w, 4) and np.all(rgba[:, :, 3] == 255)
        expected = _plain_grey(arr, h, w)
        for ch in range(3):
            assert np.array_equal(rgba[:, :, ch], expected)


def test_colorize_reduces_a_large_input_by_area():
    arr = np.random.default_rng(1).random((500, 700)).astype(np.float32)
    rgba = figures.colorize(arr, 70, 50)
    assert np.abs(rgba[:, :, 0].astype(int) - _plain_grey(arr, 50, 70)).max() <= 1


def _block(arr: np.ndarray, by: int, bx: int, how) -> np.ndarray:
    rows, cols = arr.shape[0] // by, arr.shape[1] // bx
    return np.array([[how(arr[r * by:(r + 1) * by, c * bx:(c + 1) * bx]) for c in range(cols)]
                     for r in range(rows)], np.float32)


def test_reductions_against_plain_block_loops():
    arr = np.random.default_rng(3).normal(size=(60, 90)).astype(np.float32)
    np.testing.assert_array_equal(figures.reduce_to(arr, 30, 20, "max"),
                                  _block(arr, 3, 3, np.max))
    np.testing.assert_allclose(figures.reduce_to(arr, 30, 20, "area"),
                               _block(arr, 3, 3, np.mean), atol=1e-6)
    np.testing.assert_array_equal(figures.reduce_to(arr, 30, 20, "largest magnitude"),
                                  _block(arr, 3, 3, lambda b: b.flat[np.argmax(np.abs(b))]))


def test_a_12_mp_conv_panel_keeps_its_thin_edges(qapp):
    # one-pixel-wide bright lines, as an edge kernel after ReLU gives on a photo
    conv = np.zeros((3000, 4000), np.float32)
    conv[::97, :] = 1.0
    conv[:, ::89] = 1.0
    image = figures.render(figures.panel_drawing(Panel("Conv (3000, 4000)", conv,
                                                       colormap="viridis"), 400),
                           "transparent")
    rgba = _rgba(image)
    rows, cols = _opaque_block(rgba)
    block = rgba[rows, cols, :3].astype(int)
    yellow = np.all(np.abs(block - [253, 231, 36]) <= 40, axis=2)  # viridis' top colour
    # every line survives: a bright pixel in each row band and column band of the panel
    height, width = yellow.shape
    for r in range(0, 3000, 97):
        assert yellow[r * height // 3000].any()
    for c in range(0, 4000, 89):
        assert yellow[:, c * width // 4000].any()
    # nearest-neighbour sampling kept about 1 line in 10 (the pixels landing on a line)
    sampled = conv[(np.arange(height) * 3000) // height][:, (np.arange(width) * 4000) // width]
    assert yellow.mean() > 3 * (sampled > 0).mean()


def test_levels_saturate_and_viridis_is_the_windows_table():
    import pyqtgraph as pg

    arr = np.array([[-0.5, 0.0, 0.5, 1.0, 2.0]], np.float32)
    grey = figures.colorize(arr, 5, 1, levels=(0.0, 1.0))[0, :, 0]
    assert grey.tolist() == [0, 0, 128, 255, 255]
    ramp = np.arange(256, dtype=np.float32)[None, :]
    table = pg.colormap.get("viridis").getLookupTable(0.0, 1.0, 256, alpha=False)
    assert np.array_equal(figures.colorize(ramp, 256, 1, colormap="viridis")[0, :, :3], table)
    with pytest.raises(ValueError, match="colormap"):
        figures.colorize(arr, 5, 1, colormap="jet")


def test_signed_colours_are_symmetric_about_zero():
    arr = np.array([[-2.0, 0.0, 2.0]])
    rgba = figures.colorize(arr, 3, 1, colormap="diverging")
    assert tuple(rgba[0, 1, :3]) == (247, 247, 247)  # zero is (nearly) white
    assert rgba[0, 0, 2] > rgba[0, 0, 0]  # negative: blue
    assert rgba[0, 2, 0] > rgba[0, 2, 2]  # positive: red
    assert tuple(figures.colorize(np.zeros((1, 1)), 1, 1, colormap="diverging")[0, 0, :3]) == \
        (247, 247, 247)


def test_panel_pixels_are_exact_squares(qapp):
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    image = figures.render(figures.panel_drawing(Panel("Pool 2 (3, 4)", arr), 300),
                           "transparent")
    assert image.width() == 300
    rgba = _rgba(image)
    rows, cols = _opaque_block(rgba)
    block = rgba[rows, cols, 0]
    h, w = block.shape
    assert h % 3 == 0 and w % 4 == 0 and h // 3 == w // 4  # same whole size per cell
    side = h // 3
    for r in range(3):
        for c in range(4):
            cell = block[r * side:(r + 1) * side, c * side:(c + 1) * side]
            assert np.all(cell == round(arr[r, c] / 11 * 255))  # uniform: never smoothed


def test_panel_of_a_large_input_is_reduced_by_area(qapp):
    arr = np.random.default_rng(2).random((400, 600)).astype(np.float32)
    image = figures.render(figures.panel_drawing(Panel("Input (400, 600)", arr), 200),
                           "transparent")
    rgba = _rgba(image)
    rows, cols = _opaque_block(rgba)
    block = rgba[rows, cols, 0]
    reference = figures.colorize(figures.reduce_to(arr, block.shape[1], block.shape[0],
                                                   "area"), block.shape[1], block.shape[0],
                                 levels=(float(arr.min()), float(arr.max())))[:, :, 0]
    assert np.array_equal(block, reference)


def _near(rgba: np.ndarray, colour, tol: int = 40) -> np.ndarray:
    return np.all(np.abs(rgba[:, :, :3].astype(int) - np.array(colour)) <= tol, axis=2)


def test_markers_sit_on_the_maxima(qapp):
    arr = np.zeros((8, 8), np.float32)
    arr[1, 6], arr[6, 1] = 1.0, 0.5
    maxima = [(1, 6, 1.0), (6, 1, 0.5)]
    image = figures.render(figures.panel_drawing(Panel("t", arr, maxima), 400), "white")
    rgba = _rgba(image)
    rows, cols = _opaque_block(_rgba(figures.render(
        figures.panel_drawing(Panel("t", arr), 400), "transparent")))
    cell = (rows.stop - rows.start) / 8

    def around(r: int, c: int, mask: np.ndarray) -> int:
        y, x = int(rows.start + (r + 0.5) * cell), int(cols.start + (c + 0.5) * cell)
        half = int(cell)
        return int(mask[y - half:y + half, x - half:x + half].sum())

    first = _near(rgba, figures.GLOBAL_MARK.getRgb()[:3])  # the global maximum's colour
    other = _near(rgba, figures.OTHER_MARK.getRgb()[:3])
    assert around(1, 6, first) > 20 and around(6, 1, first) == 0
    assert around(6, 1, other) > 10 and around(1, 6, other) == 0
    assert around(4, 4, first) == 0 and around(4, 4, other) == 0


def test_constant_map_gets_no_marker(qapp):
    arr = np.zeros((4, 4), np.float32)
    image = figures.render(figures.panel_drawing(Panel("t", arr, [(0, 0, 0.0)]), 200), "white")
    assert not _near(_rgba(image), figures.GLOBAL_MARK.getRgb()[:3]).any()


def test_svg_embeds_the_png_pixels_and_the_title(qapp, tmp_path):
    arr = np.random.default_rng(3).random((5, 7)).astype(np.float32)
    drawing = figures.panel_drawing(Panel("Pool 3 (5, 7)", arr, [(0, 0, 1.0)]), 350)
    path = tmp_path / "p.svg"
    figures.write_svg(path, drawing)
    root = ET.parse(path).getroot()
    assert root.get("viewBox") == f"0 0 {drawing.width} {drawing.height}"
    images = root.findall(f".//{SVG}image")
    assert len(images) == 1
    href = images[0].get(XLINK_HREF)
    assert href.startswith("data:image/png;base64,")
    embedded = cv2.imdecode(np.frombuffer(base64.b64decode(href.split(",", 1)[1]), np.uint8),
                            cv2.IMREAD_UNCHANGED)
    h, w = int(float(images[0].get("height"))), int(float(images[0].get("width")))
    assert embedded.shape[:2] == (h, w)
    assert np.array_equal(embedded[:, :, 2], _plain_grey(arr, h, w))  # BGR: red channel
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "Pool 3 (5, 7)" in texts


def test_sheet_lays_out_rows_and_rejects_tiny_widths(qapp):
    panels = [Panel(f"s{i}", np.eye(4, dtype=np.float32)) for i in range(3)]
    one = figures.sheet_drawing([SheetRow("A", panels)], 600)
    two = figures.sheet_drawing([SheetRow("A", panels), SheetRow("B", [None, *panels[1:]])], 600)
    assert one.width == two.width == 600 and two.height > one.height
    assert figures.render(two).width() == 600
    with pytest.raises(ValueError, match="too small"):
        figures.sheet_drawing([SheetRow("A", panels * 20)], 100, columns=len(panels) * 20)
    with pytest.raises(ValueError, match="at least one panel"):
        figures.sheet_drawing([SheetRow("A", [None])], 600)
    with pytest.raises(ValueError, match="background"):
        figures.render(one, "black")


def test_drawing_off_the_gui_thread_gives_the_same_pixels(qapp, tmp_path):
    arr = np.random.default_rng(4).random((30, 40)).astype(np.float32)
    drawing = figures.sheet_drawing([SheetRow("A", [Panel("x (30, 40)", arr, [(1, 2, 0.9)])])],
                                    400, "caption")
    expected = _rgba(figures.render(drawing))
    out: dict = {}

    def work() -> None:
        try:
            out["rgba"] = _rgba(figures.render(drawing))
            figures.write_svg(tmp_path / "t.svg", drawing)
        except BaseException as exc:  # reported below on the test thread
            out["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert not thread.is_alive() and "error" not in out, out.get("error")
    assert np.array_equal(out["rgba"], expected)
    ET.parse(tmp_path / "t.svg")


def test_sweep_plot_draws_every_stage(qapp):
    plot = figures.SweepPlot([0, 1, 2, 3], ["input", "pool 1"],
                             np.array([[0, 0], [0.2, 0.5], [0.4, np.nan], [0.6, 0.1]]),
                             "title", "shift", "distance")
    rgba = _rgba(figures.render(figures.plot_drawing(plot, 500)))
    assert rgba.shape[:2] == (300, 500)
    for colour in figures.PLOT_COLORS[:2]:
        rgb = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert _near(rgba, rgb, 10).sum() > 50


def test_svg_renders_back_to_the_png_pixels(qapp, tmp_path):
    from PySide6.QtGui import QColor, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    arr = np.random.default_rng(6).random((9, 13)).astype(np.float32)
    drawing = figures.panel_drawing(Panel("Pool 1 (9, 13)", arr), 260)
    figures.write_svg(tmp_path / "p.svg", drawing, "transparent")
    renderer = QSvgRenderer(str(tmp_path / "p.svg"))
    assert renderer.isValid()
    back = QImage(drawing.width, drawing.height, QImage.Format.Format_ARGB32_Premultiplied)
    back.fill(QColor(0, 0, 0, 0))
    painter = QPainter(back)
    renderer.render(painter)
    painter.end()
    png = _rgba(figures.render(drawing, "transparent"))
    rows, cols = _opaque_block(png)
    assert np.array_equal(_rgba(back)[rows, cols], png[rows, cols])


def test_a_constant_map_is_drawn_with_its_value_not_the_low_end():
    one = figures.colorize(np.ones((1, 1), np.float32), 4, 4, colormap="viridis")
    zero = figures.colorize(np.zeros((1, 1), np.float32), 4, 4, colormap="viridis")
    ramp = figures.colorize(np.array([[0.0, 1.0]], np.float32), 8, 4, colormap="viridis")
    np.testing.assert_array_equal(one[0, 0], ramp[0, -1])  # 1 in 0..1: the top colour
    np.testing.assert_array_equal(zero[0, 0], ramp[0, 0])
