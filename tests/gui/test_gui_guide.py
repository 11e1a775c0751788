"""Help > Guide end to end: every step is set up in the real window, its task is done with
mouse and keyboard events, and the step acknowledges it with the numbers the engine gives."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from engine import run_pipeline, run_state
from engine.guide_steps import FLIP_DIGIT, STEPS
from engine.networks import held_out_digits
from engine.sweep import sweep_stages
from tests.engine.test_engine_guide_steps import onnx_probabilities

CTRL = Qt.KeyboardModifier.ControlModifier
LEFT = Qt.MouseButton.LeftButton


def wait_drawn(qtbot, window) -> None:
    """Wait until the newest request is drawn in row A (and B while comparing), and the
    panels' view has stopped moving: a step opens docks, and a drag sent while the views
    are still being fitted to the new layout can land on another pixel (it painted from
    (3, 1) instead of moving the pixel at (2, 2))."""
    rows = window.compare.rows
    qtbot.waitUntil(lambda: window.up_to_date() and (
        not window.compare.active or rows.request_id == window.row.request_id),
        timeout=30_000)
    view = window.row.panels[0].view
    for _ in range(50):
        before = view.viewRange()
        qtbot.wait(100)
        if view.viewRange() == before:
            return


def wait_answered(qtbot, window) -> None:
    """Wait until the network's newest answer is drawn."""
    qtbot.waitUntil(window.network.up_to_date, timeout=30_000)


def enter(qtbot, window, button=None) -> None:
    """Go to the next step by clicking Next (or `button`) and wait for its scenario."""
    guide = window.guide
    with qtbot.waitSignal(guide.step_shown, timeout=5_000):
        qtbot.mouseClick(button or guide.panel.next, LEFT)
    wait_drawn(qtbot, window)
    assert not guide.panel.ack.isVisible()  # the fresh scenario is not the task done


def acknowledged(qtbot, window, action, timeout=30_000) -> str:
    guide = window.guide
    with qtbot.waitSignal(guide.acknowledged, timeout=timeout) as signal:
        action()
    index, text = signal.args
    assert index == guide.index and guide.panel.ack.isVisible()
    assert guide.panel.ack.text() == text
    assert guide.panel.steps_list.item(index).text().startswith("✓ ")
    return text


def press_pool_mode_until(qtbot, window, mode: str) -> None:
    while window.pipeline_controls.pool_mode.currentText() != mode:
        qtbot.keyClick(window, Qt.Key.Key_P, CTRL)


def comparison(window):
    return {c.name: c for c in window.compare.view.comparison.stages}


