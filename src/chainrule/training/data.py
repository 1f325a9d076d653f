"""Preparing arrays for training: one-hot targets and train/validation/test splits.

All functions return new arrays and never modify their inputs. Randomness comes only from
``seed`` (an int, a ``numpy.random.Generator`` or ``None``).
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any, NamedTuple

import numpy as np

from .._random import SeedLike, as_generator
from .._validation import MAX_CLASSES, as_array, as_class_labels, check_n_samples, check_number
from ..errors import ShapeError

__all__ = ["one_hot", "train_test_split", "train_val_test_split"]


# --------------------------------------------------------------------------- one-hot


def one_hot(labels: Any, n_classes: int | None = None, *, dtype: Any = np.float64) -> np.ndarray:
    """Encode integer class labels as one-hot rows.

    ``Y[i, k] = 1`` if ``labels[i] == k`` else ``0``.

    Parameters
    ----------
    labels : array_like of shape (n_samples,)
        Integers in ``0 .. n_classes - 1``. Floats are accepted when they are whole numbers
        (``3.0``), as labels read from a text file often are.
    n_classes : int or None
        Number of columns, in ``1 .. MAX_CLASSES`` (``chainrule._validation.MAX_CLASSES``,
        2**20); default ``labels.max() + 1``.
    dtype : numeric dtype (bool, int or float), default float64

    Returns
    -------
    ndarray of shape (n_samples, n_classes)

    Raises
    ------
    TypeError
        Non-numeric or ragged labels, non-integer ``n_classes``, a ``dtype`` that is not a
        numeric dtype.
    ValueError
        Labels that are not whole numbers, negative, ``>= n_classes`` or ``>= MAX_CLASSES``;
        empty labels without ``n_classes``; 2-D labels (ShapeError); a matrix too large to
        allocate.

    Example
    -------
    >>> one_hot([0, 2, 1], dtype=int)
    array([[1, 0, 0],
           [0, 0, 1],
           [0, 1, 0]])
    """
    dtype = _check_numeric_dtype(dtype)
    if n_classes is not None:
        n_classes = check_number(n_classes, "n_classes", low=1, integer=True)
        if n_classes > MAX_CLASSES:
            raise ValueError(f"n_classes must be at most {MAX_CLASSES}, got {n_classes}")
    labels = as_class_labels(labels, "labels", n_classes, allow_empty=True)
    if n_classes is None:
        if labels.size == 0:
            raise ValueError("labels is empty: pass n_classes to encode zero samples")
        n_classes = int(labels.max()) + 1
    try:
        encoded = np.zeros((labels.size, n_classes), dtype=dtype)
    except (MemoryError, ValueError):  # ValueError: numpy's "array is too big"
        size = labels.size * n_classes * dtype.itemsize
        raise ValueError(
            f"one_hot of {labels.size} labels with n_classes={n_classes} needs a "
            f"({labels.size}, {n_classes}) {dtype} matrix of {size / 2**30:.3g} GiB, more than "
            "can be allocated"
        ) from None
    encoded[np.arange(labels.size), labels] = 1
    return encoded


def _check_numeric_dtype(dtype: Any) -> np.dtype:
    """``dtype`` as a bool, integer or float ``np.dtype``; anything else is a ``TypeError``.

    ``np.dtype`` reports a bad spelling as a TypeError, a ValueError, a SyntaxError (``","``)
    or a DeprecationWarning (``"a"``), none of which names the argument: all become one
    TypeError that does.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            resolved = np.dtype(dtype)
        except (TypeError, ValueError, SyntaxError, Warning):
            raise TypeError(
                f"dtype must be a numeric dtype (bool, int or float), got {dtype!r}"
            ) from None
    if resolved.kind not in "biuf":
        raise TypeError(f"dtype must be a numeric dtype (bool, int or float), got {resolved}")
    return resolved


# --------------------------------------------------------------------------- splits


