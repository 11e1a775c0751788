"""The built-in scenarios (the article's comparisons and a one-pixel shift) and the sample
photographs they use."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from resources import PHOTO_NAMES, photo_path

from ._checks import as_image
from .image_io import load_image
from .pipeline import PipelineSpec
from .transforms import mirror, translate

#: Sample photograph name -> file, read as package data (so an installed wheel has them).
#: All are CC0 photographs from scikit-image's data (see resources/LICENSES.md).
SAMPLE_PHOTOS: dict[str, Path] = {name: photo_path(name) for name in PHOTO_NAMES}


def sample_photo(name: str) -> np.ndarray:
    """Return a sample photograph as a (H, W) float32 grey image in [0, 1] (a new array).

    Raises
    ------
    ValueError
        If `name` is not in ``SAMPLE_PHOTOS`` (the message lists them).
    engine.ImageLoadError
        If the file is missing or damaged.
    """
    if name not in SAMPLE_PHOTOS:
        raise ValueError(f"unknown sample photo {name!r}; use one of: {', '.join(SAMPLE_PHOTOS)}.")
    return _read_photo(name).copy()


@cache
def _read_photo(name: str) -> np.ndarray:
    arr = load_image(SAMPLE_PHOTOS[name])
    arr.setflags(write=False)
    return arr


ImageSource = np.ndarray | Callable[[], np.ndarray]


@dataclass(frozen=True)
class Example:
    """A ready-made comparison: two inputs and the pipeline both go through.

    Attributes
    ----------
    name : str
        The key in ``EXAMPLES``.
    title : str
        A short label for menus.
    description : str
        What to look at and why, in a few plain sentences.
    image_a, image_b : array or callable returning one
        The inputs (callables are called on :meth:`load`, so photos are read lazily).
    spec : PipelineSpec
        The pipeline both inputs run through.
    transform : str
        How B relates to A, in words.
    shift : (int, int) or None
        ``(dy, dx)`` when B is A circularly shifted (then equivariance can be measured).
    mirror_axis : int or None
        The axis when B is A mirrored (see ``engine.mirror_note``).
    """

    name: str
    title: str
    description: str
    image_a: ImageSource
    image_b: ImageSource
    spec: PipelineSpec
    transform: str
    shift: tuple[int, int] | None = None
    mirror_axis: int | None = None

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(a, b)`` as new float32 (H, W) arrays."""
        return _materialise(self.image_a, "image_a"), _materialise(self.image_b, "image_b")


def _materialise(source: ImageSource, name: str) -> np.ndarray:
    arr = source() if callable(source) else source
    out = as_image(arr, name)
    return out.copy() if out is arr else out


def _pixel_image(row: int, col: int) -> np.ndarray:
    img = np.zeros((10, 10), dtype=np.float32)
    img[row, col] = 1.0
    return img


def _coffee() -> np.ndarray:
    return sample_photo("coffee")


ARTICLE_SPEC = PipelineSpec(kernel="sobel_vertical", padding="valid", activation="relu",
                            pool_mode="max", pool_size=2, levels=6)

EXAMPLES: dict[str, Example] = {
    "pixel": Example(
        name="pixel",
        title="One pixel, moved",
        description=(
            "A 10x10 image with one lit pixel at (2, 2) against one at (7, 7), pooled three "
            "times with 2x2 max pooling and no convolution. The pixels are 5 apart; after "
            "each pooling level the peaks are 2, then 1, then 0 cells apart: pooling pulls "
            "them into the same place."),
        image_a=lambda: _pixel_image(2, 2),
        image_b=lambda: _pixel_image(7, 7),
        spec=PipelineSpec(convolve=False, pool_mode="max", pool_size=2, levels=3),
        transform="the pixel moved by (5, 5)",
    ),
    "mirror": Example(
        name="mirror",
        title="Photo and its mirror",
        description=(
            "The coffee photo against its left-right mirror, through the vertical Sobel "
            "kernel (valid, ReLU) and six 2x2 max pools. A mirror is not a translation: the "
            "vertical Sobel kernel changes sign under it, so after ReLU the mirrored photo "
            "lights up the opposite edges."),
        image_a=_coffee,
        image_b=lambda: mirror(sample_photo("coffee"), axis=1),
        spec=ARTICLE_SPEC,
        transform="mirrored left-right",
        mirror_axis=1,
    ),
    "two-photos": Example(
        name="two-photos",
        title="Two different photos",
        description=(
            "The coffee photo (400x600) against another photo, the cat (300x451), through the "
            "same pipeline. Different content gives different maps at every depth; the maps "
            "differ in size, so they are compared over their common top-left part."),
        image_a=_coffee,
        image_b=lambda: sample_photo("chelsea"),
        spec=ARTICLE_SPEC,
        transform="another photo",
    ),
    "shift": Example(
        name="shift",
        title="Photo moved by one pixel",
        description=(
            "The coffee photo against itself moved one pixel to the right (circularly). "
            "Max pooling is not shift invariant: after a one-pixel move the first pooled "
            "maps differ more than the inputs do, and the difference fades only slowly with "
            "depth. Switch pooling to blurmax (anti-aliased) and it fades much faster."),
        image_a=_coffee,
        image_b=lambda: translate(sample_photo("coffee"), 0, 1),
        spec=ARTICLE_SPEC,
        transform="moved right by 1 pixel (circular)",
        shift=(0, 1),
    ),
}


def load_example(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Return the two inputs ``(a, b)`` of the example `name` as new float32 arrays.

    Raises
    ------
    ValueError
        If `name` is not in ``EXAMPLES`` (the message lists them).
    """
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}; use one of: {', '.join(EXAMPLES)}.")
    return EXAMPLES[name].load()
