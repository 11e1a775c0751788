"""Model files are untrusted: every unusable file is one NetworkLoadError naming it."""

from __future__ import annotations

import os
import sys

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from engine import NETWORKS, NetworkLoadError, load_network


def tiny_model(input_dims=(1, 1, 4, 4), op="Relu", domain="", elem=TensorProto.FLOAT,
               extra_inputs=0) -> onnx.ModelProto:
    """A one-node model: y = op(x)."""
    inputs = [helper.make_tensor_value_info("x", elem, list(input_dims))]
    inputs += [helper.make_tensor_value_info(f"x{i}", elem, list(input_dims))
               for i in range(extra_inputs)]
    node = helper.make_node(op, ["x"], ["y"], domain=domain)
    graph = helper.make_graph([node], "tiny", inputs,
                              [helper.make_tensor_value_info("y", elem, list(input_dims))])
    opsets = [helper.make_opsetid("", 17)] + ([helper.make_opsetid(domain, 1)] if domain else [])
    return helper.make_model(graph, opset_imports=opsets)


def write(tmp_path, model: onnx.ModelProto, name="m.onnx"):
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


def refused(path, *words, **kwargs):
    with pytest.raises(NetworkLoadError) as info:
        load_network(path, **kwargs)
    message = str(info.value)
    assert str(path) in message and "\n" not in message, message
    for word in words:
        assert word in message, message
    return message


def test_a_tiny_model_loads_and_runs(tmp_path):
    net = load_network(write(tmp_path, tiny_model()))
    assert net.name == "m" and net.input_shape == (1, 4, 4) and net.labels is None
    x = np.arange(16, dtype=np.float32).reshape(4, 4) - 8
    result = net.run(x)
    assert list(result.activations) == ["y"]
    np.testing.assert_array_equal(result.activations["y"], np.maximum(x, 0)[None])
    assert result.probabilities is None
    assert result.geometry["y"].receptive_field(2, 3) == (2, 3, 3, 4)


def test_missing_folder_and_empty_files(tmp_path):
    refused(tmp_path / "nope.onnx", "no such file")
    refused(tmp_path, "is a folder")
    (tmp_path / "empty.onnx").write_bytes(b"")
    refused(tmp_path / "empty.onnx", "empty")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.onnx"
    os.mkfifo(fifo)
    refused(fifo, "not a regular file", "FIFO")


def test_oversized_files_are_refused_unread(tmp_path):
    path = write(tmp_path, tiny_model())
    size = path.stat().st_size
    refused(path, "more than the limit", f"{size - 1:,}", max_bytes=size - 1)
    assert load_network(path, max_bytes=size).input_shape == (1, 4, 4)


def test_files_that_are_not_onnx(tmp_path):
    (tmp_path / "text.onnx").write_text("this is not a model\n" * 20)
    refused(tmp_path / "text.onnx", "not an ONNX model")
    png = tmp_path / "image.onnx"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    refused(png, "not an ONNX model")
    # A pickle is never unpickled: it is only bytes that do not parse as ONNX.
    import pickle

    (tmp_path / "model.pkl").write_bytes(pickle.dumps({"weights": np.zeros(3)}))
    refused(tmp_path / "model.pkl", "not an ONNX model")


