"""The public strategies of isobounds.testing draw valid, extreme and shrinkable arguments."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis.errors import NoSuchExample

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
    tight_bound_cases,
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


def test_map_knots_stay_in_range():
    # Before the gaps were bounded, the default max_knot = 5 gave knots up to 6 and beyond.
    # With max_knot = 1e6 the knots were summed in float64 and gaps fell to 0.00099999998929.
    for max_knot, min_gap in ((5.0, 1e-2), (0.5, 0.3), (1e-3, 1e-4), (1e6, 1e-3), (100.0, 50.0)):
        strategy = piecewise_linear_maps(max_pieces=8, max_knot=max_knot, min_gap=min_gap)
        with pytest.raises(NoSuchExample):
            find(strategy, lambda g: np.abs(g.knots).max() > max_knot, settings=settings(max_examples=300))
        with pytest.raises(NoSuchExample):
            find(strategy, lambda g: np.diff(g.knots).min(initial=np.inf) < min_gap, settings=settings(max_examples=300))


@pytest.mark.parametrize("max_lip", [1e-6, 1e-12, 1e-300, 1e300])
def test_maps_without_flat_pieces_at_extreme_max_lip(max_lip):
    # A small max_lip used to give slopes lost in the rounding of values of order 5.
    strategy = piecewise_linear_maps(max_lip=max_lip, allow_flat=False)
    with pytest.raises(NoSuchExample):
        find(strategy, lambda g: any(s == 0 for s in g.exact_slopes()), settings=settings(max_examples=300))
    with pytest.raises(NoSuchExample):
        find(strategy, lambda g: g.lipschitz_constant() > max_lip, settings=settings(max_examples=300))


def test_map_knots_reach_range_ends():
    assert find(piecewise_linear_maps(), lambda g: g.knots.max() >= 4.9).knots.max() <= 5.0
    assert find(piecewise_linear_maps(), lambda g: g.knots.min() <= -4.9).knots.min() >= -5.0


def test_interval_ends_stay_in_range():
    # Before, a + length was unbounded: the default max_abs = 15 gave Interval(0, 16).
    for min_length in (0.0, 3.0, 30.0):
        strategy = intervals(max_abs=15.0, allow_infinite=False, min_length=min_length)
        with pytest.raises(NoSuchExample):
            find(strategy, lambda A: max(abs(A.a), abs(A.b)) > 15.0, settings=settings(max_examples=300))
        with pytest.raises(NoSuchExample):
            find(strategy, lambda A: A.b - A.a < min_length, settings=settings(max_examples=300))


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


@settings(max_examples=50)
@given(tight_bound_cases())
def test_tight_cases_are_valid(case):
    g, target, region, radius = case
    assert isinstance(g, PiecewiseLinearMap)
    assert isinstance(target, GaussianMixture)
    assert isinstance(region, Interval)
    assert math.isinf(region.a) or math.isinf(region.b)
    assert radius > 0
    with mpmath.workdps(40):
        assert abs(mpmath.fsum(target.weights) - 1) < mpmath.mpf(10) ** -25
    assert min(target.weights) > 0
    # Lip(g) is the slope s of the central piece, which is also the near
    # component's standard deviation up to the perturbation.
    assert float(g.lipschitz_constant()) == pytest.approx(abs(g.slopes[1]), rel=1e-12)


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
    lambda: piecewise_linear_maps(max_knot=0.0),
    lambda: piecewise_linear_maps(min_gap=-1.0),
    lambda: intervals(max_abs=math.inf),
    lambda: intervals(max_abs=1.0, min_length=3.0),
    lambda: gaussian_mixtures(min_weight=0.0),
    lambda: gaussian_mixtures(max_components=3, min_weight=0.4),
    lambda: piecewise_linear_maps(max_lip=1e-310),
    lambda: piecewise_linear_maps(max_lip=1e307, max_knot=5.0),
    lambda: tight_bound_cases(max_far_components=-1),
    lambda: tight_bound_cases(max_far_weight=0.6),
    lambda: tight_bound_cases(max_perturbation=-1e-3),
])
def test_invalid_strategy_arguments_raise(make):
    with pytest.raises(ValueError):
        find(make(), lambda value: True)


@pytest.mark.parametrize("min_weight", [0.01, 0.2, 1 / 3])
def test_mixture_weights_respect_min_weight(min_weight):
    strategy = gaussian_mixtures(max_components=3, min_weight=min_weight)
    with pytest.raises(NoSuchExample):
        # The tolerance absorbs the rounding of a float min_weight such as 0.2.
        find(strategy, lambda target: min(target.weights) < min_weight * (1 - 1e-12), settings=settings(max_examples=300))


def test_maps_with_tiny_min_gap_are_valid():
    # A gap of 1e-20 cannot separate float64 knots near 5; the strategy widens
    # it instead of building a map with repeated knots.
    @settings(max_examples=50)
    @given(piecewise_linear_maps(min_gap=1e-20))
    def check(g):
        assert np.all(np.diff(np.asarray(g.knots, dtype=float)) > 0)

    check()


def test_tight_cases_with_fewer_weight_units_than_components():
    # 1000 * max_far_weight = 2 leaves room for at most two far components of weight >= 1/1000.
    from isobounds.testing import tight_bound_cases

    @settings(max_examples=30, database=None)
    @given(tight_bound_cases(max_far_components=3, max_far_weight=0.002))
    def check(case):
        assert len(case.target.weights) <= 3
        assert sum(case.target.weights[1:]) <= 0.002

    check()
