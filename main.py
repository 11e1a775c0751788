"""ShiftLab entry point.

    python main.py [IMAGE]                 open the window (optionally with a photo)
    python main.py export INPUT --out DIR  write a figure set without a window
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Start ShiftLab; return the process exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "export":
        from cli import main as export_main

        return export_main(argv[1:])
    from gui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
