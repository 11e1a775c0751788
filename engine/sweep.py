"""The shift sweep: how much every stage changes as the input slides step by step."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from ._checks import as_image, choice
from .compare import l2_norm, relative_difference
from .conv import activate_owned, padding_amounts
from .pipeline import PipelineResult, PipelineSpec, run_owned, run_pipeline
from .pool import pool2d_unchecked, window_pool_into
from .transforms import check_flag, check_integer, move_blocks, translate_into

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
                cancel: object = None,
                on_shift: Callable[[list[str], int, np.ndarray], object] | None = None
                ) -> np.ndarray:
    """The distances of :func:`sweep_stages` alone (see there for everything else)."""
    return sweep_stages(image, spec, shifts, axis=axis, wrap=wrap, align=align,
                        progress=progress, cancel=cancel, on_shift=on_shift)[1]


def sweep_stages(image: np.ndarray, spec: PipelineSpec | None, shifts: Sequence[int], *,
                 axis: str = "x", wrap: bool = True, align: bool = False,
                 progress: Callable[[int, int], object] | None = None,
                 cancel: object = None,
                 on_shift: Callable[[list[str], int, np.ndarray], object] | None = None
                 ) -> tuple[list[str], np.ndarray]:
    """Slide the input through `shifts` and measure, per shift and stage, how much the
    stage changed.

    For each shift s the input is moved by s pixels along `axis` and run through the
    pipeline; each stage's map is compared with the unshifted run's map using the
    distance of :func:`engine.compare.normalized_distance`
    (``||a - b|| / max(||a||, ||b||)``). The result is that of running
    :func:`engine.run_pipeline` on every moved input and comparing whole maps; the sweep
    gets it with less work: one buffer per stage is reused from shift to shift (for a
    convolution of stride 1 followed by max or average pooling), the
    unshifted maps' norms are taken once, the reference moved by whole cells is never
    built (its distance is summed over the blocks the move cuts it into), and with
    ``align=True`` the input stage is not compared at all: the moved input is the
    unshifted one moved by whole pixels, so its distance is 0 (NaN when both are zero).
    With ``wrap=True`` and a pipeline that follows circular shifts exactly (see
    :class:`CircularLevels`: valid or circular padding, stride 1, taps of -1, 0 and 1,
    max or average pooling), a single convolution serves every shift and each pooled
    level is computed once per phase.

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
        Checked before each shift and between its stages; when it returns True (or the
        event is set) the sweep stops and raises SweepCancelled.
    on_shift : callable, optional
        Called as ``on_shift(names, i, row)`` as soon as shift ``shifts[i]`` is measured
        (before `progress`), with the stage names and that shift's distances (a new
        array), so that curves can grow while the sweep runs.

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
    steps = check_shifts(shifts)
    if progress is not None and not callable(progress):
        raise ValueError(f"progress must be callable as progress(done, total); got {progress!r}.")
    cancelled = cancel_check(cancel)
    wrap = check_flag(wrap, "wrap")
    align = check_flag(align, "align")

    if on_shift is not None and not callable(on_shift):
        raise ValueError(f"on_shift must be callable as on_shift(names, i, row); "
                         f"got {on_shift!r}.")

    base = run_pipeline(x, spec, top_k=1)
    names = base.names
    base_norms = [l2_norm(stage.array) for stage in base.stages]
    out = np.zeros((len(steps), len(base.stages)), dtype=np.float64)
    moved = np.empty_like(x)
    scratch: dict = {}  # the maps of each shift's run overwrite the last shift's
    circular = CircularLevels(x, base) if wrap and CircularLevels.applies(base) else None
    def distance(j: int, array: np.ndarray, dy: int, dx: int) -> float:
        if align and j == 0:
            # the moved input is the unshifted one moved by whole pixels: distance 0,
            # undefined when both are zero
            empty = base_norms[0] == 0.0 if wrap else cv2.countNonZero(moved) == 0
            return np.nan if empty else 0.0
        cy = cx = 0
        if align:
            sy, sx = base.stages[j].stride
            cy, cx = _nearest_cells(dy, sy), _nearest_cells(dx, sx)
        return moved_distance(array, base.stages[j].array, cy, cx, wrap, base_norms[j])

    def later_stages(dy: int, dx: int) -> list[float]:
        if circular is None:
            maps = [stage.array for stage in run_owned(moved, spec, scratch=scratch,
                                                       maxima=False).stages[1:]]
        else:
            maps = circular.maps(dy, dx, moved)
        if cancelled():
            return []
        return [distance(j, array, dy, dx) for j, array in enumerate(maps, start=1)]

    for i, step in enumerate(steps):
        if cancelled():
            raise SweepCancelled(i, len(steps))
        dy, dx = step * unit_y, step * unit_x
        moved.setflags(write=True)  # the last run marked its input stage read-only
        translate_into(x, dy, dx, wrap, moved)
        first = distance(0, moved, dy, dx)
        later = later_stages(dy, dx)
        if cancelled():
            raise SweepCancelled(i, len(steps))
        out[i] = [first, *later]
        if on_shift is not None:
            on_shift(names, i, out[i].copy())
        if progress is not None:
            progress(i + 1, len(steps))
    return names, out


