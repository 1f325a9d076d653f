"""The register of known bugs (``OPEN_BUGS`` in ``conftest.py``) agrees with the test files.

Every open bug has at least one case marked ``xfail(strict=True, reason="BUG Bnn: ...")``; every
such case and every tolerance ``known=[("Bnn", ...)]`` refers to an open bug. So closing a bug
means deleting its entry *and* its xfail marks and tolerances, and forgetting one of them fails
here instead of hiding a regression.
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).parent
XFAIL_REASON = re.compile(r"BUG (B\d+):")
TOLERANCE = re.compile(r"\(\"(B\d+)\",")


def _sources() -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8")
            for path in sorted(HERE.glob("test_robust_*.py")) if path.name != Path(__file__).name}


def test_every_open_bug_has_a_failing_case(robust):
    marked = {bug for text in _sources().values() for bug in XFAIL_REASON.findall(text)}
    missing = sorted(set(robust.open_bugs) - marked)
    assert not missing, (
        f"open bugs without an xfail case (fixed? remove them from OPEN_BUGS): {missing}")


def test_every_reference_is_to_an_open_bug(robust):
    for name, text in _sources().items():
        referenced = set(XFAIL_REASON.findall(text)) | set(TOLERANCE.findall(text))
        closed = sorted(referenced - set(robust.open_bugs))
        assert not closed, f"{name} refers to bugs not in OPEN_BUGS: {closed}"


def test_the_xfail_cases_are_strict():
    for name, text in _sources().items():
        for match in re.finditer(r"xfail\(([^)]*)", text):
            assert "strict=True" in match.group(1), f"{name}: a non-strict xfail: {match.group(0)}"
