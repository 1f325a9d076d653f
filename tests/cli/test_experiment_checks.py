"""Configs that do not fit their data are refused before training, naming the key: the output
and the loss, the metrics, the callbacks, the classes and the split sizes."""

from __future__ import annotations

import pytest

from chainrule.cli import main
from chainrule.config import ConfigError, load_config
from chainrule.experiment import build_network, build_trainer, load_data, run

CIRCLES = ["data.dataset=circles", "data.options={n_samples=60}", "model.hidden=[3]",
           "training.epochs=1", "training.verbose=0"]
DIGITS = ["data.limit=200", "model.hidden=[8]", "training.epochs=1", "training.verbose=0"]
REGRESSION = ["data.dataset=regression", "data.options={n_samples=60}", "model.hidden=[3]",
              "training.epochs=1", "training.verbose=0"]


def without_builder(base: list[str]) -> list[str]:
    """``base`` without its ``model.hidden`` (a config with ``model.layers`` may not set it)."""
    return [override for override in base if not override.startswith("model.hidden")]


def refused(base: list[str], *overrides: str) -> str:
    """The ConfigError message of building the run's trainer (data, network, loss, trainer)."""
    config = load_config(overrides=[*base, *overrides])
    with pytest.raises(ConfigError) as info:
        data = load_data(config["data"])
        build_trainer(config, build_network(config, data), data, callbacks=[])
    return str(info.value)


# ------------------------------------------------------------------ the output and the loss


@pytest.mark.parametrize(
    "base, overrides, message",
    [
        # softmax over a single output is always 1
        (CIRCLES, ["model.output=softmax"],
         ('model.output = "softmax" does not fit the data (2 classes): softmax divides each '
         'output by the sum of all of them, so it needs one output per class (with a single '
         'output it is always 1); use model.output = "sigmoid" (or "auto")')),
        (REGRESSION, ["model.output=softmax"],
         'model.output = "softmax" does not fit the data (regression)'),
        (without_builder(CIRCLES),
         ["model.layers=[{input_dim=2, output_dim=1, activation='softmax'}]"],
         'model.layers[-1].activation = "softmax" does not fit the data (2 classes)'),
        # sigmoid outputs do not sum to 1 over 10 classes
        (DIGITS, ["model.output=sigmoid"],
         ('model.output = "sigmoid" does not give the probabilities that sum to 1 over the 10 '
         'classes that the loss ("auto": cross_entropy) expects (loss.from_logits = false): use '
         'model.output = "softmax" (or "auto"), or set loss.from_logits = true')),
        # raw scores with a cross-entropy that expects probabilities (was "loss is nan ...
        # targets or inputs too large")
        (DIGITS, ["model.output=identity"],
         ('model.output = "identity" gives raw scores (logits), not the probabilities that sum '
         'to 1 over the 10 classes that the loss ("auto": cross_entropy) expects '
         '(loss.from_logits = false): use model.output = "softmax" (or "auto"), or set '
         "loss.from_logits = true to train on raw scores")),
        (without_builder(DIGITS), ["model.layers=[{input_dim=64, output_dim=10}]"],
         ("model.layers[-1] (no activation) gives raw scores (logits), not the probabilities "
         'that sum to 1 over the 10 classes that the loss ("auto": cross_entropy) expects '
         '(loss.from_logits = false): give the last model.layers entry activation = "softmax", '
         "or set loss.from_logits = true")),
        (CIRCLES, ["model.output=relu"],
         ('model.output = "relu" does not give the probabilities in [0, 1] that the loss '
         '("auto": binary_cross_entropy) expects (loss.from_logits = false): use model.output = '
         '"sigmoid" (or "auto")')),
        # logits expected, probabilities given
        (DIGITS, ["loss.name=cross_entropy", "loss.from_logits=true"],
         ('model.output = "auto" already turns the outputs into probabilities, but '
         "loss.from_logits = true expects raw scores (logits)")),
        # a loss of the other task, or of the other number of classes
        (DIGITS, ["loss.name=mse"],
         ('loss.name = "mse" is a regression loss, but the data (10 classes) is classification: '
         'use "auto" (cross-entropy), or set data.task = "regression" if y holds values to '
         "predict")),
        (CIRCLES, ["loss.name=huber"], 'loss.name = "huber" is a regression loss'),
        (REGRESSION, ["loss.name=cross_entropy"],
         ('loss.name = "cross_entropy" is a classification loss, but the data (regression) holds '
         'values to predict: use "mse", "mae", "huber" or "auto"')),
        (CIRCLES, ["loss.name=cross_entropy"],
         ('loss.name = "cross_entropy" needs one output per class, but two classes get a single '
         'sigmoid output: use "binary_cross_entropy" or "auto"')),
        (DIGITS, ["loss.name=bce"],
         ('loss.name = "bce" is for two classes (one sigmoid output), but the data (10 classes) '
         'has more: use "cross_entropy" or "auto"')),
    ],
)
def test_an_output_or_loss_that_does_not_fit_the_data(base, overrides, message):
    assert message in refused(base, *overrides)


