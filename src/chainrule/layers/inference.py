"""Inference on many rows: a network's outputs computed :data:`EVAL_CHUNK` rows at a time.

``Sequential.forward`` runs the whole ``X`` at once, so every layer's output for all the rows
is in memory together (a 1,024-unit hidden layer on 50,000 float64 rows is 390 MiB). The
entry points that predict or evaluate on data of any size (``Trainer.predict`` and
``evaluate``, the scikit-learn estimators, the ``chainrule`` command) go through
:func:`forward_chunks` instead: the memory a pass needs is then the result's and one chunk's
intermediates. A non-finite output is diagnosed as ``Sequential.forward`` diagnoses it
(:meth:`Sequential.check_output`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from .sequential import Sequential

#: Rows per forward pass when evaluating or predicting (bounds memory on large inputs).
EVAL_CHUNK = 4096


def forward_chunks(net: Sequential, X: np.ndarray,
                   stop: int | None = None) -> Iterator[tuple[slice, np.ndarray]]:
    """``(rows, output of net.layers[:stop] for X[rows])`` for successive chunks of
    :data:`EVAL_CHUNK` rows of a checked ``X`` (n_samples, in_features), in evaluation mode:
    each output (chunk rows, width of layer ``stop - 1``'s output) is an array of its own,
    which may be made probabilities in place, checked as ``net.forward`` checks its output.
    The memory a pass needs is bounded by the chunk's."""
    for start in range(0, X.shape[0], EVAL_CHUNK):
        rows = slice(start, start + EVAL_CHUNK)
        with np.errstate(all="ignore"):  # an overflow is reported below, as by net.forward
            scores = net._forward(X[rows], False, stop)
        net.check_output(scores)
        yield rows, scores


def forward_in_chunks(net: Sequential, X: np.ndarray, stop: int | None = None) -> np.ndarray:
    """The output of ``net.layers[:stop]`` for a checked ``X``, computed by
    :func:`forward_chunks`: the result and one chunk's intermediates in memory, not those of
    the whole ``X`` (which ``net.forward`` holds at once)."""
    return gather(forward_chunks(net, X, stop), X.shape[0])


def gather(chunks: Iterable[tuple[slice, np.ndarray]], n_rows: int) -> np.ndarray | None:
    """One array (n_rows, ...) of the ``(rows, part)`` pairs of ``chunks`` (each ``part`` of
    shape (rows, ...), all of one shape after the first axis and one dtype, as
    :func:`forward_chunks` yields them or what is computed from them chunk by chunk),
    allocated at the first part: in memory, the result and the chunk being made. None when
    there are no chunks (no rows)."""
    out = None
    for rows, part in chunks:
        if out is None:
            out = np.empty((n_rows, *part.shape[1:]), part.dtype)
        out[rows] = part
    return out
