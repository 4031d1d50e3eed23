"""Searches of maximize_tv_over_* over sets and radii, against brute force.

The brute-force references evaluate model-free Theorem 4 in float64 with
``scipy.special.ndtr`` and ``ndtri`` on dense grids of directions, offsets,
endpoints and radii, or in mpmath at high precision, and share no code with
the library's searches.
"""

import mpmath
import numpy as np
import pytest
import scipy.special as sc
from hypothesis import given, settings

from isobounds.bounds import (
    maximize_tv_over_half_spaces,
    maximize_tv_over_intervals,
    maximize_tv_over_radius,
    maximize_tv_two_gaussians,
)
from isobounds.measures import DisconnectedSupport, GaussianMixture
from isobounds.sets import HalfSpace, Interval
from isobounds.testing import gaussian_mixtures

from _bounds_reference import assert_close, mixture_mass, shell_bound


@pytest.fixture(autouse=True)
def _compare_at_60_digits():
    """Arithmetic in the assertions runs at 60 digits (conftest restores the precision)."""
    mpmath.mp.dps = 60


# ---------------------------------------------------------------------------
# Float64 brute force.
# ---------------------------------------------------------------------------

def _beta(p, c):
    """Return Phi(Phi_inv(p) + c) - p in float64."""
    with np.errstate(divide="ignore"):
        return sc.ndtr(sc.ndtri(p) + c) - p


def _brute_rays(weights, projected, sigmas, offsets, radii, lip):
    """Evaluate model-free Theorem 4 of the rays (-inf, t], maximised over a radius grid.

    ``projected`` has one row of projected means per direction; returns one
    row of bounds (one per offset) per direction.
    """
    w, s = np.asarray(weights, float), np.asarray(sigmas, float)
    rows = []
    for means in projected:
        t = offsets[:, None, None]
        r = radii[None, :, None]
        lower = (w * sc.ndtr((t - means) / s)).sum(axis=-1)
        upper = (w * sc.ndtr((means - t) / s)).sum(axis=-1)
        shell_a = (w * (sc.ndtr((t + r - means) / s) - sc.ndtr((t - means) / s))).sum(axis=-1)
        shell_b = (w * (sc.ndtr((t - means) / s) - sc.ndtr((t - r - means) / s))).sum(axis=-1)
        side_a = (_beta(lower, radii / lip) - shell_a).max(axis=-1)
        side_b = (_beta(upper, radii / lip) - shell_b).max(axis=-1)
        rows.append(np.minimum(side_a, side_b))
    return np.array(rows)


def _brute_intervals(weights, means, sigmas, a, b, radii, lip):
    """Evaluate model-free Theorem 4 of the finite intervals [a, b] (arrays), maximised over a radius grid."""
    w, m, s = (np.asarray(v, float) for v in (weights, means, sigmas))

    def mass(lo, hi):
        return (w * (sc.ndtr((hi[..., None] - m) / s) - sc.ndtr((lo[..., None] - m) / s))).sum(axis=-1)

    a, b, r = a[:, None], b[:, None], radii[None, :]
    inside = mass(a, b)
    reach = np.minimum(r, (b - a) / 2)
    shell_a = mass(a - r, a + 0 * r) + mass(b + 0 * r, b + r)
    shell_b = mass(a + 0 * r, a + reach) + mass(b - reach, b + 0 * r)
    side_a = (_beta(inside, r / lip) - shell_a).max(axis=-1)
    side_b = (_beta(1 - inside, r / lip) - shell_b).max(axis=-1)
    return np.minimum(side_a, side_b)


def _radii(high, count=400):
    return np.geomspace(1e-3, high, count)


def _model_free_reference(weights, means, sigmas, lip, a, b, r_a, r_b, dps=60):
    """Evaluate model-free Theorem 4 of [a, b] (either end may be infinite) at given radii, with mpmath.ncdf at ``dps`` digits."""
    with mpmath.workdps(dps):
        a, b = mpmath.mpf(a), mpmath.mpf(b)

        def mass(lo, hi):
            return mixture_mass(weights, means, sigmas, lo, hi, dps=dps) if lo < hi else mpmath.mpf(0)

        inside = mass(a, b)
        side_a = shell_bound(inside, r_a, lip, dps=dps) - mass(a - r_a, a) - mass(b, b + r_a)
        reach = min(r_b, (b - a) / 2)
        side_b = shell_bound(1 - inside, r_b, lip, dps=dps) - mass(a, a + reach) - mass(b - reach, b)
        return min(side_a, side_b)


