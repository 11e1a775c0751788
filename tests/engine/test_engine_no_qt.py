"""The engine must run without Qt: importing it (and every submodule) loads no Qt binding, and
its tests and doctests pass where PySide6, shiboken6 and pyqtgraph cannot be imported."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QT_PREFIXES = ("PySide6", "shiboken6", "PyQt", "pyqtgraph", "qtpy")

PROBE = """
import importlib, json, pkgutil, sys
import engine
names = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"submodules": names, "loaded": sorted(sys.modules)}))
"""

#: Names the "Qt is not installed" runs refuse to import (read by NOT_INSTALLED below).
BLOCK_VARIABLE = "SHIFTLAB_BLOCK_IMPORTS"
BLOCKED = ("PySide6", "shiboken6", "pyqtgraph")

# A sitecustomize module, put first on PYTHONPATH: Python imports it at start-up (in every
# child process too), and it makes importing the listed packages fail as if they were not
# installed, whatever site-packages holds.
NOT_INSTALLED = f'''"""Importing the packages in ${BLOCK_VARIABLE} fails, as if not installed."""
import os
import sys

_BLOCKED = frozenset(filter(None, os.environ.get("{BLOCK_VARIABLE}", "").split(",")))


class NotInstalled:
    @staticmethod
    def find_spec(name, path=None, target=None):
        if name.partition(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked: {BLOCK_VARIABLE})",
                                      name=name)
        return None


if _BLOCKED:
    sys.meta_path.insert(0, NotInstalled)
'''


def _qt_installed() -> bool:
    try:
        return importlib.util.find_spec("PySide6") is not None
    except ImportError:  # refused by the NotInstalled finder of a run without Qt
        return False


def _without_qt(folder: Path) -> dict[str, str]:
    """The environment of a process where the Qt packages cannot be imported."""
    (folder / "sitecustomize.py").write_text(NOT_INSTALLED, encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(folder), env.get("PYTHONPATH")]))
    env[BLOCK_VARIABLE] = ",".join(BLOCKED)
    return env


def test_importing_the_engine_loads_no_qt():
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"engine.conv", "engine.pool", "engine.pipeline", "engine.image_io"} <= \
        set(report["submodules"])
    qt = [name for name in report["loaded"] if name.startswith(QT_PREFIXES)]
    assert qt == [], f"engine imports Qt: {sorted({name.split('.')[0] for name in qt})}"


@pytest.mark.skipif(not _qt_installed(), reason="needs PySide6 to show the probe sees it")
def test_the_probe_would_see_qt():
    # The same check spots a Qt binding once one is imported, so the test above can fail.
    probe = PROBE.replace("import engine\n", "import engine, PySide6.QtCore\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])["loaded"]
    assert any(name.startswith(QT_PREFIXES) for name in loaded)


def test_a_run_without_qt_cannot_import_it(tmp_path):
    env = _without_qt(tmp_path)
    for name in (*BLOCKED, "PySide6.QtCore", "pyqtgraph.exporters"):
        done = subprocess.run([sys.executable, "-c", f"import {name}"], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode != 0, f"import {name} worked in a run without Qt"
        top = name.partition(".")[0]
        assert f"ModuleNotFoundError: No module named {top!r}" in done.stderr, done.stderr
    done = subprocess.run([sys.executable, "-c", "import engine, numpy, cv2"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(BLOCK_VARIABLE in os.environ, reason="already inside a run without Qt")
def test_the_engine_tests_and_doctests_pass_without_qt(tmp_path):
    # pytest-qt's plugin imports the binding named by qt_api when pytest configures itself,
    # so without Qt every pytest run stops there (INTERNALERROR, "No module named 'PySide6'")
    # before collecting anything. The engine's tests do not need it: -p no:pytest-qt, the
    # plugin's entry-point name ("no:pytestqt" blocks nothing).
    report = tmp_path / "report.xml"
    command = [sys.executable, "-m", "pytest", "tests/engine", "engine", "-q",
               "-p", "no:pytest-qt", "-p", "no:cacheprovider", f"--junitxml={report}"]
    done = subprocess.run(command, cwd=REPO, env=_without_qt(tmp_path), capture_output=True,
                          text=True, timeout=300, check=False)
    output = (done.stdout + done.stderr)[-6000:]
    assert done.returncode == 0, f"{' '.join(command[1:])} failed without Qt:\n{output}"
    cases = ET.parse(report).getroot().iter("testcase")
    names = [f"{case.get('classname')}.{case.get('name')}" for case in cases]
    doctests = [name for name in names if name.startswith("engine.")]
    tests = [name for name in names if name.startswith("tests.engine.")]
    assert len(doctests) >= 10, f"the engine's doctests were not run: {doctests}"
    assert len(tests) >= 100, f"the engine's tests were not run ({len(tests)})"
