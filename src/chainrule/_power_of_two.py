"""Powers of two to divide by, so that values can be worked on without overflow and scaled
back exactly: dividing by a power of two only changes the exponent (while the result stays
normal). One helper, :func:`power_of_two_floor`, serves every such rescaling: StandardScaler's
per-column statistics use it as it is, the metrics' and the weight histograms' scale
(:func:`power_of_two_scale`) is twice it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._validation import FLOAT_DTYPES

#: Per dtype, ``(limit, top)``: :func:`power_of_two_scale` leaves values whose largest magnitude
#: lies in ``[1 / limit, limit]`` as they are, with ``limit = 2**(3 maxexp / 8)`` (2**384 for
#: float64, 2**48 for float32). Their differences stay below ``2 limit`` and the squares below
#: ``4 limit²``, so a sum of ``n`` squares overflows only past ``n = 2**(maxexp / 4 - 2)``;
#: the largest square, at least ``limit⁻²``, stays far above the subnormals. ``top``
#: (``maxexp - 1``) is the largest scale exponent: ``2**maxexp`` itself is beyond the dtype.
UNSCALED = {
    dtype: (2.0 ** (np.finfo(dtype).maxexp * 3 // 8), np.finfo(dtype).maxexp - 1)
    for dtype in FLOAT_DTYPES
}


def power_of_two_floor(largest: Any) -> Any:
    """The power of two ``c`` with ``c <= largest < 2 c``, element by element.

    ``largest`` is a finite magnitude (>= 0), a float or an array (the result has its shape);
    values whose magnitude is at most ``largest``, divided by ``c``, lie in ``(-2, 2)``. A
    ``largest`` of 0 gives ``c = 0.5`` (any power of two would do).
    """
    _, exponent = np.frexp(largest)  # largest = f · 2**exponent with 0.5 <= f < 1
    return np.ldexp(1.0, exponent - 1)


def power_of_two_scale(largest: float, dtype: Any) -> float:
    """The scale ``s`` to divide values of ``dtype`` by, whose largest magnitude is ``largest``
    (finite): 1.0 when it is 0 or moderate (:data:`UNSCALED`), else the power of two just above
    it, ``s = 2 c`` with ``c = power_of_two_floor(largest)``, so that the scaled values lie in
    ``(-1, 1)``. ``s`` is at most ``2**(maxexp - 1)`` (``2**maxexp`` overflows): for a
    ``largest`` of ``2**(maxexp - 1)`` or more, the scaled values lie in ``(-2, 2)``.
    """
    limit, top = UNSCALED[np.dtype(dtype)]
    if largest == 0.0 or 1.0 / limit <= largest <= limit:
        return 1.0
    # min(2 c, 2**top), with the cap applied to c so that 2 c is never formed beyond the range
    return 2.0 * min(float(power_of_two_floor(largest)), 2.0 ** (top - 1))
