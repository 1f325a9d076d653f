"""Trainer: the loop, reproducibility, divergence, validation, callbacks, predictions."""

from __future__ import annotations

import os
import pickle
import re
import signal

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import make_blobs, make_circles
from chainrule.errors import MonitorNotLoggedError
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


def test_the_divergence_error_survives_pickling_and_copying():
    """A fit in a worker process (a process pool, scikit-learn's n_jobs) sends its error back
    to the parent pickled: it must arrive whole, with its attributes."""
    import copy

    error = cr.TrainingDivergedError("loss became nan", epoch=3, batch=2, loss=float("nan"))
    for clone in (pickle.loads(pickle.dumps(error)), copy.copy(error), copy.deepcopy(error)):
        assert type(clone) is cr.TrainingDivergedError
        assert str(clone) == "loss became nan"
        assert (clone.epoch, clone.batch) == (3, 2) and np.isnan(clone.loss)


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


def test_validation_split_indices_are_stratified(spy_on_split):
    from chainrule.training import trainer as trainer_module

    seen = spy_on_split(trainer_module, "split_indices")
    X, y = make_blobs(100, centers=2, seed=0)
    Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "bce", verbose=0, seed=0).fit(
        X, y, epochs=1, validation_split=0.3)
    np.testing.assert_array_equal(seen["stratify"], y)
    assert (seen["name"], seen["part"]) == ("validation_split", "validation")


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


@pytest.mark.parametrize("fit_shape", [(-1,), (-1, 1)])
def test_one_output_regression_scores_targets_of_either_shape(rng, fit_shape):
    # (n,) and (n, 1) are the same targets of one output, whichever form fit had
    X = rng.normal(size=(40, 3))
    y = X @ np.array([1.0, -1.0, 0.5])
    trainer = Trainer(cr.mlp([3, 1], seed=0), "mse", "adam", seed=0, verbose=0, metrics=["r2"])
    trainer.fit(X, y.reshape(fit_shape), epochs=2)
    scores = trainer.evaluate(X, y)
    assert trainer.evaluate(X, y.reshape(-1, 1)) == scores
    assert trainer.predict(X).shape == (40, 1)[:len(fit_shape)]  # the training form
    with pytest.raises(cr.ShapeError, match=r"y of shape \(40, 2\) has 2 regression targets per "
                                         "sample, but the network has 1 outputs"):
        trainer.evaluate(X, np.column_stack([y, y]))
    two = Trainer(cr.mlp([3, 2], seed=0), "mse", "adam", seed=0, verbose=0)
    two.fit(X, np.column_stack([y, y]), epochs=1)
    with pytest.raises(cr.ShapeError, match=r"y must be 2-D like the training targets, got shape "
                                         r"\(40,\)"):
        two.evaluate(X, y)


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
    with pytest.raises(MonitorNotLoggedError, match="validation_data or validation_split") as caught:
        trainer.fit(X, y, epochs=1)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.who, error.monitor, error.logged) == ("EarlyStopping", "val_loss",
                                                       ("loss", "lr", "seconds"))
    advised = error.advised("use early_stopping=True")
    assert str(advised).endswith("it logs ['loss', 'lr', 'seconds'] (use early_stopping=True)")
    assert str(pickle.loads(pickle.dumps(advised))) == str(advised)


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


@pytest.mark.parametrize("unit", ["step", "epoch"])
def test_a_new_trainer_sharing_the_optimizer_continues_its_steps_and_restarts_its_epochs(unit):
    """As the docstrings say: a step schedule follows the optimizer's step count, which
    carries over; an epoch schedule follows the Trainer's own epochs, which start at 0 (its
    warm-up again), and so does lr_factor (ReduceLROnPlateau's reductions)."""
    from chainrule.optim import CosineLR

    X, _, y, _ = circles()
    t_max = {"step": 40, "epoch": 10}[unit]

    def make(net, optimizer, callbacks=()):
        return Trainer(net, "bce", optimizer, schedule=CosineLR(t_max, warmup=t_max // 5, unit=unit),
                       batch_size=200, seed=0, verbose=0, callbacks=list(callbacks))

    net, optimizer = cr.mlp([2, 4, 1], output="sigmoid", seed=0), Adam(0.01)
    first = make(net, optimizer, [ReduceLROnPlateau("loss", patience=1, min_delta=10.0)])
    first.fit(X, y, epochs=5)
    assert first.lr_factor < 1
    second = make(net, optimizer)
    second.fit(X, y, epochs=5)
    assert second.epoch == 5 and second.lr_factor == 1.0 and optimizer.n_steps == 40
    one = make(cr.mlp([2, 4, 1], output="sigmoid", seed=0), Adam(0.01))
    one.fit(X, y, epochs=10)
    schedule = CosineLR(t_max, warmup=t_max // 5, unit=unit)
    if unit == "step":  # steps 21..40 of the same schedule: the second half of one run's
        assert second.history["lr"] == pytest.approx(one.history["lr"][5:])
    else:  # epochs 0..4 again, warm-up included
        assert second.history["lr"] == pytest.approx([schedule(t, 0.01) for t in range(5)])
        assert second.history["lr"] != pytest.approx(one.history["lr"][5:])


def test_ctrl_c_stops_after_the_current_batch_and_returns_the_history():
    X, _, y, _ = circles()
    batches_seen = []

    def interrupt(trainer, epoch, batch, logs):
        batches_seen.append((epoch, batch))
        if (epoch, batch) == (2, 3):
            os.kill(os.getpid(), signal.SIGINT)

    trainer = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", batch_size=50, seed=0,
                      verbose=0, callbacks=[LambdaCallback(on_batch_end=interrupt)])
    before = signal.getsignal(signal.SIGINT)  # SIG_IGN in a background job, else Python's
    history = trainer.fit(X, y, epochs=5)
    assert batches_seen[-1] == (2, 3)
    assert history.interrupted and len(history) == 1
    assert "interrupted" in history.note
    assert signal.getsignal(signal.SIGINT) is before  # restored


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
        (lambda t, X, y: t.predict(X), cr.NotBuiltError, "call fit.*the classes are learnt"),
        (lambda t, X, y: t.fit(X, y, validation_data=(X, y), validation_split=0.2), ValueError,
         "give validation_data or validation_split, not both"),
        (lambda t, X, y: t.fit(X, y * 1j), TypeError,
         r"y must hold numbers or strings, got dtype complex128"),
    ],
)
def test_bad_input_to_fit(call, error, pattern):
    X, _, y, _ = circles()
    trainer = Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "bce", verbose=0, seed=0)
    with pytest.raises(error, match=pattern):
        call(trainer, X, y)
    assert trainer.encoder is None  # a failed first fit learns nothing from its targets


