"""Making images into network inputs, against plain numpy: the digit networks take the
28x28 canvas as it is (white on black in [0, 1]); a user's model gets the size and
channels it asks for, resized or centre-cropped, with ImageNet's mean and std by default;
labels files are read or refused with a message naming the file."""

from __future__ import annotations

import numpy as np
import pytest

from engine.networks import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    NETWORKS,
    InputPreparation,
    LabelsError,
    NetworkChoice,
    held_out_digits,
    load_network,
    prepare_input,
    read_labels,
)

torch = pytest.importorskip("torch")
from user_models import EXPORT_WARNINGS, export, rgb_classifier  # noqa: E402  (needs torch)

pytestmark = EXPORT_WARNINGS


def block_mean(img: np.ndarray, k: int) -> np.ndarray:
    h, w = img.shape
    return img.reshape(h // k, k, w // k, k).mean(axis=(1, 3))


@pytest.fixture(scope="module")
def rgb_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "rgb.onnx"
    return load_network(export(rgb_classifier(), (3, 32, 48), path))


def test_the_digit_networks_take_the_canvas_as_it_is():
    images, labels = held_out_digits()
    for name in NETWORKS:
        net = NETWORKS[name]
        p = prepare_input(images[0], net)
        assert p.note == "kept 28x28" and p.x.shape == (1, 28, 28)
        np.testing.assert_array_equal(p.x[0], images[0])  # mean 0, std 1: unchanged
        assert not p.x.flags.writeable
    # What they expect is white on black in [0, 1]: so they read the held-out digits, and
    # the same digits inverted (black on white) mostly not.
    net = NETWORKS["digits-max"]
    upright = net.classify(np.stack([prepare_input(i, net).x for i in images[:200]]))
    inverted = net.classify(np.stack([prepare_input(1 - i, net).x for i in images[:200]]))
    assert np.mean(upright.argmax(axis=1) == labels[:200]) > 0.9
    assert np.mean(inverted.argmax(axis=1) == labels[:200]) < 0.5


def test_a_photo_is_resized_grey_repeated_and_normalised_like_numpy(rgb_model):
    rng = np.random.default_rng(1)
    photo = rng.random((64, 96), dtype=np.float32)
    p = prepare_input(photo, rgb_model)
    assert p.note == "resized 64x96 -> 32x48" and p.source_shape == (64, 96)
    expected = block_mean(photo, 2)  # area resize by an exact factor 2
    for c in range(3):
        np.testing.assert_allclose(p.pixels[c], expected, atol=1e-6)
        np.testing.assert_allclose(p.x[c], (expected - IMAGENET_MEAN[c]) / IMAGENET_STD[c],
                                   atol=1e-5)
    own = prepare_input(photo, rgb_model, InputPreparation(mean=(0.5,), std=(0.25, 0.5, 1.0)))
    np.testing.assert_allclose(own.x[1], (expected - 0.5) / 0.5, atol=1e-5)


def test_a_photo_is_scaled_to_cover_and_centre_cropped(rgb_model):
    photo = np.random.default_rng(2).random((40, 200), dtype=np.float32)
    p = prepare_input(photo, rgb_model, InputPreparation("crop"))
    assert p.note == "scaled 40x200 -> 32x160, centre-cropped to 32x48"
    # An exact factor of 2 gives a numpy reference: block means, then the middle columns.
    exact = np.random.default_rng(3).random((64, 192), dtype=np.float32)
    q = prepare_input(exact, rgb_model, InputPreparation("crop"))
    assert q.note == "scaled 64x192 -> 32x96, centre-cropped to 32x48"
    np.testing.assert_allclose(q.pixels[0], block_mean(exact, 2)[:, 24:72], atol=1e-6)


def test_free_sizes_keep_the_image_size(tmp_path):
    net = load_network(export(rgb_classifier(), (3, 32, 32), tmp_path / "free.onnx",
                              free_size=True))
    assert net.input_shape == (3, None, None)
    p = prepare_input(np.zeros((40, 56), np.float32), net)
    assert p.note == "kept 40x56" and p.x.shape == (3, 40, 56)


@pytest.mark.parametrize("kwargs,words", [
    ({"fit": "stretch"}, "fit"), ({"std": (0.0,)}, "positive"), ({"mean": ()}, "finite"),
    ({"mean": (float("nan"),)}, "finite"), ({"mean": "0.5"}, "sequence")])
def test_bad_preparations_are_refused(kwargs, words):
    with pytest.raises(ValueError, match=words):
        InputPreparation(**kwargs)


def test_a_mean_per_channel_must_match_the_channels():
    with pytest.raises(ValueError, match="3 values.*1 channel"):
        prepare_input(np.zeros((28, 28)), NETWORKS["digits-max"],
                      InputPreparation(mean=IMAGENET_MEAN))


def test_labels_files(tmp_path, rgb_model):
    good = tmp_path / "labels.txt"
    good.write_text("cat\ndog\nbird\nfish\nfrog\n\n", encoding="utf-8")
    assert read_labels(good, 5) == ("cat", "dog", "bird", "fish", "frog")
    bad = {"blank.txt": "cat\n\ndog\n", "empty.txt": "\n\n", "bin.txt": "a\x00b\n"}
    words = {"blank.txt": "line 2 is blank", "empty.txt": "empty", "bin.txt": "binary"}
    for name, text in bad.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(LabelsError, match=words[name]) as info:
            read_labels(tmp_path / name)
        assert str(tmp_path / name) in str(info.value)
    (tmp_path / "latin.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(LabelsError, match="not UTF-8"):
        read_labels(tmp_path / "latin.txt")
    with pytest.raises(LabelsError, match="5 class names for a model with 3 classes"):
        read_labels(good, 3)
    with pytest.raises(LabelsError, match="missing|No such|no such"):
        read_labels(tmp_path / "nope.txt")
    # Through a network choice the count is checked against the model's classes.
    (tmp_path / "four.txt").write_text("a\nb\nc\nd\n", encoding="utf-8")
    choice = NetworkChoice.of_file(rgb_model.path, labels_path=str(tmp_path / "four.txt"))
    with pytest.raises(ValueError, match="4 labels in .* for 5 classes") as info:
        choice.load()
    assert str(tmp_path / "four.txt") in str(info.value)  # the file to fix is named
    named = NetworkChoice.of_file(rgb_model.path, labels_path=str(good)).load()
    assert named.labels == ("cat", "dog", "bird", "fish", "frog")
