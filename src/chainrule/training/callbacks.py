"""Callbacks: code that runs at fixed points of ``Trainer.fit``.

Write your own by subclassing :class:`Callback` and overriding any of its hooks; each receives
the trainer (``trainer.net``, ``trainer.optimizer``, ``trainer.history``; set
``trainer.stop_training = True`` to stop after the current epoch)::

    on_train_begin(trainer)                        trainer.continue_callbacks: whether this
                                                   fit continues the previous fit's run
    on_epoch_begin(trainer, epoch)                 epoch counted from 1
    on_batch_end(trainer, epoch, batch, logs)      logs = {"loss": batch loss}; batch from 1
    on_epoch_end(trainer, epoch, logs)             logs = the epoch's "loss", metrics, "val_..."
    on_train_end(trainer, logs)                    logs = the last completed epoch's logs
                                                   ({} when this fit completed none)

Callbacks run in the order of the trainer's list, except those that save the training state
(``saves_state = True``: :class:`~chainrule.training.ModelCheckpoint`): they run after the
others at an epoch's end, so a checkpoint holds what the others changed then (a learning rate
that ``ReduceLROnPlateau`` reduced), and before the others at the end of training, so the
checkpoint of an interrupted moment is written before, e.g., ``EarlyStopping`` puts the best
weights back.

Arrays reachable from the trainer inside ``on_batch_end`` may be reused by the next batch;
copy what you keep.

A callback's ``repr`` is its constructor call (``EarlyStopping(monitor='val_loss',
patience=5, ...)``), read back from the attributes named as its constructor arguments; a
subclass of your own shows the arguments it stores that way (``self.limit = limit``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from .._configurable import constructor_repr
from .._validation import check_bool, check_choice, check_number
from ..errors import MonitorNotLoggedError
from .metrics import higher_is_better

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer

Logs = dict[str, float]


class Callback:
    """Base class: every hook does nothing; override the ones you need."""

    #: Whether the callback saves the training state (see the module docstring for the order).
    saves_state = False

    def on_train_begin(self, trainer: Trainer) -> None:
        """Before the first epoch."""

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        """Before each epoch."""

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, logs: Logs) -> None:
        """After each optimizer step."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Logs) -> None:
        """After each epoch's evaluation, once the epoch is counted (``trainer.epoch``) and
        recorded in ``trainer.history``."""

    def on_train_end(self, trainer: Trainer, logs: Logs) -> None:
        """After the last epoch (also after a Ctrl-C that stopped training after a step);
        ``logs`` are the last completed epoch's ({} when this fit completed none). Not when
        ``fit`` raises: an error, a second Ctrl-C, or one before the fit's first step, which
        ``fit`` raises as ``KeyboardInterrupt`` (release in a ``finally`` of your own what
        ``on_train_begin`` took)."""

    def __repr__(self) -> str:
        return constructor_repr(self)


class LambdaCallback(Callback):
    """A callback from plain functions, one per hook (all optional).

    >>> printer = LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: print(epoch, logs["loss"]))
    """

    _HOOKS = ("on_train_begin", "on_epoch_begin", "on_batch_end", "on_epoch_end", "on_train_end")

    def __init__(
        self,
        *,
        on_train_begin: Callable[..., Any] | None = None,
        on_epoch_begin: Callable[..., Any] | None = None,
        on_batch_end: Callable[..., Any] | None = None,
        on_epoch_end: Callable[..., Any] | None = None,
        on_train_end: Callable[..., Any] | None = None,
    ) -> None:
        hooks = dict(zip(self._HOOKS, (on_train_begin, on_epoch_begin, on_batch_end,
                                       on_epoch_end, on_train_end)))
        for name, function in hooks.items():
            if function is not None:
                if not callable(function):
                    raise TypeError(f"{name} must be callable, got {type(function).__name__}")
                setattr(self, name, function)

    def __repr__(self) -> str:
        # The hooks given are instance attributes; the others are Callback's methods, whose
        # repr would show this repr again.
        given = {name: vars(self)[name] for name in self._HOOKS if name in vars(self)}
        return constructor_repr(self, given)