@pytest.mark.parametrize("what", ["predict", "predict_proba", "evaluate"])
def test_a_regression_trainer_before_fit_speaks_of_the_shape_of_y_not_classes(what):
    X, y = np.zeros((4, 2)), np.zeros(4)
    trainer = Trainer(cr.mlp([2, 1], seed=0), "mse", verbose=0)
    call = getattr(trainer, what)
    with pytest.raises(cr.NotBuiltError, match=rf"call fit\(\) before {what}\(\): the "
                       r"predictions take the shape of fit's y") as caught:
        call(X) if what != "evaluate" else call(X, y)
    assert "classes" not in str(caught.value)


@pytest.mark.parametrize("validation_data, received", [
    ("X", "got ndarray of shape (800, 2)"),
    ("XXyy", "got a tuple of 4 items"),
    ("[X]", "got a list of 1 item"),
    (5, "got int"),
])
def test_a_validation_data_that_is_not_a_pair_or_triple_says_what_it_got(validation_data,
                                                                         received):
    X, X_val, y, y_val = circles()
    value = {"X": X, "XXyy": (X, X_val, y, y_val), "[X]": [X]}.get(validation_data,
                                                                  validation_data)
    trainer = Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "bce", verbose=0, seed=0)
    with pytest.raises(TypeError, match="^" + re.escape(
            "validation_data must be a tuple (X_val, y_val) or (X_val, y_val, sample_weight), "
            f"{received}") + "$"):
        trainer.fit(X, y, validation_data=value)


def test_a_validation_split_that_cannot_be_stratified_names_validation_split():
    y = np.repeat(np.arange(10), 5)  # 10 classes of 5 samples
    X = np.random.default_rng(0).normal(size=(50, 3))
    trainer = Trainer(cr.mlp([3, 10], output="softmax", seed=0), "cross_entropy", verbose=0,
                      seed=0)
    with pytest.raises(ValueError, match="^" + re.escape(
            "validation_split=0.1 puts 5 of 50 samples in the validation part, but a split "
            "stratified by class needs 10 to 40 there (one sample of each of the 10 classes "
            "with two or more samples on each side): use validation_split between 0.181 and "
            "0.8") + "$"):
        trainer.fit(X, y, 1, validation_split=0.1)
    with pytest.raises(ValueError, match=r"^validation_split=0\.99 of 50 samples leaves no "
                                         r"training sample"):
        trainer.fit(X, y, 1, validation_split=0.99)
    trainer.fit(X, y, 1, validation_split=0.181)
    assert "val_loss" in trainer.history.history


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


def test_a_probability_of_exactly_one_half_predicts_the_first_class(rng):
    """The Trainer's threshold is p > 0.5 (scikit-learn's, the estimators' too): a tie (logit
    0) gives the first class, and a multilabel output 0."""
    X = rng.normal(size=(6, 2))
    for y, expected in ((np.array(["no", "yes"] * 3), ["no"] * 3),
                        (np.array([[0, 1], [1, 0]] * 3), [[0, 0]] * 3)):
        net = cr.mlp([2, 3, y.shape[1] if y.ndim == 2 else 1], output="sigmoid", seed=0)
        trainer = Trainer(net, "binary_cross_entropy", verbose=0)
        trainer.fit(X, y, epochs=1)
        net.parameters[...] = 0.0
        assert (trainer.predict_proba(X[:3]) == 0.5).all()
        assert trainer.predict(X[:3]).tolist() == expected


def test_reused_batch_buffers_hold_at_most_the_samples_there_are(rng):
    """Full-batch training written as a huge batch_size (the Trainer passes it on unclamped)
    must not allocate buffers of batch_size rows."""
    X, y = rng.normal(size=(100, 50)), np.arange(100)
    (Xb, yb), = batches(X, y, 10**9, seed=0, reuse_buffers=True)
    assert Xb.shape == (100, 50)
    assert Xb.base is not None and Xb.base.nbytes == X.nbytes  # the buffer behind the view
    np.testing.assert_array_equal(Xb, X[yb])


# ------------------------------------------------------------------ targets against the network
@pytest.mark.parametrize(
    "sizes, output, loss, y, error, pattern",
    [
        ([2, 2], "sigmoid", "bce", np.arange(40) % 2, cr.ShapeError,
         (r"binary labels y of shape \(40,\) need a network with 1 output, this one has 2; .*"
         r"pass y of shape \(n_samples, 2\)")),
        ([2, 2], "identity", "mse", np.arange(40.0), cr.ShapeError,
         (r"y of shape \(40,\) has one target per sample, but the network has 2 outputs; "
         r"pass y of shape \(n_samples, 2\)")),
        ([2, 2], "identity", "mse", np.ones((40, 3)), cr.ShapeError,
         (r"y of shape \(40, 3\) has 3 regression targets per sample, but the network has 2 "
         "outputs")),
        ([2, 3], "softmax", "cross_entropy", np.array(["a", "b"] * 20), ValueError,
         r"y has 2 distinct classes \['a', 'b'\], but the network has 3 outputs"),
        ([2, 1], "sigmoid", "bce", np.full(40, "yes"), ValueError,
         (r"^y has 1 distinct classes \['yes'\], but a network with 1 sigmoid output takes "
          r"exactly 2 classes$")),
        ([2, 1], "sigmoid", "bce", np.linspace(0.1, 0.9, 40), ValueError,
         (r"y has 40 distinct classes .*, but a network with 1 sigmoid output takes exactly 2 "
          r"classes; for soft targets \(probabilities in \[0, 1\]\) pass y of shape "
          r"\(n_samples, 1\)$")),
    ],
    ids=["binary-labels-2-outputs", "1d-regression-2-outputs", "regression-width",
         "too-few-classes", "one-binary-class", "soft-binary-targets"],
)
def test_targets_that_do_not_fit_the_network(sizes, output, loss, y, error, pattern):
    X = np.random.default_rng(0).normal(size=(40, 2))
    trainer = Trainer(cr.mlp(sizes, output=output, seed=0), loss, seed=0, verbose=0)
    with pytest.raises(error, match=pattern):
        trainer.fit(X, y, epochs=1)
    assert trainer.encoder is None


def test_a_validation_target_of_the_wrong_width_is_named_y_val():
    X = np.random.default_rng(0).normal(size=(40, 2))
    trainer = Trainer(cr.mlp([2, 2], output="identity", seed=0), "mse", seed=0, verbose=0)
    with pytest.raises(cr.ShapeError, match=r"^y_val of shape \(40, 3\) has 3 regression targets "
                                            r"per sample, but the network has 2 outputs$"):
        trainer.fit(X, np.ones((40, 2)), epochs=1, validation_data=(X, np.ones((40, 3))))


