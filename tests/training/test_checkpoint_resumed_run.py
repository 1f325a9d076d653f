"""Resuming continues the saved run: a new save_best_only ModelCheckpoint starts from the
restored history's best, and the batch size, shuffling and loss must be the run's."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import make_blobs, make_moons
from chainrule.io import read_tensors, write_tensors
from chainrule.losses import MSE, CrossEntropy, Huber
from chainrule.optim import SGD, Adam
from chainrule.training import LambdaCallback, Trainer
from chainrule.training.checkpoint import ModelCheckpoint, checkpoint_network


def moons():
    return make_moons(300, noise=0.3, seed=1)


def moons_trainer(callbacks=()):
    """A run whose validation loss and accuracy go up and down from epoch to epoch (val_loss
    0.313, 0.340, 0.396, 0.309, 0.325, ...): a best epoch is followed by worse ones."""
    net = cr.mlp([2, 32, 1], output="sigmoid", seed=0)
    return Trainer(net, "binary_cross_entropy", SGD(lr=0.5), seed=0, verbose=0,
                   metrics=["accuracy"], callbacks=list(callbacks))


def stored_epoch(path):
    return json.loads(read_tensors(path)[1]["trainer"])["epoch"]


# -- a new save_best_only ModelCheckpoint of a resumed fit -----------------------------------------


@pytest.mark.parametrize(
    "monitor, mode, stop",
    [("val_loss", "auto", 4), ("val_accuracy", "auto", 4), ("val_loss", "max", 4),
     ("loss", "min", 6)],
    ids=["val_loss-min", "val_accuracy-max", "val_loss-mode-max", "loss-min"],
)
def test_a_resumed_run_writes_the_best_epochs_of_a_run_that_never_stopped(tmp_path, monitor,
                                                                        mode, stop):
    """A new ModelCheckpoint(save_best_only=True) in the resuming process starts its best
    value from the restored history: the file keeps the run's best epoch while the resumed
    epochs are worse, and the epochs written are those an uninterrupted run writes."""
    X, y = moons()

    def best(path):
        return ModelCheckpoint(path, monitor=monitor, save_best_only=True, mode=mode)

    straight_best = best(tmp_path / "straight.safetensors")
    moons_trainer([straight_best]).fit(X, y, epochs=8, validation_split=0.3)
    assert stop + 1 not in straight_best.saved_epochs  # the first resumed epoch is worse

    last, path = tmp_path / "last.safetensors", tmp_path / "best.safetensors"
    first_best = best(path)
    moons_trainer([ModelCheckpoint(last), first_best]).fit(X, y, epochs=stop,
                                                           validation_split=0.3)
    held = stored_epoch(path)
    resumed_best = best(path)  # as in a new process: no best value of its own
    history = moons_trainer([resumed_best]).fit(X, y, epochs=8 - stop, validation_split=0.3,
                                                resume_from=last)
    assert history.epochs == list(range(1, 9))
    assert first_best.saved_epochs + resumed_best.saved_epochs == straight_best.saved_epochs
    if not resumed_best.saved_epochs:
        assert stored_epoch(path) == held and not resumed_best.written
    assert stored_epoch(path) == straight_best.saved_epochs[-1]
    np.testing.assert_array_equal(checkpoint_network(path).parameters,
                                  checkpoint_network(tmp_path / "straight.safetensors").parameters)


def test_resuming_from_the_best_file_keeps_it_when_the_next_epoch_is_worse(tmp_path):
    """Resuming from the save_best_only file itself: the repeated epoch after the best one,
    worse than it, must not replace it."""
    X, y = moons()
    path = tmp_path / "best.safetensors"
    first = moons_trainer([ModelCheckpoint(path, save_best_only=True)])
    history = first.fit(X, y, epochs=8, validation_split=0.3)
    held = stored_epoch(path)
    assert held < 8 and history["val_loss"][held] > history["val_loss"][held - 1]
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    resumed = moons_trainer([checkpoint]).fit(X, y, epochs=1, validation_split=0.3,
                                              resume_from=path)
    assert resumed["val_loss"][-1] == history["val_loss"][held]  # bit for bit the same epoch
    assert stored_epoch(path) == held and checkpoint.saved_epochs == [] and not checkpoint.written


def test_a_resumed_epoch_better_than_the_runs_best_is_written(tmp_path):
    X, y = moons()
    last, path = tmp_path / "last.safetensors", tmp_path / "best.safetensors"
    history = moons_trainer([ModelCheckpoint(last)]).fit(X, y, epochs=3, validation_split=0.3)
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    resumed = moons_trainer([checkpoint]).fit(X, y, epochs=1, validation_split=0.3,
                                              resume_from=last)
    assert resumed["val_loss"][-1] < min(history["val_loss"][:3])
    assert checkpoint.saved_epochs == [4] and stored_epoch(path) == 4


def test_an_interrupted_resumed_fit_without_a_better_epoch_says_which_is_the_best(tmp_path):
    X, y = moons()
    last, path = tmp_path / "last.safetensors", tmp_path / "best.safetensors"
    moons_trainer([ModelCheckpoint(last)]).fit(X, y, epochs=4, validation_split=0.3)

    def interrupt(trainer, epoch, batch, logs):
        if (epoch, batch) == (6, 1):
            os.kill(os.getpid(), signal.SIGINT)

    checkpoint = ModelCheckpoint(path, save_best_only=True)
    trainer = moons_trainer([LambdaCallback(on_batch_end=interrupt), checkpoint])
    history = trainer.fit(X, y, epochs=3, validation_split=0.3, resume_from=last)
    assert history.interrupted and history.epochs == [1, 2, 3, 4, 5] and not path.exists()
    assert history.note.endswith(
        f"; no checkpoint was written to {path}: no epoch of this fit completed with a better "
        "val_loss than the run's best so far (epoch 4, in the restored history)")


def test_a_fit_that_does_not_resume_writes_a_new_checkpoints_first_epoch(tmp_path):
    """Only a resumed fit starts from the history: a new ModelCheckpoint given to a trainer
    fitted before (its earlier epochs in no file of it) writes its first epoch."""
    X, y = moons()
    trainer = moons_trainer()
    trainer.fit(X, y, epochs=4, validation_split=0.3)
    checkpoint = ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True)
    trainer.callbacks = [checkpoint]
    history = trainer.fit(X, y, epochs=1, validation_split=0.3)
    assert history["val_loss"][-1] > min(history["val_loss"][:4])
    assert checkpoint.saved_epochs == [5]


def test_a_resumed_history_without_finite_values_writes_the_first_finite_epoch(tmp_path):
    """val_loss is NaN in the epochs trained without validation data: nothing to beat."""
    X, y = moons()
    last, path = tmp_path / "last.safetensors", tmp_path / "best.safetensors"
    moons_trainer([ModelCheckpoint(last)]).fit(X, y, epochs=2)
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    history = moons_trainer([checkpoint]).fit(X, y, epochs=1, validation_split=0.3,
                                              resume_from=last)
    assert np.isnan(history["val_loss"][:2]).all() and checkpoint.saved_epochs == [3]


# -- the batch size, shuffling and loss of the saved run -------------------------------------------


def blobs():
    return make_blobs(120, centers=3, std=2.0, seed=1)


def blobs_trainer(*, lr=0.01, batch_size=16, shuffle=True, loss="cross_entropy", callbacks=()):
    net = cr.mlp([2, 8, 3], output="softmax", dropout=0.2, seed=5)
    return Trainer(net, loss, Adam(lr=lr), batch_size=batch_size, shuffle=shuffle, seed=9,
                   verbose=0, callbacks=list(callbacks))


def blobs_checkpoint(tmp_path):
    path = tmp_path / "c.safetensors"
    blobs_trainer(callbacks=[ModelCheckpoint(path)]).fit(*blobs(), epochs=2)
    return path


@pytest.mark.parametrize(
    "settings, differences",
    [
        ({"batch_size": 7}, ["batch_size: saved 16, now 7"]),
        ({"shuffle": False}, ["shuffle: saved True, now False"]),
        ({"loss": CrossEntropy(label_smoothing=0.3)},
         ["loss.label_smoothing: saved 0.0, now 0.3"]),
        ({"loss": CrossEntropy(reduction="sum")}, ["loss.reduction: saved 'mean', now 'sum'"]),
        ({"lr": 0.02, "batch_size": 8, "shuffle": False},
         ["optimizer.lr: saved 0.01, now 0.02", "batch_size: saved 16, now 8",
          "shuffle: saved True, now False"]),
    ],
    ids=["batch_size", "shuffle", "label_smoothing", "reduction", "several"],
)
def test_resuming_with_another_batch_size_shuffling_or_loss_is_refused(tmp_path, settings,
                                                                      differences):
    X, y = blobs()
    path = blobs_checkpoint(tmp_path)
    trainer = blobs_trainer(**settings)
    before = trainer.net.parameters.copy()
    with pytest.raises(cr.ModelFormatError) as info:
        trainer.fit(X, y, epochs=1, resume_from=path)
    message = str(info.value)
    assert message.startswith(f"{path}: the checkpoint's run used other training settings than "
                              f"this trainer: {'; '.join(differences)}. ")
    assert "checkpoint_network(path)" in message and "without resume_from" in message
    np.testing.assert_array_equal(trainer.net.parameters, before)  # nothing changed
    assert trainer.epoch == 0 and trainer.encoder is None and not trainer.resumed


def line():
    X = np.random.default_rng(0).normal(size=(60, 2))
    return X, X @ np.array([1.0, -2.0])


def regressor(loss, callbacks=()):
    return Trainer(cr.mlp([2, 4, 1], seed=0), loss, Adam(), seed=0, verbose=0,
                   callbacks=list(callbacks))


def test_another_loss_class_is_refused_naming_both(tmp_path):
    """A regression run's checkpoint resumed with another loss: the loss's every setting."""
    X, y = line()
    path = tmp_path / "c.safetensors"
    regressor("mse", [ModelCheckpoint(path)]).fit(X, y, epochs=1)
    with pytest.raises(cr.ModelFormatError, match=(
            r"other training settings than this trainer: loss.delta: saved '\(not set\)', now "
            r"1.0; loss.name: saved 'mse', now 'huber'\. ")):
        regressor(Huber()).fit(X, y, epochs=1, resume_from=path)


def test_the_same_settings_in_new_objects_resume_bit_identically(tmp_path):
    X, y = blobs()
    straight = blobs_trainer(loss=CrossEntropy(label_smoothing=0.1), batch_size=12)
    straight.fit(X, y, epochs=4)
    path = tmp_path / "c.safetensors"
    blobs_trainer(loss={"name": "cross_entropy", "label_smoothing": 0.1}, batch_size=12,
                  callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=2)
    record = json.loads(read_tensors(path)[1]["trainer"])
    assert (record["batch_size"], record["shuffle"], record["loss"]) == (
        12, True, {"name": "cross_entropy", "from_logits": False, "label_smoothing": 0.1,
                   "reduction": "mean"})
    resumed = blobs_trainer(loss=CrossEntropy(label_smoothing=0.1), batch_size=12)
    resumed.fit(X, y, epochs=2, resume_from=path)
    assert resumed.net.parameters.tobytes() == straight.net.parameters.tobytes()


def test_a_checkpoint_without_these_settings_still_resumes(tmp_path):
    """Checkpoints written before the batch size, shuffling and loss were recorded lack them:
    they resume (bit for bit, with the run's settings), those settings unchecked."""
    X, y = blobs()
    straight = blobs_trainer()
    straight.fit(X, y, epochs=4)
    path = blobs_checkpoint(tmp_path)
    tensors, metadata = read_tensors(path, check_finite=False)
    record = json.loads(metadata["trainer"])
    for field in ("batch_size", "shuffle", "loss"):
        del record[field]
    write_tensors(path, tensors, {**metadata, "trainer": json.dumps(record)})
    resumed = blobs_trainer()
    assert resumed.fit(X, y, epochs=2, resume_from=path).epochs == [1, 2, 3, 4]
    assert resumed.net.parameters.tobytes() == straight.net.parameters.tobytes()
    other = blobs_trainer(batch_size=7, shuffle=False)  # nothing recorded to compare with
    assert other.fit(X, y, epochs=1, resume_from=path).epochs == [1, 2, 3]


def test_an_unregistered_loss_is_recorded_by_its_class(tmp_path):
    """A loss class of one's own with no registered name has no config: the checkpoint is
    still written, naming the class, and resuming compares the class."""

    class MyMSE(MSE):
        pass

    X, y = line()
    path = tmp_path / "c.safetensors"
    regressor(MyMSE(), [ModelCheckpoint(path)]).fit(X, y, epochs=1)
    record = json.loads(read_tensors(path)[1]["trainer"])
    assert record["loss"] == {"class": f"{MyMSE.__module__}.{MyMSE.__qualname__}"}
    assert regressor(MyMSE()).fit(X, y, epochs=1, resume_from=path).epochs == [1, 2]
    with pytest.raises(cr.ModelFormatError,
                       match=r"loss.class: saved '.*MyMSE', now '\(not set\)'"):
        regressor("mse").fit(X, y, epochs=1, resume_from=path)
