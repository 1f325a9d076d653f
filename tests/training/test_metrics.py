"""Metrics against scikit-learn, their input conventions, edge cases and errors."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from chainrule.errors import ShapeError
from chainrule.training.metrics import (
    METRICS,
    accuracy,
    confusion_matrix,
    higher_is_better,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    multilabel_accuracy,
    multilabel_log_loss,
    r2_score,
)


def _softmax(Z: np.ndarray) -> np.ndarray:
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes)[labels]


@pytest.fixture
def sk_metrics():
    pytest.importorskip("sklearn")
    from sklearn import metrics

    return metrics


# ------------------------------------------------------------------ accuracy, confusion matrix


def test_accuracy_multiclass_all_input_forms_match_sklearn(rng, sk_metrics):
    n, k = 200, 4
    y = rng.integers(0, k, n)
    P = _softmax(rng.standard_normal((n, k)))
    labels = P.argmax(axis=1)
    want = sk_metrics.accuracy_score(y, labels)
    assert 0.1 < want < 0.5  # a non-trivial value
    assert accuracy(y, P) == want  # scores -> argmax
    assert accuracy(y, labels) == want  # integer labels
    assert accuracy(_one_hot(y, k), P) == want  # one-hot y_true
    assert accuracy(y.astype(np.float64), np.log(P)) == want  # float labels, logits
    assert accuracy(list(y), P.tolist()) == want  # plain lists


def test_accuracy_binary_both_shapes_match_sklearn(rng, sk_metrics):
    n = 300
    y = rng.integers(0, 2, n)
    p = rng.uniform(0.0, 1.0, n)
    p[:3] = 0.5  # exactly 0.5 predicts class 0, as predict (and scikit-learn's p > 0.5)
    want = sk_metrics.accuracy_score(y, (p > 0.5).astype(int))
    for y_true in (y, y[:, None]):
        for y_pred in (p, p[:, None], (p > 0.5).astype(np.int64)):
            assert accuracy(y_true, y_pred) == want
    # Two-column probabilities are a 2-class score array.
    assert accuracy(y, np.column_stack([1 - p, p])) == sk_metrics.accuracy_score(
        y, np.column_stack([1 - p, p]).argmax(axis=1)
    )


def test_accuracy_edge_values():
    assert accuracy([0, 1, 2], [0, 1, 2]) == 1.0
    assert accuracy([0, 1, 2], [1, 2, 0]) == 0.0
    assert accuracy([1], np.array([[0.2, 0.8]])) == 1.0  # one sample
    assert isinstance(accuracy([0, 1], [0, 1]), float)


def test_confusion_matrix_matches_sklearn(rng, sk_metrics):
    n, k = 250, 5
    y = rng.integers(0, k, n)
    P = _softmax(rng.standard_normal((n, k)))
    want = sk_metrics.confusion_matrix(y, P.argmax(axis=1), labels=np.arange(k))
    for y_true in (y, _one_hot(y, k)):
        got = confusion_matrix(y_true, P)
        assert got.dtype == np.int64 and got.shape == (k, k)
        assert np.array_equal(got, want)
    assert np.trace(want) / n == accuracy(y, P)


def test_confusion_matrix_binary_and_n_classes(rng, sk_metrics):
    y = rng.integers(0, 2, 100)
    p = rng.uniform(0.0, 1.0, (100, 1))
    want = sk_metrics.confusion_matrix(y, (p[:, 0] >= 0.5).astype(int), labels=[0, 1])
    assert np.array_equal(confusion_matrix(y, p), want)
    # A class missing from both arrays still gets its row and column.
    got = confusion_matrix([0, 0, 1], [0, 1, 1], n_classes=4)
    assert got.shape == (4, 4) and got.sum() == 3 and got[0, 1] == 1
    # Binary probabilities imply 2 classes even if only class 0 appears.
    assert confusion_matrix([0, 0], [0.1, 0.2]).shape == (2, 2)
    with pytest.raises(ValueError, match="n_classes must be at least 3"):
        confusion_matrix([0, 2], [0, 1], n_classes=2)
    with pytest.raises(ValueError, match="n_classes must be"):
        confusion_matrix([0, 1], [0, 1], n_classes=0)


def test_confusion_matrix_size_limit():
    from chainrule.training.metrics import MAX_MATRIX_CLASSES

    n = MAX_MATRIX_CLASSES + 1
    with pytest.raises(ValueError, match=rf"^y_pred holds the label {n - 1}: a confusion "
                       rf"matrix of {n} classes is over the limit of {MAX_MATRIX_CLASSES}; "
                       r"relabel the classes 0\.\.k-1$"):
        confusion_matrix([0, 1], [0, n - 1])
    with pytest.raises(ValueError, match=rf"^y_true holds the label {n - 1}: "):
        confusion_matrix([n - 1, 1], [0, 1])


@pytest.mark.parametrize("one_hot_true", [False, True])
def test_confusion_matrix_size_limit_from_the_columns(one_hot_true):
    # the count comes from y_pred's columns, not from a label any sample holds: the message
    # says so (no sample holds the label n - 1 here)
    from chainrule.training.metrics import MAX_MATRIX_CLASSES

    n = MAX_MATRIX_CLASSES + 1
    scores = np.zeros((3, n), np.float32)
    scores[[0, 1, 2], [0, 1, 2]] = 1
    y_true = np.eye(n, dtype=np.float32)[[0, 1, 2]] if one_hot_true else [0, 1, 2]
    who = "y_true and y_pred have" if one_hot_true else "y_pred has"
    with pytest.raises(ValueError, match=rf"^{who} {n} columns, one per class: a confusion "
                       rf"matrix of {n} classes is over the limit of {MAX_MATRIX_CLASSES}$"):
        confusion_matrix(y_true, scores)


# ------------------------------------------------------------------ log loss


def test_log_loss_multiclass_matches_sklearn(rng, sk_metrics):
    n, k = 150, 3
    y = rng.integers(0, k, n)
    P = _softmax(rng.standard_normal((n, k)))
    want = sk_metrics.log_loss(y, P, labels=np.arange(k))
    assert log_loss(y, P) == pytest.approx(want, rel=1e-12)
    assert log_loss(_one_hot(y, k), P) == pytest.approx(want, rel=1e-12)


def test_log_loss_binary_both_shapes_match_sklearn(rng, sk_metrics):
    n = 200
    y = rng.integers(0, 2, n)
    p = rng.uniform(0.01, 0.99, n)
    want = sk_metrics.log_loss(y, p)
    for y_true in (y, y[:, None]):
        for y_prob in (p, p[:, None]):
            assert log_loss(y_true, y_prob) == pytest.approx(want, rel=1e-12)
    assert log_loss(y, np.column_stack([1 - p, p])) == pytest.approx(want, rel=1e-12)


def test_log_loss_clips_at_eps():
    # Confidently wrong: -log(eps) per sample instead of infinity (up to the float64 rounding
    # of 1 - eps, which is 1 - 0.9992e-15 for eps = 1e-15).
    assert log_loss([1], [0.0]) == pytest.approx(-np.log(1e-15), rel=1e-12)
    assert log_loss([1, 0], [0.0, 1.0]) == pytest.approx(-np.log(1e-15), rel=1e-4)
    assert log_loss([1, 0], [0.0, 1.0], eps=1e-7) == pytest.approx(-np.log(1e-7), rel=1e-8)
    assert log_loss([2], [[0.5, 0.5, 0.0]]) == pytest.approx(-np.log(1e-15), rel=1e-12)
    # Perfect predictions cost -log(1 - eps) ≈ eps.
    assert 0.0 < log_loss([0, 1, 2], np.eye(3)) < 1e-14
    with pytest.raises(ValueError, match="eps must be in"):
        log_loss([0, 1], [0.2, 0.7], eps=0.5)


def test_log_loss_errors():
    with pytest.raises(ValueError, match=r"y_prob must hold probabilities in \[0, 1\]"):
        log_loss([0, 1], [-2.0, 3.0])  # logits
    with pytest.raises(ValueError, match=r"y_true must hold class labels in \[0, 2\)"):
        log_loss([0, 2], [0.2, 0.7])
    with pytest.raises(ValueError, match=r"y_true must hold class labels in \[0, 3\)"):
        log_loss([0, 3], np.full((2, 3), 1 / 3))
    with pytest.raises(
        ShapeError, match=r"y_true must be of shape \(n_samples,\) or \(n_samples, 3\)"
    ):
        log_loss(np.eye(2), np.full((2, 3), 1 / 3))
    with pytest.raises(ShapeError, match="binary probabilities"):
        log_loss(np.eye(2), [0.2, 0.7])
    with pytest.raises(ShapeError, match="same number of samples, got 3 and 2"):
        log_loss([0, 1, 1], [0.2, 0.7])


def _peak_bytes(function, *args):
    """The result of ``function(*args)`` and the most memory it held at once (tracemalloc)."""
    tracemalloc.start()
    try:
        result = function(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


def test_class_scores_are_read_without_a_copy_of_the_whole_array(rng):
    # accuracy takes the argmax of float32 scores as they are, and log_loss of labels picks one
    # probability per row before clipping: neither copies the (n, k) array (1.6 MB here)
    n, k = 2000, 200
    y = rng.integers(0, k, n)
    P = _softmax(rng.standard_normal((n, k))).astype(np.float32)
    for metric in (accuracy, log_loss):
        _, peak = _peak_bytes(metric, y, P)
        assert peak < P.nbytes, metric.__name__  # a float64 copy is twice as large


def test_log_loss_of_labels_is_unchanged_by_picking_before_clipping(rng):
    n, k, eps = 500, 7, 1e-3
    y = rng.integers(0, k, n)
    P = _softmax(3 * rng.standard_normal((n, k)))  # some entries beyond the clip bounds
    clipped = np.clip(P, eps, 1 - eps)[np.arange(n), y]
    assert log_loss(y, P, eps=eps) == float(-np.mean(np.log(clipped)))
    # float32 input: computed in float64 on the float32 values, as before
    P32 = P.astype(np.float32)
    assert log_loss(y, P32, eps=eps) == log_loss(y, P32.astype(np.float64), eps=eps)
    assert accuracy(y, P32) == accuracy(y, P32.astype(np.float64))


def test_float32_class_scores_that_are_not_finite_are_refused():
    P = np.array([[0.5, np.nan], [0.2, 0.8]], dtype=np.float32)
    for metric in (accuracy, log_loss):
        with pytest.raises(ValueError, match=r"y_pred must be finite|y_prob must be finite"):
            metric([0, 1], P)


# ------------------------------------------------------------------ regression


@pytest.mark.parametrize("n_outputs", [None, 1, 3])
def test_regression_metrics_match_sklearn(rng, sk_metrics, n_outputs):
    shape = (80,) if n_outputs is None else (80, n_outputs)
    y = rng.standard_normal(shape) * rng.uniform(0.5, 3.0, shape[1:])
    y_pred = y + 0.5 * rng.standard_normal(shape)
    assert mean_squared_error(y, y_pred) == pytest.approx(
        sk_metrics.mean_squared_error(y, y_pred), rel=1e-12
    )
    assert mean_absolute_error(y, y_pred) == pytest.approx(
        sk_metrics.mean_absolute_error(y, y_pred), rel=1e-12
    )
    want_r2 = sk_metrics.r2_score(y, y_pred)
    assert 0.0 < want_r2 < 1.0
    assert r2_score(y, y_pred) == pytest.approx(want_r2, rel=1e-12)


def test_multi_output_r2_is_the_uniform_average(rng, sk_metrics):
    y = rng.standard_normal((60, 2)) * [1.0, 10.0]
    y_pred = y + rng.standard_normal((60, 2))
    per_output = sk_metrics.r2_score(y, y_pred, multioutput="raw_values")
    assert per_output[0] < 0.5 < per_output[1]  # the outputs differ, so averaging matters
    assert r2_score(y, y_pred) == pytest.approx(per_output.mean(), rel=1e-12)


def test_n_samples_and_column_vector_are_interchangeable(rng):
    y = rng.standard_normal(30)
    y_pred = y + rng.standard_normal(30)
    for metric in (mean_squared_error, mean_absolute_error, r2_score):
        want = metric(y, y_pred)
        assert metric(y[:, None], y_pred) == want  # no (30, 30) broadcasting
        assert metric(y, y_pred[:, None]) == want
    assert mean_squared_error([1.0, 2.0], [[1.0], [4.0]]) == 2.0


def test_regression_perfect_and_constant_targets(sk_metrics):
    y = np.array([1.0, 2.0, 4.0])
    assert mean_squared_error(y, y) == 0.0
    assert mean_absolute_error(y, y) == 0.0
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.full(3, y.mean())) == pytest.approx(0.0, abs=1e-15)
    # Constant y_true: 1.0 for exact predictions, 0.0 otherwise (never NaN or -inf),
    # as scikit-learn's default force_finite=True.
    constant = np.full(4, 3.0)
    assert r2_score(constant, constant) == 1.0 == sk_metrics.r2_score(constant, constant)
    off = constant + [0.0, 0.1, 0.0, 0.0]
    assert r2_score(constant, off) == 0.0 == sk_metrics.r2_score(constant, off)
    # Multi-output with one constant output: that output counts as 0.0 in the average.
    Y = np.column_stack([[1.0, 2.0, 3.0, 4.0], constant])
    Y_pred = np.column_stack([[1.0, 2.0, 3.0, 4.0], off])
    assert r2_score(Y, Y_pred) == 0.5 == sk_metrics.r2_score(Y, Y_pred)


@pytest.mark.parametrize("n", [2, 3, 10, 20, 49])
@pytest.mark.parametrize("value", [1.0, 0.1, 3.7, -2e-300, 1e200])
def test_r2_of_constant_targets_whose_mean_rounds(n, value):
    # The weighted mean (w / Σ w) @ y of a constant is not always the constant itself (ten
    # weights 0.1 sum to 0.9999999999999999): the deviations are then ~1e-16, not 0, and must
    # still count as a constant target, not as a variance giving an R² of ~-1e31.
    from chainrule.training._r2 import weighted_r2

    y = np.full(n, value)
    off = y + 0.5 * abs(value)
    assert r2_score(y, off) == 0.0  # scikit-learn's own r2_score gives ~-1e31 for some of these
    assert r2_score(y, y.copy()) == 1.0
    weights = np.arange(1.0, n + 1.0) / 7.0
    assert weighted_r2(y, off, weights) == 0.0
    assert weighted_r2(y, y.copy(), weights) == 1.0
    # multi-output: the constant output counts 0.0 (or 1.0) beside an exact varying one
    ramp = np.arange(n, dtype=float)
    Y = np.column_stack([ramp, y])
    assert r2_score(Y, np.column_stack([ramp, off])) == 0.5
    assert weighted_r2(Y, np.column_stack([ramp, y]), weights) == 1.0
    # a target differing only on a sample of weight 0 is constant over the samples that count
    varied, zero_weight = y.copy(), np.ones(n)
    varied[0], zero_weight[0] = value + 1.0, 0.0
    assert weighted_r2(varied, off, zero_weight) == 0.0


def test_regression_metrics_near_the_largest_float():
    # values of magnitude 2**1023 and more (a scale of 2**1024 would itself overflow)
    y, y_hat = [1e308, -1e308], [0.0, 1.0]
    assert mean_squared_error(y, y_hat) == np.inf  # the true mean of squares is beyond float64
    assert mean_absolute_error(y, y_hat) == 1e308
    assert r2_score(y, y_hat) == 0.0
    assert r2_score([1.7e308, -1.7e308], [1.7e308, 1.7e308]) == -1.0


def test_r2_can_be_negative_and_needs_two_samples():
    assert r2_score([1.0, 2.0, 3.0], [3.0, 2.0, 1.0]) == -3.0
    with pytest.raises(ValueError, match="R² needs at least 2 samples, got y_true with 1"):
        r2_score([1.0], [1.0])


@pytest.mark.filterwarnings("error")
def test_r2_below_the_float64_range_is_minus_infinity():
    # targets varying by ~1e-200, predictions ~0.1 away: 1 − R² ≈ 1e398 is beyond float64
    y = np.array([1.0, 2.0, 3.0]) * 1e-200
    assert r2_score(y, y + 0.1) == -np.inf
    # a variance that underflows is still not a constant target (which would score 0.0)
    assert r2_score([2.2250738585072014e-309, 0.0], [1.0, 1.0]) == -np.inf
    # 1e10 times further than y varies is within range: the R² of the same values scaled up
    assert r2_score(y, y + 1e-190) == pytest.approx(r2_score(y * 1e200, y * 1e200 + 1e10),
                                                    rel=1e-12)


def test_regression_errors():
    with pytest.raises(ShapeError, match="same number of outputs"):
        mean_squared_error(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ShapeError, match="same number of samples, got 4 and 3"):
        mean_absolute_error(np.zeros(4), np.zeros(3))
    with pytest.raises(ShapeError, match="y_pred must be 1-D or 2-D, got 3-D"):
        r2_score(np.zeros((4, 1)), np.zeros((4, 1, 1)))
    with pytest.raises(ValueError, match="y_true must be finite"):
        mean_squared_error([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="y_pred must not be empty"):
        mean_squared_error(np.zeros(1), np.zeros(0))
    with pytest.raises(TypeError, match="y_true must"):
        mean_squared_error("abc", [1.0])


# ------------------------------------------------------------------ classification errors


def test_classification_errors():
    with pytest.raises(ShapeError, match="same number of samples, got 3 and 2"):
        accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="y_pred must be finite"):
        accuracy([0, 1], [0.2, np.nan])
    with pytest.raises(ValueError, match="y_true must not be empty"):
        accuracy([], [])
    with pytest.raises(ShapeError, match=r"y_true must be of shape \(n_samples,\), .* got shape \(2, 2, 2\)"):
        accuracy(np.zeros((2, 2, 2)), [0, 1])
    with pytest.raises(ValueError, match="y_true must hold whole-number class labels"):
        accuracy([0, 1.5], [0, 1])
    with pytest.raises(ValueError, match=r"y_true must hold class labels in \[0, 1048576\)"):
        accuracy([0, -1], [0, 1])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\].*sigmoid"):
        accuracy([0, 1], [-1.3, 2.0])  # binary logits
    with pytest.raises(ValueError, match=r"pass predicted labels as integers"):
        accuracy([0, 1, 2], [0.0, 1.0, 2.0])  # float labels are ambiguous
    with pytest.raises(ShapeError, match="y_true describes 3 classes but y_pred 4"):
        accuracy(np.eye(3), np.eye(4)[:3])
    with pytest.raises(ValueError, match=r"^y_true has the label 2 but y_pred describes only 2 "
                                         r"classes \(shapes \(2,\) and \(2,\)\)$"):
        accuracy([0, 2], [0.3, 0.9])  # binary probabilities, 3-class labels
    with pytest.raises(ValueError, match="y_pred has the label 3 but y_true describes only 3"):
        confusion_matrix(np.eye(3), [0, 1, 3])
    with pytest.raises(ValueError, match=r"y_true must hold class labels in \[0, 2\)"):
        accuracy([[0], [2]], [0, 1])  # (n_samples, 1) y_true is binary


# ------------------------------------------------------------------ registry, direction


def test_registry_names_and_aliases():
    assert METRICS.names() == ["accuracy", "log_loss", "mae", "mse", "r2"]
    assert METRICS.get("accuracy") is accuracy
    assert METRICS.get("mse") is METRICS.get("mean_squared_error") is mean_squared_error
    assert METRICS.get("mae") is mean_absolute_error
    assert METRICS.get("r2") is r2_score
    assert METRICS.get("log_loss") is log_loss
    assert "confusion_matrix" not in METRICS
    with pytest.raises(ValueError, match="unknown metric 'f1'; valid names: accuracy"):
        METRICS.get("f1")


def test_higher_is_better():
    assert higher_is_better("accuracy") and higher_is_better("r2")
    for name in ("mse", "mean_squared_error", "mae", "log_loss"):
        assert not higher_is_better(name)
    assert higher_is_better(r2_score) and not higher_is_better(log_loss)
    with pytest.raises(ValueError, match="unknown metric"):
        higher_is_better("f1")
    with pytest.raises(ValueError, match="not a registered metric"):
        higher_is_better(confusion_matrix)


# ------------------------------------------------------------------ multilabel


def test_multilabel_accuracy_is_sklearn_exact_match(rng, sk_metrics):
    T = rng.integers(0, 2, size=(40, 3))
    P = np.clip(T + rng.normal(scale=0.4, size=T.shape), 0, 1)  # some labels flipped
    expected = sk_metrics.accuracy_score(T, (P >= 0.5).astype(int))
    assert 0 < expected < 1
    assert multilabel_accuracy(T, P) == pytest.approx(expected)
    assert multilabel_accuracy(T, T) == 1.0  # 0/1 predictions are read as they are


def test_multilabel_log_loss_sums_the_labels_and_reduces_to_log_loss(rng):
    T = rng.integers(0, 2, size=(30, 4)).astype(float)
    P = rng.uniform(0.05, 0.95, size=T.shape)
    per_label = [log_loss(T[:, j], P[:, j]) for j in range(4)]  # binary log-loss per column
    assert multilabel_log_loss(T, P) == pytest.approx(sum(per_label), rel=1e-12)
    assert multilabel_log_loss(T[:, :1], P[:, :1]) == pytest.approx(per_label[0], rel=1e-12)


@pytest.mark.parametrize("metric", [accuracy, log_loss, confusion_matrix])
def test_one_class_metrics_refuse_multilabel_targets(metric):
    T = np.array([[1, 0, 1], [0, 1, 0]])
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    with pytest.raises(ValueError, match=r"row 0 has 2 ones: these are multilabel targets.*"
                                         r"multilabel_accuracy"):
        metric(T, P)
    soft = np.array([[0.6, 0.3, 0.1], [0.0, 1.0, 0.0]])  # soft and one-hot rows stay accepted
    assert accuracy(soft, P) == 1.0


def test_multilabel_metric_errors():
    with pytest.raises(ShapeError, match=r"both be of shape \(n_samples, n_labels\)"):
        multilabel_accuracy(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"y_prob must hold probabilities in \[0, 1\]"):
        multilabel_log_loss(np.zeros((2, 2)), np.full((2, 2), 2.0))
