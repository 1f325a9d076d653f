"""The exceptions chainrule raises on purpose.

Every error about bad input is a ``ValueError`` or a ``TypeError``, so code that already catches
those keeps working; the subclasses below only add precision for callers who want it.
"""

from __future__ import annotations


class ShapeError(ValueError):
    """An array does not have the shape a layer, loss or function expects.

    The message names who complained (for a layer inside a network, its index and type), the
    expected shape with named dimensions and the shape received, e.g.
    ``Dense #2 expects X of shape (n_samples, 64), got (32, 30)``.
    """


class NotDifferentiableError(TypeError):
    """``backward`` was called on a layer that has no useful derivative (``Step``)."""


class NotBuiltError(RuntimeError):
    """A layer was used before its parameters exist, or ``backward`` ran before ``forward``."""


class TrainingDivergedError(RuntimeError):
    """Training produced a non-finite loss, or a step made the weights non-finite. The weights
    are those after the last step whose loss was finite, or, when that step made them
    non-finite, the weights the epoch started from.

    Attributes
    ----------
    epoch, batch : int
        Where the loss (or the weights) first became non-finite (both counted from 1).
    loss : float
        The offending loss value (``nan`` or ``inf``); ``nan`` when the weights overflowed in
        an epoch's last step, whose loss was finite.
    """

    def __init__(self, message: str, *, epoch: int, batch: int, loss: float) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.batch = batch
        self.loss = loss


class ModelFormatError(ValueError):
    """A model or checkpoint file is damaged, hostile or of an unknown version.

    The message names the file and what is wrong with it.
    """
