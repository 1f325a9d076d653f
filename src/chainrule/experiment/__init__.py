"""From a config to a trained model: load and split the data, build the network, train, report.

This is what ``chainrule train`` runs; it is equally usable from Python::

    from chainrule.config import load_config
    from chainrule.experiment import run
    result = run(load_config(overrides=["training.epochs=5"]), out_dir="runs/quick")

Everything that can be checked before training is checked before the run folder is created,
and a problem of the config (a loss that does not fit the data, a metric of the other task, a
callback monitoring a quantity the run will not log ...) is a :class:`ConfigError` naming the
key: a run that starts does not stop on a config mistake later (a separate ``data.test`` file
is checked against the training data too: its width and its labels). A run that fails after
training started leaves no half-written folder: it removes what it wrote, and with
``overwrite`` the earlier run's files come back; only a training checkpoint it wrote is kept
(see :mod:`chainrule.experiment.folder`).

The package's modules: ``data`` (load and split), ``model`` (network, loss, Trainer),
``checks`` (the config against the data), ``folder`` (the run folder and its files) and
``runner`` (:func:`run`).
"""

from .data import Data, load_data
from .folder import RUN_FILES, write_history, write_plots
from .model import build_loss, build_network, build_trainer
from .runner import RunResult, run

__all__ = ["RUN_FILES", "Data", "RunResult", "build_loss", "build_network", "build_trainer",
           "load_data", "run", "write_history", "write_plots"]
