"""Exact conversion of integers, fractions and long doubles, and string spellings of infinity.

Every reference value is computed independently with mpmath's ``erfc`` at
several hundred digits, from the exact argument.
"""

import fractions

import mpmath
import numpy as np
import pytest

import isobounds.gaussian as gaussian
from isobounds._precision import to_mpf


def _reference_lower_tail(x_exact):
    """``Phi(x)`` for an exact rational ``x`` (a Fraction), from erfc at 400 digits."""
    with mpmath.workdps(400):
        x = mpmath.mpf(x_exact.numerator) / x_exact.denominator
        return mpmath.erfc(-x / mpmath.sqrt(2)) / 2


def _relative_error(value, reference):
    with mpmath.workdps(400):
        return abs(value / reference - 1)


@pytest.mark.parametrize("n", [10**40 + 1, 10**40, 3**60])
def test_integer_argument_keeps_all_its_bits(n):
    # These integers need more bits than 15 + GUARD_DIGITS digits hold. Rounding
    # n by a relative 1e-25 multiplies Phi(-n) by about exp(n^2 * 1e-25).
    value = gaussian.Phi(-n, dps=15)
    reference = _reference_lower_tail(fractions.Fraction(-n))
    assert _relative_error(value, reference) < 1e-14


def test_integer_and_string_agree():
    n = 10**40 + 1
    reference = _reference_lower_tail(fractions.Fraction(-n))
    assert _relative_error(gaussian.Phi(-n, dps=20), reference) < 1e-19
    assert _relative_error(gaussian.Phi("-" + str(n), dps=20), reference) < 1e-19


@pytest.mark.parametrize(
    "x",
    [fractions.Fraction(-(10**40 + 1)), fractions.Fraction(-(3 * 10**40 + 1), 3), fractions.Fraction(-(7 * 3**60 + 2), 7)],
)
def test_large_fraction_argument_keeps_its_digits(x):
    value = gaussian.Phi(x, dps=20)
    assert _relative_error(value, _reference_lower_tail(x)) < 1e-19


def test_fraction_near_half_still_exact():
    # The pre-existing guarantee for fractions of small magnitude is unchanged.
    q = fractions.Fraction(1, 2) + fractions.Fraction(1, 10**60)
    value = gaussian.Phi_c_inv(q, dps=30)
    with mpmath.workdps(200):
        d = mpmath.mpf(1) / 10**60
        reference = -mpmath.findroot(lambda x: mpmath.erf(x / mpmath.sqrt(2)) / 2 - d, mpmath.sqrt(2 * mpmath.pi) * d)
        assert abs(value / reference - 1) < mpmath.mpf(10) ** -29


def test_long_double_is_converted_exactly():
    x = np.longdouble(-38) / 3
    if np.finfo(np.longdouble).nmant <= np.finfo(np.float64).nmant:
        pytest.skip("numpy.longdouble is a double on this platform")
    numerator, denominator = x.as_integer_ratio()
    with mpmath.workdps(60):
        converted = to_mpf(x, "x")
        assert converted == mpmath.mpf(numerator) / denominator
    value = gaussian.Phi(x, dps=30)
    reference = _reference_lower_tail(fractions.Fraction(numerator, denominator))
    assert _relative_error(value, reference) < 1e-29


@pytest.mark.parametrize("x", [np.float16(0.1), np.float32(-0.1), np.float64(1e-320), np.longdouble("0.1")])
def test_numpy_floats_are_exact_binary_values(x):
    numerator, denominator = x.as_integer_ratio()
    with mpmath.workdps(60):
        assert to_mpf(x, "x") == mpmath.mpf(numerator) / denominator


@pytest.mark.parametrize("x, expected", [(np.longdouble("inf"), mpmath.inf), (np.float32("-inf"), -mpmath.inf)])
def test_numpy_infinities(x, expected):
    assert to_mpf(x, "x") == expected


def test_numpy_long_double_nan_is_rejected():
    with pytest.raises(ValueError, match="x must not be NaN"):
        to_mpf(np.longdouble("nan"), "x")


@pytest.mark.parametrize("text, expected", [("Infinity", mpmath.inf), ("-Infinity", -mpmath.inf), (" +infinity ", mpmath.inf)])
def test_infinity_spelled_out(text, expected):
    # float() and decimal.Decimal accept these spellings.
    assert to_mpf(text, "x") == expected
    assert gaussian.Phi(text) == (1 if expected > 0 else 0)


@pytest.mark.parametrize("text", ["--infinity", "infinityx", "0x10"])
def test_malformed_strings_are_rejected(text):
    with pytest.raises(ValueError, match="x must be a decimal number"):
        to_mpf(text, "x")


def test_numpy_boolean_is_named_a_boolean():
    with pytest.raises(TypeError, match="got the boolean x="):
        to_mpf(np.bool_(True), "x")
