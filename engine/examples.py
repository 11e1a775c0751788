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
from .comparison import InputTransform
from .image_io import load_image
from .pipeline import PipelineSpec

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


PixelSource = np.ndarray | Callable[[], np.ndarray]


@dataclass(frozen=True)
class Example:
    """A ready-made comparison: input A, what B is, and the pipeline both go through.

    Attributes
    ----------
    name : str
        The key in ``EXAMPLES``.
    title : str
        A short label for menus.
    description : str
        What to look at and why, in a few plain sentences.
    image_a : array or callable returning one
        Input A (callables are called on :meth:`load`, so photos are read lazily).
    spec : PipelineSpec
        The pipeline both inputs run through.
    b : InputTransform, array or callable returning one
        B as a transform of A (then editing A moves B along), or another image.
    """

    name: str
    title: str
    description: str
    image_a: PixelSource
    spec: PipelineSpec
    b: InputTransform | PixelSource

    @property
    def b_transform(self) -> InputTransform:
        """How B relates to A (kind "other" when B is an image of its own)."""
        return self.b if isinstance(self.b, InputTransform) else InputTransform("other")

    @property
    def transform(self) -> str:
        """How B relates to A, in words."""
        if isinstance(self.b, InputTransform):
            return self.b.description
        return _OTHER_WORDS.get(self.name, "another image")

    @property
    def shift(self) -> tuple[int, int] | None:
        """``(dy, dx)`` when B is A circularly shifted (then equivariance can be measured)."""
        t = self.b_transform
        return t.shift if t.wrap else None

    @property
    def mirror_axis(self) -> int | None:
        """The axis when B is A mirrored (see ``engine.mirror_note``)."""
        return self.b_transform.mirror_axis

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(a, b)`` as new float32 (H, W) arrays."""
        a = _materialise(self.image_a, "image_a")
        if isinstance(self.b, InputTransform):
            return a, self.b.apply(a)
        return a, _materialise(self.b, "image_b")


_OTHER_WORDS = {"pixel": "the pixel moved by (5, 5)", "two-photos": "another photo"}


def _materialise(source: PixelSource, name: str) -> np.ndarray:
    arr = source() if callable(source) else source
    out = as_image(arr, name)
    return out.copy() if out is arr else out


def pixel_image(row: int, col: int, size: int = 10) -> np.ndarray:
    """A `size` x `size` float32 image, 0 but for a 1 at (`row`, `col`).

    >>> np.argwhere(pixel_image(2, 2)).tolist()
    [[2, 2]]
    """
    img = np.zeros((size, size), dtype=np.float32)
    img[row, col] = 1.0
    return img


def _coffee() -> np.ndarray:
    return sample_photo("coffee")


ARTICLE_SPEC = PipelineSpec(kernel="prewitt_vertical", padding="valid", activation="relu",
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
        image_a=lambda: pixel_image(2, 2),
        spec=PipelineSpec(convolve=False, pool_mode="max", pool_size=2, levels=3),
        b=lambda: pixel_image(7, 7),
    ),
    "mirror": Example(
        name="mirror",
        title="Photo and its mirror",
        description=(
            "The coffee photo against its left-right mirror, through the vertical Prewitt "
            "kernel (the article's 'Sobel'; valid, ReLU) and six 2x2 max pools. A mirror is "
            "not a translation: the kernel changes sign under it, so after ReLU the mirrored "
            "photo lights up the opposite edges."),
        image_a=_coffee,
        spec=ARTICLE_SPEC,
        b=InputTransform("mirror"),
    ),
    "two-photos": Example(
        name="two-photos",
        title="Two different photos",
        description=(
            "The coffee photo (400x600) against another photo, the cat (300x451), through the "
            "same pipeline. Different content gives different maps at every depth; the maps "
            "differ in size, so they are compared over their common top-left part."),
        image_a=_coffee,
        spec=ARTICLE_SPEC,
        b=lambda: sample_photo("chelsea"),
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
        spec=ARTICLE_SPEC,
        b=InputTransform("shift", dy=0, dx=1, wrap=True),
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
