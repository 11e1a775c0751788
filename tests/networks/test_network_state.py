"""A state that chooses a network: run_state runs it, sessions save it by name or by the
model file's path and SHA-256, and a moved or changed model file is refused by name. A
state without a network is as it was (no network key, session format 2)."""

from __future__ import annotations

import json
import shutil
import zipfile

import numpy as np
import pytest
from drawn_digits import drawn_digit

from engine import (
    CompareSetup,
    ImageSource,
    InputImage,
    InputTransform,
    ViewState,
    load_session,
    run_state,
    save_session,
)
from engine.networks import (
    NETWORKS,
    NetworkChoice,
    NetworkChoiceError,
    load_network,
    run_network,
)
from engine.report import file_sha256
from engine.session import SessionError
from engine.state import state_to_dict

torch = pytest.importorskip("torch")
from user_models import EXPORT_WARNINGS, export, rgb_classifier  # noqa: E402  (needs torch)

pytestmark = EXPORT_WARNINGS


def session_json(path) -> dict:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("session.json"))


def digit_state(network: NetworkChoice | None, compare: CompareSetup | None = None):
    return ViewState(InputImage(drawn_digit(7)), compare=compare, network=network)


def test_a_state_without_a_network_is_unchanged(tmp_path):
    state = digit_state(None)
    assert state.network is None and "network" not in state_to_dict(state)
    assert run_state(state).network is None
    save_session(tmp_path / "s.shiftlab", state)
    assert session_json(tmp_path / "s.shiftlab")["version"] == 2
    assert "network" not in session_json(tmp_path / "s.shiftlab")["state"]
    assert load_session(tmp_path / "s.shiftlab").state.network is None


def test_run_state_runs_the_bundled_network_and_compares_b():
    choice = NetworkChoice.bundled("digits-max")
    setup = CompareSetup(InputTransform("shift", dy=4, dx=4))
    run = run_state(digit_state(choice, setup)).network
    net = NETWORKS["digits-max"]
    img = drawn_digit(7)
    assert run.a.top1 == net.run(img).top1
    np.testing.assert_allclose(run.a.probabilities, net.run(img).probabilities)
    moved = np.roll(img, (4, 4), axis=(0, 1))
    assert run.b.top1 == net.run(moved).top1
    assert run.comparison.top1_b == run.b.top1
    assert run.comparison.transform is not None  # 28x28 kept: the shift holds in the net
    assert run.shift_map.top1.shape == (9, 9)
    assert run.shift_map.at(0, 0)[0] == run.a.top1
    assert run.b.layer_names == run.a.layer_names


def test_a_bundled_network_round_trips_through_a_session(tmp_path):
    choice = NetworkChoice.bundled("digits-aps", shift_radius=2, shift_wrap=False,
                                   order="index")
    state = digit_state(choice)
    path = tmp_path / "digits.shiftlab"
    save_session(path, state)
    document = session_json(path)
    assert document["version"] == 3
    assert document["state"]["network"] == {"name": "digits-aps", "order": "index",
                                            "shift_radius": 2, "shift_wrap": False}
    loaded = load_session(path).state
    assert loaded.network == choice
    run = run_state(loaded).network
    assert run.shift_map.top1.shape == (5, 5) and not run.shift_map.wrap


def test_a_model_file_round_trips_and_a_changed_or_moved_file_is_refused(tmp_path):
    model = export(rgb_classifier(), (3, 32, 32), tmp_path / "mine.onnx")
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\nc\nd\ne\n", encoding="utf-8")
    net = load_network(model)
    layer = run_network(net, np.zeros((40, 40), np.float32)).layer_names[0]
    choice = NetworkChoice.of_file(model, fit="crop", mean=(0.5,), std=(0.25,),
                                   labels_path=str(labels), layers=(layer,))
    assert choice.sha256 == file_sha256(model)
    photo = np.random.default_rng(0).random((48, 64), dtype=np.float32)
    state = ViewState(InputImage(photo), network=choice)
    path = tmp_path / "mine.shiftlab"
    save_session(path, state)
    recorded = session_json(path)["state"]["network"]
    assert recorded["path"] == str(model) and recorded["sha256"] == file_sha256(model)
    loaded = load_session(path).state
    assert loaded.network == choice
    run = run_state(loaded).network
    assert run.a.prepared.note == "scaled 48x64 -> 32x43, centre-cropped to 32x32"
    assert run.a.layer_names == (layer,) and run.a.labels == ("a", "b", "c", "d", "e")
    x = ((run.a.prepared.pixels - 0.5) / 0.25).astype(np.float32)
    np.testing.assert_allclose(run.a.probabilities, net.run(x).probabilities, atol=1e-6)

    # The model changes: same path, other weights.
    torch.manual_seed(5)
    other = rgb_classifier()
    for p in other.parameters():
        p.data.uniform_(-1, 1)
    backup = tmp_path / "backup.onnx"
    shutil.copy(model, backup)
    export(other, (3, 32, 32), model)
    with pytest.raises(SessionError, match="changed since it was chosen") as info:
        load_session(path)
    assert str(model) in str(info.value) and choice.sha256[:12] in str(info.value)
    with pytest.raises(NetworkChoiceError, match="changed"):
        run_state(state)
    # Moved away: missing.
    model.unlink()
    with pytest.raises(SessionError, match="missing") as info:
        load_session(path)
    assert str(model) in str(info.value)
    shutil.copy(backup, model)
    assert load_session(path).state.network == choice


def test_bad_network_records_are_refused(tmp_path):
    with pytest.raises(NetworkChoiceError, match="no bundled network"):
        NetworkChoice.bundled("digits-nope")
    with pytest.raises(NetworkChoiceError, match="either a bundled name or"):
        NetworkChoice()
    with pytest.raises(NetworkChoiceError, match="unknown fields"):
        NetworkChoice.from_dict({"name": "digits-max", "colour": 1})
    with pytest.raises(NetworkChoiceError, match="shift_radius"):
        NetworkChoice.bundled("digits-max", shift_radius=-1)
    state = ViewState(InputImage(drawn_digit(1), ImageSource()), network=NetworkChoice.bundled(
        "digits-max"))
    path = tmp_path / "s.shiftlab"
    save_session(path, state)
    with zipfile.ZipFile(path) as archive:
        document = json.loads(archive.read("session.json"))
        pixels = archive.read("a.npy")
    document["state"]["network"]["mean"] = ["x"]
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("session.json", json.dumps(document))
        archive.writestr("a.npy", pixels)
    with pytest.raises(SessionError, match="network mean must be a list of numbers"):
        load_session(path)
