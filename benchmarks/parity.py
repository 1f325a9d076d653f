"""How close chainrule's numbers are to PyTorch's: the figures behind the README's correctness claims.

Usage::

    python benchmarks/parity.py

Two measurements, in float64, on the configurations the test suite asserts (it imports their
helpers from ``tests/``; the random draws differ: seed 0 here, the test id's hash there):

1. **Gradients**: the 210 random networks of ``tests/test_torch_parity.py`` (every activation,
   dropout, MSE/BCE/cross-entropy heads, no penalty/L2/L1), against torch autograd on the logits.
   For the loss J, ∂J/∂X and every parameter gradient: the largest ``|ours − torch| / max|torch|``
   (normwise), and the largest share of the test's elementwise tolerance
   ``|ours − torch| / (1e-12 + 1e-10 |torch|)`` that any entry uses (below 1: the test passes).
2. **Optimizers**: the 24 configurations of ``tests/optim/_optim_cases.py``, 100 steps on identical
   gradients: the largest ``|ours − torch| / max|torch|`` of the parameters after the last step.
   The test asserts rtol 1e-12.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for folder in (ROOT / "tests", ROOT / "tests" / "optim"):
    sys.path.insert(0, str(folder))


def gradient_parity() -> tuple[int, float, float]:
    """(cases, largest normwise relative difference, largest share of the tolerance used)."""
    import torch

    from _torch_helpers import ATOL, RTOL, dropout_masks, torch_objective, torch_pairs
    from chainrule.objective import Objective
    from test_torch_parity import HEADS, PENALTIES, SEEDS, head_problem, random_network

    torch.manual_seed(0)
    normwise = share = 0.0
    cases = 0
    for seed in SEEDS:
        for head in HEADS:
            for penalty in PENALTIES:
                net, X, rng = random_network(seed, head, penalty)
                loss, y, references = head_problem(head, rng, X.shape[0], net.out_features)
                value, dX = Objective(net, loss).value_and_gradients(X, y, input_grad=True)
                stop = references[-1][0]  # on the logits where torch has that form
                reference = torch_objective(net, X, references[-1][1], stop=stop,
                                            masks=dropout_masks(net))
                for _, ours, ref in torch_pairs(net, value, dX, reference):
                    gap = np.abs(ours - ref)
                    normwise = max(normwise, float(gap.max() / max(np.abs(ref).max(), 1e-300)))
                    share = max(share, float((gap / (ATOL + RTOL * np.abs(ref))).max()))
                cases += 1
    return cases, normwise, share


def optimizer_parity(n_steps: int = 100, n_params: int = 50) -> dict[str, float]:
    """Case id -> largest |ours − torch| / max|torch| of the parameters after ``n_steps``."""
    import torch
    from _optim_cases import CASE_IDS, CASE_PARAMS, gradient_sequence, paired

    gaps = {}
    for case, (cls, kwargs) in zip(CASE_IDS, CASE_PARAMS, strict=True):
        rng = np.random.default_rng(0)
        p0 = rng.standard_normal(n_params)
        grads = gradient_sequence(rng, n_steps, n_params)
        p, g, optimizer, tp, reference = paired(cls, kwargs, p0)
        for gt in grads:
            g[...] = gt
            optimizer.step()
            tp.grad = torch.tensor(gt)
            reference.step()
        ref = tp.detach().numpy()
        gaps[case] = float(np.abs(p - ref).max() / np.abs(ref).max())
    return gaps


def main() -> int:
    cases, normwise, share = gradient_parity()
    print(f"gradients: {cases} random networks against torch autograd (float64)")
    print(f"  largest normwise relative difference: {normwise:.2e}")
    print(f"  largest share of the test's tolerance (1e-12 + 1e-10 |torch|) used: {share:.3f}")
    gaps = optimizer_parity()
    worst = max(gaps, key=gaps.get)
    print(f"optimizers: {len(gaps)} configurations, 100 steps against torch.optim (float64)")
    print(f"  largest |ours - torch| / max|torch|: {gaps[worst]:.2e} ({worst})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
