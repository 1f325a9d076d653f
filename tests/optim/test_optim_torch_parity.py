"""Trajectories of every optimizer against torch.optim on identical gradients (float64).

Tolerance: elementwise ``rtol=1e-12`` plus ``atol = 1e-13 · max|p|``. The observed gap after 100
steps is 1-3 units in the last place of the largest parameter (~3e-16 normwise): torch fuses
some multiply-adds (FMA) that NumPy rounds twice, nothing more.
"""

from __future__ import annotations

import numpy as np
import pytest
from _optim_cases import CASE_IDS, CASE_PARAMS, gradient_sequence, paired, torch_optimizer

torch = pytest.importorskip("torch")

N_STEPS = 100
N_PARAMS = 50


def assert_close(ours: np.ndarray, ref: np.ndarray, step: int) -> None:
    atol = 1e-13 * float(np.max(np.abs(ref)))
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=atol, err_msg=f"after step {step}")


@pytest.mark.parametrize(("cls", "kwargs"), CASE_PARAMS, ids=CASE_IDS)
def test_trajectory_matches_torch(rng, cls, kwargs):
    p0 = rng.standard_normal(N_PARAMS)
    grads = gradient_sequence(rng, N_STEPS, N_PARAMS)
    p, g, opt, tp, topt = paired(cls, kwargs, p0)  # decay on everything, as in torch
    for step, gt in enumerate(grads, start=1):
        g[...] = gt
        opt.step()
        tp.grad = torch.tensor(gt)
        topt.step()
        assert_close(p, tp.detach().numpy(), step)
    assert opt.n_steps == N_STEPS
    # The trajectory really moved (a no-op optimizer would fail the comparison too, but say so).
    assert np.max(np.abs(p - p0)) > 1e-3


@pytest.mark.parametrize(("cls", "kwargs"), CASE_PARAMS, ids=CASE_IDS)
def test_biases_get_no_weight_decay(rng, cls, kwargs):
    """The suffix after n_weights is a torch parameter group with weight_decay=0; clipping is
    global over both (torch.nn.utils.clip_grad_norm_ over the two tensors)."""
    kwargs = {**kwargs, "weight_decay": 0.1, "clip_norm": 5.0}
    n_weights, n_params = 30, 42
    p0 = rng.standard_normal(n_params)
    grads = gradient_sequence(rng, 60, n_params)
    p, g = p0.copy(), np.empty_like(p0)
    opt = cls(**kwargs).bind(p, g, n_weights=n_weights)
    w = torch.nn.Parameter(torch.tensor(p0[:n_weights]))
    b = torch.nn.Parameter(torch.tensor(p0[n_weights:]))
    topt = torch_optimizer(cls, kwargs, [{"params": [w]}, {"params": [b], "weight_decay": 0.0}])
    n_clipped = 0
    for step, gt in enumerate(grads, start=1):
        g[...] = gt
        opt.step()
        w.grad, b.grad = torch.tensor(gt[:n_weights]), torch.tensor(gt[n_weights:])
        norm = torch.nn.utils.clip_grad_norm_([w, b], 5.0)
        n_clipped += float(norm) > 5.0
        topt.step()
        ref = np.concatenate([w.detach().numpy(), b.detach().numpy()])
        assert_close(p, ref, step)
        assert opt.last_grad_norm == pytest.approx(float(norm), rel=1e-12)
    assert 0 < n_clipped < len(grads)  # both branches of the clipping were exercised


@pytest.mark.parametrize(("cls", "kwargs"), CASE_PARAMS, ids=CASE_IDS)
def test_clipping_matches_torch(rng, cls, kwargs):
    kwargs = {**kwargs, "clip_norm": 6.0}
    p0 = rng.standard_normal(N_PARAMS)
    grads = gradient_sequence(rng, N_STEPS, N_PARAMS)
    p, g, opt, tp, topt = paired(cls, kwargs, p0)
    for step, gt in enumerate(grads, start=1):
        g[...] = gt
        opt.step()
        tp.grad = torch.tensor(gt)
        torch.nn.utils.clip_grad_norm_([tp], 6.0)
        topt.step()
        # The gradient buffer is clipped in place, exactly like torch's .grad.
        np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-14, atol=0)
        assert_close(p, tp.detach().numpy(), step)


@pytest.mark.parametrize(("cls", "kwargs"), CASE_PARAMS[::3], ids=CASE_IDS[::3])
def test_changing_lr_between_steps_matches_torch(rng, cls, kwargs):
    """What a schedule does: set lr between steps (torch: param_groups[0]['lr'])."""
    p0 = rng.standard_normal(N_PARAMS)
    grads = gradient_sequence(rng, 40, N_PARAMS)
    lrs = kwargs["lr"] * rng.uniform(0.1, 2.0, size=len(grads))
    p, g, opt, tp, topt = paired(cls, kwargs, p0)
    for step, (gt, lr) in enumerate(zip(grads, lrs, strict=True), start=1):
        opt.lr = lr
        topt.param_groups[0]["lr"] = lr
        g[...] = gt
        opt.step()
        tp.grad = torch.tensor(gt)
        topt.step()
        assert_close(p, tp.detach().numpy(), step)
    assert opt.base_lr == kwargs["lr"]  # the constructor's value is kept for get_config


def test_float32_trajectory_close_to_torch(rng):
    """float32 buffers stay float32 (nothing upcasts) and follow torch's float32 Adam."""
    from chainrule.optim.adam import Adam

    p0 = rng.standard_normal(1000).astype(np.float32)
    grads = gradient_sequence(rng, 50, 1000).astype(np.float32)
    p, g = p0.copy(), np.empty_like(p0)
    opt = Adam(lr=0.01, weight_decay=0.01).bind(p, g, n_weights=1000)
    tp = torch.nn.Parameter(torch.tensor(p0))
    topt = torch.optim.Adam([tp], lr=0.01, weight_decay=0.01)
    for gt in grads:
        g[...] = gt
        opt.step()
        tp.grad = torch.tensor(gt)
        topt.step()
    assert p.dtype == np.float32
    assert all(a.dtype == np.float32 for a in opt.state_dict().values() if hasattr(a, "dtype"))
    np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-5, atol=1e-5)
