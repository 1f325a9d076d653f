"""What ``run.py --profile`` samples: workload 1's chainrule training, several epochs in one fit.

Usage: ``python _profile_target.py N_ROWS EPOCHS``.
"""

from __future__ import annotations

import sys

from _chainrule_mlp import ChainruleMLP
from _config import MNIST_BATCH, MNIST_WIDTHS, SEED
from _data import mnist_like


def main(argv: list[str]) -> int:
    rows, epochs = int(argv[0]), int(argv[1])
    data = mnist_like(rows)
    model = ChainruleMLP(MNIST_WIDTHS, "multiclass", MNIST_BATCH, SEED)
    model.fit(model.prepare(data.X, data.y), epochs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
