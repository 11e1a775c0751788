"""Speed of the article's pipeline: vertical Prewitt, valid, ReLU, 6 max pools of 2.

Prints medians of several runs for the engine's run_pipeline (top_k default), a plain
numpy copy of the same image (the memory-bandwidth floor), the article's pure-Python
loops (512x512 only: they are slow) and PyTorch on the CPU when it is importable.

The engine and the copy run alternately, one of each per round, so that a busy machine
slows both alike; their medians and the ratio of each round's times are printed side by
side (the target is a 12 MP run within 4 copies).

    .venv/bin/python tests/benchmarks/bench_engine.py [--repeats 9] [--loop-repeats 1]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_rows import record  # noqa: E402

from engine import KERNELS, run_pipeline  # noqa: E402

SIZES = [(512, 512), (3000, 4000)]
LEVELS = 6


def side_by_side(engine, copy, repeats: int) -> tuple[float, float, float, float]:
    """Alternate `engine` and `copy`; return their medians (ms), the median of the rounds'
    ratios and the largest ratio."""
    engine()
    copy()
    times: list[tuple[float, float]] = []
    for _ in range(repeats):
        pair = []
        for fn in (engine, copy):
            start = time.perf_counter()
            fn()
            pair.append(time.perf_counter() - start)
        times.append((pair[0], pair[1]))
    ratios = [e / c for e, c in times]
    return (statistics.median(e for e, _ in times) * 1e3,
            statistics.median(c for _, c in times) * 1e3,
            statistics.median(ratios), max(ratios))


def median_ms(fn, repeats: int) -> float:
    fn()  # warm up: first-touch page faults, OpenCV thread pool, torch kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


# -- the article's functions, as written there: plain Python loops -------------------------

def article_convolve(image, kernel):
    """Valid cross-correlation, then ReLU."""
    kh, kw = len(kernel), len(kernel[0])
    rows, cols = len(image) - kh + 1, len(image[0]) - kw + 1
    out = [[0.0] * cols for _ in range(rows)]
    for i in range(rows):
        for j in range(cols):
            total = 0.0
            for a in range(kh):
                for b in range(kw):
                    total += image[i + a][j + b] * kernel[a][b]
            out[i][j] = max(total, 0.0)
    return out


def article_max_pool(image, k=2):
    rows, cols = len(image) // k, len(image[0]) // k
    out = [[0.0] * cols for _ in range(rows)]
    for i in range(rows):
        for j in range(cols):
            out[i][j] = max(image[i * k + a][j * k + b] for a in range(k) for b in range(k))
    return out


def article_pipeline(image_list, kernel_list):
    x = article_convolve(image_list, kernel_list)
    for _ in range(LEVELS):
        x = article_max_pool(x)
    return x


# -- torch ------------------------------------------------------------------------------------

def torch_pipeline_fn(img):
    import torch

    functional = torch.nn.functional
    kernel = torch.from_numpy(np.array(KERNELS["prewitt_vertical"]))[None, None]

    def run():
        with torch.no_grad():
            x = functional.relu(functional.conv2d(torch.from_numpy(img)[None, None], kernel))
            for _ in range(LEVELS):
                x = functional.max_pool2d(x, 2)
        return x

    return run, torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="runs per median (default 9)")
    parser.add_argument("--loop-repeats", type=int, default=1,
                        help="runs of the pure-Python loops, 512x512 only (default 1)")
    args = parser.parse_args()

    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False

    print(f"python {platform.python_version()}, numpy {np.__version__}, opencv {cv2.__version__}"
          f", {os.cpu_count()} cores, OpenCV threads {cv2.getNumThreads()}")
    if have_torch:
        import torch
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"pipeline: prewitt_vertical, valid, ReLU, {LEVELS} max pools of 2; "
          f"median of {args.repeats} runs (loops: {args.loop_repeats})\n")
    print(f"{'image':>11}  {'method':<34} {'median ms':>10}")

    rng = np.random.default_rng(0)
    medians: dict[tuple[tuple[int, int], str], float] = {}
    ratios: dict[tuple[int, int], tuple[float, float]] = {}
    for shape in SIZES:
        img = rng.random(shape, dtype=np.float32)
        label = f"{shape[0]}x{shape[1]}"

        def row(method: str, ms: float | None, note: str = "", shape=shape, label=label) -> None:
            medians[(shape, method)] = ms
            value = f"{ms:10.2f}" if ms is not None else f"{note:>10}"
            print(f"{label:>11}  {method:<34} {value}")

        result = run_pipeline(img)
        assert result["pool 6"].shape == ((shape[0] - 2) // 64, (shape[1] - 2) // 64)
        engine_ms, copy_ms, ratio, worst = side_by_side(lambda img=img: run_pipeline(img),
                                                        img.copy, args.repeats)
        row("engine run_pipeline (top_k=5)", engine_ms)
        row("numpy copy (bandwidth floor)", copy_ms)
        ratios[shape] = (ratio, worst)
        if shape == (512, 512):
            image_list, kernel_list = img.tolist(), KERNELS["prewitt_vertical"].tolist()
            loops = article_pipeline(image_list, kernel_list)
            np.testing.assert_allclose(np.array(loops), result["pool 6"].array, atol=1e-5)
            row("article pure-Python loops",
                median_ms(lambda i=image_list, k=kernel_list: article_pipeline(i, k),
                          args.loop_repeats))
        if have_torch:
            run, torch = torch_pipeline_fn(img)
            np.testing.assert_allclose(run()[0, 0].numpy(), result["pool 6"].array, atol=1e-5)
            row("torch CPU conv2d+relu+max_pool2d", median_ms(run, args.repeats))
        else:
            row("torch CPU conv2d+relu+max_pool2d", None, "not installed")

    big = SIZES[-1]
    engine_ms = medians[(big, "engine run_pipeline (top_k=5)")]
    copy_ms = medians[(big, "numpy copy (bandwidth floor)")]
    ratio, worst = ratios[big]
    print(f"\n12 MP side by side: engine {engine_ms:.2f} ms, copy {copy_ms:.2f} ms; "
          f"engine / copy: ratio of medians {engine_ms / copy_ms:.2f}x, median of the "
          f"rounds' ratios {ratio:.2f}x (worst {worst:.2f}x)  (target <= 4x)")
    record("engine, 12 MP article pipeline / a plain copy, side by side", ratio, worst, 4,
           unit="x", kind="median / worst ratio")
    small = SIZES[0]
    loops_ms = medians.get((small, "article pure-Python loops"))
    if loops_ms:
        print(f"512x512 loops / engine: "
              f"{loops_ms / medians[(small, 'engine run_pipeline (top_k=5)')]:.0f}x")
    torch_ms = medians[(big, "torch CPU conv2d+relu+max_pool2d")]
    if torch_ms is not None:
        print(f"12 MP torch / engine: {torch_ms / engine_ms:.2f}x")


if __name__ == "__main__":
    main()
