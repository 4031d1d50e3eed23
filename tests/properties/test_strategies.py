"""The public strategies of isobounds.testing draw valid, extreme and shrinkable arguments."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import find, given, settings

import isobounds.pushforward
import isobounds.testing
from isobounds.bounds import extension_mass_lower_bound
from isobounds.measures import GaussianMixture
from isobounds.pushforward import PiecewiseLinearMap
from isobounds.sets import HalfSpace, Interval
from isobounds.testing import (
    gaussian_mixtures,
    half_spaces,
    intervals,
    lipschitz_constants,
    piecewise_linear_maps,
    probabilities,
    radii,
)


@pytest.mark.parametrize("module", [isobounds.testing, isobounds.pushforward])
def test_all_names_exist(module):
    for name in module.__all__:
        assert hasattr(module, name), name


@given(probabilities())
def test_probabilities_in_open_unit_interval(p):
    assert 0 < p < 1


def test_probabilities_reach_extreme_tails():
    assert find(probabilities(), lambda p: p <= 1e-300) <= 1e-300
    assert find(probabilities(), lambda p: p >= 1 - 1e-15) >= 1 - 1e-15


@given(lipschitz_constants())
def test_lipschitz_constants_positive_finite(lip):
    assert 1e-3 <= lip <= 1e300


@settings(max_examples=100)
@given(piecewise_linear_maps(max_pieces=5, max_lip=3.0))
def test_maps_respect_limits(g):
    assert isinstance(g, PiecewiseLinearMap)
    assert 2 <= g.n_pieces <= 5
    assert 0 < g.lipschitz_constant() <= 3.0 * (1 + 1e-12)


@settings(max_examples=50)
@given(piecewise_linear_maps(allow_flat=False))
def test_maps_without_flat_pieces(g):
    assert np.all(g.slopes != 0)


@settings(max_examples=50)
@given(gaussian_mixtures(dim=2, max_components=4))
def test_mixtures_are_normalised(target):
    assert isinstance(target, GaussianMixture)
    assert target.dim == 2
    with mpmath.workdps(40):
        assert abs(mpmath.fsum(target.weights) - 1) < mpmath.mpf(10) ** -25


@given(intervals(), radii())
def test_intervals_and_radii(A, r):
    assert isinstance(A, Interval)
    assert A.a <= A.b
    assert r >= 0


@given(half_spaces(3))
def test_half_spaces_have_unit_normals(H):
    assert isinstance(H, HalfSpace)
    assert math.isclose(math.fsum(float(c) ** 2 for c in H.normal), 1.0, rel_tol=1e-12)


@settings(max_examples=50)
@given(piecewise_linear_maps(max_pieces=5, max_lip=10), intervals(), radii())
def test_package_example(g, A, r):
    # The example of the isobounds.testing docstring.
    rho = g.pushforward()
    alpha = extension_mass_lower_bound(rho.mass(A), r, g.lipschitz_constant())
    assert rho.mass(A.extension(r)) >= alpha * (1 - 1e-12)


@pytest.mark.parametrize("make", [
    lambda: piecewise_linear_maps(max_pieces=1),
    lambda: piecewise_linear_maps(max_lip=0.0),
    lambda: lipschitz_constants(min_value=0.0),
    lambda: half_spaces(0),
    lambda: radii(max_value=-1.0),
])
def test_invalid_strategy_arguments_raise(make):
    with pytest.raises(ValueError):
        find(make(), lambda value: True)
