"""gradcheck at the kinks of ReLU-like layers: measured one-sided, or reported as not comparable.

A central difference whose two points fall on both sides of a ReLU kink averages two slopes and
differs from a correct backward; gradcheck must not call that a failure, and must still catch a
wrong backward there and everywhere else. The README's Python example and the CLI example of
``chainrule gradcheck --help`` are such cases (zero-initialised biases).
"""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import numpy as np
import pytest

from _gradcheck_cases import WrongBiasDense, network
from chainrule.cli import main
from chainrule.gradcheck import gradcheck
from chainrule.layers.activations import ReLU
from chainrule.layers.base import Layer
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential

REPO_ROOT = Path(__file__).resolve().parents[1]


def bias_at_a_kink(cls=Dense, first=Dense):
    """Dense → ReLU → Dense (zero bias) → ReLU → Dense, MSE, two samples.

    Sample 0 turns the first ReLU off (Z1 = −1), so the second Dense gives it Z2 = 0 · W2 + 0 =
    0 exactly: the kink of ReLU #3. Perturbing b2 moves that Z2 to ±eps, across the kink, on
    the plus side only (Z2 = t).
    """
    net = network(
        [first(1, 1), ReLU(), cls(1, 1), ReLU(), Dense(1, 1)],
        {"0.W": [[1.0]], "0.b": [0.0], "2.W": [[1.0]], "2.b": [0.0], "4.W": [[2.0]],
         "4.b": [0.5]},
    )
    return net, "mse", np.array([[-1.0], [2.0]]), np.array([[1.0], [0.0]])


def both_sides_at_a_kink(cls=Dense):
    """Dense(2 → 1, W = [1, 1], b = 0) → ReLU → Dense, MSE, three samples.

    Samples 0 and 1 ([1, −1] and [−1, 1]) give Z1 = 0 exactly. Perturbing W1[0] moves sample
    0's Z1 to +t and sample 1's to −t: one input crosses the kink for +eps, the other for
    −eps, so no finite difference of J sees backward's slope. Perturbing b1 moves both to +t
    (plus side only). Sample 2 ([1, 1], Z1 = 2) is away from the kink.
    """
    net = network(
        [Dense(2, 1), ReLU(), cls(1, 1)],
        {"0.W": [[1.0], [1.0]], "0.b": [0.0], "2.W": [[2.0]], "2.b": [0.5]},
    )
    X = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]])
    return net, "mse", X, np.array([[3.0], [1.0], [0.0]])


def central_difference(net, loss, X, y, name, eps=1e-6):
    """The plain central difference of J for every entry of parameter ``name``."""
    from chainrule.objective import Objective

    objective = Objective(net, loss)
    param = {n: p for n, p, _ in net.named_parameters()}[name].reshape(-1)
    result = np.empty(param.size)
    for j in range(param.size):
        original = param[j]
        param[j] = original + eps
        plus = objective.value(X, y, training=True)
        param[j] = original - eps
        minus = objective.value(X, y, training=True)
        param[j] = original
        result[j] = (plus - minus) / (2 * eps)
    return result


def test_a_bias_whose_central_difference_crosses_a_kink_no_longer_fails():
    net, loss, X, y = bias_at_a_kink()
    report = gradcheck(net, loss, X, y, check_input=True)
    b2 = report["2.b"]
    # the set-up really is at the kink: sample 0 adds slope 0 for t < 0 and, with output
    # 2t + 0.5 and target 1, 2 · (0.5 − 1) · 2 / 2 = −1 for t > 0 (MSE's mean over 2 samples);
    # the central difference averages the two, half the jump away from backward's 0
    central = central_difference(net, loss, X, y, "2.b")
    assert central[0] - b2.analytic[0] == pytest.approx(-0.5, abs=1e-5)
    # ... and gradcheck measures on the side without the kink instead, where they agree
    assert b2.passed and b2.n_one_sided == 1 and b2.n_kinks == 0
    assert b2.one_sided.tolist() == [True]
    assert b2.kink_layers == ("ReLU #3",)
    np.testing.assert_allclose(b2.numeric, b2.analytic, rtol=1e-8)
    assert b2.relative_error < 1e-8
    assert report.passed and report.n_one_sided >= 1 and report.n_kinks == 0
    text = str(report)
    assert re.search(r"^2\.b .* ok, 1 one-sided$", text, flags=re.MULTILINE), text
    assert "gradcheck passed" in text and "; at kinks: 1 one-sided, 0 not comparable" in text
    assert "moves an input of ReLU #3 across its kink at 0" in text
    assert "compared with second-order one-sided differences" in text


@pytest.mark.parametrize(
    "case, wrong",
    [
        (lambda: bias_at_a_kink(cls=WrongBiasDense), "2.b"),  # the wrong entry is at the kink
        (lambda: bias_at_a_kink(first=WrongBiasDense), "0.b"),  # a kink elsewhere
        (lambda: both_sides_at_a_kink(cls=WrongBiasDense), "2.b"),  # entries left out elsewhere
    ],
    ids=["wrong-entry-at-the-kink", "kink-elsewhere", "not-comparable-entries-elsewhere"],
)
def test_a_wrong_gradient_still_fails_when_kinks_are_present(case, wrong):
    net, loss, X, y = case()
    report = gradcheck(net, loss, X, y)
    assert report.n_one_sided + report.n_kinks > 0, "the case must involve a kink"
    assert not report[wrong].passed
    assert report[wrong].relative_error > 0.1
    assert not report.passed
    assert "gradcheck FAILED" in str(report)
    assert re.search(rf"^{re.escape(wrong)} .* FAIL", str(report), flags=re.MULTILINE)


