"""MLPClassifier's predictions: memory bounded by the result and one chunk, and one decision
rule (the class of ``predict`` is the argmax of ``predict_proba``, ties to the first class)."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.exceptions import ConvergenceWarning

from chainrule.layers.inference import EVAL_CHUNK
from chainrule.sklearn import MLPClassifier

N_ROWS, N_CLASSES = 50_000, 200  # the (n, n_classes) float64 logits: 80 MB
#: Arrays of one chunk's (EVAL_CHUNK, N_CLASSES) float64 a prediction may hold at once (the
#: logits, their log-probabilities, a temporary of the log-sum-exp), with room to spare; far
#: below the whole logits array (N_ROWS / EVAL_CHUNK ≈ 12 chunks).
CHUNK_ARRAYS = 5


def traced_peak(function) -> tuple[int, object]:
    """(peak traced memory in bytes above the starting level while calling ``function``,
    its result)."""
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start, result


@pytest.fixture(scope="module")
def many_classes():
    """A classifier of N_CLASSES classes and X (N_ROWS, 8)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, 8))
    y = np.r_[np.arange(N_CLASSES), rng.integers(0, N_CLASSES, 1800)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((16,), max_iter=1, random_state=0).fit(X[:2000], y)
    return clf, X


def _bound(result_bytes: int) -> int:
    return result_bytes + CHUNK_ARRAYS * EVAL_CHUNK * N_CLASSES * 8


def test_the_bound_is_below_the_whole_logits_array():
    assert _bound(N_ROWS * 8) < N_ROWS * N_CLASSES * 8


@pytest.mark.parametrize("method", ["predict", "score"])
def test_predict_and_score_hold_one_chunk_of_logits(many_classes, method):
    clf, X = many_classes
    y = clf.classes_[np.arange(N_ROWS) % N_CLASSES]
    call = (lambda: clf.predict(X)) if method == "predict" else (lambda: clf.score(X, y))
    peak, _ = traced_peak(call)
    assert peak < _bound(N_ROWS * 8), f"{method}: {peak / 2**20:.1f} MiB"


@pytest.mark.parametrize("method", ["predict_proba", "predict_log_proba"])
def test_probabilities_are_built_in_place(many_classes, method):
    clf, X = many_classes
    peak, result = traced_peak(lambda: getattr(clf, method)(X))
    assert result.shape == (N_ROWS, N_CLASSES)
    assert peak < _bound(result.nbytes), f"{method}: {peak / 2**20:.1f} MiB"


# --------------------------------------------------------------------------- one decision rule
def _with_logits(clf: MLPClassifier, bias: np.ndarray) -> MLPClassifier:
    """``clf`` with the output layer's weights zero and its bias ``bias``: every row's logits
    are ``bias``."""
    clf.coefs_[-1][...] = 0
    clf.intercepts_[-1][...] = bias
    return clf


def _fitted(X, y, **settings) -> MLPClassifier:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPClassifier((4,), max_iter=2, random_state=0, dtype=np.float32,
                             **settings).fit(X, y)


X4 = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])


@pytest.mark.parametrize("z", [0.0, 1e-9, -1e-9, 1e-7, -1e-7, 2e-7, -2e-7])
def test_binary_predict_is_the_argmax_of_predict_proba(z):
    """At a logit within rounding of 0, float32 probabilities may tie at 0.5 (the first
    class then, as scikit-learn's ``p > 0.5``) or not (just above 0, [0.49999997, 0.5]: the
    second); ``predict`` is the argmax of ``predict_proba`` either way."""
    clf = _with_logits(_fitted(X4, ["a", "b", "b", "a"]), np.float32(z))
    P = clf.predict_proba(X4)
    expected = clf.classes_[P.argmax(axis=1)]
    assert np.array_equal(clf.predict(X4), expected)
    assert clf.score(X4, expected) == 1.0
    if P[0, 0] == P[0, 1]:
        assert clf.predict(X4).tolist() == ["a"] * 4


def test_binary_tie_at_one_half_is_the_first_class():
    clf = _with_logits(_fitted(X4, [0, 1, 1, 0]), np.float32(1e-9))
    assert clf.predict_proba(X4)[0].tolist() == [0.5, 0.5]
    assert clf.predict(X4).tolist() == [0, 0, 0, 0]


def test_multilabel_predict_is_one_above_one_half_only():
    Y = np.array([[0, 1], [1, 0], [1, 1], [0, 0]])
    clf = _with_logits(_fitted(X4, Y), np.array([1e-9, 1e-3], np.float32))
    P = clf.predict_proba(X4)
    assert P[0, 0] == 0.5 and P[0, 1] > 0.5
    assert clf.predict(X4).tolist() == [[0, 1]] * 4


def test_multiclass_tie_in_probabilities_is_the_first_class():
    """Logits apart by less than float32 resolves after the softmax: the probabilities tie,
    and the first of the tied classes is predicted (the argmax of ``predict_proba``)."""
    clf = _with_logits(_fitted(X4, [0, 1, 2, 0]), np.array([0.0, 1e-9, -5.0], np.float32))
    P = clf.predict_proba(X4)
    assert P[0, 0] == P[0, 1]
    assert clf.predict(X4).tolist() == [0, 0, 0, 0]
    assert np.array_equal(clf.predict(X4), P.argmax(axis=1))
