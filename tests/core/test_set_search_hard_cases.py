"""Set and radius searches on cases that an earlier version missed.

References: the closed form Phi(1) - 1/2 of two point-like modes, the
radius search on one given set (a separate code path from the set
searches), and Corollary 5 for a disconnected support.
"""

import math
import warnings

import mpmath
import pytest

import isobounds
from isobounds import Ball, DisconnectedSupport, GaussianMixture, HalfSpace, Interval
from isobounds.bounds import (
    maximize_tv_over_half_spaces,
    maximize_tv_over_intervals,
    maximize_tv_over_radius,
    maximize_tv_two_gaussians,
)

# Two modes at -1 and 1 narrower than any radius of interest, lip 1: the bound tends to
# Phi(1) - 1/2 (half-line at 0, radius 1 from each side).
POINT_MODES_BOUND = float(mpmath.ncdf(1) - mpmath.mpf(1) / 2)


def test_half_spaces_find_narrow_offset_peak_in_plane():
    # The half-space {y <= 2.7247} separating the top mode from the bottom two has a narrow
    # peak in its offset, between two points of the coarse offset grid.
    target = GaussianMixture([1 / 3, 1 / 3, 1 / 3], [[0.0, 0.0], [6.0, 0.0], [3.0, 5.2]], 1.0)
    found = maximize_tv_over_half_spaces(5.0, target=target)
    separating = maximize_tv_over_radius(HalfSpace([0.0, 1.0], 2.72471373), 5.0, target=target)
    assert separating.value > 0.0486
    assert found.value >= separating.value - 1e-9


@pytest.mark.parametrize("sigma", ["1e-4", "1e-10", "1e-50", "1e-200"])
def test_intervals_reach_rays_for_point_like_modes(sigma):
    target = GaussianMixture([0.5, 0.5], [-1.0, 1.0], mpmath.mpf(sigma))
    intervals = maximize_tv_over_intervals(1.0, target=target)
    rays = maximize_tv_over_half_spaces(1.0, target=target)
    assert intervals.value >= rays.value - 1e-15
    assert float(intervals.value) == pytest.approx(POINT_MODES_BOUND, abs=2e-4 if sigma == "1e-4" else 1e-9)


def test_intervals_reach_rays_far_modes():
    target = GaussianMixture([0.5, 0.5], [-1000.0, 1000.0], 1.0)
    intervals = maximize_tv_over_intervals(1000.0, target=target)
    rays = maximize_tv_over_half_spaces(1000.0, target=target)
    assert intervals.value >= rays.value - 1e-15


@pytest.mark.parametrize("sigma", ["1e-8", "1e-20"])
def test_radius_search_reaches_kink_maximum(sigma):
    # The maximum sits where the shell reaches the other narrow mode, a kink of the bound;
    # golden-section search converges there only linearly.
    target = GaussianMixture([0.5, 0.5], [-1.0, 1.0], mpmath.mpf(sigma))
    found = maximize_tv_over_radius(Interval(-math.inf, 0.0), 1.0, target=target, dps=30)
    with mpmath.workdps(30):
        scan = max(isobounds.tv_lower_bound(Interval(-math.inf, 0.0), 1 - k * mpmath.mpf(sigma), 1.0,
                                            target=target, dps=30)
                   for k in mpmath.linspace(0, 8, 161))
    assert found.value >= scan - mpmath.mpf("1e-13")


@pytest.mark.parametrize("lip", [1e-310, 5e-324, mpmath.mpf("1e-400")])
@pytest.mark.parametrize("search", [maximize_tv_over_half_spaces, maximize_tv_over_intervals])
def test_set_searches_accept_lip_below_float_range(search, lip):
    target = GaussianMixture([0.5, 0.5], [-5.0, 5.0], 1.0)
    reference = maximize_tv_over_radius(HalfSpace([1.0], 0.0), lip, target=target)
    found = search(lip, target=target)
    assert found.value >= reference.value - 1e-15


def test_default_radius_range_of_small_balls():
    # Two discs of radius 1e-8 at distance 2e-8: the default radius range follows their size.
    size = 1e-8
    target = DisconnectedSupport([Ball([0.0, 0.0], size), Ball([4 * size, 0.0], size)], [0.5, 0.5])
    found = maximize_tv_over_radius(HalfSpace([1.0, 0.0], 2 * size), 1.0, target=target)
    corollary5 = isobounds.tv_lower_bound_disconnected([0.5, 0.5], [[0, 2 * size], [2 * size, 0]], 1.0)
    assert found.value > 0.9 * corollary5


@pytest.mark.parametrize("search", [maximize_tv_over_half_spaces, maximize_tv_over_intervals])
def test_model_free_radii_pair_reproduces_value(search):
    target = GaussianMixture([0.3, 0.7], [-2.0, 3.0], 0.8)
    found = search(2.0, target=target)
    again = isobounds.tv_lower_bound(found.region, found.radius, 2.0, target=target)
    assert again == found.value


@pytest.mark.parametrize("r,message", [
    ((1.0, 2.0, 3.0), "one radius or a pair"),
    ((1.0, -1.0), "r\\[1\\]"),
])
def test_radii_pair_rejects_bad_input(r, message):
    target = GaussianMixture([0.5, 0.5], [-2.0, 2.0], 1.0)
    with pytest.raises(ValueError, match=message):
        isobounds.tv_lower_bound(HalfSpace([1.0], 0.0), r, 2.0, target=target)


