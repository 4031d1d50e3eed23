"""Invalid arguments raise ValueError or TypeError naming the argument the caller passed, its value and the range."""

import mpmath
import pytest
import sympy

import isobounds.symbolic as sb


@pytest.mark.parametrize("call, message", [
    (lambda: sb.lipschitz_lower_bound_two_gaussians(float("inf"), 0, 1), "m1 must be a finite real number, got m1=oo"),
    (lambda: sb.lipschitz_lower_bound_two_gaussians(0, "-inf", 1), "m2 must be a finite real number"),
    (lambda: sb.tv_lower_bound_two_gaussians(float("inf"), 0, 1, 1), "m1 must be a finite real number"),
    (lambda: sb.kl_lower_bound_two_gaussians(float("inf"), 0, 1, 1, 0.5), "m1 must be a finite real number"),
    (lambda: sb.kl_lower_bound_two_gaussians([0, float("inf")], [0, 0], 1, 1, 0.5), "m1[1] must be a finite"),
])
def test_infinite_mean_rejected(call, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call()


@pytest.mark.parametrize("sharp", ["no", None, 1, 0.0])
def test_sharp_must_be_boolean(sharp):
    with pytest.raises(TypeError, match="sharp must be True or False"):
        sb.lipschitz_lower_bound_two_gaussians(0, 1, 1, sharp=sharp)


def test_kl_bracket_names_model_mass():
    with pytest.raises(ValueError, match="model_mass must be a probability in \\[0, 1\\], got model_mass=p, "
                                         "which the assumptions on its symbols make negative"):
        sb.kl_bracket(0.5, 1, 1, sympy.Symbol("p", negative=True))


@pytest.mark.parametrize("call, message", [
    (lambda: sb.shell_mass_lower_bound(0.5, 1, "-1e5000"), "lip must be a positive finite number in \\(0, inf\\), "
                                                            "got lip=-1.00000000000000E\\+5000 \\(rounded\\)"),
    (lambda: sb.shell_mass_lower_bound(1 + sympy.Integer(10) ** -5000, 1, 1),
     "mass must be a probability in \\[0, 1\\], got mass=1 \\+ 1.00000000000000E-5000 \\(rounded\\)"),
    (lambda: sb.Phi_inv(1 + sympy.Integer(10) ** -5000), "p must be a probability in \\[0, 1\\], got p=1 \\+ "),
])
def test_huge_rational_in_message(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("call, name", [
    (lambda: sb.shell_mass_lower_bound("1/0", 1, 1), "mass"),
    (lambda: sb.shell_mass_lower_bound(0.5, 1, "1/0"), "lip"),
    (lambda: sb.Phi("1/0"), "x"),
])
def test_zero_denominator_string(call, name):
    with pytest.raises(ValueError, match=f"{name} must be a decimal number .* got the string {name}='1/0', "
                                         "a fraction with denominator 0"):
        call()


@pytest.mark.parametrize("function, name", [
    (sb.phi, "x"), (sb.Phi, "x"), (sb.Phi_inv, "p"), (sb.isoperimetric_profile, "p"),
])
def test_gaussian_function_rejects_text(function, name):
    with pytest.raises(ValueError, match=f"{name} must be a decimal number .* got the string {name}='abc'"):
        function("abc")


def test_two_argument_functions_reject_text():
    with pytest.raises(ValueError, match="b must be a decimal number"):
        sb.gaussian_mass(0, "abc")
    with pytest.raises(ValueError, match="a must be a decimal number"):
        sb.kl_bin("abc", 0.5)


def test_phi_inv_parses_string_exactly():
    # The exact quantile of 1/10, from mpmath's erfinv at 80 digits.
    assert sb.Phi_inv("0.1") == sb.Phi_inv(sympy.Rational(1, 10))
    with mpmath.workdps(80):
        expected = mpmath.sqrt(2) * mpmath.erfinv(mpmath.mpf(2) / 10 - 1)
    value = sb.Phi_inv("0.1").evalf(40)
    assert abs(value._to_mpmath(200) - expected) < mpmath.mpf(10) ** -38
    assert sb.Phi("1e-300").args[0] == sympy.Rational(1, 10**300)


def test_disconnected_symbolic_weights_keep_both():
    a, b = sympy.symbols("a b", positive=True)
    bound = sb.tv_lower_bound_disconnected([a, b], 1, 1)
    assert bound.has(a)
    assert bound.has(b)
    # With a = 1/4, b = 3/4 it equals the two-piece bound of Corollary 5.
    value = bound.subs({a: sympy.Rational(1, 4), b: sympy.Rational(3, 4)}).evalf(30)
    expected = sb.tv_lower_bound_disconnected(sympy.Rational(1, 4), 1, 1).evalf(30)
    assert abs(value - expected) < 1e-28


def test_disconnected_weights_summing_to_one_unchanged():
    lam = sympy.Symbol("lambda", positive=True)
    assert sb.tv_lower_bound_disconnected([lam, 1 - lam], 2, 3) == sb.tv_lower_bound_disconnected(lam, 2, 3)


@pytest.mark.parametrize("symbol, words", [
    (sympy.Symbol("L", negative=True), "negative"),
    (sympy.Symbol("L", zero=True), "zero"),
    (sympy.Symbol("L", nonpositive=True), "nonpositive"),
])
def test_failed_assumption_named(symbol, words):
    with pytest.raises(ValueError, match=f"got lip=L, which the assumptions on its symbols make {words}$"):
        sb.surface_area_lower_bound(0.5, symbol)


def test_probability_above_one_named():
    p = sympy.Symbol("p", positive=True)
    with pytest.raises(ValueError, match="got mass=p \\+ 1, which the assumptions on its symbols make greater than 1"):
        sb.surface_area_lower_bound(p + 1, 1)
