"""Histograms of every layer's parameters and of their gradients from the last backward pass.

They show at a glance whether an initialisation has the intended spread (Glorot, He), whether
weights grow without bound, and whether gradients vanish (a spike at 0 in the first layers) or
explode (a wide spread).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._power_of_two import power_of_two_scale
from .._validation import check_bool, check_number, largest_magnitude
from ..layers.sequential import Sequential
from ._figure import check_optional_path, finish, new_figure, require_matplotlib

#: The most bins a histogram takes: far more than a panel has pixels across, and few enough
#: that their edges cost a few hundred kB (2**63 would overflow NumPy's bin arithmetic).
MAX_BINS = 100_000


def plot_weight_histograms(
    net: Any,
    path: Any = None,
    gradients: bool = True,
    *,
    bins: int = 30,
    figsize: Any = None,
    dpi: float | None = None,
) -> Any:
    """Plot per-layer histograms of the parameters and, optionally, of their gradients.

    One row per layer that has parameters (``Dense #0``, ``Dense #2`` ...); the first column
    shows its parameter values, the second (with ``gradients=True``) the gradients left in
    ``layer.grads`` by the last ``backward`` (they are all zero before any). Within a panel
    each parameter (``W``, ``b``) has its own colour over shared bins, and the legend gives its
    shape and standard deviation. Non-finite values are left out and counted in the legend.
    Values beyond about 1e115 (a diverged network) are drawn divided by a power of two, which
    the panel's x label gives (``value (× 8.98847e+307)``); σ is in the values' own units.

    Parameters
    ----------
    net : Sequential or Trainer
        The network, or a trainer whose ``net`` to plot.
    path : str or os.PathLike, optional
        Save the figure there (PNG unless the suffix names another format).
    gradients : bool, default True
        Add the column of gradient histograms.
    bins : int, default 30
        Number of bins of each histogram, in ``[1, 100000]`` (:data:`MAX_BINS`).
    figsize : (float, float), optional
        Inches; default 4.5 wide per column and 2.4 high per layer.
    dpi : float, optional
        Resolution of the figure and of the saved image (default 100).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    TypeError
        ``net`` is neither a ``Sequential`` nor has a ``Sequential`` as ``net``.
    ValueError
        The network has no parameters, or ``bins`` is outside ``[1, 100000]``.

    Examples
    --------
    >>> from chainrule.layers.builders import mlp
    >>> figure = plot_weight_histograms(mlp([2, 8, 1], seed=0))
    >>> [axes.get_title() for axes in figure.axes]
    ['Dense #0: parameters', 'Dense #0: gradients', 'Dense #2: parameters', 'Dense #2: gradients']
    """
    check_optional_path(path)
    require_matplotlib()
    network = getattr(net, "net", net)
    if not isinstance(network, Sequential):
        raise TypeError(
            f"net must be a Sequential network or a Trainer, got {type(net).__name__}"
        )
    bins = check_number(bins, "bins", low=1, high=MAX_BINS, integer=True)
    gradients = check_bool(gradients, "gradients")
    layers = _parameters_by_layer(network)
    if not layers:
        raise ValueError("net has no parameters to plot (only parameter-free layers)")

    columns = [("parameters", 1)] + ([("gradients", 2)] if gradients else [])
    n_rows, n_columns = len(layers), len(columns)
    default = (4.5 * n_columns, 2.4 * n_rows + 0.4)
    figure = new_figure(default if figsize is None else figsize, dpi)
    grid = figure.subplots(n_rows, n_columns, squeeze=False)
    for row, (label, entries) in enumerate(layers):
        for column, (kind, position) in enumerate(columns):
            ax = grid[row, column]
            arrays = [(entry[0], entry[position]) for entry in entries]  # (key, values)
            scale = _histograms(ax, arrays, bins)
            if kind == "gradients" and not any(np.any(array) for _, array in arrays):
                ax.text(0.5, 0.5, "all zero: no backward pass yet?", transform=ax.transAxes,
                        ha="center", va="center", color="0.35")
            ax.set_title(f"{label}: {kind}")
            ax.set_ylabel("count")
            if scale != 1.0:  # diverged values, drawn divided by a power of two
                ax.set_xlabel(f"value (× {scale:.6g})")
            elif row == n_rows - 1:
                ax.set_xlabel("value")
    return finish(figure, path, dpi)


def _parameters_by_layer(
    net: Sequential,
) -> list[tuple[str, list[tuple[str, np.ndarray, np.ndarray]]]]:
    """``[(layer label, [(key, param, grad), ...]), ...]`` for the layers with parameters.

    In layer order, and within a layer in the order of its ``parameter_specs`` (``W``, ``b``):
    the order of :meth:`~chainrule.layers.sequential.Sequential.named_parameters`.
    """
    return [
        (layer.label, [(s.name, layer.params[s.name], layer.grads[s.name]) for s in specs])
        for layer in net.layers
        if (specs := layer.parameter_specs())
    ]


def _histograms(ax: Any, arrays: list[tuple[str, np.ndarray]], bins: int) -> float:
    """Overlaid histograms of ``arrays`` over shared bin edges, with a legend; returns the
    scale of the x axis (1.0: the values themselves).

    Weights of a diverged network may lie near the float64 limit (1.8e308), where their
    squares overflow, and so do their range and matplotlib's axis limits: values above about
    1e115 (``power_of_two_scale``) are drawn divided by the power of two just above the largest
    (exactly; 2**1023 at most), which keeps them in (−1, 1), or (−2, 2) from 2**1023 on, and σ
    is computed from them, then scaled back.
    """
    finite = [array[np.isfinite(array)].astype(np.float64).ravel() for _, array in arrays]
    scale = power_of_two_scale(max(map(largest_magnitude, finite)), np.float64)
    values = np.concatenate(finite) / scale
    edges = np.histogram_bin_edges(values if values.size else np.zeros(1), bins=bins)
    for index, ((name, array), kept) in enumerate(zip(arrays, finite)):
        shape = "×".join(str(d) for d in array.shape)
        kept = kept / scale
        spread = f"σ={kept.std() * scale:.3g}" if kept.size else "no finite value"
        dropped = array.size - kept.size
        note = f", {dropped} non-finite" if dropped else ""
        ax.hist(kept, bins=edges, color=f"C{index}", alpha=0.6 if index == 0 else 0.8,
                histtype="stepfilled" if index == 0 else "step", linewidth=1.5,
                label=f"{name} ({shape}), {spread}{note}")
    ax.legend(loc="best", fontsize="x-small")
    ax.grid(True, alpha=0.3)
    return scale
