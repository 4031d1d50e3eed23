"""The geometry of sets: extensions, shells, complements and 1D conversion.

Memberships are checked against distances computed here in closed form,
masses against mpmath at high precision or Monte Carlo with its error bar.
"""

import mpmath
import numpy as np
import pytest

from isobounds.measures import GaussianMixture
from isobounds.sets import (
    Annulus,
    Ball,
    BallComplement,
    EmptySet,
    HalfSpace,
    Interval,
    IntervalUnion,
    Slab,
    WholeSpace,
    as_intervals,
)


def _unit(v):
    v = np.asarray(v, dtype=float)
    return v / np.linalg.norm(v)


# Each case: (set, function of points giving (in_set, dist_to_set)), computed independently.
def _cases(dim, rng):
    c = rng.normal(size=dim)
    n = rng.normal(size=dim)
    u = _unit(n)

    def half_space(x):
        t = x @ u
        return t <= 0.3, np.maximum(0.0, t - 0.3)

    def slab(x):
        t = x @ u
        return (t > -0.4) & (t <= 0.5), np.maximum.reduce([np.zeros_like(t), -0.4 - t, t - 0.5])

    def slab_complement(x):
        t = x @ u
        inside = (t > -0.4) & (t < 0.5)
        return ~inside, np.where(inside, np.minimum(t + 0.4, 0.5 - t), 0.0)

    def ball(x):
        s = np.linalg.norm(x - c, axis=1)
        return s <= 0.8, np.maximum(0.0, s - 0.8)

    def annulus(x):
        s = np.linalg.norm(x - c, axis=1)
        return (s > 0.6) & (s <= 1.2), np.maximum.reduce([np.zeros_like(s), 0.6 - s, s - 1.2])

    def annulus_complement(x):
        s = np.linalg.norm(x - c, axis=1)
        inside = (s > 0.6) & (s < 1.2)
        return ~inside, np.where(inside, np.minimum(s - 0.6, 1.2 - s), 0.0)

    def ball_complement(x):
        s = np.linalg.norm(x - c, axis=1)
        return s > 0.7, np.maximum(0.0, 0.7 - s)

    return [
        (HalfSpace(2.5 * u, 0.75), half_space),
        (Slab(u, -0.4, 0.5), slab),
        (Slab(u, -0.4, 0.5).complement(), slab_complement),
        (Ball(c, 0.8), ball),
        (Annulus(c, 0.6, 1.2), annulus),
        (Annulus(c, 0.6, 1.2).complement(), annulus_complement),
        (BallComplement(c, 0.7), ball_complement),
        (Ball(c, 0.7).complement(), ball_complement),
    ]


@pytest.mark.parametrize("dim", [1, 2, 3, 5])
@pytest.mark.parametrize("r", [0.05, 0.25, 0.5, 0.65, 2.0])
def test_extension_and_shell_match_distance(dim, r):
    rng = np.random.default_rng(100 * dim + int(100 * r))
    for set_, truth in _cases(dim, rng):
        x = rng.normal(scale=1.5, size=(4000, dim))
        in_set, dist = truth(x)
        # Keep points away from every boundary, where float64 rounding decides.
        generic = np.abs(dist - r) > 1e-9
        x, in_set, dist = x[generic], in_set[generic], dist[generic]
        points = x[:, 0] if dim == 1 else x
        np.testing.assert_array_equal(set_.contains(points), in_set, err_msg=repr(set_))
        np.testing.assert_array_equal(set_.extension(r).contains(points), dist <= r, err_msg=f"{set_!r}_{r}")
        expected_shell = (dist <= r) & ~in_set
        np.testing.assert_array_equal(set_.shell(r).contains(points), expected_shell, err_msg=f"shell of {set_!r}")


@pytest.mark.parametrize(
    "empty",
    [
        Slab((1.0, 0.0), 1.0, 1.0),
        Annulus((0.0, 0.0, 0.0), 1.0, 1.0),
        Interval(0.0, 0.0, left_closed=False),
        Slab(1.0, 2.0, 2.0),
    ],
    ids=["slab", "annulus", "interval", "slab1d"],
)
def test_empty_set_extension_and_shell(empty):
    # dist(x, empty set) = inf, so no point lies in A_r.
    rng = np.random.default_rng(0)
    points = rng.normal(scale=2.0, size=(2000, empty.dim))
    points = points[:, 0] if empty.dim == 1 else points
    assert not empty.contains(points).any()
    for r in (0.0, 0.5, 3.0):
        assert not empty.extension(r).contains(points).any(), r
        assert not empty.shell(r).contains(points).any(), r
    mixture = GaussianMixture([1.0], [[0.0] * empty.dim], 1.0)
    assert mixture.mass(empty.extension(1.0)) == 0


