"""Minibatches: the iterator the Trainer uses, public for people who write their own loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._random import as_generator
from .._validation import as_array, check_bool, check_n_samples, check_number
from ..errors import ShapeError


def batches(
    X: Any,
    y: Any = None,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: Any = None,
    *,
    sample_weight: Any = None,
    reuse_buffers: bool = False,
) -> Iterator[tuple[np.ndarray, ...]]:
    """One epoch of minibatches of ``X`` (and ``y``, ``sample_weight``), in rows.

    Parameters
    ----------
    X : array of shape (n_samples, ...)
    y : array of shape (n_samples, ...), optional
    batch_size : int
        Rows per batch; the last batch holds the remainder (it is used, not dropped).
    shuffle : bool
        Visit the samples in a random order, drawn from ``seed``.
    seed : int, Generator or None
        Source of the order. An int gives the same order on every call; pass one Generator to
        successive calls for a new order each epoch (a reproducible sequence when the Generator
        was seeded), or ``None`` for fresh entropy each call.
    sample_weight : array of shape (n_samples,), optional
    reuse_buffers : bool
        Gather shuffled batches into two arrays allocated once and yield views of them: no
        allocation per batch (what the Trainer does), but each batch is overwritten by the
        next; copy what you keep. Without shuffling, batches are always views of the inputs.

    Raises
    ------
    TypeError
        An argument that is not an array (a ragged list, a string, ``X=None``), or a
        ``batch_size`` that is not an integer.
    ValueError
        A 0-D array or arrays with different numbers of samples (ShapeError), a
        ``batch_size`` below 1, a bad ``seed``. The arguments are checked when ``batches`` is
        called, before the first batch.

    Yields
    ------
    tuple of ndarray
        ``(X_batch,)``, ``(X_batch, y_batch)`` or ``(X_batch, y_batch, w_batch)``: the given
        arrays, in that order, each with ``min(batch_size, remaining)`` rows.

    Examples
    --------
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in batches(X, y, batch_size=2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    arrays, names = [], []
    for name, value in (("X", X), ("y", y), ("sample_weight", sample_weight)):
        if value is None and name != "X":
            continue
        array = as_array(value, name)
        if array.ndim == 0:
            raise ShapeError(
                f"{name} must have shape (n_samples, ...), got a 0-D array (a scalar): {value!r}"
            )
        arrays.append(array)
        names.append(name)
    n_samples = len(arrays[0])
    for name, array in zip(names[1:], arrays[1:]):
        check_n_samples(n_samples, len(array), "X", name)
    batch_size = check_number(batch_size, "batch_size", low=1, integer=True)
    reuse_buffers = check_bool(reuse_buffers, "reuse_buffers")
    rng = as_generator(seed) if check_bool(shuffle, "shuffle") else None
    return _iterate(arrays, n_samples, batch_size, rng, reuse_buffers)


def _iterate(
    arrays: list[np.ndarray],
    n_samples: int,
    batch_size: int,
    rng: np.random.Generator | None,
    reuse_buffers: bool,
) -> Iterator[tuple[np.ndarray, ...]]:
    """The generator behind :func:`batches`, on checked arrays (so that errors come at the
    call); ``rng`` is None for batches in the given order."""
    if rng is None:
        for start in range(0, n_samples, batch_size):
            yield tuple(array[start : start + batch_size] for array in arrays)
        return
    order = rng.permutation(n_samples)
    if not reuse_buffers:
        for start in range(0, n_samples, batch_size):
            index = order[start : start + batch_size]
            yield tuple(array[index] for array in arrays)
        return
    width = min(batch_size, n_samples)
    buffers = [np.empty((width, *array.shape[1:]), array.dtype) for array in arrays]
    for start in range(0, n_samples, batch_size):
        index = order[start : start + batch_size]
        views = [buffer[: len(index)] for buffer in buffers]
        for array, view in zip(arrays, views):
            # mode="clip": the indices are valid by construction, and the default "raise"
            # buffers the output (three times slower)
            np.take(array, index, axis=0, out=view, mode="clip")
        yield tuple(views)
