"""MLPClassifier decides from the logits what it would decide from its own probabilities."""

import numpy as np
import pytest

pytest.importorskip("sklearn")

from chainrule.sklearn import MLPClassifier
from chainrule.sklearn.classifier import CLOSE_LOGITS


def _fitted(kind, dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    if kind == "softmax":
        y = np.arange(60) % 5
    elif kind == "binary":
        y = np.arange(60) % 2
    else:
        y = np.stack([np.arange(60) % 2, (np.arange(60) // 2) % 2, np.arange(60) % 3 == 0], 1)
        y = y.astype(np.int64)
    est = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0, dtype=dtype)
    with pytest.warns(Warning):  # not converged in 2 iterations
        est.fit(X, y)
    return est


def _near_ties(rng, n, width, dtype):
    """Logits with ties and near-ties (a few units in the last place apart, below and
    around CLOSE_LOGITS), and tiny logits near 0 (where sigmoid probabilities round to 0.5)."""
    Z = rng.standard_normal((n, width)) * rng.choice([1e-9, 1e-6, 1e-3, 1.0, 30.0], (n, 1))
    Z = Z.astype(dtype)
    rows = rng.integers(0, n, n // 2)
    cols = rng.integers(0, width, (n // 2, 2))
    gaps = rng.choice([0.0, 1e-12, 1e-8, 1e-7, 3e-7, 1e-6, CLOSE_LOGITS * 0.9, CLOSE_LOGITS * 1.1],
                      n // 2)
    Z[rows, cols[:, 0]] = Z[rows, cols[:, 1]] + gaps.astype(dtype)
    return Z


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["softmax", "binary", "multilabel"])
def test_decisions_from_logits_equal_those_from_the_probabilities(kind, dtype):
    est = _fitted(kind, dtype)
    width = {"softmax": 5, "binary": 1, "multilabel": 3}[kind]
    rng = np.random.default_rng(1)
    for _ in range(20):
        Z = _near_ties(rng, 400, width, np.dtype(dtype))
        expected = est._decided(est._probabilities_of(Z.copy()))
        np.testing.assert_array_equal(est._decided_logits(Z.copy()), expected)


def test_a_logit_tie_broken_by_rounding_is_decided_as_predict_proba_says():
    """float32 softmax logits [1e-9, 0]: the first is larger, yet their probabilities round
    to equal, and predict_proba's argmax (the first of tied) is class 0 either way; logits
    [0, 1e-9]: argmax of the logits says class 1, the probabilities [0.5, 0.5] say class 0."""
    est = _fitted("softmax", "float32")
    Z = np.zeros((1, 5), np.float32)
    Z[0, 1] = 1e-9
    P = est._probabilities_of(Z.copy())
    assert P[0, 0] == P[0, 1]
    assert est._decided_logits(Z.copy())[0] == 0
