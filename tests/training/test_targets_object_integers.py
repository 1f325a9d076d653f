"""Integer class labels in an object array (pandas' usual dtype) are kept exactly.

float64 holds integers exactly only up to 2**53, so reading such labels as floats merged
neighbouring classes (2**53 + 1 became 2**53) without a word."""

import numpy as np
import pytest

import chainrule as cr
from chainrule.losses import MSE, BinaryCrossEntropy, CrossEntropy
from chainrule.training import Trainer
from chainrule.training.targets import TargetEncoder


def _fit(y, n_outputs, loss=None):
    return TargetEncoder(loss or CrossEntropy(), n_outputs).fit(y)


def test_integers_past_2_53_stay_distinct_classes():
    ids = [2**53, 2**53 + 1, 2**53 + 2, 2**53 + 3]
    encoder = _fit(np.array(ids * 3, dtype=object), 4)
    assert encoder.classes.dtype == np.int64
    assert encoder.classes.tolist() == ids
    np.testing.assert_array_equal(encoder.transform(np.array(ids, dtype=object)), [0, 1, 2, 3])


def test_object_integers_match_the_same_integers_as_an_array():
    """Past int64, numpy stores a list of non-negative ints as uint64: an object array of the
    same ints gives the same classes."""
    ids = [2**63, 2**63 + 1, 2**64 - 1]
    from_objects = _fit(np.array(ids, dtype=object), 3).classes
    from_list = _fit(ids, 3).classes
    assert from_objects.dtype == from_list.dtype == np.uint64
    assert from_objects.tolist() == from_list.tolist() == ids


def test_binary_object_integers_keep_both_classes():
    encoder = _fit(np.array([2**53, 2**53 + 1] * 2, dtype=object), 1, BinaryCrossEntropy())
    assert encoder.classes.tolist() == [2**53, 2**53 + 1]


def test_integers_beyond_64_bits_that_float64_holds_are_float64():
    """As :func:`chainrule.tables.read_table` reads them: float64 holds 10**20 exactly."""
    ids = [10**20, 2 * 10**20, -(10**20)]
    encoder = _fit(np.array(ids, dtype=object), 3)
    assert encoder.classes.dtype == np.float64
    assert [int(c) for c in encoder.classes] == sorted(ids)


@pytest.mark.parametrize("labels", [[10**20, 10**20 + 1, 10**20 + 2], [-(2**70) - 1, 0, 1]])
def test_integers_beyond_64_bits_that_float64_would_round_are_refused(labels):
    with pytest.raises(ValueError, match=r"^y holds the integer -?\d+, beyond int64 and uint64 "
                                         r".*float64 would round it to .*make them strings"):
        _fit(np.array(labels, dtype=object), 3)


def test_the_refusal_names_the_argument():
    encoder = _fit(np.array([0, 1, 2], dtype=object), 3)
    with pytest.raises(ValueError, match=r"^y_val holds the integer 100000000000000000001"):
        encoder.transform(np.array([10**20 + 1], dtype=object), name="y_val")


def test_integers_beyond_float64_keep_their_message():
    with pytest.raises(ValueError, match="y holds a number too large for float64"):
        _fit(np.array([10**400, 1, 2], dtype=object), 3)


@pytest.mark.parametrize("labels, dtype", [
    ([1.5, 2.5], np.float64),           # floats stay floats
    ([1, 2.5], np.float64),             # a mix of ints and floats is floats, as numpy makes it
    ([np.int32(1), 2], np.int64),       # numpy integers are integers
])
def test_object_numbers_for_regression(labels, dtype):
    y = np.array(labels * 2, dtype=object)
    encoder = _fit(y, 1, MSE())
    encoded = encoder.transform(y)
    assert encoded.dtype == np.float64
    np.testing.assert_array_equal(encoded.ravel(), np.array(labels * 2, dtype=np.float64))
    from chainrule.training.targets import _as_target_array
    assert _as_target_array(y).dtype == dtype


def test_trainer_learns_every_class_of_large_object_ids():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    ids = [2**53, 2**53 + 1, 2**53 + 2, 2**53 + 3]
    y = np.array([ids[i % 4] for i in range(40)], dtype=object)
    trainer = Trainer(cr.mlp([3, 4, 4], output="softmax", seed=0), "cross_entropy", seed=0,
                      verbose=0)
    trainer.fit(X, y, epochs=1)
    assert trainer.encoder.classes.tolist() == ids
    predictions = trainer.predict(X)
    assert predictions.dtype == np.int64 and set(predictions.tolist()) <= set(ids)
    same = Trainer(cr.mlp([3, 4, 4], output="softmax", seed=0), "cross_entropy", seed=0,
                   verbose=0)
    same.fit(X, y.astype(np.int64), epochs=1)
    for a, b in zip(trainer.net.parameters, same.net.parameters):
        np.testing.assert_array_equal(a, b)
