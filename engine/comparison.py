"""Comparing an input with a transformed copy (or another image), stage by stage.

:class:`InputTransform` says how B is made from A and how that transform acts on
a stage of stride S; :func:`compare_inputs` runs both inputs, measures distance,
peak displacement and the transform error ``||f(T x) - T' f(x)|| / ||f(x)||`` per
stage, and keeps the differences A - B for drawing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from ._checks import as_image, choice
from .compare import Norms, StageComparison, compare_results, relative_difference
from .fused import RECYCLER, flip_into
from .pipeline import PipelineResult, PipelineSpec, run_pipeline
from .transforms import (
    check_flag,
    check_integer,
    first_asymmetric_stage,
    mirror,
    mirror_note,
    rotate90,
    translate_into,
    translate_unchecked,
)

TRANSFORM_KINDS = ("mirror", "flip", "shift", "rotate", "other")
#: Why a distance or error is undefined when both maps are all zero.
BOTH_ZERO = "both maps are zero"


@dataclass(frozen=True)
class InputTransform:
    """How input B is made from input A.

    Attributes
    ----------
    kind : {"mirror", "flip", "shift", "rotate", "other"}
        Mirror left-right, flip up-down, translate by (dy, dx), rotate by 90 degrees
        `turns` times counter-clockwise, or "other": B is another image.
    dy, dx : int
        The shift (down, right) for "shift".
    wrap : bool
        Circular shift (True) or zero fill (False) for "shift".
    turns : int
        Quarter turns for "rotate".

    Raises
    ------
    ValueError
        For an unknown kind or a non-integer shift.

    Examples
    --------
    >>> InputTransform("shift", dy=0, dx=2).description
    'shifted by (dy, dx) = (0, 2), wrapping around'
    """

    kind: str = "mirror"
    dy: int = 0
    dx: int = 0
    wrap: bool = True
    turns: int = 1

    def __post_init__(self) -> None:
        choice(self.kind, "transform kind", TRANSFORM_KINDS)
        check_integer(self.dy, "dy")
        check_integer(self.dx, "dx")
        check_integer(self.turns, "turns")
        check_flag(self.wrap, "wrap")

    @property
    def description(self) -> str:
        """The transform in words."""
        if self.kind == "mirror":
            return "mirrored left-right"
        if self.kind == "flip":
            return "flipped up-down"
        if self.kind == "rotate":
            return f"rotated {90 * (self.turns % 4)} degrees counter-clockwise"
        if self.kind == "shift":
            how = "wrapping around" if self.wrap else "zero fill"
            return f"shifted by (dy, dx) = ({self.dy}, {self.dx}), {how}"
        return "another image"

    @property
    def mirror_axis(self) -> int | None:
        """1 for a left-right mirror, 0 for an up-down flip, None otherwise."""
        return {"mirror": 1, "flip": 0}.get(self.kind)

    @property
    def shift(self) -> tuple[int, int] | None:
        """``(dy, dx)`` for a translation, None otherwise."""
        return (self.dy, self.dx) if self.kind == "shift" else None

    @property
    def inverse(self) -> InputTransform:
        """The transform that undoes this one (a mirror, a flip and "other" undo
        themselves).

        >>> InputTransform("shift", dy=1, dx=-2, wrap=False).inverse.shift
        (-1, 2)
        """
        if self.kind == "shift":
            return InputTransform("shift", dy=-self.dy, dx=-self.dx, wrap=self.wrap)
        if self.kind == "rotate":
            return InputTransform("rotate", turns=-self.turns % 4)
        return self

    def counterpart(self, row: int, col: int, shape: tuple[int, int],
                    stride: tuple[int, int]) -> tuple[int, int] | None:
        """The cell of A's stage that cell (`row`, `col`) of B's stage shows, B being this
        transform of A.

        Parameters
        ----------
        row, col : int
            A cell of B's map.
        shape : (int, int)
            The shape of B's map.
        stride : (int, int)
            Input pixels per cell of the stage (rows, cols): a shift moves a stage by the
            shift divided by the stride. A shift the stride does not divide maps to the
            cell holding the shifted centre of (`row`, `col`).

        Returns
        -------
        (int, int) or None
            The cell of A; None where B's cell shows nothing of A (it was filled with
            zeros by a shift without wrap, or lies outside the map) and for "other" (B is
            another image: no cell of A corresponds).

        Examples
        --------
        >>> InputTransform("mirror").counterpart(0, 0, (4, 6), (1, 1))
        (0, 5)
        >>> InputTransform("shift", dx=4).counterpart(1, 1, (5, 5), (2, 2))
        (1, 4)
        >>> InputTransform("rotate").counterpart(0, 0, (3, 2), (1, 1))
        (0, 2)
        """
        rows, cols = shape
        if not (0 <= row < rows and 0 <= col < cols) or self.kind == "other":
            return None
        if self.kind == "mirror":
            return row, cols - 1 - col
        if self.kind == "flip":
            return rows - 1 - row, col
        if self.kind == "rotate":
            # np.rot90 once: B[i, j] = A[j, H_B - 1 - i]; undo one quarter turn at a time
            for _ in range(self.turns % 4):
                row, col = col, rows - 1 - row
                rows, cols = cols, rows
            return row, col
        sy, sx = stride
        a_row = int(np.floor(((row + 0.5) * sy - self.dy) / sy))
        a_col = int(np.floor(((col + 0.5) * sx - self.dx) / sx))
        if self.wrap:
            return a_row % rows, a_col % cols
        if 0 <= a_row < rows and 0 <= a_col < cols:
            return a_row, a_col
        return None

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Return the transformed copy of `x` (float32).

        Raises
        ------
        ValueError
            For a bad image, or kind "other" (B must then be given).
        """
        return self.apply_unchecked(as_image(x))

    def apply_unchecked(self, x: np.ndarray) -> np.ndarray:
        """:meth:`apply` for an image already validated (as ``as_image`` returns one)."""
        if self.mirror_axis is not None:
            # a new array, as np.flip then a copy
            return flip_into(x, self.mirror_axis, RECYCLER.empty(x.shape))
        out = self._act(x, (1, 1))
        if out is None:
            raise ValueError("transform kind 'other' has no image of its own; give image B.")
        return out

    def on_stage(self, arr: np.ndarray, stride: tuple[int, int]) -> np.ndarray | None:
        """Return T' applied to a stage map of `stride` input pixels per cell, or None when
        the stage cannot follow the transform (a shift its stride does not divide, "other")."""
        return self._act(arr, stride)

    def _act(self, arr: np.ndarray, stride: tuple[int, int]) -> np.ndarray | None:
        if self.kind == "mirror":
            return mirror(arr, 1)
        if self.kind == "flip":
            return mirror(arr, 0)
        if self.kind == "rotate":
            return rotate90(arr, self.turns)
        if self.kind == "shift":
            sy, sx = stride
            if self.dy % sy or self.dx % sx:
                return None
            return translate_unchecked(np.ascontiguousarray(arr, dtype=np.float32),
                                       self.dy // sy, self.dx // sx, self.wrap)
        return None


@dataclass(frozen=True)
class Comparison:
    """Two runs compared stage by stage.

    Attributes
    ----------
    a, b : PipelineResult
        The runs of input A and input B (B with the mirrored kernel when
        `kernel_mirrored`).
    transform : InputTransform
        How B relates to A.
    stages : list of StageComparison
        Distance, peak displacement and transform error per common stage. The
        ``equivariance_error`` field holds ``||f(T x) - T' f(x)|| / ||f(x)||`` where T'
        is the transform acting on the stage (a shift divided by the stage's stride;
        None where it does not divide, or for another image).
    differences : Mapping
        Stage name -> A - B over the compared (top-left overlap) cells, float32 (taken
        when first read, see :class:`Differences`).
    note : str or None
        A plain-language remark when the comparison is a mirror (mirroring is not a
        translation; what the kernel's symmetry does).
    kernel_mirrored : bool
        Whether B ran with the mirrored kernel.
    fix_padding : str or None
        The padding that removes what the note explains (:data:`SEAM_FREE_PADDING` under
        a seam note), for a one-click fix; None when there is none.
    """

    a: PipelineResult
    b: PipelineResult
    transform: InputTransform
    stages: list[StageComparison]
    differences: Mapping[str, np.ndarray] = field(repr=False)
    note: str | None = None
    kernel_mirrored: bool = False
    fix_padding: str | None = None


def transform_errors(a: PipelineResult, b: PipelineResult,
                     transform: InputTransform) -> list[float | None]:
    """Per stage of `a`: ``||f(T x) - T' f(x)|| / ||f(x)||``, with f(T x) taken from `b`.

    None where the transform does not act on the stage (see
    :meth:`InputTransform.on_stage`), where `b` lacks the stage, or where the shapes
    differ, or where both maps are zero (:func:`transform_error_notes` says which). With
    ``f(x) = 0`` the norm of ``f(T x)`` is used, as in :func:`engine.equivariance_error`,
    whose values this reproduces for a circular shift.
    """
    return [error for error, _ in transform_error_notes(a, b, transform)]


def transform_error_notes(a: PipelineResult, b: PipelineResult, transform: InputTransform,
                          norms: Norms | None = None, *, input_transformed: bool = False
                          ) -> list[tuple[float | None, str | None]]:
    """Per stage of `a`: the transform error of :func:`transform_errors` and, where it is
    undefined, why (``"another image"``, ``"shift not a multiple of S = 4"``,
    ``"not in B"``, ``"shapes differ"``, ``"both maps are zero"``).

    `norms` keeps the norms of A's stages for a comparison that divides by them again.
    A mirror or flip of a stage is written into one buffer that every stage reuses, not
    made anew per stage; the values are those of :meth:`InputTransform.on_stage`.
    With `input_transformed` the caller vouches that B's input stage was made from A's by
    `transform` (:meth:`InputTransform.apply`), so its error is 0 (undefined when A's
    input is zero) without transforming A's input again.
    """
    norms = Norms() if norms is None else norms
    out: list[tuple[float | None, str | None]] = []
    names_b = set(b.names)
    buffer = _Buffer()
    for stage in a.stages:
        if transform.kind == "other":
            out.append((None, "another image"))
            continue
        if input_transformed and stage.name == "input" and "input" in names_b:
            out.append((None, BOTH_ZERO) if norms(stage.array) == 0.0 else (0.0, None))
            continue
        expected = _on_stage(transform, stage.array, stage.stride, buffer)
        if expected is None:
            out.append((None, f"shift not a multiple of S = {stride_text(stage.stride)}"))
        elif stage.name not in names_b:
            out.append((None, "not in B"))
        elif b[stage.name].shape != expected.shape:
            out.append((None, "shapes differ"))
        else:
            error = relative_difference(b[stage.name].array, expected, norms(stage.array))
            out.append((None, BOTH_ZERO) if np.isnan(error) else (error, None))
    return out


class _Buffer:
    """Float32 memory for one map at a time, grown when a larger one comes."""

    def __init__(self) -> None:
        self._flat = np.empty(0, np.float32)

    def take(self, shape: tuple[int, int]) -> np.ndarray:
        size = shape[0] * shape[1]
        if self._flat.size < size:
            self._flat = RECYCLER.empty((size,))
        return self._flat[:size].reshape(shape)


def _on_stage(transform: InputTransform, arr: np.ndarray, stride: tuple[int, int],
              buffer: _Buffer) -> np.ndarray | None:
    """``transform.on_stage(arr, stride)``; a mirror, flip or shift of a float32 map whose
    rows are contiguous is written into `buffer` (valid until its next use): a mirror by
    ``cv2.flip``, which moves the same values as ``np.flip``, a shift by
    :func:`~engine.transforms.translate_into`, without a copy of a padded map first."""
    axis = transform.mirror_axis
    if transform.kind not in ("mirror", "flip", "shift") or arr.ndim != 2 \
            or arr.dtype != np.float32 or arr.strides[1] != 4 or arr.size == 0:
        return transform.on_stage(arr, stride)
    if axis is not None:
        return flip_into(arr, axis, buffer.take(arr.shape))
    (sy, sx), (dy, dx) = stride, transform.shift
    if dy % sy or dx % sx:
        return None
    return translate_into(arr, dy // sy, dx // sx, transform.wrap, buffer.take(arr.shape))


def stride_text(stride: tuple[int, int]) -> str:
    """A stage's stride as people say it: ``"4"`` when both directions agree, else
    ``"(2, 4)"``.

    >>> stride_text((4, 4)), stride_text((2, 4))
    ('4', '(2, 4)')
    """
    return str(stride[0]) if stride[0] == stride[1] else f"({stride[0]}, {stride[1]})"


def compare_runs(a: PipelineResult, b: PipelineResult, transform: InputTransform | None,
                 *, input_transformed: bool = False
                 ) -> tuple[list[StageComparison], Differences]:
    """Compare two runs already made: per common stage, distance, peak displacement and
    (when `transform` is given) the transform error; and the differences A - B over
    each stage's compared (top-left overlap) cells, float32. `input_transformed`: as
    :func:`transform_error_notes`.

    Returns
    -------
    (list of StageComparison, Differences)
        As :attr:`Comparison.stages` and :attr:`Comparison.differences`.
    """
    errors = notes = None
    norms = Norms()
    names_b = set(b.names)
    common = [(s, b[s.name]) for s in a.stages if s.name in names_b]
    norms.measure([s.array for pair in common for s in pair],
                  [(sa.array, sb.array) for sa, sb in common if sa.shape == sb.shape])
    if transform is not None:
        pairs = transform_error_notes(a, b, transform, norms,
                                      input_transformed=input_transformed)
        errors, notes = [e for e, _ in pairs], [n for _, n in pairs]
    stages = compare_results(a, b, equivariance_errors=errors, error_notes=notes, norms=norms)
    return stages, Differences(a, b, {c.name: c.compared_shape for c in stages})


class Differences(Mapping):
    """Stage name -> A - B over the stage's compared cells (float32), each taken when it is
    first read and then kept: a window that shows no difference row never pays for them.

    Safe to read from several threads (each difference is taken once).
    """

    def __init__(self, a: PipelineResult, b: PipelineResult,
                 shapes: dict[str, tuple[int, int]]) -> None:
        self._a, self._b, self._shapes = a, b, shapes
        self._taken: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> np.ndarray:
        rows, cols = self._shapes[name]  # KeyError for a stage not compared
        with self._lock:
            if name not in self._taken:
                self._taken[name] = (self._a[name].array[:rows, :cols]
                                     - self._b[name].array[:rows, :cols])
            return self._taken[name]

    def __contains__(self, name: object) -> bool:
        return name in self._shapes  # without taking the difference

    def __iter__(self) -> Iterator[str]:
        return iter(self._shapes)

    def __len__(self) -> int:
        return len(self._shapes)


def comparison_note(spec: PipelineSpec, transform: InputTransform, shape: tuple[int, int],
                    mirrored: bool) -> str | None:
    """A plain-language remark on a comparison: for a mirror or flip, what the kernel's
    symmetry does (:func:`engine.mirror_note`) or, with the kernel `mirrored` too, that
    the mirror commutes and from which stage the windows stop sitting symmetrically; for
    a wrapping shift through a convolution without circular padding, that the padding
    cuts a seam (:func:`seam_note`); None otherwise."""
    axis = transform.mirror_axis
    if axis is None:
        return seam_note(spec, transform)
    if not mirrored:
        return mirror_note(spec, axis, shape)
    text = ("The kernel is mirrored too, so conv(mirror(x), mirror(k)) = mirror(conv(x, k)): "
            "the mirror commutes and the transform error of the convolution is 0.")
    stage = first_asymmetric_stage(spec, shape, axis)
    if stage is not None:
        text += (f" From the {stage} stage on, the windows do not sit symmetrically in the "
                 "map (a remainder is dropped on one side), so the error there is not 0.")
    return text


#: The padding that makes a convolution exactly equivariant to circular shifts.
SEAM_FREE_PADDING = "circular"


def seam_note(spec: PipelineSpec, transform: InputTransform) -> str | None:
    """Why a convolution's transform error is not 0 under a wrapping shift: its padding
    does not wrap, so where the image's edges meet after the shift the kernel reads a
    seam. None when that does not apply (no wrap, no convolution, circular padding).

    >>> print(seam_note(PipelineSpec(padding="circular"), InputTransform("shift", dx=1)))
    None
    """
    if transform.kind != "shift" or not transform.wrap or not spec.convolve \
            or spec.padding == SEAM_FREE_PADDING:
        return None
    return (f"The shift wraps around, but {spec.padding} padding does not: where the right "
            "edge meets the left (and the bottom the top) the kernel reads a seam that the "
            "unshifted image does not have, so the convolution's error is not 0. With "
            "circular padding the convolution moves exactly with the shift.")


def equivariance_error(image: np.ndarray, spec: PipelineSpec | None, dy: int, dx: int
                       ) -> list[float | None]:
    """Measure how far each stage is from moving exactly with a circular shift of the input.

    With ``T`` the circular shift of the input by (dy, dx) (``np.roll``) and ``T'``
    the circular shift of a stage of stride ``(Sy, Sx)`` by ``(dy/Sy, dx/Sx)`` cells,
    the error of stage ``f`` is ``||f(T x) - T' f(x)|| / ||f(x)||``. If ``f(x)`` is all
    zero, the norm of ``f(T x)`` is used instead (so the error is 1 when only
    ``f(T x)`` is non-zero, and undefined, None, when both are zero).

    The spec is used as given: with ``padding="circular"`` and max or average pooling
    on an image whose sides divide by the total stride, every defined value is 0 up
    to rounding; with "valid" padding the image borders show up in the error.

    Parameters
    ----------
    image : (H, W) array
        The input x; not modified.
    spec : PipelineSpec or None
        The pipeline (the article's when None).
    dy, dx : int
        The shift in input pixels (negative: up, left).

    Returns
    -------
    list of float or None
        One value per stage of ``run_pipeline(image, spec)``, in order; None where
        the stage's stride does not divide the shift (the stage cannot follow it in
        whole cells) or both maps are zero.

    Raises
    ------
    ValueError
        For a bad image, spec or shift.
    """
    x = as_image(image, "image")
    shift = InputTransform("shift", dy=dy, dx=dx, wrap=True)
    base = run_pipeline(x, spec, top_k=1)
    moved = run_pipeline(shift.apply(x), spec, top_k=1)
    return transform_errors(base, moved, shift)
