"""Training checkpoints: everything needed to resume ``Trainer.fit`` exactly where it stopped.

A checkpoint is one safetensors file (written atomically with :func:`chainrule.io.write_tensors`):

- tensors ``model.<name>`` — the network's parameters by :meth:`Sequential.named_parameters`
  name (``model.0.W``, ...), and ``optimizer.<name>`` — the optimizer's state arrays
  (``optimizer.scaled_exp_avg``, ...), each of shape (n_parameters,);
- metadata ``config`` — the network's architecture (JSON, as in a model file), and
  ``trainer`` — JSON with the epoch, the optimizer's config, step count and learning rate, the
  schedule's config, ``lr_factor``, the state of every random generator (the trainer's shuffling,
  each dropout layer's masks), the validation-split seed, the classes and the history.

Resuming restores all of it, so training 10 epochs equals training 5, checkpointing, and
resuming for 5 more — bit for bit. Two exceptions:

- a checkpoint written when training was interrupted in the middle of an epoch holds the
  weights of that moment; resuming then repeats the interrupted epoch from them;
- callbacks are not in the checkpoint, and every ``fit`` (resumed or not) starts them afresh:
  ``EarlyStopping`` and ``ReduceLROnPlateau`` count their patience, and keep their best value,
  from the first epoch of the new ``fit``. (The learning-rate reductions already made are kept,
  in ``lr_factor``.)
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ModelFormatError
from ..io import network_from, read_tensors, write_tensors
from ..layers.sequential import Sequential
from .callbacks import Callback, _Monitor
from .history import History

if TYPE_CHECKING:  # pragma: no cover
    from .trainer import Trainer

_MODEL, _OPTIMIZER = "model.", "optimizer."
KIND = "training-checkpoint"


def save_checkpoint(trainer: Trainer, path: str | os.PathLike[str], *, partial_epoch: bool = False) -> None:
    """Write ``trainer``'s complete state to ``path`` (atomically)."""
    net, optimizer = trainer.net, trainer.optimizer
    tensors = {_MODEL + name: param for name, param, _ in net.named_parameters()}
    state = optimizer.state_dict()
    tensors.update({_OPTIMIZER + k: v for k, v in state.items() if isinstance(v, np.ndarray)})
    encoder = trainer.encoder
    record = {
        "epoch": trainer.epoch,
        "partial_epoch": partial_epoch,
        "lr_factor": trainer.lr_factor,
        "optimizer": {"config": optimizer.get_config(), "step": state["step"], "lr": state["lr"]},
        "schedule": None if trainer.schedule is None else trainer.schedule.get_config(),
        "rng": trainer.rng.bit_generator.state,
        "split_seed": trainer.split_seed,
        "dropout_rngs": {
            str(i): layer.rng.bit_generator.state
            for i, layer in enumerate(net.layers)
            if getattr(layer, "rng", None) is not None
        },
        "encoder": None if encoder is None else {
            "task": encoder.task,
            "y_ndim": encoder.y_ndim,
            "classes": None if encoder.classes is None else encoder.classes.tolist(),
        },
        "history": trainer.history.as_dict(),
    }
    metadata = {
        "kind": KIND,
        "config": json.dumps(net.get_config(), allow_nan=False),
        "trainer": json.dumps(record),
    }
    write_tensors(path, tensors, metadata)


