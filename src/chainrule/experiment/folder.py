"""The folder of a run: claimed before training, then filled with the run's files.

A run holds its folder for itself from the start: a hidden file :data:`LOCK` in the folder,
locked by the operating system (``flock``) and naming the run's process. A second run into the
same folder (with ``overwrite`` too) is refused while the first one has not finished, so two
runs never mix their files. The file is removed when the run completes or fails; a run killed
outright (SIGKILL, power loss) leaves it behind, but its lock went with the process, so the
next run takes the folder as if it were not there. The run writes inside its folder only: a
lock file that is a symbolic link (to a file elsewhere, or dangling) is never followed, and
one that is no regular file is refused (a ``ConfigError`` naming it).

A run either completes its folder or leaves it as it found it:

- before training starts (a config error, a failed data load, Ctrl-C while loading, a lock
  file that cannot be written), the folders the run created (the run folder, ``runs/`` and
  other missing parents) are removed;
- when training starts, the folder must still hold nothing but the lock (another program may
  have written into it while the data was loaded), and ``config.toml`` is written (so that a
  run killed outright keeps, beside its training checkpoint, how it was built). With
  ``overwrite``, the earlier run's files
  (:data:`RUN_FILES`, and a checkpoint the config names inside the folder) stay where they are,
  so that its model can still be used (``predict``, ``evaluate``) while the new run trains; a
  hard link to each (a copy where the file system has none) is kept in a hidden folder
  ``.earlier-<random>`` inside the run folder (so on the same file system, even when the run
  folder is a mount point). Only a checkpoint this run writes replaces the earlier one
  during training (an earlier ``config.toml`` stays too: this run's replaces it when training
  ends);
- when training ends, the model and the other files are written, each
  replacing the earlier run's file of that name at once (written beside it, then renamed);
  once all are written, the earlier run's files that the new run did not replace (a figure it
  does not draw, a checkpoint it does not write) are deleted, and the hidden folder with them;
- a run that fails after training started (a diverged loss, a full disk, a second Ctrl-C while
  the files are written) removes the files it wrote and the folders it created, and puts back
  the earlier run's files it replaced. One file is kept: a training checkpoint this run wrote
  (to resume a long run from), and the error then says where it is (as a note:
  ``exc.__notes__``). When the earlier run has a checkpoint at the same place, the new one is
  kept beside it as ``checkpoint.failed.safetensors`` (``checkpoint.failed-2.safetensors`` ...
  when that name is taken: a kept checkpoint is never overwritten). Such kept checkpoints
  count as the earlier run's files for the next ``overwrite``: restored if that run fails too,
  deleted once it succeeds.

A single Ctrl-C during training is no failure: training stops after the current batch and the
run is evaluated and written as usual (one before the first step, with nothing trained, abandons
the run as a second Ctrl-C does). If the process is killed outright (SIGKILL, power loss),
the earlier run's files that the new one had replaced are still in the hidden folder.
"""

from __future__ import annotations

import contextlib
import copy
import os
import re
import shutil
import stat
import tempfile
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from .. import config as config_module
from .._atomic import reason_of, write_atomically
from .._folders import missing_folders
from ..config import ConfigError
from ..tables import write_csv
from ..training.callbacks import Callback
from ..training.checkpoint import ModelCheckpoint
from ..training.trainer import Trainer
from .data import Data

#: A ``checkpoint`` callback's file when its config gives no ``path``.
CHECKPOINT = "checkpoint.safetensors"

#: The files a run writes into its folder (``overwrite`` replaces them).
RUN_FILES = ("config.toml", "model.safetensors", "history.csv", "metrics.json", "history.png",
             "confusion_matrix.png", "decision_boundary.png", CHECKPOINT)

#: The hidden file that a run holds locked while it uses its folder (see the module notes).
LOCK = ".chainrule-run.lock"

#: Where a failed run's checkpoint is kept when the earlier run's checkpoint comes back
#: (``{suffix}`` is empty, or ``-2``, ``-3`` ... when the name is taken).
FAILED_CHECKPOINT = "checkpoint.failed{suffix}.safetensors"

