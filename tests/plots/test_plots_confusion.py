"""plot_confusion_matrix: a heatmap of counts or rates with the value written in every cell."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from chainrule.errors import ShapeError
from chainrule.plots.confusion import plot_confusion_matrix
from chainrule.training.metrics import confusion_matrix

pytestmark = pytest.mark.filterwarnings("error::UserWarning")

Y_TRUE = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
Y_PRED = np.array([0, 1, 0, 1, 1, 2, 0, 2, 1])


def cells(figure: Figure) -> np.ndarray:
    """The texts written in the cells, as a square array (rows = true classes)."""
    texts = [text.get_text() for text in figure.axes[0].texts]
    side = round(len(texts) ** 0.5)
    return np.array(texts).reshape(side, side)


def ticks(figure: Figure, axis: str = "x") -> list[str]:
    ax = figure.axes[0]
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    return [label.get_text() for label in labels]


def test_cells_hold_the_counts_of_confusion_matrix():
    figure = plot_confusion_matrix(Y_TRUE, Y_PRED)
    expected = confusion_matrix(Y_TRUE, Y_PRED)
    np.testing.assert_array_equal(cells(figure), expected.astype(str))
    ax = figure.axes[0]
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), expected)
    assert ticks(figure) == ticks(figure, "y") == ["0", "1", "2"]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert ax.get_title() == "confusion matrix\naccuracy 66.7% of 9 samples"
    assert figure.axes[1].get_ylabel() == "samples"  # the colour bar


def test_dark_cells_get_white_text():
    figure = plot_confusion_matrix([0, 0, 0, 0, 1], [0, 0, 0, 0, 1])
    colours = [text.get_color() for text in figure.axes[0].texts]
    assert colours == ["white", "black", "black", "black"]


@pytest.mark.parametrize(
    ("normalize", "expected", "note"),
    [
        (True, [[2 / 3, 1 / 3, 0], [0, 1, 0], [1 / 4, 1 / 4, 2 / 4]], "rows sum to 1"),
        ("true", [[2 / 3, 1 / 3, 0], [0, 1, 0], [1 / 4, 1 / 4, 2 / 4]], "rows sum to 1"),
        ("pred", [[2 / 3, 1 / 4, 0], [0, 2 / 4, 0], [1 / 3, 1 / 4, 1]], "columns sum to 1"),
        ("all", np.array([[2, 1, 0], [0, 2, 0], [1, 1, 2]]) / 9, "fractions of all samples"),
    ],
)
def test_normalize_writes_rates(normalize, expected, note):
    figure = plot_confusion_matrix(Y_TRUE, Y_PRED, normalize=normalize)
    np.testing.assert_allclose(figure.axes[0].get_images()[0].get_array(), expected)
    np.testing.assert_array_equal(cells(figure), np.vectorize("{:.2f}".format)(expected))
    assert figure.axes[0].get_title().startswith(f"confusion matrix ({note})\n")
    assert figure.axes[1].get_ylabel() == "rate"


def test_an_empty_row_gives_rates_of_zero_without_warnings():
    figure = plot_confusion_matrix([0, 0, 2], [0, 1, 2], normalize="true")  # class 1 never true
    np.testing.assert_array_equal(cells(figure)[1], ["0.00", "0.00", "0.00"])


@pytest.mark.parametrize("normalize", ["rows", 1, "True"])
def test_bad_normalize_is_refused(normalize):
    with pytest.raises(ValueError, match="normalize must be False, True, 'true', 'pred' or 'all'"):
        plot_confusion_matrix(Y_TRUE, Y_PRED, normalize=normalize)


def test_string_labels_use_the_sorted_union_of_both_arguments():
    figure = plot_confusion_matrix(["dog", "cat", "dog"], ["dog", "cat", "bird"])
    assert ticks(figure) == ["bird", "cat", "dog"]
    np.testing.assert_array_equal(cells(figure), [["0", "0", "0"], ["0", "1", "0"],
                                                  ["1", "0", "1"]])
    assert figure.axes[0].get_xticklabels()[0].get_rotation() == 0  # short names stay upright


def test_long_column_names_are_slanted():
    y = np.arange(4)
    names = ["Trouser", "Pullover", "Dress", "Coat"]  # 4 classes × 8 characters
    figure = plot_confusion_matrix(y, y, display_labels=names)
    assert {label.get_rotation() for label in figure.axes[0].get_xticklabels()} == {45}
    assert {label.get_rotation() for label in figure.axes[0].get_yticklabels()} == {0}


def test_labels_choose_and_order_the_classes():
    figure = plot_confusion_matrix(["dog", "cat", "dog", "cow"], ["dog", "cat", "cat", "dog"],
                                   labels=["dog", "cat"])
    assert ticks(figure) == ["dog", "cat"]
    np.testing.assert_array_equal(cells(figure), [["1", "1"], ["0", "1"]])  # "cow" left out
    assert "of 3 samples" in figure.axes[0].get_title()


def test_numeric_labels_are_class_indices():
    figure = plot_confusion_matrix(Y_TRUE, Y_PRED, labels=[2, 0, 4])  # class 4 never occurs
    assert ticks(figure) == ["2", "0", "4"]
    # rows/columns 2, 0, 4 of [[2, 1, 0], [0, 2, 0], [1, 1, 2]], padded with class 4
    np.testing.assert_array_equal(cells(figure), [["2", "1", "0"], ["0", "2", "0"],
                                                  ["0", "0", "0"]])


def test_probabilities_and_one_hot_rows_are_read_like_the_metrics():
    y_true = np.eye(2)[[0, 1, 1, 0]]  # one-hot
    y_prob = np.array([0.2, 0.9, 0.4, 0.6])  # P(class 1), thresholded at 0.5
    figure = plot_confusion_matrix(y_true, y_prob)
    np.testing.assert_array_equal(cells(figure), [["1", "1"], ["1", "1"]])


def test_display_labels_name_the_classes():
    figure = plot_confusion_matrix(Y_TRUE, Y_PRED, display_labels=["setosa", "versicolor",
                                                                   "virginica"])
    assert ticks(figure, "y") == ["setosa", "versicolor", "virginica"]
    with pytest.raises(ValueError, match="display_labels must name the 3 shown classes, got 2"):
        plot_confusion_matrix(Y_TRUE, Y_PRED, display_labels=["a", "b"])


def test_a_trained_string_classifier(string_trainer, tmp_path, png_size):
    trainer, X, y = string_trainer
    path = tmp_path / "cm.png"
    figure = plot_confusion_matrix(y, trainer.predict(X), path=path, figsize=(3, 2), dpi=40)
    assert png_size(path) == (120, 80)
    assert ticks(figure) == ["apple", "banana", "cherry"]
    assert sum(int(text) for text in cells(figure).ravel()) == len(y)


def test_ax_and_no_colour_bar():
    host = Figure()
    left, right = host.subplots(1, 2)
    returned = plot_confusion_matrix(Y_TRUE, Y_PRED, ax=right, colorbar=False, title=None)
    assert returned is host
    assert len(host.axes) == 2 and right.get_title() == "" and len(right.texts) == 9
    assert not left.has_data()


def test_many_classes_are_drawn_without_cell_texts():
    y = np.arange(40)
    figure = plot_confusion_matrix(y, y, dpi=10)
    assert len(figure.axes[0].texts) == 0
    assert figure.axes[0].get_images()[0].get_array().shape == (40, 40)


def test_many_classes_label_at_most_forty_evenly_spaced_ticks():
    names = sorted(f"c{i}" for i in range(1000))  # the classes, sorted: c0, c1, c10, ...
    y = np.array(names)
    figure = plot_confusion_matrix(y, y[::-1], dpi=10)
    ax = figure.axes[0]
    positions = ax.get_xticks()
    np.testing.assert_array_equal(positions, ax.get_yticks())
    assert len(positions) == 40 and positions[0] == 0 and positions[-1] == 999
    assert set(np.diff(positions)) <= {25, 26}  # evenly spaced, up to rounding
    assert ticks(figure) == ticks(figure, "y") == [names[int(i)] for i in positions]
    assert len(ax.texts) == 0


def test_forty_classes_still_label_every_tick():
    y = np.arange(40)
    figure = plot_confusion_matrix(y, y, dpi=10)
    assert ticks(figure) == ticks(figure, "y") == [str(i) for i in range(40)]


@pytest.mark.parametrize(
    ("y_true", "y_pred", "kwargs", "error", "message"),
    [
        ([0, 1, 1], [0, 1], {}, ShapeError, "same number of samples, got 3 and 2"),
        (["a", "b", "b"], ["a", "b"], {}, ShapeError, "same number of samples, got 3 and 2"),
        (["a", "b"], [0, 1], {}, TypeError, "both hold string labels or both numbers"),
        ([0, 1], [0, 1], {"labels": [0, 0]}, ValueError, "labels must list distinct classes"),
        ([0, 1], [0, 1], {"labels": ["a"]}, ValueError,
         r"labels must be class values like those of y_true and y_pred \(numbers\)"),
        (["a", "b"], ["a", "b"], {"labels": [0]}, ValueError, r"\(strings\), got \[0\]"),
        ([0, 1], [0.2, 0.7], {"labels": ["a"]}, ValueError, "labels must be class indices"),
        (["a", "b"], ["a", "b"], {"labels": ["c"]}, ValueError, "no sample has both"),
        ([0, 1], [0, 1], {"labels": [5]}, ValueError, "no sample has both"),
        ([[[0]]], [0], {}, ShapeError, "y_true must be of shape"),
        # ragged or unhashable arguments are named, not left to NumPy or to set()
        ([[0, 1], [1]], [0, 1], {}, TypeError, "^y_true must be a rectangular array: "),
        ([0, 1], [[0, 1], [1]], {}, TypeError, "^y_pred must be a rectangular array: "),
        (["a", "b"], [["a", "b"], ["a"]], {}, TypeError, "^y_pred must be a rectangular array"),
        ([0, 1], [0, 1], {"labels": [[1, 2], [3]]}, TypeError,
         "^labels must be a rectangular array: "),
        ([0, 1], [0, 1], {"labels": {"a": 1}}, TypeError,
         r"^labels must be class values \(numbers or strings\), got \[\{'a': 1\}\]"),
        ([0, 1], [0, 1], {"display_labels": 2}, TypeError,
         r"^display_labels must be a sequence of names, got 2 \(int\)"),
        ([0, 1], [0, 1], {"display_labels": "ab"}, TypeError,
         r"^display_labels must be a sequence of names, got 'ab' \(str\)"),
    ],
)
def test_bad_input_is_refused(y_true, y_pred, kwargs, error, message):
    with pytest.raises(error, match=message):
        plot_confusion_matrix(y_true, y_pred, **kwargs)
