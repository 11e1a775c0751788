"""`shiftlab export INPUT --network NAME_OR_FILE` as a user runs it (a subprocess with no
display): a digit drawn into a PNG through a bundled network, and a user's ONNX model on a
photo; the written numbers are checked against runs made here (bare onnxruntime on the
model file, every shift run on its own), and the manifest's command writes the same set."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort
import pytest
from drawn_digits import drawn_digit

from engine import load_session
from engine.networks import NETWORKS
from resources import network_path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "networks"))
torch = pytest.importorskip("torch")
from user_models import EXPORT_WARNINGS, export, rgb_classifier  # noqa: E402  (needs torch)

pytestmark = EXPORT_WARNINGS


def run_export(*args: object) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, str(REPO / "main.py"), "export", *map(str, args)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=180,
                          check=False)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def bare_probabilities(model: Path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name: x[None].astype(np.float32)})[0][0]
    e = np.exp(logits.astype(np.float64) - logits.max())
    return e / e.sum()


def export_seven(folder: Path, *args: object) -> tuple[Path, Path]:
    """A drawn 7 as a PNG, exported with B = A moved one pixel right; (png, set)."""
    png = folder / "seven.png"
    cv2.imwrite(str(png), (drawn_digit(7) * 255).astype(np.uint8))
    out = folder / "set"
    done = run_export(png, *args, "--shift", "0", "1", "--out", out, "--width", "400",
                      "--formats", "png,csv,json,npz")
    assert done.returncode == 0, done.stderr
    return png, out


@pytest.fixture(scope="module")
def digit_set(tmp_path_factory):
    return export_seven(tmp_path_factory.mktemp("digit"), "--network", "digits-max",
                        "--animate-shifts", "2")


def test_a_drawn_digit_through_a_bundled_network(digit_set):
    png, out = digit_set
    img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    model = network_path("digits-max")
    p = bare_probabilities(model, img[None])
    rows = read_csv(out / "probabilities.csv")
    assert [r["label"] for r in rows] == [str(d) for d in range(10)]
    np.testing.assert_allclose([float(r["probability"]) for r in rows], p, atol=1e-6)
    assert [r["top1"] for r in rows].index("True") == int(np.argmax(p))
    b = bare_probabilities(model, np.roll(img, 1, axis=1)[None])
    np.testing.assert_allclose([float(r["probability"]) for r in
                                read_csv(out / "probabilities_B.csv")], b, atol=1e-6)
    # the shift map: every shift run on its own here
    cells = read_csv(out / "shift_map.csv")
    assert len(cells) == 81
    for cell in cells:
        dy, dx = int(cell["dy"]), int(cell["dx"])
        q = bare_probabilities(model, np.roll(img, (dy, dx), axis=(0, 1))[None])
        assert int(cell["top1"]) == int(np.argmax(q)), (dy, dx)
        assert float(cell["probability"]) == pytest.approx(q.max(), abs=1e-5)
    for name in ("sheet.png", "probabilities.png", "shift_map.png"):
        assert cv2.imread(str(out / name)) is not None
    panels = sorted(p.name for p in (out / "panels").iterdir())
    assert panels == ["A-B_features.10_Relu.png", "A-B_features.6_Relu.png",
                      "A_features.10_Relu.png", "A_features.6_Relu.png",
                      "B_features.10_Relu.png", "B_features.6_Relu.png"]


def test_the_layers_and_metrics_match_the_networks_maps(digit_set):
    png, out = digit_set
    img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    net = NETWORKS["digits-max"]
    a, b = net.run(img), net.run(np.roll(img, 1, axis=1))
    with np.load(out / "layers.npz") as layers:
        names = sorted(k[2:] for k in layers.files if k.startswith("A/") and k != "A/input")
        for name in names:
            np.testing.assert_allclose(layers[f"A/{name}"], a.activations[name], atol=1e-6)
    metrics = {r["layer"]: r for r in read_csv(out / "metrics.csv")}
    assert sorted(metrics) == names
    for name in names:
        ma, mb = a.activations[name].max(axis=0), b.activations[name].max(axis=0)
        ref = np.linalg.norm(ma - mb) / max(np.linalg.norm(ma), np.linalg.norm(mb))
        assert float(metrics[name]["distance"]) == pytest.approx(ref, rel=1e-5)
        ta, tb = a.activations[name], b.activations[name]
        full = np.linalg.norm(ta - tb) / max(np.linalg.norm(ta), np.linalg.norm(tb))
        assert float(metrics[name]["distance_all_channels"]) == pytest.approx(full, rel=1e-5)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["network"]["name"] == "digits-max"
    assert manifest["network"]["A"]["top1"] == a.top1
    assert manifest["network"]["B"]["top1"] == b.top1
    assert "--network digits-max" in manifest["command"]["line"]
    assert load_session(out / "session.shiftlab").state.network.name == "digits-max"


def test_the_sweep_follows_every_layer_and_the_answer(digit_set):
    png, out = digit_set
    img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    net = NETWORKS["digits-max"]
    base = net.run(img)
    rows = read_csv(out / "sweep.csv")
    assert [int(r["shift_x"]) for r in rows] == [0, 1, 2]
    assert list(rows[0])[-1] == f"p({base.top1})"
    for r in rows:
        moved = net.run(np.roll(img, int(r["shift_x"]), axis=1))
        assert float(r[f"p({base.top1})"]) == pytest.approx(moved.probabilities[base.top1],
                                                           abs=1e-6)
        layer = "/features/features.10/Relu_output_0"
        a, b = base.activations[layer], moved.activations[layer]
        ref = np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))
        assert float(r["features.10/Relu"]) == pytest.approx(ref, rel=1e-5, abs=1e-9)
    assert (out / "sweep_plot.png").exists()


def check_command_writes_the_same_numbers(out: Path, again: Path, prefixes: list[str]):
    """Run the manifest's command into `again`; its tables equal those in `out`."""
    argv = json.loads((out / "manifest.json").read_text())["command"]["argv"]
    argv[argv.index("--out") + 1] = str(again)
    done = run_export(*argv[2:])
    assert done.returncode == 0, done.stderr
    for prefix in prefixes:
        for name in ("probabilities.csv", "shift_map.csv", "metrics.csv"):
            name = prefix + name
            assert (again / name).read_text() == (out / name).read_text()


