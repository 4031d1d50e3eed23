"""Review of the sets: exact membership, extensions, masses and input checks.

Each check compares with an independent computation: exact rational
arithmetic on the stored parameters, brute-force distances on a grid,
closed forms in mpmath, ``scipy.stats.ncx2`` and Monte Carlo.
"""

from fractions import Fraction

import mpmath
import numpy as np
import pytest
import scipy.stats as st

from isobounds import precision
from isobounds.measures import EmpiricalMeasure, GaussianMixture
from isobounds.sets import (
    Annulus,
    AnnulusComplement,
    Ball,
    BallComplement,
    EmptySet,
    HalfSpace,
    Interval,
    IntervalUnion,
    SetUnion,
    Slab,
    SlabComplement,
    WholeSpace,
    as_intervals,
)


def exact(x):
    """The exact rational value of an mpf (or a float)."""
    if isinstance(x, float):
        return Fraction(x)
    sign, man, exp, _ = x._mpf_
    value = Fraction(int(man)) * Fraction(2) ** int(exp)
    return -value if sign else value


def neighbours(level):
    """The float64 values next to an mpf level: the two nearest on each side."""
    f = float(level)
    return [float(np.nextafter(np.nextafter(f, -np.inf), -np.inf)), float(np.nextafter(f, -np.inf)), f,
            float(np.nextafter(f, np.inf)), float(np.nextafter(np.nextafter(f, np.inf), np.inf))]


# --- one dimension: membership compared with exact rational arithmetic ---

LOW = "0.999999999999999999999999999999"  # rounds to the float64 1.0 from below
HIGH = "1.000000000000000000000000000001"  # rounds to the float64 1.0 from above


@pytest.mark.parametrize(
    ("interval", "inside"),
    [
        (lambda: Interval(LOW, 2, left_closed=False), True),
        (lambda: Interval(0, HIGH, right_closed=False), True),
        (lambda: Interval(HIGH, 2), False),
        (lambda: Interval(0, LOW), False),
    ],
)
def test_interval_contains_a_point_between_an_endpoint_and_its_float(interval, inside):
    # 1.0 lies strictly between LOW and HIGH, so the expected results follow from the definition.
    assert exact(1.0) > Fraction(LOW)
    assert exact(1.0) < Fraction(HIGH)
    with precision(40):
        assert bool(interval().contains(1.0)) is inside


def test_one_dimensional_euclidean_sets_contain_points_next_to_their_ends():
    with precision(40):
        cases = [
            (HalfSpace(1, LOW), False),        # 1.0 > LOW
            (HalfSpace(-1, "-" + HIGH), False),  # {x >= HIGH}
            (Slab(1, LOW, 2), True),           # LOW < 1.0 <= 2
            (Slab(-1, -2, "-" + LOW), True),   # {LOW <= x < 2}, so 1.0 is inside
            (Ball(0, LOW), False),
            (Annulus(0, LOW, 2), True),
            (BallComplement(0, LOW), True),
            (BallComplement(0, HIGH), False),
        ]
        for s, inside in cases:
            assert bool(s.contains(1.0)) is inside, s
            assert bool(as_intervals(s).contains(1.0)) is inside, s


def test_ball_membership_does_not_round_the_distance():
    # |2**53 + 4 - 3| = 2**53 + 1 exceeds the radius 2**53, but rounds to it in float64.
    assert not Ball(3.0, 2.0**53).contains(2.0**53 + 4)
    assert Ball(3.0, 2.0**53).contains(2.0**53 + 2)
    # c + r = 0.1 + 0.2 (binary values) lies below the float64 0.30000000000000004.
    assert exact(0.1) + exact(0.2) < exact(0.30000000000000004)
    assert not Ball(0.1, 0.2).contains(0.30000000000000004)
    assert not as_intervals(Ball(0.1, 0.2)).contains(0.30000000000000004)


def _exact_member(s, t):
    """Membership of the float t in a one-dimensional set, in rational arithmetic on its stored parameters."""
    t = exact(t)
    if isinstance(s, Interval):
        a_ok = s.a == -mpmath.inf or (t >= exact(s.a) if s.left_closed else t > exact(s.a))
        b_ok = s.b == mpmath.inf or (t <= exact(s.b) if s.right_closed else t < exact(s.b))
        return a_ok and b_ok
    if isinstance(s, HalfSpace):
        return exact(s.normal[0]) * t <= exact(s.offset)
    if isinstance(s, Slab):
        return exact(s.lower) < exact(s.normal[0]) * t <= exact(s.upper)
    distance = abs(t - exact(s.center[0]))
    if isinstance(s, Ball):
        return distance <= exact(s.radius)
    if isinstance(s, Annulus):
        return exact(s.inner) < distance <= exact(s.outer)
    return distance > exact(s.radius)


