"""Review of the core bounds against references written from the formulas alone.

Every expected value here comes from the formulas of Salmona et al. (2022),
evaluated with mpmath's ``erfc``, ``erf`` and ``log1p`` at about twice the
requested digits plus the digits that each difference cancels. The
quantile is Newton's method on ``log Phi_c`` from an asymptotic start, and
target masses of one-dimensional sets come from a small interval algebra
written here. None of it calls isobounds' kernels. Each bound is then
required to agree with its reference to the requested number of digits.
"""

import itertools

import mpmath as mp
import numpy as np
import pytest

from isobounds.bounds import (
    kl_lower_bound,
    kl_lower_bound_two_gaussians,
    shell_mass_lower_bound,
    tv_lower_bound,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)
from isobounds.measures import EmpiricalMeasure, GaussianMixture
from isobounds.sets import (
    Annulus,
    Ball,
    BallComplement,
    HalfSpace,
    Interval,
    IntervalUnion,
    Slab,
)

INF = mp.inf


# ---------------------------------------------------------------------------
# Reference formulas, evaluated at the precision in force.
# ---------------------------------------------------------------------------

# Beyond 1e100 standard deviations a tail is below 10**(-10**199), negligible in every
# reference here, and mpmath 1.3's erfc overflows a float near 1e154.
FAR = mp.mpf("1e100")


def ref_Phi_c(x):
    if abs(x) > FAR:
        return mp.mpf(0) if x > 0 else mp.mpf(1)
    return mp.erfc(x / mp.sqrt(2)) / 2


def ref_Phi(x):
    return ref_Phi_c(-x)


def ref_upper_quantile(q):
    """Return the x with Phi_c(x) = q for 0 < q <= 1/2, by Newton's method on log Phi_c."""
    if q == mp.mpf(1) / 2:
        return mp.mpf(0)
    log_q = mp.log(q)
    if q > mp.mpf("0.1"):
        x = mp.sqrt(2) * mp.erfinv(1 - 2 * q)
    else:
        t = -2 * log_q
        x = mp.sqrt(t - mp.log(t) - mp.log(2 * mp.pi))
    for _ in range(500):
        tail = ref_Phi_c(x)
        step = (mp.log(tail) - log_q) * tail / mp.npdf(x)
        x += step
        if abs(step) < 4 * mp.eps * max(1, abs(x)):
            return x
    raise AssertionError(f"reference quantile did not converge for q={q}")


def ref_shell(p, c, p_complement):
    """beta = Phi(c + Phi^{-1}(p)) - p, with 1 - p given separately so that p near 1 keeps its digits."""
    if p == 0 or p_complement == 0 or c == 0:
        return mp.mpf(0)
    x = -ref_upper_quantile(p) if p <= mp.mpf(1) / 2 else ref_upper_quantile(p_complement)
    if x + c > 0:
        return p_complement - ref_Phi_c(x + c)
    return ref_Phi(x + c) - p


def ref_kl_bin(a, b):
    first = 0 if a == 0 else a * mp.log(a / b)
    second = 0 if a == 1 else (1 - a) * mp.log1p((b - a) / (1 - b))
    return first + second


def at_digits(digits, compute):
    with mp.workdps(digits):
        return compute()


def assert_digits(actual, expected, digits):
    """Require ``actual`` to match ``expected`` to ``digits`` significant digits (one unit of slack)."""
    with mp.workdps(3 * digits + 20):
        actual, expected = mp.mpf(actual), mp.mpf(expected)
        error = abs(actual - expected)
        assert error <= abs(expected) * mp.mpf(10) ** (1 - digits), (
            f"{mp.nstr(actual, digits + 3)} != {mp.nstr(expected, digits + 3)}"
        )


# Interval algebra on a line (or on the radius |x - c|, floored at 0).