# ---------------------------------------------------------------------------
# Half-spaces.
# ---------------------------------------------------------------------------

THREE_MODES_2D = dict(weights=[0.3, 0.3, 0.4], means=[[-5.0, 0.0], [5.0, 0.0], [0.0, 6.0]], sigmas=[1.0, 1.0, 1.0])


def _three_modes_2d():
    return GaussianMixture(THREE_MODES_2D["weights"], THREE_MODES_2D["means"], 1.0)


def test_half_spaces_2d_beat_dense_direction_grid():
    # Brute force: 360 directions over a half-turn, 121 offsets, 400 radii.
    target, lip = _three_modes_2d(), 10
    result = maximize_tv_over_half_spaces(lip, target=target)

    means = np.array(THREE_MODES_2D["means"])
    angles = np.linspace(0, np.pi, 360, endpoint=False)
    directions = np.stack((np.cos(angles), np.sin(angles)), axis=1)
    brute = _brute_rays(THREE_MODES_2D["weights"], directions @ means.T, THREE_MODES_2D["sigmas"], np.linspace(-9, 9, 121), _radii(40), lip)
    assert brute.max() > 0.054
    assert float(result.value) >= brute.max() - 1e-9
    # A half-space along no difference of means, which a search along those differences misses.
    chosen = maximize_tv_over_radius(HalfSpace([-0.80902, 0.58779], -0.2), lip, target=target)
    assert result.value >= chosen.value


def test_half_spaces_value_is_bound_at_returned_set():
    target, lip = _three_modes_2d(), 10
    result = maximize_tv_over_half_spaces(lip, target=target)
    normal = [mpmath.mpf(c) for c in result.region.normal]
    with mpmath.workdps(60):
        projected = [mpmath.fsum(u * mpmath.mpf(x) for u, x in zip(normal, row)) for row in THREE_MODES_2D["means"]]
    r_a, r_b = result.radius
    expected = _model_free_reference(
        THREE_MODES_2D["weights"], projected, THREE_MODES_2D["sigmas"], lip, -mpmath.inf, result.region.offset, r_a, r_b
    )
    assert_close(result.value, expected, mpmath.mpf("1e-26"))


def test_half_spaces_3d_beat_sphere_design():
    # Brute force: 2000 directions of a Fibonacci sphere (about 4.5 degrees apart), 61 offsets, 150 radii.
    weights, sigmas = [0.25, 0.25, 0.25, 0.25], [1.0, 1.0, 1.0, 1.0]
    means = np.array([[0.0, 0.0, 0.0], [6.0, 0.0, 0.0], [0.0, 6.0, 0.0], [0.0, 0.0, 6.0]])
    lip = 8
    result = maximize_tv_over_half_spaces(lip, target=GaussianMixture(weights, means.tolist(), 1.0))

    count = 2000
    k = np.arange(count) + 0.5
    polar = np.arccos(1 - 2 * k / count)
    azimuth = np.pi * (1 + 5**0.5) * k
    directions = np.stack((np.cos(azimuth) * np.sin(polar), np.sin(azimuth) * np.sin(polar), np.cos(polar)), axis=1)
    brute = _brute_rays(weights, directions @ means.T, sigmas, np.linspace(-6, 12, 61), _radii(40, 150), lip)
    assert brute.max() > 0.03
    assert float(result.value) >= brute.max() - 1e-9


def test_half_spaces_one_component_zero():
    # g(z) = m + sigma z pushes N(0, 1) onto N(m, sigma^2) exactly, so no bound is positive.
    for target in (GaussianMixture([1.0], [0.0], 1.0), GaussianMixture([1.0], [[0.0, 1.0]], 1.0)):
        result = maximize_tv_over_half_spaces(2, target=target)
        assert result.value == 0
        assert isinstance(result.region, HalfSpace)


