"""Theorem 7 and Corollary 8 (corrected) and the binary KL divergence."""

import mpmath
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isobounds.bounds import (
    kl_bin,
    kl_lower_bound,
    kl_lower_bound_two_gaussians,
    maximize_kl_over_radius,
    ot_lipschitz_constant,
    shell_mass_lower_bound,
    tv_lower_bound,
)
from isobounds.measures import GaussianMixture
from isobounds.sets import HalfSpace, Interval

from _bounds_reference import assert_close, quantile, shell_bound
from _bounds_reference import kl_bin as reference_kl_bin

REL_30 = mpmath.mpf("1e-28")


@pytest.fixture(autouse=True)
def _compare_at_60_digits():
    """Arithmetic in the assertions runs at 60 digits (conftest restores the precision)."""
    mpmath.mp.dps = 60


# ---------------------------------------------------------------------------
# Binary KL divergence.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "a, b",
    [("0.3", "0.6"), ("0.9", "0.1"), ("1e-300", "1e-200"), ("0.999999", "0.5"), ("1e-5", "0.99999")],
)
def test_kl_bin_matches_reference(a, b):
    # 400 digits keep 1 - 1e-300 distinct from 1 in the reference.
    assert_close(kl_bin(a, b), reference_kl_bin(a, b, dps=400), REL_30)


def test_kl_bin_close_arguments_keep_precision():
    # b - a = 2^-70 ~ 8.5e-22: kl ~ (a - b)^2 / (2 b (1 - b)) while each term is ~ 1e-21.
    # Dyadic arguments are exact at any precision, so only the cancellation is tested.
    a = mpmath.mpf("0.375")
    b = a + mpmath.mpf(2) ** -70
    assert_close(kl_bin(a, b), reference_kl_bin(a, b, dps=200), REL_30)


def test_kl_bin_conventions():
    assert_close(kl_bin(0, "0.25"), -mpmath.log(mpmath.mpf("0.75")), REL_30)
    assert_close(kl_bin(1, "0.25"), -mpmath.log(mpmath.mpf("0.25")), REL_30)
    assert kl_bin("0.4", "0.4") == 0
    assert kl_bin(0, 0) == 0
    assert kl_bin("0.2", 0) == mpmath.inf
    assert kl_bin("0.2", 1) == mpmath.inf


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0, 1), b=st.floats(1e-9, 1 - 1e-9))
def test_kl_bin_nonnegative(a, b):
    assert kl_bin(a, b) >= 0


def test_kl_bin_rejects_bad_input():
    with pytest.raises(ValueError, match=r"a must be a probability in \[0, 1\], got a=-0.5"):
        kl_bin(-0.5, 0.5)
    with pytest.raises(ValueError, match="b must not be NaN"):
        kl_bin(0.5, float("nan"))


# ---------------------------------------------------------------------------
# Theorem 7.
# ---------------------------------------------------------------------------

def test_theorem7_matches_reference_when_valid():
    target = GaussianMixture.two_gaussians(-4, 4, 1)
    value = kl_lower_bound(Interval(-mpmath.inf, 0), 2, 3, target=target, model_mass="0.4")
    with mpmath.workdps(100):
        beta = shell_bound("0.4", 2, 3, dps=100)
        v = (mpmath.ncdf(6) - mpmath.ncdf(4) + mpmath.ncdf(-2) - mpmath.ncdf(-4)) / 2
        assert beta >= v
        expected = reference_kl_bin(beta, v)
    assert_close(value, expected, REL_30)


def test_theorem7_zero_when_beta_below_shell_mass():
    target = GaussianMixture.two_gaussians(-1, 1, 1)
    A = Interval(-mpmath.inf, 0)
    assert kl_lower_bound(A, 1, 10, target=target, model_mass="0.5") == 0
    uncorrected = kl_lower_bound(A, 1, 10, target=target, model_mass="0.5", corrected=False)
    assert uncorrected > 0