@pytest.mark.parametrize("split", [False, True], ids=["validation_data", "validation_split"])
def test_validation_targets_the_loss_refuses_are_refused_before_any_step(split):
    """Multilabel BCE targets must lie in [0, 1]: a 2.0 among the validation targets is
    refused before training, not at the end of the first epoch (with the weights changed)."""
    X = np.random.default_rng(0).normal(size=(40, 2))
    Y = (X > 0).astype(float)
    trainer = Trainer(cr.mlp([2, 3, 2], output="sigmoid", seed=0), "binary_cross_entropy",
                      seed=0, verbose=0)
    before = trainer.net.parameters.copy()
    if split:  # a sample the split puts into the validation part
        Y[validation_row(X.shape[0], 0.25, trainer.split_seed)] = 2.0
        fit, name = {"validation_split": 0.25}, "y"
    else:
        Y_val = Y[:10].copy()
        Y_val[0, 0] = 2.0
        fit, name = {"validation_data": (X[:10], Y_val)}, "y_val"
    with pytest.raises(ValueError, match=rf"^{name}: BinaryCrossEntropy expects y_true in "
                                         r"\[0, 1\], got values in \[0.0, 2.0\]$"):
        trainer.fit(X, Y, epochs=2, **fit)
    np.testing.assert_array_equal(trainer.net.parameters, before)
    assert trainer.optimizer.n_steps == 0


def validation_row(n_samples: int, fraction: float, split_seed: int) -> int:
    """A row that an unstratified ``validation_split=fraction`` puts into the validation part."""
    from chainrule.training import train_test_split

    _, validation = train_test_split(np.arange(n_samples), test_size=fraction, seed=split_seed)
    return int(validation[0])


def test_a_validation_sample_weight_of_the_wrong_length_names_x_val():
    X = np.random.default_rng(0).normal(size=(40, 2))
    trainer = Trainer(cr.mlp([2, 1], seed=0), "mse", seed=0, verbose=0)
    with pytest.raises(ValueError, match=r"^X_val and validation sample_weight must have the "
                                         r"same number of samples, got 10 and 9"):
        trainer.fit(X, X[:, 0], validation_data=(X[:10], X[:10, 0], np.ones(9)))


def test_object_arrays_of_booleans_are_boolean_labels():
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = X[:, 0] > 0
    fitted = [Trainer(cr.mlp([2, 3, 1], output="sigmoid", seed=0), "binary_cross_entropy",
                      seed=0, verbose=0) for _ in range(2)]
    fitted[0].fit(X, y, epochs=2)
    fitted[1].fit(X, y.astype(object), epochs=2)
    np.testing.assert_array_equal(fitted[1].net.parameters, fitted[0].net.parameters)
    assert fitted[1].predict(X).dtype == bool


def test_object_arrays_mixing_booleans_and_numbers_are_refused():
    X = np.random.default_rng(0).normal(size=(4, 2))
    trainer = Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "binary_cross_entropy",
                      verbose=0)
    with pytest.raises(TypeError, match=r"^y must hold only numbers, only strings or only "
                                        r"booleans, got a mix of them$"):
        trainer.fit(X, np.array([True, 0, 1, False], dtype=object))


def test_object_arrays_of_strings_are_string_labels():
    """pandas' usual dtype for labels: an object array of str."""
    X, y = make_blobs(90, centers=3, std=0.5, seed=0)
    labels = np.array(["x", "y", "z"], dtype=object)[y]
    trainer = Trainer(cr.mlp([2, 3], output="softmax", seed=0), "cross_entropy", seed=0,
                      verbose=0)
    trainer.fit(X, labels, epochs=1)
    assert trainer.encoder.classes.tolist() == ["x", "y", "z"]
    predictions = trainer.predict(X)
    assert set(predictions.tolist()) <= {"x", "y", "z"}
    most_likely = trainer.predict_proba(X).argmax(axis=1)
    np.testing.assert_array_equal(predictions, np.array(["x", "y", "z"])[most_likely])


def test_multilabel_predictions_are_a_0_1_matrix(rng):
    X = rng.normal(size=(60, 2))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X.sum(axis=1) > 0]).astype(int)
    trainer = Trainer(cr.mlp([2, 3], output="sigmoid", seed=0), "bce", seed=0, verbose=0)
    trainer.fit(X, Y, epochs=2)
    assert trainer.encoder.task == "multilabel"
    predictions = trainer.predict(X)
    assert predictions.shape == (60, 3) and predictions.dtype == np.int64
    np.testing.assert_array_equal(predictions, (trainer.predict_proba(X) >= 0.5).astype(np.int64))


@pytest.mark.parametrize("task", ["regression", "multilabel"])
def test_validation_split_is_not_stratified_without_single_classes(spy_on_split, rng, task):
    from chainrule.training import trainer as trainer_module

    seen = spy_on_split(trainer_module, "split_indices")
    X = rng.normal(size=(40, 2))
    if task == "regression":
        net, loss, y = cr.mlp([2, 1], seed=0), "mse", X.sum(axis=1)
    else:
        net, loss, y = cr.mlp([2, 2], output="sigmoid", seed=0), "bce", (X > 0).astype(int)
    history = Trainer(net, loss, seed=0, verbose=0).fit(X, y, epochs=1, validation_split=0.25)
    assert seen and seen.get("stratify") is None  # split, not stratified
    assert np.isfinite(history["val_loss"]).all()


# ------------------------------------------------------------------ losses on logits, specs
@pytest.mark.parametrize("multiclass", [True, False], ids=["cross_entropy", "bce"])
def test_a_network_without_output_activation_gets_probabilities_from_the_logits(multiclass):
    from chainrule.layers.activations import sigmoid, softmax
    from chainrule.losses import BinaryCrossEntropy, CrossEntropy

    X, y = make_blobs(90, centers=3, seed=0)
    if multiclass:
        net, loss, squash = cr.mlp([2, 3], seed=0), CrossEntropy(from_logits=True), softmax
    else:
        net, loss, squash = cr.mlp([2, 1], seed=0), BinaryCrossEntropy(from_logits=True), sigmoid
        y = y == 0
    trainer = Trainer(net, loss, seed=0, verbose=0, metrics=["accuracy"])
    history = trainer.fit(X, y, epochs=2)
    probabilities = trainer.predict_proba(X)
    logits = net.forward(X)  # the network itself ends in a Dense layer
    assert logits.min() < 0 or logits.max() > 1
    np.testing.assert_allclose(probabilities, squash(logits), rtol=1e-6)
    assert 0 <= history["accuracy"][-1] <= 1


