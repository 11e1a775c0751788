"""Panel titles: the fitted size is the largest that fits, as a plain step-by-step search
finds it, and a drag that rewrites titles lays nothing out again."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetricsF

from gui.panels.stage_panel import fitted_line


def plain_fit(text: str, font: QFont, size: float, smallest: float,
              width: float) -> tuple[str, float]:
    """Every half point from `size` down, measured with a fresh font each time."""
    step = size
    while True:
        sized = QFont(font)
        sized.setPointSizeF(step)
        metrics = QFontMetricsF(sized)
        if metrics.horizontalAdvance(text) <= width:
            return text, step
        if step - 0.5 < smallest:
            return metrics.elidedText(text, Qt.TextElideMode.ElideRight, width), step
        step -= 0.5


def test_fitted_line_equals_the_plain_search(qapp):
    rng = np.random.default_rng(3)
    words = ["Pool", "3", "·", "d", "0.123", "Δ(1, -2)", "= 4,8 px", "err", "n/a,",
             "S=8", "(tie)", "Convolution", "−0.5 … 1.25", "shared", "ReLU"]
    font = QFont()
    seen_sizes = set()
    for _ in range(400):
        text = " ".join(rng.choice(words, size=rng.integers(1, 9)))
        width = float(rng.uniform(20, 260))
        for size, smallest in ((11.0, 8.0), (8.0, 7.0)):
            got = fitted_line(text, font, size, smallest, width)
            assert got == plain_fit(text, font, size, smallest, width), (text, width)
            seen_sizes.add(got[1])
    assert len(seen_sizes) >= 6  # the cases cover full size, shrunk and elided lines


def test_a_drag_rewrites_titles_without_a_layout(window, driver, qtbot):
    """Titles and subtitles change with every result of a stroke; the panels' places do
    not."""
    from PySide6.QtCore import QEvent

    from engine import InputTransform

    window.model.set_image(np.random.default_rng(4).random((24, 24)).astype(np.float32) / 2)
    window.compare.controls.set_transform(InputTransform("shift", dy=1, dx=2))
    window.compare.set_active(True)
    driver.wait()
    qtbot.wait(300)  # the docks and rows settle
    panels = [*window.row.panels, *window.compare.rows.b.panels]
    before = [p.view.sceneBoundingRect() for p in panels]
    texts = [(p.title, p.subtitle) for p in panels]
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    driver.send(QEvent.Type.MouseButtonPress, 5.5, 5.5, left, left)  # paints the value 1
    for col in (7.5, 9.5, 11.5, 13.5):
        driver.send(QEvent.Type.MouseMove, 5.5 + col / 2, col, none, left)
        driver.wait()
    driver.send(QEvent.Type.MouseButtonRelease, 12.0, 13.5, left, none)
    driver.wait()
    changed = sum(t != (p.title, p.subtitle) for t, p in zip(texts, panels, strict=True))
    assert changed >= len(panels) // 2  # the texts did change
    after = [p.view.sceneBoundingRect() for p in panels]
    assert after == before


def test_indexed_image_item_draws_what_pyqtgraph_draws(qapp):
    """The panels' image item shows a uint8 image through a lookup table exactly as
    pyqtgraph's own rendering does, for a contiguous image and a strided view."""
    import pyqtgraph as pg
    from PySide6.QtGui import QImage

    from gui.panels.stage_panel import IndexedImageItem, colormap_lut

    rng = np.random.default_rng(8)
    base = rng.integers(0, 256, (37, 53), dtype=np.uint8)
    for image in (base, base[::2, 1::3]):
        for name in ("viridis", "grey", "magma"):
            lut = colormap_lut(name)
            ours, theirs = IndexedImageItem(), pg.ImageItem()
            for item in (ours, theirs):
                item.setImage(image, levels=(0, 255), lut=lut, autoLevels=False)
                item.render()
            assert ours.qimage.format() == QImage.Format.Format_Indexed8
            a = ours.qimage.convertToFormat(QImage.Format.Format_RGB32)
            b = theirs.qimage.convertToFormat(QImage.Format.Format_RGB32)
            assert (a.width(), a.height()) == (image.shape[1], image.shape[0])
            assert a == b, name
            # and each pixel is the lookup table's colour of its value
            r, c = 5, 7
            assert a.pixelColor(c, r).getRgb()[:3] == tuple(int(v) for v in lut[image[r, c]])


def test_indexed_image_item_leaves_other_images_to_pyqtgraph(qapp):
    from PySide6.QtGui import QImage

    from gui.panels.stage_panel import IndexedImageItem

    item = IndexedImageItem()
    item.setImage(np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5), levels=(0, 1))
    item.render()
    assert item.qimage is not None and item.qimage.format() != QImage.Format.Format_Indexed8


def test_rearranged_panels_are_laid_out_once_where_item_by_item_puts_them(window, driver,
                                                                       qtbot, monkeypatch):
    """A row re-placing its 8 panels (titles, views, bars) activates its layout once, and
    the panels land exactly where pyqtgraph's activation after every item puts them."""
    from contextlib import nullcontext

    import gui.panels.pipeline_row as pipeline_row
    from engine import PipelineSpec

    window.pipeline_controls.set_spec(PipelineSpec(levels=6))
    window.model.set_image(np.zeros((300, 400), np.float32))
    driver.wait()
    row = window.row
    layout = row.graphics.ci.layout
    activations: list[int] = []
    real = layout.activate
    monkeypatch.setattr(type(layout), "activate",
                        lambda self: (activations.append(1), real())[1], raising=True)
    row._arrange(force=True)
    once = [p.view.geometry() for p in row.panels] + [p.label.geometry() for p in row.panels]
    assert len(row.panels) == 8 and len(activations) == 1
    monkeypatch.setattr(pipeline_row, "laid_out_once", lambda _layout: nullcontext())
    activations.clear()
    row._arrange(force=True)
    assert len(activations) >= 24  # one per title, view and bar placed
    each = [p.view.geometry() for p in row.panels] + [p.label.geometry() for p in row.panels]
    assert once == each
