"""Digits drawn as a person draws them with a mouse on a 28x28 canvas: hard-edged strokes
2 pixels wide, about 20 pixels tall, centred. Made here with OpenCV lines and ellipses;
the bundled networks never saw them."""

from __future__ import annotations

import cv2
import numpy as np

# Per digit, its strokes: ("line", (x0, y0), (x1, y1)) or
# ("arc", (cx, cy), (half width, half height), start degrees, end degrees).
STROKES = {
    0: [("arc", (14, 14), (6, 10), 0, 360)],
    1: [("line", (11, 7), (14, 4)), ("line", (14, 4), (14, 24))],
    2: [("arc", (14, 10), (6, 6), 180, 380), ("line", (19, 13), (8, 24)),
        ("line", (8, 24), (21, 24))],
    3: [("arc", (13, 9), (6, 5), 200, 450), ("arc", (13, 19), (7, 5), 270, 520)],
    4: [("line", (16, 4), (7, 17)), ("line", (7, 17), (21, 17)), ("line", (16, 4), (16, 24))],
    5: [("line", (19, 4), (9, 4)), ("line", (9, 4), (8, 13)),
        ("arc", (13, 18), (7, 6), 210, 480)],
    6: [("arc", (14, 18), (6, 6), 0, 360), ("arc", (19, 18), (11, 14), 180, 260)],
    7: [("line", (8, 5), (20, 5)), ("line", (20, 5), (12, 24))],
    8: [("arc", (14, 9), (5, 5), 0, 360), ("arc", (14, 19), (6, 5), 0, 360)],
    9: [("arc", (14, 9), (6, 5), 0, 360), ("line", (20, 9), (18, 24))],
}


def drawn_digit(digit: int) -> np.ndarray:
    """The drawn `digit` (0-9) as a (28, 28) float32 array, 1 on 0."""
    canvas = np.zeros((28, 28), np.uint8)
    for kind, *args in STROKES[digit]:
        if kind == "line":
            cv2.line(canvas, *args, 255, 2)
        else:
            center, axes, start, end = args
            cv2.ellipse(canvas, center, axes, 0, start, end, 255, 2)
    return (canvas > 0).astype(np.float32)
