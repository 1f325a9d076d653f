"""PyTorch as its users write it: ``nn.Sequential``, ``optim.Adam``, the plain training loop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import pairwise

import numpy as np
from _config import LEARNING_RATE


def set_threads(n_threads: int) -> None:
    """Give torch's intra-op pool the same number of threads as numpy's BLAS."""
    import torch

    torch.set_num_threads(n_threads)


class TorchMLP:
    """A fresh ``nn.Sequential`` of Linear/ReLU with ``optim.Adam`` for one benchmark run.

    Parameters
    ----------
    widths : sequence of int
        (in_features, hidden..., n_outputs); the model ends in a Linear layer (logits).
    task : {"multiclass", "binary"}
        ``CrossEntropyLoss`` on the logits, or ``BCEWithLogitsLoss`` (the fused forms a torch
        user writes).
    batch_size : int
    seed : int
        ``torch.manual_seed`` (initial weights and the ``randperm`` shuffles).
    """

    name = "torch"

    def __init__(self, widths: Sequence[int], task: str, batch_size: int, seed: int) -> None:
        import torch
        from torch import nn

        torch.manual_seed(seed)
        layers: list[nn.Module] = []
        pairs = list(pairwise(widths))
        for index, (n_in, n_out) in enumerate(pairs):
            layers.append(nn.Linear(n_in, n_out))  # float32, torch's default init
            if index < len(pairs) - 1:
                layers.append(nn.ReLU())
        self.model = nn.Sequential(*layers)
        self.multiclass = task == "multiclass"
        self.loss_fn = nn.CrossEntropyLoss() if self.multiclass else nn.BCEWithLogitsLoss()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=LEARNING_RATE)
        self.batch_size = batch_size

    def prepare(self, X: np.ndarray, y: np.ndarray) -> tuple:
        """Tensors as a torch user holds them: X shared with numpy, y int64 or float (n, 1)."""
        import torch

        X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        if self.multiclass:
            return X_t, torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
        return X_t, torch.from_numpy(y.astype(np.float32).reshape(-1, 1))

    def fit(self, data: tuple, epochs: int) -> None:
        """The plain loop (the timed part): randperm, index batches, zero_grad/backward/step."""
        import torch

        X, y = data
        model, loss_fn, optimizer, batch_size = self.model, self.loss_fn, self.optimizer, self.batch_size
        n_samples = X.shape[0]
        model.train()
        for _ in range(epochs):
            perm = torch.randperm(n_samples)
            for start in range(0, n_samples, batch_size):
                index = perm[start : start + batch_size]
                xb, yb = X[index], y[index]
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()

    def predictor(self, X: np.ndarray) -> Callable[[], object]:
        """One inference call: ``no_grad``, the model, then softmax (or sigmoid) → probabilities."""
        import torch

        model = self.model.eval()
        X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        squash = (lambda z: torch.softmax(z, dim=1)) if self.multiclass else torch.sigmoid

        def call() -> object:
            with torch.no_grad():
                return squash(model(X_t))

        return call

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.predictor(X)().numpy()

    def state_bytes(self) -> dict[str, int]:
        """Bytes of the parameters and of Adam's state tensors (exp_avg, exp_avg_sq)."""
        import torch

        parameters = sum(p.numel() * p.element_size() for p in self.model.parameters())
        state = sum(v.numel() * v.element_size()
                    for s in self.optimizer.state.values() for v in s.values()
                    if isinstance(v, torch.Tensor) and v.dim() > 0)
        return {"parameters": int(parameters), "optimizer_state": int(state)}
