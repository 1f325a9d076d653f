"""Where chainrule's workload-1 time goes beyond the GEMMs: a py-spy sampling profile.

py-spy samples the training process from outside (``--native`` adds the C frames, so time in
OpenBLAS's sgemm is told apart from numpy's element-wise loops and from the interpreter). Only
samples whose stack is inside ``Trainer.fit`` count (imports and data loading are left out),
and only the main thread's (the BLAS worker threads have no Python frames). Views:

- kind: the library the innermost frame belongs to (OpenBLAS, numpy's loops, the Python
  interpreter, libc), i.e. GEMM against everything else;
- function: the innermost chainrule function of each sample (``Adam._update``, ...), the
  numpy and BLAS work it called included;
- leaf: the innermost frame of each sample (a C function such as ``sgemm_kernel`` or
  ``FLOAT_add``, or a Python line when the interpreter itself was running);
- line: the innermost chainrule source line of each sample, with the numpy and C work it
  called folded in.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET = HERE / "_profile_target.py"


def _py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _is_python(frame: str) -> bool:
    return ".py:" in frame


def _source_line(frame: str) -> str:
    """The text of ``function (path.py:line)``'s line, found on sys.path, or ''."""
    try:
        location = frame[frame.rindex("(") + 1 : -1]
        path, line = location.rsplit(":", 1)
        import chainrule

        for root in [*sys.path, str(Path(chainrule.__file__).resolve().parents[1])]:
            candidate = Path(root or ".") / path
            if candidate.is_file():
                return candidate.read_text(encoding="utf-8").splitlines()[int(line) - 1].strip()
    except (ValueError, IndexError, OSError):
        pass
    return ""


#: Leaf frame → kind, by the library named in the frame (first match wins).
KINDS = (("openblas", "BLAS (OpenBLAS: GEMM and its threads)"),
         ("_multiarray_umath", "numpy C loops (element-wise, reductions, copies)"),
         ("libpython", "Python interpreter"),
         (".py:", "Python interpreter"),
         ("libc.so", "libc (memcpy, memset, malloc, page faults)"),
         ("libm.so", "libm (exp, log)"))


def _kind(leaf: str) -> str:
    return next((kind for marker, kind in KINDS if marker in leaf), "other native code")


def _function(frame: str) -> str:
    """``Dense.forward (chainrule/layers/dense.py:99)`` → ``Dense.forward (chainrule/layers/dense.py)``."""
    name, _, location = frame.partition(" (")
    return f"{name} ({location.rsplit(':', 1)[0]})"


def aggregate(raw: str) -> dict:
    """Count the samples of a py-spy raw (collapsed-stack) file by kind, function, leaf, line."""
    leaves: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    total = 0
    for record in raw.splitlines():
        stack, _, count = record.rpartition(" ")
        frames = stack.split(";")
        if not any("fit (" in f and "trainer.py" in f for f in frames):
            continue
        n = int(count)
        total += n
        leaves[frames[-1]] += n
        kinds[_kind(frames[-1])] += n
        ours = [f for f in frames if _is_python(f) and "chainrule/" in f]
        lines[ours[-1] if ours else "(outside chainrule)"] += n
        functions[_function(ours[-1]) if ours else "(outside chainrule)"] += n
    return {"total": total, "leaves": leaves, "lines": lines, "kinds": kinds,
            "functions": functions}


def profile(rows: int, epochs: int, rate: int, log: Callable[[str], None]) -> dict | None:
    """Sample ``epochs`` epochs of workload 1 on ``rows`` rows; None when py-spy is missing."""
    executable = _py_spy()
    if executable is None:
        log("py-spy is not installed (pip install py-spy); no profile taken")
        return None
    with tempfile.TemporaryDirectory(prefix="chainrule-profile-") as folder:
        output = Path(folder) / "stacks.txt"
        command = [executable, "record", "--native", "--rate", str(rate), "--format", "raw",
                   "--output", str(output), "--", sys.executable, str(TARGET), str(rows), str(epochs)]
        log("  " + " ".join(command))
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0 or not output.exists():
            log(f"py-spy failed ({done.returncode}):\n{done.stderr[-2000:]}")
            return None
        return aggregate(output.read_text(encoding="utf-8"))


def profile_section(result: dict, rows: int, epochs: int, top: int = 15) -> list[str]:
    """Markdown: the samples by kind, chainrule function, leaf frame and chainrule line."""
    from _report import table

    total = max(result["total"], 1)
    lines = ["## Profile of chainrule, workload 1",
             "",
             (f"py-spy `--native`, {epochs} epochs on {rows} rows, {result['total']} samples of the "
              "main thread inside `Trainer.fit`. Kind and leaf: the innermost frame (a C function, "
              "or the interpreter), i.e. what is on the CPU. Function and line: the innermost "
              "chainrule frame, the numpy and BLAS work it called included. `exec_blas` and "
              "`inner_thread` are the main thread's share of a GEMM and its wait for the BLAS "
              "worker thread. Sampling pauses the process, so shares, not times, are the result."),
             "",
             "By kind of code on the CPU:",
             ""]
    lines += table(["share", "samples", "kind"],
                   [[f"{100 * n / total:.1f} %", n, kind] for kind, n in result["kinds"].most_common()])
    lines += ["", f"Top {top} chainrule functions (innermost chainrule frame, callees included):", ""]
    lines += table(["share", "samples", "function"],
                   [[f"{100 * n / total:.1f} %", n, f"`{frame}`"]
                    for frame, n in result["functions"].most_common(top)])
    lines += ["", f"Top {top} leaves:", ""]
    lines += table(["share", "samples", "leaf"],
                   [[f"{100 * n / total:.1f} %", n, f"`{frame}`"]
                    for frame, n in result["leaves"].most_common(top)])
    lines += ["", f"Top {top} chainrule lines (callees included):", ""]
    lines += table(["share", "samples", "line", "source"],
                   [[f"{100 * n / total:.1f} %", n, f"`{frame}`", f"`{source}`" if source else ""]
                    for frame, n in result["lines"].most_common(top)
                    for source in [_source_line(frame)]])
    return lines + [""]
