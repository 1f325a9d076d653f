"""What the numbers were measured on: CPU, cores, BLAS, library versions, load.

Every field is read, never assumed: the CPU model from ``/proc/cpuinfo``, numpy's BLAS from
threadpoolctl (or ``np.show_config(mode="dicts")`` when threadpoolctl is missing), torch's
threads and math libraries from torch itself.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _cpuinfo(field: str) -> str | None:
    """The value of the first ``field`` line of /proc/cpuinfo; None where there is none."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(field):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """``model name`` from /proc/cpuinfo (``platform.processor()`` elsewhere)."""
    return _cpuinfo("model name") or platform.processor() or "unknown"


def cpu_flags() -> str:
    """The vector extensions the BLAS kernels can use (avx2, fma, avx512f), from /proc/cpuinfo."""
    flags = _cpuinfo("flags")
    if flags is None:
        return "unknown"
    present = set(flags.split())
    return " ".join(f for f in ("avx2", "fma", "avx512f", "avx512_bf16") if f in present)


def cores() -> tuple[int, int]:
    """(logical CPUs in the machine, CPUs this process may run on)."""
    total = os.cpu_count() or 0
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        usable = total
    return total, usable


def numpy_blas() -> dict[str, object]:
    """numpy's BLAS: library, version, kernel architecture and thread count."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        numpy_dir = Path(np.__file__).resolve().parent
        entries = [e for e in threadpool_info() if e.get("user_api") == "blas"]
        # numpy's own BLAS lives in numpy.libs (wheels) or is the only one loaded.
        own = [e for e in entries if Path(e["filepath"]).resolve().parent.name == f"{numpy_dir.name}.libs"]
        for entry in own or entries[:1]:
            return {
                "library": entry.get("internal_api"),
                "version": entry.get("version"),
                "architecture": entry.get("architecture"),
                "threads": entry.get("num_threads"),
                "threading_layer": entry.get("threading_layer"),
                "source": "threadpoolctl",
            }
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    threads = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS")
    return {
        "library": blas.get("name"),
        "version": blas.get("version"),
        "architecture": blas.get("openblas configuration"),
        "threads": int(threads) if threads else cores()[1],
        "threading_layer": None,
        "source": "np.show_config",
    }


def torch_info() -> dict[str, object] | None:
    """torch's version, intra-op threads and CPU math backends, or None when not installed."""
    try:
        import torch
    except ImportError:
        return None
    return {
        "version": torch.__version__,
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "mkl": torch.backends.mkl.is_available(),
        "mkldnn": torch.backends.mkldnn.is_available(),
    }


def git_revision() -> str:
    """The checked-out commit, with ``+dirty`` when the tree has uncommitted changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, check=True,
                              capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO,
                               check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def describe() -> dict[str, object]:
    """Everything above in one dict (the machine block of results.md)."""
    import chainrule

    total, usable = cores()
    info: dict[str, object] = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "cores": total,
        "usable_cores": usable,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": numpy_blas(),
        "chainrule": getattr(chainrule, "__version__", "unknown"),
        "git": git_revision(),
        "torch": torch_info(),
    }
    try:
        import sklearn

        info["sklearn"] = sklearn.__version__
    except ImportError:
        info["sklearn"] = None
    return info


def load_average() -> tuple[float, float, float] | None:
    """1, 5 and 15 minute load averages (other processes competing for the cores)."""
    try:
        return os.getloadavg()
    except OSError:
        return None


def _cpu_seconds() -> tuple[float, float]:
    """(busy, total) CPU-seconds of all cores since boot, from /proc/stat's first line."""
    with open("/proc/stat", encoding="utf-8") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is in user)
    idle = fields[3] + fields[4]  # idle + iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (total - idle) / ticks, total / ticks


def _own_cpu_seconds() -> float:
    """CPU-seconds used by this process, all its threads (BLAS and torch workers included)."""
    own = os.times()
    return own.user + own.system


def _snapshot() -> tuple[float, float, float]:
    """(all cores' busy, all cores' total, this process's own) CPU-seconds so far."""
    busy, total = _cpu_seconds()
    return busy, total, _own_cpu_seconds()


def _other_share(before: tuple[float, float, float],
                 after: tuple[float, float, float]) -> float | None:
    """Share of all CPUs' time that other processes used between two :func:`_snapshot` calls.

    max(0, Δbusy − Δown) / Δtotal: all the cores' busy time minus this process's own (its BLAS
    and torch worker threads included), over the cores' capacity; 0.5 on a 2-core machine is
    one core's worth. None when no time passed.
    """
    (busy_0, total_0, own_0), (busy_1, total_1, own_1) = before, after
    if total_1 <= total_0:
        return None
    return max(0.0, (busy_1 - busy_0) - (own_1 - own_0)) / (total_1 - total_0)


def busy_fraction(interval: float = 1.0) -> float | None:
    """Share of all CPUs' time that other processes kept busy during ``interval`` seconds.

    See :func:`_other_share` (this process's BLAS and torch worker threads may still spin
    after a run, so its own time is taken out). None where there is no /proc/stat.
    """
    try:
        before = _snapshot()
        time.sleep(interval)
        after = _snapshot()
    except (OSError, ValueError, IndexError):
        return None
    return _other_share(before, after)


def wait_until_quiet(threshold: float, timeout: float, log, interval: float = 1.0) -> float | None:
    """Poll :func:`busy_fraction` until it is below ``threshold`` or ``timeout`` seconds pass.

    Returns the last reading (None without /proc/stat).
    """
    deadline = time.monotonic() + timeout
    busy = busy_fraction(interval)
    while busy is not None and busy >= threshold and time.monotonic() < deadline:
        log(f"  other processes use {100 * busy:.0f} % of the CPUs; waiting for < "
            f"{100 * threshold:.0f} %")
        time.sleep(4.0)
        busy = busy_fraction(interval)
    return busy


class QuietGuard:
    """A run guard for :func:`_timing.alternate` on a shared machine.

    Before a timed run it waits (up to ``timeout`` seconds) until other processes use less
    than ``threshold`` of the CPUs; after the run it keeps it only if they still did on
    average during it (:func:`_other_share` of snapshots taken before and after the run).
    All waits together stop after ``budget`` seconds, so a machine that is never quiet
    delays the run by that much at most.

    Parameters
    ----------
    threshold : float
        Share of all CPUs, e.g. 0.15 (on 2 cores: 0.3 of a core).
    timeout : float
        Seconds to wait before a run at most.
    budget : float
        Seconds of waiting in all, over the whole run.
    log : callable
    """

    def __init__(self, threshold: float, timeout: float, budget: float, log) -> None:
        self.threshold, self.timeout, self.log = threshold, timeout, log
        self.budget = budget
        self._start: tuple[float, float, float] | None = None

    def wait(self, timeout: float) -> float | None:
        """Wait for quiet (within the remaining budget); the last reading of other load."""
        started = time.monotonic()
        busy = wait_until_quiet(self.threshold, min(timeout, max(self.budget, 0.0)), self.log,
                                interval=0.25)
        self.budget -= time.monotonic() - started
        return busy

    def before(self) -> None:
        self.wait(self.timeout)
        try:
            self._start = _snapshot()
        except (OSError, ValueError, IndexError):
            self._start = None

    def keep(self) -> bool:
        if self._start is None:
            return True
        share = _other_share(self._start, _snapshot())
        return share is None or share < self.threshold
