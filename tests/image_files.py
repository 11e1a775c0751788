"""Small image files written by tests."""

from __future__ import annotations

import cv2
import numpy as np


def write_png(path, rows=24, cols=32, seed=0):
    img = (np.random.default_rng(seed).random((rows, cols)) * 255).astype(np.uint8)
    assert cv2.imwrite(str(path), img)
    return img
