"""Half-space and interval searches on a mixture whose best offset lies at the second crossing of the two sides.

The reference is a brute-force float64 search written here. Directions
are tilted out of the span of the means by a factor lam, which scales the
projected means by lam. Both sides of model-free Theorem 4 are maximised
over their radius, the offset is moved to each crossing of the two sides
by Brent's method, and the best half-space is evaluated by
``tv_lower_bound``.
"""

import math

import mpmath
import numpy as np
import pytest
import scipy.optimize
from scipy.special import ndtr, ndtri

from isobounds import GaussianMixture, HalfSpace, tv_lower_bound
from isobounds.bounds import maximize_tv_over_half_spaces, maximize_tv_over_intervals

_WEIGHTS = np.array([0.16, 0.729, 0.111])
_MEANS = np.array([0.029, -0.04, -0.326])
_SIGMAS = np.array([0.565, 1.862, 0.527])
_LIP = 1.289


def _side(inside, shell, log_radii):
    """Maximise beta(p, r / L) - shell(r) over r, by a log grid then a bounded search; return (value, r)."""
    def negative(log_r):
        r = math.exp(log_r)
        return -(ndtr(r / _LIP + ndtri(inside)) - inside - shell(r))

    start = log_radii[int(np.argmin([negative(x) for x in log_radii]))]
    step = log_radii[1] - log_radii[0]
    found = scipy.optimize.minimize_scalar(negative, bounds=(start - step, start + step), method="bounded",
                                           options={"xatol": 1e-12})
    return -found.fun, math.exp(found.x)


def _sides(means, t):
    """Both sides at the ray (-inf, t] of the univariate mixture with these means, with their radii."""
    z = (t - means) / _SIGMAS
    inside = float((_WEIGHTS * ndtr(z)).sum())
    log_radii = np.linspace(math.log(1e-2), math.log(30.0), 300)
    above = _side(inside, lambda r: (_WEIGHTS * (ndtr(z + r / _SIGMAS) - ndtr(z))).sum(), log_radii)
    below = _side(1 - inside, lambda r: (_WEIGHTS * (ndtr(z) - ndtr(z - r / _SIGMAS))).sum(), log_radii)
    return above, below


def _best_ray(means):
    """Return (value, t, r_A, r_B) at the best crossing of the two sides for offsets in [-2, 2]."""
    grid = np.linspace(-2.0, 2.0, 81)
    difference = [a[0] - b[0] for a, b in (_sides(means, t) for t in grid)]
    best = None
    for k in range(len(grid) - 1):
        if difference[k] * difference[k + 1] < 0:
            t = scipy.optimize.brentq(lambda x: _sides(means, x)[0][0] - _sides(means, x)[1][0], grid[k], grid[k + 1],
                                      xtol=1e-13)
            (a, r_a), (b, r_b) = _sides(means, t)
            if best is None or min(a, b) > best[0]:
                best = (min(a, b), t, r_a, r_b)
    return best


@pytest.mark.parametrize("dim", [2, 3])
def test_half_spaces_find_second_crossing(dim):
    centre = float((_WEIGHTS * _MEANS).sum())
    best = None
    for angle in (0.0, 10.0, 20.0, 40.0, 70.0):
        lam = math.cos(math.radians(angle))
        value, t, r_a, r_b = _best_ray(lam * (_MEANS - centre))
        if best is None or value > best[0]:
            best = (value, lam, t, r_a, r_b)
    _, lam, t, r_a, r_b = best
    normal = [lam, math.sqrt(1 - lam * lam)] + [0.0] * (dim - 2)
    target = GaussianMixture(list(_WEIGHTS), [[m] + [0.0] * (dim - 1) for m in _MEANS], list(_SIGMAS))
    expected = tv_lower_bound(HalfSpace(normal, t + lam * centre), (r_a, r_b), _LIP, target=target, dps=20)
    # The second crossing at t - centre = 0.931 beats the first, at -0.55 (0.0426456).
    assert expected > mpmath.mpf("0.04295")

    result = maximize_tv_over_half_spaces(_LIP, target=target, dps=20)
    assert result.value >= expected * (1 - mpmath.mpf("1e-9"))
    again = tv_lower_bound(result.region, result.radius, _LIP, target=target, dps=20)
    assert again == result.value


def test_intervals_find_second_crossing():
    # In one dimension the best ray (-inf, t] at the second crossing is also an interval, so the
    # interval search must reach its value too. A search that scores only the first crossing stops at 0.0426456.
    centre = float((_WEIGHTS * _MEANS).sum())
    value, t, r_a, r_b = _best_ray(_MEANS - centre)
    target = GaussianMixture(list(_WEIGHTS), list(_MEANS), list(_SIGMAS))
    expected = tv_lower_bound(HalfSpace([1.0], t + centre), (r_a, r_b), _LIP, target=target, dps=20)
    assert expected > mpmath.mpf("0.04295")

    result = maximize_tv_over_intervals(_LIP, target=target, dps=20)
    assert result.value >= expected * (1 - mpmath.mpf("1e-9"))
    again = tv_lower_bound(result.region, result.radius, _LIP, target=target, dps=20)
    assert again == result.value
