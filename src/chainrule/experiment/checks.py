"""Checks of a config against its data, run before anything is trained or written, and the
wording their messages share (how the config named what it chose)."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from .. import _toml
from ..config import ConfigError, callback_class
from ..layers.activations import Identity, Softmax
from ..layers.base import Layer
from ..layers.dense import Dense
from ..layers.dropout import Dropout
from ..layers.sequential import Sequential
from ..losses import BinaryCrossEntropy, CrossEntropy, Loss
from ..training.trainer import logged_keys
from .data import Data
from .folder import CHECKPOINT, LOCK, RUN_FILES, directly_in, is_folder, same_name


def check_layer_sizes(architecture: list[dict[str, Any]], data: Data) -> None:
    """``model.layers`` starts with the data's features and ends with its outputs."""
    first = architecture[0].get("input_dim")
    if first != data.n_features:
        raise ConfigError(
            f"model.layers[0].input_dim is {first!r}, but the data has {data.n_features} "
            "features"
        )
    last = architecture[-1].get("output_dim")
    if last != data.n_outputs:
        raise ConfigError(
            f"model.layers[-1].output_dim is {last!r}, but the data needs {data.n_outputs} "
            "outputs (one per class, or 1 for two classes, or one per regression target)"
        )


def check_output_layer(config: dict[str, Any], data: Data, last: Layer) -> None:
    """Nothing after the output activation (a Dropout there would zero random outputs, the
    probabilities or predictions themselves); a softmax output has one output per class (never
    one output, never regression)."""
    if isinstance(last, Dropout):
        entry = config["model"]["layers"][-1]  # the mlp builder puts dropout after hidden layers
        activation = entry.get("activation", "identity")
        after = ("the output" if activation == "identity" else
                 f"the output activation ({_toml.inline(activation)})")
        raise ConfigError(
            f"model.layers[-1].dropout = {entry['dropout']:g} puts a Dropout layer after "
            f"{after}: in training it would set random outputs of the network to 0 (and scale "
            "the rest), so the loss would see damaged predictions. Remove dropout from the last "
            "model.layers entry; dropout belongs on hidden layers (before the output layer)"
        )
    if isinstance(last, Softmax) and (data.n_outputs == 1 or data.task == "regression"):
        raise ConfigError(
            f"{output_key(config)} does not fit {describe(data)}: softmax divides each output "
            "by the sum of all of them, so it needs one output per class (with a single output "
            f"it is always 1); {output_hint(config, default_output(data))}"
        )


def check_metrics(names: list[str], data: Data, *, auto: bool) -> None:
    """Metrics of the data's task, and ``r2`` only on parts of two samples or more."""
    from ..training.metrics import METRICS, metric_task, r2_score

    key = 'training.metrics = "auto"' if auto else "training.metrics"
    functions = [METRICS.get(name) for name in names]
    for name, function in zip(names, functions):
        kind = metric_task(function)
        if kind != data.task:
            others = ('"accuracy", "log_loss"' if data.task == "classification"
                      else '"mae", "mse", "r2"')
            raise ConfigError(f'{key}: "{name}" is a {kind} metric, but {describe(data)} is '
                              f'{data.task}; use {others} or "auto"')
    if r2_score in functions:
        parts = (("training", data.y_train, "data.test_size or data.validation_size"),
                 ("validation", data.y_val, "data.validation_size"),
                 ("test", data.y_test, "data.test_size"))
        for part, y, sizes in parts:
            if y is not None and len(y) < 2:
                raise ConfigError(
                    f'{key} includes "r2", which needs at least 2 samples, but the {part} part '
                    f"has {len(y)}: change {sizes}, use more data, or leave r2 out "
                    '(training.metrics = ["mae"])'
                )


