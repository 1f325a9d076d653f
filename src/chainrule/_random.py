"""Explicit randomness: every random thing takes a seed or a ``numpy.random.Generator``.

The global NumPy random state is never used, so the same seed gives bit-identical results no
matter what other code does with ``np.random``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

SeedLike = int | np.random.Generator | None


def as_generator(seed: Any, name: str = "seed") -> np.random.Generator:
    """A ``Generator`` from ``seed``: an int (reproducible), a Generator (used as is) or ``None``.

    ``None`` draws fresh entropy from the operating system: results differ between runs.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"{name} must be None, a non-negative int or a numpy.random.Generator, "
        f"got {seed!r} ({type(seed).__name__})"
    )


def spawn(rng: np.random.Generator) -> np.random.Generator:
    """An independent child Generator, so that one consumer's draws never shift another's."""
    return rng.spawn(1)[0]
