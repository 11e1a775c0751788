"""What the window shows, in plain words: a few titled short paragraphs and warnings.

:func:`describe` turns a :class:`~engine.state.ViewState` and its
:class:`~engine.state.StateRun` into a frozen :class:`Description`: the pipeline in one
line, what each row is, how colours map to values, what the metrics mean and why any is
undefined, and the warnings that matter (near-tie maxima, the seam of a wrapping shift,
pooling that stopped early, APS ties). Sentences the engine already has are used as they
are (:attr:`engine.Comparison.note`, :attr:`engine.PipelineResult.stop_reason`,
:attr:`engine.StageComparison.error_note`, :func:`engine.notes.drift_note`); nothing here
phrases one of those facts again.

>>> from engine import ViewState, run_state
>>> state = ViewState.demo()
>>> text = describe(state, run_state(state))
>>> text["Pipeline"].text
'input 10×10 → 2 levels of 2×2 max pooling, stride 2 → 5×5, 2×2'
"""

from __future__ import annotations

from dataclasses import dataclass

from .compare import StageComparison, leading_cells
from .comparison import BOTH_ZERO
from .examples import EXAMPLES
from .maxima import NEAR_TIE, near_tie_among
from .pipeline import PipelineResult
from .state import StateRun, ViewState

#: The titles of the paragraphs :func:`describe` can give.
EXAMPLE = "Example"
PIPELINE = "Pipeline"
ROWS = "Rows"
COLOURS = "Colours"
METRICS = "Metrics"
NOTE = "Note"
DRIFT = "Drift"
NEAR_TIE_TITLE = "Near-tie"
SEAM = "Seam"
EARLY_STOP = "Fewer levels"
APS_TIES = "APS ties"


@dataclass(frozen=True)
class Paragraph:
    """One titled short paragraph; `warning` marks what may mislead if overlooked."""

    title: str
    text: str
    warning: bool = False


@dataclass(frozen=True)
class Description:
    """The paragraphs that describe one state, in reading order."""

    paragraphs: tuple[Paragraph, ...]

    @property
    def titles(self) -> list[str]:
        """The paragraphs' titles, in order."""
        return [p.title for p in self.paragraphs]

    @property
    def warnings(self) -> tuple[Paragraph, ...]:
        """The paragraphs marked as warnings."""
        return tuple(p for p in self.paragraphs if p.warning)

    def __getitem__(self, title: str) -> Paragraph:
        for paragraph in self.paragraphs:
            if paragraph.title == title:
                return paragraph
        raise KeyError(f"no paragraph titled {title!r}; there are {self.titles}")

    def __contains__(self, title: object) -> bool:
        return any(p.title == title for p in self.paragraphs)

    @property
    def text(self) -> str:
        """All paragraphs as plain text, one ``title: text`` block each."""
        return "\n\n".join(f"{p.title}: {p.text}" for p in self.paragraphs)


def shape_text(shape: tuple[int, int]) -> str:
    """``"400×600"`` for (400, 600)."""
    return f"{shape[0]}×{shape[1]}"


def pipeline_line(result: PipelineResult) -> str:
    """The pipeline of `result` in one line, with the shape after each step.

    >>> import numpy as np
    >>> from engine import PipelineSpec, run_pipeline
    >>> line = pipeline_line(run_pipeline(np.ones((12, 12)), PipelineSpec(levels=2)))
    >>> line.split(" → ")[:3]
    ['input 12×12', 'prewitt_vertical 3×3 (valid padding), ReLU', '10×10']
    """
    spec = result.spec
    parts = [f"input {shape_text(result.stages[0].shape)}"]
    if "conv" in result.names:
        k = spec.kernel_array.shape
        conv = f"{spec.kernel_name} {k[0]}×{k[1]} ({spec.padding} padding"
        conv += f", stride {spec.stride})" if spec.stride > 1 else ")"
        if spec.activation != "none":
            conv += f", {'ReLU' if spec.activation == 'relu' else spec.activation}"
        parts += [conv, shape_text(result["conv"].shape)]
    pools = [s for s in result.stages if s.name.startswith("pool")]
    if pools:
        mode = spec.pool_mode
        if mode in ("blurmax", "blur"):
            mode += f" ({spec.blur_size}-tap blur)"
        levels = f"{len(pools)} level{'s' if len(pools) > 1 else ''}"
        parts += [f"{levels} of {spec.pool_size}×{spec.pool_size} {mode} pooling, stride "
                  f"{spec.effective_pool_stride}",
                  ", ".join(shape_text(s.shape) for s in pools)]
    elif spec.levels == 0:
        parts.append("no pooling")
    return " → ".join(parts)


