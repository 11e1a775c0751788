"""Handing a lane work that must not be lost: batches, one in flight at a time.

A lane of :class:`~gui.worker.JobRunner` keeps only the newest request (right for the
pipeline, wrong for frames to encode or points to measure). :class:`Batcher` keeps the
items that arrive while a batch runs and submits them together when it settles, so
nothing is replaced and nothing queues on the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from gui.worker import JobRunner, JobSettled, Request


class Batcher(QObject):
    """Submit items to a lane in batches made by ``make(items, final)``.

    Parameters
    ----------
    runner : JobRunner
    kind : Request class
        The class `make` returns (its lane is the batches' lane).
    make : callable
        ``make(items: tuple, final: bool) -> Request``.
    limit : int, optional
        The most items that wait; beyond it the oldest is dropped (counted in
        :attr:`dropped`).
    """

    def __init__(self, runner: JobRunner, kind: type[Request],
                 make: Callable[[tuple, bool], Request], limit: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.make = make
        self.limit = limit
        self.dropped = 0
        self._backlog: list[Any] = []
        self._in_flight = 0
        self._final = False
        runner.subscribe(kind, settled=self._on_settled, owner=self)

    @property
    def busy(self) -> bool:
        """True while a batch runs or items wait."""
        return bool(self._in_flight or self._backlog or self._final)

    def add(self, item: Any) -> None:
        """Queue `item`; it goes with the next batch."""
        self._backlog.append(item)
        if self.limit is not None and len(self._backlog) > self.limit:
            del self._backlog[0]
            self.dropped += 1
        self.flush()

    def finish(self) -> None:
        """Submit what waits as the final batch (even if nothing waits)."""
        self._final = True
        self.flush()

    def reset(self) -> None:
        """Forget the waiting items (a batch already running goes on)."""
        self._backlog = []
        self._final = False
        self.dropped = 0

    def flush(self) -> None:
        """Submit the waiting items unless a batch is running."""
        if self._in_flight or not (self._backlog or self._final):
            return
        items, self._backlog = tuple(self._backlog), []
        final, self._final = self._final, False
        self._in_flight = self.runner.submit(self.make(items, final))

    def _on_settled(self, event: JobSettled) -> None:
        if event.request_id == self._in_flight:
            self._in_flight = 0
            self.flush()
