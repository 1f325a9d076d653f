"""Robustness of the scikit-learn estimators in ``chainrule.sklearn``.

Hyperparameters are checked in ``fit`` (scikit-learn's convention), every one of them whether
the solver uses it or not, and a bad one must give a ``ValueError``/``TypeError`` naming it.
Data errors come from scikit-learn's ``validate_data``, whose messages are scikit-learn's own
(``"Input X contains NaN"``, ``"could not convert string to float"``): for data only the
exception type, a non-empty message and the absence of NumPy warnings are required; the
estimators' own data errors (values too large for the dtype) name ``X`` or ``y``.
scikit-learn's own warnings (``ConvergenceWarning``, ``DataConversionWarning``) are part of its
API and are not errors here.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chainrule.errors import TrainingDivergedError

sklearn_exceptions = pytest.importorskip("sklearn.exceptions")
estimators = pytest.importorskip("chainrule.sklearn",
                                 reason="chainrule.sklearn does not import (being written)")

ROBUST = settings.get_profile("chainrule-robustness")
SKLEARN_WARNINGS = (sklearn_exceptions.ConvergenceWarning,
                    sklearn_exceptions.DataConversionWarning)
SMALL = {"MLPClassifier": {"hidden_layer_sizes": (3,), "max_iter": 3, "random_state": 0},
         "MLPRegressor": {"hidden_layer_sizes": (3,), "max_iter": 3, "random_state": 0},
         "Perceptron": {"max_iter": 5, "random_state": 0}}
X6 = np.array([[0.0, 0.1], [1.0, 0.9], [0.2, 0.0], [0.9, 1.0], [0.1, 0.2], [1.0, 1.1]])
Y6 = {"MLPClassifier": np.array(["a", "b"] * 3), "MLPRegressor": X6.sum(axis=1),
      "Perceptron": np.array([0, 1] * 3)}

#: Numeric hyperparameters and their domains (the others are names, flags or objects).
NUMERIC = {
    "alpha": {"low": 0}, "learning_rate_init": {"low": 0, "low_open": True},
    "power_t": {"low": 0}, "tol": {"low": 0}, "momentum": {"low": 0, "high": 1},
    "beta_1": {"low": 0, "high": 1, "high_open": True},
    "beta_2": {"low": 0, "high": 1, "high_open": True},
    "epsilon": {"low": 0, "low_open": True}, "n_iter_no_change": {"low": 1, "integer": True},
    "dropout": {"low": 0, "high": 1, "high_open": True}, "l1": {"low": 0},
    "max_iter": {"low": 1, "integer": True}, "eta0": {"low": 0, "low_open": True},
}


def _make(name: str, **params):
    return getattr(estimators, name)(**{**SMALL[name], **params})


def _check_fitted(name: str, model, X) -> None:
    """A fitted estimator predicts one value per row, labels among classes_."""
    predictions = model.predict(X)
    assert predictions.shape[0] == X.shape[0]
    if name != "MLPRegressor" and predictions.ndim == 2:  # multilabel: 0/1 columns
        assert np.isin(predictions, (0, 1)).all()
    elif name != "MLPRegressor":
        assert set(predictions.tolist()) <= set(model.classes_.tolist())
    else:
        assert np.isfinite(predictions).all()
    if hasattr(model, "predict_proba"):
        P = model.predict_proba(X)
        assert ((P >= 0) & (P <= 1)).all()
        if predictions.ndim == 1:  # one class per sample (multilabel columns are independent)
            np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", sorted(SMALL))
@settings(ROBUST, max_examples=80)
@given(data=st.data())
def test_hyperparameters_are_checked_in_fit(robust, name, data):
    parameter = data.draw(st.sampled_from(sorted(_make(name).get_params())), label="parameter")
    value = data.draw(st.one_of(robust.hostile_scalars(), st.floats(0, 1), st.integers(0, 3)),
                      label=parameter)
    if parameter == "max_iter" and robust.in_range(value, low=50, integer=True):
        value = 50  # valid, but not worth training for
    if parameter == "hidden_layer_sizes":
        assume(not robust.in_range(value, low=64, high=2**40, integer=True))  # a real allocation
    model = _make(name, **{parameter: value})
    # early stopping on 6 samples: the validation split is too small (scikit-learn's message)
    names = {"early_stopping": (parameter, "validation_fraction", "test_size"),
             "learning_rate_init": (parameter, "learning rate"),  # a divergence's advice
             "eta0": (parameter, "learning rate")}.get(parameter, (parameter,))
    outcome = robust.call(
        model.fit, X6, Y6[name], names=names, ignore=SKLEARN_WARNINGS,
        allow=(TrainingDivergedError,) if parameter in ("learning_rate_init", "eta0") else (),
    )
    domain = NUMERIC.get(parameter)
    valid = domain is None or robust.in_range(value, **domain)
    if not outcome.ok:
        # a penalty within its domain may still be too large for float64 arithmetic: refused
        # then (naming it, as robust.call checked) because its term of the loss overflows
        overflowing_penalty = parameter in ("alpha", "l1") and "overflows" in str(outcome.error)
        assert (domain is None or not valid or overflowing_penalty
                or isinstance(outcome.error, TrainingDivergedError)), (
            f"{name}({parameter}={value!r}) was rejected: {outcome.error!r}")
        return
    assert valid, f"{name}({parameter}={value!r}) was accepted"
    _check_fitted(name, model, X6)


def _numbers(robust, X, ndim=(2,)) -> np.ndarray | None:
    """``X`` as finite float64 data the way scikit-learn reads it (object arrays of numbers
    included), or None when it is not."""
    array = robust.as_array(X)
    if array is None or array.dtype.kind not in "biufO" or array.ndim not in ndim or not array.size:
        return None
    try:
        with np.errstate(all="ignore"):
            converted = array.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return converted if np.isfinite(converted).all() else None


def _hostile_data(robust, n):
    return st.one_of(robust.hostile_inputs(),
                     robust.hostile_arrays(shape=st.sampled_from([(n,), (n, 2), (n, 1)])),
                     robust.hostile_arrays(shape=st.sampled_from([(n,), (n, 2)]),
                                           dtypes=robust.NUMERIC_DTYPES))


@pytest.mark.parametrize("name", sorted(SMALL))
@settings(ROBUST, max_examples=60)
@given(data=st.data())
def test_fit_with_hostile_data(robust, name, data):
    which = data.draw(st.sampled_from(["X", "y", "sample_weight"] if name != "Perceptron"
                                      else ["X", "y"]), label="hostile argument")
    arguments = {"X": X6, "y": Y6[name]}
    arguments[which] = data.draw(_hostile_data(robust, len(X6)), label=which)
    X = arguments["X"]
    outcome = robust.call(
        _make(name).fit, *arguments.values() if which != "sample_weight" else (X6, Y6[name]),
        **({"sample_weight": arguments["sample_weight"]} if which == "sample_weight" else {}),
        ignore=SKLEARN_WARNINGS,
    )
    if outcome.ok:
        fitted_X = _numbers(robust, X)
        assert fitted_X is not None, f"fit accepted X={X!r}"
        if robust.max_abs(fitted_X) <= robust.MODERATE:
            _check_fitted(name, outcome.value, fitted_X)


@pytest.fixture(scope="module")
def fitted():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn_exceptions.ConvergenceWarning)
        return {name: _make(name).fit(X6, Y6[name]) for name in SMALL}


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
@settings(ROBUST, max_examples=40)
@given(data=st.data())
def test_inference_with_hostile_x(robust, fitted, name, method, data):
    model = fitted[name]
    if not hasattr(model, method):
        return
    X = data.draw(st.one_of(_hostile_data(robust, 3),
                            robust.hostile_arrays(shape=st.tuples(st.integers(0, 3), st.just(2))),
                            robust.moderate_arrays((3, 2))),
                  label="X")
    args = (X, Y6[name][:3]) if method == "score" else (X,)
    outcome = robust.call(getattr(model, method), *args, ignore=SKLEARN_WARNINGS)
    if outcome.ok and method != "score":
        numbers = _numbers(robust, X)
        assert numbers is not None and numbers.shape[1] == 2, f"{method} accepted X={X!r}"
        assert len(outcome.value) == numbers.shape[0]
    if outcome.ok and method == "score":
        assert math.isfinite(outcome.value)


# ------------------------------------------------------------- fixed bugs (regression tests)


def test_bug_b01_sklearn_huge_int(robust):
    robust.rejects(_make("MLPClassifier", learning_rate_init=10**400).fit, X6,
                   Y6["MLPClassifier"], names=("learning_rate_init",), ignore=SKLEARN_WARNINGS)


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
@pytest.mark.parametrize(("parameter", "value"), [
    ("momentum", "x"), ("momentum", 5), ("momentum", -0.1), ("validation_fraction", 5),
    ("validation_fraction", 1.0), ("verbose", "x"), ("verbose", -1), ("beta_1", 1.0),
    ("beta_2", "x"), ("epsilon", 0.0), ("nesterovs_momentum", "yes"), ("solver", None),
    ("learning_rate", np.array(["constant"])), ("batch_size", np.array([5]))])
def test_b37_every_parameter_is_checked_whatever_the_solver(robust, name, parameter, value):
    """B37 (closed): parameters the solver does not use (momentum and nesterovs_momentum with
    "adam", beta_1/beta_2/epsilon with "sgd", validation_fraction without early stopping) are
    checked too, in scikit-learn's domains, before the data."""
    solver = "sgd" if parameter in ("beta_1", "beta_2", "epsilon") else "adam"
    model = _make(name, **{"solver": solver, parameter: value})
    robust.rejects(model.fit, X6, Y6[name], names=(parameter,), error=(ValueError, TypeError),
                   ignore=SKLEARN_WARNINGS)
    assert not hasattr(model, "n_iter_")  # refused before training


