"""Trainer features used together: what the fourth review found (one test per defect)."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import chainrule as cr
from chainrule.training import EarlyStopping, LambdaCallback, ReduceLROnPlateau
from chainrule.training.checkpoint import ModelCheckpoint, checkpoint_network, load_checkpoint
from chainrule.training.epoch_loss import EpochLoss
from chainrule.training.monitor import GradientMonitor


def binary_data(n=40):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] > 0).astype(int)


def binary_trainer(optimizer=None, **options):
    net = cr.mlp([3, 4, 1], output="sigmoid", dtype=np.float64, seed=0)
    options.setdefault("verbose", 0)
    options.setdefault("seed", 0)
    return cr.Trainer(net, "bce", optimizer or cr.SGD(0.1), **options)


def interrupt_at(when):
    """A callback sending Ctrl-C at (epoch, batch) from on_batch_end."""

    def hook(trainer, epoch, batch, logs):
        if (epoch, batch) == when:
            os.kill(os.getpid(), signal.SIGINT)

    return LambdaCallback(on_batch_end=hook)


# ---------------------------------------------------------------- a metric returning no number
@pytest.mark.parametrize("result", [np.array([0.5, 0.25]), None, "0.5", 1 + 2j])
def test_a_metric_returning_no_number_is_named_and_nothing_is_recorded(result):
    X, y = binary_data()

    def odd_metric(y_true, y_prob):
        return result

    trainer = binary_trainer(metrics=["accuracy", odd_metric])
    with pytest.raises(TypeError, match="metric 'odd_metric' must return one number, got "):
        trainer.fit(X, y, epochs=2, validation_split=0.2)
    assert trainer.epoch == 0 and len(trainer.history) == 0
    assert all(len(values) == 0 for values in trainer.history.history.values())
    assert all(layer.cache == {} for layer in trainer.net.layers)  # released on the error


def test_a_metric_returning_a_numpy_scalar_or_0d_array_is_accepted():
    X, y = binary_data()

    def zero_d(y_true, y_prob):
        return np.array(0.5)

    def scalar(y_true, y_prob):
        return np.float32(0.25)

    history = binary_trainer(metrics=[zero_d, scalar]).fit(X, y, epochs=1)
    assert history["zero_d"] == [0.5] and history["scalar"] == [0.25]


def test_history_record_is_all_or_nothing():
    history = cr.training.History()
    history.record(1, {"loss": 1.0})
    with pytest.raises(TypeError):
        history.record(2, {"loss": 0.5, "bad": None})
    assert history.epochs == [1] and history.history == {"loss": [1.0]}


# ---------------------------------------------------------------- the epoch's training loss
@pytest.mark.parametrize("batch_size", [1, 8, 40, 64])
def test_weighted_epoch_loss_equals_evaluate_at_fixed_weights(batch_size):
    X, y = binary_data()
    w = np.where(y == 1, 10.0, 1.0)
    w[3] = 0.0
    net = cr.Sequential([cr.Dense(3, 4, l2=0.3), cr.Tanh(), cr.Dense(4, 1), cr.Sigmoid()],
                        dtype=np.float64, seed=0)
    trainer = cr.Trainer(net, "bce", cr.SGD(1e-300), batch_size=batch_size, seed=0, verbose=0)
    history = trainer.fit(X, y, epochs=1, sample_weight=w, validation_data=(X, y, w))
    expected = trainer.evaluate(X, y, w)["loss"]
    assert history["loss"][0] == pytest.approx(expected, rel=1e-12)
    assert history["val_loss"][0] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("batch_size", [1, 8, 40])
def test_summed_epoch_loss_equals_evaluate_at_fixed_weights(batch_size):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -2.0, 0.5]) + 3.0
    net = cr.Sequential([cr.Dense(3, 4, l1=0.1), cr.ReLU(), cr.Dense(4, 1)], dtype=np.float64,
                        seed=0)
    trainer = cr.Trainer(net, cr.losses.MSE(reduction="sum"), cr.SGD(1e-300),
                         batch_size=batch_size, seed=0, verbose=0)
    history = trainer.fit(X, y, epochs=1)
    assert history["loss"][0] == pytest.approx(trainer.evaluate(X, y)["loss"], rel=1e-12)


def test_epoch_loss_formulas():
    mean = EpochLoss("mean")
    assert mean.value is None
    mean.add(1.5, 0.5, weight=3)   # data 1, penalty 0.5
    mean.add(2.7, 0.7, weight=1)   # data 2, penalty 0.7
    assert mean.value == pytest.approx((3 * 1.5 + 2.7) / 4)
    summed = EpochLoss("sum")
    summed.add(10.5, 0.5, weight=3)
    summed.add(20.7, 0.7, weight=1)
    assert summed.value == pytest.approx(30 + (3 * 0.5 + 0.7) / 4)


# ---------------------------------------------------------------- callback order
def test_a_checkpoint_holds_the_learning_rate_a_plateau_reduced_that_epoch(tmp_path):
    X, y = binary_data()
    path = tmp_path / "ck.safetensors"
    plateau = ReduceLROnPlateau("loss", patience=0, min_delta=100.0, factor=0.5)
    trainer = binary_trainer(callbacks=[ModelCheckpoint(path), plateau])
    trainer.fit(X, y, epochs=3)
    assert trainer.lr_factor == 0.25  # reduced at epochs 2 and 3
    resumed = binary_trainer()
    load_checkpoint(resumed, path)
    assert resumed.lr_factor == trainer.lr_factor
    assert resumed.optimizer.lr == trainer.optimizer.lr


def test_an_interrupted_checkpoint_holds_that_moment_before_early_stopping_restores(tmp_path):
    X, y = binary_data()
    path = tmp_path / "ck.safetensors"
    moment = {}

    def remember(trainer, epoch, batch, logs):
        if (epoch, batch) == (3, 1):
            moment["weights"] = trainer.net.parameters.copy()
            os.kill(os.getpid(), signal.SIGINT)

    stopping = EarlyStopping("loss", patience=10, restore_best=True, mode="max")  # best: epoch 1
    trainer = binary_trainer(batch_size=8, callbacks=[
        LambdaCallback(on_batch_end=remember), stopping, ModelCheckpoint(path)])
    history = trainer.fit(X, y, epochs=5)
    assert history.interrupted and len(history) == 2
    np.testing.assert_array_equal(checkpoint_network(path).parameters, moment["weights"])
    assert not np.array_equal(trainer.net.parameters, moment["weights"])  # restored afterwards


def test_callbacks_run_in_list_order_with_savers_last_then_first():
    calls = []

    class Saver(cr.training.Callback):
        saves_state = True

        def on_epoch_end(self, trainer, epoch, logs):
            calls.append(("saver", "epoch_end"))

        def on_train_end(self, trainer, logs):
            calls.append(("saver", "train_end"))

    def other(name):
        return LambdaCallback(on_epoch_end=lambda t, e, logs: calls.append((name, "epoch_end")),
                              on_train_end=lambda t, logs: calls.append((name, "train_end")))

    X, y = binary_data()
    binary_trainer(callbacks=[Saver(), other("a"), other("b")]).fit(X, y, epochs=1)
    assert calls == [("a", "epoch_end"), ("b", "epoch_end"), ("saver", "epoch_end"),
                     ("saver", "train_end"), ("a", "train_end"), ("b", "train_end")]


# ---------------------------------------------------------------- a refused fit learns no classes
def test_a_fit_a_callback_refuses_keeps_no_classes():
    X, y = binary_data()
    trainer = binary_trainer(callbacks=[EarlyStopping("val_loss")])
    with pytest.raises(ValueError, match="monitors 'val_loss'"):
        trainer.fit(X, np.where(y, "yes", "no"))
    assert trainer.encoder is None
    trainer.fit(X, y, epochs=1, validation_split=0.2)  # integer labels now
    assert list(trainer.encoder.classes) == [0, 1]


# ---------------------------------------------------------------- EarlyStopping's note
def test_early_stopping_never_finite_does_not_claim_a_restore():
    X, y = binary_data()

    def never(y_true, y_prob):
        return float("nan")

    stopping = EarlyStopping("never", patience=1, mode="min", restore_best=True)
    trainer = binary_trainer(metrics=[never], callbacks=[stopping])
    history = trainer.fit(X, y, epochs=5)
    assert history.stopped_early
    assert "never was never finite" not in history.note  # the monitor's name, then the reason
    assert "it was never finite" in history.note and "restored" not in history.note


# ---------------------------------------------------------------- Ctrl-C reporting
def test_on_train_end_gets_the_last_completed_epochs_logs_after_a_mid_epoch_interrupt():
    X, y = binary_data()
    seen = {}
    ending = LambdaCallback(on_train_end=lambda t, logs: seen.update(logs=dict(logs)))
    trainer = binary_trainer(batch_size=8, callbacks=[interrupt_at((3, 2)), ending])
    history = trainer.fit(X, y, epochs=5)
    assert history.interrupted and len(history) == 2
    assert seen["logs"]["loss"] == history["loss"][-1]
    assert trainer.epoch_in_progress
    assert "during epoch 3;" in history.note


def test_ctrl_c_between_epochs_is_reported_after_the_epoch(tmp_path):
    X, y = binary_data()
    path = tmp_path / "ck.safetensors"

    def at_epoch_end(trainer, epoch, logs):
        if epoch == 2:
            os.kill(os.getpid(), signal.SIGINT)

    checkpoint = ModelCheckpoint(path)
    trainer = binary_trainer(callbacks=[LambdaCallback(on_epoch_end=at_epoch_end), checkpoint])
    history = trainer.fit(X, y, epochs=5)
    assert history.interrupted and len(history) == 2
    assert "after epoch 2;" in history.note and "during" not in history.note
    assert not trainer.epoch_in_progress
    assert checkpoint.saved_epochs == [1, 2]
    resumed = binary_trainer()
    load_checkpoint(resumed, path)
    assert resumed.epoch == 2  # a whole epoch, not a partial one to repeat


# ---------------------------------------------------------------- GradientMonitor's lr
@pytest.mark.parametrize("monitor_first", [False, True])
def test_gradient_monitor_records_the_epochs_learning_rate_whatever_the_order(monitor_first):
    X, y = binary_data()
    monitor = GradientMonitor()
    plateau = ReduceLROnPlateau("loss", patience=0, min_delta=100.0, factor=0.1)
    callbacks = [monitor, plateau] if monitor_first else [plateau, monitor]
    trainer = binary_trainer(callbacks=callbacks)
    history = trainer.fit(X, y, epochs=3)
    assert [record["lr"] for record in monitor.records] == history["lr"]

