"""Speed of the window's pipeline job on the worker: a pixel dragged over a small canvas,
and a 12 MP photo.

First a single lit pixel dragged over a 64x64 and a 512x512 canvas, as the window's
comparison benchmark drags it (bench_gui_compare.py): one job per move, the article's
pipeline with 6 levels, B = A shifted by (3, 5) around; the job's median time and CPU time
per move for one row, for rows A and B, and for A, B, A - B and |A - B|, side by side.
The cases take turns in blocks of moves, so a busy machine slows them alike.

Then the 12 MP photo. Builds the same :class:`gui.panels.views.PipelineRequest` the window
submits after a painted dab (a read-only snapshot of the canvas, the article's pipeline
with 6 levels, a panel of 256x256 device pixels) and times ``request.run`` on this thread:
one row, and compared with its mirror (B = A mirrored left-right). Then the parts of the
job on their own: run_pipeline once and twice (A and B), the comparison of two runs
(engine.comparison.compare_runs), the colour ranges (engine.display.stage_ranges) and
the display reductions of both rows (gui.panels.views.pipeline_view).

Every case runs alternately with a plain copy of the image (the memory-bandwidth floor),
so a busy machine slows both alike; both medians and the median of the rounds' ratios
are printed side by side, with the median CPU time the process spent on the case (both
cores: the engine runs halves of a large map side by side), which other programs on the
machine disturb less than the time. No Qt window is made.

    .venv/bin/python tests/benchmarks/bench_job.py [--repeats 11] [--moves 200]
        [--only small|photo]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine import CompareSetup, InputTransform, PipelineSpec, run_pipeline  # noqa: E402
from engine.comparison import compare_runs  # noqa: E402
from engine.display import stage_ranges  # noqa: E402
from gui.panels.views import RUNS, PipelineRequest, pipeline_view  # noqa: E402
from gui.worker import JobContext  # noqa: E402

SHAPE = (3000, 4000)
#: The dragged canvases' sides, and what B is on them (the comparison benchmark's).
SMALL_SIDES = (64, 512)
SHIFT = InputTransform("shift", dy=3, dx=5)
#: The rows shown, by name: what B is and whether the difference rows are on (None: one row).
SMALL_CASES = {"one row": None, "A and B": CompareSetup(SHIFT),
               "A, B, A-B, |A-B|": CompareSetup(SHIFT, signed_row=True, magnitude_row=True)}
#: The panel size of the window's rows while comparing (device pixels).
SMALL_SCREEN = (256, 256)
SCREEN = (256, 256)
SPEC = PipelineSpec(levels=6)
#: The targets (ms) of the whole job: the GUI thread adds about 10-20 ms to reach the
#: window's 50 ms (one row) and 150 ms (vs its mirror).
TARGETS = {"one row": 35, "vs its mirror": 130}


def photo() -> np.ndarray:
    """A photo-like 12 MP float32 image in [0, 1] (the window benchmarks' photo)."""
    rng = np.random.default_rng(1)
    grey = cv2.GaussianBlur((rng.random(SHAPE) * 255).astype(np.uint8), (0, 0), 3)
    return grey.astype(np.float32) / 255.0


class Canvas:
    """The canvas and its snapshot: each :meth:`dab` paints a few pixels and returns a
    read-only view of a copy, as the window hands the worker."""

    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        self.buffer = np.empty_like(image)
        self.count = 0

    def dab(self) -> np.ndarray:
        self.count += 1
        r, c = (97 * self.count) % (SHAPE[0] - 8), (131 * self.count) % (SHAPE[1] - 8)
        self.image[r:r + 5, c:c + 5] = 1.0 - self.image[r:r + 5, c:c + 5]
        np.copyto(self.buffer, self.image)
        view = self.buffer.view()
        view.setflags(write=False)
        return view


def rounds(case, repeats: int, image: np.ndarray) -> tuple[float, float, float, float]:
    """Alternate `case` (a function returning what it made, kept alive until the next
    round as the window keeps what it draws) and a plain copy of `image`; return the
    medians (ms) of the case's time and of the CPU time this process spent on it (every
    thread), the copy's median and the median ratio of each round's times."""
    copy_out = np.empty_like(image)
    kept = case()
    rows = []
    for _ in range(repeats):
        cpu, start = time.process_time(), time.perf_counter()
        made = case()
        mid, cpu = time.perf_counter(), time.process_time() - cpu
        np.copyto(copy_out, image)
        end = time.perf_counter()
        rows.append(((mid - start) * 1e3, cpu * 1e3, (end - mid) * 1e3))
        kept = made  # the one before is freed here, outside the timing
    del kept
    return (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows),
            statistics.median(r[2] for r in rows), statistics.median(r[0] / r[2] for r in rows))


