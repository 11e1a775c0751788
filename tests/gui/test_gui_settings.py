"""A settings file edited by hand, or written by another version: every value is checked as
it is read, clamped to its control's range or dropped with a one-line notice naming its key,
and the window always starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from engine import PipelineSpec
from engine.limits import (
    MAX_BLUR_SIZE,
    MAX_KERNEL_SIZE,
    MAX_LEVELS,
    MAX_POOL_SIZE,
    MAX_STRIDE,
    MAX_TOP_K,
)
from figures.figure_set import MAX_ANIMATED_SHIFTS, MAX_WIDTH
from gui.export.dialog import (
    DEFAULT_FOLDER_NAME,
    ExportDialog,
    remembered_folder,
    remembered_options,
)
from gui.window.main_window import DEMO_SPEC, MainWindow
from gui.window.settings import AppSettings

HUGE = 2**31


def write_ini(folder: Path, text: str) -> Path:
    """Write the application's settings file as a person editing it would."""
    path = folder / "ShiftLab" / "ShiftLab.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def json_text(text: str) -> str:
    """`text` as a quoted INI value."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def open_window(qtbot) -> MainWindow:
    win = MainWindow()
    qtbot.addWidget(win)
    return win


def test_hostile_values_are_clamped_or_dropped_and_the_window_starts(qtbot, isolated_settings,
                                                                     capsys):
    spec = json.dumps({"kernel": [[1, 2], [3]], "convolve": True, "levels": HUGE,
                       "stride": 10**30, "pool_size": "wide", "blur_size": -5,
                       "pool_stride": [1, 2], "padding": "circular"})
    transform = json.dumps({"kind": "shift", "dx": HUGE, "dy": -(10**20), "wrap": True,
                            "turns": 1})
    write_ini(isolated_settings, f"""\
[pipeline]
spec={json_text(spec)}

[display]
top_k={HUGE}
shared_levels=@Rect(0 0 10 10)

[canvas]
wrap=perhaps
tool=@Size(3 4)

[compare]
transform={json_text(transform)}
mirror_kernel=@Rect(1 2 3 4)
signed_row=yes

[files]
recent=@Rect(0 0 1 1), /tmp/kept.png, @Size(1 2), 17

