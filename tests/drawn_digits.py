"""Digits drawn as a person draws them with a mouse on a 28x28 canvas: hard-edged strokes
2 pixels wide, about 20 pixels tall, centred. Made here with OpenCV lines and ellipses;
the bundled networks never saw them."""

from __future__ import annotations

import cv2
import numpy as np


def _strokes(digit: int, c: np.ndarray) -> None:
    line, ellipse, w = cv2.line, cv2.ellipse, 2
    if digit == 0:
        ellipse(c, (14, 14), (6, 10), 0, 0, 360, 255, w)
    elif digit == 1:
        line(c, (11, 7), (14, 4), 255, w)
        line(c, (14, 4), (14, 24), 255, w)
    elif digit == 2:
        ellipse(c, (14, 10), (6, 6), 0, 180, 380, 255, w)
        line(c, (19, 13), (8, 24), 255, w)
        line(c, (8, 24), (21, 24), 255, w)
    elif digit == 3:
        ellipse(c, (13, 9), (6, 5), 0, 200, 450, 255, w)
        ellipse(c, (13, 19), (7, 5), 0, 270, 520, 255, w)
    elif digit == 4:
        line(c, (16, 4), (7, 17), 255, w)
        line(c, (7, 17), (21, 17), 255, w)
        line(c, (16, 4), (16, 24), 255, w)
    elif digit == 5:
        line(c, (19, 4), (9, 4), 255, w)
        line(c, (9, 4), (8, 13), 255, w)
        ellipse(c, (13, 18), (7, 6), 0, 210, 480, 255, w)
    elif digit == 6:
        ellipse(c, (14, 18), (6, 6), 0, 0, 360, 255, w)
        ellipse(c, (19, 18), (11, 14), 0, 180, 260, 255, w)
    elif digit == 7:
        line(c, (8, 5), (20, 5), 255, w)
        line(c, (20, 5), (12, 24), 255, w)
    elif digit == 8:
        ellipse(c, (14, 9), (5, 5), 0, 0, 360, 255, w)
        ellipse(c, (14, 19), (6, 5), 0, 0, 360, 255, w)
    elif digit == 9:
        ellipse(c, (14, 9), (6, 5), 0, 0, 360, 255, w)
        line(c, (20, 9), (18, 24), 255, w)


def drawn_digit(digit: int) -> np.ndarray:
    """The drawn `digit` (0-9) as a (28, 28) float32 array, 1 on 0."""
    canvas = np.zeros((28, 28), np.uint8)
    _strokes(digit, canvas)
    return (canvas > 0).astype(np.float32)