def test_erratum_exact_pushforward_gets_zero():
    # nu = (N(-10, 1) + N(10, 1)) / 2 is pushed forward exactly by its monotone transport map,
    # whose Lipschitz constant L is about 4e21 (Corollary 3). The model rho = nu has
    # d_KL(rho || nu) = 0, so every valid bound must be 0 for this L and rho(A) = nu(A).
    target = GaussianMixture.two_gaussians(-10, 10, 1)
    lip, _ = ot_lipschitz_constant(target)
    A = Interval(-mpmath.inf, 0)
    model_mass = target.mass(A)
    for r in ("0.5", "2", "5", "9"):
        assert kl_lower_bound(A, r, lip, target=target, model_mass=model_mass) == 0
        assert tv_lower_bound(A, r, lip, target=target, model_mass=model_mass) == 0
    # The uncorrected formula is positive there: kl_bin(beta || v) ~ -log(1 - v) with beta ~ 0.
    uncorrected = kl_lower_bound(A, 5, lip, target=target, model_mass=model_mass, corrected=False)
    with mpmath.workdps(60):
        v = (mpmath.ncdf(15) - mpmath.ncdf(10) + mpmath.ncdf(-5) - mpmath.ncdf(-10)) / 2
    assert uncorrected > 0
    assert_close(uncorrected, -mpmath.log(1 - v), mpmath.mpf("1e-6"))
    # Corollary 8 likewise.
    assert kl_lower_bound_two_gaussians(-10, 10, 1, lip, "0.5") == 0
    assert kl_lower_bound_two_gaussians(-10, 10, 1, lip, "0.5", corrected=False) > 0


def test_theorem7_rejects_bad_input():
    target = GaussianMixture.two_gaussians(-1, 1, 1)
    with pytest.raises(ValueError, match=r"model_mass must be a probability in \[0, 1\], got model_mass=2"):
        kl_lower_bound(Interval(0, 1), 1, 1, target=target, model_mass="2")
    with pytest.raises(ValueError, match="lip must be a positive finite number"):
        kl_lower_bound(Interval(0, 1), 1, -1, target=target, model_mass="0.5")
    with pytest.raises(ValueError, match="A and target must have the same dimension"):
        kl_lower_bound(HalfSpace([1, 0], 0), 1, 1, target=target, model_mass="0.5")


# ---------------------------------------------------------------------------
# Corollary 8.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("lam", ["0.5", "0.2", "1e-10"])
def test_corollary8_a_equals_integral_form(lam):
    # a = Phi(x + Phi_inv(lam)) - lam = int_{-Phi_inv(1-lam)}^{x - Phi_inv(1-lam)} phi, x = D / (4 s L).
    D, s, L = 10, 1, 2
    a = shell_mass_lower_bound(lam, D, 4 * s * L)
    with mpmath.workdps(60):
        q = quantile(1 - mpmath.mpf(lam), 60)
        x = mpmath.mpf(D) / (4 * s * L)
        integral = mpmath.quad(mpmath.npdf, [-q, x - q])
    assert_close(a, integral, mpmath.mpf("1e-28"))


@pytest.mark.parametrize("m, lip, lam", [(5, 10, "0.5"), (5, 10, "0.3"), (8, 100, "0.45"), (3, 2, "0.4")])
def test_corollary8_is_theorem7_on_half_space(m, lip, lam):
    # Theorem 7 on H1 = {x <= 0} (the side of m1 = -m) at r = D / (4 s) = m / 2.
    target = GaussianMixture.two_gaussians(-m, m, 1)
    theorem7 = kl_lower_bound(Interval(-mpmath.inf, 0), mpmath.mpf(m) / 2, lip, target=target, model_mass=lam)
    corollary8 = kl_lower_bound_two_gaussians(-m, m, 1, lip, lam)
    assert corollary8 > 0
    assert_close(corollary8, theorem7, mpmath.mpf("1e-27"))


def test_corollary8_weight_above_half_exchanges_means():
    assert_close(
        kl_lower_bound_two_gaussians(-5, 5, 1, 10, "0.7"), kl_lower_bound_two_gaussians(5, -5, 1, 10, "0.3"), REL_30
    )
    assert_close(
        kl_lower_bound_two_gaussians(-5, 5, 1, 10, "0.7"), kl_lower_bound_two_gaussians(-5, 5, 1, 10, "0.3"), REL_30
    )


