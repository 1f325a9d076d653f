"""Checkpoints: resuming is bit-identical to never stopping."""

from __future__ import annotations

import json
import os
import pickle
import re
import signal

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import make_blobs
from chainrule.io import read_tensors, write_tensors
from chainrule.optim import SGD, Adam, CosineLR, StepLR
from chainrule.training import LambdaCallback, Trainer
from chainrule.training.checkpoint import (
    ModelCheckpoint,
    checkpoint_network,
    load_checkpoint,
    save_checkpoint,
)
from chainrule.training.history import History


def data():
    X, y = make_blobs(240, centers=3, std=2.0, seed=1)
    return X, y


def make_trainer(optimizer, schedule=None, callbacks=()):
    net = cr.mlp([2, 16, 16, 3], output="softmax", dropout=0.2, seed=5)
    return Trainer(net, "cross_entropy", optimizer, schedule=schedule, batch_size=32, seed=9,
                   verbose=0, metrics=["accuracy"], callbacks=list(callbacks))


@pytest.mark.parametrize(
    "optimizer, schedule",
    [
        (lambda: SGD(lr=0.05, momentum=0.9), lambda: None),
        (lambda: Adam(lr=0.01), lambda: CosineLR(t_max=60, warmup=5, unit="step")),
        (lambda: Adam(lr=0.01), lambda: StepLR(step_size=3, gamma=0.5)),
    ],
    ids=["sgd-momentum", "adam-cosine-steps", "adam-step-epochs"],
)
def test_ten_epochs_equal_five_plus_resumed_five(optimizer, schedule, tmp_path):
    X, y = data()
    straight = make_trainer(optimizer(), schedule())
    straight.fit(X, y, epochs=10, validation_split=0.2)

    path = tmp_path / "checkpoint.safetensors"
    first = make_trainer(optimizer(), schedule(), callbacks=[ModelCheckpoint(path)])
    first.fit(X, y, epochs=5, validation_split=0.2)
    resumed = make_trainer(optimizer(), schedule())
    history = resumed.fit(X, y, epochs=5, validation_split=0.2, resume_from=path)

    assert resumed.net.parameters.tobytes() == straight.net.parameters.tobytes()
    assert history.epochs == list(range(1, 11))
    for key in ("loss", "val_loss", "val_accuracy", "lr"):
        assert history[key] == straight.history[key], key
    assert resumed.optimizer.n_steps == straight.optimizer.n_steps


def test_save_best_only_writes_when_the_monitor_improves(tmp_path):
    X, y = data()
    scripted = [3.0, 2.0, 2.5, 1.0, 1.5]
    script = LambdaCallback(on_epoch_end=lambda t, e, logs: logs.update(val_loss=scripted[e - 1]))
    checkpoint = ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True)
    trainer = make_trainer(Adam(), callbacks=[script, checkpoint])
    trainer.fit(X, y, epochs=5, validation_split=0.2)
    assert checkpoint.saved_epochs == [1, 2, 4]


def test_save_best_only_keeps_its_best_across_fits_until_reset(tmp_path):
    """A later fit (or partial_fit) writes only an epoch better than every earlier fit's best:
    a worse second phase must not replace the best checkpoint; reset() starts afresh."""
    X, y = data()
    scripted = [3.0, 2.0, 2.5, 5.0, 1.5, 4.0, 4.5]
    script = LambdaCallback(on_epoch_end=lambda t, e, logs: logs.update(val_loss=scripted[e - 1]))
    path = tmp_path / "best.safetensors"
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    trainer = make_trainer(Adam(), callbacks=[script, checkpoint])
    trainer.fit(X, y, epochs=3, validation_split=0.2)
    trainer.fit(X, y, epochs=2, validation_split=0.2)  # 5.0 then 1.5: only epoch 5 is better
    assert checkpoint.saved_epochs == [1, 2, 5] and checkpoint.written
    trainer.fit(X, y, epochs=1, validation_split=0.2)  # 4.0: worse than 1.5
    assert checkpoint.saved_epochs == [1, 2, 5] and not checkpoint.written
    assert json.loads(read_tensors(path)[1]["trainer"])["epoch"] == 5
    checkpoint.reset()
    trainer.fit(X, y, epochs=1, validation_split=0.2)  # 4.5: the first epoch after a reset
    assert checkpoint.saved_epochs == [1, 2, 5, 7]
    assert json.loads(read_tensors(path)[1]["trainer"])["epoch"] == 7


