"""Start the real program in a real X window (Xvfb, the xcb platform), poke it, close it.

The offscreen platform the other tests use hides platform-plugin failures, so this
test runs ``python main.py`` exactly as a person would, with QT_QPA_PLATFORM unset.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BAD_OUTPUT = ("Could not load the Qt platform plugin", "Traceback", "QThread: Destroyed",
              "Fatal Python error")

pytestmark = pytest.mark.skipif(shutil.which("Xvfb") is None,
                                reason="Xvfb is not installed (apt-get install xvfb xdotool)")


def free_display() -> int:
    for n in range(140, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    pytest.skip("no free X display number")


@pytest.fixture
def xserver(tmp_path):
    # Another Xvfb (a parallel test run) may take the same display number between the
    # check and the start: then ours exits, and the socket we see is the other's. Only a
    # server of our own that is still running counts.
    for _ in range(5):
        n = free_display()
        proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1400x900x24", "-nolisten",
                                 "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        socket = Path(f"/tmp/.X11-unix/X{n}")
        deadline = time.monotonic() + 10
        while not socket.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        # The socket appears before the server answers; under load that gap can exceed a
        # fixed sleep, so wait until a client is really served.
        while proc.poll() is None and time.monotonic() < deadline and not answers(f":{n}"):
            time.sleep(0.1)
        if socket.exists() and proc.poll() is None and answers(f":{n}"):
            break
        proc.kill()
        proc.wait(10)
    else:
        pytest.skip("Xvfb did not start")
    yield f":{n}"
    proc.terminate()
    proc.wait(10)


def answers(display: str) -> bool:
    """True when the X server on `display` serves a client (xdotool, when installed)."""
    if shutil.which("xdotool") is None:
        return True
    done = subprocess.run(["xdotool", "getdisplaygeometry"], capture_output=True, timeout=20,
                          env={**os.environ, "DISPLAY": display}, check=False)
    return done.returncode == 0


def xdotool(display: str, *args: str) -> str:
    out = subprocess.run(["xdotool", *args], env={**os.environ, "DISPLAY": display},
                         capture_output=True, text=True, timeout=20)
    return out.stdout.strip()


def test_main_window_runs_in_a_real_x_window(xserver, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(DISPLAY=xserver, XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_RUNTIME_DIR=str(tmp_path))
    os.chmod(tmp_path, 0o700)
    err_path = tmp_path / "stderr.txt"
    with open(err_path, "w") as err:
        app = subprocess.Popen([sys.executable, str(ROOT / "main.py")], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=err)
    try:
        window = ""
        if shutil.which("xdotool"):
            deadline = time.monotonic() + 30
            while not window and app.poll() is None and time.monotonic() < deadline:
                time.sleep(0.25)
                window = xdotool(xserver, "search", "--onlyvisible", "--pid", str(app.pid))
            assert window, f"no window appeared; stderr:\n{err_path.read_text()}"
            window = window.splitlines()[-1]
            assert "ShiftLab" in xdotool(xserver, "getwindowname", window)
            # No window manager runs: focus the window directly, then type (XTEST events,
            # which Qt treats as real input, unlike events sent to a window).
            xdotool(xserver, "windowfocus", "--sync", window)
            xdotool(xserver, "key", "ctrl+m", "Right", "ctrl+z", "ctrl+k", "bracketright")
            xdotool(xserver, "mousemove", "--window", window, "150", "300",
                    "mousedown", "1", "mousemove", "--window", window, "220", "360",
                    "mouseup", "1")
        else:
            time.sleep(5)
        time.sleep(3)
        assert app.poll() is None, f"the program died; stderr:\n{err_path.read_text()}"
        if window:
            xdotool(xserver, "key", "ctrl+q")
            code = app.wait(20)
            assert code == 0
    finally:
        if app.poll() is None:
            app.terminate()
            app.wait(20)
    stderr = err_path.read_text()
    for bad in BAD_OUTPUT:
        assert bad not in stderr, stderr
