"""Theorem 4 and Theorem 7 maximised over the radius and over sets."""

import mpmath
import numpy as np
import pytest

import isobounds.bounds as bounds
from isobounds.bounds import (
    maximize_kl_over_radius,
    maximize_tv_over_half_spaces,
    maximize_tv_over_intervals,
    maximize_tv_over_radius,
    maximize_tv_two_gaussians,
    shell_mass_lower_bound,
    tv_lower_bound,
    tv_lower_bound_two_gaussians,
)
from isobounds.measures import GaussianMixture
from isobounds.sets import HalfSpace, Interval

from _bounds_reference import assert_close, mixture_mass, shell_bound


@pytest.fixture(autouse=True)
def _compare_at_60_digits():
    """Arithmetic in the assertions runs at 60 digits (conftest restores the precision)."""
    mpmath.mp.dps = 60


# Two local maxima in r for A = (-inf, 0]: a light narrow mode at 1 makes the bracket
# drop near r = 1, and the heavy mode at 10 caps it near r = 7.
TWO_PEAKS = dict(weights=["0.5", "0.05", "0.45"], means=[-10, 1, 10], sigmas=[1, "0.05", 1])


def _two_peaks():
    return GaussianMixture(TWO_PEAKS["weights"], TWO_PEAKS["means"], TWO_PEAKS["sigmas"])


def test_radius_search_finds_global_maximum():
    target, A = _two_peaks(), Interval(-mpmath.inf, 0)
    result = maximize_tv_over_radius(A, 3, target=target, model_mass="0.5")
    # Brute force: the bracket on a dense radius grid, with reference masses at 60 digits.
    radii = np.linspace(0.01, 20, 2000)
    with mpmath.workdps(60):
        brute = [
            shell_bound("0.5", r, 3, dps=60)
            - mixture_mass(TWO_PEAKS["weights"], TWO_PEAKS["means"], TWO_PEAKS["sigmas"], 0, r, dps=60)
            for r in radii
        ]
    best = max(brute)
    assert best > mpmath.mpf("0.4")
    assert result.value >= best - mpmath.mpf("1e-12")
    assert result.value <= best + mpmath.mpf("1e-4")
    # The first local maximum (near r = 0.9) is far lower: a search stopping at the first decrease fails.
    first_peak = max(brute[:100])
    assert first_peak < mpmath.mpf("0.2")


def test_radius_search_value_is_bound_at_radius():
    target, A = _two_peaks(), Interval(-mpmath.inf, 0)
    result = maximize_tv_over_radius(A, 3, target=target, model_mass="0.5")
    assert result.region == A
    at_radius = tv_lower_bound(A, result.radius, 3, target=target, model_mass="0.5")
    assert_close(result.value, at_radius, mpmath.mpf("1e-27"), abs_tol=mpmath.mpf("1e-29"))


def test_model_free_radius_search_sides():
    target = GaussianMixture.two_gaussians(-4, 4, 1, weight="0.4")
    A = Interval(-mpmath.inf, "0.5")
    result = maximize_tv_over_radius(A, 4, target=target)
    r_a, r_b = result.radius
    side_a = shell_mass_lower_bound(target.mass(A), r_a, 4) - target.mass(A.shell(r_a))
    B = A.complement()
    side_b = shell_mass_lower_bound(target.mass(B), r_b, 4) - target.mass(B.shell(r_b))
    assert_close(result.value, max(min(side_a, side_b), 0), mpmath.mpf("1e-27"), abs_tol=mpmath.mpf("1e-29"))
    # Each side takes its own radius, so the result dominates the common-radius form on a grid.
    for r in np.linspace(0.1, 6, 30):
        assert result.value >= tv_lower_bound(A, r, 4, target=target) - mpmath.mpf("1e-25")


def test_two_gaussians_optimum_matches_brute_force():
    m, lip = 4, 6
    result = maximize_tv_two_gaussians(-m, m, 1, lip)
    with mpmath.workdps(60):
        brute = max(
            mpmath.ncdf(mpmath.mpf(r) / lip) - mpmath.mpf(1) / 2 - (mpmath.ncdf(m + r) - mpmath.ncdf(m - r)) / 2
            for r in np.linspace(0.001, 10, 4000)
        )
    assert result.value >= brute - mpmath.mpf("1e-15")
    assert result.value <= brute + mpmath.mpf("1e-6")
    assert result.value > tv_lower_bound_two_gaussians(-m, m, 1, lip)


