"""The Qt fixtures fail a test that leaves a thread or timer running, and name where it started.

Runs a small test file with a copy of ``tests/gui/conftest.py`` in a separate pytest process
and reads its JUnit report: a test that leaks must error at teardown with the leak's
``file:line``; a test that cleans up (or whose timers already fired, or died with their
owner, or belong to a library) must pass.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from pathlib import Path

CONFTEST = Path(__file__).resolve().with_name("conftest.py")
LIBRARY_FILE = os.path.join(sysconfig.get_paths()["purelib"], "some_library.py")

HELPER = '''\
from PySide6.QtCore import QTimer


def start_polling(owner):
    timer = QTimer(owner)
    timer.start(60_000)  # HELPER_START
    return timer
'''

TESTS = f'''\
import pytest
from PySide6.QtCore import QObject, QThread, QTimer
from PySide6.QtWidgets import QWidget

from helper import start_polling

KEEP = []


def test_leaves_a_timer(qtbot):
    timer = QTimer()
    timer.start(60_000)  # LEAK_TIMER
    KEEP.append(timer)


def test_leaves_a_single_shot(qtbot):
    QTimer.singleShot(60_000, lambda: None)  # LEAK_SHOT


def test_leaves_a_single_shot_with_a_live_context(qtbot):
    owner = QObject()
    KEEP.append(owner)
    QTimer.singleShot(60_000, owner, lambda: None)  # LEAK_CONTEXT_SHOT


def test_leaves_a_thread(qtbot):
    thread = QThread()
    thread.start()  # LEAK_THREAD
    KEEP.append(thread)


def test_leaves_a_timer_started_by_a_helper(qtbot):
    owner = QObject()
    KEEP.append(owner)
    start_polling(owner)  # LEAK_HELPER_CALL


def test_short_single_shots_that_fire_are_fine(qtbot):
    fired = []
    QTimer.singleShot(0, lambda: fired.append(0))
    QTimer.singleShot(30, lambda: fired.append(30))
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: fired.append("timer"))
    timer.start(30)
    KEEP.append((timer, fired))


def test_a_stopped_timer_is_fine(qtbot):
    timer = QTimer()
    timer.start(60_000)
    timer.stop()
    KEEP.append(timer)


def test_a_timer_dies_with_its_owner(qtbot):
    owner = QObject()
    QTimer(owner).start(60_000)
    del owner


def test_a_single_shot_dies_with_its_context(qtbot):
    owner = QObject()
    QTimer.singleShot(60_000, owner, lambda: None)
    del owner


def test_a_timer_of_a_widget_closed_at_teardown_is_fine(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    QTimer(widget).start(60_000)


def test_a_timer_a_library_starts_is_not_ours(qtbot):
    timer = QTimer()
    exec(compile("timer.start(60_000)", {LIBRARY_FILE!r}, "exec"), {{"timer": timer}})
    KEEP.append(timer)


def test_a_thread_that_is_stopped_is_fine(qtbot):
    thread = QThread()
    thread.start()
    thread.quit()
    thread.wait()


def test_last_stops_what_the_library_started():
    for item in KEEP:
        if isinstance(item, QTimer):
            item.stop()
'''


def _line(text: str, marker: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if f"# {marker}" in line)


def test_leaked_threads_and_timers_fail_with_where_they_started(tmp_path):
    (tmp_path / "conftest.py").write_text(CONFTEST.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "helper.py").write_text(HELPER, encoding="utf-8")
    (tmp_path / "test_leaks.py").write_text(TESTS, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nqt_api = pyside6\n", encoding="utf-8")
    report = tmp_path / "report.xml"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen",
               PYTHONPATH=os.pathsep.join(filter(None, [str(tmp_path),
                                                         os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
                           f"--junitxml={report}", "test_leaks.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    output = done.stdout + done.stderr
    assert report.exists(), output
    problems = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        texts = [e.text or "" for e in case if e.tag in ("error", "failure")]
        problems[case.get("name")] = "\n".join(texts)

    def at(marker: str, file: str = "test_leaks.py", text: str = TESTS) -> str:
        return f"{file}:{_line(text, marker)}"

    expected = {
        "test_leaves_a_timer": ["QTimer <", "(60000 ms) started at " + at("LEAK_TIMER")],
        "test_leaves_a_single_shot": ["QTimer.singleShot(60000 ms) started at " + at("LEAK_SHOT")],
        "test_leaves_a_single_shot_with_a_live_context":
            ["QTimer.singleShot(60000 ms) started at " + at("LEAK_CONTEXT_SHOT")],
        "test_leaves_a_thread": ["QThread <", "started at " + at("LEAK_THREAD")],
        "test_leaves_a_timer_started_by_a_helper":
            ["QTimer <", f"started at {at('HELPER_START', 'helper.py', HELPER)} "
             f"(from {at('LEAK_HELPER_CALL')})"],
    }
    for name, problem in problems.items():
        if name in expected:
            assert "test left running" in problem, f"{name} passed:\n{output}"
            for part in expected[name]:
                assert part in problem, f"{name}: {part!r} not in\n{problem}"
            assert problem.count("started at") == 1, problem
        else:
            assert problem == "", f"{name} should pass:\n{problem}"
    assert set(expected) < set(problems), output
    assert len(problems) == 13, output
