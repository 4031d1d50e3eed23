"""Claims that a new user's review corrected or added in README.md and docs/symbolic.md.

Each test finds the sentence in the page and checks it against a computation
that does not go through the code path it describes: mpmath at higher
precision, exact rational arithmetic on float64 numbers, numpy counts and
scipy distribution functions.
"""

import fractions
import pathlib
import re

import mpmath
import numpy as np
import pytest
import scipy.stats as st
import sympy

import isobounds
import isobounds.symbolic as sb
from isobounds import EmpiricalMeasure, GaussianMixture, HalfSpace
from isobounds.pushforward import PiecewiseLinearMap, tv_distance

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _text(name):
    """Return a page with its line breaks replaced by spaces, so that sentences match across lines."""
    return " ".join((ROOT / name).read_text(encoding="utf-8").split())


@pytest.fixture(scope="module")
def readme():
    return _text("README.md")


@pytest.fixture(scope="module")
def symbolic_page():
    return _text("docs/symbolic.md")


def _correct_digits(value, reference):
    with mpmath.workdps(150):
        return -mpmath.log10(abs(mpmath.mpf(value) / reference - 1))


def _theorem4_with_model_mass(offset, means, sigma, r, lip, model_mass):
    """Return Theorem 4 for A = (-inf, offset] and (1/2)[N(m1, s^2) + N(m2, s^2)], from the decimal strings at 150 digits."""
    with mpmath.workdps(150):
        offset, sigma, r, lip, model_mass = (mpmath.mpf(x) for x in (offset, sigma, r, lip, model_mass))
        means = [mpmath.mpf(m) for m in means]
        target_mass = sum(mpmath.ncdf((offset - m) / sigma) for m in means) / 2
        shell = sum(mpmath.ncdf((offset + r - m) / sigma) - mpmath.ncdf((offset - m) / sigma) for m in means) / 2
        alpha = mpmath.ncdf(r / lip + mpmath.sqrt(2) * mpmath.erfinv(2 * model_mass - 1))
        return alpha - min(model_mass, target_mass) - shell


@pytest.mark.parametrize("offset, means, sigma", [
    ("0.1", ("-3.1", "3.3"), "1.1"),
    ("1e-3", ("-5", "4.5"), "1.3"),
])
def test_string_parameters_keep_50_digits(readme, offset, means, sigma):
    assert "returns only about 50 correct digits" in readme
    reference = _theorem4_with_model_mass(offset, means, sigma, "2.5", 1, "0.5")
    A = HalfSpace([1.0], offset)
    target = GaussianMixture([0.5, 0.5], list(means), sigma)
    built_at_30 = isobounds.tv_lower_bound(A, "2.5", 1, target=target, model_mass="0.5", dps=100)
    assert 45 <= _correct_digits(built_at_30, reference) <= 55
    with isobounds.precision(100):
        A = HalfSpace([1.0], offset)
        target = GaussianMixture([0.5, 0.5], list(means), sigma)
        built_at_100 = isobounds.tv_lower_bound(A, "2.5", 1, target=target, model_mass="0.5")
    assert _correct_digits(built_at_100, reference) >= 98


def test_repr_shows_17_digits(readme):
    assert "the `repr` inside a result such as `best` with 17" in readme
    digits = re.fullmatch(r"mpf\('0\.(\d+)'\)", repr(mpmath.mpf(1) / 3)).group(1)
    assert len(digits) == 17
    assert set(digits) <= {"3", "1"}


def test_narrow_piece_slope_from_rounded_values(readme):
    sentence = ("For the ReLU network `g(z) = 1000 + relu(z) - relu(z - 1e-9)`, whose Lipschitz "
                "constant is 1, `lipschitz_constant()` returns 0.99998942.")
    assert sentence in readme
    assert "converted exactly" not in _text("docs/index.md")
    notebook = _text("docs/notebooks/_sources/04_verify_a_bound_yourself.py").replace(" # ", " ")
    assert "converts it exactly" not in notebook
    weights = [np.array([[1.0], [1.0]]), np.array([[1.0, -1.0]])]
    biases = [np.array([0.0, -1e-9]), np.array([1000.0])]
    g = PiecewiseLinearMap.from_mlp(weights, biases, negative_slope=0.0)
    lip = g.lipschitz_constant()
    # The slope of the float64 map, by exact rational arithmetic on float64 numbers:
    # (fl(1000 + 1e-9) - 1000) / fl(1e-9).
    rounded = (fractions.Fraction(1000.0 + 1e-9) - 1000) / fractions.Fraction(1e-9)
    with mpmath.workdps(40):
        exact = mpmath.mpf(rounded.numerator) / rounded.denominator
        assert abs(lip / exact - 1) < 1e-25
    assert mpmath.nstr(exact, 8) == "0.99998942"
    # The README's error estimate 1e-16 |g| / h with |g| = 1000 and h = 1e-9, against the true slope 1.
    assert 1e-7 < abs(lip - 1) < 1e-16 * 1000 / 1e-9


