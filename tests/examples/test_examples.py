"""Every example runs, on reduced sizes (the README's table has the full-size results)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from chainrule.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REAL_DATA = {"mnist", "fashion_mnist", "mnist_tanh", "california_housing"}


def script(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("config", sorted(p.stem for p in (EXAMPLES / "configs").glob("*.toml")))
def test_config_examples_train_on_reduced_sizes(config, tmp_path, request, monkeypatch):
    if config in REAL_DATA:
        data = request.getfixturevalue("shared_data")
        monkeypatch.setenv("CHAINRULE_DATA", str(data))
    out = tmp_path / config
    argv = ["train", str(EXAMPLES / "configs" / f"{config}.toml"), "--quiet", "--out", str(out),
            "--set", "training.epochs=2", "--set", "data.limit=600"]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())["test"]
    assert metrics["loss"] >= 0


def test_perceptron_example(capsys):
    result = script("perceptron_blobs").main(["--epochs", "20"])
    assert 0.5 <= result["accuracy"] <= 1.0
    assert "tutorial: 0.84" in capsys.readouterr().out


def test_toy_network_example_approaches_the_targets_entropy():
    result = script("toy_network").main(["--epochs", "300", "--quiet"])
    assert result["entropy"] <= result["loss"] < result["entropy"] + 0.05


def test_toy_network_docstring_says_what_it_prints(capsys):
    module = script("toy_network")
    doc = " ".join(module.__doc__.split())
    assert "prints the weights before and after" not in doc
    assert "architecture before training (``net.summary()``" in doc
    module.main(["--epochs", "1"])
    out = capsys.readouterr().out
    before, after = out.split("Dense #0:", 1)
    assert "parameters" in before and "W (2, 2)" not in before  # summary: no weights
    assert "W (2, 2)" in after  # info(): the weights after training
