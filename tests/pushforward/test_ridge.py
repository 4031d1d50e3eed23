"""RidgeMap: z -> h(<w, z>) from R^p to R."""

import mpmath
import numpy as np
import pytest

from isobounds.measures import GaussianMixture
from isobounds.pushforward import PiecewiseLinearMap, RidgeMap, kl_divergence, tv_distance
from isobounds.sets import Interval

PROFILE = PiecewiseLinearMap([-1.0, 0.5], [0.0, 3.0], 0.25, -1.0)
DIRECTION = np.array([1.0, -2.0, 2.0])  # |w| = 3


def test_evaluation_composes_profile_and_projection():
    g = RidgeMap(DIRECTION, PROFILE)
    z = np.random.default_rng(0).standard_normal((100, 3))
    np.testing.assert_array_equal(g(z), PROFILE(z @ DIRECTION))


def test_lipschitz_constant_is_norm_times_slope():
    g = RidgeMap(DIRECTION, PROFILE)
    # Steepest piece of h: (3 - 0) / (0.5 + 1) = 2, and |w| = 3.
    assert g.lipschitz_constant() == 6
    # Difference quotients along w / |w| across the steep piece reach it.
    u = DIRECTION / 3.0
    z0 = -0.1 * u
    quotient = abs(g(z0 + 0.01 * u) - g(z0)) / 0.01
    assert quotient == pytest.approx(6.0, rel=1e-12)


def test_mass_equals_scaled_gaussian_preimage():
    g = RidgeMap(DIRECTION, PROFILE)
    rho = g.pushforward()
    with mpmath.workdps(40):
        # h^{-1}([1, 2]) = [-0.5, 0] (slope 2) and [1.5, 2.5] (slope -1 from
        # h(0.5) = 3), and <w, Z> ~ N(0, 9).
        third = mpmath.mpf(1) / 3
        expected = mpmath.ncdf(0) - mpmath.ncdf(-0.5 * third) + mpmath.ncdf(2.5 * third) - mpmath.ncdf(1.5 * third)
        assert abs(rho.mass(Interval(1, 2), dps=35) - expected) < mpmath.mpf(10) ** -33


def test_mass_against_monte_carlo():
    g = RidgeMap(DIRECTION, PROFILE)
    rng = np.random.default_rng(2)
    samples = g(rng.standard_normal((400_000, 3)))
    for a, b in [(-1.0, 0.5), (0.0, 3.0), (2.5, 10.0)]:
        frequency = np.mean((samples >= a) & (samples <= b))
        error_bar = np.sqrt(frequency * (1 - frequency) / samples.size)
        assert abs(float(g.pushforward().mass(Interval(a, b))) - frequency) < 5 * error_bar


def test_distances_equal_those_of_rescaled_profile():
    # h(<w, Z>) has the law of h(3 Z), and z -> h(3 z) is the map with knots / 3 and slopes * 3.
    g = RidgeMap(DIRECTION, PROFILE)
    rescaled = PiecewiseLinearMap(PROFILE.knots / 3, PROFILE.values, 3 * PROFILE.left_slope, 3 * PROFILE.right_slope)
    target = GaussianMixture([0.5, 0.5], [-2, 2], 1.0)
    assert g.tv_distance(target).value == pytest.approx(tv_distance(rescaled, target).value, abs=1e-12)
    assert g.kl_divergence(target).value == pytest.approx(kl_divergence(rescaled, target).value, rel=1e-10)


@pytest.mark.parametrize("direction, profile, error", [
    (np.zeros(3), PROFILE, ValueError),
    (np.ones((2, 2)), PROFILE, ValueError),
    (np.ones(3), "h", TypeError),
])
def test_invalid_ridge_raises(direction, profile, error):
    with pytest.raises(error):
        RidgeMap(direction, profile)