def _reference_model_free(weights, means, sigmas, lip, inside, shell_a, shell_b, r_a, r_b, dps):
    """min over A and its complement of beta(nu(.), r / L) - nu(shell), from reference masses."""
    with mpmath.workdps(dps):
        side_a = shell_bound(inside, r_a, lip, dps=dps) - shell_a
        side_b = shell_bound(1 - inside, r_b, lip, dps=dps) - shell_b
        return min(side_a, side_b)


@pytest.mark.parametrize("lip", ["1e300", "1e500"])
def test_optimizers_huge_lip_hundred_sigma(lip):
    # Modes at +-50: the best bounds are of order 1e-300 (resp. 1e-500) and positive,
    # although the fixed-radius Corollary 6 gives 0. References use mpmath.ncdf at 700 digits.
    weights, means, sigmas, dps = ["0.5", "0.5"], [-50, 50], [1, 1], 700
    target = GaussianMixture.two_gaussians(-50, 50, 1)
    assert tv_lower_bound_two_gaussians(-50, 50, 1, lip) == 0

    def mass(a, b):
        return mixture_mass(weights, means, sigmas, a, b, dps=dps)

    bisecting = maximize_tv_two_gaussians(-50, 50, 1, lip)
    r = bisecting.radius
    expected = _reference_model_free(weights, means, sigmas, lip, mass(-mpmath.inf, 0), mass(0, r), mass(-r, 0), r, r, dps)
    assert bisecting.value > 0
    assert_close(bisecting.value, expected, mpmath.mpf("1e-25"))

    ray = maximize_tv_over_half_spaces(lip, target=target)
    t = ray.region.offset * ray.region.normal[0]
    r_a, r_b = ray.radius
    if ray.region.normal[0] < 0:
        # {-x <= offset} = [t, inf): the complement is the ray (-inf, t].
        r_a, r_b = r_b, r_a
    expected = _reference_model_free(
        weights, means, sigmas, lip, mass(-mpmath.inf, t), mass(t, t + r_a), mass(t - r_b, t), r_a, r_b, dps
    )
    assert ray.value > 0
    assert_close(ray.value, expected, mpmath.mpf("1e-25"))
    assert_close(ray.value, bisecting.value, mpmath.mpf("1e-6"))

    interval = maximize_tv_over_intervals(lip, target=target, grid_points=11)
    a, b = interval.region.a, interval.region.b
    r_a, r_b = interval.radius
    assert 2 * r_b < b - a
    expected = _reference_model_free(
        weights, means, sigmas, lip, mass(a, b),
        mass(a - r_a, a) + mass(b, b + r_a), mass(a, a + r_b) + mass(b - r_b, b), r_a, r_b, dps,
    )
    assert interval.value > 0
    assert_close(interval.value, expected, mpmath.mpf("1e-25"))


def test_half_space_search_three_modes():
    weights, means, sigmas = ["0.3", "0.4", "0.3"], [-6, 0, 6], [1, 1, 1]
    target = GaussianMixture(weights, means, sigmas)
    result = maximize_tv_over_half_spaces(8, target=target)
    assert isinstance(result.region, HalfSpace)
    # Coarse brute force over offsets and a common radius with tv_lower_bound.
    brute = max(
        tv_lower_bound(Interval(-mpmath.inf, t), r, 8, target=target)
        for t in np.linspace(-6, 6, 13)
        for r in np.linspace(0.25, 6, 24)
    )
    assert brute > 0
    assert result.value >= brute - mpmath.mpf("1e-20")
    # The value is the model-free bound of the returned half-space at the returned radii.
    r_a, r_b = result.radius
    H, B = result.region, result.region.complement()
    side_a = shell_mass_lower_bound(target.mass(H), r_a, 8) - target.mass(H.shell(r_a))
    side_b = shell_mass_lower_bound(target.mass(B), r_b, 8) - target.mass(B.shell(r_b))
    assert_close(result.value, min(side_a, side_b), mpmath.mpf("1e-27"), abs_tol=mpmath.mpf("1e-29"))


