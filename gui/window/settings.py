"""Remembered settings (QSettings, INI format): pipeline spec, display options, window state.

Tests point QSettings at a temporary folder with ``QSettings.setPath``; the
application never writes settings anywhere else than through :class:`AppSettings`.

The file may have been edited by hand or written by another version, so every value is
checked as it is read: a number beyond its control's range is clamped to it, a value of
the wrong kind is dropped for the default. Either way one line on stderr names the key,
and :attr:`AppSettings.notices` keeps the lines for the window to mention.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection

from PySide6.QtCore import QByteArray, QSettings

from engine import PipelineSpec
from engine.limits import MAX_BLUR_SIZE, MAX_LEVELS, MAX_POOL_SIZE, MAX_STRIDE
from engine.state import spec_from_dict

ORGANIZATION = "ShiftLab"
APPLICATION = "ShiftLab"
SPEC_KEY = "pipeline/spec"
#: True once the guide has opened by itself at a first start (it then never does again).
GUIDE_SHOWN_KEY = "guide/shown"
#: The integer fields of a remembered spec and their ranges (as the Controls dock offers).
SPEC_RANGES: dict[str, tuple[int, int]] = {
    "stride": (1, MAX_STRIDE),
    "pool_size": (1, MAX_POOL_SIZE),
    "pool_stride": (1, MAX_POOL_SIZE),
    "blur_size": (1, MAX_BLUR_SIZE),
    "levels": (0, MAX_LEVELS),
}
#: Longest JSON text read from the settings; a remembered spec is far shorter.
MAX_JSON_CHARS = 100_000
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def open_settings() -> QSettings:
    """Return the application's QSettings (INI format, user scope)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION,
                     APPLICATION)


def _shown(value: object) -> str:
    """`value` for a one-line notice: its repr, shortened."""
    text = " ".join(repr(value).split())
    return text if len(text) <= 60 else f"{text[:57]}..."


