"""Huge arguments of Phi, subnormal masses on the float64 path, and rational quantiles near 1/2.

Every reference is computed independently of the library: with mpmath's
own erfc, exp and findroot at two to three times the digits under test,
or from a closed form stated next to the test.
"""

import fractions
import math
import warnings

import mpmath
import numpy as np
import pytest
import scipy.special as sc
import sympy

from isobounds import Phi, Phi_c, Phi_c_inv, Phi_inv, log_Phi, phi, vectorized

# Spacing of float64 numbers below 2.2e-308, which is also the smallest subnormal.
SUBNORMAL_SPACING = 2.0**-1074


def rel_err(value, reference):
    with mpmath.workdps(400):
        return abs(mpmath.mpf(value) / reference - 1)


def negate(x):
    """Return ``-x`` without rounding to mpmath's current precision, as ``-x`` would."""
    return mpmath.fneg(x, exact=True)


def tolerance(dps):
    """A few units in the last of ``dps`` digits."""
    return mpmath.mpf(10) ** (1 - dps)


# ---------------------------------------------------------------------------
# Phi, Phi_c and log_Phi of huge arguments.
# ---------------------------------------------------------------------------

def ref_lower_tail_erfc(t, dps):
    """Phi(-t) = erfc(t / sqrt(2)) / 2 from mpmath, at 3 dps digits plus the 2 log10(t) that x^2 / 2 costs."""
    with mpmath.workdps(3 * dps + 2 * int(mpmath.log10(t)) + 20):
        t = mpmath.mpf(t)
        return mpmath.erfc(t / mpmath.sqrt(2)) / 2


def ref_log_lower_tail_asymptotic(t, digits):
    """log Phi(-t) for t >= 1e100 from the asymptotic series of erfc, to ``digits`` digits relative.

    Phi(-t) = phi(t) / t * (1 - 1/t^2 + 3/t^4 - 15/t^6 + R), and for real t
    the remainder R of this alternating series is below the first omitted
    term, 105 / t^8 <= 1e-798. So
    log Phi(-t) = -t^2/2 - log(t) - log(sqrt(2 pi)) + log(1 - 1/t^2 + 3/t^4 - 15/t^6)
    up to 1e-798 absolute. The result is about -t^2 / 2, so ``t^2 / 2`` is
    formed with 2 log10(t) extra digits.
    """
    magnitude = int(mpmath.log10(mpmath.mpf(t)))
    assert magnitude >= 100
    assert digits < 790
    with mpmath.workdps(digits + 2 * magnitude + 20):
        t = mpmath.mpf(t)
        inverse_square = 1 / (t * t)
        series = 1 - inverse_square + 3 * inverse_square**2 - 15 * inverse_square**3
        return -t * t / 2 - mpmath.log(t) - mpmath.log(2 * mpmath.pi) / 2 + mpmath.log(series)


def ref_lower_tail_asymptotic(t, dps):
    """Phi(-t) = exp(log Phi(-t)) at 3 dps digits, through mpmath's exp of a non-integer argument."""
    log_tail = ref_log_lower_tail_asymptotic(t, 3 * dps)
    with mpmath.workdps(3 * dps + 2 * int(mpmath.log10(mpmath.mpf(t))) + 20):
        return mpmath.exp(log_tail)


@pytest.mark.parametrize("t", ["1e3", "1e6", "1e99", "1e120", "1e150"])
@pytest.mark.parametrize("dps", [15, 30, 60])
def test_lower_tail_matches_erfc(t, dps):
    # 1e120 and 1e150 lie above the switch to the asymptotic series at 1e100.
    reference = ref_lower_tail_erfc(t, dps)
    assert rel_err(Phi("-" + t, dps=dps), reference) < tolerance(dps)
    assert rel_err(Phi_c(t, dps=dps), reference) < tolerance(dps)
    with mpmath.workdps(3 * dps + 2 * int(mpmath.log10(mpmath.mpf(t))) + 20):
        log_reference = mpmath.log(reference)
    assert rel_err(log_Phi("-" + t, dps=dps), log_reference) < tolerance(dps)


def test_asymptotic_reference_matches_erfc():
    # The reference used beyond mpmath's erfc range agrees with erfc where both work.
    for t in ("1e120", "1e150"):
        assert rel_err(ref_lower_tail_asymptotic(t, 60), ref_lower_tail_erfc(t, 60)) < mpmath.mpf(10) ** -170