class CircularLevels:
    """The maps of every circular shift of one input, from one convolution.

    When the convolution is circularly equivariant in exact float32 arithmetic, the maps of
    a circularly shifted input are cut from the maps of the unshifted one:

    - the convolution of ``roll(x, d)`` (stride 1, valid or circular padding) is the
      circular convolution ``C`` of `x` (every cell wrapping around the image, with the
      padding of the spec before the cell) rolled by `d` and cut to the stage's shape.
      OpenCV adds the same products in the same order for a cell wherever it lies; only
      whether it rounds each product (plain) or not (fused multiply-add) depends on the
      column, and with taps of -1, 0 and 1 every product is exact, so both agree.
    - a max or average pooling of size = stride p of a map whose sides divide by p is
      circular: pooling ``roll(M, d)`` gives the pooled map of the phase ``d mod p`` (M
      rolled by ``d mod p`` and pooled) rolled by ``d // p``; the stage, which drops
      remainder rows and columns, is its top-left part.

    So level l needs one pooled map per phase ``d mod p**l``, computed once (from the
    level above's map of the phase ``d mod p**(l-1)``) and rolled for every shift with
    that phase; levels where a side no longer divides by p are pooled for each shift.
    """

    def __init__(self, x: np.ndarray, base: PipelineResult) -> None:
        spec = base.spec
        h, w = x.shape
        self.spec = spec
        self.shapes = [stage.shape for stage in base.stages[1:]]
        if spec.convolve:
            k = spec.kernel_array
            top, _, left, _ = padding_amounts(k.shape, spec.padding)
            padded = cv2.copyMakeBorder(x, top, k.shape[0] - 1 - top, left,
                                        k.shape[1] - 1 - left, cv2.BORDER_WRAP)
            full = cv2.filter2D(padded, cv2.CV_32F, k, anchor=(0, 0),
                                borderType=cv2.BORDER_CONSTANT)
            conv = activate_owned(np.ascontiguousarray(full[:h, :w]), spec.activation)
        else:
            conv = x
        p = spec.pool_size
        pools = len(base.stages) - (2 if spec.convolve else 1)
        self.circular_levels = 0  # levels whose maps are cut from the phases' maps
        while self.circular_levels < pools and h % p ** (self.circular_levels + 1) == 0 \
                and w % p ** (self.circular_levels + 1) == 0:
            self.circular_levels += 1
        self.phases: dict[tuple[int, int, int], np.ndarray] = {(0, 0, 0): conv}
        self.buffers = [np.empty(shape, np.float32) for shape in
                        [(h, w)] + [(h // p ** lv, w // p ** lv)
                                    for lv in range(1, self.circular_levels + 1)]]

    @staticmethod
    def applies(base: PipelineResult) -> bool:
        """Whether the maps of `base`'s pipeline follow circular shifts exactly (see the
        class notes); the caller checks that the shifts are circular."""
        spec = base.spec
        if spec.pool_mode not in ("max", "avg") or spec.pool_size != spec.effective_pool_stride:
            return False
        if not spec.convolve:
            return True
        return spec.stride == 1 and spec.padding in ("valid", "circular") \
            and bool(np.isin(spec.kernel_array, (-1.0, 0.0, 1.0)).all())

    def _phase(self, level: int, ry: int, rx: int) -> np.ndarray:
        """The circular map of `level` for a shift of (ry, rx), both below p**level."""
        key = (level, ry, rx)
        if key not in self.phases:
            step = self.spec.pool_size ** (level - 1)
            above = self._phase(level - 1, ry % step, rx % step)
            rolled = translate_into(above, ry // step, rx // step, True,
                                    np.empty_like(above))
            self.phases[key] = window_pool_into(
                rolled, self.spec.pool_size, self.spec.pool_mode,
                np.empty((above.shape[0] // self.spec.pool_size,
                          above.shape[1] // self.spec.pool_size), np.float32))
        return self.phases[key]

    def maps(self, dy: int, dx: int, moved: np.ndarray) -> list[np.ndarray]:
        """The maps after the input (the convolution, if any, and the pooled levels) of
        the input rolled by (dy, dx), which is `moved`, in ``run_pipeline`` order. They are
        views of buffers that the next call overwrites."""
        p = self.spec.pool_size
        out: list[np.ndarray] = []
        for level in range(self.circular_levels + 1):
            if level == 0 and not self.spec.convolve:
                continue  # the input itself
            step = p ** level
            phase = self._phase(level, dy % step, dx % step)
            buffer = translate_into(phase, dy // step, dx // step, True, self.buffers[level])
            if level or self.spec.convolve:
                rows, cols = self.shapes[len(out)]
                out.append(buffer[:rows, :cols])
        current = out[-1] if out else moved
        while len(out) < len(self.shapes):
            current = pool2d_unchecked(current, p, p, self.spec.pool_mode,
                                       self.spec.blur_size)
            out.append(current)
        return out


def moved_distance(a: np.ndarray, b: np.ndarray, cy: int, cx: int, wrap: bool,
                   norm_b: float) -> float:
    """``relative_difference(a, translate_unchecked(b, cy, cx, wrap))`` without building
    the moved `b`: its squared distance to `a` is summed over the blocks the move cuts
    it into. `norm_b` is ``||b||`` (a circular move keeps it; a zero-filling one keeps
    the norm of the block that stays).
    """
    norm_a = l2_norm(a)
    if not (cy or cx):
        return relative_difference(a, b, max(norm_a, norm_b))
    h, w = b.shape
    blocks = move_blocks(h, w, cy, cx, wrap)
    square = sum(cv2.norm(a[dr, dc], b[sr, sc], cv2.NORM_L2SQR) for (dr, sr), (dc, sc)
                 in blocks)
    if not wrap:  # cells the move uncovers are 0 in the moved map: all of a's there counts
        norm_b = float(np.sqrt(sum(cv2.norm(b[sr, sc], cv2.NORM_L2SQR)
                                   for (_, sr), (_, sc) in blocks)))
        square += sum(cv2.norm(part, cv2.NORM_L2SQR) for part in _uncovered(a, cy, cx))
    reference = max(norm_a, norm_b)
    if reference == 0.0:
        return float("nan")
    return float(np.sqrt(square)) / reference


def _uncovered(a: np.ndarray, dy: int, dx: int) -> list[np.ndarray]:
    """The parts of `a` that a zero-filling move by (dy, dx) leaves uncovered: whole rows
    above or below, then the rest of the rows left or right."""
    h, w = a.shape
    if abs(dy) >= h or abs(dx) >= w:
        return [a]
    rows = slice(dy, h) if dy >= 0 else slice(0, h + dy)
    return [a[:dy] if dy >= 0 else a[h + dy:], a[rows, :dx] if dx >= 0 else a[rows, w + dx:]]


def check_shifts(shifts: object) -> list[int]:
    """Return `shifts` (a sequence of whole pixels, such as ``range(64)``) as a list of ints.

    Raises
    ------
    ValueError
        If `shifts` is no sequence, or holds something other than integers.
    """
    if isinstance(shifts, (str, bytes)) or not hasattr(shifts, "__iter__"):
        raise ValueError(f"shifts must be a sequence of integers such as range(64); "
                         f"got {shifts!r}.")
    return [check_integer(s, "shifts") for s in shifts]


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
