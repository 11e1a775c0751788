"""The whole pipeline: input -> convolution + activation -> n pooling levels."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from ._checks import as_image, bounded_int, choice, positive_int
from .conv import (
    ACTIVATIONS,
    PADDINGS,
    activate_owned,
    check_conv_fits,
    conv2d_unchecked,
    padding_amounts,
)
from .fused import banded, conv_pool_bands
from .geometry import Geometry, cells_fed, cells_read
from .kernels import KERNELS, as_kernel
from .limits import MAX_BLUR_SIZE, MAX_KERNEL_SIZE, MAX_LEVELS, MAX_POOL_SIZE, MAX_STRIDE, MAX_TOP_K
from .maxima import LEADING_CELLS, maxima_unchecked
from .pool import (
    POOL_MODES,
    aps_with_tie,
    check_aps,
    pool2d_unchecked,
    pool_layers,
    pool_stop_reason,
    pooled_shape,
)

KernelValues = tuple[tuple[float, ...], ...]
_CONV_BORDER = {"valid": "zero", "same": "zero", "circular": "circular", "reflect": "reflect",
                "replicate": "replicate"}


@dataclass(frozen=True)
class PipelineSpec:
    """Everything that defines a pipeline run; frozen and hashable.

    `kernel` is a name from ``KERNELS`` or a 2-D array of values; arrays are stored
    as nested tuples so the spec stays immutable. Validation happens at
    construction, so a spec that exists is a spec that runs.

    Raises
    ------
    ValueError
        If any field is out of range or unknown.
    """

    kernel: str | KernelValues = "prewitt_vertical"
    convolve: bool = True
    padding: str = "valid"
    stride: int = 1
    activation: str = "relu"
    pool_mode: str = "max"
    pool_size: int = 2
    pool_stride: int | None = None
    levels: int = 6
    blur_size: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.kernel, str):
            arr = as_kernel(self.kernel)
            if max(arr.shape) > MAX_KERNEL_SIZE:
                raise ValueError(f"kernel is {arr.shape[0]}x{arr.shape[1]}; the largest is "
                                 f"{MAX_KERNEL_SIZE}x{MAX_KERNEL_SIZE}.")
            object.__setattr__(self, "kernel", tuple(tuple(float(v) for v in r) for r in arr))
        else:
            as_kernel(self.kernel)
        choice(self.padding, "padding", PADDINGS)
        choice(self.activation, "activation", ACTIVATIONS)
        choice(self.pool_mode, "pool_mode", POOL_MODES)
        check_aps(self.pool_mode, self.pool_size, self.pool_stride)
        positive_int(self.stride, "stride", MAX_STRIDE)
        positive_int(self.pool_size, "pool_size", MAX_POOL_SIZE)
        positive_int(self.blur_size, "blur_size", MAX_BLUR_SIZE)
        if self.pool_stride is not None:
            positive_int(self.pool_stride, "pool_stride", MAX_POOL_SIZE)
        bounded_int(self.levels, "levels", 0, MAX_LEVELS)

    @property
    def kernel_array(self) -> np.ndarray:
        """The kernel values as a float32 array."""
        if isinstance(self.kernel, str):
            return KERNELS[self.kernel].copy()
        return np.array(self.kernel, dtype=np.float32)

    @property
    def kernel_name(self) -> str:
        """The preset's name, or ``"custom"`` for explicit values."""
        return self.kernel if isinstance(self.kernel, str) else "custom"

    @property
    def effective_pool_stride(self) -> int:
        """The pooling stride actually used (`pool_stride` or `pool_size`)."""
        return self.pool_stride or self.pool_size

    def replace(self, **changes: object) -> PipelineSpec:
        """Return a copy with some fields changed (validated again)."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update(changes)
        return PipelineSpec(**values)

    def to_dict(self) -> dict:
        """Return the fields as plain JSON-ready values (kernel values as lists)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        if not isinstance(self.kernel, str):
            out["kernel"] = [list(r) for r in self.kernel]
        return out


