"""The network an estimator's parameters describe, and changed parameters on a fitted one.

scikit-learn's MLP reads ``activation`` on every forward pass, so after
``set_params(activation=...)`` the next ``warm_start`` fit (or ``partial_fit``) trains the
network with the new activation from the same weights. A chainrule network holds its
activation layers, so a fit that continues from the fitted weights compares the layers the
parameters describe (:func:`network_layers`) with the fitted network's and, when they differ,
rebuilds the network around the same weights (:func:`rebuilt`). That applies a change of

- ``activation`` (one name or one per hidden layer): new activation layers;
- ``dropout`` (ours): Dropout layers added, removed or given the new probability;
- ``dtype`` (ours), when given: the weights cast to it. ``dtype=None`` keeps the fitted
  network's dtype, as scikit-learn keeps its ``coefs_``' dtype on a warm start.

The weights keep their meaning because a network's flat parameter buffer (every Dense
layer's ``W`` in layer order, then every ``b``; see :class:`~chainrule.layers.Sequential`)
depends only on the Dense layers' shapes, which those parameters do not change.
``hidden_layer_sizes`` does change them, so a changed value is refused
(:func:`check_hidden_sizes`): the fitted weights cannot be kept. (scikit-learn 1.9 keeps the
old weights without a word when the number of hidden layers is unchanged, and fails with an
internal ``AttributeError`` or ``IndexError`` when it differs.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..layers.base import Layer
from ..layers.builders import architecture_layers, mlp_architecture
from ..layers.dense import Dense
from ..layers.sequential import Sequential

#: Dense settings that every fit sets anew (``set_penalties``), so not part of the comparison.
PENALTIES = ("l1", "l2")


def network_layers(
    n_features: int, settings: dict[str, Any], n_outputs: int, output: str
) -> list[Layer]:
    """The layers (parameters not yet allocated) of the network the estimator describes.

    ``settings`` holds the checked hyperparameters (``BaseMLP._settings``): ``hidden``,
    ``activations`` and ``dropout``. Initialisation is scikit-learn's,
    ``U(±sqrt(6 / (fan_in + fan_out)))`` (``"glorot_uniform"``). The layers are those of
    :func:`chainrule.mlp` with the same arguments.
    """
    sizes = [n_features, *settings["hidden"], n_outputs]
    return architecture_layers(mlp_architecture(
        sizes, settings["activations"], output, dropout=settings["dropout"],
        init="glorot_uniform",
    ))


def describe(layers: list[Layer]) -> list[tuple[str, dict[str, Any]]]:
    """Each layer's type and settings, without the penalties: what a network computes."""
    return [
        (type(layer).__name__,
         {key: value for key, value in layer.get_config().items() if key not in PENALTIES})
        for layer in layers
    ]


def hidden_widths(net: Sequential) -> list[int]:
    """The widths of ``net``'s hidden layers (every Dense layer's output but the last)."""
    return [layer.out_features for layer in net.layers if isinstance(layer, Dense)][:-1]


def check_hidden_sizes(net: Sequential, hidden: list[int], hidden_layer_sizes: Any) -> None:
    """A ``ValueError`` naming ``hidden_layer_sizes`` when ``hidden`` (its checked value) is
    not the fitted network's: a fit that continues from the fitted weights cannot keep them."""
    fitted = hidden_widths(net)
    if fitted != list(hidden):
        raise ValueError(
            f"hidden_layer_sizes={hidden_layer_sizes!r} differs from the fitted network's "
            f"hidden layers {tuple(fitted)}: warm_start=True and partial_fit continue from the "
            "fitted weights, whose shapes these sizes would change; fit with "
            "warm_start=False to train a new network of these sizes, or set "
            f"hidden_layer_sizes={tuple(fitted)} again"
        )


def rebuilt(
    net: Sequential, layers: list[Layer], dtype: np.dtype, rng: np.random.Generator
) -> Sequential | None:
    """A network of ``layers`` in ``dtype`` holding ``net``'s weights, or None when it would
    compute what ``net`` computes (same layers, same dtype).

    ``layers`` must have ``net``'s Dense shapes (:func:`check_hidden_sizes`); ``rng`` seeds
    the new Dropout layers' masks (the initial weights it draws are overwritten).
    """
    if np.dtype(dtype) == net.dtype and describe(layers) == describe(net.layers):
        return None
    network = Sequential(layers, dtype=dtype, seed=rng)
    network.parameters[...] = net.parameters  # same layout (module notes); cast to dtype
    return network
