"""File > Examples: the article's scenarios, each one click.

:func:`example_inputs` turns an :class:`engine.Example` into what the window needs
(input A, the spec, and a :class:`~gui.compare_render.CompareSetup` for B: the
transform when B is a shift or a mirror of A, else the other image);
:func:`fill_examples_menu` lists the examples in a menu.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from engine import EXAMPLES, Example, InputTransform, PipelineSpec
from gui.comparison.job import CompareSetup


@dataclass(frozen=True, eq=False)
class ExampleInputs:
    """An example ready for the window: input A, the spec, and what B is."""

    name: str
    image_a: np.ndarray
    spec: PipelineSpec
    setup: CompareSetup


def example_inputs(example: Example) -> ExampleInputs:
    """Load `example`'s images and describe B: a circular shift or a mirror of A when the
    example says so (so editing A moves B along), otherwise the other image.

    Raises
    ------
    engine.ImageLoadError
        If a sample photo cannot be read.
    """
    image_a, image_b = example.load()
    if example.shift is not None:
        dy, dx = example.shift
        transform = InputTransform("shift", dy=dy, dx=dx, wrap=True)
        setup = CompareSetup(transform)
    elif example.mirror_axis is not None:
        setup = CompareSetup(InputTransform("mirror" if example.mirror_axis == 1 else "flip"))
    else:
        image_b.setflags(write=False)
        setup = CompareSetup(InputTransform("other"), image_b, f"example {example.name}: "
                             f"{example.transform}")
    return ExampleInputs(example.name, image_a, example.spec, setup)


def fill_examples_menu(menu: QMenu, choose: Callable[[str], None]) -> list[QAction]:
    """Add one action per example to `menu`; triggering one calls ``choose(name)``.

    Returns the actions, in ``EXAMPLES`` order, numbered as in the article.
    """
    actions = []
    for i, (name, example) in enumerate(EXAMPLES.items(), start=1):
        action = QAction(f"&{i} {example.title}", menu)
        action.setStatusTip(example.description)
        action.setToolTip(example.description)
        action.setData(name)
        action.triggered.connect(lambda _checked=False, n=name: choose(n))
        menu.addAction(action)
        actions.append(action)
    menu.setToolTipsVisible(True)
    return actions