def test_radii_pair_needs_model_free_bound():
    target = GaussianMixture([0.5, 0.5], [-2.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="model_mass"):
        isobounds.tv_lower_bound(HalfSpace([1.0], 0.0), (1.0, 2.0), 2.0, target=target, model_mass=0.4)


def test_interval_grid_points_limit():
    target = GaussianMixture([0.5, 0.5], [-2.0, 2.0], 1.0)
    with pytest.raises(ValueError, match="grid_points must be an integer from 3 to 2001"):
        maximize_tv_over_intervals(2.0, target=target, grid_points=10**9)


@pytest.mark.parametrize("dps", [15, 16])
@pytest.mark.parametrize("lip", [1.0, 3.0, 1e19])
def test_kink_radius_survives_rounding_to_output_digits(dps, lip):
    # The search finds the radius a few 1e-18 below the kink at r = 1; rounded to 15 or 16
    # digits it lands on the kink, where the shell takes half a mode of width 1e-20.
    target = GaussianMixture([0.5, 0.5], [-1.0, 1.0], mpmath.mpf("1e-20"))
    region = HalfSpace([1.0], 0.0)
    reference = maximize_tv_over_radius(region, lip, target=target, dps=30).value
    found = maximize_tv_over_radius(region, lip, target=target, dps=dps)
    assert found.value >= reference * (1 - mpmath.mpf(10) ** (3 - dps))
    if lip == 1.0:
        assert float(found.value) == pytest.approx(POINT_MODES_BOUND, rel=1e-12)


@pytest.mark.parametrize("search", ["half_spaces", "intervals"])
def test_set_search_modes_beyond_float64_squares(search):
    # Modes 2e600 standard deviations apart: every float64 score overflows. The
    # search must stay silent and reach the bisecting half-space's optimised bound.
    target = GaussianMixture([0.5, 0.5], [-1e300, 1e300], 1e-300)
    function = maximize_tv_over_half_spaces if search == "half_spaces" else maximize_tv_over_intervals
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = function(1e300, target=target)
    bisecting = maximize_tv_two_gaussians(-1e300, 1e300, 1e-300, 1e300).value
    assert result.value >= bisecting * (1 - mpmath.mpf("1e-25"))


def test_half_spaces_three_point_like_modes_beyond_float64():
    # Three modes 1e600 standard deviations apart: the median offset lies
    # about 2040 bisections below the first bracket. The ray between two
    # modes leaves mass 1/3 on one side, so the model-free bound of Theorem 4
    # tends to min(1/3, 2/3) = 1/3 as the gap grows.
    target = GaussianMixture([1 / 3, 1 / 3, 1 / 3], [-1e300, 0.0, 1e300], 1e-300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = maximize_tv_over_half_spaces(3.0, target=target)
    assert float(result.value) == pytest.approx(1 / 3, rel=1e-14)
    assert abs(float(result.region.offset)) == pytest.approx(5e299, rel=1e-12)


@pytest.mark.parametrize("search", ["half_spaces", "intervals"])
@pytest.mark.parametrize("offset", ["1e12", "1e40"])
def test_set_search_modes_far_from_origin(search, offset):
    # Theorem 4 does not change under translation, so (1/2)[N(c - 5, 1) + N(c + 5, 1)]
    # reaches the bisecting half-space's bound of (1/2)[N(-5, 1) + N(5, 1)], with the set
    # at c. Before the search centred the means, c = 1e12 cost 11 digits of the value
    # and c = 1e40 returned 0. At 20 digits the set keeps its place only because its
    # location is shifted back exactly.
    with isobounds.precision(60):
        center = mpmath.mpf(offset)
        target = GaussianMixture([0.5, 0.5], [center - 5, center + 5], 1)
    function = maximize_tv_over_half_spaces if search == "half_spaces" else maximize_tv_over_intervals
    result = function(3.0, target=target, dps=20)
    bisecting = maximize_tv_two_gaussians(-5, 5, 1, 3.0, dps=20).value
    location = result.region.offset if search == "half_spaces" else result.region.b
    if search == "intervals" and location == mpmath.inf:
        location = result.region.a

    assert abs(result.value - bisecting) < mpmath.mpf("1e-18")
    assert abs(mpmath.fsub(location, center, exact=True)) < mpmath.mpf("1e-9")


@pytest.mark.parametrize("dps", [15, 30])
def test_set_search_value_translation_invariant(dps):
    # Unequal weights and sigmas, at c = 0 and c = 1e40 (means built at 60 digits): the
    # bound must not change. At c = 1e40 the value was 0.6 % low, or above the bound at
    # c = 0 for other offsets, and the interval search at 15 digits returned a ray.
    with isobounds.precision(60):
        near = GaussianMixture([0.3, 0.7], [-2, 3], [1.0, 0.5])
        far = GaussianMixture([0.3, 0.7], [mpmath.mpf("1e40") - 2, mpmath.mpf("1e40") + 3], [1.0, 0.5])
    for function in (maximize_tv_over_half_spaces, maximize_tv_over_intervals):
        reference = function(1.3, target=near, dps=dps)
        result = function(1.3, target=far, dps=dps)
        assert abs(result.value - reference.value) <= abs(reference.value) * mpmath.mpf(10) ** (2 - dps)
