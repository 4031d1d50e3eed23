"""Total variation and KL divergence of piecewise-linear push-forwards, against independent routes."""

import math

import mpmath
import numpy as np
import pytest
from scipy import optimize, stats

from isobounds.measures import GaussianMixture
from isobounds.pushforward import PiecewiseLinearMap, kl_divergence, tv_distance


def _affine(a, b):
    """The map z -> a z + b."""
    return PiecewiseLinearMap([0.0], [b], a, a)


class _ScipyTarget:
    """A frozen scipy.stats law with only ``pdf`` and ``cdf`` (no logpdf, no mass)."""

    def __init__(self, law):
        self.law = law

    def pdf(self, y):
        return self.law.pdf(y)

    def cdf(self, y):
        return self.law.cdf(y)


def _mp_model_density(g):
    """Density of g#N(0,1) at y in mpmath, by solving g(z) = y on each piece (independent of the library)."""
    knots = [mpmath.mpf(float(t)) for t in g.knots]
    values = [mpmath.mpf(float(v)) for v in g.values]
    ends = [-mpmath.inf, *knots, mpmath.inf]
    slopes = [mpmath.mpf(float(g.left_slope))]
    slopes += [(values[k] - values[k - 1]) / (knots[k] - knots[k - 1]) for k in range(1, len(knots))]
    slopes += [mpmath.mpf(float(g.right_slope))]

    def density(y):
        total = mpmath.mpf(0)
        for k, s in enumerate(slopes):
            if s == 0:
                continue
            anchor = 0 if k == 0 else k - 1
            z = knots[anchor] + (y - values[anchor]) / s
            if ends[k] <= z < ends[k + 1]:
                total += mpmath.npdf(z) / abs(s)
        return total

    return density


def _mp_tv(g, target_density, crossings, cuts, refine=True):
    """mpmath.quad of |p - q| / 2 split at the knot images and at the crossings, refined by mpmath.findroot."""
    p = _mp_model_density(g)
    if refine:
        crossings = [mpmath.findroot(lambda y: p(y) - target_density(y), float(c)) for c in crossings]
    points = sorted({-mpmath.inf, mpmath.inf, *[mpmath.mpf(float(c)) for c in cuts], *crossings})
    return mpmath.quad(lambda y: abs(p(y) - target_density(y)) / 2, points)


def _mp_kl(g, target_density, cuts):
    p = _mp_model_density(g)
    points = sorted({-mpmath.inf, mpmath.inf, *[mpmath.mpf(float(c)) for c in cuts]})

    def integrand(y):
        value = p(y)
        return value * mpmath.log(value / target_density(y)) if value > 0 else mpmath.mpf(0)

    return mpmath.quad(integrand, points)


# ----------------------------------------------------------------------
# Closed forms for affine maps.
# ----------------------------------------------------------------------

@pytest.mark.parametrize("a, b, m, s", [(1.0, 0.0, 0.0, 1.0), (2.0, 1.0, -0.5, 1.5), (-0.5, 3.0, 0.0, 2.0), (1.0, 30.0, 0.0, 1.0)])
def test_kl_of_affine_map_matches_closed_form(a, b, m, s):
    # KL(N(b, a^2) || N(m, s^2)) = log(s / |a|) + (a^2 + (b - m)^2) / (2 s^2) - 1/2.
    expected = math.log(s / abs(a)) + (a * a + (b - m) ** 2) / (2 * s * s) - 0.5
    result = kl_divergence(_affine(a, b), GaussianMixture([1.0], [m], s))
    assert result.value == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert result.error < 1e-8 * max(1.0, expected)


@pytest.mark.parametrize("b, m", [(0.0, 0.0), (1.0, 0.0), (0.0, -3.0), (5.0, 0.0), (0.0, 20.0)])
def test_tv_of_shifted_gaussians_matches_closed_form(b, m):
    # TV(N(b, 1), N(m, 1)) = 2 Phi(|b - m| / 2) - 1 = erf(|b - m| / (2 sqrt 2)).
    expected = math.erf(abs(b - m) / (2 * math.sqrt(2)))
    result = tv_distance(_affine(1.0, b), GaussianMixture([1.0], [m], 1.0))
    assert result.value == pytest.approx(expected, abs=1e-12)
    assert result.error < 1e-9