#: The names :meth:`RunFolder._free_failed_checkpoint_name` gives a kept checkpoint
#: (``{suffix}`` empty, or ``-`` and a number from 2 without leading zeros), and no other: a
#: user's ``checkpoint.failed-old.safetensors`` is not a run's file.
_FAILED_CHECKPOINT_NAME = re.compile(re.escape(FAILED_CHECKPOINT).replace(
    re.escape("{suffix}"), r"(?:-[2-9]|-[1-9][0-9]+)?"))


class RunFolder:
    """The folder of one run: claimed before the data is loaded (refusing one that another run
    holds, or one that holds files unless ``overwrite``), then :meth:`start`, :meth:`finish` or
    :meth:`fail`, which give it up (see the module notes)."""

    def __init__(self, out_dir: str | Path | None, dataset: str, overwrite: bool) -> None:
        self.overwrite = overwrite
        self.started = False
        self.backup: Path | None = None  # links to the earlier run's files, until this run is done
        self.made: list[Path] = []  # the folders this run created, deepest first
        self.files = RUN_FILES  # the run's files (set when training starts)
        self.lock: int | None = None  # the open LOCK file, while this run holds the folder
        self.earlier: dict[str, os.stat_result] = {}  # the earlier run's files (overwrite)
        try:
            new = self._find_or_create(out_dir, dataset)
            if not new:  # (again when training starts: another program may write meanwhile)
                self._refuse_files("is not empty")
            self.lock = _claim(self.path)
        except BaseException:
            self._release()
            raise

    def _find_or_create(self, out_dir: str | Path | None, dataset: str) -> bool:
        """Set :attr:`path` (and :attr:`made`), creating the folder when it is missing;
        returns whether this run created it."""
        if out_dir is None:
            root = Path("runs")
            self.made, nearest = missing_folders(root)
            if not nearest.is_dir():
                raise ConfigError(f"the default folder of runs, {root}, is a file, not a folder; "
                                  "choose a run folder with --out")
            with _creating(root, "the default folder of runs", "choose a run folder with --out"):
                root.mkdir(parents=True, exist_ok=True)
                self.path = _new_run_dir(root, dataset)
            self.made.insert(0, self.path)
            return True
        self.path = Path(out_dir).expanduser()
        if is_folder(self.path, "the run folder (--out)"):
            return False
        if self.path.exists():
            raise ConfigError(f"the run folder {self.path} is a file, not a folder; choose "
                              "another (--out)")
        made, nearest = missing_folders(self.path)
        if not nearest.is_dir():
            raise ConfigError(f"the run folder {self.path} cannot be created: {nearest} is "
                              "a file, not a folder; choose another (--out)")
        with _creating(self.path, "the run folder", "choose another (--out)"):
            for folder in reversed(made):  # the outermost first, each recorded once made:
                try:  # a failure midway leaves the run exactly those to remove
                    folder.mkdir()
                except FileExistsError:  # made meanwhile by another process: not this run's
                    if folder == self.path:  # (another run's: the lock decides)
                        return False
                    continue
                self.made.insert(0, folder)
        return True

    def _refuse_files(self, state: str) -> None:
        """Without ``overwrite``, a ``ConfigError`` if the folder holds anything (but the run's
        :data:`LOCK`)."""
        held = sorted(entry.name for entry in self.path.iterdir() if entry.name != LOCK)
        if held and not self.overwrite:
            shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
            raise ConfigError(
                f"the run folder {self.path} {state} ({shown}); a run writes into a new or "
                "empty folder so that all its files belong to that run: choose another folder "
                "(--out), or replace an earlier run's files with --overwrite (overwrite=True)"
            )

    def _release(self) -> None:
        """Give the folder up (remove :data:`LOCK`, then unlock it), and remove the folders
        this run created (those left empty)."""
        if self.lock is not None:
            with contextlib.suppress(OSError):  # Windows: another run has it open; harmless
                (self.path / LOCK).unlink()
            os.close(self.lock)  # unlocks
            self.lock = None
        for path in self.made:
            try:
                path.rmdir()  # only if empty
            except OSError:
                break

    def _holds(self, path: Path) -> bool:
        """Whether ``path`` names a file directly inside the run folder."""
        return directly_in(path, self.path)

    def start(self, checkpoints: Iterable[Path] = ()) -> None:
        """Training starts: the folder must still be empty (without ``overwrite``); with
        ``overwrite``, the earlier run's files stay where they are, and a hard link to each (a
        copy where the file system has none) is kept aside, to put back those that this run
        replaces if it fails. ``checkpoints``: the files this run's checkpoint callbacks
        write; those inside the folder are run files too."""
        self._refuse_files("is no longer empty: files appeared while the data was loaded")
        own = [path.name for path in checkpoints if self._holds(path)]
        kept = [entry.name for entry in self.path.iterdir()
                if _FAILED_CHECKPOINT_NAME.fullmatch(entry.name)]
        self.files = RUN_FILES + tuple(sorted(set(own + kept) - set(RUN_FILES)))
        for name in self.files:
            with contextlib.suppress(FileNotFoundError):
                status = os.stat(self.path / name)
                if not stat.S_ISREG(status.st_mode):  # a named pipe, a device (or a link to one)
                    raise ConfigError(
                        f"the run folder's {name} is not a regular file (a named pipe or a "
                        "device?): a run writes its files there, so it would write into it "
                        "and then remove it; remove it, or choose another folder (--out)")
                # Once per file where case is ignored (macOS, Windows): there two of the names
                # (checkpoint.safetensors, a config's Checkpoint.safetensors) may be one
                # name of one file. Two names that differ otherwise (hard links to one file)
                # are two of the earlier run's files, both kept.
                if not any(same_name(seen, self.path / name) and os.path.samestat(status, other)
                           for seen, other in self.earlier.items()):
                    self.earlier[name] = status
        if self.earlier:
            self.backup = _keep_aside(self.path, self.earlier)
        self.started = True  # from now on, the run folder's RUN_FILES are this run's

    def finish(self) -> None:
        """The run has written all its files: the earlier run's files that it did not
        replace are deleted, and the folder is given up."""
        for name, status in self.earlier.items():
            if _unchanged(self.path / name, status):
                (self.path / name).unlink(missing_ok=True)
        if self.backup is not None:
            shutil.rmtree(self.backup, ignore_errors=True)
            self.backup = None
        self.made = []  # the run's own now
        self._release()

    def fail(self, checkpoint: Path | None = None) -> str | None:
        """The run failed (or was stopped before training): remove what it wrote and the
        folders it created, put back the earlier run's files it replaced, give the folder up,
        keep ``checkpoint`` (a training checkpoint this run wrote, or None). Returns a note
        saying where the kept checkpoint is, or None."""
        kept = None
        if self.started:
            in_folder = checkpoint is not None and self._holds(checkpoint)
            for name in self.files:
                if name not in self.earlier and not (in_folder and same_name(name, checkpoint)):
                    (self.path / name).unlink(missing_ok=True)
            kept = checkpoint
            if self.backup is not None:
                if in_folder and (self.backup / checkpoint.name).exists():
                    kept = self.path / self._free_failed_checkpoint_name()
                    os.replace(checkpoint, kept)
                self._put_back()
        self._release()
        if kept is None:
            return None
        return (f"the training checkpoint of this run is kept at {kept} (resume from it with "
                "Trainer.fit(..., resume_from=path), or load its weights with "
                "chainrule.training.checkpoint.checkpoint_network)")

    def _put_back(self) -> None:
        """Each earlier run's file that this run replaced comes back (one rename, so the
        name never goes missing); then the files kept aside are gone."""
        for name, status in self.earlier.items():
            if _unchanged(self.path / name, status):
                (self.backup / name).unlink()
            else:
                os.replace(self.backup / name, self.path / name)
        self.backup.rmdir()
        self.backup = None

    def _free_failed_checkpoint_name(self) -> str:
        """The first :data:`FAILED_CHECKPOINT` name that neither the folder nor the earlier
        run's files (moved aside) hold."""
        for number in range(1, 10_000):
            name = FAILED_CHECKPOINT.format(suffix="" if number == 1 else f"-{number}")
            if not (self.path / name).exists() and not (self.backup / name).exists():
                return name
        raise FileExistsError(f"{self.path} holds 9999 failed checkpoints")  # pragma: no cover


