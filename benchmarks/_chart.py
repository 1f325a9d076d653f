"""results.png: workload 1 and 2 times as bars, and the scaling sweeps as ratios to the floor."""

from __future__ import annotations

from pathlib import Path

from _config import FLOOR_GOAL, MNIST_BATCH
from _report import FLOOR, MNIST_NET, SCALING_NET, SMALL_NET
from _timing import Stats

COLOURS = {"chainrule": "#1f77b4", "torch": "#ee4c2c", "sklearn": "#f7931e",
           FLOOR: "#7f7f7f", "chainrule (hand loop)": "#9ecae1"}


def _bars(axis, stats: dict[str, Stats], scale: float, unit: str, title: str) -> None:
    names = list(stats)
    medians = [stats[n].median * scale for n in names]
    errors = [[(stats[n].median - stats[n].low) * scale for n in names],
              [(stats[n].high - stats[n].median) * scale for n in names]]
    bars = axis.bar(range(len(names)), medians, yerr=errors, capsize=3,
                    color=[COLOURS.get(n, "#aaaaaa") for n in names])
    axis.bar_label(bars, labels=[f"{m:.3g}" for m in medians], padding=2, fontsize=8)
    axis.set_xticks(range(len(names)), names, rotation=15, fontsize=8)
    if max(medians) > 20 * min(medians):  # one slow contender would flatten the others
        axis.set_yscale("log")
        unit += " (log scale)"
    axis.set_ylabel(unit)
    axis.set_title(title, fontsize=10)
    axis.margins(y=0.15)


def _sweep(axis, points: dict[int, dict[str, Stats]], xlabel: str, title: str) -> None:
    keys = list(points)
    names = [n for n in points[keys[0]] if n != FLOOR]
    for name in names:
        ratios = [points[k][name].median / points[k][FLOOR].median for k in keys]
        axis.plot(keys, ratios, marker="o", label=name, color=COLOURS.get(name))
    axis.axhline(1.0, color=COLOURS[FLOOR], linewidth=1, label=FLOOR)
    axis.axhline(FLOOR_GOAL, color=COLOURS[FLOOR], linewidth=1, linestyle="--",
                 label=f"goal {FLOOR_GOAL:g}×")
    axis.set_xscale("log", base=2)
    axis.set_xticks(keys, [str(k) for k in keys])
    axis.set_xlabel(xlabel)
    axis.set_ylabel(f"epoch time / {FLOOR}")
    axis.set_ylim(bottom=0)
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8)


def draw(results: dict, path: Path) -> None:
    """Write the chart of whatever workloads ``results`` holds (2 × 2 panels at most)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    if "mnist" in results:
        panels.append(lambda ax: _bars(ax, results["mnist"]["stats"], 1.0, "seconds per epoch",
                                       "1. MNIST MLP, one epoch (median, min–max)"))
    if "small" in results:
        panels.append(lambda ax: _bars(ax, results["small"]["stats"], 1e6, "µs per step",
                                       f"2. {SMALL_NET} network, per step"))
    if "scaling" in results:
        panels.append(lambda ax: _sweep(ax, results["scaling"]["width"], "hidden width h "
                                        f"({SCALING_NET}, batch {MNIST_BATCH})",
                                        "4. width vs floor"))
        panels.append(lambda ax: _sweep(ax, results["scaling"]["batch"],
                                        f"batch size ({MNIST_NET})", "4. batch vs floor"))
    if not panels:
        return
    columns = min(2, len(panels))
    rows = -(-len(panels) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(6 * columns, 4.2 * rows), squeeze=False)
    for panel, axis in zip(panels, axes.flat):
        panel(axis)
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    figure.suptitle("chainrule vs PyTorch vs scikit-learn (float32, CPU)", fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