def test_an_optimizer_given_as_a_dict_and_metric_functions():
    import functools

    def agreement(y_true, y_pred):
        return float(np.mean(y_true == y_pred.argmax(axis=1)))

    X, y = make_blobs(90, centers=3, seed=0)
    trainer = Trainer(cr.mlp([2, 3], output="softmax", seed=0), "cross_entropy",
                      {"name": "sgd", "lr": 0.2}, seed=0, verbose=0,
                      metrics=["accuracy", agreement, functools.partial(agreement)])
    assert isinstance(trainer.optimizer, SGD) and trainer.optimizer.lr == 0.2
    history = trainer.fit(X, y, epochs=2)
    # a function is logged under its __name__; a callable without one as "metric"
    assert set(history.history) == {"loss", "accuracy", "agreement", "metric", "lr", "seconds"}
    assert history["agreement"] == pytest.approx(history["accuracy"])
    assert history["metric"] == history["agreement"]


# ------------------------------------------------------------------ divergence, Ctrl-C
def diverging(batch_size):
    """SGD with lr 1e38 in float32: the first step's update overflows the weights to inf while
    its loss was finite; the next batch's loss is then NaN."""
    X = np.random.default_rng(0).normal(size=(16, 3))
    y = X @ np.array([1.0, 2.0, 3.0]) * 100
    net = cr.mlp([3, 4, 1], seed=0)
    start = net.parameters.copy()
    trainer = Trainer(net, "mse", SGD(lr=1e38), batch_size=batch_size, seed=0, verbose=0)
    with pytest.raises(cr.TrainingDivergedError) as info:
        trainer.fit(X, y, epochs=3)
    return net, start, info.value


def test_weights_made_non_finite_by_the_last_step_are_restored_to_the_epoch_start():
    net, start, error = diverging(batch_size=4)
    assert (error.epoch, error.batch) == (1, 2)
    assert "the weights (and the optimizer's state) were restored to their values at the start of epoch 1" in str(error)
    np.testing.assert_array_equal(net.parameters, start)


def test_weights_are_finite_after_divergence_even_with_one_batch_per_epoch():
    # Epoch 1's only step overflows the weights: there is no later batch whose loss would show
    # it, so the weights are checked after the epoch's last step (its loss was finite).
    net, start, error = diverging(batch_size=16)
    assert (error.epoch, error.batch) == (1, 1) and np.isnan(error.loss)
    assert "the weights became non-finite in the step at epoch 1, batch 1 of 1" in str(error)
    assert "the weights (and the optimizer's state) were restored to their values at the start of epoch 1" in str(error)
    np.testing.assert_array_equal(net.parameters, start)


def test_a_step_that_overflows_the_weights_also_puts_the_optimizer_state_back():
    # SGD with momentum: the step that overflows the weights leaves a huge velocity; with the
    # weights back at the epoch's start, a retry at a sane rate must not inherit it.
    X = np.random.default_rng(0).normal(size=(16, 3))
    y = X @ np.array([1.0, 2.0, 3.0]) * 100
    net = cr.mlp([3, 4, 1], seed=0)
    trainer = Trainer(net, "mse", SGD(lr=1e-3, momentum=0.9), batch_size=4, seed=0, verbose=0)
    trainer.fit(X, y, epochs=1)  # a sane epoch first: the state at epoch 2's start
    trainer.optimizer.lr = 1e38
    at_start = trainer.optimizer.state_dict()
    with pytest.raises(cr.TrainingDivergedError, match="at epoch 2.*restored to their values"):
        trainer.fit(X, y, epochs=1)
    after = trainer.optimizer.state_dict()
    assert after["step"] == at_start["step"] and after["lr"] == at_start["lr"]
    np.testing.assert_array_equal(after["momentum_buffer"], at_start["momentum_buffer"])
    trainer.optimizer.lr = 1e-3
    trainer.fit(X, y, epochs=1)
    assert np.isfinite(net.parameters).all()


def test_a_second_ctrl_c_stops_at_once():
    X, _, y, _ = circles()
    batches_seen = []

    def first(trainer, epoch, batch, logs):
        batches_seen.append((epoch, batch))
        if (epoch, batch) == (1, 2):
            os.kill(os.getpid(), signal.SIGINT)  # stop after this batch ...

    def second(trainer, epoch, batch, logs):
        if (epoch, batch) == (1, 2):  # the first Ctrl-C was just handled: a second one
            os.kill(os.getpid(), signal.SIGINT)  # ... no: now

    trainer = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", batch_size=50, seed=0,
                      verbose=0, callbacks=[LambdaCallback(on_batch_end=first),
                                            LambdaCallback(on_batch_end=second)])
    before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(X, y, epochs=5)
    assert batches_seen == [(1, 1), (1, 2)]
    assert signal.getsignal(signal.SIGINT) is before


def test_a_network_without_parameters_gets_a_clear_error():
    from chainrule.layers.activations import Sigmoid
    from chainrule.layers.sequential import Sequential

    with pytest.raises(ValueError, match=r"^net has no parameters to train: its layers are "
                                         r"\['Sigmoid'\]; add a Dense layer$"):
        Trainer(Sequential([Sigmoid()]), "bce", seed=0, verbose=0)


# ------------------------------------------------------------------ callbacks
def test_bad_callback_settings():
    with pytest.raises(TypeError, match="on_epoch_end must be callable, got int"):
        LambdaCallback(on_epoch_end=3)
    with pytest.raises(TypeError, match="monitor must be a str, got int"):
        EarlyStopping(3)
    with pytest.raises(TypeError, match="monitor must be a str, got NoneType"):
        ReduceLROnPlateau(None)


def scripted_fit(values, stopper, key="loss", metrics=()):
    X, _, y, _ = circles()
    script = LambdaCallback(on_epoch_end=lambda t, e, logs: logs.update({key: values[e - 1]}))
    trainer = Trainer(cr.mlp([2, 1], output="sigmoid", seed=0), "bce", SGD(lr=0.1),
                      batch_size=400, seed=0, verbose=0, metrics=list(metrics),
                      callbacks=[script, stopper])
    return trainer.fit(X, y, epochs=len(values))


@pytest.mark.parametrize(
    "key, mode, values, best_epoch, stopped_epoch",
    [
        ("loss", "max", [1.0, 2.0, 3.0, 2.5, 2.9, 4.0], 3, 5),  # mode="max": larger is better
        ("loss", "min", [3.0, 2.0, 1.0, 1.5, 1.2, 0.5], 3, 5),
        ("accuracy", "auto", [0.5, 0.7, 0.9, 0.8, 0.85, 0.95], 3, 5),  # auto: maximised
        ("accuracy", "auto", [0.5, np.inf, np.nan, 0.45, 0.9], 1, 3),  # non-finite: no progress
    ],
    ids=["max", "min", "auto-accuracy", "non-finite"],
)
def test_early_stopping_modes(key, mode, values, best_epoch, stopped_epoch):
    stopper = EarlyStopping(key, patience=2, mode=mode, restore_best=False)
    history = scripted_fit(values, stopper, key, metrics=["accuracy"])
    assert (stopper.best_epoch, stopper.stopped_epoch) == (best_epoch, stopped_epoch)
    assert stopper.best == values[best_epoch - 1]
    assert len(history) == stopped_epoch and history.stopped_early


