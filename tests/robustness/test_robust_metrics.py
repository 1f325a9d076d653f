"""Robustness of the metrics in ``chainrule.training.metrics``.

A metric that returns gives a float in its range: accuracy in [0, 1], MSE/MAE/log-loss >= 0,
R² <= 1, a confusion matrix of non-negative counts summing to n_samples whose trace is the
accuracy; and a finite value for finite, moderate inputs, except an R² whose exact value is
below the float64 range (targets varying by subnormal amounts): that one is -inf.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.training.metrics import (
    MAX_MATRIX_CLASSES,
    METRICS,
    accuracy,
    confusion_matrix,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)

ROBUST = settings.get_profile("chainrule-robustness")
SCALAR_METRICS = {name: METRICS.get(name) for name in METRICS.names()}
CLASSIFICATION = {"accuracy", "confusion_matrix"}


def valid_pair(robust, name, n, k):
    """(y_true, y_pred) the metric must accept, as strategies."""
    labels = st.lists(st.integers(0, k - 1), min_size=n, max_size=n).map(np.array)
    if name in CLASSIFICATION:
        return labels, st.one_of(labels, robust.moderate_arrays((n, k), low=-5.0, high=5.0))
    if name == "log_loss":
        def normalise(P):
            return P / P.sum(axis=1, keepdims=True)

        probabilities = robust.moderate_arrays((n, k), low=0.01, high=1.0).map(normalise)
        return labels, probabilities
    values = robust.moderate_arrays((n,))
    return values, values


def hostile(robust, n, k):
    return st.one_of(robust.hostile_inputs(),
                     robust.hostile_arrays(shape=st.sampled_from([(n,), (n, 1), (n, k)])))


def exact_r2(y_true, y_pred) -> Fraction:
    """R² (uniform average over outputs) in exact rational arithmetic, from the float values."""
    Y = np.asarray(y_true, np.float64).reshape(len(y_true), -1)
    P = np.asarray(y_pred, np.float64).reshape(Y.shape)
    scores = []
    for j in range(Y.shape[1]):
        y = [Fraction(float(v)) for v in Y[:, j]]
        mean = sum(y) / len(y)
        total = sum((v - mean) ** 2 for v in y)
        residual = sum((v - Fraction(float(p))) ** 2 for v, p in zip(y, P[:, j]))
        scores.append(Fraction(int(residual == 0)) if total == 0 else 1 - residual / total)
    return sum(scores) / len(scores)


METRIC_FUNCTIONS = {**SCALAR_METRICS, "confusion_matrix": confusion_matrix}


@pytest.mark.parametrize("name", sorted(METRIC_FUNCTIONS))
@settings(ROBUST, max_examples=80)
@given(data=st.data())
def test_metric_returns_a_value_in_its_range_or_names_the_argument(robust, name, data):
    metric = METRIC_FUNCTIONS[name]
    n = data.draw(st.integers(2, 4), label="n_samples")
    k = data.draw(st.integers(2, 3), label="n_classes")
    good_true, good_pred = valid_pair(robust, name, n, k)
    which = data.draw(st.sampled_from([None, "y_true", "y_pred"]), label="hostile argument")
    y_true = data.draw(hostile(robust, n, k) if which == "y_true" else good_true, label="y_true")
    y_pred = data.draw(hostile(robust, n, k) if which == "y_pred" else good_pred, label="y_pred")
    huge = max(robust.max_abs(y_true), robust.max_abs(y_pred))
    # y_prob is log_loss's name for y_pred; a shape clash may be reported on either side.
    outcome = robust.call(metric, y_true, y_pred, names=("y_true", "y_pred", "y_prob"))
    if which is None:
        assert outcome.ok, f"{name} rejected valid input: {outcome.error!r}"
    if not outcome.ok:
        return
    value = outcome.value
    assert robust.is_clean_real(y_true, ndim=(1, 2)), f"{name} accepted y_true={y_true!r}"
    assert robust.is_clean_real(y_pred, ndim=(1, 2)), f"{name} accepted y_pred={y_pred!r}"
    moderate = huge <= robust.MODERATE
    if name == "confusion_matrix":
        assert value.dtype == np.int64 and value.ndim == 2 and value.shape[0] == value.shape[1]
        assert (value >= 0).all() and value.sum() == len(robust.as_array(y_true))
        expected = accuracy(y_true, y_pred)
        assert np.trace(value) / value.sum() == pytest.approx(expected)
        return
    assert isinstance(value, float)
    if name == "r2" and value == -np.inf:
        assert exact_r2(y_true, y_pred) < -np.finfo(np.float64).max
        return
    robust.expect(not (moderate and not np.isfinite(value)),
                  f"{name} = {value} for finite, moderate input")
    if name == "accuracy":
        assert 0.0 <= value <= 1.0
    elif name in ("mse", "mae", "log_loss"):
        assert not value < 0
    elif name == "r2":
        assert not value > 1.0


@settings(ROBUST, max_examples=60)
@given(data=st.data())
def test_confusion_matrix_n_classes_is_checked(robust, data):
    n_classes = data.draw(st.one_of(robust.hostile_scalars(), st.integers(0, 6)),
                          label="n_classes")
    outcome = robust.call(confusion_matrix, [0, 1, 2], [0, 2, 2], n_classes=n_classes,
                          names=("n_classes",))
    valid = n_classes is None or robust.in_range(n_classes, low=3, high=MAX_MATRIX_CLASSES,
                                                 integer=True)
    if outcome.ok:
        assert valid, f"n_classes={n_classes!r} was accepted"
        size = 3 if n_classes is None else int(n_classes)
        assert outcome.value.shape == (size, size) and outcome.value.sum() == 3
    else:
        assert not valid, f"n_classes={n_classes!r} was rejected: {outcome.error!r}"


@settings(ROBUST, max_examples=60)
@given(data=st.data())
def test_log_loss_eps_is_checked(robust, data):
    eps = data.draw(st.one_of(robust.hostile_scalars(), st.floats(0, 0.5)), label="eps")
    outcome = robust.call(log_loss, [0, 1], [0.0, 1.0], eps=eps, names=("eps",))
    # below the float64 epsilon 1 - eps rounds to 1: refused
    valid = robust.in_range(eps, float(np.finfo(np.float64).eps), 0.5, high_open=True)
    if outcome.ok:
        assert valid, f"eps={eps!r} was accepted"
        assert outcome.value == pytest.approx(-np.log1p(-float(eps)), rel=1e-6, abs=1e-12)
    else:
        assert not valid, f"eps={eps!r} was rejected: {outcome.error!r}"


# ------------------------------------------------------------- fixed bugs (regression tests)


def test_bug_b06_mse_overflow(robust):
    # the squared error itself is beyond the float range: inf, without an overflow warning
    outcome = robust.call(mean_squared_error, [1e200], [-1e200], names=("y_true", "y_pred"))
    assert outcome.value == np.inf


def test_bug_b06_r2_overflow(robust):
    outcome = robust.call(r2_score, [1e200, 3e200, -1e200], [0.0, 0.0, 0.0],
                          names=("y_true", "y_pred"))
    assert outcome.value == pytest.approx(1 - 11 / 8)  # r2_score([1, 3, -1], [0, 0, 0])


def test_bug_b07_accuracy_huge_float_label(robust):
    # labels beyond the class limit are refused (before any cast to int)
    robust.rejects(accuracy, [1e300, 0.0], [0, 1], names=("y_true",))


def test_bug_b07_accuracy_uint64_label(robust):
    robust.rejects(accuracy, np.array([2**64 - 1, 0], np.uint64), np.array([0, 1]),
                   names=("y_true",))


def test_bug_b08_confusion_matrix_huge_label(robust):
    robust.rejects(confusion_matrix, np.array([2**40, 0]), np.array([0, 1]),
                   names=("y_true", "n_classes"))


def test_bug_b08_confusion_matrix_huge_n_classes(robust):
    robust.rejects(confusion_matrix, [0, 1], np.array([0, 1]), n_classes=2**62,
                   names=("n_classes",))


def test_bug_b09_log_loss_tiny_eps(robust):
    # below the float64 epsilon, 1 - eps rounds to 1 and log(1 - p) can be log 0: refused
    robust.rejects(log_loss, [0, 1], [0.0, 1.0], eps=5e-324, names=("eps",))
    outcome = robust.call(log_loss, [0, 1], [0.0, 1.0], eps=1e-15, names=("eps",))
    assert np.isfinite(outcome.value)


def test_bug_b27_accuracy_ragged_y_pred(robust):
    robust.rejects(accuracy, [0, 1], [[1.0, 2.0], [3.0]], names=("y_pred",), error=TypeError)


def test_metrics_are_registered_and_mean_absolute_error_is_exact(robust):
    assert set(SCALAR_METRICS) == {"accuracy", "log_loss", "mae", "mse", "r2"}
    outcome = robust.call(mean_absolute_error, [1e300, -1e300], [-1e300, 1e300])
    assert outcome.value == pytest.approx(2e300)
