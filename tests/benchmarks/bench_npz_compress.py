"""What ``--compress`` costs: stages.npz of a 3000x4000 photo compared with its mirror
(the article's pipeline), written plain and zlib-compressed, side by side in one run;
then the whole figure set (every default format, 1200 px) written both ways.

Prints the median time and the file size of each, and their ratios.

    .venv/bin/python tests/benchmarks/bench_npz_compress.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from engine import CompareSetup, InputImage, InputTransform, ViewState, report, run_state  # noqa: E402,E501
from figures import ExportJob, FigureSetOptions, write_figure_set  # noqa: E402


def photo_like(rows: int = 3000, cols: int = 4000, seed: int = 0) -> np.ndarray:
    """Smooth noise plus fine grain in [0, 1], float32 (compresses like a photo's stages)."""
    rng = np.random.default_rng(seed)
    smooth = cv2.GaussianBlur(rng.random((rows, cols), np.float32), (0, 0), 8)
    grain = rng.random((rows, cols), np.float32) * np.float32(0.05)
    img = smooth + grain
    return (img - img.min()) / (img.max() - img.min())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    state = ViewState(InputImage(photo_like()), compare=CompareSetup(InputTransform("mirror")))
    arrays = report.stage_arrays(run_state(state).results)
    megabytes = sum(a.nbytes for a in arrays.values()) / 1e6
    print(f"12 MP photo vs its mirror: {len(arrays)} stage arrays, {megabytes:.0f} MB in memory")
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for compress in (False, True):
            path = Path(tmp) / f"stages-{compress}.npz"
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                report.write_npz(path, arrays, compress=compress)
                times.append(time.perf_counter() - started)
            out[compress] = (statistics.median(times), path.stat().st_size / 1e6)
    for compress, (seconds, size) in out.items():
        label = "--compress" if compress else "plain     "
        print(f"  {label}  median {seconds:6.2f} s   {size:7.1f} MB")
    (plain_s, plain_mb), (zip_s, zip_mb) = out[False], out[True]
    print(f"  compressed: {zip_s / plain_s:.1f}x the time, {zip_mb / plain_mb:.2f}x the size "
          f"({args.repeats} runs each)")
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 (drawing needs it)
    job = ExportJob(state)
    print("the whole figure set (png, svg, npz, csv, json at 1200 px), one run each:")
    with tempfile.TemporaryDirectory() as tmp:
        totals = {}
        for compress in (False, True):
            started = time.perf_counter()
            out = write_figure_set(Path(tmp) / f"set-{compress}", job,
                                   FigureSetOptions(compress=compress))
            totals[compress] = time.perf_counter() - started
            size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file()) / 1e6
            label = "--compress" if compress else "plain     "
            print(f"  {label}  {totals[compress]:6.2f} s   {size:7.1f} MB in the set")
        print(f"  compressed: {totals[True] / totals[False]:.1f}x the time")


if __name__ == "__main__":
    main()
