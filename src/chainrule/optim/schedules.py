"""Learning-rate schedules: pure functions of a counter.

A schedule holds no state and touches no optimizer: ``schedule(t, base_lr)`` is the learning rate
to use at counter ``t`` (``t = 0`` first), so it can be plotted, tested and restarted from any
point. Whoever runs the loop sets ``optimizer.lr = schedule(t, optimizer.base_lr)`` once per
``schedule.unit``:

- ``"step"``: ``t`` counts optimizer steps (minibatches) taken so far;
- ``"epoch"``: ``t`` counts completed epochs, so epoch ``k`` (from 0) uses ``schedule(k, ...)``.

In a :class:`~chainrule.training.Trainer` the step count is the optimizer's own
(``optimizer.n_steps``), the epoch count the Trainer's (``Trainer.epoch``): an optimizer handed
on to a new Trainer continues a step schedule where it was, while an epoch schedule starts over
(warm-up included), as the new Trainer counts its epochs from 0.

Reducing the rate when a validation metric stalls is not a schedule (it depends on the metric,
not the counter); it is a training callback.

Example
-------
>>> from chainrule.optim.schedules import StepLR
>>> schedule = StepLR(2, gamma=0.5)                    # unit "epoch"
>>> [schedule(epoch, 0.1) for epoch in range(5)]
[0.1, 0.1, 0.05, 0.05, 0.025]
"""

from __future__ import annotations

import math

from .._configurable import Configurable
from .._validation import check_choice, check_number
from ..registry import Registry

SCHEDULES: Registry[type[Schedule]] = Registry("schedule")

UNITS = ("step", "epoch")


