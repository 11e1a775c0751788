"""Network mode: the canvas through a trained network, its layers and its answer, live.

:class:`NetworkMode` adds to the main window

- Pipeline > Network and the Network box of the Controls dock: the single-kernel pipeline
  alone, one bundled digit network, the three digit networks side by side, or a user's
  ONNX model (Open model…, a dropped ``.onnx`` file, recent models);
- under the pipeline row, one :class:`NetworkRow` per network: the input as the network
  gets it and the chosen layers (:class:`~gui.network.layers_view.LayersView`), the
  probability bar chart and the shift map; while comparing, each row's header adds B's
  answer and the per-layer distances;
- a Channels dock: the channels of the layer last clicked, any of them shown large;
- File > Examples > Held-out digits.

The request cycle: every canvas edit schedules one :class:`NetworkRequest` (a frozen
snapshot; while one runs, later edits coalesce into the next), so the answer follows a
drag at the network's pace. Each answer then schedules a :class:`ShiftMapRequest` on its
own lane (latest wins; during a mouse drag at most one per DRAG_MAP_INTERVAL_MS, and for
a large model only once the drag ends), so the map may lag the drag but never holds the
answer back. A digit network turns the canvas into 28x28 and the brush into a pen; the
window's state holds the chosen network (:attr:`NetworkMode.choice`), so undo, sessions
and export carry it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from engine import ImageSource
from engine.networks import NetworkChoice, held_out_digits, panel_layers, short_name
from engine.networks.view import class_label
from gui.docks.controls import KERNEL_ONLY, MODEL, VARIANTS, NetworkControls
from gui.network.answer import ProbabilityChart, ShiftMapView
from gui.network.layers_view import ChannelGrid, LayersView
from gui.network.requests import (
    DrawnRun,
    NetworkRequest,
    OpenedModel,
    OpenModelRequest,
    ShiftMapRequest,
)
from gui.network.sweep import NetworkSweepPanel, NetworkSweepRequest
from gui.window.examples_menu import fill_digit_examples
from gui.worker import JobDone, JobFailed, JobSettled, error_message
from resources import NETWORK_NAMES

MODEL_FILTER = "ONNX models (*.onnx);;All files (*)"
LABELS_FILTER = "Text files (*.txt);;All files (*)"
RECENT_KEY = "network/recent_models"
MAX_RECENT = 8
DIGIT_SHAPE = (28, 28)
#: The pipeline row's tallest while networks are shown under it.
PIPELINE_ROW_HEIGHT = 300
QWIDGETSIZE_MAX = (1 << 24) - 1
#: Inputs larger than this many values mark a large model: its shift map waits for the
#: drag to pause (SHIFT_MAP_DELAY_MS) instead of competing with every answer for the cores.
LARGE_INPUT = 3 * 64 * 64
SHIFT_MAP_DELAY_MS = 300
#: During a drag, a small network's shift map is remade at most this often.
DRAG_MAP_INTERVAL_MS = 250


def is_model_path(path: str | Path) -> bool:
    """True for a file the window opens as a network (an ``.onnx`` file)."""
    return str(path).lower().endswith(".onnx")


class NetworkRow(QWidget):
    """One network: a header, its layers, its probability chart and its shift map."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QLabel("")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layers = LayersView()
        self.chart = ProbabilityChart()
        self.shift_map = ShiftMapView()
        body = QHBoxLayout()
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.layers, 5)
        body.addWidget(self.chart, 2)
        body.addWidget(self.shift_map, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(1)
        layout.addWidget(self.header)
        layout.addLayout(body, 1)
        self.drawn: DrawnRun | None = None

    def show_run(self, drawn: DrawnRun) -> bool:
        """Draw a run (see :meth:`LayersView.show_run` for the return value)."""
        self.drawn = drawn
        run = drawn.run
        a = run.a
        text = f"<b>{a.network}</b> · input {a.prepared.note}"
        if a.top1 is not None:
            text += f" · A: <b>{a.top1_label}</b> ({a.top1_probability:.1%})"
        comparison = run.comparison
        if comparison is not None and run.b is not None:
            b = run.b
            if b.top1 is not None:
                same = "same answer" if comparison.same_answer else "<b>answer changes</b>"
                text += f" · B: <b>{b.top1_label}</b> ({b.top1_probability:.1%}), {same}"
            parts = []
            for stage in comparison.stages:
                d = stage.distance
                shift = stage.displacement
                parts.append(f"{short_name(stage.name)}: distance "
                             f"{'n/a' if d != d else f'{d:.3f}'}, peak moved {shift}")
            text += "<br>" + "; ".join(parts)
        if text != self.header.text():
            self.header.setText(text)
        self.chart.show_view(a)
        return self.layers.show_run(drawn)


class NetworkMode(QObject):
    """Everything network mode adds to `window` (see the module notes).

    Attributes
    ----------
    choice : NetworkChoice or None
        The network the canvas runs through, or the three digit networks side by side
        (``choice.side_by_side``): what the window's state holds. None: the single-kernel
        pipeline alone.
    rows : list of NetworkRow
    controls : NetworkControls
    """

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.choice: NetworkChoice | None = None
        self.model_choice: NetworkChoice | None = None  # the user's model last opened
        self.rows: list[NetworkRow] = []
        self._in_flight = 0
        self._dirty = False
        self._scheduled = False
        self._drawn_id = 0
        self._map_id = 0
        self._grid_layer: str | None = None
        self._large = False  # the last answer came from a large model
        self._map_running = 0  # the shift-map request not settled yet
        self._digits: tuple[np.ndarray, np.ndarray] | None = None
        self._shift_timer = QTimer(self)
        self._shift_timer.setSingleShot(True)
        self._shift_timer.timeout.connect(self._request_shift_map)

        self.controls = NetworkControls(NETWORK_NAMES)
        dock_layout = window.canvas_controls.parentWidget().layout()
        dock_layout.insertWidget(0, self.controls)
        self.panel = QWidget()
        self.rows_layout = QVBoxLayout(self.panel)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #c5221f;")
        self.error.setWordWrap(True)
        self.error.hide()
        self.rows_layout.addWidget(self.error)
        window.rows_layout.addWidget(self.panel)
        self.panel.hide()
        self.grid = ChannelGrid()
        self.channels_dock = window.add_dock(self.grid, "Channels")
        self.channels_dock.hide()
        self.sweep = NetworkSweepPanel()
        self.sweep_dock = window.add_dock(self.sweep, "Network sweep",
                                          Qt.DockWidgetArea.BottomDockWidgetArea)
        self.sweep_dock.hide()
        self._build_menu()
        self._connect()
        self._show_controls()

    # -- construction ---------------------------------------------------------------------------
    def _build_menu(self) -> None:
        w = self.window
        menu = w.menus["pipeline"]
        menu.addSeparator()
        self.menu = menu.addMenu("&Network")
        self.group = QActionGroup(self)
        self.choice_actions: dict[str, QAction] = {}
        entries = [(KERNEL_ONLY, "&Single kernel (no network)")]
        entries += [(n, n) for n in NETWORK_NAMES]
        entries += [(VARIANTS, "&Three digit networks side by side"), (MODEL, "Model")]
        for key, text in entries:
            action = QAction(text, self.menu)
            action.setCheckable(True)
            action.triggered.connect(lambda _c=False, k=key: self.choose(k))
            self.group.addAction(action)
            self.menu.addAction(action)
            self.choice_actions[key] = action
        self.choice_actions[MODEL].setVisible(False)
        self.menu.addSeparator()
        w.actions_by_name["open-model"] = self.open_action = QAction("&Open model…", self.menu)
        self.open_action.setShortcut("Ctrl+Shift+N")
        self.open_action.triggered.connect(self.choose_model_file)
        self.menu.addAction(self.open_action)
        w.addAction(self.open_action)
        self.recent_menu = self.menu.addMenu("&Recent models")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        self.labels_action = self.menu.addAction("&Labels file…", self.choose_labels)
        self.sweep_action = self.menu.addAction("Shift s&weep of the network", self.run_sweep)
        self.sweep_action.setStatusTip("Slide the input and plot each layer's distance and the "
                                       "class's probability against the shift")
        digits = w.compare.examples_menu.addMenu("&Held-out digits")
        self.digit_actions = fill_digit_examples(digits, self._digit_labels(),
                                                 self.show_digit)

    def _connect(self) -> None:
        w = self.window
        w.runner.subscribe(NetworkRequest, done=self._on_done, failed=self._on_failed,
                           settled=self._on_settled, owner=self)
        w.runner.subscribe(ShiftMapRequest, done=self._on_map_done, failed=self._on_map_failed,
                           settled=self._on_map_settled, owner=self)
        w.runner.subscribe(OpenModelRequest, done=self._on_model_opened,
                           failed=self._on_model_failed, owner=self)
        w.model.changed.connect(lambda _rect: self.schedule())
        # the demo is the article's first example: the pipeline alone (undo brings the
        # network back with the state it replaced)
        w.actions_by_name["demo"].triggered.connect(lambda _c=False: self.set_choice(None))
        w.canvas_item.stroke_finished.connect(self._on_stroke_finished)
        w.compare.controls.changed.connect(self.schedule)
        w.compare.controls.rows_changed.connect(self.schedule)
        w.compare.rows.b.installEventFilter(self)  # comparison on or off
        w.installEventFilter(self)
        w.canvas_controls.wrap.toggled.connect(
            lambda on: setattr(w.canvas_item, "slide_wrap", bool(on)))
        w.canvas_item.slide_wrap = w.canvas_controls.wrap.isChecked()
        c = self.controls
        c.chosen.connect(self.choose)
        c.open_model.clicked.connect(self.choose_model_file)
        c.labels.clicked.connect(self.choose_labels)
        c.layers.clicked.connect(self._choose_layers)
        c.settings_changed.connect(self._on_settings)
        self.grid.channel_chosen.connect(self._on_channel)
        self.sweep.run_requested.connect(self.run_sweep)
        w.runner.subscribe(NetworkSweepRequest, done=self._on_sweep_done,
                           failed=self._on_sweep_failed, progress=self._on_sweep_progress,
                           owner=self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        if watched is self.window and event.type() == QEvent.Type.Close:
            self._shift_timer.stop()
        elif watched is self.window.compare.rows.b and event.type() in (
                QEvent.Type.ShowToParent, QEvent.Type.HideToParent):
            self.schedule()
        return False

    # -- choosing -------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        """True while a network runs on the canvas."""
        return self.choice is not None

    def key(self) -> str:
        """What is chosen: ``KERNEL_ONLY``, a bundled name, ``VARIANTS`` or ``MODEL``."""
        if self.choice is None:
            return KERNEL_ONLY
        if self.variants:
            return VARIANTS
        return self.choice.name if self.choice.name is not None else MODEL

    @property
    def variants(self) -> bool:
        """True while the three digit networks run side by side."""
        return self.choice is not None and self.choice.side_by_side

    def choices(self) -> tuple[NetworkChoice, ...]:
        """The networks run, each alone: the choice, or the three digit networks with its
        settings (:attr:`NetworkChoice.members`)."""
        return () if self.choice is None else self.choice.members

    def choose(self, key: str) -> None:
        """Choose what runs (an entry of the menu or the combo)."""
        order = self.choice.order if self.choice is not None else "activation"
        if key == KERNEL_ONLY:
            self.set_choice(None)
        elif key == VARIANTS:
            self.set_choice(NetworkChoice.all_digits(order=order))
        elif key == MODEL:
            if self.model_choice is None:
                self._show_controls()
                self.choose_model_file()
            else:
                self.set_choice(self.model_choice)
        else:
            self.set_choice(NetworkChoice.bundled(key, order=order))

    def set_choice(self, choice: NetworkChoice | None, keep_canvas: bool = False) -> None:
        """Run the canvas through `choice` (None: the pipeline alone; the three digit
        networks side by side: ``NetworkChoice.all_digits()``). A digit network makes the
        canvas 28x28 (a held-out digit, as one undo step with the network before) unless
        `keep_canvas`; it paints with the pen."""
        w = self.window
        before = self._state_before()
        was_digit = self.digit_mode
        self.choice = choice
        if choice is not None and choice.path is not None:
            self.model_choice = choice
        digit = self.digit_mode
        w.canvas_item.pen = digit
        if digit and not was_digit:
            w.canvas_controls.tool.setCurrentText("paint")
        elif was_digit and not digit:
            w.canvas_controls.tool.setCurrentText("auto")
        if digit and not keep_canvas and w.model.shape != DIGIT_SHAPE:
            images, labels = self._held_out()
            first = int(np.flatnonzero(labels == 7)[0]) if (labels == 7).any() else 0
            w.model.set_image(images[first], source=ImageSource(), replaced=before)
            w.row.fit()
        self._show_controls()
        self._arrange()
        self.schedule()

    @property
    def digit_mode(self) -> bool:
        """True while a bundled digit network runs (the canvas is its 28x28 input)."""
        return self.choice is not None and self.choice.name is not None

    def apply_state(self, choice: NetworkChoice | None) -> None:
        """Show a state's network (its pixels are already in the canvas)."""
        if choice == self.choice:
            return
        self.set_choice(choice, keep_canvas=True)

    def _state_before(self):
        try:
            return self.window.current_state()
        except ValueError:
            return None

    def _show_controls(self) -> None:
        key = self.key()
        label = "" if self.model_choice is None else f"Model: {self.model_choice.label}"
        self.controls.show_choice(key, label)
        if self.model_choice is not None:
            self.choice_actions[MODEL].setText(label)
            self.choice_actions[MODEL].setVisible(True)
        self.choice_actions[key].setChecked(True)
        c = self.choice
        if c is not None:
            self.controls.show_settings(c.fit, c.mean, c.std, c.order)
        self.labels_action.setEnabled(key == MODEL)

    def _arrange(self) -> None:
        """As many rows as networks; the rows shown only with a network."""
        n = len(self.choices())
        while len(self.rows) > n:
            row = self.rows.pop()
            self.rows_layout.removeWidget(row)
            row.deleteLater()
        while len(self.rows) < n:
            row = NetworkRow()
            row.layers.hovered.connect(self._on_hover)
            row.shift_map.hovered.connect(self._on_hover)
            row.layers.layer_clicked.connect(self._show_channels)
            self.rows_layout.addWidget(row, 1)
            self.rows.append(row)
        self.panel.setVisible(n > 0)
        self.error.hide()
        layout = self.window.rows_layout
        layout.setStretchFactor(self.panel, 3 if n else 0)
        # the pipeline row (the canvas and the kernel's stages) gives the networks room
        self.window.row.setMaximumHeight(
            QWIDGETSIZE_MAX if n == 0 else PIPELINE_ROW_HEIGHT if n == 1 else 230)
        if n == 0:
            self.channels_dock.hide()

    def _on_settings(self) -> None:
        if self.choice is None:
            return
        c = self.controls
        try:
            changes = {"order": c.order.currentText()}
            if self.choice.path is not None:
                changes.update(fit=c.fit.currentText(), mean=c.values(c.mean),
                               std=c.values(c.std))
            choice = self.choice.replace(**changes)
        except ValueError as exc:
            self._show_error(f"Network settings: {exc}")
            return
        self.choice = choice
        if choice.path is not None:
            self.model_choice = choice
        self.schedule()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    # -- model files ----------------------------------------------------------------------------
    def choose_model_file(self) -> None:
        """Ask for an ONNX model and open it."""
        recent = self.recent_models()
        start = str(Path(recent[0]).parent) if recent else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open model", start, MODEL_FILTER)
        if path:
            self.open_model(path)
        else:
            self._show_controls()

    def open_model(self, path: str | Path) -> int:
        """Open the model file `path` on the worker; on success the canvas runs through it,
        on failure a message box names the file and the reason and nothing changes.
        Returns the request id."""
        self.window.statusBar().showMessage(f"Opening model {path}…")
        return self.window.runner.submit(OpenModelRequest(str(Path(path).absolute())))

    def _on_model_opened(self, event: JobDone[OpenedModel]) -> None:
        opened = event.result
        self._remember(opened.choice.path)
        self.set_choice(opened.choice)
        c, h, wd = opened.input_shape
        self.window.statusBar().showMessage(
            f"Opened model {opened.choice.path}: input {c or '?'} x {h or 'any'} x "
            f"{wd or 'any'}", 8000)

    def _on_model_failed(self, event: JobFailed) -> None:
        path = event.request.path
        reason = error_message(event.error)
        if path not in reason:
            reason = f"{path}: {reason}"
        print(f"shiftlab: cannot open model: {reason}", file=sys.stderr)
        self._forget(path)
        self._show_controls()
        self.window.statusBar().showMessage(f"Could not open {path}", 8000)
        self.window.open_failed.emit(path, reason)
        QMessageBox.warning(self.window, "Cannot open the model",
                            f"Could not open the model.\n\n{reason}")

    def recent_models(self) -> list[str]:
        """The model files opened last, newest first."""
        return self.window.settings.text_list(RECENT_KEY)

    def _remember(self, path: str) -> None:
        items = [p for p in self.recent_models() if p != path]
        self.window.settings.set_value(RECENT_KEY, [path, *items][:MAX_RECENT])

    def _forget(self, path: str) -> None:
        self.window.settings.set_value(RECENT_KEY,
                                       [p for p in self.recent_models() if p != path])

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        paths = self.recent_models()
        for p in paths:
            self.recent_menu.addAction(p, lambda p=p: self.open_model(p))
        if not paths:
            self.recent_menu.addAction("(none)").setEnabled(False)

    def choose_labels(self) -> None:
        """Ask for a labels file (one class name per line) for the user's model."""
        if self.choice is None or self.choice.path is None:
            return
        path, _ = QFileDialog.getOpenFileName(self.window, "Labels file", "", LABELS_FILTER)
        if path:
            self.set_labels(path)

    def set_labels(self, path: str | None) -> None:
        """Name the user's model's classes from `path` (None: the model's own names)."""
        if self.choice is None or self.choice.path is None:
            return
        self.choice = self.model_choice = self.choice.replace(labels_path=path)
        self.schedule()

    def _choose_layers(self) -> None:
        row = self.rows[0] if self.rows else None
        if row is None or row.drawn is None:
            return
        if self.variants:
            QMessageBox.information(self.window, "Layers", "Side by side, each network shows "
                                    "its own default layers; choose one network to pick them.")
            return
        result, shown = row.drawn.view.result, row.drawn.view.layer_names
        menu = QMenu(self.window)
        for name in panel_layers(result):
            action = menu.addAction(f"{short_name(name)} {result.activations[name].shape}")
            action.setCheckable(True)
            action.setChecked(name in shown)
            action.setData(name)
        chosen = menu.exec(self.controls.layers.mapToGlobal(
            self.controls.layers.rect().bottomLeft()))
        if chosen is not None:
            self.toggle_layer(chosen.data())

    def toggle_layer(self, name: str) -> None:
        """Show layer `name` as a panel, or stop showing it (at least one stays)."""
        row = self.rows[0] if self.rows else None
        if self.choice is None or self.variants or row is None or row.drawn is None:
            return  # side by side, each network shows its own default layers
        result, shown = row.drawn.view.result, set(row.drawn.view.layer_names)
        shown ^= {name}
        if not shown:
            return
        layers = tuple(n for n in panel_layers(result) if n in shown)
        self.choice = self.choice.replace(layers=layers)
        if self.choice.path is not None:
            self.model_choice = self.choice
        self.schedule()

    # -- examples -------------------------------------------------------------------------------
    def _held_out(self) -> tuple[np.ndarray, np.ndarray]:
        if self._digits is None:
            self._digits = held_out_digits()
        return self._digits

    def _digit_labels(self) -> np.ndarray:
        return self._held_out()[1]

    def show_digit(self, index: int) -> None:
        """Put held-out digit `index` on the canvas (one undo step), with the three digit
        networks side by side unless a digit network already runs."""
        images, _ = self._held_out()
        before = self._state_before()
        if not self.digit_mode:
            self.set_choice(NetworkChoice.all_digits(), keep_canvas=True)
        self.window.model.set_image(images[index], source=ImageSource(), replaced=before)
        self.window.row.fit()

    # -- computing ------------------------------------------------------------------------------
    def schedule(self) -> None:
        """Run the networks on the canvas soon (coalescing edits while one runs)."""
        if self.choice is None:
            return
        if self._in_flight:
            self._dirty = True
        elif not self._scheduled:
            self._scheduled = True
            QTimer.singleShot(0, self, self.request)

    def request(self) -> int:
        """Submit the networks for the canvas now; return the request id (0: none)."""
        self._scheduled = False
        if self.choice is None or self.window._closing:
            return 0
        self._dirty = False
        w = self.window
        req = NetworkRequest(w.model.snapshot(), self.choices(), w.compare.setup(),
                             top_k=w.pipeline_controls.top_k())
        self._in_flight = w.runner.submit(req)
        return self._in_flight

    def up_to_date(self) -> bool:
        """True when the newest answer and its shift maps are drawn and none is due."""
        runner = self.window.runner
        return (self.choice is not None and not self._scheduled and not self._dirty
                and not self._in_flight
                and self._drawn_id == runner.latest(NetworkRequest) > 0
                and not self._shift_timer.isActive()
                and self._map_id == runner.latest(ShiftMapRequest))

    def answer_up_to_date(self) -> bool:
        """True when the newest answer is drawn (its shift map may still be on its way)."""
        runner = self.window.runner
        return (not self._scheduled and not self._dirty and not self._in_flight
                and self._drawn_id == runner.latest(NetworkRequest) > 0)

    def _on_settled(self, event: JobSettled) -> None:
        if event.request_id == self._in_flight:
            self._in_flight = 0
            if self._dirty:
                self._dirty = False
                self.schedule()

    def _on_done(self, event: JobDone) -> None:
        runs = event.result
        if self.choice is None or len(runs) != len(self.rows):
            return  # chosen away while it ran
        self._show_error("")
        for row, drawn in zip(self.rows, runs, strict=True):
            rebuilt = row.show_run(drawn)
            if rebuilt and row is not self.rows[0]:
                row.layers.link_to(self.rows[0].layers)
            row.shift_map.pending()
        self._drawn_id = event.request_id
        first = runs[0].view
        if first.probabilities is not None:
            self.sweep.set_classes([class_label(first.labels, i)
                                    for i in range(min(len(first.probabilities), 100))])
        self.controls.note.setText("; ".join(
            f"{d.view.network}: {d.view.prepared.note}" for d in runs[:1]))
        if self.channels_dock.isVisible() and self._grid_layer is not None \
                and not self.window.model.editing:  # its thumbnails once a stroke ends
            self._show_channels(self._grid_layer)
        self._large = sum(d.view.prepared.x.size for d in runs) > LARGE_INPUT
        # During a drag a small network's map is made now and then for the newest answer
        # (one at a time, DRAG_MAP_INTERVAL_MS apart, so the answers keep the cores); a
        # large model's waits for the drag's end (_on_stroke_finished): its (2r + 1)^2
        # runs would take the cores from every answer.
        if not self.window.model.editing:
            self._shift_timer.start(SHIFT_MAP_DELAY_MS if self._large else 0)
        elif not self._large and not self._map_running and not self._shift_timer.isActive():
            self._shift_timer.start(DRAG_MAP_INTERVAL_MS)

    def _on_stroke_finished(self) -> None:
        if self.channels_dock.isVisible() and self._grid_layer is not None and self.rows:
            self._show_channels(self._grid_layer)  # held back while the stroke lasted
        if self.choice is not None and self._drawn_id:
            self._shift_timer.start(SHIFT_MAP_DELAY_MS if self._large else 0)

    def _request_shift_map(self) -> None:
        if self.choice is None or not self.rows or any(r.drawn is None for r in self.rows):
            return
        views = tuple(r.drawn.view for r in self.rows)
        self._map_running = self.window.runner.submit(ShiftMapRequest(self.choices(), views))

    def _on_map_settled(self, event: JobSettled) -> None:
        if event.request_id != self._map_running:
            return
        self._map_running = 0
        newer = self.rows and self.rows[0].drawn is not None \
            and event.request.views[0] is not self.rows[0].drawn.view
        if newer and self.window.model.editing and not self._large \
                and not self._shift_timer.isActive():
            self._shift_timer.start(DRAG_MAP_INTERVAL_MS)

    def _on_failed(self, event: JobFailed) -> None:
        self._drawn_id = event.request_id
        self._show_error(f"The network could not run: {error_message(event.error)}")

    def _on_map_done(self, event: JobDone) -> None:
        self._map_id = event.request_id
        if len(event.result) != len(self.rows):
            return
        for row, smap in zip(self.rows, event.result, strict=True):
            row.shift_map.show_map(smap)

    def _on_map_failed(self, event: JobFailed) -> None:
        self._map_id = event.request_id
        for row in self.rows:
            row.shift_map.clear_map(f"no shift map: {error_message(event.error)}")

    # -- hover and channels ---------------------------------------------------------------------
    def _on_hover(self, text: str) -> None:
        if text:
            self.window.show_hover_text(text)

    def _show_channels(self, layer: str) -> None:
        row = self.rows[0] if self.rows else None
        if row is None or row.drawn is None or layer not in row.drawn.view.layer_names:
            return
        self._grid_layer = layer
        self.grid.show_panel(row.drawn.view.panel(layer))
        self.channels_dock.setWindowTitle(f"Channels: {short_name(layer)}")
        self.channels_dock.show()

    # -- sweep ----------------------------------------------------------------------------------
    def run_sweep(self) -> int:
        """Slide the canvas through the network (the first one side by side) as the Network
        sweep dock says; return the request id (0 without a network)."""
        if self.choice is None:
            self.window.statusBar().showMessage("Choose a network first (Pipeline > Network)",
                                                8000)
            return 0
        self.sweep_dock.show()
        self.sweep_dock.raise_()
        panel = self.sweep
        choice = self.choices()[0]
        self.sweep.status.setText(f"Sweeping {choice.label}…")
        return self.window.runner.submit(NetworkSweepRequest(
            self.window.model.snapshot(), choice, panel.shifts(),
            panel.axis.currentText(), panel.wrap.isChecked(), panel.class_index()))

    def _on_sweep_progress(self, event) -> None:
        self.sweep.status.setText(f"Sweeping: {event.fraction:.0%}")

    def _on_sweep_done(self, event: JobDone) -> None:
        sweep = event.result
        choice = event.request.choice
        label = None
        if sweep.class_index is not None:
            view = self.rows[0].drawn.view if self.rows and self.rows[0].drawn else None
            label = class_label(view.labels if view is not None else None, sweep.class_index)
        self.sweep.show_sweep(sweep, choice.label, label)

    def _on_sweep_failed(self, event: JobFailed) -> None:
        self.sweep.status.setText(f"The sweep failed: {error_message(event.error)}")

    def _on_channel(self, layer: str, channel: object) -> None:
        for row in self.rows:
            if row.drawn is not None and layer in row.drawn.view.layer_names:
                row.layers.set_channel(layer, channel)