def directly_in(path: Path, folder: Path) -> bool:
    """Whether ``path`` names a file directly inside ``folder`` (through links too, and in any
    case where the file system ignores it)."""
    try:
        return os.path.samefile(path.expanduser().parent, folder)
    except OSError:  # one of them does not exist
        return path.expanduser().resolve().parent == folder.resolve()


@contextlib.contextmanager
def _creating(path: Path, what: str, advice: str) -> Iterator[None]:
    """While creating the folder ``path`` (``what``: how a message names it): a ``ConfigError``
    naming it for an ``OSError`` (a location the user may not write, a full disk), as for a
    folder that exists but cannot be written. (``FileExistsError`` passes: the caller's.)"""
    try:
        yield
    except FileExistsError:
        raise
    except OSError as exc:
        reason = reason_of(exc)
        where = f": {exc.filename}" if exc.filename and str(exc.filename) != str(path) else ""
        raise ConfigError(f"{what} {path} cannot be created ({reason}{where}); {advice}") from exc


def is_folder(path: Path, key: str) -> bool:
    """Whether ``path`` is a folder (False when it does not exist). A ``ConfigError`` naming
    ``key`` (what gave the path) and ``path`` when the system cannot look it up (a name over
    its 255 bytes, a folder on the way that may not be searched), instead of that OSError,
    which names no key."""
    try:
        return path.is_dir()
    except OSError as exc:  # is_dir() says False for a missing path, raises for the rest
        reason = reason_of(exc)
        raise ConfigError(f"{key}: the path {path} cannot be used ({reason}); choose "
                          "another") from None


