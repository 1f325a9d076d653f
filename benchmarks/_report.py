"""results.md: one table per workload (medians, spread, ratios), acceptance lines, machine block.

Every function returns Markdown lines; ``run.py`` prints the workload sections as they finish
and writes the whole document at the end. "ours / X" is chainrule's median divided by X's, so
below 1 means chainrule is faster.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from _config import (
    FLOOR_GOAL,
    INFERENCE_BATCH,
    LEARNING_RATE,
    MNIST_BATCH,
    MNIST_WIDTHS,
    SMALL_BATCH,
    SMALL_ROWS,
    SMALL_WIDTHS,
    scaling_widths,
)
from _gemm_floor import epoch_flops
from _memory import ALLOWANCE_MB
from _timing import SETTLE, Stats

OURS = "chainrule"
FLOOR = "GEMM floor"
#: Workload 3's row for chainrule's forward pass as bare NumPy calls on the same weights.
NUMPY_FLOOR = "NumPy floor"
#: The networks as the text names them: 784-256-128-10, workload 4's 784-h-h/2-10, 2-16-16-1.
MNIST_NET = "-".join(map(str, MNIST_WIDTHS))
SCALING_NET = f"{MNIST_WIDTHS[0]}-h-h/2-{MNIST_WIDTHS[-1]}"
SMALL_NET = "-".join(map(str, SMALL_WIDTHS))


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """A Markdown table; the first column left-aligned, the others right-aligned."""
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join([" --- "] + [" ---: "] * (len(headers) - 1)) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |"
              for row in rows]
    return lines


def verdict(ok: bool) -> str:
    """An acceptance criterion of the issue."""
    return "**pass**" if ok else "**FAIL**"


def goal(ok: bool) -> str:
    """A team goal beyond the acceptance criteria."""
    return "(met)" if ok else "(not met)"


def is_verdict(line: str) -> bool:
    """Whether a report line is a bullet carrying a :func:`verdict` or a :func:`goal` (the lines
    gathered into the acceptance summary)."""
    marks = (verdict(True), verdict(False), goal(True), goal(False))
    return line.startswith("- ") and any(mark in line for mark in marks)


def noise_warning(busy: float | None, threshold: float = 0.25) -> list[str]:
    """A warning line when other processes were busy as the workload started."""
    if busy is None or busy < threshold:
        return []
    return [(f"> Other processes were using {100 * busy:.0f} % of the CPUs when this workload "
            "started: these times are not reliable (rerun with `--wait-quiet 0.1`)."), ""]


def _sci(value: float) -> str:
    """``value`` in short scientific notation: 0.001 -> "1e-3", 0.00025 -> "2.5e-4"."""
    mantissa, exponent = f"{value:e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _fmt(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}" if abs(value) < 10 ** digits else f"{value:.0f}"


def _runs(s: Stats) -> str:
    """"7", or "7 (+2 rejected, 1 noisy)" when the run guard rejected runs or had to keep noisy ones."""
    notes = [f"+{s.discarded} rejected"] if s.discarded else []
    notes += [f"{s.noisy} noisy"] if s.noisy else []
    return f"{len(s.times)}" + (f" ({', '.join(notes)})" if notes else "")


def _ratio(stats: dict[str, Stats], name: str) -> str:
    if OURS not in stats or name not in stats:
        return "–"
    return f"{stats[OURS].median / stats[name].median:.2f}"


def stats_table(stats: dict[str, Stats], unit: str, scale: float,
                extra: dict[str, dict[str, str]] | None = None) -> list[str]:
    """median / min / max in ``unit`` (seconds × ``scale``), spread, ours / this, extra columns."""
    extra = extra or {}
    columns = sorted({column for values in extra.values() for column in values})
    rows = []
    for name, s in stats.items():
        row = [name, _fmt(s.median * scale), _fmt(s.low * scale), _fmt(s.high * scale),
               f"{100 * s.spread:.0f} %", _runs(s), _ratio(stats, name)]
        rows.append(row + [extra.get(name, {}).get(column, "") for column in columns])
    headers = ["", f"median ({unit})", "min", "max", "spread", "runs", "ours / this", *columns]
    return table(headers, rows)


def mnist_section(result: dict) -> list[str]:
    stats = result["stats"]
    lines = ["## Workload 1: MNIST-shaped training, one epoch",
             "",
             (f"{result['rows']} × {MNIST_WIDTHS[0]} float32, MLP {MNIST_NET} ReLU, softmax "
             f"cross-entropy, Adam (lr {_sci(LEARNING_RATE)}), batch {MNIST_BATCH}, shuffled. "
             "Seconds per epoch; the floor is the same epoch's matrix products alone "
             f"({result['floor_gflops']:.0f} GFLOP/s). Loss: mean cross-entropy of the trained "
             f"model on the first {result['sanity_rows']} rows (a sanity check that all three "
             "really trained, not a score)."),
             ""]
    extra = {name: {"loss after": f"{loss:.3f}"} for name, loss in result["loss"].items()}
    lines += stats_table(stats, "s", 1.0, extra)
    lines.append("")
    ours = stats[OURS].median
    if "torch" in stats:
        ratio = ours / stats["torch"].median
        lines.append(f"- chainrule / torch epoch time: **{ratio:.2f}** (required ≤ 0.9) "
                     f"{verdict(ratio <= 0.9)}; team goal ≤ 0.75 {goal(ratio <= 0.75)}")
    if "sklearn" in stats:
        ratio = ours / stats["sklearn"].median
        lines.append(f"- chainrule / sklearn epoch time: **{ratio:.2f}** (required ≤ 0.5) "
                     f"{verdict(ratio <= 0.5)}")
    ratio = ours / stats[FLOOR].median
    lines.append(f"- chainrule / {FLOOR}: **{ratio:.2f}**; team goal ≤ {FLOOR_GOAL:g} "
                 f"{goal(ratio <= FLOOR_GOAL)}")
    return lines + [""]


def small_section(result: dict) -> list[str]:
    stats = result["stats"]
    lines = ["## Workload 2: small network, time per step",
             "",
             (f"{SMALL_ROWS} × {SMALL_WIDTHS[0]} float32, MLP {SMALL_NET} "
             f"ReLU, binary cross-entropy, Adam, batch {SMALL_BATCH} "
             f"({result['steps_per_epoch']} steps per epoch). Each run trains {result['steps_per_run']} "
             "steps and is divided by that. \"chainrule (hand loop)\" is `cr.batches` + "
             "`Objective.value_and_gradients` + `Adam.step` without the Trainer (not the reference)."),
             ""]
    lines += stats_table(stats, "µs/step", 1e6)
    lines.append("")
    if "torch" in stats:
        speedup = stats["torch"].median / stats[OURS].median
        lines.append(f"- torch / chainrule: chainrule is **{speedup:.1f}×** faster per step "
                     f"(required ≥ 5×) {verdict(speedup >= 5)}")
    return lines + [""]


def inference_section(result: dict) -> list[str]:
    latency, batch = result["latency"], result["batch"]
    rows = result["batch_rows"]
    extra = {name: {"samples/s": f"{rows / s.median:,.0f}"} for name, s in batch.items()}
    lines = ["## Workload 3: inference of the MNIST MLP",
             "",
             ("To probabilities through each library's ordinary call: `net.forward(x)`; "
             "`with torch.no_grad(): torch.softmax(model(x), 1)` (x already a tensor); "
             "`predict_proba(x)`."),
             "",
             f"Single sample (1 × {MNIST_WIDTHS[0]}), latency:",
             ""]
    lines += stats_table(latency, "µs", 1e6)
    lines += ["", f"Batch of {INFERENCE_BATCH} rows, time per batch:", ""]
    lines += stats_table(batch, "ms", 1e3, extra)
    lines.append("")
    if "torch" in latency:
        ratio = latency[OURS].median / latency["torch"].median
        lines.append(f"- single-sample latency chainrule / torch: **{ratio:.2f}** "
                     f"(required ≤ 0.5) {verdict(ratio <= 0.5)}")
        if NUMPY_FLOOR in latency:
            floor = latency[NUMPY_FLOOR].median
            lines.append(f"  - the same forward pass as bare NumPy calls (no checks): "
                         f"{floor / latency['torch'].median:.2f} × torch; chainrule's checks "
                         f"and layer dispatch add {1e6 * (latency[OURS].median - floor):.1f} µs")
    return lines + [""]


def _sweep_table(points: dict[int, dict[str, Stats]], label: str,
                 widths: Callable[[int], tuple[int, ...]], rows: dict[int, int]) -> list[str]:
    names = [n for n in next(iter(points.values())) if n != FLOOR]
    headers = [label, "network", "rows", *[f"{n} (s)" for n in names], "floor (s)",
               "floor GFLOP/s", *[f"{n} / floor" for n in names]]
    if "torch" in names:
        headers.append("chainrule / torch")
    headers.append("runs")
    lines = []
    for key, stats in points.items():
        floor = stats[FLOOR].median
        row = [key, "-".join(map(str, widths(key))), rows[key],
               *[f"{stats[n].median:.3g}" for n in names], f"{floor:.3g}",
               f"{epoch_flops(widths(key), rows[key]) / floor / 1e9:.0f}",
               *[f"{stats[n].median / floor:.2f}" for n in names]]
        if "torch" in names:
            row.append(f"{stats[OURS].median / stats['torch'].median:.2f}")
        # runs of each contender, with the rejected and noisy runs of all of them
        row.append(_runs(Stats(stats[FLOOR].times, sum(s.discarded for s in stats.values()),
                               sum(s.noisy for s in stats.values()))))
        lines.append(row)
    return table(headers, lines)


def scaling_section(result: dict) -> list[str]:
    lines = ["## Workload 4: scaling against the GEMM floor",
             "",
             ("Seconds per epoch of the rows shown (median of the runs; the widest networks use "
              "fewer rows to keep a run to seconds; the ratios do not depend on it). The floor is "
              "the same epoch's matrix products alone (forward X·W per layer, dW = Aᵀ·dZ per "
              "layer, dX = dZ·Wᵀ for all but the first) with `np.matmul(..., out=...)` on "
              "preallocated float32 arrays, timed in the same alternation."),
             "",
             f"Hidden width h (network {SCALING_NET}, batch {MNIST_BATCH}):",
             ""]
    lines += _sweep_table(result["width"], "h", scaling_widths, result["width_rows"])
    lines += ["", f"Batch size (network {MNIST_NET}):", ""]
    lines += _sweep_table(result["batch"], "batch", lambda b: MNIST_WIDTHS, result["batch_rows"])
    return lines + [""]


def memory_section(reports: dict[str, dict], rows: int) -> list[str]:
    lines = ["## Workload 5: peak memory of workload 1",
             "",
             (f"One epoch of workload 1 on {rows} rows in a fresh process per library. Baseline: "
             "VmRSS after the imports and `np.load` of X and y; peak: the process's high-water "
             "mark VmHWM at the end (what `ru_maxrss` would be, but Linux carries `ru_maxrss` "
             "over from the launching process across exec, so it reads the benchmark's own size). "
             f"Bound: 2 × (training set + parameters + optimizer state) + {ALLOWANCE_MB:.0f} MB, "
             "from the sizes each library allocated (MB = 10⁶ bytes)."),
             ""]
    rows_ = []
    for name, r in reports.items():
        rows_.append([name, f"{r['baseline_mb']:.0f}", f"{r['peak_mb']:.0f}",
                      f"{r['training_mb']:.0f}", f"{r['payload_mb']:.1f}", f"{r['bound_mb']:.0f}",
                      "yes" if r["peak_mb"] <= r["bound_mb"] else "no"])
    lines += table(["", "baseline RSS (MB)", "peak RSS (MB)", "peak − baseline",
                    "data + params + state (MB)", "bound (MB)", "peak ≤ bound"], rows_)
    lines.append("")
    if OURS in reports:
        r = reports[OURS]
        lines.append(f"- chainrule peak RSS **{r['peak_mb']:.0f} MB** ≤ bound {r['bound_mb']:.0f} MB "
                     f"{verdict(r['peak_mb'] <= r['bound_mb'])}")
    return lines + [""]


def machine_section(machine: dict, settings: dict, command: str, data_sources: list[str],
                    load_before, load_after, busy: dict[int, float | None],
                    seconds: float) -> list[str]:
    blas = machine["blas"]
    torch = machine.get("torch") or {}
    load = (lambda v: "unknown" if v is None else " / ".join(f"{x:.2f}" for x in v))
    lines = ["## Machine and settings",
             "",
             f"- date: {machine['date']}; command: `{command}`; total time {seconds:.0f} s",
             (f"- CPU: {machine['cpu']} ({machine['cpu_flags']}), {machine['cores']} logical CPUs "
             f"({machine['usable_cores']} usable); {machine['platform']}"),
             (f"- numpy {machine['numpy']}, BLAS: {blas['library']} {blas['version']} "
             f"({blas['architecture']} kernels, {blas['threads']} threads, "
             f"{blas.get('threading_layer') or 'threading unknown'}; via {blas['source']})"),
             (f"- torch {torch.get('version', 'not installed')}: set_num_threads("
             f"{torch.get('threads', '–')}) to match the BLAS, {torch.get('interop_threads', '–')} "
             f"inter-op threads, MKL {torch.get('mkl', '–')}, oneDNN {torch.get('mkldnn', '–')}; "
             "default `optim.Adam` (for-loop implementation on CPU)"),
             (f"- scikit-learn {machine.get('sklearn') or 'not installed'} (matrix products through "
             f"numpy's BLAS above); Python {machine['python']}; chainrule {machine['chainrule']} "
             f"at {machine['git']}"),
             f"- data: {'; '.join(dict.fromkeys(data_sources))}",
             (f"- load average (1/5/15 min) before: {load(load_before)}, after: {load(load_after)} "
             "(the machine is shared; see each table's spread column)"),
             "- other processes' CPU use just before each workload (share of all cores, 1 s): "
             + (", ".join(f"{w}: {'?' if b is None else f'{100 * b:.0f} %'}"
                          for w, b in busy.items()) or "not measured"),
             f"- settings ({settings['name']}): "
             + ", ".join(f"{k}={v}" for k, v in settings.items() if k != "name"),
             ("- every contender: float32, the same data, widths, batch, Adam(lr="
             f"{_sci(LEARNING_RATE)}, betas "
             "0.9/0.999, eps 1e-8), shuffling each epoch, the last partial batch used; runs "
             "alternate between contenders after one untimed warm-up each, in an order "
             f"rotating each round, each {SETTLE} s after the one before (OpenBLAS's threads "
             "idle by then); model construction is not timed except inside scikit-learn's `fit`."),
             ""]
    return lines
