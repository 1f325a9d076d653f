"""Plots of training runs, decision boundaries, confusion matrices and weight histograms.

An optional part of chainrule: it needs matplotlib (``pip install 'chainrule[plot]'``), which
is imported only when a plot is drawn, so ``import chainrule.plots`` itself is cheap and works
without it. Every function draws on a ``matplotlib.figure.Figure`` of its own (never pyplot's
global state, so it is safe on a headless machine and in threads), returns that figure, and
saves it when given a ``path`` (atomically: a failed save leaves an earlier file intact; a
device or named pipe such as ``/dev/stdout`` is written in place, never replaced by a file);
most can also draw into an existing ``Axes`` (``ax=``).

- :func:`plot_history`: loss and metric curves per epoch, training and validation;
- :func:`plot_decision_boundary`: a classifier's predictions over a 2-D plane, with the data;
- :func:`plot_confusion_matrix`: counts or rates of (true, predicted) classes as a heatmap;
- :func:`plot_weight_histograms`: every layer's weights and gradients as histograms;
- :func:`plot_trace`: what a :class:`~chainrule.training.monitor.GradientMonitor` recorded;
- :func:`plot_graph`: the computational graph of a network, arrays labelled with their shapes.
"""

from ._figure import MISSING_MATPLOTLIB
from .boundary import plot_decision_boundary
from .confusion import plot_confusion_matrix
from .curves import plot_history
from .graph import plot_graph
from .histograms import plot_weight_histograms
from .trace import plot_trace

__all__ = [
    "MISSING_MATPLOTLIB",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_graph",
    "plot_history",
    "plot_trace",
    "plot_weight_histograms",
]
