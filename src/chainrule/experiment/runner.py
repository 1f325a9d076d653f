"""``run``: from a checked config to a trained, evaluated and saved model in a run folder."""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .._atomic import write_atomically
from .._interrupt import DeferredInterrupt
from ..io import save
from ..training.checkpoint import ModelCheckpoint
from ..training.trainer import Trainer
from .data import Data, load_data
from .folder import RunFolder, StartRun, write_history, write_plots
from .model import build_network, build_trainer


@dataclass
class RunResult:
    """What :func:`run` produced. Its repr is a summary: the data by shape, not its values."""

    out_dir: Path
    trainer: Trainer
    data: Data
    test_metrics: dict[str, float]
    seconds: float
    files: list[Path]
    #: Whether a Ctrl-C came after training, while the run was evaluated and its files written
    #: (the run was finished first; the model holds the fully trained weights).
    interrupted_while_finishing: bool = False

    @property
    def interrupted(self) -> bool:
        """Whether Ctrl-C stopped training (the model holds the weights of that moment)."""
        return self.trainer.history.interrupted

    def __repr__(self) -> str:
        # Short, for a notebook cell's output: the files by name within out_dir, the data by
        # shape (Data's repr), the epochs trained instead of the trainer (result.trainer).
        files = [path.name if path.parent == self.out_dir else str(path) for path in self.files]
        late = ", interrupted_while_finishing=True" if self.interrupted_while_finishing else ""
        return (
            f"RunResult(out_dir={str(self.out_dir)!r}, test_metrics={self.test_metrics!r}, "
            f"epochs={len(self.trainer.history)}, seconds={self.seconds:.3g}, "
            f"interrupted={self.interrupted}{late}, files={files!r}, data={self.data!r})"
        )


def run(config: dict[str, Any], out_dir: str | Path | None = None, *,
        overwrite: bool = False) -> RunResult:
    """Train as ``config`` says and write the run folder; returns the :class:`RunResult`.

    The folder receives ``model.safetensors``, ``history.csv``, ``config.toml`` (the config
    actually used, defaults included, its paths made absolute), ``metrics.json`` (test
    metrics; strict JSON, so a metric that is not finite is the string ``"inf"``, ``"-inf"``
    or ``"nan"``) and, when matplotlib is installed, ``history.png`` plus, for a
    classification, ``confusion_matrix.png`` and (two features) ``decision_boundary.png``.
    Each file is written atomically, and a write error names the file. The figures are
    extras: one that cannot be drawn (matplotlib refusing its settings, a plot failing) is
    left out with a ``RuntimeWarning``, with those after it, and the run is kept.

    Parameters
    ----------
    config : dict
        A checked config (:func:`chainrule.config.load_config`).
    out_dir : path or None
        The run folder: a new or empty folder, so that every file in it belongs to this run.
        None: a new folder ``runs/<YYYYmmdd-HHMMSS>-<dataset>`` (``-2``, ``-3`` ... appended
        when that name is taken).
    overwrite : bool
        Allow a folder holding an earlier run: its run files (:data:`RUN_FILES`) stay in
        place while this run trains, are replaced by this run's own as they are written, and
        those not replaced are deleted once all are written (the replaced ones are put back
        if this run fails); other files are left alone.

    The data, the network, the trainer and every check of the config come first: a config
    error leaves no folder behind (the folder is created, or claimed, before loading the
    data, and removed again if the run does not start). ``config.toml`` is written when
    training starts (with ``overwrite`` over an earlier run's, when training ends).

    Ctrl-C stops training after the current batch; the run is then evaluated and saved as
    usual with the weights of that moment (one before the first step, with nothing trained,
    abandons the run: ``KeyboardInterrupt``), and ``metrics.json`` says so (``"interrupted":
    true``, ``"epochs"``: the completed epochs, ``"weights"``; when no epoch completed,
    ``"history_plot"`` says why there is no ``history.png``). A Ctrl-C after training, while
    the run is evaluated and its files written, lets them be finished (the result's
    :attr:`~RunResult.interrupted_while_finishing` is then True; unless ``training.verbose`` is
    0, a line on stderr says so at once).

    A run that fails once training has started (a diverged loss, an unwritable file, a second
    Ctrl-C while the files are written) removes the files it wrote and the folders it created,
    and with ``overwrite`` puts back the earlier run's files it replaced; only a training
    checkpoint it wrote is kept, and the exception's note (``exc.__notes__``) says where. See
    :mod:`chainrule.experiment.folder`.
    """
    folder = RunFolder(out_dir, config["data"].get("dataset", "run"), overwrite)
    trainer = None
    try:
        data = load_data(config["data"])
        net = build_network(config, data)
        trainer = build_trainer(config, net, data, callbacks=[], out_dir=folder.path)
        # Last, so that the other callbacks' own checks (on_train_begin) come first.
        trainer.callbacks.append(StartRun(folder, config))
        validation = None if data.X_val is None else (data.X_val, data.y_val)
        started = time.perf_counter()
        trainer.fit(data.X_train, data.y_train, epochs=config["training"]["epochs"],
                    validation_data=validation)
        seconds = time.perf_counter() - started
        say = _say_finishing if config["training"].get("verbose", 1) else None
        with DeferredInterrupt(say) as late_interrupt:  # half a run folder helps no one
            test_metrics = trainer.evaluate(data.X_test, data.y_test)
            files = _write_results(folder.path, trainer, data, test_metrics, seconds)
    except BaseException as exc:
        with DeferredInterrupt():  # one more Ctrl-C must not leave the folder half restored
            note = folder.fail(_checkpoint_written(trainer))
        if note:
            exc.add_note(note)
        raise
    folder.finish()
    return RunResult(folder.path, trainer, data, test_metrics, seconds, files,
                     late_interrupt.requested)


