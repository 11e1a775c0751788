"""The network jobs: the answer and layers of the canvas, the shift map, opening a model.

Each runs on its own lane, so a slow shift map never holds back the answer that follows a
drag, and opening a model never stops either. Everything shown is computed by
:mod:`engine.networks`; a job only adds the uint8 images the layer panels draw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from engine import CompareSetup, SweepCancelled
from engine.display import to_uint8
from engine.networks import (
    NetworkChoice,
    NetworkRun,
    NetworkView,
    ShiftMap,
    run_choice,
    shift_map,
)
from gui.worker import JobContext, Request

#: Lanes: the answer (latest wins while dragging), the shift map, opening a model.
NETWORK = "network"
SHIFT_MAP = "network-shift-map"
MODEL = "network-model"


def panel_image(array: np.ndarray) -> np.ndarray:
    """A map as C-contiguous uint8 over its own range (a flat map is drawn black)."""
    lo, hi = float(array.min()), float(array.max())
    return np.ascontiguousarray(to_uint8(array, lo, hi if hi > lo else lo + 1.0))


@dataclass(frozen=True, eq=False)
class DrawnRun:
    """One network's run and what its panels draw.

    Attributes
    ----------
    run : NetworkRun
        A (and B) through the network, without its shift map (that comes apart).
    input_image : (H, W) uint8 array
        The input as the network got it (first channel, before normalisation).
    images : tuple of (H, W) uint8 arrays
        The maximum over channels of each of A's panels.
    """

    run: NetworkRun
    input_image: np.ndarray
    images: tuple[np.ndarray, ...]

    @property
    def view(self) -> NetworkView:
        """A's view."""
        return self.run.a


@dataclass(frozen=True, slots=True, eq=False)
class NetworkRequest(Request[tuple[DrawnRun, ...]]):
    """Run a frozen canvas snapshot through each chosen network (A, and B while comparing).

    Attributes
    ----------
    image : (H, W) array
        A read-only snapshot of the canvas.
    choices : tuple of NetworkChoice
        One network, or the digit variants side by side.
    setup : CompareSetup or None
        What B is while comparing.
    top_k : int
        Largest cells kept per layer.
    """

    lane: ClassVar[str] = NETWORK
    image: np.ndarray
    choices: tuple[NetworkChoice, ...]
    setup: CompareSetup | None = None
    top_k: int = 3

    def run(self, context: JobContext) -> tuple[DrawnRun, ...]:
        """Run every network.

        Returns
        -------
        tuple of DrawnRun
            In the order of `choices`.

        Raises
        ------
        engine.networks.NetworkChoiceError, engine.networks.NetworkLoadError, ValueError
            When a network cannot be loaded or run on the image (the message says why).
        """
        image_b = transform = None
        if self.setup is not None:
            image_b, transform = self.setup.make_b(self.image), self.setup.transform
        out = []
        for choice in self.choices:
            context.check()
            # the shift map is a job of its own (ShiftMapRequest): it may lag a drag
            run = run_choice(choice.replace(shift_radius=0), self.image, image_b, transform,
                             top_k=self.top_k)
            out.append(DrawnRun(run, panel_image(run.a.prepared.pixels[0]),
                                tuple(panel_image(p.channel_max) for p in run.a.panels)))
        return tuple(out)


@dataclass(frozen=True, slots=True, eq=False)
class ShiftMapRequest(Request[tuple[ShiftMap | None, ...]]):
    """Classify every shift of each network's prepared input (:func:`engine.shift_map`).

    Attributes
    ----------
    choices : tuple of NetworkChoice
    views : tuple of NetworkView
        A's views of the same networks (their prepared inputs are shifted).
    """

    lane: ClassVar[str] = SHIFT_MAP
    cancellations: ClassVar[tuple[type[BaseException], ...]] = (SweepCancelled,)
    choices: tuple[NetworkChoice, ...]
    views: tuple[NetworkView, ...]

    def run(self, context: JobContext) -> tuple[ShiftMap | None, ...]:
        """Make the maps.

        Returns
        -------
        tuple of ShiftMap or None
            None for a network that is no classifier or a choice without a shift map.

        Raises
        ------
        engine.SweepCancelled
            When a newer request replaces this one.
        """
        out = []
        total = len(self.choices)
        for i, (choice, view) in enumerate(zip(self.choices, self.views, strict=True)):
            if not choice.shift_radius or view.probabilities is None:
                out.append(None)
                continue

            def progress(done: int, rows: int, i: int = i) -> None:
                context.progress((i + done / rows) / total, "shift map")

            out.append(shift_map(choice.load(), view.prepared, radius=choice.shift_radius,
                                 wrap=choice.shift_wrap, progress=progress,
                                 cancel=lambda: context.cancelled))
        return tuple(out)


@dataclass(frozen=True)
class OpenedModel:
    """A model file that loaded: its choice and the network's input shape."""

    choice: NetworkChoice
    input_shape: tuple[int | None, int | None, int | None]


@dataclass(frozen=True, slots=True, eq=False)
class OpenModelRequest(Request[OpenedModel]):
    """Open the ONNX file `path` (with the settings of `template`, if any)."""

    lane: ClassVar[str] = MODEL
    path: str
    template: NetworkChoice | None = None

    def run(self, context: JobContext) -> OpenedModel:
        """Read the file and create its session once (later runs reuse it).

        Returns
        -------
        OpenedModel

        Raises
        ------
        engine.networks.NetworkChoiceError, engine.networks.NetworkLoadError
            When the file cannot be read or used; the message names it and the reason.
        """
        settings = {}
        if self.template is not None:
            settings = {"fit": self.template.fit, "labels_path": self.template.labels_path}
        choice = NetworkChoice.of_file(Path(self.path), **settings)
        return OpenedModel(choice, tuple(choice.load().input_shape))
