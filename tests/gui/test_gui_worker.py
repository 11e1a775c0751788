"""The job runner: latest request wins per channel, errors reported, threads stopped."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread

from gui.worker import JobRunner


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    received: list[tuple[str, int, object]] = []
    failures: list[tuple[str, int, str]] = []
    r.finished.connect(lambda c, i, v: received.append((c, i, v)))
    r.failed.connect(lambda c, i, m: failures.append((c, i, m)))
    r.received, r.failures = received, failures
    yield r
    assert r.shutdown()


def slow_identity(value, delay=0.02):
    time.sleep(delay)
    return value, threading.get_ident()


def test_jobs_run_off_the_gui_thread_and_only_the_newest_result_arrives(runner, qtbot):
    ids = [runner.submit("pipeline", slow_identity, i) for i in range(50)]
    assert ids == sorted(ids) and len(set(ids)) == 50
    qtbot.waitUntil(lambda: bool(runner.received), timeout=5000)
    qtbot.wait(100)  # anything older that still finishes must not be delivered
    assert len(runner.received) == 1
    channel, rid, (value, thread_id) = runner.received[0]
    assert (channel, rid, value) == ("pipeline", ids[-1], 49)
    assert thread_id != threading.get_ident()


def test_channels_do_not_replace_each_other(runner, qtbot):
    a = runner.submit("sweep", slow_identity, "sweep", 0.2)
    b = runner.submit("pipeline", slow_identity, "pipe", 0.0)
    qtbot.waitUntil(lambda: len(runner.received) == 2, timeout=5000)
    got = {c: (i, v[0]) for c, i, v in runner.received}
    assert got == {"sweep": (a, "sweep"), "pipeline": (b, "pipe")}
    # the short pipeline job did not wait behind the long sweep
    assert runner.received[0][0] == "pipeline"


def test_an_exception_is_reported_with_its_type_and_message(runner, qtbot):
    def broken(x):
        raise ValueError(f"bad value {x}")

    rid = runner.submit("pipeline", broken, 7)
    qtbot.waitUntil(lambda: bool(runner.failures), timeout=5000)
    assert runner.failures == [("pipeline", rid, "ValueError: bad value 7")]
    runner.submit("pipeline", slow_identity, 1, 0.0)  # the channel still works
    qtbot.waitUntil(lambda: bool(runner.received), timeout=5000)


def test_a_newer_request_cancels_a_running_job_that_checks(runner, qtbot):
    progress: list[float] = []
    runner.progress.connect(lambda c, i, f: progress.append(f))
    started = threading.Event()
    stopped_early: list[bool] = []

    def long_job(steps, context):
        started.set()
        for k in range(steps):
            if context.cancelled:
                stopped_early.append(True)
                context.check()
            context.progress((k + 1) / steps)
            time.sleep(0.005)
        return steps

    runner.submit("sweep", long_job, 2000)
    assert started.wait(5)
    qtbot.waitUntil(lambda: bool(progress), timeout=5000)
    newest = runner.submit("sweep", long_job, 3)
    qtbot.waitUntil(lambda: bool(runner.received), timeout=5000)
    assert runner.received == [("sweep", newest, 3)]
    assert stopped_early == [True]


def test_shutdown_waits_for_a_running_job_and_stops_the_threads(qtbot):
    runner = JobRunner()
    runner.submit("pipeline", slow_identity, 1, 0.3)
    threads = list(runner.findChildren(QThread))
    assert threads and all(t.isRunning() for t in threads)
    assert runner.shutdown()
    assert not any(t.isRunning() for t in threads)
    with pytest.raises(RuntimeError, match="shut down"):
        runner.submit("pipeline", slow_identity, 2)


def test_every_submitted_job_settles_exactly_once(runner, qtbot):
    settled: list[int] = []
    runner.settled.connect(lambda c, i: settled.append(i))
    ids = [runner.submit("pipeline", slow_identity, i, 0.01) for i in range(20)]
    failing = runner.submit("other", lambda: 1 / 0)
    qtbot.waitUntil(lambda: len(settled) == 21, timeout=5000)
    qtbot.wait(50)
    assert sorted(settled) == sorted([*ids, failing])
    assert runner.failures[0][2].startswith("ZeroDivisionError")


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
