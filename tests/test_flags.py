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


# ------------------------------------------------------------------------------ verbose
# ``verbose`` is a level everywhere: False/True are levels 0 and 1 (the ints they equal), so
# verbose=True and verbose=1 mean the same thing whichever class takes it.

VERBOSE = {
    "Trainer": (lambda level: cr.Trainer(cr.mlp([2, 3, 1], output="sigmoid", seed=0), "bce",
                                         verbose=level).verbose, 2),
    "Perceptron": (lambda level: cr.Perceptron(verbose=level).verbose, 1),
}


@pytest.mark.parametrize("call", VERBOSE.values(), ids=VERBOSE.keys())
def test_verbose_takes_a_bool_or_a_level_with_one_meaning(call):
    build, top = call
    quiet = [build(value) for value in (False, 0, np.bool_(False), np.int64(0))]
    said = [build(value) for value in (True, 1, np.bool_(True), np.int64(1))]
    assert quiet == [0] * 4 and said == [1] * 4
    assert all(type(level) is int for level in quiet + said)
    assert build(top) == top


@pytest.mark.parametrize(
    "value, error, message",
    [
        ("1", TypeError, r"must be True, False or an integer in \[0, {top}\], got '1' \(str\)"),
        (1.0, TypeError, r"must be True, False or an integer in \[0, {top}\], got 1.0 \(float\)"),
        (None, TypeError, r"must be True, False or an integer in \[0, {top}\], got None"),
        (-1, ValueError, r"must be in \[0, {top}\], got -1"),
        ("top + 1", ValueError, r"must be in \[0, {top}\], got {above}"),
    ],
)
@pytest.mark.parametrize("call", VERBOSE.values(), ids=VERBOSE.keys())
def test_a_verbose_that_is_no_level_is_refused(call, value, error, message):
    build, top = call
    value = top + 1 if value == "top + 1" else value
    with pytest.raises(error, match="^verbose " + message.format(top=top, above=top + 1)):
        build(value)


# ------------------------------------------------------------------------------ choices
# A named choice (mode, reduction, unit, format, layout) is a str: anything else, an array
# above all (``in`` would compare it element-wise), is refused with the argument named.

CHOICES = {
    "EarlyStopping mode": (lambda value: cr.EarlyStopping(mode=value)._tracker.mode, "mode",
                           "'auto', 'min', 'max'", "min"),
    "MSE reduction": (lambda value: cr.MSE(reduction=value).reduction, "reduction",
                      "'mean', 'sum'", "sum"),
    "ConstantLR unit": (lambda value: cr.ConstantLR(unit=value).unit, "unit",
                        "'step', 'epoch'", "step"),
    "load_california_housing layout": (
        lambda value: load_california_housing("nowhere", layout=value), "layout",
        "'auto', 'statlib', 'csv'", None),
}


@pytest.mark.parametrize(
    "value", [np.array(["min", "max"]), np.array(["sum"]), ["step"], None, 1, b"sum"],
    ids=["array", "one-element array", "list", "None", "int", "bytes"],
)
@pytest.mark.parametrize("call", CHOICES.values(), ids=CHOICES.keys())
def test_a_choice_that_is_not_a_str_is_refused_naming_the_argument(call, value):
    build, name, listed, _ = call
    with pytest.raises(TypeError, match=rf"^{name} must be one of {listed}; got "):
        build(value)


@pytest.mark.parametrize("call", [c for c in CHOICES.values() if c[3]],
                         ids=[k for k, c in CHOICES.items() if c[3]])
def test_a_numpy_str_choice_is_kept_as_the_plain_str_it_equals(call):
    build, _, _, good = call
    kept = build(np.str_(good))
    assert kept == good and type(kept) is str
