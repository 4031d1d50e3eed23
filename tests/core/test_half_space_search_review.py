"""Review of maximize_tv_over_half_spaces against bounds evaluated from the formula at explicit half-spaces.

For isotropic components the mass of ``{x : <u, x> <= t}`` under
``N(m_k, s_k^2 I)`` is ``Phi((t - <u, m_k>) / s_k)``, so model-free
Theorem 4 of "Can Push-forward Generative Models Fit Multimodal
Distributions?" at a half-space and radii ``(r_A, r_B)`` is

    min(Phi(r_A / L + Phi^-1(p)) - p - nu(t < <u, x> <= t + r_A),
        Phi(r_B / L + Phi^-1(1 - p)) - (1 - p) - nu(t - r_B <= <u, x> < t)),

with ``p = nu(A)``. Every half-space and radii give a lower bound on the
maximum over half-spaces, so the search must reach at least that value.
"""

import mpmath
import numpy as np
import scipy.optimize
from scipy.special import ndtr, ndtri

from isobounds.bounds import maximize_tv_over_half_spaces, tv_lower_bound
from isobounds.measures import GaussianMixture


def _bound_at(weights, means, sigmas, lip, normal, t, r_a, r_b):
    """Model-free Theorem 4 at ``{<u, x> <= t}`` with radii ``(r_A, r_B)``, from the formula at 40 digits."""
    with mpmath.workdps(40):
        normal = [mpmath.mpf(x) for x in normal]
        length = mpmath.sqrt(mpmath.fsum(x * x for x in normal))
        projected = [mpmath.fsum(x * mpmath.mpf(m) / length for x, m in zip(normal, row)) for row in means]
        w = [mpmath.mpf(x) for x in weights]
        w = [x / mpmath.fsum(w) for x in w]
        s = [mpmath.mpf(x) for x in sigmas]
        t, r_a, r_b, lip = (mpmath.mpf(x) for x in (t, r_a, r_b, lip))

        def mass(low, high):
            return mpmath.fsum(wk * (mpmath.ncdf((high - m) / sk) - mpmath.ncdf((low - m) / sk))
                               for wk, m, sk in zip(w, projected, s))

        inside, outside = mass(mpmath.ninf, t), mass(t, mpmath.inf)

        def beta(p, r):
            return mpmath.ncdf(r / lip + mpmath.sqrt(2) * mpmath.erfinv(2 * p - 1)) - p

        side_a = beta(inside, r_a) - mass(t, t + r_a)
        side_b = beta(outside, r_b) - mass(t - r_b, t)
        return min(side_a, side_b)


def _assert_search_reaches(lip, nu, expected):
    """Check that the search reaches ``expected`` to 1e-12 and that its half-space and radii reproduce its value."""
    result = maximize_tv_over_half_spaces(lip, target=nu, dps=20)
    assert result.value >= expected * (1 - mpmath.mpf("1e-12"))
    again = tv_lower_bound(result.region, result.radius, lip, target=nu, dps=20)
    assert again == result.value


# ---------------------------------------------------------------------------
# Three dimensions: Nelder-Mead stalls on the ridge where the two sides are equal.
# ---------------------------------------------------------------------------

_WEIGHTS = [0.211, 0.393, 0.218, 0.178]
_MEANS = [[-0.59, -2.84, 1.44], [-3.91, 1.16, 3.51], [-2.93, 0.55, -0.66], [-4.17, 0.49, -4.43]]
_SIGMAS = [1.77, 1.56, 0.6, 0.67]
_LIP = 0.84
# A half-space and radii found by brute force: random directions on the sphere, each with its
# best offset and radii, polished by Nelder-Mead over the direction (not by the library).
_RIDGE_NORMAL = [-0.11218984038863827, -0.012949906811074212, 0.993602405203991]
_RIDGE_OFFSET = 1.3088823434324075
_RIDGE_RADII = (1.404982492253329, 1.2679346369031481)


def test_half_spaces_follow_ridge_in_3d():
    # Nelder-Mead on the direction and the offset stopped at 0.3142163771, 1.4e-7 below
    # the bound at the brute-force half-space, 0.3142164214.
    expected = _bound_at(_WEIGHTS, _MEANS, _SIGMAS, _LIP, _RIDGE_NORMAL, _RIDGE_OFFSET, *_RIDGE_RADII)
    assert expected > mpmath.mpf("0.31421642143")
    nu = GaussianMixture(_WEIGHTS, _MEANS, _SIGMAS)
    _assert_search_reaches(_LIP, nu, expected)


