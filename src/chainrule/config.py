"""Run configurations: the TOML files ``chainrule train`` reads, checked before anything runs.

A config has these tables (every key optional; :data:`DEFAULT_CONFIG` fills the rest)::

    [data]          where the samples come from and how they are split and scaled
    dataset         a catalog or generator name (digits, mnist, fashion_mnist, california_housing,
                    circles, moons, blobs, spiral, xor, regression) — or "files" with:
    train, test     paths of .csv / .npy / .npz files (test optional)
    target          the target column of a CSV (name or index; default: the last column)
    task            "auto", "classification" or "regression" (auto: from the dataset, or for
                    files from the targets)
    options         a table passed to the generator or loader (n_samples, noise, ...)
    preprocess      "standardize", "minmax" or "none" (fitted on the training part, then carried
                    inside the network as a Rescale layer)
    test_size, validation_size   fractions of the whole data, test_size in (0, 1) and
                    validation_size in [0, 1) (0: no validation part); datasets with an official
                    test set use it, and validation_size is then a fraction of their training set
    limit           use at most this many rows of each source (quick runs)
    seed, data_dir

    Relative paths (train, test, data_dir, callbacks.checkpoint.path) are read from the
    working directory, and a leading ``~`` is the home folder; the ``config.toml`` a run
    writes holds them made absolute, so that a run folder can be evaluated from anywhere (and
    holds as data_dir, made absolute, a data folder that a relative $CHAINRULE_DATA gave).

    [model]         either layers = [ {input_dim, output_dim, activation, ...}, ... ] (the
                    tutorials' list of dicts) or hidden = [64, 32] with activation, output
                    ("auto": softmax, sigmoid or identity from the task), dropout, l1, l2, init;
                    plus dtype and seed
    [loss]          name ("auto", or a loss name) and its options
    [optimizer]     name and its options (lr, momentum, beta1, ...)
    [schedule]      name and its options (optional)
    [training]      epochs, batch_size, shuffle, seed, metrics ("auto" or a list), verbose
    [callbacks]     early_stopping = {...}, reduce_lr_on_plateau = {...}, checkpoint = {...}

Overrides use dotted keys: ``--set training.epochs=5 --set model.hidden=[128,64]``; the value is
read as TOML (a bare word is a string).

Every problem raises :class:`ConfigError` naming the key and what is allowed.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from . import _toml
from ._validation import check_verbose, utf8_text
from .layers.builders import architecture_layers, make_activation
from .losses import LOSSES, BinaryCrossEntropy, is_old_log_loss
from .optim.base import OPTIMIZERS
from .optim.schedules import SCHEDULES
from .registry import constructor_arguments
from .training.callbacks import EarlyStopping, ReduceLROnPlateau


class ConfigError(ValueError):
    """A config file or ``--set`` override is invalid; the message names the key."""


CLASSIFICATION_DATASETS = ("digits", "mnist", "fashion_mnist", "circles", "moons", "blobs",
                           "spiral", "xor")
REGRESSION_DATASETS = ("california_housing", "regression")
DATASETS = (*CLASSIFICATION_DATASETS, *REGRESSION_DATASETS, "files")
#: Catalog datasets that come with an official test set (data.test_size is then unused).
WITH_TEST_SET = ("mnist", "fashion_mnist")

#: The built-in default run: an MLP on the bundled 8×8 digits.
DEFAULT_CONFIG: dict[str, Any] = {
    "data": {
        "dataset": "digits",
        "options": {},
        "preprocess": "standardize",
        "test_size": 0.2,
        "validation_size": 0.1,
        "seed": 0,
        "target": -1,
        "task": "auto",
    },
    "model": {
        "hidden": [128],
        "activation": "relu",
        "output": "auto",
        "dropout": 0.2,
        "l1": 0.0,
        "l2": 0.0,
        "dtype": "float32",
        "seed": 0,
    },
    "loss": {"name": "auto"},
    "optimizer": {"name": "adam", "lr": 0.001},
    "training": {
        "epochs": 40,
        "batch_size": 32,
        "shuffle": True,
        "seed": 0,
        "metrics": "auto",
        "verbose": 1,
    },
    "callbacks": {},
}


# ------------------------------------------------------------------------------- key checks
# Each check raises ValueError for any bad value, a wrong type included (a ConfigError, itself
# a ValueError, where the check names the key itself): the caller turns it into one ConfigError
# naming the key, so a config has a single error type.

def _of(*types: type, name: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, bool) and bool not in types:
            raise ValueError(f"must be {name}, got {value!r}")
        if not isinstance(value, types):
            raise ValueError(f"must be {name}, got {value!r}")  # noqa: TRY004 - see above
        return value
    return check


def _number(low: float, high: float | None = None, *, integer: bool = False,
            low_open: bool = False, high_open: bool = False) -> Callable[[Any], Any]:
    kind = "an integer" if integer else "a number"
    def check(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int,) if integer else (int, float)):
            raise ValueError(f"must be {kind}, got {value!r}")  # noqa: TRY004 - see above
        too_low = value < low or (low_open and value == low)
        too_high = high is not None and (value > high or (high_open and value == high))
        # NaN compares false with anything; an int may be too large for math.isfinite
        if too_low or too_high or (isinstance(value, float) and not math.isfinite(value)):
            left = "(" if low_open else "["
            right = ")" if high_open or high is None else "]"
            raise ValueError(f"must be in {left}{low}, {'inf' if high is None else high}{right}, "
                             f"got {value!r}")
        return value
    return check


def _verbose(value: Any) -> Any:
    """``training.verbose``: what the Trainer takes (true/false or a level 0, 1, 2)."""
    try:
        check_verbose(value, high=2, name="training.verbose")
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    return value


def _choice(*choices: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in choices:
            raise ValueError(f"must be one of {', '.join(map(repr, choices))}; got {value!r}")
        return value
    return check


def _int_list(value: Any) -> Any:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value
    ):
        raise ValueError(f"must be a list of positive integers, got {value!r}")
    return value


def _architecture(value: Any) -> Any:
    """``model.layers``: the entries the builder takes (every key checked as it checks it,
    its errors naming ``model.layers[i].key``), each taking the outputs of the one before."""
    try:  # building the layers allocates no parameters: this is the builder's own check
        architecture_layers(value, name="model.layers")
    except (TypeError, ValueError) as exc:
        raise ConfigError(str(exc)) from None
    for index in range(1, len(value)):
        if value[index]["input_dim"] != value[index - 1]["output_dim"]:
            raise ConfigError(
                f"model.layers[{index}].input_dim is {value[index]['input_dim']}, but "
                f"model.layers[{index - 1}].output_dim is {value[index - 1]['output_dim']}: "
                "each layer takes the outputs of the one before"
            )
    return value


def _resolves(key: str, spec: Any) -> None:
    """An activation or initializer spec that the layer builders accept; else a ConfigError."""
    from .init import get_initializer

    try:
        if key.endswith("init"):
            get_initializer(spec)
        else:
            make_activation(spec)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {exc}") from None


def _names(key: str, *, auto: bool = False) -> Callable[[Any], Any]:
    """A check of ``model.activation`` / ``model.output`` / ``model.init``: known names."""
    def check(value: Any) -> Any:
        if auto and value == "auto":
            return value
        for spec in value if isinstance(value, list) and key == "model.activation" else [value]:
            _resolves(key, spec)
        return value
    return check


def _metrics(value: Any) -> Any:
    from .training.metrics import METRICS

    if value == "auto":
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f'must be "auto" or a list of metric names, got {value!r}')
    for index, name in enumerate(value):
        if name not in METRICS:
            raise ValueError(f"unknown metric {name!r}; valid names: {', '.join(METRICS.names())}")
        if name in value[:index]:
            raise ValueError(f"lists {name!r} twice; give each metric once")
    return value


def _all(*checks: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Every check in turn (the first failure is reported)."""
    def check(value: Any) -> Any:
        for one in checks:
            one(value)
        return value
    return check