@pytest.mark.parametrize(("parameter", "value"), [
    ("momentum", 1.0), ("momentum", 0.0), ("validation_fraction", 0.0), ("verbose", 0),
    ("verbose", np.True_)])
def test_b37_scikit_learns_domains_are_accepted(robust, parameter, value, capsys):
    """The boundaries scikit-learn accepts are accepted (momentum=1 with the unused solver,
    validation_fraction=0 without early stopping, an int verbose)."""
    model = robust.call(_make("MLPClassifier", **{parameter: value}).fit, X6,
                        Y6["MLPClassifier"], ignore=SKLEARN_WARNINGS).value
    _check_fitted("MLPClassifier", model, X6)


def test_b37_validation_fraction_zero_with_early_stopping_names_it(robust):
    model = _make("MLPRegressor", early_stopping=True, validation_fraction=0.0)
    robust.rejects(model.fit, X6, Y6["MLPRegressor"], names=("validation_fraction",),
                   ignore=SKLEARN_WARNINGS)


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor"])
def test_b25_float32_x_beyond_training_range_names_x(robust, name):
    """B25 (closed): float32 X so large that the loss is already infinite before any step is
    a ValueError naming X (not a divergence blaming the learning rate, nor a warning).

    The classifier has three classes: a softmax cross-entropy per sample reaches the spread of
    the logits, past float32's range, while a binary one (about |z|) stays finite, and so
    does the mean of such values."""
    X = (X6 * 3e38).astype(np.float32)
    y = np.array(["a", "b", "c"] * 2) if name == "MLPClassifier" else Y6[name]
    error = robust.rejects(_make(name).fit, X, y, names=("X",), ignore=SKLEARN_WARNINGS)
    assert "before any optimizer step" in str(error)


