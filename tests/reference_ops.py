"""Slow, plain reference implementations the engine is checked against.

Written with Python loops over ``np.pad`` so that every index is visible; they share
no code with the engine.
"""

from __future__ import annotations

import numpy as np

NUMPY_PAD_MODE = {
    "same": "constant",
    "circular": "wrap",
    "reflect": "reflect",
    "replicate": "edge",
}


def pad_like_torch(x: np.ndarray, kh: int, kw: int, padding: str) -> np.ndarray:
    """Pad k-1 per axis, (k-1)//2 before and the rest after, with numpy's matching mode."""
    x = np.asarray(x, dtype=np.float64)
    if padding == "valid":
        return x
    top, left = (kh - 1) // 2, (kw - 1) // 2
    widths = ((top, kh - 1 - top), (left, kw - 1 - left))
    return np.pad(x, widths, mode=NUMPY_PAD_MODE[padding])


def ref_conv2d(x: np.ndarray, kernel: np.ndarray, padding: str = "valid",
               stride: int = 1) -> np.ndarray:
    """Cross-correlation (no kernel flip), torch.nn.functional.conv2d semantics."""
    k = np.asarray(kernel, dtype=np.float64)
    kh, kw = k.shape
    xp = pad_like_torch(x, kh, kw, padding)
    oh = (xp.shape[0] - kh) // stride + 1
    ow = (xp.shape[1] - kw) // stride + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            total = 0.0
            for a in range(kh):
                for b in range(kw):
                    total += k[a, b] * xp[i * stride + a, j * stride + b]
            out[i, j] = total
    return out


def ref_window_pool(x: np.ndarray, size: int, stride: int, reduce) -> np.ndarray:
    """Apply `reduce` (max or mean) to every size x size window, no padding, floor mode."""
    x = np.asarray(x, dtype=np.float64)
    oh = (x.shape[0] - size) // stride + 1
    ow = (x.shape[1] - size) // stride + 1
    out = np.zeros((oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = [x[i * stride + a, j * stride + b] for a in range(size) for b in range(size)]
            out[i, j] = reduce(window)
    return out


def ref_max_pool(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    return ref_window_pool(x, size, stride, max)


def ref_avg_pool(x: np.ndarray, size: int, stride: int) -> np.ndarray:
    return ref_window_pool(x, size, stride, lambda w: sum(w) / len(w))


def pascal_row(n: int) -> list[int]:
    """Row n-1 of Pascal's triangle: 1 / 1 1 / 1 2 1 / 1 3 3 1 ..."""
    row = [1]
    for _ in range(n - 1):
        row = [1] + [row[i] + row[i + 1] for i in range(len(row) - 1)] + [1]
    return row


def ref_blur(x: np.ndarray, blur_size: int, stride: int) -> np.ndarray:
    """Binomial blur (outer product of Pascal taps, sum 1), reflect padding, sampled with stride."""
    taps = np.array(pascal_row(blur_size), dtype=np.float64)
    k = np.outer(taps, taps)
    k /= k.sum()
    x = np.asarray(x, dtype=np.float64)
    before = (blur_size - 1) // 2
    after = blur_size - 1 - before
    xp = np.pad(x, ((before, after), (before, after)), mode="reflect")
    return ref_conv2d(xp, k, "valid", stride)


def ref_pool(x: np.ndarray, size: int, stride: int, mode: str, blur_size: int = 4) -> np.ndarray:
    """Pooling of every engine mode, written from its definition."""
    if mode == "max":
        return ref_max_pool(x, size, stride)
    if mode == "avg":
        return ref_avg_pool(x, size, stride)
    if mode == "blurmax":
        return ref_blur(ref_max_pool(x, size, 1), blur_size, stride)
    if mode == "blur":
        return ref_blur(x, blur_size, stride)
    if mode == "aps":
        return ref_aps(x)
    raise ValueError(mode)


def ref_aps(x: np.ndarray) -> np.ndarray:
    """Adaptive polyphase sampling, stride 2: an odd side gets its first row (column) again
    at the bottom (right); the phase with the largest sum of squares wins, the first on a tie."""
    x = np.asarray(x, dtype=np.float64)
    h, w = x.shape
    rows = [[float(x[r % h, c % w]) for c in range(w + w % 2)] for r in range(h + h % 2)]
    best, best_norm = None, -1.0
    for i in (0, 1):
        for j in (0, 1):
            phase = [[rows[r][c] for c in range(j, len(rows[0]), 2)]
                     for r in range(i, len(rows), 2)]
            norm = sum(v * v for row in phase for v in row)
            if norm > best_norm:
                best, best_norm = phase, norm
    return np.array(best)


def ref_relu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, 0.0)


def ref_argmax_order(x: np.ndarray) -> list[tuple[int, int, float]]:
    """All cells sorted by value, largest first, ties in row-major order."""
    cells = [(r, c, float(x[r, c])) for r in range(x.shape[0]) for c in range(x.shape[1])]
    return sorted(cells, key=lambda t: (-t[2], t[0], t[1]))
