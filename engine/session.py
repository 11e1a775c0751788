"""Session files: a :class:`~engine.state.ViewState` saved as one ``.shiftlab`` file.

A session is a zip archive holding ``session.json`` (format name and version, the state
as :func:`~engine.state.state_to_dict` gives it, and the window's own settings such as
its dock layout, which the engine stores without reading) and, for every image that
its source cannot give again (drawn, edited), the pixels as ``a.npy`` / ``b.npy``
(float32, no pickles). Images loaded unchanged from a file or an example are stored by
reference (the file's path and SHA-256, or the example's name).

Reading is defensive: the file must be a regular file of bounded size, every member is
checked against its declared size before it is read, pixels must be finite 2-D float32
arrays, and a session written by a newer ShiftLab is refused with a clear message.

>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "demo.shiftlab")
>>> save_session(path, ViewState.demo())
>>> load_session(path).state.a.shape
(10, 10)
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .image_io import DEFAULT_MAX_PIXELS
from .kernels import FORMER_NAMES
from .state import ViewState, state_from_dict, state_to_dict

#: The format name in session.json, and the newest version this code reads and writes.
#: Version 3 adds the state's network; a session without one is still written as 2, so
#: older ShiftLabs keep reading it (and refuse one they would show without its network).
FORMAT = "shiftlab-session"
VERSION = 3
#: File name extension of sessions.
SUFFIX = ".shiftlab"
#: Largest session.json accepted, in bytes.
MAX_JSON_BYTES = 4 << 20
#: Deepest nesting of the window's settings accepted.
MAX_WINDOW_DEPTH = 8


class SessionError(ValueError):
    """A session file cannot be read or written; the message names the file and the reason."""


@dataclass(frozen=True, eq=False)
class Session:
    """What a session file holds.

    Attributes
    ----------
    state : ViewState
    window : dict
        The window's own settings (JSON values; the engine does not read them).
    """

    state: ViewState
    window: dict = field(default_factory=dict)


def save_session(path: str | os.PathLike, state: ViewState,
                 window: Mapping[str, object] | None = None) -> None:
    """Write `state` (and the window's settings) to `path` as a session file.

    The file is written next to `path` under a temporary name and renamed into place, so
    a failure never leaves half a session behind or damages an existing one.

    Raises
    ------
    SessionError
        If `window` is not JSON data, or the file cannot be written (the message names it).
    """
    path = Path(path)
    version = VERSION if state.network is not None else 2
    document = {"format": FORMAT, "version": version, "state": state_to_dict(state),
                "window": dict(window or {})}
    try:
        text = json.dumps(document, indent=1, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise SessionError(f"{path}: the window settings are not JSON data ({exc}).") from None
    members = {"session.json": text.encode()}
    images = {"a": state.a}
    if state.compare is not None and state.compare.image_b is not None:
        images["b"] = state.compare.image_b
    for key, image in images.items():
        if not image.reloadable:
            buffer = io.BytesIO()
            np.save(buffer, image.pixels, allow_pickle=False)
            members[f"{key}.npy"] = buffer.getvalue()
    temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for name, data in members.items():
                archive.writestr(name, data)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise SessionError(f"cannot write the session {path}: {exc.strerror or exc}.") from None


def load_session(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> Session:
    """Read a session file.

    Images stored by reference are loaded from their files or examples again; a file
    that changed since the session was saved (its SHA-256 differs) is refused, and so is
    a network's model file that moved or changed.

    Raises
    ------
    SessionError
        If the file is missing, not a regular file, not a session, damaged, from a newer
        ShiftLab, or refers to an image or model file that cannot be loaded again; the
        message names the file and the reason.
    """
    path = Path(path)
    _check_regular(path, max_pixels)
    try:
        with zipfile.ZipFile(path) as archive:
            document = _read_json(archive, path)
            pixels = {key: _read_pixels(archive, path, key, max_pixels)
                      for key in ("a", "b") if f"{key}.npy" in archive.namelist()}
    except zipfile.BadZipFile:
        raise SessionError(f"{path}: not a ShiftLab session (not a zip archive, or damaged)."
                           ) from None
    except OSError as exc:
        raise SessionError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    version = document.get("version")
    if document.get("format") != FORMAT or isinstance(version, bool) \
            or not isinstance(version, int):
        raise SessionError(f"{path}: not a ShiftLab session (session.json names no "
                           f"{FORMAT!r} format and version).")
    if version > VERSION:
        raise SessionError(f"{path}: written by a newer ShiftLab (session format {version}; "
                           f"this one reads up to {VERSION}). Update ShiftLab to open it.")
    window = document.get("window", {})
    if not isinstance(window, dict) or _depth(window) > MAX_WINDOW_DEPTH:
        raise SessionError(f"{path}: the window settings must be a shallow mapping.")
    if version < 2:
        _rename_v1_kernels(document.get("state"))
    try:
        state = state_from_dict(document.get("state"), pixels)
        if state.network is not None:
            state.network.check_file()
    except ValueError as exc:  # StateError, ImageLoadError, NetworkChoiceError
        raise SessionError(f"{path}: {exc}") from None
    return Session(state, window)


def _rename_v1_kernels(state: object) -> None:
    """Format 1 called Prewitt's kernel "sobel" and the true Sobel "sobel3": give a named
    kernel its present name, so an old session shows what it showed when saved."""
    spec = state.get("spec") if isinstance(state, dict) else None
    if isinstance(spec, dict) and isinstance(spec.get("kernel"), str):
        spec["kernel"] = FORMER_NAMES.get(spec["kernel"], spec["kernel"])


def _check_regular(path: Path, max_pixels: int) -> None:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SessionError(f"{path}: no such file.") from None
    except OSError as exc:
        raise SessionError(f"{path}: cannot be read ({exc.strerror or exc}).") from None
    if not stat.S_ISREG(info.st_mode):
        raise SessionError(f"{path}: not a regular file; a session is a .shiftlab file.")
    limit = MAX_JSON_BYTES + 2 * (4 * max_pixels + 4096)
    if info.st_size > limit:
        raise SessionError(f"{path}: {info.st_size} bytes is more than a session can hold "
                           f"({limit} bytes for images of up to {max_pixels} pixels).")


def _read_json(archive: zipfile.ZipFile, path: Path) -> dict:
    try:
        member = archive.getinfo("session.json")
    except KeyError:
        raise SessionError(f"{path}: not a ShiftLab session (no session.json inside).") from None
    if member.file_size > MAX_JSON_BYTES:
        raise SessionError(f"{path}: session.json is {member.file_size} bytes, more than "
                           f"{MAX_JSON_BYTES}.")
    try:
        document = json.loads(archive.read(member).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SessionError(f"{path}: session.json is damaged ({exc}).") from None
    if not isinstance(document, dict):
        raise SessionError(f"{path}: session.json must hold a mapping.")
    return document


def _read_pixels(archive: zipfile.ZipFile, path: Path, key: str, max_pixels: int
                 ) -> np.ndarray:
    member = archive.getinfo(f"{key}.npy")
    if member.file_size > 4 * max_pixels + 4096:
        raise SessionError(f"{path}: image {key} holds more than {max_pixels} pixels.")
    try:
        arr = np.load(io.BytesIO(archive.read(member)), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise SessionError(f"{path}: the pixels of image {key} are damaged ({exc}).") from None
    if arr.dtype != np.float32 or arr.ndim != 2 or arr.size == 0:
        raise SessionError(f"{path}: image {key} must be a 2-D float32 array; got "
                           f"{arr.dtype} {arr.shape}.")
    bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
    if bad:
        raise SessionError(f"{path}: image {key} holds {bad} values that are not finite.")
    return arr


def _depth(value: object, level: int = 0) -> int:
    if level > MAX_WINDOW_DEPTH:
        return level
    if isinstance(value, dict):
        return max([_depth(v, level + 1) for v in value.values()], default=level + 1)
    if isinstance(value, list):
        return max([_depth(v, level + 1) for v in value], default=level + 1)
    return level
