"""``History``: what happened in each epoch of ``Trainer.fit``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

#: The keys of :meth:`History.as_dict` that are not a logged quantity (no metric may take them).
HISTORY_FIELDS = ("epoch", "interrupted", "stopped_early", "note")


class History:
    """Per-epoch records of a training run.

    Each key maps to a list with one value per epoch: ``"loss"`` (the training loss over the
    epoch's samples, each batch at the weights of its step, penalties included; at fixed
    weights it equals ``val_loss`` on the same data: see
    :class:`~chainrule.training.epoch_loss.EpochLoss`), every metric, their ``"val_"``
    versions when there is validation data, ``"lr"`` (the learning rate of the epoch's last
    step) and ``"seconds"`` (wall time of the epoch, evaluation included).

    Attributes
    ----------
    epochs : list of int
        Epoch numbers, counted from 1 (continuing across a resumed run).
    interrupted : bool
        True when the last ``fit`` was stopped by Ctrl-C; the history holds the epochs
        completed.
    stopped_early : bool
        True when a callback (e.g. ``EarlyStopping``) ended the last ``fit`` before its
        ``epochs``.
    note : str
        A human-readable remark about how the last ``fit`` ended ("" when it simply finished).

    These three describe the last ``fit`` only: every ``fit`` clears them when training
    starts (:meth:`start_fit`), a resumed one too, whatever the checkpoint's history said.

    Examples
    --------
    >>> history = History()
    >>> history.record(1, {"loss": 0.7, "val_loss": 0.8})
    >>> history["loss"]
    [0.7]
    """

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []
        self.start_fit()

    def start_fit(self) -> None:
        """Forget how the previous fit ended (``interrupted``, ``stopped_early``, ``note``);
        the epochs and their values stay."""
        self.interrupted = False
        self.stopped_early = False
        self.note = ""

    def record(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Append one epoch's values. A key first seen now is padded with NaN for earlier epochs.

        All or nothing: every value is converted to float before any is appended.
        """
        row = {key: float(value) for key, value in logs.items()}
        for key in row:
            if key not in self.history:  # the padding costs O(epochs): only for a new key
                self.history[key] = [float("nan")] * len(self.epochs)
        self.epochs.append(int(epoch))
        for key, values in self.history.items():
            values.append(row.get(key, float("nan")))

    def __getitem__(self, key: str) -> list[float]:
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"no {key!r} in history; recorded: {sorted(self.history)}") from None

    def __contains__(self, key: object) -> bool:
        return key in self.history

    def __iter__(self) -> Iterator[str]:
        return iter(self.history)

    def __len__(self) -> int:
        return len(self.epochs)

    def last(self) -> dict[str, float]:
        """The values of the last epoch."""
        return {key: values[-1] for key, values in self.history.items()} if self.epochs else {}

    def as_dict(self) -> dict[str, Any]:
        """Plain, JSON-able data: ``{"epoch": [...], "loss": [...], ...}`` plus how it ended."""
        return {
            "epoch": list(self.epochs),
            **{key: list(values) for key, values in self.history.items()},
            "interrupted": self.interrupted,
            "stopped_early": self.stopped_early,
            "note": self.note,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        """Rebuild from :meth:`as_dict` (used when training resumes from a checkpoint)."""
        history = cls()
        epochs = [int(e) for e in data.get("epoch", [])]
        for key, values in data.items():
            if key in HISTORY_FIELDS:
                continue
            if not isinstance(values, list) or len(values) != len(epochs):
                raise ValueError(f"history entry {key!r} must be a list of {len(epochs)} values")
            history.history[key] = [float(v) for v in values]
        history.epochs = epochs
        history.interrupted = bool(data.get("interrupted", False))
        history.stopped_early = bool(data.get("stopped_early", False))
        history.note = str(data.get("note", ""))
        return history

    def __repr__(self) -> str:
        keys = ", ".join(self.history)
        return f"History(epochs={len(self.epochs)}, keys=[{keys}])"
