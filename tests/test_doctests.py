"""Every docstring example in the package runs and prints what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import numpy as np
import pytest

import chainrule

MODULES = sorted(info.name for info in pkgutil.walk_packages(chainrule.__path__, "chainrule.")
                 if not info.name.endswith("__main__"))  # __main__ runs the command line


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:  # an optional dependency (scikit-learn, matplotlib)
        if exc.name.split(".")[0] == "chainrule":
            raise
        pytest.skip(f"{name} needs {exc.name}")
    result = doctest.testmod(module, extraglobs={"np": np}, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
