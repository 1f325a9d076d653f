"""MLPClassifier and MLPRegressor: training modes, outputs, our additions, errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.datasets import load_iris, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

from chainrule.layers.activations import ReLU, Sigmoid, Softmax, Tanh
from chainrule.layers.dense import Dense
from chainrule.layers.dropout import Dropout
from chainrule.optim import SGD
from chainrule.sklearn import MLPClassifier, MLPRegressor
from chainrule.training.callbacks import EarlyStopping, LambdaCallback


@pytest.fixture
def iris():
    X, y = load_iris(return_X_y=True)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def _quietly(model, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(*args, **kwargs)


def _sklearn_stop_epoch(values, tol, patience, higher_is_better):
    """The epoch at which scikit-learn's rule stops, or None (written from its docs)."""
    best, count = (-np.inf if higher_is_better else np.inf), 0
    for epoch, value in enumerate(values, start=1):
        if higher_is_better:
            count = count + 1 if value < best + tol else 0
            best = max(best, value)
        else:
            count = count + 1 if value > best - tol else 0
            best = min(best, value)
        if count > patience:
            return epoch
    return None


# --------------------------------------------------------------------------- training modes
def test_partial_fit_continues_the_optimizer_like_fit(iris):
    X, y = iris
    settings = {"hidden_layer_sizes": (8,), "batch_size": 150, "shuffle": False,
                "random_state": 3, "tol": 0.0, "max_iter": 6}
    fitted = _quietly(MLPClassifier(**settings), X, y)
    stepped = MLPClassifier(**settings)
    for _ in range(6):
        stepped.partial_fit(X, y, classes=[0, 1, 2])
    # Adam's moments carry over between calls: six calls are six epochs of one run
    np.testing.assert_allclose(stepped.coefs_[0], fitted.coefs_[0], rtol=1e-12)
    assert stepped.loss_curve_ == pytest.approx(fitted.loss_curve_, rel=1e-12)
    assert stepped.n_iter_ == 1 and stepped.t_ == 6 * 150


def test_partial_fit_needs_classes_first_and_accepts_batches_missing_some(iris):
    X, y = iris
    model = MLPClassifier((4,), random_state=0)
    with pytest.raises(ValueError, match="classes"):
        model.partial_fit(X, y)
    model.partial_fit(X[y == 0], y[y == 0], classes=np.array([0, 1, 2]))
    model.partial_fit(X[y == 2], y[y == 2])
    assert model.predict_proba(X).shape == (150, 3)
    with pytest.raises(ValueError, match=r"\[7\]"):
        model.partial_fit(X[:3], [0, 1, 7])
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


def test_warm_start_continues_from_the_fitted_weights(iris):
    X, y = iris
    model = _quietly(MLPClassifier((8,), max_iter=5, random_state=0, warm_start=True), X, y)
    first = list(model.loss_curve_)
    weights = model.coefs_[0].copy()
    _quietly(model, X, y)
    assert model.n_iter_ == 5 and len(model.loss_curve_) == 10
    assert model.loss_curve_[5] < first[0]  # no restart from random weights
    assert not np.array_equal(model.coefs_[0], weights)
    with pytest.raises(ValueError, match="same classes"):
        model.fit(X[y < 2], y[y < 2])


def test_refit_without_warm_start_starts_over(iris):
    X, y = iris
    model = _quietly(MLPClassifier((8,), max_iter=5, random_state=0), X, y)
    curve = list(model.loss_curve_)
    _quietly(model, X, y)
    assert model.loss_curve_ == curve


