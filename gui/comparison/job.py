"""The comparison job: run A and B through the pipeline, compare them, prepare the rows.

A :class:`ComparisonRequest` runs on the worker, on the pipeline's lane. It calls
:func:`engine.run_state` (the engine owns B's image, B's spec, the comparison and the
difference rows) and turns the runs into :class:`~gui.panels.views.PipelineView`
objects the :class:`~gui.panels.pipeline_row.PipelineRow` widgets draw as they are:
rows A and B share one colour range per stage (so a colour means the same value in
both), the signed difference A − B is centred on 0 for a diverging colormap, and
|A − B| marks where the two differ most.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from engine import (
    CompareSetup,
    Comparison,
    InputImage,
    PipelineResult,
    PipelineSpec,
    ViewState,
    run_state,
)
from engine.display import difference_range, drawable, to_uint8
from gui.panels.views import PIPELINE, PipelineView
from gui.worker import JobContext, Request


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


def _difference_view(result: PipelineResult, signed: bool) -> PipelineView:
    """A difference row drawn over :func:`engine.display.difference_range`."""
    levels = [difference_range(s.array, signed) for s in result.stages]
    images = [to_uint8(drawable(s.array), *r) for s, r in zip(result.stages, levels, strict=True)]
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
        From :func:`engine.run_state` (a spec that cannot run on an input).
    """
    t0 = time.perf_counter()
    state = ViewState(InputImage(image), spec, setup, top_k=top_k, shared_levels=shared_levels)
    run = run_state(state)
    comparison = run.comparison
    signed = None if run.signed is None else _difference_view(run.signed, True)
    magnitude = None if run.magnitude is None else _difference_view(run.magnitude, False)
    view = ComparisonView(comparison, setup, _view(comparison.a, run.ranges, shared_levels),
                          _view(comparison.b, run.ranges, shared_levels), signed, magnitude)
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
            From :func:`engine.run_state`.
        """
        return compute_comparison_view(self.image, self.spec, self.top_k,
                                       self.shared_levels, self.setup)
