"""Standardizer and MinMaxScaler."""

from __future__ import annotations

import json
import tracemalloc

import numpy as np
import pytest

from chainrule import preprocessing
from chainrule.errors import NotBuiltError, ShapeError
from chainrule.preprocessing import MinMaxScaler, Standardizer

SCALERS = [Standardizer, MinMaxScaler]


@pytest.fixture
def X(rng):
    """(50, 4) float64 with different locations and scales per column."""
    return rng.standard_normal((50, 4)) * [1.0, 10.0, 0.01, 300.0] + [0.0, -5.0, 2.0, 1e3]


def test_standardizer_formula(X):
    Z = Standardizer().fit_transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(Z, (X - X.mean(axis=0)) / X.std(axis=0), rtol=1e-12)


def test_standardizer_constant_column_gets_scale_one():
    X = np.array([[0.1, 1.0], [0.1, 2.0], [0.1, 4.0]] * 10)  # 0.1 sums inexactly
    scaler = Standardizer().fit(X)
    assert scaler.scale_[0] == 1.0
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z[:, 0], 0.0, atol=1e-15)
    assert np.isfinite(Z).all()
    np.testing.assert_allclose(scaler.inverse_transform(Z), X)


def test_a_constant_column_whose_rounded_mean_leaves_its_range_standardises_to_exact_zeros():
    """52 copies of this value sum to a mean one ulp above it; the mean is clipped into
    [min, max], so the column maps to exactly 0 (not ±2e-16)."""
    value = 1.0275591132430684
    assert np.mean(np.full(52, value)) > value  # the situation this test is about
    X = np.column_stack([np.full(52, value), np.arange(52.0)])
    scaler = Standardizer().fit(X)
    assert scaler.mean_[0] == value
    Z = scaler.transform(X)
    assert (Z[:, 0] == 0.0).all()


def test_minmax_formula_and_range(X):
    scaler = MinMaxScaler(feature_range=(-1, 3)).fit(X)
    Y = scaler.transform(X)
    np.testing.assert_allclose(Y.min(axis=0), -1.0)
    np.testing.assert_allclose(Y.max(axis=0), 3.0)
    lo, hi = X.min(axis=0), X.max(axis=0)
    np.testing.assert_allclose(Y, (X - lo) / (hi - lo) * 4 - 1, rtol=1e-12, atol=1e-12)


def test_minmax_constant_column_maps_to_low_end():
    X = np.array([[5.0, 0.0], [5.0, 1.0]])
    Y = MinMaxScaler(feature_range=(2, 3)).fit_transform(X)
    np.testing.assert_array_equal(Y, [[2.0, 2.0], [2.0, 3.0]])


def test_minmax_does_not_clip():
    scaler = MinMaxScaler().fit([[0.0], [10.0]])
    np.testing.assert_allclose(scaler.transform([[20.0], [-5.0]]), [[2.0], [-0.5]])


@pytest.mark.parametrize("cls", SCALERS)
def test_inverse_transform_round_trip(cls, X, rng):
    scaler = cls().fit(X)
    other = rng.standard_normal((7, 4)) * 100
    np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(other)), other, atol=1e-9)


@pytest.mark.parametrize("cls", SCALERS)
def test_inputs_not_modified_and_float32_kept(cls, X):
    original = X.copy()
    scaler = cls().fit(X)
    scaler.transform(X)
    np.testing.assert_array_equal(X, original)
    X32 = X.astype(np.float32)
    assert scaler.transform(X32).dtype == np.float32
    assert scaler.inverse_transform(X32).dtype == np.float32
    assert scaler.transform(X.astype(int)).dtype == np.float64
    assert scaler.transform(X.tolist()).dtype == np.float64


@pytest.mark.parametrize("cls", SCALERS)
def test_config_round_trip_through_json(cls, X):
    scaler = cls().fit(X)
    config = json.loads(json.dumps(scaler.get_config()))
    assert config["class"] == cls.__name__
    restored = cls.from_config(config)
    assert restored.n_features_ == 4
    np.testing.assert_array_equal(restored.transform(X), scaler.transform(X))
    np.testing.assert_array_equal(restored.inverse_transform(X), scaler.inverse_transform(X))


def test_minmax_config_keeps_feature_range(X):
    scaler = MinMaxScaler(feature_range=(-2, 2)).fit(X)
    config = scaler.get_config()
    assert config["feature_range"] == [-2.0, 2.0]
    assert MinMaxScaler.from_config(config).feature_range == (-2.0, 2.0)


@pytest.mark.parametrize("cls", SCALERS)
def test_unfitted_config_round_trip(cls):
    config = cls().get_config()
    assert all(config[name] is None for name in cls._STATS)
    restored = cls.from_config(config)
    with pytest.raises(NotBuiltError, match="fit"):
        restored.transform([[1.0]])


