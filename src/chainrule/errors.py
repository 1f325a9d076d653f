"""The exceptions chainrule raises on purpose.

Every error about bad input is a ``ValueError`` or a ``TypeError``, so code that already catches
those keeps working; the subclasses below only add precision for callers who want it.
"""

from __future__ import annotations

from functools import partial
from types import MappingProxyType
from typing import Any


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

    def __reduce__(self) -> tuple:
        # The keyword-only attributes travel too: a fit in a worker process (a process pool,
        # scikit-learn's n_jobs) sends this error back pickled.
        return partial(type(self), epoch=self.epoch, batch=self.batch, loss=self.loss), self.args


class MonitorNotLoggedError(ValueError):
    """A callback monitors a quantity that ``fit`` will not log (e.g. ``val_loss`` without
    validation data), found before training starts.

    The message names the callback, the quantity, what ``fit`` logs, and how to get the
    missing ones; :meth:`advised` gives the same error with the advice of another interface
    (a scikit-learn estimator names its own parameters).

    Attributes
    ----------
    who : str
        The callback (``"EarlyStopping"``).
    monitor : str
        The quantity it monitors.
    logged : tuple of str
        What ``fit`` logs, sorted.
    advice : str
        How to get what is not logged.
    """

    #: :attr:`advice` of a Trainer's ``fit``.
    TRAINER_ADVICE = "val_ quantities need validation_data or validation_split"

    def __init__(self, who: str, monitor: str, logged: Any, advice: str = TRAINER_ADVICE) -> None:
        self.who, self.monitor = who, monitor
        self.logged, self.advice = tuple(sorted(logged)), advice
        super().__init__(f"{who} monitors {monitor!r}, which fit() will not log; it logs "
                         f"{list(self.logged)} ({advice})")

    def advised(self, advice: str) -> MonitorNotLoggedError:
        """The same error with ``advice`` instead of :attr:`advice`."""
        return type(self)(self.who, self.monitor, self.logged, advice)

    def __reduce__(self) -> tuple:
        return type(self), (self.who, self.monitor, self.logged, self.advice)


class ModelFormatError(ValueError):
    """A model or checkpoint file is damaged, hostile or of an unknown version.

    The message names the file and what is wrong with it.
    """


class DataNotFoundError(FileNotFoundError):
    """A dataset file is in none of the data folders, and it is not downloaded: ``download``
    is false, or the file has no direct download.

    The message says how to fix it in the caller's own terms: the Python arguments by default
    (``pass download=True, or point data_dir / $CHAINRULE_DATA at ...``); :meth:`renamed` gives
    the same error for another interface, such as a run config's keys.

    Attributes
    ----------
    file : str
        The file's path inside a data folder (``"mnist/train-images-idx3-ubyte.gz"``).
    searched : tuple of str
        The folders looked in, in order.
    downloadable : bool
        Whether turning ``download`` on would fetch it (False: it has no direct download).
    env : str
        The environment variable that names a data folder.
    names : mapping (read-only)
        How the advice names the options: ``"off"`` (download is off), ``"on"`` (what to do
        to turn it on) and ``"data_dir"`` (the data folder option).
    """

    #: :attr:`names` for a Python caller.
    ARGUMENTS = MappingProxyType(
        {"off": "download=False", "on": "pass download=True", "data_dir": "data_dir"}
    )

    def __init__(
        self,
        file: str,
        searched: tuple[str, ...],
        downloadable: bool,
        env: str,
        names: dict[str, str] | None = None,
    ) -> None:
        self.file, self.searched = file, tuple(str(folder) for folder in searched)
        self.downloadable, self.env = bool(downloadable), env
        self.names = MappingProxyType(dict(self.ARGUMENTS if names is None else names))
        if set(self.names) != set(self.ARGUMENTS):
            raise ValueError(f"names must have the keys {sorted(self.ARGUMENTS)}, got "
                             f"{sorted(self.names)}")
        super().__init__(self._advice())

    def renamed(self, names: dict[str, str]) -> DataNotFoundError:
        """The same error, its advice naming the options as ``names`` (keys as :attr:`names`)."""
        return type(self)(self.file, self.searched, self.downloadable, self.env, names)

    def _advice(self) -> str:
        where = " and ".join(self.searched)
        off, on, data_dir = self.names["off"], self.names["on"], self.names["data_dir"]
        if self.downloadable:
            return (f"{self.file} was not found in {where} and {off}; {on}, or point {data_dir} "
                    f"/ ${self.env} at a folder that holds {self.file}")
        return (f"{self.file} was not found in {where}, and it has no direct download; copy it "
                f"into a data directory ({data_dir} or ${self.env})")

    def __reduce__(self) -> tuple:
        return type(self), (self.file, self.searched, self.downloadable, self.env, dict(self.names))
