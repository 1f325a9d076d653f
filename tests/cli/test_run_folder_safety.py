"""A run folder is never shared, half written or half restored: another run writing into it
while the data loads, the earlier run's files moved aside inside the folder (one file system),
a checkpoint with its own name, a Ctrl-C during the clean-up, metrics that JSON has no number
for, and write errors that name the file."""

from __future__ import annotations

import json
import math
import os
import re
import signal
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _run_helpers import circles_config, snapshot, with_callback

from chainrule.config import ConfigError
from chainrule.experiment import folder as folder_module
from chainrule.experiment import run, runner
from chainrule.io import load
from chainrule.training.callbacks import LambdaCallback
from chainrule.training.trainer import Trainer


def disk_full(*args):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path, monkeypatch, overwrite):
    """While a run loads its data (the folder is claimed, nothing written yet), a second run
    into the same folder is refused at once, with or without overwrite; the first one then
    writes the folder alone."""
    out = tmp_path / "run"
    if overwrite:
        run(circles_config(), out)
    load_data = runner.load_data
    refused = []

    def another_run_meanwhile(config):
        monkeypatch.setattr(runner, "load_data", load_data)
        with pytest.raises(ConfigError) as caught:
            run(circles_config("model.seed=7"), out, overwrite=overwrite)
        refused.append(str(caught.value))
        return load_data(config)

    monkeypatch.setattr(runner, "load_data", another_run_meanwhile)
    result = run(circles_config(), out, overwrite=overwrite)
    assert refused == [(
        f"the run folder {out} is in use by another run (process {os.getpid()}), which has not "
        "finished: wait for it to finish, or choose another folder (--out)")]
    alone = run(circles_config(), tmp_path / "alone")
    files, alone_files = snapshot(out), snapshot(alone.out_dir)
    assert files.keys() == alone_files.keys()  # no lock file left, and all this run's files
    assert files["model.safetensors"] == alone_files["model.safetensors"]
    assert result.out_dir == out


