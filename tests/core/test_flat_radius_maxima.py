"""Radius searches with flat maxima, against independent searches at 150 digits.

The references locate the maximum by bisection on the sign of the bound's
derivative at 150 digits. They use the closed forms of Theorem 4 and
Corollary 6, written with mpmath's ``ncdf`` and ``npdf``, and share no code
with the library's searches.
"""

import mpmath
import pytest

from isobounds.bounds import maximize_tv_over_radius, maximize_tv_two_gaussians
from isobounds.measures import GaussianMixture
from isobounds.sets import Interval

from _bounds_reference import assert_close


@pytest.fixture(autouse=True)
def _compare_at_100_digits():
    """Arithmetic in the assertions runs at 100 digits (conftest restores the precision)."""
    mpmath.mp.dps = 100


def _bisect_decreasing(slope, low, high, steps=520):
    """Root of a function that goes from positive at ``low`` to negative at ``high``, by bisection at 150 digits."""
    with mpmath.workdps(150):
        low, high = mpmath.mpf(low), mpmath.mpf(high)
        assert slope(low) > 0 > slope(high)
        for _ in range(steps):
            middle = (low + high) / 2
            if slope(middle) > 0:
                low = middle
            else:
                high = middle
        return low


def _two_gaussians_bound(r, D, s, L):
    """Phi(r / L) - 1/2 - (Phi((D/2 + r) / s) - Phi((D/2 - r) / s)) / 2, from the tail side where D/2 > r."""
    a, b = (D / 2 - r) / s, (D / 2 + r) / s
    shell = mpmath.ncdf(-a) - mpmath.ncdf(-b) if a > 0 else mpmath.ncdf(b) - mpmath.ncdf(a)
    return mpmath.ncdf(r / L) - mpmath.mpf(1) / 2 - shell / 2


def _two_gaussians_maximum(D, s, L, r_bracket):
    """Maximum over r of :func:`_two_gaussians_bound`, at the root of its derivative inside ``r_bracket``."""
    D, s, L = mpmath.mpf(D), mpmath.mpf(s), mpmath.mpf(L)

    def slope(r):
        return mpmath.npdf(r / L) / L - (mpmath.npdf((D / 2 + r) / s) + mpmath.npdf((D / 2 - r) / s)) / (2 * s)

    return _two_gaussians_bound(_bisect_decreasing(slope, *r_bracket), D, s, L)


# A maximum that is flat relative to the bound: the search at 20 digits leaves
# log r off by about sqrt(1e-20 |f| / |f''|), far above the polish's first
# stencil of 1e-9, and a polish confined to its stencil stops there. Modes 1e-10 apart with
# L = 1e-10 (|f''| / |f| ~ 2e-8 in log r) came out right to 23 of 30 digits
# (0.499999999723513513673867210949 against ...870539296); the others, with
# the same defect, to 22 of 30 and 87 of 100 digits.
@pytest.mark.parametrize(
    "D, s, L, r_bracket, dps",
    [
        (1e-10, 1, 1e-10, (6e-10, 7e-10), 30),
        (1e-50, 1, 1e-50, (1.4e-49, 1.6e-49), 100),
        (10, 1e-3, 1, (4.99, 4.996), 50),
        (2, 1, 1, (1, 1.2), 100),
    ],
)
def test_two_gaussians_flat_maximum_to_all_digits(D, s, L, r_bracket, dps):
    result = maximize_tv_two_gaussians(0, D, s, L, dps=dps)
    expected = _two_gaussians_maximum(D, s, L, r_bracket)
    assert_close(result.value, expected, mpmath.mpf(10) ** (1 - dps))
    # The value is the bound at the returned radius.
    at_radius = _two_gaussians_bound(result.radius, mpmath.mpf(D), mpmath.mpf(s), mpmath.mpf(L))
    assert_close(result.value, at_radius, mpmath.mpf(10) ** (1 - dps))


def test_radius_search_flat_maximum_with_model_mass():
    # (1/2)[N(-3, 1) + N(3, 1)], A = [-10, 0], rho(A) = 1/2, L = 1e-8: Theorem 4 is
    # Phi(r / L) - 1/2 + (rho - nu(A)) - (1/2)[mass of [-10 - r, -10) and (0, r]], the same stationarity
    # condition as Corollary 6 with D = 6 (the mass beyond -10 adds below 1e-11 of slope
    # at r ~ 7e-8, which the reference includes). A polish confined to its stencil gives 22 of 30 digits.
    lip, dps = 1e-8, 30
    target = GaussianMixture([0.5, 0.5], [-3, 3], 1)
    result = maximize_tv_over_radius(Interval(-10, 0), lip, target=target, model_mass=0.5, dps=dps)

    def bound(r):
        far = (mpmath.ncdf(-7) - mpmath.ncdf(-7 - r) + mpmath.ncdf(-13) - mpmath.ncdf(-13 - r)) / 2
        near = (mpmath.ncdf(-3) - mpmath.ncdf(-3 - r) + mpmath.ncdf(3) - mpmath.ncdf(3 - r)) / 2
        excess = (mpmath.ncdf(-7) + mpmath.ncdf(-13)) / 2  # rho - nu(A), with nu(A) < rho = 1/2
        return mpmath.ncdf(r / lip) - mpmath.mpf(1) / 2 + excess - far - near

    def slope(r):
        shells = mpmath.npdf(7 + r) + mpmath.npdf(13 + r) + mpmath.npdf(3 + r) + mpmath.npdf(3 - r)
        return mpmath.npdf(r / lip) / lip - shells / 2

    assert_close(result.value, bound(_bisect_decreasing(slope, 6.7e-8, 6.8e-8)), mpmath.mpf(10) ** (1 - dps))
    assert_close(result.value, bound(result.radius), mpmath.mpf(10) ** (1 - dps))
