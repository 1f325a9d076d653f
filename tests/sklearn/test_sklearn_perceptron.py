"""The scikit-learn Perceptron: the Rosenblatt perceptron behind scikit-learn's API."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score

from chainrule.perceptron import Perceptron as Rosenblatt
from chainrule.sklearn import Perceptron

GATE_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def test_learns_and_and_converges():
    model = Perceptron(shuffle=False).fit(GATE_X, [0, 0, 0, 1])
    np.testing.assert_array_equal(model.predict(GATE_X), [0, 0, 0, 1])
    assert model.converged_ and model.mistakes_[-1] == 0 and model.n_iter_ == len(model.mistakes_)
    assert model.coef_.shape == (1, 2) and model.intercept_.shape == (1,)
    assert model.decision_function(GATE_X).shape == (4,)


def test_xor_does_not_converge_and_warns():
    with pytest.warns(ConvergenceWarning, match="linearly"):
        model = Perceptron(max_iter=20, random_state=0).fit(GATE_X, [0, 1, 1, 0])
    assert not model.converged_ and model.n_iter_ == 20


def test_weights_are_the_rosenblatt_weights_transposed():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning):
        ours = Perceptron(eta0=0.5, max_iter=30, random_state=7).fit(X, y)
    plain = Rosenblatt(lr=0.5, epochs=30, seed=np.random.default_rng(7)).fit(X, y)
    np.testing.assert_array_equal(ours.coef_, plain.W.T)
    np.testing.assert_array_equal(ours.intercept_, plain.b)
    assert ours.coef_.shape == (3, 4)
    np.testing.assert_array_equal(ours.predict(X), plain.predict(X))
    np.testing.assert_array_equal(ours.decision_function(X), plain.decision_function(X))


def test_string_labels_float32_and_cross_validation():
    X, y = load_iris(return_X_y=True)
    keep = y < 2  # setosa against versicolor: linearly separable
    labels = np.array(["setosa", "versicolor"])[y[keep]]
    model = Perceptron(random_state=0).fit(X[keep].astype(np.float32), labels)
    assert model.coef_.dtype == np.float32 and model.converged_
    assert set(model.predict(X[keep])) == {"setosa", "versicolor"}
    assert cross_val_score(Perceptron(random_state=0), X[keep], labels, cv=3).min() == 1.0


def test_random_state_none_shuffles_with_numpys_global_random_state():
    # scikit-learn's check_random_state(None): the global RandomState, consumed by each fit
    X, y = load_iris(return_X_y=True)

    def fit(random_state=None):
        with pytest.warns(ConvergenceWarning):
            return Perceptron(max_iter=3, random_state=random_state).fit(X, y).coef_

    np.random.seed(0)
    first, second = fit(), fit()
    np.testing.assert_array_equal(first, fit(np.random.RandomState(0)))
    assert not np.array_equal(first, second)
    np.random.seed(0)
    np.testing.assert_array_equal(fit(), first)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="one class"):
        Perceptron().fit(GATE_X, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="eta0"):
        Perceptron(eta0=0.0).fit(GATE_X, [0, 0, 0, 1])
    with pytest.raises(ValueError, match="max_iter"):
        Perceptron(max_iter=0).fit(GATE_X, [0, 0, 0, 1])
    with pytest.raises(TypeError, match="sample_weight"):
        Perceptron().fit(GATE_X, [0, 0, 0, 1], sample_weight=np.ones(4))
