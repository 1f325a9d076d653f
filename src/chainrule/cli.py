"""The ``chainrule`` command.

``main(argv) -> int`` runs a command and returns its exit code, leaving the process's state
alone (it may be called in-process); ``entry_point()`` is ``chainrule`` on the command line and
``python -m chainrule``. Exit codes: 0 success, 1 the work failed (a failed gradient check, a
diverged run, an unreadable file), 2 the command line or the config is wrong, 130 Ctrl-C, and
under ``entry_point`` 143 SIGTERM and 129 SIGHUP (128 + the signal's number, as a shell reports
a process the signal ended; the run folder, a download, a file being written are first left as
they were found). Errors print as one line (``chainrule: error: ...``) unless ``--debug`` asks
for the traceback.

What a command prints on stdout is a report on its work (or, for ``summary``, ``explain``,
``datasets list`` ..., its product): a reader that leaves early (``chainrule train | head -1``)
is no error. The rest of the output is dropped, the work goes on (training, the run folder, the
``predict -o`` file), and the exit code is that of the work. A ``BrokenPipeError`` from the work
itself is a failure like any other (exit code 1).
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import os
import signal
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ._interrupt import Terminated, termination_raises
from ._version import __version__

# Besides a few standard modules, only what ``import chainrule`` has already loaded is imported
# here: the rest (the config, the commands' modules) is imported under main(), which turns a
# Ctrl-C in the first moments of a command into "chainrule: interrupted" and 130, not a traceback.

#: Said under the examples that name an example config: a pip install has none of them.
_FROM_CHECKOUT = """
  (examples/configs/ is in chainrule's source repository, not in the installed package:
  run these in a checkout of it, or give a config of your own)"""

EXAMPLES = {
    "train": """examples:
  chainrule train                                   # the built-in default: an MLP on the 8x8 digits
  chainrule train examples/configs/two_circles.toml
  chainrule train --set training.epochs=5 --set model.hidden=[128,64] --out runs/wide
  chainrule train --set data.dataset=mnist --set data.data_dir=../shared/data""" + _FROM_CHECKOUT,
    "evaluate": """examples:
  chainrule evaluate runs/digits/model.safetensors --config runs/digits/config.toml
  chainrule evaluate model.safetensors --data digits
  chainrule evaluate model.safetensors --data test.csv --target label""",
    "predict": """examples:
  chainrule predict runs/digits/model.safetensors samples.csv -o predictions.csv
  chainrule predict model.safetensors X.npy -o probabilities.npy --proba""",
    "summary": """examples:
  chainrule summary runs/digits/model.safetensors""",
    "gradcheck": """examples:
  chainrule gradcheck                               # the default network, float64 finite differences
  chainrule gradcheck examples/configs/two_circles.toml --samples 16""" + _FROM_CHECKOUT,
    "explain": """examples:
  chainrule explain                                 # the 2-4-3-1 two-circles network
  chainrule explain --samples 4 --format markdown
  chainrule explain examples/configs/two_circles.toml --format json""" + _FROM_CHECKOUT,
    "datasets": """examples:
  chainrule datasets list
  chainrule datasets download mnist
  chainrule datasets download fashion_mnist --data-dir ~/data""",
}


class UsageError(ValueError):
    """The command line is wrong (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit code 2, no usage dump
        raise UsageError(f"{message} (see: {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand (also used by the docs)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    parser = _Parser(
        prog="chainrule",
        description="Neural networks in plain NumPy, every gradient written by hand.",
        epilog="run 'chainrule COMMAND --help' for the options and examples of each command",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=help_text,
                                   epilog=EXAMPLES[name], parents=[common],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    train = command("train", "train a network from a TOML config (or the built-in default)")
    train.add_argument("config", nargs="?", help="TOML config file (default: built-in digits MLP)")
    train.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config key, e.g. training.epochs=5 (repeatable)")
    train.add_argument("--out", help="run folder, new or empty (default: a new "
                                     "runs/<time>-<dataset>)")
    train.add_argument("--overwrite", action="store_true",
                       help="let --out be the folder of an earlier run (its run files are "
                            "replaced once the new run has written its own; kept if it fails)")
    train.add_argument("--quiet", action="store_true", help="no progress output")

    evaluate = command("evaluate", "evaluate a saved model on a dataset or a file")
    evaluate.add_argument("model", help="model file (.safetensors)")
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help=f"dataset name, or a {'/'.join(DATA_FILES)} file")
    source.add_argument("--config", help="a run's config.toml: evaluate on its test split")
    evaluate.add_argument("--target", default=-1, help="target column of a CSV (name or index)")
    evaluate.add_argument("--data-dir", help="folder with the dataset files")

    predict = command("predict", "predict with a saved model: CSV, .npy or .npz in, CSV or .npy "
                                 "out")
    predict.add_argument("model", help="model file (.safetensors)")
    predict.add_argument("input", help="features: .csv (header optional), .npy, or .npz (its "
                                       "array X)")
    predict.add_argument("-o", "--output", required=True, help="output file: .csv or .npy")
    predict.add_argument("--proba", action="store_true",
                         help="write the class probabilities instead of the labels: one "
                              "column per class (one per label for a multilabel model)")

    summary = command("summary", "print a saved model's layers, shapes and parameter counts")
    summary.add_argument("model", help="model file (.safetensors)")

    gradcheck = command("gradcheck", "check backpropagation against finite differences")
    gradcheck.add_argument("config", nargs="?", help="TOML config (default: the built-in one)")
    gradcheck.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    gradcheck.add_argument("--samples", type=int, default=8, help="batch size to check (default 8)")
    _add_max_checks(gradcheck)

    explain = command("explain", "print every chain-rule term of one backward pass")
    explain.add_argument("config", nargs="?",
                         help="TOML config (default: the two-circles network; --set without a "
                              "CONFIG changes the built-in digits config)")
    explain.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    explain.add_argument("--samples", type=int, default=4, help="batch size (default 4)")
    explain.add_argument("--format", choices=["text", "markdown", "json"], default="text")
    _add_max_checks(explain)

    datasets = command("datasets", "list the datasets or download one")
    datasets.add_argument("action", choices=["list", "download"])
    datasets.add_argument("name", nargs="?", help="dataset to download")
    datasets.add_argument("--data-dir", help="download into this folder (default: the cache)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``chainrule`` command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        return HANDLERS[args.command](args)
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    except Terminated as exc:  # SIGTERM, SIGHUP: the work has cleaned up after itself
        with contextlib.suppress(OSError):  # after SIGHUP, the terminal may be gone
            print(f"chainrule: terminated ({signal.Signals(exc.signum).name})", file=sys.stderr)
            _print_notes(exc)
        return 128 + exc.signum
    except KeyboardInterrupt as exc:
        print("chainrule: interrupted", file=sys.stderr)
        _print_notes(exc)
        return 130
    except Exception as exc:  # noqa: BLE001 - every failure becomes one readable line
        from .config import ConfigError

        if debug:
            traceback.print_exc()
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"chainrule: error: {message}", file=sys.stderr)
        if not debug:  # the traceback shows them
            _print_notes(exc)
        return 2 if isinstance(exc, (UsageError, ConfigError)) else 1


def entry_point() -> int:
    """The ``chainrule`` console script and ``python -m chainrule``: :func:`main` with
    ``sys.argv``, then stdout flushed. If its reader has gone (``chainrule datasets list | head
    -1``), stdout's file descriptor is pointed at devnull, so that the interpreter's own flush at
    exit does not fail again, printing "Exception ignored ... BrokenPipeError" and exiting with
    120 (Python's recipe, in the notes on SIGPIPE of the signal module). Only here, where the
    process is about to end: :func:`main` itself changes no process-wide state.

    Before that, stdout and stderr escape what their encoding cannot write (``→`` becomes
    ``\\u2192`` on an ASCII stdout: ``LC_ALL=C``, ``PYTHONIOENCODING=ascii``, a Windows
    redirect in cp1252) instead of failing the command after its work is done; and while
    :func:`main` runs, SIGTERM and SIGHUP raise :class:`~chainrule._interrupt.Terminated`, so
    that the work cleans up after itself as after a second Ctrl-C, and the exit code is 128 +
    the signal's number (143 for SIGTERM)."""
    _escape_unencodable(sys.stdout, sys.stderr)
    with termination_raises():
        code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return code


def _escape_unencodable(*streams: object) -> None:
    """Let each text stream write a character its encoding lacks as a backslash escape, as
    Python's stderr does, and the bytes of a file name the locale could not decode as those
    bytes (as Python's "surrogateescape" does, so that a printed path is the file's). The
    encoding is kept, and so is an error handler the user chose
    (``PYTHONIOENCODING=ascii:replace``); Python's own choices, "strict" and, under the C
    locale, "surrogateescape", both fail on a character such as ``→``."""
    for stream in streams:
        if (isinstance(stream, io.TextIOWrapper)
                and stream.errors in ("strict", "surrogateescape")):
            stream.reconfigure(errors=_ESCAPE)


def _bytes_or_backslash(error: UnicodeError) -> tuple[str | bytes, int]:
    """The ``_ESCAPE`` error handler: "surrogateescape" where it applies (the undecodable
    bytes of a file name), "backslashreplace" for any other character."""
    try:
        return codecs.lookup_error("surrogateescape")(error)
    except UnicodeError:
        return codecs.lookup_error("backslashreplace")(error)


#: The name :func:`_bytes_or_backslash` is registered under.
_ESCAPE = "chainrule.bytes_or_backslash"
codecs.register_error(_ESCAPE, _bytes_or_backslash)


def _out(text: object) -> None:
    """Print ``text`` on stdout; a reader that has gone (``| head -1``) is no error: what
    remains is not wanted, and the command's work and exit code stay what they are."""
    try:
        print(text)
    except BrokenPipeError:
        pass


def _print_notes(exc: BaseException) -> None:
    """What was added to an error on its way (e.g. where a failed run's checkpoint is kept)."""
    for note in getattr(exc, "__notes__", ()):
        print(f"chainrule: note: {note}", file=sys.stderr)


# ------------------------------------------------------------------------------- commands

def _train(args: argparse.Namespace) -> int:
    from .config import load_config
    from .experiment import run

    config = load_config(args.config, args.overrides)
    if args.quiet:
        config["training"]["verbose"] = 0
    result = run(config, args.out, overwrite=args.overwrite)
    metrics = ", ".join(f"{name} {value:.4f}" for name, value in result.test_metrics.items())
    _out(f"test: {metrics} ({len(result.data.y_test)} samples, "
         f"trained in {result.seconds:.1f} s)")
    # the Trainer prints the note itself unless it is silent (--quiet or training.verbose = 0)
    if result.trainer.history.note and not config["training"].get("verbose", 1):
        _out(result.trainer.history.note)
    _out(f"run folder: {result.out_dir}")
    interrupted = result.interrupted or result.interrupted_while_finishing
    return 130 if interrupted else 0  # 128 + SIGINT, as a shell reports Ctrl-C


def _evaluate(args: argparse.Namespace) -> int:
    from .io import load_with_targets
    from .model_targets import guess_targets

    net, targets = load_with_targets(args.model)
    X, y, where, what = _evaluation_data(args, net.in_features)
    origin = args.model
    if targets is None:  # as predict reads the outputs
        targets = guess_targets(net, y_ndim=2 if y.ndim == 2 else 1)
        _note_guess(targets)
        origin = _guessed_outputs(targets, args.model)
        _check_guessed_shape(targets, y, what, origin)
    results = _model_metrics(net, targets, X, y, what, origin)
    _out(f"evaluated on {where} ({len(y)} sample{'' if len(y) == 1 else 's'})")
    for name, value in results.items():
        _out(f"{name:>10}  {value:.4f}")
    if "mse" in results and "r2" not in results:
        print(f"chainrule: note: r2 is left out: R² needs at least 2 samples, and {where} has "
              f"{len(y)}", file=sys.stderr)
    return 0


def _evaluation_data(args: argparse.Namespace, n_features: int | None
                     ) -> tuple[np.ndarray, np.ndarray, str, str]:
    """``(X, y, where, what)`` for ``evaluate``: the test split of ``--config`` or of the
    dataset ``--data``, or the file ``--data``, whose features must be the network's
    ``n_features``; ``where`` names the data, ``what`` its targets in messages (a file's
    target column or array y, else ``where``)."""
    from .config import DATASETS, load_config
    from .experiment import Data, load_data
    from .tables import file_suffix, read_table

    if args.config:
        data = load_data(load_config(args.config)["data"])
        where = f"the test split of {args.config}"
        return data.X_test, np.asarray(data.y_test), where, where
    if file_suffix(path := Path(args.data).expanduser()) in DATA_FILES:
        if not path.is_file():
            raise UsageError(f"--data {args.data}: no such file")
        X, y = read_table(path, _column(args.target), target_key="--target")
        if file_suffix(path) == ".npz":
            return X, y, args.data, f"the array y of {args.data}"
        _check_feature_columns(X, n_features, args)
        return X, y, args.data, f"the target column of {args.data} (--target {args.target})"
    if args.data not in DATASETS or args.data == "files":
        raise UsageError(
            f"--data: unknown dataset {args.data!r}; give a dataset name "
            f"({', '.join(name for name in DATASETS if name != 'files')}) or a "
            f"{'/'.join(DATA_FILES)} file"
        )
    section = {"dataset": args.data, "data_dir": args.data_dir, "validation_size": 0.0}
    section = {k: v for k, v in section.items() if v is not None}
    data: Data = load_data(section)
    where = f"the test split of {args.data}"
    return data.X_test, np.asarray(data.y_test), where, where


def _check_feature_columns(X: np.ndarray, n_features: int | None,
                           args: argparse.Namespace) -> None:
    """A :class:`~chainrule.errors.ShapeError` unless the features ``X`` of the table file
    ``--data``, every column but the ``--target`` one, are the network's ``n_features``: it
    names the column taken as the target, since a file without one (of features alone) loses
    a feature to it, by default the last."""
    from .errors import ShapeError

    if n_features is None or X.shape[1] == n_features:
        return
    width, target = X.shape[1] + 1, _column(args.target)
    taken = f"the column {target!r}" if isinstance(target, str) else f"column {target % width + 1}"
    question = ": does it lack a target column?" if width == n_features else ""
    raise ShapeError(
        f"the network expects {n_features} features, but {args.data} gives {X.shape[1]} "
        f"feature column{'' if X.shape[1] == 1 else 's'} after taking {taken} as the target "
        f"(--target {args.target}); the file has {width} columns{question}"
    )


def _model_metrics(net, targets, X: np.ndarray, y: np.ndarray, what: str = "y",
                   origin: str = "") -> dict[str, float]:
    """Metrics suited to the model's task, as its Trainer scores them: accuracy and log loss of
    the classes (or labels) in ``targets``, stored in the file or guessed from the network's
    last layer (:func:`~chainrule.model_targets.guess_targets`); a regression's errors and R²,
    whose ``r2`` is left out for a single sample (R² is not defined there; the caller says
    so). Errors name the targets (``what``) and where their classes come from (``origin``)."""
    from .layers.inference import forward_in_chunks
    from .training import metrics

    encoded = targets.encoder(origin).transform(y, np.float64, what)
    probabilities = targets.probabilities(forward_in_chunks(net, net.check_input(X)))
    if targets.is_classifier:
        return {name: metrics.for_task(metric, targets.task)(encoded, probabilities)
                for name, metric in (("accuracy", metrics.accuracy),
                                     ("log_loss", metrics.log_loss))}
    results = {"mse": metrics.mean_squared_error(encoded, probabilities),
               "mae": metrics.mean_absolute_error(encoded, probabilities)}
    if len(y) >= 2:
        results["r2"] = metrics.r2_score(encoded, probabilities)
    return results


#: How ``evaluate`` and ``predict`` read the outputs of a model file without its targets, by
#: the task guessed from its last layer (nothing is said of regression values).
_GUESSES = {
    "multiclass": "class labels (saved without trainer=), so the classes are output indices",
    "binary": "class labels (saved without trainer=), so the classes are 0 and 1 (1 where "
              "the sigmoid output is > 0.5)",
    "multilabel": "labels (saved without trainer=), so each sigmoid output is a yes/no label, "
                  "1 where that output is > 0.5 (multilabel)",
}


def _guessed_outputs(targets, model: str) -> str:
    """The outputs of ``model``, a file without targets, as :func:`_note_guess` reads them."""
    n = targets.n_outputs
    return {
        "multiclass": f"the {n} softmax outputs of {model}, saved without class labels",
        "binary": f"the sigmoid output of {model}, saved without class labels",
        "multilabel": f"the {n} sigmoid outputs of {model}, saved without labels (multilabel)",
        "regression": f"the {n} outputs of {model}, saved without targets (regression)",
    }[targets.task]


def _check_guessed_shape(targets, y: np.ndarray, what: str, outputs: str) -> None:
    """A :class:`~chainrule.errors.ShapeError` unless the targets ``y`` (named ``what``) have
    the shape that the task guessed from the network's ``outputs`` needs: one 0/1 label per
    sample for one sigmoid output, one column per output for several."""
    from .errors import ShapeError

    one_value = targets.task == "regression" and targets.n_outputs == 1  # (n,) or (n, 1)
    if y.ndim == targets.y_ndim or one_value:
        return
    n = targets.n_outputs
    needed = {"binary": "one label 0 or 1 per sample: shape (n_samples,)",
              "multilabel": f"{n} yes/no labels per sample: shape (n_samples, {n})",
              "regression": f"{n} values per sample: shape (n_samples, {n})"}[targets.task]
    raise ShapeError(f"{what} has shape {y.shape}, but {outputs}, take {needed}")


def _note_guess(targets) -> None:
    """Say on stderr how a model file's outputs are read when it records no targets."""
    if targets.task in _GUESSES:
        print(f"chainrule: note: the model file does not record its {_GUESSES[targets.task]}",
              file=sys.stderr)


#: The data files ``evaluate --data`` reads, by suffix (in any case: ``TRAIN.CSV`` too).
DATA_FILES = (".csv", ".npz", ".npy")

#: What ``predict -o`` writes, by the file's suffix.
PREDICTION_FORMATS = (".csv", ".npy")


def _predict(args: argparse.Namespace) -> int:
    from .io import load_with_targets
    from .layers.inference import forward_in_chunks
    from .model_targets import guess_targets
    from .tables import file_suffix, read_features, write_table

    if file_suffix(args.output) not in PREDICTION_FORMATS:
        raise UsageError(
            f"-o/--output must end in {' or '.join(PREDICTION_FORMATS)} (the format written), "
            f"got {args.output!r}"
        )
    _check_not_input(args.output, args.input)
    net, targets = load_with_targets(args.model)
    outputs = forward_in_chunks(net, net.check_input(read_features(args.input)))
    if targets is None:  # as evaluate reads the outputs
        targets = guess_targets(net)
        if not args.proba:
            _note_guess(targets)
    values, header = _predictions(targets, outputs, args.proba)
    write_table(args.output, values, header)
    _out(f"wrote {len(outputs)} predictions to {args.output}")
    return 0


def _check_not_input(output: str, features: str) -> None:
    """A :class:`UsageError` when ``predict -o`` names its input file, however spelled
    (``sub/../X.npy``, a link): the predictions would replace the features."""
    try:
        same = os.path.samefile(output, features)
    except OSError:  # one does not exist (a missing input is reported when it is read)
        same = Path(output).resolve() == Path(features).resolve()
    if same:
        raise UsageError(f"-o/--output {output!r} is the input file {features!r}: the "
                         "predictions would replace the features; choose another output file")


def _predictions(targets, outputs: np.ndarray, proba: bool) -> tuple[np.ndarray, list[str]]:
    """``(values, CSV header)`` from what a model file's targets record (or what
    :func:`~chainrule.model_targets.guess_targets` makes of its last layer): the class
    labels, or the probabilities (one column per class, a binary model's
    ``P(classes[0]) = 1 - p`` beside ``P(classes[1]) = p``; one per label for multilabel), or
    regression values."""
    probabilities = targets.probabilities(outputs)  # (n_samples, n_outputs)
    columns = [f"output_{i}" for i in range(probabilities.shape[1])]
    if not targets.is_classifier:
        return probabilities, columns
    if proba:
        if targets.task == "binary":  # the one output is P(classes[1])
            return _both_classes(probabilities), [f"proba_{c}" for c in targets.classes.tolist()]
        if targets.classes is not None:
            columns = [f"proba_{c}" for c in targets.classes.tolist()]
        return probabilities, columns
    labels = targets.encoder().decode(probabilities)
    return labels, ["class"] if labels.ndim == 1 else columns


def _both_classes(p: np.ndarray) -> np.ndarray:
    """(n_samples, 2) ``[1 - p, p]`` from a binary model's one output ``p`` (n_samples, 1):
    one column per class, as for several classes."""
    return np.column_stack([1 - p[:, 0], p[:, 0]])


def _summary(args: argparse.Namespace) -> int:
    from .io import CHECKPOINT_KIND, load_with_targets, read_metadata
    from .training.checkpoint import checkpoint_network

    if read_metadata(args.model).get("kind") == CHECKPOINT_KIND:
        net, targets = checkpoint_network(args.model), None
        _out(f"{args.model}: a training checkpoint (resume with Trainer.fit(..., "
             "resume_from=path); predict and evaluate take the run's model.safetensors)")
    else:
        net, targets = load_with_targets(args.model)
        _out(f"{args.model}:")
    _out(net.summary())
    if targets is not None:
        _out(_describe(targets))
    return 0


def _describe(targets) -> str:
    """One line: the task, the classes and how the outputs become probabilities."""
    text = f"task: {targets.task}"
    if targets.classes is not None:
        shown = targets.classes.tolist()
        text += f", classes: {shown[:20]}" + (f" ... ({len(shown)} in all)" if len(shown) > 20 else "")
    if targets.from_logits:
        activation = "softmax" if targets.task == "multiclass" else "sigmoid"
        text += f"; the outputs are logits (probabilities = {activation} of them)"
    return text


def _experiment_batch(args: argparse.Namespace):
    """The network and loss of a config, and a small batch of its training data encoded as
    the loss takes it: ``(net, loss, X, y)``."""
    from .config import load_config
    from .experiment import build_loss, build_network, load_data
    from .experiment.model import run_encoder

    if args.samples < 1:
        raise UsageError(f"--samples must be at least 1, got {args.samples}")
    config = load_config(args.config, args.overrides)
    data = load_data(config["data"])
    net = build_network(config, data)
    loss = build_loss(config, data, net)
    encoder = run_encoder(data, loss, net)
    n = min(args.samples, len(data.y_train))
    return net, loss, data.X_train[:n], encoder.transform(data.y_train[:n], np.float64)


def _add_max_checks(parser: argparse.ArgumentParser) -> None:
    from .explain import DEFAULT_MAX_CHECKS  # explain's own default: one number for both

    parser.add_argument("--max-checks", type=int, default=DEFAULT_MAX_CHECKS,
                        help="entries compared with finite differences per array, at random "
                             f"(default {DEFAULT_MAX_CHECKS}; each costs two forward passes of "
                             "the batch)")


def _max_checks(args: argparse.Namespace) -> int:
    if args.max_checks < 1:
        raise UsageError(f"--max-checks must be at least 1, got {args.max_checks}")
    return args.max_checks


def _gradcheck(args: argparse.Namespace) -> int:
    from .gradcheck import gradcheck

    max_checks = _max_checks(args)
    net, loss, X, y = _experiment_batch(args)
    report = gradcheck(net, loss, X, y, max_checks=max_checks, check_input=True)
    _out(report)
    return 0 if report.passed else 1


def _explain(args: argparse.Namespace) -> int:
    from . import explain as explain_module

    max_checks = _max_checks(args)
    if args.config is None and not args.overrides:
        if args.samples < 2:
            raise UsageError(f"--samples must be at least 2 for the built-in two-circles "
                             f"network (a point on each circle), got {args.samples}")
        net, X, y, loss = explain_module.two_circles_example(args.samples)
    else:
        net, loss, X, y = _experiment_batch(args)
    explanation = explain_module.explain(net, X, y, loss, max_checks=max_checks)
    renderers = {"text": explanation.to_text, "markdown": explanation.to_markdown,
                 "json": explanation.to_json}
    _out(renderers[args.format]())
    return 0 if explanation.passed else 1


def _datasets(args: argparse.Namespace) -> int:
    from .datasets import dataset_status, download, get_dataset, list_datasets

    if args.action == "list":
        if args.name is not None:
            raise UsageError(f"datasets list takes no NAME, got {args.name!r} (to fetch one: "
                             "chainrule datasets download NAME)")
        rows = [(info.name, dataset_status(info.name, args.data_dir), info.description)
                for info in list_datasets()]
        width = max(len(name) for name, _, _ in rows)
        for name, state, description in rows:
            _out(f"{name:<{width}}  {state:<14}  {description}")
        return 0
    if args.name is None:
        raise UsageError("datasets download needs a NAME (see: chainrule datasets list)")
    try:
        get_dataset(args.name)
    except ValueError as exc:  # an unknown name is a usage error
        raise UsageError(str(exc)) from None
    paths = download(args.name, args.data_dir)
    if not paths:
        _out(f"{args.name}: nothing to download (it is bundled with chainrule)")
    for path in paths:
        _out(path)
    return 0


def _column(target: str | int) -> str | int:
    try:
        return int(target)
    except (TypeError, ValueError):
        return target


HANDLERS = {
    "train": _train,
    "evaluate": _evaluate,
    "predict": _predict,
    "summary": _summary,
    "gradcheck": _gradcheck,
    "explain": _explain,
    "datasets": _datasets,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(entry_point())
