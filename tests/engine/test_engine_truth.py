"""What the engine says must be true: undefined numbers stay undefined, displacements are
told in input pixels too, unstable peaks are flagged, and the notes explain what a learner
would otherwise misread (a seam, a drift, a pipeline that ran out of rows)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import (
    EXAMPLES,
    CompareSetup,
    InputTransform,
    PipelineSpec,
    compare_results,
    example_state,
    report,
    run_pipeline,
    run_state,
)
from engine.maxima import is_near_tie
from engine.notes import drift_note, pooling_drift


def test_the_pixel_example_moves_5_2_1_0_cells_and_5_4_4_0_input_pixels():
    stages = run_state(example_state("pixel")).comparison.stages
    assert [c.displacement for c in stages] == [(5, 5), (2, 2), (1, 1), (0, 0)]
    assert [c.displacement_px for c in stages] == [(5, 5), (4, 4), (4, 4), (0, 0)]
    assert not any(c.near_tie for c in stages)  # one lit pixel: every peak is clear
    records = report.comparison_metrics(stages)
    assert [r["displacement_px"] for r in records] == [[5, 5], [4, 4], [4, 4], [0, 0]]


def test_a_peak_within_one_percent_of_its_runner_up_is_a_near_tie():
    x = np.zeros((8, 8), np.float32)
    x[1, 1], x[6, 6] = 1.0, 0.995  # two almost equal features far apart
    y = x.copy()
    y[6, 6] = 1.0005  # a tiny change moves the "peak" by five cells
    spec = PipelineSpec(convolve=False, levels=0)
    (comp,) = compare_results(run_pipeline(x, spec), run_pipeline(y, spec))
    assert comp.displacement == (5, 5) and comp.near_tie_a and comp.near_tie_b
    assert not is_near_tie(np.array([[1.0, 0.98]]))
    assert is_near_tie(np.zeros((3, 3)))  # nothing stands out
    columns, lines = report.metrics_table(report.metrics_document(
        {"A": [], "B": [report.stage_metrics(run_pipeline(y, spec)["input"], "B")]},
        report.comparison_metrics([comp])), 1)
    assert lines[0][columns.index("near_tie")] is True
    assert lines[0][columns.index("displacement_dx_px")] == 5


def test_a_wrapping_shift_through_valid_padding_says_it_cuts_a_seam():
    state = example_state("shift")
    run = run_state(state)
    conv = next(c for c in run.comparison.stages if c.name == "conv")
    assert conv.equivariance_error == pytest.approx(0.108, abs=1e-3)
    assert "valid padding does not" in run.comparison.note
    assert "circular padding" in run.comparison.note
    fixed = run_state(state.replace(spec=state.spec.replace(padding="circular")))
    assert next(c for c in fixed.comparison.stages if c.name == "conv").equivariance_error \
        == 0.0
    assert fixed.comparison.note is None
    no_wrap = state.replace(compare=CompareSetup(InputTransform("shift", dx=1, wrap=False)))
    assert run_state(no_wrap).comparison.note is None


@pytest.mark.parametrize("mode, blur, drifts", [
    ("blurmax", 4, [0.5, 1.5, 3.5]),
    ("blur", 3, [-0.5, -1.5, -3.5]),
    ("max", 4, [0.0, 0.0, 0.0]),
    ("blurmax", 3, [0.0, 0.0, 0.0]),
])
def test_pooling_drift_is_read_from_where_the_panels_are_drawn(mode, blur, drifts):
    result = run_pipeline(np.ones((64, 64)), PipelineSpec(levels=3, pool_mode=mode,
                                                          blur_size=blur))
    measured = pooling_drift(result)
    assert [dx for _, dx in measured.values()] == drifts
    assert [dy for dy, _ in measured.values()] == drifts
    # against the stage rectangles the window draws: each pooled panel's left edge moves
    conv_x = result["conv"].display_rect()[0]
    assert [result[f"pool {k}"].display_rect()[0] - conv_x for k in (1, 2, 3)] == drifts
    note = drift_note(result)
    if any(drifts):
        where = "right and down" if drifts[-1] > 0 else "left and up"
        assert f"pool 1 0.5, pool 2 1.5, pool 3 3.5 input pixels {where}" in note
    else:
        assert note is None


def test_an_early_stop_says_how_many_levels_ran_and_why():
    result = run_pipeline(np.ones((10, 10)), PipelineSpec(convolve=False, levels=12))
    assert result.levels_produced == 3
    assert result.stop_cause == "input (1, 1) is smaller than the pooling window 2x2"
    assert result.stop_reason == f"stopped after 3 of 12 levels: {result.stop_cause}"


def test_b_of_an_example_is_described_once_and_never_as_edited():
    state = example_state("mirror").verified()
    assert state.caption == "example:mirror vs mirrored left-right"
    assert not state.a.edited
    assert EXAMPLES["mirror"].b_transform is not None


def test_a_pair_of_empty_maps_has_no_displacement_in_the_records():
    x = np.zeros((10, 10), np.float32)
    x[9, 9] = 1.0  # the deepest of two levels is empty in both A and B
    spec = PipelineSpec(convolve=False, levels=2)
    records = report.comparison_metrics(compare_results(run_pipeline(x, spec),
                                                        run_pipeline(x.copy(), spec)))
    assert [r["displacement"] for r in records] == [[0, 0], [0, 0], None]
    assert records[-1]["distance"] is None and records[-1]["displacement_px"] is None


def test_kernels_carry_their_true_names():
    from engine import KERNELS

    prewitt = [[-1.0, 0.0, 1.0]] * 3
    assert KERNELS["prewitt_vertical"].tolist() == prewitt
    assert PipelineSpec().kernel == "prewitt_vertical"  # the article's "Sobel"
    assert KERNELS["sobel_vertical"].tolist() == [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0],
                                                  [-1.0, 0.0, 1.0]]
    assert EXAMPLES["mirror"].spec.kernel == "prewitt_vertical"
    assert "the article's 'Sobel'" in EXAMPLES["mirror"].description


def test_near_tie_agrees_with_a_plain_masked_reference():
    rng = np.random.default_rng(11)
    for trial in range(300):
        x = rng.random((int(rng.integers(1, 9)), int(rng.integers(2, 9)))).astype(np.float32)
        if trial % 3 == 0:
            x = np.round(x * 4) / 4  # ties, including ties next to the peak
        r, c = np.unravel_index(int(np.argmax(x)), x.shape)
        rest = x.astype(np.float64)
        rest[max(0, r - 1):r + 2, max(0, c - 1):c + 2] = -np.inf
        top = float(x[r, c])
        want = top <= 0 or (np.isfinite(rest.max()) and top - rest.max() <= 0.01 * top)
        assert is_near_tie(x) == want, x


def test_the_comparison_names_the_padding_that_removes_its_seam():
    state = example_state("shift")
    assert run_state(state).comparison.fix_padding == "circular"
    fixed = state.replace(spec=state.spec.replace(padding="circular"))
    assert run_state(fixed).comparison.fix_padding is None
    assert run_state(example_state("mirror")).comparison.fix_padding is None