@dataclass(frozen=True)
class Stage:
    """One stage of a pipeline result: its name, array, maxima and geometry.

    `array` is read-only float32; it may be a view whose rows are padded (not
    C-contiguous), as the convolution stage is, to spare a copy.

    `leading` holds the stage's :data:`~engine.maxima.LEADING_CELLS` largest cells as
    :func:`~engine.maxima.find_maxima` orders them, from which a comparison reads the peak
    and whether it is a near-tie (empty when the run took no maxima: a comparison finds
    them then); `extremes` is
    ``(min, max)`` of `array` when the run measured it on the way (else None). Both are
    facts of `array`, recorded so that they are not measured again.
    """

    name: str
    array: np.ndarray = field(repr=False)
    maxima: list[tuple[int, int, float]]
    geometry: Geometry
    input_shape: tuple[int, int]
    leading: tuple[tuple[int, int, float], ...] = field(default=(), repr=False, compare=False)
    extremes: tuple[float, float] | None = field(default=None, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)`` of the stage."""
        return self.array.shape

    @property
    def stride(self) -> tuple[int, int]:
        """How many input pixels one cell step covers, ``(rows, cols)``."""
        return self.geometry.stride

    @property
    def title(self) -> str:
        """The stage name with its shape, as the article titles its figures."""
        return f"{self.name.capitalize()} {self.shape}"

    def receptive_field(self, row: int, col: int) -> tuple[int, int, int, int]:
        """Return ``(top, left, bottom, right)``, the half-open rectangle of input pixels
        that can change cell (row, col), clipped to the image.

        Raises
        ------
        ValueError
            If (row, col) lies outside the stage.
        """
        if not (0 <= row < self.shape[0] and 0 <= col < self.shape[1]):
            raise ValueError(f"cell ({row}, {col}) is outside stage {self.name!r} of {self.shape}.")
        g, (h, w) = self.geometry, self.input_shape
        top, bottom = cells_read(g.layers_y, h, row, row + 1)
        left, right = cells_read(g.layers_x, w, col, col + 1)
        return top, left, bottom, right

    def cells_reading(self, top: int, left: int, bottom: int, right: int
                      ) -> tuple[int, int, int, int]:
        """Return the half-open cell rectangle ``(r0, c0, r1, c1)`` of this stage whose
        receptive fields meet the input rectangle ``[top, bottom) x [left, right)``."""
        g, (h, w) = self.geometry, self.input_shape
        r0, r1 = cells_fed(g.layers_y, h, max(top, 0), min(bottom, h))
        c0, c1 = cells_fed(g.layers_x, w, max(left, 0), min(right, w))
        return r0, c0, r1, c1

    def display_rect(self) -> tuple[float, float, float, float]:
        """Return ``(x, y, width, height)`` placing this stage over the input in input
        pixel coordinates: each cell is a stride-sized square centred on its receptive field."""
        gy, gx = self.geometry.y, self.geometry.x
        x0 = gx.offset + (gx.extent - gx.stride) / 2
        y0 = gy.offset + (gy.extent - gy.stride) / 2
        return x0, y0, self.shape[1] * gx.stride, self.shape[0] * gy.stride


@dataclass(frozen=True)
class PipelineResult:
    """The stages of one run, in order, and why pooling stopped if it stopped early.

    ``stop_reason`` is the whole sentence (``"stopped after 3 of 20 levels: input (1, 1) is
    smaller than the pooling window 2x2"``) and ``stop_cause`` its cause alone, for titles
    that already say how many levels ran. ``aps_ties`` names the APS pooling stages where
    two or more phases had the same largest norm (drawn binary images often do): the first
    was kept, and there a shift of the input need not shift the output.
    """

    spec: PipelineSpec
    stages: list[Stage]
    levels_requested: int
    levels_produced: int
    stop_reason: str | None = None
    aps_ties: tuple[str, ...] = ()
    stop_cause: str | None = None

    def __getitem__(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage named {name!r}; stages are {self.names}")

    def __len__(self) -> int:
        return len(self.stages)

    def __iter__(self):
        return iter(self.stages)

    @property
    def names(self) -> list[str]:
        """Stage names in order (``input``, ``conv``, ``pool 1`` ...)."""
        return [s.name for s in self.stages]

    def related_cells(self, index: int, row: int, col: int
                      ) -> dict[int, tuple[int, int, int, int]]:
        """For cell (row, col) of stage `index`, return per stage index the half-open cell
        rectangle ``(r0, c0, r1, c1)`` related to it: in earlier stages the cells that
        feed it, in later stages the cells it feeds, in its own stage the cell itself.

        With reflect or circular padding a border cell also feeds (or is fed by) cells
        across the mirror or the wrap; the rectangle is the hull of all of them.

        Raises
        ------
        ValueError
            If (row, col) lies outside the stage.
        """
        stage = self.stages[index]
        stage.receptive_field(row, col)  # validates the cell
        g, (h, w) = stage.geometry, stage.input_shape
        out: dict[int, tuple[int, int, int, int]] = {}
        for j, other in enumerate(self.stages):
            if j == index:
                out[j] = (row, col, row + 1, col + 1)
                continue
            if j < index:  # the cells of `other` that this cell reads
                ry = cells_read(g.layers_y, h, row, row + 1, len(other.geometry.layers_y))
                rx = cells_read(g.layers_x, w, col, col + 1, len(other.geometry.layers_x))
            else:  # the cells of `other` that read this cell
                og = other.geometry
                ry = cells_fed(og.layers_y, h, row, row + 1, len(g.layers_y))
                rx = cells_fed(og.layers_x, w, col, col + 1, len(g.layers_x))
            out[j] = (ry[0], rx[0], max(ry), max(rx))
        return out


def run_pipeline(image: np.ndarray, spec: PipelineSpec | None = None, *,
                 top_k: int = 5) -> PipelineResult:
    """Run `image` through convolution, activation and `spec.levels` pooling levels.

    Parameters
    ----------
    image : (H, W) array
        The input; not modified.
    spec : PipelineSpec, optional
        The pipeline; by default the article's (vertical Prewitt, which it calls Sobel;
        valid, ReLU, 6 max pools of 2).
    top_k : int
        How many maxima each stage records.

    Returns
    -------
    PipelineResult
        Stages ``input``, ``conv`` (after the activation; absent when
        ``spec.convolve`` is False) and ``pool 1`` ... ``pool n``. When fewer
        levels than asked fit, ``stop_reason`` says why.

    Raises
    ------
    ValueError
        For a bad image, or a kernel larger than the padded image.

    Examples
    --------
    >>> img = np.zeros((10, 10)); img[2, 2] = 1
    >>> r = run_pipeline(img, PipelineSpec(convolve=False, levels=2))
    >>> r["pool 2"].maxima[0][:2], r["pool 2"].shape
    ((0, 0), (2, 2))
    """
    x = as_image(image, "image")
    # as_image returns the caller's memory itself (or a view of it, e.g. for a memmap)
    # when no conversion was needed; the stage must own its pixels.
    return run_owned(x, spec, top_k=top_k, borrowed=x is image or x.base is not None)


def run_owned(x: np.ndarray, spec: PipelineSpec | None = None, *, top_k: int = 5,
              borrowed: bool = False, scratch: dict | None = None,
              maxima: bool = True) -> PipelineResult:
    """:func:`run_pipeline` for a validated (as ``as_image`` returns it) float32 image that
    the caller hands over: unless `borrowed`, the input stage is `x` itself, marked
    read-only (the caller may mark it writable again once done with the result).

    A `scratch` dict lets runs one after the other reuse the memory of their convolution
    and pooled maps (see :func:`engine.fused.conv_pool_bands`): each run then overwrites
    the stages of the one before, so pass it only when done with each result first.
    Without `maxima` the stages' maxima are left empty, for callers that read only maps.

    Raises
    ------
    ValueError
        For a bad spec or top_k, or a kernel larger than the padded image.
    """
    spec = PipelineSpec() if spec is None else spec
    if not isinstance(spec, PipelineSpec):
        raise ValueError(f"spec must be a PipelineSpec (or None); got {type(spec).__name__}.")
    top_k = positive_int(top_k, "top_k", MAX_TOP_K)
    shape = x.shape
    stages: list[Stage] = []
    geometry = Geometry()

    def add(name: str, arr: np.ndarray,
            rows: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Record a stage; `rows` are its row maxima and minima when the bands took them."""
        arr.setflags(write=False)
        extremes, leading = None, []
        if maxima:
            # a few more of the largest cells than the top_k (a prefix of them) cost no
            # more than the top_k alone: the search of a map is mostly its row maxima
            leading = maxima_unchecked(arr, max(top_k, LEADING_CELLS),
                                       None if rows is None else rows[0])
            if rows is not None:
                extremes = (float(rows[1].min()), float(rows[0].max()))
        top = leading[:top_k]
        stages.append(Stage(name, arr, top, geometry, shape, tuple(leading[:LEADING_CELLS]),
                            extremes))

    stride = spec.effective_pool_stride
    fits, stop = _levels_that_fit(x.shape, spec)  # raises if the convolution does not fit
    k = spec.kernel_array
    bands = None
    # a small map is in the cache whole: bands would only add their bookkeeping
    if spec.convolve and banded(spec.stride, spec.pool_mode, spec.pool_size, stride) \
            and (x.size >= BANDED_CELLS or scratch is not None):
        bands = conv_pool_bands(x, k, spec.padding, spec.activation, spec.pool_mode,
                                spec.pool_size, fits,
                                copy_input=borrowed and spec.padding == "valid",
                                scratch=scratch, row_maxima=maxima)
        if bands.input_copy is not None:
            x, borrowed = bands.input_copy, False
    add("input", x.copy() if borrowed else x,
        None if bands is None else (bands.input_row_max, bands.input_row_min))
    current = x
    if spec.convolve:
        if bands is None:
            current = activate_owned(
                conv2d_unchecked(x, k, spec.padding, spec.stride, contiguous=False),
                spec.activation)
        else:
            current = bands.conv
        top, bottom, left, right = padding_amounts(k.shape, spec.padding)
        border = _CONV_BORDER[spec.padding]
        geometry = geometry.then([(k.shape[0], spec.stride, top, bottom, border)],
                                 [(k.shape[1], spec.stride, left, right, border)])
        add("conv", current, None if bands is None else (bands.conv_row_max, bands.conv_row_min))

    ties: list[str] = []
    for level in range(1, fits + 1):
        layers_y, layers_x = (pool_layers(spec.pool_size, stride, spec.pool_mode,
                                          spec.blur_size, n) for n in current.shape)
        if bands is not None:
            current = bands.pools[level - 1]
        elif spec.pool_mode == "aps":
            current, tied = aps_with_tie(current)
            if tied:
                ties.append(f"pool {level}")
        else:
            current = pool2d_unchecked(current, spec.pool_size, stride, spec.pool_mode,
                                       spec.blur_size)
        geometry = geometry.then(layers_y, layers_x)
        add(f"pool {level}", current)
    stop_reason = None if stop is None else f"stopped after {fits} of {spec.levels} levels: {stop}"
    return PipelineResult(spec, stages, spec.levels, fits, stop_reason, tuple(ties), stop)


