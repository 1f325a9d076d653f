"""From a config to a trained model: load and split the data, build the network, train, report.

This is what ``chainrule train`` runs; it is equally usable from Python::

    from chainrule.config import load_config
    from chainrule.experiment import run
    result = run(load_config(overrides=["training.epochs=5"]), out_dir="runs/quick")

Everything that can be checked before training is checked before the run folder is created,
and a problem of the config (a loss that does not fit the data, a metric of the other task, a
callback monitoring a quantity the run will not log ...) is a :class:`ConfigError` naming the
key: a run that starts does not stop on a config mistake later.
"""

from __future__ import annotations

import copy
import csv
import inspect
import json
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import _toml
from . import config as config_module
from .config import ConfigError
from .io import save
from .layers.activations import Identity, Softmax
from .layers.builders import architecture_layers, mlp_architecture
from .layers.dense import Dense
from .layers.rescale import Rescale
from .layers.sequential import Sequential
from .losses import BinaryCrossEntropy, CrossEntropy, Loss, get_loss
from .optim.base import Optimizer
from .optim.schedules import Schedule
from .preprocessing import MinMaxScaler, Standardizer
from .tables import read_table
from .training.callbacks import Callback, EarlyStopping, ReduceLROnPlateau
from .training.checkpoint import ModelCheckpoint
from .training.data import train_test_split
from .training.trainer import Trainer

GENERATORS = {
    "circles": "make_circles",
    "moons": "make_moons",
    "blobs": "make_blobs",
    "spiral": "make_spiral",
    "xor": "make_xor",
    "regression": "make_regression",
}


@dataclass
class Data:
    """The samples of a run, split. ``X_*`` (n_samples, n_features); ``y_*`` (n_samples,) or
    (n_samples, n_targets). Validation and test parts may be absent (None)."""

    name: str
    task: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    classes: np.ndarray | None = field(default=None)

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    @property
    def n_outputs(self) -> int:
        """Network outputs: 1 for two classes (sigmoid), one per class above that, one per
        regression target."""
        if self.task == "classification":
            return 1 if len(self.classes) == 2 else len(self.classes)
        return 1 if self.y_train.ndim == 1 else self.y_train.shape[1]


@dataclass
class RunResult:
    """What :func:`run` produced."""

    out_dir: Path
    trainer: Trainer
    data: Data
    test_metrics: dict[str, float]
    seconds: float
    files: list[Path]

    @property
    def interrupted(self) -> bool:
        """Whether Ctrl-C stopped training (the model holds the weights of that moment)."""
        return self.trainer.history.interrupted


# ------------------------------------------------------------------------------------ data

def load_data(section: dict[str, Any]) -> Data:
    """Load the data described by a config's ``[data]`` table and split it.

    Raises
    ------
    ConfigError
        The table does not fit the data: options the loader does not take, a single class, a
        split too small for one sample of every class on each side (the message names
        ``data.test_size`` or ``data.validation_size`` and the values that work), integer
        targets that look like regression values while ``data.task = "auto"``.
    """
    name = section.get("dataset", "digits")
    options = dict(section.get("options", {}))
    limit = section.get("limit")
    seed = section.get("seed", 0)
    test_size = section.get("test_size", 0.2)
    val_size = section.get("validation_size", 0.1)
    test = None
    if name == "files" and "train" not in section:
        raise ConfigError('data.train is required when data.dataset = "files": the path of a '
                          ".csv, .npz or .npy file")
    try:
        if name == "files":
            X, y = read_table(section["train"], section.get("target", -1))
            if "test" in section:
                test = read_table(section["test"], section.get("target", -1))
        elif name in GENERATORS:
            from . import datasets

            X, y = getattr(datasets, GENERATORS[name])(**{"seed": seed, **options})
        elif name == "digits":
            from .datasets import load_digits

            X, y = load_digits(**options)
        elif name in ("mnist", "fashion_mnist"):
            from . import datasets

            loader = getattr(datasets, f"load_{name}")
            (X, y), test = loader(section.get("data_dir"), **options)
        elif name == "california_housing":
            from .datasets import load_california_housing

            X, y, _ = load_california_housing(section.get("data_dir"), **options)
        else:
            raise ConfigError(f"data.dataset: unknown dataset {name!r}; valid names: "
                              f"{', '.join(config_module.DATASETS)}")
    except TypeError as exc:
        raise ConfigError(f"data.options: {exc}") from None
    if limit:
        X, y = X[:limit], y[:limit]
        test = None if test is None else (test[0][:limit], test[1][:limit])

    task = _task(section, name, y)
    classes = None
    if task == "classification":
        classes = _classes(section, name, y if test is None else np.concatenate([y, test[1]]))
    stratify = task == "classification"
    if test is None:
        X, X_test, y, y_test = _split(X, y, test_size, stratify=stratify, seed=seed,
                                      key="data.test_size", value=test_size, limit=limit,
                                      pool=f"the {len(y)} samples")
    else:
        X_test, y_test = test
    X_val = y_val = None
    if val_size:
        fraction = val_size / (1 - test_size) if test is None else val_size
        pool = (f"the {len(y)} samples left after the test part" if test is None else
                f"the {len(y)} training samples")
        X, X_val, y, y_val = _split(X, y, fraction, stratify=stratify, seed=seed,
                                    key="data.validation_size", value=val_size, limit=limit,
                                    pool=pool)
    return Data(name, task, X, y, X_val, y_val, X_test, y_test, classes)


