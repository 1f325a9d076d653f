"""Rosenblatt's perceptron on the tutorial's two Gaussian blobs.

Run:  python examples/perceptron_blobs.py [--seed 0]

100 samples around (-3.5, -2) and (2.5, 3.5) with standard deviation 2.25, 25% held out for
testing (the tutorial this follows reported a test accuracy of 0.84 on its draw).
"""

from __future__ import annotations

import argparse

import chainrule as cr
from chainrule.datasets import make_blobs
from chainrule.training import train_test_split


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=100)
    args = parser.parse_args(argv)

    X, y = make_blobs(100, centers=[[-3.5, -2.0], [2.5, 3.5]], std=2.25, seed=args.seed)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=args.seed)
    perceptron = cr.Perceptron(lr=1.0, epochs=args.epochs, seed=args.seed, verbose=True)
    perceptron.fit(X_train, y_train)
    accuracy = perceptron.score(X_test, y_test)
    print(f"perceptron: test accuracy {accuracy:.2f} (tutorial: 0.84); "
          f"mistakes per epoch {perceptron.mistakes_[:5]}...{perceptron.mistakes_[-1]}")
    return {"accuracy": accuracy, "converged": perceptron.converged_}


if __name__ == "__main__":
    main()
