"""The default network of ``chainrule explain``: the tutorials' two-circles classifier."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._random import as_generator
from .._validation import check_number
from ..datasets import make_circles
from ..layers.builders import mlp
from ..layers.sequential import Sequential

#: Standard deviation of the biases (the tutorials' ``np.random.randn(n, 1) * 0.1``).
BIAS_STD = 0.1


class Example(NamedTuple):
    """A network, a batch and a loss: ``explain(*example)`` explains them."""

    net: Sequential
    X: np.ndarray
    y: np.ndarray
    loss: str


def two_circles_example(n_samples: int = 8, *, seed: Any = 0, noise: float = 0.1) -> Example:
    """The 2-4-3-1 network (ReLU, ReLU, Sigmoid) and a batch of the two-circles problem.

    Weights are He-uniform (``mlp``'s choice for ReLU layers); the biases are drawn from
    N(0, 0.1²) as in the tutorials, rather than zeros. With zero biases a sample for which every
    unit of a ReLU layer is off gives the next layer pre-activations of exactly 0, the ReLU's
    kink, where finite differences cannot confirm a gradient.

    Parameters
    ----------
    n_samples : int, default 8
        Batch size (at least 2): half the points on the outer circle (label 0), half on the
        inner one (label 1).
    seed : int, Generator or None, default 0
        Seeds the points and the network's initial parameters.
    noise : float, default 0.1
        Standard deviation of the noise added to each coordinate.

    Returns
    -------
    Example
        ``(net, X, y, loss)`` with X (n_samples, 2), y (n_samples,) in {0, 1} and loss
        ``"binary_cross_entropy"``.

    Examples
    --------
    >>> net, X, y, loss = two_circles_example(6)
    >>> X.shape, net.widths
    ((6, 2), [2, 4, 4, 3, 3, 1, 1])
    """
    n_samples = check_number(n_samples, "n_samples", low=2, integer=True)
    rng = as_generator(seed)
    X, y = make_circles(n_samples, noise=noise, factor=0.5, seed=rng)
    net = mlp([2, 4, 3, 1], activation="relu", output="sigmoid", seed=rng)
    for _, parameter, _ in net.named_parameters():
        if parameter.ndim == 1:  # the biases: N(0, 0.1²), as the tutorials draw them
            parameter[...] = rng.normal(0.0, BIAS_STD, parameter.shape)
    return Example(net, X, y, "binary_cross_entropy")
