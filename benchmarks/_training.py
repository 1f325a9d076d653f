"""Workloads 1 and 2: training time of the MNIST-shaped MLP and of the small network."""

from __future__ import annotations

from collections.abc import Callable

from _chainrule_mlp import hand_loop_epochs
from _config import MNIST_BATCH, MNIST_WIDTHS, SEED, SMALL_BATCH, SMALL_WIDTHS, Settings
from _contenders import log_loss, n_steps, training_task
from _data import Dataset
from _gemm_floor import GemmFloor
from _timing import alternate

#: Rows on which the trained models' loss is computed (untimed; a sanity check, not a score).
SANITY_ROWS = 10_000


def mnist_epoch(classes: dict[str, type], data: Dataset, settings: Settings,
                log: Callable[[str], None]) -> dict:
    """Workload 1: one epoch of 784-256-128-10, Adam, batch 128, each contender and the floor.

    Returns
    -------
    dict
        ``stats`` (name -> Stats of seconds per epoch, with "GEMM floor"), ``loss`` (name ->
        log-loss of the trained model on the first rows), ``floor_gflops``, ``rows``.
    """
    trained: dict[str, object] = {}
    tasks = {name: training_task(cls, MNIST_WIDTHS, "multiclass", MNIST_BATCH, data, 1, trained)
             for name, cls in classes.items()}
    floor = GemmFloor(MNIST_WIDTHS, data.X.shape[0], MNIST_BATCH, seed=SEED)
    tasks["GEMM floor"] = floor.run
    stats = alternate(tasks, settings.train_repeats, log=log)
    head = data.head(min(SANITY_ROWS, data.X.shape[0]))
    losses = {name: log_loss(model.predict_proba(head.X), head.y) for name, model in trained.items()}
    return {"stats": stats, "loss": losses, "rows": data.X.shape[0],
            "floor_gflops": floor.flops / stats["GEMM floor"].median / 1e9}


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
    steps = epochs * n_steps(data.X.shape[0], SMALL_BATCH)
    stats = alternate(tasks, settings.small_repeats, log=log)
    return {"stats": {name: s.scaled(1.0 / steps) for name, s in stats.items()},
            "steps_per_run": steps}
