"""Corollaries 6 and 8 for far modes, with sigma as a symbol substituted later and as a number.

For sigma < 1/2 and modes far apart, the slab of the bisecting half-space
and the model's side of it both hold nearly 1/2 of the mass, and the
published bracket subtracts two values that agree to thousands of digits.
The references are the published formulas evaluated directly with mpmath,
with more digits than the cancellation costs.
"""

import mpmath
import pytest
import sympy
from sympy import Rational, S

import isobounds.symbolic as sb
from isobounds.symbolic import bounds, verification

DIGITS = 30
TOLERANCE = mpmath.mpf(10) ** (5 - DIGITS)
SIGMA = sympy.Symbol("sigma", positive=True)
D, L, LAM = sympy.symbols("D L lambda", positive=True)


def _digits_needed(*magnitudes):
    """Return mpmath digits that resolve values of order 10**-m for each magnitude m, plus the test's digits."""
    return max(magnitudes) + DIGITS + 40


def published_tv(distance, sigma, lip, dps):
    """Corollary 6 as published, max(0, Phi(c) - 1/2 - (Phi(x1) - Phi(x2))/2), at ``dps`` digits."""
    with mpmath.workdps(dps):
        distance, sigma, lip = (mpmath.mpf(x.p) / x.q for x in map(Rational, (distance, sigma, lip)))
        high = mpmath.ncdf(distance * (2 * sigma + 1) / (4 * sigma**2))
        low = mpmath.ncdf(distance * (2 * sigma - 1) / (4 * sigma**2))
        bracket = mpmath.ncdf(distance / (4 * sigma * lip)) - mpmath.mpf(1) / 2 - (high - low) / 2
        return max(bracket, mpmath.mpf(0))


def published_kl(distance, sigma, lip, weight, dps):
    """Corollary 8 with its validity condition: kl(a || b) if a >= b else 0, at ``dps`` digits."""
    with mpmath.workdps(dps):
        distance, sigma, lip, weight = (mpmath.mpf(x.p) / x.q for x in map(Rational, (distance, sigma, lip, weight)))
        weight = min(weight, 1 - weight)
        quantile = mpmath.sqrt(2) * mpmath.erfinv(2 * weight - 1)
        a = mpmath.ncdf(distance / (4 * sigma * lip) + quantile) - weight
        b = (mpmath.ncdf(distance * (2 * sigma + 1) / (4 * sigma**2))
             - mpmath.ncdf(distance * (2 * sigma - 1) / (4 * sigma**2))) / 2
        if a < b:
            return mpmath.mpf(0)
        return a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))


def assert_relative(found, expected):
    assert expected > 0
    with mpmath.workdps(DIGITS + 10):
        value = found._to_mpmath(mpmath.mp.prec) if isinstance(found, sympy.Float) else mpmath.mpf(found)
        assert abs(value - expected) <= TOLERANCE * expected, (found, expected)


# (distance, sigma, lip, magnitude of the TV bound, magnitude of the KL bound at weight 1/2)
FAR_MODES = [
    (20, Rational(1, 4), Rational(1, 4), 350, 700),
    (40, Rational(1, 3), Rational(1, 5), 198, 400),
]


@pytest.mark.parametrize("distance, sigma, lip, tv_digits, kl_digits", FAR_MODES)
def test_tv_symbolic_sigma_far_modes(distance, sigma, lip, tv_digits, kl_digits):
    expr = sb.tv_lower_bound_two_gaussians(0, distance, SIGMA, lip)
    found = expr.subs(SIGMA, sigma).evalf(DIGITS)
    assert_relative(found, published_tv(distance, sigma, lip, _digits_needed(tv_digits)))


@pytest.mark.parametrize("distance, sigma, lip, tv_digits, kl_digits", FAR_MODES)
def test_kl_symbolic_sigma_far_modes(distance, sigma, lip, tv_digits, kl_digits):
    expr = sb.kl_lower_bound_two_gaussians(0, distance, SIGMA, lip, S.Half)
    found = expr.subs(SIGMA, sigma).evalf(DIGITS)
    assert found.is_Float, found
    assert_relative(found, published_kl(distance, sigma, lip, S.Half, _digits_needed(kl_digits)))


def test_kl_symbolic_sigma_far_modes_weight_one_third():
    expr = sb.kl_lower_bound_two_gaussians(0, 40, SIGMA, Rational(1, 5), Rational(1, 3))
    found = expr.subs(SIGMA, Rational(1, 3)).evalf(DIGITS)
    assert_relative(found, published_kl(40, Rational(1, 3), Rational(1, 5), Rational(1, 3), _digits_needed(0)))


def test_formula_subs_far_modes():
    point = {D: 20, SIGMA: Rational(1, 4), L: Rational(1, 4), LAM: S.Half}
    tv = sb.formula("tv_lower_bound_two_gaussians").subs(point).evalf(DIGITS)
    kl = sb.formula("kl_lower_bound_two_gaussians").subs(point).evalf(DIGITS)
    assert_relative(tv, published_tv(20, Rational(1, 4), Rational(1, 4), _digits_needed(350)))
    assert_relative(kl, published_kl(20, Rational(1, 4), Rational(1, 4), S.Half, _digits_needed(700)))


def test_formula_evalf_subs_far_modes():
    point = {D: 20, SIGMA: Rational(1, 4), L: Rational(1, 4)}
    tv = sb.formula("tv_lower_bound_two_gaussians").evalf(DIGITS, subs=point)
    assert_relative(tv, published_tv(20, Rational(1, 4), Rational(1, 4), _digits_needed(350)))