def test_logits_with_from_logits_true_are_accepted():
    config = load_config(overrides=[*DIGITS, "model.output=identity", "loss.name=cross_entropy",
                                    "loss.from_logits=true"])
    data = load_data(config["data"])
    trainer = build_trainer(config, build_network(config, data), data, callbacks=[])
    assert trainer.loss.from_logits


# ------------------------------------------------------------------ data: classes and splits


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["data.dataset=blobs", "data.options={centers=1}"],
         ("the blobs data has a single class ([0]), and classification needs at least 2: check "
         "data.options = { centers = 1 }")),
        (["data.dataset=spiral", "data.options={n_classes=1}"],
         "the spiral data has a single class ([0])"),
        # a stratified split too small for one sample of each class on each side: the key and
        # the values that work, in the config's own terms
        (["data.validation_size=1e-9"],
         ("data.validation_size = 1e-09 puts 1 of the 1437 samples left after the test part in "
         "the validation part, but a split stratified by class needs 10 to 1427 there (one "
         "sample of each of the 10 classes on each side): use data.validation_size between "
         "0.00502 and 0.794, or 0 for no validation part")),
        (["data.limit=30"],
         ("data.test_size = 0.2 puts 6 of the 30 samples in the test part, but a split "
         "stratified by class needs 10 to 20 there (one sample of each of the 10 classes on "
         "each side): use data.test_size between 0.301 and 0.666, or raise data.limit (now 30)")),
        (["data.dataset=moons", "data.options={n_samples=6}", "data.test_size=0.1"],
         ("data.test_size = 0.1 puts 1 of the 6 samples in the test part, but a split "
         "stratified by class needs 2 to 4 there (one sample of each of the 2 classes on each "
         "side): use data.test_size between 0.167 and 0.666")),
        (["data.dataset=moons", "data.options={n_samples=6}", "data.test_size=0.5",
          "data.validation_size=0.4"],
         ("data.validation_size = 0.4 puts 3 of the 3 samples left after the test part in the "
         "validation part, but each side needs a sample, so 1 to 2: use data.validation_size "
         "of at most 0.333, or 0 for no validation part")),
        (["data.dataset=regression", "data.options={n_samples=4}", "data.test_size=0.5",
          "data.validation_size=0.45"],
         ("data.validation_size = 0.45 puts 2 of the 2 samples left after the test part in the "
         "validation part, but each side needs a sample, so 1 to 1: use data.validation_size of "
         "at most 0.25, or 0 for no validation part")),
    ],
)
def test_data_that_cannot_be_classified_or_split(overrides, message):
    with pytest.raises(ConfigError) as info:
        load_data(load_config(overrides=overrides)["data"])
    assert message in str(info.value)


