"""Far noncentral chi-square tails, thin lenses of balls and float64 densities with extreme standard deviations.

Every reference is computed independently of the code under test: closed
forms of the noncentral chi-square law in one and three dimensions, the
area of the intersection of two discs, or the mixture density written out
with mpmath.
"""

import mpmath
import numpy as np
import pytest

from isobounds import precision
from isobounds.measures import DisconnectedSupport, EmpiricalMeasure, GaussianMixture
from isobounds.measures import _noncentral_chi2
from isobounds.measures._noncentral_chi2 import ncx2_cdf, ncx2_sf
from isobounds.sets import Ball, BallComplement


def _gaussian_upper(z):
    return mpmath.erfc(z / mpmath.sqrt(2)) / 2


def _closed_form(df, distance, radius, dps):
    """``(P(|X| <= R), P(|X| > R))`` for ``X ~ N(m, I_df)``, ``|m| = distance``, df in {1, 3}, written without cancellation."""
    with mpmath.workdps(dps):
        nu, r = mpmath.mpf(distance), mpmath.mpf(radius)
        if df == 1:
            return _gaussian_upper(nu - r) - _gaussian_upper(nu + r), _gaussian_upper(r - nu) + _gaussian_upper(r + nu)
        # The radius |X| has density (r / nu) (phi(r - nu) - phi(r + nu)) in R^3.
        density_term = (mpmath.npdf(r - nu) - mpmath.npdf(r + nu)) / nu
        cdf = _gaussian_upper(nu - r) - _gaussian_upper(nu + r) - density_term
        sf = _gaussian_upper(r - nu) + _gaussian_upper(r + nu) + density_term
        return cdf, sf


def _relative_error(value, reference):
    with mpmath.workdps(80):
        return abs(mpmath.mpf(value) / reference - 1)


# (df, distance, radius): boundaries far beyond the mean with odd degrees of freedom, where the
# shapes a + j are half-integers of millions. Before the gamma series, (3, 3082.25, 4000) did not
# finish in a minute and (3, 1e4, 2e4) took 100 s (mpmath's gammainc failed or stalled). The
# inputs are binary fractions, so that the squares passed to the code are exact.
FAR_ODD_CASES = [(3, 3082.25, 4000), (1, 3082.25, 4000), (3, 10000, 20000), (3, 1000, 1095.5)]


@pytest.mark.parametrize("df, distance, radius", FAR_ODD_CASES)
def test_ncx2_far_tails_odd_df(df, distance, radius):
    cdf_ref, sf_ref = _closed_form(df, distance, radius, 120)
    with mpmath.workdps(40):
        nc, x = mpmath.mpf(distance) ** 2, mpmath.mpf(radius) ** 2
        sf = ncx2_sf(mpmath.mpf(df), nc, x)
        cdf = ncx2_cdf(mpmath.mpf(df), nc, x)
    assert _relative_error(sf, sf_ref) < 1e-38
    assert _relative_error(cdf, cdf_ref) < 1e-38


def test_ncx2_far_below_mean_3d():
    # A ball 1000 standard deviations away whose radius stops 100 short: a mass of 1e-2174.
    cdf_ref, _ = _closed_form(3, 1000, 900, 200)
    with mpmath.workdps(40):
        cdf = ncx2_cdf(mpmath.mpf(3), mpmath.mpf(1000) ** 2, mpmath.mpf(900) ** 2)
    assert _relative_error(cdf, cdf_ref) < 1e-38


def test_mixture_far_ball_complement_3d():
    nu = GaussianMixture([1], [[3082.25, 0, 0]], 1)
    _, sf_ref = _closed_form(3, 3082.25, 4000, 120)
    with precision(30):
        value = nu.mass(BallComplement((0, 0, 0), 4000))
    assert _relative_error(value, sf_ref) < 1e-28


@pytest.mark.parametrize(
    "shape, argument",
    [(16, 1), (16, 16), (16, 17), (16, 100), (16, "1e-5"), ("100.5", 99), ("100.5", 102), (1000, "1000.1"),
     ("10000.5", 10200), ("10000.5", 9700), (20, "19.99"), ("17.5", 5000)],
)
def test_upper_gamma_series_against_mpmath(shape, argument):
    with mpmath.workdps(50):
        value = _noncentral_chi2._upper_gamma(mpmath.mpf(shape), mpmath.mpf(argument))
    with mpmath.workdps(150):
        reference = mpmath.gammainc(mpmath.mpf(shape), mpmath.mpf(argument), mpmath.inf, regularized=True)
    assert _relative_error(value, reference) < 1e-48


def test_upper_gamma_large_shapes():
    # mpmath 1.3.0 took more than 30 s for Q(8000001, 4.75e6). P(8000001, 4.75e6) is below
    # 1e-400000, so Q is 1 to every digit. Q(s, s) is 1/2 - 1 / (3 sqrt(2 pi s)) up to O(1/s).
    with mpmath.workdps(30):
        assert _noncentral_chi2._upper_gamma(mpmath.mpf(8000001), mpmath.mpf("4.75e6")) == 1
        s = mpmath.mpf("2e8") + mpmath.mpf("0.5")
        value = _noncentral_chi2._upper_gamma(s, s)
        expected = mpmath.mpf(1) / 2 - 1 / (3 * mpmath.sqrt(2 * mpmath.pi * s))
        assert abs(value - expected) < 1 / s


