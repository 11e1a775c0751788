"""Where each cell of a network's activation map reads the input: strides and receptive fields.

The geometry is derived from the graph, for the input size of a run: every map carries,
per axis, the half-open span ``[lo, hi)`` of input pixels that each of its cells can
depend on (the hull, clipped to the image). Operators are followed exactly:

- sliding windows (Conv, MaxPool, AveragePool, LpPool) from their kernel, strides, pads
  (or auto_pad) and dilations; a window position in the zero padding reads nothing;
- Pad (constant, edge, reflect, wrap) and Slice (any start, end and step) map each cell
  to the cell it copies, and Concat along a spatial axis joins the pieces, so circular
  padding written as slices and concatenation wraps to the far side of the map;
- element-wise operators (activations, BatchNormalization, Add, Mul, ...) and Concat
  along channels take the union of their map inputs. An input with a single cell per
  axis (a per-channel or per-sample factor such as a squeeze-excitation gate or the
  phase choice of adaptive polyphase sampling) broadcasts and is treated as a gate: the
  map it scales gives the geometry. A gate computed from the whole map makes each cell
  depend, strictly, on everything; the hull shown is what the cell's value comes from;
- global pooling and reductions over a spatial axis read the whole axis.

Any other operator with a map output gets no geometry (None) and a note that says which
operator stopped the derivation; vectors (flattened features, logits) have none either.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import onnx

__all__ = ["MapGeometry", "network_geometry"]

_WINDOW_OPS = ("Conv", "MaxPool", "AveragePool", "LpPool")
_GLOBAL_OPS = ("GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool")
_REDUCE_OPS = ("ReduceMean", "ReduceMax", "ReduceMin", "ReduceSum", "ReduceL1", "ReduceL2",
               "ReduceLogSumExp", "ReduceProd", "ReduceSumSquare", "ReduceLogSum")
_ELEMENTWISE_OPS = frozenset((
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Celu", "Gelu", "Sigmoid", "HardSigmoid",
    "HardSwish", "Tanh", "Softplus", "Softsign", "Mish", "Clip", "ThresholdedRelu", "Abs",
    "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Pow", "Erf", "Floor", "Ceil", "Round", "Sign",
    "Sin", "Cos", "Identity", "Dropout", "Cast", "BatchNormalization", "LRN", "Add", "Sub",
    "Mul", "Div", "Max", "Min", "Sum", "Mean", "Where", "Equal", "Greater", "Less",
    "GreaterOrEqual", "LessOrEqual", "And", "Or", "Not", "Xor", "Mod", "IsNaN", "IsInf"))
_CHANNEL_OPS = ("Softmax", "LogSoftmax", "Hardmax")  # element-wise when taken along channels


@dataclass(frozen=True, eq=False)  # arrays inside: compare by identity
class MapGeometry:
    """The input pixels each cell of a ``(C, H, W)`` map can depend on.

    Attributes
    ----------
    rows : (H, 2) int array
        For cell row ``i``, the half-open span ``[rows[i, 0], rows[i, 1])`` of input rows
        (clipped to the input, wrapped around it by circular padding; empty when
        ``start >= stop``).
    cols : (W, 2) int array
        The same for columns.
    stride : (int or None, int or None)
        Input pixels from one cell to the next, ``(rows, cols)``, from the operators'
        strides; None where that is not one number (e.g. after global pooling).
    extent : (int or None, int or None)
        The receptive field's size in input pixels before clipping or wrapping (border
        cells read less, or wrap); None where it is not one number.
    """

    rows: np.ndarray = field(repr=False)
    cols: np.ndarray = field(repr=False)
    stride: tuple[int | None, int | None] = (None, None)
    extent: tuple[int | None, int | None] = (None, None)

    @property
    def shape(self) -> tuple[int, int]:
        """``(H, W)`` of the map."""
        return len(self.rows), len(self.cols)

    def receptive_field(self, row: int, col: int) -> tuple[int, int, int, int]:
        """Return ``(top, left, bottom, right)``: the half-open rectangle of input pixels
        that cell (row, col) can depend on.

        Raises
        ------
        ValueError
            If (row, col) is outside the map.
        """
        h, w = self.shape
        if not (0 <= row < h and 0 <= col < w):
            raise ValueError(f"cell ({row}, {col}) is outside the map of {h}x{w} cells.")
        (top, bottom), (left, right) = self.rows[row], self.cols[col]
        return int(top), int(left), int(max(bottom, top)), int(max(right, left))


# Per axis a map is an _Axis: an (n, 2) array of [lo, hi) spans ("reads nothing" is lo = BIG,
# hi = -BIG, so unions, the min of lo and max of hi, ignore it) and the nominal affine span
# of cell i, [i * stride + offset, ... + extent) before clipping and wrapping (None when the
# operators do not give one).
_BIG = np.iinfo(np.int64).max // 4
_NOTHING = np.array([[_BIG, -_BIG]], np.int64)


@dataclass(frozen=True)
class _Axis:
    spans: np.ndarray
    nominal: tuple[int, int, int] | None  # (stride, offset, extent)

    def then(self, spans: np.ndarray, stride: int, shift: int, extent: int) -> _Axis:
        """After an operator whose cell i starts at input cell ``i * stride + shift`` and
        reads `extent` input cells, with the exact `spans`."""
        if self.nominal is None:
            return _Axis(spans, None)
        s, o, e = self.nominal
        return _Axis(spans, (s * stride, o + shift * s, (extent - 1) * s + e))


class _Unknown(Exception):
    """The geometry of an output cannot be derived; the message says why."""


def network_geometry(nodes: Sequence[onnx.NodeProto], input_name: str, hw: tuple[int, int],
                     shapes: Mapping[str, tuple[int, ...]], constants: Mapping[str, np.ndarray]
                     ) -> tuple[dict[str, MapGeometry | None], dict[str, str]]:
    """Derive every activation's geometry for an input of ``hw = (H, W)`` pixels.

    Parameters
    ----------
    nodes : sequence of onnx.NodeProto
        The nodes that compute from the image, in graph order.
    input_name : str
        The image input's name.
    hw : (int, int)
        The input's height and width.
    shapes : mapping
        Every node output's shape without the batch axis (from a run).
    constants : mapping
        Integer constants by name (Slice bounds, Pad widths, reduction axes).

    Returns
    -------
    (geometry, notes)
        ``geometry[name]`` is a :class:`MapGeometry` or None; ``notes[name]`` says why
        for each None.
    """
    maps: dict[str, tuple[_Axis, _Axis] | None] = {input_name: tuple(
        _Axis(np.stack([np.arange(n), np.arange(n) + 1], axis=1), (1, 0, 1)) for n in hw)}
    notes: dict[str, str] = {}
    for node in nodes:
        try:
            result, why = _derive(node, maps, shapes, constants, notes), ""
        except _Unknown as exc:
            result, why = None, str(exc)
        for out in (o for o in node.output if o):
            shape = tuple(shapes.get(out, ()))
            if len(shape) != 3:
                maps[out] = None
                notes[out] = f"not a map (shape {shape}): its values may depend on the whole input"
            elif result is None or (len(result[0].spans), len(result[1].spans)) != shape[1:]:
                maps[out] = None
                notes[out] = why or f"not derived for {node.op_type} {node.name!r}"
            else:
                maps[out] = result
    geometry = {}
    for name, m in maps.items():
        if name != input_name:
            geometry[name] = None if m is None else MapGeometry(
                m[0].spans, m[1].spans,
                tuple(None if a.nominal is None else a.nominal[0] for a in m),
                tuple(None if a.nominal is None else a.nominal[2] for a in m))
    return geometry, notes


def padding_before(node: onnx.NodeProto, axis: int, n_in: int, n_out: int, kernel: int,
                   stride: int, dilation: int) -> int:
    """The cells of padding a Conv or pool `node` puts before spatial `axis` (0: rows,
    1: columns) of an input `n_in` long giving `n_out` outputs: its ``pads``, or what its
    ``auto_pad`` (SAME_UPPER, SAME_LOWER, VALID) implies."""
    auto_pad = node_attribute(node, "auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        total = max((n_out - 1) * stride + (kernel - 1) * dilation + 1 - n_in, 0)
        return total // 2 if auto_pad == "SAME_UPPER" else total - total // 2
    return 0 if auto_pad == "VALID" else int(node_attribute(node, "pads", [0, 0, 0, 0])[axis])


def node_attribute(node: onnx.NodeProto, name: str, default=None):
    """The value of attribute `name` of `node` (bytes as text), or `default` without it."""
    for a in node.attribute:
        if a.name == name:
            value = onnx.helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _inputs(node, maps, shapes, notes) -> list[tuple[tuple[_Axis, _Axis], tuple[int, ...]]]:
    """(geometry, shape) of each data input of `node`; an input without geometry stops,
    except a broadcast gate of an element-wise operator (one value per channel or sample,
    such as the phase choice of adaptive polyphase sampling), which is left out."""
    elementwise = node.op_type in _ELEMENTWISE_OPS
    out = []
    for name in node.input:
        if name in maps:
            shape = tuple(shapes.get(name, ()))
            if maps[name] is None and elementwise and (len(shape) < 3 or shape[1:] == (1, 1)):
                continue
            if maps[name] is None:
                raise _Unknown(f"reads {name!r}, whose geometry is not known"
                               + (f" ({notes[name]})" if name in notes else ""))
            out.append((maps[name], shape))
    return out


def _spatial_axis(axis: int, rank: int = 4) -> int | None:
    """0 for rows, 1 for columns, None for batch or channels (axes of an N x C x H x W)."""
    axis = axis + rank if axis < 0 else axis
    return axis - 2 if axis in (2, 3) else None


def _derive(node, maps, shapes, constants, notes):
    op = node.op_type
    ins = _inputs(node, maps, shapes, notes)
    if not ins:
        raise _Unknown(f"{op} {node.name!r} reads no map")
    if op in _WINDOW_OPS:
        return _window(node, ins[0][0], shapes[node.output[0]], constants)
    if op in _GLOBAL_OPS:
        return tuple(_whole(a) for a in ins[0][0])
    if op in _REDUCE_OPS:
        return _reduce(node, ins[0][0], constants)
    if op == "Pad":
        return _pad(node, ins[0][0], constants)
    if op == "Slice":
        return _slice(node, ins[0][0], constants)
    if op == "Concat":
        axis = _spatial_axis(node_attribute(node, "axis"))
        if axis is not None:
            return tuple(_join([g[a] for g, _ in ins]) if a == axis
                         else _union([g[a] for g, _ in ins]) for a in (0, 1))
        return _elementwise(node, ins)
    channel_op = op in _CHANNEL_OPS and node_attribute(node, "axis", -1) in (1, -3)
    if op in _ELEMENTWISE_OPS or channel_op:
        return _elementwise(node, ins)
    raise _Unknown(f"the geometry of {op} ({node.name or 'unnamed'}) is not derived")


def _union(axes: list[_Axis]) -> _Axis:
    """Cells that combine the same cells of several maps: the union of their spans."""
    if len({len(a.spans) for a in axes}) != 1:
        raise _Unknown("its inputs' maps differ in size")
    spans = np.stack([np.min([a.spans[:, 0] for a in axes], axis=0),
                      np.max([a.spans[:, 1] for a in axes], axis=0)], axis=1)
    nominal = [a.nominal for a in axes]
    if any(n is None for n in nominal) or len({n[0] for n in nominal}) != 1:
        return _Axis(spans, None)
    start = min(n[1] for n in nominal)
    end = max(n[1] + n[2] for n in nominal)
    return _Axis(spans, (nominal[0][0], start, end - start))


def _join(pieces: list[_Axis]) -> _Axis:
    """Concatenation along the axis: the nominal span is that of the longest piece."""
    spans = np.concatenate([p.spans for p in pieces])
    k = int(np.argmax([len(p.spans) for p in pieces]))
    before = sum(len(p.spans) for p in pieces[:k])
    n = pieces[k].nominal
    return _Axis(spans, None if n is None else (n[0], n[1] - before * n[0], n[2]))


def _whole(axis: _Axis) -> _Axis:
    spans = np.array([[axis.spans[:, 0].min(), axis.spans[:, 1].max()]], np.int64)
    return _Axis(spans, None)


def _elementwise(node, ins):
    """Union of the map inputs of the output's size; one-cell inputs broadcast as gates."""
    geoms = [g for g, shape in ins if len(shape) == 3]
    if not geoms:
        raise _Unknown(f"{node.op_type} {node.name!r} reads no map")
    out = []
    for a in (0, 1):
        n = max(len(g[a].spans) for g in geoms)
        if any(len(g[a].spans) not in (1, n) for g in geoms):
            raise _Unknown(f"{node.op_type} {node.name!r} broadcasts maps of different sizes")
        out.append(_union([g[a] for g in geoms if len(g[a].spans) == n]))
    return tuple(out)


