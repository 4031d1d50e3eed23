"""Target measures: masses against independent computations, tails, identities, bad input.

Reference values come from other routes than the library's. They are
mpmath.quad of the density at a higher precision, closed forms evaluated
with mpmath at 100 or more digits (three-dimensional noncentral chi law,
circular segments, spherical caps and lenses), scipy.stats, and Monte Carlo
with a 5-sigma error bar.
"""

import fractions
import math

import mpmath
import numpy as np
import pytest
import scipy.stats
from hypothesis import example, given, settings
from hypothesis import strategies as st

import isobounds
from isobounds.measures import DisconnectedSupport, EmpiricalMeasure, GaussianMixture, UnivariateDistribution, _noncentral_chi2
from isobounds.sets import (
    Annulus,
    Ball,
    BallComplement,
    EmptySet,
    HalfSpace,
    Interval,
    IntervalUnion,
    SetUnion,
    Slab,
    WholeSpace,
)


def relative_error(value, reference):
    with mpmath.workdps(60):
        return abs(mpmath.mpf(value) / mpmath.mpf(reference) - 1)


TIGHT = mpmath.mpf("1e-27")  # a few units in the 30th digit


def assert_close(value, reference, tolerance=TIGHT):
    error = relative_error(value, reference)
    assert error < tolerance, f"value={mpmath.nstr(value, 20)} reference={mpmath.nstr(reference, 20)} error={error}"


def monte_carlo_check(value, hits, n):
    """Assert that ``hits / n`` is within 5 standard errors of ``value``."""
    p = float(value)
    standard_error = math.sqrt(max(p * (1 - p), 1e-12) / n)
    assert abs(hits / n - p) < 5 * standard_error, f"Monte Carlo {hits / n} against {p}"


# ---------------------------------------------------------------------------
# Gaussian mixtures in one dimension.
# ---------------------------------------------------------------------------

def scaled_quad(f, points):
    """mpmath.quad of ``f`` divided by its largest value at the finite break points.

    mpmath.quad stops on an absolute error estimate, so an integrand of size
    1e-350 is returned with few correct digits unless it is scaled to about 1.
    """
    scale = max(abs(f(p)) for p in points if mpmath.isfinite(p))
    return scale * mpmath.quad(lambda x: f(x) / scale, points)


def mixture_density_quad(weights, means, sigmas, a, b, dps=50):
    """Mass of [a, b] by mpmath.quad of the mixture density, break points at the means."""
    with mpmath.workdps(dps):
        def density(x):
            return mpmath.fsum(
                mpmath.mpf(w) * mpmath.npdf(x, mpmath.mpf(m), mpmath.mpf(s)) for w, m, s in zip(weights, means, sigmas)
            )

        a, b = mpmath.mpf(a), mpmath.mpf(b)
        points = sorted({a, b} | {mpmath.mpf(m) for m in means if a < mpmath.mpf(m) < b})
        return scaled_quad(density, points)


@pytest.mark.parametrize(
    "a, b",
    [(-1, 2), (0.25, 0.5), (-7, -3), (3, 9), (-20, 20)],
)
def test_mixture_interval_against_quad(a, b):
    weights, means, sigmas = ["0.2", "0.5", "0.3"], [-3, 0, "2.5"], ["0.5", 1, 2]
    nu = GaussianMixture(weights, means, sigmas)
    assert_close(nu.mass(Interval(a, b)), mixture_density_quad(weights, means, sigmas, a, b))


def test_mixture_modes_100_sigma_apart_keep_far_component():
    # nu = (N(-m, 1) + N(m, 1)) / 2 with m = 100: nu([-m/2, m/2]) = Phi(-m/2) - Phi(-3m/2), both
    # components contributing equally. Reference from erfc at 100 digits:
    # (erfc(50 / sqrt 2) - erfc(150 / sqrt 2)) / 2.
    m = 100
    nu = GaussianMixture.two_gaussians(-m, m, 1)
    with mpmath.workdps(100):
        reference = (mpmath.erfc(50 / mpmath.sqrt(2)) - mpmath.erfc(150 / mpmath.sqrt(2))) / 2
    value = nu.mass(Interval(-m / 2, m / 2))
    assert_close(value, reference)

    # Each component contributes half of the mass: neither is lost to cancellation.
    left_only = GaussianMixture([1], [-m], 1).mass(Interval(-m / 2, m / 2))
    right_only = GaussianMixture([1], [m], 1).mass(Interval(-m / 2, m / 2))
    with mpmath.workdps(60):
        assert_close(value, (left_only + right_only) / 2)
    assert_close(left_only, reference)


def test_mixture_unequal_weights_far_apart_against_quad():
    weights, means, sigmas = ["0.9", "0.1"], [0, 60], [1, 3]
    nu = GaussianMixture(weights, means, sigmas)
    reference = mixture_density_quad(weights, means, sigmas, 10, 30)
    assert_close(nu.mass(Interval(10, 30)), reference)


def test_mass_near_1e_300():
    # Phi_c(x) = 1e-300 at x = 37.0471042627369... (Phi_c_inv at 60 digits); the upper half-line
    # from there has mass 1e-300 to that precision, the lower one 1 - 1e-300.
    with isobounds.precision(60):
        x = isobounds.Phi_c_inv("1e-300")
        upper = Interval(x, np.inf)
        lower_half_space = HalfSpace(1, x)
    nu = GaussianMixture([1], [0], 1)
    assert_close(nu.mass(upper), "1e-300")
    assert_close(nu.mass(lower_half_space.complement()), "1e-300")
    with mpmath.workdps(100):
        assert abs(nu.mass(lower_half_space, dps=50) - (1 - mpmath.mpf("1e-300"))) < mpmath.mpf("1e-49")


