"""Workloads 1 and 2: training time of the MNIST-shaped MLP and of the small network."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from _chainrule_mlp import hand_loop_epochs
from _config import MNIST_BATCH, MNIST_WIDTHS, SEED, SMALL_BATCH, SMALL_WIDTHS, Settings
from _contenders import n_steps, training_task
from _data import Dataset
from _gemm_floor import GemmFloor
from _report import FLOOR
from _timing import Task, alternate

#: Rows on which the trained models' loss is computed (untimed; a sanity check, not a score).
SANITY_ROWS = 10_000


def epoch_tasks(classes: dict[str, type], widths: Sequence[int], batch_size: int, data: Dataset,
                trained: dict[str, object] | None = None) -> tuple[dict[str, Task], GemmFloor]:
    """One training epoch on ``data`` per contender, and the same epoch's GEMM floor.

    Returns
    -------
    tasks : dict
        name -> Task for :func:`_timing.alternate`, the floor under :data:`_report.FLOOR` last.
    floor : GemmFloor
        The floor itself (for its flop count).
    """
    tasks = {name: training_task(cls, widths, "multiclass", batch_size, data, 1, trained)
             for name, cls in classes.items()}
    floor = GemmFloor(widths, data.X.shape[0], batch_size, seed=SEED)
    tasks[FLOOR] = floor.run
    return tasks, floor


def mnist_epoch(classes: dict[str, type], data: Dataset, settings: Settings,
                log: Callable[[str], None]) -> dict:
    """Workload 1: one epoch of 784-256-128-10, Adam, batch 128, each contender and the floor.

    Returns
    -------
    dict
        ``stats`` (name -> Stats of seconds per epoch, with "GEMM floor"), ``loss`` (name ->
        log-loss of the trained model on the first ``sanity_rows`` rows), ``floor_gflops``,
        ``rows``, ``sanity_rows``.
    """
    trained: dict[str, object] = {}
    tasks, floor = epoch_tasks(classes, MNIST_WIDTHS, MNIST_BATCH, data, trained)
    stats = alternate(tasks, settings.train_repeats, log=log)
    head = data.head(min(SANITY_ROWS, data.X.shape[0]))
    from chainrule.training import log_loss

    losses = {name: log_loss(head.y, model.predict_proba(head.X), eps=1e-12)
              for name, model in trained.items()}
    return {"stats": stats, "loss": losses, "rows": data.X.shape[0],
            "sanity_rows": head.X.shape[0],
            "floor_gflops": floor.flops / stats[FLOOR].median / 1e9}


def small_network(classes: dict[str, type], data: Dataset, settings: Settings,
                  log: Callable[[str], None]) -> dict:
    """Workload 2: 2-16-16-1, binary cross-entropy, Adam, batch 32; seconds per optimizer step.

    Each timed run trains ``settings.small_epochs`` epochs of 1000 rows (32 steps each) and is
    divided by the number of steps. chainrule is also timed in a hand-written loop (batches +
    Objective + Adam.step) to show the Trainer's own overhead.
    """
    epochs = settings.small_epochs
    tasks = {name: training_task(cls, SMALL_WIDTHS, "binary", SMALL_BATCH, data, epochs)
             for name, cls in classes.items()}
    tasks["chainrule (hand loop)"] = hand_loop_epochs(SMALL_WIDTHS, data.X, data.y, SMALL_BATCH,
                                                      epochs, SEED)
    per_epoch = n_steps(data.X.shape[0], SMALL_BATCH)
    steps = epochs * per_epoch
    stats = alternate(tasks, settings.small_repeats, log=log)
    return {"stats": {name: s.scaled(1.0 / steps) for name, s in stats.items()},
            "steps_per_epoch": per_epoch, "steps_per_run": steps}
