"""``all_finite``: one reduction when the sum is finite, an exact answer when it is not."""

import numpy as np
import pytest

from chainrule._validation import all_finite, check_finite


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("position", [0, 517, -1])
def test_one_non_finite_entry_anywhere_is_found(dtype, bad, position):
    array = np.random.default_rng(0).standard_normal((40, 30)).astype(dtype)
    array.flat[position] = bad
    assert not all_finite(array)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_finite_entries_whose_sum_overflows_are_finite(dtype):
    # the sum is inf: the fallback (minimum and maximum) must decide, without a warning
    big = np.finfo(dtype).max
    assert all_finite(np.full((3, 4), big, dtype))
    assert all_finite(np.array([big, big, -big, -big, -big], dtype))


def test_opposite_infinities_are_not_finite_and_do_not_warn():
    # inf + (−inf) = NaN in the sum: "invalid" must stay silent (RuntimeWarnings are errors here)
    assert not all_finite(np.array([np.inf, 1.0, -np.inf]))
    assert not all_finite(np.array([np.finfo(np.float64).max] * 2 + [np.nan]))


def test_integers_and_empty_arrays_are_finite():
    assert all_finite(np.array([2**62, 2**62], np.int64))
    assert all_finite(np.empty((0, 3)))


def test_check_finite_names_the_first_bad_entry_after_an_overflowing_sum():
    array = np.full((2, 3), np.finfo(np.float32).max, np.float32)
    array[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"X must be finite, got 1 NaN/inf.*index \(1, 2\)"):
        check_finite(array, "X")
