"""Theorem 1: surface area, extension and shell mass lower bounds."""

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from isobounds.bounds import extension_mass_lower_bound, shell_mass_lower_bound, surface_area_lower_bound

from _bounds_reference import assert_close, profile, quantile, shell_bound

REL_30 = mpmath.mpf("1e-28")


@pytest.mark.parametrize(
    "mass, r, lip",
    [
        ("0.5", "1", "1"),
        ("0.3", "2.5", "7"),
        ("1e-300", "1", "1"),
        ("1e-300", "40", "1"),
        ("0.99999999999999999999", "0.001", "3"),
        ("0.9", "1", "1e300"),
        ("0.5", "1", "1e300"),
        ("1e-20", "1e-10", "1"),
        ("0.5", "1", "32"),
        ("0.5", "1e-3", "1"),
    ],
)
def test_shell_bound_matches_high_precision(mass, r, lip):
    # Reference: Phi(r/L + Phi_inv(p)) - p with mpmath.ncdf at 400 digits,
    # where the subtraction loses at most ~300 digits.
    expected = shell_bound(mass, r, lip, dps=400)
    assert_close(shell_mass_lower_bound(mass, r, lip), expected, REL_30)


def test_shell_bound_huge_lip_is_linear():
    # For lip = 1e300 and r = 1, beta = I(p) * 1e-300 * (1 + O(1e-300)).
    value = shell_mass_lower_bound("0.25", 1, "1e300", dps=40)
    with mpmath.workdps(60):
        expected = profile("0.25", 60) * mpmath.mpf("1e-300")
    assert_close(value, expected, mpmath.mpf("1e-38"))


@pytest.mark.parametrize("mass, r, lip", [("0.5", "1", "1"), ("1e-300", "3", "2"), ("0.999", "0.5", "0.1")])
def test_extension_bound_matches_high_precision(mass, r, lip):
    with mpmath.workdps(100):
        expected = mpmath.ncdf(mpmath.mpf(r) / mpmath.mpf(lip) + quantile(mass, 100))
    assert_close(extension_mass_lower_bound(mass, r, lip), expected, REL_30)


def test_extension_bound_endpoints():
    assert extension_mass_lower_bound(0, 5, 1) == 0
    assert extension_mass_lower_bound(1, 5, 1) == 1
    with mpmath.workdps(30):
        assert extension_mass_lower_bound("0.3", 0, 1) == mpmath.mpf("0.3")


def test_shell_bound_endpoints():
    assert shell_mass_lower_bound(0, 5, 1) == 0
    assert shell_mass_lower_bound(1, 5, 1) == 0
    assert shell_mass_lower_bound("0.4", 0, 1) == 0


@pytest.mark.parametrize("mass", ["0.5", "0.1", "1e-300", "0.9999999"])
def test_surface_area_bound_matches_profile(mass):
    with mpmath.workdps(80):
        expected = profile(mass) / 4
    assert_close(surface_area_lower_bound(mass, 4), expected, REL_30)


def test_surface_area_is_limit_of_shell_over_r():
    # Theorem 1 (2) implies (1): beta(r) / r -> I(p) / L as r -> 0.
    r = mpmath.mpf("1e-25")
    with mpmath.workdps(40):
        ratio = shell_mass_lower_bound("0.2", r, 3, dps=40) / r
    assert_close(ratio, surface_area_lower_bound("0.2", 3, dps=40), mpmath.mpf("1e-20"))


@settings(max_examples=60, deadline=None)
@given(
    mass=st.floats(min_value=1e-12, max_value=1 - 1e-12),
    r=st.floats(min_value=0, max_value=50),
    lip=st.floats(min_value=1e-3, max_value=1e6),
)
@example(mass=0.5, r=0.0, lip=1.0)
@example(mass=0.5, r=1.0, lip=32.0)
def test_alpha_equals_mass_plus_beta(mass, r, lip):
    alpha = extension_mass_lower_bound(mass, r, lip)
    beta = shell_mass_lower_bound(mass, r, lip)
    assert beta >= 0
    with mpmath.workdps(60):
        total = mpmath.mpf(mass) + beta
        assert alpha >= mpmath.mpf(mass) - mpmath.mpf("1e-29")
    assert_close(alpha, total, mpmath.mpf("1e-27"), abs_tol=mpmath.mpf("1e-29"))


@settings(max_examples=40, deadline=None)
@given(mass=st.floats(min_value=1e-6, max_value=1 - 1e-6), lip_small=st.floats(min_value=0.1, max_value=10))
def test_bounds_decrease_with_lip(mass, lip_small):
    small = shell_mass_lower_bound(mass, 1, lip_small)
    large = shell_mass_lower_bound(mass, 1, 2 * lip_small)
    assert large <= small
    assert surface_area_lower_bound(mass, 2 * lip_small) < surface_area_lower_bound(mass, lip_small)


def test_array_input_matches_scalars():
    masses = np.array([1e-8, 0.2, 0.5, 0.97])
    for function in (extension_mass_lower_bound, shell_mass_lower_bound):
        values = function(masses, 1.5, 2.0)
        assert isinstance(values, np.ndarray)
        expected = [float(function(float(m), 1.5, 2.0)) for m in masses]
        np.testing.assert_allclose(values, expected, rtol=1e-12)
    np.testing.assert_allclose(
        surface_area_lower_bound(masses, 2.0), [float(surface_area_lower_bound(float(m), 2.0)) for m in masses], rtol=1e-12
    )