def test_tv_lambdify_mpmath_far_modes():
    function = sympy.lambdify((D, SIGMA, L), sb.formula("tv_lower_bound_two_gaussians"), "mpmath")
    with mpmath.workdps(DIGITS):
        found = function(mpmath.mpf(20), mpmath.mpf(1) / 4, mpmath.mpf(1) / 4)
    assert_relative(found, published_tv(20, Rational(1, 4), Rational(1, 4), _digits_needed(350)))


def tail_form_kl(distance, sigma, lip, weight):
    """Corollary 8 for far modes from the lower tails, at 60 digits.

    With x = D/(4 sigma L) + Phi_inv(lambda), u = D(1 - 2 sigma)/(4 sigma^2)
    and l = -D(1 + 2 sigma)/(4 sigma^2), Phi(x) = 1 - Phi(-x) and
    Phi(u) = 1 - Phi(-u) give a - b = 1/2 - lambda + [Phi(-u) + Phi(l)]/2 - Phi(-x)
    and b = 1/2 - [Phi(-u) + Phi(l)]/2. For |a - b| below 1e-2000,
    kl(a || b) = (a - b)^2 / (2 b (1 - b)) to far more than 60 digits.
    """
    # 1/2 - lambda is formed exactly, because lambda rounds to 1/2 at 60 digits.
    below_half = S.Half - Rational(weight)
    with mpmath.workdps(60):
        distance, sigma, lip, below_half = (
            mpmath.mpf(x.p) / x.q for x in map(Rational, (distance, sigma, lip, below_half))
        )
        half = mpmath.mpf(1) / 2
        x = distance / (4 * sigma * lip) - mpmath.sqrt(2) * mpmath.erfinv(2 * below_half)
        tails = (mpmath.ncdf(-distance * (1 - 2 * sigma) / (4 * sigma**2))
                 + mpmath.ncdf(-distance * (1 + 2 * sigma) / (4 * sigma**2))) / 2
        gap = below_half + tails - mpmath.ncdf(-x)
        b = half - tails
        assert 0 < gap < mpmath.mpf(10) ** -2000
        return gap**2 / (2 * b * (1 - b))


def test_kl_weight_near_half_far_modes():
    # The tails differ by about 1e-8689 and 1/2 - lambda is 1e-8700: the
    # published a - b cancels beyond the 2000 extra digits its evaluation allows.
    weight = S.Half - Rational(1, 10**8700)
    found = sb.kl_lower_bound_two_gaussians(0, 100, Rational(1, 4), Rational(1, 10), weight).evalf(DIGITS)
    assert_relative(found, tail_form_kl(100, Rational(1, 4), Rational(1, 10), weight))


@pytest.mark.parametrize("exponent", [300, 3000])
def test_tv_tiny_distance_small_sigma(exponent):
    distance = Rational(1, 10**exponent)
    found = sb.tv_lower_bound_two_gaussians(0, distance, Rational(1, 4), Rational(1, 10)).evalf(DIGITS)
    assert_relative(found, published_tv(distance, Rational(1, 4), Rational(1, 10), _digits_needed(exponent)))


@pytest.mark.parametrize("exponent", [300, 3000])
def test_kl_tiny_distance_small_sigma(exponent):
    distance = Rational(1, 10**exponent)
    found = sb.kl_lower_bound_two_gaussians(0, distance, Rational(1, 4), Rational(1, 10), S.Half).evalf(DIGITS)
    assert_relative(found, published_kl(distance, Rational(1, 4), Rational(1, 10), S.Half,
                                        _digits_needed(2 * exponent)))


def test_kl_numpy_lambdify_evaluates_both_branches():
    # numpy.select evaluates every branch of the Piecewise, so the lower-tail
    # branch must accept the points where the published one is selected.
    function = sympy.lambdify((D, SIGMA, L, LAM), sb.formula("kl_lower_bound_two_gaussians"), "numpy")
    for distance, sigma, lip, weight in [(10, 1, 1, 0.5), (3, 0.7, 1e20, 0.3), (40, 0.3, 0.2, 0.45), (1, 2, 1e-3, 1e-10)]:
        expected = published_kl(distance, Rational(str(sigma)), Rational(str(lip)), Rational(str(weight)), 60)
        found = function(distance, sigma, lip, weight)
        assert abs(found - float(expected)) <= 1e-9 * max(1.0, float(expected)), (distance, sigma, lip, weight)


def _lift_lower_tail_form(original):
    def mutant(condition, chosen, other):
        return original(condition, chosen + Rational(1, 1000), other)
    return mutant


def test_verify_catches_wrong_lower_tail_form(monkeypatch):
    monkeypatch.setattr(bounds, "_select", _lift_lower_tail_form(bounds._select))
    checks = verification._corollary_6_and_8_checks(verification._Sampler(0, 5, DIGITS))
    failed = [check.claim for check in checks if not check.passed]
    assert any(claim.startswith("the lower-tail form") for claim in failed), failed
    assert any(claim.startswith("for far modes") for claim in failed), failed


def test_unresolved_value_with_huge_rational():
    # Phi(3)/2 + Phi(-3)/2 - 1/2 is exactly 0, so no precision separates it from 0. With a
    # rational factor of 5000 digits, sympy's PrecisionExhausted message could not be formed
    # (Python's limit on int-to-str conversion), and a ValueError escaped.
    from sympy.core.evalf import PrecisionExhausted

    from isobounds.symbolic import Phi
    from isobounds.symbolic.functions import _real_value

    q = Rational(10**5000 + 1, 10**5000)
    zero = q * (Phi(3) / 2 + Phi(-3) / 2) - q / 2

    assert _real_value(zero, 100) == 0
    with pytest.raises(PrecisionExhausted):
        _real_value(zero, 100, strict=True)
