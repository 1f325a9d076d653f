"""Finite-difference checks of every layer's backward, in float64, with random upstream gradients."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers.activations import ACTIVATIONS, sigmoid, softmax

DOCS = Path(__file__).resolve().parents[2] / "docs"

N_SAMPLES = (1, 5)


class Projection(cr.Loss):
    """L = Σ R ⊙ Y with a fixed random R: the upstream gradient ∂L/∂Y is R itself.

    A random R (never all ones) is what exposes a wrong backward: for instance softmax rows sum
    to one, so an all-ones upstream gradient gives dX = 0 whatever the backward does.
    """

    def __init__(self, R: np.ndarray) -> None:
        super().__init__(reduction="sum")
        self.R = R

    def _target(self, y_true, Y):
        return None

    def _values(self, Y, T):
        return self.R * Y

    def _gradient(self):
        return self.R.copy()


def away_from_kinks(X: np.ndarray) -> np.ndarray:
    """Move entries at least 0.05 away from 0, where ReLU-like activations have a kink."""
    return np.sign(X) * (np.abs(X) + 0.05)


def check(net: cr.Sequential, X: np.ndarray, rng: np.random.Generator) -> cr.GradcheckReport:
    R = rng.normal(size=(X.shape[0], net.forward(X).shape[1]))
    report = cr.gradcheck(net, Projection(R), X, None, check_input=True)
    assert report.passed, str(report)
    assert report.max_relative_error < 1e-6
    return report


ACTIVATION_NAMES = [name for name in ACTIVATIONS.names() if name != "step"]


@pytest.mark.parametrize("n_samples", N_SAMPLES)
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_backward_matches_finite_differences(name, n_samples, rng):
    net = cr.Sequential([ACTIVATIONS.get(name)()], dtype=np.float64)
    X = away_from_kinks(rng.normal(scale=2.0, size=(n_samples, 6)))
    check(net, X, rng)


@pytest.mark.parametrize("layer", [cr.LeakyReLU(alpha=0.2), cr.ELU(alpha=0.7)], ids=repr)
def test_activations_with_options(layer, rng):
    X = away_from_kinks(rng.normal(scale=2.0, size=(4, 3)))
    check(cr.Sequential([layer], dtype=np.float64), X, rng)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("alpha", [1.0, 0.7])
def test_elu_slope_from_the_output_is_within_an_ulp_of_alpha(dtype, alpha):
    # f'(x) = α eˣ is computed as Y + α: its absolute error stays within about one ulp of α
    # (the rounding of Y and of α), but its relative error grows as Y → −α (x ≪ 0), the
    # trade-off the docs state
    X = -np.linspace(0.0, 60.0, 241).astype(dtype).reshape(1, -1)
    layer = cr.ELU(alpha)
    layer.forward(X, training=True)
    slope = layer.backward(np.ones_like(X)).astype(np.float64)
    exact = alpha * np.exp(X.astype(np.float64))
    assert np.abs(slope - exact).max() <= 1.5 * np.spacing(dtype(alpha))
    if dtype == np.float32:  # x = −17: 40 % off, though within the ulp
        at = np.abs(X[0] + 17.0).argmin()
        assert abs(slope[0, at] / exact[0, at] - 1.0) > 0.1
    for text in (" ".join((DOCS / "backprop.md").read_text(encoding="utf-8").split()),
                 " ".join(cr.ELU.__doc__.split())):
        assert "one ulp of α" in text and "relative error" in text


@pytest.mark.parametrize("n_samples", N_SAMPLES)
@pytest.mark.parametrize("bias", [True, False])
def test_dense_backward_matches_finite_differences(bias, n_samples, rng):
    net = cr.Sequential([cr.Dense(4, 3, bias=bias)], dtype=np.float64, seed=1)
    report = check(net, rng.normal(size=(n_samples, 4)), rng)
    assert [c.name for c in report] == (["0.W", "0.b", "X"] if bias else ["0.W", "X"])


@pytest.mark.parametrize("n_samples", N_SAMPLES)
def test_dropout_backward_uses_the_forward_mask(n_samples, rng):
    net = cr.Sequential([cr.Dense(5, 8), cr.Dropout(0.5), cr.Dense(8, 2)], dtype=np.float64, seed=3)
    check(net, rng.normal(size=(n_samples, 5)), rng)


def test_penalties_are_in_the_gradient(rng):
    net = cr.Sequential(
        [cr.Dense(3, 4, l1=0.3, l2=0.7), cr.Tanh(), cr.Dense(4, 2, l2=1.5)], dtype=np.float64, seed=0
    )
    report = check(net, rng.normal(size=(5, 3)), rng)
    # The penalty must be visible: without it the gradients would differ by l1·sign(W) + l2·W.
    W = net.layers[0].params["W"]
    assert np.linalg.norm(0.3 * np.sign(W) + 0.7 * W) > 0.1
    assert report["0.W"].relative_error < 1e-6
    assert net.layers[0].penalty() == pytest.approx(0.3 * np.abs(W).sum() + 0.5 * 0.7 * (W**2).sum())
    assert net.layers[2].penalty() == pytest.approx(0.5 * 1.5 * np.sum(net.layers[2].params["W"] ** 2))
    assert cr.Dense(3, 4).build(seed=0).penalty() == 0.0  # no l1, no l2: no penalty
    l1_term, l2_term = net.layers[0].penalty_terms()  # the two terms, apart
    assert l1_term == pytest.approx(0.3 * np.abs(W).sum())
    assert l2_term == pytest.approx(0.5 * 0.7 * (W**2).sum())
    assert l1_term + l2_term == net.layers[0].penalty()
    assert net.layers[2].penalty_terms()[0] == 0.0  # no l1


@pytest.mark.parametrize("n_samples", N_SAMPLES)
def test_deep_mixed_network(n_samples, rng):
    layers = [cr.Dense(3, 6), cr.GELU(), cr.Dense(6, 5), cr.Softplus(), cr.Dense(5, 5), cr.Softmax(),
              cr.Dense(5, 4), cr.ELU(), cr.Dense(4, 2), cr.Sigmoid()]
    net = cr.Sequential(layers, dtype=np.float64, seed=7)
    check(net, rng.normal(size=(n_samples, 3)), rng)


# ----------------------------------------------------------------------------- losses

def identity_net() -> cr.Sequential:
    return cr.Sequential([cr.Identity()], dtype=np.float64)


def loss_cases(rng, n_samples):
    """(loss, y_pred, y_true, sample_weight) for every loss and its options."""
    n_out, n_classes = 3, 4
    regression = rng.normal(size=(n_samples, n_out)), rng.normal(size=(n_samples, n_out))
    probabilities = rng.uniform(0.05, 0.95, size=(n_samples, n_out))
    binary_targets = rng.uniform(0, 1, size=(n_samples, n_out))
    logits = rng.normal(scale=3, size=(n_samples, n_classes))
    # Probabilities not too close to 0: the central difference of −log p has an O(ε²/p³) error.
    softmax_rows = rng.dirichlet(np.full(n_classes, 5.0), size=n_samples)
    labels = rng.integers(0, n_classes, size=n_samples)
    soft_targets = rng.dirichlet(np.ones(n_classes), size=n_samples)
    weights = rng.uniform(0.1, 2.0, size=n_samples)
    huber_pred = regression[1] + rng.choice([-3.0, -0.4, 0.5, 2.5], size=(n_samples, n_out))
    return [
        (cr.MSE(), *regression, None),
        (cr.MSE(reduction="sum"), *regression, weights),
        (cr.MAE(), away_from_kinks(regression[0]) + regression[1], regression[1], weights),
        (cr.Huber(delta=1.0), huber_pred, regression[1], None),
        (cr.Huber(delta=2.0, reduction="sum"), huber_pred, regression[1], weights),
        (cr.BinaryCrossEntropy(), probabilities, binary_targets, None),
        (cr.BinaryCrossEntropy(label_smoothing=0.1), probabilities, binary_targets, weights),
        (cr.BinaryCrossEntropy(from_logits=True), regression[0] * 3, binary_targets, None),
        (cr.BinaryCrossEntropy(from_logits=True, reduction="sum"), regression[0], binary_targets, weights),
        (cr.CrossEntropy(), softmax_rows, labels, None),
        (cr.CrossEntropy(), softmax_rows, soft_targets, weights),
        (cr.CrossEntropy(label_smoothing=0.2), softmax_rows, labels, None),
        (cr.CrossEntropy(from_logits=True), logits, labels, weights),
        (cr.CrossEntropy(from_logits=True), logits, soft_targets, None),
        (cr.CrossEntropy(from_logits=True, label_smoothing=0.1, reduction="sum"), logits, labels, None),
    ]


@pytest.mark.parametrize("n_samples", N_SAMPLES)
@pytest.mark.parametrize("case", range(15))
def test_loss_backward_matches_finite_differences(case, n_samples, rng):
    loss, y_pred, y_true, weights = loss_cases(rng, n_samples)[case]
    report = cr.gradcheck(identity_net(), loss, y_pred, y_true, sample_weight=weights,
                          check_input=True)
    assert report.passed, f"{loss!r}\n{report}"
    assert report["X"].relative_error < 1e-6


def test_every_registered_loss_is_covered(rng):
    covered = {type(case[0]) for case in loss_cases(rng, 2)}
    assert covered == {cr.LOSSES.get(name) for name in cr.LOSSES.names()}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("target", [1.0, 127.0, 1e30])
def test_cross_entropy_slope_at_a_zero_probability_is_finite(dtype, target):
    # −T/P at P = 0: a huge finite slope (no overflow warning) for unnormalised targets too,
    # and the exact −T/P wherever P > 0
    P = np.array([[0.0, 0.25, 0.75]], dtype=dtype)
    T = np.array([[target, target, 0.0]], dtype=dtype)
    loss = cr.CrossEntropy(reduction="sum")
    loss.forward(P, T)
    slope = loss.backward()
    assert np.all(np.isfinite(slope))
    assert slope[0, 0] <= -np.finfo(dtype).max / 4
    np.testing.assert_array_equal(slope[0, 1:], -T[0, 1:] / P[0, 1:])


@pytest.mark.parametrize("y", [[0], [[1.0, 0.0, 0.0]]], ids=["label", "one-hot"])
def test_cross_entropy_of_an_underflowed_probability_is_the_documented_clamp(y):
    # softmax(0, 1000, 0) gives the true class a probability that underflows to 0: log P is
    # clamped at −100, so ℓ = 100 (not 1000), and −T/P has P floored: huge but finite; the
    # chained gradient through the softmax is then 0 where the fused one is −1
    Z = np.array([[0.0, 1000.0, 0.0]])
    softmax_layer = cr.Softmax()
    P = softmax_layer.forward(Z, training=True)
    loss = cr.CrossEntropy()
    assert P[0, 0] == 0.0 and loss.forward(P, y) == 100.0
    slope = loss.backward()
    assert np.isfinite(slope).all() and slope[0, 0] <= -np.finfo(np.float64).max / 4
    assert softmax_layer.backward(slope)[0, 0] == 0.0
    assert cr.CrossEntropy(from_logits=True).forward(Z, y) == pytest.approx(1000.0)
    # ... as the docs say
    for page in ("backprop.md", "conventions.md"):
        text = " ".join((DOCS / page).read_text(encoding="utf-8").split())
        assert "becomes infinite" not in text
    text = " ".join((DOCS / "backprop.md").read_text(encoding="utf-8").split())
    cross_entropy = text[text.index("### Cross-entropy"):text.index("### The fused pairs")]
    assert "log P is clamped at −100" in cross_entropy
    assert "np.finfo(dtype).tiny" in cross_entropy
    conventions = " ".join((DOCS / "conventions.md").read_text(encoding="utf-8").split())
    assert "mean over samples of −Σₖ T log P; logs clamped at −100" in conventions
    assert "Logs are clamped at −100" in " ".join(cr.CrossEntropy.__doc__.split())


# ----------------------------------------------------------------------------- fused pairs

@pytest.mark.parametrize("n_samples", N_SAMPLES)
@pytest.mark.parametrize(
    "output, loss, make_targets",
    [
        ("sigmoid", cr.BinaryCrossEntropy(), lambda rng, n: rng.integers(0, 2, size=(n, 3))),
        ("softmax", cr.CrossEntropy(), lambda rng, n: rng.integers(0, 3, size=n)),
        ("softmax", cr.CrossEntropy(label_smoothing=0.1), lambda rng, n: rng.integers(0, 3, size=n)),
    ],
    ids=["sigmoid+bce", "softmax+ce", "softmax+ce-smoothed"],
)
def test_fused_pairs_match_finite_differences_and_the_chained_path(
    output, loss, make_targets, n_samples, rng
):
    net = cr.mlp([4, 5, 3], activation="tanh", output=output, dtype=np.float64, seed=2)
    X, y = rng.normal(size=(n_samples, 4)), make_targets(rng, n_samples)
    objective = cr.Objective(net, loss)
    assert objective.fused
    report = cr.gradcheck(net, loss, X, y, check_input=True)
    assert report.passed, str(report)

    value, dX = objective.value_and_gradients(X, y, input_grad=True)
    fused = net.gradients.copy()
    chained_value = loss.forward(net.forward(X, training=True), y)
    chained_dX = net.backward(loss.backward())
    assert value == pytest.approx(chained_value, rel=1e-12)
    np.testing.assert_allclose(net.gradients, fused, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(chained_dX, dX, rtol=1e-9, atol=1e-14)


def test_the_objective_repr_is_one_line_naming_the_loss_and_the_network():
    net = cr.mlp([2, 8, 1], activation="tanh", output="sigmoid", seed=0)
    shown = repr(cr.Objective(net, "binary_cross_entropy"))
    assert shown == ("Objective(net=<Sequential 2 → 8 → 1: 4 layers, 33 parameters, float32>, "
                     "loss=BinaryCrossEntropy(from_logits=False, label_smoothing=0.0, "
                     "reduction='mean'), fused=True)")
    big = cr.mlp([30, 64, 10], output="softmax", seed=0)
    big.parameters[...] = 1.0  # no weight reaches the repr
    assert "1." not in repr(cr.Objective(big, "cross_entropy"))
    assert len(repr(cr.Objective(big, "cross_entropy"))) < 200


def test_from_logits_on_a_network_ending_in_the_activation_is_refused():
    net = cr.mlp([2, 3], output="softmax", seed=0)
    with pytest.raises(ValueError, match="applied twice|probabilities"):
        cr.Objective(net, cr.CrossEntropy(from_logits=True))


class _TemperedSoftmax(cr.Softmax):
    """softmax(X / 5): a subclass that computes something other than the softmax."""

    def _apply(self, X, out):
        np.divide(X, 5.0, out=out)
        return softmax(out, out)

    def infer(self, X):
        return self._apply(X, X)

    def backward(self, dY):
        return super().backward(dY) / 5.0


class _SharpSigmoid(cr.Sigmoid):
    """σ(4x)."""

    def _apply(self, X, out):
        np.multiply(X, 4.0, out=out)
        return sigmoid(out, out=out)

    def backward(self, dY):
        return 4.0 * super().backward(dY)


@pytest.mark.parametrize(
    "output, loss, make_targets",
    [
        (_SharpSigmoid, cr.BinaryCrossEntropy(), lambda rng, n: rng.integers(0, 2, size=(n, 3))),
        (_TemperedSoftmax, cr.CrossEntropy(), lambda rng, n: rng.integers(0, 3, size=n)),
    ],
    ids=["sigmoid-subclass", "softmax-subclass"],
)
def test_a_subclass_of_the_fused_activation_is_not_fused(output, loss, make_targets, rng):
    # the pair is fused for the exact class only: a subclass may compute something else, and
    # the loss must then see the network's own output, as without fusion
    net = cr.mlp([4, 5, 3], activation="tanh", output=output(), dtype=np.float64, seed=2)
    X, y = rng.normal(size=(6, 4)), make_targets(rng, 6)
    objective = cr.Objective(net, loss)
    assert not objective.fused and objective.head_loss is objective.loss
    value = objective.value_and_gradients(X, y)
    assert value == pytest.approx(loss.forward(net.forward(X), y), rel=1e-12)
    assert cr.gradcheck(net, loss, X, y).passed


def test_a_subclass_of_the_fused_activation_with_from_logits_is_refused():
    # its outputs are probabilities all the same: a logits loss would apply softmax twice
    net = cr.mlp([2, 3], output=_TemperedSoftmax(), seed=0)
    with pytest.raises(ValueError, match="from_logits=False"):
        cr.Objective(net, cr.CrossEntropy(from_logits=True))


class _PosWeightedBCE(cr.BinaryCrossEntropy):
    """ℓ = −[3 t log p + (1 − t) log(1 − p)] on probabilities p: a loss of one's own."""

    def _values(self, Y, T):
        self._kept = {"Y": Y, "T": T}
        return -(3.0 * T * np.log(Y) + (1 - T) * np.log1p(-Y))

    def _gradient(self):
        Y, T = self._kept["Y"], self._kept["T"]
        return -3.0 * T / Y + (1 - T) / (1 - Y)


