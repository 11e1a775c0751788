"""The guided story: the article's argument in short steps, each a live scenario.

A :class:`GuideStep` says what to look at (`text`) and what to do (`task`), builds the
:class:`~engine.state.ViewState` it starts from (`setup`), and recognises the learner's
action with a pure predicate on the state shown and its run (`check`, or `check_sweep`
for the step that runs the shift sweep): it returns the acknowledgement, with the numbers
the run holds, once the action is done, and None before. Every number in the texts is
checked against the engine by the tests.

>>> from engine import run_state
>>> step = STEPS[0]
>>> state = step.setup()
>>> step.check(state, run_state(state)) is None  # nothing done yet
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .comparison import InputTransform
from .examples import ARTICLE_SPEC, SAMPLE_PHOTOS, pixel_image, sample_photo
from .networks import NetworkChoice, held_out_digits
from .pipeline import PipelineResult, PipelineSpec
from .state import CompareSetup, ImageSource, InputImage, StateRun, ViewState, example_state

#: Below this an error or distance counts as 0 (float32 rounding of an exact identity).
ZERO = 1e-6


@dataclass(frozen=True)
class SweepSetup:
    """The shift sweep a step asks for: shifts 0 .. `max_shift` along `axis`, wrapping
    or not, compared with the unshifted map moved by whole cells (`align`) or in place."""

    axis: str = "x"
    max_shift: int = 8
    wrap: bool = True
    align: bool = True


@dataclass(frozen=True)
class GuideStep:
    """One step of the guide.

    Attributes
    ----------
    key, title : str
    text : str
        What the scenario shows and what to look at.
    task : str
        What the learner does.
    setup : callable
        Returns the state the step starts from (photos are read when it is called).
    check : callable or None
        ``check(state, run) -> str | None``: the acknowledgement once the task is done.
    sweep : SweepSetup or None
        The sweep the step prepares (the learner runs it).
    check_sweep : callable or None
        ``check_sweep(names, shifts, distances) -> str | None`` for a finished sweep.
    """

    key: str
    title: str
    text: str
    task: str
    setup: Callable[[], ViewState]
    check: Callable[[ViewState, StateRun], str | None] | None = None
    sweep: SweepSetup | None = None
    check_sweep: Callable[[list[str], np.ndarray, np.ndarray], str | None] | None = None


def _coffee() -> InputImage:
    return InputImage(sample_photo("coffee"), ImageSource.of_file(SAMPLE_PHOTOS["coffee"]))


#: The largest input the one-pixel steps look for their pixel in (a photo opened meanwhile
#: is not searched on every result).
PIXEL_CANVAS_MAX = 32 * 32


def _single_pixel(result: PipelineResult) -> tuple[int, int] | None:
    """Where the one lit pixel of `result`'s small input is, or None unless exactly one
    is (or the input is larger than :data:`PIXEL_CANVAS_MAX` pixels)."""
    arr = result.stages[0].array
    if arr.size > PIXEL_CANVAS_MAX:
        return None
    lit = np.argwhere(arr != 0)
    return (int(lit[0][0]), int(lit[0][1])) if len(lit) == 1 else None


def _error(run: StateRun, stage: str) -> float | None:
    if run.comparison is None:
        return None
    return next((c.equivariance_error for c in run.comparison.stages if c.name == stage), None)


def _distance(run: StateRun, stage: str) -> float:
    return next(c.distance for c in run.comparison.stages if c.name == stage)


# -- 1 ----------------------------------------------------------------------------------------
def _pixel_setup() -> ViewState:
    b = InputImage(pixel_image(2, 2))
    return ViewState(InputImage(pixel_image(2, 2)), PipelineSpec(convolve=False, levels=3),
                     CompareSetup(InputTransform("other"), b))


def _pixel_check(state: ViewState, run: StateRun) -> str | None:
    if run.comparison is None or _single_pixel(run.a) != (7, 7):
        return None
    apart = [str(abs(dy)) if abs(dy) == abs(dx) else f"({abs(dy)}, {abs(dx)})"
             for dy, dx in (c.displacement for c in run.comparison.stages)]
    return (f"Done: the pixels are {' → '.join(apart)} cells apart "
            f"({', '.join(c.name for c in run.comparison.stages)}).")


# -- 2 ----------------------------------------------------------------------------------------
def _maximum_setup() -> ViewState:
    return ViewState(InputImage(pixel_image(2, 2)), PipelineSpec(convolve=False, levels=3))


def _maximum_check(state: ViewState, run: StateRun) -> str | None:
    if state.spec.pool_mode != "avg" or _single_pixel(run.a) is None:
        return None
    peaks = ", ".join(f"{s.maxima[0][2]:g}" for s in run.a.stages[1:])
    return f"Done: averaged, the peaks are {peaks}: each window dilutes the 1."


# -- 3 ----------------------------------------------------------------------------------------
def _floor_setup() -> ViewState:
    return ViewState(InputImage(pixel_image(5, 5, 11)), PipelineSpec(convolve=False, levels=2))


def _floor_check(state: ViewState, run: StateRun) -> str | None:
    where = _single_pixel(run.a)
    if where is None or run.a.stages[0].shape != (11, 11) or 10 not in where \
            or "pool 1" not in run.a.names or run.a["pool 1"].maxima[0][2] != 0.0:
        return None
    return (f"Done: the pixel at {where} is in no pooling window, so pool 1 "
            f"({run.a['pool 1'].shape[0]}×{run.a['pool 1'].shape[1]}) is all 0.")


# -- 4 ----------------------------------------------------------------------------------------
def _seam_check(state: ViewState, run: StateRun) -> str | None:
    error = _error(run, "conv")
    if state.spec.padding != "circular" or error is None or error > ZERO:
        return None
    return (f"Done: with circular padding the conv error is {error:.4f}: the convolution "
            "moves exactly with a wrapping shift.")


# -- 5 ----------------------------------------------------------------------------------------
def _photo_setup() -> ViewState:
    return ViewState(_coffee(), ARTICLE_SPEC)


def _photo_check(state: ViewState, run: StateRun) -> str | None:
    if state.a.shape != (400, 600) or run.a.levels_produced < 7:
        return None
    last = run.a.stages[-1].shape
    return f"Done: {run.a.levels_produced} pools end in a {last[0]}×{last[1]} map."


# -- 6 ----------------------------------------------------------------------------------------
def _mirror_check(state: ViewState, run: StateRun) -> str | None:
    error = _error(run, "conv")
    if run.comparison is None or not run.comparison.kernel_mirrored or error is None \
            or error > ZERO:
        return None
    return (f"Done: with the kernel mirrored too the conv error is {error:.4f}: the mirror "
            "commutes with the convolution.")


# -- 7 ----------------------------------------------------------------------------------------
def _sweep_setup() -> ViewState:
    return ViewState(_coffee(), ARTICLE_SPEC.replace(padding="circular"),
                     CompareSetup(InputTransform("shift", dx=1)))


def _sweep_check(names: list[str], shifts: np.ndarray, distances: np.ndarray) -> str | None:
    if "pool 1" not in names or len(shifts) < 3:
        return None
    pool1 = distances[:, names.index("pool 1")]
    even, odd = pool1[shifts % 2 == 0], pool1[shifts % 2 == 1]
    if not (np.all(even <= ZERO) and np.all(odd > ZERO)):
        return None
    low, high = float(odd.min()), float(odd.max())
    values = f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f} to {high:.2f}"
    return (f"Done: pool 1 is 0 at shifts {', '.join(str(s) for s in shifts[shifts % 2 == 0])} "
            f"and {values} at {', '.join(str(s) for s in shifts[shifts % 2 == 1])}: a "
            "sawtooth.")


# -- 8, 9 -------------------------------------------------------------------------------------
def _shift_circular_setup() -> ViewState:
    state = example_state("shift")
    return state.replace(spec=state.spec.replace(padding="circular"))


def _blurmax_check(state: ViewState, run: StateRun) -> str | None:
    if state.spec.pool_mode != "blurmax" or run.comparison is None \
            or "pool 3" not in run.a.names:
        return None
    return (f"Done: with blurmax the distance is {_distance(run, 'pool 1'):.2f} at pool 1 and "
            f"{_distance(run, 'pool 3'):.2f} at pool 3.")


def _aps_check(state: ViewState, run: StateRun) -> str | None:
    if state.spec.pool_mode != "aps" or run.comparison is None:
        return None
    pools = [c for c in run.comparison.stages if c.name.startswith("pool")]
    equal = [c.name for c in pools if c.distance <= ZERO]
    if not equal:
        return None
    first = pools[0]
    return (f"Done: with APS the distance is 0 at {', '.join(equal)}; pool 1 of B is A's "
            f"moved by {first.displacement} cells.")


# -- 10, 11 -----------------------------------------------------------------------------------
#: The held-out digit the network steps show: a 1 that digits-max reads as a 7 once moved
#: one pixel right, while digits-aps keeps its answer (the tests check both). Its border
#: rows and columns are blank, so a nudge is the same with wrap-around on or off.
FLIP_DIGIT = 96


def _flip_digit() -> np.ndarray:
    return held_out_digits()[0][FLIP_DIGIT]


def _digit_setup(network: str) -> ViewState:
    digit = _flip_digit()
    return ViewState(InputImage(digit), PipelineSpec(convolve=False, levels=2),
                     CompareSetup(InputTransform("other"), InputImage(digit)),
                     network=NetworkChoice.bundled(network))


def _nudged(state: ViewState, run: StateRun, network: str):
    """A's and B's answers when A is B moved by one pixel through `network`, else None."""
    net = run.network
    if net is None or net.b is None or net.choice.name != network \
            or state.compare.image_b is None or net.a.top1 is None:
        return None
    a, b = state.a.pixels, state.compare.image_b.pixels
    if a.shape != b.shape or not any(
            np.array_equal(a, np.roll(b, step, axis)) for step in (1, -1) for axis in (0, 1)):
        return None
    return net.b, net.a


def _flip_check(state: ViewState, run: StateRun) -> str | None:
    answers = _nudged(state, run, "digits-max")
    if answers is None or answers[0].top1 == answers[1].top1:
        return None
    before, after = answers
    return (f"Done: one pixel over, digits-max's answer went from {before.top1_label} "
            f"({before.top1_probability:.1%}) to {after.top1_label} "
            f"({after.top1_probability:.1%}).")


def _kept_check(state: ViewState, run: StateRun) -> str | None:
    answers = _nudged(state, run, "digits-aps")
    if answers is None or answers[0].top1 != answers[1].top1:
        return None
    return (f"Done: one pixel over, digits-aps still answers {answers[1].top1_label} "
            f"({answers[1].top1_probability:.1%}).")


STEPS: tuple[GuideStep, ...] = (
    GuideStep(
        "pixel", "One pixel, pooled",
        "A 10×10 canvas with one lit pixel at (2, 2), through three 2×2 max pools and no "
        "convolution. Row B keeps a copy of the pixel at (2, 2). Each pool halves the map: "
        "5×5, 2×2, then a single cell.",
        "Drag the lit pixel of A to (7, 7). The two pixels are 5 apart; watch the peaks come "
        "2, then 1, then 0 cells apart (Metrics, peak moved).",
        _pixel_setup, _pixel_check),
    GuideStep(
        "maximum", "Why the maximum survives pooling",
        "Max pooling passes on the largest value of each window, so the lit pixel's 1 "
        "reaches every level: only its place gets coarser, 2 input pixels per cell, then 4, "
        "then 8.",
        "Switch pooling to avg (Ctrl+P steps through the modes) and hover the peaks: an "
        "average spreads the 1 over its window, 0.25 after one pool, 0.0625 after two.",
        _maximum_setup, _maximum_check),
    GuideStep(
        "floor", "Borders: the last row",
        "This canvas is 11×11. A 2×2 window with stride 2 fits 5 times into 11, so pool 1 is "
        "5×5 and row 10 and column 10 are dropped (pooling rounds down).",
        "Drag the lit pixel into row 10 or column 10: pool 1 goes dark.",
        _floor_setup, _floor_check),
    GuideStep(
        "seam", "Borders: the seam",
        "Row B is the photo moved 1 pixel right, wrapping around. Valid padding does not "
        "wrap, so where the right edge meets the left the kernel reads a seam: the conv "
        "error in Metrics is not 0, and What you see warns about it.",
        "Click 'Use circular padding' in Metrics (or Controls > Padding: circular).",
        lambda: example_state("shift"), _seam_check),
    GuideStep(
        "photo", "A photo, an edge kernel and six pools",
        "The coffee photo, 400×600, through the vertical edge kernel (the article's 'Sobel', "
        "Prewitt's 3×3; valid padding makes 398×598) and ReLU, then six 2×2 max pools: "
        "199×299, 99×149, 49×74, 24×37, 12×18 and 6×9. Each pool drops an odd remainder.",
        "Press ] for a seventh pool.",
        _photo_setup, _photo_check),
    GuideStep(
        "mirror", "The mirror is not a translation",
        "Row B is the photo mirrored left-right. The edge kernel is antisymmetric: mirrored, "
        "it changes sign, so conv(mirror(x)) = −mirror(conv(x)) and after ReLU B lights up "
        "the opposite edges. The conv error is far from 0.",
        "Tick 'Mirror the kernel too' in the Compare dock.",
        lambda: example_state("mirror"), _mirror_check),
    GuideStep(
        "sweep", "Pooling follows shifts only in steps",
        "A stage of stride S can follow a shift only in whole cells, S pixels at a time. The "
        "sweep moves the photo by 0 to 8 pixels and compares each stage with the unshifted "
        "one moved by whole cells (circular padding, so the convolution follows every shift).",
        "Click Run sweep in the Shift sweep dock: pool 1 is 0 at even shifts and 0.58 at odd "
        "ones, a sawtooth; pool 2 is 0 only at 0, 4 and 8.",
        _sweep_setup, sweep=SweepSetup(), check_sweep=_sweep_check),
    GuideStep(
        "blurmax", "Anti-aliasing: blurmax",
        "Row B is the photo moved 1 pixel right, with circular padding. With max pooling the "
        "distance is 0.59 at pool 1 and 0.22 at pool 3. Blurmax takes the 2×2 max with stride "
        "1, then blurs before keeping every second cell, so a one-pixel shift changes less.",
        "Switch pooling to blurmax (Ctrl+P, twice) and read the distances in Metrics.",
        _shift_circular_setup, _blurmax_check),
    GuideStep(
        "aps", "Adaptive polyphase sampling",
        "APS splits a map into its four 2×2 phases and keeps the one with the largest norm. "
        "A circular shift only swaps the phases, so each pooled map of B is a circular shift "
        "of A's, unless two phases tie.",
        "Switch pooling to aps (Ctrl+P four times, or Controls > Pool mode) and read the "
        "distances.",
        _shift_circular_setup, _aps_check),
    GuideStep(
        "flip", "A trained network's answer can flip",
        "A real handwritten 1 from the held-out digits (never trained on), through "
        "digits-max, a small network with max pooling: it answers 1 with 97.2%. Row B keeps "
        "the digit where it is.",
        "Press the right arrow key to nudge the digit one pixel right (its border is blank, "
        "so wrap-around makes no difference) and read the answer under the pipeline.",
        lambda: _digit_setup("digits-max"), _flip_check),
    GuideStep(
        "kept", "… and the variant whose answer does not",
        "The same 1 through digits-aps: the same network with APS pooling and circular "
        "padding, so a circular shift only swaps the phases it chooses from. It answers 1 "
        "with 80.7%.",
        "Press the right arrow key again: the same one-pixel nudge.",
        lambda: _digit_setup("digits-aps"), _kept_check),
)
