"""One line per measured case, printed with its target and, when the environment variable
SHIFTLAB_BENCH_ROWS names a file, appended to it (tab-separated) so that bench_speed.py can
print every case of every script in one table."""

from __future__ import annotations

import os

import numpy as np

#: Width of the case column.
CASE_WIDTH = 58


def record(case: str, middle: float, spread: float | None, target: float | None,
           unit: str = "ms", kind: str = "median / p95") -> None:
    """Append one measured case to the rows file, if one is named."""
    path = os.environ.get("SHIFTLAB_BENCH_ROWS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            fields = (case, f"{middle:.3g}" if middle >= 100 else f"{middle:.1f}",
                      "" if spread is None else f"{spread:.1f}",
                      "" if target is None else f"{target:g}", unit, kind)
            out.write("\t".join(fields) + "\n")


def row_line(case: str, times: list[float], target: float, width: int = CASE_WIDTH) -> str:
    """One table line: the case, median and 95th percentile in ms, and the target; the
    case is also recorded."""
    median, p95 = float(np.median(times)), float(np.percentile(times, 95))
    record(case, median, p95, target)
    return f"{case:<{width}}{median:>10.1f}{p95:>10.1f}{target:>10g}"
