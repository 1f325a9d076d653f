"""Robustness of the optimizers' constructors and the learning-rate schedules.

An optimizer accepts exactly the values of its documented domain; one that accepted its settings
takes a step on finite gradients and leaves finite parameters. A schedule returns a finite
learning rate >= 0.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.optim.base import OPTIMIZERS
from chainrule.optim.schedules import (
    SCHEDULES,
    CosineLR,
    ExponentialLR,
    InverseScalingLR,
    StepLR,
)

ROBUST = settings.get_profile("chainrule-robustness")

#: Every optimizer and schedule argument, by name: its documented domain.
DOMAINS = {
    "lr": {"low": 0, "low_open": True},
    "momentum": {"low": 0, "high": 1, "high_open": True},
    "dampening": {"low": 0, "high": 1},
    "weight_decay": {"low": 0},
    "beta1": {"low": 0, "high": 1, "high_open": True},
    "beta2": {"low": 0, "high": 1, "high_open": True},
    "eps": {"low": 0, "low_open": True},
    "rho": {"low": 0, "high": 1, "high_open": True},
    "lr_decay": {"low": 0},
    "initial_accumulator_value": {"low": 0},
    "clip_norm": {"low": 0, "low_open": True},
    "nesterov": "bool",
    "amsgrad": "bool",
    "centered": "bool",
    "step_size": {"low": 1, "integer": True},
    "gamma": {"low": 0, "low_open": True},
    "t_max": {"low": 1, "integer": True},
    "min_lr": {"low": 0},
    "warmup": {"low": 0, "integer": True},
    "power_t": {"low": 0},
    "unit": ("step", "epoch"),
}
#: Required arguments get this valid value when another argument is the hostile one.
REQUIRED = {"step_size": 2, "gamma": 0.5, "t_max": 10}


def _arguments(cls) -> list[str]:
    return [name for name in inspect.signature(cls.__init__).parameters if name != "self"]


def _valid(robust, name, value) -> bool:
    domain = DOMAINS[name]
    if domain == "bool":
        return isinstance(value, (bool, np.bool_))
    if isinstance(domain, tuple):
        return isinstance(value, str) and value in domain
    if name == "clip_norm" and value is None:
        return True
    return robust.in_range(value, **domain)


CASES = [(kind, name, argument)
         for kind, registry in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES))
         for name in registry.names()
         for argument in _arguments(registry.get(name))]


@pytest.mark.parametrize(("kind", "name", "argument"), CASES,
                         ids=[f"{n}.{a}" for _, n, a in CASES])
@settings(ROBUST, max_examples=25)
@given(data=st.data())
def test_settings_accept_exactly_their_domain(robust, kind, name, argument, data):
    cls = (OPTIMIZERS if kind == "optimizer" else SCHEDULES).get(name)
    value = data.draw(st.one_of(robust.hostile_scalars(), st.floats(0, 2),
                                st.sampled_from(["step", "epoch"])), label=argument)
    kwargs = {key: val for key, val in REQUIRED.items() if key in _arguments(cls)}
    kwargs[argument] = value
    outcome = robust.call(cls, **kwargs, names=(argument, "nesterov"))
    valid = _valid(robust, argument, value)
    if name == "sgd" and argument == "nesterov" and value:
        valid = False  # Nesterov needs momentum > 0 (and no dampening): default momentum is 0
    if name == "cosine" and argument == "warmup":
        valid = valid and int(value) < REQUIRED["t_max"]  # warmup < t_max
    if not outcome.ok:
        assert not valid, f"{name}({argument}={value!r}) was rejected: {outcome.error!r}"
        return
    assert valid, f"{name}({argument}={value!r}) was accepted"
    instance = outcome.value
    config = instance.get_config()
    assert config["name"] == name
    if kind == "optimizer":
        large = robust.in_range(value, low=1e6)
        step = robust.call(_check_a_step, instance, large)
        assert step.ok, f"{name}({argument}={value!r}) could not take a step: {step.error!r}"
    else:
        lr = instance(0, 0.1)
        assert isinstance(lr, float) and math.isfinite(lr) and lr >= 0


def _check_a_step(optimizer, large: bool) -> np.ndarray:
    """Two steps on fixed gradients; return the parameters (2 weights and a bias) after them."""
    parameters = np.array([0.5, -0.5, 1.0])
    gradients = np.array([0.1, -0.2, 0.3])
    optimizer.bind(parameters, gradients, n_weights=2)
    optimizer.step()
    optimizer.step()
    assert optimizer.n_steps == 2
    if not large:
        assert np.isfinite(parameters).all()
    return parameters


SCHEDULE_INSTANCES = {
    "constant": lambda: SCHEDULES.get("constant")(),
    "step": lambda: StepLR(2, gamma=0.5),
    "step(gamma=3)": lambda: StepLR(1, gamma=3.0),
    "exponential": lambda: ExponentialLR(0.9),
    "exponential(gamma=2)": lambda: ExponentialLR(2.0),
    "cosine": lambda: CosineLR(10, min_lr=0.001, warmup=2),
    "inverse_scaling": lambda: InverseScalingLR(0.5),
    "inverse_scaling(power_t=1e300)": lambda: InverseScalingLR(1e300),
}


@pytest.mark.parametrize("schedule", sorted(SCHEDULE_INSTANCES))
@settings(ROBUST, max_examples=40)
@given(data=st.data())
def test_schedule_returns_a_finite_rate(robust, schedule, data):
    instance = SCHEDULE_INSTANCES[schedule]()
    t = data.draw(st.one_of(st.integers(0, 50), robust.hostile_scalars()), label="t")
    base_lr = data.draw(st.one_of(st.floats(1e-4, 1.0), robust.hostile_scalars()),
                        label="base_lr")
    grows = "gamma=3" in schedule or "gamma=2" in schedule or "power_t" in schedule
    outcome = robust.call(instance, t, base_lr, names=("t", "base_lr"))
    valid = robust.in_range(t, low=0, integer=True) and robust.in_range(base_lr, low=0,
                                                                        low_open=True)
    if not outcome.ok:
        assert not valid or grows or robust.in_range(t, low=2**53, integer=True), (
            f"{schedule}({t!r}, {base_lr!r}) was rejected: {outcome.error!r}")
        return
    assert valid, f"{schedule}({t!r}, {base_lr!r}) was accepted"
    lr = outcome.value
    robust.expect(isinstance(lr, float) and math.isfinite(lr) and lr >= 0,
                  f"{schedule}({t!r}, {base_lr!r}) = {lr!r}")


# ------------------------------------------------------------- fixed bugs (regression tests)


def test_bug_b01_adam_huge_int_lr(robust):
    robust.rejects(OPTIMIZERS.get("adam"), lr=10**400, names=("lr",))


def test_bug_b02_exponential_overflow(robust):
    # 10**t: a rate beyond the float range is refused, naming gamma and t; within it, exact
    robust.rejects(ExponentialLR(10.0), 1000, 1.0, names=("gamma", "t"))
    outcome = robust.call(ExponentialLR(10.0), 300, 1.0, names=("gamma", "t"))
    assert math.isfinite(outcome.value) and outcome.value == pytest.approx(1e300)


def test_bug_b02_step_overflow(robust):
    robust.rejects(StepLR(1, gamma=10.0), 1000, 1.0, names=("gamma", "t"))
    outcome = robust.call(StepLR(1, gamma=10.0), 300, 1.0, names=("gamma", "t"))
    assert math.isfinite(outcome.value) and outcome.value == pytest.approx(1e300)


def test_bug_b02_inverse_scaling_overflow(robust):
    outcome = robust.call(InverseScalingLR(1e300), 5, 1.0, names=("power_t", "t"))
    assert outcome.value == 0.0  # 1 / 6**1e300 underflows to 0 without a warning


def test_bug_b02_inverse_scaling_huge_t(robust):
    outcome = robust.call(InverseScalingLR(0.5), 10**400, 1.0, names=("t",))
    assert outcome.value == pytest.approx(1e-200)  # 1 / sqrt(10**400 + 1)


def test_bug_b40_step_overflow_warning(robust):
    # parameters beyond the float range are the caller's to see (inf), never a NumPy warning
    optimizer = OPTIMIZERS.get("sgd")(lr=0.1, weight_decay=1e155)
    outcome = robust.call(_check_a_step, optimizer, True)
    assert outcome.ok, outcome.error
    parameters = outcome.value
    # the weights are ∓5e153 after one step; in the second, weight_decay * w (±5e308) overflows
    # and they become ±inf. The bias, not decayed, takes two plain steps: 1.0 - 2 * 0.1 * 0.3.
    np.testing.assert_array_equal(parameters[:2], [np.inf, -np.inf])
    assert parameters[2] == pytest.approx(0.94)