def test_b25_regressor_score_below_the_float_range_names_x_and_y(robust, fitted):
    """B25 (closed): the R² of predictions ~1e300 for targets ~1 is about -1e600: a
    ValueError instead of an overflow warning and -inf."""
    robust.rejects(fitted["MLPRegressor"].score, X6[:3] * 1e300, Y6["MLPRegressor"][:3],
                   names=("X", "y"), ignore=SKLEARN_WARNINGS)


def test_b25_regressor_score_is_scikit_learns_r2_where_that_is_finite(robust, fitted):
    from sklearn.metrics import r2_score

    model = fitted["MLPRegressor"]
    weights = np.array([1.0, 0.5, 2.0, 0.0, 1.0, 3.0])
    for w in (None, weights):
        expected = r2_score(Y6["MLPRegressor"], model.predict(X6), sample_weight=w)
        assert model.score(X6, Y6["MLPRegressor"], w) == pytest.approx(expected, rel=1e-12)


def test_b25_r2_is_exact_where_the_squares_overflow(robust):
    """R² is scale-free: targets and predictions ~1e200 give the R² of the same values ~1,
    where scikit-learn's r2_score overflows (and returns nan)."""
    from chainrule.training._r2 import weighted_r2 as r2_score

    y, predicted = np.array([1.0, -1.0, 0.3]), np.array([0.9, -1.1, 0.3])
    assert r2_score(y * 1e200, predicted * 1e200, None) == pytest.approx(
        r2_score(y, predicted, None), rel=1e-12)
    assert r2_score(np.full(3, 2.0), np.full(3, 2.0), None) == 1.0  # scikit-learn's convention
    assert r2_score(np.full(3, 2.0), predicted, None) == 0.0


