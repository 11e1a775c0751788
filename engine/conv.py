"""Convolution (cross-correlation, as in CNNs) and activations."""

from __future__ import annotations

import cv2
import numpy as np

from ._checks import as_image, choice, positive_int
from .kernels import as_kernel

PADDINGS = ("valid", "same", "circular", "reflect", "replicate")
ACTIVATIONS = ("relu", "none", "abs")

#: OpenCV border types of the padded modes.
BORDER_TYPES = {
    "same": cv2.BORDER_CONSTANT,
    "circular": cv2.BORDER_WRAP,
    "reflect": cv2.BORDER_REFLECT_101,  # torch/numpy "reflect": the edge pixel is not repeated
    "replicate": cv2.BORDER_REPLICATE,
}


def padding_amounts(kernel_shape: tuple[int, int], padding: str) -> tuple[int, int, int, int]:
    """Return ``(top, bottom, left, right)`` padding for a kernel shape and mode.

    The total per axis is k-1 for padded modes, (k-1)//2 before and the rest after;
    zero for ``"valid"``.
    """
    if padding == "valid":
        return 0, 0, 0, 0
    kh, kw = kernel_shape
    return (kh - 1) // 2, kh - 1 - (kh - 1) // 2, (kw - 1) // 2, kw - 1 - (kw - 1) // 2


def conv2d(x: np.ndarray, kernel: object, *, padding: str = "valid", stride: int = 1) -> np.ndarray:
    """Cross-correlate `x` with `kernel` exactly as ``torch.nn.functional.conv2d`` does.

    Parameters
    ----------
    x : (H, W) array
        Input image; not modified.
    kernel : (kh, kw) array or str
        Kernel values (not flipped) or a name from ``KERNELS``.
    padding : {"valid", "same", "circular", "reflect", "replicate"}
        "valid" pads nothing; the others pad k-1 per axis ((k-1)//2 before, the
        rest after) with zeros, wrap-around, mirror (edge not repeated) or edge copies.
    stride : int
        Step between output cells, >= 1.

    Returns
    -------
    (floor((Hp - kh) / stride) + 1, floor((Wp - kw) / stride) + 1) float32 array
        Hp, Wp being the padded size.

    Raises
    ------
    ValueError
        For a bad image or kernel, an unknown padding, a stride below 1, a kernel
        larger than the padded input, or reflect padding wider than the image.

    Examples
    --------
    >>> conv2d(np.eye(3), np.ones((2, 2))).tolist()
    [[2.0, 1.0], [1.0, 2.0]]
    """
    x = as_image(x)
    k = as_kernel(kernel)
    padding = choice(padding, "padding", PADDINGS)
    stride = positive_int(stride, "stride")
    check_conv_fits(x.shape, k.shape, padding)
    return conv2d_unchecked(x, k, padding, stride)


def check_conv_fits(shape: tuple[int, int], kshape: tuple[int, int], padding: str) -> None:
    """Raise ValueError if a kernel of `kshape` cannot slide over `shape` with `padding`."""
    top, bottom, left, right = padding_amounts(kshape, padding)
    ph, pw = shape[0] + top + bottom, shape[1] + left + right
    if kshape[0] > ph or kshape[1] > pw:
        raise ValueError(
            f"kernel {kshape} is larger than the padded input ({ph}, {pw}); use a smaller kernel, "
            "a padded mode, or a larger image."
        )
    if padding == "reflect" and (max(top, bottom) >= shape[0] or max(left, right) >= shape[1]):
        raise ValueError(
            f"reflect padding of {kshape} needs an image larger than the padding on each axis; "
            f"got {shape}. Use 'replicate' or a larger image."
        )


def conv2d_unchecked(x: np.ndarray, k: np.ndarray, padding: str, stride: int, *,
                     contiguous: bool = True) -> np.ndarray:
    """conv2d for already validated float32 arguments (the pipeline's hot path).

    With ``contiguous=False`` and stride 1 the result is a row-padded view of OpenCV's
    output (rows keep its longer pitch), which saves a copy of the whole map.
    """
    top, bottom, left, right = padding_amounts(k.shape, padding)
    if padding != "valid":
        x = cv2.copyMakeBorder(x, top, bottom, left, right, BORDER_TYPES[padding], value=0.0)
    oh, ow = x.shape[0] - k.shape[0] + 1, x.shape[1] - k.shape[1] + 1
    # Anchor (0, 0) makes out[i, j] = sum k[a, b] * x[i + a, j + b] for the valid
    # cells; the cells beyond them read OpenCV's border and are cut off below.
    full = cv2.filter2D(x, cv2.CV_32F, k, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    out = full[:oh:stride, :ow:stride]
    return out if stride == 1 and not contiguous else np.ascontiguousarray(out)


def relu(x: np.ndarray) -> np.ndarray:
    """Return ``max(x, 0)`` as a new float32 array.

    Examples
    --------
    >>> relu(np.array([[-1.0, 2.0]])).tolist()
    [[0.0, 2.0]]
    """
    return np.maximum(as_image(x), np.float32(0))


def activate(x: np.ndarray, activation: str) -> np.ndarray:
    """Apply ``"relu"``, ``"abs"`` or ``"none"`` to `x`, returning a new array.

    Raises
    ------
    ValueError
        If `activation` is unknown.
    """
    activation = choice(activation, "activation", ACTIVATIONS)
    x = as_image(x)
    return activate_owned(x.copy(), activation)


def activate_owned(x: np.ndarray, activation: str) -> np.ndarray:
    """Apply an activation in place to an array the caller owns, and return it."""
    if activation == "relu":
        # x if x > 0 else 0, in place; OpenCV's threshold runs several times faster than
        # np.maximum on large maps.
        cv2.threshold(x, 0.0, 0.0, cv2.THRESH_TOZERO, dst=x)
    elif activation == "abs":
        np.abs(x, out=x)
    return x