@pytest.mark.parametrize("patience, stopped_epoch, stalled",
                         [(0, 3, "1 epoch"), (1, 3, "1 epoch"), (3, 5, "3 epochs")])
def test_the_early_stopping_note_counts_the_epochs_without_improvement(patience, stopped_epoch,
                                                                       stalled):
    # patience=0 stops after the first epoch without improvement: 1, not 0, epochs stalled
    stopper = EarlyStopping("loss", patience=patience, restore_best=False)
    history = scripted_fit([3.0, 2.0, 2.5, 2.4, 2.2, 2.1, 1.0], stopper)
    assert stopper.stopped_epoch == stopped_epoch
    assert history.note == (f"stopped early after epoch {stopped_epoch}: loss did not improve "
                            f"for {stalled} (best 2 at epoch 2)")


@pytest.mark.parametrize(
    "patience, cooldown, expected",
    [
        (1, 1, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125]),
        (1, 2, [0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025]),
        (2, 0, [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125]),
        (2, 1, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025]),
        (2, 2, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025]),
    ],
)
def test_reduce_lr_waits_patience_epochs_after_the_cooldown(patience, cooldown, expected):
    """The docstring: after a reduction, "cooldown epochs pass before waiting starts again"."""
    plateau = ReduceLROnPlateau("loss", factor=0.5, patience=patience, cooldown=cooldown)
    history = scripted_fit([1.0] * 8, plateau)
    assert history["lr"] == pytest.approx(expected)


@pytest.mark.parametrize("mode", ["min", "max"])
def test_reduce_lr_on_plateau_is_torchs_with_patience_one_less(mode):
    """docs/conventions.md: torch's ReduceLROnPlateau(patience=p - 1, threshold=min_delta,
    threshold_mode="abs", eps=0) reduces at the epochs ours(patience=p) does; p=0 acts as 1."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for trial in range(12):
        values = list(5 + np.cumsum(rng.normal(-0.01, 0.05, size=30)))
        if trial % 3 == 0:  # ties at the margin and plateaus
            values = list(np.round(values, 1))
        patience, cooldown = int(rng.integers(0, 5)), int(rng.integers(0, 3))
        factor, min_delta = float(rng.choice([0.1, 0.5])), float(rng.choice([0.0, 0.01, 0.05]))
        plateau = ReduceLROnPlateau("loss", factor=factor, patience=patience, min_delta=min_delta,
                                    cooldown=cooldown, min_lr=1e-3, mode=mode)
        ours = scripted_fit(values, plateau)["lr"]  # the rate each epoch trained with
        parameter = torch.nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.SGD([parameter], lr=0.1)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=mode, factor=factor, patience=max(patience - 1, 0),
            threshold=min_delta, threshold_mode="abs", cooldown=cooldown, min_lr=1e-3, eps=0)
        theirs = [0.1]
        for value in values[:-1]:
            scheduler.step(value)
            theirs.append(optimizer.param_groups[0]["lr"])
        assert ours == pytest.approx(theirs, rel=1e-12), (trial, patience, cooldown)


def test_an_improvement_must_exceed_min_delta():
    """Exactly min_delta better is no improvement (value < best - min_delta, strictly)."""
    stopper = EarlyStopping("loss", patience=1, min_delta=0.5, restore_best=False)
    scripted_fit([3.0, 2.5, 1.0], stopper)
    assert (stopper.best_epoch, stopper.stopped_epoch) == (1, 2)


def scripted_trainer(values, callbacks, weights_at=None):
    """A trainer whose logged ``loss`` at (overall) epoch e is ``values[e - 1]``; with
    ``weights_at``, it records the weights at every epoch's end there."""
    X, _, y, _ = circles()
    script = LambdaCallback(on_epoch_end=lambda t, e, logs: logs.update(loss=values[e - 1]))
    weights_at = {} if weights_at is None else weights_at
    keep = LambdaCallback(on_epoch_end=lambda t, e, logs: weights_at.update(
        {e: t.net.parameters.copy()}))
    trainer = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", SGD(lr=0.1),
                      batch_size=200, seed=0, verbose=0, callbacks=[script, keep, *callbacks])
    return trainer, X, y


def test_continued_fits_of_one_epoch_reduce_the_rate_as_one_fit():
    values = [1.0, 0.5, 0.6, 0.55, 0.7, 0.4, 0.45, 0.5, 0.6]
    make = lambda: ReduceLROnPlateau("loss", factor=0.5, patience=2, cooldown=1)
    straight, X, y = scripted_trainer(values, [make()])
    straight.fit(X, y, epochs=len(values))
    # reduced after epochs 4 and 8 (epoch 5 a cooldown, 0.4 at epoch 6 a new best)
    assert straight.history["lr"] == pytest.approx([0.1] * 4 + [0.05] * 4 + [0.025])
    stepped, X, y = scripted_trainer(values, [make()])
    for _ in values:
        stepped.fit(X, y, epochs=1, continue_callbacks=True)
    assert stepped.history["lr"] == straight.history["lr"]
    assert stepped.net.parameters.tobytes() == straight.net.parameters.tobytes()
    afresh, X, y = scripted_trainer(values, [make()])  # each fit a run of its own: no plateau
    for _ in values:
        afresh.fit(X, y, epochs=1)
    assert afresh.history["lr"] == [0.1] * len(values)


def test_continued_fits_of_one_epoch_stop_early_as_one_fit():
    """The stop comes at the same epoch, with the same note and the best weights put back;
    the continued fits before it keep their last weights, as the epochs of one fit do."""
    values = [3.0, 2.0, 2.5, 2.4, 2.2, 1.0]
    straight_weights, stepped_weights = {}, {}
    straight, X, y = scripted_trainer(values, [EarlyStopping("loss", patience=2)],
                                      straight_weights)
    straight.fit(X, y, epochs=len(values))
    assert len(straight.history) == 4 and straight.history.stopped_early
    stopper = EarlyStopping("loss", patience=2)
    stepped, X, y = scripted_trainer(values, [stopper], stepped_weights)
    for epoch in range(1, 4):
        history = stepped.fit(X, y, epochs=1, continue_callbacks=True)
        assert not history.stopped_early and stopper.stopped_epoch == 0
        np.testing.assert_array_equal(stepped.net.parameters, straight_weights[epoch])
    history = stepped.fit(X, y, epochs=1, continue_callbacks=True)
    assert history.stopped_early and stopper.stopped_epoch == 4
    assert history.note == straight.history.note
    np.testing.assert_array_equal(stepped.net.parameters, straight_weights[2])
    np.testing.assert_array_equal(straight.net.parameters, straight_weights[2])
    # the run goes on if asked: 2.2 is no improvement on 2.0 (a stop again, from the best
    # weights), 1.0 is, and ends no run
    history = stepped.fit(X, y, epochs=1, continue_callbacks=True)
    assert history.stopped_early and stopper.stopped_epoch == 5
    history = stepped.fit(X, y, epochs=1, continue_callbacks=True)
    assert not history.stopped_early and stopper.best_epoch == 6
    np.testing.assert_array_equal(stepped.net.parameters, stepped_weights[6])


