"""Small synthetic datasets for experiments, plots and tests (no scikit-learn needed).

Every generator returns ``(X, y)``:

- ``X`` : float64 array of shape (n_samples, n_features);
- ``y`` : int64 class labels of shape (n_samples,), or float64 targets for
  :func:`make_regression`.

Classes are as balanced as ``n_samples`` allows (the first ``n_samples % n_classes`` classes get one
sample more), every class gets at least one sample, and the rows are shuffled so that a plain
``X[:k]`` is not all one class. Randomness comes only from ``seed`` (an int, a
``numpy.random.Generator`` or ``None``): the same int gives the same arrays, bit for bit.

Every returned array is finite. A size that cannot be allocated (``n_samples``, ``n_features``)
and a noise (or ``std``, ``box``) so large that the data would leave the float64 range are
refused with a ``ValueError`` naming the argument.

Example
-------
>>> from chainrule.datasets.generators import make_circles
>>> X, y = make_circles(200, noise=0.05, seed=0)
>>> X.shape, y.shape, int(y.sum())
((200, 2), (200,), 100)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._random import SeedLike, as_generator
from .._validation import all_finite, as_float_array, check_number

__all__ = [
    "make_blobs",
    "make_circles",
    "make_moons",
    "make_regression",
    "make_spiral",
    "make_xor",
]


# --------------------------------------------------------------------------- helpers


def _check_n_samples(n_samples: Any, n_groups: int, group: str, n_features: int = 2,
                     groups_argument: str | None = None) -> int:
    """``n_samples`` is an integer large enough to give every ``group`` one sample, and an
    X of shape (n_samples, n_features) can be allocated. ``groups_argument`` names the
    argument that set ``n_groups``, if one did (the message names it too)."""
    n_samples = check_number(n_samples, "n_samples", low=1, integer=True)
    if n_samples < n_groups:
        source = f" ({groups_argument}={n_groups})" if groups_argument else ""
        raise ValueError(
            f"n_samples must be at least {n_groups}, one sample per {group}{source}, got "
            f"{n_samples}"
        )
    _check_size(n_samples, n_features)
    return n_samples


def _check_size(n_rows: int, n_features: int, rows: str = "n_samples",
                what: str = "an X") -> None:
    """Refuse ``what``, an array of shape (n_rows, n_features) whose row count the argument
    ``rows`` sets, that cannot be allocated.

    The test is an allocation of the array itself, dropped at once (an untouched allocation
    costs no time and no memory): NumPy reports a size beyond its limits as a ValueError or an
    OverflowError that names nothing, and one beyond what the system grants as a MemoryError.
    Every other array a generator makes is at most the size of X.
    """
    try:
        np.empty((n_rows, n_features))
    except (MemoryError, ValueError, OverflowError):
        nbytes = n_rows * n_features * 8  # a Python int: 10**400 samples have a size too
        raise ValueError(
            f"{rows}={n_rows} with n_features={n_features} asks for {what} of shape "
            f"({n_rows}, {n_features}), about 2**{nbytes.bit_length() - 1} bytes of "
            "float64: more than can be allocated"
        ) from None


def _add_noise(
    values: np.ndarray, scale: Any, rng: np.random.Generator, name: str, value: Any, what: str
) -> None:
    """``values += scale * N(0, 1)``, in place, refusing a ``scale`` that overflows it.

    Parameters
    ----------
    values : ndarray of float64
        The noiseless data (coordinates, angles, targets), any shape.
    scale : float or ndarray broadcasting to ``values``
        Standard deviation of the noise, ``>= 0``.
    rng : numpy.random.Generator
    name, value : str, Any
        The argument ``scale`` comes from and the value given, for the message.
    what : str
        What ``values`` are, for the message.

    Raises
    ------
    ValueError
        When the noise takes a value beyond the float64 range: whether a huge ``scale`` does
        depends on the draw, so the sum is let overflow and checked.
    """
    with np.errstate(over="ignore"):
        values += scale * rng.standard_normal(values.shape)
    if not all_finite(values):
        raise ValueError(
            f"{name}={value!r} is too large: adding {name} * N(0, 1) takes {what} beyond the "
            f"float64 range (|x| > {np.finfo(np.float64).max:.3g})"
        )


def _group_sizes(n_samples: int, n_groups: int) -> np.ndarray:
    """Split ``n_samples`` into ``n_groups`` sizes that differ by at most one: shape (n_groups,)."""
    sizes = np.full(n_groups, n_samples // n_groups, dtype=np.int64)
    sizes[: n_samples % n_groups] += 1
    return sizes


def _labels(sizes: np.ndarray) -> np.ndarray:
    """``[0]*sizes[0] + [1]*sizes[1] + ...`` as int64, shape (sum(sizes),)."""
    return np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)


def _shuffled(
    X: np.ndarray, y: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Apply one random permutation to the rows of ``X`` and ``y``."""
    order = rng.permutation(len(y))
    return X[order], y[order]


