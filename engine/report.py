"""Numbers behind a figure set: per-stage metrics, their CSV/JSON/NPZ files, the manifest.

Pure numpy and the standard library; nothing here draws. A figure set's data files are
written by these functions so that a script can recompute or check every number a
figure shows.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json
import math
import os
import shlex
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np

from .pipeline import PipelineResult, PipelineSpec, Stage

#: Identifies the layout of the files written here; bump it when a field changes meaning.
FORMAT = "shiftlab-figure-set/1"

#: Columns of metrics.csv before the top-k maxima columns.
CSV_COLUMNS = (
    "row", "stage", "title", "rows", "cols", "stride_y", "stride_x", "min", "max", "mean",
    "argmax_row", "argmax_col", "distance", "displacement_dy", "displacement_dx",
    "displacement_dy_px", "displacement_dx_px", "near_tie", "equivariance_error",
    "equivariance_note",
)


def stage_key(row: str, name: str) -> str:
    """Return the stages.npz key of stage `name` in `row`, e.g. ``"A/pool 1"``.

    Examples
    --------
    >>> stage_key("B", "conv")
    'B/conv'
    """
    return f"{row}/{name}"


def stage_arrays(results: Mapping[str, PipelineResult]) -> dict[str, np.ndarray]:
    """Return every stage array of every row keyed by :func:`stage_key`, in pipeline order."""
    return {stage_key(row, s.name): s.array for row, result in results.items() for s in result}


def stage_metrics(stage: Stage, row: str) -> dict:
    """Return the metrics record of one stage.

    Returns
    -------
    dict
        ``row``, ``stage``, ``title``, ``shape`` [rows, cols], ``stride`` [y, x] (input
        pixels per cell step), ``min``, ``max``, ``mean``, ``argmax`` [row, col] (first in
        row-major order) and ``maxima``, the stage's recorded top-k as [row, col, value].
    """
    arr = stage.array
    flat_index = int(np.argmax(arr))
    return {
        "row": row,
        "stage": stage.name,
        "title": stage.title,
        "shape": [int(n) for n in stage.shape],
        "stride": [int(n) for n in stage.stride],
        "min": float(arr.min()),
        "max": float(arr.max()),
        "mean": float(arr.mean(dtype=np.float64)),
        "argmax": [flat_index // arr.shape[1], flat_index % arr.shape[1]],
        "maxima": [[int(r), int(c), float(v)] for r, c, v in stage.maxima],
    }


def comparison_metrics(comparisons: Sequence[object] | None) -> list[dict]:
    """Return one JSON-ready record per compared stage.

    Parameters
    ----------
    comparisons : sequence of StageComparison
        What ``engine.compare.compare_results`` returns, in stage order.

    Returns
    -------
    list of dict
        ``stage``, ``distance`` (None when both maps are zero), ``displacement`` [dy, dx]
        in the stage's cells and ``displacement_px`` in input pixels (both None when both
        maps are zero: neither has a peak), ``near_tie`` (a peak
        within 1% of its runner-up), ``equivariance_error`` (None where it does not
        apply), then the record's other scalar fields (peaks, shapes,
        compared shape) and ``partial`` (True when only the top-left overlap was compared).
    """
    out = []
    for comp in comparisons or []:
        no_peak = bool(getattr(comp, "both_zero", False))  # neither map has a peak
        record = {
            "stage": comp.name,
            "distance": _plain(comp.distance),
            "displacement": None if no_peak else _plain(comp.displacement),
            "displacement_px": None if no_peak else _plain(getattr(comp, "displacement_px",
                                                                   None)),
            "near_tie": _plain(getattr(comp, "near_tie", None)),
            "equivariance_error": _plain(getattr(comp, "equivariance_error", None)),
        }
        # Scalars only: a comparison may also carry whole maps, which belong in stages.npz.
        record.update({k: _plain(v) for k, v in _record_fields(comp).items()
                       if k not in record and k != "name" and _is_scalar_like(v)})
        if hasattr(comp, "partial"):
            record["partial"] = bool(comp.partial)
        out.append(record)
    return out


def metrics_document(records: Mapping[str, Sequence[dict]],
                     comparison: Sequence[dict] | None = None) -> dict:
    """Return the metrics.json document: ``{"format", "rows": {row: [records]},
    "comparison": [records] or None}``."""
    return {
        "format": FORMAT,
        "rows": {row: list(recs) for row, recs in records.items()},
        "comparison": None if comparison is None else list(comparison),
    }


def metrics_table(document: Mapping, top_k: int) -> tuple[list[str], list[list[object]]]:
    """Flatten a metrics document into CSV columns and rows.

    One line per (row, stage). The comparison columns (distance, displacement in cells
    and in input pixels, near-tie, equivariance error and why it is undefined: B against
    A) are filled on the lines of row ``B`` and are n/a elsewhere. The top-k maxima
    follow as ``top1_row, top1_col, top1_value, ...``.
    """
    columns = list(CSV_COLUMNS)
    for k in range(1, top_k + 1):
        columns += [f"top{k}_row", f"top{k}_col", f"top{k}_value"]
    by_stage = {c["stage"]: c for c in (document.get("comparison") or [])}
    lines = []
    for row, records in document["rows"].items():
        for rec in records:
            comp = by_stage.get(rec["stage"]) if row == "B" else None
            comp = comp or {}
            disp = comp.get("displacement") or [None, None]
            disp_px = comp.get("displacement_px") or [None, None]
            line: list[object] = [
                row, rec["stage"], rec["title"], *rec["shape"], *rec["stride"],
                rec["min"], rec["max"], rec["mean"], *rec["argmax"],
                comp.get("distance"), *disp, *disp_px, comp.get("near_tie"),
                comp.get("equivariance_error"), comp.get("error_note"),
            ]
            for k in range(top_k):
                line += rec["maxima"][k] if k < len(rec["maxima"]) else [None, None, None]
            lines.append(line)
    return columns, lines


def write_csv(path: str | os.PathLike, columns: Sequence[str],
              rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV file with a header; None (undefined, not applicable) becomes ``n/a``
    (which spreadsheets and pandas read as missing), floats keep full precision.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(["n/a" if v is None or (isinstance(v, float) and math.isnan(v))
                             else repr(v) if isinstance(v, float) else v for v in row])


def write_json(path: str | os.PathLike, document: object) -> None:
    """Write `document` as indented UTF-8 JSON; numpy scalars and arrays become plain values,
    NaN and infinity become null (strict JSON has neither).

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    text = json.dumps(_plain(document), indent=2, ensure_ascii=False, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def write_npz(path: str | os.PathLike, arrays: Mapping[str, np.ndarray], *,
              compress: bool = False) -> None:
    """Write `arrays` with ``np.savez`` (keys as given, e.g. ``"A/pool 1"``), or zlib
    compressed with ``np.savez_compressed`` when `compress` is True.

    Uncompressed by default: a 12-megapixel float32 stage compresses poorly and zlib takes
    seconds; ``np.load(path)[key]`` reads it back either way.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    with open(path, "wb") as fh:
        (np.savez_compressed if compress else np.savez)(fh, **arrays)


def sweep_table(shifts: Sequence[int], names: Sequence[str], distances: np.ndarray,
                axis: str) -> tuple[list[str], list[list[object]]]:
    """Return CSV columns and rows of a shift sweep: ``shift_<axis>`` then one distance
    column per stage, one line per shift.

    Raises
    ------
    ValueError
        If `distances` is not (len(shifts), len(names)).
    """
    distances = np.asarray(distances, dtype=np.float64)
    if distances.shape != (len(shifts), len(names)):
        raise ValueError(
            f"distances has shape {distances.shape}; expected (shifts, stages) = "
            f"({len(shifts)}, {len(names)})."
        )
    rows = [[int(s), *(None if not math.isfinite(v) else float(v) for v in line)]
            for s, line in zip(shifts, distances, strict=True)]
    return [f"shift_{axis}", *names], rows


def file_sha256(path: str | os.PathLike) -> str:
    """Return the SHA-256 hex digest of a file's bytes.

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def array_sha256(array: np.ndarray) -> str:
    """Return the SHA-256 of an array's dtype, shape and C-order bytes (identifies pixels
    regardless of the file they came from)."""
    arr = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    digest.update(memoryview(arr).cast("B"))
    return digest.hexdigest()


def shiftlab_version() -> str:
    """Return the installed ShiftLab version, or ``"unknown"`` when the package metadata
    is absent (running from a source folder that was never installed)."""
    try:
        return metadata.version("shiftlab")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_manifest(*, spec: PipelineSpec, inputs: Mapping[str, Mapping[str, object]],
                   transform: Mapping[str, object] | None, command: Sequence[str],
                   options: Mapping[str, object], files: Sequence[str],
                   results: Mapping[str, PipelineResult],
                   created: datetime | None = None) -> dict:
    """Return the manifest.json document of a figure set.

    Parameters
    ----------
    spec : PipelineSpec
        The pipeline every row was run with.
    inputs : mapping row -> {"source", "sha256", ...}
        Where each row's image came from; ``sha256`` is the file's (None for built-in
        examples), and ``array_sha256`` identifies the pixels.
    transform : mapping or None
        How B was made from A (``{"kind": "mirror", ...}``), None without B.
    command : sequence of str
        The command line that writes this set again.
    options : mapping
        The export options (formats, width, ...).
    files : sequence of str
        The files of the set, relative to its folder.
    results : mapping row -> PipelineResult
        For levels produced and the reason pooling stopped early.
    created : datetime, optional
        Defaults to now (UTC).
    """
    created = created or datetime.now(timezone.utc)
    return {
        "format": FORMAT,
        "shiftlab_version": shiftlab_version(),
        "created": created.isoformat(timespec="seconds"),
        "command": {"argv": list(command), "line": _shell_join(command)},
        "spec": spec.to_dict(),
        "kernel": {"name": spec.kernel_name, "values": spec.kernel_array.tolist()},
        "inputs": {row: dict(info) for row, info in inputs.items()},
        "transform": None if transform is None else dict(transform),
        "options": dict(options),
        "stages": {row: {"names": r.names, "levels_produced": r.levels_produced,
                         "stop_reason": r.stop_reason} for row, r in results.items()},
        "files": sorted(files),
    }


def _shell_join(argv: Sequence[str]) -> str:
    return shlex.join(str(a) for a in argv)


def _record_fields(obj: object) -> dict:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    if hasattr(obj, "_asdict"):
        return dict(obj._asdict())
    return {}


def _is_scalar_like(value: object) -> bool:
    if isinstance(value, (list, tuple)):
        return len(value) <= 8 and all(_is_scalar_like(v) for v in value)
    return value is None or isinstance(value, (str, bool, int, float, np.generic))


def _plain(value: object) -> object:
    """Convert numpy and tuple values to JSON-ready Python values; non-finite floats -> None."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, Path):
        return str(value)
    return value
