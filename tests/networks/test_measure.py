"""measure against a plain re-computation, and ``shiftlab measure`` end to end."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine import NETWORKS, held_out_digits, measure
from main import main

ROOT = Path(__file__).resolve().parents[2]


def plain_measure(net, images, wrap, max_shift=8, seed=0):
    """The definitions, one image and one shift at a time."""

    def move(x, d1, d2):
        if wrap:
            return np.roll(x, (d1, d2), axis=(0, 1))
        out = np.zeros_like(x)
        out[d1:, d2:] = x[:x.shape[0] - d1, :x.shape[1] - d2]
        return out

    def probs(x):
        return net.run(x).probabilities

    rng = np.random.default_rng(seed)
    changed = pairs = 0
    mac_sum = 0.0
    same = 0
    wobble = []
    for x in images:
        offsets = rng.integers(0, max_shift, size=4)
        p = [probs(move(x, d, d)) for d in range(max_shift + 1)]
        for d in range(max_shift):
            k = int(np.argmax(p[d]))
            changed += int(np.argmax(p[d + 1]) != k)
            mac_sum += abs(p[d][k] - p[d + 1][k])
            pairs += 1
        a = probs(move(x, int(offsets[0]), int(offsets[1])))
        b = probs(move(x, int(offsets[2]), int(offsets[3])))
        same += int(np.argmax(a) == np.argmax(b))
        k0 = int(np.argmax(p[0]))
        wobble.append(max(q[k0] for q in p) - min(q[k0] for q in p))
    return changed / pairs, mac_sum / pairs, same / len(images), wobble


@pytest.mark.parametrize("wrap", [True, False])
@pytest.mark.parametrize("name", ["digits-max", "digits-aps"])
def test_measure_matches_the_plain_recomputation(name, wrap):
    images, labels = held_out_digits()
    images, labels = images[:15], labels[:15]
    net = NETWORKS[name]
    seen = []
    result = measure(net, images, wrap=wrap, seed=3, labels=labels,
                     progress=lambda done, total: seen.append((done, total)))
    change, mac, consistency, wobble = plain_measure(net, images, wrap, seed=3)
    assert result.images == 15 and result.pairs == 15 * 8
    assert result.p_top1_change == pytest.approx(change, abs=1e-12)
    assert result.mac == pytest.approx(mac, rel=1e-6, abs=1e-9)
    assert result.consistency == pytest.approx(consistency, abs=1e-12)
    np.testing.assert_allclose(result.wobble, wobble, rtol=1e-6, atol=1e-9)
    assert seen[-1] == (15, 15) and len(seen) == 15
    assert 0.0 <= result.accuracy <= 1.0
    if name == "digits-aps" and wrap:
        assert result.p_top1_change == 0.0 and result.consistency == 1.0
        assert result.mac < 1e-5


def test_measure_refuses_bad_arguments():
    net = NETWORKS["digits-max"]
    with pytest.raises(ValueError, match="at least one image"):
        measure(net, [])
    with pytest.raises(ValueError, match="max_shift"):
        measure(net, [np.zeros((28, 28))], max_shift=0)
    with pytest.raises(ValueError, match="2 names for 1 images"):
        measure(net, [np.zeros((28, 28))], names=["a", "b"])
    with pytest.raises(ValueError, match="height 20 instead of 28"):
        measure(net, [np.zeros((20, 28))])


@pytest.fixture
def digit_folder(tmp_path):
    images, _ = held_out_digits()
    folder = tmp_path / "digits"
    folder.mkdir()
    for i in range(6):
        cv2.imwrite(str(folder / f"{i}.png"), np.round(images[i] * 255).astype(np.uint8))
    (folder / "notes.txt").write_text("not an image; skipped by suffix")
    return folder


def test_the_command_writes_json(digit_folder, tmp_path, capsys):
    out = tmp_path / "max.json"
    single = digit_folder / "0.png"
    code = main(["measure", "--network", "digits-max", str(digit_folder), str(single),
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(out.read_text())
    assert data["images"] == 7 and data["pairs"] == 56 and data["network"] == "digits-max"
    assert data["wrap"] is True
    assert [item["name"] for item in data["per_image"]][-1] == str(single)
    assert "[7/7] images measured" in captured.err
    assert "digits-max: 7 images, 56 pairs" in captured.out
    images = [cv2.imread(str(digit_folder / f"{i}.png"), cv2.IMREAD_GRAYSCALE) / 255.0
              for i in range(6)] + [cv2.imread(str(single), cv2.IMREAD_GRAYSCALE) / 255.0]
    expected = measure(NETWORKS["digits-max"], images)
    assert data["p_top1_change"] == pytest.approx(expected.p_top1_change)
    assert data["mac"] == pytest.approx(expected.mac)
    code = main(["measure", "--network", "digits-aps", str(digit_folder), "--out", str(out),
                 "--no-wrap", "--quiet"])
    assert code == 0 and json.loads(out.read_text())["wrap"] is False
    assert capsys.readouterr().err == ""


def test_an_onnx_file_as_the_network(digit_folder, tmp_path, capsys):
    out = tmp_path / "file.json"
    model = NETWORKS["digits-blurmax"].path
    assert main(["measure", "--network", str(model), str(digit_folder), "--out", str(out),
                 "-q"]) == 0
    assert json.loads(out.read_text())["network"] == "digits-blurmax"


def one_line_error(capsys, *words):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("shiftlab measure: error: "), err
    for word in words:
        assert word in lines[0], err


def test_input_errors_exit_1_with_one_line(digit_folder, tmp_path, capsys):
    out = tmp_path / "r.json"
    big = tmp_path / "big.png"
    cv2.imwrite(str(big), np.zeros((30, 32), np.uint8))
    assert main(["measure", "--network", "digits-max", str(big), "--out", str(out)]) == 1
    one_line_error(capsys, str(big), "32x30", "takes 28x28")
    assert main(["measure", "--network", "nope", str(digit_folder), "--out", str(out)]) == 1
    one_line_error(capsys, "nope", "no such file")
    bad_model = tmp_path / "bad.onnx"
    bad_model.write_text("garbage")
    assert main(["measure", "--network", str(bad_model), str(digit_folder),
                 "--out", str(out)]) == 1
    one_line_error(capsys, str(bad_model), "not an ONNX model")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["measure", "--network", "digits-max", str(empty), "--out", str(out)]) == 1
    one_line_error(capsys, str(empty), "no image files")
    not_image = tmp_path / "x.png"
    not_image.write_text("text")
    assert main(["measure", "--network", "digits-max", str(not_image), "--out", str(out)]) == 1
    one_line_error(capsys, str(not_image))
    assert main(["measure", "--network", "digits-max", str(digit_folder),
                 "--out", str(tmp_path / "no" / "r.json")]) == 1
    one_line_error(capsys, "does not exist")
    assert not out.exists()


def test_usage_errors_exit_2(capsys):
    assert main(["measure", "x.png", "--out", "r.json"]) == 2
    assert "--network" in capsys.readouterr().err
    assert main(["measure", "--network", "digits-max", "x.png"]) == 2
    assert main(["measure", "--network", "digits-max", "--out", "r.json"]) == 2
    assert main(["measure", "--help"]) == 0
    assert "p_top1_change" in capsys.readouterr().out


def test_ctrl_c_exits_130_and_writes_nothing(digit_folder, tmp_path, capsys, monkeypatch):
    import cli_measure

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_measure, "measure", interrupted)
    out = tmp_path / "r.json"
    assert main(["measure", "--network", "digits-max", str(digit_folder), "--out", str(out)]) \
        == 130
    assert "interrupted" in capsys.readouterr().err and not out.exists()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child differs on Windows")
def test_a_real_ctrl_c_stops_the_command(tmp_path):
    images, _ = held_out_digits()
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(4000):
        cv2.imwrite(str(folder / f"{i:04d}.png"), np.round(images[i % 500] * 255).astype(np.uint8))
    out = tmp_path / "r.json"
    proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "measure", "--network",
                             "digits-max", str(folder), "--out", str(out)],
                            stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    first = proc.stderr.readline()  # the first progress line: measuring has begun
    assert "images measured" in first, first
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted; nothing was written" in err and not out.exists()