class _Monitor:
    """Tracks the best value of one logged quantity (shared by the plateau-type callbacks)."""

    def __init__(self, monitor: str, mode: str, min_delta: float) -> None:
        if not isinstance(monitor, str):
            raise TypeError(f"monitor must be a str, got {type(monitor).__name__}")
        self.monitor = monitor
        self.mode = check_choice(mode, "mode", ("auto", "min", "max"))
        self.min_delta = check_number(min_delta, "min_delta", low=0)
        self.reset()

    def reset(self) -> None:
        self.best = np.nan
        self.best_epoch = 0
        self.wait = 0

    def _maximise(self) -> bool:
        if self.mode == "auto":
            name = self.monitor.removeprefix("val_")
            return name != "loss" and higher_is_better(name)
        return self.mode == "max"

    def check_available(self, trainer: Trainer, who: str) -> None:
        """Before training: ``monitor`` will be logged (else a
        :class:`~chainrule.errors.MonitorNotLoggedError`), and ``mode`` says which way is
        better."""
        available = trainer.logged_keys()
        if self.monitor not in available:
            raise MonitorNotLoggedError(who, self.monitor, available)
        try:
            self._maximise()
        except ValueError:  # mode="auto" and lr, seconds or a metric function of the user's own
            what = ("not a metric" if self.monitor in ("lr", "seconds")
                    else "a metric of your own")
            raise ValueError(
                f"{who} monitors {self.monitor!r}, {what}: mode='auto' cannot tell whether "
                "larger is better; give mode='max' or mode='min'"
            ) from None

    def improved(self, epoch: int, logs: Logs) -> bool:
        """Record ``logs[monitor]``; True when it beats the best so far by more than
        ``min_delta`` (an absolute margin), or is the first finite value."""
        value = logs.get(self.monitor, np.nan)
        if not np.isfinite(value):
            self.wait += 1
            return False
        if np.isnan(self.best):
            better = True
        elif self._maximise():
            better = value > self.best + self.min_delta
        else:
            better = value < self.best - self.min_delta
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
        else:
            self.wait += 1
        return better


class _MonitoringCallback(Callback):
    """A callback that follows one logged quantity (its ``_tracker``, a :class:`_Monitor`),
    with that quantity's settings as attributes (which its repr reads back)."""

    _tracker: _Monitor

    @property
    def monitor(self) -> str:
        return self._tracker.monitor

    @property
    def mode(self) -> str:
        return self._tracker.mode

    @property
    def min_delta(self) -> float:
        return self._tracker.min_delta


