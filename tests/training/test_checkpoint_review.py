"""Checkpoints, continued: every bit generator, class dtypes, bytes labels, save_best_only at
Ctrl-C, resuming with other optimizer or schedule settings, and how a fit ended."""

from __future__ import annotations

import json
import os
import re
import signal
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.datasets import make_blobs
from chainrule.errors import ModelFormatError
from chainrule.io import read_tensors, save, write_tensors
from chainrule.layers import ReLU
from chainrule.layers.builders import mlp
from chainrule.optim import SCHEDULES, SGD, Adam, Schedule, StepLR
from chainrule.training import EarlyStopping, LambdaCallback, Trainer
from chainrule.training.checkpoint import (
    ModelCheckpoint,
    checkpoint_network,
    load_checkpoint,
    save_checkpoint,
)

BIT_GENERATORS = [np.random.MT19937, np.random.Philox, np.random.SFC64, np.random.PCG64,
                  np.random.PCG64DXSM]


def data(n=120):
    return make_blobs(n, centers=3, std=2.0, seed=1)


def make_trainer(optimizer=None, *, schedule=None, callbacks=(), seed=9, net_seed=5, verbose=0,
                 dropout=0.2):
    net = mlp([2, 8, 3], output="softmax", dropout=dropout, seed=net_seed)
    return Trainer(net, "cross_entropy", Adam(lr=0.01) if optimizer is None else optimizer,
                   schedule=schedule, batch_size=16, seed=seed, verbose=verbose,
                   callbacks=list(callbacks))


def interrupt_at(when):
    """A callback that presses Ctrl-C after batch ``when = (epoch, batch)``."""
    def interrupt(trainer, epoch, batch, logs):
        if (epoch, batch) == when:
            os.kill(os.getpid(), signal.SIGINT)
    return LambdaCallback(on_batch_end=interrupt)


