"""``MLPRegressor``: scikit-learn's multi-layer perceptron regressor, trained by chainrule."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_array

from .._validation import check_n_samples
from ..errors import ShapeError
from ..losses import BinaryCrossEntropy, CrossEntropy, Loss
from ..training._r2 import weighted_r2
from ._base import BaseMLP, _sample_weight
from ._data import sklearn_checks
from ._losses import REGRESSION_LOSSES, SumOverOutputs
from ._translate import DEFAULT_LEARNING_RATE


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor with scikit-learn's API, trained by chainrule.

    The network ends in a linear (identity) layer with one unit per target; multi-output
    regression takes ``y`` of shape (n_samples, n_outputs).

    Parameters
    ----------
    loss : {"squared_error", "absolute_error", "huber"} or chainrule Loss, default "squared_error"
        Trained on the per-sample sum over the outputs, ``½ Σ_j (ŷ_j − y_j)²``
        (scikit-learn's ``squared_error``), ``Σ_j |ŷ_j − y_j|``, or the Huber loss with
        ``delta = 1``, then the (weighted) mean over samples. As scikit-learn's,
        ``loss_curve_``, ``loss_``, ``best_loss_`` and ``validation_loss_curve_`` report the
        mean over the outputs instead (the data term divided by n_outputs, the penalties
        added as they are), and the stopping rule and ``learning_rate="adaptive"`` compare
        those values with ``tol``. A chainrule :class:`~chainrule.losses.Loss` instance
        (e.g. ``Huber(delta=2.0)``) is trained and reported with its own reduction (a copy is
        trained).
    hidden_layer_sizes, activation, solver, alpha, batch_size, learning_rate,
    learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose, warm_start,
    momentum, nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2,
    epsilon, n_iter_no_change, max_fun, dropout, l1, optimizer, dtype, callbacks
        As :class:`MLPClassifier`; with ``early_stopping`` the validation score is R².

    Attributes
    ----------
    n_features_in_, feature_names_in_, coefs_, intercepts_, loss_, loss_curve_, best_loss_,
    validation_scores_, validation_loss_curve_, best_validation_score_, n_iter_, t_,
    n_layers_, n_outputs_, network_, callbacks_
        As :class:`MLPClassifier` (``validation_scores_`` holds R²).
    out_activation_ : "identity"

    Examples
    --------
    >>> import numpy as np
    >>> X = np.linspace(-1, 1, 50).reshape(-1, 1)
    >>> reg = MLPRegressor("huber", hidden_layer_sizes=(32,), max_iter=300, random_state=0)
    >>> reg.fit(X, X[:, 0] ** 2).predict(X[:3]).shape
    (3,)
    """

    def __init__(
        self,
        loss: Any = "squared_error",
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
        super().__init__(
            hidden_layer_sizes, activation, solver=solver, alpha=alpha, batch_size=batch_size,
            learning_rate=learning_rate, learning_rate_init=learning_rate_init,
            power_t=power_t, max_iter=max_iter, shuffle=shuffle, random_state=random_state,
            tol=tol, verbose=verbose, warm_start=warm_start, momentum=momentum,
            nesterovs_momentum=nesterovs_momentum, early_stopping=early_stopping,
            validation_fraction=validation_fraction, beta_1=beta_1, beta_2=beta_2,
            epsilon=epsilon, n_iter_no_change=n_iter_no_change, max_fun=max_fun,
            dropout=dropout, l1=l1, optimizer=optimizer, dtype=dtype, callbacks=callbacks,
        )
        self.loss = loss

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``(X, y)``, continuing from the current weights and optimizer state
        (with an ``activation``, ``dropout`` or ``dtype`` changed since applied to them, and
        a changed ``hidden_layer_sizes`` refused, as for ``warm_start``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _encode_targets(
        self, y: np.ndarray, weights: np.ndarray | None, first_pass: bool, incremental: bool,
        classes: Any,
    ) -> np.ndarray:
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if first_pass:
            self.n_outputs_, self.out_activation_ = n_outputs, "identity"
            self._single_output = y.ndim == 1
        elif n_outputs != self.n_outputs_ or (y.ndim == 1) != self._single_output:
            raise ValueError(
                f"y has shape {y.shape}, but the model was fitted on "
                f"{self.n_outputs_} target(s) of shape "
                f"{'(n_samples,)' if self._single_output else f'(n_samples, {self.n_outputs_})'}"
            )
        return y

    def _settings(self) -> dict[str, Any]:
        settings = super()._settings()
        self._training_loss()  # check ``loss`` with the other hyperparameters
        return settings

    def _training_loss(self) -> Loss:
        loss = self.loss
        if isinstance(loss, Loss):
            if isinstance(loss, (BinaryCrossEntropy, CrossEntropy)):
                raise TypeError(f"loss={loss!r} is a classification loss; use MLPClassifier")
            return copy.deepcopy(loss)
        if not isinstance(loss, str) or loss not in REGRESSION_LOSSES:
            raise ValueError(
                f"loss must be one of {', '.join(repr(n) for n in REGRESSION_LOSSES)} or a "
                f"chainrule Loss, got {loss!r}"
            )
        return REGRESSION_LOSSES[loss]()

    def _reported_scale(self) -> float:
        """``1 / n_outputs`` for the losses summed over outputs (the named ones), whose mean
        over outputs scikit-learn reports; 1 for a chainrule Loss, reported as it reduces."""
        summed = isinstance(self._trainer.loss, SumOverOutputs)
        return 1.0 / self.n_outputs_ if summed else 1.0

    def _score_outputs(
        self, outputs: np.ndarray, y: np.ndarray, weights: np.ndarray | None
    ) -> float:
        # An R² below the float range is -inf: the worst score.
        return weighted_r2(y, self._predictions(outputs), weights)

    def _predict_validated(self, X: np.ndarray) -> np.ndarray:
        return self._predictions(self._network_outputs(X))

    def _predictions(self, outputs: np.ndarray) -> np.ndarray:
        """What ``predict`` returns for the network's ``outputs`` (n_samples, n_outputs)."""
        return outputs[:, 0] if self._single_output else outputs

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R² of ``predict(X)`` against ``y`` (n_samples,) or (n_samples, n_outputs), as
        scikit-learn's ``r2_score`` (uniform average over outputs), computed without overflow
        (:mod:`chainrule.training._r2`).

        Raises
        ------
        ValueError
            Bad ``X``, ``y`` or ``sample_weight``, fewer than 2 samples, or an R² below the
            float64 range.
        """
        predicted = self.predict(X)
        with sklearn_checks(y=y):
            y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        check_n_samples(len(predicted), len(y), "X", "y")
        if y.ndim > 2 or y.reshape(len(y), -1).shape[1] != self.n_outputs_:
            raise ShapeError(
                f"y must have shape (n_samples,) or (n_samples, {self.n_outputs_}) for this "
                f"model's {self.n_outputs_} output(s), got {y.shape}"
            )
        score = weighted_r2(y, predicted, _sample_weight(sample_weight, len(y)))
        if score == -np.inf:
            raise ValueError(
                "R² of the predictions for X against y is below the float64 range: the "
                "predictions are more than ~1e154 times further from y than y varies (X far "
                "outside the training data?)"
            )
        return score

    def predict(self, X: Any) -> np.ndarray:
        """Predicted values: (n_samples,) for one target, else (n_samples, n_outputs)."""
        return self._predict_validated(self._validated(X))
