"""Model files that record what the outputs mean: ``save(net, path, trainer=...)``.

The Trainer maps labels that are not ``0 .. n_classes-1`` (strings, 1-based ints, -1/1) to
output indices; a model file saved with its trainer keeps that mapping (``targets``), and
whether the loss took logits, so the labels and probabilities come back after loading.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.errors import ModelFormatError
from chainrule.io import (
    TARGETS_KEY,
    ModelTargets,
    load,
    load_with_targets,
    read_metadata,
    read_tensors,
    save,
    write_tensors,
)
from chainrule.layers.builders import mlp
from chainrule.losses import BinaryCrossEntropy, CrossEntropy
from chainrule.training.checkpoint import save_checkpoint
from chainrule.training.trainer import Trainer


def _fitted(y, n_outputs, output, loss, rng, n_features=3):
    """A Trainer fitted for one epoch on random features and the labels ``y``."""
    X = rng.normal(size=(len(y), n_features))
    net = mlp([n_features, 5, n_outputs], output=output, dtype=np.float64, seed=0)
    trainer = Trainer(net, loss, "adam", batch_size=8, seed=0, verbose=0, metrics=[])
    trainer.fit(X, y, epochs=1)
    return trainer, X


CASES = {
    # name: (labels, n_outputs, output activation, loss)
    "ints 1..3": (np.array([1, 2, 3] * 8), 3, "softmax", "cross_entropy"),
    "strings": (np.array(["low", "mid", "high"] * 8), 3, "softmax", "cross_entropy"),
    "binary -1/1": (np.array([-1, 1] * 12), 1, "sigmoid", "binary_cross_entropy"),
    "binary years": (np.array([1990, 2010] * 12), 1, "sigmoid", "binary_cross_entropy"),
    "booleans": (np.array([False, True] * 12), 1, "sigmoid", "binary_cross_entropy"),
    "floats": (np.array([0.5, 1.5, 2.5] * 8), 3, "softmax", "cross_entropy"),
    "logits": (np.array([1, 2, 3] * 8), 3, "identity", CrossEntropy(from_logits=True)),
    "binary logits": (np.array(["no", "yes"] * 12), 1, "identity",
                      BinaryCrossEntropy(from_logits=True)),
    "regression": (np.linspace(-1.0, 1.0, 24), 1, "identity", "mse"),
    "multilabel": (np.array([[0, 1], [1, 0], [1, 1]] * 8), 2, "sigmoid", "binary_cross_entropy"),
}


@pytest.mark.parametrize("case", CASES)
def test_loaded_targets_predict_exactly_like_the_trainer(tmp_path, rng, case):
    y, n_outputs, output, loss = CASES[case]
    trainer, X = _fitted(y, n_outputs, output, loss, rng)
    path = tmp_path / "model.safetensors"
    save(trainer.net, path, trainer=trainer)

    net, targets = load_with_targets(path)
    assert targets.task == trainer.encoder.task
    assert targets.n_outputs == n_outputs and targets.y_ndim == y.ndim
    assert targets.from_logits == trainer.loss.from_logits
    if trainer.encoder.classes is None:
        assert targets.classes is None
    else:
        np.testing.assert_array_equal(targets.classes, trainer.encoder.classes)
        assert targets.classes.dtype.kind == trainer.encoder.classes.dtype.kind
    probabilities = targets.probabilities(net.forward(X))
    if targets.is_classifier:
        np.testing.assert_allclose(probabilities, trainer.predict_proba(X), rtol=1e-12)
    decoded = targets.encoder().decode(probabilities)
    np.testing.assert_array_equal(decoded, trainer.predict(X))
    assert decoded.dtype.kind == trainer.predict(X).dtype.kind
    # load() still returns just the network, and the file stays readable as before
    np.testing.assert_array_equal(load(path).forward(X), trainer.net.forward(X))


def test_the_record_is_plain_json_in_the_metadata(tmp_path, rng):
    trainer, _ = _fitted(*CASES["strings"], rng)
    path = tmp_path / "model.safetensors"
    save(trainer.net, path, trainer=trainer)
    record = json.loads(read_metadata(path)[TARGETS_KEY])
    # the plain list reads back as the same U4 array: no classes_dtype, so readers that do not
    # know that key read the file too
    assert record == {"task": "multiclass", "y_ndim": 1, "classes": ["high", "low", "mid"],
                      "from_logits": False}


def test_a_file_saved_without_a_trainer_has_no_targets(tmp_path, rng):
    net = mlp([2, 3], output="softmax", seed=0)
    path = tmp_path / "model.safetensors"
    save(net, path)
    assert TARGETS_KEY not in read_metadata(path)
    loaded, targets = load_with_targets(path)
    assert targets is None
    X = rng.normal(size=(4, 2))
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))


def test_save_refuses_a_bad_trainer(tmp_path, rng):
    trainer, _ = _fitted(*CASES["ints 1..3"], rng)
    path = tmp_path / "model.safetensors"
    with pytest.raises(TypeError, match="trainer must be a chainrule Trainer, got dict"):
        save(trainer.net, path, trainer={"classes": [1, 2, 3]})
    other = mlp([3, 5, 3], output="softmax", seed=1)
    with pytest.raises(ValueError, match="trainer must be the Trainer of net"):
        save(other, path, trainer=trainer)
    unfitted = Trainer(other, "cross_entropy", "adam", verbose=0)
    with pytest.raises(ValueError, match=r"trainer has not been fitted.*trainer\.fit\(X, y\)"):
        save(other, path, trainer=unfitted)
    assert not path.exists()


def test_bytes_labels_are_refused_before_writing(tmp_path, rng):
    trainer, _ = _fitted(np.array([b"no", b"yes"] * 4), 1, "sigmoid", "binary_cross_entropy", rng)
    path = tmp_path / "model.safetensors"
    with pytest.raises(TypeError, match=r"cannot store the trainer's classes \[b'no', b'yes'\] "
                       r"\(dtype \|S3\).*must be numbers, booleans or str"):
        save(trainer.net, path, trainer=trainer)
    assert not path.exists()


def _record(**changes):
    record = {"task": "multiclass", "y_ndim": 1, "classes": [1, 2, 3], "from_logits": False}
    record.update(changes)
    return json.dumps(record)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not valid JSON"),
        ('{"task": "multiclass"}', "must be an object with exactly the keys"),
        (_record(task="ranking"), "task must be one of"),
        (_record(task=["multiclass"]), r"task must be one of .*, got \['multiclass'\]"),
        (_record(task={"multiclass": 1}), "task must be one of"),
        # Refused on every NumPy 2 (2.0 accepted such a dtype, its itemsize wrapped negative):
        (_record(classes=["a", "b", "c"], classes_dtype="U999999999"),
         r"classes: dtype U999999999 is longer than NumPy allows \(at most U536870911\)$"),
        (_record(classes=["a", "b", "c"], classes_dtype="U536870912"),  # 2**31 bytes
         r"classes: dtype U536870912 is longer than NumPy allows \(at most U536870911\)$"),
        (_record(y_ndim=3), "y_ndim 3 is invalid for task 'multiclass'"),
        (_record(y_ndim=True), "y_ndim True is invalid"),
        (_record(from_logits="yes"), "from_logits must be true or false"),
        (_record(task="regression", classes=None, from_logits=True), "false for regression"),
        (_record(classes=[]), "classes must be a non-empty list"),
        (_record(classes=[1, "b", 3]), "classes must be a non-empty list of strings"),
        (_record(classes=[1, 2, [3]]), "classes must be a non-empty list of strings"),
        (_record(classes=[3, 2, 1]), "classes must be sorted and distinct"),
        (_record(classes=[1, 1, 2]), "classes must be sorted and distinct"),
        (_record(classes=[2**70, 2**71, 2**72]), "classes hold values numpy cannot store"),
        (_record(classes=[1.0, 2.0, 3.0]).replace("3.0", "1e999"),
         r"is not valid JSON \(the number 1e999 is beyond the float64 range\)"),
        (_record(classes=[1.0, 2.0, 3.0], classes_dtype="float32").replace("3.0", "1e999"),
         r"is not valid JSON \(the number 1e999 is beyond the float64 range\)"),
        (_record(classes=[1, 2]), "a multiclass network with 3 output.s. needs 3 classes, got 2"),
        (_record(task="regression"), "task 'regression' has no classes"),
        (_record(task="binary", classes=[0, 1]), "needs 1 output and 2 classes"),
    ],
)
def test_a_damaged_record_is_refused_naming_the_file(tmp_path, text, message):
    net = mlp([2, 3], output="softmax", seed=0)
    tensors = {name: param for name, param, _ in net.named_parameters()}
    path = tmp_path / "model.safetensors"
    write_tensors(path, tensors, {"config": json.dumps(net.get_config()), TARGETS_KEY: text})
    with pytest.raises(ModelFormatError, match=message) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: the metadata 'targets'")


def test_model_targets_from_logits_applies_softmax_or_sigmoid():
    logits = np.array([[0.0, np.log(3.0)], [2.0, 2.0]])
    multi = ModelTargets("multiclass", np.array(["a", "b"]), from_logits=True, n_outputs=2)
    np.testing.assert_allclose(multi.probabilities(logits), [[0.25, 0.75], [0.5, 0.5]])
    binary = ModelTargets("binary", np.array([-1, 1]), from_logits=True)
    np.testing.assert_allclose(binary.probabilities(np.array([[0.0], [np.log(3.0)]])),
                               [[0.5], [0.75]])
    plain = ModelTargets("multiclass", np.array(["a", "b"]), n_outputs=2)
    assert plain.probabilities(logits) is logits
    assert "classes=['a', 'b']" in repr(multi)


def test_a_training_checkpoint_is_refused_with_what_to_do_instead(tmp_path, rng):
    trainer, _ = _fitted(*CASES["ints 1..3"], rng)
    path = tmp_path / "checkpoint.safetensors"
    save_checkpoint(trainer, path)
    assert read_metadata(path)["kind"] == "training-checkpoint"
    with pytest.raises(ModelFormatError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path} is a training checkpoint")
    assert "model.safetensors" in message and "resume_from=path" in message
    assert "checkpoint_network(path)" in message


def test_read_metadata_reads_only_the_header(tmp_path):
    path = tmp_path / "t.safetensors"
    write_tensors(path, {"a": np.zeros(3)}, {"note": "hello"})
    metadata = read_metadata(path)
    assert metadata["note"] == "hello" and metadata["format"] == "chainrule"
    assert metadata == read_tensors(path)[1]
    data = bytearray(path.read_bytes())
    data[-1:] = b""  # truncate the tensor data: the header no longer fits the file
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFormatError, match=str(path)):
        read_metadata(path)


@pytest.mark.parametrize(("sizes", "output", "task", "classes", "y_ndim"), [
    ([2, 3], "softmax", "multiclass", [0, 1, 2], 1),
    ([2, 1], "sigmoid", "binary", [0, 1], 1),
    ([2, 3], "sigmoid", "multilabel", None, 2),
    ([2, 1], "identity", "regression", None, 1),
    ([2, 3], "tanh", "regression", None, 2),
])
def test_guess_targets_reads_the_last_layer_as_the_default_loss_would(sizes, output, task,
                                                                      classes, y_ndim):
    from chainrule.model_targets import guess_targets

    targets = guess_targets(mlp(sizes, output=output, seed=0))
    assert (targets.task, targets.y_ndim, targets.n_outputs) == (task, y_ndim, sizes[-1])
    assert (None if targets.classes is None else targets.classes.tolist()) == classes
    assert not targets.from_logits
