"""Finite-difference gradient checking: is every hand-written backward right?

For each parameter entry θ_j the analytic gradient from backpropagation is compared with the
central difference ::

    ∂J/∂θ_j ≈ (J(θ + ε e_j) − J(θ − ε e_j)) / (2ε)

whose error is O(ε²) (against O(ε) for a one-sided difference). Everything runs in float64 on a
copy of the network, so the caller's network is never touched. Dropout masks are drawn once
and then frozen, so the network is a fixed function of its weights while it is probed.

The verdict
-----------
Each parameter array (and ``X``) gets one verdict, recorded in
:attr:`GradientComparison.passed_on` as a :class:`PassRule`; the first rule that holds decides:

1. ``"relative error"``: its norm-wise relative error ``‖a − n‖₂ / max(‖a‖₂, ‖n‖₂)`` (a the
   analytic, n the numeric gradient, over the compared entries) is at most ``rtol`` (1e-6 by
   default). Unlike an elementwise ratio it does not blow up on entries that are zero or tiny
   in both, and a single wrong entry still shows. A correct backward gives about 1e-9 or less
   with ε = 1e-6; a wrong one gives something of order 1. The report prints "ok".
2. ``"atol"``: every compared entry has ``|a − n| <= atol``. ``atol`` is 0 by default, so this
   rule only applies when the caller chooses an absolute allowance. The report prints
   "ok (within atol)".
3. ``"finite-difference error"``: every compared entry has ``|a − n|`` within that entry's own
   estimate of the error of its finite difference (below). This is the case where the
   gradients are so small that the difference's own error is comparable to them (near a
   perfect fit, say), and a relative error says nothing: ``a`` agrees with ``n`` as well as
   ``n`` can be trusted. The report prints "ok (within the finite-difference error)" and its
   summary counts such arrays, because a wrong backward whose error is below that estimate
   would pass too; check again where the gradients are larger. The rule applies only when the
   estimates could catch a backward off by the gradient's own size (twice it, or zero):
   ``‖fd_error‖₂ < max(‖a‖₂, ‖n‖₂)``, so that some entry's |a| exceeds its estimate. When the
   estimates are as large as the gradient (a loss so large that its rounding, u·|J|/ε,
   swamps the gradients: a Tanh backward 3 × too large "passed" at J = 5e17), the array is
   "unresolved": neither passed nor failed, and the report is "inconclusive".

Otherwise the array fails (``passed_on`` is None). The norms are computed scaled
(:func:`frobenius_norm`), so the relative error stays finite and right for gradients with
entries beyond 1e154, whose squares overflow.

The finite-difference error estimate of one entry is ``C_r · rounding + C_t · truncation``:

- rounding: each J carries a rounding error of about u·|J| (u = 2.2e-16, float64's machine
  epsilon), which the difference divides by the step: ``u · max(|J(θ)|, |J(θ ± ε e_j)|) / ε``
  for the central difference (coefficients ±1/(2ε));
- truncation, by Richardson extrapolation: with D(h) the central difference of step h,
  D(h) = J′ + h² J‴ / 6 + O(h⁴), so D(2ε) − D(ε) = 3 · ε² J‴ / 6 is three times the error of
  D(ε): ``|D(ε) − D(2ε)| / 3``. This needs J(θ ± 2ε e_j), two more evaluations, which are
  made only for an array that fails rules 1 and 2 (a passing check costs what it did), entry
  by entry from the largest |a − n| down, stopping at the first entry outside its estimate.

``C_r = ROUNDING_SAFETY = 100``: u·|J| is the rounding of J's last operation only; a loss
summed over n terms carries up to about log2(n)·u·|J| with pairwise summation, and the
forward pass adds its own, so 100 covers batches of thousands of entries. It only matters when
rounding dominates, i.e. when |J|/ε is large against the gradients. ``C_t =
TRUNCATION_SAFETY = 10``: the Richardson estimate is right to leading order, but the O(h⁴)
terms can make it low where J‴ is small or changes sign along e_j; 10 covers that, and it also
covers the rounding noise that the difference D(ε) − D(2ε) itself carries. Both factors keep a
wrong backward failing unless its error is within about ten times what the finite difference
can resolve at this ε: a Tanh backward that is twice too large, at a near-perfect fit where
the gradients are about 1e-10, is off by 2e-10 where the estimate is about 1e-11, and fails.

For an entry measured one-sided at a kink (below), the same estimate is made for the
one-sided formula D₁(h) = ±(4 J(θ ± h e_j) − J(θ ± 2h e_j) − 3 J(θ)) / (2h): its
coefficients sum to 8/(2h), so the rounding part is
``4 u · max(|J(θ)|, |J(θ ± ε e_j)|, |J(θ ± 2ε e_j)|) / ε``; D₁(h) = J′ − h² J‴ / 3 + O(h³), so
again D₁(2ε) − D₁(ε) is, to leading order, three times the error of D₁(ε), and the truncation
part is ``|D₁(ε) − D₁(2ε)| / 3``, which needs J(θ ± 4ε e_j). The estimate is only
sound where J is smooth over the points it uses: when a perturbation to ±2ε (central) or to
±4ε (one-sided) moves an input of a kinked layer across 0, the entry has no estimate (NaN in
:attr:`GradientComparison.fd_error`) and rule 3 does not pass its array. A kink gradcheck does
not detect (see below) within 2ε of θ_j inflates the estimate; it can then let a wrong backward
pass on rule 3, which is one more reason the report singles such arrays out.

Kinks
-----
ReLU, LeakyReLU and ELU have a kink at 0, where the slope jumps. Backward uses the slope of the
side the input Z is on, ``[Z > 0]`` (for ReLU at exactly 0 that is 0, as in PyTorch). When Z
lies within the step of 0 — zero-initialised biases put it at *exactly* 0 for every sample
whose previous layer is all off — J(θ + ε e_j) and J(θ − ε e_j) fall on the two sides of the
kink, and the central difference averages the two slopes: it then differs from a correct
backward by up to half the jump. gradcheck therefore watches, for every perturbed entry, the
input of every kinked layer (``Z > 0`` at θ ± ε e_j, against ``Z > 0`` at θ):

- no input changes side: the central difference is compared, as above;
- inputs change side on one side only (the usual case: θ_j pushes every Z at the kink the same
  way): on the other side J is the smooth function backward differentiates, so that entry is
  compared with the second-order one-sided difference on that side, e.g. for the minus side ::

      ∂J/∂θ_j ≈ (3 J(θ) − 4 J(θ − ε e_j) + J(θ − 2ε e_j)) / (2ε)      (error O(ε²))

  provided that Z does not change side at θ − 2ε e_j either. A wrong backward still fails there;
- inputs change side on both sides (θ_j pushes some Z at the kink up and others down): no
  finite difference of J measures the slope backward uses, so the entry is reported as
  "kink: not comparable" and left out of its array's comparison, not failed.

The report counts both kinds in its summary and names the layers; a check where every probed
entry was left out is "inconclusive", not passed. The layers with a kink are those whose
class sets ``kink = True`` (:attr:`chainrule.layers.base.Layer.kink`; a custom layer with a
kink at 0 should set it too). Other kinks are not detected: MAE at a residual of exactly 0, an
L1 penalty on a weight within ε of 0. They show as failures, or, where such a kink also
inflates the estimate of rule 3, as "ok (within the finite-difference error)".
"""

from .check import REPLAY_TOLERANCE, gradcheck
from .measures import (
    ROUNDING_SAFETY,
    TRUNCATION_SAFETY,
    central_difference_error,
    frobenius_norm,
    one_sided_difference_error,
    relative_error,
)
from .report import NOT_COMPARABLE, PASSED_ON, GradcheckReport, GradientComparison, PassRule

__all__ = [
    "NOT_COMPARABLE",
    "PASSED_ON",
    "REPLAY_TOLERANCE",
    "ROUNDING_SAFETY",
    "TRUNCATION_SAFETY",
    "GradcheckReport",
    "GradientComparison",
    "PassRule",
    "central_difference_error",
    "frobenius_norm",
    "gradcheck",
    "one_sided_difference_error",
    "relative_error",
]