@pytest.mark.parametrize("dps", [15, 30, 100])
def test_huge_string_argument(dps):
    # x^2 / 2 = 5e9999 is an integer here, for which mpmath 1.3's exp takes
    # a slow path of repeated squaring that the library has to avoid.
    with mpmath.workdps(20000):
        t = mpmath.mpf(10) ** 5000
    reference = ref_lower_tail_asymptotic(t, dps)

    assert rel_err(Phi("-1e5000", dps=dps), reference) < tolerance(dps)
    assert rel_err(Phi_c("1e5000", dps=dps), reference) < tolerance(dps)
    assert rel_err(log_Phi("-1e5000", dps=dps), ref_log_lower_tail_asymptotic(t, 3 * dps)) < tolerance(dps)


@pytest.mark.parametrize("dps", [15, 30, 100])
def test_huge_positive_argument(dps):
    # Phi(t) = 1 - Phi(-t) rounds to 1, and log Phi(t) = log1p(-Phi(-t)) ~ -Phi(-t).
    with mpmath.workdps(20000):
        t = mpmath.mpf(10) ** 5000
    tail = ref_lower_tail_asymptotic(t, dps)

    assert Phi("1e5000", dps=dps) == 1
    assert Phi_c("-1e5000", dps=dps) == 1
    assert rel_err(log_Phi("1e5000", dps=dps), negate(tail)) < tolerance(dps)


def test_huge_mpf_argument():
    # An mpf of 100 bits near -1e5000 is taken as exact, as every mpf input is.
    with mpmath.workdps(30):
        x = mpmath.mpf("-1e5000")
    reference = ref_lower_tail_asymptotic(negate(x), 30)

    assert rel_err(Phi(x, dps=30), reference) < tolerance(30)
    assert rel_err(Phi_c(negate(x), dps=30), reference) < tolerance(30)
    assert rel_err(log_Phi(x, dps=30), ref_log_lower_tail_asymptotic(negate(x), 90)) < tolerance(30)


@pytest.mark.parametrize("dps", [15, 30, 100])
def test_density_of_huge_argument(dps):
    # phi(t) = exp(-t^2 / 2 - log(sqrt(2 pi))), whose exponent is not an integer.
    with mpmath.workdps(3 * dps + 10020):
        t = mpmath.mpf(10) ** 5000
        reference = mpmath.exp(-t * t / 2 - mpmath.log(2 * mpmath.pi) / 2)
    assert rel_err(phi("1e5000", dps=dps), reference) < tolerance(dps)
    assert rel_err(phi("-1e5000", dps=dps), reference) < tolerance(dps)


# ---------------------------------------------------------------------------
# Float64 path at subnormal masses.
# ---------------------------------------------------------------------------

def ref_quantile(p):
    """Phi^{-1}(p) of the exact double p, from findroot on log(erfc) at 50 digits."""
    with mpmath.workdps(50):
        log_p = mpmath.log(mpmath.mpf(p))
        start = float(sc.ndtri_exp(float(log_p)))
        return mpmath.findroot(lambda x: mpmath.log(mpmath.erfc(-x / mpmath.sqrt(2)) / 2) - log_p, start)


def ref_shell_mass(p, c):
    """beta = Phi(Phi^{-1}(p) + c) - p at 50 digits, rounded to float64."""
    x = ref_quantile(p)
    with mpmath.workdps(50):
        return float(mpmath.ncdf(x + c) - mpmath.mpf(p))


def float_tolerance(reference):
    """Allowed error of a float64 tail value: 4 subnormal spacings or 1e-12 relative, whichever is larger.

    Above about 1e-311 the relative error of one rounding in the float64
    quantile, amplified by x^2 ~ 1400, dominates (see the notes of
    isobounds.vectorized), so subnormals there get the same 1e-12 relative
    tolerance as normal numbers.
    """
    return max(4 * SUBNORMAL_SPACING, 1e-12 * abs(reference))


