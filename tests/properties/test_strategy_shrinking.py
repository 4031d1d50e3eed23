"""Shrinking and extreme draws of the map and Lipschitz strategies."""

import math

from hypothesis import HealthCheck, find, given, settings
from scipy.special import ndtr

from isobounds.measures import GaussianMixture
from isobounds.pushforward import tv_distance
from isobounds.testing import lipschitz_constants, piecewise_linear_maps

QUICK = settings(database=None, deadline=None, max_examples=10, suppress_health_check=list(HealthCheck))


def test_maps_shrink_to_unit_slopes():
    g = find(piecewise_linear_maps(), lambda g: True, settings=settings(database=None))
    assert g.n_pieces == 2
    assert list(g.slopes) == [1.0, 1.0]


def test_lipschitz_constants_shrink_towards_one():
    constant = find(lipschitz_constants(), lambda x: x > 5, settings=settings(database=None))
    assert 5 < constant <= 10


def test_maps_without_flat_pieces():
    @settings(database=None, deadline=None, max_examples=100)
    @given(piecewise_linear_maps(allow_flat=False))
    def check(g):
        assert (g.slopes != 0).all()

    check()


def test_extreme_lipschitz_maps_give_distances():
    standard = GaussianMixture([1.0], [0.0], [1.0])
    for max_lip in (1e300, 1e-300):
        @QUICK
        @given(piecewise_linear_maps(max_lip=max_lip, allow_flat=False, max_pieces=3))
        def check(g):
            result = tv_distance(g, standard)
            # Every slope has magnitude at least 1e-3 max_lip and at most max_lip.
            # With max_lip = 1e300, rho puts at most about 1e-295 on [-40, 40],
            # where N(0, 1) has all but Phi(-40) < 1e-300 of its mass. With
            # max_lip = 1e-300, rho puts all but Phi(-1e280) within 1e-280 of
            # one point. Either way TV > 1 - 1e-6.
            assert math.isfinite(result.value)
            assert result.value >= 1 - 1e-6 - result.error
            assert result.error < 1e-6

        check()
    assert ndtr(-40.0) < 1e-300  # the mass bound used above
