"""Named convolution kernels (float32, cross-correlation orientation)."""

from __future__ import annotations

import numpy as np

from ._checks import check_finite


def _k(rows: list[list[float]], scale: float = 1.0) -> np.ndarray:
    arr = np.array(rows, dtype=np.float32) * np.float32(scale)
    arr.setflags(write=False)
    return arr


#: Kernel name -> read-only 2-D float32 array. ``prewitt_vertical``, ``[[-1, 0, 1]] * 3``,
#: is the article's filter, which the article calls Sobel: it responds to vertical edges.
#: The true Sobel weights the middle row twice (``sobel_vertical``).
KERNELS: dict[str, np.ndarray] = {
    "identity": _k([[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "prewitt_vertical": _k([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
    "prewitt_horizontal": _k([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
    "sobel_vertical": _k([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]),
    "sobel_horizontal": _k([[-1, -2, -1], [0, 0, 0], [1, 2, 1]]),
    "laplacian": _k([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "sharpen": _k([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "box_blur": _k([[1, 1, 1], [1, 1, 1], [1, 1, 1]], 1 / 9),
    "gaussian_blur": _k([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
}
#: The names older ShiftLab versions (session format 1) gave these kernels: their
#: "sobel" was Prewitt's kernel, and "sobel3" the true Sobel.
FORMER_NAMES = {
    "sobel_vertical": "prewitt_vertical",
    "sobel_horizontal": "prewitt_horizontal",
    "sobel3_vertical": "sobel_vertical",
    "sobel3_horizontal": "sobel_horizontal",
}


#: The largest magnitude a kernel value may have. Inputs lie in [0, 1], so a 7x7 kernel at
#: this limit keeps every map below 5e7 and every squared norm of a 12 MP map far below
#: float32's 3.4e38; much larger values only overflow into inf and NaN maps.
KERNEL_VALUE_LIMIT = 1e6


def as_kernel(kernel: object, name: str = "kernel") -> np.ndarray:
    """Return `kernel` as a 2-D float32 array; a string is looked up in KERNELS.

    Raises
    ------
    ValueError
        If the name is unknown, or the array is not 2-D, empty, not finite, or holds a
        value beyond ±KERNEL_VALUE_LIMIT (the message names the first such cell).

    Examples
    --------
    >>> as_kernel("identity").shape
    (3, 3)
    """
    if isinstance(kernel, str):
        if kernel not in KERNELS:
            raise ValueError(f"unknown {name} {kernel!r}; use one of: {', '.join(KERNELS)}.")
        return KERNELS[kernel]
    arr = np.asarray(kernel, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (rows, cols); got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); give it at least 1x1 values.")
    check_finite(arr, name)
    big = np.abs(arr) > KERNEL_VALUE_LIMIT
    if big.any():
        r, c = (int(i) for i in np.argwhere(big)[0])
        raise ValueError(
            f"{name} value {arr[r, c]:g} at row {r + 1}, column {c + 1} is beyond "
            f"±{KERNEL_VALUE_LIMIT:g}; inputs lie in [0, 1], so such a kernel only overflows "
            "into infinite maps: scale it down.")
    return arr.astype(np.float32)


def parse_kernel_text(text: str) -> np.ndarray:
    """Parse ``"a,b,c;d,e,f;g,h,i"`` (rows split by ``;``) into a float32 kernel.

    Raises
    ------
    ValueError
        If a value is not a number or the rows differ in length.

    Examples
    --------
    >>> parse_kernel_text("1,0;0,-1").tolist()
    [[1.0, 0.0], [0.0, -1.0]]
    """
    rows = [r for r in text.replace("\n", ";").split(";") if r.strip()]
    if not rows:
        raise ValueError("kernel text is empty; write rows like '1,0,-1;2,0,-2;1,0,-1'.")
    values: list[list[float]] = []
    for i, row in enumerate(rows):
        try:
            values.append([float(v) for v in row.replace(" ", ",").split(",") if v.strip()])
        except ValueError:
            raise ValueError(
                f"kernel row {i + 1} ({row.strip()!r}) holds something that is not a number; "
                "write numbers separated by commas, rows by semicolons."
            ) from None
    widths = {len(r) for r in values}
    if len(widths) != 1:
        raise ValueError(
            f"kernel rows differ in length ({sorted(widths)}); every row needs the same count."
        )
    return as_kernel(values)
