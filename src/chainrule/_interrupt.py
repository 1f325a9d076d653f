"""``DeferredInterrupt``: a first Ctrl-C is a request to stop at the next safe point; a second
one stops at once.

Training and the writing of a run folder both have points where stopping loses nothing (after a
batch; once the files are written) and stretches where it would (mid-step; half a run folder).
Inside the context, SIGINT sets :attr:`DeferredInterrupt.requested` instead of raising, and the
code checks the flag where it can stop; an impatient second Ctrl-C still raises
``KeyboardInterrupt`` at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any, Self


class DeferredInterrupt:
    """Context manager: while active, the first Ctrl-C (SIGINT) sets :attr:`requested` and calls
    ``on_request``; a second one raises ``KeyboardInterrupt``.

    Python delivers signals to the main thread only, so in another thread the context installs
    nothing and Ctrl-C keeps its usual effect. The previous handler is restored on exit.

    Parameters
    ----------
    on_request : callable or None
        Called with no arguments at the first Ctrl-C (e.g. to say what happens next). It runs
        inside the signal handler, between two bytecodes of the interrupted code: keep it short.
    """

    def __init__(self, on_request: Callable[[], None] | None = None) -> None:
        self.on_request = on_request
        #: Whether a Ctrl-C came while the context was active (reset on entering it).
        self.requested = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.on_request is not None:
            self.on_request()

    def __enter__(self) -> Self:
        self.requested = False
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
