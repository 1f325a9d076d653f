"""Atomic saving: a failure at any step leaves the previous file intact and no temporary file.

What each test shows:

- an error while writing, flushing or renaming (monkeypatched ``write``, ``os.fsync``,
  ``os.replace``, and a ``KeyboardInterrupt``): the previous file still loads with its old
  values and the folder holds nothing else;
- a layer that cannot be saved: ``TypeError`` before anything is written;
- a process killed with SIGKILL in the middle of saving in a loop: the destination always
  loads as one of the two complete networks. A stray ``.chainrule-*.tmp`` may remain
  then (nobody is left to remove it); that is accepted and the test reports how many.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from chainrule._atomic import check_writable, write_atomically
from chainrule.io import load, save
from chainrule.layers.activations import LeakyReLU, ReLU
from chainrule.layers.builders import mlp
from chainrule.layers.dense import Dense
from chainrule.layers.sequential import Sequential

HERE = Path(__file__).resolve().parent


@pytest.fixture
def saved(tmp_path):
    """A folder holding model.safetensors (the 'previous' file) and the network in it."""
    net = mlp([3, 5, 2], seed=0)
    path = tmp_path / "model.safetensors"
    save(net, path)
    return path, net


def _assert_previous_intact(path: Path, net) -> None:
    assert sorted(os.listdir(path.parent)) == [path.name]  # no temporary file left
    loaded = load(path)
    assert loaded.get_config() == net.get_config()
    assert np.array_equal(loaded.parameters, net.parameters)


def _other_network():
    return mlp([3, 8, 8, 2], seed=1)


def test_failing_rename_keeps_the_previous_file(saved, monkeypatch):
    path, net = saved

    def fail(*args):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="simulated"):
        save(_other_network(), path)
    monkeypatch.undo()
    _assert_previous_intact(path, net)


def test_failing_fsync_keeps_the_previous_file(saved, monkeypatch):
    path, net = saved

    def fail(fd):
        raise OSError("simulated disk error")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="simulated"):
        save(_other_network(), path)
    monkeypatch.undo()
    _assert_previous_intact(path, net)


def test_disk_full_in_the_middle_of_the_write_keeps_the_previous_file(saved, monkeypatch):
    path, net = saved
    real_fdopen = os.fdopen

    class HalfWritten:
        """Writes half of the bytes, then fails like a full disk."""

        def __init__(self, file):
            self.file = file

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            self.file.close()

        def write(self, data):
            self.file.write(data[: len(data) // 2])
            self.file.flush()
            raise OSError(28, "No space left on device (simulated)")

        def writelines(self, parts):  # a file written in parts fails in the first one
            for part in parts:
                self.write(part)

        def __getattr__(self, name):
            return getattr(self.file, name)

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: HalfWritten(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="No space left"):
        save(_other_network(), path)
    monkeypatch.undo()
    _assert_previous_intact(path, net)


def test_interrupt_during_save_removes_the_temporary_file(saved, monkeypatch):
    path, net = saved

    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save(_other_network(), path)
    monkeypatch.undo()
    _assert_previous_intact(path, net)


def test_a_successful_save_replaces_the_file_and_keeps_its_permissions(saved):
    path, _ = saved
    if os.name == "posix":
        os.chmod(path, 0o600)
    other = _other_network()
    save(other, path)
    assert sorted(os.listdir(path.parent)) == [path.name]
    assert np.array_equal(load(path).parameters, other.parameters)
    if os.name == "posix":
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_new_file_gets_the_umask_permissions(tmp_path):
    if os.name != "posix":
        pytest.skip("permissions are POSIX")
    umask = os.umask(0o022)
    try:
        save(mlp([2, 1], seed=0), tmp_path / "model.safetensors")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(tmp_path / "model.safetensors").st_mode) == 0o644


def test_temporary_names_that_are_all_taken_give_up_after_100_tries(saved, monkeypatch):
    import secrets

    path, net = saved
    taken = path.parent / ".chainrule-000000000000.tmp"
    taken.write_bytes(b"someone else's")
    tries = []

    def token_hex(nbytes):
        tries.append(nbytes)
        return "0" * (2 * nbytes)

    monkeypatch.setattr(secrets, "token_hex", token_hex)
    with pytest.raises(FileExistsError, match="could not create a temporary file") as info:
        save(_other_network(), path)
    assert info.value.filename == str(path)  # the caller's path, not the folder
    assert len(tries) == 100
    monkeypatch.undo()
    assert taken.read_bytes() == b"someone else's"
    taken.unlink()
    _assert_previous_intact(path, net)


def test_missing_folder_is_an_oserror_and_creates_nothing(tmp_path):
    with pytest.raises(FileNotFoundError):
        save(mlp([2, 1], seed=0), tmp_path / "absent" / "model.safetensors")
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------
# Networks that cannot be described by a config: TypeError before anything is written
# ---------------------------------------------------------------------------------------------


class _Unregistered(ReLU):
    """A layer class nobody registered in LAYERS."""


def _custom_init(shape, rng):
    return rng.normal(size=shape)


def _unsaveable_networks():
    yield "custom initializer function", Sequential([Dense(3, 2, init=_custom_init)], seed=0)
    yield "unregistered layer class", Sequential([Dense(3, 2), _Unregistered()], seed=0)


@pytest.mark.parametrize(("why", "net"), list(_unsaveable_networks()),
                         ids=[why for why, _ in _unsaveable_networks()])
def test_unsaveable_network_raises_typeerror_before_writing(saved, why, net):
    path, previous = saved
    with pytest.raises(TypeError, match="cannot save layer #"):
        save(net, path)
    _assert_previous_intact(path, previous)


def test_unregistered_layer_message_says_how_to_register(tmp_path):
    net = Sequential([Dense(3, 2), _Unregistered()], seed=0)
    with pytest.raises(TypeError, match=r"LAYERS\.register\('_Unregistered'\)"):
        save(net, tmp_path / "model.safetensors")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("bad_value", [float("nan"), np.int64(1), {1, 2}], ids=repr)
def test_a_config_that_is_not_json_raises_typeerror(tmp_path, monkeypatch, bad_value):
    monkeypatch.setattr(LeakyReLU, "get_config", lambda self: {"alpha": bad_value})
    net = Sequential([Dense(3, 2), LeakyReLU(0.2)], seed=0)
    with pytest.raises(TypeError, match=r"layer #1 \(LeakyReLU\).*not JSON"):
        save(net, tmp_path / "model.safetensors")
    assert os.listdir(tmp_path) == []


def test_a_config_that_does_not_rebuild_the_layer_raises_typeerror(tmp_path, monkeypatch):
    original = Dense.get_config

    def without(key):
        def get_config(self):
            config = original(self)
            del config[key]
            return config
        return get_config

    net = Sequential([Dense(3, 2, bias=False)], seed=0)
    monkeypatch.setattr(Dense, "get_config", without("out_features"))  # from_config fails
    with pytest.raises(TypeError, match="from_config"):
        save(net, tmp_path / "model.safetensors")
    monkeypatch.setattr(Dense, "get_config", without("bias"))  # rebuilds a layer with a bias
    with pytest.raises(TypeError, match="builds a different layer"):
        save(net, tmp_path / "model.safetensors")
    assert os.listdir(tmp_path) == []


def test_save_rejects_what_is_not_a_network(tmp_path):
    with pytest.raises(TypeError, match="Sequential"):
        save(Dense(2, 2), tmp_path / "model.safetensors")


# ---------------------------------------------------------------------------------------------
# SIGKILL in the middle of saving
# ---------------------------------------------------------------------------------------------

_SAVER = r"""
import sys
from chainrule.io import save
from chainrule.layers.builders import mlp
nets = [mlp([64, 256, 256, 10], seed=seed) for seed in (1, 2)]
for i in range(10**9):
    save(nets[i % 2], sys.argv[1])
    print(i, flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_sigkill_while_saving_leaves_a_complete_file(tmp_path):
    path = tmp_path / "model.safetensors"
    reference = [mlp([64, 256, 256, 10], seed=seed) for seed in (1, 2)]
    for n_saves_before_kill in (3, 25):
        child = subprocess.Popen([sys.executable, "-c", _SAVER, str(path)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(n_saves_before_kill):  # wait for that many completed saves
                line = child.stdout.readline()
                assert line, child.stderr.read()
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.communicate()
        assert child.returncode == -signal.SIGKILL
        loaded = load(path)  # whatever moment the kill hit: one complete network
        assert any(np.array_equal(loaded.parameters, net.parameters) for net in reference)
    # A temporary file of the killed write may be left over: accepted, never the destination.
    leftovers = [name for name in os.listdir(tmp_path) if name != path.name]
    assert all(re.fullmatch(r"\.chainrule-[0-9a-f]{12}\.tmp", name) for name in leftovers)


# ---------------------------------------------------------------------------------------------
# Paths that are not regular files, and the permissions of a file being replaced
# ---------------------------------------------------------------------------------------------

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")


def _read_in_background(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    """A thread that opens ``fifo`` for reading and collects all it receives."""
    received: list[bytes] = []

    def read():
        with open(fifo, "rb") as pipe:
            received.append(pipe.read())

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, received


@needs_fifo
@pytest.mark.parametrize("through_a_link", [False, True], ids=["fifo", "link to a fifo"])
def test_a_named_pipe_is_written_in_place_not_replaced(tmp_path, through_a_link):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    path = fifo
    if through_a_link:
        path = tmp_path / "link.safetensors"
        path.symlink_to(fifo.name)
    thread, received = _read_in_background(fifo)
    net = mlp([3, 5, 2], seed=0)
    save(net, path)
    thread.join(timeout=10)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # still the pipe, and still linked
    assert path.is_symlink() == through_a_link
    assert sorted(os.listdir(tmp_path)) == sorted({fifo.name, path.name})  # no temporary file
    copy = tmp_path.parent / f"{tmp_path.name}-copy.safetensors"
    copy.write_bytes(received[0])  # what the reader got is the whole model file
    assert np.array_equal(load(copy).parameters, net.parameters)


@needs_fifo
def test_a_named_pipe_in_a_read_only_folder_is_written(tmp_path):
    """Writing in place needs the pipe to be writable, not its folder (as open() does)."""
    folder = tmp_path / "readonly"
    folder.mkdir()
    os.mkfifo(folder / "pipe")
    net = mlp([2, 1], seed=0)
    save(net, tmp_path / "model.safetensors")  # the bytes a regular file gets
    folder.chmod(0o555)
    try:
        thread, received = _read_in_background(folder / "pipe")
        save(net, folder / "pipe")
        thread.join(timeout=10)
    finally:
        folder.chmod(0o755)
    assert received == [(tmp_path / "model.safetensors").read_bytes()]
    assert stat.S_ISFIFO(os.stat(folder / "pipe").st_mode)


@needs_fifo
def test_checking_a_named_pipe_neither_blocks_nor_replaces_it(tmp_path):
    """ModelCheckpoint checks its path when training begins: a pipe must not block then."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    check_writable(fifo)  # would block in open() without a reader
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


@pytest.mark.skipif(os.name != "posix", reason="permissions are POSIX")
@pytest.mark.parametrize("umask", [0o022, 0o077], ids=oct)
def test_a_private_file_being_replaced_is_never_readable_by_others(tmp_path, umask):
    path = tmp_path / "secret.safetensors"
    path.write_bytes(b"old secret")
    path.chmod(0o600)
    modes = []

    def parts():
        yield b"new secret, part 1"
        (temporary,) = (name for name in os.listdir(tmp_path) if name != path.name)
        modes.append(stat.S_IMODE(os.stat(tmp_path / temporary).st_mode))
        yield b", part 2"

    previous = os.umask(umask)
    try:
        write_atomically(path, parts())
    finally:
        os.umask(previous)
    assert modes == [0o600]  # while the new contents were being written
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_bytes() == b"new secret, part 1, part 2"


@pytest.mark.skipif(os.name != "posix", reason="permissions are POSIX")
def test_a_replaced_file_keeps_permissions_the_umask_would_remove(tmp_path):
    path = tmp_path / "shared.csv"
    path.write_bytes(b"old")
    path.chmod(0o664)
    previous = os.umask(0o077)
    try:
        write_atomically(path, b"new")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o664


@pytest.mark.skipif(not hasattr(os, "pathconf"), reason="needs os.pathconf (POSIX)")
def test_checking_a_name_longer_than_the_file_system_allows_fails(tmp_path, monkeypatch):
    """The name itself is checked, not only the folder (with a short temporary name)."""
    import errno

    monkeypatch.setattr(os, "pathconf", lambda path, name: 20)  # a file system of short names
    check_writable(tmp_path / ("a" * 20))
    with pytest.raises(OSError, match=r"File name too long \(21 bytes; its file system allows "
                                      r"20\)") as info:
        check_writable(tmp_path / ("a" * 21))
    assert info.value.errno == errno.ENAMETOOLONG
    assert info.value.filename == str(tmp_path / ("a" * 21))
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd here")
def test_a_link_to_a_redirected_stream_is_written_in_place(tmp_path):
    """``save(net, "/dev/stdout")`` with stdout redirected to a file: ``/dev/stdout`` leads
    through ``/proc/self/fd/1`` to a regular file, which must get the bytes; renaming over the
    link would replace it (as root, ``/dev``'s own) and leave the redirected file empty. A
    link of our own to ``/proc/self/fd/N`` stands in for ``/dev/stdout``."""
    redirected = tmp_path / "redirected.bin"
    with open(redirected, "wb") as stream:
        link = tmp_path / "stdout"
        link.symlink_to(f"/proc/self/fd/{stream.fileno()}")
        write_atomically(link, b"model bytes")
        check_writable(link)
    assert redirected.read_bytes() == b"model bytes"
    assert link.is_symlink() and sorted(os.listdir(tmp_path)) == ["redirected.bin", "stdout"]


@pytest.mark.skipif(not os.path.isdir("/dev/shm"), reason="no /dev/shm here")
def test_a_file_in_dev_shm_is_replaced_atomically_as_anywhere(monkeypatch):
    """/dev/shm holds ordinary files (a tmpfs): they are written as any other, by a rename."""
    import tempfile

    with tempfile.TemporaryDirectory(dir="/dev/shm") as folder:
        path = Path(folder) / "model.bin"
        path.write_bytes(b"old")
        before = os.stat(path).st_ino
        write_atomically(path, b"new")
        assert path.read_bytes() == b"new" and os.stat(path).st_ino != before


@pytest.mark.skipif(not os.path.isdir("/proc/self/cwd"), reason="no /proc/self/cwd here")
def test_an_ordinary_file_reached_through_proc_is_replaced_atomically(tmp_path, monkeypatch):
    """``/proc/self/cwd/model.bin`` (Bazel's prefix) is an ordinary file: a failed write keeps
    its bytes, and a new one can be checked before it exists."""
    monkeypatch.chdir(tmp_path)
    path = "/proc/self/cwd/model.bin"
    write_atomically(path, b"old")

    def parts():
        yield b"partial"
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        write_atomically(path, parts())
    assert (tmp_path / "model.bin").read_bytes() == b"old"
    check_writable("/proc/self/cwd/new.bin")
    assert sorted(os.listdir(tmp_path)) == ["model.bin"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="no /proc/self/fd here")
def test_a_stream_reached_through_a_linked_folder_is_written_in_place(tmp_path):
    """``fds -> /proc/self/fd``, then ``fds/N``: the folder's link is resolved before the
    stream is recognised (the file descriptor's file gets the bytes, nothing is created)."""
    redirected = tmp_path / "redirected.bin"
    (tmp_path / "fds").symlink_to("/proc/self/fd")
    with open(redirected, "wb") as stream:
        write_atomically(tmp_path / "fds" / str(stream.fileno()), b"model bytes")
    assert redirected.read_bytes() == b"model bytes"
    assert sorted(os.listdir(tmp_path)) == ["fds", "redirected.bin"]


@pytest.mark.skipif(not os.path.isdir("/proc/thread-self/fd"), reason="no /proc/thread-self")
def test_a_threads_own_stream_path_is_written_in_place(tmp_path):
    """/proc/thread-self/fd/N resolves to /proc/<pid>/task/<tid>/fd/N: a stream too."""
    redirected = tmp_path / "redirected.bin"
    with open(redirected, "wb") as stream:
        path = f"/proc/thread-self/fd/{stream.fileno()}"
        check_writable(path)
        write_atomically(path, b"model bytes")
    assert redirected.read_bytes() == b"model bytes"
