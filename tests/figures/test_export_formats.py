"""What a paper or a slide needs from a figure set: vector PDFs, a compressed stages.npz
on request, markers and layout you choose, a physical size, H.264 MP4s and GIFs without
dithering; through the command line, read back independently of the writers."""

from __future__ import annotations

import json
import re
import zipfile
import zlib

import av
import cv2
import numpy as np
from test_export_cli import run_export

import cli
import figures.drawing
import figures.figure_set as figure_set
import figures.video
from engine import (
    EXAMPLES,
    InputImage,
    ViewState,
    example_state,
    load_example,
    run_pipeline,
    shift_sweep,
)
from figures.drawing import VIRIDIS_LUT
from figures.figure_set import ExportJob, FigureSetOptions, compute_figure_data, figure_panels
from figures.video import write_gif


def _streams(pdf: bytes) -> list[bytes]:
    """Every stream of a PDF, inflated when it is Flate-compressed."""
    out = []
    for match in re.finditer(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", pdf, re.S):
        head, data = match.group(1), match.group(2)
        out.append(zlib.decompress(data) if b"FlateDecode" in head else data)
    return out


def test_pdf_pages_hold_vector_text_and_the_stage_pictures(tmp_path):
    out = tmp_path / "set"
    done = run_export("example:pixel", "--formats", "pdf,json", "--width", "400", "--out", out)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    pdfs = sorted(f for f in manifest["files"] if f.endswith(".pdf"))
    assert "sheet.pdf" in pdfs and "panels/A_pool_1.pdf" in pdfs
    assert not any(f.endswith((".png", ".svg")) for f in manifest["files"])
    sheet = (out / "sheet.pdf").read_bytes()
    assert sheet.startswith(b"%PDF-1.") and sheet.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", sheet)) == 1
    assert re.search(rb"/FontFile2", sheet)  # the font is embedded: text is text
    content = b"".join(_streams(sheet))
    assert re.search(rb"\bTJ\b|\bTj\b", content)  # text drawn with text operators
    assert re.search(rb"/Subtype\s*/Image", sheet)  # each stage as an embedded picture
    # the page is the PNG's size at 96 dpi: 400 px wide is 300 pt
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", sheet)
    assert abs(float(box.group(1)) - 300.0) < 0.5


def test_compress_writes_a_deflated_npz_with_the_same_arrays(tmp_path):
    out = tmp_path / "set"
    done = run_export("example:pixel", "--formats", "npz,json", "--compress", "--out", out)
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(out / "stages.npz") as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_DEFLATED}
    a, _ = load_example("pixel")
    expected = run_pipeline(a, EXAMPLES["pixel"].spec)
    with np.load(out / "stages.npz") as stages:
        for stage in expected:
            np.testing.assert_array_equal(stages[f"A/{stage.name}"], stage.array)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["compress"] is True
    assert "--compress" in manifest["command"]["argv"]
    plain = tmp_path / "plain"
    assert run_export("example:pixel", "--formats", "npz", "--out", plain).returncode == 0
    with zipfile.ZipFile(plain / "stages.npz") as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}


def test_top_k_0_marks_nothing_and_difference_rows_are_unmarked_by_default(qapp):

    job = ExportJob(example_state("mirror"))
    for top_k, diff_markers, a_marks, diff_marks in ((3, False, 3, 0), (3, True, 3, 3),
                                                      (0, True, 0, 0)):
        data = compute_figure_data(job, top_k)
        panels = figure_panels(data, diff_markers=diff_markers)
        assert {len(p.maxima) for p in panels["A"].values()} == {a_marks}
        assert {len(p.maxima) for p in panels["A-B"].values()} == {diff_marks}


def test_the_default_top_k_is_the_window_s_and_0_writes_no_maxima_columns(tmp_path):
    out = tmp_path / "set"
    done = run_export("example:mirror", "--formats", "csv,json", "--top-k", "0", "--out", out)
    assert done.returncode == 0, done.stderr
    header = (out / "metrics.csv").read_text().splitlines()[0]
    assert "top1_row" not in header
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["top_k"] == 0 and "--top-k" in manifest["command"]["argv"]
    assert FigureSetOptions().top_k == 3


