"""ShiftLab's data files: the sample photographs (see LICENSES.md beside this file).

They ship as package data, so an installed wheel reads them as a checkout does::

    from resources import photo_path
    photo_path("coffee")   # .../resources/photos/coffee.png
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
    if name not in PHOTO_NAMES:
        raise ValueError(f"unknown sample photo {name!r}; use one of: {', '.join(PHOTO_NAMES)}.")
    return Path(str(files(__name__).joinpath("photos", f"{name}.png")))
