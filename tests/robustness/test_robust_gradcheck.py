"""Robustness of ``gradcheck``: hostile networks, losses, data and settings.

With valid arguments the check must also be *right*: every hand-written backward of a small
tanh/softmax network passes against central differences.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.errors import ShapeError
from chainrule.gradcheck import GradcheckReport, gradcheck
from chainrule.layers.builders import mlp

ROBUST = settings.get_profile("chainrule-robustness")

ARGUMENTS = {
    # argument -> names its error may use
    "net": ("net",),
    "loss": ("loss",),
    "X": ("X",),
    "y": ("y",),
    "sample_weight": ("sample_weight",),
    "eps": ("eps",),
    "rtol": ("rtol",),
    "max_checks": ("max_checks",),
    "seed": ("seed",),
}


@settings(ROBUST, max_examples=120)
@given(data=st.data())
def test_gradcheck_passes_on_valid_input_and_names_bad_arguments(robust, data):
    n = data.draw(st.integers(1, 3), label="n_samples")
    arguments = {
        "net": mlp([3, 3, 2], activation="tanh", output="softmax", seed=0),
        "loss": "cross_entropy",
        "X": data.draw(robust.moderate_arrays((n, 3), low=-2, high=2), label="X"),
        "y": data.draw(st.lists(st.integers(0, 1), min_size=n, max_size=n).map(np.array),
                       label="y"),
        "sample_weight": None,
        "eps": 1e-6,
        "rtol": 1e-5,
        "max_checks": data.draw(st.sampled_from([None, 2]), label="max_checks"),
        "seed": 0,
    }
    which = data.draw(st.sampled_from([None, *ARGUMENTS]), label="hostile argument")
    if which is not None:
        arguments[which] = data.draw(
            st.one_of(robust.hostile_inputs(),
                      robust.hostile_arrays(shape=st.sampled_from([(n,), (n, 3), (n, 2)]))),
            label=which,
        )
    net, loss, X, y = (arguments.pop(key) for key in ("net", "loss", "X", "y"))
    outcome = robust.call(
        gradcheck, net, loss, X, y, **arguments, names=ARGUMENTS.get(which, ()),
    )
    if which is None:
        assert outcome.ok, f"gradcheck rejected valid input: {outcome.error!r}"
    if not outcome.ok:
        return
    report = outcome.value
    assert isinstance(report, GradcheckReport)
    assert [c.name for c in report] == ["0.W", "0.b", "2.W", "2.b"]
    assert np.isfinite(report.loss) or which in ("X", "sample_weight")
    if which in (None, "seed"):
        # A correct backward never fails. It passes, unless the finite differences are blind
        # to an array (gradients far below their own error, as with X of order 1e-162): that
        # array is unresolved and the report inconclusive, which the report says.
        robust.expect(not any(c.failed for c in report), f"a correct backward failed:\n{report}")
        robust.expect(report.passed or report.inconclusive and any(c.unresolved for c in report),
                      f"a correct backward did not pass gradcheck:\n{report}")
    if which == "X":
        assert robust.is_clean_real(X, ndim=(2,)) and robust.as_array(X).shape[1] == 3
    if which == "eps":
        assert robust.in_range(arguments["eps"], low=0, low_open=True)


def test_gradcheck_leaves_the_network_alone(robust):
    net = mlp([3, 3, 2], activation="tanh", output="softmax", seed=0)
    before = net.parameters.copy()
    outcome = robust.call(gradcheck, net, "cross_entropy", np.ones((2, 3)), np.array([0, 1]))
    assert outcome.value.passed and np.array_equal(net.parameters, before)


# ------------------------------------------------------------- fixed bugs (regression tests)


def test_bug_b15_gradcheck_huge_x(robust):
    # X ~1e300 overflows the finite differences: a report (failing, not a warning)
    net = mlp([2, 3, 1], output="sigmoid", seed=0)
    outcome = robust.call(gradcheck, net, "binary_cross_entropy", np.full((8, 2), 1e300),
                          np.array([0, 1] * 4), names=("X",))
    assert isinstance(outcome.value, GradcheckReport)
    assert [c.name for c in outcome.value] == ["0.W", "0.b", "2.W", "2.b"]


def test_bug_b01_gradcheck_huge_int_eps(robust):
    net = mlp([2, 1], seed=0)
    robust.rejects(gradcheck, net, "mse", np.ones((2, 2)), np.zeros(2), eps=10**400,
                   names=("eps",))


def test_bug_b32_gradcheck_false_failure_for_tiny_gradients(robust):
    net = mlp([3, 3, 2], activation="tanh", output="softmax", seed=0)
    outcome = robust.call(gradcheck, net, "cross_entropy", np.full((1, 3), 1.2e-7),
                          np.array([0]))
    assert outcome.value.passed, str(outcome.value)


def test_bug_b41_gradcheck_sample_mismatch_message(robust):
    net = mlp([3, 3, 2], activation="tanh", output="softmax", seed=0)
    robust.rejects(gradcheck, net, "cross_entropy", np.zeros((2, 3)), np.array([0]),
                   names=("X",), error=ShapeError)


def test_targets_the_loss_refuses_are_named_y_with_the_networks_outputs():
    # The loss's messages name y_true and y_pred; gradcheck's caller gave y, and no y_pred
    net = mlp([2, 3], output="softmax", seed=0)
    X = np.random.default_rng(0).normal(size=(4, 2))
    cases = [
        ("cross_entropy", np.array([0, 1, 5, 1]), ValueError,
         (r"^y must hold class labels in \[0, 3\) \(n_classes=3\), got values in \[0, 5\]; "
          r"the network has 3 outputs$")),
        ("mse", np.zeros((4, 2)), ShapeError,
         (r"^MSE expects y of shape \(4, 3\) like the predictions \(n_samples, n_outputs\), "
          r"got \(4, 2\); the network has 3 outputs$")),
    ]
    for loss, y, error, message in cases:
        with pytest.raises(error, match=message):
            gradcheck(net, loss, X, y)
    with pytest.raises(ValueError, match=r"^BinaryCrossEntropy expects y in \[0, 1\], got values "
                       r"in \[0.0, 2.0\]; the network has 1 output$"):
        gradcheck(mlp([2, 1], output="sigmoid", seed=0), "binary_cross_entropy", X,
                  np.array([0, 1, 2, 1]))
