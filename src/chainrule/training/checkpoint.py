"""Training checkpoints: everything needed to resume ``Trainer.fit`` exactly where it stopped.

A checkpoint is one safetensors file (written atomically with :func:`chainrule.io.write_tensors`):

- tensors ``model.<name>`` — the network's parameters by :meth:`Sequential.named_parameters`
  name (``model.0.W``, ...), and ``optimizer.<name>`` — the optimizer's state arrays
  (``optimizer.scaled_exp_avg``, ...), each of shape (n_parameters,), and ``history.<key>`` —
  the history's numbers, float64 of shape (n_epochs,): ``history.epoch`` (the epoch numbers)
  and one per logged key (``history.loss``, ...; NaN where the history has none);
- metadata ``config`` — the network's architecture (JSON, as in a model file), and
  ``trainer`` — JSON with the epoch, whether the file was written in the middle of the next
  one (``partial_epoch``, at Ctrl-C), the optimizer's config, step count and learning rate, the
  schedule's config, the loss's config (``loss``; ``{"class": "<module>.<qualname>"}`` for a
  loss class with no registered name), ``batch_size``, ``shuffle``, ``lr_factor``, the state of
  every random generator (the trainer's shuffling, each dropout layer's masks), the
  validation-split seed, the classes and the history's ``keys`` (in order), ``interrupted``,
  ``stopped_early`` and ``note``.

The history's numbers are tensors because a run rewrites the checkpoint every epoch: as JSON
they made each save cost O(epochs) in encoding and filled the 16 MiB header a reader accepts
after about 120,000 epochs. A checkpoint written before (its ``history`` entry the JSON of
:meth:`History.as_dict`, no ``history.*`` tensors) is still read.

The generators' states are stored exactly whatever their bit generator (PCG64, PCG64DXSM,
MT19937, Philox, SFC64): the arrays some of them hold are written as ``{"dtype": "uint32",
"ndarray": [...]}``. The classes are stored with their dtype (``classes`` and
``classes_dtype``, as in a model file's ``targets``; see
:func:`chainrule.model_targets.encode_classes`), so a resumed Trainer predicts the same labels
in the same dtype.

Resuming restores all of it, so training 10 epochs equals training 5, checkpointing, and
resuming for 5 more — bit for bit (on one machine, NumPy/BLAS build and number of BLAS
threads: a resume with another thread count rounds differently from there on). It continues the saved run, and only that run: the Trainer
must have the same network architecture, the same optimizer with the same settings (every
value of ``optimizer.get_config()``, the learning rate included), the same schedule (or
none), the same loss with the same settings (every value of ``loss.get_config()``, e.g.
``label_smoothing``), the same ``batch_size`` and the same ``shuffle``; any difference is
refused with a :class:`~chainrule.ModelFormatError` that lists it. (A checkpoint written before
the loss, ``batch_size`` and ``shuffle`` were recorded resumes without those being compared.)
To train on with other settings (e.g. a lower learning rate), start a new ``fit`` from the
checkpoint's weights: ``net = checkpoint_network(path)``, then ``Trainer(net, ...)``. Two
exceptions to "bit for bit":

- a checkpoint written when training was interrupted in the middle of an epoch holds the
  weights of that moment; resuming then repeats the interrupted epoch from them;
- callbacks are not in the checkpoint, and every ``fit`` (resumed or not) starts them afresh:
  ``EarlyStopping`` and ``ReduceLROnPlateau`` count their patience, and keep their best value,
  from the first epoch of the new ``fit``, unless it is given ``continue_callbacks=True``.
  (The learning-rate reductions already made are kept, in ``lr_factor``.) A
  :class:`ModelCheckpoint` with ``save_best_only`` is the exception: in a resumed ``fit`` it
  starts from the best value of its ``monitor`` in the restored history (a new one, in the
  process that resumes, included), so it writes only an epoch better than every epoch of the
  run so far, as it would had training never stopped: a file holding the run's best epoch is
  not replaced by a worse one.

How the saved fit ended (``History.interrupted``, ``stopped_early``, ``note``) is restored
with the history and then cleared, as at the start of every ``fit``.
"""

from __future__ import annotations

