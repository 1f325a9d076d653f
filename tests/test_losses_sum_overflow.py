"""A loss whose values are finite but whose sum passes the float range: the mean (or a sum
that lies in the range) is still reported, not inf."""

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.losses import MSE, CrossEntropy, Huber


def _big_squares(dtype, n=1000):
    """Predictions and targets whose squared errors are ~9e36 (float32) each: finite, but
    1000 of them sum past float32's 3.4e38."""
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(n, 1)).astype(dtype)
    T = np.full((n, 1), 3e18, dtype)
    return Y, T


def _exact_mean(Y, T, w=None):
    squares = (Y.astype(np.float64) - T.astype(np.float64)) ** 2
    if w is None:
        return float(squares.mean())
    return float(w.astype(np.float64) @ squares[:, 0] / w.astype(np.float64).sum())


def test_float32_mean_of_large_values_is_finite_and_right():
    Y, T = _big_squares(np.float32)
    loss = MSE()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        value = loss.evaluate(Y, T)
    assert value == pytest.approx(_exact_mean(Y, T), rel=1e-6)
    assert loss.forward(Y, T) == value


def test_weighted_mean_of_large_values_is_finite_and_right():
    Y, T = _big_squares(np.float32)
    w = np.ones(len(Y), np.float32)
    w[::3] = 0.0  # a zero weight on an overflowed row sum must not make it NaN
    loss = MSE()
    value = loss.forward(Y, T, sample_weight=w)
    assert value == pytest.approx(_exact_mean(Y, T, w), rel=1e-6)


def test_wide_rows_whose_own_sums_overflow():
    """(n_samples, n_outputs) values whose every row sum passes float32's range."""
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(4, 100)).astype(np.float32)
    T = np.full((4, 100), 3e18, np.float32)
    value = MSE().forward(Y, T, sample_weight=np.array([1.0, 0.0, 2.0, 1.0]))
    squares = (Y.astype(np.float64) - 3e18) ** 2
    expected = (squares[0].sum() + 2 * squares[2].sum() + squares[3].sum()) / (4 * 100)
    assert value == pytest.approx(expected, rel=1e-6)


def test_float64_mean_of_large_values_is_finite():
    Y = np.zeros((10, 2))
    T = np.full((10, 2), 1e154)  # squares 1e308: twenty of them sum past 1.8e308
    assert MSE().forward(Y, T) == pytest.approx(1e308, rel=1e-12)
    assert Huber(delta=1e300).forward(Y, T) == pytest.approx(5e307, rel=1e-12)  # d²/2


def test_a_sum_beyond_the_range_is_still_infinite():
    Y, T = _big_squares(np.float32)
    with np.errstate(over="ignore"):
        assert MSE(reduction="sum").evaluate(Y, T) == np.inf
    Y64, T64 = np.zeros((10, 1)), np.full((10, 1), 1e154)
    with np.errstate(over="ignore"):
        assert MSE(reduction="sum").evaluate(Y64, T64) == np.inf


def test_a_sum_in_float64_range_but_not_float32_is_infinite_in_float32():
    """The loss is a number of the predictions' dtype."""
    Y, T = _big_squares(np.float32, n=100)  # sum ~9e38 > float32 max 3.4e38
    with np.errstate(over="ignore"):
        assert MSE(reduction="sum").forward(Y, T) == np.inf
    assert MSE(reduction="mean").forward(Y, T) == pytest.approx(_exact_mean(Y, T), rel=1e-6)


def test_non_finite_values_still_give_a_non_finite_loss():
    Y = np.array([[np.inf], [0.0]], np.float32)
    assert MSE().forward(Y, np.zeros((2, 1), np.float32)) == np.inf
    Y = np.array([[np.nan], [0.0]], np.float32)
    assert np.isnan(MSE().forward(Y, np.zeros((2, 1), np.float32)))


def test_gradient_is_unchanged_by_the_overflow():
    Y, T = _big_squares(np.float32)
    loss = MSE()
    loss.forward(Y, T)
    expected = (2 * (Y - T)) * np.float32(1.0 / Y.size)
    np.testing.assert_array_equal(loss.backward(), expected)


def test_cross_entropy_large_values():
    # -log p of ~1e38 per sample (float32 logits far apart) over 100 samples
    Z = np.zeros((100, 2), np.float32)
    Z[:, 1] = 3e38
    value = CrossEntropy(from_logits=True).forward(Z, np.zeros(100, np.int64))
    assert value == pytest.approx(3e38, rel=1e-6)


def test_trainer_evaluate_reports_the_finite_mean():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 3)).astype(np.float32)
    y = np.full(1000, 3e18, np.float32)
    net = cr.mlp([3, 4, 1], activation="relu", output="identity", seed=0, dtype="float32")
    trainer = cr.Trainer(net, "mse", cr.SGD(lr=1e-3), batch_size=1000, seed=0, verbose=0,
                         metrics=["mse"])
    trainer.fit(X[:1], np.ones(1, np.float32), epochs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = trainer.evaluate(X, y)
    assert np.isfinite(result["loss"])
    assert result["loss"] == pytest.approx(result["mse"], rel=1e-6)