def _say_finishing() -> None:
    """The answer to a Ctrl-C that comes once training is over (printed from the handler,
    which drops an error of the print: a broken or busy stderr must not fail the run)."""
    print("training is over: finishing the run folder first (Ctrl-C again abandons the run "
          "and removes its files)", file=sys.stderr, flush=True)


def _write_results(out: Path, trainer: Trainer, data: Data, test_metrics: dict[str, float],
                   seconds: float) -> list[Path]:
    """The model, history, metrics and plots of a trained run (config.toml is already there)."""
    history = trainer.history
    files = [out / name for name in ("config.toml", "model.safetensors", "history.csv",
                                     "metrics.json")]
    save(trainer.net, files[1], trainer=trainer)
    write_history(history, files[2])
    summary = {"test": {name: _json_number(value) for name, value in test_metrics.items()},
               "n_test": len(data.y_test), "train_seconds": seconds,
               "epochs": len(history), "interrupted": history.interrupted, "note": history.note}
    if history.interrupted:
        when = (f"partway through epoch {trainer.epoch + 1}" if trainer.epoch_in_progress
                else f"at the end of epoch {trainer.epoch}")
        summary["weights"] = (
            f"as they were when training was interrupted, {when}; the test metrics are of these "
            f"weights, history.csv holds the {len(history)} completed epochs"
        )
    if not len(history):
        summary["history_plot"] = "none: no epoch completed, so history.png was not drawn"
    write_atomically(files[3], (json.dumps(summary, indent=2, allow_nan=False) + "\n").encode())
    return files + write_plots(trainer, data, out)


def _json_number(value: float) -> float | str:
    """``value``, or ``"inf"``, ``"-inf"`` or ``"nan"`` for what JSON has no number for (a
    diverged regression's loss); ``float()`` reads them back."""
    return value if math.isfinite(value) else str(value)


def _checkpoint_written(trainer: Trainer | None) -> Path | None:
    """The file a ModelCheckpoint of ``trainer`` wrote during this run, or None."""
    for callback in [] if trainer is None else trainer.callbacks:
        if isinstance(callback, ModelCheckpoint) and callback.written:
            path = Path(callback.path)
            if path.is_file():
                return path
    return None
