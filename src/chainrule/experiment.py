"""From a config to a trained model: load and split the data, build the network, train, report.

This is what ``chainrule train`` runs; it is equally usable from Python::

    from chainrule.config import load_config
    from chainrule.experiment import run
    result = run(load_config(overrides=["training.epochs=5"]), out_dir="runs/quick")
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import config as config_module
from .config import ConfigError
from .io import save
from .layers.builders import architecture_layers, mlp_architecture
from .layers.rescale import Rescale
from .layers.sequential import Sequential
from .losses import Loss, get_loss
from .optim.base import Optimizer
from .optim.schedules import Schedule
from .preprocessing import MinMaxScaler, Standardizer
from .training.callbacks import EarlyStopping, ReduceLROnPlateau
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


# ------------------------------------------------------------------------------------ data

def load_data(section: dict[str, Any]) -> Data:
    """Load the data described by a config's ``[data]`` table and split it."""
    name = section.get("dataset", "digits")
    options = dict(section.get("options", {}))
    limit = section.get("limit")
    seed = section.get("seed", 0)
    test_size = section.get("test_size", 0.2)
    val_size = section.get("validation_size", 0.1)
    test = None
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
        else:  # pragma: no cover - the config check lists the names
            raise ConfigError(f"data.dataset: unknown dataset {name!r}")
    except TypeError as exc:
        raise ConfigError(f"data.options: {exc}") from None
    if limit:
        X, y = X[:limit], y[:limit]
        test = None if test is None else (test[0][:limit], test[1][:limit])

    task = _task(section, name, y)
    stratify = y if task == "classification" else None
    if test is None:
        X, X_test, y, y_test = train_test_split(X, y, test_size=test_size, stratify=stratify,
                                                seed=seed)
    else:
        X_test, y_test = test
    X_val = y_val = None
    if val_size:
        stratify = y if task == "classification" else None
        X, X_val, y, y_val = train_test_split(X, y, test_size=val_size / (1 - test_size)
                                              if test is None else val_size,
                                              stratify=stratify, seed=seed)
    classes = None
    if task == "classification":
        classes = np.unique(np.concatenate([y, y_test] + ([] if y_val is None else [y_val])))
    return Data(name, task, X, y, X_val, y_val, X_test, y_test, classes)


def _task(section: dict[str, Any], name: str, y: np.ndarray) -> str:
    task = section.get("task", "auto")
    if task != "auto":
        return task
    if name in config_module.REGRESSION_DATASETS:
        return "regression"
    if name in config_module.CLASSIFICATION_DATASETS:
        return "classification"
    return "classification" if y.ndim == 1 and y.dtype.kind in "iubUSO" else "regression"