#: Inputs with fewer cells (and no `scratch`) run stage by stage, not in bands
#: (:func:`engine.fused.conv_pool_bands`): the same values, with fewer calls.
BANDED_CELLS = 1 << 20


def _levels_that_fit(shape: tuple[int, int], spec: PipelineSpec) -> tuple[int, str | None]:
    """How many of the spec's pooling levels run on an input of `shape`, and why the next
    one cannot (None when all run). Raises ValueError when the convolution does not fit."""
    if spec.convolve:
        k = spec.kernel_array
        check_conv_fits(shape, k.shape, spec.padding)
        top, bottom, left, right = padding_amounts(k.shape, spec.padding)
        shape = ((shape[0] + top + bottom - k.shape[0]) // spec.stride + 1,
                 (shape[1] + left + right - k.shape[1]) // spec.stride + 1)
    size, stride = spec.pool_size, spec.effective_pool_stride
    for level in range(spec.levels):
        reason = pool_stop_reason(shape, size, stride, spec.pool_mode, spec.blur_size)
        if reason:
            return level, reason
        shape = _pooled_shape(shape, spec)
    return spec.levels, None


def _pooled_shape(shape: tuple[int, int], spec: PipelineSpec) -> tuple[int, int]:
    """The shape one pooling level of `spec` gives a map of `shape`."""
    if spec.pool_mode == "aps":
        return (shape[0] + 1) // 2, (shape[1] + 1) // 2
    if spec.pool_mode in ("max", "avg"):
        return pooled_shape(shape, spec.pool_size, spec.effective_pool_stride)
    h, w = shape  # blurs pad (blur_size - 1) in all and sample with the stride
    if spec.pool_mode == "blurmax":
        h, w = h - spec.pool_size + 1, w - spec.pool_size + 1
    s = spec.effective_pool_stride
    return (h - 1) // s + 1, (w - 1) // s + 1
