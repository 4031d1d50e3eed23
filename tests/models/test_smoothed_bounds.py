"""Bounds for the kernel-smoothed pair against which score models are checked.

The model ``N(0, a^2)`` is the push-forward of ``N(0, 1)`` by ``z -> a z``.
Smoothed by ``N(0, h^2)`` it is ``N(0, a^2 + h^2)``, and the smoothed target
is ``(1/2)[N(-m, 1 + h^2) + N(m, 1 + h^2)]``, so the smoothed TV and KL are
computed here by scipy quadrature, independently of the code under test.
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

pytest.importorskip("torch")

from isobounds_models.checks import compute_bounds, smoothed_bounds  # noqa: E402


def _densities(a, m, h):
    model_sd, target_sd = math.hypot(a, h), math.hypot(1.0, h)

    def model(y):
        return stats.norm.pdf(y, 0.0, model_sd)

    def target(y):
        return 0.5 * (stats.norm.pdf(y, -m, target_sd) + stats.norm.pdf(y, m, target_sd))

    return model, target, m + 40 * max(model_sd, target_sd)


def _smoothed_tv(a, m, h):
    model, target, end = _densities(a, m, h)
    value, _ = integrate.quad(lambda y: abs(model(y) - target(y)), -end, end, points=[-m, 0.0, m], limit=400)
    return value / 2


def _smoothed_kl(a, m, h):
    model, target, end = _densities(a, m, h)

    def integrand(y):
        p = model(y)
        return p * (math.log(p) - math.log(target(y))) if p > 0 else 0.0

    value, _ = integrate.quad(integrand, -end, end, points=[-m, 0.0, m], limit=400)
    return value


def _quantile_samples(a, n=20_000):
    # Evenly spaced quantiles of N(0, a^2): masses of the smoothed law within about 1 / n.
    return a * stats.norm.ppf((np.arange(n) + 0.5) / n)


# (m, a, h) where the bounds of the unsmoothed pair exceed the smoothed TV: checking the smoothed
# estimate against them would fail a model that has no defect.
CASES = [(1.0, 0.3, 1.0), (2.0, 1.0, 2.0), (3.0, 0.6, 2.0)]


@pytest.mark.parametrize("m, a, h", CASES)
def test_unsmoothed_bounds_exceed_smoothed_tv(m, a, h):
    below = float(stats.norm.cdf(-m / 2 / a))
    raw = compute_bounds(a, m, 0.5, 0.5, below, below)
    assert raw.tv > _smoothed_tv(a, m, h)


@pytest.mark.parametrize("m, a, h", CASES)
def test_smoothed_bounds_stay_below_smoothed_distances(m, a, h):
    bounds = smoothed_bounds(a, m, _quantile_samples(a), h)
    assert 0 < bounds.tv <= _smoothed_tv(a, m, h)
    assert bounds.kl <= _smoothed_kl(a, m, h)


def test_smoothed_corollary6_closed_form():
    # Corollary 6 with L' = sqrt(a^2 + h^2) and s' = sqrt(1 + h^2), D = 2m, written with scipy.
    m, a, h = 2.0, 0.5, 0.3
    lip, s = math.hypot(a, h), math.hypot(1.0, h)
    D = 2 * m
    gain = stats.norm.cdf(D / (4 * s * lip)) - 0.5
    loss = 0.5 * (stats.norm.cdf(D * (2 * s + 1) / (4 * s * s)) - stats.norm.cdf(D * (2 * s - 1) / (4 * s * s)))
    bounds = smoothed_bounds(a, m, _quantile_samples(a), h)
    assert bounds.tv_corollary6 == pytest.approx(gain - loss, rel=1e-12)


def test_smoothed_bounds_bad_input():
    with pytest.raises(ValueError, match="bandwidth must be a positive finite number, got bandwidth=0"):
        smoothed_bounds(1.0, 2.0, [0.0, 1.0], 0)
    with pytest.raises(ValueError, match="samples must be a non-empty array of finite numbers"):
        smoothed_bounds(1.0, 2.0, [0.0, float("nan")], 0.1)
    with pytest.raises(ValueError, match="lip must be a positive finite number, got lip=-1"):
        smoothed_bounds(-1.0, 2.0, [0.0], 0.1)


def test_smoothed_bounds_rejects_multivariate_samples():
    # Two coordinates were flattened into 2n univariate samples without notice.
    samples = np.zeros((10, 2))
    with pytest.raises(ValueError, match=r"samples must be univariate, of shape \(n,\) or \(n, 1\), got shape \(10, 2\)"):
        smoothed_bounds(1.0, 2.0, samples, 0.1)
    with pytest.raises(ValueError, match="got 1 samples with the value inf"):
        smoothed_bounds(1.0, 2.0, [float("inf")], 0.1)


def test_smoothed_bounds_column_samples_match_flat_samples():
    samples = _quantile_samples(0.5, n=2000)
    flat = smoothed_bounds(0.5, 2.0, samples, 0.3)
    column = smoothed_bounds(0.5, 2.0, samples[:, None], 0.3)
    assert flat == column


@pytest.mark.parametrize("h", [1e-6, 0.05, 5.0, 100.0])
def test_smoothed_bounds_valid_for_extreme_bandwidths(h):
    # Narrow and wide kernels: the bounds stay below the smoothed distances of the quadrature.
    m, a = 3.0, 0.5
    bounds = smoothed_bounds(a, m, _quantile_samples(a), h)
    assert bounds.tv <= _smoothed_tv(a, m, h) + 1e-4
