"""Layers as panels, against bare onnxruntime run on the model files: the maps, the maximum
over channels, the largest cells, the channel order, the placement over the input, hover
values and related cells; and which layers are shown by default."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from engine.networks import (
    NETWORKS,
    default_layers,
    held_out_digits,
    layer_panels,
    load_network,
    panel_layers,
    run_network,
)
from resources import network_path

torch = pytest.importorskip("torch")
from user_models import EXPORT_WARNINGS, bare_layers, export, rgb_classifier  # noqa: E402  (needs torch)

pytestmark = EXPORT_WARNINGS
COPY_OPS = {"Slice", "Pad", "Concat"}


def reference_maxima(acts: np.ndarray, k: int) -> list[tuple[int, int, int, float]]:
    flat = acts.ravel()
    order = sorted(range(flat.size), key=lambda i: (-flat[i], i))[:k]
    return [(*(int(v) for v in np.unravel_index(i, acts.shape)), float(flat[i])) for i in order]


def check_panels(net, x, panels, model_path):
    bare = bare_layers(model_path, x, [p.name for p in panels])
    for p in panels:
        ref = bare[p.name]
        np.testing.assert_allclose(p.activations, ref, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(p.channel_max, ref.max(axis=0), rtol=1e-5, atol=1e-5)
        assert [m[:3] for m in p.maxima] == [m[:3] for m in reference_maxima(p.activations, 3)]
        np.testing.assert_allclose([m[3] for m in p.maxima],
                                   [m[3] for m in reference_maxima(ref, 3)], rtol=1e-5)
        peaks = ref.reshape(ref.shape[0], -1).max(axis=1)
        assert [peaks[c] for c in p.order] == sorted(peaks, reverse=True)
        c, r, col, v = p.maxima[0]
        assert v == pytest.approx(ref.max(), rel=1e-5)
        assert p.peak_field == p.geometry.receptive_field(r, col)
        # hover: the value and the channel that wins the cell
        reading = p.value_at(r, col)
        assert reading.channel == int(np.argmax(p.activations[:, r, col]))
        assert reading.value == pytest.approx(float(ref[:, r, col].max()), rel=1e-5)
        assert p.value_at(r, col, channel=0).value == pytest.approx(float(ref[0, r, col]),
                                                                    rel=1e-5, abs=1e-5)


@pytest.mark.parametrize("name", list(NETWORKS))
def test_digit_network_panels_match_bare_onnxruntime(name):
    net = NETWORKS[name]
    images, _ = held_out_digits()
    view = run_network(net, images[3])
    check_panels(net, view.prepared.x, view.panels, network_path(name))
    assert view.top1 == int(np.argmax(bare_layers(network_path(name), view.prepared.x,
                                                  [])["final"]))


def test_a_user_model_panels_match_bare_onnxruntime(tmp_path):
    path = export(rgb_classifier(), (3, 32, 32), tmp_path / "rgb.onnx")
    net = load_network(path)
    x = np.random.default_rng(0).random((32, 32), dtype=np.float32)
    view = run_network(net, x, order="index", top_k=3)
    assert all(p.order == tuple(range(p.shape[0])) for p in view.panels)
    ordered = run_network(net, x)
    check_panels(net, ordered.prepared.x, ordered.panels, path)


def test_the_default_layers_end_each_downsampling_stage_and_the_last_map(tmp_path):
    path = export(rgb_classifier(), (3, 64, 64), tmp_path / "rgb.onnx")
    net = load_network(path)
    result = net.run(np.zeros((3, 64, 64), np.float32))
    model = onnx.load(str(path))
    ops = {o: n.op_type for n in model.graph.node for o in n.output}
    usable = panel_layers(result)
    chosen = default_layers(net, result)
    strides = [result.geometry[n].stride for n in chosen]
    # stem conv /2, max pool /4, stage 2 /8: one layer each, the last that computes values
    assert strides == [(2, 2), (4, 4), (8, 8)]
    for name, stride in zip(chosen, strides, strict=True):
        later = [n for n in usable[usable.index(name) + 1:]
                 if result.geometry[n].stride == stride and ops[n] not in COPY_OPS]
        assert later == [] and ops[name] not in COPY_OPS
    assert chosen[-1] == usable[-1]
    assert [result.activations[n].shape for n in chosen] == [(8, 32, 32), (8, 16, 16),
                                                             (16, 8, 8)]


def test_panels_lie_over_the_input_centred_on_their_receptive_fields():
    net = NETWORKS["digits-max"]
    result = net.run(held_out_digits()[0][0])
    panels = layer_panels(result, panel_layers(result), (28, 28))
    for p in panels:
        x0, y0, w, h = p.rect
        assert (w, h) == (p.shape[2] * p.stride[1], p.shape[1] * p.stride[0])
        # an interior cell: its drawn square is centred on its receptive field
        r, c = p.shape[1] // 2, p.shape[2] // 2
        top, left, bottom, right = p.receptive_field(r, c)
        if bottom - top == p.geometry.extent[0]:
            assert p.cell_centre(r, c) == ((top + bottom) / 2, (left + right) / 2)
        assert p.cell_at(*p.cell_centre(r, c)) == (r, c)
        assert p.cell_at(y0 - 0.5, x0) is None


def test_related_cells_read_or_are_read_by_the_cell():
    net = NETWORKS["digits-blurmax"]
    result = net.run(held_out_digits()[0][0])
    panels = layer_panels(result, default_layers(net, result), (28, 28))
    shallow, deep = panels[0], panels[-1]
    assert deep.stride > shallow.stride
    r, c = 3, 4
    cy, cx = shallow.cell_centre(r, c)
    r0, c0, r1, c1 = shallow.related_cells(r, c, deep)
    starts_y, starts_x = deep._nominal_starts()
    ey, ex = deep.geometry.extent
    for row in range(deep.shape[1]):
        reads = starts_y[row] <= cy < starts_y[row] + ey
        assert reads == (r0 <= row < r1)
    for col in range(deep.shape[2]):
        assert (starts_x[col] <= cx < starts_x[col] + ex) == (c0 <= col < c1)
    # the other way: the shallow cells whose centres lie in the deep cell's field
    r0, c0, r1, c1 = deep.related_cells(2, 2, shallow)
    top = deep._nominal_starts()[0][2]
    for row in range(shallow.shape[1]):
        y = shallow.cell_centre(row, 0)[0]
        assert (top <= y < top + ey) == (r0 <= row < r1)
    with pytest.raises(ValueError, match="outside"):
        deep.related_cells(99, 0, shallow)


def test_unknown_or_unplaceable_layers_are_refused_with_the_choices():
    net = NETWORKS["digits-max"]
    result = net.run(np.zeros((28, 28), np.float32))
    with pytest.raises(ValueError, match="not a layer of this network; choose from"):
        layer_panels(result, ["nope"], (28, 28))
    with pytest.raises(ValueError, match="no map with a whole stride"):
        layer_panels(result, ["logits"], (28, 28))
    p = layer_panels(result, default_layers(net, result)[:1], (28, 28))[0]
    with pytest.raises(ValueError, match="channel must be"):
        p.channel_map(p.shape[0])


@pytest.mark.parametrize("name", list(NETWORKS))
def test_largest_cells_keep_index_order_among_ties(name):
    # A blank input makes every channel nearly constant: ties everywhere.
    net = NETWORKS[name]
    result = net.run(np.zeros((28, 28), np.float32))
    panels = layer_panels(result, panel_layers(result), (28, 28), top_k=7)
    for p in panels:
        assert list(p.maxima) == reference_maxima(np.asarray(p.activations), 7), p.name


def test_what_a_panel_keeps_for_drawing_matches_its_maps():
    net = NETWORKS["digits-aps"]
    view = run_network(net, held_out_digits()[0][7], top_k=4)
    for p in view.panels:
        acts = np.asarray(p.activations)
        np.testing.assert_array_equal(p.channel_lows, acts.reshape(len(acts), -1).min(axis=1))
        for c in range(acts.shape[0]):
            r, col = np.unravel_index(np.argmax(acts[c]), acts.shape[1:])
            assert p.map_maxima(c, 1) == [(int(r), int(col), float(acts[c].max()))]
            assert tuple(p.channel_peak_cells[c]) == (r, col)
        m = acts.max(axis=0)
        ref = sorted(((float(m[i, j]), i, j) for i in range(m.shape[0])
                      for j in range(m.shape[1])), key=lambda t: (-t[0], t[1], t[2]))[:4]
        assert p.map_maxima(None, 4) == [(i, j, v) for v, i, j in ref]
        assert p.map_maxima(None, 6) == [(i, j, v) for v, i, j in sorted(
            ((float(m[i, j]), i, j) for i in range(m.shape[0]) for j in range(m.shape[1])),
            key=lambda t: (-t[0], t[1], t[2]))[:6]]
