"""Robustness of the scalers in ``chainrule.preprocessing``: ``fit``, ``transform``,
``inverse_transform`` and ``MinMaxScaler(feature_range)``.

A fitted scaler transforms finite data into finite data of the same shape; the Standardizer's
output columns have mean 0, the MinMaxScaler maps the training data into ``feature_range``, and
``inverse_transform`` undoes ``transform``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.preprocessing import MinMaxScaler, Standardizer

ROBUST = settings.get_profile("chainrule-robustness")
SCALERS = {"Standardizer": Standardizer, "MinMaxScaler": MinMaxScaler}


def training_data(robust):
    shape = st.tuples(st.integers(1, 4), st.integers(1, 3))
    return st.one_of(
        robust.hostile_inputs(),
        robust.hostile_arrays(shape=shape),
        robust.moderate_arrays(shape),
        robust.moderate_arrays(shape, dtype=np.float32),
    )


@pytest.mark.parametrize("name", sorted(SCALERS))
@settings(ROBUST, max_examples=100)
@given(data=st.data())
def test_fit_transform_inverse(robust, name, data):
    X = data.draw(training_data(robust), label="X")
    scaler = SCALERS[name]()
    outcome = robust.call(scaler.fit_transform, X, names=("X",))
    valid = robust.is_clean_real(X, ndim=(2,))
    if not outcome.ok:
        # Valid data may be refused only where the scaler's statistics cannot be represented:
        # values at the float64 limit, or (MinMaxScaler) a range that overflows or is so small
        # that 1 / range does.
        limit = 1e300 if name == "Standardizer" else 8e307
        refusable = robust.max_abs(X) > limit or (name == "MinMaxScaler"
                                                  and _tiny_range(robust, X))
        assert not valid or refusable, f"{name} rejected valid X: {outcome.error!r}"
        return
    assert valid, f"{name} accepted X={X!r}"
    Z = outcome.value
    array = robust.as_array(X)
    assert Z.shape == array.shape
    assert Z.dtype == (np.float32 if array.dtype == np.float32 else np.float64)
    assert np.isfinite(Z).all(), f"{name} gave non-finite output for finite X"
    if robust.max_abs(X) <= robust.MODERATE and array.dtype != np.float32:
        if name == "Standardizer":
            np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-9)
        else:
            assert (Z >= -1e-12).all() and (Z <= 1 + 1e-12).all()
        back = robust.call(scaler.inverse_transform, Z)
        np.testing.assert_allclose(back.value, array, rtol=1e-9, atol=1e-9)


def _tiny_range(robust, X) -> bool:
    """A column whose range is subnormal: 1 / range overflows."""
    array = robust.as_array(X)
    if array is None or array.ndim != 2 or array.dtype.kind not in "biuf" or not array.size:
        return False
    with np.errstate(all="ignore"):
        spread = np.ptp(array.astype(np.float64), axis=0)
    return bool(((spread > 0) & (spread < 1e-300)).any())


@pytest.mark.parametrize("name", sorted(SCALERS))
@pytest.mark.parametrize("method", ["transform", "inverse_transform"])
@settings(ROBUST, max_examples=50)
@given(data=st.data())
def test_transform_checks_x_against_the_fit(robust, name, method, data):
    scaler = SCALERS[name]().fit(np.array([[0.0, -1.0], [2.0, 1.0], [4.0, 3.0]]))
    X = data.draw(st.one_of(
        robust.hostile_inputs(),
        robust.hostile_arrays(shape=st.tuples(st.integers(0, 3), st.just(2))),
        robust.moderate_arrays(st.tuples(st.integers(1, 3), st.just(2))),
    ), label="X")
    outcome = robust.call(getattr(scaler, method), X, names=("X",))
    array = robust.as_array(X)
    if outcome.ok:
        assert robust.is_clean_real(X, ndim=(2,)) and array.shape[1] == 2
        assert outcome.value.shape == array.shape
        assert np.isfinite(outcome.value).all(), f"{method} gave non-finite output"
    elif robust.is_clean_real(X, ndim=(2,)) and array.shape[1] == 2:
        # the scales are between 1/4 and 4 and the result keeps X's dtype (float32 stays
        # float32): only data within a factor 4 (plus the offset) of that dtype's limit overflows
        dtype = np.float32 if array.dtype == np.float32 else np.float64
        limit = float(np.finfo(dtype).max) / 8
        assert robust.max_abs(X) > limit, f"{method} rejected valid X: {outcome.error!r}"


@settings(ROBUST, max_examples=80)
@given(data=st.data())
def test_feature_range_is_checked(robust, data):
    feature_range = data.draw(st.one_of(
        robust.hostile_scalars(),
        st.tuples(robust.hostile_scalars(), robust.hostile_scalars()),
        st.tuples(st.floats(-5, 5), st.floats(-5, 5)),
    ), label="feature_range")
    outcome = robust.call(MinMaxScaler, feature_range,
                          names=("feature_range", "feature_range[0]", "feature_range[1]"))
    if not outcome.ok:
        return
    lo, hi = feature_range
    assert robust.in_range(lo) and robust.in_range(hi) and float(lo) < float(hi)
    assert math.isfinite(float(hi) - float(lo)), f"feature_range={feature_range!r} was accepted"
    Z = robust.call(outcome.value.fit_transform, np.array([[0.0], [1.0], [0.5]]))
    assert np.isfinite(Z.value).all(), f"feature_range={feature_range!r} gave {Z.value}"
    np.testing.assert_allclose(Z.value[:2, 0], [float(lo), float(hi)],
                               atol=1e-12 * (float(hi) - float(lo)))


# ------------------------------------------------------------------------------ regressions
# The minimal cases of B18 (overflow RuntimeWarnings, an infinite result for finite input),
# fixed, are pinned once, with every warning an error, in tests/test_preprocessing.py:
# test_standardizer_statistics_are_exact_at_any_magnitude,
# test_minmax_refuses_a_column_it_cannot_scale, test_results_beyond_the_dtype_range_are_refused
# and test_bad_feature_range.
