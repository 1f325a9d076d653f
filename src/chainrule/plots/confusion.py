"""Confusion matrices as heatmaps, with the count (or rate) written in every cell."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .._validation import as_array, check_bool, check_n_samples, largest_magnitude
from ..training.metrics import MAX_MATRIX_CLASSES, confusion_matrix
from ._figure import (
    check_optional_path,
    check_title,
    figure_and_axes,
    finish,
    require_matplotlib,
)
from ._labels import as_label_array, class_indices, is_numeric

#: Cells are annotated up to this many classes; beyond, the numbers would not fit.
_MAX_ANNOTATED = 30

#: Classes are all named on the axes up to this many; beyond, this many evenly spaced ones are
#: (the first and the last always), as more names would overlap into an unreadable smear.
_MAX_TICKS = 40

#: Column names stay upright while ``n_classes × longest name`` is at most this many characters.
_MAX_UPRIGHT_CHARACTERS = 30

#: ``normalize`` values → (how rates are formed, words for the title).
_NORMALISATIONS = {
    "true": (1, "rows sum to 1"),
    "pred": (0, "columns sum to 1"),
    "all": (None, "fractions of all samples"),
}


def plot_confusion_matrix(
    y_true: Any,
    y_pred: Any,
    labels: Sequence[Any] | None = None,
    normalize: bool | str = False,
    path: Any = None,
    *,
    display_labels: Sequence[str] | None = None,
    ax: Any = None,
    cmap: Any = "Blues",
    colorbar: bool = True,
    title: str | None = "confusion matrix",
    figsize: Any = None,
    dpi: float | None = None,
) -> Any:
    """Plot the confusion matrix: true classes down the rows, predicted classes across.

    Cell ``(i, j)`` counts the samples of true class ``i`` predicted as class ``j`` (see
    :func:`chainrule.training.metrics.confusion_matrix`), so the diagonal holds the correct
    predictions; the title gives the accuracy, ``trace(C) / sum(C)``.

    Each cell's count (or rate) is written in it up to 30 classes; beyond, the colours alone
    show the values, as the numbers would not fit. Every class is named on the axes up to 40
    classes; beyond, 40 evenly spaced ones are (the first and the last always), since more
    names would overlap. At most 4096 classes (``MAX_MATRIX_CLASSES`` of
    :mod:`chainrule.training.metrics`) are shown, the largest confusion matrix: beyond, choose
    the classes to show with ``labels``.

    Parameters
    ----------
    y_true : array_like, shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
        True classes: labels (whole numbers of any range, e.g. ``-1/1`` or years, or
        strings), or one-hot rows.
    y_pred : array_like, shape (n_samples,), (n_samples, 1) or (n_samples, n_classes)
        Predicted classes: labels (whole numbers or strings), probabilities of class 1 (floats,
        class 1 above 0.5) or per-class scores (argmax), read as ``confusion_matrix`` reads
        them. String labels must be used for both arguments or neither.

        When both arguments are labels (one whole number or string per sample), the classes
        are their sorted distinct values, named on the axes as they are (``-1, 1`` or
        ``1990, 2010``); otherwise (probabilities, scores, one-hot rows) they are the class
        indices ``0 .. n_classes-1``.
    labels : sequence, optional
        The classes to show, in this order: label values when both arguments are labels
        (a value no sample has gets an empty row and column), class indices
        ``0 .. n_classes-1`` otherwise. Samples whose true or predicted class is not listed
        are left out. Default: every class (see above).
    normalize : {False, True, "true", "pred", "all"}, default False
        Write counts (False) or rates: ``"true"`` (or True) divides each row by its total
        (recall per class), ``"pred"`` each column (precision per class), ``"all"`` everything
        by the number of samples. An empty row or column gives rates of 0.
    path : str or os.PathLike, optional
        Save the figure there (PNG unless the suffix names another format).
    display_labels : sequence of str, optional
        Names written on the axes, one per shown class (default: the class values).
    ax : Axes, optional
        Draw into this ``Axes`` instead of a new figure.
    cmap : str or Colormap, default "Blues"
    colorbar : bool, default True
    title : str or None, default "confusion matrix"
    figsize : (float, float), optional
        Inches, for a new figure; default grows with the number of classes.
    dpi : float, optional
        Resolution of the new figure and of the saved image (default 100; with ``ax``, the
        figure's own).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ShapeError
        ``y_true`` and ``y_pred`` describe different numbers of samples or classes.
    ValueError
        ``labels`` repeat a class, list a class index outside ``0 .. n_classes-1`` for
        probabilities, scores or one-hot rows, or no sample falls in the listed classes; more
        than 4096 classes to show; ``display_labels`` of the wrong length; a bad
        ``normalize``.
    TypeError
        String labels in one argument and numbers in the other; ragged arrays; ``labels``
        that cannot be classes (unhashable); ``display_labels`` not a sequence of names;
        ``colorbar`` not a bool, ``title`` neither a str nor None.

    Examples
    --------
    >>> figure = plot_confusion_matrix(["cat", "dog", "dog"], ["cat", "cat", "dog"])
    >>> [text.get_text() for text in figure.axes[0].texts]
    ['1', '0', '1', '1']
    """
    check_optional_path(path)
    require_matplotlib()
    colorbar = check_bool(colorbar, "colorbar")
    title = check_title(title)
    if normalize is None or isinstance(normalize, bool):
        mode = "true" if normalize else None
    elif isinstance(normalize, str) and normalize in _NORMALISATIONS:
        mode = normalize
    else:
        raise ValueError(
            f"normalize must be False, True, 'true', 'pred' or 'all', got {normalize!r}"
        )
    counts, classes = _counts(y_true, y_pred, labels)  # (n_classes, n_classes), (n_classes,)
    names = _display_labels(display_labels, classes)
    values = counts if mode is None else _rates(counts, mode)
    n_classes = len(classes)

    if figsize is None:
        side = min(12.0, max(4.5, 0.45 * n_classes + 2.5))
        figsize = (side + (1.0 if colorbar else 0.0), side)
    figure, ax = figure_and_axes(ax, figsize, dpi)
    vmax = float(values.max()) if values.max() > 0 else 1.0
    image = ax.imshow(values, cmap=cmap, vmin=0.0, vmax=vmax, interpolation="nearest")
    if n_classes <= _MAX_ANNOTATED:
        _annotate(ax, values, vmax, n_classes)
    positions = _tick_positions(n_classes)
    shown = [names[i] for i in positions]
    # Slant the column names when they would not fit side by side under the cells.
    rotate = len(shown) * max(len(name) for name in shown) > _MAX_UPRIGHT_CHARACTERS
    ax.set_xticks(positions, labels=shown, rotation=45 if rotate else 0,
                  ha="right" if rotate else "center", rotation_mode="anchor")
    ax.set_yticks(positions, labels=shown)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        total = int(counts.sum())
        heading = title if mode is None else f"{title} ({_NORMALISATIONS[mode][1]})"
        accuracy = np.trace(counts) / total
        ax.set_title(f"{heading}\naccuracy {accuracy:.1%} of {total} samples")
    if colorbar:
        label = "samples" if mode is None else "rate"
        figure.colorbar(image, ax=ax, label=label, shrink=0.85)
    return finish(figure, path, dpi)


def _counts(y_true: Any, y_pred: Any, labels: Sequence[Any] | None) -> tuple[np.ndarray, list]:
    """``(C, classes)``: the matrix of counts (n_classes, n_classes) for the shown classes."""
    true_array, pred_array = as_array(y_true, "y_true"), as_array(y_pred, "y_pred")
    if labels is not None:
        labels = _listed_labels(labels)
    if is_numeric(true_array) and is_numeric(pred_array):
        true, pred = _whole_labels(true_array), _whole_labels(pred_array)
        if true is None or pred is None:  # probabilities, scores or one-hot rows
            return _index_counts(y_true, y_pred, labels)
    elif is_numeric(true_array) or is_numeric(pred_array):
        raise TypeError(
            f"y_true and y_pred must both hold string labels or both numbers, got dtypes "
            f"{true_array.dtype} and {pred_array.dtype}"
        )
    else:
        true, pred = as_label_array(true_array, "y_true"), as_label_array(pred_array, "y_pred")
    check_n_samples(len(true), len(pred), "y_true", "y_pred")
    if labels is not None and is_numeric(np.asarray(labels)) != is_numeric(true):
        kind = "numbers" if is_numeric(true) else "strings"
        raise ValueError(
            f"labels must be class values like those of y_true and y_pred ({kind}), got {labels}"
        )
    classes = labels if labels is not None else np.unique(np.concatenate([true, pred])).tolist()
    _check_class_count(len(classes), labels)
    true_index, pred_index = class_indices(true, classes), class_indices(pred, classes)
    shown = (true_index >= 0) & (pred_index >= 0)
    if not shown.any():
        raise ValueError(f"no sample has both its true and predicted class in labels {labels}")
    counts = confusion_matrix(true_index[shown], pred_index[shown], n_classes=len(classes))
    return counts, classes


def _listed_labels(labels: Any) -> list:
    """``labels`` as a list of distinct class values; a ``TypeError`` for values that cannot be
    classes (a dict, a list inside the list: unhashable), a ``ValueError`` for repeats."""
    labels = as_array(labels, "labels").reshape(-1).tolist()
    try:
        n_distinct = len(set(labels))
    except TypeError:
        raise TypeError(
            f"labels must be class values (numbers or strings), got {labels!r:.100}"
        ) from None
    if n_distinct != len(labels) or not labels:
        raise ValueError(f"labels must list distinct classes, got {labels}")
    return labels


def _whole_labels(array: np.ndarray) -> np.ndarray | None:
    """``array`` as class labels of shape (n_samples,) when it holds one whole number per
    sample (int64, so ``1.0`` and ``1`` are one class named ``1``); None for anything the
    metrics read otherwise (probabilities, per-class scores, one-hot rows)."""
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or array.size == 0:
        return None
    if array.dtype.kind == "f":
        whole = np.isfinite(array).all() and (array == np.round(array)).all()
        if not (whole and largest_magnitude(array) < 2.0**63):
            return None
    return array.astype(np.int64) if array.dtype.kind in "bf" else array


def _index_counts(y_true: Any, y_pred: Any, labels: list | None) -> tuple[np.ndarray, list]:
    """``(C, classes)`` for numeric input read by ``confusion_matrix``: class indices."""
    full = confusion_matrix(y_true, y_pred)  # (n_classes, n_classes), every class
    if labels is None:
        return full, list(range(full.shape[0]))
    indices = np.asarray(labels)
    if indices.dtype.kind not in "biuf" or (indices != np.round(indices)).any():
        raise ValueError(
            f"labels must be class indices 0, 1, ... for probabilities, scores or one-hot "
            f"rows, got {labels}"
        )
    # The shapes fix the classes (every label read from them is below full.shape[0]), so an
    # index past them is no class at all: most likely a label value given with scores.
    n_classes = full.shape[0]
    if (indices < 0).any() or (indices >= n_classes).any():
        raise ValueError(
            f"labels must be class indices in [0, {n_classes - 1}] for probabilities, scores "
            f"or one-hot rows: y_true and y_pred of shapes {np.shape(y_true)} and "
            f"{np.shape(y_pred)} describe {n_classes} classes, got {labels!r:.200}"
        )
    indices = indices.astype(np.int64)
    return _nonempty(full[np.ix_(indices, indices)], labels), labels


def _check_class_count(n_classes: int, labels: list | None) -> None:
    """A ``ValueError`` naming where ``n_classes`` came from (``labels``, or the distinct labels
    of y_true and y_pred) when it is over the largest confusion matrix."""
    if n_classes > MAX_MATRIX_CLASSES:
        source = (f"labels lists {n_classes} classes" if labels is not None else
                  f"y_true and y_pred hold {n_classes} distinct labels")
        advice = "" if labels is not None else "; choose the classes to show with labels"
        raise ValueError(f"{source}: a confusion matrix of {n_classes} classes is over the "
                         f"limit of {MAX_MATRIX_CLASSES}{advice}")


def _nonempty(counts: np.ndarray, labels: list) -> np.ndarray:
    """``counts`` itself, unless the listed classes hold no sample at all."""
    if counts.sum() == 0:
        raise ValueError(f"no sample has both its true and predicted class in labels {labels}")
    return counts


def _rates(counts: np.ndarray, normalize: str) -> np.ndarray:
    """Counts divided by their row, column or grand total; 0 where that total is 0."""
    axis = _NORMALISATIONS[normalize][0]
    totals = counts.sum() if axis is None else counts.sum(axis=axis, keepdims=True)
    totals = np.broadcast_to(totals, counts.shape)
    return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0)


def _display_labels(display_labels: Sequence[str] | None, classes: Sequence[Any]) -> list[str]:
    if display_labels is None:
        return [str(c) for c in classes]
    if isinstance(display_labels, (str, bytes)) or not isinstance(display_labels, Iterable):
        raise TypeError(  # (a str would name the classes by its characters)
            f"display_labels must be a sequence of names, got {display_labels!r:.100} "
            f"({type(display_labels).__name__})"
        )
    names = [str(name) for name in display_labels]
    if len(names) != len(classes):
        raise ValueError(
            f"display_labels must name the {len(classes)} shown classes, got {len(names)} names"
        )
    return names


def _tick_positions(n_classes: int) -> np.ndarray:
    """The classes named on the axes: all of them, or ``_MAX_TICKS`` evenly spaced ones
    from the first to the last (rounded to whole cells, so steps differ by at most one)."""
    if n_classes <= _MAX_TICKS:
        return np.arange(n_classes)
    return np.round(np.linspace(0, n_classes - 1, _MAX_TICKS)).astype(np.int64)


def _annotate(ax: Any, values: np.ndarray, vmax: float, n_classes: int) -> None:
    """Write each cell's value, white on dark cells and black on light ones."""
    integer = values.dtype.kind in "iu"
    fontsize = max(5.0, min(11.0, 100.0 / n_classes))
    for (i, j), value in np.ndenumerate(values):
        ax.text(j, i, f"{value:d}" if integer else f"{value:.2f}", ha="center", va="center",
                fontsize=fontsize, color="white" if value > 0.5 * vmax else "black")
