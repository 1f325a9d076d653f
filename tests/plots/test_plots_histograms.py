"""plot_weight_histograms: one row per layer with parameters, weights and gradients."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.layers.activations import ReLU
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential
from chainrule.plots.histograms import plot_weight_histograms

pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def network() -> Sequential:
    return Sequential([Dense(2, 6), ReLU(), Dense(6, 1)], dtype=np.float64, seed=0)


def titles(figure) -> list[str]:
    return [ax.get_title() for ax in figure.axes]


def legend_texts(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_one_row_per_layer_with_parameters_and_a_gradient_column():
    figure = plot_weight_histograms(network())
    assert titles(figure) == [
        "Dense #0: parameters", "Dense #0: gradients",
        "Dense #2: parameters", "Dense #2: gradients",
    ]
    assert [ax.get_subplotspec().rowspan.start for ax in figure.axes] == [0, 0, 1, 1]
    assert [ax.get_xlabel() for ax in figure.axes] == ["", "", "value", "value"]


def test_without_gradients_there_is_one_column():
    figure = plot_weight_histograms(network(), gradients=False)
    assert titles(figure) == ["Dense #0: parameters", "Dense #2: parameters"]


def test_legends_give_each_parameters_shape_and_spread():
    net = network()
    figure = plot_weight_histograms(net)
    W, b = net.layers[0].params["W"], net.layers[0].params["b"]
    assert legend_texts(figure.axes[0]) == [
        f"W (2×6), σ={W.std():.3g}", f"b (6), σ={b.std():.3g}",
    ]


def test_the_parameters_of_a_layer_share_bins_and_every_value_is_counted():
    net = network()
    figure = plot_weight_histograms(net, bins=7, gradients=False)
    W, b = net.layers[0].params["W"], net.layers[0].params["b"]
    edges = np.histogram_bin_edges(np.concatenate([W.ravel(), b]), bins=7)
    for patch, values in zip(figure.axes[0].patches, (W, b)):
        outline = patch.get_xy()  # the histogram's outline: x at the bin edges, y the counts
        np.testing.assert_allclose([outline[:, 0].min(), outline[:, 0].max()],
                                   [edges[0], edges[-1]])
        assert outline[:, 1].max() == np.histogram(values, bins=edges)[0].max()


def test_gradients_before_and_after_a_backward_pass(rng):
    net = network()
    note = "all zero: no backward pass yet?"
    before = plot_weight_histograms(net)
    assert [t.get_text() for t in before.axes[1].texts] == [note]
    net.forward(rng.normal(size=(8, 2)), training=True)
    net.backward(rng.normal(size=(8, 1)))
    after = plot_weight_histograms(net)
    assert len(after.axes[1].texts) == 0
    dW = net.layers[0].grads["W"]
    assert legend_texts(after.axes[1])[0] == f"W (2×6), σ={dW.std():.3g}"


def test_a_trainer_is_plotted_through_its_network(binary_trainer, tmp_path, png_size):
    trainer, _, _ = binary_trainer
    path = tmp_path / "weights.png"
    figure = plot_weight_histograms(trainer, path=path, figsize=(4, 3), dpi=25)
    assert png_size(path) == (100, 75)
    assert titles(figure)[0] == "Dense #0: parameters"
    assert len(figure.axes[1].texts) == 0  # training left gradients behind


def test_non_finite_values_are_left_out_and_counted():
    net = network()
    net.layers[2].params["W"][0, 0] = np.nan
    net.layers[2].params["W"][1, 0] = np.inf
    figure = plot_weight_histograms(net, gradients=False)
    assert legend_texts(figure.axes[1])[0].endswith(", 2 non-finite")


def test_a_constant_parameter_still_gets_a_histogram():
    net = network()
    for _, param, _ in net.named_parameters():
        param[...] = 0.25
    figure = plot_weight_histograms(net, gradients=False)
    assert legend_texts(figure.axes[0]) == ["W (2×6), σ=0", "b (6), σ=0"]


@pytest.mark.parametrize(
    ("net", "kwargs", "error", "message"),
    [
        ("net", {}, TypeError, "net must be a Sequential network or a Trainer, got str"),
        (Sequential([ReLU()]), {}, ValueError, "net has no parameters to plot"),
        (None, {"bins": 0}, ValueError, r"bins must be in \[1, 100000\], got 0"),
        # far more bins than pixels: refused before NumPy overflows or allocates them
        (None, {"bins": 100_001}, ValueError, r"^bins must be in \[1, 100000\], got 100001$"),
        (None, {"bins": 2**63}, ValueError, r"^bins must be in \[1, 100000\], got 9223372036854775808$"),
    ],
)
def test_bad_input_is_refused(net, kwargs, error, message):
    with pytest.raises(error, match=message):
        plot_weight_histograms(network() if net is None else net, **kwargs)


@pytest.mark.parametrize("size", [1e300, 1e308, 1.7e308])
def test_diverged_weights_get_a_finite_spread_and_a_drawable_axis(size):
    """Weights near the float64 limit (training diverged) are plotted: σ is computed without
    squaring them, and the axis (whose range would overflow) shows them divided by a power of
    two, which its label gives."""
    import warnings

    net = network()
    W = net.layers[0].params["W"]
    W[...] = size * np.linspace(-1.0, 1.0, W.size).reshape(W.shape)
    net.layers[2].params["W"][...] = size  # a constant layer: one bin around the value
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        figure = plot_weight_histograms(net, gradients=False, bins=5)
        figure.canvas.draw()
    expected = size * np.linspace(-1.0, 1.0, W.size).std()
    assert legend_texts(figure.axes[0])[0] == f"W (2×6), σ={expected:.3g}"
    constant = legend_texts(figure.axes[1])[0]  # σ = 0 up to the mean's rounding
    assert constant.startswith("W (6×1), σ=") and float(constant.split("=")[1]) <= 1e-15 * size
    scale = 2.0 ** min(np.frexp(size)[1], 1023)  # the power of two just above, at most 2^1023
    assert [ax.get_xlabel() for ax in figure.axes] == [f"value (× {scale:.6g})"] * 2
    for ax in figure.axes:
        assert np.all(np.isfinite(ax.patches[0].get_xy())) and np.all(np.isfinite(ax.get_xlim()))
    outline = figure.axes[0].patches[0].get_xy()  # every weight counted, in 5 bins
    np.testing.assert_allclose([outline[:, 0].min(), outline[:, 0].max()],
                               [W.min() / scale, W.max() / scale])
    assert outline[:, 1].max() == np.histogram(W / scale, bins=5)[0].max()