def check_callbacks(config: dict[str, Any], metrics: list[str], data: Data,
                    out_dir: Path | None = None) -> None:
    """Each callback monitors a quantity the run logs; a checkpoint's folder exists (a path
    the system cannot look up, such as a name over 255 bytes, is refused naming the key), and
    its file is none of the run's own files in ``out_dir`` (the run folder, when known),
    whatever the case of its name (one file where case is ignored)."""
    logged = logged_keys(metrics, validation=data.X_val is not None)
    for name, options in config.get("callbacks", {}).items():  # names the config check knows
        default = inspect.signature(callback_class(name)).parameters["monitor"].default
        monitor = options.get("monitor", default)
        uses_monitor = name != "checkpoint" or options.get("save_best_only", False)
        if uses_monitor and monitor not in logged:
            key = f"callbacks.{name}.monitor = {_toml.inline(monitor)}"
            if monitor.startswith("val_") and data.X_val is None:
                raise ConfigError(
                    f"{key}{'' if 'monitor' in options else ' (its default)'} needs a "
                    "validation part, but data.validation_size is 0: set data.validation_size "
                    f'(e.g. 0.1), or monitor "{monitor.removeprefix("val_")}"'
                )
            raise ConfigError(f"{key}: the run does not log it; it logs {logged}")
        if name == "checkpoint" and "path" in options:
            path = Path(options["path"]).expanduser()
            key = f"callbacks.checkpoint.path = {_toml.inline(options['path'])}"
            if is_folder(path, key):
                raise ConfigError(f"{key} is a folder; give a file name such as {CHECKPOINT}")
            if not is_folder(path.parent, key):
                raise ConfigError(
                    f"{key}: the folder {path.parent} does not exist; create it, or leave the "
                    f"path out to write {CHECKPOINT} into the run folder"
                )
            own = out_dir is not None and directly_in(path, Path(out_dir)) and next(
                (name for name in (*RUN_FILES, LOCK) if name != CHECKPOINT
                 and same_name(name, path)), None)
            if own:
                raise ConfigError(
                    f"{key} is the run's own {own}, which the run writes too; choose "
                    f"another file name, or leave the path out to write {CHECKPOINT} into the "
                    "run folder"
                )


def check_loss(config: dict[str, Any], data: Data, net: Sequential, loss: Loss, key: str) -> None:
    """The loss fits the task, the number of classes and the network's output activation
    (``key`` names the loss in messages)."""
    classifier = isinstance(loss, (CrossEntropy, BinaryCrossEntropy))
    if data.task == "regression":
        if classifier:
            raise ConfigError(
                f'{key} is a classification loss, but {describe(data)} holds values to predict: '
                'use "mse", "mae", "huber" or "auto", or set data.task = "classification" if y '
                "holds class labels"
            )
        return
    if not classifier:
        raise ConfigError(
            f'{key} is a regression loss, but {describe(data)} is classification: use '
            '"auto" (cross-entropy), or set data.task = "regression" if y holds values to predict'
        )
    if isinstance(loss, CrossEntropy) and net.out_features == 1:
        raise ConfigError(f'{key} needs one output per class, but two classes get a single '
                          'sigmoid output: use "binary_cross_entropy" or "auto"')
    if isinstance(loss, BinaryCrossEntropy) and net.out_features > 1:
        raise ConfigError(f'{key} is for two classes (one sigmoid output), but '
                          f'{describe(data)} has more: use "cross_entropy" or "auto"')
    wanted = loss.fused_activation  # Softmax for cross-entropy, Sigmoid for binary
    activation = wanted.__name__.lower()
    last = net.layers[-1]
    output = output_key(config)
    if loss.from_logits:
        if isinstance(last, wanted):
            raise ConfigError(
                f"{output} already turns the outputs into probabilities, but loss.from_logits = "
                "true expects raw scores (logits): set loss.from_logits = false, or end the "
                "network without an activation"
            )
        return
    if isinstance(last, wanted):
        return
    probabilities = (f"probabilities that sum to 1 over the {len(data.classes)} classes"
                     if wanted is Softmax else "probabilities in [0, 1]")
    if isinstance(last, (Dense, Identity)):
        problem = f"gives raw scores (logits), not the {probabilities} that {key} expects"
    else:
        problem = f"does not give the {probabilities} that {key} expects"
    raise ConfigError(
        f"{output} {problem} (loss.from_logits = false): {output_hint(config, activation)}, "
        "or set loss.from_logits = true to train on raw scores"
    )


def default_output(data: Data) -> str:
    """The output activation ``model.output = "auto"`` gives ``data``."""
    if data.task == "regression":
        return "identity"
    return "sigmoid" if data.n_outputs == 1 else "softmax"


def describe(data: Data) -> str:
    """``"the data (10 classes)"``, ``"the data (regression)"``."""
    if data.task == "regression":
        return "the data (regression)"
    return f"the data ({len(data.classes)} classes)"


def output_key(config: dict[str, Any]) -> str:
    """How the config chose the network's output activation, as the user wrote it."""
    model = config["model"]
    if "layers" in model:
        activation = model["layers"][-1].get("activation", "identity")
        if activation == "identity":
            return "model.layers[-1] (no activation)"
        return f"model.layers[-1].activation = {_toml.inline(activation)}"
    return f"model.output = {_toml.inline(model.get('output', 'auto'))}"


def output_hint(config: dict[str, Any], activation: str) -> str:
    """How to give the network the output ``activation`` in this config."""
    if "layers" in config["model"]:
        return f'give the last model.layers entry activation = "{activation}"'
    return f'use model.output = "{activation}" (or "auto")'