def test_convergence_warning_only_when_max_iter_is_reached(iris):
    X, y = iris
    with pytest.warns(ConvergenceWarning, match="Maximum iterations"):
        MLPClassifier((4,), max_iter=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = MLPClassifier((4,), max_iter=500, tol=0.05, random_state=0).fit(X, y)
    assert model.n_iter_ == _sklearn_stop_epoch(model.loss_curve_, 0.05, 10, False) < 500
    assert model.best_loss_ == min(model.loss_curve_)


def test_early_stopping_scores_keeps_the_best_epoch_and_records_validation_loss(iris):
    X, y = iris
    snapshots = []
    recorder = LambdaCallback(
        on_epoch_end=lambda trainer, epoch, logs: snapshots.append(trainer.net.parameters.copy())
    )
    model = MLPClassifier((6,), early_stopping=True, validation_fraction=0.2, tol=0.0,
                          n_iter_no_change=5, max_iter=300, learning_rate_init=0.01,
                          random_state=0, callbacks=[recorder])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.fit(X, y)
    scores = model.validation_scores_
    assert len(scores) == len(model.validation_loss_curve_) == len(model.loss_curve_)
    assert model.n_iter_ == _sklearn_stop_epoch(scores, 0.0, 5, True)
    assert model.best_validation_score_ == max(scores) and model.best_loss_ is None
    best = int(np.argmax(scores))
    np.testing.assert_array_equal(model.network_.parameters, snapshots[best])
    assert all(np.isfinite(model.validation_loss_curve_))
    assert model.validation_loss_curve_ != model.loss_curve_


def test_without_early_stopping_there_is_no_validation_curve(iris):
    model = _quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=3), iris[0], iris[1])
    assert model.validation_scores_ is None and model.validation_loss_curve_ is None


# --------------------------------------------------------------------------- our additions
def test_callbacks_run_on_copies_and_can_stop_training(iris):
    X, y = iris
    epochs = []
    counter = LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: epochs.append(epoch))
    stopper = EarlyStopping("loss", patience=0, min_delta=10.0, restore_best=False)
    model = MLPClassifier((4,), max_iter=50, random_state=0, callbacks=[counter, stopper])
    model.fit(X, y)
    assert epochs == [1, 2] and model.n_iter_ == 2
    assert stopper.stopped_epoch == 0  # the parameter itself is untouched ...
    assert model.callbacks_[1].stopped_epoch == 2  # ... the copy that ran is kept
    with pytest.raises(TypeError, match=r"callbacks\[0\]"):
        MLPClassifier(callbacks=[print]).fit(X, y)


def test_per_layer_activations_dropout_and_penalties_build_the_network(iris):
    X, y = iris
    model = MLPClassifier((5, 4), activation=["relu", "tanh"], dropout=0.25, l1=0.01,
                          alpha=0.3, batch_size=50, max_iter=2, random_state=0)
    _quietly(model, X, y)
    kinds = [type(layer) for layer in model.network_.layers]
    assert kinds == [Dense, ReLU, Dropout, Dense, Tanh, Dropout, Dense, Softmax]
    for layer in model.network_.layers:
        if isinstance(layer, Dense):  # alpha / batch size, in chainrule's convention
            assert layer.l2 == pytest.approx(0.3 / 50) and layer.l1 == 0.01
    assert [W.shape for W in model.coefs_] == [(4, 5), (5, 4), (4, 3)]
    assert [b.shape for b in model.intercepts_] == [(5,), (4,), (3,)]
    # dropout is off when predicting: the same input gives the same output
    np.testing.assert_array_equal(model.predict_proba(X), model.predict_proba(X))


def test_optimizer_object_is_copied_and_equals_the_matching_solver(iris):
    X, y = iris
    common = {"hidden_layer_sizes": (6,), "batch_size": 30, "max_iter": 4, "random_state": 1,
              "tol": 0.0}
    optimizer = SGD(0.05)
    given = _quietly(MLPClassifier(optimizer=optimizer, **common), X, y)
    named = _quietly(MLPClassifier(solver="sgd", momentum=0.0, learning_rate_init=0.05,
                                   **common), X, y)
    assert not optimizer.bound and optimizer.n_steps == 0
    np.testing.assert_array_equal(given.coefs_[0], named.coefs_[0])
    as_dict = _quietly(MLPClassifier(optimizer={"name": "sgd", "lr": 0.05}, **common), X, y)
    np.testing.assert_array_equal(as_dict.coefs_[0], named.coefs_[0])


