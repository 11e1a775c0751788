"""The largest cells of a feature map."""

from __future__ import annotations

import numpy as np

from ._checks import as_image, positive_int


def find_maxima(x: np.ndarray, count: int = 1) -> list[tuple[int, int, float]]:
    """Return the `count` largest cells of `x` as ``(row, col, value)``, largest first.

    Ties are broken in row-major order (the order ``np.argmax`` uses), so the first
    entry is always ``np.unravel_index(np.argmax(x), x.shape)``. Fewer than `count`
    entries are returned when `x` has fewer cells.

    Raises
    ------
    ValueError
        For a bad image or `count` below 1.

    Examples
    --------
    >>> find_maxima(np.array([[1.0, 3.0], [3.0, 0.0]]), 2)
    [(0, 1, 3.0), (1, 0, 3.0)]
    """
    x = as_image(x)
    count = positive_int(count, "count")
    return maxima_unchecked(x, count)


def maxima_unchecked(x: np.ndarray, count: int) -> list[tuple[int, int, float]]:
    """find_maxima for an already validated array."""
    flat = x.ravel()
    cols = x.shape[1]
    if count == 1:
        i = int(np.argmax(flat))
        return [(i // cols, i % cols, float(flat[i]))]
    count = min(count, flat.size)
    # The count-th largest value bounds the winners; every cell tied with it is a
    # candidate, so ties at the boundary are settled by index, not by partition order.
    threshold = np.partition(flat, flat.size - count)[flat.size - count]
    candidates = np.flatnonzero(flat >= threshold)
    order = np.argsort(-flat[candidates], kind="stable")[:count]
    return [(int(i) // cols, int(i) % cols, float(flat[i])) for i in candidates[order]]
