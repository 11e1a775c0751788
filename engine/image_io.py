"""Reading image files robustly: every failure is one ImageLoadError that says why.

No file can hang the loader, eat the machine's memory or pass bad values on:

- Only regular files are opened (symlinks are followed); a FIFO, device, socket or
  folder is refused before it is opened, so nothing blocks.
- The format is recognised from the first bytes, and the image size is read from the
  file's header *before* anything is decoded, for every format the loader accepts:
  PNG (and APNG), JPEG, TIFF (and BigTIFF), WebP, BMP, GIF, PNM (PBM/PGM/PPM/PAM),
  PFM, Sun raster and Radiance HDR. Other formats OpenCV could decode (AVIF/HEIF,
  JPEG 2000) are refused with a message, as is anything else. Images over
  ``max_pixels``, TIFF strips or tiles over it, and files too small to hold the
  pixels their header promises are refused without decoding.
- The file is read only after those checks and only up to a size derived from
  ``max_pixels`` (:func:`max_file_bytes`); a bigger file is refused unread.
- OpenCV's own limit (``OPENCV_IO_MAX_IMAGE_PIXELS``) is set to the default pixel
  limit by :mod:`engine._opencv_limits` before cv2 is loaded, as a second defence.
- Float images (TIFF, PFM, HDR) load with any channel count; NaN or infinite pixels
  are refused with their count.
- What the codec libraries (libpng, libjpeg, libtiff) and OpenCV print to stderr while
  decoding is captured, and numpy warnings are silenced: a failure is a single
  :class:`ImageLoadError` line naming the file and the reason, nothing else.
- Memory: the file's bytes are freed right after decoding and the float32 result is
  filled in strips, so :func:`load_image` peaks at about 7 bytes per pixel for an 8-bit
  colour photo and 5 for grey (before: 19-22). ``cv2.imdecode`` itself holds the image
  twice (it copies its result into a numpy array) next to the file's bytes, so an
  incompressible colour PNG or BMP still peaks at about 9 bytes per pixel while decoding.
- Decoding is serialised by a lock while stderr is redirected.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import stat
import struct
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ._opencv_limits import MAX_PIXELS as DEFAULT_MAX_PIXELS

__all__ = ["DEFAULT_MAX_PIXELS", "ImageLoadError", "load_color_image", "load_image",
           "max_file_bytes"]

_HEAD_BYTES = 64 * 1024  # headers must fit in the first 64 KiB (JPEG segments are skipped)
_FILE_BYTES_PER_PIXEL = 16  # float32 RGBA, the largest plain layout OpenCV reads
_FILE_BYTES_EXTRA = 16 * 1024 * 1024  # metadata: EXIF, ICC profiles, previews
_BLOCK_PIXELS = 1 << 18  # conversion to float works on strips of about this many pixels
_DECODE_FLAGS = cv2.IMREAD_ANYDEPTH | cv2.IMREAD_ANYCOLOR  # keeps depth, applies EXIF


class ImageLoadError(ValueError):
    """An image file could not be read; the message names the file and the reason.

    ``details`` holds what the codec libraries printed while decoding (often empty).
    """

    details: str = ""


def max_file_bytes(max_pixels: int) -> int:
    """Largest file the loader reads for a pixel limit: 16 bytes a pixel plus 16 MiB."""
    return _FILE_BYTES_PER_PIXEL * max_pixels + _FILE_BYTES_EXTRA


# --------------------------------------------------------------------------- opening

_FILE_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_max_pixels(max_pixels: int) -> None:
    if isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1:
        raise ValueError(f"max_pixels must be an integer >= 1; got {max_pixels!r}.")


def _os_reason(p: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOENT:
        try:
            if stat.S_ISLNK(os.lstat(p).st_mode):
                return "a symbolic link whose target does not exist"
        except OSError:
            pass
        return "no such file; check the path"
    if exc.errno == errno.ELOOP:
        return "a loop of symbolic links; the link never reaches a file"
    if exc.errno == errno.ENAMETOOLONG:
        longest = max((len(os.fsencode(part)) for part in p.parts), default=0)
        if longest > 255:
            return f"a name in the path is {longest} bytes long, over the 255-byte limit"
        return "the path is longer than the system allows"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied; the file cannot be read with your rights"
    if exc.errno == errno.ENOTDIR:
        return "no such file; a part of the path is not a folder"
    return f"cannot be read ({exc.strerror or exc})"


def _not_regular(p: Path, st: os.stat_result, error: type[ValueError] = ImageLoadError,
                 what: str = "an image") -> ValueError | None:
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISDIR(st.st_mode):
        return error(f"{p}: is a folder, not {what} file; choose a file inside it.")
    kind = next((name for test, name in _FILE_KINDS if test(st.st_mode)), "an unknown kind")
    return error(f"{p}: not a regular file ({kind}); choose {what} file.")


def open_regular(p: Path, error: type[ValueError] = ImageLoadError,
                 what: str = "an image") -> tuple[int, int]:
    """Open ``p`` for reading if it is a regular file; return (descriptor, size).

    Nothing but a regular file (or a symlink to one) is opened, and a FIFO swapped in
    between the check and the opening cannot block. Every failure raises `error` naming
    the file and the reason; `what` names the kind of file expected ("an image").
    """
    try:
        st = os.stat(p)  # follows symlinks; opens nothing, so a FIFO cannot block here
    except OSError as exc:
        raise error(f"{p}: {_os_reason(p, exc)}.") from exc
    except ValueError as exc:  # a NUL byte in the name
        raise error(f"{p}: not a valid file name ({exc}).") from exc
    bad = _not_regular(p, st, error, what)
    if bad is not None:
        raise bad
    flags = os.O_RDONLY
    for name in ("O_BINARY", "O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC"):
        flags |= getattr(os, name, 0)  # O_NONBLOCK: a FIFO swapped in meanwhile cannot block
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise error(f"{p}: {_os_reason(p, exc)}.") from exc
    st = os.fstat(fd)
    bad = _not_regular(p, st, error, what)
    if bad is not None:
        os.close(fd)
        raise bad
    return fd, st.st_size


# --------------------------------------------------------------------------- headers


@dataclass
class _Header:
    kind: str
    width: int
    height: int
    min_bytes: int = 0  # a smaller file cannot hold the pixels: truncated
    buffer_pixels: int = 0  # a decoder buffer the header asks for (TIFF strip or tile)


class _Corrupt(Exception):
    """The header cannot be parsed."""


class _Reader:
    """Reads a file at offsets, never more than asked for."""

    def __init__(self, fd: int, size: int) -> None:
        self.file = os.fdopen(fd, "rb", buffering=0)
        self.size = size
        self.head = self.at(0, _HEAD_BYTES)

    def at(self, offset: int, n: int) -> bytes:
        if offset < 0 or offset >= self.size or n <= 0:
            return b""
        if hasattr(self, "head") and offset + n <= len(self.head):
            return self.head[offset:offset + n]
        self.file.seek(offset)
        return self.file.read(min(n, self.size - offset)) or b""

    def exact(self, offset: int, n: int) -> bytes:
        data = self.at(offset, n)
        if len(data) != n:
            raise _Corrupt
        return data

    def whole(self) -> np.ndarray:
        data = np.empty(self.size, np.uint8)
        view = memoryview(data)
        self.file.seek(0)
        got = 0
        while got < self.size:
            n = self.file.readinto(view[got:])
            if not n:
                break
            got += n
        view.release()
        return data[:got]


def _png(r: _Reader) -> _Header:
    h = r.exact(8, 25)
    if h[4:8] != b"IHDR":
        raise _Corrupt
    width, height, depth, colour = struct.unpack(">IIBB", h[8:18])
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}.get(colour, 1)
    raw = height * (1 + math.ceil(width * channels * depth / 8))
    return _Header("PNG", width, height, min_bytes=raw // 1100)  # deflate: at most 1032:1


_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg(r: _Reader) -> _Header:
    pos = 2
    for _ in range(100_000):  # segments before the frame header
        b = r.exact(pos, 2)
        if b[0] != 0xFF:
            raise _Corrupt
        if b[1] == 0xFF:  # fill byte
            pos += 1
            continue
        marker = b[1]
        if marker in (0x01, *range(0xD0, 0xD8)):  # no length
            pos += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image or start of scan before a frame header
            raise _Corrupt
        length = struct.unpack(">H", r.exact(pos + 2, 2))[0]
        if length < 2:
            raise _Corrupt
        if marker in _JPEG_SOF:
            seg = r.exact(pos + 4, 6)
            height, width, ncomp = struct.unpack(">HHB", seg[1:6])
            comps = r.exact(pos + 10, 3 * ncomp)
            hmax = max((c >> 4 for c in comps[1::3]), default=1) or 1
            vmax = max((c & 15 for c in comps[2::3]), default=1) or 1
            min_bytes = 0
            if marker in (0xC0, 0xC1):  # sequential Huffman: >= 2 bits per block
                mcus = math.ceil(width / (8 * hmax)) * math.ceil(height / (8 * vmax))
                min_bytes = mcus * ncomp // 4
            if height == 0:
                raise _Corrupt  # height given later (DNL): libjpeg does not support it
            return _Header("JPEG", width, height, min_bytes=min_bytes)
        pos += 2 + length
    raise _Corrupt


def _bmp(r: _Reader) -> _Header:
    h = r.exact(0, 30)
    offset, dib = struct.unpack("<II", h[10:18])
    if dib == 12:  # OS/2 core header
        width, height, _, bpp = struct.unpack("<HHHH", h[18:26])
        compression = 0
    else:
        if dib < 16:
            raise _Corrupt
        h = r.exact(0, 34)
        width, height, _, bpp, compression = struct.unpack("<iiHHI", h[18:34])
    width, height = abs(width), abs(height)
    min_bytes = 0
    if compression in (0, 3) and bpp:  # uncompressed rows, 4-byte aligned
        stride = (width * bpp + 31) // 32 * 4
        min_bytes = offset + stride * max(height - 1, 0) + math.ceil(width * bpp / 8)
    return _Header("BMP", width, height, min_bytes=min_bytes)


def _gif(r: _Reader) -> _Header:
    width, height, flags = struct.unpack("<HHB", r.exact(6, 5))
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while True:  # to the first image descriptor: its size is what is decoded
        block = r.exact(pos, 1)[0]
        if block == 0x21:  # extension: label, then sub-blocks
            pos += 2
            while (n := r.exact(pos, 1)[0]) != 0:
                pos += n + 1
            pos += 1
        elif block == 0x2C:
            left, top, fw, fh = struct.unpack("<HHHH", r.exact(pos + 1, 8))
            # LZW with 12-bit codes covers at most 4095 pixels per code
            return _Header("GIF", max(width, left + fw), max(height, top + fh),
                           min_bytes=pos + 10 + fw * fh // 4096)
        else:
            raise _Corrupt


_TIFF_TYPES = {3: ("H", 2), 4: ("I", 4), 16: ("Q", 8)}
_TIFF_RATIO = {1: 1, 5: 4096, 8: 1100, 32946: 1100, 32773: 64}  # compression: max ratio


def _tiff(r: _Reader) -> _Header:
    h = r.exact(0, 16)
    end = "<" if h[:2] == b"II" else ">"
    big = struct.unpack(end + "H", h[2:4])[0] == 43
    if big:
        ifd = struct.unpack(end + "Q", h[8:16])[0]
        count = struct.unpack(end + "Q", r.exact(ifd, 8))[0]
        entry, first = 20, ifd + 8
    else:
        ifd = struct.unpack(end + "I", h[4:8])[0]
        count = struct.unpack(end + "H", r.exact(ifd, 2))[0]
        entry, first = 12, ifd + 2
    if count > 10_000:
        raise _Corrupt
    table = r.exact(first, count * entry)
    tags: dict[int, int] = {}
    for i in range(count):
        e = table[i * entry:(i + 1) * entry]
        tag, typ = struct.unpack(end + "HH", e[:4])
        if typ in _TIFF_TYPES:
            code, size = _TIFF_TYPES[typ]
            n = struct.unpack(end + ("Q" if big else "I"), e[4:12] if big else e[4:8])[0]
            value = e[12:] if big else e[8:]
            if n * size > len(value):  # the values are elsewhere; the field is their offset
                where = struct.unpack(end + ("Q" if big else "I"), value)[0]
                value = r.exact(where, size)
            tags[tag] = struct.unpack(end + code, value[:size])[0]  # the first value
    if 256 not in tags or 257 not in tags:
        raise _Corrupt
    width, height = tags[256], tags[257]
    spp, bits = tags.get(277, 1), tags.get(258, 1)
    if 322 in tags or 323 in tags:  # tiles
        tw, th = tags.get(322, 0) or width, tags.get(323, 0) or height
    else:  # strips: libtiff reads at most the image's rows of one
        tw, th = width, min(tags.get(278, 0) or height, height)
    ratio = _TIFF_RATIO.get(tags.get(259, 1))
    min_bytes = width * height * spp * bits // 8 // ratio if ratio else 0
    return _Header("TIFF", width, height, min_bytes=min_bytes, buffer_pixels=tw * th)


def _webp(r: _Reader) -> _Header:
    h = r.exact(12, 18)
    chunk = h[:4]
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(h[12:15], "little")
        height = 1 + int.from_bytes(h[15:18], "little")
    elif chunk == b"VP8L":
        if h[8] != 0x2F:
            raise _Corrupt
        bits = int.from_bytes(h[9:13], "little")
        width, height = 1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)
    elif chunk == b"VP8 ":
        if h[11:14] != b"\x9d\x01\x2a":
            raise _Corrupt
        width, height = (v & 0x3FFF for v in struct.unpack("<HH", h[14:18]))
    else:
        raise _Corrupt
    return _Header("WebP", width, height)


def _tokens(head: bytes, start: int, count: int) -> tuple[list[int], int]:
    """``count`` whitespace-separated integers after ``start``, skipping # comments."""
    out, pos = [], start
    while len(out) < count:
        while pos < len(head) and head[pos:pos + 1].isspace():
            pos += 1
        if head[pos:pos + 1] == b"#":
            pos = head.find(b"\n", pos)
            if pos < 0:
                raise _Corrupt
            continue
        begin = pos
        while pos < len(head) and head[pos:pos + 1].isdigit():
            pos += 1
        if pos == begin or pos >= len(head):
            raise _Corrupt
        out.append(int(head[begin:pos]))
    return out, pos + 1  # one whitespace byte ends the header


