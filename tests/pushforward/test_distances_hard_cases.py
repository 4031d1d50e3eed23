"""Exact distances on hard cases: collapsed generators, narrow targets and far crossings.

Every expected value is computed here, independently of isobounds: closed
forms for two Gaussians (the crossings of two Gaussian densities are the
roots of a quadratic), or ``mpmath`` at 30 digits on explicit densities.
Each check requires that the reported error covers the distance to that value,
and that the error is small enough to be useful.
"""

import math

import mpmath
import numpy as np
import pytest
from scipy import stats

from isobounds.measures import GaussianMixture, UnivariateDistribution
from isobounds.pushforward import PiecewiseLinearMap, distances, kl_divergence, tv_distance


def _affine(mean, slope):
    """The map ``z -> mean + slope z``, whose push-forward of N(0, 1) is N(mean, slope^2)."""
    return PiecewiseLinearMap([0.0], [mean], slope, slope)


def _gaussian_kl(mean, scale, target_mean, target_scale):
    """KL(N(mean, scale^2) || N(target_mean, target_scale^2)) in closed form, in mpmath."""
    mu, s, m, t = (mpmath.mpf(x) for x in (mean, scale, target_mean, target_scale))
    return mpmath.log(t / s) + (s**2 + (mu - m) ** 2) / (2 * t**2) - mpmath.mpf(1) / 2


def _gaussian_tv(mean, scale, target_mean, target_scale):
    """TV(N(mean, scale^2), N(target_mean, target_scale^2)) from the two crossings of the densities (scales differ)."""
    mu, s, m, t = (mpmath.mpf(x) for x in (mean, scale, target_mean, target_scale))
    # log p - log q = a y^2 + b y + c, and p > q between the roots when a < 0.
    a = 1 / (2 * t**2) - 1 / (2 * s**2)
    b = mu / s**2 - m / t**2
    c = m**2 / (2 * t**2) - mu**2 / (2 * s**2) + mpmath.log(t / s)
    root = mpmath.sqrt(b * b - 4 * a * c)
    low, high = sorted([(-b - root) / (2 * a), (-b + root) / (2 * a)])
    model = mpmath.ncdf((high - mu) / s) - mpmath.ncdf((low - mu) / s)
    target = mpmath.ncdf((high - m) / t) - mpmath.ncdf((low - m) / t)
    return model - target if a < 0 else target - model


def _assert_covers(result, expected, max_error):
    assert abs(result.value - float(expected)) <= result.error, (result, expected)
    assert result.error <= max_error, result


# ----------------------------------------------------------------------
# Collapsed generators: a model density of width s centred on a segment end.
# ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "mean, slope, target_mean, target_scale",
    [(3.0, 1e-6, 0.0, 1.0), (3.0, 1e-8, 0.0, 1.0), (3.0, 1e-10, 0.0, 1.0), (-2.0, 1e-7, 0.5, 3.0), (40.0, 1e-6, 0.0, 1.0)],
)
def test_kl_collapsed_affine_closed_form(mean, slope, target_mean, target_scale):
    with mpmath.workdps(30):
        expected = _gaussian_kl(mean, slope, target_mean, target_scale)
    result = kl_divergence(_affine(mean, slope), GaussianMixture([1.0], [target_mean], target_scale))
    # One float64 spacing of y moves z by ulp(mean) / slope, which limits the quadrature.
    _assert_covers(result, expected, max_error=1e-4 * float(expected))


@pytest.mark.parametrize("mean, slope", [(3.0, 1e-12), (-1.5, 1e-9), (3.0, 1e-6)])
def test_tv_collapsed_affine_closed_form(mean, slope):
    with mpmath.workdps(30):
        expected = _gaussian_tv(mean, slope, 0.0, 1.0)
    result = tv_distance(_affine(mean, slope), GaussianMixture([1.0], [0.0], 1.0))
    assert abs(result.value - float(expected)) <= 1e-10
    _assert_covers(result, expected, max_error=1e-2)


