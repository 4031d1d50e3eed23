"""Extreme inputs of the symbolic layer: cancelling differences, undecidable maxima, string arguments.

References are the formulas written out with mpmath's ``ncdf`` at several
hundred digits, enough to resolve each cancellation directly, so they share
no code with the width-based kernel behind ``gaussian_mass``.
"""

import mpmath
import numpy as np
import pytest
import sympy
from sympy import Rational, S

import isobounds
import isobounds.symbolic as symbolic
from isobounds.symbolic import (
    Phi,
    gaussian_mass,
    kl_bracket,
    phi,
    shell_mass_lower_bound,
    surface_area_lower_bound,
    tv_bracket,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)

HIGH_DPS = 800


def to_mpf(value, dps=HIGH_DPS):
    with mpmath.workdps(dps):
        return mpmath.mpf(sympy.Float(value, dps))


def assert_relative(value, reference, digits):
    with mpmath.workdps(HIGH_DPS):
        value, reference = mpmath.mpf(value), mpmath.mpf(reference)
        assert abs(value - reference) <= mpmath.mpf(10) ** -digits * abs(reference), (value, reference)


def brute_force_mass(a, b):
    """Phi(b) - Phi(a) by ncdf at 800 digits, which resolves every cancellation used below."""
    with mpmath.workdps(HIGH_DPS):
        return mpmath.ncdf(to_mpf(b)) - mpmath.ncdf(to_mpf(a))


# ---------------------------------------------------------------------------
# gaussian_mass.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "a, b",
    [
        (0, Rational(1, 10**300)),
        (-1, -1 + Rational(1, 10**300)),
        (5, 5 + Rational(1, 10**30)),
        (-30, -30 + Rational(1, 10**20)),
        (10, 11),
        (-25, 25),
        (Rational(1, 10**200), 0),
        (3, -2),
    ],
)
def test_gaussian_mass_evalf_against_brute_force(a, b):
    expr = gaussian_mass(a, b)
    assert_relative(expr.evalf(50), brute_force_mass(a, b), 48)


def test_gaussian_mass_special_values():
    x = sympy.Symbol("x", real=True)
    assert gaussian_mass(x, x) == 0
    assert gaussian_mass(-sympy.oo, x) == Phi(x)
    assert gaussian_mass(x, sympy.oo) == Phi(-x)
    assert gaussian_mass(-sympy.oo, sympy.oo) == 1


def test_gaussian_mass_derivatives_and_rewrites():
    a, b = sympy.symbols("a b", real=True)
    expr = gaussian_mass(a, b)
    assert expr.diff(a) == -phi(a)
    assert expr.diff(b) == phi(b)
    assert expr.rewrite(Phi) == Phi(b) - Phi(a)
    point = {a: Rational(-3, 2), b: Rational(1, 3)}
    reference = brute_force_mass(point[a], point[b])
    assert_relative(expr.rewrite(sympy.erf).evalf(50, subs=point), reference, 48)


def test_gaussian_mass_latex_prints_difference():
    p, r, L = sympy.symbols("p r L", positive=True)
    expected = r"\left(\Phi\left(\Phi^{-1}\left(p\right) + \frac{r}{L}\right) - p\right)"
    assert sympy.latex(shell_mass_lower_bound(p, r, L)) == expected


def test_gaussian_mass_lambdify_tiny_width():
    a, b = sympy.symbols("a b", real=True)
    # Phi(1e-300) - 1/2 = 1e-300 / sqrt(2 pi) to double precision (the next Taylor term is 1e-900).
    with_numpy = sympy.lambdify((a, b), gaussian_mass(a, a + b), "numpy")
    np.testing.assert_allclose(with_numpy(np.zeros(2), np.array([1e-300, 2e-300])), np.array([1.0, 2.0]) * 1e-300 / np.sqrt(2 * np.pi), rtol=1e-15)

    with_mpmath = sympy.lambdify((a, b), gaussian_mass(a, a + b), "mpmath")
    with mpmath.workdps(40):
        value = with_mpmath(mpmath.mpf(-1), mpmath.mpf(10) ** -300)
    assert_relative(value, brute_force_mass(-1, -1 + Rational(1, 10**300)), 38)


# ---------------------------------------------------------------------------
# Shell masses with a tiny r / lip (evalf without maxn, lambdify).
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mass", [S.Half, Rational(1, 3), Rational(9, 10)])
def test_shell_mass_huge_lip_evalf(mass):
    expr = shell_mass_lower_bound(mass, 1, 10**300)
    with mpmath.workdps(HIGH_DPS):
        x = mpmath.sqrt(2) * mpmath.erfinv(2 * to_mpf(mass) - 1)
        reference = mpmath.ncdf(x + mpmath.mpf(10) ** -300) - to_mpf(mass)
    value = sympy.N(expr, 30)
    assert_relative(value, reference, 28)
    core = isobounds.shell_mass_lower_bound(mass, 1, 10**300, dps=30)
    assert_relative(core, reference, 28)


def test_shell_mass_huge_lip_lambdify_numpy():
    p, r, L = sympy.symbols("p r L", positive=True)
    beta = sympy.lambdify((p, r, L), shell_mass_lower_bound(p, r, L), "numpy")
    # Reference: Phi(1e-300) - 1/2 = 1e-300 / sqrt(2 pi) to double precision.
    np.testing.assert_allclose(beta(0.5, 1.0, 1e300), 1e-300 / np.sqrt(2 * np.pi), rtol=1e-15)


