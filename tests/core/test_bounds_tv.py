"""Theorem 4, Corollaries 5, S11 and 6: total variation lower bounds."""

import itertools
import re

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isobounds.bounds import (
    MAX_PIECES,
    maximize_tv_over_half_spaces,
    maximize_tv_two_gaussians,
    tv_lower_bound,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)
from isobounds.measures import DisconnectedSupport, GaussianMixture
from isobounds.sets import Ball, HalfSpace, Interval

from _bounds_reference import assert_close, mixture_mass, shell_bound

REL_30 = mpmath.mpf("1e-28")


@pytest.fixture(autouse=True)
def _compare_at_60_digits():
    """Arithmetic in the assertions runs at 60 digits (conftest restores the precision)."""
    mpmath.mp.dps = 60


TARGET_1D = dict(weights=["0.3", "0.7"], means=[-2, 3], sigmas=[1, "1.5"])


def _target_1d():
    return GaussianMixture(TARGET_1D["weights"], TARGET_1D["means"], TARGET_1D["sigmas"])


def _mass(a, b):
    return mixture_mass(TARGET_1D["weights"], TARGET_1D["means"], TARGET_1D["sigmas"], a, b, dps=100)


@pytest.mark.parametrize("model_mass", ["0.1", "0.3", "0.6"])
def test_theorem4_bracket_matches_reference(model_mass):
    # alpha(rho(A), r) - min(rho(A), nu(A)) - nu(A_r minus A) for A = (-inf, 0], r = 1.5, L = 2.
    value = tv_lower_bound(Interval(-mpmath.inf, 0), "1.5", 2, target=_target_1d(), model_mass=model_mass, clip=False)
    with mpmath.workdps(100):
        rho = mpmath.mpf(model_mass)
        nu = _mass(-mpmath.inf, 0)
        alpha = rho + shell_bound(rho, "1.5", 2, dps=100)
        expected = alpha - min(rho, nu) - _mass(0, "1.5")
    assert_close(value, expected, REL_30, abs_tol=mpmath.mpf("1e-30"))


@pytest.mark.parametrize("r", ["0.5", "0.8"])
def test_theorem4_model_free_is_min_of_sides(r):
    # A = [-1, 0.5]; the shell of its complement is [-1, -1 + r] and [0.5 - r, 0.5], all of A once 2 r >= 1.5.
    A = Interval(-1, "0.5")
    value = tv_lower_bound(A, r, "1.2", target=_target_1d(), clip=False)
    with mpmath.workdps(100):
        r = mpmath.mpf(r)
        inside = _mass(-1, "0.5")
        side_a = shell_bound(inside, r, "1.2", dps=100) - _mass(-1 - r, -1) - _mass("0.5", mpmath.mpf("0.5") + r)
        if 2 * r >= mpmath.mpf("1.5"):
            complement_shell = inside
        else:
            complement_shell = _mass(-1, -1 + r) + _mass(mpmath.mpf("0.5") - r, "0.5")
        side_b = shell_bound(1 - inside, r, "1.2", dps=100) - complement_shell
        expected = min(side_a, side_b)
    assert_close(value, expected, REL_30, abs_tol=mpmath.mpf("1e-30"))


def test_theorem4_clips_at_zero():
    raw = tv_lower_bound(Interval(-mpmath.inf, 0), 1, 100, target=_target_1d(), clip=False)
    assert raw < 0
    assert tv_lower_bound(Interval(-mpmath.inf, 0), 1, 100, target=_target_1d()) == 0


