"""The acceptance figures of the real-data examples, at full size (about 40 s together).

MNIST must reach 98.0 % test accuracy within 20 epochs and California housing a test R² of
0.80 (80/20 split, seed 0, standardised features). Each skips without its files in
``../shared/data`` (or ``$CHAINRULE_DATA``): never a download.
"""

from __future__ import annotations

import json
from pathlib import Path

from chainrule.cli import main

CONFIGS = Path(__file__).resolve().parents[2] / "examples" / "configs"


def train(config: str, tmp_path: Path, data: Path, monkeypatch) -> dict[str, float]:
    monkeypatch.setenv("CHAINRULE_DATA", str(data))
    out = tmp_path / config
    assert main(["train", str(CONFIGS / f"{config}.toml"), "--quiet", "--out", str(out)]) == 0
    return json.loads((out / "metrics.json").read_text())


def test_mnist_reaches_98_percent_within_20_epochs(tmp_path, shared_dataset, monkeypatch):
    metrics = train("mnist", tmp_path, shared_dataset("mnist"), monkeypatch)
    assert metrics["epochs"] <= 20
    assert metrics["n_test"] == 10_000
    assert metrics["test"]["accuracy"] >= 0.980


def test_california_housing_reaches_r2_of_0_80(tmp_path, shared_dataset, monkeypatch):
    metrics = train("california_housing", tmp_path, shared_dataset("california_housing"),
                    monkeypatch)
    assert metrics["n_test"] == 4128  # 20 % of 20 640
    assert metrics["test"]["r2"] >= 0.80
