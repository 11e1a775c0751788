"""How long a figure set of a 3000x4000 photo takes: the command line, and in-process.

Writes a synthetic photo-like PNG (smooth noise plus fine grain) into a temporary
folder, then prints medians of:

- the whole command ``python main.py export PHOTO --out DIR`` in a subprocess (the
  article's pipeline: vertical Prewitt, valid, ReLU, 6 max pools; all formats, 1200 px),
  from process start to exit, so it includes Python, Qt and image loading;
- ``write_figure_set`` in-process on the already loaded image;
- the split of the in-process work: compute (pipelines, differences), render (painting
  panels and the sheet on QImages), encode (PNG and SVG files), data (stages.npz,
  metrics, manifest with hashes);

each for one image and for a comparison with its mirror (``--mirror``).

    .venv/bin/python tests/benchmarks/bench_export.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402

from engine import PipelineSpec, load_image, mirror, report  # noqa: E402
from figures import drawing as figures  # noqa: E402
from figures.figure_set import (  # noqa: E402
    ExportJob,
    FigureSetOptions,
    ImageInput,
    Transform,
    compute_figure_data,
    figure_panels,
    sheet_rows,
    write_figure_set,
)

SHAPE = (3000, 4000)


def synthetic_photo(path: Path, seed: int = 0) -> None:
    """Smooth structure at several scales plus fine grain, like a photo's texture."""
    rng = np.random.default_rng(seed)
    img = np.zeros(SHAPE, np.float32)
    for cells, weight in ((12, 1.0), (60, 0.5), (300, 0.25)):
        coarse = rng.random((cells * 3 // 4, cells)).astype(np.float32)
        img += weight * cv2.resize(coarse, SHAPE[::-1], interpolation=cv2.INTER_CUBIC)
    img += 0.05 * rng.standard_normal(SHAPE).astype(np.float32)
    img = (img - img.min()) / (img.max() - img.min())
    cv2.imwrite(str(path), (img * 255).astype(np.uint8))


def median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def split(job: ExportJob, options: FigureSetOptions, folder: Path, repeats: int) -> dict:
    """Median seconds of each stage of the in-process work, done as write_figure_set does."""
    out: dict[str, list[float]] = {"compute": [], "render": [], "encode": [], "data": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        data = compute_figure_data(job, options.top_k)
        panels = figure_panels(data)
        t1 = time.perf_counter()
        drawings = [figures.panel_drawing(p, options.width)
                    for row in panels.values() for p in row.values()]
        drawings.append(figures.sheet_drawing(sheet_rows(data, panels), options.width))
        images = [figures.render(d) for d in drawings]
        t2 = time.perf_counter()
        for i, (drawing, image) in enumerate(zip(drawings, images, strict=True)):
            figures.write_png(folder / f"{i}.png", image)
            figures.write_svg(folder / f"{i}.svg", drawing)
        t3 = time.perf_counter()
        report.write_npz(folder / "stages.npz", report.stage_arrays(data.results))
        records = {row: [report.stage_metrics(s, row) for s in r]
                   for row, r in data.results.items()}
        document = report.metrics_document(records, report.comparison_metrics(data.comparisons))
        report.write_json(folder / "metrics.json", document)
        report.write_csv(folder / "metrics.csv", *report.metrics_table(document, options.top_k))
        report.array_sha256(job.a.array)
        if job.a.path is not None:
            report.file_sha256(job.a.path)
        t4 = time.perf_counter()
        for key, value in zip(out, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            out[key].append(value)
    return {k: statistics.median(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841
    work = Path(tempfile.mkdtemp(prefix="shiftlab-bench-export-"))
    try:
        photo = work / "photo.png"
        synthetic_photo(photo)
        image = load_image(photo)
        spec = PipelineSpec(levels=6)
        options = FigureSetOptions()
        print(f"{SHAPE[0]}x{SHAPE[1]} photo, {spec.levels} max-pool levels, formats "
              f"{','.join(options.formats)}, width {options.width} px, "
              f"{args.repeats} repeats, {os.cpu_count()} CPUs")
        cases = {
            "one image": ([], ExportJob(ImageInput(image, str(photo), photo), spec)),
            "with mirror": (["--mirror"], ExportJob(
                ImageInput(image, str(photo), photo), spec,
                ImageInput(mirror(image, axis=1), "mirror"), Transform("mirror", "mirror"))),
        }
        for label, (extra, job) in cases.items():
            target = work / "set"

            def cli(extra=extra, target=target) -> None:
                done = subprocess.run([sys.executable, str(ROOT / "main.py"), "export",
                                       str(photo), "--out", str(target), "--force", "-q",
                                       *extra], capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise SystemExit(f"export failed: {done.stderr}")

            def in_process(job=job, target=target) -> None:
                write_figure_set(target, job, options, force=True)

            cli_s = median_s(cli, args.repeats)
            proc_s = median_s(in_process, args.repeats)
            size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
            scratch = work / "split"
            scratch.mkdir(exist_ok=True)
            parts = split(job, options, scratch, args.repeats)
            print(f"{label:12s} CLI {cli_s:5.2f} s | write_figure_set {proc_s:5.2f} s "
                  f"({size / 1e6:.0f} MB) | split: " +
                  ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
