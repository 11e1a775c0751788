"""compare_results and equivariance_error against plain references."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import (
    PipelineSpec,
    StageComparison,
    compare_results,
    equivariance_error,
    load_example,
    mirror,
    normalized_distance,
    report,
    run_pipeline,
    sample_photo,
)
from engine.sweep import sweep_stages


def reference_distance(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denominator = max(np.sqrt((a * a).sum()), np.sqrt((b * b).sum()))
    return 0.0 if denominator == 0 else float(np.sqrt(((a - b) ** 2).sum()) / denominator)


def test_pixel_example_peaks_are_5_then_2_then_1_then_0_apart():
    a, b = load_example("pixel")
    spec = PipelineSpec(convolve=False, levels=3)
    rows = compare_results(run_pipeline(a, spec), run_pipeline(b, spec))
    assert [r.name for r in rows] == ["input", "pool 1", "pool 2", "pool 3"]
    assert [r.displacement for r in rows] == [(5, 5), (2, 2), (1, 1), (0, 0)]
    assert [r.peak_a for r in rows] == [(2, 2), (1, 1), (0, 0), (0, 0)]
    assert [r.peak_b for r in rows] == [(7, 7), (3, 3), (1, 1), (0, 0)]
    assert [r.shape_a for r in rows] == [(10, 10), (5, 5), (2, 2), (1, 1)]
    # two single lit pixels in different places: the distance is sqrt(2) until they merge
    assert [r.distance for r in rows] == pytest.approx([np.sqrt(2)] * 3 + [0.0])


def test_distance_and_displacement_match_a_plain_reference():
    rng = np.random.default_rng(3)
    a, b = rng.random((40, 56)), rng.random((40, 56))
    ra, rb = run_pipeline(a), run_pipeline(b)
    rows = compare_results(ra, rb)
    assert [r.name for r in rows] == ra.names
    for row, sa, sb in zip(rows, ra.stages, rb.stages, strict=True):
        assert row.distance == pytest.approx(reference_distance(sa.array, sb.array), rel=1e-9)
        pa = np.unravel_index(np.argmax(sa.array), sa.shape)
        pb = np.unravel_index(np.argmax(sb.array), sb.shape)
        assert row.displacement == (pb[0] - pa[0], pb[1] - pa[1])
        assert row.compared_shape == row.shape_a == row.shape_b and not row.partial
        assert row.equivariance_error is None


def test_identical_inputs_have_distance_zero_and_an_all_zero_pair_is_undefined():
    x = np.random.default_rng(0).random((32, 32))
    assert all(r.distance == 0.0 for r in compare_results(run_pipeline(x), run_pipeline(x)))
    z = np.zeros((16, 16))
    rows = compare_results(run_pipeline(z), run_pipeline(z.copy()))
    # two empty maps are no evidence of a match: undefined, never a perfect 0
    assert all(np.isnan(r.distance) and r.both_zero for r in rows)
    assert np.isnan(normalized_distance(z, z))
    assert normalized_distance(z, np.ones((16, 16))) == 1.0
    assert not compare_results(run_pipeline(x), run_pipeline(x))[0].both_zero


def test_a_pixel_that_left_the_canvas_leaves_gaps_in_the_sweep_not_zeros(tmp_path):
    # the pixel at (6, 6) of a 10x10 canvas, moved right by whole cells with zero fill:
    # once it has left (shift 4), both maps are empty and the distance is undefined
    x = np.zeros((10, 10), np.float32)
    x[6, 6] = 1.0
    spec = PipelineSpec(convolve=False, levels=2)
    names, distances = sweep_stages(x, spec, range(5), axis="x", wrap=False, align=True)
    assert distances[0].tolist() == [0.0, 0.0, 0.0]
    assert np.isfinite(distances[1]).all() and np.isfinite(distances[1:4, :2]).all()
    assert np.isnan(distances[4]).all()  # it used to read 0: a perfect match
    columns, rows = report.sweep_table(range(5), names, distances, "x")
    assert rows[4][1:] == [None, None, None]
    report.write_csv(tmp_path / "sweep.csv", columns, rows)
    assert (tmp_path / "sweep.csv").read_text().splitlines()[5] == "4,n/a,n/a,n/a"


def test_different_shapes_compare_the_top_left_overlap():
    coffee, cat = load_example("two-photos")
    assert coffee.shape == (400, 600) and cat.shape == (300, 451)
    ra, rb = run_pipeline(coffee), run_pipeline(cat)
    rows = compare_results(ra, rb)
    for row, sa, sb in zip(rows, ra.stages, rb.stages, strict=True):
        h, w = min(sa.shape[0], sb.shape[0]), min(sa.shape[1], sb.shape[1])
        assert row.partial and row.compared_shape == (h, w)
        assert row.distance == pytest.approx(
            reference_distance(sa.array[:h, :w], sb.array[:h, :w]), rel=1e-9)
        assert row.distance > 0.3  # different photos differ at every depth
    assert rows[-1].shape_a == (6, 9) and rows[-1].shape_b == (4, 7)


def test_only_shared_stages_are_compared_in_the_order_of_a():
    x = np.random.default_rng(1).random((32, 32))
    a = run_pipeline(x, PipelineSpec(levels=3))
    b = run_pipeline(x, PipelineSpec(convolve=False, levels=2))
    assert [r.name for r in compare_results(a, b)] == ["input", "pool 1", "pool 2"]


def test_equivariance_errors_are_copied_by_stage_and_checked():
    x = np.random.default_rng(2).random((32, 32))
    spec = PipelineSpec(padding="circular", levels=2)
    errors = equivariance_error(x, spec, 0, 2)
    rows = compare_results(run_pipeline(x, spec), run_pipeline(np.roll(x, 2, axis=1), spec),
                           equivariance_errors=errors)
    assert [r.equivariance_error for r in rows] == errors
    assert errors[-1] is None and errors[2] is not None  # stride 4 vs stride 2
    with pytest.raises(ValueError, match="equivariance_errors"):
        compare_results(run_pipeline(x, spec), run_pipeline(x, spec), equivariance_errors=[0.0])


def test_stage_comparison_is_frozen():
    row = compare_results(run_pipeline(np.eye(8)), run_pipeline(np.eye(8)))[0]
    assert isinstance(row, StageComparison)
    with pytest.raises(dataclasses.FrozenInstanceError):
        row.distance = 1.0


def test_mirror_lights_opposite_edges_with_sobel_but_commutes_with_laplacian():
    coffee = sample_photo("coffee")
    flipped = mirror(coffee)
    sobel = compare_results(run_pipeline(coffee), run_pipeline(flipped))
    assert sobel[1].name == "conv" and sobel[1].distance > 1.0
    # against the mirrored conv map, Prewitt + ReLU still misses: the other edges lit up
    conv, conv_of_flipped = run_pipeline(coffee)["conv"].array, run_pipeline(flipped)["conv"]
    assert normalized_distance(mirror(conv), conv_of_flipped.array) > 1.0
    lap = PipelineSpec(kernel="laplacian")
    assert normalized_distance(mirror(run_pipeline(coffee, lap)["conv"].array),
                               run_pipeline(flipped, lap)["conv"].array) < 1e-6


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 3), cols=st.integers(1, 3), dy=st.integers(-20, 20),
       dx=st.integers(-20, 20), kh=st.sampled_from([1, 2, 3, 5]), kw=st.sampled_from([1, 3, 4]),
       mode=st.sampled_from(["max", "avg"]), stride=st.sampled_from([1, 2]),
       seed=st.integers(0, 2**16))
def test_circular_pipeline_is_equivariant_where_the_stride_divides_the_shift(
        rows, cols, dy, dx, kh, kw, mode, stride, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8 * rows, 8 * cols))  # sides divisible by the total stride 8
    spec = PipelineSpec(kernel=rng.normal(size=(kh, kw)), padding="circular", stride=stride,
                        pool_mode=mode, levels=3 if stride == 1 else 2)
    result = run_pipeline(x, spec)
    errors = equivariance_error(x, spec, dy, dx)
    assert len(errors) == len(result.stages)
    for stage, error in zip(result.stages, errors, strict=True):
        sy, sx = stage.stride
        if dy % sy == 0 and dx % sx == 0:
            assert error is not None and error < 1e-6, (stage.name, error)
        else:
            assert error is None, stage.name


def test_valid_padding_shows_the_border_in_the_error():
    coffee = sample_photo("coffee")
    errors = equivariance_error(coffee, PipelineSpec(levels=2), 0, 2)
    assert errors[0] == 0.0  # the input itself is moved exactly
    # the valid conv map is 2 columns narrower, so the wrapped columns land elsewhere
    conv = run_pipeline(coffee)["conv"].array.astype(np.float64)
    moved = run_pipeline(np.roll(coffee, 2, axis=1))["conv"].array.astype(np.float64)
    expected = np.sqrt(((moved - np.roll(conv, 2, axis=1)) ** 2).sum() / (conv ** 2).sum())
    assert errors[1] == pytest.approx(expected, rel=1e-9) and errors[1] > 0.01
    assert errors[2] is not None and errors[3] is None


def test_error_stays_finite_when_the_unshifted_stage_is_all_zero():
    x = np.zeros((8, 8))
    x[:, :4] = 1  # a bright-to-dark step: Prewitt is negative there, ReLU gives 0
    spec = PipelineSpec(levels=0)
    assert not run_pipeline(x, spec)["conv"].array.any()
    errors = equivariance_error(x, spec, 0, 2)  # wrapping creates a dark-to-bright step
    assert run_pipeline(np.roll(x, 2, axis=1), spec)["conv"].array.any()
    assert errors == [0.0, 1.0]
    assert equivariance_error(np.zeros((8, 8)), spec, 1, 1) == [None, None]  # undefined


@pytest.mark.parametrize("dy, dx", [(0.5, 0), (0, "1")])
def test_equivariance_error_rejects_non_integer_shifts(dy, dx):
    with pytest.raises(ValueError, match="dy|dx"):
        equivariance_error(np.zeros((8, 8)), None, dy, dx)