def test_theorem4_decreases_with_lip():
    target = GaussianMixture.two_gaussians(-4, 4, 1)
    A = Interval(-mpmath.inf, 0)
    values = [tv_lower_bound(A, 1, lip, target=target) for lip in (1, 2, 5, 10, 50)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_theorem4_rejects_dimension_mismatch():
    target = GaussianMixture([0.5, 0.5], [[0, 0], [1, 1]], 1)
    with pytest.raises(ValueError, match="A and target must have the same dimension, got A.dim=1 and target.dim=2"):
        tv_lower_bound(Interval(0, 1), 1, 1, target=target)
    with pytest.raises(ValueError, match="A and target must have the same dimension"):
        tv_lower_bound(Ball([0, 0, 0], 1), 1, 1, target=target, model_mass=0.5)


BAD_THEOREM4 = [
    (dict(r=-1, lip=1), "r must be a nonnegative number in [0, inf), got r=-1"),
    (dict(r=1, lip=0), "lip must be a positive finite number in (0, inf), got lip=0"),
    (dict(r=1, lip=1, model_mass="1.5"), "model_mass must be a probability in [0, 1], got model_mass=1.5"),
    (dict(r=float("nan"), lip=1), "r must not be NaN"),
]


@pytest.mark.parametrize("kwargs, message", BAD_THEOREM4)
def test_theorem4_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError) as info:
        tv_lower_bound(Interval(0, 1), target=_target_1d(), **kwargs)
    assert message in str(info.value)


# ---------------------------------------------------------------------------
# Corollary 6.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("m, sigma, lip", [(3, 1, 10), (5, 1, 3), (4, 2, 5), (1, "0.5", 2)])
def test_corollary6_is_theorem4_at_fixed_radius(m, sigma, lip):
    # Theorem 4 (model-free) on the bisecting half-space at r = D / (4 s).
    sigma = mpmath.mpf(sigma)
    D = 2 * m
    target = GaussianMixture.two_gaussians([-m, 0], [m, 0], sigma)
    theorem4 = tv_lower_bound(HalfSpace([1, 0], 0), D / (4 * sigma), lip, target=target, clip=False)
    corollary6 = tv_lower_bound_two_gaussians([-m, 0], [m, 0], sigma, lip, clip=False)
    assert_close(corollary6, theorem4, REL_30, abs_tol=mpmath.mpf("1e-30"))


@settings(max_examples=25, deadline=None)
@given(m=st.floats(min_value=0.5, max_value=8), lip=st.floats(min_value=0.5, max_value=200))
def test_corollary6_at_most_optimized_radius(m, lip):
    corollary6 = tv_lower_bound_two_gaussians(-m, m, 1, lip)
    optimized = maximize_tv_two_gaussians(-m, m, 1, lip)
    assert optimized.value >= corollary6 - mpmath.mpf("1e-29")
    # The optimised value is Theorem 4 at the returned radius.
    target = GaussianMixture.two_gaussians(-m, m, 1)
    at_radius = tv_lower_bound(Interval(-mpmath.inf, 0), optimized.radius, lip, target=target)
    assert_close(optimized.value, at_radius, mpmath.mpf("1e-27"), abs_tol=mpmath.mpf("1e-29"))


def test_corollary6_half_spaces_search_at_least_bisecting():
    target = GaussianMixture.two_gaussians([0, 0], [3, 4], 1)
    result = maximize_tv_over_half_spaces(8, target=target)
    assert result.value >= maximize_tv_two_gaussians([0, 0], [3, 4], 1, 8).value - mpmath.mpf("1e-25")
    assert result.value >= tv_lower_bound_two_gaussians([0, 0], [3, 4], 1, 8)


def test_corollary6_tail_safe_at_hundred_sigma():
    # D = 100, s = 1, L = 1e100: Phi(D/(4 s L)) - 1/2 ~ 1e-99, target shell ~ 1e-138.
    value = tv_lower_bound_two_gaussians(-50, 50, 1, "1e100")
    with mpmath.workdps(400):
        expected = (mpmath.ncdf(mpmath.mpf(25) / mpmath.mpf("1e100")) - mpmath.mpf(1) / 2) - (
            mpmath.ncdf(75) - mpmath.ncdf(25)
        ) / 2
    assert value > 0
    assert_close(value, expected, REL_30)


