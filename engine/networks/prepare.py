"""Making an image into a network's input: size, channels, scale, and the class names.

A ShiftLab image is grey, ``(H, W)`` float32 in [0, 1] (:func:`engine.load_image`). A
network takes ``(C, H, W)`` of a fixed size. :func:`prepare_input` fits the image to the
size the model asks for (resized, or scaled to cover and centre-cropped; an axis the model
leaves free keeps its size), repeats grey over the channels, and normalises each channel
as ``(pixel - mean) / std``. What was done is reported in words (``"resized 400x600 ->
224x224"``), so it can be shown beside the input.

The bundled digit networks were trained on 28x28 digits, white on black in [0, 1]: their
default is no normalisation (mean 0, std 1). A user's three-channel model defaults to
ImageNet's mean and standard deviation; any other model to mean 0, std 1.

>>> from engine import NETWORKS
>>> p = prepare_input(np.zeros((28, 28), np.float32), NETWORKS["digits-max"])
>>> p.x.shape, p.note
((1, 28, 28), 'kept 28x28')
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from resources import NETWORK_NAMES, network_path

from .._checks import as_image, choice
from ..image_io import open_regular
from .model import Network

__all__ = ["FITS", "IMAGENET_MEAN", "IMAGENET_STD", "InputPreparation", "LabelsError",
           "PreparedInput", "is_bundled", "prepare_input", "read_labels"]

#: How an image is fitted to the model's input size.
FITS = ("resize", "crop")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: The largest labels file read, in bytes.
MAX_LABELS_BYTES = 4 << 20


class LabelsError(ValueError):
    """A labels file cannot be used; the message names the file and the reason."""


def is_bundled(network: Network) -> bool:
    """True for one of the bundled digit networks (``engine.NETWORKS``)."""
    return network.name in NETWORK_NAMES and Path(network.path) == network_path(network.name)


@dataclass(frozen=True)
class InputPreparation:
    """How an image becomes a network's input.

    Attributes
    ----------
    fit : {"resize", "crop"}
        "resize": stretch to the model's size. "crop": scale (keeping the aspect ratio) so
        the image covers the size, then cut the centre.
    mean, std : tuple of float or None
        Per channel (or one value for all); None: the network's default (see the module
        notes).

    Raises
    ------
    ValueError
        For an unknown fit, an empty, non-finite mean, or a std that is not positive.
    """

    fit: str = "resize"
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        choice(self.fit, "fit", FITS)
        for name in ("mean", "std"):
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise ValueError(f"{name} must be a sequence of numbers (one per channel, or "
                                 f"one for all); got {value!r}.")
            values = tuple(float(v) for v in value)
            if not values or not all(np.isfinite(values)):
                raise ValueError(f"{name} must hold one or more finite numbers; got {value!r}.")
            if name == "std" and min(values) <= 0:
                raise ValueError(f"std must be positive for every channel; got {values}.")
            object.__setattr__(self, name, values)

    def resolved(self, network: Network, channels: int) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)`` as ``(channels,)`` float32 arrays for `network`.

        Raises
        ------
        ValueError
            If a mean or std has neither one value nor one per channel.
        """
        default_mean, default_std = (0.0,), (1.0,)
        if channels == 3 and not is_bundled(network):
            default_mean, default_std = IMAGENET_MEAN, IMAGENET_STD
        out = []
        for name, given, default in (("mean", self.mean, default_mean),
                                     ("std", self.std, default_std)):
            values = default if given is None else given
            if len(values) not in (1, channels):
                raise ValueError(f"{name} has {len(values)} values, but network "
                                 f"{network.name!r} takes {channels} channel(s); give one "
                                 "value or one per channel.")
            out.append(np.broadcast_to(np.asarray(values, np.float32), (channels,)).copy())
        return out[0], out[1]


@dataclass(frozen=True, eq=False)
class PreparedInput:
    """An image made into a network's input.

    Attributes
    ----------
    pixels : (C, H, W) float32 array, read-only
        The fitted image in [0, 1] before normalisation (grey repeated over channels).
    x : (C, H, W) float32 array, read-only
        What the network is given: ``(pixels - mean) / std`` per channel.
    mean, std : (C,) float32 arrays
    fit : str
        As asked (see :class:`InputPreparation`).
    source_shape : (int, int)
        The image's shape before fitting.
    note : str
        What was done, e.g. ``"resized 400x600 -> 224x224"``, ``"kept 28x28"``.
    """

    pixels: np.ndarray = field(repr=False)
    x: np.ndarray = field(repr=False)
    mean: np.ndarray = field(repr=False)
    std: np.ndarray = field(repr=False)
    fit: str
    source_shape: tuple[int, int]
    note: str

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the network's input."""
        return self.x.shape[1], self.x.shape[2]

    def normalize(self, pixels: np.ndarray) -> np.ndarray:
        """``(pixels - mean) / std`` for ``(..., C, H, W)`` pixels such as shifted copies."""
        return _normalize(pixels, self.mean, self.std)


