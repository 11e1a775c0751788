"""One value for everything ShiftLab shows: input A, the pipeline, and what B is.

A :class:`ViewState` is frozen. The window builds one from its canvas and controls for
every computation, the examples are ViewStates, a figure set is written from one, the
command line parses its flags into one, and a session file stores one. Everything
derived from it has one owner here:

- :meth:`ViewState.image_b` and :meth:`ViewState.spec_b`: B's pixels (a transform of
  A, or another image) and B's pipeline (the kernel mirrored when asked);
- :func:`run_state`: the runs of A and B, their comparison, and the difference rows
  A - B and |A - B| as ordinary :class:`~engine.pipeline.PipelineResult` objects;
- :meth:`CompareSetup.description` and :meth:`ImageSource.label`: B and the inputs in
  words, each said once.

>>> state = ViewState.demo()
>>> run = run_state(state)
>>> run.a["pool 2"].shape, run.comparison is None
((2, 2), True)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ._checks import as_image, positive_int
from .comparison import (
    SEAM_FREE_PADDING,
    TRANSFORM_KINDS,
    Comparison,
    InputTransform,
    compare_runs,
    comparison_note,
    seam_note,
)
from .display import stage_ranges
from .examples import EXAMPLES
from .image_io import load_image
from .maxima import maxima_unchecked
from .networks.choice import NetworkChoice
from .networks.runs import NetworkRun, run_choice
from .pipeline import PipelineResult, PipelineSpec, Stage, run_owned, run_pipeline
from .report import file_sha256
from .transforms import check_flag, mirror_kernel

#: Where an image comes from: a file, a built-in example's A or B, or drawn in the window.
SOURCE_KINDS = ("file", "example", "canvas")
#: How an example's image is named on the command line: ``example:NAME``.
EXAMPLE_PREFIX = "example:"


class StateError(ValueError):
    """A state (or its dictionary form) is not usable; the message says which part and why."""


@dataclass(frozen=True)
class ImageSource:
    """Where an image's pixels come from, so they can be loaded again.

    Attributes
    ----------
    kind : {"file", "example", "canvas"}
        "canvas": drawn or edited in the window, with no source to load again.
    path : str or None
        For "file": the absolute path.
    example : str or None
        For "example": the name in ``engine.EXAMPLES``.
    role : {"a", "b"}
        For "example": the example's input A or B.
    sha256 : str or None
        For "file": the file's SHA-256 when it was read, if known.

    Examples
    --------
    >>> ImageSource.of_example("mirror").label
    'example:mirror'
    >>> ImageSource.of_example("pixel", "b").label
    'example:pixel B'
    """

    kind: str = "canvas"
    path: str | None = None
    example: str | None = None
    role: str = "a"
    sha256: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in SOURCE_KINDS:
            raise StateError(f"image source kind must be one of {', '.join(SOURCE_KINDS)}; "
                             f"got {self.kind!r}.")
        if self.kind == "file" and not self.path:
            raise StateError("an image source of kind 'file' needs its path.")
        if self.kind == "example" and not self.example:
            raise StateError("an image source of kind 'example' needs the example's name.")
        if self.role not in ("a", "b"):
            raise StateError(f"an image source's role must be 'a' or 'b'; got {self.role!r}.")

    @classmethod
    def of_file(cls, path: str | os.PathLike, sha256: str | None = None) -> ImageSource:
        """The source of an image read from `path` (made absolute)."""
        return cls("file", path=str(Path(path).absolute()), sha256=sha256)

    @classmethod
    def of_example(cls, name: str, role: str = "a") -> ImageSource:
        """Input A (or B) of the built-in example `name`."""
        return cls("example", example=name, role=role)

    @property
    def label(self) -> str:
        """A short name: the file's name, ``example:NAME`` (``example:NAME B`` for B), or
        ``canvas``."""
        if self.kind == "file":
            return Path(self.path).name
        if self.kind == "example":
            return EXAMPLE_PREFIX + self.example + (" B" if self.role == "b" else "")
        return "canvas"

    @property
    def loadable(self) -> bool:
        """True if :meth:`load` can read the pixels again."""
        return self.kind != "canvas"

    def load(self) -> np.ndarray:
        """Read the pixels again: a new (H, W) float32 array.

        Raises
        ------
        StateError
            For a canvas (nothing to load) or an unknown example.
        engine.ImageLoadError
            If the file cannot be read.
        """
        if self.kind == "file":
            return load_image(self.path)
        if self.kind == "example":
            if self.example not in EXAMPLES:
                raise StateError(f"unknown example {self.example!r}; use one of: "
                                 f"{', '.join(EXAMPLES)}.")
            a, b = EXAMPLES[self.example].load()
            return a if self.role == "a" else b
        raise StateError("a canvas image has no source to load again; its pixels must be kept.")

    def to_dict(self) -> dict:
        """The source as JSON-ready values (only the fields its kind uses)."""
        out: dict = {"kind": self.kind}
        if self.kind == "file":
            out["path"] = self.path
            if self.sha256:
                out["sha256"] = self.sha256
        elif self.kind == "example":
            out.update(example=self.example, role=self.role)
        return out

    @classmethod
    def from_dict(cls, data: object) -> ImageSource:
        """The inverse of :meth:`to_dict`.

        Raises
        ------
        StateError
            If `data` is not such a mapping.
        """
        data = _mapping(data, "image source")
        known = {"kind", "path", "example", "role", "sha256"}
        values = {k: v for k, v in data.items() if k in known}
        for key, value in values.items():
            if value is not None and not isinstance(value, str):
                raise StateError(f"image source field {key!r} must be text; got {value!r}.")
        return cls(**values)


@dataclass(frozen=True, eq=False)
class InputImage:
    """An input's pixels and where they came from.

    `pixels` is copied into a read-only float32 array at construction, so an edit of the
    caller's array never reaches a computation running on another thread.

    Attributes
    ----------
    pixels : (H, W) float32 array
    source : ImageSource
    edited : bool
        True when the pixels may differ from what the source loads (the window sets it
        on any edit; :meth:`verified` checks it against the source).
    """

    pixels: np.ndarray = field(repr=False)
    source: ImageSource = field(default_factory=ImageSource)
    edited: bool = False

    def __post_init__(self) -> None:
        arr = as_image(self.pixels, "pixels")
        if arr is self.pixels and not arr.flags.writeable and arr.flags.c_contiguous:
            pass  # already a frozen float32 array: share it
        else:
            arr = np.array(arr, dtype=np.float32, copy=True, order="C")
            arr.setflags(write=False)
        object.__setattr__(self, "pixels", arr)
        if not isinstance(self.source, ImageSource):
            raise StateError(f"source must be an ImageSource; got {type(self.source).__name__}.")
        object.__setattr__(self, "edited", check_flag(self.edited, "edited"))

    @classmethod
    def load(cls, source: ImageSource) -> InputImage:
        """Read `source` (a file's SHA-256 is recorded).

        Raises
        ------
        engine.ImageLoadError, StateError
            As :meth:`ImageSource.load`.
        """
        pixels = source.load()
        if source.kind == "file" and not source.sha256:
            source = replace(source, sha256=file_sha256(source.path))
        return cls(pixels, source)

    @property
    def shape(self) -> tuple[int, int]:
        """``(rows, cols)``."""
        return self.pixels.shape

    @property
    def label(self) -> str:
        """The source's label, with " (edited)" when the pixels differ from it."""
        return self.source.label + (" (edited)" if self.edited and self.source.loadable
                                    else "")

    @property
    def reloadable(self) -> bool:
        """True when the source alone gives these pixels (loadable and not edited)."""
        return self.source.loadable and not self.edited

    def matches_source(self) -> bool:
        """Whether the source loads exactly these pixels now (reads the file; False if it
        cannot be read or the image is a canvas)."""
        if not self.source.loadable:
            return False
        try:
            return np.array_equal(self.source.load(), self.pixels)
        except ValueError:  # gone, changed into something unreadable, unknown example
            return False

    def verified(self) -> InputImage:
        """This image with `edited` set by comparing the pixels with the source."""
        edited = not self.matches_source()
        return self if edited == self.edited else replace(self, edited=edited)


@dataclass(frozen=True)
class CompareSetup:
    """What B is and how A and B are shown.

    Attributes
    ----------
    transform : InputTransform
        How B is made from A; kind "other": B is `image_b`.
    image_b : InputImage or None
        The other image, for kind "other".
    mirror_kernel : bool
        For a mirror or flip: run B with the kernel mirrored the same way (then the
        convolution commutes with the mirror). Ignored for other kinds.
    signed_row, magnitude_row : bool
        Show the rows A - B and |A - B|.

    Raises
    ------
    StateError
        For kind "other" without `image_b`.
    """

    transform: InputTransform = field(default_factory=InputTransform)
    image_b: InputImage | None = None
    mirror_kernel: bool = False
    signed_row: bool = False
    magnitude_row: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.transform, InputTransform):
            raise StateError(f"transform must be an InputTransform; got {self.transform!r}.")
        if self.transform.kind == "other" and self.image_b is None:
            raise StateError("B is another image, but none is given; pass image_b.")
        for name in ("mirror_kernel", "signed_row", "magnitude_row"):
            check_flag(getattr(self, name), name)
        if self.transform.kind != "other" and self.image_b is not None:
            object.__setattr__(self, "image_b", None)  # B is made from A

    def kernel_mirrored(self, spec: PipelineSpec) -> bool:
        """True when B runs with the kernel mirrored (asked, a mirror or flip, and the
        pipeline convolves)."""
        return (self.mirror_kernel and self.transform.mirror_axis is not None
                and spec.convolve)

    def spec_b(self, spec: PipelineSpec) -> PipelineSpec:
        """The pipeline of B: `spec`, with the kernel mirrored when asked."""
        if not self.kernel_mirrored(spec):
            return spec
        return spec.replace(kernel=mirror_kernel(spec.kernel_array, self.transform.mirror_axis))

    def make_b(self, a: np.ndarray) -> np.ndarray:
        """B's pixels for input `a` (validated, as :class:`InputImage` holds it): the
        transform of `a` (a new array), or the other image."""
        if self.transform.kind == "other":
            return self.image_b.pixels
        return self.transform.apply_unchecked(a)

    @property
    def description(self) -> str:
        """B in words, once: ``"mirrored left-right, kernel mirrored too"``,
        ``"another image: cat.png"``."""
        if self.transform.kind == "other":
            return f"another image: {self.image_b.label}"
        text = self.transform.description
        if self.mirror_kernel and self.transform.mirror_axis is not None:
            text += ", kernel mirrored too"
        return text


