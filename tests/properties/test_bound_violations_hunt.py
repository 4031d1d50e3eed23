"""Adversarial checks that no lower bound exceeds the true distance, against independent truths.

Each case has a model whose distance to the target is known without the
library. It is a closed form (two Gaussians of equal variance, or the KL
divergence between two centred Gaussians), or an exact fit (a target that a
map of the given Lipschitz constant pushes forward exactly, so every
distance is 0). Otherwise it is computed from the push-forward density of a
piecewise-linear map, derived by hand, with scipy root finding and
Gauss-Legendre quadrature. The cases sit where the bounds are tight or where
their validity condition switches, so that an inflated bound would show.
"""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import optimize, special

from isobounds.bounds import (
    kl_lower_bound,
    kl_lower_bound_two_gaussians,
    lipschitz_lower_bound_for_tv,
    maximize_kl_over_radius,
    maximize_tv_over_half_spaces,
    maximize_tv_over_radius,
    maximize_tv_two_gaussians,
    tv_lower_bound,
    tv_lower_bound_two_gaussians,
)
from isobounds.measures import GaussianMixture
from isobounds.sets import Interval

DPS = 30


def _at_most(value, truth, dps=DPS):
    """Tell whether ``value <= truth`` up to the rounding of ``value`` to ``dps`` digits, compared at 200 digits.

    The comparison must not run at the default 15 digits, where the
    truth would be rounded first.
    """
    with mpmath.workdps(200):
        return value <= truth * (1 + mpmath.mpf(10) ** (2 - dps))


# ---------------------------------------------------------------------------
# Closed form: model N(mu, s^2) (the map z -> mu + s z, L = s), target N(mu + d, s^2).
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "mu, s, shift_exponent",
    [(0.0, 1.0, -50), (2.0, 0.3, -20), (-1.0, 2.0, -2), (0.0, 1.0, -133), (3.0, 0.7, 1), (0.0, 1.0, 3)],
)
def test_shifted_gaussian_bounds_stay_below_closed_form_tv(mu, s, shift_exponent):
    """At the midpoint ray, Theorem 4 with the model mass tends to the distance itself (r -> 0), so it is tight.

    The shift ``d = 2**shift_exponent`` and the midpoint ``mu + d/2`` are
    exact binary numbers, so the target and the set are the ones of the
    closed form at every precision.
    """
    shift = mpmath.ldexp(1, shift_exponent)
    with mpmath.workdps(200):
        sigma = mpmath.mpf(s)
        # TV(N(0, s^2), N(d, s^2)) = 2 Phi(d / (2 s)) - 1 = erf(d / (2 sqrt(2) s)).
        tv = mpmath.erf(shift / (2 * mpmath.sqrt(2) * sigma))
        model_mass = mpmath.ncdf(shift / (2 * sigma))
    end = mpmath.fadd(mu, shift / 2, exact=True)
    mean = mpmath.fadd(mu, shift, exact=True)
    target = GaussianMixture([1], [mean], s)
    ray = Interval(mpmath.ninf, end)

    found = maximize_tv_over_radius(ray, s, target=target, model_mass=model_mass, dps=DPS)
    assert _at_most(found.value, tv)
    for r in (found.radius, mpmath.mpf("1e-9"), s, 10 * s):
        assert _at_most(tv_lower_bound(ray, r, s, target=target, model_mass=model_mass, dps=DPS), tv)
        assert _at_most(tv_lower_bound(ray, r, s, target=target, dps=DPS), tv)
    # The model-free forms must not exceed it either (they are 0 here: the target is itself a push-forward by an
    # s-Lipschitz map).
    assert maximize_tv_over_radius(ray, s, target=target, dps=DPS).value == 0


def test_shifted_gaussian_half_space_search_is_zero():
    """Model-free Theorem 4 searched over half-spaces is 0 for a target that an L-Lipschitz map reaches exactly."""
    target = GaussianMixture([1], [0.3], 0.7)
    assert maximize_tv_over_half_spaces(0.7, target=target, dps=DPS).value == 0


# ---------------------------------------------------------------------------
# Exact fit: a balanced two-Gaussian mixture is pushed forward exactly by its monotone transport map.
# ---------------------------------------------------------------------------

