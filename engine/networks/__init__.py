"""Trained networks in the engine: ONNX models run with onnxruntime, every layer kept.

- :func:`load_network` reads an ONNX file (untrusted input, refused with
  :class:`NetworkLoadError` when it cannot be used) into a :class:`Network`;
- :data:`NETWORKS` holds the bundled digit networks (``digits-max``, ``digits-blurmax``,
  ``digits-aps``), loaded on first use;
- :func:`measure` says how much a network's answer moves under one-pixel shifts;
- :func:`prepare_input` fits a grey image to a model's input (size, channels, mean/std);
- :func:`run_network` gives a :class:`NetworkView`: the chosen layers as
  :class:`LayerPanel` objects (maps over the input, maxima, receptive fields, hover
  values) and the class probabilities;
- :func:`shift_map` gives the top-1 class for every shift in -4..4 (a :class:`ShiftMap`);
- :func:`compare_views` and :func:`network_sweep` compare inputs and sweep shifts layer
  by layer;
- :class:`NetworkChoice` is the network of a state (bundled name, or model file with its
  SHA-256, and the settings), run by :func:`run_choice` into a :class:`NetworkRun`.
"""

from .bundled import NETWORKS, held_out_digits
from .choice import NetworkChoice, NetworkChoiceError
from .comparing import NetworkComparison, NetworkSweep, compare_views, network_sweep
from .geometry import MapGeometry
from .layers import (
    CHANNEL_ORDERS,
    CellValue,
    LayerPanel,
    default_layers,
    layer_panels,
    panel_layers,
    short_name,
)
from .measure import MeasureResult, measure
from .model import MAX_MODEL_BYTES, Network, NetworkLoadError, NetworkResult, load_network
from .prepare import (
    FITS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    InputPreparation,
    LabelsError,
    PreparedInput,
    is_bundled,
    prepare_input,
    read_labels,
)
from .runs import NetworkRun, run_choice
from .shift_map import MAX_SHIFT_RANGE, ShiftMap, shift_map
from .view import ClassBar, NetworkView, class_label, run_network, view_of

__all__ = ["CHANNEL_ORDERS", "FITS", "IMAGENET_MEAN", "IMAGENET_STD", "MAX_MODEL_BYTES",
           "MAX_SHIFT_RANGE", "NETWORKS", "CellValue", "ClassBar", "InputPreparation",
           "LabelsError", "LayerPanel", "MapGeometry", "MeasureResult", "Network",
           "NetworkChoice", "NetworkChoiceError", "NetworkComparison", "NetworkLoadError",
           "NetworkResult", "NetworkRun", "NetworkSweep", "NetworkView", "PreparedInput",
           "ShiftMap", "class_label", "compare_views", "default_layers", "held_out_digits",
           "is_bundled", "layer_panels", "load_network", "measure", "network_sweep",
           "panel_layers", "prepare_input", "read_labels", "run_choice", "run_network",
           "shift_map", "short_name", "view_of"]
