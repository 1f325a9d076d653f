"""Standardizer: columns constant up to rounding get scale 1 (review 4, defect 9).

A column whose computed variance is within the rounding bound ``n·eps·var + (n·mean·eps)²``
(the bound scikit-learn's StandardScaler uses) is constant: dividing by its rounding-level
standard deviation would turn noise of one ulp into inputs of order 1.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from chainrule.preprocessing import Standardizer

EPS = 2.0**-52


def test_a_column_constant_up_to_one_ulp_is_not_amplified():
    X = np.array([[1.0], [1.0 + EPS], [1.0]])
    scaler = Standardizer().fit(X)
    assert scaler.scale_.tolist() == [1.0]
    assert scaler.mean_.tolist() == [1.0]
    np.testing.assert_array_equal(scaler.transform(X), [[0.0], [EPS], [0.0]])  # was [0, 2, 0]
    np.testing.assert_array_equal(scaler.inverse_transform(scaler.transform(X)), X)


def test_only_the_near_constant_column_changes(rng):
    varying = rng.normal(size=30)
    X = np.column_stack([varying, 0.1 + np.tile([0.0, EPS / 8], 15)])
    scaler = Standardizer().fit(X)
    assert scaler.scale_[1] == 1.0
    assert scaler.scale_[0] == pytest.approx(varying.std(), rel=1e-14)
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z[:, 0], (varying - varying.mean()) / varying.std(), rtol=1e-12)
    assert np.abs(Z[:, 1]).max() < 1e-16


@pytest.mark.parametrize("exponent", [-1000, -300, -20, 0, 20, 300, 970])
def test_the_test_is_scale_invariant(exponent):
    """The same relative spread is constant at every magnitude, also where (n·mean·eps)² in
    the data's own units would overflow or underflow."""
    c = 2.0**exponent
    X = np.array([[1.0], [1.0 + EPS], [1.0], [1.0 - EPS / 2]]) * c
    assert Standardizer().fit(X).scale_.tolist() == [1.0]


@pytest.mark.parametrize("exponent", [-1000, -300, 0, 300, 970])
def test_a_spread_well_above_rounding_keeps_its_standard_deviation(exponent):
    c = 2.0**exponent
    X = np.array([[1.0], [1.0 + 2.0**-40], [1.0]]) * c
    scaler = Standardizer().fit(X)
    assert scaler.scale_[0] != 1.0  # a real std (2**-40·√2/3 times c)
    assert scaler.scale_[0] == pytest.approx(2.0**-40 * np.sqrt(2) / 3 * c, rel=1e-3)
    np.testing.assert_allclose(
        scaler.transform(X).ravel(), [-np.sqrt(0.5), np.sqrt(2), -np.sqrt(0.5)], rtol=1e-3
    )


def test_huge_varying_columns_are_not_called_constant():
    X = np.array([[1e300, -1e300, 1e200], [-1e300, 1e300, 3e200]])
    scaler = Standardizer().fit(X)
    np.testing.assert_array_equal(scaler.scale_, [1e300, 1e300, 1e200])


@pytest.mark.parametrize(
    "column",
    [
        [1.0, 1.0 + EPS, 1.0],
        [0.1] * 7,
        [1e15, 1e15 + 1] * 2,  # std 0.5 <= 4·eps·1e15 ≈ 0.89: rounding level for n = 4
        [1e15, 1e15 + 1],  # std 0.5 > 2·eps·1e15 ≈ 0.44: kept
        [3.0, 3.0 + 2.0**-40, 3.0, 3.0],
        [0.0, 0.0, 5e-324],  # a subnormal spread
    ],
)
def test_agrees_with_scikit_learn_on_near_constant_columns(column):
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    X = np.array(column)[:, None]
    ours, theirs = Standardizer().fit(X), preprocessing.StandardScaler().fit(X)
    assert ours.scale_.tolist() == theirs.scale_.tolist()
    # the means may differ by rounding (n·eps·|X| at most), and so may the outputs at scale 1
    atol = len(column) * EPS * np.abs(X).max()
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), rtol=1e-12, atol=atol)


def test_fitted_statistics_round_trip_through_json_and_a_model_file(tmp_path):
    from chainrule.io import load, save
    from chainrule.layers.dense import Dense
    from chainrule.layers.rescale import Rescale
    from chainrule.layers.sequential import Sequential

    X = np.array([[1.0, 0.0], [1.0 + EPS, 2.0], [1.0, 4.0]])
    scaler = Standardizer().fit(X)
    copy = Standardizer.from_config(json.loads(json.dumps(scaler.get_config())))
    assert copy.scale_.tolist() == scaler.scale_.tolist() == [1.0, float(np.std([0, 2, 4]))]
    assert copy.mean_.tolist() == scaler.mean_.tolist()

    net = Sequential([Rescale.from_scaler(scaler), Dense(2, 1)], dtype=np.float64, seed=0)
    save(net, tmp_path / "model.safetensors")
    loaded = load(tmp_path / "model.safetensors")
    assert loaded.layers[0].scale.tolist() == scaler.scale_.tolist()
    assert loaded.layers[0].offset.tolist() == scaler.mean_.tolist()
    np.testing.assert_array_equal(loaded.forward(X), net.forward(X))


def test_statistics_saved_by_earlier_versions_are_used_as_stored():
    """A scaler saved before this change (a rounding-level scale) loads unchanged: loading
    never refits, so old model files predict as they did."""
    old = {"class": "Standardizer", "mean": [1.0], "scale": [1.0467283057891834e-16]}
    scaler = Standardizer.from_config(old)
    assert scaler.scale_.tolist() == old["scale"]
    np.testing.assert_allclose(scaler.transform([[1.0 + EPS]]), [[EPS / old["scale"][0]]])


def test_a_rescale_layer_keeps_its_own_copy_of_the_statistics(tmp_path):
    """Reusing the arrays the layer was made from changes neither its outputs nor the model
    file saved from it."""
    from chainrule import Sequential, load, save
    from chainrule.layers import Dense, Rescale

    offset, scale = np.array([1.0, 2.0]), np.array([2.0, 4.0])
    net = Sequential([Rescale(offset, scale), Dense(2, 1)], dtype=np.float64, seed=0)
    x = np.array([[3.0, 6.0]])
    before = net.forward(x)
    offset[:] = 100.0
    scale[:] = 0.5
    save(net, tmp_path / "m.safetensors")
    np.testing.assert_array_equal(net.forward(x), before)
    np.testing.assert_array_equal(load(tmp_path / "m.safetensors").forward(x), before)
