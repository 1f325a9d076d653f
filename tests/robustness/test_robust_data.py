"""Robustness of the data helpers: ``batches``, ``train_test_split`` and ``one_hot``.

A successful call returns what the docstring promises: every row exactly once across the
batches (none larger than ``batch_size``), a split that partitions the rows with the documented
test count, one-hot rows whose argmax gives back the labels.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chainrule._validation import MAX_CLASSES
from chainrule.errors import ShapeError
from chainrule.training.batching import batches
from chainrule.training.data import one_hot, train_test_split

ROBUST = settings.get_profile("chainrule-robustness")


def _rows(robust, n):
    """Arrays with n rows, of any dtype (batches and splits take any row data)."""
    return robust.hostile_arrays(shape=st.tuples(st.just(n), st.integers(0, 2)).map(
        lambda s: s[:1] if s[1] == 0 else s))


# ------------------------------------------------------------------------------ batches


@settings(ROBUST, max_examples=120)
@given(data=st.data())
def test_batches_visit_every_row_once(robust, data):
    n = data.draw(st.integers(0, 7), label="n_samples")
    which = data.draw(st.sampled_from([None, "X", "y", "batch_size", "seed"]), label="hostile")
    arguments = {
        "X": data.draw(_rows(robust, n), label="X"),
        "y": data.draw(st.one_of(st.none(), st.just(np.arange(n))), label="y"),
        "batch_size": data.draw(st.integers(1, 8), label="batch_size"),
        "shuffle": data.draw(st.booleans(), label="shuffle"),
        "seed": 0,
        "reuse_buffers": data.draw(st.booleans(), label="reuse_buffers"),
    }
    if which is not None:
        arguments[which] = data.draw(robust.hostile_inputs(), label=which)

    def run():  # copies: with reuse_buffers a batch is overwritten by the next
        return [tuple(np.array(a, copy=True) for a in batch) for batch in batches(**arguments)]

    X, y, size = arguments["X"], arguments["y"], arguments["batch_size"]
    X_array, y_array = robust.as_array(X), robust.as_array(y)
    outcome = robust.call(run, names=(which,) if which else ())
    if not outcome.ok:
        assert which is not None, f"batches rejected valid input: {outcome.error!r}"
        return
    assert robust.in_range(size, low=1, integer=True), f"batch_size={size!r} was accepted"
    assert X_array.ndim >= 1 and (y is None or y_array.ndim >= 1), (
        f"batches accepted X={X!r}, y={y!r}")
    result = outcome.value
    n_rows = len(X_array)
    assert len(result) == -(-n_rows // int(size))  # ceil(n_rows / batch_size)
    assert all(len(batch[0]) <= int(size) for batch in result)
    if y is not None:
        assert len(y_array) == n_rows
        seen = np.concatenate([batch[1] for batch in result]) if result else np.array([], int)
        # every row exactly once (compared by repr: NaN != NaN, complex numbers do not sort)
        assert sorted(map(repr, seen.tolist())) == sorted(map(repr, y_array.tolist()))


# ------------------------------------------------------------------------------ splits


def _valid_test_size(robust, size, n) -> bool:
    if robust.in_range(size, integer=True) and not isinstance(size, float) and not (
            hasattr(size, "dtype") and size.dtype.kind == "f"):
        return 1 <= int(size) <= n - 1
    if robust.in_range(size, 0, 1, low_open=True, high_open=True):
        return math.ceil(round(float(size) * n, 9)) <= n - 1
    return False


def _same(a, b) -> bool:
    """Equal arrays, NaN equal to NaN (objects compared item by item, identity first)."""
    if a.dtype.kind in "biufc":
        return np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    return a.shape == b.shape and a.tolist() == b.tolist()


@settings(ROBUST, max_examples=150)
@given(data=st.data())
def test_train_test_split_partitions_the_rows(robust, data):
    n = data.draw(st.integers(2, 8), label="n_samples")
    which = data.draw(st.sampled_from([None, "array", "test_size", "stratify", "seed"]),
                      label="hostile")
    index = np.arange(n)
    other = data.draw(_rows(robust, n), label="other array")
    k = data.draw(st.integers(1, n - 1), label="n_test")
    test_size = data.draw(st.sampled_from([k, (k - 0.5) / n]), label="test_size")
    can_stratify = n >= 4 and 2 <= k <= n - 2  # two classes, one of each on each side
    stratify = data.draw(st.sampled_from([None, index % 2] if can_stratify else [None]),
                         label="stratify")
    seed = 0
    if which == "array":
        other = data.draw(robust.hostile_inputs(), label="array")
    elif which == "test_size":
        test_size = data.draw(robust.hostile_scalars(), label="test_size")
    elif which == "stratify":
        stratify = data.draw(st.one_of(robust.hostile_inputs(), _rows(robust, n)),
                             label="stratify")
    elif which == "seed":
        seed = data.draw(robust.hostile_scalars(), label="seed")
    names = {None: (), "array": ("array #1",), "test_size": ("test_size",),
             "stratify": ("stratify", "the arrays"), "seed": ("seed",)}[which]
    outcome = robust.call(train_test_split, index, other, test_size=test_size,
                          stratify=stratify, seed=seed, names=names)
    valid_size = _valid_test_size(robust, test_size, n)
    if not outcome.ok:
        assert which is not None, f"train_test_split rejected valid input: {outcome.error!r}"
        return
    assert valid_size, f"test_size={test_size!r} was accepted for {n} samples"
    train, test, other_train, other_test = outcome.value
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(n))
    expected = (int(test_size) if isinstance(test_size, (int, np.integer))
                else max(1, math.ceil(round(float(test_size) * n, 9))))
    assert len(test) == expected
    other = robust.as_array(other)
    assert _same(other_train, other[train]) and _same(other_test, other[test])
    if stratify is not None and which is None and n >= 4:  # classes of 2+ on both sides
        assert set(stratify[test]) == set(stratify[train]) == set(stratify)


# ------------------------------------------------------------------------------ one-hot


def _magnitude(robust, value) -> float:
    """|value| for a real scalar (inf when no float holds it), else 0."""
    if not robust.is_real(value):
        return 0.0
    try:
        return abs(float(value))
    except OverflowError:
        return math.inf


def _negative(robust, labels) -> bool:
    array = robust.as_array(labels)
    return (array is not None and array.dtype.kind in "if" and array.size > 0
            and bool((array < 0).any()))


def _labels_beyond_int64(robust, labels) -> bool:
    array = robust.as_array(labels)
    return array is not None and array.dtype.kind in "uf" and robust.max_abs(labels) >= 2**62


@settings(ROBUST, max_examples=150)
@given(data=st.data())
def test_one_hot_rows_give_back_the_labels(robust, data):
    n = data.draw(st.integers(0, 5), label="n_samples")
    which = data.draw(st.sampled_from([None, "labels", "n_classes", "dtype"]), label="hostile")
    labels = data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n).map(np.array),
                       label="labels")
    n_classes, dtype = (4 if n == 0 else None), np.float64
    if which == "labels":
        labels = data.draw(st.one_of(robust.hostile_inputs(), _rows(robust, n)), label="labels")
    elif which == "n_classes":
        n_classes = data.draw(robust.hostile_scalars(), label="n_classes")
    elif which == "dtype":
        dtype = data.draw(st.one_of(robust.hostile_scalars(),
                                    st.sampled_from(["int8", "float32", "bool", "U3", "O"])),
                          label="dtype")
    biggest = max(robust.max_abs(labels), _magnitude(robust, n_classes))
    assume(not 2**16 < biggest <= MAX_CLASSES)  # valid, but a matrix of up to 2**20 columns
    # n_classes smaller than a label: the labels' range check reports it (naming labels)
    names = {None: (), "labels": ("labels",), "n_classes": ("n_classes", "labels"),
             "dtype": ("dtype",)}[which]
    outcome = robust.call(one_hot, labels, n_classes, dtype=dtype, names=names)
    if not outcome.ok:
        assert which is not None, f"one_hot rejected valid labels: {outcome.error!r}"
        if _negative(robust, labels) or _labels_beyond_int64(robust, labels):
            assert "n_classes must" not in str(outcome.error)  # blames the labels (B14)
        return
    assert biggest <= MAX_CLASSES, f"one_hot accepted labels={labels!r}, n_classes={n_classes!r}"
    encoded = outcome.value
    array = robust.as_array(labels)
    assert array.ndim == 1 and array.dtype.kind in "biuf"
    assert encoded.shape[0] == len(array) and encoded.dtype.kind in "biuf"
    if len(array):
        assert (encoded.sum(axis=1) == 1).all()
        np.testing.assert_array_equal(encoded.argmax(axis=1), array.astype(np.int64))


# ------------------------------------------------------------------------------ regressions
# Minimal cases of bugs these tests found (B12, B13, B14, B27), fixed. Those of one_hot (B14,
# B27) and train_test_split (B13, B27) are pinned, with every warning an error, in
# tests/training/test_data.py (test_one_hot_errors, test_one_hot_bad_dtype, test_split_errors,
# test_split_needs_arrays_of_equal_length); batches has no test file of its own, so its cases
# stay here.


@pytest.mark.parametrize(("X", "y", "error", "name"), [
    (5, None, ShapeError, "X"),
    ("abc", None, TypeError, "X"),
    (np.float64(1.0), None, ShapeError, "X"),
    (np.zeros((0, 2)), 5, ShapeError, "y"),
])
def test_batches_refuses_a_scalar(robust, X, y, error, name):
    """B12: a 0-D X (or y) has no rows; batches used to yield nothing."""
    robust.rejects(batches, X, y, names=(name,), error=error)  # checked at the call, not lazily


def test_batches_ragged_list_names_x(robust):
    """B27 (data helpers): numpy's 'inhomogeneous shape' error named no argument."""
    robust.rejects(lambda: list(batches([[1.0, 2.0], [3.0]])), names=("X",), error=TypeError)
