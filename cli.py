"""The headless export command: ``python main.py export INPUT --out DIR [options]``.

Exit codes: 0 written; 1 an input or output error, explained in one line on stderr;
2 a usage error (argparse's message); 130 interrupted by Ctrl+C, 143 or 129 stopped by
SIGTERM or SIGHUP (nothing left behind, or what is left said in one line).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

from cli_common import (
    InputError,
    add_pipeline_arguments,
    fail,
    gui_application,
    interrupted,
    os_error_text,
    out_dir,
    print_progress,
    run_command,
    whole,
)
from cli_common import spec_overrides as _spec_overrides
from engine import (
    EXAMPLES,
    CompareSetup,
    ImageSource,
    InputImage,
    InputTransform,
    PipelineSpec,
    ViewState,
    example_state,
    load_session,
)
from engine.limits import MAX_TOP_K
from engine.networks import (
    CHANNEL_ORDERS,
    FITS,
    MAX_SHIFT_RANGE,
    NETWORKS,
    NetworkChoice,
    short_name,
)
from engine.networks.choice import ALL_DIGITS
from engine.session import SUFFIX as SESSION_SUFFIX
from figures.command import EXAMPLE_PREFIX, reproducing_command
from figures.figure_set import (
    DEFAULT_FORMATS,
    FORMATS,
    MAX_ANIMATED_SHIFTS,
    MAX_COLUMNS,
    MAX_DPI,
    MAX_FONT,
    MAX_TITLE,
    MAX_WIDTH,
    MIN_DPI,
    MIN_FONT,
    MIN_PANEL,
    ExportJob,
    ExportNotice,
    FigureSetOptions,
    is_title,
    write_figure_set,
)
from figures.target import check_target

PROG = "shiftlab export"

EPILOG = f"""\
INPUT is an image file (PNG, JPEG, BMP, TIFF, WebP; read as grey), example:NAME for a
built-in example ({", ".join(EXAMPLES)}), which brings its own image B and pipeline, or
a session file (*{SESSION_SUFFIX}, as File > Save session and every figure set write),
which brings everything the window showed; options given explicitly override theirs.

Without --mirror/--flip/--shift/--rotate/--compare (and for a file input) the set shows
one row.
With one of them it is a comparison: rows A, B and A-B, and metrics with each stage's
distance, peak displacement and (for a circular --shift) equivariance error.

The set is written into a temporary folder next to DIR and moved into place at the end:
a failure, Ctrl-C, SIGTERM or SIGHUP leaves nothing behind, and missing parent folders
are created only then. An existing non-empty DIR is replaced only with --force, and only
if it is a figure set written by ShiftLab; the current folder, home, / and a folder
holding an input never take a set. manifest.json records the command that writes the
set again.

