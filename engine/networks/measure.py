"""How much a classifier's answer moves when its input moves by one pixel.

Two protocols from the literature, on circular shifts (or shifts with zero fill):

- Azulay & Weiss (2019): consecutive diagonal positions. For each image ``x`` and each
  ``d`` in ``0 .. max_shift - 1``, ``a`` is ``x`` moved by ``(d, d)`` and ``b`` by
  ``(d + 1, d + 1)``; ``k`` is the top-1 class of ``a``. ``p_top1_change`` is the share
  of pairs whose top-1 classes differ, ``mac`` the mean of ``|p_k(a) - p_k(b)|``.
- Zhang (2019): two independent random shifts per image, each ``(dy, dx)`` uniform in
  ``0 .. max_shift - 1`` from a seeded generator (drawn per image, in order, as
  ``rng.integers(0, max_shift, size=4)``); ``consistency`` is the share of images whose
  two top-1 classes agree.

Per image, ``wobble`` is the max minus the min of the probability of the unshifted
image's top-1 class over the diagonal shifts ``0 .. max_shift``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .model import Network
from .shift_map import shifted_pixels

__all__ = ["MeasureResult", "measure"]


@dataclass(frozen=True)
class MeasureResult:
    """The shift statistics of one network over a set of images (see the module notes).

    Attributes
    ----------
    network : str
    wrap : bool
        True for circular shifts, False for zero fill.
    max_shift : int
    seed : int
    images, pairs : int
        How many images and diagonal pairs were measured.
    p_top1_change, mac, consistency : float
    accuracy : float or None
        The share of unshifted images classified as their label, when labels were given.
    wobble : tuple of float
        Per image, in order.
    names : tuple of str
        Per image, as given (file names for the command line).
    """

    network: str
    wrap: bool
    max_shift: int
    seed: int
    images: int
    pairs: int
    p_top1_change: float
    mac: float
    consistency: float
    accuracy: float | None
    wobble: tuple[float, ...] = field(repr=False)
    names: tuple[str, ...] = field(repr=False)

    def to_dict(self) -> dict:
        """Return the result as plain JSON-ready values (per-image wobble listed by name)."""
        out = {k: getattr(self, k) for k in ("network", "wrap", "max_shift", "seed", "images",
                                             "pairs", "p_top1_change", "mac", "consistency",
                                             "accuracy")}
        out["mean_wobble"] = float(np.mean(self.wobble)) if self.wobble else None
        out["per_image"] = [{"name": n, "wobble": w}
                            for n, w in zip(self.names, self.wobble, strict=True)]
        return out


def measure(network: Network, images: Sequence[np.ndarray], *, wrap: bool = True,
            max_shift: int = 8, seed: int = 0, labels: Sequence[int] | None = None,
            names: Sequence[str] | None = None,
            progress: Callable[[int, int], None] | None = None) -> MeasureResult:
    """Measure how often and how much `network`'s answer changes under one-pixel shifts.

    Parameters
    ----------
    network : Network
        A classifier (its output is a class distribution or logits).
    images : sequence of (H, W) or (C, H, W) arrays
        Inputs the network accepts (see :meth:`Network.check_input`).
    wrap : bool
        Circular shifts (True) or shifts with zero fill (False).
    max_shift : int
        The diagonal shifts are ``0 .. max_shift``; random shifts lie in ``0 .. max_shift-1``.
    seed : int
        Seeds the generator of the random shifts.
    labels : sequence of int, optional
        True classes; when given, the result also has the accuracy on unshifted images.
    names : sequence of str, optional
        A name per image for the per-image results (default ``"0"``, ``"1"``, ...).
    progress : callable, optional
        Called with ``(done, total)`` after each image.

    Returns
    -------
    MeasureResult

    Raises
    ------
    ValueError
        If there are no images, `max_shift` is below 1, names or labels do not match the
        images in number, an image does not fit the network, or the network does not end
        in a classifier.
    """
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 1:
        raise ValueError(f"max_shift must be an integer >= 1; got {max_shift!r}.")
    if len(images) == 0:
        raise ValueError("measure needs at least one image.")
    names = [str(i) for i in range(len(images))] if names is None else list(names)
    for what, seq in (("names", names), ("labels", labels)):
        if seq is not None and len(seq) != len(images):
            raise ValueError(f"{len(seq)} {what} for {len(images)} images; give one per image.")
    rng = np.random.default_rng(seed)
    changes, deltas, agree, wobble, correct = [], [], [], [], []
    for i, image in enumerate(images):
        x = network.check_input(image)
        offsets = rng.integers(0, max_shift, size=4)
        moved = [shifted_pixels(x, d, d, wrap) for d in range(max_shift + 1)]
        moved += [shifted_pixels(x, int(offsets[0]), int(offsets[1]), wrap),
                  shifted_pixels(x, int(offsets[2]), int(offsets[3]), wrap)]
        p = network.classify(np.stack(moved))
        diag, top = p[:max_shift + 1], p.argmax(axis=1)
        k = top[:max_shift]
        changes.append(top[:max_shift] != top[1:max_shift + 1])
        rows = np.arange(max_shift)
        deltas.append(np.abs(diag[rows, k] - diag[rows + 1, k]))
        agree.append(top[-2] == top[-1])
        wobble.append(float(np.ptp(diag[:, top[0]])))
        if labels is not None:
            correct.append(top[0] == int(labels[i]))
        if progress is not None:
            progress(i + 1, len(images))
    return MeasureResult(
        network=network.name, wrap=bool(wrap), max_shift=max_shift, seed=int(seed),
        images=len(images), pairs=len(images) * max_shift,
        p_top1_change=float(np.mean(changes)), mac=float(np.mean(deltas)),
        consistency=float(np.mean(agree)),
        accuracy=float(np.mean(correct)) if labels is not None else None,
        wobble=tuple(wobble), names=tuple(names))