def _two_mode_samples(n, seed):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.normal(-3, 1, n // 2), rng.normal(3, 1, n - n // 2)])


def _population_cdf(x):
    return 0.5 * st.norm.cdf(x + 3) + 0.5 * st.norm.cdf(x - 3)


def test_sample_bound_moves_by_the_mass_errors(readme):
    assert "`|nu_n(A) - nu(A)| + |nu_n(A_r \\ A) - nu(A_r \\ A)|` when `nu` replaces `nu_n`" in readme
    samples = _two_mode_samples(400, seed=1)
    data = EmpiricalMeasure(samples)
    population = GaussianMixture.two_gaussians(-3, 3, 1)
    for t, r, lip, model_mass in [(0.0, 1.0, 2.0, 0.5), (-0.7, 2.3, 1.5, 0.4), (0.9, 0.4, 0.5, 0.62)]:
        A = HalfSpace([1.0], t)
        empirical_mass = np.mean(samples <= t)
        empirical_shell = np.mean((samples > t) & (samples <= t + r))
        true_mass = _population_cdf(t)
        true_shell = _population_cdf(t + r) - _population_cdf(t)
        allowed = abs(empirical_mass - true_mass) + abs(empirical_shell - true_shell)
        from_samples = isobounds.tv_lower_bound(A, r, lip, target=data, model_mass=model_mass, clip=False)
        from_law = isobounds.tv_lower_bound(A, r, lip, target=population, model_mass=model_mass, clip=False)
        assert abs(from_samples - from_law) <= allowed + 1e-12


def test_dkw_margin_on_one_sample(readme):
    assert "`eps = sqrt(log(2 / delta) / (2 n))`" in readme
    assert "minus `3 eps` is a lower bound" in readme
    samples = _two_mode_samples(2000, seed=2)
    eps = np.sqrt(np.log(2 / 0.05) / (2 * samples.size))
    # This sample lies in the DKW event: its Kolmogorov-Smirnov distance is below eps.
    assert st.kstest(samples, _population_cdf).statistic <= eps
    A = HalfSpace([1.0], 0.0)
    best = isobounds.maximize_tv_over_radius(A, 3.0, target=EmpiricalMeasure(samples), model_mass=0.5)
    r = float(best.radius)
    with mpmath.workdps(30):
        # Theorem 4 for the law itself at the radius found on the samples.
        for_law = mpmath.ncdf(r / 3) - mpmath.mpf(1) / 2 - (_population_cdf(r) - _population_cdf(0))
    assert best.value - 3 * eps <= for_law
    assert best.value > for_law - 3 * eps


def test_sample_kl_bound_infinite_on_empty_shell(readme):
    assert "`kl_lower_bound` is `+inf` for such a shell when `0 < rho(A) < 1`" in readme
    samples = _two_mode_samples(1000, seed=3)
    data = EmpiricalMeasure(samples)
    A = HalfSpace([1.0], -2.0)
    r = 1e-3
    assert np.count_nonzero((samples > -2.0) & (samples <= -2.0 + r)) == 0
    assert isobounds.kl_lower_bound(A, r, 10, target=data, model_mass=0.5) == mpmath.inf
    assert isobounds.maximize_kl_over_radius(A, 10, target=data, model_mass=0.5).value == mpmath.inf
    # Against the law that drew the samples the same bound is finite.
    assert mpmath.isfinite(isobounds.kl_lower_bound(A, r, 10, target=GaussianMixture.two_gaussians(-3, 3, 1),
                                                     model_mass=0.5))


def test_symbolic_float_arguments_keep_16_digits(symbolic_page):
    for quoted_value in ("-0.524400512708040777987", "-0.524400512708040784038", "-0.524400512708040815969"):
        assert f"`{quoted_value}...`" in symbolic_page
    from_float = sb.Phi_inv(0.3)
    assert isinstance(from_float, sympy.Float)
    value = from_float.evalf(50)
    with mpmath.workdps(80):
        decimal = mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(3) / 10 - 1)
        binary = mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(0.3) - 1)
        found = mpmath.mpf(str(value))
        assert mpmath.nstr(decimal, 21).startswith("-0.524400512708040784038")
        assert mpmath.nstr(binary, 21).startswith("-0.524400512708040815969")
        assert str(value).startswith("-0.524400512708040777987")
        # The result is the float64 number sympy computed, about one unit in the last
        # place from each reading, so it has no correct digits beyond the 16th.
        assert abs(found - mpmath.mpf(float(from_float))) < 1e-48
        for reading in (decimal, binary):
            assert 1e-18 < abs(found / reading - 1) < 1e-15
        exact = mpmath.mpf(str(sb.Phi_inv("0.3").evalf(50)))
        assert abs(exact / decimal - 1) < 1e-48


