"""chainrule as its users run it: ``cr.mlp`` + ``cr.Trainer`` + ``cr.Adam``, ``net.forward``."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
from _config import LEARNING_RATE


class ChainruleMLP:
    """A fresh chainrule MLP with a Trainer (Adam, shuffling) for one benchmark run.

    Parameters
    ----------
    widths : sequence of int
        (in_features, hidden..., n_outputs); ReLU between the Dense layers.
    task : {"multiclass", "binary"}
        Softmax output + cross-entropy, or sigmoid output + binary cross-entropy (both pairs
        are fused by chainrule's Objective: the loss works on the logits).
    batch_size : int
    seed : int
        Initial weights (``cr.mlp``) and shuffling (``cr.Trainer``).
    """

    name = "chainrule"

    def __init__(self, widths: Sequence[int], task: str, batch_size: int, seed: int) -> None:
        import chainrule as cr

        multiclass = task == "multiclass"
        self.net = cr.mlp(list(widths), activation="relu",
                          output="softmax" if multiclass else "sigmoid",
                          dtype=np.float32, seed=seed)
        self.trainer = cr.Trainer(self.net, "cross_entropy" if multiclass else "binary_cross_entropy",
                                  cr.Adam(lr=LEARNING_RATE), batch_size=batch_size, shuffle=True,
                                  seed=seed, verbose=0)

    def prepare(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The training data as this library takes it (float32 rows, integer labels): unchanged."""
        return X, y

    def fit(self, data: tuple[np.ndarray, np.ndarray], epochs: int) -> None:
        """``trainer.fit(X, y, epochs)`` (the timed part)."""
        X, y = data
        self.trainer.fit(X, y, epochs=epochs)

    def predictor(self, X: np.ndarray) -> Callable[[], np.ndarray]:
        """One inference call: ``net.forward(X)`` → probabilities (n_samples, n_outputs)."""
        net = self.net
        return lambda: net.forward(X)

    def floor_predictor(self, X: np.ndarray) -> Callable[[], np.ndarray]:
        """The same forward pass as bare NumPy calls on the same weights, nothing checked:
        ``Z = A W; Z += b; max(Z, 0)`` per hidden layer, then a row-wise stable softmax. What
        :meth:`predictor` would cost without chainrule's own work (checks, layer dispatch)."""
        dense = [(layer.params["W"], layer.params["b"]) for layer in self.net.layers
                 if layer.params]

        def forward() -> np.ndarray:
            A = X
            for W, b in dense:
                Z = np.matmul(A, W)
                Z += b
                A = np.maximum(Z, 0.0, out=Z) if W is not dense[-1][0] else Z
            np.subtract(A, np.maximum.reduce(A, axis=1, keepdims=True), out=A)
            np.exp(A, out=A)
            A /= np.add.reduce(A, axis=1, keepdims=True)
            return A

        return forward

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities (n_samples, n_outputs), for the sanity check of the trained model."""
        return self.net.forward(X)

    def state_bytes(self) -> dict[str, int]:
        """Bytes of the parameters and of the optimizer's state (Adam's m and v), as allocated."""
        state = self.trainer.optimizer.state_dict()
        optimizer = sum(v.nbytes for v in state.values() if isinstance(v, np.ndarray))
        return {"parameters": int(self.net.parameters.nbytes), "optimizer_state": int(optimizer)}


def hand_loop_epochs(widths: Sequence[int], X: np.ndarray, y: np.ndarray, batch_size: int,
                     epochs: int, seed: int) -> Callable[[], float]:
    """Workload 2 written without the Trainer: ``cr.batches`` + ``Objective`` + ``Adam.step``.

    Returns a task that builds a fresh network (untimed) and returns the seconds of ``epochs``
    epochs of the loop (binary cross-entropy on a sigmoid output, fused).
    """
    import chainrule as cr

    targets = y.astype(np.float32).reshape(-1, 1)

    def task() -> float:
        net = cr.mlp(list(widths), activation="relu", output="sigmoid", dtype=np.float32, seed=seed)
        objective = cr.Objective(net, "binary_cross_entropy")
        optimizer = cr.Adam(lr=LEARNING_RATE).bind_network(net)
        rng = np.random.default_rng(seed)
        start = time.perf_counter()
        for _ in range(epochs):
            for Xb, yb in cr.batches(X, targets, batch_size, shuffle=True, seed=rng):
                objective.value_and_gradients(Xb, yb)
                optimizer.step()
        return time.perf_counter() - start

    return task