def test_degenerate_sets():
    point = Ball((1.0, 2.0), 0)
    assert point.contains(np.array([1.0, 2.0]))
    shell = point.shell(0.5)
    assert not shell.contains(np.array([1.0, 2.0]))
    assert shell.contains(np.array([1.3, 2.0]))
    assert BallComplement((0.0, 0.0), 0).extension(0.1) == WholeSpace(2)
    assert WholeSpace(3).shell(1.0) == EmptySet(3)
    assert EmptySet(2).extension(5.0) == EmptySet(2)
    assert Interval(0, 0).shell(1).contains(np.array([-1.0, 0.0, 1.0])).tolist() == [True, False, True]


def _mass_80(intervals):
    """N(0, 1) mass of a list of intervals ``(a, b)`` given as ``(1 + k_a 1e-40, 1 + k_b 1e-40)`` pairs of k."""
    with mpmath.workdps(80):
        tiny = mpmath.mpf("1e-40")
        return mpmath.fsum(mpmath.ncdf(1 + b * tiny) - mpmath.ncdf(1 + a * tiny) for a, b in intervals)


def test_as_intervals_keeps_tiny_radii():
    # Rounding c - radius to the working precision turned Ball(1, 1e-40) into the point {1}, with a
    # mass wrong by 2.4%. It also turned the annulus of radii 1e-40 and 2e-40 into two empty intervals.
    nu = GaussianMixture([1.0], [[0.0]], 1.0)
    expected = _mass_80([(-1, 1)])
    assert mpmath.almosteq(nu.mass(Ball(1.0, "1e-40")), expected, rel_eps=1e-12, abs_eps=0)
    annulus = Annulus(1.0, "1e-40", "2e-40")
    assert not as_intervals(annulus).is_empty()
    expected = _mass_80([(-2, -1), (1, 2)])
    assert mpmath.almosteq(nu.mass(annulus), expected, rel_eps=1e-12, abs_eps=0)
    outside = BallComplement(1.0, "1e-40")
    assert mpmath.almosteq(nu.mass(outside.complement()), _mass_80([(-1, 1)]), rel_eps=1e-12, abs_eps=0)


def test_as_intervals_negates_exactly():
    slab = Slab(-1.0, "0.10000000000000000000000000000000000000000000000001", "0.10000000000000000000000000000000000000000000000002")
    union = as_intervals(slab)
    assert not union.is_empty()
    (piece,) = union.intervals
    assert piece.b - piece.a > 0
    nu = GaussianMixture([1.0], [[0.0]], 1.0)
    with mpmath.workdps(80):
        a, b = mpmath.mpf("-0.10000000000000000000000000000000000000000000000002"), mpmath.mpf("-0.10000000000000000000000000000000000000000000000001")
        expected = mpmath.ncdf(b) - mpmath.ncdf(a)
    assert mpmath.almosteq(nu.mass(slab), expected, rel_eps=1e-10, abs_eps=0)


def test_thin_slab_complement_extension():
    # The exact width 1 + 1e-37 exceeds 2 r = 1, so the extension leaves out a slab of width 1e-37.
    # The width rounded to the working precision equals 1 and gave the whole space.
    slab = Slab(1.0, 0, "1.0000000000000000000000000000000000001")
    extended = slab.complement().extension(0.5)
    assert extended != WholeSpace(1)
    nu = GaussianMixture([1.0], [[0.0]], 1.0)
    with mpmath.workdps(80):
        expected = 1 - (mpmath.ncdf(mpmath.mpf("0.5000000000000000000000000000000000001")) - mpmath.ncdf(0.5))
        gap = 1 - expected
    assert mpmath.almosteq(1 - nu.mass(extended, dps=50), gap, rel_eps=1e-10, abs_eps=0)
    # The rims of width 0.5 do not meet either, so the shell is two rims and not the slab.
    assert slab.complement().shell(0.5) != slab