def test_columns_font_size_and_title_shape_the_sheet_and_are_reproduced(tmp_path):
    plain, wrapped = tmp_path / "plain", tmp_path / "wrapped"
    assert run_export("example:mirror", "--formats", "png", "--width", "800", "--columns", "8",
                      "--out", plain).returncode == 0
    done = run_export("example:mirror", "--formats", "png,svg", "--width", "800", "--columns",
                      "4", "--font-size", "15", "--title", "Coffee, mirrored", "--out", wrapped)
    assert done.returncode == 0, done.stderr
    one_band = cv2.imread(str(plain / "sheet.png"))
    two_bands = cv2.imread(str(wrapped / "sheet.png"))
    assert one_band.shape[1] == two_bands.shape[1] == 800
    # 8 stages in bands of 4: twice the rows, each twice as wide, so about 4x as tall
    assert two_bands.shape[0] > 3 * one_band.shape[0]
    svg = (wrapped / "sheet.svg").read_text(encoding="utf-8")
    assert "<title>Coffee, mirrored</title>" in svg and "Coffee, mirrored</text>" in svg
    assert "font-size=\"15\"" in svg or "font-size:15" in svg or "15px" in svg
    manifest = json.loads((wrapped / "manifest.json").read_text())
    argv = manifest["command"]["argv"]
    for flag, value in (("--columns", "4"), ("--font-size", "15"),
                        ("--title", "Coffee, mirrored")):
        assert argv[argv.index(flag) + 1] == value
    assert run_export("example:mirror", "--columns", "0", "--out", tmp_path / "x").returncode == 2


def test_panel_width_and_dpi_give_the_sheet_its_size(tmp_path):
    out = tmp_path / "set"
    done = run_export("example:mirror", "--formats", "png,pdf", "--panel-width", "300",
                      "--dpi", "300", "--out", out)
    assert done.returncode == 0, done.stderr
    png = (out / "sheet.png").read_bytes()
    width = int.from_bytes(png[16:20], "big")
    assert 8 * 300 < width < 8 * 300 * 1.25  # eight stages of at least 300 px, labels, margins
    at = png.index(b"pHYs")
    assert int.from_bytes(png[at + 4:at + 8], "big") == round(300 / 0.0254)  # 11811 px/m
    assert png[at + 12] == 1  # unit: metre
    pdf = (out / "sheet.pdf").read_bytes()
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert abs(float(box.group(1)) - width * 72 / 300) < 0.5  # width/300 inches
    wide = run_export("example:mirror", "--panel-width", "600", "--out", tmp_path / "wide")
    assert wide.returncode == 1 and "more than 4000" in wide.stderr
    assert not (tmp_path / "wide").exists()