def test_mass_deep_tail_below_double_range():
    # Phi(-40) - Phi(-41) by mpmath.quad of the density at 60 digits; about 3.6e-350.
    nu = GaussianMixture([1], [0], 1)
    reference = mixture_density_quad([1], [0], [1], -41, -40, dps=60)
    value = nu.mass(Interval(-41, -40))
    assert value < mpmath.mpf("1e-349")
    assert_close(value, reference)


def test_interval_union_is_sum_of_pieces_quad():
    weights, means, sigmas = ["0.5", "0.5"], [-2, 2], [1, 1]
    nu = GaussianMixture(weights, means, sigmas)
    union = IntervalUnion([Interval(-5, -1), Interval(0.5, 1), Interval(3, np.inf)])
    with mpmath.workdps(50):
        reference = (
            mixture_density_quad(weights, means, sigmas, -5, -1)
            + mixture_density_quad(weights, means, sigmas, 0.5, 1)
            + mixture_density_quad(weights, means, sigmas, 3, mpmath.inf)
        )
    assert_close(nu.mass(union), reference)


def test_working_precision_and_dps_keyword():
    # Phi(1) - Phi(-1) = erf(1 / sqrt 2) at 80 digits.
    nu = GaussianMixture([1], [0], 1)
    with mpmath.workdps(90):
        reference = mpmath.erf(1 / mpmath.sqrt(2))
    value = nu.mass(Interval(-1, 1), dps=80)
    with mpmath.workdps(90):
        assert abs(value / reference - 1) < mpmath.mpf("1e-78")
    with isobounds.precision(50):
        value_50 = nu.mass(Interval(-1, 1))
    with mpmath.workdps(90):
        assert abs(value_50 / reference - 1) < mpmath.mpf("1e-48")
        assert abs(value_50 / reference - 1) > mpmath.mpf("1e-70")  # rounded to 50 digits, not more
    assert isinstance(value, mpmath.mpf)


def test_thin_interval_far_from_mean_keeps_width():
    # Width 1e-25 at 6.7 sigma from a mean of 0.3 (sigma 0.7): the standardized endpoints must not
    # be rounded at the working precision. Reference: scaled quad of the density at 100 digits.
    nu = GaussianMixture([1], ["0.3"], "0.7")
    with isobounds.precision(80):
        interval = Interval("5", "5.0000000000000000000000001")
    with mpmath.workdps(100):
        density = lambda x: mpmath.npdf(x, mpmath.mpf("0.3"), mpmath.mpf("0.7"))  # noqa: E731
        reference = scaled_quad(density, [interval.a, interval.b])
    assert_close(nu.mass(interval), reference)


def test_thin_slab_far_from_mean_keeps_width():
    # <u, X> ~ N(<u, m>, 0.7^2) with u = (3, 4) / 5; slab of width 1e-25 at 5.
    nu = GaussianMixture([1], [["0.3", "0.1"]], "0.7")
    with isobounds.precision(80):
        slab = Slab((3, 4), 25, "25.0000000000000000000000005")
    with mpmath.workdps(100):
        center = (3 * mpmath.mpf("0.3") + 4 * mpmath.mpf("0.1")) / 5
        density = lambda t: mpmath.npdf(t, center, mpmath.mpf("0.7"))  # noqa: E731
        reference = scaled_quad(density, [slab.lower, slab.upper])
    assert_close(nu.mass(slab), reference)


# ---------------------------------------------------------------------------
# Gaussian mixtures in R^d: half-spaces, slabs.
# ---------------------------------------------------------------------------

def half_space_2d_quad(mean, sigma, normal, offset, dps=50):
    """N(mean, sigma^2 I_2) mass of {n1 x + n2 y <= offset} as a 1D quad over x (n2 > 0)."""
    with mpmath.workdps(dps):
        m1, m2 = (mpmath.mpf(c) for c in mean)
        n1, n2 = (mpmath.mpf(c) for c in normal)
        s, offset = mpmath.mpf(sigma), mpmath.mpf(offset)

        def integrand(x):
            y_max = (offset - n1 * x) / n2
            return mpmath.npdf(x, m1, s) * mpmath.ncdf((y_max - m2) / s)

        # The integrand peaks near the point of the line closest to the mean.
        length2 = n1 * n1 + n2 * n2
        foot = m1 + n1 * (offset - n1 * m1 - n2 * m2) / length2
        return scaled_quad(integrand, sorted([-mpmath.inf, m1, foot, mpmath.inf]))


@pytest.mark.parametrize("offset", [-1, 2, 40])
def test_half_space_2d_against_quad(offset):
    normal = (1, 2)
    weights, means, sigmas = ["0.3", "0.7"], [[0, 0], [4, -3]], [1, "1.5"]
    nu = GaussianMixture(weights, means, sigmas)
    with mpmath.workdps(50):
        reference = mpmath.fsum(
            mpmath.mpf(w) * half_space_2d_quad(m, s, normal, offset) for w, m, s in zip(weights, means, sigmas)
        )
    assert_close(nu.mass(HalfSpace(normal, offset)), reference)


def test_half_space_far_tail_and_complement():
    # Complement of {<n, x> <= 40} with n = (1, 2): the half-space {<n, x> >= 40}, of mass about 7e-72.
    nu = GaussianMixture([1], [[0, 0]], 1)
    half_space = HalfSpace((1, 2), 40)
    with mpmath.workdps(60):
        # <u, X> ~ N(0, 1) with u = n / sqrt 5: the tail beyond 40 / sqrt 5, integrated numerically.
        t = 40 / mpmath.sqrt(5)
        reference = scaled_quad(mpmath.npdf, [t, t + 1, mpmath.inf])
    complement_mass = nu.mass(half_space.complement())
    assert_close(complement_mass, reference)
    assert complement_mass < mpmath.mpf("1e-60")