def _split(X: np.ndarray, y: np.ndarray, fraction: float, *, stratify: bool, seed: int,
           key: str, value: float, limit: int | None, pool: str) -> list[np.ndarray]:
    """``train_test_split`` of ``fraction`` of (X, y) into the part that the config ``key``
    sizes (its ``value`` is ``fraction`` times a constant), or a ConfigError saying which
    values of ``key`` work. ``pool`` describes the samples split, for the message.

    ``train_test_split`` puts ``ceil(fraction · n)`` samples in the part; a stratified split
    needs, with k classes of two samples or more, between k and n − k there (one sample of
    each class on either side); any split needs one sample on each side.
    """
    n = len(y)
    part = max(1, math.ceil(round(fraction * n, 9)))
    low, high = 1, n - 1
    if stratify:
        _, counts = np.unique(y, return_counts=True)
        k = int(np.sum(counts >= 2))
        low, high = max(low, k), n - k
    if not low <= part <= high:
        what = "validation" if key == "data.validation_size" else "test"
        need = (f"a split stratified by class needs {low} to {high} there (one sample of each of "
                f"the {low} classes on each side)" if low > 1 else
                f"each side needs a sample, so {low} to {high}")
        # ceil(f · n) is in [low, high] for f in ((low - 1) / n, high / n]; and the config's
        # value is f times value / fraction.
        per_fraction = value / fraction
        if low > high:
            advice = f"use more data ({n} samples are too few for this split)"
        elif low == 1:
            advice = f"use {key} of at most {_round(high / n * per_fraction, 3, up=False):g}"
        else:
            a, b = _decimals_between((low - 1) / n * per_fraction, high / n * per_fraction)
            advice = f"use {key} between {a:g} and {b:g}" if a < b else f"use {key} = {a:g}"
        if limit:
            advice += f", or raise data.limit (now {limit})"
        if what == "validation":
            advice += ", or 0 for no validation part"
        raise ConfigError(f"{key} = {value:g} puts {part} of {pool} in the {what} part, but "
                          f"{need}: {advice}")
    try:
        return train_test_split(X, y, test_size=fraction, stratify=y if stratify else None,
                                seed=seed)
    except ValueError as exc:  # pragma: no cover - the bounds above are train_test_split's
        raise ConfigError(f"{key} = {value:g}: {exc}") from None


def _round(x: float, digits: int, *, up: bool) -> float:
    """``x > 0`` to ``digits`` significant digits, rounded up or down."""
    scale = 10.0 ** (digits - 1 - math.floor(math.log10(x)))
    return (math.ceil if up else math.floor)(x * scale) / scale


def _decimals_between(low: float, high: float) -> tuple[float, float]:
    """Short decimals ``a <= b`` with ``low < a`` and ``b <= high`` (0 < low < high): 3
    significant digits, more when the interval is narrower."""
    for digits in range(3, 16):
        a = _round(low, digits, up=True)
        if a <= low:  # low itself is excluded: one step up
            a += 10.0 ** (math.floor(math.log10(low)) - digits + 1)
        b = _round(high, digits, up=False)
        if a <= b:
            return a, b
    return high, high  # pragma: no cover - 15 digits always separate two floats this far apart


