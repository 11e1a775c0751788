"""Moving an image: translation, mirroring, quarter turns; and how a kernel meets a mirror.

Every function returns a new float32 array and leaves its input untouched.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_image
from .conv import padding_amounts
from .kernels import as_kernel
from .pipeline import PipelineSpec
from .pool import pool_stop_reason


def check_integer(value: object, name: str) -> int:
    """Return `value` as an int, raising ValueError unless it is a (non-bool) integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be a whole number of pixels (an int); got {value!r}.")
    return int(value)


def check_axis(axis: object) -> int:
    """Return `axis` if it is 0 (up-down) or 1 (left-right), else raise ValueError."""
    if isinstance(axis, bool) or axis not in (0, 1):
        raise ValueError(f"axis must be 1 (left-right mirror) or 0 (up-down mirror); got {axis!r}.")
    return int(axis)


def translate(x: np.ndarray, dy: int, dx: int, *, wrap: bool = True) -> np.ndarray:
    """Move the content of `x` down by `dy` and right by `dx` pixels (negative: up, left).

    Parameters
    ----------
    x : (H, W) array
        The image; not modified.
    dy, dx : int
        The shift in pixels.
    wrap : bool
        True: what leaves one edge comes back at the other (``np.roll``, a circular
        shift). False: the uncovered pixels are 0, and a shift at least as large as
        the image leaves nothing but zeros.

    Returns
    -------
    (H, W) float32 array

    Raises
    ------
    ValueError
        For a bad image, or `dy`/`dx` that are not integers.

    Examples
    --------
    >>> translate(np.array([[1.0, 2.0, 3.0]]), 0, 1).tolist()
    [[3.0, 1.0, 2.0]]
    >>> translate(np.array([[1.0, 2.0, 3.0]]), 0, -1, wrap=False).tolist()
    [[2.0, 3.0, 0.0]]
    """
    x = as_image(x)
    dy, dx = check_integer(dy, "dy"), check_integer(dx, "dx")
    return translate_unchecked(x, dy, dx, check_flag(wrap, "wrap"))


