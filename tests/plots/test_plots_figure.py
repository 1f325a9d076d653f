"""What every plot shares: lazy matplotlib, no pyplot, saving, argument checks, threads."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure
from matplotlib.image import imread

from chainrule.layers.builders import mlp
from chainrule.plots import (
    MISSING_MATPLOTLIB,
    plot_confusion_matrix,
    plot_decision_boundary,
    plot_graph,
    plot_history,
    plot_trace,
    plot_weight_histograms,
)
from chainrule.plots._figure import check_figsize, new_figure

pytestmark = pytest.mark.filterwarnings("error::UserWarning")

SCRIPT = """
import json, sys
import chainrule
after_chainrule = "matplotlib" in sys.modules
import chainrule.plots
after_plots = "matplotlib" in sys.modules
from chainrule.plots import plot_confusion_matrix
figure = plot_confusion_matrix([0, 1, 1], [0, 1, 0], path=sys.argv[1])
print(json.dumps({
    "after_chainrule": after_chainrule,
    "after_plots": after_plots,
    "after_plot": "matplotlib" in sys.modules,
    "pyplot": "matplotlib.pyplot" in sys.modules,
}))
"""


def test_matplotlib_is_imported_only_when_a_plot_is_drawn_and_pyplot_never(tmp_path):
    out = tmp_path / "cm.png"
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(out)], check=True,
                            capture_output=True, text=True)
    loaded = json.loads(result.stdout)
    assert loaded == {"after_chainrule": False, "after_plots": False, "after_plot": True,
                      "pyplot": False}
    assert out.is_file()


@pytest.mark.parametrize("plot", [plot_history, plot_weight_histograms])
def test_a_missing_matplotlib_gives_an_install_hint(monkeypatch, plot):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` fail
    with pytest.raises(ImportError) as info:
        plot({"loss": [1.0]})
    assert str(info.value) == MISSING_MATPLOTLIB
    assert MISSING_MATPLOTLIB == (
        "chainrule.plots needs matplotlib: pip install 'chainrule[plot]'"
    )


@pytest.mark.parametrize(("figsize", "dpi"), [((4, 3), 50), ((2.5, 2), 40)])
def test_saved_image_is_figsize_times_dpi_pixels(tmp_path, png_size, figsize, dpi):
    path = tmp_path / "cm.png"
    figure = plot_confusion_matrix([0, 1, 2, 1], [0, 1, 1, 1], figsize=figsize, dpi=dpi,
                                   path=path)
    assert isinstance(figure, Figure)
    assert png_size(path) == (round(figsize[0] * dpi), round(figsize[1] * dpi))
    pixels = imread(path)  # decodes the whole file
    assert pixels.shape[:2] == (round(figsize[1] * dpi), round(figsize[0] * dpi))
    assert pixels.std() > 0  # something was drawn


def test_path_may_be_str_or_pathlike_and_a_suffixless_name_is_still_png(tmp_path, png_size):
    plot_history({"loss": [1.0, 0.5]}, path=str(tmp_path / "a.png"), figsize=(3, 2), dpi=20)
    plot_history({"loss": [1.0, 0.5]}, path=tmp_path / "b", figsize=(3, 2), dpi=20)
    assert png_size(tmp_path / "a.png") == png_size(tmp_path / "b") == (60, 40)


def test_a_name_ending_in_a_dot_is_written_under_exactly_that_name(tmp_path, png_size):
    plot_history({"loss": [1.0, 0.5]}, path=tmp_path / "c.", figsize=(3, 2), dpi=20)
    assert [path.name for path in tmp_path.iterdir()] == ["c."]
    assert png_size(tmp_path / "c.") == (60, 40)


@pytest.mark.parametrize("name, magic", [("d.PDF", b"%PDF"), ("e.svg", b"<?xml")])
def test_the_format_follows_the_suffix_in_any_case(tmp_path, name, magic):
    plot_history({"loss": [1.0, 0.5]}, path=tmp_path / name, figsize=(3, 2), dpi=20)
    assert (tmp_path / name).read_bytes().startswith(magic)


def test_a_failed_save_keeps_the_earlier_image_and_names_the_file(tmp_path, monkeypatch):
    import os

    path = tmp_path / "history.png"
    plot_history({"loss": [1.0, 0.5]}, path=path, figsize=(3, 2), dpi=20)
    before = path.read_bytes()

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match=r"No space left on device: '.*history\.png'"):
        plot_history({"loss": [3.0, 2.0, 1.0]}, path=path, figsize=(4, 3), dpi=30)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_no_path_saves_nothing(tmp_path):
    plot_history({"loss": [1.0, 0.5]}, dpi=20)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("path", "error", "message"), [
    (3, TypeError, r"path must be a str, bytes or os.PathLike file path, got 3 \(int\)"),
    ("", ValueError, "path must be a file path, got the empty string"),
])
def test_bad_path_is_refused_before_drawing(path, error, message):
    with pytest.raises(error, match=message):
        plot_history({"loss": [1.0]}, path=path)


@pytest.mark.parametrize(
    ("figsize", "error", "message"),
    [
        ((4, 0), ValueError, r"figsize\[1\] \(height\) must be in \(0, inf\)"),
        ((4,), TypeError, "figsize must be a .width, height. pair"),
        ("4x3", TypeError, "figsize must be a .width, height. pair"),
        ((4, float("nan")), ValueError, "must be finite"),
    ],
)
def test_bad_figsize_is_refused(figsize, error, message):
    with pytest.raises(error, match=message):
        check_figsize(figsize)


NET = mlp([2, 3, 1], output="sigmoid", seed=0)
RECORDS = [{"epoch": 1, "layers": [{"label": "Dense #0", "grad_norm": 0.5}]}]
INSIDE = lambda points: (points[:, 0] > 0).astype(float)  # a model of the plane

#: Every plot's flags and options, each a call taking the value: (call, name, message).
OPTIONS = {
    "confusion colorbar": (lambda v: plot_confusion_matrix([0, 1], [0, 1], colorbar=v),
                           "colorbar", "must be True or False"),
    "graph gradients": (lambda v: plot_graph(NET, gradients=v), "gradients",
                        "must be True or False"),
    "histograms gradients": (lambda v: plot_weight_histograms(NET, gradients=v), "gradients",
                             "must be True or False"),
    "history show_lr": (lambda v: plot_history({"loss": [1.0]}, show_lr=v), "show_lr",
                        "must be True or False"),
    "confusion title": (lambda v: plot_confusion_matrix([0, 1], [0, 1], title=v), "title",
                        "must be a str or None"),
    "boundary title": (lambda v: plot_decision_boundary(INSIDE, [[0, 0], [1, 1]], [0, 1],
                                                        resolution=2, title=v),
                       "title", "must be a str or None"),
    "confusion figsize": (lambda v: plot_confusion_matrix([0, 1], [0, 1], figsize=v),
                          "figsize", "must be a .width, height. pair in inches"),
    "graph figsize": (lambda v: plot_graph(NET, figsize=v), "figsize",
                      "must be a .width, height. pair in inches"),
    "histograms figsize": (lambda v: plot_weight_histograms(NET, figsize=v), "figsize",
                           "must be a .width, height. pair in inches"),
    "history figsize": (lambda v: plot_history({"loss": [1.0]}, figsize=v), "figsize",
                        "must be a .width, height. pair in inches"),
    "trace figsize": (lambda v: plot_trace(RECORDS, figsize=v), "figsize",
                      "must be a .width, height. pair in inches"),
}


@pytest.mark.parametrize("value", [np.array([True, False]), np.array([1.0]), 1],
                         ids=["array", "one-element array", "int"])
@pytest.mark.parametrize("option", OPTIONS.values(), ids=OPTIONS.keys())
def test_an_option_of_the_wrong_type_is_refused_by_name_not_read_by_truthiness(option, value):
    call, name, message = option
    with pytest.raises(TypeError, match=rf"^{name} {message}, got "):
        call(value)


def test_bad_dpi_is_refused():
    with pytest.raises(ValueError, match=r"dpi must be in \(0, inf\), got -5"):
        new_figure((2, 2), dpi=-5)


def test_an_ax_that_is_not_an_axes_is_refused():
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes, got str"):
        plot_confusion_matrix([0, 1], [0, 1], ax="left")


def test_plots_drawn_in_threads_at_the_same_time_are_all_saved(tmp_path, png_size):
    def draw(index: int) -> Figure:
        rng = np.random.default_rng(index)
        return plot_confusion_matrix(rng.integers(0, 3, 40), rng.integers(0, 3, 40),
                                     path=tmp_path / f"{index}.png", figsize=(3, 3), dpi=30)

    with ThreadPoolExecutor(max_workers=4) as pool:
        figures = list(pool.map(draw, range(4)))  # re-raises any error of a thread
    assert len({id(figure) for figure in figures}) == 4
    assert [png_size(tmp_path / f"{i}.png") for i in range(4)] == [(90, 90)] * 4


def test_every_plot_returns_a_figure_that_can_be_drawn(binary_trainer, tmp_path):
    trainer, X, y = binary_trainer
    figures = [
        plot_history(trainer.history, dpi=20),
        plot_decision_boundary(trainer, X, y, resolution=10, dpi=20),
        plot_confusion_matrix(y, trainer.predict(X), dpi=20),
        plot_weight_histograms(trainer, dpi=20),
    ]
    for figure in figures:
        assert isinstance(figure, Figure)
        figure.canvas.draw()  # renders with the Agg canvas attached to the figure
        assert np.asarray(figure.canvas.buffer_rgba()).shape[2] == 4
    assert not any(Path(tmp_path).iterdir())
