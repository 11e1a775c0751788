"""Live input through the real window: a video written here (a block moving a known number
of pixels per frame) opened from the menu, played with Space, stepped with `.` and `,`;
the drawn maxima and the Trajectories dock against the known motion; frames dropped, not
queued; bad files and cameras; recording; grabbing B."""

from __future__ import annotations

import csv

import cv2
import numpy as np
import pytest
from live_videos import block_centre, block_frame, write_moving_block
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog

import gui.panels.views as views
from engine.trajectory import TRAJECTORY_COLUMNS

START, STEP = (20, 6), (0, 3)
FRAMES = 24


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "block.avi"
    centres = write_moving_block(path, FRAMES, start=START, step=STEP)
    return path, centres


def decoded_frames(path) -> list[np.ndarray]:
    """Every frame of `path` as grey float32 in [0, 1], read with OpenCV alone."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255)
    cap.release()
    return frames


def open_from_menu(window, qtbot, monkeypatch, path) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    with qtbot.waitSignal(window.live.frame_processed, timeout=10_000):
        window.actions_by_name["open-video"].trigger()


def shown_index(window) -> int:
    return window.live.shown.frame.index


def drawn_peak(window, stage: int = 0) -> tuple[int, int]:
    r, c, _ = window.row.result.stages[stage].maxima[0]
    return r, c


def idle(window) -> bool:
    """No frame is being read, waits, or is being computed, and the newest result is drawn."""
    live = window.live
    return window.up_to_date() and live._held is None and not live._busy and not live._read_id


def wait_processed(window, qtbot, index: int) -> None:
    """Wait until frame `index` is in the canvas and its result is drawn."""
    qtbot.waitUntil(lambda: window.live.shown is not None and shown_index(window) == index
                    and idle(window), timeout=10_000)


def test_open_step_and_play_follow_the_block(window, qtbot, monkeypatch, video):
    path, centres = video
    frames = decoded_frames(path)
    open_from_menu(window, qtbot, monkeypatch, path)
    live = window.live
    assert live.info.frame_count == FRAMES and window.model.shape == (48, 96)
    np.testing.assert_allclose(window.model.image, frames[0], atol=1.5 / 255)
    assert drawn_peak(window) == centres[0]
    assert live.transport.position_label.text().startswith(f"frame 1 / {FRAMES}")

    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_Period)
    wait_processed(window, qtbot, 3)
    np.testing.assert_allclose(window.model.image, frames[3], atol=1.5 / 255)
    assert drawn_peak(window) == centres[3]
    # the pooled maps' maxima: the cell holding the block's centre
    assert drawn_peak(window, 1) == (centres[3][0] // 2, centres[3][1] // 2)
    qtbot.keyClick(window, Qt.Key.Key_Comma)
    wait_processed(window, qtbot, 2)
    assert drawn_peak(window) == centres[2]
    assert live.transport.scrubber.value() == 2

    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert live.playing
    qtbot.waitUntil(lambda: shown_index(window) >= 8, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not live.playing
    qtbot.waitUntil(lambda: idle(window), timeout=10_000)
    index = shown_index(window)
    assert 8 <= index < FRAMES
    np.testing.assert_allclose(window.model.image, frames[index], atol=1.5 / 255)
    assert drawn_peak(window) == centres[index]


def test_trajectory_follows_the_motion_and_exports_csv(window, qtbot, monkeypatch, video,
                                                       tmp_path):
    path, centres = video
    open_from_menu(window, qtbot, monkeypatch, path)
    live = window.live
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not live.playing, timeout=20_000)
    qtbot.waitUntil(lambda: idle(window) and not live.tracker.busy, timeout=10_000)
    dock = live.trajectory
    assert dock.frames[0] == 0 and dock.frames[-1] == FRAMES - 1
    by_frame: dict[int, dict[str, object]] = {}
    for p in dock.points():
        by_frame.setdefault(p.frame, {})[p.stage] = p
    for frame, points in by_frame.items():
        r, c = centres[frame]
        assert (points["input"].row, points["input"].col) == (r, c)
        for k in (1, 2):  # the demo's pipeline: two 2x2 max pools
            pool = points[f"pool {k}"]
            assert (pool.row, pool.col) == (r // 2 ** k, c // 2 ** k)
            # in input pixels: the centre of the pooled cell's 2^k x 2^k window
            assert pool.input_col == (c // 2 ** k) * 2 ** k + (2 ** k - 1) / 2
        assert abs(points["input"].time_s - frame / 30) < 1e-9
        assert not any(p.near_tie for p in points.values())

    # the curves draw what the points say, in either unit
    cols = np.array([centres[f][1] for f in dock.frames])
    times, positions, ties = dock.series("pool 2", "col")
    np.testing.assert_allclose(times, np.array(dock.frames) / 30)
    np.testing.assert_array_equal(positions, (cols // 4) * 4 + 1.5)
    assert not ties.any()
    dock.units.setCurrentText("stage cells")
    np.testing.assert_array_equal(dock.series("pool 2", "col")[1], cols // 4)
    curve_y = dock.curves["col"]["pool 2"].getData()[1]
    np.testing.assert_array_equal(curve_y[:len(cols)], cols // 4)

    out = tmp_path / "track.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(out), "")))
    with qtbot.waitSignal(dock.exported, timeout=10_000):
        qtbot.mouseClick(dock.export_button, Qt.MouseButton.LeftButton)
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == TRAJECTORY_COLUMNS
    assert len(rows) - 1 == 3 * len(dock.frames)
    pool1 = [r for r in rows[1:] if r[2] == "pool 1"]
    assert [int(r[4]) for r in pool1] == [centres[int(r[0])][1] // 2 for r in pool1]


def test_near_ties_are_marked(window, qtbot, monkeypatch, tmp_path):
    """Two equal blocks: no stage has one clear maximum, and every point says so."""
    path = tmp_path / "twins.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30, (96, 48))
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, 100)
    for i in range(4):  # flat 8x8 squares on JPEG's 8x8 grid decode to exactly 255
        img = np.zeros((48, 96), np.uint8)
        img[8:16, 8 * i:8 * i + 8] = img[32:40, 48 + 8 * i:56 + 8 * i] = 255
        writer.write(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    writer.release()
    open_from_menu(window, qtbot, monkeypatch, path)
    qtbot.keyClick(window, Qt.Key.Key_Period)
    wait_processed(window, qtbot, 1)
    qtbot.waitUntil(lambda: not window.live.tracker.busy and len(window.live.trajectory.frames)
                    == 2, timeout=10_000)
    dock = window.live.trajectory
    assert all(p.near_tie for p in dock.points())
    dock.redraw()
    for stage in ("input", "pool 1", "pool 2"):  # each curve is underlined all along
        _, tie_y = dock.ties["col"][stage].getData()
        assert np.isfinite(tie_y).all() and len(tie_y) >= 2
    assert "near-tie" in dock.legend.text()


def test_frames_are_dropped_not_queued(window, qtbot, monkeypatch, video):
    """With a pipeline slower than the frame rate, fewer frames are processed than read,
    and the frame shown at the end is the last one, with its own result."""
    path, centres = video
    real = views.state_view
    computed = []

    def slow_state_view(state, *args, **kwargs):
        import time

        time.sleep(0.12)
        computed.append(state)
        return real(state, *args, **kwargs)

    monkeypatch.setattr(views, "state_view", slow_state_view)
    open_from_menu(window, qtbot, monkeypatch, path)
    live = window.live
    processed: list[int] = []
    live.frame_processed.connect(processed.append)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not live.playing, timeout=30_000)
    qtbot.waitUntil(lambda: idle(window), timeout=10_000)
    read = live.input_rate.total  # frames decoded, the first when the video opened
    assert read <= FRAMES
    assert len(processed) < read - 1  # the frames that came while it was busy were dropped
    assert len(computed) <= len(processed) + 2  # and not computed later: nothing queued
    assert processed == sorted(processed) and processed[-1] == FRAMES - 1
    assert shown_index(window) == FRAMES - 1
    assert drawn_peak(window) == centres[-1]
    assert "dropped" in live.rate_label.text()


def test_a_paused_frame_is_a_canvas_and_undo_goes_back(window, qtbot, monkeypatch, video):
    path, centres = video
    demo = window.model.image.copy()
    open_from_menu(window, qtbot, monkeypatch, path)
    qtbot.keyClick(window, Qt.Key.Key_Period)
    wait_processed(window, qtbot, 1)
    frame1 = window.model.image.copy()
    qtbot.keyClick(window, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)  # invert
    qtbot.waitUntil(window.up_to_date, timeout=10_000)
    np.testing.assert_allclose(window.model.image, 1 - frame1, atol=1e-6)
    assert window.row.result.stages[0].maxima[0][2] == pytest.approx(1.0, abs=1e-6)
    qtbot.keyClick(window, Qt.Key.Key_Period)  # over an edit: one undo step
    wait_processed(window, qtbot, 2)
    assert drawn_peak(window) == centres[2]
    window.actions_by_name["undo"].trigger()
    np.testing.assert_allclose(window.model.image, 1 - frame1, atol=1e-6)
    window.actions_by_name["undo"].trigger()
    np.testing.assert_array_equal(window.model.image, frame1)
    window.actions_by_name["undo"].trigger()  # the video's first frame was one step too
    np.testing.assert_array_equal(window.model.image, demo)


def test_grab_the_frame_as_b_then_step_a(window, qtbot, monkeypatch, video):
    path, centres = video
    open_from_menu(window, qtbot, monkeypatch, path)
    qtbot.keyClick(window, Qt.Key.Key_G)
    assert window.compare.active
    qtbot.keyClick(window, Qt.Key.Key_Period)
    qtbot.keyClick(window, Qt.Key.Key_Period)
    wait_processed(window, qtbot, 2)
    b = window.compare.rows.b.result
    assert b is not None
    r, c, _ = b.stages[0].maxima[0]
    assert (r, c) == centres[0] and drawn_peak(window) == centres[2]
    # the block moved 6 pixels between B and A: the metrics say so
    comparison = window.compare.view.comparison
    assert comparison is not None


def test_drop_a_video_opens_it_as_live_input(window, qtbot, video):
    path, centres = video
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(pos.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                      Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.live.frame_processed, timeout=10_000):
        QApplication.sendEvent(window, drop)
    assert window.live.info.source == str(path) and drawn_peak(window) == centres[0]
    assert window.live.toolbar.isVisible() and window.live.trajectory_dock.isVisible()


def test_a_file_that_is_not_a_video_keeps_the_canvas(window, qtbot, monkeypatch, tmp_path,
                                                     warnings):
    path = tmp_path / "notes.mp4"
    path.write_bytes(b"this is not a video at all " * 40)
    before = window.model.image.copy()
    with qtbot.waitSignal(window.live.problem, timeout=10_000) as problem:
        window.open_file(path)
    assert str(path) in problem.args[0]
    assert len(warnings) == 1 and str(path) in warnings[0][1]
    np.testing.assert_array_equal(window.model.image, before)
    assert window.live.feed is None


def test_a_truncated_video_keeps_the_last_good_frame(window, qtbot, monkeypatch, tmp_path,
                                                     warnings):
    whole = tmp_path / "whole.avi"
    centres = write_moving_block(whole, 40, start=START, step=(0, 2))
    data = whole.read_bytes()
    path = tmp_path / "cut.avi"
    path.write_bytes(data[:len(data) // 2])
    good = decoded_frames(path)
    assert 0 < len(good) < 40
    open_from_menu(window, qtbot, monkeypatch, path)
    live = window.live
    with qtbot.waitSignal(live.problem, timeout=20_000) as problem:
        qtbot.keyClick(window, Qt.Key.Key_Space)
    assert "truncated" in problem.args[0] and len(warnings) == 1
    assert not live.playing
    qtbot.waitUntil(lambda: idle(window), timeout=10_000)
    index = shown_index(window)
    assert index == live._last_index  # the last frame read is the one shown
    np.testing.assert_allclose(window.model.image, good[index], atol=1.5 / 255)
    assert drawn_peak(window) == centres[index]


class FakeCapture:
    """A camera stand-in: the moving block, `fail_after` good frames then nothing."""

    made: list[FakeCapture] = []

    def __init__(self, device: int, api: int, present: int = 1, fail_after: int | None = None):
        self.device = device
        self.opened = device < present
        self.fail_after = fail_after
        self.reads = 0
        self.last_good: np.ndarray | None = None
        FakeCapture.made.append(self)

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return self.opened

    def read(self):
        if self.fail_after is not None and self.reads >= self.fail_after:
            return False, None
        centre = block_centre(self.reads % 20, START, STEP)
        self.reads += 1
        grey = block_frame((48, 96), centre)
        self.last_good = grey
        return True, cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)

    def get(self, prop: int) -> float:
        return 30.0 if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self.opened = False


def test_a_camera_through_the_menu(window, qtbot):
    FakeCapture.made = []
    window.live.capture_factory = FakeCapture
    shown: list[int] = []
    window.live.frame_shown.connect(shown.append)
    window.actions_by_name["camera"].trigger()
    assert window.live.playing and window.live.feed.is_camera
    qtbot.waitUntil(lambda: len(shown) >= 5, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.live.playing
    qtbot.waitUntil(lambda: idle(window), timeout=10_000)
    camera = [c for c in FakeCapture.made if c.device == 0 and c.reads > 3][-1]
    np.testing.assert_allclose(window.model.image, camera.last_good / 255, atol=1e-6)
    assert not window.live.actions["back"].isEnabled()
    window.close()
    assert not camera.opened  # released when the window closes


def test_a_camera_unplugged_mid_stream_keeps_the_last_frame(window, qtbot, warnings):
    FakeCapture.made = []
    window.live.capture_factory = lambda d, api: FakeCapture(d, api, fail_after=12)
    with qtbot.waitSignal(window.live.problem, timeout=10_000) as problem:
        window.actions_by_name["camera"].trigger()
    assert "stopped delivering" in problem.args[0]
    assert not window.live.playing and len(warnings) == 1
    qtbot.waitUntil(lambda: idle(window), timeout=10_000)
    camera = [c for c in FakeCapture.made if c.reads == 12][-1]
    np.testing.assert_allclose(window.model.image, camera.last_good / 255, atol=1e-6)


@pytest.mark.parametrize("present,fail_after", [(0, None), (1, 0)])
def test_a_missing_or_busy_camera_is_reported(window, qtbot, warnings, present, fail_after):
    window.live.capture_factory = lambda d, api: FakeCapture(d, api, present, fail_after)
    before = window.model.image.copy()
    window.actions_by_name["camera"].trigger()
    assert len(warnings) == 1 and "camera" in warnings[0][1].lower()
    np.testing.assert_array_equal(window.model.image, before)
    assert window.live.feed is None


def test_record_a_few_frames_to_mp4(window, qtbot, monkeypatch, video, tmp_path):
    path, _ = video
    open_from_menu(window, qtbot, monkeypatch, path)
    out = tmp_path / "panels.mp4"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(out), "")))
    window.actions_by_name["live-record"].trigger()
    assert window.live.recorder.recording
    for i in range(1, 5):
        qtbot.keyClick(window, Qt.Key.Key_Period)
        wait_processed(window, qtbot, i)
    size = window.centralWidget().size()
    with qtbot.waitSignal(window.live.recorder.finished, timeout=30_000) as done:
        window.actions_by_name["live-record"].trigger()
    assert done.args[0] == str(out) and done.args[1] >= 4
    cap = cv2.VideoCapture(str(out))
    count = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        count += 1
        shape = frame.shape
    cap.release()
    assert count == done.args[1]
    assert shape[:2] == (size.height() - size.height() % 2, size.width() - size.width() % 2)


def test_a_folder_of_numbered_frames_plays_in_natural_order(window, qtbot, monkeypatch,
                                                            tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    centres = [block_centre(i, START, STEP) for i in range(12)]
    for i, centre in enumerate(centres):  # frame2 before frame10, as a person numbers them
        assert cv2.imwrite(str(folder / f"frame{i}.png"), block_frame((48, 96), centre))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(folder)))
    with qtbot.waitSignal(window.live.frame_processed, timeout=10_000):
        window.actions_by_name["open-sequence"].trigger()
    assert window.live.info.kind == "folder" and window.live.info.frame_count == 12
    scrubber = window.live.transport.scrubber
    qtbot.keyClick(scrubber, Qt.Key.Key_End)  # the scrubber, by keyboard, to the last frame
    wait_processed(window, qtbot, 11)
    assert drawn_peak(window) == centres[11]
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Comma)
    wait_processed(window, qtbot, 10)
    assert drawn_peak(window) == centres[10] and scrubber.value() == 10
    # PNG is lossless: the canvas is the frame exactly
    np.testing.assert_allclose(window.model.image,
                               block_frame((48, 96), centres[10]).astype(np.float32) / 255,
                               atol=1e-6)


def test_loop_starts_again_from_the_first_frame(window, qtbot, monkeypatch, video):
    path, _ = video
    open_from_menu(window, qtbot, monkeypatch, path)
    live = window.live
    shown: list[int] = []
    live.frame_shown.connect(shown.append)
    qtbot.mouseClick(live.transport.loop, Qt.MouseButton.LeftButton)
    assert live.actions["loop"].isChecked()
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: any(b < a for a, b in zip(shown, shown[1:], strict=False)),
                    timeout=20_000)
    assert live.playing  # still playing after the end
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not live.playing


def test_the_dock_keeps_the_frames_shown_last(window, qtbot, monkeypatch, video):
    import gui.live.trajectory_dock as dock_module

    monkeypatch.setattr(dock_module, "MAX_FRAMES", 10)
    path, centres = video
    open_from_menu(window, qtbot, monkeypatch, path)
    live = window.live
    for i in range(1, 16):
        qtbot.keyClick(window, Qt.Key.Key_Period)
        wait_processed(window, qtbot, i)
    qtbot.waitUntil(lambda: not live.tracker.busy, timeout=10_000)
    dock = live.trajectory
    assert 10 <= len(dock.frames) <= 11 and dock.frames[-1] == 15
    dock.redraw()
    assert "older ones are dropped" in dock.count_label.text()
    _, cols, _ = dock.series("input", "col")
    assert cols.tolist() == [centres[f][1] for f in dock.frames]


def test_b_as_a_transform_follows_the_live_frame(window, qtbot, monkeypatch, video):
    path, centres = video
    open_from_menu(window, qtbot, monkeypatch, path)
    qtbot.keyClick(window, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert window.compare.active and window.compare.controls.kind_name() == "mirror"
    for i in (1, 2):
        qtbot.keyClick(window, Qt.Key.Key_Period)
        wait_processed(window, qtbot, i)
        r, c = centres[i]
        b = window.compare.rows.b.result
        assert b.stages[0].maxima[0][:2] == (r, 96 - 1 - c)  # B is this frame, mirrored
        assert drawn_peak(window) == (r, c)


def test_close_video_keeps_the_frame_and_frees_the_keys(window, qtbot, monkeypatch, video):
    path, centres = video
    open_from_menu(window, qtbot, monkeypatch, path)
    qtbot.keyClick(window, Qt.Key.Key_Period)
    wait_processed(window, qtbot, 1)
    frame = window.model.image.copy()
    feed = window.live.feed
    window.actions_by_name["live-close"].trigger()
    assert window.live.feed is None and feed.closed
    assert not window.live.toolbar.isVisible()
    qtbot.keyClick(window, Qt.Key.Key_Space)  # nothing to play: the key does nothing
    qtbot.keyClick(window, Qt.Key.Key_Period)
    assert not window.live.playing
    np.testing.assert_array_equal(window.model.image, frame)
    assert drawn_peak(window) == centres[1]


def test_with_two_cameras_the_chosen_one_opens(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    FakeCapture.made = []
    window.live.capture_factory = lambda d, api: FakeCapture(d, api, present=2)
    offered: list[list[str]] = []

    def choose(parent, title, label, items, *args, **kwargs):
        offered.append(list(items))
        return "camera 1", True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(choose))
    window.actions_by_name["camera"].trigger()
    assert offered == [["camera 0", "camera 1"]]
    assert window.live.info.source == "camera 1"
    qtbot.waitUntil(lambda: window.live.shown is not None, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: idle(window), timeout=10_000)
    assert any(c.device == 1 and c.reads > 1 for c in FakeCapture.made)


def test_closing_the_window_does_not_wait_for_a_blocked_camera(window, qtbot):
    """An unplugged camera can block a read; the window still closes, and the camera is
    released once that read returns."""
    import threading

    blocked, gate = threading.Event(), threading.Event()

    class Stuck(FakeCapture):
        def read(self):
            if self.reads >= 3:
                blocked.set()
                gate.wait(30)
            return super().read()

    cameras: list[Stuck] = []
    window.live.capture_factory = lambda d, api: cameras.append(Stuck(d, api)) or cameras[-1]
    window.actions_by_name["camera"].trigger()
    qtbot.waitUntil(blocked.is_set, timeout=10_000)
    feed = window.live.feed
    window.close()  # returns although a read is stuck in the camera
    assert feed.closed and cameras[-1].opened  # not released under the running read
    gate.set()
    qtbot.waitUntil(lambda: not cameras[-1].opened, timeout=10_000)
