"""Total variation bounds (Theorem 4, Corollaries 5 and 6) never exceed the exact distance.

The model is ``rho = g#N(0, 1)`` for a random piecewise-linear ``g``; its
total variation distance to the target is computed by
:func:`isobounds.pushforward.tv_distance` (exact masses on the set where the
model density is larger, with an error estimate ``error``), and each bound
is evaluated with ``L = Lip(g)``, the exact largest slope. A bound may
equal the distance, so the check allows ``error`` plus 1e-12.
"""

import mpmath
from hypothesis import example, given, settings
from hypothesis import strategies as st

from isobounds.bounds import (
    maximize_tv_over_radius,
    tv_lower_bound,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)
from isobounds.measures import DisconnectedSupport, GaussianMixture
from isobounds.pushforward import PiecewiseLinearMap, tv_distance
from isobounds.sets import Interval
from isobounds.testing import gaussian_mixtures, intervals, piecewise_linear_maps, radii

MAPS = piecewise_linear_maps(max_pieces=6, max_lip=20.0)
TARGETS = gaussian_mixtures(max_components=3)
IDENTITY = PiecewiseLinearMap([0.0], [0.0], 1.0, 1.0)
SLACK = 1e-12


def _fewer_examples(divisor):
    """Settings with the active profile's example count divided by ``divisor`` (at least 25)."""
    return settings(max_examples=max(25, settings().max_examples // divisor))


def _exact_tv_upper(g, target):
    """Exact total variation plus its error estimate and a rounding slack."""
    result = tv_distance(g, target)
    return result.value + result.error + SLACK


@given(MAPS, TARGETS, intervals(), radii())
@example(IDENTITY, GaussianMixture([0.5, 0.5], [-40, 40], 1.0), Interval(-1, 1), 10.0)
def test_theorem4_with_model_mass(g, target, A, r):
    rho = g.pushforward()
    bound = tv_lower_bound(A, r, g.lipschitz_constant(), target=target, model_mass=rho.mass(A))
    assert bound <= _exact_tv_upper(g, target)


@given(MAPS, TARGETS, intervals(), radii())
def test_theorem4_model_free(g, target, A, r):
    bound = tv_lower_bound(A, r, g.lipschitz_constant(), target=target)
    assert bound <= _exact_tv_upper(g, target)


@_fewer_examples(4)
@given(MAPS, TARGETS, intervals(allow_infinite=True), st.booleans())
def test_theorem4_maximized_over_radius(g, target, A, use_model_mass):
    """The supremum over r is a bound too, with or without the model mass."""
    model_mass = g.pushforward().mass(A) if use_model_mass else None
    bound = maximize_tv_over_radius(A, g.lipschitz_constant(), target=target, model_mass=model_mass)
    assert bound.value <= _exact_tv_upper(g, target)


@st.composite
def two_gaussians(draw):
    """Balanced two-Gaussian targets (m1, m2, sigma), modes up to 20 apart."""
    m1 = draw(st.floats(min_value=-10.0, max_value=10.0))
    gap = draw(st.floats(min_value=0.0, max_value=20.0))
    sigma = draw(st.floats(min_value=0.2, max_value=3.0))
    return m1, m1 + gap, sigma


@given(MAPS, two_gaussians())
@example(IDENTITY, (-5.0, 5.0, 1.0))
@example(PiecewiseLinearMap([-0.1, 0.1], [-5.0, 5.0], 0.1, 0.1), (-5.0, 5.0, 1.0))
def test_corollary6_two_gaussians(g, params):
    m1, m2, sigma = params
    target = GaussianMixture([0.5, 0.5], [m1, m2], sigma)
    bound = tv_lower_bound_two_gaussians(m1, m2, sigma, g.lipschitz_constant())
    assert bound <= _exact_tv_upper(g, target)


@st.composite
def two_pieces(draw):
    """A target uniform on two disjoint intervals: (pieces, weight of the first, distance)."""
    a = draw(st.floats(min_value=-10.0, max_value=5.0))
    width1 = draw(st.floats(min_value=0.1, max_value=5.0))
    distance = draw(st.floats(min_value=0.01, max_value=20.0))
    width2 = draw(st.floats(min_value=0.1, max_value=5.0))
    weight = draw(st.floats(min_value=0.01, max_value=0.99))
    first = Interval(a, a + width1)
    second = Interval(a + width1 + distance, a + width1 + distance + width2)
    return DisconnectedSupport([first, second], [weight, 1 - weight]), weight, second.a - first.b


@given(MAPS, two_pieces())
def test_corollary5_disconnected_support(g, params):
    target, weight, distance = params
    bound = tv_lower_bound_disconnected(weight, distance, g.lipschitz_constant())
    assert bound > 0
    assert bound <= _exact_tv_upper(g, target)


def test_corollary5_far_pieces_split_model():
    # g maps [-1, 1] linearly onto [-100.5, 100.5] and is flat outside, with
    # atoms of mass Phi(-1) at -+100.5, inside the target's pieces.
    target = DisconnectedSupport([Interval(-101, -100), Interval(100, 101)], [0.5, 0.5])
    g = PiecewiseLinearMap([-1.0, 1.0], [-100.5, 100.5], 0.0, 0.0)
    bound = tv_lower_bound_disconnected(0.5, 200.0, g.lipschitz_constant())
    exact = tv_distance(g, target)
    with mpmath.workdps(30):
        # The model density phi(z) / 100.5 is below the target's 1/2 on the
        # pieces, so A* = (-100, 100) plus the two atoms.
        expected = mpmath.ncdf(100 / mpmath.mpf(100.5)) - mpmath.ncdf(-100 / mpmath.mpf(100.5)) + 2 * mpmath.ncdf(-1)
        assert abs(exact.value - expected) < 1e-12
        assert bound <= exact.value + exact.error
        # Phi(D / (2L) + Phi_inv(1/2)) - 1/2 with D = 200, L = 100.5.
        assert abs(bound - (mpmath.ncdf(100 / mpmath.mpf(100.5)) - mpmath.mpf(0.5))) < mpmath.mpf(10) ** -25
