"""one_hot, train_test_split and train_val_test_split."""

from __future__ import annotations

import re

import numpy as np
import pytest

from chainrule._validation import MAX_CLASSES
from chainrule.errors import ShapeError
from chainrule.training.data import one_hot, train_test_split, train_val_test_split

# --------------------------------------------------------------------------- one_hot


def test_one_hot_values_and_shape():
    Y = one_hot([2, 0, 1, 2])
    assert Y.shape == (4, 3) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])


def test_one_hot_n_classes_and_dtype():
    Y = one_hot(np.array([1, 0], dtype=np.uint8), 4, dtype=np.float32)
    assert Y.shape == (2, 4) and Y.dtype == np.float32
    np.testing.assert_array_equal(Y.argmax(axis=1), [1, 0])
    assert one_hot([1], dtype=int).dtype.kind == "i"


def test_one_hot_accepts_whole_floats_and_empty():
    np.testing.assert_array_equal(one_hot(np.array([1.0, 0.0])), [[0, 1], [1, 0]])
    with np.errstate(all="raise"):  # float16 cannot hold the class limit 2**20: no overflow
        np.testing.assert_array_equal(one_hot(np.array([0.0, 1.0], np.float16)), [[1, 0], [0, 1]])
    assert one_hot(np.array([], dtype=int), 3).shape == (0, 3)


def test_one_hot_round_trip(rng):
    labels = rng.integers(0, 7, 100)
    np.testing.assert_array_equal(one_hot(labels, 7).argmax(axis=1), labels)
    np.testing.assert_array_equal(one_hot(labels, 7).sum(axis=1), 1)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "labels, n_classes, error, match",
    [
        ([0, 3], 3, ValueError, r"labels.*\[0, 3\).*3"),
        # B14: huge uint64 labels wrapped around to -1, negative ones were reported as
        # 'n_classes must be >= 1', a huge float leaked a cast RuntimeWarning and a label of
        # 2**53 asked for a 64 PiB matrix (MemoryError).
        ([0, -1], None, ValueError, r"labels.*-1"),
        (np.array([2**64 - 1], np.uint64), None, ValueError, r"labels.*18446744073709551615"),
        ([0, 2**53], None, ValueError, r"labels.*9007199254740992"),
        ([1e300], None, ValueError, r"labels.*1e\+300"),
        (np.array([2.0**63]), None, ValueError, r"labels.*9\.223372036854776e\+18"),
        ([MAX_CLASSES], None, ValueError, rf"labels.*\[0, {MAX_CLASSES}\).*{MAX_CLASSES}"),
        ([0.5, 1.0], None, ValueError, r"labels.*whole.*0\.5"),
        ([0.0, np.nan], None, ValueError, r"labels.*whole"),
        (["a", "b"], None, TypeError, r"labels.*integer"),
        ([[1, 2], [3]], None, TypeError, "labels"),  # B27: numpy's message named no argument
        ([[0, 1], [1, 0]], None, ShapeError, "argmax"),
        ([], None, ValueError, "n_classes"),
        ([0, 1], 0, ValueError, "n_classes"),
        ([0, 1], 2.5, TypeError, "n_classes"),
        ([0, 1], True, TypeError, "n_classes"),
        # B14: a huge n_classes gave a MemoryError or numpy's message.
        ([0, 1], 2**53, ValueError, r"n_classes.*at most"),
        ([0], MAX_CLASSES + 1, ValueError, rf"n_classes.*at most {MAX_CLASSES}"),
        ([0], 10**400, ValueError, rf"n_classes.*at most {MAX_CLASSES}"),
    ],
)
def test_one_hot_errors(labels, n_classes, error, match):
    with pytest.raises(error, match=match) as caught:
        one_hot(labels, n_classes)
    if match.startswith("labels"):  # B14: a bad label is blamed on the labels, not n_classes
        assert "n_classes must" not in str(caught.value)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [object, "U3", "foo", ",", "a", complex, 0.5])