def test_kl_failed_rules_give_covering_error(monkeypatch):
    # A Gauss-Kronrod rule stopped after one round, and a quad referee that
    # returns 0 with error 0: the result must not claim a small error.
    monkeypatch.setattr(distances, "_KRONROD_ROUNDS", 1)
    monkeypatch.setattr(distances, "quad", lambda *args, **kwargs: (0.0, 0.0))
    with mpmath.workdps(30):
        expected = _gaussian_kl(3.0, 1e-6, 0.0, 1.0)
    result = kl_divergence(_affine(3.0, 1e-6), GaussianMixture([1.0], [0.0], 1.0))
    assert abs(result.value - float(expected)) <= result.error


# ----------------------------------------------------------------------
# Narrow targets whose peak is not a segment end.
# ----------------------------------------------------------------------

@pytest.mark.parametrize("target_mean, target_scale", [(0.5, 1e-3), (-1.2, 1e-4), (2.0, 1e-2), (0.3, 0.05)])
def test_tv_narrow_scipy_target_closed_form(target_mean, target_scale):
    target = UnivariateDistribution(stats.norm(target_mean, target_scale))
    with mpmath.workdps(30):
        expected = _gaussian_tv(0.0, 1.0, target_mean, target_scale)
    result = tv_distance(_affine(0.0, 1.0), target)
    assert result.crossings.size == 2
    _assert_covers(result, expected, max_error=1e-7)


@pytest.mark.parametrize("target_mean, target_scale", [(0.5, 1e-3), (-1.2, 1e-4)])
def test_kl_narrow_scipy_target_closed_form(target_mean, target_scale):
    target = UnivariateDistribution(stats.norm(target_mean, target_scale))
    with mpmath.workdps(30):
        expected = _gaussian_kl(0.0, 1.0, target_mean, target_scale)
    result = kl_divergence(_affine(0.0, 1.0), target)
    _assert_covers(result, expected, max_error=1e-12 * float(expected))


class _BumpTarget:
    """(1 - w) N(0, 1) + w N(centre, width^2) with ``pdf``, ``logpdf``, ``cdf`` and ``sf`` only."""

    def __init__(self, weight, centre, width):
        self.weight, self.centre, self.width = weight, centre, width

    def pdf(self, y):
        return (1 - self.weight) * stats.norm.pdf(y) + self.weight * stats.norm.pdf(y, self.centre, self.width)

    def logpdf(self, y):
        broad = math.log1p(-self.weight) + stats.norm.logpdf(y)
        return np.logaddexp(broad, math.log(self.weight) + stats.norm.logpdf(y, self.centre, self.width))

    def cdf(self, y):
        return (1 - self.weight) * stats.norm.cdf(y) + self.weight * stats.norm.cdf(y, self.centre, self.width)

    def sf(self, y):
        return (1 - self.weight) * stats.norm.sf(y) + self.weight * stats.norm.sf(y, self.centre, self.width)

    def mp_pdf(self, y):
        w = mpmath.mpf(self.weight)
        return (1 - w) * mpmath.npdf(y) + w * mpmath.npdf(y, self.centre, mpmath.mpf(self.width))


def _bump_references(target):
    """Return (TV, KL) of N(0, 1) against ``target`` by mpmath: the bump exceeds N(0, 1) between two crossings."""
    centre, width = mpmath.mpf(target.centre), mpmath.mpf(target.width)
    excess = lambda y: mpmath.npdf(y, centre, width) - mpmath.npdf(y)
    low = mpmath.findroot(excess, (centre - 12 * width, centre), solver="bisect")
    high = mpmath.findroot(excess, (centre, centre + 12 * width), solver="bisect")
    bump = mpmath.ncdf((high - centre) / width) - mpmath.ncdf((low - centre) / width)
    tv = mpmath.mpf(target.weight) * (bump - (mpmath.ncdf(high) - mpmath.ncdf(low)))
    points = [-mpmath.inf, -1, low - 20 * width, low, centre, high, high + 20 * width, centre + 1, mpmath.inf]
    kl = mpmath.quad(lambda y: mpmath.npdf(y) * mpmath.log(mpmath.npdf(y) / target.mp_pdf(y)), sorted(points))
    return tv, kl