def _ints(node, index: int, constants, what: str) -> list[int] | None:
    if len(node.input) <= index or not node.input[index]:
        return None
    name = node.input[index]
    if name not in constants:
        raise _Unknown(f"{node.op_type} {node.name!r} takes its {what} from a computed tensor")
    return [int(v) for v in np.asarray(constants[name]).ravel()]


def _window(node, geom, out_shape, constants):
    k = node_attribute(node, "kernel_shape")
    if k is None and node.op_type == "Conv" and len(node.input) > 1:
        if node.input[1] not in constants.shapes:
            raise _Unknown(f"Conv {node.name!r}: its kernel size is not given")
        k = list(constants.shapes[node.input[1]][2:])
    if k is None or len(k) != 2:
        raise _Unknown(f"{node.op_type} {node.name!r} is not a 2-D window")
    strides = node_attribute(node, "strides", [1, 1])
    dilations = node_attribute(node, "dilations", [1, 1])
    out = []
    for a in (0, 1):
        n_in, n_out = len(geom[a].spans), out_shape[1 + a]
        span = (k[a] - 1) * dilations[a] + 1
        before = padding_before(node, a, n_in, n_out, k[a], strides[a], dilations[a])
        starts = np.arange(n_out) * strides[a] - before
        spans = _gather_windows(geom[a].spans, starts, k[a], dilations[a])
        out.append(geom[a].then(spans, strides[a], -before, span))
    return tuple(out)