@pytest.mark.parametrize("solver", ["adamw", "rmsprop", "adagrad"])
def test_chainrule_solvers_train(iris, solver):
    X, y = iris
    model = _quietly(MLPClassifier((8,), solver=solver, learning_rate_init=0.01,
                                   max_iter=30, random_state=0), X, y)
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_dtype_follows_x_unless_given(iris):
    X, y = iris
    model = _quietly(MLPClassifier((4,), max_iter=2, random_state=0), X.astype(np.float32), y)
    assert model.coefs_[0].dtype == np.float32
    assert model.predict_proba(X).dtype == np.float32
    forced = _quietly(MLPClassifier((4,), max_iter=2, dtype="float64", random_state=0),
                      X.astype(np.float32), y)
    assert forced.coefs_[0].dtype == np.float64
    ints = _quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2), (X * 10).astype(int), y)
    assert ints.coefs_[0].dtype == np.float64


def test_verbose_prints_one_line_per_epoch(iris, capsys):
    _quietly(MLPClassifier((4,), max_iter=3, verbose=True, random_state=0), *iris)
    lines = [line for line in capsys.readouterr().out.splitlines() if "loss" in line]
    assert len(lines) >= 3


# --------------------------------------------------------------------------- outputs
def test_binary_labels_probabilities_and_log_probabilities(iris):
    X, y = iris
    labels = np.where(y == 0, "setosa", "other")
    model = _quietly(MLPClassifier((4,), learning_rate_init=0.01, max_iter=100,
                                   random_state=0), X, labels)
    assert list(model.classes_) == ["other", "setosa"] and model.n_outputs_ == 1
    proba = model.predict_proba(X)
    assert proba.shape == (150, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(proba, axis=1)])
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba)
    assert model.score(X, labels) > 0.95


@pytest.mark.parametrize("n_classes", [2, 3])
def test_log_probabilities_stay_finite_where_probabilities_underflow(iris, n_classes):
    X, y = iris
    keep = y < n_classes
    model = _quietly(MLPClassifier((), max_iter=2, random_state=0), X[keep], y[keep])
    model.coefs_[0][...] *= 1e4  # logit gaps of thousands
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no log(0) warnings
        log_p = model.predict_log_proba(X)
        proba = model.predict_proba(X)
    assert np.isfinite(log_p).all() and log_p.min() < -745  # exp underflows to 0 there
    assert (proba == 0).any()
    np.testing.assert_array_equal(np.argmax(log_p, axis=1), np.searchsorted(
        model.classes_, model.predict(X)))


def test_multilabel_indicator_in_and_out():
    X, Y = make_multilabel_classification(n_samples=80, n_features=4, n_classes=3, random_state=0)
    model = _quietly(MLPClassifier((16,), max_iter=200, learning_rate_init=0.01,
                                   random_state=0), X, Y)
    predicted = model.predict(X)
    assert predicted.shape == Y.shape and predicted.dtype == Y.dtype
    proba = model.predict_proba(X)
    assert proba.shape == Y.shape
    np.testing.assert_array_equal(predicted, (proba > 0.5).astype(int))
    assert list(model.classes_) == [0, 1, 2] and model.out_activation_ == "logistic"
    assert isinstance(model.network_.layers[-1], Sigmoid)
    assert np.mean(predicted == Y) > 0.8


def test_multi_output_regression(rng):
    X = rng.normal(size=(100, 3))
    Y = np.column_stack([X[:, 0] - X[:, 1], X[:, 2] ** 2])
    model = _quietly(MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
                                  max_iter=300, random_state=0), X, Y)
    assert model.predict(X).shape == (100, 2) and model.n_outputs_ == 2
    assert model.score(X, Y) > 0.8
    single = _quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2), X, Y[:, 0])
    assert single.predict(X).shape == (100,)


