"""What explain costs by default: a bounded number of finite differences per array."""

from __future__ import annotations

import inspect

import numpy as np

from chainrule.cli import build_parser
from chainrule.explain import DEFAULT_MAX_CHECKS, explain
from chainrule.layers.builders import mlp


def _many_parameters():
    """A 30-40-5 network (1,445 parameters) and a batch of 2 labelled samples."""
    rng = np.random.default_rng(0)
    net = mlp([30, 40, 5], activation="relu", output="softmax", seed=0)
    return net, rng.normal(size=(2, 30)), np.array([1, 3])


def test_the_default_checks_at_most_default_max_checks_entries_per_array():
    net, X, y = _many_parameters()
    explanation = net.explain(X, y, "cross_entropy")
    checked = [t for t in explanation.terms if t.check is not None]
    assert {t.parameter for t in checked} == {"0.W", "0.b", "2.W", "2.b", "X"}
    for term in checked:
        assert term.check.n_checked == min(term.value.size, DEFAULT_MAX_CHECKS), term.name
    probed = sum(t.check.n_checked for t in checked)
    entries = sum(t.value.size for t in checked)
    assert probed < entries
    assert f"({probed} of their {entries} entries, at random)" in explanation.footer[0]


def test_max_checks_none_still_checks_every_entry():
    net, X, y = _many_parameters()
    explanation = explain(net, X, y, "cross_entropy", max_checks=None)
    for term in (t for t in explanation.terms if t.check is not None):
        assert term.check.n_checked == term.value.size, term.name
    assert "at random" not in explanation.footer[0]


def test_the_api_and_the_commands_share_one_default():
    assert inspect.signature(explain).parameters["max_checks"].default == DEFAULT_MAX_CHECKS
    parser = build_parser()
    for command in ("explain", "gradcheck"):
        assert parser.parse_args([command]).max_checks == DEFAULT_MAX_CHECKS
