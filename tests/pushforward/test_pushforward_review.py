"""Distances at extreme scales: tiny and huge slopes and latent scales, half-line targets.

Every expected value is computed here, independently of isobounds: closed
forms for Gaussians, scipy quadrature of explicit densities, or mpmath
quadrature of explicit densities at 30 digits. Each check requires that the
reported error covers the distance to that value and is small enough to be
useful.
"""

import math
import warnings

import mpmath
import numpy as np
import pytest
from scipy import integrate, optimize, stats

from isobounds.measures import GaussianMixture, UnivariateDistribution
from isobounds.pushforward import PiecewiseLinearMap, PushforwardMeasure, RidgeMap, kl_divergence, tv_distance


def _check(result, expected, largest_error):
    assert math.isfinite(result.error)
    assert abs(result.value - float(expected)) <= result.error + 1e-15
    assert result.error <= largest_error


# ----------------------------------------------------------------------
# g(z) = a z: the tail grid followed an absolute length of 1e4.
# ----------------------------------------------------------------------

@pytest.mark.parametrize("a", [1e-12, 1e-20, 1e-100])
def test_tv_of_tiny_affine_map_matches_closed_form(a):
    """TV(N(0, a^2), N(0.3 a, a^2)) = 2 Phi(0.15) - 1 for every a.

    The old tail grid reached 1e4 in absolute terms, 1e16 widths for
    a = 1e-12, where log p - log q cancels to noise: a spurious crossing at
    -5.9e15 a put [crossing, 0] on the wrong side and gave 0.0013.
    """
    g = PiecewiseLinearMap([0.0], [0.0], a, a)
    result = tv_distance(g, GaussianMixture([1.0], [0.3 * a], [a]))
    exact = 2 * stats.norm.cdf(0.15) - 1
    _check(result, exact, 1e-11)


def _mixture_reference():
    """TV and KL of N(0, 1) to 0.3 N(-1, 0.25) + 0.7 N(1, 0.25), by scipy quadrature of the explicit densities."""
    def p(y):
        return stats.norm.pdf(y)

    def q(y):
        return 0.3 * stats.norm.pdf(y, -1.0, 0.5) + 0.7 * stats.norm.pdf(y, 1.0, 0.5)

    grid = np.linspace(-8.0, 8.0, 16001)
    difference = p(grid) - q(grid)
    change = np.flatnonzero(np.sign(difference[1:]) != np.sign(difference[:-1]))
    roots = [optimize.brentq(lambda y: p(y) - q(y), grid[i], grid[i + 1], xtol=1e-15) for i in change]
    ends = [-np.inf, *roots, np.inf]
    tv = sum(max(integrate.quad(lambda y: p(y) - q(y), lo, hi, epsabs=1e-14, epsrel=1e-13)[0], 0.0) for lo, hi in zip(ends[:-1], ends[1:]))

    def kl_integrand(y):
        return p(y) * (stats.norm.logpdf(y) - np.log(q(y))) if p(y) > 0 else 0.0

    kl = sum(integrate.quad(kl_integrand, lo, hi, epsabs=1e-14, epsrel=1e-13, limit=200)[0] for lo, hi in zip([-12.0, *roots], [*roots, 12.0]))
    return tv, kl


@pytest.mark.parametrize("a", [2.0**-600, 2.0**-40, 2.0**600])
def test_distances_are_scale_invariant_at_extreme_scales(a):
    """Scaling map and target by a power of two changes no distance.

    Old code: 1/sigma^2 overflowed or underflowed (RuntimeWarning) in the
    switches of the leading component and in the KL tail bound, whose
    error was then inf.
    """
    tv, kl = _mixture_reference()
    g = PiecewiseLinearMap([0.0], [0.0], a, a)
    target = GaussianMixture([0.3, 0.7], [-a, a], [0.5 * a, 0.5 * a])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tv_result = tv_distance(g, target)
        kl_result = kl_divergence(g, target)
    _check(tv_result, tv, 1e-10)
    _check(kl_result, kl, 1e-8)


# ----------------------------------------------------------------------
# Targets on a half-line: the KL tail bound read the target at a cut
# that bounds no model mass.
# ----------------------------------------------------------------------

def test_kl_half_line_target_error_finite():
    """KL(|Z| || chi(3)) = E[-2 log |Z|] = gamma + log 2.

    p(y) = 2 phi(y) and q(y) = sqrt(2/pi) y^2 exp(-y^2/2) on y > 0, so
    log(p/q) = -2 log y, and E[log |Z|] = -(gamma + log 2)/2. The old tail
    bound evaluated log q at the left cut y = 0, where it is -inf, though
    no model mass lies left of 0: error = inf.
    """
    absolute_value = PiecewiseLinearMap([0.0], [0.0], -1.0, 1.0)
    result = kl_divergence(absolute_value, UnivariateDistribution(stats.chi(3)))
    _check(result, mpmath.euler + mpmath.log(2), 1e-10)


