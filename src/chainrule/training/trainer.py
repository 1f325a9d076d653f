"""``Trainer``: the training loop — minibatches, validation, metrics, callbacks, progress."""

from __future__ import annotations

import contextlib
import math
import os
import reprlib
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from .._configurable import Verbatim, constructor_repr
from .._interrupt import DeferredInterrupt
from .._random import as_generator
from .._validation import (
    all_finite,
    check_bool,
    check_n_samples,
    check_number,
    check_verbose,
)
from ..errors import NotBuiltError, TrainingDivergedError
from ..layers.activations import sigmoid, softmax
from ..layers.inference import forward_chunks, forward_in_chunks
from ..layers.sequential import Sequential
from ..losses import CrossEntropy
from ..objective import Objective
from ..optim.base import Optimizer
from ..optim.schedules import Schedule
from .batching import batches
from .callbacks import Callback
from .data import split_indices
from .epoch_loss import EpochLoss
from .history import HISTORY_FIELDS, History
from .metrics import METRICS, ROW_TERMS, for_task, metric_task, r2_score
from .progress import Progress
from .targets import TargetEncoder, loss_tasks


class Trainer:
    """Trains a network: shuffled minibatches, an optimizer, validation, metrics, callbacks.

    Parameters
    ----------
    net : Sequential
    loss : Loss, name or dict
        Paired with the network's output activation as :class:`~chainrule.Objective` does
        (``Sigmoid`` + binary cross-entropy and ``Softmax`` + cross-entropy are fused).
    optimizer : Optimizer, name or dict, default "adam"
        Bound to the network's flat buffers here. One already bound to ``net`` (by an earlier
        Trainer, or ``bind_network``) keeps its state (moments, step count, rate): this
        Trainer continues where the other stopped in what the optimizer holds, and starts
        its own counts afresh: ``epoch`` (and the history) from 0, so a ``schedule`` of unit
        ``"epoch"`` starts over, warm-up included, while one of unit ``"step"`` goes on from
        the optimizer's step count; and ``lr_factor`` from 1, so a schedule's rate leaves out
        the other Trainer's ``ReduceLROnPlateau`` reductions (without a schedule the reduced
        ``optimizer.lr`` stays). To continue every count, fit the same Trainer again, or
        resume from a checkpoint (``fit(resume_from=...)``). One bound to another network is
        refused.
    batch_size : int, default 32
        The last, partial batch of an epoch is used, not dropped.
    shuffle : bool, default True
        Visit the training samples in a new random order every epoch.
    seed : int, Generator or None
        Source of the shuffling and of the validation split. With the network's own seed it
        makes ``fit`` reproducible bit for bit on one machine, NumPy/BLAS build and number of
        BLAS threads (the BLAS library's kernels and its split of each product across threads
        decide the last bits).
    metrics : sequence of str or callable
        Metric names from :data:`chainrule.training.metrics.METRICS` (``"accuracy"``,
        ``"mse"``, ``"mae"``, ``"r2"``, ``"log_loss"``) or functions ``f(y_true, y_pred)``.
        A named metric must be one of the task ``fit`` learns from ``y`` (``"accuracy"`` and
        ``"log_loss"`` for classification, the others for regression:
        :func:`~chainrule.training.metrics.metric_task`),
        else ``fit`` raises a ``ValueError`` before training. Metrics are logged under their
        names (``__name__`` for functions), which must differ from each other, from
        ``loss``, ``lr`` and ``seconds``, and from the history's own fields
        (``epoch``, ``interrupted``, ``stopped_early``, ``note``). A function must return one number;
        anything else is a ``TypeError`` naming the metric, raised at the end of the first
        epoch (which is then not recorded). For multilabel targets, ``"accuracy"``
        and ``"log_loss"`` are :func:`~chainrule.training.metrics.multilabel_accuracy` and
        :func:`~chainrule.training.metrics.multilabel_log_loss`. Training values are computed
        after each epoch on the outputs the network gave each batch as it was trained (one
        (n_samples, n_outputs) array per epoch); validation values on the whole validation set.
        Metrics are unweighted: ``sample_weight`` weighs the loss only.
    callbacks : sequence of Callback
    verbose : {0, 1, 2} or bool, default 1
        0 (or False) silent; 1 (or True) a progress bar on a terminal, one line per epoch
        otherwise; 2 one line per epoch. Stored as the level. The lines go to stdout; once
        one cannot be printed (a closed pipe, a closed stdout), no more are and training
        goes on.
    schedule : Schedule, name or dict, optional
        Learning-rate schedule; ``lr = schedule(t, optimizer.base_lr) · lr_factor`` with ``t``
        counting steps or epochs as the schedule's ``unit`` says: ``"step"``, the optimizer's
        steps (``optimizer.n_steps``, its whole history); ``"epoch"``, this Trainer's
        completed epochs (``epoch``).

    Attributes
    ----------
    history : History
    encoder : TargetEncoder
        The task ("multiclass", "binary", "multilabel", "regression") and the classes, learnt
        from the first ``fit`` (which forgets them if it fails before its first step).
    epoch : int
        Epochs completed (over all ``fit`` calls).
    final_epoch : int
        The epoch the current (or last) ``fit`` ends with unless something stops it: ``epoch``
        when it began plus its ``epochs`` (0 before any fit).
    epoch_in_progress : bool
        True while an epoch's batches are being trained, and after a ``fit`` that Ctrl-C (or
        an error) stopped in the middle of an epoch; False once an epoch's steps are done.
    stop_training : bool
        Set by a callback to stop after the current epoch.
    lr_factor : float in [0, 1]
        Product of the reductions applied by ``ReduceLROnPlateau``.
    continue_callbacks : bool
        The current (or last) ``fit``'s ``continue_callbacks``: callbacks read it in
        ``on_train_begin`` to tell a new run from the continuation of the previous fit's.
    resumed : bool
        Whether the current (or last) ``fit`` resumed from a checkpoint (``resume_from``):
        callbacks read it in ``on_train_begin``, when the restored history is in place
        (``ModelCheckpoint`` with ``save_best_only`` starts its best value from it).

    Examples
    --------
    >>> from chainrule import mlp
    >>> from chainrule.datasets import make_circles
    >>> X, y = make_circles(200, noise=0.05, seed=0)
    >>> net = mlp([2, 16, 1], output="sigmoid", seed=0)
    >>> trainer = Trainer(net, "binary_cross_entropy", "adam", batch_size=16, seed=0, verbose=0,
    ...                   metrics=["accuracy"])
    >>> history = trainer.fit(X, y, epochs=5)
    >>> len(history["loss"])
    5
    """

    def __init__(
        self,
        net: Sequential,
        loss: Any,
        optimizer: Any = "adam",
        *,
        batch_size: int = 32,
        shuffle: bool = True,
        seed: Any = None,
        metrics: Sequence[str | Callable[..., float]] = (),
        callbacks: Sequence[Callback] = (),
        verbose: bool | int = 1,
        schedule: Any = None,
    ) -> None:
        self.objective = Objective(net, loss)
        if net.n_parameters == 0:
            raise ValueError(
                "net has no parameters to train: its layers are "
                f"{[type(layer).__name__ for layer in net]}; add a Dense layer"
            )
        self.net = net
        self.loss = self.objective.loss
        optimizer = Optimizer.resolve(optimizer, "optimizer")
        if optimizer.bound and optimizer._params is not net.parameters:
            raise ValueError(
                f"optimizer {type(optimizer).__name__} is already bound to another network's "
                f"parameters ({optimizer._params.size} of them; another Trainer's?), and one "
                "optimizer updates one network: give each Trainer its own optimizer"
            )
        if not (optimizer.bound and optimizer._params is net.parameters
                and optimizer._grads is net.gradients):
            optimizer.bind_network(net)
        self.optimizer = optimizer
        self.schedule = None if schedule is None else Schedule.resolve(schedule, "schedule")
        self.batch_size = check_number(batch_size, "batch_size", low=1, integer=True)
        self.shuffle = check_bool(shuffle, "shuffle")
        self.rng = as_generator(seed)
        # The validation split has its own seed, drawn once: every fit (and a resumed run)
        # holds out the same samples, so validation data never leaks into training.
        self.split_seed = int(self.rng.integers(2**63))
        self.metrics = _resolve_metrics(() if metrics is None else metrics)
        if callbacks is None:
            callbacks = ()
        elif not isinstance(callbacks, (list, tuple)):
            raise TypeError(f"callbacks must be a list of Callback, got {type(callbacks).__name__}")
        self.callbacks = list(callbacks)
        for index, callback in enumerate(self.callbacks):
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks[{index}] must be a Callback, got {type(callback).__name__}"
                )
        self.verbose = check_verbose(verbose, high=2)
        self.history = History()
        self.encoder: TargetEncoder | None = None
        self.epoch = 0
        self.final_epoch = 0
        self.epoch_in_progress = False
        self.stop_training = False
        self.lr_factor = 1.0
        self.continue_callbacks = False
        self.resumed = False
        self._has_validation = False
        self._steps_before_fit = 0  # the optimizer's step count when the current fit began
        self._interrupt = DeferredInterrupt()  # Ctrl-C: stop after the current batch

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        X: Any,
        y: Any,
        epochs: int = 10,
        *,
        validation_data: tuple[Any, ...] | None = None,
        validation_split: float | None = None,
        sample_weight: Any = None,
        resume_from: str | os.PathLike[str] | None = None,
        continue_callbacks: bool = False,
    ) -> History:
        """Train for ``epochs`` epochs and return the :class:`History` (all epochs so far).

        Parameters
        ----------
        X : array of shape (n_samples, in_features)
        y : targets: class labels (n_samples,) for classification (any ints or strings),
            values (n_samples,) or (n_samples, n_outputs) for regression, 0/1 columns
            (n_samples, n_outputs) for multilabel binary cross-entropy
        epochs : int
        validation_data : (X_val, y_val) or (X_val, y_val, sample_weight_val), optional
        validation_split : float in (0, 1), optional
            Hold out this fraction of (X, y), chosen at random with the trainer's seed and
            stratified by class for classification, instead of ``validation_data``.
        sample_weight : array of shape (n_samples,), optional
            Non-negative; a minibatch whose weights are all zero is skipped (its weighted mean
            loss would be 0/0): no step is taken for it, and its samples count in neither the
            epoch's loss nor its metrics.
        resume_from : path, optional
            A checkpoint written by :class:`~chainrule.training.checkpoint.ModelCheckpoint`:
            weights, optimizer state, random generators, epoch count and history are restored
            first, and ``epochs`` more epochs are trained, exactly as if training had never
            stopped. This continues the saved run, so the trainer must have its network
            architecture, its optimizer with the same settings (every value of
            ``optimizer.get_config()``, ``lr`` included), its schedule (or none), its loss with
            the same settings (``loss.get_config()``), its ``batch_size`` and its ``shuffle``;
            a difference raises :class:`~chainrule.ModelFormatError` listing each differing
            setting. To train on with other settings, start a new fit from the checkpoint's
            weights instead: ``Trainer(checkpoint_network(path), ...).fit(X, y)`` (see
            :func:`~chainrule.training.checkpoint.checkpoint_network`).
        continue_callbacks : bool, default False
            False: the callbacks start afresh, this fit being a run of its own
            (``EarlyStopping`` and ``ReduceLROnPlateau`` forget their best value and patience
            count). True: this fit goes on with the run of the previous fit's callbacks, as
            if its epochs followed that fit's inside one fit: ``EarlyStopping`` and
            ``ReduceLROnPlateau`` keep their best value, patience count and cooldown, so that
            fits of one epoch each (scikit-learn's ``partial_fit`` gives this) act as one fit
            over those epochs. As the run may go on after such a fit, ``EarlyStopping``
            counts patience running out on its last epoch as a stop, and puts the best
            weights back only when it stops (a fit that ends without a stop keeps its last
            weights, for the next fit to continue from). Give it to every fit of such a run,
            the first included. (``ModelCheckpoint`` keeps its best value in either case.)

        Returns
        -------
        History
            Every epoch so far; its ``interrupted``, ``stopped_early`` and ``note`` tell how
            this fit ended (each fit clears them when its training starts).

        Raises
        ------
        ModelFormatError
            ``resume_from`` is not a checkpoint of this network, optimizer, schedule, loss,
            batch size and shuffling, or is damaged.
        ValueError
            Bad data; or the loss is NaN or infinite before the first step of this fit (at
            the weights it started from: the data, not the learning rate, is the cause).
        TrainingDivergedError
            The loss became NaN or infinite, or a step made the weights non-finite; the
            weights are those after the last step whose loss was finite or, if that step made
            them non-finite, those its epoch started from, with the optimizer's state (moments,
            step count, rate) of that moment too, so that a retry (with a lower rate, say)
            starts from a consistent state.
        KeyboardInterrupt
            Ctrl-C came before this fit's first optimizer step (see below). A Ctrl-C after it
            stops training after the current batch instead, and ``fit`` returns the history,
            ``interrupted`` set; a second Ctrl-C raises at once.

        A fit that raises before its first optimizer step (whatever the error, one a callback
        raises and a Ctrl-C included) leaves the trainer as it was: weights, optimizer state,
        random generators, epoch, history, and the classes (a first fit forgets those it learnt
        from ``y``), even when it had restored ``resume_from`` already.
        """
        epochs = check_number(epochs, "epochs", low=1, integer=True)
        continue_callbacks = check_bool(continue_callbacks, "continue_callbacks")
        restore = self._saved_state()  # put back if this fit fails before its first step
        self.continue_callbacks = continue_callbacks  # read by the callbacks' on_train_begin
        self.resumed = resume_from is not None  # and this (ModelCheckpoint's)
        try:
            if resume_from is not None:
                from .checkpoint import load_checkpoint

                load_checkpoint(self, resume_from)
            self._steps_before_fit = self.optimizer.n_steps
            train, validation = self._start(X, y, epochs, validation_data, validation_split,
                                            sample_weight)
        except BaseException:
            restore()
            raise
        self.history.start_fit()  # interrupted, stopped_early and note tell of this fit only
        progress = Progress(self.verbose, self.final_epoch)
        self.stop_training = False
        logs: dict[str, float] = {}  # the last completed epoch's
        try:
            # Overflow shows up as a non-finite loss, which stops training with a clear error.
            with self._interrupt, np.errstate(all="ignore"):
                for _ in range(epochs):
                    logs = self._run_epoch(train, validation, progress) or logs
                    if self._interrupt.requested or self.stop_training:
                        break
            if self._interrupt.requested and self.optimizer.n_steps == self._steps_before_fit:
                # No trained batch to keep: stop as an undeferred Ctrl-C would, changing nothing
                # (a first fit would otherwise keep the classes of targets it never trained on).
                raise KeyboardInterrupt("Ctrl-C before the first step of this fit: nothing was "
                                        "trained, the trainer is as it was")
        except BaseException:
            self._release()
            if self.optimizer.n_steps == self._steps_before_fit:
                restore()
            raise
        finally:
            progress.close()
        if self._interrupt.requested:
            self.history.interrupted = True
            when = (f"during epoch {self.epoch + 1}" if self.epoch_in_progress
                    else f"after epoch {self.epoch}")
            self.history.note = (
                f"interrupted by the user {when}; the history holds the {len(self.history)} "
                "completed epochs"
            )
        for callback in _in_order(self.callbacks, savers="first"):  # a checkpoint of the moment,
            callback.on_train_end(self, logs)  # then e.g. EarlyStopping restoring the best weights
        self._release()
        if self.history.note:
            progress.message(self.history.note)
        return self.history

    def _start(
        self, X: Any, y: Any, epochs: int, validation_data: tuple[Any, ...] | None,
        validation_split: float | None, sample_weight: Any,
    ) -> tuple[tuple, tuple | None]:
        """Everything checked before the first step of a fit: the classes learnt on a first
        fit, the data, the metrics' sizes, the callbacks' ``on_train_begin``; returns the
        (train, validation) triples ``(X, y, sample_weight)``, targets encoded."""
        X = self.net.check_input(X, "X")
        if self.encoder is None:  # the classes come from the first fit (fit forgets them if it fails)
            self.encoder = TargetEncoder(self.loss, self.net.out_features or 1).fit(y)
        y_encoded = self.encoder.transform(y, self.net.dtype)
        check_n_samples(X.shape[0], y_encoded.shape[0], "X", "y")
        weights = self._weights(sample_weight, X.shape[0])
        train, validation = self._split(X, y, y_encoded, weights, validation_data,
                                        validation_split)
        # The loss's own checks of the targets, once for all batches (they then skip them),
        # and of the validation targets, so that a bad one is refused before any step.
        train = (train[0], self._prepared_targets(train[1], "y"), train[2])
        if validation is not None:
            self._prepared_targets(validation[1], "y" if validation_data is None else "y_val")
        self._check_metric_tasks()
        self._check_metric_sizes(train, validation)
        self._has_validation = validation is not None
        self.final_epoch = self.epoch + epochs
        for callback in self.callbacks:  # they may refuse the fit too (what they monitor)
            callback.on_train_begin(self)
        return train, validation

    def _saved_state(self) -> Callable[[], None]:
        """A function that puts the trainer back as it is now: its weights, optimizer state,
        random generators, classes, epoch counts, settings a checkpoint restores and how the
        history's last fit ended. ``fit`` calls it when it fails before its first step, so that
        such a fit (a bad ``X``, a checkpoint it resumed from included) changes nothing. The
        history's records need no copy: every epoch takes a step (weights are never all zero)."""
        history = self.history
        restore_steps = self._steps_snapshot()
        generators = [(generator, generator.state) for generator in self._bit_generators()]
        ended = (history.interrupted, history.stopped_early, history.note)
        fields = {name: getattr(self, name) for name in _FIT_STATE}

        def restore() -> None:
            restore_steps()
            for generator, state in generators:
                generator.state = state
            history.interrupted, history.stopped_early, history.note = ended
            self.history = history
            self.__dict__.update(fields)

        return restore

    def _steps_snapshot(self) -> Callable[[], None]:
        """A function that puts back what optimizer steps change, as it is now: the weights
        ((n_parameters,) copied) and the optimizer's arrays, step count and rate. The arrays
        are copied directly, not through ``load_state_dict``, which refuses the NaN moments
        an overflowing step can leave."""
        net, optimizer = self.net, self.optimizer
        parameters = net.parameters.copy()
        arrays = {name: array.copy() for name, array in optimizer._state.items()}
        steps, lr = optimizer.n_steps, optimizer.lr

        def restore() -> None:
            net.parameters[...] = parameters
            for name, array in arrays.items():
                np.copyto(optimizer._state[name], array)
            optimizer.n_steps, optimizer.lr = steps, lr

        return restore

    def _bit_generators(self) -> list[np.random.BitGenerator]:
        """The bit generators of the shuffling and of every layer's own draws (dropout masks)."""
        return [self.rng.bit_generator] + [
            layer.rng.bit_generator for layer in self.net.layers
            if getattr(layer, "rng", None) is not None
        ]

    def _run_epoch(
        self, train: tuple, validation: tuple | None, progress: Progress
    ) -> dict[str, float] | None:
        """One epoch: its logs, or None when Ctrl-C stopped it before its last batch (the
        batches after the one it came in are not trained)."""
        epoch = self.epoch + 1
        for callback in self.callbacks:
            callback.on_epoch_begin(self, epoch)
        started = time.perf_counter()
        if self.schedule is not None and self.schedule.unit == "epoch":
            self._set_lr(self.epoch)
        X, y, w = train
        n_batches = -(-X.shape[0] // self.batch_size)
        progress.start(epoch, n_batches)
        # The weights and optimizer state to go back to if a step makes the weights non-finite
        # (None: this fit began from non-finite weights; a step that overflows them is caught
        # in its own epoch).
        start = self._steps_snapshot() if all_finite(self.net.parameters) else None
        if self.metrics:  # the outputs of every batch as trained (the loss's input: logits when
            # fused), and their targets, in that order; made probabilities once, after the epoch
            outputs = np.empty((X.shape[0], self.net.out_features), self.net.dtype)
            targets = np.empty_like(y)
        epoch_loss = EpochLoss(self.objective.head_loss.reduction)
        seen = last_step = 0
        self.epoch_in_progress = True
        with self.net.reusing_buffers():
            stream = batches(X, y, self.batch_size, self.shuffle, self.rng,
                             sample_weight=w, reuse_buffers=True)
            for batch, arrays in enumerate(stream, start=1):
                if self._interrupt.requested:  # Ctrl-C during an earlier batch (a skipped one too);
                    return None  # one during the last batch lets the finished epoch count
                Xb, yb = arrays[0], arrays[1]
                wb = arrays[2] if w is not None else None
                n = Xb.shape[0]
                share = n if wb is None else float(wb.sum())  # its weight in the epoch's loss
                if not share:  # all its weights are 0: no loss (0/0), no step
                    progress.advance(epoch_loss.value)
                    continue
                if self.schedule is not None and self.schedule.unit == "step":
                    self._set_lr(self.optimizer.n_steps)
                value = self.objective.value_and_gradients(Xb, yb, wb, prepared=True)
                if not math.isfinite(value):
                    if self.optimizer.n_steps == self._steps_before_fit:  # not a divergence
                        raise self._loss_not_finite_at_start(value)
                    raise self._diverged(epoch, batch, n_batches, value,
                                         f"the loss became {value}", start)
                self.optimizer._step()  # bound in __init__; fit ignores FP warnings
                last_step = batch
                if self.metrics:
                    outputs[seen : seen + n] = self.objective.last_output
                    targets[seen : seen + n] = yb
                seen += n
                epoch_loss.add(value, self.objective.last_penalty, share)
                progress.advance(epoch_loss.value)
                for callback in self.callbacks:
                    callback.on_batch_end(self, epoch, batch, {"loss": value})
        if not all_finite(self.net.parameters):  # the epoch's last step overflowed them
            raise self._diverged(epoch, last_step, n_batches, math.nan,
                                 "the weights became non-finite in the step", start)
        self.epoch_in_progress = False
        logs = {"loss": epoch_loss.value}
        if self.metrics:  # softmax and sigmoid act row by row: the same values as batch by batch
            logs.update(self._metric_values(targets[:seen], self._probabilities(outputs[:seen])))
        if validation is not None:
            logs.update({f"val_{k}": v for k, v in self._evaluate(*validation).items()})
        logs["lr"] = self.optimizer.lr
        logs["seconds"] = time.perf_counter() - started
        self.epoch = epoch
        self.history.record(epoch, logs)
        progress.finish(epoch, logs)  # the epoch's line first, then what callbacks print about it
        # They see the epoch counted and recorded; a checkpoint comes last, with their changes.
        for callback in _in_order(self.callbacks, savers="last"):
            callback.on_epoch_end(self, epoch, logs)
        return logs

    def __setstate__(self, state: dict[str, Any]) -> None:
        """After unpickling: if the network had to copy read-only buffers (a memory-mapped
        pickle), bind the optimizer to the copies, keeping its state."""
        self.__dict__.update(state)
        if self.optimizer.bound and self.optimizer._params is not self.net.parameters:
            saved = self.optimizer.state_dict()
            self.optimizer.bind_network(self.net)
            self.optimizer.load_state_dict(saved)

    def _weights(self, value: Any, n_samples: int, name: str = "sample_weight",
                 samples_of: str = "X") -> np.ndarray | None:
        return self.objective.head_loss.prepare_weights(
            value, n_samples, self.net.dtype, name=name, samples_of=samples_of)

    def _prepared_targets(self, y: np.ndarray, name: str) -> Any:
        """The loss's :meth:`~chainrule.objective.Objective.prepare_targets` of encoded targets;
        its error names the argument they came from (``y`` or ``y_val``)."""
        try:
            return self.objective.prepare_targets(y)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{name}: {exc}") from None

    def _release(self) -> None:
        """Forget the last batch's arrays (layer caches, loss intermediates): a trained model
        should not carry them in memory or into a pickle."""
        for layer in self.net.layers:
            layer.cache = {}
        self.objective.last_output = None
        self.objective.head_loss.release()

    def _set_lr(self, t: int) -> None:
        self.optimizer.lr = self.schedule(t, self.optimizer.base_lr) * self.lr_factor

    def _loss_not_finite_at_start(self, value: float) -> ValueError:
        """Why the loss is ``value`` (inf or NaN) before any update of this fit: outputs the loss
        cannot take (a sigmoid or softmax output left out before a cross-entropy), else data
        too large for the dtype's arithmetic."""
        try:  # the check the loss skips on the training loop's fast path
            self.objective.head_loss._check_predictions(self.objective.last_output)
        except ValueError as refusal:
            return ValueError(f"the loss is {value} at the weights this fit started from: {refusal}")
        return ValueError(
            f"the loss is {value} at the weights this fit started from, before any update: the "
            f"targets y or the inputs X are too large for {self.net.dtype.name} arithmetic "
            "(scale them, e.g. standardise y for regression)"
        )

    def _diverged(
        self, epoch: int, batch: int, n_batches: int, loss: float, cause: str,
        start: Callable[[], None] | None,
    ) -> TrainingDivergedError:
        """The error for ``cause`` at (``epoch``, ``batch``), with the batch's ``loss`` (nan
        when the weights overflowed); non-finite weights go back with ``start``, which puts
        the epoch's starting weights and optimizer state back, when there is one."""
        if all_finite(self.net.parameters):
            restored = "the weights are those after the last step whose loss was finite"
        elif start is not None:  # that step overflowed them: back to the epoch's start
            start()
            restored = (f"the weights (and the optimizer's state) were restored to their values "
                        f"at the start of epoch {epoch}")
        else:
            restored = "the weights are not finite, nor were they when this fit began"
        return TrainingDivergedError(
            f"training diverged: {cause} at epoch {epoch}, batch {batch} of {n_batches}; "
            f"{restored}. Try a lower learning rate (now {self.optimizer.lr:g}), "
            "gradient clipping (clip_norm=...), or standardised inputs",
            epoch=epoch,
            batch=batch,
            loss=float(loss),
        )

    def _split(
        self,
        X: np.ndarray,
        y: Any,
        y_encoded: np.ndarray,
        weights: np.ndarray | None,
        validation_data: tuple[Any, ...] | None,
        validation_split: float | None,
    ) -> tuple[tuple, tuple | None]:
        if validation_data is not None and validation_split is not None:
            raise ValueError("give validation_data or validation_split, not both")
        if validation_data is not None:
            return (X, y_encoded, weights), self._prepare_validation(validation_data)
        if validation_split is None:
            return (X, y_encoded, weights), None
        fraction = check_number(validation_split, "validation_split", low=0, high=1,
                                low_open=True, high_open=True)
        # (its errors name validation_split and the values of it that work)
        train_index, val_index = split_indices(
            X.shape[0], fraction, name="validation_split", part="validation",
            stratify=self.encoder.strata(y), seed=self.split_seed,
        )
        if weights is not None:
            for rows, part in ((train_index, "training"), (val_index, "validation")):
                if not weights[rows].any():
                    raise ValueError(
                        f"sample_weight is zero on every sample of the {part} part of "
                        f"validation_split={fraction:g}: that part would weigh nothing"
                    )
        def take(array: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
            return None if array is None else array[rows]
        train = (X[train_index], y_encoded[train_index], take(weights, train_index))
        validation = (X[val_index], y_encoded[val_index], take(weights, val_index))
        return train, validation

    def _prepare_validation(self, data: tuple[Any, ...]) -> tuple:
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            if isinstance(data, (tuple, list)):
                count = len(data)
                got = f"a {type(data).__name__} of {count} item{'s' if count != 1 else ''}"
            elif isinstance(data, np.ndarray):
                got = f"ndarray of shape {data.shape}"
            else:
                got = type(data).__name__
            raise TypeError("validation_data must be a tuple (X_val, y_val) or (X_val, y_val, "
                            f"sample_weight), got {got}")
        X_val = self.net.check_input(data[0], "X_val")
        y_val = self.encoder.transform(data[1], self.net.dtype, "y_val")
        check_n_samples(X_val.shape[0], y_val.shape[0], "X_val", "y_val")
        w_val = self._weights(data[2] if len(data) == 3 else None, X_val.shape[0],
                              "validation sample_weight", samples_of="X_val")
        return X_val, y_val, w_val

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, X: Any, y: Any, sample_weight: Any = None) -> dict[str, float]:
        """The loss (penalties included) and every metric on ``(X, y)``, in evaluation mode;
        ``sample_weight`` (n_samples,) weighs the loss only, as in ``fit``."""
        self._require_fitted("evaluate")
        X = self.net.check_input(X, "X")
        y_encoded = self.encoder.transform(y, self.net.dtype)
        check_n_samples(X.shape[0], y_encoded.shape[0], "X", "y")
        weights = self._weights(sample_weight, X.shape[0])
        return self._evaluate(X, y_encoded, weights)

    def _evaluate(self, X: np.ndarray, y: np.ndarray, w: np.ndarray | None) -> dict[str, float]:
        """The loss and the metrics on encoded targets ``y``, computed chunk by chunk of
        :data:`~chainrule.layers.inference.EVAL_CHUNK` rows (the validation pass of ``fit``
        too): the loss keeps the per-sample values (n_samples, values per sample) and reduces
        them once, and the metrics of :data:`~chainrule.training.metrics.ROW_TERMS` their
        per-sample terms, so both give the numbers of one pass over the whole arrays, bit for
        bit. Only other metrics (a function of one's own, the regression ones) need the whole
        probabilities array."""
        loss, n = self.objective.head_loss, X.shape[0]
        T = self.objective.prepare_targets(y)  # what Loss.forward checks, once
        w = loss.prepare_weights(w, n, self.net.dtype)
        metrics = {name: for_task(metric, self.encoder.task)
                   for name, metric in self.metrics.items()}
        terms = {name: [] for name, metric in metrics.items() if metric in ROW_TERMS}
        whole = (np.empty((n, self.net.out_features), self.net.dtype)
                 if len(terms) < len(metrics) else None)  # for metrics of the whole array
        values = None
        for rows, scores in self._chunks(X):
            try:
                loss._check_predictions(scores)
            except ValueError:  # the message names the range of all outputs, as before
                loss._check_predictions(self._outputs(X))
                raise
            with np.errstate(all="ignore"):  # non-finite predictions give a non-finite loss
                part = loss._values(scores, T[rows]).reshape(scores.shape[0], -1)
            if values is None:
                values = np.empty((n, part.shape[1]), part.dtype)
            values[rows] = part
            probabilities = self._probabilities(scores)
            for name, parts in terms.items():
                parts.append(ROW_TERMS[metrics[name]][0](y[rows], probabilities))
            if whole is not None:
                whole[rows] = probabilities
        results = {"loss": loss.reduce(values, (n, self.net.out_features), w) + self.net.penalty()}
        loss.release()  # the last chunk's intermediates: nothing backward could use
        for name, metric in metrics.items():
            if name in terms:
                value = ROW_TERMS[metric][1](np.concatenate(terms[name]))
            else:
                value = metric(y, whole)
            results[name] = _metric_number(name, value)
        return results

    def _metric_values(self, y: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
        """Every metric, in the version for the learnt task (see ``for_task``), on encoded
        targets ``y`` and ``probabilities`` (n_samples, n_outputs)."""
        return {
            name: _metric_number(name, for_task(metric, self.encoder.task)(y, probabilities))
            for name, metric in self.metrics.items()
        }

    def _check_metric_tasks(self) -> None:
        """Before any training: every registered metric is one of the learnt task's (see
        :func:`metric_task`); a function of one's own cannot be checked and is not."""
        task = "classification" if self.encoder.is_classifier else "regression"
        for name, metric in self.metrics.items():
            kind = metric_task(metric)
            if kind is not None and kind != task:
                described = f"{self.encoder.task} {task}" if self.encoder.is_classifier else task
                fitting = [repr(known) for known in METRICS.names()
                           if metric_task(METRICS.get(known)) == task]
                raise ValueError(
                    f"metrics: {name!r} is a {kind} metric, but this trainer does {described} "
                    f"(loss {type(self.loss).__name__}); use {', '.join(fitting[:-1])} or "
                    f"{fitting[-1]}, or a function f(y_true, y_pred) of your own"
                )

    def _check_metric_sizes(self, train: tuple, validation: tuple | None) -> None:
        """Before any training: R² needs two samples in each set it is computed on. In the
        training set only samples of positive weight surely count: a batch whose weights are
        all zero is skipped, and with a batch size of 1 so is every zero-weight sample."""
        if r2_score not in self.metrics.values():
            return
        X, _, w = train
        counts = {"training": X.shape[0] if w is None else int(np.count_nonzero(w))}
        if validation is not None:
            counts["validation"] = validation[0].shape[0]
        for part, count in counts.items():
            if count < 2:
                weighted = " of positive weight" if part == "training" and w is not None else ""
                raise ValueError(
                    f"metric 'r2' needs at least 2 samples, but the {part} set has "
                    f"{count}{weighted}; use more data or another metric"
                )

    def predict(self, X: Any) -> np.ndarray:
        """Class labels for classifiers (0/1 columns for multilabel), values for regression;
        computed :data:`~chainrule.layers.inference.EVAL_CHUNK` rows at a time."""
        self._require_fitted("predict")
        X = self.net.check_input(X)
        parts = [self.encoder.decode(self._probabilities(scores))
                 for _, scores in self._chunks(X)]
        return np.concatenate(parts)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n_samples, n_outputs): softmax rows, or sigmoid columns."""
        self._require_fitted("predict_proba")
        if not self.encoder.is_classifier:
            raise TypeError("predict_proba is for classifiers; this trainer does regression")
        return self._probabilities(self._outputs(self.net.check_input(X)))

    def _outputs(self, X: np.ndarray) -> np.ndarray:
        """The head's input (logits when fused, else the network output) for all of ``X``."""
        return forward_in_chunks(self.net, X, self.objective.head_stop)

    def _chunks(self, X: np.ndarray) -> Iterator[tuple[slice, np.ndarray]]:
        """The head's input chunk by chunk: :func:`forward_chunks`."""
        return forward_chunks(self.net, X, self.objective.head_stop)

    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        """Network outputs as the loss sees them → probabilities (or values, for regression).

        Computed in place: ``scores`` is an array of the caller's own (made for this call, or
        an epoch's outputs), and it is what comes back. (The fused output layer's ``forward``
        would give the same values, but inside ``fit`` it writes them into a buffer it reuses,
        which a callback's next ``predict_proba`` would overwrite.)
        """
        if self.objective.head_loss.from_logits:  # fused with the output layer, or logits
            if isinstance(self.loss, CrossEntropy):  # the softmax of the fused pair
                return softmax(scores, scores)
            return sigmoid(scores, scores)
        return scores

    def restore_encoder(self, state: dict[str, Any] | None, origin: str = "") -> None:
        """Set the task and classes (from a checkpoint) instead of learning them in ``fit``:
        ``state`` holds ``task``, ``y_ndim`` and ``classes``, as
        :func:`~chainrule.model_targets.check_encoder_record` validates them; ``origin``
        names where they come from in errors (see :class:`TargetEncoder`). A ``ValueError``
        for a task this trainer's loss does not train."""
        if state is None:
            self.encoder = None
            return
        self.encoder = TargetEncoder.restored(self.loss, self.net.out_features or 1,
                                              state["task"], state["y_ndim"], state["classes"],
                                              origin)

    def _require_fitted(self, what: str) -> None:
        """A :class:`NotBuiltError` before the first fit: the targets' form (a classifier's
        classes, a regression's y shape) is learnt from ``fit``'s y."""
        if self.encoder is None:
            why = ("the predictions take the shape of fit's y (1-D or 2-D)"
                   if "regression" in loss_tasks(self.loss) else "the classes are learnt from y")
            raise NotBuiltError(f"call fit() before {what}(): {why}")

    def __repr__(self) -> str:
        # One line: the constructor's arguments (the network in brief, metrics by their logged
        # names; the seed has become a generator, left out).
        settings = {"net": Verbatim(self.net.brief()), "loss": self.loss,
                    "optimizer": self.optimizer, "batch_size": self.batch_size, "shuffle": self.shuffle,
                    "metrics": list(self.metrics), "callbacks": self.callbacks,
                    "verbose": self.verbose, "schedule": self.schedule}
        return constructor_repr(self, settings)

    def logged_keys(self) -> list[str]:
        """The quantities ``fit`` records each epoch (what callbacks may monitor)."""
        return logged_keys(self.metrics, self._has_validation)


def logged_keys(metrics: Iterable[str], validation: bool) -> list[str]:
    """The quantities ``fit`` records each epoch, in order, for metrics named ``metrics``
    and with (or without) validation data."""
    metrics = list(metrics)
    keys = ["loss", *metrics, "lr", "seconds"]
    if validation:
        keys += ["val_loss", *(f"val_{name}" for name in metrics)]
    return keys


#: The Trainer's attributes that a fit or the checkpoint it resumes from change (besides the
#: weights, optimizer, generators and history): what a fit failing before any step puts back.
_FIT_STATE = ("encoder", "epoch", "final_epoch", "epoch_in_progress", "stop_training",
              "lr_factor", "split_seed", "_has_validation", "continue_callbacks", "resumed")

#: Keys ``fit`` logs itself, which no metric may be named.
_RESERVED_KEYS = ("loss", "lr", "seconds", *HISTORY_FIELDS)


def _resolve_metrics(metrics: Iterable[Any]) -> dict[str, Callable[..., float]]:
    """``{logged name: function}``; names from the registry or the functions' ``__name__``."""
    if isinstance(metrics, str):
        metrics = [metrics]
    if not isinstance(metrics, (list, tuple)):
        raise TypeError(f"metrics must be a list of metric names or functions, got {metrics!r}")
    resolved = {}
    for metric in metrics:
        if isinstance(metric, str):
            name, function = metric, METRICS.get(metric)
        elif callable(metric):
            name, function = getattr(metric, "__name__", "metric"), metric
        else:
            raise TypeError(f"metrics must be names or functions, got {metric!r}")
        if name in resolved or name in _RESERVED_KEYS or name.startswith("val_"):
            clash = ("another metric" if name in resolved else
                     "a quantity fit logs or a field of the history" if name in _RESERVED_KEYS else
                     "a validation quantity (val_ prefix)")
            raise ValueError(
                f"metrics: the name {name!r} is taken by {clash}; every metric is logged under "
                "its name (a function's __name__), so give it a distinct one (def f1(...) "
                "rather than a lambda)"
            )
        resolved[name] = function
    return resolved


def _metric_number(name: str, value: Any) -> float:
    """A metric's result as a float, or a ``TypeError`` naming the metric."""
    if not isinstance(value, (str, bytes)) and np.ndim(value) == 0:
        with contextlib.suppress(TypeError, ValueError):  # None, complex, an object
            return float(value)
    shape = f" of shape {value.shape}" if isinstance(value, np.ndarray) else ""
    raise TypeError(
        f"metric {name!r} must return one number, got {type(value).__name__}{shape}: "
        f"{reprlib.repr(value)}"
    )


def _in_order(callbacks: Sequence[Callback], savers: str) -> list[Callback]:
    """``callbacks`` in their order, with those that save the training state
    (:attr:`Callback.saves_state`) moved to the ``"first"`` or ``"last"`` places."""
    saving = [callback for callback in callbacks if callback.saves_state]
    others = [callback for callback in callbacks if not callback.saves_state]
    return saving + others if savers == "first" else others + saving