def test_continue_callbacks_must_be_a_bool():
    trainer, X, y = scripted_trainer([1.0], [])
    with pytest.raises(TypeError, match="continue_callbacks"):
        trainer.fit(X, y, epochs=1, continue_callbacks="yes")


# ------------------------------------------------------------------ a fit that fails before any step
def _trainer_state(trainer):
    """Everything a fit may change, comparable with ``==`` (the arrays as bytes)."""
    generators = [trainer.rng.bit_generator.state] + [
        layer.rng.bit_generator.state for layer in trainer.net.layers
        if getattr(layer, "rng", None) is not None]
    optimizer = trainer.optimizer.state_dict()
    return (trainer.net.parameters.tobytes(), repr(generators), trainer.encoder,
            trainer.epoch, trainer.final_epoch, trainer.epoch_in_progress,
            trainer.history.as_dict(),
            {k: v.tobytes() if isinstance(v, np.ndarray) else v for k, v in optimizer.items()})


def test_a_first_fit_whose_loss_overflows_before_any_step_learns_nothing(rng):
    """Targets too large for the dtype: the fit fails at its first batch, without a step. The
    trainer is left untrained (no classes, no consumed random numbers), so the corrected fit
    is the one a new trainer would run, whatever the shape of its targets."""
    X = rng.normal(size=(40, 3))
    y = rng.normal(size=(40, 1))

    def make():
        return Trainer(cr.mlp([3, 5, 1], dropout=0.2, dtype=np.float64, seed=0), "mse", seed=0, verbose=0)

    trainer = make()
    before = _trainer_state(trainer)
    with pytest.raises(ValueError, match="the loss is inf .* before any update"):
        trainer.fit(X, np.full(40, 1e300), epochs=1)
    assert trainer.encoder is None
    with pytest.raises(RuntimeError, match="call fit"):
        trainer.predict(X[:2])
    assert _trainer_state(trainer) == before
    trainer.fit(X, y, epochs=2)  # 2-D targets now: learnt afresh
    fresh = make()
    fresh.fit(X, y, epochs=2)
    assert trainer.net.parameters.tobytes() == fresh.net.parameters.tobytes()


def test_a_later_fit_whose_loss_overflows_before_any_step_blames_the_data(rng):
    """On a trained trainer the same targets are a data problem too (not a divergence, for
    which a lower learning rate would be the cure), and the trainer stays as it was."""
    X = rng.normal(size=(40, 3))
    trainer = Trainer(cr.mlp([3, 5, 1], dtype=np.float64, seed=0), "mse", seed=0, verbose=0)
    trainer.fit(X, X[:, 0], epochs=2)
    before = _trainer_state(trainer)
    with pytest.raises(ValueError, match="the loss is inf at the weights this fit started from, "
                                         "before any update") as info:
        trainer.fit(X, np.full(40, 1e300), epochs=1)
    assert not isinstance(info.value, cr.TrainingDivergedError)
    assert _trainer_state(trainer) == before


@pytest.mark.parametrize(("widths", "loss", "y"), [
    ([2, 16, 1], "binary_cross_entropy", lambda X: (X[:, 0] > 0).astype(float)),
    ([2, 16, 3], "cross_entropy", lambda X: np.arange(len(X)) % 3),
], ids=["bce", "cross_entropy"])
def test_a_cross_entropy_on_an_output_without_its_activation_says_so(widths, loss, y, rng):
    """The forgotten sigmoid/softmax gives a NaN loss at the first batch: the message is the
    loss's own check (probabilities expected), not advice to scale data of order 1."""
    X = rng.normal(size=(40, 2))
    trainer = Trainer(cr.mlp(widths, seed=0), loss, seed=0, verbose=0)  # output: identity
    with pytest.raises(ValueError, match=r"^the loss is nan at the weights this fit started "
                                         r"from: \w+ expects y_pred to be probabilities in "
                                         r"\[0, 1\].*use from_logits=True$"):
        trainer.fit(X, y(X), epochs=1)


def test_a_fit_that_a_callback_stops_before_any_step_changes_nothing(rng):
    X = rng.normal(size=(40, 3))
    trainer = Trainer(cr.mlp([3, 5, 1], seed=0), "mse", seed=0, verbose=0)
    trainer.fit(X, X[:, 0], epochs=1)
    before = _trainer_state(trainer)

    def refuse(trainer, epoch):
        raise RuntimeError("not now")

    trainer.callbacks = [LambdaCallback(on_epoch_begin=refuse)]
    with pytest.raises(RuntimeError, match="not now"):
        trainer.fit(X, X[:, 0], epochs=1)
    assert _trainer_state(trainer) == before


def _ctrl_c(*args):
    os.kill(os.getpid(), signal.SIGINT)  # deferred by fit until the next batch


def _raise_keyboard_interrupt(*args):
    raise KeyboardInterrupt


@pytest.mark.parametrize("hook, action", [
    ("on_train_begin", _raise_keyboard_interrupt),
    ("on_epoch_begin", _raise_keyboard_interrupt),
    ("on_epoch_begin", _ctrl_c),  # during the first batch: fit defers it, with nothing done
], ids=["raised-at-train-begin", "raised-at-epoch-begin", "ctrl-c-before-the-first-step"])
@pytest.mark.parametrize("fitted", [False, True], ids=["first-fit", "later-fit"])
def test_a_fit_interrupted_before_any_step_changes_nothing(rng, hook, action, fitted):
    """A Ctrl-C before the first step has no trained batch to keep: the fit raises
    KeyboardInterrupt and the trainer is as it was; a first fit forgets the classes it
    learnt, so that a fit with the right targets can follow."""
    X = rng.normal(size=(40, 3))
    trainer = Trainer(cr.mlp([3, 5, 3], output="softmax", dropout=0.2, seed=0),
                      "cross_entropy", batch_size=10, seed=0, verbose=0)
    if fitted:
        trainer.fit(X, np.arange(40) % 3, epochs=1)
    before = _trainer_state(trainer)
    handler = signal.getsignal(signal.SIGINT)
    trainer.callbacks = [LambdaCallback(**{hook: action})]
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(X, np.arange(40) % 3 + (0 if fitted else 7), epochs=2)
    assert _trainer_state(trainer) == before
    assert signal.getsignal(signal.SIGINT) is handler
    assert not trainer.history.interrupted
    trainer.callbacks = []
    trainer.fit(X, np.arange(40) % 3, epochs=1)  # the classes of the first fit that trained
    assert trainer.encoder.classes.tolist() == [0, 1, 2]