def drag_snapshots(side: int, moves: int, seed: int = 0) -> list[np.ndarray]:
    """Read-only snapshots of a `side` x `side` canvas holding one lit pixel that moves by 1
    to 3 pixels in each direction per move (bench_gui.py's drag)."""
    rng = np.random.default_rng(seed)
    r = c = side // 4
    out = []
    for _ in range(moves):
        r = int(np.clip(r + rng.choice([-3, -2, -1, 1, 2, 3]), 0, side - 1))
        c = int(np.clip(c + rng.choice([-3, -2, -1, 1, 2, 3]), 0, side - 1))
        snap = np.zeros((side, side), np.float32)
        snap[r, c] = 1.0
        snap.setflags(write=False)
        out.append(snap)
    return out


def drag_times(side: int, moves: int, blocks: int = 8) -> dict[str, tuple[float, float]]:
    """Per case of :data:`SMALL_CASES`: the median time and CPU time (ms) of the job per
    move of a drag over a `side` x `side` canvas. Each case drags its own pixel (the run
    cache never finds a run of the same pixels, as in a drag) and the cases take turns in
    `blocks` blocks of moves; the result each job made is kept until the case's next one,
    as the window keeps what it draws."""
    context = JobContext("pipeline", 1)
    snapshots = {name: drag_snapshots(side, moves, seed) for seed, name in
                 enumerate(SMALL_CASES)}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in SMALL_CASES}
    kept: dict[str, object] = {}
    for name, setup in SMALL_CASES.items():  # warm up: the first jobs allocate
        for image in snapshots[name][:10]:
            kept[name] = PipelineRequest(image, SPEC, 3, False, setup, SMALL_SCREEN).run(context)
    per_block = max(1, moves // blocks)
    for first in range(0, moves, per_block):
        for name, setup in SMALL_CASES.items():
            for image in snapshots[name][first:first + per_block]:
                request = PipelineRequest(image, SPEC, 3, False, setup, SMALL_SCREEN)
                cpu, start = time.process_time(), time.perf_counter()
                made = request.run(context)
                wall, cpu = time.perf_counter() - start, time.process_time() - cpu
                times[name].append((wall * 1e3, cpu * 1e3))
                kept[name] = made  # the one before is freed here, outside the timing
    return {name: (statistics.median(t for t, _ in rows), statistics.median(c for _, c in rows))
            for name, rows in times.items()}


def small_main(moves: int) -> None:
    """Print the drag cases: per canvas, the median ms (and CPU ms) of each row set."""
    print(f"A pixel dragged, {moves} moves per case, {SPEC.levels} levels, B = A shifted by "
          f"({SHIFT.dy}, {SHIFT.dx}), panel {SMALL_SCREEN}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'median ms (CPU ms) per move':<30}"
          + "".join(f"{name:>22}" for name in SMALL_CASES))
    for side in SMALL_SIDES:
        RUNS.clear()
        medians = drag_times(side, moves)
        print(f"{f'{side}x{side}':<30}" + "".join(
            f"{f'{wall:.2f} ({cpu:.2f})':>22}" for wall, cpu in medians.values()))
    print(f"load average after: {os.getloadavg()[0]:.2f}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--only", choices=("small", "photo"))
    args = parser.parse_args()
    if args.only != "photo":
        small_main(args.moves)
    if args.only == "small":
        return 0
    base = photo()
    canvas = Canvas(base.copy())
    mirror = CompareSetup(InputTransform("mirror"))

    def job(setup: CompareSetup | None):
        def run():
            request = PipelineRequest(canvas.dab(), SPEC, 3, False, setup, SCREEN)
            return request.run(JobContext("pipeline", 1))
        return run

    frozen = base.copy()
    frozen.setflags(write=False)
    mirrored = np.ascontiguousarray(base[:, ::-1])
    mirrored.setflags(write=False)
    a, b = run_pipeline(frozen, SPEC, top_k=3), run_pipeline(mirrored, SPEC, top_k=3)
    ranges = stage_ranges([a, b])

    def rows():
        return [pipeline_view(r, [ranges[s.name] for s in r.stages], False, SCREEN)
                for r in (a, b)]

    cases = [
        ("job: one row", job(None), TARGETS["one row"]),
        ("job: vs its mirror", job(mirror), TARGETS["vs its mirror"]),
        ("part: run_pipeline x1", lambda: run_pipeline(frozen, SPEC, top_k=3), None),
        ("part: run_pipeline x2 (A, B)",
         lambda: (run_pipeline(frozen, SPEC, top_k=3), run_pipeline(mirrored, SPEC, top_k=3)),
         None),
        ("part: compare A with its mirror",
         lambda: compare_runs(a, b, mirror.transform, input_transformed=True), None),
        ("part: stage ranges of A and B", lambda: stage_ranges([a, b]), None),
        ("part: display reductions of A and B", rows, None),
    ]
    print(f"12 MP ({SHAPE[0]}x{SHAPE[1]}), {SPEC.levels} levels, panel {SCREEN}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"{'case':<40}{'median ms':>10}{'CPU ms':>8}{'copy ms':>9}{'ratio':>8}{'target':>8}")
    for name, case, target in cases:
        RUNS.clear()
        median, cpu, copy, ratio = rounds(case, args.repeats, base)
        shown = "" if target is None else f"{target:g}"
        print(f"{name:<40}{median:>10.1f}{cpu:>8.1f}{copy:>9.1f}{ratio:>8.1f}{shown:>8}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