def test_slab_against_monte_carlo_and_quad():
    nu = GaussianMixture(["0.5", "0.5"], [[0, 0, 0], [2, 1, 0]], [1, "0.5"])
    slab = Slab((1, 1, 1), 0.5, 2)
    value = nu.mass(slab)

    # Projection route by quad: <u, X> for u = (1, 1, 1)/sqrt 3 mixes N(0, 1) and N(3/sqrt 3, 0.25).
    with mpmath.workdps(50):
        lower, upper = 0.5 / mpmath.sqrt(3), 2 / mpmath.sqrt(3)
        density = lambda t: (mpmath.npdf(t) + mpmath.npdf(t, mpmath.sqrt(3), mpmath.mpf("0.5"))) / 2  # noqa: E731
        reference = mpmath.quad(density, [lower, upper])
    assert_close(value, reference)

    samples = nu.sample(200_000, np.random.default_rng(1))
    monte_carlo_check(value, int(slab.contains(samples).sum()), len(samples))


# ---------------------------------------------------------------------------
# Gaussian mixtures in R^d: balls, annuli, ball complements.
# ---------------------------------------------------------------------------

def ball_mass_3d(delta, radius, dps=200):
    """P(|X| <= R) and P(|X| > R) for X ~ N(delta e1, I_3), closed form at ``dps`` digits.

    |X| has density (r / delta) [phi(r - delta) - phi(r + delta)] on r > 0, whose integral is
    Phi(R - delta) - Phi(-R - delta) - [phi(R - delta) - phi(R + delta)] / delta.
    """
    with mpmath.workdps(dps):
        delta, radius = mpmath.mpf(delta), mpmath.mpf(radius)
        correction = (mpmath.npdf(radius - delta) - mpmath.npdf(radius + delta)) / delta
        cdf = mpmath.ncdf(radius - delta) - mpmath.ncdf(-radius - delta) - correction
        sf = mpmath.ncdf(delta - radius) + mpmath.ncdf(-radius - delta) + correction
        return cdf, sf


@pytest.mark.parametrize(
    "delta, radius",
    [("0.5", 1), (3, 2), (100, 1), ("0.5", 40), (30, 28)],
)
def test_ball_3d_against_closed_form(delta, radius):
    # Ball far away (100 sigma, mass ~2e-2133) and a ball complement far in its tail (~1e-339) included.
    nu = GaussianMixture([1], [[delta, 0, 0]], 1)
    cdf, sf = ball_mass_3d(delta, radius)
    assert_close(nu.mass(Ball((0, 0, 0), radius)), cdf)
    assert_close(nu.mass(BallComplement((0, 0, 0), radius)), sf)


def test_ball_3d_scaled_sigma_and_offset_center():
    # Shift and scale: |X - c| / s with X ~ N(m, s^2 I), |m - c| / s = delta, R / s = radius.
    nu = GaussianMixture([1], [[1, 2, 3]], "0.5")
    center = (1, 2 + 1.5, 3 + 2)  # |m - c| = 2.5, so delta = 5
    cdf, sf = ball_mass_3d(5, 8)
    assert_close(nu.mass(Ball(center, 4)), cdf)
    assert_close(nu.mass(BallComplement(center, 4)), sf)


def test_ball_when_gammainc_fails_near_transition(monkeypatch):
    # The incomplete gamma function may fail for large shapes (mpmath.gammainc raises
    # NoConvergence from about 4e5 near y in mpmath 1.3.0), which are too slow to reach in a
    # test. The test simulates it for every shape above 100, so the series must move its
    # starting index or switch to the other tail. Reference: the 3D closed form.
    original = _noncentral_chi2._upper_gamma
    failures = []

    def failing_upper_gamma(shape, x):
        if shape > 100:
            failures.append(shape)
            raise mpmath.libmp.NoConvergence("simulated")
        return original(shape, x)

    monkeypatch.setattr(_noncentral_chi2, "_upper_gamma", failing_upper_gamma)
    nu = GaussianMixture([1], [[30, 0, 0]], 1)

    # Noncentrality 900, mean 903: radius 40 (x = 1600) puts the boundary above the mean, where the
    # upper tail is summed, and radius 22 (x = 484) below it, where the distribution function is.
    cdf, _ = ball_mass_3d(30, 40)
    assert_close(nu.mass(Ball((0, 0, 0), 40)), cdf)
    assert len(failures) > 0
    failures.clear()

    _, sf = ball_mass_3d(30, 22)
    assert_close(nu.mass(BallComplement((0, 0, 0), 22)), sf)
    assert len(failures) > 0


@pytest.mark.parametrize("d, delta, radius", [(2, 1, 2), (2, 3, "0.5"), (5, 2, 3), (4, 0, 2), (10, 4, 5)])
def test_ball_against_scipy_ncx2(d, delta, radius):
    nu = GaussianMixture([1], [[delta] + [0] * (d - 1)], 1)
    ball = Ball([0] * d, radius)
    x, nc = float(radius) ** 2, float(delta) ** 2
    assert relative_error(nu.mass(ball), scipy.stats.ncx2.cdf(x, d, nc) if nc else scipy.stats.chi2.cdf(x, d)) < 1e-12
    assert relative_error(nu.mass(ball.complement()), scipy.stats.ncx2.sf(x, d, nc) if nc else scipy.stats.chi2.sf(x, d)) < 1e-12


def test_ball_2d_against_quad():
    # Condition on the coordinate t along the mean: P = int phi(t - delta) P(chi2_1 <= R^2 - t^2) dt.
    delta, radius = mpmath.mpf(2), mpmath.mpf("2.5")
    with mpmath.workdps(50):
        integrand = lambda t: mpmath.npdf(t - delta) * mpmath.erf(mpmath.sqrt((radius**2 - t * t) / 2))  # noqa: E731
        reference = mpmath.quad(integrand, [-radius, delta, radius])
    nu = GaussianMixture([1], [[0, 2]], 1)
    assert_close(nu.mass(Ball((0, 0), radius)), reference)


