"""Review 4 of the command line and data path: Ctrl-C in the first epoch, labels and fields of
data files, a separate test file checked before training, a failed run's folder (and the
earlier run under --overwrite), data.options values, dropout after the output, binary
--proba columns, ``~`` in data paths, and smaller command-line checks."""

from __future__ import annotations

import csv
import json
import os
import signal
import tomllib

import numpy as np
import pytest
from _run_helpers import CIRCLES, circles_config, snapshot, with_callback

from chainrule.cli import main
from chainrule.config import ConfigError, load_config
from chainrule.experiment import load_data, run, runner
from chainrule.io import save
from chainrule.layers.builders import mlp
from chainrule.training.callbacks import LambdaCallback
from chainrule.training.checkpoint import checkpoint_network
from chainrule.training.trainer import Trainer


def fail_at_epoch(monkeypatch, epoch: int) -> None:
    """Every run crashes at the end of ``epoch`` (before a checkpoint of that epoch)."""
    def crash(trainer, at, logs):
        if at == epoch:
            raise RuntimeError(f"crash at epoch {at}")

    with_callback(monkeypatch, LambdaCallback(on_epoch_end=crash))


def write_rows(path, rows: list[str]) -> str:
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def two_class_rows(rng, n: int, labels=("0", "1")) -> list[str]:
    X = rng.normal(size=(n, 2))
    return [f"{a:.6f},{b:.6f},{labels[int(a > 0)]}" for a, b in X]


# ------------------------------------------------------------------ 1. Ctrl-C in the first epoch