def test_one_hot_bad_dtype(dtype):
    # B14: numpy's "data type 'foo' not understood" (or its SyntaxError for ',', its
    # DeprecationWarning for 'a') did not name dtype.
    with pytest.raises(TypeError, match="dtype"):
        one_hot([0, 1], dtype=dtype)


def test_one_hot_refuses_a_matrix_too_large_to_allocate(monkeypatch):
    # Whether a real (n_samples, 2**20) matrix fails depends on the machine's memory policy,
    # so the allocation is made to fail the way NumPy does when memory runs out.
    def no_memory(shape, dtype):
        raise MemoryError(f"Unable to allocate an array with shape {shape}")

    monkeypatch.setattr(np, "zeros", no_memory)
    with pytest.raises(ValueError, match=r"n_classes=1048576.*\(3, 1048576\).*allocated"):
        one_hot([0, 1, 2], 2**20)


# --------------------------------------------------------------------------- train_test_split


def check_partition(train_idx, test_idx, n):
    """Disjoint and covering 0..n-1."""
    assert len(np.intersect1d(train_idx, test_idx)) == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train_idx, test_idx])), np.arange(n))


def test_split_order_sizes_and_partition():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20) * 10
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0)
    assert X_train.shape == (15, 2) and X_test.shape == (5, 2)
    check_partition(X_train[:, 0] // 2, X_test[:, 0] // 2, 20)
    # Rows stay aligned across arrays.
    np.testing.assert_array_equal(X_train[:, 0] // 2 * 10, y_train)
    np.testing.assert_array_equal(X_test[:, 0] // 2 * 10, y_test)


@pytest.mark.parametrize("test_size, n_test", [(0.1, 10), (0.07, 7), (0.333, 34), (1e-45, 1), (1, 1),
                                             (99, 99)])
def test_test_size_fraction_or_count(test_size, n_test):
    parts = train_test_split(np.arange(100), test_size=test_size, seed=0)
    assert len(parts[1]) == n_test and len(parts[0]) == 100 - n_test


def test_split_is_shuffled_and_deterministic():
    a = np.arange(200)
    first = train_test_split(a, seed=5)
    second = train_test_split(a, seed=5)
    other = train_test_split(a, seed=6)
    for x, y in zip(first, second):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(first[1], other[1])
    assert not np.array_equal(first[0], np.sort(first[0]))  # shuffled


def test_inputs_are_not_modified_and_outputs_are_copies():
    X = np.arange(30.0).reshape(10, 3)
    y = np.arange(10)
    X_copy, y_copy = X.copy(), y.copy()
    parts = train_test_split(X, y, test_size=3, stratify=y % 2, seed=1)
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    parts[0][:] = -1
    np.testing.assert_array_equal(X, X_copy)


def test_accepts_lists_and_any_dimension():
    images = np.zeros((12, 2, 2))
    names = [f"s{i}" for i in range(12)]
    a_train, a_test, n_train, n_test = train_test_split(images, names, test_size=4, seed=0)
    assert a_train.shape == (8, 2, 2) and a_test.shape == (4, 2, 2)
    assert set(n_train) | set(n_test) == set(names)


def test_stratified_proportions_per_class():
    y = np.repeat([0, 1, 2], [500, 300, 200])
    X = np.arange(1000)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, stratify=y, seed=0)
    assert np.bincount(y_test).tolist() == [100, 60, 40]
    assert np.bincount(y_train).tolist() == [400, 240, 160]
    check_partition(X_train, X_test, 1000)
    np.testing.assert_array_equal(y[X_test], y_test)


def test_stratified_counts_are_the_rounded_ideal_shares(rng):
    unclipped = 0
    for _ in range(40):
        counts = rng.integers(2, 40, rng.integers(2, 8))
        y = np.repeat(np.arange(len(counts)), counts)
        n_test = int(rng.integers(len(counts), len(y) - len(counts) + 1))
        _, test = train_test_split(y, test_size=n_test, stratify=y, seed=rng)
        got = np.bincount(test, minlength=len(counts))
        assert got.sum() == n_test
        assert (got >= 1).all() and (got <= counts - 1).all()
        ideal = n_test * counts / len(y)
        if (ideal >= 1).all() and (ideal <= counts - 1).all():
            # No bound is active: largest remainder gives floor or ceil of every share.
            unclipped += 1
            assert (got >= np.floor(ideal)).all() and (got <= np.ceil(ideal)).all()
    assert unclipped >= 10


def test_stratified_keeps_one_of_each_class_on_each_side():
    # A tiny test part would give the rare classes no test sample by proportion alone.
    y = np.array([0] * 50 + [1] * 2 + [2] * 2)
    _, y_test = train_test_split(y, test_size=3, stratify=y, seed=0)
    assert sorted(y_test.tolist()) == [0, 1, 2]
    y_train, _ = train_test_split(y, test_size=0.9, stratify=y, seed=0)
    assert set(y_train.tolist()) == {0, 1, 2}


def test_stratified_with_string_labels_and_singletons():
    labels = np.array(["a"] * 10 + ["b"] * 10 + ["c"])
    train, test = train_test_split(np.arange(21), test_size=0.5, stratify=labels, seed=3)
    assert np.sum(labels[test] == "a") == 5 and np.sum(labels[test] == "b") == 5
    check_partition(train, test, 21)


def test_stratified_tie_breaking_does_not_favour_the_first_class():
    y = np.repeat([0, 1, 2], 10)
    winners = set()
    for seed in range(30):
        _, test = train_test_split(y, test_size=4, stratify=y, seed=seed)
        winners.add(int(np.argmax(np.bincount(test, minlength=3))))
    assert winners == {0, 1, 2}


# The exact rows of these stratified splits, as train_test_split gave them for these seeds
# before its apportioning was vectorised: a seed's split must not change between versions.
_IMBALANCED = np.r_[[0] * 12, [1] * 7, [2] * 3, [3] * 2, [4]][np.random.default_rng(1).permutation(25)]
_BIG_AND_PAIRS = np.r_[[9] * 20, np.repeat([1, 2, 3, 4, 5, 6], 2)]


@pytest.mark.parametrize(
    "y, test_size, seed, train, test",
    [
        # one sample left over after the floors, to the class furthest below its share
        (_IMBALANCED, 0.3, 3, [10, 8, 5, 15, 16, 9, 19, 3, 4, 13, 0, 21, 14, 22, 11, 1, 12],
         [23, 20, 6, 2, 17, 24, 18, 7]),
        (np.array(list("aaaaabbbbcccdde")), 4, 11, [14, 0, 13, 7, 11, 6, 9, 3, 5, 2, 1],
         [12, 4, 8, 10]),
        # the pairs' one test sample each is more than their share: 3 taken back from the 9s
        (_BIG_AND_PAIRS, 8, 5,
         [19, 16, 13, 22, 21, 2, 8, 3, 6, 14, 0, 10, 27, 1, 12, 11, 25, 5, 30, 28, 15, 17, 7,
          18], [4, 31, 23, 26, 29, 9, 20, 24]),
        # the pairs have no room above one: the 2 left over both go to the big class
        (np.where(_BIG_AND_PAIRS == 9, 7, _BIG_AND_PAIRS), 20, 8,
         [19, 20, 4, 9, 25, 22, 3, 26, 30, 28, 7, 18],
         [11, 12, 23, 14, 21, 5, 16, 24, 27, 0, 31, 29, 8, 17, 2, 13, 1, 10, 15, 6]),
        # five equal remainders: the seed's tie-break picks the class of the sixth sample
        (np.repeat([10, 20, 30, 40, 50], 4), 0.3, 0,
         [4, 6, 19, 17, 15, 1, 16, 2, 10, 9, 13, 5, 3, 11], [8, 7, 12, 18, 0, 14]),
    ],
)
def test_a_stratified_split_gives_the_same_rows_for_a_seed_as_before(y, test_size, seed,
                                                                      train, test):
    got_train, got_test = train_test_split(np.arange(len(y)), test_size=test_size,
                                           stratify=y, seed=seed)
    assert got_train.tolist() == train and got_test.tolist() == test


def test_a_stratified_three_way_split_gives_the_same_rows_for_a_seed_as_before():
    y = np.repeat([0, 1, 2], [8, 6, 4])
    train, val, test = train_val_test_split(np.arange(18), y, val_size=0.2, test_size=0.25,
                                            seed=4)[:3]
    assert train.tolist() == [2, 10, 8, 6, 5, 15, 13, 14, 3]
    assert val.tolist() == [11, 16, 4, 7] and test.tolist() == [0, 12, 9, 1, 17]


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"test_size": 0.0}, ValueError, r"\(0, 1\)"),
        ({"test_size": 1.0}, ValueError, r"\(0, 1\)"),
        ({"test_size": 0.99}, ValueError, "no training sample"),
        ({"test_size": 0}, ValueError, r"1\.\.9"),
        ({"test_size": 10}, ValueError, r"1\.\.9"),
        ({"test_size": "half"}, TypeError, "test_size"),
        ({"test_size": True}, TypeError, "test_size"),
        ({"stratify": np.arange(9)}, ShapeError, "stratify"),
        ({"stratify": np.zeros((10, 2))}, ShapeError, "stratify"),
        ({"stratify": np.arange(10) // 2, "test_size": 3}, ValueError, "5 classes"),
        ({"seed": -1}, ValueError, "seed"),
        # B13: np.unique's "'<' not supported" TypeError did not name stratify.
        ({"stratify": np.array([None, 1] * 5, dtype=object)}, TypeError, "stratify"),
        ({"stratify": np.array(["a", 1] * 5, dtype=object)}, TypeError, "stratify"),
        ({"stratify": [[0, 1]] * 9 + [[0]]}, TypeError, "stratify"),
    ],
)
def test_split_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        train_test_split(np.arange(10), **kwargs)


