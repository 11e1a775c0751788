"""Comparing two inputs through a network layer by layer, and sweeping a shift through it.

The pipeline's comparison (:func:`engine.comparison.compare_runs`) is applied as it is to
the chosen layers: each layer is one "stage" whose map is what its panel shows by default,
the maximum over channels, and whose stride is the layer's. So a layer gets the same
distance ``||a - b|| / max(||a||, ||b||)``, peak displacement (in cells and input pixels),
near-tie flags and, when B is a transform of A in the network's own pixels, the transform
error ``||f(T x) - T' f(x)|| / ||f(x)||``. :attr:`NetworkComparison.tensor_distances`
adds the same distance over every channel.

>>> from engine import NETWORKS
>>> from engine.comparison import InputTransform
>>> from engine.networks.view import run_network
>>> net = NETWORKS["digits-aps"]
>>> x = np.zeros((28, 28), np.float32); x[4:24, 13:15] = 1
>>> t = InputTransform("shift", dy=4, dx=4)
>>> c = compare_views(run_network(net, x), run_network(net, t.apply(x)), t)
>>> [s.displacement_px for s in c.stages]
[(4, 4), (4, 4)]
>>> c.top1_a == c.top1_b
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .._checks import as_image, bounded_int, choice
from ..compare import StageComparison, relative_difference
from ..comparison import InputTransform, compare_runs
from ..sweep import SWEEP_AXES, SweepCancelled, cancel_check, check_shifts
from ..transforms import check_flag
from .layers import default_layers
from .model import Network
from .prepare import InputPreparation, prepare_input
from .shift_map import shifted_pixels
from .view import NetworkView, view_of

__all__ = ["NetworkComparison", "NetworkSweep", "compare_views", "network_sweep"]


@dataclass(frozen=True)
class _Stage:
    """A layer seen as a pipeline stage: what :func:`compare_runs` reads of one."""

    name: str
    array: np.ndarray
    stride: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        return self.array.shape


@dataclass(frozen=True)
class _Run:
    """A network view seen as a pipeline run: its layers as stages."""

    stages: list[_Stage]

    @classmethod
    def of(cls, view: NetworkView) -> _Run:
        return cls([_Stage(p.name, p.channel_max, p.stride) for p in view.panels])

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.stages]

    def __getitem__(self, name: str) -> _Stage:
        return next(s for s in self.stages if s.name == name)


@dataclass(frozen=True, eq=False)
class NetworkComparison:
    """A and B through one network, compared layer by layer.

    Attributes
    ----------
    a, b : NetworkView
    transform : InputTransform or None
        How B relates to A in the network's pixels; None when the relation does not
        carry over (the inputs were resized or cropped, or B is another image): then no
        transform errors.
    stages : list of StageComparison
        Per layer shown in both, on the maps over channels (see the module notes).
    differences : dict
        Layer name -> A - B of those maps over the compared cells, float32.
    tensor_distances : dict
        Layer name -> ``||a - b|| / max(||a||, ||b||)`` over every channel (NaN when both
        are zero, None when the layers' shapes differ).
    """

    a: NetworkView = field(repr=False)
    b: NetworkView = field(repr=False)
    transform: InputTransform | None
    stages: list[StageComparison]
    differences: dict[str, np.ndarray] = field(repr=False)
    tensor_distances: dict[str, float | None]

    @property
    def top1_a(self) -> int | None:
        """A's most probable class."""
        return self.a.top1

    @property
    def top1_b(self) -> int | None:
        """B's most probable class."""
        return self.b.top1

    @property
    def same_answer(self) -> bool | None:
        """Whether A and B get the same top-1 class (None without classes)."""
        return None if self.a.top1 is None else self.a.top1 == self.b.top1


def compare_views(a: NetworkView, b: NetworkView, transform: InputTransform | None = None
                  ) -> NetworkComparison:
    """Compare two runs of one network layer by layer.

    Parameters
    ----------
    a, b : NetworkView
        Runs of the same network (B usually a transform of A, or another image).
    transform : InputTransform, optional
        How B's network input relates to A's; gives the transform errors. Leave it out
        when it does not hold in the network's pixels (a resized photo, another image).

    Returns
    -------
    NetworkComparison

    Raises
    ------
    ValueError
        If the views come from different networks.
    """
    if a.network != b.network:
        raise ValueError(f"compare runs of one network; got {a.network!r} and {b.network!r}.")
    if transform is not None and transform.kind == "other":
        transform = None
    stages, differences = compare_runs(_Run.of(a), _Run.of(b), transform)
    tensors = {}
    for comp in stages:
        ta, tb = a.panel(comp.name).activations, b.panel(comp.name).activations
        tensors[comp.name] = (relative_difference(ta.reshape(ta.shape[0], -1),
                                                  tb.reshape(tb.shape[0], -1))
                              if ta.shape == tb.shape else None)
    return NetworkComparison(a, b, transform, stages, differences, tensors)


@dataclass(frozen=True, eq=False)
class NetworkSweep:
    """How a network's layers and answer change as the input slides.

    Attributes
    ----------
    shifts : tuple of int
    axis : str
    wrap : bool
    layers : tuple of str
        The layers measured.
    distances : (n_shifts, n_layers) float64 array
        Per shift and layer, ``||f(shifted) - f(unshifted)|| / max(...)`` over every
        channel, compared in place (NaN when both are zero).
    class_index : int or None
        The class whose probability is followed: the one asked, else the unshifted
        input's top-1; None for a network that is no classifier.
    probability : (n_shifts,) float64 array or None
        That class's probability per shift.
    top1 : (n_shifts,) int array or None
        The top-1 class per shift.
    """

    shifts: tuple[int, ...]
    axis: str
    wrap: bool
    layers: tuple[str, ...]
    distances: np.ndarray = field(repr=False)
    class_index: int | None
    probability: np.ndarray | None = field(repr=False)
    top1: np.ndarray | None = field(repr=False)


def network_sweep(network: Network, image: np.ndarray, shifts: Sequence[int], *,
                  axis: str = "x", wrap: bool = True,
                  preparation: InputPreparation | None = None,
                  layers: Sequence[str] | None = None, class_index: int | None = None,
                  progress: Callable[[int, int], object] | None = None,
                  cancel: object = None) -> NetworkSweep:
    """Slide the network's input through `shifts` and measure every chosen layer and the
    answer.

    The image is prepared once (:func:`prepare_input`); the shifts move the prepared
    pixels (in the network's input pixels, before normalisation).

    Parameters
    ----------
    network : Network
    image : (H, W) array
        Grey in [0, 1].
    shifts : sequence of int
        Shifts in the network's pixels, in the order measured.
    axis : {"x", "y", "diagonal", "xy"}
        As :func:`engine.sweep_stages`.
    wrap : bool
        Circular shifts or zero fill.
    preparation : InputPreparation, optional
    layers : sequence of str, optional
        Default: :func:`default_layers`.
    class_index : int, optional
        The class to follow (the true class); by default the unshifted top-1.
    progress : callable, optional
        ``progress(done, total)`` after each shift.
    cancel : callable or threading.Event, optional
        Checked before each shift; raises :class:`engine.sweep.SweepCancelled`.

    Returns
    -------
    NetworkSweep

    Raises
    ------
    SweepCancelled
        When `cancel` asks for it.
    ValueError
        For a bad image, axis, shift, layer or class index.
    """
    as_image(image, "image")
    unit_y, unit_x = SWEEP_AXES[choice(axis, "axis", tuple(SWEEP_AXES))]
    steps = check_shifts(shifts)
    wrap = check_flag(wrap, "wrap")
    cancelled = cancel_check(cancel)
    prepared = prepare_input(image, network, preparation)
    base = network.run(prepared.x)
    names = default_layers(network, base) if layers is None else tuple(layers)
    base_view = view_of(network, prepared, base, names, top_k=1)
    k = base.probabilities.shape[0] if base.probabilities is not None else None
    if class_index is not None and k is None:
        raise ValueError(f"class_index: network {network.name!r} gives no class scores; "
                         "leave it out.")
    follow = base.top1 if class_index is None else bounded_int(class_index, "class_index",
                                                               0, k - 1)
    distances = np.zeros((len(steps), len(names)), np.float64)
    probability = None if k is None else np.zeros(len(steps), np.float64)
    top1 = None if k is None else np.zeros(len(steps), np.int64)
    for i, step in enumerate(steps):
        if cancelled():
            raise SweepCancelled(i, len(steps))
        moved = shifted_pixels(prepared.pixels, step * unit_y, step * unit_x, wrap)
        result = network.run(prepared.normalize(moved))
        for j, panel in enumerate(base_view.panels):
            now = result.activations[panel.name]
            distances[i, j] = relative_difference(now.reshape(now.shape[0], -1),
                                                  panel.activations.reshape(now.shape[0], -1))
        if k is not None:
            probability[i] = result.probabilities[follow]
            top1[i] = result.top1
        if progress is not None:
            progress(i + 1, len(steps))
    for arr in (distances, probability, top1):
        if arr is not None:
            arr.setflags(write=False)
    return NetworkSweep(tuple(steps), axis, wrap, names, distances, follow, probability, top1)
