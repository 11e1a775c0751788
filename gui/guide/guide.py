"""Help > Guide: the article's argument in short live steps, in a side panel.

:class:`Guide` shows the steps of :data:`engine.guide_steps.STEPS` in a dock on the left:
a step list, what to look at, what to do, and Back / Next. Entering a step sets its
scenario up through the window's public API (:meth:`MainWindow.open_state`, the Shift
sweep dock); after each drawn result the step's predicate looks at the state and its run
(both computed on the worker; the predicate only reads them) and, once the learner has
done what the step asks, the panel says so with the numbers the run holds. For a step
that chooses a network, the run is the pipeline's with the network's answer of the same
canvas (the two come from separate jobs).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.guide_steps import STEPS, GuideStep
from gui.docks.sweep import DIRECTIONS, REFERENCES
from gui.network.requests import NetworkRequest
from gui.panels.views import PipelineRequest
from gui.window.settings import GUIDE_SHOWN_KEY
from gui.worker import JobDone

#: The guide's width: wide enough to read, narrow enough to leave the panels their room.
GUIDE_WIDTH = 280
DONE_MARK = "✓ "
ACK_STYLE = "background:#e6f4ea; color:#137333; padding:6px; border-left:3px solid #34a853;"
#: An acknowledgement whose state has been changed since: kept, greyed.
PAST_STYLE = "background:#f1f3f4; color:#5f6368; padding:6px; border-left:3px solid #9aa0a6;"
PAST_NOTE = " The window has changed since; Set up again to repeat it."
TASK_STYLE = "background:#e8f0fe; color:#174ea6; padding:6px; border-left:3px solid #4285f4;"
LEFT = Qt.DockWidgetArea.LeftDockWidgetArea


class GuidePanel(QWidget):
    """The guide's widgets: step list, title, text, task, acknowledgement, Back / Next."""

    def __init__(self, steps: tuple[GuideStep, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.steps_list = QListWidget()
        for i, step in enumerate(steps, start=1):
            self.steps_list.addItem(f"{i}. {step.title}")
        self.steps_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.steps_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.steps_list.setFixedHeight(
            self.steps_list.sizeHintForRow(0) * len(steps) + 2 * self.steps_list.frameWidth())
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold; font-size: 11pt;")
        self.text = QLabel()
        self.task = QLabel()
        self.ack = QLabel()
        for label in (self.text, self.task, self.ack):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.task.setStyleSheet(TASK_STYLE)
        self.ack.setStyleSheet(ACK_STYLE)
        self.ack.setVisible(False)
        self.back = QPushButton("Back")
        self.next = QPushButton("Next")
        self.again = QPushButton("Set up again")
        self.again.setToolTip("Show this step's scenario again")
        buttons = QHBoxLayout()
        buttons.addWidget(self.back)
        buttons.addWidget(self.again)
        buttons.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.steps_list)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        layout.addWidget(self.task)
        layout.addWidget(self.ack)
        layout.addStretch(1)
        layout.addLayout(buttons)


class Guide(QObject):
    """The guide attached to `window`.

    Attributes
    ----------
    steps : tuple of GuideStep
    index : int
        The step shown (0-based).
    done : set of int
        The steps whose task was acknowledged.

    Signals
    -------
    step_shown(int)
        A step was entered and its scenario set up.
    acknowledged(int, str)
        The learner did what step `index` asks; the text says what happened.
    """

    step_shown = Signal(int)
    acknowledged = Signal(int, str)

    def __init__(self, window, steps: tuple[GuideStep, ...] = STEPS) -> None:
        super().__init__(window)
        self.window = window
        self.steps = steps
        self.index = 0
        self.done: set[int] = set()
        self._since = 0  # results of requests up to this id predate the step's setup
        self._swept = False  # a sweep was started since the step was entered
        self._network_step = False  # the step's state chooses a network
        self._pipeline_run = None  # a network step's newest pipeline run and network job
        self._network_job: JobDone | None = None
        self._since_network = 0
        self.panel = GuidePanel(steps)
        self.panel.setMinimumWidth(GUIDE_WIDTH)
        self.panel.setMaximumWidth(GUIDE_WIDTH + 80)
        self.dock = window.add_dock(self.panel, "Guide", LEFT)
        self.dock.setVisible(False)
        self.panel.back.clicked.connect(lambda: self.show_step(self.index - 1))
        self.panel.next.clicked.connect(lambda: self.show_step(self.index + 1))
        self.panel.again.clicked.connect(lambda: self.show_step(self.index))
        self.panel.steps_list.currentRowChanged.connect(self._on_row)
        window.runner.subscribe(PipelineRequest, done=self._on_pipeline_done, owner=self)
        window.runner.subscribe(NetworkRequest, done=self._on_network_done, owner=self)
        sweep = window.compare.sweep
        sweep.run_button.clicked.connect(self._on_sweep_started)
        sweep.finished.connect(self._on_sweep_finished)

    @property
    def step(self) -> GuideStep:
        """The step shown."""
        return self.steps[self.index]

    def open(self) -> None:
        """Show the guide at its current step, setting the step's scenario up."""
        self.dock.setVisible(True)
        self.dock.raise_()
        self.show_step(self.index)
        QTimer.singleShot(0, self, self._fit)

    def open_once(self) -> None:
        """Open the guide unless it has opened by itself before (remembered in the
        settings); the first start uses this."""
        settings = self.window.settings
        if settings.bool_value(GUIDE_SHOWN_KEY, False):
            return
        settings.set_value(GUIDE_SHOWN_KEY, True)
        settings.sync()
        self.open()

    def _fit(self) -> None:
        self.window.resizeDocks([self.dock], [GUIDE_WIDTH], Qt.Orientation.Horizontal)

    def _on_row(self, row: int) -> None:
        if row >= 0 and row != self.index:
            self.show_step(row)

    def show_step(self, index: int) -> None:
        """Enter step `index` (clamped to the steps): set its scenario up in the window
        (undoable) and say what to look at and what to do."""
        index = max(0, min(index, len(self.steps) - 1))
        self.index = index
        step = self.step
        panel = self.panel
        if panel.steps_list.currentRow() != index:
            panel.steps_list.setCurrentRow(index)
        panel.title.setText(f"{index + 1} of {len(self.steps)}: {step.title}")
        panel.text.setText(step.text)
        panel.task.setText(step.task)
        panel.ack.setVisible(False)
        panel.ack.setText("")
        panel.back.setEnabled(index > 0)
        panel.next.setEnabled(index < len(self.steps) - 1)
        window = self.window
        self._since = window.runner.latest(PipelineRequest)
        self._since_network = window.runner.latest(NetworkRequest)
        self._swept = False
        self._pipeline_run = self._network_job = None
        state = step.setup()
        self._network_step = state.network is not None
        window.open_state(state, f"Guide, step {index + 1}: {step.title}")
        if step.sweep is not None:
            self._set_up_sweep(step)
        self.step_shown.emit(index)

    def _set_up_sweep(self, step: GuideStep) -> None:
        sweep = self.window.compare.sweep
        setup = step.sweep
        sweep.direction.setCurrentText(next(k for k, v in DIRECTIONS.items() if v == setup.axis))
        sweep.max_shift.setValue(setup.max_shift)
        sweep.border.setCurrentIndex(0 if setup.wrap else 1)
        sweep.reference.setCurrentText(next(k for k, v in REFERENCES.items()
                                            if v == setup.align))
        dock = self.window.compare.sweep_dock
        dock.setVisible(True)
        dock.raise_()

    def _acknowledge(self, text: str) -> None:
        if self.panel.ack.text() == text:
            return
        self.panel.ack.setStyleSheet(ACK_STYLE)
        self.done.add(self.index)
        item = self.panel.steps_list.item(self.index)
        if not item.text().startswith(DONE_MARK):
            item.setText(DONE_MARK + item.text())
        self.panel.ack.setText(text)
        self.panel.ack.setVisible(True)
        self.acknowledged.emit(self.index, text)

    def _on_pipeline_done(self, event: JobDone) -> None:
        step = self.step
        if not self.dock.isVisible() or step.check is None or event.request_id <= self._since:
            return
        run = event.result[0].run
        if self._network_step:
            self._pipeline_run = run
            self._check_network()
        else:
            self._judge(step.check(run.state, run))

    def _on_network_done(self, event: JobDone) -> None:
        if not self._network_step or event.request_id <= self._since_network:
            return
        self._network_job = event
        self._check_network()

    def _check_network(self) -> None:
        """Check a network step once the pipeline and the network ran on the same canvas."""
        run, event = self._pipeline_run, self._network_job
        step = self.step
        if run is None or event is None or not self.dock.isVisible() or step.check is None \
                or len(event.request.choices) != 1 \
                or not np.array_equal(run.state.a.pixels, event.request.image):
            return
        state = run.state.replace(network=event.request.choices[0])
        self._judge(step.check(state, dataclasses.replace(
            run, state=state, network=event.result[0].run)))

    def _judge(self, text: str | None) -> None:
        """Acknowledge `text`, or grey a past acknowledgement when the task is undone."""
        if text:
            self._acknowledge(text)
        elif self.panel.ack.isVisible() and not self.panel.ack.text().endswith(PAST_NOTE):
            # done, then changed again: the numbers said are no longer what is drawn
            self.panel.ack.setText(self.panel.ack.text() + PAST_NOTE)
            self.panel.ack.setStyleSheet(PAST_STYLE)

    def _on_sweep_started(self) -> None:
        self._swept = True

    def _on_sweep_finished(self, result) -> None:
        step = self.step
        if not self.dock.isVisible() or step.check_sweep is None or not self._swept:
            return
        text = step.check_sweep(list(result.names), result.shifts, result.distances)
        if text:
            self._acknowledge(text)
