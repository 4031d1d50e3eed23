"""Tests of the sympy Gaussian functions: calculus, special values, evalf, LaTeX and lambdify.

Reference values come from mpmath routes that the kernels do not use: the
distribution function from the upper incomplete gamma function, quantiles
from ``mpmath.findroot`` on that function at 80 digits.
"""

import ast
import pathlib

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sympy import Rational, S

import isobounds.symbolic
from isobounds.symbolic import I, Phi, Phi_inv, isoperimetric_profile, kl_bin, phi, rewrite_with_erf

x = sympy.Symbol("x", real=True)
p = sympy.Symbol("p", positive=True)
a, b = sympy.symbols("a b", positive=True)

REFERENCE_DPS = 80


@pytest.fixture(autouse=True)
def restore_mpmath_precision():
    saved = mpmath.mp.prec
    yield
    assert mpmath.mp.prec == saved
    mpmath.mp.prec = saved


def reference_cdf(t):
    """Phi(t) from the upper incomplete gamma function, a route independent of erfc."""
    t = mpmath.mpf(t)
    tail = mpmath.gammainc(mpmath.mpf(1) / 2, t * t / 2) / (2 * mpmath.sqrt(mpmath.pi))
    return tail if t <= 0 else 1 - tail


def reference_quantile(q):
    """Solve Phi(t) = q by mpmath.findroot on the log of the incomplete-gamma CDF (q <= 1/2)."""
    q = mpmath.mpf(q)
    start = -mpmath.sqrt(-2 * mpmath.log(q)) + 1 if q < 0.1 else mpmath.sqrt(2) * mpmath.erfinv(2 * q - 1)
    return mpmath.findroot(lambda t: mpmath.log(reference_cdf(t)) - mpmath.log(q), start)


def assert_close(value, reference, digits=48):
    value, reference = mpmath.mpf(sympy.Float(value, REFERENCE_DPS)), mpmath.mpf(reference)
    assert abs(value - reference) <= mpmath.mpf(10) ** -digits * abs(reference), (value, reference)


# ---------------------------------------------------------------------------
# Calculus.
# ---------------------------------------------------------------------------

def test_phi_derivative():
    assert phi(x).diff(x) == -x * phi(x)


def test_Phi_derivative_is_phi():
    assert Phi(x).diff(x) == phi(x)


def test_Phi_inv_derivative_is_reciprocal_profile():
    assert Phi_inv(p).diff(p) == 1 / isoperimetric_profile(p)


def test_profile_first_derivative():
    assert isoperimetric_profile(p).diff(p) == -Phi_inv(p)


def test_profile_second_derivative():
    assert isoperimetric_profile(p).diff(p, 2) == -1 / isoperimetric_profile(p)


def test_derivatives_match_erf_closed_forms():
    for expr, variable in ((Phi(x), x), (Phi_inv(p), p), (isoperimetric_profile(p), p)):
        difference = rewrite_with_erf(expr.diff(variable)) - rewrite_with_erf(expr).diff(variable)
        assert sympy.simplify(difference) == 0


def test_kl_bin_partial_derivatives():
    closed = a * sympy.log(a / b) + (1 - a) * sympy.log((1 - a) / (1 - b))
    point = {a: Rational(1, 3), b: Rational(3, 4)}
    for variable in (a, b):
        derivative = kl_bin(a, b).diff(variable).evalf(40, subs=point)
        expected = closed.diff(variable).evalf(40, subs=point)
        assert abs(derivative - expected) < 1e-38


# ---------------------------------------------------------------------------
# Special values and automatic simplifications.
# ---------------------------------------------------------------------------