@pytest.mark.parametrize(
    "rows, overrides, message",
    [
        # two samples of two classes: the test part takes one, the validation part has none left
        ("0.1,0.2,0\n0.3,0.4,1\n", [],
         ("data.validation_size = 0.1 puts 1 of the 1 samples left after the test part in the "
          "validation part, but each side needs a sample: use more data (1 sample is too few "
          "for this split), or 0 for no validation part")),
        # classes of one sample each may all go to the test part, but a sample must stay
        ("1,0\n2,1\n3,2\n", ["data.test_size=0.7", "data.validation_size=0"],
         ("data.test_size = 0.7 puts 3 of the 3 samples in the test part, but each side needs a "
          "sample, so 1 to 2: use data.test_size of at most 0.666")),
    ],
)
def test_classes_of_one_sample_still_leave_a_training_sample(tmp_path, rows, overrides,
                                                             message):
    (tmp_path / "tiny.csv").write_text(rows)
    config = load_config(overrides=["data.dataset=files", f"data.train='{tmp_path / 'tiny.csv'}'",
                                    *overrides])
    with pytest.raises(ConfigError) as info:
        load_data(config["data"])
    assert str(info.value) == message


def test_the_suggested_sizes_work():
    """The bounds the message gives are values that split."""
    for low, high in (("0.00502", "0.794"),):
        for size in (low, high):
            data = load_data(load_config(overrides=[f"data.validation_size={size}"])["data"])
            assert set(data.y_val.tolist()) == set(range(10))
    for size, n_test in (("0.301", 10), ("0.666", 20)):
        data = load_data(load_config(overrides=["data.limit=30", f"data.test_size={size}",
                                                "data.validation_size=0"])["data"])
        assert len(data.y_test) == n_test


def test_a_files_dataset_without_train_is_a_config_error():
    """As ``chainrule evaluate M --data files`` builds it (it gave a bare KeyError 'train')."""
    with pytest.raises(ConfigError, match='data.train is required when data.dataset = "files": '
                                          "the path of a .csv, .npz or .npy file"):
        load_data({"dataset": "files"})


# ------------------------------------------------------------------ metrics and callbacks


@pytest.mark.parametrize(
    "base, overrides, message",
    [
        (DIGITS, ['training.metrics=["r2"]'],
         ('training.metrics: "r2" is a regression metric, but the data (10 classes) is '
         'classification; use "accuracy", "log_loss" or "auto"')),
        (REGRESSION, ['training.metrics=["accuracy"]'],
         ('training.metrics: "accuracy" is a classification metric, but the data (regression) '
         'is regression; use "mae", "mse", "r2" or "auto"')),
        # r2 needs two samples in every part it is computed on, the test part included
        (["data.dataset=regression", "data.options={n_samples=10}"], [],
         ('training.metrics = "auto" includes "r2", which needs at least 2 samples, but the '
         "validation part has 1: change data.validation_size, use more data, or leave r2 out "
         '(training.metrics = ["mae"])')),
        (["data.dataset=regression", "data.options={n_samples=5}", "data.validation_size=0"],
         ['training.metrics=["mae", "r2"]'],
         ('training.metrics includes "r2", which needs at least 2 samples, but the test part '
         "has 1: change data.test_size")),
        (DIGITS, ["data.validation_size=0", 'callbacks.early_stopping={monitor="val_loss"}'],
         ('callbacks.early_stopping.monitor = "val_loss" needs a validation part, but '
         "data.validation_size is 0: set data.validation_size (e.g. 0.1), or monitor \"loss\"")),
        (DIGITS, ["data.validation_size=0", "callbacks.checkpoint={save_best_only=true}"],
         'callbacks.checkpoint.monitor = "val_loss" (its default) needs a validation part'),
        (DIGITS, ["data.validation_size=0", "callbacks.reduce_lr_on_plateau={patience=1}"],
         'callbacks.reduce_lr_on_plateau.monitor = "val_loss" (its default) needs a validation'),
        (DIGITS, ['callbacks.early_stopping={monitor="val_mae"}'],
         ('callbacks.early_stopping.monitor = "val_mae": the run does not log it; it logs '
         "['loss', 'accuracy', 'lr', 'seconds', 'val_loss', 'val_accuracy']")),
        (DIGITS, ["callbacks.checkpoint.path='/nonexistent-chainrule/x.safetensors'"],
         ('callbacks.checkpoint.path = "/nonexistent-chainrule/x.safetensors": the folder '
         "/nonexistent-chainrule does not exist; create it, or leave the path out")),
    ],
)
def test_metrics_and_callbacks_that_the_run_cannot_honour(base, overrides, message):
    assert message in refused(base, *overrides)


