"""The chainrule command: every subcommand through ``main(argv)``."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import main

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.mark.parametrize("spelling", ["same", "through ..", "hard link"])
def test_predict_refuses_to_write_over_its_input(default_run, tmp_path, capsys, spelling):
    """``-o`` naming the input file (however it is spelled) would replace the features with
    the predictions: refused, exit 2, naming both, the input left as it was."""
    features = tmp_path / "X.npy"
    np.save(features, np.zeros((3, 64)))
    before = features.read_bytes()
    output = {"same": features, "through ..": tmp_path / "sub" / ".." / "X.npy",
              "hard link": tmp_path / "linked.npy"}[spelling]
    (tmp_path / "sub").mkdir()
    if spelling == "hard link":
        os.link(features, output)
    assert main(["predict", str(default_run / "model.safetensors"), str(features), "-o",
                 str(output)]) == 2
    err = capsys.readouterr().err
    assert err == (f"chainrule: error: -o/--output {str(output)!r} is the input file "
                   f"{str(features)!r}: the predictions would replace the features; choose "
                   "another output file\n")
    assert features.read_bytes() == before


def test_predict_and_evaluate_forward_in_chunks(default_run, tmp_path, monkeypatch, capsys):
    # Bounded memory on large inputs: no forward pass of more than EVAL_CHUNK rows, and the
    # same predictions and metrics as with one pass
    from chainrule.datasets import load_digits
    from chainrule.layers import inference
    from chainrule.layers.sequential import Sequential

    X, _ = load_digits()
    model = str(default_run / "model.safetensors")
    np.save(tmp_path / "X.npy", X[:100])
    results = []
    for chunk in (10**9, 16):
        monkeypatch.setattr(inference, "EVAL_CHUNK", chunk)
        rows = []
        forward = Sequential._forward

        def spy(self, X, *args, rows=rows, forward=forward, **kwargs):
            rows.append(X.shape[0])
            return forward(self, X, *args, **kwargs)

        monkeypatch.setattr(Sequential, "_forward", spy)
        capsys.readouterr()
        assert main(["evaluate", model, "--data", "digits"]) == 0
        assert main(["predict", model, str(tmp_path / "X.npy"), "-o", str(tmp_path / "p.npy"),
                     "--proba"]) == 0
        monkeypatch.setattr(Sequential, "_forward", forward)
        assert max(rows) <= chunk
        results.append((capsys.readouterr().out, np.load(tmp_path / "p.npy")))
    assert results[1][0] == results[0][0]
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-5)


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
        (["datasets", "download", "no-such-set"], 2, r"unknown dataset 'no-such-set'; valid names"),
        (["frobnicate"], 2, "invalid choice"),
        (["gradcheck", "--samples", "0"], 2, r"--samples must be at least 1, got 0$"),
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


def test_python_dash_m_exits_with_the_commands_code(monkeypatch, capsys):
    """``python -m chainrule``, run in this process: main's return value is the exit code."""
    import runpy

    monkeypatch.delitem(sys.modules, "chainrule.__main__", raising=False)
    monkeypatch.setattr(sys, "argv", ["chainrule", "frobnicate"])
    with pytest.raises(SystemExit) as info:
        runpy.run_module("chainrule", run_name="__main__")
    assert info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


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