def _task(section: dict[str, Any], name: str, y: np.ndarray) -> str:
    task = section.get("task", "auto")
    if task != "auto":
        return task
    if name in config_module.REGRESSION_DATASETS:
        return "regression"
    if name in config_module.CLASSIFICATION_DATASETS:
        return "classification"
    if y.ndim == 1 and y.dtype.kind in "iub":
        distinct = len(np.unique(y))
        if distinct > max(_MANY_CLASSES, len(y) / 2):
            raise ConfigError(
                f'data.task = "auto" reads integer targets as class labels, but the targets of '
                f"{section.get('train')} hold {distinct} distinct values in {len(y)} rows, which "
                'look like values to predict: set data.task = "regression" (or "classification" '
                f"if they are {distinct} classes)"
            )
    return "classification" if y.ndim == 1 and y.dtype.kind in "iubUSO" else "regression"


#: ``data.task = "auto"`` refuses integer targets with more distinct values than this and than
#: half the rows (a regression target stored as integers: prices, counts, years).
_MANY_CLASSES = 20


def _classes(section: dict[str, Any], name: str, y: np.ndarray) -> np.ndarray:
    """The sorted class labels of all the data (every part); at least two."""
    classes = np.unique(y)
    if len(classes) < 2:
        where = ("check data.train and data.target (the label column)" if name == "files" else
                 f"check data.options = {_toml_value(section.get('options', {}))}")
        raise ConfigError(
            f"the {name} data has a single class ({classes.tolist()}), and classification needs "
            f"at least 2: {where}"
            + ('; or set data.task = "regression"' if name == "files" else "")
        )
    return classes


# ------------------------------------------------------------------------------------ model

def build_network(config: dict[str, Any], data: Data) -> Sequential:
    """The network of ``config["model"]`` for ``data``, with the ``[data] preprocess`` scaling
    (fitted on the training part) as a first ``Rescale`` layer."""
    model = config["model"]
    if "layers" in model:
        architecture = model["layers"]
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
    else:
        output = model.get("output", "auto")
        if output == "auto":
            output = _default_output(data)
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
    if isinstance(layers[-1], Softmax) and (data.n_outputs == 1 or data.task == "regression"):
        raise ConfigError(
            f"{_output_key(config)} does not fit {_describe(data)}: softmax divides each output "
            "by the sum of all of them, so it needs one output per class (with a single output "
            f"it is always 1); {_output_hint(config, _default_output(data))}"
        )
    preprocess = config["data"].get("preprocess", "none")
    if preprocess != "none":
        scaler = Standardizer() if preprocess == "standardize" else MinMaxScaler()
        layers.insert(0, Rescale.from_scaler(scaler.fit(data.X_train)))
    return Sequential(layers, dtype=model.get("dtype", "float32"), seed=model.get("seed", 0))


def _default_output(data: Data) -> str:
    if data.task == "regression":
        return "identity"
    return "sigmoid" if data.n_outputs == 1 else "softmax"


def _describe(data: Data) -> str:
    """``"the data (10 classes)"``, ``"the data (regression)"``."""
    if data.task == "regression":
        return "the data (regression)"
    return f"the data ({len(data.classes)} classes)"


def _output_key(config: dict[str, Any]) -> str:
    """How the config chose the network's output activation, as the user wrote it."""
    model = config["model"]
    if "layers" in model:
        activation = model["layers"][-1].get("activation", "identity")
        if activation == "identity":
            return "model.layers[-1] (no activation)"
        return f"model.layers[-1].activation = {_toml_value(activation)}"
    return f"model.output = {_toml_value(model.get('output', 'auto'))}"


def _output_hint(config: dict[str, Any], activation: str) -> str:
    """How to give the network the output ``activation`` in this config."""
    if "layers" in config["model"]:
        return f'give the last model.layers entry activation = "{activation}"'
    return f'use model.output = "{activation}" (or "auto")'


def _toml_value(value: Any) -> str:
    return _toml.inline(value)


def build_trainer(config: dict[str, Any], net: Sequential, data: Data, callbacks: list,
                  out_dir: Path | None = None) -> Trainer:
    """The Trainer of ``config``: loss, optimizer, schedule, training settings, callbacks.

    A ``checkpoint`` callback without a ``path`` writes ``checkpoint.safetensors`` in
    ``out_dir``. For classification the trainer knows every class of ``data`` (of all its
    parts) from the start, so the network's outputs are those classes even when the training
    part lacks one.

    Raises
    ------
    ConfigError
        Besides what the Trainer refuses: a metric of the other task, ``r2`` on a part of
        fewer than 2 samples, a callback monitoring a quantity the run does not log, a
        checkpoint path in a folder that does not exist.
    """
    training = config["training"]
    metrics = training.get("metrics", "auto")
    if metrics == "auto":
        metrics = ["accuracy"] if data.task == "classification" else ["mae", "r2"]
    _check_metrics(metrics, data, auto=training.get("metrics", "auto") == "auto")
    _check_callbacks(config, metrics, data)
    for name, options in config.get("callbacks", {}).items():
        if name == "early_stopping":
            callbacks.append(EarlyStopping(**options))
        elif name == "reduce_lr_on_plateau":
            callbacks.append(ReduceLROnPlateau(**options))
        elif name == "checkpoint":
            default = Path(out_dir or ".") / "checkpoint.safetensors"
            callbacks.append(ModelCheckpoint(**{"path": default, **options}))
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
        task = "multiclass" if isinstance(loss, CrossEntropy) else "binary"
        trainer.restore_encoder({"task": task, "y_ndim": 1, "classes": data.classes})
    return trainer