import itertools
import json
import os
import weakref
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .._atomic import check_writable
from .._safetensors import loads_json
from .._validation import check_bool, check_number, check_path
from ..errors import ModelFormatError
from ..io import (
    CHECKPOINT_KIND,
    check_network_tensors,
    network_config_text,
    network_from,
    read_tensors,
    refuse_non_finite,
    write_tensors,
)
from ..layers.sequential import Sequential
from ..model_targets import (
    array_from_json,
    array_to_json,
    check_encoder_record,
    check_storable_classes,
    encode_classes,
)
from .callbacks import _Monitor, _MonitoringCallback
from .history import HISTORY_FIELDS, History

if TYPE_CHECKING:  # pragma: no cover
    from ..losses import Loss
    from .trainer import Trainer

_MODEL, _OPTIMIZER, _HISTORY = "model.", "optimizer.", "history."
#: The tensor of the history's epoch numbers (no logged key is named "epoch": HISTORY_FIELDS).
_EPOCHS = _HISTORY + "epoch"
#: The keys of a stored array inside a generator's state: ``{"dtype": ..., "ndarray": [...]}``.
_ARRAY_KEYS = frozenset({"dtype", "ndarray"})


def save_checkpoint(trainer: Trainer, path: str | os.PathLike[str], *, partial_epoch: bool = False) -> None:
    """Write ``trainer``'s complete state to ``path`` (atomically).

    Raises
    ------
    TypeError
        Something the checkpoint must record cannot be recorded: the trainer's classes are
        bytes (as :func:`chainrule.io.save` refuses them), a layer cannot be saved as
        :func:`chainrule.io.save` says (its class is not registered in
        :data:`chainrule.layers.LAYERS`, ...), the optimizer's or the schedule's class is not
        registered (a subclass of your own: register it in :data:`chainrule.optim.OPTIMIZERS`
        or :data:`chainrule.optim.SCHEDULES`), or a random generator's state cannot be stored
        as JSON. Nothing is written then; the message names the file.
    """
    source = check_path(path)
    tensors, metadata = _contents(trainer, source, partial_epoch)
    write_tensors(path, tensors, metadata)


def _contents(trainer: Trainer, source: str,
              partial_epoch: bool = False) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """The tensors and metadata of ``trainer``'s checkpoint, or the :class:`TypeError` that
    :func:`save_checkpoint` documents. :class:`ModelCheckpoint` builds them when training
    begins too, so that whatever cannot be recorded fails then, not after the first epoch."""
    net, optimizer = trainer.net, trainer.optimizer
    classes = _classes_of(trainer)
    check_storable_classes(classes, f"the checkpoint {source}")
    try:  # each names the class to register, or the layer's problem
        network = network_config_text(net)
        configs = (optimizer.get_config(),
                   None if trainer.schedule is None else trainer.schedule.get_config())
    except (TypeError, ValueError) as exc:
        raise TypeError(f"cannot write the checkpoint {source}: {exc}") from None
    tensors = {_MODEL + name: param for name, param, _ in net.named_parameters()}
    state = optimizer.state_dict()
    tensors.update({_OPTIMIZER + k: v for k, v in state.items() if isinstance(v, np.ndarray)})
    history_tensors, history = _history_to_tensors(trainer.history)
    tensors.update(history_tensors)
    encoder = trainer.encoder
    try:
        record = {
            "epoch": trainer.epoch,
            "partial_epoch": partial_epoch,
            "lr_factor": trainer.lr_factor,
            "optimizer": {"config": configs[0], "step": state["step"], "lr": state["lr"]},
            "schedule": configs[1],
            **_run_settings(trainer),
            "rng": _state_to_json(trainer.rng.bit_generator.state),
            "split_seed": trainer.split_seed,
            "dropout_rngs": {
                str(i): _state_to_json(layer.rng.bit_generator.state)
                for i, layer in enumerate(net.layers)
                if getattr(layer, "rng", None) is not None
            },
            "encoder": None if encoder is None else {
                "task": encoder.task, "y_ndim": encoder.y_ndim, **encode_classes(classes),
            },
            "history": history,
        }
        text = json.dumps(record)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"cannot write the checkpoint {source}: the training state is not JSON data ({exc})"
        ) from None
    return tensors, {"kind": CHECKPOINT_KIND, "config": network, "trainer": text}