class EarlyStopping(_MonitoringCallback):
    """Stop when ``monitor`` has not improved for ``patience`` epochs.

    An epoch improves when its value beats the best so far by more than ``min_delta``
    (``value < best - min_delta``, or ``>`` ``best + min_delta`` when maximising); training
    stops after the ``patience``-th consecutive epoch that does not. Keras's ``EarlyStopping``
    counts the same way (with other defaults); scikit-learn's MLP stops after more than
    ``n_iter_no_change`` such epochs, so ``n_iter_no_change = patience - 1``: see
    docs/conventions.md.

    Parameters
    ----------
    monitor : str, default "val_loss"
        A logged quantity: ``"loss"``, a metric name, or their ``"val_"`` versions.
    patience : int, default 5
        Epochs without improvement to wait before stopping. 0 acts as 1: the first epoch
        without improvement stops (as in Keras).
    min_delta : float, default 0
        An absolute margin: an improvement must exceed it (strictly).
    restore_best : bool, default True
        At the end of training, put back the weights of the best epoch.
    mode : {"auto", "min", "max"}
        Whether smaller or larger is better; "auto" decides from the name (accuracy and r2 are
        maximised, losses and errors minimised).

    Attributes
    ----------
    best, best_epoch : float, int
        The best value seen and its epoch.
    stopped_epoch : int
        The epoch after which this fit stopped (0 when it ran to the end, also when the
        patience ran out on the fit's last epoch, unless the fit continues a run: see
        ``Trainer.fit``'s ``continue_callbacks``, with which the best value, the patience
        count and the best weights carry over from the previous fit).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        patience: int = 5,
        min_delta: float = 0.0,
        restore_best: bool = True,
        mode: str = "auto",
    ) -> None:
        self._tracker = _Monitor(monitor, mode, min_delta)
        self.patience = check_number(patience, "patience", low=0, integer=True)
        self.restore_best = check_bool(restore_best, "restore_best")
        self.stopped_epoch = 0
        self._best_parameters: np.ndarray | None = None

    @property
    def best(self) -> float:
        return self._tracker.best

    @property
    def best_epoch(self) -> int:
        return self._tracker.best_epoch

    def on_train_begin(self, trainer: Trainer) -> None:
        self._tracker.check_available(trainer, "EarlyStopping")
        self.stopped_epoch = 0
        if not trainer.continue_callbacks:  # a run of its own
            self._tracker.reset()
            self._best_parameters = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Logs) -> None:
        if self._tracker.improved(epoch, logs):
            if self.restore_best:
                self._best_parameters = trainer.net.parameters.copy()
        # On a fit's last epoch training ends anyway, unless the next fit continues the run.
        elif self._tracker.wait >= self.patience and (epoch < trainer.final_epoch
                                                      or trainer.continue_callbacks):
            self.stopped_epoch = epoch
            trainer.stop_training = True
            trainer.history.stopped_early = True

    def on_train_end(self, trainer: Trainer, logs: Logs) -> None:
        # A fit that continues a run ends it only by a stop: otherwise the next fit goes on
        # from its last weights, as the epochs of one fit do.
        restoring = (self.restore_best and self._best_parameters is not None
                     and (self.stopped_epoch > 0 or not trainer.continue_callbacks))
        if restoring:
            trainer.net.parameters[...] = self._best_parameters
        if self.stopped_epoch:  # no epoch since: the tracker's wait is the stop's
            stalled = self._tracker.wait  # patience (or more, in a run continued past a
            # stop), or 1 when patience is 0
            best = (f"best {self.best:.6g} at epoch {self.best_epoch}" if self.best_epoch
                    else "it was never finite")
            restored = f"; restored the weights of epoch {self.best_epoch}" if restoring else ""
            trainer.history.note = (
                f"stopped early after epoch {self.stopped_epoch}: {self.monitor} did not improve "
                f"for {stalled} epoch{'' if stalled == 1 else 's'} ({best}){restored}"
            )


class ReduceLROnPlateau(_MonitoringCallback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    Counts epochs. After ``patience`` consecutive epochs without an improvement of more than
    ``min_delta`` (an absolute margin: ``value < best - min_delta``, or ``>`` ``best +
    min_delta`` when maximising), the rate becomes ``max(lr · factor, min_lr)``; then
    ``cooldown`` epochs pass before waiting starts again. ``patience=0`` acts as 1 (the first
    epoch without improvement reduces). As Keras's ``ReduceLROnPlateau`` (but for its
    ``cooldown``, one more than ours); PyTorch's is ours with its ``patience`` one less,
    ``threshold_mode="abs"``, ``threshold=min_delta`` and ``eps=0``: see docs/conventions.md.
    The reduction composes with a schedule: the trainer multiplies the scheduled rate by the
    accumulated factor (``trainer.lr_factor``). ``min_lr`` bounds the rate at the
    moment of a reduction only: a decaying schedule may take it lower afterwards.

    Parameters
    ----------
    monitor : str, default "val_loss"
    factor : float in (0, 1), default 0.1
    patience : int, default 10
        Epochs without improvement before a reduction; 0 acts as 1.
    min_delta : float, default 1e-4
        An absolute margin an improvement must exceed.
    cooldown : int, default 0
    min_lr : float, default 0
    mode : {"auto", "min", "max"}
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        *,
        factor: float = 0.1,
        patience: int = 10,
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        mode: str = "auto",
    ) -> None:
        self._tracker = _Monitor(monitor, mode, min_delta)
        self.factor = check_number(factor, "factor", low=0, high=1, low_open=True, high_open=True)
        self.patience = check_number(patience, "patience", low=0, integer=True)
        self.cooldown = check_number(cooldown, "cooldown", low=0, integer=True)
        self.min_lr = check_number(min_lr, "min_lr", low=0)
        self._cooling = 0

    def on_train_begin(self, trainer: Trainer) -> None:
        self._tracker.check_available(trainer, "ReduceLROnPlateau")
        if not trainer.continue_callbacks:  # a run of its own (Trainer.fit's continue_callbacks)
            self._tracker.reset()
            self._cooling = 0

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Logs) -> None:
        improved = self._tracker.improved(epoch, logs)  # a new best counts even in a cooldown
        if self._cooling > 0:  # a cooldown epoch: a stall is not counted
            self._cooling -= 1
            self._tracker.wait = 0
            return
        if improved or self._tracker.wait < self.patience:
            return
        optimizer = trainer.optimizer
        new_lr = max(optimizer.lr * self.factor, self.min_lr)
        if new_lr < optimizer.lr:
            trainer.lr_factor *= new_lr / optimizer.lr
            optimizer.lr = new_lr
        self._tracker.wait = 0
        self._cooling = self.cooldown
