"""step() allocates no array memory: everything it needs was allocated by bind()."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from _optim_cases import CASE_IDS, CASE_PARAMS

N_PARAMS = 200_000  # 1.6 MB per float64 buffer
LIMIT = N_PARAMS * 8 // 100  # far below one buffer: only small Python objects may appear


def traced_peak(function, repeat: int) -> int:
    """Peak traced memory (bytes) above the starting level while calling ``function``."""
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(repeat):
            function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - start


def test_tracemalloc_sees_numpy_temporaries():
    """The check below is meaningful: one temporary array shows up at its full size."""
    a = np.ones(N_PARAMS)
    assert traced_peak(lambda: a * 2.0, repeat=1) >= a.nbytes


@pytest.mark.parametrize(("cls", "kwargs"), CASE_PARAMS, ids=CASE_IDS)
def test_step_allocates_no_arrays(rng, cls, kwargs):
    kwargs = {**kwargs, "clip_norm": 100.0}
    p = rng.standard_normal(N_PARAMS)
    source = rng.standard_normal(N_PARAMS)  # norm ~447: clipping really scales
    g = np.empty_like(p)
    opt = cls(**kwargs).bind(p, g, n_weights=N_PARAMS - 1000)

    def one_step() -> None:
        np.copyto(g, source)
        opt.step()

    one_step()  # the first step takes its own branch in SGD; include later ones below
    peak = traced_peak(one_step, repeat=3)
    assert opt.n_steps == 4
    assert peak < LIMIT, f"step() allocated {peak} bytes (one buffer is {p.nbytes})"