@pytest.mark.parametrize("method", ["predict", "predict_proba", "score"])
@pytest.mark.parametrize("name", sorted(SMALL))
def test_b25_b16_predictions_that_overflow_name_x(robust, fitted, name, method):
    """B16/B25 (closed): inputs whose outputs (scores, logits) overflow the dtype are a
    ValueError naming X, never inf/nan predictions."""
    model = fitted[name]
    if not hasattr(model, method):
        return
    X = np.full((3, 2), 1.7e308)  # every feature huge
    for X_huge in (X, -X):
        args = (X_huge, Y6[name][:3]) if method == "score" else (X_huge,)
        outcome = robust.call(getattr(model, method), *args, names=("X",),
                              ignore=SKLEARN_WARNINGS)
        numeric = method == "predict_proba" or (method == "predict" and name == "MLPRegressor")
        if outcome.ok and numeric:
            assert np.isfinite(outcome.value).all()


def test_b16_sklearn_perceptron_overflow_names_x(robust):
    """B16 (closed): the scikit-learn Perceptron on X ~1e300 (scores ~1e600)."""
    error = robust.rejects(_make("Perceptron").fit, X6 * 1e300, Y6["Perceptron"], names=("X",),
                           ignore=SKLEARN_WARNINGS)
    assert "overflow" in str(error)


def test_b16_sklearn_perceptron_scores_as_in_training(robust):
    """decision_function computes the scores exactly as the convergence check of fit (same
    weights' layout), so a converged model classifies its training set."""
    a = 1.655379893305481
    X = np.array([[a, a], [a, 0.0], [0.0, a]])
    model = estimators.Perceptron(max_iter=20, random_state=0).fit(X, [0, 3, 0])
    assert model.converged_
    np.testing.assert_array_equal(model.predict(X), [0, 3, 0])


def test_b24_regressor_huge_targets_name_y(robust):
    """The estimator side of B24: targets so large that the loss is infinite at the initial
    weights are a ValueError naming y, not a TrainingDivergedError blaming the rate."""
    error = robust.rejects(_make("MLPRegressor").fit, X6, Y6["MLPRegressor"] * 1e300,
                           names=("y",), ignore=SKLEARN_WARNINGS)
    assert "no learning rate" in str(error)


