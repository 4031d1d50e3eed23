"""Lipschitz bounds (Corollaries 2 and 3) never exceed the Lipschitz constant of an exact map.

Both corollaries assume ``g#N(0, 1) = nu`` exactly. For Corollary 3 the
hypothesis holds with ``nu = g#N(0, 1)`` itself: for a piecewise-linear
``g`` with no flat piece whose two unbounded pieces go to opposite
infinities, ``nu`` has a positive density on R, and the bound must not
exceed the exact ``Lip(g)``.

For Corollary 2 the target is a two-Gaussian mixture, which no
piecewise-linear map pushes ``N(0, 1)`` onto. The valid property checked
here: the bound never exceeds ``Lip(T_OT) = sup_y I(F(y)) / p(y)``, the
Lipschitz constant of the monotone transport map, which is an exact map
onto the target (and the least Lipschitz one); the supremum is bounded
below by an independent mpmath evaluation on a grid containing the
bisector of the means. The proof's step for any exact push-forward,
``Lip(g) >= I(nu(H)) / nu^+(dH)``, is Theorem 1 (1), checked on exact
piecewise-linear push-forwards in ``test_isoperimetry.py``.
"""

import mpmath
import numpy as np
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from isobounds.bounds import lipschitz_lower_bound_two_gaussians, ot_lipschitz_constant
from isobounds.pushforward import PiecewiseLinearMap
from isobounds.testing import piecewise_linear_maps


def _fewer_examples(divisor):
    """Settings with the active profile's example count divided by ``divisor`` (at least 25)."""
    return settings(max_examples=max(25, settings().max_examples // divisor))


@st.composite
def two_gaussians(draw):
    """(m1, m2, sigma, weight) of a two-Gaussian mixture, modes up to 12 sigma apart."""
    sigma = draw(st.floats(min_value=0.2, max_value=3.0))
    m1 = draw(st.floats(min_value=-10.0, max_value=10.0))
    gap = draw(st.floats(min_value=0.0, max_value=12.0)) * sigma
    weight = draw(st.floats(min_value=0.01, max_value=0.99))
    return m1, m1 + gap, sigma, weight


def _transport_lipschitz_on_grid(m1, m2, sigma, weight):
    """max of I(F(y)) / p(y) over 41 points of [m1 - 4s, m2 + 4s] plus the bisector, in mpmath (30 digits)."""
    with mpmath.workdps(30):
        m1, m2, s, w = (mpmath.mpf(x) for x in (m1, m2, sigma, weight))
        grid = [*mpmath.linspace(m1 - 4 * s, m2 + 4 * s, 41), (m1 + m2) / 2]
        best = mpmath.mpf(0)
        for y in grid:
            lower = w * mpmath.ncdf((y - m1) / s) + (1 - w) * mpmath.ncdf((y - m2) / s)
            upper = w * mpmath.ncdf((m1 - y) / s) + (1 - w) * mpmath.ncdf((m2 - y) / s)
            density = (w * mpmath.npdf((y - m1) / s) + (1 - w) * mpmath.npdf((y - m2) / s)) / s
            quantile = -mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * min(lower, upper))
            best = max(best, mpmath.npdf(quantile) / density)
        return best


@_fewer_examples(2)
@given(two_gaussians(), st.booleans())
@example((-5.0, 5.0, 1.0, 0.5), True)
@example((-5.0, 5.0, 1.0, 0.5), False)
def test_corollary2_below_transport_map(params, sharp):
    m1, m2, sigma, weight = params
    bound = lipschitz_lower_bound_two_gaussians(m1, m2, sigma, weight, sharp=sharp)
    transport = _transport_lipschitz_on_grid(m1, m2, sigma, weight)
    with mpmath.workdps(30):
        assert bound <= transport * (1 + mpmath.mpf(10) ** -20)


def test_corollary2_balanced_equals_closed_form():
    # Balanced, s = 1, means -+m: the bound is exp(m^2 / 2), and the transport
    # map's slope at the bisector is I(1/2) / p(0) = exp(m^2 / 2) as well.
    for m in [1.0, 3.0, 6.0]:
        bound = lipschitz_lower_bound_two_gaussians(-m, m, 1)
        with mpmath.workdps(30):
            assert abs(bound / mpmath.exp(mpmath.mpf(m) ** 2 / 2) - 1) < mpmath.mpf(10) ** -25
            assert bound <= _transport_lipschitz_on_grid(-m, m, 1.0, 0.5) * (1 + mpmath.mpf(10) ** -20)
            assert bound >= _transport_lipschitz_on_grid(-m, m, 1.0, 0.5) * (1 - mpmath.mpf(10) ** -20)


def _search_bounds(g):
    """Interval of y covering the image of [-8, 8] (latent mass outside: 1e-15)."""
    points = np.concatenate([g.values, g(np.array([-8.0, 8.0]))])
    return float(points.min()) - 1.0, float(points.max()) + 1.0


@_fewer_examples(2)
@given(piecewise_linear_maps(max_pieces=6, max_lip=20.0, allow_flat=False))
@example(PiecewiseLinearMap([-1.0, 1.0], [-1.0, 1.0], 3.0, 3.0))
def test_corollary3_below_exact_lipschitz(g):
    # The push-forward needs a positive density on R: the unbounded pieces
    # must go to opposite infinities.
    assume(np.sign(g.left_slope) == np.sign(g.right_slope))
    rho = g.pushforward()
    transport = ot_lipschitz_constant(rho, bounds=_search_bounds(g))
    # The generic search of ot_lipschitz_constant runs in float64.
    with mpmath.workdps(30):
        assert transport.value <= g.lipschitz_constant() * (1 + mpmath.mpf("1e-9"))


def test_corollary3_monotone_map_is_transport_map():
    # An increasing g is its own monotone transport map, so the bound is attained.
    g = PiecewiseLinearMap([-2.0, 0.0, 1.5], [-1.0, 5.0, 6.0], 0.5, 2.0)
    transport = ot_lipschitz_constant(g.pushforward(), bounds=_search_bounds(g))
    assert abs(transport.value / g.lipschitz_constant() - 1) < 1e-9
    assert -1.0 <= transport.maximiser <= 5.0