def test_tv_of_different_scales_matches_closed_form():
    # N(0, 4) against N(0, 1): densities cross at +-c, c^2 = 8 log 2 / 3, and
    # TV = P(|N(0,1)| < c) - P(|N(0,4)| < c) = erf(c / sqrt 2) - erf(c / (2 sqrt 2)).
    c = math.sqrt(8 * math.log(2) / 3)
    expected = math.erf(c / math.sqrt(2)) - math.erf(c / (2 * math.sqrt(2)))
    result = tv_distance(_affine(2.0, 0.0), GaussianMixture([1.0], [0.0], 1.0))
    assert result.value == pytest.approx(expected, abs=1e-12)
    np.testing.assert_allclose(np.sort(np.abs(result.crossings)), [c, c], rtol=1e-12)


# ----------------------------------------------------------------------
# Folded maps against mpmath quadrature.
# ----------------------------------------------------------------------

FOLD = PiecewiseLinearMap([-1.0, 0.0, 1.0], [-3.0, 0.0, 3.0], 0.5, 0.5)
ZIGZAG = PiecewiseLinearMap([-2.0, -0.5, 0.3, 1.0], [-4.0, 1.0, -1.0, 2.5], -1.0, 0.8)


@pytest.mark.parametrize("g", [FOLD, ZIGZAG], ids=["fold", "zigzag"])
@pytest.mark.parametrize("weights, means, sigma", [([0.5, 0.5], [-3, 3], 1.0), ([0.2, 0.8], [-1, 4], [0.5, 2.0])])
def test_tv_against_mpmath_quadrature(g, weights, means, sigma):
    target = GaussianMixture(weights, means, sigma)
    result = tv_distance(g, target)
    with mpmath.workdps(20):
        expected = _mp_tv(g, lambda y: target.pdf(y), result.crossings, g.values)
    assert result.value == pytest.approx(float(expected), abs=1e-10)
    assert result.error < 1e-8


@pytest.mark.parametrize("g", [FOLD, ZIGZAG], ids=["fold", "zigzag"])
@pytest.mark.parametrize("weights, means, sigma", [([0.5, 0.5], [-3, 3], 1.0), ([0.2, 0.8], [-1, 4], [0.5, 2.0])])
def test_kl_against_mpmath_quadrature(g, weights, means, sigma):
    target = GaussianMixture(weights, means, sigma)
    result = kl_divergence(g, target)
    with mpmath.workdps(20):
        expected = _mp_kl(g, lambda y: target.pdf(y), g.values)
    assert result.value == pytest.approx(float(expected), rel=1e-9)
    assert result.error < 1e-8 * float(expected)


def test_kl_against_monte_carlo_of_log_ratio():
    target = GaussianMixture([0.5, 0.5], [-2, 2], 1.0)
    rho = ZIGZAG.pushforward()
    samples = rho.sample(200_000, np.random.default_rng(1))
    log_ratio = rho.logpdf(samples) - target.logpdf(samples)
    error_bar = log_ratio.std() / math.sqrt(samples.size)
    assert abs(kl_divergence(ZIGZAG, target).value - log_ratio.mean()) < 5 * error_bar


# ----------------------------------------------------------------------
# Atoms, supports, generic targets.
# ----------------------------------------------------------------------

def test_atom_makes_kl_infinite_and_counts_in_tv():
    g = PiecewiseLinearMap([-1.0, 1.0], [0.0, 0.0], 1.0, 1.0)
    target = GaussianMixture([0.5, 0.5], [-3, 3], 1.0)
    assert kl_divergence(g, target).value == math.inf

    result = tv_distance(g, target)
    with mpmath.workdps(20):
        continuous = _mp_tv(g, lambda y: target.pdf(y), result.crossings, [0.0])
        # The atom at 0 carries Phi(1) - Phi(-1); its whole mass is in the TV.
        atom = (mpmath.ncdf(1) - mpmath.ncdf(-1)) / 2
    assert result.value == pytest.approx(float(continuous + atom), abs=1e-10)


