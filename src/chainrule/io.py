"""Model files: :func:`save` and :func:`load` a network as one safetensors file.

What a model file contains
--------------------------
One file in the `safetensors <https://github.com/huggingface/safetensors>`_ format::

    8 bytes      N: length of the header (unsigned little-endian 64-bit integer)
    N bytes      the header, UTF-8 JSON:
                   {"0.W": {"dtype": "F32", "shape": [2, 16], "data_offsets": [0, 128]},
                    "0.b": {"dtype": "F32", "shape": [16], "data_offsets": [...]}, ...,
                    "__metadata__": {"format": "chainrule", "format_version": "1",
                                     "chainrule_version": "0.1.0",
                                     "config": "{\\"dtype\\": \\"float32\\", \\"layers\\": [...]}"}}
    the rest     the raw little-endian values of every tensor, back to back

- one tensor per parameter, named as :meth:`Sequential.named_parameters` names them: the
  layer's index in the network and the parameter's key (``"0.W"``, ``"0.b"``, ``"2.W"``);
  dtype ``F32`` or ``F64`` (the network's dtype), shape the parameter's shape (a Dense ``W`` is
  ``(in_features, out_features)``);
- ``__metadata__`` (every value a string): ``format`` is ``"chainrule"``, ``format_version`` the
  version of this layout (``"1"``), ``chainrule_version`` the library that wrote it, and
  ``config`` the JSON of :meth:`Sequential.get_config` (the dtype and each layer's type and
  constructor arguments);
- optionally ``targets`` (written by ``save(net, path, trainer=trainer)``, e.g. by ``chainrule
  train``): what the outputs mean, as JSON ``{"task": ..., "y_ndim": ..., "classes": [...],
  "classes_dtype": ..., "from_logits": ...}``; see :class:`ModelTargets`. Files without it
  (older files, or a bare network) load as before; their outputs are then only numbers.
  ``classes_dtype`` (e.g. ``"uint64"``, ``"float32"``, ``"U4"``) is written only when the values
  alone would not read back with their dtype, and is optional for readers (earlier versions did
  not write it).

A model file carrying ``targets`` decodes predictions like the Trainer that trained it::

    net, targets = load_with_targets("model.safetensors")
    P = targets.probabilities(net.forward(X))     # (n_samples, n_outputs)
    labels = targets.encoder().decode(P)          # the original class labels

The file holds data only: loading parses JSON and reads numbers; nothing is unpickled, imported
or evaluated, so a model file from an untrusted source cannot run code. :func:`load` validates
the header and the architecture it describes before it allocates anything (see
:func:`read_tensors`), then reads the values straight into the network's parameters.

Inspecting a file with other tools
----------------------------------
Any safetensors reader opens it, e.g. in Python::

    from safetensors import safe_open
    with safe_open("model.safetensors", framework="numpy") as f:
        print(f.metadata()["config"])           # the architecture, as JSON
        W = f.get_tensor("0.W")                 # (in_features, out_features)

or ``safetensors.torch.load_file`` to get torch tensors (transpose ``W`` for ``torch.nn.Linear``).
The header is plain JSON, readable without any library::

    import json, struct
    with open("model.safetensors", "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        print(json.dumps(json.loads(f.read(n)), indent=2))

Lower-level primitives
----------------------
:func:`write_tensors` and :func:`read_tensors` store any named float32/float64 arrays with string
metadata in the same container, atomically and with the same validation; model files are built
on them, and training checkpoints (weights, optimizer state, JSON metadata) use them too.

chainrule reads and writes the format itself (:mod:`chainrule._safetensors`), deterministically:
saving the same network twice gives the same bytes. The ``safetensors`` package is not needed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from . import _safetensors as container
from ._atomic import write_atomically
from ._random import as_generator
from ._validation import check_bool, check_path
from ._version import __version__
from .errors import ModelFormatError
from .layers.base import LAYERS, Layer
from .layers.sequential import Sequential
from .model_targets import TARGETS_KEY, ModelTargets

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "ModelTargets",
    "check_network_tensors",
    "load",
    "load_with_targets",
    "network_config_text",
    "network_from",
    "read_metadata",
    "read_tensors",
    "save",
    "write_tensors",
]

#: ``__metadata__["format"]`` of every file chainrule writes.
FORMAT = "chainrule"
#: The newest layout this version reads and the one it writes (``__metadata__["format_version"]``).
FORMAT_VERSION = 1
#: ``__metadata__["kind"]`` of a training checkpoint (:mod:`chainrule.training.checkpoint`),
#: which :func:`load` refuses with what to do instead.
CHECKPOINT_KIND = "training-checkpoint"

_CONFIG_KEYS = frozenset({"dtype", "layers"})
_LAYER_KEYS = frozenset({"type", "config"})


# --------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------


def save(net: Sequential, path: str | os.PathLike[str], *, trainer: Any = None) -> None:
    """Write ``net`` (architecture and parameter values) to ``path`` as a safetensors file.

    The write is atomic: the file is written to a temporary file in the same folder, flushed
    to disk, then renamed onto ``path``. A crash or an error at any moment leaves either the
    previous file at ``path`` or the new one, never a mixture, and an error removes the
    temporary file.
    A file being replaced keeps its permissions (a private file stays private while the new
    one is written). A symbolic link at ``path`` is replaced by a regular file (the rename
    replaces the link itself; the file it pointed to is left unchanged): save to the link's
    target to update that file. A ``path`` that is, or links to, a device or a named pipe
    (``/dev/null``, ``/dev/stdout``) is written in place, not atomically, as
    ``open(path, "wb")`` would write it: it is never replaced by a regular file.

    Parameters
    ----------
    net : Sequential
        The network. Every layer's class must be registered in
        :data:`chainrule.layers.LAYERS` and its ``get_config()`` must be JSON data that
        ``from_config`` turns back into the same layer.
    path : str or os.PathLike
        Destination, conventionally ending in ``.safetensors``. Its folder must exist.
    trainer : Trainer, optional
        The fitted :class:`~chainrule.training.Trainer` that trained ``net``. Its task, class
        labels and whether its loss took logits are stored too (metadata ``targets``, see
        :class:`ModelTargets`), so that :func:`load_with_targets` and the ``chainrule``
        command turn outputs back into the original labels and into probabilities.

    Raises
    ------
    TypeError
        ``net`` is not a Sequential, or a layer cannot be described by a config (unregistered
        class, a custom initializer function, a config that is not JSON or does not rebuild
        the layer); ``trainer`` is not a Trainer or has bytes class labels; or ``path`` is
        not a str, bytes or os.PathLike. Raised before anything is written.
    ValueError
        ``path`` is empty or contains a NUL byte; ``trainer`` has not been fitted, or trained
        another network.
    OSError
        The file cannot be written (``FileNotFoundError`` when its folder does not exist,
        ``IsADirectoryError`` when ``path`` is a folder, ...): the message names ``path`` as
        given, and the previous file at ``path``, if any, is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from chainrule.layers import mlp
    >>> net = mlp([2, 8, 1], activation="relu", output="sigmoid", seed=0)
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "model.safetensors"
    >>> save(net, path)
    >>> X = np.ones((3, 2))
    >>> bool(np.array_equal(load(path).forward(X), net.forward(X)))
    True
    >>> folder.cleanup()
    """
    if not isinstance(net, Sequential):
        raise TypeError(f"net must be a chainrule Sequential, got {type(net).__name__}")
    check_path(path)
    metadata = {"config": network_config_text(net)}
    if trainer is not None:
        metadata[TARGETS_KEY] = ModelTargets.from_trainer(trainer, net).to_json()
    tensors = {name: param for name, param, _ in net.named_parameters()}
    write_tensors(path, tensors, metadata)


def load(
    path: str | os.PathLike[str], *, check_finite: bool = True, seed: Any = None
) -> Sequential:
    """Read a network written by :func:`save`.

    The header is validated before it is used (the container as in :func:`read_tensors`,
    then the config: known layer types, layers that fit together, and exactly the parameters
    that architecture has, with their shapes and the config's dtype); only then is the network
    built, and the values are read from the file straight into its parameters, so that loading
    needs no memory beyond the network's (no copy of the file or of its tensors). A file that
    changes size while it is read, or values that are not finite, are refused after that: the
    network is dropped, never returned. The result predicts exactly (bit for bit) like the
    saved network.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    check_finite : bool, default True
        Refuse parameters holding NaN or infinity (a network saved after training diverged).
        ``False`` loads them anyway, e.g. to inspect what went wrong.
    seed : int, Generator or None
        Source of the loaded network's dropout masks (the parameters come from the file).

    Returns
    -------
    Sequential
        In the dtype the file was saved in.

    Raises
    ------
    ModelFormatError
        The file is damaged, not a chainrule model, written by a newer chainrule, or describes
        an unknown layer type (a custom layer must be registered in
        :data:`chainrule.layers.LAYERS` before loading). The message names the file and the
        problem.
    TypeError, ValueError
        ``path`` is not a str, bytes or os.PathLike (``TypeError``), or is empty or contains a
        NUL byte (``ValueError``).
    OSError
        The file cannot be read (``FileNotFoundError`` when it does not exist); the message
        names ``path``.
    """
    return load_with_targets(path, check_finite=check_finite, seed=seed)[0]


def load_with_targets(
    path: str | os.PathLike[str], *, check_finite: bool = True, seed: Any = None
) -> tuple[Sequential, ModelTargets | None]:
    """Read a network written by :func:`save`, and what its outputs mean.

    Parameters and errors as in :func:`load`; a ``targets`` record that is damaged or does
    not fit the network is a :class:`~chainrule.errors.ModelFormatError` too.

    Returns
    -------
    net : Sequential
    targets : ModelTargets or None
        The task, classes and output form stored by ``save(..., trainer=...)``; None for a
        file saved without a trainer (or by an older chainrule).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from chainrule.layers import mlp
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(folder.name) / "model.safetensors"
    >>> save(mlp([2, 3], output="softmax", seed=0), path)
    >>> net, targets = load_with_targets(path)
    >>> net.out_features, targets
    (3, None)
    >>> folder.cleanup()
    """
    rng = as_generator(seed)
    source = check_path(path)
    check_finite = check_bool(check_finite, "check_finite")
    with open(path, "rb") as file:
        header, metadata = _read_header(file, source)
        _refuse_checkpoint(metadata, source)
        if "config" not in metadata:
            raise ModelFormatError(
                f"{source}: the metadata has no 'config': the file holds tensors but no network "
                "architecture (another tool's file?)"
            )
        # The network is built, checked against the header's tensors, before any value is
        # read; then the values are read from the file straight into its parameter buffer.
        # So loading holds the parameters once (no bytes of the file, no decoded copies).
        net = network_from(metadata["config"], _stand_ins(header), source=source, seed=rng)
        targets = metadata.get(TARGETS_KEY)
        if targets is not None:
            targets = ModelTargets.from_json(targets, net.out_features, source)
        parameters = {name: param for name, param, _ in net.named_parameters()}
        container.read_into(file, header, parameters, source)
    if check_finite:
        refuse_non_finite(parameters, source)
    return net, targets


def _stand_ins(header: container.Header) -> dict[str, np.ndarray]:
    """Zeros of each tensor's shape and dtype that take no memory (read-only broadcasts of one
    zero): what :func:`network_from` checks and copies in before the values are read."""
    return {name: np.broadcast_to(np.zeros((), entry.dtype), entry.shape)
            for name, entry in header.tensors.items()}


def _refuse_checkpoint(metadata: Mapping[str, str], source: str) -> None:
    """A :class:`ModelFormatError` that explains what to do with a training checkpoint."""
    if metadata.get("kind") == CHECKPOINT_KIND:
        raise ModelFormatError(
            f"{source} is a training checkpoint (weights and optimizer state), not a model "
            "file: use the run's model.safetensors, read its network with "
            "chainrule.training.checkpoint.checkpoint_network(path), or resume training with "
            "Trainer.fit(..., resume_from=path)"
        )


def network_from(
    config: str, tensors: Mapping[str, np.ndarray], *, source: str = "<memory>", seed: Any = None
) -> Sequential:
    """Build a network from its config's JSON and its parameter arrays, validating both.

    The second half of :func:`load`, for files that hold a network among other things (a
    training checkpoint stores ``json.dumps(net.get_config())`` in its metadata and the
    parameters, by their :meth:`Sequential.named_parameters` names, among its tensors).

    Parameters
    ----------
    config : str
        JSON of :meth:`Sequential.get_config`.
    tensors : mapping of str to ndarray
        Exactly the network's parameters by name (``"0.W"``, ...), with its dtype.
    source : str
        Names the file in error messages.
    seed : int, Generator or None
        Source of the dropout masks.

    Raises
    ------
    ModelFormatError
        An invalid config, an unknown layer type, layers that do not fit together, or tensors
        other than the ones the architecture has (missing, unexpected, wrong shape or dtype).
    """
    rng = as_generator(seed)
    if not isinstance(config, str):
        raise TypeError(f"config must be a JSON str, got {type(config).__name__}")
    if not isinstance(tensors, Mapping) or not all(
        isinstance(array, np.ndarray) for array in tensors.values()
    ):
        raise TypeError("tensors must be a dict of str to numpy arrays")
    parsed = _model_config(config, source)
    dtype = np.dtype(parsed["dtype"])
    layers = _build_layers(parsed["layers"], dtype, dict(tensors), source)
    # What Sequential.from_config does, with the layers already built and checked. Each layer
    # is handed the file's tensors as its parameters, which the network copies into its flat
    # buffer (and then makes views of it) instead of drawing initial values only for them to
    # be overwritten. The dropout generators are spawned from rng, whose children do not
    # depend on how many values were drawn, so they are those of Sequential(..., seed=rng);
    # except for a Generator on a legacy-seeded bit generator, which cannot spawn: its
    # children come from draws (chainrule._random.spawn_many), after the weights' there.
    for index, layer in enumerate(layers):
        for spec in layer.parameter_specs():
            layer.params[spec.name] = tensors[f"{index}.{spec.name}"]
    try:
        return Sequential(layers, dtype=dtype, seed=rng)
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(
            f"{source}: the layers in the config do not fit together: {exc}"
        ) from None


def network_config_text(net: Sequential) -> str:
    """The JSON of ``net.get_config()``, as a model file (or a checkpoint) stores it.

    Raises the :class:`TypeError` that :func:`save` documents when a layer cannot be
    described by a config that ``load`` rebuilds it from (an unregistered class, ...).
    """
    for index, layer in enumerate(net.layers):
        _check_saveable(index, layer)
    return json.dumps(net.get_config(), allow_nan=False)


def _check_saveable(index: int, layer: Layer) -> None:
    """A :class:`TypeError` unless ``load`` will rebuild ``layer`` from its saved config."""
    label = f"layer #{index} ({type(layer).__name__})"
    try:
        name = LAYERS.name_of(layer)
    except ValueError:
        raise TypeError(
            f"cannot save {label}: its class is not registered in chainrule.layers.LAYERS, so "
            "load could not rebuild it; register it with "
            f"@LAYERS.register({type(layer).__name__!r})"
        ) from None
    try:
        config = layer.get_config()
    except (TypeError, ValueError) as exc:  # e.g. a Dense with a custom initializer function
        raise TypeError(f"cannot save {label}: {exc}") from None
    try:
        text = json.dumps(config, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"cannot save {label}: its get_config() is not JSON data ({exc}): {config!r:.200}"
        ) from None
    saved = json.loads(text)
    try:
        clone = LAYERS.get(name).from_config(json.loads(text))
        same = json.loads(json.dumps(clone.get_config(), allow_nan=False)) == saved
        same = same and _specs(clone) == _specs(layer)
    except Exception as exc:  # noqa: BLE001 - whatever a (user-written) from_config raises
        raise TypeError(
            f"cannot save {label}: from_config(get_config()) fails ({exc}), so load could not "
            "rebuild the layer"
        ) from None
    if not same:
        raise TypeError(
            f"cannot save {label}: from_config(get_config()) builds a different layer; its "
            f"get_config() must return every constructor argument, got {saved!r:.200}"
        )


def _specs(layer: Layer) -> list[tuple[str, tuple[int, ...]]]:
    return [(spec.name, tuple(spec.shape)) for spec in layer.parameter_specs()]


def _model_config(text: str, source: str) -> dict[str, Any]:
    """The network config parsed from its JSON, with its structure checked."""
    try:
        config = container.loads_json(text)
    except (ValueError, RecursionError) as exc:
        raise ModelFormatError(
            f"{source}: the metadata 'config' is not valid JSON ({exc})"
        ) from None
    if not isinstance(config, dict) or set(config) != _CONFIG_KEYS:
        keys = sorted(config) if isinstance(config, dict) else type(config).__name__
        raise ModelFormatError(
            f"{source}: the config must be an object with exactly the keys "
            f"{sorted(_CONFIG_KEYS)}, got {keys}"
        )
    if config["dtype"] not in ("float32", "float64"):
        raise ModelFormatError(
            f"{source}: the config dtype must be 'float32' or 'float64', "
            f"got {config['dtype']!r:.100}"
        )
    layers = config["layers"]
    if not isinstance(layers, list) or not layers:
        raise ModelFormatError(f"{source}: the config 'layers' must be a non-empty list")
    for index, entry in enumerate(layers):
        if not isinstance(entry, dict) or set(entry) != _LAYER_KEYS:
            raise ModelFormatError(
                f"{source}: config layer #{index} must be an object with exactly the keys "
                f"{sorted(_LAYER_KEYS)}, got {entry!r:.200}"
            )
        kind, options = entry["type"], entry["config"]
        if not isinstance(kind, str) or kind not in LAYERS:
            raise ModelFormatError(
                f"{source}: config layer #{index} has unknown layer type {kind!r:.100}; known "
                f"types: {', '.join(LAYERS.names())} (register a custom layer in "
                "chainrule.layers.LAYERS before loading)"
            )
        if not isinstance(options, dict):
            raise ModelFormatError(
                f"{source}: config layer #{index} ({kind}) must have a 'config' object, "
                f"got {options!r:.100}"
            )
    return config


def _build_layers(
    entries: list[dict[str, Any]],
    dtype: np.dtype,
    tensors: dict[str, np.ndarray],
    source: str,
) -> list[Layer]:
    """The config's layers (no parameters allocated), checked against the file's tensors.

    The names, shapes and dtype every parameter must have are known from the layers'
    ``parameter_specs`` before any parameter exists, so a config declaring a huge layer is
    refused here, by comparison with the tensors that really are in the file.
    """
    layers, expected = [], {}
    for index, entry in enumerate(entries):
        try:
            layer = LAYERS.get(entry["type"]).from_config(dict(entry["config"]))
            specs = _specs(layer)
        except Exception as exc:  # noqa: BLE001 - whatever a (user-written) layer raises
            raise ModelFormatError(
                f"{source}: config layer #{index} ({entry['type']}) cannot be built from "
                f"{entry['config']!r:.200}: {exc}"
            ) from None
        layers.append(layer)
        for name, shape in specs:
            expected[f"{index}.{name}"] = (shape, f"layer #{index} ({entry['type']})")
    _check_tensors(expected, tensors, dtype, source)
    return layers


def check_network_tensors(net: Sequential, tensors: Mapping[str, np.ndarray], source: str) -> None:
    """A :class:`ModelFormatError` naming ``source`` unless ``tensors`` are exactly ``net``'s
    parameters by name (``"0.W"``, ...), each of its shape and dtype: the check :func:`load`
    makes of a file's tensors against its config, for a file whose config is ``net``'s (a
    training checkpoint resumed into a Trainer of ``net``)."""
    expected = {}
    for name, param, _ in net.named_parameters():
        index = int(name.split(".", 1)[0])
        expected[name] = (param.shape, f"layer #{index} ({LAYERS.name_of(net.layers[index])})")
    _check_tensors(expected, tensors, net.dtype, source)


def _check_tensors(
    expected: Mapping[str, tuple[tuple[int, ...], str]],
    tensors: Mapping[str, np.ndarray],
    dtype: np.dtype,
    source: str,
) -> None:
    """``tensors`` are exactly the ``expected`` names, each of its shape and of ``dtype``
    (``expected`` maps a name to its shape and the layer that owns it, for the message)."""
    missing = [name for name in expected if name not in tensors]
    unexpected = [name for name in tensors if name not in expected]
    if missing or unexpected:
        raise ModelFormatError(
            f"{source}: the tensors do not match the architecture in the config: "
            f"missing {_few(missing)}, unexpected {_few(unexpected)}"
        )
    for name, (shape, owner) in expected.items():
        array = tensors[name]
        if array.shape != shape:
            raise ModelFormatError(
                f"{source}: tensor {name!r} has shape {array.shape}, but {owner} in the config "
                f"needs {shape}"
            )
        if array.dtype != dtype:
            raise ModelFormatError(
                f"{source}: tensor {name!r} is {array.dtype}, but the config's dtype is {dtype}"
            )


def _few(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(repr(name) for name in names[:limit])
    more = f", ... ({len(names) - limit} more)" if len(names) > limit else ""
    return f"[{shown}{more}]"


# --------------------------------------------------------------------------------------------
# Named tensors with metadata: the primitives model files and checkpoints are built on
# --------------------------------------------------------------------------------------------


def write_tensors(
    path: str | os.PathLike[str],
    tensors: Mapping[str, np.ndarray],
    metadata: Mapping[str, str],
) -> None:
    """Atomically write named arrays and string metadata as a chainrule safetensors file.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; its folder must exist. Written as :func:`save` writes (a temporary file
        in the same folder, flushed, fsync'ed, then renamed over ``path``): a crash leaves the
        previous file or the new one, and an error removes the temporary file. A symbolic
        link at ``path`` is replaced by a regular file; the file it pointed to is unchanged.
        A device or named pipe at ``path`` (or linked from it) is written in place.
    tensors : mapping of str to ndarray
        float32 or float64 arrays of any shape (copied as they are; no other dtype is
        stored). Names are non-empty and not ``"__metadata__"``.
    metadata : mapping of str to str
        Stored in the header's ``__metadata__``; store structured values as JSON strings.
        ``format``, ``format_version`` and ``chainrule_version`` are filled in here; ``format``
        and ``format_version``, if given, must equal :data:`FORMAT` and
        :data:`FORMAT_VERSION`, and a given ``chainrule_version`` is replaced by this one's.

    Raises
    ------
    TypeError, ValueError
        Bad names, arrays or metadata, or a bad ``path`` (not a str, bytes or os.PathLike;
        empty; holding a NUL byte); nothing is written then.
    OSError
        The file cannot be written (the previous file, if any, is left as it was); the message
        names ``path`` as given, never the temporary file.
    """
    shown = check_path(path)
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict of str to str, got {type(metadata).__name__}")
    identity = {"format": FORMAT, "format_version": str(FORMAT_VERSION)}
    for key, value in identity.items():
        if key in metadata and metadata[key] != value:
            raise ValueError(
                f"metadata[{key!r}] is set by write_tensors to {value!r}, got {metadata[key]!r}"
            )
    # The parts are written as they come: the arrays' own memory, not a bytes copy of the file.
    parts = container.encode_parts(
        tensors, {**metadata, **identity, "chainrule_version": __version__}
    )
    write_atomically(shown, parts)


def read_tensors(
    path: str | os.PathLike[str], *, check_finite: bool = True
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a file written by :func:`write_tensors`, validating it entirely first.

    Before any tensor is decoded, the header is checked: the file has the 8-byte length
    prefix; the header length lies within the file and below 16 MiB; the header is UTF-8 JSON
    (an object, no duplicate keys); ``__metadata__`` exists with ``format == "chainrule"`` and
    a ``format_version`` this version reads (a newer one gets its own message); each tensor
    has exactly ``dtype`` (``F32``/``F64``), ``shape`` and ``data_offsets``, whose sizes agree
    and which tile the bytes that follow the header exactly. So no declared size can make the
    reader allocate more than the file holds. Then each tensor's values are read from the file
    straight into the array returned (no copy of the file's bytes is held).

    Parameters
    ----------
    path : str or os.PathLike
    check_finite : bool, default True
        Refuse tensors holding NaN or infinity.

    Returns
    -------
    tensors : dict of str to ndarray
        New writeable arrays, float32 or float64 as stored.
    metadata : dict of str to str
        Everything in ``__metadata__``, including ``format``, ``format_version`` and
        ``chainrule_version``.

    Raises
    ------
    ModelFormatError
        Any problem with the content; the message names the file and the problem.
    TypeError, ValueError
        A bad ``path``: not a str, bytes or os.PathLike; empty; holding a NUL byte.
    OSError
        The file cannot be read (``FileNotFoundError`` when it does not exist).
    """
    source = check_path(path)
    check_finite = check_bool(check_finite, "check_finite")
    with open(path, "rb") as file:
        header, metadata = _read_header(file, source)
        tensors = container.decode(file, header, source)
    if check_finite:
        refuse_non_finite(tensors, source)
    return tensors, metadata


def refuse_non_finite(tensors: Mapping[str, np.ndarray], source: str) -> None:
    """A :class:`ModelFormatError` naming the first of ``tensors`` that holds NaN or infinity
    (``read_tensors(check_finite=True)``'s check, also applied by a training checkpoint to its
    tensors but its history's, which may hold NaN)."""
    for name, array in tensors.items():
        bad = _count_non_finite(array)
        if bad:
            raise ModelFormatError(
                f"{source}: tensor {name!r} holds {bad} NaN or infinite value(s) (saved "
                "after training diverged?); pass check_finite=False to load it anyway"
            )


#: Values tested at a time by :func:`_count_non_finite`: its mask costs 64 KiB, not one byte per
#: value of the largest tensor (a quarter of a float32 network's parameters, on top of them).
_FINITE_BLOCK = 2**16


def _count_non_finite(array: np.ndarray) -> int:
    """How many values of ``array`` are NaN or infinite, tested block by block."""
    flat = array.reshape(-1)  # a view: the arrays read from a file are contiguous
    return sum(
        block.size - int(np.count_nonzero(np.isfinite(block)))
        for block in (flat[i : i + _FINITE_BLOCK] for i in range(0, flat.size, _FINITE_BLOCK))
    )


def read_metadata(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``__metadata__`` of a chainrule file, reading and validating only its header.

    Cheap even for a large file; tells a model file from a training checkpoint (whose
    ``kind`` is ``"training-checkpoint"``) before anything is loaded.

    Raises
    ------
    ModelFormatError, TypeError, ValueError, OSError
        As :func:`read_tensors`, for the header.
    """
    source = check_path(path)
    with open(path, "rb") as file:
        return _read_header(file, source)[1]


def _read_header(file: Any, source: str) -> tuple[container.Header, dict[str, str]]:
    """``(validated header, metadata)`` of the open binary ``file``, which is left at the start
    of its data buffer."""
    size = os.fstat(file.fileno()).st_size
    n = container.header_length(file.read(8), size, source)
    header = container.parse_header(file.read(n), size - 8 - n, source)
    return header, _check_identity(header.metadata, source)


def _check_identity(metadata: dict[str, str] | None, source: str) -> dict[str, str]:
    """The metadata says this is a chainrule file of a layout this version reads."""
    if metadata is None:
        raise ModelFormatError(
            f"{source}: the header has no __metadata__, so this is not a chainrule file"
        )
    if metadata.get("format") != FORMAT:
        raise ModelFormatError(
            f"{source}: not a chainrule file (__metadata__ format is "
            f"{metadata.get('format')!r:.100}, expected {FORMAT!r})"
        )
    version = metadata.get("format_version")
    if not (isinstance(version, str) and version.isascii() and version.isdigit()
            and len(version) < 10 and int(version) >= 1):
        raise ModelFormatError(
            f"{source}: invalid format_version {version!r:.100}; expected a positive integer"
        )
    if int(version) > FORMAT_VERSION:
        writer = metadata.get("chainrule_version", "an unknown version")
        raise ModelFormatError(
            f"{source}: the file was written by a newer chainrule ({writer:.50}, format_version "
            f"{version}); chainrule {__version__} reads format_version {FORMAT_VERSION} and "
            "older. Upgrade chainrule to load it."
        )
    return metadata

