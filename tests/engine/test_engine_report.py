"""engine.report: per-stage metrics and the data files of a figure set, against plain numpy."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shlex

import numpy as np
import pytest

from engine import PipelineSpec, compare_results, mirror, report, run_pipeline


def _photo(rows: int = 23, cols: int = 31, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((rows, cols)).astype(np.float32)


def _first_max(arr: np.ndarray) -> list[int]:
    best, where = -math.inf, None
    for r in range(arr.shape[0]):
        for c in range(arr.shape[1]):
            if arr[r, c] > best:
                best, where = arr[r, c], [r, c]
    return where


def test_stage_metrics_match_plain_numpy():
    result = run_pipeline(_photo(), PipelineSpec(levels=2), top_k=3)
    strides = {"input": [1, 1], "conv": [1, 1], "pool 1": [2, 2], "pool 2": [4, 4]}
    for stage in result:
        rec = report.stage_metrics(stage, "A")
        arr = np.asarray(stage.array, dtype=np.float64)
        assert rec["row"] == "A" and rec["stage"] == stage.name
        assert rec["title"] == stage.title
        assert rec["shape"] == list(arr.shape)
        assert rec["stride"] == strides[stage.name]
        assert rec["min"] == arr.min() and rec["max"] == arr.max()
        assert rec["mean"] == pytest.approx(arr.sum() / arr.size, rel=1e-9)
        assert rec["argmax"] == _first_max(arr)
        values = sorted(arr.ravel(), reverse=True)[:3]
        assert [v for _, _, v in rec["maxima"]] == pytest.approx(values)
        for r, c, v in rec["maxima"]:
            assert arr[r, c] == v
    json.dumps(rec, allow_nan=False)  # JSON-ready


def test_comparison_metrics_hold_distance_displacement_and_equivariance():
    img = _photo(16, 20)
    spec = PipelineSpec(levels=2)
    a, b = run_pipeline(img, spec), run_pipeline(mirror(img, axis=1), spec)
    errors = [0.5, None, 0.25, None]
    records = report.comparison_metrics(compare_results(a, b, equivariance_errors=errors))
    assert [r["stage"] for r in records] == a.names
    for rec, sa, err in zip(records, a, errors, strict=True):
        x, y = sa.array.astype(np.float64), b[sa.name].array.astype(np.float64)
        plain = np.sqrt(((x - y) ** 2).sum()) / max(np.sqrt((x**2).sum()), np.sqrt((y**2).sum()))
        assert rec["distance"] == pytest.approx(plain, rel=1e-9)
        pa, pb = _first_max(x), _first_max(y)
        assert rec["displacement"] == [pb[0] - pa[0], pb[1] - pa[1]]
        assert rec["equivariance_error"] == err
        assert rec["partial"] is False
    json.dumps(records, allow_nan=False)


def test_metrics_table_puts_comparison_on_b_lines_and_top_k_columns(tmp_path):
    img = _photo(12, 12)
    spec = PipelineSpec(convolve=False, levels=1)
    a, b = run_pipeline(img, spec, top_k=2), run_pipeline(img[::-1].copy(), spec, top_k=2)
    doc = report.metrics_document(
        {"A": [report.stage_metrics(s, "A") for s in a],
         "B": [report.stage_metrics(s, "B") for s in b]},
        report.comparison_metrics(compare_results(a, b)))
    columns, lines = report.metrics_table(doc, 2)
    assert columns[-6:] == ["top1_row", "top1_col", "top1_value",
                            "top2_row", "top2_col", "top2_value"]
    path = tmp_path / "m.csv"
    report.write_csv(path, columns, lines)
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["row"], r["stage"]) for r in rows] == [("A", "input"), ("A", "pool 1"),
                                                     ("B", "input"), ("B", "pool 1")]
    for r in rows:
        arr = (a if r["row"] == "A" else b)[r["stage"]].array
        assert float(r["max"]) == float(arr.max())  # repr keeps every digit
        assert (r["rows"], r["cols"]) == tuple(str(n) for n in arr.shape)
        assert (r["distance"] == "n/a") == (r["row"] == "A")
    x, y = a["pool 1"].array.astype(np.float64), b["pool 1"].array.astype(np.float64)
    expected = np.linalg.norm(x - y) / max(np.linalg.norm(x), np.linalg.norm(y))
    assert float(rows[3]["distance"]) == pytest.approx(expected, rel=1e-12)


def test_write_json_makes_numpy_values_plain_and_non_finite_null(tmp_path):
    path = tmp_path / "d.json"
    report.write_json(path, {"a": np.float32(1.5), "b": np.int64(3), "c": float("nan"),
                             "d": (1, np.inf), "e": np.arange(3), "f": np.bool_(True)})
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "a": 1.5, "b": 3, "c": None, "d": [1, None], "e": [0, 1, 2], "f": True}


def test_write_npz_round_trips_slash_keys(tmp_path):
    result = run_pipeline(_photo(), PipelineSpec(levels=2))
    arrays = report.stage_arrays({"A": result, "B": result})
    assert list(arrays) == [f"{row}/{n}" for row in "AB" for n in result.names]
    report.write_npz(tmp_path / "s.npz", arrays)
    with np.load(tmp_path / "s.npz") as data:
        assert sorted(data.files) == sorted(arrays)
        for key, arr in arrays.items():
            assert data[key].dtype == np.float32 and np.array_equal(data[key], arr)


def test_hashes(tmp_path):
    path = tmp_path / "blob.bin"
    payload = bytes(range(256)) * 5000
    path.write_bytes(payload)
    assert report.file_sha256(path) == hashlib.sha256(payload).hexdigest()
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert report.array_sha256(x) == report.array_sha256(x.copy())
    assert report.array_sha256(x) != report.array_sha256(x.reshape(3, 2))
    assert report.array_sha256(x) != report.array_sha256(x.astype(np.float64))


def test_sweep_table_rows_and_shape_check():
    distances = np.array([[0.0, 0.0], [0.1, np.nan], [0.2, 0.3]])
    columns, rows = report.sweep_table([0, 1, 2], ["input", "pool 1"], distances, "x")
    assert columns == ["shift_x", "input", "pool 1"]
    assert rows == [[0, 0.0, 0.0], [1, 0.1, None], [2, 0.2, 0.3]]
    with pytest.raises(ValueError, match="distances has shape"):
        report.sweep_table([0, 1], ["input", "pool 1"], distances, "x")


def test_build_manifest_records_spec_kernel_and_a_runnable_command():
    spec = PipelineSpec(kernel=((1.0, -1.0),), levels=1)
    result = run_pipeline(_photo(), spec)
    argv = ["shiftlab", "export", "/data/my photo.png", "--out", "/o u t"]
    manifest = report.build_manifest(
        spec=spec, inputs={"A": {"source": "x.png", "sha256": "ab"}}, transform=None,
        command=argv, options={"width": 300}, files=["b", "a"], results={"A": result})
    assert manifest["spec"] == spec.to_dict()
    assert manifest["kernel"] == {"name": "custom", "values": [[1.0, -1.0]]}
    assert shlex.split(manifest["command"]["line"]) == argv
    assert manifest["files"] == ["a", "b"]
    assert manifest["stages"]["A"]["names"] == result.names
    assert manifest["shiftlab_version"] not in ("", None)
    json.dumps(manifest, allow_nan=False)
