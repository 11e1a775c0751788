"""load_image / load_color_image against hostile files: headers that lie, huge files,
files that are not files, non-finite floats, chatty codec libraries and memory use.

Memory is measured in a child process (the peak resident size, ``VmHWM`` = ``ru_maxrss``,
before and after one load, on Linux) under an address-space cap (``RLIMIT_AS``), so a
loader that tries to allocate gigabytes fails the test instead of taking the machine.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine import ImageLoadError, load_color_image, load_image

REPO = Path(__file__).resolve().parents[2]
LOADERS = [load_image, load_color_image]
LINUX = sys.platform.startswith("linux")
linux_only = pytest.mark.skipif(not LINUX, reason="ru_maxrss in KiB and RLIMIT_AS: Linux")
RNG = np.random.default_rng(7)

# ------------------------------------------------------------------ crafted files


def gif(screen=(30000, 30000), frame=(1, 1)) -> bytes:
    """A GIF with one 1-pixel LZW stream: 35 bytes whatever sizes the header claims."""
    return (b"GIF89a" + struct.pack("<HHBBB", *screen, 0, 0, 0)
            + b"," + struct.pack("<HHHHB", 0, 0, *frame, 0) + b"\x02\x02\x44\x01\x00;")


def jpeg(width, height) -> bytes:
    """A real 16x16 JPEG whose frame header (SOF0) claims another size."""
    ok, buf = cv2.imencode(".jpg", np.full((16, 16), 128, np.uint8))
    assert ok
    data = bytearray(buf.tobytes())
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def bmp(width, height, compression, bpp=8, data=b"\x00\x01") -> bytes:
    palette = b"\x00" * (4 << bpp) if bpp <= 8 else b""
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, bpp, compression, len(data),
                       2835, 2835, 0, 0)
    offset = 14 + 40 + len(palette)
    return (b"BM" + struct.pack("<IHHI", offset + len(data), 0, 0, offset) + info + palette
            + data)


def tiff(width, height, extra=(), data=b"\x00" * 16) -> bytes:
    """A little-endian one-strip 8-bit grey TIFF; ``extra`` adds or replaces (tag, LONG)."""
    tags = {256: width, 257: height, 258: 8, 259: 1, 262: 1, 273: 0, 277: 1, 278: height,
            279: len(data)}
    tags.update(dict(extra))
    ifd_size = 2 + 12 * len(tags) + 4
    tags[273] = 8 + ifd_size  # pixel data right after the IFD
    ifd = struct.pack("<H", len(tags))
    for tag in sorted(tags):
        ifd += struct.pack("<HHII", tag, 4, 1, tags[tag])
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + data


def webp_vp8x(width, height) -> bytes:
    chunk = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00" \
        + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def png(width, height) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\x00" * 4
            + struct.pack(">I", 0) + b"IDAT" + b"\x00" * 4)


def sun(width, height) -> bytes:
    return struct.pack(">8I", 0x59A66A95, width, height, 8, 0, 1, 0, 0) + b"\x00" * 16


HUGE = r"30000x30000 \(900,000,000 pixels\), more than the limit of 64,000,000 pixels"
TRUNCATED = r"truncated or corrupt \(\d+ bytes cannot hold 7999x7999 pixels\)"

# name: (contents, what the message must say)
LYING_HEADERS = {
    "gif screen": (gif(), HUGE),
    "gif frame": (gif(screen=(1, 1), frame=(7999, 7999)), TRUNCATED),
    "jpeg SOF": (jpeg(30000, 30000), HUGE),
    "jpeg SOF under the limit": (jpeg(7999, 7999), TRUNCATED),
    "bmp RLE8": (bmp(30000, 30000, compression=1), HUGE),
    "bmp top-down RLE8": (bmp(30000, -30000, compression=1), HUGE),
    "bmp uncompressed": (bmp(7999, 7999, compression=0, bpp=24, data=b"\x00" * 16), TRUNCATED),
    "pgm": (b"P5\n30000 30000\n255\n" + b"\x00" * 16, HUGE),
    "pgm with comment": (b"P5\n# made by hand\n30000 30000\n255\n" + b"\x00" * 16, HUGE),
    "pgm under the limit": (b"P5 7999 7999 255\n" + b"\x00" * 16, TRUNCATED),
    "ascii pgm": (b"P2\n30000 30000\n255\n0 0 0\n", HUGE),
    "ppm 16-bit": (b"P6\n30000 30000\n65535\n" + b"\x00" * 16, HUGE),
    "pbm": (b"P4\n30000 30000\n" + b"\x00" * 16, HUGE),
    "pam": (b"P7\nWIDTH 30000\nHEIGHT 30000\nDEPTH 1\nMAXVAL 255\nTUPLTYPE GRAYSCALE\n"
            b"ENDHDR\n" + b"\x00" * 16, HUGE),
    "pfm": (b"Pf\n30000 30000\n-1.0\n" + b"\x00" * 16, HUGE),
    "pfm colour under the limit": (b"PF\n7999 7999\n-1.0\n" + b"\x00" * 16, TRUNCATED),
    "tiff": (tiff(30000, 30000), HUGE),
    "tiff under the limit": (tiff(7999, 7999), TRUNCATED),
    "tiff giant tiles": (tiff(16, 16, extra=((322, 16000), (323, 16000), (324, 8), (325, 16))),
                         r"strip or tile of 256,000,000 pixels is more than the limit"),
    "webp": (webp_vp8x(16383, 16383), r"16383x16383 \(268,402,689 pixels\), more than"),
    "png": (png(30000, 30000), HUGE),
    "png under the limit": (png(7999, 7999), TRUNCATED),
    "sun raster": (sun(30000, 30000), HUGE),
    "radiance hdr": (b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 30000 +X 30000\n"
                     + b"\x00" * 16, HUGE),
}

# ------------------------------------------------------------------ the child process

PROBE = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import engine
from engine import ImageLoadError

def status_kib(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field + ":"))

def peak_rss_kib():
    # ru_maxrss, but of this program only: Linux carries ru_maxrss over from the parent
    # across fork and exec, VmHWM (the same high-water mark) starts afresh at exec
    try:
        return status_kib("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024

loader = getattr(engine, sys.argv[2])
cap = int(sys.argv[3])
if cap:
    resource.setrlimit(resource.RLIMIT_AS,
                       (status_kib("VmSize") * 1024 + cap, resource.RLIM_INFINITY))
results = []
for path in sys.argv[4:]:
    before = peak_rss_kib()
    start = time.perf_counter()
    try:
        out = loader(path)
        outcome = "loaded %s" % (out.shape,)
    except ImageLoadError as exc:
        outcome = "ImageLoadError: %s" % exc
    except BaseException as exc:
        outcome = "%s: %s" % (type(exc).__name__, exc)
    peak = peak_rss_kib() - before
    results.append({"outcome": outcome, "peak_mb": peak / 1024,
                    "seconds": time.perf_counter() - start})
print(json.dumps(results))
"""

