"""The values that docs/symbolic.md states in its prose, checked against mpmath.

tests/symbolic/test_symbolic_docs.py runs the page's code blocks and checks
their printed formulas. This file checks the numbers that the page gives
for its examples ("about 7.98e-301", "about 401.93", ...) against the
formulas evaluated directly with mpmath at higher precision. A library
change that makes a sentence of the page false then fails a test.
"""

import pathlib
import re

import mpmath
import pytest
import sympy

import isobounds.symbolic as sb

PAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "symbolic.md"


@pytest.fixture(scope="module")
def page():
    return PAGE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page_namespace(page):
    """Run the page's code blocks, except the one that calls verify(), and return their names."""
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
    namespace = {}
    for block in blocks:
        if "verify()" not in block:
            exec(compile(block, str(PAGE), "exec"), namespace)
    return namespace


def relative_error(value, reference):
    with mpmath.workdps(60):
        return abs(mpmath.mpf(value) / mpmath.mpf(reference) - 1)


def lambdify_formula(name):
    """Return the float64 function of formula(name) and its arguments, sorted by symbol name."""
    expr = sb.formula(name)
    symbols = sorted(expr.free_symbols, key=str)
    return sympy.lambdify(symbols, expr, "numpy"), [str(s) for s in symbols]


def test_first_example_tiny_mass(page_namespace):
    beta, p, r, L = (page_namespace[name] for name in ("beta", "p", "r", "L"))
    value = beta.subs({p: sympy.Rational(1, 10**300), r: 1, L: 2}).evalf(50)
    with mpmath.workdps(80):
        tiny = mpmath.mpf(10) ** -300
        quantile = mpmath.findroot(lambda t: mpmath.log(mpmath.ncdf(t)) - mpmath.log(tiny), -37)
        reference = mpmath.ncdf(quantile + mpmath.mpf(1) / 2) - tiny
    assert relative_error(value, reference) < 1e-45


def test_phi_far_lower_tail(page):
    assert "`Phi(-40).evalf(50)` is about\n`3.66e-350`" in page
    value = sb.Phi(-40).evalf(50)
    with mpmath.workdps(60):
        reference = mpmath.erfc(40 / mpmath.sqrt(2)) / 2
    assert relative_error(value, reference) < 1e-45
    assert mpmath.nstr(reference, 3) == "3.66e-350"


def test_phi_inv_near_one(page):
    assert "`Phi_inv(1 - sympy.Rational(1, 10**60))` keeps\nits digits at 50-digit precision" in page
    value = sb.Phi_inv(1 - sympy.Rational(1, 10**60)).evalf(50)
    with mpmath.workdps(150):
        reference = mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * mpmath.mpf(10) ** -60)
    assert relative_error(value, reference) < 1e-45


def test_disconnected_example(page, page_namespace):
    assert "# about 7.98e-301" in page
    value = page_namespace["expr"].evalf(50)
    with mpmath.workdps(700):
        reference = mpmath.ncdf(mpmath.mpf(4) / (2 * mpmath.mpf(10) ** 300)) - mpmath.mpf(1) / 2
    assert relative_error(value, reference) < 1e-45
    assert mpmath.nstr(reference, 3) == "7.98e-301"


def test_shell_mass_far_end_is_point_seven(page):
    assert '`shell_mass_lower_bound("0.3", 1, "1e-100000").evalf(15)` returns 0.7' in page
    value = sb.shell_mass_lower_bound("0.3", 1, "1e-100000").evalf(15)
    # Phi(Phi_inv(0.3) + 1e100000) - 0.3 = 1 - 0.3 to far more than 15 digits.
    assert abs(value - sympy.Rational(7, 10)) < sympy.Rational(1, 10**14)


def test_lambdified_shell_mass(page, page_namespace):
    assert "about `3.99e-301` at `p = 0.5`, `r = 1`, `L = 1e300`" in page
    value = page_namespace["g"](0.5, 1, 1e300)
    with mpmath.workdps(700):
        reference = mpmath.ncdf(mpmath.mpf(10) ** -300) - mpmath.mpf(1) / 2
    assert relative_error(value, reference) < 1e-13
    assert mpmath.nstr(reference, 3) == "3.99e-301"


def test_lambdified_corollary8_far_modes(page):
    assert "gives about 401.93 at `D = 160`, `sigma = 1`, `L = 10`" in page
    function, names = lambdify_formula("kl_lower_bound_two_gaussians")
    arguments = {"D": 160.0, "sigma": 1.0, "L": 10.0, "lambda": 0.5}
    value = float(function(*(arguments[name] for name in names)))
    with mpmath.workdps(60):
        a = mpmath.ncdf(mpmath.mpf(160) / 40) - mpmath.mpf(1) / 2
        # Slab mass (1/2)[Phi(-D/4) - Phi(-3D/4)], from the lower tail.
        b = (mpmath.ncdf(-40) - mpmath.ncdf(-120)) / 2
        reference = a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))
    assert mpmath.nstr(b, 2) == "1.8e-350"
    assert relative_error(value, reference) < 1e-12
    assert mpmath.nstr(reference, 5) == "401.93"


def test_lambdified_sharp_corollary2_error(page):
    assert "the relative error is about `8e-8`" in page
    function, names = lambdify_formula("lipschitz_lower_bound_two_gaussians_sharp")
    arguments = {"D": 76.0, "lambda": 1e-10, "sigma": 1.0}
    value = float(function(*(arguments[name] for name in names)))
    with mpmath.workdps(100):
        weight, t = mpmath.mpf(1e-10), mpmath.mpf(38)
        # The half-space's mass is close to 1, so invert from its complement.
        complement = weight * mpmath.ncdf(t) + (1 - weight) * mpmath.ncdf(-t)
        quantile = mpmath.findroot(lambda x: mpmath.log(mpmath.ncdf(-x)) - mpmath.log(complement), 38)
        reference = mpmath.npdf(quantile) / mpmath.npdf(t)
    assert 4e-8 < relative_error(value, reference) < 1.6e-7


def test_lambdified_corollary6_tiny_sigma_divides_by_zero(page):
    assert "Python floats raise\n  `ZeroDivisionError`" in page
    function, names = lambdify_formula("tv_lower_bound_two_gaussians")
    arguments = {"D": 2.0, "L": 1.0, "sigma": 1e-200}
    with pytest.raises(ZeroDivisionError):
        function(*(arguments[name] for name in names))
