"""What the headless commands share: the pipeline options (the same flags with the same
meanings in ``export`` and ``track``), their translation into a PipelineSpec, one-line
errors, progress lines, and SIGTERM/SIGHUP handled like Ctrl+C.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2

from engine import ACTIVATIONS, KERNELS, PADDINGS, POOL_MODES, parse_kernel_text
from engine.limits import MAX_BLUR_SIZE, MAX_LEVELS, MAX_POOL_SIZE, MAX_STRIDE
from figures.target import InterruptedAfterPlacing


class InputError(ValueError):
    """A bad input or option value found after parsing (exit code 1)."""


def whole(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number within ``minimum..maximum``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            span = f"at least {minimum}" if maximum is None else f"{minimum} to {maximum}"
            raise argparse.ArgumentTypeError(f"{value} is out of range: use {span}")
        return value
    return parse


def out_dir(text: str) -> Path:
    """An argparse type: the ``--out`` folder, refused when its name is empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the folder name is empty; name a new folder, "
                                         "e.g. --out out/result")
    return Path(text)


def add_pipeline_arguments(parser: argparse.ArgumentParser,
                           title: str = "pipeline (defaults: the article's)") -> None:
    """Add the pipeline option group (``--kernel``, ``--no-conv``, ``--pool``, ``--levels``
    ...) to `parser`; :func:`spec_overrides` reads them back."""
    p = parser.add_argument_group(title)
    kernel = p.add_mutually_exclusive_group()
    kernel.add_argument("--kernel", choices=list(KERNELS), metavar="NAME",
                        help=f"a named kernel: {', '.join(KERNELS)}")
    kernel.add_argument("--kernel-values", metavar="TEXT",
                        help='kernel values, rows split by ";", e.g. "-1,0,1;-1,0,1;-1,0,1"')
    p.add_argument("--no-conv", action="store_true", help="pool the input directly")
    p.add_argument("--padding", choices=PADDINGS, help="convolution padding")
    p.add_argument("--stride", type=whole(1, MAX_STRIDE), metavar="N",
                   help=f"convolution stride (1 to {MAX_STRIDE})")
    p.add_argument("--activation", choices=ACTIVATIONS, help="after the convolution")
    p.add_argument("--pool", choices=POOL_MODES, help="pooling mode")
    p.add_argument("--pool-size", type=whole(1, MAX_POOL_SIZE), metavar="N",
                   help=f"pooling window (1 to {MAX_POOL_SIZE})")
    p.add_argument("--pool-stride", type=whole(1, MAX_POOL_SIZE), metavar="N",
                   help="pooling stride (default: the window)")
    p.add_argument("--levels", type=whole(0, MAX_LEVELS), metavar="N",
                   help=f"pooling levels (0 to {MAX_LEVELS})")
    p.add_argument("--blur-size", type=whole(1, MAX_BLUR_SIZE), metavar="N",
                   help=f"binomial blur taps of blurmax/blur pooling (1 to {MAX_BLUR_SIZE})")


def spec_overrides(args: argparse.Namespace) -> dict:
    """Return the PipelineSpec fields the pipeline options of `args` set, e.g.
    ``{"convolve": False, "levels": 3}``; raise InputError for bad --kernel-values."""
    changes: dict = {}
    if args.kernel is not None:
        changes["kernel"] = args.kernel
    if args.kernel_values is not None:
        try:
            values = parse_kernel_text(args.kernel_values)
        except ValueError as exc:
            raise InputError(f"--kernel-values: {exc}") from None
        changes["kernel"] = tuple(tuple(float(v) for v in row) for row in values)
    if args.no_conv:
        changes["convolve"] = False
    for option, name in (("padding", "padding"), ("stride", "stride"),
                         ("activation", "activation"), ("pool", "pool_mode"),
                         ("pool_size", "pool_size"), ("pool_stride", "pool_stride"),
                         ("levels", "levels"), ("blur_size", "blur_size")):
        value = getattr(args, option)
        if value is not None:
            changes[name] = value
    return changes


