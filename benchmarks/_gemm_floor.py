"""The GEMM floor: the time of an epoch's matrix products alone, on preallocated arrays.

For an MLP with widths (w0, w1, ..., wL) and a batch of b rows, layer l (1..L) with input
A_{l-1} (b, w_{l-1}) and weights W_l (w_{l-1}, w_l) does three products per step::

    forward           Z_l     = A_{l-1} @ W_l          (b, w_l)        2 b w_{l-1} w_l flops
    weight gradient   dW_l    = A_{l-1}ᵀ @ dZ_l        (w_{l-1}, w_l)  2 b w_{l-1} w_l flops
    input gradient    dA_{l-1} = dZ_l @ W_lᵀ           (b, w_{l-1})    2 b w_{l-1} w_l flops, l > 1

(no input gradient for the first layer: nothing upstream needs it). Everything else a
training step does (bias, activation, loss, optimizer, shuffling, Python) is what a library
adds on top of this floor; epoch time / floor measures how much.

Products run through ``np.matmul(..., out=...)`` into arrays allocated once; the transposes
are views, which numpy hands to BLAS as a transpose flag (no copy). An epoch has
``n_samples // b`` full batches and one partial batch with the remaining rows, as the
libraries do.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from itertools import pairwise

import numpy as np


def epoch_flops(widths: Sequence[int], n_samples: int) -> int:
    """Flops of one epoch's products over ``n_samples`` rows.

    2·w_{l-1}·w_l per row and product; 3 products per layer, 2 for the first (no input gradient).
    """
    pairs = list(pairwise(widths))
    per_row = sum(2 * a * b * (3 if layer > 0 else 2) for layer, (a, b) in enumerate(pairs))
    return per_row * int(n_samples)


class GemmFloor:
    """The matrix products of one training epoch, ready to time.

    Parameters
    ----------
    widths : sequence of int
        (in_features, hidden..., n_outputs).
    n_samples : int
        Rows in the epoch.
    batch_size : int
    dtype : numpy dtype, default float32
    seed : int
        Fills the arrays with N(0, 1) values (not zeros: no special-casing anywhere).
    """

    def __init__(self, widths: Sequence[int], n_samples: int, batch_size: int,
                 dtype: type = np.float32, seed: int = 0) -> None:
        self.widths = tuple(int(w) for w in widths)
        full, rest = divmod(int(n_samples), int(batch_size))
        self.plan = [(int(batch_size), full)] + ([(rest, 1)] if rest else [])
        rng = np.random.default_rng(seed)

        def array(*shape: int) -> np.ndarray:
            return rng.standard_normal(shape, dtype=np.float64).astype(dtype)

        pairs = list(pairwise(self.widths))
        self.W = [array(n_in, n_out) for n_in, n_out in pairs]
        self.dW = [np.empty_like(W) for W in self.W]
        # Per batch size: inputs A_{l-1}, outputs Z_l, upstream dZ_l and input gradients dA_{l-1}
        # (None for the first layer, whose input gradient is never computed).
        self.buffers = {
            rows: ([array(rows, n_in) for n_in, _ in pairs],
                   [np.empty((rows, n_out), dtype) for _, n_out in pairs],
                   [array(rows, n_out) for _, n_out in pairs],
                   [None] + [np.empty((rows, n_in), dtype) for n_in, _ in pairs[1:]])
            for rows, _ in self.plan
        }

    @property
    def flops(self) -> int:
        """Floating-point operations of one epoch (2 per multiply-add)."""
        return epoch_flops(self.widths, sum(rows * count for rows, count in self.plan))

    def run(self) -> float:
        """Seconds of one epoch of products (forward, then backward from the last layer)."""
        matmul, W, dW = np.matmul, self.W, self.dW
        layers = range(len(W))
        backward = range(len(W) - 1, -1, -1)
        start = time.perf_counter()
        for rows, count in self.plan:
            A, Z, dZ, dA = self.buffers[rows]
            for _ in range(count):
                for l in layers:
                    matmul(A[l], W[l], out=Z[l])
                for l in backward:
                    matmul(A[l].T, dZ[l], out=dW[l])
                    if l > 0:
                        matmul(dZ[l], W[l].T, out=dA[l])
        return time.perf_counter() - start
