"""The What you see dock: the current state described in plain words, always there.

After every pipeline result, :class:`WhatYouSee` submits a :class:`DescribeRequest`, which
runs :func:`engine.describe.describe` on the worker (latest wins); the dock only shows
the paragraphs it returns, warnings marked. An example's explanation is one of them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from typing import ClassVar

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QTextBrowser

from engine import ImageSource, StateRun
from engine.describe import Description, describe
from gui.docks import on_screen
from gui.panels.views import DISPOSER, PipelineRequest, StateView
from gui.worker import JobContext, JobDone, Request

#: The lane of the description job.
DESCRIBE = "describe"
#: The dock's first height when it starts lower (the controls below keep the rest).
PANEL_HEIGHT = 260
WARNING_STYLE = "background:#fff8e1; border-left:3px solid #ffb000; color:#3c3c3c;"


@dataclass(frozen=True, slots=True, eq=False)
class DescribeRequest(Request[Description]):
    """Describe one drawn state: its run, where input A came from, and row A's drift
    note (all already computed; nothing is run again)."""

    lane: ClassVar[str] = DESCRIBE
    state_run: StateRun
    source: ImageSource
    drift: str | None = None
    pipeline_id: int = 0  # the pipeline request whose result this describes

    def run(self, context: JobContext) -> Description:
        """Describe the state.

        Returns
        -------
        engine.describe.Description
        """
        state = self.state_run.state
        a = replace(state.a, source=self.source)  # shares the frozen pixels
        return describe(state.replace(a=a), self.state_run, drift=self.drift)


def description_html(description: Description) -> str:
    """The paragraphs as compact HTML: a bold title each, warnings on an amber band."""
    parts = []
    for p in description.paragraphs:
        body = f"<b>{html.escape(p.title)}.</b> {html.escape(p.text)}"
        style = WARNING_STYLE if p.warning else ""
        parts.append(f"<p style='margin:0 0 6px 0; padding:3px; {style}'>{body}</p>")
    return "".join(parts)


class WhatYouSeePanel(QTextBrowser):
    """Shows a :class:`~engine.describe.Description`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)
        self.setMinimumHeight(60)
        self.description: Description | None = None

    def show_description(self, description: Description) -> None:
        """Show `description` (the scroll position stays while the text is the same)."""
        if description == self.description:
            return
        self.description = description
        bar = self.verticalScrollBar()
        position = bar.value()
        self.setHtml(description_html(description))
        bar.setValue(min(position, bar.maximum()))


class WhatYouSee(QObject):
    """Describes every drawn pipeline result of `window` in :attr:`panel`.

    Signals
    -------
    described(object)
        The panel shows a new :class:`~engine.describe.Description`.
    """

    described = Signal(object)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.panel = WhatYouSeePanel()
        self._dock: QDockWidget | None = None
        self._sized = False
        self.described_id = 0  # the pipeline request the panel describes
        self._asked_id = 0  # the pipeline request last sent to be described
        self._latest: JobDone | None = None  # the newest drawn pipeline result
        window.runner.subscribe(PipelineRequest, done=self._on_pipeline_done, owner=self)
        window.runner.subscribe(DescribeRequest, done=self._on_described, owner=self)

    @property
    def dock(self) -> QDockWidget | None:
        """The dock holding :attr:`panel` (set by the window once the panel is docked)."""
        return self._dock

    @dock.setter
    def dock(self, dock: QDockWidget) -> None:
        self._dock = dock
        dock.visibilityChanged.connect(self._on_visibility)

    def _on_pipeline_done(self, event: JobDone) -> None:
        DISPOSER.release(self._latest)  # a 12 MP result is freed off the GUI thread
        self._latest = event
        if self.dock is None or on_screen(self.panel):
            self._describe()

    def _describe(self) -> None:
        """Describe the newest drawn result, unless the panel already does."""
        event = self._latest
        if event is None or event.request_id in (self.described_id, self._asked_id):
            return
        self._asked_id = event.request_id
        view: StateView = event.result[0]
        self.window.runner.submit(DescribeRequest(view.run, self.window.model.source,
                                                  view.a.drift_note, event.request_id))

    def _on_visibility(self, visible: bool) -> None:
        if visible:  # a dock shown or brought to the front catches up
            QTimer.singleShot(0, self, self._describe)

    def _on_described(self, event: JobDone[Description]) -> None:
        self.described_id = event.request.pipeline_id
        self.panel.show_description(event.result)
        if not self._sized and self.dock is not None and self.window.isVisible():
            self._sized = True  # a first height that shows a few paragraphs
            QTimer.singleShot(0, self, self._fit)
        self.described.emit(event.result)

    def _fit(self) -> None:
        if self.dock.isVisible() and self.panel.height() < PANEL_HEIGHT:
            self.window.resizeDocks([self.dock], [PANEL_HEIGHT], Qt.Orientation.Vertical)

    def up_to_date(self) -> bool:
        """True when the panel describes the result row A shows."""
        return self.described_id == self.window.row.request_id > 0

    @property
    def description(self) -> Description | None:
        """What the panel shows now."""
        return self.panel.description
