"""Where workload 1's epoch goes: each phase of the training step timed in the loop and alone.

The loop is the Trainer's step written out layer by layer (the public layer contract: each
layer's ``forward(X, training=True)`` and ``backward(dY)``, the first Dense layer without
``dX``), on the same network, data and Adam as ``run.py``'s workload 1, with one
``time.perf_counter`` pair around each phase:

    gather          the next shuffled minibatch (128 × 784 rows copied from the training set)
    <layer> fwd     one layer's forward
    loss            the fused softmax cross-entropy: its value and its gradient at the logits
    <layer> bwd     one layer's backward
    Adam            the optimizer step over all 235 k parameters

Beside the loop, in turn with it, three pieces run alone: an epoch of gathers with nothing
between them, an epoch of Adam steps back to back, and the epoch's matrix products on
preallocated arrays (``run.py``'s GEMM floor). A phase that takes longer in the loop than
alone pays for what the other phases left in the caches. The timers themselves cost well under
a microsecond a phase; "rest" is the epoch's time outside every phase (the loop, the timers).

Run::

    python benchmarks/step_phases.py [--rounds 5]

It prints a Markdown table of medians over the rounds (milliseconds per epoch).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the helper modules beside this file
    sys.path.insert(0, str(HERE))

import numpy as np
from _chainrule_mlp import ChainruleMLP
from _config import LEARNING_RATE, MNIST_BATCH, MNIST_ROWS, MNIST_WIDTHS, SEED
from _data import mnist_like
from _gemm_floor import GemmFloor

import chainrule as cr

GATHER, LOSS, ADAM, REST = "gather", "loss", "Adam", "rest"


def loop_epoch(objective: cr.Objective, optimizer: cr.Adam, X: np.ndarray, targets: np.ndarray,
               rng: np.random.Generator) -> dict[str, float]:
    """Seconds of each phase in one training epoch, and the whole epoch under ``"epoch"``."""
    net, loss = objective.net, objective.head_loss
    layers = net.layers[: objective.head_stop]
    first_dense = next(i for i, layer in enumerate(layers) if layer.params)
    names = [f"{i} {type(layer).__name__}" for i, layer in enumerate(layers)]
    forward_keys, backward_keys = [f"{n} fwd" for n in names], [f"{n} bwd" for n in names]
    seconds: dict[str, float] = defaultdict(float)
    clock = time.perf_counter
    started = clock()
    with net.reusing_buffers():
        stream = iter(cr.batches(X, targets, MNIST_BATCH, shuffle=True, seed=rng,
                                 reuse_buffers=True))
        while True:
            t = clock()
            batch = next(stream, None)
            seconds[GATHER] += clock() - t
            if batch is None:
                break
            A, yb = batch
            for key, layer in zip(forward_keys, layers):
                t = clock()
                A = layer.forward(A, True)
                seconds[key] += clock() - t
            t = clock()
            loss.evaluate(A, yb)
            dA = loss.backward()
            seconds[LOSS] += clock() - t
            for index in range(len(layers) - 1, first_dense - 1, -1):
                t = clock()
                if index == first_dense:
                    layers[index].backward(dA, input_grad=False)
                else:
                    dA = layers[index].backward(dA)
                seconds[backward_keys[index]] += clock() - t
            t = clock()
            optimizer.step()
            seconds[ADAM] += clock() - t
    seconds["epoch"] = clock() - started
    seconds[REST] = seconds["epoch"] - sum(v for k, v in seconds.items() if k != "epoch")
    return seconds


def gather_alone(X: np.ndarray, targets: np.ndarray, rng: np.random.Generator) -> float:
    """Seconds of one epoch of minibatch gathers with nothing between them."""
    started = time.perf_counter()
    for _ in cr.batches(X, targets, MNIST_BATCH, shuffle=True, seed=rng, reuse_buffers=True):
        pass
    return time.perf_counter() - started


def adam_alone(optimizer: cr.Adam, steps: int) -> float:
    """Seconds of ``steps`` Adam steps back to back (on the last gradients of the loop)."""
    started = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5,
                        help="rounds of (loop epoch, gathers alone, Adam alone, floor); "
                        "medians over them (default 5)")
    args = parser.parse_args(argv)
    data = mnist_like(MNIST_ROWS)
    net = ChainruleMLP(MNIST_WIDTHS, "multiclass", MNIST_BATCH, SEED).net  # workload 1's
    objective = cr.Objective(net, "cross_entropy")
    optimizer = cr.Adam(lr=LEARNING_RATE).bind_network(net)
    targets = objective.prepare_targets(data.y)
    floor = GemmFloor(MNIST_WIDTHS, data.X.shape[0], MNIST_BATCH, seed=SEED)
    steps = -(-data.X.shape[0] // MNIST_BATCH)
    rng = np.random.default_rng(SEED)
    loop_epoch(objective, optimizer, data.X, targets, rng)  # warm-up: pages, BLAS threads
    loop: dict[str, list[float]] = defaultdict(list)
    alone: dict[str, list[float]] = defaultdict(list)
    for round_ in range(1, args.rounds + 1):
        for phase, value in loop_epoch(objective, optimizer, data.X, targets, rng).items():
            loop[phase].append(value)
        alone[GATHER].append(gather_alone(data.X, targets, rng))
        alone[ADAM].append(adam_alone(optimizer, steps))
        alone["products"].append(floor.run())
        print(f"round {round_}/{args.rounds}: epoch {loop['epoch'][-1]:.3f} s", file=sys.stderr)

    def ms(values: list[float]) -> str:
        return f"{1e3 * statistics.median(values):.1f}"

    epoch = statistics.median(loop["epoch"])
    sys.stderr.flush()
    print(f"Workload 1 ({data.source}), {steps} steps an epoch; medians of {args.rounds} rounds, "
          "ms per epoch.\n")
    print("| phase | in the loop | share | alone |\n| --- | ---: | ---: | ---: |")
    for phase, values in loop.items():
        if phase != "epoch":
            share = 100 * statistics.median(values) / epoch
            print(f"| {phase} | {ms(values)} | {share:.1f} % | {ms(alone[phase]) if phase in alone else ''} |")
    dense = [v for k, v in loop.items() if "Dense" in k]
    in_loop = [sum(epoch_values) for epoch_values in zip(*dense)]
    print(f"| all Dense phases (products, bias) | {ms(in_loop)} | "
          f"{100 * statistics.median(in_loop) / epoch:.1f} % | {ms(alone['products'])} "
          "(products alone: the GEMM floor) |")
    print(f"| epoch | {ms(loop['epoch'])} | 100 % | |")


if __name__ == "__main__":
    main()
