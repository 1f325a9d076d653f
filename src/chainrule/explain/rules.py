"""How each layer type and each loss appears in the chain rule: formulas in matrix form.

One table per kind, keyed by class (the exact class: a subclass may compute something else, so
it gets the generic entry). The formulas are *descriptions*; the values shown beside them are
always the arrays the library computed (see :mod:`chainrule.explain.explainer`). Placeholders:

=========  ====================================================================
``{x}``    the layer's input array (``A1``)
``{y}``    its output array (``Z2``, ``A2``)
``{dy}``   the name of ∂L/∂output (``δ2`` for a ``Z``, ``dL/dA2`` otherwise)
``{W}``    the layer's weight (``W2``), ``{b}`` its bias (``b2``)
``{opts}`` the layer's options, e.g. ``, α = 0.01``
=========  ====================================================================

Derivations of every entry: ``docs/backprop.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..layers.activations import (
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
from ..layers.base import Layer
from ..layers.dense import Dense
from ..layers.dropout import Dropout
from ..layers.rescale import Rescale
from ..losses import MAE, MSE, BinaryCrossEntropy, CrossEntropy, Huber, Loss

#: How a layer's or loss's option is written in formulas: attribute name → symbol. Huber's
#: ``delta`` is κ, not δ: δk already names dL/dZk.
SYMBOLS = {"alpha": "α", "p": "p", "delta": "κ", "label_smoothing": "ε"}


@dataclass(frozen=True)
class LayerRule:
    """The chain-rule description of one layer type.

    Attributes
    ----------
    kind : {"affine", "elementwise", "jacobian", "generic"}
        affine: ``Y = X W + b``, gradients of parameters and input are matrix products;
        elementwise: ``Y = f(X)`` entry by entry, local derivative an array of X's shape;
        jacobian: each row's output depends on the whole row (softmax), local derivative one
        (n_features, n_features) matrix per sample; generic: anything else (user layers).
    forward : str
        The output as a formula of the input.
    local : str
        ∂output/∂input (elementwise and jacobian kinds), in terms of input and output.
    input_grad : str
        ∂L/∂input in terms of ∂L/∂output.
    param_grads : dict[str, str]
        ∂L/∂parameter, by parameter key.
    options : tuple of str
        Attributes shown after the local derivative (``alpha``, ``p``).
    """

    kind: str
    forward: str
    local: str = ""
    input_grad: str = "{dy} ⊙ d{y}/d{x}"
    param_grads: dict[str, str] = field(default_factory=dict)
    options: tuple[str, ...] = ()


def _elementwise(forward: str, local: str, *options: str) -> LayerRule:
    return LayerRule("elementwise", forward, local, options=options)


#: The chain-rule entry of every built-in layer type (Step has none: it cannot be trained by
#: backpropagation, its backward raises).
LAYER_RULES: dict[type[Layer], LayerRule] = {
    Dense: LayerRule(
        "affine",
        forward="{x} {W}{plus_b}",
        input_grad="{dy} {W}ᵀ",
        param_grads={"W": "{x}ᵀ {dy}", "b": "Σ {dy}"},
    ),
    Sigmoid: _elementwise("σ({x})", "σ({x})(1 − σ({x})) = {y} ⊙ (1 − {y})"),
    Tanh: _elementwise("tanh({x})", "1 − tanh²({x}) = 1 − {y}²"),
    ReLU: _elementwise("max({x}, 0)", "[{x} > 0]"),
    LeakyReLU: _elementwise("max({x}, α {x})", "[{x} > 0] + α [{x} ≤ 0]", "alpha"),
    ELU: _elementwise("{x} if {x} > 0 else α(e^{x} − 1)", "[{x} > 0] + ({y} + α) [{x} ≤ 0]", "alpha"),
    GELU: _elementwise("{x} Φ({x})", "Φ({x}) + {x} φ({x})"),
    Softplus: _elementwise("log(1 + e^{x})", "σ({x}) = 1 − e^(−{y})"),
    Identity: _elementwise("{x}", "1"),
    Dropout: _elementwise("{x} ⊙ M", "M = [U ≥ p] / (1 − p)", "p"),
    Rescale: _elementwise("({x} − offset) / scale", "1 / scale"),
    Softmax: LayerRule(
        "jacobian",
        forward="softmax({x}) row by row",
        local="diag({y}ᵢ) − {y}ᵢᵀ {y}ᵢ for each sample i",
        input_grad="{y} ⊙ ({dy} − Σⱼ {dy} ⊙ {y})",
    ),
}

#: The entry of any layer type not in :data:`LAYER_RULES`: its backward is a black box.
GENERIC_RULE = LayerRule(
    "generic",
    forward="{layer}({x})",
    input_grad="backward({dy})",
    param_grads={},
)


def layer_rule(layer: Layer) -> LayerRule:
    """The entry for ``type(layer)``, or :data:`GENERIC_RULE`."""
    return LAYER_RULES.get(type(layer), GENERIC_RULE)


def options_text(owner: Any, options: tuple[str, ...]) -> str:
    """``", α = 0.01"`` for ``options=("alpha",)``; ``""`` when there are none."""
    return "".join(f", {SYMBOLS.get(name, name)} = {getattr(owner, name):g}" for name in options)


@dataclass(frozen=True)
class LossRule:
    """The chain-rule description of one loss.

    Attributes
    ----------
    value : str
        The per-element (or per-sample) value ℓ, of the prediction ``{y}`` and targets ``T``.
    grad : str
        ∂ℓ/∂{y} for one value; the reduction's ``/ n`` (and the sample weights' ``⊙ w``) is
        appended where it applies, so a difference is written in parentheses.
    per : {"element", "sample"}
        What one value is: MSE, MAE, Huber and BCE have one per element of ``{y}``,
        cross-entropy one per sample (row). (The n of the reduction shown in an explanation
        is counted from the values the loss actually returned.)
    options : tuple of str
        Attributes shown after the formulas (Huber's ``delta``, written κ).
    smoothed_targets : str
        For a loss with ``label_smoothing`` ε: T in terms of the targets ``y`` as given,
        shown (in the formulas and the notation) when ε > 0. ``{K}`` is the number of classes.
    general_value, general_grad : str
        The forms of ``value`` and ``grad`` for targets whose rows do not all sum to 1, where
        ``value`` and ``grad`` hold only for rows that do (cross-entropy from logits:
        ``softmax(Z) ⊙ ΣₖT − T`` is ``softmax(Z) − T`` only then); "" when ``value`` and
        ``grad`` hold for any targets.
    reduced : bool
        ``grad`` is already ∂L/∂{y} with the reduction's 1/n and the sample weights in it
        (``backward()`` of a loss of your own), so nothing is appended to it.
    """

    value: str
    grad: str
    per: str = "element"
    options: tuple[str, ...] = ()
    smoothed_targets: str = ""
    general_value: str = ""
    general_grad: str = ""
    reduced: bool = False

    def formulas(self, targets_sum_to_one: bool) -> tuple[str, str]:
        """``(value, grad)`` for targets whose rows all sum to 1 (labels, or soft targets that
        do) or not."""
        if targets_sum_to_one or not self.general_value:
            return self.value, self.grad
        return self.general_value, self.general_grad


_SMOOTHED_BINARY = "(1 − ε) y + ε/2"  # BinaryCrossEntropy: each 0/1 target moves ε/2 inward
_SMOOTHED_CLASSES = "(1 − ε) y + ε/{K}"  # CrossEntropy: ε spread evenly over the K classes

#: Loss rules by (class, takes logits).
LOSS_RULES: dict[tuple[type[Loss], bool], LossRule] = {
    (MSE, False): LossRule("({y} − T)²", "2 ({y} − T)"),
    (MAE, False): LossRule("|{y} − T|", "sign({y} − T)"),
    (Huber, False): LossRule(
        "½ r² if |r| ≤ κ else κ(|r| − ½κ), r = {y} − T", "clip({y} − T, −κ, κ)", options=("delta",)
    ),
    (BinaryCrossEntropy, False): LossRule(
        "−[T log {y} + (1 − T) log(1 − {y})]", "({y} − T) / ({y} ⊙ (1 − {y}))",
        smoothed_targets=_SMOOTHED_BINARY,
    ),
    (BinaryCrossEntropy, True): LossRule(
        "max({y}, 0) − {y} T + log(1 + e^(−|{y}|))", "(σ({y}) − T)",
        smoothed_targets=_SMOOTHED_BINARY,
    ),
    (CrossEntropy, False): LossRule(
        "−Σₖ T log {y}", "−T / {y}", per="sample", smoothed_targets=_SMOOTHED_CLASSES
    ),
    # ∂ℓᵢ/∂Zᵢₖ = Pᵢₖ Σₖ′ Tᵢₖ′ − Tᵢₖ: the familiar P − T only where the row of T sums to 1
    # (labels always do; so do soft targets that are distributions, smoothed or not)
    (CrossEntropy, True): LossRule(
        "logsumexp({y}) − Σₖ T {y}", "(softmax({y}) − T)", per="sample",
        smoothed_targets=_SMOOTHED_CLASSES,
        general_value="(ΣₖT) logsumexp({y}) − Σₖ T {y}",
        general_grad="(softmax({y}) ⊙ ΣₖT − T)",
    ),
}

#: The entry of a loss not in :data:`LOSS_RULES`: its ``backward()`` is shown as it is (it
#: already holds the reduction's 1/n and the sample weights).
GENERIC_LOSS_RULE = LossRule("ℓ({y}, T)", "backward()", reduced=True)


def mean_divisor(
    reduction: str, values_per_sample: int, n_outputs: int, samples: str = "n_samples",
    outputs: str = "n_outputs",
) -> str | None:
    """What a loss's reduction divides the sum of its values by, in named dimensions; None for
    ``reduction="sum"`` (no division).

    A mean divides by the number of values ℓ: ``samples`` when there is one per sample
    (cross-entropy, or a single output), ``samples × outputs`` for one per element (MSE, BCE),
    ``samples × k values per sample`` otherwise. Sample weights replace ``samples`` by Σw.
    """
    if reduction == "sum":
        return None
    if values_per_sample == 1:
        return samples
    if values_per_sample == n_outputs:
        return f"{samples} × {outputs}"
    return f"{samples} × {values_per_sample} values per sample"


def loss_rule(loss: Loss) -> LossRule:
    """The entry for ``type(loss)`` and whether it takes logits, or the generic one."""
    return LOSS_RULES.get((type(loss), loss.from_logits), GENERIC_LOSS_RULE)
