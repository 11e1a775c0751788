"""Which network a state shows, and how its input is made: a value a session can store.

A :class:`NetworkChoice` names a bundled network, or a model file by its path and SHA-256
(so a moved or changed file is noticed, not silently used), together with the input
preparation, an optional labels file, the layers to show and the shift map's settings.
:meth:`NetworkChoice.load` gives the :class:`Network`; model files are read once and
kept while their path and contents stay the same.

>>> c = NetworkChoice.bundled("digits-aps")
>>> c.label, c.load().input_shape
('digits-aps', (1, 28, 28))
>>> NetworkChoice.from_dict(c.to_dict()) == c
True

The bundled digit networks can also be chosen side by side: one choice whose
:attr:`~NetworkChoice.members` are every bundled network, in bundled order.

>>> [m.name for m in NetworkChoice.all_digits().members]
['digits-max', 'digits-blurmax', 'digits-aps']
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from resources import NETWORK_NAMES

from .._checks import bounded_int, choice
from ..report import file_sha256
from ..transforms import check_flag
from .bundled import NETWORKS
from .layers import CHANNEL_ORDERS
from .model import Network, load_network
from .prepare import InputPreparation, read_labels
from .shift_map import MAX_SHIFT_RANGE

__all__ = ["ALL_DIGITS", "NetworkChoice", "NetworkChoiceError"]

#: How the command line and the reproducing command name the bundled digit networks
#: side by side (``--network digits-all``).
ALL_DIGITS = "digits-all"

_CACHE_SIZE = 4
_cache: OrderedDict[tuple, Network] = OrderedDict()
_cache_lock = threading.Lock()
# (what, path, size, mtime, inode) -> a value read from the file: its SHA-256 (a 45 MB model
# takes about 0.1 s to hash) or its labels, too slow to read again for every run of a drag;
# a file rewritten in place changes its mtime.
_by_file: dict[tuple, object] = {}


def _read_once(path: Path, what: str, read):
    """`read(path)`, remembered while the file's size, mtime and inode stay the same."""
    st = path.stat()
    key = (what, str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    with _cache_lock:
        known = _by_file.get(key)
    if known is None:
        known = read(path)
        with _cache_lock:
            if len(_by_file) > 64:
                _by_file.clear()
            _by_file[key] = known
    return known


def _digest(path: Path) -> str:
    return _read_once(path, "sha256", file_sha256)


def _labels(path: Path) -> tuple[str, ...]:
    try:
        return _read_once(path, "labels", read_labels)
    except OSError:  # missing, or gone since: read_labels names the file and the reason
        return read_labels(path)


class NetworkChoiceError(ValueError):
    """A network choice is malformed, or its model file is gone or changed; the message
    names the file and what differs."""


@dataclass(frozen=True)
class NetworkChoice:
    """A network and its settings (see the module notes).

    Attributes
    ----------
    name : str or None
        A bundled network (``engine.NETWORKS``), or None for a model file.
    path : str or None
        The model file (absolute), for a user's model.
    sha256 : str or None
        The model file's SHA-256 when chosen; :meth:`load` refuses a file that differs.
    fit : {"resize", "crop"}
    mean, std : tuple of float or None
        None: the network's defaults (see :mod:`engine.networks.prepare`).
    labels_path : str or None
        A text file of class names, one per line.
    layers : tuple of str or None
        The layers to show; None: the default (each downsampling stage and the last map).
    order : {"activation", "index"}
        Channel order of the panels.
    shift_radius : int
        The shift map covers ``-r .. r`` on both axes (4: 9x9); 0: no shift map.
    shift_wrap : bool
        The shift map's shifts wrap around (True) or fill with zeros.
    side_by_side : bool
        Every bundled digit network side by side, in bundled order, each with these
        settings and its own default layers (see :attr:`members`); `name` is then the
        first bundled network.

    Raises
    ------
    NetworkChoiceError
        For neither or both of name and path, an unknown bundled name, a bad setting, or
        side by side with a model file or chosen layers.
    """

    name: str | None = None
    path: str | None = None
    sha256: str | None = None
    fit: str = "resize"
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    labels_path: str | None = None
    layers: tuple[str, ...] | None = None
    order: str = "activation"
    shift_radius: int = 4
    shift_wrap: bool = True
    side_by_side: bool = False

    def __post_init__(self) -> None:
        if (self.name is None) == (self.path is None):
            raise NetworkChoiceError("a network choice needs either a bundled name or a "
                                     "model file's path, not both or neither.")
        if self.name is not None and self.name not in NETWORK_NAMES:
            raise NetworkChoiceError(f"no bundled network {self.name!r}; use one of: "
                                     f"{', '.join(NETWORK_NAMES)}, or a model file.")
        try:
            prep = InputPreparation(self.fit, self.mean, self.std)
            choice(self.order, "channel order", CHANNEL_ORDERS)
            bounded_int(self.shift_radius, "shift_radius", 0, MAX_SHIFT_RANGE)
            check_flag(self.shift_wrap, "shift_wrap")
            check_flag(self.side_by_side, "side_by_side")
        except ValueError as exc:
            raise NetworkChoiceError(str(exc)) from None
        object.__setattr__(self, "mean", prep.mean)
        object.__setattr__(self, "std", prep.std)
        if self.layers is not None:
            if isinstance(self.layers, str) or not all(isinstance(n, str) for n in self.layers):
                raise NetworkChoiceError(f"layers must be a sequence of layer names; got "
                                         f"{self.layers!r}.")
            object.__setattr__(self, "layers", tuple(self.layers))
        for key in ("path", "labels_path", "sha256"):
            value = getattr(self, key)
            if value is not None and not isinstance(value, str):
                raise NetworkChoiceError(f"{key} must be text; got {value!r}.")
        if self.side_by_side and (self.name != NETWORK_NAMES[0] or self.layers is not None):
            raise NetworkChoiceError(
                f"side by side shows every bundled digit network from {NETWORK_NAMES[0]!r} "
                f"on, each with its own default layers; got name {self.name!r} and layers "
                f"{self.layers!r}. Use NetworkChoice.all_digits(), or one network alone.")

    @classmethod
    def bundled(cls, name: str, **settings: object) -> NetworkChoice:
        """A bundled network by name, with optional settings."""
        return cls(name=name, **settings)

    @classmethod
    def all_digits(cls, **settings: object) -> NetworkChoice:
        """Every bundled digit network side by side (the first bundled one first)."""
        return cls(name=NETWORK_NAMES[0], side_by_side=True, **settings)

    @property
    def members(self) -> tuple[NetworkChoice, ...]:
        """The networks this choice runs, each alone: itself, or side by side every bundled
        network with these settings, in bundled order."""
        if not self.side_by_side:
            return (self,)
        return tuple(replace(self, name=n, side_by_side=False) for n in NETWORK_NAMES)

    @classmethod
    def of_file(cls, path: str | os.PathLike, **settings: object) -> NetworkChoice:
        """A model file (made absolute) with its SHA-256 read now.

        Raises
        ------
        NetworkChoiceError
            If the file cannot be read.
        """
        p = Path(path).absolute()
        try:
            sha = file_sha256(p)
        except OSError as exc:
            raise NetworkChoiceError(f"{p}: the model file cannot be read "
                                     f"({exc.strerror or exc}).") from None
        return cls(path=str(p), sha256=sha, **settings)

    @property
    def label(self) -> str:
        """The bundled name, or the model file's name."""
        return self.name if self.name is not None else Path(self.path).name

    @property
    def preparation(self) -> InputPreparation:
        """The input preparation (fit, mean, std)."""
        return InputPreparation(self.fit, self.mean, self.std)

    def replace(self, **changes: object) -> NetworkChoice:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    def check_file(self) -> str | None:
        """Check that the model file is there and unchanged; return its SHA-256 (None for
        a bundled network).

        Raises
        ------
        NetworkChoiceError
            If the file is missing or unreadable, or its SHA-256 differs from the
            recorded one (the message names the file and both digests).
        """
        if self.path is None:
            return None
        path = Path(self.path)
        try:
            current = _digest(path)
        except FileNotFoundError:
            raise NetworkChoiceError(f"{path}: the model file is missing (moved or "
                                     "deleted?); open the model again from where it is "
                                     "now.") from None
        except OSError as exc:
            raise NetworkChoiceError(f"{path}: the model file cannot be read "
                                     f"({exc.strerror or exc}).") from None
        if self.sha256 is not None and current != self.sha256:
            raise NetworkChoiceError(
                f"{path}: the model file changed since it was chosen (SHA-256 "
                f"{current[:12]}... now, {self.sha256[:12]}... recorded); open it again "
                "to use the new file.")
        return current

    def load(self) -> Network:
        """The network, read once and reused while the file is unchanged.

        Raises
        ------
        NetworkChoiceError
            If the model file is missing, or its SHA-256 differs from the recorded one
            (the message names the file and both digests).
        NetworkLoadError
            If the model file cannot be used.
        engine.networks.prepare.LabelsError
            If the labels file cannot be used.
        """
        labels = None
        if self.labels_path is not None:
            labels = _labels(Path(self.labels_path))
        if self.name is not None:
            net = NETWORKS[self.name]
            if labels is None:
                return net
            key = ("bundled", self.name, labels)
            path = net.path
        else:
            path, current = Path(self.path), self.check_file()
            key = ("file", str(path), current, labels)
        with _cache_lock:
            if key in _cache:
                _cache.move_to_end(key)
                return _cache[key]
        net = load_network(path, name=self.name, labels=labels, labels_from=self.labels_path)
        with _cache_lock:
            _cache[key] = net
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
        return net

    def to_dict(self) -> dict:
        """The choice as JSON-ready values (only fields that differ from the defaults
        besides the network itself)."""
        out: dict = {"name": self.name} if self.name is not None \
            else {"path": self.path, "sha256": self.sha256}
        defaults = NetworkChoice(name=NETWORK_NAMES[0])
        for key in ("fit", "mean", "std", "labels_path", "layers", "order", "shift_radius",
                    "shift_wrap", "side_by_side"):
            value = getattr(self, key)
            if value != getattr(defaults, key):
                out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, data: object) -> NetworkChoice:
        """The inverse of :meth:`to_dict`.

        Raises
        ------
        NetworkChoiceError
            For a malformed mapping or values the choice refuses.
        """
        if not isinstance(data, Mapping):
            raise NetworkChoiceError(f"network must be a mapping of fields; got "
                                     f"{type(data).__name__}.")
        known = {"name", "path", "sha256", "fit", "mean", "std", "labels_path", "layers",
                 "order", "shift_radius", "shift_wrap", "side_by_side"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise NetworkChoiceError(f"network has unknown fields {unknown}; known: "
                                     f"{sorted(known)}.")
        values = dict(data)
        for key in ("mean", "std", "layers"):
            if isinstance(values.get(key), list):
                values[key] = tuple(values[key])
        for key in ("mean", "std"):
            if values.get(key) is not None and not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool)
                    for v in values[key]):
                raise NetworkChoiceError(f"network {key} must be a list of numbers; got "
                                         f"{values[key]!r}.")
        return cls(**values)