def _random_decimal(rng, scale):
    digits = "".join(str(d) for d in rng.integers(0, 10, size=30))
    sign = "-" if rng.random() < 0.5 else ""
    return f"{sign}{int(rng.integers(0, scale))}.{digits}"


def test_one_dimensional_membership_matches_rational_arithmetic():
    rng = np.random.default_rng(12)
    with precision(40):
        for _ in range(60):
            p, q = sorted((_random_decimal(rng, 5), _random_decimal(rng, 5)), key=Fraction)
            radius = _random_decimal(rng, 3).lstrip("-")
            sign = 1 if rng.random() < 0.5 else -1
            sets = [
                Interval(p, q, left_closed=bool(rng.integers(2)), right_closed=bool(rng.integers(2))),
                HalfSpace(sign, p),
                Slab(sign * 3, p, q),
                Ball(p, radius),
                Annulus(q, radius, "7.5"),
                BallComplement(p, radius),
            ]
            for s in sets:
                ends = [e for piece in as_intervals(s).intervals for e in (piece.a, piece.b) if mpmath.isfinite(e)]
                points = [t for e in ends for t in neighbours(e)]
                want = [_exact_member(s, t) for t in points]
                assert list(s.contains(np.array(points))) == want, s
                assert list(as_intervals(s).contains(np.array(points))) == want, s


def test_empirical_measure_counts_a_sample_next_to_an_endpoint():
    with precision(40):
        sample = EmpiricalMeasure(np.array([1.0, 3.0]))
        assert sample.fraction(Interval(LOW, 2, left_closed=False)) == Fraction(1, 2)
        assert sample.fraction(HalfSpace(1, LOW)) == 0


def test_one_dimensional_unit_normal_is_exactly_plus_or_minus_one():
    for c in [0.1, 1 / 3, 7.7, 1e-300, 1e300, Fraction(2**100 + 1, 2**100)]:
        assert HalfSpace(c, 1).normal == (1,)
        assert Slab(-c, 0, 1).normal == (-1,)
    # {c x <= 1} with c slightly above 1 leaves out x = 1.
    c = Fraction(2**100 + 1, 2**100)
    assert not HalfSpace(c, 1).contains(1.0)
    assert not as_intervals(HalfSpace(c, 1)).contains(1.0)


def test_decimal_string_center_is_a_scalar():
    ball = Ball("0.1", "0.2")
    assert ball == Ball(["0.1"], "0.2")
    # 0.1 + 0.2 = 0.3 exactly in decimal: the float 0.3 is below it, 0.30000000000000004 above.
    assert list(ball.contains([0.3, 0.30000000000000004])) == [True, False]
    with pytest.raises(ValueError, match=r"center\[0\] must be a decimal number, got the string center\[0\]='abc'"):
        Ball("abc", 1)
    with pytest.raises(TypeError, match="center must be a real number"):
        Ball(b"1", 1)


# --- extensions and shells against brute-force distances ---

def _grid_distance(inside, grid):
    """Distance from each grid point to the grid points inside the set (brute force)."""
    from scipy.spatial import cKDTree

    members = grid[inside]
    if not len(members):
        return np.full(len(grid), np.inf)
    return cKDTree(members).query(grid)[0]


@pytest.mark.parametrize(
    "s",
    [
        HalfSpace((3, 4), 0.5),
        Slab((1, 2), -1, 0.5),
        Ball((0.5, -0.3), 1.2),
        Annulus((0.2, 0.1), 0.7, 1.5),
        Annulus((0.0, 0.0), 0.0, 1.0),
        BallComplement((0.0, 0.0), 1.0),
        Slab((1, 1), 0, 1).complement(),
        Annulus((0, 0), 0.5, 1.5).complement(),
    ],
    ids=repr,
)
def test_extension_and_shell_match_grid_distances(s):
    step = 0.04
    axis = np.arange(-4.5, 4.5 + step / 2, step)
    x, y = np.meshgrid(axis, axis)
    grid = np.c_[x.ravel(), y.ravel()]
    inside = s.contains(grid)
    distance = _grid_distance(inside, grid)
    depth = _grid_distance(~inside, grid)
    # Away from the edges of the grid, where the set is cut off.
    core = np.all(np.abs(grid) <= 2.5, axis=1)
    slack = step * np.sqrt(2)
    for r in [0.3, 0.8]:
        extension = s.extension(r).contains(grid)
        assert not np.any(core & (distance <= r - slack) & ~extension)
        assert not np.any(core & (distance > r + slack) & extension)
        shell = s.shell(r).contains(grid)
        assert not np.any(core & (distance <= r - slack) & ~inside & ~shell)
        assert not np.any(core & shell & (depth > slack))
        assert not np.any(core & (distance > r + slack) & shell)


