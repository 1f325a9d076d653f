"""Progress reporting for ``Trainer.fit``.

- ``verbose=0``: silent.
- ``verbose=1``: on a terminal, a tqdm bar per epoch with the running loss (and one line per epoch
  without tqdm installed); elsewhere (a log file, CI, a notebook's captured output) one line per
  epoch.
- ``verbose=2``: one line per epoch, always.

The lines go to stdout, a side channel (:func:`print_line`): once its reader has gone
(``chainrule train | head -1``: a write raises ``BrokenPipeError``) or it is closed, the fit
prints no more of them and trains on.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def print_line(line: str) -> bool:
    """Print ``line`` on stdout; False when it could not be written: its reader has gone
    (``BrokenPipeError``, an ``OSError``), or it is closed or its encoding lacks a character
    of the line (a ``ValueError``). A stdout of None (pythonw) takes the line silently, and
    one with no ``flush`` (a capture helper that only defines ``write``) is not flushed.
    Training code prints its progress through this: the run it reports on must not fail
    for a lost line."""
    try:
        print(line, file=sys.stdout)
        flush = getattr(sys.stdout, "flush", None)
        if flush is not None:
            flush()
    except (OSError, ValueError):
        return False
    return True


def format_logs(logs: dict[str, float]) -> str:
    """``loss 0.1234 - accuracy 0.9512 - val_loss 0.2000`` (lr and seconds left out)."""
    return " - ".join(
        f"{key} {value:.4g}" for key, value in logs.items() if key not in ("lr", "seconds")
    )


class Progress:
    """Reports one epoch at a time; the Trainer calls ``start``, ``advance``, ``finish``."""

    def __init__(self, verbose: int, n_epochs: int, stream: TextIO | None = None) -> None:
        self.verbose = verbose
        self.n_epochs = n_epochs
        self.stream = stream if stream is not None else sys.stderr
        self._bar: Any = None
        self._tqdm = self._find_tqdm() if verbose == 1 else None
        self._last_refresh = 0.0
        self._stdout_gone = False  # a line could not be printed: print no more

    def _find_tqdm(self) -> Any:
        isatty = getattr(self.stream, "isatty", None)
        if not (isatty and isatty()):
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        return tqdm

    def start(self, epoch: int, n_batches: int) -> None:
        if self._tqdm is not None:
            self._bar = self._tqdm(
                total=n_batches,
                desc=f"epoch {epoch}/{self.n_epochs}",
                unit="batch",
                leave=True,
                file=self.stream,
                dynamic_ncols=True,
            )
            self._last_refresh = 0.0
            if self._bar.disable:  # TQDM_DISABLE=1, or a terminal of no size: it draws nothing
                self._bar.close()
                self._bar = self._tqdm = None  # so the epochs are reported as lines instead

    def advance(self, mean_loss: float | None) -> None:
        """One more batch done; ``mean_loss`` is the epoch's so far (None: none yet)."""
        if self._bar is None:
            return
        self._bar.update(1)
        now = time.perf_counter()
        if mean_loss is not None and now - self._last_refresh > 0.2:  # formatting the postfix costs; do it 5 times a second
            self._bar.set_postfix_str(f"loss {mean_loss:.4g}", refresh=False)
            self._last_refresh = now

    def finish(self, epoch: int, logs: dict[str, float]) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs), refresh=False)
            self._bar.close()
            self._bar = None
        elif self.verbose:
            seconds = logs.get("seconds", float("nan"))
            self._print(f"epoch {epoch}/{self.n_epochs} - {format_logs(logs)} - {seconds:.2f}s")

    def message(self, text: str) -> None:
        if self.verbose:
            self._print(text)

    def _print(self, line: str) -> None:
        """``line`` on stdout (:func:`print_line`), none after one that could not be."""
        if not self._stdout_gone:
            self._stdout_gone = not print_line(line)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
