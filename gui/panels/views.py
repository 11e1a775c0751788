"""Turning a pipeline run into what the panels draw: uint8 images and their value ranges.

:func:`compute_view` is the pipeline job the worker runs: it calls the engine and
prepares every stage for drawing (C-contiguous uint8, mapped through a lookup
table by the panels), so the GUI thread only hands arrays to pyqtgraph.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import PipelineResult, PipelineSpec, run_pipeline
from engine.display import drawable, stage_ranges, to_uint8


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
