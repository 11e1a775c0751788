"""The export command line that writes a figure set again, built from the state it shows.

Only strings are built here (no argument parsing): the window records the command in a
figure set's manifest without importing the command-line module. A state the options
cannot say (a drawn or edited canvas, another image that is not a file) is written
again from the set's own session file: ``shiftlab export DIR/session.shiftlab``.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine import CompareSetup, PipelineSpec, ViewState
from engine.networks import NetworkChoice
from engine.networks.choice import ALL_DIGITS
from engine.state import EXAMPLE_PREFIX, example_state
from figures.figure_set import SESSION_FILE, FigureSetOptions

__all__ = ["EXAMPLE_PREFIX", "compare_arguments", "network_arguments", "reproducing_command",
           "spec_arguments"]


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


def compare_arguments(setup: CompareSetup | None, base: CompareSetup | None = None
                      ) -> list[str] | None:
    """Return the export-command options that make B as `setup` says, or None when no
    option can (B another image that is not an unedited file).

    `base` is what the input brings by itself (an example's own B): when `setup` is
    that, no option is needed; no option turns an example's comparison off (None then).
    """
    if setup is None:
        return [] if base is None else None
    t = setup.transform
    if t.kind == "other":
        image = setup.image_b
        if base is not None and base.image_b is not None and image.reloadable \
                and image.source == base.image_b.source:
            return []
        if image.reloadable and image.source.kind == "file":
            return ["--compare", image.source.path]
        return None
    if t.kind in ("mirror", "flip"):
        return [f"--{t.kind}"] + (["--mirror-kernel"] if setup.mirror_kernel else [])
    if t.kind == "shift":
        return ["--shift", str(t.dy), str(t.dx)] + ([] if t.wrap else ["--no-wrap"])
    return ["--rotate", str(t.turns % 4)]


def _numbers(values: tuple[float, ...]) -> str:
    return ",".join(repr(float(v)) for v in values)


def network_arguments(choice: NetworkChoice | None) -> list[str]:
    """Return the export-command options that choose `choice` (none for None): the
    bundled name or the model file, and every setting that differs from the default.

    >>> network_arguments(NetworkChoice.bundled("digits-aps", fit="crop", shift_radius=2))
    ['--network', 'digits-aps', '--fit', 'crop', '--shift-map-radius', '2']
    >>> network_arguments(NetworkChoice.all_digits())
    ['--network', 'digits-all']
    """
    if choice is None:
        return []
    name = choice.name if choice.name is not None else choice.path
    args = ["--network", ALL_DIGITS if choice.side_by_side else name]
    if choice.fit != "resize":
        args += ["--fit", choice.fit]
    if choice.mean is not None:
        args.append(f"--mean={_numbers(choice.mean)}")  # "=": a leading minus is no option
    if choice.std is not None:
        args.append(f"--std={_numbers(choice.std)}")
    if choice.labels_path is not None:
        args += ["--labels", choice.labels_path]
    if choice.layers is not None:
        args += ["--layers", ",".join(choice.layers)]
    if choice.order != "activation":
        args += ["--channel-order", choice.order]
    if choice.shift_radius != 4:
        args += ["--shift-map-radius", str(choice.shift_radius)]
    if not choice.shift_wrap:
        args.append("--shift-map-no-wrap")
    return args


def option_arguments(options: FigureSetOptions) -> list[str]:
    """Return the output options of `options`."""
    argv = ["--formats", ",".join(options.formats), "--width", str(options.width),
            "--background", options.background, "--top-k", str(options.top_k)]
    if options.animate_shifts:
        argv += ["--animate-shifts", str(options.animate_shifts),
                 "--sweep-axis", options.sweep_axis,
                 "--sweep-mode", "cells" if options.sweep_aligned else "unmoved"]
        if not options.sweep_wrap:
            argv.append("--sweep-no-wrap")
    if options.compress:
        argv.append("--compress")
    if options.diff_markers:
        argv.append("--diff-markers")
    if options.columns is not None:
        argv += ["--columns", str(options.columns)]
    if options.font_size is not None:
        argv += ["--font-size", str(options.font_size)]
    if options.title is not None:
        argv += ["--title", options.title]
    if options.panel_width is not None:
        argv += ["--panel-width", str(options.panel_width)]
    if options.dpi is not None:
        argv += ["--dpi", str(options.dpi)]
    if not options.colorbars:
        argv.append("--no-colorbars")
    if options.levels_shared:
        argv.append("--levels-shared")
    if options.metrics_on_sheet:
        argv.append("--metrics-on-sheet")
    if options.scale_panels:
        argv.append("--scale-panels")
    return argv


def reproducing_command(state: ViewState, out_dir: str | os.PathLike,
                        options: FigureSetOptions) -> list[str]:
    """Return the export command that writes this set again (absolute paths, every pipeline
    field explicit, no --force), starting ``["shiftlab", "export", ...]``.

    Input A is named by its file or ``example:NAME`` when it is exactly what that gives
    and B can be said with options; otherwise the command reads the set's own session
    file (``OUT/session.shiftlab``), which holds the pixels. A network is named by its
    bundled name or model file, with its settings (:func:`network_arguments`).
    """
    out = str(Path(out_dir).absolute())
    source = state.a.source
    b_args = None
    if state.a.reloadable:
        base = example_state(source.example).compare if source.kind == "example" else None
        b_args = compare_arguments(state.compare, base)
    network = network_arguments(state.network)
    if b_args is None:
        return ["shiftlab", "export", str(Path(out) / SESSION_FILE), "--out", out,
                *spec_arguments(state.spec), *network, *option_arguments(options)]
    name = source.path if source.kind == "file" else EXAMPLE_PREFIX + source.example
    return ["shiftlab", "export", name, "--out", out, *b_args, *spec_arguments(state.spec),
            *network, *option_arguments(options)]