@pytest.mark.parametrize("dim", [2, 3])
def test_masses_of_shells_against_monte_carlo(dim):
    rng = np.random.default_rng(7 + dim)
    means = np.zeros((2, dim))
    means[0, 0], means[1, 0] = -1.5, 1.0
    nu = GaussianMixture([0.3, 0.7], means, 0.8)
    c = np.full(dim, 0.2)
    sets = [
        Ball(c, 1.0).shell(0.4),
        Annulus(c, 0.5, 1.0).shell(0.7),
        Annulus(c, 0.5, 1.5).complement().shell(0.3),
        Slab(np.ones(dim), -0.5, 0.5).complement().extension(0.2),
        BallComplement(c, 1.0).shell(0.4),
        HalfSpace(np.arange(1, dim + 1), 0.3).shell(0.6),
    ]
    n = 200_000
    labels = rng.random(n) < 0.3
    x = np.where(labels[:, None], means[0], means[1]) + 0.8 * rng.normal(size=(n, dim))
    for set_ in sets:
        p = set_.contains(x).mean()
        error = 5 * np.sqrt(p * (1 - p) / n) + 1e-12
        assert abs(float(nu.mass(set_)) - p) <= error, set_


def test_annulus_shell_zero_inner_radius():
    # dist(c, {0 < |x - c| <= 1}) = 0 and c is not in the annulus, so c is in the shell.
    shell = Annulus((0.0, 0.0), 0, 1).shell(0.5)
    assert shell.contains(np.array([[0.0, 0.0], [0.0, 1.2], [0.0, 0.5]])).tolist() == [True, True, False]
    assert BallComplement((0.0, 0.0), 0).shell(0.5).contains(np.array([0.0, 0.0]))


def test_ball_membership_near_the_float64_limit():
    # |0 - 1e308| = 1e308 <= radius 1e308, but its square overflows to inf.
    ball = Ball(1e308, 1e308)
    assert ball.contains(np.array([0.0, 1e308, -1e308])).tolist() == [True, True, False]
    assert not BallComplement(1e308, 1e308).contains(np.array([0.0]))[0]
    assert Annulus((0.0, 0.0), 1e307, 1e308).contains(np.array([[6e307, 8e307]]))[0]


def test_complement_twice_gives_the_set_back():
    sets = [
        Ball((0.5, -1.0), 2.0),
        BallComplement((0.5, -1.0), 2.0),
        HalfSpace((1.0, 3.0), 0.7),
        Annulus((0.0, 1.0, 2.0), 0.5, 1.5),
        Slab((2.0, -1.0), -0.3, 0.9),
        IntervalUnion([Interval(0, 1, left_closed=False), Interval(3, np.inf)]),
    ]
    for set_ in sets:
        assert set_.complement().complement() == set_, set_


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: Interval(0, 1, left_closed="no"), "left_closed must be True or False"),
        (lambda: Interval(0, 1, right_closed=1), "right_closed must be True or False"),
        (lambda: IntervalUnion(Interval(0, 1)), "intervals must be an iterable of Interval"),
        (lambda: IntervalUnion(3), "intervals must be an iterable of Interval"),
        (lambda: IntervalUnion([Interval(0, 1)]).intersection(Ball(0.0, 1.0)), "other must be an Interval"),
    ],
)
def test_type_errors_name_the_argument(build, message):
    with pytest.raises(TypeError, match=message):
        build()


def test_ridge_pushforward_mass_against_monte_carlo():
    from isobounds.pushforward import PiecewiseLinearMap
    from isobounds.pushforward.ridge import RidgeMap

    g = RidgeMap([0.3, -1.2, 2.0], PiecewiseLinearMap([-1.0, 0.0, 2.0], [0.0, 1.0, 1.0], -0.5, 3.0))
    y = g(np.random.default_rng(1).normal(size=(200_000, 3)))
    rho = g.pushforward()
    for interval in [Interval(-0.5, 0.5), Interval(1, 1), Interval(0.9, 2.5), Interval(-np.inf, 0.2, right_closed=False)]:
        p = interval.contains(y).mean()
        assert abs(float(rho.mass(interval)) - p) <= 5 * np.sqrt(p * (1 - p) / y.size), interval
    # |w| Lip(h) with Lip(h) = max(0.5, 1, 0, 3) = 3.
    assert mpmath.almosteq(g.lipschitz_constant(), 3 * mpmath.sqrt(0.09 + 1.44 + 4), rel_eps=1e-14, abs_eps=0)
