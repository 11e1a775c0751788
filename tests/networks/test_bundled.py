"""The bundled digit networks: accuracy on the held-out digits, and APS's exact invariance."""

from __future__ import annotations

import numpy as np
import pytest

from engine import NETWORKS, Network, held_out_digits

#: The largest change of any class probability allowed under a circular shift of a test digit
#: through digits-aps. The phases APS keeps are the same values, but onnxruntime sums the
#: global average pool (and the phase norms) in another order when the map is shifted, so
#: the logits differ in the last bits of float32: the largest change seen over 60 digits x
#: 784 shifts was 3.1e-7, and the top-1 class never changed.
APS_TOLERANCE = 1e-6


def test_the_three_networks_load_from_package_data():
    assert list(NETWORKS) == ["digits-max", "digits-blurmax", "digits-aps"]
    for name, net in NETWORKS.items():
        assert isinstance(net, Network) and net.name == name
        assert net.input_shape == (1, 28, 28)
        assert net.labels == tuple("0123456789")
        assert NETWORKS[name] is net  # loaded once
    with pytest.raises(KeyError, match="digits-max"):
        NETWORKS["nope"]


@pytest.mark.parametrize("name", list(NETWORKS))
def test_held_out_accuracy_is_at_least_97_percent(name):
    images, labels = held_out_digits()
    assert images.shape == (500, 28, 28) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    p = NETWORKS[name].classify(images)
    accuracy = float((p.argmax(axis=1) == labels).mean())
    assert accuracy >= 0.97, f"{name}: {accuracy:.3f}"


def test_run_gives_every_layer_and_traces_the_maps_to_input_pixels():
    images, labels = held_out_digits()
    result = NETWORKS["digits-aps"].run(images[0])
    assert result.top1 == labels[0]
    maps = [(n, a) for n, a in result.activations.items() if a.ndim == 3]
    assert maps and all(a.dtype == np.float32 for _, a in maps)
    deepest = [n for n, a in maps if a.shape[1:] == (7, 7)][-1]
    g = result.geometry[deepest]
    assert g is not None and g.stride == (4, 4)
    # an APS cell covers the union of the four phases: conv 3, APS 2x2 (+1), conv (+4),
    # APS (+2), conv (+8)
    assert g.extent == (18, 18)
    assert result.geometry[deepest].receptive_field(3, 3) == (5, 5, 23, 23)


def test_aps_answers_identically_under_every_circular_shift():
    images, _ = held_out_digits()
    net = NETWORKS["digits-aps"]
    worst = 0.0
    for image in images[:12]:
        shifted = np.stack([np.roll(image, (dy, dx), axis=(0, 1))
                            for dy in range(28) for dx in range(28)])
        p = net.classify(shifted)
        assert len(set(p.argmax(axis=1).tolist())) == 1
        worst = max(worst, float(np.abs(p - p[0]).max()))
    assert worst <= APS_TOLERANCE


def test_max_pooling_is_not_invariant():
    """The reason for the app: the max network's answer moves with a one-pixel shift."""
    images, _ = held_out_digits()
    net = NETWORKS["digits-max"]
    worst = 0.0
    for image in images[:12]:
        p = net.classify(np.stack([np.roll(image, (d, d), axis=(0, 1)) for d in range(4)]))
        worst = max(worst, float(np.abs(p - p[0]).max()))
    assert worst > 1e-3


def test_digits_drawn_like_with_a_mouse_are_read():
    """Hard-edged 2-pixel strokes (tests/drawn_digits.py, never trained on): at most one of
    the ten is misread by any network."""
    from drawn_digits import drawn_digit

    for name, net in NETWORKS.items():
        read = [net.run(drawn_digit(d)).top1 for d in range(10)]
        assert sum(r == d for d, r in enumerate(read)) >= 9, f"{name} read {read}"