class Schedule(Configurable):
    """Base class: ``__call__(t, base_lr) -> lr`` with validated arguments.

    Subclasses implement :meth:`_lr`, store every constructor argument under its own name (for
    ``get_config``) and document their unit and formula. A subclass of your own (of this class
    or of a schedule below) trains and prints as it is, but ``get_config`` needs a name for it
    in :data:`SCHEDULES`, and so does a checkpoint, which records the schedule's config:
    register it first, e.g. ``@SCHEDULES.register("halving")`` above its ``class`` statement.

    Parameters
    ----------
    unit : {"step", "epoch"}
        What the counter ``t`` counts.
    """

    _registry = SCHEDULES
    _registry_path = "chainrule.optim.SCHEDULES"

    def __init__(self, *, unit: str) -> None:
        self.unit = check_choice(unit, "unit", UNITS)

    def __call__(self, t: int, base_lr: float) -> float:
        """The learning rate at counter ``t`` (an int >= 0) for a base rate ``base_lr`` > 0."""
        t = check_number(t, "t", low=0, integer=True)
        base_lr = check_number(base_lr, "base_lr", low=0, low_open=True)
        try:
            lr = float(self._lr(t, base_lr))
        except OverflowError:
            lr = math.inf
        if not math.isfinite(lr):
            raise ValueError(
                f"{self!r} gives a learning rate beyond the float range at t={t} "
                f"(base_lr={base_lr:g}); (gamma above 1 cannot run that long)"
            )
        return lr

    def _lr(self, t: int, base_lr: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError


@SCHEDULES.register("constant")
class ConstantLR(Schedule):
    """The base learning rate, always: ``lr(t) = base_lr``.

    (Not ``torch.optim.lr_scheduler.ConstantLR``, which scales by a factor for a few steps.)

    Parameters
    ----------
    unit : {"step", "epoch"}, default "epoch"
        Irrelevant to the value; kept so that every schedule has one.
    """

    def __init__(self, *, unit: str = "epoch") -> None:
        super().__init__(unit=unit)

    def _lr(self, t: int, base_lr: float) -> float:
        return base_lr


@SCHEDULES.register("step")
class StepLR(Schedule):
    """Multiply by ``gamma`` every ``step_size`` counts.

    ``lr(t) = base_lr · gamma^⌊t / step_size⌋``.

    Matches ``torch.optim.lr_scheduler.StepLR(step_size, gamma)`` stepped once per epoch.

    Parameters
    ----------
    step_size : int
        Counts between decays, >= 1.
    gamma : float, default 0.1
        Decay factor, > 0 (usually < 1).
    unit : {"step", "epoch"}, default "epoch"
        What ``t`` counts (see the module docstring).
    """

    def __init__(self, step_size: int, *, gamma: float = 0.1, unit: str = "epoch") -> None:
        super().__init__(unit=unit)
        self.step_size = check_number(step_size, "step_size", low=1, integer=True)
        self.gamma = check_number(gamma, "gamma", low=0, low_open=True)

    def _lr(self, t: int, base_lr: float) -> float:
        return base_lr * self.gamma ** (t // self.step_size)


@SCHEDULES.register("exponential", "exp")
class ExponentialLR(Schedule):
    """Multiply by ``gamma`` every count: ``lr(t) = base_lr · gamma^t``.

    Matches ``torch.optim.lr_scheduler.ExponentialLR(gamma)`` stepped once per epoch.

    Parameters
    ----------
    gamma : float
        Decay factor, > 0 (usually slightly below 1).
    unit : {"step", "epoch"}, default "epoch"
        What ``t`` counts (see the module docstring).
    """

    def __init__(self, gamma: float, *, unit: str = "epoch") -> None:
        super().__init__(unit=unit)
        self.gamma = check_number(gamma, "gamma", low=0, low_open=True)

    def _lr(self, t: int, base_lr: float) -> float:
        return base_lr * self.gamma**t


@SCHEDULES.register("cosine")
class CosineLR(Schedule):
    """Linear warm-up, then cosine annealing to ``min_lr``, then constant ``min_lr``.

    With ``W = warmup`` and ``T = t_max``::

        lr(t) = base_lr · (t + 1) / W                                          t < W
        lr(t) = min_lr + (base_lr − min_lr) · (1 + cos(π (t − W) / (T − W))) / 2   W <= t < T
        lr(t) = min_lr                                                          t >= T

    The warm-up climbs ``base_lr/W, 2·base_lr/W, ..., base_lr`` (no zero first step) and
    reaches ``base_lr`` at ``t = W − 1``; the cosine starts from ``base_lr`` at ``t = W``. With
    ``warmup = 0`` this is SGDR's annealing (Loshchilov & Hutter, "SGDR: Stochastic Gradient
    Descent with Warm Restarts", ICLR 2017) without restarts, and equals
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=t_max, eta_min=min_lr)`` for
    ``t <= t_max`` (torch's keeps oscillating after ``t_max``; this one stays at ``min_lr``).

    Parameters
    ----------
    t_max : int
        Count at which the rate reaches ``min_lr``, >= 1.
    min_lr : float, default 0.0
        Final learning rate, >= 0. (An optimizer accepts ``lr = 0`` from a schedule.)
    warmup : int, default 0
        Length of the linear warm-up, ``0 <= warmup < t_max``.
    unit : {"step", "epoch"}, default "step"
        What ``t`` counts (see the module docstring).
    """

    def __init__(
        self, t_max: int, *, min_lr: float = 0.0, warmup: int = 0, unit: str = "step"
    ) -> None:
        super().__init__(unit=unit)
        self.t_max = check_number(t_max, "t_max", low=1, integer=True)
        self.min_lr = check_number(min_lr, "min_lr", low=0)
        self.warmup = check_number(warmup, "warmup", low=0, integer=True)
        if self.warmup >= self.t_max:
            raise ValueError(f"warmup must be smaller than t_max ({self.t_max}), got {self.warmup}")

    def _lr(self, t: int, base_lr: float) -> float:
        if t < self.warmup:
            return base_lr * (t + 1) / self.warmup
        if t >= self.t_max:
            return self.min_lr
        progress = (t - self.warmup) / (self.t_max - self.warmup)  # in [0, 1)
        return self.min_lr + (base_lr - self.min_lr) * (1.0 + math.cos(math.pi * progress)) / 2


@SCHEDULES.register("inverse_scaling", "invscaling")
class InverseScalingLR(Schedule):
    """Decay as a power of the counter: ``lr(t) = base_lr / (t + 1)^power_t``.

    scikit-learn's ``learning_rate="invscaling"`` (``MLPClassifier`` computes
    ``learning_rate_init / (time_step + 1)^power_t``). scikit-learn's ``time_step`` counts
    *samples* seen, while ``t`` here counts optimizer steps (or epochs), so the same
    ``power_t`` decays much more slowly here than there. ``power_t = 0.5`` gives the classic
    ``1/sqrt(t)`` rate of stochastic approximation.

    Parameters
    ----------
    power_t : float, default 0.5
        Exponent, >= 0.
    unit : {"step", "epoch"}, default "step"
        What ``t`` counts (see the module docstring).
    """

    def __init__(self, power_t: float = 0.5, *, unit: str = "step") -> None:
        super().__init__(unit=unit)
        self.power_t = check_number(power_t, "power_t", low=0)

    def _lr(self, t: int, base_lr: float) -> float:
        # base_lr (t + 1)^(−power_t), in logs: a huge denominator underflows to 0, not overflow
        return base_lr * math.exp(-self.power_t * math.log(t + 1))
