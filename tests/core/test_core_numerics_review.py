"""Regression tests from a review of the core numerics (gaussian, _precision, _validation, vectorized).

Reference values come from mpmath at 40 to 60 digits, written out here:
``Phi(x) = erfc(-x / sqrt(2)) / 2`` and quantiles by Newton's method on
``log(erfc(-x / sqrt(2)) / 2) = log p``, started from scipy's float64 value.
"""

import re
import warnings
from decimal import Decimal

import mpmath
import numpy as np
import pytest
import scipy.special as sc

import isobounds
from isobounds import vectorized

REF_DPS = 50


def ref_Phi(x):
    """Phi(x) at REF_DPS digits, from the lower-tail erfc (no cancellation for x <= 0)."""
    with mpmath.workdps(REF_DPS):
        return mpmath.erfc(-mpmath.mpf(x) / mpmath.sqrt(2)) / 2


def ref_mass(a, b):
    """Phi(b) - Phi(a) at REF_DPS digits, from the side of 0 where the ends lie."""
    with mpmath.workdps(REF_DPS):
        a, b = mpmath.mpf(a), mpmath.mpf(b)
        if a > b:
            return -ref_mass(b, a)
        if a >= 0:
            return ref_Phi(-a) - ref_Phi(-b)
        return ref_Phi(b) - ref_Phi(a)


def ref_lower_quantile(q):
    """The x <= 0 with Phi(x) = q, for 0 < q <= 1/2: Newton on log Phi from scipy's ndtri."""
    with mpmath.workdps(REF_DPS):
        q = mpmath.mpf(q)
        x = mpmath.mpf(float(sc.ndtri(float(q)))) if q > 1e-300 else mpmath.mpf(-37)
        for _ in range(100):
            tail = ref_Phi(x)
            step = (mpmath.log(q) - mpmath.log(tail)) * tail / mpmath.npdf(x)
            x += step
            if abs(step) < mpmath.mpf(10) ** (-REF_DPS + 5) * max(1, abs(x)):
                return x
    raise AssertionError("reference Newton iteration did not converge")


def relative_error(value, reference):
    with mpmath.workdps(REF_DPS):
        return float(abs((mpmath.mpf(float(value)) - reference) / reference))


# ---------------------------------------------------------------------------
# precision(): nested blocks of equal precision
# ---------------------------------------------------------------------------

def test_nested_equal_precision_blocks_restore():
    # Blocks 50 > 20 > 50: leaving the innermost one must give back 20, the
    # block still open. The list of open blocks used to drop its first entry
    # equal to [50], which is the outer block, and left mpmath at 50 digits.
    saved = mpmath.mp.prec
    try:
        mpmath.mp.dps = 15
        with isobounds.precision(50):
            with isobounds.precision(20):
                with isobounds.precision(50):
                    assert mpmath.mp.dps == 50
                assert mpmath.mp.dps == 20
                assert isobounds.get_dps() == 20
            assert mpmath.mp.dps == 50
        assert mpmath.mp.dps == 15
    finally:
        mpmath.mp.prec = saved


# ---------------------------------------------------------------------------
# Decimal strings longer than Python's 4300-digit int() limit
# ---------------------------------------------------------------------------

def test_quantile_of_5000_digit_string():
    # The string is 1 - 10^-5000 written out in full. mpmath's parser calls int() on
    # the digits, which Python rejects beyond 4300 digits.
    p = "0." + "9" * 5000
    x = isobounds.Phi_inv(p, dps=20)
    # By symmetry Phi_inv(1 - q) = -Phi_inv(q) with q = 10^-5000.
    with mpmath.workdps(REF_DPS):
        reference = -ref_lower_quantile("1e-5000")
    assert relative_error(x, reference) < 1e-15
    with mpmath.workdps(30):
        assert abs(x - reference) < mpmath.mpf(10) ** -17 * abs(reference)


def test_phi_of_a_4400_digit_argument_string():
    with mpmath.workdps(4400):
        text = str(mpmath.pi)
    value = isobounds.Phi(text, dps=40)
    with mpmath.workdps(60):
        reference = mpmath.erfc(-mpmath.pi / mpmath.sqrt(2)) / 2
        assert abs(value - reference) < mpmath.mpf(10) ** -39 * reference


# ---------------------------------------------------------------------------
# vectorized.gaussian_mass with a > b
# ---------------------------------------------------------------------------

REVERSED = [
    (5.0, -np.inf),      # was NaN
    (np.inf, -np.inf),   # was NaN
    (40.0, -40.0),       # was NaN
    (0.0, -np.inf),      # was NaN
    (30.0, -30.0),       # was 1.1e-13 off
    (1e-3, -1e-3),       # was 7e-13 off
    (3.0, 1.0),
    (-1.0, -3.0),
    (np.inf, 5.0),
    (38.0, 37.9),
]


