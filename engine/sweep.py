"""The shift sweep: how much every stage changes as the input slides step by step."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._checks import as_image, choice
from .compare import relative_difference
from .pipeline import PipelineSpec, run_pipeline
from .transforms import check_flag, check_integer, translate_unchecked

#: Sweep direction -> (rows, cols) moved per unit of shift.
SWEEP_AXES: dict[str, tuple[int, int]] = {
    "x": (0, 1),
    "y": (1, 0),
    "diagonal": (1, 1),
    "xy": (1, 1),
}


class SweepCancelled(Exception):
    """The sweep was cancelled; `done` of `total` shifts had been measured."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"shift sweep cancelled after {done} of {total} shifts")
        self.done = done
        self.total = total


def shift_sweep(image: np.ndarray, spec: PipelineSpec | None, shifts: Sequence[int], *,
                axis: str = "x", wrap: bool = True, align: bool = False,
                progress: Callable[[int, int], object] | None = None,
                cancel: object = None) -> np.ndarray:
    """The distances of :func:`sweep_stages` alone (see there for everything else)."""
    return sweep_stages(image, spec, shifts, axis=axis, wrap=wrap, align=align,
                        progress=progress, cancel=cancel)[1]


def sweep_stages(image: np.ndarray, spec: PipelineSpec | None, shifts: Sequence[int], *,
                 axis: str = "x", wrap: bool = True, align: bool = False,
                 progress: Callable[[int, int], object] | None = None,
                 cancel: object = None) -> tuple[list[str], np.ndarray]:
    """Slide the input through `shifts` and measure, per shift and stage, how much the
    stage changed.

    For each shift s the input is moved by s pixels along `axis` and run through the
    pipeline; each stage's map is compared with the unshifted run's map using the
    distance of :func:`engine.compare.normalized_distance`
    (``||a - b|| / max(||a||, ||b||)``).

    With ``align=True`` the unshifted map is first moved by the shift
    expressed in that stage's cells, rounded to the nearest whole cell (halves round
    up): a stage of stride S can only follow a shift in steps of S pixels, so the
    value is what the stage does *besides* moving along. It is exactly 0 at
    multiples of S for a perfectly equivariant stage (circular padding, max or
    average pooling, sides divisible by S), and it shows how much max pooling
    changes in between. With ``align=False`` (the default) the maps are compared in
    place, which measures invariance: how much the stage's output differs at all.

    Parameters
    ----------
    image : (H, W) array
        The input; not modified.
    spec : PipelineSpec or None
        The pipeline (the article's when None).
    shifts : sequence of int
        Shifts in pixels (negative: up/left), in the order measured.
    axis : {"x", "y", "diagonal", "xy"}
        "x" moves right, "y" down, "diagonal" (alias "xy") both by s.
    wrap : bool
        True: circular shifts (``np.roll``). False: uncovered pixels become 0; the
        aligned reference maps are then moved the same way.
    align : bool
        Compare with the unshifted map moved along (see above), or in place.
    progress : callable, optional
        Called as ``progress(done, total)`` after each shift, done = 1 ... total.
    cancel : callable or threading.Event, optional
        Checked before each shift; when it returns True (or the event is set) the
        sweep stops and raises SweepCancelled.

    Returns
    -------
    names : list of str
        The stages measured, in ``run_pipeline`` order (fewer than the spec asks when
        pooling stops early).
    distances : (len(shifts), n_stages) float64 array
        Row i holds the distance of every stage for ``shifts[i]``.

    Raises
    ------
    SweepCancelled
        When `cancel` asks for it.
    ValueError
        For a bad image, spec, axis or shift, or progress/cancel that cannot be called.
    """
    x = as_image(image, "image")
    unit_y, unit_x = SWEEP_AXES[choice(axis, "axis", tuple(SWEEP_AXES))]
    steps = [check_integer(s, "shifts") for s in _as_sequence(shifts)]
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be callable as progress(done, total); got {progress!r}.")
    cancelled = cancel_check(cancel)
    wrap = check_flag(wrap, "wrap")
    align = check_flag(align, "align")

    base = run_pipeline(x, spec, top_k=1)
    out = np.zeros((len(steps), len(base.stages)), dtype=np.float64)
    for i, step in enumerate(steps):
        if cancelled():
            raise SweepCancelled(i, len(steps))
        dy, dx = step * unit_y, step * unit_x
        result = run_pipeline(translate_unchecked(x, dy, dx, wrap), spec, top_k=1)
        for j, (ref, stage) in enumerate(zip(base.stages, result.stages, strict=True)):
            expected = ref.array
            if align:
                sy, sx = stage.stride
                cy, cx = _nearest_cells(dy, sy), _nearest_cells(dx, sx)
                if cy or cx:
                    expected = translate_unchecked(expected, cy, cx, wrap)
            out[i, j] = relative_difference(stage.array, expected)
        if progress is not None:
            progress(i + 1, len(steps))
    return base.names, out


def _as_sequence(shifts: object) -> list:
    if isinstance(shifts, (str, bytes)) or not hasattr(shifts, "__iter__"):
        raise ValueError(f"shifts must be a sequence of integers such as range(64); "
                         f"got {shifts!r}.")
    return list(shifts)


def _nearest_cells(pixels: int, stride: int) -> int:
    """The shift in cells of `stride` pixels nearest to `pixels` (halves round up)."""
    return (2 * pixels + stride) // (2 * stride)


def cancel_check(cancel: object) -> Callable[[], bool]:
    """Return a no-argument function telling whether `cancel` asks to stop.

    `cancel` may be None (never), a ``threading.Event`` or a callable returning True.

    Raises
    ------
    ValueError
        If `cancel` is none of these.
    """
    if cancel is None:
        return lambda: False
    is_set = getattr(cancel, "is_set", None)
    if callable(is_set):
        return lambda: bool(is_set())
    if callable(cancel):
        return lambda: bool(cancel())
    raise ValueError(
        f"cancel must be a callable returning True to stop, or a threading.Event; got {cancel!r}."
    )
