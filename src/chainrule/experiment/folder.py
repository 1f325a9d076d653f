"""The folder of a run: claimed before training, then filled with the run's files."""

from __future__ import annotations

import copy
import csv
import os
import time
from pathlib import Path
from typing import Any

from .. import config as config_module
from ..config import ConfigError
from ..training.callbacks import Callback
from ..training.trainer import Trainer
from .data import Data

#: The files a run writes into its folder (``overwrite`` replaces them).
RUN_FILES = ("config.toml", "model.safetensors", "history.csv", "metrics.json", "history.png",
             "confusion_matrix.png", "decision_boundary.png", "checkpoint.safetensors")


class RunFolder:
    """The folder of one run: claimed before the data is loaded (refusing one that holds
    files, unless ``overwrite``), removed again by :meth:`release` if this run created it and
    training never started."""

    def __init__(self, out_dir: str | Path | None, dataset: str, overwrite: bool) -> None:
        self.overwrite = overwrite
        self.started = False
        self.made: list[Path] = []
        if out_dir is None:
            self.path, self.created = _new_run_dir(Path("runs"), dataset), True
            self.made = [self.path]
            return
        self.path = Path(out_dir)
        if self.path.exists() and not self.path.is_dir():
            raise ConfigError(f"the run folder {self.path} is a file, not a folder; choose "
                              "another (--out)")
        self.created = not self.path.exists()
        if self.created:
            missing = [self.path, *(p for p in self.path.parents if not p.exists())]
            self.path.mkdir(parents=True)
            self.made = missing  # deepest first, as release removes them
            return
        held = sorted(entry.name for entry in self.path.iterdir())
        if held and not overwrite:
            shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
            raise ConfigError(
                f"the run folder {self.path} is not empty ({shown}); a run writes into a new or "
                "empty folder so that all its files belong to that run: choose another folder "
                "(--out), or replace an earlier run's files with --overwrite (overwrite=True)"
            )

    def start(self) -> None:
        """Training starts: with ``overwrite``, delete the earlier run's files."""
        self.started = True
        if self.overwrite:
            for name in RUN_FILES:
                (self.path / name).unlink(missing_ok=True)

    def release(self) -> None:
        """The run failed or was stopped before training: remove the folder this run made."""
        if self.created and not self.started:
            for path in self.made:
                try:
                    path.rmdir()  # only if still empty
                except OSError:
                    return


def _new_run_dir(root: Path, dataset: str) -> Path:
    """Create and return ``root/<YYYYmmdd-HHMMSS>-<dataset>``, with ``-2``, ``-3`` ... appended
    when the name is taken (two runs started in the same second get two folders)."""
    base = time.strftime("%Y%m%d-%H%M%S") + f"-{dataset}"
    root.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, 10_000):
        path = root / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            path.mkdir()  # atomic: fails if another process took the name first
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"could not create a new run folder {root / base}-N")  # pragma: no cover


class StartRun(Callback):
    """When training starts (all checks passed): take the folder, write ``config.toml``."""

    def __init__(self, folder: RunFolder, config: dict[str, Any]) -> None:
        self.folder = folder
        self.config = config

    def on_train_begin(self, trainer: Trainer) -> None:
        self.folder.start()
        text = config_module.dumps(_absolute_paths(self.config))
        (self.folder.path / "config.toml").write_text(text, encoding="utf-8")


def _absolute_paths(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with its file and folder paths absolute (from the working
    directory), so that the run's ``config.toml`` reads the same files from anywhere."""
    config = copy.deepcopy(config)
    tables = ((config.get("data", {}), ("train", "test", "data_dir")),
              (config.get("callbacks", {}).get("checkpoint", {}), ("path",)))
    for table, keys in tables:
        for key in keys:
            if isinstance(table.get(key), str):
                table[key] = os.path.abspath(os.path.expanduser(table[key]))
    return config


def write_history(history: Any, path: Path) -> None:
    """``history.csv``: one row per epoch, one column per recorded quantity."""
    keys = list(history.history)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", *keys])
        for row, epoch in enumerate(history.epochs):
            writer.writerow([epoch, *(repr(history.history[k][row]) for k in keys)])


def write_plots(trainer: Trainer, data: Data, out: Path) -> list[Path]:
    """The run's figures, or nothing when matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401

        from .. import plots
    except ImportError:
        return []
    written = [out / "history.png"]
    plots.plot_history(trainer.history, path=written[0])
    if data.task == "classification":
        written.append(out / "confusion_matrix.png")
        plots.plot_confusion_matrix(data.y_test, trainer.predict(data.X_test), path=written[-1])
        if data.n_features == 2:
            written.append(out / "decision_boundary.png")
            plots.plot_decision_boundary(trainer, data.X_test, data.y_test, path=written[-1])
    return written
