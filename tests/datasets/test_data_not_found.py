"""``DataNotFoundError``: a missing dataset file says where it looked and how to fix it, in the
caller's own terms (Python arguments, or a run config's keys)."""

from __future__ import annotations

import pickle

import pytest

from chainrule import DataNotFoundError
from chainrule.datasets.storage import DATA_ENV, RemoteFile, locate
from chainrule.experiment.data import CONFIG_NAMES, load_data

REMOTE = RemoteFile("toy/images.bin", "0" * 64, 3, url="toy/images.bin")
LOCAL_ONLY = RemoteFile("toy/local.bin", "0" * 64, 3)


def test_a_file_not_downloaded_is_a_file_not_found_error_with_its_facts(tmp_path,
                                                                      isolated_storage):
    with pytest.raises(DataNotFoundError) as caught:
        locate(REMOTE, tmp_path / "data", download=False)
    error = caught.value
    assert isinstance(error, FileNotFoundError)
    assert error.file == REMOTE.path and error.downloadable and error.env == DATA_ENV
    assert error.searched == (str(tmp_path / "data"), str(isolated_storage))
    assert str(error) == (
        f"{REMOTE.path} was not found in {tmp_path / 'data'} and {isolated_storage} and "
        f"download=False; pass download=True, or point data_dir / ${DATA_ENV} at a folder "
        f"that holds {REMOTE.path}"
    )


@pytest.mark.parametrize("download", [True, False])
def test_a_file_without_a_download_says_so_whatever_download_is(tmp_path, isolated_storage,
                                                                 download):
    # with download=False the advice used to be "pass download=True", which could not help
    with pytest.raises(DataNotFoundError) as caught:
        locate(LOCAL_ONLY, tmp_path, download=download)
    assert not caught.value.downloadable
    assert str(caught.value).endswith(
        f"and it has no direct download; copy it into a data directory (data_dir or "
        f"${DATA_ENV})")
    assert "download=True" not in str(caught.value)


def test_renamed_keeps_the_facts_and_changes_the_words(tmp_path, isolated_storage):
    with pytest.raises(DataNotFoundError) as caught:
        locate(REMOTE, tmp_path, download=False)
    renamed = caught.value.renamed(CONFIG_NAMES)
    assert type(renamed) is DataNotFoundError
    assert (renamed.file, renamed.searched, renamed.downloadable) == (
        caught.value.file, caught.value.searched, True)
    assert "data.options.download = false; set data.options.download = true, or point " \
           "data.data_dir /" in str(renamed)
    with pytest.raises(ValueError, match=r"names must have the keys \['data_dir', 'off', 'on'\]"):
        caught.value.renamed({"off": "x"})


def test_it_pickles_with_its_facts_and_message():
    error = DataNotFoundError("toy/a.bin", ("/x", "/y"), False, DATA_ENV, dict(CONFIG_NAMES))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is DataNotFoundError and str(copy) == str(error)
    assert (copy.file, copy.searched, copy.downloadable, copy.names) == (
        "toy/a.bin", ("/x", "/y"), False, CONFIG_NAMES)
    with pytest.raises(TypeError):  # the message was built from names: they stay as they are
        error.names["data_dir"] = "elsewhere"


def test_a_run_config_gets_the_advice_in_its_keys_when_nothing_can_be_downloaded(
        tmp_path, monkeypatch):
    # the words "the data_dir argument" used to survive the rewording of the message
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "data"))
    with pytest.raises(DataNotFoundError) as caught:
        load_data({"dataset": "california_housing", "options": {"layout": "statlib"}})
    assert str(caught.value).endswith(f"(data.data_dir or ${DATA_ENV})")
    assert caught.value.names == CONFIG_NAMES


def test_a_run_config_with_download_off_gets_the_advice_in_its_keys(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_ENV, str(tmp_path / "data"))
    with pytest.raises(FileNotFoundError) as caught:
        load_data({"dataset": "mnist", "options": {"download": False}})
    text = str(caught.value)
    assert "data.options.download = false; set data.options.download = true" in text
    assert "download=" not in text and "point data.data_dir /" in text