def _ot_ratio(m, y, dps=60):
    """``I(F(y)) / p(y)`` for (1/2)[N(-m, 1) + N(m, 1)], with the quantile solved in log space (no cancellation)."""
    with mpmath.workdps(dps):
        y = mpmath.mpf(y)
        lower = (mpmath.erfc(-(y + m) / mpmath.sqrt(2)) + mpmath.erfc(-(y - m) / mpmath.sqrt(2))) / 4
        upper = (mpmath.erfc((y + m) / mpmath.sqrt(2)) + mpmath.erfc((y - m) / mpmath.sqrt(2))) / 4
        log_q = mpmath.log(min(lower, upper))
        density = (mpmath.npdf(y + m) + mpmath.npdf(y - m)) / 2
        start = -mpmath.sqrt(-2 * log_q) if log_q < -1 else mpmath.mpf("-0.1")
        x = mpmath.findroot(lambda t: mpmath.log(mpmath.erfc(-t / mpmath.sqrt(2)) / 2) - log_q, start)
        return mpmath.npdf(x) / density


@pytest.mark.parametrize("m", [1, 25])
def test_exact_fit_of_two_gaussians_gives_zero_bounds(m):
    """With L at or above Lip(T_OT) = exp(m^2 / 2) the distance is 0, so every bound must be exactly 0.

    ``exp(m^2 / 2)`` is ``I(F(0)) / p(0)``. The grid checks independently
    that the ratio is nowhere larger, so that this is Lip(T_OT) (Corollary 3).
    """
    with mpmath.workdps(60):
        lip_ot = mpmath.exp(mpmath.mpf(m) ** 2 / 2)
        grid = [mpmath.mpf(y) for y in np.linspace(-m - 8, m + 8, 41)]
    assert all(_ot_ratio(m, y) <= lip_ot * (1 + mpmath.mpf("1e-40")) for y in grid)

    target = GaussianMixture([0.5, 0.5], [-m, m], 1)
    left = Interval(mpmath.ninf, 0)  # nu(left) = 1/2 exactly, by symmetry
    half = mpmath.mpf(1) / 2
    for lip in (lip_ot * (1 + mpmath.mpf("1e-12")), lip_ot * 10):
        assert tv_lower_bound_two_gaussians(-m, m, 1, lip, dps=DPS) == 0
        assert maximize_tv_two_gaussians(-m, m, 1, lip, dps=DPS).value == 0
        assert kl_lower_bound_two_gaussians(-m, m, 1, lip, half, dps=DPS) == 0

    lip = lip_ot * (1 + mpmath.mpf("1e-12"))
    assert maximize_tv_over_radius(left, lip, target=target, dps=DPS).value == 0
    assert maximize_tv_over_radius(left, lip, target=target, model_mass=half, dps=DPS).value == 0
    assert maximize_kl_over_radius(left, lip, target=target, model_mass=half, dps=DPS).value == 0
    for r in (mpmath.mpf("1e-20"), mpmath.mpf(m) / 2, mpmath.mpf(m), 3 * mpmath.mpf(m)):
        assert tv_lower_bound(left, r, lip, target=target, model_mass=half, dps=DPS) == 0
        assert kl_lower_bound(left, r, lip, target=target, model_mass=half, dps=DPS) == 0

    # Power: just below Lip(T_OT) no map fits exactly, and the optimised bound is positive.
    assert maximize_tv_two_gaussians(-m, m, 1, lip_ot * (1 - mpmath.mpf("1e-6")), dps=DPS).value > 0


def test_exact_fit_half_space_search_is_zero():
    """The half-space search finds no positive bound for an exactly reachable target (m = 2, L = e^2)."""
    target = GaussianMixture([0.5, 0.5], [-2, 2], 1)
    lip = mpmath.exp(2) * (1 + mpmath.mpf("1e-12"))
    assert maximize_tv_over_half_spaces(lip, target=target, dps=DPS).value == 0


# ---------------------------------------------------------------------------
# Theorem 7 on either side of its validity condition: model N(0, L^2) (the map z -> L z), target N(0, 1).
# ---------------------------------------------------------------------------

def _gaussian_scale_kl(lip):
    """KL(N(0, L^2) || N(0, 1)) = -log L + (L^2 - 1) / 2, at 300 digits (it is about (1 - L)^2 near L = 1)."""
    with mpmath.workdps(300):
        lip = mpmath.mpf(lip)
        return -mpmath.log(lip) + (lip * lip - 1) / 2