def test_symbolic_page_names_every_formula_and_export(symbolic_page):
    for name in sb.FORMULA_NAMES:
        assert f"`{name}" in symbolic_page or f'`"{name}"`' in symbolic_page, name
    for name in sb.__all__:
        assert f"`{name}" in symbolic_page or f"{name}(" in symbolic_page, name


def test_two_gaussian_shell_mass_at_corollary6_radius(symbolic_page):
    assert "`two_gaussian_shell_mass(D, sigma, r)`. At $r = D/(4\\sigma)$" in symbolic_page
    D, sigma = sympy.Integer(6), sympy.Rational(3, 2)
    value = sb.two_gaussian_shell_mass(D, sigma, D / (4 * sigma)).evalf(40)
    with mpmath.workdps(60):
        d, s = mpmath.mpf(6), mpmath.mpf(3) / 2
        published = (mpmath.ncdf(d * (2 * s + 1) / (4 * s**2)) - mpmath.ncdf(d * (2 * s - 1) / (4 * s**2))) / 2
        assert abs(mpmath.mpf(str(value)) / published - 1) < 1e-35


def test_disconnected_support_row_matches_corollary5(readme):
    assert "`DisconnectedSupport([Interval(-3, -1), Interval(1, 3)], [0.5, 0.5])`" in readme
    target = isobounds.DisconnectedSupport([isobounds.Interval(-3, -1), isobounds.Interval(1, 3)], [0.5, 0.5])
    for lip in (0.5, 1, 4):
        with mpmath.workdps(40):
            # Corollary 5 for two pieces of mass 1/2 at distance D = 2: Phi(D / (2 L)) - 1/2.
            closed_form = mpmath.ncdf(mpmath.mpf(1) / lip) - mpmath.mpf(1) / 2
        searched = isobounds.maximize_tv_over_radius(HalfSpace([1.0], 0.0), lip, target=target).value
        direct = isobounds.tv_lower_bound_disconnected(0.5, 2, lip)
        assert abs(searched / closed_form - 1) < 1e-25
        assert abs(direct / closed_form - 1) < 1e-25


def test_ot_lipschitz_constant_for_exact_fits(readme):
    assert "`ot_lipschitz_constant(target)` gives Corollary 3" in readme
    # A 3-component mixture: brute force of I(F(y)) / p(y) on a float64 grid, which cannot exceed the supremum.
    weights, means, sigmas = np.array([0.2, 0.5, 0.3]), np.array([-4.0, 0.5, 6.0]), np.array([0.5, 1.0, 2.0])
    y = np.linspace(-10, 15, 500_001)
    cdf = (weights * st.norm.cdf((y[:, None] - means) / sigmas)).sum(-1)
    pdf = (weights * st.norm.pdf((y[:, None] - means) / sigmas) / sigmas).sum(-1)
    grid_maximum = (st.norm.pdf(st.norm.ppf(cdf)) / pdf).max()
    found = isobounds.ot_lipschitz_constant(GaussianMixture(list(weights), list(means), list(sigmas))).value
    assert grid_maximum <= found * (1 + 1e-9)
    assert found <= grid_maximum * (1 + 1e-6)
    # A frozen scipy law: N(0, 4) is the push-forward of N(0, 1) by z -> 2 z.
    assert abs(isobounds.ot_lipschitz_constant(st.norm(0, 2)).value - 2) < 1e-9
    # Student t(3): the ratio keeps growing beyond the point returned, so the supremum is infinite.
    law = st.t(df=3)
    result = isobounds.ot_lipschitz_constant(law)
    far = 4 * abs(float(result.maximiser))
    ratio = st.norm.pdf(st.norm.isf(law.sf(far))) / law.pdf(far)
    assert ratio > result.value


def test_bound_case_fields(readme):
    assert "`BoundCase(map, target, region, radius)`" in readme
    from isobounds.testing import BoundCase
    assert BoundCase._fields == ("map", "target", "region", "radius")


def test_distances_are_float64_with_error(readme):
    assert "as float64 values with an error estimate (`DistanceResult(value, error)`)" in readme
    # g(z) = z - 3 pushes N(0, 1) to N(-3, 1), at total variation 1/2 - Phi(-3) from (1/2)[N(-3, 1) + N(3, 1)].
    result = tv_distance(PiecewiseLinearMap([0.0], [-3.0], 1.0, 1.0), GaussianMixture.two_gaussians(-3, 3, 1))
    assert isinstance(result.value, float)
    assert 0 <= result.error < 1e-10
    with mpmath.workdps(30):
        closed_form = mpmath.mpf(1) / 2 - mpmath.ncdf(-3)
    assert abs(result.value - closed_form) <= result.error + 1e-15
