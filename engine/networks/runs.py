"""Everything a state's network shows, computed at once: A's (and B's) run, their
comparison and the shift map (:func:`engine.run_state` calls :func:`run_choice`)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..comparison import InputTransform
from .choice import NetworkChoice
from .comparing import NetworkComparison, compare_views
from .shift_map import ShiftMap, shift_map
from .view import NetworkView, run_network

__all__ = ["NetworkRun", "run_choice"]


@dataclass(frozen=True, eq=False)
class NetworkRun:
    """What a state's network shows.

    Attributes
    ----------
    choice : NetworkChoice
    a : NetworkView
        Input A through the network.
    b : NetworkView or None
        Input B, while comparing.
    comparison : NetworkComparison or None
        A and B layer by layer, with both top-1 classes.
    shift_map : ShiftMap or None
        A's answer for every shift in ``-r .. r`` (None when ``choice.shift_radius`` is 0
        or the network is no classifier).
    """

    choice: NetworkChoice
    a: NetworkView = field(repr=False)
    b: NetworkView | None = field(repr=False)
    comparison: NetworkComparison | None = field(repr=False)
    shift_map: ShiftMap | None = field(repr=False)


def run_choice(choice: NetworkChoice, image_a: np.ndarray, image_b: np.ndarray | None = None,
               transform: InputTransform | None = None, *, top_k: int = 3) -> NetworkRun:
    """Run A (and B) through the chosen network, compare them and make A's shift map.

    The shift map costs (2r + 1)^2 classifications: about 20 ms for a digit network, but
    seconds for a ResNet-sized model at 224x224. A caller that must answer quickly chooses
    ``shift_radius=0`` here and makes the map apart (:func:`shift_map`, which can be
    cancelled).

    Parameters
    ----------
    choice : NetworkChoice
    image_a : (H, W) array
    image_b : (H, W) array, optional
        B's pixels while comparing.
    transform : InputTransform, optional
        How B was made from A. It is used for the transform errors only when neither
        input was resized or cropped (then it holds in the network's pixels too).
    top_k : int
        Largest cells kept per layer.

    Raises
    ------
    NetworkChoiceError, NetworkLoadError, LabelsError
        When the network cannot be loaded (see :meth:`NetworkChoice.load`).
    ValueError
        When it cannot run on the inputs, or a chosen layer does not exist; or for a
        side-by-side choice (run each of its :attr:`~NetworkChoice.members`).
    """
    if choice.side_by_side:
        raise ValueError("run_choice runs one network; run each of choice.members for the "
                         "networks side by side (engine.run_state does).")
    net = choice.load()
    settings = {"preparation": choice.preparation, "layers": choice.layers,
                "order": choice.order, "top_k": top_k}
    a = run_network(net, image_a, **settings)
    b = comparison = None
    if image_b is not None:
        b = run_network(net, image_b, **{**settings, "layers": a.layer_names})
        kept = all(v.prepared.source_shape == v.prepared.shape for v in (a, b))
        comparison = compare_views(a, b, transform if kept else None)
    smap = None
    if choice.shift_radius and a.probabilities is not None:
        smap = shift_map(net, a.prepared, radius=choice.shift_radius, wrap=choice.shift_wrap)
    return NetworkRun(choice, a, b, comparison, smap)
