"""The command line's answers before any window opens: help, version, usage errors, and a
clear one-line error (not Qt's abort) where there is no display.

Each test runs ``python main.py`` in a subprocess, as a user would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")


def run_main(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run ``python main.py ARGS`` from the checkout; return the finished process."""
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT,
                          env=os.environ.copy() if env is None else env,
                          capture_output=True, text=True, timeout=60)


def environment_without_display(**extra: str) -> dict[str, str]:
    """Return this environment without any display or Qt platform, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in DISPLAY_VARIABLES}
    env.update(extra)
    return env


def error_lines(proc: subprocess.CompletedProcess) -> list[str]:
    return [line for line in proc.stderr.splitlines() if line.strip()]


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_a_short_usage_and_exits_0(flag):
    proc = run_main(flag)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: shiftlab")
    assert "IMAGE" in proc.stdout and ".shiftlab" in proc.stdout
    assert "shiftlab export INPUT --out DIR" in proc.stdout
    assert "shiftlab export --help" in proc.stdout
    assert len(proc.stdout.splitlines()) <= 25
    assert proc.stderr == ""


def test_version_prints_the_version_and_exits_0():
    proc = run_main("--version")
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"shiftlab \d+\.\d+\S*\n", proc.stdout), proc.stdout
    assert proc.stderr == ""


@pytest.mark.parametrize("args", [["--bogus"], ["one.png", "two.png"]])
def test_a_usage_error_prints_usage_and_one_error_and_exits_2(args):
    # Without a display too: a usage error is reported before any window is tried.
    proc = run_main(*args, env=environment_without_display())
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("usage: shiftlab")
    errors = [line for line in error_lines(proc) if "error" in line]
    assert len(errors) == 1 and errors[0].startswith("shiftlab: error: "), proc.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a display server is Linux's")
def test_without_a_display_the_window_says_so_in_one_line_and_exits_1():
    proc = run_main(env=environment_without_display())
    assert proc.returncode == 1, proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    assert "no display" in lines[0] and "shiftlab export" in lines[0]
    assert proc.stdout == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a display server is Linux's")
def test_an_x_display_with_no_server_says_so_in_one_line_and_exits_1():
    number = next(n for n in range(917, 1200) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                  and not Path(f"/tmp/.X{n}-lock").exists())
    proc = run_main("photo.png", env=environment_without_display(DISPLAY=f":{number}"))
    assert proc.returncode == 1, proc.stderr
    lines = error_lines(proc)
    assert len(lines) == 1, proc.stderr
    assert f":{number}" in lines[0] and "shiftlab export" in lines[0]


def test_display_problem_reads_the_platform_and_the_display_variables():
    pytest.importorskip("PySide6")
    from gui.app import display_problem

    assert display_problem({}, "linux")
    assert display_problem({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert display_problem({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "minimal"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"DISPLAY": "remote.example:0"}, "linux") is None
    assert display_problem({}, "darwin") is None
    assert display_problem({}, "win32") is None
