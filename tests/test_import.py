"""``import chainrule`` needs nothing beyond NumPy and the standard library."""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, sys
before = set(sys.modules)
import chainrule
loaded = sorted({name.split(".")[0] for name in set(sys.modules) - before})
print(json.dumps(loaded))
"""


def test_import_pulls_in_only_numpy_and_the_standard_library():
    output = subprocess.run(
        [sys.executable, "-c", SCRIPT], check=True, capture_output=True, text=True
    ).stdout
    loaded = set(json.loads(output))
    foreign = {
        name for name in loaded
        # cython_runtime is registered by NumPy's own compiled (Cython) random module
        if name not in sys.stdlib_module_names
        and name not in ("chainrule", "numpy", "cython_runtime")
        and not name.startswith("_")  # private stdlib/C helpers such as _ctypes
    }
    assert foreign == set(), f"import chainrule loaded {sorted(foreign)}"
    assert "numpy" in loaded
