"""Workload 4: epoch time against the GEMM floor as the hidden width and the batch grow."""

from __future__ import annotations

from collections.abc import Callable

from _config import MNIST_BATCH, MNIST_WIDTHS, Settings, scaling_widths
from _data import Dataset
from _gemm_floor import epoch_flops
from _timing import Stats, alternate
from _training import epoch_tasks

#: Rows of the warm-up run of each configuration (a full epoch at width 2048 takes seconds).
WARMUP_ROWS = 4096


def epoch_rows(widths: tuple[int, ...], batch_size: int, available: int, budget: float) -> int:
    """Rows of one configuration's epoch: all ``available`` rows, or fewer (whole batches) so
    that the epoch's products stay within ``budget`` flops (the widest networks would take
    tens of seconds a run; epoch time / floor does not depend on the number of rows)."""
    per_row = epoch_flops(widths, 1)
    rows = int(budget // per_row) // batch_size * batch_size
    return min(available, max(rows, batch_size))


def _configuration(classes: dict[str, type], widths: tuple[int, ...], batch_size: int,
                   data: Dataset, repeats: int, log: Callable[[str], None]) -> dict[str, Stats]:
    """One point of a sweep: every contender and the floor, alternating, warmed up on fewer rows."""
    tasks, _ = epoch_tasks(classes, widths, batch_size, data)
    warmups, _ = epoch_tasks(classes, widths, batch_size,
                             data.head(min(WARMUP_ROWS, data.X.shape[0])))
    log(f"  widths {'-'.join(map(str, widths))}, batch {batch_size}, {data.X.shape[0]} rows")
    return alternate(tasks, repeats, warmups, log=log)


def scaling(classes: dict[str, type], data: Dataset, settings: Settings,
            log: Callable[[str], None]) -> dict:
    """Both sweeps: hidden width h (784-h-h/2-10, batch 128) and batch size (784-256-128-10).

    scikit-learn is left out (it is timed in workload 1; here the question is chainrule's
    distance from the floor, with torch for reference).

    Returns
    -------
    dict
        ``width``: h -> name -> Stats, ``batch``: batch size -> name -> Stats, and
        ``width_rows``, ``batch_rows``: the rows of each point's epoch.
    """
    classes = {name: cls for name, cls in classes.items() if name != "sklearn"}
    points = {"width": [(h, scaling_widths(h), MNIST_BATCH) for h in settings.scaling_hidden],
              "batch": [(b, MNIST_WIDTHS, b) for b in settings.scaling_batches]}
    result: dict = {}
    for sweep, configurations in points.items():
        result[sweep], result[f"{sweep}_rows"] = {}, {}
        for key, widths, batch_size in configurations:
            rows = epoch_rows(widths, batch_size, data.X.shape[0], settings.scaling_flops)
            result[sweep][key] = _configuration(classes, widths, batch_size, data.head(rows),
                                                settings.scaling_repeats, log)
            result[f"{sweep}_rows"][key] = rows
    return result