def test_half_spaces_one_component_below_sigma():
    # N(0, 1) with L = 1/2: for A = (-inf, t] and its complement the two sides are
    # Phi(t + 2r) - Phi(t + r) and the mirror image, so the best bound is at t = 0:
    # sup_r Phi(2r) - Phi(r), attained where 2 phi(2r) = phi(r), r^2 = 2 log(2) / 3.
    with mpmath.workdps(60):
        r = mpmath.sqrt(2 * mpmath.log(2) / 3)
        expected = mpmath.ncdf(2 * r) - mpmath.ncdf(r)
    for target in (GaussianMixture([1.0], [0.0], 1.0), GaussianMixture([1.0], [[3.0, -1.0]], 1.0)):
        result = maximize_tv_over_half_spaces("0.5", target=target)
        assert_close(result.value, expected, mpmath.mpf("1e-18"))


def test_half_spaces_equal_means_in_two_dimensions():
    # Two components with one mean and different sigmas: every direction projects to
    # the same univariate mixture, so the brute force runs on one direction.
    weights, sigmas, lip = [0.5, 0.5], [1.0, 3.0], 1
    target = GaussianMixture(weights, [[1.0, 1.0], [1.0, 1.0]], sigmas)
    result = maximize_tv_over_half_spaces(lip, target=target)
    brute = _brute_rays(weights, np.array([[1.0, 1.0]]), sigmas, np.linspace(-8, 10, 361), _radii(40), lip)
    assert brute.max() > 0.01
    assert float(result.value) >= brute.max() - 1e-9


@settings(max_examples=8, deadline=None)
@given(target=gaussian_mixtures(max_components=3))
def test_half_spaces_accept_drawn_mixtures(target):
    result = maximize_tv_over_half_spaces(2, target=target)
    assert 0 <= result.value <= 1
    assert isinstance(result.region, HalfSpace)


# ---------------------------------------------------------------------------
# Intervals.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "weights, means, sigmas, lip",
    [
        # The best intervals reach far beyond the means plus 3 sigmas.
        ([1 / 3, 1 / 3, 1 / 3], [-8.0, 0.0, 8.0], [1.0, 1.0, 1.0], 20),
        # The best interval contains the middle mode.
        ([0.3, 0.4, 0.3], [-6.0, 0.0, 6.0], [1.0, 1.0, 1.0], 8),
        ([0.2, 0.5, 0.3], [-7.0, 0.0, 5.0], [0.5, 1.0, 2.0], 15),
    ],
)
def test_intervals_beat_brute_force_grid(weights, means, sigmas, lip):
    # Brute force: every pair of a grid with step 0.5 on [-40, 40], 300 radii.
    target = GaussianMixture(weights, means, sigmas)
    result = maximize_tv_over_intervals(lip, target=target)
    grid = np.arange(-40.0, 40.25, 0.5)
    a, b = np.array([(x, y) for i, x in enumerate(grid) for y in grid[i + 1:]]).T
    brute = _brute_intervals(weights, means, sigmas, a, b, _radii(60, 300), lip)
    assert brute.max() > 0.02
    assert float(result.value) >= brute.max() - 1e-9


def test_intervals_beat_far_interval():
    target = GaussianMixture([1 / 3, 1 / 3, 1 / 3], [-8.0, 0.0, 8.0], 1.0)
    result = maximize_tv_over_intervals(20, target=target)
    assert result.value >= maximize_tv_over_radius(Interval(-14, "-3.9"), 20, target=target).value


def test_intervals_value_is_bound_at_returned_interval():
    weights, means, sigmas, lip = [0.2, 0.5, 0.3], [-7.0, 0.0, 5.0], [0.5, 1.0, 2.0], 15
    result = maximize_tv_over_intervals(lip, target=GaussianMixture(weights, means, sigmas))
    r_a, r_b = result.radius
    expected = _model_free_reference(weights, means, sigmas, lip, result.region.a, result.region.b, r_a, r_b)
    assert_close(result.value, expected, mpmath.mpf("1e-26"))


# ---------------------------------------------------------------------------
# Radii: kinks of disconnected supports, and smooth maxima to the working precision.
# ---------------------------------------------------------------------------