@pytest.mark.parametrize("classes, output, loss", [(2, "sigmoid", "bce"),
                                                   (3, "softmax", "cross_entropy")])
def test_predictions_made_by_a_callback_during_fit_are_arrays_of_their_own(classes, output,
                                                                          loss):
    """Inside fit the layers reuse their buffers; what predict_proba and evaluate return from a
    callback is still the caller's to keep: a later call does not overwrite it."""
    X, y = make_blobs(64, centers=classes, seed=0)
    watched, other = X[:8], X[8:16]
    kept = []

    def record(trainer, epoch, batch, logs):
        first = trainer.predict_proba(watched)
        copy = first.copy()
        trainer.predict_proba(other)
        trainer.evaluate(other, y[8:16])
        kept.append((first, copy))

    net = cr.mlp([2, 8, 1 if classes == 2 else classes], output=output, seed=0)
    trainer = Trainer(net, loss, SGD(lr=0.5), batch_size=8, seed=0, verbose=0,
                      metrics=["accuracy"], callbacks=[LambdaCallback(on_batch_end=record)])
    trainer.fit(X, y, epochs=2)
    for first, copy in kept:
        np.testing.assert_array_equal(first, copy)
    assert len({first.tobytes() for first, _ in kept}) == len(kept)  # one per step
    np.testing.assert_array_equal(kept[-1][0], trainer.predict_proba(watched))  # the final weights'


def test_a_fit_failing_before_any_step_is_undone_even_over_nan_moments(rng):
    # A diverged step can leave NaN in the optimizer's moments (the weights go back, the
    # moments do not); undoing a later fit that fails must not trip over them.
    X, y = rng.normal(size=(64, 3)), rng.normal(size=64)
    trainer = Trainer(cr.mlp([3, 8, 1], output="identity", seed=0, dtype=np.float64), "mse",
                      "adam", batch_size=8, verbose=0)
    trainer.fit(X, y, epochs=1)
    trainer.optimizer._state["scaled_exp_avg"][0] = np.nan
    before = trainer.optimizer._state["scaled_exp_avg"].copy()
    with pytest.raises(cr.ShapeError, match=r"expects X of shape \(n_samples, 3\)") as caught:
        trainer.fit(X[:, :2], y)
    assert caught.value.__context__ is None
    np.testing.assert_array_equal(trainer.optimizer._state["scaled_exp_avg"], before)


def test_a_dropped_trainer_frees_its_network_by_reference_counting():
    """No reference cycle through the trainer, its callbacks or its network keeps the network's
    arrays alive until the cyclic garbage collector runs (a search loop would pile them up)."""
    from _refcount import freed_by_refcount

    X, y = make_blobs(60, centers=2, seed=0)

    def fitted():
        net = cr.mlp([2, 8, 1], output="sigmoid", seed=0)
        callbacks = [EarlyStopping(monitor="loss", restore_best=True), cr.GradientMonitor(),
                     ReduceLROnPlateau(monitor="loss")]
        trainer = Trainer(net, "binary_cross_entropy", Adam(lr=0.01), batch_size=16,
                          callbacks=callbacks, seed=0, verbose=0)
        trainer.fit(X, y, epochs=2)
        trainer.predict(X)
        return trainer

    assert freed_by_refcount(fitted, lambda trainer: trainer.net,
                             lambda trainer: trainer.net.parameters)


# ------------------------------------------------------------------ evaluation in chunks


def _chunked_cases(rng):
    """(trainer, X, y, sample_weight) fitted briefly, one per task and kind of loss."""
    X = rng.standard_normal((50, 4))
    labels = rng.integers(0, 3, 50)
    cases = [
        (cr.mlp([4, 8, 3], output="softmax", seed=0), "cross_entropy", labels,
         ["accuracy", "log_loss"]),
        (cr.mlp([4, 8, 3], output="softmax", seed=0), {"name": "cross_entropy",
                                                       "label_smoothing": 0.1},
         np.eye(3)[labels], ["accuracy", "log_loss"]),
        (cr.mlp([4, 8, 1], output="sigmoid", seed=0), "binary_cross_entropy", labels % 2,
         ["accuracy", "log_loss"]),
        (cr.mlp([4, 8, 3], output="sigmoid", seed=0), "binary_cross_entropy",
         rng.integers(0, 2, (50, 3)), ["accuracy", "log_loss"]),
        (cr.mlp([4, 8, 2], seed=0), "mse", rng.standard_normal((50, 2)), ["mse", "r2"]),
    ]
    for net, loss, y, metrics in cases:
        def spread(y_true, y_pred):
            return float(np.std(y_pred))
        trainer = Trainer(net, loss, seed=0, verbose=0, metrics=[*metrics, spread])
        trainer.fit(X, y, epochs=2)
        yield trainer, X, y, rng.uniform(0.1, 2.0, 50)


def test_evaluate_in_chunks_gives_the_numbers_of_one_pass(rng, monkeypatch):
    # The loss and the metrics on the whole arrays of the same forward chunks (a matrix
    # product's rounding may depend on its number of rows: the forward pass was chunked before)
    from chainrule.layers import inference
    from chainrule.training.metrics import for_task

    monkeypatch.setattr(inference, "EVAL_CHUNK", 7)
    for trainer, X, y, w in _chunked_cases(rng):
        y_encoded = trainer.encoder.transform(y, trainer.net.dtype)
        scores = trainer._outputs(trainer.net.check_input(X))
        for weights in (None, w):
            loss = trainer.objective.head_loss.forward(scores, y_encoded, weights)
            probabilities = trainer._probabilities(scores.copy())
            want = {"loss": loss + trainer.net.penalty()}
            want.update({name: float(for_task(metric, trainer.encoder.task)(y_encoded,
                                                                             probabilities))
                         for name, metric in trainer.metrics.items()})
            assert trainer.evaluate(X, y, weights) == want  # bit for bit
        monkeypatch.setattr(inference, "EVAL_CHUNK", 10**9)  # decoded as one array
        predicted = trainer.encoder.decode(
            trainer._probabilities(trainer._outputs(trainer.net.check_input(X))))
        monkeypatch.setattr(inference, "EVAL_CHUNK", 7)
        if trainer.encoder.is_classifier:  # the same classes (regression values: BLAS rounding)
            np.testing.assert_array_equal(trainer.predict(X), predicted)
        assert trainer.predict(X).dtype == predicted.dtype