def test_save_best_only_starts_a_new_run_for_another_trainer(tmp_path):
    """The best value is of one Trainer's fits: a checkpoint object handed to a new Trainer
    writes that run's first epoch (a worse value than the earlier run's best), and the note of
    an interrupted fit names an epoch of this run. A copy (pickle) starts a new run too."""
    X, y = data()
    scripted = iter([1.0, 2.0, 3.0, 4.0, 5.0])
    script = LambdaCallback(on_epoch_end=lambda t, e, logs: logs.update(val_loss=next(scripted)))
    path = tmp_path / "best.safetensors"
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    make_trainer(Adam(), callbacks=[script, checkpoint]).fit(X, y, epochs=2, validation_split=0.2)
    assert checkpoint.saved_epochs == [1]

    def interrupt(trainer, epoch, batch, logs):
        if (epoch, batch) == (2, 1):
            os.kill(os.getpid(), signal.SIGINT)

    second = make_trainer(Adam(), callbacks=[script, LambdaCallback(on_batch_end=interrupt),
                                             checkpoint])
    second.fit(X, y, epochs=3, validation_split=0.2)  # 3.0, worse than 1.0: written anyway
    assert checkpoint.saved_epochs == [1, 1] and checkpoint.written
    assert "checkpoint at" in second.history.note and "best epoch 1" in second.history.note
    copy = pickle.loads(pickle.dumps(checkpoint))
    second.callbacks = [script, copy]
    second.fit(X, y, epochs=1, validation_split=0.2)  # 4.0: a new run for the copy
    assert copy.saved_epochs == [1, 1, 2]


def test_an_interrupted_run_saves_a_checkpoint(tmp_path):
    X, y = data()
    path = tmp_path / "interrupted.safetensors"

    def interrupt(trainer, epoch, batch, logs):
        if (epoch, batch) == (3, 2):
            os.kill(os.getpid(), signal.SIGINT)

    trainer = make_trainer(Adam(), callbacks=[LambdaCallback(on_batch_end=interrupt),
                                              ModelCheckpoint(path)])
    history = trainer.fit(X, y, epochs=10)
    assert history.interrupted and len(history) == 2
    assert f"checkpoint saved to {path}" in history.note
    net = checkpoint_network(path)
    np.testing.assert_array_equal(net.parameters, trainer.net.parameters)
    resumed = make_trainer(Adam())
    assert len(resumed.fit(X, y, epochs=1, resume_from=path)) == 3


def test_a_checkpoint_for_another_network_is_refused(tmp_path):
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(Adam(), callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=1)
    other = Trainer(cr.mlp([2, 8, 3], output="softmax", seed=0), "cross_entropy", verbose=0)
    with pytest.raises(cr.ModelFormatError, match="different network architecture"):
        load_checkpoint(other, path)
    sgd = make_trainer(SGD())
    with pytest.raises(cr.ModelFormatError, match="'adam' optimizer state"):
        load_checkpoint(sgd, path)
    with pytest.raises(cr.ModelFormatError, match="no 'config'|checkpoint"):
        cr.load(path)  # a checkpoint is not a model file


def test_a_model_file_is_not_a_checkpoint(tmp_path):
    trainer = make_trainer(Adam())
    cr.save(trainer.net, tmp_path / "model.safetensors")
    with pytest.raises(cr.ModelFormatError, match="not a chainrule training checkpoint"):
        load_checkpoint(trainer, tmp_path / "model.safetensors")