def test_explain_of_a_large_batch_samples_the_entries_it_checks(capsys):
    """Every checked entry costs two forward passes of the whole batch: checking all of
    dL/dX took minutes for 10,000 samples. At most --max-checks per array, and the footer
    says how many."""
    assert main(["explain", "--samples", "2000", "--max-checks", "20"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # the footer wraps
    assert "7 gradients checked (51 of their 4031 entries, at random), all match" in out
    assert main(["explain", "--max-checks", "0"]) == 2
    assert "--max-checks must be at least 1, got 0" in capsys.readouterr().err


# ------------------------------------------------------------------ less common paths


def test_no_command_prints_the_help_and_exits_2(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: chainrule")
    assert "COMMAND" in out and "train" in out and "explain" in out


def test_ctrl_c_is_one_line_and_exit_code_130(monkeypatch, capsys):
    from chainrule import cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.HANDLERS, "summary", interrupted)
    assert main(["summary", "model.safetensors"]) == 130
    assert capsys.readouterr().err == "chainrule: interrupted\n"


def test_a_ctrl_c_while_the_command_loads_is_one_line_and_exit_code_130():
    """Ctrl-C in the first moments of a command lands in an import. cli.py imports at its
    top only what ``import chainrule`` already has; the rest is imported under :func:`main`,
    which answers a Ctrl-C with one line and 130 rather than a traceback."""
    setup = (
        "import sys\n"
        "class CtrlC:  # Ctrl-C pressed while chainrule.config is imported\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'chainrule.config':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, CtrlC())"
    )
    result = subprocess.run(command_line("train", setup=setup), capture_output=True, text=True,
                            check=False)
    assert (result.returncode, result.stderr) == (130, "chainrule: interrupted\n")


# ------------------------------------------------------------------ a closed stdout
# ``chainrule ... | head -1``: the reader leaves, and every later write to stdout raises
# BrokenPipeError. What was printed is a report; the exit code is that of the work.

SMALL_RUN = ["--set", "data.dataset=circles", "--set", "data.options={n_samples=60}",
             "--set", "model.hidden=[3]", "--set", "training.verbose=2"]


@contextlib.contextmanager
def closed_stdout():
    """sys.stdout is, meanwhile, the write end of a pipe whose read end is closed."""
    read, write = os.pipe()
    os.close(read)
    stream = io.TextIOWrapper(os.fdopen(write, "wb", buffering=0), write_through=True)
    saved, sys.stdout = sys.stdout, stream
    try:
        yield
    finally:
        sys.stdout = saved
        with contextlib.suppress(BrokenPipeError):
            stream.close()


def command_line(*args: str, setup: str = "") -> list[str]:
    """``chainrule ARGS`` as the installed console script runs it (its entry in pyproject),
    after the Python code ``setup``."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    module, function = scripts["chainrule"].split(":")
    code = f"{setup}\nimport sys; from {module} import {function}; sys.exit({function}())"
    return [sys.executable, "-c", code, *args]


def test_train_into_a_pipe_closed_after_the_first_line_still_writes_the_run(tmp_path,
                                                                            monkeypatch):
    """The reader of ``chainrule train | head -1`` leaves after the first epoch's line: the
    lines stop, training goes on, and the run folder is written (exit code 0)."""
    monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)  # stdout buffered, as by default
    out = tmp_path / "run"
    # The child waits at epoch 2 until this test has closed the pipe, so that the lines of
    # epochs 2 and 3 meet a closed pipe.
    setup = (
        "import sys; from chainrule.experiment import runner; "
        "from chainrule.training import LambdaCallback\n"
        "build = runner.build_trainer\n"
        "def wait(trainer, epoch):\n"
        "    if epoch == 2: sys.stdin.readline()\n"
        "def build_trainer(*args, **kwargs):\n"
        "    trainer = build(*args, **kwargs)\n"
        "    trainer.callbacks.insert(0, LambdaCallback(on_epoch_begin=wait))\n"
        "    return trainer\n"
        "runner.build_trainer = build_trainer"
    )
    child = subprocess.Popen(
        command_line("train", "--out", str(out), *SMALL_RUN, "--set", "training.epochs=3",
                     setup=setup),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().startswith("epoch 1/3")
    child.stdout.close()
    child.stdin.write("go\n")
    child.stdin.close()
    stderr = child.stderr.read()
    child.stderr.close()
    assert child.wait(timeout=120) == 0, stderr
    assert stderr == ""  # no traceback, no "Exception ignored ... BrokenPipeError"
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 3
    assert (out / "model.safetensors").is_file()


def test_train_with_a_closed_stdout_finishes_its_run(tmp_path, capsys):
    out = tmp_path / "run"
    with closed_stdout():
        assert main(["train", "--out", str(out), *SMALL_RUN, "--set", "training.epochs=3"]) == 0
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 3
    assert capsys.readouterr().err == ""


def test_a_closed_stdout_leaves_main_callers_streams_open(capsys):
    """main() is also called in-process: it must not close sys.stderr (later errors of the
    caller would be lost, and the interpreter would exit with "lost sys.stderr")."""
    with closed_stdout():
        assert main(["datasets", "list"]) == 0
    assert not sys.stderr.closed and capsys.readouterr().err == ""


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("entry", ["console script", "python -m"])
def test_a_command_into_a_closed_pipe_exits_quietly(tmp_path, monkeypatch, entry, buffered):
    """``chainrule datasets list | head -0``, and a predict whose report no one reads: the
    exit code is the work's, and stderr holds no "Exception ignored ... BrokenPipeError".
    Buffered (the default), the write fails only when the interpreter flushes stdout at exit."""
    import chainrule as cr

    if buffered:
        monkeypatch.delenv("PYTHONUNBUFFERED", raising=False)
    else:
        monkeypatch.setenv("PYTHONUNBUFFERED", "1")

    model, features, predictions = tmp_path / "m.safetensors", tmp_path / "X.npy", tmp_path / "p.csv"
    cr.save(cr.mlp([2, 3, 1], output="sigmoid", seed=0), model)
    np.save(features, np.zeros((4, 2)))
    for args in (["datasets", "list"],
                 ["predict", str(model), str(features), "-o", str(predictions), "--proba"]):
        if entry == "python -m":
            argv = [sys.executable, "-m", "chainrule", *args]
        else:
            argv = command_line(*args)
        read, write = os.pipe()
        os.close(read)
        try:
            result = subprocess.run(argv, stdout=write, stderr=subprocess.PIPE, text=True,
                                    check=False)
        finally:
            os.close(write)
        assert (result.returncode, result.stderr) == (0, ""), args
    assert len(predictions.read_text().splitlines()) == 5  # the header and 4 rows


@pytest.mark.parametrize("environment", [
    {"PYTHONIOENCODING": "ascii"},
    # the C locale, not coerced to UTF-8: stdout is ASCII with errors="surrogateescape"
    {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
], ids=["PYTHONIOENCODING=ascii", "C locale"])
@pytest.mark.parametrize("entry", ["console script", "python -m"])
def test_a_stdout_that_cannot_encode_the_output_gets_it_escaped(monkeypatch, entry,
                                                                environment):
    """An ASCII stdout (``LC_ALL=C``, ``PYTHONIOENCODING=ascii``; a Windows redirect is
    cp1252): what it cannot encode (``→``, ``±``, ``δ``) is written escaped, in the stream's
    own encoding, and the exit code is that of the work."""
    monkeypatch.delenv("PYTHONIOENCODING", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    for args, escaped in ((["explain"], r"\u03b4"),  # δ
                          (["gradcheck", str(ROOT / "examples/configs/two_circles.toml")],
                           r"\xb1")):  # ±
        argv = ([sys.executable, "-m", "chainrule", *args] if entry == "python -m"
                else command_line(*args))
        result = subprocess.run(argv, capture_output=True, check=False)
        assert (result.returncode, result.stderr) == (0, b""), args
        assert escaped in result.stdout.decode("ascii"), args


@pytest.mark.skipif(sys.platform == "win32", reason="file names are not bytes on Windows")
def test_under_the_c_locale_a_path_is_printed_as_its_own_bytes(monkeypatch, tmp_path):
    """A file name the C locale cannot decode comes back out as the bytes it is (Python's
    surrogateescape), so a script can use the printed path; only characters that are not
    part of a file name (the summary's ``→``) are escaped."""
    import chainrule as cr

    path = tmp_path / "dönnées.safetensors"
    cr.save(cr.mlp([2, 3, 1], seed=0), path)
    monkeypatch.delenv("PYTHONIOENCODING", raising=False)
    for name, value in {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}.items():
        monkeypatch.setenv(name, value)
    result = subprocess.run(command_line("summary", str(path)), capture_output=True,
                            check=False)
    assert (result.returncode, result.stderr) == (0, b"")
    assert os.fsencode(path) + b":" in result.stdout.splitlines()[0]
    assert rb"\u2192" in result.stdout


def test_a_broken_pipe_during_the_work_is_an_error(monkeypatch, capsys):
    """A BrokenPipeError that is not stdout's (a write into a pipe that is the product) means
    the work failed: exit code 1 and the one-line error."""
    from chainrule import cli

    def broken_pipe(args):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setitem(cli.HANDLERS, "predict", broken_pipe)
    assert main(["predict", "m.safetensors", "X.npy", "-o", "p.csv"]) == 1
    assert capsys.readouterr().err == "chainrule: error: [Errno 32] Broken pipe\n"
    assert not sys.stderr.closed


def test_train_prints_the_early_stopping_note(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--quiet", "--out", str(out), "--set", "data.dataset=circles",
                 "--set", "model.hidden=[4]", "--set", "training.epochs=5",
                 "--set", "callbacks.early_stopping={patience=1, min_delta=1e9}"]) == 0
    printed = capsys.readouterr().out
    assert "stopped early after epoch 2: val_loss did not improve for 1 epoch" in printed
    assert "restored the weights of epoch 1" in printed
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 2


def test_train_prints_the_note_when_the_config_silences_the_trainer(tmp_path, capsys):
    # training.verbose = 0 without --quiet: the Trainer prints nothing, so train prints the note
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--set", "data.dataset=circles",
                 "--set", "model.hidden=[4]", "--set", "training.epochs=5",
                 "--set", "training.verbose=0",
                 "--set", "callbacks.early_stopping={patience=1, min_delta=1e9}"]) == 0
    printed = capsys.readouterr().out
    assert printed.count("stopped early after epoch 2: val_loss did not improve for 1 epoch") == 1


