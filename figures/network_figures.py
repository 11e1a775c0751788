"""Figures of a network run: its layers as panels, the probability bar chart and the shift
map, drawn with :mod:`figures.drawing`'s building blocks from what the engine computed
(:class:`engine.networks.NetworkRun`); nothing is computed here.

Colours of the shift map: with at most ten classes each class keeps one colour
(``CLASS_COLORS[class]``: the plots' ten colours with a gold for their grey), so maps of
several networks read alike; with more, colours go to the classes in the legend's order
(most frequent first) and the rest share grey.
Each cell is its colour blended with white by the top-1 probability (pale: unsure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPen

from engine.networks import LayerPanel, NetworkRun, NetworkView, ShiftMap
from figures import drawing as draw
from figures.drawing import Canvas, Drawing, Panel, SheetRow

__all__ = ["CLASS_COLORS", "class_colour", "layer_frame", "layer_panel", "network_caption",
           "network_record", "network_sheet_rows", "probability_drawing", "probability_rows",
           "shift_map_colours", "shift_map_drawing", "shift_map_rows"]

OTHER_CLASSES = QColor(150, 150, 150)
BAR_COLOUR = QColor(draw.PLOT_COLORS[0])
#: One colour per class on a shift map; grey is kept for "other classes".
CLASS_COLORS = tuple("#a6761d" if c == "#7f7f7f" else c for c in draw.PLOT_COLORS)
#: Legend entries of a shift map at most (the rest are "other classes").
MAX_LEGEND = len(CLASS_COLORS)


def layer_frame(panels: Sequence[LayerPanel]) -> tuple[float, float, float, float]:
    """``(top, left, bottom, right)`` in input pixels holding the input and every panel:
    a map whose cells are centred on their receptive fields can reach past the input (a
    ResNet's stride-8 stage starts 4.5 pixels before it), and layers drawn in one frame
    stay aligned."""
    h, w = panels[0].input_shape
    top, left, bottom, right = 0.0, 0.0, float(h), float(w)
    for p in panels:
        x, y, pw, ph = p.rect
        top, left = min(top, y), min(left, x)
        bottom, right = max(bottom, y + ph), max(right, x + pw)
    return top, left, bottom, right


def layer_panel(panel: LayerPanel, top_k: int = 3, *,
                levels: tuple[float, float] | None = None,
                frame: tuple[float, float, float, float] | None = None) -> Panel:
    """A layer drawn as the window draws it: the maximum over channels at its place over
    the input (in `frame`, by default :func:`layer_frame` of this panel), its largest
    cells marked and the largest one's receptive field outlined."""
    top, left, bottom, right = layer_frame([panel]) if frame is None else frame
    maxima = panel.map_maxima(None, top_k) if top_k else []
    x, y, w, h = panel.rect
    f_top, f_left, f_bottom, f_right = panel.peak_field
    return Panel(panel.title, panel.channel_max, maxima, "viridis", levels,
                 place=(x - left, y - top, w, h), extent=(bottom - top, right - left),
                 field=(f_top - top, f_left - left, f_bottom - top, f_right - left))


def _answer(view: NetworkView) -> str:
    if view.top1 is None:
        return "no classes"
    return f"top-1 {view.top1_label} ({view.top1_probability:.2f})"


def network_caption(run: NetworkRun) -> str:
    """The sheet's caption: network, how the input was made, and the answers."""
    text = f"{run.choice.label} | {run.a.prepared.note} | A: {_answer(run.a)}"
    if run.b is not None:
        text += f" | B: {_answer(run.b)}"
    return text


def network_sheet_rows(run: NetworkRun, top_k: int = 3) -> list[SheetRow]:
    """Rows of the sheet: A's layers, then B's and A - B while comparing (A and B share
    each layer's colour range)."""
    rows_views = [("A", run.a)] + ([("B", run.b)] if run.b is not None else [])
    levels = {}
    for name in run.a.layer_names:
        maps = [v.panel(name).channel_max for _, v in rows_views]
        levels[name] = (min(float(m.min()) for m in maps), max(float(m.max()) for m in maps))
    frame = layer_frame([p for _, v in rows_views for p in v.panels])
    rows = [SheetRow(label, [layer_panel(view.panel(n), top_k, levels=levels[n], frame=frame)
                             for n in run.a.layer_names]) for label, view in rows_views]
    if run.comparison is not None:
        diffs = run.comparison.differences
        cells = [replace(layer_panel(run.a.panel(n), 0, frame=frame), title=str(diffs[n].shape),
                         array=diffs[n], colormap="diverging", field=None)
                 if n in diffs else None for n in run.a.layer_names]
        rows.append(SheetRow("A\u2212B", cells))
    return rows


# ----------------------------------------------------------------------- the bar chart


def probability_rows(view: NetworkView) -> tuple[list[str], list[list[object]]]:
    """CSV columns and rows of the probabilities: every class, in index order."""
    p = view.probabilities
    if p is None:
        return ["class", "label", "probability", "top1"], []
    labels = [b.label for b in view.bars(len(p))]
    return (["class", "label", "probability", "top1"],
            [[i, labels[i], float(p[i]), i == view.top1] for i in range(len(p))])


def probability_drawing(view: NetworkView, width: int, title: str | None = None) -> Drawing:
    """The probability bar chart `width` pixels wide: one horizontal bar per class (the
    ten most probable when there are more), the top-1 in the maximum's red, each with its
    probability written beside it.

    Raises
    ------
    ValueError
        If the network gives no probabilities.
    """
    bars = view.bars()
    if not bars:
        raise ValueError(f"network {view.network!r} gives no class probabilities to chart.")
    title = title or f"{view.network}: {_answer(view)}"
    font_px = max(10.0, width * 0.028)
    bar_h = font_px * 1.6
    top = font_px * 2.6
    height = round(top + bar_h * len(bars) + font_px * 1.2)

    def paint(canvas: Canvas) -> None:
        painter = canvas.painter
        draw.draw_text(painter, QRectF(0, 0, width, top), title, font_px * 1.1, bold=True)
        label_w, value_w = width * 0.25, width * 0.14
        area_x, area_w = label_w + font_px * 0.5, width - label_w - value_w - font_px
        painter.setPen(QPen(draw.TEXT_COLOR, 1.0))
        painter.drawLine(QPointF(area_x, top), QPointF(area_x, top + bar_h * len(bars)))
        for k, bar in enumerate(bars):
            y = top + k * bar_h
            draw.draw_text(painter, QRectF(0, y, label_w, bar_h), bar.label, font_px,
                            align=Qt.AlignmentFlag.AlignRight, bold=bar.top1)
            colour = draw.GLOBAL_MARK if bar.top1 else BAR_COLOUR
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRect(QRectF(area_x, y + bar_h * 0.15,
                                    max(1.0, area_w * bar.probability), bar_h * 0.7))
            draw.draw_text(painter, QRectF(width - value_w, y, value_w - font_px * 0.3,
                                            bar_h), f"{bar.probability:.3f}", font_px,
                            align=Qt.AlignmentFlag.AlignRight, bold=bar.top1)

    return Drawing(width, height, title, paint)


# ----------------------------------------------------------------------- the shift map


def class_colour(smap: ShiftMap, index: int) -> QColor:
    """The colour of class `index` on `smap` (see the module notes)."""
    return shift_map_colours(smap).get(index, OTHER_CLASSES)


def shift_map_colours(smap: ShiftMap) -> dict[int, QColor]:
    """Class -> colour for the classes that have one (see the module notes)."""
    k = smap.probabilities.shape[2]
    if k <= len(CLASS_COLORS):
        return {c: QColor(CLASS_COLORS[c]) for c in range(k)}
    return {c: QColor(CLASS_COLORS[i]) for i, c in enumerate(smap.classes[:MAX_LEGEND])}


def shade(colour: QColor, confidence: float) -> QColor:
    """`colour` blended towards white as `confidence` (0..1) falls: how sure a shift map's
    cell is."""
    c = float(np.clip(confidence, 0.0, 1.0))
    return QColor(*(round(255 + (v - 255) * c) for v in (colour.red(), colour.green(),
                                                         colour.blue())))


def shift_map_rows(smap: ShiftMap) -> tuple[list[str], list[list[object]]]:
    """CSV columns and rows of a shift map: one row per shift (dy, dx)."""
    rows = []
    for i, dy in enumerate(smap.shifts):
        for j, dx in enumerate(smap.shifts):
            c = int(smap.top1[i, j])
            rows.append([dy, dx, c, smap.label(c), float(smap.confidence[i, j])])
    return ["dy", "dx", "top1", "label", "probability"], rows


def shift_map_drawing(smap: ShiftMap, width: int, title: str = "", network: str = ""
                      ) -> Drawing:
    """The shift map `width` pixels wide: a grid of every shift (dx to the right, dy
    down), each cell coloured by its top-1 class and shaded by its probability, with the
    class and probability written in it, the unshifted cell outlined, and a legend of the
    classes with how many shifts give each; the title starts with `network` when given."""
    n = len(smap.shifts)
    font_px = max(10.0, width * 0.022)
    legend_w = width * 0.3
    margin = font_px * 2.4
    grid = min(width - legend_w - margin * 1.5, 60.0 * n)
    cell = grid / n
    top = font_px * 2.8 + margin * 0.6
    height = round(top + grid + font_px * 2.6)
    how = "circular" if smap.wrap else "zero fill"
    if network:  # a shorter title, so the name fits
        title = title or f"{network}: top-1 for each shift ({how}), {smap.changed} of " \
                         f"{n * n} differ from no shift"
    title = title or (f"Top-1 class for every shift ({how}): {smap.changed} of {n * n} "
                      "differ from the unshifted input")
    colours = shift_map_colours(smap)
    counts = {c: int(np.count_nonzero(smap.top1 == c)) for c in smap.classes}

    def paint(canvas: Canvas) -> None:
        painter = canvas.painter
        draw.draw_text(painter, QRectF(0, 0, width, font_px * 2.2), title, font_px * 1.05,
                        bold=True)
        x0, y0 = margin, top
        draw.draw_text(painter, QRectF(x0, y0 - margin * 0.95, grid, font_px * 1.3),
                        "dx (pixels, right)", font_px * 0.9)
        for k, s in enumerate(smap.shifts):
            draw.draw_text(painter, QRectF(x0 + k * cell, y0 - font_px * 1.3, cell,
                                            font_px * 1.2), str(s), font_px * 0.8)
            draw.draw_text(painter, QRectF(x0 - margin * 0.55, y0 + k * cell, margin * 0.5,
                                            cell), str(s), font_px * 0.8,
                            align=Qt.AlignmentFlag.AlignRight)
        draw.draw_text(painter, QRectF(0, y0 + grid + font_px * 0.4, x0 + grid, font_px * 1.4),
                        "dy (pixels, down) by row", font_px * 0.9)
        for i in range(n):
            for j in range(n):
                c = int(smap.top1[i, j])
                p = float(smap.confidence[i, j])
                rect = QRectF(x0 + j * cell, y0 + i * cell, cell, cell)
                fill = shade(colours.get(c, OTHER_CLASSES), p)
                painter.setPen(QPen(QColor(255, 255, 255), 1.0))
                painter.setBrush(fill)
                painter.drawRect(rect)
                ink = QColor(255, 255, 255) if fill.lightnessF() < 0.5 else draw.TEXT_COLOR
                draw.draw_text(painter, QRectF(rect.x() + 2, rect.y() + cell * 0.08,
                                                cell - 4, cell * 0.5), smap.label(c),
                                cell * 0.3, bold=True, color=ink)
                draw.draw_text(painter, QRectF(rect.x() + 2, rect.y() + cell * 0.52,
                                                cell - 4, cell * 0.4), f"{p:.2f}", cell * 0.22,
                                color=ink)
        r = smap.radius
        for colour, pen_w in ((draw.HALO, 4.0), (draw.GLOBAL_MARK, 2.0)):
            painter.setPen(QPen(colour, pen_w))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(x0 + r * cell, y0 + r * cell, cell, cell))
        lx = x0 + grid + margin * 0.8
        line_h = font_px * 1.6
        draw.draw_text(painter, QRectF(lx, y0, width - lx, line_h), "top-1 class (shifts)",
                        font_px, align=Qt.AlignmentFlag.AlignLeft, bold=True)
        shown = [c for c in smap.classes if c in colours][:MAX_LEGEND]
        rest = sum(counts[c] for c in smap.classes if c not in shown)
        entries = [(colours[c], f"{smap.label(c)} ({counts[c]})") for c in shown]
        if rest:
            entries.append((OTHER_CLASSES, f"other classes ({rest})"))
        entries.append((None, "pale: low probability"))
        entries.append((draw.GLOBAL_MARK, "outlined: no shift"))
        for k, (colour, text) in enumerate(entries):
            y = y0 + (k + 1) * line_h
            if colour is not None:
                painter.setPen(QPen(colour, 2.0) if text.startswith("outlined")
                               else Qt.PenStyle.NoPen)
                painter.setBrush(Qt.BrushStyle.NoBrush if text.startswith("outlined")
                                 else colour)
                painter.drawRect(QRectF(lx, y + line_h * 0.2, line_h * 0.6, line_h * 0.6))
            draw.draw_text(painter, QRectF(lx + line_h * 0.8, y, width - lx - line_h, line_h),
                            text, font_px * 0.9, align=Qt.AlignmentFlag.AlignLeft)

    return Drawing(width, height, title, paint)


