"""The comparison job: run A and B through the pipeline, compare them, prepare four rows to draw.

:func:`compute_comparison_view` runs on the worker (submitted as a
:class:`ComparisonRequest`, on the pipeline's lane). It calls
:func:`engine.compare_inputs` and turns the two runs and their differences into
:class:`~gui.render.PipelineView` objects the :class:`~gui.pipeline_row.PipelineRow`
widgets draw as they are: rows A and B share one colour range per stage (so a
colour means the same value in both), the signed difference A − B is centred on 0
for a diverging colormap, and |A − B| marks where the two differ most.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from engine import (
    Comparison,
    InputTransform,
    PipelineResult,
    PipelineSpec,
    Stage,
    compare_inputs,
    find_maxima,
)
from engine.display import drawable, stage_ranges, to_uint8, value_range
from gui.panels.views import PIPELINE, PipelineView
from gui.worker import JobContext, Request


@dataclass(frozen=True, eq=False)
class CompareSetup:
    """What B is, frozen for one request.

    Attributes
    ----------
    transform : InputTransform
        How B is made from A (kind "other": B is `image_b`).
    image_b : array or None
        The other image (read-only; never edited after it was loaded).
    source_b : str
        Where `image_b` came from (a file path or an example's name), for labels.
    mirror_kernel_too : bool
        Run B with the kernel mirrored like the input (mirror and flip only).
    signed_row, magnitude_row : bool
        Prepare the A − B and |A − B| rows (only what is shown is computed).
    """

    transform: InputTransform = field(default_factory=InputTransform)
    image_b: np.ndarray | None = None
    source_b: str = ""
    mirror_kernel_too: bool = False
    signed_row: bool = False
    magnitude_row: bool = False

    @property
    def description(self) -> str:
        """B in words, as a row label says it."""
        if self.transform.kind == "other":
            return f"another image: {self.source_b}" if self.source_b else "another image"
        text = self.transform.description
        if self.mirror_kernel_too and self.transform.mirror_axis is not None:
            text += ", kernel mirrored too"
        return text


@dataclass(frozen=True)
class ComparisonView:
    """A comparison and the rows drawn from it: A, B, and A − B and |A − B| when the
    setup asks for them (else None)."""

    comparison: Comparison
    setup: CompareSetup
    a: PipelineView
    b: PipelineView
    signed: PipelineView | None
    magnitude: PipelineView | None


def _view(result: PipelineResult, ranges: dict[str, tuple[float, float]],
          shared_levels: bool) -> PipelineView:
    levels = [ranges[s.name] for s in result.stages]
    images = [to_uint8(drawable(s.array), *r) for s, r in zip(result.stages, levels, strict=True)]
    return PipelineView(result, images, levels, shared_levels)


def _difference_view(comparison: Comparison, arrays: dict[str, np.ndarray], signed: bool,
                     top_k: int) -> PipelineView:
    """Stages holding A − B (signed, no maxima marked) or |A − B| (largest cells marked),
    placed like A's stages."""
    stages, images, levels = [], [], []
    for comp in comparison.stages:
        stage_a = comparison.a[comp.name]
        arr = arrays[comp.name]
        arr.setflags(write=False)
        maxima = [] if signed else find_maxima(arr, top_k)
        stages.append(Stage(comp.name, arr, maxima, stage_a.geometry, stage_a.input_shape))
        lo, hi = value_range(arr)
        if signed:
            m = max(abs(lo), abs(hi)) or 1.0  # all zero: white, centred
            lo, hi = -m, m
        elif hi <= lo:
            hi = lo + 1.0
        levels.append((lo, hi))
        images.append(to_uint8(drawable(arr), lo, hi))
    pools = sum(1 for s in stages if s.name.startswith("pool"))
    result = PipelineResult(comparison.a.spec, stages, comparison.a.levels_requested, pools)
    return PipelineView(result, images, levels, False)


def compute_comparison_view(image: np.ndarray, spec: PipelineSpec, top_k: int,
                            shared_levels: bool, setup: CompareSetup
                            ) -> tuple[ComparisonView, float]:
    """The comparison job: compare `image` (A) with B as `setup` says, and prepare all rows.

    Returns
    -------
    (ComparisonView, float)
        The view and the time it took in milliseconds.

    Raises
    ------
    ValueError
        From :func:`engine.compare_inputs` (bad spec for an input, B missing).
    """
    t0 = time.perf_counter()
    comparison = compare_inputs(image, setup.image_b, spec, transform=setup.transform,
                                mirror_kernel_too=setup.mirror_kernel_too, top_k=top_k)
    ranges = stage_ranges([comparison.a, comparison.b], shared_levels)
    signed = magnitude = None
    if setup.signed_row:
        signed = _difference_view(comparison, dict(comparison.differences), True, top_k)
    if setup.magnitude_row:
        magnitude = _difference_view(
            comparison, {name: np.abs(d) for name, d in comparison.differences.items()},
            False, top_k)
    view = ComparisonView(comparison, setup, _view(comparison.a, ranges, shared_levels),
                          _view(comparison.b, ranges, shared_levels), signed, magnitude)
    return view, (time.perf_counter() - t0) * 1000.0


@dataclass(frozen=True, slots=True, eq=False)
class ComparisonRequest(Request[tuple[ComparisonView, float]]):
    """The pipeline job while comparing: :func:`compute_comparison_view` of a frozen canvas
    snapshot (A) and `setup` (B). It runs on the pipeline's lane, so the latest of a
    pipeline and a comparison request wins.

    Attributes
    ----------
    image : (H, W) array
        A read-only snapshot of the canvas.
    spec : PipelineSpec
    top_k : int
    shared_levels : bool
    setup : CompareSetup
    """

    lane: ClassVar[str] = PIPELINE
    image: np.ndarray
    spec: PipelineSpec
    top_k: int
    shared_levels: bool
    setup: CompareSetup

    def run(self, context: JobContext) -> tuple[ComparisonView, float]:
        """Compare A with B and prepare every row.

        Returns
        -------
        (ComparisonView, float)
            The view and the time it took in milliseconds.

        Raises
        ------
        ValueError
            From :func:`engine.compare_inputs`.
        """
        return compute_comparison_view(self.image, self.spec, self.top_k,
                                       self.shared_levels, self.setup)