def test_truncated_and_damaged_models(tmp_path):
    data = NETWORKS["digits-max"].path.read_bytes()
    for cut in (len(data) // 3, len(data) // 2, len(data) - 7):
        (tmp_path / f"cut{cut}.onnx").write_bytes(data[:cut])
        refused(tmp_path / f"cut{cut}.onnx")
    damaged = bytearray(data)
    damaged[100:400] = bytes(300)
    (tmp_path / "damaged.onnx").write_bytes(bytes(damaged))
    refused(tmp_path / "damaged.onnx")
    # a node that reads a tensor nobody makes
    model = tiny_model()
    model.graph.node[0].input[0] = "ghost"
    refused(write(tmp_path, model, "ghost.onnx"), "damaged or truncated")


@pytest.mark.parametrize("dims, words", [
    ((1, 16), "not an image tensor N x C x H x W"),
    ((1, 1, 1, 4, 4), "not an image tensor"),
    ((8, 1, 4, 4), "fixed batch of 8"),
])
def test_inputs_that_are_not_images(tmp_path, dims, words):
    refused(write(tmp_path, tiny_model(dims)), words)


def test_integer_inputs_and_several_inputs(tmp_path):
    refused(write(tmp_path, tiny_model(op="Identity", elem=TensorProto.INT64)), "not float32")
    model = tiny_model(op="Identity", extra_inputs=1)
    refused(write(tmp_path, model), "2 inputs", "'x'", "'x0'")


def test_a_model_without_outputs(tmp_path):
    model = tiny_model()
    del model.graph.output[:]
    refused(write(tmp_path, model), "no outputs")


def test_an_output_that_ignores_the_input(tmp_path):
    model = tiny_model(op="Identity")
    model.graph.node[0].op_type = "Constant"
    del model.graph.node[0].input[:]
    model.graph.node[0].attribute.append(helper.make_attribute(
        "value", numpy_helper.from_array(np.zeros((1, 1, 4, 4), np.float32))))
    refused(write(tmp_path, model), "does not depend on the input")


def test_an_operator_the_runtime_lacks(tmp_path):
    model = tiny_model(op="NoSuchOperator", domain="com.example")
    refused(write(tmp_path, model), "onnxruntime cannot run it")


def test_external_data_is_refused(tmp_path):
    model = tiny_model(op="Add")
    model.graph.node[0].input.append("w")
    weight = numpy_helper.from_array(np.ones((1, 1, 4, 4), np.float32), "w")
    model.graph.initializer.append(weight)
    onnx.save_model(model, str(tmp_path / "ext.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin",
                    size_threshold=0)
    assert (tmp_path / "weights.bin").exists()
    refused(tmp_path / "ext.onnx", "external data", "'w'")


def test_labels_from_metadata_or_argument(tmp_path):
    graph = helper.make_graph(
        [helper.make_node("Flatten", ["x"], ["y"])], "cls",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3, 1, 1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    helper.set_model_props(model, {"labels": '["cat", "dog", "fish"]'})
    path = write(tmp_path, model)
    net = load_network(path)
    assert net.labels == ("cat", "dog", "fish") and net.input_shape == (3, 1, 1)
    result = net.run(np.array([0.0, 1.0, 2.0], np.float32).reshape(3, 1, 1))
    e = np.exp([0.0, 1.0, 2.0])
    np.testing.assert_allclose(result.probabilities, e / e.sum(), rtol=1e-6)
    assert load_network(path, labels=["a", "b", "c"]).labels == ("a", "b", "c")
    refused(path, "2 labels for 3 classes", labels=["a", "b"])
    helper.set_model_props(model, {"labels": "[not json"})
    refused(write(tmp_path, model, "bad.onnx"), "not JSON")


def test_run_refuses_inputs_of_the_wrong_size(tmp_path):
    net = load_network(write(tmp_path, tiny_model()))
    with pytest.raises(ValueError, match="height 5 instead of 4, width 3 instead of 4"):
        net.run(np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match="NaN or infinite"):
        net.run(np.full((4, 4), np.nan, np.float32))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        net.run(np.zeros((1, 1, 4, 4), np.float32))


@pytest.mark.skipif(sys.platform == "win32", reason="permissions differ")
def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = write(tmp_path, tiny_model())
    path.chmod(0)
    refused(path, "permission denied")



def test_random_damage_gives_a_network_or_one_load_error(tmp_path):
    """Bytes overwritten at random and files cut short: each load gives a network (the
    damage hit the weights) or a NetworkLoadError; a run gives probabilities or a
    ValueError; nothing else escapes. (Seen while fuzzing: the checker's report can quote a
    damaged name that is not UTF-8 text.)"""
    data = NETWORKS["digits-max"].path.read_bytes()
    rng = np.random.default_rng(11)
    path = tmp_path / "damaged.onnx"
    outcomes = set()
    for _ in range(80):
        damaged = bytearray(data)
        for _ in range(int(rng.integers(1, 6))):
            damaged[int(rng.integers(len(damaged)))] = int(rng.integers(256))
        if rng.random() < 0.3:
            damaged = damaged[:int(rng.integers(len(damaged)))]
        path.write_bytes(bytes(damaged))
        try:
            net = load_network(path)
        except NetworkLoadError as exc:
            assert str(path) in str(exc) and "\n" not in str(exc)
            outcomes.add("refused")
            continue
        try:
            net.run(np.zeros((28, 28), np.float32))
            outcomes.add("ran")
        except ValueError:
            outcomes.add("run refused")
    assert {"refused", "ran"} <= outcomes
