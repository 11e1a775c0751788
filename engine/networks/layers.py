"""A network's layers as panels: maps placed over the input, maxima, receptive fields, hover.

A panel shows one ``(C, H, W)`` activation that has a :class:`MapGeometry` with a whole
stride on both axes. Everything a viewer draws or reads on hover is here, computed once:
the map of every channel and the maximum over channels (with the channel that wins each
cell), the channels in the order asked (by their largest activation or by index), the
largest cells of the whole layer with the receptive field of the first, where the map
lies over the input in input pixels, and which cells of another panel relate to a cell.

Which layers are shown by default (:func:`default_layers`): the end of every
*downsampling stage* and the last map. A stage is the run of layers computed at one
stride (input pixels per cell, from :class:`MapGeometry`); a downsampling stage is one
with a stride above 1. Its end is its last layer in graph order that computes values
(not a Slice, Pad, Concat or other copy of cells, which padding written out as slices
produces), so a ResNet's stages give their block outputs and the digit networks the
maps after each pooling step's convolution and ReLU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .._checks import choice, positive_int
from ..maxima import find_maxima, maxima_unchecked
from .geometry import MapGeometry
from .model import Network, NetworkResult

__all__ = ["CHANNEL_ORDERS", "CellValue", "LayerPanel", "default_layers", "layer_panels",
           "panel_layers", "short_name"]

#: How a layer's channels are ordered: by their largest activation (largest first) or
#: by index.
CHANNEL_ORDERS = ("activation", "index")
# Operators that only copy or rearrange cells: a stage does not end on them.
_COPY_OPS = frozenset(("Slice", "Pad", "Concat", "Split", "Gather", "Reshape", "Transpose",
                       "Identity", "Squeeze", "Unsqueeze", "Tile", "Expand", "Cast"))


def short_name(name: str) -> str:
    """A layer's ONNX tensor name shortened for a title.

    >>> short_name("/features/features.3/MaxPool_output_0")
    'features.3/MaxPool'
    """
    text = name.strip("/")
    if text.endswith("_output_0"):
        text = text[: -len("_output_0")]
    parts = text.split("/")
    if len(parts) > 2 and parts[1].startswith(parts[0]):
        parts = parts[1:]  # "/features/features.3/..." says "features" twice
    return "/".join(parts)


def panel_layers(result: NetworkResult) -> tuple[str, ...]:
    """Every layer that can be a panel: a ``(C, H, W)`` map whose geometry has a whole
    stride on both axes, in graph order."""
    return tuple(name for name, arr in result.activations.items()
                 if arr.ndim == 3 and _geometry(result, name) is not None)


def _geometry(result: NetworkResult, name: str) -> MapGeometry | None:
    g = result.geometry.get(name)
    if g is None or None in g.stride or None in g.extent:
        return None
    return g


def default_layers(network: Network, result: NetworkResult) -> tuple[str, ...]:
    """The end of every downsampling stage and the last map (see the module notes).

    Parameters
    ----------
    network : Network
    result : NetworkResult
        A run of `network` (the geometry depends on the input's size).

    Returns
    -------
    tuple of str
        Layer names in graph order; empty when no layer can be a panel.

    Examples
    --------
    >>> from engine import NETWORKS
    >>> net = NETWORKS["digits-max"]
    >>> r = net.run(np.zeros((28, 28), np.float32))
    >>> [(short_name(n), r.activations[n].shape) for n in default_layers(net, r)]
    [('features.6/Relu', (32, 14, 14)), ('features.10/Relu', (64, 7, 7))]
    """
    ops = {out: node.op_type for node in network._nodes for out in node.output}
    candidates = panel_layers(result)
    ends: dict[tuple[int, int], str] = {}
    for name in candidates:
        if ops.get(name) not in _COPY_OPS:
            ends[result.geometry[name].stride] = name  # the last one at that stride wins
    chosen = {name for stride, name in ends.items() if max(stride) > 1}
    if candidates:
        chosen.add(candidates[-1])
    return tuple(n for n in candidates if n in chosen)


@dataclass(frozen=True)
class CellValue:
    """What a hover over a panel reads: the layer, the channel, the cell and its value."""

    layer: str
    channel: int
    row: int
    col: int
    value: float


@dataclass(frozen=True, eq=False)
class LayerPanel:
    """One layer of a run, ready to draw (see the module notes).

    Attributes
    ----------
    name : str
        The ONNX tensor name.
    title : str
        ``"features.3/MaxPool (16, 14, 14)"``.
    activations : (C, H, W) float32 array, read-only
    channel_max : (H, W) float32 array, read-only
        The maximum over channels ("max over channels" view).
    argmax_channel : (H, W) int array, read-only
        The channel that gives each cell of `channel_max`.
    geometry : MapGeometry
    rect : (x, y, width, height)
        Where the map lies over the input, in input pixels: each cell a stride-sized
        square centred on its receptive field (as the pipeline's stages are placed).
    input_shape : (int, int)
        The network input's ``(H, W)``.
    order : tuple of int
        The channels in the order asked (:data:`CHANNEL_ORDERS`).
    channel_peaks : (C,) float32 array, read-only
        The largest value of each channel.
    channel_lows : (C,) float32 array, read-only
        The smallest value of each channel (with `channel_peaks`: each thumbnail's
        colour range).
    channel_peak_cells : (C, 2) int array, read-only
        ``(row, col)`` of each channel's largest cell (first in row-major order).
    maxima : tuple of (channel, row, col, value)
        The layer's largest cells, largest first (ties in index order).
    max_maxima : tuple of (row, col, value)
        The largest cells of the maximum over channels, as many as `maxima`.
    peak_field : (top, left, bottom, right)
        The half-open receptive field, in input pixels, of the largest cell.
    """

    name: str
    title: str
    activations: np.ndarray = field(repr=False)
    channel_max: np.ndarray = field(repr=False)
    argmax_channel: np.ndarray = field(repr=False)
    geometry: MapGeometry = field(repr=False)
    rect: tuple[float, float, float, float]
    input_shape: tuple[int, int]
    order: tuple[int, ...] = field(repr=False)
    channel_peaks: np.ndarray = field(repr=False)
    channel_lows: np.ndarray = field(repr=False)
    channel_peak_cells: np.ndarray = field(repr=False)
    maxima: tuple[tuple[int, int, int, float], ...]
    max_maxima: tuple[tuple[int, int, float], ...]
    peak_field: tuple[int, int, int, int]

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``."""
        return self.activations.shape

    @property
    def stride(self) -> tuple[int, int]:
        """Input pixels from one cell to the next, ``(rows, cols)``."""
        return self.geometry.stride

    def channel_map(self, channel: int | None = None) -> np.ndarray:
        """The ``(H, W)`` map of `channel`, or the maximum over channels for None.

        Raises
        ------
        ValueError
            For a channel outside ``0 .. C-1``.
        """
        if channel is None:
            return self.channel_max
        self._check_channel(channel)
        return self.activations[channel]

    def map_maxima(self, channel: int | None = None, count: int = 3
                   ) -> list[tuple[int, int, float]]:
        """The `count` largest cells ``(row, col, value)`` of :meth:`channel_map`: read
        from the panel for the maximum over channels (up to as many as it keeps) and for
        one channel's largest cell; found otherwise."""
        if channel is None and count <= len(self.max_maxima):
            return list(self.max_maxima[:count])
        if channel is not None and count == 1:
            self._check_channel(channel)
            r, c = (int(v) for v in self.channel_peak_cells[channel])
            return [(r, c, float(self.channel_peaks[channel]))]
        return find_maxima(self.channel_map(channel), count)

    def _check_channel(self, channel: int) -> None:
        c = self.shape[0]
        if isinstance(channel, bool) or not isinstance(channel, (int, np.integer)) \
                or not 0 <= channel < c:
            raise ValueError(f"channel must be an integer within 0..{c - 1} for layer "
                             f"{self.name!r}; got {channel!r}.")

    def value_at(self, row: int, col: int, channel: int | None = None) -> CellValue:
        """The hover reading of cell (row, col): of `channel`, or for None of the channel
        that gives the maximum there.

        Raises
        ------
        ValueError
            For a cell outside the map or a bad channel.
        """
        h, w = self.shape[1:]
        if not (0 <= row < h and 0 <= col < w):
            raise ValueError(f"cell ({row}, {col}) is outside layer {self.name!r} of "
                             f"{h}x{w} cells.")
        if channel is None:
            channel = int(self.argmax_channel[row, col])
        self._check_channel(channel)
        return CellValue(self.name, int(channel), int(row), int(col),
                         float(self.activations[channel, row, col]))

    def cell_at(self, y: float, x: float) -> tuple[int, int] | None:
        """The cell drawn at input pixel position (y, x) (continuous coordinates), or None
        outside the map."""
        x0, y0, _, _ = self.rect
        sy, sx = self.stride
        row, col = int(np.floor((y - y0) / sy)), int(np.floor((x - x0) / sx))
        h, w = self.shape[1:]
        return (row, col) if 0 <= row < h and 0 <= col < w else None

    def cell_centre(self, row: int, col: int) -> tuple[float, float]:
        """``(y, x)`` in input pixels of the centre of cell (row, col) as drawn."""
        x0, y0, _, _ = self.rect
        sy, sx = self.stride
        return y0 + (row + 0.5) * sy, x0 + (col + 0.5) * sx

    def receptive_field(self, row: int, col: int) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)``: the input pixels cell (row, col) can depend on."""
        return self.geometry.receptive_field(row, col)

    def related_cells(self, row: int, col: int, other: LayerPanel
                      ) -> tuple[int, int, int, int] | None:
        """The cells of `other` related to cell (row, col) of this panel, as a half-open
        rectangle ``(r0, c0, r1, c1)`` of `other`'s cells, or None when none is.

        For a layer as deep or deeper (a stride at least this one's): the cells whose
        receptive field holds this cell's centre, i.e. that read it. For a shallower
        layer: the cells whose centre lies in this cell's receptive field, i.e. that it
        reads. Receptive fields are taken before clipping and wrapping (a cell on a
        border of a network with circular padding reads the far side too, which would
        relate it to every cell), so near a border fewer cells are related.

        Raises
        ------
        ValueError
            For a cell outside this map.
        """
        h, w = self.shape[1:]
        if not (0 <= row < h and 0 <= col < w):
            raise ValueError(f"cell ({row}, {col}) is outside layer {self.name!r} of "
                             f"{h}x{w} cells.")
        if min(other.stride) >= min(self.stride):
            cy, cx = self.cell_centre(row, col)
            lo_y, lo_x = other._nominal_starts()
            ey, ex = other.geometry.extent
            rows = np.flatnonzero((lo_y <= cy) & (cy < lo_y + ey))
            cols = np.flatnonzero((lo_x <= cx) & (cx < lo_x + ex))
        else:
            (lo_y, lo_x), (ey, ex) = self._nominal_starts(), self.geometry.extent
            top, left = lo_y[row], lo_x[col]
            h, w = other.shape[1:]
            cy, cx = other.cell_centre(np.arange(h), np.arange(w))
            rows = np.flatnonzero((cy >= top) & (cy < top + ey))
            cols = np.flatnonzero((cx >= left) & (cx < left + ex))
        if not len(rows) or not len(cols):
            return None
        return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1

    def _nominal_starts(self) -> tuple[np.ndarray, np.ndarray]:
        """Each row's and column's receptive field start before clipping, in input pixels."""
        x0, y0, _, _ = self.rect
        (sy, sx), (ey, ex) = self.stride, self.geometry.extent
        h, w = self.shape[1:]
        return (y0 - (ey - sy) / 2 + np.arange(h) * sy,
                x0 - (ex - sx) / 2 + np.arange(w) * sx)


def _offset(spans: np.ndarray, stride: int, extent: int, n_in: int) -> float:
    """Where cell 0's receptive field starts before clipping: from a cell that is not
    clipped, else (a field larger than the input) centring the map over the input."""
    whole = np.flatnonzero(spans[:, 1] - spans[:, 0] == extent)
    if len(whole):
        i = int(whole[len(whole) // 2])
        return float(spans[i, 0] - i * stride)
    return (n_in - (len(spans) - 1) * stride - extent) / 2


def _rect(g: MapGeometry, input_shape: tuple[int, int]) -> tuple[float, float, float, float]:
    (sy, sx), (ey, ex) = g.stride, g.extent
    y0 = _offset(g.rows, sy, ey, input_shape[0]) + (ey - sy) / 2
    x0 = _offset(g.cols, sx, ex, input_shape[1]) + (ex - sx) / 2
    return x0, y0, len(g.cols) * sx, len(g.rows) * sy


def _top_cells(acts: np.ndarray, peaks: np.ndarray, count: int
               ) -> tuple[tuple[int, int, int, float], ...]:
    """The `count` largest cells ``(channel, row, col, value)`` of a ``(C, H, W)`` map,
    largest first, ties in index order. Only channels whose peak reaches the count-th
    largest peak can hold one (any other cell has at least `count` cells above it), so
    only those are searched."""
    count = min(count, acts.size)
    kth = np.sort(peaks)[::-1][min(count, len(peaks)) - 1]
    cells = []
    for c in np.flatnonzero(peaks >= kth):
        cells += [(v, int(c), r, col) for r, col, v in maxima_unchecked(acts[c], count)]
    cells.sort(key=lambda t: (-t[0], t[1], t[2], t[3]))
    return tuple((c, r, col, v) for v, c, r, col in cells[:count])


def _frozen(arr: np.ndarray, dtype=np.float32) -> np.ndarray:
    """`arr` as a read-only C-contiguous array: a view when it already is one (no copy)."""
    out = np.ascontiguousarray(arr, dtype=dtype).view()
    out.setflags(write=False)
    return out


def layer_panels(result: NetworkResult, names: Sequence[str], input_shape: tuple[int, int],
                 *, order: str = "activation", top_k: int = 3) -> tuple[LayerPanel, ...]:
    """Make the panels of layers `names` of a run.

    Parameters
    ----------
    result : NetworkResult
    names : sequence of str
        Layers of :func:`panel_layers`, in the order to show them.
    input_shape : (int, int)
        The network input's ``(H, W)``.
    order : {"activation", "index"}
        The channel order (:attr:`LayerPanel.order`).
    top_k : int
        Largest cells kept per layer.

    Returns
    -------
    tuple of LayerPanel

    Raises
    ------
    ValueError
        For an unknown layer, or one that cannot be a panel (not a map, or no whole
        stride); the message lists the layers that can.
    """
    choice(order, "channel order", CHANNEL_ORDERS)
    top_k = positive_int(top_k, "top_k")
    usable = panel_layers(result)
    panels = []
    for name in names:
        if name not in usable:
            what = "is not a layer of this network" if name not in result.activations \
                else "has no map with a whole stride to place over the input"
            raise ValueError(f"layer {name!r} {what}; choose from: "
                             f"{', '.join(usable) or 'none'}.")
        acts = _frozen(result.activations[name])
        g = result.geometry[name]
        flat = acts.reshape(acts.shape[0], -1)
        # each maximum is read at its argmax: one pass over the map for both
        peak_at = flat.argmax(axis=1)
        peaks = _frozen(flat[np.arange(flat.shape[0]), peak_at])
        peak_cells = _frozen(np.stack(np.unravel_index(peak_at, acts.shape[1:]), axis=1),
                             np.int64)
        argmax_channel = acts.argmax(axis=0)
        channel_max = _frozen(np.take_along_axis(acts, argmax_channel[None], axis=0)[0])
        channel_order = (np.argsort(-peaks, kind="stable") if order == "activation"
                         else np.arange(acts.shape[0]))
        maxima = _top_cells(acts, peaks, top_k)
        _, row, col, _ = maxima[0]
        panels.append(LayerPanel(
            name=name, title=f"{short_name(name)} {tuple(acts.shape)}", activations=acts,
            channel_max=channel_max,
            argmax_channel=_frozen(argmax_channel, np.int64), geometry=g,
            rect=_rect(g, input_shape), input_shape=tuple(int(v) for v in input_shape),
            order=tuple(int(c) for c in channel_order), channel_peaks=peaks,
            channel_lows=_frozen(flat.min(axis=1)), channel_peak_cells=peak_cells,
            maxima=maxima, max_maxima=tuple(maxima_unchecked(channel_max, top_k)),
            peak_field=g.receptive_field(row, col)))
    return tuple(panels)

