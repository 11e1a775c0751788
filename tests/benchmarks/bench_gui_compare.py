"""How fast the real window answers a dragged pixel in comparison mode.

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_gui_compare.py

Drives the real window (offscreen) with bench_gui.py's drag, with comparison on
(B = A shifted by (3, 5), circular), and prints the pointer-move-to-drawn latency
(median, 95th percentile) for a 64x64 and a 512x512 canvas, convolution on and 6
pooling levels: first rows A and B, then with the A − B and |A − B| rows as well;
then a 3000x4000 (12 MP) photo compared with its mirror: one painted dab to every row
drawn (recompute + redraw). One job computes A and B and one slot draws all rows, so
"drawn" (the window up to date, pending paints delivered) covers every row. Each row
prints its target.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gui import (  # noqa: E402
    bench_app,
    drag_latency,
    make_room,
    open_photo,
    redraw_latency,
    wait_drawn,
)
from bench_rows import row_line  # noqa: E402

from engine import InputTransform, PipelineSpec  # noqa: E402

#: Targets (ms) of the median drag: rows A and B, then with the difference rows too;
#: and of a 12 MP photo compared with its mirror, recompute + redraw.
TARGETS = {(False, 64): 8, (False, 512): 10, (True, 64): 14, (True, 512): 14}
MIRROR_TARGET = 150


def main() -> int:
    app, folder = bench_app()
    from gui.window.main_window import MainWindow

    window = MainWindow()
    try:
        window.resize(1600, 900)
        window.show()
        wait_drawn(app, window)
        make_room(app, window)
        mode = window.compare
        mode.controls.set_transform(InputTransform("shift", dy=3, dx=5))
        mode.set_active(True)
        wait_drawn(app, window)
        print(f"{'case (comparison on)':<58}{'median ms':>10}{'p95 ms':>10}{'target':>10}")
        for rows, label in ((False, "A and B"), (True, "A, B, A - B, |A - B|")):
            mode.controls.signed_row.setChecked(rows)
            mode.controls.magnitude_row.setChecked(rows)
            for size in (64, 512):
                times = drag_latency(app, window, size)
                assert mode.rows.request_id == window.row.request_id  # B drawn with A
                print(row_line(f"drag pixel, {size}x{size}, conv + 6 pools, {label}", times,
                               TARGETS[rows, size]))
        mode.controls.signed_row.setChecked(False)
        mode.controls.magnitude_row.setChecked(False)
        mode.controls.set_transform(InputTransform("mirror"))
        window.pipeline_controls.set_spec(PipelineSpec(levels=6))
        open_photo(app, window, folder)
        times = redraw_latency(app, window)
        assert mode.rows.request_id == window.row.request_id
        print(row_line("12 MP photo vs its mirror, recompute + redraw after a dab", times,
                       MIRROR_TARGET))
    finally:
        window.close()  # stops the worker threads even when a check failed
    return 0


if __name__ == "__main__":
    sys.exit(main())
