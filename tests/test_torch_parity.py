"""PyTorch as the oracle for the core: layers, networks, losses, fused pairs and penalties.

Every comparison runs in float64 and asks for ``|ours − torch| ≤ 1e-12 + 1e-10 |torch|``
elementwise, on the forward output, the objective J (loss + penalties), dJ/dX and every parameter
gradient by name (torch's ``weight.grad`` transposed, see ``_torch_helpers``). Observed (torch
2.13, 2,800 comparisons): J within 1e-15 relative; array entries at least 1e-3 of their array's
largest within 4.3e-13 relative (deep random networks, where rounding accumulates), nine
comparisons in ten within 1e-14; the entries that are near zero by cancellation (1e-10 out of sums
of O(1) terms) differ by a few 1e-15 absolutely, which the atol covers. A wrong derivative, a
transposed weight or a forgotten factor is off by far more than the tolerance.

Sections:

1. random networks (every activation, Dropout, bias/no bias, n_samples = 1) × every loss head ×
   penalties, through ``Objective`` (the fused pairs run), against several torch formulations;
2. the chained (unfused) path: ``net.backward(loss.backward())`` for Softmax + CrossEntropy and
   Sigmoid + BinaryCrossEntropy;
3. each loss alone: reductions, per-sample weights, label smoothing, logits or probabilities;
4. confidently wrong predictions (logit gaps of 50 and more): the fused path is exact, and the
   chained path breaks exactly where float arithmetic says it must (as torch's does);
5. Dropout with the mask our layer drew.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from _torch_helpers import (
    TorchMirror,
    assert_close,
    assert_matches_torch,
    dropout_masks,
    torch_eval_forward,
    torch_objective,
)
from chainrule.layers.activations import (
    ELU,
    GELU,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from chainrule.layers.builders import mlp
from chainrule.layers.dense import Dense
from chainrule.layers.dropout import Dropout
from chainrule.layers.sequential import Sequential
from chainrule.losses import MAE, MSE, BinaryCrossEntropy, CrossEntropy, Huber
from chainrule.objective import Objective


@pytest.fixture(autouse=True)
def _torch_seed():
    """torch.nn.Linear draws (then discards) initial weights: keep even that reproducible."""
    torch.manual_seed(0)


def tensor(array) -> torch.Tensor:
    return torch.from_numpy(np.array(array, dtype=np.float64))


# --------------------------------------------------------------------------- random networks
ACTIVATIONS = {
    "sigmoid": lambda rng: Sigmoid(),
    "tanh": lambda rng: Tanh(),
    "relu": lambda rng: ReLU(),
    "leaky_relu": lambda rng: LeakyReLU(alpha=float(rng.uniform(0.01, 0.5))),
    "elu": lambda rng: ELU(alpha=float(rng.uniform(0.3, 2.0))),
    "gelu": lambda rng: GELU(),
    "softplus": lambda rng: Softplus(),
    "identity": lambda rng: Identity(),
    "softmax": lambda rng: Softmax(),
}
ACTIVATION_NAMES = tuple(ACTIVATIONS)
HEADS = ("mse", "bce", "bce_smooth", "ce_labels", "ce_onehot", "ce_smooth", "ce_probs")
PENALTIES = ("none", "l2", "l1")
SEEDS = tuple(range(10))


def random_network(seed: int, head: str, penalty: str):
    """A random float64 network ending in the head's output activation, its input, and rng.

    Depth 1–4 Dense layers of widths 1–12 (at least 2 classes for cross-entropy); each hidden
    Dense is followed by an activation drawn from all of them and sometimes by Dropout; 1 in 5
    Dense layers has no bias. n_samples is 1 for every fourth seed. Every parameter, biases
    included, is drawn at random so that no term of the forward pass is hidden by a zero.
    """
    rng = np.random.default_rng([seed, HEADS.index(head), PENALTIES.index(penalty)])
    depth = int(rng.integers(1, 5))
    widths = rng.integers(1, 13, size=depth + 1)
    if head.startswith("ce"):
        widths[-1] = max(widths[-1], 2)
    layers = []
    for k in range(depth):
        l1 = float(rng.uniform(0.01, 0.3)) if penalty == "l1" else 0.0
        l2 = float(rng.uniform(0.01, 0.3)) if penalty == "l2" else 0.0
        bias = bool(rng.random() > 0.2)
        layers.append(Dense(int(widths[k]), int(widths[k + 1]), bias=bias, l1=l1, l2=l2))
        if k < depth - 1:
            layers.append(ACTIVATIONS[rng.choice(ACTIVATION_NAMES)](rng))
            if rng.random() < 0.25:
                layers.append(Dropout(float(rng.uniform(0.1, 0.6))))
    if head == "mse":
        layers.append(ACTIVATIONS[rng.choice(ACTIVATION_NAMES)](rng))
    elif head.startswith("bce"):
        layers.append(Sigmoid())
    else:
        layers.append(Softmax())
    net = Sequential(layers, dtype=np.float64, seed=seed)
    net.parameters[:] = rng.normal(scale=0.8, size=net.n_parameters)
    if penalty == "l1":
        net.parameters[0] = 0.0  # a weight exactly at the kink: sign(0) = 0, as torch's abs
    n_samples = 1 if seed % 4 == 0 else int(rng.integers(2, 10))
    X = rng.standard_normal((n_samples, int(widths[0])))
    return net, X, rng


# torch's probability-space formulations (Sigmoid + BCELoss, Softmax + NLLLoss on log P) lose
# about eps · e^spread of relative precision, spread being |logit| (sigmoid) or a row's logit range
# (softmax): log(1 − p) and P − 1 cancel as p → 1. Below this spread that is < 1e-11, well
# inside the tolerance; above it only the logits formulations (and ours, fused) stay exact.
MODERATE_SPREAD = 10.0


def logit_spread(Z: torch.Tensor, head: str) -> float:
    Z = Z.detach()
    if head.startswith("bce"):
        return float(Z.abs().max())
    return float((Z.max(dim=1).values - Z.min(dim=1).values).max())


def head_problem(head: str, rng: np.random.Generator, n_samples: int, n_outputs: int):
    """Our loss, the targets, and the torch references as ``[(stop, loss_of_output), ...]``.

    ``stop=-1``: torch sees the logits before the output activation; ``stop=None``: it sees the
    network's full output (probabilities for the classification heads), which is only exact for
    moderate logits (see ``MODERATE_SPREAD``).
    """
    shape = (n_samples, n_outputs)
    if head == "mse":
        y = rng.standard_normal(shape)
        return MSE(), y, [(None, lambda out: F.mse_loss(out, tensor(y)))]
    if head.startswith("bce"):
        y = rng.integers(0, 2, shape).astype(float) if n_samples % 2 else rng.random(shape)
        eps = 0.1 if head == "bce_smooth" else 0.0
        t = tensor(y * (1 - eps) + eps / 2)  # torch has no label smoothing for BCE
        return (
            BinaryCrossEntropy(label_smoothing=eps),
            y,
            [
                (None, lambda p: F.binary_cross_entropy(p, t)),
                (-1, lambda z: F.binary_cross_entropy_with_logits(z, t)),
            ],
        )
    labels = rng.integers(0, n_outputs, n_samples)
    if head == "ce_labels":
        t = torch.from_numpy(labels)
        return (
            CrossEntropy(),
            labels,
            [
                (-1, lambda z: F.cross_entropy(z, t)),
                (None, lambda p: F.nll_loss(torch.log(p), t)),
            ],
        )
    if head == "ce_onehot":
        y = np.eye(n_outputs)[labels]
        return CrossEntropy(), y, [(-1, lambda z: F.cross_entropy(z, tensor(y)))]
    if head == "ce_smooth":
        t = torch.from_numpy(labels)
        return (
            CrossEntropy(label_smoothing=0.2),
            labels,
            [(-1, lambda z: F.cross_entropy(z, t, label_smoothing=0.2))],
        )
    y = rng.dirichlet(np.ones(n_outputs), n_samples)  # "ce_probs": soft targets
    return (
        CrossEntropy(label_smoothing=0.1),
        y,
        [(-1, lambda z: F.cross_entropy(z, tensor(y), label_smoothing=0.1))],
    )


@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("seed", SEEDS)
def test_random_network_matches_torch(seed, head, penalty):
    net, X, rng = random_network(seed, head, penalty)
    loss, y, references = head_problem(head, rng, X.shape[0], net.out_features)

    assert_close(net.forward(X), torch_eval_forward(net, X), "forward output")

    objective = Objective(net, loss)
    assert objective.fused == (head != "mse")
    value, dX = objective.value_and_gradients(X, y, input_grad=True)
    masks = dropout_masks(net)  # the masks this training pass drew
    for stop, loss_of_output in references:
        if stop is None and head != "mse":
            logits = TorchMirror(net).forward(torch.from_numpy(X), -1, masks)
            if logit_spread(logits, head) > MODERATE_SPREAD:
                continue  # torch's probability-space form is itself inexact here
        reference = torch_objective(net, X, loss_of_output, stop=stop, masks=masks)
        assert_matches_torch(net, value, dX, reference)


def test_random_networks_cover_every_case():
    """The parametrized networks above really mix every activation (Softmax in a hidden
    position with at least two units included), Dropout, bias-free layers and n_samples = 1."""
    hidden, outputs, seen = set(), set(), set()
    for seed in SEEDS:
        for head in HEADS:
            for penalty in PENALTIES:
                net, X, _ = random_network(seed, head, penalty)
                for index, layer in enumerate(net.layers[:-1]):
                    name = type(layer).__name__
                    hidden.add(name)
                    if name == "Softmax" and net.widths[index + 1] >= 2:
                        seen.add("wide hidden softmax")
                    if isinstance(layer, Dense) and not layer.bias:
                        seen.add("no bias")
                outputs.add(type(net.layers[-1]).__name__)
                seen.add(f"n_samples={1 if X.shape[0] == 1 else 'many'}")
                seen.add(f"depth={sum(isinstance(layer, Dense) for layer in net.layers)}")
    every = {type(make(np.random.default_rng(0))).__name__ for make in ACTIVATIONS.values()}
    assert every <= hidden and every <= outputs
    assert "Dropout" in hidden
    assert {"wide hidden softmax", "no bias", "n_samples=1", "n_samples=many"} <= seen
    assert {f"depth={d}" for d in range(1, 5)} <= seen


def test_builders_match_torch(rng):
    """``mlp`` and ``Sequential.from_architecture`` build the networks torch agrees with."""
    built = [
        mlp(
            [5, 7, 6, 3],
            activation=["gelu", "elu"],
            output="softmax",
            l2=0.05,
            dtype=np.float64,
            seed=1,
        ),
        Sequential.from_architecture(
            [
                {
                    "input_dim": 5,
                    "output_dim": 4,
                    "activation": {"name": "leaky_relu", "alpha": 0.2},
                },
                {
                    "input_dim": 4,
                    "output_dim": 4,
                    "activation": "softplus",
                    "l1": 0.1,
                    "bias": False,
                },
                {"input_dim": 4, "output_dim": 3, "activation": "softmax", "l2": 0.2},
            ],
            dtype=np.float64,
            seed=2,
        ),
    ]
    X = rng.standard_normal((6, 5))
    labels = rng.integers(0, 3, 6)
    for net in built:
        net.parameters[:] = rng.normal(scale=0.8, size=net.n_parameters)
        assert_close(net.forward(X), torch_eval_forward(net, X), "forward output")
        value, dX = Objective(net, "cross_entropy").value_and_gradients(X, labels, input_grad=True)
        reference = torch_objective(
            net, X, lambda z: F.cross_entropy(z, torch.from_numpy(labels)), stop=-1
        )
        assert_matches_torch(net, value, dX, reference)


# --------------------------------------------------------------------------- chained path
def tame_logits(net: Sequential, X: np.ndarray, head: str, limit: float) -> None:
    """Freeze the dropout masks (drawn now) and scale the last Dense layer so that the logits'
    spread (see :func:`logit_spread`) on ``X`` is at most ``limit``."""
    for layer in net.layers:
        if isinstance(layer, Dropout):
            layer.freeze_mask = True
    net.forward(X, training=True)  # draws the masks, reused from now on
    logits = TorchMirror(net).forward(torch.from_numpy(X), -1, dropout_masks(net))
    spread = logit_spread(logits, head)
    if spread > limit:
        for value in net.layers[-2].params.values():  # the Dense before the output activation
            value *= limit / spread


@pytest.mark.parametrize("head", ["ce_labels", "ce_onehot", "bce"])
@pytest.mark.parametrize("seed", range(1, 6))
def test_chained_path_matches_torch(seed, head):
    """Softmax/Sigmoid backward fed by the loss's gradient with respect to probabilities.

    Exact in exact arithmetic; numerically meaningful while no probability is near 0 or 1, so
    the logits are scaled to a spread of at most 6 (rounding ≈ eps · e^6 ≈ 1e-13), and the same
    tolerance holds as for the fused path.
    """
    net, X, rng = random_network(seed, head, "none")
    tame_logits(net, X, head, limit=6.0)
    loss, y, references = head_problem(head, rng, X.shape[0], net.out_features)
    P = net.forward(X, training=True)
    value = loss.forward(P, y)
    dX = net.backward(loss.backward())
    masks = dropout_masks(net)
    for stop, loss_of_output in references:  # torch's probability-space and logits forms
        reference = torch_objective(net, X, loss_of_output, stop=stop, masks=masks)
        assert_matches_torch(net, value, dX, reference)
    # and it agrees with our own fused path (same frozen masks)
    chained = {name: grad.copy() for name, _, grad in net.named_parameters()}
    fused_value, fused_dX = Objective(net, loss).value_and_gradients(X, y, input_grad=True)
    assert_close(fused_value, value, "fused J")
    assert_close(fused_dX, dX, "fused dJ/dX")
    for name, _, grad in net.named_parameters():
        assert_close(grad, chained[name], f"fused gradient {name}")


# --------------------------------------------------------------------------- losses alone
def weighted_reduction(elementwise: torch.Tensor, w, reduction: str) -> torch.Tensor:
    """Σ_i w_i Σ_j ℓ_ij, divided by Σ_i w_i · n_values_per_sample for the mean."""
    per_sample = elementwise.reshape(elementwise.shape[0], -1)
    if w is None:
        return per_sample.mean() if reduction == "mean" else per_sample.sum()
    total = (tensor(w)[:, None] * per_sample).sum()
    return total / (w.sum() * per_sample.shape[1]) if reduction == "mean" else total


def check_loss(loss, y_pred, y_true, torch_elementwise, w, reduction, torch_reduced=None):
    """Our loss value and gradient against a torch expression (and torch's own reduction)."""
    value = loss.forward(y_pred, y_true, sample_weight=w)
    grad = loss.backward()
    Yt = tensor(y_pred).requires_grad_(True)
    expected = weighted_reduction(torch_elementwise(Yt), w, reduction)
    expected.backward()
    assert_close(value, float(expected.detach()), "loss value")
    assert_close(grad, Yt.grad.numpy(), "loss gradient")
    if torch_reduced is not None and w is None:  # torch's built-in reduction, where it has one
        assert_close(value, float(torch_reduced(tensor(y_pred), reduction)), "torch reduction")


def regression_data(rng, shape):
    """Predictions and targets with exact ties (r = 0) and residuals exactly at ±0.5."""
    y_true = rng.standard_normal(shape)
    y_pred = y_true + rng.standard_normal(shape)
    y_pred.reshape(-1)[:3] = [1.5, 0.5, 2.0]
    y_true.reshape(-1)[:3] = [1.0, 1.0, 2.0]
    return y_pred, y_true


REGRESSION = {
    "mse": (MSE, {}, lambda Y, T, r: F.mse_loss(Y, T, reduction=r)),
    "mae": (MAE, {}, lambda Y, T, r: F.l1_loss(Y, T, reduction=r)),
    "huber": (Huber, {"delta": 0.5}, lambda Y, T, r: F.huber_loss(Y, T, reduction=r, delta=0.5)),
    "huber_wide": (
        Huber,
        {"delta": 1.7},
        lambda Y, T, r: F.huber_loss(Y, T, reduction=r, delta=1.7),
    ),
}


@pytest.mark.parametrize("shape", [(7, 3), (1, 3), (9,)], ids=["2d", "1sample", "1d"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("name", list(REGRESSION))
def test_regression_loss_matches_torch(rng, name, reduction, weighted, shape):
    cls, kwargs, torch_loss = REGRESSION[name]
    y_pred, y_true = regression_data(rng, shape)
    w = rng.uniform(0.1, 2.0, shape[0]) if weighted else None
    T = tensor(y_true)
    check_loss(
        cls(**kwargs, reduction=reduction),
        y_pred,
        y_true,
        lambda Y: torch_loss(Y, T, "none"),
        w,
        reduction,
        lambda Y, r: torch_loss(Y, T, r),
    )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("from_logits", [False, True], ids=["probabilities", "logits"])
@pytest.mark.parametrize("hard", [True, False], ids=["hard", "soft"])
def test_binary_cross_entropy_matches_torch(rng, hard, from_logits, smoothing, reduction, weighted):
    shape = (8, 3)
    y_true = rng.integers(0, 2, shape).astype(float) if hard else rng.random(shape)
    y_pred = 3 * rng.standard_normal(shape) if from_logits else rng.uniform(0.02, 0.98, shape)
    w = rng.uniform(0.1, 2.0, shape[0]) if weighted else None
    T = tensor(y_true * (1 - smoothing) + smoothing / 2)
    torch_loss = F.binary_cross_entropy_with_logits if from_logits else F.binary_cross_entropy
    loss = BinaryCrossEntropy(
        from_logits=from_logits, label_smoothing=smoothing, reduction=reduction
    )
    check_loss(
        loss,
        y_pred,
        y_true,
        lambda Y: torch_loss(Y, T, reduction="none"),
        w,
        reduction,
        lambda Y, r: torch_loss(Y, T, reduction=r),
    )


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("from_logits", [False, True], ids=["probabilities", "logits"])
@pytest.mark.parametrize("target", ["labels", "onehot", "probs", "unnormalised"])
def test_cross_entropy_matches_torch(rng, target, from_logits, smoothing, reduction, weighted):
    n_samples, n_classes = 7, 4
    Z = 2 * rng.standard_normal((n_samples, n_classes))
    labels = rng.integers(0, n_classes, n_samples)
    y_true = {
        "labels": labels,
        "onehot": np.eye(n_classes)[labels],
        "probs": rng.dirichlet(np.ones(n_classes), n_samples),
        "unnormalised": 2 * rng.random((n_samples, n_classes)),  # rows need not sum to one
    }[target]
    w = rng.uniform(0.1, 2.0, n_samples) if weighted else None
    y_pred = Z if from_logits else np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    if target == "labels":
        T = torch.from_numpy(labels)
        T_dense = tensor(np.eye(n_classes)[labels])
    else:
        T = T_dense = tensor(y_true)
    T_smooth = T_dense * (1 - smoothing) + smoothing / n_classes
    if from_logits:

        def torch_loss(Y, r):
            return F.cross_entropy(Y, T, reduction=r, label_smoothing=smoothing)

        elementwise = lambda Y: torch_loss(Y, "none")
    else:  # ℓ_i = −Σ_k T_ik log P_ik on the probabilities themselves
        torch_loss = None
        elementwise = lambda P: -(T_smooth * torch.log(P)).sum(dim=1)
        if target == "labels" and not smoothing:
            torch_loss = lambda P, r: F.nll_loss(torch.log(P), T, reduction=r)
    loss = CrossEntropy(from_logits=from_logits, label_smoothing=smoothing, reduction=reduction)
    check_loss(loss, y_pred, y_true, elementwise, w, reduction, torch_loss)


# --------------------------------------------------------------------------- extreme logits
DTYPES = {"float64": (np.float64, torch.float64), "float32": (np.float32, torch.float32)}


def identity_head(n: int, output, dtype):
    """Dense(n, n) with W = I, b = 0 (exact: dX is the gradient with respect to the logits)."""
    net = Sequential([Dense(n, n), output], dtype=dtype)
    net.parameters[:] = 0.0
    net.layers[0].params["W"][...] = np.eye(n)
    return net


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize("gap", [50.0, 100.0, 1000.0])
def test_fused_cross_entropy_is_exact_for_large_gaps(gap, dtype):
    """Logits [[gap, 0]], true class 1: J = gap + log1p(e^(−gap)), dZ = P − onehot = [s, −s]
    with s = σ(gap), to full relative precision in the network's dtype."""
    np_dtype, torch_dtype = DTYPES[dtype]
    eps = float(np.finfo(np_dtype).eps)
    Z = np.array([[gap, 0.0]], np_dtype)
    y = np.array([1])
    net = identity_head(2, Softmax(), np_dtype)
    objective = Objective(net, CrossEntropy())
    assert objective.fused
    value, dZ = objective.value_and_gradients(Z, y, input_grad=True)
    assert dZ.dtype == np_dtype

    s = 1.0 / (1.0 + math.exp(-gap))
    assert value == pytest.approx(gap + math.log1p(math.exp(-gap)), rel=eps)
    np.testing.assert_allclose(dZ, [[s, -s]], rtol=eps, atol=0)

    Zt = torch.tensor(Z, dtype=torch_dtype, requires_grad=True)
    expected = F.cross_entropy(Zt, torch.from_numpy(y))
    expected.backward()
    assert value == pytest.approx(float(expected.detach()), rel=eps)
    np.testing.assert_allclose(dZ, Zt.grad.numpy(), rtol=eps, atol=0)


# Where the chained Softmax → CrossEntropy path stands, per (gap, dtype): P[true class] is
# e^(−gap) / (1 + e^(−gap)). float64 represents e^(−50) and e^(−100) to full precision, and
# float32 e^(−50), so the chained path is still right there; e^(−100) ≈ 3.7e-44 is subnormal in
# float32 (below the smallest normal 1.2e-38, with only a few bits left); e^(−1000) underflows to
# 0 in both dtypes.
CHAINED_CE = {
    (50.0, "float64"): "exact",
    (100.0, "float64"): "exact",
    (1000.0, "float64"): "underflow",
    (50.0, "float32"): "exact",
    (100.0, "float32"): "subnormal",
    (1000.0, "float32"): "underflow",
}


@pytest.mark.parametrize(("gap", "dtype"), list(CHAINED_CE), ids=lambda v: str(v))
def test_chained_cross_entropy_breaks_where_probabilities_underflow(gap, dtype):
    np_dtype, torch_dtype = DTYPES[dtype]
    eps = float(np.finfo(np_dtype).eps)
    Z = np.array([[gap, 0.0]], np_dtype)
    y = np.array([1])
    net = identity_head(2, Softmax(), np_dtype)
    loss = CrossEntropy()
    P = net.forward(Z, training=True)
    value = loss.forward(P, y)
    dZ = net.backward(loss.backward())

    # torch's own chained computation (softmax, then −log P) breaks the same way
    Zt = torch.tensor(Z, dtype=torch_dtype, requires_grad=True)
    torch_P = torch.softmax(Zt, dim=1)
    torch_value = -torch.log(torch_P[0, 1])
    torch_value.backward()

    s = 1.0 / (1.0 + math.exp(-gap))
    outcome = CHAINED_CE[gap, dtype]
    if outcome == "exact":
        assert value == pytest.approx(gap, rel=4 * eps)
        np.testing.assert_allclose(dZ, [[s, -s]], rtol=4 * eps)
    elif outcome == "subnormal":
        # P = e^(−100) ≈ 3.7e-44 is a float32 denormal (3.8e-44: two significant bits), so
        # −log P = 99.983 is off in the 4th digit, like torch's; and ∂ℓ/∂P = −1/max(P, tiny)
        # is clamped at the smallest normal number, so the gradient collapses to P/tiny ≈ 3e-6
        # instead of 1 (torch's unclamped 1/P overflows to inf, giving inf and nan).
        tiny = float(np.finfo(np.float32).tiny)
        assert 0 < P[0, 1] < tiny
        assert 1e-5 < abs(value - gap) / gap < 1e-3
        assert float(torch_value.detach()) == pytest.approx(value, rel=4 * eps)
        collapsed = float(P[0, 1]) / tiny
        assert collapsed < 1e-5
        np.testing.assert_allclose(dZ, [[collapsed, -collapsed]], rtol=1e-6)
        assert not np.isfinite(Zt.grad.numpy()).any()
    else:  # "underflow": P = 0, log P is clamped at −100, and the gradient vanishes
        assert P[0, 1] == 0.0
        assert value == 100.0  # not the true loss `gap`
        np.testing.assert_array_equal(dZ, [[0.0, 0.0]])  # not [[1, −1]]
        assert float(torch_value.detach()) == math.inf  # torch's unclamped log gives inf instead
        assert np.isnan(Zt.grad.numpy()).all()  # and its gradient is 0 · inf = nan


@pytest.mark.parametrize("dtype", list(DTYPES))
@pytest.mark.parametrize(("logit", "target"), [(50.0, 0.0), (-50.0, 1.0)])
def test_sigmoid_bce_fused_exact_chained_broken(logit, target, dtype):
    """A confidently wrong logit of ±50: the true loss is 50 and the true gradient σ(z) − t = ±1.

    Fused (``Objective``): exact, as torch's BCEWithLogitsLoss. Chained (Sigmoid, then
    BCE on the probability), as torch's Sigmoid + BCELoss:

    - z = +50, t = 0: σ(50) = 1 − 2e-22 rounds to 1, so log(1 − p) = −inf is clamped to −100
      (J = 100) and σ'(z) = p(1 − p) = 0 makes the gradient 0;
    - z = −50, t = 1: p = σ(−50) ≈ 1.9e-22 is representable, so J = −log p = 50 is right, but
      ∂ℓ/∂p = (p − t)/max(p(1 − p), 1e-12) is clamped, and the gradient is p(1−p)·(−1e12) ≈
      −1.9e-10 instead of −1.
    """
    np_dtype, torch_dtype = DTYPES[dtype]
    eps = float(np.finfo(np_dtype).eps)
    Z = np.array([[logit]], np_dtype)
    y = np.array([[target]], np_dtype)
    true_grad = 1.0 / (1.0 + math.exp(-logit)) - target  # ±1 to within 2e-22

    fused_net = identity_head(1, Sigmoid(), np_dtype)
    value, dZ = Objective(fused_net, BinaryCrossEntropy()).value_and_gradients(
        Z, y, input_grad=True
    )
    assert value == pytest.approx(50.0 + math.log1p(math.exp(-50.0)), rel=eps)
    np.testing.assert_allclose(dZ, [[true_grad]], rtol=eps, atol=0)
    Zt = torch.tensor(Z, dtype=torch_dtype, requires_grad=True)
    F.binary_cross_entropy_with_logits(Zt, torch.tensor(y)).backward()
    np.testing.assert_allclose(dZ, Zt.grad.numpy(), rtol=eps, atol=0)

    chained_net = identity_head(1, Sigmoid(), np_dtype)
    loss = BinaryCrossEntropy()
    P = chained_net.forward(Z, training=True)
    chained_value = loss.forward(P, y)
    chained_dZ = chained_net.backward(loss.backward())
    Zt = torch.tensor(Z, dtype=torch_dtype, requires_grad=True)
    torch_value = F.binary_cross_entropy(torch.sigmoid(Zt), torch.tensor(y))
    torch_value.backward()
    assert chained_value == pytest.approx(float(torch_value.detach()), rel=4 * eps)
    np.testing.assert_allclose(chained_dZ, Zt.grad.numpy(), rtol=1e-5)  # same breakage
    if logit > 0:
        assert P[0, 0] == 1.0
        assert chained_value == 100.0
        assert chained_dZ[0, 0] == 0.0
    else:
        p = 1.0 / (1.0 + math.exp(50.0))
        assert chained_value == pytest.approx(50.0, rel=4 * eps)
        assert chained_dZ[0, 0] == pytest.approx(-p * 1e12, rel=1e-5)  # ≈ −1.9e-10, not −1


# --------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_matches_masked_torch(rng, p):
    """Training forward and backward equal torch's X ⊙ M and dY ⊙ M with our mask M."""
    layer = Dropout(p, seed=int(rng.integers(2**31)))
    X = rng.standard_normal((40, 25))
    dY = rng.standard_normal(X.shape)
    Y = layer.forward(X, training=True)
    mask = layer.cache["mask"]
    scale = 1.0 / (1.0 - p)
    assert set(np.unique(mask)) == {0.0, scale}  # inverted dropout: kept units scaled 1/(1−p)
    assert abs((mask == 0).mean() - p) < 0.1  # 1000 draws: the drop rate is about p
    dX = layer.backward(dY)

    Xt = tensor(X).requires_grad_(True)
    Yt = Xt * tensor(mask)
    Yt.backward(tensor(dY))
    assert_close(Y, Yt.detach().numpy(), "dropout forward")
    assert_close(dX, Xt.grad.numpy(), "dropout backward")
    # torch's dropout is the same function: zeroed where we zeroed, scaled by 1/(1−p) elsewhere
    kept = mask != 0
    assert_close(Y[kept], X[kept] * scale, "kept units")
    assert (Y[~kept] == 0).all()
    # evaluation: the identity, as torch's dropout in eval mode
    np.testing.assert_array_equal(layer.forward(X, training=False), F.dropout(tensor(X), p, False))


def test_dropout_inside_a_network_matches_torch(rng):
    net = Sequential(
        [Dense(6, 10), ReLU(), Dropout(0.4), Dense(10, 8), Tanh(), Dropout(0.2), Dense(8, 3)],
        dtype=np.float64,
        seed=3,
    )
    net.parameters[:] = rng.normal(scale=0.8, size=net.n_parameters)
    X = rng.standard_normal((12, 6))
    y = rng.standard_normal((12, 3))
    value, dX = Objective(net, MSE()).value_and_gradients(X, y, input_grad=True)
    masks = dropout_masks(net)
    assert sorted(masks) == [2, 5] and all((m == 0).any() for m in masks.values())
    reference = torch_objective(net, X, lambda out: F.mse_loss(out, tensor(y)), masks=masks)
    assert_matches_torch(net, value, dX, reference)
    # without the masks torch computes a different function: the masks really mattered
    unmasked = torch_objective(net, X, lambda out: F.mse_loss(out, tensor(y)))
    assert abs(unmasked[0] - value) > 1e-6