def test_a_run_folder_that_cannot_be_written_is_a_config_error(tmp_path, monkeypatch):
    """A folder the run may not write into (read-only, another user's) is refused as a config
    mistake naming the folder, and a non-empty one first as not empty, as before the lock; not
    with the OSError of the hidden lock file the user never made."""
    open_file = os.open

    def read_only(path, *args, **kwargs):
        if Path(path).name == folder_module.LOCK:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return open_file(path, *args, **kwargs)

    monkeypatch.setattr(folder_module.os, "open", read_only)
    (tmp_path / "empty").mkdir()
    lock = tmp_path / "empty" / folder_module.LOCK
    with pytest.raises(ConfigError, match=(
            rf"^the run folder {tmp_path / 'empty'} cannot be written \(Permission denied: "
            rf"{lock}\); choose another \(--out\)$")):
        run(circles_config(), tmp_path / "empty")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError, match=r"is not empty \(notes.txt\)"):
        run(circles_config(), tmp_path / "full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "full"]
    assert [p.name for p in (tmp_path / "empty").iterdir()] == []


@pytest.mark.parametrize("call", ["ftruncate", "write"])
def test_a_failure_while_claiming_the_folder_gives_it_up(tmp_path, monkeypatch, call):
    """The disk fills up as the run writes its id into the lock file: the error names that
    file, the lock is released and the folders the run created are removed, so that the same
    process (a notebook) can try again once there is room."""
    out = tmp_path / "new" / "run"
    monkeypatch.setattr(folder_module.os, call, disk_full)
    with pytest.raises(ConfigError, match=(
            rf"^the run folder {out} cannot be written \(No space left on device: "
            rf"{out / folder_module.LOCK}\); choose another \(--out\)$")):
        run(circles_config(), out)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    assert run(circles_config(), out).out_dir == out


@pytest.mark.parametrize("kind, described", [
    ("link to a file", "a symbolic link"), ("dangling link", "a symbolic link"),
    ("folder", "a folder"), ("fifo", "not a regular file")])
def test_a_lock_file_that_is_not_a_file_is_refused_and_not_followed(tmp_path, kind, described):
    """A run writes inside its own folder only: a lock file that is a symbolic link is not
    followed (the user's file it points to is neither emptied nor written, a dangling one
    creates nothing outside), and one that is no regular file is refused, naming it."""
    out, mine = tmp_path / "run", tmp_path / "mine.txt"
    out.mkdir()
    lock = out / folder_module.LOCK
    if kind == "link to a file":
        mine.write_text("my notes")
    if "link" in kind:
        lock.symlink_to(mine)
    elif kind == "folder":
        lock.mkdir()
    else:
        os.mkfifo(lock)
    with pytest.raises(ConfigError, match=(
            rf"^the run folder's lock file {re.escape(str(lock))} is {described}, not a file "
            r"a run may lock: remove it, or choose another folder \(--out\)$")):
        run(circles_config(), out, overwrite=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["mine.txt", "run"] if kind == "link to a file" else ["run"])
    if kind == "link to a file":
        assert mine.read_text() == "my notes"
    assert [p.name for p in out.iterdir()] == [folder_module.LOCK]


def test_a_run_folder_held_by_another_process_is_refused(tmp_path):
    out = tmp_path / "run"
    claim = ("import sys\n"
             "from chainrule.experiment.folder import RunFolder\n"
             f"RunFolder({str(out)!r}, 'circles', overwrite=False)\n"
             "print('claimed', flush=True)\n"
             "sys.stdin.readline()")
    holder = subprocess.Popen(
        [sys.executable, "-c", claim],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "claimed\n"
        for overwrite in (False, True):
            with pytest.raises(ConfigError, match=rf"in use by another run \(process "
                                                  rf"{holder.pid}\), which has not finished"):
                run(circles_config(), out, overwrite=overwrite)
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
        holder.stdout.close()
    # The holder exited without releasing the folder (as a killed run would): its lock file
    # is still there, but the lock itself went with the process, so the folder is free.
    assert [path.name for path in out.iterdir()] == [".chainrule-run.lock"]
    run(circles_config(), out)
    assert (out / "model.safetensors").is_file() and not (out / ".chainrule-run.lock").exists()


def test_files_that_appear_while_the_data_loads_are_not_overwritten(tmp_path, monkeypatch):
    """Another program (not a chainrule run, which the folder's lock keeps out) writes into
    the folder while the data loads: the run does not start."""
    out = tmp_path / "run"
    load_data = runner.load_data

    def another_program_writes(config):
        (out / "model.safetensors").write_text("not this run's")
        return load_data(config)

    out.mkdir()
    monkeypatch.setattr(runner, "load_data", another_program_writes)
    trained = []
    with_callback(monkeypatch, LambdaCallback(
        on_train_end=lambda trainer, logs: trained.append(trainer)))
    with pytest.raises(ConfigError, match=r"the run folder .*run is no longer empty: files "
                                          r"appeared while the data was loaded"):
        run(circles_config(), out)
    assert not trained
    assert snapshot(out) == {"model.safetensors": b"not this run's"}


def test_the_earlier_run_stays_in_place_while_the_new_one_trains(tmp_path, monkeypatch):
    """With overwrite, the earlier run's files are all there, unchanged, until the new run
    writes its own: a model being retrained can still be used (predict, evaluate)."""
    out = tmp_path / "run"
    run(circles_config(), out)
    before = snapshot(out)
    during = []

    def look(trainer, epoch, logs):
        files = snapshot(out)
        del files[".chainrule-run.lock"]
        during.append(files)
        load(out / "model.safetensors").forward(np.zeros((1, 2)))  # usable meanwhile

    with_callback(monkeypatch, LambdaCallback(on_epoch_end=look))
    run(circles_config("model.seed=3"), out, overwrite=True)
    assert during == [before, before]  # after epochs 1 and 2
    assert snapshot(out)["model.safetensors"] != before["model.safetensors"]


def test_a_new_run_writes_its_config_when_training_starts(tmp_path, monkeypatch):
    """A run killed outright (SIGKILL, out of memory) keeps its training checkpoint, and the
    config.toml beside it says how that run was built, as resume_from needs."""
    out, seen = tmp_path / "run", []
    expected = snapshot(run(circles_config(), tmp_path / "alone").out_dir)["config.toml"]

    def look(trainer, epoch, logs):
        seen.append((out / "config.toml").read_bytes())

    with_callback(monkeypatch, LambdaCallback(on_epoch_end=look))
    run(circles_config(), out)
    assert seen[0] == snapshot(out)["config.toml"]
    assert seen[0].replace(os.fsencode(out), b"") == expected.replace(
        os.fsencode(tmp_path / "alone"), b"")


def test_the_earlier_run_is_kept_aside_inside_the_run_folder(tmp_path, monkeypatch):
    """Its copy (hard links) is kept inside, so on the same file system as the run folder (a
    mount point works) and with a short name (a long run-folder name works)."""
    out = tmp_path / ("r" * 240)
    run(circles_config(), out)
    seen = []

    def look(trainer, epoch, logs):
        seen.append(sorted(p.name[:9] for p in out.iterdir() if p.is_dir()))
        seen.append(sorted(p.name for p in tmp_path.iterdir()))

    with_callback(monkeypatch, LambdaCallback(on_epoch_end=look))
    run(circles_config("training.epochs=1"), out, overwrite=True)
    assert seen == [[".earlier-"], [out.name]]
    assert not [p for p in out.iterdir() if p.is_dir()]  # deleted once the run is written


def test_a_failed_overwrite_restores_a_checkpoint_with_its_own_name(tmp_path, monkeypatch):
    out = tmp_path / "run"
    checkpoint = f"callbacks.checkpoint={{path={str(out / 'ckpt.safetensors')!r}}}"
    run(circles_config(checkpoint), out)
    before = snapshot(out)
    monkeypatch.setattr(runner, "write_plots", disk_full)
    with pytest.raises(OSError) as caught:
        run(circles_config(checkpoint, "model.seed=3"), out, overwrite=True)
    kept = out / "checkpoint.failed.safetensors"
    assert caught.value.__notes__[0].startswith(
        f"the training checkpoint of this run is kept at {kept} ")
    after = snapshot(out)
    failed = after.pop(kept.name)
    assert after == before and failed != before["ckpt.safetensors"]


def test_a_kept_checkpoint_is_never_overwritten_and_belongs_to_the_earlier_run(tmp_path,
                                                                                monkeypatch):
    """Two failed overwrites keep two checkpoints; a later successful one replaces both (they
    count as the earlier run's files), and a failed one puts them back."""
    out = tmp_path / "run"
    run(circles_config("callbacks.checkpoint={}"), out)
    monkeypatch.setattr(runner, "write_plots", disk_full)
    kept = []
    for seed in (3, 4):
        with pytest.raises(OSError) as caught:
            run(circles_config("callbacks.checkpoint={}", f"model.seed={seed}"), out,
                overwrite=True)
        kept.append(caught.value.__notes__[0].split(" kept at ")[1].split(" (resume")[0])
    assert kept == [str(out / "checkpoint.failed.safetensors"),
                    str(out / "checkpoint.failed-2.safetensors")]
    before = snapshot(out)
    assert before[Path(kept[0]).name] != before[Path(kept[1]).name]
    with pytest.raises(OSError):
        run(circles_config("model.seed=5"), out, overwrite=True)  # no checkpoint of its own
    assert snapshot(out) == before
    monkeypatch.undo()
    run(circles_config("model.seed=5"), out, overwrite=True)
    assert "checkpoint.failed.safetensors" not in snapshot(out)
    assert not [name for name in snapshot(out) if name.startswith("checkpoint")]


def test_overwrite_deletes_only_the_failed_checkpoints_a_run_kept(tmp_path, monkeypatch):
    """A file whose name merely starts like a kept checkpoint's is the user's: a successful
    overwrite deletes checkpoint.failed.safetensors and checkpoint.failed-2.safetensors (the
    earlier run's), not these."""
    out = tmp_path / "run"
    run(circles_config(), out)
    mine = ["checkpoint.failed-mine.safetensors", "checkpoint.failed.old.safetensors",
            "checkpoint.failed-2-copy.safetensors", "checkpoint.failed-02.safetensors"]
    kept = ["checkpoint.failed.safetensors", "checkpoint.failed-2.safetensors",
            "checkpoint.failed-10.safetensors"]
    for name in mine + kept:
        (out / name).write_text(name)
    run(circles_config("model.seed=3"), out, overwrite=True)
    assert [name for name in mine + kept if (out / name).exists()] == mine
    assert all((out / name).read_text() == name for name in mine)


def test_a_failed_overwrite_keeps_two_names_of_one_file(tmp_path, monkeypatch):
    """Two of the earlier run's file names that are hard links to one file both stay (each
    name is the earlier run's, not only the first of them)."""
    out = tmp_path / "run"
    run(circles_config(), out)
    (out / "confusion_matrix.png").unlink()
    os.link(out / "history.png", out / "confusion_matrix.png")
    before = snapshot(out)
    monkeypatch.setattr(runner, "write_plots", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        run(circles_config("model.seed=3"), out, overwrite=True)
    assert snapshot(out) == before
    assert os.path.samefile(out / "history.png", out / "confusion_matrix.png")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("through_a_link", [False, True], ids=["fifo", "link to a fifo"])
def test_overwrite_refuses_a_run_file_that_is_a_named_pipe(tmp_path, through_a_link):
    """A named pipe (or a link to one) where a run file goes: written in place it would hang
    with no reader, or be written and then removed; the run is refused before training, the
    folder left as it was."""
    out = tmp_path / "run"
    run(circles_config(), out)
    (out / "history.csv").unlink()
    if through_a_link:
        os.mkfifo(tmp_path / "pipe")
        (out / "history.csv").symlink_to(tmp_path / "pipe")
    else:
        os.mkfifo(out / "history.csv")
    before = sorted(os.listdir(out))
    with pytest.raises(ConfigError, match="the run folder's history.csv is not a regular file"):
        run(circles_config("model.seed=3"), out, overwrite=True)
    assert sorted(os.listdir(out)) == before
    assert stat.S_ISFIFO(os.stat(out / "history.csv").st_mode)


def test_a_ctrl_c_while_a_failed_run_puts_the_earlier_one_back_is_deferred(tmp_path,
                                                                          monkeypatch):
    out = tmp_path / "run"
    run(circles_config(), out)
    before = snapshot(out)
    monkeypatch.setattr(runner, "write_plots", disk_full)
    replace = os.replace
    pressed = []

    def ctrl_c_once_while_restoring(source, target):
        if ".earlier-" in os.fspath(source) and not pressed:
            pressed.append(source)
            signal.raise_signal(signal.SIGINT)
        return replace(source, target)

    monkeypatch.setattr(os, "replace", ctrl_c_once_while_restoring)
    with pytest.raises(OSError, match="No space left on device"):
        run(circles_config("model.seed=3"), out, overwrite=True)
    assert pressed and snapshot(out) == before
    assert not [p for p in out.iterdir() if p.is_dir()]


def test_metrics_json_is_strict_json_when_a_test_metric_is_not_finite(tmp_path, monkeypatch):
    def evaluate(self, X, y, sample_weight=None):
        return {"loss": math.inf, "accuracy": math.nan}

    monkeypatch.setattr(Trainer, "evaluate", evaluate)
    result = run(circles_config(), tmp_path / "run")

    def refuse(constant):
        raise AssertionError(f"metrics.json holds {constant}, which is not JSON")

    text = (result.out_dir / "metrics.json").read_text()
    assert json.loads(text, parse_constant=refuse)["test"] == {"loss": "inf", "accuracy": "nan"}


@pytest.mark.parametrize("name, nth", [("config.toml", 1), ("history.csv", 3),
                                       ("metrics.json", 4)])
def test_a_run_file_that_cannot_be_written_is_named(tmp_path, monkeypatch, name, nth):
    """The disk fills up at the ``nth`` file written (config.toml, model.safetensors,
    history.csv, metrics.json, then the figures): the error names that file."""
    fsync, files = os.fsync, []

    def full_at_the_nth_file(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):  # not a folder's fsync
            files.append(fd)
            if len(files) == nth:
                raise OSError(28, "No space left on device")
        return fsync(fd)

    monkeypatch.setattr(os, "fsync", full_at_the_nth_file)
    out = tmp_path / "run"
    with pytest.raises(OSError, match=rf"No space left on device: '.*run/{name}'"):
        run(circles_config("training.epochs=1"), out)
    assert not out.exists()


@pytest.mark.parametrize("out", [None, "new/run"])
def test_a_run_folder_that_cannot_be_created_is_a_config_error_naming_it(tmp_path, monkeypatch,
                                                                         out):
    """``chainrule train`` in a folder the user may not write (``/``, ``/usr``): a config
    error naming the folder, as for an existing folder that cannot be written, not a raw
    PermissionError."""
    monkeypatch.chdir(tmp_path)
    real_mkdir = Path.mkdir

    def refused(self, *args, **kwargs):
        if self.name in ("runs", "new"):
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refused)
    what = "the default folder of runs runs" if out is None else "the run folder new/run"
    with pytest.raises(ConfigError, match=rf"{what} cannot be created \(Permission denied"):
        run(circles_config(), out)
    assert list(tmp_path.iterdir()) == []


def test_a_run_folder_that_cannot_be_created_leaves_no_parent_it_made(tmp_path, monkeypatch):
    """``--out new/<a name too long>/run``: the error names the folder, and ``new`` (made on
    the way) is removed, as for every error before training."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="cannot be (created|used)"):
        run(circles_config(), Path("new") / ("a" * 300) / "run")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name == "nt", reason="flock is POSIX's")
def test_a_folder_that_cannot_be_locked_says_so_and_leaves_nothing(tmp_path, monkeypatch):
    """A file system without locks (ENOLCK) is not "in use by another run": the error says
    the folder cannot be locked, and neither the lock file nor the new folders stay."""
    import errno
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(ConfigError, match=r"cannot be locked \(No locks available: .*"
                                          r"\.chainrule-run\.lock\)") as caught:
        run(circles_config(), tmp_path / "new" / "run")
    assert "in use" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_creation_keeps_a_parent_another_process_made_meanwhile(tmp_path, monkeypatch):
    """Only the folders this run made are removed: ``shared`` appearing between the look and
    the creation (another program's) stays."""
    from chainrule.experiment import folder

    monkeypatch.chdir(tmp_path)
    look = folder.missing_folders

    def racing(path):
        missing = look(path)
        (tmp_path / "shared").mkdir()  # the user's, made just now
        return missing

    monkeypatch.setattr(folder, "missing_folders", racing)
    with pytest.raises(ConfigError, match="cannot be created"):
        run(circles_config(), Path("shared") / ("a" * 300) / "run")
    assert [path.name for path in tmp_path.iterdir()] == ["shared"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/cwd"), reason="no /proc/self/cwd here")
def test_overwrite_through_proc_self_cwd_keeps_the_new_run(tmp_path, monkeypatch):
    """A run folder reached through /proc/self/cwd (Bazel, containers) holds ordinary files:
    replaced by a rename, so the new run's files are not taken for the earlier run's."""
    monkeypatch.chdir(tmp_path)
    out = "/proc/self/cwd/exp"
    run(circles_config(), out)
    run(circles_config("model.seed=3"), out, overwrite=True)
    assert {"model.safetensors", "metrics.json", "config.toml"} <= set(os.listdir("exp"))
