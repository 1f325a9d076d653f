"""The computational graph of a small network: layers as nodes, arrays as labelled edges."""

from __future__ import annotations

from typing import Any

from .._validation import check_bool, format_shape
from ..explain.naming import INPUT, gradient_name, name_layers
from ..explain.rules import loss_rule, mean_divisor
from ..layers.sequential import Sequential
from ._figure import check_optional_path, finish, new_figure, require_matplotlib

#: Vertical distance between consecutive nodes, in data units (one unit is one inch).
_STEP = 1.0

#: Where the parameter boxes and the edge labels sit, left and right of the chain.
_PARAM_X, _LABEL_X = -1.55, 0.2

_NODE_STYLE = {"boxstyle": "round,pad=0.35", "facecolor": "#e8f0fb", "edgecolor": "#3b6ea8"}
_PARAM_STYLE = {"boxstyle": "round,pad=0.3", "facecolor": "#fdf3e1", "edgecolor": "#c08a2d"}
_END_STYLE = {"boxstyle": "round,pad=0.35", "facecolor": "#eeeeee", "edgecolor": "#777777"}


def plot_graph(
    net: Sequential,
    path: Any = None,
    n_samples_label: str = "n",
    *,
    loss: Any = None,
    gradients: bool = True,
    figsize: Any = None,
    dpi: float | None = None,
) -> Any:
    """Draw a network as a computational graph, from the input at the top to the output.

    Every layer is a node (``#2 Dense 4 → 3``); every array is an edge labelled with its name
    in the tutorials' notation (:mod:`chainrule.explain.naming`) and its shape, e.g.
    ``Z2 (n, 3)``; with ``gradients=True`` a second, grey label gives the gradient that flows
    back along the edge, which always has the array's shape (``δ2 = dL/dZ2 (n, 3)``).
    Parameters are boxes beside their layer (``W2 (4, 3)``, ``b2 (3,)``).

    Parameters
    ----------
    net : Sequential
    path : str or os.PathLike, optional
        Save the figure there; the suffix picks the format (``.png``, ``.svg``, ``.pdf``);
        PNG without a suffix.
    n_samples_label : str, default "n"
        How the sample dimension is written in shapes.
    loss : Loss, name or dict, optional
        Add a loss node at the end, fed by the output and the targets ``T``, giving the scalar
        ``L``; it says when the output activation is fused with the loss, and gives the fused
        gradient with the loss's own divisor: ``δ3 = (P − T) / n`` for a mean over samples
        (cross-entropy), ``(P − T) / (n × K)`` for a mean over K outputs (binary
        cross-entropy), ``P − T`` for ``reduction="sum"``.
    gradients : bool, default True
        Label every edge with its gradient as well.
    figsize : (float, float), optional
        Inches; default 6.5 wide and 1 inch per node.
    dpi : float, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from chainrule import mlp
    >>> figure = plot_graph(mlp([2, 4, 3, 1], output="sigmoid", seed=0), loss="bce")
    """
    if not isinstance(net, Sequential):
        raise TypeError(f"net must be a Sequential, got {type(net).__name__}")
    if not isinstance(n_samples_label, str) or not n_samples_label:
        raise TypeError(f"n_samples_label must be a non-empty str, got {n_samples_label!r}")
    gradients = check_bool(gradients, "gradients")
    check_optional_path(path)
    require_matplotlib()
    names = name_layers(net)
    objective = None
    if loss is not None:
        from ..objective import Objective

        objective = Objective(net, loss)
    n_nodes = len(net.layers) + 2  # input, layers, output (or loss)
    figure = new_figure((6.5, _STEP * (n_nodes + 0.2)) if figsize is None else figsize, dpi)
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.set_xlim(-2.6, 2.6)
    ax.set_ylim(-_STEP * (n_nodes - 0.4), _STEP * 0.4)

    def shape(width: int | None) -> str:
        return format_shape((n_samples_label, "?" if width is None else width))

    def node(row: int, text: str, style: dict[str, Any]) -> None:
        ax.text(0, -_STEP * row, text, ha="center", va="center", fontsize=9, bbox=style)

    def edge(row: int, label: str, grad: str) -> None:
        """The arrow from node ``row`` to node ``row + 1``, labelled on its right."""
        top, bottom = -_STEP * row - 0.22, -_STEP * (row + 1) + 0.22
        ax.annotate("", xy=(0, bottom), xytext=(0, top),
                    arrowprops={"arrowstyle": "-|>", "color": "#333333"})
        middle = (top + bottom) / 2
        ax.text(_LABEL_X, middle + (0.09 if gradients else 0), label, fontsize=8.5, va="center")
        if gradients:
            ax.text(_LABEL_X, middle - 0.13, f"↑ {grad}", fontsize=7.5, va="center",
                    color="#777777")

    node(0, f"input X  {shape(net.in_features)}", _END_STYLE)
    edge(0, f"{INPUT} = X  {shape(net.widths[0])}", f"dL/d{INPUT}  {shape(net.widths[0])}")
    for entry, width in zip(names, net.widths[1:]):
        row = entry.index + 1
        node(row, _node_text(entry.layer, entry.index), _NODE_STYLE)
        if entry.params:
            text = "\n".join(
                f"{name}  {format_shape(entry.layer.params[key].shape)}"
                for key, name in entry.params.items()
            )
            ax.annotate(text, xy=(-0.75, -_STEP * row), xytext=(_PARAM_X, -_STEP * row),
                        ha="center", va="center", fontsize=8, bbox=_PARAM_STYLE,
                        arrowprops={"arrowstyle": "-|>", "color": "#c08a2d"})
        out = shape(width)
        edge(row, f"{entry.output}  {out}", f"{gradient_name(entry.output)}  {out}")
    last = len(net.layers) + 1
    if objective is None:
        node(last, f"output  {shape(net.out_features)}", _END_STYLE)
    else:
        text = f"loss: {type(objective.loss).__name__}\nL  ()"
        if objective.fused:
            activation = type(net.layers[-1]).__name__
            delta = _fused_gradient(objective, names[-1].input, n_samples_label)
            text += f"\nfused with {activation}: {delta}"
        node(last, text, _END_STYLE)
        ax.annotate(f"targets T  {shape(net.out_features)}", xy=(0.9, -_STEP * last),
                    xytext=(1.9, -_STEP * (last - 0.55)), fontsize=8, ha="center",
                    arrowprops={"arrowstyle": "-|>", "color": "#333333"})
    return finish(figure, path, dpi)


