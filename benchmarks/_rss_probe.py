"""Peak resident memory of one epoch of workload 1, in a fresh process (run by ``_memory.py``).

Usage: ``python _rss_probe.py {chainrule,torch,sklearn} DATA_DIR N_THREADS``, where DATA_DIR
holds ``X.npy`` (float32) and ``y.npy`` (int64). Prints one JSON line.

Stages: import the library and load the arrays (``np.load`` reads straight into the final
array, with no temporary copy), read the baseline; build the model, train one epoch, read the
peak.

The peak is ``VmHWM`` from /proc/self/status: the high-water mark of this process's own
address space, in KiB. ``getrusage(RUSAGE_SELF).ru_maxrss`` is reported too but cannot be
used here: Linux carries it across ``execve``, so a process started from the (large)
benchmark process reports the parent's size when the parent was bigger. ``VmRSS`` is the
current resident set.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path

import numpy as np


def status_kib(field: str) -> int:
    """A ``Vm*`` field of /proc/self/status in KiB (VmRSS, VmHWM), or -1 where there is no /proc."""
    try:
        with open("/proc/self/status", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def maxrss_kib() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def readings() -> dict[str, int]:
    return {"rss_kib": status_kib("VmRSS"), "hwm_kib": status_kib("VmHWM"),
            "maxrss_kib": maxrss_kib()}


def main(argv: list[str]) -> int:
    name, folder, n_threads = argv[0], Path(argv[1]), int(argv[2])
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _config import MNIST_BATCH, MNIST_WIDTHS, SEED

    # The library's import is part of the baseline, as in a user's script.
    if name == "chainrule":
        from _chainrule_mlp import ChainruleMLP as cls

        import chainrule  # noqa: F401
    elif name == "torch":
        from _torch_mlp import TorchMLP as cls
        from _torch_mlp import set_threads

        set_threads(n_threads)  # imports torch
    elif name == "sklearn":
        import sklearn.neural_network  # noqa: F401
        from _sklearn_mlp import SklearnMLP as cls
    else:
        raise ValueError(f"contender must be chainrule, torch or sklearn, got {name!r}")
    X = np.load(folder / "X.npy")
    y = np.load(folder / "y.npy")
    baseline = readings()

    model = cls(MNIST_WIDTHS, "multiclass", MNIST_BATCH, SEED)
    model.fit(model.prepare(X, y), 1)
    report = {
        "contender": name,
        "baseline": baseline,
        "end": readings(),
        "training_set_bytes": int(X.nbytes + y.nbytes),
        **model.state_bytes(),
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
