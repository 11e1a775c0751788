"""Geometry derived from hand-built ONNX graphs: pads, SAME padding, dilation, and an
operator whose geometry is not derived."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from engine import load_network


def graph_model(nodes, initializers, shape=(1, 1, 12, 12)) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)],
        initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return onnx.shape_inference.infer_shapes(model)


def test_geometry_of_pads_same_padding_and_an_unknown_operator(tmp_path):
    """Reflect, edge and wrap padding, auto_pad SAME_UPPER with stride 2 and a dilated pool;
    then Resize, whose geometry is not derived. A pixel outside a cell's receptive field
    never changes the cell."""
    rng = np.random.default_rng(7)
    inits = [numpy_helper.from_array(np.array([0, 0, 2, 1, 0, 0, 1, 2], np.int64), "pads"),
             numpy_helper.from_array(rng.normal(size=(2, 1, 3, 3)).astype(np.float32), "w"),
             numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")]
    nodes = [helper.make_node("Pad", ["x", "pads"], ["reflect"], mode="reflect"),
             helper.make_node("Pad", ["reflect", "pads"], ["edge"], mode="edge"),
             helper.make_node("Pad", ["edge", "pads"], ["wrap"], mode="wrap"),
             helper.make_node("Conv", ["wrap", "w"], ["conv"], auto_pad="SAME_UPPER",
                              strides=[2, 2]),
             helper.make_node("MaxPool", ["conv"], ["pool"], kernel_shape=[2, 2],
                              dilations=[2, 2]),
             helper.make_node("Resize", ["pool", "", "scales"], ["up"], mode="nearest")]
    path = tmp_path / "g.onnx"
    path.write_bytes(graph_model(nodes, inits).SerializeToString())
    net = load_network(path)
    x = rng.random((12, 12), dtype=np.float32)
    result = net.run(x)
    assert list(result.activations) == ["reflect", "edge", "wrap", "conv", "pool", "up"]
    assert result.geometry["up"] is None and "Resize" in result.geometry_notes["up"]
    assert result.geometry["pool"] is not None and result.geometry["pool"].stride == (2, 2)
    assert result.geometry["conv"].extent == (3, 3)
    assert result.geometry["pool"].extent == (7, 7)  # two conv cells apart: 2 * 2 + 3
    for name in ("reflect", "edge", "wrap", "conv", "pool"):
        g = result.geometry[name]
        for _ in range(6):
            r, c = (int(rng.integers(n)) for n in g.shape)
            top, left, bottom, right = g.receptive_field(r, c)
            assert bottom > top and right > left
            y = rng.random((12, 12), dtype=np.float32)
            y[top:bottom, left:right] = x[top:bottom, left:right]
            np.testing.assert_array_equal(net.run(y).activations[name][:, r, c],
                                          result.activations[name][:, r, c], err_msg=name)
    # reflect padding (2 rows above, 1 column left): padded cell (0, 3) is input (2, 2)
    assert result.geometry["reflect"].receptive_field(0, 3) == (2, 2, 3, 3)