# ----------------------------------------------------------------------- the record


def _view_record(view: NetworkView) -> dict:
    return {"top1": view.top1, "top1_label": view.top1_label,
            "top1_probability": view.top1_probability,
            "input": {"note": view.prepared.note, "shape": list(view.prepared.shape),
                      "source_shape": list(view.prepared.source_shape)}}


def network_record(run: NetworkRun, layer_files: Sequence[str] = ()) -> dict:
    """The network part of a figure set's manifest: which network (name, or file path and
    SHA-256) and settings, the layers shown with their shapes and strides, the answers of
    A and B, and the shift map's summary."""
    choice = run.choice
    record = {**choice.to_dict(), "label": choice.label,
              "mean": [float(v) for v in run.a.prepared.mean],
              "std": [float(v) for v in run.a.prepared.std],
              "shown_layers": [{"name": p.name, "shape": list(p.shape),
                                "stride": list(p.stride), "peak": list(p.maxima[0][:3]),
                                "peak_value": p.maxima[0][3],
                                "receptive_field": list(p.peak_field)} for p in run.a.panels],
              "labels": None if run.a.labels is None else list(run.a.labels),
              "A": _view_record(run.a), "files": list(layer_files)}
    if run.b is not None:
        record["B"] = _view_record(run.b)
        record["same_answer"] = run.comparison.same_answer
    if run.shift_map is not None:
        m = run.shift_map
        record["shift_map"] = {"shifts": list(m.shifts), "wrap": m.wrap, "changed": m.changed,
                               "classes": [m.label(c) for c in m.classes]}
    return record
