"""Run configurations: every bad key or value is one ConfigError that names the key."""

from __future__ import annotations

import pytest

from chainrule.config import ConfigError, load_config, validate


@pytest.mark.parametrize(
    "override, message",
    [
        # a type a key does not take (a bool is not an int here)
        ("data.target=true", "data.target must be a column name or index, got True"),
        ("data.data_dir=5", "data.data_dir must be a path, got 5"),
        ("model.init=3", "model.init must be an initializer name or table, got 3"),
        ("training.epochs=2.5", "training.epochs must be an integer, got 2.5"),
        ("training.epochs=true", "training.epochs must be an integer, got True"),
        ("model.l2='big'", "model.l2 must be a number, got 'big'"),
        # out of range: closed or open at the top, or unbounded
        ("training.epochs=0", r"training.epochs must be in \[1, inf\), got 0"),
        ("training.verbose=3", r"training.verbose must be in \[0, 2\], got 3"),
        ("training.verbose='yes'",
         r"training.verbose must be True, False or an integer in \[0, 2\], got 'yes' \(str\)"),
        ("model.dropout=1", r"model.dropout must be in \[0, 1\), got 1"),
        ("model.l1=-0.5", r"model.l1 must be in \[0, inf\), got -0.5"),
        # model.layers
        ("model.layers=[]", r"model.layers must describe at least one layer, got an empty list"),
        ("model.layers=5", r"model.layers must be a list of dicts, got int"),
        ("model.layers=[1, 2]", r"model.layers\[0\] must be a dict, got int"),
        ("model.layers=[{input_dim=2, output_dim=1, activaton='relu'}]",
         r"model.layers\[0\] has unknown key\(s\) \['activaton'\]; allowed: \['input_dim'"),
        # training.metrics
        ("training.metrics='accuracy'",
         'training.metrics must be "auto" or a list of metric names, got \'accuracy\''),
        ("training.metrics=[1]", 'training.metrics must be "auto" or a list of metric names'),
        # --set syntax and tables
        ("epochs=5", r"--set key 'epochs' must be section.key \(e.g. optimizer.lr\)"),
        ("training..epochs=5", "--set key 'training..epochs' must be section.key"),
        ("training.epochs.max=5", r"training.epochs must be an integer, got \{'max': 5\}"),
        ("data.options=5|data.options.noise=0.1", ("--set data.options.noise: 'options' is not a "
                                                  "table")),
        # callbacks, loss, data
        ("callbacks.early_stopping=3", "callbacks.early_stopping must be a table of options"),
        ("callbacks.early_stopping={patience=-1}",
         r"callbacks.early_stopping: patience must be in \[0, inf\), got -1"),
        ("loss.reduction='sum'", 'loss.name = "auto" takes no options; name the loss'),
        ("data.train='train.csv'", 'data.train/data.test need data.dataset = "files"'),
        # a target column is a column of those files: elsewhere it was silently ignored
        ("data.target='price'", (r"^data.target = 'price' names a column of the data.train / "
                                 r"data.test files: it needs data.dataset = \"files\" \(the "
                                 r"digits dataset has its own targets\)$")),
        ("data.dataset='files'", 'data.train is required when data.dataset = "files"'),
        ("data.validation_size=0.8", "data.test_size \\+ data.validation_size must be below 1"),
    ],
)
def test_a_bad_override_names_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=override.split("|"))  # "a|b": two overrides


@pytest.mark.parametrize("data", [["data.dataset='mnist'"],
                                  ["data.dataset='files'", "data.train='a.csv'",
                                   "data.test='b.csv'"]], ids=["official-test-set", "test-file"])
def test_with_a_test_set_validation_size_is_a_fraction_of_the_training_data(data):
    """test_size is then unused, so it does not limit validation_size."""
    config = load_config(overrides=[*data, "data.validation_size=0.85"])
    assert config["data"]["validation_size"] == 0.85


def test_valid_callback_tables_are_kept():
    config = load_config(overrides=["callbacks.early_stopping={patience=2}",
                                    "callbacks.reduce_lr_on_plateau={factor=0.5}"])
    assert config["callbacks"] == {"early_stopping": {"patience": 2},
                                   "reduce_lr_on_plateau": {"factor": 0.5}}


@pytest.mark.parametrize("flag, level", [("true", 1), ("false", 0)])
def test_training_verbose_takes_true_and_false_as_levels_1_and_0(flag, level):
    from chainrule.experiment import build_network, build_trainer, load_data

    config = load_config(overrides=["data.dataset=circles", "data.options={n_samples=60}",
                                    "model.hidden=[3]", f"training.verbose={flag}"])
    data = load_data(config["data"])
    assert build_trainer(config, build_network(config, data), data, callbacks=[]).verbose == level


def test_a_files_dataset_takes_train_and_test_paths():
    config = load_config(overrides=["data.dataset='files'", "data.train='a.csv'",
                                    "data.test='b.csv'"])
    assert (config["data"]["train"], config["data"]["test"]) == ("a.csv", "b.csv")


def test_setting_model_layers_drops_the_builder_keys():
    config = load_config(
        overrides=["model.layers=[{input_dim=2, output_dim=1, activation='sigmoid'}]"])
    assert config["model"] == {
        "layers": [{"input_dim": 2, "output_dim": 1, "activation": "sigmoid"}],
        "dtype": "float32",
        "seed": 0,
    }


def test_model_layers_and_a_builder_key_cannot_be_combined(tmp_path):
    path = tmp_path / "both.toml"
    path.write_text("[model]\nhidden = [8]\n"
                    'layers = [{ input_dim = 2, output_dim = 1, activation = "sigmoid" }]\n')
    with pytest.raises(ConfigError, match="model.layers describes the whole network; remove "
                                          "model.hidden"):
        load_config(path)
    path.write_text("[model]\n"
                    'layers = [{ input_dim = 2, output_dim = 1, activation = "sigmoid" }]\n')
    layers = "model.layers=[{input_dim=2, output_dim=1, activation='sigmoid'}]"
    message = "model.layers describes the whole network; remove model.dropout"
    with pytest.raises(ConfigError, match=message):  # the file's layers, then a builder key
        load_config(path, ["model.dropout=0.5"])
    for overrides in (["model.dropout=0.5", layers], [layers, "model.dropout=0.5"]):
        with pytest.raises(ConfigError, match=message):  # in either order, never ignored
            load_config(overrides=overrides)
    assert "hidden" not in load_config(overrides=[layers])["model"]  # the default gives way


def test_a_section_that_is_not_a_table(tmp_path):
    path = tmp_path / "flat.toml"
    path.write_text("training = 5\n")
    with pytest.raises(ConfigError, match=r"\[training\] must be a table, got 5"):
        load_config(path)


def test_a_named_section_needs_its_name(tmp_path):
    path = tmp_path / "schedule.toml"
    path.write_text("[schedule]\nstep_size = 2\n")
    with pytest.raises(ConfigError, match="schedule.name is required; valid names: "):
        load_config(path)


def test_validate_refuses_a_config_that_is_not_a_table():
    with pytest.raises(ConfigError, match="a config must be a table, got list"):
        validate([("data", {})])
