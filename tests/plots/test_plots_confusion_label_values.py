"""plot_confusion_matrix with numeric labels that are not 0 .. n_classes-1.

Labels such as -1/1, years or 1-based classes are classes by value, as strings are: the sorted
distinct values, named on the axes as they are (no phantom class 0, no 2011 × 2011 matrix).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.plots.confusion import plot_confusion_matrix

pytestmark = pytest.mark.filterwarnings("error::UserWarning")


def cells(figure) -> list[list[str]]:
    texts = [text.get_text() for text in figure.axes[0].texts]
    side = round(len(texts) ** 0.5)
    return np.array(texts).reshape(side, side).tolist()


def ticks(figure, axis: str = "x") -> list[str]:
    ax = figure.axes[0]
    return [t.get_text() for t in (ax.get_xticklabels() if axis == "x" else ax.get_yticklabels())]


@pytest.mark.parametrize(("y_true", "y_pred", "names", "expected"), [
    ([-1, 1, 1, -1], [-1, 1, -1, -1], ["-1", "1"], [["2", "0"], ["1", "1"]]),
    ([1990, 2010, 2010], [1990, 1990, 2010], ["1990", "2010"], [["1", "0"], ["1", "1"]]),
    ([1, 2, 3, 3], [1, 3, 3, 2], ["1", "2", "3"],
     [["1", "0", "0"], ["0", "0", "1"], ["0", "1", "1"]]),
])
def test_numeric_labels_are_classes_by_value(y_true, y_pred, names, expected):
    figure = plot_confusion_matrix(np.array(y_true), np.array(y_pred))
    assert ticks(figure) == ticks(figure, "y") == names
    assert cells(figure) == expected
    assert figure.axes[0].get_images()[0].get_array().shape == (len(names), len(names))


def test_whole_floats_and_ints_name_the_same_classes():
    figure = plot_confusion_matrix(np.array([1990.0, 2010.0]), np.array([[1990], [1990]]))
    assert ticks(figure) == ["1990", "2010"]  # not "1990.0"
    assert cells(figure) == [["1", "0"], ["1", "0"]]


def test_labels_choose_classes_by_value():
    figure = plot_confusion_matrix([-1, 1, 1, 5], [-1, 1, -1, 5], labels=[1, -1, 7])
    assert ticks(figure) == ["1", "-1", "7"]
    assert cells(figure) == [["1", "1", "0"], ["0", "1", "0"], ["0", "0", "0"]]
    assert "of 3 samples" in figure.axes[0].get_title()  # the class 5 sample is left out


def test_probabilities_still_use_class_indices():
    figure = plot_confusion_matrix([0, 1, 1, 0], np.array([0.2, 0.9, 0.4, 0.6]))
    assert ticks(figure) == ["0", "1"]
    with pytest.raises(ValueError, match="y_true has the label -1|class labels in"):
        plot_confusion_matrix([-1, 1], np.array([0.2, 0.9]))


def test_a_trained_minus_one_plus_one_classifier(tmp_path, png_size):
    from chainrule.datasets.generators import make_circles
    from chainrule.layers.builders import mlp
    from chainrule.training.trainer import Trainer

    X, index = make_circles(60, noise=0.1, seed=0)
    y = np.array([-1, 1])[index]
    trainer = Trainer(mlp([2, 8, 1], output="sigmoid", seed=0), "binary_cross_entropy",
                      seed=0, verbose=0)
    trainer.fit(X, y, epochs=2)
    path = tmp_path / "cm.png"
    figure = plot_confusion_matrix(y, trainer.predict(X), path=path, figsize=(3, 3), dpi=40)
    assert png_size(path) == (120, 120)
    assert ticks(figure) == ["-1", "1"]
    assert sum(int(text) for row in cells(figure) for text in row) == len(y)