@dataclass(frozen=True, eq=False)
class ViewState:
    """Everything needed to compute and draw what ShiftLab shows.

    Attributes
    ----------
    a : InputImage
        Input A.
    spec : PipelineSpec
        The pipeline A (and B) run through.
    compare : CompareSetup or None
        B and the difference rows while comparing; None for one row.
    top_k : int
        Maxima recorded per stage (>= 1).
    shared_levels : bool
        One colour range for all feature stages.
    title : str
        A short caption (an example's title), or "".
    network : NetworkChoice or None
        A trained network A (and B) also run through, with its settings; None: the
        pipeline alone.

    Raises
    ------
    StateError
        For a field of the wrong type or out of range.
    """

    a: InputImage
    spec: PipelineSpec = field(default_factory=PipelineSpec)
    compare: CompareSetup | None = None
    top_k: int = 3
    shared_levels: bool = False
    title: str = ""
    network: NetworkChoice | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.a, InputImage):
            raise StateError(f"a must be an InputImage; got {type(self.a).__name__}.")
        if not isinstance(self.spec, PipelineSpec):
            raise StateError(f"spec must be a PipelineSpec; got {type(self.spec).__name__}.")
        if self.compare is not None and not isinstance(self.compare, CompareSetup):
            raise StateError(f"compare must be a CompareSetup or None; got {self.compare!r}.")
        try:
            positive_int(self.top_k, "top_k")
        except ValueError as exc:
            raise StateError(str(exc)) from None
        check_flag(self.shared_levels, "shared_levels")
        if self.network is not None and not isinstance(self.network, NetworkChoice):
            raise StateError(f"network must be a NetworkChoice or None; got {self.network!r}.")

    @classmethod
    def demo(cls) -> ViewState:
        """The article's first example: a 10x10 canvas with one lit pixel at (2, 2),
        pooling only, two levels."""
        img = np.zeros((10, 10), np.float32)
        img[2, 2] = 1.0
        return cls(InputImage(img), PipelineSpec(convolve=False, levels=2))

    def replace(self, **changes: object) -> ViewState:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @property
    def spec_b(self) -> PipelineSpec | None:
        """B's pipeline (see :meth:`CompareSetup.spec_b`), or None without B."""
        return None if self.compare is None else self.compare.spec_b(self.spec)

    def image_b(self) -> np.ndarray | None:
        """B's pixels (read-only), or None without B; made once per state."""
        if self.compare is None:
            return None
        b = self.__dict__.get("_pixels_b")
        if b is None:
            b = self.compare.make_b(self.a.pixels)
            b.setflags(write=False)
            object.__setattr__(self, "_pixels_b", b)  # a cache: the state stays frozen
        return b

    @property
    def b_made_from_a(self) -> bool:
        """True when B's pixels are a transform of A's made here (:meth:`image_b`), not
        another image: then B's input stage is exactly the transform of A's."""
        return self.compare is not None and self.compare.transform.kind != "other"

    @property
    def caption(self) -> str:
        """What is shown, in words: ``"coffee.png vs mirrored left-right"``."""
        text = self.a.label
        if self.compare is not None:
            text += f" vs {self.compare.description}"
        return text

    def verified(self) -> ViewState:
        """This state with every image's `edited` flag checked against its source."""
        a = self.a.verified()
        compare = self.compare
        if compare is not None and compare.image_b is not None:
            compare = replace(compare, image_b=compare.image_b.verified())
        return replace(self, a=a, compare=compare)


