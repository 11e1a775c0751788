"""The pipeline's banded path (convolution, activation and pooling in bands of rows, on two
threads) gives the stage-by-stage values bit for bit, and its maxima are those of the maps."""

from __future__ import annotations

import numpy as np
import pytest
from reference_ops import ref_conv2d, ref_pool, ref_relu

import engine.fused as fused
from engine import PADDINGS, PipelineSpec, activate, conv2d, pool2d, run_pipeline
from engine.maxima import maxima_unchecked


def bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


def stage_by_stage(x: np.ndarray, spec: PipelineSpec) -> list[np.ndarray]:
    """The stages from the public one-step functions, each on the whole map."""
    maps = [np.float32(x)]
    current = activate(conv2d(x, spec.kernel_array, padding=spec.padding),
                       spec.activation)
    maps.append(current)
    for _ in range(spec.levels):
        if min(current.shape) < spec.pool_size:
            break
        current = pool2d(current, size=spec.pool_size, mode=spec.pool_mode)
        maps.append(current)
    return maps


@pytest.fixture
def tiny_bands(monkeypatch):
    """Bands of a few rows and two threads even on small maps, so that a small image
    crosses many band and half boundaries."""
    monkeypatch.setattr(fused, "BAND_BYTES", 1)
    monkeypatch.setattr(fused, "PARALLEL_CELLS", 1)


@pytest.mark.parametrize("padding", PADDINGS)
@pytest.mark.parametrize("activation, mode", [("relu", "max"), ("abs", "avg"),
                                              ("none", "max"), ("relu", "avg")])
def test_bands_equal_the_stage_by_stage_run_bit_for_bit(tiny_bands, padding, activation,
                                                        mode):
    rng = np.random.default_rng(hash((padding, activation, mode)) % 2**32)
    for trial in range(6):
        shape = (int(rng.integers(9, 70)), int(rng.integers(9, 70)))
        k = rng.normal(size=(int(rng.integers(1, 6)), int(rng.integers(1, 6))))
        size = int(rng.integers(2, 4))
        spec = PipelineSpec(kernel=k, padding=padding, activation=activation,
                            pool_mode=mode, pool_size=size, levels=int(rng.integers(0, 5)))
        x = (rng.normal(size=shape) * 10).astype(np.float32)
        if trial % 2:
            x = np.round(x)  # ties in the pools and the maxima
        result = run_pipeline(x, spec, top_k=7)
        want = stage_by_stage(x, spec)
        assert len(result.stages) == len(want), (shape, spec)
        for stage, expected in zip(result.stages, want, strict=True):
            np.testing.assert_array_equal(bits(stage.array), bits(expected), err_msg=stage.name)
            assert stage.maxima == maxima_unchecked(expected, 7), stage.name


def test_the_article_pipeline_in_bands_matches_plain_loops(tiny_bands):
    x = np.random.default_rng(5).random((61, 77)).astype(np.float32)
    result = run_pipeline(x)
    expected = ref_relu(ref_conv2d(x, result.spec.kernel_array))
    np.testing.assert_allclose(result["conv"].array, expected, rtol=0, atol=1e-5)
    for level in range(1, len(result.stages) - 1):
        expected = ref_pool(expected, 2, 2, "max")
        np.testing.assert_allclose(result[f"pool {level}"].array, expected, rtol=0, atol=1e-5)
    assert result.names[-1] == "pool 5" and result.stop_cause is not None  # 59 rows -> 1


def test_a_large_image_takes_the_threaded_path_with_the_default_bands():
    x = np.random.default_rng(6).random((1100, 1000)).astype(np.float32)
    assert x.size >= fused.PARALLEL_CELLS
    result = run_pipeline(x)
    for stage, expected in zip(result.stages, stage_by_stage(x, result.spec), strict=True):
        np.testing.assert_array_equal(bits(stage.array), bits(expected), err_msg=stage.name)


def test_the_input_stage_is_a_copy_the_caller_cannot_change(tiny_bands):
    x = np.random.default_rng(7).random((40, 50)).astype(np.float32)
    result = run_pipeline(x)
    assert not np.shares_memory(result["input"].array, x)
    np.testing.assert_array_equal(result["input"].array, x)
    x[:] = 0
    assert result["input"].array.any()
    assert result["input"].maxima == maxima_unchecked(result["input"].array, 5)


@pytest.mark.parametrize("fill", ["random", "zeros", "ties"])
def test_maxima_from_row_maxima_equal_the_maxima(fill):
    rng = np.random.default_rng(8)
    for count in (1, 3, 10, 60):
        x = {"random": rng.random((50, 30)), "zeros": np.zeros((50, 30)),
             "ties": np.round(rng.random((50, 30)) * 3)}[fill].astype(np.float32)
        assert maxima_unchecked(x, count, x.max(axis=1)) == maxima_unchecked(x, count)


def test_runs_with_a_scratch_dict_reuse_its_memory_and_give_the_same_values(tiny_bands):
    from engine.pipeline import run_owned

    rng = np.random.default_rng(9)
    scratch: dict = {}
    first = rng.random((40, 36)).astype(np.float32)
    second = rng.random((40, 36)).astype(np.float32)
    want_second = [s.array.copy() for s in run_pipeline(second)]
    one = run_owned(first.copy(), top_k=5, scratch=scratch)
    kept = [s.array for s in one.stages[1:]]
    two = run_owned(second.copy(), top_k=5, scratch=scratch)
    for stage, want in zip(two.stages, want_second, strict=True):
        np.testing.assert_array_equal(bits(stage.array), bits(want), err_msg=stage.name)
        assert not stage.array.flags.writeable
    assert all(np.shares_memory(a, s.array) for a, s in zip(kept, two.stages[1:], strict=True))
    other = run_owned(rng.random((20, 30)).astype(np.float32), scratch=scratch)  # new shapes
    assert other["pool 1"].shape == (9, 14) and scratch["pool 1"].shape == (9, 14)


def test_a_run_without_maxima_gives_the_same_maps(tiny_bands):
    from engine.pipeline import run_owned

    x = np.random.default_rng(10).random((30, 44)).astype(np.float32)
    for spec in (PipelineSpec(), PipelineSpec(pool_mode="blurmax", padding="same")):
        bare = run_owned(x.copy(), spec, maxima=False)
        full = run_pipeline(x, spec)
        assert all(stage.maxima == [] for stage in bare.stages)
        for a, b in zip(bare.stages, full.stages, strict=True):
            np.testing.assert_array_equal(bits(a.array), bits(b.array), err_msg=a.name)
