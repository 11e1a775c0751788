"""What the window exports says what B is, once, and "edited" only when it is."""

from __future__ import annotations

import json

from test_gui_examples import wait_compared

from figures import FigureSetOptions


def test_example_2_exported_from_the_window_names_b_once_and_not_as_edited(window, qtbot,
                                                                           tmp_path):
    window.compare.load_example("mirror")  # File > Examples > 2
    wait_compared(qtbot, window)
    target = tmp_path / "set"
    with qtbot.waitSignal(window.exporter.exported, timeout=60_000):
        assert window.exporter.export_to(target, FigureSetOptions(formats=("json",))) > 0
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    a, b = manifest["inputs"]["A"], manifest["inputs"]["B"]
    assert a["source"] == "example:mirror"  # not "(edited)": the pixels are the example's
    assert b["source"] == "A mirrored left-right"
    assert manifest["transform"]["description"] == "mirrored left-right"
    text = json.dumps(manifest)
    assert "edited" not in text
    assert text.count("mirrored left-right (") == 0  # the transform is said once
    assert window.current_state().caption == "example:mirror vs mirrored left-right"
