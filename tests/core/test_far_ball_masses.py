"""Masses of balls and ball complements far from a Gaussian component's mean (quadrature route).

The Poisson series of ``_noncentral_chi2`` needs about ``sqrt(prec * nc)``
terms, so a ball 1e6 standard deviations away took a minute and one 1e20
away never finished. These cases now go through the one-dimensional
reduction along the mean (``_quadrature``). References: the closed forms of
the noncentral chi law in three and five dimensions (mpmath at more than
twice the digits), the series where it is fast, scipy.stats.ncx2 and Monte
Carlo.
"""

import mpmath
import numpy as np
import pytest
import scipy.stats

from isobounds.measures import GaussianMixture
from isobounds.measures._noncentral_chi2 import _quadrature, _series, _use_quadrature, ncx2_cdf, ncx2_sf
from isobounds.sets import Ball, BallComplement


def relative_error(value, reference):
    with mpmath.workdps(250):
        return abs(mpmath.mpf(value) / mpmath.mpf(reference) - 1)


def _closed_form_dps(dps, delta, radius):
    # The exponent (delta - radius)^2 / 2 needs 2 log10(size) more digits, and the
    # cancellations below up to about 3 log10(size) more.
    return 2 * dps + 5 * int(mpmath.log10(mpmath.mpf(delta) + mpmath.mpf(radius) + 2)) + 50


def ball_masses(dim, delta, radius, dps):
    """``P(|X| <= R)`` and ``P(|X| > R)`` for X ~ N(delta e_1, I_dim), dim 3 or 5, by closed forms.

    dim 3: F3 = Phi(R - delta) - Phi(-R - delta) - [phi(R - delta) - phi(R + delta)] / delta
    (integrate the density of the noncentral chi law with 3 degrees of freedom).
    dim 5: d F_k / d lambda = (F_{k+2} - F_k) / 2 with lambda = delta^2, so
    F5 = F3 + (1 / delta) d F3 / d delta, the derivative written out by hand.
    """
    with mpmath.workdps(_closed_form_dps(dps, delta, radius)):
        d, r = mpmath.mpf(delta), mpmath.mpf(radius)
        low, high = mpmath.npdf(r - d), mpmath.npdf(r + d)
        correction = (low - high) / d
        cdf = mpmath.ncdf(r - d) - mpmath.ncdf(-r - d) - correction
        sf = mpmath.ncdf(d - r) + mpmath.ncdf(-r - d) + correction
        if dim == 5:
            derivative = -low + high - ((r - d) * low + (r + d) * high) / d + (low - high) / d**2
            cdf, sf = cdf + derivative / d, sf - derivative / d
        return cdf, sf


def _args(dim, delta, radius, dps):
    with mpmath.workdps(_closed_form_dps(dps, delta, radius)):
        return mpmath.mpf(dim), mpmath.mpf(delta) ** 2, mpmath.mpf(radius) ** 2


def test_five_dimensional_reference_matches_scipy():
    # Checks the hand-derived d = 5 formula of ball_masses where float64 suffices.
    for delta, radius in [(3, 2), (5, 7), (2, 4)]:
        cdf, sf = ball_masses(5, delta, radius, 20)
        assert relative_error(cdf, scipy.stats.ncx2.cdf(radius**2, 5, delta**2)) < 1e-10
        assert relative_error(sf, scipy.stats.ncx2.sf(radius**2, 5, delta**2)) < 1e-10


# (delta, radius): far balls (cdf), boundaries 3 sigma from the mean, far-outside complements (sf).
FAR_CASES = [
    ("1e3", "500"), ("1e4", "9990"), ("1e5", "5e4"), ("1e6", "5e5"), ("1e6", "999997"), ("1e6", "1000003"),
    ("1e6", "2e6"), ("1e20", "1e-20"), ("1e20", "1"), ("1e20", "5e19"), ("1e20", "100000000000000000003"),
    ("1e3", "1e4"), ("0.5", "1e12"),
]


@pytest.mark.parametrize("dim", [3, 5])
@pytest.mark.parametrize("delta, radius", FAR_CASES)
def test_quadrature_against_closed_forms(dim, delta, radius):
    dps = 30
    cdf, sf = ball_masses(dim, delta, radius, dps)
    df, nc, x = _args(dim, delta, radius, dps)
    with mpmath.workdps(dps):
        kind = "cdf" if x <= df + nc else "sf"
        value = _quadrature(kind, df, nc, x)
    assert relative_error(value, cdf if kind == "cdf" else sf) < mpmath.mpf(10) ** (3 - dps)