GiB = 1 << 30


def probe(paths, loader="load_image", cap=GiB, timeout=120):
    """Load each file in a child process: outcome, peak RSS growth in MB and seconds."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(REPO), loader, str(cap), *map(str, paths)],
        capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def lying_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lying")
    paths = {}
    for i, (name, (contents, _)) in enumerate(LYING_HEADERS.items()):
        paths[name] = folder / f"file{i}"
        paths[name].write_bytes(contents)
    return paths


@pytest.fixture(scope="module", params=["load_image", "load_color_image"])
def lying_results(request, lying_files):
    """Every lying file loaded in one child process per loader (under a 1 GiB cap)."""
    results = probe(list(lying_files.values()), loader=request.param)
    return {name: (lying_files[name], result)
            for name, result in zip(lying_files, results, strict=True)}


@linux_only
@pytest.mark.parametrize("name", list(LYING_HEADERS))
def test_a_header_that_lies_is_refused_before_decoding(lying_results, name):
    path, result = lying_results[name]
    assert result["outcome"].startswith(f"ImageLoadError: {path}: "), result
    assert re.search(LYING_HEADERS[name][1], result["outcome"]), result
    assert result["peak_mb"] < 200, result
    assert result["seconds"] < 2, result


@linux_only
def test_a_huge_file_is_refused_unread(tmp_path):
    """5 GiB (sparse) behind a valid little PNG header: refused by size, nothing read."""
    path = tmp_path / "huge.png"
    with open(path, "wb") as f:
        f.write(png(100, 100))
        f.truncate(5 * GiB)
    [result] = probe([path])
    assert "ImageLoadError" in result["outcome"], result
    assert "the file is 5,368,709,120 bytes, more than the 1,040,777,216 bytes" \
        in result["outcome"]
    assert result["peak_mb"] < 200 and result["seconds"] < 2, result


def test_file_size_limit_follows_max_pixels(tmp_path):
    path = tmp_path / "padded.png"
    ok, buf = cv2.imencode(".png", np.zeros((10, 10), np.uint8))
    assert ok
    path.write_bytes(buf.tobytes() + b"\x00" * (20 * 1024 * 1024))  # 20 MiB after IEND
    with pytest.raises(ImageLoadError, match=r"more than the 16,778,816 bytes .* 100 pixels"):
        load_image(path, max_pixels=100)
    assert load_image(path, max_pixels=1_000_000).shape == (10, 10)


# ------------------------------------------------------------------ not regular files


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from engine import load_image\n"
            "try:\n    load_image(sys.argv[2])\nexcept ValueError as e:\n    print(e)\n")
    try:
        proc = subprocess.run([sys.executable, "-c", code, str(REPO), str(fifo)],
                              capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("load_image blocked on a FIFO")
    assert proc.stdout.strip() == f"{fifo}: not a regular file (a FIFO); choose an image file."
    assert proc.stderr == ""


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
@pytest.mark.parametrize("loader", LOADERS)
def test_a_device_is_refused(loader):
    with pytest.raises(ImageLoadError, match=r"^/dev/zero: not a regular file \(a character "
                                             r"device\)"):
        loader("/dev/zero")


@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets")
def test_a_socket_is_refused():
    with tempfile.TemporaryDirectory() as folder:  # short: socket paths are limited
        path = os.path.join(folder, "s.png")
        server = socket.socket(socket.AF_UNIX)
        try:
            server.bind(path)
            with pytest.raises(ImageLoadError, match=r"not a regular file \(a socket\)"):
                load_image(path)
        finally:
            server.close()


def good_png(path):
    ok, buf = cv2.imencode(".png", np.full((6, 7), 200, np.uint8))
    assert ok
    path.write_bytes(buf.tobytes())
    return path


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_symlinks(tmp_path):
    target = good_png(tmp_path / "real.png")
    (tmp_path / "link.png").symlink_to(target)
    assert load_image(tmp_path / "link.png").shape == (6, 7)  # followed
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    with pytest.raises(ImageLoadError, match="a loop of symbolic links") as info:
        load_image(tmp_path / "a.png")
    assert str(tmp_path / "a.png") in str(info.value)
    (tmp_path / "dangling.png").symlink_to(tmp_path / "gone.png")
    with pytest.raises(ImageLoadError, match="a symbolic link whose target does not exist"):
        load_image(tmp_path / "dangling.png")


@pytest.mark.parametrize("loader", LOADERS)
def test_a_name_over_255_bytes(tmp_path, loader):
    path = tmp_path / ("ü" * 130 + ".png")  # 264 bytes in UTF-8
    with pytest.raises(ImageLoadError, match="is 264 bytes long, over the 255-byte limit") \
            as info:
        loader(path)
    assert str(path) in str(info.value)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads any file")
def test_no_permission(tmp_path):
    path = good_png(tmp_path / "secret.png")
    path.chmod(0)
    try:
        with pytest.raises(ImageLoadError, match="permission denied") as info:
            load_image(path)
        assert str(path) in str(info.value)
    finally:
        path.chmod(0o600)


def test_no_permission_names_the_file(tmp_path, monkeypatch):
    """The same refusal where the tests run as root: opening the file fails with EACCES."""
    path = good_png(tmp_path / "secret.png")
    real_open = os.open

    def refuse(name, *args, **kwargs):
        if os.fspath(name) == os.fspath(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(name))
        return real_open(name, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(ImageLoadError, match=r"secret\.png: permission denied"):
        load_image(path)


# ------------------------------------------------------------------ float images


def write_tiff(path, array):
    ok, buf = cv2.imencode(".tiff", array)
    assert ok
    path.write_bytes(buf.tobytes())
    return path


def test_one_channel_float_tiff_loads(tmp_path):
    values = RNG.random((20, 30), dtype=np.float32)
    path = write_tiff(tmp_path / "float.tiff", values)
    np.testing.assert_array_equal(load_image(path), values)
    rgb = load_color_image(path)
    assert rgb.shape == (20, 30, 3) and rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb[:, :, 1], (values * 255).astype(np.uint8))
    wide = write_tiff(tmp_path / "wide.tiff", values * 1000 - 300)  # scaled into [0, 1]
    out = load_image(wide)
    assert out.min() == 0.0 and out.max() == 1.0
    np.testing.assert_allclose(out, (values - values.min()) / np.ptp(values), atol=1e-5)


def test_float64_with_huge_values_loads_finite(tmp_path):
    values = RNG.random((8, 9)) * 1e300
    path = write_tiff(tmp_path / "huge.tiff", values)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = load_image(path)
    assert np.isfinite(out).all() and out.min() == 0.0 and out.max() == 1.0


@pytest.mark.parametrize("loader", LOADERS)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_floats_are_refused(tmp_path, loader, channels, bad):
    values = RNG.random((10, 12, channels), dtype=np.float32).squeeze()
    values[(2, 3, 0)[:values.ndim]] = bad  # one value of a pixel
    values[(7, 1, 2)[:values.ndim]] = bad
    path = write_tiff(tmp_path / "bad.tiff", values)
    with pytest.raises(ImageLoadError, match=rf"{values.size:,} values are not finite") as info:
        loader(path)
    assert str(info.value).startswith(f"{path}: 2 of {values.size} values")


def test_non_finite_pfm_is_refused(tmp_path):
    values = np.ones((4, 5, 3), np.float32)
    values[1, 1] = np.nan  # all three channels of one pixel
    path = tmp_path / "nan.pfm"
    path.write_bytes(b"PF\n5 4\n-1.0\n" + values[::-1].tobytes())
    with pytest.raises(ImageLoadError, match=r"nan\.pfm: 3 of 60 values are not finite"):
        load_image(path)


# ------------------------------------------------------------------ one clear line


def corrupt_files(folder: Path) -> dict[str, Path]:
    files = {}
    for suffix in (".png", ".jpg", ".tiff", ".webp"):
        ok, buf = cv2.imencode(suffix, RNG.integers(0, 256, (60, 80, 3), dtype=np.uint8))
        assert ok
        data = bytearray(buf.tobytes())
        cut = folder / f"cut{suffix}"
        cut.write_bytes(bytes(data[: len(data) * 2 // 3]))
        files[f"truncated {suffix}"] = cut
        middle = len(data) // 2
        data[middle:middle + 40] = b"\xa5" * 40
        garbled = folder / f"garbled{suffix}"
        garbled.write_bytes(bytes(data))
        files[f"garbled {suffix}"] = garbled
    return files


@pytest.mark.parametrize("loader", LOADERS)
def test_failures_are_one_line_and_print_nothing(tmp_path, capfd, loader):
    capfd.readouterr()
    for name, path in corrupt_files(tmp_path).items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            try:
                loader(path)
            except ImageLoadError as exc:
                message = str(exc)
                assert message.startswith(f"{path}: ") and "\n" not in message, name
        out, err = capfd.readouterr()
        assert (out, err) == ("", ""), name


def test_nothing_printed_in_a_fresh_process(tmp_path):
    paths = list(corrupt_files(tmp_path).values())
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", PROBE, str(REPO), "load_image", "0",
         *map(str, paths)],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    for result in json.loads(proc.stdout):
        assert result["outcome"].startswith(("ImageLoadError: ", "loaded")), result


# ------------------------------------------------------------------ memory and values


@linux_only
@pytest.mark.parametrize("loader, limit", [("load_image", 8), ("load_color_image", 7)])
def test_peak_memory_per_pixel_for_8_bit_images(tmp_path, loader, limit):
    """cv2.imdecode alone peaks at 6 bytes a pixel for colour (it copies its result into
    a numpy array); the float32 grey result is allocated once that copy is made."""
    rows, cols = 3000, 4000
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    bgr = np.stack([xx * 0.06, yy * 0.08, 255 - xx * 0.06], axis=2).astype(np.uint8)
    path = tmp_path / "photo.jpg"
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    path.write_bytes(buf.tobytes())
    [result] = probe([path], loader=loader, cap=4 * GiB)
    assert result["outcome"].startswith("loaded"), result
    bytes_per_pixel = result["peak_mb"] * 2**20 / (rows * cols)
    assert bytes_per_pixel < limit, f"{bytes_per_pixel:.1f} bytes per pixel"


def test_values_match_whole_image_conversion(tmp_path):
    """Converting in strips gives exactly the values of converting at once."""
    colour = RNG.integers(0, 256, size=(701, 1003, 3), dtype=np.uint8)
    deep = RNG.integers(0, 65536, size=(397, 1201, 3), dtype=np.uint16)
    for name, image, scale in (("c.png", colour, 1 / 255), ("d.png", deep, 1 / 65535)):
        ok, buf = cv2.imencode(".png", image)
        assert ok
        (tmp_path / name).write_bytes(buf.tobytes())
        expected = cv2.cvtColor(image.astype(np.float32), cv2.COLOR_BGR2GRAY) * np.float32(scale)
        out = load_image(tmp_path / name)
        assert out.flags.c_contiguous
        np.testing.assert_array_equal(out, expected)


# ------------------------------------------------------------------ OpenCV's own limit

LIMIT_PROBE = r"""
import os, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (8 << 30, resource.RLIM_INFINITY))
sys.path.insert(0, sys.argv[1])
first = sys.argv[2]
if first == "cv2":
    import cv2
