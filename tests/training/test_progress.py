"""Progress reporting: a tqdm bar per epoch on a terminal, one line per epoch elsewhere."""

from __future__ import annotations

import io
import os
import signal
import sys
import types

import pytest

import chainrule as cr
from chainrule.datasets import make_circles
from chainrule.training import LambdaCallback, Trainer
from chainrule.training import progress as progress_module
from chainrule.training.progress import Progress, format_logs, print_line


class Terminal(io.StringIO):
    """A stream that says it is a terminal, and keeps what is written to it."""

    def isatty(self) -> bool:
        return True


def fake_clock(monkeypatch, *times):
    """``time.perf_counter`` as seen by the progress module returns ``times`` in order."""
    ticks = iter(times)
    clock = types.SimpleNamespace(perf_counter=lambda: next(ticks))
    monkeypatch.setattr(progress_module, "time", clock)


def test_format_logs_leaves_out_lr_and_seconds():
    logs = {"loss": 0.123456, "accuracy": 0.95, "lr": 0.01, "seconds": 3.0, "val_loss": 0.2}
    assert format_logs(logs) == "loss 0.1235 - accuracy 0.95 - val_loss 0.2"


def test_a_terminal_gets_a_tqdm_bar_per_epoch(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    stream = Terminal()
    fake_clock(monkeypatch, 10.0, 10.1, 10.5)
    progress = Progress(1, 3, stream=stream)
    assert progress._tqdm is not None
    progress.start(1, 3)
    bar = progress._bar
    assert (bar.total, bar.desc) == (3, "epoch 1/3")
    progress.advance(0.9)  # the first refresh of the postfix
    assert (bar.n, bar.postfix) == (1, "loss 0.9")
    progress.advance(0.8)  # 0.1 s later: the postfix is not formatted again
    assert (bar.n, bar.postfix) == (2, "loss 0.9")
    progress.advance(0.7)  # 0.5 s after the first: refreshed
    assert (bar.n, bar.postfix) == (3, "loss 0.7")
    progress.finish(1, {"loss": 0.75, "accuracy": 0.5, "lr": 0.1, "seconds": 1.0})
    assert progress._bar is None
    written = stream.getvalue()
    assert "epoch 1/3" in written and "3/3" in written
    assert written.rstrip("\n").endswith("loss 0.75 - accuracy 0.5]")  # the epoch's summary
    assert written.endswith("\n")  # leave=True: the bar stays on screen
    assert "lr" not in written.split("3/3")[-1]
    assert capsys.readouterr().out == ""  # no separate line per epoch


def test_without_a_bar_advance_and_close_do_nothing(capsys):
    progress = Progress(1, 2, stream=io.StringIO())  # not a terminal: one line per epoch
    assert progress._tqdm is None
    progress.start(1, 4)
    progress.advance(0.5)
    progress.close()
    assert progress._bar is None
    progress.finish(1, {"loss": 0.5, "lr": 0.1, "seconds": 0.25})
    assert capsys.readouterr().out == "epoch 1/2 - loss 0.5 - 0.25s\n"


@pytest.mark.parametrize("stream", [object(), io.StringIO()], ids=["no-isatty", "not-a-tty"])
def test_a_stream_that_is_no_terminal_gets_no_bar(stream):
    assert Progress(1, 2, stream=stream)._tqdm is None


def test_without_tqdm_a_terminal_gets_one_line_per_epoch(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # importing it raises ImportError
    progress = Progress(1, 2, stream=Terminal())
    assert progress._tqdm is None
    progress.start(2, 4)
    progress.finish(2, {"loss": 0.5, "seconds": 0.5})
    assert capsys.readouterr().out == "epoch 2/2 - loss 0.5 - 0.50s\n"


@pytest.mark.parametrize("verbose", [0, 2])
def test_only_verbose_1_looks_for_a_bar(verbose):
    assert Progress(verbose, 2, stream=Terminal())._tqdm is None


def test_message_is_printed_only_when_verbose(capsys):
    Progress(0, 1).message("quiet")
    Progress(2, 1).message("stopped early")
    assert capsys.readouterr().out == "stopped early\n"


class ClosedPipe(io.StringIO):
    """stdout whose reader has gone (``... | head -1``): every write raises BrokenPipeError."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_closed_stdout_ends_the_progress_lines_not_the_training(monkeypatch, capsys):
    """The lines are a side channel: a reader that left (``chainrule train | head -1``)
    must not stop the training they report on (the run folder would be lost)."""
    writes = []

    class Pipe(ClosedPipe):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    monkeypatch.setattr(sys, "stdout", Pipe())
    X, y = circles()
    trainer = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", batch_size=40,
                      seed=0, verbose=2, callbacks=[cr.EarlyStopping(patience=1, min_delta=1e9)])
    history = trainer.fit(X, y, epochs=5, validation_split=0.25)
    assert len(history) == 2 and history.stopped_early  # trained on after the first line
    assert writes == [writes[0]] and writes[0].startswith("epoch 1/5")  # then stopped printing
    assert capsys.readouterr().err == ""


def test_a_stdout_that_only_writes_gets_every_line(monkeypatch):
    """Capture and tee helpers often define ``write`` alone (no ``flush``): the lines are
    written, and the fit goes on to its last epoch."""
    class WriteOnly:
        def __init__(self):
            self.text = ""

        def write(self, text: str) -> int:
            self.text += text
            return len(text)

    stream = WriteOnly()
    monkeypatch.setattr(sys, "stdout", stream)
    X, y = circles()
    history = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", batch_size=40,
                      seed=0, verbose=2).fit(X, y, epochs=3)
    assert history.epochs == [1, 2, 3]
    assert [line.split()[1] for line in stream.text.splitlines()] == ["1/3", "2/3", "3/3"]


def circles():
    return make_circles(120, noise=0.1, seed=0)


def test_trainer_draws_its_bars_on_a_terminal_stderr(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    X, y = circles()
    Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", batch_size=40, seed=0,
            verbose=1, metrics=["accuracy"]).fit(X, y, epochs=2)
    written = terminal.getvalue()
    assert "epoch 1/2" in written and "epoch 2/2" in written
    assert written.count("3/3") == 2  # 120 samples in batches of 40, both epochs complete
    assert "accuracy" in written
    assert capsys.readouterr().out == ""


def test_a_disabled_bar_gives_way_to_the_epoch_lines(monkeypatch, capsys):
    """tqdm draws nothing when told so (TQDM_DISABLE=1, read when tqdm is imported, which
    then disables every bar): the epochs are reported as without tqdm, a line each."""
    tqdm = pytest.importorskip("tqdm.auto")
    monkeypatch.setattr(sys, "stderr", Terminal())
    real = tqdm.tqdm
    monkeypatch.setattr(tqdm, "tqdm", lambda *a, **k: real(*a, **{**k, "disable": True}))
    X, y = circles()
    Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", batch_size=40, seed=0,
            verbose=1).fit(X, y, epochs=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]


def test_an_interrupted_epoch_closes_its_bar_and_says_why(monkeypatch, capsys):
    pytest.importorskip("tqdm")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    closed = []

    def interrupt(trainer, epoch, batch, logs):
        if (epoch, batch) == (2, 1):
            os.kill(os.getpid(), signal.SIGINT)

    X, y = circles()
    trainer = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", batch_size=40,
                      seed=0, verbose=1, callbacks=[LambdaCallback(on_batch_end=interrupt)])
    original_close = Progress.close

    def spy(self):
        bar = self._bar
        original_close(self)
        closed.append((bar is not None, bar is not None and bar.disable, self._bar))

    monkeypatch.setattr(Progress, "close", spy)
    history = trainer.fit(X, y, epochs=3)
    assert history.interrupted and len(history) == 1
    assert closed == [(True, True, None)]  # epoch 2's bar was still open: close() closed it
    assert "1/3" in terminal.getvalue().split("epoch 2/3")[-1]  # the partial bar was drawn
    out = capsys.readouterr().out
    assert out.startswith("interrupted by the user during epoch 2")



@pytest.mark.parametrize("closed", [True, False], ids=["closed", "None"])
def test_a_closed_stdout_loses_the_lines_not_the_training(monkeypatch, closed):
    """As a reader that left: a stdout closed under the fit (or None, as under pythonw)."""
    stdout = None
    if closed:
        stdout = io.StringIO()
        stdout.close()
    monkeypatch.setattr(sys, "stdout", stdout)
    X, y = circles()
    trainer = Trainer(cr.mlp([2, 4, 1], output="sigmoid", seed=0), "bce", seed=0, verbose=2)
    assert len(trainer.fit(X, y, epochs=2)) == 2
    assert print_line("lost") is not closed  # None takes the line silently
