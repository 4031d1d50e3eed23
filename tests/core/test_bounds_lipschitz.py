"""Corollaries 2 and 3: Lipschitz constants needed to push N(0, I) onto a target."""

import mpmath
import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from isobounds.bounds import lipschitz_lower_bound_two_gaussians, ot_lipschitz_constant
from isobounds.measures import DisconnectedSupport, GaussianMixture, UnivariateDistribution
from isobounds.sets import Interval

from _bounds_reference import assert_close, profile, quantile

REL_30 = mpmath.mpf("1e-28")


@pytest.fixture(autouse=True)
def _compare_at_60_digits():
    """Arithmetic in the assertions runs at 60 digits (conftest restores the precision)."""
    mpmath.mp.dps = 60


def test_corollary2_balanced_is_exp_m_squared_over_2():
    # Balanced case, s = 1, means -m and +m: L >= exp(m^2 / 2).
    with mpmath.workdps(60):
        expected = mpmath.exp(mpmath.mpf(9) / 2)
    assert_close(lipschitz_lower_bound_two_gaussians(-3, 3, 1), expected, REL_30)


def test_corollary2_hundred_sigma_is_finite():
    # m = +-50, s = 1: exp(1250) ~ 7.38e542, far above double precision.
    value = lipschitz_lower_bound_two_gaussians(-50, 50, 1)
    with mpmath.workdps(60):
        expected = mpmath.exp(1250)
    assert mpmath.isfinite(value)
    assert_close(value, expected, REL_30)
    assert_close(lipschitz_lower_bound_two_gaussians(-50, 50, 1, sharp=True), expected, mpmath.mpf("1e-25"))


@pytest.mark.parametrize("weight", ["0.5", "0.3", "0.9", "1e-20"])
def test_corollary2_closed_form_matches_reference(weight):
    # s exp(D^2/(8 s^2) - Phi_inv(lam)^2 / 2) with an independent quantile.
    with mpmath.workdps(80):
        x = quantile(weight)
        expected = 2 * mpmath.exp(mpmath.mpf(7) ** 2 / 32 - x * x / 2)
    assert_close(lipschitz_lower_bound_two_gaussians(1, 8, 2, weight=weight), expected, REL_30)


def test_corollary2_sharp_matches_quadrature():
    # I(nu(H)) / nu^+(dH) with nu(H) by mpmath.quad of the mixture density.
    lam, s, m1, m2 = mpmath.mpf("0.3"), mpmath.mpf("1.5"), mpmath.mpf(-2), mpmath.mpf(3)
    with mpmath.workdps(50):
        middle = (m1 + m2) / 2

        def density(x):
            return lam * mpmath.npdf(x, m1, s) + (1 - lam) * mpmath.npdf(x, m2, s)

        upper = mpmath.quad(density, [middle, m2, mpmath.inf])
        lower = mpmath.quad(density, [-mpmath.inf, m1, middle])
        expected = profile(min(upper, lower), 50) / density(middle)
    value = lipschitz_lower_bound_two_gaussians(m1, m2, s, weight=lam, sharp=True)
    assert_close(value, expected, mpmath.mpf("1e-25"))


@settings(max_examples=60, deadline=None)
@given(
    distance=st.floats(min_value=0, max_value=30),
    sigma=st.floats(min_value=0.2, max_value=5),
    weight=st.floats(min_value=1e-6, max_value=1 - 1e-6),
)
def test_corollary2_sharp_never_smaller(distance, sigma, weight):
    closed = lipschitz_lower_bound_two_gaussians(0, distance, sigma, weight=weight)
    sharp = lipschitz_lower_bound_two_gaussians(0, distance, sigma, weight=weight, sharp=True)
    assert sharp >= closed * (1 - mpmath.mpf("1e-25"))


def test_corollary2_equal_means_gives_sigma():
    # One Gaussian N(m, s^2): the bisecting-half-space form is exactly s.
    assert_close(lipschitz_lower_bound_two_gaussians(2, 2, "1.5", sharp=True), mpmath.mpf("1.5"), REL_30)
    with mpmath.workdps(60):
        expected = mpmath.mpf("1.5") * mpmath.exp(-quantile("0.2") ** 2 / 2)
    assert_close(lipschitz_lower_bound_two_gaussians(2, 2, "1.5", weight="0.2"), expected, REL_30)


