"""Which input channels make one cell of a network layer: a convolution split by channel.

A cell (channel ``c``, ``row``, ``col``) of a Conv node's output is the sum over the input
channels ``k`` of its group of ``sum(weight[c, k] * input[k, window])``, plus the bias.
:func:`explain_layer_cell` computes each channel's term from the model's own weights (read
from the ONNX file the :class:`~engine.networks.Network` was loaded from), ranks them by
size and checks that they add up to the value onnxruntime computed. A ReLU of a Conv is
explained through that Conv (one cell maps to one cell); any other layer is refused with
the reason.

>>> from engine import NETWORKS
>>> net = NETWORKS["digits-max"]
>>> x = np.zeros((1, 28, 28), np.float32); x[0, 4:24, 13:15] = 1   # a "1"
>>> r = net.run(x)
>>> e = explain_layer_cell(net, r, x, "/features/features.6/Relu_output_0", 0, 3, 3, top=3)
>>> e.conv, len(e.contributions), e.reproduces
('/features/features.4/Conv_output_0', 3, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import numpy_helper

from .geometry import node_attribute, padding_before
from .model import Network, NetworkResult

__all__ = ["ChannelContribution", "LayerCellExplanation", "LayerExplainError",
           "explain_layer_cell"]

#: Layers explained through the node before them: a cell of them is one cell of it.
_ONE_TO_ONE = ("Relu", "Identity")

class LayerExplainError(ValueError):
    """A layer cell cannot be split into input channels; the message says which and why."""


@dataclass(frozen=True)
class ChannelContribution:
    """One input channel's part of a convolution cell.

    Attributes
    ----------
    channel : int
        The input channel (of the Conv's whole input, not of its group).
    contribution : float
        ``sum(weight[c, k] * input[k, window])`` over the kernel window (zero padding
        adds nothing).
    share : float
        ``|contribution|`` over the sum of every channel's ``|contribution|`` (0..1).
    """

    channel: int
    contribution: float
    share: float


@dataclass(frozen=True)
class LayerCellExplanation:
    """Why one layer cell has its value, by input channel.

    Attributes
    ----------
    layer : str
        The layer asked about.
    conv : str
        The Conv output explained: `layer` itself or the Conv before its ReLU.
    source : str
        The Conv's input tensor.
    via : str or None
        The operator between `conv` and `layer` (``"Relu"``), None when they are one.
    channel, row, col : int
        The cell.
    value : float
        The layer's value there (as onnxruntime computed it).
    pre_activation : float
        The Conv's output there (as onnxruntime computed it).
    bias : float
        The Conv's bias for `channel` (0 without one).
    total : float
        Every channel's contribution plus the bias (float64).
    tolerance : float
        How far `total` may be from `pre_activation` in float32 arithmetic.
    channels : int
        Input channels that feed `channel` (its group's).
    contributions : tuple of ChannelContribution
        The largest by ``|contribution|``, largest first.
    """

    layer: str
    conv: str
    source: str
    via: str | None
    channel: int
    row: int
    col: int
    value: float
    pre_activation: float
    bias: float
    total: float
    tolerance: float
    channels: int
    contributions: tuple[ChannelContribution, ...]

    @property
    def reproduces(self) -> bool:
        """True when the contributions plus the bias give onnxruntime's Conv output."""
        return abs(self.total - self.pre_activation) <= self.tolerance


def _conv_of(network: Network, layer: str) -> tuple[onnx.NodeProto, str | None]:
    """The Conv node explaining `layer`, and the one-to-one operator after it (or None)."""
    producers = {o: n for n in network.nodes for o in n.output}
    node = producers.get(layer)
    if node is None:
        raise LayerExplainError(f"layer {layer!r} is not an output of network "
                                f"{network.name!r}; choose one of its layers.")
    via = None
    if node.op_type in _ONE_TO_ONE:
        via = node.op_type
        node = producers.get(node.input[0])
        if node is None or node.op_type != "Conv":
            what = "the input" if node is None else f"a {node.op_type}"
            raise LayerExplainError(
                f"layer {layer!r} is a {via} of {what}, not of a Conv: its cells cannot be "
                "split into input channels; inspect a Conv layer or the ReLU right after one.")
    elif node.op_type != "Conv":
        raise LayerExplainError(
            f"layer {layer!r} is the output of a {node.op_type}, not of a Conv (or a ReLU "
            f"right after one): a cell of it {_why(node.op_type)}; inspect the Conv layer "
            "before it instead.")
    return node, via


def _why(op: str) -> str:
    if op in ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"):
        return "reads a window of cells, not one Conv cell"
    return "is not one weighted sum of input channels"


def explain_layer_cell(network: Network, result: NetworkResult, x: np.ndarray, layer: str,
                       channel: int, row: int, col: int, top: int = 5
                       ) -> LayerCellExplanation:
    """Split cell (`channel`, `row`, `col`) of `layer` into its input channels' parts.

    Parameters
    ----------
    network : Network
        The network that made `result`.
    result : NetworkResult
        ``network.run(x)``.
    x : (C, H, W) array
        The input given to the network (read when a Conv reads the input directly).
    layer : str
        A Conv output, or a ReLU of one.
    channel, row, col : int
        The cell of `layer`.
    top : int
        Contributions kept (the largest by absolute value).

    Returns
    -------
    LayerCellExplanation

    Raises
    ------
    LayerExplainError
        If `layer` is not a 2-D Conv output or a ReLU of one, or the cell is outside it.
    """
    node, via = _conv_of(network, layer)
    weights = network.weights
    if node.input[1] not in weights:
        raise LayerExplainError(f"layer {layer!r}: the weights of its Conv are computed in "
                                "the graph, not stored; only stored kernels are explained.")
    w = numpy_helper.to_array(weights[node.input[1]]).astype(np.float64)
    if w.ndim != 4:
        raise LayerExplainError(f"layer {layer!r} comes from a {w.ndim - 2}-D Conv; only "
                                "2-D convolutions are explained.")
    bias_name = node.input[2] if len(node.input) > 2 and node.input[2] else None
    if bias_name is not None and bias_name not in weights:
        raise LayerExplainError(f"layer {layer!r}: the bias of its Conv is computed in the "
                                "graph, not stored; only stored biases are explained.")
    source = node.input[0]
    inp = result.activations.get(source)
    if inp is None:  # the Conv reads the network's image input
        inp = np.asarray(x)
    inp = np.asarray(inp, np.float64)
    out = result.activations[node.output[0]]
    shown = result.activations[layer]
    if shown.ndim != 3 or out.ndim != 3 or inp.ndim != 3:
        raise LayerExplainError(f"layer {layer!r} is not a (C, H, W) map; only maps of a "
                                "2-D Conv are explained.")
    m, rows, cols = out.shape
    if not (0 <= channel < m and 0 <= row < rows and 0 <= col < cols):
        raise LayerExplainError(f"cell (channel {channel}, row {row}, col {col}) is outside "
                                f"layer {layer!r} of shape {out.shape}; choose one inside.")
    kh, kw = w.shape[2:]
    strides = tuple(int(v) for v in node_attribute(node, "strides", [1, 1]))
    dilations = tuple(int(v) for v in node_attribute(node, "dilations", [1, 1]))
    pt, pl = (padding_before(node, a, inp.shape[1 + a], out.shape[1 + a], (kh, kw)[a],
                             strides[a], dilations[a]) for a in (0, 1))
    group = int(node_attribute(node, "group", 1))
    per_group = w.shape[1]
    first = channel // (m // group) * per_group
    ys = row * strides[0] - pt + np.arange(kh) * dilations[0]
    xs = col * strides[1] - pl + np.arange(kw) * dilations[1]
    okay = (((ys >= 0) & (ys < inp.shape[1]))[:, None]
            & ((xs >= 0) & (xs < inp.shape[2]))[None, :])
    window = inp[first:first + per_group][:, np.clip(ys, 0, inp.shape[1] - 1)][
        :, :, np.clip(xs, 0, inp.shape[2] - 1)] * okay
    products = w[channel] * window
    parts = products.sum(axis=(1, 2))
    bias = float(numpy_helper.to_array(weights[bias_name])[channel]) if bias_name else 0.0
    total = float(parts.sum() + bias)
    # float32 sums of these products may differ by a few units in the last place of the
    # largest magnitude involved
    tolerance = 1e-5 * float(np.abs(products).sum() + abs(bias)) + 1e-6
    size = float(np.abs(parts).sum())
    order = np.argsort(-np.abs(parts), kind="stable")[:max(1, int(top))]
    contributions = tuple(ChannelContribution(
        int(first + k), float(parts[k]), float(abs(parts[k]) / size) if size > 0 else 0.0)
        for k in order)
    return LayerCellExplanation(
        layer, node.output[0], source, via, int(channel), int(row), int(col),
        float(shown[channel, row, col]), float(out[channel, row, col]), bias, total,
        tolerance, int(per_group), contributions)
