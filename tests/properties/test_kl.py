"""KL bounds (Theorem 7, Corollary 8, both corrected) never exceed the exact divergence.

``KL(g#N(0, 1) || nu)`` is computed by :func:`isobounds.pushforward.kl_divergence`
(quadrature between the images of the knots, with an error estimate); it
is infinite when ``g`` has a flat piece, so the maps here have none. The
last tests show the erratum: without the validity condition ``beta >= v``
the published formula exceeds the exact divergence.
"""

import mpmath
import numpy as np
from scipy import special
from hypothesis import example, given
from hypothesis import strategies as st

from isobounds.bounds import kl_lower_bound, kl_lower_bound_two_gaussians
from isobounds.measures import GaussianMixture
from isobounds.pushforward import PiecewiseLinearMap, kl_divergence
from isobounds.sets import Interval
from isobounds.testing import gaussian_mixtures, intervals, piecewise_linear_maps, radii

MAPS = piecewise_linear_maps(max_pieces=6, max_lip=20.0, allow_flat=False)
TARGETS = gaussian_mixtures(max_components=3)
IDENTITY = PiecewiseLinearMap([0.0], [0.0], 1.0, 1.0)


def _exact_kl_upper(g, target):
    """Exact divergence plus its error estimate and a relative rounding slack."""
    result = kl_divergence(g, target)
    return result.value + result.error + 1e-12 * (1 + result.value)


@given(MAPS, TARGETS, intervals(), radii())
@example(IDENTITY, GaussianMixture([0.5, 0.5], [-10, 10], 1.0), Interval(-float("inf"), -3), 6.0)
def test_theorem7_corrected(g, target, A, r):
    rho = g.pushforward()
    bound = kl_lower_bound(A, r, g.lipschitz_constant(), target=target, model_mass=rho.mass(A))
    assert bound <= _exact_kl_upper(g, target)


def test_theorem7_tiny_radius():
    # Model = target = N(0, 1): the exact divergence is 0, and at r = 1e-115
    # beta and v = nu(A_r minus A) are both about 1.35e-115. A shell whose
    # ends are rounded to the working precision is empty, which once made
    # the bound +inf.
    target = GaussianMixture([1.0], [0.0], 1.0)
    A = Interval(1, 2)
    bound = kl_lower_bound(A, "1e-115", 1, target=target, model_mass=target.mass(A))
    assert bound <= _exact_kl_upper(IDENTITY, target)


@st.composite
def two_gaussians(draw):
    """Balanced two-Gaussian targets (m1, m2, sigma) with m1 < m2."""
    m1 = draw(st.floats(min_value=-10.0, max_value=10.0))
    gap = draw(st.floats(min_value=1e-3, max_value=20.0))
    sigma = draw(st.floats(min_value=0.2, max_value=3.0))
    return m1, m1 + gap, sigma


@given(MAPS, two_gaussians())
@example(IDENTITY, (-5.0, 5.0, 1.0))
@example(PiecewiseLinearMap([-0.1, 0.1], [-5.0, 5.0], 0.1, 0.1), (-5.0, 5.0, 1.0))
def test_corollary8_corrected(g, params):
    m1, m2, sigma = params
    target = GaussianMixture([0.5, 0.5], [m1, m2], sigma)
    # H1 is the half-line on the side of m1 of the bisector (m1 < m2).
    model_weight = g.pushforward().mass(Interval(-mpmath.inf, (m1 + m2) / 2))
    bound = kl_lower_bound_two_gaussians(m1, m2, sigma, g.lipschitz_constant(), model_weight)
    assert bound <= _exact_kl_upper(g, target)


# ----------------------------------------------------------------------
# The erratum of Theorem 7.
# ----------------------------------------------------------------------

# The identity except for a steep step far in the upper tail: slope 1000 on
# [3, 3.001], so Lip(g) = 1000 while the mass around [-1, 1] moves at slope 1.
STEEP = PiecewiseLinearMap([3.0, 3.001], [3.0, 4.0], 1.0, 1.0)


def test_uncorrected_theorem7_exceeds_exact_kl():
    # Target = the model itself, so the exact divergence is 0, which
    # kl_divergence confirms independently of the bound. A steep map makes
    # the uncorrected formula positive all the same.
    rho = STEEP.pushforward()
    exact = kl_divergence(STEEP, rho)
    assert abs(exact.value) <= 1e-12 + exact.error

    A = Interval(-mpmath.inf, -1)
    r = mpmath.mpf(2)
    lip = STEEP.lipschitz_constant()
    with mpmath.workdps(30):
        uncorrected = kl_lower_bound(A, r, lip, target=rho, model_mass=rho.mass(A), corrected=False)
        corrected = kl_lower_bound(A, r, lip, target=rho, model_mass=rho.mass(A))
        # beta = Phi(r / L + Phi_inv(rho(A))) - rho(A), about 5e-4, is far
        # below v = rho((-1, 1]), about 0.68, and kl(beta || v) is about 1.1.
        assert uncorrected > exact.value + exact.error + 1
        assert corrected == 0


def _monotone_map_with_tail_step(target, step_at=5.0, step_width=1e-4):
    """Piecewise-linear interpolation of the monotone transport map onto ``target``, plus a steep step.

    The interpolation (400 knots on [-6, 6]) pushes N(0, 1) close to the
    target; a rise of 1 over ``[step_at, step_at + step_width]`` makes the
    Lipschitz constant about ``1 / step_width`` while moving only the mass
    ``Phi_c(step_at)`` (about 3e-7).
    """
    y = np.linspace(-15.0, 15.0, 300_001)
    cdf = target.cdf(y)
    z = np.linspace(-6.0, 6.0, 400)
    z = np.sort(np.concatenate([z[np.abs(z - step_at) > 2 * step_width], [step_at, step_at + step_width]]))
    values = np.interp(special.ndtr(z), cdf, y) + np.where(z > step_at, 1.0, 0.0)
    slopes = np.diff(values) / np.diff(z)
    return PiecewiseLinearMap(z, values, slopes[0], slopes[-1])


def test_uncorrected_corollary8_exceeds_exact_kl():
    # With Lip(g) about 1e4, a = Phi(D / (4 s L) + Phi_inv(lam)) - lam is
    # about 6e-5 while b = (Phi(4.5) - Phi(1.5)) / 2 is about 0.033, so the
    # published formula kl(a || b) is about 0.033, above the exact divergence
    # of this near-optimal model.
    target = GaussianMixture([0.5, 0.5], [-3, 3], 1.0)
    g = _monotone_map_with_tail_step(target)
    exact = kl_divergence(g, target)
    model_weight = g.pushforward().mass(Interval(-mpmath.inf, 0))
    lip = g.lipschitz_constant()
    uncorrected = kl_lower_bound_two_gaussians(-3, 3, 1, lip, model_weight, corrected=False)
    corrected = kl_lower_bound_two_gaussians(-3, 3, 1, lip, model_weight)
    assert lip > 1000
    assert uncorrected > exact.value + exact.error
    assert corrected <= exact.value + exact.error
