"""plot_history: one panel per quantity, validation dashed in the training colour."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from chainrule.plots.curves import plot_history
from chainrule.training.history import History

pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def make_history(lr=(0.1, 0.1, 0.1)) -> History:
    history = History()
    for epoch in range(3):
        history.record(epoch + 1, {
            "loss": 1.0 / (epoch + 1), "accuracy": 0.5 + 0.1 * epoch,
            "val_loss": 1.2 / (epoch + 1), "val_accuracy": 0.4 + 0.1 * epoch,
            "lr": lr[epoch], "seconds": 0.01,
        })
    return history


def titles(figure: Figure) -> list[str]:
    return [ax.get_title() for ax in figure.axes]


def test_one_panel_per_quantity_with_train_solid_and_validation_dashed():
    history = make_history()
    figure = plot_history(history)
    assert titles(figure) == ["loss", "accuracy"]  # constant lr and seconds are not curves
    for ax, name in zip(figure.axes, ["loss", "accuracy"]):
        train, validation = ax.get_lines()
        assert train.get_linestyle() == "-" and validation.get_linestyle() == "--"
        assert train.get_color() == validation.get_color()
        np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(train.get_ydata(), history[name])
        np.testing.assert_array_equal(validation.get_ydata(), history[f"val_{name}"])
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "validation"]
        assert ax.get_xlabel() == "epoch"
    assert figure.axes[0].get_lines()[0].get_color() != figure.axes[1].get_lines()[0].get_color()


def test_a_changing_learning_rate_gets_its_own_log_scaled_panel():
    figure = plot_history(make_history(lr=(0.1, 0.01, 0.001)))
    assert titles(figure) == ["loss", "accuracy", "learning rate"]
    lr_ax = figure.axes[2]
    assert lr_ax.get_yscale() == "log"
    np.testing.assert_allclose(lr_ax.get_lines()[0].get_ydata(), [0.1, 0.01, 0.001])


def test_show_lr_forces_the_panel_on_or_off():
    assert titles(plot_history(make_history(), show_lr=True))[-1] == "learning rate"
    assert plot_history(make_history(), show_lr=True).axes[-1].get_yscale() == "linear"
    assert "learning rate" not in titles(plot_history(make_history((1, 2, 3)), show_lr=False))
    with pytest.raises(ValueError, match="show_lr=True but the history has no 'lr'"):
        plot_history({"loss": [1.0, 0.5]}, show_lr=True)


def test_lr_named_in_metrics_is_one_panel():
    history = make_history(lr=(0.1, 0.01, 0.001))
    assert titles(plot_history(history, metrics=["lr"])) == ["loss", "learning rate"]
    assert titles(plot_history(history, metrics=["lr", "accuracy"])) == [
        "loss", "learning rate", "accuracy"]
    assert titles(plot_history(make_history(), metrics=["lr"])) == ["loss", "learning rate"]
    assert titles(plot_history(history, metrics=["lr"], show_lr=True)) == ["loss",
                                                                           "learning rate"]
    with pytest.raises(ValueError, match=r"^metrics names 'lr' but show_lr=False"):
        plot_history(history, metrics=["lr"], show_lr=False)


def test_metrics_selects_and_orders_the_panels():
    history = make_history()
    history.record(4, {"loss": 0.2, "mae": 0.3})  # a metric that started late: NaN before
    assert titles(plot_history(history)) == ["loss", "accuracy", "mae"]
    assert titles(plot_history(history, metrics=["mae", "accuracy"])) == ["loss", "mae", "accuracy"]
    assert titles(plot_history(history, metrics=[])) == ["loss"]
    assert titles(plot_history(history, metrics="mae")) == ["loss", "mae"]
    mae = plot_history(history, metrics=["mae"]).axes[1].get_lines()[0].get_ydata()
    assert np.isnan(mae[:3]).all() and mae[3] == 0.3


@pytest.mark.parametrize(("metrics", "shown"), [(5, r"5 \(int\)"), (1.5, r"1\.5 \(float\)")])
def test_metrics_that_are_not_names_are_refused_by_type(metrics, shown):
    with pytest.raises(TypeError, match=rf"^metrics must be a name or a sequence of names, got {shown}"):
        plot_history(make_history(), metrics=metrics)


def test_an_unrecorded_metric_is_named_in_the_error():
    with pytest.raises(ValueError, match=r"'f1'.*recorded: \['accuracy', 'loss'\]"):
        plot_history(make_history(), metrics=["f1"])


def test_a_validation_only_metric_is_drawn_dashed():
    figure = plot_history({"loss": [1.0, 0.5], "val_auc": [0.6, 0.7]})
    assert titles(figure) == ["loss", "auc"]
    (line,) = figure.axes[1].get_lines()
    assert line.get_linestyle() == "--" and line.get_label() == "validation"


def test_the_dict_of_as_dict_keeps_the_epoch_numbers_of_a_resumed_run():
    history = History()
    for epoch in (6, 7, 8):
        history.record(epoch, {"loss": 1.0 / epoch})
    history.stopped_early = True
    figure = plot_history(history.as_dict())  # "interrupted", "note"... are not curves
    assert titles(figure) == ["loss"]
    np.testing.assert_array_equal(figure.axes[0].get_lines()[0].get_xdata(), [6, 7, 8])
    plain = plot_history({"loss": [3.0, 2.0]})  # no "epoch": numbered from 1
    np.testing.assert_array_equal(plain.axes[0].get_lines()[0].get_xdata(), [1, 2])


def test_a_trainer_history_is_plotted(binary_trainer):
    trainer, _, _ = binary_trainer
    for source in (trainer.history, trainer):
        figure = plot_history(source)
        assert titles(figure) == ["loss", "accuracy"]
        assert len(figure.axes[0].get_lines()) == 2  # the validation split gives val_loss


def test_ax_draws_into_the_given_axes(tmp_path, png_size):
    host = Figure(figsize=(6, 2), dpi=20)
    left, middle, right = host.subplots(1, 3)
    returned = plot_history(make_history(), ax=[middle, right], path=tmp_path / "h.png")
    assert returned is host
    assert left.get_lines() == [] and middle.get_title() == "loss"
    assert right.get_title() == "accuracy"
    assert png_size(tmp_path / "h.png") == (120, 40)
    single = Figure()
    ax = single.add_subplot()
    assert plot_history({"loss": [1.0, 0.5]}, ax=ax) is single


def test_ax_in_a_subfigure_returns_the_whole_figure():
    host = Figure()
    sub = host.subfigures(1, 2)[1]
    assert plot_history({"loss": [1.0]}, ax=sub.add_subplot()) is host


def test_ax_must_give_one_axes_per_panel():
    ax = Figure().add_subplot()
    with pytest.raises(ValueError, match=r"one Axes per panel \(2 here\), got 1"):
        plot_history(make_history(), ax=ax)


def test_many_panels_wrap_after_three_columns(tmp_path, png_size):
    data = {"loss": [1.0, 0.5], **{f"m{i}": [0.1, 0.2] for i in range(4)}}
    figure = plot_history(data, path=tmp_path / "wrap.png", dpi=10)
    assert len(figure.axes) == 5
    assert png_size(tmp_path / "wrap.png") == (126, 64)  # 3 × 4.2 by 2 × 3.2 inches at 10 dpi
    assert figure.axes[3].get_subplotspec().rowspan.start == 1


@pytest.mark.parametrize(
    ("history", "error", "message"),
    [
        ([1.0, 0.5], TypeError, "history must be a History, a Trainer or a mapping"),
        ({}, ValueError, "no per-epoch values"),
        (History(), ValueError, "no per-epoch values"),
        ({"loss": [], "epoch": []}, ValueError, "history is empty"),
        ({"loss": [1.0, 0.5], "val_loss": [1.0]}, ValueError,
         r"history\['val_loss'\] has 1 values but there are 2 epochs"),
        ({"lr": [0.1, 0.1]}, ValueError, "nothing to plot"),
        # a curve is (n_epochs,): a 2-D one is refused, not flattened into 4 epochs
        ({"loss": [[0.9, 0.1], [0.5, 0.05]]}, ValueError,
         (r"^history\['loss'\] must hold one number per epoch, shape \(n_epochs,\), got "
          r"shape \(2, 2\)$")),
        ({"loss": [1.0, 2.0], "val_loss": [[0.9, 0.1], [0.5, None]]}, ValueError,
         (r"^history\['val_loss'\] must hold one number per epoch, shape \(n_epochs,\), got "
          r"shape \(2, 2\)$")),
        ({"loss": np.array(0.5)}, ValueError, r"history\['loss'\].*got shape \(\)"),
    ],
)
def test_bad_histories_are_refused(history, error, message):
    with pytest.raises(error, match=message):
        plot_history(history)