@dataclass(frozen=True, eq=False)
class StateRun:
    """What :func:`run_state` computed for a state.

    Attributes
    ----------
    state : ViewState
    a : PipelineResult
        Input A's run.
    comparison : Comparison or None
        B's run and the per-stage comparison, while comparing.
    signed, magnitude : PipelineResult or None
        The rows A - B and |A - B| (when the setup shows them): stages placed like A's,
        holding the differences over each stage's compared cells. |A - B| records its
        largest cells as maxima; A - B records none.
    ranges : dict
        Stage name -> the colour range rows A and B share (:func:`engine.display.stage_ranges`).
    network : NetworkRun or None
        With a network chosen: A (and B) through it, their comparison and A's shift map
        (side by side: the first network's).
    more_networks : tuple of NetworkRun
        Side by side, the runs of the other networks, in the choice's order; else empty.
    """

    state: ViewState
    a: PipelineResult
    comparison: Comparison | None
    signed: PipelineResult | None
    magnitude: PipelineResult | None
    ranges: dict[str, tuple[float, float]]
    network: NetworkRun | None = None
    more_networks: tuple[NetworkRun, ...] = ()

    @property
    def networks(self) -> tuple[NetworkRun, ...]:
        """Every network's run, the first one first (empty without a network)."""
        return () if self.network is None else (self.network, *self.more_networks)

    @property
    def b(self) -> PipelineResult | None:
        """Input B's run, or None."""
        return None if self.comparison is None else self.comparison.b

    @property
    def results(self) -> dict[str, PipelineResult]:
        """``{"A": a}`` and, while comparing, ``"B"``: the rows with their own inputs."""
        out = {"A": self.a}
        if self.comparison is not None:
            out["B"] = self.comparison.b
        return out


