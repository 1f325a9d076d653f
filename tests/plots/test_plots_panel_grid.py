"""``panel_grid`` and ``point_marker``: the panel layout and markers shared by the line plots."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from chainrule.plots._figure import MARKER_POINTS, panel_grid, point_marker


@pytest.mark.parametrize(
    ("n_panels", "shape"), [(1, (1, 1)), (2, (1, 2)), (3, (1, 3)), (4, (2, 3)), (7, (3, 3))]
)
def test_at_most_three_columns_filled_row_by_row(n_panels, shape):
    axes = panel_grid(n_panels, (4.0, 3.0), dpi=50)
    assert len(axes) == n_panels
    figure = axes[0].figure
    assert all(ax.figure is figure for ax in axes) and len(figure.axes) == n_panels
    n_rows, n_columns = shape
    specs = [ax.get_subplotspec() for ax in axes]
    assert all(spec.get_gridspec().get_geometry() == shape for spec in specs)
    assert [(spec.rowspan.start, spec.colspan.start) for spec in specs] == [
        divmod(i, n_columns) for i in range(n_panels)]
    assert tuple(figure.get_size_inches()) == (4.0 * n_columns, 3.0 * n_rows)
    assert figure.get_dpi() == 50


def test_an_explicit_figsize_wins_over_the_panel_size():
    figure = panel_grid(5, (4.0, 3.0), figsize=(6, 2))[0].figure
    assert tuple(figure.get_size_inches()) == (6.0, 2.0)


def test_markers_only_for_few_points():
    assert point_marker(1) == "o" and point_marker(MARKER_POINTS) == "o"
    assert point_marker(MARKER_POINTS + 1) is None