[window]
geometry=@Rect(0 0 10 10)
state=not bytes
""")
    win = open_window(qtbot)
    pc = win.pipeline_controls
    # clamped to the controls' ranges (engine.limits), the rest kept or the default's
    assert (pc.levels.value(), pc.stride.value(), pc.top_k()) == (MAX_LEVELS, MAX_STRIDE,
                                                                  MAX_TOP_K)
    spec = pc.spec()
    assert spec.kernel == DEMO_SPEC.kernel  # a ragged kernel is refused: the default's
    assert spec.padding == "circular" and spec.convolve
    assert spec.pool_size == DEMO_SPEC.pool_size and spec.blur_size == 1
    assert spec.pool_stride == DEMO_SPEC.pool_stride
    controls = win.compare.controls
    assert (controls.dx.value(), controls.dy.value()) == (controls.dx.maximum(),
                                                          controls.dy.minimum())
    assert not pc.shared_levels() and not win.canvas_controls.wrap.isChecked()
    assert win.canvas_controls.tool.currentText() == "auto"
    assert not controls.mirror_kernel.isChecked() and controls.signed_row.isChecked()
    # the recent list keeps its one name (an INI file holds the 17 as text)
    assert win.recent.paths() == ["/tmp/kept.png", "17"]

    err = capsys.readouterr().err.splitlines()
    for key in ("pipeline/spec levels", "pipeline/spec stride", "pipeline/spec pool_size",
                "pipeline/spec blur_size", "pipeline/spec pool_stride", "pipeline/spec:",
                "display/top_k", "display/shared_levels", "canvas/wrap", "canvas/tool",
                "compare/transform dx", "compare/transform dy", "compare/mirror_kernel",
                "files/recent", "window/geometry", "window/state"):
        assert sum(f"setting {key}" in line for line in err) == 1, (key, err)
    assert all(line.startswith("shiftlab: setting ") for line in err)
    assert win.statusBar().currentMessage().startswith("Remembered setting ")
    assert win.recent.paths() == ["/tmp/kept.png", "17"]  # dropped once, then forgotten
    assert capsys.readouterr().err == ""
    win.show()
    win.close()  # the clean values are what is saved
    again = open_window(qtbot)
    assert again.pipeline_controls.spec() == spec
    assert capsys.readouterr().err == ""
    again.close()


@pytest.mark.parametrize("key", ["pipeline/spec", "compare/transform"])
@pytest.mark.parametrize("value", [
    json_text("[" * 20_000 + "]" * 20_000),  # deeply nested: RecursionError
    json_text('{"a": ' * 5_000 + "1" + "}" * 5_000),
    json_text("[" * 100_000 + "]" * 100_000),  # longer than any remembered value
    json_text("[1, 2, 3]"),  # a list where an object belongs
    json_text('{"kernel": {"a": 1}}'),  # an object where a list belongs
    json_text('{"dx": "three", "kind": 5}'),
    "@Rect(0 0 10 10)",
    "12, 13",
    json_text("{not json"),
])
def test_unreadable_json_settings_fall_back_to_the_defaults(qtbot, isolated_settings, capsys,
                                                            key, value):
    group, name = key.split("/")
    write_ini(isolated_settings, f"[{group}]\n{name}={value}\n")
    win = open_window(qtbot)
    assert win.pipeline_controls.spec() == DEMO_SPEC
    assert win.compare.controls.transform().kind == "mirror"
    err = capsys.readouterr().err.splitlines()
    assert err and all(line.startswith(f"shiftlab: setting {key}") for line in err), err
    win.close()


def test_the_controls_offer_exactly_the_engine_limits(qtbot):
    pc = open_window(qtbot).pipeline_controls
    assert [b.maximum() for b in (pc.stride, pc.pool_size, pc.pool_stride, pc.blur_size,
                                  pc.levels, pc.top_k_box, pc.kernel.rows, pc.kernel.cols)] \
        == [MAX_STRIDE, MAX_POOL_SIZE, MAX_POOL_SIZE, MAX_BLUR_SIZE, MAX_LEVELS, MAX_TOP_K,
            MAX_KERNEL_SIZE, MAX_KERNEL_SIZE]
    # what they offer at the top is a spec the engine accepts
    for box in (pc.stride, pc.pool_size, pc.pool_stride, pc.blur_size, pc.levels):
        box.setValue(box.maximum())
    assert isinstance(pc.spec(), PipelineSpec)


def test_remembered_export_options_are_clamped_to_the_figure_set_limits(isolated_settings,
                                                                        capsys):
    write_ini(isolated_settings, f"""\
[export]
width=20000
top_k=1000
animate_shifts={10**12}
formats=png, exe, 3
background=@Rect(0 0 1 1)
folder=@Size(3 4)
""")
    settings = AppSettings()
    assert remembered_folder(settings) == Path.home() / DEFAULT_FOLDER_NAME
    options = remembered_options(settings)
    assert (options.width, options.top_k, options.animate_shifts) == (
        MAX_WIDTH, MAX_TOP_K, MAX_ANIMATED_SHIFTS)
    assert options.formats == ("png",) and options.background == "white"
    err = capsys.readouterr().err
    for key in ("export/width", "export/top_k", "export/animate_shifts", "export/formats",
                "export/background", "export/folder"):
        assert f"setting {key}:" in err


def test_the_export_dialog_offers_the_figure_set_limits(window, qtbot, isolated_settings):
    settings = window.settings
    settings.set_value("export/width", 20_000)
    settings.set_value("export/top_k", 1000)
    seen: list[tuple[int, ...]] = []

    def inspect() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ExportDialog):
            QTimer.singleShot(10, inspect)
            return
        seen.append((dialog.width_box.value(), dialog.width_box.maximum(),
                     dialog.top_k.value(), dialog.top_k.maximum(), dialog.animate.maximum()))
        dialog.reject()

    QTimer.singleShot(0, inspect)
    window.exporter.export_dialog()
    assert seen == [(MAX_WIDTH, MAX_WIDTH, MAX_TOP_K, MAX_TOP_K, MAX_ANIMATED_SHIFTS)]