def load_checkpoint(trainer: Trainer, path: str | os.PathLike[str]) -> None:
    """Restore a checkpoint written by :func:`save_checkpoint` into ``trainer``.

    The checkpoint is resumed as the run that wrote it, so ``trainer`` must have been built
    with the same architecture, the same optimizer type with the same settings (every value
    of ``optimizer.get_config()``, ``lr`` included), the same schedule (or none as well), the
    same loss with the same settings, the same ``batch_size`` and the same ``shuffle`` (the
    last three where the checkpoint records them: see the module docstring).
    Everything is read and checked before anything changes: on any error ``trainer`` is left
    as it was.

    Raises
    ------
    ModelFormatError
        Not a checkpoint, a damaged one (a tensor missing, unexpected or of another shape, a
        training state entry missing or out of the range a run writes, a history tensor that
        is not float64 with one value per epoch, epochs that are not increasing integers
        within [1, epoch], classes that are not a valid target record as in a model file; NaN
        or infinity in the weights or the optimizer state, though the history may hold
        them), or one of another run: another architecture, another optimizer type, other
        optimizer, schedule or loss settings, another batch size or shuffling (the message
        lists each differing setting with its saved and current value), or a loss that does
        not train the saved task. The message names the file. To train on from a checkpoint
        with other settings, build a new Trainer around :func:`checkpoint_network` ``(path)``
        and call ``fit`` without ``resume_from``.
    """
    source, tensors, metadata, record = _read(path)
    net, optimizer = trainer.net, trainer.optimizer
    if _json(metadata["config"], "network config", source, loads_json) != _as_json(
            net.get_config()):
        raise ModelFormatError(
            f"{source}: the checkpoint was written for a different network architecture"
        )
    _check_same_settings(trainer, record, source)
    model = _model_tensors(tensors)
    check_network_tensors(net, model, source)  # as checkpoint_network does: no more, no fewer
    previous_encoder = trainer.encoder
    try:  # everything is read and validated before anything changes
        parameters = [(param, model[name]) for name, param, _ in net.named_parameters()]
        epoch, lr_factor, split_seed, history = _counters(record, tensors)
        generators = [(trainer.rng.bit_generator, _state_from_json(record["rng"]),
                       "the Trainer's generator (seed)")] + [
            (net.layers[index].rng.bit_generator, _state_from_json(state),
             f"the generator of layers[{index}] ({type(net.layers[index]).__name__})")
            for index, state in _dropout_states(record["dropout_rngs"], net)
        ]
        for bit_generator, state, owner in generators:
            _check_generator_kind(bit_generator, state, owner, source)
            type(bit_generator)().state = state  # a state a fresh generator of the kind accepts
        trainer.restore_encoder(_encoder_state(record["encoder"], net, source),
                                origin=f"the checkpoint {source}")
        optimizer_state = {
            key[len(_OPTIMIZER):]: value for key, value in tensors.items() if key.startswith(_OPTIMIZER)
        }
        optimizer.load_state_dict({  # validates everything before it changes anything
            "step": record["optimizer"]["step"], "lr": record["optimizer"]["lr"],
            **optimizer.state_settings(),  # the record's config: _check_same_settings did
            **optimizer_state,
        })
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
        trainer.encoder = previous_encoder
        if isinstance(exc, ModelFormatError):
            raise
        raise ModelFormatError(f"{source}: the checkpoint's training state is invalid: {exc}") from None
    for param, value in parameters:
        param[...] = value
    for bit_generator, state, _ in generators:
        bit_generator.state = state
    trainer.epoch, trainer.lr_factor, trainer.split_seed, trainer.history = (
        epoch, lr_factor, split_seed, history)


def checkpoint_network(path: str | os.PathLike[str], *, seed: Any = None) -> Sequential:
    """The network stored in a checkpoint, as :func:`chainrule.load` returns a model file's.

    Also the way to train on from a checkpoint with other optimizer, schedule, loss or batch
    settings than the saved run's (which ``fit(resume_from=...)`` refuses): build a new
    Trainer around this network and ``fit`` it, which starts a new run from the checkpoint's
    weights. ``seed`` seeds the network's own generator (dropout masks), as
    :func:`chainrule.load`'s does: give one for a run that repeats bit for bit.
    """
    source, tensors, metadata, _ = _read(path)
    return network_from(metadata["config"], _model_tensors(tensors), source=source, seed=seed)


