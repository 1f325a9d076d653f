"""plot_confusion_matrix at the edges of its classes: class indices beyond what probabilities or
scores can describe, and more classes than a confusion matrix may hold."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from chainrule.plots.confusion import plot_confusion_matrix
from chainrule.training.metrics import MAX_MATRIX_CLASSES

Y_TRUE = np.array([0, 1, 2, 1])
SCORES = np.eye(3)[[0, 2, 2, 1]]  # (4, 3): the classes are the indices 0, 1, 2


@pytest.mark.parametrize("labels", [[0, 2, 3], [0, 2, 5000], [0, 2, 10**5], [0, 2, 10**18],
                                    [float("inf")]])
def test_class_indices_past_the_columns_are_refused(labels):
    # a class index of 3 or more cannot be a class of scores with 3 columns: refused, naming
    # the range and the shapes, instead of a matrix of (max(labels) + 1)² counts
    message = (r"labels must be class indices in [0, 2] for probabilities, scores or one-hot "
               r"rows: y_true and y_pred of shapes (4,) and (4, 3) describe 3 classes, got "
               rf"{labels}")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        plot_confusion_matrix(Y_TRUE, SCORES, labels=labels)


def test_binary_probabilities_have_the_classes_0_and_1():
    with pytest.raises(ValueError, match=r"class indices in \[0, 1\] .* describe 2 classes, "
                                         r"got \[1, 2\]"):
        plot_confusion_matrix([0, 1, 1], [0.2, 0.7, 0.4], labels=[1, 2])


def test_class_indices_within_the_columns_still_choose_and_order():
    figure = plot_confusion_matrix(Y_TRUE, SCORES, labels=[2, 0])
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts == ["1", "0", "0", "1"]  # true 2 → 2 once; true 0 → 0 once; class 1 left out


@pytest.mark.parametrize("y", [np.arange(MAX_MATRIX_CLASSES + 1) * 3,
                               np.arange(MAX_MATRIX_CLASSES + 1)])
def test_too_many_distinct_labels_name_their_count(y):
    n = MAX_MATRIX_CLASSES + 1
    message = (f"y_true and y_pred hold {n} distinct labels: a confusion matrix of {n} classes "
               f"is over the limit of {MAX_MATRIX_CLASSES}; choose the classes to show with "
               "labels")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        plot_confusion_matrix(y, y)


def test_too_many_listed_labels_name_labels():
    n = MAX_MATRIX_CLASSES + 1
    message = (f"labels lists {n} classes: a confusion matrix of {n} classes is over the limit "
               f"of {MAX_MATRIX_CLASSES}")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        plot_confusion_matrix([0, 1], [0, 1], labels=list(range(n)))


def test_too_many_score_columns_name_y_pred():
    scores = np.zeros((3, MAX_MATRIX_CLASSES + 1), np.float32)
    scores[[0, 1, 2], [0, 1, 2]] = 1
    with pytest.raises(ValueError, match=rf"^y_pred has {MAX_MATRIX_CLASSES + 1} columns, one "
                                         "per class: a confusion matrix"):
        plot_confusion_matrix([0, 1, 2], scores)


def test_the_docstring_gives_the_limit():
    assert f"{MAX_MATRIX_CLASSES} classes" in " ".join(plot_confusion_matrix.__doc__.split())
