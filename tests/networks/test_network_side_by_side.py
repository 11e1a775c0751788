"""The bundled digit networks side by side as one state: validated, saved in sessions and
run all at once by run_state, each network checked against its own Network.run."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from drawn_digits import drawn_digit

from engine import (
    CompareSetup,
    InputImage,
    InputTransform,
    ViewState,
    load_session,
    run_state,
    save_session,
)
from engine.networks import NETWORKS, NetworkChoice, NetworkChoiceError, run_choice
from engine.session import SessionError
from resources import NETWORK_NAMES


def digit_state(network: NetworkChoice | None, compare: CompareSetup | None = None):
    return ViewState(InputImage(drawn_digit(7)), compare=compare, network=network)


def test_side_by_side_runs_every_digit_network_like_each_alone():
    choice = NetworkChoice.all_digits(shift_radius=2)
    setup = CompareSetup(InputTransform("shift", dy=0, dx=3))
    run = run_state(digit_state(choice, setup))
    img = drawn_digit(7)
    moved = np.roll(img, 3, axis=1)
    assert [r.choice.name for r in run.networks] == list(NETWORK_NAMES) == \
        [m.name for m in choice.members]
    assert run.network is run.networks[0] and len(run.more_networks) == 2
    for net_run in run.networks:
        net = NETWORKS[net_run.choice.name]
        alone = net.run(img)
        np.testing.assert_allclose(net_run.a.probabilities, alone.probabilities, atol=1e-6)
        np.testing.assert_allclose(net_run.b.probabilities, net.run(moved).probabilities,
                                   atol=1e-6)
        for name in net_run.a.layer_names:
            np.testing.assert_allclose(net_run.a.panel(name).activations,
                                       alone.activations[name], atol=1e-6)
        smap = net_run.shift_map
        assert smap.top1.shape == (5, 5)
        for i, dy in enumerate(smap.shifts):
            for j, dx in enumerate(smap.shifts):
                p = net.run(np.roll(img, (dy, dx), axis=(0, 1))).probabilities
                assert int(smap.top1[i, j]) == int(np.argmax(p)), (net_run.choice.name, dy, dx)
    # one network alone still gives one run
    alone = run_state(digit_state(NetworkChoice.bundled("digits-aps")))
    assert [r.choice.name for r in alone.networks] == ["digits-aps"]
    assert alone.more_networks == ()


def test_side_by_side_round_trips_through_a_session(tmp_path):
    choice = NetworkChoice.all_digits(order="index", shift_radius=3)
    path = tmp_path / "three.shiftlab"
    save_session(path, digit_state(choice))
    with zipfile.ZipFile(path) as archive:
        document = json.loads(archive.read("session.json"))
    assert document["version"] == 3
    assert document["state"]["network"] == {"name": NETWORK_NAMES[0], "order": "index",
                                            "shift_radius": 3, "side_by_side": True}
    loaded = load_session(path).state.network
    assert loaded == choice and loaded.side_by_side
    assert [m.name for m in loaded.members] == list(NETWORK_NAMES)
    assert all(m.order == "index" and m.shift_radius == 3 and not m.side_by_side
               for m in loaded.members)
    # a file of one network keeps reading as one network
    save_session(path, digit_state(NetworkChoice.bundled("digits-aps")))
    one = load_session(path).state.network
    assert not one.side_by_side and len(one.members) == 1


@pytest.mark.parametrize("fields, words", [
    ({"name": "digits-aps", "side_by_side": True}, "all_digits"),
    ({"name": NETWORK_NAMES[0], "side_by_side": True, "layers": ("x",)}, "layers"),
    ({"path": "/tmp/m.onnx", "side_by_side": True}, "bundled digit network"),
    ({"name": NETWORK_NAMES[0], "side_by_side": "yes"}, "side_by_side"),
])
def test_bad_side_by_side_choices_are_refused(fields, words):
    with pytest.raises(NetworkChoiceError, match=words):
        NetworkChoice(**fields)


def test_a_bad_side_by_side_record_in_a_session_is_refused(tmp_path):
    path = tmp_path / "bad.shiftlab"
    save_session(path, digit_state(NetworkChoice.all_digits()))
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    document = json.loads(members["session.json"])
    document["state"]["network"]["name"] = "digits-aps"
    members["session.json"] = json.dumps(document).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(SessionError, match=r"bad\.shiftlab: network: side by side"):
        load_session(path)


def test_run_choice_runs_one_network_only():
    with pytest.raises(ValueError, match="members"):
        run_choice(NetworkChoice.all_digits(), drawn_digit(7))