# ----------------------------------------------------------------------
# Gaussian terms narrower than a float64 spacing inside a wide segment.
# ----------------------------------------------------------------------

def test_tv_sub_ulp_term_in_wide_segment():
    """g = 3 + z for z < 0 and 3 + 1e-20 z for 0 < z < 1e25, against N(0, 1).

    The right piece puts mass 1/2 within 4e-19 of y = 3, below one float64
    spacing (4.4e-16), at the end of the segment [3, 3 + 1e5]. The old code
    lost that mass without a trace: 0.3677 with error 4e-13.

    Exact: the model is phi(y - 3) on y < 3 plus (almost) 1/2 at 3, so
    2 TV = int_{-inf}^3 |phi(y - 3) - phi(y)| dy + (1 - Phi(3)) + 1/2, with
    the densities crossing at 1.5.
    """
    g = PiecewiseLinearMap([0.0, 1e25], [3.0, 3.0 + 1e5], 1.0, 1e-20)
    Phi = stats.norm.cdf
    below = (Phi(1.5) - Phi(-1.5)) + (Phi(0.0) - Phi(-1.5)) - (Phi(3.0) - Phi(1.5))
    exact = 0.5 * (below + stats.norm.sf(3.0) + 0.5)
    _check(tv_distance(g, GaussianMixture([1.0], [0.0], [1.0])), exact, 1e-11)


def _v_shape_kl(scale):
    r"""KL(h#N(0, s^2) || N(0, 1)) for the V of ``_V_SHAPE`` near z = 0, to O(s), in mpmath.

    Near 0 the model is y = -1 + s x with x >= 0 of density
    p(x) = phi(x/1.5)/1.5 + phi(x/2)/2, and q(y) = phi(-1) up to O(s), so
    KL = -H(p) - log s - log phi(-1).
    """
    with mpmath.workdps(30):
        def p(x):
            return mpmath.npdf(x / 1.5) / 1.5 + mpmath.npdf(x / 2) / 2

        entropy = -mpmath.quad(lambda x: p(x) * mpmath.log(p(x)), [0, 5, 20, 80])
        return -entropy - mpmath.log(scale) - mpmath.log(mpmath.npdf(-1))


_V_SHAPE = PiecewiseLinearMap([-1.0, 0.0, 2.0], [0.5, -1.0, 3.0], -2.0, 0.25)


@pytest.mark.parametrize("scale", [1e-17, 1e-200, 2.2e-308, 5e-324])
def test_distances_of_a_sub_ulp_latent_scale(scale):
    """Latent scale far below a float64 spacing of y: two terms on one lump.

    Old code: TV 0 (exact: 1 up to 1e-16) and KL 0 (exact 460.64) for
    s = 1e-200, with errors of 1e-299; KL 205.65 +- 205.65 for s = 1e-17
    (exact 39.268), because the second term of the lump was read at the
    float64 y, many of its widths away. For s = 2.2e-308 the density
    1.2e307 times its log overflowed and KL was inf (exact 708.53); for
    the subnormal s = 5e-324, s * 1.5 rounded to a subnormal (exact 744.56).
    """
    model = PushforwardMeasure(_V_SHAPE, scale=scale)
    target = GaussianMixture([1.0], [0.0], [1.0])
    _check(tv_distance(model, target), 1.0, 1e-12)
    _check(kl_divergence(model, target), _v_shape_kl(scale), 1e-9)


def test_ridge_map_with_a_tiny_direction():
    """RidgeMap([1e-200, 0], h)#N(0, I_2) = h#N(0, 1e-400): as above for s = 1e-200."""
    ridge = RidgeMap([1e-200, 0.0], _V_SHAPE)
    target = GaussianMixture([1.0], [0.0], [1.0])
    _check(tv_distance(ridge.pushforward(), target), 1.0, 1e-12)
    _check(ridge.kl_divergence(target), _v_shape_kl(1e-200), 1e-9)


def test_pushforward_measure_rejects_a_map_of_another_type():
    """A string for g raised AttributeError from deep inside; now a TypeError naming g."""
    with pytest.raises(TypeError, match="g must be a PiecewiseLinearMap, got g of type str"):
        PushforwardMeasure("identity")
