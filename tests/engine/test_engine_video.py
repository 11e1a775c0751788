"""Reading moving input: video files, folders of numbered images and cameras (a stand-in
capture device), checked against the frames the tests wrote."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from moving_videos import Motion, truncate, write_folder, write_gif, write_pyav, write_video

from engine.image_io import load_image
from engine.video_input import (
    CAMERA_RETRIES,
    DEFAULT_FPS,
    FOLDER_FPS,
    Frame,
    TruncatedVideoError,
    VideoError,
    VideoInfo,
    camera_backend,
    natural_key,
    open_camera,
    open_video,
    probe_cameras,
)

MOTION = Motion()


def read_all(reader) -> list[Frame]:
    frames = []
    while (frame := reader.read()) is not None:
        frames.append(frame)
    return frames


def brightest_inside_block(frame: Frame, motion: Motion) -> bool:
    r, c = np.unravel_index(np.argmax(frame.image), frame.image.shape)
    top, left = motion.corner(frame.index)
    return top <= r < top + motion.size and left <= c < left + motion.size


# -- files -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name,fourcc", [("v.avi", "FFV1"), ("v.mkv", "FFV1")])
def test_a_lossless_video_gives_back_the_frames_written(tmp_path, name, fourcc):
    path = write_video(tmp_path / name, MOTION, fourcc)
    with open_video(path) as reader:
        assert reader.info == VideoInfo(str(path), "file", MOTION.frames, MOTION.fps,
                                        MOTION.shape)
        frames = read_all(reader)
    assert [f.index for f in frames] == list(range(MOTION.frames))
    assert [f.time_s for f in frames] == pytest.approx([i / MOTION.fps
                                                        for i in range(MOTION.frames)])
    for f in frames:
        assert f.image.dtype == np.float32 and not f.image.flags.writeable
        np.testing.assert_array_equal(f.image, MOTION.grey(f.index) / np.float32(255))


@pytest.mark.parametrize("name,writer", [
    ("mjpg.avi", lambda p, m: write_video(p, m, "MJPG")),
    ("mp4v.mp4", lambda p, m: write_video(p, m, "mp4v")),
    ("mp4v.mov", lambda p, m: write_video(p, m, "mp4v")),
    ("h264.mp4", write_pyav),
    ("vp9.webm", lambda p, m: write_pyav(p, m, "libvpx-vp9")),
    ("anim.gif", write_gif),
])
def test_lossy_and_other_formats_play_every_frame_with_the_block_in_place(tmp_path, name,
                                                                         writer):
    path = writer(tmp_path / name, MOTION)
    with open_video(path) as reader:
        assert reader.info.shape == MOTION.shape and reader.info.kind == "file"
        assert reader.info.fps == pytest.approx(MOTION.fps, rel=0.05)
        frames = read_all(reader)
    assert len(frames) == MOTION.frames
    assert all(brightest_inside_block(f, MOTION) for f in frames)


def test_colour_frames_are_grey_the_way_load_image_makes_a_photo_grey(tmp_path):
    rng = np.random.default_rng(3)
    colours = [rng.integers(0, 256, (40, 56, 3), dtype=np.uint8) for _ in range(3)]
    writer = cv2.VideoWriter(str(tmp_path / "c.avi"), cv2.VideoWriter_fourcc(*"FFV1"), 10,
                             (56, 40))
    for c in colours:
        writer.write(c)
    writer.release()
    with open_video(tmp_path / "c.avi") as reader:
        frames = read_all(reader)
    for i, c in enumerate(colours):
        cv2.imwrite(str(tmp_path / f"c{i}.png"), c)
        np.testing.assert_array_equal(frames[i].image, load_image(tmp_path / f"c{i}.png"))


def test_seek_then_read_gives_that_frame_and_the_ones_after(tmp_path):
    path = write_video(tmp_path / "v.avi", MOTION)
    with open_video(path) as reader:
        reader.read()
        reader.seek(7)
        a, b = reader.read(), reader.read()
        reader.seek(0)
        c = reader.read()
        for bad in (-1, MOTION.frames, 2.5, True):
            with pytest.raises(VideoError, match=f"0 to {MOTION.frames - 1}"):
                reader.seek(bad)
    assert (a.index, b.index, c.index) == (7, 8, 0)
    assert a.time_s == pytest.approx(7 / MOTION.fps)
    for f in (a, b, c):
        np.testing.assert_array_equal(f.image, MOTION.grey(f.index) / np.float32(255))


def test_a_truncated_video_delivers_the_frames_before_the_damage_then_says_so(tmp_path):
    path = truncate(write_video(tmp_path / "cut.avi", MOTION, "MJPG"), 0.7)
    reader = open_video(path)
    good = []
    with pytest.raises(TruncatedVideoError,
                       match=r"cut\.avi.*breaks off after \d+ of the 12 frames.*truncated"
                       ) as caught:
        while True:
            frame = reader.read()
            assert frame is not None, "a truncated file must not end quietly"
            good.append(frame)
    reader.close()
    assert 0 < len(good) < MOTION.frames
    assert f"after {len(good)} of" in str(caught.value)
    assert caught.value.good_frames == len(good) and isinstance(caught.value, VideoError)
    assert all(brightest_inside_block(f, MOTION) for f in good)


def test_a_video_cut_before_its_index_does_not_open(tmp_path):
    path = truncate(write_video(tmp_path / "cut.mp4", MOTION, "mp4v"), 0.8)  # no moov atom
    with pytest.raises(VideoError, match=r"cut\.mp4: not a video OpenCV can read.*damaged"):
        open_video(path)


@pytest.mark.parametrize("make,message", [
    (lambda d: d / "missing.mp4", "no such file"),
    (lambda d: ((d / "empty.mp4").write_bytes(b""), d / "empty.mp4")[1], "empty"),
    (lambda d: (d / "notes.mp4").write_text("hello, not a video") and d / "notes.mp4",
     "not a video OpenCV can read"),
    (lambda d: cv2.imwrite(str(d / "still.png"), MOTION.grey(0)) and d / "still.png",
     r"a still image \(PNG\), not a video"),
    (lambda d: (d / "none").mkdir() or d / "none", "holds no images"),
])
def test_what_is_not_a_video_is_refused_with_its_name(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(VideoError, match=message) as caught:
        open_video(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


# -- folders ---------------------------------------------------------------------------------
def test_a_folder_plays_its_images_in_natural_order(tmp_path):
    folder = write_folder(tmp_path / "frames", MOTION)
    (folder / "notes.txt").write_text("not a frame")
    with open_video(folder) as reader:
        assert reader.info == VideoInfo(str(folder), "folder", MOTION.frames, FOLDER_FPS,
                                        MOTION.shape)
        frames = read_all(reader)
        reader.seek(10)  # frame10.png, which a plain sort puts after frame1.png
        tenth = reader.read()
    assert [f.index for f in frames] == list(range(MOTION.frames))
    for f in [*frames, tenth]:
        np.testing.assert_array_equal(f.image, MOTION.grey(f.index) / np.float32(255))
        assert not f.image.flags.writeable
    assert tenth.index == 10 and tenth.time_s == pytest.approx(10 / FOLDER_FPS)


def test_natural_order_compares_numbers_by_value():
    names = ["frame10.png", "frame2.png", "Frame1.png", "frame02b.png", "a.png"]
    assert sorted(names, key=natural_key) == ["a.png", "Frame1.png", "frame2.png",
                                              "frame02b.png", "frame10.png"]


def test_a_folder_frame_of_another_size_or_a_broken_image_stops_with_its_name(tmp_path):
    folder = write_folder(tmp_path / "f", Motion(frames=3))
    cv2.imwrite(str(folder / "frame3.png"), np.zeros((10, 10), np.uint8))
    (folder / "frame4.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with open_video(folder) as reader:
        assert len([reader.read() for _ in range(3)]) == 3
        with pytest.raises(VideoError, match="frame 3 is 10x10, the first was 128x64"):
            reader.read()
        reader.seek(4)
        with pytest.raises(VideoError, match="frame4.png"):
            reader.read()


def test_a_closed_reader_refuses_to_read(tmp_path):
    reader = open_video(write_video(tmp_path / "v.avi", MOTION))
    reader.close()
    reader.close()
    with pytest.raises(VideoError, match="closed"):
        reader.read()


# -- cameras ---------------------------------------------------------------------------------
class FakeCapture:
    """Stands in for cv2.VideoCapture: `frames` good reads, then failures (unplugged)."""

    made: list[FakeCapture] = []

    def __init__(self, device: int, api: int, *, opens: bool = True, frames: int = 10**9,
                 motion: Motion = MOTION, fps: float = 30.0) -> None:
        self.device, self.api, self.opens = device, api, opens
        self.left, self.motion, self.fps = frames, motion, fps
        self.reads = 0
        self.released = False
        FakeCapture.made.append(self)

    def isOpened(self) -> bool:  # noqa: N802 (OpenCV's name)
        return self.opens and not self.released

    def read(self):
        self.reads += 1
        if not self.isOpened() or self.left <= 0:
            return False, None
        self.left -= 1
        return True, self.motion.bgr((self.reads - 1) % self.motion.frames)

    def get(self, prop: int) -> float:
        return self.fps if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self.released = True


def factory(**kwargs):
    FakeCapture.made = []
    return lambda device, api: FakeCapture(device, api, **kwargs)


def test_a_camera_delivers_frames_through_the_platform_backend():
    reader = open_camera(1, capture_factory=factory(fps=0.0))
    cap = FakeCapture.made[0]
    assert (cap.device, cap.api) == (1, camera_backend())
    assert reader.info == VideoInfo("camera 1", "camera", None, DEFAULT_FPS, MOTION.shape)
    frames = [reader.read() for _ in range(5)]
    assert [f.index for f in frames] == list(range(5))
    assert frames[0].time_s == 0.0
    assert all(b.time_s >= a.time_s for a, b in zip(frames, frames[1:], strict=False))
    for f in frames:
        np.testing.assert_array_equal(f.image, MOTION.grey(f.index) / np.float32(255))
    with pytest.raises(VideoError, match="camera 1: a camera cannot seek"):
        reader.seek(0)
    reader.close()
    assert cap.released


def test_the_api_preference_is_passed_to_the_capture():
    open_camera(0, capture_factory=factory(), api_preference=cv2.CAP_ANY).close()
    assert FakeCapture.made[0].api == cv2.CAP_ANY


def test_the_backend_is_chosen_per_platform():
    assert camera_backend("linux") == cv2.CAP_V4L2
    assert camera_backend("win32") == cv2.CAP_DSHOW
    assert camera_backend("darwin") == cv2.CAP_AVFOUNDATION
    assert camera_backend("sunos5") == cv2.CAP_ANY


def test_a_camera_unplugged_mid_stream_raises_from_read():
    reader = open_camera(0, capture_factory=factory(frames=4))
    assert [reader.read().index for _ in range(4)] == [0, 1, 2, 3]
    with pytest.raises(VideoError, match="camera 0 stopped delivering frames.*unplugged"):
        reader.read()
    assert FakeCapture.made[0].reads == 4 + CAMERA_RETRIES  # a few retries, then the error
    reader.close()


def test_a_missing_or_busy_camera_does_not_open_and_is_released():
    with pytest.raises(VideoError, match="camera 3: no such camera, or it is busy"):
        open_camera(3, capture_factory=factory(opens=False))
    assert FakeCapture.made[0].released
    with pytest.raises(VideoError, match="camera 0: the camera opened but delivers no frames"):
        open_camera(0, capture_factory=factory(frames=0))
    assert FakeCapture.made[0].released
    for bad in (-1, 1.5, True, "0"):
        with pytest.raises(VideoError, match="whole number"):
            open_camera(bad, capture_factory=factory())


def test_probe_lists_the_cameras_that_deliver_and_releases_them_all():
    made = []

    def devices(device, api):
        made.append(FakeCapture(device, api, opens=device in (0, 2, 3),
                                frames=0 if device == 3 else 10))
        return made[-1]

    assert probe_cameras(5, capture_factory=devices) == [0, 2]
    assert [c.device for c in made] == [0, 1, 2, 3, 4] and all(c.released for c in made)
    assert probe_cameras(0, capture_factory=devices) == []
    with pytest.raises(ValueError, match="max_index"):
        probe_cameras(-1, capture_factory=devices)
