"""Bad settings and buffers raise ValueError/TypeError (or subclasses) saying what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.errors import NotBuiltError, ShapeError
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.base import OPTIMIZERS
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.sgd import SGD


@pytest.mark.parametrize(
    ("cls", "kwargs", "error", "message"),
    [
        (SGD, {"lr": -0.1}, ValueError, r"lr must be in \(0, inf\), got -0.1"),
        (Adam, {"lr": 0.0}, ValueError, r"lr must be in \(0, inf\), got 0.0"),
        (Adam, {"lr": "0.1"}, TypeError, "lr must be a real number, got '0.1'"),
        (Adam, {"lr": float("nan")}, ValueError, "lr must be finite"),
        (Adam, {"beta1": 1.0}, ValueError, r"beta1 must be in \[0, 1\), got 1.0"),
        (AdamW, {"beta2": -0.1}, ValueError, r"beta2 must be in \[0, 1\), got -0.1"),
        (Adam, {"eps": 0.0}, ValueError, r"eps must be in \(0, inf\)"),
        (Adam, {"amsgrad": 1}, TypeError, "amsgrad must be True or False, got 1"),
        (Adam, {"weight_decay": -1e-4}, ValueError, r"weight_decay must be in \[0, inf\)"),
        (SGD, {"clip_norm": 0.0}, ValueError, r"clip_norm must be in \(0, inf\), got 0.0"),
        (RMSprop, {"clip_norm": -1}, ValueError, r"clip_norm must be in \(0, inf\)"),
        (Adagrad, {"clip_norm": "big"}, TypeError, "clip_norm must be a real number"),
        (SGD, {"momentum": 1.0}, ValueError, r"momentum must be in \[0, 1\)"),
        (SGD, {"dampening": 1.5}, ValueError, r"dampening must be in \[0, 1\]"),
        (SGD, {"nesterov": True}, ValueError, "nesterov=True needs momentum > 0"),
        (SGD, {"nesterov": True, "momentum": 0.9, "dampening": 0.1}, ValueError, "dampening == 0"),
        (RMSprop, {"rho": 1.0}, ValueError, r"rho must be in \[0, 1\)"),
        (RMSprop, {"centered": "yes"}, TypeError, "centered must be True or False"),
        (Adagrad, {"lr_decay": -1.0}, ValueError, r"lr_decay must be in \[0, inf\)"),
        (
            Adagrad,
            {"initial_accumulator_value": -1.0},
            ValueError,
            "initial_accumulator_value must be in",
        ),
    ],
)
def test_bad_settings(cls, kwargs, error, message):
    with pytest.raises(error, match=message):
        cls(**kwargs)


def test_lr_setter_validates_but_accepts_zero():
    opt = SGD()
    opt.lr = 0.0  # a cosine schedule anneals to 0
    assert opt.lr == 0.0
    with pytest.raises(ValueError, match=r"lr must be in \[0, inf\), got -1.0"):
        opt.lr = -1.0
    with pytest.raises(TypeError, match="lr must be a real number"):
        opt.lr = None


@pytest.mark.parametrize("name", OPTIMIZERS.names())
@pytest.mark.parametrize("method", ["step", "state_dict"])
def test_use_before_bind(name, method):
    opt = OPTIMIZERS.get(name)()
    assert not opt.bound
    with pytest.raises(NotBuiltError, match=rf"{method}\(\) needs buffers: call bind"):
        getattr(opt, method)()


def test_load_state_dict_before_bind():
    with pytest.raises(NotBuiltError, match="call bind"):
        Adam().load_state_dict({"step": 0, "lr": 0.1})


@pytest.mark.parametrize(
    ("parameters", "gradients", "n_weights", "error", "message"),
    [
        (
            np.zeros(5),
            np.zeros(4),
            5,
            ShapeError,
            r"gradients must have the shape of parameters, \(5,\), got \(4,\)",
        ),
        (
            np.zeros(5),
            np.zeros(5, np.float32),
            5,
            TypeError,
            r"gradients must have the dtype of parameters \(float64\), got float32",
        ),
        (
            np.zeros((2, 3)),
            np.zeros((2, 3)),
            6,
            ShapeError,
            r"parameters must be 1-D of shape \(n_params,\), got shape \(2, 3\)",
        ),
        (
            np.zeros(5, np.int64),
            np.zeros(5, np.int64),
            5,
            TypeError,
            "parameters must be float32 or float64, got dtype int64",
        ),
        ([0.0, 1.0], np.zeros(2), 2, TypeError, "parameters must be a numpy array, got list"),
        (np.zeros(10)[::2], np.zeros(5), 5, ValueError, "parameters must be C-contiguous"),
        (np.zeros(5), np.zeros(5), 6, ValueError, r"n_weights must be in \[0, 5\], got 6"),
        (np.zeros(5), np.zeros(5), -1, ValueError, r"n_weights must be in \[0, 5\], got -1"),
        (np.zeros(5), np.zeros(5), 2.5, TypeError, "n_weights must be an integer"),
    ],
)
def test_bad_buffers(parameters, gradients, n_weights, error, message):
    with pytest.raises(error, match=message):
        Adam().bind(parameters, gradients, n_weights)


def test_overlapping_or_read_only_buffers():
    buffer = np.zeros(10)
    with pytest.raises(ValueError, match="separate buffers"):
        SGD().bind(buffer, buffer, 10)
    with pytest.raises(ValueError, match="separate buffers"):
        SGD().bind(buffer[:6], buffer[4:], 6)
    frozen = np.zeros(4)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="parameters must be writeable"):
        SGD().bind(frozen, np.zeros(4), 4)
    with pytest.raises(ValueError, match="gradients must be writeable when clip_norm"):
        SGD(clip_norm=1.0).bind(np.zeros(4), frozen, 4)
    SGD().bind(np.zeros(4), frozen, 4).step()  # read-only gradients are fine without clipping


def test_bind_network_needs_a_network():
    with pytest.raises(TypeError, match="bind_network expects a network .* got dict"):
        SGD().bind_network({"parameters": np.zeros(3)})


@pytest.mark.parametrize("make", [lambda: Adam(eps=1e-50), lambda: RMSprop(eps=1e-50),
                                  lambda: Adagrad(eps=1e-50)], ids=["adam", "rmsprop", "adagrad"])
def test_an_eps_that_is_zero_in_the_parameters_dtype_is_refused(make):
    p32, g32 = np.zeros(3, np.float32), np.zeros(3, np.float32)
    with pytest.raises(ValueError, match=r"^eps=1e-50 is 0 in float32 arithmetic \(the "
                                         r"parameters' dtype\), so a zero gradient would give "
                                         r"0/0; use eps >= 1\.4013e-45$"):
        make().bind(p32, g32, 3)
    make().bind(np.zeros(3), np.zeros(3), 3).step()  # float64 holds it