_ANY_TABLE = _of(dict, name="a table")

SCHEMA: dict[str, dict[str, Callable[[Any], Any]]] = {
    "data": {
        "dataset": _choice(*DATASETS),
        "train": _of(str, name="a path"),
        "test": _of(str, name="a path"),
        "target": _of(str, int, name="a column name or index"),
        "task": _choice("auto", "classification", "regression"),
        "options": _ANY_TABLE,
        "preprocess": _choice("standardize", "minmax", "none"),
        "test_size": _number(0, 1, low_open=True, high_open=True),
        "validation_size": _number(0, 1, high_open=True),
        "limit": _number(1, integer=True),
        "seed": _number(0, integer=True),
        "data_dir": _of(str, name="a path"),
    },
    "model": {
        "layers": _architecture,
        "hidden": _int_list,
        "activation": _all(_of(str, list, name="an activation name or a list of them"),
                           _names("model.activation")),
        "output": _all(_of(str, name="an activation name or 'auto'"),
                       _names("model.output", auto=True)),
        "dropout": _number(0, 1, high_open=True),
        "l1": _number(0),
        "l2": _number(0),
        "init": _all(_of(str, dict, name="an initializer name or table"), _names("model.init")),
        "dtype": _choice("float32", "float64"),
        "seed": _number(0, integer=True),
    },
    "training": {
        "epochs": _number(1, integer=True),
        "batch_size": _number(1, integer=True),
        "shuffle": _of(bool, name="true or false"),
        "seed": _number(0, integer=True),
        "metrics": _metrics,
        "verbose": _verbose,
    },
}

