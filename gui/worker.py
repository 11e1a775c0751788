"""Running jobs off the GUI thread: the latest request per channel wins.

A :class:`JobRunner` lives on the GUI thread. :meth:`JobRunner.submit` freezes a
job (a callable and its arguments, which the caller has already snapshot) under
a request id on a named *channel* ("pipeline", "sweep" ...). Each channel has its
own QThread with one :class:`_ChannelWorker` QObject moved onto it, and a single
pending slot: a newer request replaces a pending one, so nothing queues behind a
dragged pointer, and the running job of that channel is asked to cancel. Results
come back on the GUI thread through :attr:`JobRunner.finished` and
:attr:`JobRunner.failed`, and only for the newest request of the channel; older
results are dropped, never delivered.

Channels are independent: a long sweep does not cancel, or wait for, a pipeline run.
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot


class JobCancelled(Exception):
    """Raised inside a job (by :meth:`JobContext.check`) when a newer request replaced it."""


@dataclass
class JobContext:
    """Handed to jobs that take a ``context`` keyword: cancellation and progress."""

    channel: str
    request_id: int
    _cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    _progress: Callable[[float], None] | None = field(default=None, repr=False)

    @property
    def cancelled(self) -> bool:
        """True once a newer request on the same channel (or shutdown) replaced this one."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise :class:`JobCancelled` if the job was cancelled; call it between steps."""
        if self._cancel.is_set():
            raise JobCancelled(f"request {self.request_id} on {self.channel!r} was replaced")

    def progress(self, fraction: float) -> None:
        """Report progress in [0, 1]; delivered to :attr:`JobRunner.progress` on the GUI thread."""
        if self._progress is not None and not self._cancel.is_set():
            self._progress(float(fraction))


@dataclass(frozen=True)
class Job:
    """One frozen request: what to call, with what, and under which id."""

    channel: str
    request_id: int
    fn: Callable[..., Any]
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    context: JobContext | None = None

    def run(self) -> Any:
        """Call the job's function and return its result."""
        if self.context is not None:
            return self.fn(*self.args, context=self.context, **self.kwargs)
        return self.fn(*self.args, **self.kwargs)


def _wants_context(fn: Callable[..., Any]) -> bool:
    try:
        return "context" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


#: Worker threads run this much "nicer" than the GUI thread (Linux: per-thread nice), so
#: on a busy machine the event loop keeps its CPU share while a large image computes.
WORKER_NICENESS = 5


def _lower_this_threads_priority() -> None:
    """Make the calling thread nicer, once; a no-op where the OS does not support it."""
    if getattr(_THREAD_STATE, "niced", False):
        return
    _THREAD_STATE.niced = True
    if sys.platform.startswith("linux"):
        try:
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid)
                           + WORKER_NICENESS)
        except OSError:  # not permitted here: run at normal priority
            pass


_THREAD_STATE = threading.local()


class _ChannelWorker(QObject):
    """Runs the jobs of one channel on its thread; only ever reads the pending slot."""

    done = Signal(str, int, object)      # channel, request id, result
    error = Signal(str, int, str)        # channel, request id, message
    progressed = Signal(str, int, float)  # channel, request id, fraction
    cancelled = Signal(str, int)         # channel, request id
    wake = Signal()

    def __init__(self, channel: str) -> None:
        super().__init__()
        self.channel = channel
        self._lock = threading.Lock()
        self._pending: Job | None = None
        self._running: Job | None = None
        self._scheduled = False
        self._closed = False
        self.wake.connect(self._drain)

    def offer(self, job: Job) -> Job | None:
        """Put `job` in the pending slot; called on the GUI thread.

        Returns the pending job it replaced (which will never run), if any.
        """
        replaced = None
        with self._lock:
            if self._closed:
                return None
            replaced, self._pending = self._pending, job
            if replaced is not None and replaced.context is not None:
                replaced.context._cancel.set()
            if self._running is not None and self._running.context is not None:
                self._running.context._cancel.set()
            schedule = not self._scheduled
            self._scheduled = True
        if schedule:
            self.wake.emit()  # queued: the slot runs on this worker's thread
        return replaced

    def close(self) -> None:
        """Drop the pending job and cancel the running one; no job starts afterwards."""
        with self._lock:
            self._closed = True
            self._pending = None
            if self._running is not None and self._running.context is not None:
                self._running.context._cancel.set()

    @Slot()
    def _drain(self) -> None:
        _lower_this_threads_priority()
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                if job is None or self._closed:
                    self._scheduled = False
                    self._running = None
                    return
                self._running = job
            try:
                result = job.run()
            except JobCancelled:
                self.cancelled.emit(job.channel, job.request_id)
                continue
            except Exception as exc:  # noqa: BLE001 - every failure is reported to the GUI
                detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
                self.error.emit(job.channel, job.request_id, detail)
                continue
            self.done.emit(job.channel, job.request_id, result)