def example_state(name: str) -> ViewState:
    """The built-in example `name` as the window shows it: A (and B when it is an image of
    its own) from the example, the example's pipeline, comparison on.

    Raises
    ------
    StateError
        For an unknown example (the message lists them).
    engine.ImageLoadError
        If a sample photo cannot be read.

    Examples
    --------
    >>> example_state("mirror").compare.description
    'mirrored left-right'
    """
    if name not in EXAMPLES:
        raise StateError(f"unknown example {name!r}; use one of: {', '.join(EXAMPLES)}.")
    example = EXAMPLES[name]
    a, b = example.load()
    other = None
    if example.b_transform.kind == "other":
        other = InputImage(b, ImageSource.of_example(name, "b"))
    setup = CompareSetup(example.b_transform, other)
    return ViewState(InputImage(a, ImageSource.of_example(name)), example.spec, setup,
                     title=example.title)


def run_state(state: ViewState, *, results: Mapping[str, PipelineResult] | None = None,
              top_k: int | None = None) -> StateRun:
    """Run A (and B) through the pipeline and compare them, as `state` says.

    Parameters
    ----------
    state : ViewState
    results : mapping, optional
        ``{"A": ..., "B": ...}`` runs already made of this state (reused, not recomputed).
    top_k : int, optional
        Maxima per stage (default: ``state.top_k``).

    Returns
    -------
    StateRun
        With ``network`` set when the state chooses a network
        (:func:`engine.networks.runs.run_choice`), and ``more_networks`` the others when
        it chooses the digit networks side by side.

    Raises
    ------
    ValueError
        If the pipeline cannot run on an input (e.g. a kernel larger than the image), or a
        given result was made with another spec; or the chosen network cannot be loaded
        (a missing or changed model file, a bad labels file) or run on the inputs.
    """
    top_k = state.top_k if top_k is None else positive_int(top_k, "top_k")
    given = dict(results or {})
    specs = {"A": state.spec, "B": state.spec_b}
    for row, result in given.items():
        if row not in specs or result.spec != specs[row]:
            raise ValueError(f"results[{row!r}] was made with another spec than the state's; "
                             "pass runs of state.spec (state.spec_b for B) or none.")
    # the pixels are validated: A's may be shared with the caller (the run copies them),
    # B's made from A belong to the state alone and become B's input stage as they are
    a = given.get("A") or run_owned(state.a.pixels, state.spec, top_k=top_k, borrowed=True)
    comparison = signed = magnitude = None
    if state.compare is not None:
        setup = state.compare
        b = given.get("B")
        made_here = b is None and state.b_made_from_a  # B's input is then T(A's input)
        if b is None:
            b = run_owned(state.image_b(), state.spec_b, top_k=top_k,
                          borrowed=not made_here)
        stages, differences = compare_runs(a, b, setup.transform,
                                           input_transformed=made_here)
        mirrored = setup.kernel_mirrored(state.spec)
        note = comparison_note(state.spec, setup.transform, state.a.shape, mirrored)
        fix = SEAM_FREE_PADDING if seam_note(state.spec, setup.transform) else None
        comparison = Comparison(a, b, setup.transform, stages, differences, note, mirrored,
                                fix)
        if setup.signed_row:
            signed = difference_result(comparison, signed=True, top_k=top_k)
        if setup.magnitude_row:
            magnitude = difference_result(comparison, signed=False, top_k=top_k)
    runs = [a] if comparison is None else [a, comparison.b]
    networks = []
    if state.network is not None:
        image_b = state.image_b()
        transform = None if state.compare is None else state.compare.transform
        networks = [run_choice(c, state.a.pixels, image_b, transform, top_k=top_k)
                    for c in state.network.members]
    return StateRun(state, a, comparison, signed, magnitude,
                    stage_ranges(runs, state.shared_levels),
                    networks[0] if networks else None, tuple(networks[1:]))