def test_radius_search_reaches_corollary5_kink():
    # Uniform pieces [-2, -1] and [1, 2] of mass 1/2 and A = (-inf, 0]: each side is
    # Phi(r) - 1/2 for r <= 1 and decreases beyond, so the maximum is Corollary 5,
    # Phi(D / (2 L) + Phi_inv(1/2)) - 1/2 = Phi(1) - 1/2, at the kink r = 1.
    target = DisconnectedSupport([Interval(-2, -1), Interval(1, 2)], [0.5, 0.5])
    result = maximize_tv_over_radius(HalfSpace([1.0], 0.0), 1, target=target, dps=50)
    with mpmath.workdps(80):
        expected = mpmath.ncdf(1) - mpmath.mpf(1) / 2
    assert result.radius == (1, 1)
    assert_close(result.value, expected, mpmath.mpf("1e-48"))


def _pieces_mass(pieces, weights, lo, hi):
    """Return the mass of [lo, hi] under uniform laws on the pieces (exact lengths, mpf)."""
    total = mpmath.mpf(0)
    for (p, q), w in zip(pieces, weights):
        overlap = min(hi, q) - max(lo, p)
        if overlap > 0:
            total += w * overlap / (q - p)
    return total


PIECES = [("-3", "-1.7"), ("0.3", "0.9"), ("2.2", "4")]
PIECE_WEIGHTS = ["0.3", "0.2", "0.5"]


def _pieces_target():
    return DisconnectedSupport([Interval(p, q) for p, q in PIECES], PIECE_WEIGHTS)


def _pieces_sides(a, b, r, lip):
    """Return both sides of model-free Theorem 4 for A = [a, b] at radius r, from exact masses and mpmath.ncdf at 60 digits."""
    with mpmath.workdps(60):
        pieces = [(mpmath.mpf(p), mpmath.mpf(q)) for p, q in PIECES]
        weights = [mpmath.mpf(w) for w in PIECE_WEIGHTS]
        inside = _pieces_mass(pieces, weights, a, b)
        shell_a = _pieces_mass(pieces, weights, a - r, a) + _pieces_mass(pieces, weights, b, b + r)
        reach = min(r, (b - a) / 2)
        shell_b = _pieces_mass(pieces, weights, a, a + reach) + _pieces_mass(pieces, weights, b - reach, b)
        return shell_bound(inside, r, lip, dps=60) - shell_a, shell_bound(1 - inside, r, lip, dps=60) - shell_b


def test_radius_search_beats_every_kink_radius():
    # The masses of the shells change slope where they reach an end of a piece, at
    # r = |end of A - end of a piece|. Each side of the result must beat its value at
    # every such radius and on a dense grid.
    a, b, lip = mpmath.mpf("-1"), mpmath.mpf("1.5"), mpmath.mpf("0.7")
    result = maximize_tv_over_radius(Interval("-1", "1.5"), "0.7", target=_pieces_target(), dps=40)
    with mpmath.workdps(60):
        ends = [mpmath.mpf(e) for piece in PIECES for e in piece]
        kinks = sorted({abs(x - e) for x in (a, b) for e in ends} - {0})
        radii = kinks + [mpmath.mpf(r) for r in np.linspace(0.01, 6, 600)]
        sides = [_pieces_sides(a, b, r, lip) for r in radii]
        expected = min(max(side[0] for side in sides), max(side[1] for side in sides))
    assert expected > mpmath.mpf("0.05")
    assert result.value >= expected * (1 - mpmath.mpf("1e-38"))
    # Each side at its returned radius gives the value.
    r_a, r_b = result.radius
    assert_close(result.value, min(_pieces_sides(a, b, r_a, lip)[0], _pieces_sides(a, b, r_b, lip)[1]), mpmath.mpf("1e-38"))


