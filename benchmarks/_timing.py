"""Alternating timed runs and their summary.

Contenders run in turn (A, B, C, A, B, C, ...) rather than one after the other, so that a burst
of load from another process on the shared machine hits all of them alike instead of one.
Each contender first gets one untimed warm-up run (first-touch page faults, BLAS thread start,
lazy imports and allocator growth are not what we compare).

On a shared machine a :class:`RunGuard` (installed with :func:`set_run_guard`) can wait for
quiet before each timed run and reject a run during which other processes took the cores; a
rejected run is taken again at once (in the same place of the alternation) and counted in
``Stats.discarded``. After :data:`MAX_RETRIES` rejections in a row the run is kept anyway and
counted in ``Stats.noisy``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

#: A timed run: does its own untimed setup, then returns the seconds of the part it times.
Task = Callable[[], float]


#: Rejected attempts of one run before it is kept whatever the guard says.
MAX_RETRIES = 3

#: Seconds of idleness before each timed run (see :func:`alternate`): longer than the 0.1 s
#: that OpenBLAS's worker threads spin after a product.
SETTLE = 0.3


class RunGuard(Protocol):
    def before(self) -> None:
        """Called before each timed run (may wait)."""

    def keep(self) -> bool:
        """Called after each timed run: False rejects it (it is taken again)."""


_guard: RunGuard | None = None


def set_run_guard(guard: RunGuard | None) -> None:
    """Use ``guard`` around every timed run of every later :func:`alternate` (None: no guard)."""
    global _guard
    _guard = guard


@dataclass(frozen=True)
class Stats:
    """The seconds of repeated runs of one contender.

    Attributes
    ----------
    times : tuple of float
        The kept runs, in the order they were taken.
    discarded : int
        Runs rejected (and taken again) because other processes were busy during them.
    noisy : int
        Kept runs during which other processes were busy (after MAX_RETRIES rejections).
    """

    times: tuple[float, ...]
    discarded: int = 0
    noisy: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def low(self) -> float:
        return min(self.times)

    @property
    def high(self) -> float:
        return max(self.times)

    @property
    def spread(self) -> float:
        """(max − min) / median: the noise of the runs, 0.05 meaning ±2.5 % around the median."""
        return (self.high - self.low) / self.median if self.median > 0 else 0.0

    def scaled(self, factor: float) -> Stats:
        """The same runs in another unit (seconds per step, per call, ...)."""
        return Stats(tuple(t * factor for t in self.times), self.discarded, self.noisy)

    def as_dict(self) -> dict[str, object]:
        return {"median": self.median, "min": self.low, "max": self.high,
                "spread": self.spread, "times": list(self.times), "discarded": self.discarded,
                "noisy": self.noisy}


def alternate(
    tasks: Mapping[str, Task],
    repeats: int,
    warmups: Mapping[str, Callable[[], object]] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Stats]:
    """Run every task ``repeats`` times in turn, after one warm-up each.

    Each timed run starts :data:`SETTLE` seconds after the previous one ended, so that no
    library's run pays for the thread pool of the one before: OpenBLAS's worker threads spin
    for about 0.1 s after a product (NumPy's, so chainrule's and the floor's), and would take
    a core from the next run. The order rotates from round to round, so that no task always
    follows the same one.

    Parameters
    ----------
    tasks : mapping name -> Task
        Run in the mapping's order in the first round, each round starting one later.
    repeats : int
        Timed rounds to keep.
    warmups : mapping name -> callable, optional
        A cheaper warm-up per task (for example the same work on fewer rows); by default the
        task itself, untimed.
    log : callable, optional
        Receives one progress line per round.

    Returns
    -------
    dict name -> Stats
    """
    for name, task in tasks.items():
        (warmups or {}).get(name, task)()
    times: dict[str, list[float]] = {name: [] for name in tasks}
    discarded = dict.fromkeys(tasks, 0)
    noisy = dict.fromkeys(tasks, 0)
    names = list(tasks)
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            task = tasks[name]
            for attempt in range(MAX_RETRIES + 1):
                time.sleep(SETTLE)
                if _guard is not None:
                    _guard.before()
                seconds = task()
                if _guard is None or _guard.keep():
                    break
                if attempt == MAX_RETRIES:
                    noisy[name] += 1
                    break
                discarded[name] += 1
                if log is not None:
                    log(f"    rejected (other processes were busy): {name} {seconds:.4g}s")
            times[name].append(seconds)
        if log is not None:
            log(f"    round {round_ + 1}/{repeats}: "
                + ", ".join(f"{name} {values[-1]:.4g}s" for name, values in times.items()))
    return {name: Stats(tuple(values), discarded[name], noisy[name])
            for name, values in times.items()}


def per_call(function: Callable[[], object], calls: int) -> Task:
    """A Task timing ``calls`` back-to-back calls of ``function`` and returning seconds per call."""

    def task() -> float:
        start = time.perf_counter()
        for _ in range(calls):
            function()
        return (time.perf_counter() - start) / calls

    return task
