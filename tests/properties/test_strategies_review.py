"""Spread and shrinking of intervals() and lipschitz_constants(), and tightness of tight_bound_cases().

The tightness check recomputes everything without isobounds: the model
mass of the set from the map's pieces, Theorem 4 of Salmona et al. (2022)
with the model mass, corrected Theorem 7, and the exact total variation
and KL divergence by scipy quadrature of the two densities.
"""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from scipy import integrate, stats

from isobounds.sets import Interval
from isobounds.testing import BoundCase, intervals, lipschitz_constants, tight_bound_cases

SEARCH = settings(database=None, max_examples=1000)


def _draws(strategy, count):
    drawn = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def record(value):
        drawn.append(value)

    record()
    return drawn


def test_finite_intervals_are_rarely_single_points():
    # floats(a, max_abs) for the right end gave b = a in about half of the draws
    # (hypothesis reuses earlier values), and a point has mass 0 under a model without atoms.
    drawn = _draws(intervals(allow_infinite=False), 200)
    lengths = np.array([float(A.b) - float(A.a) for A in drawn])
    assert np.mean(lengths == 0) < 0.25
    assert np.mean(lengths > 1e-6) > 0.6


def test_finite_intervals_shrink_to_unit_interval():
    # Used to shrink to the point [0, 0].
    assert find(intervals(allow_infinite=False), lambda A: True, settings=SEARCH) == Interval(0.0, 1.0)
    assert find(intervals(allow_infinite=False), lambda A: A.a < -3, settings=SEARCH) == Interval(-4.0, -3.0)


def test_intervals_keep_min_length_and_range():
    for max_abs, min_length in ((15.0, 3.0), (1.0, 2.0), (1e308, 0.0), (1e-300, 1e-301)):
        for A in _draws(intervals(max_abs=max_abs, min_length=min_length, allow_infinite=False), 100):
            assert -max_abs <= A.a <= A.b <= max_abs
            # Exact rational difference of the float64 ends.
            assert mpmath.mpf(float(A.b)) - mpmath.mpf(float(A.a)) >= mpmath.mpf(min_length)


def test_lipschitz_constants_below_one_shrink_near_one():
    # Used to shrink to the end 1e-3 of the range, the constant farthest from 1.
    assert 0.01 <= find(lipschitz_constants(), lambda x: x < 0.5, settings=SEARCH) < 0.5
    assert 5 < find(lipschitz_constants(), lambda x: x > 5, settings=SEARCH) <= 100


def test_lipschitz_constants_shrink_to_end_nearest_one():
    # A range without 1 used to shrink to an inner constant such as 2.371373705661655.
    assert find(lipschitz_constants(min_value=2, max_value=3), lambda x: True, settings=SEARCH) == 2.0
    assert find(lipschitz_constants(min_value=1e-5, max_value=1e-4), lambda x: True, settings=SEARCH) == 1e-4


def test_lipschitz_constants_spread_below_one():
    # Before, constants strictly between 1e-3 and 1 were about 2% of the draws.
    drawn = np.array(_draws(lipschitz_constants(), 300))
    assert np.all((drawn >= 1e-3) & (drawn <= 1e300))
    assert np.mean((drawn > 1e-3) & (drawn < 1)) > 0.15
    assert np.mean(drawn > 1) > 0.15


# --- tight_bound_cases, recomputed independently ---------------------------------------

def _pieces(g):
    """Return the pieces of g as (z_left, z_right, slope, z0, g(z0)), with exact slopes between knots."""
    knots = [mpmath.mpf(float(x)) for x in g.knots]
    values = [mpmath.mpf(float(x)) for x in g.values]
    slopes = [mpmath.mpf(float(x)) for x in g.slopes]
    inner = [(knots[i], knots[i + 1], (values[i + 1] - values[i]) / (knots[i + 1] - knots[i]), knots[i], values[i])
             for i in range(len(knots) - 1)]
    return [(-mpmath.inf, knots[0], slopes[0], knots[0], values[0]), *inner,
            (knots[-1], mpmath.inf, slopes[-1], knots[-1], values[-1])]


def _gauss(x, y):
    """N(0, 1) mass of [x, y], from the tail on the far side of 0."""
    return mpmath.ncdf(-x) - mpmath.ncdf(-y) if x > 0 else mpmath.ncdf(y) - mpmath.ncdf(x)


def _model_masses(g, t):
    """Return (rho(g <= t), rho(g > t)) for rho = g # N(0, 1), each summed over the pieces."""
    below = above = mpmath.mpf(0)
    for left, right, slope, z0, y0 in _pieces(g):
        cut = z0 + (t - y0) / slope
        low, high = ((left, min(right, cut)), (max(left, cut), right)) if slope > 0 else ((max(left, cut), right), (left, min(right, cut)))
        below += _gauss(*low) if low[0] < low[1] else 0
        above += _gauss(*high) if high[0] < high[1] else 0
    return below, above


def _target_mass(target, x, y):
    total = mpmath.mpf(0)
    for weight, mean, sigma in zip(target.weights, target.means, target.sigmas):
        mean, sigma = mpmath.mpf(mean[0]), mpmath.mpf(sigma)
        total += mpmath.mpf(weight) * _gauss((x - mean) / sigma, (y - mean) / sigma)
    return total


