"""The run folder (new or empty, unique default names, nothing left by a config error), an
interrupted run's report, the paths in a run's config.toml, and reading data files."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest
from _run_helpers import circles_config, with_callback

from chainrule.config import ConfigError, load_config
from chainrule.datasets import catalog
from chainrule.experiment import RUN_FILES, load_data, run
from chainrule.tables import read_table
from chainrule.training.callbacks import LambdaCallback

# ------------------------------------------------------------------ the run folder


def test_a_folder_holding_files_is_refused_and_left_as_it_was(tmp_path):
    out = tmp_path / "run"
    run(circles_config(), out)
    before = {path.name: path.read_bytes() for path in out.iterdir()}
    with pytest.raises(ConfigError, match=r"the run folder .*run is not empty \(config\.toml, "
                                          r"confusion_matrix\.png, .* and \d more\); a run writes "
                                          "into a new or empty folder"):
        run(circles_config("training.epochs=1"), out)
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_the_run_result_repr_is_short_and_shows_the_data_by_shape(tmp_path):
    result = run(circles_config("data.options={n_samples=600}"), tmp_path / "run")
    shown = repr(result)
    assert shown.startswith(f"RunResult(out_dir={str(tmp_path / 'run')!r}, test_metrics={{'loss': ")
    assert ", epochs=2, seconds=" in shown and ", interrupted=False, " in shown
    assert "files=['config.toml', 'model.safetensors', 'history.csv', 'metrics.json'" in shown
    assert ("data=Data(name='circles', task='classification', "
            "X_train=<float64 array of shape (420, 2)>, y_train=<int64 array of shape (420,)>, "
            "X_val=<float64 array of shape (60, 2)>") in shown
    assert len(shown) < 800 and repr(result.data) in shown


def test_an_empty_existing_folder_is_used(tmp_path):
    (tmp_path / "run").mkdir()
    result = run(circles_config(), tmp_path / "run")
    assert result.out_dir == tmp_path / "run" and (tmp_path / "run" / "model.safetensors").is_file()


def test_a_file_is_not_a_run_folder(tmp_path):
    (tmp_path / "run").write_text("x")
    with pytest.raises(ConfigError, match=r"the run folder .*run is a file, not a folder"):
        run(circles_config(), tmp_path / "run")


def test_a_file_named_runs_is_not_the_default_runs_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").write_text("x")
    with pytest.raises(ConfigError, match=r"the default folder of runs, runs, is a file, not a "
                                          r"folder; choose a run folder with --out"):
        run(circles_config(), None)
    assert (tmp_path / "runs").read_text() == "x"


def test_overwrite_replaces_the_earlier_run_files_only(tmp_path):
    out = tmp_path / "run"
    run(circles_config("callbacks.checkpoint={}"), out)
    (out / "notes.txt").write_text("mine")
    assert (out / "checkpoint.safetensors").is_file()
    run(circles_config(), out, overwrite=True)
    assert not (out / "checkpoint.safetensors").exists()  # stale: this run wrote none
    assert (out / "notes.txt").read_text() == "mine"
    assert {"config.toml", "model.safetensors", "metrics.json"} <= {p.name for p in out.iterdir()}
    assert "checkpoint.safetensors" in RUN_FILES


def test_a_checkpoint_path_under_the_home_folder_is_written_there(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(tmp_path)
    run(circles_config("callbacks.checkpoint={path='~/ck.safetensors'}"), tmp_path / "run")
    assert (home / "ck.safetensors").is_file()
    assert not (tmp_path / "~").exists()


def test_default_folders_are_unique_within_a_second(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(time, "strftime", lambda fmt: "20240101-120000")
    first = run(circles_config(), None).out_dir
    second = run(circles_config(), None).out_dir
    assert first == Path("runs") / "20240101-120000-circles"
    assert second == Path("runs") / "20240101-120000-circles-2"
    assert (first / "model.safetensors").is_file() and (second / "model.safetensors").is_file()


def test_a_config_error_leaves_no_folder(tmp_path, monkeypatch):
    with pytest.raises(ConfigError):
        run(circles_config("loss.name=mse"), tmp_path / "a" / "b" / "run")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError):
        run(circles_config("loss.name=mse"), None)
    assert list(tmp_path.iterdir()) == []  # runs/ too, which this run created
    (tmp_path / "runs").mkdir()
    with pytest.raises(ConfigError):
        run(circles_config("loss.name=mse"), None)
    assert list((tmp_path / "runs").iterdir()) == []  # an existing runs/ stays


def test_a_check_of_fit_itself_leaves_no_folder_and_no_config(tmp_path, monkeypatch):
    """Whatever fit refuses before its first epoch (here a callback's own check) comes before
    the folder is taken: config.toml is written when training ends."""
    def refuse(trainer):
        raise ValueError("refused before training")

    with_callback(monkeypatch, LambdaCallback(on_train_begin=refuse))
    with pytest.raises(ValueError, match="refused before training"):
        run(circles_config(), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_an_existing_empty_folder_is_kept_when_the_run_fails(tmp_path):
    (tmp_path / "run").mkdir()
    with pytest.raises(ConfigError):
        run(circles_config("loss.name=mse"), tmp_path / "run")
    assert (tmp_path / "run").is_dir() and list((tmp_path / "run").iterdir()) == []


# ------------------------------------------------------------------ Ctrl-C


def ctrl_c_at_batch(epoch: int, batch: int) -> LambdaCallback:
    """One Ctrl-C after batch ``batch`` of ``epoch``: fit stops after that batch."""
    def ctrl_c(trainer, at_epoch, at_batch, logs):
        if (at_epoch, at_batch) == (epoch, batch):
            signal.raise_signal(signal.SIGINT)
    return LambdaCallback(on_batch_end=ctrl_c)


def ctrl_c_after_epoch(epoch: int) -> LambdaCallback:
    """One Ctrl-C at the end of ``epoch``, between two epochs."""
    def ctrl_c(trainer, at_epoch, logs):
        if at_epoch == epoch:
            signal.raise_signal(signal.SIGINT)
    return LambdaCallback(on_epoch_end=ctrl_c)


@pytest.mark.parametrize("callback, epochs, weights, note", [
    (ctrl_c_at_batch(2, 1), 1, "partway through epoch 2", "during epoch 2"),
    (ctrl_c_after_epoch(2), 2, "at the end of epoch 2", "after epoch 2"),
], ids=["mid-epoch", "between epochs"])
def test_an_interrupted_run_says_so_in_metrics_json(tmp_path, monkeypatch, callback, epochs,
                                                    weights, note):
    with_callback(monkeypatch, callback)
    result = run(circles_config("training.epochs=5"), tmp_path / "run")
    assert result.interrupted
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert summary["interrupted"] is True and summary["epochs"] == epochs
    assert summary["weights"] == (
        f"as they were when training was interrupted, {weights}; the test metrics are of these "
        f"weights, history.csv holds the {epochs} completed epochs")
    assert summary["note"].startswith(f"interrupted by the user {note}")
    from chainrule.io import load

    saved = load(tmp_path / "run" / "model.safetensors")
    np.testing.assert_array_equal(saved.parameters, result.trainer.net.parameters)
    rows = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert len(rows) == 1 + epochs  # the header and the completed epochs


def test_a_finished_run_is_not_interrupted(tmp_path):
    result = run(circles_config(), tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert not result.interrupted and summary["interrupted"] is False
    assert "weights" not in summary and summary["epochs"] == 2


# ------------------------------------------------------------------ paths in config.toml


def test_config_toml_holds_absolute_paths_so_the_run_folder_works_from_anywhere(
        tmp_path, monkeypatch, rng):
    data_folder = tmp_path / "project"
    data_folder.mkdir()
    X = rng.normal(size=(40, 2))
    np.savetxt(data_folder / "train.csv", np.column_stack([X, X[:, 0] > 0]), delimiter=",",
               fmt="%.6f")
    monkeypatch.chdir(data_folder)
    config = load_config(overrides=["data.dataset=files", "data.train=train.csv",
                                    "model.hidden=[3]", "training.epochs=1", "training.verbose=0",
                                    "callbacks.checkpoint={path='ck.safetensors'}"])
    result = run(config, "run")
    assert config["data"]["train"] == "train.csv"  # the caller's config is not changed
    written = tomllib.loads((data_folder / "run" / "config.toml").read_text())
    assert written["data"]["train"] == str(data_folder / "train.csv")
    assert written["callbacks"]["checkpoint"]["path"] == str(data_folder / "ck.safetensors")
    monkeypatch.chdir(tmp_path)  # elsewhere: the run's config still finds its data
    data = load_data(load_config(data_folder / "run" / "config.toml")["data"])
    np.testing.assert_array_equal(data.y_test, result.data.y_test)


def test_a_folder_name_the_locale_cannot_decode_is_recorded_as_the_utf8_it_is(tmp_path, rng):
    """Under a locale that is not UTF-8 (LC_ALL=C), Python reads the working folder
    ``dönnées`` as ``d\\udcc3\\udcb6nn...`` (its bytes kept as surrogates); config.toml, which
    is UTF-8, holds the name those bytes spell."""
    folder = tmp_path / "dönnées"
    folder.mkdir()
    X = rng.normal(size=(40, 2))
    np.savetxt(folder / "train.csv", np.column_stack([X, X[:, 0] > 0]), delimiter=",",
               fmt="%.6f")
    code = ("from chainrule.config import load_config\n"
            "from chainrule.experiment import run\n"
            "run(load_config(overrides=['data.dataset=files', 'data.train=train.csv', "
            "'model.hidden=[3]', 'training.epochs=1', 'training.verbose=0']), 'run')")
    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": "utf-8"}
    child = subprocess.run([sys.executable, "-c", code], check=False, cwd=folder, env=env,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    written = tomllib.loads((folder / "run" / "config.toml").read_text(encoding="utf-8"))
    assert written["data"]["train"] == str(folder / "train.csv")


@pytest.mark.skipif(sys.platform != "linux", reason="names that are not UTF-8: Linux")
def test_a_path_that_is_not_utf8_is_a_config_error_before_training(tmp_path, rng,
                                                                    monkeypatch):
    folder = os.fsdecode(os.path.join(os.fsencode(tmp_path), b"d\xf6nn\xe9es"))  # Latin-1
    os.mkdir(folder)
    X = rng.normal(size=(40, 2))
    np.savetxt(os.path.join(folder, "train.csv"), np.column_stack([X, X[:, 0] > 0]),
               delimiter=",", fmt="%.6f")
    config = load_config(overrides=["data.dataset=files", "data.train=x.csv", "model.hidden=[3]",
                                    "training.epochs=1", "training.verbose=0"])
    config["data"]["train"] = os.path.join(folder, "train.csv")
    epochs = []
    with_callback(monkeypatch, LambdaCallback(on_epoch_end=lambda *args: epochs.append(args)))
    with pytest.raises(ConfigError, match=(
            r"^data\.train: the path .*train\.csv' is not UTF-8 text, which config\.toml "
            r"needs to record it: rename the folder or file")):
        run(config, tmp_path / "run")
    assert not epochs and not (tmp_path / "run").exists()


def small_california(root: Path, rng, monkeypatch) -> None:
    """A small ``california_housing/housing.csv`` under ``root``, recorded in the catalog as
    the official file (whose size and SHA-256 the loader checks)."""
    folder = root / "california_housing"
    folder.mkdir(parents=True)
    rows = [f"{-122 + rng.random():.3f},{37 + rng.random():.3f},{rng.integers(1, 50)},"
            f"{rng.integers(500, 900)},{rng.integers(100, 200)},{rng.integers(300, 900)},"
            f"{rng.integers(100, 300)},{1 + 8 * rng.random():.4f},{rng.integers(50, 500)}000,"
            "INLAND\n" for _ in range(40)]
    (folder / "housing.csv").write_text(
        "longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,"
        "households,median_income,median_house_value,ocean_proximity\n" + "".join(rows))
    content = (folder / "housing.csv").read_bytes()
    relative = "california_housing/housing.csv"
    record = dataclasses.replace(catalog.catalog_file(relative), size=len(content),
                                 sha256=hashlib.sha256(content).hexdigest())
    monkeypatch.setitem(catalog._FILES, relative, record)


@pytest.mark.parametrize("variable", ["CHAINRULE_DATA", "CHAINRULE_CACHE"])
def test_a_relative_data_folder_from_the_environment_is_recorded(tmp_path, monkeypatch, rng,
                                                                   refused_url, variable):
    """``CHAINRULE_DATA=../shared/data`` (or a relative cache) is read from the working
    directory: config.toml records that folder as data.data_dir, made absolute, so that the
    run folder is evaluated from anywhere without downloading."""
    project = tmp_path / "project"
    small_california(tmp_path / "shared" / "data", rng, monkeypatch)
    project.mkdir()
    monkeypatch.chdir(project)
    monkeypatch.delenv("CHAINRULE_DATA", raising=False)  # the user's, looked at first
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(variable, "../shared/data")
    monkeypatch.setenv("CHAINRULE_DATA_URL", refused_url)  # never the network
    config = load_config(overrides=["data.dataset=california_housing", "model.hidden=[3]",
                                    "training.epochs=1", "training.verbose=0"])
    result = run(config, "run")
    written = tomllib.loads((project / "run" / "config.toml").read_text())
    assert written["data"]["data_dir"] == str(tmp_path / "shared" / "data")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(variable)
    data = load_data(load_config(project / "run" / "config.toml")["data"])
    np.testing.assert_array_equal(data.y_test, result.data.y_test)


@pytest.mark.parametrize("setting", ["absolute", "given", "files"])
def test_a_data_folder_is_recorded_only_where_it_was_relative_to_the_working_directory(
        tmp_path, monkeypatch, rng, refused_url, setting):
    """An absolute CHAINRULE_DATA is left to the environment (a later one may point
    elsewhere), a data.data_dir given is recorded as given (made absolute), and a dataset
    read from files has no data folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHAINRULE_DATA_URL", refused_url)  # never the network
    monkeypatch.setenv("CHAINRULE_DATA", str(tmp_path / "data") if setting == "absolute"
                       else "data")
    overrides = {"absolute": [], "given": ["data.data_dir='elsewhere'"],
                 "files": ["data.dataset=files", "data.train=train.csv"]}[setting]
    if setting == "files":
        X = rng.normal(size=(40, 2))
        np.savetxt("train.csv", np.column_stack([X, X[:, 0] > 0]), delimiter=",", fmt="%.6f")
    else:
        small_california(tmp_path / ("elsewhere" if setting == "given" else "data"), rng,
                         monkeypatch)
    run(load_config(overrides=["data.dataset=california_housing", *overrides,
                               "model.hidden=[3]", "training.epochs=1", "training.verbose=0"]),
        "run")
    written = tomllib.loads((tmp_path / "run" / "config.toml").read_text())["data"]
    expected = {"absolute": None, "given": str(tmp_path / "elsewhere"), "files": None}[setting]
    assert written.get("data_dir") == expected


# ------------------------------------------------------------------ data files


@pytest.mark.parametrize(
    "text, target, n_rows, first_label",
    [
        # no header, text class labels: the first row is data (it used to be taken as a header)
        ("0.1,0.2,dog\n0.3,0.4,cat\n0.5,0.6,dog\n", -1, 3, "dog"),
        ("dog,0.1,0.2\ncat,0.3,0.4\n", 0, 2, "dog"),
        # a header: names over numbers, whatever the labels
        ("a,b,kind\n0.1,0.2,dog\n0.3,0.4,cat\n", -1, 2, "dog"),
        ("a,b,kind\n0.1,0.2,1\n0.3,0.4,0\n", -1, 2, 1),
        ("a,b,kind\n0.1,0.2,1\n", "kind", 1, 1),
        # only the label column is named and the labels are numbers: still a header
        ("1,2,label\n0.1,0.2,1\n0.3,0.4,0\n", -1, 2, 1),
        # no header, numbers only
        ("0.1,0.2,1\n0.3,0.4,0\n", -1, 2, 1),
    ],
)
def test_the_header_rule(tmp_path, text, target, n_rows, first_label):
    path = tmp_path / "t.csv"
    path.write_text(text)
    X, y = read_table(path, target)
    assert X.shape == (n_rows, 2) and y[0] == first_label


def test_integer_targets_with_many_distinct_values_ask_for_data_task(tmp_path, rng):
    X = rng.normal(size=(100, 2))
    prices = rng.integers(10_000, 90_000, size=100)
    np.savetxt(tmp_path / "prices.csv", np.column_stack([X, prices]), delimiter=",", fmt="%.6f")
    section = {"dataset": "files", "train": str(tmp_path / "prices.csv")}
    with pytest.raises(ConfigError, match=r'data\.task = "auto" reads integer targets as class '
                                          r"labels, but the targets of .*prices\.csv hold 100 "
                                          r"distinct values in 100 rows, which look like values "
                                          r'to predict: set data\.task = "regression"'):
        load_data(section)
    assert load_data({**section, "task": "regression"}).task == "regression"
    classes = load_data({**section, "task": "classification", "test_size": 0.5,
                         "validation_size": 0.0})
    assert len(classes.classes) == 100


def test_a_test_label_missing_from_the_training_file_is_a_config_error(tmp_path, rng):
    """The classes are the training labels: a class only in the test file is refused before
    training (it used to get an output the network never learnt)."""
    X = rng.normal(size=(30, 2))
    labels = np.where(X[:, 0] > 0, "high", "low")
    rows = [f"{a:.5f},{b:.5f},{label}" for (a, b), label in zip(X, labels)]
    (tmp_path / "train.csv").write_text("\n".join(rows[:24]) + "\n")
    (tmp_path / "test.csv").write_text("\n".join(rows[24:] + ["0.1,0.2,middle"]) + "\n")
    config = load_config(overrides=[
        "data.dataset=files", f"data.train='{tmp_path / 'train.csv'}'",
        f"data.test='{tmp_path / 'test.csv'}'", "data.validation_size=0", "model.hidden=[3]",
        "training.epochs=1", "training.verbose=0"])
    with pytest.raises(ConfigError, match=r"data\.test = .*test\.csv\" has labels that are not "
                                          r"among the classes of the training data "
                                          r"\(.*train\.csv\": \['high', 'low'\]\): \['middle'\]"):
        run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------ Ctrl-C after training


def ctrl_c_before_the_plots(monkeypatch: pytest.MonkeyPatch, times: int) -> None:
    """``times`` Ctrl-Cs once the model, history and metrics are written, before the plots."""
    from chainrule.experiment import runner

    write_plots = runner.write_plots

    def interrupted(*args):
        for _ in range(times):
            signal.raise_signal(signal.SIGINT)
        return write_plots(*args)

    monkeypatch.setattr(runner, "write_plots", interrupted)


@pytest.mark.parametrize("verbose", [1, 0])
def test_a_ctrl_c_while_the_run_is_written_lets_it_finish(tmp_path, monkeypatch, capsys, verbose):
    ctrl_c_before_the_plots(monkeypatch, times=1)
    result = run(circles_config(f"training.verbose={verbose}"), tmp_path / "run")
    assert result.interrupted_while_finishing and not result.interrupted
    assert {path.name for path in result.files} <= {path.name for path in result.out_dir.iterdir()}
    assert "history.png" in {path.name for path in result.files}  # written after the Ctrl-C
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["interrupted"] is False
    said = capsys.readouterr().err
    assert ("finishing the run folder first (Ctrl-C again abandons the run" in said) == verbose


def test_a_ctrl_c_while_the_run_is_written_into_a_broken_stderr_lets_it_finish(tmp_path,
                                                                                 monkeypatch):
    """``chainrule train 2>&1 | tee log``: the Ctrl-C kills tee too, so the line that says the
    run is being finished meets a broken pipe. The run is still finished, not removed."""

    class BrokenStream(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    ctrl_c_before_the_plots(monkeypatch, times=1)
    monkeypatch.setattr(sys, "stderr", BrokenStream())
    result = run(circles_config("training.verbose=1"), tmp_path / "run")
    assert result.interrupted_while_finishing
    assert {path.name for path in result.files} <= {path.name for path in result.out_dir.iterdir()}


def test_a_second_ctrl_c_while_the_run_is_written_abandons_it(tmp_path, monkeypatch):
    ctrl_c_before_the_plots(monkeypatch, times=2)
    with pytest.raises(KeyboardInterrupt):
        run(circles_config(), tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_run_without_ctrl_c_was_not_interrupted_while_finishing(tmp_path):
    assert not run(circles_config(), tmp_path / "run").interrupted_while_finishing


def test_figures_that_cannot_be_drawn_cost_the_figures_not_the_run(tmp_path, monkeypatch):
    """A plot that fails: the model, history and metrics are kept, with a warning naming the
    cause (and the figures drawn before it)."""
    pytest.importorskip("matplotlib")
    import chainrule.plots

    def broken(*args, **kwargs):
        raise ValueError("no room on the canvas")

    monkeypatch.setattr(chainrule.plots, "plot_confusion_matrix", broken)
    out = tmp_path / "run"
    with pytest.warns(RuntimeWarning, match="figures .* no room on the canvas"):
        result = run(circles_config(), out)
    names = {path.name for path in out.iterdir()}
    kept = {"config.toml", "model.safetensors", "history.csv", "metrics.json", "history.png"}
    assert names == kept  # the figures after the failing one are not drawn either
    assert {path.name for path in result.files} == names


def test_a_broken_matplotlib_set_up_costs_the_figures_not_the_run(tmp_path):
    """MPLBACKEND naming no backend makes ``import matplotlib`` raise ValueError: the run
    trained, so it is kept, without figures, and says why."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    done = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--set", "data.dataset=circles",
         "--set", "data.options={n_samples=80}", "--set", "training.epochs=2", "--quiet",
         "--out", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "MPLBACKEND": "bogus"})
    assert done.returncode == 0, done.stderr
    assert "figures" in done.stderr and "bogus" in done.stderr
    assert {path.name for path in out.iterdir()} == {"config.toml", "model.safetensors",
                                                     "history.csv", "metrics.json"}
