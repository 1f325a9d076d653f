"""The synthetic dataset generators."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.datasets.generators import (
    make_blobs,
    make_circles,
    make_moons,
    make_regression,
    make_spiral,
    make_xor,
)

CLASSIFIERS = {
    make_circles: 2,
    make_moons: 2,
    make_blobs: 2,
    make_spiral: 3,
    make_xor: 2,
}


@pytest.mark.parametrize("make", list(CLASSIFIERS), ids=lambda f: f.__name__)
@pytest.mark.parametrize("n_samples", [7, 100])
def test_shapes_dtypes_and_balance(make, n_samples):
    X, y = make(n_samples, seed=0)
    assert X.shape == (n_samples, 2) and X.dtype == np.float64
    assert y.shape == (n_samples,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=CLASSIFIERS[make])
    assert len(counts) == CLASSIFIERS[make]
    if make is not make_xor:  # xor balances its 4 corners, so its 2 labels within one
        assert counts.max() - counts.min() <= 1
    assert np.isfinite(X).all()


@pytest.mark.parametrize("make", [*CLASSIFIERS, make_regression], ids=lambda f: f.__name__)
def test_same_seed_same_data_other_seed_other_data(make):
    X1, y1 = make(50, seed=3)
    X2, y2 = make(50, seed=3)
    X3, _ = make(50, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    X4, _ = make(50, seed=np.random.default_rng(3))
    np.testing.assert_array_equal(X1, X4)


@pytest.mark.parametrize("make", list(CLASSIFIERS), ids=lambda f: f.__name__)
def test_rows_are_shuffled(make):
    _, y = make(200, seed=1)
    assert not np.array_equal(y, np.sort(y))


def test_global_random_state_is_untouched():
    np.random.seed(0)
    expected = np.random.random_sample()
    np.random.seed(0)
    make_circles(20, seed=1)
    make_blobs(20, seed=1)
    assert np.random.random_sample() == expected


def test_circles_radii():
    X, y = make_circles(400, noise=0.0, factor=0.3, seed=0)
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius[y == 0], 1.0)
    np.testing.assert_allclose(radius[y == 1], 0.3)
    assert np.sum(y == 0) == np.sum(y == 1) == 200


def test_circles_noise_scale():
    X, y = make_circles(4000, noise=0.05, factor=0.5, seed=0)
    radius = np.linalg.norm(X, axis=1)
    # Radial deviation of a 2-D isotropic Gaussian perturbation is about N(0, noise^2).
    assert abs(np.std(radius[y == 0] - 1.0) - 0.05) < 0.01
    assert radius[y == 0].min() > radius[y == 1].max()  # still separable by radius


def test_moons_shape_without_noise():
    X, y = make_moons(300, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(lower - [1.0, 0.5], axis=1), 1.0)
    assert (upper[:, 1] >= -1e-12).all() and (lower[:, 1] <= 0.5 + 1e-12).all()


def test_blobs_given_centres_and_stds():
    centers = np.array([[-3.5, -2.0], [2.5, 3.5]])
    X, y = make_blobs(20000, centers=centers, std=[0.5, 2.25], seed=0)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.1)
    np.testing.assert_allclose(X[y == 0].std(axis=0), 0.5, rtol=0.05)
    np.testing.assert_allclose(X[y == 1].std(axis=0), 2.25, rtol=0.05)


def test_blobs_random_centres_inside_box():
    X, y = make_blobs(300, centers=4, n_features=3, std=0.0, box=(0, 1), seed=0)
    assert X.shape == (300, 3)
    assert np.bincount(y).tolist() == [75, 75, 75, 75]
    assert ((X >= 0) & (X <= 1)).all()
    assert len(np.unique(X, axis=0)) == 4  # std 0: every point on its centre


def test_spiral_arms_and_radius():
    X, y = make_spiral(300, n_classes=3, noise=0.0, seed=0)
    assert np.bincount(y).tolist() == [100, 100, 100]
    radius = np.linalg.norm(X, axis=1)
    for k in range(3):
        np.testing.assert_allclose(np.sort(radius[y == k]), np.linspace(0, 1, 100))


def test_xor_labels_follow_the_corners():
    X, y = make_xor(400, noise=0.05, seed=0)
    corner = (X > 0.5).astype(int)
    np.testing.assert_array_equal(y, corner[:, 0] ^ corner[:, 1])
    assert np.bincount(y).tolist() == [200, 200]


def test_regression_is_linear_plus_noise():
    X, y = make_regression(2000, n_features=4, noise=0.3, seed=0)
    assert X.shape == (2000, 4) and y.shape == (2000,) and y.dtype == np.float64
    A = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    residual = y - A @ coef
    assert abs(residual.std() - 0.3) < 0.03
    assert abs(coef[-1]) < 0.05  # no intercept


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("make", [*CLASSIFIERS, make_regression], ids=lambda f: f.__name__)
def test_noise_of_negative_zero_is_no_noise(make):
    # B36: Generator.normal refused the scale -0.0 ('scale < 0'). make_regression adds its
    # noise to y, so every returned array is compared.
    key = "std" if make is make_blobs else "noise"
    for got, want in zip(make(20, **{key: -0.0}, seed=0), make(20, **{key: 0.0}, seed=0)):
        np.testing.assert_array_equal(got, want)


@pytest.mark.filterwarnings("error")
def test_blobs_std_of_negative_zero_puts_every_point_on_its_centre():
    # B36
    centers = np.array([[1.0, 2.0], [3.0, 4.0]])
    X, y = make_blobs(10, centers=centers, std=-0.0, seed=0)
    np.testing.assert_array_equal(X, centers[y])


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("make", [make_circles, make_moons, make_spiral], ids=lambda f: f.__name__)
def test_huge_noise_that_fits_gives_finite_data(make):
    # B20: make_circles(noise=1e308) returned X holding inf; 1e300 still fits the float range.
    X, _ = make(50, noise=1e300, seed=0)
    assert np.isfinite(X).all()


def test_regression_without_noise_is_exactly_linear():
    X, y = make_regression(20, n_features=3, noise=0.0, seed=0)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    np.testing.assert_allclose(X @ coef, y, atol=1e-12)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: make_circles(1), ValueError, "n_samples"),
        (lambda: make_circles(10.5), TypeError, "n_samples"),
        (lambda: make_circles(10, factor=1.0), ValueError, "factor"),
        (lambda: make_circles(10, noise=-0.1), ValueError, "noise"),
        (lambda: make_moons("10"), TypeError, "n_samples"),
        (lambda: make_xor(3), ValueError, "n_samples"),
        (lambda: make_spiral(10, n_classes=0), ValueError, "n_classes"),
        (lambda: make_spiral(2, n_classes=3), ValueError, "n_samples"),
        (lambda: make_blobs(10, centers=0), ValueError, "centers"),
        (lambda: make_blobs(10, centers=[1.0, 2.0]), ValueError, "centers"),
        (lambda: make_blobs(10, std=[1.0, 2.0, 3.0]), ValueError, "std"),
        (lambda: make_blobs(10, std=-1.0), ValueError, "std"),
        (lambda: make_blobs(10, box=(1, 1)), ValueError, "box"),
        (lambda: make_blobs(10, box=5), TypeError, "box"),
        (lambda: make_regression(10, n_features=0), ValueError, "n_features"),
        (lambda: make_circles(10, seed="x"), TypeError, "seed"),
        # B20: OverflowError, RuntimeWarnings or infinite data for huge sizes and spreads.
        # numpy's uniform raised OverflowError 'high - low range exceeds valid bounds':
        (lambda: make_blobs(10, box=(-1e308, 1e308)), ValueError, "box.*finite width"),
        (lambda: make_blobs(3, centers=4), ValueError, r"n_samples.*at least 4.*centre.*3"),
        (lambda: make_blobs(10, std=1e308, seed=0), ValueError, r"std=1e\+308 is too large"),
        # centers + std * N(0, 1) leaked RuntimeWarning 'overflow encountered in add':
        (lambda: make_blobs(4, centers=[[1e308, 1e308]], std=1e308, seed=0), ValueError,
         r"std=1e\+308 is too large"),
        (lambda: make_circles(10, noise=1e308, seed=0), ValueError, r"noise=1e\+308.*X"),
        (lambda: make_moons(50, noise=1e308, seed=0), ValueError, r"noise=1e\+308.*X"),
        (lambda: make_xor(50, noise=1e308, seed=0), ValueError, r"noise=1e\+308.*X"),
        (lambda: make_spiral(50, noise=1e308, seed=0), ValueError, "noise.*angles"),
        (lambda: make_regression(50, noise=1e308, seed=0), ValueError, "noise.*y"),
        # numpy's 'array is too big':
        (lambda: make_circles(2**62), ValueError, r"n_samples=4611686018427387904.*allocated"),
        # OverflowError 'Python int too large to convert to C long':
        (lambda: make_circles(10**30), ValueError, "n_samples.*allocated"),
        # MemoryError 'Unable to allocate 16.0 TiB':
        (lambda: make_circles(2**40), ValueError, "n_samples=1099511627776.*allocated"),
        (lambda: make_regression(2, n_features=2**62), ValueError, "n_features.*allocated"),
        (lambda: make_blobs(12, n_features=2**62, seed=0), ValueError,
         "n_features=4611686018427387904.*allocated"),
        # A count of centres that could never be drawn is the centers' fault, not n_samples':
        (lambda: make_blobs(12, centers=2**62, seed=0), ValueError,
         (r"^centers=4611686018427387904 with n_features=2 asks for centres of shape "
          r"\(4611686018427387904, 2\), about 2\*\*66 bytes of float64: more than can be "
          r"allocated$")),
        (lambda: make_blobs(centers=10**30, seed=0), ValueError,
         f"^centers={10**30} with n_features=2 asks for centres of shape"),
        (lambda: make_blobs(3, centers=4), ValueError,
         r"^n_samples must be at least 4, one sample per centre \(centers=4\), got 3$"),
        (lambda: make_spiral(2, n_classes=3), ValueError,
         r"^n_samples must be at least 3, one sample per arm \(n_classes=3\), got 2$"),
        (lambda: make_xor(3), ValueError,
         r"^n_samples must be at least 4, one sample per corner, got 3$"),
    ],
)
def test_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()