def test_corollary8_decreases_with_lip():
    values = [kl_lower_bound_two_gaussians(-6, 6, 1, lip, "0.5") for lip in (1, 3, 10, 30)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_corollary8_hundred_sigma_matches_reference():
    # D = 100: b ~ 1e-138 underflows nothing in mpmath; reference at 300 digits.
    value = kl_lower_bound_two_gaussians(-50, 50, 1, 10, "0.5")
    with mpmath.workdps(300):
        a = mpmath.ncdf(mpmath.mpf(100) / 40) - mpmath.mpf(1) / 2
        b = (mpmath.ncdf(mpmath.mpf(100) * 3 / 4) - mpmath.ncdf(mpmath.mpf(100) / 4)) / 2
        expected = reference_kl_bin(a, b, dps=300)
    assert_close(value, expected, REL_30)


BAD_COROLLARY8 = [
    (dict(m1=0, m2=1, sigma=0, lip=1, model_weight=0.5), "sigma must be a positive finite number"),
    (dict(m1=0, m2=1, sigma=1, lip=0, model_weight=0.5), "lip must be a positive finite number"),
    (dict(m1=0, m2=1, sigma=1, lip=1, model_weight="-0.1"), "model_weight must be a probability in [0, 1], got model_weight=-0.1"),
    (dict(m1=[0], m2=[1, 2], sigma=1, lip=1, model_weight=0.5), "m1 and m2 must have the same dimension"),
]


@pytest.mark.parametrize("kwargs, message", BAD_COROLLARY8)
def test_corollary8_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError) as info:
        kl_lower_bound_two_gaussians(**kwargs)
    assert message in str(info.value)


def test_kl_over_radius_at_least_fixed_radius():
    target = GaussianMixture.two_gaussians(-4, 4, 1)
    A = Interval(-mpmath.inf, 0)
    best = maximize_kl_over_radius(A, 3, target=target, model_mass="0.5")
    for r in ("0.5", "1", "2", "3"):
        assert best.value >= kl_lower_bound(A, r, 3, target=target, model_mass="0.5")
    assert_close(best.value, kl_lower_bound(A, best.radius, 3, target=target, model_mass="0.5"), mpmath.mpf("1e-27"))


def test_theorem7_empty_target_shell_is_infinite():
    # Uniform target on [0, 1] and [3, 4]: the shell (1, 2] of A = [0, 1] has no target mass,
    # while the model puts at least beta > 0 there, so d_KL(rho || nu) = inf.
    from isobounds.measures import DisconnectedSupport

    target = DisconnectedSupport([Interval(0, 1), Interval(3, 4)], ["0.5", "0.5"])
    assert kl_lower_bound(Interval(0, 1), 1, 10, target=target, model_mass="0.5") == mpmath.inf


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0, 1), b=st.floats(1e-300, 1 - 1e-16))
def test_kl_bin_property_against_reference(a, b):
    # Floats are exact binary numbers, so the 400-digit reference gets the same arguments.
    expected = reference_kl_bin(a, b, dps=400)
    assert_close(kl_bin(a, b), expected, REL_30)


def test_kl_bounds_check_target_set_and_flag():
    target = GaussianMixture.two_gaussians(-2, 2, 1)
    with pytest.raises(TypeError, match=r"target must be a measure from isobounds.measures \(an object with .mass"):
        kl_lower_bound(Interval(-mpmath.inf, 0), 1, 1, target=None, model_mass="0.5")
    with pytest.raises(TypeError, match="A must be a set from isobounds.sets"):
        kl_lower_bound("A", 1, 1, target=target, model_mass="0.5")
    with pytest.raises(TypeError, match="corrected must be True or False"):
        kl_lower_bound(Interval(-mpmath.inf, 0), 1, 1, target=target, model_mass="0.5", corrected="no")
    with pytest.raises(TypeError, match="corrected must be True or False"):
        kl_lower_bound_two_gaussians(-2, 2, 1, 1, "0.3", corrected=0)
