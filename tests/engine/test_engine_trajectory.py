"""Trajectories of every stage's maximum, checked against a block moved by a known number of
pixels per frame: the input's maximum follows the block and each pooling level's column is
the block's column divided by the level's stride."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from moving_videos import Motion, write_video

from engine import PipelineSpec, run_pipeline
from engine.trajectory import (
    TRAJECTORY_COLUMNS,
    TrackPoint,
    Trajectory,
    cell_centre,
    track_points,
)
from engine.video_input import open_video

MOTION = Motion(frames=12, dx=3, dy=1)


def tracked(spec: PipelineSpec, motion: Motion = MOTION, reader=None) -> Trajectory:
    trajectory = Trajectory()
    for i in range(motion.frames):
        if reader is None:
            image, time_s = motion.grey(i) / np.float32(255), i / motion.fps
        else:
            frame = reader.read()
            assert frame.index == i
            image, time_s = frame.image, frame.time_s
        trajectory.append(track_points(run_pipeline(image, spec), i, time_s))
    return trajectory


def corners(motion: Motion = MOTION) -> tuple[np.ndarray, np.ndarray]:
    rows, cols = zip(*(motion.corner(i) for i in range(motion.frames)), strict=True)
    return np.array(rows, float), np.array(cols, float)


@pytest.mark.parametrize("from_video", [False, True])
def test_without_convolution_each_level_is_the_input_divided_by_its_stride(tmp_path,
                                                                          from_video):
    spec = PipelineSpec(convolve=False, levels=6)
    if from_video:
        with open_video(write_video(tmp_path / "m.avi", MOTION)) as reader:
            t = tracked(spec, reader=reader)
    else:
        t = tracked(spec)
    rows, cols = corners()
    assert t.stages == ["input"] + [f"pool {k}" for k in range(1, 7)]
    inp = t.series("input")
    np.testing.assert_array_equal(inp.row, rows)  # the block's top-left corner: the first
    np.testing.assert_array_equal(inp.col, cols)  # of its equal pixels in row-major order
    np.testing.assert_array_equal(inp.input_col, cols)
    assert inp.time_s == pytest.approx(np.arange(MOTION.frames) / MOTION.fps)
    for k in range(1, 7):
        s = t.series(f"pool {k}")
        np.testing.assert_array_equal(s.row, rows // 2**k)
        np.testing.assert_array_equal(s.col, cols // 2**k)
        # the staircase: the input moves every frame, a deep level only now and then
        assert len(np.unique(s.col)) < len(np.unique(cols)) or k == 1
        assert np.all(s.value == 1.0)


def test_with_the_articles_pipeline_the_pools_follow_the_blocks_left_edge():
    t = tracked(PipelineSpec())
    rows, cols = corners()
    conv = t.series("conv")
    # The vertical Prewitt [-1, 0, 1] answers 3 where the block's left edge is two columns
    # to the right of the cell; the first such cell is the block's top row.
    np.testing.assert_array_equal(conv.row, rows)
    np.testing.assert_array_equal(conv.col, cols - 2)
    np.testing.assert_array_equal(conv.value, np.full(MOTION.frames, 3.0))
    np.testing.assert_array_equal(conv.input_col, cols - 1)  # centre of its 3x3 window
    levels = [n for n in t.stages if n.startswith("pool")]
    assert len(levels) == 5  # 64 rows: 62 -> 31 -> 15 -> 7 -> 3 -> 1, then too small
    for k, name in enumerate(levels, start=1):
        s = t.series(name)
        np.testing.assert_array_equal(s.row, (rows) // 2**k)
        np.testing.assert_array_equal(s.col, (cols - 2) // 2**k)


def test_input_pixels_are_the_centre_of_the_cell_the_window_draws():
    img = np.random.default_rng(0).random((61, 83), dtype=np.float32)
    for spec in (PipelineSpec(), PipelineSpec(convolve=False, levels=3, pool_size=3),
                 PipelineSpec(padding="same", pool_mode="blurmax", levels=3),
                 PipelineSpec(kernel=np.ones((5, 4)), stride=2, pool_stride=1, levels=2)):
        result = run_pipeline(img, spec)
        for stage, p in zip(result.stages, track_points(result, 0, 0.0), strict=True):
            x, y, w, h = stage.display_rect()
            sy, sx = stage.stride
            # display cell (row, col) spans [x + col*sx, x + (col+1)*sx) in scene units,
            # where pixel j spans [j, j + 1): its centre minus a half is pixel indices
            assert p.input_col == pytest.approx(x + (p.col + 0.5) * sx - 0.5)
            assert p.input_row == pytest.approx(y + (p.row + 0.5) * sy - 0.5)
            assert w == stage.shape[1] * sx and h == stage.shape[0] * sy
            top, left, bottom, right = stage.receptive_field(p.row, p.col)
            if top > 0 and left > 0 and bottom < 61 and right < 83:  # not clipped
                assert (p.input_row, p.input_col) == ((top + bottom - 1) / 2,
                                                      (left + right - 1) / 2)


def test_a_blank_frame_has_no_feature_and_a_rival_peak_is_a_near_tie():
    blank = track_points(run_pipeline(np.zeros((32, 32)), PipelineSpec(levels=2)), 4, 0.5)
    assert [p.stage for p in blank] == ["input", "conv", "pool 1", "pool 2"]
    assert all(p.row is p.col is p.input_row is p.input_col is None for p in blank)
    assert all(p.near_tie and not p.found and p.value == 0.0 for p in blank)
    one = np.zeros((32, 32))
    one[5, 9] = 1.0
    single = track_points(run_pipeline(one, PipelineSpec(convolve=False, levels=2)), 0, 0)
    assert [(p.row, p.col, p.near_tie) for p in single] == [(5, 9, False), (2, 4, False),
                                                            (1, 2, False)]
    two = one.copy()
    two[25, 20] = 0.995
    pair = track_points(run_pipeline(two, PipelineSpec(convolve=False, levels=2)), 0, 0)
    assert all(p.near_tie for p in pair) and pair[0].col == 9


def test_the_csv_has_one_line_per_frame_and_stage_with_the_columns_in_order(tmp_path):
    t = tracked(PipelineSpec(convolve=False, levels=2), Motion(frames=4))
    t.append(track_points(run_pipeline(np.zeros((64, 128)),
                                       PipelineSpec(convolve=False, levels=2)), 4, 0.16))
    t.write_csv(tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text(encoding="utf-8")
    assert text == t.csv_text()
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == TRAJECTORY_COLUMNS == ("frame", "time_s", "stage", "row", "col",
                                                    "value", "input_row", "input_col")
    assert len(rows) == 1 + 5 * 3
    for line, p in zip(rows[1:], t.points, strict=True):
        assert int(line[0]) == p.frame and float(line[1]) == pytest.approx(p.time_s)
        assert line[2] == p.stage
        if p.found:
            assert (int(line[3]), int(line[4])) == (p.row, p.col)
            assert (float(line[6]), float(line[7])) == (p.input_row, p.input_col)
        else:
            assert line[3] == line[4] == line[6] == line[7] == ""
        assert float(line[5]) == p.value
    assert rows[1 + 3 * 3 + 2] == ["3", "0.12", "pool 2", "3", "3", "1", "13.5", "13.5"]


def test_series_and_a_bounded_trajectory():
    t = Trajectory(max_frames=3)
    for i in range(5):
        img = np.zeros((8, 8))
        img[i, 7 - i] = 1
        t.append(track_points(run_pipeline(img, PipelineSpec(convolve=False, levels=1)), i,
                              i / 2))
    assert len(t) == 3 and [p.frame for p in t.points] == [2, 2, 3, 3, 4, 4]
    s = t.series("pool 1")
    assert s.frame.tolist() == [2, 3, 4] and s.col.tolist() == [2.0, 2.0, 1.0]
    assert len(t.series("no such stage")) == 0
    t.clear()
    assert t.points == [] and t.stages == []
    with pytest.raises(ValueError, match="TrackPoints"):
        t.append([(0, 0)])
    with pytest.raises(ValueError, match="max_frames"):
        Trajectory(max_frames=0)


def test_cell_centre_matches_the_track_point():
    r = run_pipeline(np.eye(16), PipelineSpec(levels=2))
    p = track_points(r, 0, 0)[2]
    assert isinstance(p, TrackPoint) and cell_centre(r["pool 1"], p.row, p.col) == (
        p.input_row, p.input_col)
