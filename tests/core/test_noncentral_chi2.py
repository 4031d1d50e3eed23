"""Noncentral chi-square masses (balls, complements, annuli) far from the mean and in the tails.

References come from other routes than the library's Poisson series. They
are the three-dimensional closed form of the noncentral chi law and the
exact one-dimensional reduction (both with mpmath at twice the digits), the
Rice density of the two-dimensional case integrated with mpmath.quad, and
scipy.stats.ncx2 at moderate values.
"""

import mpmath
import pytest
import scipy.stats

from isobounds.measures import GaussianMixture, _noncentral_chi2
from isobounds.measures._noncentral_chi2 import ncx2_cdf, ncx2_sf
from isobounds.sets import Annulus, Ball, BallComplement


def relative_error(value, reference):
    with mpmath.workdps(250):
        return abs(mpmath.mpf(value) / mpmath.mpf(reference) - 1)


def ball_mass_3d(delta, radius, dps):
    """``P(|X| <= R)`` and ``P(|X| > R)`` for X ~ N(m, I_3), |m| = delta, by the closed form.

    P(|X| <= R) = Phi(R - delta) - Phi(-R - delta) - [phi(R - delta) - phi(R + delta)] / delta,
    evaluated at twice the digits plus 50 so that its cancellation does not matter.
    """
    with mpmath.workdps(2 * dps + 50):
        delta, radius = mpmath.mpf(delta), mpmath.mpf(radius)
        correction = (mpmath.npdf(radius - delta) - mpmath.npdf(radius + delta)) / delta
        cdf = mpmath.ncdf(radius - delta) - mpmath.ncdf(-radius - delta) - correction
        sf = mpmath.ncdf(delta - radius) + mpmath.ncdf(-radius - delta) + correction
        return cdf, sf


# (distance, radius): ball boundary one sigma inside the mean (mass ~ Phi(-1)), a ball
# 37 sigma short of the mean (mass ~ 1e-300) and one 37 sigma beyond it (complement ~ 1e-300).
FAR_CASES = [
    (10, 9), (10, 1), (10, 47),
    (100, 99), (100, 63), (100, 137),
    (1000, 999), (1000, 963), (1000, 1037),
    (10000, 9999), (10000, 9963), (10000, 10037),
]


@pytest.mark.parametrize("dps", [60, 200])
@pytest.mark.parametrize("distance, radius", FAR_CASES)
def test_far_ball_3d_against_closed_form(distance, radius, dps):
    nu = GaussianMixture([1], [[distance, 0, 0]], 1)
    cdf, sf = ball_mass_3d(distance, radius, dps)
    tolerance = mpmath.mpf(10) ** (3 - dps)
    assert relative_error(nu.mass(Ball((0, 0, 0), radius), dps=dps), cdf) < tolerance
    assert relative_error(nu.mass(BallComplement((0, 0, 0), radius), dps=dps), sf) < tolerance


def test_far_tails_have_the_expected_size():
    # The tail cases of FAR_CASES are near 1e-300 (so they test tails, not rounding of 1).
    for distance, radius in [(10000, 9963), (1000, 963)]:
        cdf, _ = ball_mass_3d(distance, radius, 30)
        assert mpmath.mpf("1e-302") < cdf < mpmath.mpf("1e-297")
    _, sf = ball_mass_3d(10000, 10037, 30)
    assert mpmath.mpf("1e-302") < sf < mpmath.mpf("1e-297")


def test_far_annulus_3d_against_closed_form():
    # A shell 1000 sigma away around the mean, and one 35 to 40 sigma short of it (~1e-270).
    nu = GaussianMixture([1], [[1000, 0, 0]], 1)
    for inner, outer in [(999, 1001), (960, 965)]:
        inner_cdf, _ = ball_mass_3d(1000, inner, 60)
        outer_cdf, _ = ball_mass_3d(1000, outer, 60)
        with mpmath.workdps(200):
            reference = outer_cdf - inner_cdf
        assert relative_error(nu.mass(Annulus((0, 0, 0), inner, outer), dps=60), reference) < mpmath.mpf("1e-57")


@pytest.mark.parametrize("mean, threshold", [(3, 4), (100, 9000), (100, 11000), (1000, 5e5), (1000, "1.25e6"), (0.5, 400)])
def test_one_dimension_reduces_to_an_interval(mean, threshold):
    # With one degree of freedom, X = (Z + m)^2, so P(X <= x) = Phi(sqrt(x) - m) - Phi(-sqrt(x) - m).
    dps = 60
    with mpmath.workdps(2 * dps + 50):
        m, root = mpmath.mpf(mean), mpmath.sqrt(mpmath.mpf(threshold))
        cdf = mpmath.ncdf(root - m) - mpmath.ncdf(-root - m)
        sf = mpmath.ncdf(m - root) + mpmath.ncdf(-root - m)
    with mpmath.workdps(dps):
        df, nc, x = mpmath.mpf(1), mpmath.mpf(mean) ** 2, mpmath.mpf(threshold)
        assert relative_error(ncx2_cdf(df, nc, x), cdf) < mpmath.mpf(10) ** (3 - dps)
        assert relative_error(ncx2_sf(df, nc, x), sf) < mpmath.mpf(10) ** (3 - dps)


