"""Tests of the symbolic bounds against the formulas evaluated directly with mpmath.

Each reference below is the theorem's formula written out with mpmath's
``ncdf``, ``npdf`` and ``erfinv`` at 80 digits, independently of the sympy
expressions and of the quantile kernels used by ``evalf``.
"""

import itertools

import mpmath
import numpy as np
import pytest
import sympy
from sympy import Rational, S

import isobounds.symbolic as symbolic
from isobounds.symbolic import (
    Phi,
    Phi_inv,
    extension_mass_lower_bound,
    gaussian_mass,
    isoperimetric_profile,
    kl_bin,
    kl_bracket,
    kl_lower_bound_two_gaussians,
    latex,
    lipschitz_lower_bound_two_gaussians,
    shell_mass_lower_bound,
    surface_area_lower_bound,
    tv_bracket,
    tv_lower_bound_disconnected,
    tv_lower_bound_two_gaussians,
)
from isobounds.symbolic import FORMULA_NAMES, formula

REFERENCE_DPS = 80


def mp(value):
    value = sympy.Rational(value)
    return mpmath.mpf(value.p) / value.q


def quantile(q):
    """Phi_inv by mpmath.erfinv at 80 digits; fine for the moderate masses used here."""
    return mpmath.sqrt(2) * mpmath.erfinv(2 * q - 1)


def profile(q):
    return mpmath.npdf(quantile(q))


def kl(u, v):
    return u * mpmath.log(u / v) + (1 - u) * mpmath.log((1 - u) / (1 - v))


def assert_close(expr, reference, digits=48):
    value = mpmath.mpf(sympy.Float(expr.evalf(50), REFERENCE_DPS))
    assert abs(value - reference) <= mpmath.mpf(10) ** -digits * max(abs(reference), mpmath.mpf(10) ** -300), (value, reference)


@pytest.fixture(autouse=True)
def reference_precision():
    with mpmath.workdps(REFERENCE_DPS):
        yield


# ---------------------------------------------------------------------------
# Theorem 1.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mass, r, lip", [("1/3", "1/2", "7/2"), ("9/10", "3", "1/5"), ("1/100", "0", "2")])
def test_theorem_1_bounds_against_mpmath(mass, r, lip):
    q, radius, L = mp(mass), mp(r), mp(lip)
    alpha = mpmath.ncdf(radius / L + quantile(q))
    assert_close(surface_area_lower_bound(Rational(mass), Rational(lip)), profile(q) / L)
    assert_close(extension_mass_lower_bound(Rational(mass), Rational(r), Rational(lip)), alpha)
    if radius:
        assert_close(shell_mass_lower_bound(Rational(mass), Rational(r), Rational(lip)), alpha - q, digits=45)


def test_shell_mass_tiny_model_mass():
    # beta for rho(A) = 1e-300: reference t = Phi_inv(1e-300) by findroot on log ncdf at 80 digits.
    q = mpmath.mpf(10) ** -300
    t = mpmath.findroot(lambda s: mpmath.log(mpmath.ncdf(s)) - mpmath.log(q), -37)
    reference = mpmath.ncdf(t + mpmath.mpf(1) / 2) - q
    assert_close(shell_mass_lower_bound(Rational(1, 10**300), S.Half, 1), reference)


def test_theorem_1_formulas_in_symbols():
    p, r, L = sympy.symbols("p r L", positive=True)
    assert extension_mass_lower_bound(p, r, L) == Phi(r / L + Phi_inv(p))
    assert shell_mass_lower_bound(p, r, L) == gaussian_mass(Phi_inv(p), Phi_inv(p) + r / L)
    assert shell_mass_lower_bound(p, r, L).rewrite(Phi) == Phi(r / L + Phi_inv(p)) - p
    assert surface_area_lower_bound(p, L) == isoperimetric_profile(p) / L


# ---------------------------------------------------------------------------
# Corollary 2.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("m1, m2, sigma, weight", [(-5, 5, 1, "1/2"), (0, 3, "1/2", "1/5"), (2, "-7/2", "3", "9/10")])
def test_lipschitz_closed_form_against_mpmath(m1, m2, sigma, weight):
    D, s, lam = abs(mp(m2) - mp(m1)), mp(sigma), mp(weight)
    reference = s * mpmath.exp(D**2 / (8 * s**2) - quantile(lam) ** 2 / 2)
    expr = lipschitz_lower_bound_two_gaussians(Rational(m1), Rational(m2), Rational(sigma), Rational(weight))
    assert_close(expr, reference)


