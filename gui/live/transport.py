"""The transport bar under the panels: play/pause, step, the scrubber, loop, speed, record.

:class:`TransportBar` only shows and forwards: its buttons are bound to the live mode's
actions (so Space, `,` and `.` and the buttons are one thing), the scrubber emits
:attr:`TransportBar.scrubbed` while dragged, and :meth:`TransportBar.show_position`
writes the frame number and time.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QWidget,
)

#: Playback speeds offered (factor of the source's frame rate).
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)


def clock_text(seconds: float) -> str:
    """``m:ss.ss`` for a time in seconds.

    >>> clock_text(75.5)
    '1:15.50'
    """
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:05.2f}"


class TransportBar(QWidget):
    """Buttons for the given actions, the scrubber and the position.

    Parameters
    ----------
    actions : dict of QAction
        ``play``, ``back``, ``forward``, ``loop``, ``grab``, ``record``.

    Signals
    -------
    scrubbed(int)
        The scrubber was moved by hand to this frame.
    speed_changed(float)
        A new playback speed was chosen.
    """

    scrubbed = Signal(int)
    speed_changed = Signal(float)

    def __init__(self, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: dict[str, QToolButton] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        self.source_label = QLabel("")
        self.source_label.setStyleSheet("font-weight: 600;")
        layout.addWidget(self.source_label)
        for name in ("back", "play", "forward"):
            layout.addWidget(self._button(actions[name], name))
        self.scrubber = QSlider(Qt.Orientation.Horizontal)
        self.scrubber.setMinimumWidth(160)
        self.scrubber.setToolTip("Drag to any frame")
        layout.addWidget(self.scrubber, 1)
        self.position_label = QLabel("")
        self.position_label.setMinimumWidth(self.position_label.fontMetrics()
                                            .horizontalAdvance("frame 00000 / 00000 · "
                                                              "00:00.00 / 00:00.00"))
        layout.addWidget(self.position_label)
        self.loop = QCheckBox("Loop")
        self.loop.setToolTip(actions["loop"].statusTip())
        self.loop.toggled.connect(actions["loop"].setChecked)
        actions["loop"].toggled.connect(self.loop.setChecked)
        layout.addWidget(self.loop)
        self.speed = QComboBox()
        for factor in SPEEDS:
            self.speed.addItem(f"{factor:g}×", factor)
        self.speed.setCurrentIndex(SPEEDS.index(1.0))
        self.speed.setToolTip("Playback speed (of the video's own frame rate)")
        self.speed.currentIndexChanged.connect(
            lambda i: self.speed_changed.emit(float(self.speed.itemData(i))))
        layout.addWidget(self.speed)
        layout.addWidget(self._button(actions["grab"], "grab"))
        layout.addWidget(self._button(actions["record"], "record"))
        self.scrubber.sliderMoved.connect(self.scrubbed)
        self.scrubber.valueChanged.connect(self._on_value)

    def _button(self, action: QAction, name: str) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays play/pause
        self.buttons[name] = button
        return button

    def _on_value(self, value: int) -> None:
        # a click in the groove (page step) or a key moves the scrubber without sliderMoved
        if not self.scrubber.isSliderDown():
            self.scrubbed.emit(value)

    @property
    def speed_factor(self) -> float:
        """The chosen playback speed."""
        return float(self.speed.currentData())

    def set_source(self, name: str, frame_count: int, seekable: bool) -> None:
        """Show source `name`; the scrubber spans its `frame_count` frames (hidden for a
        camera, which cannot seek)."""
        self.source_label.setText(name)
        with QSignalBlocker(self.scrubber):
            self.scrubber.setRange(0, max(0, frame_count - 1))
            self.scrubber.setPageStep(max(1, frame_count // 20))
        for widget in (self.scrubber, self.loop, self.speed):
            widget.setVisible(seekable)

    def show_position(self, index: int, time_s: float, frame_count: int,
                      duration_s: float | None) -> None:
        """Write ``frame i / n · time / duration`` (frames counted from 1) and move the
        scrubber there without emitting :attr:`scrubbed`."""
        if frame_count > 0:
            text = f"frame {index + 1} / {frame_count}"
        else:
            text = f"frame {index + 1}"
        text += f" · {clock_text(time_s)}"
        if duration_s is not None:
            text += f" / {clock_text(duration_s)}"
        self.position_label.setText(text)
        if not self.scrubber.isSliderDown():
            with QSignalBlocker(self.scrubber):
                self.scrubber.setValue(index)
