"""What ``MLPClassifier`` and ``MLPRegressor`` share: parameters, ``fit``, ``partial_fit``.

The estimators are thin: data validation is scikit-learn's (``validate_data``), the network is
:func:`chainrule.mlp`, and training is a :class:`chainrule.training.Trainer` with a callback
(:class:`._stopping.EpochBookkeeping`) that applies scikit-learn's stopping rule and records
the curves. The fitted estimator keeps the Trainer (``_trainer``), so ``partial_fit`` continues
the optimizer's state (Adam's moments, SGD's velocity) as scikit-learn's does.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, validate_data

from .._validation import (
    as_float_array,
    check_choice,
    check_float_dtype,
    check_n_samples,
    check_number,
)
from ..layers.builders import mlp
from ..layers.sequential import Sequential
from ..losses import Loss
from ..training.callbacks import Callback
from ..training.trainer import Trainer
from ._stopping import EpochBookkeeping, no_improvement_start
from ._translate import (
    AUTO_BATCH,
    LEARNING_RATES,
    batch_rows,
    generator,
    hidden_activations,
    hidden_sizes,
    network_dtype,
    optimizer_for,
    seeds,
    set_penalties,
)

FLOATS = (np.float64, np.float32)


class BaseMLP(BaseEstimator):
    """Base class; use :class:`MLPClassifier` or :class:`MLPRegressor` (they document the
    parameters)."""

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: Any = "relu",
        *,
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: Any = "auto",
        learning_rate: str = "constant",
        learning_rate_init: float = 0.001,
        power_t: float = 0.5,
        max_iter: int = 200,
        shuffle: bool = True,
        random_state: Any = None,
        tol: float = 1e-4,
        verbose: bool = False,
        warm_start: bool = False,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        n_iter_no_change: int = 10,
        dropout: float = 0.0,
        l1: float = 0.0,
        optimizer: Any = None,
        dtype: Any = None,
        callbacks: Any = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dropout = dropout
        self.l1 = l1
        self.optimizer = optimizer
        self.dtype = dtype
        self.callbacks = callbacks

    # ------------------------------------------------------------------ subclass hooks
    def _encode_targets(
        self, y: np.ndarray, weights: np.ndarray | None, first_pass: bool, incremental: bool,
        classes: Any,
    ) -> np.ndarray:
        """Check ``y``, set the target attributes on a first pass, return what the Trainer
        takes; also sets ``n_outputs_`` and ``out_activation_`` on a first pass."""
        raise NotImplementedError

    def _training_loss(self) -> Loss:
        raise NotImplementedError

    def _score_encoded(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None) -> float:
        """Accuracy or R² of already validated ``X`` against encoded targets ``y``."""
        raise NotImplementedError

    def _strata(self, y: np.ndarray) -> np.ndarray | None:
        """Labels to stratify the early-stopping split by (None: no stratification)."""
        return None

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaseMLP:
        """Train on ``X`` (n_samples, n_features) and ``y`` for up to ``max_iter`` epochs.

        With ``warm_start=True`` a fitted estimator continues from its weights (with a fresh
        optimizer, as scikit-learn does); otherwise the network is built anew.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; each sample's loss is weighted and every minibatch loss is
            divided by the batch's total weight (scikit-learn's convention).

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(
        self, X: Any, y: Any, sample_weight: Any, *, incremental: bool, classes: Any = None
    ) -> BaseMLP:
        settings = self._settings()
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        first_pass = not self.__sklearn_is_fitted__() or not (self.warm_start or incremental)
        new_trainer = first_pass or not incremental  # every fit gets a fresh optimizer
        optimizer = optimizer_for(self) if new_trainer else None
        X, y = validate_data(self, X, y, multi_output=True, dtype=FLOATS, reset=first_pass,
                             y_numeric=not is_classifier(self))
        weights = _sample_weight(sample_weight, X.shape[0])
        y = self._encode_targets(y, weights, first_pass, incremental, classes)
        net_rng, shuffle_rng, split_rng = seeds(generator(self.random_state), 3)
        if first_pass:
            self._build_network(X, settings, net_rng)
            self.__dict__.update(no_improvement_start(self.early_stopping))
        elif self.early_stopping and self.validation_scores_ is None:  # switched on since
            self.validation_scores_, self.validation_loss_curve_ = [], []
            self.best_validation_score_ = -np.inf
        if new_trainer:  # partial_fit keeps the optimizer's state, as scikit-learn's does
            self._trainer = Trainer(
                self._net, self._training_loss(), optimizer,
                batch_size=AUTO_BATCH if self.batch_size == "auto" else settings["batch_size"],
                shuffle=settings["shuffle"], seed=shuffle_rng, verbose=2 if self.verbose else 0,
            )
            self._callbacks = self._copy_callbacks()
        train, validation = self._split(X, y, weights, split_rng)
        epochs = 1 if incremental else settings["max_iter"]
        converged = self._train(train, validation, settings, epochs)
        if self._trainer.history.interrupted:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        elif not incremental and not converged and self.n_iter_ == settings["max_iter"]:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached and the "
                "optimization hasn't converged yet.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _train(
        self, train: tuple, validation: tuple | None, settings: dict[str, Any], epochs: int
    ) -> bool:
        """Run the Trainer for up to ``epochs`` epochs; True when the stopping rule ended it."""
        X, y, weights = train
        rows = batch_rows(self.batch_size, X.shape[0])
        mean_weight = 1.0 if weights is None else float(np.mean(weights))
        set_penalties(self._net, settings["l1"], settings["alpha"], rows, mean_weight)
        self.n_iter_ = 0
        bookkeeping = EpochBookkeeping(self, X.shape[0], validation)
        trainer = self._trainer
        trainer.callbacks = [bookkeeping, *self._callbacks]
        try:
            trainer.fit(X, y, epochs=epochs, validation_data=validation, sample_weight=weights)
        finally:
            trainer.callbacks = []  # no references to the data or the estimator remain
        self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else np.nan
        return bookkeeping.converged

    def _settings(self) -> dict[str, Any]:
        """Validate the scalar hyperparameters (before any data is looked at)."""
        settings = {
            "alpha": check_number(self.alpha, "alpha", low=0),
            "l1": check_number(self.l1, "l1", low=0),
            "max_iter": check_number(self.max_iter, "max_iter", low=1, integer=True),
            "tol": check_number(self.tol, "tol", low=0),
            "n_iter_no_change": check_number(
                self.n_iter_no_change, "n_iter_no_change", low=1, integer=True
            ),
            "power_t": check_number(self.power_t, "power_t", low=0),
            "dropout": check_number(self.dropout, "dropout", low=0, high=1, high_open=True),
            "shuffle": _check_bool(self.shuffle, "shuffle"),
            "batch_size": "auto",
            "hidden": hidden_sizes(self.hidden_layer_sizes),
        }
        settings["activations"] = hidden_activations(self.activation, len(settings["hidden"]))
        if self.dtype is not None:
            check_float_dtype(self.dtype)
        for name in ("warm_start", "early_stopping", "nesterovs_momentum"):
            _check_bool(getattr(self, name), name)
        if self.batch_size != "auto":
            settings["batch_size"] = check_number(
                self.batch_size, "batch_size", low=1, integer=True
            )
        check_choice(self.learning_rate, "learning_rate", LEARNING_RATES)
        if self.early_stopping:
            check_number(self.validation_fraction, "validation_fraction", low=0, high=1,
                         low_open=True, high_open=True)
        if self.callbacks is not None:
            callbacks = self.callbacks
            if isinstance(callbacks, Callback) or not isinstance(callbacks, Sequence):
                raise TypeError(
                    "callbacks must be a list of chainrule Callbacks, got "
                    f"{type(callbacks).__name__}"
                )
            for index, callback in enumerate(callbacks):
                if not isinstance(callback, Callback):
                    raise TypeError(
                        f"callbacks[{index}] must be a chainrule Callback, got "
                        f"{type(callback).__name__}"
                    )
        return settings

    def _build_network(
        self, X: np.ndarray, settings: dict[str, Any], rng: np.random.Generator
    ) -> None:
        hidden = settings["hidden"]
        self.n_layers_ = len(hidden) + 2
        self._net = mlp(
            [X.shape[1], *hidden, self.n_outputs_],
            activation=settings["activations"],
            output=self.out_activation_,
            dropout=settings["dropout"],
            init="glorot_uniform",  # scikit-learn's U(±sqrt(6 / (fan_in + fan_out)))
            dtype=network_dtype(self.dtype, X),
            seed=rng,
        )

    def _copy_callbacks(self) -> list[Callback]:
        """Copies of ``callbacks`` for this fit (the parameter itself is never modified); the
        copies, with what they recorded, stay in ``callbacks_``."""
        self.callbacks_ = [copy.deepcopy(callback) for callback in (self.callbacks or ())]
        return self.callbacks_

    def _split(
        self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None, rng: np.random.Generator
    ) -> tuple[tuple, tuple | None]:
        """(train, validation) triples ``(X, y, sample_weight)``; validation only when early
        stopping, drawn as scikit-learn does (stratified for single-output classifiers)."""
        if not self.early_stopping:
            return (X, y, weights), None
        index = np.arange(X.shape[0])
        train_index, val_index = train_test_split(
            index, test_size=self.validation_fraction, stratify=self._strata(y),
            random_state=int(rng.integers(np.iinfo(np.int32).max)),
        )
        if val_index.size < 2:
            raise ValueError(
                f"The validation set is too small: validation_fraction={self.validation_fraction} "
                f"of {X.shape[0]} samples gives {val_index.size}; increase validation_fraction "
                "or the size of your dataset."
            )

        def take(rows: np.ndarray) -> tuple:
            return X[rows], y[rows], None if weights is None else weights[rows]

        return take(train_index), take(val_index)

    def _lr_policy(self) -> str:
        """``learning_rate``, which (as in scikit-learn) only applies to ``solver="sgd"``."""
        return self.learning_rate if self.solver == "sgd" and self.optimizer is None else "constant"

    # ------------------------------------------------------------------ prediction helpers
    def _validated(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, dtype=FLOATS, reset=False)

    def __sklearn_is_fitted__(self) -> bool:
        return "_trainer" in self.__dict__

    # ------------------------------------------------------------------ fitted weights
    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices, ``coefs_[i]`` of shape (units in layer i, units in layer i + 1).

        Views of the network's weights: writing into them changes the model.
        """
        return [layer.params["W"] for layer in self._fitted_net().layers if "W" in layer.params]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors, ``intercepts_[i]`` of shape (units in layer i + 1,); views as
        ``coefs_``."""
        return [layer.params["b"] for layer in self._fitted_net().layers if "b" in layer.params]

    @property
    def network_(self) -> Sequential:
        """The trained chainrule network (use it with ``chainrule.io`` to save a model file)."""
        return self._fitted_net()

    def _fitted_net(self) -> Sequential:
        if not self.__sklearn_is_fitted__():
            raise AttributeError(f"this {type(self).__name__} is not fitted yet: call fit first")
        return self._net

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def _sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """``sample_weight`` as a float64 array of shape (n_samples,), checked; or None."""
    if sample_weight is None:
        return None
    weights = as_float_array(np.asarray(sample_weight), "sample_weight", ndim=1)
    check_n_samples(n_samples, weights.shape[0], "X", "sample_weight")
    if (weights < 0).any():
        raise ValueError(f"sample_weight must be non-negative, got a minimum of {weights.min()}")
    if not weights.any():
        raise ValueError("sample_weight must contain at least one non-zero weight; got all zeros")
    return weights
