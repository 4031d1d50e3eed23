"""Masses of target measures and set operations against independent references.

References: mpmath's normal distribution function at 60 digits, closed forms,
the Marcum Q function as a series of modified Bessel functions, the
hypergeometric form of the regularized incomplete beta function, and
membership decided with exact rational arithmetic.
"""

import fractions
import itertools

import mpmath
import numpy as np
import pytest
import scipy.stats

from isobounds.measures import DisconnectedSupport, EmpiricalMeasure, GaussianMixture, UnivariateDistribution
from isobounds.sets import Annulus, Ball, BallComplement, HalfSpace, Interval, IntervalUnion, as_intervals

INF = mpmath.inf


def relative_error(value, reference):
    with mpmath.workdps(60):
        return abs(mpmath.mpf(value) - reference) / abs(reference)


# ---------------------------------------------------------------------------
# UnivariateDistribution: tails below the float64 range.
# ---------------------------------------------------------------------------

def _normal_mass(a, b):
    """Mass of [a, b] under N(0, 1) at the current precision, each side taken on its tail."""
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    if a >= 0:
        return mpmath.ncdf(-a) - mpmath.ncdf(-b)
    return mpmath.ncdf(b) - mpmath.ncdf(a)


@pytest.mark.parametrize("a, b, tolerance", [
    (40, INF, 1e-12),
    (-INF, -40, 1e-12),
    (38, 39, 1e-12),
    ("-41", "-40", 1e-12),
    ("40", "40.001", 1e-12),
    ("40", "40.0000000001", 1e-12),
    ("38.5", "38.50000000000000000001", 1e-12),
    (1000, INF, 1e-9),
    ("1000", "1000.000000000001", 1e-9),
    ("-1000", "-999.99999", 1e-9),
])
def test_univariate_normal_tail_below_float64(a, b, tolerance):
    # scipy's norm.sf is 0 beyond about 37.5 standard deviations, its logsf is not.
    nu = UnivariateDistribution(scipy.stats.norm())
    with mpmath.workdps(60):
        interval = Interval(a, b)
        reference = _normal_mass(interval.a, interval.b)
        value = nu.mass(interval, dps=30)
    assert reference < 1e-300
    assert relative_error(value, reference) < tolerance


def test_univariate_logistic_tail_below_float64():
    # P(X > x) = 1 / (1 + e^x) for the standard logistic law.
    nu = UnivariateDistribution(scipy.stats.logistic())
    with mpmath.workdps(60):
        reference = 1 / (1 + mpmath.exp(800))
    assert relative_error(nu.mass(Interval(800, INF)), reference) < 1e-12
    assert relative_error(nu.mass(Interval(-INF, -800)), reference) < 1e-12


def test_univariate_student_far_interval_without_logsf():
    # Student t(3) has sf 0 and logsf -inf at 1e105, so both tails of [1e105, 2e105] are 0 and
    # the mass must come from the density. There f(x) = c (1 + x^2/3)^-2 = 9 c x^-4 (1 + O(x^-2))
    # with c = 2 / (pi sqrt(3)), so the mass is 3 c (a^-3 - b^-3) to about 1e-210 relative.
    nu = UnivariateDistribution(scipy.stats.t(3))
    with mpmath.workdps(40):
        c = 2 / (mpmath.pi * mpmath.sqrt(3))
        a, b = mpmath.mpf("1e105"), mpmath.mpf("2e105")
        reference = 3 * c * (a**-3 - b**-3)
    assert relative_error(nu.mass(Interval(1e105, 2e105)), reference) < 1e-12


def test_univariate_complement_of_far_left_tail():
    # [a, inf) for a far in the left tail: the mass is 1 - Phi(a), its complement Phi(a).
    nu = UnivariateDistribution(scipy.stats.norm())
    with mpmath.workdps(60):
        reference = mpmath.ncdf(-45)
    assert nu.mass(Interval(-45, INF), dps=30) == 1
    assert relative_error(nu.mass(Interval(-45, INF).complement()), reference) < 1e-12