def test_corollary6_decreases_with_lip():
    values = [tv_lower_bound_two_gaussians(-5, 5, 1, lip) for lip in (1, 3, 10, 30, 100)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_corollary6_rejects_zero_sigma():
    with pytest.raises(ValueError, match="sigma must be a positive finite number in \\(0, inf\\), got sigma=0"):
        tv_lower_bound_two_gaussians(-1, 1, 0, 1)


# ---------------------------------------------------------------------------
# Corollaries 5 and S11.
# ---------------------------------------------------------------------------

def test_corollary5_matches_reference():
    # Phi(D/(2L) + Phi_inv(lam)) - lam with lam = max(w, 1 - w) = 0.7.
    expected = shell_bound("0.7", 10, 2 * 3, dps=100)
    assert_close(tv_lower_bound_disconnected("0.7", 10, 3), expected, REL_30)
    assert_close(tv_lower_bound_disconnected("0.3", 10, 3), expected, REL_30)


def test_corollary5_tends_to_half():
    values = [tv_lower_bound_disconnected("0.5", d, 1) for d in (1, 3, 10, 30, 1000)]
    assert all(a < b for a, b in zip(values[:-1], values[1:-1]))
    assert values[-1] <= mpmath.mpf(1) / 2
    # 1/2 - value = Phi_c(500), about 1e-54300.
    assert abs(values[-1] - mpmath.mpf(1) / 2) < mpmath.mpf("1e-30")


def test_corollary5_decreases_with_lip():
    values = [tv_lower_bound_disconnected("0.6", 5, lip) for lip in (0.5, 1, 4, 16, 1e6)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_corollary_s11_disconnected_support():
    target = DisconnectedSupport([Interval(0, 1), Interval(3, 4), Interval(10, 12)], ["0.2", "0.3", "0.5"])
    distances = target.pairwise_distances()
    result = tv_lower_bound_disconnected(target.weights, distances, 2, return_subset=True)
    expected = _brute_force_s11(target.weights, [[mpmath.mpf(d) for d in row] for row in np.asarray(distances)], 2)
    assert_close(result.value, expected, mpmath.mpf("1e-25"))
    assert result.subset in ((0, 1), (2,))
    assert_close(result.distance, 6, REL_30)


def test_corollary5_huge_lip_keeps_relative_precision():
    # Phi(D/(2L)) - 1/2 = D / (2 L sqrt(2 pi)) (1 + O(1e-600)) for D = 1, L = 1e300.
    with mpmath.workdps(60):
        expected = 1 / (2 * mpmath.mpf("1e300") * mpmath.sqrt(2 * mpmath.pi))
    assert_close(tv_lower_bound_disconnected("0.5", 1, "1e300"), expected, REL_30)


def _brute_force_s11(weights, distances, lip):
    """max over nonempty proper subsets I of Phi(D_I/(2L) + Phi_inv(lam_I)) - lam_I, by enumeration."""
    n = len(weights)
    best = mpmath.mpf(0)
    for size in range(1, n):
        for subset in itertools.combinations(range(n), size):
            inside = mpmath.fsum(mpmath.mpf(weights[i]) for i in subset)
            lam = max(inside, 1 - inside)
            gap = min(distances[i][j] for i in subset for j in range(n) if j not in subset)
            best = max(best, shell_bound(lam, gap, 2 * lip, dps=50))
    return best


@settings(max_examples=12, deadline=None)
@given(
    points=st.lists(st.tuples(st.floats(-20, 20), st.floats(-20, 20)), min_size=2, max_size=7, unique=True),
    raw_weights=st.lists(st.integers(1, 20), min_size=7, max_size=7),
    lip=st.floats(min_value=0.5, max_value=20),
)
def test_corollary_s11_matches_brute_force(points, raw_weights, lip):
    points = np.array(points)
    distances = np.linalg.norm(points[:, None, :] - points[None, :, :], axis=-1)
    if (distances + np.eye(len(points)) < 1e-3).any():
        return
    counts = raw_weights[: len(points)]
    weights = [mpmath.mpf(c) / sum(counts) for c in counts]
    result = tv_lower_bound_disconnected(weights, distances, lip, return_subset=True)
    expected = _brute_force_s11(weights, distances, lip)
    assert_close(result.value, expected, mpmath.mpf("1e-25"))


def test_corollary_s11_two_pieces_is_corollary5():
    matrix = [[0, 7], [7, 0]]
    result = tv_lower_bound_disconnected(["0.35", "0.65"], matrix, 2, return_subset=True)
    assert result.subset == (1,)
    assert_close(result.value, tv_lower_bound_disconnected("0.35", 7, 2), REL_30)


def test_corollary_s11_thirty_pieces_on_a_line():
    # Pieces at 0, 1, ..., 29 with one wide gap after piece 14: the best cut is that gap.
    positions = np.concatenate((np.arange(15), 30 + np.arange(15)))
    distances = np.abs(positions[:, None] - positions[None, :]).astype(float)
    weights = [mpmath.mpf(1) / 30] * 30
    result = tv_lower_bound_disconnected(weights, distances, 5, return_subset=True)
    assert result.subset in (tuple(range(15)), tuple(range(15, 30)))
    assert_close(result.value, tv_lower_bound_disconnected("0.5", 16, 5), mpmath.mpf("1e-27"))


BAD_S11 = [
    (dict(weights=[0.5, 0.5], distances=[[0, 1], [2, 0]]), "distances must be symmetric"),
    (dict(weights=[0.5, 0.5], distances=[[0, -1], [-1, 0]]), "distances between distinct pieces must be positive"),
    (dict(weights=[0.5, 0.5], distances=[[1, 1], [1, 0]]), "distances must have a zero diagonal, got distances[0, 0]=1.0"),
    (dict(weights=[0.5, 0.5], distances=[[0, 1, 1], [1, 0, 1]]), "distances must be a 2 x 2 matrix"),
    (dict(weights=[0.5, 0.6], distances=[[0, 1], [1, 0]]), "weights must sum to 1"),
    (dict(weights=[1.0], distances=[[0]]), "weights must describe at least 2 pieces"),
    (dict(weights=[0.5, 0.5], distances=[[0, float("nan")], [float("nan"), 0]]), "distances[0, 1] must not be NaN"),
    (dict(weights="0.5", distances=0), "distances must be a positive finite number"),
    (dict(weights="1.5", distances=1), "weights must be a probability in [0, 1], got weights=1.5"),
]


@pytest.mark.parametrize("kwargs, message", BAD_S11)
def test_corollary_s11_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError) as info:
        tv_lower_bound_disconnected(lip=1, **kwargs)
    assert message in str(info.value)


def test_corollary_s11_rejects_too_many_pieces():
    n = MAX_PIECES + 1
    distances = np.abs(np.arange(n)[:, None] - np.arange(n)[None, :]).astype(float)
    with pytest.raises(ValueError, match=f"at most {MAX_PIECES} pieces are supported"):
        tv_lower_bound_disconnected([mpmath.mpf(1) / n] * n, distances, 1)


def test_dps_keyword_raises_precision():
    # Corollary 6 at 50 digits against mpmath.ncdf at 200 digits.
    value = tv_lower_bound_two_gaussians(-3, 3, 1, 5, dps=50)
    with mpmath.workdps(200):
        expected = (mpmath.ncdf(mpmath.mpf(6) / 20) - mpmath.mpf(1) / 2) - (
            mpmath.ncdf(mpmath.mpf(18) / 4) - mpmath.ncdf(mpmath.mpf(6) / 4)
        ) / 2
    assert_close(value, expected, mpmath.mpf("1e-48"))
    assert_close(tv_lower_bound_disconnected("0.6", 4, 3, dps=50), shell_bound("0.6", 4, 6, dps=200), mpmath.mpf("1e-48"))


# ---------------------------------------------------------------------------
# Regressions: Corollary 6 for nearly equal means, argument checks.
# ---------------------------------------------------------------------------

def _corollary6_reference(D, s, L, dps):
    """Corollary 6 as the plain difference of mpmath.ncdf values at ``dps`` digits."""
    with mpmath.workdps(dps):
        D, s, L = mpmath.mpf(D), mpmath.mpf(s), mpmath.mpf(L)
        gain = mpmath.ncdf(D / (4 * s * L)) - mpmath.mpf(1) / 2
        shell = (mpmath.ncdf(D * (2 * s + 1) / (4 * s * s)) - mpmath.ncdf(D * (2 * s - 1) / (4 * s * s))) / 2
        return gain - shell


@pytest.mark.parametrize("D, s, L", [("1e-300", 1, 1), ("1e-300", 1, 2), ("1e-20", "0.7", "0.7"), ("0.01", 1, 1)])
def test_corollary6_raw_close_means(D, s, L):
    # The two terms are about D phi(0) / (4 s) and cancel at first order when L = s; with
    # s = L = 1 the value is phi(0) D^3 / 32 (about 1.2467e-902 for D = 1e-300), so a
    # reference by subtraction needs more than 900 + 30 digits: 1300 are used.
    value = tv_lower_bound_two_gaussians(0, D, s, L, clip=False)
    expected = _corollary6_reference(D, s, L, dps=1300)
    assert expected != 0
    assert_close(value, expected, REL_30)


def test_corollary6_small_separation_matches_series():
    # Second route: Phi(x) - 1/2 = phi(0) (x - x^3 / 6 + ...) gives phi(0) D^3 / 32 for s = L = 1.
    value = tv_lower_bound_two_gaussians(0, "1e-3000", 1, 1, clip=False)
    with mpmath.workdps(60):
        expected = mpmath.npdf(0) * mpmath.mpf("1e-3000") ** 3 / 32
    assert_close(value, expected, REL_30)


def test_bound_flags_must_be_booleans():
    with pytest.raises(TypeError, match="clip must be True or False"):
        tv_lower_bound_two_gaussians(0, 3, 1, 1, clip="x")
    with pytest.raises(TypeError, match="clip must be True or False"):
        tv_lower_bound(Interval(-mpmath.inf, 0), 1, 1, target=_target_1d(), clip=1)
    with pytest.raises(TypeError, match="return_subset must be True or False"):
        tv_lower_bound_disconnected("0.3", 2, 1, return_subset="yes")


def test_tv_bound_rejects_bad_kinds():
    with pytest.raises(TypeError, match=r"target must be a measure from isobounds.measures \(an object with .mass"):
        tv_lower_bound(Interval(-mpmath.inf, 0), 1, 1, target=None)
    with pytest.raises(TypeError, match="A must be a set from isobounds.sets"):
        tv_lower_bound([0, 1], 1, 1, target=_target_1d())


def test_disconnected_accepts_zero_dimensional_arrays():
    # A 0-d array is a scalar: the same two-piece bound as the plain numbers.
    expected = tv_lower_bound_disconnected("0.3", 2, 1)
    assert tv_lower_bound_disconnected(np.array(0.3), np.array(2.0), 1) == tv_lower_bound_disconnected(0.3, 2.0, 1)
    assert_close(tv_lower_bound_disconnected(np.array(0.3), 2, 1), expected, mpmath.mpf("1e-15"))


@pytest.mark.parametrize("bound", ["tv", "kl"])
def test_impossible_model_mass_rejected(bound):
    # Every model gives the whole space mass 1 and the empty set mass 0.
    from isobounds import kl_lower_bound
    from isobounds.sets import EmptySet, WholeSpace

    function = tv_lower_bound if bound == "tv" else kl_lower_bound
    target = GaussianMixture([1], [0], 1)
    with pytest.raises(ValueError, match="model_mass must be 1 for the whole space"):
        function(WholeSpace(1), 0.5, 1, target=target, model_mass=0.3)
    with pytest.raises(ValueError, match="model_mass must be 0 for the empty set"):
        function(EmptySet(1), 0.5, 1, target=target, model_mass=0.3)
    assert function(WholeSpace(1), 0.5, 1, target=target, model_mass=1) == 0


@pytest.mark.parametrize("name, value, shown", [
    ("model_mass", -0.1, "-0.1"), ("model_mass", "1.5", "1.5"), ("lip", -0.1, "-0.1"), ("r", -0.3, "-0.3"),
    ("lip", " -1e-400 ", "' -1e-400 '"), ("lip", mpmath.mpf("-0.1"), "-0.1"), pytest.param("lip", -10**5000, "-1.0e+5000", id="lip-huge-integer"),
    ("lip", np.float32(-0.5), "-0.5"),
])
def test_messages_quote_the_value_as_given(name, value, shown):
    # A float such as -0.1 is quoted as typed, not as the 40 digits of its binary value.
    arguments = dict(r=1, lip=1, model_mass=0.5)
    arguments[name] = value
    target = GaussianMixture([0.5, 0.5], [-1, 1], 1)
    with pytest.raises(ValueError, match=rf"got {name}={re.escape(shown)}$"):
        tv_lower_bound(HalfSpace([1.0], 0), arguments["r"], arguments["lip"], target=target,
                       model_mass=arguments["model_mass"])


@pytest.mark.parametrize("dps", [15, 20, 30, 60, 100])
def test_corollary6_narrow_modes_keep_every_digit(dps):
    # D = 1e-8, s = 1e-10: the tail arguments reach 2.5e11, so rounding the decimal
    # inputs to the working precision alone would cost 23 digits. The reference is
    # the sum of tails at 300 digits from the exact decimal inputs.
    D, s, L = "1e-8", "1e-10", "1e-30"
    with mpmath.workdps(300):
        D_, s_, L_ = mpmath.mpf(D), mpmath.mpf(s), mpmath.mpf(L)
        root2 = mpmath.sqrt(2)
        upper = D_ * (2 * s_ + 1) / (4 * s_ * s_)
        lower = D_ * (1 - 2 * s_) / (4 * s_ * s_)
        gain_tail = mpmath.erfc(D_ / (4 * s_ * L_ * root2)) / 2
        reference = (mpmath.erfc(upper / root2) + mpmath.erfc(lower / root2)) / 4 - gain_tail
    value = tv_lower_bound_two_gaussians(0, D, s, L, dps=dps)
    with mpmath.workdps(300):
        assert abs(value / reference - 1) < mpmath.mpf(10) ** (1 - dps)


@pytest.mark.parametrize("dps", [15, 30, 100])
def test_corollary6_extreme_narrow_modes_logarithm(dps):
    # The bound is about 10^(-1.36e402): its logarithm is compared with the asymptotic
    # series of log Phi_c at 1200 digits, the gain term being negligible there.
    D, s, L = "1e-198", "1e-200", "1e-300"
    with mpmath.workdps(1200):
        D_, s_ = mpmath.mpf(D), mpmath.mpf(s)
        x = D_ * (1 - 2 * s_) / (4 * s_ * s_)
        log_reference = (-x * x / 2 - mpmath.log(x) - mpmath.log(2 * mpmath.pi) / 2
                         + mpmath.log(1 - 1 / x**2) - mpmath.log(2))
    value = tv_lower_bound_two_gaussians(0, D, s, L, dps=dps)
    with mpmath.workdps(1200):
        assert abs(mpmath.log(value) - log_reference) < mpmath.mpf(10) ** (1 - dps)


def test_corollary6_tiny_lip_matches_tails():
    # lip = 1e-3000: the gain term is 1/2 to 3000 digits, so the bound is
    # 1/2 - (1/2)[Phi(3/4) - Phi(1/4)] for D = 1, s = 1.
    value = tv_lower_bound_two_gaussians(0, 1, 1, "1e-3000", dps=40)
    with mpmath.workdps(60):
        expected = mpmath.mpf(1) / 2 - (mpmath.ncdf(mpmath.mpf(3) / 4) - mpmath.ncdf(mpmath.mpf(1) / 4)) / 2
        assert abs(value / expected - 1) < mpmath.mpf("1e-39")
