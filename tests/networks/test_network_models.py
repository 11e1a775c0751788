"""Networks built here with PyTorch, exported to ONNX and read with load_network: every
activation equals what bare onnxruntime computes for that tensor, and the geometry of each
map is what its layers say (and no pixel outside a cell's receptive field changes it)."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from engine import load_network

torch = pytest.importorskip("torch")
nn = torch.nn
from torch_models import resnet as build_resnet  # noqa: E402  (needs torch)

# The TorchScript exporter (dynamo=False) needs only the onnx package; torch says it is legacy.
pytestmark = [
    pytest.mark.filterwarnings(
        "ignore:You are using the legacy TorchScript-based ONNX export:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The feature will be removed:DeprecationWarning"),
]


def resnet_like() -> nn.Module:
    return build_resnet(8, ((8, 1), (16, 2)), 1, 5)


class VggLike(nn.Module):
    """Max and average pooling, padding, strides, a dilation, LeakyReLU and a channel Concat."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 4, 3, padding=1)
        self.b = nn.Conv2d(1, 4, 5, padding=2)
        self.c = nn.Conv2d(8, 8, 3, stride=2, padding=0)
        self.d = nn.Conv2d(8, 8, 3, padding=2, dilation=2)
        self.act = nn.LeakyReLU(0.1)
        self.head = nn.Linear(8 * 3 * 3, 4)

    def forward(self, x):
        x = torch.cat([self.act(self.a(x)), self.act(self.b(x))], dim=1)
        x = nn.functional.max_pool2d(x, 2)            # 32 -> 16
        x = self.act(self.c(x))                       # 16 -> 7
        x = self.act(self.d(x))                       # 7 -> 7
        x = nn.functional.avg_pool2d(x, 2, 2, ceil_mode=True)  # 7 -> 4
        x = nn.functional.avg_pool2d(x, 2, 1)         # 4 -> 3
        return torch.softmax(self.head(torch.flatten(x, 1)), dim=1)


def export(model, shape, path):
    torch.manual_seed(0)
    model.eval()
    for m in model.modules():  # non-trivial batch-norm statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    # No constant folding: BatchNormalization stays a node of its own instead of being
    # folded into the convolution before it.
    torch.onnx.export(model, (torch.zeros(1, *shape),), str(path), dynamo=False,
                      opset_version=17, input_names=["image"], do_constant_folding=False,
                      dynamic_axes={"image": {0: "batch"}})
    return path


def bare_outputs(path, x):
    """Every node output, computed by a plain onnxruntime session of its own with graph
    optimisations off (no fused operators), and the final output of the unmodified model."""
    final = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    model = onnx.load(str(path))
    names = [o for n in model.graph.node if n.op_type != "Constant" for o in n.output]
    for name in names:
        model.graph.output.append(onnx.ValueInfoProto(name=name))
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model.SerializeToString(), options,
                                   providers=["CPUExecutionProvider"])
    out = dict(zip(names, session.run(names, {"image": x[None]}), strict=True))
    out["final"] = final.run(None, {"image": x[None]})[0]
    return out


@pytest.fixture(scope="module")
def resnet(tmp_path_factory):
    torch.manual_seed(1)
    return export(resnet_like(), (3, 40, 48), tmp_path_factory.mktemp("m") / "resnet.onnx")


@pytest.fixture(scope="module")
def vgg(tmp_path_factory):
    torch.manual_seed(2)
    return export(VggLike(), (1, 32, 32), tmp_path_factory.mktemp("m") / "vgg.onnx")


@pytest.mark.parametrize("which, shape", [("resnet", (3, 40, 48)), ("vgg", (1, 32, 32))])
def test_every_activation_equals_bare_onnxruntime(request, which, shape):
    path = request.getfixturevalue(which)
    net = load_network(path)
    assert net.input_shape == shape
    x = np.random.default_rng(3).random(shape, dtype=np.float32)
    result = net.run(x)
    bare = bare_outputs(path, x)
    assert list(result.activations) == list(net.layer_names)
    assert set(result.activations) <= set(bare)
    ops = {o: n.op_type for n in onnx.load(str(path)).graph.node for o in n.output}
    expected_ops = ({"Conv", "BatchNormalization", "Relu", "Add", "MaxPool", "GlobalAveragePool",
                     "Gemm"} if which == "resnet" else
                    {"Conv", "LeakyRelu", "Concat", "MaxPool", "AveragePool", "Softmax"})
    assert expected_ops <= {ops[k] for k in result.activations}
    for name, array in result.activations.items():
        np.testing.assert_allclose(array, bare[name][0], rtol=1e-5, atol=1e-5, err_msg=name)
    np.testing.assert_allclose(result.activations[onnx.load(str(path)).graph.output[0].name],
                               bare["final"][0], rtol=1e-5, atol=1e-6)
    assert result.probabilities.shape == (5 if which == "resnet" else 4,)
    assert result.probabilities.sum() == pytest.approx(1.0)


