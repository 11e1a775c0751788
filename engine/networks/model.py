"""Trained networks from ONNX files, run with onnxruntime, every layer's output kept.

A model file is untrusted input. It is read like an image file (:mod:`engine.image_io`):
only a regular file is opened, never more than ``max_bytes`` of it; it is parsed as an
ONNX protobuf (no pickle, nothing executed), checked by ``onnx.checker``, refused when a
tensor refers to external data files, and handed to onnxruntime as bytes, so the runtime
never opens another file. Every failure is one :class:`NetworkLoadError` line naming the
file and the reason.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from google.protobuf.message import DecodeError
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

from ..image_io import open_regular
from .geometry import MapGeometry, network_geometry

__all__ = ["MAX_MODEL_BYTES", "Network", "NetworkLoadError", "NetworkResult", "load_network"]

#: The largest model file read by default (a ResNet-50 is about 100 MB).
MAX_MODEL_BYTES = 512 * 1024 * 1024
_ORT_ERRORS = tuple(getattr(ort_state, name) for name in (
    "Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError", "RuntimeException",
    "InvalidProtobuf", "ModelLoaded", "NotImplemented", "InvalidGraph", "EPFail")
    if hasattr(ort_state, name))
# Outputs that describe a tensor's shape rather than its values: not layers of the network.
_SHAPE_OPS = ("Shape", "Size")


class NetworkLoadError(ValueError):
    """A model file cannot be used; the message names the file and the reason."""


@dataclass(frozen=True)
class NetworkResult:
    """What one run of a network gives.

    Attributes
    ----------
    activations : Mapping[str, np.ndarray]
        Every layer's output in graph order, by its ONNX tensor name, without the batch
        axis: ``(C, H, W)`` maps, ``(K,)`` vectors.
    probabilities : (K,) float64 array or None
        The class distribution when the network ends in a classifier (softmax applied to
        logits), else None.
    geometry : Mapping[str, MapGeometry or None]
        For every activation, where its cells read the input (:class:`MapGeometry`), or
        None where that is not derived; ``geometry_notes`` says why.
    geometry_notes : Mapping[str, str]
        Why an activation has no geometry.
    """

    activations: Mapping[str, np.ndarray] = field(repr=False)
    probabilities: np.ndarray | None
    geometry: Mapping[str, MapGeometry | None] = field(repr=False)
    geometry_notes: Mapping[str, str] = field(repr=False)

    @property
    def top1(self) -> int | None:
        """The most probable class, or None without probabilities."""
        return None if self.probabilities is None else int(np.argmax(self.probabilities))


class Network:
    """A trained network read from an ONNX model: ``run`` one image, read every layer.

    Create with :func:`load_network` (or take one from ``engine.NETWORKS``). One
    onnxruntime session is created at load time and reused; ``run`` is thread-safe.

    Attributes
    ----------
    name : str
        The name given at load time, or the file name without its suffix.
    path : Path
        The model file.
    input_shape : tuple
        ``(C, H, W)`` of the image input, None for a free dimension.
    labels : tuple of str or None
        Class names, from the ``labels`` argument of :func:`load_network` or the model's
        ``labels`` metadata (a JSON list); None when neither gives them.
    layer_names : tuple of str
        The activations' names in graph order (the keys of ``NetworkResult.activations``).
    nodes : tuple of onnx.NodeProto
        The operators that compute from the image, in graph order (each output is a layer).
    weights : Mapping of str to onnx.TensorProto
        The model's stored tensors (initializers) by name, as read at load time, so an
        explanation uses the weights that run even if the file changes afterwards.
    """

    def __init__(self, name: str, path: Path, model: onnx.ModelProto,
                 labels: Sequence[str] | None, labels_from: str | None = None) -> None:
        graph = model.graph
        self.name = name
        self.path = path
        self._input = _image_input(path, graph)
        dims = _dims(self._input)
        self._batch_free = dims[0] is None
        self.input_shape: tuple[int | None, int | None, int | None] = tuple(dims[1:])
        if not graph.output:
            raise NetworkLoadError(f"{path}: the model has no outputs; export it with its "
                                   "output (the class scores or a map).")
        self._output = graph.output[0].name
        self._nodes = _data_nodes(graph, self._input.name)
        self.layer_names: tuple[str, ...] = tuple(o for node in self._nodes for o in node.output
                                                  if o)
        if self._output not in self.layer_names:
            raise NetworkLoadError(f"{path}: its output {self._output!r} does not depend on the "
                                   f"input {self._input.name!r}; it is no image model.")
        self._final_op = next(n.op_type for n in self._nodes if self._output in n.output)
        self.labels = _labels(path, model, labels, graph.output[0], labels_from)
        self._constants = _Constants(graph)
        self.nodes: tuple[onnx.NodeProto, ...] = tuple(self._nodes)
        self.weights: Mapping[str, onnx.TensorProto] = {t.name: t for t in graph.initializer}
        known = {o.name for o in graph.output}
        for out in self.layer_names:
            if out not in known:
                graph.output.append(onnx.ValueInfoProto(name=out))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: warnings would print on stderr
        try:
            self._session = ort.InferenceSession(model.SerializeToString(), options,
                                                 providers=["CPUExecutionProvider"])
        except _ORT_ERRORS as exc:
            raise NetworkLoadError(f"{path}: onnxruntime cannot run it ({_first_line(exc)}); "
                                   "export it with standard ONNX operators.") from exc
        self._geometry_cache: dict[tuple[int, int], tuple[dict, dict]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Network({self.name!r}, input_shape={self.input_shape})"

    def check_input(self, x: object) -> np.ndarray:
        """Return `x` as a ``(C, H, W)`` float32 array the network accepts.

        Raises
        ------
        ValueError
            If `x` is not ``(C, H, W)`` (or ``(H, W)`` for one channel), its sizes differ
            from :attr:`input_shape`, or it holds non-finite values.
        """
        arr = np.asarray(x)
        if arr.ndim == 2 and self.input_shape[0] in (1, None):
            arr = arr[None]
        if arr.ndim != 3 or arr.dtype.kind not in "biuf":
            raise ValueError(f"network {self.name!r} needs a (C, H, W) array of numbers "
                             f"{self._shape_text()}; got shape {arr.shape}, dtype {arr.dtype}.")
        diff = [f"{what} {got} instead of {want}" for what, got, want
                in zip(("channels", "height", "width"), arr.shape, self.input_shape, strict=True)
                if want is not None and got != want]
        if diff:
            raise ValueError(f"network {self.name!r} takes {self._shape_text()}; this input "
                             f"has {', '.join(diff)}: resize it first.")
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        if not np.isfinite(arr).all():
            raise ValueError(f"the input of network {self.name!r} holds NaN or infinite "
                             "values; replace them before running it.")
        return arr

    def _shape_text(self) -> str:
        c, h, w = ("any" if v is None else v for v in self.input_shape)
        return f"{c} channel(s) of {h}x{w} pixels"

    def run(self, x: np.ndarray) -> NetworkResult:
        """Run one image and keep every layer's output.

        Parameters
        ----------
        x : (C, H, W) or, for one channel, (H, W) array
            Scaled as the model expects (the bundled digit networks: [0, 1]).

        Returns
        -------
        NetworkResult
            Every activation without the batch axis, the class probabilities (or None),
            and each activation's geometry.

        Raises
        ------
        ValueError
            For an input of the wrong shape or with non-finite values (see
            :meth:`check_input`), or when onnxruntime fails on it (the message says why).

        Examples
        --------
        >>> from engine import NETWORKS
        >>> net = NETWORKS["digits-max"]
        >>> x = np.zeros((28, 28), np.float32); x[4:24, 13:15] = 1   # a "1"
        >>> r = net.run(x)
        >>> net.labels[r.top1], r.probabilities.shape
        ('1', (10,))
        >>> deepest = [n for n, a in r.activations.items() if a.shape[1:] == (7, 7)][-1]
        >>> r.geometry[deepest].stride, r.geometry[deepest].receptive_field(3, 3)
        ((4, 4), (5, 5, 23, 23))
        """
        arr = self.check_input(x)
        outputs = self._run(list(self.layer_names), arr[None])
        activations = {name: _unbatch(a, 1)
                       for name, a in zip(self.layer_names, outputs, strict=True)}
        probabilities = self._probabilities(activations[self._output][None])
        geometry, notes = self._geometry(arr.shape, activations)
        return NetworkResult(activations, None if probabilities is None else probabilities[0],
                             geometry, notes)

    def classify(self, batch: np.ndarray) -> np.ndarray:
        """Return the class probabilities of a batch of images, ``(N, K)`` float64.

        Only the final output is computed (no intermediate layers are kept).

        Parameters
        ----------
        batch : (N, C, H, W) or, for one channel, (N, H, W) array

        Raises
        ------
        ValueError
            If the network does not end in a classifier, or for inputs :meth:`run` refuses.
        """
        arr = np.asarray(batch)
        if arr.ndim == 3 and self.input_shape[0] in (1, None):
            arr = arr[:, None]
        if arr.ndim != 4:
            raise ValueError(f"classify needs a batch (N, C, H, W); got shape {arr.shape}.")
        arr = np.stack([self.check_input(a) for a in arr]) if len(arr) else arr
        if self._batch_free:
            logits = self._run([self._output], arr)[0]
        else:  # the model's batch axis is fixed at 1
            logits = np.concatenate([self._run([self._output], a[None])[0] for a in arr])
        probabilities = self._probabilities(logits)
        if probabilities is None:
            raise ValueError(f"network {self.name!r} does not end in a classifier: its output "
                             f"{self._output!r} has shape {logits.shape[1:]}, not (K,).")
        return probabilities

    def _run(self, names: list[str], batch: np.ndarray) -> list[np.ndarray]:
        try:
            return self._session.run(names, {self._input.name: batch})
        except _ORT_ERRORS as exc:
            raise ValueError(f"network {self.name!r} failed on this input "
                             f"({_first_line(exc)}).") from exc

    def _probabilities(self, out: np.ndarray) -> np.ndarray | None:
        if out.ndim != 2 or not np.issubdtype(out.dtype, np.floating):
            return None
        if not np.isfinite(out).all():
            raise ValueError(f"network {self.name!r} gave NaN or infinite class scores for "
                             f"this input ({self.path}); the model may be damaged.")
        out = out.astype(np.float64)
        if self._final_op == "Softmax":
            return out
        if self._final_op == "LogSoftmax":
            return np.exp(out)
        out = np.exp(out - out.max(axis=1, keepdims=True))
        return out / out.sum(axis=1, keepdims=True)

    def _geometry(self, chw: tuple[int, int, int], activations: Mapping[str, np.ndarray]):
        key = (int(chw[1]), int(chw[2]))
        with self._lock:
            cached = self._geometry_cache.get(key)
        if cached is None:
            shapes = {name: a.shape for name, a in activations.items()}
            shapes[self._input.name] = tuple(chw)
            cached = network_geometry(self._nodes, self._input.name, key, shapes,
                                      self._constants)
            with self._lock:
                self._geometry_cache[key] = cached
        return cached


def load_network(path: str | os.PathLike, *, name: str | None = None,
                 labels: Sequence[str] | None = None, labels_from: str | None = None,
                 max_bytes: int = MAX_MODEL_BYTES) -> Network:
    """Read an ONNX image model and prepare it to run.

    Parameters
    ----------
    path : str or path-like
        An ONNX file whose one input is a float32 image tensor ``N x C x H x W`` (N free
        or 1) and whose weights are inside the file.
    name : str, optional
        The network's name; the file name without its suffix by default.
    labels : sequence of str, optional
        Class names; by default the model's ``labels`` metadata (a JSON list), if any.
    labels_from : str, optional
        Where `labels` were read (a labels file's path), named by the error when their
        count does not match the model's classes.
    max_bytes : int
        Larger files are refused unread.

    Returns
    -------
    Network

    Raises
    ------
    NetworkLoadError
        (a ValueError) one line naming the file and the reason: missing, not a regular
        file (a folder, FIFO, device), empty, larger than `max_bytes`, not ONNX, truncated
        or damaged, weights in external data files, no single float32 ``N x C x H x W``
        input, labels that do not match the outputs, or an operator onnxruntime lacks.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"max_bytes must be an integer >= 1; got {max_bytes!r}.")
    p = Path(path)
    model = _parse(p, _read(p, max_bytes))
    return Network(name or p.stem, p, model, labels, labels_from)


