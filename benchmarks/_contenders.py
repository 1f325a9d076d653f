"""The three libraries behind one small interface, and the timed training run built on it.

Each contender class (``ChainruleMLP``, ``TorchMLP``, ``SklearnMLP``) is constructed with
``(widths, task, batch_size, seed)`` and has ``prepare(X, y)``, ``fit(data, epochs)``,
``predictor(X)``, ``predict_proba(X)`` and ``state_bytes()``.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence

from _chainrule_mlp import ChainruleMLP
from _config import SEED
from _data import Dataset
from _timing import Task


def available(skip: Sequence[str] = ()) -> dict[str, type]:
    """The contender classes whose library is installed, chainrule first, minus ``skip``."""
    classes: dict[str, type] = {"chainrule": ChainruleMLP}
    if importlib.util.find_spec("torch") is not None:
        from _torch_mlp import TorchMLP

        classes["torch"] = TorchMLP
    if importlib.util.find_spec("sklearn") is not None:
        from _sklearn_mlp import SklearnMLP

        classes["sklearn"] = SklearnMLP
    return {name: cls for name, cls in classes.items() if name == "chainrule" or name not in skip}


def training_task(cls: type, widths: Sequence[int], task: str, batch_size: int, data: Dataset,
                  epochs: int, trained: dict[str, object] | None = None) -> Task:
    """A timed run: build a fresh model and convert the data (untimed), then train (timed).

    Parameters
    ----------
    cls : contender class
    widths : sequence of int
    task : {"multiclass", "binary"}
    batch_size, epochs : int
    data : Dataset
    trained : dict, optional
        Receives the last trained model under the contender's name (for the sanity check).
    """

    def run() -> float:
        model = cls(widths, task, batch_size, SEED)
        prepared = model.prepare(data.X, data.y)
        start = time.perf_counter()
        model.fit(prepared, epochs)
        seconds = time.perf_counter() - start
        if trained is not None:
            trained[cls.name] = model
        return seconds

    return run


def n_steps(n_samples: int, batch_size: int) -> int:
    """Optimizer steps in one epoch (the last, partial batch included)."""
    return -(-n_samples // batch_size)
