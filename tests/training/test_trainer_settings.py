"""Trainer: zero-weight batches, one optimizer per network, epoch-wide and task-aware metrics,
metric names, monitors of custom metrics, schedules given by name."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import make_circles
from chainrule.optim import SGD, Adam
from chainrule.training import EarlyStopping, ReduceLROnPlateau, Trainer
from chainrule.training.metrics import multilabel_log_loss, r2_score


def regression(n_samples, seed=0):
    X = np.random.default_rng(seed).normal(size=(n_samples, 3))
    return X, X @ np.array([1.0, 2.0, 3.0])


# ------------------------------------------------------------------ zero sample weights
def test_a_batch_of_zero_weights_is_skipped_like_a_sample_that_is_not_there():
    """With one sample per batch and no shuffling, skipping the zero-weight sample's batch is
    exactly training without that sample: same weights, same epoch losses."""
    X, y = regression(12)
    weights = np.ones(12)
    weights[[0, 7]] = 0.0  # the first batch too: nothing seen yet when it is skipped

    def train(X, y, sample_weight=None):
        net = cr.mlp([3, 4, 1], seed=0)
        history = Trainer(net, "mse", Adam(lr=0.01), batch_size=1, shuffle=False, seed=0,
                          verbose=0).fit(X, y, epochs=3, sample_weight=sample_weight)
        return net.parameters, history["loss"]

    keep = weights > 0
    with_zeros = train(X, y, weights)
    without = train(X[keep], y[keep])
    np.testing.assert_array_equal(with_zeros[0], without[0])
    assert with_zeros[1] == without[1]


@pytest.mark.parametrize("zero_rows, part", [(slice(None, 40), "training"),
                                             (slice(40, None), "validation")])
def test_a_split_part_whose_weights_are_all_zero_is_refused(monkeypatch, zero_rows, part):
    from chainrule.training import trainer as trainer_module

    X, y = regression(50)
    trainer = Trainer(cr.mlp([3, 4, 1], seed=0), "mse", seed=0, verbose=0)
    monkeypatch.setattr(trainer_module, "split_indices",  # rows 0-39 train, 40-49 validate
                        lambda n_samples, size, **kwargs: (np.arange(40), np.arange(40, 50)))
    weights = np.ones(50)
    weights[zero_rows] = 0.0
    with pytest.raises(ValueError, match=rf"sample_weight is zero on every sample of the {part} "
                                         r"part of validation_split=0.2"):
        trainer.fit(X, y, epochs=1, validation_split=0.2, sample_weight=weights)
    assert trainer.epoch == 0


# ------------------------------------------------------------------ one optimizer, one network
def test_an_optimizer_bound_to_another_network_is_refused():
    optimizer = Adam(lr=0.01)
    first = cr.mlp([3, 4, 1], seed=0)
    Trainer(first, "mse", optimizer, verbose=0)
    with pytest.raises(ValueError, match=r"^optimizer Adam is already bound to another network's "
                                         r"parameters \(21 of them; another Trainer's\?\)"):
        Trainer(cr.mlp([3, 4, 1], seed=1), "mse", optimizer, verbose=0)
    X, y = regression(20)
    start = first.parameters.copy()
    Trainer(first, "mse", optimizer, verbose=0).fit(X, y, epochs=1)  # its own network again
    assert not np.array_equal(first.parameters, start)


def test_a_second_trainer_of_the_same_network_keeps_the_optimizers_state():
    """As with a PyTorch optimizer reused in a second loop: the moments and the step count
    carry on (binding again would have zeroed them, restarting Adam's bias correction)."""
    X, y = regression(20)
    net = cr.mlp([3, 4, 1], seed=0)
    optimizer = Adam(lr=0.01)
    Trainer(net, "mse", optimizer, batch_size=5, verbose=0).fit(X, y, epochs=1)
    state = optimizer.state_dict()
    assert state["step"] == 4 and np.any(state["scaled_exp_avg"])
    second = Trainer(net, "mse", optimizer, batch_size=5, verbose=0)
    assert second.optimizer is optimizer and optimizer.n_steps == 4
    np.testing.assert_array_equal(optimizer.state_dict()["scaled_exp_avg"],
                                  state["scaled_exp_avg"])
    second.fit(X, y, epochs=1)
    assert optimizer.n_steps == 8


# ------------------------------------------------------------------ training metrics
def test_training_metrics_are_computed_over_the_whole_epoch():
    """R² of an epoch is not the mean of its batches' R²: with a learning rate so small that
    the network does not change, the logged value is R² over all outputs of the epoch."""
    X, y = regression(33)  # batches of 8 and a last one of 1: its own R² does not exist
    net = cr.mlp([3, 4, 1], seed=0, dtype=np.float64)
    trainer = Trainer(net, "mse", SGD(lr=1e-300), batch_size=8, seed=0, verbose=0,
                      metrics=["r2", "mse"])
    history = trainer.fit(X, y, epochs=1)
    outputs = net.forward(X)
    assert history["r2"][0] == pytest.approx(r2_score(y, outputs), rel=1e-12)
    assert history["mse"][0] == pytest.approx(history["loss"][0], rel=1e-12)
    batch_mean = np.mean([r2_score(y[i:i + 8], outputs[i:i + 8]) for i in range(0, 32, 8)])
    assert abs(history["r2"][0] - batch_mean) > 1e-3  # what averaging batches would give


@pytest.mark.parametrize("validation_split, n_samples, part, size",
                         [(None, 1, "training", 1), (0.05, 20, "validation", 1)])
def test_r2_on_a_set_of_one_sample_is_refused_before_training(validation_split, n_samples,
                                                              part, size):
    X, y = regression(n_samples)
    trainer = Trainer(cr.mlp([3, 4, 1], seed=0), "mse", seed=0, verbose=0, metrics=["r2"])
    with pytest.raises(ValueError, match=rf"^metric 'r2' needs at least 2 samples, but the "
                                         rf"{part} set has {size}; "):
        trainer.fit(X, y, epochs=1, validation_split=validation_split)
    assert trainer.epoch == 0 and len(trainer.history) == 0


def test_r2_on_one_sample_of_positive_weight_is_refused_before_training():
    # with batches of one, the zero-weight samples are skipped: R² would see a single sample
    X, y = regression(4)
    trainer = Trainer(cr.mlp([3, 4, 1], seed=0), "mse", seed=0, verbose=0, metrics=["r2"],
                      batch_size=1)
    with pytest.raises(ValueError, match=r"^metric 'r2' needs at least 2 samples, but the "
                                         r"training set has 1 of positive weight; "):
        trainer.fit(X, y, epochs=1, sample_weight=[1.0, 0.0, 0.0, 0.0])
    assert trainer.epoch == 0 and trainer.optimizer.n_steps == 0


@pytest.mark.parametrize(
    "sizes, output, loss, targets, metric, refusal",
    [
        ([3, 4, 1], "identity", "mse", lambda X: X[:, 0], "accuracy",
         (r"'accuracy' is a classification metric, but this trainer does regression "
          r"\(loss MSE\); use 'mae', 'mse' or 'r2'")),
        ([3, 4, 2], "softmax", "cross_entropy", lambda X: X[:, 0] > 0, "r2",
         (r"'r2' is a regression metric, but this trainer does multiclass classification "
          r"\(loss CrossEntropy\); use 'accuracy' or 'log_loss'")),
        ([3, 4, 2], "softmax", "cross_entropy", lambda X: X[:, 0] > 0, "mae",
         "'mae' is a regression metric, but this trainer does multiclass classification"),
        ([3, 4, 1], "sigmoid", "bce", lambda X: X[:, 0] > 0, "mean_squared_error",
         ("'mean_squared_error' is a regression metric, but this trainer does binary "
          "classification")),
        ([3, 4, 2], "sigmoid", "bce", lambda X: X[:, :2] > 0, "r2",
         "'r2' is a regression metric, but this trainer does multilabel classification"),
    ],
    ids=["accuracy-regression", "r2-multiclass", "mae-multiclass", "mse-binary", "r2-multilabel"],
)
def test_a_metric_of_the_other_task_is_refused_before_training(sizes, output, loss, targets,
                                                               metric, refusal):
    X, _ = regression(20)
    trainer = Trainer(cr.mlp(sizes, output=output, seed=0), loss, seed=0, verbose=0,
                      metrics=[metric])
    start = trainer.net.parameters.copy()
    with pytest.raises(ValueError, match=rf"^metrics: {refusal}"):
        trainer.fit(X, targets(X), epochs=1)
    assert trainer.optimizer.n_steps == 0 and trainer.encoder is None
    np.testing.assert_array_equal(trainer.net.parameters, start)


def test_a_metric_function_of_ones_own_is_not_checked_against_the_task():
    X, y = regression(20)

    def hits(y_true, y_pred):  # a classification measure on regression outputs
        return float(np.mean(np.sign(y_true) == np.sign(y_pred)))

    trainer = Trainer(cr.mlp([3, 4, 1], seed=0), "mse", seed=0, verbose=0, metrics=[hits])
    assert len(trainer.fit(X, y, epochs=1)["hits"]) == 1


def test_multilabel_accuracy_and_log_loss_are_computed_per_label():
    Y = np.array([[1, 0, 1], [0, 1, 1], [0, 0, 0], [1, 1, 0]] * 5)
    X = 2.0 * Y - 1.0
    net = cr.Sequential([cr.Dense(3, 3), cr.Sigmoid()], seed=0, dtype=np.float64)
    trainer = Trainer(net, "bce", SGD(lr=1e-300), seed=0, verbose=0,
                      metrics=["accuracy", "log_loss"])
    trainer.fit(X, Y, epochs=1)
    net.layers[0].params["W"][...] = np.diag([10.0, 20.0, 30.0])  # every label right
    net.layers[0].params["b"][...] = 0.0
    scores = trainer.evaluate(X, Y)
    assert scores["accuracy"] == 1.0
    assert scores["log_loss"] == pytest.approx(multilabel_log_loss(Y, net.forward(X)), rel=1e-12)
    assert scores["log_loss"] == pytest.approx(3 * scores["loss"], rel=1e-9)  # Σ over 3 labels


# ------------------------------------------------------------------ metric names
def loss(y_true, y_pred):
    return -1.0


def val_gap(y_true, y_pred):
    return 0.0


def epoch(y_true, y_pred):  # would overwrite the epoch numbers of History.as_dict (checkpoints)
    return 0.5


def note(y_true, y_pred):
    return 0.5


@pytest.mark.parametrize(
    "metrics, clash",
    [([lambda t, p: 0.0, lambda t, p: 1.0], "another metric"),
     (["mse", "mse"], "another metric"),
     ([loss], "a quantity fit logs or a field of the history"),
     ([epoch], "a quantity fit logs or a field of the history"),
     ([note], "a quantity fit logs or a field of the history"),
     ([val_gap], r"a validation quantity \(val_ prefix\)")],
    ids=["two-lambdas", "a-name-twice", "named-loss", "named-epoch", "named-note", "val-prefix"],
)
def test_metric_names_must_be_distinct_and_not_taken(metrics, clash):
    with pytest.raises(ValueError, match=rf"^metrics: the name '.+' is taken by {clash}; "):
        Trainer(cr.mlp([3, 4, 1], seed=0), "mse", verbose=0, metrics=metrics)


# ------------------------------------------------------------------ monitors of custom metrics
def f1(y_true, y_pred):
    predicted = y_pred.reshape(-1) >= 0.5
    true = y_true.reshape(-1) == 1
    return float(2 * np.sum(predicted & true) / max(np.sum(predicted) + np.sum(true), 1))


@pytest.mark.parametrize("make", [lambda mode: EarlyStopping("val_f1", patience=2, mode=mode),
                                  lambda mode: ReduceLROnPlateau("val_f1", mode=mode)],
                         ids=["early-stopping", "reduce-lr"])
def test_a_custom_metric_monitor_needs_a_mode(make):
    X, y = make_circles(100, seed=0)

    def trainer(mode):
        return Trainer(cr.mlp([2, 8, 1], output="sigmoid", seed=0), "bce", seed=0, verbose=0,
                       metrics=[f1], callbacks=[make(mode)])

    auto = trainer("auto")
    with pytest.raises(ValueError, match=r"monitors 'val_f1', a metric of your own: mode='auto' "
                                         r"cannot tell whether larger is better; give mode='max'"):
        auto.fit(X, y, epochs=3, validation_split=0.2)
    assert auto.epoch == 0  # refused before training
    assert len(trainer("max").fit(X, y, epochs=3, validation_split=0.2)) == 3


@pytest.mark.parametrize("monitor", ["lr", "seconds"])
def test_monitoring_lr_or_seconds_with_mode_auto_is_not_called_a_metric(monitor):
    X, y = make_circles(40, seed=0)
    trainer = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", seed=0, verbose=0,
                      callbacks=[EarlyStopping(monitor=monitor)])
    with pytest.raises(ValueError, match=rf"monitors '{monitor}', not a metric: mode='auto' "):
        trainer.fit(X, y, epochs=1)


# ------------------------------------------------------------------ schedules by name
@pytest.mark.parametrize("schedule, cls, keys",
                         [("cosine", "CosineLR", "'t_max'"), ({"name": "step"}, "StepLR",
                                                              "'step_size'")])
def test_a_schedule_without_its_required_settings_names_them(schedule, cls, keys):
    with pytest.raises(TypeError, match=rf"^{cls} config needs the key\(s\) \[{keys}\], e\.g\. "
                                        rf"\{{'name': '\w+', {keys}: \.\.\.\}}$"):
        Trainer(cr.mlp([3, 4, 1], seed=0), "mse", verbose=0, schedule=schedule)