@pytest.mark.parametrize("eps", ["1e-40", "1e-20", "1e-8", "0.2", "0", "-1e-30", "-1e-8", "-0.3"])
def test_kl_bound_across_its_validity_condition(eps):
    """For A = (-inf, 0], beta >= v exactly when L <= 1.

    For L >= 1 the bound must be 0. For L < 1 it must not exceed the KL
    divergence of the model of the map z -> L z.
    """
    with mpmath.workdps(300):
        lip = 1 - mpmath.mpf(eps)
    truth = _gaussian_scale_kl(lip)
    target = GaussianMixture([1], [0], 1)
    ray = Interval(mpmath.ninf, 0)
    half = mpmath.mpf(1) / 2
    found = maximize_kl_over_radius(ray, lip, target=target, model_mass=half, dps=DPS)
    values = [found.value] + [
        kl_lower_bound(ray, r, lip, target=target, model_mass=half, dps=DPS)
        for r in ("1e-30", "1e-5", "0.75", "2", "30")
    ]
    if lip >= 1:
        assert all(value == 0 for value in values)
    else:
        assert all(_at_most(value, truth) for value in values)
        assert found.value > 0


def test_uncorrected_kl_on_exact_fit():
    """The published Theorem 7 (``corrected=False``) reports a positive value where the divergence is 0."""
    target = GaussianMixture([1], [0], 1)  # pushed forward exactly by z -> z, so also by any L >= 1
    ray = Interval(mpmath.ninf, 0)
    half = mpmath.mpf(1) / 2
    assert kl_lower_bound(ray, 2, 1e6, target=target, model_mass=half, corrected=False) > 0
    assert kl_lower_bound(ray, 2, 1e6, target=target, model_mass=half) == 0


# ---------------------------------------------------------------------------
# Near-optimal piecewise-linear maps: the transport map with slopes capped at L, exact TV and KL by quadrature.
# ---------------------------------------------------------------------------

def _mixture_cdf(y, m, s):
    return 0.5 * (special.ndtr((y + m) / s) + special.ndtr((y - m) / s))


def _mixture_logpdf(y, m, s):
    terms = np.stack([-((y + m) / s) ** 2 / 2, -((y - m) / s) ** 2 / 2])
    return special.logsumexp(terms, axis=0) - math.log(2 * s * math.sqrt(2 * math.pi))


def _capped_transport_map(m, s, cap, n):
    """Knots z_i in [-6, 6], values T(z_i) of the monotone map F^{-1}(Phi(z)), slopes capped at ``cap`` from z = 0."""
    z = np.linspace(-6, 6, n)
    values = np.array([optimize.brentq(lambda y: _mixture_cdf(y, m, s) - special.ndtr(t), -m - 50 * s, m + 50 * s,
                                       xtol=1e-15, rtol=1e-15) for t in z])
    slopes = np.minimum(np.diff(values) / np.diff(z), cap)
    slopes = np.maximum(slopes, 1e-3)
    center = n // 2
    capped = np.empty(n)
    capped[center] = values[center]
    for i in range(center + 1, n):
        capped[i] = capped[i - 1] + slopes[i - 1] * (z[i] - z[i - 1])
    for i in range(center - 1, -1, -1):
        capped[i] = capped[i + 1] - slopes[i] * (z[i + 1] - z[i])
    return z, capped, slopes[0], slopes[-1]


def _inverse(z, v, left, right, y):
    """Preimage ``g^{-1}(y)`` of an increasing piecewise-linear map (vectorised)."""
    y = np.asarray(y, dtype=float)
    inside = np.interp(y, v, z)
    below = z[0] + (y - v[0]) / left
    above = z[-1] + (y - v[-1]) / right
    return np.where(y < v[0], below, np.where(y > v[-1], above, inside))


def _model_logpdf(z, v, left, right, y):
    """log density of g#N(0, 1) for increasing g: log phi(t) - log g'(t) at the preimage t of y."""
    t = _inverse(z, v, left, right, y)
    slopes = np.concatenate(([left], np.diff(v) / np.diff(z), [right]))
    slope = slopes[np.searchsorted(z, t, side="right")]
    return -t * t / 2 - math.log(math.sqrt(2 * math.pi)) - np.log(slope)


