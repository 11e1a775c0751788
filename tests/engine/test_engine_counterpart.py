"""InputTransform.counterpart: the cell of A that a cell of B shows, checked against the
transformed maps themselves (every cell, every transform kind)."""

from __future__ import annotations

import numpy as np
import pytest

from engine import InputTransform

TRANSFORMS = [
    InputTransform("mirror"),
    InputTransform("flip"),
    InputTransform("rotate", turns=1),
    InputTransform("rotate", turns=2),
    InputTransform("rotate", turns=3),
    InputTransform("shift", dy=2, dx=-3, wrap=True),
    InputTransform("shift", dy=-1, dx=4, wrap=False),
]


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: t.description)
@pytest.mark.parametrize("stride", [(1, 1), (2, 2), (1, 4)])
def test_every_cell_of_b_shows_its_counterpart_in_a(transform, stride):
    a = np.arange(1, 5 * 7 + 1, dtype=np.float32).reshape(5, 7)  # every value distinct
    if transform.kind == "shift":  # a shift of whole cells of this stride
        transform = InputTransform("shift", dy=transform.dy * stride[0],
                                   dx=transform.dx * stride[1], wrap=transform.wrap)
    b = transform.on_stage(a, stride)
    for row in range(b.shape[0]):
        for col in range(b.shape[1]):
            cell = transform.counterpart(row, col, b.shape, stride)
            if b[row, col] == 0:  # filled by a shift without wrap: nothing of A
                assert cell is None
            else:
                assert a[cell] == b[row, col], (row, col, cell)
            back = transform.inverse.counterpart(*cell, a.shape, stride) if cell else None
            assert cell is None or back == (row, col)


def test_a_shift_the_stride_does_not_divide_takes_the_cell_under_the_moved_centre():
    shift = InputTransform("shift", dx=3, wrap=False)
    # cell 2 of a stride-2 map covers input pixels 4..5, centre 5; 5 - 3 = 2 lies in cell 1
    assert shift.counterpart(0, 2, (4, 4), (2, 2)) == (0, 1)
    assert shift.counterpart(0, 0, (4, 4), (2, 2)) is None  # centre 1 - 3 < 0: zero fill


def test_another_image_and_cells_outside_have_no_counterpart():
    assert InputTransform("other").counterpart(0, 0, (3, 3), (1, 1)) is None
    assert InputTransform("mirror").counterpart(3, 0, (3, 3), (1, 1)) is None
