"""find_maxima: largest cells first, ties in row-major order like np.argmax."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from reference_ops import ref_argmax_order

from engine import find_maxima


def test_by_hand():
    x = np.array([[1.0, 3.0, 0.0], [3.0, -2.0, 7.0]])
    assert find_maxima(x) == [(1, 2, 7.0)]
    assert find_maxima(x, 3) == [(1, 2, 7.0), (0, 1, 3.0), (1, 0, 3.0)]
    assert find_maxima(x, 100) == ref_argmax_order(x)  # fewer cells than asked: all of them
    assert find_maxima(np.zeros((2, 2)), 2) == [(0, 0, 0.0), (0, 1, 0.0)]


def test_entries_are_plain_python_numbers():
    row, col, value = find_maxima(np.arange(6, dtype=np.int64).reshape(2, 3), 1)[0]
    assert (row, col, value) == (1, 2, 5.0)
    assert type(row) is int and type(col) is int and type(value) is float


def test_ties_at_the_cut_are_settled_by_position():
    x = np.full((30, 40), 2.0)
    x[17, 3] = 5.0
    got = find_maxima(x, 4)
    assert got == [(17, 3, 5.0), (0, 0, 2.0), (0, 1, 2.0), (0, 2, 2.0)]


values = st.sampled_from([-1.0, 0.0, 0.5, 2.0]) | st.floats(-100, 100, width=32)


@settings(max_examples=50, deadline=None)
@given(
    x=hnp.arrays(np.float32, st.tuples(st.integers(1, 15), st.integers(1, 15)), elements=values),
    count=st.integers(1, 30),
)
def test_results_really_are_the_largest_cells(x, count):
    got = find_maxima(x, count)
    assert len(got) == min(count, x.size)
    r0, c0 = np.unravel_index(np.argmax(x), x.shape)
    assert got[0][:2] == (r0, c0)
    assert got == ref_argmax_order(x)[:len(got)]
    # nothing outside the returned set is larger than the last returned value
    chosen = np.zeros(x.shape, bool)
    for r, c, v in got:
        assert x[r, c] == v
        chosen[r, c] = True
    assert not (x[~chosen] > got[-1][2]).any()
    values_in_order = [v for _, _, v in got]
    assert values_in_order == sorted(values_in_order, reverse=True)


@pytest.mark.parametrize("bad, words", [
    (np.zeros(4), "x must be a 2-D array"),
    (np.zeros((1, 2, 2)), "x must be a 2-D array"),
    (np.zeros((0, 0)), "x is empty"),
    (np.array([[np.nan]]), "x holds 1 NaN"),
    (np.array([[1.0, np.inf, -np.inf]]), "x holds 2 NaN or infinite"),
])
def test_bad_images_are_refused(bad, words):
    with pytest.raises(ValueError, match=words):
        find_maxima(bad)


@pytest.mark.parametrize("count", [0, -3, 2.5, None])
def test_bad_count_is_refused(count):
    with pytest.raises(ValueError, match="count must be"):
        find_maxima(np.ones((2, 2)), count)


def test_input_is_never_modified():
    x = np.random.default_rng(20).normal(size=(7, 9)).astype(np.float32)
    before = x.copy()
    find_maxima(x, 10)
    assert np.array_equal(x, before)
    x.setflags(write=False)
    assert find_maxima(x, 10) == ref_argmax_order(before)[:10]
