"""chainrule against PyTorch and scikit-learn on identical MLP work; the one benchmark entry point.

Usage::

    python benchmarks/run.py            # full run (several minutes), writes results.md/.png/.json
    python benchmarks/run.py --quick    # fewer repetitions, smaller sizes (about a minute)
    python benchmarks/run.py --only 1,2 # some workloads, printed (no files unless --output)
    python benchmarks/run.py --profile  # py-spy profile of chainrule's workload 1 → profile.md

Workloads (issue 4): 1 MNIST-shaped training epoch, 2 small-network time per step,
3 inference latency and batch throughput, 4 scaling in width and batch against the GEMM floor,
5 peak RSS of workload 1. Tables go to stdout as each workload finishes, progress to stderr.
Nothing here runs in the test suite; run it by hand, on a quiet machine if you can.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the helper modules beside this file
    sys.path.insert(0, str(HERE))

from _config import FULL, QUICK
from _timing import Stats

WORKLOADS = (1, 2, 3, 4, 5)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="fewer repetitions and smaller sizes (about a minute)")
    parser.add_argument("--only", default=None,
                        help="comma-separated workload numbers to run, e.g. 1,3 (default: all)")
    parser.add_argument("--skip", default="",
                        help="comma-separated contenders to leave out: torch, sklearn")
    parser.add_argument("--output", type=Path, default=None,
                        help="Markdown file to write (the .png and .json go beside it); default "
                        "benchmarks/results.md, or no files with --only")
    parser.add_argument("--wait-quiet", type=float, default=None, metavar="FRACTION",
                        help="wait until other processes use less than this share of the "
                        "CPUs (e.g. 0.1) before each workload (up to 10 minutes) and each "
                        "timed run (up to 1 minute), and take a run again when they used "
                        "more during it")
    parser.add_argument("--wait-budget", type=float, default=1200.0, metavar="SECONDS",
                        help="with --wait-quiet, wait this long in all at most (default 1200)")
    parser.add_argument("--profile", action="store_true",
                        help="only profile chainrule's workload 1 with py-spy; writes "
                        "benchmarks/profile.md")
    args = parser.parse_args(argv)
    try:
        args.workloads = (WORKLOADS if args.only is None
                          else tuple(sorted({int(w) for w in args.only.split(",") if w.strip()})))
    except ValueError:
        parser.error(f"--only takes workload numbers 1-5 separated by commas, got {args.only!r}")
    if not set(args.workloads) <= set(WORKLOADS) or not args.workloads:
        parser.error(f"--only takes workload numbers 1-5, got {args.only!r}")
    args.skip = tuple(s.strip() for s in args.skip.split(",") if s.strip())
    if not set(args.skip) <= {"torch", "sklearn"}:
        parser.error(f"--skip takes torch and/or sklearn, got {args.skip!r}")
    if args.output is None and args.only is None:
        args.output = HERE / "results.md"
    return args


def share(busy: float | None) -> str:
    """Other processes' share of the CPUs as text: "12 %", or "unknown"."""
    return "unknown" if busy is None else f"{100 * busy:.0f} %"