def _saved_model(tmp_path, output: str):
    """A small 2 → 3 → 1 network with ``output`` activation, saved and read back."""
    from chainrule.io import load, save
    from chainrule.layers.builders import mlp

    path = tmp_path / "model.safetensors"
    save(mlp([2, 3, 1], output=output, seed=0), path)
    return str(path), load(path)


def _printed_metrics(out: str) -> dict[str, float]:
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    return {name: float(value) for name, value in rows}


def test_evaluate_a_binary_sigmoid_model_reports_accuracy_and_log_loss(tmp_path, capsys, rng):
    from chainrule.training import metrics

    model, net = _saved_model(tmp_path, "sigmoid")
    X = rng.normal(size=(12, 2)) * 3
    y = np.arange(12) % 2
    path = tmp_path / "binary.csv"
    with open(path, "w", newline="") as file:
        csv.writer(file).writerows([["a", "b", "label"], *np.column_stack([X, y]).tolist()])
    assert main(["evaluate", model, "--data", str(path), "--target", "label"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"evaluated on {path} (12 samples)"
    outputs = net.forward(X)
    assert _printed_metrics(out) == pytest.approx(
        {"accuracy": metrics.accuracy(y, outputs[:, 0]), "log_loss": metrics.log_loss(y, outputs)},
        abs=1e-4)


def test_evaluate_a_regression_model_on_the_last_column_of_a_csv(tmp_path, capsys, rng):
    from chainrule.training import metrics

    model, net = _saved_model(tmp_path, "identity")
    table = rng.normal(size=(10, 3))  # no header: the target is the last column by default
    np.savetxt(tmp_path / "regression.csv", table, delimiter=",")
    assert main(["evaluate", model, "--data", str(tmp_path / "regression.csv")]) == 0
    outputs, y = net.forward(table[:, :2]), table[:, 2]
    assert _printed_metrics(capsys.readouterr().out) == pytest.approx(
        {"mse": metrics.mean_squared_error(y, outputs),
         "mae": metrics.mean_absolute_error(y, outputs), "r2": metrics.r2_score(y, outputs)},
        abs=1e-4)


def test_predict_with_a_sigmoid_model_writes_classes_at_the_half_threshold(tmp_path, rng):
    model, net = _saved_model(tmp_path, "sigmoid")
    X = rng.normal(size=(20, 2)) * 3
    np.save(tmp_path / "X.npy", X)
    assert main(["predict", model, str(tmp_path / "X.npy"), "-o", str(tmp_path / "p.csv")]) == 0
    with open(tmp_path / "p.csv") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["class"]
    assert [int(r[0]) for r in rows[1:]] == (net.forward(X)[:, 0] > 0.5).astype(int).tolist()


def test_predict_and_evaluate_read_and_write_upper_case_suffixes(tmp_path, rng, capsys):
    model, net = _saved_model(tmp_path, "sigmoid")
    X = rng.normal(size=(8, 2)) * 3
    with open(tmp_path / "X.NPY", "wb") as file:  # np.save would add ".npy"
        np.save(file, X)
    assert main(["predict", model, str(tmp_path / "X.NPY"), "-o", str(tmp_path / "p.NPY")]) == 0
    with open(tmp_path / "p.NPY", "rb") as file:  # written as .npy, not as CSV text
        np.testing.assert_array_equal(np.load(file).ravel(), net.forward(X)[:, 0] > 0.5)
    data = tmp_path / "TRAIN.CSV"
    with open(data, "w", newline="") as file:
        csv.writer(file).writerows([["a", "b", "label"],
                                    *np.column_stack([X, np.arange(8) % 2]).tolist()])
    capsys.readouterr()
    assert main(["evaluate", model, "--data", str(data)]) == 0
    assert capsys.readouterr().out.startswith(f"evaluated on {data} (8 samples)")


@pytest.mark.parametrize(("target", "taken"), [("-1", "column 2"), ("b", "the column 'b'")])
def test_evaluate_on_a_csv_without_a_target_column_says_the_target_was_taken_from_it(
        tmp_path, capsys, rng, target, taken):
    model, _ = _saved_model(tmp_path, "sigmoid")
    path = tmp_path / "features.csv"
    with open(path, "w", newline="") as file:  # features only: no target column
        csv.writer(file).writerows([["a", "b"], *rng.normal(size=(4, 2)).tolist()])
    assert main(["evaluate", model, "--data", str(path), "--target", target]) == 1
    assert capsys.readouterr().err == (
        f"chainrule: error: the network expects 2 features, but {path} gives 1 feature column "
        f"after taking {taken} as the target (--target {target}); the file has "
        f"2 columns: does it lack a target column?\n")


def test_evaluate_help_names_every_data_file_it_reads(capsys):
    assert main(["evaluate", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())  # argparse wraps at $COLUMNS
    assert "dataset name, or a .csv/.npz/.npy file" in out


@pytest.mark.parametrize("command", ["train", "gradcheck", "explain"])
def test_help_examples_say_the_example_configs_are_in_the_source_checkout(capsys, command):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples/configs/two_circles.toml" in out
    assert ("examples/configs/ is in chainrule's source repository, not in the installed "
            "package") in " ".join(out.split())


def test_explain_a_config_network(capsys):
    assert main(["explain", "--set", "data.dataset=circles", "--set", "model.hidden=[3]",
                 "--samples", "3"]) == 0
    out = capsys.readouterr().out
    assert "on a batch of n_samples = 3" in out
    assert "#0 Rescale: A0 → A0'" in out  # the config's standardisation is part of the network
    assert "dL/dW2 = A1'ᵀ δ2" in out and "all match" in out


def test_datasets_download_prints_the_files_already_in_the_data_dir(tmp_path, monkeypatch, capsys,
                                                                    refused_url):
    monkeypatch.setenv("CHAINRULE_DATA_URL", refused_url)  # never the network
    folder = tmp_path / "california_housing"
    folder.mkdir()
    for name in ("housing.csv", "cal_housing.data"):
        (folder / name).write_text("present\n")
    assert main(["datasets", "download", "california_housing", "--data-dir", str(tmp_path)]) == 0
    assert capsys.readouterr().out.splitlines() == [str(folder / "housing.csv"),
                                                    str(folder / "cal_housing.data")]


QUICK = ["--set", "data.dataset=circles", "--set", "data.options={n_samples=80}",
         "--set", "training.epochs=2", "--quiet"]


def test_train_refuses_the_folder_of_an_earlier_run_unless_told_to_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *QUICK, "--out", str(out)]) == 0
    first = (out / "model.safetensors").read_bytes()
    capsys.readouterr()
    assert main(["train", *QUICK, "--set", "training.epochs=3", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().endswith(
        "choose another folder (--out), or replace an earlier run's files with --overwrite "
        "(overwrite=True)")
    assert (out / "model.safetensors").read_bytes() == first  # left as it was
    assert main(["train", *QUICK, "--set", "training.epochs=3", "--out", str(out),
                 "--overwrite"]) == 0
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 3


def test_an_interrupted_training_run_exits_130_after_writing_its_folder(tmp_path, monkeypatch,
                                                                       capsys):
    from chainrule.training.trainer import Trainer

    fit = Trainer.fit

    def interrupted_fit(self, *args, **kwargs):  # as if Ctrl-C came during the first epoch
        history = fit(self, *args, **{**kwargs, "epochs": 1})
        history.interrupted = True
        history.note = "interrupted by the user during epoch 2"
        return history

    monkeypatch.setattr(Trainer, "fit", interrupted_fit)
    out = tmp_path / "run"
    assert main(["train", *QUICK, "--out", str(out)]) == 130
    printed = capsys.readouterr().out
    assert printed.count("interrupted by the user during epoch 2") == 1
    assert json.loads((out / "metrics.json").read_text())["interrupted"] is True


@contextlib.contextmanager
def _default_termination_signals():
    """SIGTERM and SIGHUP at their default action while a child is started, whatever the test
    runner's (``nohup pytest`` ignores SIGHUP, which the run would rightly keep ignoring)."""
    before = {signum: signal.signal(signum, signal.SIG_DFL)
              for signum in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


@pytest.mark.skipif(sys.platform == "win32", reason="Windows ends a process without a signal")
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_run_ended_by_a_signal_leaves_its_folder_as_it_found_it(tmp_path, name):
    """``timeout``, ``kill``, ``docker stop`` and SLURM send SIGTERM, a closed terminal SIGHUP:
    the run is abandoned as after a second Ctrl-C (its files removed, an earlier run's put
    back), and the exit code is 128 + the signal's number, after one line on stderr."""
    out = tmp_path / "run"
    assert main(["train", *QUICK, "--out", str(out)]) == 0
    earlier = {path.name: path.read_bytes() for path in out.iterdir()}
    for folder, overwrite in ((tmp_path / "new", []), (out, ["--overwrite"])):
        with _default_termination_signals():  # inherited by the child
            child = subprocess.Popen(
                command_line("train", *SMALL_RUN, "--set", "training.epochs=100000", "--out",
                             str(folder), *overwrite),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert child.stdout.readline().startswith("epoch 1/100000")  # training has started
            child.send_signal(signum := getattr(signal, name))
            _, stderr = child.communicate(timeout=120)
        finally:
            if child.poll() is None:  # it did not stop: kill it rather than leave it training
                child.kill()
                child.communicate()
        assert (child.returncode, stderr) == (128 + signum, f"chainrule: terminated ({name})\n")
    assert not (tmp_path / "new").exists()
    assert {path.name: path.read_bytes() for path in out.iterdir()} == earlier  # no .earlier-*


def test_datasets_list_counts_california_available_with_either_of_its_files(tmp_path, capsys):
    folder = tmp_path / "california_housing"
    folder.mkdir()
    (folder / "housing.csv").write_text("present\n")
    assert main(["datasets", "list", "--data-dir", str(tmp_path)]) == 0
    rows = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()}
    assert rows["california_housing"] == "available"
    assert rows["mnist"] == "not"  # "not downloaded"


def test_a_ctrl_c_after_training_exits_130_with_the_run_folder_complete(tmp_path, monkeypatch,
                                                                       capsys):
    import signal

    from chainrule.experiment import runner

    write_plots = runner.write_plots

    def interrupted(*args):  # training is over; the model and metrics are already written
        signal.raise_signal(signal.SIGINT)
        return write_plots(*args)

    monkeypatch.setattr(runner, "write_plots", interrupted)
    out = tmp_path / "run"
    not_quiet = [arg for arg in QUICK if arg != "--quiet"]
    assert main(["train", *not_quiet, "--out", str(out)]) == 130
    assert "finishing the run folder first" in capsys.readouterr().err
    assert {"model.safetensors", "metrics.json", "history.png"} <= {p.name for p in out.iterdir()}
    assert json.loads((out / "metrics.json").read_text())["interrupted"] is False