def test_ball_mixture_against_monte_carlo():
    nu = GaussianMixture(["0.25", "0.75"], [[0, 0, 0, 0], [1, 1, 0, 0]], [1, "0.5"])
    ball = Ball((0.5, 0.5, 0, 0), 1.2)
    samples = nu.sample(200_000, 7)
    monte_carlo_check(nu.mass(ball), int(ball.contains(samples).sum()), len(samples))


def test_annulus_thin_shell_keeps_precision():
    # Shell of width 1e-20 around the sphere of radius 2 in R^3: mass ~ f(2) * 1e-20 with f the
    # density of |X|; reference from the 3D closed form at 200 digits (no cancellation there).
    nu = GaussianMixture([1], [[1, 0, 0]], 1)
    with isobounds.precision(60):  # keep all digits of the outer radius
        annulus = Annulus((0, 0, 0), 2, "2.00000000000000000001")
    with mpmath.workdps(200):
        inner, _ = ball_mass_3d(1, 2)
        outer, _ = ball_mass_3d(1, mpmath.mpf("2.00000000000000000001"))
        reference = outer - inner
    assert_close(nu.mass(annulus), reference)


def test_one_dimensional_balls_are_intervals():
    nu = GaussianMixture(["0.4", "0.6"], [-1, 3], [1, 2])
    assert nu.mass(Ball(1, 2)) == nu.mass(Interval(-1, 3))
    assert nu.mass(Annulus(1, 1, 2)) == nu.mass(IntervalUnion([Interval(-1, 0), Interval(2, 3)]))
    assert nu.mass(BallComplement(1, 2)) == nu.mass(Interval(-1, 3).complement())
    assert nu.mass(HalfSpace(-2, 2)) == nu.mass(Interval(-1, np.inf))


# ---------------------------------------------------------------------------
# Set algebra: extension = set + shell, set + complement = 1 with the tail kept.
# ---------------------------------------------------------------------------

ALGEBRA_CASES = [
    (GaussianMixture.two_gaussians(-5, 5, 1), Interval(-2.5, 2.5), 1),
    (GaussianMixture.two_gaussians(-100, 100, 1), Interval(-50, 50), "0.5"),
    (GaussianMixture.two_gaussians(-5, 5, 1), IntervalUnion([Interval(-9, -6), Interval(-1, 4)]), 2),
    (GaussianMixture.two_gaussians((0, 0), (30, 0), 1), HalfSpace((1, 0), 15), "0.25"),
    (GaussianMixture.two_gaussians((0, 0), (3, 4), 1, weight="0.2"), Slab((3, 4), 2, 5), 1),
    (GaussianMixture.two_gaussians((0, 0, 0), (3, 0, 0), 1), Ball((0, 0, 0), 1), "0.5"),
    (GaussianMixture.two_gaussians((0, 0), (0, 50), 1), Ball((0, 0), 20), 3),
    (GaussianMixture.two_gaussians((0, 0), (0, 5), 1), BallComplement((0, 0), 3), 1),
    (GaussianMixture.two_gaussians((0, 0), (0, 5), 1), Annulus((0, 0), 2, 3), "0.5"),
]


@pytest.mark.parametrize("nu, set_, r", ALGEBRA_CASES)
def test_extension_equals_set_plus_shell(nu, set_, r):
    with isobounds.precision(40):
        extended = nu.mass(set_.extension(r))
        split = nu.mass(set_) + nu.mass(set_.shell(r))
        assert relative_error(extended, split) < mpmath.mpf("1e-37")


@pytest.mark.parametrize("nu, set_, r", ALGEBRA_CASES)
def test_set_plus_complement_is_one(nu, set_, r):
    if isinstance(set_, (Slab, Annulus)):
        complement = set_.complement()
        assert isinstance(complement, SetUnion)
    with isobounds.precision(40):
        total = nu.mass(set_) + nu.mass(set_.complement())
        assert abs(total - 1) < mpmath.mpf("1e-38")


def test_complement_keeps_tiny_tail():
    # Ball of radius 40 around the mean in R^3: the complement has mass ~1e-345, not 0.
    nu = GaussianMixture([1], [[0, 0, 0]], 1)
    _, reference = ball_mass_3d("1e-30", 40)  # delta -> 0 limit taken at a tiny delta
    with mpmath.workdps(60):
        # Central chi(3) tail: P(|X| > R) = 2 Phi(-R) + 2 R phi(R).
        exact = 2 * mpmath.ncdf(-40) + 2 * 40 * mpmath.npdf(40)
    value = nu.mass(BallComplement((0, 0, 0), 40))
    assert_close(value, exact)
    assert relative_error(reference, exact) < mpmath.mpf("1e-25")


def test_empty_whole_and_union_masses():
    line = GaussianMixture([1], [0], 1)
    assert line.mass(IntervalUnion([])) == 0
    assert line.mass(EmptySet(1)) == 0
    assert line.mass(Interval(-np.inf, np.inf)) == 1

    nu = GaussianMixture(["0.5", "0.5"], [[0, 0], [4, 0]], 1)
    assert nu.mass(EmptySet(2)) == 0
    assert nu.mass(WholeSpace(2)) == 1
    union = SetUnion([Ball((0, 0), 1), Ball((4, 0), 1)])
    with mpmath.workdps(40):
        assert_close(nu.mass(union), nu.mass(Ball((0, 0), 1)) + nu.mass(Ball((4, 0), 1)))


# ---------------------------------------------------------------------------
# Densities, distribution functions, sampling, properties.
# ---------------------------------------------------------------------------