def _gather_windows(spans: np.ndarray, starts: np.ndarray, taps: int, dilation: int):
    """Union, for each output cell, of the input cells at ``start + t * dilation``."""
    lo = np.full(len(starts), _BIG, np.int64)
    hi = np.full(len(starts), -_BIG, np.int64)
    padded = np.vstack([spans, _NOTHING])  # index -1: a position in the padding
    for t in range(taps):
        pos = starts + t * dilation
        pos = np.where((pos >= 0) & (pos < len(spans)), pos, -1)
        lo = np.minimum(lo, padded[pos, 0])
        hi = np.maximum(hi, padded[pos, 1])
    return np.stack([lo, hi], axis=1)


def _copy(spans: np.ndarray, source: np.ndarray) -> np.ndarray:
    """Cells that copy input cell ``source`` (-1: a cell that reads nothing)."""
    return np.vstack([spans, _NOTHING])[np.where(source >= 0, source, -1)]


def _pad(node, geom, constants):
    mode = node_attribute(node, "mode", "constant")
    pads = _ints(node, 1, constants, "pads") or node_attribute(node, "pads")
    if pads is None or len(pads) != 8 or (len(node.input) > 3 and node.input[3]):
        raise _Unknown(f"Pad {node.name!r}: only widths for all four axes are understood")
    out = []
    for a in (0, 1):
        n, before, after = len(geom[a].spans), pads[2 + a], pads[6 + a]
        q = np.arange(n + before + after) - before
        if mode == "constant":
            src = np.where((q >= 0) & (q < n), q, -1)
        elif mode == "edge":
            src = np.clip(q, 0, n - 1)
        elif mode == "wrap":
            src = np.mod(q, n)
        elif mode == "reflect":
            period = max(2 * n - 2, 1)
            r = np.mod(q, period)
            src = np.where(r < n, r, period - r)
        else:
            raise _Unknown(f"Pad {node.name!r}: mode {mode!r} is not understood")
        out.append(geom[a].then(_copy(geom[a].spans, src), 1, -before, 1))
    return tuple(out)


def _slice(node, geom, constants):
    starts = _ints(node, 1, constants, "starts")
    ends = _ints(node, 2, constants, "ends")
    axes = _ints(node, 3, constants, "axes") or list(range(len(starts)))
    steps = _ints(node, 4, constants, "steps") or [1] * len(starts)
    out = list(geom)
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=False):
        a = _spatial_axis(axis)
        if a is not None:
            idx = np.arange(*slice(start, end, step).indices(len(geom[a].spans)))
            first = int(idx[0]) if len(idx) else 0
            out[a] = geom[a].then(geom[a].spans[idx], step, first, 1)
    return tuple(out)


def _reduce(node, geom, constants):
    axes = node_attribute(node, "axes")
    if axes is None and len(node.input) > 1:
        axes = _ints(node, 1, constants, "axes")
    if axes is None:  # all axes
        return tuple(_whole(a) for a in geom)
    spatial = {_spatial_axis(a) for a in axes}
    return tuple(_whole(geom[a]) if a in spatial else geom[a] for a in (0, 1))