def _pnm(r: _Reader) -> _Header:
    kind = r.head[1:2]
    bitmap = kind in (b"1", b"4")
    values, end = _tokens(r.head, 2, 2 if bitmap else 3)
    width, height = values[0], values[1]
    channels = 3 if kind in (b"3", b"6") else 1
    sample = 1 if bitmap or values[2] < 256 else 2
    if kind == b"4":
        data = math.ceil(width / 8) * height
    elif kind in (b"5", b"6"):
        data = width * height * channels * sample
    else:  # ASCII: at least one byte a sample
        data = width * height * channels - 1
    return _Header("PNM", width, height, min_bytes=end + data)


def _pam(r: _Reader) -> _Header:
    end = r.head.find(b"ENDHDR")
    if end < 0:
        raise _Corrupt
    fields: dict[bytes, int] = {}
    for line in r.head[3:end].splitlines():
        words = line.split()
        if len(words) == 2 and words[0] in (b"WIDTH", b"HEIGHT", b"DEPTH", b"MAXVAL"):
            if not words[1].isdigit():
                raise _Corrupt
            fields[words[0]] = int(words[1])
    width, height = fields.get(b"WIDTH", 0), fields.get(b"HEIGHT", 0)
    sample = 1 if fields.get(b"MAXVAL", 255) < 256 else 2
    data = width * height * fields.get(b"DEPTH", 1) * sample
    return _Header("PAM", width, height, min_bytes=end + 7 + data)


