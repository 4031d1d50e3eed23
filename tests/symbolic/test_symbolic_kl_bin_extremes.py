"""``kl_bin`` with arguments within 10**-200 of 1, and at the corners of [0, 1]^2.

References are the formula ``a log(a/b) + (1-a) log((1-a)/(1-b))`` written
out in mpmath at 1000 digits from the exact arguments, where ``1 - a`` and
``1 - b`` keep at least 700 digits, and closed forms derived by hand.
"""

import mpmath
import pytest
import sympy
from sympy import Rational, S

import isobounds
from isobounds.symbolic import kl_bin

HIGH_DPS = 1000


def brute_force_kl(a, b):
    """The binary KL divergence of two exact Rationals, written out at 1000 digits."""
    with mpmath.workdps(HIGH_DPS):
        a, b = (mpmath.mpf(value.p) / value.q for value in (a, b))
        return a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))


def assert_relative(value, reference, digits):
    with mpmath.workdps(HIGH_DPS):
        value = mpmath.mpf(value._mpf_)
        assert abs(value - reference) <= mpmath.mpf(10) ** -digits * abs(reference), (value, reference)


@pytest.mark.parametrize(
    "a, b, digits",
    [
        (Rational(1, 10**300), 1 - Rational(1, 3 * 10**300), 50),
        (1 - Rational(1, 10**200), 1 - Rational(1, 10**300), 30),
        (1 - Rational(2, 10**300), 1 - Rational(1, 10**300), 30),
        (Rational(1, 3), 1 - Rational(1, 10**250), 30),
    ],
    ids=["tiny-and-near-one", "both-near-one", "both-within-1e-300-of-one", "third-and-near-one"],
)
def test_kl_bin_near_one_against_brute_force(a, b, digits):
    reference = brute_force_kl(a, b)
    assert_relative(kl_bin(a, b).evalf(digits), reference, digits - 2)


def test_kl_bin_half_against_closed_form():
    # kl(1/2 || 1 - e) = log(1/2) - log(1 - e)/2 - log(e)/2, which is
    # 200 log 10 - log 2 up to e/2 = 5e-401 for e = 10**-400.
    with mpmath.workdps(HIGH_DPS):
        reference = 200 * mpmath.log(10) - mpmath.log(2)
    assert_relative(kl_bin(S.Half, 1 - Rational(1, 10**400)).evalf(30), reference, 28)


@pytest.mark.parametrize(
    "a, b",
    [(0, 1), (1, 0), (S.Half, 0), (S.Half, 1), (Rational(1, 10**300), 0), (1 - Rational(1, 10**300), 1)],
    ids=["0-1", "1-0", "half-0", "half-1", "tiny-0", "near-one-1"],
)
def test_kl_bin_infinite_corners(a, b):
    # The law of parameter a puts mass on an outcome that the law of parameter b never takes.
    assert kl_bin(a, b) == sympy.oo


def test_kl_bin_corners_match_numeric_core():
    for a, b in ((0, 1), (1, 0)):
        assert isobounds.kl_bin(a, b) == mpmath.inf
        assert kl_bin(a, b) == sympy.oo


def test_kl_bin_finite_corners_unchanged():
    b = sympy.Symbol("b", positive=True)
    assert kl_bin(0, 0) == 0
    assert kl_bin(1, 1) == 0
    assert kl_bin(0, b) == -sympy.log(1 - b)
    assert kl_bin(1, b) == -sympy.log(b)
    assert kl_bin(0, S.Half) == sympy.log(2)
