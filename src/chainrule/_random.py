"""Explicit randomness: every random thing takes a seed or a ``numpy.random.Generator``.

The global NumPy random state is never used, so the same seed gives bit-identical results no
matter what other code does with ``np.random``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.random.bit_generator import ISpawnableSeedSequence

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
    """An independent child Generator, so that one consumer's draws never shift another's
    (:func:`spawn_many` of one)."""
    return spawn_many(rng, 1)[0]


def spawn_many(rng: np.random.Generator, n: int) -> list[np.random.Generator]:
    """``n`` independent child Generators of ``rng``, with its kind of bit generator.

    ``rng.spawn(n)`` where NumPy can spawn: from the SeedSequence that seeded the bit
    generator, without drawing from ``rng``. A bit generator seeded the legacy way (that of
    a ``RandomState``, ``np.random.Generator(np.random.RandomState(0)._bit_generator)``) has
    no SeedSequence, and NumPy's ``spawn`` raises "The underlying SeedSequence does not
    implement spawning."; the children then come from a SeedSequence seeded with 128 bits
    drawn from ``rng``: as reproducible (the same state gives the same children) and as
    independent of one another (SeedSequence's spawning), but ``rng``'s stream moves on, and
    the children depend on what was drawn before: ``load(path, seed=rng)`` then gives a
    dropout network other masks than ``Sequential(layers, seed=rng)``, which drew the initial
    weights first.
    """
    seed_sequence = rng.bit_generator.seed_seq
    if isinstance(seed_sequence, ISpawnableSeedSequence):
        return rng.spawn(n)
    entropy = rng.integers(2**32, size=4, dtype=np.uint64).tolist()
    bit_generator = type(rng.bit_generator)
    return [np.random.Generator(bit_generator(child))
            for child in np.random.SeedSequence(entropy).spawn(n)]
