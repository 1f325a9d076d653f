"""MLPClassifier and MLPRegressor: training modes, outputs, our additions, errors."""

from __future__ import annotations

import io
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from _quiet_fit import fit_quietly
from sklearn.datasets import make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

from chainrule.errors import MonitorNotLoggedError, TrainingDivergedError
from chainrule.layers.activations import ReLU, Sigmoid, Softmax, Tanh
from chainrule.layers.dense import Dense
from chainrule.layers.dropout import Dropout
from chainrule.optim import SGD
from chainrule.sklearn import MLPClassifier, MLPRegressor
from chainrule.training.callbacks import EarlyStopping, LambdaCallback, ReduceLROnPlateau


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
    fitted = fit_quietly(MLPClassifier(**settings), X, y)
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


def test_partial_fit_names_classes_that_cannot_be_sorted(iris):
    X, y = iris
    message = r"^classes must be class labels of one kind that sort \(numbers, or strings\)"
    with pytest.raises(TypeError, match=message + r", got \[0, None\]: '<' not supported"):
        MLPClassifier((4,)).partial_fit(X, y, classes=[0, None])
    with pytest.raises(ValueError, match=message + r", got \[\[0, 1\], \[2, 3\]\]: Unknown"):
        MLPClassifier((4,)).partial_fit(X, y, classes=[[0, 1], [2, 3]])
    model = MLPClassifier((4,)).partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(TypeError, match=message + r", got \[0, 1, None\]"):  # a later call
        model.partial_fit(X, y, classes=[0, 1, None])


def test_warm_start_continues_from_the_fitted_weights(iris):
    X, y = iris
    model = fit_quietly(MLPClassifier((8,), max_iter=5, random_state=0, warm_start=True), X, y)
    first = list(model.loss_curve_)
    weights = model.coefs_[0].copy()
    fit_quietly(model, X, y)
    assert model.n_iter_ == 5 and len(model.loss_curve_) == 10
    assert model.loss_curve_[5] < first[0]  # no restart from random weights
    assert not np.array_equal(model.coefs_[0], weights)
    with pytest.raises(ValueError, match="same classes"):
        model.fit(X[y < 2], y[y < 2])


def test_refit_without_warm_start_starts_over(iris):
    X, y = iris
    model = fit_quietly(MLPClassifier((8,), max_iter=5, random_state=0), X, y)
    curve = list(model.loss_curve_)
    fit_quietly(model, X, y)
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



@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_early_stopping_runs_one_validation_forward_pass_per_epoch(iris, monkeypatch, estimator):
    """The validation loss (the Trainer's) and the score (the estimator's) come from the same
    pass over the validation set, and the scores are those of the weights at each epoch's end."""
    from chainrule.layers.sequential import Sequential

    X, y = iris
    settings = {"hidden_layer_sizes": (4,), "early_stopping": True, "max_iter": 4, "tol": 0.0,
                "random_state": 0}
    scores = []  # each epoch's, computed on its own by a callback (bookkeeping runs first)

    def rescore(trainer, epoch, logs):
        bookkeeping = trainer.callbacks[0]
        X_val, y_val, _ = bookkeeping.validation  # iris: encoded targets are the labels
        scores.append(bookkeeping.estimator.score(X_val, y_val))

    checked = fit_quietly(estimator(callbacks=[LambdaCallback(on_epoch_end=rescore)],
                                    **settings), X, y)
    assert checked.validation_scores_ == scores and len(scores) == 4

    passes = []
    forward = Sequential._forward

    def counted(self, X, training, *args, **kwargs):
        if not training:  # an evaluation pass (validation: 15 rows, one chunk)
            passes.append(X.shape[0])
        return forward(self, X, training, *args, **kwargs)

    monkeypatch.setattr(Sequential, "_forward", counted)
    model = fit_quietly(estimator(**settings), X, y)
    assert passes == [15] * model.n_iter_ and model.n_iter_ == 4
    assert model.validation_scores_ == scores

def test_without_early_stopping_there_is_no_validation_curve(iris):
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=3), iris[0], iris[1])
    assert model.validation_scores_ is None and model.validation_loss_curve_ is None


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber"])
def test_regression_curves_average_the_loss_over_outputs(loss, rng):
    # scikit-learn reports the squared error averaged over the outputs (the training step
    # follows its sum); both curves do so, for every loss name. The Trainer's own history
    # keeps the sum that is minimised: without penalties, n_outputs times the curves.
    X = rng.normal(size=(60, 3))
    Y = np.column_stack([X[:, 0], X[:, 1] - X[:, 2], X[:, 2] ** 2])
    model = fit_quietly(MLPRegressor(loss, hidden_layer_sizes=(5,), alpha=0.0, batch_size=60,
                                     early_stopping=True, max_iter=4, tol=0.0,
                                     random_state=0), X, Y)
    history = model._trainer.history
    np.testing.assert_allclose(model.loss_curve_, np.divide(history["loss"], 3), rtol=1e-12)
    np.testing.assert_allclose(model.validation_loss_curve_,
                               np.divide(history["val_loss"], 3), rtol=1e-12)
    assert model.loss_ == model.loss_curve_[-1]


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