def _classes_of(trainer: Trainer) -> np.ndarray | None:
    """The trainer's class labels (n_classes,), or None (not fitted yet, or regression)."""
    return None if trainer.encoder is None else trainer.encoder.classes


def _check_same_settings(trainer: Trainer, record: dict[str, Any], source: str) -> None:
    """A :class:`ModelFormatError` unless ``trainer``'s optimizer, schedule, loss, batch size
    and shuffling are the ones the checkpoint's run had, setting by setting (compared as
    JSON, as they are stored). The last three are compared where the record holds them: a
    checkpoint written before they were recorded lacks them."""
    optimizer = record.get("optimizer")
    saved = optimizer.get("config") if isinstance(optimizer, dict) else None
    if not isinstance(saved, dict) or "schedule" not in record:
        raise ModelFormatError(
            f"{source}: the checkpoint's training state is invalid: it has no optimizer config "
            "or no schedule entry"
        )
    current = _as_json(trainer.optimizer.get_config())
    if saved.get("name") != current.get("name"):
        raise ModelFormatError(
            f"{source}: the checkpoint holds {saved.get('name')!r} optimizer state, "
            f"but the trainer uses {current.get('name')!r}"
        )
    differences = _differences("optimizer", saved, current)
    schedule = None if trainer.schedule is None else _as_json(trainer.schedule.get_config())
    differences += _setting_differences("schedule", record["schedule"], schedule)
    for key, value in _run_settings(trainer).items():
        if key in record:
            differences += _setting_differences(key, record[key], value)
    if differences:
        raise ModelFormatError(
            f"{source}: the checkpoint's run used other training settings than this "
            f"trainer: {'; '.join(differences)}. Resuming continues the saved run exactly, "
            "so it needs the same settings: build the Trainer with the saved ones. To train on "
            "with other settings, start a new fit from the checkpoint's weights: net = "
            "chainrule.training.checkpoint.checkpoint_network(path), then "
            "Trainer(net, ...).fit(X, y) without resume_from"
        )


def _run_settings(trainer: Trainer) -> dict[str, Any]:
    """The settings besides the optimizer and the schedule that make a run what it is, as
    the record stores them: the loss's config, ``batch_size`` (which batches each step sees)
    and ``shuffle`` (their order, and the shuffling generator's draws)."""
    return {"loss": _loss_record(trainer.loss), "batch_size": trainer.batch_size,
            "shuffle": trainer.shuffle}


def _loss_record(loss: Loss) -> dict[str, Any]:
    """``loss.get_config()`` as JSON data (its registered name and every setting), or, for a
    loss class of one's own with no registered name (or settings that are not JSON data),
    ``{"class": "<module>.<qualname>"}``: the checkpoint is written whatever the loss (as it
    was before the loss was recorded), and resuming then compares the class alone."""
    try:
        return _as_json(loss.get_config())
    except (TypeError, ValueError):
        cls = type(loss)
        return {"class": f"{cls.__module__}.{cls.__qualname__}"}


def _setting_differences(what: str, saved: Any, current: Any) -> list[str]:
    """The differences of one recorded setting: key by key for two configs (dicts, see
    :func:`_differences`), else the two values whole (``"schedule: saved None, now {...}"``)."""
    if isinstance(saved, dict) and isinstance(current, dict):
        return _differences(what, saved, current)
    return [] if saved == current else [f"{what}: saved {saved!r:.200}, now {current!r:.200}"]


