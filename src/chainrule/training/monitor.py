"""``GradientMonitor``: a trace of training, per layer and per epoch, with warnings.

Plot a trace with :func:`chainrule.plots.trace.plot_trace`.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from .._validation import check_bool, check_number
from ..layers.activations import ReLU, Sigmoid, Tanh
from .callbacks import Callback, Logs

if TYPE_CHECKING:  # pragma: no cover
    from ..layers.sequential import Sequential
    from .trainer import Trainer

#: Per-layer quantities of a record, in the order plots show them.
LAYER_KEYS = (
    "activation_norm",
    "dead_fraction",
    "saturated_fraction",
    "grad_norm",
    "weight_norm",
    "update_norm",
    "update_ratio",
)


class GradientWarning(UserWarning):
    """Training shows vanishing or exploding gradients (issued once per kind by the monitor)."""


class GradientMonitor(Callback):
    """Record activations, gradients and updates per layer and per epoch; warn when they vanish
    or explode.

    Pass it to :class:`~chainrule.Trainer` (``callbacks=[monitor]``). After (or during) ``fit``,
    ``monitor.records`` holds one plain dict per epoch (JSON-able: non-finite values are
    stored as ``None``)::

        {"epoch": 3, "loss": 0.41, "lr": 0.01, "grad_norm": 0.27,
         "layers": [{"index": 0, "label": "Dense #0", "type": "Dense",
                     "activation_norm": 1.3, "dead_fraction": None, "saturated_fraction": None,
                     "grad_norm": 0.11, "weight_norm": 2.4, "update_norm": 0.009,
                     "update_ratio": 0.0038}, ...]}

    What each quantity is, for layer ``i`` with parameters θ (its weight arrays, i.e. the
    parameters whose role is ``"weight"``; a layer with biases only uses those):

    ``grad_norm``
        ‖∂J/∂θ‖₂ after each optimizer step (clipped, when the optimizer clips), averaged over
        the epoch's steps. The record's own ``grad_norm`` is the same for all parameters.
    ``weight_norm``
        ‖θ‖₂ at the end of the epoch.
    ``update_norm``, ``update_ratio``
        The change made by **one step**, ‖Δθ‖₂ with Δθ = θ_after − θ_before, and
        ‖Δθ‖₂ / ‖θ_before‖₂; both averaged over the epoch's steps. (A ratio near 1e-3 is the
        usual rule of thumb; far below, learning is slow; near 1, the rate is too large.)
    ``activation_norm``
        √(mean over samples of ‖a‖²), a the layer's output for one sample, on the probe batch
        (see ``probe``), in evaluation mode, for every layer.
    ``dead_fraction`` (ReLU layers)
        The fraction of units that output 0 for every sample of the probe batch.
    ``saturated_fraction`` (Sigmoid and Tanh layers)
        The fraction of outputs (over samples and units) in the flat tails: a sigmoid output
        below ``saturation_margin`` or above 1 − ``saturation_margin`` (0.01 and 0.99 by
        default), a tanh output with |y| > 1 − ``saturation_margin``.

    Detection rules (each warning, a :class:`GradientWarning`, is issued once per monitor; every
    detection is also listed in :attr:`alerts`):

    vanishing, checked at the end of every epoch
        The epoch's ``grad_norm`` of the first layer with parameters is less than
        ``vanishing_ratio`` (1e-5) times that of the last one (both finite, the last > 0).
    exploding, checked after every step
        The gradient is not finite, or its global norm ‖∂J/∂θ‖₂ over all parameters exceeds
        ``exploding_ratio`` (1e3) times its value at the first step the monitor saw. Checked
        per step so that it fires before the loss itself overflows (which stops the Trainer
        with a ``TrainingDivergedError``).

    Parameters
    ----------
    probe : array of shape (n_probe, in_features), optional
        A fixed batch for the activation statistics. Default: the inputs of the epoch's last
        batch trained on (at most ``probe_size`` rows; a batch skipped because its sample
        weights are all zero does not count), read from the first layer's cache (a
        ``Dense`` keeps its input); if the first layer keeps no input, activation statistics
        are ``None``.
    probe_size : int, default 256
    vanishing_ratio : float, default 1e-5
    exploding_ratio : float, default 1e3
    saturation_margin : float, default 0.01
    warn : bool, default True
        Issue the warnings (detections are recorded in :attr:`alerts` either way).

    Attributes
    ----------
    records : list of dict
        One record per epoch, as above.
    alerts : list of dict
        ``{"kind": "vanishing" | "exploding", "epoch": int, "batch": int | None,
        "message": str}``, in the order detected; each kind at most once.

    Examples
    --------
    >>> from chainrule import Trainer, mlp
    >>> from chainrule.datasets import make_circles
    >>> X, y = make_circles(100, seed=0)
    >>> monitor = GradientMonitor()
    >>> trainer = Trainer(mlp([2, 8, 1], output="sigmoid", seed=0), "binary_cross_entropy",
    ...                   verbose=0, seed=0, callbacks=[monitor])
    >>> _ = trainer.fit(X, y, epochs=2)
    >>> [layer["label"] for layer in monitor.records[-1]["layers"]]
    ['Dense #0', 'ReLU #1', 'Dense #2', 'Sigmoid #3']
    """

    def __init__(
        self,
        *,
        probe: Any = None,
        probe_size: int = 256,
        vanishing_ratio: float = 1e-5,
        exploding_ratio: float = 1e3,
        saturation_margin: float = 0.01,
        warn: bool = True,
    ) -> None:
        self.probe = probe
        self.probe_size = check_number(probe_size, "probe_size", low=1, integer=True)
        self.vanishing_ratio = check_number(
            vanishing_ratio, "vanishing_ratio", low=0, high=1, low_open=True, high_open=True
        )
        self.exploding_ratio = check_number(
            exploding_ratio, "exploding_ratio", low=1, low_open=True
        )
        self.saturation_margin = check_number(
            saturation_margin, "saturation_margin", low=0, high=0.5, low_open=True, high_open=True
        )
        self.warn = check_bool(warn, "warn")
        self.records: list[dict[str, Any]] = []
        self.alerts: list[dict[str, Any]] = []
        self._probe: np.ndarray | None = None
        self._last_batch: np.ndarray | None = None  # the probe rows of the last trained batch
        self._kept_rows: np.ndarray | None = None  # the array _last_batch lies in
        self._tracked: list[_Tracked] = []
        self._sums: dict[int, list[float]] = {}  # layer index → [Σ grad, Σ update, Σ ratio]
        self._steps = 0
        self._global_sum = 0.0
        self._reference: float | None = None

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, trainer: Trainer) -> None:
        net = trainer.net
        self._probe = None if self.probe is None else net.check_input(self.probe, "probe").copy()
        self._tracked = [
            _Tracked(index, arrays)
            for index, layer in enumerate(net.layers)
            if (arrays := _monitored(layer))
        ]
        self._reference = None
        self._reset_epoch()

    def on_epoch_begin(self, trainer: Trainer, epoch: int) -> None:
        self._reset_epoch()

    def on_batch_end(self, trainer: Trainer, epoch: int, batch: int, logs: Logs) -> None:
        total = 0.0
        for tracked in self._tracked:
            grad2, update2, weight2 = tracked.step()
            total += grad2
            ratio = math.sqrt(update2 / weight2) if weight2 > 0 else math.nan
            sums = self._sums[tracked.index]
            sums[0] += math.sqrt(grad2)
            sums[1] += math.sqrt(update2)
            sums[2] += ratio
        self._steps += 1
        self._global_sum += math.sqrt(total)
        if self._probe is None:
            self._keep_batch(trainer.net)
        self._check_exploding(trainer, epoch, batch, math.sqrt(total))

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: Logs) -> None:
        net = trainer.net
        probe = self._probe if self._probe is not None else self._last_batch
        activations = _activation_stats(net, probe, self.saturation_margin)
        steps = max(self._steps, 1)
        layers = []
        for index, layer in enumerate(net.layers):
            entry: dict[str, Any] = {
                "index": index, "label": layer.label, "type": type(layer).__name__
            }
            entry.update(activations.get(index, dict.fromkeys(LAYER_KEYS[:3])))
            entry.update(dict.fromkeys(LAYER_KEYS[3:]))
            layers.append(entry)
        for tracked in self._tracked:
            grad, update, ratio = (total / steps for total in self._sums[tracked.index])
            layers[tracked.index].update(
                grad_norm=_number(grad),
                weight_norm=_number(tracked.weight_norm()),
                update_norm=_number(update),
                update_ratio=_number(ratio),
            )
        record = {
            "epoch": int(epoch),
            "loss": _number(logs.get("loss", math.nan)),
            "lr": _number(logs.get("lr", trainer.optimizer.lr)),  # the epoch's, as recorded
            "grad_norm": _number(self._global_sum / steps) if self._steps else None,
            "layers": layers,
        }
        self.records.append(record)
        self._check_vanishing(epoch, record)

    # ------------------------------------------------------------------ queries
    def series(self, key: str) -> dict[str, list[float]]:
        """``{layer label: [value per epoch]}`` for a per-layer quantity (see :func:`series`)."""
        return series(self.records, key)

    def detected(self, kind: str) -> bool:
        """Whether ``kind`` ("vanishing" or "exploding") was detected."""
        return any(alert["kind"] == kind for alert in self.alerts)

    # ------------------------------------------------------------------ internals
    def _reset_epoch(self) -> None:
        self._sums = {tracked.index: [0.0, 0.0, 0.0] for tracked in self._tracked}
        self._steps = 0
        self._global_sum = 0.0

    def _keep_batch(self, net: Sequential) -> None:
        """Copy the batch's first ``probe_size`` inputs, from the first layer's cache, into
        an array kept for that (allocated again only when a batch has more rows or another
        width or dtype).

        A copy on every batch, not a view copied at the epoch's end: the Trainer reuses its
        batch buffers and draws a batch whose sample weights are all zero into them, then
        skips it without calling on_batch_end, so by the epoch's end the buffer may hold a
        batch that was never trained on. The copy costs one pass over min(batch_size,
        probe_size) × in_features values per batch, less than the monitor's per-step work on
        the first layer's weights (each ``_Tracked.step`` reads them several times).
        """
        X = net.layers[0].cache.get("X")
        if X is None:
            self._last_batch = None
            return
        rows = X[: self.probe_size]
        kept = self._kept_rows
        if (kept is None or kept.shape[0] < rows.shape[0] or kept.shape[1:] != rows.shape[1:]
                or kept.dtype != rows.dtype):
            kept = self._kept_rows = np.empty_like(rows, order="C")
        self._last_batch = kept[: rows.shape[0]]
        np.copyto(self._last_batch, rows)

    def _check_exploding(self, trainer: Trainer, epoch: int, batch: int, norm: float) -> None:
        if self._reference is None and math.isfinite(norm) and norm > 0:
            self._reference = norm
            return
        advice = (
            f"lower the learning rate (now {trainer.optimizer.lr:g}) or clip gradients "
            "(clip_norm=... on the optimizer)"
        )
        if not math.isfinite(norm):
            self._alert(
                "exploding", epoch, batch,
                f"exploding gradients at epoch {epoch}, batch {batch}: the gradient is not "
                f"finite; {advice}",
            )
        elif self._reference is not None and norm > self.exploding_ratio * self._reference:
            self._alert(
                "exploding", epoch, batch,
                f"exploding gradients at epoch {epoch}, batch {batch}: the gradient norm is "
                f"{norm:.3g}, {norm / self._reference:.1e} times its value at the first step "
                f"({self._reference:.3g}); {advice}",
            )

    def _check_vanishing(self, epoch: int, record: dict[str, Any]) -> None:
        if len(self._tracked) < 2:
            return
        first = record["layers"][self._tracked[0].index]
        last = record["layers"][self._tracked[-1].index]
        if first["grad_norm"] is None or not last["grad_norm"]:
            return
        ratio = first["grad_norm"] / last["grad_norm"]
        if ratio < self.vanishing_ratio:
            self._alert(
                "vanishing", epoch, None,
                f"vanishing gradients at epoch {epoch}: the gradient norm of the first layer "
                f"with parameters ({first['label']}) is {ratio:.1e} times that of the last "
                f"({last['label']}), so the first layers barely learn; use He/Glorot "
                "initialisation, ReLU, or fewer layers",
            )

    def _alert(self, kind: str, epoch: int, batch: int | None, message: str) -> None:
        if self.detected(kind):
            return
        self.alerts.append({"kind": kind, "epoch": int(epoch), "batch": batch, "message": message})
        if self.warn:
            warnings.warn(message, GradientWarning, stacklevel=3)


class _Tracked:
    """One layer's monitored parameters, with a copy of their values before the last step."""

    def __init__(self, index: int, arrays: list[tuple[np.ndarray, np.ndarray]]) -> None:
        self.index = index
        self.arrays = arrays  # (parameter view, gradient view) pairs
        self.previous = [param.copy() for param, _ in arrays]
        self.delta = [np.empty_like(param) for param, _ in arrays]

    def step(self) -> tuple[float, float, float]:
        """‖g‖², ‖Δθ‖² and ‖θ_before‖² for the step just taken; remembers θ for the next."""
        grad2 = update2 = weight2 = 0.0
        for (param, grad), previous, delta in zip(self.arrays, self.previous, self.delta):
            np.subtract(param, previous, out=delta)
            grad2 += _square_norm(grad)
            update2 += _square_norm(delta)
            weight2 += _square_norm(previous)
            np.copyto(previous, param)
        return grad2, update2, weight2

    def weight_norm(self) -> float:
        return math.sqrt(sum(_square_norm(param) for param, _ in self.arrays))


