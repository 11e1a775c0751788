"""Typed work off the GUI thread: a frozen request in, a typed event out, latest wins per lane.

The request cycle
-----------------
1. The GUI builds a *request*: a frozen dataclass deriving from :class:`Request` that
   holds snapshots (arrays the caller no longer mutates) and parameters. Its class
   names the *lane* (worker thread) it runs on in ``lane: ClassVar[str]``, so callers
   never pass or compare lane names by hand.
2. :meth:`JobRunner.submit` gives it a request id (increasing across lanes) and puts it
   in its lane's single pending slot. A newer request on the same lane replaces a pending
   one (which settles as cancelled without running) and cancels the running one through
   its :class:`JobContext`, so nothing queues behind a dragged pointer. Lanes are
   independent: a long sweep neither cancels nor waits for a pipeline run. A request left
   waiting behind a job that ignores being cancelled for ``STUCK_AFTER_MS`` runs on a new
   thread of the lane; the stuck one is detached (see below).
3. On the lane's thread, ``request.run(context)`` runs. It may report
   ``context.progress(fraction, text)`` and should call ``context.check()`` (or read
   ``context.cancelled``, or hand ``lambda: context.cancelled`` to engine code) between
   steps. Raising :class:`JobCancelled`, or one of the request's
   :attr:`Request.cancellations` (such as :class:`engine.SweepCancelled`), ends it as
   cancelled.
4. Back on the GUI thread the runner emits, for the newest request of the lane only,
   :attr:`JobRunner.finished` with a :class:`JobDone` (the typed result) or
   :attr:`JobRunner.failed` with a :class:`JobFailed` (the exception object itself),
   and then, for every request, :attr:`JobRunner.settled` with a :class:`JobSettled`
   saying whether it was done, failed or cancelled. A result of a request that a newer
   one replaced is dropped: that request settles as cancelled.
5. A part of the GUI receives only the request types it cares about with
   :meth:`JobRunner.subscribe`; a Cancel button calls :meth:`JobRunner.cancel`.

Every submitted request settles exactly once until :meth:`JobRunner.shutdown`, which
cancels everything, waits a short time for the threads and delivers nothing afterwards.
A thread whose job does not stop in that time (it may be blocked in a read) is detached:
it runs on, unowned by the window, until its job returns or the process exits, so closing
the window never waits long and never destroys a running thread.
"""

from __future__ import annotations

import enum
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QDeadlineTimer, QObject, QThread, QTimer, Signal, Slot

R = TypeVar("R")
#: A request class, or a tuple of them (as :func:`isinstance` takes).
RequestKind = type["Request"] | tuple[type["Request"], ...]


class JobCancelled(Exception):
    """Raised inside a job (by :meth:`JobContext.check`) once it was cancelled."""