def test_mixture_pdf_cdf_sf():
    nu = GaussianMixture(["0.3", "0.7"], [-1, 2], [1, "0.5"])
    with mpmath.workdps(50):
        pdf_reference = mpmath.mpf("0.3") * mpmath.npdf(0.5, -1, 1) + mpmath.mpf("0.7") * mpmath.npdf(0.5, 2, 0.5)
        cdf_reference = mpmath.mpf("0.3") * mpmath.ncdf(0.5, -1, 1) + mpmath.mpf("0.7") * mpmath.ncdf(0.5, 2, 0.5)
        sf_far = mpmath.mpf("0.3") * mpmath.ncdf(-41) + mpmath.mpf("0.7") * mpmath.ncdf(-76)
        log_pdf_reference = mpmath.log(pdf_reference)
    assert_close(nu.pdf(0.5), pdf_reference)
    assert_close(nu.cdf(0.5), cdf_reference)
    assert_close(nu.sf(40), sf_far)
    assert_close(nu.logpdf(0.5), log_pdf_reference)
    np.testing.assert_allclose(nu.pdf(np.array([0.5, 1.0])), [float(pdf_reference), float(nu.pdf(1.0))], rtol=1e-13)
    np.testing.assert_allclose(nu.cdf([0.5]), [float(cdf_reference)], rtol=1e-13)
    assert np.isfinite(nu.logpdf(np.array([1e3]))).all()


def test_mixture_logpdf_multivariate():
    nu = GaussianMixture(["0.5", "0.5"], [[0, 0], [3, 0]], [1, 2])
    x = np.array([[1.0, 1.0], [50.0, -40.0]])
    reference = [
        float(mpmath.log(0.5 * mpmath.npdf(1) ** 2 + 0.5 * mpmath.npdf(-2, 0, 2) * mpmath.npdf(1, 0, 2))),
        float(mpmath.log(0.5 * mpmath.npdf(50) * mpmath.npdf(-40) + 0.5 * mpmath.npdf(47, 0, 2) * mpmath.npdf(-40, 0, 2))),
    ]
    np.testing.assert_allclose(nu.logpdf(x), reference, rtol=1e-12)


def test_mixture_sample_moments():
    nu = GaussianMixture(["0.2", "0.8"], [[-5, 0], [5, 1]], [1, 2])
    samples = nu.sample(100_000, np.random.default_rng(3))
    assert samples.shape == (100_000, 2)
    # E[X_1] = 0.2 * -5 + 0.8 * 5 = 3, sd of the mean below 0.02.
    assert abs(samples[:, 0].mean() - 3) < 5 * samples[:, 0].std() / math.sqrt(len(samples))
    assert GaussianMixture([1], [0], 1).sample(5, 0).shape == (5,)
    np.testing.assert_array_equal(nu.sample(10, 42), nu.sample(10, np.random.default_rng(42)))


def test_mixture_properties_and_two_gaussians():
    nu = GaussianMixture.two_gaussians((0, 1), (2, 3), "0.5", weight="0.25")
    assert nu.dim == 2
    assert nu.n_components == 2
    assert nu.weights == (mpmath.mpf("0.25"), mpmath.mpf("0.75"))
    assert nu.means == ((0, 1), (2, 3))
    assert nu.sigmas == (mpmath.mpf("0.5"), mpmath.mpf("0.5"))
    np.testing.assert_array_equal(nu.means_array, [[0, 1], [2, 3]])
    scalar = GaussianMixture.two_gaussians(-1, 1, 2)
    assert scalar.dim == 1
    assert scalar.means == ((-1,), (1,))


# ---------------------------------------------------------------------------
# UnivariateDistribution (float64).
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("a, b", [(-1, 2), (30, 31), (-31, -30), (5, np.inf), (-np.inf, -8)])
def test_univariate_normal_tails(a, b):
    # scipy's norm.sf is accurate to about 1e-13 relative in the far tail (scipy 1.17).
    nu = UnivariateDistribution(scipy.stats.norm())
    reference = GaussianMixture([1], [0], 1).mass(Interval(a, b))
    assert relative_error(nu.mass(Interval(a, b)), reference) < 1e-12


def test_univariate_student_against_quad():
    frozen = scipy.stats.t(df=3, loc=1, scale=2)
    nu = UnivariateDistribution(frozen)
    with mpmath.workdps(40):
        def density(x):
            z = (x - 1) / 2
            return mpmath.gamma(2) / (mpmath.sqrt(3 * mpmath.pi) * mpmath.gamma(1.5)) * (1 + z * z / 3) ** -2 / 2

        for a, b in [(-3, 0), (0.5, 1.5), (100, 200), (1e4, mpmath.inf)]:
            reference = mpmath.quad(density, [a, b])
            assert relative_error(nu.mass(Interval(a, b)), reference) < 1e-11


def test_univariate_union_pdf_sample():
    frozen = scipy.stats.gamma(2.5)
    nu = UnivariateDistribution(frozen)
    union = IntervalUnion([Interval(0.5, 1), Interval(3, 4)])
    expected = (frozen.cdf(1) - frozen.cdf(0.5)) + (frozen.sf(3) - frozen.sf(4))
    assert relative_error(nu.mass(union), expected) < 1e-13
    assert relative_error(nu.pdf(2), frozen.pdf(2)) < 1e-15
    samples = nu.sample(50_000, 5)
    monte_carlo_check(nu.mass(union), int(union.contains(samples).sum()), len(samples))


@pytest.mark.parametrize("a, width", [("0.5", "1e-17"), ("-1e-10", "2e-10"), ("3", "1e-9"), ("-30", "1e-20")])
def test_univariate_short_intervals(a, width):
    # The two tails agree to more digits than float64 has; the mass comes from the density.
    nu = UnivariateDistribution(scipy.stats.norm())
    with mpmath.workdps(60):
        low = mpmath.mpf(a)
        high = low + mpmath.mpf(width)
        reference = mpmath.quad(mpmath.npdf, [low, high])
        value = nu.mass(Interval(low, high))
    assert relative_error(value, reference) < 1e-12


@pytest.mark.parametrize("a, b", [(-6, 14.85), (-30, 9), (-9, 37)])
def test_univariate_complement_of_large_mass(a, b):
    # One minus an interval around the median is the sum of its two tails.
    nu = UnivariateDistribution(scipy.stats.norm())
    with mpmath.workdps(60):
        reference = mpmath.ncdf(a) + mpmath.ncdf(-b)
        value = 1 - nu.mass(Interval(a, b), dps=60)
    assert relative_error(value, reference) < 1e-12


