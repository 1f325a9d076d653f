"""Configs a user gets slightly wrong: each is refused naming the key before anything trains, or
works as written (float class labels, ``~`` in ``--out``, an .npz to predict on)."""

from __future__ import annotations

import numpy as np
import pytest
from _run_helpers import CIRCLES

from chainrule import plots
from chainrule.cli import main
from chainrule.config import ConfigError, load_config
from chainrule.experiment import load_data, run
from chainrule.tables import read_features
from chainrule.training import EarlyStopping
from chainrule.training.checkpoint import ModelCheckpoint
from chainrule.training.monitor import GradientMonitor

QUICK = ["training.epochs=1", "training.verbose=0"]


def files_config(tmp_path, X, y, *overrides):
    """A config training on ``X, y`` saved as an .npz."""
    np.savez(tmp_path / "d.npz", X=X, y=y)
    return load_config(overrides=["data.dataset=files", f"data.train={str(tmp_path / 'd.npz')!r}",
                                  "model.hidden=[3]", *QUICK, *overrides])


def test_class_labels_that_are_not_whole_numbers_train_and_plot(tmp_path, monkeypatch):
    """Labels 0.5 and 1.5 would read as probabilities in plot_confusion_matrix: the run plots
    class indices named by the labels (it failed after training, deleting the run)."""
    X = np.random.default_rng(0).normal(size=(80, 2))
    config = files_config(tmp_path, X, np.where(X[:, 0] > 0, 1.5, 0.5),
                          "data.task='classification'")
    calls = []
    plot = plots.plot_confusion_matrix
    monkeypatch.setattr(plots, "plot_confusion_matrix",
                        lambda *args, **kwargs: calls.append(kwargs) or plot(*args, **kwargs))
    result = run(config, tmp_path / "run")
    assert (result.out_dir / "confusion_matrix.png").is_file()
    assert calls[0]["display_labels"] == ["0.5", "1.5"]


@pytest.mark.parametrize("table, key", [("checkpoint", "save_best_only"),
                                        ("early_stopping", "restore_best")])
@pytest.mark.parametrize("value", ['"false"', '"no"', "1"])
def test_a_callback_switch_must_be_true_or_false(table, key, value):
    """bool("false") is True: a quoted false turned best-only checkpointing on."""
    with pytest.raises(ConfigError, match=rf"callbacks\.{table}: {key} must be True or False, "
                                          rf"got .* \((str|int)\)"):
        load_config(overrides=[*CIRCLES, f"callbacks.{table}.{key}={value}"])


@pytest.mark.parametrize("make", [lambda: ModelCheckpoint("c.safetensors", save_best_only="no"),
                                  lambda: EarlyStopping(restore_best="false"),
                                  lambda: GradientMonitor(warn="off")])
def test_callback_switches_refuse_strings_in_python_too(make):
    with pytest.raises(TypeError, match=r"must be True or False, got '\w+' \(str\)"):
        make()


def test_a_required_schedule_option_is_named_when_the_config_is_read():
    with pytest.raises(ConfigError, match=r"^schedule\.step_size is required \(StepLR has no "
                                          r"default for it\)$"):
        load_config(overrides=["schedule.name=step"])
    load_config(overrides=["callbacks.checkpoint={}"])  # its path is the run's to fill in


def test_regression_on_text_targets_is_a_config_error(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 2))
    config = files_config(tmp_path, X, np.where(X[:, 0] > 0, "yes", "no"),
                          "data.task='regression'")
    with pytest.raises(ConfigError, match=r'data\.task = "regression", but the targets of '
                                          r'".*d\.npz" are text \(\[\'no\', \'yes\'\] \.\.\.\): '
                                          "regression needs numbers"):
        load_data(config["data"])


def test_classification_on_rows_of_targets_names_the_task_not_the_split(tmp_path):
    X = np.random.default_rng(0).normal(size=(40, 2))
    config = files_config(tmp_path, X, (X > 0).astype(int), "data.task='classification'")
    with pytest.raises(ConfigError, match=r'data\.task = "classification" needs one class label '
                                          r"per sample, but the targets of .* have shape "
                                          r"\(40, 2\)"):
        load_data(config["data"])


@pytest.mark.parametrize("task", ["auto", "classification"])
@pytest.mark.parametrize("labels", [np.array([0, 1, 2]), np.array(["a", "b", "c"])])
def test_class_labels_in_one_column_are_classification(tmp_path, task, labels):
    """y of shape (n, 1) is one label per sample: integer labels were trained as a regression,
    refused as "several columns" with data.task = "classification", and text labels failed
    in the Trainer."""
    X = np.random.default_rng(0).normal(size=(60, 2))
    y = labels[np.arange(60) % 3].reshape(-1, 1)
    data = load_data(files_config(tmp_path, X, y, f"data.task={task!r}")["data"])
    assert data.task == "classification" and data.classes.tolist() == labels.tolist()
    assert data.y_train.ndim == 1
    code = main(["train", "--quiet", "--set", "data.dataset=files", "--set",
                 f"data.train={str(tmp_path / 'd.npz')!r}", "--set", "training.epochs=1",
                 "--set", "model.hidden=[3]", "--out", str(tmp_path / "run")])
    assert code == 0
    np.savez(tmp_path / "test.npz", X=X[:9], y=y[:9])  # evaluate reads the column the same way
    assert main(["evaluate", str(tmp_path / "run" / "model.safetensors"), "--data",
                 str(tmp_path / "test.npz")]) == 0


def test_text_targets_in_several_columns_are_a_config_error(tmp_path, capsys):
    """data.task = "auto" reads them as a regression, which needs numbers: refused naming the
    file before training (exit 2), not by the Trainer."""
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = np.where(X > 0, "yes", "no")  # (40, 2)
    config = files_config(tmp_path, X, y)
    with pytest.raises(ConfigError, match=r'the targets of ".*d\.npz" are text '
                                          r"\(\['no', 'yes'\] \.\.\.\) in 2 columns per sample"):
        load_data(config["data"])
    code = main(["train", "--quiet", "--set", "data.dataset=files", "--set",
                 f"data.train={str(tmp_path / 'd.npz')!r}", "--out", str(tmp_path / "run")])
    assert code == 2 and "d.npz" in capsys.readouterr().err


def test_a_tilde_in_out_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    result = run(load_config(overrides=[*CIRCLES, *QUICK]), "~/runs/first")
    assert result.out_dir == tmp_path / "home" / "runs" / "first"
    assert (result.out_dir / "model.safetensors").is_file()
    assert not (tmp_path / "~").exists()


def test_out_below_a_file_is_a_config_error(tmp_path, capsys):
    (tmp_path / "afile").write_text("not a folder")
    code = main(["train", "--quiet", "--set", "training.epochs=1", "--out",
                 str(tmp_path / "afile" / "sub" / "run")])
    assert code == 2
    assert (f"the run folder {tmp_path / 'afile' / 'sub' / 'run'} cannot be created: "
            f"{tmp_path / 'afile'} is a file, not a folder; choose another (--out)"
            ) in capsys.readouterr().err


def test_predict_reads_the_X_of_an_npz(tmp_path):
    X = np.random.default_rng(0).normal(size=(5, 3))
    np.savez(tmp_path / "d.npz", X=X, y=np.arange(5))
    np.testing.assert_array_equal(read_features(tmp_path / "d.npz"), X)
    np.savez(tmp_path / "e.npz", features=X)
    with pytest.raises(ValueError, match=r"e\.npz must hold arrays named X, has \['features'\]"):
        read_features(tmp_path / "e.npz")
