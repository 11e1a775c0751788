"""The bundled digit networks, loaded on first use through :func:`load_network`."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

import numpy as np

from resources import NETWORK_NAMES, held_out_digits_path, network_path

from .model import Network, load_network


class _Bundled(Mapping):
    """name -> :class:`Network`; each file is read and its session created once, on access."""

    def __init__(self) -> None:
        self._loaded: dict[str, Network] = {}
        self._lock = threading.Lock()

    def __getitem__(self, name: str) -> Network:
        if name not in NETWORK_NAMES:
            raise KeyError(f"no bundled network {name!r}; use one of: {', '.join(NETWORK_NAMES)}")
        with self._lock:
            if name not in self._loaded:
                self._loaded[name] = load_network(network_path(name), name=name)
            return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(NETWORK_NAMES)

    def __len__(self) -> int:
        return len(NETWORK_NAMES)

    def __repr__(self) -> str:
        return f"NETWORKS({', '.join(NETWORK_NAMES)})"


#: The bundled trained networks by name: ``digits-max``, ``digits-blurmax``, ``digits-aps``
#: (28x28 grey digits, white on black in [0, 1]; see ``tools/train_digits.py``).
NETWORKS: Mapping[str, Network] = _Bundled()


def held_out_digits() -> tuple[np.ndarray, np.ndarray]:
    """Return the bundled networks' held-out test digits, never trained on.

    Returns
    -------
    images : (N, 28, 28) float32 array in [0, 1]
        Real handwritten digits (scikit-learn's scans, upscaled and centred), white on black.
    labels : (N,) int64 array
    """
    with np.load(held_out_digits_path(), allow_pickle=False) as data:
        return data["images"].astype(np.float32) / 255.0, data["labels"].astype(np.int64)