@pytest.mark.parametrize("dim", [2, 3, 5, 10, 50])
@pytest.mark.parametrize("delta, radius", [(1e3, 900), (1e4, 9990), (1e4, 10003), (1e3, 2e3)])
def test_quadrature_against_series(dim, delta, radius):
    # The series is rigorous and fast up to 1e4 standard deviations at 15 digits.
    dps = 15
    df, nc, x = _args(dim, delta, radius, dps)
    with mpmath.workdps(dps):
        kind = "cdf" if x <= df + nc else "sf"
        value = _quadrature(kind, df, nc, x)
        reference = _series(kind, df / 2, x / 2, nc / 2)
    assert relative_error(value, reference) < mpmath.mpf(10) ** (3 - dps)


@pytest.mark.parametrize("dim", [2, 5, 10, 50])
def test_quadrature_against_scipy(dim):
    # Boundaries a few sigma from the mean, where scipy.stats.ncx2 is accurate in float64.
    for delta, radius in [(30.0, 27.0), (30.0, 33.0)]:
        df, nc, x = _args(dim, delta, radius, 15)
        with mpmath.workdps(20):
            kind = "cdf" if x <= df + nc else "sf"
            value = _quadrature(kind, df, nc, x)
        law = scipy.stats.ncx2(dim, delta**2)
        assert relative_error(value, law.cdf(radius**2) if kind == "cdf" else law.sf(radius**2)) < 1e-9


def test_quadrature_against_monte_carlo_5d():
    rng = np.random.default_rng(20240611)
    n, delta, radius = 400_000, 40.0, 38.0
    points = rng.standard_normal((n, 5))
    points[:, 0] += delta
    hits = np.count_nonzero(np.sum(points**2, axis=1) <= radius**2)
    estimate, error_bar = hits / n, np.sqrt(hits) / n
    with mpmath.workdps(20):
        value = float(_quadrature("cdf", mpmath.mpf(5), mpmath.mpf(delta) ** 2, mpmath.mpf(radius) ** 2))
    assert abs(value - estimate) < 5 * error_bar


@pytest.mark.parametrize("dim", [2, 3, 5, 10, 50])
def test_far_ball_masses_through_the_mixture(dim):
    # The public route at 1e6 and 1e20 standard deviations (minutes, or never, with the series).
    for distance, radius, complement in [(1e6, 5e5, False), (1e6, 2e6, True), (1e20, 1.0, False)]:
        nu = GaussianMixture([1], [[distance] + [0] * (dim - 1)], 1)
        subset = (BallComplement if complement else Ball)([0] * dim, radius)
        value = nu.mass(subset, dps=20)
        if dim in (3, 5):
            cdf, sf = ball_masses(dim, distance, radius, 20)
            assert relative_error(value, sf if complement else cdf) < 1e-17
        else:
            # Leading order: the mass of the half-space beyond the nearest point, times a
            # factor between 0 and a power of the distance.
            gap = abs(distance - radius)
            log_half_space = float(mpmath.log(mpmath.ncdf(-gap)))
            assert abs(float(mpmath.log(value)) - log_half_space) < 40 * dim


def test_mixture_small_ball_1e20_sigma():
    # This call never finished before the quadrature; 1e-20 is the float 1e-20 here and in the reference.
    nu = GaussianMixture([0.5, 0.5], [[-1, 0, 0], [1, 0, 0]], 1e-20)
    value = nu.mass(Ball([0, 0, 0], 1e-20))
    with mpmath.workdps(200):
        sigma = mpmath.mpf(1e-20)
        cdf, _ = ball_masses(3, 1 / sigma, mpmath.mpf(1e-20) / sigma, 40)
    assert relative_error(value, cdf) < 1e-28


def test_routing_keeps_the_series_where_it_is_fast():
    with mpmath.workdps(30):
        three = mpmath.mpf(3)
        assert not _use_quadrature(three, mpmath.mpf(10) ** 6, mpmath.mpf(9) ** 6)
        assert _use_quadrature(three, mpmath.mpf(10) ** 12, mpmath.mpf(10) ** 11)
        assert not _use_quadrature(mpmath.mpf(1), mpmath.mpf(10) ** 12, mpmath.mpf(10) ** 11)


def test_ncx2_functions_at_1e20_sigma():
    cdf, sf = ball_masses(3, "1e20", "5e19", 30)
    df, nc, x = _args(3, "1e20", "5e19", 30)
    with mpmath.workdps(30):
        assert relative_error(ncx2_cdf(df, nc, x), cdf) < 1e-27
        assert relative_error(ncx2_sf(df, nc, x), sf) < 1e-27