class Request(Generic[R]):
    """Base of every job: a frozen request that knows its lane and how to run.

    Subclass it with ``@dataclass(frozen=True, slots=True, eq=False)`` (``eq=False``
    keeps identity comparison, which arrays need), set ``lane`` and implement
    :meth:`run`::

        @dataclass(frozen=True, slots=True, eq=False)
        class LoadRequest(Request[np.ndarray]):
            lane: ClassVar[str] = "load"
            path: str

            def run(self, context: JobContext) -> np.ndarray:
                return load_image(self.path)

    Attributes
    ----------
    lane : ClassVar[str]
        The worker thread requests of this class run on. Requests sharing a lane replace
        each other (the latest wins), whatever their class.
    cancellations : ClassVar[tuple of exception types]
        Exceptions that mean "stopped because cancelled" for this request (besides
        :class:`JobCancelled`); raising one settles the request as cancelled, not failed.
    """

    __slots__ = ()
    lane: ClassVar[str]
    cancellations: ClassVar[tuple[type[BaseException], ...]] = ()

    def run(self, context: JobContext) -> R:
        """Do the work on the lane's thread and return the result.

        Parameters
        ----------
        context : JobContext
            Cancellation and progress for this run.

        Returns
        -------
        R
            The result, delivered as :attr:`JobDone.result`.

        Raises
        ------
        JobCancelled
            Via ``context.check()`` once cancelled (so may the request's `cancellations`).
        Exception
            Any other failure, delivered as :attr:`JobFailed.error`.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement run(context).")


def lane_of(kind: type[Request]) -> str:
    """The lane of request class `kind`.

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If `kind` is not a :class:`Request` subclass with a ``lane`` class variable.
    """
    lane = getattr(kind, "lane", None)
    if not (isinstance(kind, type) and issubclass(kind, Request) and isinstance(lane, str)
            and lane):
        raise TypeError(f"{kind!r} is not a Request class with a lane; derive from Request "
                        "and set `lane: ClassVar[str] = \"name\"`.")
    return lane


class JobContext:
    """What a running request gets: its id, cancellation and progress reporting.

    Thread-safe: the GUI thread cancels, the lane's thread reads and reports.
    """

    __slots__ = ("lane", "request_id", "_cancel", "_report")

    def __init__(self, lane: str, request_id: int,
                 report: Callable[[float, str | None], None] | None = None) -> None:
        self.lane = lane
        self.request_id = request_id
        self._cancel = threading.Event()
        self._report = report

    @property
    def cancelled(self) -> bool:
        """True once a newer request on the lane, :meth:`JobRunner.cancel` or shutdown
        cancelled this one; hand ``lambda: context.cancelled`` to engine code."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Return if the job may go on; call it between steps.

        Raises
        ------
        JobCancelled
            If the job was cancelled.
        """
        if self._cancel.is_set():
            raise JobCancelled(f"request {self.request_id} on lane {self.lane!r} was cancelled")

    def progress(self, fraction: float, text: str | None = None) -> None:
        """Report `fraction` (0..1) done and optionally what runs now; delivered as a
        :class:`JobProgress` on the GUI thread (nothing once cancelled)."""
        if self._report is not None and not self._cancel.is_set():
            self._report(float(fraction), text)

    def cancel(self) -> None:
        """Ask the job to stop (the runner calls this)."""
        self._cancel.set()


class Outcome(enum.Enum):
    """How a request ended (:attr:`JobSettled.outcome`)."""

    DONE = "done"
    """It returned and its result was delivered."""
    FAILED = "failed"
    """It raised and the error was delivered."""
    CANCELLED = "cancelled"
    """It was cancelled (by a newer request, :meth:`JobRunner.cancel`), stopped before
    running, or its result came too late (a newer request existed) and was dropped."""


@dataclass(frozen=True, slots=True, eq=False)
class JobDone(Generic[R]):
    """The newest request of its lane returned `result`."""

    request: Request[R]
    request_id: int
    result: R


@dataclass(frozen=True, slots=True, eq=False)
class JobFailed:
    """The newest request of its lane raised `error` (the exception object itself)."""

    request: Request
    request_id: int
    error: Exception


@dataclass(frozen=True, slots=True, eq=False)
class JobProgress:
    """The newest request of its lane reported `fraction` (0..1) done, doing `text`."""

    request: Request
    request_id: int
    fraction: float
    text: str | None = None


@dataclass(frozen=True, slots=True, eq=False)
class JobSettled:
    """A request is over (after its :class:`JobDone` or :class:`JobFailed`, if any)."""

    request: Request
    request_id: int
    outcome: Outcome

    @property
    def cancelled(self) -> bool:
        """True if the request ended as cancelled."""
        return self.outcome is Outcome.CANCELLED


def error_message(error: BaseException) -> str:
    """The text to show for a worker's `error`: ``str(error)``, or the exception's type
    name when that is empty (``MemoryError()``)."""
    return str(error) or type(error).__name__


@dataclass(slots=True, eq=False)
class _Job:
    request: Request
    request_id: int
    context: JobContext = field(repr=False)


_DONE, _FAILED, _CANCELLED = "done", "failed", "cancelled"

#: Worker threads run this much "nicer" than the GUI thread (Linux: per-thread nice), so
#: on a busy machine the event loop keeps its CPU share while a large image computes.
WORKER_NICENESS = 5

_THREAD_STATE = threading.local()


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


#: How long :meth:`JobRunner.shutdown` waits, in all, for the lanes' threads to stop.
SHUTDOWN_TIMEOUT_MS = 2000
#: How long a request waits behind a job that ignores being cancelled (blocked in a read,
#: say) before it runs on a new thread of its lane, beside the stuck one.
STUCK_AFTER_MS = 5000

#: Threads detached by :func:`_detach` (with their workers) that may still be running.
_DETACHED: list[tuple[QThread, _LaneWorker]] = []


def detached_threads() -> list[QThread]:
    """The lane threads left running because their job did not stop in time (at
    :meth:`JobRunner.shutdown`, or when a newer request got a new thread) and that have
    not ended yet."""
    _DETACHED[:] = [(t, w) for t, w in _DETACHED if shiboken6.isValid(t) and t.isRunning()]
    return [t for t, _ in _DETACHED]


def _detach(thread: QThread, worker: _LaneWorker) -> None:
    """Leave `thread`, whose job did not stop in time, running until it ends by itself.

    Qt aborts the process when a running QThread is destroyed, and PySide destroys every
    Python-owned QObject when the application object goes at exit. So the thread gets a
    C++ owner that lives as long as the process: the GUI thread's own QThread object.
    When the job returns, the thread's event loop (already told to quit) ends and the
    thread and its worker delete themselves.
    """
    thread.setParent(QThread.currentThread())
    thread.finished.connect(worker.deleteLater)
    thread.finished.connect(thread.deleteLater)
    detached_threads()  # forget the ones that have ended since
    _DETACHED.append((thread, worker))


class _LaneWorker(QObject):
    """Runs the requests of one lane on its thread; only ever reads the pending slot."""

    ended = Signal(object, str, object)        # job, _DONE/_FAILED/_CANCELLED, result/error
    progressed = Signal(object, float, object)  # job, fraction, text or None
    wake = Signal()

    def __init__(self, lane: str) -> None:
        super().__init__()
        self.lane = lane
        self._lock = threading.Lock()
        self._pending: _Job | None = None
        self._running: _Job | None = None
        self._stop_asked_at: float | None = None  # when the running job was first cancelled
        self._scheduled = False
        self._closed = False
        self.wake.connect(self._drain)

    def _stop_running(self) -> None:
        """Cancel the running job, noting when it was first asked; the lock is held."""
        if self._running is not None:
            self._running.context.cancel()
            if self._stop_asked_at is None:
                self._stop_asked_at = time.monotonic()

    def offer(self, job: _Job) -> _Job | None:
        """Put `job` in the pending slot and cancel the running job; GUI thread.

        Returns the pending job it replaced (which will never run), if any.
        """
        with self._lock:
            if self._closed:
                return None
            replaced, self._pending = self._pending, job
            if replaced is not None:
                replaced.context.cancel()
            self._stop_running()
            schedule = not self._scheduled
            self._scheduled = True
        if schedule:
            self.wake.emit()  # queued: the slot runs on this worker's thread
        return replaced

    def withdraw(self, matches: Callable[[_Job], bool]) -> tuple[_Job | None, bool]:
        """Cancel the pending and the running job where `matches`; GUI thread.

        Returns the pending job dropped (it will never run) and whether a running job
        was asked to stop.
        """
        with self._lock:
            dropped = self._pending if self._pending is not None and matches(self._pending) \
                else None
            if dropped is not None:
                self._pending = None
                dropped.context.cancel()
            running = self._running is not None and matches(self._running) \
                and not self._running.context.cancelled
            if running:
                self._stop_running()
        return dropped, running

    def close(self) -> None:
        """Drop the pending job and cancel the running one; no job starts afterwards."""
        with self._lock:
            self._closed = True
            self._pending = None
            self._stop_running()

    def waiting_behind_a_stuck_job(self) -> float | None:
        """Seconds since the running job was asked to stop while a pending job waits
        behind it, or None when no job waits so."""
        with self._lock:
            if self._running is None or self._pending is None or self._stop_asked_at is None:
                return None
            return time.monotonic() - self._stop_asked_at

    def retire(self, after_s: float) -> _Job | None:
        """If the running job has ignored being stopped for `after_s` seconds while a
        pending job waits, close this worker and return that pending job (to run on a
        new thread); else None and nothing changes. GUI thread."""
        with self._lock:
            waited = self._stop_asked_at is not None \
                and time.monotonic() - self._stop_asked_at >= after_s
            if self._running is None or self._pending is None or not waited:
                return None
            job, self._pending = self._pending, None
            self._closed = True
            return job

    @Slot()
    def _drain(self) -> None:
        _lower_this_threads_priority()
        while True:
            with self._lock:
                job, self._pending = self._pending, None
                self._stop_asked_at = None
                if job is None or self._closed:
                    self._scheduled = False
                    self._running = None
                    return
                self._running = job
            try:
                result = job.request.run(job.context)
            except (JobCancelled, *job.request.cancellations):
                self.ended.emit(job, _CANCELLED, None)
            except Exception as exc:  # noqa: BLE001 - every failure is reported to the GUI
                self.ended.emit(job, _FAILED, exc)
            else:
                self.ended.emit(job, _DONE, result)


class Subscription(QObject):
    """Calls a part of the GUI back for the events of the request types it cares about.

    Made by :meth:`JobRunner.subscribe`; a child of its owner, so it ends with it.
    """

    def __init__(self, runner: JobRunner, kind: RequestKind,
                 handlers: dict[str, Callable[[Any], None] | None],
                 owner: QObject) -> None:
        super().__init__(owner)
        self.kind = kind
        self._runner = runner
        self._handlers = {name: fn for name, fn in handlers.items() if fn is not None}
        self._signals = {"done": runner.finished, "failed": runner.failed,
                         "progress": runner.progress, "settled": runner.settled}
        for name in self._handlers:
            self._signals[name].connect(getattr(self, f"_on_{name}"))

    def close(self) -> None:
        """Stop calling back."""
        for name in self._handlers:
            self._signals[name].disconnect(getattr(self, f"_on_{name}"))
        self._handlers = {}

    def _deliver(self, name: str, event: Any) -> None:
        handler = self._handlers.get(name)
        if handler is not None and isinstance(event.request, self.kind):
            handler(event)

    @Slot(object)
    def _on_done(self, event: JobDone) -> None:
        self._deliver("done", event)

    @Slot(object)
    def _on_failed(self, event: JobFailed) -> None:
        self._deliver("failed", event)

    @Slot(object)
    def _on_progress(self, event: JobProgress) -> None:
        self._deliver("progress", event)

    @Slot(object)
    def _on_settled(self, event: JobSettled) -> None:
        self._deliver("settled", event)


class JobRunner(QObject):
    """Run requests off the GUI thread, one thread per lane; receive only the newest results.

    Signals
    -------
    finished(JobDone)
        The newest request of its lane returned.
    failed(JobFailed)
        The newest request of its lane raised; ``event.error`` is the exception.
    progress(JobProgress)
        The newest request of its lane reported progress (fraction and optional text).
    settled(JobSettled)
        A request is over: done, failed or cancelled (emitted after `finished` /
        `failed`). Every submitted request settles exactly once (until shutdown),
        newest or not; use it to pace submissions and to reuse what a job was reading.
    """

    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(object)
    settled = Signal(object)

    def __init__(self, parent: QObject | None = None,
                 stuck_after_ms: int = STUCK_AFTER_MS) -> None:
        super().__init__(parent)
        self._threads: dict[str, QThread] = {}
        self._workers: dict[str, _LaneWorker] = {}
        self._latest: dict[str, int] = {}
        self._next_id = 0
        self._closed = False
        #: How long a newer request waits behind one that ignores being cancelled before
        #: it gets a new thread (the old one is detached, as at shutdown).
        self.stuck_after_ms = stuck_after_ms
        self._watchdog = QTimer(self)
        self._watchdog.setSingleShot(True)
        self._watchdog.timeout.connect(self._replace_stuck_lanes)

    def submit(self, request: Request) -> int:
        """Run `request` on its lane, replacing the lane's pending request and cancelling
        its running one.

        Parameters
        ----------
        request : Request
            Frozen; its arrays are snapshots the caller no longer mutates.

        Returns
        -------
        int
            The request id, increasing across all lanes.

        Raises
        ------
        RuntimeError
            If the runner was shut down.
        TypeError
            If `request` is not a :class:`Request` with a lane.
        """
        if self._closed:
            raise RuntimeError("the job runner was shut down; create a new one to submit jobs.")
        lane = lane_of(type(request))
        self._next_id += 1
        rid = self._next_id
        self._latest[lane] = rid
        worker = self._worker(lane)

        def report(fraction: float, text: str | None) -> None:
            worker.progressed.emit(job, fraction, text)

        job = _Job(request, rid, JobContext(lane, rid, report))
        replaced = worker.offer(job)
        if replaced is not None:
            self._settle(replaced, Outcome.CANCELLED)
        self._watch()
        return rid

    def cancel(self, target: type[Request] | int) -> bool:
        """Cancel the pending and running requests of class `target` (or a subclass), or
        the request with id `target`. A pending one settles as cancelled at once; a
        running one settles when it stops (as cancelled if it stops by
        :meth:`JobContext.check` or one of its `cancellations`; a job that finishes
        anyway is done).

        Returns
        -------
        bool
            True if a request was pending or running to be cancelled.

        Raises
        ------
        TypeError
            If `target` is neither an int nor a :class:`Request` class with a lane.
        """
        if isinstance(target, int):
            workers = list(self._workers.values())

            def matches(job: _Job) -> bool:
                return job.request_id == target
        else:
            worker = self._workers.get(lane_of(target))
            workers = [worker] if worker is not None else []

            def matches(job: _Job) -> bool:
                return isinstance(job.request, target)
        hit = False
        for worker in workers:
            dropped, running = worker.withdraw(matches)
            if dropped is not None:
                self._settle(dropped, Outcome.CANCELLED)
            hit = hit or running or dropped is not None
        return hit

    def subscribe(self, kind: RequestKind, *,
                  done: Callable[[JobDone], None] | None = None,
                  failed: Callable[[JobFailed], None] | None = None,
                  progress: Callable[[JobProgress], None] | None = None,
                  settled: Callable[[JobSettled], None] | None = None,
                  owner: QObject | None = None) -> Subscription:
        """Call the given handlers for the events of requests of `kind` (a class or a
        tuple of classes, subclasses included) only.

        Parameters
        ----------
        kind : Request class or tuple of them
        done, failed, progress, settled : callable, optional
            Receive the :class:`JobDone`, :class:`JobFailed`, :class:`JobProgress` and
            :class:`JobSettled` events, on the GUI thread.
        owner : QObject, optional
            The subscription ends when `owner` is destroyed (default: the runner).

        Returns
        -------
        Subscription
            Call :meth:`Subscription.close` to stop earlier.
        """
        handlers = {"done": done, "failed": failed, "progress": progress, "settled": settled}
        return Subscription(self, kind, handlers, owner if owner is not None else self)

    def latest(self, kind: type[Request]) -> int:
        """The id of the newest request submitted on the lane of `kind` (0 if none)."""
        return self._latest.get(lane_of(kind), 0)

    def is_current(self, kind: type[Request], request_id: int) -> bool:
        """True if `request_id` is still the newest request on the lane of `kind`."""
        return self.latest(kind) == request_id

    def shutdown(self, timeout_ms: int = SHUTDOWN_TIMEOUT_MS) -> bool:
        """Cancel everything, stop every thread and wait at most `timeout_ms` in all; safe
        to call twice. Nothing is delivered afterwards.

        A thread still running after the wait (its job ignores cancellation, or is
        blocked in a read) is detached rather than destroyed: it ends when its job
        returns, or with the process; one line on stderr names its lane.

        Returns
        -------
        bool
            True if every thread stopped in time.
        """
        self._closed = True
        self._watchdog.stop()
        for worker in self._workers.values():
            worker.close()
        for thread in self._threads.values():
            thread.quit()
        deadline = QDeadlineTimer(max(0, timeout_ms))
        stuck = [lane for lane, thread in self._threads.items() if not thread.wait(deadline)]
        for lane in stuck:
            print(f"shiftlab: a background job ({lane}) did not stop within "
                  f"{timeout_ms / 1000:g} s; it is left to end on its own or with ShiftLab",
                  file=sys.stderr)
            _detach(self._threads[lane], self._workers[lane])
        self._threads.clear()
        self._workers.clear()
        return not stuck

    def _worker(self, lane: str) -> _LaneWorker:
        worker = self._workers.get(lane)
        if worker is None:
            thread = QThread(self)
            thread.setObjectName(f"shiftlab-{lane}")
            worker = _LaneWorker(lane)
            worker.moveToThread(thread)
            worker.ended.connect(self._on_ended)
            worker.progressed.connect(self._on_progress)
            self._threads[lane] = thread
            self._workers[lane] = worker
            thread.start()
        return worker

    def _watch(self) -> None:
        """Time the next look for a request stuck behind a job that ignores cancellation
        (none needed: stop the timer)."""
        waits = [w.waiting_behind_a_stuck_job() for w in self._workers.values()]
        waits = [s for s in waits if s is not None]
        if self._closed or not waits:
            self._watchdog.stop()
            return
        self._watchdog.start(max(0, self.stuck_after_ms - int(max(waits) * 1000)))

    @Slot()
    def _replace_stuck_lanes(self) -> None:
        """Give each request waiting behind a stuck job a new thread on its lane."""
        for lane, worker in list(self._workers.items()):
            pending = worker.retire(self.stuck_after_ms / 1000)
            if pending is None:
                continue
            thread = self._threads.pop(lane)
            del self._workers[lane]
            thread.quit()
            print(f"shiftlab: a background job ({lane}) did not stop within "
                  f"{self.stuck_after_ms / 1000:g} s; the next one runs beside it",
                  file=sys.stderr)
            _detach(thread, worker)
            self._worker(lane).offer(pending)
        self._watch()

    def _settle(self, job: _Job, outcome: Outcome) -> None:
        if not self._closed:
            self.settled.emit(JobSettled(job.request, job.request_id, outcome))

    @Slot(object, str, object)
    def _on_ended(self, job: _Job, how: str, value: object) -> None:
        if self._closed:
            return
        self._watch()
        current = self._latest.get(job.context.lane, 0) == job.request_id
        outcome = Outcome.CANCELLED
        if how == _DONE and current:
            outcome = Outcome.DONE
            self.finished.emit(JobDone(job.request, job.request_id, value))
        elif how == _FAILED and current:
            outcome = Outcome.FAILED
            self.failed.emit(JobFailed(job.request, job.request_id, value))
        self._settle(job, outcome)

    @Slot(object, float, object)
    def _on_progress(self, job: _Job, fraction: float, text: str | None) -> None:
        if (not self._closed and not job.context.cancelled
                and self._latest.get(job.context.lane, 0) == job.request_id):
            self.progress.emit(JobProgress(job.request, job.request_id, fraction, text))
