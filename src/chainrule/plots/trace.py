"""The training trace of a :class:`~chainrule.training.monitor.GradientMonitor`, per layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..training.monitor import series
from ._figure import (
    check_optional_path,
    epoch_axis,
    finish,
    panel_grid,
    point_marker,
    require_matplotlib,
)

#: (record key, panel title, log scale) of each panel, in order.
_PANELS = (
    ("grad_norm", "gradient norm ‖∂J/∂W‖", True),
    ("update_ratio", "update / weight ‖ΔW‖ / ‖W‖", True),
    ("activation_norm", "activation RMS norm", True),
    ("dead_fraction", "dead ReLU units (fraction)", False),
    ("saturated_fraction", "saturated sigmoid/tanh outputs (fraction)", False),
)

#: The usual target of the update/weight ratio, drawn as a reference line.
_GOOD_UPDATE_RATIO = 1e-3


def plot_trace(
    monitor_or_records: Any,
    path: Any = None,
    *,
    figsize: Any = None,
    dpi: float | None = None,
) -> Any:
    """Plot a monitor's per-layer trace: one panel per quantity, one line per layer.

    Panels: the gradient norm and the update/weight ratio of each layer with parameters (log
    scale; a dotted line marks the usual 1e-3 ratio), the activation norm of every layer
    (log scale), and, when the network has such layers, the fraction of dead ReLU units and
    of saturated sigmoid/tanh outputs. Epochs where the monitor raised an alert (vanishing or
    exploding gradients) are marked with a vertical line on every panel.

    Parameters
    ----------
    monitor_or_records : GradientMonitor, list of dict, or mapping
        The monitor, its ``records`` (one dict per epoch), or ``{"records": ..., "alerts":
        ...}`` (e.g. read back from JSON).
    path : str or os.PathLike, optional
        Save the figure there (PNG unless the suffix names another format).
    figsize : (float, float), optional
        Inches; default 4.4 × 3.2 per panel, three panels per row.
    dpi : float, optional
        Resolution of the figure and of the saved image (default 100).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        No epoch was recorded, the records hold no per-layer quantity to plot, a mapping has
        no ``"records"``, or a record (alert) lacks a key: ``"epoch"`` and ``"layers"``
        (``"epoch"`` and ``"kind"``); the message gives the entry's index.
    TypeError
        ``monitor_or_records`` is none of the accepted kinds, or its records or alerts are not
        lists of dicts.
    """
    check_optional_path(path)
    require_matplotlib()
    records, alerts = _records(monitor_or_records)
    epochs = np.array([record["epoch"] for record in records])
    panels = [
        (key, title, log, lines)
        for key, title, log in _PANELS
        if (lines := series(records, key))  # {layer label: values (n_epochs,)}
    ]
    if not panels:
        raise ValueError(
            "nothing to plot: the records hold none of the per-layer quantities "
            f"{[key for key, *_ in _PANELS]} (records from a network without Dense layers?)"
        )
    axes = panel_grid(len(panels), (4.4, 3.2), figsize, dpi)
    marker = point_marker(len(epochs))
    for position, (ax, (key, title, log, lines)) in enumerate(zip(axes, panels)):
        for label, values in lines.items():
            values = np.asarray(values, dtype=np.float64)
            if log:
                values = np.where(values > 0, values, np.nan)  # log scale: no zeros
            ax.plot(epochs, values, marker=marker, markersize=3, label=label)
        if log and _has_positive(ax):
            ax.set_yscale("log")
        if key == "update_ratio":
            ax.axhline(_GOOD_UPDATE_RATIO, color="grey", linestyle=":", linewidth=1)
        if not log:
            ax.set_ylim(-0.05, 1.05)
        for alert in alerts:
            ax.axvline(alert["epoch"], color="red", alpha=0.5, linewidth=1)
            if position == 0:
                ax.annotate(alert["kind"], (alert["epoch"], 1.0),
                            xycoords=("data", "axes fraction"), color="red", fontsize="small",
                            rotation=90, va="top", ha="right")
        ax.set_title(title)
        epoch_axis(ax)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", fontsize="x-small")
    return finish(axes[0].figure, path, dpi)


def _records(source: Any) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """``(records, alerts)`` from a monitor, a list of records or a mapping of both.

    Records read back from JSON may be damaged or of another kind, so each is checked to be a
    dict with ``"epoch"`` and ``"layers"`` (dicts with a ``"label"``), and each alert a dict
    with ``"epoch"`` and ``"kind"``: errors name ``monitor_or_records``, the entry and the key.
    """
    if hasattr(source, "records") and hasattr(source, "alerts"):
        records, alerts = source.records, source.alerts
    elif isinstance(source, Mapping):
        if "records" not in source:
            raise ValueError(
                "monitor_or_records is a mapping without 'records' (its keys: "
                f"{sorted(map(str, source))[:10]}); expected {{'records': [...], 'alerts': [...]}}"
            )
        records, alerts = source["records"], source.get("alerts") or []
    elif isinstance(source, Sequence) and not isinstance(source, (str, bytes)):
        records, alerts = source, []
    else:
        raise TypeError(
            "monitor_or_records must be a GradientMonitor, its records (a list of dicts) or a "
            f"mapping with 'records', got {type(source).__name__}"
        )
    records = _entries(records, "record", ("epoch", "layers"))
    if not records:
        raise ValueError("nothing to plot: the monitor recorded no epoch (call fit first)")
    for index, record in enumerate(records):
        _entries(record["layers"], f"record {index}, layer", ("label",))
    return records, _entries(alerts, "alert", ("epoch", "kind"))


def _entries(entries: Any, what: str, keys: tuple[str, ...]) -> list[Mapping[str, Any]]:
    """``entries`` as a list of dicts that each hold ``keys``; a ``TypeError`` or ``ValueError``
    naming ``monitor_or_records``, ``what`` (``"record"``, ``"alert"``), the index and the key."""
    if isinstance(entries, (str, bytes, Mapping)) or not isinstance(entries, Sequence):
        raise TypeError(
            f"monitor_or_records: {what}s must be a list of dicts, got {type(entries).__name__}"
        )
    for index, entry in enumerate(entries):
        if not isinstance(entry, Mapping):
            raise TypeError(
                f"monitor_or_records: {what} {index} must be a dict, got {entry!r:.50} "
                f"({type(entry).__name__})"
            )
        missing = [key for key in keys if key not in entry]
        if missing:
            raise ValueError(
                f"monitor_or_records: {what} {index} has no {missing[0]!r} (its keys: "
                f"{sorted(map(str, entry))})"
            )
    return list(entries)


def _has_positive(ax: Any) -> bool:
    """Whether any line of ``ax`` has a finite positive value (needed for a log axis)."""
    for line in ax.get_lines():
        values = np.asarray(line.get_ydata(), dtype=np.float64)
        if np.any(np.isfinite(values) & (values > 0)):
            return True
    return False
