"""Argument checks shared by the engine's public functions."""

from __future__ import annotations

import cv2
import numpy as np


def as_image(x: object, name: str = "x") -> np.ndarray:
    """Return `x` as a C-contiguous 2-D float32 array, validated.

    The input is never modified; it is copied only when its dtype or layout
    requires it.

    Raises
    ------
    ValueError
        If `x` is not 2-D, is empty, or holds NaN or infinite values.
    """
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D array (rows, cols); got {arr.ndim}-D with shape {arr.shape}. "
            "Convert colour images to grey first (engine.load_image does)."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); give it at least 1 row and column.")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must hold real numbers; got dtype {arr.dtype}.")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    check_finite(arr, name)
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ValueError if `arr` holds NaN or infinity.

    A sum is a cheap first test (about 2 ms on 12 MP with OpenCV, which adds in double
    precision, so finite float32 values never overflow it); only when it is not finite
    is every element checked.
    """
    if arr.dtype == np.float32 and np.isfinite(cv2.sumElems(arr)[0]):
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.unravel_index(int(np.argmax(bad)), arr.shape)
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s), the first at ({r}, {c}); "
            "replace them (e.g. np.nan_to_num) before running the pipeline."
        )


def positive_int(value: object, name: str, maximum: int | None = None) -> int:
    """Return `value` as an int, raising ValueError unless it is an integer >= 1 (and
    <= `maximum` when given)."""
    return bounded_int(value, name, 1, maximum)


def bounded_int(value: object, name: str, minimum: int, maximum: int | None = None) -> int:
    """Return `value` as an int, raising ValueError unless it is an integer within
    ``minimum..maximum`` (no upper bound when `maximum` is None); the message names `name`
    and the range."""
    span = f">= {minimum}" if maximum is None else f"within {minimum}..{maximum}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer {span}; got {value!r}.")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {span}; got {value}.")
    return int(value)


def choice(value: object, name: str, options: tuple[str, ...]) -> str:
    """Return `value` if it is one of `options`, else raise ValueError listing them."""
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; use one of: {', '.join(options)}.")
    return str(value)
