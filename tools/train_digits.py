"""Train ShiftLab's bundled digit networks and export them to ONNX (development only).

    pip install -e '.[train]'
    python tools/train_digits.py            # writes resources/networks/

Three networks identical but for how they downsample (28 -> 14 -> 7):

- ``digits-max``: 2x2 max pooling, stride 2;
- ``digits-blurmax``: MaxBlurPool (Zhang 2019): 2x2 max with stride 1, then a 4-tap
  binomial blur with stride 2;
- ``digits-aps``: adaptive polyphase sampling (Chaman & Dokmanic 2021): of the four
  stride-2 phases, the one with the largest L2 norm.

Each is conv 3x3 (16) - BN - ReLU - down - conv 3x3 (32) - BN - ReLU - down - conv 3x3
(64) - BN - ReLU - global average pool - linear (10), with circular padding in every
convolution and pooling step, so the APS network's answer is exactly invariant to circular
shifts of its input.

Data, all offline: scikit-learn's bundled handwritten digits (1,797 real 8x8 scans) and
digits drawn with OpenCV's Hershey fonts, each under random rotation, scale, shear and
stroke width. Every digit is fitted into a 20x20 box and centred by its centre of mass in
28x28 (the MNIST convention), white on black in [0, 1]; a third are then thresholded (and
some thickened) to look like digits drawn with a mouse on ShiftLab's canvas. No shift
augmentation: the max network should show what max pooling does to a one-pixel shift. A
held-out split of the real digits (never trained on) is saved as ``digits-test.npz``.

Seeded; about four minutes on one CPU core. torch is used here only: the app runs
the exported ONNX files with onnxruntime.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np
import onnx
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import nn

OUT = Path(__file__).resolve().parents[1] / "resources" / "networks"
LABELS = [str(d) for d in range(10)]
VARIANTS = ("max", "blurmax", "aps")
SIZE, BOX = 28, 20
HELD_OUT = 500
BATCH = 128
DRAWN_SHARE = 0.35  # the share of training digits given a hard-edged, mouse-drawn look
HERSHEY = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX,
           cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
           cv2.FONT_HERSHEY_SCRIPT_COMPLEX)


# ------------------------------------------------------------------------------------ data
def fit_and_centre(img: np.ndarray) -> np.ndarray:
    """Fit the ink's bounding box into BOX x BOX (aspect kept) and centre it by its centre
    of mass in SIZE x SIZE; float32 in [0, 1]."""
    ys, xs = np.nonzero(img > 0.05)
    if len(ys) == 0:
        return np.zeros((SIZE, SIZE), np.float32)
    crop = img[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    scale = BOX / max(crop.shape)
    h, w = (max(1, round(n * scale)) for n in crop.shape)
    crop = np.clip(cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if scale < 1
                              else cv2.INTER_CUBIC), 0, 1)
    total = crop.sum()
    cy = (crop.sum(axis=1) * np.arange(h)).sum() / total
    cx = (crop.sum(axis=0) * np.arange(w)).sum() / total
    top = int(np.clip(round(SIZE / 2 - 0.5 - cy), 0, SIZE - h))
    left = int(np.clip(round(SIZE / 2 - 0.5 - cx), 0, SIZE - w))
    out = np.zeros((SIZE, SIZE), np.float32)
    out[top:top + h, left:left + w] = crop
    return out


def jitter(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random rotation (+-12 degrees), scale (0.85-1.15) and shear (+-0.2) about the centre,
    and a random stroke width (thinner or thicker); no translation survives fit_and_centre."""
    h, w = img.shape
    a = np.deg2rad(rng.uniform(-12, 12))
    s = rng.uniform(0.85, 1.15)
    sh = rng.uniform(-0.2, 0.2)
    m = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) @ [[1, sh], [0, 1]]
    c = np.array([w / 2, h / 2])
    affine = np.hstack([m, (c - m @ c)[:, None]]).astype(np.float32)
    out = cv2.warpAffine(img, affine, (w, h), flags=cv2.INTER_LINEAR)
    k = int(rng.integers(-1, 2))
    if k:
        kernel = np.ones((2, 2), np.uint8)
        out = cv2.dilate(out, kernel) if k > 0 else cv2.erode(out, kernel)
    return out


