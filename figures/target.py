"""Where a figure set goes, safely: which folders may take one, the temporary folder it is
built in, and the move into place.

The rules:

- An empty name, the current folder (or one above it), the home folder (or one above it),
  the root folder and any folder holding an input file never take a set.
- An existing non-empty folder is replaced only with ``force``, and only when it is a
  figure set written by ShiftLab (its ``manifest.json`` says so); other files are never
  deleted.
- The set is built in a temporary folder ``NAME.tmp-XXXX`` beside the target (beside its
  nearest existing parent when parents are missing, so a failure creates no folders) and
  renamed into place at the end. Without ``force`` the rename never replaces a folder that
  appeared meanwhile (another export to the same place).
- Each temporary folder holds a marker with the writing process and the target; the next
  export to the same target deletes the ones whose process has ended (a killed export).
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import warnings
from pathlib import Path

from engine.report import FORMAT

#: The file in every temporary folder that says who made it and for which target.
MARKER = ".shiftlab-export.json"
#: A manifest larger than this is not one ShiftLab wrote.
_MANIFEST_LIMIT = 16 * 1024 * 1024
_TMP, _OLD = ".tmp-", ".old-"


class ExportTargetError(ValueError):
    """The output folder cannot take a figure set (not empty, a file, not writable, a
    folder that must not be replaced); the message names it and what to do."""


class InterruptedAfterPlacing(KeyboardInterrupt):
    """Interrupted while the replaced set was being deleted: the new set is in place.

    Attributes
    ----------
    target : Path
        The folder that holds the new set.
    leftover : Path
        Where the old set is left; the next export to `target` deletes it when it could be
        marked abandoned (the message says which).
    """

    def __init__(self, target: Path, leftover: Path, marked: bool) -> None:
        then = "the next export there deletes it" if marked else "delete it by hand"
        super().__init__(f"the new figure set is in {target}; the old one was being deleted "
                         f"and is left in {leftover} ({then}).")
        self.target, self.leftover = target, leftover


def _os_error(path: Path, exc: OSError, what: str) -> ExportTargetError:
    return ExportTargetError(f"{path}: {what} ({exc.strerror or exc}); choose another "
                             "output folder.")


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _is_within(inner: Path, outer: Path) -> bool:
    """True when `inner` is `outer` or lies inside it."""
    return inner == outer or outer in inner.parents


def _protected(inputs: tuple[Path, ...]) -> list[tuple[Path, str]]:
    places = [(Path("/"), "the root folder")]
    try:
        places.append((_real(Path.cwd()), "the current folder"))
    except OSError:  # the current folder was deleted: nothing to protect there
        pass
    home = Path("~").expanduser()
    if str(home) != "~":
        places.append((_real(home), "your home folder"))
    places += [(_real(p), f"where the input {p} is") for p in inputs]
    return places


def is_figure_set(folder: Path) -> bool:
    """Return True when `folder` holds a ``manifest.json`` that ShiftLab wrote (its
    ``format`` is :data:`engine.report.FORMAT`)."""
    manifest = folder / "manifest.json"
    try:
        if not manifest.is_file() or manifest.stat().st_size > _MANIFEST_LIMIT:
            return False
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and document.get("format") == FORMAT


def nearest_existing(path: Path) -> Path:
    """Return `path` or its nearest parent that exists."""
    for candidate in (path, *path.parents):
        try:
            if candidate.exists():
                return candidate
        except OSError:
            continue
    return Path(path.anchor or "/")


def check_target(out_dir: str | os.PathLike, force: bool,
                 inputs: tuple[str | os.PathLike, ...] = ()) -> Path:
    """Return `out_dir` as an absolute path if a figure set may be written there. Nothing
    is created.

    Parameters
    ----------
    out_dir : path
        The folder for the set.
    force : bool
        Whether an existing figure set there may be replaced.
    inputs : tuple of paths
        Input files: no folder that holds one takes the set.

    Raises
    ------
    ExportTargetError
        If the name is empty; it is (or holds) the current folder, home, the root or an
        input; it is a file; it is not empty and `force` is off, or it is not a figure set;
        its nearest existing parent is not a writable folder; or the file system refuses
        to look at it (the message names the reason).
    """
    if not str(out_dir).strip():
        raise ExportTargetError("the output folder's name is empty; name a new folder, "
                                "e.g. figures/set.")
    target = Path(out_dir).expanduser().absolute()
    real = _real(target)
    for place, what in _protected(tuple(Path(p).absolute() for p in inputs)):
        if _is_within(place, real):
            raise ExportTargetError(f"{target}: is {what}" + ("" if place == real else
                                    " or holds it") + "; a figure set needs a folder of its "
                                    "own: name a new one.")
    try:
        exists = target.exists() or target.is_symlink()
        if exists and not target.is_dir():
            raise ExportTargetError(f"{target}: exists and is not a folder; choose a folder "
                                    "name for the set.")
        full = exists and any(target.iterdir())
    except OSError as exc:
        raise _os_error(target, exc, "cannot be used") from exc
    if full and not force:
        raise ExportTargetError(f"{target}: the folder is not empty; choose a new or empty "
                                "folder, or replace a figure set with --force.")
    if full and not is_figure_set(target):
        raise ExportTargetError(f"{target}: is not a figure set written by ShiftLab (no "
                                "manifest.json of one), so --force does not replace it; "
                                "choose another folder or empty it yourself.")
    parent = nearest_existing(target.parent)
    if not parent.is_dir():
        raise ExportTargetError(f"{parent}: cannot create the folder {target} inside a "
                                "file; choose another output folder.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ExportTargetError(f"{parent}: the folder is not writable; choose another "
                                "output folder.")
    return target


def _write_marker(root: Path, target: Path, pid: int | None = -1) -> None:
    """Mark `root` as a temporary folder of an export to `target` by process `pid` (this
    one by default; None: abandoned, free to delete)."""
    pid = os.getpid() if pid == -1 else pid
    (root / MARKER).write_text(json.dumps({"pid": pid, "target": str(target)}),
                               encoding="utf-8")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True


def clean_stale(target: Path) -> list[Path]:
    """Delete the temporary folders that exports to `target` left behind when they were
    killed: named ``NAME.tmp-*`` or ``NAME.old-*`` beside `target` (or its nearest existing
    parent), holding ShiftLab's marker for `target` from a process that has ended (or
    marked abandoned).

    Returns
    -------
    list of Path
        The folders deleted.
    """
    removed = []
    place = nearest_existing(target.parent)
    try:
        entries = [e for e in place.iterdir()
                   if e.name.startswith((target.name + _TMP, target.name + _OLD))]
    except OSError:
        return removed
    for entry in entries:
        try:
            if entry.is_symlink() or not entry.is_dir():
                continue
            marker = json.loads((entry / MARKER).read_text(encoding="utf-8"))
            pid = marker["pid"]
            if marker["target"] != str(target) or not (pid is None or isinstance(pid, int)) \
                    or (pid is not None and _process_alive(pid)):
                continue
            shutil.rmtree(entry)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours, or still in use: leave it
        removed.append(entry)
    return removed


def make_workspace(target: Path) -> Path:
    """Create the temporary folder a set for `target` is built in (beside it, or beside
    its nearest existing parent) with ShiftLab's marker in it, after deleting stale ones
    of earlier exports (:func:`clean_stale`). Return the folder; the set goes into its
    subfolder ``target.name``."""
    clean_stale(target)
    root = Path(tempfile.mkdtemp(prefix=target.name + _TMP,
                                 dir=nearest_existing(target.parent)))
    try:
        _write_marker(root, target)
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return root


def move_into_place(tmp: Path, target: Path, force: bool) -> None:
    """Rename the finished set `tmp` to `target`, creating missing parents now.

    An empty `target` is taken over. A non-empty one is replaced only with `force` and
    only when it is a figure set: it is set aside first, put back if the rename fails, and
    deleted once the new set is in place.

    Raises
    ------
    ExportTargetError
        If `target` filled up meanwhile (another export) and may not be replaced.
    InterruptedAfterPlacing
        If interrupted while the old set was being deleted (the new one is in place).
    OSError
        If the rename fails; an old set is back in place.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(target.parent, exc, "cannot create the folder") from exc
    try:
        os.rename(tmp, target)
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise
        if not (force and target.is_dir() and is_figure_set(target)):
            raise ExportTargetError(
                f"{target}: other files appeared there while the set was being written "
                "(another export?); they were left as they are. Write again to a new folder"
                + (", or with --force to replace a figure set." if not force else ".")
            ) from exc
    aside_root = Path(tempfile.mkdtemp(prefix=target.name + _OLD, dir=target.parent))
    _write_marker(aside_root, target)
    aside = aside_root / target.name
    os.rename(target, aside)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(aside, target)
        shutil.rmtree(aside_root, ignore_errors=True)
        raise
    try:
        shutil.rmtree(aside_root)
    except KeyboardInterrupt as exc:
        try:
            _write_marker(aside_root, target, pid=None)  # the next export may delete it
            marked = True
        except OSError:
            marked = False
        raise InterruptedAfterPlacing(target, aside_root, marked) from exc
    except OSError as exc:
        warnings.warn(f"the new figure set is in {target}, but the old one could not be "
                      f"deleted from {aside_root} ({exc}); delete it by hand.", stacklevel=3)