def test_a_checkpoint_without_save_best_only_needs_no_validation(tmp_path):
    config = load_config(overrides=[*CIRCLES, "data.validation_size=0", "callbacks.checkpoint={}"])
    result = run(config, tmp_path / "run")
    assert (tmp_path / "run" / "checkpoint.safetensors").is_file()
    assert "val_loss" not in result.trainer.history.history


@pytest.mark.parametrize("name, own", [
    ("config.toml", "config.toml"), ("history.csv", "history.csv"),
    ("model.safetensors", "model.safetensors"),
    # One file where case is ignored (macOS, Windows): refused on every system alike.
    ("Model.safetensors", "model.safetensors"), ("CONFIG.TOML", "config.toml"),
    (".chainrule-run.lock", ".chainrule-run.lock"),  # it would unlock the folder
])
def test_a_checkpoint_path_that_is_one_of_the_runs_own_files(tmp_path, name, own):
    out = tmp_path / "run"
    config = load_config(overrides=[*CIRCLES, f"callbacks.checkpoint.path='{out / name}'"])
    with pytest.raises(ConfigError, match=(
            rf"^callbacks\.checkpoint\.path = .*{name}\" is the run's own {own}, which the "
            r"run writes too; choose another file name, or leave the path out")):
        run(config, out)
    assert not out.exists()


def test_a_checkpoint_path_that_is_a_folder(tmp_path):
    message = refused(DIGITS, f"callbacks.checkpoint.path='{tmp_path}'")
    assert "is a folder; give a file name such as checkpoint.safetensors" in message


# ------------------------------------------------------------------ through the command line


@pytest.mark.parametrize(
    "overrides",
    [
        ["model.output=identity"],  # was exit 1, "loss is nan ... inputs too large"
        ["loss.name=mse"],  # was exit 1 with a message for Python users
        ['training.metrics=["r2"]'],  # was exit 1 after the run folder was made
        ["data.validation_size=0", "callbacks.early_stopping={patience=1}"],
        ["callbacks.checkpoint.path='/nonexistent-chainrule/x.safetensors'"],  # after epoch 1
        ["data.dataset=regression", "data.options={n_samples=10}"],  # r2 on 1 sample
        ["data.validation_size=nan"],
    ],
)
def test_config_problems_exit_2_before_any_training_and_leave_no_folder(tmp_path, capsys,
                                                                        overrides):
    out = tmp_path / "new" / "run"
    argv = ["train", "--quiet", "--out", str(out), "--set", "training.epochs=1"]
    for override in overrides:
        argv += ["--set", override]
    assert main(argv) == 2
    assert "chainrule: error: " in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("option", ["callbacks.checkpoint.path", "--out", "--out below"])
def test_a_path_the_system_cannot_look_up_exits_2_naming_it(tmp_path, capsys, option):
    """A file or folder name over the file system's 255 bytes is a config mistake naming the
    key (or option) and the path, exit 2 with nothing created; not the OSError of looking it
    up (exit 1)."""
    long = tmp_path / ("a" * 300)
    path = {"callbacks.checkpoint.path": tmp_path / f"{'a' * 300}.safetensors",
            "--out": long, "--out below": long / "run"}[option]
    out = path if option.startswith("--out") else tmp_path / "new" / "run"
    argv = ["train", "--quiet", "--out", str(out)]
    for override in CIRCLES:
        argv += ["--set", override]
    if option == "callbacks.checkpoint.path":
        argv += ["--set", f"callbacks.checkpoint.path='{path}'"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    key = ('callbacks.checkpoint.path = "' if option == "callbacks.checkpoint.path"
           else "the run folder (--out)")
    assert err.startswith(f"chainrule: error: {key}"), err
    assert f"the path {path} cannot be used (File name too long); choose another" in err
    assert list(tmp_path.iterdir()) == []
