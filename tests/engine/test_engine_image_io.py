"""load_image / load_color_image on real files written here: good ones and every bad kind."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest

from engine import ImageLoadError, load_color_image, load_image

LOADERS = [load_image, load_color_image]
RNG = np.random.default_rng(40)
COLOUR = RNG.integers(0, 256, size=(30, 45, 3), dtype=np.uint8)  # BGR, as OpenCV writes it
GREY = RNG.integers(0, 256, size=(30, 45), dtype=np.uint8)
# smooth content for the lossy JPEG, so the comparison tolerance can stay small
_yy, _xx = np.mgrid[0:30, 0:45]
SMOOTH = np.stack([_xx * 5, _yy * 8, 255 - _xx * 5], axis=2).astype(np.uint8)

LOSSLESS = {".png": [], ".bmp": [], ".tiff": [], ".webp": [cv2.IMWRITE_WEBP_QUALITY, 101]}


def written(path, data: bytes):
    path.write_bytes(data)
    return path


def write(path, array, params=()):
    ok, buf = cv2.imencode(path.suffix, array, list(params))
    assert ok
    return written(path, buf.tobytes())


def luma(bgr_uint8):
    return cv2.cvtColor(bgr_uint8, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255.0


@pytest.mark.parametrize("suffix", list(LOSSLESS))
def test_lossless_colour_and_grey(tmp_path, suffix):
    colour = write(tmp_path / f"colour{suffix}", COLOUR, LOSSLESS[suffix])
    grey = write(tmp_path / f"grey{suffix}", GREY, LOSSLESS[suffix])
    out = load_image(colour)
    assert out.dtype == np.float32 and out.shape == (30, 45)
    np.testing.assert_allclose(out, luma(COLOUR), atol=1 / 255 + 1e-6)
    np.testing.assert_allclose(load_image(grey), GREY / 255.0, atol=1e-6)
    rgb = load_color_image(colour)
    assert rgb.dtype == np.uint8 and rgb.shape == (30, 45, 3)
    np.testing.assert_array_equal(rgb, COLOUR[:, :, ::-1])
    np.testing.assert_array_equal(load_color_image(grey), np.repeat(GREY[:, :, None], 3, 2))


@pytest.mark.parametrize("array", [SMOOTH, SMOOTH[:, :, 1]], ids=["colour", "grey"])
def test_jpeg(tmp_path, array):
    path = write(tmp_path / "photo.jpg", array, [cv2.IMWRITE_JPEG_QUALITY, 95])
    out = load_image(path)
    assert out.shape == (30, 45) and 0.0 <= out.min() and out.max() <= 1.0
    expected = luma(array) if array.ndim == 3 else array / 255.0
    assert np.abs(out - expected).mean() < 2 / 255
    rgb = load_color_image(path)
    reference = array[:, :, ::-1] if array.ndim == 3 else np.repeat(array[:, :, None], 3, 2)
    assert np.abs(rgb.astype(int) - reference).mean() < 3


def test_sixteen_bit_png_is_scaled_by_1_over_65535(tmp_path):
    deep = RNG.integers(0, 65536, size=(20, 25), dtype=np.uint16)
    out = load_image(write(tmp_path / "deep.png", deep))
    np.testing.assert_allclose(out, deep / 65535.0, rtol=1e-5, atol=1e-7)
    assert out.max() > 0.9  # not read as 8 bits
    rgb = load_color_image(tmp_path / "deep.png")
    np.testing.assert_array_equal(rgb[:, :, 0], (deep >> 8).astype(np.uint8))
    deep_colour = RNG.integers(0, 65536, size=(20, 25, 3), dtype=np.uint16)
    out = load_image(write(tmp_path / "deep_colour.png", deep_colour))
    expected = cv2.cvtColor(deep_colour.astype(np.float32), cv2.COLOR_BGR2GRAY) / 65535.0
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_alpha_is_ignored(tmp_path):
    alpha = RNG.integers(0, 256, size=(30, 45, 1), dtype=np.uint8)
    path = write(tmp_path / "alpha.png", np.concatenate([COLOUR, alpha], axis=2))
    np.testing.assert_allclose(load_image(path), luma(COLOUR), atol=1 / 255 + 1e-6)
    np.testing.assert_array_equal(load_color_image(path), COLOUR[:, :, ::-1])


def with_exif_orientation(jpeg: bytes, orientation: int) -> bytes:
    """Insert an APP1 Exif segment holding one Orientation tag right after SOI."""
    tiff = (b"II" + struct.pack("<HI", 42, 8)  # little-endian TIFF header, IFD at offset 8
            + struct.pack("<H", 1)  # one entry
            + struct.pack("<HHIHH", 0x0112, 3, 1, orientation, 0)  # Orientation, SHORT, 1 value
            + struct.pack("<I", 0))  # no next IFD
    payload = b"Exif\x00\x00" + tiff
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def test_exif_orientation_is_applied(tmp_path):
    img = np.zeros((30, 50), np.uint8)
    img[3:9, 32:46] = 255  # a bright bar near the top right
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 98])
    assert ok
    plain = written(tmp_path / "plain.jpg", buf.tobytes())
    # orientation 6: the stored pixels must be turned 90 degrees clockwise for display
    rotated = written(tmp_path / "rotated.jpg", with_exif_orientation(buf.tobytes(), 6))
    assert load_image(plain).shape == (30, 50)
    out = load_image(rotated)
    assert out.shape == (50, 30)
    clockwise = np.rot90(img, k=-1) / 255.0
    assert np.abs(out - clockwise).max() < 0.1
    assert np.abs(out - load_image(plain).T).max() > 0.5  # a rotation, not a transpose
    rgb = load_color_image(rotated)
    assert rgb.shape == (50, 30, 3)
    assert np.abs(rgb[:, :, 0] / 255.0 - clockwise).max() < 0.1


def test_non_ascii_path(tmp_path):
    folder = tmp_path / "café"
    folder.mkdir()
    path = write(folder / "bild ü.png", COLOUR)
    np.testing.assert_allclose(load_image(path), luma(COLOUR), atol=1 / 255 + 1e-6)
    np.testing.assert_array_equal(load_color_image(str(path)), COLOUR[:, :, ::-1])


def truncated(tmp_path, suffix):
    ok, buf = cv2.imencode(suffix, COLOUR)
    assert ok
    return written(tmp_path / f"cut{suffix}", buf.tobytes()[: len(buf) * 2 // 3])


BAD_FILES = {
    "missing": (lambda d: d / "nowhere.png", "no such file"),
    "folder": (lambda d: d, "is a folder"),
    "empty": (lambda d: written(d / "empty.png", b""), "the file is empty"),
    "text named png": (lambda d: written(d / "notes.png", b"hello, not a picture\n"),
                       "not an image"),
    "truncated jpeg": (lambda d: truncated(d, ".jpg"), "JPEG file is truncated or corrupt"),
    "truncated png": (lambda d: truncated(d, ".png"), "PNG file is truncated or corrupt"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
@pytest.mark.parametrize("loader", LOADERS)
def test_bad_files_raise_image_load_error(tmp_path, loader, kind):
    make, words = BAD_FILES[kind]
    path = make(tmp_path)
    with pytest.raises(ImageLoadError, match=words) as info:
        loader(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp"])
@pytest.mark.parametrize("loader", LOADERS)
def test_more_pixels_than_the_limit(tmp_path, loader, suffix):
    path = write(tmp_path / f"big{suffix}", COLOUR)  # 45 x 30 = 1,350 pixels
    with pytest.raises(ImageLoadError, match=r"45x30 \(1,350 pixels\).*limit of 1,000 pixels"):
        loader(path, max_pixels=1000)
    assert loader(path, max_pixels=1350).shape[:2] == (30, 45)


@pytest.mark.parametrize("max_pixels", [0, -5, 2.5, True])
def test_bad_max_pixels(tmp_path, max_pixels):
    path = write(tmp_path / "ok.png", GREY)
    for loader in LOADERS:
        with pytest.raises(ValueError, match="max_pixels must be an integer >= 1"):
            loader(path, max_pixels=max_pixels)
