"""ShiftLab's data files: the sample photographs (see LICENSES.md beside this file) and the
bundled digit networks with their held-out test digits (made by ``tools/train_digits.py``).

They ship as package data, so an installed wheel reads them as a checkout does::

    from resources import photo_path, network_path
    photo_path("coffee")         # .../resources/photos/coffee.png
    network_path("digits-max")   # .../resources/networks/digits-max.onnx
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The sample photographs, by name.
PHOTO_NAMES = ("coffee", "chelsea", "camera")


def photo_path(name: str) -> Path:
    """Return the file of the sample photograph `name` (one of ``PHOTO_NAMES``).

    Raises
    ------
    ValueError
        If `name` is not a sample photograph (the message lists them).
    """
    return _data_file("photos", name, ".png", PHOTO_NAMES, "sample photo")


#: The bundled networks, by name (ONNX files in ``networks/``).
NETWORK_NAMES = ("digits-max", "digits-blurmax", "digits-aps")


def network_path(name: str) -> Path:
    """Return the ONNX file of the bundled network `name` (one of ``NETWORK_NAMES``).

    Raises
    ------
    ValueError
        If `name` is not a bundled network (the message lists them).
    """
    return _data_file("networks", name, ".onnx", NETWORK_NAMES, "network")


def held_out_digits_path() -> Path:
    """Return the held-out test digits of the bundled networks (``digits-test.npz``: uint8
    ``images`` (N, 28, 28), white on black, and ``labels`` (N,)), never trained on."""
    return Path(str(files(__name__).joinpath("networks", "digits-test.npz")))


def _data_file(folder: str, name: str, suffix: str, names: tuple[str, ...], kind: str) -> Path:
    if name not in names:
        raise ValueError(f"unknown {kind} {name!r}; use one of: {', '.join(names)}.")
    return Path(str(files(__name__).joinpath(folder, f"{name}{suffix}")))
