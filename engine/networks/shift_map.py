"""The shift map: a network's answer for every small shift of its input.

For every shift ``(dy, dx)`` with ``-r <= dy, dx <= r`` (r = 4 by default: a 9x9 grid)
the input is moved (circularly, or with zero fill) and classified; the map holds each
shift's top-1 class and its probability. The shifts go to the network in batches
(:meth:`Network.classify`), one row of the map per batch: as fast as one batch of all 81
here, and a ResNet's activations for 81 images at 224x224 would take gigabytes at once.
The shifts move the input *before* its normalisation, so zero fill brings in black
pixels, not the mean.

>>> from engine import NETWORKS
>>> from engine.networks.prepare import prepare_input
>>> x = np.zeros((28, 28), np.float32); x[4:24, 13:15] = 1
>>> m = shift_map(NETWORKS["digits-aps"], prepare_input(x, NETWORKS["digits-aps"]))
>>> m.top1.shape, m.at(0, 0)[0] == int(m.top1[4, 4])
((9, 9), True)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .._checks import bounded_int
from ..sweep import SweepCancelled, cancel_check
from ..transforms import check_flag, translate_unchecked
from .model import Network
from .prepare import PreparedInput
from .view import class_label

__all__ = ["MAX_SHIFT_RANGE", "ShiftMap", "shift_map", "shifted_pixels"]

#: The largest shift range r of a map ((2r + 1)^2 runs).
MAX_SHIFT_RANGE = 16


@dataclass(frozen=True, eq=False)
class ShiftMap:
    """A network's answer for every shift in ``-r .. r`` along both axes.

    Attributes
    ----------
    shifts : tuple of int
        ``-r .. r``; row i of the maps is ``dy = shifts[i]`` (down), column j
        ``dx = shifts[j]`` (right).
    wrap : bool
        Circular shifts (True) or zero fill.
    top1 : (n, n) int array
        The most probable class per shift.
    confidence : (n, n) float64 array
        Its probability.
    probabilities : (n, n, K) float64 array
        Every class's probability per shift.
    labels : tuple of str or None
    """

    shifts: tuple[int, ...]
    wrap: bool
    top1: np.ndarray = field(repr=False)
    confidence: np.ndarray = field(repr=False)
    probabilities: np.ndarray = field(repr=False)
    labels: tuple[str, ...] | None = field(repr=False)

    @property
    def radius(self) -> int:
        """r: the largest shift."""
        return self.shifts[-1]

    def at(self, dy: int, dx: int) -> tuple[int, float]:
        """``(class, probability)`` of the top-1 class for shift (dy, dx).

        Raises
        ------
        ValueError
            For a shift outside the map.
        """
        r = self.radius
        if not (-r <= dy <= r and -r <= dx <= r):
            raise ValueError(f"shift ({dy}, {dx}) is outside the map's range -{r}..{r}.")
        return int(self.top1[dy + r, dx + r]), float(self.confidence[dy + r, dx + r])

    @property
    def classes(self) -> tuple[int, ...]:
        """The classes that are top-1 somewhere on the map, most frequent first (ties by
        class index): what a legend lists."""
        values, counts = np.unique(self.top1, return_counts=True)
        order = np.lexsort((values, -counts))
        return tuple(int(values[i]) for i in order)

    @property
    def changed(self) -> int:
        """How many shifts give another top-1 class than the unshifted input."""
        return int(np.count_nonzero(self.top1 != self.at(0, 0)[0]))

    def label(self, index: int) -> str:
        """The name of class `index`."""
        return class_label(self.labels, index)


def shifted_pixels(pixels: np.ndarray, dy: int, dx: int, wrap: bool) -> np.ndarray:
    """``(C, H, W)`` pixels moved down `dy` and right `dx`, each channel alike."""
    return np.stack([translate_unchecked(np.ascontiguousarray(c), dy, dx, wrap)
                     for c in pixels])


def shift_map(network: Network, prepared: PreparedInput, *, radius: int = 4,
              wrap: bool = True, progress: Callable[[int, int], object] | None = None,
              cancel: object = None) -> ShiftMap:
    """Classify every shift of a prepared input in ``-radius .. radius`` (both axes).

    Parameters
    ----------
    network : Network
        A classifier.
    prepared : PreparedInput
        The input (:func:`engine.networks.prepare.prepare_input`).
    radius : int
        The largest shift, 0 .. :data:`MAX_SHIFT_RANGE` (4: a 9x9 map).
    wrap : bool
        Circular shifts, or zero fill (black comes in).
    progress : callable, optional
        ``progress(rows_done, rows)`` after each row of the map.
    cancel : callable or threading.Event, optional
        Checked before each row; when it asks, :class:`engine.sweep.SweepCancelled`
        is raised (a ResNet-sized model takes seconds for a whole map).

    Returns
    -------
    ShiftMap

    Raises
    ------
    ValueError
        For a bad radius, or a network that is no classifier.
    SweepCancelled
        When `cancel` asks for it.
    """
    radius = bounded_int(radius, "radius", 0, MAX_SHIFT_RANGE)
    wrap = check_flag(wrap, "wrap")
    cancelled = cancel_check(cancel)
    shifts = tuple(range(-radius, radius + 1))
    n = len(shifts)
    rows = []
    for i, dy in enumerate(shifts):
        if cancelled():
            raise SweepCancelled(i, n)
        batch = np.stack([shifted_pixels(prepared.pixels, dy, dx, wrap) for dx in shifts])
        rows.append(network.classify(prepared.normalize(batch)))
        if progress is not None:
            progress(i + 1, n)
    p = np.stack(rows)
    top1 = p.argmax(axis=2)
    confidence = np.take_along_axis(p, top1[..., None], axis=2)[..., 0]
    for arr in (p, top1, confidence):
        arr.setflags(write=False)
    return ShiftMap(shifts, wrap, top1, confidence, p, network.labels)
