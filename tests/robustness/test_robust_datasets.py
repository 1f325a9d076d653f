"""Robustness of the synthetic dataset generators in ``chainrule.datasets.generators``.

A generator that returns gives ``X`` (n_samples, n_features) float64, all finite, and ``y``
(n_samples,) with balanced int64 classes (float64 targets for ``make_regression``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.datasets.generators import (
    make_blobs,
    make_circles,
    make_moons,
    make_regression,
    make_spiral,
    make_xor,
)

ROBUST = settings.get_profile("chainrule-robustness")

#: generator -> (function, {argument: (a valid value, its domain)}, n_classes or a function of
#: the arguments, n_features)
GENERATORS = {
    "make_circles": (make_circles, {"n_samples": (10, {"low": 2, "integer": True}),
                                    "noise": (0.1, {"low": 0}),
                                    "factor": (0.5, {"low": 0, "high": 1, "low_open": True,
                                                         "high_open": True})}, 2, 2),
    "make_moons": (make_moons, {"n_samples": (10, {"low": 2, "integer": True}),
                                "noise": (0.1, {"low": 0})}, 2, 2),
    "make_xor": (make_xor, {"n_samples": (10, {"low": 4, "integer": True}),
                            "noise": (0.1, {"low": 0})}, 2, 2),
    "make_spiral": (make_spiral, {"n_samples": (12, {"low": 3, "integer": True}),
                                  "n_classes": (3, {"low": 1, "high": 12, "integer": True}),
                                  "noise": (0.2, {"low": 0})}, "n_classes", 2),
    "make_blobs": (make_blobs, {"n_samples": (12, {"low": 2, "integer": True}),
                                "centers": (2, {"low": 1, "high": 12, "integer": True}),
                                "n_features": (2, {"low": 1, "integer": True}),
                                "std": (1.0, {"low": 0})}, "centers", "n_features"),
    "make_regression": (make_regression, {"n_samples": (10, {"low": 1, "integer": True}),
                                          "n_features": (3, {"low": 1, "integer": True}),
                                          "noise": (0.1, {"low": 0})}, None, "n_features"),
}
CASES = [(name, argument) for name, (_, arguments, _, _) in GENERATORS.items()
         for argument in [*arguments, "seed"]]


def _array_scalar(value) -> bool:
    """A scalar NumPy turns into a number array (not an object array)."""
    if isinstance(value, (bool, np.bool_, float, np.floating, np.integer)):
        return True
    return isinstance(value, int) and -(2**63) <= value < 2**64


def _largest(value) -> float:
    """The largest magnitude in a real scalar or a list of them (inf beyond float64)."""
    items = value if isinstance(value, list) else [value]
    reals = [v for v in items if _array_scalar(v) or isinstance(v, int)]
    try:
        return max((abs(float(v)) for v in reals), default=0.0)
    except OverflowError:
        return math.inf


def _size_like(argument: str) -> bool:
    return argument in ("n_samples", "n_features", "n_classes", "centers")


@pytest.mark.parametrize(("name", "argument"), CASES, ids=[f"{n}.{a}" for n, a in CASES])
@settings(ROBUST, max_examples=30)
@given(data=st.data())
def test_generator_returns_clean_data_or_names_the_argument(robust, name, argument, data):
    function, arguments, n_classes, n_features = GENERATORS[name]
    kwargs = {key: valid for key, (valid, _) in arguments.items()}
    kwargs["seed"] = 0
    value = data.draw(st.one_of(robust.hostile_scalars(), st.integers(0, 12), st.floats(0, 2)),
                      label=argument)
    if _size_like(argument) and robust.in_range(value, low=10_000, integer=True):
        value = 2**62  # a size that is valid but cannot be allocated: must fail cleanly
    kwargs[argument] = value
    n_samples = kwargs.pop("n_samples")
    outcome = robust.call(function, n_samples, **kwargs, names=(argument, "n_samples"))
    if argument == "seed":
        valid = value is None or (isinstance(value, (int, np.integer))
                                  and not isinstance(value, bool) and value >= 0)
    elif argument == "std":  # one value, or one per centre (2): bools and numpy ints count
        items = value if isinstance(value, list) and len(value) == 2 else [value]
        valid = all(_array_scalar(v) and math.isfinite(float(v)) and float(v) >= 0
                    for v in items)
    else:
        valid = robust.in_range(value, **arguments[argument][1])
    if name == "make_spiral" and argument == "n_classes" and valid:
        valid = int(value) <= n_samples
    if name == "make_blobs" and argument == "centers" and valid:
        valid = not isinstance(value, float) and int(value) <= n_samples  # a float is an array
    # Valid but refused: a size that cannot be allocated, a spread whose noise overflows
    # (|noise * z| > 1.8e308 needs noise above 1e300: no draw from N(0, 1) reaches 1e8).
    too_large = (_size_like(argument) and value == 2**62) or _largest(value) > 1e300
    if not outcome.ok:
        assert not valid or too_large, (
            f"{name}({argument}={value!r}) was rejected: {outcome.error!r}")
        return
    assert valid, f"{name}({argument}={value!r}) was accepted"
    X, y = outcome.value
    count = int(n_samples)
    width = kwargs.get(n_features, 2) if isinstance(n_features, str) else n_features
    assert X.shape == (count, int(width)) and X.dtype == np.float64
    assert np.isfinite(X).all(), f"{name}({argument}={value!r}) gave non-finite X"
    assert y.shape == (count,)
    if n_classes is None:
        assert y.dtype == np.float64
        assert np.isfinite(y).all(), f"{name}({argument}={value!r}) gave non-finite y"
        return
    classes = int(kwargs[n_classes]) if isinstance(n_classes, str) else n_classes
    assert y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes and counts.max() - counts.min() <= 1  # balanced


def test_generators_are_reproducible(robust):
    for name, (function, arguments, _, _) in GENERATORS.items():
        kwargs = {key: valid for key, (valid, _) in arguments.items()}
        first = robust.call(function, **kwargs, seed=3).value
        second = robust.call(function, **kwargs, seed=3).value
        assert all(np.array_equal(a, b) for a, b in zip(first, second)), name
        assert math.isfinite(float(np.abs(first[0]).sum()))


# ------------------------------------------------------------------------------ regressions
# The minimal cases of B20 (OverflowError, RuntimeWarnings or infinite data for huge sizes and
# spreads) and B36 (numpy's 'scale < 0' for noise=-0.0), fixed, are pinned once, with every
# warning an error, in tests/datasets/test_generators.py: test_bad_arguments,
# test_huge_noise_that_fits_gives_finite_data, test_noise_of_negative_zero_is_no_noise and
# test_blobs_std_of_negative_zero_puts_every_point_on_its_centre.
