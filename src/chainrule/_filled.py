"""Read-only arrays of zeros and ones, as operands for the hot loops.

Why an array and not the scalar: on NumPy 2.4 (x86-64, AVX-512), ``np.maximum`` runs several
times faster when both operands are contiguous arrays of the same shape than with a scalar
operand, for float32 and float64 alike. Measured on the benchmark machine, (128, 256) float32:
``np.maximum(X, 0.0, out=Y)`` 16.9 µs, ``np.maximum(X, zeros, out=Y)`` 4.6 µs; a broadcast
0-stride view of the scalar is as slow as the scalar. Likewise the column sums of a
(128, 256) array as a BLAS product with a vector of ones, ``ones @ A``, take 3.1 µs against
6.9 µs for ``np.add.reduce(A, axis=0)``.

The arrays are views of one buffer per value and dtype, grown to the largest request up to
:data:`MAX_CACHED_ELEMENTS`; a larger request gets a broadcast view of the scalar (the same
values, at the scalar's speed), so no buffer ever holds more than that many elements. A buffer
grows to the next power of two (at least 1024 elements, at most the cap), so a network called on
ever larger batches reallocates it a logarithmic number of times, not on every call; the views
remembered on an outgrown buffer are forgotten with it, so the cache keeps one buffer per value
and dtype alive (an outgrown one lives on only while a caller holds a view of it). The views
are remembered by shape (at most :data:`MAX_CACHED_VIEWS` of them), so a repeated request, the
hot loop's case, costs one dictionary lookup. Everything handed out is read-only: a caller
writing into it gets an error instead of corrupting every later result.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: The largest buffer kept per value and dtype, in elements (8 MiB of float32).
MAX_CACHED_ELEMENTS = 1 << 21

#: How many (value, dtype, shape) views are remembered before the memory of them is cleared.
MAX_CACHED_VIEWS = 256

_buffers: dict[tuple[float, np.dtype], np.ndarray] = {}
_views: dict[tuple[float, Any, tuple[int, ...]], np.ndarray] = {}


def zeros(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A read-only array of zeros of ``shape`` and ``dtype`` (see the module's docstring)."""
    view = _views.get((0.0, dtype, shape))
    return view if view is not None else _remember(0.0, shape, dtype)


def ones(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A read-only array of ones of ``shape`` and ``dtype`` (see the module's docstring)."""
    view = _views.get((1.0, dtype, shape))
    return view if view is not None else _remember(1.0, shape, dtype)


def _remember(value: float, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """The view for a request not seen before: C-contiguous (a view of the shared buffer) up
    to :data:`MAX_CACHED_ELEMENTS` entries, else a 0-stride broadcast view."""
    resolved = np.dtype(dtype)
    size = math.prod(shape)
    if size > MAX_CACHED_ELEMENTS:
        view = np.broadcast_to(np.array(value, resolved), shape)
    else:
        buffer = _buffers.get((value, resolved))
        if buffer is None or buffer.size < size:
            buffer = _grow(value, resolved, size, buffer)
        view = buffer[:size].reshape(shape)
    if len(_views) >= MAX_CACHED_VIEWS:
        _views.clear()
    _views[value, dtype, shape] = view
    return view


def _grow(value: float, dtype: np.dtype, size: int, old: np.ndarray | None) -> np.ndarray:
    """A new buffer for ``value`` and ``dtype`` of at least ``size`` (≤ the cap) elements,
    replacing ``old``, whose remembered views are forgotten so that they do not keep it alive."""
    if old is not None:
        for key in [key for key, view in _views.items() if view.base is old]:
            del _views[key]
    capacity = min(max(1 << (size - 1).bit_length(), 1024), MAX_CACHED_ELEMENTS)  # ≥ size
    buffer = np.full(capacity, value, dtype)
    buffer.flags.writeable = False
    _buffers[value, dtype] = buffer
    return buffer