@pytest.mark.parametrize(
    "config, error, match",
    [
        ({"class": "MinMaxScaler", "mean": [0.0], "scale": [1.0]}, ValueError, "MinMaxScaler"),
        ({"class": "Standardizer", "mean": [0.0]}, ValueError, "scale"),
        ({"class": "Standardizer", "mean": [0.0, 1.0], "scale": [1.0]}, ValueError, "lengths"),
        ({"class": "Standardizer", "mean": [0.0], "scale": [0.0]}, ValueError, "positive"),
        ([1, 2], TypeError, "dict"),
    ],
)
def test_bad_config(config, error, match):
    with pytest.raises(error, match=match):
        Standardizer.from_config(config)


def test_minmax_config_with_max_below_min_is_refused():
    config = {"class": "MinMaxScaler", "feature_range": [0, 1], "data_min": [0.0, 2.0],
              "data_max": [1.0, 1.0]}
    with pytest.raises(ValueError, match=r"^MinMaxScaler data_max must be >= data_min in every column$"):
        MinMaxScaler.from_config(config)


def test_repr_shows_the_settings(X):
    assert repr(Standardizer()) == "Standardizer()"
    assert repr(MinMaxScaler(feature_range=(-1, 3))) == "MinMaxScaler(feature_range=[-1.0, 3.0])"
    assert repr(MinMaxScaler().fit(X)) == "MinMaxScaler(feature_range=[0.0, 1.0])"


@pytest.mark.parametrize("cls", SCALERS)
def test_shape_errors_name_the_fitted_feature_count(cls, X):
    scaler = cls().fit(X)
    with pytest.raises(ShapeError, match=r"fitted on 4 features.*\(n_samples, 4\).*\(3, 5\)"):
        scaler.transform(np.zeros((3, 5)))
    with pytest.raises(ShapeError, match="4"):
        scaler.inverse_transform(np.zeros((3, 2)))
    with pytest.raises(ShapeError, match="2-D"):
        scaler.transform(np.zeros(4))


@pytest.mark.parametrize("cls", SCALERS)
def test_bad_input(cls):
    with pytest.raises(NotBuiltError, match="not fitted"):
        cls().transform([[1.0]])
    with pytest.raises(ValueError, match="finite"):
        cls().fit([[1.0], [np.nan]])
    with pytest.raises(TypeError):
        cls().fit([["a"], ["b"]])
    with pytest.raises(ValueError, match="empty"):
        cls().fit(np.zeros((0, 3)))


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "feature_range, error",
    [
        ((1, 1), ValueError),
        ((2, 0), ValueError),
        ("ab", TypeError),
        ((0, np.inf), ValueError),
        ((0, 1, 2), TypeError),
        # B18: hi - lo = inf made the scale inf: transform returned inf (or 0 * inf = NaN).
        ((-1e308, 1e308), ValueError),
    ],
)
def test_bad_feature_range(feature_range, error):
    with pytest.raises(error, match="feature_range"):
        MinMaxScaler(feature_range=feature_range)


@pytest.mark.filterwarnings("error")
def test_standardizer_statistics_are_exact_at_any_magnitude(X):
    # The columns are divided by a power of two before summing and squaring: the statistics
    # of X * 2**k are those of X times 2**k, bit for bit, even where the squares overflow.
    small = Standardizer().fit(X)
    for k in (600, -600, 1010 - int(np.log2(np.abs(X).max()))):
        big = Standardizer().fit(X * 2.0**k)
        np.testing.assert_array_equal(big.mean_, small.mean_ * 2.0**k)
        np.testing.assert_array_equal(big.scale_, small.scale_ * 2.0**k)
        np.testing.assert_array_equal(big.transform(X * 2.0**k), small.transform(X))
    # B18: the variance of ±1e200 overflows, its standard deviation does not.
    huge = Standardizer().fit(np.array([[1e200], [-1e200]]))
    assert huge.mean_[0] == 0.0 and huge.scale_[0] == pytest.approx(1e200, rel=1e-15)
    np.testing.assert_allclose(huge.transform(np.array([[1e200], [-1e200]])), [[1.0], [-1.0]],
                               rtol=1e-15)


@pytest.mark.filterwarnings("error")
def test_standardizer_statistics_at_the_float64_limit_are_finite():
    top = np.finfo(np.float64).max
    X = np.where(np.arange(96) < 48, -top, top)[:, None]
    scaler = Standardizer().fit(X)  # mean 0 (up to rounding), population std exactly `top`
    assert abs(scaler.mean_[0]) <= 1e-15 * top
    assert scaler.scale_[0] == pytest.approx(top, rel=1e-15)


