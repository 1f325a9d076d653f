"""Workload 5: peak resident memory (RSS) of workload 1's training, each library in a fresh process.

The acceptance bound of issue 4 is computed from the sizes the probe actually allocated::

    bound = 2 × (training set + parameters + optimizer state) + 150 MB

with the training set = X (float32) + y (int64), and the optimizer state = Adam's two moment
arrays. MB here is 10⁶ bytes throughout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _data import Dataset

PROBE = Path(__file__).resolve().parent / "_rss_probe.py"
MB = 1e6
KIB = 1024
#: The constant part of the bound (MB).
ALLOWANCE_MB = 150.0


def payload_mb(report: dict) -> float:
    """Training set + parameters + optimizer state of one probe report, in MB."""
    return (report["training_set_bytes"] + report["parameters"] + report["optimizer_state"]) / MB


def bound_mb(payload: float) -> float:
    """The issue's bound for a payload of ``payload`` MB: 2 × payload + allowance, in MB."""
    return 2 * payload + ALLOWANCE_MB


def peak_memory(names: list[str], data: Dataset, n_threads: int,
                log: Callable[[str], None]) -> dict[str, dict]:
    """Run the probe once per contender on ``data``; name -> report (sizes in bytes and KiB).

    Each report gains ``baseline_mb``, ``peak_mb``, ``training_mb`` (peak − baseline RSS),
    ``payload_mb`` (training set + parameters + optimizer state) and ``bound_mb``.
    """
    reports: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="chainrule-bench-") as folder:
        np.save(Path(folder) / "X.npy", np.ascontiguousarray(data.X, dtype=np.float32))
        np.save(Path(folder) / "y.npy", np.ascontiguousarray(data.y, dtype=np.int64))
        for name in names:
            log(f"  {name} in a fresh process")
            done = subprocess.run([sys.executable, str(PROBE), name, folder, str(n_threads)],
                                  capture_output=True, text=True, check=False)
            if done.returncode != 0:
                log(f"  {name} probe failed:\n{done.stderr[-2000:]}")
                continue
            report = json.loads(done.stdout.strip().splitlines()[-1])
            report["baseline_mb"] = report["baseline"]["rss_kib"] * KIB / MB
            peak = report["end"]["hwm_kib"]
            if peak < 0:  # no /proc: ru_maxrss (correct when this process was the smaller one)
                peak = report["end"]["maxrss_kib"]
            report["peak_mb"] = peak * KIB / MB
            report["training_mb"] = report["peak_mb"] - report["baseline_mb"]
            report["payload_mb"] = payload_mb(report)
            report["bound_mb"] = bound_mb(report["payload_mb"])
            reports[name] = report
    return reports
