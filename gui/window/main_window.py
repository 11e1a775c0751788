"""The main window: an editable input, the linked pipeline panels, the controls dock.

Structure, for extending it:

- :attr:`MainWindow.rows_layout` holds the :class:`~gui.panels.pipeline_row.PipelineRow`
  widgets (one now, :attr:`MainWindow.row`); add another row with
  :meth:`MainWindow.add_row` (its views are linked to the first row's).
- :meth:`MainWindow.add_dock` adds a dock and lists it in the View menu.
- :meth:`MainWindow.add_action` adds a menu entry with shortcuts; :attr:`MainWindow.menus`
  maps "file", "edit", "transform", "pipeline", "view", "help" to the menus and
  :attr:`MainWindow.actions_by_name` holds every action ("open", "undo", "quit" ...).
- :attr:`MainWindow.runner` (a :class:`~gui.worker.JobRunner`) runs any request off the
  GUI thread on its lane: the pipeline a :class:`~gui.panels.views.PipelineRequest`, file
  loading a :class:`LoadRequest`; a part of the window receives its results with
  ``runner.subscribe(RequestType, done=..., failed=...)``.
- :attr:`MainWindow.compare` (a :class:`~gui.comparison.mode.CompareMode`) adds comparison
  mode, the shift sweep and File > Examples; while comparing, the pipeline request carries
  what B is and its result draws rows A and B together.
- What the window shows is one frozen :class:`engine.ViewState`
  (:meth:`MainWindow.current_state`); examples and sessions are shown with
  :meth:`MainWindow.open_state`.
- The input is :attr:`MainWindow.model` (a :class:`~gui.canvas.model.CanvasModel`:
  ``changed`` on every edit); the pipeline controls are
  :attr:`MainWindow.pipeline_controls` (``spec()``, ``top_k()``, ``changed``); every
  drawn result emits ``row.drawn(request_id)`` and is ``row.result`` afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
from PySide6.QtCore import QByteArray, QEvent, QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from engine import (
    ImageLoadError,
    ImageSource,
    InputTransform,
    PipelineResult,
    PipelineSpec,
    Session,
    ViewState,
    load_image,
    load_session,
    save_session,
)
from engine.report import file_sha256
from figures import ExportJob
from gui.canvas.display import InputDisplay, InputPixels
from gui.canvas.item import TOOLS, CanvasItem
from gui.canvas.model import CanvasModel, demo_image
from gui.canvas.snapshots import SnapshotPool
from gui.comparison.mode import CompareMode
from gui.docks.controls import CanvasControls, PipelineControls
from gui.docks.inspector import Inspector
from gui.docks.what_you_see import WhatYouSee
from gui.export.action import FigureExporter
from gui.export.jobs import window_export_job
from gui.guide.guide import Guide
from gui.live.mode import LiveMode
from gui.live.source import is_video_path
from gui.network.mode import NetworkMode, is_model_path
from gui.panels.pipeline_row import PipelineRow
from gui.panels.views import PipelineRequest
from gui.window import files
from gui.window.dialogs import ShiftDialog
from gui.window.recent_files import RecentFiles
from gui.window.settings import AppSettings
from gui.worker import (
    JobContext,
    JobDone,
    JobFailed,
    JobRunner,
    JobSettled,
    Request,
    error_message,
)

LOAD = "load"
#: The window's first size at least (a smaller screen gets its available area instead),
#: and the share of a larger screen's available area it takes.
DEFAULT_SIZE = (1360, 780)
SCREEN_SHARE = 0.9
#: How often, and how many ms apart, a window the layout keeps too wide is shrunk again.
FIT_RETRIES, FIT_RETRY_MS = 5, 40
#: The state shown at the last close, kept beside the settings file and shown again at
#: the next start, so the input and its pipeline always come back together.
LAST_STATE_FILE = "last.shiftlab"
#: Drawn or edited pixels beyond this many are not kept at close (writing them would make
#: closing slow); the next start then shows the demo.
LAST_STATE_MAX_PIXELS = 16_000_000
#: What File > Open offers (kept here too for callers of the window module).
IMAGE_FILTER = files.IMAGE_FILTER
#: The article's first example: pooling only, two levels, on a 10 x 10 canvas.
DEMO_SPEC = PipelineSpec(convolve=False, levels=2)


class MainWindow(QMainWindow):
    """ShiftLab's main window.

    Signals
    -------
    image_opened(str)
        A file was loaded into the canvas.
    open_failed(str, str)
        A file (image or session) could not be loaded or saved: the path, and the reason
        (which names the file).
    session_saved(str), session_opened(str)
        A session file was written, or read and shown.
    last_state_restored()
        The state shown at the last close is shown again (the start is otherwise the demo).
    """

    image_opened = Signal(str)
    open_failed = Signal(str, str)
    session_saved = Signal(str)
    session_opened = Signal(str)
    last_state_restored = Signal()

    def __init__(self, settings: AppSettings | None = None,
                 guide_on_first_start: bool = False) -> None:
        super().__init__()
        self._title = ""  # an example's title, shown with its state
        self.settings = settings or AppSettings()
        self.recent = RecentFiles(self.settings)
        self.runner = JobRunner(self)
        self.snapshots = SnapshotPool()
        self.model = CanvasModel(demo_image())
        self.canvas_item = CanvasItem(self.model)
        self.row = PipelineRow(self.canvas_item)
        for widget in (self.row.graphics, self.row.graphics.viewport()):
            widget.setAcceptDrops(False)  # drops over the panels go to the window
        self.rows: list[PipelineRow] = [self.row]
        self.input_display = InputDisplay(self.model, self.row)
        self._compute_scheduled = False
        self._in_flight = 0  # id of the pipeline job submitted and not yet settled
        self._dirty = False  # the image or controls changed while a job was in flight
        self._closing = False
        self._shown_once = False
        self._fit_retries = 0
        self._restoring = 0  # id of the request reading the last state, while it counts
        self._valid_spec = DEMO_SPEC  # the last spec the controls held that validated
        self._prepared: LoadedImage | None = None
        self.menus: dict[str, QMenu] = {}
        self.actions_by_name: dict[str, QAction] = {}

        central = QWidget()
        self.rows_layout = QVBoxLayout(central)
        self.rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_layout.addWidget(self.row)
        self.setCentralWidget(central)

        self.pipeline_controls = PipelineControls()
        self.canvas_controls = CanvasControls()
        controls = QWidget()
        layout = QVBoxLayout(controls)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas_controls)
        layout.addWidget(self.pipeline_controls)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(controls)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(controls.sizeHint().width() + 24)
        self.controls_dock = self.add_dock(scroll, "Controls")
        # What you see: the state in plain words (an example's explanation among them),
        # above the controls, always there
        self.what_you_see = WhatYouSee(self)
        self.what_you_see_dock = self.add_dock(self.what_you_see.panel, "What you see")
        self.what_you_see.dock = self.what_you_see_dock
        self.splitDockWidget(self.what_you_see_dock, self.controls_dock, Qt.Orientation.Vertical)

        # `hover_label` describes the hovered cell (hidden while a short message shows;
        # hovering clears such a message). The last computation problem (in red), or how
        # many pooling levels ran and why no more did, stays in `notice_label` until the
        # next run says otherwise. `drag_label` names what a left drag on the input does.
        self.hover_label = QLabel("")
        self.notice_label = QLabel("")
        self.drag_label = QLabel("")
        self.image_label = QLabel("")
        self.time_label = QLabel("")
        self.statusBar().addWidget(self.hover_label, 1)
        self.statusBar().addPermanentWidget(self.notice_label)
        self.statusBar().addPermanentWidget(self.drag_label)
        self.statusBar().addPermanentWidget(self.image_label)
        self.statusBar().addPermanentWidget(self.time_label)

        self._build_menus()
        self._connect()
        # comparison mode: rows B, A - B, |A - B|, the Compare, Metrics, plot and sweep
        # docks, View > Compare, File > Open as B… and File > Examples
        self.compare = CompareMode(self)
        self.compare.rows.b.installEventFilter(self)
        self.compare.metrics.padding_fix_requested.connect(
            self.pipeline_controls.padding.setCurrentText)  # the seam note's one-click fix
        # File > Export figure set… (Ctrl+E) and Edit > Copy figure (Ctrl+Shift+C)
        self.inspector = Inspector(self)  # View > Inspect cell (I), or click a stage's cell
        self.exporter = FigureExporter(self, self.runner, self.statusBar(), self.export_job,
                                       self.settings)
        self.exporter.install_actions(self.menus["file"], self.menus["edit"],
                                      file_before=self.actions_by_name["quit"])
        self.guide = Guide(self)  # Help > Guide: the story, step by step
        self.controls_dock.raise_()
        self._restore_settings()
        self.live = LiveMode(self)  # File > Open video… / Camera…, the Video menu, Trajectories
        self.network = NetworkMode(self)  # Pipeline > Network: trained networks on the canvas
        self.setAcceptDrops(True)
        self.update_title()
        self._on_model_changed(None)
        self._restoring = self._restore_last_state()
        if guide_on_first_start:
            self.guide.open_once()
        notices = self.settings.notices
        if notices:  # each also went to stderr
            more = f" (and {len(notices) - 1} more)" if len(notices) > 1 else ""
            self.statusBar().showMessage(f"Remembered {notices[0]}{more}", 15_000)
        else:
            self.statusBar().showMessage(
                "Drag the lit pixel and watch the pooled maps follow · F1: mouse and keys",
                10000)

    # -- construction ---------------------------------------------------------------------------
    def add_dock(self, widget: QWidget, title: str,
                 area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Add `widget` as a dock titled `title`, with a toggle in the View menu."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower().replace(' ', '-')}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        if "view" in self.menus:
            self.menus["view"].addAction(dock.toggleViewAction())
        return dock

    def add_row(self, row: PipelineRow) -> None:
        """Add another pipeline row under the existing ones, its views linked to the first."""
        row.link_to(self.row)
        self.rows.append(row)
        self.rows_layout.addWidget(row)

    def add_file_entry(self, entry: QAction | QMenu) -> None:
        """Put an action or a submenu in the File menu's opening group (before Demo), not
        after Quit."""
        anchor = self.actions_by_name["demo"]
        if isinstance(entry, QMenu):
            self.menus["file"].insertMenu(anchor, entry)
        else:
            self.menus["file"].insertAction(anchor, entry)

    def show_hover_text(self, text: str) -> None:
        """Describe the hovered cell in the status bar."""
        self.statusBar().clearMessage()  # a short message would hide the label
        self.hover_label.setText(text)

    def add_action(self, menu: str, name: str, text: str, slot, shortcut=None,
                   tip: str = "", checkable: bool = False) -> QAction:
        """Add an action to ``menus[menu]`` and ``actions_by_name[name]``.

        `shortcut` is a key sequence (text or standard key) or a list of them; `slot`
        receives ``triggered`` (or ``toggled(bool)`` when `checkable`). The shortcut
        works anywhere in the window. Returns the action.
        """
        action = QAction(text, self)
        if shortcut is not None:
            keys = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(k) for k in keys])
        action.setStatusTip(tip or text.replace("&", "").rstrip("."))
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.menus[menu].addAction(action)
        self.addAction(action)  # shortcuts work even while the menu bar is hidden
        self.actions_by_name[name] = action
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        for key, title in (("file", "&File"), ("edit", "&Edit"), ("transform", "&Transform"),
                           ("pipeline", "&Pipeline"), ("view", "&View"), ("help", "&Help")):
            self.menus[key] = bar.addMenu(title)
        S = QKeySequence.StandardKey  # noqa: N806
        a = self.add_action
        a("file", "open", "&Open image…", self.choose_file, S.Open, "Open a photo as the input")
        self.recent_menu = self.menus["file"].addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        a("file", "demo", "&Demo (one pixel, pooling only)", self.show_demo, "Ctrl+D",
          "The article's first example: drag the lit pixel and watch the pooled maps")
        self.menus["file"].addSeparator()
        a("file", "open-session", "Open s&ession…", self.choose_session, "Ctrl+Shift+L",
          "Open a .shiftlab session: the canvas, pipeline, comparison and docks as saved")
        a("file", "save-session", "&Save session…", self.choose_session_path, S.Save,
          "Save what the window shows as a .shiftlab session file")
        self.menus["file"].addSeparator()
        a("file", "quit", "&Quit", self.close, S.Quit)

        a("edit", "undo", "&Undo", self.model.undo, S.Undo)
        a("edit", "redo", "&Redo", self.model.redo, [QKeySequence("Ctrl+Shift+Z"),
                                                     QKeySequence("Ctrl+Y")])
        self.menus["edit"].addSeparator()
        a("edit", "clear", "&Clear canvas", self.model.clear, "Ctrl+Backspace")
        a("edit", "invert", "&Invert", self.model.invert, "Ctrl+I", "Replace each value v by 1-v")
        a("edit", "random", "&Random pixels", lambda: self.model.randomize(0.1), "Ctrl+Shift+R")

        a("transform", "mirror", "&Mirror left-right", lambda: self.model.mirror(1), "Ctrl+M")
        a("transform", "flip", "&Flip up-down", lambda: self.model.mirror(0), "Ctrl+Shift+M")
        a("transform", "rotate", "&Rotate 90° counter-clockwise", lambda: self.model.rotate90(1),
          "Ctrl+R")
        a("transform", "shift", "&Shift by…", self.choose_shift, "Ctrl+T",
          "Shift the input by (dx, dy), with or without wrap-around")
        self.menus["transform"].addSeparator()
        for name, text, key, dy, dx in (("left", "Nudge left", "Left", 0, -1),
                                        ("right", "Nudge right", "Right", 0, 1),
                                        ("up", "Nudge up", "Up", -1, 0),
                                        ("down", "Nudge down", "Down", 1, 0)):
            a("transform", f"nudge-{name}", text,
              lambda _c=False, dy=dy, dx=dx: self.nudge(dy, dx), key,
              f"{text} by one pixel (wrap-around as set in the Canvas controls)")
        self.wrap_action = a("transform", "wrap", "&Wrap around", self._set_wrap, "W",
                             "Nudges and shifts move pixels out of one side into the other",
                             checkable=True)

        pc = self.pipeline_controls
        self.convolve_action = a("pipeline", "convolve", "&Convolution", pc.convolve.setChecked,
                                 "Ctrl+K", "Convolve (and activate) before pooling",
                                 checkable=True)
        a("pipeline", "more-levels", "&More pooling levels", lambda: pc.levels.stepBy(1), "]")
        a("pipeline", "fewer-levels", "&Fewer pooling levels", lambda: pc.levels.stepBy(-1),
          "[")
        a("pipeline", "next-pool", "Next pooling &mode", self._next_pool_mode, "Ctrl+P",
          "Cycle max, avg, blurmax (MaxBlurPool), blur (BlurPool)")

        a("view", "fit", "&Fit to window", self.row.fit, ["Ctrl+0", "Home"])
        a("view", "zoom-in", "Zoom &in", lambda: self.row.zoom(1 / 1.25), [S.ZoomIn, "Ctrl+="])
        a("view", "zoom-out", "Zoom &out", lambda: self.row.zoom(1.25), S.ZoomOut)
        self.shared_action = a("view", "shared", "&Shared colour levels",
                               self.pipeline_controls.shared.setChecked, "L", checkable=True)
        self.menus["view"].addSeparator()
        self.menus["view"].addAction(self.controls_dock.toggleViewAction())
        self.menus["view"].addAction(self.what_you_see_dock.toggleViewAction())

        a("help", "gestures", "&Mouse and keys", self.show_help, S.HelpContents)
        a("help", "guide", "&Guide", self.open_guide, "Ctrl+G",
          "The article's argument step by step, each step live in the window")
        a("help", "about", "&About ShiftLab", self.show_about)

    def _connect(self) -> None:
        self.model.changed.connect(self._on_model_changed)
        self.model.state_provider = self._state_for_history
        self.model.state_restored.connect(self._show_rest_of)
        self.model.history_changed.connect(self._update_history_actions)
        self.runner.subscribe(PipelineRequest, done=self._on_pipeline_done,
                              failed=self._on_pipeline_failed,
                              settled=self._on_pipeline_settled, owner=self)
        self.runner.subscribe(SaveSessionRequest, done=self._on_session_saved,
                              failed=self._on_session_failed, owner=self)
        self.runner.subscribe(LoadSessionRequest, done=self._on_session_loaded,
                              failed=self._on_session_failed, owner=self)
        self.runner.subscribe(LoadRequest, done=self._on_load_done, failed=self._on_load_failed,
                              owner=self)
        self.row.hovered.connect(self._on_hover)
        self.pipeline_controls.changed.connect(self._on_controls_changed)
        cc = self.canvas_controls
        cc.size_requested.connect(self._resize_canvas)
        cc.clear.clicked.connect(self.model.clear)
        cc.invert.clicked.connect(self.model.invert)
        cc.random.clicked.connect(lambda: self.model.randomize(0.1))
        cc.tool.currentTextChanged.connect(self._set_tool)
        self.canvas_item.stroke_finished.connect(self._update_drag_label)
        cc.brush_value.valueChanged.connect(
            lambda v: setattr(self.canvas_item, "brush_value", float(v)))
        cc.brush_size.valueChanged.connect(
            lambda v: setattr(self.canvas_item, "brush_size", int(v)))
        cc.wrap.toggled.connect(self.wrap_action.setChecked)
        self.pipeline_controls.shared.toggled.connect(self.shared_action.setChecked)
        self.pipeline_controls.convolve.toggled.connect(self.convolve_action.setChecked)
        self._update_history_actions()

    def _restore_settings(self) -> None:
        s = self.settings
        blocker = QSignalBlocker(self.pipeline_controls)
        self.pipeline_controls.set_spec(s.spec(DEMO_SPEC))
        top_k = self.pipeline_controls.top_k_box
        top_k.setValue(s.int_value("display/top_k", top_k.value(), top_k.minimum(),
                                   top_k.maximum()))
        self.pipeline_controls.shared.setChecked(s.bool_value("display/shared_levels", False))
        del blocker
        self.convolve_action.setChecked(self.pipeline_controls.convolve.isChecked())
        self.shared_action.setChecked(self.pipeline_controls.shared.isChecked())
        self.canvas_controls.wrap.setChecked(s.bool_value("canvas/wrap", False))
        self.canvas_controls.tool.setCurrentText(s.text_value("canvas/tool", "auto", TOOLS))
        self._restore_compare_settings()
        geometry = s.geometry("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*self._default_size())
        state = s.geometry("window/state")
        if state is not None:
            self.restoreState(state)
        self.fit_to_screen()
        self._hide_comparison_docks()

    def _compare_boxes(self) -> dict[str, QCheckBox]:
        controls = self.compare.controls
        return {"mirror_kernel": controls.mirror_kernel, "signed_row": controls.signed_row,
                "magnitude_row": controls.magnitude_row}

    def _restore_compare_settings(self) -> None:
        """The last comparison setup (B's transform and rows); comparison itself starts off,
        with the single-row demo, until the state kept at the last close is shown again."""
        s = self.settings
        controls = self.compare.controls
        data = s.json_object("compare/transform")
        if data is not None:
            for name, box in (("dx", controls.dx), ("dy", controls.dy),
                              ("turns", controls.turns)):
                if name in data:
                    data[name] = s.clamp(f"compare/transform {name}", data[name], box.value(),
                                         box.minimum(), box.maximum())
            try:
                controls.set_transform(InputTransform(**data))
            except (TypeError, ValueError) as exc:  # from an older layout, or edited
                s.notice("compare/transform", f"{exc} Ignored")
        for key, box in self._compare_boxes().items():
            box.setChecked(s.bool_value(f"compare/{key}", box.isChecked()))

    def save_settings(self) -> None:
        """Remember the pipeline (the last valid one while the kernel grid holds values the
        engine refuses), display options and window layout."""
        s = self.settings
        try:
            spec = self.pipeline_controls.spec()
        except ValueError as exc:
            spec = self._valid_spec
            print(f"shiftlab: the controls' pipeline is invalid, so the last valid one is "
                  f"remembered: {exc}", file=sys.stderr)
        s.set_spec(spec)
        s.set_value("display/top_k", self.pipeline_controls.top_k())
        s.set_value("display/shared_levels", self.pipeline_controls.shared_levels())
        s.set_value("canvas/wrap", self.canvas_controls.wrap.isChecked())
        s.set_value("canvas/tool", self.canvas_item.tool)
        controls = self.compare.controls
        s.set_value("compare/transform", json.dumps(dataclasses.asdict(controls.transform())))
        for key, box in self._compare_boxes().items():
            s.set_value(f"compare/{key}", box.isChecked())
        s.set_value("window/geometry", self.saveGeometry())
        s.set_value("window/state", self.saveState())
        s.sync()

    # -- computing -----------------------------------------------------------------------------
    def _on_model_changed(self, rect) -> None:
        self.snapshots.changed(rect)
        img = self.model.image
        prepared = self._prepared if self._prepared is not None \
            and self._prepared.image is img else None
        if prepared is not None:
            self.snapshots.donate(prepared.snapshot)
        self.input_display.show(rect, prepared.display if prepared is not None else None)
        if rect is None:
            self._update_image_label()
            self.update_title()  # undo may have brought back another source
        self.schedule_compute(now=self.model.editing)

    def schedule_compute(self, now: bool = False) -> None:
        """Recompute soon: once control returns to the event loop (`now`: at once), or,
        while a job is running, as soon as it ends. Bursts of edits (a drag) thus cost one
        snapshot per job, not one per mouse event; the newest state is always computed
        last.

        A stroke's edit asks for `now`: it is whole when made, and the worker then starts
        while the GUI thread paints the edited canvas; the event loop would otherwise
        paint first."""
        if self._in_flight:
            self._dirty = True
        elif now and not self._compute_scheduled:
            self.request_compute()
        elif not self._compute_scheduled:
            self._compute_scheduled = True
            QTimer.singleShot(0, self.request_compute)

    def _on_pipeline_settled(self, event: JobSettled) -> None:
        request_id = event.request_id
        self.snapshots.release(request_id)
        if request_id == self._in_flight:
            self._in_flight = 0
            if self._dirty:
                self._dirty = False
                self.schedule_compute()

    def request_compute(self) -> int:
        """Submit the pipeline for the current image and controls; return the request id
        (0 if the controls hold an invalid spec, which is reported in the status bar)."""
        self._compute_scheduled = False
        if self._closing:
            return 0
        try:
            spec = self.pipeline_controls.spec()
        except ValueError as exc:  # the panels keep showing the last valid pipeline
            self._set_notice(f"Invalid pipeline: {exc}")
            return 0
        self._valid_spec = spec
        self._dirty = False
        image = self.snapshots.copy_of(self.model.image)  # the worker reads a frozen copy
        top_k, shared = self.pipeline_controls.top_k(), self.pipeline_controls.shared_levels()
        # while comparing, one job computes A and B so both rows show the same edit
        request = PipelineRequest(image, spec, top_k, shared, self.compare.setup(),
                                  screen=self.row.panel_pixels())
        self._in_flight = self.runner.submit(request)
        self.snapshots.assign(self._in_flight)
        return self._in_flight

    def up_to_date(self) -> bool:
        """True when the newest pipeline request has been drawn and none is scheduled."""
        return (not self._compute_scheduled and not self._dirty
                and self.row.request_id == self.runner.latest(PipelineRequest) > 0)

    def _on_controls_changed(self) -> None:
        self.schedule_compute()

    def _on_pipeline_done(self, event: JobDone) -> None:
        view, ms = event.result
        request_id = event.request_id
        row_view = view.a
        self.row.show_view(row_view, request_id)
        self.time_label.setText(f"{ms:.0f} ms")
        self._set_notice(*levels_notice(row_view.result))
        self.compare.draw(view, request_id)

    def _on_load_done(self, event: JobDone[LoadedImage]) -> None:
        loaded = event.result
        path = loaded.path
        # The job also prepared the Input panel's pixels and the worker's first snapshot,
        # so taking over a 12-megapixel photo costs the GUI thread no full pass.
        self._prepared = loaded
        replaced = self._state_for_history()
        self._title = ""  # no longer an example
        self.model.set_image(loaded.image, source=loaded.source, copy=False, replaced=replaced)
        self._prepared = None
        self.recent.add(path)
        self.update_title()
        self.row.fit()
        self.statusBar().showMessage(f"Opened {path}", 5000)
        self.image_opened.emit(path)

    def current_state(self) -> ViewState:
        """What the window shows, as one frozen value: the canvas (copied) and where it came
        from, the pipeline, display options and, while comparing, what B is.

        Raises
        ------
        ValueError
            If the controls hold an invalid pipeline (an unfinished kernel grid).
        """
        return ViewState(self.model.input_image(), self.pipeline_controls.spec(),
                         self.compare.setup(), top_k=self.pipeline_controls.top_k(),
                         shared_levels=self.pipeline_controls.shared_levels(),
                         title=self._title, network=self.network.choice)

    def open_state(self, state: ViewState, message: str = "", undoable: bool = True) -> None:
        """Show `state`: its input A in the canvas, its pipeline and display options in the
        controls, its comparison (or none); `message` goes to the status bar. Undo brings
        back the whole state shown before, redo this one (unless not `undoable`)."""
        self._restoring = 0  # what is asked for now wins over the last state
        self.model.set_image(state.a.pixels, source=state.a.source, undoable=undoable,
                             replaced=self._state_for_history() if undoable else None)
        self.model.edited = state.a.edited
        self._show_rest_of(state)
        if message:
            self.statusBar().showMessage(message, 15_000)

    def _state_for_history(self) -> ViewState:
        """:meth:`current_state`, with the last valid pipeline while the controls hold an
        invalid one (what undo brings back)."""
        try:
            return self.current_state()
        except ValueError:
            return ViewState(self.model.input_image(), self._valid_spec, self.compare.setup(),
                             top_k=self.pipeline_controls.top_k(),
                             shared_levels=self.pipeline_controls.shared_levels(),
                             title=self._title, network=self.network.choice)

    def _show_rest_of(self, state: ViewState) -> None:
        """Show everything of `state` but its input pixels (which the canvas holds)."""
        self._title = state.title
        with QSignalBlocker(self.pipeline_controls):
            self.pipeline_controls.top_k_box.setValue(state.top_k)
            self.pipeline_controls.shared.setChecked(state.shared_levels)
        self.pipeline_controls.set_spec(state.spec)
        self.compare.apply_setup(state.compare)
        self.network.apply_state(state.network)
        self.update_title()
        self.row.fit()

    def export_job(self) -> ExportJob:
        """What Export figure set and Copy figure show: :meth:`current_state`."""
        return window_export_job(self.current_state())

    def _on_load_failed(self, event: JobFailed) -> None:
        path = event.request.path
        # an ImageLoadError names the file and the reason; anything else gets the path
        error = event.error
        reason = str(error) if isinstance(error, ImageLoadError) \
            else f"{path}: {error_message(error)}"
        print(f"shiftlab: cannot open image: {reason}", file=sys.stderr)
        self.statusBar().showMessage(f"Could not open {path}", 8000)
        self.recent.remove(path)
        self.open_failed.emit(path, reason)
        QMessageBox.warning(self, "Cannot open image", f"Could not open the image.\n\n{reason}")

    def _on_pipeline_failed(self, event: JobFailed) -> None:
        self._set_notice(f"Computation failed: {error_message(event.error)}")

    def _set_notice(self, text: str, tip: str = "", problem: bool = True) -> None:
        """Show `text` until the next run replaces it: a problem in red, or (`problem`
        False) how many pooling levels ran, in the status bar's own colour."""
        self.notice_label.setText(text)
        self.notice_label.setToolTip(tip or text)
        self.notice_label.setStyleSheet("color: #c5221f;" if problem and text else "")

    # -- files ----------------------------------------------------------------------------------
    def open_file(self, path: str | Path) -> int:
        """Load `path` off the GUI thread; on success it replaces the canvas (undoable) and
        :attr:`image_opened` is emitted, on failure a message box names the file and the
        reason, :attr:`open_failed` is emitted and the current image stays.

        Returns the load request id.
        """
        self._restoring = 0
        if is_video_path(path):  # a video file or a folder of frames plays as live input
            return self.live.open_video(path)
        if is_model_path(path):  # an ONNX model runs on the canvas
            return self.network.open_model(path)
        self.statusBar().showMessage(f"Opening {path}…")
        return self.runner.submit(LoadRequest(str(path), self.row.panel_pixels()))

    def choose_file(self) -> None:
        """Ask for an image file and open it."""
        start = str(Path(self.recent.paths()[0]).parent) if self.recent.paths() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open image", start, IMAGE_FILTER)
        if path:
            self.open_file(path)

    def _fill_recent(self) -> None:
        self.recent.fill_menu(self.recent_menu, self.open_file)

    # -- sessions -------------------------------------------------------------------------------
    def save_session_to(self, path: str | Path) -> int:
        """Save :meth:`current_state` and the dock layout to `path` off the GUI thread (the
        images are checked against their sources there); :attr:`session_saved` or a
        message box follows. Returns the request id (0 for an invalid pipeline)."""
        try:
            state = self.current_state()
        except ValueError as exc:
            QMessageBox.warning(self, "Cannot save the session", f"Invalid pipeline: {exc}")
            return 0
        window = {"docks": bytes(self.saveState().toBase64()).decode("ascii")}
        self.statusBar().showMessage(f"Saving {path}…")
        return self.runner.submit(SaveSessionRequest(str(path), state, window))

    def choose_session_path(self) -> None:
        """Ask where to save the session, then save it."""
        path, _ = QFileDialog.getSaveFileName(self, "Save session", "session.shiftlab",
                                              files.SESSION_FILTER)
        if path:
            if not path.endswith(".shiftlab"):
                path += ".shiftlab"
            self.save_session_to(path)

    def open_session(self, path: str | Path) -> int:
        """Read the session `path` off the GUI thread and show it (undoable like opening a
        photo); a damaged or newer session gives a message box and changes nothing.
        Returns the request id."""
        self.statusBar().showMessage(f"Opening {path}…")
        self._restoring = 0
        return self.runner.submit(LoadSessionRequest(str(path)))

    def choose_session(self) -> None:
        """Ask for a session file and open it."""
        path, _ = QFileDialog.getOpenFileName(self, "Open session", "", files.SESSION_FILTER)
        if path:
            self.open_session(path)

    def _on_session_saved(self, event: JobDone) -> None:
        path = event.request.path
        self.statusBar().showMessage(f"Saved {path}", 5000)
        self.session_saved.emit(path)

    def last_state_path(self) -> Path:
        """Where the state shown at close is kept: :data:`LAST_STATE_FILE` beside the
        settings file."""
        return Path(self.settings.qsettings.fileName()).with_name(LAST_STATE_FILE)

    def _restore_last_state(self) -> int:
        """Start reading the state kept at the last close; return the request id (0 when
        none was kept). Opening anything before it arrives wins over it."""
        path = self.last_state_path()
        if not path.is_file():
            return 0
        return self.runner.submit(LoadSessionRequest(str(path), startup=True))

    def _keep_last_state(self) -> None:
        """Keep what is shown for the next start (not while the last state is still on its
        way, so it is not replaced by the demo)."""
        if self._restoring:
            return
        path = self.last_state_path()
        state = self._state_for_history()
        images = [state.a]
        if state.compare is not None and state.compare.image_b is not None:
            images.append(state.compare.image_b)
        try:
            if sum(i.pixels.size for i in images if not i.reloadable) > LAST_STATE_MAX_PIXELS:
                path.unlink(missing_ok=True)
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            save_session(path, state)
        except (OSError, ValueError) as exc:  # SessionError is a ValueError
            print(f"shiftlab: what the window showed is not kept for the next start: {exc}",
                  file=sys.stderr)

    def _on_session_loaded(self, event: JobDone[Session]) -> None:
        session = event.result
        if event.request.startup:
            if event.request_id == self._restoring:
                self.open_state(session.state, undoable=False)
                self.last_state_restored.emit()
            return
        self.open_state(session.state, f"Opened {event.request.path}")
        docks = session.window.get("docks")
        if isinstance(docks, str):
            self.restoreState(QByteArray.fromBase64(docks.encode("ascii")))
        self.session_opened.emit(event.request.path)

    def _on_session_failed(self, event: JobFailed) -> None:
        reason = error_message(event.error)
        if getattr(event.request, "startup", False):
            # A file of the last state moved or changed: start on the demo, with its own
            # pipeline rather than one chosen for another input; no box at start.
            print(f"shiftlab: the last state is not shown again: {reason}", file=sys.stderr)
            if event.request_id == self._restoring:
                self._restoring = 0
                self.pipeline_controls.set_spec(DEMO_SPEC)
                self.statusBar().showMessage(f"The last state is not shown again: {reason}",
                                             15_000)
            return
        title = "Cannot save the session" if isinstance(event.request, SaveSessionRequest) \
            else "Cannot open the session"
        print(f"shiftlab: {title.lower()}: {reason}", file=sys.stderr)
        self.statusBar().showMessage(title, 8000)
        self.open_failed.emit(event.request.path, reason)
        QMessageBox.warning(self, title, reason)

    def show_demo(self) -> None:
        """Return to the article's first example: one lit pixel, pooling only (undo brings
        back the whole state shown before)."""
        self._restoring = 0
        replaced = self._state_for_history()
        self._title = ""
        self.model.set_image(demo_image(), source=ImageSource(), copy=False, replaced=replaced)
        self.pipeline_controls.set_spec(DEMO_SPEC)
        self.update_title()
        self.row.fit()

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_file(files[0])
        else:
            event.ignore()

    # -- edits ----------------------------------------------------------------------------------
    def nudge(self, dy: int, dx: int) -> None:
        """Move the whole input by one step (wrap-around as the Wrap option says)."""
        self.model.nudge(dy, dx, self.canvas_controls.wrap.isChecked())

    def choose_shift(self) -> None:
        """Ask for (dx, dy, wrap) and shift the input."""
        dialog = ShiftDialog(self.canvas_controls.wrap.isChecked(), parent=self)
        if dialog.exec():
            dy, dx, wrap = dialog.values()
            self.model.nudge(dy, dx, wrap)

    def _next_pool_mode(self) -> None:
        box = self.pipeline_controls.pool_mode
        box.setCurrentIndex((box.currentIndex() + 1) % box.count())

    def _set_tool(self, tool: str) -> None:
        self.canvas_item.tool = tool
        self._update_drag_label()

    def _set_wrap(self, on: bool) -> None:
        self.canvas_controls.wrap.setChecked(on)

    def _resize_canvas(self, rows: int, cols: int) -> None:
        if self.model.shape != (rows, cols):
            self.model.resize(rows, cols)
            self.update_title()

    def _update_history_actions(self) -> None:
        self.actions_by_name["undo"].setEnabled(self.model.can_undo())
        self.actions_by_name["redo"].setEnabled(self.model.can_redo())

    # -- status ---------------------------------------------------------------------------------
    def update_title(self) -> None:
        """Name the input in the window title and say what a left drag does."""
        name = self.model.source.label
        self.setWindowTitle(f"ShiftLab — {name}")
        self._update_drag_label()

    def _update_drag_label(self) -> None:
        mode = self.canvas_item.left_drag_mode()
        self.drag_label.setText({"move": "Left drag: move a lit pixel",
                                 "slide": "Left drag: slide the image"}.get(
                                     mode, "Left drag: paint"))
        self.drag_label.setToolTip(DRAG_TIP)

    def _default_size(self) -> tuple[int, int]:
        """:data:`DEFAULT_SIZE`, or :data:`SCREEN_SHARE` of a larger screen's available
        area (:meth:`fit_to_screen` then shrinks it to a smaller screen)."""
        screen = self.screen()
        if screen is None:
            return DEFAULT_SIZE
        area = screen.availableGeometry()
        return (max(DEFAULT_SIZE[0], int(area.width() * SCREEN_SHARE)),
                max(DEFAULT_SIZE[1], int(area.height() * SCREEN_SHARE)))

    def fit_to_screen(self) -> None:
        """Keep the window, frame included, inside the available area of its screen: a
        size remembered from a larger screen, or the default size on a small one, shrinks
        to fit, and the window moves back onto the screen."""
        screen = self.screen()
        if screen is None or self.isMaximized() or self.isFullScreen():
            return
        area = screen.availableGeometry()
        frame, inner = self.frameGeometry(), self.geometry()
        extra_w = frame.width() - inner.width()
        extra_h = frame.height() - inner.height()
        if not self.isVisible():  # no frame yet: leave room for a title bar
            extra_h = max(extra_h, self.style().pixelMetric(QStyle.PixelMetric.PM_TitleBarHeight)
                          + 8)
        width = min(self.width(), area.width() - extra_w)
        height = min(self.height(), area.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
            if self.isVisible() and self.width() > width and self._fit_retries < FIT_RETRIES:
                # Just after docks appear, the layout's minimum can briefly be their whole
                # preferred width; it falls once they are laid out, so try again then.
                self._fit_retries += 1
                QTimer.singleShot(FIT_RETRY_MS, self, self.fit_to_screen)
                return
        self._fit_retries = 0
        frame = self.frameGeometry()
        x = min(max(frame.x(), area.x()), area.right() + 1 - frame.width())
        y = min(max(frame.y(), area.y()), area.bottom() + 1 - frame.height())
        if (x, y) != (frame.x(), frame.y()):
            self.move(max(x, area.x()), max(y, area.y()))

    def _hide_comparison_docks(self) -> None:
        """Without comparison, the Metrics, Metrics plot and Shift sweep docks take no room
        (the View menu still opens any of them)."""
        if not self.compare.active:
            for dock in (self.compare.metrics_dock, self.compare.plot_dock,
                         self.compare.sweep_dock):
                dock.setVisible(False)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt override
        # Row B is hidden exactly when comparison ends, however it ends (the action, the
        # Compare dock's checkbox, an example, a session, undo).
        if watched is self.compare.rows.b and event.type() == QEvent.Type.HideToParent:
            self._hide_comparison_docks()
        return super().eventFilter(watched, event)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        # Showing a dock can widen the window to the dock's preferred size, past the screen.
        screen = self.screen()
        if self._shown_once and screen is not None \
                and not screen.availableGeometry().contains(self.frameGeometry()):
            QTimer.singleShot(0, self, self.fit_to_screen)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            QTimer.singleShot(0, self, self.fit_to_screen)  # the frame is known by then

    def _update_image_label(self) -> None:
        h, w = self.model.shape
        self.image_label.setText(f"input {h} x {w}")
        self.canvas_controls.set_size(h, w)

    def _on_hover(self, index: int, row: int, col: int) -> None:
        result = self.row.result
        if index < 0 or result is None:
            self.hover_label.setText("")
            return
        stage = result.stages[index]
        value = float(stage.array[row, col])
        h, w = self.model.shape
        if index == 0 and row < h and col < w:  # the canvas may be ahead of the result
            value = float(self.model.image[row, col])
        self.show_hover_text(f"{stage.title}   row {row}, col {col}   value {value:.4g}")

    def open_guide(self) -> None:
        """Open the guide at its current step (Help > Guide)."""
        self.guide.open()

    def show_help(self) -> None:
        """Explain the mouse gestures and keys."""
        QMessageBox.information(self, "Mouse and keys", HELP_TEXT)

    def show_about(self) -> None:
        """Say what ShiftLab is."""
        QMessageBox.about(self, "About ShiftLab",
                          "ShiftLab shows how convolution moves features with the input "
                          "(equivariance) and how repeated pooling pulls them together "
                          "(approximate invariance).")

    # -- closing --------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if not self._closing:
            self._closing = True
            self.save_settings()
            self._keep_last_state()
            self.runner.shutdown()
        super().closeEvent(event)


@dataclass(frozen=True)
class LoadedImage:
    """What the load job hands over: the image and its source (path and SHA-256), its
    pixels for the Input panel (reduced to its `screen` pixels) and a copy for the
    pipeline's first snapshot."""

    path: str
    source: ImageSource
    image: np.ndarray
    display: InputPixels
    snapshot: np.ndarray


def _load(path: str, screen: tuple[int, int] | None = None) -> LoadedImage:
    """The load job: read `path` (grey float32) and prepare what the GUI needs from it."""
    image = load_image(path)
    source = ImageSource.of_file(path, file_sha256(path))
    return LoadedImage(path, source, image, InputPixels.of(image, screen, every=True),
                       image.copy())


@dataclass(frozen=True, slots=True, eq=False)
class LoadRequest(Request[LoadedImage]):
    """Load the image file `path` into the canvas (File > Open, drops, the command line)."""

    lane: ClassVar[str] = LOAD
    path: str
    screen: tuple[int, int] | None = None  # the Input panel's device pixels

    def run(self, context: JobContext) -> LoadedImage:
        """Read the file.

        Returns
        -------
        LoadedImage

        Raises
        ------
        engine.ImageLoadError
            If the file cannot be read; the message names the file and the reason.
        """
        return _load(self.path, self.screen)


SESSION = "session"


@dataclass(frozen=True, slots=True, eq=False)
class SaveSessionRequest(Request[None]):
    """Write `state` (its images checked against their sources) and the window's settings
    to the session file `path`."""

    lane: ClassVar[str] = SESSION
    path: str
    state: ViewState
    window: dict

    def run(self, context: JobContext) -> None:
        """Save the session.

        Raises
        ------
        engine.SessionError
            If the file cannot be written; the message names it.
        """
        save_session(self.path, self.state.verified(), self.window)


@dataclass(frozen=True, slots=True, eq=False)
class LoadSessionRequest(Request[Session]):
    """Read the session file `path` (`startup`: the state kept at the last close, shown
    without a message box if it cannot be read)."""

    lane: ClassVar[str] = SESSION
    path: str
    startup: bool = False

    def run(self, context: JobContext) -> Session:
        """Read the session.

        Returns
        -------
        engine.Session

        Raises
        ------
        engine.SessionError
            If the file is missing, damaged, from a newer ShiftLab, or refers to an image
            that cannot be loaded again; the message names the file and the reason.
        """
        return load_session(self.path)


def levels_notice(result: PipelineResult) -> tuple[str, str, bool]:
    """What the status bar says about how far pooling went: ``(text, tooltip, problem)``.

    Returns ``("", "", False)`` when every level asked for ran; otherwise how many ran and
    why no more could (the map ran out of rows or columns), which is an ordinary
    consequence of the image size, not a problem.
    """
    if result.stop_reason is None:
        return "", "", False
    cause = result.stop_cause or result.stop_reason
    text = f"{result.levels_produced} of {result.levels_requested} pooling levels ran: {cause}"
    tip = (f"{text}. Each level shrinks the map; fewer levels, a smaller pooling window or "
           "a larger input run them all.")
    return text, tip, False


DRAG_TIP = ("A left drag on a lit pixel moves it while the canvas is sparse (at most a quarter "
            "of its pixels lit, as in the demo); on a photo it paints. Shift + drag always "
            "paints, a right drag erases; Controls > Canvas > Left drag picks one for good.")

HELP_TEXT = """\
Left drag: on a sparse canvas (the demo) a lit pixel moves and a dark one is painted;
on a photo it paints. The status bar says which. Shift + left drag: paint. Right drag: erase.
Middle drag: pan. Wheel: zoom. Every panel follows.
Hover any cell: its related cells are outlined in every panel.
Click a cell of a stage (or press I over any cell): the Inspector shows its arithmetic.

Arrow keys: nudge the input by one pixel (W toggles wrap-around).
Ctrl+M mirror, Ctrl+Shift+M flip, Ctrl+R rotate, Ctrl+T shift by…
Ctrl+Z undo, Ctrl+Shift+Z redo, Ctrl+O open, Ctrl+D demo.
Ctrl+K convolution on/off, ] and [ more/fewer pooling levels, Ctrl+P next pooling mode.
Ctrl++ / Ctrl+- zoom, Ctrl+0 fit, L shared colour levels.
Ctrl+B compare A with B, Ctrl+Shift+O open a photo as B, File > Examples: the article's cases.
Ctrl+E export a figure set, Ctrl+Shift+C copy the composite figure.
Ctrl+Shift+V open a video: Space play/pause, , and . step a frame, G keep the frame as B.
Ctrl+G: the guide, the article's argument in live steps (Help > Guide).
Pipeline > Network: the canvas through a trained digit network (28x28, a pen) or your ONNX
model (Ctrl+Shift+N, or drop the .onnx file); Ctrl + drag slides the whole image.

Red box: the largest cell of each stage; orange rings: the next largest.
Dashed green box on the input: the receptive field of the deepest level's maximum."""