def merge(intervals):
    merged = []
    for a, b in sorted(iv for iv in intervals if iv[0] <= iv[1]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def extend(intervals, r, floor):
    return merge([(max(a - r, floor), b + r) for a, b in intervals])


def complement(intervals, floor):
    result, start = [], floor
    for a, b in merge(intervals):
        if a > start:
            result.append((start, a))
        start = max(start, b)
    if start < INF:
        result.append((start, INF))
    return result


def minus(intervals, removed, floor):
    kept = complement(removed, floor)
    pieces = [(max(a, c), min(b, d)) for a, b in intervals for c, d in kept]
    return merge([(a, b) for a, b in pieces if a < b])


def standard_mass(a, b):
    if a >= 0:
        return ref_Phi_c(a) - ref_Phi_c(b)
    return ref_Phi(b) - ref_Phi(a)


def mixture_mass(intervals, weights, means, sigma):
    return mp.fsum(
        w * standard_mass((a - m) / sigma, (b - m) / sigma) for a, b in intervals for w, m in zip(weights, means)
    )


def ref_theorem4(intervals, floor, mass, r, lip, rho):
    """Return (model-free bracket, bracket with rho(A) = rho, corrected KL bound) of one set."""
    shell_a = minus(extend(intervals, r, floor), intervals, floor)
    other = complement(intervals, floor)
    shell_b = minus(extend(other, r, floor), other, floor)
    nu_a, nu_b, v_a, v_b = mass(intervals), mass(other), mass(shell_a), mass(shell_b)
    c = r / lip
    model_free = min(ref_shell(nu_a, c, nu_b) - v_a, ref_shell(nu_b, c, nu_a) - v_b)
    beta = ref_shell(rho, c, 1 - rho)
    known = beta + rho - min(rho, nu_a) - v_a
    kl = mp.mpf(0) if beta < v_a else ref_kl_bin(beta, v_a)
    return model_free, known, kl


# ---------------------------------------------------------------------------
# Theorem 1.
# ---------------------------------------------------------------------------

SHELL_CASES = [
    # (mass, r, lip, digits of cancellation in Phi(x + c) - p)
    ("1e-300", "1", "1e300", 320),
    ("1e-300", "30", "1", 0),
    ("0.5", "1", "1e-300", 0),
    ("0." + "9" * 41, "1", "1", 45),
    ("0.49999999999999999999", "1e-10", "7.3", 15),
    ("0.3", "1e10", "1e300", 300),
]


@pytest.mark.parametrize("digits", [8, 30, 60])
@pytest.mark.parametrize(("mass", "r", "lip", "cancelled"), SHELL_CASES)
def test_shell_mass_matches_formula(mass, r, lip, cancelled, digits):
    def reference():
        p = mp.mpf(mass)
        return ref_shell(p, mp.mpf(r) / mp.mpf(lip), 1 - p)

    expected = at_digits(2 * digits + 40 + cancelled, reference)
    assert_digits(shell_mass_lower_bound(mass, r, lip, dps=digits), expected, digits)


# ---------------------------------------------------------------------------
# Theorem 4 and Theorem 7 for each one-dimensional set type.
# ---------------------------------------------------------------------------

# Modes 200 standard deviations apart. The mixture divides the float weights by their sum.
FAR_WEIGHTS, FAR_MEANS, FAR_SIGMA = (0.3, 0.7), (-50, 50), 0.5
# A component of weight 1e-300.
TINY_WEIGHTS, TINY_MEANS, TINY_SIGMA = ("1e-300", "1"), (0, 3), 1

ONE_D_SETS = [
    # (set, "line" or "radial" coordinate, its intervals, centre of the radial coordinate)
    (Interval(-1, 2), "line", [(-1, 2)], None),
    (IntervalUnion([Interval(-5, -3), Interval(0.5, 1.5)]), "line", [(-5, -3), (0.5, 1.5)], None),
    (Interval(-INF, 0.25), "line", [(-INF, 0.25)], None),
    (HalfSpace(-1, 0.3), "line", [(-0.3, INF)], None),
    (Slab(1, -0.5, 4), "line", [(-0.5, 4)], None),
    (Slab(1, -0.5, 4).complement(), "line", [(-INF, -0.5), (4, INF)], None),
    (Ball(0.2, 1.5), "radial", [(0, 1.5)], 0.2),
    (BallComplement(0.2, 1.5), "radial", [(1.5, INF)], 0.2),
    (Annulus(0.2, 0.5, 2), "radial", [(0.5, 2)], 0.2),
    (Annulus(0.2, 0.5, 2).complement(), "radial", [(0, 0.5), (2, INF)], 0.2),
]


def _reference_mass(kind, center, weights, means, sigma):
    def on_line(intervals):
        return mixture_mass(intervals, weights, means, sigma)

    if kind == "line":
        return on_line

    def on_radius(intervals):
        c = mp.mpf(center)
        mirrored = [(c - b, c - a) for a, b in intervals] + [(c + a, c + b) for a, b in intervals]
        return on_line(merge(mirrored))

    return on_radius


@pytest.mark.parametrize("target", ["far", "tiny"])
@pytest.mark.parametrize(("region", "kind", "intervals", "center"), ONE_D_SETS, ids=lambda v: type(v).__name__)
def test_theorem4_and_7_each_set(region, kind, intervals, center, target):
    weights, means, sigma = (FAR_WEIGHTS, FAR_MEANS, FAR_SIGMA) if target == "far" else (TINY_WEIGHTS, TINY_MEANS, TINY_SIGMA)
    nu = GaussianMixture(list(weights), list(means), sigma)
    digits, r, lip, rho = 25, "0.7", "0.5", "0.4"

    def reference():
        w = [mp.mpf(x) for x in weights]
        total = mp.fsum(w)
        w = [x / total for x in w]
        mass = _reference_mass(kind, center, w, [mp.mpf(m) for m in means], mp.mpf(sigma))
        floor = -INF if kind == "line" else mp.mpf(0)
        exact = [(mp.mpf(a), mp.mpf(b)) for a, b in intervals]
        return ref_theorem4(exact, floor, mass, mp.mpf(r), mp.mpf(lip), mp.mpf(rho))

    model_free, known, kl = at_digits(2 * digits + 40, reference)
    assert_digits(tv_lower_bound(region, r, lip, target=nu, clip=False, dps=digits), model_free, digits)
    assert_digits(tv_lower_bound(region, r, lip, target=nu, model_mass=rho, clip=False, dps=digits), known, digits)
    assert_digits(kl_lower_bound(region, r, lip, target=nu, model_mass=rho, dps=digits), kl, digits)


def test_theorem4_empirical_target():
    rng = np.random.default_rng(5)
    samples = rng.normal(size=200) * 2 + np.where(rng.random(200) < 0.5, -3.0, 3.0)
    nu = EmpiricalMeasure(samples)

    def count(intervals):
        inside = sum(int(np.count_nonzero((samples > float(a)) & (samples < float(b)))) for a, b in intervals)
        return mp.mpf(inside) / len(samples)

    expected = at_digits(60, lambda: ref_theorem4([(mp.mpf(-1), mp.mpf(2))], -INF, count, mp.mpf(3), mp.mpf(2), mp.mpf("0.4")))
    region = Interval(-1, 2)
    assert_digits(tv_lower_bound(region, 3, 2, target=nu, clip=False, dps=20), expected[0], 20)
    assert_digits(tv_lower_bound(region, 3, 2, target=nu, model_mass="0.4", clip=False, dps=20), expected[1], 20)
    assert_digits(kl_lower_bound(region, 3, 2, target=nu, model_mass="0.4", dps=20), expected[2], 20)


# ---------------------------------------------------------------------------
# Theorem 7 at its validity threshold beta = v.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("offset", ["1e-20", "1e-80", "-1e-40"])
def test_theorem7_at_threshold(offset):
    # For nu = N(0, 1), A = {x <= 0} and rho(A) = 1/2, beta >= v exactly when L <= 1.
    nu = GaussianMixture([1], [0], 1)
    digits = 30

    def reference():
        lip = 1 - mp.mpf(offset)
        beta, v = ref_Phi(2 / lip) - mp.mpf(1) / 2, ref_Phi(2) - mp.mpf(1) / 2
        kl = mp.mpf(0) if beta < v else ref_kl_bin(beta, v)
        return beta - v, kl, mp.nstr(lip, 400)

    difference, kl, lip = at_digits(500, reference)
    region = HalfSpace(1, 0)
    assert_digits(tv_lower_bound(region, 2, lip, target=nu, model_mass="0.5", clip=False, dps=digits), difference, digits)
    if kl == 0:
        assert kl_lower_bound(region, 2, lip, target=nu, model_mass="0.5", dps=digits) == 0
    else:
        assert_digits(kl_lower_bound(region, 2, lip, target=nu, model_mass="0.5", dps=digits), kl, digits)


# ---------------------------------------------------------------------------
# Corollaries 6 and 8.
# ---------------------------------------------------------------------------

def ref_corollary6(D, s, lip):
    """Return the Corollary 6 expression, rewritten with Phi = 1 - Phi_c (exact algebra) when D(2s - 1) < 0."""
    a, upper, lower = D / (4 * s * lip), D * (2 * s + 1) / (4 * s * s), D * (2 * s - 1) / (4 * s * s)
    if lower < 0:
        return ref_Phi_c(upper) / 2 + ref_Phi_c(-lower) / 2 - ref_Phi_c(a)
    return mp.erf(a / mp.sqrt(2)) / 2 - (ref_Phi_c(lower) - ref_Phi_c(upper)) / 2


COROLLARY6_CASES = [
    # (D, sigma, lip, digits to add for cancellation)
    ("200", "1", "1e300", 0),
    ("200", "0.01", "1e-300", 0),
    ("77", "0.3", "3", 0),
    ("1e-8", "1", "1", 40),
    ("2", "5", "1e5", 0),
    ("10", "1e4", "0.01", 0),
]


@pytest.mark.parametrize(("D", "sigma", "lip", "cancelled"), COROLLARY6_CASES)
def test_corollary6_matches_formula(D, sigma, lip, cancelled):
    digits = 30
    expected = at_digits(2 * digits + 40 + cancelled, lambda: ref_corollary6(mp.mpf(D), mp.mpf(sigma), mp.mpf(lip)))
    assert_digits(tv_lower_bound_two_gaussians(0, D, sigma, lip, clip=False, dps=digits), expected, digits)


COROLLARY8_CASES = [
    # (D, sigma, lip, lambda)
    ("200", "1", "1e300", "0.5"),
    ("200", "1", "1e300", "0.01"),
    ("77", "1", "1", "1e-300"),
    ("10", "0.3", "3", "0.7"),
    ("2", "1", "0.01", "0.3"),
]


@pytest.mark.parametrize(("D", "sigma", "lip", "lam"), COROLLARY8_CASES)
def test_corollary8_matches_formula(D, sigma, lip, lam):
    digits = 30

    def reference():
        d, s, L, p = mp.mpf(D), mp.mpf(sigma), mp.mpf(lip), mp.mpf(lam)
        p = min(p, 1 - p)
        a = ref_shell(p, d / (4 * s * L), 1 - p)
        b = (ref_Phi_c(d * (2 * s - 1) / (4 * s * s)) - ref_Phi_c(d * (2 * s + 1) / (4 * s * s))) / 2
        return mp.mpf(0) if a < b else ref_kl_bin(a, b)

    # L = 1e300 cancels 300 digits in a = Phi(x + c) - lambda.
    expected = at_digits(2 * digits + 700, reference)
    got = kl_lower_bound_two_gaussians(0, D, sigma, lip, lam, dps=digits)
    assert_digits(got, expected, digits)


@pytest.mark.parametrize("lam", ["0.5", "0.3"])
@pytest.mark.parametrize("offset", ["1e-45", "-1e-45"])
def test_corollary8_at_threshold(lam, offset):
    D, s, digits = mp.mpf(6), mp.mpf("0.8"), 30

    def reference():
        p = mp.mpf(lam)
        b = (ref_Phi(D * (2 * s + 1) / (4 * s * s)) - ref_Phi(D * (2 * s - 1) / (4 * s * s))) / 2
        a = lambda L: ref_shell(p, D / (4 * s * L), 1 - p)
        threshold = mp.findroot(lambda L: a(L) - b, 1.0)
        lip = threshold * (1 - mp.mpf(offset))
        value = a(lip)
        return (mp.mpf(0) if value < b else ref_kl_bin(value, b)), mp.nstr(lip, 500)

    expected, lip = at_digits(600, reference)
    got = kl_lower_bound_two_gaussians(0, D, s, lip, lam, dps=digits)
    if expected == 0:
        assert got == 0
    else:
        assert_digits(got, expected, digits)


# ---------------------------------------------------------------------------
# Corollaries 5 and S11 against every subset.
# ---------------------------------------------------------------------------

def ref_disconnected(weights, distances, lip):
    count, best = len(weights), None
    for size in range(1, count):
        for inside in itertools.combinations(range(count), size):
            outside = [j for j in range(count) if j not in inside]
            mass_in, mass_out = mp.fsum(weights[i] for i in inside), mp.fsum(weights[j] for j in outside)
            lam, rest = (mass_in, mass_out) if mass_in >= mass_out else (mass_out, mass_in)
            gap = min(distances[i][j] for i in inside for j in outside)
            value = ref_shell(lam, gap / (2 * lip), rest)
            best = value if best is None or value > best else best
    return best


@pytest.mark.parametrize("seed", range(6))
def test_disconnected_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    count = int(rng.integers(2, 7))
    points = rng.normal(size=(count, 2)) * float(rng.choice([1.0, 10.0, 100.0]))
    raw = rng.random(count)
    if seed % 2 == 0:
        raw[0] = 1e-300
    with mp.workdps(80):
        total = mp.fsum(mp.mpf(x) for x in raw)
        weights = [mp.nstr(mp.mpf(x) / total, 70) for x in raw]
    distances = [[0.0 if i == j else float(np.linalg.norm(points[i] - points[j])) + 0.01 for j in range(count)]
                 for i in range(count)]
    lip = float(rng.choice([1e-300, 0.1, 30.0, 1e300]))
    digits = 30

    def reference():
        w = [mp.mpf(x) for x in weights]
        total = mp.fsum(w)
        return ref_disconnected([x / total for x in w], [[mp.mpf(x) for x in row] for row in distances], mp.mpf(lip))

    # A huge lip cancels log10(lip) digits in Phi(x + c) - lambda.
    expected = at_digits(2 * digits + 40 + max(0, int(np.log10(lip))), reference)
    assert_digits(tv_lower_bound_disconnected(weights, distances, lip, dps=digits), expected, digits)


@pytest.mark.parametrize("radii", [(1, 1), [0.5, 2.0], np.array([1.0, 1.0])])
def test_kl_bound_rejects_radius_pair(radii):
    # A pair of radii belongs to the model-free TV bound only, and the message names that bound.
    target = GaussianMixture([0.5, 0.5], [-3.0, 3.0], 1.0)
    with pytest.raises(TypeError, match=r"r must be one radius.*model-free total-variation bound"):
        kl_lower_bound(HalfSpace([1.0], 0.0), radii, 2.0, target=target, model_mass=0.5)
