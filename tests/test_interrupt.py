"""``DeferredInterrupt``: the first Ctrl-C is a request, the second one stops at once."""

from __future__ import annotations

import signal
import threading

import pytest

from chainrule._interrupt import DeferredInterrupt, Terminated, termination_raises


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


def test_nested_contexts_of_one_object_restore_the_handler_from_before_the_outer_one():
    """A callback may call ``fit`` of its own trainer: the trainer's one DeferredInterrupt is
    then entered twice, and leaving both must put back what was there before the first."""
    before = signal.getsignal(signal.SIGINT)
    interrupt = DeferredInterrupt()
    with interrupt:
        with interrupt:
            assert signal.getsignal(signal.SIGINT) == interrupt._handler
        assert signal.getsignal(signal.SIGINT) == interrupt._handler  # the outer one still defers
    assert signal.getsignal(signal.SIGINT) is before


def test_a_nested_context_neither_clears_nor_hides_a_ctrl_c():
    interrupt = DeferredInterrupt()
    with interrupt:
        signal.raise_signal(signal.SIGINT)  # the outer context's request ...
        with interrupt:
            assert interrupt.requested  # ... is seen inside (a nested fit stops too)
            with pytest.raises(KeyboardInterrupt):  # and another Ctrl-C is the second one
                signal.raise_signal(signal.SIGINT)
        assert interrupt.requested
    with interrupt:
        with interrupt:
            signal.raise_signal(signal.SIGINT)  # a request made inside ...
        assert interrupt.requested  # ... stops the outer context too


def test_a_handler_python_cannot_reinstall_is_left_in_place(monkeypatch):
    """``signal.getsignal`` gives None for a handler installed from C; ``signal.signal`` cannot
    install None again, so the context installs nothing rather than lose that handler."""
    installed = []
    monkeypatch.setattr(signal, "getsignal", lambda signum: None)
    monkeypatch.setattr(signal, "signal", lambda signum, handler: installed.append(handler))
    interrupt = DeferredInterrupt()
    with interrupt, interrupt:
        pass
    assert installed == []


def test_a_fit_called_from_inside_the_same_trainers_fit_restores_the_handler():
    import numpy as np

    import chainrule as cr

    X = np.random.default_rng(0).normal(size=(40, 2))
    y = (X[:, 0] > 0).astype(int)
    calls = []

    def fit_again(trainer, epoch, logs):
        if not calls:
            calls.append(epoch)
            trainer.fit(X, y, epochs=1)

    before = signal.getsignal(signal.SIGINT)
    trainer = cr.Trainer(cr.mlp([2, 3, 1], output="sigmoid", seed=0), "binary_cross_entropy",
                         verbose=0, callbacks=[cr.LambdaCallback(on_epoch_end=fit_again)])
    trainer.fit(X, y, epochs=2)
    assert calls == [1] and len(trainer.history) == 3
    assert signal.getsignal(signal.SIGINT) is before
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C works as usual again
        signal.raise_signal(signal.SIGINT)


@pytest.mark.parametrize("error", [BrokenPipeError(32, "Broken pipe"), RuntimeError("reentrant"),
                                   ValueError("closed file")])
def test_an_error_of_on_request_never_leaves_the_handler(error):
    """``on_request`` runs inside the signal handler: an error raised there would land in the
    interrupted code (the writing of a run folder) as if that code had failed. A message
    printed on a stderr whose reader has gone (``| tee log`` killed by the same Ctrl-C) is
    dropped; the request itself is recorded."""

    def announce():
        raise error

    with DeferredInterrupt(announce) as interrupt:
        signal.raise_signal(signal.SIGINT)
        assert interrupt.requested
        with pytest.raises(KeyboardInterrupt):  # the second Ctrl-C still stops at once
            signal.raise_signal(signal.SIGINT)


def test_a_termination_signal_raises_terminated_once_and_the_handlers_come_back(default_sighup):
    """SIGTERM (``timeout``, ``kill``, ``docker stop``, SLURM) and SIGHUP raise ``Terminated``,
    so that the cleanups of the work under way run (``except BaseException``); a further one
    while they run is ignored; the handlers from before are put back."""
    names = [name for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    before = {name: signal.getsignal(getattr(signal, name)) for name in names}
    for name in names:
        signum = getattr(signal, name)
        with pytest.raises(Terminated) as info, termination_raises():
            signal.raise_signal(signum)
        assert info.value.signum == signum and isinstance(info.value, KeyboardInterrupt)
        with termination_raises():
            try:
                signal.raise_signal(signum)
            except Terminated:
                signal.raise_signal(signum)  # during the cleanup: ignored
    assert {name: signal.getsignal(getattr(signal, name)) for name in names} == before


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_an_ignored_termination_signal_stays_ignored():
    """nohup (SIGHUP ignored) or a parent's trap "" TERM: the run must survive the signal, as
    it did with the default handling; only a signal that would end the process is caught."""
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with termination_raises():
            assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
            signal.raise_signal(signal.SIGHUP)  # nothing happens
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)


def test_an_ignored_ctrl_c_stays_ignored():
    """A background job of a shell script (bash gives it SIGINT ignored) or a worker that chose
    to ignore SIGINT: a fit must not become interruptible, as with a termination signal."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with DeferredInterrupt() as interrupt:
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGINT)  # nothing happens, twice
            assert not interrupt.requested
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


@pytest.fixture
def default_sighup():
    """SIGHUP at its default action for the test (pytest may run under nohup, which ignores
    it: the handlers under test would then rightly stay out of the way)."""
    if not hasattr(signal, "SIGHUP"):
        yield
        return
    before = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, before)


def test_outside_the_main_thread_termination_signals_are_left_alone():
    before = signal.getsignal(signal.SIGTERM)
    seen = []

    def body():
        with termination_raises():
            seen.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [before]