@pytest.mark.parametrize(
    ("early_stopping", "monitor", "logged"),
    [(False, "val_loss", "['loss', 'lr', 'seconds']"),
     (True, "val_accuracy", "['loss', 'lr', 'seconds', 'val_loss']")],
)
def test_a_callback_monitoring_what_the_estimator_does_not_log_says_how_to_get_it(
    iris, early_stopping, monitor, logged
):
    # the estimator's training logs the loss, and val_loss only with early_stopping=True;
    # validation_data and validation_split are no parameters of it
    model = MLPClassifier((4,), max_iter=3, early_stopping=early_stopping,
                          callbacks=[EarlyStopping(monitor)])
    with pytest.raises(MonitorNotLoggedError) as caught:
        model.fit(*iris)
    message = str(caught.value)
    assert f"EarlyStopping monitors {monitor!r}" in message and logged in message
    assert "early_stopping=True" in message and "no metrics" in message
    assert "validation_split" not in message and "validation_data" not in message
    assert not hasattr(model, "coefs_")


def test_per_layer_activations_dropout_and_penalties_build_the_network(iris):
    X, y = iris
    model = MLPClassifier((5, 4), activation=["relu", "tanh"], dropout=0.25, l1=0.01,
                          alpha=0.3, batch_size=50, max_iter=2, random_state=0)
    fit_quietly(model, X, y)
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
    given = fit_quietly(MLPClassifier(optimizer=optimizer, **common), X, y)
    named = fit_quietly(MLPClassifier(solver="sgd", momentum=0.0, learning_rate_init=0.05,
                                   **common), X, y)
    assert not optimizer.bound and optimizer.n_steps == 0
    np.testing.assert_array_equal(given.coefs_[0], named.coefs_[0])
    as_dict = fit_quietly(MLPClassifier(optimizer={"name": "sgd", "lr": 0.05}, **common), X, y)
    np.testing.assert_array_equal(as_dict.coefs_[0], named.coefs_[0])


@pytest.mark.parametrize("solver", ["adamw", "rmsprop", "adagrad"])
def test_chainrule_solvers_train(iris, solver):
    X, y = iris
    model = fit_quietly(MLPClassifier((8,), solver=solver, learning_rate_init=0.01,
                                   max_iter=30, random_state=0), X, y)
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_dtype_follows_x_unless_given(iris):
    X, y = iris
    model = fit_quietly(MLPClassifier((4,), max_iter=2, random_state=0), X.astype(np.float32), y)
    assert model.coefs_[0].dtype == np.float32
    assert model.predict_proba(X).dtype == np.float32
    forced = fit_quietly(MLPClassifier((4,), max_iter=2, dtype="float64", random_state=0),
                      X.astype(np.float32), y)
    assert forced.coefs_[0].dtype == np.float64
    ints = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2), (X * 10).astype(int), y)
    assert ints.coefs_[0].dtype == np.float64


def test_verbose_prints_one_line_per_epoch(iris, capsys):
    fit_quietly(MLPClassifier((4,), max_iter=3, verbose=True, random_state=0), *iris)
    lines = [line for line in capsys.readouterr().out.splitlines() if "loss" in line]
    assert len(lines) >= 3


# --------------------------------------------------------------------------- outputs
def test_binary_labels_probabilities_and_log_probabilities(iris):
    X, y = iris
    labels = np.where(y == 0, "setosa", "other")
    model = fit_quietly(MLPClassifier((4,), learning_rate_init=0.01, max_iter=100,
                                   random_state=0), X, labels)
    assert list(model.classes_) == ["other", "setosa"] and model.n_outputs_ == 1
    proba = model.predict_proba(X)
    assert proba.shape == (150, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(proba, axis=1)])
    np.testing.assert_allclose(np.exp(model.predict_log_proba(X)), proba)
    assert model.score(X, labels) > 0.95


def test_a_probability_of_exactly_one_half_predicts_the_negative_class_as_scikit_learn(iris):
    """scikit-learn's threshold is p > 0.5, so a tie (logit 0) gives classes_[0], in binary
    and in multilabel outputs alike."""
    from sklearn.neural_network import MLPClassifier as SkClassifier

    X, y = iris
    labels = np.where(y == 0, "setosa", "other")
    Y = np.stack([y == 0, y == 1], axis=1).astype(int)
    for targets in (labels, Y):
        ours = fit_quietly(MLPClassifier((3,), max_iter=2, random_state=0), X, targets)
        theirs = fit_quietly(SkClassifier((3,), max_iter=2, random_state=0), X, targets)
        for model in (ours, theirs):
            for array in (*model.coefs_, *model.intercepts_):
                array[...] = 0.0
        np.testing.assert_array_equal(ours.predict_proba(X[:3]), theirs.predict_proba(X[:3]))
        assert (ours.predict_proba(X[:3]) == 0.5).all()
        np.testing.assert_array_equal(ours.predict(X[:3]), theirs.predict(X[:3]))
    assert list(ours.predict(X[:3]).ravel()) == [0] * 6


