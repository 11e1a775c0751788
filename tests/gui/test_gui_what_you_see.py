"""The What you see dock follows the window's state: it shows engine.describe of what is
drawn (checked against describe run independently on the window's state), through
comparison on and off, shared colour levels, a padding change that makes the seam, pooling
that stops early and an example."""

from __future__ import annotations

from PySide6.QtCore import Qt

from engine import EXAMPLES, run_state
from engine.describe import (
    COLOURS,
    EARLY_STOP,
    METRICS,
    PIPELINE,
    ROWS,
    SEAM,
    describe,
)
from engine.notes import drift_note

CTRL = Qt.KeyboardModifier.ControlModifier


def wait_described(qtbot, window):
    """Wait until the dock describes the drawn result (and B's rows are drawn too)."""
    rows = window.compare.rows
    qtbot.waitUntil(lambda: window.up_to_date() and (
        not window.compare.active or rows.request_id == window.row.request_id)
        and window.what_you_see.up_to_date(), timeout=30_000)
    return window.what_you_see.description


def reference(window):
    """describe() of the window's state, computed here from scratch."""
    state = window.current_state()
    run = run_state(state)
    return describe(state, run, drift=drift_note(run.a))


def shown_text(window) -> str:
    return window.what_you_see.panel.toPlainText()


def test_the_panel_describes_the_start_and_is_always_there(window, qtbot):
    description = wait_described(qtbot, window)
    assert window.what_you_see_dock.isVisible()
    assert description == reference(window)
    assert description[PIPELINE].text == "input 10×10 → 2 levels of 2×2 max pooling, stride 2 " \
        "→ 5×5, 2×2"
    for paragraph in description.paragraphs:  # the panel shows every paragraph
        assert f"{paragraph.title}. {paragraph.text}" in shown_text(window)


def test_compare_on_and_off_and_shared_levels(window, qtbot):
    wait_described(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_B, CTRL)  # compare on
    description = wait_described(qtbot, window)
    assert description == reference(window)
    assert description[ROWS].text.startswith("Row A: the input (drawn in the window). Row B: A "
                                              "mirrored left-right.")
    assert METRICS in description
    qtbot.keyClick(window, Qt.Key.Key_L)  # shared colour levels
    description = wait_described(qtbot, window)
    assert description == reference(window)
    assert "one shared scale from 0 to 1" in description[COLOURS].text
    qtbot.keyClick(window, Qt.Key.Key_B, CTRL)  # compare off
    description = wait_described(qtbot, window)
    assert METRICS not in description and description[ROWS].text.startswith("One row")
    assert "Row B" not in shown_text(window)


def test_a_padding_change_brings_the_seam_warning_and_more_levels_the_early_stop(
        window, qtbot):
    window.compare.load_example("shift")
    description = wait_described(qtbot, window)
    assert SEAM in description and description == reference(window)
    assert description.paragraphs[0].text == EXAMPLES["shift"].description
    window.pipeline_controls.padding.setCurrentText("circular")
    description = wait_described(qtbot, window)
    assert SEAM not in description and "seam" not in shown_text(window)
    window.pipeline_controls.padding.setCurrentText("reflect")
    description = wait_described(qtbot, window)
    assert description[SEAM].warning and description == reference(window)
    for _ in range(4):  # ] four times: ten levels on a 400 x 600 photo stop early
        qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    description = wait_described(qtbot, window)
    result = window.row.result
    assert result.levels_requested == 10 and result.stop_reason is not None
    assert description[EARLY_STOP].text == f"A and B: {result.stop_reason}."
    assert result.stop_reason in shown_text(window)


def test_the_example_explanation_replaces_the_status_bar_text(window, qtbot):
    window.compare.example_actions[0].trigger()
    description = wait_described(qtbot, window)
    example = EXAMPLES["pixel"]
    assert description.paragraphs[0].title == f"Example: {example.title}"
    assert example.description in shown_text(window)
    assert window.statusBar().currentMessage() != example.description
    assert example.title in window.statusBar().currentMessage()


def test_a_closed_dock_asks_for_nothing_and_catches_up_when_opened(window, qtbot):
    """While "What you see" is closed no description is computed for the results drawn;
    opened again, it describes the state the rows show."""
    wait_described(qtbot, window)
    window.what_you_see_dock.close()
    asked: list[int] = []
    window.runner.settled.connect(lambda event: type(event.request).__name__
                                  == "DescribeRequest" and asked.append(event.request_id))
    window.pipeline_controls.shared.setChecked(True)
    qtbot.waitUntil(window.up_to_date, timeout=10_000)
    qtbot.wait(200)
    assert asked == [] and not window.what_you_see.up_to_date()
    window.what_you_see_dock.show()
    description = wait_described(qtbot, window)
    assert len(asked) == 1
    assert description == reference(window)
    assert "shared" in description[COLOURS].text  # the state after the change
