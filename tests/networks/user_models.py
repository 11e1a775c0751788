"""Small users' models for the network tests: built with PyTorch, exported to ONNX the way
a user would (TorchScript exporter, opset 17), and read back with bare onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

#: The TorchScript exporter (dynamo=False) needs only onnx; torch warns that it is legacy.
EXPORT_WARNINGS = [
    pytest.mark.filterwarnings("ignore:You are using the legacy TorchScript:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The feature will be removed:DeprecationWarning"),
]


def rgb_classifier(classes: int = 5):
    """A three-channel ResNet-like classifier (7x7/2 stem, 3x3/2 max pool, two stages)."""
    import torch
    from torch_models import resnet

    torch.manual_seed(0)
    return resnet(8, ((8, 1), (16, 2)), 1, classes).eval()


def export(model, shape: tuple[int, int, int], path: Path, *, free_size: bool = False) -> Path:
    """Write `model` for inputs ``(1, *shape)`` as an ONNX file; `free_size` leaves height
    and width free."""
    import torch

    axes = {0: "batch"}
    if free_size:
        axes.update({2: "height", 3: "width"})
    torch.onnx.export(model, (torch.zeros(1, *shape),), str(path), dynamo=False,
                      opset_version=17, input_names=["image"], dynamic_axes={"image": axes})
    return path


def bare_layers(path: Path, x: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """The tensors `names` (and "final") for input `x` (C, H, W), by a plain onnxruntime
    session with graph optimisations off, without the batch axis."""
    model = onnx.load(str(path))
    final = model.graph.output[0].name
    for name in names:
        model.graph.output.append(onnx.ValueInfoProto(name=name))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name
    out = session.run([*names, final], {input_name: x[None].astype(np.float32)})
    return {**{n: a[0] for n, a in zip(names, out, strict=False)}, "final": out[-1][0]}


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits.astype(np.float64) - logits.max())
    return e / e.sum()
