"""ShiftLab entry point.

    shiftlab [IMAGE | SESSION.shiftlab]    open the window (optionally with a photo or a session)
    shiftlab export INPUT --out DIR ...    write a figure set without a window
    shiftlab measure --network NET IMAGE... --out FILE.json    measure a network under shifts
    shiftlab track VIDEO --out DIR ...     follow each stage's maximum through a video
    shiftlab --version | --help

``python main.py`` is the same command from a checkout.
"""

from __future__ import annotations

import argparse
import sys
from importlib import metadata

PROG = "shiftlab"

#: The version when ShiftLab runs from a checkout that was never installed; ``pyproject.toml``
#: reads the package version from here, so the two cannot disagree.
__version__ = "0.1.0"

USAGE = f"""{PROG} [IMAGE | SESSION.shiftlab]
       {PROG} export INPUT --out DIR [options]
       {PROG} measure --network NAME_OR_FILE IMAGE_OR_FOLDER... --out FILE.json
       {PROG} track VIDEO --out DIR [options]"""

DESCRIPTION = """\
Open the ShiftLab window, optionally with an image file or a saved session (*.shiftlab).
With 'export', write a figure set (panels, sheet, stages.npz, metrics, manifest.json)
without a window: INPUT is an image file or example:NAME (pixel, mirror, two-photos, shift).
With 'measure', measure how often a network's answer changes under one-pixel shifts.
With 'track', follow each stage's maximum through every frame of a video (or a folder of
numbered images): trajectory.csv, a plot of it and an annotated MP4, without a window."""

EPILOG = (f"See '{PROG} export --help', '{PROG} measure --help' and '{PROG} track --help' "
          "for their options.")


def version() -> str:
    """Return ShiftLab's version: the installed package's, else ``__version__``.

    Returns
    -------
    str
        The version string, e.g. ``"0.1.0"``.
    """
    try:
        return metadata.version(PROG)
    except metadata.PackageNotFoundError:
        return __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the window's command line (``export`` has its own, in ``cli``).

    Returns
    -------
    argparse.ArgumentParser
        Accepts at most one file, ``--version`` and ``-h``/``--help``.
    """
    parser = argparse.ArgumentParser(
        prog=PROG, usage=USAGE, description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", metavar="FILE",
                        help="an image to open, or a session file (*.shiftlab)")
    parser.add_argument("--version", action="version", version=f"{PROG} {version()}",
                        help="print the version and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run ShiftLab's command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments after the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The process exit code: 0 done, 1 the window cannot open (or a command failed),
        2 a usage error.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "export":
        from cli import main as export_main

        return export_main(argv[1:])
    if argv and argv[0] == "measure":
        from cli_measure import main as measure_main

        return measure_main(argv[1:])
    if argv and argv[0] == "track":
        from cli_track import main as track_main

        return track_main(argv[1:])
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help and --version (0) or a usage error (2), already printed
        return int(exc.code or 0)
    from gui.app import run_app

    return run_app([args.file] if args.file is not None else [])


if __name__ == "__main__":
    sys.exit(main())
