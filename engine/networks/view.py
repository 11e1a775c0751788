"""One image through a network, ready to draw: the prepared input, the chosen layers as
panels, and the answer (class probabilities, top-1, the bars of a bar chart).

>>> from engine import NETWORKS
>>> x = np.zeros((28, 28), np.float32); x[4:24, 13:15] = 1   # a "1"
>>> view = run_network(NETWORKS["digits-max"], x)
>>> view.top1_label, [p.shape for p in view.panels]
('1', [(32, 14, 14), (64, 7, 7)])
>>> view.bars()[1].top1
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .._checks import positive_int
from .layers import LayerPanel, default_layers, layer_panels
from .model import Network, NetworkResult
from .prepare import InputPreparation, PreparedInput, prepare_input

__all__ = ["ClassBar", "NetworkView", "class_label", "run_network", "view_of"]

#: Classes shown as bars when a network has more (the most probable ones).
MAX_BARS = 10


@dataclass(frozen=True)
class ClassBar:
    """One bar of the probability chart."""

    index: int
    label: str
    probability: float
    top1: bool


def class_label(labels: Sequence[str] | None, index: int) -> str:
    """The name of class `index`, or ``"class N"`` without names."""
    return labels[index] if labels is not None and 0 <= index < len(labels) else f"class {index}"


@dataclass(frozen=True, eq=False)
class NetworkView:
    """What one run shows (see the module notes).

    Attributes
    ----------
    network : str
        The network's name.
    prepared : PreparedInput
        The input as the network got it, and how it was made (``prepared.note``).
    result : NetworkResult
        Every layer's output and geometry.
    panels : tuple of LayerPanel
        The chosen layers, in the order chosen.
    labels : tuple of str or None
        Class names.
    """

    network: str
    prepared: PreparedInput = field(repr=False)
    result: NetworkResult = field(repr=False)
    panels: tuple[LayerPanel, ...] = field(repr=False)
    labels: tuple[str, ...] | None = field(repr=False)

    @property
    def layer_names(self) -> tuple[str, ...]:
        """The panels' layer names, in order."""
        return tuple(p.name for p in self.panels)

    def panel(self, name: str) -> LayerPanel:
        """The panel of layer `name`.

        Raises
        ------
        KeyError
            If no panel shows that layer.
        """
        for p in self.panels:
            if p.name == name:
                return p
        raise KeyError(f"no panel shows layer {name!r}; panels: {', '.join(self.layer_names)}")

    @property
    def probabilities(self) -> np.ndarray | None:
        """``(K,)`` class probabilities, or None when the network is no classifier."""
        return self.result.probabilities

    @property
    def top1(self) -> int | None:
        """The most probable class, or None."""
        return self.result.top1

    @property
    def top1_label(self) -> str | None:
        """The most probable class's name, or None."""
        return None if self.top1 is None else class_label(self.labels, self.top1)

    @property
    def top1_probability(self) -> float | None:
        """The most probable class's probability, or None."""
        return None if self.top1 is None else float(self.probabilities[self.top1])

    def bars(self, limit: int = MAX_BARS) -> tuple[ClassBar, ...]:
        """The bars of a probability chart: every class in index order when there are at
        most `limit`, else the `limit` most probable, most probable first; empty when the
        network is no classifier.

        Raises
        ------
        ValueError
            If `limit` is below 1.
        """
        limit = positive_int(limit, "limit")
        p = self.probabilities
        if p is None:
            return ()
        order = np.arange(len(p)) if len(p) <= limit \
            else np.argsort(-p, kind="stable")[:limit]
        return tuple(ClassBar(int(i), class_label(self.labels, int(i)), float(p[i]),
                              int(i) == self.top1) for i in order)


def run_network(network: Network, image: np.ndarray, *,
                preparation: InputPreparation | None = None,
                layers: Sequence[str] | None = None, order: str = "activation",
                top_k: int = 3) -> NetworkView:
    """Prepare `image` for `network`, run it, and make the panels of the chosen layers.

    Parameters
    ----------
    network : Network
    image : (H, W) array
        Grey in [0, 1].
    preparation : InputPreparation, optional
        Fit, mean, std (see :func:`prepare_input`).
    layers : sequence of str, optional
        The layers to show; by default :func:`default_layers`.
    order : {"activation", "index"}
        The channel order of the panels.
    top_k : int
        Largest cells kept per layer.

    Returns
    -------
    NetworkView

    Raises
    ------
    ValueError
        For a bad image or preparation, a layer that cannot be shown (the message lists
        those that can), or a failing run.
    """
    prepared = prepare_input(image, network, preparation)
    result = network.run(prepared.x)
    names = default_layers(network, result) if layers is None else tuple(layers)
    return view_of(network, prepared, result, names, order=order, top_k=top_k)


def view_of(network: Network, prepared: PreparedInput, result: NetworkResult,
            layers: Sequence[str], *, order: str = "activation", top_k: int = 3
            ) -> NetworkView:
    """A :class:`NetworkView` of a run already made (no network is run)."""
    panels = layer_panels(result, layers, prepared.shape, order=order, top_k=top_k)
    return NetworkView(network.name, prepared, result, panels, network.labels)
