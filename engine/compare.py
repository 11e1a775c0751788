"""Comparing two pipeline runs stage by stage, and measuring translation equivariance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from ._checks import as_image
from .fused import side_by_side
from .maxima import LEADING_CELLS, maxima_unchecked, near_tie_among
from .pipeline import PipelineResult


@dataclass(frozen=True)
class StageComparison:
    """How one stage differs between two runs A and B.

    Attributes
    ----------
    name : str
        The stage (``"input"``, ``"conv"``, ``"pool 1"`` ...).
    distance : float
        ``||a - b|| / max(||a||, ||b||)`` over the compared cells: 0 when they are
        equal, at most 2, 1 when one of them is zero and the other not, and NaN
        (undefined: :attr:`both_zero`) when both are zero, as when a feature has left
        both maps; an empty pair is no evidence of a match.
    displacement : (int, int)
        ``peak_b - peak_a`` in this stage's own cells, (rows, cols).
    peak_a, peak_b : (int, int)
        The cell of each map's global maximum (first in row-major order on ties,
        as ``np.argmax``), each in its own full map.
    shape_a, shape_b : (int, int)
        The two maps' shapes.
    compared_shape : (int, int)
        The cells the distance covers: the common top-left overlap. It equals both
        shapes unless the maps differ in size (two photos of different sizes, a
        quarter turn of a non-square image); see :attr:`partial`.
    equivariance_error : float or None
        Filled in when B is a translation of A and the error was measured
        (see :func:`equivariance_error`); None otherwise or where it is undefined.
    error_note : str or None
        Why `equivariance_error` is None, in a few words (``"another image"``,
        ``"shift not a multiple of S = 4"``, ``"shapes differ"``); None when it is set.
    stride : (int, int)
        Input pixels per cell of this stage (rows, cols); A's, which B shares unless it
        ran another pipeline.
    near_tie_a, near_tie_b : bool
        True when that map's second largest cell is within 1% of its largest (or nothing
        is positive): its peak is not a stable feature, so a displacement of it says
        little (:func:`engine.maxima.is_near_tie`).
    """

    name: str
    distance: float
    displacement: tuple[int, int]
    peak_a: tuple[int, int]
    peak_b: tuple[int, int]
    shape_a: tuple[int, int]
    shape_b: tuple[int, int]
    compared_shape: tuple[int, int]
    equivariance_error: float | None = None
    error_note: str | None = None
    stride: tuple[int, int] = (1, 1)
    near_tie_a: bool = False
    near_tie_b: bool = False

    @property
    def displacement_px(self) -> tuple[int, int]:
        """The displacement in input pixels: cells times the stage's stride. Counted in
        cells the displacement shrinks with depth mostly because cells grow; in pixels it
        says how far the feature really moved."""
        return (self.displacement[0] * self.stride[0], self.displacement[1] * self.stride[1])

    @property
    def near_tie(self) -> bool:
        """True when either map's peak is a near-tie."""
        return self.near_tie_a or self.near_tie_b

    @property
    def both_zero(self) -> bool:
        """True when both maps are zero over the compared cells (distance undefined)."""
        return bool(np.isnan(self.distance))

    @property
    def partial(self) -> bool:
        """True when the maps differ in shape and only their top-left overlap was compared."""
        return self.shape_a != self.shape_b