def _normalize(pixels: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    shape = (-1, 1, 1)
    return ((np.asarray(pixels, np.float32) - mean.reshape(shape))
            / std.reshape(shape)).astype(np.float32)


def prepare_input(image: np.ndarray, network: Network,
                  preparation: InputPreparation | None = None) -> PreparedInput:
    """Fit a grey image to `network`'s input and normalise it.

    Parameters
    ----------
    image : (H, W) array
        Grey, in [0, 1] (as :func:`engine.load_image` gives).
    network : Network
    preparation : InputPreparation, optional
        Fit, mean and std (the network's defaults when None).

    Returns
    -------
    PreparedInput

    Raises
    ------
    ValueError
        For a bad image, or a mean or std that does not match the channels.

    Examples
    --------
    >>> from engine import NETWORKS
    >>> p = prepare_input(np.ones((56, 84), np.float32), NETWORKS["digits-max"],
    ...                   InputPreparation("crop"))
    >>> p.note
    'scaled 56x84 -> 28x42, centre-cropped to 28x28'
    """
    img = as_image(image, "image")
    preparation = InputPreparation() if preparation is None else preparation
    if not isinstance(preparation, InputPreparation):
        raise ValueError(f"preparation must be an InputPreparation; got {preparation!r}.")
    c, h, w = network.input_shape
    channels = 1 if c is None else c
    target = (img.shape[0] if h is None else h, img.shape[1] if w is None else w)
    fitted, note = _fit(img, target, preparation.fit)
    pixels = np.ascontiguousarray(np.broadcast_to(fitted, (channels, *fitted.shape)),
                                  dtype=np.float32)
    mean, std = preparation.resolved(network, channels)
    x = _normalize(pixels, mean, std)
    for arr in (pixels, x, mean, std):
        arr.setflags(write=False)
    return PreparedInput(pixels, x, mean, std, preparation.fit,
                         (int(img.shape[0]), int(img.shape[1])), note)


def _size(shape: Sequence[int]) -> str:
    return f"{shape[0]}x{shape[1]}"


def _resize(img: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    if img.shape == shape:
        return img
    shrink = shape[0] <= img.shape[0] and shape[1] <= img.shape[1]
    out = cv2.resize(img, (shape[1], shape[0]),
                     interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0) if img.min() >= 0 and img.max() <= 1 else out


def _fit(img: np.ndarray, target: tuple[int, int], fit: str) -> tuple[np.ndarray, str]:
    if img.shape == target:
        return img, f"kept {_size(target)}"
    if fit == "resize":
        return _resize(img, target), f"resized {_size(img.shape)} -> {_size(target)}"
    scale = max(target[0] / img.shape[0], target[1] / img.shape[1])
    scaled = (max(target[0], round(img.shape[0] * scale)),
              max(target[1], round(img.shape[1] * scale)))
    big = _resize(img, scaled)
    top, left = (scaled[0] - target[0]) // 2, (scaled[1] - target[1]) // 2
    out = big[top:top + target[0], left:left + target[1]]
    text = f"centre-cropped to {_size(target)}"
    if scaled != img.shape:
        text = f"scaled {_size(img.shape)} -> {_size(scaled)}, " + text
    return np.ascontiguousarray(out), text


def read_labels(path: str | os.PathLike, classes: int | None = None) -> tuple[str, ...]:
    """Read class names from a text file, one per line (UTF-8; blank lines at the end
    are ignored).

    Parameters
    ----------
    path : str or path-like
    classes : int, optional
        The number of classes the model gives; the file must name exactly that many.

    Returns
    -------
    tuple of str

    Raises
    ------
    LabelsError
        (a ValueError) naming the file: missing or not a regular file, larger than 4 MiB,
        not UTF-8 text, empty, a blank name inside the list, or a count that differs
        from `classes`.
    """
    p = Path(path)
    fd, size = open_regular(p, LabelsError, "a labels file")
    with os.fdopen(fd, "rb") as f:
        if size > MAX_LABELS_BYTES:
            raise LabelsError(f"{p}: {size:,} bytes is too large for a labels file (at most "
                              f"{MAX_LABELS_BYTES:,}); give one class name per line.")
        data = f.read(MAX_LABELS_BYTES + 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LabelsError(f"{p}: not UTF-8 text (byte {exc.start}); a labels file holds one "
                          "class name per line.") from None
    if "\x00" in text:
        raise LabelsError(f"{p}: a binary file, not a labels file (one class name per line).")
    names = [line.strip() for line in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise LabelsError(f"{p}: the labels file is empty; give one class name per line.")
    blank = [i + 1 for i, n in enumerate(names) if not n]
    if blank:
        raise LabelsError(f"{p}: line {blank[0]} is blank; give one class name on every line.")
    if classes is not None and len(names) != classes:
        raise LabelsError(f"{p}: {len(names)} class names for a model with {classes} classes; "
                          "give exactly one name per class, one per line.")
    return tuple(names)
