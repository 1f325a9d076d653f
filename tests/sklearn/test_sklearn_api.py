"""The estimators inside scikit-learn's machinery: Pipeline, GridSearchCV, cross-validation,
clone, pickle; and scikit-learn is imported only by ``chainrule.sklearn``."""

from __future__ import annotations

import inspect
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from chainrule.sklearn import MLPClassifier, MLPRegressor, Perceptron
from chainrule.training.callbacks import EarlyStopping


@pytest.fixture
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def test_import_chainrule_does_not_import_scikit_learn():
    code = (
        "import sys, chainrule\n"
        "assert 'sklearn' not in sys.modules, 'sklearn'\n"
        "assert 'chainrule.sklearn' not in sys.modules, 'chainrule.sklearn'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_chainrule_sklearn_without_scikit_learn_says_how_to_install_it():
    code = (
        "import sys\n"
        "sys.modules['sklearn'] = None  # makes `import sklearn` fail, as when it is missing\n"
        "try:\n"
        "    import chainrule.sklearn\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc.name, exc, sep='|')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                            text=True)
    assert result.stdout == (
        "ImportError|sklearn|chainrule.sklearn needs scikit-learn: "
        "pip install 'chainrule[sklearn]'\n"
    )


def test_pipeline_scales_then_classifies(iris):
    X, y = iris
    classifier = MLPClassifier((16,), learning_rate_init=0.01, max_iter=100, random_state=0)
    model = make_pipeline(StandardScaler(), classifier)
    model.fit(X, y)
    assert model.score(X, y) > 0.9
    assert model.predict_proba(X).shape == (150, 3)


def test_cross_val_score_is_reproducible(iris):
    X, y = iris
    model = MLPClassifier((8,), max_iter=30, random_state=0, batch_size=32)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    first = cross_val_score(model, X, y, cv=cv)
    second = cross_val_score(model, X, y, cv=cv)
    assert first.shape == (3,)
    np.testing.assert_array_equal(first, second)


def test_grid_search_with_two_processes_matches_one(iris):
    X, y = iris[0][::3], iris[1][::3]  # 50 samples
    grid = {"hidden_layer_sizes": [(4,), (8,)], "activation": ["relu", ["tanh"]]}
    model = MLPClassifier(max_iter=15, random_state=0)
    serial = GridSearchCV(model, grid, cv=2, n_jobs=1).fit(X, y)
    parallel = GridSearchCV(model, grid, cv=2, n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    assert parallel.best_params_ == serial.best_params_
    assert parallel.best_estimator_.predict(X).shape == (50,)


def test_clone_copies_parameters_not_fit(iris):
    X, y = iris
    stop = EarlyStopping("loss", patience=1)
    model = MLPClassifier((5,), max_iter=5, random_state=0, callbacks=[stop]).fit(X, y)
    copy = clone(model)
    assert copy.get_params()["hidden_layer_sizes"] == (5,)
    assert copy.callbacks[0] is not stop
    assert not hasattr(copy, "classes_")
    with pytest.raises(AttributeError):
        copy.coefs_  # noqa: B018


def test_the_estimator_repr_shows_its_callbacks_settings():
    model = MLPClassifier(callbacks=[EarlyStopping("val_accuracy", patience=3)])
    shown = " ".join(repr(model).split())  # scikit-learn wraps long lines
    assert shown == ("MLPClassifier(callbacks=[EarlyStopping(monitor='val_accuracy', patience=3, "
                     "min_delta=0.0, restore_best=True, mode='auto')])")


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_pickle_round_trip_predicts_and_keeps_training_identically(iris, solver):
    X, y = iris
    model = MLPClassifier((6,), solver=solver, max_iter=5, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    # the weights are views of the network's flat buffer again, as in the original
    for W in restored.coefs_:
        assert np.shares_memory(W, restored.network_.parameters)
    # training continues from the same weights, optimizer state and shuffling state
    for _ in range(3):
        model.partial_fit(X, y)
        restored.partial_fit(X, y)
    np.testing.assert_array_equal(restored.predict_proba(X), model.predict_proba(X))
    assert restored.loss_curve_ == model.loss_curve_


def test_regressor_signature_is_the_classifiers_plus_loss():
    """scikit-learn's get_params reads ``__init__``'s signature, so MLPRegressor spells out
    every parameter again (after ``loss``); they must not drift from MLPClassifier's."""

    def spelled(parameters):
        return [(p.name, p.kind, p.default) for p in parameters.values()]

    regressor = dict(inspect.signature(MLPRegressor.__init__).parameters)
    assert regressor.pop("loss").default == "squared_error"
    classifier = inspect.signature(MLPClassifier.__init__).parameters
    assert spelled(regressor) == spelled(classifier)
    assert set(MLPRegressor().get_params()) == set(MLPClassifier().get_params()) | {"loss"}


@pytest.mark.parametrize("estimator, theirs", [(MLPClassifier, SkClassifier),
                                              (MLPRegressor, SkRegressor)])
def test_scikit_learns_parameters_are_accepted(iris, estimator, theirs):
    params = theirs().get_params()
    model = estimator(**{**params, "max_iter": 2})  # scikit-learn's defaults, max_fun included
    assert model.get_params()["max_fun"] == params["max_fun"] == 15000
    assert clone(model.set_params(max_fun=10)).max_fun == 10
    model.fit(*iris)


def test_pickle_regressor_and_perceptron(iris):
    X, y = iris
    regressor = MLPRegressor(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    regressor.fit(X[:, :3], X[:, 3])
    perceptron = Perceptron(random_state=0).fit(X, y)
    for model, data in ((regressor, X[:, :3]), (perceptron, X)):
        restored = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(restored.predict(data), model.predict(data))


def test_fitted_estimator_does_not_keep_the_training_data(iris):
    X, y = np.repeat(iris[0], 100, axis=0), np.repeat(iris[1], 100)  # 15000 samples
    model = MLPClassifier((4,), early_stopping=True, max_iter=2, random_state=0).fit(X, y)
    assert len(pickle.dumps(model)) < X.nbytes / 4
