"""Symbolic kl_bin is correct to every requested digit when its arguments are close.

Near ``a = b`` the divergence is about ``(a - b)^2 / (2 b (1 - b))``, so the
arguments need about twice ``log2(1 / |a - b|)`` extra bits unless each is
paired with its exact complement. References are the formula written out in
mpmath at 600 digits from the exact expressions, with ``1 - a`` and
``1 - b`` formed at that precision.
"""

import mpmath
import pytest
import sympy
from sympy import Rational, S

from isobounds import symbolic

REFERENCE_DPS = 600
DIGITS = (15, 30, 40, 50, 60, 100)


def _kl(a, b, a_complement, b_complement):
    """Return a log(a/b) + (1-a) log((1-a)/(1-b)) given the complements."""
    return a * mpmath.log(a / b) + a_complement * mpmath.log(a_complement / b_complement)


def _reference_near_half():
    """Return kl(1/2 || 1/2 + Phi(-20)), about 1.5165e-177."""
    with mpmath.workdps(REFERENCE_DPS):
        half, tail = mpmath.mpf(1) / 2, mpmath.ncdf(-20)
        return _kl(half, half + tail, half, half - tail)


def _reference_near_half_swapped():
    """Return kl(1/2 + Phi(-20) || 1/2)."""
    with mpmath.workdps(REFERENCE_DPS):
        half, tail = mpmath.mpf(1) / 2, mpmath.ncdf(-20)
        return _kl(half + tail, half, half - tail, half)


def _reference_near_zero():
    """Return kl(Phi(-20) || Phi(-20) (1 + 10**-30))."""
    with mpmath.workdps(REFERENCE_DPS):
        a = mpmath.ncdf(-20)
        b = a * (1 + mpmath.mpf(10) ** -30)
        return _kl(a, b, 1 - a, 1 - b)


def _reference_near_one():
    """Return kl(1 - Phi(-10) || 1 - Phi(-10) + Phi(-20)), formed from the complements Phi(-10) and Phi(-10) - Phi(-20)."""
    with mpmath.workdps(REFERENCE_DPS):
        a_complement = mpmath.ncdf(-10)
        b_complement = a_complement - mpmath.ncdf(-20)
        return _kl(1 - a_complement, 1 - b_complement, a_complement, b_complement)


def _reference_two_gaussians():
    """Return Corollary 8 for means 0 and 20, sigma 3/10, L 1/2 and weight 1/2: kl(a || b), about 5.4835e-219."""
    with mpmath.workdps(REFERENCE_DPS):
        a = mpmath.ncdf(mpmath.mpf(100) / 3) - mpmath.mpf(1) / 2
        b = (mpmath.ncdf(mpmath.mpf(200) / 9) - mpmath.ncdf(mpmath.mpf(-800) / 9)) / 2
        return _kl(a, b, 1 - a, 1 - b)


def _reference_rationals(a, b):
    """Return kl(a || b) for two sympy Rationals strictly inside (0, 1)."""
    with mpmath.workdps(REFERENCE_DPS):
        a_value, b_value = (mpmath.mpf(value.p) / value.q for value in (a, b))
        return _kl(a_value, b_value, 1 - a_value, 1 - b_value)


def _assert_digits(expr, reference, n):
    """Require ``N(expr, n)`` to match ``reference`` to ``n - 1`` significant digits."""
    value = sympy.N(expr, n)
    with mpmath.workdps(REFERENCE_DPS):
        value = mpmath.mpf(value._mpf_)
        assert value > 0
        assert abs(value - reference) <= abs(reference) * mpmath.mpf(10) ** (1 - n), (n, value, reference)


CASES = {
    "near one half": (
        lambda: symbolic.kl_bin(S.Half, S.Half + symbolic.Phi(-20)), _reference_near_half),
    "near one half, swapped": (
        lambda: symbolic.kl_bin(S.Half + symbolic.Phi(-20), S.Half), _reference_near_half_swapped),
    "near zero": (
        lambda: symbolic.kl_bin(symbolic.Phi(-20), symbolic.Phi(-20) * (1 + Rational(1, 10**30))),
        _reference_near_zero),
    "near one": (
        lambda: symbolic.kl_bin(1 - symbolic.Phi(-10), 1 - symbolic.Phi(-10) + symbolic.Phi(-20)),
        _reference_near_one),
    "two Gaussians": (
        lambda: symbolic.kl_lower_bound_two_gaussians(0, 20, Rational(3, 10), S.Half, S.Half),
        _reference_two_gaussians),
}


@pytest.mark.parametrize("n", DIGITS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_close_arguments(case, n):
    make, reference = CASES[case]
    _assert_digits(make(), reference(), n)


def test_two_gaussians_value():
    value = sympy.N(symbolic.kl_lower_bound_two_gaussians(0, 20, Rational(3, 10), S.Half, S.Half), 30)
    assert abs(value - sympy.Float("5.48345484065772079106110750833e-219", 30)) < sympy.Float("1e-246")


@pytest.mark.parametrize("n", DIGITS)
@pytest.mark.parametrize(
    "a, b",
    [
        (S.Half, Rational(1, 4)),
        (Rational(1, 10), Rational(9, 10)),
        (Rational(1, 3), Rational(1, 3) + Rational(1, 10**70)),
        (1 - Rational(1, 10**40), 1 - Rational(2, 10**40)),
    ],
)
def test_rational_arguments(a, b, n):
    _assert_digits(symbolic.kl_bin(a, b), _reference_rationals(a, b), n)