@pytest.mark.parametrize("frozen, a, b, mass", [
    (scipy.stats.cauchy(), 1e200, 1.0001e200, lambda a, b: (mpmath.atan(1 / a) - mpmath.atan(1 / b)) / mpmath.pi),
    (scipy.stats.cauchy(), -1.0001e200, -1e200, lambda a, b: (mpmath.atan(-1 / b) - mpmath.atan(-1 / a)) / mpmath.pi),
])
def test_univariate_heavy_tail_thin_interval(frozen, a, b, mass):
    # The density underflows to 0 there, while the difference of the tails is accurate.
    with mpmath.workdps(60):
        reference = mass(mpmath.mpf(a), mpmath.mpf(b))
    assert relative_error(UnivariateDistribution(frozen).mass(Interval(a, b)), reference) < 1e-10


def test_univariate_thin_shell_kl_bound_finite():
    # The identity map pushes N(0, 1) to the target itself, so the true KL and TV are 0.
    # A shell of width 1e-17 used to get mass 0 and the KL bound +inf.
    nu = UnivariateDistribution(scipy.stats.norm())
    region = Interval(-np.inf, 0.5)
    model_mass = isobounds.Phi(0.5, dps=60)
    assert isobounds.kl_lower_bound(region, "1e-17", 1, target=nu, model_mass=model_mass) <= 1e-30
    assert isobounds.tv_lower_bound(region, "1e-17", 1, target=nu, model_mass=model_mass) <= 1e-15


@pytest.mark.parametrize("t", [-8.0, -6.0, -2.5, 0.0, 1.5, 6.0])
@pytest.mark.parametrize("r", ["1e-17", "1e-6", "1", "5"])
def test_univariate_identity_bounds_near_zero(t, r):
    # The stated float64 rounding: about 1e-17 for TV and 1e-32 for KL, where the truth is 0.
    nu = UnivariateDistribution(scipy.stats.norm())
    region = Interval(-np.inf, t)
    model_mass = isobounds.Phi(t, dps=60)
    assert isobounds.kl_lower_bound(region, r, 1, target=nu, model_mass=model_mass) <= 1e-31
    assert isobounds.tv_lower_bound(region, r, 1, target=nu, model_mass=model_mass) <= 1e-16


def test_univariate_kl_radius_search_matches_mixture():
    # The float64 target and the exact Gaussian mixture give the same optimised KL bound.
    region = Interval(-np.inf, 0.5)
    exact = isobounds.maximize_kl_over_radius(region, 1e-12, target=GaussianMixture([1], [0], 1), model_mass=0.3)
    approximate = isobounds.maximize_kl_over_radius(region, 1e-12, target=UnivariateDistribution(scipy.stats.norm()),
                                             model_mass=0.3)
    assert mpmath.isfinite(approximate.value)
    assert relative_error(approximate.value, exact.value) < 1e-10


# ---------------------------------------------------------------------------
# DisconnectedSupport.
# ---------------------------------------------------------------------------

def test_disconnected_1d_exact_lengths():
    nu = DisconnectedSupport([Interval(0, 2), Interval(5, 6), Ball(10, 1)], ["0.5", "0.25", "0.25"])
    # [1, 5.5]: half of the first piece and half of the second: 0.25 + 0.125.
    assert nu.mass(Interval(1, 5.5)) == mpmath.mpf("0.375")
    # Shell of [0, 2] at r = 3.5: [5, 5.5] from the second piece: 0.125.
    assert nu.mass(Interval(0, 2).shell(3.5)) == mpmath.mpf("0.125")
    assert nu.mass(HalfSpace(-1, -9.5)) == mpmath.mpf("0.1875")
    np.testing.assert_array_equal(nu.pairwise_distances(), [[0, 3, 7], [3, 0, 3], [7, 3, 0]])
    assert nu.cdf(1) == mpmath.mpf("0.25")
    np.testing.assert_allclose(nu.cdf([1, 5.5, 20]), [0.25, 0.625, 1.0])
    np.testing.assert_allclose(nu.pdf([1, 5.5, 3]), [0.25, 0.25, 0.0])
    np.testing.assert_allclose(nu.logpdf([1, 3]), [math.log(0.25), -np.inf])


def test_disconnected_disc_segment():
    # Unit disc, half-plane {x <= h}: area fraction 1 - (acos(h) - h sqrt(1 - h^2)) / pi at 60 digits.
    nu = DisconnectedSupport([Ball((0, 0), 1), Ball((10, 0), 2)], ["0.5", "0.5"])
    for h in ["0.3", "-0.8", "0.999"]:
        with mpmath.workdps(60):
            h_mp = mpmath.mpf(h)
            fraction = 1 - (mpmath.acos(h_mp) - h_mp * mpmath.sqrt(1 - h_mp**2)) / mpmath.pi
            half = fraction / 2
        assert_close(nu.mass(HalfSpace((1, 0), h)), half)
    assert nu.pairwise_distances()[0, 1] == 7


def test_disconnected_spherical_cap_and_lens_3d():
    ball = Ball((0, 0, 0), 2)
    nu = DisconnectedSupport([ball], [1])
    with mpmath.workdps(60):
        # Cap of height 0.5 of a ball of radius 2: pi h^2 (3R - h) / 3 over 4 pi R^3 / 3.
        cap = mpmath.mpf("0.25") * (6 - mpmath.mpf("0.5")) / 32
        # Lens of radii R = 2, r = 1 at distance d = 2: pi (R + r - d)^2 (d^2 + 2dr - 3r^2 + 2dR + 6rR - 3R^2) / (12 d).
        R, r, d = mpmath.mpf(2), mpmath.mpf(1), mpmath.mpf(2)
        lens = mpmath.pi * (R + r - d) ** 2 * (d * d + 2 * d * r - 3 * r * r + 2 * d * R + 6 * r * R - 3 * R * R) / (12 * d)
        lens_fraction = lens / (4 * mpmath.pi * R**3 / 3)
    assert_close(nu.mass(HalfSpace((0, 0, -3), -4.5)), cap)
    assert_close(nu.mass(HalfSpace((0, 0, 1), 1.5).complement()), cap)
    assert_close(nu.mass(Ball((0, 2, 0), 1)), lens_fraction)
    assert_close(nu.mass(BallComplement((0, 2, 0), 1)), 1 - lens_fraction)
    assert nu.mass(Ball((0, 0, 0.5), 1)) == mpmath.mpf(1) / 8  # inner ball: (1/2)^3