def _on_circle(radius: float, angles: np.ndarray) -> np.ndarray:
    """Points ``radius * (cos t, sin t)``: shape (len(angles), 2)."""
    return radius * np.column_stack([np.cos(angles), np.sin(angles)])


# --------------------------------------------------------------------------- generators


def make_circles(
    n_samples: int = 1000,
    *,
    noise: float = 0.1,
    factor: float = 0.5,
    seed: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two concentric circles: a binary problem no straight line can separate.

    The outer circle has radius 1 (label 0), the inner one radius ``factor`` (label 1). Angles are
    uniform on ``[0, 2π)`` and each coordinate gets Gaussian noise of standard deviation
    ``noise``.

    Parameters
    ----------
    n_samples : int, default 1000
        Total number of points (at least 2); the outer circle gets the odd one.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise added to each coordinate, ``>= 0``.
    factor : float, default 0.5
        Radius of the inner circle, in ``(0, 1)``.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64
        0 for the outer circle, 1 for the inner one.
    """
    n_samples = _check_n_samples(n_samples, 2, "circle")
    noise = check_number(noise, "noise", low=0)
    factor = check_number(factor, "factor", low=0, high=1, low_open=True, high_open=True)
    rng = as_generator(seed)
    sizes = _group_sizes(n_samples, 2)
    X = np.vstack(
        [
            _on_circle(radius, rng.uniform(0.0, 2 * np.pi, size))
            for radius, size in zip((1.0, factor), sizes)
        ]
    )
    _add_noise(X, noise, rng, "noise", noise, "X")
    return _shuffled(X, _labels(sizes), rng)


def make_moons(
    n_samples: int = 1000, *, noise: float = 0.1, seed: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles.

    Upper moon (label 0): ``(cos t, sin t)``; lower moon (label 1): ``(1 - cos t, 0.5 - sin t)``,
    with ``t`` uniform on ``[0, π]``, plus Gaussian noise of standard deviation ``noise`` on each
    coordinate. (The usual construction, e.g. scikit-learn's ``make_moons``.)

    Parameters
    ----------
    n_samples : int, default 1000
        Total number of points (at least 2); the upper moon gets the odd one.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise, ``>= 0``.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64
    """
    n_samples = _check_n_samples(n_samples, 2, "moon")
    noise = check_number(noise, "noise", low=0)
    rng = as_generator(seed)
    sizes = _group_sizes(n_samples, 2)
    upper = _on_circle(1.0, rng.uniform(0.0, np.pi, sizes[0]))
    lower = np.array([1.0, 0.5]) - _on_circle(1.0, rng.uniform(0.0, np.pi, sizes[1]))
    X = np.vstack([upper, lower])
    _add_noise(X, noise, rng, "noise", noise, "X")
    return _shuffled(X, _labels(sizes), rng)


def make_blobs(
    n_samples: int = 100,
    *,
    centers: int | Any = 2,
    std: float | Any = 1.0,
    n_features: int = 2,
    box: tuple[float, float] = (-10.0, 10.0),
    seed: SeedLike = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Isotropic Gaussian clusters, one class per centre.

    Parameters
    ----------
    n_samples : int, default 100
        Total number of points, spread as evenly as possible over the centres (at least one
        each).
    centers : int or array_like of shape (n_centers, n_features), default 2
        Either how many centres to draw uniformly inside ``box`` (in ``n_features`` dimensions),
        or the centres themselves, in which case ``n_features`` and ``box`` are ignored.
    std : float or array_like of shape (n_centers,), default 1.0
        Standard deviation of every cluster, or one per centre; each ``>= 0``.
    n_features : int, default 2
        Dimension of the points when ``centers`` is a count.
    box : (float, float), default (-10, 10)
        ``(low, high)`` bounds of the uniform draw of the centres, ``low < high`` with a finite
        width ``high - low``.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64
        The index of each point's centre.

    Example
    -------
    The two overlapping clusters of the logistic-regression tutorial:

    >>> X, y = make_blobs(500, centers=[(-3.5, -2.0), (2.5, 3.5)], std=2.25, seed=0)
    >>> X.shape
    (500, 2)
    """
    rng = as_generator(seed)
    if isinstance(centers, (int, np.integer)) and not isinstance(centers, bool):
        n_centers = check_number(centers, "centers", low=1, integer=True)
        n_features = check_number(n_features, "n_features", low=1, integer=True)
        # A count no array can hold is the count's fault: n_samples could never reach it.
        _check_size(n_centers, n_features, "centers", "centres")
        low, high = _check_box(box)
        center_array = None  # drawn once every size is checked
    else:
        center_array = as_float_array(centers, "centers", ndim=2)
        n_centers, n_features = center_array.shape
    n_samples = _check_n_samples(n_samples, n_centers, "centre", n_features, "centers")
    stds = _check_stds(std, n_centers)
    if center_array is None:
        center_array = rng.uniform(low, high, (n_centers, n_features))
    sizes = _group_sizes(n_samples, n_centers)
    y = _labels(sizes)
    X = center_array[y]
    _add_noise(X, stds[y, None], rng, "std", std, "the points around the centres")
    return _shuffled(X, y, rng)


def _check_box(box: Any) -> tuple[float, float]:
    """``box`` is two finite numbers ``low < high``."""
    try:
        low, high = box
    except (TypeError, ValueError):
        raise TypeError(f"box must be a pair (low, high), got {box!r}") from None
    low = check_number(low, "box[0]")
    high = check_number(high, "box[1]")
    if not low < high:
        raise ValueError(f"box must satisfy low < high, got {box!r}")
    if not math.isfinite(high - low):  # Python floats: the difference overflows to inf
        raise ValueError(
            f"box must have a finite width high - low (at most "
            f"{np.finfo(np.float64).max:.6g}), got {box!r}"
        )
    return low, high


def _check_stds(std: Any, n_centers: int) -> np.ndarray:
    """``std`` as one non-negative value per centre: shape (n_centers,)."""
    stds = as_float_array(std, "std", ndim=(0, 1))
    if stds.ndim == 1 and stds.shape != (n_centers,):
        raise ValueError(
            f"std must be a scalar or have shape ({n_centers},), one per centre, "
            f"got shape {stds.shape}"
        )
    if (stds < 0).any():
        raise ValueError(f"std must be >= 0, got {std!r}")
    return np.broadcast_to(stds, (n_centers,))


def make_spiral(
    n_samples: int = 300, *, n_classes: int = 3, noise: float = 0.2, seed: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Interleaved spiral arms, one per class (the classic CS231n toy problem).

    Arm ``k`` has ``m`` points with radius ``r = linspace(0, 1, m)`` and angle
    ``t = linspace(4k, 4(k+1), m) + noise * N(0, 1)``, placed at ``r * (sin t, cos t)``
    (A. Karpathy, CS231n course notes, "Putting it together: minimal neural network case study").
    The noise is on the angle, in radians, so points stay at their radius.

    Parameters
    ----------
    n_samples : int, default 300
        Total number of points, spread as evenly as possible over the arms (at least one each).
    n_classes : int, default 3
        Number of arms, ``>= 1``.
    noise : float, default 0.2
        Standard deviation of the angular noise, ``>= 0``.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64
    """
    n_classes = check_number(n_classes, "n_classes", low=1, integer=True)
    n_samples = _check_n_samples(n_samples, n_classes, "arm", groups_argument="n_classes")
    noise = check_number(noise, "noise", low=0)
    rng = as_generator(seed)
    sizes = _group_sizes(n_samples, n_classes)
    arms = []
    for k, m in enumerate(sizes):
        radius = np.linspace(0.0, 1.0, m)
        angle = np.linspace(4.0 * k, 4.0 * (k + 1), m)
        _add_noise(angle, noise, rng, "noise", noise, "the angles")
        arms.append(radius[:, None] * np.column_stack([np.sin(angle), np.cos(angle)]))
    return _shuffled(np.vstack(arms), _labels(sizes), rng)


def make_xor(
    n_samples: int = 200, *, noise: float = 0.1, seed: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """Four Gaussian clusters at the corners of the unit square, labelled by XOR.

    The corners ``(0, 0), (0, 1), (1, 0), (1, 1)`` get labels ``0, 1, 1, 0`` (``x1 XOR x2``): the
    smallest problem a single-layer perceptron cannot solve (Minsky and Papert, 1969).

    Parameters
    ----------
    n_samples : int, default 200
        Total number of points, spread as evenly as possible over the corners (at least 4).
    noise : float, default 0.1
        Standard deviation of each cluster, ``>= 0``.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
    y : ndarray of shape (n_samples,), int64
    """
    n_samples = _check_n_samples(n_samples, 4, "corner")
    noise = check_number(noise, "noise", low=0)
    rng = as_generator(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    corner = _labels(_group_sizes(n_samples, 4))
    X = corners[corner]
    _add_noise(X, noise, rng, "noise", noise, "X")
    y = (corners[corner, 0] != corners[corner, 1]).astype(np.int64)
    return _shuffled(X, y, rng)


def make_regression(
    n_samples: int = 100, *, n_features: int = 5, noise: float = 0.1, seed: SeedLike = None
) -> tuple[np.ndarray, np.ndarray]:
    """A linear regression problem: ``y = X @ w + noise * N(0, 1)``.

    ``X`` and the hidden weights ``w`` (shape (n_features,)) are standard normal; the weights are
    not returned.

    Parameters
    ----------
    n_samples : int, default 100
        Number of rows, ``>= 1``.
    n_features : int, default 5
        Number of columns, ``>= 1``.
    noise : float, default 0.1
        Standard deviation of the Gaussian noise on the target, ``>= 0``.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), float64
    """
    n_features = check_number(n_features, "n_features", low=1, integer=True)
    n_samples = _check_n_samples(n_samples, 1, "sample", n_features)
    noise = check_number(noise, "noise", low=0)
    rng = as_generator(seed)
    X = rng.standard_normal((n_samples, n_features))
    w = rng.standard_normal(n_features)
    y = X @ w
    _add_noise(y, noise, rng, "noise", noise, "y")
    return X, y
