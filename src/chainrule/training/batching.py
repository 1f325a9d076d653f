"""Minibatches: the iterator the Trainer uses, public for people who write their own loop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from .._random import as_generator
from .._validation import check_n_samples, check_number


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
        Visit the samples in a random order (a new order on every call).
    seed : int, Generator or None
        Source of the order. Pass the same Generator to successive calls for a reproducible
        sequence of epochs.
    sample_weight : array of shape (n_samples,), optional
    reuse_buffers : bool
        Gather shuffled batches into two arrays allocated once and yield views of them: no
        allocation per batch (what the Trainer does), but each batch is overwritten by the
        next; copy what you keep. Without shuffling, batches are always views of the inputs.

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
    arrays = [np.asarray(X)]
    names = ["X"]
    for name, value in (("y", y), ("sample_weight", sample_weight)):
        if value is not None:
            arrays.append(np.asarray(value))
            names.append(name)
    n_samples = arrays[0].shape[0] if arrays[0].ndim else 0
    for name, array in zip(names[1:], arrays[1:]):
        check_n_samples(n_samples, array.shape[0] if array.ndim else 0, "X", name)
    batch_size = check_number(batch_size, "batch_size", low=1, integer=True)
    if not shuffle:
        for start in range(0, n_samples, batch_size):
            yield tuple(array[start : start + batch_size] for array in arrays)
        return
    order = as_generator(seed).permutation(n_samples)
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
