"""The rows a drag's job prepares: each row's drift note, worked out once per pipeline and
input shape, is the note of that row's own stages, and the difference rows' maxima are
those of a plain sort."""

from __future__ import annotations

import numpy as np
import pytest
from reference_ops import ref_argmax_order

from engine import CompareSetup, InputImage, InputTransform, PipelineSpec, ViewState
from engine.notes import drift_note
from gui.panels.views import state_view


def canvas(shape: tuple[int, int], seed: int) -> np.ndarray:
    image = np.zeros(shape, np.float32)
    rng = np.random.default_rng(seed)
    image[rng.integers(0, shape[0], 6), rng.integers(0, shape[1], 6)] = 1.0
    image.setflags(write=False)
    return image


@pytest.mark.parametrize("spec, drifts", [
    (PipelineSpec(levels=3, pool_mode="blurmax"), True),
    (PipelineSpec(levels=4, pool_mode="blurmax", blur_size=3), False),  # an odd blur
    (PipelineSpec(levels=6), False)])
def test_every_row_shows_the_drift_note_of_its_own_stages(spec, drifts):
    setup = CompareSetup(InputTransform("shift", dy=3, dx=5), signed_row=True,
                         magnitude_row=True)
    for shape in ((64, 64), (40, 90), (64, 64)):  # the notes of a shape are kept, and reused
        view = state_view(ViewState(InputImage(canvas(shape, 1)), spec, setup), (64, 64))
        for row in (view.a, view.b, view.signed, view.magnitude):
            assert row.drift_note == drift_note(row.result)
        assert (view.a.drift_note is not None) == drifts


def test_a_difference_row_with_fewer_stages_than_a_gets_its_own_note():
    spec = PipelineSpec(levels=5, pool_mode="blurmax")
    small = InputImage(canvas((20, 20), 2))  # B stops pooling sooner than A
    setup = CompareSetup(InputTransform("other"), small, signed_row=True)
    view = state_view(ViewState(InputImage(canvas((64, 64), 3)), spec, setup), (64, 64))
    assert len(view.signed.result.stages) < len(view.a.result.stages)
    assert view.signed.drift_note == drift_note(view.signed.result) != view.a.drift_note
    assert view.a.drift_note == drift_note(view.a.result)


def test_the_magnitude_row_records_the_largest_differences():
    setup = CompareSetup(InputTransform("shift", dy=1, dx=2), magnitude_row=True)
    state = ViewState(InputImage(canvas((48, 48), 4)), PipelineSpec(levels=3), setup, top_k=4)
    view = state_view(state, (64, 64))
    for stage in view.magnitude.result.stages:
        plain = np.abs(np.asarray(view.a.result[stage.name].array, np.float32)
                       - np.asarray(view.b.result[stage.name].array, np.float32))
        assert np.array_equal(stage.array, plain)
        assert stage.maxima == ref_argmax_order(plain)[:4], stage.name