# ---------------------------------------------------------------------------
# One direction: the offset at the crossing of the two sides.
# ---------------------------------------------------------------------------

def _float_sides(weights, means, sigmas, lip, t):
    """Both sides at the offset ``t`` of a univariate mixture, each maximised over its radius in float64; return them and the radii."""
    w, m, s = (np.asarray(x, dtype=float) for x in (weights, means, sigmas))
    inside = float((w * ndtr((t - m) / s)).sum())
    sides = []
    for p, shell in ((inside, lambda r: (w * (ndtr((t + r - m) / s) - ndtr((t - m) / s))).sum()),
                     (1 - inside, lambda r: (w * (ndtr((t - m) / s) - ndtr((t - r - m) / s))).sum())):
        def negative_side(log_r, p=p, shell=shell):
            r = np.exp(log_r)
            return -(ndtr(r / lip + ndtri(p)) - p - shell(r))

        grid = np.linspace(np.log(1e-3), np.log(1e2), 400)
        start = grid[int(np.argmin([negative_side(x) for x in grid]))]
        found = scipy.optimize.minimize_scalar(negative_side, bounds=(start - 0.03, start + 0.03), method="bounded",
                                               options={"xatol": 1e-12})
        sides.append((-found.fun, float(np.exp(found.x))))
    return sides


def test_ray_offset_at_side_crossing():
    # The offset was located to about 1e-8 by a shrinking stencil, 1.8e-9 (relative) short of
    # the bound at the crossing of the two sides, which brentq locates here in float64.
    weights, means, sigmas, lip = [0.3, 0.7], [-2.0, 3.0], [0.8, 0.8], 2.0

    def difference(t):
        (a, _), (b, _) = _float_sides(weights, means, sigmas, lip, t)
        return a - b

    crossing = scipy.optimize.brentq(difference, 0.5, 0.9, xtol=1e-15)
    (_, r_a), (_, r_b) = _float_sides(weights, means, sigmas, lip, crossing)
    expected = _bound_at(weights, [[m] for m in means], sigmas, lip, [1.0], crossing, r_a, r_b)
    nu = GaussianMixture(weights, means, 0.8)
    _assert_search_reaches(lip, nu, expected)


# ---------------------------------------------------------------------------
# Near-duplicate half-spaces: the better of the two goes on to the 20-digit comparison.
# ---------------------------------------------------------------------------

_DUPLICATE_WEIGHTS = [0.32304230513865023, 0.3235995764498144, 0.22745380558861691, 0.12590431282291864]
_DUPLICATE_MEANS = [[1.4152977980321855, -0.14205638488476613, 1.3528288975640312],
                    [2.292172234206644, 1.5431503738079704, 4.697916368163101],
                    [-0.7629565199040614, -0.27936808850010636, 1.8716053934417405],
                    [1.3278866187666525, -0.1966671416282657, -0.7956353699305373]]
_DUPLICATE_SIGMA = 1.4472183277616757
_DUPLICATE_LIP = 2.3225480869506363
# Found by the same brute force as _RIDGE_NORMAL.
_DUPLICATE_NORMAL = [-0.4064885879860033, -0.42002100780612295, -0.8113873186331387]
_DUPLICATE_OFFSET = -3.3627931211548288
_DUPLICATE_RADII = (1.6300737420987443, 1.6558507797725512)


def test_half_spaces_keep_better_near_duplicate():
    # Of two nearly equal half-spaces the first listed was kept, though a later one scored
    # higher: the search fell 6.4e-11 (relative) short of the brute-force bound.
    sigmas = [_DUPLICATE_SIGMA] * 4
    expected = _bound_at(_DUPLICATE_WEIGHTS, _DUPLICATE_MEANS, sigmas, _DUPLICATE_LIP, _DUPLICATE_NORMAL,
                         _DUPLICATE_OFFSET, *_DUPLICATE_RADII)
    assert expected > mpmath.mpf("0.06344476734")
    nu = GaussianMixture(_DUPLICATE_WEIGHTS, _DUPLICATE_MEANS, _DUPLICATE_SIGMA)
    _assert_search_reaches(_DUPLICATE_LIP, nu, expected)
