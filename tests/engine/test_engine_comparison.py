"""compare_inputs and InputTransform against plain numpy and the article's numbers."""

from __future__ import annotations

import numpy as np
import pytest

from engine import (
    InputTransform,
    PipelineSpec,
    compare_inputs,
    equivariance_error,
    run_pipeline,
    sample_photo,
)

PIXEL_SPEC = PipelineSpec(convolve=False, levels=3)


def _pixel(r: int, c: int) -> np.ndarray:
    img = np.zeros((10, 10), np.float32)
    img[r, c] = 1
    return img


def test_article_pixel_displacements_read_5_2_1_0():
    c = compare_inputs(_pixel(2, 2), _pixel(7, 7), PIXEL_SPEC,
                       transform=InputTransform("other"))
    assert [s.name for s in c.stages] == ["input", "pool 1", "pool 2", "pool 3"]
    assert [s.displacement for s in c.stages] == [(5, 5), (2, 2), (1, 1), (0, 0)]
    assert c.stages[-1].distance == 0.0
    assert all(s.equivariance_error is None for s in c.stages)  # another image: no T'


@pytest.mark.parametrize("kind, ref", [
    ("mirror", lambda x: x[:, ::-1]),
    ("flip", lambda x: x[::-1, :]),
    ("rotate", lambda x: np.rot90(x)),
])
def test_transforms_match_numpy(kind, ref):
    x = np.random.default_rng(1).random((7, 9)).astype(np.float32)
    before = x.copy()
    np.testing.assert_array_equal(InputTransform(kind).apply(x), ref(x))
    np.testing.assert_array_equal(x, before)


def test_shift_without_wrap_fills_zeros():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    out = InputTransform("shift", dy=1, dx=-1, wrap=False).apply(x)
    expected = np.zeros_like(x)
    expected[1:, :-1] = x[:-1, 1:]
    np.testing.assert_array_equal(out, expected)


def _rolled_errors(x, spec, dy, dx):
    """||f(roll x) - roll' f(x)|| / ||f(x)|| per stage, written plainly with np.roll."""
    base = run_pipeline(x, spec)
    moved = run_pipeline(np.roll(x, (dy, dx), axis=(0, 1)), spec)
    out = []
    for stage, stage_moved in zip(base.stages, moved.stages, strict=True):
        sy, sx = stage.stride
        if dy % sy or dx % sx:
            out.append(None)
            continue
        f = stage.array.astype(np.float64)
        diff = stage_moved.array - np.roll(f, (dy // sy, dx // sx), axis=(0, 1))
        out.append(float(np.linalg.norm(diff) / np.linalg.norm(f)))
    return out


def test_circular_shift_errors_equal_equivariance_error():
    x = np.random.default_rng(2).random((32, 48)).astype(np.float32)
    spec = PipelineSpec(padding="circular", levels=3)
    for dy, dx in [(0, 1), (2, 4), (-8, 8), (3, 0)]:
        c = compare_inputs(x, spec=spec, transform=InputTransform("shift", dy=dy, dx=dx))
        assert equivariance_error(x, spec, dy, dx) == [s.equivariance_error for s in c.stages]
        expected = _rolled_errors(x, spec, dy, dx)
        got = [s.equivariance_error for s in c.stages]
        assert [g is None for g in got] == [e is None for e in expected]
        np.testing.assert_allclose([g for g in got if g is not None],
                                   [e for e in expected if e is not None], atol=1e-7)
        # circular conv is exactly equivariant; strides that divide give 0 too
        for stage, err in zip(c.a.stages, got, strict=True):
            if err is not None:
                assert err < 1e-6, (stage.name, dy, dx, err)


def test_mirror_with_vertical_sobel_negates_and_mirrored_kernel_commutes():
    coffee = sample_photo("coffee")
    plain = compare_inputs(coffee, spec=PipelineSpec(), transform=InputTransform("mirror"))
    conv = {s.name: s for s in plain.stages}["conv"]
    assert conv.distance > 0.5  # opposite edges light up
    assert conv.equivariance_error > 0.5
    assert "not a translation" in plain.note and "opposite edges" in plain.note

    fixed = compare_inputs(coffee, spec=PipelineSpec(), transform=InputTransform("mirror"),
                           mirror_kernel_too=True)
    assert fixed.kernel_mirrored
    errors = {s.name: s.equivariance_error for s in fixed.stages}
    assert errors["input"] == 0.0
    assert errors["conv"] < 1e-6
    # reference: the mirrored kernel on the mirrored photo is the mirrored response
    k = PipelineSpec().kernel_array[:, ::-1]
    ref_b = run_pipeline(coffee[:, ::-1], PipelineSpec(kernel=k))
    np.testing.assert_array_equal(fixed.b["conv"].array, ref_b["conv"].array)
    np.testing.assert_allclose(fixed.b["conv"].array, fixed.a["conv"].array[:, ::-1], atol=1e-5)
    assert "mirrored too" in fixed.note


def test_differences_are_a_minus_b_over_the_overlap():
    a = np.random.default_rng(3).random((20, 30)).astype(np.float32)
    b = np.random.default_rng(4).random((24, 26)).astype(np.float32)
    c = compare_inputs(a, b, PipelineSpec(levels=2), transform=InputTransform("other"))
    for s in c.stages:
        rows, cols = s.compared_shape
        expected = c.a[s.name].array[:rows, :cols] - c.b[s.name].array[:rows, :cols]
        np.testing.assert_array_equal(c.differences[s.name], expected)


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="transform kind"):
        InputTransform("twist")
    with pytest.raises(ValueError, match="give image B"):
        compare_inputs(np.ones((4, 4)), transform=InputTransform("other"))
    with pytest.raises(ValueError, match="dx"):
        InputTransform("shift", dx=1.5)
