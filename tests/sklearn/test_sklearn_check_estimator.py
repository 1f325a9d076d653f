"""scikit-learn's own conformance suite, ``check_estimator``, on the three estimators.

The checks run in a subprocess so that ``SCIPY_ARRAY_API=1`` can be set before SciPy is
imported (without it scikit-learn skips its array-API check), with RuntimeWarnings turned into
errors as in this test suite. Every check must pass; the only skips accepted are the ones that
cannot apply, each listed below with its reason.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("sklearn")

SCRIPT = r"""
import json, warnings
warnings.simplefilter("error", RuntimeWarning)
from sklearn.utils.estimator_checks import check_estimator
from chainrule.sklearn import MLPClassifier, MLPRegressor, Perceptron

report = {}
for estimator in (MLPClassifier(), MLPRegressor(), Perceptron()):
    results = check_estimator(estimator, on_fail=None, on_skip=None)
    report[type(estimator).__name__] = [
        {"check": r["check_name"], "status": r["status"],
         "exception": "" if r["exception"] is None else repr(r["exception"])[:3000]}
        for r in results
    ]
print(json.dumps(report))
"""

#: Checks that cannot apply, with why. (check name, estimator) -> reason.
CANNOT_APPLY = {
    ("check_classifiers_multilabel_output_format_decision_function", "MLPClassifier"): (
        "MLPClassifier has no decision_function (scikit-learn's has none either); its "
        "scores are predict_proba, which the companion check tests"
    ),
}

#: Checks that need pandas; they skip themselves when it is not installed (it is not a
#: dependency of chainrule or of its test extra).
NEEDS_PANDAS = {
    "check_sample_weights_pandas_series",
    "check_classifier_data_not_an_array",
    "check_regressor_data_not_an_array",
}


@pytest.fixture(scope="module")
def report() -> dict[str, list[dict[str, str]]]:
    # The checks fit estimators that warn (ConvergenceWarning) by design: a user's
    # PYTHONWARNINGS=error would make them fail for it, not for chainrule.
    env = {**{k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"},
           "SCIPY_ARRAY_API": "1"}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-5000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["MLPClassifier", "MLPRegressor", "Perceptron"])
def test_check_estimator_passes(report, name):
    results = report[name]
    assert len(results) > 40  # the whole suite ran, not an early exit
    pandas_missing = importlib.util.find_spec("pandas") is None
    problems = []
    for result in results:
        check, status = result["check"], result["status"]
        if status == "passed":
            continue
        if status == "skipped" and (check, name) in CANNOT_APPLY:
            continue
        if status == "skipped" and check in NEEDS_PANDAS and pandas_missing:
            assert "pandas" in result["exception"]
            continue
        problems.append(f"{check}: {status} {result['exception']}")
    assert not problems, "\n".join(problems)
