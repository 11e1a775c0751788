"""Time shift_sweep on a 12 MP photo: 64 horizontal shifts (0..63) through the article's
pipeline (vertical Prewitt, valid, ReLU, 6 max pools), as the Shift sweep dock runs it,
and how long a cancel takes to stop it.

The photo is the coffee sample scaled to 3000x4000 (cubic). Each setting is swept
`repeats` times; the median and the fastest are printed, in seconds, with the target
(64 shifts within 3 s). The cancel latency is the time from setting the cancel event,
just after a shift was delivered, to the sweep raising SweepCancelled (target 100 ms).
The cancel is set 0 to 30 ms after a shift was delivered, so it lands anywhere in the next.

Run: .venv/bin/python tests/benchmarks/bench_sweep.py [repeats]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_rows import record  # noqa: E402

from engine import PipelineSpec, SweepCancelled, sample_photo, shift_sweep  # noqa: E402

SHAPE = (3000, 4000)
SHIFTS = range(64)
MODES = ("max", "blurmax")


def photo_12mp():
    return cv2.resize(sample_photo("coffee"), SHAPE[::-1], interpolation=cv2.INTER_CUBIC)


def cancel_latency(image, spec: PipelineSpec, delay: float) -> float:
    """Seconds from setting the cancel event, `delay` seconds after the second shift was
    delivered (so at any point of a later shift), to the sweep raising SweepCancelled."""
    event = threading.Event()
    delivered = threading.Event()
    marks: list[float] = []

    def cancel_later():
        delivered.wait()
        time.sleep(delay)
        marks.append(time.perf_counter())
        event.set()

    def on_shift(names, i, row):
        if i == 1:
            delivered.set()

    canceller = threading.Thread(target=cancel_later)
    canceller.start()
    try:
        shift_sweep(image, spec, SHIFTS, cancel=event, on_shift=on_shift)
    except SweepCancelled:
        return time.perf_counter() - marks[0]
    finally:
        canceller.join()
    raise AssertionError("the sweep was not cancelled")


def main(repeats: int = 3) -> None:
    image = photo_12mp()
    print(f"{len(SHIFTS)} shifts of a {image.shape[0]}x{image.shape[1]} photo, article "
          f"pipeline; median of {repeats} (target <= 3 s)")
    for mode in MODES:
        for align in (False, True):
            spec = PipelineSpec(pool_mode=mode)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                shift_sweep(image, spec, SHIFTS, align=align)
                times.append(time.perf_counter() - start)
            print(f"  {mode:8s} align={align!s:5s}: median {statistics.median(times):.3f} s, "
                  f"best {min(times):.3f} s")
            record(f"shift sweep, 64 shifts of a 12 MP photo, {mode}"
                   f"{', f(x) moved' if align else ''}", statistics.median(times),
                   min(times), 3 if mode == "max" else None,  # the target: the article's
                   unit="s", kind=f"median / best of {repeats}")
    delays = [0.003 * k for k in range(11)]  # 0 .. 30 ms into the following shift
    latencies = [cancel_latency(image, PipelineSpec(), delay) * 1e3 for delay in delays]
    print(f"cancel latency over {len(delays)} cancels 0-30 ms after a shift: "
          f"median {statistics.median(latencies):.1f} ms, worst {max(latencies):.1f} ms "
          "(target <= 100 ms)")
    record("shift sweep, Cancel to stopped", statistics.median(latencies), max(latencies),
           100, kind=f"median / worst of {len(delays)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
