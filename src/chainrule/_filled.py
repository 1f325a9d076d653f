"""Read-only arrays of one repeated value (zeros, ones), as operands for the hot loops.

Why an array and not the scalar: on NumPy 2.4 (x86-64, AVX-512), ``np.maximum`` runs several
times faster when both operands are contiguous arrays of the same shape than with a scalar
operand, for float32 and float64 alike. Measured on the benchmark machine, (128, 256) float32:
``np.maximum(X, 0.0, out=Y)`` 16.9 µs, ``np.maximum(X, zeros, out=Y)`` 4.6 µs; a broadcast
0-stride view of the scalar is as slow as the scalar. Likewise the column sums of a
(128, 256) array as a BLAS product with a vector of ones, ``ones @ A``, take 3.1 µs against
6.9 µs for ``np.add.reduce(A, axis=0)``.

:func:`filled` hands out views of one buffer per (value, dtype), grown to the largest request
up to :data:`MAX_CACHED_ELEMENTS`; a larger request gets a broadcast view of the scalar (the
same values, at the scalar's speed), so the cache never holds more than that many elements per
value and dtype. The buffers are made read-only: a caller writing into one gets an error
instead of corrupting every later result.
"""

from __future__ import annotations

import math

import numpy as np

#: The largest buffer kept per (value, dtype), in elements (8 MiB of float32).
MAX_CACHED_ELEMENTS = 1 << 21

_buffers: dict[tuple[str, np.dtype], np.ndarray] = {}


def filled(value: float, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """A read-only array of ``shape`` and ``dtype`` whose every entry is ``value``.

    C-contiguous (a view of a shared buffer) when it has at most
    :data:`MAX_CACHED_ELEMENTS` entries, else a 0-stride broadcast view.
    """
    dtype = np.dtype(dtype)
    size = math.prod(shape)
    if size > MAX_CACHED_ELEMENTS:
        return np.broadcast_to(np.array(value, dtype), shape)
    key = (float(value).hex(), dtype)  # tells -0.0 from 0.0, and finds NaN again
    buffer = _buffers.get(key)
    if buffer is None or buffer.size < size:
        buffer = np.full(max(size, 1024), value, dtype)
        buffer.flags.writeable = False
        _buffers[key] = buffer
    return buffer[:size].reshape(shape)
