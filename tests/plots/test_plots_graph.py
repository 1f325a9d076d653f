"""``plot_graph`` draws a network as a computational graph: PNG and SVG, labelled shapes."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from chainrule.explain import two_circles_example
from chainrule.layers.activations import Softmax, Tanh
from chainrule.layers.dense import Dense
from chainrule.layers.dropout import Dropout
from chainrule.layers.sequential import Sequential
from chainrule.plots.graph import plot_graph


def texts(figure) -> list[str]:
    return [text.get_text() for ax in figure.axes for text in ax.texts]


def test_two_circles_graph_png(tmp_path, png_size):
    path = tmp_path / "graph.png"
    figure = plot_graph(two_circles_example().net, path, loss="binary_cross_entropy", dpi=40)
    # png_size asserts the PNG signature and the IHDR chunk
    assert png_size(path) == (int(figure.get_figwidth() * 40), int(figure.get_figheight() * 40))
    labels = texts(figure)
    for expected in ("input X  (n, 2)", "A0 = X  (n, 2)", "Z1  (n, 4)", "A1  (n, 4)", "Z2  (n, 3)",
                     "Z3  (n, 1)", "A3  (n, 1)", "#0 Dense  2 → 4", "#5 Sigmoid",
                     "W1  (2, 4)\nb1  (4,)", "W3  (3, 1)\nb3  (1,)", "targets T  (n, 1)",
                     "↑ δ3  (n, 1)", "↑ dL/dA2  (n, 3)"):
        assert expected in labels, expected
    loss_node = next(text for text in labels if text.startswith("loss:"))
    assert "BinaryCrossEntropy" in loss_node and "fused with Sigmoid" in loss_node


def test_graph_svg_with_a_custom_sample_label(tmp_path):
    net = Sequential([Dense(3, 5), Tanh(), Dropout(0.2), Dense(5, 2, bias=False), Softmax()])
    path = tmp_path / "graph.svg"
    figure = plot_graph(net, path, n_samples_label="batch", gradients=False)
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    labels = texts(figure)
    assert "A1'  (batch, 5)" in labels and "W2  (5, 2)" in labels
    assert "#2 Dropout  p=0.2" in labels and "output  (batch, 2)" in labels
    assert not any(text.startswith("↑") for text in labels)


def test_graph_bad_input():
    with pytest.raises(TypeError, match="Sequential"):
        plot_graph([Dense(2, 2)])
    with pytest.raises(TypeError, match="n_samples_label"):
        plot_graph(Sequential([Dense(2, 2)]), n_samples_label="")


def test_graph_names_the_slope_of_leaky_relu_and_elu():
    from chainrule.layers.activations import ELU, LeakyReLU

    figure = plot_graph(Sequential([Dense(2, 3), LeakyReLU(0.1), Dense(3, 2), ELU(0.5)]),
                        gradients=False)
    labels = texts(figure)
    assert "#1 LeakyReLU  α=0.1" in labels and "#3 ELU  α=0.5" in labels


@pytest.mark.parametrize(
    ("output", "loss", "label", "expected"),
    [
        # cross-entropy has one value per sample: its mean divides by the samples alone
        ("softmax", "cross_entropy", "n", "δ2 = (P − T) / n"),
        ("softmax", "cross_entropy", "batch", "δ2 = (P − T) / batch"),
        # reduction="sum": no division at all
        ("softmax", {"name": "cross_entropy", "reduction": "sum"}, "n", "δ2 = P − T"),
        # BCE has one value per element: its mean divides by samples × outputs
        ("sigmoid", "bce", "batch", "δ2 = (P − T) / (batch × 3)"),
        ("sigmoid", {"name": "bce", "reduction": "sum"}, "batch", "δ2 = P − T"),
    ],
)
def test_graph_fused_gradient_divides_as_the_loss_does(output, loss, label, expected):
    from chainrule.layers.builders import mlp

    figure = plot_graph(mlp([2, 4, 3], output=output, seed=0), loss=loss, n_samples_label=label)
    (loss_node,) = [text for text in texts(figure) if "fused" in text]
    assert loss_node.endswith(f"fused with {output.capitalize()}: {expected}"), loss_node


def test_graph_fused_bce_with_one_output_divides_by_the_samples():
    from chainrule.layers.builders import mlp

    figure = plot_graph(mlp([2, 4, 1], output="sigmoid", seed=0), loss="bce")
    (loss_node,) = [text for text in texts(figure) if "fused" in text]
    assert loss_node.endswith("fused with Sigmoid: δ2 = (P − T) / n"), loss_node
