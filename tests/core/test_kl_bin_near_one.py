"""kl_bin keeps the digits of arguments near 1 given as strings, fractions or sympy rationals."""

from fractions import Fraction

import mpmath
import pytest
import sympy

import isobounds


def _reference(a, b):
    """The binary KL divergence at 1,000 digits from exact rationals, complements formed exactly."""
    with mpmath.workdps(1000):
        a_c, b_c = 1 - a, 1 - b
        a, b = mpmath.mpf(a.numerator) / a.denominator, mpmath.mpf(b.numerator) / b.denominator
        a_c = mpmath.mpf(a_c.numerator) / a_c.denominator
        b_c = mpmath.mpf(b_c.numerator) / b_c.denominator
        first = a * mpmath.log(a / b) if a else mpmath.mpf(0)
        second = a_c * mpmath.log(a_c / b_c) if a_c else mpmath.mpf(0)
        return first + second


def _decimal_string(q):
    """The exact decimal string of a fraction whose denominator divides a power of ten, else None."""
    denominator = q.denominator
    twos = fives = 0
    while denominator % 2 == 0:
        denominator //= 2
        twos += 1
    while denominator % 5 == 0:
        denominator //= 5
        fives += 1
    if denominator != 1:
        return None
    places = max(twos, fives)
    digits = str(q.numerator * 10**places // q.denominator).rjust(places + 1, "0")
    return f"{digits[:-places]}.{digits[-places:]}" if places else digits


CASES = [
    (Fraction(1, 10**300), 1 - Fraction(1, 3 * 10**300)),
    (Fraction(1, 2), 1 - Fraction(1, 10**400)),
    (1 - Fraction(1, 10**200), 1 - Fraction(1, 10**300)),
    (1 - Fraction(2, 10**50), 1 - Fraction(1, 10**50)),
    (Fraction(3, 10), Fraction(7, 10)),
    # a rounds to 1 at 30 digits while its exact complement does not.
    (1 - Fraction(1, 10**50), Fraction(1, 2)),
    (1 - Fraction(1, 10**400), Fraction(1, 2)),
    (Fraction(1, 2), 1 - Fraction(1, 10**50)),
]


CONVERSIONS = {
    "fraction": lambda q: q,
    "sympy": lambda q: sympy.Rational(q.numerator, q.denominator),
    "string": _decimal_string,
}

# Every case in every form, except decimal strings of fractions that have no finite expansion.
PARAMETERS = [
    pytest.param(a, b, convert, id=f"{name}-{index}")
    for index, (a, b) in enumerate(CASES)
    for name, convert in CONVERSIONS.items()
    if convert(a) is not None and convert(b) is not None
]


@pytest.mark.parametrize("a, b, convert", PARAMETERS)
def test_kl_bin_near_one_matches_exact(a, b, convert):
    expected = _reference(a, b)
    value = isobounds.kl_bin(convert(a), convert(b), dps=30)
    assert mpmath.isfinite(value)
    assert abs(value / expected - 1) < mpmath.mpf(10) ** -28


def test_kl_bin_string_near_one_at_60_digits():
    # "0.999...9" with 400 nines rounds to 1 at 60 digits; kl(a || 1/2) = log 2 + O(1e-397).
    a = Fraction(10**400 - 1, 10**400)
    expected = _reference(a, Fraction(1, 2))
    value = isobounds.kl_bin("0." + "9" * 400, "0.5", dps=60)
    assert abs(value / expected - 1) < mpmath.mpf(10) ** -58


def test_kl_bin_closed_form_near_one():
    # kl(1/2 || 1 - e) = (1/2) log(1 / (4 (1 - e) e)), so at e = 1e-400 it is
    # (1/2)(400 log 10 - 2 log 2) up to a relative 1e-400.
    with mpmath.workdps(50):
        expected = (400 * mpmath.log(10) - 2 * mpmath.log(2)) / 2
    value = isobounds.kl_bin("0.5", 1 - Fraction(1, 10**400), dps=40)
    assert abs(value / expected - 1) < mpmath.mpf(10) ** -38


def test_kl_bin_rounded_inputs_unchanged():
    # mpf and float inputs are exact already; their complements are formed exactly as before.
    with mpmath.workdps(60):
        a = mpmath.mpf(1) - mpmath.mpf(10) ** -50
        b = mpmath.mpf(1) - 2 * mpmath.mpf(10) ** -50
        expected = _reference(Fraction(10**50 - 1, 10**50), Fraction(10**50 - 2, 10**50))
    value = isobounds.kl_bin(a, b, dps=30)
    # a and b are rounded to 60 digits, so their complements carry about 10 digits.
    assert abs(value / expected - 1) < mpmath.mpf(10) ** -8
    assert isobounds.kl_bin(0.25, 0.75) == pytest.approx(0.5493061443340549, rel=1e-14)
