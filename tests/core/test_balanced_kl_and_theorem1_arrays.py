"""The TV, KL and Theorem 1 bounds: balanced Corollary 8 far out, array checks, monotonicity in lip."""

import mpmath
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from isobounds.bounds import (
    kl_lower_bound_two_gaussians,
    shell_mass_lower_bound,
    surface_area_lower_bound,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)

from _bounds_reference import assert_close


def _tail_terms(D, s, L):
    """Compute ``(a - b, b)`` of Corollary 8 at lambda = 1/2 from mpmath's ncdf, summing ``a - b`` from the tails.

    For ``s < 1/2`` the lower end ``D (2s - 1) / (4 s^2)`` is negative, and
    ``a - b = -Phi(-D/(4sL)) + Phi(-D(2s+1)/(4s^2))/2 + Phi(D(2s-1)/(4s^2))/2``;
    the three tails differ by hundreds of orders of magnitude, so the sum
    does not cancel.
    """
    D, s, L = mpmath.mpf(D), mpmath.mpf(s), mpmath.mpf(L)
    upper, lower = D * (2 * s + 1) / (4 * s * s), D * (2 * s - 1) / (4 * s * s)
    d = -mpmath.ncdf(-D / (4 * s * L)) + mpmath.ncdf(-upper) / 2 + mpmath.ncdf(lower) / 2
    b = (1 - mpmath.ncdf(-upper) - mpmath.ncdf(lower)) / 2
    return d, b


@pytest.mark.parametrize("dps", [15, 30, 60])
def test_balanced_corollary8_far_modes(dps):
    # D = 77, s = 0.3, L = 0.01, lambda = 1/2: a and b both lie within 1e-1590 of 1/2 and
    # a - b is about 1.6e-1592, so kl(a || b) is about (a - b)^2 / (2 b (1 - b)) = 1.28e-3184
    # (the next term is smaller by a factor a - b). Subtracting a and b would need about
    # 1600 more digits than the result.
    # A direct evaluation at 6000 digits agrees to 40 digits:
    #   with mpmath.workdps(6000):
    #       D, s, L = mpmath.mpf(77), mpmath.mpf("0.3"), mpmath.mpf("0.01")
    #       a = mpmath.ncdf(D / (4 * s * L)) - mpmath.mpf(1) / 2
    #       b = (mpmath.ncdf(D * (2 * s + 1) / (4 * s * s)) - mpmath.ncdf(D * (2 * s - 1) / (4 * s * s))) / 2
    #       a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))
    value = kl_lower_bound_two_gaussians(0, 77, "0.3", "0.01", "0.5", dps=dps)
    with mpmath.workdps(dps + 30):
        d, b = _tail_terms(77, "0.3", "0.01")
        expected = d * d / (2 * b * (1 - b))
    assert_close(expected, "1.28174241156492001811610363032193316437e-3184", mpmath.mpf("1e-38"))
    assert_close(value, expected, mpmath.mpf(10) ** (2 - dps))


@pytest.mark.parametrize("s, lip", [("0.001", "7"), ("0.001", "1"), ("0.3", "1")])
def test_uncorrected_corollary8_a_below_b(s, lip):
    # a < b by a tail difference: the corrected bound is 0 and the uncorrected formula is
    # kl(a || b), about (a - b)^2 / (2 b (1 - b)), positive (D = 10, s = 0.001: a - b is
    # about -1e-1357).
    D = 10 if s == "0.001" else 77
    assert kl_lower_bound_two_gaussians(0, D, s, lip, "0.5") == 0
    value = kl_lower_bound_two_gaussians(0, D, s, lip, "0.5", corrected=False)
    with mpmath.workdps(60):
        d, b = _tail_terms(D, s, lip)
        expected = d * d / (2 * b * (1 - b))
    assert d < 0
    assert_close(value, expected, mpmath.mpf("1e-28"))


@pytest.mark.parametrize(
    "D, s, lip",
    [("0.01", "1", "1"), ("1", "0.3", "0.5"), ("3", "1", "1"), ("3", "1", "2"), ("10", "0.2", "1.3"),
     ("30", "3", "7"), ("0.01", "1e-3", "1")],
)
@pytest.mark.parametrize("corrected", [True, False])
def test_balanced_corollary8_direct_formula(D, s, lip, corrected):
    # kl_bin(a || b) evaluated directly from the formulas with mpmath at 400 digits, enough
    # for the cancellation in a - b of every case here.
    value = kl_lower_bound_two_gaussians(0, D, s, lip, "0.5", corrected=corrected)
    with mpmath.workdps(400):
        Dm, sm, Lm = mpmath.mpf(D), mpmath.mpf(s), mpmath.mpf(lip)
        a = mpmath.ncdf(Dm / (4 * sm * Lm)) - mpmath.mpf(1) / 2
        b = (mpmath.ncdf(Dm * (2 * sm + 1) / (4 * sm**2)) - mpmath.ncdf(Dm * (2 * sm - 1) / (4 * sm**2))) / 2
        if corrected and a < b:
            expected = mpmath.mpf(0)
        else:
            expected = a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))
    assert_close(value, expected, mpmath.mpf("1e-28"))


def test_surface_area_broadcast_error():
    with pytest.raises(ValueError, match=r"mass and lip must broadcast to a common shape, got shapes \(2,\) and \(3,\)"):
        surface_area_lower_bound([0.5, 0.2], [1, 2, 3])


@pytest.mark.parametrize("call", [
    lambda dps: surface_area_lower_bound([0.5], 1, dps=dps),
    lambda dps: shell_mass_lower_bound([0.5], 1, 1, dps=dps),
])
def test_array_path_checks_dps(call):
    with pytest.raises(TypeError, match="dps must be an integer"):
        call("50")
    with pytest.raises(ValueError, match="dps must lie in"):
        call(0)


_EXPONENT = st.integers(min_value=-300, max_value=300)


@settings(max_examples=25, deadline=None)
@given(
    D=st.floats(min_value=0.01, max_value=200),
    s=st.floats(min_value=0.05, max_value=20),
    e1=_EXPONENT,
    e2=_EXPONENT,
    weight=st.floats(min_value=0, max_value=1),
)
@example(D=77.0, s=0.3, e1=-2, e2=0, weight=0.5)
@example(D=10.0, s=0.001, e1=-300, e2=300, weight=0.5)
def test_bounds_nonincreasing_in_lip(D, s, e1, e2, weight):
    # Every bound here is nonincreasing in L: a = Phi(D/(4sL) + Phi^-1(lam)) - lam decreases in L,
    # and kl(a || b) increases in a on a >= b.
    small, large = mpmath.mpf(10) ** min(e1, e2), mpmath.mpf(10) ** max(e1, e2)
    assert tv_lower_bound_two_gaussians(0, D, s, small, clip=False, dps=20) >= \
        tv_lower_bound_two_gaussians(0, D, s, large, clip=False, dps=20)
    assert kl_lower_bound_two_gaussians(0, D, s, small, weight, dps=20) >= \
        kl_lower_bound_two_gaussians(0, D, s, large, weight, dps=20)
    assert tv_lower_bound_disconnected(weight, D, small, dps=20) >= tv_lower_bound_disconnected(weight, D, large, dps=20)
    assert shell_mass_lower_bound(weight, D, small, dps=20) >= shell_mass_lower_bound(weight, D, large, dps=20) >= 0
