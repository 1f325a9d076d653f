"""What ``MLPClassifier`` and ``MLPRegressor`` share: parameters, ``fit``, ``partial_fit``.

The estimators are thin: data validation is scikit-learn's (``validate_data``, run through
:func:`._data.sklearn_checks`), the network is :func:`chainrule.mlp`'s (rebuilt around the
same weights when a warm fit finds its ``activation``, ``dropout`` or ``dtype`` changed:
:mod:`._architecture`), and training is a :class:`chainrule.training.Trainer` with a callback
(:class:`._stopping.EpochBookkeeping`) that applies scikit-learn's stopping rule and records
the curves. The fitted estimator keeps the Trainer (``_trainer``), so ``partial_fit``
continues the optimizer's state (Adam's moments, SGD's velocity) as scikit-learn's does.

Every hyperparameter is checked at the start of ``fit`` and ``partial_fit``, before the data
are looked at, whether or not the chosen solver uses it (scikit-learn's convention), with
chainrule's checks (``check_number``: booleans are not numbers, ``nan``/``inf`` are refused,
the message names the parameter, its domain and the value received). The domains are
scikit-learn's. scikit-learn's own mechanism (``_parameter_constraints``) is not used: it lives
in a private module (``sklearn.utils._param_validation``) and accepts ``True`` as a number.

Data too large for the network's dtype is a ``ValueError`` naming ``X`` (or ``y``): at
prediction when the outputs overflow, and in training when the loss is already non-finite
before the first optimizer step of a fit (then the data, not the learning rate, is the
cause; a later divergence stays a :class:`~chainrule.errors.TrainingDivergedError`).

A ``fit`` or ``partial_fit`` that raises before its first optimizer step (bad data, a split
that cannot be drawn, a callback that refuses, such a loss) leaves the estimator exactly as it
was: fitted attributes, network, Trainer. One that raises later keeps what it trained, with
``n_iter_``, ``loss_curve_`` and ``loss_`` (the last of the curve) telling the epochs done.
The fit's Generator is drawn from ``random_state`` only once the data passed their checks, so
a fit that refuses its data does not move a ``RandomState`` (or NumPy's global state) on.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from .._random import spawn_many
from .._validation import (
    all_finite,
    check_bool,
    check_choice,
    check_float_dtype,
    check_number,
    check_verbose,
    largest_magnitude,
)
from ..errors import MonitorNotLoggedError, TrainingDivergedError
from ..layers.dense import Dense
from ..layers.inference import forward_chunks, gather
from ..layers.sequential import Sequential
from ..losses import Loss, check_sample_weight
from ..optim import Optimizer
from ..training.callbacks import Callback
from ..training.targets import TargetEncoder
from ..training.trainer import Trainer
from ._architecture import check_hidden_sizes, network_layers, rebuilt
from ._data import sklearn_checks
from ._stopping import (
    EpochBookkeeping,
    LearningRatePolicy,
    ScoringTrainer,
    no_improvement_start,
)
from ._translate import (
    AUTO_BATCH,
    DEFAULT_LEARNING_RATE,
    LEARNING_RATES,
    check_solver,
    hidden_activations,
    hidden_sizes,
    network_dtype,
    optimizer_for,
    random_source,
    set_penalties,
)

FLOATS = (np.float64, np.float32)
#: What a callback can monitor in an estimator's training (a Trainer given no metrics, and
#: the held-out set as validation data when early stopping).
MONITOR_ADVICE = ("the estimator logs the training loss, and val_loss on the held-out "
                  "validation_fraction only with early_stopping=True; no metrics, such as "
                  "accuracy, are logged")


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
        learning_rate_init: float = DEFAULT_LEARNING_RATE,
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
        max_fun: int = 15000,
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
        self.max_fun = max_fun
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
        """Check ``y`` (validated, a single column already made 1-D), set the target
        attributes on a first pass, return what the Trainer takes; also sets ``n_outputs_``
        and ``out_activation_`` on a first pass."""
        raise NotImplementedError

    def _training_loss(self) -> Loss:
        raise NotImplementedError

    def _score_outputs(
        self, outputs: np.ndarray, y: np.ndarray, weights: np.ndarray | None
    ) -> float:
        """Accuracy or R² against encoded targets ``y`` of finite ``outputs`` (n_samples,
        n_outputs): the loss's input as the Trainer computes it, i.e. the logits of a
        classifier (its output layer is fused with its loss), a regressor's predictions.
        ``outputs`` is given away: it may be overwritten."""
        raise NotImplementedError

    def _strata(self, y: np.ndarray) -> np.ndarray | None:
        """Labels to stratify the early-stopping split by (None: no stratification)."""
        return None

    def _reported_scale(self) -> float:
        """Factor from the data term the Trainer minimises to the one ``loss_curve_``
        reports (scikit-learn's), see :class:`._stopping.EpochBookkeeping`."""
        return 1.0

    # ------------------------------------------------------------------ fitting
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaseMLP:
        """Train on ``X`` (n_samples, n_features) and ``y`` for up to ``max_iter`` epochs.

        With ``warm_start=True`` a fitted estimator continues from its weights (with a fresh
        optimizer, as scikit-learn does), applying a changed ``activation``, ``dropout`` or
        ``dtype`` to them (a changed ``hidden_layer_sizes`` is a ``ValueError``); otherwise
        the network is built anew. A fit that raises before its first optimizer step
        changes nothing (see the module notes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional
            Non-negative weights; each sample's loss is weighted and every minibatch's data
            loss is divided by the batch's total weight (scikit-learn's convention). The
            ``alpha`` penalty is divided by ``B · w̄`` (full-batch rows times the mean
            weight), not by each batch's total weight: see ``alpha``.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight, incremental=False)

    def _fit(
        self, X: Any, y: Any, sample_weight: Any, *, incremental: bool, classes: Any = None
    ) -> BaseMLP:
        settings = self._settings()
        draw_generator = random_source(self.random_state)  # drawn once the data are checked
        optimizer = optimizer_for(self, settings)
        if incremental and self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True")
        restore = self._saved_state()
        trainer = None  # the Trainer once training starts, and its step count then
        try:
            train, validation = self._prepare(X, y, sample_weight, settings, optimizer,
                                              draw_generator, incremental, classes)
            trainer, steps = self._trainer, self._trainer.optimizer.n_steps
            epochs = 1 if incremental else settings["max_iter"]
            converged = self._train(train, validation, settings, epochs, incremental)
        except BaseException:
            if trainer is None or trainer.optimizer.n_steps == steps:  # no step: nothing to keep
                restore()
            raise
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

    def _prepare(
        self, X: Any, y: Any, sample_weight: Any, settings: dict[str, Any],
        optimizer: Optimizer, draw_generator: Callable[[], np.random.Generator],
        incremental: bool, classes: Any,
    ) -> tuple[tuple, tuple | None]:
        """Everything before training: the data checked, the targets encoded (the target
        attributes set on a first pass), the fit's Generator drawn (``draw_generator``, from
        :func:`._translate.random_source`: only now, so that a fit refusing its data leaves
        ``random_state`` as it was), the network built or adapted, the Trainer made or
        updated; returns the (train, validation) triples ``(X, y, sample_weight)``."""
        first_pass = not self.__sklearn_is_fitted__() or not (self.warm_start or incremental)
        new_trainer = first_pass or not incremental  # every fit gets a fresh optimizer
        with sklearn_checks(X=X, y=y, sample_weight=sample_weight):
            X, y = validate_data(self, X, y, multi_output=True, dtype=FLOATS,
                                 reset=first_pass, y_numeric=not is_classifier(self))
            weights = _sample_weight(sample_weight, X.shape[0])
            if y.ndim == 2 and y.shape[1] == 1:  # a column: 1-D, with scikit-learn's warning
                y = column_or_1d(y, warn=True)
            y = self._encode_targets(y, weights, first_pass, incremental, classes)
        # weights, shuffling, split
        net_rng, shuffle_rng, split_rng = spawn_many(draw_generator(), 3)
        if first_pass:
            self._build_network(X, settings, net_rng)
            self.__dict__.update(no_improvement_start(self.early_stopping))
            new_network = True
        else:
            new_network = self._apply_architecture(X, settings, net_rng)
            if self.early_stopping and self.validation_scores_ is None:  # switched on since
                self.validation_scores_, self.validation_loss_curve_ = [], []
                self.best_validation_score_ = -np.inf
            elif not self.early_stopping and self.best_loss_ is None:  # switched off since
                self.best_loss_ = np.inf  # the training-loss rule starts from no best
        if new_trainer:
            self._trainer = self._new_trainer(optimizer, settings, shuffle_rng)
            self._callbacks = self._copy_callbacks()
            # The rate's policy belongs to the optimizer: a kept one keeps it (as scikit-learn's
            # optimizer object does) whatever set_params changes before a later partial_fit.
            self._rate_policy = self._learning_rate_policy(settings, optimizer.lr)
        else:
            if new_network:  # partial_fit on a rebuilt network: the optimizer's state carries over
                self._trainer = self._continued_trainer(settings)
            else:  # partial_fit keeps the optimizer's state, as scikit-learn's does
                self._sync_trainer(settings)
            if self.callbacks is not self._callbacks_parameter:  # set_params gave new ones
                self._callbacks = self._copy_callbacks()
        return self._split(X, y, weights, split_rng)

    def _saved_state(self) -> Callable[[], None]:
        """A function that puts the estimator back as it is now: every attribute (the fitted
        ones, the network, the Trainer), the penalties ``_train`` gives the network's layers
        and the settings ``partial_fit`` gives a kept Trainer. ``_fit`` calls it when it fails
        before any optimizer step, so that such a fit changes nothing (the Trainer, failing so,
        puts back its own state and the weights; the lists of curves are only appended to at
        an epoch's end, after steps)."""
        attributes = dict(self.__dict__)
        net, trainer = attributes.get("_net"), attributes.get("_trainer")
        penalties = [] if net is None else [
            (layer, layer.l1, layer.l2) for layer in net.layers if isinstance(layer, Dense)]
        settings = None if trainer is None else (trainer.batch_size, trainer.shuffle,
                                                 trainer.verbose)

        def restore() -> None:
            self.__dict__.clear()
            self.__dict__.update(attributes)
            for layer, l1, l2 in penalties:
                layer.l1, layer.l2 = l1, l2
            if trainer is not None:
                trainer.batch_size, trainer.shuffle, trainer.verbose = settings

        return restore

    def _train(
        self, train: tuple, validation: tuple | None, settings: dict[str, Any], epochs: int,
        incremental: bool,
    ) -> bool:
        """Run the Trainer for up to ``epochs`` epochs; True when the stopping rule ended it.
        A ``partial_fit`` (``incremental``) continues the callbacks' run (``Trainer.fit``'s
        ``continue_callbacks``): their patience counts epochs across calls."""
        X, y, weights = train
        rows = min(settings["batch_size"], X.shape[0])  # larger batches are clipped
        mean_weight = 1.0 if weights is None else float(np.mean(weights))
        set_penalties(self._net, settings["l1"], settings["alpha"], rows, mean_weight)
        self.n_iter_ = 0
        bookkeeping = EpochBookkeeping(self, X.shape[0], validation, self._reported_scale())
        trainer = self._trainer
        trainer.callbacks = [bookkeeping, *self._callbacks]
        steps = trainer.optimizer.n_steps
        try:
            trainer.fit(X, y, epochs=epochs, validation_data=validation, sample_weight=weights,
                        continue_callbacks=incremental)
        except MonitorNotLoggedError as error:  # its advice names the Trainer's fit arguments
            raise error.advised(MONITOR_ADVICE) from None
        except (TrainingDivergedError, ValueError) as error:
            # Not one step taken and the loss not finite: the data is the cause, not the rate.
            loss = self._initial_loss(X, y, weights) if trainer.optimizer.n_steps == steps else 0
            if not math.isfinite(loss):
                raise self._data_too_large(X, y, loss) from error
            raise
        finally:
            trainer.callbacks = []  # no references to the data or the estimator remain
            # The last epoch's, also when training diverged after some epochs (a failure
            # before any step puts the previous value back: see _fit).
            self.loss_ = self.loss_curve_[-1] if self.loss_curve_ else np.nan
        return bookkeeping.converged

    def _settings(self) -> dict[str, Any]:
        """Check every hyperparameter, used by the solver or not (before any data is looked
        at), in scikit-learn's domains; return the checked values by name.

        ``batch_size`` is the Trainer's: an int, :data:`._translate.AUTO_BATCH` for
        ``"auto"`` (the Trainer clips it to the number of samples). ``random_state`` and
        ``optimizer`` are checked by :func:`._translate.random_source` and
        :func:`._translate.optimizer_for`, called right after.
        """
        flags = {name: check_bool(getattr(self, name), name)
                 for name in ("shuffle", "warm_start", "early_stopping", "nesterovs_momentum")}
        settings = {
            **flags,
            "alpha": check_number(self.alpha, "alpha", low=0),
            "l1": check_number(self.l1, "l1", low=0),
            "max_iter": check_number(self.max_iter, "max_iter", low=1, integer=True),
            "tol": check_number(self.tol, "tol", low=0),
            "n_iter_no_change": check_number(
                self.n_iter_no_change, "n_iter_no_change", low=1, integer=True
            ),
            "power_t": check_number(self.power_t, "power_t", low=0),
            # solver="lbfgs"'s limit (scikit-learn's); checked, unused by the solvers here
            "max_fun": check_number(self.max_fun, "max_fun", low=1, integer=True),
            "dropout": check_number(self.dropout, "dropout", low=0, high=1, high_open=True),
            "learning_rate_init": check_number(
                self.learning_rate_init, "learning_rate_init", low=0, low_open=True
            ),
            "momentum": check_number(self.momentum, "momentum", low=0, high=1),
            "beta_1": check_number(self.beta_1, "beta_1", low=0, high=1, high_open=True),
            "beta_2": check_number(self.beta_2, "beta_2", low=0, high=1, high_open=True),
            "epsilon": check_number(self.epsilon, "epsilon", low=0, low_open=True),
            # [0, 1) as scikit-learn's; early stopping needs a validation set: (0, 1)
            "validation_fraction": check_number(
                self.validation_fraction, "validation_fraction", low=0, high=1,
                low_open=flags["early_stopping"], high_open=True,
            ),
            "verbose": check_verbose(self.verbose, high=None),  # scikit-learn: any level
            "solver": check_solver(self.solver),
            "batch_size": AUTO_BATCH,  # "auto": min(AUTO_BATCH, n_samples) rows per batch
            "hidden": hidden_sizes(self.hidden_layer_sizes),
        }
        settings["activations"] = hidden_activations(self.activation, len(settings["hidden"]))
        if self.dtype is not None:
            check_float_dtype(self.dtype)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            settings["batch_size"] = check_number(
                self.batch_size, "batch_size", low=1, integer=True
            )
        if not isinstance(self.learning_rate, str):
            raise TypeError(
                f"learning_rate must be one of {LEARNING_RATES}, got {self.learning_rate!r}"
            )
        check_choice(self.learning_rate, "learning_rate", LEARNING_RATES)
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
        self.n_layers_ = len(settings["hidden"]) + 2
        layers = network_layers(X.shape[1], settings, self.n_outputs_, self.out_activation_)
        self._net = Sequential(layers, dtype=network_dtype(self.dtype, X), seed=rng)

    def _apply_architecture(
        self, X: np.ndarray, settings: dict[str, Any], rng: np.random.Generator
    ) -> bool:
        """On a fit that continues from the fitted weights: rebuild the network around them
        when ``activation``, ``dropout`` or a given ``dtype`` changed since it was built (a
        ``ValueError`` for a changed ``hidden_layer_sizes``); True when rebuilt. See
        :mod:`._architecture`."""
        check_hidden_sizes(self._net, settings["hidden"], self.hidden_layer_sizes)
        layers = network_layers(X.shape[1], settings, self.n_outputs_, self.out_activation_)
        dtype = self._net.dtype if self.dtype is None else check_float_dtype(self.dtype)
        network = rebuilt(self._net, layers, dtype, rng)
        if network is None:
            return False
        self._net = network
        return True

    def _new_trainer(
        self, optimizer: Optimizer, settings: dict[str, Any], rng: np.random.Generator
    ) -> Trainer:
        """A Trainer of the network with ``optimizer`` (unbound), shuffling with ``rng``."""
        return ScoringTrainer(
            self._net, self._training_loss(), optimizer, batch_size=settings["batch_size"],
            shuffle=settings["shuffle"], seed=rng, verbose=2 if self.verbose else 0,
        )

    def _continued_trainer(self, settings: dict[str, Any]) -> Trainer:
        """For ``partial_fit`` on a rebuilt network: a Trainer of it that continues the
        current one, with a copy of its optimizer holding the same state (moments,
        velocity, step count and rate, cast to the network's dtype) and its shuffling
        Generator."""
        previous = self._trainer
        optimizer = Optimizer.from_config(previous.optimizer.get_config())
        trainer = self._new_trainer(optimizer, settings, previous.rng)
        state = previous.optimizer.state_dict()
        trainer.optimizer.load_state_dict({
            name: value.astype(self._net.dtype) if isinstance(value, np.ndarray) else value
            for name, value in state.items()
        })
        return trainer

    def _sync_trainer(self, settings: dict[str, Any]) -> None:
        """For ``partial_fit`` with the Trainer kept: this call's ``batch_size``,
        ``shuffle`` and ``verbose`` (scikit-learn reads them on every call; the optimizer's
        settings, with its state, stay those of the call that created it, as in
        scikit-learn)."""
        trainer = self._trainer
        trainer.batch_size = settings["batch_size"]
        trainer.shuffle = settings["shuffle"]
        trainer.verbose = 2 if self.verbose else 0

    def _copy_callbacks(self) -> list[Callback]:
        """Copies of ``callbacks`` for this fit (the parameter itself is never modified); the
        copies, with what they recorded, stay in ``callbacks_``. ``partial_fit`` keeps them
        while ``callbacks`` is the list they were copied from, and copies a new one."""
        self._callbacks_parameter = self.callbacks
        self.callbacks_ = [copy.deepcopy(callback) for callback in (self.callbacks or ())]
        return self.callbacks_

    def _split(
        self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None, rng: np.random.Generator
    ) -> tuple[tuple, tuple | None]:
        """(train, validation) triples ``(X, y, sample_weight)``; validation only when early
        stopping, drawn as scikit-learn does (stratified by :meth:`_strata`: for binary
        classifiers only).

        Raises
        ------
        ValueError
            The split cannot be drawn (e.g. a binary problem with a class of one sample, which
            a stratified split cannot put on both sides), naming ``early_stopping`` and
            ``validation_fraction``; or the validation set has fewer than 2 samples.
        """
        if not self.early_stopping:
            return (X, y, weights), None
        index = np.arange(X.shape[0])
        strata = self._strata(y)
        try:
            train_index, val_index = train_test_split(
                index, test_size=self.validation_fraction, stratify=strata,
                random_state=int(rng.integers(np.iinfo(np.int32).max)),
            )
        except ValueError as error:  # scikit-learn's message alone does not say which split
            stratified = " stratified by class (as scikit-learn's for binary problems)"
            raise ValueError(
                f"early_stopping=True cannot hold out validation_fraction="
                f"{self.validation_fraction} of the {X.shape[0]} training samples"
                f"{stratified if strata is not None else ''}: {str(error).rstrip('.')}. Use "
                "more samples (of every class), another validation_fraction, or "
                "early_stopping=False."
            ) from error
        if val_index.size < 2:
            raise ValueError(
                f"The validation set is too small: validation_fraction={self.validation_fraction} "
                f"of {X.shape[0]} samples gives {val_index.size}; increase validation_fraction "
                "or the size of your dataset."
            )

        def take(rows: np.ndarray) -> tuple:
            return X[rows], y[rows], None if weights is None else weights[rows]

        return take(train_index), take(val_index)

    def _learning_rate_policy(self, settings: dict[str, Any], lr: float) -> LearningRatePolicy:
        """``learning_rate`` with the rate ``lr`` (the new optimizer's) and ``power_t`` it
        decays from. The policy applies to ``solver="sgd"`` (as in scikit-learn, whose other
        solver ignores it) and to any optimizer given as ``optimizer``."""
        applies = self.optimizer is not None or settings["solver"] == "sgd"
        return LearningRatePolicy(self.learning_rate if applies else "constant", lr,
                                  settings["power_t"])

    def _initial_loss(self, X: np.ndarray, y: np.ndarray, weights: np.ndarray | None) -> float:
        """The training loss of the current weights on ``(X, y)``, the targets as the Trainer
        takes them; a ``ValueError`` naming ``X`` when the network's outputs overflow; 0 when
        it cannot be computed (the error being examined was then about something else)."""
        self._network_outputs(X)
        trainer, net = self._trainer, self._net
        try:
            # The Trainer's classes; a first fit that failed before any step forgot them, and
            # they are then those it would learn from y.
            encoder = trainer.encoder
            if encoder is None:
                encoder = TargetEncoder(trainer.loss, net.out_features).fit(y)
            with np.errstate(all="ignore"):
                targets = encoder.transform(y, net.dtype)
                return float(trainer._evaluate(net.check_input(X), targets, weights)["loss"])
        except Exception:  # noqa: BLE001 - the caller re-raises the error it examines
            return 0.0

    def _data_too_large(self, X: np.ndarray, y: np.ndarray, loss: float) -> ValueError:
        """The error for a loss that is non-finite before any training step, with finite
        outputs, naming the culprit: a penalty (``alpha``, ``l1``) whose term overflows at the
        initial weights; else the data: a classifier's loss grows only with its logits
        (``X``), a regressor's with ``ŷ − y``, so there the larger of the outputs and ``y``."""
        penalties = self._overflowing_penalties()
        if penalties:
            named = " and ".join(f"{name}={getattr(self, name)!r}" for name in penalties)
            return ValueError(
                f"{named} too large: the weight penalty overflows {self._net.dtype} at the "
                f"initial weights (the training loss is {loss}); use a smaller value"
            )
        culprit = "X"
        if not is_classifier(self) and (
            largest_magnitude(y) > largest_magnitude(self._network_outputs(X))
        ):
            culprit = "y"
        return ValueError(
            f"{culprit} has values too large for training in {self._net.dtype} (up to "
            f"{largest_magnitude(X if culprit == 'X' else y):.3g}): the loss is already {loss} "
            "at the start of this fit, before any optimizer step, so no learning rate can "
            f"help; scale {culprit} down (e.g. sklearn.preprocessing.StandardScaler)"
        )

    def _overflowing_penalties(self) -> list[str]:
        """``"alpha"`` and/or ``"l1"`` when their terms of the loss, ``½ l2 ‖W‖²`` (``l2``
        from ``alpha``, see :mod:`._translate`) and ``l1 ‖W‖₁`` summed over the layers
        (:meth:`~chainrule.layers.Layer.penalty_terms`), are not finite at the current weights."""
        terms = {"alpha": 0.0, "l1": 0.0}
        with np.errstate(all="ignore"):
            for layer in self._net.layers:
                l1_term, l2_term = layer.penalty_terms()
                terms["alpha"] += l2_term
                terms["l1"] += l1_term
        return [name for name, term in terms.items() if not math.isfinite(term)]

    # ------------------------------------------------------------------ prediction helpers
    def _validated(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        with sklearn_checks(X=X):
            return validate_data(self, X, dtype=FLOATS, reset=False)

    def _network_outputs(self, X: np.ndarray) -> np.ndarray:
        """The network's outputs (n_samples, n_outputs) for validated ``X``, gathered from
        :meth:`_output_chunks`: the result and one chunk's intermediates in memory."""
        return gather(self._output_chunks(X), X.shape[0])

    def _output_chunks(
        self, X: np.ndarray, *, logits: bool = False
    ) -> Iterator[tuple[slice, np.ndarray]]:
        """``(rows, the network's outputs for X[rows])`` (chunk rows, n_outputs) for validated
        ``X``, :data:`~chainrule.layers.inference.EVAL_CHUNK` rows at a time (as
        ``Trainer.predict``), each an array of its own; with ``logits=True`` the input of
        the output activation. A ``ValueError`` saying why when they are not finite
        (``Sequential.check_output``: ``X`` too large for the network's dtype, or weights that
        are not finite: edited by hand, as ``fit`` keeps them finite), so they are never
        given non-finite."""
        net = self._net
        X = net.check_input(X)
        try:
            yield from forward_chunks(net, X, len(net.layers) - 1 if logits else None)
        except ValueError:
            if all_finite(net.parameters):
                raise
            raise ValueError(
                f"this {type(self).__name__}'s weights are not finite (were coefs_ or "
                "intercepts_ edited?); fit it again"
            ) from None

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


def _sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """``sample_weight`` as a float64 array of shape (n_samples,), checked (finite,
    non-negative, not all zero, one per sample of ``X``); or None."""
    # as the Trainer checks them; "sum": as given (float64, not scaled), as fit scales the
    # penalties by their mean
    return check_sample_weight(sample_weight, n_samples, reduction="sum", samples_of="X")
