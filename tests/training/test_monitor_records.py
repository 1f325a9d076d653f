"""What the monitor records: per layer and per epoch, plain JSON-able values that are right."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from chainrule.datasets import make_circles
from chainrule.errors import ShapeError
from chainrule.layers.activations import ReLU, Sigmoid, Tanh
from chainrule.layers.builders import mlp
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential
from chainrule.optim import SGD
from chainrule.training.callbacks import LambdaCallback
from chainrule.training.monitor import LAYER_KEYS, GradientMonitor, series
from chainrule.training.trainer import Trainer

X, Y = make_circles(96, noise=0.1, seed=0)


def train(net, monitor, optimizer="adam", epochs=2, batch_size=32):
    trainer = Trainer(net, "binary_cross_entropy", optimizer, batch_size=batch_size, seed=0,
                      verbose=0, callbacks=[monitor])
    trainer.fit(X, Y, epochs=epochs)
    return trainer


def test_records_are_plain_json_with_one_entry_per_layer_and_epoch():
    monitor = GradientMonitor()
    net = mlp([2, 8, 4, 1], activation=["relu", "tanh"], output="sigmoid", seed=0)
    train(net, monitor, epochs=3)
    text = json.dumps(monitor.records, allow_nan=False)  # strict JSON: no NaN, no arrays
    assert json.loads(text) == monitor.records
    assert [record["epoch"] for record in monitor.records] == [1, 2, 3]
    for record in monitor.records:
        assert [layer["label"] for layer in record["layers"]] == [l.label for l in net.layers]
        for layer in record["layers"]:
            assert set(LAYER_KEYS) <= set(layer)
            has_parameters = layer["type"] == "Dense"
            assert (layer["grad_norm"] is not None) == has_parameters
            assert layer["activation_norm"] is not None  # from the last training batch
        assert record["layers"][1]["dead_fraction"] is not None  # ReLU
        assert record["layers"][3]["saturated_fraction"] is not None  # Tanh
        assert record["layers"][5]["saturated_fraction"] is not None  # Sigmoid
        assert record["layers"][0]["dead_fraction"] is None


def test_update_norm_is_the_step_that_sgd_takes():
    """Plain SGD moves the weights by lr · g: ‖ΔW‖ = lr ‖g‖ at every step, so on average too."""
    monitor = GradientMonitor()
    net = mlp([2, 8, 1], output="sigmoid", dtype=np.float64, seed=0)
    trainer = train(net, monitor, optimizer=SGD(lr=0.1))
    for layer in monitor.records[-1]["layers"]:
        if layer["grad_norm"] is not None:
            assert layer["update_norm"] == pytest.approx(0.1 * layer["grad_norm"], rel=1e-9)
            assert 0 < layer["update_ratio"] < 1
    last = monitor.records[-1]["layers"]
    for index in (0, 2):
        W = trainer.net.layers[index].params["W"]
        assert last[index]["weight_norm"] == pytest.approx(np.linalg.norm(W))


def test_grad_norm_is_the_mean_over_the_epochs_steps():
    seen = []

    class Spy(GradientMonitor):
        def on_batch_end(self, trainer, epoch, batch, logs):
            seen.append(np.linalg.norm(trainer.net.layers[0].grads["W"]))
            super().on_batch_end(trainer, epoch, batch, logs)

    monitor = Spy()
    train(mlp([2, 8, 1], output="sigmoid", dtype=np.float64, seed=0), monitor, epochs=1,
          batch_size=40)
    assert len(seen) == 3  # 40 + 40 + 16: the partial batch counts
    assert monitor.records[0]["layers"][0]["grad_norm"] == pytest.approx(np.mean(seen))


def test_dead_relus_and_saturated_units_on_a_probe():
    net = Sequential([Dense(2, 4), ReLU(), Dense(4, 3), Sigmoid(), Dense(3, 2), Tanh(),
                      Dense(2, 1), Sigmoid()], seed=0)
    net.layers[0].params["b"][:2] = -100.0  # units 0 and 1 never fire on this data
    net.layers[2].params["W"][...] = 100.0  # sigmoid inputs far from 0: saturated
    net.layers[2].params["b"][...] = 0.0
    net.layers[4].params["W"][...] = 0.0  # tanh of 0: not saturated at all
    probe = X[:50]
    monitor = GradientMonitor(probe=probe, warn=False)
    train(net, monitor, optimizer=SGD(lr=1e-6), epochs=1)
    layers = monitor.records[0]["layers"]
    assert layers[1]["dead_fraction"] == 0.5
    A1 = np.maximum(probe @ net.layers[0].params["W"] + net.layers[0].params["b"], 0)
    np.testing.assert_allclose(layers[1]["activation_norm"],
                               np.sqrt(np.mean(np.sum(A1**2, axis=1))), rtol=1e-5)
    A3 = 1 / (1 + np.exp(-(A1 @ net.layers[2].params["W"] + net.layers[2].params["b"])))
    saturated = np.mean((A3 < 0.01) | (A3 > 0.99))
    assert saturated >= 0.5 and layers[3]["saturated_fraction"] == pytest.approx(saturated)
    assert layers[5]["saturated_fraction"] < 0.01


def test_the_probe_leaves_the_training_caches_alone():
    monitor = GradientMonitor(probe=X[:10])
    net = mlp([2, 8, 1], output="sigmoid", seed=0)
    seen = {}

    def after_the_monitor(trainer, epoch, logs):
        seen.update({i: net.layers[i].cache[k].shape for i, k in ((0, "X"), (1, "Y"))})

    trainer = Trainer(net, "binary_cross_entropy", batch_size=32, seed=0, verbose=0,
                      callbacks=[monitor, LambdaCallback(on_epoch_end=after_the_monitor)])
    trainer.fit(X, Y, epochs=1)
    # the caches still hold the last training batch (32 rows), not the probe (10 rows)
    assert seen == {0: (32, 2), 1: (32, 8)}
    assert not net.layers[0].cache  # and fit releases them at the end


def test_a_probe_of_the_wrong_width_is_refused():
    monitor = GradientMonitor(probe=np.ones((4, 3)))
    with pytest.raises(ShapeError, match="probe"):
        train(mlp([2, 4, 1], output="sigmoid", seed=0), monitor)


def test_series_per_layer():
    monitor = GradientMonitor()
    train(mlp([2, 4, 1], output="sigmoid", seed=0), monitor, epochs=3)
    grads = monitor.series("grad_norm")
    assert list(grads) == ["Dense #0", "Dense #2"]
    for values in grads.values():
        assert len(values) == 3 and all(math.isfinite(v) for v in values)
    assert list(series(monitor.records, "dead_fraction")) == ["ReLU #1"]
    with pytest.raises(ValueError, match="key"):
        monitor.series("gradient")


def test_the_default_probe_is_the_last_batch_of_the_epoch_even_with_validation():
    """The monitor copies the first rows of every batch out of the reused batch buffer: its
    activation statistics are those of the last training batch's first rows (validation,
    evaluated after it, does not change them)."""
    last = {}

    def keep(trainer, epoch, batch, logs):
        last["X"] = trainer.net.layers[0].cache["X"][:20].copy()

    monitor = GradientMonitor(probe_size=20, warn=False)
    net = mlp([2, 8, 1], output="sigmoid", dtype=np.float64, seed=0)
    trainer = Trainer(net, "binary_cross_entropy", batch_size=30, seed=0, verbose=0,
                      callbacks=[monitor, LambdaCallback(on_batch_end=keep)])
    trainer.fit(X, Y, epochs=1, validation_split=0.25)
    A0 = last["X"] @ net.layers[0].params["W"] + net.layers[0].params["b"]
    expected = np.sqrt(np.mean(np.sum(A0**2, axis=1)))
    assert monitor.records[0]["layers"][0]["activation_norm"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_the_default_probe_is_the_last_trained_batch_when_later_ones_are_skipped(seed):
    """A batch whose sample weights are all zero is drawn into the reused batch buffer and
    skipped without on_batch_end: the probe is still the last batch trained on."""
    last = {}

    def keep(trainer, epoch, batch, logs):
        last["X"] = trainer.net.layers[0].cache["X"].copy()

    monitor = GradientMonitor(warn=False)
    net = mlp([2, 4, 1], output="sigmoid", dtype=np.float64, seed=0)
    trainer = Trainer(net, "binary_cross_entropy", "sgd", batch_size=1, seed=seed, verbose=0,
                      callbacks=[LambdaCallback(on_batch_end=keep), monitor])
    trainer.fit(X[:12], Y[:12], epochs=1, sample_weight=np.array([1.0, 0.0] * 6))
    A0 = last["X"] @ net.layers[0].params["W"] + net.layers[0].params["b"]
    expected = np.sqrt(np.mean(np.sum(A0**2, axis=1)))
    assert monitor.records[0]["layers"][0]["activation_norm"] == pytest.approx(expected, rel=1e-12)


def test_without_a_kept_input_there_are_no_activation_statistics():
    """A first layer that keeps no input (an activation caches its output) leaves no default
    probe: the activation statistics are None, the gradient statistics are still recorded."""
    net = Sequential([Tanh(), Dense(2, 4), ReLU(), Dense(4, 1), Sigmoid()], seed=0)
    monitor = GradientMonitor()
    train(net, monitor, epochs=1)
    for layer in monitor.records[0]["layers"]:
        assert layer["activation_norm"] is None
        assert layer["dead_fraction"] is None and layer["saturated_fraction"] is None
        assert (layer["grad_norm"] is not None) == (layer["type"] == "Dense")


def test_the_monitor_repr_is_its_constructor_call_with_a_probe_summarised():
    monitor = GradientMonitor(probe_size=64, warn=False)
    assert repr(monitor) == ("GradientMonitor(probe=None, probe_size=64, vanishing_ratio=1e-05, "
                             "exploding_ratio=1000.0, saturation_margin=0.01, warn=False)")
    rebuilt = eval(repr(monitor), {"GradientMonitor": GradientMonitor})
    assert repr(rebuilt) == repr(monitor)
    probed = repr(GradientMonitor(probe=np.zeros((500, 2))))
    assert "probe=<float64 array of shape (500, 2)>" in probed and len(probed) < 200