#: Tables whose keys are ``name`` plus the options of the class that name picks.
_NAMED = {"loss": LOSSES, "optimizer": OPTIMIZERS, "schedule": SCHEDULES}
_CALLBACKS = {
    "early_stopping": EarlyStopping,
    "reduce_lr_on_plateau": ReduceLROnPlateau,
    "checkpoint": None,  # resolved lazily: ModelCheckpoint lives with the model files
}


# ------------------------------------------------------------------------------- public API

def load_config(path: str | Path | None = None, overrides: Sequence[str] = ()) -> dict[str, Any]:
    """The defaults, updated by the TOML file at ``path`` and then by ``overrides``; checked.

    The file and the overrides are combined first, so that the keys the user gave are known
    whatever their order: ``model.layers`` with a builder key (``model.hidden``, ...) is an
    error, and only the defaults' builder keys give way to it.
    """
    given: dict[str, Any] = {} if path is None else _read_toml(path)
    for override in overrides:
        apply_override(given, override)
    config = copy.deepcopy(DEFAULT_CONFIG)
    _merge(config, given)
    return validate(config)


def _read_toml(path: str | Path) -> dict[str, Any]:
    """The TOML document at ``path``: UTF-8 text (a leading byte-order mark is ignored, as
    Windows editors write one)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    text = utf8_text(raw, path, "save the file as UTF-8 (TOML files are UTF-8)", ConfigError)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raise ConfigError(f"{path} is not valid TOML: {_TOO_DEEP}") from None


#: Why tomllib gave up on a document (a RecursionError: some hundreds of levels).
_TOO_DEEP = "arrays or inline tables are nested too deeply to read"


#: Keys of the ``mlp`` builder, replaced as a whole by an explicit ``model.layers`` list.
_BUILDER_KEYS = ("hidden", "activation", "output", "dropout", "l1", "l2", "init")


def apply_override(config: dict[str, Any], override: str) -> None:
    """Apply one ``section.key=value`` override in place (the value is parsed as TOML)."""
    key, separator, text = override.partition("=")
    key = key.strip()
    if not separator or not key:
        raise ConfigError(f"--set expects key=value (e.g. training.epochs=5), got {override!r}")
    parts = key.split(".")
    if len(parts) < 2 or not all(parts):
        raise ConfigError(f"--set key {key!r} must be section.key (e.g. optimizer.lr)")
    try:
        value = tomllib.loads(f"value = {text.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = text.strip()  # a bare word: a string
    except RecursionError:
        raise ConfigError(f"--set {key}: the value's {_TOO_DEEP}") from None
    table = config
    for part in parts[:-1]:
        table = table.setdefault(part, {})
        if not isinstance(table, dict):
            raise ConfigError(f"--set {key}: {part!r} is not a table")
    table[parts[-1]] = value


def validate(config: Mapping[str, Any]) -> dict[str, Any]:
    """Check every key and value; return the config (with loss/optimizer options resolved)."""
    if not isinstance(config, Mapping):
        raise ConfigError(f"a config must be a table, got {type(config).__name__}")
    sections = {*SCHEMA, *_NAMED, "callbacks"}
    unknown = sorted(set(config) - sections)
    if unknown:
        raise ConfigError(f"unknown section(s) {unknown}; allowed: {sorted(sections)}")
    for section, checks in SCHEMA.items():
        table = _table(config, section)
        for key, value in table.items():
            if key not in checks:
                raise ConfigError(f"{section}.{key}: unknown key; allowed: {', '.join(sorted(checks))}")
            try:
                checks[key](value)
            except ConfigError:
                raise  # already names the key
            except ValueError as exc:
                raise ConfigError(f"{section}.{key} {exc}") from None
    for section, registry in _NAMED.items():
        if section in config:
            _check_named(section, _table(config, section), registry)
    for name, options in _table(config, "callbacks").items():
        if name not in _CALLBACKS:
            raise ConfigError(f"callbacks.{name}: unknown callback; allowed: {', '.join(_CALLBACKS)}")
        if not isinstance(options, dict):
            raise ConfigError(f"callbacks.{name} must be a table of options")
        _check_options(f"callbacks.{name}", callback_class(name), options)
    _check_data(config["data"])
    _check_model(config["model"])
    return dict(config)


def dumps(config: Mapping[str, Any]) -> str:
    """The config as TOML text (what ``chainrule train`` writes into the run folder)."""
    return _toml.dumps(config)


# ------------------------------------------------------------------------------- internals

def _merge(base: dict[str, Any], update: Mapping[str, Any]) -> None:
    model = update.get("model")
    if isinstance(model, Mapping) and "layers" in model and isinstance(base.get("model"), dict):
        _use_architecture(base["model"], model)
    for key, value in update.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict) and key != "options":
            _merge(base[key], value)
        else:
            base[key] = value


def _table(config: Mapping[str, Any], section: str) -> dict[str, Any]:
    table = config.get(section, {})
    if not isinstance(table, dict):
        raise ConfigError(f"[{section}] must be a table, got {table!r}")
    return table


def _check_named(section: str, table: dict[str, Any], registry: Any) -> None:
    name = table.get("name")
    if name is None:
        raise ConfigError(f"{section}.name is required; valid names: {', '.join(registry.names())}")
    if section == "loss" and name == "auto":
        if len(table) > 1:
            raise ConfigError('loss.name = "auto" takes no options; name the loss to set them')
        return
    if section == "loss" and is_old_log_loss(name):
        # binary cross-entropy's old alias; the run decides, knowing the network's output
        # (see chainrule.experiment.build_loss), so that an old run's config.toml still loads
        cls = BinaryCrossEntropy
    else:
        try:
            cls = registry.get(name)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{section}.name: {exc}") from None
    _check_options(section, cls, {k: v for k, v in table.items() if k != "name"})


#: Required constructor arguments that a run fills in when the config leaves them out (the
#: checkpoint's path, inside the run folder), by table: a stand-in value to try the others with.
_FILLED_BY_THE_RUN = {"callbacks.checkpoint": {"path": "checkpoint.safetensors"}}


def _check_options(where: str, cls: type, options: dict[str, Any]) -> None:
    """Unknown or missing options name the key; bad values keep the class's own message."""
    allowed = constructor_arguments(cls)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown option; allowed: {', '.join(allowed)}")
    filled = {name: value for name, value in _FILLED_BY_THE_RUN.get(where, {}).items()
              if name not in options}
    missing = [p for p in constructor_arguments(cls, required_only=True)
               if p not in options and p not in filled]
    if missing:
        raise ConfigError(f"{where}.{missing[0]} is required ({cls.__name__} has no default "
                          "for it)")
    try:
        cls(**filled, **options)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def callback_class(name: str) -> type:
    """The callback class of a ``[callbacks]`` table name (``"early_stopping"`` →
    :class:`~chainrule.training.EarlyStopping`); a ``KeyError`` for any other name (the
    config check refuses those)."""
    if name == "checkpoint":
        from .training.checkpoint import ModelCheckpoint

        return ModelCheckpoint
    return _CALLBACKS[name]