# ----------------------------------------------------------------------------- reading
def _read(p: Path, max_bytes: int) -> bytes:
    fd, size = open_regular(p, NetworkLoadError, "an ONNX model")
    with os.fdopen(fd, "rb", buffering=0) as f:
        if size == 0:
            raise NetworkLoadError(f"{p}: the file is empty (0 bytes); it is not an ONNX model.")
        if size > max_bytes:
            raise NetworkLoadError(f"{p}: the file is {size:,} bytes, more than the limit of "
                                   f"{max_bytes:,} bytes for a model; not read.")
        chunks, got = [], 0
        while got <= max_bytes:
            chunk = f.read(min(1 << 20, max_bytes + 1 - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    if got > max_bytes:
        raise NetworkLoadError(f"{p}: the file grew past the limit of {max_bytes:,} bytes "
                               "while it was read; not used.")
    return b"".join(chunks)


def _parse(p: Path, data: bytes) -> onnx.ModelProto:
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except DecodeError as exc:
        raise NetworkLoadError(f"{p}: not an ONNX model, or a truncated one (it does not parse: "
                               f"{_first_line(exc)}).") from exc
    if model.ir_version <= 0 or not model.opset_import or not model.graph.node:
        raise NetworkLoadError(f"{p}: not an ONNX model (no version, operator set or graph); "
                               "choose an .onnx file.")
    external = _external_tensor(model.graph)
    if external is not None:
        raise NetworkLoadError(f"{p}: tensor {external!r} refers to external data files, "
                               "which are not read; save the model with its weights inside.")
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise NetworkLoadError(f"{p}: the ONNX model is damaged or truncated "
                               f"({_first_line(exc)}).") from exc
    except UnicodeDecodeError as exc:  # the checker's report quotes a name that is not text
        raise NetworkLoadError(f"{p}: the ONNX model is damaged (a name in it is not UTF-8 "
                               "text).") from exc
    return model


def _external_tensor(graph: onnx.GraphProto) -> str | None:
    """The name of a tensor stored outside the file, in `graph` or its subgraphs."""
    tensors = list(graph.initializer) + [s.values for s in graph.sparse_initializer]
    for node in graph.node:
        for attr in node.attribute:
            tensors += ([attr.t] if attr.HasField("t") else []) + list(attr.tensors)
            for sub in ([attr.g] if attr.HasField("g") else []) + list(attr.graphs):
                name = _external_tensor(sub)
                if name is not None:
                    return name
    for t in tensors:
        if t.data_location == onnx.TensorProto.EXTERNAL or len(t.external_data):
            return t.name or "(unnamed)"
    return None


def _image_input(p: Path, graph: onnx.GraphProto) -> onnx.ValueInfoProto:
    weights = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in weights]
    if len(inputs) != 1:
        names = ", ".join(repr(i.name) for i in inputs) or "none"
        raise NetworkLoadError(f"{p}: the model has {len(inputs)} inputs ({names}); ShiftLab "
                               "runs models with one image input N x C x H x W.")
    inp = inputs[0]
    kind = inp.type.WhichOneof("value")
    if kind != "tensor_type" or inp.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        what = (onnx.TensorProto.DataType.Name(inp.type.tensor_type.elem_type)
                if kind == "tensor_type" else kind)
        raise NetworkLoadError(f"{p}: input {inp.name!r} holds {what}, not float32 pixels; "
                               "export the model with a float32 image input.")
    dims = _dims(inp)
    if len(dims) != 4:
        raise NetworkLoadError(f"{p}: input {inp.name!r} is not an image tensor N x C x H x W "
                               f"(it has {len(dims)} axes: {_dims_text(dims)}).")
    if dims[0] not in (None, 1):
        raise NetworkLoadError(f"{p}: input {inp.name!r} has a fixed batch of {dims[0]}; export "
                               "it with batch 1 or a free batch axis.")
    return inp


def _dims(info: onnx.ValueInfoProto) -> list[int | None]:
    shape = info.type.tensor_type.shape
    return [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None
            for d in shape.dim]


def _dims_text(dims: Sequence[int | None]) -> str:
    return " x ".join("?" if d is None else str(d) for d in dims) or "a scalar"


def _labels(p: Path, model: onnx.ModelProto, labels: Sequence[str] | None,
            output: onnx.ValueInfoProto, labels_from: str | None = None
            ) -> tuple[str, ...] | None:
    if labels is None:
        text = next((m.value for m in model.metadata_props if m.key == "labels"), None)
        if text is None:
            return None
        try:
            labels = json.loads(text)
        except json.JSONDecodeError as exc:
            raise NetworkLoadError(f"{p}: its 'labels' metadata is not JSON ({exc.msg}); "
                                   "store a JSON list of class names.") from exc
    if isinstance(labels, str) or not all(isinstance(v, str) for v in labels):
        raise NetworkLoadError(f"{p}: labels must be a list of class names (strings).")
    dims = _dims(output)
    if len(dims) == 2 and dims[1] is not None and dims[1] != len(labels):
        where = f" in {labels_from}" if labels_from else ""
        raise NetworkLoadError(f"{p}: {len(labels)} labels{where} for {dims[1]} classes; give "
                               "one name per class.")
    return tuple(labels)


def _data_nodes(graph: onnx.GraphProto, input_name: str) -> list[onnx.NodeProto]:
    """The nodes whose outputs depend on the image's values (not only on its shape)."""
    data, nodes = {input_name}, []
    for node in graph.node:
        if node.op_type not in _SHAPE_OPS and any(i in data for i in node.input if i):
            nodes.append(node)
            data.update(o for o in node.output if o)
    return nodes


class _Constants(Mapping):
    """Integer constants of the graph (Slice bounds, Pad widths), decoded on first use."""

    def __init__(self, graph: onnx.GraphProto) -> None:
        #: every initializer's shape (a Conv's kernel size when its attribute is left out)
        self.shapes = {t.name: tuple(t.dims) for t in graph.initializer}
        self._tensors = {t.name: t for t in graph.initializer
                         if t.data_type in (onnx.TensorProto.INT64, onnx.TensorProto.INT32)}
        for node in graph.node:
            if node.op_type == "Constant":
                for attr in node.attribute:
                    if attr.name == "value" and attr.HasField("t"):
                        self._tensors[node.output[0]] = attr.t
        self._values: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._values:
            self._values[name] = onnx.numpy_helper.to_array(self._tensors[name])
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)


def _unbatch(a: np.ndarray, n: int) -> np.ndarray:
    """`a` without its batch axis (when its first axis is the batch of `n`)."""
    return a[0] if a.ndim >= 1 and a.shape[0] == n else a


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