def test_kl_infinite_outside_target_support():
    target = _ScipyTarget(stats.uniform(loc=-1.0, scale=2.0))
    assert kl_divergence(_affine(1.0, 0.0), target).value == math.inf


def test_identical_laws_have_zero_distances():
    target = _ScipyTarget(stats.norm(loc=1.0, scale=2.0))
    g = _affine(2.0, 1.0)
    assert tv_distance(g, target).value == pytest.approx(0.0, abs=1e-14)
    assert kl_divergence(g, target).value == pytest.approx(0.0, abs=1e-12)


def test_generic_target_without_logpdf():
    law = stats.logistic(loc=0.5, scale=0.7)
    target = _ScipyTarget(law)
    result = tv_distance(FOLD, target)

    # Crossings located independently by scipy's brentq on the float densities.
    rho = FOLD.pushforward()
    difference = lambda y: float(rho.pdf(np.array([y]))[0] - law.pdf(y))
    crossings = [optimize.brentq(difference, c - 1e-3, c + 1e-3, xtol=1e-15) for c in result.crossings]
    with mpmath.workdps(20):
        expected = _mp_tv(FOLD, lambda y: mpmath.mpf(float(law.pdf(float(y)))), crossings, FOLD.values, refine=False)
    assert result.value == pytest.approx(float(expected), abs=1e-9)


def test_far_apart_modes():
    # Model N(0, 1), target modes at -+40: the TV is 1 up to Phi(-40)-sized terms.
    target = GaussianMixture([0.5, 0.5], [-40, 40], 1.0)
    assert tv_distance(_affine(1.0, 0.0), target).value == pytest.approx(1.0, abs=1e-14)
    # KL = E[log p(Z) - log q(Z)] with q(z) = phi(z) cosh(40 z) exp(-800): 800 - E log cosh(40 Z).
    with mpmath.workdps(30):
        expected = 800 - mpmath.quad(lambda z: mpmath.npdf(z) * mpmath.log(mpmath.cosh(40 * z)), [-mpmath.inf, 0, mpmath.inf])
    assert kl_divergence(_affine(1.0, 0.0), target).value == pytest.approx(float(expected), rel=1e-10)


def test_invalid_target_raises():
    with pytest.raises(TypeError, match="target"):
        tv_distance(FOLD, object())
    with pytest.raises(TypeError, match="model"):
        kl_divergence("not a model", GaussianMixture([1.0], [0.0], 1.0))
    with pytest.raises(ValueError, match="dimension 2"):
        tv_distance(FOLD, GaussianMixture([1.0], [[0.0, 0.0]], 1.0))


def test_failed_tanhsinh_segments_fall_back_to_quad(monkeypatch):
    # Simulate a tanhsinh run that reports no convergence on every segment: the
    # distances must still come out finite, from scipy.integrate.quad.
    import types

    import scipy.integrate

    from isobounds.pushforward import distances

    def failing_tanhsinh(f, a, b, args=(), **options):
        shape = np.broadcast(a, b).shape
        nan = np.full(shape, np.nan)
        return types.SimpleNamespace(integral=nan, error=nan, status=np.full(shape, -3))

    g = PiecewiseLinearMap([-1.0, 0.0, 1.0], [-2.0, 0.0, 0.5], 2.0, 0.5)
    target = GaussianMixture([0.5, 0.5], [-1.0, 1.0], 1.0)
    reference_tv = tv_distance(g, target)
    reference_kl = kl_divergence(g, target)
    monkeypatch.setattr(distances, "tanhsinh", failing_tanhsinh)
    tv = tv_distance(g, target)
    kl = kl_divergence(g, target)
    assert np.isfinite(tv.error)
    assert np.isfinite(kl.error)
    assert abs(tv.value - reference_tv.value) <= 1e-9
    assert abs(kl.value - reference_kl.value) <= 1e-8
    assert scipy.integrate.tanhsinh is not failing_tanhsinh
