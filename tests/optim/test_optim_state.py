"""state_dict / load_state_dict, get_config / from_config, binding and rebinding."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _optim_cases import CASE_IDS, CASE_PARAMS, gradient_sequence

from chainrule.errors import ShapeError
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.base import OPTIMIZERS, Optimizer
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD


def run(opt: Optimizer, p: np.ndarray, g: np.ndarray, grads: np.ndarray) -> None:
    for gt in grads:
        g[...] = gt
        opt.step()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "kwargs"), CASE_PARAMS, ids=CASE_IDS)
def test_state_dict_round_trip_is_bit_exact(rng, cls, kwargs, dtype):
    kwargs = {**kwargs, "clip_norm": 4.0}
    p0 = rng.standard_normal(64).astype(dtype)
    grads = gradient_sequence(rng, 100, 64).astype(dtype)

    p_straight, g = p0.copy(), np.empty_like(p0)
    run(cls(**kwargs).bind(p_straight, g, 48), p_straight, g, grads)

    p, g = p0.copy(), np.empty_like(p0)
    first = cls(**kwargs).bind(p, g, 48)
    run(first, p, g, grads[:50])
    state = first.state_dict()
    fresh = type(first).from_config(first.get_config()).bind(p, g, 48)
    fresh.load_state_dict(state)
    assert fresh.n_steps == 50
    run(fresh, p, g, grads[50:])
    assert np.array_equal(p, p_straight)
    assert fresh.n_steps == 100


def test_state_dict_holds_copies_and_the_current_lr(rng):
    p, g = rng.standard_normal(10), rng.standard_normal(10)
    opt = Adam(lr=0.01, amsgrad=True).bind(p, g, 10)
    opt.step()
    opt.lr = 0.005
    state = opt.state_dict()
    assert set(state) == {"step", "lr", "beta1", "beta2", "scaled_exp_avg", "scaled_exp_avg_sq",
                          "scaled_max_exp_avg_sq"}
    assert state["step"] == 1 and state["lr"] == 0.005
    assert (state["beta1"], state["beta2"]) == (0.9, 0.999)
    before = state["scaled_exp_avg"].copy()
    opt.step()
    assert np.array_equal(state["scaled_exp_avg"], before)  # a copy, not a view of live state
    state["scaled_exp_avg"][:] = 123.0
    assert not np.any(opt.state_dict()["scaled_exp_avg"] == 123.0)
    json.dumps({k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in state.items()})


def test_load_state_dict_restores_lr_and_step(rng):
    p, g = rng.standard_normal(10), rng.standard_normal(10)
    opt = SGD(lr=0.1, momentum=0.9).bind(p, g, 10)
    opt.step()
    opt.lr = 0.02
    state = opt.state_dict()
    other = SGD(lr=0.1, momentum=0.9).bind(p.copy(), g, 10)
    other.load_state_dict(state)
    assert other.lr == 0.02 and other.base_lr == 0.1 and other.n_steps == 1
    assert np.array_equal(other.state_dict()["momentum_buffer"], state["momentum_buffer"])


@pytest.mark.parametrize("cls", [Adam, AdamW])
@pytest.mark.parametrize("other", [{"beta1": 0.8}, {"beta2": 0.99}])
def test_adam_state_from_other_betas_is_refused(rng, cls, other):
    """The moments are stored scaled by 1/(1 − β): with other betas they would mean other
    moments (with beta1 = 0.8, twice the first moment), silently."""
    p, g = rng.standard_normal(10), rng.standard_normal(10)
    opt = cls(lr=0.01).bind(p, g, 10)
    opt.step()
    state = opt.state_dict()
    target = cls(lr=0.01, **other).bind(p.copy(), g, 10)
    name, value = next(iter(other.items()))
    saved = state[name]
    with pytest.raises(ValueError, match=rf"state\['{name}'\] = {saved}, but this {cls.__name__} "
                                         rf"has {name} = {value}: the state's arrays depend on it"):
        target.load_state_dict(state)
    assert target.n_steps == 0 and not np.any(target.state_dict()["scaled_exp_avg"])
    cls(lr=0.01).bind(p.copy(), g, 10).load_state_dict(state)  # the same betas: accepted


def test_rebinding_resets_state(rng):
    p, g = rng.standard_normal(10), rng.standard_normal(10)
    opt = Adam().bind(p, g, 10)
    opt.step()
    opt.step()
    assert opt.n_steps == 2 and np.any(opt.state_dict()["scaled_exp_avg"] != 0)
    p2, g2 = rng.standard_normal(7), rng.standard_normal(7)
    opt.bind(p2, g2, 3)
    assert opt.n_steps == 0
    assert opt.state_dict()["scaled_exp_avg"].shape == (7,)
    assert not np.any(opt.state_dict()["scaled_exp_avg"])


def test_state_is_allocated_in_the_parameters_dtype(rng):
    from chainrule.optim.adagrad import Adagrad

    p = rng.standard_normal(5).astype(np.float32)
    opt = Adagrad(initial_accumulator_value=0.25).bind(p, np.zeros_like(p), 5)
    state = opt.state_dict()
    assert state["sum"].dtype == np.float32 and np.all(state["sum"] == 0.25)


def test_bind_network_uses_the_flat_buffers(rng):
    class Net:  # the three attributes a Sequential exposes
        parameters = rng.standard_normal(6)
        gradients = np.ones(6)
        n_weights = 4

    net = Net()
    before = net.parameters.copy()
    SGD(lr=0.5, weight_decay=1.0).bind_network(net).step()
    expected = before - 0.5 * (1.0 + np.r_[before[:4], np.zeros(2)])
    np.testing.assert_allclose(net.parameters, expected, rtol=1e-15)


# -- get_config / from_config ------------------------------------------------------------------


@pytest.mark.parametrize("name", OPTIMIZERS.names())
def test_config_round_trip_for_every_registered_optimizer(name):
    cls = OPTIMIZERS.get(name)
    opt = cls(lr=0.03, clip_norm=2.5)
    config = opt.get_config()
    assert config["name"] == name
    assert json.loads(json.dumps(config)) == config  # JSON-serialisable
    rebuilt = Optimizer.from_config(config)  # dispatch through the registry
    assert type(rebuilt) is cls
    assert rebuilt.get_config() == config
    assert type(cls.from_config(config)) is cls


@pytest.mark.parametrize(("cls", "kwargs"), CASE_PARAMS, ids=CASE_IDS)
def test_config_keeps_every_setting(cls, kwargs):
    config = cls(**kwargs).get_config()
    for key, value in kwargs.items():
        assert config[key] == value
    rebuilt = Optimizer.from_config(config)
    assert rebuilt.get_config() == config


def test_config_reports_the_constructor_lr_not_the_scheduled_one():
    opt = Adam(lr=0.01)
    opt.lr = 0.001
    assert opt.get_config()["lr"] == 0.01


def test_from_config_errors():
    with pytest.raises(ValueError, match="needs a 'name'"):
        Optimizer.from_config({"lr": 0.1})
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'.*adam, adamw"):
        Optimizer.from_config({"name": "adamm"})
    with pytest.raises(ValueError, match="not a SGD"):
        SGD.from_config({"name": "adam"})
    with pytest.raises(TypeError, match=r"unknown key\(s\) \['betas'\]"):
        Optimizer.from_config({"name": "adam", "betas": [0.9, 0.99]})
    with pytest.raises(TypeError, match="must be a dict"):
        Optimizer.from_config("adam")


def test_registry_resolves_names_and_aliases_case_insensitively():
    from chainrule.optim.adam import AdamW

    assert OPTIMIZERS.get("AdamW") is AdamW
    assert set(OPTIMIZERS.names()) == {"sgd", "adam", "adamw", "rmsprop", "adagrad"}
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'; valid names: adagrad"):
        OPTIMIZERS.get("lbfgs")


def test_repr_shows_the_settings():
    assert repr(SGD(lr=0.1, momentum=0.9)) == (
        "SGD(lr=0.1, momentum=0.9, dampening=0.0, nesterov=False, weight_decay=0.0, clip_norm=None)"
    )


class _MyAdam(Adam):
    """A subclass defined by a user, not registered."""


class _Forgetful(SGD):
    """Does not store its constructor argument ``tag`` under its own name."""

    def __init__(self, lr=0.1, tag="x"):
        super().__init__(lr)


def test_repr_of_an_unregistered_subclass_shows_its_class_and_settings():
    assert repr(_MyAdam(lr=0.01)) == repr(Adam(lr=0.01)).replace("Adam(", "_MyAdam(", 1)
    assert repr(_Forgetful(lr=0.5)) == "_Forgetful(lr=0.5)"  # what can be shown: tag is not kept


def test_get_config_of_an_unregistered_subclass_says_how_to_register_it():
    with pytest.raises(ValueError, match=r"_MyAdam is not a registered optimizer, so a config or "
                       r"checkpoint cannot name it: register it under a name of its own, e\.g\. "
                       r"@chainrule\.optim\.OPTIMIZERS\.register\('_myadam'\)"):
        _MyAdam().get_config()
    with pytest.raises(TypeError, match=r"_Forgetful\.get_config\(\) reads each constructor "
                       r"argument back from the attribute of that name, but it has no 'tag'"):
        _Forgetful()._settings()


def test_from_config_of_an_unregistered_subclass_says_how_to_register_it(monkeypatch):
    """Not "needs a 'name'" (which only the base class needs): the class cannot be named in a
    config until it is registered; then its config round-trips."""
    from chainrule.losses import MSE

    class MyLoss(MSE):
        pass

    for cls, config, registry in ((_MyAdam, {"lr": 0.01}, "chainrule\\.optim\\.OPTIMIZERS"),
                                  (MyLoss, {}, "chainrule\\.losses\\.LOSSES")):
        with pytest.raises(ValueError, match=f"^{cls.__name__} is not a registered .*, so a "
                           f"config or checkpoint cannot name it: .*@{registry}\\.register"):
            cls.from_config(config)
    monkeypatch.setattr(OPTIMIZERS, "_entries", dict(OPTIMIZERS._entries))
    monkeypatch.setattr(OPTIMIZERS, "_canonical", dict(OPTIMIZERS._canonical))
    OPTIMIZERS.register("my_adam")(_MyAdam)
    config = _MyAdam(lr=0.01).get_config()
    assert config["name"] == "my_adam"
    assert type(_MyAdam.from_config(config)) is _MyAdam
    assert _MyAdam.from_config({"lr": 0.01}).get_config() == config


def test_load_state_dict_rejects_bad_state(rng):
    p, g = rng.standard_normal(10), rng.standard_normal(10)
    opt = Adam().bind(p, g, 10)
    opt.step()
    good = opt.state_dict()
    with pytest.raises(
        ShapeError, match=r"state\['scaled_exp_avg'\] must have shape .*\(10,\), got \(9,\)"
    ):
        opt.load_state_dict({**good, "scaled_exp_avg": np.zeros(9)})
    with pytest.raises(ValueError, match=r"dtype float64.*got float32"):
        opt.load_state_dict({**good, "scaled_exp_avg": np.zeros(10, np.float32)})
    with pytest.raises(ValueError, match=r"missing \['scaled_exp_avg_sq'\]"):
        opt.load_state_dict({k: v for k, v in good.items() if k != "scaled_exp_avg_sq"})
    with pytest.raises(ValueError, match=r"unexpected \['scaled_max_exp_avg_sq'\]"):
        opt.load_state_dict({**good, "scaled_max_exp_avg_sq": np.zeros(10)})
    with pytest.raises(ValueError, match="must be in"):
        opt.load_state_dict({**good, "step": -1})
    with pytest.raises(TypeError, match="must be a numpy array"):
        opt.load_state_dict({**good, "scaled_exp_avg": [0.0] * 10})
    with pytest.raises(TypeError, match="must be a dict"):
        opt.load_state_dict([("step", 1)])
    with pytest.raises(ValueError, match=r"state\['scaled_exp_avg'\] holds 1 NaN value"):
        opt.load_state_dict({**good, "scaled_exp_avg": np.r_[np.nan, good["scaled_exp_avg"][1:]]})
    # Nothing was changed by the failed loads.
    after = opt.state_dict()
    assert all(np.array_equal(after[k], good[k]) for k in good)


class _SignSGD(Optimizer):
    """A custom optimizer with no state arrays: p ← p − lr · sign(g)."""

    def __init__(self, lr: float = 0.5) -> None:
        super().__init__(lr)

    def _update(self, t: int) -> None:
        np.sign(self._grads, out=self._work)
        self._work *= self.lr
        self._params -= self._work


def test_a_custom_optimizer_without_state_saves_only_the_step_and_lr():
    p, g = np.array([1.0, -2.0, 3.0]), np.array([0.5, -4.0, 0.0])
    opt = _SignSGD().bind(p, g, 2)
    opt.step()
    np.testing.assert_array_equal(p, [0.5, -1.5, 3.0])
    state = opt.state_dict()
    assert state == {"step": 1, "lr": 0.5}
    fresh = _SignSGD(lr=0.1).bind(p, g, 2)
    fresh.load_state_dict(state)
    assert fresh.n_steps == 1 and fresh.lr == 0.5
    with pytest.raises(ValueError, match=r"_SignSGD state must have keys \['lr', 'step'\]; "
                                         r"missing \[\], unexpected \['momentum_buffer'\]"):
        fresh.load_state_dict({**state, "momentum_buffer": np.zeros(3)})


@pytest.mark.parametrize("make, name", [
    (lambda: Adam(), "scaled_exp_avg_sq"),
    (lambda: Adam(amsgrad=True), "scaled_max_exp_avg_sq"),
    (lambda: RMSprop(), "square_avg"),
    (lambda: Adagrad(), "sum"),
])
def test_a_negative_sum_of_squares_is_refused_and_changes_nothing(rng, make, name):
    p, g = rng.standard_normal(10), rng.standard_normal(10)
    opt = make().bind(p, g, 10)
    opt.step()
    good = opt.state_dict()
    bad = {**good, name: np.r_[-1e-30, good[name][1:]]}
    with pytest.raises(ValueError, match=rf"state\['{name}'\] must be >= 0 .*got minimum"):
        opt.load_state_dict(bad)
    assert all(np.array_equal(v, good[k]) for k, v in opt.state_dict().items() if k != "lr")
    opt.load_state_dict({**good, name: np.full(10, np.inf)})  # an overflowed moment: accepted
