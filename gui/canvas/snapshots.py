"""Reusable snapshot buffers: copies of the canvas handed to the worker.

Copying into a buffer that already exists avoids fresh page faults on every copy,
and a buffer only needs the part of the image that changed since it was last
filled: during a drag that is a small rectangle, not 12 megapixels. A buffer is
written again only after the job that read it has settled.
"""

from __future__ import annotations

import numpy as np

Rect = tuple[int, int, int, int]  # top, left, bottom, right (half-open)


def _union(a: Rect | None, b: Rect) -> Rect:
    if a is None:
        return b
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


class _Buffer:
    """A buffer and the part of it that no longer matches the image (None: nothing,
    ``"all"``: everything)."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.stale: Rect | str | None = "all"


class SnapshotPool:
    """Hands out read-only copies in recycled buffers; at most `keep` idle buffers are kept.

    Call :meth:`changed` for every edit of the image the copies are taken from.
    """

    def __init__(self, keep: int = 2) -> None:
        self.keep = keep
        self._free: list[_Buffer] = []
        self._busy: dict[int, _Buffer] = {}
        self._last: _Buffer | None = None

    def changed(self, rect: Rect | None) -> None:
        """The image changed inside `rect` (None: everywhere, or a new image)."""
        for buffer in (*self._free, *self._busy.values()):
            if rect is None or buffer.stale == "all":
                buffer.stale = "all"
            else:
                buffer.stale = _union(buffer.stale, rect)

    def donate(self, copy: np.ndarray) -> None:
        """Take `copy`, an exact copy of the image as it is now that nobody else writes,
        as a buffer already in sync (for example one made off the GUI thread)."""
        buffer = _Buffer(copy)
        buffer.stale = None
        self._free.insert(0, buffer)
        del self._free[self.keep:]

    def copy_of(self, image: np.ndarray) -> np.ndarray:
        """Return a read-only copy of `image`; call :meth:`assign` with the job's id next."""
        index = next((i for i, b in enumerate(self._free) if b.array.shape == image.shape), None)
        buffer = _Buffer(np.empty_like(image)) if index is None else self._free.pop(index)
        if buffer.stale == "all":
            np.copyto(buffer.array, image)
        elif buffer.stale is not None:
            top, left, bottom, right = buffer.stale
            buffer.array[top:bottom, left:right] = image[top:bottom, left:right]
        buffer.stale = None
        self._last = buffer
        view = buffer.array.view()
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