def _rows(state: ViewState, run: StateRun) -> str:
    label = state.a.label if state.a.source.loadable else "drawn in the window"
    if run.comparison is None:
        return (f"One row: input A ({label}) and each stage it goes through, left to "
                "right. Drag, paint or nudge A and every stage follows.")
    b = state.compare.description
    text = f"Row A: the input ({label}). Row B: {b if b.startswith('another') else 'A ' + b}."
    if run.signed is not None:
        text += " Row A − B: A minus B per stage, over the cells both have."
    if run.magnitude is not None:
        text += " Row |A − B|: how large that difference is."
    return text


def _colours(state: ViewState, run: StateRun) -> str:
    lo, hi = run.ranges["input"]
    text = f"Input: grey, black = {lo:g}, white = {hi:g}."
    features = [n for n in run.ranges if n != "input"]
    if features:
        if state.shared_levels:
            flo, fhi = run.ranges[features[0]]
            text += (f" Every other stage: viridis (dark blue low, yellow high) on one shared "
                     f"scale from {flo:.3g} to {fhi:.3g}, so equal colours are equal values "
                     "across stages.")
        else:
            text += (" Every other stage: viridis (dark blue = its smallest value, yellow = "
                     "its largest), each stage on its own scale, so a colour means different "
                     "values in different stages (L shares one scale).")
        if run.comparison is not None:
            text += " Rows A and B share each stage's scale: equal colours, equal values."
    if run.signed is not None:
        text += " A − B: white = 0, red above, blue below, symmetric about 0."
    if run.magnitude is not None:
        text += " |A − B|: black = 0 up to yellow at its largest."
    return text


def _stage_list(names: list[str]) -> str:
    return ", ".join(names)


def _error_reasons(stages: list[StageComparison]) -> str:
    """Why the error is n/a, in the engine's words; stages whose notes differ only in
    the number after " = " share one clause."""
    groups: list[tuple[str, list[str], list[str]]] = []
    for comp in stages:
        if comp.equivariance_error is not None or not comp.error_note:
            continue
        head, sep, value = comp.error_note.rpartition(" = ")
        key = head if sep else comp.error_note
        if groups and groups[-1][0] == key and sep:
            groups[-1][1].append(comp.name)
            groups[-1][2].append(value)
        else:
            groups.append((key, [comp.name], [value] if sep else []))
    clauses = []
    for key, names, values in groups:
        note = f"{key} = {', '.join(values)}" if values else key
        clauses.append(f"{_stage_list(names)} ({note})")
    return "; ".join(clauses)


def _metrics(run: StateRun) -> str:
    comparison = run.comparison
    text = ("Distance ‖A − B‖ / max(‖A‖, ‖B‖) per stage: 0 when the maps are equal, 1 when "
            "one is zero. Peak moved: where B's largest cell is from A's, in the stage's own "
            "cells and in input pixels.")
    if comparison.transform.kind != "other":
        text += (" Equivariance error ‖f(Tx) − T′f(x)‖ / ‖f(x)‖: 0 when the stage moves "
                 "exactly with the transform T of the input.")
    zero = [c.name for c in comparison.stages if c.both_zero]
    if zero:
        text += f" Distance n/a at {_stage_list(zero)}: {BOTH_ZERO}."
    reasons = _error_reasons(comparison.stages)
    if comparison.transform.kind != "other" and reasons:
        text += f" Error n/a at {reasons}."
    return text


