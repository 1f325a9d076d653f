"""The monitor flags vanishing gradients in a badly initialised deep sigmoid network, exploding
gradients under a too-large learning rate, and nothing in a healthy run."""

from __future__ import annotations

import warnings

import pytest

from chainrule.datasets import make_circles, make_regression
from chainrule.errors import TrainingDivergedError
from chainrule.layers.builders import mlp
from chainrule.optim import SGD
from chainrule.training.callbacks import LambdaCallback
from chainrule.training.monitor import GradientMonitor, GradientWarning
from chainrule.training.trainer import Trainer


def circles():
    return make_circles(200, noise=0.1, seed=0)


def fit(net, loss, optimizer, X, y, epochs, monitor):
    trainer = Trainer(net, loss, optimizer, batch_size=32, seed=0, verbose=0, callbacks=[monitor])
    return trainer.fit(X, y, epochs=epochs)


def test_a_deep_sigmoid_network_with_small_weights_is_vanishing():
    X, y = circles()
    net = mlp([2, 16, 16, 16, 16, 16, 1], activation="sigmoid", output="sigmoid",
              init={"name": "small_normal", "std": 0.01}, seed=0)
    monitor = GradientMonitor()
    with pytest.warns(GradientWarning, match="vanishing") as caught:
        fit(net, "binary_cross_entropy", SGD(lr=0.1), X, y, 3, monitor)
    messages = [str(w.message) for w in caught if issubclass(w.category, GradientWarning)]
    assert len(messages) == 1  # once, although every epoch is vanishing
    assert "Dense #0" in messages[0]
    assert "He/Glorot initialisation, ReLU, or fewer layers" in messages[0]
    assert [(a["kind"], a["epoch"]) for a in monitor.alerts] == [("vanishing", 1)]
    first, last = monitor.records[0]["layers"][0], monitor.records[0]["layers"][10]
    assert first["grad_norm"] / last["grad_norm"] < 1e-5


def test_a_too_large_learning_rate_is_exploding_before_training_diverges():
    X, y = make_regression(200, n_features=5, noise=0.1, seed=0)
    net = mlp([5, 16, 16, 1], activation="tanh", seed=0)
    monitor = GradientMonitor()
    with (
        pytest.warns(GradientWarning, match="exploding") as caught,
        pytest.raises(TrainingDivergedError) as diverged,
    ):
        fit(net, "mse", SGD(lr=1.0), X, y, 10, monitor)
    messages = [str(w.message) for w in caught if issubclass(w.category, GradientWarning)]
    assert len(messages) == 1
    assert "lower the learning rate (now 1)" in messages[0] and "clip" in messages[0]
    alert = next(a for a in monitor.alerts if a["kind"] == "exploding")
    error = diverged.value
    assert (alert["epoch"], alert["batch"]) < (error.epoch, error.batch)


def test_a_healthy_run_raises_no_alert():
    X, y = circles()
    monitor = GradientMonitor()
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)
        fit(mlp([2, 16, 16, 1], output="sigmoid", seed=0), "binary_cross_entropy", "adam",
            X, y, 5, monitor)
    assert monitor.alerts == []
    assert len(monitor.records) == 5


def test_warn_false_still_records_the_alerts():
    X, y = circles()
    net = mlp([2, 16, 16, 16, 16, 16, 1], activation="sigmoid", output="sigmoid",
              init={"name": "small_normal", "std": 0.01}, seed=0)
    monitor = GradientMonitor(warn=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)
        fit(net, "binary_cross_entropy", SGD(lr=0.1), X, y, 1, monitor)
    assert monitor.detected("vanishing") and not monitor.detected("exploding")


def test_the_thresholds_are_settings():
    X, y = circles()
    net = mlp([2, 16, 16, 1], output="sigmoid", seed=0)
    monitor = GradientMonitor(vanishing_ratio=0.999999, warn=False)
    fit(net, "binary_cross_entropy", "adam", X, y, 1, monitor)
    assert monitor.detected("vanishing")  # any first layer with a smaller gradient
    for kwargs, name in [({"vanishing_ratio": 0}, "vanishing_ratio"),
                         ({"exploding_ratio": 1}, "exploding_ratio"),
                         ({"saturation_margin": 0.5}, "saturation_margin"),
                         ({"probe_size": 0}, "probe_size")]:
        with pytest.raises(ValueError, match=name):
            GradientMonitor(**kwargs)


def test_a_gradient_that_is_not_finite_is_exploding():
    """An overflowed gradient (simulated here after the optimizer's step, so that training goes
    on) is flagged at once, before any reference norm is needed."""

    def overflow(trainer, epoch, batch, logs):
        if (epoch, batch) == (1, 2):
            trainer.net.gradients[0] = float("inf")

    X, y = circles()
    monitor = GradientMonitor(warn=False)
    trainer = Trainer(mlp([2, 8, 1], output="sigmoid", seed=0), "binary_cross_entropy", "adam",
                      batch_size=32, seed=0, verbose=0,
                      callbacks=[LambdaCallback(on_batch_end=overflow), monitor])
    trainer.fit(X, y, epochs=1)
    assert [(a["kind"], a["epoch"], a["batch"]) for a in monitor.alerts] == [("exploding", 1, 2)]
    assert monitor.alerts[0]["message"].startswith(
        "exploding gradients at epoch 1, batch 2: the gradient is not finite; lower the "
        "learning rate (now 0.001)")
    assert monitor.records[0]["grad_norm"] is None  # the epoch's mean is not finite: None in JSON


def test_dead_relus_are_not_mistaken_for_vanishing_gradients():
    """Every ReLU unit dead: the last layer's weight gradient is exactly 0, so there is no ratio
    to compare (the rule needs the last layer's norm > 0)."""
    X, y = circles()
    net = mlp([2, 4, 1], output="sigmoid", seed=0)
    net.layers[0].params["b"][...] = -100.0
    monitor = GradientMonitor()
    with warnings.catch_warnings():
        warnings.simplefilter("error", GradientWarning)
        fit(net, "binary_cross_entropy", "adam", X, y, 1, monitor)
    layers = monitor.records[0]["layers"]
    assert layers[0]["grad_norm"] == layers[2]["grad_norm"] == 0.0
    assert layers[1]["dead_fraction"] == 1.0
    assert monitor.alerts == []