@pytest.mark.parametrize("p", [5e-324, 1e-323, 1e-320, 1e-315, 1e-310, 2.2e-308])
@pytest.mark.parametrize("c", [0.03, 0.1, 0.3, 1.0])
def test_shell_mass_at_subnormal_mass(p, c):
    value = float(vectorized.shell_mass_lower_bound(p, c, 1.0))
    reference = ref_shell_mass(p, c)
    assert reference > 0
    assert value > 0
    assert abs(value - reference) <= float_tolerance(reference)


def test_shell_mass_at_smallest_subnormal():
    # p = 5e-324: x ~ -38.4674, and beta ~ 2.27e-322 for r / lip = 0.1.
    reference = ref_shell_mass(5e-324, 0.1)
    beta = vectorized.shell_mass_lower_bound([5e-324, 5e-324], [0.1, 0.05], [1.0, 0.5])
    assert abs(beta[0] - reference) <= 2 * SUBNORMAL_SPACING
    assert abs(beta[1] - reference) <= 2 * SUBNORMAL_SPACING


@pytest.mark.parametrize("x", [-37.6775, -37.68, -37.9, -38.2, -38.4, -38.46])
def test_ndtr_keeping_subnormals(x):
    with mpmath.workdps(50):
        reference = float(mpmath.ncdf(x))
    # One rounding, plus a relative error of about |log Phi(x)| 2^-53 ~ 1e-13
    # from exp(log_ndtr(x)), which is up to 3 spacings near Phi(x) = 6e-311.
    allowed = SUBNORMAL_SPACING + 2e-13 * reference
    assert reference > 0
    assert abs(vectorized._ndtr_keeping_subnormals(np.array([x]))[0] - reference) <= allowed
    assert abs(vectorized._ndtr_keeping_subnormals(np.float64(x)) - reference) <= allowed


def test_ndtr_keeping_subnormals_below_range():
    values = vectorized._ndtr_keeping_subnormals(np.array([-38.6, -50.0, -np.inf, 0.0]))
    np.testing.assert_array_equal(values, [0.0, 0.0, 0.0, 0.5])


def test_extension_mass_at_smallest_subnormal():
    # alpha = Phi(x + c) ~ 5.2e-324 for c = 1e-3, which rounds to the smallest subnormal.
    x = ref_quantile(5e-324)
    with mpmath.workdps(50):
        reference = float(mpmath.ncdf(x + mpmath.mpf("1e-3")))
    assert reference == SUBNORMAL_SPACING
    assert vectorized.extension_mass_lower_bound(5e-324, 1e-3, 1.0) == reference


# ---------------------------------------------------------------------------
# Rational quantiles within one unit of the working precision of 1/2.
# ---------------------------------------------------------------------------

def ref_quantile_near_half(offset):
    """Phi^{-1}(1/2 + e) = sqrt(2 pi) e (1 + pi e^2 / 3 + O(e^4)) at 80 digits.

    From Phi(x) - 1/2 = (x - x^3 / 6 + O(x^5)) / sqrt(2 pi), inverted. For
    |e| <= 1e-20 the correction pi e^2 / 3 is below 1e-39, and the next one
    is of order e^4.
    """
    with mpmath.workdps(80):
        e = mpmath.mpf(offset.numerator) / offset.denominator
        return mpmath.sqrt(2 * mpmath.pi) * e * (1 + mpmath.pi * e * e / 3)


@pytest.mark.parametrize("k", [20, 35, 60, 400])
@pytest.mark.parametrize("sign", [1, -1])
def test_Phi_inv_fraction_near_half(k, sign):
    offset = sign * fractions.Fraction(1, 10**k)
    reference = ref_quantile_near_half(offset)
    assert rel_err(Phi_inv(fractions.Fraction(1, 2) + offset, dps=30), reference) < tolerance(30)


@pytest.mark.parametrize("k", [20, 35, 60, 400])
@pytest.mark.parametrize("sign", [1, -1])
def test_Phi_c_inv_fraction_near_half(k, sign):
    # Phi_c_inv(1/2 + e) = -Phi_inv(1/2 + e) = Phi_inv(1/2 - e).
    offset = sign * fractions.Fraction(1, 10**k)
    reference = ref_quantile_near_half(-offset)
    assert rel_err(Phi_c_inv(fractions.Fraction(1, 2) + offset, dps=30), reference) < tolerance(30)


