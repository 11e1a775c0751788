"""Test setup shared by every folder: the checkout and the test helpers on the path.

Nothing here imports Qt: the engine's tests run where PySide6 is not installed. The Qt
fixtures live in ``tests/gui/conftest.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Headless Qt for the folders that use it (setting a variable imports nothing).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TESTS = Path(__file__).resolve().parent
for folder in (TESTS.parent, TESTS):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

# The benchmarks are scripts that print timings, never tests; --doctest-modules would import them.
collect_ignore = ["benchmarks"]
