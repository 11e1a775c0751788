"""The shift map against running every shifted image on its own (np.roll, or a zero-filled
copy made here), for the digit networks and a user's model with normalisation; and the
answer a bar chart shows."""

from __future__ import annotations

import numpy as np
import pytest
from drawn_digits import drawn_digit

from engine.networks import (
    NETWORKS,
    InputPreparation,
    held_out_digits,
    load_network,
    prepare_input,
    run_network,
    shift_map,
)
from engine.sweep import SweepCancelled

torch = pytest.importorskip("torch")
from user_models import EXPORT_WARNINGS, export, rgb_classifier  # noqa: E402  (needs torch)

pytestmark = EXPORT_WARNINGS


def moved(img: np.ndarray, dy: int, dx: int, wrap: bool) -> np.ndarray:
    """The plain reference: np.roll, or a copy into zeros."""
    if wrap:
        return np.roll(img, (dy, dx), axis=(0, 1))
    out = np.zeros_like(img)
    h, w = img.shape
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        img[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


@pytest.mark.parametrize("name", list(NETWORKS))
@pytest.mark.parametrize("wrap", [True, False])
def test_the_shift_map_is_each_shifted_image_run_on_its_own(name, wrap):
    net = NETWORKS[name]
    digit = drawn_digit(7)
    m = shift_map(net, prepare_input(digit, net), wrap=wrap)
    assert m.shifts == tuple(range(-4, 5)) and m.top1.shape == (9, 9)
    for i, dy in enumerate(m.shifts):
        for j, dx in enumerate(m.shifts):
            p = net.run(moved(digit, dy, dx, wrap)).probabilities
            assert m.top1[i, j] == int(np.argmax(p)), (dy, dx)
            assert m.confidence[i, j] == pytest.approx(p.max(), abs=1e-5)
            np.testing.assert_allclose(m.probabilities[i, j], p, atol=1e-5)
    assert m.at(0, 0) == (int(m.top1[4, 4]), float(m.confidence[4, 4]))
    assert m.changed == int(np.count_nonzero(m.top1 != m.top1[4, 4]))
    assert set(m.classes) == set(np.unique(m.top1).tolist())


def test_a_user_model_is_shifted_before_normalisation(tmp_path):
    net = load_network(export(rgb_classifier(), (3, 24, 24), tmp_path / "rgb.onnx"))
    photo = np.random.default_rng(0).random((24, 24), dtype=np.float32)
    prep = InputPreparation(mean=(0.4, 0.5, 0.6), std=(0.2, 0.3, 0.4))
    prepared = prepare_input(photo, net, prep)
    m = shift_map(net, prepared, radius=2, wrap=False)
    assert m.top1.shape == (5, 5)
    mean, std = np.array([0.4, 0.5, 0.6]), np.array([0.2, 0.3, 0.4])
    for i, dy in enumerate(m.shifts):
        for j, dx in enumerate(m.shifts):
            grey = moved(photo, dy, dx, wrap=False)  # black comes in, then normalised
            x = ((grey[None] - mean[:, None, None]) / std[:, None, None]).astype(np.float32)
            p = net.run(x).probabilities
            np.testing.assert_allclose(m.probabilities[i, j], p, atol=1e-5)


def test_aps_keeps_its_answer_under_every_circular_shift_of_a_real_digit():
    # Grey scans rarely tie, so the APS network's guarantee holds: one answer everywhere.
    images, labels = held_out_digits()
    net = NETWORKS["digits-aps"]
    for img in images[:5]:
        m = shift_map(net, prepare_input(img, net))
        assert m.changed == 0
        np.testing.assert_allclose(m.confidence, m.confidence[4, 4], atol=1e-4)


def test_bars_show_every_digit_with_the_top_one_marked():
    net = NETWORKS["digits-max"]
    view = run_network(net, drawn_digit(3))
    p = net.run(drawn_digit(3)).probabilities
    bars = view.bars()
    assert [b.label for b in bars] == [str(d) for d in range(10)]
    assert [b.top1 for b in bars].index(True) == int(np.argmax(p)) == view.top1
    np.testing.assert_allclose([b.probability for b in bars], p, atol=1e-6)
    top3 = view.bars(3)
    assert [b.index for b in top3] == list(np.argsort(-p, kind="stable")[:3])


def test_bad_radius_is_refused():
    net = NETWORKS["digits-max"]
    with pytest.raises(ValueError, match="radius"):
        shift_map(net, prepare_input(drawn_digit(1), net), radius=99)


def test_progress_by_row_and_cancel():
    net = NETWORKS["digits-max"]
    prepared = prepare_input(drawn_digit(5), net)
    seen = []
    shift_map(net, prepared, radius=1, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(SweepCancelled) as info:
        shift_map(net, prepared, cancel=lambda: len(seen) > 4,
                  progress=lambda done, total: seen.append(done))
    assert info.value.done == 2