# ---------------------------------------------------------------------------
# GaussianMixture: balls in R^D against the Marcum Q function.
# ---------------------------------------------------------------------------

def _bessel_i_values(top, z):
    """Return ``I_k(z)`` for ``k = 0 .. top + 1``, by the recurrence ``I_{k-1} = I_{k+1} + (2k/z) I_k`` run downwards."""
    values = {top + 1: mpmath.besseli(top + 1, z), top: mpmath.besseli(top, z)}
    for k in range(top, 0, -1):
        values[k - 1] = values[k + 1] + (2 * k / z) * values[k]
    return values


def _marcum_series(first, ratio, a, b):
    """``exp(-(a^2 + b^2) / 2) sum_{k >= first} ratio^k I_|k|(a b)``, summed until the terms are negligible."""
    top = max(first, 0) + 64
    while True:
        values = _bessel_i_values(max(top, -first), a * b)
        terms = [ratio**k * values[abs(k)] for k in range(first, top + 1)]
        total = mpmath.fsum(terms)
        if terms[-1] < terms[-2] and terms[-1] < total * mpmath.mpf(10) ** (-mpmath.mp.dps - 10):
            return total * mpmath.exp(-(a * a + b * b) / 2)
        top *= 2


def _marcum_cdf(m, a, b):
    """``1 - Q_m(a, b)``: the probability that ``|X| <= b`` for X ~ N(a e_1, I) in R^(2m), a positive series."""
    return _marcum_series(m, b / a, a, b)


def _marcum_sf(m, a, b):
    """``Q_m(a, b)``: the probability that ``|X| > b``, a positive series."""
    return _marcum_series(1 - m, a / b, a, b)


# Far centres (100 standard deviations and more), tiny and huge radii, and a
# centre almost at the origin, all with references that take well under a second.
BALL_CASES = [
    (2, "100", "1e-3", "cdf"),
    (4, "100", "50", "cdf"),
    (10, "100", "150", "sf"),
    (10, "0.1", "30", "sf"),
    (50, "100", "1000", "sf"),
    (50, "1e-30", "2", "both"),
    (200, "1e4", "1e-30", "cdf"),
    (200, "3", "1e-8", "cdf"),
    (200, "100", "150", "sf"),
]


