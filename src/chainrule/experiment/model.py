"""The network, loss and Trainer of a run, built from a checked config for its data."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ..config import ConfigError, callback_class
from ..layers.activations import Sigmoid
from ..layers.builders import architecture_layers, mlp_architecture
from ..layers.rescale import Rescale
from ..layers.sequential import Sequential
from ..losses import Loss, get_loss, is_old_log_loss
from ..optim.base import Optimizer
from ..optim.schedules import Schedule
from ..preprocessing import MinMaxScaler, Standardizer
from ..training.targets import TargetEncoder
from ..training.trainer import Trainer
from .checks import (
    check_callbacks,
    check_layer_sizes,
    check_loss,
    check_metrics,
    check_output_layer,
    default_output,
)
from .data import Data
from .folder import CHECKPOINT


def build_network(config: dict[str, Any], data: Data) -> Sequential:
    """The network of ``config["model"]`` for ``data``, with the ``[data] preprocess`` scaling
    (fitted on the training part) as a first ``Rescale`` layer."""
    model = config["model"]
    if "layers" in model:
        architecture = model["layers"]
        check_layer_sizes(architecture, data)
    else:
        output = model.get("output", "auto")
        if output == "auto":
            output = default_output(data)
        try:
            architecture = mlp_architecture(
                [data.n_features, *model.get("hidden", []), data.n_outputs],
                model.get("activation", "relu"), output, dropout=model.get("dropout", 0.0),
                l1=model.get("l1", 0.0), l2=model.get("l2", 0.0), init=model.get("init"),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"model: {exc}") from None
    try:
        layers = architecture_layers(architecture)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model.layers: {exc}") from None
    check_output_layer(config, data, layers[-1])
    preprocess = config["data"].get("preprocess", "none")
    if preprocess != "none":
        scaler = Standardizer() if preprocess == "standardize" else MinMaxScaler()
        layers.insert(0, Rescale.from_scaler(scaler.fit(data.X_train)))
    return Sequential(layers, dtype=model.get("dtype", "float32"), seed=model.get("seed", 0))


def build_trainer(config: dict[str, Any], net: Sequential, data: Data, callbacks: list,
                  out_dir: Path | None = None) -> Trainer:
    """The Trainer of ``config``: loss, optimizer, schedule, training settings, callbacks.

    A ``checkpoint`` callback without a ``path`` writes ``checkpoint.safetensors`` in
    ``out_dir``. For classification the trainer knows the classes of ``data`` from the start
    (the training data's labels, see :func:`~chainrule.experiment.data.load_data`), so the
    network's outputs are those classes even when the training part split from the data lacks
    one.

    Raises
    ------
    ConfigError
        Besides what the Trainer refuses: a metric of the other task, ``r2`` on a part of
        fewer than 2 samples, a callback monitoring a quantity the run does not log, a
        checkpoint path in a folder that does not exist or naming one of the run's own files
        in ``out_dir``.
    """
    training = config["training"]
    metrics = training.get("metrics", "auto")
    if metrics == "auto":
        metrics = ["accuracy"] if data.task == "classification" else ["mae", "r2"]
    check_metrics(metrics, data, auto=training.get("metrics", "auto") == "auto")
    check_callbacks(config, metrics, data, out_dir)
    for name, options in config.get("callbacks", {}).items():
        if name == "checkpoint":  # in the run folder by default; a leading ~ is the home folder
            path = Path(options["path"]).expanduser() if "path" in options else None
            options = {**options, "path": path or Path(out_dir or ".") / CHECKPOINT}
        callbacks.append(callback_class(name)(**options))
    loss = build_loss(config, data, net)
    try:
        trainer = Trainer(
            net,
            loss,
            Optimizer.from_config(config["optimizer"]),
            batch_size=training.get("batch_size", 32),
            shuffle=training.get("shuffle", True),
            seed=training.get("seed", 0),
            metrics=metrics,
            callbacks=callbacks,
            verbose=training.get("verbose", 1),
            schedule=Schedule.from_config(config["schedule"]) if "schedule" in config else None,
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    if data.task == "classification":
        trainer.encoder = run_encoder(data, loss, net)
    return trainer


def run_encoder(data: Data, loss: Loss, net: Sequential) -> TargetEncoder:
    """The targets' encoder of a run: for classification, the classes of ``data`` (those of
    the training data, even when the training part split from it lacks one); for regression,
    the training targets' shape."""
    targets = data.classes if data.task == "classification" else data.y_train
    return TargetEncoder(loss, net.out_features or 1).fit(targets)


def build_loss(config: dict[str, Any], data: Data, net: Sequential) -> Loss:
    """The ``[loss]`` table's loss; ``"auto"`` picks MSE for regression, binary cross-entropy
    for one output and cross-entropy for several. ``"log_loss"``, binary cross-entropy's alias
    in earlier versions, is still read so for a network ending in a sigmoid, with a
    ``FutureWarning``, and refused (saying which loss to use) for any other.

    Raises
    ------
    ConfigError
        A loss of the other task, or of the wrong number of classes, or one that does not fit
        the network's output (cross-entropy on outputs that are not probabilities and not
        ``from_logits``, or on probabilities with ``from_logits = true``).
    """
    table = dict(config.get("loss", {"name": "auto"}))
    name = table.get("name", "auto")
    if name == "auto":
        if data.task == "regression":
            table = {"name": "mse"}
        else:
            table = {"name": "binary_cross_entropy" if net.out_features == 1 else "cross_entropy"}
    elif is_old_log_loss(name):
        table["name"] = _old_log_loss(name, net)
    try:
        loss = get_loss(table)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"loss: {exc}") from None
    key = f'loss.name = "{name}"' if name != "auto" else f'the loss ("auto": {table["name"]})'
    check_loss(config, data, net, loss, key)
    return loss


def _old_log_loss(name: str, net: Sequential) -> str:
    """The loss that ``loss.name = "log_loss"`` (binary cross-entropy's alias in earlier
    versions) names for ``net``: ``"binary_cross_entropy"``, with a ``FutureWarning``, for a
    network that ends in a sigmoid (the one reading that fits it); otherwise the name itself,
    which :func:`~chainrule.losses.get_loss` refuses saying which loss to use."""
    if not isinstance(net.layers[-1], Sigmoid):
        return name
    warnings.warn(
        f'loss.name = "{name}" is read as "binary_cross_entropy" (one probability per sigmoid '
        'output), as earlier versions did; "log_loss" is no longer a loss name, because it '
        'could mean cross-entropy too: write loss.name = "binary_cross_entropy"',
        FutureWarning, stacklevel=2,
    )
    return "binary_cross_entropy"


