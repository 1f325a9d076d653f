"""The data of a run: a config's ``[data]`` table loaded, its task and classes found, split."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import _toml
from .. import config as config_module
from .._configurable import constructor_repr
from ..config import ConfigError
from ..errors import DataNotFoundError
from ..tables import read_table
from ..training.data import (
    fraction_advice,
    fraction_count,
    stratified_bounds,
    train_test_split,
)

#: How a missing dataset's advice names the options in a run config (DataNotFoundError.names).
CONFIG_NAMES = {
    "off": "data.options.download = false",
    "on": "set data.options.download = true",
    "data_dir": "data.data_dir",
}

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

    def __repr__(self) -> str:
        # The arrays by dtype and shape: their values would fill a notebook cell's output.
        return constructor_repr(self)


def load_data(section: dict[str, Any]) -> Data:
    """Load the data described by a config's ``[data]`` table and split it.

    For classification the classes are the labels of the training data (``data.train``, or
    the dataset's training set), the validation and test parts included when they are split
    from it. A separate test set (``data.test``) must fit the training data: as many features
    and, for classification, only labels among the training classes; that is checked here,
    before anything is trained. (A catalog dataset's official test set has the dataset's
    classes, so for it the classes are those of both sets.)

    Raises
    ------
    ConfigError
        The table does not fit the data: a ``data.train`` / ``data.test`` file that does not
        exist, options the loader does not take or values it refuses (naming
        ``data.options.<key>``), a single class (naming ``data.limit`` when the first rows it
        keeps hold one class of several), a test file of another width or with labels
        the training labels do not have, a split too small for one sample of every class on
        each side (the message names ``data.test_size`` or ``data.validation_size`` and the
        values that work), integer targets that look like regression values while
        ``data.task = "auto"``.
    ValueError
        A data file that cannot be read as a table (see :func:`chainrule.tables.read_table`:
        it names the file, line and column).
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
            target = section.get("target", -1)
            X, y = read_table(_data_file(section, "train"), target)
            if "test" in section:
                test = read_table(_data_file(section, "test"), target)
        elif name in GENERATORS:
            from .. import datasets

            X, y = getattr(datasets, GENERATORS[name])(**{"seed": seed, **options})
        elif name == "digits":
            from ..datasets import load_digits

            X, y = load_digits(**options)
        elif name in config_module.WITH_TEST_SET:
            from .. import datasets

            loader = getattr(datasets, f"load_{name}")
            (X, y), test = loader(section.get("data_dir"), **options)
        elif name == "california_housing":
            from ..datasets import load_california_housing

            X, y, _ = load_california_housing(section.get("data_dir"), **options)
        else:
            raise ConfigError(f"data.dataset: unknown dataset {name!r}; valid names: "
                              f"{', '.join(config_module.DATASETS)}")
    except TypeError as exc:
        raise ConfigError(f"data.options: {exc}") from None
    except ConfigError:
        raise
    except ValueError as exc:  # the loader's check of an option names it first: "noise must ..."
        if str(exc).split(" ", 1)[0] in options:
            raise ConfigError(f"data.options.{exc}") from None
        raise
    except DataNotFoundError as exc:  # the loader's advice, in config keys
        raise exc.renamed(CONFIG_NAMES) from None
    uncut = None  # the targets before data.limit, when it left rows out (for _classes)
    if limit:
        if len(y) > limit or (test is not None and len(test[1]) > limit):
            uncut = (y, test)
        X, y = X[:limit], y[:limit]
        test = None if test is None else (test[0][:limit], test[1][:limit])
    if test is not None:
        _check_test_width(section, name, X, y, *test)

    task = _task(section, name, y)
    classes = None
    if task == "classification":
        official = test is not None and name != "files"  # shares the dataset's classes
        classes = _classes(section, name, _class_targets(y, test, official),
                           None if uncut is None else _class_targets(*uncut, official))
        if test is not None and not official:
            _check_test_labels(section, classes, test[1])
    elif test is not None and (text := _text_targets(test[1])):
        raise ConfigError(f"data.test = {_toml.inline(section['test'])} holds text targets "
                          f"({text}), but the task is regression: the targets must be numbers")
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


def _data_file(section: dict[str, Any], key: str) -> str:
    """The path of ``data.<key>`` (``~`` expanded), or a ConfigError when no file is there."""
    path = os.path.expanduser(section[key])
    if not os.path.isfile(path):
        state = "is a folder" if os.path.isdir(path) else "does not exist"
        raise ConfigError(f"data.{key} = {_toml.inline(section[key])}: the file {path} {state} "
                          f"(relative paths are read from the working directory, {os.getcwd()})")
    return path


def _check_test_width(section: dict[str, Any], name: str, X: np.ndarray, y: np.ndarray,
                      X_test: np.ndarray, y_test: np.ndarray) -> None:
    """A separate test set has the training data's features and kind of targets."""
    where = (f"data.test = {_toml.inline(section['test'])}" if name == "files" else
             f"the {name} test set")
    if X_test.shape[1:] != X.shape[1:]:
        raise ConfigError(
            f"{where} has {_width(X_test)} features, but the training data "
            f"({_toml.inline(section.get('train', name))}) has {_width(X)}: both need the same "
            "feature columns (and data.target the same target column)"
        )
    if y_test.shape[1:] != y.shape[1:]:
        raise ConfigError(f"{where} has targets of shape {y_test.shape[1:]} per sample, but the "
                          f"training data has {y.shape[1:]}")


def _width(X: np.ndarray) -> str:
    return str(X.shape[1]) if X.ndim == 2 else f"shape {X.shape[1:]} of"


def _check_test_labels(section: dict[str, Any], classes: np.ndarray, y_test: np.ndarray) -> None:
    """Every label of ``data.test`` is a training class (a label of another type, e.g. a
    string against integers or 0.5 against 0 and 1, is not)."""
    same_kind = (classes.dtype.kind in "iufb") == (y_test.dtype.kind in "iufb")
    unknown = np.unique(y_test[~np.isin(y_test, classes)]) if same_kind else np.unique(y_test)
    if len(unknown):
        shown = unknown[:10].tolist()
        more = f" ... ({len(unknown)} in all)" if len(unknown) > 10 else ""
        raise ConfigError(
            f"data.test = {_toml.inline(section['test'])} has labels that are not among the "
            f"classes of the training data ({_toml.inline(section['train'])}: "
            f"{classes[:20].tolist()}): {shown}{more}; the network can only predict the "
            "training classes, so the test labels must be among them (same type and values)"
        )


def _split(X: np.ndarray, y: np.ndarray, fraction: float, *, stratify: bool, seed: int,
           key: str, value: float, limit: int | None, pool: str) -> list[np.ndarray]:
    """``train_test_split`` of ``fraction`` of (X, y) into the part that the config ``key``
    sizes (its ``value`` is ``fraction`` times a constant), or a ConfigError saying which
    values of ``key`` work. ``pool`` describes the samples split, for the message.

    ``train_test_split`` puts ``ceil(fraction · n)`` samples in the part (``fraction_count``);
    a stratified split needs, with k classes of two samples or more, between k and n − k there
    (``stratified_bounds``: one sample of each class on either side); any split needs one
    sample on each side, which also bounds a stratified split when classes of one sample
    (free to go to either side) could otherwise all go to the part.
    """
    n = len(y)
    part = fraction_count(fraction, n)
    low, high = 1, n - 1
    if stratify:
        k, stratified_high = stratified_bounds(np.unique(y, return_counts=True)[1])
        low, high = max(low, k), min(high, stratified_high)
    if not low <= part <= high:
        what = "validation" if key == "data.validation_size" else "test"
        need = (f"a split stratified by class needs {low} to {high} there (one sample of each of "
                f"the {low} classes on each side)" if low > 1 else
                "each side needs a sample" + (f", so {low} to {high}" if low <= high else ""))
        if low > high:
            advice = (f"use more data ({n} sample{'s are' if n != 1 else ' is'} too few for "
                      "this split)")
        else:  # the config's value is the fraction times value / fraction
            advice = fraction_advice(key, low, high, n, value / fraction, equals=" = ")
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


def _task(section: dict[str, Any], name: str, y: np.ndarray) -> str:
    """``data.task``, or the task ``"auto"`` reads from the targets ``y``; a ConfigError when
    the targets cannot be that task's (text to regress on, rows of classes)."""
    task = section.get("task", "auto")
    where = _toml.inline(section.get("train", name))
    if task == "classification" and y.ndim != 1:
        raise ConfigError(f'data.task = "classification" needs one class label per sample, but '
                          f"the targets of {where} have shape {y.shape} (several columns: a "
                          'train run has no multilabel task); set data.task = "regression" or '
                          "give a single target column")
    found = _auto_task(section, name, y) if task == "auto" else task
    if found == "regression" and (text := _text_targets(y)):
        if task == "regression":
            raise ConfigError(f'data.task = "regression", but the targets of {where} are text '
                              f'({text}): regression needs numbers; set data.task = '
                              '"classification" (or "auto")')
        raise ConfigError(f"the targets of {where} are text ({text}) in {y.shape[1]} columns "
                          "per sample: rows of labels would be a multilabel task, which a train "
                          "run does not have, and regression needs numbers; give a single label "
                          "column")
    return found


def _auto_task(section: dict[str, Any], name: str, y: np.ndarray) -> str:
    """The task ``data.task = "auto"`` reads from the dataset or the targets ``y``."""
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


def _text_targets(y: np.ndarray) -> str | None:
    """The first distinct targets of ``y`` as messages show them (``"['no', 'yes'] ..."``)
    when they are text, which no regression can use; None when they are numbers."""
    return None if y.dtype.kind in "iufb" else f"{np.unique(y)[:5].tolist()} ..."


#: ``data.task = "auto"`` refuses integer targets with more distinct values than this and than
#: half the rows (a regression target stored as integers: prices, counts, years).
_MANY_CLASSES = 20


def _class_targets(y: np.ndarray, test: Any, official: bool) -> np.ndarray:
    """The targets the classes are read from: the training ones ``y``, with those of the
    ``test`` pair ``(X_test, y_test)`` when it is a dataset's ``official`` test set."""
    return np.concatenate([y, test[1]]) if official else y


def _classes(section: dict[str, Any], name: str, y: np.ndarray,
             uncut: np.ndarray | None = None) -> np.ndarray:
    """The sorted class labels of ``y`` (the training data's, see :func:`load_data`); at least
    two. ``uncut``: the same targets before ``data.limit`` left rows out (None when it did
    not), so that a limit keeping one class of several is named as the cause."""
    classes = np.unique(y)
    if len(classes) < 2 and uncut is not None and len(all_classes := np.unique(uncut)) > 1:
        limit = section["limit"]
        order = " (the rows are kept in the order of data.train)" if name == "files" else ""
        raise ConfigError(
            f"data.limit = {limit} keeps the first {limit} rows of the {name} data, and they "
            f"hold a single class ({classes.tolist()}) where all its rows hold "
            f"{len(all_classes)} classes: classification needs at least 2; raise data.limit{order}"
        )
    if len(classes) < 2:
        where = ("check data.train and data.target (the label column)" if name == "files" else
                 f"check data.options = {_toml.inline(section.get('options', {}))}")
        raise ConfigError(
            f"the {name} data has a single class ({classes.tolist()}), and classification needs "
            f"at least 2: {where}"
            + ('; or set data.task = "regression"' if name == "files" else "")
        )
    return classes