class JobRunner(QObject):
    """Submit jobs per channel from the GUI thread; receive only the newest results.

    Signals
    -------
    finished(channel, request_id, result)
        The newest request of `channel` completed.
    failed(channel, request_id, message)
        The newest request of `channel` raised; `message` is ``"Type: text"``.
    progress(channel, request_id, fraction)
        A job that takes ``context`` reported progress.
    settled(channel, request_id)
        A job is over: it finished, failed or was cancelled (emitted after
        `finished`/`failed`), or it was replaced before it started. Every submitted
        job settles exactly once (until shutdown), newest or not; use it to pace
        submissions and to reuse what a job was reading.
    """

    finished = Signal(str, int, object)
    failed = Signal(str, int, str)
    progress = Signal(str, int, float)
    settled = Signal(str, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._threads: dict[str, QThread] = {}
        self._workers: dict[str, _ChannelWorker] = {}
        self._latest: dict[str, int] = {}
        self._next_id = 0
        self._closed = False

    def submit(self, channel: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> int:
        """Queue ``fn(*args, **kwargs)`` on `channel`, replacing its pending request.

        The arguments must already be snapshots the caller no longer mutates.
        If `fn` has a ``context`` parameter it receives a :class:`JobContext`.

        Returns
        -------
        int
            The request id, increasing across all channels.

        Raises
        ------
        RuntimeError
            If the runner was shut down.
        """
        if self._closed:
            raise RuntimeError("the job runner was shut down; create a new one to submit jobs.")
        self._next_id += 1
        rid = self._next_id
        self._latest[channel] = rid
        worker = self._worker(channel)
        context = None
        if _wants_context(fn):
            context = JobContext(channel, rid, _progress=lambda f, c=channel, r=rid:
                                 worker.progressed.emit(c, r, f))
        replaced = worker.offer(Job(channel, rid, fn, tuple(args), dict(kwargs), context))
        if replaced is not None:
            self.settled.emit(channel, replaced.request_id)
        return rid

    def latest(self, channel: str) -> int:
        """The id of the newest request submitted on `channel` (0 if none)."""
        return self._latest.get(channel, 0)

    def is_current(self, channel: str, request_id: int) -> bool:
        """True if `request_id` is still the newest request on `channel`."""
        return self._latest.get(channel, 0) == request_id

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Cancel everything, stop every thread and wait for it; safe to call twice.

        Returns
        -------
        bool
            True if every thread stopped within `timeout_ms` each.
        """
        self._closed = True
        ok = True
        for worker in self._workers.values():
            worker.close()
        for thread in self._threads.values():
            thread.quit()
        for thread in self._threads.values():
            ok = thread.wait(timeout_ms) and ok
        self._threads.clear()
        self._workers.clear()
        return ok

    def _worker(self, channel: str) -> _ChannelWorker:
        worker = self._workers.get(channel)
        if worker is None:
            thread = QThread(self)
            thread.setObjectName(f"shiftlab-{channel}")
            worker = _ChannelWorker(channel)
            worker.moveToThread(thread)
            worker.done.connect(self._on_done)
            worker.error.connect(self._on_error)
            worker.progressed.connect(self._on_progress)
            worker.cancelled.connect(self._on_cancelled)
            self._threads[channel] = thread
            self._workers[channel] = worker
            thread.start()
        return worker

    @Slot(str, int, object)
    def _on_done(self, channel: str, request_id: int, result: object) -> None:
        if not self._closed and self.is_current(channel, request_id):
            self.finished.emit(channel, request_id, result)
        self._on_cancelled(channel, request_id)

    @Slot(str, int, str)
    def _on_error(self, channel: str, request_id: int, message: str) -> None:
        if not self._closed and self.is_current(channel, request_id):
            self.failed.emit(channel, request_id, message)
        self._on_cancelled(channel, request_id)

    @Slot(str, int)
    def _on_cancelled(self, channel: str, request_id: int) -> None:
        if not self._closed:
            self.settled.emit(channel, request_id)

    @Slot(str, int, float)
    def _on_progress(self, channel: str, request_id: int, fraction: float) -> None:
        if not self._closed and self.is_current(channel, request_id):
            self.progress.emit(channel, request_id, fraction)