@pytest.mark.parametrize(("a", "b"), REVERSED)
def test_vectorized_reversed_interval_mass(a, b):
    value = vectorized.gaussian_mass(np.array([a]), np.array([b]))[0]
    reference = ref_mass(a, b)
    assert reference < 0
    assert np.isfinite(value)
    if abs(reference) > 1e-300:
        assert relative_error(value, reference) < 4e-15
    else:  # subnormal result: a few spacings of 5e-324
        assert abs(value - float(reference)) < 1e-320


def test_vectorized_reversed_mass_matches_scalar():
    a = np.array([5.0, 2.0, -7.0, 0.5])
    b = np.array([-2.0, 1.0, -8.0, -0.5])
    values = isobounds.gaussian_mass(a, b)
    for value, x, y in zip(values, a, b):
        assert relative_error(value, isobounds.gaussian_mass(x, y, dps=40)) < 4e-15


def test_vectorized_mass_shape_error():
    with pytest.raises(ValueError, match=r"a and b must broadcast.*a of shape \(2,\).*b of shape \(3,\)"):
        isobounds.gaussian_mass([1.0, 2.0], [1.0, 2.0, 3.0])


# ---------------------------------------------------------------------------
# Booleans inside lists on the array path
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("function", "argument"),
    [
        (isobounds.Phi_inv, [True, 0.5]),
        (isobounds.isoperimetric_profile, (0.2, np.True_)),
        (isobounds.Phi, [[0.1, False]]),
    ],
)
def test_list_booleans_rejected(function, argument):
    # numpy turned [True, 0.5] into [1.0, 0.5], so Phi_inv returned [inf, 0]
    # where the scalar path and np.array(True) raise TypeError.
    with pytest.raises(TypeError, match="booleans"):
        function(argument)


def test_booleans_in_a_list_for_gaussian_mass():
    with pytest.raises(TypeError, match=r"booleans in b="):
        isobounds.gaussian_mass([0.0, 0.5], [0.5, True])


# ---------------------------------------------------------------------------
# vectorized.phi and vectorized.isoperimetric_profile accuracy
# ---------------------------------------------------------------------------

def test_vectorized_phi_keeps_full_precision_and_does_not_warn():
    x = np.array([32.775994309665606, 20.41570732580591, -37.5, 1e200, -np.inf])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = vectorized.phi(x)
    # x * x rounded cost 5.7e-14 at x = 32.78, and overflowed (with a warning) at 1e200.
    for value, point in zip(values[:3], x[:3]):
        with mpmath.workdps(REF_DPS):
            reference = mpmath.npdf(mpmath.mpf(float(point)))
        assert relative_error(value, reference) < 1e-15
    assert values[3] == 0.0
    assert values[4] == 0.0


@pytest.mark.parametrize("p", [3.0993230816940718e-263, 7.100567717225108e-284, 1e-300, 1e-10, 0.3, 0.5, 1 - 1e-10])
def test_vectorized_isoperimetric_profile_in_the_tails(p):
    # The profile was phi(ndtri(q)), whose quantile rounding phi amplifies by
    # x^2: 4e-13 relative near q = 1e-280.
    value = vectorized.isoperimetric_profile(np.array([p]))[0]
    with mpmath.workdps(REF_DPS):
        q = min(mpmath.mpf(p), 1 - mpmath.mpf(p))
        reference = mpmath.npdf(ref_lower_quantile(q))
    assert relative_error(value, reference) < 4e-15


def test_vectorized_isoperimetric_profile_endpoints():
    values = vectorized.isoperimetric_profile(np.array([0.0, 1.0, 0.5]))
    assert values[0] == 0.0
    assert values[1] == 0.0
    assert values[2] == 1 / np.sqrt(2 * np.pi)
    assert isinstance(vectorized.isoperimetric_profile(0.25), np.float64)


@pytest.mark.parametrize("function, values, entry", [
    (isobounds.Phi, ["0.5", "1e5000"], "x[1]='1e5000'"),
    (isobounds.Phi_inv, ["1e-400"], "p[0]='1e-400'"),
    (isobounds.Phi, [Decimal("-1e400")], "x[0]=Decimal('-1E+400')"),
    (isobounds.Phi, np.array([mpmath.mpf("1e5000")], dtype=object), "x[0]=mpf("),
])
def test_array_entries_beyond_float64_rejected(function, values, entry):
    # numpy rounded these to inf or 0 without a word, so Phi(["1e5000"]) was Phi(inf).
    with pytest.raises(ValueError, match=re.escape(entry)):
        function(values)


def test_array_entries_at_float64_limits_kept():
    x = isobounds.Phi(["inf", "0", "-inf", "-30", "5e-324"])
    assert list(x[:3]) == [1.0, 0.5, 0.0]
    assert x[3] == pytest.approx(float(mpmath.ncdf(-30)), rel=1e-12)
    assert x[4] == 0.5