# --- Gaussian masses ---

def test_masses_of_extensions_and_shells_match_monte_carlo():
    rng = np.random.default_rng(5)
    n = 400_000
    points = rng.standard_normal((n, 3))
    gauss = GaussianMixture([1.0], [[0.0, 0.0, 0.0]], 1.0)
    c = np.array([0.5, -0.2, 0.1])
    u = np.array([1.0, 2.0, 2.0]) / 3
    dist = np.linalg.norm(points - c, axis=1)
    proj = points @ u
    r = 0.4
    # Independent descriptions of A_r and A_r \ A by the distance to each set.
    cases = [
        (Ball(c, 1.0), dist <= 1.0 + r, (dist > 1.0) & (dist <= 1.0 + r)),
        (Annulus(c, 1.0, 1.5), (dist >= 0.6) & (dist <= 1.9), ((dist >= 0.6) & (dist <= 1.0)) | ((dist > 1.5) & (dist <= 1.9))),
        (BallComplement(c, 1.0), dist >= 0.6, (dist >= 0.6) & (dist <= 1.0)),
        (HalfSpace((1, 2, 2), 0.3), proj <= 0.1 + r, (proj > 0.1) & (proj <= 0.1 + r)),
        (Slab((1, 2, 2), -0.3, 0.6), (proj >= -0.1 - r) & (proj <= 0.2 + r),
         ((proj >= -0.1 - r) & (proj <= -0.1)) | ((proj > 0.2) & (proj <= 0.2 + r))),
        (Slab((1, 2, 2), -3, 3).complement(), (proj <= -1 + r) | (proj >= 1 - r),
         ((proj > -1) & (proj <= -1 + r)) | ((proj >= 1 - r) & (proj < 1))),
        (Annulus(c, 0.5, 2.0).complement(), (dist <= 0.5 + r) | (dist >= 2.0 - r),
         ((dist > 0.5) & (dist <= 0.5 + r)) | ((dist >= 2.0 - r) & (dist <= 2.0))),
    ]
    for s, in_extension, in_shell in cases:
        for mass, hits in [(gauss.mass(s.extension(r)), in_extension), (gauss.mass(s.shell(r)), in_shell)]:
            p = hits.mean()
            error = np.sqrt(p * (1 - p) / n)
            assert abs(float(mass) - p) <= 5 * error + 1e-12, s


@pytest.mark.parametrize("d", [1, 2, 3, 10, 50, 100])
def test_ball_and_annulus_masses_match_noncentral_chi2(d):
    gauss = GaussianMixture([1.0], [np.zeros(d)], 1.0)
    c = np.zeros(d)
    c[0] = 1.5
    lam = 1.5**2
    radius = np.sqrt(d) + 0.5
    ball = Ball(c, radius)
    assert float(gauss.mass(ball.extension(0.5))) == pytest.approx(st.ncx2.cdf((radius + 0.5) ** 2, d, lam), rel=1e-9)
    shell = float(gauss.mass(ball.shell(0.5)))
    want = st.ncx2.sf(radius**2, d, lam) - st.ncx2.sf((radius + 0.5) ** 2, d, lam)
    assert shell == pytest.approx(want, rel=1e-8)
    complement_extension = float(gauss.mass(ball.complement().extension(0.25)))
    assert complement_extension == pytest.approx(st.ncx2.sf((radius - 0.25) ** 2, d, lam), rel=1e-8)


def test_masses_at_extreme_radii_and_far_centres_match_closed_forms():
    line = GaussianMixture([1.0], [[0.0]], 1.0)
    tiny = mpmath.mpf("1e-300")
    with mpmath.workdps(40):
        # Shell of [0, 1] of width 1e-300: r (phi(0) + phi(1)) to first order.
        want = tiny * (mpmath.npdf(0) + mpmath.npdf(1))
        assert line.mass(Interval(0, 1).shell("1e-300")) == pytest.approx(want, rel=1e-12)
        # A ball of radius 1e-300 100 standard deviations out.
        want = 2 * tiny * mpmath.npdf(100)
        assert line.mass(Ball(100.0, "1e-300")) == pytest.approx(want, rel=1e-12)
        assert line.mass(Ball(100.0, "1e-300").shell("1e-300")) == pytest.approx(want, rel=1e-12)
        # The half-space far in the tail and its thin shell.
        assert line.mass(HalfSpace(1, -100)) == pytest.approx(mpmath.ncdf(-100), rel=1e-12)
        assert line.mass(HalfSpace(1, -100).shell("1e-300")) == pytest.approx(tiny * mpmath.npdf(-100), rel=1e-12)
    # A huge extension covers everything but the far tails.
    assert line.mass(Interval(0, 1).extension(1e300)) == 1
    assert line.mass(BallComplement(0, 1e300).extension(1e300)) == 1
    plane = GaussianMixture([1.0], [[0.0, 0.0]], 1.0)
    # In two dimensions P(|X| <= r) = 1 - exp(-r^2/2), about r^2/2 for r = 1e-300.
    assert plane.mass(Ball((0, 0), "1e-300")) == pytest.approx(tiny**2 / 2, rel=1e-12)


