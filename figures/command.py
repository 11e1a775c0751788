"""The export command line that writes a figure set again, built from what the set shows.

Only strings are built here (no argument parsing): the window records the command in
a figure set's manifest without importing the command-line module.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine import PipelineSpec
from figures.figure_set import FigureSetOptions, Transform

EXAMPLE_PREFIX = "example:"


def spec_arguments(spec: PipelineSpec) -> list[str]:
    """Return export-command options that give exactly `spec` (every field explicit)."""
    if isinstance(spec.kernel, str):
        args = ["--kernel", spec.kernel]
    else:
        text = ";".join(",".join(repr(float(v)) for v in row) for row in spec.kernel)
        args = [f"--kernel-values={text}"]  # "=" so a leading minus is not read as an option
    if not spec.convolve:
        args.append("--no-conv")
    args += ["--padding", spec.padding, "--stride", str(spec.stride),
             "--activation", spec.activation, "--pool", spec.pool_mode,
             "--pool-size", str(spec.pool_size)]
    if spec.pool_stride is not None:
        args += ["--pool-stride", str(spec.pool_stride)]
    return args + ["--levels", str(spec.levels), "--blur-size", str(spec.blur_size)]


def transform_arguments(transform: Transform | None, other: Path | None = None) -> list[str]:
    """Return the export-command options that make image B as `transform` says (none for an
    example's own pair or no B). `other` is the file of a ``"compare"`` transform.

    Raises
    ------
    ValueError
        For a ``"compare"`` transform without `other`, or an unknown kind.
    """
    if transform is None or transform.kind == "example":
        return []
    if transform.kind in ("mirror", "flip"):
        return [f"--{transform.kind}"] + (["--mirror-kernel"] if transform.mirror_kernel else [])
    if transform.kind == "shift":
        dy, dx = transform.shift
        return ["--shift", str(dy), str(dx)] + ([] if transform.wrap else ["--no-wrap"])
    if transform.kind == "compare":
        if other is None:
            raise ValueError("a 'compare' transform needs the other image's file as `other`.")
        return ["--compare", str(Path(other).absolute())]
    raise ValueError(f"unknown transform kind {transform.kind!r}; use mirror, flip, shift, "
                     "compare or example.")


def reproducing_command(source: str | os.PathLike, out_dir: str | os.PathLike,
                        spec: PipelineSpec, options: FigureSetOptions,
                        transform: Transform | None = None, other: Path | None = None
                        ) -> list[str]:
    """Return the export command that writes this set again (absolute paths, every pipeline
    field explicit, no --force), starting ``["shiftlab", "export", ...]``.

    `source` is an image file or ``"example:NAME"``; `other` the file of a ``"compare"``.
    """
    source = str(source)
    if not source.startswith(EXAMPLE_PREFIX):
        source = str(Path(source).absolute())
    argv = ["shiftlab", "export", source, "--out", str(Path(out_dir).absolute())]
    argv += transform_arguments(transform, other) + spec_arguments(spec)
    argv += ["--formats", ",".join(options.formats), "--width", str(options.width),
             "--background", options.background, "--top-k", str(options.top_k)]
    if options.animate_shifts:
        argv += ["--animate-shifts", str(options.animate_shifts)]
    return argv