def drawn_look(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Make a centred digit look drawn with a mouse: hard-edged (thresholded), sometimes
    with strokes thickened by a symmetric 3x3 cross, which moves nothing."""
    out = (img > rng.uniform(0.25, 0.6)).astype(np.float32)
    if rng.random() < 0.4:
        out = cv2.dilate(out, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)))
    return out


def sklearn_digit(img8: np.ndarray) -> np.ndarray:
    """An 8x8 scan (0..16) upscaled to 40x40 on a 64x64 canvas, in [0, 1]."""
    big = cv2.resize(img8.astype(np.float32) / 16.0, (40, 40), interpolation=cv2.INTER_CUBIC)
    canvas = np.zeros((64, 64), np.float32)
    canvas[12:52, 12:52] = np.clip(big, 0, 1)
    return canvas


def hershey_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    """One digit drawn with a random Hershey font and stroke width on a 64x64 canvas."""
    canvas = np.zeros((64, 64), np.uint8)
    font = HERSHEY[int(rng.integers(len(HERSHEY)))] | (cv2.FONT_ITALIC * int(rng.random() < 0.3))
    thickness = int(rng.integers(2, 6))
    cv2.putText(canvas, str(digit), (18, 48), font, 1.4, 255, thickness, cv2.LINE_AA)
    return canvas.astype(np.float32) / 255


def make_data(seed: int, hershey_per_digit: int, sklearn_copies: int):
    """Training and held-out arrays: (N, 28, 28) float32 and (N,) int64 labels."""
    rng = np.random.default_rng(seed)
    digits = load_digits()
    order = rng.permutation(len(digits.target))
    test_idx, train_idx = order[:HELD_OUT], order[HELD_OUT:]
    test_x = np.stack([fit_and_centre(sklearn_digit(digits.images[i])) for i in test_idx])
    test_y = digits.target[test_idx].astype(np.int64)
    xs, ys = [], []
    for i in train_idx:
        base = sklearn_digit(digits.images[i])
        xs.append(fit_and_centre(base))
        ys.append(digits.target[i])
        for _ in range(sklearn_copies):
            xs.append(fit_and_centre(jitter(base, rng)))
            ys.append(digits.target[i])
    for d in range(10):
        for _ in range(hershey_per_digit):
            xs.append(fit_and_centre(jitter(hershey_digit(d, rng), rng)))
            ys.append(d)
    for k in rng.choice(len(xs), int(DRAWN_SHARE * len(xs)), replace=False):
        xs[k] = drawn_look(xs[k], rng)
    return np.stack(xs), np.array(ys, np.int64), test_x, test_y


# ------------------------------------------------------------------------------------ model
def circular_pad(x: torch.Tensor, before: int, after: int) -> torch.Tensor:
    return F.pad(x, (before, after, before, after), mode="circular")


class MaxDown(nn.Module):
    def forward(self, x):
        return F.max_pool2d(x, 2, 2)


class MaxBlurDown(nn.Module):
    """Max 2x2 stride 1 (circular), then the 4-tap binomial blur with stride 2 (circular)."""

    def __init__(self, channels: int):
        super().__init__()
        taps = torch.tensor([1.0, 3.0, 3.0, 1.0])
        kernel = torch.outer(taps, taps) / taps.sum() ** 2
        self.register_buffer("kernel", kernel.expand(channels, 1, 4, 4).contiguous())
        self.channels = channels

    def forward(self, x):
        x = F.max_pool2d(circular_pad(x, 0, 1), 2, 1)
        return F.conv2d(circular_pad(x, 1, 2), self.kernel, stride=2, groups=self.channels)


class ApsDown(nn.Module):
    """Adaptive polyphase sampling, stride 2 (even sides). Written as a sum of the four
    phases gated by a one-hot choice so that the exported graph keeps NCHW maps: the
    choice multiplies by exactly 1 and 0, so the output is the chosen phase bit for bit."""

    def forward(self, x):
        phases = [x[:, :, i::2, j::2] for i in (0, 1) for j in (0, 1)]
        norms = torch.cat([p.pow(2).sum(dim=(1, 2, 3), keepdim=True) for p in phases], dim=1)
        choice = F.one_hot(norms.flatten(1).argmax(dim=1), 4).to(x.dtype)  # ties: the first
        out = phases[0] * choice[:, 0].view(-1, 1, 1, 1)
        for k in (1, 2, 3):
            out = out + phases[k] * choice[:, k].view(-1, 1, 1, 1)
        return out


class CircularConv(nn.Conv2d):
    def __init__(self, cin: int, cout: int):
        super().__init__(cin, cout, 3, padding=1, padding_mode="circular")


class DigitNet(nn.Module):
    def __init__(self, variant: str):
        super().__init__()
        widths = (16, 32, 64)

        def down(c: int) -> nn.Module:
            return {"max": MaxDown(), "blurmax": MaxBlurDown(c), "aps": ApsDown()}[variant]

        self.features = nn.Sequential(
            CircularConv(1, widths[0]), nn.BatchNorm2d(widths[0]), nn.ReLU(), down(widths[0]),
            CircularConv(widths[0], widths[1]), nn.BatchNorm2d(widths[1]), nn.ReLU(),
            down(widths[1]),
            CircularConv(widths[1], widths[2]), nn.BatchNorm2d(widths[2]), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.classifier = nn.Linear(widths[2], 10)

    def forward(self, x):
        return self.classifier(self.features(x))


# ------------------------------------------------------------------------------------ train
def train(variant: str, x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> DigitNet:
    torch.manual_seed(seed)
    model = DigitNet(variant)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    batches = len(x) // BATCH
    steps = epochs * batches
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1e-2, total_steps=steps)
    tx, ty = torch.tensor(x[:, None]), torch.tensor(y)
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(tx), generator=gen)
        total = 0.0
        for b in range(batches):
            idx = perm[b * BATCH:(b + 1) * BATCH]
            loss = F.cross_entropy(model(tx[idx]), ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach())
        print(f"  {variant} epoch {epoch + 1}/{epochs}: loss {total / batches:.4f}",
              flush=True)
    return model.eval()


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with torch.no_grad():
        pred = model(torch.tensor(x[:, None])).argmax(1).numpy()
    return float((pred == y).mean())


def export(model: nn.Module, variant: str, out: Path, test_accuracy: float) -> Path:
    path = out / f"digits-{variant}.onnx"
    torch.onnx.export(model, (torch.zeros(1, 1, SIZE, SIZE),), str(path), dynamo=False,
                      opset_version=17, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load(str(path))
    for key, value in (("labels", json.dumps(LABELS)),
                       ("description", f"ShiftLab digits, {variant} downsampling; 28x28 grey, "
                        "white digit on black in [0, 1]; outputs logits"),
                       ("held_out_accuracy", f"{test_accuracy:.4f}")):
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    # One thread: on a shared two-core machine, two torch threads ran 25x slower here.
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--hershey-per-digit", type=int, default=600)
    parser.add_argument("--sklearn-copies", type=int, default=4)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    x, y, test_x, test_y = make_data(args.seed, args.hershey_per_digit, args.sklearn_copies)
    # The held-out digits are stored as 8-bit grey; evaluate on exactly what is stored.
    test_u8 = np.round(test_x * 255).astype(np.uint8)
    np.savez_compressed(args.out / "digits-test.npz", images=test_u8,
                        labels=test_y.astype(np.uint8))
    test_x = test_u8.astype(np.float32) / 255
    print(f"data: {len(x)} training digits, {len(test_x)} held out "
          f"({time.perf_counter() - start:.0f} s)", flush=True)
    for variant in VARIANTS:
        model = train(variant, x, y, args.epochs, args.seed)
        acc = accuracy(model, test_x, test_y)
        path = export(model, variant, args.out, acc)
        print(f"{path.name}: held-out accuracy {acc:.4f} ({len(test_x)} digits), "
              f"{path.stat().st_size / 1024:.0f} KiB ({time.perf_counter() - start:.0f} s)",
              flush=True)


if __name__ == "__main__":
    main()
