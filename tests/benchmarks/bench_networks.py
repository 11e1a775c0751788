"""Time the network engine: a bundled digit network, a ResNet-18-sized model against bare
onnxruntime, measure over 1,000 digits, and what a view of a network costs: one input
prepared, run and made into panels (run_network), and the 9x9 shift map (81 shifted
copies in one batch), for the digit networks and the ResNet-18-sized model.

    python tests/benchmarks/bench_networks.py [--repeats N]

The ResNet-18-sized model is built here with PyTorch (random weights; the row says so and
is skipped when torch is not installed). Targets: digits ``run`` at most 5 ms median;
``Network.run`` (every layer kept) at most 1.5x a bare onnxruntime run of the final output.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the engine, and the tests' torch models

from engine import NETWORKS, held_out_digits, load_network, measure  # noqa: E402
from engine.networks import prepare_input, run_network, shift_map  # noqa: E402


def median_ms(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def resnet18_onnx(folder: Path) -> Path | None:
    try:
        import torch
    except ImportError:
        return None

    from torch_models import resnet

    torch.manual_seed(0)
    model = resnet(64, ((64, 1), (128, 2), (256, 2), (512, 2)), 2, 1000).eval()
    path = folder / "resnet18.onnx"
    torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False,
                      opset_version=17, input_names=["image"])
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    print(f"onnxruntime {ort.__version__}, numpy {np.__version__}")
    rows = []
    images, _ = held_out_digits()
    digits = NETWORKS["digits-max"]
    rows.append(("digits-max run (every layer), 28x28",
                 median_ms(lambda: digits.run(images[0]), args.repeats * 10), "<= 5"))
    for name in NETWORKS:
        net = NETWORKS[name]
        prepared = prepare_input(images[0], net)
        rows.append((f"{name} run_network (prepare, run, default panels), 28x28",
                     median_ms(lambda n=net: run_network(n, images[0]), args.repeats * 10), ""))
        rows.append((f"{name} shift map 9x9 (81 runs, a batch per row)",
                     median_ms(lambda n=net, p=prepared: shift_map(n, p), args.repeats * 3), ""))
    with tempfile.TemporaryDirectory() as tmp:
        path = resnet18_onnx(Path(tmp))
        if path is None:
            rows.append(("ResNet-18 224x224", None, "torch not installed: skipped"))
        else:
            net = load_network(path)
            x = np.random.default_rng(0).random((3, 224, 224), dtype=np.float32)
            bare = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            bare_ms = median_ms(lambda: bare.run(None, {"image": x[None]}), args.repeats)
            run_ms = median_ms(lambda: net.run(x), args.repeats)
            rows.append(("ResNet-18 224x224, bare onnxruntime (final output)", bare_ms, ""))
            rows.append((f"ResNet-18 224x224, Network.run ({len(net.layer_names)} layers)",
                         run_ms, f"ratio {run_ms / bare_ms:.2f}x (<= 1.5x)"))
            photo = np.random.default_rng(1).random((400, 600), dtype=np.float32)
            rows.append(("ResNet-18 run_network, 400x600 photo resized to 224x224",
                         median_ms(lambda: run_network(net, photo), args.repeats), ""))
            prepared = prepare_input(photo, net)
            smap_repeats = max(3, args.repeats // 10)
            rows.append((f"ResNet-18 shift map 9x9 (81 runs, a batch per row; median of "
                         f"{smap_repeats})",
                         median_ms(lambda: shift_map(net, prepared), smap_repeats), ""))
    thousand = np.concatenate([images, images])[:1000]
    start = time.perf_counter()
    result = measure(digits, thousand)
    rows.append(("measure, 1,000 digits (11 shifted copies each), digits-max",
                 (time.perf_counter() - start) * 1000, f"{result.pairs} pairs, one run"))
    width = max(len(r[0]) for r in rows)
    for label, ms, note in rows:
        value = "-" if ms is None else f"{ms:10.2f} ms"
        print(f"{label:<{width}}  {value:>13}  {note}")


if __name__ == "__main__":
    main()
