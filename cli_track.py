"""The headless tracking command: ``shiftlab track VIDEO --out DIR [options]``.

Exit codes as ``export``'s: 0 written; 1 an input or output error, explained in one line on
stderr; 2 a usage error; 130 interrupted by Ctrl+C, 143 or 129 stopped by SIGTERM or SIGHUP
(nothing left behind).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

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
    spec_overrides,
    whole,
)
from engine import PipelineSpec, TruncatedVideoError
from figures.command import spec_arguments
from figures.trajectory import (
    CSV_FILE,
    MANIFEST_FILE,
    MAX_PLOT_WIDTH,
    MIN_PLOT_WIDTH,
    PLOT_STEM,
    PLOT_WIDTH,
    VIDEO_FILE,
    TrackOptions,
    write_track,
)

PROG = "shiftlab track"
#: At most about this many progress lines for the frames.
PROGRESS_LINES = 20

EPILOG = f"""\
VIDEO is a video file OpenCV reads (MP4, AVI, MOV, MKV, WebM, GIF ...) or a folder of
numbered images (frame1.png, frame2.png ... in natural order, 30 frames per second).

DIR receives:
  {CSV_FILE}   one line per frame and stage: frame, time_s, stage, row, col, value,
                    input_row, input_col (the stage's global maximum, in its cells and in
                    input pixels: the centre of the cell's receptive field; empty where a
                    stage is constant, e.g. a black frame)
  {PLOT_STEM}.png/.svg  the column and row of each stage's maximum over time
  {VIDEO_FILE}     the input with each stage's maximum outlined in its colour (H.264)
  {MANIFEST_FILE}     the stream, the pipeline and the command that writes DIR again

The folder is written into a temporary folder next to DIR and moved into place at the end:
a failure, Ctrl-C, SIGTERM or SIGHUP leaves nothing behind. An existing non-empty DIR is
replaced only with --force, and only if ShiftLab wrote it. A truncated or damaged video
stops with the number of good frames; --max-frames N then tracks those.

examples:
  the article's pipeline (vertical Prewitt + ReLU + 6 max pools) on a recording:
    shiftlab track pen.mp4 --out out/pen
  pool the frames directly, 3 levels, anti-aliased pooling, no video:
    shiftlab track frames/ --no-conv --levels 3 --pool blurmax --no-video --out out/frames
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the track command (its --help is the manual)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Follow each stage's maximum through every frame of a video: "
        "write the trajectories as CSV, a plot of them and an annotated video, without a "
        "window.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("video", metavar="VIDEO", help="a video file or a folder of images")
    parser.add_argument("--out", required=True, metavar="DIR", type=out_dir,
                        help="the folder to write (created; must be new or empty)")
    parser.add_argument("--force", action="store_true",
                        help="replace DIR if ShiftLab wrote it (a track or a figure set)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    add_pipeline_arguments(parser)
    o = parser.add_argument_group("output")
    o.add_argument("--width", type=whole(MIN_PLOT_WIDTH, MAX_PLOT_WIDTH), default=PLOT_WIDTH,
                   metavar="PX", help=f"width of the plot in pixels (default {PLOT_WIDTH}, "
                   f"{MIN_PLOT_WIDTH} to {MAX_PLOT_WIDTH})")
    o.add_argument("--no-video", action="store_true", help=f"do not write {VIDEO_FILE}")
    o.add_argument("--max-frames", type=whole(1), metavar="N",
                   help="track only the first N frames")
    return parser


def _command(args: argparse.Namespace, spec: PipelineSpec) -> list[str]:
    """The command line that writes the folder again (every pipeline field explicit)."""
    command = ["shiftlab", "track", args.video, "--out", str(args.out), *spec_arguments(spec),
               "--width", str(args.width)]
    command += ["--no-video"] if args.no_video else []
    return command + (["--max-frames", str(args.max_frames)] if args.max_frames else [])


def _frame_progress() -> Callable[[int, int, str], None]:
    """Progress lines for about PROGRESS_LINES of the frames (the first and last too)."""
    def report(step: int, total: int, message: str) -> None:
        every = max(1, total // PROGRESS_LINES) if total else 25
        if step == 1 or step == total or step % every == 0:
            print_progress(step, total, message)
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """Run the track command with `argv` (without the program and ``track``); return the
    exit code: 0 written, 1 input/output error, 2 usage error, 130 interrupted by Ctrl+C,
    128 + the signal's number for SIGTERM or SIGHUP (handled like Ctrl+C)."""
    return run_command(build_parser(), argv, _track)


def _track(args: argparse.Namespace) -> int:
    try:
        spec = PipelineSpec().replace(**spec_overrides(args))
        options = TrackOptions(width=args.width, video=not args.no_video,
                               max_frames=args.max_frames)
        app = gui_application(PROG)  # noqa: F841 (kept alive while drawing)
        summary = write_track(args.out, args.video, spec, options, force=args.force,
                              progress=None if args.quiet else _frame_progress(),
                              command=_command(args, spec))
    except KeyboardInterrupt as exc:
        return interrupted(PROG, exc)
    except OSError as exc:
        return fail(PROG, os_error_text(exc))
    except TruncatedVideoError as exc:
        hint = (f" To track the {exc.good_frames} good frames, add --max-frames "
                f"{exc.good_frames}." if exc.good_frames else "")
        return fail(PROG, f"{exc} Nothing was written.{hint}")
    except (InputError, ValueError) as exc:
        return fail(PROG, exc)
    if not args.quiet:
        print(f"{PROG}: {summary.frames} frames of {summary.info.source} tracked",
              file=sys.stderr)
    print(summary.folder)
    return 0