@pytest.mark.parametrize("m1, m2, sigma, weight", [(-5, 5, 1, "1/5"), (0, 3, "1/2", "1/2"), (2, "-7/2", "3", "9/10")])
def test_lipschitz_sharp_against_mpmath(m1, m2, sigma, weight):
    D, s, lam = abs(mp(m2) - mp(m1)), mp(sigma), mp(weight)
    t = D / (2 * s)
    half_space = lam * mpmath.ncdf(-t) + (1 - lam) * mpmath.ncdf(t)
    reference = profile(half_space) / (mpmath.exp(-D**2 / (8 * s**2)) / (s * mpmath.sqrt(2 * mpmath.pi)))
    expr = lipschitz_lower_bound_two_gaussians(Rational(m1), Rational(m2), Rational(sigma), Rational(weight), sharp=True)
    assert_close(expr, reference, digits=46)


def test_lipschitz_balanced_unit_sigma():
    m = sympy.Symbol("m", positive=True)
    assert lipschitz_lower_bound_two_gaussians(-m, m, 1) == sympy.exp(m**2 / 2)


def test_lipschitz_vector_means():
    assert lipschitz_lower_bound_two_gaussians([0, 0], [3, 4], 1) == lipschitz_lower_bound_two_gaussians(0, 5, 1)


def test_lipschitz_hundred_sigma_separation():
    # D = 100 sigma: exp(1250), far beyond double precision; reference exp(1250) at 80 digits.
    assert_close(lipschitz_lower_bound_two_gaussians(-50, 50, 1), mpmath.exp(1250))


# ---------------------------------------------------------------------------
# Theorem 4, Corollaries 5, S11, 6.
# ---------------------------------------------------------------------------

def test_tv_bracket_against_mpmath():
    rho, nu, v, r, L = mp("2/5"), mp("1/2"), mp("1/100"), mp("3"), mp("2")
    reference = mpmath.ncdf(r / L + quantile(rho)) - min(rho, nu) - v
    expr = tv_bracket(S.Half, Rational(1, 100), 3, 2, model_mass=Rational(2, 5))
    assert_close(expr, reference)


def test_tv_bracket_model_free_side():
    nu, v, r, L = mp("1/2"), mp("1/100"), mp("3"), mp("2")
    assert_close(tv_bracket(S.Half, Rational(1, 100), 3, 2), mpmath.ncdf(r / L) - nu - v)


@pytest.mark.parametrize("weight, distance, lip", [("1/2", "4", "3"), ("1/3", "1", "10"), ("9/10", "20", "1/2")])
def test_tv_disconnected_two_pieces(weight, distance, lip):
    lam, D, L = max(mp(weight), 1 - mp(weight)), mp(distance), mp(lip)
    reference = mpmath.ncdf(D / (2 * L) + quantile(lam)) - lam
    expr = tv_lower_bound_disconnected(Rational(weight), Rational(distance), Rational(lip))
    assert_close(expr, reference, digits=46)


def test_tv_disconnected_sequence_form_matches_scalar_form():
    scalar = tv_lower_bound_disconnected(Rational(1, 3), 4, 3)
    pair = tv_lower_bound_disconnected([Rational(1, 3), Rational(2, 3)], [[0, 4], [4, 0]], 3)
    assert sympy.simplify(scalar - pair) == 0


def test_tv_disconnected_three_pieces_against_brute_force():
    weights = [Rational(1, 5), Rational(3, 10), Rational(1, 2)]
    distances = [[0, 2, 7], [2, 0, 3], [7, 3, 0]]
    L = mpmath.mpf(3) / 2
    best = None
    for size in (1, 2):
        for subset in itertools.combinations(range(3), size):
            mass = sum(mp(weights[i]) for i in subset)
            lam = max(mass, 1 - mass)
            gap = min(distances[i][j] for i in subset for j in range(3) if j not in subset)
            value = mpmath.ncdf(gap / (2 * L) + quantile(lam)) - lam
            best = value if best is None else max(best, value)
    assert_close(tv_lower_bound_disconnected(weights, distances, Rational(3, 2)), best, digits=46)


def test_tv_disconnected_limit_one_half():
    D, L = sympy.symbols("D L", positive=True)
    expr = tv_lower_bound_disconnected(S.Half, D, L)
    assert sympy.limit(expr.rewrite(sympy.erf), D, sympy.oo) == S.Half


def test_tv_disconnected_huge_lip_without_maxn():
    # Phi(D/(2L)) - 1/2 for L = 1e300: about D/(2L) phi(0); reference from the Taylor series at 0.
    expr = tv_lower_bound_disconnected(S.Half, 4, 10**300)
    c = mpmath.mpf(2) / mpmath.mpf(10) ** 300
    reference = (c - c**3 / 6) / mpmath.sqrt(2 * mpmath.pi)
    value = mpmath.mpf(sympy.Float(expr.evalf(50), REFERENCE_DPS))
    assert abs(value / reference - 1) < mpmath.mpf(10) ** -48


