"""Plain-language remarks on what a pipeline run shows, computed from its geometry."""

from __future__ import annotations

from .pipeline import PipelineResult


def pooling_drift(result: PipelineResult) -> dict[str, tuple[float, float]]:
    """How far (down, right, in input pixels) each pooled stage of `result` is drawn from
    where the stage before pooling puts its features: each stage is drawn centred on what
    its cells read (:meth:`engine.Stage.display_rect`), so a pooling whose cells read off
    centre makes the panels drift with depth.

    >>> import numpy as np
    >>> from engine import PipelineSpec, run_pipeline
    >>> spec = PipelineSpec(levels=3, pool_mode="blurmax")
    >>> [dx for _, dx in pooling_drift(run_pipeline(np.ones((64, 64)), spec)).values()]
    [0.5, 1.5, 3.5]
    """
    before = [s for s in result if not s.name.startswith("pool")][-1]
    x0, y0 = before.display_rect()[:2]
    return {s.name: (s.display_rect()[1] - y0, s.display_rect()[0] - x0)
            for s in result if s.name.startswith("pool")}


def drift_note(result: PipelineResult) -> str | None:
    """Why the pooled panels of `result` drift with depth, and by how much in input pixels;
    None when none drifts (max, avg, APS, and blurmax with an odd blur do not).

    >>> import numpy as np
    >>> from engine import PipelineSpec, run_pipeline
    >>> print(drift_note(run_pipeline(np.ones((64, 64)), PipelineSpec(levels=2, pool_mode="max"))))
    None
    """
    drifts = pooling_drift(result)
    if not any(dy or dx for dy, dx in drifts.values()):
        return None
    spec = result.spec
    window = (f"a stride-1 {spec.pool_size}x{spec.pool_size} max, then a "
              if spec.pool_mode == "blurmax" else "a ")
    last = list(drifts.values())[-1][1]
    where = "right and down" if last > 0 else "left and up"
    amounts = ", ".join(f"{name} {abs(dx):g}" for name, (_, dx) in drifts.items())
    return (f"The {spec.pool_mode} panels drift {where} with depth: each level's window "
            f"({window}{spec.blur_size}-tap blur) is not centred on the cell it writes, so "
            f"each panel is drawn where its cells read: {amounts} input pixels {where} of "
            "where max pooling would put them. The values are exact; only the anchor moves.")