def test_corollary2_vectors_use_euclidean_distance():
    one_d = lipschitz_lower_bound_two_gaussians(0, 5, 1, weight=0.4)
    three_d = lipschitz_lower_bound_two_gaussians([1, 1, 1], [4, 5, 1], 1, weight=0.4)
    assert_close(three_d, one_d, REL_30)


def test_corollary2_monotone_in_separation():
    values = [lipschitz_lower_bound_two_gaussians(0, d, 1) for d in range(0, 40, 3)]
    assert all(a < b for a, b in zip(values, values[1:]))


BAD_COROLLARY2 = [
    (dict(m1=0, m2=1, sigma=0), ValueError, "sigma must be a positive finite number in (0, inf), got sigma=0"),
    (dict(m1=0, m2=1, sigma=-1), ValueError, "sigma must be a positive finite number"),
    (dict(m1=0, m2=1, sigma=1, weight=0), ValueError, "weight must lie in the open interval (0, 1), got weight=0.0"),
    (dict(m1=0, m2=1, sigma=1, weight="1.2"), ValueError, "weight must be in the open interval (0, 1), got weight=1.2"),
    (dict(m1=[0, 1], m2=[1], sigma=1), ValueError, "m1 and m2 must have the same dimension, got len(m1)=2 and len(m2)=1"),
    (dict(m1=[], m2=[], sigma=1), ValueError, "m1 must contain at least one coordinate, got an empty m1"),
    (dict(m1=float("nan"), m2=1, sigma=1), ValueError, "m1 must not be NaN"),
    (dict(m1=0, m2=float("inf"), sigma=1), ValueError, "m2 must be a finite real number, got m2=inf"),
    (dict(m1=[0, float("nan")], m2=[0, 1], sigma=1), ValueError, "m1[1] must not be NaN"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_COROLLARY2)
def test_corollary2_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error) as info:
        lipschitz_lower_bound_two_gaussians(**kwargs)
    assert message in str(info.value)


# ---------------------------------------------------------------------------
# Corollary 3.
# ---------------------------------------------------------------------------

def _reference_ratio(weights, means, sigmas, y, dps=60):
    """I(F(y)) / p(y) with mpmath.ncdf at ``dps`` digits (upper tail where F > 1/2)."""
    with mpmath.workdps(dps):
        y = mpmath.mpf(y)
        cdf = mpmath.fsum(mpmath.mpf(w) * mpmath.ncdf((y - m) / s) for w, m, s in zip(weights, means, sigmas))
        sf = mpmath.fsum(mpmath.mpf(w) * mpmath.ncdf((m - y) / s) for w, m, s in zip(weights, means, sigmas))
        pdf = mpmath.fsum(mpmath.mpf(w) * mpmath.npdf(y, m, s) for w, m, s in zip(weights, means, sigmas))
        return profile(min(cdf, sf), dps) / pdf


def _brute_force_ratio(weights, means, sigmas, grid):
    """I(F)/p on a float64 grid with scipy.stats, logs throughout."""
    w, m, s = (np.asarray(v, dtype=float) for v in (weights, means, sigmas))
    z = (grid[:, None] - m) / s
    log_pdf = scipy.special.logsumexp(np.log(w) + scipy.stats.norm.logpdf(z) - np.log(s), axis=1)
    log_cdf = scipy.special.logsumexp(np.log(w) + scipy.stats.norm.logcdf(z), axis=1)
    log_sf = scipy.special.logsumexp(np.log(w) + scipy.stats.norm.logsf(z), axis=1)
    x = scipy.special.ndtri_exp(np.minimum(log_cdf, log_sf))
    return np.exp(scipy.stats.norm.logpdf(x) - log_pdf)


