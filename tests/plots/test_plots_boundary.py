"""plot_decision_boundary: the model on a grid over the data, the samples coloured by class."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

from chainrule.errors import ShapeError
from chainrule.plots.boundary import plot_decision_boundary

pytestmark = pytest.mark.filterwarnings("error::UserWarning")

X4 = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 0.0], [3.0, 2.0]])


class Recorder:
    """A callable model that remembers its input: class 1 right of x0 = 1.5."""

    def __init__(self) -> None:
        self.calls = []

    def __call__(self, X):
        self.calls.append(np.array(X))
        return (X[:, 0] > 1.5).astype(float)


def legend_texts(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def contour_sets(ax) -> list[ContourSet]:
    return [artist for artist in ax.get_children() if isinstance(artist, ContourSet)]


def test_the_model_sees_a_padded_grid_over_the_data():
    model = Recorder()
    figure = plot_decision_boundary(model, X4, [0, 0, 1, 1], resolution=5, padding=0.5)
    (grid,) = model.calls
    assert grid.shape == (25, 2)
    # x0 spans [0, 3] (width 3) and x1 spans [0, 2] (width 2), each padded by half its width.
    np.testing.assert_allclose(np.unique(grid[:, 0]), np.linspace(-1.5, 4.5, 5))
    np.testing.assert_allclose(np.unique(grid[:, 1]), np.linspace(-1.0, 3.0, 5))
    ax = figure.axes[0]
    assert ax.get_xlim() == (-1.5, 4.5) and ax.get_ylim() == (-1.0, 3.0)


def test_a_binary_model_gets_probability_contours_the_half_line_and_a_colour_bar():
    figure = plot_decision_boundary(Recorder(), X4, [0, 0, 1, 1], resolution=20)
    ax, colour_bar = figure.axes
    filled, line = contour_sets(ax)
    np.testing.assert_allclose(filled.levels, np.linspace(0, 1, 11))
    np.testing.assert_array_equal(line.levels, [0.5])
    assert colour_bar.get_ylabel() == "P(class 1)"
    assert legend_texts(ax) == ["0", "1"]
    assert ax.get_title() == "decision boundary"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("X[:, 0]", "X[:, 1]")


def test_no_half_line_when_one_class_is_predicted_everywhere():
    figure = plot_decision_boundary(lambda X: np.full(len(X), 0.2), X4, [0, 0, 1, 1],
                                    resolution=10)
    assert len(contour_sets(figure.axes[0])) == 1


def test_the_points_are_the_samples_of_each_class():
    y = np.array([1, 0, 1, 1])
    figure = plot_decision_boundary(Recorder(), X4, y, resolution=5)
    class_0, class_1 = figure.axes[0].collections[-2:]
    np.testing.assert_array_equal(class_0.get_offsets(), X4[y == 0])
    np.testing.assert_array_equal(class_1.get_offsets(), X4[y == 1])
    assert not np.allclose(class_0.get_facecolor(), class_1.get_facecolor())


def test_a_trained_binary_trainer(binary_trainer, tmp_path, png_size):
    trainer, X, y = binary_trainer
    path = tmp_path / "boundary.png"
    figure = plot_decision_boundary(trainer, X, y, path=path, resolution=20, figsize=(4, 3),
                                    dpi=30)
    assert png_size(path) == (120, 90)
    assert legend_texts(figure.axes[0]) == ["0", "1"]


def test_string_labels_follow_the_trainers_class_order(string_trainer):
    trainer, X, y = string_trainer
    figure = plot_decision_boundary(trainer, X, y, resolution=15)
    ax = figure.axes
    assert len(ax) == 1  # classes get regions and a legend, no colour bar
    assert legend_texts(ax[0]) == list(trainer.encoder.classes) == ["apple", "banana", "cherry"]
    (regions,) = contour_sets(ax[0])
    np.testing.assert_allclose(regions.levels, [-0.5, 0.5, 1.5, 2.5])


def test_string_labels_without_a_model_order_are_sorted():
    def scores(X):
        return np.column_stack([X[:, 0], -X[:, 0], np.zeros(len(X))])

    figure = plot_decision_boundary(scores, X4, ["zebra", "ant", "ant", "moth"], resolution=5)
    assert legend_texts(figure.axes[0]) == ["ant", "moth", "zebra"]


def test_integer_labels_are_the_output_columns_even_when_a_class_is_missing():
    def scores(X):
        return np.column_stack([X[:, 0], -X[:, 0], X[:, 1]])

    y = np.array([2, 2, 0, 0])  # class 1 absent: label 2 is still column 2
    figure = plot_decision_boundary(scores, X4, y, resolution=5)
    assert legend_texts(figure.axes[0]) == ["0", "2"]
    class_2 = figure.axes[0].collections[-1]
    np.testing.assert_array_equal(class_2.get_offsets(), X4[y == 2])


def test_an_estimator_with_classes_and_predict_proba():
    class Estimator:
        classes_ = np.array(["yes", "no"])  # column 0 is "yes"

        def predict_proba(self, X):
            p = 1 / (1 + np.exp(-X[:, 0]))
            return np.column_stack([p, 1 - p])

    figure = plot_decision_boundary(Estimator(), X4, ["no", "yes", "yes", "no"], resolution=5)
    assert legend_texts(figure.axes[0]) == ["yes", "no"]


def test_ax_draws_into_the_given_axes():
    host = Figure(figsize=(4, 2))
    left, right = host.subplots(1, 2)
    returned = plot_decision_boundary(Recorder(), X4, [0, 0, 1, 1], ax=right, resolution=5,
                                      title="mine", feature_names=("width", "height"))
    assert returned is host
    assert not left.has_data() and right.has_data()
    assert right.get_title() == "mine" and right.get_xlabel() == "width"


@pytest.mark.parametrize(
    ("X", "y", "error", "message"),
    [
        (np.zeros(4), [0, 1, 0, 1], ShapeError, "X must be 2-D"),
        (np.zeros((4, 3)), [0, 1, 0, 1], ShapeError, r"X must be of shape \(n_samples, 2\)"),
        (X4, [0, 1, 0], ShapeError, "X and y must have the same number of samples, got 4 and 3"),
        (X4, np.zeros((4, 2)), ShapeError, r"y must hold one label per sample"),
        (np.full((4, 2), np.nan), [0, 1, 0, 1], ValueError, "X must be finite"),
        (X4, [], ValueError, r"y must not be empty, got shape \(0,\)"),
        (X4, [0, np.nan, 1, 0], ValueError, "y must not contain NaN or infinity"),
        (X4, [0, 1, np.inf, 0], ValueError, "y must not contain NaN or infinity"),
        (X4, [[0, 1], [0], [1], [0]], TypeError, "^y must be a rectangular array: "),
        (X4, None, TypeError, "^y must be an array, got NoneType"),
    ],
)
def test_bad_data_is_refused(X, y, error, message):
    with pytest.raises(error, match=message):
        plot_decision_boundary(Recorder(), X, y, resolution=5)


@pytest.mark.parametrize(("column", "big"), [(0, 1e308), (1, 1e308), (0, 7e307), (1, 2e307)])
def test_features_whose_range_an_axis_cannot_show_are_named(column, big):
    """A range near the float64 limit (its width, or matplotlib's ticks over it, overflow)."""
    X = X4.copy()
    X[:, column] = [-big, big, 0.0, 1.0]
    span = re.escape(f"[{-big:g}, {big:g}]")
    message = (rf"^X\[:, {column}\] spans {span}: with padding 0\.1 the plot's "
               r"range is .* wide, beyond what an axis can show \(4\.5e\+307\); rescale the "
               r"features \(standardise them\)$")
    with pytest.raises(ValueError, match=message):
        plot_decision_boundary(Recorder(), X, [0, 1, 0, 1], resolution=5)


def test_a_range_just_within_the_limit_is_drawn():
    import warnings

    X = X4.copy()
    X[:, 0] = [-1.8e307, 1.8e307, 0.0, 1.0]  # padded: 4.32e307 wide
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        figure = plot_decision_boundary(Recorder(), X, [0, 1, 0, 1], resolution=5)
        figure.canvas.draw()
    assert figure.axes[0].get_xlim() == pytest.approx((-2.16e307, 2.16e307))


@pytest.mark.parametrize(
    ("model", "y", "error", "message"),
    [
        ("not a model", [0, 1, 0, 1], TypeError, "model must be a Trainer"),
        (lambda X: X[:, 0] * 5, [0, 1, 0, 1], ValueError,
         r"probability of class 1, in \[0, 1\], got values in"),
        (lambda X: np.zeros((3, 2)), [0, 1, 0, 1], ShapeError,
         r"model must return an array of shape .* got \(25, 2\)|got \(3, 2\)"),
        (lambda X: np.full(len(X), np.nan), [0, 1, 0, 1], ValueError, "NaN or infinite"),
        (lambda X: np.zeros((len(X), 2)), [0, 1, 2, 1], ValueError,
         r"y has 3 classes \[0, 1, 2\] but the model's output describes 2"),
        (lambda X: np.array(["a"] * len(X)), [0, 1, 0, 1], TypeError, "must return numbers"),
    ],
)
def test_bad_models_are_refused(model, y, error, message):
    with pytest.raises(error, match=message):
        plot_decision_boundary(model, X4, y, resolution=5)


def test_a_label_the_model_does_not_know_is_named(string_trainer):
    trainer, X, y = string_trainer
    y = y.copy()
    y[5] = "durian"
    with pytest.raises(ValueError, match="the label 'durian', which is not one of the model's"):
        plot_decision_boundary(trainer, X, y, resolution=5)


@pytest.mark.parametrize("resolution", [1, 5001, 10**9, 10**30])
def test_bad_resolution_is_refused(resolution):
    """Beyond 5000 points per axis the grid (resolution² rows) would not fit in memory."""
    with pytest.raises(ValueError, match=rf"^resolution must be in \[2, 5000\], got {resolution}$"):
        plot_decision_boundary(Recorder(), X4, [0, 0, 1, 1], resolution=resolution)


@pytest.mark.parametrize(
    ("y", "legend"),
    [
        (np.array([[0], [0], [1], [1]]), ["0", "1"]),  # a (n_samples, 1) column
        (np.array([False, False, True, True]), ["0", "1"]),  # False/True are the classes 0/1
        (np.array(["no", "no", "yes", "yes"], dtype=object), ["no", "yes"]),  # e.g. from pandas
    ],
)
def test_labels_of_other_kinds_are_read_as_classes(y, legend):
    figure = plot_decision_boundary(Recorder(), X4, y, resolution=5)
    assert legend_texts(figure.axes[0]) == legend
    class_0, class_1 = figure.axes[0].collections[-2:]
    np.testing.assert_array_equal(class_0.get_offsets(), X4[:2])
    np.testing.assert_array_equal(class_1.get_offsets(), X4[2:])


@pytest.mark.parametrize("names", ["ab", ("width",), ("a", "b", "c")])
def test_feature_names_must_be_two_names(names):
    with pytest.raises(ValueError, match=r"feature_names must be two names, got "):
        plot_decision_boundary(Recorder(), X4, [0, 0, 1, 1], resolution=5, feature_names=names)


@pytest.mark.parametrize(("names", "shown"), [(5, r"5 \(int\)"), ({"a"}, r"\{'a'\} \(set\)")])
def test_feature_names_that_are_not_a_sequence_are_refused_by_type(names, shown):
    with pytest.raises(TypeError, match=rf"^feature_names must be two names, got {shown}"):
        plot_decision_boundary(Recorder(), X4, [0, 0, 1, 1], resolution=5, feature_names=names)


@pytest.mark.parametrize(("n_classes", "palette"), [(12, "tab20"), (25, "turbo")])
def test_many_classes_get_distinct_colours(n_classes, palette):
    import matplotlib

    X = np.random.default_rng(0).normal(size=(2 * n_classes, 2))
    y = np.arange(2 * n_classes) % n_classes

    def scores(points):
        return np.column_stack([points[:, 0] * k for k in range(n_classes)])

    figure = plot_decision_boundary(scores, X, y, resolution=5)
    points = figure.axes[0].collections[-n_classes:]
    colours = np.array([collection.get_facecolor()[0] for collection in points])
    cmap = matplotlib.colormaps[palette]
    expected = ([cmap(k) for k in range(n_classes)] if palette == "tab20"
                else [cmap(v) for v in np.linspace(0, 1, n_classes)])
    np.testing.assert_allclose(colours, expected)
    assert len({tuple(colour) for colour in colours}) == n_classes
