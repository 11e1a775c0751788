"""Time shift_sweep: 64 horizontal shifts of the coffee photo (400x600) through the
article's pipeline (vertical Prewitt, valid, ReLU, 6 pools), for each pooling mode.

Run: .venv/bin/python tests/benchmarks/bench_sweep.py [repeats]
Prints the median and the fastest of the repeats, in seconds.
"""

from __future__ import annotations

import statistics
import sys
import time

from engine import PipelineSpec, sample_photo, shift_sweep


def main(repeats: int = 5) -> None:
    coffee = sample_photo("coffee")
    shifts = range(64)
    for mode in ("max", "blurmax"):
        for align in (True, False):
            spec = PipelineSpec(pool_mode=mode)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                shift_sweep(coffee, spec, shifts, align=align)
                times.append(time.perf_counter() - start)
            print(f"{mode:8s} align={align!s:5s} 64 shifts on {coffee.shape}: "
                  f"median {statistics.median(times):.3f} s, best {min(times):.3f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
