"""Parameters changed with ``set_params`` between fits that continue from the fitted weights
(``warm_start=True``, ``partial_fit``): applied to the same weights, or refused."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("sklearn")

from _quiet_fit import fit_quietly

from chainrule.layers.activations import ReLU, Softmax, Tanh
from chainrule.layers.dense import Dense
from chainrule.layers.dropout import Dropout
from chainrule.sklearn import MLPClassifier, MLPRegressor
from chainrule.training.callbacks import LambdaCallback

CLASSES = [0, 1, 2]


def _starts_recorder(starts: list) -> LambdaCallback:
    """Records the weights and the optimizer's state every fit starts from."""
    return LambdaCallback(on_train_begin=lambda trainer: starts.append(
        (trainer.net.parameters.copy(), trainer.optimizer.state_dict())))


def _kinds(model) -> list[type]:
    return [type(layer) for layer in model.network_.layers]


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_changed_activation_and_dropout_rebuild_the_network_around_the_weights(iris, method):
    X, y = iris
    starts = []
    model = MLPClassifier((5, 4), max_iter=2, warm_start=True, random_state=0,
                          callbacks=[_starts_recorder(starts)])
    train = (lambda: model.partial_fit(X, y, classes=CLASSES)) if method == "partial_fit" \
        else (lambda: fit_quietly(model, X, y))
    train()
    fitted = model.network_.parameters.copy()
    model.set_params(activation=["tanh", "relu"], dropout=0.2)
    train()
    assert _kinds(model) == [Dense, Tanh, Dropout, Dense, ReLU, Dropout, Dense, Softmax]
    assert model.get_params()["activation"] == ["tanh", "relu"]
    np.testing.assert_array_equal(starts[-1][0], fitted)  # the same weights, not new ones
    model.set_params(activation="relu", dropout=0.0)
    train()
    assert _kinds(model) == [Dense, ReLU, Dense, ReLU, Dense, Softmax]


def test_partial_fit_on_a_rebuilt_network_continues_the_optimizer(iris):
    X, y = iris
    settings = {"hidden_layer_sizes": (8,), "batch_size": 50, "shuffle": False,
                "random_state": 3, "learning_rate_init": 0.01}
    ends = []
    recorder = LambdaCallback(on_train_end=lambda trainer, logs: ends.append(
        trainer.optimizer.state_dict()))
    starts = []
    model = MLPClassifier(**settings, callbacks=[recorder, _starts_recorder(starts)])
    for _ in range(3):
        model.partial_fit(X, y, classes=CLASSES)
    model.set_params(activation="tanh")
    model.partial_fit(X, y)
    assert _kinds(model)[1] is Tanh
    carried = starts[-1][1]
    assert carried["step"] == ends[-2]["step"] == 9  # 3 calls of 3 batches
    for name, value in ends[-2].items():  # Adam's moments, step count and rate, unchanged
        np.testing.assert_array_equal(carried[name], value)
    assert model._trainer.optimizer.n_steps == 12


def test_a_changed_dtype_casts_the_weights_and_keeps_training_on_course(iris):
    # Six partial_fit calls in float64, against three then three more in float32: the
    # optimizer's state follows the weights, so the runs differ only by float32 rounding
    # (a fresh Adam after the switch would differ by about 3e-2)
    X, y = iris
    settings = {"hidden_layer_sizes": (8,), "batch_size": 50, "shuffle": False,
                "random_state": 3, "learning_rate_init": 0.01}
    reference, switched = MLPClassifier(**settings), MLPClassifier(**settings)
    for _ in range(3):
        reference.partial_fit(X, y, classes=CLASSES)
        switched.partial_fit(X, y, classes=CLASSES)
    switched.set_params(dtype="float32")
    for _ in range(3):
        reference.partial_fit(X, y)
        switched.partial_fit(X, y)
    assert switched.coefs_[0].dtype == np.float32 and reference.coefs_[0].dtype == np.float64
    assert switched.predict_proba(X).dtype == np.float32
    np.testing.assert_allclose(switched.coefs_[0], reference.coefs_[0], rtol=0, atol=1e-6)