def attach_kernel_values(argv: list[str]) -> list[str]:
    """Join ``--kernel-values TEXT`` into ``--kernel-values=TEXT``: kernels often start
    with a minus sign, which argparse would otherwise read as an option."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--kernel-values":
            value = next(args, None)
            out.append(arg if value is None else f"{arg}={value}")
        else:
            out.append(arg)
    return out


def quiet_opencv() -> None:
    """Silence OpenCV's own log lines: a damaged file gets its one-line error from us."""
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


def use_offscreen_without_display() -> None:
    """Draw offscreen when there is no display to draw on."""
    if not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY")
            or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def gui_application(prog: str):
    """Return the running QGuiApplication, or start one (figures draw with QtGui)."""
    from PySide6.QtGui import QGuiApplication

    return QGuiApplication.instance() or QGuiApplication([prog])


def fail(prog: str, message: object) -> int:
    """Print ``PROG: error: MESSAGE`` on one line to stderr; return exit code 1."""
    print(f"{prog}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 1


def os_error_text(exc: OSError) -> str:
    """One line naming the file and the reason, e.g. ``"out/set: Permission denied"``."""
    if exc.filename is None or exc.strerror is None:
        return str(exc)
    names = str(exc.filename) + ("" if exc.filename2 is None else f" -> {exc.filename2}")
    return f"{names}: {exc.strerror}"


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived; handled like Ctrl+C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated(signum)


def catch_termination() -> dict[int, object]:
    """Make SIGTERM and SIGHUP interrupt like Ctrl+C (so the temporary folder goes); return
    the handlers they had, for :func:`restore_signals`."""
    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            try:
                previous[signum] = signal.signal(signum, _raise_terminated)
            except ValueError:  # not the main thread: leave the signals alone
                pass
    return previous


def restore_signals(previous: dict[int, object]) -> None:
    """Put back the handlers :func:`catch_termination` replaced."""
    for signum, handler in previous.items():
        signal.signal(signum, handler)


def run_command(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
                body: Callable[[argparse.Namespace], int],
                misuse: Callable[[argparse.Namespace], str | None] | None = None) -> int:
    """Parse `argv` (``sys.argv[2:]`` when None) with `parser` and run `body` on the
    result, with OpenCV quiet, Qt offscreen when there is no display, and SIGTERM/SIGHUP
    raised as interrupts until it returns.

    Returns
    -------
    int
        `body`'s exit code, or argparse's: 0 after --help, 2 for a usage error (also when
        `misuse` names a combination of flags that does not apply), already printed.
    """
    try:
        args = parser.parse_args(attach_kernel_values(
            sys.argv[2:] if argv is None else list(argv)))
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code or 0)
    problem = misuse(args) if misuse is not None else None
    if problem:
        try:
            parser.error(problem)
        except SystemExit as exc:
            return int(exc.code)
    use_offscreen_without_display()
    quiet_opencv()
    previous = catch_termination()
    try:
        return body(args)
    finally:
        restore_signals(previous)


def interrupted(prog: str, exc: KeyboardInterrupt) -> int:
    """Say on stderr that the command was interrupted and what is left; return the exit
    code: 130 for Ctrl+C, 128 + the signal's number for SIGTERM or SIGHUP."""
    code = 128 + exc.signum if isinstance(exc, Terminated) else 130
    how = f"stopped by {exc}" if isinstance(exc, Terminated) else "interrupted"
    late = exc if isinstance(exc, InterruptedAfterPlacing) else \
        exc.__context__ if isinstance(exc.__context__, InterruptedAfterPlacing) else None
    print(f"{prog}: {how}; " + (str(late) if late is not None else "nothing was written."),
          file=sys.stderr)
    return code


def print_progress(step: int, total: int, message: str) -> None:
    """A progress line on stderr: ``[step/total] message ...`` (``?`` for a total of 0:
    not known yet)."""
    print(f"[{step}/{total or '?'}] {message} ...", file=sys.stderr, flush=True)