def test_the_guide_runs_end_to_end_through_mouse_and_keys(window, driver, qtbot):
    guide = window.guide
    assert not guide.dock.isVisible()
    with qtbot.waitSignal(guide.step_shown, timeout=5_000):
        qtbot.keyClick(window, Qt.Key.Key_G, CTRL)  # Help > Guide
    assert guide.dock.isVisible() and guide.index == 0
    assert not guide.panel.back.isEnabled()
    wait_drawn(qtbot, window)

    # 1: drag the pixel from (2, 2) to (7, 7)
    assert [s.shape for s in window.row.result.stages] == [(10, 10), (5, 5), (2, 2), (1, 1)]
    text = acknowledged(qtbot, window, lambda: driver.drag(
        [(2.5, 2.5), (4.5, 4.5), (6.5, 6.5), (7.5, 7.5)]))
    assert np.argwhere(window.model.image).tolist() == [[7, 7]]
    wait_drawn(qtbot, window)
    moved = [abs(c.displacement[0]) for c in comparison(window).values()]
    assert moved == [5, 2, 1, 0]
    assert text.startswith("Done: the pixels are 5 → 2 → 1 → 0 cells apart")

    # 2: Ctrl+P to avg; the peaks are diluted
    enter(qtbot, window)
    assert not window.compare.active
    text = acknowledged(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key.Key_P, CTRL))
    reference = run_pipeline(window.model.image, window.pipeline_controls.spec())
    peaks = [s.maxima[0][2] for s in reference.stages[1:]]
    assert peaks == [0.25, 0.0625, 0.015625]
    assert "0.25, 0.0625, 0.015625" in text

    # 3: drag the pixel into the last row of the 11 x 11 canvas
    enter(qtbot, window)
    assert window.model.shape == (11, 11)
    text = acknowledged(qtbot, window, lambda: driver.drag([(5.5, 5.5), (8.5, 5.5),
                                                            (10.5, 5.5)]))
    assert np.argwhere(window.model.image).tolist() == [[10, 5]]
    assert window.row.result["pool 1"].array.max() == 0.0
    assert text.startswith("Done: the pixel at (10, 5)")

    # 4: the seam, fixed with the Metrics dock's button
    enter(qtbot, window)
    metrics = window.compare.metrics
    qtbot.waitUntil(lambda: metrics.fix_padding.isVisible(), timeout=10_000)
    assert comparison(window)["conv"].equivariance_error > 0.01
    qtbot.waitUntil(lambda: "Seam" in window.what_you_see.description, timeout=10_000)
    text = acknowledged(qtbot, window, lambda: qtbot.mouseClick(metrics.fix_padding, LEFT))
    assert window.pipeline_controls.padding.currentText() == "circular"
    wait_drawn(qtbot, window)
    assert comparison(window)["conv"].equivariance_error < 1e-6
    assert text.startswith("Done: with circular padding the conv error is 0.0000")

    # 5: ] adds a seventh pool to the photo
    enter(qtbot, window)
    assert window.row.result.stages[-1].shape == (6, 9)
    text = acknowledged(qtbot, window,
                        lambda: qtbot.keyClick(window, Qt.Key.Key_BracketRight))
    assert window.row.result.stages[-1].shape == (3, 4)
    assert text == "Done: 7 pools end in a 3×4 map."

    # 6: mirror the kernel too, in the Compare dock
    enter(qtbot, window)
    box = window.compare.controls.mirror_kernel
    window.compare.compare_dock.raise_()
    qtbot.waitUntil(box.isVisible, timeout=5_000)
    on_indicator = QPoint(8, box.height() // 2)  # the box is wider than its label
    text = acknowledged(qtbot, window, lambda: qtbot.mouseClick(box, LEFT, pos=on_indicator))
    assert box.isChecked()
    wait_drawn(qtbot, window)
    assert comparison(window)["conv"].equivariance_error < 1e-6
    assert "conv error is 0.0000" in text

    # 7: Run sweep shows the sawtooth
    enter(qtbot, window)
    sweep = window.compare.sweep
    assert window.compare.sweep_dock.isVisible() and sweep.max_shift.value() == 8
    text = acknowledged(qtbot, window, lambda: qtbot.mouseClick(sweep.run_button, LEFT),
                        timeout=120_000)
    names, d = sweep_stages(window.model.image, window.pipeline_controls.spec(),
                            list(range(9)), axis="x", wrap=True, align=True)
    np.testing.assert_allclose(sweep.result.distances, d, atol=1e-6)
    pool1 = d[:, names.index("pool 1")]
    assert np.all(pool1[::2] < 1e-6) and np.all(pool1[1::2] > 0.5)
    assert text == "Done: pool 1 is 0 at shifts 0, 2, 4, 6, 8 and 0.58 at 1, 3, 5, 7: a sawtooth."

    # 8: blurmax with Ctrl+P
    enter(qtbot, window)
    text = acknowledged(qtbot, window,
                        lambda: press_pool_mode_until(qtbot, window, "blurmax"))
    wait_drawn(qtbot, window)
    reference = run_state(window.current_state())
    d = {c.name: c.distance for c in reference.comparison.stages}
    assert text == (f"Done: with blurmax the distance is {d['pool 1']:.2f} at pool 1 and "
                    f"{d['pool 3']:.2f} at pool 3.")
    assert d["pool 3"] < 0.22

    # 9: APS with Ctrl+P
    enter(qtbot, window)
    assert window.pipeline_controls.pool_mode.currentText() == "max"
    text = acknowledged(qtbot, window, lambda: press_pool_mode_until(qtbot, window, "aps"))
    wait_drawn(qtbot, window)
    zero = [n for n, c in comparison(window).items() if n.startswith("pool") and c.distance == 0]
    assert zero == ["pool 2", "pool 3", "pool 4", "pool 5", "pool 6"]
    assert text.startswith("Done: with APS the distance is 0 at pool 2, pool 3")

    # 10: the right arrow key nudges the held-out 1; digits-max's answer flips
    images, _ = held_out_digits()
    digit = images[FLIP_DIGIT]
    enter(qtbot, window)
    wait_answered(qtbot, window)
    assert window.network.choice.name == "digits-max"
    assert np.array_equal(window.model.image, digit)
    before = onnx_probabilities("digits-max", digit)
    text = acknowledged(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key.Key_Right))
    assert np.array_equal(window.model.image, np.roll(digit, 1, 1))
    moved = onnx_probabilities("digits-max", window.model.image)
    assert int(np.argmax(before)) == 1 and int(np.argmax(moved)) == 7
    assert text == (f"Done: one pixel over, digits-max's answer went from 1 "
                    f"({before.max():.1%}) to 7 ({moved.max():.1%}).")
    wait_answered(qtbot, window)
    assert window.network.rows[0].drawn.run.a.top1 == 7

    # 11: the same nudge through digits-aps keeps the answer
    enter(qtbot, window)
    wait_answered(qtbot, window)
    assert window.network.choice.name == "digits-aps"
    assert np.array_equal(window.model.image, digit)
    text = acknowledged(qtbot, window, lambda: qtbot.keyClick(window, Qt.Key.Key_Right))
    assert np.array_equal(window.model.image, np.roll(digit, 1, 1))
    kept = onnx_probabilities("digits-aps", window.model.image)
    assert int(np.argmax(kept)) == 1
    assert text == f"Done: one pixel over, digits-aps still answers 1 ({kept.max():.1%})."
    assert not guide.panel.next.isEnabled()
    assert guide.done == set(range(len(STEPS)))

    # Back, and the step list, go to earlier steps and set them up again
    enter(qtbot, window, guide.panel.back)
    assert guide.index == len(STEPS) - 2
    assert window.network.choice.name == "digits-max"
    list_widget = guide.panel.steps_list
    rect = list_widget.visualItemRect(list_widget.item(0))
    with qtbot.waitSignal(guide.step_shown, timeout=5_000):
        qtbot.mouseClick(list_widget.viewport(), LEFT, pos=rect.center())
    wait_drawn(qtbot, window)
    assert guide.index == 0 and np.argwhere(window.model.image).tolist() == [[2, 2]]


