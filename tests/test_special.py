"""erf, erfc and ndtr against the standard library (and mpmath where installed).

Measured maximum relative errors (float64; see also the module docstring):
erf vs math.erf 2.7e-16 (vs 200-bit mpmath 2.3e-16); erfc vs math.erfc 8.9e-16 where normal
(vs mpmath 7e-16); ndtr vs the argument-corrected math.erfc reference and vs mpmath 8e-16 on
[-37.5, 8].
"""

from __future__ import annotations

import math
import warnings
from decimal import Decimal, localcontext

import numpy as np
import pytest

from chainrule._special import erf, erfc, ndtr

TINY = np.finfo(np.float64).tiny  # smallest normal float64
# Region boundaries of the implementation, and their floating-point neighbours.
BOUNDARIES = np.array([0.46875, 0.46875 * math.sqrt(2), 1.0, 4.0, 4.0 * math.sqrt(2), 5.93, 6.0])


def _around(points: np.ndarray) -> np.ndarray:
    """``points`` and their neighbours one ulp away, on both signs."""
    near = np.concatenate([points, np.nextafter(points, np.inf), np.nextafter(points, -np.inf)])
    return np.concatenate([near, -near])


def _grid(rng: np.random.Generator) -> np.ndarray:
    """A dense grid over [-40, 40], random points, tiny values and the region boundaries."""
    tiny = 10.0 ** rng.uniform(-300, -10, 2000) * rng.choice([-1.0, 1.0], 2000)
    return np.concatenate(
        [
            np.linspace(-40.0, 40.0, 80001),
            rng.uniform(-40.0, 40.0, 20000),
            rng.uniform(-6.0, 6.0, 20000),
            tiny,
            _around(BOUNDARIES),
        ]
    )


def _relative_error(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    return np.abs(got - want) / np.abs(want)


# ---------------------------------------------------------------------------- erf


def test_erf_matches_math_erf_to_a_few_ulp(rng):
    x = _grid(rng)
    got = erf(x)
    want = np.array([math.erf(v) for v in x])
    zero = want == 0  # x == 0 in the grid
    assert zero.sum() == 1 and got[zero] == 0
    assert _relative_error(got[~zero], want[~zero]).max() <= 4e-16


def test_erf_is_odd_exactly(rng):
    x = _grid(rng)
    assert np.array_equal(erf(-x), -erf(x))


def test_erf_tiny_and_subnormal_arguments(rng):
    # erf(x) = 2x/√π (1 - x²/3 + ...): for |x| < 1e-10 the relative error is still a few ulp.
    x = 10.0 ** rng.uniform(-307, -10, 1000)
    assert _relative_error(erf(x), 2.0 / math.sqrt(math.pi) * x).max() <= 4e-16
    sub = np.array([5e-324, 1e-320, 2e-310])  # subnormal in, subnormal out: within 1 unit
    want = np.array([math.erf(v) for v in sub])
    assert np.abs(erf(sub) - want).max() <= 5e-324


def test_erf_near_zero_region_against_mpmath(rng):
    mpmath = pytest.importorskip("mpmath")
    x = np.concatenate([rng.uniform(-6.0, 6.0, 3000), _around(BOUNDARIES)])
    with mpmath.workprec(200):
        want = np.array([float(mpmath.erf(mpmath.mpf(v))) for v in x])
    assert _relative_error(erf(x), want).max() <= 3e-16


# ---------------------------------------------------------------------------- erfc


def test_erfc_keeps_relative_accuracy_in_the_tail(rng):
    x = np.concatenate(
        [np.linspace(-40.0, 40.0, 80001), rng.uniform(-6.0, 27.0, 20000), _around(BOUNDARIES)]
    )
    got = erfc(x)
    want = np.array([math.erfc(v) for v in x])
    normal = want >= TINY
    assert _relative_error(got[normal], want[normal]).max() <= 1.2e-15
    # Subnormal results (x > 26.55) agree to a few units of the smallest subnormal.
    assert np.abs(got[~normal] - want[~normal]).max() <= 4 * 5e-324
    assert erfc(np.array([26.0]))[0] > 0  # not flushed to zero early (erfc(26) ≈ 5.7e-296)


def test_erfc_and_erf_are_complementary(rng):
    x = rng.uniform(-3.0, 3.0, 1000)
    assert np.abs(erf(x) + erfc(x) - 1.0).max() <= 4.5e-16


# ---------------------------------------------------------------------------- ndtr


def _ndtr_reference(x: float) -> float:
    """``½ erfc(-x/√2)`` from math.erfc without the error of rounding ``-x/√2``.

    ``z = -x/√2`` is formed to 50 digits and split as ``zh + zl`` (``zh`` the nearest float64);
    then ``erfc(zh + zl) = erfc(zh) - (2/√π) exp(-zh²) zl`` up to terms of order ``zh · zl²``.
    The naive ``0.5 * math.erfc(-x / math.sqrt(2))`` is off by about ``x²`` ulp (2e-13 at -37).
    """
    with localcontext() as context:
        context.prec = 50
        z = -Decimal(x) / Decimal(2).sqrt()
        zh = float(z)
        zl = float(z - Decimal(zh))
    return 0.5 * (math.erfc(zh) - 2.0 / math.sqrt(math.pi) * math.exp(-zh * zh) * zl)


def test_ndtr_matches_erfc_reference_down_to_minus_37(rng):
    x = np.concatenate(
        [
            np.linspace(-37.5, 8.0, 20001),
            rng.uniform(-37.5, -20.0, 5000),
            _around(BOUNDARIES * math.sqrt(2)),
        ]
    )
    want = np.array([_ndtr_reference(v) for v in x])
    assert _relative_error(ndtr(x), want).max() <= 1.2e-15


def test_ndtr_is_within_the_argument_rounding_of_the_naive_formula(rng):
    # Against 0.5 * math.erfc(-x/√2) itself, the difference is dominated by the rounding of
    # x/√2 in the reference, whose effect on erfc grows like x² ulp.
    x = rng.uniform(-37.5, 8.0, 5000)
    naive = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) for v in x])
    bound = 2e-15 + 2.5e-16 * x**2
    assert (_relative_error(ndtr(x), naive) <= bound).all()