def test_ctrl_c_in_the_first_epoch_writes_the_folder_without_a_history_plot(
        tmp_path, monkeypatch, capsys):
    def ctrl_c(trainer, epoch, batch, logs):
        if epoch == 1 and batch == 1:
            signal.raise_signal(signal.SIGINT)  # one Ctrl-C: fit stops after this batch

    with_callback(monkeypatch, LambdaCallback(on_batch_end=ctrl_c))
    out = tmp_path / "run"
    code = main(["train", *(f"--set={o}" for o in CIRCLES), "--set=training.epochs=5",
                 "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 130, captured.err
    assert "error" not in captured.err
    assert captured.out.startswith("test: loss ")
    files = {path.name for path in out.iterdir()}
    assert {"config.toml", "model.safetensors", "history.csv", "metrics.json"} <= files
    assert "history.png" not in files and "confusion_matrix.png" in files
    summary = json.loads((out / "metrics.json").read_text())
    assert summary["interrupted"] is True and summary["epochs"] == 0
    assert summary["history_plot"] == "none: no epoch completed, so history.png was not drawn"
    assert (out / "history.csv").read_text().splitlines() == ["epoch"]


def test_a_run_with_epochs_has_no_history_plot_note(tmp_path):
    run(circles_config(), tmp_path / "run")
    assert "history_plot" not in json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert (tmp_path / "run" / "history.png").is_file()


# ------------------------------------------------------------------ 2a. fields of data files


def test_a_blank_label_is_refused_instead_of_becoming_a_class(tmp_path, rng, capsys):
    rows = ["a,b,label", *two_class_rows(rng, 30)]
    rows[6] = rows[6].rsplit(",", 1)[0] + ","
    path = write_rows(tmp_path / "missing.csv", rows)
    code = main(["train", "--set=data.dataset=files", f"--set=data.train='{path}'",
                 "--set=training.epochs=1", "--quiet", "--out", str(tmp_path / "run")])
    assert code == 1
    assert capsys.readouterr().err.startswith(
        f"chainrule: error: {path}, line 7, column 3 (label): the target is missing")
    assert not (tmp_path / "run").exists()


def test_predict_on_a_header_only_csv_says_no_data_rows(tmp_path, rng, capsys):
    net = mlp([2, 3, 1], output="sigmoid", seed=0)
    save(net, tmp_path / "m.safetensors")
    write_rows(tmp_path / "h.csv", ["x1,x2"])
    code = main(["predict", str(tmp_path / "m.safetensors"), str(tmp_path / "h.csv"),
                 "-o", str(tmp_path / "p.csv")])
    assert code == 1
    assert "h.csv has no data rows (only a header: x1,x2)" in capsys.readouterr().err


# ------------------------------------------------------------------ 2b / 3. data.test checks


@pytest.mark.parametrize("test_labels, shown", [
    (("0.5", "1.5"), r"\[0\.5, 1\.5\]"),
    (("no", "yes"), r"\['no', 'yes'\]"),
    (("0", "2"), r"\[2\]"),
])
def test_test_labels_the_training_labels_cannot_explain_are_refused_before_training(
        tmp_path, rng, test_labels, shown):
    train = write_rows(tmp_path / "tr.csv", two_class_rows(rng, 40))
    test = write_rows(tmp_path / "te.csv", two_class_rows(rng, 20, test_labels))
    config = load_config(overrides=["data.dataset=files", f"data.train='{train}'",
                                    f"data.test='{test}'", "training.verbose=0"])
    with pytest.raises(ConfigError, match=r"data\.test = .*te\.csv\" has labels that are not "
                                          r"among the classes of the training data "
                                          rf"\(.*tr\.csv\": \[0, 1\]\): {shown}"):
        run(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_a_test_file_of_another_width_is_refused_before_training(tmp_path, rng, capsys):
    train = write_rows(tmp_path / "tr.csv", two_class_rows(rng, 40))
    test = write_rows(tmp_path / "te.csv", [f"0.1,{r}" for r in two_class_rows(rng, 10)])
    code = main(["train", "--set=data.dataset=files", f"--set=data.train='{train}'",
                 f"--set=data.test='{test}'", "--quiet", "--out", str(tmp_path / "run")])
    assert code == 2
    assert capsys.readouterr().err.startswith(
        f'chainrule: error: data.test = "{test}" has 3 features, but the training data '
        f'("{train}") has 2')
    assert not (tmp_path / "run").exists()


def test_text_targets_in_the_test_file_of_a_regression_are_refused(tmp_path, rng):
    train = write_rows(tmp_path / "tr.csv", [f"{a:.4f},{a * 2:.4f}" for a in rng.normal(size=30)])
    test = write_rows(tmp_path / "te.csv", ["0.1,high", "0.2,low"])
    with pytest.raises(ConfigError, match=r"data\.test = .*te\.csv\" holds text targets "
                                          r"\(\['high', 'low'\] \.\.\.\), but the task is "
                                          "regression"):
        load_data({"dataset": "files", "train": train, "test": test, "task": "regression"})


# ------------------------------------------------------------------ 3. a failed run's folder


def test_a_diverged_overwrite_keeps_the_earlier_run(tmp_path, capsys):
    out = tmp_path / "run"
    run(circles_config(), out)
    (out / "notes.txt").write_text("mine")
    before = snapshot(out)
    code = main(["train", *(f"--set={o}" for o in CIRCLES), "--set=optimizer.name=sgd",
                 "--set=optimizer.lr=1e10", "--out", str(out), "--overwrite"])
    assert code == 1  # training diverges, or the test set's outputs overflow after training
    assert capsys.readouterr().err.startswith("chainrule: error: ")
    assert snapshot(out) == before
    assert [path.name for path in tmp_path.iterdir()] == ["run"]  # no backup left behind


def test_a_failed_run_leaves_no_folder(tmp_path, monkeypatch):
    fail_at_epoch(monkeypatch, 1)
    with pytest.raises(RuntimeError, match="crash at epoch 1") as caught:
        run(circles_config(), tmp_path / "a" / "run")
    assert list(tmp_path.iterdir()) == []
    assert not getattr(caught.value, "__notes__", None)  # no checkpoint to speak of
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError):
        run(circles_config(), None)
    assert list(tmp_path.iterdir()) == []  # runs/ too


def test_a_failure_while_writing_the_results_restores_the_earlier_run(tmp_path, monkeypatch):
    out = tmp_path / "run"
    run(circles_config(), out)
    before = snapshot(out)

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(runner, "write_plots", disk_full)
    with pytest.raises(OSError, match="No space left"):
        run(circles_config("training.epochs=1", "model.seed=3"), out, overwrite=True)
    assert snapshot(out) == before


def test_a_second_ctrl_c_while_writing_restores_the_earlier_run(tmp_path, monkeypatch):
    out = tmp_path / "run"
    run(circles_config(), out)
    before = snapshot(out)

    def ctrl_c(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "write_history", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        run(circles_config("model.seed=3"), out, overwrite=True)
    assert snapshot(out) == before


def test_a_failed_run_keeps_its_checkpoint_and_says_where(tmp_path, monkeypatch, capsys):
    fail_at_epoch(monkeypatch, 2)
    out = tmp_path / "run"
    code = main(["train", *(f"--set={o}" for o in CIRCLES), "--set=training.epochs=3",
                 "--set=callbacks.checkpoint={}", "--out", str(out)])
    assert code == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "chainrule: error: crash at epoch 2"
    assert err[1].startswith(f"chainrule: note: the training checkpoint of this run is kept at "
                             f"{out / 'checkpoint.safetensors'} (resume from it with")
    assert [path.name for path in out.iterdir()] == ["checkpoint.safetensors"]


def test_a_run_failing_after_a_ctrl_c_keeps_the_checkpoint_written_at_the_ctrl_c(
        tmp_path, monkeypatch):
    """The only checkpoint is the mid-epoch one written at Ctrl-C; a second Ctrl-C while the
    results are written fails the run, which keeps that checkpoint and says where."""
    def ctrl_c(trainer, epoch, batch, logs):
        if (epoch, batch) == (1, 1):  # mid-epoch: no epoch's end was written
            signal.raise_signal(signal.SIGINT)

    def second_ctrl_c(*args):
        raise KeyboardInterrupt

    with_callback(monkeypatch, LambdaCallback(on_batch_end=ctrl_c))
    monkeypatch.setattr(runner, "write_history", second_ctrl_c)
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt) as caught:
        run(circles_config("callbacks.checkpoint={}", "training.epochs=3"), out)
    kept = out / "checkpoint.safetensors"
    assert caught.value.__notes__[0].startswith(
        f"the training checkpoint of this run is kept at {kept} ")
    assert [path.name for path in out.iterdir()] == ["checkpoint.safetensors"]
    assert checkpoint_network(kept).out_features == 1


def test_a_failed_overwrite_keeps_both_checkpoints(tmp_path, monkeypatch):
    out = tmp_path / "run"
    run(circles_config("callbacks.checkpoint={}"), out)
    before = snapshot(out)
    fail_at_epoch(monkeypatch, 2)
    with pytest.raises(RuntimeError) as caught:
        run(circles_config("callbacks.checkpoint={}", "training.epochs=3", "model.seed=3"),
            out, overwrite=True)
    kept = out / "checkpoint.failed.safetensors"
    assert caught.value.__notes__[0].startswith(
        f"the training checkpoint of this run is kept at {kept} ")
    after = snapshot(out)
    failed = after.pop("checkpoint.failed.safetensors")
    assert after == before and failed != before["checkpoint.safetensors"]
    assert checkpoint_network(kept).out_features == 1


def test_a_run_that_cannot_move_the_earlier_files_aside_leaves_them(tmp_path, monkeypatch):
    out = tmp_path / "run"
    run(circles_config(), out)
    before = snapshot(out)
    moves = []
    replace = os.replace

    def flaky_replace(source, target):
        moves.append(source)
        if len(moves) == 3:
            raise PermissionError(13, "Permission denied")
        replace(source, target)

    monkeypatch.setattr(os, "replace", flaky_replace)  # the third file moved aside fails
    with pytest.raises(PermissionError):
        run(circles_config("model.seed=3"), out, overwrite=True)
    monkeypatch.undo()
    assert snapshot(out) == before
    assert [path.name for path in tmp_path.iterdir()] == ["run"]


def test_a_successful_overwrite_leaves_no_backup(tmp_path):
    out = tmp_path / "run"
    run(circles_config(), out)
    run(circles_config("training.epochs=1"), out, overwrite=True)
    assert [path.name for path in tmp_path.iterdir()] == ["run"]
    assert json.loads((out / "metrics.json").read_text())["epochs"] == 1


# ------------------------------------------------------------------ 4. data.options and files


@pytest.mark.parametrize("overrides, message", [
    (["data.dataset=circles", "data.options.noise=-1"],
     r"^data\.options\.noise must be in \[0, inf\), got -1\.0$"),
    (["data.dataset=files", "data.train=nonexist.csv"],
     r'^data\.train = "nonexist\.csv": the file nonexist\.csv does not exist'),
    (["data.dataset=files", "data.train=here", "data.test=nonexist.csv"],
     r'^data\.test = "nonexist\.csv": the file nonexist\.csv does not exist'),
    (["data.dataset=files", "data.train=sub"], r'^data\.train = "sub": the file sub is a folder'),
])
def test_bad_data_values_are_config_errors_naming_the_key(tmp_path, monkeypatch, capsys,
                                                           overrides, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    write_rows(tmp_path / "here", ["0.1,0.2,0", "0.3,0.4,1"])
    with pytest.raises(ConfigError, match=message):
        load_data(load_config(overrides=overrides)["data"])
    assert main(["train", *(f"--set={o}" for o in overrides)]) == 2
    assert not (tmp_path / "runs").exists()


# ------------------------------------------------------------------ 6. dropout after the output


def test_dropout_on_the_output_layer_names_the_dropout(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # a regression would train and write runs/ here
    layers = 'model.layers=[{input_dim=64,output_dim=10,activation="softmax",dropout=0.5}]'
    code = main(["train", "--set", layers])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith('chainrule: error: model.layers[-1].dropout = 0.5 puts a Dropout layer '
                          'after the output activation ("softmax"): ')
    assert "Remove dropout from the last model.layers entry" in err
    assert 'activation = "softmax"' not in err  # the old advice: set what is already set


# ------------------------------------------------------------------ 7. --proba of a binary model


def test_proba_of_a_single_sigmoid_model_without_classes_writes_two_columns(tmp_path, rng):
    net = mlp([2, 3, 1], output="sigmoid", dtype=np.float64, seed=0)
    save(net, tmp_path / "m.safetensors")  # no trainer: no classes recorded
    X = rng.normal(size=(5, 2))
    np.save(tmp_path / "X.npy", X)
    assert main(["predict", str(tmp_path / "m.safetensors"), str(tmp_path / "X.npy"),
                 "-o", str(tmp_path / "p.csv"), "--proba"]) == 0
    with open(tmp_path / "p.csv", newline="") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["proba_0", "proba_1"]
    p = net.forward(X)[:, 0]
    np.testing.assert_allclose(np.array(rows[1:], float), np.column_stack([1 - p, p]))


def test_proba_of_a_multilabel_model_keeps_one_column_per_label(tmp_path, rng):
    X = rng.normal(size=(40, 2))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X.sum(axis=1) > 0]).astype(np.int64)
    net = mlp([2, 4, 3], output="sigmoid", dtype=np.float64, seed=0)
    trainer = Trainer(net, "binary_cross_entropy", {"name": "adam", "lr": 0.05}, verbose=0)
    trainer.fit(X, Y, epochs=2)
    save(net, tmp_path / "m.safetensors", trainer=trainer)
    np.save(tmp_path / "X.npy", X)
    assert main(["predict", str(tmp_path / "m.safetensors"), str(tmp_path / "X.npy"),
                 "-o", str(tmp_path / "p.npy"), "--proba"]) == 0
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), net.forward(X))