@pytest.mark.parametrize(
    "weights, means, sigmas",
    [
        ([0.2, 0.5, 0.3], [-4, 0, 5], [0.5, 1, 2]),
        ([0.45, 0.1, 0.45], [-6, 0, 6], [1, 0.3, 1]),
        ([0.7, 0.3], [0, 4], [1, 0.5]),
        ([0.25, 0.25, 0.25, 0.25], [-9, -3, 3, 9], [1, 1.2, 0.8, 1]),
    ],
)
def test_corollary3_beats_dense_grid(weights, means, sigmas):
    target = GaussianMixture(weights, means, sigmas)
    value, maximiser = ot_lipschitz_constant(target)
    grid = np.linspace(-30, 30, 600_001)
    brute = _brute_force_ratio(weights, means, sigmas, grid)
    best = float(brute.max())
    assert float(value) >= best * (1 - 1e-9)
    assert float(value) <= best * (1 + 1e-6)
    # Symmetric targets have two maximisers; the grid value nearest to ours must be the maximum.
    nearest = int(np.argmin(np.abs(grid - float(maximiser))))
    assert brute[nearest] >= best * (1 - 1e-6)
    # The value is the ratio at the maximiser, checked with mpmath.ncdf at 60 digits.
    assert_close(value, _reference_ratio(target.weights, target.means and [m[0] for m in target.means], target.sigmas, maximiser), REL_30)


def test_corollary3_single_gaussian_is_sigma():
    value, _ = ot_lipschitz_constant(GaussianMixture([1], [3], 2))
    assert_close(value, mpmath.mpf(2), mpmath.mpf("1e-25"))


@pytest.mark.parametrize("m", [1, 2, 5, 12, 40])
def test_corollary3_symmetric_mixture_attained_at_zero(m):
    # Balanced symmetric mixture: Lip(T_OT) = I(1/2) / p(0), which is the sharp Corollary 2 bound.
    target = GaussianMixture.two_gaussians(-m, m, 1)
    value, maximiser = ot_lipschitz_constant(target)
    sharp = lipschitz_lower_bound_two_gaussians(-m, m, 1, sharp=True)
    assert_close(value, sharp, mpmath.mpf("1e-25"))
    assert abs(maximiser) < 1e-10
    assert value >= lipschitz_lower_bound_two_gaussians(-m, m, 1) * (1 - mpmath.mpf("1e-28"))


@settings(max_examples=15, deadline=None)
@given(distance=st.floats(min_value=0.5, max_value=12), sigma=st.floats(min_value=0.3, max_value=3))
def test_corollary3_at_least_corollary2_balanced(distance, sigma):
    target = GaussianMixture.two_gaussians(0, distance, sigma)
    value, _ = ot_lipschitz_constant(target)
    assert value >= lipschitz_lower_bound_two_gaussians(0, distance, sigma, sharp=True) * (1 - mpmath.mpf("1e-20"))


@pytest.mark.parametrize("m, weight", [(3, "0.3"), (50, "0.3"), (50, "0.05"), (500, "0.3")])
def test_corollary3_unbalanced_far_modes(m, weight):
    # The peak of I(F)/p is about 1/m wide and p(y) ~ exp(-m^2/2) there; Corollary 3 is the
    # least Lipschitz constant, so it can never be below the sharp Corollary 2 bound.
    target = GaussianMixture.two_gaussians(-m, m, 1, weight=weight)
    value, maximiser = ot_lipschitz_constant(target)
    sharp = lipschitz_lower_bound_two_gaussians(-m, m, 1, weight=weight, sharp=True)
    assert value >= sharp * (1 - mpmath.mpf("1e-28"))
    reference = _reference_ratio(target.weights, [-m, m], [1, 1], maximiser, dps=80)
    assert_close(value, reference, REL_30)
    # A local maximum: nearby points give smaller ratios.
    step = mpmath.mpf("1e-3") / m
    assert _reference_ratio(target.weights, [-m, m], [1, 1], maximiser - step, dps=80) < reference
    assert _reference_ratio(target.weights, [-m, m], [1, 1], maximiser + step, dps=80) < reference