examples:
  the article's one-pixel example (pixels 5 apart end in the same pooled cell):
    python main.py export example:pixel --out out/pixel
  a photo and its mirror through the vertical Prewitt (the article's 'Sobel') + ReLU
  + 6 max pools:
    python main.py export example:mirror --out out/mirror
  two different photos:
    python main.py export example:two-photos --out out/two-photos
  your photo against itself moved 1 pixel right, anti-aliased pooling, with a sweep:
    python main.py export photo.jpg --shift 0 1 --pool blurmax --animate-shifts 8 --out out/s
  a drawn digit through the bundled max-pooling network: its layers, the answer and the
  top-1 class for every shift of -4..4 pixels:
    python main.py export digit.png --network digits-max --out out/digit
  the same digit through the three bundled digit networks side by side:
    python main.py export digit.png --network digits-all --out out/digits
  your own ONNX model on a photo, centre-cropped, with class names:
    python main.py export photo.jpg --network model.onnx --fit crop --labels classes.txt \
        --out out/model
  your own kernel, SVG and data only, 600 px wide, transparent:
    python main.py export photo.jpg --kernel-values "1,0,-1;2,0,-2;1,0,-1" \\
        --formats svg,npz,json --width 600 --background transparent --out out/k
"""


def _title(text: str) -> str:
    if not is_title(text):
        raise argparse.ArgumentTypeError(f"use one line of at most {MAX_TITLE} characters")
    return text


def _formats(text: str) -> tuple[str, ...]:
    items = [t.strip().lower() for t in text.split(",") if t.strip()]
    unknown = [t for t in items if t not in FORMATS]
    if unknown or not items:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use a comma-separated list of {', '.join(FORMATS)}")
    return tuple(items)


def _names(text: str) -> tuple[str, ...]:
    items = tuple(t.strip() for t in text.split(",") if t.strip())
    if not items:
        raise argparse.ArgumentTypeError(f"{text!r}: give one or more layer names")
    return items


def _numbers(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: use one number or one per channel, separated by commas") from None
    return values


#: The network options other than --network itself, by their argparse names.
_NETWORK_SETTINGS = ("layers", "fit", "mean", "std", "labels", "channel_order",
                     "shift_map_radius", "shift_map_no_wrap")


def network_choice(args: argparse.Namespace, current: NetworkChoice | None
                   ) -> NetworkChoice | None:
    """The network the export shows: --network (or the session's network) with the
    network options applied; None without either.

    Raises
    ------
    InputError
        For network options without a network, or a layer the model does not have (the
        message lists them).
    ValueError
        For a model or labels file that cannot be used (naming the file).
    """
    given = {k: getattr(args, k) for k in _NETWORK_SETTINGS
             if getattr(args, k) not in (None, False)}
    if args.network is None and current is None:
        if given:
            flag = "--" + next(iter(given)).replace("_", "-")
            raise InputError(f"{flag} applies only with --network NAME_OR_FILE.")
        return None
    choice = current
    if args.network == ALL_DIGITS:
        choice = NetworkChoice.all_digits()
    elif args.network is not None:
        choice = (NetworkChoice.bundled(args.network) if args.network in NETWORKS
                  else NetworkChoice.of_file(args.network))
    changes = {"fit": given.get("fit"), "mean": given.get("mean"), "std": given.get("std"),
               "order": given.get("channel_order"),
               "shift_radius": given.get("shift_map_radius")}
    changes = {k: v for k, v in changes.items() if v is not None}
    if "labels" in given:
        changes["labels_path"] = str(given["labels"].absolute())
    if args.shift_map_no_wrap:
        changes["shift_wrap"] = False
    choice = choice.replace(**changes)
    if "layers" in given:
        if choice.side_by_side:
            raise InputError(f"--layers: the networks side by side ({ALL_DIGITS}) each show "
                             "their own default layers; choose one network to pick layers.")
        choice = choice.replace(layers=_layer_names(choice, given["layers"]))
    return choice


def _layer_names(choice: NetworkChoice, names: tuple[str, ...]) -> tuple[str, ...]:
    """Full layer names for names given in full or by :func:`short_name`."""
    known = choice.load().layer_names
    short = {}
    for full in known:
        short.setdefault(short_name(full), []).append(full)
    out = []
    for name in names:
        if name in known:
            out.append(name)
        elif len(short.get(name, [])) == 1:
            out.append(short[name][0])
        else:
            raise InputError(f"--layers: {choice.label} has no single layer {name!r}; its "
                             f"layers: {', '.join(short_name(n) for n in known)}.")
    return tuple(out)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the export command (its --help is the manual)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Write a figure set (panels, composite sheet, stage data, "
        "metrics and a manifest) for one image or a comparison, without a window.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", metavar="INPUT",
                        help=f"image file, example:NAME, or a session file (*{SESSION_SUFFIX})")
    parser.add_argument("--out", required=True, metavar="DIR", type=out_dir,
                        help="the folder to write (created; must be new or empty)")
    parser.add_argument("--force", action="store_true",
                        help="replace DIR if it holds a figure set written by ShiftLab")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")

    b = parser.add_argument_group("image B (at most one)")
    what = b.add_mutually_exclusive_group()
    what.add_argument("--mirror", action="store_true", help="B = A mirrored left-right")
    what.add_argument("--flip", action="store_true", help="B = A mirrored up-down")
    what.add_argument("--shift", nargs=2, type=int, metavar=("DY", "DX"),
                      help="B = A moved down DY and right DX pixels (circular)")
    what.add_argument("--rotate", type=int, choices=(1, 2, 3), metavar="TURNS",
                      help="B = A rotated by TURNS quarter turns counter-clockwise (1, 2, 3)")
    what.add_argument("--compare", metavar="OTHER", type=Path, help="B = another image file")
    b.add_argument("--no-wrap", action="store_true",
                   help="with --shift: uncovered pixels become 0 instead of wrapping around")
    b.add_argument("--mirror-kernel", action="store_true",
                   help="with --mirror/--flip: run B with the kernel mirrored the same way "
                   "(the convolution then commutes with the mirror)")

    add_pipeline_arguments(parser, "pipeline (defaults: the article's, or the example's)")

    n = parser.add_argument_group(
        "network (the set then shows its layers, answer and shift map instead of the "
        "pipeline)")
    n.add_argument("--network", metavar="NAME_OR_FILE",
                   help=f"a bundled network ({', '.join(NETWORKS)}), {ALL_DIGITS} for all "
                   "of them side by side (each network's files named after it), or an ONNX "
                   "model file")
    n.add_argument("--layers", type=_names, metavar="LIST",
                   help="comma-separated layers to show, by full or short name (default: "
                   "the end of each downsampling stage and the last map)")
    n.add_argument("--fit", choices=FITS,
                   help="fit a photo to the model's input size by resizing, or by scaling to "
                   "cover and cutting the centre (default resize)")
    n.add_argument("--mean", type=_numbers, metavar="V[,V,V]",
                   help="per-channel mean subtracted (default: ImageNet's for a user's "
                   "three-channel model, 0 otherwise)")
    n.add_argument("--std", type=_numbers, metavar="V[,V,V]",
                   help="per-channel standard deviation divided by (default: ImageNet's, "
                   "or 1)")
    n.add_argument("--labels", type=Path, metavar="FILE",
                   help="class names, one per line")
    n.add_argument("--channel-order", choices=CHANNEL_ORDERS,
                   help="channel order recorded for the panels (default activation)")
    n.add_argument("--shift-map-radius", type=whole(0, MAX_SHIFT_RANGE), metavar="R",
                   help=f"the shift map covers -R..R pixels both ways (default 4; 0: none; "
                   f"at most {MAX_SHIFT_RANGE})")
    n.add_argument("--shift-map-no-wrap", action="store_true",
                   help="the shift map's shifts bring in black instead of wrapping around")

    o = parser.add_argument_group("output")
    o.add_argument("--formats", type=_formats, default=DEFAULT_FORMATS, metavar="LIST",
                   help=f"comma-separated, any of {','.join(FORMATS)} (default: "
                   f"{','.join(DEFAULT_FORMATS)}); "
                   "manifest.json is always written")
    o.add_argument("--width", type=whole(64, MAX_WIDTH), default=1200, metavar="PX",
                   help=f"width of every PNG in pixels (default 1200, 64 to {MAX_WIDTH})")
    o.add_argument("--background", choices=("white", "transparent"), default="white",
                   help="behind panels and sheets (default white)")
    o.add_argument("--top-k", type=whole(0, MAX_TOP_K), default=3, metavar="N",
                   help="maxima recorded and marked per stage (default 3, as in the window; "
                   f"0 for no markers; at most {MAX_TOP_K})")
    o.add_argument("--panel-width", type=whole(MIN_PANEL, MAX_WIDTH), metavar="PX",
                   help="each stage on the sheet at least PX wide; the sheet widens to fit "
                   f"(at most {MAX_WIDTH} px) instead of --width")
    o.add_argument("--dpi", type=whole(MIN_DPI, MAX_DPI), metavar="N",
                   help="the resolution PNGs say they have and PDFs are sized for, so a "
                   "figure lands at its physical size (default: PNGs say none, PDFs 96)")
    o.add_argument("--columns", type=whole(1, MAX_COLUMNS), metavar="N",
                   help="at most N stages side by side on the sheet; the rest wrap below")
    o.add_argument("--font-size", type=whole(MIN_FONT, MAX_FONT), metavar="PX",
                   help=f"text size on the sheet in pixels ({MIN_FONT} to {MAX_FONT}; default: "
                   "follows the width)")
    o.add_argument("--title", type=_title, metavar="TEXT",
                   help="the sheet's caption (default: what is shown and the pipeline)")
    o.add_argument("--no-colorbars", action="store_true",
                   help="no colour bar under the sheet's panels")
    o.add_argument("--levels-shared", action="store_true",
                   help="one colour range for all feature stages instead of one each")
    o.add_argument("--scale-panels", action="store_true",
                   help="stages at their true relative scale, in input pixels as in the "
                   "window, with the receptive field of the deepest maximum outlined")
    o.add_argument("--metrics-on-sheet", action="store_true",
                   help="under row B: distance, peak move (cells and pixels), equivariance "
                   "error")
    o.add_argument("--diff-markers", action="store_true",
                   help="also mark the largest |A-B| cells on the difference row")
    o.add_argument("--animate-shifts", type=whole(0, MAX_ANIMATED_SHIFTS), default=0,
                   metavar="N", help="also sweep shifts 0..N px along x: sweep.gif, sweep.mp4, "
                   f"sweep plot and sweep.csv (N at most {MAX_ANIMATED_SHIFTS})")
    o.add_argument("--sweep-axis", choices=("x", "y", "diagonal"), default="x",
                   help="with --animate-shifts: move the input right, down or both")
    o.add_argument("--sweep-mode", choices=("unmoved", "cells"), default="unmoved",
                   help="compare f(shifted x) with f(x) unmoved (invariance) or with f(x) "
                   "moved by the shift in whole cells (equivariance)")
    o.add_argument("--sweep-no-wrap", action="store_true",
                   help="shift with zero fill instead of circularly")
    o.add_argument("--compress", action="store_true",
                   help="write stages.npz zlib-compressed (smaller, and slower to write)")
    return parser


def load_state(args: argparse.Namespace) -> ViewState:
    """Return the state to export from parsed command-line arguments: INPUT (an image
    file, ``example:NAME`` or a session file) with the B and pipeline options applied.

    Raises
    ------
    InputError
        For an unknown example.
    engine.ImageLoadError, engine.SessionError
        For an unreadable image or session (a ValueError naming the file).
    """
    source = args.input
    if source.startswith(EXAMPLE_PREFIX):
        name = source[len(EXAMPLE_PREFIX):]
        if name not in EXAMPLES:
            raise InputError(f"{source}: no such example; use one of: "
                             + ", ".join(EXAMPLE_PREFIX + n for n in EXAMPLES) + ".")
        state = example_state(name)
    elif source.endswith(SESSION_SUFFIX):
        state = load_session(source).state
    else:
        state = ViewState(InputImage.load(ImageSource.of_file(source)), PipelineSpec())
    transform = None
    if args.mirror or args.flip:
        transform = InputTransform("mirror" if args.mirror else "flip")
    elif args.shift is not None:
        transform = InputTransform("shift", dy=args.shift[0], dx=args.shift[1],
                                   wrap=not args.no_wrap)
    elif args.rotate is not None:
        transform = InputTransform("rotate", turns=args.rotate)
    if transform is not None:
        state = state.replace(compare=CompareSetup(transform, mirror_kernel=args.mirror_kernel))
    elif args.compare is not None:
        other = InputImage.load(ImageSource.of_file(args.compare))
        state = state.replace(compare=CompareSetup(InputTransform("other"), other))
    return state.replace(spec=state.spec.replace(**_spec_overrides(args)),
                         network=network_choice(args, state.network))


def _input_files(args: argparse.Namespace) -> tuple[str, ...]:
    files = [] if args.input.startswith(EXAMPLE_PREFIX) else [args.input]
    if args.network is not None and args.network not in (*NETWORKS, ALL_DIGITS):
        files.append(args.network)  # a model file is an input too: the set must not replace it
    if args.labels is not None:
        files.append(args.labels)  # so is a labels file
    return tuple(files + ([str(args.compare)] if args.compare is not None else []))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the export command with `argv` (without the program and ``export``); return the
    exit code: 0 written, 1 input/output error, 2 usage error, 130 interrupted by Ctrl+C,
    128 + the signal's number for SIGTERM or SIGHUP (handled like Ctrl+C)."""
    return run_command(build_parser(), argv, _export, _misuse)


def _misuse(args: argparse.Namespace) -> str | None:
    """A flag given where it does not apply, in words; None when all apply."""
    if args.no_wrap and args.shift is None:
        return "--no-wrap applies only with --shift DY DX"
    if args.mirror_kernel and not (args.mirror or args.flip):
        return "--mirror-kernel applies only with --mirror or --flip"
    return None


def _export(args: argparse.Namespace) -> int:
    try:
        # fail before reading images or starting Qt
        check_target(args.out, args.force, _input_files(args))
        state = load_state(args)
        options = FigureSetOptions(formats=args.formats, width=args.width,
                                   background=args.background, top_k=args.top_k,
                                   animate_shifts=args.animate_shifts,
                                   compress=args.compress, diff_markers=args.diff_markers,
                                   columns=args.columns, font_size=args.font_size,
                                   title=args.title, panel_width=args.panel_width,
                                   dpi=args.dpi, colorbars=not args.no_colorbars,
                                   levels_shared=args.levels_shared,
                                   metrics_on_sheet=args.metrics_on_sheet,
                                   scale_panels=args.scale_panels,
                                   sweep_axis=args.sweep_axis,
                                   sweep_aligned=args.sweep_mode == "cells",
                                   sweep_wrap=not args.sweep_no_wrap)
        job = ExportJob(state, tuple(reproducing_command(state, args.out, options)))
        app = gui_application(PROG)  # noqa: F841 (kept alive while drawing)
        with warnings.catch_warnings(record=True) as notices:
            warnings.simplefilter("always", ExportNotice)
            target = write_figure_set(args.out, job, options, force=args.force,
                                      progress=None if args.quiet else print_progress)
        for notice in notices:
            if issubclass(notice.category, ExportNotice):
                print(f"{PROG}: note: {notice.message}", file=sys.stderr)
            else:
                warnings.warn_explicit(notice.message, notice.category, notice.filename,
                                       notice.lineno)
    except KeyboardInterrupt as exc:
        return interrupted(PROG, exc)
    except OSError as exc:
        return fail(PROG, os_error_text(exc))
    except ValueError as exc:
        return fail(PROG, exc)
    print(target)
    return 0