def test_dtype_none_on_a_warm_start_keeps_the_fitted_dtype(iris):
    X, y = iris
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=2, warm_start=True,
                                  random_state=0), X, y)
    network = model.network_
    fit_quietly(model, X.astype(np.float32), y)  # dtype=None: scikit-learn keeps coefs_' dtype
    assert model.network_ is network and model.coefs_[0].dtype == np.float64


@pytest.mark.parametrize("sizes", [(7,), (5, 3), ()])
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_a_changed_hidden_layer_sizes_is_refused_and_leaves_the_model_as_it_was(
    iris, sizes, method
):
    X, y = iris
    model = fit_quietly(MLPClassifier((5,), max_iter=2, warm_start=True, random_state=0), X, y)
    before = model.predict_proba(X)
    model.set_params(hidden_layer_sizes=sizes)
    train = model.partial_fit if method == "partial_fit" else model.fit
    with pytest.raises(ValueError, match=(
        rf"hidden_layer_sizes={re.escape(repr(sizes))} differs from the fitted network's "
        r"hidden layers \(5,\): warm_start=True and partial_fit continue from the fitted "
        r"weights.*warm_start=False"
    )):
        train(X, y)
    np.testing.assert_array_equal(model.predict_proba(X), before)
    assert [W.shape for W in model.coefs_] == [(4, 5), (5, 3)]
    model.set_params(hidden_layer_sizes=5)  # the same sizes, spelt differently
    fit_quietly(model, X, y)
    model.set_params(hidden_layer_sizes=sizes, warm_start=False)  # a new network: fine
    assert [W.shape[1] for W in fit_quietly(model, X, y).coefs_[:-1]] == list(sizes)


def test_partial_fit_reads_batch_size_and_shuffle_on_every_call(iris):
    X, y = iris
    batches = []
    counter = LambdaCallback(on_batch_end=lambda trainer, epoch, batch, logs: batches.append(1))
    model = MLPClassifier((4,), batch_size=50, random_state=0, callbacks=[counter])
    model.partial_fit(X, y, classes=CLASSES)
    assert len(batches) == 3
    model.set_params(batch_size=30, shuffle=False)
    model.partial_fit(X, y)
    assert len(batches) == 3 + 5
    assert not model._trainer.shuffle
    for layer in model.network_.layers:  # the penalty follows the batch size in use
        if isinstance(layer, Dense):
            assert layer.l2 == pytest.approx(model.alpha / 30)


@pytest.mark.parametrize("change", [
    {"solver": "sgd", "learning_rate": "invscaling"},  # a kept Adam is not decayed
    {"solver": "sgd", "learning_rate": "adaptive"},    # nor divided on a plateau
], ids=["to-sgd-invscaling", "to-adaptive"])
def test_partial_fit_keeps_the_rate_policy_of_the_optimizer_it_keeps(iris, change):
    X, y = iris
    model = MLPClassifier((5,), learning_rate_init=0.01, n_iter_no_change=1, tol=10.0,
                          random_state=0)
    model.partial_fit(X, y, classes=CLASSES)
    model.set_params(**change)
    for _ in range(4):
        model.partial_fit(X, y)
    assert type(model._trainer.optimizer).__name__ == "Adam"
    assert model._trainer.optimizer.lr == 0.01


def test_partial_fit_decays_from_the_settings_the_sgd_optimizer_was_made_with(iris):
    X, y = iris
    model = MLPClassifier((5,), solver="sgd", learning_rate="invscaling", random_state=0,
                          learning_rate_init=0.1, power_t=0.5)
    model.partial_fit(X, y, classes=CLASSES)
    model.set_params(learning_rate_init=0.5, power_t=0.25)  # as scikit-learn: not the kept SGD's
    model.partial_fit(X, y)
    assert model._trainer.optimizer.lr == pytest.approx(0.1 / (2 * len(X) + 1) ** 0.5)


def test_partial_fit_refuses_other_classes_than_the_first_call(iris):
    X, y = iris
    model = MLPClassifier((5,), random_state=0)
    model.partial_fit(X, y, classes=CLASSES)
    model.partial_fit(X, y, classes=[2, 1, 0])  # the same classes, in another order
    with pytest.raises(ValueError, match=re.escape(
            "classes=array([0, 1, 2, 3]) is not the same as on the first call to partial_fit, "
            "which gave array([0, 1, 2])")):
        model.partial_fit(X, y, classes=[0, 1, 2, 3])
