"""Reusable snapshot buffers: copies of the canvas handed to the worker during a drag.

Copying into a buffer that already exists avoids fresh page faults on every copy
(a 3000x4000 float32 copy takes about 3 ms into an existing buffer and several
times that into a new one). A buffer is reused only after the job that read it
has settled.
"""

from __future__ import annotations

import numpy as np


class SnapshotPool:
    """Hands out read-only copies in recycled buffers; at most `keep` idle buffers are kept."""

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._free: list[np.ndarray] = []
        self._busy: dict[int, np.ndarray] = {}
        self._last: np.ndarray | None = None

    def copy_of(self, image: np.ndarray) -> np.ndarray:
        """Return a read-only copy of `image`; call :meth:`assign` with the job's id next."""
        index = next((i for i, b in enumerate(self._free) if b.shape == image.shape), None)
        buffer = np.empty_like(image) if index is None else self._free.pop(index)
        np.copyto(buffer, image)
        self._last = buffer
        view = buffer.view()
        view.setflags(write=False)
        return view

    def assign(self, request_id: int) -> None:
        """Mark the buffer of the last :meth:`copy_of` as read by job `request_id`."""
        if self._last is not None:
            self._busy[request_id] = self._last
            self._last = None

    def release(self, request_id: int) -> None:
        """Job `request_id` settled: its buffer may be written again."""
        buffer = self._busy.pop(request_id, None)
        if buffer is not None:
            self._free.insert(0, buffer)
            del self._free[self.keep:]

    @property
    def busy(self) -> int:
        """How many buffers jobs may still be reading."""
        return len(self._busy)
