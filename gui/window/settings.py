"""Remembered settings (QSettings, INI format): pipeline spec, display options, window state.

Tests point QSettings at a temporary folder with ``QSettings.setPath``; the
application never writes settings anywhere else than through :class:`AppSettings`.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QByteArray, QSettings

from engine import PipelineSpec

ORGANIZATION = "ShiftLab"
APPLICATION = "ShiftLab"


def open_settings() -> QSettings:
    """Return the application's QSettings (INI format, user scope)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION,
                     APPLICATION)


class AppSettings:
    """Typed access to the remembered values."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings or open_settings()

    def spec(self, default: PipelineSpec) -> PipelineSpec:
        """The remembered pipeline spec, or `default` if none (or it no longer validates)."""
        text = self.qsettings.value("pipeline/spec", "")
        if not text:
            return default
        try:
            return PipelineSpec(**json.loads(str(text)))
        except (ValueError, TypeError):
            return default

    def set_spec(self, spec: PipelineSpec) -> None:
        """Remember `spec`."""
        self.qsettings.setValue("pipeline/spec", json.dumps(spec.to_dict()))

    def int_value(self, key: str, default: int) -> int:
        """An integer setting, or `default` when missing or not a number."""
        try:
            return int(self.qsettings.value(key, default))
        except (TypeError, ValueError):
            return default

    def bool_value(self, key: str, default: bool) -> bool:
        """A boolean setting (INI stores "true"/"false")."""
        value = self.qsettings.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def set_value(self, key: str, value: object) -> None:
        """Store a plain value."""
        self.qsettings.setValue(key, value)

    def geometry(self, key: str) -> QByteArray | None:
        """Saved window geometry/state bytes, or None."""
        value = self.qsettings.value(key)
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def sync(self) -> None:
        """Write pending changes to disk."""
        self.qsettings.sync()