# --- degenerate sets ---

def test_degenerate_sets():
    assert Slab((1, 0), 1, 1).extension(5) == EmptySet(2)
    assert Slab((1, 0), 1, 1).complement() == WholeSpace(2)
    assert Annulus((0, 0), 1, 1).extension(5) == EmptySet(2)
    assert Ball((0, 0), 0).extension(2) == Ball((0, 0), 2)
    assert BallComplement((0, 0), 0).extension(0) == WholeSpace(2)
    assert BallComplement((0, 0), 0).shell(1) == Ball((0, 0), 0)
    assert Interval(1, 1, left_closed=False).extension(1) == IntervalUnion()
    assert list(Interval(1, 1).shell(0.5).contains([0.5, 1.0, 1.5, 1.6])) == [True, False, True, False]
    assert EmptySet(3).extension(1e300) == EmptySet(3)
    assert WholeSpace(3).shell(1) == EmptySet(3)
    # Pieces that only touch are accepted; overlapping ones are not.
    SetUnion([HalfSpace((1, 0), 0), Ball((1, 0), 1)])
    with pytest.raises(ValueError, match="overlap"):
        SetUnion([HalfSpace((1, 0), "1e-300"), Ball((1, 0), 1)])


# --- bad input ---

@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: Ball(0, -1), ValueError, r"radius must be a nonnegative number in \[0, inf\), got radius=-1"),
        (lambda: Ball(0, float("nan")), ValueError, "radius must not be NaN"),
        (lambda: Ball([0, float("inf")], 1), ValueError, r"center\[1\] must be a finite real number"),
        (lambda: Ball(0, 1).extension(-0.5), ValueError, r"r must be a nonnegative number in \[0, inf\), got r=-0.5"),
        (lambda: Ball(0, 1).shell(float("inf")), ValueError, r"r must be a nonnegative number in \[0, inf\), got r=inf"),
        (lambda: Ball((0, 0), 1).contains([[1, 2, 3]]), ValueError, r"x must have its last axis of length dim=2"),
        (lambda: Interval(0, 1).contains([0.5, float("nan")]), ValueError, r"x must not contain NaN, got x\[1\]=nan"),
        (lambda: Interval(2, 1), ValueError, "a must not exceed b, got a=2.0 and b=1.0"),
        (lambda: Interval(0, 1, left_closed=1), TypeError, "left_closed must be True or False, got left_closed=1"),
        (lambda: Annulus(0, 2, 1), ValueError, "inner must not exceed outer, got inner=2.0 and outer=1.0"),
        (lambda: HalfSpace((0, 0), 1), ValueError, r"normal must be a nonzero vector, got normal=\(0.0, 0.0\)"),
        (lambda: Slab((1, 0), 1, 0), ValueError, "lower must not exceed upper, got lower=1.0 and upper=0.0"),
        (lambda: SetUnion([Ball(0, 1), Ball((0, 0), 1)]), ValueError, "pieces must share one dimension"),
        (lambda: SetUnion([Ball(0, 1), 3]), TypeError, r"pieces\[1\] must be an isobounds set, got 3"),
        (lambda: EmptySet(0), ValueError, "dim must be a positive integer, got dim=0"),
        (lambda: SlabComplement(Ball(0, 1)), TypeError, "slab must be a Slab with lower < upper, got slab=Ball"),
        (lambda: SlabComplement(Slab(1, 0, 0)), ValueError, "slab must be a Slab with lower < upper"),
        (lambda: AnnulusComplement(Ball(0, 1)), TypeError, "annulus must be an Annulus with inner < outer"),
        (lambda: AnnulusComplement(Annulus(0, 1, 1)), ValueError, "annulus must be an Annulus with inner < outer"),
        (lambda: as_intervals(Ball((0, 0), 1)), ValueError, "as_intervals needs a set of dimension 1"),
    ],
)
def test_bad_input_names_the_argument_and_the_range(build, error, message):
    with pytest.raises(error, match=message):
        build()