@pytest.mark.parametrize("m2, sigma, lip", [("5", "1", "2"), ("20", "1", "100"), ("3", "1/3", "1"), ("8", "2", "1/2")])
def test_tv_two_gaussians_against_published_formula(m2, sigma, lip):
    D, s, L = mp(m2), mp(sigma), mp(lip)
    bracket = (mpmath.ncdf(D / (4 * s * L)) - mpmath.mpf(1) / 2
               - (mpmath.ncdf(D * (2 * s + 1) / (4 * s**2)) - mpmath.ncdf(D * (2 * s - 1) / (4 * s**2))) / 2)
    expr = tv_lower_bound_two_gaussians(0, Rational(m2), Rational(sigma), Rational(lip))
    assert_close(expr, max(bracket, 0), digits=45)


def test_tv_two_gaussians_clipped_at_zero():
    # Large L: the bracket is negative (about -b) and the bound is the trivial 0.
    assert tv_lower_bound_two_gaussians(0, 2, 1, 10**6) == 0


# ---------------------------------------------------------------------------
# Theorem 7, Corollary 8 (corrected).
# ---------------------------------------------------------------------------

def test_kl_bracket_is_piecewise_with_condition():
    v, r, L, rho = sympy.symbols("v r L rho", positive=True)
    expr = kl_bracket(v, r, L, rho)
    beta = shell_mass_lower_bound(rho, r, L)
    assert isinstance(expr, sympy.Piecewise)
    assert expr.args[0].expr == kl_bin(beta, v)
    assert expr.args[0].cond.canonical == (beta >= v).canonical
    assert expr.args[1].cond == sympy.true


@pytest.mark.parametrize("m2, sigma, lip, weight", [("10", "1", "3", "2/5"), ("6", "1", "1", "1/10"), ("12", "2", "2", "7/10")])
def test_kl_two_gaussians_against_mpmath(m2, sigma, lip, weight):
    D, s, L = mp(m2), mp(sigma), mp(lip)
    lam = min(mp(weight), 1 - mp(weight))
    a = mpmath.ncdf(D / (4 * s * L) + quantile(lam)) - lam
    b = (mpmath.ncdf(D * (2 * s + 1) / (4 * s**2)) - mpmath.ncdf(D * (2 * s - 1) / (4 * s**2))) / 2
    reference = kl(a, b) if a >= b else mpmath.mpf(0)
    expr = kl_lower_bound_two_gaussians(0, Rational(m2), Rational(sigma), Rational(lip), Rational(weight))
    assert reference > 0
    assert_close(expr, reference, digits=45)


def test_kl_two_gaussians_erratum_gives_zero():
    # A steep model (L = 1000) at m = 1: beta < nu(shell), so the corrected bound is 0,
    # while the published formula kl(a || b) is positive.
    expr = kl_lower_bound_two_gaussians(-1, 1, 1, 1000, S.Half)
    assert expr == 0
    a = mpmath.ncdf(mpmath.mpf(2) / 4000) - mpmath.mpf(1) / 2
    b = (mpmath.ncdf(mpmath.mpf(3) / 2) - mpmath.ncdf(mpmath.mpf(1) / 2)) / 2
    assert a < b
    assert kl(a, b) > 0


def test_kl_two_gaussians_weight_above_half_is_exchanged():
    low = kl_lower_bound_two_gaussians(0, 10, 1, 3, Rational(3, 10))
    high = kl_lower_bound_two_gaussians(0, 10, 1, 3, Rational(7, 10))
    assert low == high


