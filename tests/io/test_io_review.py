"""Model files, continued: class labels keep their dtype and exact values; a Dense layer's init
dict holding NumPy scalars is saved; the JSON helpers shared with checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.errors import ModelFormatError
from chainrule.io import load, load_with_targets, read_metadata, save, write_tensors
from chainrule.layers.builders import mlp
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential
from chainrule.model_targets import TARGETS_KEY
from chainrule.training.trainer import Trainer


def _fitted(y, n_outputs, output, loss, rng):
    X = rng.normal(size=(len(y), 3))
    trainer = Trainer(mlp([3, 5, n_outputs], output=output, seed=0), loss, seed=0, verbose=0)
    trainer.fit(X, y, epochs=1)
    return trainer, X


LABELS = {
    # name: (labels, n_outputs, output, loss, stored classes_dtype)
    "uint64 beyond 2**63": (np.array([0, 2**64 - 1] * 12, dtype=np.uint64), 1, "sigmoid",
                            "binary_cross_entropy", "uint64"),
    "float32": (np.array([0.1, 0.7] * 12, dtype=np.float32), 1, "sigmoid",
                "binary_cross_entropy", "float32"),
    "int8": (np.array([-3, 4, 7] * 8, dtype=np.int8), 3, "softmax", "cross_entropy", "int8"),
    "padded str": (np.array(["a", "bb", "c"] * 8, dtype="U6"), 3, "softmax", "cross_entropy",
                   "U6"),
    # labels that read back as they are from the plain list: no classes_dtype is written
    "bool": (np.array([False, True] * 12), 2, "softmax", "cross_entropy", None),
}


@pytest.mark.parametrize("case", LABELS)
def test_loaded_labels_have_the_trainers_dtype_and_exact_values(tmp_path, rng, case):
    y, n_outputs, output, loss, dtype = LABELS[case]
    trainer, X = _fitted(y, n_outputs, output, loss, rng)
    path = tmp_path / "model.safetensors"
    save(trainer.net, path, trainer=trainer)
    record = json.loads(read_metadata(path)[TARGETS_KEY])
    assert record["classes"] == trainer.encoder.classes.tolist()  # exact, e.g. 2**64 - 1
    assert record.get("classes_dtype") == dtype
    net, targets = load_with_targets(path)
    assert targets.classes.dtype == trainer.encoder.classes.dtype
    assert targets.classes.tolist() == trainer.encoder.classes.tolist()
    decoded = targets.encoder().decode(targets.probabilities(net.forward(X)))
    expected = trainer.predict(X)
    assert decoded.dtype == expected.dtype and decoded.tolist() == expected.tolist()


def test_float32_labels_come_back_as_float32_not_float64_digits(tmp_path, rng):
    trainer, _ = _fitted(*LABELS["float32"][:4], rng)
    path = tmp_path / "model.safetensors"
    save(trainer.net, path, trainer=trainer)
    classes = load_with_targets(path)[1].classes
    assert classes.dtype == np.float32 and str(classes[0]) == "0.1"


def _file(tmp_path, **changes):
    """A model file whose targets record is a 3-class multiclass one, with ``changes``."""
    net = mlp([2, 3], output="softmax", seed=0)
    record = {"task": "multiclass", "y_ndim": 1, "classes": [1, 2, 3], "from_logits": False}
    record.update(changes)
    record = {key: value for key, value in record.items() if value is not ...}
    path = tmp_path / "model.safetensors"
    write_tensors(path, {name: p for name, p, _ in net.named_parameters()},
                  {"config": json.dumps(net.get_config()), TARGETS_KEY: json.dumps(record)})
    return path


@pytest.mark.parametrize(
    "classes, dtype",
    [([1, 2, 3], np.int64), ([-1.5, 0.5, 2.0], np.float64), (["a", "b", "c"], np.dtype("U1"))],
)
def test_a_record_without_classes_dtype_reads_as_before(tmp_path, classes, dtype):
    """Files written before ``classes_dtype`` existed: ``numpy.asarray`` of the list."""
    targets = load_with_targets(_file(tmp_path, classes=classes))[1]
    assert targets.classes.dtype == dtype and targets.classes.tolist() == classes


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"classes_dtype": "object"}, r"dtype must be one of bool, int8, .* got 'object'"),
        ({"classes_dtype": "int8", "classes": [1, 2, 300]},
         r"values outside the range of int8: \[1, 2, 300\]"),
        ({"classes_dtype": "uint64", "classes": [-1, 0, 1]}, "outside the range of uint64"),
        ({"classes_dtype": "float32", "classes": [1.0, 2.0, 1e39]}, "outside the range of float32"),
        ({"classes_dtype": "int64", "classes": [1.0, 2.0, 3.0]},
         r"dtype int64 needs a list of integers, got \[1.0, 2.0, 3.0\]"),
        ({"classes_dtype": "U1", "classes": ["a", "b", "cc"]},
         "a string of 2 characters does not fit dtype U1"),
        ({"classes_dtype": "bool", "classes": [0, 1, 2]}, "needs a list of booleans"),
        ({"classes_dtype": "int64", "classes": None, "task": "regression"},
         "task 'regression' has no classes, got classes_dtype 'int64'"),
        ({"classes_dtype": "int64", "extra": 1}, r"and optionally \['classes_dtype'\]"),
    ],
    ids=["unknown-dtype", "int8-overflow", "uint64-negative", "float32-overflow",
         "floats-for-ints", "str-too-long", "ints-for-bool", "regression", "unknown-key"],
)
def test_a_bad_classes_dtype_is_refused_naming_the_file(tmp_path, changes, message):
    path = _file(tmp_path, **changes)
    with pytest.raises(ModelFormatError, match=message) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: the metadata 'targets'")


@pytest.mark.parametrize(
    "array",
    [np.array([0, 2**63, 2**64 - 1], dtype=np.uint64), np.array([0.1, -2.5], dtype=np.float32),
     np.array([-128, 127], dtype=np.int8), np.array([1.5], dtype=np.float16),
     np.array(["x", "yz"], dtype="U7"), np.array([True]), np.array([], dtype=np.uint32)],
    ids=lambda a: str(a.dtype),
)
def test_array_json_round_trip_is_exact_through_json_text(array):
    from chainrule.model_targets import array_from_json, array_to_json

    values, dtype = array_to_json(array)
    values, dtype = json.loads(json.dumps([values, dtype]))
    back = array_from_json(values, dtype)
    assert back.dtype == array.dtype and back.tolist() == array.tolist()


@pytest.mark.parametrize(
    "array", [np.array([[1, 2]]), np.array([b"a"]), np.array([1 + 2j]), np.array([None])],
    ids=["2-D", "bytes", "complex", "object"],
)
def test_array_to_json_refuses_what_it_cannot_store(array):
    from chainrule.model_targets import array_to_json

    with pytest.raises(ValueError, match="only 1-D arrays of booleans, numbers or str"):
        array_to_json(array)


# -- Dense init dicts ---------------------------------------------------------------------------


def test_an_init_dict_with_a_numpy_scalar_is_saved_and_loaded(tmp_path):
    caller = {"name": "small_normal", "std": np.float32(0.1)}
    net = Sequential([Dense(3, 2, init=caller)], seed=0)
    config = net.layers[0].get_config()["init"]
    assert config == {"name": "small_normal", "std": float(np.float32(0.1))}
    assert type(config["std"]) is float
    path = tmp_path / "model.safetensors"
    save(net, path)
    loaded = load(path)
    assert loaded.layers[0].get_config() == net.layers[0].get_config()
    np.testing.assert_array_equal(loaded.parameters, net.parameters)


def test_a_dense_layer_never_shares_its_init_dict():
    caller = {"name": "small_normal", "std": 0.5}
    layer = Dense(3, 2, init=caller)
    config = layer.get_config()
    assert config["init"] is not caller
    caller["std"] = 9.0  # the caller's dict changes ...
    config["init"]["std"] = 7.0  # ... and so does a config handed out
    assert layer.get_config()["init"] == {"name": "small_normal", "std": 0.5}