def train_test_split(
    *arrays: Any,
    test_size: float = 0.25,
    stratify: Any = None,
    seed: SeedLike = None,
) -> list[np.ndarray]:
    """Shuffle and split arrays into a training and a test part, the same rows for every array.

    Parameters
    ----------
    *arrays : array_like, each of shape (n_samples, ...)
        One or more arrays with the same first dimension (``X``, ``y``, sample weights, ...).
    test_size : float or int, default 0.25
        A fraction in ``(0, 1)``: the test part gets ``ceil(test_size * n_samples)`` rows (at
        least one); or an int count in ``1 .. n_samples - 1``. Neither part is ever empty.
    stratify : array_like of shape (n_samples,) or None
        Class labels (any type ``numpy.unique`` can sort). If given, every class is split in
        the same proportion, as closely as whole numbers allow; each class with at least two
        samples keeps at least one on each side (a class of one sample goes to either).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    list of ndarray
        ``[a_train, a_test, b_train, b_test, ...]``: for each input, its training then its test
        rows (scikit-learn's order), as new arrays. Rows appear in shuffled order.

    Raises
    ------
    TypeError
        An array that is not rectangular (a ragged list), a ``test_size`` that is not a number,
        ``stratify`` labels that cannot be sorted (``None``, mixed types).
    ValueError
        No arrays, a 0-D array or different numbers of samples (ShapeError), a bad
        ``test_size``, or a stratified split that cannot keep one sample of every class on
        each side.

    Example
    -------
    >>> import numpy as np
    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10) % 2
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
    >>> X_train.shape, X_test.shape
    ((8, 2), (2, 2))
    """
    arrays_ = _check_arrays(arrays)
    train, test = split_indices(len(arrays_[0]), test_size, stratify=stratify, seed=seed)
    return [part for array in arrays_ for part in (array[train], array[test])]