def difference_result(comparison: Comparison, *, signed: bool, top_k: int = 3
                      ) -> PipelineResult:
    """The differences of a comparison as a run placed like A: per compared stage, A - B
    (`signed`) or |A - B| over the compared cells.

    The signed row records no maxima (its sign matters, not its largest value); the
    magnitude row records its `top_k` largest cells.
    """
    stages = []
    for comp in comparison.stages:
        stage_a = comparison.a[comp.name]
        diff = comparison.differences[comp.name]
        arr = diff if signed else np.abs(diff)
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        arr.setflags(write=False)
        # a difference of two validated maps: searched without validating it again
        maxima = [] if signed else maxima_unchecked(arr, top_k)
        stages.append(Stage(comp.name, arr, maxima, stage_a.geometry, stage_a.input_shape))
    a = comparison.a
    return PipelineResult(a.spec, stages, a.levels_requested, a.levels_produced, a.stop_reason,
                          a.aps_ties, a.stop_cause)


def compare_inputs(image_a: np.ndarray, image_b: np.ndarray | None = None,
                   spec: PipelineSpec | None = None, *,
                   transform: InputTransform | None = None,
                   mirror_kernel_too: bool = False, top_k: int = 5) -> Comparison:
    """Run A and B through `spec` and compare them stage by stage.

    Parameters
    ----------
    image_a : (H, W) array
        Input A; not modified.
    image_b : (H, W) array, optional
        Input B; made from A by `transform` when omitted.
    spec : PipelineSpec, optional
        The pipeline (the article's when None).
    transform : InputTransform, optional
        How B relates to A (default: mirror left-right); kind "other" when B is
        another image.
    mirror_kernel_too : bool
        For a mirror or flip, run B with the kernel mirrored the same way: then the
        convolution commutes with the mirror, which the transform errors show.
    top_k : int
        Maxima recorded per stage.

    Returns
    -------
    Comparison

    Raises
    ------
    ValueError
        For bad images or arguments, kind "other" without image B, or a spec that
        cannot run on an input.

    Examples
    --------
    >>> a = np.zeros((10, 10)); a[2, 2] = 1
    >>> c = compare_inputs(a, transform=InputTransform("shift", dy=5, dx=5),
    ...                    spec=PipelineSpec(convolve=False, levels=3))
    >>> [s.displacement for s in c.stages]
    [(5, 5), (2, 2), (1, 1), (0, 0)]
    """
    spec = PipelineSpec() if spec is None else spec
    transform = InputTransform() if transform is None else transform
    if not isinstance(transform, InputTransform):
        raise ValueError(f"transform must be an InputTransform; got {type(transform).__name__}.")
    mirror_kernel_too = check_flag(mirror_kernel_too, "mirror_kernel_too")
    top_k = positive_int(top_k, "top_k")
    a = InputImage(as_image(image_a, "image_a"))
    if image_b is None:
        if transform.kind == "other":
            raise ValueError("transform kind 'other' has no image of its own; give image B.")
        other = None
    else:
        other = InputImage(as_image(image_b, "image_b"))
        if transform.kind != "other":  # B given explicitly: compare it as it is
            setup = CompareSetup(transform, None, mirror_kernel_too)
            state = ViewState(a, spec, setup, top_k=top_k)
            b = run_pipeline(other.pixels, state.spec_b, top_k=top_k)
            return run_state(state, results={"B": b}).comparison
    state = ViewState(a, spec, CompareSetup(transform, other, mirror_kernel_too), top_k=top_k)
    return run_state(state).comparison


