"""The job runner: typed requests, latest request wins per lane, errors delivered as
exceptions, progress with text, cancellation, threads stopped."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pytest
from PySide6.QtCore import QObject, QThread

from engine import ImageLoadError, PipelineSpec, load_image
from gui.docks.sweep import SweepRequest
from gui.worker import (
    JobCancelled,
    JobContext,
    JobDone,
    JobFailed,
    JobRunner,
    JobSettled,
    Outcome,
    Request,
)


@dataclass(frozen=True, slots=True, eq=False)
class Echo(Request):
    """Sleep, then return the value and the thread that ran it."""

    lane: ClassVar[str] = "pipeline"
    value: object
    delay: float = 0.02

    def run(self, context: JobContext) -> tuple[object, int]:
        time.sleep(self.delay)
        return self.value, threading.get_ident()


@dataclass(frozen=True, slots=True, eq=False)
class SweepEcho(Echo):
    lane: ClassVar[str] = "sweep"


@dataclass(frozen=True, slots=True, eq=False)
class Broken(Request):
    lane: ClassVar[str] = "pipeline"
    value: int

    def run(self, context: JobContext) -> None:
        raise ValueError(f"bad value {self.value}")


@dataclass(frozen=True, slots=True, eq=False)
class Divide(Request):
    lane: ClassVar[str] = "other"

    def run(self, context: JobContext) -> float:
        return 1 / 0


@dataclass(frozen=True, slots=True, eq=False)
class Load(Request):
    lane: ClassVar[str] = "load"
    path: str

    def run(self, context: JobContext) -> np.ndarray:
        return load_image(self.path)


@dataclass(frozen=True, slots=True, eq=False)
class Steps(Request):
    """Report progress (with text) step by step, stopping when cancelled."""

    lane: ClassVar[str] = "sweep"
    steps: int
    started: threading.Event
    stopped_early: list

    def run(self, context: JobContext) -> int:
        self.started.set()
        for k in range(self.steps):
            if context.cancelled:
                self.stopped_early.append(True)
                context.check()
            context.progress((k + 1) / self.steps, f"step {k + 1} of {self.steps}")
            time.sleep(0.005)
        return self.steps


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    received: list[JobDone] = []
    failures: list[JobFailed] = []
    settled: list[JobSettled] = []
    r.finished.connect(received.append)
    r.failed.connect(failures.append)
    r.settled.connect(settled.append)
    r.received, r.failures, r.settled_events = received, failures, settled
    yield r
    assert r.shutdown()


def steps(count: int) -> Steps:
    return Steps(count, threading.Event(), [])


def test_jobs_run_off_the_gui_thread_and_only_the_newest_result_arrives(runner, qtbot):
    requests = [Echo(i) for i in range(50)]
    ids = [runner.submit(r) for r in requests]
    assert ids == sorted(ids) and len(set(ids)) == 50
    qtbot.waitUntil(lambda: bool(runner.received), timeout=5000)
    qtbot.wait(100)  # anything older that still finishes must not be delivered
    assert len(runner.received) == 1
    done = runner.received[0]
    value, thread_id = done.result
    assert (done.request, done.request_id, value) == (requests[-1], ids[-1], 49)
    assert thread_id != threading.get_ident()
    assert runner.latest(Echo) == ids[-1] and runner.is_current(Echo, ids[-1])


def test_lanes_do_not_replace_each_other(runner, qtbot):
    a = runner.submit(SweepEcho("sweep", 0.2))
    b = runner.submit(Echo("pipe", 0.0))
    qtbot.waitUntil(lambda: len(runner.received) == 2, timeout=5000)
    got = {type(d.request): (d.request_id, d.result[0]) for d in runner.received}
    assert got == {SweepEcho: (a, "sweep"), Echo: (b, "pipe")}
    # the short pipeline job did not wait behind the long sweep
    assert type(runner.received[0].request) is Echo


def test_an_exception_is_delivered_as_the_exception_object(runner, qtbot):
    request = Broken(7)
    rid = runner.submit(request)
    qtbot.waitUntil(lambda: bool(runner.failures), timeout=5000)
    [failure] = runner.failures
    assert (failure.request, failure.request_id) == (request, rid)
    assert type(failure.error) is ValueError and str(failure.error) == "bad value 7"
    runner.submit(Echo(1, 0.0))  # the lane still works
    qtbot.waitUntil(lambda: bool(runner.received), timeout=5000)


def test_a_typed_error_keeps_its_type_and_message(runner, qtbot, tmp_path):
    missing = tmp_path / "missing.png"
    runner.submit(Load(str(missing)))
    qtbot.waitUntil(lambda: bool(runner.failures), timeout=5000)
    error = runner.failures[0].error
    assert isinstance(error, ImageLoadError)  # the GUI checks the type, never parses text
    with pytest.raises(ImageLoadError) as direct:
        load_image(missing)
    assert str(error) == str(direct.value) and str(missing) in str(error)
    assert runner.settled_events[-1].outcome is Outcome.FAILED


def test_a_newer_request_cancels_a_running_job_that_checks(runner, qtbot):
    progress: list[float] = []
    runner.progress.connect(lambda p: progress.append(p.fraction))
    first = steps(2000)
    first_id = runner.submit(first)
    assert first.started.wait(5)
    qtbot.waitUntil(lambda: bool(progress), timeout=5000)
    newest = runner.submit(steps(3))
    qtbot.waitUntil(lambda: bool(runner.received), timeout=5000)
    assert [(d.request_id, d.result) for d in runner.received] == [(newest, 3)]
    assert first.stopped_early == [True]
    outcomes = {e.request_id: e.outcome for e in runner.settled_events}
    assert outcomes == {first_id: Outcome.CANCELLED, newest: Outcome.DONE}


def test_progress_carries_a_fraction_and_a_text(runner, qtbot):
    events = []
    runner.progress.connect(events.append)
    request = steps(4)
    rid = runner.submit(request)
    qtbot.waitUntil(lambda: bool(runner.received), timeout=5000)
    assert [(e.request, e.request_id) for e in events] == [(request, rid)] * 4
    assert [(e.fraction, e.text) for e in events] == [
        (0.25, "step 1 of 4"), (0.5, "step 2 of 4"), (0.75, "step 3 of 4"), (1.0, "step 4 of 4")]


def test_cancel_by_type_stops_a_running_job_which_settles_as_cancelled(runner, qtbot):
    progress: list[float] = []
    runner.progress.connect(lambda p: progress.append(p.fraction))
    request = steps(5000)
    rid = runner.submit(request)
    other = runner.submit(Echo("pipe", 0.1))  # another lane: not cancelled
    qtbot.waitUntil(lambda: bool(progress), timeout=5000)
    assert runner.cancel(Steps)
    qtbot.waitUntil(lambda: len(runner.settled_events) == 2, timeout=5000)
    qtbot.wait(50)
    assert request.stopped_early == [True]
    outcomes = {e.request_id: e.outcome for e in runner.settled_events}
    assert outcomes == {rid: Outcome.CANCELLED, other: Outcome.DONE}
    assert [d.request_id for d in runner.received] == [other] and not runner.failures
    assert not runner.cancel(Steps)  # nothing left to cancel


def test_cancel_drops_a_pending_request_at_once_and_by_id(runner, qtbot):
    running = steps(5000)
    first = runner.submit(running)
    assert running.started.wait(5)
    waiting = runner.submit(steps(3))  # pending behind the running one, which it cancels
    assert runner.cancel(waiting)
    # the pending request settles as cancelled at once, without running
    assert [(e.request_id, e.outcome) for e in runner.settled_events] == \
        [(waiting, Outcome.CANCELLED)]
    qtbot.waitUntil(lambda: len(runner.settled_events) == 2, timeout=5000)
    assert runner.settled_events[1].request_id == first and runner.settled_events[1].cancelled
    assert not runner.received and not runner.failures


def test_a_cancelled_sweep_settles_as_cancelled_not_failed(runner, qtbot):
    image = np.random.default_rng(1).random((512, 512)).astype(np.float32)
    request = SweepRequest(image, PipelineSpec(levels=6), tuple(range(65)), "x", True, False)
    progress: list[float] = []
    runner.progress.connect(lambda p: progress.append(p.fraction))
    rid = runner.submit(request)
    qtbot.waitUntil(lambda: bool(progress), timeout=30_000)
    assert runner.cancel(SweepRequest)
    qtbot.waitUntil(lambda: bool(runner.settled_events), timeout=30_000)
    [settled] = runner.settled_events
    assert (settled.request_id, settled.outcome) == (rid, Outcome.CANCELLED)
    assert not runner.failures and not runner.received


def test_subscribers_receive_only_the_request_types_they_ask_for(runner, qtbot):
    owner = QObject()
    seen: dict[str, list] = {"done": [], "failed": [], "settled": [], "progress": []}
    runner.subscribe(Echo, owner=owner, **{k: v.append for k, v in seen.items()})
    echo = runner.submit(Echo(1, 0.0))
    runner.submit(Divide())
    runner.submit(steps(2))
    qtbot.waitUntil(lambda: len(runner.settled_events) == 3, timeout=5000)
    assert [e.request_id for e in seen["done"]] == [echo]
    assert [e.request_id for e in seen["settled"]] == [echo]
    assert seen["failed"] == [] and seen["progress"] == []
    # a subscription ends with its owner
    owner.deleteLater()
    qtbot.waitUntil(lambda: not owner_alive(owner), timeout=5000)
    runner.submit(Echo(2, 0.0))
    qtbot.waitUntil(lambda: len(runner.settled_events) == 4, timeout=5000)
    assert [e.request_id for e in seen["done"]] == [echo]


def owner_alive(obj: QObject) -> bool:
    try:
        obj.objectName()
    except RuntimeError:
        return False
    return True


def test_a_request_needs_a_lane(runner):
    @dataclass(frozen=True)
    class NoLane(Request):
        def run(self, context: JobContext) -> None:
            return None

    with pytest.raises(TypeError, match="lane"):
        runner.submit(NoLane())


def test_shutdown_waits_for_a_running_job_and_stops_the_threads(qtbot):
    runner = JobRunner()
    runner.submit(Echo(1, 0.3))
    threads = list(runner.findChildren(QThread))
    assert threads and all(t.isRunning() for t in threads)
    assert runner.shutdown()
    assert not any(t.isRunning() for t in threads)
    with pytest.raises(RuntimeError, match="shut down"):
        runner.submit(Echo(2))


def test_every_submitted_job_settles_exactly_once(runner, qtbot):
    ids = [runner.submit(Echo(i, 0.01)) for i in range(20)]
    failing = runner.submit(Divide())
    qtbot.waitUntil(lambda: len(runner.settled_events) == 21, timeout=5000)
    qtbot.wait(50)
    settled = runner.settled_events
    assert sorted(e.request_id for e in settled) == sorted([*ids, failing])
    assert isinstance(runner.failures[0].error, ZeroDivisionError)
    outcomes = {e.request_id: e.outcome for e in settled}
    assert outcomes[failing] is Outcome.FAILED and outcomes[ids[-1]] is Outcome.DONE
    assert {outcomes[i] for i in ids[:-1]} == {Outcome.CANCELLED}  # replaced: cancelled


def test_job_cancelled_is_raised_by_check_once_cancelled():
    context = JobContext("lane", 1)
    context.check()
    context.cancel()
    assert context.cancelled
    with pytest.raises(JobCancelled):
        context.check()


def test_snapshot_pool_reuses_a_buffer_only_after_its_job_settled():
    import numpy as np

    from gui.canvas.snapshots import SnapshotPool

    pool = SnapshotPool()
    img = np.arange(12, dtype=np.float32).reshape(3, 4)
    a = pool.copy_of(img)
    pool.assign(1)
    img[0, 0] = 99
    b = pool.copy_of(img)
    pool.assign(2)
    assert a[0, 0] == 0 and b[0, 0] == 99 and not np.shares_memory(a, b)
    assert not a.flags.writeable and pool.busy == 2
    pool.changed((0, 0, 1, 1))
    pool.release(1)
    c = pool.copy_of(img)  # reuses job 1's buffer, never job 2's
    assert np.shares_memory(c, a) and not np.shares_memory(c, b)
    np.testing.assert_array_equal(c, img)
    pool.assign(3)
    np.testing.assert_array_equal(b, img)
    # later edits reach a reused buffer however they are reported
    for rect in [(1, 2, 3, 4), None]:
        img[2, 3] += 1
        img[0, 1] += 1 if rect is None else 0
        pool.changed(rect)
        pool.release(2)
        pool.release(3)
        d = pool.copy_of(img)
        pool.assign(4)
        np.testing.assert_array_equal(d, img)
        pool.release(4)


def test_a_donated_copy_is_used_as_is_until_the_image_changes():
    import numpy as np

    from gui.canvas.snapshots import SnapshotPool

    pool = SnapshotPool()
    img = np.ones((4, 5), np.float32)
    pool.changed(None)
    pool.donate(img.copy())
    first = pool.copy_of(img)
    pool.assign(1)
    np.testing.assert_array_equal(first, img)
    img[1, 1] = 7
    pool.changed((1, 1, 2, 2))
    pool.release(1)
    second = pool.copy_of(img)  # the donated buffer again, brought up to date
    assert np.shares_memory(first, second)
    np.testing.assert_array_equal(second, img)