def test_predictions_run_the_network_in_chunks_of_eval_chunk_rows(iris, rng, monkeypatch):
    # Bounded memory on large inputs, as Trainer.predict and the CLI: no forward pass of more
    # than EVAL_CHUNK rows, and the predictions of one pass over all of X
    from chainrule.layers import inference
    from chainrule.layers.sequential import Sequential

    X, y = iris
    Z = rng.normal(size=(60, 3))
    models = [
        (fit_quietly(MLPClassifier((8,), max_iter=5, random_state=0), X, y), X,
         ("predict", "predict_proba", "predict_log_proba")),
        (fit_quietly(MLPRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0), Z,
                     Z.sum(axis=1)), Z, ("predict",)),
    ]
    forward = Sequential._forward
    for model, inputs, methods in models:
        results = []
        for chunk in (10**9, 7):
            monkeypatch.setattr(inference, "EVAL_CHUNK", chunk)
            rows = []

            def spy(self, X, *args, rows=rows, **kwargs):
                rows.append(X.shape[0])
                return forward(self, X, *args, **kwargs)

            monkeypatch.setattr(Sequential, "_forward", spy)
            results.append([getattr(model, method)(inputs) for method in methods])
            monkeypatch.setattr(Sequential, "_forward", forward)
            assert rows and max(rows) <= chunk
        for whole, chunked in zip(*results):
            np.testing.assert_allclose(chunked, whole, rtol=1e-12)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_log_probabilities_stay_finite_where_probabilities_underflow(iris, n_classes):
    X, y = iris
    keep = y < n_classes
    model = fit_quietly(MLPClassifier((), max_iter=2, random_state=0), X[keep], y[keep])
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
    model = fit_quietly(MLPClassifier((16,), max_iter=200, learning_rate_init=0.01,
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
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01,
                                  max_iter=300, random_state=0), X, Y)
    assert model.predict(X).shape == (100, 2) and model.n_outputs_ == 2
    assert model.score(X, Y) > 0.8
    single = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2), X, Y[:, 0])
    assert single.predict(X).shape == (100,)


def test_robust_regression_losses_ignore_outliers_that_squared_error_follows(rng):
    X = rng.normal(size=(120, 2))
    y = X[:, 0] + 0.1 * rng.normal(size=120)
    y[:5] += 50.0  # outliers
    clean = np.arange(5, 120)
    scores = {}
    for loss in ("squared_error", "absolute_error", "huber"):
        model = fit_quietly(MLPRegressor(loss, hidden_layer_sizes=(8,), learning_rate_init=0.01,
                                      max_iter=200, random_state=0), X, y)
        assert model.loss_curve_[-1] < model.loss_curve_[0]
        scores[loss] = model.score(X[clean], y[clean])
    assert scores["absolute_error"] > 0.9 and scores["huber"] > 0.9
    assert scores["squared_error"] < 0.5


def test_a_loss_instance_is_used_and_left_untouched(rng):
    from chainrule.losses import Huber

    X = rng.normal(size=(50, 2))
    loss = Huber(delta=0.5)
    fit_quietly(MLPRegressor(loss, hidden_layer_sizes=(4,), max_iter=3), X, X[:, 0])
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
        ({"activation": ["relu", 3]}, TypeError,
         r"activation\[1\] must be an activation name, got 3"),
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"max_fun": 0}, ValueError, "max_fun"),
        ({"max_fun": 2.5}, TypeError, "max_fun"),
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
    # sample_weight is checked as the Trainer checks it (Loss.prepare_weights), by name
    for weights, low, high in ((np.zeros(150), 0, 0), (np.r_[-1.0, np.ones(149)], -1, 1)):
        with pytest.raises(ValueError, match=rf"^sample_weight must be non-negative and not all "
                           rf"zero, got values in \[{low}, {high}\]$"):
            MLPClassifier().fit(X, y, sample_weight=weights)
        with pytest.raises(ValueError, match=r"^sample_weight must be non-negative"):
            fit_quietly(MLPRegressor(hidden_layer_sizes=(2,), max_iter=1), X, X[:, 0]).score(
                X, X[:, 0], sample_weight=weights)
    with pytest.raises(TypeError, match=r"^sample_weight must be an array of numbers: "):
        MLPClassifier().fit(X[:2], y[:2], sample_weight=[[1.0, 2.0], [3.0]])  # ragged
    with pytest.raises(ValueError, match=r"^X and sample_weight must have the same number of "
                       r"samples, got 150 and 3$"):
        MLPClassifier().fit(X, y, sample_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="loss"):
        MLPRegressor("poisson").fit(X, y)
    with pytest.raises(TypeError, match="classification loss"):
        from chainrule.losses import CrossEntropy

        MLPRegressor(CrossEntropy()).fit(X, y)


def test_warm_start_switching_between_single_and_multilabel_says_what_it_got(iris):
    X, y = iris
    Y = np.column_stack([y == 0, y == 1, y == 2]).astype(int)
    model = fit_quietly(MLPClassifier((4,), max_iter=2, warm_start=True, random_state=0), X, y)
    with pytest.raises(ValueError, match=r"single-label .* shape \(150, 3\) \(multilabel-indicator\)"):
        model.fit(X, Y)
    model = fit_quietly(MLPClassifier((4,), max_iter=2, warm_start=True, random_state=0), X, Y)
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
    from chainrule.training._r2 import weighted_r2 as r2_score

    y, y_hat = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    w = np.array([1.0, 2.0, 1.0])
    for scale in (2.0**-1030, 2.0**-1000, 1.0, 2.0**1000):  # subnormal to huge, exactly
        assert r2_score(y * scale, y_hat * scale, None) == -3.0
        assert r2_score(y * scale, y_hat * scale, w) == r2_score(y, y_hat, w)


def test_r2_of_perfect_predictions_and_too_few_samples():
    from chainrule.training._r2 import weighted_r2 as r2_score

    y = np.array([1.0, 2.0, 4.0])
    assert r2_score(y, y.copy(), None) == 1.0  # no residual at all
    assert r2_score(np.column_stack([y, -y]), np.column_stack([y, -y]), None) == 1.0
    with pytest.raises(ValueError, match="R² needs at least 2 samples, got y with 1"):
        r2_score(y[:1], y[:1], None)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("weights", [[1e300, 1e-30], [1e300, 1e-300], [1.7e308, 1e-300],
                                     [1.7e308, 1.7e308]])
