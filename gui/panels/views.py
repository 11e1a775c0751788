"""Turning a state's runs into what the panels draw: uint8 images and their value ranges.

A :class:`PipelineRequest` is the window's one pipeline job. On the worker it builds the
:class:`engine.ViewState` of a frozen canvas snapshot, runs :func:`engine.run_state`
(A alone, or A and B compared with their difference rows: the engine owns all of that)
and prepares every row for drawing (C-contiguous uint8, mapped through a lookup table by
the panels, reduced to the panel's screen pixels), so the GUI thread only hands small
arrays to pyqtgraph; a :class:`DetailRequest` draws the part a zoom shows at full
resolution. Rows A and B share one
colour range per stage, so a colour means the same value in both; the signed difference
A − B is centred on 0 for a diverging colormap.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from dataclasses import dataclass, field
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
from engine.display import difference_range, display_image, reduction_for
from engine.fused import RECYCLER
from engine.notes import drift_note
from gui.worker import JobContext, Request

#: The lane of the window's pipeline job: the latest request wins.
PIPELINE = "pipeline"


@dataclass(frozen=True)
class PipelineView:
    """A pipeline result plus, per stage, the uint8 image to draw and its value range, and
    why its pooled panels drift (:func:`engine.notes.drift_note`, or None).

    An image may be a reduced copy of its stage (fewer cells, see
    :func:`engine.display.display_image`): the panel stretches it over the stage's place,
    while hover readouts, maxima and exports read the stage itself. `reductions` says per
    stage how it was reduced, so a zoomed-in part is reduced alike; `screen` is the panel
    size in device pixels the images were made for (None: no screen size was given).
    """

    result: PipelineResult
    images: list[np.ndarray]
    levels: list[tuple[float, float]]
    shared_levels: bool
    drift_note: str | None = None
    reductions: list[str] = field(default_factory=list)
    screen: tuple[int, int] | None = None


def pipeline_view(result: PipelineResult, levels: list[tuple[float, float]],
                  shared_levels: bool = False,
                  screen: tuple[int, int] | None = None) -> PipelineView:
    """Prepare every stage of `result` for drawing over its range in `levels` (on the
    worker), reduced to the `screen` pixels (rows, cols) of a panel, with its drift note."""
    how = [reduction_for(s.name, r) for s, r in zip(result.stages, levels, strict=True)]
    images = [display_image(s.array, r, h, screen)
              for s, r, h in zip(result.stages, levels, how, strict=True)]
    return PipelineView(result, images, levels, shared_levels, _drift_note(result), how,
                        screen)


#: Drift notes by the pipeline, input shape and stage count that decide them (a few kept).
_DRIFT_NOTES: dict[tuple[PipelineSpec, tuple[int, int], int], str | None] = {}


def _drift_note(result: PipelineResult) -> str | None:
    """:func:`engine.notes.drift_note` of `result`, worked out once per pipeline, input
    shape and number of stages: the note reads only the stages' geometry, which these
    decide (rows A, B and the difference rows of a drag share one)."""
    key = (result.spec, result.stages[0].input_shape, len(result.stages))
    if key not in _DRIFT_NOTES:
        if len(_DRIFT_NOTES) >= 16:
            _DRIFT_NOTES.clear()
        _DRIFT_NOTES[key] = drift_note(result)
    return _DRIFT_NOTES[key]


class RunCache:
    """The last runs of A and B on the pipeline lane, so that a request where only B (or
    only A) changed computes the other row no more: the result and its prepared view are
    reused as they are (the same objects).

    A run is reused when its input pixels, pipeline and top-k are those asked for; the
    pixels are compared with the run's own input stage, which holds exactly the pixels
    it was made of (the request's snapshot buffer is recycled; the stage is not).
    """

    #: Rows of pixels compared at a time: a difference found early ends the comparison.
    BAND_ROWS = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, tuple[np.ndarray, object, int, PipelineResult]] = {}
        self._views: dict[str, PipelineView] = {}

    def clear(self) -> None:
        """Forget every run."""
        with self._lock:
            self._runs.clear()
            self._views.clear()

    def lookup(self, row: str, pixels: np.ndarray, spec: object,
               top_k: int) -> PipelineResult | None:
        """The kept run of `row` ("A" or "B") if it was made of these pixels and spec."""
        with self._lock:
            kept = self._runs.get(row)
        if kept is None or kept[1] != spec or kept[2] != top_k \
                or not same_pixels(kept[0], pixels, self.BAND_ROWS):
            return None
        return kept[3]

    def keep(self, row: str, pixels: np.ndarray, spec: object, top_k: int,
             result: PipelineResult, view: PipelineView) -> None:
        """Remember `row`'s run of `pixels` and its view (the pixels are compared with the
        run's input stage later; a copy is kept only if the run has none)."""
        first = result.stages[0]
        own = first.array if first.name == "input" and first.array.shape == pixels.shape \
            else np.array(pixels)
        with self._lock:
            self._runs[row] = (own, spec, top_k, result)
            self._views[row] = view

    def view(self, row: str, result: PipelineResult, levels: list[tuple[float, float]],
             shared: bool, screen: tuple[int, int] | None) -> PipelineView | None:
        """The kept view of `row` if it draws `result` with these levels on this screen."""
        with self._lock:
            view = self._views.get(row)
        if view is None or view.result is not result or view.levels != levels \
                or view.shared_levels != shared or view.screen != screen:
            return None
        return view


def same_pixels(a: np.ndarray, b: np.ndarray, band: int = 256) -> bool:
    """Whether `a` and `b` hold the same pixels, compared `band` rows at a time so that a
    difference ends the comparison where it is found (a painted dab, not the whole image).

    >>> same_pixels(np.zeros((4, 3)), np.zeros((4, 3))), same_pixels(np.zeros(3), np.ones(3))
    (True, False)
    """
    if a is b:
        return True
    if a.shape != b.shape:
        return False
    if a.ndim != 2:
        return bool(np.array_equal(a, b))
    # a sparse sample first: an edit of the whole image fails here, cheaply
    sample = (slice(None, None, 61), slice(None, None, 67))
    if not np.array_equal(a[sample], b[sample]):
        return False
    return all(np.array_equal(a[r:r + band], b[r:r + band]) for r in range(0, a.shape[0], band))


#: The pipeline lane's runs of A and B (only that lane's thread uses it).
RUNS = RunCache()


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


def state_view(state: ViewState, screen: tuple[int, int] | None = None,
               cache: RunCache | None = None) -> StateView:
    """Run `state` (:func:`engine.run_state`) and prepare every row it shows, reduced to
    the `screen` pixels (rows, cols) of a panel.

    With a `cache` while comparing, a row whose input and pipeline are unchanged since
    the cache's last run is not computed again: its result and, when its colour ranges
    are unchanged, its prepared view are the same objects as before.

    Raises
    ------
    ValueError
        From :func:`engine.run_state` (a spec that cannot run on an input).
    """
    inputs: dict[str, tuple[np.ndarray, object]] = {}
    given: dict[str, PipelineResult] = {}
    if cache is not None and state.compare is not None:
        inputs = {"A": (state.a.pixels, state.spec), "B": (state.image_b(), state.spec_b)}
        for name, (pixels, spec) in inputs.items():
            kept = cache.lookup(name, pixels, spec, state.top_k)
            if kept is not None:
                given[name] = kept
    run = run_state(state, results=given)

    def row(name: str, result: PipelineResult) -> PipelineView:
        levels = [run.ranges[s.name] for s in result.stages]
        view = None if cache is None else cache.view(name, result, levels,
                                                     state.shared_levels, screen)
        view = view or pipeline_view(result, levels, state.shared_levels, screen)
        if name in inputs:
            cache.keep(name, *inputs[name], state.top_k, result, view)
        return view

    def differences(result: PipelineResult | None, signed: bool) -> PipelineView | None:
        if result is None:
            return None
        return pipeline_view(result, [difference_range(s.array, signed) for s in result],
                             screen=screen)

    return StateView(run, row("A", run.a), None if run.b is None else row("B", run.b),
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
    screen : (int, int) or None
        The device pixels (rows, cols) of the largest panel: stages with more cells are
        drawn from a copy reduced to it (None: at most
        :data:`engine.display.MAX_DRAWN_PIXELS`).
    """

    lane: ClassVar[str] = PIPELINE
    image: np.ndarray
    spec: PipelineSpec
    top_k: int
    shared_levels: bool
    setup: CompareSetup | None = None
    screen: tuple[int, int] | None = None

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
        with RECYCLER.active():  # the maps of the result shown before, once it is dropped
            view = state_view(state, self.screen, RUNS)
        return view, (time.perf_counter() - t0) * 1000.0


#: The fewest device pixels a panel is taken to have (before the first layout it has none).
MIN_SCREEN = 256


@dataclass(frozen=True, slots=True, eq=False)
class DetailRequest(Request[list[np.ndarray | None]]):
    """The part of each stage a zoomed-in panel shows, at the resolution its screen pixels
    can show (full resolution once a cell covers a screen pixel), made on the worker.

    Each row has its own lane (:func:`detail_request_class`), so the rows of a comparison
    do not replace one another's requests.

    Attributes
    ----------
    result : PipelineResult
        The result drawn (the panels check it is still the one shown).
    cells : tuple
        Per stage, the half-open cell range ``(r0, c0, r1, c1)`` to draw, or None.
    levels : tuple
        Per stage, its colour range.
    reductions : tuple
        Per stage, how it is reduced (:func:`engine.display.reduction_for`).
    screen : (int, int)
        The device pixels (rows, cols) of a panel.
    """

    lane: ClassVar[str] = "detail"
    result: PipelineResult
    cells: tuple[tuple[int, int, int, int] | None, ...]
    levels: tuple[tuple[float, float], ...]
    reductions: tuple[str, ...]
    screen: tuple[int, int]

    def run(self, context: JobContext) -> list[np.ndarray | None]:
        """Return per stage the uint8 image of its cell range (None where none is asked)."""
        out: list[np.ndarray | None] = []
        for stage, cells, levels, how in zip(self.result.stages, self.cells, self.levels,
                                             self.reductions, strict=True):
            context.check()
            if cells is None:
                out.append(None)
                continue
            r0, c0, r1, c1 = cells
            out.append(display_image(stage.array[r0:r1, c0:c1], levels, how, self.screen))
        return out


_DETAIL_CLASSES: dict[str, type[DetailRequest]] = {}


def detail_request_class(name: str) -> type[DetailRequest]:
    """The :class:`DetailRequest` class of the lane ``detail-<name>`` (one per row)."""
    if name not in _DETAIL_CLASSES:
        _DETAIL_CLASSES[name] = type(f"DetailRequest_{name}", (DetailRequest,),
                                     {"__slots__": (), "lane": f"detail-{name}"})
    return _DETAIL_CLASSES[name]


class Disposer:
    """Frees what was drawn before off the GUI thread.

    A 12 MP result holds a few hundred megabytes; the GUI thread that drops the last
    reference to it would spend milliseconds handing the memory back to the system in the
    middle of a redraw. :meth:`release` gives the object to a background thread, which
    holds it until nobody else does and then drops it there. Only plain values (results,
    views: arrays, no Qt objects) are released this way.
    """

    #: How often the background thread looks for objects only it still holds, in seconds.
    POLL_S = 0.05

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def release(self, value: object) -> None:
        """Let the background thread drop `value` (None is ignored); the caller must drop
        its own references next."""
        if value is None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="shiftlab-disposer",
                                                daemon=True)
                self._thread.start()
        self._queue.put(value)

    def _run(self) -> None:
        held: list[object] = []
        while True:
            try:
                held.append(self._queue.get(timeout=self.POLL_S if held else None))
                continue  # take what is queued first
            except queue.Empty:
                pass
            # references: the list's and getrefcount's argument
            free = [i for i in range(len(held)) if sys.getrefcount(held[i]) <= 2]
            for i in reversed(free):
                del held[i]  # one at a time, letting the GUI thread run in between
                time.sleep(0)


#: The one background thread that frees drawn results (:class:`Disposer`).
DISPOSER = Disposer()
