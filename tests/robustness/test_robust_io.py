"""Robustness of ``chainrule.save`` and ``chainrule.load`` against bad paths and bad files.

Model files are about the file system, so an ``OSError`` (``FileNotFoundError``,
``IsADirectoryError``, ...) is a legitimate answer to a path that cannot be used, besides
``ValueError``/``TypeError`` (``ModelFormatError`` for damaged files). Whatever is raised must
name the path the caller gave (or the argument ``path``), never a temporary file the library made
up; and any legal file name must work.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chainrule.io import load, save
from chainrule.layers.builders import mlp

ROBUST = settings.get_profile("chainrule-robustness")
NET = mlp([2, 3, 1], seed=0)


def _paths(tmp: str) -> dict[str, object]:
    """Unusable paths of every sort, by kind."""
    a_file = os.path.join(tmp, "a_file")
    with open(a_file, "wb") as file:
        file.write(b"not a model")
    empty = os.path.join(tmp, "empty")
    open(empty, "wb").close()
    return {
        "None": None,
        "int": 5,
        "list": ["a"],
        "directory": tmp,
        "missing folder": os.path.join(tmp, "missing", "m.safetensors"),
        "below a file": os.path.join(a_file, "m.safetensors"),
        "empty string": "",
        "nul byte": os.path.join(tmp, "a\x00b"),
        "missing file": os.path.join(tmp, "missing.safetensors"),
        "not a model": a_file,
        "empty file": empty,
    }


def _path_error_problem(robust, error: BaseException, path: object) -> str | None:
    """What is wrong with the error raised for ``path``, or None."""
    problem = robust.violation(error, (), allow=(OSError,))
    if problem is not None:
        return problem
    message = str(error)
    if isinstance(path, (str, bytes, os.PathLike)) and os.fspath(path):
        text = os.fsdecode(os.fspath(path))
        named = text in message or os.path.abspath(text) in message or repr(text) in message
    else:
        named = "path" in message
    if not named or ".tmp" in message:
        return f"the message does not name the path {path!r} (only): {type(error).__name__}: " \
               f"{message}"
    return None


#: save: every unusable path, and the error expected for it (B19, closed).
SAVE_CASES = {
    "None": TypeError,
    "int": TypeError,
    "list": TypeError,
    "directory": IsADirectoryError,
    "missing folder": FileNotFoundError,
    "below a file": NotADirectoryError,
    "empty string": ValueError,
    "nul byte": ValueError,
}
#: load: the same, and files that are not models.
LOAD_CASES = {
    **SAVE_CASES,
    "missing file": FileNotFoundError,
    "not a model": ValueError,  # ModelFormatError
    "empty file": ValueError,
}


@pytest.fixture
def tmp_cwd(tmp_path, monkeypatch):
    """A temporary folder, with the working directory one level below it: the empty path means
    the working directory, and a failed save must write nothing outside ``tmp_path``."""
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return tmp_path


def _leftovers(folder) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


@pytest.mark.parametrize("kind", sorted(SAVE_CASES))
def test_save_to_an_unusable_path_names_it(robust, tmp_cwd, kind):
    tmp_path = tmp_cwd
    path = _paths(str(tmp_path))[kind]
    before = sorted(os.listdir(tmp_path))
    outcome = robust.run(save, NET, path)
    assert not outcome.ok, f"save to {kind} ({path!r}) succeeded"
    assert isinstance(outcome.error, SAVE_CASES[kind]), repr(outcome.error)
    problem = _path_error_problem(robust, outcome.error, path)
    assert problem is None, problem
    assert not _leftovers(tmp_path), f"save left temporary files behind: {_leftovers(tmp_path)}"
    assert not _leftovers(tmp_path.parent) and sorted(os.listdir(tmp_path)) == before


@pytest.mark.parametrize("kind", sorted(LOAD_CASES))
def test_load_from_an_unusable_path_names_it(robust, tmp_cwd, kind):
    path = _paths(str(tmp_cwd))[kind]
    outcome = robust.run(load, path)
    assert not outcome.ok, f"load from {kind} ({path!r}) succeeded"
    assert isinstance(outcome.error, LOAD_CASES[kind]), repr(outcome.error)
    problem = _path_error_problem(robust, outcome.error, path)
    assert problem is None, problem


def test_an_oserror_keeps_its_type_and_names_the_path_as_given(robust, tmp_cwd):
    """A relative path is named as given (not made absolute), as the errno's OSError subclass
    with ``filename`` set, so that ``except FileNotFoundError`` and ``error.filename`` work."""
    outcome = robust.run(save, NET, os.path.join("missing", "m.safetensors"))
    assert isinstance(outcome.error, FileNotFoundError), repr(outcome.error)
    assert outcome.error.filename == os.path.join("missing", "m.safetensors")
    assert "folder" in str(outcome.error) and ".tmp" not in str(outcome.error)


def test_save_refuses_what_is_not_a_network(robust, tmp_path):
    for net in (None, "net", NET.layers[0], [NET]):
        robust.rejects(save, net, tmp_path / "m.safetensors", names=("net",), error=TypeError)
    assert not (tmp_path / "m.safetensors").exists()


@settings(ROBUST, max_examples=40,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
                    min_size=1, max_size=90))
def test_any_legal_file_name_round_trips(robust, tmp_path, name):
    if name in (".", ".."):
        return
    path = tmp_path / name
    if path.exists():
        path.unlink()
    too_long = len(os.fsencode(name)) > 255
    saved = robust.run(save, NET, path)
    if too_long:
        assert not saved.ok
        problem = _path_error_problem(robust, saved.error, path)
        assert problem is None, problem
        assert not _leftovers(tmp_path)
        return
    assert saved.ok, f"save to the legal name {name!r} failed: {saved.error!r}"
    loaded = robust.call(load, path)
    np.testing.assert_array_equal(loaded.value.parameters, NET.parameters)
    assert loaded.value.get_config() == NET.get_config()


def test_a_path_ending_in_a_separator_is_a_folder(robust, tmp_path):
    """``new/`` names a folder: save refuses it rather than writing a file called ``new``."""
    path = str(tmp_path / "new") + os.sep
    outcome = robust.run(save, NET, path)
    assert isinstance(outcome.error, IsADirectoryError), repr(outcome.error)
    assert _path_error_problem(robust, outcome.error, path) is None
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("length", [237, 238, 250, 255])
def test_long_legal_names_work(robust, tmp_path, length):
    """B35 (closed): the temporary file has a short name of its own, so a destination name up
    to the file system's 255 bytes saves, loads, and leaves nothing else behind."""
    path = tmp_path / ("a" * length)
    outcome = robust.run(save, NET, path)
    assert outcome.ok, outcome.error
    np.testing.assert_array_equal(load(path).parameters, NET.parameters)
    assert os.listdir(tmp_path) == [path.name]