def load_checkpoint(trainer: Trainer, path: str | os.PathLike[str]) -> None:
    """Restore a checkpoint written by :func:`save_checkpoint` into ``trainer``.

    ``trainer`` must have been built with the same architecture and the same optimizer type;
    anything else raises :class:`~chainrule.ModelFormatError` naming the file.
    """
    source = os.fsdecode(os.fspath(path))
    tensors, metadata, record = _read(path)
    net, optimizer = trainer.net, trainer.optimizer
    if json.loads(metadata["config"]) != json.loads(json.dumps(net.get_config())):
        raise ModelFormatError(
            f"{source}: the checkpoint was written for a different network architecture"
        )
    saved_optimizer = record["optimizer"]["config"]
    if saved_optimizer.get("name") != optimizer.get_config().get("name"):
        raise ModelFormatError(
            f"{source}: the checkpoint holds {saved_optimizer.get('name')!r} optimizer state, "
            f"but the trainer uses {optimizer.get_config().get('name')!r}"
        )
    previous_encoder = trainer.encoder
    try:  # everything is read and validated before anything changes
        parameters = [(param, _tensor(tensors, _MODEL + name, param, source))
                      for name, param, _ in net.named_parameters()]
        epoch, lr_factor = int(record["epoch"]), float(record["lr_factor"])
        split_seed, history = int(record["split_seed"]), History.from_dict(record["history"])
        generators = [(trainer.rng.bit_generator, record["rng"])] + [
            (net.layers[int(index)].rng.bit_generator, state)
            for index, state in record["dropout_rngs"].items()
        ]
        for bit_generator, state in generators:  # a state a fresh generator of the kind accepts
            type(bit_generator)().state = state
        trainer.restore_encoder(record["encoder"])
        optimizer_state = {
            key[len(_OPTIMIZER):]: value for key, value in tensors.items() if key.startswith(_OPTIMIZER)
        }
        optimizer.load_state_dict(  # validates everything before it changes anything
            {"step": record["optimizer"]["step"], "lr": record["optimizer"]["lr"], **optimizer_state}
        )
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        trainer.encoder = previous_encoder
        if isinstance(exc, ModelFormatError):
            raise
        raise ModelFormatError(f"{source}: the checkpoint's training state is invalid: {exc}") from None
    for param, value in parameters:
        param[...] = value
    for bit_generator, state in generators:
        bit_generator.state = state
    trainer.epoch, trainer.lr_factor, trainer.split_seed, trainer.history = (
        epoch, lr_factor, split_seed, history)


def checkpoint_network(path: str | os.PathLike[str]) -> Sequential:
    """The network stored in a checkpoint, as :func:`chainrule.load` returns a model file's."""
    tensors, metadata, _ = _read(path)
    model = {k[len(_MODEL):]: v for k, v in tensors.items() if k.startswith(_MODEL)}
    return network_from(metadata["config"], model, source=os.fsdecode(os.fspath(path)))


def _read(path: str | os.PathLike[str]) -> tuple[dict[str, np.ndarray], dict[str, str], dict[str, Any]]:
    source = os.fsdecode(os.fspath(path))
    tensors, metadata = read_tensors(path)
    if metadata.get("kind") != KIND or "config" not in metadata or "trainer" not in metadata:
        raise ModelFormatError(f"{source}: not a chainrule training checkpoint")
    try:
        record = json.loads(metadata["trainer"])
    except json.JSONDecodeError as exc:
        raise ModelFormatError(f"{source}: the training state is not valid JSON: {exc}") from None
    if not isinstance(record, dict):
        raise ModelFormatError(f"{source}: the training state must be a JSON object")
    return tensors, metadata, record


def _tensor(tensors: dict[str, np.ndarray], name: str, like: np.ndarray, source: str) -> np.ndarray:
    value = tensors.get(name)
    if value is None or value.shape != like.shape or value.dtype != like.dtype:
        got = "missing" if value is None else f"{value.dtype} {value.shape}"
        raise ModelFormatError(f"{source}: tensor {name!r} should be {like.dtype} {like.shape}, got {got}")
    return value


class ModelCheckpoint(Callback):
    """Write a training checkpoint after epochs (and when training is interrupted).

    Parameters
    ----------
    path : str or path-like
        The checkpoint file, replaced atomically each time.
    monitor : str, default "val_loss"
        With ``save_best_only``, the logged quantity that decides what "best" is.
    save_best_only : bool, default False
        Write only when ``monitor`` improves; otherwise after every epoch.
    mode : {"auto", "min", "max"}
        As in :class:`~chainrule.training.EarlyStopping`.

    Resume with ``Trainer.fit(..., resume_from=path)``.
    """

    def __init__(self, path: str | os.PathLike[str], monitor: str = "val_loss", *,
                 save_best_only: bool = False, mode: str = "auto") -> None:
        self.path = os.fspath(path)
        self.save_best_only = bool(save_best_only)
        self._tracker = _Monitor(monitor, mode, 0.0)
        self.saved_epochs: list[int] = []

    def on_train_begin(self, trainer: Trainer) -> None:
        if self.save_best_only:
            self._tracker.check_available(trainer, "ModelCheckpoint")
        self._tracker.reset()

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.save_best_only and not self._tracker.improved(epoch, logs):
            return
        save_checkpoint(trainer, self.path)
        self.saved_epochs.append(epoch)

    def on_train_end(self, trainer: Trainer, logs: dict[str, float]) -> None:
        if trainer.history.interrupted:
            save_checkpoint(trainer, self.path, partial_epoch=True)
            trainer.history.note += f"; checkpoint saved to {self.path}"