def normalized_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Return ``||a - b|| / max(||a||, ||b||)`` (Frobenius norms, float64); NaN (undefined)
    if both are zero.

    Arrays of different shapes are compared over their common top-left overlap.

    Raises
    ------
    ValueError
        If either array is not a valid 2-D image.

    Examples
    --------
    >>> normalized_distance(np.ones((2, 2)), np.zeros((2, 2)))
    1.0
    >>> normalized_distance(np.zeros((2, 2)), np.zeros((2, 2)))
    nan
    """
    a, b = as_image(a, "a"), as_image(b, "b")
    rows, cols = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    return relative_difference(a[:rows, :cols], b[:rows, :cols])


def l2_norm(a: np.ndarray, b: np.ndarray | None = None) -> float:
    """``||a||`` or ``||a - b||`` (Frobenius), accumulated in double precision.

    OpenCV sums float32 maps in double without the float64 copies numpy would need,
    which keeps a comparison of two 12-megapixel runs cheap.
    """
    a = np.asarray(a, dtype=np.float32)
    if b is None:
        return float(cv2.norm(a, cv2.NORM_L2))
    return float(cv2.norm(a, np.asarray(b, dtype=np.float32), cv2.NORM_L2))


def relative_difference(a: np.ndarray, b: np.ndarray, reference: float | None = None) -> float:
    """``||a - b|| / reference`` for equally shaped arrays (norms summed in double precision).

    `reference` defaults to ``max(||a||, ||b||)``; when it is 0 that maximum is used
    instead, and when that is 0 too (both arrays zero) the result is NaN: two empty maps
    say nothing about whether one moved with the other.
    """
    if not reference:
        reference = max(l2_norm(a), l2_norm(b))
    if reference == 0.0:
        return float("nan")
    return l2_norm(a, b) / reference


def leading_cells(stage: object) -> list[tuple[int, int, float]]:
    """The :data:`~engine.maxima.LEADING_CELLS` largest cells of a stage's array, as
    :func:`~engine.maxima.find_maxima` orders them: those its run recorded
    (:attr:`engine.Stage.leading`), else found now."""
    arr = stage.array
    top = getattr(stage, "leading", ())
    if top and len(top) == min(LEADING_CELLS, arr.size):
        return list(top)
    return maxima_unchecked(np.asarray(arr), LEADING_CELLS)


class Norms:
    """``||a||`` and ``||a - b||`` of whole stage arrays, each measured once
    (:func:`l2_norm`), for the several distances and errors that divide by the same norm;
    :meth:`measure` takes many at once on two threads."""

    def __init__(self) -> None:
        self._known: dict[tuple[int, ...], tuple[tuple[np.ndarray, ...], float]] = {}

    def _norm(self, *arrays: np.ndarray) -> float:
        # the arrays are kept with their norm, so no other array can take their ids
        key = tuple(map(id, arrays))
        kept = self._known.get(key)
        if kept is None:
            kept = self._known[key] = (arrays, l2_norm(*arrays))
        return kept[1]

    def __call__(self, arr: np.ndarray) -> float:
        """``||arr||``."""
        return self._norm(arr)

    def measure(self, singles: Sequence[np.ndarray],
                pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> None:
        """Measure ``||a||`` of each of `singles` and ``||a - b||`` of each of `pairs` now,
        large ones shared between this thread and the engine's helper (each a whole
        OpenCV call, which runs on one core: the values are those measured one by one)."""
        jobs = sorted([(a.size, (a,)) for a in singles] + [(2 * p[0].size, p) for p in pairs],
                      key=lambda job: -job[0])
        if sum(cost for cost, _ in jobs) < PARALLEL_NORM_CELLS:
            return  # small maps: measured when asked, without a second thread
        lanes: tuple[list, list] = ([], [])
        loads = [0, 0]
        for cost, arrays in jobs:  # the largest first, each to the less loaded thread
            lane = int(loads[1] < loads[0])
            lanes[lane].append(arrays)
            loads[lane] += cost
        side_by_side(*(lambda jobs=jobs: [self._norm(*arrays) for arrays in jobs]
                       for jobs in lanes))

    def relative(self, a: np.ndarray, b: np.ndarray, reference: float | None = None
                 ) -> float:
        """:func:`relative_difference` of whole arrays `a` and `b`, with their norms
        measured once."""
        if not reference:
            reference = max(self(a), self(b))
        if reference == 0.0:
            return float("nan")
        return self._norm(a, b) / reference


#: Norms over fewer cells in all are measured on one thread.
PARALLEL_NORM_CELLS = 1 << 22


def compare_results(a: PipelineResult, b: PipelineResult, *,
                    equivariance_errors: Sequence[float | None] | None = None,
                    error_notes: Sequence[str | None] | None = None,
                    norms: Norms | None = None) -> list[StageComparison]:
    """Compare two runs stage by stage.

    Parameters
    ----------
    a, b : PipelineResult
        Usually the same pipeline on two inputs (an image and its shift, mirror
        or another photo).
    equivariance_errors : sequence of float or None, optional
        One value per stage of `a` (as :func:`equivariance_error` returns them),
        copied into the entries of the stages compared.
    error_notes : sequence of str or None, optional
        One per stage of `a`: why its error is undefined (see
        :attr:`StageComparison.error_note`).
    norms : Norms, optional
        Norms of the stages already measured (by the transform errors); filled in.

    Returns
    -------
    list of StageComparison
        One entry per stage name present in both runs, in `a`'s order. Maps of
        different shapes are compared over their top-left overlap
        (``compared_shape``; ``partial`` is True).

    Raises
    ------
    ValueError
        If `equivariance_errors` does not hold one value per stage of `a`.
    """
    if equivariance_errors is not None and len(equivariance_errors) != len(a.stages):
        raise ValueError(
            f"equivariance_errors must hold one value per stage of a ({len(a.stages)}); "
            f"got {len(equivariance_errors)}. Pass the list equivariance_error() returns."
        )
    norms = Norms() if norms is None else norms
    names_b = set(b.names)
    out = []
    for index, stage_a in enumerate(a.stages):
        if stage_a.name not in names_b:
            continue
        stage_b = b[stage_a.name]
        arr_a, arr_b = stage_a.array, stage_b.array
        rows = min(arr_a.shape[0], arr_b.shape[0])
        cols = min(arr_a.shape[1], arr_b.shape[1])
        if arr_a.shape == arr_b.shape:
            distance = norms.relative(arr_a, arr_b)
        else:
            distance = relative_difference(arr_a[:rows, :cols], arr_b[:rows, :cols])
        top_a, top_b = leading_cells(stage_a), leading_cells(stage_b)
        # the first of the largest cells is np.argmax's (row-major among ties)
        peak_a, peak_b = top_a[0][:2], top_b[0][:2]
        out.append(StageComparison(
            name=stage_a.name,
            distance=distance,
            displacement=(peak_b[0] - peak_a[0], peak_b[1] - peak_a[1]),
            peak_a=peak_a,
            peak_b=peak_b,
            shape_a=tuple(arr_a.shape),
            shape_b=tuple(arr_b.shape),
            compared_shape=(rows, cols),
            equivariance_error=None if equivariance_errors is None
            else equivariance_errors[index],
            error_note=None if error_notes is None else error_notes[index],
            stride=tuple(stage_a.stride),
            near_tie_a=arr_a.size >= 2 and near_tie_among(top_a),
            near_tie_b=arr_b.size >= 2 and near_tie_among(top_b),
        ))
    return out
