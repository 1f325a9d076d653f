"""chainrule.sklearn.MLPClassifier against scikit-learn's MLPClassifier on the digits data.

Matched settings: one hidden layer of 100 ReLU units, Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8),
alpha 1e-4, batch_size "auto" (200), the same max_iter, tol and n_iter_no_change (scikit-learn's
defaults). For every seed both models train on the same stratified 75/25 split of
``sklearn.datasets.load_digits`` (1797 8×8 images, pixels scaled to [0, 1]) with
``random_state=seed``; the split also depends on the seed, and each row compares the two
libraries on identical data. ``fit`` is timed with ``time.perf_counter`` (one run each; the
first seed's times include no warm-up, so read them with that in mind).

The "chainrule f32" columns train on the same data given as float32 (kept as float32).

Both libraries multiply with NumPy's BLAS. ``--threads N`` limits its threads (through
threadpoolctl, a scikit-learn dependency): on a busy or small machine, BLAS threads that
oversubscribe the cores make these small matrix products many times slower for both.

Run::

    python benchmarks/sklearn_digits.py [--seeds 5] [--max-iter 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLP
from threadpoolctl import threadpool_info, threadpool_limits

from chainrule.sklearn import MLPClassifier as ChainruleMLP


def timed_fit(model, X, y) -> float:
    """Seconds taken by ``model.fit(X, y)`` (ConvergenceWarnings silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        return time.perf_counter() - start


def run_seed(seed: int, max_iter: int) -> dict[str, float]:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    settings = {"hidden_layer_sizes": (100,), "activation": "relu", "solver": "adam",
                "max_iter": max_iter, "random_state": seed}
    row: dict[str, float] = {"seed": seed}
    contenders = {
        "sklearn": (SklearnMLP(**settings), X_train, X_test),
        "chainrule": (ChainruleMLP(**settings), X_train, X_test),
        "chainrule_f32": (ChainruleMLP(**settings), X_train.astype(np.float32),
                          X_test.astype(np.float32)),
    }
    for name, (model, train, test) in contenders.items():
        row[f"{name}_seconds"] = timed_fit(model, train, y_train)
        row[f"{name}_accuracy"] = model.score(test, y_test)
        row[f"{name}_epochs"] = model.n_iter_
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None, help="BLAS threads (default: all)")
    args = parser.parse_args(argv)
    if args.threads is not None:
        threadpool_limits(limits=args.threads, user_api="blas")
    blas = ", ".join(sorted({f"{p['internal_api']} {p['num_threads']} threads"
                             for p in threadpool_info() if p["user_api"] == "blas"}))

    sklearn_version = importlib.metadata.version("scikit-learn")
    print(f"numpy {np.__version__} ({blas}), scikit-learn {sklearn_version}; load_digits, "
          f"100 ReLU, Adam, max_iter={args.max_iter}")
    header = (f"{'seed':>4} | {'sklearn acc':>11} {'chainrule acc':>13} {'diff (pp)':>9} | "
              f"{'sklearn s':>9} {'chainrule s':>11} | {'epochs sk/cr':>12} | "
              f"{'cr f32 acc':>10} {'cr f32 s':>8}")
    print(header)
    print("-" * len(header))
    rows = [run_seed(seed, args.max_iter) for seed in range(args.seeds)]
    for r in rows:
        diff = 100 * (r["chainrule_accuracy"] - r["sklearn_accuracy"])
        print(f"{r['seed']:>4} | {r['sklearn_accuracy']:>11.4f} {r['chainrule_accuracy']:>13.4f} "
              f"{diff:>+9.2f} | {r['sklearn_seconds']:>9.3f} {r['chainrule_seconds']:>11.3f} | "
              f"{r['sklearn_epochs']:>5}/{r['chainrule_epochs']:<6} | "
              f"{r['chainrule_f32_accuracy']:>10.4f} {r['chainrule_f32_seconds']:>8.3f}")

    def mean(key: str) -> float:
        return statistics.fmean(r[key] for r in rows)

    diffs = [100 * (r["chainrule_accuracy"] - r["sklearn_accuracy"]) for r in rows]
    print("-" * len(header))
    print(f"mean | {mean('sklearn_accuracy'):>11.4f} {mean('chainrule_accuracy'):>13.4f} "
          f"{statistics.fmean(diffs):>+9.2f} | {mean('sklearn_seconds'):>9.3f} "
          f"{mean('chainrule_seconds'):>11.3f} | {'':>12} | "
          f"{mean('chainrule_f32_accuracy'):>10.4f} {mean('chainrule_f32_seconds'):>8.3f}")
    print(f"mean accuracy difference (chainrule − scikit-learn): {statistics.fmean(diffs):+.2f} "
          f"percentage points; mean |difference| {statistics.fmean(abs(d) for d in diffs):.2f}")


if __name__ == "__main__":
    main()
