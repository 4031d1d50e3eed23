"""Lambdified Corollary 8 and ``kl_bin`` against the binary divergence evaluated directly in mpmath.

For far modes the two masses ``a`` and ``b`` of Corollary 8 agree to
thousands of digits. The reference forms them from ``mpmath.ncdf`` with
2,500 digits and evaluates ``a log(a/b) + (1-a) log((1-a)/(1-b))``
there; for D = 50, sigma = L = 1/4, lambda = 1/2, where a - b is about
6.7e-2175, the two terms cancel about 2,200 of those digits and the value
is about 9.03e-4349.
"""

import functools

import mpmath
import numpy as np
import pytest
import sympy
from sympy import Rational

from isobounds.symbolic import formula, kl_bin

REFERENCE_DPS = 2_500
WORKING_DPS = 30


def reference_kl(a, b):
    """``a log(a/b) + (1-a) log((1-a)/(1-b))`` with ``0 log 0 = 0``, at the current precision.

    The logarithms are written ``log1p((a - b)/b)`` and ``log1p((b - a)/(1 - b))``,
    so each term has a relative error of a few units in the last place. The
    two terms, each about ``|a - b|``, cancel to about ``(a - b)^2``, so the
    result keeps about ``dps - log10(1 / |a - b|)`` digits.
    """
    first = 0 if a == 0 else a * mpmath.log1p((a - b) / b)
    second = 0 if a == 1 else (1 - a) * mpmath.log1p((b - a) / (1 - b))
    return first + second


@functools.lru_cache(maxsize=None)
def reference_corollary8(distance, sigma, lip, weight):
    """Corollary 8, corrected: kl(a || b) if a >= b else 0, from its definition at REFERENCE_DPS digits."""
    with mpmath.workdps(REFERENCE_DPS):
        distance, sigma, lip, weight = (mpmath.mpf(value) for value in (distance, sigma, lip, weight))
        weight = min(weight, 1 - weight)
        radius = distance / (4 * sigma)
        a = mpmath.ncdf(radius / lip + mpmath.sqrt(2) * mpmath.erfinv(2 * weight - 1)) - weight
        b = (mpmath.ncdf(distance * (2 * sigma + 1) / (4 * sigma**2))
             - mpmath.ncdf(distance * (2 * sigma - 1) / (4 * sigma**2))) / 2
        return reference_kl(a, b) if a >= b else mpmath.mpf(0)


# (D, sigma, L, lambda): far modes beyond 30 digits, far modes with a - b near
# 1e-24, and an ordinary case with the Gaussian-mass branch.
CASES = [
    (50, Rational(1, 4), Rational(1, 4), Rational(1, 2)),
    (5, Rational(1, 4), Rational(1, 4), Rational(1, 2)),
    (4, 1, 1, Rational(3, 10)),
]


def _relative_error(value, reference):
    with mpmath.workdps(REFERENCE_DPS):
        return abs(mpmath.mpf(value) - reference) / abs(reference)


@pytest.fixture(scope="module")
def corollary8():
    expr = formula("kl_lower_bound_two_gaussians")
    symbols = {str(symbol): symbol for symbol in expr.free_symbols}
    order = [symbols[name] for name in ("D", "sigma", "L", "lambda")]
    return expr, order


@pytest.mark.parametrize("case", CASES)
def test_corollary8_lambdify_mpmath_matches_reference(corollary8, case):
    expr, order = corollary8
    reference = reference_corollary8(*case)
    assert reference > 0
    function = sympy.lambdify(order, expr, "mpmath")
    with mpmath.workdps(WORKING_DPS):
        value = function(*(mpmath.mpf(value.p) / value.q if isinstance(value, Rational) else mpmath.mpf(value)
                           for value in map(sympy.sympify, case)))
    assert _relative_error(value, reference) < mpmath.mpf(10) ** (2 - WORKING_DPS)


@pytest.mark.parametrize("case", CASES)
def test_corollary8_evalf_and_numpy_match_reference(corollary8, case):
    expr, order = corollary8
    reference = reference_corollary8(*case)
    bound = expr.subs(dict(zip(order, case)))
    assert _relative_error(bound.evalf(WORKING_DPS)._to_mpmath(200), reference) < mpmath.mpf(10) ** (2 - WORKING_DPS)
    value = sympy.lambdify(order, expr, "numpy")(*(float(value) for value in case))
    # Far modes: 9.03e-4349 underflows to 0 in float64, as float(reference) does.
    assert np.isclose(float(value), float(reference), rtol=1e-13, atol=0)


@pytest.mark.parametrize(
    "a, b",
    [("0.3", "0.6"), ("0.9", "0.001"), ("1", "0.5"), ("0", "0.5"), ("0.5", "0.999999")],
)
def test_kl_bin_lambdify_mpmath_matches_reference(a, b):
    x, y = sympy.symbols("x y", positive=True)
    function = sympy.lambdify((x, y), kl_bin(x, y), "mpmath")
    with mpmath.workdps(WORKING_DPS):
        # The reference takes the same binary numbers, rounded to WORKING_DPS.
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        value = function(a, b)
    with mpmath.workdps(REFERENCE_DPS):
        reference = reference_kl(a, b)
    assert _relative_error(value, reference) < mpmath.mpf(10) ** (2 - WORKING_DPS)


def test_kl_bin_lambdify_mpmath_infinite_and_zero():
    x, y = sympy.symbols("x y", positive=True)
    function = sympy.lambdify((x, y), kl_bin(x, y), "mpmath")
    with mpmath.workdps(WORKING_DPS):
        assert function(mpmath.mpf("0.5"), mpmath.mpf(0)) == mpmath.inf
        assert function(mpmath.mpf("0.25"), mpmath.mpf("0.25")) == 0
