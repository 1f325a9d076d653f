"""``DeferredInterrupt``: a first Ctrl-C is a request to stop at the next safe point; a second
one stops at once. ``termination_raises``: a request to end the process (SIGTERM, SIGHUP) stops
at once, as an exception, so that the work under way cleans up after itself.

Training and the writing of a run folder both have points where stopping loses nothing (after a
batch; once the files are written) and stretches where it would (mid-step; half a run folder).
Inside the context, SIGINT sets :attr:`DeferredInterrupt.requested` instead of raising, and the
code checks the flag where it can stop; an impatient second Ctrl-C still raises
``KeyboardInterrupt`` at once.

SIGTERM (``kill``, ``timeout``, ``docker stop``, a batch scheduler) and SIGHUP (the terminal
closed) end a process outright by default, so that nothing cleans up: half a run folder, an
earlier run hidden in ``.earlier-*``, a download's ``.part`` file stay behind. Within
``termination_raises`` they raise :class:`Terminated` instead, which the cleanups (``except
BaseException``: the run folder, atomic writes, downloads) see as they see a second Ctrl-C.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any, Self

#: Stands in the stack of saved handlers for an entry that installed nothing.
_NOTHING_INSTALLED = object()


class DeferredInterrupt:
    """Context manager: while active, the first Ctrl-C (SIGINT) sets :attr:`requested` and calls
    ``on_request``; a second one raises ``KeyboardInterrupt``.

    Python delivers signals to the main thread only, so in another thread the context installs
    nothing and Ctrl-C keeps its usual effect. Nor does it replace a handler installed from C
    (one ``signal.getsignal`` reports as None): ``signal.signal`` could not put it back, so
    that handler stays in place and Ctrl-C is not deferred. A Ctrl-C the process ignores (a
    background job of a shell script; a worker that chose to) stays ignored. The previous
    handler is restored on exit.

    The same object may be entered again while active (a callback calling ``fit`` of its own
    trainer): each exit restores the handler its own entry replaced, so leaving the outermost
    puts back the one from before. Only the outermost entry clears :attr:`requested`: a
    Ctrl-C made in the outer context is seen inside (the nested work stops too, and a further
    Ctrl-C is the second one), and one made inside is still seen by the outer context.

    Parameters
    ----------
    on_request : callable or None
        Called with no arguments at the first Ctrl-C (e.g. to say what happens next). It runs
        inside the signal handler, between two bytecodes of the interrupted code: keep it short.
        An exception it raises is dropped (the request is still recorded), so that it never
        reaches the interrupted code.
    """

    def __init__(self, on_request: Callable[[], None] | None = None) -> None:
        self.on_request = on_request
        #: Whether a Ctrl-C came while the context was active (reset on entering it, unless
        #: it is already active).
        self.requested = False
        self._saved: list[Any] = []  # per active entry: the handler it replaced, innermost last

    def _handler(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        if self.on_request is not None:
            # An error raised here would land in the interrupted code, which would fail as if
            # its own work had (and a run folder being finished would be removed): a message
            # on a stderr whose reader was killed by the same Ctrl-C (``2>&1 | tee log``), or
            # one that was mid-write (RuntimeError: reentrant call), is dropped instead.
            with contextlib.suppress(Exception):
                self.on_request()

    def __enter__(self) -> Self:
        if not self._saved:
            self.requested = False
        previous = _NOTHING_INSTALLED
        if (threading.current_thread() is threading.main_thread()
                and signal.getsignal(signal.SIGINT) not in (None, signal.SIG_IGN)):
            previous = signal.signal(signal.SIGINT, self._handler)
        self._saved.append(previous)
        return self

    def __exit__(self, *exc: object) -> None:
        previous = self._saved.pop()
        if previous is not _NOTHING_INSTALLED:
            signal.signal(signal.SIGINT, previous)


class Terminated(KeyboardInterrupt):
    """The process was asked to end by the signal :attr:`signum` (SIGTERM, SIGHUP); raised by
    the handler :func:`termination_raises` installs. A ``KeyboardInterrupt``, so that it stops
    the work as a second Ctrl-C does and no ``except Exception`` takes it for an error."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        #: The signal's number (the exit code is ``128 + signum``, as a shell reports it).
        self.signum = signum


#: The signals that ask a process to end, where the platform has them (Windows has no SIGHUP,
#: and ends a process from outside without a signal a handler could see).
TERMINATION_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                            if hasattr(signal, name))


@contextlib.contextmanager
def termination_raises() -> Iterator[None]:
    """Context manager: while active, SIGTERM and SIGHUP raise :class:`Terminated` (once:
    further ones are ignored while the cleanups run, until the context exits; SIGKILL still
    ends the process if they hang). The previous handlers are restored on exit.

    For a program's outermost code, which then ends the process (the ``chainrule`` command).
    Only a signal left to its default action (ending the process) is caught: one that is
    ignored (``nohup``, a parent's ``trap "" TERM``) stays ignored, and one with a handler of
    its own keeps it. Nothing is installed outside the main thread.
    """
    saved: dict[int, Any] = {}

    def handler(signum: int, frame: Any) -> None:
        for other in saved:
            signal.signal(other, signal.SIG_IGN)
        raise Terminated(signum)

    if threading.current_thread() is threading.main_thread():
        for signum in TERMINATION_SIGNALS:
            if signal.getsignal(signum) is signal.SIG_DFL:
                saved[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, previous in saved.items():
            signal.signal(signum, previous)
