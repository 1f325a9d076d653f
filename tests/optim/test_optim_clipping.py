"""clip_grad_norm_: torch's formula, in place, robust to float32 overflow."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.optim.base import clip_grad_norm_
from chainrule.optim.sgd import SGD


def test_clips_to_the_norm_and_returns_the_norm_before(rng):
    g = rng.standard_normal(100) * 3.0
    before = g.copy()
    norm = clip_grad_norm_(g, 1.0)
    assert norm == pytest.approx(np.linalg.norm(before), rel=1e-14)
    np.testing.assert_allclose(g, before * (1.0 / (norm + 1e-6)), rtol=1e-15)
    assert np.linalg.norm(g) == pytest.approx(1.0, abs=1e-5)
    assert np.linalg.norm(g) < 1.0


def test_small_gradients_are_untouched(rng):
    g = rng.standard_normal(100) * 1e-3
    before = g.copy()
    clip_grad_norm_(g, 1.0)
    assert np.array_equal(g, before)


def test_matches_torch_on_a_multidimensional_array(rng):
    torch = pytest.importorskip("torch")
    g = rng.standard_normal((7, 9))
    t = torch.tensor(g)
    tp = torch.nn.Parameter(torch.zeros(7, 9, dtype=torch.float64))
    tp.grad = t
    torch_norm = torch.nn.utils.clip_grad_norm_([tp], 2.0)
    norm = clip_grad_norm_(g, 2.0)
    assert norm == pytest.approx(float(torch_norm), rel=1e-14)
    np.testing.assert_allclose(g, tp.grad.numpy(), rtol=1e-15)


def test_non_contiguous_arrays_are_clipped_in_place(rng):
    base = rng.standard_normal((10, 10)) * 5
    g = base.T  # a non-C-contiguous view
    expected = base.T * (3.0 / (np.linalg.norm(base) + 1e-6))
    clip_grad_norm_(g, 3.0)
    np.testing.assert_allclose(base.T, expected, rtol=1e-14)


def test_float32_sum_of_squares_overflow_still_clips(rng):
    """||g||² overflows float32 (> 3.4e38) while every element is finite: still clipped."""
    g = (rng.standard_normal(1000) * 1e20).astype(np.float32)
    exact = np.linalg.norm(g.astype(np.float64))
    expected = g.astype(np.float64) * (1.0 / exact)
    norm = clip_grad_norm_(g, 1.0)
    assert norm == pytest.approx(exact, rel=1e-5)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, expected, rtol=1e-5, atol=1e-9)


def test_non_finite_gradients_are_left_alone():
    g = np.array([1.0, np.nan, 3.0])
    assert np.isnan(clip_grad_norm_(g, 1.0))
    assert g[0] == 1.0 and g[2] == 3.0
    g = np.array([1.0, np.inf], dtype=np.float32)
    assert clip_grad_norm_(g, 1.0) == np.inf
    assert g[0] == 1.0


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"max_norm must be in \(0, inf\), got 0.0"):
        clip_grad_norm_(np.ones(3), 0.0)
    with pytest.raises(TypeError, match="gradients must be a numpy array, got list"):
        clip_grad_norm_([1.0, 2.0], 1.0)
    with pytest.raises(TypeError, match="float32 or float64, got dtype int64"):
        clip_grad_norm_(np.ones(3, dtype=np.int64), 1.0)
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="gradients must be writeable"):
        clip_grad_norm_(frozen, 1.0)


def test_optimizer_records_the_norm_and_clips_the_buffer(rng):
    p, g = rng.standard_normal(20), rng.standard_normal(20) * 10
    norm = float(np.linalg.norm(g))
    opt = SGD(lr=1.0, clip_norm=2.0).bind(p, g, 20)
    before = p.copy()
    opt.step()
    assert opt.last_grad_norm == pytest.approx(norm, rel=1e-14)
    assert np.linalg.norm(g) == pytest.approx(2.0, rel=1e-6)  # the buffer itself was scaled
    np.testing.assert_allclose(before - p, g, rtol=1e-12)