def test_the_manifest_command_writes_the_same_numbers(digit_set, tmp_path):
    check_command_writes_the_same_numbers(digit_set[1], tmp_path / "again", [""])


def test_a_users_model_on_a_photo(tmp_path):
    model = export(rgb_classifier(), (3, 32, 32), tmp_path / "mine.onnx")
    labels = tmp_path / "classes.txt"
    labels.write_text("cat\ndog\nbird\nfish\nfrog\n", encoding="utf-8")
    rng = np.random.default_rng(4)
    photo = cv2.GaussianBlur(rng.random((48, 64)).astype(np.float32), (0, 0), 2)
    photo = (photo - photo.min()) / (photo.max() - photo.min())
    png = tmp_path / "photo.png"
    cv2.imwrite(str(png), (photo * 255).round().astype(np.uint8))
    out = tmp_path / "set"
    done = run_export(png, "--network", model, "--fit", "crop", "--labels", labels,
                      "--mean", "0.5", "--std", "0.25", "--shift-map-radius", "2",
                      "--out", out, "--width", "400", "--formats", "png,csv,json")
    assert done.returncode == 0, done.stderr
    grey = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    # scale 48x64 to cover 32x32 (32x43), keep the centre columns; grey into 3 channels
    scaled = cv2.resize(grey, (43, 32), interpolation=cv2.INTER_AREA)[:, 5:37]
    x = np.repeat(((scaled - 0.5) / 0.25)[None], 3, axis=0)
    p = bare_probabilities(model, x)
    rows = read_csv(out / "probabilities.csv")
    assert [r["label"] for r in rows] == ["cat", "dog", "bird", "fish", "frog"]
    np.testing.assert_allclose([float(r["probability"]) for r in rows], p, atol=1e-5)
    assert len(read_csv(out / "shift_map.csv")) == 25
    manifest = json.loads((out / "manifest.json").read_text())
    record = manifest["network"]
    assert record["path"] == str(model)
    assert record["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert record["A"]["input"]["note"] == "scaled 48x64 -> 32x43, centre-cropped to 32x32"
    assert record["A"]["top1_label"] == ["cat", "dog", "bird", "fish", "frog"][int(np.argmax(p))]
    line = shlex.split(manifest["command"]["line"])
    assert line[line.index("--network") + 1] == str(model)
    assert line[line.index("--labels") + 1] == str(labels)


@pytest.mark.parametrize("args,words", [
    (["--fit", "crop"], "--fit applies only with --network"),
    (["--network", "digits-max", "--layers", "nope"], "has no single layer 'nope'"),
    (["--network", "digits-none.onnx"], "digits-none.onnx"),
    (["--network", "digits-all", "--layers", "features.6/Relu"], "choose one network"),
])
def test_bad_network_options_are_one_line_errors(tmp_path, args, words):
    png = tmp_path / "d.png"
    cv2.imwrite(str(png), (drawn_digit(1) * 255).astype(np.uint8))
    done = run_export(png, *args, "--out", tmp_path / "set")
    assert done.returncode == 1 and words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "set").exists()