def read_table(path: str | Path, target: int | str = -1) -> tuple[np.ndarray, np.ndarray]:
    """Features and targets from a .csv (header optional), .npz (arrays X, y) or .npy file
    (the ``target`` column is y)."""
    path = Path(path)
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as archive:
            if "X" not in archive or "y" not in archive:
                raise ValueError(f"{path} must hold arrays named X and y, has {archive.files}")
            return archive["X"], archive["y"]
    header, rows = _read_rows(path)
    column = _target_column(target, header, len(rows[0]) if rows else 0, path)
    y = np.array([row[column] for row in rows])
    features = [[value for i, value in enumerate(row) if i != column] for row in rows]
    try:
        X = np.array(features, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{path}: every feature column must be numeric") from None
    try:
        y = y.astype(np.float64)
        if np.all(y == np.round(y)):
            y = y.astype(np.int64)
    except ValueError:
        pass  # string class labels
    return X, y


def read_features(path: str | Path) -> np.ndarray:
    """A 2-D array of features from a .npy file or a numeric .csv (header optional)."""
    path = Path(path)
    if path.suffix == ".npy":
        X = np.load(path, allow_pickle=False)
        return X.reshape(1, -1) if X.ndim == 1 else X
    _, rows = _read_rows(path)
    try:
        return np.array(rows, dtype=np.float64)
    except ValueError:
        raise ValueError(f"{path}: every column must be numeric") from None


def _read_rows(path: Path) -> tuple[list[str] | None, list[list[str]]]:
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
        return None, [[str(v) for v in row] for row in np.atleast_2d(array)]
    with open(path, newline="", encoding="utf-8") as file:
        rows = [row for row in csv.reader(file) if row]
    if not rows:
        raise ValueError(f"{path} is empty")
    header = None
    try:
        [float(value) for value in rows[0]]
    except ValueError:
        header, rows = rows[0], rows[1:]
    widths = {len(row) for row in rows}
    if len(widths) > 1:
        raise ValueError(f"{path}: rows have different numbers of columns {sorted(widths)}")
    return header, rows


def _target_column(target: int | str, header: list[str] | None, width: int, path: Path) -> int:
    if isinstance(target, str):
        if header is None or target not in header:
            raise ConfigError(f"data.target: no column {target!r} in {path} (header: {header})")
        return header.index(target)
    if not -width <= target < width:
        raise ConfigError(f"data.target: column {target} does not exist in {path} ({width} columns)")
    return target % width


def write_table(path: str | Path, values: np.ndarray, header: list[str] | None = None) -> None:
    """Write predictions as .npy or .csv (by extension)."""
    path = Path(path)
    if path.suffix == ".npy":
        np.save(path, values, allow_pickle=False)
        return
    values = values.reshape(len(values), -1)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        if header:
            writer.writerow(header)
        writer.writerows(values.tolist())


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
                f"model.layers[0].input_dim is {first}, but the data has {data.n_features} features"
            )
        last = architecture[-1].get("output_dim")
        if last != data.n_outputs:
            raise ConfigError(
                f"model.layers[-1].output_dim is {last}, but the data needs {data.n_outputs} "
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
    preprocess = config["data"].get("preprocess", "none")
    if preprocess != "none":
        scaler = Standardizer() if preprocess == "standardize" else MinMaxScaler()
        layers.insert(0, Rescale.from_scaler(scaler.fit(data.X_train)))
    return Sequential(layers, dtype=model.get("dtype", "float32"), seed=model.get("seed", 0))


def _default_output(data: Data) -> str:
    if data.task == "regression":
        return "identity"
    return "sigmoid" if data.n_outputs == 1 else "softmax"


def build_trainer(config: dict[str, Any], net: Sequential, data: Data, callbacks: list,
                  out_dir: Path | None = None) -> Trainer:
    """The Trainer of ``config``: loss, optimizer, schedule, training settings, callbacks.

    A ``checkpoint`` callback without a ``path`` writes ``checkpoint.safetensors`` in
    ``out_dir``.
    """
    training = config["training"]
    metrics = training.get("metrics", "auto")
    if metrics == "auto":
        metrics = ["accuracy"] if data.task == "classification" else ["mae", "r2"]
    for name, options in config.get("callbacks", {}).items():
        if name == "early_stopping":
            callbacks.append(EarlyStopping(**options))
        elif name == "reduce_lr_on_plateau":
            callbacks.append(ReduceLROnPlateau(**options))
        elif name == "checkpoint":
            default = Path(out_dir or ".") / "checkpoint.safetensors"
            callbacks.append(ModelCheckpoint(**{"path": default, **options}))
    try:
        return Trainer(
            net,
            build_loss(config, data, net),
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


def build_loss(config: dict[str, Any], data: Data, net: Sequential) -> Loss:
    """The ``[loss]`` table's loss; ``"auto"`` picks MSE for regression, binary cross-entropy
    for one output and cross-entropy for several."""
    table = dict(config.get("loss", {"name": "auto"}))
    if table.get("name", "auto") == "auto":
        if data.task == "regression":
            table = {"name": "mse"}
        else:
            table = {"name": "binary_cross_entropy" if net.out_features == 1 else "cross_entropy"}
    try:
        return get_loss(table)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"loss: {exc}") from None


# ------------------------------------------------------------------------------------ run

def run(config: dict[str, Any], out_dir: str | Path) -> RunResult:
    """Train as ``config`` says and write the run folder; returns the :class:`RunResult`.

    The folder receives ``model.safetensors``, ``history.csv``, ``config.toml`` (the config
    actually used, defaults included), ``metrics.json`` (test metrics) and, when matplotlib is
    installed, ``history.png`` plus ``confusion_matrix.png`` or ``decision_boundary.png``.
    """
    data = load_data(config["data"])
    net = build_network(config, data)
    out = Path(out_dir)
    trainer = build_trainer(config, net, data, callbacks=[], out_dir=out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.toml").write_text(config_module.dumps(config), encoding="utf-8")

    validation = None if data.X_val is None else (data.X_val, data.y_val)
    started = time.perf_counter()
    history = trainer.fit(data.X_train, data.y_train, epochs=config["training"]["epochs"],
                          validation_data=validation)
    seconds = time.perf_counter() - started
    test_metrics = trainer.evaluate(data.X_test, data.y_test)

    files = [out / "config.toml", out / "model.safetensors", out / "history.csv", out / "metrics.json"]
    save(net, files[1])
    write_history(history, files[2])
    summary = {"test": test_metrics, "n_test": len(data.y_test), "train_seconds": seconds,
               "epochs": len(history), "note": history.note}
    files[3].write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    files += write_plots(trainer, data, out)
    return RunResult(out, trainer, data, test_metrics, seconds, files)


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
