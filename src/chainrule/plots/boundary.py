"""Decision boundaries: what a classifier predicts at every point of a 2-D plane."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import as_float_array, check_n_samples, check_number
from ..errors import ShapeError
from ._figure import (
    check_optional_path,
    check_title,
    figure_and_axes,
    finish,
    require_matplotlib,
)
from ._labels import as_label_array, class_indices, is_numeric, unknown_label

#: The widest range of a feature the plot takes: matplotlib's tick locator multiplies the
#: axis range by its steps (up to 10 times a power of ten below it) and overflows from about
#: half the float64 maximum (1.8e308) on; a quarter of it keeps that arithmetic finite.
_LARGEST_RANGE = np.finfo(np.float64).max / 4

#: The most grid points along an axis: the model sees resolution² rows, 25 million at most,
#: whose float64 grid alone takes 400 MB; far finer than any figure's pixels.
MAX_RESOLUTION = 5_000

#: Colours of the two classes of a binary problem: the ends of the probability colour map.
_BINARY_MAP = "RdBu_r"
_BINARY_ENDS = (0.1, 0.9)


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    path: Any = None,
    resolution: int = 200,
    *,
    ax: Any = None,
    padding: float = 0.1,
    feature_names: Sequence[str] | None = None,
    title: str | None = "decision boundary",
    figsize: Any = (6.0, 4.5),
    dpi: float | None = None,
) -> Any:
    """Plot a classifier's predictions over the plane of two features, with the data on top.

    The model is evaluated on a ``resolution × resolution`` grid covering the data (plus
    ``padding``):

    - one output (binary): a filled contour of the probability of class 1 with a colour bar,
      and the boundary ``p = 0.5`` as a black line;
    - ``n_classes >= 2`` outputs: a filled contour of the predicted class, ``argmax`` of each
      row, one colour per class.

    The samples are drawn as points coloured by their class ``y``, with a legend.

    Parameters
    ----------
    model : Trainer, object with ``predict_proba``, or callable
        ``model.predict_proba(X)`` (a fitted :class:`~chainrule.training.trainer.Trainer`, a
        scikit-learn classifier) or ``model(X)``, taking ``X`` of shape (n_grid, 2) and returning
        probabilities of class 1, shape (n_grid,) or (n_grid, 1), values in [0, 1], or class
        scores/probabilities, shape (n_grid, n_classes).
    X : array_like, shape (n_samples, 2)
        The samples, two features each.
    y : array_like, shape (n_samples,)
        Their class labels: integers or strings. Class ``k`` is the model's output column ``k``:
        the order of the model's classes (``Trainer.encoder.classes``, scikit-learn's
        ``classes_``) when it has them; otherwise integer labels ``0 .. n_classes-1`` stand for
        themselves and any other labels are sorted.
    path : str or os.PathLike, optional
        Save the figure there (PNG unless the suffix names another format).
    resolution : int, default 200
        Grid points along each axis, in ``[2, 5000]`` (:data:`MAX_RESOLUTION`); the model
        sees ``resolution²`` rows.
    ax : Axes, optional
        Draw into this ``Axes`` instead of a new figure.
    padding : float, default 0.1
        Margin around the data, as a fraction of each feature's range.
    feature_names : (str, str), optional
        Axis labels; default ``"X[:, 0]"`` and ``"X[:, 1]"``.
    title : str or None, default "decision boundary"
    figsize : (float, float), default (6, 4.5)
        Inches, for a new figure.
    dpi : float, optional
        Resolution of the new figure and of the saved image (default 100; with ``ax``, the
        figure's own).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ShapeError
        ``X`` is not of shape (n_samples, 2), ``y`` is not one label per sample, their lengths
        differ, or the model's output has the wrong shape.
    ValueError
        ``resolution`` is outside ``[2, 5000]``, ``y`` holds a class the model does not predict, a single output is not in [0, 1], or
        a feature's range (with ``padding``) is wider than an axis can show (about 4.5e307).
    TypeError
        ``model`` has no ``predict_proba`` and is not callable; ``y`` is ragged;
        ``feature_names`` is not a sequence; ``title`` neither a str nor None.

    Examples
    --------
    >>> from chainrule.datasets.generators import make_circles
    >>> X, y = make_circles(100, noise=0.1, seed=0)
    >>> inside = lambda points: (np.hypot(points[:, 0], points[:, 1]) < 0.75).astype(float)
    >>> figure = plot_decision_boundary(inside, X, y, resolution=50)
    >>> figure.axes[0].get_title()
    'decision boundary'
    """
    check_optional_path(path)
    matplotlib = require_matplotlib()
    resolution = check_number(resolution, "resolution", low=2, high=MAX_RESOLUTION, integer=True)
    padding = check_number(padding, "padding", low=0)
    title = check_title(title)
    X = as_float_array(X, "X", ndim=2)
    if X.shape[1] != 2:
        raise ShapeError(
            f"X must be of shape (n_samples, 2) to draw a decision boundary in the plane, got "
            f"{X.shape}; pick two features, e.g. X[:, [0, 1]]"
        )
    labels = as_label_array(y, "y")
    check_n_samples(len(X), len(labels), "X", "y")
    x_names = _feature_names(feature_names)
    predict = _prediction_function(model)

    # The grid: X0, X1 of shape (resolution, resolution); rows of `grid` are its points.
    X0, X1 = np.meshgrid(*(_span(X[:, j], padding, resolution, f"X[:, {j}]") for j in range(2)))
    grid = np.column_stack([X0.ravel(), X1.ravel()])  # (resolution², 2)
    scores = _scores(predict, grid)  # (resolution², n_outputs)
    binary = scores.shape[1] == 1
    n_classes = 2 if binary else scores.shape[1]
    classes = _classes(model, labels, n_classes)
    indices = class_indices(labels, classes)
    if (indices < 0).any():
        raise ValueError(
            f"y holds the label {unknown_label(labels, indices)!r}, which is not one of the "
            f"model's classes {np.asarray(classes).tolist()}"
        )

    figure, ax = figure_and_axes(ax, figsize, dpi)
    if binary:
        colours = _draw_probability(matplotlib, figure, ax, X0, X1, scores, classes)
    else:
        colours = _draw_classes(matplotlib, ax, X0, X1, scores, n_classes)
    size = 25 if len(X) <= 500 else 10
    for k in range(len(classes)):
        members = indices == k
        if members.any():
            ax.scatter(X[members, 0], X[members, 1], color=colours[k], s=size,
                       edgecolors="black", linewidths=0.5, label=str(classes[k]))
    ax.set_xlim(X0[0, 0], X0[0, -1])
    ax.set_ylim(X1[0, 0], X1[-1, 0])
    ax.set_xlabel(x_names[0])
    ax.set_ylabel(x_names[1])
    if title:
        ax.set_title(title)
    ax.legend(title="class", loc="best", fontsize="small", framealpha=0.85)
    return finish(figure, path, dpi)


def _prediction_function(model: Any) -> Callable[[np.ndarray], Any]:
    """``model.predict_proba`` if it has one, else ``model`` itself if it is callable."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba
    if callable(model):
        return model
    raise TypeError(
        "model must be a Trainer, an object with predict_proba(X) or a callable f(X) returning "
        f"probabilities or class scores, got {type(model).__name__}"
    )


def _span(values: np.ndarray, padding: float, resolution: int, name: str) -> np.ndarray:
    """``resolution`` evenly spaced points over the range of ``values`` plus ``padding``.

    Raises a ``ValueError`` naming ``name`` when that range is wider than an axis can show
    (:data:`_LARGEST_RANGE`).
    """
    low, high = float(values.min()), float(values.max())
    with np.errstate(over="ignore", invalid="ignore"):  # ±1e308: the width overflows
        width = high - low if high > low else 1.0  # a constant feature still gets a visible range
        start, stop = low - padding * width, high + padding * width
        shown = stop - start
    if not shown <= _LARGEST_RANGE:  # inf or nan included
        raise ValueError(
            f"{name} spans [{low:g}, {high:g}]: with padding {padding:g} the plot's range is "
            f"{shown:.3g} wide, beyond what an axis can show ({_LARGEST_RANGE:.2g}); rescale the "
            "features (standardise them)"
        )
    return np.linspace(start, stop, resolution)


def _scores(predict: Callable[[np.ndarray], Any], grid: np.ndarray) -> np.ndarray:
    """The model's output on ``grid`` (n_grid, 2), as float64 of shape (n_grid, n_outputs)."""
    scores = np.asarray(predict(grid))
    if scores.dtype.kind not in "biuf":
        raise TypeError(f"model must return numbers, got an array of dtype {scores.dtype}")
    scores = scores.astype(np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    if scores.ndim != 2 or scores.shape[0] != grid.shape[0]:
        raise ShapeError(
            f"model must return an array of shape (n_grid,), (n_grid, 1) or (n_grid, n_classes) "
            f"for X of shape {grid.shape}, got {scores.shape}"
        )
    if not np.isfinite(scores).all():
        raise ValueError("model returned NaN or infinite values on the plotting grid")
    if scores.shape[1] == 1 and (scores.min() < 0 or scores.max() > 1):
        raise ValueError(
            f"a single model output is read as the probability of class 1, in [0, 1], got "
            f"values in [{scores.min():g}, {scores.max():g}]; apply a sigmoid to logits"
        )
    return scores


def _classes(model: Any, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """The class of each output column: the model's own list, or inferred from ``labels``."""
    known = getattr(getattr(model, "encoder", None), "classes", None)
    if known is None:
        known = getattr(model, "classes_", None)
    if known is not None:
        classes = np.asarray(known)
    elif (
        is_numeric(labels)
        and np.array_equal(labels, np.round(labels))
        and labels.min() >= 0
        and labels.max() < n_classes
    ):
        classes = np.arange(n_classes)  # integer labels are the output columns themselves
    else:
        classes = np.unique(labels)
    if len(classes) > n_classes:
        raise ValueError(
            f"y has {len(classes)} classes {classes.tolist()} but the model's output describes "
            f"{n_classes}"
        )
    return classes


def _feature_names(feature_names: Sequence[str] | None) -> tuple[str, str]:
    if feature_names is None:
        return "X[:, 0]", "X[:, 1]"
    if not isinstance(feature_names, (Sequence, np.ndarray)):
        raise TypeError(
            f"feature_names must be two names, got {feature_names!r:.100} "
            f"({type(feature_names).__name__})"
        )
    if isinstance(feature_names, str) or len(feature_names) != 2:
        raise ValueError(f"feature_names must be two names, got {feature_names!r}")
    return str(feature_names[0]), str(feature_names[1])


def _draw_probability(
    matplotlib: Any, figure: Any, ax: Any, X0: np.ndarray, X1: np.ndarray,
    scores: np.ndarray, classes: np.ndarray,
) -> list[Any]:
    """Filled contours of P(class 1), the 0.5 line and a colour bar; returns the class colours."""
    cmap = matplotlib.colormaps[_BINARY_MAP]
    P = scores[:, 0].reshape(X0.shape)  # (resolution, resolution)
    filled = ax.contourf(X0, X1, P, levels=np.linspace(0.0, 1.0, 11), cmap=cmap, alpha=0.7)
    if P.min() < 0.5 < P.max():  # otherwise there is no boundary to draw
        ax.contour(X0, X1, P, levels=[0.5], colors="black", linewidths=1.2)
    positive = classes[1] if len(classes) > 1 else 1
    figure.colorbar(filled, ax=ax, label=f"P(class {positive})", ticks=np.linspace(0, 1, 6))
    return [cmap(end) for end in _BINARY_ENDS]


def _draw_classes(
    matplotlib: Any, ax: Any, X0: np.ndarray, X1: np.ndarray, scores: np.ndarray,
    n_classes: int,
) -> list[Any]:
    """Filled regions of the predicted class (argmax of each row); returns the class colours."""
    colours = _class_colours(matplotlib, n_classes)
    predicted = scores.argmax(axis=1).reshape(X0.shape)  # (resolution, resolution)
    # One level band [k - 0.5, k + 0.5] per class, so each class gets exactly its colour.
    ax.contourf(X0, X1, predicted, levels=np.arange(n_classes + 1) - 0.5, colors=colours,
                alpha=0.35)
    return colours


def _class_colours(matplotlib: Any, n_classes: int) -> list[Any]:
    """Distinct colours: tab10 up to 10 classes, tab20 up to 20, then a continuous map."""
    if n_classes <= 10:
        return [matplotlib.colormaps["tab10"](k) for k in range(n_classes)]
    if n_classes <= 20:
        return [matplotlib.colormaps["tab20"](k) for k in range(n_classes)]
    cmap = matplotlib.colormaps["turbo"]
    return [cmap(v) for v in np.linspace(0.0, 1.0, n_classes)]
