"""The engine must run without Qt: importing it (and every submodule) loads no Qt binding."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

QT_PREFIXES = ("PySide6", "shiboken6", "PyQt", "pyqtgraph", "qtpy")

PROBE = """
import importlib, json, pkgutil, sys
import engine
names = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({"submodules": names, "loaded": sorted(sys.modules)}))
"""


def test_importing_the_engine_loads_no_qt():
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=repo, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"engine.conv", "engine.pool", "engine.pipeline", "engine.image_io"} <= \
        set(report["submodules"])
    qt = [name for name in report["loaded"] if name.startswith(QT_PREFIXES)]
    assert qt == [], f"engine imports Qt modules: {qt}"


def test_the_probe_would_see_qt():
    # The same check spots a Qt binding once one is imported, so the test above can fail.
    probe = PROBE.replace("import engine\n", "import engine, PySide6.QtCore\n")
    done = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[2],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])["loaded"]
    assert any(name.startswith(QT_PREFIXES) for name in loaded)