import engine
import cv2
import numpy as np
from engine import _opencv_limits
data = np.frombuffer(bytes.fromhex(sys.argv[3]), np.uint8)
try:
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    decoded = "decoded"
except cv2.error as exc:
    decoded = "refused" if "MAX_IMAGE_PIXELS" in str(exc) else "error"
try:
    engine.load_image(sys.argv[4])
    loaded = "loaded"
except engine.ImageLoadError as exc:
    loaded = str(exc)
print(os.environ["OPENCV_IO_MAX_IMAGE_PIXELS"], _opencv_limits.APPLIED, decoded, loaded)
"""


@linux_only
@pytest.mark.parametrize("first", ["engine", "cv2"])
def test_opencv_limit_is_set_before_cv2_loads(tmp_path, first):
    """Importing the engine first sets OpenCV's own limit; the header checks do not need it."""
    screen = gif(screen=(8001, 8000), frame=(8001, 8000))  # 64,008,000 pixels, 35 bytes
    path = tmp_path / "big.gif"
    path.write_bytes(gif())
    env = {k: v for k, v in os.environ.items() if k != "OPENCV_IO_MAX_IMAGE_PIXELS"}
    proc = subprocess.run(
        [sys.executable, "-c", LIMIT_PROBE, str(REPO), first, screen.hex(), str(path)],
        capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    limit, applied, decoded, loaded = proc.stdout.strip().split(" ", 3)
    assert limit == "64000000"
    assert (applied, decoded) == (("True", "refused") if first == "engine" else ("False",
                                                                                  decoded))
    assert "more than the limit of 64,000,000 pixels" in loaded


def test_opencv_limit_from_the_environment_is_kept(tmp_path):
    code = ("import os, sys; sys.path.insert(0, sys.argv[1]); import engine; "
            "print(os.environ['OPENCV_IO_MAX_IMAGE_PIXELS'])")
    env = dict(os.environ, OPENCV_IO_MAX_IMAGE_PIXELS="123456789")
    proc = subprocess.run([sys.executable, "-c", code, str(REPO)], capture_output=True,
                          text=True, timeout=60, env=env)
    assert proc.stdout.strip() == "123456789", proc.stderr


# ------------------------------------------------------------------ formats not read


@pytest.mark.parametrize("contents, kind", [
    (b"\x00\x00\x00\x20ftypavif" + b"\x00" * 24, "AVIF/HEIF"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + b"\x00" * 24, "JPEG 2000"),
    (b"\xff\x4f\xff\x51" + b"\x00" * 40, "JPEG 2000"),
])
def test_formats_not_read_are_named(tmp_path, contents, kind):
    path = tmp_path / "image.bin"
    path.write_bytes(contents)
    with pytest.raises(ImageLoadError, match=f"the contents are {kind}, which this program"):
        load_image(path)


@pytest.mark.parametrize("suffix", [".gif", ".ppm", ".pgm", ".pbm", ".pam", ".pfm", ".ras",
                                    ".hdr"])
def test_other_formats_load(tmp_path, suffix):
    colour = RNG.integers(0, 256, size=(13, 17, 3), dtype=np.uint8)
    array = {".pgm": colour[:, :, 0], ".pbm": (colour[:, :, 0] > 127).astype(np.uint8) * 255,
             ".pfm": colour / np.float32(255), ".hdr": colour / np.float32(255)}.get(suffix,
                                                                                    colour)
    ok, buf = cv2.imencode(suffix, array)
    assert ok
    path = tmp_path / f"image{suffix}"
    path.write_bytes(buf.tobytes())
    out = load_image(path)
    assert out.shape == (13, 17) and out.dtype == np.float32
    assert 0.0 <= out.min() and out.max() <= 1.0
    assert load_color_image(path).shape == (13, 17, 3)
