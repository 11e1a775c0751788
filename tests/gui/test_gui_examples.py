"""File > Examples: each article scenario in one click, checked against the engine."""

from __future__ import annotations

import numpy as np

from engine import EXAMPLES, InputTransform, compare_inputs, load_example


def wait_compared(qtbot, window) -> None:
    rows = window.compare.rows
    qtbot.waitUntil(lambda: window.up_to_date() and rows.request_id == window.row.request_id,
                    timeout=30_000)


def test_example_menu_lists_the_article_scenarios(window):
    texts = [a.text().replace("&", "") for a in window.compare.example_actions]
    assert texts == [f"{i} {e.title}" for i, e in enumerate(EXAMPLES.values(), start=1)]
    file_actions = window.menus["file"].actions()
    assert window.compare.examples_menu.menuAction() in file_actions


def test_example_1_pixel_gives_5_2_1_0(window, qtbot):
    window.model.set_image(np.ones((16, 16), np.float32))  # something else first
    window.compare.example_actions[0].trigger()
    wait_compared(qtbot, window)
    a, b = load_example("pixel")
    np.testing.assert_array_equal(window.model.image, a)
    assert window.pipeline_controls.spec() == EXAMPLES["pixel"].spec
    metrics = window.compare.metrics
    reference = compare_inputs(a, b, EXAMPLES["pixel"].spec, transform=InputTransform("other"))
    expected = [c.displacement for c in reference.stages]
    assert expected == [(5, 5), (2, 2), (1, 1), (0, 0)]
    assert metrics.column(3) == metrics.column(4) == ["5", "2", "1", "0"]
    window.compare.plot_dock.raise_()  # the plot catches up when it comes to the front
    qtbot.waitUntil(lambda: window.compare.plot.comparison is window.compare.view.comparison,
                    timeout=5_000)
    for curve in (window.compare.plot.dy, window.compare.plot.dx):
        x, y = curve.getData()
        np.testing.assert_array_equal(y, [5, 2, 1, 0])
        np.testing.assert_array_equal(x, [0, 1, 2, 3])
    ticks = window.compare.plot.displacement_plot.getAxis("bottom")._tickLevels
    assert [t[1] for t in ticks[0]] == ["input", "pool 1", "pool 2", "pool 3"]
    np.testing.assert_array_equal(window.compare.rows.b.result.stages[0].array, b)
    window.actions_by_name["undo"].trigger()  # loading an example is undoable
    np.testing.assert_array_equal(window.model.image, np.ones((16, 16), np.float32))


def test_example_mirror_shows_the_note(window, qtbot):
    window.compare.load_example("mirror")
    wait_compared(qtbot, window)
    a, b = load_example("mirror")
    spec = EXAMPLES["mirror"].spec
    reference = compare_inputs(a, None, spec, transform=InputTransform("mirror"))
    np.testing.assert_array_equal(reference.b["input"].array, b)
    assert window.compare.controls.kind_name() == "mirror"
    assert window.compare.metrics.note.text() == reference.note
    assert window.compare.metrics.column(2) == [f"{c.distance:.4f}" for c in reference.stages]
    assert window.row.result.stages[-1].shape == (6, 9)  # the article's 400x600 photo


def test_example_two_photos_and_shift(window, qtbot):
    window.compare.load_example("two-photos")
    wait_compared(qtbot, window)
    a, b = load_example("two-photos")
    assert window.compare.controls.kind_name() == "other"
    assert window.compare.rows.b.result.stages[0].shape == b.shape
    reference = compare_inputs(a, b, EXAMPLES["two-photos"].spec,
                               transform=InputTransform("other"))
    assert window.compare.metrics.column(2) == [f"{c.distance:.4f}" for c in reference.stages]

    window.compare.load_example("shift")
    wait_compared(qtbot, window)
    a, b = load_example("shift")
    controls = window.compare.controls
    assert controls.kind_name() == "shift" and (controls.dy.value(), controls.dx.value()) == (0, 1)
    reference = compare_inputs(a, b, EXAMPLES["shift"].spec,
                               transform=InputTransform("shift", dy=0, dx=1))
    assert window.compare.metrics.column(2) == [f"{c.distance:.4f}" for c in reference.stages]
    assert window.compare.metrics.column(5)[0] == f"{reference.stages[0].equivariance_error:.4f}"
    assert window.compare.metrics.column(5)[2].startswith("n/a: shift not a multiple of S")


def test_the_last_one_cell_level_of_example_1_is_drawn_lit_and_marked(window, qtbot):
    window.compare.example_actions[0].trigger()
    wait_compared(qtbot, window)
    for row in (window.row, window.compare.rows.b):
        panel = row.panels[-1]
        assert panel.stage.name == "pool 3" and panel.stage.array.tolist() == [[1.0]]
        assert panel.image_item.image.tolist() == [[255]]  # the top of the colour range
        assert panel.max_box.isVisible()
