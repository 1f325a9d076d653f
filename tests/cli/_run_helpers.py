"""Shared by the run tests: a small circles config, a snapshot of a folder's files, and a
callback slipped into every trainer that ``chainrule.experiment.run`` builds."""

from __future__ import annotations

import pytest

from chainrule.config import load_config
from chainrule.experiment import runner
from chainrule.training.callbacks import Callback

CIRCLES = ["data.dataset=circles", "data.options={n_samples=60}", "model.hidden=[3]",
           "training.epochs=2", "training.verbose=0"]


def circles_config(*overrides: str) -> dict:
    """The config of a 2-epoch run on 60 circles samples, with ``overrides`` (``--set`` form)."""
    return load_config(overrides=[*CIRCLES, *overrides])


def snapshot(folder) -> dict[str, bytes]:
    """The files of ``folder`` (not its subfolders' files): name -> bytes."""
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


def with_callback(monkeypatch: pytest.MonkeyPatch, callback: Callback) -> None:
    """Give every trainer that ``run`` builds ``callback`` as its first callback."""
    build = runner.build_trainer

    def build_trainer(*args, **kwargs):
        trainer = build(*args, **kwargs)
        trainer.callbacks.insert(0, callback)
        return trainer

    monkeypatch.setattr(runner, "build_trainer", build_trainer)
