"""scikit-learn's stopping rule and learning-rate policies, as a chainrule ``Callback``.

After every epoch scikit-learn's stochastic MLP (``_fit_stochastic`` and
``_update_no_improvement_count``) does, in this order:

1. record the epoch's training loss in ``loss_curve_``: the batches' losses weighted by their
   numbers of rows, whatever the sample weights (a ``Trainer``'s own history weighs them by
   their total weight instead, see :class:`~chainrule.training.epoch_loss.EpochLoss`). A
   regressor's loss is the one reported, not the one minimised: with ``n`` outputs scikit-learn
   steps along the gradient of the per-sample sum over outputs but reports the mean over
   them (``squared_loss``'s ``.mean()``), plus the unchanged ``alpha`` penalty, i.e.
   ``(L − P) / n + P`` for a batch objective ``L`` (what the Trainer minimises and logs)
   with penalty ``P``;
2. without early stopping: count the epoch as "no improvement" when
   ``loss > best_loss_ − tol`` (else reset the count), then ``best_loss_ = min(best_loss_, loss)``;
   with early stopping: score the validation set (accuracy or R²), count "no improvement" when
   ``score < best_validation_score_ + tol``, and keep the weights of the best score;
3. with ``learning_rate="invscaling"`` (SGD): ``lr = learning_rate_init / (t + 1)^power_t``,
   ``t`` counting the *samples* seen so far;
4. once the count exceeds ``n_iter_no_change``: stop; or, with ``learning_rate="adaptive"``
   (SGD), divide the rate by 5 and reset the count, stopping only when the rate is already
   at most 1e-6.

(The estimators also apply steps 3 and 4's policies to any ``optimizer`` given, decaying
from its initial rate.)

:class:`EpochBookkeeping` does exactly this, so that the stopping rule, the adaptive rate and
``best_loss_`` compare scikit-learn's values with ``tol``. It also records the validation loss
(``validation_loss_curve_``, reported as ``loss_curve_``), which scikit-learn's MLP does not
keep. Both come from one forward pass over the validation set per epoch, the Trainer's
(:class:`ScoringTrainer`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from ..training.callbacks import Callback
from ..training.epoch_loss import EpochLoss
from ..training.progress import print_line
from ..training.trainer import Trainer

#: With ``learning_rate="adaptive"``, the rate is divided by this on a plateau ...
ADAPTIVE_DIVISOR = 5.0
#: ... and training stops on a plateau once the rate is at most this.
ADAPTIVE_MIN_LR = 1e-6


class LearningRatePolicy(NamedTuple):
    """scikit-learn's ``learning_rate`` policy as it was when the optimizer was made: its
    ``name`` ("constant", "invscaling" or "adaptive"; "constant" for the solvers other than
    "sgd", unless ``optimizer`` is given), and the ``initial`` rate (the optimizer's) and
    ``power_t`` that "invscaling" decays from."""

    name: str
    initial: float
    power_t: float


class EpochBookkeeping(Callback):
    """Records the curves on the estimator and applies scikit-learn's stopping rule.

    Parameters
    ----------
    estimator : a chainrule.sklearn MLP
        Its ``loss_curve_``, ``best_loss_``, ``validation_scores_``,
        ``best_validation_score_``, ``validation_loss_curve_``, ``n_iter_``, ``t_`` and
        ``_no_improvement_count`` are updated in place (they persist across ``warm_start``
        fits and ``partial_fit`` calls, as in scikit-learn).
    n_train : int
        Training samples per epoch (for ``t_``).
    validation : (X_val, y_val, sample_weight_val) or None
        Held-out data scored after every epoch when early stopping.
    data_scale : float, default 1
        Factor of the data term in the recorded losses: ``1 / n_outputs`` for a regressor's
        losses summed over outputs (scikit-learn reports their mean), else 1 (see the module
        notes).

    Attributes
    ----------
    converged : bool
        Whether the stopping rule ended training (rather than ``max_iter``).
    """

    def __init__(
        self, estimator: Any, n_train: int, validation: tuple | None, data_scale: float = 1.0
    ) -> None:
        self.estimator = estimator
        self.n_train = n_train
        self.validation = validation
        self.data_scale = data_scale
        self.converged = False
        self._epoch_loss: EpochLoss | None = None  # a new one each epoch

    def on_epoch_begin(self, trainer: Any, epoch: int) -> None:
        self._epoch_loss = EpochLoss("mean")

    def on_batch_end(self, trainer: Any, epoch: int, batch: int, logs: dict[str, float]) -> None:
        rows = min(trainer.batch_size, self.n_train - (batch - 1) * trainer.batch_size)
        self._epoch_loss.add(self._reported(logs["loss"], trainer.objective.last_penalty), 0.0,
                             rows)

    def _reported(self, objective: float, penalty: float) -> float:
        """scikit-learn's value of a loss ``objective`` that includes ``penalty``: the data
        term times ``data_scale``, the penalty as it is."""
        if self.data_scale == 1.0:
            return objective
        return (objective - penalty) * self.data_scale + penalty

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, float]) -> None:
        est = self.estimator
        est.n_iter_ += 1
        est.t_ += self.n_train
        est.loss_curve_.append(self._epoch_loss.value)
        if self.validation is None:
            self._track_training_loss(est)
        else:
            self._track_validation_score(est, trainer, logs)
        policy = est._rate_policy
        if policy.name == "invscaling":  # lr = lr_0 / (t + 1)^power_t, t in samples
            set_sgd_lr(trainer.optimizer, policy.initial / (est.t_ + 1) ** policy.power_t)
        if est._no_improvement_count > est.n_iter_no_change:
            lr = trainer.optimizer.lr
            if policy.name == "adaptive" and lr > ADAPTIVE_MIN_LR:
                set_sgd_lr(trainer.optimizer, lr / ADAPTIVE_DIVISOR)
                est._no_improvement_count = 0
                if est.verbose:
                    print_line(f"Setting learning rate to {trainer.optimizer.lr:f}")
            else:
                self.converged = True
                trainer.stop_training = True
                if est.verbose:
                    print_line(self._message(est))

    def _track_training_loss(self, est: Any) -> None:
        loss = est.loss_curve_[-1]
        if loss > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        est.best_loss_ = min(est.best_loss_, loss)

    def _track_validation_score(self, est: Any, trainer: Any, logs: dict[str, float]) -> None:
        _, y_val, w_val = self.validation
        outputs, trainer.evaluated = trainer.evaluated, None  # of the pass that gave val_loss
        score = est._score_outputs(outputs, y_val, w_val)
        est.validation_scores_.append(score)
        val_loss = float(logs["val_loss"])  # at the epoch's final weights, so is their penalty
        est.validation_loss_curve_.append(self._reported(val_loss, trainer.net.penalty()))
        if est.verbose:
            print_line(f"Validation score: {score:f}")
        if not np.isfinite(score) or score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1  # -inf (the worst score) is no improvement either
        else:
            est._no_improvement_count = 0
        if score > est.best_validation_score_:
            est.best_validation_score_ = score
            est._best_parameters = trainer.net.parameters.copy()

    def on_train_end(self, trainer: Any, logs: dict[str, float]) -> None:
        best = getattr(self.estimator, "_best_parameters", None)
        if self.validation is not None and best is not None:
            trainer.net.parameters[...] = best  # scikit-learn restores the best epoch's weights

    @staticmethod
    def _message(est: Any) -> str:
        what = "Validation score" if est.early_stopping else "Training loss"
        return (
            f"{what} did not improve more than tol={est.tol:f} for "
            f"{est.n_iter_no_change} consecutive epochs. Stopping."
        )


class ScoringTrainer(Trainer):
    """The estimators' Trainer. Each evaluation (``fit``'s validation pass, once per epoch)
    keeps the loss's input for every row in ``evaluated`` (n_samples, n_outputs): the logits
    of a classifier (its output layer is fused with its loss), a regressor's predictions.
    :class:`EpochBookkeeping` scores the validation set from them, so that the score and
    ``val_loss`` cost one forward pass, not two."""

    evaluated: np.ndarray | None = None
    _keeping = False  # inside _evaluate: its chunks are kept

    def _evaluate(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> dict[str, float]:
        self.evaluated = np.empty((X.shape[0], self.net.out_features), self.net.dtype)
        self._keeping = True
        try:
            return super()._evaluate(X, y, w)
        finally:
            self._keeping = False

    def _chunks(self, X: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
        for rows, scores in super()._chunks(X):
            if self._keeping:  # copied before _evaluate makes them probabilities in place
                self.evaluated[rows] = scores
            yield rows, scores


def set_sgd_lr(optimizer: Any, lr: float) -> None:
    """Change SGD's rate the way scikit-learn's momentum form implies.

    scikit-learn keeps ``v_sk ← μ v_sk − lr g`` (the rate inside the velocity); chainrule
    (PyTorch) keeps ``v ← μ v + g`` and steps ``−lr v``, so ``v_sk = −lr v`` while the rate is
    constant. When the rate changes from ``lr_old`` to ``lr``, scikit-learn's velocity still
    carries ``lr_old``; scaling chainrule's buffer by ``lr_old / lr`` keeps ``−lr v`` equal to
    it, and the next steps (plain or Nesterov) are then scikit-learn's.
    """
    old = optimizer.lr
    state = optimizer.state_dict()
    if "momentum_buffer" in state and lr > 0:
        state["momentum_buffer"] *= old / lr
        state["lr"] = lr
        optimizer.load_state_dict(state)
    else:
        optimizer.lr = lr


def no_improvement_start(early_stopping: bool) -> dict[str, Any]:
    """The bookkeeping attributes of a first fit, as scikit-learn's ``_initialize`` sets them."""
    return {
        "loss_curve_": [],
        "_no_improvement_count": 0,
        "best_loss_": None if early_stopping else np.inf,
        "validation_scores_": [] if early_stopping else None,
        "validation_loss_curve_": [] if early_stopping else None,
        "best_validation_score_": -np.inf if early_stopping else None,
        "_best_parameters": None,
        "t_": 0,
    }