def jsonable(value: object) -> object:
    """Stats and nested containers as plain JSON values."""
    if isinstance(value, Stats):
        return value.as_dict()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def run_profile(quick: bool, wait_quiet: float | None) -> int:
    from _machine import busy_fraction, git_revision, wait_until_quiet
    from _profile import profile, profile_section

    busy = (busy_fraction() if wait_quiet is None
            else wait_until_quiet(wait_quiet, 600.0, log))
    rows, epochs = (QUICK if quick else FULL).train_rows, (2 if quick else 4)
    log(f"profiling chainrule, workload 1 ({epochs} epochs of {rows} rows)")
    result = profile(rows, epochs, rate=250, log=log)
    if result is None:
        return 1
    lines = ["# chainrule profile, workload 1", "",
             (f"Command: `python benchmarks/run.py --profile{' --quick' if quick else ''}`, "
             f"{time.strftime('%Y-%m-%d %H:%M')} at {git_revision()}; other processes' CPU use "
             "just before: "
             f"{share(busy)}."), "", *profile_section(result, rows, epochs)]
    text = "\n".join(lines)
    print(text)
    (HERE / "profile.md").write_text(text, encoding="utf-8")
    log(f"wrote {HERE / 'profile.md'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.profile:
        return run_profile(args.quick, args.wait_quiet)

    import _report
    from _contenders import available
    from _data import mnist_like, small_problem
    from _inference import FIT_ROWS
    from _machine import (
        QuietGuard,
        busy_fraction,
        describe,
        load_average,
        numpy_blas,
    )
    from _timing import set_run_guard

    started = time.perf_counter()
    settings = QUICK if args.quick else FULL
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    classes = available(args.skip)
    n_threads = int(numpy_blas()["threads"] or 1)
    if "torch" in classes:
        from _torch_mlp import set_threads

        set_threads(n_threads)
    machine = describe()
    load_before = load_average()
    guard = None
    if args.wait_quiet is not None:
        guard = QuietGuard(args.wait_quiet, timeout=60.0, budget=args.wait_budget, log=log)
        set_run_guard(guard)
    log(f"{settings.name} run of workloads {args.workloads} on {machine['cpu']}, "
        f"BLAS threads {n_threads}, contenders {', '.join(classes)}")

    rows = max(settings.train_rows, settings.memory_rows, settings.scaling_rows, FIT_ROWS)
    mnist = mnist_like(rows)
    sources = [mnist.source]
    results: dict[str, object] = {}
    sections: list[list[str]] = []
    busy: dict[int, float | None] = {}

    def run_workload(number: int, title: str, compute: Callable[[], object],
                     section: Callable[[object], list[str]]) -> object:
        """Read (or wait for) the other load, run ``compute``, print and keep its section."""
        busy[number] = guard.wait(600.0) if guard is not None else busy_fraction()
        log(f"workload {number}: {title} (other processes' CPU use just before: "
            f"{share(busy[number])})")
        result = compute()
        lines = section(result)
        if guard is None:  # with the guard, the runs column counts the disturbed runs
            lines = lines[:2] + _report.noise_warning(busy[number]) + lines[2:]
        sections.append(lines)
        print("\n".join(lines), flush=True)
        return result

    if 1 in args.workloads:
        from _training import mnist_epoch

        results["mnist"] = run_workload(
            1, "MNIST-shaped training epoch",
            lambda: mnist_epoch(classes, mnist.head(settings.train_rows), settings, log),
            _report.mnist_section)
    if 2 in args.workloads:
        from _training import small_network

        small = small_problem()
        sources.append(small.source)
        results["small"] = run_workload(
            2, "small network", lambda: small_network(classes, small, settings, log),
            _report.small_section)
    if 3 in args.workloads:
        from _inference import inference

        results["inference"] = run_workload(
            3, "inference", lambda: inference(classes, mnist, settings, log),
            _report.inference_section)
    if 4 in args.workloads:
        from _scaling import scaling

        results["scaling"] = run_workload(
            4, "scaling against the GEMM floor",
            lambda: scaling(classes, mnist.head(settings.scaling_rows), settings, log),
            _report.scaling_section)
    if 5 in args.workloads:
        from _memory import peak_memory

        results["memory"] = run_workload(
            5, "peak RSS",
            lambda: peak_memory(list(classes), mnist.head(settings.memory_rows), n_threads, log),
            lambda memory: _report.memory_section(memory, settings.memory_rows))

    seconds = time.perf_counter() - started
    results["busy_before"] = busy
    recorded = {**settings.as_dict(), "wait_quiet": args.wait_quiet}
    machine_lines = _report.machine_section(machine, recorded, command, sources,
                                            load_before, load_average(), busy, seconds)
    print("\n".join(machine_lines))
    if args.output is not None:
        write(args.output, settings.name, sections, machine_lines, results, machine, command)
    log(f"done in {seconds:.0f} s")
    return 0


def write(path: Path, mode: str, sections: list[list[str]], machine_lines: list[str],
          results: dict, machine: dict, command: str) -> None:
    """results.md (acceptance summary, tables, machine), results.json (every run) and results.png."""
    from _chart import draw
    from _report import is_verdict

    verdicts = [line for lines in sections for line in lines if is_verdict(line)]
    header = ["# chainrule benchmarks", "",
              f"Generated by `{command}` on {machine['date']} ({mode} run"
              + ("; quick runs use fewer rows and repetitions, not for acceptance" if mode == "quick"
                 else "") + "). Medians of alternating runs; \"ours / this\" is chainrule's median "
              "divided by the row's (below 1: chainrule is faster); spread is (max − min) / "
              "median.", "", f"![benchmark chart]({path.with_suffix('.png').name})", "",
              "## Acceptance (issue 4)", "", *verdicts, ""]
    body = [line for lines in sections for line in lines]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(header + body + machine_lines), encoding="utf-8")
    raw = {"command": command, "mode": mode, "machine": machine, "results": results}
    path.with_suffix(".json").write_text(json.dumps(jsonable(raw), indent=1), encoding="utf-8")
    draw(results, path.with_suffix(".png"))
    log(f"wrote {path}, {path.with_suffix('.json').name} and {path.with_suffix('.png').name}")


if __name__ == "__main__":
    sys.exit(main())