def same_name(name: str, path: Path) -> bool:
    """Whether the file ``name`` of a folder is ``path``'s name there, ignoring case: on macOS
    and Windows ``Model.safetensors`` and ``model.safetensors`` are one file (this refuses
    such names on every system alike)."""
    return name.casefold() == path.name.casefold()


def _new_run_dir(root: Path, dataset: str) -> Path:
    """Create and return ``root/<YYYYmmdd-HHMMSS>-<dataset>``, with ``-2``, ``-3`` ... appended
    when the name is taken (two runs started in the same second get two folders)."""
    base = time.strftime("%Y%m%d-%H%M%S") + f"-{dataset}"
    for attempt in range(1, 10_000):
        path = root / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            path.mkdir()  # atomic: fails if another process took the name first
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"could not create a new run folder {root / base}-N")  # pragma: no cover


def _keep_aside(folder: Path, names: Iterable[str]) -> Path:
    """A hidden folder ``.earlier-<random>`` inside ``folder`` (so on the same file system,
    even when ``folder`` is a mount point) holding a hard link to each file ``names`` of
    ``folder``, or a copy of it where the file system has no hard links; all of them, or
    (an error) none."""
    backup = Path(tempfile.mkdtemp(prefix=".earlier-", dir=folder.resolve()))
    try:
        for name in names:
            try:
                os.link(folder / name, backup / name)
            except OSError:  # FAT, some network shares
                shutil.copy2(folder / name, backup / name)
    except BaseException:
        shutil.rmtree(backup, ignore_errors=True)
        raise
    return backup


def _unchanged(path: Path, status: os.stat_result) -> bool:
    """Whether ``path`` is still the file of ``status``: a file chainrule writes replaces the
    old one by a rename (:func:`~chainrule._atomic.write_atomically`), so a new file is a new
    inode."""
    try:
        return os.path.samestat(os.stat(path), status)
    except FileNotFoundError:
        return False


def _claim(folder: Path) -> int:
    """Open and lock ``folder``'s :data:`LOCK` (created if missing) and write this process's
    id into it; returns the open file. A ``ConfigError`` names the process holding it, or
    says that the folder cannot be written (naming the lock file), or that the lock file is
    no regular file. On any error nothing is held and the lock file is not left behind."""
    path = folder / LOCK
    while True:
        fd = _open_lock(folder, path)
        try:
            if not _lock(fd):
                raise ConfigError(
                    f"the run folder {folder} is in use by another run{_holder(path)}, which has "
                    "not finished: wait for it to finish, or choose another folder (--out)")
            with contextlib.suppress(FileNotFoundError):
                if os.path.samestat(os.fstat(fd), os.lstat(path)):
                    break
        except OSError as exc:  # no lock to be had here (ENOLCK: a file system without locks)
            os.close(fd)
            with contextlib.suppress(OSError):
                if os.lstat(path).st_size == 0:  # this run's new file: no holder wrote into it
                    os.unlink(path)
            reason = reason_of(exc)
            raise ConfigError(f"the run folder {folder} cannot be locked ({reason}: {path}), "
                              "so two runs could mix their files in it; choose another "
                              "(--out)") from exc
        except BaseException:
            os.close(fd)
            raise
        # The run that held it removed it (releasing) after this run opened it (or put
        # something else in its place): try again.
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except BaseException as exc:
        # This run holds the lock: the file is its own to remove (as _release does).
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)
        if isinstance(exc, OSError):
            raise _unwritable(folder, path, exc) from exc
        raise
    return fd


