"""scikit-learn's ``MLPClassifier`` with the adam solver, one ``fit`` per run."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from _config import LEARNING_RATE


class SklearnMLP:
    """An ``MLPClassifier`` set up for the same work as the other two.

    ``fit`` with ``max_iter=epochs`` runs exactly ``epochs`` epochs: ``tol=0`` and
    ``n_iter_no_change=epochs`` keep it from stopping early, ``alpha=0`` removes the L2 term
    (scikit-learn still computes ``Σ‖W‖²`` every batch, multiplied by 0), and no validation
    split is taken (``early_stopping=False``). Each fit also initialises the weights (Glorot
    uniform), validates X (float32 is kept, finiteness checked), one-hot encodes y, and adds
    every batch's loss to the epoch's ``loss_``. The ConvergenceWarning for stopping at
    ``max_iter`` is silenced.

    Parameters
    ----------
    widths : sequence of int
        (in_features, hidden..., n_outputs); in and out are implied by the data.
    task : {"multiclass", "binary"}
        Softmax + log-loss, or one logistic output + binary log-loss (scikit-learn picks them
        from the labels).
    batch_size : int
    seed : int
        ``random_state`` (initial weights and shuffling).
    """

    name = "sklearn"

    def __init__(self, widths: Sequence[int], task: str, batch_size: int, seed: int) -> None:
        self.hidden = tuple(int(w) for w in widths[1:-1])
        self.batch_size = batch_size
        self.seed = seed
        self.estimator = None

    def prepare(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return X, y

    def fit(self, data: tuple[np.ndarray, np.ndarray], epochs: int) -> None:
        """``MLPClassifier(...).fit(X, y)`` (the timed part)."""
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        X, y = data
        self.estimator = MLPClassifier(
            hidden_layer_sizes=self.hidden, activation="relu", solver="adam", alpha=0.0,
            batch_size=self.batch_size, learning_rate_init=LEARNING_RATE, max_iter=epochs,
            shuffle=True, random_state=self.seed, tol=0.0, n_iter_no_change=epochs,
            early_stopping=False,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.estimator.fit(X, y)

    def predictor(self, X: np.ndarray) -> Callable[[], np.ndarray]:
        """One inference call: ``estimator.predict_proba(X)``."""
        if self.estimator is None:
            raise RuntimeError("fit before asking for a predictor")
        estimator = self.estimator
        return lambda: estimator.predict_proba(X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        proba = self.predictor(X)()
        return proba[:, 1:] if proba.shape[1] == 2 else proba  # binary: P(y = 1), (n, 1)

    def state_bytes(self) -> dict[str, int]:
        """Bytes of coefs_/intercepts_ and of the adam solver's ms and vs."""
        est = self.estimator
        parameters = sum(a.nbytes for a in est.coefs_ + est.intercepts_)
        optimizer = est._optimizer  # private, but the only place the state lives
        state = sum(a.nbytes for a in list(optimizer.ms) + list(optimizer.vs))
        return {"parameters": int(parameters), "optimizer_state": int(state)}