def test_half_space_search_in_two_dimensions():
    target = GaussianMixture([0.5, 0.5], [[0, 0], [3, 4]], 1)
    result = maximize_tv_over_half_spaces(8, target=target)
    normal = [float(c) for c in result.region.normal]
    assert abs(abs(normal[0]) - 0.6) < 1e-12
    assert abs(abs(normal[1]) - 0.8) < 1e-12
    assert result.value >= maximize_tv_two_gaussians([0, 0], [3, 4], 1, 8).value - mpmath.mpf("1e-20")


def test_interval_search_beats_chosen_intervals():
    target = GaussianMixture(["0.3", "0.4", "0.3"], [-6, 0, 6], [1, 1, 1])
    result = maximize_tv_over_intervals(8, target=target, grid_points=21)
    assert isinstance(result.region, Interval)
    for a, b in ((-3, 3), (-9, -3), (-2, 2)):
        chosen = maximize_tv_over_radius(Interval(a, b), 8, target=target)
        assert result.value >= chosen.value - mpmath.mpf("1e-6")


def test_kl_radius_search_beats_grid():
    target = GaussianMixture.two_gaussians(-5, 5, 1)
    A = Interval(-mpmath.inf, 0)
    result = maximize_kl_over_radius(A, 5, target=target, model_mass="0.45")
    from isobounds.bounds import kl_lower_bound

    grid = [kl_lower_bound(A, r, 5, target=target, model_mass="0.45") for r in np.linspace(0.05, 10, 200)]
    assert result.value >= max(grid) - mpmath.mpf("1e-20")


def test_optimizers_reject_bad_input():
    target = _two_peaks()
    with pytest.raises(ValueError, match="lip must be a positive finite number"):
        maximize_tv_over_radius(Interval(0, 1), 0, target=target)
    with pytest.raises(ValueError, match="radius_range must satisfy low < high"):
        maximize_tv_over_radius(Interval(0, 1), 1, target=target, radius_range=(2, 1))
    with pytest.raises(TypeError, match="target must be a Gaussian mixture"):
        maximize_tv_over_half_spaces(1, target=object())
    with pytest.raises(ValueError, match="grid_points must be an integer from 3 to 2001"):
        maximize_tv_over_intervals(1, target=target, grid_points=2)


def test_intervals_reject_target_in_plane():
    plane = GaussianMixture([0.5, 0.5], [[0, 0], [6, 8]], 1.0)
    with pytest.raises(ValueError, match="needs a univariate target, got a target in dimension 2; use "
                                         "maximize_tv_over_half_spaces"):
        maximize_tv_over_intervals(5, target=plane)


def test_public_names_match_all():
    exported = {name for name in dir(bounds) if not name.startswith("_")} - {
        "isoperimetry", "lipschitz", "tv", "kl", "optimize", "set_search"
    }
    assert exported == set(bounds.__all__)


# ---------------------------------------------------------------------------
# Regressions: the bisecting half-space, precision of the searches, argument checks.
# ---------------------------------------------------------------------------

def test_half_space_search_finds_the_bisecting_half_space():
    # (1/2)[N(-100, 1) + N(100, 1)] with L = 1e6: by symmetry the best ray is (-inf, 0]. The
    # reference is model-free Theorem 4 at t = 0 and the radius of maximize_tv_two_gaussians,
    # from mpmath.ncdf at 100 digits; the half-space search must reach it.
    weights, means, sigmas, lip, dps = ["0.5", "0.5"], [-100, 100], [1, 1], "1e6", 100
    target = GaussianMixture.two_gaussians(-100, 100, 1)
    r = maximize_tv_two_gaussians(-100, 100, 1, lip).radius

    def mass(a, b):
        return mixture_mass(weights, means, sigmas, a, b, dps=dps)

    bisecting = _reference_model_free(weights, means, sigmas, lip, mass(-mpmath.inf, 0), mass(0, r), mass(-r, 0), r, r, dps)
    result = maximize_tv_over_half_spaces(lip, target=target)
    assert result.region.offset == 0
    assert result.value >= bisecting * (1 - mpmath.mpf("1e-25"))