@pytest.mark.parametrize("damage", ["model tensor", "optimizer state", "history", "generator"])
def test_a_damaged_checkpoint_changes_nothing(tmp_path, damage):
    """Everything is validated before the trainer is touched: weights, optimizer and generators
    stay as they were when a late part of the checkpoint is invalid."""
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(Adam(), callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=2)
    tensors, metadata = read_tensors(path)
    record = json.loads(metadata["trainer"])
    if damage == "model tensor":  # the last one read: every earlier one has passed its checks
        assert "model.6.b" in tensors
        tensors = {k: v for k, v in tensors.items() if k != "model.6.b"}
    elif damage == "optimizer state":
        tensors = {k: v for k, v in tensors.items() if k != "optimizer.scaled_exp_avg_sq"}
    elif damage == "history":
        record["history"] = "not a history"
    else:
        record["rng"] = {"bit_generator": "PCG64", "state": "broken"}
    write_tensors(path, tensors, {**metadata, "trainer": json.dumps(record)})

    trainer = make_trainer(Adam())
    trainer.fit(X, y, epochs=1)
    before = (trainer.net.parameters.copy(), trainer.optimizer.state_dict(), trainer.epoch,
              trainer.rng.bit_generator.state, trainer.encoder)
    with pytest.raises(cr.ModelFormatError):
        load_checkpoint(trainer, path)
    np.testing.assert_array_equal(trainer.net.parameters, before[0])
    state = trainer.optimizer.state_dict()
    for key, value in before[1].items():
        np.testing.assert_array_equal(state[key], value)
    assert trainer.epoch == before[2] and trainer.rng.bit_generator.state == before[3]
    assert trainer.encoder is before[4]


@pytest.mark.parametrize(
    "damage, pattern",
    [
        (lambda t, m: ({k: v for k, v in t.items() if k != "model.0.W"}, m),
         (r"the tensors do not match the architecture in the config: missing \['0.W'\], "
         r"unexpected \[\]")),
        (lambda t, m: ({**t, "model.0.W": t["model.0.W"].astype(np.float64)}, m),
         r"tensor '0.W' is float64, but the config's dtype is float32"),
        (lambda t, m: ({**t, "model.0.W": t["model.0.W"][:1]}, m),
         (r"tensor '0.W' has shape \(1, 16\), but layer #0 \(Dense\) in the config needs "
         r"\(2, 16\)")),
        (lambda t, m: (t, {**m, "trainer": "{not json"}), "the training state is not valid JSON"),
        (lambda t, m: (t, {**m, "trainer": "[1, 2]"}), "the training state must be a JSON object"),
        (lambda t, m: (t, {**m, "config": "{not json"}), "the network config is not valid JSON"),
        (lambda t, m: (t, {**m, "trainer": "[" * 100_000 + "]" * 100_000}),
         "the training state is not valid JSON"),
        (lambda t, m: (t, {**m, "trainer": m["trainer"].replace('"epoch": 1,', '"epoch": Infinity,')}),
         "the checkpoint's training state is invalid: epoch must be an integer, got inf"),
        (lambda t, m: ({**t, "model.9.W": np.zeros(3, np.float32)}, m),
         (r"the tensors do not match the architecture in the config: missing \[\], "
         r"unexpected \['9.W'\]")),
        (lambda t, m: ({**t, "stray": np.zeros(3, np.float32)}, m),
         (r"a checkpoint holds only tensors named model.\*, optimizer.\* and history.\*, got "
         r"\['stray'\]")),
    ],
    ids=["missing-tensor", "tensor-dtype", "tensor-shape", "not-json", "not-an-object",
         "config-not-json", "nested-too-deep", "epoch-infinity", "unexpected-model-tensor",
         "stray-tensor"],
)
def test_a_damaged_checkpoint_names_the_file_and_the_problem(tmp_path, damage, pattern):
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(Adam(), callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=1)
    write_tensors(path, *damage(*read_tensors(path)))
    with pytest.raises(cr.ModelFormatError, match=f"^{re.escape(str(path))}: {pattern}"):
        load_checkpoint(make_trainer(Adam()), path)
    if "tensor" in pattern:  # the network alone is refused for the same reason
        with pytest.raises(cr.ModelFormatError, match=f"^{re.escape(str(path))}: {pattern}"):
            checkpoint_network(path)