@pytest.mark.parametrize("weight, centre, width", [(0.1, 0.5, 1e-3), (0.3, 0.5, 1e-4), (0.05, -0.8, 1e-3)])
def test_narrow_custom_target_mpmath(weight, centre, width):
    target = _BumpTarget(weight, centre, width)
    with mpmath.workdps(30):
        expected_tv, expected_kl = _bump_references(target)
    tv = tv_distance(_affine(0.0, 1.0), target)
    kl = kl_divergence(_affine(0.0, 1.0), target)
    _assert_covers(tv, expected_tv, max_error=1e-10)
    _assert_covers(kl, expected_kl, max_error=1e-10)


# ----------------------------------------------------------------------
# Crossings far out on the unbounded segments.
# ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "mean, slope, target_mean, target_scale",
    [
        (0.0, 12000.0, 0.0, 1e4),
        (5e4, 12000.0, 0.0, 1e4),
        (0.0, 3e4, 0.0, 1e5),
        (0.0, 1e12, 0.0, 1e6),
        (0.0, 1e-3, 1e3, 2e3),
        (7.0, 1e8, -3.0, 2.0),
    ],
)
def test_tv_far_crossings_closed_form(mean, slope, target_mean, target_scale):
    with mpmath.workdps(30):
        expected = _gaussian_tv(mean, slope, target_mean, target_scale)
    result = tv_distance(_affine(mean, slope), GaussianMixture([1.0], [target_mean], target_scale))
    _assert_covers(result, expected, max_error=1e-9)
    assert result.crossings.size >= 1


def test_tv_far_crossings_scaled_latent():
    # g#N(0, 50^2) with g(z) = 400 z is N(0, 20000^2).
    model = _affine(0.0, 400.0).pushforward(50.0)
    with mpmath.workdps(30):
        expected = _gaussian_tv(0.0, 2e4, 1e3, 1e4)
    result = tv_distance(model, GaussianMixture([1.0], [1e3], 1e4))
    _assert_covers(result, expected, max_error=1e-9)


# ----------------------------------------------------------------------
# Target requirements and argument checks.
# ----------------------------------------------------------------------

class _DensityOnlyTarget:
    """N(1, 2^2) with ``pdf`` and ``logpdf`` only (no ``cdf``)."""

    def pdf(self, y):
        return stats.norm.pdf(y, 1.0, 2.0)

    def logpdf(self, y):
        return stats.norm.logpdf(y, 1.0, 2.0)


def test_kl_target_without_cdf():
    with mpmath.workdps(30):
        expected = _gaussian_kl(0.0, 3.0, 1.0, 2.0)
    result = kl_divergence(_affine(0.0, 3.0), _DensityOnlyTarget())
    _assert_covers(result, expected, max_error=1e-11)


def test_tv_target_without_cdf_raises():
    with pytest.raises(TypeError, match="cdf"):
        tv_distance(_affine(0.0, 3.0), _DensityOnlyTarget())


@pytest.mark.parametrize("function", [tv_distance, kl_divergence])
def test_two_dimensional_breaks_raise(function):
    with pytest.raises(ValueError, match=r"breaks .*shape \(1, 2\)"):
        function(_affine(0.0, 1.0), GaussianMixture([1.0], [0.0], 1.0), breaks=[[0.0, 1.0]])


def test_quantile_points_match_scipy():
    # Bisection on a cdf finds scipy's ppf values, and a custom target gets quantiles inside its narrow bump.
    target = _BumpTarget(0.1, 0.5, 1e-3)
    law = stats.norm(3.0, 1e-5)
    points = distances._invert_cdf(law.cdf, distances._QUANTILE_LEVELS)
    np.testing.assert_allclose(points, law.ppf(distances._QUANTILE_LEVELS), rtol=0, atol=1e-13)
    inside = [y for y in distances._target_quantiles(target) if abs(y - 0.5) < 5e-3]
    assert len(inside) >= 3
