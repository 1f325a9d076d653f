"""``EpochLoss``: an epoch's training loss, put together from its batches' losses."""

from __future__ import annotations


class EpochLoss:
    """The training loss of one epoch, from the values of its batches.

    It is defined as the objective over all the epoch's samples, each batch's loss taken at
    the weights of its own step. At fixed weights it therefore equals the loss that
    ``Trainer.evaluate`` (and ``val_loss``) gives on the same samples, whatever the batch
    size. With ``L_b`` a batch's loss (its data term, as the loss reduces it), ``P_b`` the
    penalty at its step and ``W_b`` its share (the sum of its sample weights, or its number
    of samples without weights)::

        reduction "mean":  Σ_b W_b L_b / Σ_b W_b     (the weighted mean over the samples)
        reduction "sum":   Σ_b L_b                   (the sum over the samples)
        plus the penalty   Σ_b W_b P_b / Σ_b W_b     (it is not per sample: averaged)

    Parameters
    ----------
    reduction : {"mean", "sum"}
        The loss's reduction.

    Examples
    --------
    >>> epoch = EpochLoss("mean")
    >>> epoch.add(1.0, 0.0, weight=3)   # a batch of 3 samples with mean loss 1
    >>> epoch.add(2.0, 0.0, weight=1)   # a last batch of 1 sample with loss 2
    >>> epoch.value                     # (3·1 + 1·2) / 4
    1.25
    """

    def __init__(self, reduction: str) -> None:
        self._summed = reduction == "sum"
        self._data = self._penalty = self._weight = 0.0

    def add(self, value: float, penalty: float, weight: float) -> None:
        """One batch: its objective ``value`` (loss + ``penalty``) and its share ``weight``."""
        if self._summed:  # the data terms add up; the penalty is averaged
            self._data += value - penalty
            self._penalty += penalty * weight
        else:  # Σ W_b (L_b + P_b) / Σ W_b holds both parts at once
            self._data += value * weight
        self._weight += weight

    @property
    def value(self) -> float | None:
        """The epoch's loss over the batches added so far (None before the first)."""
        if not self._weight:
            return None
        if self._summed:
            return self._data + self._penalty / self._weight
        return self._data / self._weight
