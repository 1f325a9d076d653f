"""The tutorials' names for a network's arrays: ``A0 = X``, ``Z1``, ``A1``, ``W1``, ``δ1``...

The derivations the library grew from number the *Dense* layers 1, 2, ..., L and name the
arrays after that number, while a :class:`~chainrule.Sequential` counts every layer (activations
included) from 0 and names parameters ``"0.W"``, ``"2.W"``. This module builds the bridge::

    layer #0 Dense   A0 → Z1      W1 = "0.W", b1 = "0.b"
    layer #1 ReLU    Z1 → A1
    layer #2 Dense   A1 → Z2      W2 = "2.W", b2 = "2.b"
    layer #3 Sigmoid Z2 → A2

Rules: the input is ``A0``. Each layer with parameters starts stage k = 1, 2, ...; its output is
``Zk`` and its parameters ``Wk``, ``bk`` (``<key>k`` for other keys). A layer without
parameters outputs ``Ak`` (k the current stage); when ``Ak`` is already taken (a Dropout after
the activation, an activation before the first Dense) a prime is added: ``A1'``, ``A1''``.
The gradient with respect to ``Zk`` is called ``δk``; any other array N has gradient ``dL/dN``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..layers.base import Layer
from ..layers.sequential import Sequential

#: The name of the network's input.
INPUT = "A0"


@dataclass(frozen=True)
class LayerNames:
    """Names of one layer's arrays in the tutorials' notation.

    Attributes
    ----------
    index : int
        Position in the Sequential (``net.layers[index]``).
    layer : Layer
    stage : int
        k: how many layers with parameters come at or before this one.
    input, output : str
        Names of the layer's input and output arrays (``"A1"``, ``"Z2"``).
    params : dict[str, str]
        Parameter key → tutorial name, e.g. ``{"W": "W2", "b": "b2"}``.
    param_ids : dict[str, str]
        Parameter key → the library's name, e.g. ``{"W": "2.W", "b": "2.b"}``.
    """

    index: int
    layer: Layer
    stage: int
    input: str
    output: str
    params: dict[str, str] = field(default_factory=dict)
    param_ids: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """``'#2 Dense: A1 → Z2 (W2 = "2.W", b2 = "2.b")'``."""
        text = f"#{self.index} {type(self.layer).__name__}: {self.input} → {self.output}"
        if self.params:
            pairs = ", ".join(
                f'{name} = "{self.param_ids[key]}"' for key, name in self.params.items()
            )
            text += f" ({pairs})"
        return text


def gradient_name(array: str) -> str:
    """``"δk"`` for ``"Zk"``, else ``"dL/d<array>"``: the name of ∂L/∂array."""
    if array.startswith("Z") and array[1:].isdigit():
        return f"δ{array[1:]}"
    return f"dL/d{array}"


def name_layers(net: Sequential) -> list[LayerNames]:
    """The tutorial names of every layer's input, output and parameters, in layer order."""
    if not isinstance(net, Sequential):
        raise TypeError(f"net must be a Sequential, got {type(net).__name__}")
    names: list[LayerNames] = []
    used = {INPUT}
    stage, current = 0, INPUT
    for index, layer in enumerate(net.layers):
        keys = [spec.name for spec in layer.parameter_specs()]
        if keys:
            stage += 1
            output = f"Z{stage}"
            params = {key: f"{key}{stage}" for key in keys}
        else:
            output = f"A{stage}"
            while output in used:
                output += "'"
            params = {}
        used.add(output)
        ids = {key: f"{index}.{key}" for key in keys}
        names.append(LayerNames(index, layer, stage, current, output, params, ids))
        current = output
    return names


def mapping(names: list[LayerNames]) -> dict[str, str]:
    """Library parameter name → tutorial name: ``{"0.W": "W1", "0.b": "b1", ...}``."""
    return {
        entry.param_ids[key]: name for entry in names for key, name in entry.params.items()
    }