def test_special_values():
    assert phi(0) == 1 / sympy.sqrt(2 * sympy.pi)
    assert phi(sympy.oo) == 0
    assert Phi(0) == S.Half
    assert Phi(sympy.oo) == 1
    assert Phi(-sympy.oo) == 0
    assert Phi_inv(0) == -sympy.oo
    assert Phi_inv(S.Half) == 0
    assert Phi_inv(1) == sympy.oo
    assert isoperimetric_profile(0) == 0
    assert isoperimetric_profile(1) == 0
    assert isoperimetric_profile(S.Half) == 1 / sympy.sqrt(2 * sympy.pi)


def test_phi_is_even():
    assert phi(-x) == phi(x)


def test_Phi_keeps_negative_argument():
    assert Phi(-x) != 1 - Phi(x)
    assert isinstance(Phi(-x), Phi)


def test_inverse_pairs_simplify():
    assert Phi(Phi_inv(p)) == p
    assert Phi_inv(Phi(x)) == x
    assert isoperimetric_profile(Phi(x)) == phi(x)


def test_inverse_pair_needs_real_argument():
    z = sympy.Symbol("z")
    assert isinstance(Phi_inv(Phi(z)), Phi_inv)


def test_I_alias():
    assert I is isoperimetric_profile


def test_kl_bin_special_values():
    assert kl_bin(a, a) == 0
    assert kl_bin(0, b) == -sympy.log(1 - b)
    assert kl_bin(1, b) == -sympy.log(b)


def test_positivity_assumptions():
    assert phi(x).is_positive
    assert Phi(x).is_positive
    assert isoperimetric_profile(Phi(x)).is_positive


@pytest.mark.parametrize(
    "build",
    [
        lambda: Phi_inv(Rational(3, 2)),
        lambda: Phi_inv(-1),
        lambda: isoperimetric_profile(2),
        lambda: kl_bin(Rational(1, 2), Rational(5, 4)),
        lambda: kl_bin(-1, Rational(1, 2)),
    ],
)
def test_probability_out_of_range_raises(build):
    with pytest.raises(ValueError, match=r"must be a probability in \[0, 1\]"):
        build()