def same_state(a, b):
    """Two bit generator states are equal, arrays by dtype and value."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(
            same_state(a[key], b[key]) for key in a)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    return type(a) is type(b) and a == b


# -- 1. every bit generator ------------------------------------------------------------------


@pytest.mark.parametrize("bit_generator", BIT_GENERATORS, ids=lambda bg: bg.__name__)
def test_every_bit_generator_resumes_bit_identically(bit_generator, tmp_path):
    """The trainer's shuffling generator and the dropout masks' generator of any kind are
    stored exactly (MT19937, Philox and SFC64 states hold uint32/uint64 arrays)."""
    X, y = data()

    def trainer(callbacks=()):
        return make_trainer(seed=np.random.Generator(bit_generator(3)),
                            net_seed=np.random.Generator(bit_generator(4)), callbacks=callbacks)

    straight = trainer()
    straight.fit(X, y, epochs=4)
    path = tmp_path / "c.safetensors"
    first = trainer([ModelCheckpoint(path)])
    first.fit(X, y, epochs=2)
    saved_states = [first.rng.bit_generator.state, first.net.layers[2].rng.bit_generator.state]

    resumed = trainer()
    load_checkpoint(resumed, path)
    assert same_state(resumed.rng.bit_generator.state, saved_states[0])
    assert same_state(resumed.net.layers[2].rng.bit_generator.state, saved_states[1])
    resumed.fit(X, y, epochs=2)
    assert resumed.net.parameters.tobytes() == straight.net.parameters.tobytes()
    assert resumed.history["loss"] == straight.history["loss"]


@pytest.mark.parametrize("bit_generator", BIT_GENERATORS[:3], ids=lambda bg: bg.__name__)
def test_a_generator_states_arrays_are_stored_with_their_dtype_and_exact_values(
        bit_generator, tmp_path):
    X, y = data()
    path = tmp_path / "c.safetensors"
    trainer = make_trainer(seed=np.random.Generator(bit_generator(7)),
                           callbacks=[ModelCheckpoint(path)])
    trainer.fit(X, y, epochs=1)
    stored = json.loads(read_tensors(path)[1]["trainer"])["rng"]
    array_name = {"MT19937": "key", "Philox": "key", "SFC64": "state"}[bit_generator.__name__]
    expected = trainer.rng.bit_generator.state["state"][array_name]
    assert stored["state"][array_name] == {"dtype": expected.dtype.name,
                                           "ndarray": expected.tolist()}


def test_resuming_with_another_kind_of_generator_names_both_kinds(tmp_path):
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(seed=np.random.Generator(np.random.MT19937(7)),
                 callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=1)
    resumed = make_trainer(seed=7)
    before = resumed.net.parameters.copy()
    with pytest.raises(ModelFormatError, match=(
            rf"{re.escape(str(path))}: the checkpoint's run had a MT19937 bit generator behind "
            r"the Trainer's generator \(seed\), this one has PCG64: resuming restores the "
            r"generator's state, so it needs the same kind, e\.g\. "
            r"seed=np\.random\.Generator\(np\.random\.MT19937\(\)\)")):
        resumed.fit(X, y, epochs=2, resume_from=path)
    np.testing.assert_array_equal(resumed.net.parameters, before)
    make_trainer(seed=np.random.Generator(np.random.MT19937())).fit(X, y, epochs=2,
                                                                    resume_from=path)


def test_uint64_state_values_beyond_2_63_survive_exactly(tmp_path):
    X, y = data()
    path = tmp_path / "c.safetensors"
    key = [2**64 - 1, 2**63 + 1]  # float64 would round both
    make_trainer(seed=np.random.Generator(np.random.Philox(key=key)),
                 callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=1)
    stored = json.loads(read_tensors(path)[1]["trainer"])["rng"]["state"]["key"]
    assert stored == {"dtype": "uint64", "ndarray": key}
    resumed = make_trainer(seed=np.random.Generator(np.random.Philox(0)))
    load_checkpoint(resumed, path)
    restored = resumed.rng.bit_generator.state["state"]["key"]
    assert restored.dtype == np.uint64 and restored.tolist() == key


def test_a_damaged_stored_generator_array_is_refused_naming_the_file(tmp_path):
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(seed=np.random.Generator(np.random.MT19937(0)),
                 callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=1)
    tensors, metadata = read_tensors(path)
    record = json.loads(metadata["trainer"])
    record["rng"]["state"]["key"]["ndarray"][0] = 2**40  # beyond uint32
    write_tensors(path, tensors, {**metadata, "trainer": json.dumps(record)})
    resumed = make_trainer(seed=np.random.Generator(np.random.MT19937(1)))
    before = resumed.rng.bit_generator.state
    with pytest.raises(cr.ModelFormatError, match=rf"^{re.escape(str(path))}: .*outside the "
                       r"range of uint32"):
        load_checkpoint(resumed, path)
    assert same_state(resumed.rng.bit_generator.state, before)


def test_an_mlp_classifier_with_an_mt19937_random_state_writes_checkpoints(tmp_path):
    pytest.importorskip("sklearn")
    from chainrule.sklearn import MLPClassifier

    X, y = data()
    path = tmp_path / "c.safetensors"
    model = MLPClassifier(hidden_layer_sizes=(4,), max_iter=2, verbose=0,
                          random_state=np.random.Generator(np.random.MT19937(0)),
                          callbacks=[ModelCheckpoint(path)])
    with warnings.catch_warnings():  # two iterations do not converge, as intended
        warnings.simplefilter("ignore")
        model.fit(X, y)
    record = json.loads(read_tensors(path)[1]["trainer"])
    assert record["rng"]["bit_generator"] == "MT19937"
    assert record["rng"]["state"]["key"]["dtype"] == "uint32"


# -- 1. bytes labels, paths that cannot be written -------------------------------------------


@pytest.mark.parametrize("where, error, message", [
    ("missing/c.safetensors", FileNotFoundError, (r"No such file or directory \(its folder must "
                                                 r"exist\): '.*missing/c\.safetensors'")),
    ("", IsADirectoryError, r"Is a directory, not a file path"),
    ("a_file/c.safetensors", NotADirectoryError, r"Not a directory: '.*a_file/c\.safetensors'"),
    ("c" * 250 + ".safetensors", OSError, r"File name too long .*: '.*/c{250}\.safetensors'"),
])
def test_a_checkpoint_path_that_cannot_be_written_fails_before_the_first_epoch(
        tmp_path, where, error, message):
    (tmp_path / "a_file").write_text("not a folder")
    X, y = data(40)
    parameters = []
    trainer = make_trainer(callbacks=[
        LambdaCallback(on_epoch_end=lambda *args: parameters.append(1)),
        ModelCheckpoint(tmp_path / where if where else tmp_path)])
    before = trainer.net.parameters.copy()
    with pytest.raises(error, match=message):
        trainer.fit(X, y, epochs=2)
    assert parameters == [] and trainer.epoch == 0
    np.testing.assert_array_equal(trainer.net.parameters, before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a_file"]  # no probe file left


def test_a_checkpoint_into_a_read_only_folder_fails_before_the_first_epoch(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who may write anywhere (root)")
        trainer = make_trainer(callbacks=[ModelCheckpoint(folder / "c.safetensors")])
        with pytest.raises(PermissionError, match=r"locked/c\.safetensors"):
            trainer.fit(*data(40), epochs=2)
        assert trainer.epoch == 0
    finally:
        folder.chmod(0o700)


def test_bytes_labels_are_refused_before_training_naming_the_checkpoint(tmp_path):
    X, _ = data(40)
    y = np.array([b"no", b"yes"] * 20)
    path = tmp_path / "c.safetensors"
    trainer = Trainer(mlp([2, 4, 1], output="sigmoid", seed=0), "binary_cross_entropy",
                      verbose=0, callbacks=[ModelCheckpoint(path)])
    message = (rf"cannot store the trainer's classes \[b'no', b'yes'\] \(dtype \|S3\) in the "
               rf"checkpoint {re.escape(str(path))}: class labels must be numbers, booleans or "
               r"str; train with str labels")
    with pytest.raises(TypeError, match=message):
        trainer.fit(X, y, epochs=2)
    assert trainer.epoch == 0 and not path.exists()  # refused before the first epoch
    trainer.callbacks = []
    trainer.fit(X, y, epochs=1)
    with pytest.raises(TypeError, match=message):  # also when written directly
        save_checkpoint(trainer, path)
    assert not path.exists()
    with pytest.raises(TypeError, match=r"\(dtype \|S3\) in a model file: class labels must"):
        save(trainer.net, tmp_path / "m.safetensors", trainer=trainer)  # the same check


class _Halving(Schedule):
    """A schedule of one's own, as the Schedule docstring describes: halve every ``every``."""

    def __init__(self, every=2, *, unit="epoch"):
        super().__init__(unit=unit)
        self.every = every

    def _lr(self, t, base_lr):
        return base_lr * 0.5 ** (t // self.every)


class _MyAdam(Adam):
    """An optimizer subclass nobody registered."""


class _Twice(ReLU):
    """A layer class nobody registered in LAYERS."""


@pytest.mark.parametrize(("make", "message"), [
    (lambda: make_trainer(schedule=_Halving()),
     (r"_Halving is not a registered schedule, so a config or checkpoint cannot name it: "
      r"register it under a name of its own, e\.g\. "
      r"@chainrule\.optim\.SCHEDULES\.register\('_halving'\)")),
    (lambda: make_trainer(_MyAdam(lr=0.01)),
     r"_MyAdam is not a registered optimizer.*@chainrule\.optim\.OPTIMIZERS\.register"),
    (lambda: Trainer(cr.Sequential([cr.layers.Dense(2, 1), _Twice()], seed=0), "mse",
                     verbose=0),
     r"cannot save layer #1 \(_Twice\): its class is not registered in chainrule\.layers\.LAYERS"),
], ids=["schedule", "optimizer", "layer"])
def test_an_unregistered_class_is_refused_before_the_first_epoch(tmp_path, make, message):
    X, y = data(40)
    path = tmp_path / "c.safetensors"
    trainer = make()
    trainer.callbacks = [ModelCheckpoint(path)]
    before = trainer.net.parameters.copy()
    y = y if trainer.net.out_features == 3 else y.astype(float)  # the layer case regresses
    with pytest.raises(TypeError, match=rf"cannot write the checkpoint {re.escape(str(path))}: "
                       + message):
        trainer.fit(X, y, epochs=2)
    assert trainer.epoch == 0 and not path.exists()  # refused before the first epoch
    np.testing.assert_array_equal(trainer.net.parameters, before)
    trainer.callbacks = []
    trainer.fit(X, y, epochs=1)  # trains without a checkpoint
    with pytest.raises(TypeError, match=message):  # and save_checkpoint says the same
        save_checkpoint(trainer, path)
    assert not path.exists()


def test_a_registered_schedule_of_ones_own_checkpoints_and_resumes(tmp_path, monkeypatch):
    monkeypatch.setattr(SCHEDULES, "_entries", dict(SCHEDULES._entries))  # for this test only
    monkeypatch.setattr(SCHEDULES, "_canonical", dict(SCHEDULES._canonical))
    SCHEDULES.register("test_halving")(_Halving)
    X, y = data()
    path = tmp_path / "c.safetensors"
    straight = make_trainer(schedule=_Halving())
    straight.fit(X, y, epochs=4)
    make_trainer(schedule=_Halving(), callbacks=[ModelCheckpoint(path)]).fit(X, y, epochs=2)
    resumed = make_trainer(schedule=_Halving())
    resumed.fit(X, y, epochs=2, resume_from=path)
    assert resumed.net.parameters.tobytes() == straight.net.parameters.tobytes()
    assert resumed.history["lr"] == straight.history["lr"] == [0.01, 0.01, 0.005, 0.005]


# -- 5. class labels keep their dtype and values -----------------------------------------------


@pytest.mark.parametrize(
    "y, dtype",
    [(np.array([0, 2**64 - 1] * 20, dtype=np.uint64), "uint64"),
     (np.array([0.1, 0.7] * 20, dtype=np.float32), "float32"),
     (np.array([-3, 4] * 20, dtype=np.int8), "int8"),
     (np.array(["no", "yes"] * 20, dtype="U10"), "U10")],
    ids=["uint64", "float32", "int8", "str-padded"],
)
def test_resumed_classes_keep_their_dtype_and_exact_values(y, dtype, tmp_path):
    X, _ = data(40)
    path = tmp_path / "c.safetensors"

    def trainer(callbacks=()):
        return Trainer(mlp([2, 4, 1], output="sigmoid", seed=0), "binary_cross_entropy",
                       seed=0, verbose=0, callbacks=list(callbacks))

    first = trainer([ModelCheckpoint(path)])
    first.fit(X, y, epochs=1)
    encoder = json.loads(read_tensors(path)[1]["trainer"])["encoder"]
    assert encoder["classes"] == first.encoder.classes.tolist()
    assert encoder["classes_dtype"] == dtype
    resumed = trainer()
    load_checkpoint(resumed, path)
    assert resumed.encoder.classes.dtype == y.dtype
    assert resumed.encoder.classes.tolist() == first.encoder.classes.tolist()
    predicted, expected = resumed.predict(X), first.predict(X)
    assert predicted.dtype == expected.dtype and predicted.tolist() == expected.tolist()


def test_a_checkpoint_without_classes_dtype_reads_the_classes_as_before(tmp_path):
    """Checkpoints written before ``classes_dtype`` existed stored a plain list; int64 labels
    are still stored so (the list reads back as the same array)."""
    X, _ = data(40)
    y = np.array([-1, 1] * 20)
    path = tmp_path / "c.safetensors"
    def make_trainer_():
        return Trainer(mlp([2, 4, 1], output="sigmoid", seed=0), "binary_cross_entropy",
                       seed=0, verbose=0)

    first = make_trainer_()
    first.fit(X, y, epochs=1)
    save_checkpoint(first, path)
    record = json.loads(read_tensors(path)[1]["trainer"])
    assert "classes_dtype" not in record["encoder"]
    resumed = make_trainer_()
    load_checkpoint(resumed, path)
    assert resumed.encoder.classes.dtype == np.int64
    assert resumed.encoder.classes.tolist() == [-1, 1]


# -- 2. save_best_only and Ctrl-C --------------------------------------------------------------


def scripted_val_loss(values):
    return LambdaCallback(on_epoch_end=lambda t, e, logs: logs.update(val_loss=values[e - 1]))


def test_an_interrupt_keeps_the_best_epochs_checkpoint_with_save_best_only(tmp_path):
    X, y = data()
    path = tmp_path / "best.safetensors"
    weights = {}
    keep = LambdaCallback(on_epoch_end=lambda t, e, logs: weights.update({e: t.net.parameters.copy()}))
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    trainer = make_trainer(callbacks=[scripted_val_loss([3.0, 2.0, 2.5, 1.0, 1.5, 0.5]), keep,
                                      interrupt_at((6, 2)), checkpoint])
    history = trainer.fit(X, y, epochs=10, validation_split=0.2)
    assert history.interrupted and len(history) == 5 and checkpoint.saved_epochs == [1, 2, 4]
    record = json.loads(read_tensors(path)[1]["trainer"])
    assert record["epoch"] == 4 and record["partial_epoch"] is False
    np.testing.assert_array_equal(checkpoint_network(path).parameters, weights[4])
    assert not np.array_equal(trainer.net.parameters, weights[4])  # the mid-epoch weights
    assert history.note.endswith(f"; checkpoint at {path} holds the best epoch 4")


def test_an_interrupt_before_any_best_epoch_writes_nothing_and_says_so(tmp_path):
    X, y = data()
    path = tmp_path / "best.safetensors"
    trainer = make_trainer(callbacks=[interrupt_at((1, 2)),
                                      ModelCheckpoint(path, save_best_only=True)])
    history = trainer.fit(X, y, epochs=3, validation_split=0.2)
    assert history.interrupted and not path.exists()
    assert history.note.endswith(f"; no checkpoint was written to {path}: no epoch of this fit "
                                 "completed with a best val_loss")


def test_without_save_best_only_an_interrupt_still_saves_the_moment(tmp_path):
    X, y = data()
    path = tmp_path / "c.safetensors"
    trainer = make_trainer(callbacks=[interrupt_at((3, 2)), ModelCheckpoint(path)])
    history = trainer.fit(X, y, epochs=5)
    record = json.loads(read_tensors(path)[1]["trainer"])
    assert record["epoch"] == 2 and record["partial_epoch"] is True
    np.testing.assert_array_equal(checkpoint_network(path).parameters, trainer.net.parameters)
    assert history.note.endswith(f"; checkpoint saved to {path}")


# -- 3. resuming with other optimizer or schedule settings ---------------------------------------


STEP_CONFIG = "{'name': 'step', 'step_size': 1, 'gamma': 0.5, 'unit': 'epoch'}"


def fitted_checkpoint(tmp_path, optimizer, schedule=None):
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(optimizer, schedule=schedule, callbacks=[ModelCheckpoint(path)]).fit(
        X, y, epochs=2)
    return path


@pytest.mark.parametrize(
    "saved, resumed, differences",
    [
        ((Adam(lr=0.01, beta1=0.5), None), (Adam(lr=0.0001, beta1=0.99), None),
         ["optimizer.beta1: saved 0.5, now 0.99", "optimizer.lr: saved 0.01, now 0.0001"]),
        ((SGD(lr=0.1, momentum=0.9), None), (SGD(lr=0.1, momentum=0.9, nesterov=True), None),
         ["optimizer.nesterov: saved False, now True"]),
        ((Adam(lr=0.01), StepLR(1, gamma=0.5)), (Adam(lr=0.01), None),
         [f"schedule: saved {STEP_CONFIG}, now None"]),
        ((Adam(lr=0.01), None), (Adam(lr=0.01), StepLR(1, gamma=0.5)),
         [f"schedule: saved None, now {STEP_CONFIG}"]),
        ((Adam(lr=0.01), StepLR(1, gamma=0.5)), (Adam(lr=0.01), StepLR(2, gamma=0.1)),
         ["schedule.gamma: saved 0.5, now 0.1", "schedule.step_size: saved 1, now 2"]),
    ],
    ids=["adam-lr-beta1", "sgd-nesterov", "schedule-dropped", "schedule-added",
         "schedule-settings"],
)
def test_resuming_with_other_settings_is_refused_listing_them(tmp_path, saved, resumed,
                                                             differences):
    X, y = data()
    path = fitted_checkpoint(tmp_path, *saved)
    trainer = make_trainer(resumed[0], schedule=resumed[1])
    before = (trainer.net.parameters.copy(), trainer.optimizer.lr, trainer.epoch)
    with pytest.raises(cr.ModelFormatError) as info:
        trainer.fit(X, y, epochs=1, resume_from=path)
    message = str(info.value)
    assert message.startswith(f"{path}: the checkpoint's run used other training settings "
                              f"than this trainer: {'; '.join(differences)}. ")
    assert "checkpoint_network(path)" in message and "without resume_from" in message
    np.testing.assert_array_equal(trainer.net.parameters, before[0])  # nothing changed
    assert (trainer.optimizer.lr, trainer.epoch, trainer.encoder) == (*before[1:], None)


def test_training_on_with_a_lower_rate_starts_a_new_fit_from_the_checkpoints_weights(tmp_path):
    X, y = data()
    path = fitted_checkpoint(tmp_path, Adam(lr=0.01))
    net = checkpoint_network(path)
    trainer = Trainer(net, "cross_entropy", Adam(lr=0.0001), batch_size=16, seed=9, verbose=0)
    history = trainer.fit(X, y, epochs=1)
    assert history["lr"] == [0.0001] and history.epochs == [1]


def test_resuming_with_the_same_settings_in_new_objects_is_accepted(tmp_path):
    X, y = data()
    path = fitted_checkpoint(tmp_path, Adam(lr=0.01, beta1=0.5), StepLR(1, gamma=0.5))
    trainer = make_trainer({"name": "adam", "lr": 0.01, "beta1": 0.5},
                           schedule={"name": "step", "step_size": 1, "gamma": 0.5})
    assert trainer.fit(X, y, epochs=1, resume_from=path).epochs == [1, 2, 3]


# -- 4. how a fit ended is told afresh by every fit ------------------------------------------------


def test_a_fit_after_an_interrupted_one_is_not_interrupted():
    X, y = data()
    trainer = make_trainer(callbacks=[interrupt_at((2, 2))])
    history = trainer.fit(X, y, epochs=5)
    assert history.interrupted and "interrupted by the user" in history.note
    trainer.callbacks = []
    history = trainer.fit(X, y, epochs=2)
    assert len(history) == 3 and not history.interrupted and history.note == ""


def test_a_fit_after_an_early_stop_is_not_stopped_early():
    X, y = data()
    trainer = make_trainer(callbacks=[EarlyStopping("loss", patience=0, min_delta=10.0)])
    history = trainer.fit(X, y, epochs=5)
    assert history.stopped_early and history.note.startswith("stopped early after epoch 2")
    trainer.callbacks = []
    history = trainer.fit(X, y, epochs=3)
    assert len(history) == 5 and not history.stopped_early and history.note == ""


def test_a_run_resumed_from_an_interrupted_checkpoint_ends_normally(tmp_path, capsys):
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(callbacks=[interrupt_at((3, 2)), ModelCheckpoint(path)]).fit(X, y, epochs=10)
    stored = json.loads(read_tensors(path)[1]["trainer"])["history"]
    assert stored["interrupted"] is True and stored["note"]
    capsys.readouterr()
    resumed = make_trainer(verbose=2)
    history = resumed.fit(X, y, epochs=2, resume_from=path)
    assert history.epochs == [1, 2, 3, 4]
    assert not history.interrupted and not history.stopped_early and history.note == ""
    out = capsys.readouterr().out
    assert "epoch 4/4" in out and "interrupted" not in out


def test_a_checkpoint_of_the_epoch_early_stopping_fired_resumes_without_the_flag(tmp_path):
    X, y = data()
    path = tmp_path / "c.safetensors"
    make_trainer(callbacks=[EarlyStopping("loss", patience=0, min_delta=10.0),
                            ModelCheckpoint(path)]).fit(X, y, epochs=5)
    assert json.loads(read_tensors(path)[1]["trainer"])["history"]["stopped_early"] is True
    history = make_trainer().fit(X, y, epochs=1, resume_from=path)
    assert history.epochs == [1, 2, 3] and not history.stopped_early and history.note == ""


def test_a_ctrl_c_in_an_epochs_last_batch_keeps_the_finished_epoch(tmp_path):
    """Every step of epoch 2 was taken: it counts, and a resumed run does not repeat it."""
    X, y = data()  # 120 samples, batches of 16: 8 a epoch
    path = tmp_path / "c.safetensors"
    trainer = make_trainer(callbacks=[interrupt_at((2, 8)), ModelCheckpoint(path)])
    history = trainer.fit(X, y, epochs=3)
    assert history.interrupted and history.epochs == [1, 2] and not trainer.epoch_in_progress
    assert "after epoch 2" in history.note and trainer.optimizer.n_steps == 16
    resumed = make_trainer()
    assert resumed.fit(X, y, epochs=1, resume_from=path).epochs == [1, 2, 3]
    whole = make_trainer()
    whole.fit(X, y, epochs=3)
    assert resumed.optimizer.n_steps == 24
    np.testing.assert_array_equal(resumed.net.parameters, whole.net.parameters)


def test_a_ctrl_c_while_a_zero_weight_batch_is_skipped_trains_no_later_batch(monkeypatch):
    from chainrule.training import trainer as trainer_module

    X, y = data()
    weights = np.ones(len(y))
    weights[16:32] = 0.0  # unshuffled, batch 2 has no weight: skipped, no step
    original = trainer_module.batches

    def interrupted_at_batch_2(*args, **kwargs):
        for number, batch in enumerate(original(*args, **kwargs), start=1):
            if number == 2:
                os.kill(os.getpid(), signal.SIGINT)
            yield batch

    monkeypatch.setattr(trainer_module, "batches", interrupted_at_batch_2)
    trainer = Trainer(mlp([2, 8, 3], output="softmax", seed=5), "cross_entropy", Adam(lr=0.01),
                      batch_size=16, shuffle=False, seed=9, verbose=0)
    history = trainer.fit(X, y, epochs=2, sample_weight=weights)
    assert history.interrupted and len(history) == 0 and trainer.optimizer.n_steps == 1


@pytest.mark.parametrize("earlier_epochs", [0, 1])
def test_patience_running_out_on_the_fits_last_epoch_is_no_early_stop(earlier_epochs):
    X, y = data()
    trainer = make_trainer()
    if earlier_epochs:
        trainer.fit(X, y, epochs=earlier_epochs)
    stopper = EarlyStopping("loss", patience=0, min_delta=10.0, restore_best=False)
    trainer.callbacks = [stopper]
    history = trainer.fit(X, y, epochs=2)  # no improvement in its second epoch: patience out
    assert len(history) == earlier_epochs + 2
    assert not history.stopped_early and history.note == "" and stopper.stopped_epoch == 0
    history = trainer.fit(X, y, epochs=3)  # ... and here with an epoch left
    assert history.stopped_early and stopper.stopped_epoch == earlier_epochs + 4
    assert len(history) == earlier_epochs + 4