def test_ndtr_far_left_tail_against_mpmath(rng):
    mpmath = pytest.importorskip("mpmath")
    x = np.concatenate([rng.uniform(-37.5, 8.0, 2000), [-37.0, -30.0, -10.0, -1.0, 0.5]])
    with mpmath.workprec(200):
        want = np.array([float(mpmath.ncdf(mpmath.mpf(v))) for v in x])
    assert _relative_error(ndtr(x), want).max() <= 1e-15


def test_ndtr_symmetry_and_known_values(rng):
    x = rng.uniform(-8.0, 8.0, 1000)
    assert np.abs(ndtr(x) + ndtr(-x) - 1.0).max() <= 2.3e-16
    assert ndtr(np.array([0.0]))[0] == 0.5
    # Φ(-1.959963984540054) = 0.025 (the two-sided 95% quantile).
    assert abs(ndtr(np.array([-1.959963984540054]))[0] - 0.025) <= 1e-16
    assert ndtr(np.array([-39.0]))[0] == 0.0  # below the float64 range


# ---------------------------------------------------------------------------- dtypes, shapes


@pytest.mark.parametrize("func", [erf, erfc, ndtr])
def test_float32_in_float32_out(func, rng):
    x = rng.uniform(-6.0, 6.0, (50, 40)).astype(np.float32)
    got = func(x)
    assert got.dtype == np.float32 and got.shape == x.shape
    # Computed in float64 and rounded once.
    assert np.array_equal(got, func(x.astype(np.float64)).astype(np.float32))


@pytest.mark.parametrize("func", [erf, erfc, ndtr])
def test_float64_shapes_and_integer_input(func):
    x = np.arange(-3, 4).reshape(7, 1)
    got = func(x)
    assert got.dtype == np.float64 and got.shape == (7, 1)
    assert np.array_equal(got, func(x.astype(np.float64)))
    scalar = func(np.float64(0.25))
    assert np.ndim(scalar) == 0 and scalar.dtype == np.float64
    assert func(np.empty((0, 3))).shape == (0, 3)


def test_erf_float32_accuracy(rng):
    x = rng.uniform(-5.0, 5.0, 2000).astype(np.float32)
    want = np.array([math.erf(float(v)) for v in x])
    assert _relative_error(erf(x).astype(np.float64), want).max() <= np.finfo(np.float32).eps


def test_special_values_without_warnings():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 1e308, -1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e, c, n = erf(x), erfc(x), ndtr(x)
        e32 = erf(x[:5].astype(np.float32))
    assert np.array_equal(e, [1.0, -1.0, np.nan, 0.0, -0.0, 1.0, -1.0], equal_nan=True)
    assert np.signbit(e[4])  # erf(-0) = -0
    assert np.array_equal(c, [0.0, 2.0, np.nan, 1.0, 1.0, 0.0, 2.0], equal_nan=True)
    assert np.array_equal(n, [1.0, 0.0, np.nan, 0.5, 0.5, 1.0, 0.0], equal_nan=True)
    assert np.array_equal(e32, e[:5].astype(np.float32), equal_nan=True)


@pytest.mark.parametrize("bad", ["abc", np.array([1 + 2j]), np.array(["a"])])
def test_rejects_non_real_input(bad):
    with pytest.raises(TypeError, match="x must be"):
        erf(bad)


@pytest.mark.parametrize("func", [erf, erfc, ndtr])
def test_blocks_and_strided_input_give_the_same_values(func, rng):
    # More than one cache block (16384 elements), a transposed view and a strided slice.
    X = rng.uniform(-8.0, 8.0, (300, 130))
    flat = np.array([func(np.array([v]))[0] for v in X.ravel()[::97]])
    assert np.array_equal(func(X).ravel()[::97], flat)
    assert np.array_equal(func(X.T), func(X).T)
    assert np.array_equal(func(X[::3, 1::2]), func(X)[::3, 1::2])
