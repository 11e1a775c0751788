"""The pipeline job's cache of the last runs of A and B: a run is reused exactly when its
pixels are equal, wherever an edit lies."""

from __future__ import annotations

import numpy as np

from engine import CompareSetup, InputImage, InputTransform, PipelineSpec, ViewState, run_pipeline
from gui.panels.views import RunCache, same_pixels, state_view


def test_same_pixels_finds_an_edit_in_any_band():
    rng = np.random.default_rng(0)
    a = rng.random((700, 90)).astype(np.float32)
    assert same_pixels(a, a.copy(), band=64)
    for row, col in ((0, 0), (699, 89), (300, 1), (64, 45)):
        b = a.copy()
        b[row, col] += 1.0
        assert not same_pixels(a, b, band=64)
    assert not same_pixels(a, a[:-1])
    assert same_pixels(-0.0 * a[:1], 0.0 * a[:1])  # equal values, as np.array_equal says


def frozen(pixels: np.ndarray) -> np.ndarray:
    view = pixels.copy().view()
    view.setflags(write=False)
    return view


def test_a_run_is_reused_only_for_the_same_pixels():
    rng = np.random.default_rng(1)
    pixels = rng.random((300, 260)).astype(np.float32)
    spec = PipelineSpec(levels=3)
    setup = CompareSetup(InputTransform("mirror"))
    cache = RunCache()
    first = state_view(ViewState(InputImage(frozen(pixels)), spec, setup), (64, 64), cache)
    again = state_view(ViewState(InputImage(frozen(pixels)), spec, setup), (64, 64), cache)
    assert again.a.result is first.a.result and again.b.result is first.b.result
    assert again.a is first.a  # the prepared view too
    edited = pixels.copy()
    edited[299, 7] = 0.25  # the last row, far from the sparse sample's rows
    third = state_view(ViewState(InputImage(frozen(edited)), spec, setup), (64, 64), cache)
    assert third.a.result is not first.a.result and third.b.result is not first.b.result
    for result, image in ((third.a.result, edited), (third.b.result, edited[:, ::-1])):
        for got, want in zip(result.stages, run_pipeline(image, spec).stages, strict=True):
            np.testing.assert_array_equal(got.array, want.array)
    # equal pixels in another array (the snapshot buffers are recycled) find the run
    assert cache.lookup("A", frozen(edited), spec, 3) is third.a.result
    assert cache.lookup("B", frozen(edited[:, ::-1]), spec, 3) is third.b.result
