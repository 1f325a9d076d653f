"""Class labels of any kind (ints, strings) as row/column indices ``0 .. n_classes-1``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import as_array
from ..errors import ShapeError


def as_label_array(y: Any, name: str) -> np.ndarray:
    """``y`` as a 1-D array of labels, shape (n_samples,); a ``(n_samples, 1)`` column is
    flattened. Numbers and strings are accepted; NaN/inf, empty and ragged arrays are not."""
    array = as_array(y, name)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ShapeError(
            f"{name} must hold one label per sample, shape (n_samples,), got shape {array.shape}"
        )
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise ValueError(f"{name} must not contain NaN or infinity")
    if array.dtype.kind == "O":
        array = array.astype(str)
    if array.dtype.kind == "b":
        array = array.astype(np.int64)  # False/True are the classes 0/1
    return array


def is_numeric(array: np.ndarray) -> bool:
    """Whether ``array`` holds numbers (bool, int or float) rather than strings or objects."""
    return array.dtype.kind in "biuf"


def class_indices(labels: np.ndarray, classes: Any) -> np.ndarray:
    """Position of each label in ``classes``, ``-1`` where it is not one of them.

    Parameters
    ----------
    labels : ndarray, shape (n_samples,)
    classes : sequence, shape (n_classes,)
        Distinct class values; ``1`` and ``1.0`` count as the same class.

    Returns
    -------
    ndarray of int64, shape (n_samples,)
    """
    known = np.asarray(classes)
    if is_numeric(known) and is_numeric(labels) and known.size:  # vectorised: sorted lookup
        order = np.argsort(known, kind="stable")
        nearest = order[np.searchsorted(known, labels, sorter=order).clip(max=known.size - 1)]
        return np.where(known[nearest] == labels, nearest, -1).astype(np.int64)
    lookup = {value: index for index, value in enumerate(known.tolist())}
    return np.array([lookup.get(value, -1) for value in labels.tolist()], dtype=np.int64)


def unknown_label(labels: np.ndarray, indices: np.ndarray) -> Any:
    """The first label whose index is ``-1`` (for error messages)."""
    return labels[np.flatnonzero(indices < 0)[0]].item()