def _differences(what: str, saved: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """``"optimizer.lr: saved 0.01, now 0.001"`` for every key whose values differ."""
    absent = "(not set)"
    return [
        f"{what}.{key}: saved {saved.get(key, absent)!r:.100}, now {current.get(key, absent)!r:.100}"
        for key in sorted(set(saved) | set(current))
        if key not in saved or key not in current or saved[key] != current[key]
    ]


def _as_json(config: Any) -> Any:
    """``config`` as it reads back from the checkpoint's JSON (tuples become lists ...)."""
    return json.loads(json.dumps(config))


def _state_to_json(state: Any) -> Any:
    """A bit generator's ``state`` (a dict of ints, str and, for MT19937, Philox and SFC64,
    uint32/uint64 arrays) as JSON data: each array becomes ``{"dtype": ..., "ndarray": [...]}``
    (see :func:`chainrule.model_targets.array_to_json`; Python ints keep every uint64 exact)."""
    if isinstance(state, np.ndarray):
        values, dtype = array_to_json(state)
        return {"dtype": dtype, "ndarray": values}
    if isinstance(state, dict):
        return {key: _state_to_json(value) for key, value in state.items()}
    return state


def _state_from_json(data: Any) -> Any:
    """The bit generator state :func:`_state_to_json` stored, its arrays rebuilt with their
    dtype (ValueError for a stored array that does not fit it)."""
    if isinstance(data, dict):
        if set(data) == _ARRAY_KEYS:
            return array_from_json(data["ndarray"], data["dtype"], "a random generator's state")
        return {key: _state_from_json(value) for key, value in data.items()}
    return data


def _check_generator_kind(bit_generator: Any, state: Any, owner: str, source: str) -> None:
    """A ``ModelFormatError`` when the checkpoint's generator ``state`` is of another kind of
    bit generator than ``owner``'s (a setting of the run, not damage to the file)."""
    saved, current = state.get("bit_generator"), type(bit_generator).__name__
    if isinstance(saved, str) and saved != current:
        raise ModelFormatError(
            f"{source}: the checkpoint's run had a {saved} bit generator behind {owner}, this "
            f"one has {current}: resuming restores the generator's state, so it needs the same "
            f"kind, e.g. seed=np.random.Generator(np.random.{saved}())"
        )


def _model_tensors(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The network's parameters among a checkpoint's tensors, by their own names (``0.W``)."""
    return {k[len(_MODEL):]: v for k, v in tensors.items() if k.startswith(_MODEL)}


def _counters(record: Mapping[str, Any],
              tensors: Mapping[str, np.ndarray]) -> tuple[int, float, int, History]:
    """The record's ``(epoch, lr_factor, split_seed, history)`` (the history's numbers from
    ``tensors``), checked against the values a run can reach (a ``ValueError`` or
    ``TypeError`` naming the entry otherwise)."""
    epoch = check_number(record["epoch"], "epoch", low=0, integer=True)
    # ReduceLROnPlateau, its only writer, multiplies it by ratios new_lr / lr < 1 (0 when the
    # reduced rate underflows), starting from 1: it stays in [0, 1].
    lr_factor = check_number(record["lr_factor"], "lr_factor", low=0, high=1)
    split_seed = check_number(record["split_seed"], "split_seed", low=0, integer=True)
    # Resuming needs not read it (the epoch count leaves the interrupted epoch out, which is
    # then repeated), but an entry a run cannot write is a damaged or forged record.
    check_bool(record["partial_epoch"], "partial_epoch")
    history = _history_from(record["history"], tensors)
    numbers = history.epochs
    if any(not 1 <= e <= epoch for e in numbers) or any(
            a >= b for a, b in itertools.pairwise(numbers)):
        raise ValueError(
            f"the history's epochs must increase within [1, {epoch}] (the epoch count), got "
            f"{numbers!r:.100}"
        )
    return epoch, lr_factor, split_seed, history


def _history_to_tensors(history: History) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``history``'s numbers as the checkpoint's float64 ``history.*`` tensors, and the rest
    (its keys in order, how the fit ended) as the record's ``history`` entry."""
    tensors = {_EPOCHS: np.array(history.epochs, dtype=np.float64)}
    tensors.update({_HISTORY + key: np.array(values, dtype=np.float64)
                    for key, values in history.history.items()})
    return tensors, {"keys": list(history), "interrupted": history.interrupted,
                     "stopped_early": history.stopped_early, "note": history.note}


def _history_from(stored: Any, tensors: Mapping[str, np.ndarray]) -> History:
    """The history of the record's ``history`` entry: its keys and flags with the
    ``history.*`` tensors (as :func:`_history_to_tensors` writes them), or, in a checkpoint
    written before those tensors existed, the JSON of :meth:`History.as_dict` alone."""
    if not isinstance(stored, dict):
        raise TypeError(f"history must be a JSON object, got {type(stored).__name__}")
    present = sorted(name for name in tensors if name.startswith(_HISTORY))
    _check_how_it_ended(stored)
    if "epoch" in stored:  # the older layout: every number is in the JSON
        if present:
            raise ValueError(
                f"the history is stored as JSON, so no history tensor may exist, got "
                f"{present[:5]!r:.200}")
        return History.from_dict(stored)
    keys = stored.get("keys")
    if (not isinstance(keys, list) or not all(isinstance(key, str) for key in keys)
            or len(set(keys)) != len(keys) or set(keys) & set(HISTORY_FIELDS)):
        raise ValueError(
            f"the history's keys must be a list of distinct names, none of {HISTORY_FIELDS}, "
            f"got {keys!r:.100}")
    names = [_EPOCHS, *(_HISTORY + key for key in keys)]
    if present != sorted(names):
        raise ValueError(
            f"the history's tensors must be {_EPOCHS} and one per key, {sorted(names)!r:.200}, "
            f"got {present!r:.200}")
    epochs = tensors[_EPOCHS]
    length = epochs.shape[0] if epochs.ndim == 1 else "n_epochs"
    for name in names:
        array = tensors[name]
        if array.dtype != np.float64 or array.ndim != 1 or array.shape != (length,):
            raise ValueError(
                f"history tensor {name!r} must be float64 of shape ({length},) (one value per "
                f"epoch), got {array.dtype} of shape {array.shape}")
    if not np.all(np.isfinite(epochs) & (epochs == np.floor(epochs))):
        raise ValueError(f"the history's epochs must be integers, got {epochs.tolist()!r:.100}")
    return History.from_dict({
        "epoch": [int(e) for e in epochs.tolist()],
        **{key: tensors[_HISTORY + key].tolist() for key in keys},  # NaN/inf as recorded
        **{field: stored[field] for field in ("interrupted", "stopped_early", "note")
           if field in stored},
    })


def _check_how_it_ended(stored: Mapping[str, Any]) -> None:
    """The history entry's ``interrupted`` and ``stopped_early`` are bools and its ``note`` a
    str, where present (:meth:`History.from_dict` would read ``"no"`` as True)."""
    for field in ("interrupted", "stopped_early"):
        if field in stored:
            check_bool(stored[field], f"history.{field}")
    note = stored.get("note", "")
    if not isinstance(note, str):
        raise TypeError(f"history.note must be a str, got {note!r:.100} ({type(note).__name__})")


def _dropout_states(states: Any, net: Sequential) -> list[tuple[int, Any]]:
    """``(layer index, stored state)`` for every layer of ``net`` with its own generator,
    which must be exactly the layers ``states`` (the record's ``dropout_rngs``) names."""
    owners = [str(index) for index, layer in enumerate(net.layers)
              if getattr(layer, "rng", None) is not None]
    if not isinstance(states, dict) or sorted(states) != sorted(owners):
        got = sorted(states) if isinstance(states, dict) else type(states).__name__
        raise ValueError(
            f"dropout_rngs must hold the generators of the layers {owners} (those with one), "
            f"got {got!r:.100}"
        )
    return [(int(index), states[index]) for index in owners]


def _encoder_state(state: Any, net: Sequential, source: str) -> dict[str, Any] | None:
    """The checkpoint's ``encoder`` record, validated as a model file's ``targets`` is (for
    ``net``'s outputs), with its classes as an array of their dtype (a checkpoint written
    before ``classes_dtype`` existed reads them as ``numpy.asarray``)."""
    if state is None:
        return None
    task, y_ndim, classes = check_encoder_record(
        state, net.out_features or 1, f"{source}: the checkpoint's encoder record")
    return {"task": task, "y_ndim": y_ndim, "classes": classes}


def _read(
    path: str | os.PathLike[str],
) -> tuple[str, dict[str, np.ndarray], dict[str, str], dict[str, Any]]:
    """``(path as messages show it, tensors, metadata, the trainer record)`` of a checkpoint."""
    source = check_path(path)
    tensors, metadata = read_tensors(path, check_finite=False)  # the history may hold NaN
    refuse_non_finite({name: value for name, value in tensors.items()
                       if not name.startswith(_HISTORY)}, source)
    if metadata.get("kind") != CHECKPOINT_KIND or not {"config", "trainer"} <= metadata.keys():
        raise ModelFormatError(f"{source}: not a chainrule training checkpoint")
    record = _json(metadata["trainer"], "training state", source, json.loads)
    if not isinstance(record, dict):
        raise ModelFormatError(f"{source}: the training state must be a JSON object")
    stray = [name for name in tensors if not name.startswith((_MODEL, _OPTIMIZER, _HISTORY))]
    if stray:
        raise ModelFormatError(
            f"{source}: a checkpoint holds only tensors named {_MODEL}*, {_OPTIMIZER}* and "
            f"{_HISTORY}*, got {stray[:5]!r:.200}"
        )
    return source, tensors, metadata, record


def _json(text: str, what: str, source: str, parse: Callable[[str], Any]) -> Any:
    """A checkpoint's JSON entry read with ``parse``, or a :class:`ModelFormatError` naming the
    file and the entry. (The network config is strict JSON, read with ``loads_json``; the
    training state may hold NaN, e.g. a metric's, as ``json.dumps`` writes it.)"""
    try:
        return parse(text)
    except (ValueError, RecursionError) as exc:
        raise ModelFormatError(f"{source}: the {what} is not valid JSON: {exc}") from None


class ModelCheckpoint(_MonitoringCallback):
    """Write a training checkpoint after epochs, and when training is interrupted.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file, replaced atomically each time (a device or named pipe is
        written in place instead, as :func:`chainrule.io.save` does).
    monitor : str, default "val_loss"
        With ``save_best_only``, the logged quantity that decides what "best" is.
    save_best_only : bool, default False
        Write only when ``monitor`` is better than the best value seen so far (strictly);
        otherwise after every epoch. The best value is kept over the fits of one Trainer, as
        the file keeps the best epoch: a later ``fit`` of it (or scikit-learn ``partial_fit``)
        writes only an epoch better than every earlier one. A fit of another Trainer starts a
        new run, whose first epoch is written; :meth:`reset` starts one too. A resumed fit
        (``fit(..., resume_from=...)``) continues the saved run: the best value starts from
        the best ``monitor`` value in the restored history (respecting ``mode``; none when
        it holds no finite one), for a new ModelCheckpoint too, so that the epochs written are
        those of a run that never stopped and a worse resumed epoch does not replace the run's
        best epoch in the file. (A file that does not hold that best epoch, e.g. a new path,
        is written only once an epoch beats it.)
    mode : {"auto", "min", "max"}
        As in :class:`~chainrule.training.EarlyStopping`.

    It runs after the trainer's other callbacks at an epoch's end (so it saves, e.g., a rate
    ``ReduceLROnPlateau`` has just reduced) and before them at the end of training (see
    :mod:`chainrule.training.callbacks`). When training is interrupted (Ctrl-C):

    - without ``save_best_only``, a checkpoint of that moment (mid-epoch weights, marked
      ``partial_epoch``) is written, unless the interruption came between epochs (the last
      epoch's checkpoint is that moment), and the history's note says so ("checkpoint saved to
      <path>"); resuming from a mid-epoch one repeats the interrupted epoch;
    - with ``save_best_only``, nothing is written: the file keeps the best epoch, and the note
      says which ("checkpoint at <path> holds the best epoch N", of this Trainer's fits), or
      that this fit wrote none.

    A Ctrl-C before the fit's first step writes nothing: the fit then raises
    ``KeyboardInterrupt``, leaving the trainer as it was (see ``Trainer.fit``).

    Resume with ``Trainer.fit(..., resume_from=path)``; :func:`checkpoint_network` reads the
    network alone. What the checkpoint cannot record is refused with the :class:`TypeError`
    :func:`save_checkpoint` raises (bytes class labels; a layer, optimizer or schedule class of
    your own that is not registered under a name: see :data:`chainrule.layers.LAYERS`,
    :data:`chainrule.optim.OPTIMIZERS`, :data:`chainrule.optim.SCHEDULES`), and a path that
    cannot be written (a folder; a folder that is missing, not a folder or read-only; a file
    name longer than the file system allows) with the ``OSError`` a write would raise, when
    training begins, before the first epoch.

    Attributes
    ----------
    saved_epochs : list of int
        Every epoch written at its end, over all fits (not the interrupted ones).
    written : bool
        Whether the current (or last) fit wrote the file, at an epoch's end or when it was
        interrupted.
    """

    saves_state = True

    def __init__(self, path: str | os.PathLike[str], monitor: str = "val_loss", *,
                 save_best_only: bool = False, mode: str = "auto") -> None:
        self.path = check_path(path)
        self.save_best_only = check_bool(save_best_only, "save_best_only")
        self._tracker = _Monitor(monitor, mode, 0.0)
        self.saved_epochs: list[int] = []
        self.written = False
        self._run: weakref.ref | None = None  # the Trainer whose fits the best value is of
        self._best_epoch: int | None = None  # the epoch the file holds, written in that run

    def reset(self) -> None:
        """Forget the best value: with ``save_best_only``, the next epoch is written whatever
        its value (e.g. to start a checkpoint of another run in the same file)."""
        self._tracker.reset()
        self._best_epoch = None

    def __getstate__(self) -> dict[str, Any]:
        """For pickling and copies: without the link to the Trainer of the run (a weak
        reference, which does not pickle); the copy's next fit starts a new run."""
        return {**self.__dict__, "_run": None}

    def on_train_begin(self, trainer: Trainer) -> None:
        if self.save_best_only:
            self._tracker.check_available(trainer, "ModelCheckpoint")
        _contents(trainer, self.path)  # what cannot be recorded fails now, not after an epoch
        check_writable(self.path)  # as does a wrong path
        # Another Trainer starts a new run; a resumed fit the saved run, whose best so far is
        # in the restored history (the best value stays over this Trainer's other fits).
        if trainer.resumed or self._run is None or self._run() is not trainer:
            self.reset()
            self._run = weakref.ref(trainer)
            if trainer.resumed and self.save_best_only:
                _start_from_history(self._tracker, trainer.history)
        self.written = False

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, float]) -> None:
        if self.save_best_only and not self._tracker.improved(epoch, logs):
            return
        save_checkpoint(trainer, self.path)
        self.saved_epochs.append(epoch)
        self._best_epoch = epoch
        self.written = True

    def on_train_end(self, trainer: Trainer, logs: dict[str, float]) -> None:
        if not trainer.history.interrupted:
            return
        if not self.save_best_only:
            if trainer.epoch_in_progress:  # else the last epoch's end was just written
                save_checkpoint(trainer, self.path, partial_epoch=True)
                self.written = True
            trainer.history.note += f"; checkpoint saved to {self.path}"
        elif self._best_epoch is not None:  # the best epoch of this Trainer's fits, kept
            trainer.history.note += (
                f"; checkpoint at {self.path} holds the best epoch {self._best_epoch}")
        elif self._tracker.best_epoch:  # started from the restored history: its best stays
            trainer.history.note += (
                f"; no checkpoint was written to {self.path}: no epoch of this fit completed "
                f"with a better {self._tracker.monitor} than the run's best so far (epoch "
                f"{self._tracker.best_epoch}, in the restored history)")
        else:
            trainer.history.note += (
                f"; no checkpoint was written to {self.path}: no epoch of this fit completed "
                f"with a best {self._tracker.monitor}")


def _start_from_history(tracker: _Monitor, history: History) -> None:
    """Set ``tracker`` as it stands after the epochs of ``history`` (a resumed run's): at the
    best finite value of its quantity, by its mode, and the first epoch that reached it (an
    improvement is strict, and ModelCheckpoint's ``min_delta`` is 0). A history without a
    finite value of it leaves the tracker reset: the next finite value is the best."""
    values = np.asarray(history.history.get(tracker.monitor, ()), dtype=np.float64)
    finite = np.flatnonzero(np.isfinite(values))
    if finite.size == 0:
        return
    pick = np.argmax if tracker._maximise() else np.argmin  # the first of equal values
    index = finite[pick(values[finite])]
    tracker.best, tracker.best_epoch = float(values[index]), history.epochs[index]
