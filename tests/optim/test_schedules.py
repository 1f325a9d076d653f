"""Learning-rate schedules: formulas, torch's schedulers, config round trips, errors."""

from __future__ import annotations

import itertools
import json
import math

import pytest

from chainrule.optim.adam import Adam
from chainrule.optim.schedules import (
    SCHEDULES,
    ConstantLR,
    CosineLR,
    ExponentialLR,
    InverseScalingLR,
    Schedule,
    StepLR,
)

# Arguments for the schedules that have required ones; a new registered schedule with required
# arguments fails test_config_round_trip until it is added here.
EXAMPLE_ARGS = {
    "step": {"step_size": 3, "gamma": 0.5},
    "exponential": {"gamma": 0.9},
    "cosine": {"t_max": 12, "min_lr": 0.001, "warmup": 3},
    "inverse_scaling": {"power_t": 0.25},
}


def torch_lrs(make_scheduler, base_lr: float, n: int) -> list[float]:
    """The lr torch uses at counts 0..n-1 (read before each scheduler.step())."""
    torch = pytest.importorskip("torch")
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return lrs


def test_constant():
    assert [ConstantLR()(t, 0.3) for t in range(3)] == [0.3, 0.3, 0.3]


def test_step_matches_torch():
    torch = pytest.importorskip("torch")
    ref = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5), 0.1, 20)
    ours = [StepLR(3, gamma=0.5)(t, 0.1) for t in range(20)]
    assert ours == pytest.approx(ref, rel=1e-13)
    assert ours[:7] == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])


def test_exponential_matches_torch():
    torch = pytest.importorskip("torch")
    ref = torch_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 0.2, 30)
    ours = [ExponentialLR(0.9)(t, 0.2) for t in range(30)]
    assert ours == pytest.approx(ref, rel=1e-13)


@pytest.mark.parametrize("min_lr", [0.0, 0.004])
def test_cosine_without_warmup_matches_torch(min_lr):
    torch = pytest.importorskip("torch")
    ref = torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=25, eta_min=min_lr),
        0.1,
        26,
    )
    schedule = CosineLR(25, min_lr=min_lr)
    ours = [schedule(t, 0.1) for t in range(26)]
    assert ours == pytest.approx(ref, rel=1e-12, abs=1e-15)
    assert ours[25] == min_lr
    # After t_max it stays at min_lr (torch's would climb back up).
    assert [schedule(t, 0.1) for t in (26, 40, 1000)] == [min_lr] * 3


def test_cosine_warmup_by_hand():
    base, low = 0.2, 0.02
    schedule = CosineLR(10, min_lr=low, warmup=4)
    assert [schedule(t, base) for t in range(4)] == pytest.approx([0.05, 0.1, 0.15, 0.2])
    assert schedule(4, base) == pytest.approx(base)  # the cosine starts from base_lr
    # halfway through the cosine phase (t - warmup = 3 of t_max - warmup = 6): the midpoint
    assert schedule(7, base) == pytest.approx((base + low) / 2)
    assert schedule(5, base) == pytest.approx(low + (base - low) * (1 + math.cos(math.pi / 6)) / 2)
    assert schedule(10, base) == low and schedule(11, base) == low
    lrs = [schedule(t, base) for t in range(4, 11)]
    assert all(a > b for a, b in itertools.pairwise(lrs))  # strictly decreasing


def test_inverse_scaling_by_hand():
    schedule = InverseScalingLR(power_t=0.5)
    assert schedule(0, 0.1) == 0.1
    assert schedule(3, 0.1) == pytest.approx(0.05)  # 0.1 / sqrt(4)
    assert schedule(99, 1.0) == pytest.approx(0.1)
    assert InverseScalingLR(power_t=0.0)(50, 0.3) == 0.3


def test_units_and_defaults():
    assert StepLR(2).unit == "epoch" and ExponentialLR(0.9).unit == "epoch"
    assert CosineLR(10).unit == "step" and InverseScalingLR().unit == "step"
    assert CosineLR(10, unit="epoch").unit == "epoch"


def test_an_optimizer_accepts_the_schedule_reaching_zero():
    opt = Adam(lr=0.01)
    schedule = CosineLR(5)
    for t in range(7):
        opt.lr = schedule(t, opt.base_lr)
    assert opt.lr == 0.0 and opt.base_lr == 0.01


@pytest.mark.parametrize("name", SCHEDULES.names())
def test_config_round_trip(name):
    cls = SCHEDULES.get(name)
    schedule = cls(**EXAMPLE_ARGS.get(name, {}), unit="step")
    config = schedule.get_config()
    assert config["name"] == name and config["unit"] == "step"
    assert json.loads(json.dumps(config)) == config
    rebuilt = Schedule.from_config(config)
    assert type(rebuilt) is cls and rebuilt.get_config() == config
    assert [rebuilt(t, 0.1) for t in range(20)] == [schedule(t, 0.1) for t in range(20)]


def test_registry_names_and_aliases():
    assert SCHEDULES.get("invscaling") is InverseScalingLR
    assert SCHEDULES.get("Exponential") is ExponentialLR
    with pytest.raises(ValueError, match="unknown schedule 'plateau'; valid names: constant"):
        SCHEDULES.get("plateau")


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: StepLR(0), ValueError, r"step_size must be in \[1, inf\), got 0"),
        (lambda: StepLR(2.5), TypeError, "step_size must be an integer"),
        (lambda: StepLR(2, gamma=0.0), ValueError, r"gamma must be in \(0, inf\)"),
        (lambda: ExponentialLR(-0.5), ValueError, r"gamma must be in \(0, inf\)"),
        (lambda: CosineLR(0), ValueError, r"t_max must be in \[1, inf\)"),
        (lambda: CosineLR(10, warmup=10), ValueError, r"warmup must be smaller than t_max \(10\)"),
        (lambda: CosineLR(10, min_lr=-1.0), ValueError, r"min_lr must be in \[0, inf\)"),
        (lambda: InverseScalingLR(-0.5), ValueError, r"power_t must be in \[0, inf\)"),
        (lambda: ConstantLR(unit="batch"), ValueError, "unit must be one of 'step', 'epoch'"),
        (lambda: ConstantLR()(-1, 0.1), ValueError, r"t must be in \[0, inf\), got -1"),
        (lambda: ConstantLR()(1.5, 0.1), TypeError, "t must be an integer"),
        (lambda: ConstantLR()(1, 0.0), ValueError, r"base_lr must be in \(0, inf\)"),
        (lambda: Schedule.from_config({"unit": "step"}), ValueError, "needs a 'name'"),
        (lambda: StepLR.from_config({"name": "cosine", "t_max": 3}), ValueError, "not a StepLR"),
    ],
)
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


class _Growing(ExponentialLR):
    """A subclass defined by a user, not registered."""


def test_an_unregistered_subclass_reports_an_overflow_naming_itself():
    assert repr(_Growing(2.0)) == "_Growing(gamma=2.0, unit='epoch')"
    message = (r"_Growing\(gamma=2\.0, unit='epoch'\) gives a learning rate beyond the float range "
               r"at t=5000 \(base_lr=0\.1\)")
    with pytest.raises(ValueError, match=message):
        _Growing(2.0)(5000, 0.1)
    with pytest.raises(ValueError, match=r"@chainrule\.optim\.SCHEDULES\.register\('_growing'\)"):
        _Growing(2.0).get_config()