def _pfm(r: _Reader) -> _Header:
    values, end = _tokens(r.head, 2, 2)
    line_end = r.head.find(b"\n", end)  # the scale line
    if line_end < 0:
        raise _Corrupt
    channels = 3 if r.head[1:2] == b"F" else 1
    return _Header("PFM", values[0], values[1],
                   min_bytes=line_end + 1 + values[0] * values[1] * channels * 4)


def _sun(r: _Reader) -> _Header:
    _, width, height, depth, _, kind, _, maplength = struct.unpack(">8I", r.exact(0, 32))
    min_bytes = 0
    if kind in (0, 1):  # not run-length encoded: rows padded to 16 bits
        min_bytes = 32 + maplength + (width * depth + 15) // 16 * 2 * height
    return _Header("Sun raster", width, height, min_bytes=min_bytes)


def _hdr(r: _Reader) -> _Header:
    blank = r.head.find(b"\n\n")
    if blank < 0:
        raise _Corrupt
    line = r.head[blank + 2:].split(b"\n", 1)[0].split()
    if len(line) != 4 or not (line[1].isdigit() and line[3].isdigit()):
        raise _Corrupt
    sizes = {line[0][-1:]: int(line[1]), line[2][-1:]: int(line[3])}
    if set(sizes) != {b"X", b"Y"}:
        raise _Corrupt
    return _Header("Radiance HDR", sizes[b"X"], sizes[b"Y"])


