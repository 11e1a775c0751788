"""Turning a state's runs into what the panels draw: uint8 images and their value ranges.

A :class:`PipelineRequest` is the window's one pipeline job. On the worker it builds the
:class:`engine.ViewState` of a frozen canvas snapshot, runs :func:`engine.run_state`
(A alone, or A and B compared with their difference rows: the engine owns all of that)
and prepares every row for drawing (C-contiguous uint8, mapped through a lookup table by
the panels), so the GUI thread only hands arrays to pyqtgraph. Rows A and B share one
colour range per stage, so a colour means the same value in both; the signed difference
A − B is centred on 0 for a diverging colormap.
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
    StateRun,
    ViewState,
    run_state,
)
from engine.display import difference_range, drawable, to_uint8
from engine.notes import drift_note
from gui.worker import JobContext, Request

#: The lane of the window's pipeline job: the latest request wins.
PIPELINE = "pipeline"


@dataclass(frozen=True)
class PipelineView:
    """A pipeline result plus, per stage, the uint8 image to draw and its value range, and
    why its pooled panels drift (:func:`engine.notes.drift_note`, or None)."""

    result: PipelineResult
    images: list[np.ndarray]
    levels: list[tuple[float, float]]
    shared_levels: bool
    drift_note: str | None = None


def pipeline_view(result: PipelineResult, levels: list[tuple[float, float]],
                  shared_levels: bool = False) -> PipelineView:
    """Prepare every stage of `result` for drawing over its range in `levels` (on the
    worker), with its drift note."""
    images = [to_uint8(drawable(s.array), *r) for s, r in zip(result.stages, levels, strict=True)]
    return PipelineView(result, images, levels, shared_levels, drift_note(result))


@dataclass(frozen=True)
class StateView:
    """What the window draws of one state: row A and, while comparing, row B and the
    difference rows the setup shows (else None).

    Attributes
    ----------
    run : engine.StateRun
    a, b : PipelineView
    signed, magnitude : PipelineView or None
    """

    run: StateRun
    a: PipelineView
    b: PipelineView | None
    signed: PipelineView | None
    magnitude: PipelineView | None

    @property
    def comparison(self) -> Comparison | None:
        """B against A per stage, or None for one row."""
        return self.run.comparison

    @property
    def setup(self) -> CompareSetup | None:
        """What B is, or None for one row."""
        return self.run.state.compare


def state_view(state: ViewState) -> StateView:
    """Run `state` (:func:`engine.run_state`) and prepare every row it shows.

    Raises
    ------
    ValueError
        From :func:`engine.run_state` (a spec that cannot run on an input).
    """
    run = run_state(state)

    def row(result: PipelineResult) -> PipelineView:
        return pipeline_view(result, [run.ranges[s.name] for s in result.stages],
                             state.shared_levels)

    def differences(result: PipelineResult | None, signed: bool) -> PipelineView | None:
        if result is None:
            return None
        return pipeline_view(result, [difference_range(s.array, signed) for s in result])

    return StateView(run, row(run.a), None if run.b is None else row(run.b),
                     differences(run.signed, True), differences(run.magnitude, False))


@dataclass(frozen=True, slots=True, eq=False)
class PipelineRequest(Request[tuple[StateView, float]]):
    """The window's pipeline job: :func:`state_view` of a frozen canvas snapshot (A) and,
    while comparing, what B is; A and B are computed together so both rows show the same
    edit.

    Attributes
    ----------
    image : (H, W) array
        A read-only snapshot of the canvas (shared, not copied, by the state).
    spec : PipelineSpec
    top_k : int
    shared_levels : bool
    setup : CompareSetup or None
        What B is while comparing.
    """

    lane: ClassVar[str] = PIPELINE
    image: np.ndarray
    spec: PipelineSpec
    top_k: int
    shared_levels: bool
    setup: CompareSetup | None = None

    def run(self, context: JobContext) -> tuple[StateView, float]:
        """Compute the view.

        Returns
        -------
        (StateView, float)
            The view and the time it took in milliseconds.

        Raises
        ------
        ValueError
            From :func:`engine.run_state` for an impossible spec or image.
        """
        t0 = time.perf_counter()
        state = ViewState(InputImage(self.image), self.spec, self.setup, top_k=self.top_k,
                          shared_levels=self.shared_levels)
        return state_view(state), (time.perf_counter() - t0) * 1000.0
