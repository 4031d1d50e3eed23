"""kl_bin keeps every digit of close exact arguments given as strings, fractions or sympy rationals.

When ``a`` is close to ``b`` the divergence is about ``(a - b)^2 / (2 b (1 - b))``.
So the arguments must be converted again at each raised precision, or the
digits of ``a - b`` beyond the first conversion are lost. The reference is
the formula written out in mpmath at 600 digits from the exact rationals,
with the complements ``1 - a`` and ``1 - b`` formed exactly.
"""

from fractions import Fraction

import mpmath
import pytest
import sympy

import isobounds

REFERENCE_DPS = 600
DPS_VALUES = (15, 30, 60, 100)


def _to_mpf(q):
    """Return the fraction ``q`` as an mpf at the current precision."""
    return mpmath.mpf(q.numerator) / q.denominator


def _reference(a, b, dps=REFERENCE_DPS):
    """Return kl(a || b) at ``dps`` digits for two fractions strictly inside (0, 1)."""
    with mpmath.workdps(dps):
        a_value, b_value = _to_mpf(a), _to_mpf(b)
        a_complement, b_complement = _to_mpf(1 - a), _to_mpf(1 - b)
        return a_value * mpmath.log(a_value / b_value) + a_complement * mpmath.log(a_complement / b_complement)


def _assert_close(value, reference, dps):
    """Require ``value`` to match ``reference`` to ``dps - 1`` significant digits."""
    assert isinstance(value, mpmath.mpf)
    with mpmath.workdps(REFERENCE_DPS):
        error = abs(value - reference)
        assert error <= abs(reference) * mpmath.mpf(10) ** (1 - dps), (value, reference)


# Pairs of decimal strings: near 0, near 1/10, near 1/2 and near 1, in both orders.
STRING_PAIRS = [
    ("0.1", "0.1" + "0" * 60 + "1"),
    ("0.1" + "0" * 60 + "1", "0.1"),
    ("1e-30", "1." + "0" * 39 + "1e-30"),
    ("0.5", "0.5" + "0" * 70 + "3"),
    ("0.5" + "0" * 45 + "7", "0.5"),
    ("0.9999999999999999999999999", "0.9999999999999999999999999" + "0" * 45 + "7"),
    ("0.9999999999999999999999999" + "0" * 45 + "7", "0.9999999999999999999999999"),
]

_THIRD = Fraction(1, 3)
_SMALL = Fraction(1, 7 * 10**40)
_NEAR_ONE = 1 - Fraction(1, 3 * 10**30)

# Pairs of fractions: near 0, near 1/3, near 1/2 and near 1, in both orders.
FRACTION_PAIRS = [
    (_THIRD, _THIRD + Fraction(1, 10**70)),
    (_THIRD + Fraction(1, 10**70), _THIRD),
    (_SMALL, _SMALL * (1 + Fraction(1, 10**50))),
    (Fraction(1, 2), Fraction(1, 2) - Fraction(1, 3 * 10**80)),
    (_NEAR_ONE, _NEAR_ONE - Fraction(1, 10**80)),
    (_NEAR_ONE - Fraction(1, 10**80), _NEAR_ONE),
]


@pytest.mark.parametrize("dps", DPS_VALUES)
@pytest.mark.parametrize("a, b", STRING_PAIRS)
def test_decimal_strings_keep_their_digits(a, b, dps):
    _assert_close(isobounds.kl_bin(a, b, dps=dps), _reference(Fraction(a), Fraction(b)), dps)


@pytest.mark.parametrize("dps", DPS_VALUES)
@pytest.mark.parametrize("a, b", FRACTION_PAIRS)
def test_fractions_keep_their_digits(a, b, dps):
    _assert_close(isobounds.kl_bin(a, b, dps=dps), _reference(a, b), dps)


@pytest.mark.parametrize("dps", DPS_VALUES)
@pytest.mark.parametrize("a, b", FRACTION_PAIRS)
def test_sympy_rationals_keep_their_digits(a, b, dps):
    a_sympy = sympy.Rational(a.numerator, a.denominator)
    b_sympy = sympy.Rational(b.numerator, b.denominator)
    _assert_close(isobounds.kl_bin(a_sympy, b_sympy, dps=dps), _reference(a, b), dps)


def test_default_precision_examples():
    """The two examples that lost every digit at the default precision."""
    value = isobounds.kl_bin("0.1", "0.1" + "0" * 60 + "1")
    _assert_close(value, _reference(Fraction("0.1"), Fraction("0.1" + "0" * 60 + "1")), 30)
    assert mpmath.almosteq(value, mpmath.mpf("5.5555555555555555555555555555e-124"), rel_eps=1e-25)

    third = Fraction(1, 3)
    value = isobounds.kl_bin(third, third + Fraction(1, 10**70))
    _assert_close(value, _reference(third, third + Fraction(1, 10**70)), 30)
    assert mpmath.almosteq(value, mpmath.mpf("2.25e-140"), rel_eps=1e-25)


def test_inside_precision_block():
    """kl_bin uses the working precision that isobounds.precision sets, as it uses ``dps``."""
    a, b = "0.1", "0.1" + "0" * 60 + "1"
    with isobounds.precision(50):
        value = isobounds.kl_bin(a, b)
    _assert_close(value, _reference(Fraction(a), Fraction(b)), 50)


@pytest.mark.parametrize("dps", DPS_VALUES)
@pytest.mark.parametrize(
    "a, b",
    [(0.1, 0.1000000000000001), (0.5, 0.5000000000000001), (1e-300, 1.0000000000000002e-300), (0.9, 0.3)],
)
def test_floats_use_exact_binary_values(a, b, dps):
    _assert_close(isobounds.kl_bin(a, b, dps=dps), _reference(Fraction(a), Fraction(b)), dps)


def test_float_and_decimal_string_differ():
    """The float 0.1 differs from the decimal 0.1, and kl_bin resolves the divergence between them."""
    value = isobounds.kl_bin(0.1, "0.1")
    assert value > 0
    _assert_close(value, _reference(Fraction(0.1), Fraction("0.1")), 30)


@pytest.mark.parametrize("a, b", [("0.25", "0.25"), (Fraction(1, 3), Fraction(1, 3)), ("0.5", Fraction(1, 2))])
def test_equal_arguments_give_zero(a, b):
    assert isobounds.kl_bin(a, b) == 0


@pytest.mark.parametrize("bits", range(120, 200))
def test_third_against_nearest_binary_fraction(bits):
    """1/3 and the binary fraction of ``bits`` bits nearest it are distinct, so their divergence is positive.

    One of these fractions converts to the same mpf as 1/3 at the default
    precision, so kl_bin must convert them again with more digits.
    """
    third = Fraction(1, 3)
    nearest = Fraction(round(third * 2**bits), 2**bits)
    value = isobounds.kl_bin(third, nearest)
    assert value > 0
    _assert_close(value, _reference(third, nearest), 30)


@pytest.mark.parametrize("zeros", [400, 1000])
def test_very_close_arguments(zeros):
    """Arguments 10**-400 and 10**-1000 apart need many raises of the precision."""
    a, b = "0.1", "0.1" + "0" * zeros + "1"
    dps = 3 * zeros + 200
    _assert_close(isobounds.kl_bin(a, b), _reference(Fraction(a), Fraction(b), dps), 30)

    third = Fraction(1, 3)
    close = third + Fraction(1, 10**zeros)
    _assert_close(isobounds.kl_bin(third, close), _reference(third, close, dps), 30)