def test_radius_search_value_is_the_bound_at_the_returned_radius_at_high_precision():
    # The search runs at low precision; the value must still be the bound at the returned radius to 300 digits.
    result = maximize_tv_two_gaussians(-3, 3, 1, 5, dps=300)
    r = result.radius
    weights, means, sigmas = ["0.5", "0.5"], [-3, 3], [1, 1]
    with mpmath.workdps(400):
        expected = shell_bound("0.5", r, 5, dps=400) - mixture_mass(weights, means, sigmas, 0, r, dps=400)
    assert_close(result.value, expected, mpmath.mpf("1e-298"))
    # And it is at least Corollary 6 (its radius is one of those searched).
    assert result.value >= tv_lower_bound_two_gaussians(-3, 3, 1, 5, dps=300)


@pytest.mark.parametrize("radius_range", [(1, 2, 3), 5, (0, 1), (1, mpmath.inf), "ab"])
def test_radius_range_must_be_a_positive_increasing_pair(radius_range):
    with pytest.raises(ValueError, match="radius_range"):
        maximize_tv_over_radius(Interval(0, 1), 1, target=_two_peaks(), radius_range=radius_range)


def test_optimizers_check_target_set_and_grid_points():
    target = _two_peaks()
    with pytest.raises(TypeError, match="target must be a measure from isobounds.measures"):
        maximize_tv_over_radius(Interval(0, 1), 1, target=None)
    with pytest.raises(TypeError, match="target must be a measure from isobounds.measures"):
        maximize_kl_over_radius(Interval(0, 1), 1, target="nu", model_mass="0.5")
    with pytest.raises(TypeError, match="A must be a set from isobounds.sets"):
        maximize_tv_over_radius((0, 1), 1, target=target)
    numpy_points = maximize_tv_over_intervals(8, target=target, grid_points=np.int64(5))
    assert numpy_points.value == maximize_tv_over_intervals(8, target=target, grid_points=5).value


def test_intervals_find_a_bound_below_float_noise():
    # For (1/2)[N(-1, 1) + N(1, 1)] and L = 1.644 the best bounds are about 6e-5, from
    # half-lines (-inf, 0] and their complement; the float64 scores of bounded
    # intervals are rounding noise there. Reference: the two sides of (-inf, 0] share
    # the radius by symmetry, maximised on a grid.
    lip = mpmath.mpf("1.644")
    half = mpmath.mpf(1) / 2

    def side(r):
        beta = mpmath.ncdf(r / lip) - half
        return beta - half * (mpmath.ncdf(r - 1) - mpmath.ncdf(-1) + mpmath.ncdf(r + 1) - mpmath.ncdf(1))

    reference = max(side(r) for r in mpmath.linspace(mpmath.mpf("0.01"), 1, 400))
    result = maximize_tv_over_intervals(lip, target=GaussianMixture.two_gaussians(-1, 1, 1))
    assert reference > 5e-5
    assert result.value >= reference * (1 - mpmath.mpf(10) ** -6)


def test_two_gaussians_region_is_bisecting_half_space():
    # The returned half-space is the side of m1; Theorem 4 there, with the target's
    # own mass 1/2 and the returned radius, gives the returned value again.
    result = maximize_tv_two_gaussians([0, 1], [3, 5], 1, 2)
    assert result.region == HalfSpace((3, 4), mpmath.mpf(3 * 1.5 + 4 * 3))
    assert bool(result.region.contains([[0, 1]])[0])
    assert not bool(result.region.contains([[3, 5]])[0])
    target = GaussianMixture([0.5, 0.5], [[0, 1], [3, 5]], 1)
    again = tv_lower_bound(result.region, result.radius, 2, target=target)
    assert abs(again - result.value) <= mpmath.mpf("1e-25")


def test_two_gaussians_equal_means_region():
    assert maximize_tv_two_gaussians(1, 1, 1, 2).region is None