def test_robust_regression_losses_ignore_outliers_that_squared_error_follows(rng):
    X = rng.normal(size=(120, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=120)
    y[:5] += 50.0  # outliers
    clean = np.arange(5, 120)
    scores = {}
    for loss in ("squared_error", "absolute_error", "huber"):
        model = _quietly(MLPRegressor(loss, hidden_layer_sizes=(8,), learning_rate_init=0.01,
                                      max_iter=200, random_state=0), X, y)
        assert model.loss_curve_[-1] < model.loss_curve_[0]
        scores[loss] = model.score(X[clean], y[clean])
    assert scores["absolute_error"] > 0.9 and scores["huber"] > 0.9
    assert scores["squared_error"] < 0.5


def test_a_loss_instance_is_used_and_left_untouched(rng):
    from chainrule.losses import Huber

    X = rng.normal(size=(50, 2))
    loss = Huber(delta=0.5)
    _quietly(MLPRegressor(loss, hidden_layer_sizes=(4,), max_iter=3), X, X[:, 0])
    assert getattr(loss, "_state", None) is None


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"solver": "lbfgs"}, ValueError, "lbfgs"),
        ({"solver": "newton"}, ValueError, "solver"),
        ({"hidden_layer_sizes": (4, 0)}, ValueError, r"hidden_layer_sizes\[1\]"),
        ({"hidden_layer_sizes": "4"}, TypeError, "hidden_layer_sizes"),
        ({"activation": ["relu"]}, ValueError, "2 hidden layers"),
        ({"activation": "softmax"}, ValueError, "hidden activation"),
        ({"activation": "swish"}, ValueError, "relu"),
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"dropout": 1.0}, ValueError, "dropout"),
        ({"learning_rate": "optimal"}, ValueError, "learning_rate"),
        ({"early_stopping": True, "validation_fraction": 1.0}, ValueError, "validation_fraction"),
        ({"shuffle": "yes"}, TypeError, "shuffle"),
        ({"optimizer": 3}, TypeError, "optimizer"),
        ({"dtype": "int32"}, TypeError, "dtype"),
        ({"random_state": "seed"}, TypeError, "random_state"),
        ({"callbacks": EarlyStopping("loss")}, TypeError, "callbacks"),
    ],
)
def test_bad_parameters_name_themselves(iris, params, error, match):
    model = MLPClassifier(**{"hidden_layer_sizes": (4, 3), "max_iter": 2, **params})
    with pytest.raises(error, match=match):
        model.fit(*iris)


def test_bad_targets_and_weights(iris):
    X, y = iris
    with pytest.raises(ValueError, match="one class"):
        MLPClassifier().fit(X, np.zeros(150))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X, X[:, 0])
    with pytest.raises(ValueError, match="one class"):
        MLPClassifier().fit(X, y, sample_weight=(y == 1).astype(float))
    with pytest.raises(ValueError, match="zero"):
        MLPClassifier().fit(X, y, sample_weight=np.zeros(150))
    with pytest.raises(ValueError, match="non-negative"):
        MLPClassifier().fit(X, y, sample_weight=-np.ones(150))
    with pytest.raises(ValueError, match="loss"):
        MLPRegressor("poisson").fit(X, y)
    with pytest.raises(TypeError, match="classification loss"):
        from chainrule.losses import CrossEntropy

        MLPRegressor(CrossEntropy()).fit(X, y)


def test_warm_start_switching_between_single_and_multilabel_says_what_it_got(iris):
    X, y = iris
    Y = np.column_stack([y == 0, y == 1, y == 2]).astype(int)
    model = _quietly(MLPClassifier((4,), max_iter=2, warm_start=True, random_state=0), X, y)
    with pytest.raises(ValueError, match=r"single-label .* shape \(150, 3\) \(multilabel-indicator\)"):
        model.fit(X, Y)
    model = _quietly(MLPClassifier((4,), max_iter=2, warm_start=True, random_state=0), X, Y)
    with pytest.raises(ValueError, match=r"multilabel .* shape \(150,\) \(multiclass\)"):
        model.fit(X, y)


def test_unfitted_models_say_so(iris):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MLPClassifier().predict(iris[0])
    assert not hasattr(MLPRegressor(), "coefs_")


def test_weighted_r2_at_any_magnitude():
    # the estimators' score: exact power-of-two scaling, so tiny (subnormal) targets and targets
    # near the largest float give the R² of their unscaled copies
    from chainrule.sklearn._r2 import r2_score

    y, y_hat = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    w = np.array([1.0, 2.0, 1.0])
    for scale in (2.0**-1030, 2.0**-1000, 1.0, 2.0**1000):  # subnormal to huge, exactly
        assert r2_score(y * scale, y_hat * scale, None) == -3.0
        assert r2_score(y * scale, y_hat * scale, w) == r2_score(y, y_hat, w)
