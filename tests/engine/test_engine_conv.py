"""conv2d, relu and activate: hand-computed cases, a plain reference, torch when present."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference_ops import pad_like_torch, ref_conv2d, ref_relu

from engine import ACTIVATIONS, KERNELS, PADDINGS, activate, conv2d, parse_kernel_text, relu

X3 = np.arange(1.0, 10.0).reshape(3, 3)  # [[1,2,3],[4,5,6],[7,8,9]]
DIAG = np.array([[1.0, 0.0], [0.0, -1.0]])  # out[i, j] = x[i, j] - x[i+1, j+1]

# Worked by hand: a 2x2 kernel pads 0 before and 1 after on each axis.
HAND_2X2 = {
    "valid": [[-4, -4], [-4, -4]],
    "same": [[-4, -4, 3], [-4, -4, 6], [7, 8, 9]],  # zeros after
    "circular": [[-4, -4, 3 - 4], [-4, -4, 6 - 7], [7 - 2, 8 - 3, 9 - 1]],  # index 3 -> 0
    "reflect": [[-4, -4, 3 - 5], [-4, -4, 6 - 8], [7 - 5, 8 - 6, 9 - 5]],  # index 3 -> 1
    "replicate": [[-4, -4, 3 - 6], [-4, -4, 6 - 9], [7 - 8, 8 - 9, 9 - 9]],  # index 3 -> 2
}

# 3x3 of ones pads 1 before and 1 after: sums of the 3x3 neighbourhood.
HAND_BOX = {
    "valid": [[45]],
    "same": [[12, 21, 16], [27, 45, 33], [24, 39, 28]],
    "circular": [[45, 45, 45], [45, 45, 45], [45, 45, 45]],
    # row/col -1 -> 1 and 3 -> 1: corner (0,0) = x00 + 2*x01 + 2*x10 + 4*x11
    "reflect": [[33, 36, 39], [42, 45, 48], [51, 54, 57]],
    # row/col -1 -> 0 and 3 -> 2: corner (0,0) = 4*x00 + 2*x01 + 2*x10 + x11
    "replicate": [[21, 27, 33], [39, 45, 51], [57, 63, 69]],
}


@pytest.mark.parametrize("padding", PADDINGS)
def test_even_kernel_every_padding_by_hand(padding):
    out = conv2d(X3, DIAG, padding=padding)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.array(HAND_2X2[padding], dtype=np.float32))


@pytest.mark.parametrize("padding", PADDINGS)
def test_odd_kernel_every_padding_by_hand(padding):
    out = conv2d(X3, np.ones((3, 3)), padding=padding)
    np.testing.assert_allclose(out, np.array(HAND_BOX[padding]), atol=1e-4)


def test_no_kernel_flip():
    # Cross-correlation reads the right neighbour with [[0, 1]]; a convolution would not.
    np.testing.assert_array_equal(conv2d(X3, [[0.0, 1.0]]), [[2, 3], [5, 6], [8, 9]])
    np.testing.assert_array_equal(conv2d(X3, [[0.0], [1.0]]), [[4, 5, 6], [7, 8, 9]])


def test_strides_by_hand():
    np.testing.assert_array_equal(conv2d(X3, [[2.0]], stride=2), [[2, 6], [14, 18]])
    np.testing.assert_allclose(conv2d(X3, np.ones((3, 3)), padding="same", stride=2),
                               [[12, 16], [24, 28]], atol=1e-4)
    # 4x4, kernel 1x2, stride 3: rows floor((4 - 1) / 3) + 1 = 2 (rows 0 and 3),
    # columns floor((4 - 2) / 3) + 1 = 1
    out = conv2d(np.arange(16.0).reshape(4, 4), [[1.0, 1.0]], stride=3)
    np.testing.assert_array_equal(out, [[0 + 1], [12 + 13]])


def test_named_kernel_is_the_articles_vertical_sobel():
    img = np.zeros((5, 6))
    img[:, 3:] = 1.0  # a vertical edge, dark to bright going right
    out = conv2d(img, "prewitt_vertical")
    np.testing.assert_array_equal(out, ref_conv2d(img, KERNELS["prewitt_vertical"]))
    assert out.shape == (3, 4)
    assert out.max() == 3.0 and out[:, 0].max() == 0.0


def _random_case(rng):
    h, w = rng.integers(1, 10, size=2)
    kh, kw = rng.integers(1, 6, size=2)
    padding = PADDINGS[rng.integers(len(PADDINGS))]
    stride = int(rng.integers(1, 4))
    x = rng.normal(size=(h, w))
    k = rng.normal(size=(kh, kw))
    return x, k, padding, stride


def _fits(x, k, padding):
    if padding == "valid":
        return k.shape[0] <= x.shape[0] and k.shape[1] <= x.shape[1]
    if padding == "reflect":  # numpy and torch need the padding smaller than the image
        return k.shape[0] - 1 - (k.shape[0] - 1) // 2 < x.shape[0] and \
            k.shape[1] - 1 - (k.shape[1] - 1) // 2 < x.shape[1]
    return True


def test_random_cases_match_the_plain_reference():
    rng = np.random.default_rng(1)
    checked = set()
    while len(checked) < 120:
        x, k, padding, stride = _random_case(rng)
        if not _fits(x, k, padding):
            with pytest.raises(ValueError, match="kernel|reflect"):
                conv2d(x, k, padding=padding, stride=stride)
            continue
        out = conv2d(x, k, padding=padding, stride=stride)
        ref = ref_conv2d(x, k, padding, stride)
        assert out.shape == ref.shape, (x.shape, k.shape, padding, stride)
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-4)
        checked.add((x.shape, k.shape, padding, stride))
    kinds = {(k[0] % 2, k[1] % 2, p) for _, k, p, _ in checked}
    assert len(kinds) == 4 * len(PADDINGS)  # odd and even kernels in every mode


def test_large_kernel_matches_reference():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(30, 28))
    k = rng.normal(size=(13, 12))  # large enough for OpenCV to switch to its DFT path
    for padding in PADDINGS:
        np.testing.assert_allclose(conv2d(x, k, padding=padding, stride=2),
                                   ref_conv2d(x, k, padding, 2), rtol=1e-3, atol=1e-3)


def test_circular_kernel_larger_than_image_wraps_several_times():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 2))
    k = rng.normal(size=(7, 6))
    np.testing.assert_allclose(conv2d(x, k, padding="circular"),
                               ref_conv2d(x, k, "circular"), rtol=1e-4, atol=1e-4)


def test_matches_torch_when_installed():
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    torch_mode = {"same": "constant", "circular": "circular", "reflect": "reflect",
                  "replicate": "replicate"}
    rng = np.random.default_rng(4)
    done = 0
    while done < 60:
        x, k, padding, stride = _random_case(rng)
        if not _fits(x, k, padding):
            continue
        t = torch.tensor(x, dtype=torch.float64)[None, None]
        if padding != "valid":
            kh, kw = k.shape
            top, left = (kh - 1) // 2, (kw - 1) // 2
            t = functional.pad(t, (left, kw - 1 - left, top, kh - 1 - top),
                               mode=torch_mode[padding])
        expected = functional.conv2d(t, torch.tensor(k)[None, None], stride=stride)[0, 0]
        np.testing.assert_allclose(conv2d(x, k, padding=padding, stride=stride),
                                   expected.numpy(), rtol=1e-4, atol=1e-4)
        done += 1


@settings(max_examples=50, deadline=None)
@given(
    x=hnp.arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 12)),
                 elements=st.floats(-10, 10, width=32)),
    k=hnp.arrays(np.float32, st.tuples(st.integers(1, 5), st.integers(1, 5)),
                 elements=st.floats(-3, 3, width=32)),
    dy=st.integers(-20, 20),
    dx=st.integers(-20, 20),
)
def test_circular_conv_commutes_with_roll(x, k, dy, dx):
    shifted_then_conv = conv2d(np.roll(x, (dy, dx), axis=(0, 1)), k, padding="circular")
    conv_then_shifted = np.roll(conv2d(x, k, padding="circular"), (dy, dx), axis=(0, 1))
    assert shifted_then_conv.shape == x.shape
    # Equal up to float32 rounding (OpenCV may sum border and interior cells in another order).
    scale = max(1.0, float(np.abs(x).max()) * float(np.abs(k).sum()))
    np.testing.assert_allclose(shifted_then_conv, conv_then_shifted, rtol=1e-5, atol=1e-5 * scale)


def test_relu_and_activations():
    x = np.array([[-2.0, 0.0, 3.5], [1.0, -0.5, -7.0]])
    np.testing.assert_array_equal(relu(x), ref_relu(x))
    np.testing.assert_array_equal(activate(x, "relu"), [[0, 0, 3.5], [1, 0, 0]])
    np.testing.assert_array_equal(activate(x, "abs"), [[2, 0, 3.5], [1, 0.5, 7]])
    np.testing.assert_array_equal(activate(x, "none"), x)
    assert set(ACTIVATIONS) == {"relu", "abs", "none"}


BAD_IMAGES = [
    (np.zeros(5), "2-D"),
    (np.zeros((2, 2, 3)), "2-D"),
    (np.zeros((0, 4)), "empty"),
    (np.zeros((4, 0)), "empty"),
    (np.array([[1.0, np.nan]]), "NaN"),
    (np.array([[1.0], [np.inf]]), "NaN or infinite"),
    (np.array([[1.0, -np.inf]], dtype=np.float32), "infinite"),
    (np.array([["a", "b"]]), "real numbers"),
]


@pytest.mark.parametrize("bad, words", BAD_IMAGES)
@pytest.mark.parametrize("call", [
    lambda x: conv2d(x, np.ones((1, 1))),
    relu,
    lambda x: activate(x, "abs"),
])
def test_bad_images_are_refused_naming_x(call, bad, words):
    with pytest.raises(ValueError, match=words) as info:
        call(bad)
    assert str(info.value).startswith("x ")


@pytest.mark.parametrize("kwargs, words", [
    ({"kernel": np.zeros((0, 3))}, "kernel is empty"),
    ({"kernel": np.zeros(3)}, "kernel must be 2-D"),
    ({"kernel": [[1.0, np.nan]]}, "kernel holds"),
    ({"kernel": np.ones((5, 2))}, r"kernel \(5, 2\) is larger than the padded input \(4, 4\)"),
    ({"kernel": np.ones((2, 5))}, "kernel .* larger than the padded input"),
    ({"kernel": "no_such_kernel"}, "unknown kernel 'no_such_kernel'"),
    ({"kernel": np.ones((3, 3)), "padding": "zeros"}, "unknown padding 'zeros'"),
    ({"kernel": np.ones((3, 3)), "stride": 0}, "stride must be >= 1"),
    ({"kernel": np.ones((3, 3)), "stride": -2}, "stride must be >= 1"),
    ({"kernel": np.ones((3, 3)), "stride": 1.5}, "stride must be an integer"),
    ({"kernel": np.ones((11, 3)), "padding": "reflect"}, "reflect padding"),
])
def test_bad_arguments_are_refused_by_name(kwargs, words):
    kernel = kwargs.pop("kernel")
    with pytest.raises(ValueError, match=words):
        conv2d(np.ones((4, 4)), kernel, **kwargs)


def test_kernel_larger_than_image_is_fine_when_padded():
    out = conv2d(np.ones((2, 2)), np.ones((4, 5)), padding="same")
    np.testing.assert_allclose(out, ref_conv2d(np.ones((2, 2)), np.ones((4, 5)), "same"))
    assert pad_like_torch(np.ones((2, 2)), 4, 5, "same").shape == (5, 6)


def test_unknown_activation_is_refused():
    with pytest.raises(ValueError, match="unknown activation 'sigmoid'"):
        activate(np.ones((2, 2)), "sigmoid")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
@pytest.mark.parametrize("call", [
    lambda x: conv2d(x, np.ones((2, 2)), padding="reflect"),
    lambda x: conv2d(x, np.ones((3, 1)), padding="circular", stride=2),
    relu,
    lambda x: activate(x, "relu"),
    lambda x: activate(x, "abs"),
    lambda x: activate(x, "none"),
])
def test_inputs_are_never_modified(call, dtype):
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(6, 7)) * 50).astype(dtype)
    before = x.copy()
    out = call(x)
    assert np.array_equal(x, before)
    assert not np.shares_memory(out, x)
    x.setflags(write=False)
    np.testing.assert_array_equal(call(x), out)  # works on a read-only input too


def test_kernel_text_parses_rows_and_refuses_bad_text():
    np.testing.assert_array_equal(parse_kernel_text("-1,0,1; -2 0 2\n-1,0,1"),
                                  [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    np.testing.assert_array_equal(conv2d(X3, parse_kernel_text("0,1")), [[2, 3], [5, 6], [8, 9]])
    for text, words in [("", "kernel text is empty"), ("1,x", "kernel row 1"),
                        ("1,2;3", "rows differ in length"), ("1,nan", "kernel holds")]:
        with pytest.raises(ValueError, match=words):
            parse_kernel_text(text)


def test_named_kernels_are_read_only_and_finite():
    for name, kernel in KERNELS.items():
        assert kernel.ndim == 2 and kernel.dtype == np.float32 and np.isfinite(kernel).all()
        with pytest.raises(ValueError):
            kernel[0, 0] = 1.0  # shared presets cannot be edited by accident
        np.testing.assert_allclose(conv2d(X3, name, padding="same"),
                                   ref_conv2d(X3, kernel, "same"), atol=1e-4, err_msg=name)