# ---------------------------------------------------------------- plain-data form


def state_to_dict(state: ViewState) -> dict:
    """The state as JSON-ready values, without pixels (see :mod:`engine.session`).

    Images are described by their sources and ``edited`` flags; whoever stores the
    dictionary stores the pixels of every image that is not reloadable.
    """
    out = {"a": _image_dict(state.a), "spec": state.spec.to_dict(), "top_k": state.top_k,
           "shared_levels": state.shared_levels, "title": state.title, "compare": None}
    if state.compare is not None:
        c = state.compare
        t = c.transform
        out["compare"] = {
            "transform": {"kind": t.kind, "dy": t.dy, "dx": t.dx, "wrap": t.wrap,
                          "turns": t.turns},
            "image_b": None if c.image_b is None else _image_dict(c.image_b),
            "mirror_kernel": c.mirror_kernel, "signed_row": c.signed_row,
            "magnitude_row": c.magnitude_row}
    if state.network is not None:  # only then: files without a network stay as they were
        out["network"] = state.network.to_dict()
    return out


def _image_dict(image: InputImage) -> dict:
    return {"source": image.source.to_dict(), "edited": image.edited,
            "shape": list(image.shape)}


def state_from_dict(data: object, pixels: Mapping[str, np.ndarray] | None = None) -> ViewState:
    """The inverse of :func:`state_to_dict`.

    Parameters
    ----------
    data : mapping
        As :func:`state_to_dict` returns it.
    pixels : mapping, optional
        ``"a"`` / ``"b"`` -> the pixels of images that are not reloadable (or to use
        instead of loading the source). Others are loaded from their sources.

    Raises
    ------
    StateError
        For a malformed dictionary, missing pixels of a canvas, or pixels whose shape
        differs from the recorded one.
    engine.ImageLoadError
        If a source file cannot be read.
    """
    data = _mapping(data, "state")
    pixels = dict(pixels or {})
    a = _image_from(data.get("a"), pixels.get("a"), "a")
    spec = spec_from_dict(data.get("spec"))
    compare = None
    raw = data.get("compare")
    if raw is not None:
        raw = _mapping(raw, "compare")
        t = _mapping(raw.get("transform"), "compare.transform")
        if t.get("kind") not in TRANSFORM_KINDS:
            raise StateError(f"compare.transform.kind must be one of "
                             f"{', '.join(TRANSFORM_KINDS)}; got {t.get('kind')!r}.")
        try:
            transform = InputTransform(t["kind"], dy=_int(t.get("dy", 0), "dy"),
                                       dx=_int(t.get("dx", 0), "dx"),
                                       wrap=_bool(t.get("wrap", True), "wrap"),
                                       turns=_int(t.get("turns", 1), "turns"))
        except ValueError as exc:
            raise StateError(f"compare.transform: {exc}") from None
        image_b = None
        if raw.get("image_b") is not None:
            image_b = _image_from(raw["image_b"], pixels.get("b"), "b")
        compare = CompareSetup(transform, image_b,
                               **{k: _bool(raw.get(k, False), k)
                                  for k in ("mirror_kernel", "signed_row", "magnitude_row")})
    title = data.get("title", "")
    if not isinstance(title, str):
        raise StateError(f"title must be text; got {title!r}.")
    network = None
    if data.get("network") is not None:
        try:
            network = NetworkChoice.from_dict(data["network"])
        except ValueError as exc:
            raise StateError(f"network: {exc}") from None
    return ViewState(a, spec, compare, top_k=_int(data.get("top_k", 3), "top_k"),
                     shared_levels=_bool(data.get("shared_levels", False), "shared_levels"),
                     title=title, network=network)


