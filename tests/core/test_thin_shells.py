"""Shells thinner than the precision of the set's parameters keep their mass.

For a width h far below every other scale, the mass of a shell is h times
the density on its boundary, up to a relative error of order h; the
references below use that first-order formula at 60 digits.
"""

import mpmath
import pytest

from isobounds import Ball, GaussianMixture, HalfSpace, Interval, kl_lower_bound, maximize_kl_over_radius, tv_lower_bound


def assert_rel(value, reference, tol="1e-28"):
    with mpmath.workdps(60):
        assert abs(value / reference - 1) < mpmath.mpf(tol)


def test_interval_shell_at_smallest_subnormal():
    nu = GaussianMixture([0.5, 0.5], [-3, 3], 1)
    r = 5e-324
    with mpmath.workdps(60):
        density = lambda x: (mpmath.npdf(x, -3, 1) + mpmath.npdf(x, 3, 1)) / 2
        reference = mpmath.mpf(r) * (density(-10) + density(1))
    assert_rel(nu.mass(Interval(-10, 1).shell(r)), reference)


def test_half_space_shell_far_below_precision():
    nu = GaussianMixture([0.5, 0.5], [-3, 3], 1)
    with mpmath.workdps(60):
        reference = mpmath.mpf("1e-200") * (mpmath.npdf(1, -3, 1) + mpmath.npdf(1, 3, 1)) / 2
    assert_rel(nu.mass(HalfSpace([1.0], 1.0).shell("1e-200")), reference)


def test_annulus_far_below_precision():
    # Standard 2-D Gaussian: P(|X| <= R) = 1 - exp(-R^2 / 2), derivative R exp(-R^2 / 2).
    nu = GaussianMixture([1], [[0, 0]], 1)
    with mpmath.workdps(60):
        reference = mpmath.mpf("1e-100") * 2 * mpmath.exp(-2)
    assert_rel(nu.mass(Ball([0, 0], 2).shell("1e-100")), reference)


@pytest.mark.parametrize("r", ["1e-200", 5e-324])
def test_bounds_at_tiny_radius(r):
    # Symmetric target and A = (-inf, 0], so nu(A) = 1/2 exactly; take rho(A) = 1/2.
    # Theorem 4's bracket is beta - v = r (I(1/2) / L - p_nu(0)) to first order in r.
    nu = GaussianMixture([0.5, 0.5], [-3, 3], 1)
    A = HalfSpace([1.0], 0.0)
    lip = 2
    kl = kl_lower_bound(A, r, lip, target=nu, model_mass="0.5")
    tv = tv_lower_bound(A, r, lip, target=nu, model_mass="0.5")
    with mpmath.workdps(60):
        beta = mpmath.mpf(r) / lip / mpmath.sqrt(2 * mpmath.pi)
        v = mpmath.mpf(r) * mpmath.npdf(3)
        reference_tv = beta - v
        reference_kl = beta * mpmath.log(beta / v) - beta + v
    assert_rel(tv, reference_tv, tol="1e-25")
    assert mpmath.isfinite(kl)
    # kl_bin(beta || v) = beta log(beta / v) - beta + v + O(beta^2) for beta, v -> 0.
    assert_rel(kl, reference_kl, tol="1e-25")


@pytest.mark.parametrize("a, width", [("39.5", "1e-300"), ("-40", "1e-20"), ("1e5", "1e-9"), ("-3", "2e-4"), ("0.3", "1e-5")])
def test_short_interval_against_tails(a, width):
    # Reference: the difference of the two upper tails Phi(-a) - Phi(-a - h), at
    # enough digits (1500) to absorb the cancellation of a width as thin as 1e-300.
    with mpmath.workdps(1500):
        low = mpmath.mpf(a)
        high = low + mpmath.mpf(width)
        reference = (mpmath.erfc(low / mpmath.sqrt(2)) - mpmath.erfc(high / mpmath.sqrt(2))) / 2
    value = GaussianMixture([1], [0], 1).mass(Interval(low, high), dps=30)
    assert_rel(value, reference)


def test_kl_radius_search_at_tiny_lip():
    # lip = 1e-300 sends the search to radii near 1e-300, whose shells used to cost
    # erf at 2000 bits per evaluation (over a minute). Reference: the bound at the
    # returned radius, from Theorem 7 with mpmath at 1500 digits.
    nu = GaussianMixture([0.5, 0.5], ["-40", "40"], 1)
    found = maximize_kl_over_radius(Interval(-mpmath.inf, 0), "1e-300", target=nu, model_mass="0.5", dps=30)
    with mpmath.workdps(1500):
        r, lip = mpmath.mpf(found.radius), mpmath.mpf("1e-300")
        beta = mpmath.ncdf(r / lip) - mpmath.mpf(1) / 2
        shell = (mpmath.erfc(-40 / mpmath.sqrt(2)) - mpmath.erfc((r - 40) / mpmath.sqrt(2))) / 4
        shell += (mpmath.erfc(40 / mpmath.sqrt(2)) - mpmath.erfc((r + 40) / mpmath.sqrt(2))) / 4
        expected = beta * mpmath.log(beta / shell) + (1 - beta) * mpmath.log((1 - beta) / (1 - shell))
    assert beta > shell
    assert_rel(found.value, expected)


@pytest.mark.parametrize("a, width, dps", [("0", "0.022", 2000), ("1", "0.0009", 3000)])
def test_short_interval_at_thousands_of_digits(a, width, dps):
    # The Taylor series gains about five bits per term here, so it needs more
    # than a fixed few hundred terms. Reference: erfc at 200 more digits.
    with mpmath.workdps(dps + 200):
        low = mpmath.mpf(a)
        high = low + mpmath.mpf(width)
        reference = (mpmath.erfc(low / mpmath.sqrt(2)) - mpmath.erfc(high / mpmath.sqrt(2))) / 2
    value = GaussianMixture([1], [0], 1).mass(Interval(low, high), dps=dps)
    with mpmath.workdps(dps + 200):
        assert abs(value / reference - 1) < mpmath.mpf(10) ** (5 - dps)