def split_indices(
    n_samples: int,
    size: float,
    *,
    name: str = "test_size",
    part: str = "test",
    stratify: Any = None,
    seed: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled row indices ``(rest, part)`` of a split of ``n_samples`` rows that puts
    ``size`` of them (a fraction or a count, as :func:`train_test_split`'s ``test_size``) in
    the ``part`` ("test", "validation"); :func:`train_test_split`'s errors, naming the argument
    ``name`` through which the caller gave ``size`` (a ``Trainer``'s ``validation_split``)."""
    n_part = _test_count(size, n_samples, name)
    labels = None if stratify is None else _strata(stratify, n_samples, "the arrays")
    return _split_indices(n_samples, n_part, labels, as_generator(seed),
                          _Size(name, size, n_samples, part))


def train_val_test_split(
    X: Any,
    y: Any,
    *,
    val_size: float,
    test_size: float,
    stratify: Any = "auto",
    seed: SeedLike = None,
) -> list[np.ndarray]:
    """Split ``X`` and ``y`` three ways: training, validation and test.

    Parameters
    ----------
    X : array_like of shape (n_samples, ...)
    y : array_like of shape (n_samples, ...)
    val_size, test_size : float or int
        Each a fraction of **all** samples in ``(0, 1)`` (rounded up) or a count; together they
        must leave at least one training sample.
    stratify : "auto", array_like of shape (n_samples,) or None, default "auto"
        Class labels to split in proportion (see :func:`train_test_split`). ``"auto"``
        stratifies by ``y`` when ``y`` is 1-D with integer, boolean or string values
        (classification) and not otherwise (float targets: regression).
    seed : int, numpy.random.Generator or None

    Returns
    -------
    list of ndarray
        ``[X_train, X_val, X_test, y_train, y_val, y_test]``.

    Raises
    ------
    ValueError
        Bad sizes, or the errors of :func:`train_test_split`, naming ``X``, ``y``,
        ``stratify``, ``val_size`` or ``test_size`` (a stratified part too small or too large
        gets the values of its size that work, in the units it was given in).
    """
    X, y = _check_arrays((X, y), ("X", "y"))
    n_samples = len(X)
    n_val = _test_count(val_size, n_samples, "val_size")
    n_test = _test_count(test_size, n_samples, "test_size")
    if n_val + n_test >= n_samples:
        raise ValueError(
            f"val_size={val_size!r} and test_size={test_size!r} take {n_val} + {n_test} of "
            f"{n_samples} samples, leaving none for training"
        )
    if isinstance(stratify, str) and stratify == "auto":
        stratify = y if y.ndim == 1 and y.dtype.kind in "biuUS" else None
    labels = None if stratify is None else _strata(stratify, n_samples, "X")
    rng = as_generator(seed)
    rest, test = _split_indices(n_samples, n_test, labels, rng,
                                _Size("test_size", test_size, n_samples, "test"))
    # val_size is a fraction of all samples, split from those the test part leaves
    train, val = _split_indices(
        len(rest), n_val, None if labels is None else labels[rest], rng,
        _Size("val_size", val_size, n_samples, "validation"),
        pool=f"the {len(rest)} samples left after the test part",
    )
    train, val = rest[train], rest[val]
    return [X[train], X[val], X[test], y[train], y[val], y[test]]


def _check_arrays(arrays: tuple[Any, ...], names: tuple[str, ...] | None = None
                  ) -> list[np.ndarray]:
    """At least one array, none 0-D, all with the same number of rows; errors name them by
    ``names`` (default: by position, ``array #0``, ``array #1``, ...)."""
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    names = names or tuple(f"array #{i}" for i in range(len(arrays)))
    converted = [as_array(a, name) for a, name in zip(arrays, names)]
    for array, name in zip(converted, names):
        if array.ndim == 0:
            raise ShapeError(f"{name} must have shape (n_samples, ...), got a scalar")
    for array, name in zip(converted[1:], names[1:]):
        check_n_samples(len(converted[0]), len(array), names[0], name)
    return converted


class _Size(NamedTuple):
    """A split size as its caller gave it, for the messages: ``name=value``, a fraction of
    ``n_of`` samples or a count, sizing the ``part`` ("test", "validation")."""

    name: str
    value: Any
    n_of: int
    part: str

    @property
    def shown(self) -> int | float:
        """The value as a Python number (``0.1``, not ``np.float64(0.1)``)."""
        return int(self.value) if isinstance(self.value, numbers.Integral) else float(self.value)

    def advice(self, low: int, high: int) -> str:
        """How to give a size that puts ``low`` to ``high`` samples in the part, in the
        caller's own units (a count, or a fraction: :func:`fraction_advice`)."""
        if isinstance(self.value, numbers.Integral):
            return f"use {self.name} between {low} and {high}"
        return fraction_advice(self.name, low, high, self.n_of)


def fraction_count(fraction: float, n_samples: int) -> int:
    """The rows a split puts in the part sized by ``fraction`` (in (0, 1)) of ``n_samples``:
    ``ceil(fraction · n_samples)``, at least 1.

    Float noise is rounded off first: 0.07 * 100 is 7.000000000000001, which must give 7.
    """
    return max(1, math.ceil(round(fraction * n_samples, 9)))


def fraction_advice(name: str, low: int, high: int, n: int, scale: float = 1.0, *,
                    equals: str = "=") -> str:
    """How to give the fraction ``name`` so that a split of ``n`` samples puts ``low`` to
    ``high`` of them (1 <= low <= high) in the part it sizes: ``"use name between a and b"``
    with short decimals, or ``"use name of at most b"`` when any small enough fraction works.

    A fraction ``f`` puts ``ceil(f · n)`` samples there (:func:`fraction_count`), which is in
    ``[low, high]`` for ``f`` in ``((low − 1) / n, high / n]``; ``name``'s value is ``f``
    times ``scale`` (a config's ``data.validation_size`` is a fraction of all samples, split
    from the ones the test part leaves). ``equals`` joins a single value: ``"="`` as in a call,
    ``" = "`` as in a config.
    """
    if low <= 1:
        return f"use {name} of at most {_round_to_digits(high / n * scale, 3, up=False):g}"
    a, b = _decimals_between((low - 1) / n * scale, high / n * scale)
    return f"use {name} between {a:g} and {b:g}" if a < b else f"use {name}{equals}{a:g}"


def _round_to_digits(x: float, digits: int, *, up: bool) -> float:
    """``x > 0`` to ``digits`` significant digits, rounded up or down."""
    scale = 10.0 ** (digits - 1 - math.floor(math.log10(x)))
    return (math.ceil if up else math.floor)(x * scale) / scale


def _decimals_between(low: float, high: float) -> tuple[float, float]:
    """Short decimals ``a <= b`` with ``low < a`` and ``b <= high`` (0 < low < high): 3
    significant digits, more when the interval is narrower."""
    for digits in range(3, 16):
        a = _round_to_digits(low, digits, up=True)
        if a <= low:  # low itself is excluded: one step up
            a += 10.0 ** (math.floor(math.log10(low)) - digits + 1)
        b = _round_to_digits(high, digits, up=False)
        if a <= b:
            return a, b
    return high, high  # pragma: no cover - 15 digits always separate two floats this far apart


def stratified_bounds(counts: np.ndarray) -> tuple[int, int]:
    """The fewest and the most test rows a stratified split of classes with ``counts``
    (n_classes,) samples can take: each class of two or more keeps one sample on each side
    (a class of one goes to either), so ``(k, n_samples − k)`` with ``k`` such classes."""
    low, high = _class_bounds(counts)
    return int(low.sum()), int(high.sum())


def _class_bounds(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per class (n_classes,), the fewest and the most of its samples the test part may take:
    ``[1, count − 1]`` for a class of two or more, ``[0, 1]`` for a class of one."""
    return np.where(counts >= 2, 1, 0), np.where(counts >= 2, counts - 1, counts)


def _test_count(size: Any, n_samples: int, name: str) -> int:
    """A split size (fraction in (0, 1) or count in 1..n_samples-1) as a count."""
    if isinstance(size, bool) or not isinstance(size, numbers.Real):
        raise TypeError(f"{name} must be a fraction or an integer count, got {size!r}")
    if isinstance(size, numbers.Integral):
        count = int(size)
        if not 1 <= count <= n_samples - 1:
            raise ValueError(
                f"{name} as a count must be in 1..{n_samples - 1} for {n_samples} samples, "
                f"got {count}"
            )
        return count
    if not 0.0 < size < 1.0:
        raise ValueError(f"{name} as a fraction must be in (0, 1), got {size!r}")
    count = fraction_count(size, n_samples)
    if count > n_samples - 1:
        raise ValueError(f"{name}={size!r} of {n_samples} samples leaves no training sample")
    return count


def _strata(stratify: Any, n_samples: int, rows: str) -> np.ndarray:
    """``stratify`` as an array of shape (n_samples,); ``rows`` names the arrays it labels."""
    labels = as_array(stratify, "stratify")
    if labels.ndim != 1:
        raise ShapeError(f"stratify must have shape (n_samples,), got shape {labels.shape}")
    check_n_samples(n_samples, len(labels), rows, "stratify")
    return labels


def _split_indices(
    n_samples: int, n_part: int, labels: np.ndarray | None, rng: np.random.Generator,
    size: _Size, pool: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled ``(rest, part)`` row indices, ``n_part`` rows in the part, stratified by
    ``labels`` (n_samples,) when given. ``size`` and ``pool`` (the rows split, by default
    "{n_samples} samples") word the error of a split that cannot be stratified."""
    if labels is None:
        order = rng.permutation(n_samples)
        return order[n_part:], order[:n_part]
    return _stratified_indices(labels, n_part, rng, size, pool or f"{n_samples} samples")


def _stratified_indices(
    labels: np.ndarray, n_test: int, rng: np.random.Generator, size: _Size, pool: str
) -> tuple[np.ndarray, np.ndarray]:
    """Train and test row indices with every class split in proportion (both shuffled)."""
    try:
        _, class_of = np.unique(labels, return_inverse=True)
    except TypeError as exc:  # unique sorts: None or a mix of types (object arrays) cannot be
        raise TypeError(
            f"stratify must hold class labels of one sortable type (numbers or strings), "
            f"got dtype {labels.dtype}: {exc}"
        ) from None
    counts = np.bincount(class_of)
    low, high = stratified_bounds(counts)
    if not low <= n_test <= high:  # (low is the number of classes of two or more samples)
        raise ValueError(
            f"{size.name}={size.shown!r} puts {n_test} of {pool} in the {size.part} part, but "
            f"a split stratified by class needs {low} to {high} there (one sample of each of "
            f"the {low} classes with two or more samples on each side): "
            f"{size.advice(low, high)}"
        )
    per_class = _apportion(counts, n_test, rng)
    # rows grouped by class, each class's rows in increasing order (a stable sort): one sort
    # instead of one scan of all rows per class
    by_class = np.split(np.argsort(class_of, kind="stable"), np.cumsum(counts)[:-1])
    train, test = [], []
    for rows, n_k in zip(by_class, per_class):
        members = rng.permutation(rows)  # one draw per class, in class order
        test.append(members[:n_k])
        train.append(members[n_k:])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _apportion(counts: np.ndarray, n_test: int, rng: np.random.Generator) -> np.ndarray:
    """How many test samples each class gets: shape (n_classes,), summing to ``n_test``.

    The ideal share of class ``k`` is ``n_test * counts[k] / n_samples``. Each class gets its
    floor, bounded to ``[1, counts[k] - 1]`` when ``counts[k] >= 2`` (``[0, 1]`` for a class of
    one); the remaining samples go one at a time to the class furthest below its ideal share
    (largest-remainder apportionment), or are taken from the class furthest above it. Ties are
    broken by a random order drawn from ``rng``, so no class is favoured by its position.

    One sample at a time, each would be the cheapest step left, by (cost, tiebreak); as a
    class's later steps cost more than its earlier ones (each one sample further from its
    ideal share), the steps taken are the ``|missing|`` cheapest of all classes' steps, found
    by one sort of them (:func:`_steps`) rather than by one search per sample.

    ``n_test`` must be within :func:`stratified_bounds` (the caller checks, naming its
    argument).
    """
    ideal = n_test * counts / counts.sum()
    low, high = _class_bounds(counts)
    share = np.clip(np.floor(ideal).astype(np.int64), low, high)
    tiebreak = rng.permutation(len(counts))  # drawn even when no step is needed
    missing = n_test - int(share.sum())
    if missing == 0:
        return share
    step = 1 if missing > 0 else -1
    k, cost = _steps(ideal, share, high - share if step > 0 else share - low, step, abs(missing))
    taken = k[np.lexsort((tiebreak[k], cost))[: abs(missing)]]  # lexsort: last key is primary
    return share + step * np.bincount(taken, minlength=len(counts))


def _steps(ideal: np.ndarray, share: np.ndarray, room: np.ndarray, step: int, n_steps: int
           ) -> tuple[np.ndarray, np.ndarray]:
    """Every step that can be among the ``n_steps`` cheapest moves of ``step`` (+1 or -1)
    from ``share`` towards ``ideal`` (both (n_classes,)), class ``k`` having ``room[k]`` such
    moves: the class of each step kept (n_kept,) and its cost, ``share - ideal`` before a +1,
    ``ideal - share`` before a -1 (lowest for the class furthest from its ideal share).

    Class ``k``'s ``j``-th step (from 0) costs ``c[k] + j``, with ``c`` in (-1, 1): its share
    starts less than one sample from the ideal one. A step ``j`` costs more than ``j - 1``,
    every class's steps ``0 .. j - 3`` less than ``j - 2`` (a margin of 1 that float rounding
    cannot close), so if step ``j`` is among the cheapest, those ``S(j - 2)`` steps are too,
    where ``S(t) = sum(min(room, t))``: ``S(j - 2) <= n_steps``. With ``t`` the least with
    ``S(t) > n_steps``, ``j <= t + 1``: no class takes more than ``t + 2`` steps. Keeping
    those, at most ``S(t - 1) + 3 * n_classes <= n_steps + 3 * n_classes`` steps are kept, and
    ``n_steps < n_classes`` (each class starts less than one sample from its ideal share).
    """
    lo, hi = 0, int(room.max())  # bisect for t, or the largest room if no t has S(t) > n_steps
    while lo < hi:
        mid = (lo + hi) // 2
        if np.minimum(room, mid).sum() > n_steps:
            hi = mid
        else:
            lo = mid + 1
    kept = np.minimum(room, lo + 2)
    k = np.repeat(np.arange(len(room)), kept)
    j = np.arange(len(k)) - np.repeat(np.cumsum(kept) - kept, kept)  # step number within k
    gap = ideal[k] - (share[k] + step * j)  # float64 minus the int64 share after j steps
    return k, (-gap if step > 0 else gap)