@pytest.mark.parametrize("distance, radius", [(100, 99), (1000, 999), (1000, 1010)])
def test_two_dimensions_against_rice_density_quad(distance, radius):
    # |X| for X ~ N(m, I_2) has the Rice density r exp(-(r^2 + delta^2) / 2) I_0(delta r),
    # written as r exp(-(r - delta)^2 / 2) [e^(-delta r) I_0(delta r)] and integrated over [0, R]
    # (or [R, inf) for the complement) with breakpoints every few sigma around delta.
    dps = 40
    with mpmath.workdps(dps + 20):
        delta, r_max = mpmath.mpf(distance), mpmath.mpf(radius)

        def density(r):
            return r * mpmath.exp(-((r - delta) ** 2) / 2 - delta * r) * mpmath.besseli(0, delta * r)

        # The density varies on the scale 1 / |delta - r| near r_max: finer breakpoints there.
        near = [delta + k for k in range(-60, 61, 5)] + [r_max + mpmath.mpf(k) / 4 for k in range(-40, 41)]
        near = sorted(set(near))
        lower = [0] + [p for p in near if 0 < p < r_max] + [r_max]
        upper = [r_max] + [p for p in near if p > r_max] + [mpmath.inf]
        cdf, sf = mpmath.quad(density, lower), mpmath.quad(density, upper)
    nu = GaussianMixture([1], [[0, distance]], 1)
    tolerance = mpmath.mpf(10) ** (5 - dps)
    assert relative_error(nu.mass(Ball((0, 0), radius), dps=dps), cdf) < tolerance
    assert relative_error(nu.mass(BallComplement((0, 0), radius), dps=dps), sf) < tolerance


@pytest.mark.parametrize(
    "df, nc, x",
    [(2, 1, 2), (2, 400, 300), (4, 50, 80), (7, 3, "0.2"), ("2.5", 20, 25), ("0.7", 5, 1), (50, 100, 120), (3, 1e-8, 2)],
)
def test_against_scipy_ncx2(df, nc, x):
    # Non-integer degrees of freedom exercise the fractional shapes of the series.
    with mpmath.workdps(30):
        df_mp, nc_mp, x_mp = mpmath.mpf(df), mpmath.mpf(nc), mpmath.mpf(x)
        cdf, sf = ncx2_cdf(df_mp, nc_mp, x_mp), ncx2_sf(df_mp, nc_mp, x_mp)
    df, nc, x = float(df), float(nc), float(x)
    assert relative_error(cdf, scipy.stats.ncx2.cdf(x, df, nc)) < 1e-10
    assert relative_error(sf, scipy.stats.ncx2.sf(x, df, nc)) < 1e-10


def test_tiny_noncentrality_matches_central_law():
    # nc = 1e-300 changes the central chi-square values by about 1e-300 relative.
    with mpmath.workdps(40):
        df, x = mpmath.mpf(3), mpmath.mpf(2)
        nc = mpmath.mpf("1e-300")
        assert relative_error(ncx2_cdf(df, nc, x), mpmath.gammainc(df / 2, 0, x / 2, regularized=True)) < 1e-38
        assert relative_error(ncx2_sf(df, nc, x), mpmath.gammainc(df / 2, x / 2, mpmath.inf, regularized=True)) < 1e-38


def test_falls_back_when_gammainc_fails(monkeypatch):
    # The incomplete gamma function may raise NoConvergence for large shapes. Simulate it for
    # every shape above 200, so both series take their fallback paths. Each series sums the
    # side of the mean (903 here) where the boundary lies, from a first index whose shape is
    # about 245.
    original = _noncentral_chi2._upper_gamma
    failures = []

    def failing_upper_gamma(shape, x):
        if shape > 200:
            failures.append(shape)
            raise mpmath.libmp.NoConvergence("simulated")
        return original(shape, x)

    monkeypatch.setattr(_noncentral_chi2, "_upper_gamma", failing_upper_gamma)
    nu = GaussianMixture([1], [[30, 0, 0]], 1)
    for radius in ("30.1", "29.9"):
        failures.clear()
        cdf, sf = ball_mass_3d(30, radius, 30)
        assert relative_error(nu.mass(Ball((0, 0, 0), radius)), cdf) < 1e-27
        assert relative_error(nu.mass(BallComplement((0, 0, 0), radius)), sf) < 1e-27
        assert failures


# (distance, radius) of 2-D balls whose boundary lies far from the mean: 1.6e7
# squared units beyond it (summing the cdf directly took minutes) and 1.3e6
# below it (summing the sf directly took 19 s).
SMALL_SIDE_CASES = [(3084, 4033), (2500, 2236)]


@pytest.mark.parametrize("distance, radius", SMALL_SIDE_CASES)
def test_two_dimensional_ball_far_from_mean(distance, radius):
    # For X ~ N(m, I_2) with |m| = a and a boundary at b, the small side has mass
    # sqrt(b / a) Phi(-|b - a|) to leading order (the Marcum Q function's uniform
    # asymptotics), with a relative correction of order 1 / |b - a|, about 1e-6 here.
    target = GaussianMixture([1], [[float(distance), 0.0]], 1)
    inside = target.mass(Ball([0.0, 0.0], float(radius)))
    outside = target.mass(BallComplement([0.0, 0.0], float(radius)))
    small = outside if radius > distance else inside
    with mpmath.workdps(40):
        a, b = mpmath.mpf(distance), mpmath.mpf(radius)
        leading = mpmath.sqrt(b / a) * mpmath.ncdf(-abs(b - a))

    assert relative_error(small, leading) < mpmath.mpf("1e-5")
    assert inside + outside == pytest.approx(1, abs=1e-25)