def spec_from_dict(data: object) -> PipelineSpec:
    """A :class:`PipelineSpec` from ``spec.to_dict()`` values.

    Raises
    ------
    StateError
        For unknown fields or values the spec refuses.
    """
    data = dict(_mapping(data, "spec"))
    allowed = set(PipelineSpec().to_dict())
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise StateError(f"spec has unknown fields {unknown}; known: {sorted(allowed)}.")
    if isinstance(data.get("kernel"), list):
        data["kernel"] = tuple(tuple(row) if isinstance(row, list) else row
                               for row in data["kernel"])
    try:
        return PipelineSpec(**data)
    except (TypeError, ValueError) as exc:
        raise StateError(f"spec: {exc}") from None


def _image_from(data: object, pixels: np.ndarray | None, key: str) -> InputImage:
    data = _mapping(data, f"image {key}")
    source = ImageSource.from_dict(data.get("source", {"kind": "canvas"}))
    edited = _bool(data.get("edited", False), "edited")
    shape = data.get("shape")
    if pixels is None:
        if not source.loadable or edited:
            raise StateError(f"image {key} was drawn or edited, but its pixels are missing.")
        if source.kind == "file" and source.sha256:
            try:
                current = file_sha256(source.path)
            except OSError as exc:
                raise StateError(f"image {key}: {source.path} cannot be read "
                                 f"({exc.strerror or exc}).") from None
            if current != source.sha256:
                raise StateError(f"image {key}: {source.path} changed since it was saved "
                                 "(its SHA-256 differs); open the file itself instead.")
        image = InputImage.load(source)
    else:
        image = InputImage(pixels, source, edited)
    if shape is not None and list(image.shape) != list(shape):
        raise StateError(f"image {key} has shape {image.shape}, but {tuple(shape)} was "
                         "recorded.")
    return image


def _mapping(data: object, what: str) -> Mapping:
    if not isinstance(data, Mapping):
        raise StateError(f"{what} must be a mapping of fields; got {type(data).__name__}.")
    return data


def _int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise StateError(f"{name} must be an integer; got {value!r}.")
    return value


def _bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise StateError(f"{name} must be true or false; got {value!r}.")
    return value