def test_a_loss_subclass_that_does_not_declare_the_fused_form_is_not_fused(rng):
    # its _values and _gradient take probabilities: switching it to logits would feed them
    # the logits (NaN here); it fuses only when it sets fused_activation itself
    net = cr.mlp([3, 4, 1], activation="tanh", output="sigmoid", dtype=np.float64, seed=0)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6).astype(float)
    loss = _PosWeightedBCE()
    objective = cr.Objective(net, loss)
    assert not objective.fused and objective.head_loss is loss
    assert objective.value(X, y) == pytest.approx(loss(net.forward(X), y), rel=1e-12)
    assert cr.gradcheck(net, loss, X, y).passed

    class Declared(_PosWeightedBCE):
        fused_activation = cr.Sigmoid  # (its _values would have to handle from_logits=True)

    assert cr.Objective(net, Declared()).fused


def test_gradcheck_catches_a_wrong_backward(rng):
    class WrongTanh(cr.Tanh):
        def backward(self, dY):
            return super().backward(dY) * 1.01

    net = cr.Sequential([cr.Dense(3, 4), WrongTanh(), cr.Dense(4, 2)], dtype=np.float64, seed=0)
    R = rng.normal(size=(5, 2))
    report = cr.gradcheck(net, Projection(R), rng.normal(size=(5, 3)), None)
    assert not report.passed
    assert not report["0.W"].passed and report["2.W"].passed
    assert "FAIL" in str(report)


