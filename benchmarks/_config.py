"""The workloads' fixed shapes (from issue 4) and the two run sizes, full and ``--quick``.

Everything a reader needs to reproduce a number is a constant here; ``run.py`` copies the
settings it used into ``results.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

#: Workload 1 (and 3, 5): the MNIST-shaped MLP, (in_features, hidden, hidden, n_classes).
MNIST_WIDTHS = (784, 256, 128, 10)
MNIST_BATCH = 128
MNIST_ROWS = 60_000

#: Workload 2: the small network, (in_features, hidden, hidden, 1) with binary cross-entropy.
SMALL_WIDTHS = (2, 16, 16, 1)
SMALL_BATCH = 32
SMALL_ROWS = 1_000

#: Workload 3: the batch of the throughput measurement.
INFERENCE_BATCH = 1024

#: Adam with every library's defaults otherwise (beta1 0.9, beta2 0.999, eps 1e-8, no decay).
LEARNING_RATE = 1e-3

#: One seed for data, initial weights and shuffling everywhere.
SEED = 0

#: Team goal beyond issue 4: chainrule's epoch time at most this many times the GEMM floor's.
FLOOR_GOAL = 1.3


def scaling_widths(hidden: int) -> tuple[int, int, int, int]:
    """Workload 4's network for a hidden width h: 784-h-h/2-10 (h = 256 is workload 1's)."""
    return (MNIST_WIDTHS[0], hidden, max(hidden // 2, 1), MNIST_WIDTHS[-1])


@dataclass(frozen=True)
class Settings:
    """How much of each workload one run does.

    Attributes
    ----------
    name : {"full", "quick"}
    train_rows : int
        Rows of the MNIST-shaped training set in workload 1 (60000 in the full run).
    train_repeats : int
        Timed alternating runs of workload 1, after one warm-up run per contender.
    small_epochs : int
        Epochs of workload 2 inside one timed run (one epoch is only 32 steps).
    small_repeats : int
    latency_calls, throughput_calls : int
        Forward passes inside one timed run of workload 3 (single sample, batch 1024).
    inference_repeats : int
    scaling_rows : int
        Rows of the training set of workload 4 (at most).
    scaling_flops : float
        Flops of one epoch's products at most, in workload 4: wide networks train on fewer
        rows (whole batches) so that one run of the widest takes seconds, not tens.
    scaling_hidden : tuple of int
        Hidden widths h of the width sweep (network 784-h-h/2-10, batch 128).
    scaling_batches : tuple of int
        Batch sizes of the batch sweep (network 784-256-128-10).
    scaling_repeats : int
    memory_rows : int
        Rows of the training set of workload 5.
    """

    name: str
    train_rows: int
    train_repeats: int
    small_epochs: int
    small_repeats: int
    latency_calls: int
    throughput_calls: int
    inference_repeats: int
    scaling_rows: int
    scaling_flops: float
    scaling_hidden: tuple[int, ...]
    scaling_batches: tuple[int, ...]
    scaling_repeats: int
    memory_rows: int

    def as_dict(self) -> dict:
        return asdict(self)


FULL = Settings(
    name="full",
    train_rows=MNIST_ROWS,
    train_repeats=7,
    small_epochs=20,
    small_repeats=7,
    latency_calls=2000,
    throughput_calls=40,
    inference_repeats=7,
    scaling_rows=MNIST_ROWS,
    scaling_flops=2.5e11,
    scaling_hidden=(64, 128, 256, 512, 1024, 2048),
    scaling_batches=(32, 64, 128, 256, 512, 1024),
    scaling_repeats=3,
    memory_rows=MNIST_ROWS,
)

QUICK = Settings(
    name="quick",
    train_rows=20_000,
    train_repeats=3,
    small_epochs=5,
    small_repeats=3,
    latency_calls=300,
    throughput_calls=10,
    inference_repeats=3,
    scaling_rows=6_000,
    scaling_flops=1e10,
    scaling_hidden=(64, 256, 1024),
    scaling_batches=(32, 128, 512),
    scaling_repeats=2,
    memory_rows=20_000,
)
