"""Config checks found by a review: NaN and 0 sizes, model.layers sizes, builder names, file
encodings, and the TOML writer's strings. Each is a ConfigError naming the key."""

from __future__ import annotations

import tomllib

import pytest

from chainrule import _toml
from chainrule.config import ConfigError, dumps, load_config


@pytest.mark.parametrize(
    "override, message",
    [
        # NaN passes every comparison, so a range check alone lets it through.
        ("data.validation_size=nan", r"data\.validation_size must be in \[0, 1\), got nan"),
        ("data.test_size=nan", r"data\.test_size must be in \(0, 1\), got nan"),
        ("model.l2=inf", r"model\.l2 must be in \[0, inf\), got inf"),
        # a run is always tested on a held-out part: 0 is refused here, not after loading
        ("data.test_size=0", r"data\.test_size must be in \(0, 1\), got 0"),
        # model.layers sizes: types, presence and agreement between consecutive entries
        ("model.layers=[{input_dim='64', output_dim=10, activation='softmax'}]",
         (r"model\.layers\[0\]\.input_dim must be a positive integer \(at most 2147483647\), "
         r"got '64' \(str\)")),
        ("model.layers=[{input_dim=64, output_dim=0}]",
         (r"model\.layers\[0\]\.output_dim must be a positive integer \(at most 2147483647\), "
         r"got 0 \(int\)")),
        ("model.layers=[{input_dim=64}]", r"^model\.layers\[0\] is missing \['output_dim'\]$"),
        # every key of an entry is checked here, as the builder checks it, not after loading
        ("model.layers=[{input_dim=64, output_dim=10, l2=-1.0}]",
         r"^model\.layers\[0\]\.l2 must be in \[0, inf\), got -1\.0$"),
        ("model.layers=[{input_dim=64, output_dim=10, l1='big'}]",
         r"^model\.layers\[0\]\.l1 must be a real number, got 'big' \(str\)$"),
        ("model.layers=[{input_dim=64, output_dim=10, dropout=1.5}]",
         r"^model\.layers\[0\]\.dropout must be in \[0, 1\), got 1\.5$"),
        ("model.layers=[{input_dim=64, output_dim=10, bias='yes'}]",
         r"^model\.layers\[0\]\.bias must be True or False, got 'yes' \(str\)$"),
        ("model.layers=[{input_dim=64, output_dim=10, activation={name='relu', alpha=0.1}}]",
         (r"^model\.layers\[0\]\.activation: activation 'relu' accepts no options, "
         r"got \['alpha'\]$")),
        ("model.layers=[{input_dim=64, output_dim=10, bogus=1}]",
         r"^model\.layers\[0\] has unknown key\(s\) \['bogus'\]; allowed: \['input_dim'"),
        ("model.layers=[{input_dim=64, output_dim=10}, 3]",
         r"^model\.layers\[1\] must be a dict, got int$"),
        (("model.layers=[{input_dim=64, output_dim=32, activation='relu'}, "
         "{input_dim=31, output_dim=10, activation='softmax'}]"),
         r"model\.layers\[1\]\.input_dim is 31, but model\.layers\[0\]\.output_dim is 32"),
        ("model.layers=[{input_dim=2, output_dim=1, activation='rectifier'}]",
         r"model\.layers\[0\]\.activation: unknown activation 'rectifier'; valid names: "),
        ("model.layers=[{input_dim=2, output_dim=1, init='foo'}]",
         r"model\.layers\[0\]\.init: unknown initializer 'foo'"),
        # builder keys are named as the user wrote them (not "model.layers: architecture[0]")
        ("model.init=foo", r"^model\.init: unknown initializer 'foo'; valid names: "),
        ("model.init={name='he_normal', gain=3}",
         r"^model\.init: initializer 'he_normal' accepts no options, got \['gain'\]"),
        ("model.activation=foo", r"^model\.activation: unknown activation 'foo'"),
        ("model.activation=['relu', 'foo']", r"^model\.activation: unknown activation 'foo'"),
        ("model.output=softmaxx", r"^model\.output: unknown activation 'softmaxx'"),
    ],
)
def test_a_bad_value_names_its_key(override, message):
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_good_builder_names_and_sizes_pass():
    config = load_config(overrides=["model.output=auto", "model.activation=['tanh']",
                                    "model.init={name='small_normal', std=0.1}",
                                    "data.validation_size=0"])
    assert config["model"]["init"] == {"name": "small_normal", "std": 0.1}
    layers = ("model.layers=[{input_dim=64, output_dim=8, activation='relu'}, "
              "{input_dim=8, output_dim=10, activation={name='leaky_relu', alpha=0.1}}]")
    assert len(load_config(overrides=[layers])["model"]["layers"]) == 2
    # a whole float is a width, as the builder reads it
    whole = "model.layers=[{input_dim=64.0, output_dim=10, activation='softmax'}]"
    assert load_config(overrides=[whole])["model"]["layers"][0]["input_dim"] == 64


def test_a_config_that_is_not_utf8_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "latin.toml"
    path.write_bytes(b"[training]\nepochs = 2\n# caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin\.toml is not UTF-8 text: byte 0xe9 on line 3 "
                                          r"cannot be decoded; save the file as UTF-8"):
        load_config(path)


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes("\ufeff[training]\nepochs = 3\n".encode())
    assert load_config(path)["training"]["epochs"] == 3


def test_invalid_toml_and_a_missing_file_still_name_the_file(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[training\n")
    with pytest.raises(ConfigError, match=r"bad\.toml is not valid TOML"):
        load_config(path)
    with pytest.raises(ConfigError, match=r"cannot read config .*missing\.toml"):
        load_config(tmp_path / "missing.toml")


DEEP = "[" * 2000 + "]" * 2000  # deeper than the TOML parser's recursion can go


def test_a_value_nested_too_deeply_is_a_config_error_naming_the_file(tmp_path):
    path = tmp_path / "deep.toml"
    path.write_text(f"[training]\nepochs = {DEEP}\n")
    with pytest.raises(ConfigError, match=r"deep\.toml is not valid TOML: arrays or inline "
                                          r"tables are nested too deeply to read"):
        load_config(path)


def test_an_override_nested_too_deeply_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match=r"--set training\.epochs: the value's arrays or "
                                          r"inline tables are nested too deeply to read"):
        load_config(overrides=[f"training.epochs={DEEP}"])


@pytest.mark.parametrize("text", ["a\x7fb", "tab\tand\nnewline", "\x00\x1f", "é ∑ \u2028"])
def test_the_toml_writer_round_trips_control_characters(text):
    document = {"data": {"train": text}, text: 1}
    written = dumps(document)
    assert "\x7f" not in written  # TOML forbids a raw DEL in a string
    assert tomllib.loads(written) == document


def test_inline_writes_one_value():
    assert _toml.inline({"centers": 1, "noise": 0.5}) == "{ centers = 1, noise = 0.5 }"
    assert _toml.inline("a\x7f") == '"a\\u007f"'


def test_integers_beyond_the_float_range_are_checked_as_integers():
    # math.isfinite(10**330) raises OverflowError: the NaN/inf check is for floats only
    huge = "1" + "0" * 330
    assert load_config(overrides=[f"data.limit={huge}"])["data"]["limit"] == 10**330
    with pytest.raises(ConfigError, match=r"^data\.test_size must be in \(0, 1\), got 1000"):
        load_config(overrides=[f"data.test_size={huge}"])
