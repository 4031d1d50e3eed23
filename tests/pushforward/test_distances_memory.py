r"""Peak memory of the exact distances when many model pieces cover the same range of ``y``.

The model is a sawtooth: ``n_knots`` knots on [-6, 6] whose values alternate
between about -1 and 1, so that every inner piece covers [-0.7, 0.7] and
each segment between knot images carries about ``n_knots`` Gaussian terms. The
peak is measured with ``tracemalloc``, which numpy reports its array
allocations to. The values are checked against ``scipy.integrate.quad``
on the density written out here from the knots and values:
:math:`p(y) = \sum_k \varphi(z_k(y)) / |s_k|` over the pieces ``k``
whose latent interval contains the preimage :math:`z_k(y)`.

The last test checks the KL error estimate at latent scales of 1e-200 and
1e200 against the closed form of KL(N(0, 1) || N(0, 4)).
"""

import math
import tracemalloc
import warnings

import numpy as np
import pytest
from scipy import integrate, special

from isobounds.measures import GaussianMixture
from isobounds.pushforward import PiecewiseLinearMap, kl_divergence, tv_distance

# With the density evaluated for all points and terms at once, the peak for
# 200 knots was about 160 MB for either distance, growing as the square of
# the number of knots. In blocks it is about 5 MB (numpy 2.4, scipy 1.17).
PEAK_LIMIT_BYTES = 50e6

# Both results are checked to this absolute discrepancy on top of their own
# error estimate: what the quad reference itself may miss over ~200 intervals.
REFERENCE_SLACK = 1e-11

WEIGHTS, MEANS, SIGMAS = np.array([0.5, 0.5]), np.array([-0.8, 0.8]), np.array([0.5, 0.5])

# The model and the target densities both underflow to 0 beyond this point.
REACH = 40.0


def sawtooth(n_knots, seed=0):
    """Return ``(knots, values, left_slope, right_slope)`` of a sawtooth with ``n_knots`` knots."""
    rng = np.random.default_rng(seed)
    knots = np.linspace(-6.0, 6.0, n_knots)
    values = np.where(np.arange(n_knots) % 2 == 0, -1.0, 1.0) + rng.uniform(-0.3, 0.3, n_knots)
    return knots, values, 1.0, 1.0


def piece_lines(knots, values, left_slope, right_slope):
    """Return ``(z_lo, z_hi, anchor_z, anchor_y, slope)`` of every piece: its latent interval, a point ``(z, g(z))`` on it and its slope."""
    z_lo = np.concatenate([[-math.inf], knots])
    z_hi = np.concatenate([knots, [math.inf]])
    inner = np.diff(values) / np.diff(knots)
    slope = np.concatenate([[left_slope], inner, [right_slope]])
    anchor_z = np.concatenate([[knots[0]], knots])
    anchor_y = np.concatenate([[values[0]], values])
    return z_lo, z_hi, anchor_z, anchor_y, slope


def model_density(lines, y):
    """Density of g#N(0, 1) at the scalar ``y``: one Gaussian term per piece whose latent interval contains the preimage."""
    z_lo, z_hi, anchor_z, anchor_y, slope = lines
    z = anchor_z + (y - anchor_y) / slope
    inside = (z >= z_lo) & (z <= z_hi)
    return float(np.sum(np.exp(-0.5 * z[inside] ** 2) / (math.sqrt(2 * math.pi) * np.abs(slope[inside]))))


def target_log_density(y):
    """Log density of the target mixture at the scalar ``y``, in log space so that it stays finite far out."""
    return float(special.logsumexp(np.log(WEIGHTS / SIGMAS) - 0.5 * ((y - MEANS) / SIGMAS) ** 2)) - 0.5 * math.log(2 * math.pi)


def integrate_segments(func, values):
    """Integrate ``func`` over [-REACH, REACH] by quad, split at the knot values and the target means."""
    edges = np.unique(np.concatenate([values, MEANS, [-REACH, REACH]]))
    total = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("error", integrate.IntegrationWarning)
        for a, b in zip(edges[:-1], edges[1:]):
            total += integrate.quad(func, a, b, epsabs=1e-15, epsrel=1e-13, limit=200)[0]
    return total


def reference_tv(spec):
    lines = piece_lines(*spec)
    return integrate_segments(lambda y: max(model_density(lines, y) - math.exp(target_log_density(y)), 0.0), spec[1])


def reference_kl(spec):
    lines = piece_lines(*spec)

    def integrand(y):
        p = model_density(lines, y)
        return p * (math.log(p) - target_log_density(y)) if p > 0 else 0.0

    return integrate_segments(integrand, spec[1])


def traced_peak(func):
    """Return ``(result, peak bytes)`` of ``func()`` as seen by tracemalloc."""
    tracemalloc.start()
    try:
        result = func()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize(
    ("distance", "reference", "n_knots"),
    [(tv_distance, reference_tv, 200), (kl_divergence, reference_kl, 200)],
    ids=["tv", "kl"],
)
def test_sawtooth_peak_memory_and_value(distance, reference, n_knots):
    spec = sawtooth(n_knots)
    g = PiecewiseLinearMap(*spec)
    target = GaussianMixture(WEIGHTS, MEANS[:, None], SIGMAS)

    result, peak = traced_peak(lambda: distance(g, target))

    assert peak < PEAK_LIMIT_BYTES, f"peak {peak / 1e6:.0f} MB"
    expected = reference(spec)
    assert abs(result.value - expected) <= result.error + REFERENCE_SLACK, (result.value, expected, result.error)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_kl_error_at_extreme_scales(scale):
    # g(z) = scale * z against N(0, (2 scale)^2): KL(N(0, 1) || N(0, 4)) = log 2 + 1/8 - 1/2 at any scale.
    g = PiecewiseLinearMap([0.0], [0.0], scale, scale)
    target = GaussianMixture([1.0], [0.0], [2.0 * scale])
    exact = math.log(2.0) + 0.125 - 0.5

    result = kl_divergence(g, target)

    assert abs(result.value - exact) <= result.error
    # Both log densities are near -+460 here. Bounding their difference by the sum of their
    # sizes gave an error estimate of 7.5e-10 for an actual error near 1e-14.
    assert result.error < 1e-10