def test_model_mass_search_beats_kinks():
    # With L = 1 the shell of A, empty up to r = 0.7, then grows faster than beta.
    a, b, lip, rho = mpmath.mpf("-1"), mpmath.mpf("1.5"), mpmath.mpf(1), mpmath.mpf("0.2")
    result = maximize_tv_over_radius(Interval("-1", "1.5"), 1, target=_pieces_target(), model_mass="0.2", dps=40)
    with mpmath.workdps(60):
        pieces = [(mpmath.mpf(p), mpmath.mpf(q)) for p, q in PIECES]
        weights = [mpmath.mpf(w) for w in PIECE_WEIGHTS]
        nu = _pieces_mass(pieces, weights, a, b)
        ends = [e for piece in pieces for e in piece]
        kinks = sorted({abs(x - e) for x in (a, b) for e in ends} - {0})

        def bracket(r):
            shell = _pieces_mass(pieces, weights, a - r, a) + _pieces_mass(pieces, weights, b, b + r)
            return shell_bound(rho, r, lip, dps=60) + rho - min(rho, nu) - shell

        expected = max(bracket(r) for r in kinks + [mpmath.mpf(r) for r in np.linspace(0.01, 6, 600)])
    assert expected > mpmath.mpf("0.05")
    assert result.value >= expected * (1 - mpmath.mpf("1e-38"))


@pytest.mark.parametrize("dps", [30, 50])
def test_smooth_radius_maximum_to_working_precision(dps):
    # (1/2)[N(-3, 1) + N(3, 1)], L = 5: sup_r Phi(r / 5) - 1/2 - (Phi(3 + r) - Phi(3 - r)) / 2,
    # at the root of phi(r / 5) / 5 = (phi(3 + r) + phi(3 - r)) / 2 found by mpmath at 100 digits.
    result = maximize_tv_two_gaussians(-3, 3, 1, 5, dps=dps)
    with mpmath.workdps(100):
        r = mpmath.findroot(lambda x: mpmath.npdf(x / 5) / 5 - (mpmath.npdf(3 + x) + mpmath.npdf(3 - x)) / 2, 1.6)
        expected = mpmath.ncdf(r / 5) - mpmath.mpf(1) / 2 - (mpmath.ncdf(3 + r) - mpmath.ncdf(3 - r)) / 2
    assert_close(result.value, expected, mpmath.mpf(10) ** (2 - dps))


# A target that a lip-Lipschitz map reaches exactly has every bound equal to
# 0, so the searches must not report rounding noise as a positive bound.
# g(x) = 2 x is 2-Lipschitz and maps N(0, 1) onto N(0, 4), and
# g(x) = x / 2 - 2.25 is 0.5-Lipschitz and maps it onto N(-2.25, 0.25).
@pytest.mark.parametrize(
    "search, lip, target, dps",
    [
        (maximize_tv_over_half_spaces, 2, GaussianMixture([1], [0], 2), 30),
        (maximize_tv_over_intervals, 2, GaussianMixture([1], [0], 2), 30),
        (maximize_tv_over_intervals, 0.5, GaussianMixture([1], [-2.25], 0.5), 15),
        (maximize_tv_over_half_spaces, 0.5, GaussianMixture([1], [-2.25], 0.5), 15),
    ],
)
def test_set_search_reachable_target_gives_zero(search, lip, target, dps):
    assert search(lip, target=target, dps=dps).value == 0


def test_interval_search_close_to_best_ray():
    # Reference: the best ray (-inf, t] of the target at lip = 2, found by
    # root-finding on the derivative of its two sides at 60 digits in a
    # separate script; its value is 0.182462818157453058 at t = 0.687864528295.
    # The search locates endpoints in float64, so about 16 digits agree.
    target = GaussianMixture([0.3, 0.7], [-2, 3], 0.8)
    supremum = mpmath.mpf("0.182462818157453058")
    value = maximize_tv_over_intervals(2, target=target, dps=30).value
    assert value <= supremum
    assert supremum - value < mpmath.mpf("1e-15")


@pytest.mark.parametrize("scale", ["1e-9", "1", "1e13"])
def test_radius_search_follows_target_scale(scale):
    # Two pieces [0, s] and [2 s, 3 s] of weight 1/2 and lip = s: the bound is
    # scale invariant, with its maximum Phi(1/2) - 1/2 (Corollary 5 with
    # D / (2 L) = 1/2) at r = s / 2, a radius that the default range must contain.
    s = mpmath.mpf(scale)
    target = DisconnectedSupport([Interval(0, s), Interval(2 * s, 3 * s)], [0.5, 0.5])
    result = maximize_tv_over_radius(Interval(-mpmath.inf, 1.5 * s), s, target=target)
    assert_close(result.value, mpmath.ncdf(0.5) - 0.5, 1e-25)
