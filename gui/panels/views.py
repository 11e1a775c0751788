"""Turning a pipeline run into what the panels draw: uint8 images and their value ranges.

:func:`compute_view` is the pipeline job the worker runs (submitted as a
:class:`PipelineRequest`): it calls the engine and prepares every stage for drawing
(C-contiguous uint8, mapped through a lookup table by the panels), so the GUI thread
only hands arrays to pyqtgraph.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from engine import PipelineResult, PipelineSpec, run_pipeline
from engine.display import drawable, stage_ranges, to_uint8
from gui.worker import JobContext, Request

#: The lane of the window's pipeline job; a comparison job shares it, so the latest of
#: either wins.
PIPELINE = "pipeline"


@dataclass(frozen=True)
class PipelineView:
    """A pipeline result plus, per stage, the uint8 image to draw and its value range."""

    result: PipelineResult
    images: list[np.ndarray]
    levels: list[tuple[float, float]]
    shared_levels: bool


def compute_view(image: np.ndarray, spec: PipelineSpec, top_k: int = 5,
                 shared_levels: bool = False) -> PipelineView:
    """Run the pipeline on `image` and prepare every stage for drawing, coloured over
    :func:`stage_ranges`.

    Returns
    -------
    PipelineView

    Raises
    ------
    ValueError
        From :func:`engine.run_pipeline` for an impossible spec or image.
    """
    result = run_pipeline(image, spec, top_k=top_k)
    by_name = stage_ranges([result], shared_levels)
    ranges = [by_name[s.name] for s in result.stages]
    images = [to_uint8(drawable(s.array), *r) for s, r in zip(result.stages, ranges, strict=True)]
    return PipelineView(result, images, ranges, shared_levels)


@dataclass(frozen=True, slots=True, eq=False)
class PipelineRequest(Request[tuple[PipelineView, float]]):
    """The window's pipeline job: :func:`compute_view` of a frozen canvas snapshot.

    Attributes
    ----------
    image : (H, W) array
        A read-only snapshot of the canvas.
    spec : PipelineSpec
    top_k : int
    shared_levels : bool
    """

    lane: ClassVar[str] = PIPELINE
    image: np.ndarray
    spec: PipelineSpec
    top_k: int
    shared_levels: bool

    def run(self, context: JobContext) -> tuple[PipelineView, float]:
        """Compute the view.

        Returns
        -------
        (PipelineView, float)
            The view and the time it took in milliseconds.

        Raises
        ------
        ValueError
            From :func:`engine.run_pipeline` for an impossible spec or image.
        """
        t0 = time.perf_counter()
        view = compute_view(self.image, self.spec, self.top_k, self.shared_levels)
        return view, (time.perf_counter() - t0) * 1000.0