def test_a_damaged_model_file_is_named(tmp_path):
    png = tmp_path / "d.png"
    cv2.imwrite(str(png), (drawn_digit(1) * 255).astype(np.uint8))
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(network_path("digits-max").read_bytes()[:5000])
    done = run_export(png, "--network", bad, "--out", tmp_path / "set")
    assert done.returncode == 1 and str(bad) in done.stderr


def test_layers_are_drawn_in_one_frame_that_holds_every_map(tmp_path):
    from engine.networks import load_network, run_network
    from figures.network_figures import layer_frame, layer_panel

    net = load_network(export(rgb_classifier(), (3, 64, 64), tmp_path / "m.onnx"))
    view = run_network(net, np.random.default_rng(0).random((64, 64), dtype=np.float32))
    top, left, bottom, right = layer_frame(view.panels)
    assert (top, left) <= (0, 0) and (bottom, right) >= (64, 64)
    assert any(p.rect[0] < 0 for p in view.panels)  # a map reaching past the input
    for p in view.panels:
        drawn = layer_panel(p, 3, frame=(top, left, bottom, right))
        x, y, w, h = drawn.place
        assert x >= 0 and y >= 0 and x + w <= right - left and y + h <= bottom - top
        assert (x + left, y + top) == p.rect[:2]
        f = drawn.field
        assert (f[0] + top, f[1] + left) == p.peak_field[:2]


@pytest.fixture(scope="module")
def three_set(tmp_path_factory):
    return export_seven(tmp_path_factory.mktemp("three"), "--network", "digits-all")