def test_Phi_inv_fraction_reported_case():
    # Phi_inv(1/2 + 1e-60) = sqrt(2 pi) 1e-60 (1 + O(1e-120)).
    p = fractions.Fraction(1, 2) + fractions.Fraction(1, 10**60)
    with mpmath.workdps(80):
        reference = mpmath.sqrt(2 * mpmath.pi) * mpmath.mpf(10) ** -60
    value = Phi_inv(p, dps=30)
    assert value > 0
    assert rel_err(value, reference) < tolerance(30)


def test_Phi_inv_sympy_rational_near_half():
    offset = fractions.Fraction(-1, 10**60)
    p = sympy.Rational(1, 2) - sympy.Rational(1, 10**60)
    assert rel_err(Phi_inv(p, dps=30), ref_quantile_near_half(offset)) < tolerance(30)
    assert rel_err(Phi_c_inv(p, dps=30), ref_quantile_near_half(-offset)) < tolerance(30)


def test_Phi_inv_fraction_away_from_half():
    # 1/10 lies in the lower tail, 1/3 in the central range [1/4, 3/4] and 3/4 on its edge.
    for p in (fractions.Fraction(1, 10), fractions.Fraction(1, 3), fractions.Fraction(3, 4)):
        with mpmath.workdps(80):
            reference = mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p.numerator) / p.denominator - 1)
        assert rel_err(Phi_inv(p, dps=30), reference) < tolerance(30)


# -- scalar argument types ------------------------------------------------------

def test_decimal_keeps_its_digits():
    import decimal

    from isobounds import tv_lower_bound
    from isobounds.measures import GaussianMixture
    from isobounds.sets import Interval

    # Decimal("0.1") is exactly one tenth, like the string "0.1", not the float.
    with mpmath.workdps(50):
        assert Phi(decimal.Decimal("0.1")) == Phi("0.1")
        assert Phi(decimal.Decimal("0.1")) != Phi(0.1)
    target = GaussianMixture([0.5, 0.5], [-3, 3], 1)
    expected = tv_lower_bound(Interval(0, 10), "0.5", "0.2", target=target)
    assert tv_lower_bound(Interval(0, 10), decimal.Decimal("0.5"), decimal.Decimal("0.2"), target=target) == expected


def test_zero_dimensional_array_is_a_scalar():
    from isobounds import tv_lower_bound
    from isobounds.measures import GaussianMixture
    from isobounds.sets import Interval

    target = GaussianMixture([0.5, 0.5], [-3, 3], 1)
    expected = tv_lower_bound(Interval(0, 10), 0.5, 0.2, target=target)
    assert tv_lower_bound(Interval(0, 10), np.array(0.5), np.array(0.2), target=target) == expected


def test_decimal_nan_and_array_rejected():
    import decimal

    with pytest.raises(ValueError, match="NaN"):
        Phi(decimal.Decimal("NaN"))
    from isobounds import tv_lower_bound
    from isobounds.measures import GaussianMixture
    from isobounds.sets import Interval

    # Phi takes arrays on its float64 path; lip is a scalar only.
    with pytest.raises(TypeError, match="lip must be a real number"):
        tv_lower_bound(Interval(0, 1), 0.5, np.array([1.0]), target=GaussianMixture([1], [0], 1))


def test_tv_with_means_a_subnormal_apart():
    # The two components cross near y = 1e312, beyond float64. g(z) = 0.02 z pushes N(0, 1)
    # to N(0, s^2) with s = 0.02, and TV(N(0, s^2), N(0, 1)) = 2 (Phi(x / s) - Phi(x)) where the
    # densities cross, at x^2 = 2 log(1 / s) / (1 / s^2 - 1).
    from scipy.stats import norm

    from isobounds.measures import GaussianMixture
    from isobounds.pushforward import PiecewiseLinearMap

    g = PiecewiseLinearMap([-0.1, 0.1], [-0.002, 0.002], 0.02, 0.02)
    target = GaussianMixture([1 / 3, 2 / 3], [0.0, 2.22507385852e-313], 1.0)
    s = 0.02
    x = math.sqrt(2 * math.log(1 / s) / (1 / s**2 - 1))
    expected = 2 * (norm.cdf(x / s) - norm.cdf(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = g.tv_distance(target)
    assert float(result.value) == pytest.approx(expected, rel=1e-12)