def _near_ties(run: StateRun) -> str | None:
    if run.comparison is not None:
        found = [(c.name, "A and B" if c.near_tie_a and c.near_tie_b
                  else ("A" if c.near_tie_a else "B"))
                 for c in run.comparison.stages if c.near_tie and not c.both_zero]
    else:
        # is_near_tie of each map, read from the largest cells its run recorded
        found = [(s.name, "") for s in run.a.stages if s.maxima and s.maxima[0][2] > 0
                 and s.array.size >= 2 and near_tie_among(leading_cells(s))]
    if not found:
        return None
    where = ", ".join(f"{name} ({rows})" if rows else name for name, rows in found)
    return (f"At {where} another cell away from the peak is within {NEAR_TIE:.0%} of it: "
            "the peak is no stable feature, and how far it moves says little.")


def _early_stops(run: StateRun) -> str | None:
    lines = [f"{row}: {result.stop_reason}." for row, result in run.results.items()
             if result.stop_reason]
    if not lines:
        return None
    if len(lines) == 2 and lines[0][3:] == lines[1][3:]:
        lines = [f"A and B{lines[0][1:]}"]
    return " ".join(lines)


def _aps_ties(run: StateRun) -> str | None:
    found = [f"{', '.join(result.aps_ties)} ({row})" for row, result in run.results.items()
             if result.aps_ties]
    if not found:
        return None
    return (f"At {'; '.join(found)} two or more polyphase components had the same largest "
            "norm and the first was kept: there a shift of the input need not shift the "
            "output.")


def describe(state: ViewState, run: StateRun, *, drift: str | None = None) -> Description:
    """Describe what the window shows for `state`, computed as `run`.

    Parameters
    ----------
    state : ViewState
        What is shown; its input's source names an example to explain.
    run : StateRun
        ``run_state(state)`` (or a run of the same pixels, pipeline and comparison).
    drift : str, optional
        Row A's drift note, :func:`engine.notes.drift_note` of ``run.a``, given by the
        caller that already has it.

    Returns
    -------
    Description
        In order: the example (when the input is one), the warnings (near-ties, the
        seam, levels that stopped early, APS ties), the pipeline, the rows, the colours,
        the metrics (while comparing), the comparison's note (a mirror's), the drift.
    """
    out: list[Paragraph] = []
    source = state.a.source
    if source.kind == "example" and source.example in EXAMPLES:
        example = EXAMPLES[source.example]
        out.append(Paragraph(f"{EXAMPLE}: {example.title}", example.description))
    comparison = run.comparison
    # the warnings come first: a short panel shows them without scrolling
    ties = _near_ties(run)
    if ties:
        out.append(Paragraph(NEAR_TIE_TITLE, ties, warning=True))
    if comparison is not None and comparison.fix_padding is not None and comparison.note:
        out.append(Paragraph(SEAM, comparison.note, warning=True))
    stops = _early_stops(run)
    if stops:
        out.append(Paragraph(EARLY_STOP, stops, warning=True))
    aps = _aps_ties(run)
    if aps:
        out.append(Paragraph(APS_TIES, aps, warning=True))
    out.append(Paragraph(PIPELINE, pipeline_line(run.a)))
    if comparison is not None and comparison.kernel_mirrored:
        out.append(Paragraph(f"{PIPELINE} of B", pipeline_line(run.b)))
    out.append(Paragraph(ROWS, _rows(state, run)))
    out.append(Paragraph(COLOURS, _colours(state, run)))
    if comparison is not None:
        out.append(Paragraph(METRICS, _metrics(run)))
        if comparison.note and comparison.fix_padding is None:
            out.append(Paragraph(NOTE, comparison.note))
    if drift:
        out.append(Paragraph(DRIFT, drift))
    return Description(tuple(out))