def _monitored(layer: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (parameter, gradient) arrays monitored for ``layer``: its weights, else all."""
    specs = layer.parameter_specs()
    chosen = [s for s in specs if s.role == "weight"] or specs
    return [(layer.params[s.name], layer.grads[s.name]) for s in chosen]


def _square_norm(array: np.ndarray) -> float:
    """‖a‖² = Σ a², accumulated in float64 (a float32 sum of squares overflows near 1.8e19).

    A float32 array is not converted as a whole: ``einsum`` casts it to float64 block by block
    as it sums, so no float64 copy of the array is made. A float64 array goes to BLAS ``dot``.
    """
    flat = array.reshape(-1)
    if flat.dtype == np.float64:
        return float(np.dot(flat, flat))
    return float(np.einsum("i,i->", flat, flat, dtype=np.float64))


def _activation_stats(
    net: Sequential, probe: np.ndarray | None, margin: float
) -> dict[int, dict[str, float | None]]:
    """activation_norm, dead_fraction and saturated_fraction per layer on ``probe``.

    Runs the layers in evaluation mode and puts their caches back afterwards, so training is
    not disturbed.
    """
    if probe is None:
        return {}
    saved = [layer.cache for layer in net.layers]
    stats: dict[int, dict[str, float | None]] = {}
    try:
        A = probe
        with np.errstate(all="ignore"):
            for index, layer in enumerate(net.layers):
                A = layer.forward(A, training=False)
                A64 = A.astype(np.float64, copy=False)
                norm = math.sqrt(_square_norm(A64) / A64.shape[0])
                dead = saturated = None
                if isinstance(layer, ReLU):
                    dead = float(np.mean(np.all(A64 == 0.0, axis=0)))
                elif isinstance(layer, Sigmoid):
                    saturated = float(np.mean((A64 < margin) | (A64 > 1.0 - margin)))
                elif isinstance(layer, Tanh):
                    saturated = float(np.mean(np.abs(A64) > 1.0 - margin))
                stats[index] = {
                    "activation_norm": _number(norm),
                    "dead_fraction": dead,
                    "saturated_fraction": saturated,
                }
    finally:
        for layer, cache in zip(net.layers, saved):
            layer.cache = cache
    return stats


def _number(value: float) -> float | None:
    """``float(value)``, or None when it is not finite (so that records stay valid JSON)."""
    value = float(value)
    return value if math.isfinite(value) else None


def series(records: list[dict[str, Any]], key: str) -> dict[str, list[float]]:
    """``{layer label: [value per epoch]}`` for a per-layer quantity of monitor records.

    Only layers for which ``key`` is recorded at least once appear; a missing value is NaN.

    Parameters
    ----------
    records : list of dict
        ``GradientMonitor.records``.
    key : str
        One of :data:`LAYER_KEYS`.
    """
    if key not in LAYER_KEYS:
        raise ValueError(f"key must be one of {list(LAYER_KEYS)}, got {key!r}")
    out: dict[str, list[float]] = {}
    for position, record in enumerate(records):
        for layer in record["layers"]:
            value = layer.get(key)
            if value is None and layer["label"] not in out:
                continue
            values = out.setdefault(layer["label"], [math.nan] * position)
            values.append(math.nan if value is None else float(value))
    for values in out.values():
        values += [math.nan] * (len(records) - len(values))
    return out