def _fused_gradient(objective: Any, logits: str, samples: str) -> str:
    """``"δ3 = (P − T) / n"``: the fused gradient with the reduction's divisor as the loss
    counts it (none for a sum, ``n × K`` for a mean over K outputs of BCE), in the graph's
    names; a loss of your own has its ``backward()``, whose reduction is not known here."""
    rule = loss_rule(objective.head_loss)
    if rule.reduced:
        return f"{gradient_name(logits)} = backward()"
    n_outputs = objective.net.out_features  # the output activation keeps the logits' width
    per_sample = 1 if rule.per == "sample" else n_outputs
    divisor = mean_divisor(
        objective.head_loss.reduction, per_sample, n_outputs, samples, str(n_outputs)
    )
    if divisor is None:
        return f"{gradient_name(logits)} = P − T"
    divisor = divisor if divisor == samples else f"({divisor})"
    return f"{gradient_name(logits)} = (P − T) / {divisor}"


def _node_text(layer: Any, index: int) -> str:
    """``"#0 Dense 2 → 4"``, ``"#1 ReLU"``, ``"#4 Dropout p=0.5"``."""
    text = f"#{index} {type(layer).__name__}"
    if hasattr(layer, "in_features") and hasattr(layer, "out_features"):
        text += f"  {layer.in_features} → {layer.out_features}"
    elif hasattr(layer, "p"):
        text += f"  p={layer.p:g}"
    elif hasattr(layer, "alpha"):
        text += f"  α={layer.alpha:g}"
    return text