def test_the_mp4_is_h264_yuv420p_and_reads_back_frame_by_frame(tmp_path):
    out = tmp_path / "set"
    done = run_export("example:pixel", "--animate-shifts", "5", "--formats", "png",
                      "--width", "300", "--out", out)
    assert done.returncode == 0, done.stderr
    with av.open(str(out / "sweep.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert sum(1 for _ in container.decode(stream)) == 6
    capture = cv2.VideoCapture(str(out / "sweep.mp4"))  # another decoder reads it too
    assert capture.read()[0]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["animation"]["mp4_codec"] == "h264"


def test_without_pyav_the_mp4_falls_back_with_a_one_line_note(qapp, tmp_path, monkeypatch,
                                                              capsys):
    monkeypatch.setattr(figures.video, "av", None)
    out = tmp_path / "set"
    assert cli.main(["example:pixel", "--animate-shifts", "2", "--formats", "png",
                     "--width", "300", "--quiet", "--out", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("shiftlab export: note: PyAV is not installed")
    assert "so sweep.mp4 is MPEG-4" in err[0]  # the note names the file it is about
    capture = cv2.VideoCapture(str(out / "sweep.mp4"))
    fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode()
    assert fourcc in ("mp4v", "FMP4")  # MPEG-4 Part 2, as OpenCV names it on reading
    assert json.loads((out / "manifest.json").read_text())["animation"]["mp4_codec"] == "mp4v"


def test_gif_frames_keep_flat_colours_flat_no_dithering(tmp_path):
    # a frame like a sheet: white ground, flat viridis cells, a smooth ramp, thin text lines
    viridis = VIRIDIS_LUT.view(np.uint8).reshape(256, 4)[:, :3]
    frame = np.full((120, 256, 3), 255, np.uint8)
    for k in range(8):
        frame[10:50, k * 32:(k + 1) * 32] = viridis[k * 36][::-1]  # flat cells (BGR)
    frame[60:100] = viridis[None, :, ::-1]  # a ramp through the whole map
    frame[105:107, 20:200] = (32, 32, 32)  # a line of text colour
    write_gif(tmp_path / "a.gif", [frame, frame[:, ::-1].copy()], 2)
    ok, animation = cv2.imreadanimation(str(tmp_path / "a.gif"))
    assert ok and len(animation.frames) == 2
    back = animation.frames[0][:, :, :3].astype(int)
    cells = back[10:50]
    for k in range(8):  # every flat cell decodes to one colour, its own
        block = cells[:, k * 32:(k + 1) * 32].reshape(-1, 3)
        assert len(np.unique(block, axis=0)) == 1
        assert np.abs(block[0] - viridis[k * 36][::-1]).max() <= 4
    assert (back[:10] == 255).all() and (back[105:107, 20:200] == 32).all()
    assert np.abs(back[60:100] - frame[60:100]).max() <= 8  # the ramp: no noise, small steps
    # no colour the frame does not hold: the palette is the frame's own colours
    drawn = {tuple(c) for c in frame.reshape(-1, 3)}
    assert {tuple(c) for c in back.reshape(-1, 3)} <= drawn


def test_a_real_sweep_gif_matches_its_video_without_dithering_noise(tmp_path):
    out = tmp_path / "set"
    done = run_export("example:mirror", "--animate-shifts", "2", "--formats", "png",
                      "--width", "600", "--out", out)
    assert done.returncode == 0, done.stderr
    ok, animation = cv2.imreadanimation(str(out / "sweep.gif"))
    assert ok and len(animation.frames) == 3
    with av.open(str(out / "sweep.mp4")) as container:  # the same frames, lossy but close
        first = next(container.decode(video=0)).to_ndarray(format="bgr24").astype(int)
    gif = animation.frames[0][:, :, :3].astype(int)
    assert gif.shape == first.shape
    assert np.abs(gif - first).mean() < 6  # no dithering noise beyond the video's own loss


def test_colour_bars_shared_levels_and_metrics_on_the_sheet(qapp, tmp_path):
    job = ExportJob(example_state("pixel"))
    data = compute_figure_data(job, 3)
    own = figure_panels(data)
    shared = figure_panels(data, levels_shared=True)
    features = [n for n in own["A"] if n != "input"]
    assert len({shared["A"][n].levels for n in features}) == 1
    assert own["A-B"]["pool 1"].scale() == (-1.0, 1.0)  # centred on zero
    rows = figure_set.sheet_rows(data, own, metrics=True)
    notes = [p.note for p in rows[1].panels]
    assert notes[0].splitlines()[1:] == ["peak (5, 5) cells", "= (5, 5) input px"]
    assert notes[2].splitlines()[1:] == ["peak (1, 1) cells", "= (4, 4) input px"]
    assert all(p.note == "" for r in (rows[0], rows[2]) for p in r.panels)
    plain = figures.drawing.sheet_drawing(rows[:1], 800)
    barred = figures.drawing.sheet_drawing(rows[:1], 800, colorbars=True)
    assert barred.height > plain.height
    out = tmp_path / "set"
    done = run_export("example:pixel", "--metrics-on-sheet", "--levels-shared",
                      "--formats", "svg,json", "--out", out)
    assert done.returncode == 0, done.stderr
    svg = (out / "sheet.svg").read_text(encoding="utf-8")
    assert "= (4, 4) input px" in svg and "error n/a" in svg
    assert "n/a: another image" in svg  # the table under the sheet says why
    argv = json.loads((out / "manifest.json").read_text())["command"]["argv"]
    assert "--metrics-on-sheet" in argv and "--levels-shared" in argv


def test_scaled_panels_sit_where_the_window_puts_them_with_the_receptive_field(qapp):
    data = compute_figure_data(ExportJob(example_state("pixel")), 3)
    panels = figure_panels(data, scale_panels=True)
    a = data.results["A"]
    for name, panel in panels["A"].items():
        assert panel.place == a[name].display_rect() and panel.extent == (10, 10)
    # the deepest maximum, pool 3's only cell, reads input rows and columns 0..7
    assert panels["A"]["input"].field == a["pool 3"].receptive_field(0, 0) == (0, 0, 8, 8)
    assert panels["A"]["pool 1"].field is None
    # drawn: pool 2 (2x2 cells of 4 px) covers 8/10 of the input's width from its left edge
    box = figures.drawing.QRectF(0, 0, 200, 200)
    x0, y0, w, h, scale, origin = figures.drawing._picture_rect(panels["A"]["pool 2"], box)
    assert (x0, y0, w, h) == (0, 0, 160, 160) and scale == 20.0
    flat = figure_panels(data)["A"]["pool 2"]
    assert figures.drawing._picture_rect(flat, box)[2:4] == (200, 200)


def _colour_fraction(rgba: np.ndarray, colour, tol: int = 30) -> float:
    return float(np.all(np.abs(rgba[:, :, :3].astype(int) - colour) <= tol, axis=2).mean())


def test_the_sheet_draws_the_field_window_style_markers_and_a_legend(qapp):
    data = compute_figure_data(ExportJob(example_state("pixel")), 3)
    scaled = figure_set.sheet_rows(data, figure_panels(data, scale_panels=True))
    flat = figure_set.sheet_rows(data, figure_panels(data))
    draw = figures.drawing
    green = (0x3d, 0xdc, 0x84)
    with_field = draw.qimage_to_rgba(draw.render(draw.sheet_drawing(scaled, 800, "c")))
    without = draw.qimage_to_rgba(draw.render(draw.sheet_drawing(flat, 800, "c")))
    assert _colour_fraction(with_field, green) > 0.001 > _colour_fraction(without, green)
    legend = with_field[:40, 560:]  # the caption line's right end holds the legend
    assert _colour_fraction(legend, (0xff, 0x2d, 0x55), 40) > 0  # the red box
    assert _colour_fraction(legend, (0xff, 0xb0, 0x00), 40) > 0  # the orange ring
    nomarks = figure_set.sheet_rows(data, figure_panels(compute_figure_data(
        ExportJob(example_state("pixel")), 0)))
    plain = draw.qimage_to_rgba(draw.render(draw.sheet_drawing(nomarks, 800, "c")))
    assert _colour_fraction(plain[:40, 560:], (0xff, 0x2d, 0x55), 40) == 0  # no legend


def test_sweeps_go_along_y_or_the_diagonal_in_either_mode_with_either_border(tmp_path):
    out = tmp_path / "set"
    done = run_export("example:pixel", "--animate-shifts", "6", "--sweep-axis", "diagonal",
                      "--sweep-mode", "cells", "--sweep-no-wrap", "--formats", "csv,json",
                      "--width", "300", "--out", out)
    assert done.returncode == 0, done.stderr
    lines = (out / "sweep.csv").read_text().splitlines()
    assert lines[0] == "shift_diagonal,input,pool 1,pool 2,pool 3"
    a, _ = load_example("pixel")


    reference = shift_sweep(a, EXAMPLES["pixel"].spec, range(7), axis="diagonal", wrap=False,
                            align=True)
    for line, row in zip(lines[1:], reference, strict=True):
        cells = line.split(",")[1:]
        for text, value in zip(cells, row, strict=True):
            assert (text == "n/a") if np.isnan(value) else float(text) == value
    manifest = json.loads((out / "manifest.json").read_text())
    animation = manifest["animation"]
    assert (animation["axis"], animation["aligned"], animation["wrap"]) == ("diagonal", True,
                                                                            False)
    argv = manifest["command"]["argv"]
    assert argv[argv.index("--sweep-axis") + 1] == "diagonal" and "--sweep-no-wrap" in argv
    with av.open(str(out / "sweep.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == 7


def test_a_narrow_sheet_wraps_its_stages_so_every_title_is_readable(qapp):
    data = compute_figure_data(ExportJob(example_state("mirror")), 3)
    rows = figure_set.sheet_rows(data)
    narrow = figures.drawing.sheet_drawing(rows, 600, "caption")
    assert figures.drawing.auto_columns(rows, 600) == 4
    assert narrow.height > figures.drawing.sheet_drawing(rows, 600, "caption", columns=8).height
    # every title fits at a readable size: no elision at the size the layout gives
    layout = figures.drawing._sheet_layout(figures.drawing.wrap_rows(rows, 4), 600, "caption")
    font = figures.drawing.text_font(layout.font_px)
    metrics = figures.drawing.QFontMetricsF(font)
    titles = [p.title for r in rows for p in r.panels if p is not None]
    assert layout.font_px >= 10
    assert max(metrics.horizontalAdvance(t) for t in titles) <= layout.cell_w


def test_the_preview_and_copy_figure_draw_exactly_the_sets_sheet(qapp, tmp_path):
    options = FigureSetOptions(formats=("png",), width=500, metrics_on_sheet=True,
                               scale_panels=True, columns=2, font_size=12)
    job = ExportJob(example_state("pixel"))
    out = figure_set.write_figure_set(tmp_path / "set", job, options)
    written = cv2.imread(str(out / "sheet.png"))
    preview = figures.drawing.qimage_to_bgr(figure_set.sheet_image(job, options))
    np.testing.assert_array_equal(preview, written)


def test_metrics_on_sheet_adds_a_table_of_every_compared_stage(qapp):
    data = compute_figure_data(ExportJob(example_state("shift")), 3)
    table = figure_set.metrics_table(data)
    assert table[0] == ["stage", "distance", "peak moved (cells)", "(input px)",
                        "equivariance error"]
    by_stage = {line[0]: line for line in table[1:]}
    assert by_stage["conv"][4] == f"{data.comparisons[1].equivariance_error:.4f}" == "0.1084"
    assert by_stage["pool 1"][4] == "n/a: shift not a multiple of S = 2"
    plain = figure_set.sheet_drawing_for(data, FigureSetOptions())
    with_table = figure_set.sheet_drawing_for(data, FigureSetOptions(metrics_on_sheet=True))
    assert with_table.height > plain.height + len(table) * 10
    assert figure_set.metrics_table(compute_figure_data(ExportJob(ViewState(
        InputImage(np.eye(8, dtype=np.float32)))), 3)) is None


def test_every_sheet_flag_reaches_the_options_and_the_reproducing_command(tmp_path):
    out = tmp_path / "set"
    done = run_export("example:mirror", "--scale-panels", "--no-colorbars", "--diff-markers",
                      "--levels-shared", "--top-k", "2", "--formats", "json", "--out", out)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    options = manifest["options"]
    assert (options["scale_panels"], options["colorbars"], options["diff_markers"],
            options["levels_shared"], options["top_k"]) == (True, False, True, True, 2)
    again = tmp_path / "again"
    argv = manifest["command"]["argv"]
    argv[argv.index("--out") + 1] = str(again)
    assert run_export(*argv[2:]).returncode == 0  # "shiftlab export" is argv[:2]
    assert json.loads((again / "manifest.json").read_text())["options"] == options
