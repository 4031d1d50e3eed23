"""Sets: construction, membership, r-extensions, shells, complements, bad input.

Every extension is checked against a brute-force distance to the set on
random points, and every shell against the definition A_r minus A.
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
    Set,
    SetUnion,
    Slab,
    WholeSpace,
    as_intervals,
)

RNG = np.random.default_rng(20221128)


# ---------------------------------------------------------------------------
# Intervals and unions of intervals.
# ---------------------------------------------------------------------------

def test_interval_contains_endpoints():
    closed = Interval(0, 1)
    half_open = Interval(0, 1, left_closed=False)
    points = np.array([-0.5, 0.0, 0.5, 1.0, 1.5])
    assert closed.contains(points).tolist() == [False, True, True, True, False]
    assert half_open.contains(points).tolist() == [False, False, True, True, False]


def test_interval_shell_and_complement_exact():
    interval = Interval(-1, 1)
    expected_shell = IntervalUnion(
        [Interval(-1.5, -1, right_closed=False), Interval(1, 1.5, left_closed=False)]
    )
    expected_complement = IntervalUnion(
        [Interval(-np.inf, -1, right_closed=False), Interval(1, np.inf, left_closed=False)]
    )
    assert interval.shell(0.5) == expected_shell
    assert interval.complement() == expected_complement
    assert interval.extension(0.5) == Interval(-1.5, 1.5)
    assert interval.shell(0).is_empty()


def test_infinite_interval_pieces():
    lower_half_line = Interval(-np.inf, 2)
    assert lower_half_line.shell(1) == IntervalUnion([Interval(2, 3, left_closed=False)])
    assert lower_half_line.complement() == IntervalUnion([Interval(2, np.inf, left_closed=False)])
    assert Interval(-np.inf, np.inf).complement().is_empty()
    assert IntervalUnion([]).complement() == IntervalUnion([Interval(-np.inf, np.inf)])


def test_union_merges_overlapping_and_touching():
    union = IntervalUnion([Interval(3, 4), Interval(0, 1), Interval(1, 2, left_closed=False), Interval(0.5, 0.7)])
    assert union.intervals == (Interval(0, 2), Interval(3, 4))

    # Two open ends at the same point leave that point out, so they stay apart.
    apart = IntervalUnion([Interval(0, 1, right_closed=False), Interval(1, 2, left_closed=False)])
    assert len(apart.intervals) == 2
    assert apart.complement() == IntervalUnion(
        [Interval(-np.inf, 0, right_closed=False), Interval(1, 1), Interval(2, np.inf, left_closed=False)]
    )


def test_union_extension_merges_gaps():
    union = IntervalUnion([Interval(0, 1), Interval(2, 3)])
    assert union.extension(0.5) == IntervalUnion([Interval(-0.5, 3.5)])
    assert union.shell(0.25) == IntervalUnion(
        [
            Interval(-0.25, 0, right_closed=False),
            Interval(1, 1.25, left_closed=False),
            Interval(1.75, 2, right_closed=False),
            Interval(3, 3.25, left_closed=False),
        ]
    )


def test_interval_precision_of_strings():
    import isobounds

    # Strings keep the digits of the precision in force at construction.
    with isobounds.precision(60):
        interval = Interval("1e-300", "0.1")
    with mpmath.workdps(100):
        assert abs(interval.a / mpmath.mpf("1e-300") - 1) < mpmath.mpf("1e-65")
        assert abs(interval.b * 10 - 1) < mpmath.mpf("1e-65")


# ---------------------------------------------------------------------------
# Brute-force checks of extension, shell and complement on random points.
# ---------------------------------------------------------------------------

def _distance_to_interval_union(points, union):
    distances = np.full(points.shape, np.inf)
    for piece in union.intervals:
        a, b = float(piece.a), float(piece.b)
        distances = np.minimum(distances, np.maximum.reduce([a - points, points - b, np.zeros_like(points)]))
    return distances


def _distance_to_half_space(points, normal, offset):
    u = np.asarray(normal, dtype=float) / np.linalg.norm(normal)
    return np.maximum(points @ u - offset / np.linalg.norm(normal), 0.0)


def _distance_to_ball(points, center, radius):
    return np.maximum(np.linalg.norm(points - np.asarray(center, dtype=float), axis=1) - radius, 0.0)


def _distance_to_ball_complement(points, center, radius):
    return np.maximum(radius - np.linalg.norm(points - np.asarray(center, dtype=float), axis=1), 0.0)


def _assert_extension_and_shell(set_, distance, r, points):
    inside = set_.contains(points)
    extended = set_.extension(r).contains(points)
    shell = set_.shell(r).contains(points)
    complement = set_.complement().contains(points)

    np.testing.assert_array_equal(extended, distance <= r)
    np.testing.assert_array_equal(shell, (distance <= r) & ~inside)
    np.testing.assert_array_equal(complement, ~inside)


@pytest.mark.parametrize("r", [0.3, 1.7])
def test_interval_union_brute_force(r):
    union = IntervalUnion([Interval(-3, -1), Interval(0, 0.5), Interval(2, np.inf)])
    points = RNG.uniform(-6, 6, size=5000)
    _assert_extension_and_shell(union, _distance_to_interval_union(points, union), r, points)


@pytest.mark.parametrize("r", [0.4, 2.0])
def test_half_space_brute_force(r):
    normal, offset = (1.0, -2.0, 2.0), 1.5
    half_space = HalfSpace(normal, offset)
    points = RNG.normal(size=(5000, 3)) * 3
    _assert_extension_and_shell(half_space, _distance_to_half_space(points, normal, offset), r, points)


@pytest.mark.parametrize("r", [0.4, 2.0])
def test_ball_brute_force(r):
    ball = Ball((1.0, -1.0), 1.5)
    points = RNG.uniform(-5, 5, size=(5000, 2))
    _assert_extension_and_shell(ball, _distance_to_ball(points, (1.0, -1.0), 1.5), r, points)


@pytest.mark.parametrize("r", [0.4, 2.0])
def test_ball_complement_brute_force(r):
    complement = BallComplement((0.0, 0.0, 0.0), 1.5)
    points = RNG.uniform(-3, 3, size=(5000, 3))
    distance = _distance_to_ball_complement(points, (0.0, 0.0, 0.0), 1.5)
    _assert_extension_and_shell(complement, distance, r, points)


@pytest.mark.parametrize("r", [0.3, 1.5])
def test_annulus_extension_and_shell_brute_force(r):
    annulus = Annulus((0.0, 0.0), 1.0, 2.0)
    points = RNG.uniform(-5, 5, size=(5000, 2))
    norms = np.linalg.norm(points, axis=1)
    distance = np.maximum.reduce([1.0 - norms, norms - 2.0, np.zeros_like(norms)])
    _assert_extension_and_shell(annulus, distance, r, points)


@pytest.mark.parametrize("r", [0.3, 1.5])
def test_slab_extension_and_shell_brute_force(r):
    slab = Slab((3.0, 4.0), -5.0, 5.0)
    points = RNG.uniform(-5, 5, size=(5000, 2))
    t = points @ np.array([0.6, 0.8])
    distance = np.maximum.reduce([-1.0 - t, t - 1.0, np.zeros_like(t)])
    _assert_extension_and_shell(slab, distance, r, points)


# ---------------------------------------------------------------------------
# Exact forms of the results, zero radius, special cases.
# ---------------------------------------------------------------------------

def test_half_space_stored_normalised():
    half_space = HalfSpace((3, 4), 10)
    assert [float(c) for c in half_space.normal] == [0.6, 0.8]
    assert half_space.offset == 2
    assert half_space.extension(1) == HalfSpace((3, 4), 15)
    assert half_space.shell(1) == Slab((3, 4), 10, 15)
    assert half_space.complement() == HalfSpace((-3, -4), -10)
    assert half_space.dim == 2

    # (2, 2) / |(2, 2)| and (1, 1) / |(1, 1)| round to the same binary numbers.
    assert HalfSpace((2, 2), 2) == HalfSpace((1, 1), 1)


def test_ball_results_and_zero_radius():
    ball = Ball((0, 0), 1)
    assert ball.extension(2) == Ball((0, 0), 3)
    assert ball.shell(2) == Annulus((0, 0), 1, 3)
    assert ball.complement() == BallComplement((0, 0), 1)
    assert ball.shell(0) == EmptySet(2)
    assert HalfSpace((1, 0), 0).shell(0) == EmptySet(2)


def test_ball_complement_results():
    complement = BallComplement((1, 2, 3), 2)
    assert complement.extension(0.5) == BallComplement((1, 2, 3), 1.5)
    assert complement.extension(2) == WholeSpace(3)
    assert complement.shell(0.5) == Annulus((1, 2, 3), 1.5, 2)
    assert complement.shell(5) == Ball((1, 2, 3), 2)
    assert complement.complement() == Ball((1, 2, 3), 2)


def test_empty_and_whole_space():
    assert EmptySet(3).complement() == WholeSpace(3)
    assert WholeSpace(3).shell(1) == EmptySet(3)
    assert not EmptySet(2).contains(np.zeros((4, 2))).any()
    assert WholeSpace(2).contains(np.zeros((4, 2))).all()


def test_set_union_operations_not_implemented():
    union = SetUnion([Ball((0, 0), 1), Ball((5, 0), 1)])
    with pytest.raises(NotImplementedError, match="extension"):
        union.extension(1)
    assert union.contains(np.array([[0, 0], [5, 0], [2.5, 0]])).tolist() == [True, True, False]


@pytest.mark.parametrize(
    "set_, expected",
    [
        (HalfSpace(2, 3), IntervalUnion([Interval(-np.inf, 1.5)])),
        (HalfSpace(-1, 3), IntervalUnion([Interval(-3, np.inf)])),
        (Slab(-1, 0, 2), IntervalUnion([Interval(-2, 0, right_closed=False)])),
        (Ball(1, 2), IntervalUnion([Interval(-1, 3)])),
        (
            Annulus(0, 1, 2),
            IntervalUnion([Interval(-2, -1, right_closed=False), Interval(1, 2, left_closed=False)]),
        ),
        (
            BallComplement(0, 1),
            IntervalUnion([Interval(-np.inf, -1, right_closed=False), Interval(1, np.inf, left_closed=False)]),
        ),
        (WholeSpace(1), IntervalUnion([Interval(-np.inf, np.inf)])),
        (EmptySet(1), IntervalUnion([])),
    ],
)
def test_as_intervals_conversions(set_, expected):
    assert as_intervals(set_) == expected
    points = np.linspace(-4, 4, 801)
    np.testing.assert_array_equal(as_intervals(set_).contains(points), set_.contains(points))


def test_contains_shapes():
    assert Interval(0, 1).contains(0.5).shape == ()
    assert Interval(0, 1).contains(np.zeros((3, 1))).shape == (3,)
    assert Ball((0, 0), 1).contains(np.zeros(2)).shape == ()
    assert Ball((0, 0), 1).contains(np.zeros((2, 5, 2))).shape == (2, 5)


def test_sets_immutable_hashable_and_printable():
    ball = Ball((0, 0), 1)
    with pytest.raises(AttributeError):
        ball.radius = 2
    assert len({Ball((0, 0), 1), Ball((0.0, 0.0), 1.0), Ball((0, 0), 2)}) == 2
    assert repr(ball) == "Ball(center=(0.0, 0.0), radius=1.0)"
    assert repr(Interval(0, 1, right_closed=False)) == "Interval(0.0, 1.0, right_closed=False)"
    assert isinstance(ball, Set)


# ---------------------------------------------------------------------------
# Bad input: each message names the argument.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "build, error, pattern",
    [
        (lambda: Interval(2, 1), ValueError, r"a must not exceed b, got a=2.0 and b=1.0"),
        (lambda: Interval(float("nan"), 1), ValueError, r"a must not be NaN"),
        (lambda: Interval(np.inf, np.inf), ValueError, r"a < inf"),
        (lambda: IntervalUnion([Interval(0, 1), (2, 3)]), TypeError, r"intervals\[1\] must be an Interval"),
        (lambda: HalfSpace((0, 0), 1), ValueError, r"normal must be a nonzero vector"),
        (lambda: HalfSpace((1, float("nan")), 1), ValueError, r"normal\[1\] must not be NaN"),
        (lambda: HalfSpace((1, 0), np.inf), ValueError, r"offset must be a finite real number"),
        (lambda: HalfSpace([], 1), ValueError, r"normal must have at least one coordinate"),
        (lambda: HalfSpace([[1, 0]], 1), ValueError, r"normal must be a scalar or a 1D vector"),
        (lambda: Slab((1, 0), 2, 1), ValueError, r"lower must not exceed upper"),
        (lambda: Ball((0, 0), -1), ValueError, r"radius must be a nonnegative number in \[0, inf\), got radius=-1"),
        (lambda: Ball((0, np.inf), 1), ValueError, r"center\[1\] must be a finite real number"),
        (lambda: Annulus((0, 0), 2, 1), ValueError, r"inner must not exceed outer"),
        (lambda: BallComplement((0, 0), "x"), ValueError, r"radius must be a decimal number"),
        (lambda: Ball((0, 0), 1).extension(-1), ValueError, r"r must be a nonnegative number in \[0, inf\), got r=-1"),
        (lambda: Interval(0, 1).shell(float("nan")), ValueError, r"r must not be NaN"),
        (lambda: HalfSpace((1, 0), 0).extension(np.inf), ValueError, r"r must be a nonnegative number"),
        (lambda: SetUnion([Ball((0, 0), 1), Ball(0, 1)]), ValueError, r"pieces\[1\].dim=1"),
        (lambda: SetUnion([]), ValueError, r"pieces must contain at least one set"),
        (lambda: Ball((0, 0), 1).contains(np.zeros((3, 3))), ValueError, r"x must have its last axis of length dim=2"),
        (lambda: Ball((0, 0), 1).contains([[0, float("nan")]]), ValueError, r"x must not contain NaN"),
        (lambda: EmptySet(0), ValueError, r"dim must be a positive integer, got dim=0"),
        (lambda: as_intervals(Ball((0, 0), 1)), ValueError, r"dimension 1, got a set of dimension 2"),
        (lambda: Interval(True, 2), TypeError, r"a must be a real number, got the boolean"),
    ],
)
def test_bad_input_messages(build, error, pattern):
    with pytest.raises(error, match=pattern):
        build()


def test_public_names_exist():
    import isobounds.measures
    import isobounds.sets

    for module in (isobounds.sets, isobounds.measures):
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name}"


def test_set_union_rejects_overlapping_balls():
    with pytest.raises(ValueError, match=r"pairwise disjoint.*pieces\[0\].*pieces\[1\].*overlap"):
        SetUnion([Ball([-5, 0], 1), Ball([-4.5, 0], 1)])


# Pairs of planar pieces and whether their interiors meet, decided by hand.
PLANAR_PAIRS = [
    (HalfSpace([1, 0], 0), HalfSpace([1, 0], 1), True),
    (HalfSpace([1, 0], 0), HalfSpace([-1, 0], 0), False),
    (HalfSpace([1, 0], 0), HalfSpace([-2, 0], -2), False),
    (HalfSpace([1, 0], 0), HalfSpace([-1, 0], 1), True),
    (HalfSpace([1, 0], 0), HalfSpace([0, 1], -5), True),
    (Slab([1, 0], -1, 1), Ball([0, 0], 1), True),
    (Slab([1, 0], -1, 1), Ball([2, 0], 1), False),
    (Slab([1, 0], -1, 1), Slab([1, 0], 1, 3), False),
    (Slab([1, 0], -1, 1), Slab([-1, 0], -2, 0.5), True),
    (Ball([5, 0], 1), HalfSpace([1, 0], 3.9), False),
    (Ball([5, 0], 1), HalfSpace([1, 0], 4.1), True),
    (Slab([1, 0], 1, 1), HalfSpace([0, 1], 0), False),
]


@pytest.mark.parametrize("first, second, overlap", PLANAR_PAIRS)
def test_set_union_checks_half_spaces_and_slabs(first, second, overlap):
    # Independent check of the hand decisions: sample the square [-8, 8]^2 and look
    # for points inside both pieces (the overlaps above all have positive area).
    points = RNG.uniform(-8, 8, size=(200_000, 2))
    shared = np.count_nonzero(first.contains(points) & second.contains(points))
    assert (shared > 0) == overlap

    for pieces in ([first, second], [second, first]):
        if overlap:
            with pytest.raises(ValueError, match=r"pairwise disjoint.*overlap"):
                SetUnion(pieces)
        else:
            assert len(SetUnion(pieces).pieces) == 2


def test_set_union_one_dimension_merges_overlaps():
    # In one dimension the measures merge the pieces, so overlapping intervals or
    # balls are accepted and give the mass of their union.
    target = GaussianMixture([0.5, 0.5], [0, 1], 1)
    union = SetUnion([Interval(-9, -8), Interval(0, 2), Interval(1, 3)])
    balls = SetUnion([Ball([0], 1), Ball([0.5], 1)])
    with mpmath.workdps(40):
        merged = target.mass(Interval(-9, -8)) + target.mass(Interval(0, 3))
        assert abs(target.mass(union) - merged) < mpmath.mpf("1e-25")
        assert abs(target.mass(balls) - target.mass(Interval(-1, 1.5))) < mpmath.mpf("1e-25")


def test_set_union_accepts_point_inside_ball():
    # A ball of radius 0 has an empty interior.
    assert len(SetUnion([Ball([0, 0], 1), Ball([0.5, 0], 0)]).pieces) == 2


def test_set_union_accepts_touching_pieces():
    # Touching balls: centres 2 apart, radii 1 each, exactly; and intervals sharing an end.
    assert len(SetUnion([Ball([-1, 0], 1), Ball([1, 0], 1)]).pieces) == 2
    assert len(SetUnion([Ball([0.1, 0.2], 0.3), Ball([0.1, 0.8], 0.3)]).pieces) == 2
    assert len(SetUnion([Interval(0, 1), Interval(1, 3)]).pieces) == 2



def test_set_union_near_parallel_half_spaces_overlap():
    # Normals (1, 0) and (-1, 1e-14) are not parallel: the half-spaces share the wedge
    # 1e-14 y < x < 0 below the origin, at any working precision.
    first, second = HalfSpace((1, 0), 0), HalfSpace((-1, 1e-14), 0)
    point = np.array([[-1e-3, -1e12]])
    assert first.contains(point)[0]
    assert second.contains(point)[0]
    with pytest.raises(ValueError, match="pairwise disjoint"):
        SetUnion([first, second])


def test_set_union_accepts_half_space_and_complement():
    half_space = HalfSpace((0.6, 0.8), 0.4)
    assert len(SetUnion([half_space, half_space.complement()]).pieces) == 2