def test_the_three_digit_networks_side_by_side_each_write_their_files(three_set):
    png, out = three_set
    img = cv2.imread(str(png), cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
    manifest = json.loads((out / "manifest.json").read_text())
    assert [r["name"] for r in manifest["networks"]] == list(NETWORKS)
    assert manifest["network"] == manifest["networks"][0]
    assert "--network digits-all" in manifest["command"]["line"]
    saved = load_session(out / "session.shiftlab").state.network
    assert saved.side_by_side and [m.name for m in saved.members] == list(NETWORKS)
    panels = {p.name for p in (out / "panels").iterdir()}
    for name, record in zip(NETWORKS, manifest["networks"], strict=True):
        session = ort.InferenceSession(str(network_path(name)),
                                       providers=["CPUExecutionProvider"])

        def probs(x, session=session):
            logits = session.run(None, {session.get_inputs()[0].name:
                                        x[None, None].astype(np.float32)})[0][0]
            e = np.exp(logits.astype(np.float64) - logits.max())
            return e / e.sum()

        p = probs(img)
        np.testing.assert_allclose([float(r["probability"]) for r in
                                    read_csv(out / f"{name}_probabilities.csv")], p, atol=1e-6)
        np.testing.assert_allclose([float(r["probability"]) for r in
                                    read_csv(out / f"{name}_probabilities_B.csv")],
                                   probs(np.roll(img, 1, axis=1)), atol=1e-6)
        assert record["A"]["top1"] == int(np.argmax(p))
        cells = read_csv(out / f"{name}_shift_map.csv")
        assert len(cells) == 81
        for cell in cells:
            q = probs(np.roll(img, (int(cell["dy"]), int(cell["dx"])), axis=(0, 1)))
            assert int(cell["top1"]) == int(np.argmax(q)), (name, cell["dy"], cell["dx"])
        run = NETWORKS[name].run(img)
        with np.load(out / f"{name}_layers.npz") as layers:
            shown = [k[2:] for k in layers.files if k.startswith("A/") and k != "A/input"]
            assert shown
            for layer in shown:
                np.testing.assert_allclose(layers[f"A/{layer}"], run.activations[layer],
                                           atol=1e-6)
        assert read_csv(out / f"{name}_metrics.csv")
        for stem in ("sheet", "probabilities", "shift_map"):
            assert cv2.imread(str(out / f"{name}_{stem}.png")) is not None
        own = set(record["files"])
        assert own and all(f.startswith(f"panels/{name}_") for f in own)
        assert {f"panels/{f}" for f in panels if f.startswith(f"{name}_")} == own
    # nothing is written without a network's name in front
    assert not (out / "probabilities.csv").exists() and not (out / "sheet.png").exists()


def test_the_side_by_side_command_writes_the_same_numbers(three_set, tmp_path):
    check_command_writes_the_same_numbers(three_set[1], tmp_path / "again",
                                          [f"{name}_" for name in NETWORKS])


def test_a_layer_zero_in_a_and_b_has_no_peak_to_move_in_the_csv(tmp_path):
    """A ReLU layer whose every cell is 0 in A and in B has no peak: metrics.csv says n/a
    for its displacement, as metrics.json says null, not a move of (0, 0)."""
    import torch

    torch.manual_seed(1)
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),  # every cell 0: see the bias
        torch.nn.Conv2d(4, 4, 3, stride=2, padding=1), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 3)).eval()
    with torch.no_grad():
        model[0].bias.fill_(-1000.0)
    path = export(model, (3, 16, 16), tmp_path / "dark.onnx")
    png = tmp_path / "photo.png"
    cv2.imwrite(str(png), np.random.default_rng(2).integers(0, 256, (16, 16), np.uint8))
    out = tmp_path / "set"
    done = run_export(png, "--network", path, "--layers", "/1/Relu_output_0,/3/Relu_output_0",
                      "--shift", "0", "1", "--out", out, "--formats", "csv,json")
    assert done.returncode == 0, done.stderr
    records = json.loads((out / "metrics.json").read_text())["comparison"]
    rows = {r["layer"]: r for r in read_csv(out / "metrics.csv")}
    zero = [r for r in records if r["displacement"] is None]
    assert zero, records  # the dark layers
    for record in records:
        row = rows[record["stage"]]
        if record["displacement"] is None:
            assert row["peak_moved_cells"] == row["peak_moved_px"] == "n/a"
            assert row["distance"] == "n/a"
        else:
            assert row["peak_moved_cells"] == str(record["displacement"])