def test_dps_keyword_sets_precision():
    value = shell_mass_lower_bound("0.3", 1, 2, dps=60)
    expected = shell_bound("0.3", 1, 2, dps=120)
    assert_close(value, expected, mpmath.mpf("1e-58"))


BAD_INPUT = [
    (dict(mass=-0.1, r=1, lip=1), ValueError, "mass must be a probability in [0, 1], got mass=-0.1"),
    (dict(mass=1.5, r=1, lip=1), ValueError, "mass must be a probability"),
    (dict(mass=float("nan"), r=1, lip=1), ValueError, "mass must not be NaN"),
    (dict(mass=0.5, r=-1, lip=1), ValueError, "r must be a nonnegative number in [0, inf), got r=-1"),
    (dict(mass=0.5, r=1, lip=0), ValueError, "lip must be a positive finite number in (0, inf), got lip=0"),
    (dict(mass=0.5, r=1, lip=-2), ValueError, "lip must be a positive finite number"),
    (dict(mass=0.5, r=1, lip=float("inf")), ValueError, "lip must be a positive finite number"),
    (dict(mass=0.5, r=float("nan"), lip=1), ValueError, "r must not be NaN"),
    (dict(mass="abc", r=1, lip=1), ValueError, "mass must be a decimal number"),
    (dict(mass=None, r=1, lip=1), TypeError, "mass must be a real number"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_INPUT)
def test_theorem1_rejects_bad_input(kwargs, error, message):
    for function in (extension_mass_lower_bound, shell_mass_lower_bound):
        with pytest.raises(error) as info:
            function(**kwargs)
        assert message in str(info.value)


def test_surface_area_rejects_bad_lip():
    with pytest.raises(ValueError, match="lip must be a positive finite number"):
        surface_area_lower_bound(0.5, -1)
    with pytest.raises(ValueError, match="lip must be a positive finite number"):
        surface_area_lower_bound(np.array([0.5]), np.array([0.0]))


def test_array_input_rejects_bad_mass():
    with pytest.raises(ValueError, match=r"mass must contain probabilities in \[0, 1\]"):
        shell_mass_lower_bound(np.array([0.5, 1.2]), 1, 1)


@settings(max_examples=30, deadline=None)
@given(
    log10_mass=st.floats(min_value=-300, max_value=-1e-3),
    log10_shift=st.floats(min_value=-12, max_value=1.7),
    upper_side=st.booleans(),
)
@example(log10_mass=-0.30103, log10_shift=-1.50515, upper_side=False)
def test_shell_bound_property_against_reference(log10_mass, log10_shift, upper_side):
    # Masses from 1e-300 to nearly 1 (upper_side uses 1 - m), shifts r / L from 1e-12 to 50,
    # covering both the Taylor-series and the interval-mass branches.
    with mpmath.workdps(60):
        mass = mpmath.power(10, mpmath.mpf(log10_mass))
        if upper_side:
            # 1 - mass must stay below 1 at 60 digits.
            mass = 1 - max(mass, mpmath.mpf("1e-50"))
        shift = mpmath.power(10, mpmath.mpf(log10_shift))
    expected = shell_bound(mass, shift, 1, dps=360)
    assert_close(shell_mass_lower_bound(mass, shift, 1), expected, REL_30)


# ---------------------------------------------------------------------------
# Regressions: array dispatch, broadcasting and argument checks.
# ---------------------------------------------------------------------------

def test_array_radius_or_lip_with_scalar_mass_broadcasts():
    # Any array argument selects the float64 path; each entry is compared with mpmath.
    values = shell_mass_lower_bound(0.5, [1, 2], 1)
    assert values.shape == (2,)
    for value, r in zip(values, (1, 2)):
        assert_close(value, shell_bound("0.5", r, 1), mpmath.mpf("1e-13"))
    extension = extension_mass_lower_bound([0.5, "0.1"], 1, (1, 2))
    for value, mass, lip in zip(extension, ("0.5", "0.1"), (1, 2)):
        assert_close(value, mpmath.mpf(mass) + shell_bound(mass, 1, lip), mpmath.mpf("1e-13"))


def test_infinite_radius_is_rejected_on_both_paths():
    with pytest.raises(ValueError, match="r must"):
        extension_mass_lower_bound(0.5, mpmath.inf, 1)
    with pytest.raises(ValueError, match="r must"):
        extension_mass_lower_bound([0.5], float("inf"), 1)
    with pytest.raises(ValueError, match="r must"):
        shell_mass_lower_bound([0.5], [1, -1], 1)


def test_array_path_rejects_booleans_and_mismatched_shapes():
    with pytest.raises(TypeError, match="mass must contain real numbers, not booleans"):
        shell_mass_lower_bound([True], 1, 1)
    with pytest.raises(TypeError, match="lip must"):
        extension_mass_lower_bound([0.5], 1, [True])
    with pytest.raises(ValueError, match="must broadcast to a common shape"):
        shell_mass_lower_bound([0.5, 0.2], [1, 2, 3], 1)