def _edit(record, key, value):
    """``record`` (the trainer record, a dict) with ``key`` (``"encoder.task"``) set."""
    *parents, last = key.split(".")
    for parent in parents:
        record = record[parent]
    record[last] = value


@pytest.mark.parametrize(
    "key, value, pattern",
    [
        ("encoder.classes", [0, 2, 1],
         r"the checkpoint's encoder record: classes must be sorted and distinct, got \[0, 2, 1\]"),
        ("encoder.classes", [[0], [1], [2]],
         ("the checkpoint's encoder record: classes must be a non-empty list of strings, of "
         "booleans or of numbers")),
        ("encoder.classes", [0, 1],
         (r"the checkpoint's encoder record: a multiclass network with 3 output\(s\) needs 3 "
         "classes, got 2")),
        ("encoder.classes", [0.0, 1.0, float("inf")],
         r"the checkpoint's encoder record: classes must be finite, got \[0.0, 1.0, inf\]"),
        ("encoder.classes", [0.0, 1.0, float("nan")],
         r"the checkpoint's encoder record: classes must be finite, got \[0.0, 1.0, nan\]"),
        ("encoder.task", "bogus", "the checkpoint's encoder record: task must be one of"),
        ("encoder.y_ndim", 3, "the checkpoint's encoder record: y_ndim 3 is invalid"),
        ("encoder.extra", 1, "the checkpoint's encoder record must be an object with exactly"),
        ("encoder", {"task": "regression", "y_ndim": 1, "classes": None},
         ("the checkpoint's training state is invalid: the task 'regression' is not one a "
         r"CrossEntropy loss trains \('multiclass'\)")),
        ("lr_factor", float("nan"), "lr_factor must be finite, got nan"),
        ("lr_factor", -0.5, r"lr_factor must be in \[0, 1\], got -0.5"),
        ("lr_factor", 1e6, r"lr_factor must be in \[0, 1\], got 1000000.0"),
        ("lr_factor", "0.5", "lr_factor must be a real number, got '0.5'"),
        ("epoch", -5, r"epoch must be in \[0, inf\), got -5"),
        ("epoch", 1.5, "epoch must be an integer, got 1.5"),
        ("epoch", 0, (r"the history's epochs must increase within \[1, 0\] \(the epoch count\), "
         r"got \[1\]")),
        ("split_seed", -1, r"split_seed must be in \[0, inf\), got -1"),
        ("dropout_rngs", {"2": None},
         (r"dropout_rngs must hold the generators of the layers \['2', '5'\] \(those with one\), "
         r"got \['2'\]")),
        ("partial_epoch", "yes", r"partial_epoch must be True or False, got 'yes' \(str\)$"),
        ("partial_epoch", 2, r"partial_epoch must be True or False, got 2 \(int\)$"),
        ("partial_epoch", None, r"partial_epoch must be True or False, got None \(NoneType\)$"),
        ("history.interrupted", "no",
         r"history.interrupted must be True or False, got 'no' \(str\)$"),
        ("history.stopped_early", 1,
         r"history.stopped_early must be True or False, got 1 \(int\)$"),
        ("history.note", ["x"], r"history.note must be a str, got \['x'\] \(list\)$"),
    ],
    ids=["classes-unsorted", "classes-nested", "classes-too-few", "classes-infinite",
         "classes-nan", "task-unknown", "y_ndim",
         "encoder-key", "task-of-another-loss", "lr_factor-nan", "lr_factor-negative",
         "lr_factor-huge", "lr_factor-str", "epoch-negative", "epoch-fraction",
         "epoch-below-history", "split_seed-negative", "dropout-generator-missing",
         "partial_epoch-str", "partial_epoch-int", "partial_epoch-null",
         "history-interrupted-str", "history-stopped_early-int", "history-note-list"],
)
def test_a_damaged_training_state_is_refused_naming_the_file_and_the_entry(
        tmp_path, key, value, pattern):
    """Every entry of the trainer record is checked before resuming, the classes as a model
    file's targets record is: an unsorted list would swap the predicted labels, a huge
    lr_factor diverge, a negative epoch break the schedule later without naming the file."""
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(Adam(), callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=1)
    tensors, metadata = read_tensors(path)
    record = json.loads(metadata["trainer"])
    _edit(record, key, value)
    write_tensors(path, tensors, {**metadata, "trainer": json.dumps(record)})
    trainer = make_trainer(Adam())
    with pytest.raises(cr.ModelFormatError, match=f"^{re.escape(str(path))}: .*{pattern}"):
        trainer.fit(X, y, epochs=1, resume_from=path)
    assert trainer.epoch == 0 and trainer.encoder is None


