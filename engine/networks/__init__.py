"""Trained networks in the engine: ONNX models run with onnxruntime, every layer kept.

- :func:`load_network` reads an ONNX file (untrusted input, refused with
  :class:`NetworkLoadError` when it cannot be used) into a :class:`Network`;
- :data:`NETWORKS` holds the bundled digit networks (``digits-max``, ``digits-blurmax``,
  ``digits-aps``), loaded on first use;
- :func:`measure` says how much a network's answer moves under one-pixel shifts.
"""

from .bundled import NETWORKS, held_out_digits
from .geometry import MapGeometry
from .measure import MeasureResult, measure
from .model import MAX_MODEL_BYTES, Network, NetworkLoadError, NetworkResult, load_network

__all__ = ["MAX_MODEL_BYTES", "NETWORKS", "MapGeometry", "MeasureResult", "Network",
           "NetworkLoadError", "NetworkResult", "held_out_digits", "load_network", "measure"]