# ---------------------------------------------------------------------------
# Input checks.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: surface_area_lower_bound(S.Half, -1), r"lip must be a positive finite number in \(0, inf\), got lip=-1"),
        (lambda: extension_mass_lower_bound(S.Half, -2, 1), r"r must be a nonnegative finite number in \[0, inf\), got r=-2"),
        (lambda: extension_mass_lower_bound(Rational(3, 2), 1, 1), r"mass must be a probability in \[0, 1\], got mass=3/2"),
        (lambda: lipschitz_lower_bound_two_gaussians(0, 1, 0), r"sigma must be a positive finite number in \(0, inf\), got sigma=0"),
        (lambda: lipschitz_lower_bound_two_gaussians(0, 1, 1, 1), r"weight must be a probability in \(0, 1\), got weight=1"),
        (lambda: lipschitz_lower_bound_two_gaussians([0, 1], [1], 1), r"equal length"),
        (lambda: lipschitz_lower_bound_two_gaussians([0, 1], 1, 1), r"both be scalars or both be vectors"),
        (lambda: tv_lower_bound_disconnected([Rational(1, 2), Rational(1, 3)], 2, 1), r"weights must sum to 1, got sum\(weights\)=5/6"),
        (lambda: tv_lower_bound_disconnected([S.Half, S.Half], [[0, 1], [2, 0]], 1), r"distances must be symmetric"),
        (lambda: tv_lower_bound_disconnected([S.Half, S.Half], [[0, 1]], 1), r"distances must be a 2 x 2 matrix"),
        (lambda: tv_lower_bound_disconnected(S.Half, 0, 1), r"distances must be a positive finite number"),
        (lambda: tv_lower_bound_two_gaussians(0, 1, 1, sympy.oo), r"lip must be a positive finite number"),
        (lambda: kl_lower_bound_two_gaussians(0, 1, 1, 1, -1), r"model_weight must be a probability in \[0, 1\], got model_weight=-1"),
        (lambda: surface_area_lower_bound(S.Half, sympy.Symbol("L", negative=True)), r"lip must be a positive finite number"),
        (lambda: surface_area_lower_bound(S.Half, sympy.nan), r"lip must be a real number"),
    ],
)
def test_invalid_arguments_raise(build, message):
    with pytest.raises(ValueError, match=message):
        build()


@pytest.mark.parametrize("value", [True, object(), b"2"])
def test_wrong_kind_raises_type_error(value):
    with pytest.raises(TypeError, match="lip must be a real number or a sympy expression"):
        surface_area_lower_bound(S.Half, value)


def test_symbols_without_assumptions_are_accepted():
    lip = sympy.Symbol("L")
    assert surface_area_lower_bound(S.Half, lip) == 1 / (sympy.sqrt(2 * sympy.pi) * lip)


# ---------------------------------------------------------------------------
# formula, latex and lambdify on every bound.
# ---------------------------------------------------------------------------

def test_latex_by_name_and_expression():
    assert latex("extension_mass_lower_bound") == r"\Phi\left(\Phi^{-1}\left(p\right) + \frac{r}{L}\right)"
    assert latex("lipschitz_lower_bound_two_gaussians") == sympy.latex(formula("lipschitz_lower_bound_two_gaussians"))
    assert latex(Phi_inv(sympy.Symbol("q"))) == r"\Phi^{-1}\left(q\right)"


def test_latex_unknown_name_raises():
    with pytest.raises(ValueError, match="name must be one of"):
        latex("tv_lower_bound")


@pytest.mark.parametrize("name", [None, 3, 0.5])
def test_latex_non_expression_raises(name):
    with pytest.raises(TypeError, match="name must be a name from FORMULA_NAMES or a sympy expression"):
        latex(name)


VALUES = {"p": 0.3, "r": 1.5, "L": 2.0, "sigma": 0.8, "D": 3.0, "lambda": 0.35, "rho_A": 0.4, "nu_A": 0.5,
          "v": 0.01, "a": 0.3, "b": 0.2}


@pytest.mark.parametrize("name", FORMULA_NAMES)
def test_lambdify_every_formula(name):
    expr = formula(name)
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    point = [VALUES[s.name] for s in symbols]
    reference = expr.evalf(30, subs={s: sympy.Float(v, 30) for s, v in zip(symbols, point)})

    with_mpmath = sympy.lambdify(symbols, expr, "mpmath")
    with mpmath.workdps(30):
        value = with_mpmath(*[mpmath.mpf(v) for v in point])
    assert abs(value - mpmath.mpf(sympy.Float(reference, 30))) <= mpmath.mpf(10) ** -25 * max(1, abs(value))

    with_numpy = sympy.lambdify(symbols, expr, "numpy")
    array_value = with_numpy(*[np.full(3, v) for v in point])
    np.testing.assert_allclose(np.broadcast_to(array_value, (3,)), float(reference), rtol=1e-12)


def test_public_names():
    exported = set(symbolic.__all__)
    assert exported == {name for name in dir(symbolic) if not name.startswith("_") and name not in
                        {"I", "bounds", "functions", "verification"}}
    assert symbolic.I is symbolic.isoperimetric_profile


@pytest.mark.parametrize("gap", [0, Rational(1, 10**3000)])
def test_kl_bracket_unresolved_tie_gives_zero(gap):
    # beta = Phi(1) - 1/2 here, and v exceeds it by 1e-3000 or equals it. sympy cannot
    # separate the two within its cancellation digits, so the bracket must take the
    # branch that is valid in either case, 0, and not kl(beta || v) > 0.
    shell = Phi(1) - S.Half + gap
    assert kl_bracket(shell, 1, 1, S.Half) == 0

