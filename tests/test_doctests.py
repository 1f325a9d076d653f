"""Every docstring example in the package runs and prints what it shows; every layer and loss
documents its shapes with named dimensions."""

from __future__ import annotations

import doctest
import importlib
import inspect
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


def _registered(registry):
    return sorted({registry.get(name) for name in registry.names()}, key=lambda cls: cls.__name__)


@pytest.mark.parametrize("cls", _registered(chainrule.layers.LAYERS), ids=lambda cls: cls.__name__)
def test_every_layer_documents_its_shapes_and_shows_one(cls):
    # the conventions: shapes with named dimensions, and an example that shows a shape
    doc = inspect.getdoc(cls)
    assert "Shape" in doc and "n_samples" in doc, cls.__name__
    assert ">>>" in doc and ("array([[" in doc or ".shape" in doc), cls.__name__


@pytest.mark.parametrize("cls", _registered(chainrule.losses.LOSSES), ids=lambda cls: cls.__name__)
def test_every_loss_documents_its_shapes(cls):
    doc = inspect.getdoc(cls)
    assert "Shape" in doc and "n_samples" in doc, cls.__name__
    if cls.__module__ == "chainrule.losses":  # the library's own: an example with its gradient
        assert ">>>" in doc and ".backward()" in doc and "array([[" in doc, cls.__name__


def test_the_activations_forward_and_backward_have_docstrings():
    from chainrule.layers.activations import ACTIVATIONS, _Elementwise

    assert _Elementwise.forward.__doc__ and "n_samples" in _Elementwise.forward.__doc__
    for cls in _registered(ACTIVATIONS):  # their own, not only Layer's generic one
        assert "backward" in vars(cls) and "n_samples" in (cls.backward.__doc__ or ""), cls
