"""The chainrule command: every subcommand through ``main(argv)``."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import tomllib

import numpy as np
import pytest

from chainrule.cli import main


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """One full run of the built-in default (the README's main job), shared by the tests."""
    out = tmp_path_factory.mktemp("runs") / "default"
    assert main(["train", "--out", str(out), "--quiet"]) == 0
    return out


def test_the_default_run_trains_the_digits_to_95_percent(default_run):
    metrics = json.loads((default_run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.95
    assert metrics["n_test"] == 360  # 20% of the 1797 digits
    for name in ("model.safetensors", "history.csv", "config.toml", "metrics.json"):
        assert (default_run / name).is_file(), name


def test_the_run_folder_holds_the_config_actually_used_and_the_history(default_run):
    config = tomllib.loads((default_run / "config.toml").read_text())
    assert config["data"]["dataset"] == "digits"
    assert config["training"]["epochs"] == 40
    with open(default_run / "history.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 40
    assert {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"} <= set(rows[0])
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])


def test_train_prints_the_test_metrics_and_the_folder(tmp_path, capsys):
    code = main(["train", "--set", "training.epochs=2", "--set", "model.hidden=[16]",
                 "--out", str(tmp_path / "run"), "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "test: loss" in out and "accuracy" in out
    assert f"run folder: {tmp_path / 'run'}" in out


def test_train_from_a_config_file_with_the_tutorial_architecture(tmp_path, capsys):
    config = tmp_path / "circles.toml"
    config.write_text(
        """
[data]
dataset = "circles"
options = { n_samples = 400, noise = 0.1, factor = 0.5 }
preprocess = "none"

[model]
layers = [
  { input_dim = 2, output_dim = 4, activation = "relu" },
  { input_dim = 4, output_dim = 3, activation = "relu" },
  { input_dim = 3, output_dim = 1, activation = "sigmoid" },
]

[optimizer]
name = "adam"
lr = 0.01

[training]
epochs = 3
verbose = 0
"""
    )
    assert main(["train", str(config), "--out", str(tmp_path / "run")]) == 0
    assert main(["summary", str(tmp_path / "run" / "model.safetensors")]) == 0
    summary = capsys.readouterr().out
    assert "Dense(2 → 4" in summary and "Sigmoid()" in summary


def test_evaluate_on_the_runs_own_test_split(default_run, capsys):
    code = main(["evaluate", str(default_run / "model.safetensors"),
                 "--config", str(default_run / "config.toml")])
    out = capsys.readouterr().out
    assert code == 0
    accuracy = float(out.split("accuracy")[1].split()[0])
    expected = json.loads((default_run / "metrics.json").read_text())["test"]["accuracy"]
    assert accuracy == pytest.approx(expected, abs=1e-4)


def test_evaluate_on_a_dataset_name_and_on_a_csv(default_run, tmp_path, capsys):
    assert main(["evaluate", str(default_run / "model.safetensors"), "--data", "digits"]) == 0
    from chainrule.datasets import load_digits

    X, y = load_digits()
    path = tmp_path / "digits.csv"
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([f"p{i}" for i in range(64)] + ["label"])
        writer.writerows(np.column_stack([X, y]).astype(int).tolist())
    capsys.readouterr()
    assert main(["evaluate", str(default_run / "model.safetensors"), "--data", str(path),
                 "--target", "label"]) == 0
    assert "(1797 samples)" in capsys.readouterr().out


def test_predict_csv_and_npy(default_run, tmp_path):
    from chainrule.datasets import load_digits
    from chainrule.io import load

    X, _ = load_digits()
    model = str(default_run / "model.safetensors")
    np.save(tmp_path / "X.npy", X[:10])
    assert main(["predict", model, str(tmp_path / "X.npy"), "-o", str(tmp_path / "p.npy"),
                 "--proba"]) == 0
    probabilities = np.load(tmp_path / "p.npy")
    np.testing.assert_array_equal(probabilities, load(model).forward(X[:10]))
    np.savetxt(tmp_path / "X.csv", X[:10], delimiter=",")
    assert main(["predict", model, str(tmp_path / "X.csv"), "-o", str(tmp_path / "p.csv")]) == 0
    with open(tmp_path / "p.csv") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["class"]
    assert [int(r[0]) for r in rows[1:]] == probabilities.argmax(axis=1).tolist()


def test_gradcheck_passes_on_the_default_network(capsys):
    assert main(["gradcheck", "--samples", "4", "--max-checks", "5"]) == 0
    out = capsys.readouterr().out
    assert "gradcheck passed" in out and "1.W" in out and "X" in out


def test_datasets_list_and_download(capsys):
    assert main(["datasets", "list"]) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "bundled" in out and "mnist" in out
    assert main(["datasets", "download", "digits"]) == 0
    assert "bundled" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["train", "evaluate", "predict", "summary", "gradcheck",
                                     "explain", "datasets"])
def test_every_subcommand_has_help_with_examples(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"chainrule {command}" in out


@pytest.mark.parametrize(
    "argv, code, pattern",
    [
        (["train", "--set", "training.epoch=5"], 2, "training.epoch: unknown key; allowed: batch_size"),
        (["train", "--set", "optimizer.lr=-1"], 2, r"optimizer: lr must be in \(0, inf\), got -1"),
        (["train", "--set", "optimizer.name=adamax"], 2, "unknown optimizer 'adamax'; valid names"),
        (["train", "--set", "optimizer.lrr=0.1"], 2, "optimizer.lrr: unknown option; allowed: lr"),
        (["train", "--set", "data.dataset=cifar"], 2, "data.dataset must be one of"),
        (["train", "--set", "model.hidden=[0]"], 2, "model.hidden must be a list of positive integers"),
        (["train", "--set", "trainin.epochs=5"], 2, r"unknown section\(s\) \['trainin'\]"),
        (["train", "--set", "epochs"], 2, "--set expects key=value"),
        (["train", "--set", "callbacks.early_stop={patience=2}"], 2, "callbacks.early_stop: unknown callback"),
        (["train", "--set", "training.metrics=['precision']"], 2, "unknown metric 'precision'"),
        (["train", "no-such.toml"], 2, "cannot read config no-such.toml"),
        (["evaluate", "missing.safetensors", "--data", "digits"], 1, "missing.safetensors"),
        (["datasets", "download"], 2, "needs a NAME"),
        (["frobnicate"], 2, "invalid choice"),
    ],
)
def test_errors_are_one_readable_line_with_the_right_exit_code(argv, code, pattern, capsys):
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("chainrule: error: ")
    import re

    assert re.search(pattern, err), err


def test_a_bad_config_file_names_the_key(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[model]\nhidden = [32]\nactivation = "rectifier"\n[training]\nepochs = 1\n')
    assert main(["train", str(path), "--quiet", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "unknown activation 'rectifier'" in err and "model" in err
    path.write_text("[training\nepochs = 1\n")
    assert main(["train", str(path)]) == 2
    assert "is not valid TOML" in capsys.readouterr().err


def test_debug_shows_the_traceback(capsys):
    assert main(["--debug", "train", "--set", "training.epoch=5"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_python_dash_m_runs_the_command():
    result = subprocess.run([sys.executable, "-m", "chainrule", "--version"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout.startswith("chainrule ")


def test_a_checkpoint_callback_in_the_config_writes_into_the_run_folder(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--quiet", "--out", str(out), "--set", "training.epochs=2",
                 "--set", "callbacks.checkpoint={save_best_only=true}"]) == 0
    from chainrule.training import checkpoint_network

    net = checkpoint_network(out / "checkpoint.safetensors")
    assert net.get_config() == __import__("chainrule").load(out / "model.safetensors").get_config()


def test_explain_prints_every_chain_rule_term_of_the_two_circles_network(capsys):
    assert main(["explain"]) == 0
    out = capsys.readouterr().out
    for term in ("δ3 = (σ(Z3) − T) / n", "dL/dW3 = A2ᵀ δ3", "dL/db3 = Σ δ3", "dL/dA2 = δ3 W3ᵀ",
                 "dA2/dZ2 = [Z2 > 0]", "dL/dW1 = A0ᵀ δ1"):
        assert term in out, term
    gradient_lines = [line for line in out.splitlines() if line.strip().startswith("dL/dW")
                      or line.strip().startswith("dL/db")]
    assert len(gradient_lines) == 6
    assert all("matches finite differences (relative error" in line for line in gradient_lines)


def test_explain_json_and_markdown(capsys):
    assert main(["explain", "--samples", "3", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["passed"] is True
    assert main(["explain", "--format", "markdown"]) == 0
    assert "|" in capsys.readouterr().out