@pytest.mark.parametrize("lr_factor", [0.0, 1.0, 0.25])
def test_every_lr_factor_a_run_can_reach_resumes(tmp_path, lr_factor):
    """ReduceLROnPlateau only multiplies the factor by ratios below 1 (to 0 when the reduced
    rate underflows): [0, 1] is what a run writes, and what resuming accepts."""
    X, y = data()
    path = tmp_path / "c.safetensors"
    first = make_trainer(Adam())
    first.fit(X, y, epochs=1)
    first.lr_factor = lr_factor
    save_checkpoint(first, path)
    resumed = make_trainer(Adam())
    load_checkpoint(resumed, path)
    assert resumed.lr_factor == lr_factor


def test_labels_outside_a_resumed_checkpoints_classes_name_the_checkpoint(tmp_path):
    """y of another problem than the checkpoint's run is refused for its labels, and the
    message says the classes are the checkpoint's (not the trainer's own)."""
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(Adam(), callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=1)
    with pytest.raises(ValueError, match=f"outside the known classes \\[0, 1, 2\\] \\(from the "
                                         f"checkpoint {re.escape(str(path))}\\): \\[3, 4, 5\\]"):
        make_trainer(Adam()).fit(X, y + 3, epochs=1, resume_from=path)


def test_a_checkpoint_of_an_unfitted_trainer_forgets_the_classes(tmp_path):
    X, y = data()
    path = tmp_path / "fresh.safetensors"
    save_checkpoint(make_trainer(Adam()), path)
    trainer = make_trainer(Adam())
    trainer.fit(X, y, epochs=1)
    assert trainer.encoder is not None
    load_checkpoint(trainer, path)
    assert trainer.encoder is None and trainer.epoch == 0 and len(trainer.history) == 0
    with pytest.raises(RuntimeError, match="call fit"):
        trainer.predict(X)
    assert len(trainer.fit(X, y, epochs=1)) == 1  # the classes are learnt again


@pytest.mark.parametrize(("path", "error", "message"), [
    (None, TypeError, r"path must be a str, bytes or os.PathLike file path, got None"),
    ("", ValueError, "path must be a file path, got the empty string"),
    ("run\x00.safetensors", ValueError, "path must not contain a NUL byte"),
])
def test_a_bad_checkpoint_path_is_refused_when_the_callback_is_made(path, error, message):
    with pytest.raises(error, match=message):
        ModelCheckpoint(path)


def test_checkpoint_network_takes_a_seed_for_its_dropout_masks(tmp_path):
    X, y = make_blobs(60, centers=2, seed=0)
    path = tmp_path / "ckpt.safetensors"
    net = cr.mlp([2, 8, 1], output="sigmoid", dropout=0.5, seed=0)
    cr.Trainer(net, "binary_cross_entropy", "adam", callbacks=[ModelCheckpoint(path)],
               seed=0, verbose=0).fit(X, y, epochs=1)
    from chainrule.training.checkpoint import checkpoint_network

    runs = []
    for seed in (5, 5, 6):
        trainer = cr.Trainer(checkpoint_network(path, seed=seed), "binary_cross_entropy",
                             "adam", seed=0, verbose=0)
        trainer.fit(X, y, epochs=2)
        runs.append(trainer.net.parameters.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])  # the seed does reach the masks


