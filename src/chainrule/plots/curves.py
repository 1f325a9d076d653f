"""Learning curves: the loss and metrics of every epoch, training and validation."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import check_bool
from ..training.history import History
from ._figure import (
    check_axes,
    check_optional_path,
    epoch_axis,
    finish,
    panel_grid,
    point_marker,
    require_matplotlib,
    root_figure,
)

#: Keys of a history that are not learning curves of their own.
_NOT_CURVES = ("loss", "lr", "seconds", "epoch")


def plot_history(
    history: Any,
    metrics: Sequence[str] | None = None,
    path: Any = None,
    *,
    show_lr: bool | None = None,
    ax: Any = None,
    figsize: Any = None,
    dpi: float | None = None,
) -> Any:
    """Plot the loss and metric curves of a training run, one panel per quantity.

    Each panel shows the training values as a solid line and the validation values (the
    ``"val_..."`` key) as a dashed line of the same colour; the x axis is the epoch number.

    Parameters
    ----------
    history : History, Trainer or mapping
        ``Trainer.fit``'s :class:`~chainrule.training.history.History` (or the trainer that
        holds it), its ``history`` dict, or the dict of ``History.as_dict()`` (``"epoch"`` gives the x values; without it the
        epochs are numbered from 1). Every curve has one value per epoch (n_epochs,); NaN
        values (epochs where a quantity was not recorded) leave gaps.
    metrics : sequence of str, optional
        The metrics to plot after the loss, in this order (their ``"val_"`` curves come with
        them); ``"lr"`` among them puts the learning-rate panel there, once (``show_lr=False``
        then contradicts it: a ``ValueError``). Default: every recorded quantity except
        ``loss``, ``lr`` and ``seconds``, in the order recorded.
    path : str or os.PathLike, optional
        Save the figure there (PNG unless the suffix names another format).
    show_lr : bool, optional
        Add a panel with the learning rate (log scale when it spans a factor of 10 or more).
        Default: when ``"lr"`` was recorded and changed during training.
    ax : Axes or sequence of Axes, optional
        Draw into these instead of a new figure: one ``Axes`` per panel, in order (loss,
        metrics, learning rate).
    figsize : (float, float), optional
        Inches; default about 4.2 × 3.2 per panel, at most three panels per row.
    dpi : float, optional
        Resolution of the new figure and of the saved image (default 100; with ``ax``, the
        figure's own).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        An empty history, a metric that was not recorded, a curve that is not 1-D, curves of
        different lengths, ``"lr"`` in ``metrics`` with ``show_lr=False``, or a number of
        ``ax`` that does not match the panels.
    TypeError
        ``history`` is neither a ``History``, a ``Trainer`` nor a mapping, a curve holds
        something other than numbers (None counts as a missing value, NaN), ``metrics`` is
        neither a name nor a sequence of names, or ``show_lr`` is not a bool.

    Examples
    --------
    >>> history = {"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.6, 0.5]}
    >>> figure = plot_history(history)
    >>> [axes.get_title() for axes in figure.axes]
    ['loss']
    """
    check_optional_path(path)
    require_matplotlib()
    show_lr = None if show_lr is None else check_bool(show_lr, "show_lr")  # None: automatic
    epochs, curves = _curves(history)
    panels = _panels(curves, metrics, show_lr)
    axes = _panel_axes(ax, len(panels), figsize, dpi)
    marker = point_marker(len(epochs))
    for index, (name, panel) in enumerate(zip(panels, axes)):
        colour = f"C{index % 10}"
        style = {"color": colour, "marker": marker, "markersize": 3}
        if name == "lr":
            panel.plot(epochs, curves["lr"], **style, label="learning rate")
            _maybe_log_scale(panel, curves["lr"])
            title = "learning rate"
        else:
            if name in curves:
                panel.plot(epochs, curves[name], **style, label="train")
            if f"val_{name}" in curves:
                panel.plot(epochs, curves[f"val_{name}"], **style, linestyle="--",
                           label="validation")
            title = name
        panel.set_title(title)
        epoch_axis(panel)
        panel.set_ylabel(title)
        panel.grid(True, alpha=0.3)
        if name != "lr":
            panel.legend(loc="best", fontsize="small")
    return finish(root_figure(axes[0]), path, dpi)


def _curves(history: Any) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """``(epochs (n_epochs,), {name: values (n_epochs,)})`` from a History or a mapping."""
    if isinstance(getattr(history, "history", None), History):  # a Trainer
        history = history.history
    if isinstance(history, History):
        data, epochs = history.history, history.epochs
    elif isinstance(history, Mapping):
        data, epochs = history, history.get("epoch")
    else:
        raise TypeError(
            f"history must be a History, a Trainer or a mapping of per-epoch lists, got "
            f"{type(history).__name__}"
        )
    curves = {}
    for key, values in data.items():
        if key == "epoch" or isinstance(values, (str, bytes, bool)) or not isinstance(
            values, (Sequence, np.ndarray)
        ):
            continue  # as_dict()'s "interrupted", "note", ...
        curves[str(key)] = _numbers(values, key)
    if not curves:
        raise ValueError(f"history has no per-epoch values to plot, got keys {list(data)}")
    n_epochs = len(next(iter(curves.values())))
    epochs = np.arange(1, n_epochs + 1) if epochs is None else np.asarray(epochs).reshape(-1)
    for key, values in curves.items():
        if len(values) != len(epochs):
            raise ValueError(
                f"history[{key!r}] has {len(values)} values but there are {len(epochs)} epochs"
            )
    if len(epochs) == 0:
        raise ValueError("history is empty: no epoch was recorded")
    return epochs, curves


def _numbers(values: Any, key: Any) -> np.ndarray:
    """One curve as float64 (n_epochs,): numbers, with None read as NaN (a gap).

    Raises a ``TypeError`` naming the key and the first value that is not a number, and a
    ``ValueError`` naming the key and the shape when the curve is not one-dimensional (a
    nested list would otherwise be read as more epochs than were recorded).
    """
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        items = list(values) if array.ndim == 1 and not isinstance(values, np.ndarray) else (
            array.reshape(-1).tolist())  # as given: asarray turned [0.5, "x"] into strings
        bad = [v for v in items if v is not None and not isinstance(v, numbers.Real)]
        if bad or array.dtype.kind != "O":
            shown = f"{bad[0]!r:.50}" if bad else f"values of dtype {array.dtype}"
            raise TypeError(f"history[{key!r}] must hold one number per epoch, got {shown}")
    if array.ndim != 1:
        raise ValueError(
            f"history[{key!r}] must hold one number per epoch, shape (n_epochs,), got shape "
            f"{array.shape}"
        )
    return array.astype(np.float64)


def _panels(
    curves: Mapping[str, np.ndarray], metrics: Sequence[str] | None, show_lr: bool | None
) -> list[str]:
    """The quantities to draw, one per panel: ``"loss"``, the metrics, maybe ``"lr"``."""
    recorded = [key.removeprefix("val_") for key in curves]
    if metrics is None:
        names = [key for key in dict.fromkeys(recorded) if key not in _NOT_CURVES]
    else:
        if isinstance(metrics, str):
            metrics = [metrics]
        elif not isinstance(metrics, Iterable):
            raise TypeError(
                f"metrics must be a name or a sequence of names, got {metrics!r:.100} "
                f"({type(metrics).__name__})"
            )
        names = list(metrics)
        for name in names:
            if name not in recorded:
                available = sorted(set(recorded) - {"lr", "seconds"})
                raise ValueError(
                    f"metrics names {name!r}, which the history did not record; "
                    f"recorded: {available}"
                )
    panels = (["loss"] if "loss" in recorded else []) + [n for n in names if n != "loss"]
    lr = curves.get("lr")
    if show_lr is None:
        finite = lr[np.isfinite(lr)] if lr is not None else np.empty(0)
        show_lr = finite.size > 0 and finite.min() != finite.max()
    elif show_lr and lr is None:
        raise ValueError("show_lr=True but the history has no 'lr' values")
    elif not show_lr and "lr" in panels:
        raise ValueError("metrics names 'lr' but show_lr=False; leave out one of them")
    if show_lr and "lr" not in panels:  # "lr" in metrics is the panel, where it was named
        panels.append("lr")
    if not panels:
        raise ValueError(f"nothing to plot: the history records only {sorted(curves)}")
    return panels


def _panel_axes(ax: Any, n_panels: int, figsize: Any, dpi: Any) -> list[Any]:
    """One ``Axes`` per panel: from ``ax`` or in a new grid of at most three columns."""
    if ax is not None:
        axes = [ax] if not isinstance(ax, (Sequence, np.ndarray)) else list(np.ravel(ax))
        if len(axes) != n_panels:
            raise ValueError(
                f"ax must give one Axes per panel ({n_panels} here), got {len(axes)}"
            )
        return [check_axes(a, f"ax[{i}]") for i, a in enumerate(axes)]
    return panel_grid(n_panels, (4.2, 3.2), figsize, dpi)


def _maybe_log_scale(ax: Any, values: np.ndarray) -> None:
    """Log y axis for a positive learning rate that spans a factor of 10 or more."""
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() > 0 and finite.max() >= 10 * finite.min():
        ax.set_yscale("log")
