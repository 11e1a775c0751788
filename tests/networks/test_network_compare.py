"""Comparing two inputs through a network and sweeping a shift, against plain numpy on
the layers' maps and separate runs of every shifted input."""

from __future__ import annotations

import numpy as np
import pytest
from drawn_digits import drawn_digit

from engine.comparison import InputTransform
from engine.networks import NETWORKS, compare_views, network_sweep, run_network
from engine.sweep import SweepCancelled


def distance(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    ref = max(np.linalg.norm(a), np.linalg.norm(b))
    return float("nan") if ref == 0 else float(np.linalg.norm(a - b) / ref)


@pytest.mark.parametrize("name", list(NETWORKS))
def test_per_layer_distance_displacement_and_answers(name):
    net = NETWORKS[name]
    a_img = drawn_digit(7)
    t = InputTransform("shift", dy=1, dx=2)
    a, b = run_network(net, a_img), run_network(net, t.apply(a_img))
    c = compare_views(a, b, t)
    assert [s.name for s in c.stages] == list(a.layer_names)
    for s in c.stages:
        ma = a.panel(s.name).activations.max(axis=0)
        mb = b.panel(s.name).activations.max(axis=0)
        assert s.distance == pytest.approx(distance(ma, mb), rel=1e-5)
        pa = np.unravel_index(np.argmax(ma), ma.shape)
        pb = np.unravel_index(np.argmax(mb), mb.shape)
        assert s.displacement == (int(pb[0] - pa[0]), int(pb[1] - pa[1]))
        assert s.stride == a.panel(s.name).stride
        # a shift of 1, 2 pixels is no whole number of cells at stride 2 or 4
        assert s.equivariance_error is None and "multiple" in s.error_note
        ta, tb = a.panel(s.name).activations, b.panel(s.name).activations
        assert c.tensor_distances[s.name] == pytest.approx(distance(ta, tb), rel=1e-5)
        np.testing.assert_allclose(c.differences[s.name], ma - mb, atol=1e-6)
    assert c.top1_a == int(np.argmax(net.run(a_img).probabilities))
    assert c.top1_b == int(np.argmax(net.run(t.apply(a_img)).probabilities))


def test_a_shift_by_the_stride_gives_the_transform_error_of_an_equivariant_aps_net():
    net = NETWORKS["digits-aps"]
    img = np.random.default_rng(0).random((28, 28), dtype=np.float32)
    t = InputTransform("shift", dy=4, dx=-4)
    c = compare_views(run_network(net, img), run_network(net, t.apply(img)), t)
    for s in c.stages:
        assert s.equivariance_error == pytest.approx(0.0, abs=1e-4)
        # the peak moves with the input, around the wrap: (4, -4) modulo 28
        assert (s.displacement_px[0] % 28, s.displacement_px[1] % 28) == (4, 24)


def test_another_network_is_refused():
    img = drawn_digit(1)
    with pytest.raises(ValueError, match="one network"):
        compare_views(run_network(NETWORKS["digits-max"], img),
                      run_network(NETWORKS["digits-aps"], img))


@pytest.mark.parametrize("wrap", [True, False])
def test_the_sweep_is_every_shift_run_on_its_own(wrap):
    net = NETWORKS["digits-max"]
    img = drawn_digit(4)
    base = run_network(net, img)
    sweep = network_sweep(net, img, range(-3, 4), axis="diagonal", wrap=wrap, class_index=4)
    assert sweep.layers == base.layer_names and sweep.class_index == 4
    for i, s in enumerate(sweep.shifts):
        shifted = np.roll(img, (s, s), axis=(0, 1))
        if not wrap:
            shifted = np.zeros_like(img)
            src = img[max(-s, 0):28 - max(s, 0), max(-s, 0):28 - max(s, 0)]
            shifted[max(s, 0):28 + min(s, 0), max(s, 0):28 + min(s, 0)] = src
        run = net.run(shifted)
        assert sweep.probability[i] == pytest.approx(run.probabilities[4], abs=1e-6)
        assert sweep.top1[i] == run.top1
        for j, name in enumerate(sweep.layers):
            ref = distance(run.activations[name], base.panel(name).activations)
            assert sweep.distances[i, j] == pytest.approx(ref, rel=1e-5, abs=1e-7)
    assert sweep.distances[3].max() == 0.0  # shift 0


def test_the_sweep_follows_the_top_class_by_default_and_can_be_cancelled():
    net = NETWORKS["digits-blurmax"]
    img = drawn_digit(2)
    sweep = network_sweep(net, img, [0, 1])
    assert sweep.class_index == int(np.argmax(net.run(img).probabilities))
    with pytest.raises(SweepCancelled):
        network_sweep(net, img, [0, 1, 2], cancel=lambda: True)
    with pytest.raises(ValueError, match="class_index"):
        network_sweep(net, img, [0], class_index=10)