def _kl_term(a, b):
    """Return a log(a / b), with 0 log 0 = 0 (alpha rounds to 1 for sets the model almost never leaves)."""
    return a * mpmath.log(a / b) if a > 0 else mpmath.mpf(0)


def _inverse_phi(p):
    """Phi^-1(p) for 0 < p <= 1/2, by Newton's method on log Phi."""
    if p == mpmath.mpf(1) / 2:
        return mpmath.mpf(0)
    return mpmath.findroot(lambda x: mpmath.log(mpmath.ncdf(x)) - mpmath.log(p), -mpmath.sqrt(-2 * mpmath.log(p)))


def _bounds(case):
    """Compute Theorem 4 with the model mass, and Theorem 7 with the condition beta >= shell mass, at (A, r)."""
    g, target, region, r = case
    lip, r = mpmath.mpf(float(g.lipschitz_constant())), mpmath.mpf(r)
    if math.isinf(region.a):
        end = mpmath.mpf(region.b)
        inside, outside = _model_masses(g, end)
        target_inside, shell = _target_mass(target, -mpmath.inf, end), _target_mass(target, end, end + r)
    else:
        end = mpmath.mpf(region.a)
        outside, inside = _model_masses(g, end)
        target_inside, shell = _target_mass(target, end, mpmath.inf), _target_mass(target, end - r, end)
    # Phi^-1(rho(A)) comes from the smaller of rho(A) and its complement. A map that never leaves A has alpha = 1.
    if outside == 0:
        alpha = mpmath.mpf(1)
    else:
        alpha = mpmath.ncdf(r / lip + (-_inverse_phi(outside) if outside < inside else _inverse_phi(inside)))
    tv = max(alpha - min(inside, target_inside) - shell, 0)
    beta = alpha - inside
    kl = _kl_term(beta, shell) + _kl_term(1 - beta, 1 - shell) if beta >= shell else 0
    return float(tv), float(kl)


def _distances(case):
    """Exact TV and KL(rho || nu) by scipy quadrature of the densities."""
    g, target = case.map, case.target
    pieces = [tuple(float(v) for v in piece) for piece in _pieces(g)]
    weights = [float(w) for w in target.weights]
    means = [float(m[0]) for m in target.means]
    sigmas = [float(s) for s in target.sigmas]

    def p_model(y):
        return sum(stats.norm.pdf(z0 + (y - y0) / c) / abs(c) for a, b, c, z0, y0 in pieces if a <= z0 + (y - y0) / c <= b)

    def log_p_target(y):
        return float(np.logaddexp.reduce([math.log(w) + stats.norm.logpdf(y, m, s) for w, m, s in zip(weights, means, sigmas)]))

    center, scale = float(g.values[0] + g.values[1]) / 2, abs(float(g.slopes[1]))
    breaks = sorted({center + k * scale for k in range(-14, 15)} | {m + k * s for m, s in zip(means, sigmas) for k in range(-14, 15)})
    tv = sum(integrate.quad(lambda y: max(math.exp(log_p_target(y)) - p_model(y), 0.0), a, b, epsabs=1e-14)[0]
             for a, b in zip(breaks[:-1], breaks[1:]))
    near = [center + k * scale for k in np.linspace(-12, 12, 49)]
    def kl_density(y):
        p = p_model(y)
        # 0 log 0 = 0 where the density underflows.
        return p * (math.log(p) - log_p_target(y)) if p > 0 else 0.0

    kl = sum(integrate.quad(kl_density, a, b, epsabs=1e-14)[0] for a, b in zip(near[:-1], near[1:]))
    return tv, kl


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_tight_cases_attain_bounds():
    tight = {"tv": 0, "kl": 0}
    for case in _draws(tight_bound_cases(), 12):
        tv_bound, kl_bound = _bounds(case)
        tv, kl = _distances(case)
        # The bounds hold, up to the quadrature error.
        assert tv_bound <= tv + 1e-9
        assert kl_bound <= kl + 1e-9
        # Where a distance is not small, one of the bounds comes within 0.1% of it.
        if tv >= 0.01 and tv_bound >= 0.999 * tv:
            tight["tv"] += 1
        if kl >= 0.01 and kl_bound >= 0.999 * kl:
            tight["kl"] += 1
    assert tight["tv"] >= 3
    assert tight["kl"] >= 2


def test_bound_case_fields_have_their_own_help():
    # help(BoundCase) should describe each field, not "Alias for field number k".
    for field in BoundCase._fields:
        doc = getattr(BoundCase, field).__doc__
        assert "Alias for field number" not in doc
    assert "PiecewiseLinearMap" in BoundCase.map.__doc__


def test_package_docstring_lists_every_strategy():
    # The package docstring's list of strategies should name each public strategy.
    import isobounds.testing as testing

    listed = testing.__doc__.split("Example")[0]
    for name in testing.__all__:
        if name not in ("EXTREME_PROBABILITIES", "BoundCase"):
            assert f":func:`{name}`" in listed