def test_evaluate_keeps_no_loss_arrays_and_holds_no_class_array(rng, monkeypatch):
    import tracemalloc

    from chainrule.layers import inference

    n, k = 4000, 200
    X = rng.standard_normal((n, 5)).astype(np.float32)
    y = rng.integers(0, k, n)
    trainer = Trainer(cr.mlp([5, 8, k], output="softmax", seed=0), "cross_entropy", seed=0,
                      verbose=0, metrics=["accuracy", "log_loss"])
    trainer.fit(X[:500], y[:500], epochs=1)
    monkeypatch.setattr(inference, "EVAL_CHUNK", 256)
    scores_bytes = n * k * 4  # the (n_samples, n_classes) float32 array
    for call in (lambda: trainer.evaluate(X, y), lambda: trainer.predict(X)):
        tracemalloc.start()
        try:
            call()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert peak < scores_bytes / 2
    assert trainer.objective.head_loss._kept == {}


def test_evaluate_refuses_outputs_out_of_range_naming_the_range_of_all(rng, monkeypatch):
    from chainrule.layers import inference

    X = rng.standard_normal((40, 3))
    net = cr.Sequential([cr.layers.Dense(3, 2), cr.layers.ReLU()])
    trainer = Trainer(net, "cross_entropy", seed=0, verbose=0)
    trainer.restore_encoder({"task": "multiclass", "y_ndim": 1, "classes": [0, 1]})
    net.parameters[...] = np.linspace(-3, 3, net.n_parameters)
    y = np.zeros(40, np.int64)
    monkeypatch.setattr(inference, "EVAL_CHUNK", 10**9)
    with pytest.raises(ValueError) as whole:
        trainer.evaluate(X, y)
    monkeypatch.setattr(inference, "EVAL_CHUNK", 7)
    with pytest.raises(ValueError) as chunked:
        trainer.evaluate(X, y)
    assert "expects y_pred to be probabilities" in str(whole.value)
    assert str(chunked.value) == str(whole.value)


def _rebuilt(callback):
    """The callback built again from its repr, which must read as its constructor call."""
    return eval(repr(callback), {name: getattr(cr, name) for name in cr.__all__})


def test_callbacks_repr_as_their_constructor_call():
    stopping = EarlyStopping("val_accuracy", patience=3)
    assert repr(stopping) == ("EarlyStopping(monitor='val_accuracy', patience=3, min_delta=0.0, "
                              "restore_best=True, mode='auto')")
    plateau = ReduceLROnPlateau("loss", factor=0.5, cooldown=2, mode="min")
    assert repr(plateau) == ("ReduceLROnPlateau(monitor='loss', factor=0.5, patience=10, "
                             "min_delta=0.0001, cooldown=2, min_lr=0.0, mode='min')")
    assert repr(cr.Callback()) == "Callback()"
    for callback in (stopping, plateau, cr.Callback()):
        rebuilt = _rebuilt(callback)
        assert type(rebuilt) is type(callback) and repr(rebuilt) == repr(callback)
    assert (stopping.monitor, stopping.mode, stopping.min_delta) == ("val_accuracy", "auto", 0.0)
    assert (plateau.monitor, plateau.mode, plateau.min_delta) == ("loss", "min", 1e-4)


def test_a_lambda_callback_repr_names_the_hooks_it_was_given():
    def log_epoch(trainer, epoch, logs):
        pass

    assert repr(LambdaCallback()) == "LambdaCallback()"
    shown = repr(LambdaCallback(on_epoch_end=log_epoch))
    assert shown.startswith("LambdaCallback(on_epoch_end=<function ")
    assert "log_epoch" in shown and "on_train_begin" not in shown and len(shown) < 200


def test_the_trainer_repr_is_one_line_of_its_settings_without_arrays():
    net = cr.mlp([2, 8, 1], output="sigmoid", seed=0)
    net.parameters[...] = 1.0  # no weight reaches the repr
    trainer = Trainer(net, "bce", cr.SGD(lr=0.1), batch_size=16, metrics=["accuracy"],
                      callbacks=[cr.EarlyStopping(patience=2)], verbose=0)
    assert repr(trainer) == (
        "Trainer(net=<Sequential 2 → 8 → 1: 4 layers, 33 parameters, float32>, "
        f"loss={trainer.loss!r}, optimizer={trainer.optimizer!r}, batch_size=16, shuffle=True, "
        "metrics=['accuracy'], callbacks=[EarlyStopping(monitor='val_loss', patience=2, "
        "min_delta=0.0, restore_best=True, mode='auto')], verbose=0, schedule=None)"
    )


def test_a_repr_stays_short_and_never_raises_whatever_the_arguments():
    """A probe given as a list, a tuple of arrays, an object whose repr fails: the trainer's
    and the callbacks' reprs stay one short line (a notebook shows them)."""
    X = np.random.default_rng(0).normal(size=(256, 784))

    class Unprintable:
        def __repr__(self):
            raise RuntimeError("no repr")

    class Keeping(cr.Callback):
        def __init__(self, data, thing):
            self.data, self.thing = data, thing

    monitor = cr.GradientMonitor(probe=X.tolist())
    keeping = Keeping((X, X[:, 0]), Unprintable())
    trainer = Trainer(cr.mlp([784, 10], seed=0), "mse", callbacks=[monitor, keeping], verbose=0)
    assert "<list of 256 items>" in repr(monitor)
    assert repr(keeping) == ("Keeping(data=(<float64 array of shape (256, 784)>, "
                             "<float64 array of shape (256,)>), thing=<Unprintable>)")
    assert len(repr(trainer)) < 1000


def test_a_repr_shows_a_long_checkpoint_path_and_survives_a_list_holding_itself(tmp_path):
    path = tmp_path / ("experiments-" * 15) / "best-model-weights-by-validation.safetensors"
    checkpoint = cr.ModelCheckpoint(str(path), monitor="val_accuracy", save_best_only=True)
    trainer = Trainer(cr.mlp([2, 1], seed=0), "mse", callbacks=[checkpoint], verbose=0)
    assert f"callbacks=[ModelCheckpoint(path={str(path)!r}, monitor='val_accuracy'" in repr(trainer)

    class Holding(cr.Callback):
        def __init__(self, items):
            self.items = items

    cycle = [1]
    cycle.append(cycle)
    assert repr(Holding(cycle)) == "Holding(items=[1, [...]])"  # no RecursionError
    deep = Holding([[[np.zeros((3, 1000)), np.dtype("float32")]]])
    assert repr(deep) == "Holding(items=[[[<float64 array of shape (3, 1000)>, 'float32']]])"
    assert repr(Holding([[[0.0] * 2_000_000]])) == "Holding(items=[[<list of 2000000 items>]])"
    assert repr(Holding([[[[[1]]]]])) == "Holding(items=[[[<list of 1 item>]]])"  # 3 levels
    leaves = [[[0.123456789] * 8] * 8] * 8  # 512 values: their text is too long to show
    assert repr(Holding(leaves)) == "Holding(items=<list of 8 items>)"
    assert len(repr(Holding(np.random.default_rng(0).random((8, 8, 8, 8)).tolist()))) < 200
