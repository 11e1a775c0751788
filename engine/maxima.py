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


def maxima_unchecked(x: np.ndarray, count: int, row_max: np.ndarray | None = None
                     ) -> list[tuple[int, int, float]]:
    """find_maxima for an already validated 2-D array (its rows may be padded), with
    `row_max` the maximum of each of its rows when they are known already.

    A map of at most :data:`SMALL_MAP_CELLS` cells is searched whole. In a larger one the
    count-th largest row maximum bounds the winners from below, so only the few rows that
    can hold one are searched: on large maps an order of magnitude faster than a
    partition of all cells.
    """
    if x.size <= SMALL_MAP_CELLS:
        return _maxima_of_small(x, count)
    rows = x.shape[0]
    if count >= rows:
        return _maxima_by_partition(x, count)
    if row_max is None:
        row_max = x.max(axis=1)
    # The count-th largest row maximum r: at least count cells are >= r, and the cells > r
    # lie in the fewer than count rows whose maximum is > r. (A sort, not a partition:
    # numpy's partition is slow on many equal values, as the rows of a sparse map are.)
    r = np.sort(row_max)[rows - count]
    over = np.flatnonzero(row_max > r)
    cells: list[tuple[int, int, float]] = []
    if len(over):
        block = x[over]
        ii, jj = np.nonzero(block > r)  # row-major
        values = block[ii, jj]
        order = np.argsort(-values, kind="stable")[:count]  # ties stay row-major
        cells = list(zip(over[ii[order]].tolist(), jj[order].tolist(),
                         values[order].tolist(), strict=True))
    need = count - len(cells)
    if need > 0:  # the rest are cells equal to r, first in row-major order
        for i in np.flatnonzero(row_max >= r).tolist():
            row = x[i]
            cols = np.flatnonzero(row == r)[:need]
            cells += zip([i] * len(cols), cols.tolist(), row[cols].tolist(), strict=True)
            need -= len(cols)
            if need == 0:
                break
    return cells


#: Maps of at most this many cells are searched whole, with one sort of their values
#: (below this size that beats a search of their rows' maxima first).
SMALL_MAP_CELLS = 1024


def _maxima_of_small(x: np.ndarray, count: int) -> list[tuple[int, int, float]]:
    """maxima_unchecked of a small map: every cell in order (a tiny map), or the count-th
    largest value t taken from a sort of all values, then the cells above t (largest
    first, ties row-major) and as many cells equal to t as are still needed, first in
    row-major order."""
    flat = x.ravel()
    size = flat.size
    if count >= size or size <= 256:  # a stable sort keeps equal values row-major
        index = np.argsort(-flat, kind="stable")[:count].tolist()
    else:
        t = np.sort(flat)[size - count]
        above = np.flatnonzero(flat > t)
        if len(above) > 1:
            above = above[np.argsort(-flat[above], kind="stable")]
        index = above.tolist() + np.flatnonzero(flat == t)[:count - len(above)].tolist()
    cols = x.shape[1]
    return [(i // cols, i % cols, v) for i, v in zip(index, flat[index].tolist(), strict=True)]


def _maxima_by_partition(x: np.ndarray, count: int) -> list[tuple[int, int, float]]:
    flat = x.ravel()
    cols = x.shape[1]
    count = min(count, flat.size)
    # The count-th largest value bounds the winners; every cell tied with it is a
    # candidate, so ties at the boundary are settled by index, not by partition order.
    threshold = np.partition(flat, flat.size - count)[flat.size - count]
    candidates = np.flatnonzero(flat >= threshold)
    order = np.argsort(-flat[candidates], kind="stable")[:count]
    return [(int(i) // cols, int(i) % cols, float(flat[i])) for i in candidates[order]]


#: A peak whose runner-up elsewhere is within this fraction of it is a near-tie: the
#: "peak" is not a stable feature, and a tiny change can move it far.
NEAR_TIE = 0.01
#: How many of a map's largest cells decide whether its peak is a near-tie: the peak's
#: 3x3 neighbourhood holds at most 9 cells, so these always include the largest cell
#: outside it.
LEADING_CELLS = 10


def is_near_tie(x: np.ndarray, tolerance: float = NEAR_TIE) -> bool:
    """Return True when the largest cell of `x` is not clearly the largest: a cell outside
    its 3x3 neighbourhood is within `tolerance` (relative) of it, or the map has no
    positive cell (nothing stands out). Neighbours are left out because a peak's own
    slope is not a rival: it moves the peak by at most a cell.

    Examples
    --------
    >>> is_near_tie(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.995]]))
    True
    >>> is_near_tie(np.array([[1.0, 0.999, 0.0], [0.0, 0.0, 0.5]]))  # a neighbour
    False
    """
    arr = np.asarray(x)
    if arr.size < 2:
        return False
    # one pass over the map instead of a copy without the neighbourhood
    return near_tie_among(maxima_unchecked(arr, LEADING_CELLS), tolerance)


def near_tie_among(top: list[tuple[int, int, float]] | tuple[tuple[int, int, float], ...],
                   tolerance: float = NEAR_TIE) -> bool:
    """:func:`is_near_tie` of a map of at least two cells whose :data:`LEADING_CELLS`
    largest cells `top` (as :func:`find_maxima` returns them) are known.

    >>> near_tie_among([(0, 0, 1.0), (1, 2, 0.995), (0, 1, 0.5)])
    True
    """
    peak_r, peak_c, peak = top[0]
    if peak <= 0.0:
        return True
    rival = next((v for r, c, v in top[1:] if abs(r - peak_r) > 1 or abs(c - peak_c) > 1),
                 None)
    return rival is not None and peak - rival <= tolerance * peak