@pytest.mark.parametrize("dim, distance, radius, side", BALL_CASES)
def test_ball_masses_against_marcum(dim, distance, radius, side):
    with mpmath.workdps(60):
        delta, r = mpmath.mpf(distance), mpmath.mpf(radius)
        nu = GaussianMixture([1], [[delta] + [0] * (dim - 1)], 1)
        ball = Ball([0] * dim, r)
        if side in ("cdf", "both"):
            reference = _marcum_cdf(dim // 2, delta, r)
            assert relative_error(nu.mass(ball, dps=40), reference) < 1e-38
        if side in ("sf", "both"):
            reference = _marcum_sf(dim // 2, delta, r)
            assert relative_error(nu.mass(BallComplement([0] * dim, r), dps=40), reference) < 1e-38


@pytest.mark.parametrize("dim, distance, inner, width", [
    (2, "100", "50", "1e-20"),
    (50, "100", "150", "1e-3"),
    (200, "3", "1e-8", "1e-30"),
])
def test_thin_annulus_against_marcum(dim, distance, inner, width):
    # The reference differences lose up to 30 digits, so they are taken at 120.
    with mpmath.workdps(120):
        delta, low = mpmath.mpf(distance), mpmath.mpf(inner)
        high = low + mpmath.mpf(width)
        if low < delta:
            reference = _marcum_cdf(dim // 2, delta, high) - _marcum_cdf(dim // 2, delta, low)
        else:
            reference = _marcum_sf(dim // 2, delta, low) - _marcum_sf(dim // 2, delta, high)
        nu = GaussianMixture([1], [[delta] + [0] * (dim - 1)], 1)
        annulus = Annulus([0] * dim, low, high)
    assert relative_error(nu.mass(annulus, dps=40), reference) < 1e-38


def test_marcum_reference_matches_scipy():
    # The reference itself, against scipy's noncentral chi-square law at ordinary values.
    with mpmath.workdps(30):
        assert float(_marcum_cdf(5, mpmath.mpf(3), mpmath.mpf(4))) == pytest.approx(
            scipy.stats.ncx2(10, 9.0).cdf(16.0), rel=1e-12)
        assert float(_marcum_sf(1, mpmath.mpf(1), mpmath.mpf(2))) == pytest.approx(
            scipy.stats.ncx2(2, 1.0).sf(4.0), rel=1e-12)


# ---------------------------------------------------------------------------
# DisconnectedSupport: caps and lenses.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [50, 200])
def test_high_dimensional_cap(dim):
    # The cap {x_1 >= 0.9} of the unit ball has the fraction I_x(b, b), x = 0.05, b = (d + 1) / 2, and
    # I_x(b, b) = x^b (1 - x)^b 2F1(2b, 1; b + 1; x) / (b B(b, b)).
    nu = DisconnectedSupport([Ball([0] * dim, 1)], [1])
    value = nu.mass(HalfSpace([-1] + [0] * (dim - 1), "-0.9"), dps=40)
    with mpmath.workdps(60):
        b, x = mpmath.mpf(dim + 1) / 2, mpmath.mpf("0.05")
        reference = x**b * (1 - x) ** b * mpmath.hyp2f1(2 * b, 1, b + 1, x) / (b * mpmath.beta(b, b))
    assert relative_error(value, reference) < 1e-38


def test_nearly_tangent_disk_lens():
    # Area of the intersection of two disks at distance D: the classical formula, taken at 120 digits
    # because it cancels 20 digits for a lens this thin.
    nu = DisconnectedSupport([Ball((0, 0), 1), Ball((10, 0), 1)], [1, 0])
    with mpmath.workdps(60):
        disk = Ball(("1.9999999999", 0), 1)
    value = nu.mass(disk, dps=40)
    with mpmath.workdps(120):
        d = mpmath.mpf("1.9999999999")
        area = 2 * mpmath.acos(d / 2) - d * mpmath.sqrt(4 - d * d) / 2
        reference = area / mpmath.pi
    outside = nu.mass(disk.complement(), dps=40)
    with mpmath.workdps(60):
        inside = 1 - outside
    assert relative_error(value, reference) < 1e-38
    # 1 minus a mass of 40 digits near 1 keeps about 25 digits of a lens of 4e-16.
    assert relative_error(inside, reference) < 1e-23


# ---------------------------------------------------------------------------
# Unions of intervals: extension, shell and complement against exact membership.
# ---------------------------------------------------------------------------

# (a, b, left_closed, right_closed); None stands for an infinite end.
UNIONS = [
    [(0, 1, True, True), (2, 3, False, True)],
    [(None, -4, False, False), (0, 1, True, True), (2, 3, False, True), (4, 4, True, True), (5, None, False, False)],
    [(0, 1, True, False), (1, 2, False, True)],
    [(0, 1, False, False), (1.75, 2.5, True, False)],
    [(None, 0, False, True), (0.5, None, True, False)],
]


def _build(pieces):
    return IntervalUnion(
        Interval(-INF if a is None else a, INF if b is None else b, left_closed=lc, right_closed=rc)
        for a, b, lc, rc in pieces
    )


def _in_piece(x, piece):
    a, b, left_closed, right_closed = piece
    above = a is None or x > a or (x == a and left_closed)
    below = b is None or x < b or (x == b and right_closed)
    return above and below


def _distance_to_piece(x, piece):
    # Distance to the closure [a, b]; an endpoint left out is still at distance 0.
    a, b, _, _ = piece
    gaps = [fractions.Fraction(0)]
    if a is not None:
        gaps.append(fractions.Fraction(a) - x)
    if b is not None:
        gaps.append(x - fractions.Fraction(b))
    return max(gaps)


def _probe_points(pieces, r):
    ends = {float(e) for a, b, _, _ in pieces for e in (a, b) if e is not None}
    shifted = {e + s for e in ends for s in (-r, 0.0, r)}
    points = set(shifted) | {-100.0, 100.0}
    points |= {float(np.nextafter(p, q)) for p in shifted for q in (-np.inf, np.inf)}
    points |= {(p + q) / 2 for p, q in itertools.pairwise(sorted(shifted))}
    return sorted(points)


@pytest.mark.parametrize("r", [0.0, 0.25, 0.5, 1.0, 0.375])
@pytest.mark.parametrize("pieces", UNIONS)
def test_union_operations_exact_membership(pieces, r):
    union = _build(pieces)
    points = _probe_points(pieces, r)
    exact = [fractions.Fraction(x) for x in points]
    inside = [any(_in_piece(x, p) for p in pieces) for x in exact]
    within_r = [min(_distance_to_piece(x, p) for p in pieces) <= fractions.Fraction(r) for x in exact]

    np.testing.assert_array_equal(union.contains(points), inside)
    np.testing.assert_array_equal(union.extension(r).contains(points), within_r)
    np.testing.assert_array_equal(union.shell(r).contains(points), [w and not i for w, i in zip(within_r, inside)])
    np.testing.assert_array_equal(union.complement().contains(points), [not i for i in inside])


def test_merged_extension_gaussian_mass():
    # [0, 1] U (2, 3] at r = 1/2 merges into [-1/2, 7/2]; the shell is [-1/2, 0) U (1, 2] U (3, 7/2].
    nu = GaussianMixture([1], [0], 1)
    union = _build(UNIONS[0])
    with mpmath.workdps(60):
        merged = mpmath.ncdf(3.5) - mpmath.ncdf(-0.5)
        shell = merged - (mpmath.ncdf(1) - mpmath.ncdf(0)) - (mpmath.ncdf(3) - mpmath.ncdf(2))
    assert union.extension(0.5) == IntervalUnion([Interval(-0.5, 3.5)])
    assert relative_error(nu.mass(union.extension(0.5), dps=40), merged) < 1e-38
    assert relative_error(nu.mass(union.shell(0.5), dps=40), shell) < 1e-38


# ---------------------------------------------------------------------------
# EmpiricalMeasure: atoms on the boundary of a set and of its extension.
# ---------------------------------------------------------------------------

def test_empirical_boundary_atoms_1d():
    # A = [0, 1]: atoms at 0 and 1 are in A, atoms at -1/2 and 3/2 in the closed extension A_{1/2}.
    nu = EmpiricalMeasure([-0.5, 0.0, 1.0, 1.5, 2.0])
    region = as_intervals(HalfSpace(1, 1)).intersection(Interval(0, INF))
    assert nu.fraction(region) == fractions.Fraction(2, 5)
    assert nu.fraction(region.extension(0.5)) == fractions.Fraction(4, 5)
    assert nu.fraction(region.shell(0.5)) == fractions.Fraction(2, 5)
    assert nu.fraction(region.complement()) == fractions.Fraction(3, 5)


def test_empirical_boundary_atoms_2d():
    # Atoms on the circles of radius 5 and 10 (exact in float64): the closed ball, its closed
    # 5-extension and the half-open annulus between them partition the count.
    atoms = [(3.0, 4.0), (6.0, 8.0), (0.0, 5.0), (0.0, 10.0), (0.0, 0.0), (10.0, 0.5)]
    nu = EmpiricalMeasure(atoms)
    ball = Ball((0, 0), 5)
    assert nu.fraction(ball) == fractions.Fraction(3, 6)
    assert nu.fraction(ball.extension(5)) == fractions.Fraction(5, 6)
    assert nu.fraction(ball.shell(5)) == fractions.Fraction(2, 6)
    assert nu.fraction(ball.complement()) == fractions.Fraction(3, 6)