def check_flag(value: object, name: str) -> bool:
    """Return `value` if it is True or False, else raise ValueError."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def translate_unchecked(x: np.ndarray, dy: int, dx: int, wrap: bool) -> np.ndarray:
    """translate for an already validated 2-D array (any dtype is kept)."""
    if wrap:
        return np.roll(x, (dy, dx), axis=(0, 1))
    h, w = x.shape
    out = np.zeros_like(x)
    if abs(dy) >= h or abs(dx) >= w:
        return out
    dst_r, src_r = (slice(dy, h), slice(0, h - dy)) if dy >= 0 else (slice(0, h + dy),
                                                                       slice(-dy, h))
    dst_c, src_c = (slice(dx, w), slice(0, w - dx)) if dx >= 0 else (slice(0, w + dx),
                                                                       slice(-dx, w))
    out[dst_r, dst_c] = x[src_r, src_c]
    return out


def translate_into(x: np.ndarray, dy: int, dx: int, wrap: bool, out: np.ndarray) -> np.ndarray:
    """``translate_unchecked(x, dy, dx, wrap)`` written into `out` (same shape and dtype as
    `x`, not `x`); returns `out`.

    When both are C-contiguous the flat buffer is moved by ``dy * W + dx`` in one or two
    long copies (a copy row by row runs at half the speed); that moves each row's first
    `dx` cells in from the neighbouring row, and those columns are then rewritten (or
    zeroed). Otherwise (a map whose rows are padded) each block of :func:`move_blocks` is
    copied.

    Examples
    --------
    >>> x = np.arange(6.0).reshape(2, 3)
    >>> translate_into(x, 1, 1, True, np.empty_like(x)).tolist()
    [[5.0, 3.0, 4.0], [2.0, 0.0, 1.0]]
    """
    h, w = x.shape
    if not (x.flags.c_contiguous and out.flags.c_contiguous):
        if not wrap:
            out.fill(0)
        for (dr, sr), (dc, sc) in move_blocks(h, w, dy, dx, wrap):
            out[dr, dc] = x[sr, sc]
        return out
    src, dst = x.reshape(-1), out.reshape(-1)
    n = src.size
    if wrap:
        dy, dx = dy % h, dx % w
        d = dy * w + dx
        dst[d:] = src[:n - d]
        dst[:d] = src[n - d:]
        if dx:  # column c < dx holds x[(r - dy) % h, c - dx + w]
            out[dy:, :dx] = x[:h - dy, w - dx:]
            out[:dy, :dx] = x[h - dy:, w - dx:]
        return out
    if abs(dy) >= h or abs(dx) >= w:
        out.fill(0)
        return out
    d = dy * w + dx
    if d >= 0:
        dst[d:] = src[:n - d]
        dst[:d] = 0
    else:
        dst[:n + d] = src[-d:]
        dst[n + d:] = 0
    if dx > 0:
        out[:, :dx] = 0
    elif dx < 0:
        out[:, w + dx:] = 0
    if dy > 0:
        out[:dy] = 0
    elif dy < 0:
        out[h + dy:] = 0
    return out


def move_blocks(h: int, w: int, dy: int, dx: int, wrap: bool
            ) -> list[tuple[tuple[slice, slice], tuple[slice, slice]]]:
    """The rectangles of a move by (dy, dx) of an (h, w) map: pairs of (destination,
    source) row slices times (destination, source) column slices; with `wrap` they tile
    the map, without it only the part that stays is listed."""
    def axis(n: int, d: int) -> list[tuple[slice, slice]]:
        if wrap:
            d %= n
            return [(slice(d, n), slice(0, n - d))] + ([(slice(0, d), slice(n - d, n))]
                                                       if d else [])
        if abs(d) >= n:
            return []
        return [(slice(d, n), slice(0, n - d))] if d >= 0 else [(slice(0, n + d),
                                                                 slice(-d, n))]
    return [(r, c) for r in axis(h, dy) for c in axis(w, dx)]


def mirror(x: np.ndarray, axis: int = 1) -> np.ndarray:
    """Mirror `x`: ``axis=1`` swaps left and right, ``axis=0`` swaps top and bottom.

    Returns
    -------
    (H, W) float32 array

    Raises
    ------
    ValueError
        For a bad image or an axis other than 0 or 1.

    Examples
    --------
    >>> mirror(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [[2.0, 1.0], [4.0, 3.0]]
    """
    x = as_image(x)
    axis = check_axis(axis)
    return np.ascontiguousarray(np.flip(x, axis=axis))


def rotate90(x: np.ndarray, k: int = 1) -> np.ndarray:
    """Rotate `x` by `k` quarter turns counter-clockwise (as ``np.rot90``); negative k turns
    clockwise. A non-square image changes shape from (H, W) to (W, H) for odd k.

    Returns
    -------
    float32 array

    Raises
    ------
    ValueError
        For a bad image or a `k` that is not an integer.

    Examples
    --------
    >>> rotate90(np.array([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [[2.0, 4.0], [1.0, 3.0]]
    """
    x = as_image(x)
    k = check_integer(k, "k")
    return np.ascontiguousarray(np.rot90(x, k % 4))


def mirror_kernel(kernel: object, axis: int = 1) -> np.ndarray:
    """Return the kernel mirrored like :func:`mirror` (a name from ``KERNELS`` or values).

    Convolving the mirrored image with the mirrored kernel gives the mirrored result:
    ``conv(mirror(x), mirror_kernel(k)) == mirror(conv(x, k))`` for valid or circular
    padding and odd-sized kernels.

    Raises
    ------
    ValueError
        For an unknown kernel name, bad kernel values, or an axis other than 0 or 1.

    Examples
    --------
    >>> mirror_kernel([[-1, 0, 2]]).tolist()
    [[2.0, 0.0, -1.0]]
    """
    k = as_kernel(kernel)
    axis = check_axis(axis)
    return np.ascontiguousarray(np.flip(k, axis=axis))


def mirror_symmetry(kernel: object, axis: int = 1) -> str:
    """Say how a kernel behaves under a mirror along `axis`.

    Returns
    -------
    str
        ``"symmetric"`` (the mirrored kernel is the kernel), ``"antisymmetric"`` (it is
        the negated kernel) or ``"neither"``. An all-zero kernel counts as symmetric.

    Raises
    ------
    ValueError
        As :func:`mirror_kernel`.

    Examples
    --------
    >>> mirror_symmetry("prewitt_vertical"), mirror_symmetry("prewitt_vertical", axis=0)
    ('antisymmetric', 'symmetric')
    """
    k = as_kernel(kernel)
    flipped = mirror_kernel(k, axis)
    if np.array_equal(flipped, k):
        return "symmetric"
    if np.array_equal(flipped, -k):
        return "antisymmetric"
    return "neither"


_KERNEL_LABELS = {
    "prewitt_vertical": "vertical Prewitt (the article's 'Sobel')",
    "prewitt_horizontal": "horizontal Prewitt",
    "sobel_vertical": "vertical Sobel",
    "sobel_horizontal": "horizontal Sobel",
    "laplacian": "Laplacian",
    "gaussian_blur": "Gaussian blur",
}

_MIRROR_WORDS = {1: "a left-right", 0: "an up-down"}


def mirror_note(spec: PipelineSpec, axis: int = 1,
                shape: tuple[int, int] | None = None) -> str | None:
    """Explain in plain words what mirroring the input does to the pipeline `spec`.

    Mirroring is not a translation, so equivariance says nothing about it. What
    happens depends on the kernel: a kernel that is symmetric under the mirror
    commutes with it (``conv(mirror(x)) == mirror(conv(x))``), an antisymmetric one
    negates (``conv(mirror(x)) == -mirror(conv(x))``, so after ReLU the opposite
    edges light up), and any other kernel finds different features.

    Parameters
    ----------
    spec : PipelineSpec
        The pipeline both images run through.
    axis : int
        1 for a left-right mirror, 0 for up-down.
    shape : (H, W), optional
        The image size. When given, the note also names the first stage whose
        windows do not tile the map symmetrically (a dropped remainder row or
        column, uneven padding), where even a commuting pipeline stops matching
        the mirror exactly.

    Returns
    -------
    str or None
        The note; None when there is nothing to say (no convolution, and the
        pooling commutes with the mirror or `shape` is not given).

    Raises
    ------
    ValueError
        For an axis other than 0 or 1 or a bad `shape`.
    """
    axis = check_axis(axis)
    words = _MIRROR_WORDS[axis]
    parts = []
    if spec.convolve:
        kind = mirror_symmetry(spec.kernel_array, axis)
        label = _KERNEL_LABELS.get(spec.kernel_name, spec.kernel_name.replace("_", " "))
        kernel = f"The {label} kernel"
        if kind == "symmetric":
            parts.append(
                f"Mirroring is not a translation, but {kernel[0].lower()}{kernel[1:]} is "
                f"symmetric under {words} mirror, so conv(mirror(x)) = mirror(conv(x)): the "
                "same features light up, mirrored.")
        elif kind == "antisymmetric":
            parts.append(
                f"Mirroring is not a translation. {kernel} is antisymmetric under {words} "
                f"mirror, so conv(mirror(x)) = -mirror(conv(x)): " + _NEGATION[spec.activation])
        else:
            parts.append(
                f"Mirroring is not a translation. {kernel} is neither symmetric nor "
                f"antisymmetric under {words} mirror, so conv(mirror(x)) is not the mirror "
                "of conv(x): other features light up. Mirror the kernel too and the mirror "
                "commutes.")
    if shape is not None:
        stage = first_asymmetric_stage(spec, shape, axis)
        if stage is not None:
            parts.append(
                f"From the {stage} stage on, the windows do not sit symmetrically in the map "
                f"(a remainder row or column is dropped, or the padding is uneven), so the "
                f"mirrored maps there differ from an exact mirror by up to a cell.")
    return " ".join(parts) or None


_NEGATION = {
    "relu": "after ReLU the opposite edges light up. Mirror the kernel too and the "
            "mirror commutes.",
    "none": "with no activation the mirrored map is negated (bright and dark swap). Mirror "
            "the kernel too and the mirror commutes.",
    "abs": "abs() drops the sign, so the same edges light up, mirrored.",
}


def first_asymmetric_stage(spec: PipelineSpec, shape: tuple[int, int],
                           axis: int = 1) -> str | None:
    """Return the name of the first stage of `spec` on an image of `shape` whose sliding
    windows are not placed symmetrically along `axis`, or None if none is.

    Such a stage drops a remainder on one side only, or pads one side more than the
    other, so it cannot commute exactly with a mirror along that axis even when the
    kernel does.

    Raises
    ------
    ValueError
        For an axis other than 0 or 1 or a `shape` that is not two integers >= 1.
    """
    axis = check_axis(axis)
    if len(shape) != 2 or any(check_integer(n, "shape") < 1 for n in shape):
        raise ValueError(f"shape must be (rows, cols), both >= 1; got {shape!r}.")
    sizes = [int(n) for n in shape]
    if spec.convolve:
        kshape = spec.kernel_array.shape
        pads = padding_amounts(kshape, spec.padding)
        before, after = pads[2 * axis], pads[2 * axis + 1]
        n = sizes[axis] + before + after
        if before != after or (n - kshape[axis]) % spec.stride:
            return "conv"
        sizes = [(m + pads[2 * a] + pads[2 * a + 1] - kshape[a]) // spec.stride + 1
                 for a, m in enumerate(shape)]
        if min(sizes) < 1:
            return None
    size, stride, mode = spec.pool_size, spec.effective_pool_stride, spec.pool_mode
    for level in range(1, spec.levels + 1):
        if pool_stop_reason((sizes[0], sizes[1]), size, stride, mode, spec.blur_size):
            return None
        n = sizes[axis]
        if mode == "aps":  # mirroring swaps the phases of an even side; an odd side is padded
            symmetric = n % 2 == 0
            sizes = [(m + 1) // 2 for m in sizes]
        elif mode in ("max", "avg"):
            symmetric = (n - size) % stride == 0
            sizes = [(m - size) // stride + 1 for m in sizes]
        else:
            # blurmax: a stride-1 max (symmetric), then the blur; blur: the blur alone
            shrink = size - 1 if mode == "blurmax" else 0
            symmetric = spec.blur_size % 2 == 1 and (n - shrink - 1) % stride == 0
            sizes = [(m - shrink - 1) // stride + 1 for m in sizes]
        if not symmetric:
            return f"pool {level}"
    return None
