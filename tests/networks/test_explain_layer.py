"""A layer cell split into its input channels, checked against PyTorch channel by channel."""

from __future__ import annotations

import numpy as np
import pytest
from user_models import EXPORT_WARNINGS, export

from engine import NETWORKS
from engine.networks import load_network
from engine.networks.explain_layer import LayerExplainError, explain_layer_cell

pytestmark = EXPORT_WARNINGS
torch = pytest.importorskip("torch")
F = torch.nn.functional


def _net():
    """Conv (groups 2, stride 2, dilation 2, padding 3) -> ReLU -> MaxPool -> Conv."""
    torch.manual_seed(3)
    first = torch.nn.Conv2d(4, 6, 3, stride=2, padding=3, dilation=2, groups=2)
    second = torch.nn.Conv2d(6, 5, 3, padding=1, bias=False)
    return torch.nn.Sequential(first, torch.nn.ReLU(), torch.nn.MaxPool2d(2), second).eval()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    model = _net()
    path = export(model, (4, 17, 19), tmp_path_factory.mktemp("m") / "grouped.onnx")
    net = load_network(path)
    x = np.random.default_rng(1).normal(size=(4, 17, 19)).astype(np.float32)
    return model, net, x, net.run(x)


def _layer(net, op: str, index: int = 0) -> str:
    return [o for n in net.nodes if n.op_type == op for o in n.output][index]


def _torch_parts(conv, inp: torch.Tensor, c: int, row: int, col: int) -> dict[int, float]:
    """Each input channel's part from PyTorch: a one-channel convolution per channel."""
    per = conv.in_channels // conv.groups
    first = c // (conv.out_channels // conv.groups) * per
    out = {}
    for k in range(per):
        y = F.conv2d(inp[:, first + k:first + k + 1], conv.weight[c:c + 1, k:k + 1],
                     stride=conv.stride, padding=conv.padding, dilation=conv.dilation)
        out[first + k] = float(y[0, 0, row, col])
    return out


@pytest.mark.parametrize(("c", "row", "col"), [(0, 0, 0), (4, 5, 7), (3, 9, 1), (5, 4, 10)])
def test_grouped_strided_conv_channels_match_pytorch(built, c, row, col):
    model, net, x, r = built
    e = explain_layer_cell(net, r, x, _layer(net, "Conv"), c, row, col, top=10)
    with torch.no_grad():
        want = _torch_parts(model[0], torch.from_numpy(x)[None], c, row, col)
        pre = float(model[0](torch.from_numpy(x)[None])[0, c, row, col])
    assert e.channels == 2 and len(e.contributions) == 2
    assert {p.channel for p in e.contributions} == set(want)
    for p in e.contributions:
        assert p.contribution == pytest.approx(want[p.channel], abs=1e-5)
    sizes = [abs(p.contribution) for p in e.contributions]
    assert sizes == sorted(sizes, reverse=True)
    assert sum(p.share for p in e.contributions) == pytest.approx(1.0)
    assert e.bias == pytest.approx(float(model[0].bias.detach()[c]))
    assert e.pre_activation == pytest.approx(pre, abs=1e-5)
    assert e.reproduces and e.total == pytest.approx(pre, abs=1e-4)


def test_relu_is_explained_through_its_conv_and_top_limits(built):
    model, net, x, r = built
    relu = _layer(net, "Relu")
    e = explain_layer_cell(net, r, x, relu, 2, 3, 3, top=1)
    assert e.conv == _layer(net, "Conv") and e.via == "Relu"
    assert e.value == pytest.approx(max(e.pre_activation, 0.0))
    assert len(e.contributions) == 1 and e.reproduces


def test_second_conv_without_bias_matches_pytorch(built):
    model, net, x, r = built
    with torch.no_grad():
        pooled = model[:3](torch.from_numpy(x)[None])
        want = _torch_parts(model[3], pooled, 1, 2, 3)
    e = explain_layer_cell(net, r, x, _layer(net, "Conv", 1), 1, 2, 3, top=3)
    assert e.bias == 0.0 and e.channels == 6 and e.reproduces
    best = max(want, key=lambda k: abs(want[k]))
    assert e.contributions[0].channel == best
    assert e.contributions[0].contribution == pytest.approx(want[best], abs=1e-5)


def test_layers_that_are_no_conv_cell_are_refused(built):
    _model, net, x, r = built
    pool = _layer(net, "MaxPool")
    with pytest.raises(LayerExplainError, match="MaxPool.*reads a window"):
        explain_layer_cell(net, r, x, pool, 0, 0, 0)
    with pytest.raises(LayerExplainError, match="outside"):
        explain_layer_cell(net, r, x, _layer(net, "Conv"), 6, 0, 0)
    with pytest.raises(LayerExplainError, match="not an output"):
        explain_layer_cell(net, r, x, "nothing", 0, 0, 0)


def test_bundled_digit_network_reproduces_every_cell_of_a_layer():
    net = NETWORKS["digits-max"]
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 5:23, 9:12] = 1
    x[0, 5:8, 9:20] = 1
    r = net.run(x)
    relu = "/features/features.6/Relu_output_0"
    c, h, w = r.activations[relu].shape
    for row in range(h):
        for col in range(w):
            e = explain_layer_cell(net, r, x, relu, (row * w + col) % c, row, col)
            assert e.reproduces, (row, col, e.total, e.pre_activation)


def test_the_weights_that_run_explain_even_after_the_file_changes(tmp_path):
    torch.manual_seed(5)
    first = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU()).eval()
    path = export(first, (2, 8, 8), tmp_path / "m.onnx")
    net = load_network(path)
    x = np.random.default_rng(2).normal(size=(2, 8, 8)).astype(np.float32)
    r = net.run(x)
    torch.manual_seed(6)  # the same architecture with other weights, over the same file
    export(torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.ReLU()).eval(), (2, 8, 8),
           path)
    e = explain_layer_cell(net, r, x, _layer(net, "Conv"), 1, 2, 3)
    with torch.no_grad():
        want = _torch_parts(first[0], torch.from_numpy(x)[None], 1, 2, 3)
    assert e.reproduces
    for p in e.contributions:
        assert p.contribution == pytest.approx(want[p.channel], abs=1e-5)
