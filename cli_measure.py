"""The measure command: ``shiftlab measure --network NAME_OR_FILE IMAGE_OR_FOLDER... --out FILE``.

How often a classifier's answer changes when its input moves by one pixel (see
``engine.networks.measure``). Exit codes: 0 written; 1 an input or output error, explained
in one line on stderr; 2 a usage error (argparse's message); 130 interrupted (nothing
written).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import cv2

from engine import NETWORKS, Network, load_image, load_network, measure

PROG = "shiftlab measure"
#: What a folder's files must end with to be read as images (the case is ignored).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pgm",
                  ".ppm", ".pbm", ".pnm", ".pfm")

EPILOG = f"""\
Each image is read as grey in [0, 1] and must have the network's input size. For every
image x and every d in 0 .. MAX-1, a = x moved by (d, d) and b = x moved by (d+1, d+1)
(circular shifts; zero fill with --no-wrap); k is the top-1 class of a:
  p_top1_change  the share of pairs (a, b) whose top-1 classes differ (Azulay & Weiss)
  mac            the mean of |p_k(a) - p_k(b)|
  consistency    the share of images whose top-1 class is the same at two random shifts
                 in 0 .. MAX-1 per axis (Zhang; seeded with --seed)
  wobble         per image, max - min of the unshifted top-1 class's probability over
                 the shifts 0 .. MAX
FILE.json holds these, the counts of images and pairs, and the per-image wobble.

bundled networks: {", ".join(NETWORKS)} (28x28 digits, white on black)

example:
  python tools/write_held_out_digits.py out/digits
  python main.py measure --network digits-max out/digits --out out/max.json
"""


class InputError(ValueError):
    """A bad input found after parsing (exit code 1)."""


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is less than 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the measure command (its --help is the manual).

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog=PROG, description="Measure how often a network's answer changes when its input "
        "moves by one pixel, over image files, and write the numbers as JSON.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", metavar="IMAGE_OR_FOLDER",
                        help="image files, or folders whose image files are all read")
    parser.add_argument("--network", required=True, metavar="NAME_OR_FILE",
                        help=f"a bundled network ({', '.join(NETWORKS)}) or an ONNX file")
    parser.add_argument("--out", required=True, type=Path, metavar="FILE.json",
                        help="the JSON file to write (replaced if it exists)")
    parser.add_argument("--no-wrap", action="store_true",
                        help="shift with zero fill instead of circularly")
    parser.add_argument("--max-shift", type=_positive, default=8, metavar="MAX",
                        help="diagonal shifts 0 .. MAX (default 8: 8 pairs per image)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random shifts for consistency (default 0)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return parser


def open_network(spec: str) -> Network:
    """Return the bundled network named `spec`, or the network in the ONNX file `spec`.

    Raises
    ------
    engine.NetworkLoadError
        For a file that is not a usable model (the message names it).
    """
    return NETWORKS[spec] if spec in NETWORKS else load_network(spec)


def image_files(inputs: Sequence[str]) -> list[Path]:
    """Return the image files named by `inputs`: files as given, folders' image files sorted.

    Raises
    ------
    InputError
        For a folder without image files.
    """
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.iterdir()
                           if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())
            if not found:
                raise InputError(f"{p}: the folder holds no image files "
                                 f"({', '.join(IMAGE_SUFFIXES)}).")
            files += found
        else:
            files.append(p)  # load_image says why if it is not a readable image
    return files


def read_images(network: Network, files: Sequence[Path]) -> list:
    """Read `files` as grey images and check each against the network's input size.

    Raises
    ------
    engine.ImageLoadError
        For a file that cannot be read.
    InputError
        For an image the network does not take (the message says how it differs).
    """
    channels, height, width = network.input_shape
    if channels not in (1, None):
        raise InputError(f"network {network.name!r} takes {channels} channels; measure reads "
                         "images as grey (1 channel).")
    images = []
    for f in files:
        img = load_image(f)
        if (height or img.shape[0], width or img.shape[1]) != img.shape:
            raise InputError(f"{f}: the image is {img.shape[1]}x{img.shape[0]} pixels (width x "
                             f"height); network {network.name!r} takes {width}x{height}: "
                             "resize it first.")
        images.append(img)
    return images


def _check_out(out: Path) -> None:
    if out.is_dir():
        raise InputError(f"{out}: is a folder; give --out a file name such as result.json.")
    if not out.parent.is_dir():
        raise InputError(f"{out}: the folder {out.parent} does not exist; create it first.")


def _write_json(out: Path, data: dict) -> None:
    """Write `data` to a temporary file beside `out`, then move it into place."""
    fd, tmp = tempfile.mkstemp(prefix=".measure-", suffix=".json", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise


def _fail(message: str) -> int:
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Run the measure command with `argv` (without the program and ``measure``).

    Returns
    -------
    int
        The exit code: 0 written, 1 input/output error, 2 usage error, 130 interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[2:] if argv is None else list(argv))
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return int(exc.code or 0)
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    try:
        _check_out(args.out)
        network = open_network(args.network)
        files = image_files(args.inputs)
        images = read_images(network, files)
        step = max(1, len(images) // 20)

        def progress(done: int, total: int) -> None:
            if not args.quiet and (done % step == 0 or done == total):
                print(f"[{done}/{total}] images measured", file=sys.stderr, flush=True)

        result = measure(network, images, wrap=not args.no_wrap, max_shift=args.max_shift,
                         seed=args.seed, names=[str(f) for f in files], progress=progress)
        _write_json(args.out, result.to_dict())
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing was written.", file=sys.stderr)
        return 130
    except (ValueError, OSError) as exc:
        return _fail(str(exc))
    print(f"{result.network}: {result.images} images, {result.pairs} pairs: "
          f"P(top-1 change) {result.p_top1_change:.4f}, MAC {result.mac:.4f}, "
          f"consistency {result.consistency:.4f} -> {args.out}")
    return 0