negative = sympy.Symbol("n", negative=True)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: Phi_inv(negative), ValueError, r"p must be a probability in \[0, 1\], got p=n"),
        (lambda: Phi_inv(p + 1), ValueError, r"p must be a probability in \[0, 1\], got p=p \+ 1"),
        (lambda: kl_bin(negative, S.Half), ValueError, r"a must be a probability in \[0, 1\], got a=n"),
        (lambda: kl_bin(S.NaN, Rational(1, 3)), ValueError, r"a must be real, got a=nan"),
        (lambda: kl_bin(Rational(1, 3), sympy.I), ValueError, r"b must be real, got b=I"),
        (lambda: Phi(sympy.I), ValueError, r"x must be real, got x=I"),
        (lambda: Phi_inv(None), TypeError, r"p must be a real number or a scalar sympy expression, got p=None"),
        (lambda: Phi_inv(True), TypeError, r"p must be a real number or a scalar sympy expression, got p=True"),
        (lambda: kl_bin(np.array(0.5), Rational(1, 3)), TypeError, r"a must be a real number or a scalar sympy expression"),
        (lambda: phi(None), TypeError, r"x must be a real number or a scalar sympy expression, got x=None"),
        (lambda: Phi(sympy.Matrix([1, 2])), TypeError, r"x must be a real number or a scalar sympy expression"),
        (lambda: isobounds.symbolic.gaussian_mass(S.NaN, 1), ValueError, r"a must be real, got a=nan"),
    ],
)
def test_function_argument_errors(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_functions_keep_symbols_of_unknown_sign():
    # A symbol that may lie in [0, 1] stays unevaluated.
    unknown = sympy.Symbol("u")
    assert Phi_inv(unknown).args == (unknown,)
    assert kl_bin(unknown, S.Half).args == (unknown, S.Half)
    assert Phi(unknown).args == (unknown,)


# ---------------------------------------------------------------------------
# Numerical evaluation at 50 digits.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("t", ["-40", "-8.5", "-1", "0.25", "3", "12"])
def test_Phi_evalf_against_incomplete_gamma(t):
    with mpmath.workdps(REFERENCE_DPS):
        reference = reference_cdf(mpmath.mpf(t))
        assert_close(Phi(sympy.Rational(t)).evalf(50), reference)


def test_Phi_evalf_far_tail_keeps_relative_precision():
    with mpmath.workdps(REFERENCE_DPS):
        reference = reference_cdf(-1000)  # about 1e-217151
        assert_close(Phi(-1000).evalf(50), reference)


@pytest.mark.parametrize("t", ["0", "-3", "40", "2.5"])
def test_phi_evalf_against_exp(t):
    with mpmath.workdps(REFERENCE_DPS):
        value = mpmath.mpf(t)
        reference = mpmath.exp(-value * value / 2) / mpmath.sqrt(2 * mpmath.pi)
        assert_close(phi(sympy.Rational(t)).evalf(50), reference)


@pytest.mark.parametrize(
    "q",
    [Rational(1, 10**300), Rational(1, 10**20), Rational(1, 1000), Rational(1, 5), Rational(1, 4)],
)
def test_Phi_inv_evalf_lower_tail(q):
    with mpmath.workdps(REFERENCE_DPS):
        reference = reference_quantile(mpmath.mpf(q.p) / q.q)
        assert_close(Phi_inv(q).evalf(50), reference)


@pytest.mark.parametrize("q", [Rational(1, 10**60), Rational(1, 10**9), Rational(1, 5)])
def test_Phi_inv_evalf_upper_tail_uses_complement(q):
    # 1 - 10**-60 rounds to 1 at 50 digits; the complement keeps every digit.
    with mpmath.workdps(REFERENCE_DPS):
        reference = -reference_quantile(mpmath.mpf(q.p) / q.q)
        assert_close(Phi_inv(1 - q).evalf(50), reference)


@pytest.mark.parametrize("d", [Rational(1, 10**60), Rational(-1, 10**25), Rational(1, 7), Rational(-1, 5)])
def test_Phi_inv_evalf_near_median(d):
    # Reference: mpmath.findroot on erf(t / sqrt 2) / 2 = d, at 80 digits.
    with mpmath.workdps(REFERENCE_DPS):
        target = mpmath.mpf(d.p) / d.q
        reference = mpmath.findroot(lambda t: mpmath.erf(t / mpmath.sqrt(2)) / 2 - target,
                                    mpmath.sqrt(2 * mpmath.pi) * target)
        assert_close(Phi_inv(S.Half + d).evalf(50), reference)


@pytest.mark.parametrize("p", [Rational(1, 10**300), Rational(1, 10**5), Rational(2, 5), 1 - Rational(1, 10**40)])
def test_Phi_inv_evalf_at_500_digits(p):
    # Newton's method raises the precision in steps from 64 bits to about 1700 here.
    with mpmath.workdps(560):
        smaller = min(mpmath.mpf(p.p) / p.q, mpmath.mpf((1 - p).p) / (1 - p).q)
        reference = reference_quantile(smaller) * (1 if p < S.Half else -1)
        value = mpmath.mpf(sympy.Float(Phi_inv(p).evalf(500), 560))
        assert abs(value - reference) <= mpmath.mpf(10) ** -495 * abs(reference)


@pytest.mark.parametrize("p", ["0.4945", "0.49999", "0.479", "0.488"])
@pytest.mark.parametrize("dps", [60, 200])
def test_lower_quantile_kernel_near_median(p, dps):
    # The kernel accepts 0 < p <= 1/2; near 1/2 its root is small, and rounding noise of
    # log p once kept the low-precision Newton steps from meeting a tolerance relative to it.
    from isobounds.symbolic import _mp

    with mpmath.workdps(dps):
        x = _mp.lower_quantile(mpmath.mpf(p))
    with mpmath.workdps(dps + 20):
        reference = mpmath.findroot(lambda t: mpmath.erf(t / mpmath.sqrt(2)) / 2 - (mpmath.mpf(p) - mpmath.mpf(1) / 2),
                                    x)
    assert abs(x - reference) <= mpmath.mpf(10) ** (4 - dps) * abs(reference)


def test_Phi_inv_known_quantile():
    # Phi_inv(0.975) = 1.959963984540054..., the 97.5% point of statistical tables.
    assert abs(Phi_inv(Rational(39, 40)).evalf(30) - sympy.Float("1.95996398454005423552459443052")) < 1e-28


@pytest.mark.parametrize("q", [Rational(1, 10**300), Rational(1, 3), Rational(999, 1000), 1 - Rational(1, 10**40)])
def test_profile_evalf(q):
    with mpmath.workdps(REFERENCE_DPS):
        smaller = min(mpmath.mpf(q.p) / q.q, mpmath.mpf((1 - q).p) / (1 - q).q)
        t = reference_quantile(smaller)
        reference = mpmath.exp(-t * t / 2) / mpmath.sqrt(2 * mpmath.pi)
        assert_close(isoperimetric_profile(q).evalf(50), reference, digits=46)


def test_profile_symmetric_numerically():
    q = Rational(1, 10**12)
    assert isoperimetric_profile(q).evalf(50) == isoperimetric_profile(1 - q).evalf(50)


@pytest.mark.parametrize(
    "first, second",
    [
        (Rational(1, 3), Rational(1, 7)),
        (Rational(1, 10**6), Rational(1, 2)),
        (Rational(1, 3), Rational(1, 3) + Rational(1, 10**30)),
        (Rational(9, 10), Rational(1, 10**40)),
    ],
)
def test_kl_bin_evalf_against_high_precision(first, second):
    # Reference: the defining formula at 300 digits, far more than the cancellation costs.
    with mpmath.workdps(300):
        u, v = mpmath.mpf(first.p) / first.q, mpmath.mpf(second.p) / second.q
        reference = u * mpmath.log(u / v) + (1 - u) * mpmath.log((1 - u) / (1 - v))
    with mpmath.workdps(REFERENCE_DPS):
        assert_close(kl_bin(first, second).evalf(50), reference)


def test_evalf_of_composition_and_symbols():
    expr = Phi(x + Phi_inv(Rational(1, 3)))
    partial = expr.evalf(20)
    assert partial.free_symbols == {x}
    assert abs(partial.subs(x, 0) - Rational(1, 3)) < 1e-18


# ---------------------------------------------------------------------------
# LaTeX.
# ---------------------------------------------------------------------------

def test_latex_notation():
    assert sympy.latex(phi(x)) == r"\varphi\left(x\right)"
    assert sympy.latex(Phi(x)) == r"\Phi\left(x\right)"
    assert sympy.latex(Phi_inv(p)) == r"\Phi^{-1}\left(p\right)"
    assert sympy.latex(isoperimetric_profile(p)) == r"\mathcal{I}\left(p\right)"
    assert sympy.latex(kl_bin(a, b)) == r"\operatorname{kl}\left(a \,\middle\|\, b\right)"


def test_latex_powers_are_braced():
    assert sympy.latex(Phi_inv(p) ** 2) == r"{\Phi^{-1}\left(p\right)}^{2}"
    assert sympy.latex(phi(x) ** 2) == r"{\varphi\left(x\right)}^{2}"


# ---------------------------------------------------------------------------
# lambdify.
# ---------------------------------------------------------------------------

def test_lambdify_mpmath_keeps_tails():
    quantile = sympy.lambdify(p, Phi_inv(p), "mpmath")
    cdf = sympy.lambdify(x, Phi(x), "mpmath")
    with mpmath.workdps(REFERENCE_DPS):
        reference = reference_quantile(mpmath.mpf("1e-300"))
        tail = reference_cdf(-40)
    with mpmath.workdps(50):
        assert abs(quantile(mpmath.mpf("1e-300")) - reference) < mpmath.mpf(10) ** -47
        assert abs(cdf(mpmath.mpf(-40)) / tail - 1) < mpmath.mpf(10) ** -47


def test_lambdify_mpmath_profile_and_kl():
    profile = sympy.lambdify(p, isoperimetric_profile(p), "mpmath")
    kl = sympy.lambdify((a, b), kl_bin(a, b), "mpmath")
    with mpmath.workdps(50):
        t = mpmath.sqrt(2) * mpmath.erfinv(mpmath.mpf(2) / 3 - 1)
        assert abs(profile(mpmath.mpf(1) / 3) - mpmath.npdf(t)) < mpmath.mpf(10) ** -48
        u, v = mpmath.mpf(1) / 3, mpmath.mpf(1) / 7
        expected = u * mpmath.log(u / v) + (1 - u) * mpmath.log((1 - u) / (1 - v))
        assert abs(kl(u, v) - expected) < mpmath.mpf(10) ** -48


@pytest.mark.parametrize("modules", ["numpy", None])
def test_lambdify_numpy_arrays(modules):
    values = np.array([-40.0, -3.0, 0.0, 0.5, 6.0])
    masses = np.array([1e-300, 1e-5, 0.3, 0.5, 1 - 1e-12])
    cdf = sympy.lambdify(x, Phi(x), modules)
    density = sympy.lambdify(x, phi(x), modules)
    quantile = sympy.lambdify(p, Phi_inv(p), modules)
    profile = sympy.lambdify(p, isoperimetric_profile(p), modules)
    kl = sympy.lambdify((a, b), kl_bin(a, b), modules)

    expected_cdf = [float(reference_cdf(v)) for v in values]
    np.testing.assert_allclose(cdf(values), expected_cdf, rtol=1e-15, atol=0)
    np.testing.assert_allclose(density(values), [float(mpmath.npdf(v)) for v in values], rtol=1e-15)
    with mpmath.workdps(40):
        expected_quantile = [float(reference_quantile(min(q, 1 - mpmath.mpf(q)))) * (1 if q <= 0.5 else -1) for q in masses]
    np.testing.assert_allclose(quantile(masses), expected_quantile, rtol=1e-14)
    np.testing.assert_allclose(profile(masses), [float(mpmath.npdf(t)) for t in expected_quantile], rtol=1e-12)
    assert np.isclose(kl(0.25, 0.5), 0.25 * np.log(0.5) + 0.75 * np.log(1.5), rtol=1e-15)
    assert isinstance(cdf(0.0), float)


# ---------------------------------------------------------------------------
# Property test and imports.
# ---------------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=1e-300, max_value=1 - 1e-16, allow_nan=False, allow_subnormal=False))
@example(1e-300)
@example(0.5)
@example(1 - 1e-16)
def test_Phi_of_Phi_inv_round_trip(q):
    # The float q is an exact rational; the incomplete-gamma CDF of the 50-digit quantile returns it.
    mass = Rational(q)
    t = Phi_inv(mass).evalf(50)
    with mpmath.workdps(REFERENCE_DPS):
        back = reference_cdf(mpmath.mpf(sympy.Float(t, REFERENCE_DPS)))
        target = mpmath.mpf(mass.p) / mass.q
        # Phi loses about log10(1 + t^2) digits of t's relative rounding error.
        assert abs(back - target) <= mpmath.mpf(10) ** -47 * target * (1 + float(t) ** 2)


def test_symbolic_modules_import_only_sympy_and_mpmath():
    # numpy is allowed in the numpy kernels only, which lambdify imports on demand.
    package = pathlib.Path(isobounds.symbolic.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
        allowed = {"sympy", "mpmath", "dataclasses", "itertools", "numbers", "random"} | ({"numpy"} if path.name == "_np.py" else set())
        assert imported <= allowed, (path.name, imported - allowed)
