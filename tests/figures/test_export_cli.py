"""The export command as a user runs it: `python main.py export ...` in a subprocess with no
display, on the three article scenarios, a photo file, and bad arguments and inputs."""

from __future__ import annotations

import base64
import csv
import hashlib
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest

import cli
import cli_common
from engine import (
    EXAMPLES,
    CompareSetup,
    ImageSource,
    InputImage,
    InputTransform,
    PipelineSpec,
    ViewState,
    load_image,
    run_pipeline,
    translate,
)
from figures.command import reproducing_command
from figures.figure_set import FigureSetOptions

REPO = Path(__file__).resolve().parents[2]
WIDTH = 300
SVG = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def run_export(*args: object, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """Run the command with no display at all: it must choose the offscreen platform itself."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    return subprocess.run([sys.executable, str(REPO / "main.py"), "export", *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
                          check=False)


def _photo_file(path: Path, rows: int = 48, cols: int = 64, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    img = cv2.GaussianBlur(rng.random((rows, cols)).astype(np.float32), (0, 0), 2)
    img = (img - img.min()) / (img.max() - img.min())
    cv2.imwrite(str(path), (img * 255).astype(np.uint8))
    return path


@pytest.fixture(scope="module")
def example_sets(tmp_path_factory):
    """Each article scenario exported once: name -> (folder, finished process)."""
    root = tmp_path_factory.mktemp("examples")
    out = {}
    for name in ("pixel", "mirror", "two-photos"):
        done = run_export(f"example:{name}", "--out", root / name, "--width", WIDTH)
        assert done.returncode == 0, done.stderr
        out[name] = (root / name, done)
    return out


EXAMPLE_NAMES = ("pixel", "mirror", "two-photos")


def _reference(name: str) -> dict:
    example = EXAMPLES[name]
    a, b = example.load()
    return {"A": run_pipeline(a, example.spec), "B": run_pipeline(b, example.spec)}


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_example_set_holds_every_file(example_sets, name):
    folder, done = example_sets[name]
    assert done.stdout.strip() == str(folder)
    assert "[1/" in done.stderr and "writing A pool 1" in done.stderr
    ref = _reference(name)
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    expected = {"sheet.png", "sheet.svg", "stages.npz", "metrics.csv", "metrics.json",
                "manifest.json", "session.shiftlab"}
    for row in ("A", "B", "A-B"):
        for stage in ref["A"]:
            stem = f"panels/{row}_{stage.name.replace(' ', '_')}"
            expected |= {f"{stem}.png", f"{stem}.svg"}
    assert files == expected
    assert [p.name for p in folder.parent.iterdir() if ".tmp-" in p.name] == []


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_png_decodes_at_the_requested_width(example_sets, name):
    folder, _ = example_sets[name]
    pngs = sorted(folder.rglob("*.png"))
    assert len(pngs) > 10
    for path in pngs:
        img = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
        assert img is not None, path
        assert img.shape[1] == WIDTH, path


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_every_svg_parses_and_embeds_a_png(example_sets, name):
    folder, _ = example_sets[name]
    for path in sorted(folder.rglob("*.svg")):
        root = ET.parse(path).getroot()
        images = root.findall(f".//{SVG}image")
        assert images, path
        for image in images:
            head, data = image.get(XLINK_HREF).split(",", 1)
            assert head == "data:image/png;base64"
            png = np.frombuffer(base64.b64decode(data, validate=True), np.uint8)
            assert cv2.imdecode(png, cv2.IMREAD_UNCHANGED) is not None


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_stages_npz_equals_the_pipeline(example_sets, name):
    folder, _ = example_sets[name]
    ref = _reference(name)
    with np.load(folder / "stages.npz") as data:
        keys = [f"{row}/{s.name}" for row in ("A", "B") for s in ref[row]]
        assert sorted(data.files) == sorted(keys)
        for row in ("A", "B"):
            for stage in ref[row]:
                assert np.array_equal(data[f"{row}/{stage.name}"], stage.array)


def test_pixel_metrics_tell_the_article_story(example_sets):
    folder, _ = example_sets["pixel"]
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    # the lit pixels at (2, 2) and (7, 7) are 5 apart, then 2, 1 and 0 pooled cells apart
    displacement = {c["stage"]: c["displacement"] for c in metrics["comparison"]}
    assert displacement == {"input": [5, 5], "pool 1": [2, 2], "pool 2": [1, 1],
                            "pool 3": [0, 0]}
    a = {r["stage"]: r for r in metrics["rows"]["A"]}
    assert a["pool 2"]["title"] == "Pool 2 (2, 2)" and a["pool 2"]["argmax"] == [0, 0]
    with open(folder / "metrics.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8
    b_pool2 = next(r for r in rows if (r["row"], r["stage"]) == ("B", "pool 2"))
    assert (b_pool2["argmax_row"], b_pool2["argmax_col"]) == ("1", "1")
    assert float(b_pool2["distance"]) == pytest.approx(2 ** 0.5)  # ||a-b|| / max(||a||, ||b||)


def test_two_photos_compare_their_overlap(example_sets):
    folder, _ = example_sets["two-photos"]
    metrics = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    first = metrics["comparison"][0]
    assert first["shape_a"] == [400, 600] and first["shape_b"] == [300, 451]
    assert first["compared_shape"] == [300, 451] and first["partial"] is True
    a, b = EXAMPLES["two-photos"].load()
    x, y = a[:300, :451].astype(np.float64), b.astype(np.float64)
    plain = np.linalg.norm(x - y) / max(np.linalg.norm(x), np.linalg.norm(y))
    assert first["distance"] == pytest.approx(plain, rel=1e-9)


def test_manifest_command_reproduces_the_set(example_sets, tmp_path):
    folder, _ = example_sets["mirror"]
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["spec"] == EXAMPLES["mirror"].spec.to_dict()
    assert manifest["kernel"]["values"] == [[-1.0, 0.0, 1.0]] * 3
    assert manifest["transform"]["kind"] == "mirror"
    assert manifest["inputs"]["A"]["source"] == "example:mirror"
    argv = manifest["command"]["argv"]
    assert argv[:2] == ["shiftlab", "export"]
    args = argv[2:]
    args[args.index("--out") + 1] = str(tmp_path / "again")
    done = run_export(*args, cwd=tmp_path)  # absolute paths: works from anywhere
    assert done.returncode == 0, done.stderr
    with np.load(folder / "stages.npz") as old, np.load(tmp_path / "again" / "stages.npz") as new:
        assert old.files == new.files
        for key in old.files:
            assert np.array_equal(old[key], new[key])


def test_photo_shift_with_options_and_animation(tmp_path):
    photo = _photo_file(tmp_path / "photo.png")
    out = tmp_path / "set"
    done = run_export(photo, "--shift", 0, 2, "--levels", 2, "--padding", "circular",
                      "--kernel-values", "-1,0,1;-2,0,2;-1,0,1", "--width", 200,
                      "--background", "transparent", "--top-k", 3, "--animate-shifts", 4,
                      "--out", out)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["A"]["sha256"] == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert manifest["transform"] == {"kind": "shift", "description": manifest["transform"][
        "description"], "shift": [0, 2], "wrap": True, "turns": None, "mirror_kernel": False}
    assert manifest["spec"]["kernel"] == [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]
    assert manifest["spec"]["padding"] == "circular" and manifest["spec"]["levels"] == 2

    img = load_image(photo)
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    # circular padding and pooling on 48x64: a 2-pixel shift moves input, conv and pool 1
    # exactly; pool 2 (stride 4) cannot follow it in whole cells
    errors = {c["stage"]: c["equivariance_error"] for c in metrics["comparison"]}
    assert errors["pool 2"] is None
    assert [errors[n] for n in ("input", "conv", "pool 1")] == pytest.approx([0, 0, 0], abs=1e-6)

    ok, animation = cv2.imreadanimation(str(out / "sweep.gif"))
    assert ok and len(animation.frames) == 5
    assert len({f.shape for f in animation.frames}) == 1
    video = cv2.VideoCapture(str(out / "sweep.mp4"))
    assert video.isOpened()
    frames = 0
    while video.read()[0]:
        frames += 1
    video.release()
    assert frames == 5
    with open(out / "sweep.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][0] == "shift_x" and len(rows) == 1 + 5
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2, 3, 4]
    # shift 1 of the input, in place, against a plain roll
    x, y = img.astype(np.float64), translate(img, 0, 1).astype(np.float64)
    plain = np.linalg.norm(x - y) / max(np.linalg.norm(x), np.linalg.norm(y))
    assert float(rows[2][1]) == pytest.approx(plain, rel=1e-9)
    plot = cv2.imdecode(np.fromfile(out / "sweep_plot.png", np.uint8), cv2.IMREAD_UNCHANGED)
    assert plot.shape[1] == 200 and plot.shape[2] == 4  # transparent background kept
    ET.parse(out / "sweep_plot.svg")


def test_corrupt_image_exits_1_naming_the_file(tmp_path):
    good = _photo_file(tmp_path / "good.png")
    bad = tmp_path / "broken.png"
    bad.write_bytes(good.read_bytes()[:60])
    done = run_export(bad, "--out", tmp_path / "set")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(bad) in lines[0], done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.png", "good.png"]


def test_non_empty_folder_needs_force_and_force_replaces_only_a_figure_set(tmp_path):
    photo = _photo_file(tmp_path / "photo.png")
    target = tmp_path / "set"
    target.mkdir()
    (target / "mine.txt").write_text("precious")
    for extra in ((), ("--force",)):  # --force used to delete any folder's files
        done = run_export(photo, "--levels", 1, "--width", 100, "--out", target, *extra)
        assert done.returncode == 1
        assert len(done.stderr.strip().splitlines()) == 1 and "--force" in done.stderr
        assert [p.name for p in target.iterdir()] == ["mine.txt"]
        assert (target / "mine.txt").read_text() == "precious"
    figure_set = tmp_path / "figures"
    assert run_export(photo, "--levels", 1, "--width", 100, "--out", figure_set).returncode == 0
    done = run_export(photo, "--levels", 2, "--width", 100, "--out", figure_set, "--force")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((figure_set / "manifest.json").read_text())
    assert manifest["spec"]["levels"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures", "photo.png", "set"]


@pytest.mark.parametrize("args", [
    [],
    ["example:pixel"],
    ["example:pixel", "--out", "x", "--width", "10"],
    ["example:pixel", "--out", "x", "--formats", "png,gif"],
    ["example:pixel", "--out", "x", "--mirror", "--flip"],
    ["example:pixel", "--out", "x", "--levels", "-1"],
    ["example:pixel", "--out", "x", "--pool", "median"],
    ["example:pixel", "--out", "x", "--no-wrap"],
    ["example:pixel", "--out", "x", "--kernel", "sobel", "--kernel-values", "1"],
])
def test_usage_errors_exit_2(args, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(args) == 2
    assert "usage:" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args, words", [
    (["--kernel-values", "1,2;3"], "--kernel-values"),
    (["--kernel-values", "1,x"], "--kernel-values"),
    (["--compare", "missing.png"], "missing.png"),
])
def test_input_errors_exit_1_with_one_line(args, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli.main(["example:pixel", "--out", "set", *args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_exits_1(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert cli.main(["example:pixel", "--out", str(tmp_path / "file" / "set")]) == 1
    assert "cannot create" in capsys.readouterr().err


@pytest.mark.parametrize("spec", [
    PipelineSpec(),
    PipelineSpec(kernel=((-0.1, 0.25, 1 / 3), (2.0, -1e-7, 5.0)), padding="reflect", stride=2,
                 activation="abs", pool_mode="blurmax", pool_size=3, pool_stride=2, levels=4,
                 blur_size=5),
    PipelineSpec(convolve=False, kernel="laplacian", pool_mode="avg", levels=0),
])
def test_reproducing_command_gives_back_the_same_spec_and_options(spec, tmp_path):
    options = FigureSetOptions(formats=("svg", "json"), width=640, background="transparent",
                               top_k=7, animate_shifts=3)
    photo, other = tmp_path / "photo.png", tmp_path / "other.png"
    _photo_file(photo, 20, 20)
    _photo_file(other, 20, 20, seed=2)
    state = ViewState(InputImage.load(ImageSource.of_file(photo)), spec,
                      CompareSetup(InputTransform("other"),
                                   InputImage.load(ImageSource.of_file(other))))
    argv = reproducing_command(state, tmp_path / "set", options)
    assert argv[:2] == ["shiftlab", "export"]
    args = cli.build_parser().parse_args(cli_common.attach_kernel_values(argv[2:]))
    assert PipelineSpec().replace(**cli._spec_overrides(args)) == spec
    assert Path(args.input) == photo
    assert args.out == tmp_path / "set" and args.compare == other
    assert (args.formats, args.width, args.background, args.top_k, args.animate_shifts) == \
        (options.formats, 640, "transparent", 7, 3)


def test_help_documents_options_and_the_article_scenarios(capsys):
    assert cli.main(["--help"]) == 0
    text = capsys.readouterr().out
    for word in ("--mirror", "--flip", "--shift", "--compare", "--kernel-values", "--no-conv",
                 "--padding", "--activation", "--pool-size", "--pool-stride", "--levels",
                 "--blur-size", "--formats", "--width", "--background", "--top-k",
                 "--animate-shifts", "--force", "example:pixel", "example:mirror",
                 "example:two-photos"):
        assert word in text


def test_mirror_with_the_kernel_mirrored_too_commutes_and_reproduces(tmp_path):
    photo = _photo_file(tmp_path / "photo.png")
    out = tmp_path / "set"
    done = run_export(photo, "--mirror", "--mirror-kernel", "--levels", 2,
                      "--formats", "npz,json", "--out", out)
    assert done.returncode == 0, done.stderr
    img = load_image(photo)
    k = PipelineSpec().kernel_array
    expected_b = run_pipeline(img[:, ::-1], PipelineSpec(kernel=k[:, ::-1], levels=2))
    with np.load(out / "stages.npz") as stages:
        for stage in expected_b:
            np.testing.assert_array_equal(stages[f"B/{stage.name}"], stage.array)
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    errors = {c["stage"]: c["equivariance_error"] for c in metrics["comparison"]}
    assert errors["conv"] < 1e-6  # conv(mirror x, mirror k) = mirror(conv(x, k))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["transform"]["mirror_kernel"] is True
    args = manifest["command"]["argv"][2:]
    assert "--mirror-kernel" in args
    args[args.index("--out") + 1] = str(tmp_path / "again")
    assert run_export(*args, cwd=tmp_path).returncode == 0
    with np.load(out / "stages.npz") as old, np.load(tmp_path / "again" / "stages.npz") as new:
        assert all(np.array_equal(old[key], new[key]) for key in old.files)
    # without the kernel mirrored, the vertical Prewitt's mirror is far from commuting
    plain = tmp_path / "plain"
    assert run_export(photo, "--mirror", "--levels", 2, "--formats", "json",
                      "--out", plain).returncode == 0
    metrics = json.loads((plain / "metrics.json").read_text(encoding="utf-8"))
    assert {c["stage"]: c["equivariance_error"] for c in metrics["comparison"]}["conv"] > 0.5


def test_mirror_kernel_without_a_mirror_is_a_usage_error(tmp_path):
    done = run_export("example:pixel", "--mirror-kernel", "--out", tmp_path / "x")
    assert done.returncode == 2 and "--mirror-kernel" in done.stderr


def _same_npz(first: Path, second: Path) -> None:
    with np.load(first) as old, np.load(second) as new:
        assert old.files == new.files
        for key in old.files:
            np.testing.assert_array_equal(old[key], new[key], err_msg=key)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_a_set_s_session_writes_the_same_arrays_again(example_sets, tmp_path, name):
    folder, _ = example_sets[name]
    done = run_export(folder / "session.shiftlab", "--out", tmp_path / "again", "-q")
    assert done.returncode == 0, done.stderr
    _same_npz(folder / "stages.npz", tmp_path / "again" / "stages.npz")


def test_an_edited_canvas_with_a_rotation_has_a_command_and_transform_errors(qapp, tmp_path):
    from engine import save_session
    from figures import ExportJob, write_figure_set

    rng = np.random.default_rng(4)
    state = ViewState(InputImage(rng.random((24, 18)).astype(np.float32)),
                      PipelineSpec(kernel="laplacian", levels=2),
                      CompareSetup(InputTransform("rotate", turns=1)))
    options = FigureSetOptions(formats=("npz", "json"), width=200)
    first = tmp_path / "first"
    job = ExportJob(state, tuple(reproducing_command(state, first, options)))
    write_figure_set(first, job, options)
    manifest = json.loads((first / "manifest.json").read_text(encoding="utf-8"))
    argv = manifest["command"]["argv"]
    assert argv[2] == str(first / "session.shiftlab")  # a drawn canvas needs its session
    assert manifest["transform"]["kind"] == "rotate" and manifest["transform"]["turns"] == 1
    metrics = json.loads((first / "metrics.json").read_text(encoding="utf-8"))
    errors = [c["equivariance_error"] for c in metrics["comparison"]]
    assert errors[0] == 0.0 and all(e is not None for e in errors)
    args = argv[2:]
    args[args.index("--out") + 1] = str(tmp_path / "again")
    done = run_export(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    _same_npz(first / "stages.npz", tmp_path / "again" / "stages.npz")
    # a rotation of a file input is said with --rotate
    photo = _photo_file(tmp_path / "photo.png")
    done = run_export(photo, "--rotate", 1, "--out", tmp_path / "rot", "-q")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "rot" / "manifest.json").read_text(encoding="utf-8"))
    assert "--rotate" in manifest["command"]["argv"]
    save_session(tmp_path / "s.shiftlab", state)
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args([str(photo), "--out", "x", "--rotate", "4"])


def test_a_damaged_session_input_is_one_line_and_exit_1(tmp_path):
    bad = tmp_path / "bad.shiftlab"
    bad.write_bytes(b"PK\x03\x04 not really")
    done = run_export(bad, "--out", tmp_path / "out")
    assert done.returncode == 1 and not (tmp_path / "out").exists()
    assert done.stderr.count("\n") == 1 and "bad.shiftlab" in done.stderr
