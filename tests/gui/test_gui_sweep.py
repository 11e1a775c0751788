"""The Shift sweep dock: curves equal engine.shift_sweep, progress, cancel, no thread left."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine import PipelineSpec, shift_sweep
from gui.docks.sweep import SweepPanel
from gui.worker import JobRunner


@pytest.fixture
def panel(qtbot):
    """A sweep panel on its own runner; the input and spec are set per test."""
    runner = JobRunner()
    state = {"image": None, "spec": None}
    panel = SweepPanel(runner, lambda: (state["image"].copy(), state["spec"]))
    panel.state = state
    panel.messages = []
    panel.message.connect(panel.messages.append)
    qtbot.addWidget(panel)
    panel.show()
    yield panel
    runner.shutdown()


def sweep_a_small_image(panel, qtbot) -> None:
    """Draw the curves of a quick sweep (4 shifts of 32x32) to start from."""
    small = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    panel.state.update(image=small, spec=PipelineSpec(levels=2))
    panel.max_shift.setValue(4)
    with qtbot.waitSignal(panel.finished, timeout=20_000):
        panel.run()


def curves(panel) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {name: curve.getData() for name, curve in panel.curves.items()}


@pytest.mark.parametrize("direction, axis, border, wrap, reference, align", [
    ("horizontal (right)", "x", 0, True, 0, False),
    ("diagonal", "diagonal", 1, False, 1, True),
])
def test_a_small_sweep_plots_what_the_engine_measures(panel, qtbot, direction, axis, border,
                                                      wrap, reference, align):
    image = np.random.default_rng(3).random((48, 40)).astype(np.float32)
    spec = PipelineSpec(levels=3, pool_mode="max")
    panel.state.update(image=image, spec=spec)
    panel.direction.setCurrentText(direction)
    panel.border.setCurrentIndex(border)
    panel.reference.setCurrentIndex(reference)
    panel.max_shift.setValue(8)
    with qtbot.waitSignal(panel.finished, timeout=20_000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    expected = shift_sweep(image, spec, range(9), axis=axis, wrap=wrap, align=align)
    got = curves(panel)
    assert list(got) == ["input", "conv", "pool 1", "pool 2", "pool 3"]
    for j, (x, y) in enumerate(got.values()):
        np.testing.assert_array_equal(x, np.arange(9))
        np.testing.assert_allclose(y, expected[:, j], rtol=0, atol=1e-12)
    assert [item[1].text for item in panel.legend.items] == list(got)
    assert "done" in panel.messages[-1] and not panel.running
    assert panel.progress.value() == 0 and not panel.cancel_button.isEnabled()


def test_cancel_stops_a_long_sweep_and_keeps_the_curves_measured_so_far(panel, qtbot):
    sweep_a_small_image(panel, qtbot)

    # a long sweep (64 shifts of 2048x2048): Cancel is clicked when the third shift's
    # distances have been drawn; the curves stop there
    image = np.random.default_rng(1).random((2048, 2048)).astype(np.float32)
    spec = PipelineSpec(levels=6)
    panel.state.update(image=image, spec=spec)
    panel.max_shift.setValue(64)
    seen: list[int] = []
    panel.progress.valueChanged.connect(seen.append)
    grown: list[int] = []

    def on_grown(partial):
        grown.append(len(partial.shifts))
        if len(grown) == 3:
            qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)

    panel.grown.connect(on_grown)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert panel.running and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)
    assert grown == [1, 2, 3]  # shifts measured after the click are not drawn
    done = 3
    assert panel.messages[-1] == (f"Shift sweep cancelled after {done} of 65 shifts; the "
                                  "curves measured so far are kept.")
    assert panel.progress.value() == 0 and not panel.cancel_button.isEnabled()
    assert max(seen) < 1000
    after = curves(panel)
    assert list(after) == ["input", "conv"] + [f"pool {k}" for k in range(1, 7)]
    expected = shift_sweep(image, spec, range(done))
    for j, (x, y) in enumerate(after.values()):
        np.testing.assert_array_equal(x, np.arange(done))
        np.testing.assert_allclose(y, expected[:, j], rtol=0, atol=1e-12)
    assert len(panel.result.shifts) == done and not panel.stale
    low, high = panel.plot.viewRange()[0]  # the frame of the whole sweep: where it stopped
    assert low <= 0 and 64 <= high < 70
    assert "…" not in panel.plot.plotItem.titleLabel.text
    assert panel.runner.shutdown(10_000)


def test_the_curves_grow_while_the_sweep_runs(panel, qtbot):
    image = np.random.default_rng(5).random((2048, 2048)).astype(np.float32)
    spec = PipelineSpec(levels=6)
    panel.state.update(image=image, spec=spec)
    panel.max_shift.setValue(24)
    snapshots: list[tuple[bool, bool, dict]] = []
    finished: list[object] = []
    panel.finished.connect(finished.append)
    # what the plot holds each time it grew, and whether the sweep was still running
    panel.grown.connect(lambda partial: snapshots.append(
        (panel.running, bool(finished), curves(panel), panel.plot.plotItem.titleLabel.text)))
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert len(snapshots) == 25
    expected = shift_sweep(image, spec, range(25))
    for k, (running, ended, plotted, title) in enumerate(snapshots, start=1):
        assert running and not ended
        assert f"… {k} of 25 shifts" in title
        assert list(plotted) == ["input", "conv"] + [f"pool {n}" for n in range(1, 7)]
        for j, (x, y) in enumerate(plotted.values()):
            np.testing.assert_array_equal(x, np.arange(k))
            np.testing.assert_allclose(y, expected[:k, j], rtol=0, atol=1e-12)
    final = curves(panel)
    for j, (_x, y) in enumerate(final.values()):
        np.testing.assert_allclose(y, expected[:, j], rtol=0, atol=1e-12)
    assert "…" not in panel.plot.plotItem.titleLabel.text


def test_a_cancel_before_any_shift_keeps_the_previous_curves(panel, qtbot):
    sweep_a_small_image(panel, qtbot)
    before = curves(panel)
    panel.state.update(image=np.random.default_rng(1).random((2048, 2048)).astype(np.float32),
                       spec=PipelineSpec(levels=6))
    panel.max_shift.setValue(64)
    grown: list[object] = []
    panel.grown.connect(grown.append)
    panel.run()
    panel.cancel()  # in the same event-loop turn: no shift has been drawn
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)
    assert not grown
    assert panel.messages[-1] == "Shift sweep cancelled; the previous curves are kept."
    after = curves(panel)
    assert list(after) == list(before)
    for name in before:
        for got, want in zip(after[name], before[name], strict=True):
            np.testing.assert_array_equal(got, want)


def test_a_newer_sweep_replaces_a_running_one(panel, qtbot):
    # long enough to be still running when the newer one comes (about 2 s here)
    panel.state.update(image=np.random.default_rng(2).random((2048, 2048)).astype(np.float32),
                       spec=PipelineSpec(levels=6))
    panel.max_shift.setValue(64)
    results = []
    panel.finished.connect(results.append)
    seen: list[int] = []
    panel.progress.valueChanged.connect(seen.append)  # a reset to 0 cannot hide progress
    panel.run()
    qtbot.waitUntil(lambda: any(v > 0 for v in seen), timeout=30_000)
    assert panel.running and not results
    small = np.random.default_rng(4).random((24, 24)).astype(np.float32)
    panel.state.update(image=small, spec=PipelineSpec(convolve=False, levels=2))
    panel.max_shift.setValue(3)
    panel.run()
    qtbot.waitUntil(lambda: not panel.running, timeout=30_000)
    qtbot.wait(100)
    assert len(results) == 1
    np.testing.assert_allclose(results[0].distances,
                               shift_sweep(small, PipelineSpec(convolve=False, levels=2),
                                           range(4)))
    assert list(panel.curves) == ["input", "pool 1", "pool 2"]


def test_an_invalid_spec_goes_to_the_message(panel):
    def broken():
        raise ValueError("kernel must be 2-D")

    panel.source = broken
    assert panel.run() == 0
    assert panel.messages == ["Cannot sweep: kernel must be 2-D"]


def test_an_engine_error_goes_to_the_message(panel, qtbot):
    panel.state.update(image=np.ones((2, 2), np.float32), spec=PipelineSpec())  # 3x3 kernel
    panel.max_shift.setValue(2)
    panel.run()
    qtbot.waitUntil(lambda: not panel.running, timeout=20_000)
    assert panel.messages[-1].startswith("Shift sweep failed: ")
    assert "kernel" in panel.messages[-1]


def test_the_window_sweeps_its_input_with_its_controls(window, qtbot):
    """The dock in the window: the canvas and the Controls' spec (blurmax here) are swept,
    messages reach the status bar, the pipeline keeps running meanwhile."""
    image = np.random.default_rng(8).random((40, 40)).astype(np.float32)
    window.model.set_image(image)
    window.pipeline_controls.set_spec(PipelineSpec(levels=3, pool_mode="blurmax"))
    sweep = window.compare.sweep
    sweep.max_shift.setValue(8)
    sweep.reference.setCurrentIndex(1)
    with qtbot.waitSignal(sweep.finished, timeout=20_000):
        qtbot.mouseClick(sweep.run_button, Qt.MouseButton.LeftButton)
    expected = shift_sweep(image, PipelineSpec(levels=3, pool_mode="blurmax"), range(9),
                           align=True)
    for j, (_x, y) in enumerate(curves(sweep).values()):
        np.testing.assert_allclose(y, expected[:, j], rtol=0, atol=1e-12)
    assert "Shift sweep done" in window.statusBar().currentMessage()
    qtbot.waitUntil(window.up_to_date, timeout=10_000)
    assert window.row.result.names == ["input", "conv", "pool 1", "pool 2", "pool 3"]


def test_closing_the_window_during_a_sweep_stops_it(qtbot):
    from gui.window.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    win.model.set_image(np.random.default_rng(9).random((2048, 2048)).astype(np.float32))
    win.pipeline_controls.set_spec(PipelineSpec(levels=6))
    win.compare.sweep.max_shift.setValue(64)
    seen: list[int] = []
    win.compare.sweep.progress.valueChanged.connect(seen.append)
    win.compare.sweep.run()
    qtbot.waitUntil(lambda: any(v > 0 for v in seen), timeout=30_000)
    assert win.compare.sweep.running
    threads = list(win.runner._threads.values())
    win.close()
    assert threads and not any(t.isRunning() for t in threads)


def test_the_window_draws_the_sweep_as_it_runs_and_cancel_keeps_it(window, qtbot):
    """In the window: a long sweep of the canvas grows its curves shift by shift; Cancel,
    clicked once two shifts are drawn, stops it and the status bar says what is kept."""
    image = np.random.default_rng(10).random((2048, 2048)).astype(np.float32)
    spec = PipelineSpec(levels=4)
    window.model.set_image(image)
    window.pipeline_controls.set_spec(spec)
    sweep = window.compare.sweep
    sweep.max_shift.setValue(64)
    drawn: list[dict] = []

    def on_grown(partial):
        drawn.append(curves(sweep))
        if len(drawn) == 2:
            assert sweep.running
            qtbot.mouseClick(sweep.cancel_button, Qt.MouseButton.LeftButton)

    sweep.grown.connect(on_grown)
    qtbot.mouseClick(sweep.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not sweep.running, timeout=30_000)
    assert [len(next(iter(d.values()))[0]) for d in drawn] == [1, 2]
    expected = shift_sweep(image, spec, range(2))
    for j, (x, y) in enumerate(curves(sweep).values()):
        np.testing.assert_array_equal(x, [0, 1])
        np.testing.assert_allclose(y, expected[:, j], rtol=0, atol=1e-12)
    assert window.statusBar().currentMessage() == (
        "Shift sweep cancelled after 2 of 65 shifts; the curves measured so far are kept.")


def test_a_redraw_of_the_same_input_is_not_compared_again(panel, qtbot, monkeypatch):
    sweep_a_small_image(panel, qtbot)
    image, spec = panel.state["image"].copy(), panel.state["spec"]  # equal, not the same
    compared: list[int] = []
    original = np.array_equal
    monkeypatch.setattr(np, "array_equal", lambda a, b, **k: (compared.append(1),
                                                               original(a, b, **k))[1])
    for _ in range(3):  # row A drawn three times from one result
        panel.input_changed(image, spec)
    assert not panel.stale and len(compared) == 1
    edited = image.copy()
    edited[0, 0] += 1
    panel.input_changed(edited, spec)  # another input is still found out
    assert panel.stale