@pytest.mark.filterwarnings("error")
def test_minmax_refuses_a_column_it_cannot_scale():
    # B18: no finite scale (hi - lo) / (max - min) exists.
    with pytest.raises(ValueError, match=r"X column 1,.*feature_range.*finite positive"):
        MinMaxScaler().fit([[0.0, -1e308], [1.0, 1e308]])  # max - min overflows
    with pytest.raises(ValueError, match=r"X column 0,.*feature_range.*finite positive"):
        MinMaxScaler().fit(np.array([[1e308], [-1e308]]))  # max - min overflows
    with pytest.raises(ValueError, match=r"X column 0,.*5e-324.*feature_range"):
        MinMaxScaler().fit([[5e-324], [0.0]])  # 1 / (max - min) overflows
    with pytest.raises(ValueError, match="config column 0"):
        MinMaxScaler.from_config(
            {"class": "MinMaxScaler", "feature_range": [0, 1], "data_min": [0.0],
             "data_max": [5e-324]}
        )


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("cls", SCALERS)
@pytest.mark.parametrize(
    "fit, method, X, dtype",
    [
        ([[0.0], [1e-300]], "transform", [[1e300]], np.float64),  # divided by ~1e-300
        ([[0.0], [1e300]], "inverse_transform", [[1e300]], np.float64),  # times ~1e300
        # B18: the float64 result fits, its cast to float32 overflowed (a RuntimeWarning).
        ([[0.0], [1e-30]], "transform", [[1e30]], np.float32),  # ~1e60: float64 only
        ([[0.0], [1e30]], "inverse_transform", [[1e10]], np.float32),  # ~1e40: float64 only
        ([[1e-30], [0.0]], "transform", [[1e30]], np.float32),  # ~1e60: float64 only
        ([[1e30], [-1e30]], "inverse_transform", [[3e38]], np.float32),  # ~5e68: float64 only
    ],
)
def test_results_beyond_the_dtype_range_are_refused(cls, fit, method, X, dtype):
    scaler = cls().fit(fit)
    name = np.dtype(dtype).name
    with pytest.raises(ValueError, match=rf"X is too large.*{method} takes X\[0, 0\].*{name}"):
        getattr(scaler, method)(np.array(X, dtype))


def test_matches_scikit_learn(X):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X_new = X[:10] * 1.5
    X_const = np.column_stack([X, np.full(len(X), 7.0)])
    for ours, theirs, data in [
        (Standardizer(), preprocessing.StandardScaler(), X_const),
        (MinMaxScaler(), preprocessing.MinMaxScaler(), X_const),
        (MinMaxScaler((-3, 5)), preprocessing.MinMaxScaler((-3, 5)), X),
    ]:
        ours.fit(data)
        theirs.fit(data)
        new = np.column_stack([X_new, np.full(10, 7.0)]) if data is X_const else X_new
        np.testing.assert_allclose(ours.transform(new), theirs.transform(new), atol=1e-12)
        np.testing.assert_allclose(
            ours.inverse_transform(new), theirs.inverse_transform(new), rtol=1e-12, atol=1e-9
        )
    np.testing.assert_allclose(
        Standardizer().fit(X).mean_, preprocessing.StandardScaler().fit(X).mean_
    )


def _whole_array_statistics(X):
    """What Standardizer.fit computes, on the whole array at once in float64 (no chunks)."""
    X = np.asarray(X, np.float64)
    high, low = X.max(axis=0), X.min(axis=0)
    c = np.ldexp(1.0, np.frexp(np.maximum(high, -low))[1] - 1)
    U = X / c
    mean = np.clip(U.mean(axis=0), low / c, high / c) * c
    return mean, np.minimum(U.std(axis=0), (high - low) / c / 2) * c


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_statistics_over_row_chunks_are_those_of_the_whole_array(monkeypatch, rng, dtype):
    monkeypatch.setattr(preprocessing, "_CHUNK_ELEMENTS", 12)  # 3 rows of 4 columns per chunk
    X = (rng.standard_normal((50, 4)) * [1.0, 10.0, 0.01, 300.0] + [0.0, -5.0, 2.0, 1e3])
    X = X.astype(dtype)
    scaler = Standardizer().fit(X)
    mean, std = _whole_array_statistics(X)
    np.testing.assert_allclose(scaler.mean_, mean, rtol=1e-15, atol=0)
    np.testing.assert_allclose(scaler.scale_, std, rtol=1e-15, atol=0)
    # Transforms: the float64 map of the whole array, cast to X's dtype.
    X64, lo = X.astype(np.float64), -1.0
    minmax = MinMaxScaler((lo, 3.0)).fit(X)
    for result, expected in [
        (scaler.transform(X), (X64 - scaler.mean_) / scaler.scale_),
        (scaler.inverse_transform(X), X64 * scaler.scale_ + scaler.mean_),
        (minmax.transform(X), (X64 - minmax.data_min_) * minmax.scale_ + lo),
        (minmax.inverse_transform(X), (X64 - lo) / minmax.scale_ + minmax.data_min_),
    ]:
        assert result.dtype == dtype
        np.testing.assert_array_equal(result, expected.astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_and_transform_make_no_full_size_temporaries(rng, dtype):
    X = rng.standard_normal((40_000, 25)).astype(dtype)  # 4 or 8 MB
    scaler = Standardizer().fit(X[:10])
    tracemalloc.start()
    try:
        Standardizer().fit(X)
        fit_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        scaler.transform(X)
        transform_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert fit_peak < 0.5 * X.nbytes  # no float64 copy of X, no X / c
    assert transform_peak < 1.5 * X.nbytes  # the result, in X's dtype, and small chunks