def _check_metrics(names: list[str], data: Data, *, auto: bool) -> None:
    """Metrics of the data's task, and ``r2`` only on parts of two samples or more."""
    from .training.metrics import METRICS, accuracy, log_loss, r2_score

    key = 'training.metrics = "auto"' if auto else "training.metrics"
    functions = [METRICS.get(name) for name in names]
    for name, function in zip(names, functions):
        kind = "classification" if function in (accuracy, log_loss) else "regression"
        if kind != data.task:
            others = '"accuracy", "log_loss"' if data.task == "classification" else '"mae", "mse", "r2"'
            raise ConfigError(f'{key}: "{name}" is a {kind} metric, but {_describe(data)} is '
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


def _check_callbacks(config: dict[str, Any], metrics: list[str], data: Data) -> None:
    """Each callback monitors a quantity the run logs; a checkpoint's folder exists."""
    logged = ["loss", *metrics, "lr", "seconds"]
    if data.X_val is not None:
        logged += [f"val_{name}" for name in ("loss", *metrics)]
    for name, options in config.get("callbacks", {}).items():
        cls = {"early_stopping": EarlyStopping, "reduce_lr_on_plateau": ReduceLROnPlateau,
               "checkpoint": ModelCheckpoint}.get(name)
        if cls is None:
            continue  # an unknown callback: the config check names it
        monitor = options.get("monitor", inspect.signature(cls).parameters["monitor"].default)
        uses_monitor = name != "checkpoint" or options.get("save_best_only", False)
        if uses_monitor and monitor not in logged:
            key = f"callbacks.{name}.monitor = {_toml_value(monitor)}"
            if monitor.startswith("val_") and data.X_val is None:
                raise ConfigError(
                    f"{key}{'' if 'monitor' in options else ' (its default)'} needs a "
                    "validation part, but data.validation_size is 0: set data.validation_size "
                    f'(e.g. 0.1), or monitor "{monitor.removeprefix("val_")}"'
                )
            raise ConfigError(f"{key}: the run does not log it; it logs {logged}")
        if name == "checkpoint" and "path" in options:
            path = Path(options["path"]).expanduser()
            if path.is_dir():
                raise ConfigError(f"callbacks.checkpoint.path = {_toml_value(options['path'])} is "
                                  "a folder; give a file name such as checkpoint.safetensors")
            if not path.parent.is_dir():
                raise ConfigError(
                    f"callbacks.checkpoint.path = {_toml_value(options['path'])}: the folder "
                    f"{path.parent} does not exist; create it, or leave the path out to write "
                    "checkpoint.safetensors into the run folder"
                )


def build_loss(config: dict[str, Any], data: Data, net: Sequential) -> Loss:
    """The ``[loss]`` table's loss; ``"auto"`` picks MSE for regression, binary cross-entropy
    for one output and cross-entropy for several.

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
    try:
        loss = get_loss(table)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"loss: {exc}") from None
    key = f'loss.name = "{name}"' if name != "auto" else f'the loss ("auto": {table["name"]})'
    _check_loss(config, data, net, loss, key)
    return loss


def _check_loss(config: dict[str, Any], data: Data, net: Sequential, loss: Loss, key: str) -> None:
    """The loss fits the task, the number of classes and the network's output activation
    (``key`` names the loss in messages)."""
    classifier = isinstance(loss, (CrossEntropy, BinaryCrossEntropy))
    if data.task == "regression":
        if classifier:
            raise ConfigError(
                f'{key} is a classification loss, but {_describe(data)} holds values to predict: '
                'use "mse", "mae", "huber" or "auto", or set data.task = "classification" if y '
                "holds class labels"
            )
        return
    if not classifier:
        raise ConfigError(
            f'{key} is a regression loss, but {_describe(data)} is classification: use '
            '"auto" (cross-entropy), or set data.task = "regression" if y holds values to predict'
        )
    if isinstance(loss, CrossEntropy) and net.out_features == 1:
        raise ConfigError(f'{key} needs one output per class, but two classes get a single '
                          'sigmoid output: use "binary_cross_entropy" or "auto"')
    if isinstance(loss, BinaryCrossEntropy) and net.out_features > 1:
        raise ConfigError(f'{key} is for two classes (one sigmoid output), but '
                          f'{_describe(data)} has more: use "cross_entropy" or "auto"')
    wanted = loss.fused_activation  # Softmax for cross-entropy, Sigmoid for binary
    activation = wanted.__name__.lower()
    last = net.layers[-1]
    output = _output_key(config)
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
        f"{output} {problem} (loss.from_logits = false): {_output_hint(config, activation)}, "
        "or set loss.from_logits = true to train on raw scores"
    )


# ------------------------------------------------------------------------------------ run

#: The files a run writes into its folder (``overwrite`` replaces them).
RUN_FILES = ("config.toml", "model.safetensors", "history.csv", "metrics.json", "history.png",
             "confusion_matrix.png", "decision_boundary.png", "checkpoint.safetensors")


def run(config: dict[str, Any], out_dir: str | Path | None = None, *,
        overwrite: bool = False) -> RunResult:
    """Train as ``config`` says and write the run folder; returns the :class:`RunResult`.

    The folder receives ``model.safetensors``, ``history.csv``, ``config.toml`` (the config
    actually used, defaults included, its paths made absolute), ``metrics.json`` (test
    metrics) and, when matplotlib is installed, ``history.png`` plus ``confusion_matrix.png``
    or ``decision_boundary.png``.

    Parameters
    ----------
    config : dict
        A checked config (:func:`chainrule.config.load_config`).
    out_dir : path or None
        The run folder: a new or empty folder, so that every file in it belongs to this run.
        None: a new folder ``runs/<YYYYmmdd-HHMMSS>-<dataset>`` (``-2``, ``-3`` ... appended
        when that name is taken).
    overwrite : bool
        Allow a folder holding an earlier run: its run files (:data:`RUN_FILES`) are deleted
        when training starts; other files are left alone.

    The data, the network, the trainer and every check of the config come first: a config
    error leaves no folder behind (the folder is created, or claimed, before loading the
    data, and removed again if the run does not start). ``config.toml`` is written when
    training starts.

    Ctrl-C stops training after the current batch; the run is then evaluated and saved as
    usual with the weights of that moment, and ``metrics.json`` says so (``"interrupted":
    true``, ``"epochs"``: the completed epochs, ``"weights"``).
    """
    folder = _RunFolder(out_dir, config["data"].get("dataset", "run"), overwrite)
    try:
        data = load_data(config["data"])
        net = build_network(config, data)
        trainer = build_trainer(config, net, data, callbacks=[], out_dir=folder.path)
        # Last, so that the other callbacks' own checks (on_train_begin) come first.
        trainer.callbacks.append(_StartRun(folder, config))
        validation = None if data.X_val is None else (data.X_val, data.y_val)
        started = time.perf_counter()
        history = trainer.fit(data.X_train, data.y_train, epochs=config["training"]["epochs"],
                              validation_data=validation)
    except BaseException:
        folder.release()
        raise
    seconds = time.perf_counter() - started
    test_metrics = trainer.evaluate(data.X_test, data.y_test)

    out = folder.path
    files = [out / "config.toml", out / "model.safetensors", out / "history.csv", out / "metrics.json"]
    save(net, files[1], trainer=trainer)
    write_history(history, files[2])
    summary = {"test": test_metrics, "n_test": len(data.y_test), "train_seconds": seconds,
               "epochs": len(history), "interrupted": history.interrupted, "note": history.note}
    if history.interrupted:
        summary["weights"] = (
            f"as they were when training was interrupted, partway through epoch "
            f"{len(history) + 1}; the test metrics are of these weights, history.csv holds the "
            f"{len(history)} completed epochs"
        )
    files[3].write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    files += write_plots(trainer, data, out)
    return RunResult(out, trainer, data, test_metrics, seconds, files)


class _RunFolder:
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


class _StartRun(Callback):
    """When training starts (all checks passed): take the folder, write ``config.toml``."""

    def __init__(self, folder: _RunFolder, config: dict[str, Any]) -> None:
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

        from . import plots
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
