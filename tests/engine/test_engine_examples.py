"""The built-in examples and sample photographs load with their documented shapes and specs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import (
    EXAMPLES,
    SAMPLE_PHOTOS,
    PipelineSpec,
    load_example,
    load_image,
    mirror,
    mirror_note,
    run_pipeline,
    sample_photo,
    translate,
)

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def test_sample_photos_exist_with_licence_entries():
    licences = (RESOURCES / "LICENSES.md").read_text(encoding="utf-8")
    total = 0
    for name, path in SAMPLE_PHOTOS.items():
        assert path.is_file() and path.parent.parent == RESOURCES, name
        assert path.name in licences and "CC0" in licences
        total += path.stat().st_size
    assert total < 1_500_000


@pytest.mark.parametrize("name, shape", [("coffee", (400, 600)), ("chelsea", (300, 451)),
                                         ("camera", (512, 512))])
def test_sample_photo_is_a_fresh_grey_copy(name, shape):
    photo = sample_photo(name)
    assert photo.shape == shape and photo.dtype == np.float32
    assert 0 <= photo.min() < photo.max() <= 1
    np.testing.assert_array_equal(photo, load_image(SAMPLE_PHOTOS[name]))
    photo[:] = 0
    assert sample_photo(name).any()


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError, match="coffee"):
        sample_photo("dog")
    with pytest.raises(ValueError, match="pixel.*mirror.*two-photos"):
        load_example("nope")


def test_pixel_example():
    ex = EXAMPLES["pixel"]
    assert ex.spec == PipelineSpec(convolve=False, pool_mode="max", pool_size=2, levels=3)
    a, b = load_example("pixel")
    for img, lit in ((a, (2, 2)), (b, (7, 7))):
        assert img.shape == (10, 10) and img.dtype == np.float32
        assert img[lit] == 1 and img.sum() == 1
    assert [s.shape for s in run_pipeline(a, ex.spec)] == [(10, 10), (5, 5), (2, 2), (1, 1)]


def test_mirror_example_is_the_coffee_photo_and_its_mirror_through_the_article_pipeline():
    ex = EXAMPLES["mirror"]
    assert ex.spec == PipelineSpec(kernel="prewitt_vertical", padding="valid", activation="relu",
                                   pool_mode="max", pool_size=2, levels=6)
    a, b = ex.load()
    np.testing.assert_array_equal(a, sample_photo("coffee"))
    np.testing.assert_array_equal(b, a[:, ::-1])
    assert ex.mirror_axis == 1 and ex.shift is None
    result = run_pipeline(a, ex.spec)
    assert result["pool 6"].shape == (6, 9)  # the article's 400x600 photo ends in 6x9
    assert "antisymmetric" in mirror_note(ex.spec, ex.mirror_axis)


def test_two_photos_example():
    ex = EXAMPLES["two-photos"]
    a, b = ex.load()
    assert a.shape == (400, 600) and b.shape == (300, 451)
    np.testing.assert_array_equal(b, sample_photo("chelsea"))
    assert ex.spec == EXAMPLES["mirror"].spec


def test_shift_example_records_its_shift():
    ex = EXAMPLES["shift"]
    a, b = ex.load()
    assert ex.shift == (0, 1)
    np.testing.assert_array_equal(b, translate(a, *ex.shift))
    np.testing.assert_array_equal(b[:, 1:], a[:, :-1])


def test_every_example_is_complete_and_loads_fresh_arrays():
    for name, ex in EXAMPLES.items():
        assert ex.name == name and ex.title and len(ex.description) > 40 and ex.transform
        a1, b1 = load_example(name)
        a1[:] = -1
        a2, _ = load_example(name)
        assert (a2 >= 0).all() and a2.any()
        assert a1.dtype == b1.dtype == np.float32
        if ex.mirror_axis is not None:
            np.testing.assert_array_equal(b1, mirror(a2, ex.mirror_axis))
