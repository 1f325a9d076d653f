"""A 2-2-2 network on ten points with probability targets: every number small enough to print.

Run:  python examples/toy_network.py [--epochs 2000]

Ten points in the plane, each with a target distribution over two classes (not a hard label),
a 2-2-2 network (sigmoid hidden layer, softmax output) and cross-entropy against the target
distributions. Training can at best reach the targets' own entropy. The script prints the
architecture before training (``net.summary()``: layers, shapes and parameter counts, no
weights), every layer's weights and cached values after it (``net.info()``), then the loss
beside that entropy and the largest gap between predicted and target probabilities
(``--quiet``: only that last line).
"""

from __future__ import annotations

import argparse

import numpy as np

import chainrule as cr

X = np.array([
    [0.1, 0.6], [0.15, 0.71], [0.25, 0.8], [0.35, 0.45], [0.5, 0.5],
    [0.6, 0.2], [0.65, 0.3], [0.8, 0.35], [0.85, 0.1], [0.9, 0.5],
])
# Probability of class 1 for each point (class 0 gets the rest): soft targets.
P_CLASS_1 = np.array([0.05, 0.05, 0.1, 0.3, 0.5, 0.8, 0.75, 0.9, 0.95, 0.85])
TARGETS = np.column_stack([1 - P_CLASS_1, P_CLASS_1])


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2000)
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)

    net = cr.mlp([2, 2, 2], activation="sigmoid", output="softmax", dtype=np.float64, seed=0)
    if not args.quiet:
        print(net.summary())
    trainer = cr.Trainer(net, "cross_entropy", cr.Adam(lr=0.05), batch_size=10, seed=0, verbose=0)
    trainer.fit(X, TARGETS, epochs=args.epochs)
    P = net.forward(X)
    entropy = float(-(TARGETS * np.log(TARGETS)).sum(axis=1).mean())
    loss = trainer.evaluate(X, TARGETS)["loss"]
    gap = float(np.abs(P - TARGETS).max())
    if not args.quiet:
        net.forward(X, training=True)
        net.info()
    print(f"toy 2-2-2: loss {loss:.4f} (the targets' entropy, the best possible: {entropy:.4f}); "
          f"largest |P - T| {gap:.3f}")
    return {"loss": loss, "entropy": entropy, "max_gap": gap}


if __name__ == "__main__":
    main()