@pytest.mark.filterwarnings("error")
def test_split_needs_arrays_of_equal_length():
    with pytest.raises(ValueError, match="at least one array"):
        train_test_split()
    with pytest.raises(ShapeError, match="10 and 9"):
        train_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ShapeError, match="scalar"):
        train_test_split(np.arange(10), 3)
    # B27: numpy's 'inhomogeneous shape' error named no argument.
    with pytest.raises(TypeError, match="array #1"):
        train_test_split(np.arange(2), [[1.0, 2.0], [3.0]])
    with pytest.raises(TypeError, match="array #0"):
        train_test_split([[1.0, 2.0], [3.0]], seed=0)


# --------------------------------------------------------------------------- three-way split


def test_train_val_test_split_sizes_partition_and_strata():
    X = np.arange(1000)
    y = np.repeat([0, 1], [800, 200])
    X_train, X_val, X_test, y_train, y_val, y_test = train_val_test_split(
        X, y, val_size=0.1, test_size=0.2, seed=0
    )
    assert (len(X_train), len(X_val), len(X_test)) == (700, 100, 200)
    assert np.bincount(y_val).tolist() == [80, 20]
    assert np.bincount(y_test).tolist() == [160, 40]
    everything = np.concatenate([X_train, X_val, X_test])
    np.testing.assert_array_equal(np.sort(everything), X)
    for part_X, part_y in ((X_train, y_train), (X_val, y_val), (X_test, y_test)):
        np.testing.assert_array_equal(y[part_X], part_y)