def test_gradcheck_leaves_the_network_untouched(rng):
    net = cr.mlp([3, 4, 1], output="sigmoid", seed=0)
    before = net.parameters.copy()
    X = rng.normal(size=(4, 3))
    X_before = X.copy()
    cr.gradcheck(net, "bce", X, np.array([0, 1, 1, 0]), check_input=True)
    np.testing.assert_array_equal(net.parameters, before)
    np.testing.assert_array_equal(X, X_before)
    assert net.dtype == np.float32


def test_gradcheck_max_checks_samples_entries(rng):
    net = cr.mlp([6, 10, 2], activation="tanh", dtype=np.float64, seed=0)
    report = cr.gradcheck(net, "mse", rng.normal(size=(3, 6)), rng.normal(size=(3, 2)), max_checks=7)
    assert report["0.W"].n_checked == 7 and report["0.b"].n_checked == 7
    assert report["2.b"].n_checked == 2
    assert report.passed


@pytest.mark.parametrize("n_samples", N_SAMPLES)
def test_rescale_backward_matches_finite_differences(n_samples, rng):
    layer = cr.Rescale(offset=rng.normal(size=4), scale=rng.uniform(0.5, 3.0, size=4))
    net = cr.Sequential([layer, cr.Dense(4, 2)], dtype=np.float64, seed=0)
    check(net, rng.normal(size=(n_samples, 4)), rng)


def test_gradcheck_report_lookup_by_name(rng):
    net = cr.mlp([3, 2], dtype=np.float64, seed=0)
    report = cr.gradcheck(net, "mse", rng.normal(size=(4, 3)), rng.normal(size=(4, 2)))
    assert report["0.b"].name == "0.b"
    with pytest.raises(KeyError, match=re.escape("no gradient named '1.W'; have ['0.W', '0.b']")):
        report["1.W"]


@pytest.mark.filterwarnings("error")
def test_gradcheck_refuses_a_loss_that_overflows_float64():
    net = cr.mlp([2, 1], dtype=np.float64, seed=0)
    net.layers[0].params["W"][:] = 1.0
    X = np.full((2, 2), 1e200)  # finite, but Y ≈ 2e200 and the squared error overflows
    with pytest.raises(ValueError, match=r"^gradcheck needs a finite loss, got inf .*scale X down"):
        cr.gradcheck(net, "mse", X, np.zeros((2, 1)))