def test_probabilities_match_torch(resnet, vgg):
    for path, make, shape, seed in ((resnet, resnet_like, (3, 40, 48), 1),
                                    (vgg, VggLike, (1, 32, 32), 2)):
        torch.manual_seed(seed)
        model = make()
        export(model, shape, path.parent / "again.onnx")  # same weights and statistics
        x = np.random.default_rng(4).random(shape, dtype=np.float32)
        with torch.no_grad():
            out = model(torch.tensor(x[None]))[0]
        expected = out if make is VggLike else torch.softmax(out, 0)
        got = load_network(path.parent / "again.onnx").run(x).probabilities
        np.testing.assert_allclose(got, expected.numpy(), rtol=1e-4, atol=1e-6)


def by_op(path, result, op):
    ops = {o: n.op_type for n in onnx.load(str(path)).graph.node for o in n.output}
    return [(name, result.geometry[name]) for name in result.activations if ops[name] == op]


def test_vgg_geometry_follows_the_layers(vgg):
    net = load_network(vgg)
    result = net.run(np.zeros((1, 32, 32), np.float32))
    convs = by_op(vgg, result, "Conv")
    assert [(g.stride, g.extent) for _, g in convs] == [
        ((1, 1), (3, 3)), ((1, 1), (5, 5)),     # a (3x3), b (5x5)
        ((4, 4), (10, 10)),                     # c: 3x3 stride 2 after the max pool (2, 6)
        ((4, 4), (26, 26))]                     # d: 3x3 with dilation 2 at stride 4: +16
    cat = by_op(vgg, result, "Concat")[0][1]
    assert cat.extent == (5, 5) and cat.receptive_field(10, 10) == (8, 8, 13, 13)
    pools = by_op(vgg, result, "AveragePool")
    assert [(g.stride, g.extent, g.shape) for _, g in pools] == [
        ((8, 8), (30, 30), (4, 4)), ((8, 8), (38, 38), (3, 3))]
    # ceil mode: the last cell of the first average pool reads only the map's last row
    assert pools[0][1].receptive_field(3, 3)[2:] == (32, 32)
    flat = by_op(vgg, result, "Flatten")[0][0]
    assert result.geometry[flat] is None and "not a map" in result.geometry_notes[flat]


@pytest.mark.parametrize("which, shape", [("resnet", (3, 40, 48)), ("vgg", (1, 32, 32))])
def test_pixels_outside_a_receptive_field_do_not_change_the_cell(request, which, shape):
    path = request.getfixturevalue(which)
    net = load_network(path)
    rng = np.random.default_rng(5)
    x = rng.random(shape, dtype=np.float32)
    result = net.run(x)
    maps = [(n, g) for n, g in result.geometry.items() if g is not None and g.shape != (1, 1)]
    assert len(maps) >= 8
    for name, g in maps:
        h, w = g.shape
        r, c = int(rng.integers(h)), int(rng.integers(w))
        top, left, bottom, right = g.receptive_field(r, c)
        y = rng.random(shape, dtype=np.float32)
        y[:, top:bottom, left:right] = x[:, top:bottom, left:right]
        moved = net.run(y)
        np.testing.assert_allclose(moved.activations[name][:, r, c],
                                   result.activations[name][:, r, c], rtol=1e-5, atol=1e-5,
                                   err_msg=f"{name} ({r}, {c}), {top, left, bottom, right}")


def test_resnet_geometry(resnet):
    result = load_network(resnet).run(np.zeros((3, 40, 48), np.float32))
    pool = by_op(resnet, result, "MaxPool")[0][1]
    assert pool.stride == (4, 4) and pool.extent == (11, 11) and pool.shape == (10, 12)
    adds = by_op(resnet, result, "Add")
    assert [g.stride for _, g in adds] == [(4, 4), (8, 8)]
    gap = by_op(resnet, result, "GlobalAveragePool")[0][1]
    assert gap.receptive_field(0, 0) == (0, 0, 40, 48) and gap.stride == (None, None)
