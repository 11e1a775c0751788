"""What you see: every paragraph and warning of engine.describe, each made by a real state
and checked against the engine's own facts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine import (
    EXAMPLES,
    CompareSetup,
    ImageSource,
    InputImage,
    InputTransform,
    PipelineSpec,
    ViewState,
    run_pipeline,
    run_state,
)
from engine.comparison import BOTH_ZERO, seam_note
from engine.describe import (
    APS_TIES,
    COLOURS,
    DRIFT,
    EARLY_STOP,
    METRICS,
    NEAR_TIE_TITLE,
    NOTE,
    PIPELINE,
    ROWS,
    SEAM,
    describe,
)
from engine.maxima import is_near_tie
from engine.notes import drift_note
from engine.state import example_state


def described(state: ViewState, drift: bool = False):
    run = run_state(state)
    return describe(state, run, drift=drift_note(run.a) if drift else None), run


def image(points: dict[tuple[int, int], float], shape=(16, 16)) -> np.ndarray:
    arr = np.zeros(shape, np.float32)
    for (r, c), v in points.items():
        arr[r, c] = v
    return arr


def test_the_demo_says_pipeline_rows_and_colours_and_warns_of_nothing():
    text, run = described(ViewState.demo())
    assert text.titles == [PIPELINE, ROWS, COLOURS]
    shapes = [f"{s.shape[0]}×{s.shape[1]}" for s in run.a.stages]
    assert text[PIPELINE].text == (f"input {shapes[0]} → 2 levels of 2×2 max pooling, "
                                   f"stride 2 → {shapes[1]}, {shapes[2]}")
    assert shapes == ["10×10", "5×5", "2×2"]
    assert text.warnings == ()
    assert "One row" in text[ROWS].text and "own scale" in text[COLOURS].text


def test_the_article_pipeline_line_gives_every_shape_the_engine_makes():
    text, run = described(example_state("mirror"))
    line = text[PIPELINE].text
    for stage in run.a.stages:
        assert f"{stage.shape[0]}×{stage.shape[1]}" in line
    assert "prewitt_vertical 3×3 (valid padding), ReLU" in line and "6 levels" in line


def test_an_example_is_explained_in_its_own_words():
    for name, example in EXAMPLES.items():
        state = example_state(name)
        text, _ = described(state)
        assert text.paragraphs[0].title == f"Example: {example.title}"
        assert text.paragraphs[0].text == example.description
    plain = ViewState(InputImage(example_state("pixel").a.pixels))
    assert not described(plain)[0].paragraphs[0].title.startswith("Example")


def test_rows_say_what_b_and_the_difference_rows_are():
    state = example_state("shift")
    setup = dataclasses.replace(state.compare, signed_row=True, magnitude_row=True)
    text, run = described(state.replace(compare=setup))
    rows = text[ROWS].text
    assert "Row B: A shifted by (dy, dx) = (0, 1), wrapping around." in rows
    assert "Row A − B" in rows and "Row |A − B|" in rows
    assert "A − B: white = 0" in text[COLOURS].text


def test_shared_levels_give_the_one_range_the_engine_uses():
    state = example_state("pixel").replace(shared_levels=True)
    text, run = described(state)
    lo, hi = run.ranges["pool 1"]
    assert len({v for k, v in run.ranges.items() if k != "input"}) == 1
    assert f"from {lo:.3g} to {hi:.3g}" in text[COLOURS].text
    assert "shared" in text[COLOURS].text


def test_near_tie_single_row_names_the_stages_the_engine_flags():
    spec = PipelineSpec(convolve=False, levels=1)
    state = ViewState(InputImage(image({(2, 2): 1.0, (12, 12): 0.995})), spec)
    text, run = described(state)
    flagged = [s.name for s in run.a.stages if is_near_tie(s.array)]
    assert flagged == ["input", "pool 1"]
    warning = text[NEAR_TIE_TITLE]
    assert warning.warning and warning.text.startswith("At input, pool 1 another cell")
    clear = ViewState(InputImage(image({(2, 2): 1.0, (12, 12): 0.5})), spec)
    assert NEAR_TIE_TITLE not in described(clear)[0]


def test_near_tie_while_comparing_says_which_row():
    spec = PipelineSpec(convolve=False, levels=1)
    b = InputImage(image({(2, 2): 1.0}))
    a = InputImage(image({(2, 2): 1.0, (12, 12): 1.0}))
    state = ViewState(a, spec, CompareSetup(InputTransform("other"), b))
    text, run = described(state)
    ties = {c.name: (c.near_tie_a, c.near_tie_b) for c in run.comparison.stages}
    assert ties == {"input": (True, False), "pool 1": (True, False)}
    assert text[NEAR_TIE_TITLE].text.startswith("At input (A), pool 1 (A) ")


def test_the_seam_warning_is_the_engines_note_and_goes_with_circular_padding():
    state = example_state("shift")
    text, run = described(state)
    assert text[SEAM].warning
    assert text[SEAM].text == seam_note(state.spec, state.compare.transform)
    assert run.comparison.fix_padding == "circular"
    fixed = state.replace(spec=state.spec.replace(padding="circular"))
    assert SEAM not in described(fixed)[0]


def test_levels_that_stopped_early_quote_the_engines_reason():
    state = ViewState.demo().replace(spec=PipelineSpec(convolve=False, levels=6))
    text, run = described(state)
    assert run.a.stop_reason is not None and run.a.levels_produced == 3
    assert text[EARLY_STOP].text == f"A: {run.a.stop_reason}."
    compared = state.replace(compare=CompareSetup(InputTransform("mirror")))
    text, run = described(compared)
    assert text[EARLY_STOP].text == f"A and B: {run.a.stop_reason}."


def test_aps_ties_name_the_stages_where_phases_tied():
    spec = PipelineSpec(convolve=False, levels=2, pool_mode="aps")
    tied = ViewState(InputImage(image({(2, 2): 1.0, (5, 5): 1.0}, (8, 8))), spec)
    text, run = described(tied)
    assert run.a.aps_ties == ("pool 1",)
    assert text[APS_TIES].warning and text[APS_TIES].text.startswith("At pool 1 (A) two or")
    untied = ViewState(InputImage(image({(2, 2): 1.0}, (8, 8))), spec)
    assert run_pipeline(untied.a.pixels, spec).aps_ties == ()
    assert APS_TIES not in described(untied)[0]


def test_metrics_say_why_each_value_is_na():
    text, run = described(example_state("shift"))
    notes = [c.error_note for c in run.comparison.stages if c.error_note]
    assert notes == [f"shift not a multiple of S = {2 ** k}" for k in range(1, 7)]
    assert ("Error n/a at pool 1, pool 2, pool 3, pool 4, pool 5, pool 6 (shift not a "
            "multiple of S = 2, 4, 8, 16, 32, 64).") in text[METRICS].text
    dark = ViewState(InputImage(np.zeros((8, 8), np.float32)),
                     PipelineSpec(convolve=False, levels=1),
                     CompareSetup(InputTransform("mirror")))
    text, run = described(dark)
    assert all(c.both_zero for c in run.comparison.stages)
    assert f"Distance n/a at input, pool 1: {BOTH_ZERO}." in text[METRICS].text


def test_the_mirror_note_and_the_drift_note_are_the_engines():
    state = example_state("mirror")
    text, run = described(state)
    assert text[NOTE].text == run.comparison.note and not text[NOTE].warning
    blur = state.replace(spec=state.spec.replace(pool_mode="blurmax"), compare=None)
    text, run = described(blur, drift=True)
    assert text[DRIFT].text == drift_note(run.a)
    assert DRIFT not in described(ViewState.demo(), drift=True)[0]


@pytest.mark.parametrize("kind", ["file", "canvas"])
def test_rows_name_the_input(kind, tmp_path):
    pixels = ViewState.demo().a.pixels
    source = ImageSource.of_file(tmp_path / "dot.png") if kind == "file" else ImageSource()
    text, _ = described(ViewState(InputImage(pixels, source), ViewState.demo().spec))
    expected = "dot.png" if kind == "file" else "drawn in the window"
    assert f"input A ({expected})" in text[ROWS].text