@pytest.mark.parametrize(
    "fit, error, pattern",
    [
        (lambda t, X, y, path: t.fit(X[:, :1], y, resume_from=path), cr.ShapeError,
         r"\(n_samples, 2\)"),
        (lambda t, X, y, path: t.fit(X, y[:-1], resume_from=path), ValueError,
         "same number of samples"),
        (lambda t, X, y, path: t.fit(X, y + 10, resume_from=path), ValueError,
         "outside the known classes"),
    ],
    ids=["X-width", "y-length", "y-classes"],
)
def test_a_resumed_fit_refusing_its_data_leaves_the_trainer_as_it_was(tmp_path, fit, error,
                                                                       pattern):
    """The checkpoint is restored before the data can be checked (its classes encode y), and
    put back when the data is refused: the trainer keeps its own weights, epoch and history."""
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(Adam(), callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=3)
    trainer = make_trainer(Adam())
    trainer.fit(X, y, epochs=1)
    weights, state = trainer.net.parameters.copy(), trainer.optimizer.state_dict()
    rng, history, encoder = trainer.rng.bit_generator.state, trainer.history, trainer.encoder
    with pytest.raises(error, match=pattern):
        fit(trainer, X, y, path)
    np.testing.assert_array_equal(trainer.net.parameters, weights)
    assert trainer.optimizer.n_steps == state["step"]
    np.testing.assert_array_equal(trainer.optimizer.state_dict()["scaled_exp_avg_sq"],
                                  state["scaled_exp_avg_sq"])
    assert trainer.rng.bit_generator.state == rng
    assert trainer.history is history and trainer.epoch == 1 and len(history) == 1
    assert trainer.encoder is encoder
    assert len(trainer.fit(X, y, epochs=2, resume_from=path)) == 5  # the corrected call resumes