def test_corollary3_projection_in_two_dimensions():
    target = GaussianMixture([0.5, 0.5], [[0, 0], [3, 4]], 1)
    projected, _ = ot_lipschitz_constant(target, direction=[3, 4])
    line, _ = ot_lipschitz_constant(GaussianMixture.two_gaussians(0, 5, 1))
    assert_close(projected, line, mpmath.mpf("1e-25"))
    with pytest.raises(ValueError, match="direction is required for a target in dimension 2"):
        ot_lipschitz_constant(target)
    with pytest.raises(ValueError, match="direction must have length 2"):
        ot_lipschitz_constant(target, direction=[1, 0, 0])


def test_corollary3_scipy_distribution():
    value, _ = ot_lipschitz_constant(scipy.stats.norm(1, 2.5))
    assert abs(float(value) - 2.5) < 1e-8
    # Uniform law on [0, 1]: I(F(y)) / p(y) = I(y), largest at y = 1/2 where it is 1 / sqrt(2 pi).
    value, maximiser = ot_lipschitz_constant(scipy.stats.uniform())
    assert abs(float(value) - 1 / np.sqrt(2 * np.pi)) < 1e-12
    assert abs(float(maximiser) - 0.5) < 1e-5


def test_corollary3_wrapped_scipy_law():
    value, _ = ot_lipschitz_constant(UnivariateDistribution(scipy.stats.norm(0, 3)))
    assert abs(float(value) - 3) < 1e-8


def test_corollary3_gap_in_support_is_infinite():
    # Uniform pieces [0, 1] and [3, 4]: the density vanishes on (1, 3), so T_OT jumps.
    target = DisconnectedSupport([Interval(0, 1), Interval(3, 4)], [0.5, 0.5])
    value, maximiser = ot_lipschitz_constant(target, bounds=(0.001, 3.999))
    assert value == mpmath.inf
    assert 1 <= maximiser <= 3


def test_corollary3_unequal_peaks_not_fooled():
    # Two local maxima of I(F)/p: a wide gap between heavy modes and a narrow one near a light mode.
    weights, means, sigmas = [0.49, 0.02, 0.49], [-5, 1.5, 5], [1, 0.05, 1]
    value, maximiser = ot_lipschitz_constant(GaussianMixture(weights, means, sigmas))
    grid = np.linspace(-12, 12, 1_200_001)
    brute = _brute_force_ratio(weights, means, sigmas, grid)
    assert float(value) >= brute.max() * (1 - 1e-9)
    assert abs(float(maximiser) - grid[np.argmax(brute)]) < 1e-3


def test_corollary3_rejects_bad_target():
    with pytest.raises(ValueError, match="bounds=\\(low, high\\) is required"):
        ot_lipschitz_constant(type("Law", (), {"pdf": None, "cdf": None})())
    with pytest.raises(ValueError, match="bounds must be two finite numbers with low < high"):
        ot_lipschitz_constant(scipy.stats.norm(), bounds=(1, -1))


# ---------------------------------------------------------------------------
# Regressions: float64 targets give safe lower bounds; argument checks.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0, 3.0, 7.3])
def test_ot_constant_of_scipy_normal_never_exceeds_sigma(sigma):
    # T_OT(z) = m + sigma z, so Lip(T_OT) = sigma exactly; the float64 search must stay below it.
    value, _ = ot_lipschitz_constant(scipy.stats.norm(1.0, sigma))
    assert value <= sigma
    assert value >= sigma * (1 - 1e-11)


class _TwoGaussians(scipy.stats.rv_continuous):
    """0.3 N(-1.5, 1) + 0.7 N(1.5, 1) as a scipy law (vectorised pdf, cdf and sf)."""

    def _pdf(self, x):
        return 0.3 * scipy.stats.norm.pdf(x, -1.5) + 0.7 * scipy.stats.norm.pdf(x, 1.5)

    def _cdf(self, x):
        return 0.3 * scipy.stats.norm.cdf(x, -1.5) + 0.7 * scipy.stats.norm.cdf(x, 1.5)

    def _sf(self, x):
        return 0.3 * scipy.stats.norm.sf(x, -1.5) + 0.7 * scipy.stats.norm.sf(x, 1.5)


