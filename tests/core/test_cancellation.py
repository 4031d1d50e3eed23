"""Bounds that are small differences of large terms keep their digits and their sign.

Each reference is computed in the test from the formulas of Theorems 4 and 7
and Corollaries 6 and 8 (Salmona et al., 2022) with mpmath at 400 digits,
where the cancellation costs nothing.
"""

import mpmath
import pytest

import isobounds as ib

REFERENCE_DPS = 400


def _phi_inv(p):
    return mpmath.sqrt(2) * mpmath.erfinv(2 * p - 1)


def _beta(mass, c):
    """Theorem 1's shell mass Phi(c + Phi^{-1}(mass)) - mass."""
    return mpmath.ncdf(c + _phi_inv(mass)) - mass


def _kl_bin(a, b):
    return a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))


def _corollary8_terms(D, s, L, lam):
    a = _beta(lam, D / (4 * s * L))
    b = (mpmath.ncdf(D * (2 * s + 1) / (4 * s**2)) - mpmath.ncdf(D * (2 * s - 1) / (4 * s**2))) / 2
    return a, b


def test_corollary8_zero_when_a_below_b():
    D = "0.487668341727520548989360804625903256237506866455078125"
    L = "0.124108054423828857831194641104138031806278442992445856725614"
    with mpmath.workdps(REFERENCE_DPS):
        a, b = _corollary8_terms(mpmath.mpf(D), mpmath.mpf("0.1"), mpmath.mpf(L), mpmath.mpf(1) / 2)
        assert a < b
    assert ib.kl_lower_bound_two_gaussians(0, D, "0.1", L, 0.5, dps=15) == 0


@pytest.mark.parametrize("D, dps", [("1e-8", 15), ("1e-20", 30), ("1e-20", 15)])
def test_corollary8_digits_when_a_near_b(D, dps):
    with mpmath.workdps(REFERENCE_DPS):
        a, b = _corollary8_terms(mpmath.mpf(D), 1, 1, mpmath.mpf(1) / 2)
        expected = _kl_bin(a, b)
    value = ib.kl_lower_bound_two_gaussians(0, D, 1, 1, 0.5, dps=dps)
    assert value > 0
    assert abs(value - expected) <= abs(expected) * mpmath.mpf(10) ** (2 - dps)


def test_theorem7_digits_near_half_mass():
    mass = "0.49999999999999999999999999"
    with mpmath.workdps(REFERENCE_DPS):
        beta = _beta(mpmath.mpf(mass), 1)
        shell = mpmath.ncdf(1) - mpmath.mpf(1) / 2
        expected = _kl_bin(beta, shell)
    value = ib.kl_lower_bound(ib.HalfSpace([1], 0), 1, 1, target=ib.GaussianMixture([1], [0], 1),
                              model_mass=mass, dps=15)
    assert abs(value - expected) <= abs(expected) * mpmath.mpf(10) ** -13


def test_theorem4_at_one_radius_keeps_digits():
    # Modes at -15 and 15, A = (-inf, 0], r = 30: both terms are 1/2 to 50 digits.
    with mpmath.workdps(REFERENCE_DPS):
        half = mpmath.mpf(1) / 2
        shell = half * (mpmath.ncdf(15) - mpmath.ncdf(-15)) + half * (mpmath.ncdf(45) - mpmath.ncdf(15))
        expected = _beta(half, 30) - shell
    value = ib.tv_lower_bound(ib.HalfSpace([1.0], 0), 30, 1, target=ib.GaussianMixture.two_gaussians(-15, 15, 1))
    assert abs(value - expected) <= expected * mpmath.mpf(10) ** -28


@pytest.mark.parametrize("t, r", [(0, 1), (-0.25, 2.5), (1, 0.015625), (2.25, 7)])
def test_theorem4_is_zero_for_the_target_itself(t, r):
    # For nu = N(0, 1) and A = (-inf, t]: beta(Phi(t), r) = Phi(t + r) - Phi(t) = nu((t, t + r]).
    # The offsets and radii are binary fractions, so the set carries them exactly.
    value = ib.tv_lower_bound(ib.HalfSpace([1.0], t), r, 1, target=ib.GaussianMixture([1], [0], 1), clip=False)
    assert value == 0


@pytest.mark.parametrize("dps", [15, 20, 50])
def test_optimised_corollary6_is_zero_for_one_gaussian(dps):
    assert ib.maximize_tv_two_gaussians(0, 0, 1, 1, dps=dps).value == 0


