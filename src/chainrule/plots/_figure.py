"""Figures without pyplot: creating them, checking the common arguments, saving them.

Every plot is drawn on a ``matplotlib.figure.Figure`` created directly and given its own
``FigureCanvasAgg``. Nothing touches pyplot's global state (the "current figure", the
interactive backend), so plotting works on a headless server, inside a thread, and never pops
up a window or leaks figures that pyplot would keep alive.

matplotlib is imported here, inside functions, so that ``import chainrule`` (and even
``import chainrule.plots``) never imports it; a missing matplotlib surfaces as an
``ImportError`` that says how to install it, on the first call that needs it.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from typing import Any

from .._atomic import write_atomically
from .._validation import check_number, check_path

#: The message of the ``ImportError`` raised when matplotlib is not installed.
MISSING_MATPLOTLIB = "chainrule.plots needs matplotlib: pip install 'chainrule[plot]'"

#: Resolution of the figures made here when ``dpi`` is not given (pixels per inch).
DEFAULT_DPI = 100

#: Panels per row of a grid made by :func:`panel_grid`.
MAX_COLUMNS = 3

#: Lines with at most this many points get a marker at every point (see :func:`point_marker`).
MARKER_POINTS = 30


def require_matplotlib() -> Any:
    """Import and return the ``matplotlib`` module, or raise a helpful ``ImportError``."""
    try:
        # The parent package first: a submodule already in sys.modules would otherwise be
        # found even when the package itself has been made unavailable.
        import matplotlib
        import matplotlib.axes
        import matplotlib.backends.backend_agg
        import matplotlib.figure
    except ImportError as exc:
        raise ImportError(MISSING_MATPLOTLIB, name="matplotlib") from exc
    return matplotlib


def check_figsize(figsize: Any, name: str = "figsize") -> tuple[float, float]:
    """``(width, height)`` in inches, both positive and finite."""
    if isinstance(figsize, (str, bytes)) or not isinstance(figsize, Sequence) or len(figsize) != 2:
        raise TypeError(f"{name} must be a (width, height) pair in inches, got {figsize!r}")
    width = check_number(figsize[0], f"{name}[0] (width)", low=0, low_open=True)
    height = check_number(figsize[1], f"{name}[1] (height)", low=0, low_open=True)
    return width, height


def check_title(title: Any, name: str = "title") -> str | None:
    """``None`` (no title) or a ``str``; anything else is a ``TypeError`` naming ``name``
    rather than being read by its truthiness (an array's is an error of its own)."""
    if title is None or isinstance(title, str):
        return title
    raise TypeError(f"{name} must be a str or None, got {title!r:.100} ({type(title).__name__})")


def check_dpi(dpi: Any) -> float | None:
    """``None`` (keep the figure's own resolution) or a positive number of pixels per inch."""
    return None if dpi is None else check_number(dpi, "dpi", low=0, low_open=True)


def check_optional_path(path: Any) -> str | None:
    """``None`` (do not save) or a file path (see :func:`chainrule._validation.check_path`)."""
    return None if path is None else check_path(path)


def new_figure(figsize: Any, dpi: Any = None) -> Any:
    """A ``Figure`` of ``figsize`` inches at ``dpi`` (default 100), on its own Agg canvas.

    The figure uses matplotlib's constrained layout, so titles, labels and colour bars never
    overlap. Its pixel size is ``figsize × dpi``, and :func:`finish` saves it at that size.
    """
    matplotlib = require_matplotlib()
    figsize = check_figsize(figsize)
    dpi = check_dpi(dpi)
    figure = matplotlib.figure.Figure(
        figsize=figsize, dpi=DEFAULT_DPI if dpi is None else dpi, layout="constrained"
    )
    matplotlib.backends.backend_agg.FigureCanvasAgg(figure)
    return figure


def check_axes(ax: Any, name: str = "ax") -> Any:
    """``ax`` is a matplotlib ``Axes``; returns it."""
    matplotlib = require_matplotlib()
    if not isinstance(ax, matplotlib.axes.Axes):
        raise TypeError(f"{name} must be a matplotlib Axes, got {type(ax).__name__}")
    return ax


def root_figure(ax: Any) -> Any:
    """The top-level ``Figure`` that holds ``ax`` (also when ``ax`` sits in a sub-figure)."""
    figure = ax.figure
    return getattr(figure, "figure", None) or figure


def panel_grid(
    n_panels: int, panel_size: tuple[float, float], figsize: Any = None, dpi: Any = None
) -> list[Any]:
    """``n_panels`` Axes of a new figure, row by row in a grid of at most three columns.

    With n_columns = min(n_panels, 3) and n_rows = ⌈n_panels / n_columns⌉, the figure is
    ``figsize`` inches, by default ``panel_size`` (width, height) times (n_columns, n_rows).
    """
    n_columns = min(n_panels, MAX_COLUMNS)
    n_rows = math.ceil(n_panels / n_columns)
    width, height = panel_size
    default = (width * n_columns, height * n_rows)
    figure = new_figure(default if figsize is None else figsize, dpi)
    return [figure.add_subplot(n_rows, n_columns, i + 1) for i in range(n_panels)]


def epoch_axis(ax: Any) -> None:
    """Label the x axis of ``ax`` "epoch" and put its ticks at whole epochs only (never 1.5)."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def point_marker(n_points: int) -> str | None:
    """The marker of a line of ``n_points``: a dot when they are few enough to tell apart."""
    return "o" if n_points <= MARKER_POINTS else None


def figure_and_axes(ax: Any, figsize: Any, dpi: Any = None) -> tuple[Any, Any]:
    """``(figure, axes)`` to draw on: a new single-panel figure, or ``ax`` and its figure."""
    if ax is None:
        figure = new_figure(figsize, dpi)
        return figure, figure.add_subplot()
    check_axes(ax)
    return root_figure(ax), ax


def finish(figure: Any, path: Any, dpi: Any = None) -> Any:
    """Save ``figure`` to ``path`` when one is given, and return the figure.

    The format follows the file's suffix; a name without suffix gets a PNG, written under exactly
    that name. ``dpi=None`` keeps the figure's own resolution, so the image is ``figsize × dpi``
    pixels. No tight bounding box is used: the saved image has exactly the figure's size.
    """
    path = check_optional_path(path)
    if path is not None:
        dpi = check_dpi(dpi)
        # Drawn in memory, then written atomically: a failed save leaves an earlier file intact.
        image = io.BytesIO()
        figure.savefig(image, dpi="figure" if dpi is None else dpi, format=image_format(path))
        write_atomically(path, image.getvalue())
    return figure


def image_format(path: str) -> str:
    """The image format ``path``'s suffix names (``"pdf"`` for ``plot.PDF``), or ``"png"`` for
    a name without one (``"history"``, ``"history."``)."""
    return os.path.splitext(path)[1][1:].lower() or "png"
