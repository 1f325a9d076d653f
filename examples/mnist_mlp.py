"""MNIST with a multilayer perceptron: 784-256-128-10, ReLU, dropout, Adam.

Run:  python examples/mnist_mlp.py [--epochs 20] [--limit N] [--activation relu|tanh]
      [--dataset mnist|fashion_mnist]

Reads the IDX files from $CHAINRULE_DATA (laid out like ../shared/data) or the download cache.
"""

from __future__ import annotations

import argparse
import time

import chainrule as cr
from chainrule.datasets import load_fashion_mnist, load_mnist


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--activation", default="relu", help="hidden activation (relu, tanh, ...)")
    parser.add_argument("--dataset", default="mnist", choices=["mnist", "fashion_mnist"])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args(argv)

    loader = load_mnist if args.dataset == "mnist" else load_fashion_mnist
    (X_train, y_train), (X_test, y_test) = loader(args.data_dir)  # pixels scaled to [0, 1]
    if args.limit:
        X_train, y_train = X_train[: args.limit], y_train[: args.limit]

    net = cr.mlp([784, 256, 128, 10], activation=args.activation, output="softmax",
                 dropout=0.2, seed=args.seed)
    trainer = cr.Trainer(net, "cross_entropy", cr.Adam(lr=1e-3), batch_size=128, seed=args.seed,
                         metrics=["accuracy"], verbose=args.verbose,
                         schedule=cr.CosineLR(t_max=args.epochs, unit="epoch"))
    started = time.perf_counter()
    trainer.fit(X_train, y_train, epochs=args.epochs)
    seconds = time.perf_counter() - started
    result = trainer.evaluate(X_test, y_test)
    print(f"{args.dataset} {args.activation}: test accuracy {result['accuracy']:.4f} "
          f"after {args.epochs} epochs ({seconds:.1f} s)")
    return {**result, "seconds": seconds}


if __name__ == "__main__":
    main()