def test_r2_with_weights_of_very_different_magnitudes(weights):
    # The huge weight sits on a sample predicted exactly, at the mean: only the tiny one counts.
    from sklearn.metrics import r2_score as sklearn_r2

    from chainrule.training._r2 import weighted_r2 as r2_score

    y, y_hat, w = np.array([0.0, 1.0]), np.array([0.0, 0.5]), np.array(weights)
    if weights[0] != weights[1]:
        assert r2_score(y, y_hat, w) == pytest.approx(0.75, rel=1e-15)
        assert sklearn_r2(y, y_hat, sample_weight=w) == pytest.approx(0.75, rel=1e-15)
    else:  # equal weights: mean 0.5, R² = 1 − 0.25 / 0.5 (scikit-learn's Σ w overflows here)
        assert r2_score(y, y_hat, w) == pytest.approx(0.5, rel=1e-15)


@pytest.mark.filterwarnings("error")
def test_r2_refuses_weights_spanning_more_than_the_float64_range():
    from chainrule.training._r2 import weighted_r2 as r2_score

    with pytest.raises(ValueError, match=r"sample_weight spans more than the float64 range "
                                         r"\(.*positive weights from 4.94e-324 to 1.7e\+308\)"):
        r2_score(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.5, 0.0]),
                 np.array([1.7e308, 5e-324, 1.7e308]))


# --------------------------------------------------------------------------- more modes
def test_regressor_early_stopping_scores_r2_on_an_unstratified_split(rng, spy_on_split):
    from chainrule.sklearn import _base

    seen = spy_on_split(_base)
    X = rng.normal(size=(100, 3))
    y = X @ np.array([1.0, -1.0, 0.5])
    snapshots = []
    recorder = LambdaCallback(
        on_epoch_end=lambda trainer, epoch, logs: snapshots.append(trainer.net.parameters.copy())
    )
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(8,), early_stopping=True,
                                  validation_fraction=0.2, learning_rate_init=0.01, max_iter=30,
                                  random_state=0, callbacks=[recorder]), X, y)
    assert seen.get("stratify") is None and seen["test_size"] == 0.2
    scores = model.validation_scores_
    assert len(scores) == len(model.validation_loss_curve_) == model.n_iter_
    assert scores[-1] > scores[0] and max(scores) < 1.0  # R², improving
    assert model.best_validation_score_ == max(scores)
    np.testing.assert_array_equal(model.network_.parameters, snapshots[int(np.argmax(scores))])


def test_a_validation_r2_below_the_float_range_is_the_worst_score_and_no_improvement(rng):
    # Targets ~1e-200 with predictions ~0.1: R² is far below the float64 range (-1e398).
    X = rng.normal(size=(60, 2))
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), early_stopping=True,
                                  n_iter_no_change=2, max_iter=10, random_state=0),
                     X, X[:, 0] * 1e-200)
    assert model.validation_scores_ == [-np.inf] * 3
    assert model.n_iter_ == 3  # the first epoch, then 2 without improvement
    assert np.isfinite(model.validation_loss_curve_).all()


def test_a_column_of_targets_is_one_target_with_a_warning(rng):
    from sklearn.exceptions import DataConversionWarning

    X = rng.normal(size=(40, 2))
    y = X[:, 0] - X[:, 1]
    settings = {"hidden_layer_sizes": (4,), "max_iter": 3, "random_state": 0}
    with pytest.warns(DataConversionWarning, match="column-vector y"):
        column = fit_quietly(MLPRegressor(**settings), X, y[:, None])
    flat = fit_quietly(MLPRegressor(**settings), X, y)
    assert column.n_outputs_ == 1 and column.predict(X).shape == (40,)
    assert column.loss_curve_ == flat.loss_curve_


def test_warm_start_can_switch_early_stopping_on(iris):
    X, y = iris
    model = fit_quietly(MLPClassifier((4,), max_iter=3, warm_start=True, random_state=0), X, y)
    assert model.validation_scores_ is None and model.best_validation_score_ is None
    model.set_params(early_stopping=True)
    fit_quietly(model, X, y)
    assert len(model.validation_scores_) == len(model.validation_loss_curve_) == 3
    assert model.best_validation_score_ == max(model.validation_scores_)
    assert len(model.loss_curve_) == 6


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_early_stopping_can_be_switched_off_between_fits(iris, method):
    X, y = iris
    model = fit_quietly(MLPClassifier((4,), max_iter=3, warm_start=True, early_stopping=True,
                                      random_state=0), X, y)
    assert model.best_loss_ is None
    model.set_params(early_stopping=False)
    if method == "fit":
        fit_quietly(model, X, y)
    else:
        model.partial_fit(X, y)
    added = model.loss_curve_[3:]
    assert len(added) == (3 if method == "fit" else 1) and model.best_loss_ == min(added)
    assert len(model.validation_scores_) == 3  # the validated epochs' scores stay