def test_train_val_test_split_auto_skips_float_targets():
    X = np.arange(100)
    y = np.linspace(0, 1, 100)  # 100 distinct values: stratifying by them would be impossible
    parts = train_val_test_split(X, y, val_size=10, test_size=20, seed=0)
    assert [len(p) for p in parts] == [70, 10, 20, 70, 10, 20]


def test_train_val_test_split_explicit_stratify_and_determinism():
    X = np.arange(60)
    groups = np.repeat([0, 1, 2], 20)
    first = train_val_test_split(X, X, val_size=0.25, test_size=0.25, stratify=groups, seed=4)
    second = train_val_test_split(X, X, val_size=0.25, test_size=0.25, stratify=groups, seed=4)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert np.bincount(groups[first[1]]).tolist() == [5, 5, 5]
    assert np.bincount(groups[first[2]]).tolist() == [5, 5, 5]


def test_train_val_test_split_without_stratification():
    y = np.repeat([0, 1], 50)
    parts = train_val_test_split(y, y, val_size=0.2, test_size=0.2, stratify=None, seed=0)
    assert [len(p) for p in parts[:3]] == [60, 20, 20]


def test_train_val_test_split_sizes_must_leave_training_data():
    with pytest.raises(ValueError, match="leaving none for training"):
        train_val_test_split(np.arange(10), np.arange(10), val_size=5, test_size=5)
    with pytest.raises(ValueError, match="val_size"):
        train_val_test_split(np.arange(10), np.arange(10), val_size=0, test_size=5)