def test_tv_disconnected_vector_form_huge_lip():
    expr = tv_lower_bound_disconnected([Rational(1, 4), Rational(3, 4)], [[0, 3], [3, 0]], 10**300)
    with mpmath.workdps(HIGH_DPS):
        lam = mpmath.mpf(3) / 4
        x = mpmath.sqrt(2) * mpmath.erfinv(2 * lam - 1)
        reference = mpmath.ncdf(x + mpmath.mpf(3) / (2 * mpmath.mpf(10) ** 300)) - lam
    assert_relative(expr.evalf(50), reference, 48)


# ---------------------------------------------------------------------------
# Corollary 6 with a huge Lipschitz constant, and maxima sympy cannot decide.
# ---------------------------------------------------------------------------

def corollary_6_bracket(distance, sigma, lip):
    """The published bracket of Corollary 6 at 800 digits."""
    with mpmath.workdps(HIGH_DPS):
        D, s, L = (mpmath.mpf(value) for value in (distance, sigma, lip))
        slab = (mpmath.ncdf(D * (2 * s + 1) / (4 * s**2)) - mpmath.ncdf(D * (2 * s - 1) / (4 * s**2))) / 2
        return mpmath.ncdf(D / (4 * s * L)) - mpmath.mpf(1) / 2 - slab


def test_tv_two_gaussians_huge_lip_negative_bracket():
    bracket = corollary_6_bracket(100, 1, 10**300)
    assert bracket < 0
    expr = tv_lower_bound_two_gaussians(0, 100, 1, 10**300)
    assert expr == 0
    assert isobounds.tv_lower_bound_two_gaussians(0, 100, 1, 10**300, dps=50) == 0


def test_tv_two_gaussians_huge_lip_positive_bracket():
    # 200 standard deviations apart, the slab mass (about 1e-545) is below Phi(5e-299) - 1/2.
    bracket = corollary_6_bracket(200, 1, 10**300)
    assert bracket > 0
    expr = tv_lower_bound_two_gaussians(0, 200, 1, 10**300)
    assert_relative(expr.evalf(50), bracket, 48)
    assert_relative(isobounds.tv_lower_bound_two_gaussians(0, 200, 1, 10**300, dps=50), bracket, 48)


def test_max_of_numbers_sympy_cannot_compare():
    # model_mass is exactly 1/2 in a form sympy cannot reduce: Phi(-3)/2 + Phi(3)/2.
    model_mass = Phi(-3) / 2 + Phi(3) / 2
    with pytest.raises(ValueError, match="not comparable"):
        sympy.Max(0, model_mass - S.Half)

    expr = tv_bracket(S.Half, Rational(1, 10**301), 1, 10**300, model_mass=model_mass)
    with mpmath.workdps(HIGH_DPS):
        reference = mpmath.ncdf(mpmath.mpf(10) ** -300) - mpmath.mpf(1) / 2 - mpmath.mpf(10) ** -301
    assert_relative(expr.evalf(50), reference, 48)


@pytest.mark.parametrize("sign", [1, -1])
def test_kl_bracket_condition_between_close_numbers(sign):
    # v differs from beta = Phi(1e-300) - 1/2 by 1e-360, far below sympy's low-precision comparison.
    with mpmath.workdps(HIGH_DPS):
        beta = mpmath.ncdf(mpmath.mpf(10) ** -300) - mpmath.mpf(1) / 2
        v_value = beta - sign * mpmath.mpf(10) ** -360
        v = sympy.Rational(int(mpmath.floor(v_value * mpmath.mpf(10) ** 400)), 10**400)
        v_exact = to_mpf(v)
        divergence = beta * mpmath.log(beta / v_exact) + (1 - beta) * mpmath.log((1 - beta) / (1 - v_exact))

    expr = kl_bracket(v, 1, 10**300, S.Half)
    if sign > 0:
        assert_relative(expr.evalf(30), divergence, 25)
    else:
        assert expr == 0


# ---------------------------------------------------------------------------
# String arguments.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, exact",
    [("0.25", Rational(1, 4)), ("1e-300", Rational(1, 10**300)), ("1/3", Rational(1, 3)), (" 0.5 ", S.Half)],
)
def test_decimal_strings_are_exact_numbers(text, exact):
    assert surface_area_lower_bound(text, "2") == surface_area_lower_bound(exact, 2)


def test_decimal_string_matches_core():
    value = surface_area_lower_bound("1e-300", "2").evalf(30)
    core = isobounds.surface_area_lower_bound("1e-300", "2", dps=30)
    assert_relative(value, core, 28)


@pytest.mark.parametrize("text", ["abc", "1.5.2", "nan", "x + 1", ""])
def test_non_decimal_strings_raise(text):
    with pytest.raises(ValueError, match=r"mass must be a decimal number .* got the string mass="):
        surface_area_lower_bound(text, 1)


def test_infinite_string_is_out_of_range():
    with pytest.raises(ValueError, match="lip must be a positive finite number"):
        surface_area_lower_bound("0.5", "inf")


def test_string_weights_and_distances():
    expr = tv_lower_bound_disconnected(["0.25", "0.75"], [["0", "3"], ["3", "0"]], "2")
    assert expr == tv_lower_bound_disconnected([Rational(1, 4), Rational(3, 4)], [[0, 3], [3, 0]], 2)


def test_symbols_still_accepted():
    lip = sympy.Symbol("abc", positive=True)
    assert surface_area_lower_bound(S.Half, lip) == symbolic.isoperimetric_profile(S.Half) / lip