def test_ctrl_c_stops_training_with_a_warning(iris):
    import os
    import signal

    def interrupt(trainer, epoch, batch, logs):
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)

    model = MLPClassifier((4,), max_iter=10, batch_size=50, random_state=0,
                          callbacks=[LambdaCallback(on_batch_end=interrupt)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.warns(UserWarning, match=r"^Training interrupted by user\.$"):
            model.fit(*iris)
    assert model.n_iter_ == 1 and len(model.loss_curve_) == 1


def test_verbose_reports_validation_scores_and_why_training_stopped(iris, capsys):
    X, y = iris
    MLPClassifier((4,), early_stopping=True, tol=0.5, n_iter_no_change=1, max_iter=50,
                  verbose=True, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    scores = [line for line in lines if line.startswith("Validation score: ")]
    assert len(scores) == 3  # no improvement by 0.5 in epochs 2 and 3: more than 1, stop
    assert all(0 <= float(line.split(": ")[1]) <= 1 for line in scores)
    # As scikit-learn: the epoch's line (the Trainer's), then its validation score and verdict.
    assert lines[-3].startswith("epoch 3/50 - loss ") and lines[-2] == scores[-1]
    assert lines[-1] == ("Validation score did not improve more than tol=0.500000 for 1 "
                         "consecutive epochs. Stopping.")
    MLPRegressor(hidden_layer_sizes=(4,), tol=1e3, n_iter_no_change=1, max_iter=50,
                 verbose=True, random_state=0).fit(X, y)
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Training loss did not improve more than tol=1000.000000 for 1 consecutive epochs. "
        "Stopping.")



class _BrokenPipe(io.StringIO):
    """stdout whose reader has gone (``python fit.py | head -1``)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def _closed() -> io.StringIO:
    stream = io.StringIO()
    stream.close()
    return stream


@pytest.mark.parametrize("stdout", [None, _closed, _BrokenPipe],
                         ids=["None", "closed", "broken_pipe"])
def test_verbose_lines_that_cannot_be_printed_do_not_stop_the_training(iris, monkeypatch, stdout):
    """The progress lines (the Trainer's and the estimator's own: validation scores, the
    adaptive rate, why training stopped) are a side channel: a stdout that is None (pythonw),
    closed or whose reader has gone loses them, and the fit is the one a quiet fit makes."""
    X, y = iris
    settings = [
        {"early_stopping": True, "tol": 0.5, "n_iter_no_change": 1, "max_iter": 50},
        {"solver": "sgd", "learning_rate": "adaptive", "learning_rate_init": 0.01, "tol": 1e3,
         "n_iter_no_change": 1, "max_iter": 5},
    ]
    for options in settings:
        quiet = fit_quietly(MLPClassifier((4,), random_state=0, **options), X, y)
        monkeypatch.setattr(sys, "stdout", stdout and stdout())
        model = fit_quietly(MLPClassifier((4,), verbose=True, random_state=0, **options), X, y)
        monkeypatch.undo()
        assert model.n_iter_ == quiet.n_iter_ and model.loss_curve_ == quiet.loss_curve_
        assert model._trainer.optimizer.lr == quiet._trainer.optimizer.lr
        np.testing.assert_array_equal(model.coefs_[0], quiet.coefs_[0])

def test_adaptive_rate_is_divided_by_5_on_a_plateau_and_said_so(iris, capsys):
    X, y = iris
    model = MLPClassifier((4,), solver="sgd", learning_rate="adaptive", learning_rate_init=0.01,
                          tol=1e3, n_iter_no_change=1, max_iter=5, verbose=True, random_state=0)
    fit_quietly(model, X, y)
    said = [line for line in capsys.readouterr().out.splitlines() if line.startswith("Setting")]
    assert said == ["Setting learning rate to 0.002000", "Setting learning rate to 0.000400"]
    assert model._trainer.optimizer.lr == pytest.approx(0.0004)


def test_invscaling_without_momentum_sets_the_rate_directly(iris):
    X, y = iris
    model = fit_quietly(MLPClassifier((4,), solver="sgd", momentum=0.0, learning_rate="invscaling",
                                   learning_rate_init=0.1, power_t=0.5, batch_size=50,
                                   max_iter=3, random_state=0), X, y)
    assert model.t_ == 450
    assert model._trainer.optimizer.lr == pytest.approx(0.1 / 451**0.5)


def test_a_random_state_object_seeds_one_fit_and_moves_on(iris):
    X, y = iris

    def fit(random_state):
        return fit_quietly(MLPClassifier((4,), max_iter=2, random_state=random_state), X, y)

    first, again = fit(np.random.RandomState(0)), fit(np.random.RandomState(0))
    np.testing.assert_array_equal(first.coefs_[0], again.coefs_[0])
    shared = np.random.RandomState(0)
    one, two = fit(shared), fit(shared)  # the same object: successive fits differ
    np.testing.assert_array_equal(one.coefs_[0], first.coefs_[0])
    assert not np.array_equal(two.coefs_[0], one.coefs_[0])


@pytest.mark.parametrize("estimator", [MLPClassifier, MLPRegressor])
def test_random_state_none_draws_from_numpys_global_random_state(iris, estimator):
    # scikit-learn's check_random_state(None): the global RandomState, which fits consume
    X, y = iris

    def fit():
        model = estimator(hidden_layer_sizes=(4,), max_iter=2, early_stopping=True)
        return fit_quietly(model, X, y).coefs_[0]

    np.random.seed(0)
    first, second = fit(), fit()
    np.random.seed(0)
    np.testing.assert_array_equal(fit(), first)
    np.testing.assert_array_equal(fit(), second)
    assert not np.array_equal(first, second)


def test_an_optimizer_given_by_name_has_that_optimizers_defaults_and_learning_rate_init(iris):
    from chainrule.optim import RMSprop

    X, y = iris
    common = {"hidden_layer_sizes": (4,), "max_iter": 2, "random_state": 0}
    named = fit_quietly(MLPClassifier(optimizer="rmsprop", learning_rate_init=0.05, **common),
                        X, y)
    as_dict = fit_quietly(MLPClassifier(optimizer={"name": "rmsprop"}, learning_rate_init=0.05,
                                        **common), X, y)
    given = fit_quietly(MLPClassifier(optimizer=RMSprop(0.05), **common), X, y)
    assert named._trainer.optimizer.lr == 0.05
    np.testing.assert_array_equal(named.coefs_[0], given.coefs_[0])
    np.testing.assert_array_equal(as_dict.coefs_[0], given.coefs_[0])


@pytest.mark.parametrize("optimizer", [SGD(0.05), {"name": "sgd", "lr": 0.05}])
def test_an_optimizer_with_its_own_rate_refuses_a_different_learning_rate_init(iris, optimizer):
    X, y = iris
    model = MLPClassifier((4,), optimizer=optimizer, learning_rate_init=0.5, max_iter=2)
    with pytest.raises(ValueError, match=r"learning_rate_init=0.5 .* lr=0.05"):
        model.fit(X, y)
    assert not hasattr(model, "coefs_")
    # the default learning_rate_init, or the same rate, is no conflict: the optimizer's rate
    for rate in (0.001, 0.05):
        model = fit_quietly(model.set_params(learning_rate_init=rate), X, y)
        assert model._trainer.optimizer.lr == 0.05


def test_learning_rate_policies_apply_to_a_given_optimizer(iris):
    X, y = iris
    common = {"hidden_layer_sizes": (4,), "max_iter": 3, "random_state": 0, "batch_size": 50,
              "learning_rate": "invscaling", "power_t": 0.5, "learning_rate_init": 0.1}
    named = fit_quietly(MLPClassifier(optimizer="sgd", **common), X, y)
    solver = fit_quietly(MLPClassifier(solver="sgd", momentum=0.0, **common), X, y)
    np.testing.assert_array_equal(named.coefs_[0], solver.coefs_[0])
    adam = fit_quietly(MLPClassifier(optimizer="adam", **common), X, y)
    assert adam._trainer.optimizer.lr == pytest.approx(0.1 / (adam.t_ + 1) ** 0.5)
    # tol so large that no epoch after the first improves: the count exceeds 1 at epoch 3
    adaptive = fit_quietly(MLPClassifier(optimizer="adam", tol=10.0, n_iter_no_change=1,
                                         **{**common, "max_iter": 4,
                                            "learning_rate": "adaptive"}), X, y)
    assert adaptive._trainer.optimizer.lr == pytest.approx(0.1 / 5)


# --------------------------------------------------------------------------- more errors
def test_a_validation_set_of_one_sample_is_refused(rng):
    X = rng.normal(size=(10, 2))
    model = MLPRegressor(hidden_layer_sizes=(4,), early_stopping=True, validation_fraction=0.1)
    with pytest.raises(ValueError, match=r"The validation set is too small: "
                       r"validation_fraction=0.1 of 10 samples gives 1"):
        model.fit(X, X[:, 0])


def test_targets_too_large_for_a_float32_network_name_y(rng):
    X = rng.normal(size=(20, 2)).astype(np.float32)  # the network follows X: float32
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=2)
    with pytest.raises(ValueError, match=r"^y has values beyond the float32 range"):
        model.fit(X, np.full(20, 1e39))


def test_edited_weights_that_are_not_finite_are_reported(iris):
    X, y = iris
    model = fit_quietly(MLPClassifier((4,), max_iter=2, random_state=0), X, y)
    model.coefs_[0][0, 0] = np.nan
    # Not "did training diverge?" (Sequential.forward's guess): the estimator's fit keeps
    # finite weights, so non-finite ones were set by hand.
    with pytest.raises(ValueError, match=r"^this MLPClassifier's weights are not finite \(were "
                       r"coefs_ or intercepts_ edited\?\); fit it again$"):
        model.predict(X)


def test_inputs_whose_outputs_overflow_are_named(iris):
    X, y = iris
    model = fit_quietly(MLPClassifier((), max_iter=2, random_state=0), X.astype(np.float32), y)
    W = model.coefs_[0]  # (4, 3): the logits are X @ W + b, in float32
    k = int(np.abs(W).sum(axis=0).argmax())
    huge = (np.sign(W[:, k]) * 3e38).astype(np.float32)[None, :]  # finite, but z_k is not
    assert float(np.abs(W[:, k]).sum()) * 3e38 > float(np.finfo(np.float32).max)
    with pytest.raises(ValueError, match=r"^the network's output is not finite: an "
                       r"intermediate value overflowed float32; scale the inputs X down"):
        model.predict(huge)


def test_overflowing_penalties_are_found_on_every_weight_whatever_its_name(rng):
    # The penalised parameters are the layers' weights by role (Layer.penalty), not by the
    # name "W": a layer of one's own may call its weight otherwise
    from chainrule.layers.base import Layer, ParameterSpec
    from chainrule.layers.sequential import Sequential

    class Scale(Layer):
        def parameter_specs(self):
            return [ParameterSpec("s", (2,), "weight", lambda shape, rng: np.full(shape, 10.0))]

        def forward(self, X, training=False):
            return X * self.params["s"]

        def backward(self, dY):
            raise NotImplementedError

    X = rng.normal(size=(20, 2))
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(), max_iter=2), X, X[:, 0])
    scale = Scale()
    model._net = Sequential([scale, Dense(2, 1)], dtype=np.float64)
    assert model._overflowing_penalties() == []
    scale.l2 = 1e308  # ½ l2 Σ s² = 1e308 × 100: beyond the float range; l1 Σ|s| is not
    scale.l1 = 1e305
    assert model._overflowing_penalties() == ["alpha"]
    scale.l1 = 1e308
    assert model._overflowing_penalties() == ["alpha", "l1"]


def test_multiclass_multioutput_targets_are_refused(iris):
    with pytest.raises(ValueError, match=r"several multi-class outputs are not supported"):
        MLPClassifier((4,)).fit(iris[0], np.column_stack([iris[1], iris[1] % 2]))


def test_targets_that_change_shape_between_fits(rng):
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=40, n_features=4, n_classes=3,
                                          random_state=0)
    model = fit_quietly(MLPClassifier((4,), max_iter=2, warm_start=True, random_state=0), X, Y)
    with pytest.raises(ValueError, match="y has 2 labels per sample, the first fit had 3"):
        model.fit(X, Y[:, :2])
    X = rng.normal(size=(30, 2))
    Y = np.column_stack([X.sum(axis=1), X[:, 0]])
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, warm_start=True), X, Y[:, 0])
    with pytest.raises(ValueError, match=r"y has shape \(30, 2\), but the model was fitted on 1 "
                       r"target\(s\) of shape \(n_samples,\)"):
        model.fit(X, Y)
    model = MLPRegressor(hidden_layer_sizes=(4,)).partial_fit(X, Y)
    with pytest.raises(ValueError, match=r"y has shape \(30,\), but the model was fitted on 2 "
                       r"target\(s\) of shape \(n_samples, 2\)"):
        model.partial_fit(X, Y[:, 0])


def test_score_needs_targets_of_the_fitted_width(rng):
    from chainrule.errors import ShapeError

    X = rng.normal(size=(30, 2))
    Y = np.column_stack([X.sum(axis=1), X[:, 0]])
    model = MLPRegressor(hidden_layer_sizes=(4,)).partial_fit(X, Y)
    with pytest.raises(ShapeError, match=r"y must have shape \(n_samples,\) or \(n_samples, 2\) "
                       r"for this model's 2 output\(s\), got \(30, 3\)"):
        model.score(X, np.column_stack([Y, Y[:, 0]]))


# --------------------------------------------------------------------------- failed fits
def _fitted_state(model, X):
    """What a fit that fails before any optimizer step must leave as it was: every attribute
    (objects by identity, values by repr), the weights and layer penalties, the Trainer's
    settings and state, the predictions."""
    trainer, net = model._trainer, model._net
    optimizer = trainer.optimizer.state_dict()
    return {
        "attributes": {key: (id(value), repr(value)) for key, value in vars(model).items()},
        "weights": net.parameters.tobytes(),
        "penalties": [(layer.l1, layer.l2) for layer in net.layers if isinstance(layer, Dense)],
        "trainer": (trainer.batch_size, trainer.shuffle, trainer.verbose, trainer.epoch,
                    trainer.encoder, len(trainer.history), repr(trainer.rng.bit_generator.state)),
        "optimizer": {k: v.tobytes() if isinstance(v, np.ndarray) else v
                      for k, v in optimizer.items()},
        "predictions": model.predict(X).tobytes(),
    }


@pytest.mark.parametrize(
    "make, change, call, error, match",
    [
        (lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0), {},
         lambda m, X, y: m.fit(X, np.full(len(X), 1e300)), ValueError, "y has values too large"),
        (lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0),
         {"batch_size": 7, "alpha": 0.5},
         lambda m, X, y: m.partial_fit(X, np.full(len(X), 1e300)), ValueError,
         "y has values too large"),
        (lambda: MLPRegressor(hidden_layer_sizes=(8,), max_iter=30, warm_start=True,
                              random_state=0), {"activation": "tanh"},
         lambda m, X, y: m.fit(X, np.full(len(X), 1e300)), ValueError, "y has values too large"),
        (lambda: MLPClassifier((8,), max_iter=30, random_state=0), {},
         lambda m, X, y: m.fit(X, np.zeros(len(X), int)), ValueError, "only one class"),
        (lambda: MLPClassifier((8,), max_iter=30, random_state=0),
         {"early_stopping": True, "validation_fraction": 0.005},
         lambda m, X, y: m.fit(X, y), ValueError, "validation set is too small"),
        (lambda: MLPClassifier((8,), max_iter=30, random_state=0), {},
         lambda m, X, y: m.partial_fit(X[:, :3], y), ValueError, "features"),
        (lambda: MLPClassifier((8,), max_iter=30, random_state=0),
         {"callbacks": [EarlyStopping("val_loss")]},
         lambda m, X, y: m.fit(X, y), ValueError, "val_loss"),
    ],
    ids=["regressor-refit", "regressor-partial-fit", "regressor-rebuilt-network",
         "classifier-one-class", "classifier-split", "classifier-partial-fit-width",
         "classifier-callback-refuses"],
)
def test_a_fit_that_fails_before_any_step_leaves_the_estimator_as_it_was(
        iris, make, change, call, error, match):
    X, y = iris
    model = fit_quietly(make(), X, y if isinstance(make(), MLPClassifier) else X[:, 0])
    model.set_params(**change)
    before = _fitted_state(model, X)
    with pytest.raises(error, match=match):
        call(model, X, y)
    assert _fitted_state(model, X) == before


@pytest.mark.parametrize("make, target", [
    (lambda: MLPRegressor(hidden_layer_sizes=(4,), solver="sgd", momentum=0.0,
                          learning_rate_init=100.0, max_iter=50, random_state=0),
     lambda X, y: X[:, 0] * 1e3),
    (lambda: MLPClassifier((4,), solver="sgd", momentum=0.0, learning_rate_init=1e30,
                           max_iter=50, random_state=0), lambda X, y: y),
], ids=["regressor", "classifier"])
def test_a_fit_that_diverges_after_some_epochs_is_consistent(iris, make, target):
    """Epochs trained before a divergence are kept, and loss_ is the last of loss_curve_ (not
    the previous fit's)."""
    X, y = iris
    model = fit_quietly(make().set_params(learning_rate_init=0.001, max_iter=5), X, target(X, y))
    model.set_params(learning_rate_init=make().learning_rate_init, max_iter=50)
    scale = 1.0 if isinstance(model, MLPRegressor) else 1e5
    with pytest.raises(TrainingDivergedError):
        model.fit(X * scale, target(X, y))
    assert 0 < model.n_iter_ == len(model.loss_curve_)
    assert model.loss_ == model.loss_curve_[-1]


def test_partial_fit_runs_the_callbacks_set_since_and_keeps_unchanged_ones(iris):
    """partial_fit re-reads ``callbacks`` as it does ``batch_size``: a list set with set_params
    replaces the copies in training; the same list keeps its copies and their state."""
    X, y = iris
    calls = []
    model = MLPClassifier((5,), random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    assert model.callbacks_ == []
    model.set_params(callbacks=[LambdaCallback(on_epoch_end=lambda t, e, logs: calls.append(e))])
    model.partial_fit(X, y)
    copies = model.callbacks_
    model.partial_fit(X, y)
    assert calls == [2, 3] and model.callbacks_ is copies and len(copies) == 1
    model.set_params(callbacks=None)
    model.partial_fit(X, y)
    assert calls == [2, 3] and model.callbacks_ == []


PARTIAL_SETTINGS = {"hidden_layer_sizes": (8,), "batch_size": 150, "shuffle": False,
                    "random_state": 3, "tol": 0.0, "n_iter_no_change": 10**6}


def test_partial_fit_continues_reduce_lr_on_plateau_as_fit_does(iris):
    """Patience counts over the calls' epochs: ten partial_fit calls reduce the rate at the
    epochs ten fit epochs do (min_delta=10: no epoch is an improvement after the first)."""
    X, y = iris
    make = lambda: MLPClassifier(**PARTIAL_SETTINGS, max_iter=10, callbacks=[
        ReduceLROnPlateau("loss", patience=2, factor=0.5, min_delta=10.0)])
    fitted = fit_quietly(make(), X, y)
    stepped, rates = make(), []
    for _ in range(10):
        stepped.partial_fit(X, y, classes=[0, 1, 2])
        rates.append(stepped._trainer.optimizer.lr)
    # halved after epochs 3, 5, 7 and 9 (the rate after each call)
    assert rates == pytest.approx(np.repeat([1e-3, 5e-4, 2.5e-4, 1.25e-4, 6.25e-5], 2))
    assert fitted._trainer.history["lr"][1:] == pytest.approx(rates[:-1])
    assert stepped.loss_curve_ == pytest.approx(fitted.loss_curve_, rel=1e-12)


def test_partial_fit_continues_early_stopping_as_fit_does(iris):
    """The call whose epoch runs out the patience is the stop fit makes (best weights put
    back); the calls before it keep their last weights, as fit's epochs do."""
    X, y = iris
    make = lambda: MLPClassifier(**PARTIAL_SETTINGS, max_iter=10, callbacks=[
        EarlyStopping("loss", patience=2, min_delta=10.0)])
    fitted = fit_quietly(make(), X, y)
    assert fitted.n_iter_ == 3 and fitted._trainer.history.stopped_early
    stepped = make()
    for _ in range(3):
        stepped.partial_fit(X, y, classes=[0, 1, 2])
    assert stepped._trainer.history.stopped_early
    assert stepped._trainer.history.note == fitted._trainer.history.note
    assert stepped.loss_curve_ == pytest.approx(fitted.loss_curve_, rel=1e-12)
    np.testing.assert_allclose(stepped.coefs_[0], fitted.coefs_[0], rtol=1e-12)


def test_partial_fit_writes_a_best_checkpoint_only_for_a_better_epoch(iris, tmp_path):
    from chainrule.training.checkpoint import ModelCheckpoint

    X, y = iris
    model = MLPClassifier((8,), random_state=0, learning_rate_init=0.05, callbacks=[
        ModelCheckpoint(tmp_path / "best.safetensors", "loss", save_best_only=True)])
    for _ in range(4):
        model.partial_fit(X, y, classes=[0, 1, 2])
    model.partial_fit(X * 30, (y + 1) % 3)  # a much worse epoch
    assert model.loss_curve_[-1] > max(model.loss_curve_[:4])
    assert model.callbacks_[0].saved_epochs == [1, 2, 3, 4]


@pytest.mark.parametrize("early_stopping", [False, True])
def test_a_dropped_fitted_estimator_frees_its_network_by_reference_counting(iris, early_stopping):
    """A search loop fitting estimators one after another must not pile up dead networks
    waiting for the cyclic garbage collector."""
    from _refcount import freed_by_refcount

    X, y = iris

    def fitted():
        model = MLPClassifier(hidden_layer_sizes=(8,), max_iter=2, random_state=0,
                              early_stopping=early_stopping)
        fit_quietly(model, X, y).score(X, y)
        return model

    assert freed_by_refcount(fitted, lambda model: model._net,
                             lambda model: model._net.parameters)
