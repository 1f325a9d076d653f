"""A fit that fails on its data draws nothing from ``random_state``: the next fit is the one a
fresh RandomState (or NumPy's global state, for None) would give, as in scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")

from _quiet_fit import fit_quietly

from chainrule.sklearn import MLPClassifier, MLPRegressor, Perceptron

X = np.random.default_rng(0).normal(size=(60, 3))
Y = (X[:, 0] > 0).astype(int)
BAD = X.copy()
BAD[0, 0] = np.nan


def _make(kind, random_state):
    if kind == "perceptron":
        return Perceptron(max_iter=3, random_state=random_state)
    model = MLPClassifier if kind == "classifier" else MLPRegressor
    return model(hidden_layer_sizes=(5,), max_iter=3, dropout=0.2, random_state=random_state)


def _fitted_state(model):
    return model.coef_.copy() if isinstance(model, Perceptron) else model._net.parameters.copy()


@pytest.mark.parametrize("kind", ["classifier", "regressor", "perceptron"])
def test_a_failed_fit_leaves_a_random_state_object_untouched(kind):
    fresh = fit_quietly(_make(kind, np.random.RandomState(0)), X, Y)
    model = _make(kind, np.random.RandomState(0))
    with pytest.raises(ValueError, match="NaN"):
        model.fit(BAD, Y)
    assert np.array_equal(_fitted_state(fit_quietly(model, X, Y)), _fitted_state(fresh))


@pytest.mark.parametrize("kind", ["classifier", "regressor", "perceptron"])
def test_a_failed_fit_leaves_numpys_global_state_untouched(kind):
    np.random.seed(0)
    fresh = _fitted_state(fit_quietly(_make(kind, None), X, Y))
    np.random.seed(0)
    model = _make(kind, None)
    with pytest.raises(ValueError, match="NaN"):
        model.fit(BAD, Y)
    assert np.array_equal(_fitted_state(fit_quietly(model, X, Y)), fresh)


def test_a_failed_partial_fit_leaves_a_random_state_object_untouched():
    fresh = MLPClassifier((5,), random_state=np.random.RandomState(0)).partial_fit(
        X, Y, classes=[0, 1])
    model = MLPClassifier((5,), random_state=np.random.RandomState(0))
    with pytest.raises(ValueError, match="NaN"):
        model.partial_fit(BAD, Y, classes=[0, 1])
    model.partial_fit(X, Y, classes=[0, 1])
    assert np.array_equal(model._net.parameters, fresh._net.parameters)


@pytest.mark.parametrize("kind", ["classifier", "perceptron"])
def test_a_bad_random_state_is_still_reported_before_the_data(kind):
    with pytest.raises(TypeError, match="random_state"):
        _make(kind, "seven").fit(BAD, Y)
    with pytest.raises(ValueError, match="random_state"):
        _make(kind, -1).fit(BAD, Y)