def _exact_tv_kl(z, v, left, right, m, s):
    """Exact TV and KL of g#N(0, 1) (g increasing, piecewise linear) to (1/2)[N(-m, s^2) + N(m, s^2)].

    TV is the sum of ``nu(I) - rho(I)`` over the intervals ``I`` where the
    target density is larger, whose ends are the density crossings (sign
    changes on a fine grid, then brentq), with ``rho((a, b]) =
    Phi(g^{-1}(b)) - Phi(g^{-1}(a))``. KL is the latent integral of
    ``phi(t) [log phi(t) - log g'(t) - log q(g(t))]``, by 64-point
    Gauss-Legendre on each linear piece (where it is smooth).
    """
    def difference(y):
        return np.exp(_mixture_logpdf(np.asarray(y, dtype=float), m, s)) - np.exp(_model_logpdf(z, v, left, right, y))

    grid = np.linspace(-m - 12 * s, m + 12 * s, 20001)
    values = difference(grid)
    roots = [optimize.brentq(difference, a, b, xtol=1e-15)
             for a, b, fa, fb in zip(grid, grid[1:], values, values[1:]) if fa * fb < 0]
    ends = [-np.inf, *roots, np.inf]
    tv = 0.0
    for a, b in zip(ends, ends[1:]):
        # The sign at a point inside (a, b) shows on which side of the crossings the interval lies.
        if np.isfinite(a) and np.isfinite(b):
            middle = (a + b) / 2
        elif np.isfinite(b):
            middle = b - 1
        elif np.isfinite(a):
            middle = a + 1
        else:
            middle = 0.0
        if difference(middle) > 0:
            target = _mixture_cdf(b, m, s) - _mixture_cdf(a, m, s)
            model = special.ndtr(_inverse(z, v, left, right, b)) - special.ndtr(_inverse(z, v, left, right, a))
            tv += float(target - model)

    nodes, weights = np.polynomial.legendre.leggauss(64)
    latent_edges = np.concatenate((np.linspace(-38, z[0], 8), z[1:-1], np.linspace(z[-1], 38, 8)))
    slopes = np.concatenate(([left], np.diff(v) / np.diff(z), [right]))
    kl = 0.0
    for a, b in zip(latent_edges, latent_edges[1:]):
        if b <= a:
            continue
        t = (a + b) / 2 + (b - a) / 2 * nodes
        slope = slopes[np.searchsorted(z, (a + b) / 2, side="right")]
        y = np.interp(t, z, v) if z[0] <= a and b <= z[-1] else np.where(t < z[0], v[0] + left * (t - z[0]),
                                                                         v[-1] + right * (t - z[-1]))
        log_phi = -t * t / 2 - math.log(math.sqrt(2 * math.pi))
        integrand = np.exp(log_phi) * (log_phi - math.log(slope) - _mixture_logpdf(y, m, s))
        kl += (b - a) / 2 * float(np.dot(weights, integrand))
    return tv, kl


@settings(max_examples=3, deadline=None)
@given(
    m=st.floats(0.5, 4.0),
    s=st.floats(0.3, 1.5),
    cap_fraction=st.floats(0.05, 1.2),
    n=st.integers(16, 40),
)
@example(m=3.0, s=1.0, cap_fraction=0.5, n=33)
@example(m=1.0, s=0.5, cap_fraction=1.0, n=25)
def test_capped_transport_maps(m, s, cap_fraction, n):
    """Corollaries 6 and 8, Corollary 6 optimised and its inversion in L, against near-optimal L-Lipschitz maps."""
    z, values, left, right = _capped_transport_map(m, s, np.inf, n)
    lip_full = max(np.max(np.diff(values) / np.diff(z)), left, right)
    z, values, left, right = _capped_transport_map(m, s, cap_fraction * lip_full, n)
    inner = np.diff(values) / np.diff(z)
    if np.any(inner <= 0):
        return
    # Lip(g) is the largest exact slope; the float64 slope is rounded, so step one float64 spacing up.
    lip = float(np.nextafter(max(np.max(inner), left, right) * (1 + 4e-16), np.inf))
    tv, kl = _exact_tv_kl(z, values, left, right, m, s)
    tv_upper = tv + 1e-10
    kl_upper = kl * (1 + 1e-9) + 1e-10

    assert tv_lower_bound_two_gaussians(-m, m, s, lip) <= tv_upper
    assert maximize_tv_two_gaussians(-m, m, s, lip).value <= tv_upper
    # The map is increasing, so rho((-inf, 0]) = Phi(g^{-1}(0)).
    model_weight = mpmath.ncdf(mpmath.mpf(float(_inverse(z, values, left, right, 0.0))))
    assert kl_lower_bound_two_gaussians(-m, m, s, lip, model_weight) <= kl_upper
    if tv < 0.5:
        assert lipschitz_lower_bound_for_tv(-m, m, s, tv_upper) <= lip
        assert lipschitz_lower_bound_for_tv(-m, m, s, tv_upper, sharp=True) <= lip