# ------------------------------------------------------------------ errors name the argument

TEN_BY_FIVE = np.repeat(np.arange(10), 5)  # 10 classes of 5 samples


@pytest.mark.parametrize("test_size, advice", [
    (0.1, "use test_size between 0.181 and 0.8"),  # ceil(f · 50) in [10, 40]
    (3, "use test_size between 10 and 40"),  # a count gets counts
])
def test_a_stratified_split_that_cannot_be_made_names_test_size_in_its_own_units(
        test_size, advice):
    n_test = 5 if test_size == 0.1 else 3
    with pytest.raises(ValueError, match="^" + re.escape(
            f"test_size={test_size!r} puts {n_test} of 50 samples in the test part, but a split "
            "stratified by class needs 10 to 40 there (one sample of each of the 10 classes "
            f"with two or more samples on each side): {advice}") + "$"):
        train_test_split(TEN_BY_FIVE, test_size=test_size, stratify=TEN_BY_FIVE, seed=0)
    # the advice works: both ends of the range split
    low, high = (0.181, 0.8) if test_size == 0.1 else (10, 40)
    for size in (low, high):
        train_test_split(TEN_BY_FIVE, test_size=size, stratify=TEN_BY_FIVE, seed=0)


def test_a_validation_part_that_cannot_be_stratified_names_val_size():
    X = np.zeros((50, 2))
    # test_size=0.2 takes 10 (one per class), leaving 40; val_size=0.1 of all 50 is 5 of them
    with pytest.raises(ValueError, match="^" + re.escape(
            "val_size=0.1 puts 5 of the 40 samples left after the test part in the validation "
            "part, but a split stratified by class needs 10 to 30 there (one sample of each of "
            "the 10 classes with two or more samples on each side): use val_size between 0.181 "
            "and 0.6") + "$"):
        train_val_test_split(X, TEN_BY_FIVE, val_size=0.1, test_size=0.2, seed=0)
    parts = train_val_test_split(X, TEN_BY_FIVE, val_size=0.181, test_size=0.2, seed=0)
    assert [len(part) for part in parts[:3]] == [30, 10, 10]
    with pytest.raises(ValueError, match=r"^test_size=0\.1 puts 5 of 50 samples in the test part"):
        train_val_test_split(X, TEN_BY_FIVE, val_size=0.3, test_size=0.1, seed=0)


@pytest.mark.parametrize("X, y, kwargs, error, message", [
    (np.zeros((20, 3)), np.zeros(19, int), {}, ShapeError,
     "X and y must have the same number of samples"),
    (np.zeros((20, 3)), np.zeros(20, int), {"stratify": np.zeros(10)}, ShapeError,
     "X and stratify must have the same number of samples"),
    (np.zeros((20, 3)), 3, {}, ShapeError, "y must have shape (n_samples, ...), got a scalar"),
    (5.0, np.zeros(20), {}, ShapeError, "X must have shape (n_samples, ...), got a scalar"),
    ([[1.0, 2.0], [3.0]], np.zeros(2), {}, TypeError, "X "),
])
def test_train_val_test_split_names_x_y_and_stratify(X, y, kwargs, error, message):
    with pytest.raises(error, match="^" + re.escape(message)) as info:
        train_val_test_split(X, y, val_size=0.2, test_size=0.2, **kwargs)
    assert "array #" not in str(info.value)
