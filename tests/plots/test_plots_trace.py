"""``plot_trace`` draws a monitor's records into a valid PNG (Agg, no pyplot)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("matplotlib")

from chainrule.datasets import make_circles
from chainrule.layers.builders import mlp
from chainrule.plots.trace import plot_trace
from chainrule.training.monitor import GradientMonitor
from chainrule.training.trainer import Trainer


@pytest.fixture(scope="module")
def monitor():
    X, y = make_circles(64, noise=0.1, seed=0)
    monitor = GradientMonitor(warn=False)
    net = mlp([2, 6, 4, 1], activation=["relu", "tanh"], output="sigmoid", seed=0)
    Trainer(net, "binary_cross_entropy", batch_size=16, seed=0, verbose=0,
            callbacks=[monitor]).fit(X, y, epochs=3)
    return monitor


def test_trace_png(monitor, tmp_path, png_size):
    path = tmp_path / "trace.png"
    figure = plot_trace(monitor, path, dpi=50)
    assert png_size(path) == (int(figure.get_figwidth() * 50), int(figure.get_figheight() * 50))
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[:3] == ["gradient norm ‖∂J/∂W‖", "update / weight ‖ΔW‖ / ‖W‖",
                          "activation RMS norm"]
    assert "dead ReLU units (fraction)" in titles
    assert "saturated sigmoid/tanh outputs (fraction)" in titles
    gradient_panel = figure.axes[0]
    assert [line.get_label() for line in gradient_panel.get_lines()] == [
        "Dense #0", "Dense #2", "Dense #4"]
    assert gradient_panel.get_yscale() == "log"


def test_trace_from_plain_records_and_json(monitor):
    figure = plot_trace(monitor.records)
    assert len(figure.axes) == 5
    data = json.loads(json.dumps({"records": monitor.records,
                                  "alerts": [{"kind": "exploding", "epoch": 2}]}))
    figure = plot_trace(data)
    assert any(text.get_text() == "exploding" for text in figure.axes[0].texts)


def test_trace_without_relu_or_sigmoid_has_no_fraction_panels():
    X, _ = make_circles(32, noise=0.1, seed=0)
    monitor = GradientMonitor(warn=False)
    Trainer(mlp([2, 4, 2], activation="elu", output="identity", seed=0), "mse", verbose=0,
            seed=0, callbacks=[monitor]).fit(X, X, epochs=2)
    assert len(plot_trace(monitor).axes) == 3


def test_trace_bad_input():
    with pytest.raises(ValueError, match="no epoch"):
        plot_trace([])
    with pytest.raises(TypeError, match="GradientMonitor"):
        plot_trace(3.0)
    with pytest.raises(ValueError, match="none of the per-layer quantities"):
        plot_trace([{"epoch": 1, "loss": 1.0, "layers": []}])


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (lambda data: data["records"][1].pop("epoch"), ValueError,
         r"^monitor_or_records: record 1 has no 'epoch' \(its keys: \['grad_norm', "),
        (lambda data: data["records"][0].pop("layers"), ValueError,
         "^monitor_or_records: record 0 has no 'layers'"),
        (lambda data: data["records"][2]["layers"][1].pop("label"), ValueError,
         "^monitor_or_records: record 2, layer 1 has no 'label'"),
        (lambda data: data["records"][0].update(layers=3), TypeError,
         "^monitor_or_records: record 0, layers must be a list of dicts, got int"),
        (lambda data: data["alerts"][0].pop("kind"), ValueError,
         r"^monitor_or_records: alert 0 has no 'kind' \(its keys: \['epoch'\]\)"),
        (lambda data: data.update(alerts=5), TypeError,
         "^monitor_or_records: alerts must be a list of dicts, got int"),
        (lambda data: data.update(records={"0": data["records"][0]}), TypeError,
         "^monitor_or_records: records must be a list of dicts, got dict"),
        (lambda data: data.update(recs=data.pop("records")), ValueError,
         r"^monitor_or_records is a mapping without 'records' \(its keys: \['alerts', 'recs'\]\)"),
        (lambda data: data["records"].__setitem__(0, 7), TypeError,
         r"^monitor_or_records: record 0 must be a dict, got 7 \(int\)"),
    ],
)
def test_records_read_back_from_json_are_checked_naming_the_entry_and_key(
    monitor, change, error, message
):
    data = json.loads(json.dumps({"records": monitor.records,
                                  "alerts": [{"kind": "exploding", "epoch": 2}]}))
    change(data)
    with pytest.raises(error, match=message):
        plot_trace(data)


def test_a_sequence_of_other_things_is_not_records():
    with pytest.raises(TypeError, match=r"^monitor_or_records: record 0 must be a dict, got 1 \(int\)"):
        plot_trace((1, 2))


def test_a_panel_without_positive_values_keeps_a_linear_axis(monitor):
    """Gradients that vanished to exactly 0 cannot be drawn on a log axis."""
    records = json.loads(json.dumps(monitor.records))
    for record in records:
        for layer in record["layers"]:
            if layer["grad_norm"] is not None:
                layer["grad_norm"] = 0.0
    figure = plot_trace(records)
    gradient_panel, ratio_panel = figure.axes[:2]
    assert gradient_panel.get_title() == "gradient norm ‖∂J/∂W‖"
    assert gradient_panel.get_yscale() == "linear"
    assert ratio_panel.get_yscale() == "log"


def test_the_epoch_axis_has_whole_epochs_only(monitor):
    """As plot_history's: no tick at epoch 1.5."""
    from chainrule.plots.curves import plot_history

    figure = plot_trace(monitor)
    figure.canvas.draw()
    history = plot_history({"loss": [1.0, 0.5, 0.2]})
    history.canvas.draw()
    for ax in [*figure.axes, *history.axes]:
        ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
        assert ticks and all(float(t).is_integer() for t in ticks), ticks
        assert ax.get_xlabel() == "epoch"