def test_entries_crossing_a_kink_on_both_sides_are_not_comparable_instead_of_failing():
    net, loss, X, y = both_sides_at_a_kink()
    report = gradcheck(net, loss, X, y)
    W1 = report["0.W"]
    central = central_difference(net, loss, X, y, "0.W")
    assert np.all(np.abs(central - W1.analytic) > 0.1)  # the old check failed these
    assert W1.n_kinks == 2 and W1.n_compared == 0 and W1.kink.tolist() == [True, True]
    assert W1.passed and W1.verdict() == "kink: not comparable (2 of 2)"
    assert W1.kink_layers == ("ReLU #1",)
    b1 = report["0.b"]
    assert b1.n_one_sided == 1 and b1.passed  # pushed the same way: measured one-sided
    assert report.passed and report.n_kinks == 2 and not report.inconclusive
    text = str(report)
    assert re.search(r"^0\.W +\(2, 1\) +2 +- +- +- +kink: not comparable \(2 of 2\)$", text,
                     flags=re.MULTILINE), text
    assert "kink: not comparable: 2 entries (0.W: 2) cross a kink on both sides" in text
    assert "left out, not failed" in text
    assert "gradcheck passed: 3/3" in text  # 0.W, with nothing compared, is not counted
    assert "; at kinks: 1 one-sided, 2 not comparable" in text


def test_a_check_where_nothing_can_be_compared_is_inconclusive():
    # Z = X W with W = 0 is 0 for every sample; perturbing W[0, k] moves sample 0's Z up and
    # sample 1's down: every entry crosses the kink on both sides
    net = network([Dense(1, 2, bias=False), ReLU()], {"0.W": [[0.0, 0.0]]})
    report = gradcheck(net, "mse", np.array([[1.0], [-1.0]]), np.ones((2, 2)))
    assert report.n_kinks == 2 and report.n_compared == 0
    assert report.inconclusive and not report.passed
    assert "gradcheck inconclusive: 0/0" in str(report)


def test_entries_away_from_kinks_are_checked_as_before():
    rng = np.random.default_rng(0)
    net = Sequential([Dense(3, 4), ReLU(), Dense(4, 2)], dtype=np.float64, seed=0)
    net.parameters[...] = rng.normal(size=net.parameters.shape)  # random biases: no exact zeros
    report = gradcheck(net, "mse", rng.normal(size=(5, 3)), rng.normal(size=(5, 2)),
                       check_input=True)
    assert report.passed and report.n_one_sided == 0 and report.n_kinks == 0
    assert "Kinks" not in str(report) and "one-sided" not in str(report)
    for comparison in report:
        assert not comparison.one_sided.any() and not comparison.kink.any()
        assert comparison.relative_error < 1e-7


def test_a_forward_that_is_not_deterministic_is_refused():
    class Noise(Layer):
        def __init__(self):
            super().__init__()
            self.rng = np.random.default_rng(0)

        def forward(self, X, training=False):
            return X + self.rng.normal(size=X.shape) if training else X

        def backward(self, dY):
            return dY

    net = Sequential([Dense(2, 1), Noise()], dtype=np.float64, seed=0)
    with pytest.raises(RuntimeError, match=r"forward is not deterministic in training mode"):
        gradcheck(net, "mse", np.ones((3, 2)), np.zeros((3, 1)))


@pytest.mark.parametrize("extra", [[], ["--samples", "16"]])
def test_the_documented_cli_example_passes(extra, capsys):
    config = str(REPO_ROOT / "examples" / "configs" / "two_circles.toml")
    assert main(["gradcheck", config, *extra]) == 0
    out = capsys.readouterr().out
    assert "gradcheck passed" in out
    assert re.search(r"^2\.b .* ok, 3 one-sided$", out, flags=re.MULTILINE), out
    assert "FAIL" not in out


def readme_python_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## In Python", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.DOTALL).group(1)


def test_the_readme_python_example_prints_what_its_comments_say(tmp_path, monkeypatch, capsys):
    code = readme_python_example()
    script = tmp_path / "readme_example.py"
    script.write_text(code, encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # it writes circles.safetensors
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "gradcheck passed" in out and "FAIL" not in out
    assert "ok, 3 one-sided" in code and re.search(r"^2\.b .* ok, 3 one-sided$", out,
                                                    flags=re.MULTILINE), out
    claimed = re.search(r"# \{'loss': \.\.\., 'accuracy': ([0-9.]+)\}", code).group(1)
    printed = re.search(r"\{'loss': [0-9.e-]+, 'accuracy': ([0-9.]+)\}", out).group(1)
    assert float(printed) == float(claimed)
    assert (tmp_path / "circles.safetensors").is_file()