def test_disconnected_5d_against_monte_carlo():
    nu = DisconnectedSupport([Ball([0] * 5, 1), Ball([3, 0, 0, 0, 0], "0.5")], ["0.6", "0.4"])
    samples = nu.sample(100_000, 11)
    for set_ in [Ball((0.8, 0.3, 0, 0, 0), 0.7), Slab((1, 1, 0, 0, 0), 0.2, 0.9), Annulus((2.8, 0, 0, 0, 0), 0.2, 0.5)]:
        monte_carlo_check(nu.mass(set_), int(set_.contains(samples).sum()), len(samples))


def test_disconnected_thin_slab_no_cancellation():
    # Slab of width 1e-25 through the centre of the unit disc: fraction 2 w sqrt(1 - 0) / pi to first order.
    nu = DisconnectedSupport([Ball((0, 0), 1)], [1])
    value = nu.mass(Slab((1, 0), 0, "1e-25"))
    with mpmath.workdps(60):
        reference = 2 * mpmath.mpf("1e-25") / mpmath.pi
    assert relative_error(value, reference) < mpmath.mpf("1e-24")


def test_disconnected_algebra_identities():
    nu = DisconnectedSupport([Ball((0, 0), 1), Ball((3, 0), 1)], ["0.3", "0.7"])
    for set_, r in [(Ball((1, 0), 1), "0.5"), (HalfSpace((1, 1), 0.5), 1), (BallComplement((3, 0), "0.5"), "0.25")]:
        with isobounds.precision(40):
            assert abs(nu.mass(set_.extension(r)) - nu.mass(set_) - nu.mass(set_.shell(r))) < mpmath.mpf("1e-38")
            assert abs(nu.mass(set_) + nu.mass(set_.complement()) - 1) < mpmath.mpf("1e-38")


# ---------------------------------------------------------------------------
# EmpiricalMeasure.
# ---------------------------------------------------------------------------

def test_empirical_fractions_and_endpoints():
    nu = EmpiricalMeasure([0, 1, 1, 2, 3, 7])
    assert nu.mass(Interval(1, 2)) == mpmath.mpf(1) / 2
    assert nu.fraction(Interval(1, 2, left_closed=False)) == fractions.Fraction(1, 6)
    # A_r = A + shell exactly, endpoints included.
    interval = Interval(1, 2)
    assert nu.fraction(interval.extension(1)) == nu.fraction(interval) + nu.fraction(interval.shell(1))
    assert nu.fraction(interval) + nu.fraction(interval.complement()) == 1
    assert nu.cdf(1) == mpmath.mpf(1) / 2
    np.testing.assert_allclose(nu.cdf([-1, 2.5, 10]), [0, 4 / 6, 1])


def test_empirical_multivariate_and_resample():
    samples = np.random.default_rng(0).normal(size=(1000, 3))
    nu = EmpiricalMeasure(samples)
    ball = Ball((0, 0, 0), 1)
    assert nu.dim == 3
    assert nu.fraction(ball) == fractions.Fraction(int(ball.contains(samples).sum()), 1000)
    assert nu.mass(ball) + nu.mass(ball.complement()) == 1
    resampled = nu.sample(500, 1)
    assert resampled.shape == (500, 3)
    assert (resampled[:, None, :] == samples[None, :, :]).all(axis=-1).any(axis=1).all()