# ------------------------------------------------------------------ 8. ~ in data paths


def test_a_tilde_in_data_train_and_test_is_the_home_folder(tmp_path, rng, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    write_rows(tmp_path / "tr.csv", two_class_rows(rng, 40))
    write_rows(tmp_path / "te.csv", two_class_rows(rng, 10))
    config = load_config(overrides=["data.dataset=files", "data.train='~/tr.csv'",
                                    "data.test='~/te.csv'", "model.hidden=[3]",
                                    "training.epochs=1", "training.verbose=0"])
    result = run(config, tmp_path / "run")
    assert len(result.data.y_test) == 10
    written = tomllib.loads((tmp_path / "run" / "config.toml").read_text())
    assert written["data"]["train"] == str(tmp_path / "tr.csv")


# ------------------------------------------------------------------ 9. smaller checks


def test_a_repeated_metric_is_refused_by_the_config_check():
    with pytest.raises(ConfigError, match=r"^training\.metrics lists 'accuracy' twice; give each "
                                          "metric once$"):
        load_config(overrides=['training.metrics=["accuracy", "accuracy"]'])


def test_datasets_list_takes_no_name(capsys):
    assert main(["datasets", "list", "extra"]) == 2
    assert "datasets list takes no NAME, got 'extra'" in capsys.readouterr().err


def test_evaluate_errors_name_the_options_typed(tmp_path, rng, capsys):
    net = mlp([2, 3, 1], output="sigmoid", seed=0)
    model = str(tmp_path / "m.safetensors")
    save(net, model)
    assert main(["evaluate", model, "--data", "foo"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule: error: --data: unknown dataset 'foo'; give a dataset name")
    assert "data.dataset" not in err
    data = write_rows(tmp_path / "d.csv", ["a,b,label", *two_class_rows(rng, 10)])
    assert main(["evaluate", model, "--data", data, "--target", "kind"]) == 2
    assert capsys.readouterr().err.startswith(
        f"chainrule: error: --target: no column 'kind' in {data} (header: ['a', 'b', 'label'])")
    assert main(["evaluate", model, "--data", str(tmp_path / "none.csv")]) == 2
    assert f"--data {tmp_path / 'none.csv'}: no such file" in capsys.readouterr().err
