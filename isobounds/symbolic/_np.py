"""float64 kernels behind ``lambdify(..., "numpy")``.

Each kernel evaluates its mpmath counterpart element by element at 64 bits
and rounds to float64, so values are correctly rounded up to the limits of
double precision (``Phi(-40)`` underflows to 0, as a double must).

NOTE: the element-by-element loop costs tens of microseconds per element;
for large arrays use the float64 functions of the numeric core instead.
"""

import mpmath
import numpy as np

from .._precision import workprec
from . import _mp

__all__ = [
    "normal_pdf",
    "normal_cdf",
    "normal_quantile",
    "gaussian_isoperimetric_profile",
    "normal_interval_mass",
    "binary_kl_divergence",
    "binary_kl_divergence_of_masses",
    "binary_kl_divergence_of_gap",
    "exact_sum",
]

_WORKING_BITS = 64


def _elementwise(kernel, arity):
    def evaluate(*values):
        with workprec(_WORKING_BITS):
            return float(kernel(*(mpmath.mpf(float(value)) for value in values)))

    universal = np.frompyfunc(evaluate, arity, 1)

    def apply(*arrays):
        result = np.asarray(universal(*arrays), dtype=np.float64)
        return result[()] if result.ndim == 0 else result

    apply.__name__ = kernel.__name__
    apply.__doc__ = f"Apply ``{kernel.__name__}`` element by element to float64 arrays."
    return apply


normal_pdf = _elementwise(_mp.normal_pdf, 1)
normal_cdf = _elementwise(_mp.normal_cdf, 1)
normal_quantile = _elementwise(_mp.normal_quantile, 1)
gaussian_isoperimetric_profile = _elementwise(_mp.gaussian_isoperimetric_profile, 1)
normal_interval_mass = _elementwise(_mp.normal_interval_mass, 2)
binary_kl_divergence = _elementwise(_mp.binary_kl_divergence, 2)
binary_kl_divergence_of_masses = _elementwise(_mp.binary_kl_divergence_of_masses, 6)
binary_kl_divergence_of_gap = _elementwise(_mp.binary_kl_divergence_of_gap, 3)


def exact_sum(*arrays):
    """Apply :func:`isobounds.symbolic._mp.exact_sum` element by element to float64 arrays: one rounding per sum.

    The terms are stacked along a new first axis rather than passed to
    ``numpy.frompyfunc``, whose number of arguments numpy limits
    (``NPY_MAXARGS``).
    """
    terms = [np.asarray(array, dtype=np.float64) for array in arrays]
    shape = np.broadcast_shapes(*(term.shape for term in terms))
    stacked = np.stack([np.broadcast_to(term, shape) for term in terms])
    result = np.empty(shape, dtype=np.float64)
    with workprec(_WORKING_BITS):
        for index in np.ndindex(shape):
            result[index] = float(_mp.exact_sum(*(mpmath.mpf(float(value)) for value in stacked[(slice(None), *index)])))
    return result[()] if result.ndim == 0 else result
