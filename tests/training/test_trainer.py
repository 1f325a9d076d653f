"""Trainer: the loop, reproducibility, divergence, validation, callbacks, predictions."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import make_blobs, make_circles
from chainrule.optim import SGD, Adam, StepLR
from chainrule.training import (
    EarlyStopping,
    LambdaCallback,
    ReduceLROnPlateau,
    Trainer,
    batches,
    train_test_split,
)


def circles(seed=0):
    X, y = make_circles(1000, noise=0.1, factor=0.5, seed=seed)
    return train_test_split(X, y, test_size=0.2, stratify=y, seed=seed)


def test_two_circles_with_the_tutorial_network_reaches_99_percent():
    X_train, X_test, y_train, y_test = circles()
    for seed in range(3):
        net = cr.mlp([2, 4, 3, 1], activation="relu", output="sigmoid", seed=seed)
        trainer = Trainer(net, "binary_cross_entropy", Adam(lr=0.01), batch_size=32, seed=seed,
                          verbose=0, metrics=["accuracy"])
        history = trainer.fit(X_train, y_train, epochs=200)
        assert np.all(np.isfinite(history["loss"]))
        assert trainer.evaluate(X_test, y_test)["accuracy"] >= 0.99
        assert history["loss"][-1] < history["loss"][0] / 5


def test_same_seeds_give_bit_identical_weights():
    X, _, y, _ = circles()

    def train():
        net = cr.mlp([2, 8, 8, 1], output="sigmoid", dropout=0.2, seed=3)
        Trainer(net, "bce", "adam", batch_size=16, seed=4, verbose=0).fit(
            X, y, epochs=3, validation_split=0.2)
        return net.parameters.copy()

    first, second = train(), train()
    assert first.tobytes() == second.tobytes()


def test_divergence_raises_with_the_weights_of_the_last_finite_step(rng):
    X = rng.normal(size=(64, 3)) * 100
    y = X @ np.array([1.0, -2.0, 3.0])
    net = cr.mlp([3, 16, 1], activation="relu", dtype=np.float32, seed=0)
    after_step = []
    recorder = LambdaCallback(
        on_batch_end=lambda trainer, epoch, batch, logs: after_step.append(
            (epoch, batch, trainer.net.parameters.copy()))
    )
    trainer = Trainer(net, "mse", SGD(lr=0.5), batch_size=8, seed=0, verbose=0, callbacks=[recorder])
    with pytest.raises(cr.TrainingDivergedError) as info:
        trainer.fit(X, y, epochs=50)
    error = info.value
    assert f"epoch {error.epoch}, batch {error.batch} of 8" in str(error)
    assert "lower learning rate" in str(error)
    assert not np.isfinite(error.loss)
    assert np.isfinite(net.parameters).all()
    last_epoch, last_batch, last_weights = after_step[-1]
    assert (last_epoch, last_batch + 1) == (error.epoch, error.batch) or error.batch == 1
    np.testing.assert_array_equal(net.parameters, last_weights)


def test_the_callers_arrays_are_never_modified():
    X, _, y, _ = circles()
    X32 = X.astype(np.float32)  # already the network's dtype: no conversion copy is made
    X_before, y_before = X32.copy(), y.copy()
    weights = np.ones(len(y))
    net = cr.mlp([2, 4, 1], output="sigmoid", seed=0)
    Trainer(net, "bce", batch_size=32, seed=0, verbose=0).fit(
        X32, y, epochs=2, validation_split=0.25, sample_weight=weights)
    np.testing.assert_array_equal(X32, X_before)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(weights, 1.0)


def test_the_last_partial_batch_is_used():
    sizes = []
    net = cr.mlp([2, 3, 1], seed=0)
    counter = LambdaCallback(on_batch_end=lambda t, e, b, logs: sizes.append(t.objective.last_output.shape[0]))
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    Trainer(net, "mse", batch_size=4, seed=0, verbose=0, callbacks=[counter]).fit(X, y, epochs=2)
    assert sizes == [4, 4, 2, 4, 4, 2]


def test_validation_metrics_are_logged_and_string_labels_round_trip():
    X, y = make_blobs(300, centers=3, std=0.5, seed=0)
    y = np.array(["a", "b", "c"])[y]
    net = cr.mlp([2, 8, 3], output="softmax", seed=0)
    trainer = Trainer(net, "cross_entropy", batch_size=32, seed=0, verbose=0, metrics=["accuracy"])
    history = trainer.fit(X, y, epochs=5, validation_data=(X[:60], y[:60]))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"}
    assert list(trainer.encoder.classes) == ["a", "b", "c"]
    predictions = trainer.predict(X[:60])
    assert history["val_accuracy"][-1] == pytest.approx(np.mean(predictions == y[:60]))
    assert history["val_loss"][-1] == pytest.approx(trainer.evaluate(X[:60], y[:60])["loss"])
    probabilities = trainer.predict_proba(X)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(np.array(["a", "b", "c"])[probabilities.argmax(axis=1)],
                                  trainer.predict(X))


@pytest.mark.parametrize("y_train", [[False, True] * 20, [False] * 40], ids=["both", "one"])
def test_boolean_binary_labels_predict_booleans(y_train):
    """Booleans are two classes even when the training set shows one of them."""
    X = np.random.default_rng(0).normal(size=(40, 2))
    trainer = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "binary_cross_entropy",
                      seed=0, verbose=0)
    trainer.fit(X, np.array(y_train), epochs=1)
    predictions = trainer.predict(X)
    assert predictions.dtype == np.bool_
    assert list(trainer.encoder.classes) == [False, True]


def test_validation_split_indices_are_stratified(monkeypatch):
    from chainrule.training import trainer as trainer_module

    seen = {}
    original = trainer_module.train_test_split

    def spy(*arrays, **kwargs):
        seen.update(kwargs)
        return original(*arrays, **kwargs)

    monkeypatch.setattr(trainer_module, "train_test_split", spy)
    X, y = make_blobs(100, centers=2, seed=0)
    Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "bce", verbose=0, seed=0).fit(
        X, y, epochs=1, validation_split=0.3)
    np.testing.assert_array_equal(seen["stratify"], y)
    assert seen["test_size"] == 0.3


def test_regression_on_one_dimensional_targets_predicts_one_dimension(rng):
    X = rng.normal(size=(200, 3))
    y = X @ np.array([1.0, -1.0, 0.5]) + 0.3
    net = cr.mlp([3, 1], seed=0)
    trainer = Trainer(net, "mse", Adam(lr=0.05), batch_size=20, seed=0, verbose=0, metrics=["r2"])
    history = trainer.fit(X, y, epochs=60)
    assert trainer.predict(X).shape == (200,)
    assert history["r2"][-1] > 0.99
    with pytest.raises(TypeError, match="classifiers"):
        trainer.predict_proba(X)


def test_early_stopping_stops_and_restores_the_best_weights():
    X, _, y, _ = circles()
    scripted = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 1.0]
    weights_at = {}
    script = LambdaCallback(on_epoch_end=lambda t, e, logs: logs.update(loss=scripted[e - 1]))
    keep = LambdaCallback(on_epoch_end=lambda t, e, logs: weights_at.update({e: t.net.parameters.copy()}))
    stopper = EarlyStopping("loss", patience=2)
    net = cr.mlp([2, 4, 1], output="sigmoid", seed=0)
    trainer = Trainer(net, "bce", batch_size=64, seed=0, verbose=0, callbacks=[script, keep, stopper])
    history = trainer.fit(X, y, epochs=7)
    assert len(history) == 5 and history.stopped_early  # epochs 4 and 5 do not beat 3.0
    assert stopper.best_epoch == 3 and stopper.stopped_epoch == 5
    np.testing.assert_array_equal(net.parameters, weights_at[3])
    assert "restored the weights of epoch 3" in history.note


def test_early_stopping_needs_the_quantity_it_monitors():
    X, _, y, _ = circles()
    trainer = Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "bce", verbose=0,
                      callbacks=[EarlyStopping("val_loss")])
    with pytest.raises(ValueError, match="validation_data or validation_split"):
        trainer.fit(X, y, epochs=1)


def test_reduce_lr_on_plateau_composes_with_a_schedule():
    X, _, y, _ = circles()
    scripted = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    script = LambdaCallback(on_epoch_end=lambda t, e, logs: logs.update(loss=scripted[e - 1]))
    plateau = ReduceLROnPlateau("loss", factor=0.5, patience=2)
    trainer = Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "bce", SGD(lr=0.1),
                      schedule=StepLR(step_size=100), batch_size=100, seed=0, verbose=0,
                      callbacks=[script, plateau])
    history = trainer.fit(X, y, epochs=6)
    # no improvement after epoch 1: the wait reaches 2 at the end of epoch 3 → halved from
    # epoch 4 on; again at the end of epoch 5. "lr" is the rate each epoch trained with.
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025])
    assert trainer.lr_factor == pytest.approx(0.25)


def test_step_schedules_count_optimizer_steps():
    from chainrule.optim import ExponentialLR

    X, _, y, _ = circles()
    trainer = Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "bce", SGD(lr=1.0),
                      schedule=ExponentialLR(gamma=0.5, unit="step"), batch_size=400, seed=0,
                      verbose=0)
    history = trainer.fit(X, y, epochs=2)  # 2 steps per epoch: lr of steps 1..4 = 1, .5, .25, .125
    assert history["lr"] == [0.5, 0.125]


def test_ctrl_c_stops_after_the_current_batch_and_returns_the_history():
    X, _, y, _ = circles()
    batches_seen = []

    def interrupt(trainer, epoch, batch, logs):
        batches_seen.append((epoch, batch))
        if (epoch, batch) == (2, 3):
            os.kill(os.getpid(), signal.SIGINT)

    trainer = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", batch_size=50, seed=0,
                      verbose=0, callbacks=[LambdaCallback(on_batch_end=interrupt)])
    history = trainer.fit(X, y, epochs=5)
    assert batches_seen[-1] == (2, 3)
    assert history.interrupted and len(history) == 1
    assert "interrupted" in history.note
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_fit_continues_across_calls():
    X, _, y, _ = circles()
    trainer = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", seed=0, verbose=0)
    trainer.fit(X, y, epochs=2)
    history = trainer.fit(X, y, epochs=3)
    assert history.epochs == [1, 2, 3, 4, 5]


def test_verbose_prints_one_line_per_epoch(capsys):
    X, _, y, _ = circles()
    Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "bce", verbose=2, metrics=["accuracy"],
            seed=0).fit(X, y, epochs=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2 - loss ")
    assert "accuracy" in lines[0]


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda t, X, y: t.fit(X, y[:-1]), ValueError, "same number of samples"),
        (lambda t, X, y: t.fit(np.where(X > 0.9, np.nan, X), y), ValueError, "X must be finite"),
        (lambda t, X, y: t.fit(X, y, epochs=0), ValueError, r"epochs must be in \[1, inf\)"),
        (lambda t, X, y: t.fit(X, y, validation_split=1.5), ValueError, "validation_split"),
        (lambda t, X, y: t.fit(X, y, validation_data=(X, y + 5)), ValueError, "outside the known classes"),
        (lambda t, X, y: t.fit(X, y, validation_data=X), TypeError, "validation_data must be a tuple"),
        (lambda t, X, y: t.fit(X[:, :1], y), cr.ShapeError, r"\(n_samples, 2\)"),
        (lambda t, X, y: t.fit(X, -y[:, None]), ValueError, r"in \[0, 1\]"),
        (lambda t, X, y: t.fit(X, np.array([10**400] * len(y), dtype=object)), ValueError,
         "y holds a number too large for float64"),
        (lambda t, X, y: t.predict(X), RuntimeError, "call fit"),
    ],
)
def test_bad_input_to_fit(call, error, pattern):
    X, _, y, _ = circles()
    trainer = Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "bce", verbose=0, seed=0)
    with pytest.raises(error, match=pattern):
        call(trainer, X, y)
    assert trainer.encoder is None  # a failed first fit learns nothing from its targets


def test_bad_trainer_settings():
    net = cr.mlp([2, 1], output="sigmoid", seed=0)
    with pytest.raises(ValueError, match="unknown metric"):
        Trainer(net, "bce", metrics=["precision"])
    with pytest.raises(ValueError, match="unknown optimizer"):
        Trainer(net, "bce", "adamax")
    with pytest.raises(TypeError, match=r"callbacks\[0\] must be a Callback"):
        Trainer(net, "bce", callbacks=[print])
    with pytest.raises(ValueError, match="batch_size"):
        Trainer(net, "bce", batch_size=0)


def test_batches_cover_every_sample_once_in_a_seeded_order(rng):
    X, y = rng.normal(size=(23, 3)), np.arange(23)
    plain = [yb.copy() for _, yb in batches(X, y, 5, seed=7)]
    reused = [yb.copy() for _, yb in batches(X, y, 5, seed=7, reuse_buffers=True)]
    assert [len(b) for b in plain] == [5, 5, 5, 5, 3]
    for a, b in zip(plain, reused):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.sort(np.concatenate(plain)), np.arange(23))
    for Xb, yb in batches(X, y, 5, seed=7, reuse_buffers=True):
        np.testing.assert_array_equal(Xb, X[yb])
    ordered = list(batches(X, y, 10, shuffle=False))
    assert np.shares_memory(ordered[0][0], X)  # views, no copies
    weights = np.linspace(0, 1, 23)
    for Xb, yb, wb in batches(X, y, 4, seed=0, sample_weight=weights):
        np.testing.assert_array_equal(wb, weights[yb])