def _check_data(data: dict[str, Any]) -> None:
    if data.get("dataset") == "files":
        if "train" not in data:
            raise ConfigError('data.train is required when data.dataset = "files"')
    elif "train" in data or "test" in data:
        raise ConfigError('data.train/data.test need data.dataset = "files"')
    elif data.get("target", DEFAULT_CONFIG["data"]["target"]) != DEFAULT_CONFIG["data"]["target"]:
        raise ConfigError(
            f"data.target = {data['target']!r} names a column of the data.train / data.test "
            f'files: it needs data.dataset = "files" (the {data.get("dataset")} dataset has '
            "its own targets)")
    has_test_set = data.get("dataset") in WITH_TEST_SET or "test" in data
    if not has_test_set and data.get("test_size", 0) + data.get("validation_size", 0) >= 1:
        raise ConfigError("data.test_size + data.validation_size must be below 1 (both parts "
                          "come out of the same data)")


def _use_architecture(defaults: dict[str, Any], model: Mapping[str, Any]) -> None:
    """An explicit ``model.layers`` replaces the builder's keys (which must not be set too)."""
    explicit = [key for key in _BUILDER_KEYS if key in model]
    if explicit:
        raise ConfigError(
            f"model.layers describes the whole network; remove model.{explicit[0]} "
            "(or drop model.layers to use the hidden/activation builder)"
        )
    for key in _BUILDER_KEYS:
        defaults.pop(key, None)


def _check_model(model: dict[str, Any]) -> None:
    clash = [key for key in _BUILDER_KEYS if key in model]
    if "layers" in model and clash:
        raise ConfigError(f"model.layers and model.{clash[0]} cannot both be given")
