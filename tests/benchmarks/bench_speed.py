"""Every speed case of the window, the shift sweep and the engine, in one run, each with its
target: runs bench_engine.py, bench_gui.py, bench_gui_compare.py and bench_sweep.py one
after the other (each prints its own table as it goes), then prints all their cases in one
table, with the machine's load average before and after.

Run:  QT_QPA_PLATFORM=offscreen .venv/bin/python tests/benchmarks/bench_speed.py

Takes about five minutes. Run it on a quiet machine: two cores are shared by the GUI
thread, the worker threads and everything else that runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: The engine first: its ratio to a copy suffers most from memory the other scripts have just
#: given back (a run after the 12 MP sweep measured 45 ms where it took 20 alone).
SCRIPTS = (("bench_engine.py", "--repeats", "15"), ("bench_gui.py",),
           ("bench_gui_compare.py",), ("bench_sweep.py", "3"))


def load() -> str:
    """The 1-minute load average, as text."""
    return f"{os.getloadavg()[0]:.2f}"


def main() -> int:
    rows_file = Path(tempfile.mkdtemp(prefix="shiftlab-bench-")) / "rows.tsv"
    env = dict(os.environ, SHIFTLAB_BENCH_ROWS=str(rows_file))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    before = load()
    for script, *args in SCRIPTS:
        print(f"\n== {script} (load average {load()})", flush=True)
        done = subprocess.run([sys.executable, str(HERE / script), *args], env=env,
                              check=False)
        if done.returncode != 0:
            print(f"{script} failed with exit code {done.returncode}", file=sys.stderr)
            return done.returncode
    rows = [line.split("\t") for line in rows_file.read_text("utf-8").splitlines()]
    print(f"\nAll cases (load average {before} before, {load()} after)")
    print(f"{'case':<62}{'measured':>18}{'':<24}{'target':>10}  met")
    for case, middle, spread, target, unit, kind in rows:
        measured = f"{middle} / {spread}" if spread else middle
        met = "-" if not target else "yes" if float(middle) <= float(target) else "no"
        print(f"{case:<62}{measured:>18} {unit:<3}({kind:<19}){target:>10} {unit:<3}{met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