def _is_pnm(h: bytes) -> bool:
    return len(h) > 2 and h[:1] == b"P" and h[1:2] in b"123456" and h[2:3].isspace()


# The same signatures OpenCV's decoders check, so the header read is the one decoded.
_FORMATS: tuple[tuple[Callable[[bytes], bool], str, Callable[[_Reader], _Header] | None], ...] = (
    (lambda h: h[4:8] == b"ftyp", "AVIF/HEIF", None),
    (lambda h: h.startswith(b"BM"), "BMP", _bmp),
    (lambda h: h.startswith((b"#?RGBE", b"#?RADIANCE")), "Radiance HDR", _hdr),
    (lambda h: h.startswith(b"\xff\xd8\xff"), "JPEG", _jpeg),
    (lambda h: h.startswith(b"RIFF") and h[8:12] == b"WEBP", "WebP", _webp),
    (lambda h: h.startswith(b"\x59\xa6\x6a\x95"), "Sun raster", _sun),
    (_is_pnm, "PNM", _pnm),
    (lambda h: h.startswith(b"P7") and h[2:3].isspace(), "PAM", _pam),
    (lambda h: h[:2] in (b"PF", b"Pf") and h[2:3].isspace(), "PFM", _pfm),
    (lambda h: h.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")), "TIFF", _tiff),
    (lambda h: h.startswith(b"\x89PNG\r\n\x1a\n"), "PNG", _png),
    (lambda h: h.startswith((b"GIF87a", b"GIF89a")), "GIF", _gif),
    (lambda h: h.startswith((b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")),
     "JPEG 2000", None),
)
_READ = "PNG, JPEG, TIFF, WebP, BMP, GIF, PNM, PFM, Sun raster or Radiance HDR"


def _sniff(head: bytes) -> tuple[str, Callable[[_Reader], _Header] | None] | None:
    for matches, kind, parse in _FORMATS:
        if matches(head):
            return kind, parse
    return None


def image_format(head: bytes) -> str | None:
    """Return the still-image format whose signature starts `head` ("PNG", "JPEG", ...),
    or None when the bytes start no format the loader reads.

    >>> image_format(b"\\x89PNG\\r\\n\\x1a\\n...."), image_format(b"RIFF....AVI ")
    ('PNG', None)
    """
    found = _sniff(head)
    return None if found is None else found[0]


def _header(p: Path, r: _Reader, max_pixels: int) -> _Header:
    found = _sniff(r.head)
    if found is None:
        raise ImageLoadError(f"{p}: not an image (the contents are not {_READ}).")
    kind, parse = found
    if parse is None:
        raise ImageLoadError(
            f"{p}: the contents are {kind}, which this program does not read; save the "
            f"image as PNG or TIFF."
        )
    try:
        head = parse(r)
    except (_Corrupt, struct.error, ValueError, IndexError) as exc:
        raise ImageLoadError(f"{p}: the {kind} file is truncated or corrupt (bad header).") \
            from exc
    w, h = head.width, head.height
    if w < 1 or h < 1:
        raise ImageLoadError(f"{p}: the {kind} header says {w}x{h}: the image has no pixels.")
    if w * h > max_pixels:
        raise ImageLoadError(
            f"{p}: the image is {w}x{h} ({w * h:,} pixels), more than the limit of "
            f"{max_pixels:,} pixels; scale it down first."
        )
    if head.buffer_pixels > max_pixels:
        raise ImageLoadError(
            f"{p}: a {kind} strip or tile of {head.buffer_pixels:,} pixels is more than the "
            f"limit of {max_pixels:,} pixels; save it with smaller strips."
        )
    if r.size < head.min_bytes:
        raise ImageLoadError(
            f"{p}: the {kind} file is truncated or corrupt ({r.size:,} bytes cannot hold "
            f"{w}x{h} pixels)."
        )
    return head


def _read(p: Path, max_pixels: int) -> tuple[_Header, np.ndarray]:
    fd, size = open_regular(p)
    r = _Reader(fd, size)
    try:
        if size == 0:
            raise ImageLoadError(f"{p}: the file is empty (0 bytes).")
        limit = max_file_bytes(max_pixels)
        if size > limit:
            raise ImageLoadError(
                f"{p}: the file is {size:,} bytes, more than the {limit:,} bytes an image "
                f"within the limit of {max_pixels:,} pixels needs; not read."
            )
        head = _header(p, r, max_pixels)
        try:
            data = r.whole()
        except OSError as exc:
            raise ImageLoadError(f"{p}: cannot be read ({exc.strerror or exc}).") from exc
        return head, data
    finally:
        r.file.close()


# --------------------------------------------------------------------------- decoding

_STDERR_LOCK = threading.Lock()


@contextlib.contextmanager
def _captured_stderr() -> Iterator[list[str]]:
    """Send file descriptor 2 (where C libraries print) to a temporary file meanwhile.

    Yields a list that holds the captured text afterwards. Anything another thread
    prints to stderr during the decode is captured too.
    """
    out: list[str] = []
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, AttributeError, ValueError):  # no stderr at all: nothing to hide
            yield out
            return
        try:
            with tempfile.TemporaryFile() as tmp:
                os.dup2(tmp.fileno(), 2)
                try:
                    yield out
                finally:
                    os.dup2(saved, 2)
                    tmp.seek(0)
                    out.append(tmp.read(1 << 16).decode("utf-8", "replace"))
        finally:
            os.close(saved)


def _opencv_limit() -> str:
    return os.environ.get("OPENCV_IO_MAX_IMAGE_PIXELS", str(2**30))


def _decode(p: Path, head: _Header, data: np.ndarray, max_pixels: int) -> np.ndarray:
    error: ImageLoadError | None = None
    with _captured_stderr() as printed:
        try:
            img = cv2.imdecode(data, _DECODE_FLAGS)
        except cv2.error as exc:
            img, text = None, str(exc)
            if "MAX_IMAGE_PIXELS" in text:
                error = ImageLoadError(
                    f"{p}: the image is more than OpenCV's limit of {_opencv_limit()} "
                    f"pixels (set OPENCV_IO_MAX_IMAGE_PIXELS before starting to raise it)."
                )
            else:
                lines = text.strip().splitlines() or ["unknown error"]
                error = ImageLoadError(f"{p}: cannot be decoded ({lines[-1]}).")
    if img is None:
        error = error or ImageLoadError(f"{p}: the {head.kind} file is truncated or corrupt.")
        error.details = "".join(printed).strip()
        raise error
    rows, cols = img.shape[:2]
    if rows * cols > max_pixels:
        raise ImageLoadError(
            f"{p}: the image is {cols}x{rows} ({rows * cols:,} pixels), more than the limit "
            f"of {max_pixels:,} pixels; scale it down first."
        )
    if img.size == 0:
        raise ImageLoadError(f"{p}: the image has no pixels.")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    return img


def _load(path: str | os.PathLike, max_pixels: int) -> tuple[Path, np.ndarray]:
    """Checked, decoded image (uint8, uint16 or float; 1 or 3 channels, BGR)."""
    _check_max_pixels(max_pixels)
    p = Path(path)
    head, data = _read(p, max_pixels)
    img = _decode(p, head, data, max_pixels)
    return p, img  # the file's bytes are freed here


def _refuse_non_finite(p: Path, img: np.ndarray) -> None:
    if img.dtype.kind != "f":
        return
    bad = img.size - int(np.count_nonzero(np.isfinite(img)))
    if bad:
        raise ImageLoadError(
            f"{p}: {bad:,} of {img.size:,} values are not finite numbers (NaN or infinite); "
            f"the image cannot be used."
        )


def _finite_float(p: Path, img: np.ndarray) -> np.ndarray:
    """A float (or signed) image as float32, scaled into [0, 1] if it leaves that range."""
    _refuse_non_finite(p, img)
    with np.errstate(all="ignore"):
        lo, hi = float(np.min(img)), float(np.max(img))
        big = max(abs(lo), abs(hi)) > float(np.finfo(np.float32).max) / 2
        work = img.astype(np.float64 if big else np.float32)
        if lo < 0.0 or hi > 1.0:
            if hi > lo:
                if big:
                    work = (work / 2 - lo / 2) / (hi / 2 - lo / 2)
                else:
                    work = (work - lo) / (hi - lo)
            else:
                work = np.zeros_like(work)
        return np.ascontiguousarray(work, dtype=np.float32)


def to_gray_float(p: Path, img: np.ndarray) -> np.ndarray:
    """Return decoded pixels `img` (grey or BGR; uint8, uint16 or float) as grey float32 in
    [0, 1], the way photos are loaded, converted in strips so only one strip is extra.

    Raises
    ------
    ImageLoadError
        If float pixels hold NaN or infinities (`p` names the source in the message).
    """
    if img.dtype == np.uint8:
        scale = np.float32(1.0 / 255.0)
    elif img.dtype == np.uint16:
        scale = np.float32(1.0 / 65535.0)
    else:
        img, scale = _finite_float(p, img), np.float32(1.0)
    rows, cols = img.shape[:2]
    out = np.empty((rows, cols), np.float32)
    step = max(1, _BLOCK_PIXELS // cols)
    for top in range(0, rows, step):
        block, dst = img[top:top + step], out[top:top + step]
        if img.ndim == 3:
            cv2.cvtColor(block.astype(np.float32, copy=False), cv2.COLOR_BGR2GRAY, dst=dst)
        else:
            dst[...] = block
        if scale != 1.0:
            dst *= scale
    return out


def load_image(path: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as a 2-D float32 array in [0, 1].

    Colour becomes luma grey (the weights of ``cv2.COLOR_BGR2GRAY``), 16-bit data is
    scaled by 1/65535, alpha is ignored and EXIF orientation is applied. Float images
    (TIFF, PFM, HDR) of any channel count are kept as they are when within [0, 1] and
    scaled from their minimum and maximum into [0, 1] otherwise.

    Parameters
    ----------
    path : str or path-like
        A regular file (or a symlink to one): PNG, JPEG, TIFF, WebP, BMP, GIF, PNM
        (PBM/PGM/PPM/PAM), PFM, Sun raster or Radiance HDR; non-ASCII paths work.
    max_pixels : int
        Refuse larger images, read from the file's header before decoding. Files over
        ``max_file_bytes(max_pixels)`` (16 bytes a pixel plus 16 MiB) are not read.
        Images over ``OPENCV_IO_MAX_IMAGE_PIXELS`` (by default the default of this
        parameter; see :mod:`engine._opencv_limits`) are refused by OpenCV too.

    Returns
    -------
    (H, W) float32 array in [0, 1]
        C-contiguous, all values finite.

    Raises
    ------
    ImageLoadError
        (a ValueError) one line naming the file and the reason: missing, a dangling
        symlink or a symlink loop, no permission, a name over 255 bytes, a folder or
        other non-regular file (FIFO, device, socket), empty, not an image, a format
        that is not read (AVIF/HEIF, JPEG 2000), truncated or corrupt, more pixels than
        `max_pixels` (or a TIFF strip or tile that large), a file larger than
        ``max_file_bytes(max_pixels)``, or NaN or infinite values (with their count).
    ValueError
        If `max_pixels` is not an integer >= 1.
    """
    p, img = _load(path, max_pixels)
    return to_gray_float(p, img)


def load_color_image(path: str | os.PathLike, *,
                     max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file for display as RGB uint8 ``(H, W, 3)``, EXIF orientation applied.

    Grey images are repeated into the three channels, 16-bit data keeps its high byte,
    float data is clipped to [0, 1] and scaled by 255, and alpha is ignored.

    Parameters
    ----------
    path : str or path-like
        As for :func:`load_image`.
    max_pixels : int
        As for :func:`load_image`.

    Returns
    -------
    (H, W, 3) uint8 array, RGB

    Raises
    ------
    ImageLoadError
        For the same reasons as :func:`load_image`.
    ValueError
        If `max_pixels` is not an integer >= 1.
    """
    p, img = _load(path, max_pixels)
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        _refuse_non_finite(p, img)
        with np.errstate(all="ignore"):
            img = np.clip(img.astype(np.float32) * 255.0, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2RGB)
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB, dst=img)
