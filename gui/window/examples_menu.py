"""File > Examples: the article's scenarios, each one click.

:func:`fill_examples_menu` lists the examples in a menu; choosing one hands its name to
the window, which loads :func:`engine.example_state` (input A, the pipeline and what B
is, in one value). What an example shows is explained in the What you see dock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from engine import EXAMPLES


def fill_examples_menu(menu: QMenu, choose: Callable[[str], None]) -> list[QAction]:
    """Add one action per example to `menu`; triggering one calls ``choose(name)``.

    Returns the actions, in ``EXAMPLES`` order, numbered as in the article.
    """
    actions = []
    for i, (name, example) in enumerate(EXAMPLES.items(), start=1):
        action = QAction(f"&{i} {example.title}", menu)
        # the explanation itself stays in the What you see dock once the example is shown
        b = example.transform if example.b_transform.kind == "other" \
            else f"A {example.transform}"
        action.setStatusTip(f"{example.title}: B = {b}")
        action.setToolTip(example.description)
        action.setData(name)
        action.triggered.connect(lambda _checked=False, n=name: choose(n))
        menu.addAction(action)
        actions.append(action)
    menu.setToolTipsVisible(True)
    return actions


def fill_digit_examples(menu: QMenu, labels: Sequence[int],
                        choose: Callable[[int], None], per_class: int = 2) -> list[QAction]:
    """Add the first `per_class` held-out digits of each class to `menu` (`labels`: the
    class of each held-out digit, as :func:`engine.networks.held_out_digits` gives);
    triggering one calls ``choose(index)``. Returns the actions, by class."""
    actions = []
    for digit in sorted({int(v) for v in labels}):
        for k, index in enumerate(i for i, v in enumerate(labels) if int(v) == digit):
            if k >= per_class:
                break
            action = QAction(f"Digit {digit} ({'first' if k == 0 else 'another'} held-out "
                             "scan)", menu)
            action.setStatusTip("A real handwritten digit the networks never trained on")
            action.setData(index)
            action.triggered.connect(lambda _checked=False, i=index: choose(i))
            menu.addAction(action)
            actions.append(action)
    return actions