def test_series_falls_back_when_the_incomplete_gamma_fails(monkeypatch):
    # Simulate NoConvergence for every shape above 200, so that the fallback paths (1 - cdf, or
    # starting from Q = 0 with a bound) run.
    original = _noncentral_chi2._upper_gamma
    failures = []

    def failing(shape, argument):
        if shape > 200:
            failures.append(shape)
            raise mpmath.libmp.NoConvergence("simulated")
        return original(shape, argument)

    monkeypatch.setattr(_noncentral_chi2, "_upper_gamma", failing)
    for radius in ("30.1", "29.9"):
        failures.clear()
        cdf_ref, sf_ref = _closed_form(3, 30, radius, 80)
        with mpmath.workdps(30):
            nc, x = mpmath.mpf(900), mpmath.mpf(radius) ** 2
            assert _relative_error(ncx2_cdf(mpmath.mpf(3), nc, x), cdf_ref) < 1e-27
            assert _relative_error(ncx2_sf(mpmath.mpf(3), nc, x), sf_ref) < 1e-27
        assert failures


def _lens_area_fraction(r, big_r, distance, dps=300):
    """Area of the intersection of two discs over the area of the first (the circular segment formula)."""
    with mpmath.workdps(dps):
        r, big_r, distance = mpmath.mpf(r), mpmath.mpf(big_r), mpmath.mpf(distance)
        d1 = (distance**2 + r**2 - big_r**2) / (2 * distance)
        d2 = distance - d1

        def segment(radius, offset):
            return radius**2 * mpmath.acos(offset / radius) - offset * mpmath.sqrt(radius**2 - offset**2)

        return (segment(r, d1) + segment(big_r, d2)) / (mpmath.pi * r**2)


@pytest.mark.parametrize("overlap", ["1e-10", "1e-20", "1e-30"])
def test_thin_lens_between_nearly_tangent_discs(overlap):
    # The unit disc at 0 against the disc of radius 2 + overlap at distance 3: a lens of width
    # `overlap`. Computing the cap heights as r - (D^2 + r^2 - R^2) / (2 D) lost 10 of 40 digits
    # at overlap 1e-20 (relative error 1.6e-31).
    nu = DisconnectedSupport([Ball((0, 0), 1), Ball((10, 0), 1)], [1, 0])
    with mpmath.workdps(80):
        radius = 2 + mpmath.mpf(overlap)
    with precision(40):
        value = nu.mass(Ball((3, 0), radius))
    reference = _lens_area_fraction(1, radius, 3)
    assert _relative_error(value, reference) < 1e-38


def test_lens_fractions_3d_lens_volume():
    rng = np.random.default_rng(7)
    for _ in range(20):
        r, big_r = (mpmath.mpf(v) for v in rng.uniform(0.1, 3, size=2))
        distance = mpmath.mpf(rng.uniform(float(abs(r - big_r)), float(r + big_r)))
        nu = DisconnectedSupport([Ball((0, 0, 0), r)], [1])
        with precision(30):
            inside = nu.mass(Ball((distance, 0, 0), big_r))
            outside = nu.mass(BallComplement((distance, 0, 0), big_r))
        with mpmath.workdps(80):
            gap = r + big_r - distance
            volume = mpmath.pi * gap**2 * (
                distance**2 + 2 * distance * (r + big_r) - 3 * (r - big_r) ** 2
            ) / (12 * distance)
            reference = volume / (4 * mpmath.pi * r**3 / 3)
            complement = 1 - reference
        assert _relative_error(inside, reference) < 1e-28
        assert _relative_error(outside, complement) < 1e-28


def _log_density(weights, means, sigmas, x):
    with mpmath.workdps(50):
        terms = [
            mpmath.mpf(w) * mpmath.npdf(mpmath.mpf(x), mpmath.mpf(m), mpmath.mpf(s))
            for w, m, s in zip(weights, means, sigmas)
        ]
        return mpmath.log(mpmath.fsum(terms))


@pytest.mark.parametrize(
    "weights, means, sigmas",
    [([0.5, 0.5], [0, 1000], ["1e-200", "1e200"]), ([1], ["1e200"], ["1e200"]), ([0.25, 0.75], [-1, 2], [3, "1e-160"])],
)
def test_array_logpdf_with_extreme_standard_deviations(weights, means, sigmas):
    # sigma**2 overflowed (1e200) or underflowed to 0 (1e-200), and the array logpdf was NaN.
    nu = GaussianMixture(weights, means, sigmas)
    points = np.array([0.0, 1.0, 1e-201, -1.0])
    values = nu.logpdf(points)
    for point, value in zip(points, values):
        reference = _log_density(weights, means, sigmas, point)
        assert np.isfinite(value)
        assert abs(value - float(reference)) <= 1e-13 * max(1.0, abs(float(reference)))


def test_array_logpdf_2d_tiny_sigma():
    nu = GaussianMixture([0.5, 0.5], [[0, 0], [1, 1]], ["1e-200", 1])
    values = nu.logpdf(np.array([[0.0, 0.0], [1.0, 1.0]]))
    # At the first mean the first component dominates: log(0.5) - 2 log(1e-200) - log(2 pi).
    expected_first = float(mpmath.log(0.5) + 400 * mpmath.log(10) - mpmath.log(2 * mpmath.pi))
    expected_second = float(mpmath.log(0.5) - mpmath.log(2 * mpmath.pi))
    np.testing.assert_allclose(values, [expected_first, expected_second], rtol=1e-14)


def test_empirical_cdf_rejects_nan():
    # searchsorted puts NaN after every sample, so cdf(nan) was 1.
    nu = EmpiricalMeasure(np.array([1, 2, 2, 3], dtype=np.float32))
    with pytest.raises(ValueError, match="x must not contain NaN"):
        nu.cdf(float("nan"))
    with pytest.raises(ValueError, match=r"x\[1\]"):
        nu.cdf(np.array([0.0, np.nan]))
    assert nu.cdf(np.inf) == 1
    np.testing.assert_array_equal(nu.cdf(np.array([-np.inf, 2.0])), [0.0, 0.75])
