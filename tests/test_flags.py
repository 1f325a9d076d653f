"""Flags are True or False: a string or a number is refused where a public function takes a
flag, as ``check_bool`` does, instead of being read by truthiness (``bool("no")`` is True)."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import datasets, io
from chainrule.datasets.california import load_california_housing


@pytest.fixture
def objective():
    return cr.Objective(cr.mlp([3, 2, 1], seed=0, dtype=np.float64), "mse")


X, Y = np.ones((4, 3)), np.zeros(4)

CALLS = {
    "batches shuffle": (lambda _, flag: cr.batches(X, batch_size=1, shuffle=flag, seed=0),
                        "shuffle"),
    "batches reuse_buffers": (lambda _, flag: cr.batches(X, batch_size=1, reuse_buffers=flag),
                              "reuse_buffers"),
    "Objective.value training": (lambda o, flag: o.value(X, Y, training=flag), "training"),
    "Objective.value prepared": (lambda o, flag: o.value(X, Y, prepared=flag), "prepared"),
    "value_and_gradients input_grad": (
        lambda o, flag: o.value_and_gradients(X, Y, input_grad=flag), "input_grad"),
    "value_and_gradients prepared": (
        lambda o, flag: o.value_and_gradients(X, Y, prepared=flag), "prepared"),
    "gradcheck check_input": (
        lambda o, flag: cr.gradcheck(o.net, "mse", X, Y, check_input=flag), "check_input"),
    "load check_finite": (lambda _, flag: io.load("model.safetensors", check_finite=flag),
                          "check_finite"),
    "load_mnist download": (lambda _, flag: datasets.load_mnist("nowhere", download=flag),
                            "download"),
    "load_mnist normalize": (lambda _, flag: datasets.load_mnist("nowhere", normalize=flag),
                             "normalize"),
    "load_california_housing derived": (
        lambda _, flag: load_california_housing("nowhere", derived=flag), "derived"),
}


@pytest.mark.parametrize("flag", ["no", "False", 0, 1.0, None])
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_flag_that_is_not_a_bool_is_refused(objective, call, flag, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # (the file and data paths above do not exist: no I/O happens)
    function, name = call
    with pytest.raises(TypeError, match=rf"^{name} must be True or False, got {flag!r}"):
        function(objective, flag)


def test_numpy_bools_are_flags(objective):
    assert objective.value(X, Y, training=np.bool_(False)) == objective.value(X, Y)


def test_a_base_url_that_is_not_a_string_is_refused(tmp_path):
    with pytest.raises(TypeError, match=r"^base_url must be a URL \(str\) or None, got int"):
        datasets.download("mnist", tmp_path, base_url=3)
