"""``DeferredInterrupt``: the first Ctrl-C is a request, the second one stops at once."""

from __future__ import annotations

import signal
import threading

import pytest

from chainrule._interrupt import DeferredInterrupt


def test_the_first_ctrl_c_is_recorded_and_announced_and_the_second_one_raises():
    calls = []
    with DeferredInterrupt(lambda: calls.append("asked")) as interrupt:
        assert not interrupt.requested
        signal.raise_signal(signal.SIGINT)
        assert interrupt.requested and calls == ["asked"]
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGINT)
    assert calls == ["asked"]  # announced once


def test_the_previous_handler_is_restored_and_a_new_context_starts_unrequested():
    before = signal.getsignal(signal.SIGINT)
    interrupt = DeferredInterrupt()
    with interrupt:
        assert signal.getsignal(signal.SIGINT) is not before
        signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before and interrupt.requested
    with interrupt:
        assert not interrupt.requested
    assert signal.getsignal(signal.SIGINT) is before


def test_outside_the_main_thread_nothing_is_installed():
    before = signal.getsignal(signal.SIGINT)
    seen = []

    def body():
        with DeferredInterrupt():
            seen.append(signal.getsignal(signal.SIGINT))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [before]