# ---------------------------------------------------------------------------
# Bad input: each message names the argument.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "build, error, pattern",
    [
        (lambda: GaussianMixture([1], [float("nan")], 1), ValueError, r"means\[0\] must not be NaN"),
        (lambda: GaussianMixture([1], [[0, np.inf]], 1), ValueError, r"means\[0, 1\] must be a finite real number"),
        (lambda: GaussianMixture([1], [0], -1), ValueError, r"sigma must be a positive finite number .*sigma=-1"),
        (lambda: GaussianMixture([0.5, 0.5], [0, 1], [1, 0]), ValueError, r"sigma\[1\] must be a positive"),
        (lambda: GaussianMixture([0.5, 0.6], [0, 1], 1), ValueError, r"weights must sum to 1, got sum\(weights\)=1.1"),
        (lambda: GaussianMixture([1.5, -0.5], [0, 1], 1), ValueError, r"weights\[0\] must be a probability in \[0, 1\]"),
        (lambda: GaussianMixture([float("nan"), 1], [0, 1], 1), ValueError, r"weights\[0\] must not be NaN"),
        (lambda: GaussianMixture([1], [0, 1], 1), ValueError, r"weights has 1 entries but means has 2 components"),
        (lambda: GaussianMixture([0.5, 0.5], [0, 1], [1, 1, 1]), ValueError, r"sigma must be a scalar or have one entry per component \(k=2\)"),
        (lambda: GaussianMixture([0.5, 0.5], [[0, 1], [2]], 1), ValueError, r"means must be a list of scalars or a \(k, d\) array"),
        (lambda: GaussianMixture([], [], 1), ValueError, r"means must contain at least one component"),
        (lambda: GaussianMixture([1], "0", 1), TypeError, r"means must be a list of scalars"),
        (lambda: GaussianMixture.two_gaussians((0, 0), (1, 1, 1), 1), ValueError, r"len\(m1\)=2 and len\(m2\)=3"),
        (lambda: GaussianMixture.two_gaussians(0, 1, 1, weight=2), ValueError, r"weight must be a probability in \[0, 1\], got weight=2"),
        (lambda: GaussianMixture([1], [0], 1).mass(Ball((0, 0), 1)), ValueError, r"set has dimension 2 but the GaussianMixture has dimension 1"),
        (lambda: GaussianMixture([1], [[0, 0, 0]], 1).mass(Interval(0, 1)), ValueError, r"set has dimension 1 but the GaussianMixture has dimension 3"),
        (lambda: GaussianMixture([1], [0], 1).mass((0, 1)), TypeError, r"set must be an isobounds.sets set"),
        (lambda: GaussianMixture([1], [0], 1).mass(Interval(0, 1), dps=0), ValueError, r"dps must lie in"),
        (lambda: GaussianMixture([1], [0], 1).sample(-1), ValueError, r"n must be a nonnegative integer"),
        (lambda: GaussianMixture([1], [0], 1).sample(2, rng="seed"), TypeError, r"rng must be a numpy.random.Generator"),
        (lambda: GaussianMixture([1], [[0, 0]], 1).cdf(0), ValueError, r"cdf is defined for a one-dimensional mixture"),
        (lambda: UnivariateDistribution(scipy.stats.poisson(3)), TypeError, r"frozen must be a frozen scipy.stats continuous"),
        (lambda: UnivariateDistribution(scipy.stats.norm()).mass(HalfSpace((1, 0), 0)), ValueError, r"set has dimension 2"),
        (lambda: DisconnectedSupport([Interval(0, 1), Interval(1, 2)], [0.5, 0.5]), ValueError, r"pieces must be pairwise disjoint"),
        (lambda: DisconnectedSupport([Ball((0, 0), 1), Ball((1.5, 0), 1)], [0.5, 0.5]), ValueError, r"pieces\[0\]=Ball.*pieces\[1\]=Ball"),
        (lambda: DisconnectedSupport([Interval(0, np.inf)], [1]), ValueError, r"pieces\[0\] must be a bounded interval"),
        (lambda: DisconnectedSupport([Ball((0, 0), 0)], [1]), ValueError, r"pieces\[0\] must be a ball of positive radius"),
        (lambda: DisconnectedSupport([HalfSpace(1, 0)], [1]), TypeError, r"pieces\[0\] must be an Interval or a Ball"),
        (lambda: DisconnectedSupport([Ball((0, 0), 1), Ball((0, 0, 5), 1)], [0.5, 0.5]), ValueError, r"pieces must share one dimension"),
        (lambda: DisconnectedSupport([Interval(0, 1)], [0.5, 0.5]), ValueError, r"weights has 2 entries but there are 1 pieces"),
        (lambda: DisconnectedSupport([], []), ValueError, r"pieces must contain at least one"),
        (lambda: EmpiricalMeasure([]), ValueError, r"samples must have shape \(n,\) or \(n, d\) with n >= 1"),
        (lambda: EmpiricalMeasure([0, float("nan")]), ValueError, r"samples must not contain NaN"),
        (lambda: EmpiricalMeasure(np.zeros((2, 2, 2))), ValueError, r"samples must have shape"),
        (lambda: EmpiricalMeasure(np.zeros((4, 2))).mass(Interval(0, 1)), ValueError, r"set has dimension 1 but the EmpiricalMeasure has dimension 2"),
    ],
)
def test_bad_input_messages(build, error, pattern):
    with pytest.raises(error, match=pattern):
        build()


# ---------------------------------------------------------------------------
# Properties on random input.
# ---------------------------------------------------------------------------

finite = st.floats(min_value=-30, max_value=30, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(a=finite, width=st.floats(min_value=0, max_value=20), r=st.floats(min_value=1e-12, max_value=5), m=finite)
@example(a=-50.0, width=100.0, r=0.5, m=0.0)
def test_mixture_interval_algebra_property(a, width, r, m):
    nu = GaussianMixture(["0.5", "0.5"], [m, -m], [1, "0.5"])
    interval = Interval(a, a + width)
    with isobounds.precision(35):
        assert abs(nu.mass(interval) + nu.mass(interval.complement()) - 1) < mpmath.mpf("1e-33")
        extended, split = nu.mass(interval.extension(r)), nu.mass(interval) + nu.mass(interval.shell(r))
        assert abs(extended - split) <= mpmath.mpf("1e-33") * extended


@settings(max_examples=40, deadline=None)
@given(
    points=st.lists(st.integers(min_value=-5, max_value=5), min_size=1, max_size=30),
    a=st.integers(min_value=-6, max_value=6),
    width=st.integers(min_value=0, max_value=6),
    r=st.integers(min_value=0, max_value=3),
)
def test_empirical_interval_counts_property(points, a, width, r):
    # Integer samples sit on the endpoints, so the counts test the endpoint flags exactly.
    nu = EmpiricalMeasure(points)
    interval = Interval(a, a + width)
    brute_force = sum(1 for x in points if a - r <= x <= a + width + r)
    assert nu.fraction(interval.extension(r)) == fractions.Fraction(brute_force, len(points))
    assert nu.fraction(interval.extension(r)) == nu.fraction(interval) + nu.fraction(interval.shell(r))
    assert nu.fraction(interval) + nu.fraction(interval.complement()) == 1


def test_mixture_shell_of_point_at_subnormal_radius():
    # Shell of the point {0} at r = 2.2e-308: mass 2 r phi(0) (the next Taylor term is r^3 smaller).
    nu = GaussianMixture([1], [0], 1)
    r = 2.2250738585072014e-308
    with mpmath.workdps(60):
        reference = 2 * mpmath.mpf(r) * mpmath.npdf(0)
    assert_close(nu.mass(Interval(0, 0).shell(r)), reference)