def _same_history(a, b):
    """``a`` and ``b`` hold the same epochs, keys (in order) and values, NaN where NaN."""
    assert a.epochs == b.epochs and list(a) == list(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert (a.interrupted, a.stopped_early, a.note) == (b.interrupted, b.stopped_early, b.note)


def test_the_historys_numbers_are_tensors_and_resume_with_their_nans(tmp_path):
    """Each logged key is a float64 tensor beside history.epoch; the JSON record keeps only
    the keys and how the fit ended. A key first logged by a later fit (val_loss) is NaN for
    the earlier epochs, and resumes so."""
    X, y = data()
    path = tmp_path / "c.safetensors"
    trainer = make_trainer(Adam(), callbacks=[ModelCheckpoint(path)])
    trainer.fit(X, y, epochs=2)
    trainer.fit(X, y, epochs=2, validation_split=0.2)
    tensors, metadata = read_tensors(path, check_finite=False)
    stored = json.loads(metadata["trainer"])["history"]
    assert stored == {"keys": list(trainer.history), "interrupted": False,
                      "stopped_early": False, "note": ""}
    np.testing.assert_array_equal(tensors["history.epoch"], [1.0, 2.0, 3.0, 4.0])
    for key in trainer.history:
        assert tensors[f"history.{key}"].dtype == np.float64
        np.testing.assert_array_equal(tensors[f"history.{key}"], trainer.history[key])
    assert np.isnan(tensors["history.val_loss"][:2]).all()
    resumed = make_trainer(Adam())
    load_checkpoint(resumed, path)
    _same_history(resumed.history, trainer.history)


def test_a_long_historys_checkpoint_keeps_a_small_header(tmp_path):
    """The JSON record does not grow with the epochs: as JSON, a history of some 120,000
    epochs filled the 16 MiB header a reader accepts, and every save re-encoded all of it."""
    X, y = data()
    trainer = make_trainer(Adam())
    trainer.fit(X, y, epochs=1)
    n = 50_000
    values = np.random.default_rng(0).random(n).tolist()
    trainer.history = History.from_dict({"epoch": list(range(1, n + 1)),
                                         **{key: values for key in trainer.history}})
    trainer.epoch = n
    path = tmp_path / "c.safetensors"
    save_checkpoint(trainer, path)
    assert len(read_tensors(path)[1]["trainer"]) < 5_000
    resumed = make_trainer(Adam())
    load_checkpoint(resumed, path)
    _same_history(resumed.history, trainer.history)


def test_a_checkpoint_with_the_history_as_json_still_resumes(tmp_path):
    """Checkpoints written before the history's tensors existed held History.as_dict() in
    the record (NaN written as JSON's NaN): they resume with that history."""
    X, y = data()
    path = tmp_path / "c.safetensors"
    trainer = make_trainer(Adam(), callbacks=[ModelCheckpoint(path)])
    trainer.fit(X, y, epochs=1)
    trainer.fit(X, y, epochs=1, validation_split=0.2)  # val_loss is NaN at epoch 1
    tensors, metadata = read_tensors(path, check_finite=False)
    record = json.loads(metadata["trainer"])
    record["history"] = trainer.history.as_dict()
    tensors = {k: v for k, v in tensors.items() if not k.startswith("history.")}
    write_tensors(path, tensors, {**metadata, "trainer": json.dumps(record)})
    resumed = make_trainer(Adam())
    load_checkpoint(resumed, path)
    _same_history(resumed.history, trainer.history)
    assert resumed.history.epochs == [1, 2] and np.isnan(resumed.history["val_loss"][0])


def _set_tensor(name, value):
    return lambda t, r: ({**t, name: value(t)}, r)


@pytest.mark.parametrize(
    "damage, pattern",
    [
        (_set_tensor("history.loss", lambda t: t["history.loss"].astype(np.float32)),
         (r"history tensor 'history.loss' must be float64 of shape \(2,\) \(one value per "
         r"epoch\), got float32 of shape \(2,\)")),
        (_set_tensor("history.loss", lambda t: t["history.loss"][:1]),
         (r"history tensor 'history.loss' must be float64 of shape \(2,\) .*got float64 of "
         r"shape \(1,\)")),
        (_set_tensor("history.loss", lambda t: t["history.loss"].reshape(2, 1)),
         r"history tensor 'history.loss' must be .*got float64 of shape \(2, 1\)"),
        (_set_tensor("history.epoch", lambda t: np.array(1.0)),
         (r"history tensor 'history.epoch' must be float64 of shape \(n_epochs,\) .*got "
         r"float64 of shape \(\)")),
        (_set_tensor("history.epoch", lambda t: np.array([1.0, np.nan])),
         r"the history's epochs must be integers, got \[1.0, nan\]"),
        (_set_tensor("history.epoch", lambda t: np.array([1.0, 1.5])),
         r"the history's epochs must be integers, got \[1.0, 1.5\]"),
        (_set_tensor("history.epoch", lambda t: np.array([2.0, 1.0])),
         (r"the history's epochs must increase within \[1, 2\] \(the epoch count\), got "
         r"\[2, 1\]")),
        (_set_tensor("history.epoch", lambda t: np.array([1.0, 3.0])),
         r"the history's epochs must increase within \[1, 2\]"),
        (lambda t, r: ({k: v for k, v in t.items() if k != "history.lr"}, r),
         r"the history's tensors must be history.epoch and one per key, .*'history.lr'.*, got "),
        (_set_tensor("history.extra", lambda t: np.zeros(2)),
         r"the history's tensors must be history.epoch .*got \[.*'history.extra'"),
        (lambda t, r: (t, {**r, "history": {**r["history"], "keys": "loss"}}),
         r"the history's keys must be a list of distinct names, none of .*, got 'loss'"),
        (lambda t, r: (t, {**r, "history": {**r["history"], "keys": ["loss", "loss"]}}),
         r"the history's keys must be a list of distinct names"),
        (lambda t, r: (t, {**r, "history": {**r["history"], "keys": ["loss", "note"]}}),
         r"the history's keys must be a list of distinct names"),
        (lambda t, r: (t, {**r, "history": "not a history"}),
         r"history must be a JSON object, got str"),
        (lambda t, r: (t, {**r, "history": {"epoch": [1, 2], "loss": [0.5, 0.4]}}),
         r"the history is stored as JSON, so no history tensor may exist, got \['history.acc"),
    ],
    ids=["float32", "too-short", "two-dimensional", "epoch-scalar", "epoch-nan",
         "epoch-fraction", "epoch-decreasing", "epoch-beyond-count", "tensor-missing",
         "tensor-extra", "keys-not-a-list", "keys-repeated", "keys-reserved", "not-an-object",
         "json-and-tensors"],
)
def test_a_damaged_history_is_refused_naming_the_file_and_the_problem(tmp_path, damage, pattern):
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(Adam(), callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=2)
    tensors, metadata = read_tensors(path)
    tensors, record = damage(tensors, json.loads(metadata["trainer"]))
    write_tensors(path, tensors, {**metadata, "trainer": json.dumps(record)})
    trainer = make_trainer(Adam())
    with pytest.raises(cr.ModelFormatError,
                       match=f"^{re.escape(str(path))}: the checkpoint's training state is "
                             f"invalid: {pattern}"):
        load_checkpoint(trainer, path)
    assert trainer.epoch == 0 and len(trainer.history) == 0


def test_non_finite_history_values_resume_but_not_non_finite_weights(tmp_path):
    """A history may hold NaN and infinity (a metric's value); the weights and the optimizer
    state may not, as read_tensors refuses them."""
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(Adam(), callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=2)
    tensors, metadata = read_tensors(path)
    tensors["history.accuracy"] = np.array([np.nan, np.inf])
    write_tensors(path, tensors, metadata)
    resumed = make_trainer(Adam())
    load_checkpoint(resumed, path)
    assert np.isnan(resumed.history["accuracy"][0]) and resumed.history["accuracy"][1] == np.inf
    tensors["model.0.W"] = np.full_like(tensors["model.0.W"], np.nan)
    write_tensors(path, tensors, metadata)
    with pytest.raises(cr.ModelFormatError,
                       match=rf"^{re.escape(str(path))}: tensor 'model.0.W' holds 32 NaN"):
        load_checkpoint(resumed, path)


def test_loading_a_checkpoint_with_nan_in_its_history_as_a_model_says_what_it_is(tmp_path):
    """chainrule.load tells a checkpoint from a model file before it checks the values, so a
    NaN in the history (a key first logged later) does not pass for a diverged model."""
    X, y = data()
    path = tmp_path / "c.safetensors"
    trainer = make_trainer(Adam(), callbacks=[ModelCheckpoint(path)])
    trainer.fit(X, y, epochs=1)
    trainer.fit(X, y, epochs=1, validation_split=0.2)  # val_loss is NaN at epoch 1
    with pytest.raises(cr.ModelFormatError, match="is a training checkpoint"):
        cr.load(path)


def test_a_model_checkpoint_repr_is_its_constructor_call(tmp_path):
    path = str(tmp_path / "c.safetensors")
    checkpoint = ModelCheckpoint(path, "val_accuracy", save_best_only=True)
    assert repr(checkpoint) == (f"ModelCheckpoint(path={path!r}, monitor='val_accuracy', "
                                "save_best_only=True, mode='auto')")
    rebuilt = eval(repr(checkpoint), {"ModelCheckpoint": ModelCheckpoint})
    assert repr(rebuilt) == repr(checkpoint)
    assert (rebuilt.path, rebuilt.monitor, rebuilt.mode) == (path, "val_accuracy", "auto")
