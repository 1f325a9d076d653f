"""``all_finite``: ``np.isfinite`` on small arrays; on large ones one reduction when the sum is
finite and an exact answer when it is not. Each test runs both ways (the ``path`` fixture)."""

import numpy as np
import pytest

from chainrule import _validation
from chainrule._validation import all_finite, check_finite


@pytest.fixture(params=["isfinite", "sum"], autouse=True)
def path(request, monkeypatch):
    """Every array takes the ``np.isfinite`` way, or every array takes the sum's way."""
    if request.param == "sum":
        monkeypatch.setattr(_validation, "ISFINITE_MAX_SIZE", 0)
    return request.param


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("position", [0, 517, -1])
def test_one_non_finite_entry_anywhere_is_found(dtype, bad, position):
    array = np.random.default_rng(0).standard_normal((40, 30)).astype(dtype)
    assert all_finite(array)
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


def test_strided_views_and_complex_arrays_are_checked_entry_by_entry():
    array = np.zeros((6, 8))
    array[1, 1] = np.nan
    assert all_finite(array[::2, ::2])
    assert not all_finite(array[1::2, 1::2])
    assert not all_finite(array.T)
    assert not all_finite(np.array([1 + 1j, complex(0, np.inf)]))


def test_integers_and_empty_arrays_are_finite():
    assert all_finite(np.array([2**62, 2**62], np.int64))
    assert all_finite(np.empty((0, 3)))


def test_check_finite_names_the_first_bad_entry_after_an_overflowing_sum():
    array = np.full((2, 3), np.finfo(np.float32).max, np.float32)
    array[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"X must be finite, got 1 NaN/inf.*index \(1, 2\)"):
        check_finite(array, "X")


@pytest.mark.parametrize("path", ["isfinite"], indirect=True)
@pytest.mark.parametrize("extra", [0, 1])
def test_arrays_at_and_beyond_the_size_limit(path, extra):
    # unpatched: the limit itself takes np.isfinite, one entry more takes the sum
    array = np.full(_validation.ISFINITE_MAX_SIZE + extra, np.finfo(np.float32).max, np.float32)
    assert all_finite(array)
    array[-1] = np.inf
    assert not all_finite(array)
    array[-1], array[0] = 0.0, np.nan
    assert not all_finite(array)