def test_a_step_is_not_acknowledged_for_something_else(window, driver, qtbot):
    guide = window.guide
    guide.open()
    wait_drawn(qtbot, window)
    acks = []
    guide.acknowledged.connect(lambda i, t: acks.append(t))
    driver.drag([(2.5, 2.5), (4.5, 6.5)])  # not to (7, 7)
    wait_drawn(qtbot, window)
    qtbot.wait(100)
    assert acks == [] and not guide.panel.ack.isVisible()
    assert np.argwhere(window.model.image).tolist() == [[4, 6]]


@pytest.fixture
def fresh_settings_window(qtbot):
    from gui.window.main_window import MainWindow
    from gui.window.settings import AppSettings

    made = []

    def make():
        win = MainWindow(AppSettings(), guide_on_first_start=True)
        qtbot.addWidget(win)
        win.show()
        qtbot.waitExposed(win)
        made.append(win)
        return win

    yield make
    for win in made:
        win.close()


def test_the_guide_opens_by_itself_once_and_can_be_dismissed(fresh_settings_window, qtbot):
    from gui.window.settings import GUIDE_SHOWN_KEY, AppSettings

    assert not AppSettings().bool_value(GUIDE_SHOWN_KEY, False)
    first = fresh_settings_window()
    guide = first.guide
    assert guide.dock.isVisible() and guide.index == 0
    wait_drawn(qtbot, first)
    assert first.compare.active  # step 1 is set up: B keeps the pixel at (2, 2)
    guide.dock.close()  # dismissed with the dock's close button
    assert not guide.dock.isVisible()
    first.close()
    assert AppSettings().bool_value(GUIDE_SHOWN_KEY, False)  # remembered in the settings file

    second = fresh_settings_window()
    wait_drawn(qtbot, second)
    assert not second.guide.dock.isVisible()
    second.actions_by_name["guide"].trigger()  # Help > Guide still opens it
    assert second.guide.dock.isVisible()


def test_an_acknowledgement_says_when_the_window_changed_since(window, driver, qtbot):
    from gui.guide.guide import PAST_NOTE

    guide = window.guide
    guide.open()
    wait_drawn(qtbot, window)
    text = acknowledged(qtbot, window, lambda: driver.drag([(2.5, 2.5), (7.5, 7.5)]))
    driver.drag([(7.5, 7.5), (8.5, 7.5)])  # past (7, 7): the distances are others now
    wait_drawn(qtbot, window)
    assert comparison(window)["input"].displacement == (-6, -5)
    qtbot.waitUntil(lambda: guide.panel.ack.text() == text + PAST_NOTE, timeout=5_000)
    assert 0 in guide.done
    driver.drag([(8.5, 7.5), (7.5, 7.5)])  # back: acknowledged afresh
    qtbot.waitUntil(lambda: guide.panel.ack.text() == text, timeout=5_000)