@pytest.mark.parametrize(("parameter", "value"), [("alpha", 1.7e308), ("l1", 1e308)])
def test_a_penalty_that_overflows_names_itself(robust, parameter, value):
    """A penalty in its domain but so large that its term of the loss is infinite at the
    initial weights is a ValueError naming it (not X, not a divergence). (alpha: scikit-learn's
    ``½ α ‖W‖²`` divided by the batch's 2 samples, with 100 hidden units: ``‖W‖² > 2``.)"""
    model = _make("MLPClassifier", hidden_layer_sizes=(100,), **{parameter: value})
    error = robust.rejects(model.fit, X6[:2], Y6["MLPClassifier"][:2], names=(parameter,),
                           ignore=SKLEARN_WARNINGS)
    assert "overflows" in str(error)
    assert robust.violation(error, ("X", "y")) is not None  # the data are not blamed


def test_b24_partial_fit_with_huge_targets_names_y(robust):
    """The rule is per call: a partial_fit whose data make the loss infinite before its first
    step names y, although earlier calls did train."""
    model = _make("MLPRegressor")
    assert robust.call(model.partial_fit, X6, Y6["MLPRegressor"], ignore=SKLEARN_WARNINGS).ok
    robust.rejects(model.partial_fit, X6, Y6["MLPRegressor"] * 1e300, names=("y",),
                   ignore=SKLEARN_WARNINGS)


def test_a_divergence_after_steps_still_blames_the_learning_rate(robust):
    """A loss that becomes infinite after training steps is a TrainingDivergedError."""
    model = _make("MLPRegressor", solver="sgd", learning_rate_init=1e100, max_iter=20)
    outcome = robust.run(model.fit, X6, Y6["MLPRegressor"], ignore=SKLEARN_WARNINGS)
    assert isinstance(outcome.error, TrainingDivergedError), repr(outcome.error)
    assert "learning rate" in str(outcome.error)


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("method", ["fit", "predict", "score"])
def test_b38_python_int_beyond_float_names_x(robust, fitted, name, method):
    """B38 (closed): a Python int beyond the float range in X is a ValueError naming X."""
    huge = [[10**400, 1]] * 6
    call = {"fit": (_make(name).fit, huge, Y6[name]), "predict": (fitted[name].predict, huge),
            "score": (fitted[name].score, huge, Y6[name])}[method]
    robust.rejects(*call, names=("X",), ignore=SKLEARN_WARNINGS)
    robust.rejects(fitted[name].predict, 10**400, names=("X",), ignore=SKLEARN_WARNINGS)


def test_b38_python_int_beyond_float_in_y_names_y(robust, fitted):
    y = [10**400] * 6
    robust.rejects(_make("MLPRegressor").fit, X6, y, names=("y",), ignore=SKLEARN_WARNINGS)
    robust.rejects(fitted["MLPRegressor"].score, X6, y, names=("y",), ignore=SKLEARN_WARNINGS)


@pytest.mark.parametrize("name", sorted(SMALL))
@pytest.mark.parametrize("which", ["X", "y", "y beyond int64"])
def test_b39_sklearn_validation_is_quiet(robust, fitted, name, which):
    """B39 (closed): scikit-learn's checks ran into NumPy warnings (the sum of inf and -inf,
    the int64 cast of 1e300 labels) before raising their own ValueError: now only the
    ValueError remains."""
    X = np.array([[np.inf, -np.inf]] * 6) if which == "X" else X6
    y = {"X": Y6[name], "y": np.array([np.inf, -np.inf] * 3),
         "y beyond int64": np.full(6, 1e300)}[which]
    if which == "y beyond int64" and name == "MLPRegressor":
        # 1e300 passes scikit-learn's checks as a regression target; the loss at the initial
        # weights is then infinite, which the fit refuses by name (B24)
        robust.rejects(_make(name).fit, X, y, names=("y",), ignore=SKLEARN_WARNINGS)
        return
    robust.rejects(_make(name).fit, X, y, ignore=SKLEARN_WARNINGS)
    if which != "X" and name != "MLPRegressor":
        robust.rejects(fitted[name].score, X6, y, ignore=SKLEARN_WARNINGS)