def _open_lock(folder: Path, path: Path) -> int:
    """Open the lock file ``path`` of ``folder`` for reading and writing (created if missing),
    never through a symbolic link: the run writes inside its own folder only, so a link there
    (to a user's file, or dangling) must not be emptied, written or created through. A
    ``ConfigError`` when it is no regular file, or cannot be opened."""
    _refuse_odd_lock(path)  # where the system has no O_NOFOLLOW (Windows), before following
    flags = (os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
             | getattr(os, "O_BINARY", 0))
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:  # read-only, another user's; a link (ELOOP), a folder (EISDIR)
        _refuse_odd_lock(path)
        raise _unwritable(folder, path, exc) from exc
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a FIFO, a device
            raise _odd_lock(path, "not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _refuse_odd_lock(path: Path) -> None:
    """A ``ConfigError`` when the lock file ``path`` exists and is a symbolic link or a
    folder."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:  # missing: the run creates it
        return
    if stat.S_ISLNK(mode):
        raise _odd_lock(path, "a symbolic link")
    if stat.S_ISDIR(mode):
        raise _odd_lock(path, "a folder")


def _odd_lock(path: Path, what: str) -> ConfigError:
    """The error of a lock file ``path`` that is ``what`` (a symbolic link, a folder ...)."""
    return ConfigError(f"the run folder's lock file {path} is {what}, not a file a run may "
                       "lock: remove it, or choose another folder (--out)")


def _unwritable(folder: Path, path: Path, exc: OSError) -> ConfigError:
    """The error of a run folder whose lock file ``path`` could not be created or written."""
    reason = reason_of(exc)
    return ConfigError(f"the run folder {folder} cannot be written ({reason}: {path}); choose "
                       "another (--out)")


def _lock(fd: int) -> bool:
    """Lock the open file ``fd`` for this process, without waiting; False if another holds it.
    The lock goes with the file's closing, or the process's end however it ends."""
    try:
        if os.name == "nt":  # pragma: no cover
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except (BlockingIOError, PermissionError):  # held (PermissionError: Windows's answer)
        return False  # other errors (ENOLCK) are the caller's: no lock can be had there
    return True


def _holder(path: Path) -> str:
    """`` (process 1234)``, the process that wrote ``path``, or nothing when unreadable."""
    with contextlib.suppress(OSError, ValueError):
        return f" (process {int(path.read_text(encoding='ascii'))})"
    return ""


class StartRun(Callback):
    """When training starts (all checks passed): take the folder and write ``config.toml``,
    so that a run killed outright keeps, beside its training checkpoint, how it was built;
    but with ``overwrite``, an earlier run's ``config.toml`` stays beside its model while this
    run trains, and this run's is written when training ends. Its text is made at once, so
    that a path it cannot hold is a ``ConfigError`` before training."""

    def __init__(self, folder: RunFolder, config: dict[str, Any]) -> None:
        self.folder = folder
        self.text = config_module.dumps(_absolute_paths(config)).encode("utf-8")

    def on_train_begin(self, trainer: Trainer) -> None:
        self.folder.start(Path(callback.path) for callback in trainer.callbacks
                          if isinstance(callback, ModelCheckpoint))
        if "config.toml" not in self.folder.earlier:
            write_atomically(self.folder.path / "config.toml", self.text)

    def on_train_end(self, trainer: Trainer, logs: dict[str, float]) -> None:
        if "config.toml" in self.folder.earlier:
            write_atomically(self.folder.path / "config.toml", self.text)


def _absolute_paths(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``config`` with its file and folder paths absolute (from the working
    directory), so that the run's ``config.toml`` reads the same files from anywhere. A
    dataset's folder taken from a relative ``$CHAINRULE_DATA`` (``../shared/data``, as the
    examples use it) or ``$CHAINRULE_CACHE`` is read from the working directory too: it is
    recorded as ``data.data_dir``."""
    config = copy.deepcopy(config)
    data = config.get("data", {})
    if "data_dir" not in data and _reads_a_data_folder(data.get("dataset")):
        from ..datasets.storage import resolve_data_dir

        folder = resolve_data_dir()
        if not folder.is_absolute():  # an absolute one is left to the environment
            data["data_dir"] = os.fspath(folder)
    tables = (("data", data, ("train", "test", "data_dir")),
              ("callbacks.checkpoint", config.get("callbacks", {}).get("checkpoint", {}),
               ("path",)))
    for name, table, keys in tables:
        for key in keys:
            if isinstance(table.get(key), str):
                path = os.path.abspath(os.path.expanduser(table[key]))
                table[key] = _utf8_path(path, f"{name}.{key}")
    return config


def _reads_a_data_folder(dataset: str | None) -> bool:
    """Whether the loader of ``dataset`` reads files from a data folder (a catalog dataset
    that is not bundled: mnist, fashion_mnist, california_housing)."""
    from ..datasets.catalog import list_datasets

    return any(info.name == dataset and not info.bundled for info in list_datasets())


def _utf8_path(path: str, key: str) -> str:
    """``path`` as the text that config.toml (UTF-8) can hold. Under a locale that is not UTF-8
    (``LC_ALL=C``), Python keeps the bytes of a name it cannot decode as surrogates
    (``d\\udcc3\\udcb6nn...``): they are read here as the UTF-8 they are (``dönn...``), the
    name a UTF-8 locale gives the file. A ``ConfigError`` naming ``key`` when they are not."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return os.fsencode(path).decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigError(
                f"{key}: the path {path!r} is not UTF-8 text, which config.toml needs to record "
                "it: rename the folder or file (to UTF-8), or run from a folder whose path is "
                "UTF-8"
            ) from None
    return path


def write_history(history: Any, path: Path) -> None:
    """``history.csv``: one row per epoch, one column per recorded quantity."""
    keys = list(history.history)
    write_csv(path, [["epoch", *keys]] + [
        [epoch, *(repr(history.history[k][row]) for k in keys)]
        for row, epoch in enumerate(history.epochs)
    ])


def write_plots(trainer: Trainer, data: Data, out: Path) -> list[Path]:
    """The run's figures (the paths written), or nothing when matplotlib is not installed.
    ``history.png`` only when an epoch completed (Ctrl-C during the first epoch leaves no
    curve to draw).

    The figures are extras of a run that has trained: one that cannot be drawn (a broken
    matplotlib set-up such as ``MPLBACKEND`` naming no backend, a plot that fails) costs that
    figure and those after it, with a ``RuntimeWarning`` saying why, never the run."""
    written: list[Path] = []
    try:
        import matplotlib  # noqa: F401

        from .. import plots
    except ImportError:
        return written
    except Exception as exc:  # noqa: BLE001 - matplotlib refusing its own settings
        _warn_no_figures(exc, written)
        return written
    figures = []
    if len(trainer.history):
        figures.append(("history.png", plots.plot_history, (trainer.history,), {}))
    if data.task == "classification":
        # As class indices named by the classes: labels such as 0.5 and 1.5 would otherwise
        # read as probabilities (see plot_confusion_matrix).
        encoder = trainer.encoder
        figures.append((
            "confusion_matrix.png", plots.plot_confusion_matrix,
            (encoder.strata(data.y_test), encoder.strata(trainer.predict(data.X_test))),
            {"labels": range(len(encoder.classes)),
             "display_labels": [str(label) for label in encoder.classes.tolist()]}))
        if data.n_features == 2:
            figures.append(("decision_boundary.png", plots.plot_decision_boundary,
                            (trainer, data.X_test, data.y_test), {}))
    for name, draw, args, kwargs in figures:
        try:
            draw(*args, path=out / name, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a figure is not worth the trained run
            _warn_no_figures(exc, written)
            break
        written.append(out / name)
    return written


def _warn_no_figures(exc: Exception, written: list[Path]) -> None:
    drawn = ", ".join(path.name for path in written) or "none"
    warnings.warn(
        f"the run's figures could not all be drawn ({type(exc).__name__}: {exc}); the run is "
        f"kept without the rest of them (drawn: {drawn})", RuntimeWarning, stacklevel=3)
