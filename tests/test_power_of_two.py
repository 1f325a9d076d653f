"""The one power-of-two helper behind the exact rescaling of the metrics, StandardScaler and
the weight histograms: ``c <= x < 2 c``, and the metrics' scale ``s = 2 c`` just above."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule import _power_of_two, preprocessing
from chainrule._power_of_two import UNSCALED, power_of_two_floor, power_of_two_scale
from chainrule.training import _scaling

TINY, HUGE = np.finfo(np.float64).smallest_subnormal, np.finfo(np.float64).max
VALUES = [TINY, 1e-300, 1e-120, 0.3, 0.5, 0.75, 1.0, 3.0, 4.0, 1e120, 2.0**1022, 2.0**1023, HUGE]


def test_the_floor_is_the_power_of_two_at_or_below_elementwise():
    x = np.array(VALUES)
    c = power_of_two_floor(x)
    assert c.shape == x.shape
    assert np.all(c <= x) and np.all(x / c < 2)
    assert np.all(np.frexp(c)[0] == 0.5)  # c is a power of two
    assert power_of_two_floor(np.zeros(2)).tolist() == [0.5, 0.5]  # 0: any power of two does
    assert power_of_two_floor(3.0) == 2.0 and power_of_two_floor(4.0) == 4.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("largest", VALUES + [float(np.finfo(np.float32).max), 3e38 / 7])
def test_the_metrics_scale_is_twice_the_floor_up_to_the_largest_power_of_the_dtype(dtype, largest):
    limit, top = UNSCALED[np.dtype(dtype)]
    if largest > float(np.finfo(dtype).max):
        return
    s = power_of_two_scale(largest, dtype)
    assert type(s) is float
    if 1.0 / limit <= largest <= limit:
        assert s == 1.0
    else:
        # the power of two just above largest (|x| / s < 1), but at most 2**(maxexp - 1),
        # where |x| / s < 2
        assert s == 2.0 ** min(int(np.frexp(largest)[1]), top)
        assert s == min(2 * float(power_of_two_floor(largest)), 2.0**top)  # inf: capped
        assert largest / s < (1.0 if s < 2.0**top else 2.0)
    assert power_of_two_scale(0.0, dtype) == 1.0


def test_every_caller_uses_the_one_helper():
    from chainrule.plots import histograms

    assert _scaling.power_of_two_scale is histograms.power_of_two_scale is power_of_two_scale
    assert preprocessing.power_of_two_floor is _power_of_two.power_of_two_floor


def test_scaled_values_lie_below_one_unless_the_scale_is_capped():
    true = np.array([3.0, -1e300]), np.array([HUGE, 1.0])
    for values in true:
        a, _, s = _scaling.scaled(values, values)
        assert np.array_equal(a * s, values)
    a, _, s = _scaling.scaled(np.array([3.0e200, -1.0]), np.array([1.0, 2.0]))
    assert s == 2.0**666 and np.abs(a).max() < 1
    a, _, s = _scaling.scaled(np.array([HUGE]), np.array([1.0]))
    assert s == 2.0**1023 and 1 <= np.abs(a).max() < 2
