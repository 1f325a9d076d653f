"""predict / evaluate / summary with model files that record their classes and output form.

A model file saved with its Trainer (``save(net, path, trainer=trainer)``) keeps the class
labels (any labels, not only ``0 .. n_classes-1``) and whether the network outputs logits;
the command turns outputs back into those labels and into probabilities. Also: the command
line checks of predict, explain and gradcheck, and training checkpoints given as models.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from chainrule.cli import main
from chainrule.io import load, save
from chainrule.layers.builders import mlp
from chainrule.losses import BinaryCrossEntropy, CrossEntropy
from chainrule.training.checkpoint import save_checkpoint
from chainrule.training.trainer import Trainer


def _blobs(labels, rng, n_per_class=30):
    """Well separated 2-D blobs, one per label: X (n_samples, 2), y (n_samples,)."""
    centers = 4.0 * np.stack([np.cos(np.arange(len(labels))), np.sin(np.arange(len(labels)))], 1)
    index = np.repeat(np.arange(len(labels)), n_per_class)
    X = centers[index] + 0.3 * rng.normal(size=(len(index), 2))
    return X, np.asarray(labels)[index]


def _model(tmp_path, labels, rng, *, from_logits=False, epochs=30):
    """A model file trained on blobs of ``labels`` and saved with its trainer:
    (path, trainer, X, y)."""
    X, y = _blobs(labels, rng)
    n_outputs = 1 if len(labels) == 2 else len(labels)
    if from_logits:
        output = "identity"
        loss = (BinaryCrossEntropy if n_outputs == 1 else CrossEntropy)(from_logits=True)
    else:
        output = "sigmoid" if n_outputs == 1 else "softmax"
        loss = "binary_cross_entropy" if n_outputs == 1 else "cross_entropy"
    net = mlp([2, 8, n_outputs], output=output, dtype=np.float64, seed=0)
    trainer = Trainer(net, loss, {"name": "adam", "lr": 0.05}, batch_size=16, seed=0,
                      verbose=0, metrics=["accuracy", "log_loss"])
    trainer.fit(X, y, epochs=epochs)
    path = tmp_path / "model.safetensors"
    save(net, path, trainer=trainer)
    return str(path), trainer, X, y


def _write_csv(path, X, y=None):
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["a", "b"] + (["label"] if y is not None else []))
        for i, row in enumerate(X.tolist()):
            writer.writerow(row + ([y[i].item()] if y is not None else []))
    return str(path)


def _read_csv(path):
    with open(path, newline="") as file:
        return list(csv.reader(file))


def _printed_metrics(out: str) -> dict[str, float]:
    rows = [line.split() for line in out.splitlines()[1:] if line.strip()]
    return {name: float(value) for name, value in rows}


LABELS = {
    "ints 1..3": [1, 2, 3],
    "strings": ["low", "mid", "high"],
    "-1/1": [-1, 1],
    "years": [1990, 2010],
}


@pytest.mark.parametrize("from_logits", [False, True], ids=["probabilities", "logits"])
@pytest.mark.parametrize("case", LABELS)
def test_predict_writes_the_original_labels(tmp_path, rng, case, from_logits):
    model, trainer, X, y = _model(tmp_path, LABELS[case], rng, from_logits=from_logits)
    expected = trainer.predict(X)
    assert np.mean(expected == y) > 0.9  # a fair test: the model learnt the blobs
    features = _write_csv(tmp_path / "X.csv", X)
    assert main(["predict", model, features, "-o", str(tmp_path / "p.csv")]) == 0
    rows = _read_csv(tmp_path / "p.csv")
    assert rows[0] == ["class"]
    assert [row[0] for row in rows[1:]] == [str(label) for label in expected.tolist()]
    assert main(["predict", model, features, "-o", str(tmp_path / "p.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), expected)


@pytest.mark.parametrize("from_logits", [False, True], ids=["probabilities", "logits"])
@pytest.mark.parametrize(("labels", "header"), [
    (["low", "mid", "high"], ["proba_high", "proba_low", "proba_mid"]),
    # the one sigmoid output p is P(the second class): the columns are 1 - p and p
    ([-1, 1], ["proba_-1", "proba_1"]),
])
def test_predict_proba_writes_one_probability_column_per_class(tmp_path, rng, labels, header,
                                                                from_logits):
    model, trainer, X, _ = _model(tmp_path, labels, rng, from_logits=from_logits, epochs=2)
    features = _write_csv(tmp_path / "X.csv", X)
    assert main(["predict", model, features, "-o", str(tmp_path / "p.csv"), "--proba"]) == 0
    rows = _read_csv(tmp_path / "p.csv")
    assert rows[0] == header
    written = np.array(rows[1:], dtype=np.float64)
    expected = trainer.predict_proba(X)
    if expected.shape[1] == 1:
        expected = np.column_stack([1 - expected[:, 0], expected[:, 0]])
    np.testing.assert_allclose(written, expected, rtol=1e-12)
    np.testing.assert_allclose(written.sum(axis=1), 1.0)


@pytest.mark.parametrize("from_logits", [False, True], ids=["probabilities", "logits"])
@pytest.mark.parametrize("case", LABELS)
def test_evaluate_scores_the_original_labels_like_the_trainer(tmp_path, rng, capsys, case,
                                                              from_logits):
    model, trainer, X, y = _model(tmp_path, LABELS[case], rng, from_logits=from_logits,
                                  epochs=2)
    data = _write_csv(tmp_path / "test.csv", X, y)
    assert main(["evaluate", model, "--data", data, "--target", "label"]) == 0
    printed = _printed_metrics(capsys.readouterr().out)
    expected = trainer.evaluate(X, y)
    assert printed == pytest.approx(
        {"accuracy": expected["accuracy"], "log_loss": expected["log_loss"]}, abs=1e-4)


def test_evaluate_refuses_a_label_the_model_does_not_know(tmp_path, rng, capsys):
    model, _, X, y = _model(tmp_path, [1, 2, 3], rng, epochs=1)
    y = y.copy()
    y[0] = 7
    data = _write_csv(tmp_path / "test.csv", X, y)
    assert main(["evaluate", model, "--data", data, "--target", "label"]) == 1
    assert (f"the target column of {data} (--target label) has labels outside the known "
            f"classes [1, 2, 3] (from {model}): [7]") in capsys.readouterr().err


def test_evaluate_a_regression_model_saved_with_its_trainer(tmp_path, rng, capsys):
    from chainrule.training import metrics

    X = rng.normal(size=(40, 2))
    y = X @ np.array([1.0, -2.0]) + 0.5
    net = mlp([2, 1], output="identity", dtype=np.float64, seed=0)
    trainer = Trainer(net, "mse", "adam", verbose=0, metrics=[])
    trainer.fit(X, y, epochs=2)
    save(net, tmp_path / "model.safetensors", trainer=trainer)
    data = _write_csv(tmp_path / "test.csv", X, y)
    assert main(["evaluate", str(tmp_path / "model.safetensors"), "--data", data,
                 "--target", "label"]) == 0
    outputs = net.forward(X)
    assert _printed_metrics(capsys.readouterr().out) == pytest.approx(
        {"mse": metrics.mean_squared_error(y, outputs),
         "mae": metrics.mean_absolute_error(y, outputs), "r2": metrics.r2_score(y, outputs)},
        abs=1e-4)


def test_evaluate_a_regression_model_trained_on_a_target_column(tmp_path, rng, capsys):
    # trained on y of shape (n, 1), scored against a CSV's target column (n,)
    X = rng.normal(size=(40, 2))
    y = X @ np.array([1.0, -2.0]) + 0.5
    net = mlp([2, 1], output="identity", dtype=np.float64, seed=0)
    trainer = Trainer(net, "mse", "adam", verbose=0, metrics=["mse", "mae", "r2"])
    trainer.fit(X, y.reshape(-1, 1), epochs=2)
    save(net, tmp_path / "model.safetensors", trainer=trainer)
    data = _write_csv(tmp_path / "test.csv", X, y)
    assert main(["evaluate", str(tmp_path / "model.safetensors"), "--data", data,
                 "--target", "label"]) == 0
    expected = trainer.evaluate(X, y.reshape(-1, 1))
    assert _printed_metrics(capsys.readouterr().out) == pytest.approx(
        {name: expected[name] for name in ("mse", "mae", "r2")}, abs=1e-4)


def test_evaluate_a_regression_model_on_one_sample_leaves_r2_out(tmp_path, rng, capsys):
    X = rng.normal(size=(40, 2))
    y = X @ np.array([1.0, -2.0])
    net = mlp([2, 1], output="identity", dtype=np.float64, seed=0)
    Trainer(net, "mse", "adam", verbose=0, metrics=[]).fit(X, y, epochs=1)
    save(net, tmp_path / "model.safetensors")  # without targets: guessed from the activation
    data = _write_csv(tmp_path / "one.csv", X[:1], y[:1])
    assert main(["evaluate", str(tmp_path / "model.safetensors"), "--data", data]) == 0
    captured = capsys.readouterr()
    error = float((net.forward(X[:1])[0, 0] - y[0]) ** 2)
    assert _printed_metrics(captured.out) == pytest.approx(
        {"mse": error, "mae": np.sqrt(error)}, abs=1e-4)
    assert "(1 sample)" in captured.out
    assert captured.err == (f"chainrule: note: r2 is left out: R² needs at least 2 samples, and "
                            f"{data} has 1\n")


def test_summary_names_the_task_classes_and_logits(tmp_path, rng, capsys):
    model, *_ = _model(tmp_path, ["no", "yes"], rng, from_logits=True, epochs=1)
    assert main(["summary", model]) == 0
    assert ("task: binary, classes: ['no', 'yes']; the outputs are logits (probabilities = "
            "sigmoid of them)") in capsys.readouterr().out


def test_predict_without_stored_classes_says_they_are_output_indices(tmp_path, rng, capsys):
    net = mlp([2, 3], output="softmax", seed=0)
    save(net, tmp_path / "model.safetensors")  # no trainer: an older or bare model file
    X = rng.normal(size=(5, 2))
    np.save(tmp_path / "X.npy", X)
    assert main(["predict", str(tmp_path / "model.safetensors"), str(tmp_path / "X.npy"),
                 "-o", str(tmp_path / "p.npy")]) == 0
    np.testing.assert_array_equal(np.load(tmp_path / "p.npy"), net.forward(X).argmax(axis=1))
    assert "does not record its class labels" in capsys.readouterr().err


def test_predict_without_stored_labels_writes_one_column_per_sigmoid_output(tmp_path, rng,
                                                                          capsys):
    from chainrule.tables import read_table

    net = mlp([3, 4, 2], output="sigmoid", dtype=np.float64, seed=0)
    save(net, tmp_path / "model.safetensors")  # no trainer: a multilabel guess from Sigmoid
    X = rng.normal(size=(6, 3)) * 3
    np.save(tmp_path / "X.npy", X)
    assert main(["predict", str(tmp_path / "model.safetensors"), str(tmp_path / "X.npy"),
                 "-o", str(tmp_path / "p.csv")]) == 0
    rows = _read_csv(tmp_path / "p.csv")
    assert rows[0] == ["output_0", "output_1"]  # one name per column, as with stored labels
    expected = (net.forward(X) > 0.5).astype(np.int64)
    assert [[int(v) for v in row] for row in rows[1:]] == expected.tolist()
    err = capsys.readouterr().err
    assert "output indices" not in err
    assert "does not record its labels" in err and "1 where that output is > 0.5" in err
    features, last = read_table(tmp_path / "p.csv")  # chainrule reads it back, every row
    np.testing.assert_array_equal(np.column_stack([features, last]), expected)


def test_evaluate_reads_several_sigmoid_outputs_without_stored_labels_as_predict_does(
        tmp_path, rng, capsys):
    from chainrule.training import metrics

    net = mlp([3, 4, 2], output="sigmoid", dtype=np.float64, seed=0)
    model = str(tmp_path / "model.safetensors")
    save(net, model)  # no trainer: multilabel, guessed from Sigmoid, for both commands
    X = rng.normal(size=(12, 3)) * 3
    Y = (rng.random((12, 2)) > 0.5).astype(np.int64)
    np.savez(tmp_path / "data.npz", X=X, y=Y)
    assert main(["evaluate", model, "--data", str(tmp_path / "data.npz")]) == 0
    captured = capsys.readouterr()
    P = net.forward(X)
    assert _printed_metrics(captured.out) == pytest.approx(
        {"accuracy": metrics.multilabel_accuracy(Y, P),
         "log_loss": metrics.multilabel_log_loss(Y, P)}, abs=1e-4)
    assert "1 where that output is > 0.5 (multilabel)" in captured.err  # as predict says
    np.save(tmp_path / "X.npy", X)
    assert main(["predict", model, str(tmp_path / "X.npy"), "-o", str(tmp_path / "p.npy")]) == 0
    predicted = np.load(tmp_path / "p.npy")
    np.testing.assert_array_equal(predicted, (P > 0.5).astype(np.int64))
    assert np.all(predicted == Y, axis=1).mean() == pytest.approx(
        metrics.multilabel_accuracy(Y, P))  # the accuracy evaluate reports


@pytest.mark.parametrize(("output", "labels", "classes", "outputs", "shown"), [
    ("sigmoid", [0, 1, 9], "[0, 1]", "the sigmoid output", "[9]"),
    ("softmax", [0, 1, 29], "[0, 1, 2]", "the 3 softmax outputs", "[29]"),
    ("softmax", ["a", "b", "c"], "[0, 1, 2]", "the 3 softmax outputs", "['a', 'b', 'c']"),
])
def test_evaluate_without_stored_classes_names_the_target_column_and_the_outputs(
        tmp_path, rng, capsys, output, labels, classes, outputs, shown):
    net = mlp([2, 3 if output == "softmax" else 1], output=output, seed=0)
    model = str(tmp_path / "model.safetensors")
    save(net, model)
    data = _write_csv(tmp_path / "test.csv", rng.normal(size=(3, 2)), np.array(labels))
    assert main(["evaluate", model, "--data", data]) == 1
    err = capsys.readouterr().err
    assert (f"chainrule: error: the target column of {data} (--target -1) has labels outside "
            f"the known classes {classes} (from {outputs} of {model}, saved without class "
            f"labels): {shown}\n") in err
    assert "y_true" not in err and "y_pred" not in err and "other argument" not in err


@pytest.mark.parametrize("output", ["identity", "sigmoid"])
def test_evaluate_without_stored_targets_names_the_outputs_a_target_column_lacks(
        tmp_path, rng, capsys, output):
    net = mlp([2, 2], output=output, seed=0)  # 2 regression values, or 2 yes/no labels
    model = str(tmp_path / "model.safetensors")
    save(net, model)
    data = _write_csv(tmp_path / "test.csv", rng.normal(size=(3, 2)), np.array([0, 1, 1]))
    assert main(["evaluate", model, "--data", data]) == 1
    err = capsys.readouterr().err
    outputs = ("2 outputs of {model}, saved without targets (regression), take 2 values" if
               output == "identity" else "2 sigmoid outputs of {model}, saved without labels "
               "(multilabel), take 2 yes/no labels")
    assert (f"chainrule: error: the target column of {data} (--target -1) has shape (3,), but "
            f"the {outputs.format(model=model)} per sample: shape (n_samples, 2)\n") in err


@pytest.mark.parametrize("name", ["p.npz", "p.txt", "p", "p.CSV.gz"])
def test_predict_refuses_an_output_suffix_it_cannot_write(tmp_path, rng, capsys, name):
    net = mlp([2, 3], output="softmax", seed=0)
    save(net, tmp_path / "model.safetensors")
    np.save(tmp_path / "X.npy", rng.normal(size=(3, 2)))
    output = tmp_path / name
    code = main(["predict", str(tmp_path / "model.safetensors"), str(tmp_path / "X.npy"),
                 "-o", str(output)])
    assert code == 2
    assert (f"-o/--output must end in .csv or .npy (the format written), got '{output}'"
            in capsys.readouterr().err)
    assert not output.exists()


def test_a_training_checkpoint_summary_works_and_predict_evaluate_explain(tmp_path, rng, capsys):
    model, trainer, X, y = _model(tmp_path, [1, 2, 3], rng, epochs=1)
    checkpoint = tmp_path / "checkpoint.safetensors"
    save_checkpoint(trainer, checkpoint)
    assert main(["summary", str(checkpoint)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{checkpoint}: a training checkpoint")
    assert load(model).summary() in out
    features = _write_csv(tmp_path / "X.csv", X)
    data = _write_csv(tmp_path / "test.csv", X, y)
    for argv in (["predict", str(checkpoint), features, "-o", str(tmp_path / "p.csv")],
                 ["evaluate", str(checkpoint), "--data", data, "--target", "label"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert f"{checkpoint} is a training checkpoint" in err
        assert "use the run's model.safetensors" in err and "resume_from=path" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["explain", "--samples", "0"], "--samples must be at least 2 for the built-in two-circles"),
    (["explain", "--samples", "1"], "--samples must be at least 2 for the built-in two-circles"),
    (["explain", "--samples", "0", "--set", "data.dataset=circles"],
     "--samples must be at least 1, got 0"),
    (["gradcheck", "--max-checks", "0"], "--max-checks must be at least 1, got 0"),
    (["gradcheck", "--max-checks", "-3"], "--max-checks must be at least 1, got -3"),
])
def test_bad_counts_are_usage_errors_naming_the_flag(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_explain_with_two_samples_explains_two(capsys):
    assert main(["explain", "--samples", "2"]) == 0
    assert "on a batch of n_samples = 2" in capsys.readouterr().out


def test_a_trained_run_predicts_and_evaluates_its_own_labels(tmp_path, rng, capsys):
    X, y = _blobs([1, 2, 3], rng)
    data = _write_csv(tmp_path / "train.csv", X, y)
    out = tmp_path / "run"
    assert main(["train", "--set", "data.dataset=files", "--set", f"data.train={data}",
                 "--set", "training.epochs=20", "--out", str(out), "--quiet"]) == 0
    features = _write_csv(tmp_path / "X.csv", X)
    assert main(["predict", str(out / "model.safetensors"), features, "-o",
                 str(tmp_path / "p.npy")]) == 0
    predicted = np.load(tmp_path / "p.npy")
    assert set(predicted.tolist()) <= {1, 2, 3} and np.mean(predicted == y) > 0.9
    capsys.readouterr()
    assert main(["evaluate", str(out / "model.safetensors"), "--config",
                 str(out / "config.toml")]) == 0
    assert "accuracy" in capsys.readouterr().out