def test_ot_constant_float_mixture_below_mpmath():
    # The same mixture through the mpmath path gives the supremum to 30 digits (checked
    # against mpmath.ncdf elsewhere in this file); the float64 result must not exceed it.
    exact, _ = ot_lipschitz_constant(GaussianMixture(["0.3", "0.7"], ["-1.5", "1.5"], 1))
    wrapped = UnivariateDistribution(_TwoGaussians(name="two_gaussians")())
    value, _ = ot_lipschitz_constant(wrapped, bounds=(-12, 12))
    assert value <= exact
    assert value >= exact * (1 - mpmath.mpf("1e-9"))


def test_corollary2_rejects_matrices_and_non_boolean_sharp():
    with pytest.raises(ValueError, match="m1 must be a scalar or a 1-D vector"):
        lipschitz_lower_bound_two_gaussians([[0, 0], [1, 1]], [1, 2, 3, 4], 1)
    with pytest.raises(ValueError, match="same dimension"):
        lipschitz_lower_bound_two_gaussians([0, 0], [1, 2, 3], 1)
    with pytest.raises(TypeError, match="sharp must be True or False"):
        lipschitz_lower_bound_two_gaussians(0, 3, 1, sharp="no")


# ---------------------------------------------------------------------------
# Light components: the ratio peaks where such a component leads again, far in a tail.
# ---------------------------------------------------------------------------

def _reference_supremum(weights, means, sigmas, low, high, step, dps=50):
    """Find sup_y I(F(y)) / p(y) over [low, high] by a grid of the given step and golden-section search.

    Every value comes from :func:`_reference_ratio` (mpmath.ncdf at ``dps``
    digits). The three best grid points are refined on a bracket of one step on
    each side, with enough iterations to shrink it below 1e-30.
    """
    grid = [low + k * step for k in range(int((high - low) / step) + 1)]
    values = [_reference_ratio(weights, means, sigmas, y, dps) for y in grid]
    best_value, best_point = max(zip(values, grid))
    ranked = sorted(range(len(grid)), key=lambda k: values[k], reverse=True)[:3]
    golden = (mpmath.sqrt(5) - 1) / 2
    with mpmath.workdps(dps):
        for k in ranked:
            a, b = mpmath.mpf(grid[k]) - step, mpmath.mpf(grid[k]) + step
            for _ in range(170):
                c, d = b - golden * (b - a), a + golden * (b - a)
                if _reference_ratio(weights, means, sigmas, c, dps) >= _reference_ratio(weights, means, sigmas, d, dps):
                    b = d
                else:
                    a = c
            y = (a + b) / 2
            value = _reference_ratio(weights, means, sigmas, y, dps)
            if value > best_value:
                best_value, best_point = value, y
    return best_value, best_point


@pytest.mark.parametrize(
    "weights, means, expected_point",
    [
        ([1e-300, 1.0], [-5, 5], -69.7),
        (["1e-8", "0.99999999"], ["-0.1", "0.1"], -104),
        (["1e-30", "0.999999999999999999999999999999"], ["-0.5", "0.5"], -72.7),
        # Below the float64 range: the weight's logarithm is still finite.
        (["1e-400", "1"], [-5, 5], -92.7),
    ],
)
def test_ot_constant_light_component_far_tail(weights, means, expected_point):
    # A light component leads the density again about |log w| s^2 / D away from the means,
    # far beyond 40 standard deviations, and I(F)/p peaks near there above the tail limit 1.
    target = GaussianMixture(weights, means, 1)
    value, maximiser = ot_lipschitz_constant(target)
    means = [mpmath.mpf(m) for m in means]
    reference, reference_point = _reference_supremum(target.weights, means, [1, 1], -150, 20, 0.5)
    assert reference > 1 + mpmath.mpf("1e-3")
    assert abs(reference_point - expected_point) < 1
    assert_close(value, reference, mpmath.mpf("1e-25"))
    assert abs(maximiser - reference_point) < 1e-6
    # The value is the ratio at the returned maximiser.
    assert_close(value, _reference_ratio(target.weights, means, [1, 1], maximiser), REL_30)
