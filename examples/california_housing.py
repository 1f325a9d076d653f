"""California housing regression: standardised features, a 64-unit sigmoid hidden layer, MSE.

Run:  python examples/california_housing.py [--epochs 200] [--limit N]

80/20 train/test split with seed 0; reports the test R².
"""

from __future__ import annotations

import argparse
import time

import chainrule as cr
from chainrule.datasets import load_california_housing
from chainrule.preprocessing import Standardizer
from chainrule.training import r2_score, train_test_split


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N rows")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)

    X, y, _ = load_california_housing(args.data_dir)
    if args.limit:
        X, y = X[: args.limit], y[: args.limit]
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, seed=0)
    scaler = Standardizer().fit(X_train)  # statistics of the training part only
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

    net = cr.mlp([8, 64, 1], activation="sigmoid", seed=0)
    trainer = cr.Trainer(net, "mse", cr.Adam(lr=1e-2), batch_size=64, seed=0, verbose=args.verbose,
                         schedule=cr.CosineLR(t_max=args.epochs, unit="epoch"))
    started = time.perf_counter()
    trainer.fit(X_train, y_train, epochs=args.epochs)
    seconds = time.perf_counter() - started
    r2 = r2_score(y_test, trainer.predict(X_test))
    print(f"california housing: test R² {r2:.4f} after {args.epochs} epochs ({seconds:.1f} s)")
    return {"r2": r2, "seconds": seconds}


if __name__ == "__main__":
    main()