def test_theorem4_with_a_tiny_mixture_weight():
    # nu = w N(-20, 1) + (1 - w) N(20, 1) with w = 2^-100 (about 7.9e-31), a weight the
    # mixture stores exactly. The side of mass about 1 - w is a difference of two terms near w.
    with mpmath.workdps(REFERENCE_DPS):
        w1 = mpmath.mpf(2) ** -100
        w2 = 1 - w1
    target = ib.GaussianMixture([w1, w2], [-20, 20], 1)
    with mpmath.workdps(REFERENCE_DPS):
        below = w1 * mpmath.ncdf(20) + w2 * mpmath.ncdf(-20)
        above = 1 - below
        # A = (-inf, 0] grows into (0, 15]; its complement grows into (-15, 0].
        side_a = _beta(below, 15) - (w1 * (mpmath.ncdf(35) - mpmath.ncdf(20)) + w2 * (mpmath.ncdf(-5) - mpmath.ncdf(-20)))
        side_b = _beta(above, 15) - (w1 * (mpmath.ncdf(20) - mpmath.ncdf(5)) + w2 * (mpmath.ncdf(-20) - mpmath.ncdf(-35)))
        expected = min(side_a, side_b)
    value = ib.tv_lower_bound(ib.HalfSpace([1.0], 0.0), 15, 1, target=target, clip=False, dps=15)
    assert expected > 0
    assert abs(value - expected) <= abs(expected) * mpmath.mpf(10) ** -12


@pytest.mark.parametrize("weight, dps", [("1e-300", 30), ("1e-17", 15), ("0.999999999999999999999999999999", 30)])
def test_corollary5_keeps_a_tiny_piece(weight, dps):
    # Corollary 5 with pieces of mass w and 1 - w at distance 1, L = 1: beta(max(w, 1 - w), 1/2).
    with mpmath.workdps(REFERENCE_DPS):
        w = mpmath.mpf(weight)
        lam = max(w, 1 - w)
        x = _phi_inv(lam)
        assert abs(mpmath.ncdf(x) - lam) <= (1 - lam) * mpmath.mpf(10) ** -60
        expected = mpmath.ncdf(x + mpmath.mpf(1) / 2) - lam
    value = ib.tv_lower_bound_disconnected(weight, 1, 1, dps=dps)
    assert expected > 0
    assert abs(value - expected) <= expected * mpmath.mpf(10) ** (2 - dps)


@pytest.mark.parametrize("D, s, L, reference_dps", [(5, "0.1", "0.1", 2300), (2, "0.2", "0.2", 80), (3, "0.4", "0.05", 80)])
def test_corollary6_narrow_components(D, s, L, reference_dps):
    # For s < 1/2 both terms of Corollary 6 are close to 1/2; the reference takes the
    # published difference directly, with enough digits to absorb the cancellation.
    with mpmath.workdps(reference_dps):
        D_, s_, L_ = mpmath.mpf(D), mpmath.mpf(s), mpmath.mpf(L)
        gain = mpmath.ncdf(D_ / (4 * s_ * L_)) - mpmath.mpf(1) / 2
        shell = (mpmath.ncdf(D_ * (2 * s_ + 1) / (4 * s_**2)) - mpmath.ncdf(D_ * (2 * s_ - 1) / (4 * s_**2))) / 2
        expected = gain - shell
    value = ib.tv_lower_bound_two_gaussians(0, D, s, L, clip=False)
    assert expected != 0
    assert abs(value - expected) <= abs(expected) * mpmath.mpf(10) ** -28


def _corollary6_reference_terms(D, s, L, reference_dps):
    """Return Corollary 6's two terms at ``reference_dps`` digits, enough to form endpoints a relative 1/s apart."""
    with mpmath.workdps(reference_dps):
        D_, s_, L_ = mpmath.mpf(D), mpmath.mpf(s), mpmath.mpf(L)
        gain = mpmath.ncdf(D_ / (4 * s_ * L_)) - mpmath.mpf(1) / 2
        shell = (mpmath.ncdf(D_ * (2 * s_ + 1) / (4 * s_**2)) - mpmath.ncdf(D_ * (2 * s_ - 1) / (4 * s_**2))) / 2
        return gain, shell


@pytest.mark.parametrize("D, s, L", [("1e61", "1e60", "2.8e65"), ("1e41", "1e40", "2.6e45"), (1, "1e45", "1e45")])
def test_corollary6_wide_components(D, s, L):
    # The target's slab has width D/(2s^2), a relative 1/s of its centre D/(2s),
    # so at 30 digits its two ends round to the same number once s > 1e30.
    gain, shell = _corollary6_reference_terms(D, s, L, 1500)
    with mpmath.workdps(1500):
        expected = gain - shell
    value = ib.tv_lower_bound_two_gaussians(0, D, s, L, clip=False, dps=30)
    assert expected != 0
    assert abs(value - expected) <= abs(expected) * mpmath.mpf(10) ** -28


@pytest.mark.parametrize("lip", ["1.001e60", "0.999e60", "1e60"])
def test_corollary8_wide_components(lip):
    with mpmath.workdps(1500):
        _, b = _corollary6_reference_terms(1, "1e60", lip, 1500)
        a = _beta(mpmath.mpf(1) / 2, 1 / (4 * mpmath.mpf("1e60") * mpmath.mpf(lip)))
        expected = _kl_bin(a, b) if a >= b else mpmath.mpf(0)
    value = ib.kl_lower_bound_two_gaussians(0, 1, "1e60", lip, "0.5", dps=30)
    assert mpmath.isfinite(value)
    assert abs(value - expected) <= expected * mpmath.mpf(10) ** -28