def _as_int(value: object) -> int | None:
    """An integer given as int or as decimal text (INI files hold text), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and 0 < len(value.strip()) <= 40:
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def _is_name(value: object) -> bool:
    """True for text that can name a file or an option: not empty, no NUL character."""
    return isinstance(value, str) and bool(value) and "\0" not in value


class AppSettings:
    """Typed, checked access to the remembered values.

    Attributes
    ----------
    qsettings : QSettings
    notices : list of str
        One line per value that was clamped or dropped while reading, naming its key.
    """

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings or open_settings()
        self.notices: list[str] = []

    def notice(self, key: str, text: str) -> None:
        """Report that the value of `key` was not used as stored: one line on stderr and
        in :attr:`notices`."""
        line = f"setting {key}: {text}"
        self.notices.append(line)
        print(f"shiftlab: {line}", file=sys.stderr)

    def clamp(self, key: str, value: object, default: int, minimum: int,
              maximum: int) -> int:
        """`value` (an int, or decimal text) clamped to ``minimum..maximum``; `default`
        when it is not a whole number. A notice names `key` when the value was changed."""
        number = _as_int(value)
        if number is None:
            self.notice(key, f"{_shown(value)} is not a whole number; using {default}")
            return default
        clamped = min(max(number, minimum), maximum)
        if clamped != number:
            self.notice(key, f"{_shown(number)} is outside {minimum}..{maximum}; "
                             f"using {clamped}")
        return clamped

    def spec(self, default: PipelineSpec) -> PipelineSpec:
        """The remembered pipeline spec, its numbers clamped to the controls' ranges.

        Missing fields come from `default`; when the kernel is what the engine refuses,
        `default`'s kernel replaces it, and a spec that still does not validate gives
        `default` itself.
        """
        data = self.json_object(SPEC_KEY)
        if data is None:
            return default
        values = {**default.to_dict(), **data}
        for name, (low, high) in SPEC_RANGES.items():
            value, fallback = values[name], getattr(default, name)
            if value is None and name == "pool_stride":
                continue  # None: the stride is the window
            if fallback is None and _as_int(value) is None:
                self.notice(f"{SPEC_KEY} {name}", f"{_shown(value)} is not a whole number; "
                                                  "using none")
                values[name] = None
                continue
            values[name] = self.clamp(f"{SPEC_KEY} {name}", value, fallback, low, high)
        if not isinstance(values["convolve"], bool):
            self.notice(f"{SPEC_KEY} convolve", f"{_shown(values['convolve'])} is not true "
                                                f"or false; using {default.convolve}")
            values["convolve"] = default.convolve
        try:
            return spec_from_dict(values)
        except ValueError as exc:
            refused = exc
        values["kernel"] = default.to_dict()["kernel"]
        try:
            spec = spec_from_dict(values)
        except ValueError:
            self.notice(SPEC_KEY, f"{refused} Using the default pipeline")
            return default
        self.notice(SPEC_KEY, f"{refused} Using the default kernel")
        return spec

    def set_spec(self, spec: PipelineSpec) -> None:
        """Remember `spec`."""
        self.qsettings.setValue(SPEC_KEY, json.dumps(spec.to_dict()))

    def int_value(self, key: str, default: int, minimum: int, maximum: int) -> int:
        """An integer setting clamped to ``minimum..maximum``; `default` when missing or
        not a whole number."""
        if not self.qsettings.contains(key):
            return default
        return self.clamp(key, self.qsettings.value(key), default, minimum, maximum)

    def bool_value(self, key: str, default: bool) -> bool:
        """A boolean setting (INI stores "true"/"false"); `default` when missing or not a
        yes/no value."""
        if not self.qsettings.contains(key):
            return default
        value = self.qsettings.value(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
            return value.strip().lower() in _TRUE
        self.notice(key, f"{_shown(value)} is not true or false; using {default}")
        return default

    def text_value(self, key: str, default: str,
                   choices: Collection[str] | None = None) -> str:
        """A text setting (one of `choices` when given); `default` when missing or not
        such a text."""
        if not self.qsettings.contains(key):
            return default
        value = self.qsettings.value(key)
        if not isinstance(value, str):
            self.notice(key, f"{_shown(value)} is not text; using {default!r}")
            return default
        if choices is not None and value not in choices:
            self.notice(key, f"{_shown(value)} is not one of {', '.join(choices)}; "
                             f"using {default!r}")
            return default
        return value

    def text_list(self, key: str) -> list[str]:
        """A list of texts (a single text counts as a list of one). Entries that are not
        non-empty text are dropped, and the list is stored again without them."""
        value = self.qsettings.value(key)
        if value is None:  # missing, or an empty list (which INI files keep as no value)
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            self.notice(key, f"{_shown(value)} is not a list of texts; forgotten")
            self.qsettings.setValue(key, [])
            return []
        texts = [v for v in value if _is_name(v)]
        if len(texts) != len(value):
            dropped = [v for v in value if not _is_name(v)]
            self.notice(key, f"{len(dropped)} entries that are not names forgotten "
                             f"({_shown(dropped)})")
            self.qsettings.setValue(key, texts)
        return texts

    def json_object(self, key: str) -> dict | None:
        """A JSON object stored as text, or None when missing or not such an object."""
        if not self.qsettings.contains(key):
            return None
        text = self.qsettings.value(key)
        if not isinstance(text, str) or not text:
            if text not in ("", None):
                self.notice(key, f"{_shown(text)} is not JSON text; ignored")
            return None
        if len(text) > MAX_JSON_CHARS:
            self.notice(key, f"{len(text)} characters of JSON is too long; ignored")
            return None
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            self.notice(key, f"not readable JSON ({type(exc).__name__}); ignored")
            return None
        if not isinstance(data, dict):
            self.notice(key, f"{_shown(data)} is not a JSON object; ignored")
            return None
        return data

    def set_value(self, key: str, value: object) -> None:
        """Store a plain value."""
        self.qsettings.setValue(key, value)

    def geometry(self, key: str) -> QByteArray | None:
        """Saved window geometry/state bytes, or None."""
        if not self.qsettings.contains(key):
            return None
        value = self.qsettings.value(key)
        if not isinstance(value, QByteArray):
            self.notice(key, f"{_shown(value)} is not saved window bytes; ignored")
            return None
        return value if not value.isEmpty() else None

    def sync(self) -> None:
        """Write pending changes to disk."""
        self.qsettings.sync()
