"""A new user's workflow, from the README only, checked against independent computations.

The README section "Your own generator, data and targets" converts a torch
LeakyReLU generator, computes its exact distances to a target, the bounds at
its Lipschitz constant, and bisects on ``L`` for the Lipschitz constant a
target needs. These tests run the README's code blocks and check every
printed number against scipy quadrature, brute-force grids or mpmath, and
check the other routes the README names (samples, scipy laws, R^5
mixtures, sympy expressions, hypothesis property tests) the same way.
"""

import contextlib
import io
import pathlib
import re

import mpmath
import numpy as np
import pytest
import scipy.integrate
import scipy.special
import scipy.stats as st

import isobounds
from isobounds import EmpiricalMeasure, GaussianMixture, HalfSpace, UnivariateDistribution

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _block(marker):
    """Return the README's Python block that contains ``marker``."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)
    return next(block for block in blocks if marker in block)


def _run(code, namespace=None):
    """Execute ``code`` and return its printed lines and its namespace."""
    namespace = {} if namespace is None else namespace
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, str(README), "exec"), namespace)
    return output.getvalue().splitlines(), namespace


def _check_comments(code, printed):
    """Each ``print(...)  # value`` comment of the block agrees with the printed line to 12 digits."""
    comments = [line.split("#", 1)[1].split() for line in code.splitlines()
                if line.startswith("print(") and "#" in line]
    assert len(comments) == len(printed)
    for line, comment in zip(printed, comments):
        for expected, got in zip(comment, line.split()):
            try:
                assert abs(float(got) - float(expected)) <= 1e-12 * abs(float(expected)), (line, comment)
            except ValueError:
                assert got == expected, (line, comment)


def _mixture_cdf(x, weights, means, sigma=1.0):
    return sum(w * st.norm.cdf((x - m) / sigma) for w, m in zip(weights, means))


def _mixture_pdf(x, weights, means, sigma=1.0):
    return sum(w * st.norm.pdf((x - m) / sigma) / sigma for w, m in zip(weights, means))


def test_generator_block_matches_quadrature():
    torch = pytest.importorskip("torch")
    code = _block("from_mlp(")
    printed, namespace = _run(code)
    _check_comments(code, printed)

    # The network by hand: with a = 0.2, u = 4z, the first two units give
    # leaky(u + 1) - leaky(u - 1) = 2 for u > 1, 2a for u < -1 and
    # (1 - a) u + 1 + a between; the last two give (1 + a) z. So g has slope
    # 3.75 * 4 * 0.8 + 1.2 = 13.2 on |z| < 1/4 and 1.2 outside.
    assert float(namespace["lip"]) == pytest.approx(13.2, rel=1e-14)
    net = namespace["net"]

    def g(z):
        with torch.no_grad():
            return float(net.double()(torch.tensor([[z]], dtype=torch.float64)))

    def slope(z):
        return 13.2 if abs(z) < 0.25 else 1.2

    weights, means = (0.5, 0.5), (-3.0, 3.0)
    pieces = [(-np.inf, -0.25), (-0.25, 0.25), (0.25, np.inf)]

    # g is increasing, so rho has density phi(z) / g'(z) at y = g(z):
    # TV = int (phi(z) - nu_pdf(g(z)) g'(z))_+ dz, KL = E_z[log phi(z) - log g'(z) - log nu_pdf(g(z))].
    def tv_integrand(z):
        return max(0.0, st.norm.pdf(z) - _mixture_pdf(g(z), weights, means) * slope(z))

    def kl_integrand(z):
        log_nu = scipy.special.logsumexp([np.log(w) + st.norm.logpdf(g(z) - m) for w, m in zip(weights, means)])
        return st.norm.pdf(z) * (st.norm.logpdf(z) - np.log(slope(z)) - log_nu)

    tv = sum(scipy.integrate.quad(tv_integrand, a, b, epsabs=1e-13, limit=200)[0] for a, b in pieces)
    kl = sum(scipy.integrate.quad(kl_integrand, a, b, epsabs=1e-13, limit=200)[0] for a, b in pieces)
    assert float(printed[1]) == pytest.approx(tv, abs=1e-9)
    assert float(printed[2]) == pytest.approx(kl, abs=1e-9)

    # Model-free Theorem 4 on [0, inf) of the symmetric target. Both sides are
    # Phi(r / L) - 1/2 - nu([-r, 0)), maximised over r on a fine grid.
    radii = np.linspace(1e-3, 10, 200001)
    side = st.norm.cdf(radii / 13.2) - 0.5 - (0.5 - _mixture_cdf(-radii, weights, means))
    best_tv = float(printed[3].split()[0])
    assert best_tv == pytest.approx(side.max(), rel=1e-8)
    assert best_tv <= tv

    # Corrected Theorem 7 on (-inf, 0] with the model's mass 1/2 there (g(0) = 0, g increasing).
    beta = st.norm.cdf(radii / 13.2) - 0.5
    shell = _mixture_cdf(radii, weights, means) - 0.5
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_bracket = np.where(beta >= shell, beta * np.log(beta / shell) + (1 - beta) * np.log((1 - beta) / (1 - shell)), 0)
    assert float(printed[4]) == pytest.approx(kl_bracket.max(), rel=1e-8)
    assert float(printed[4]) <= kl


def _brute_force_tv_bound(lip, weights, means, radii=np.geomspace(1e-3, 30.0, 1500)):
    """Model-free Theorem 4 maximised over rays (-inf, c] and both radii on grids, in float64.

    The offset grid is refined twice around its best point, because the
    maximum sits at the kink where the two sides are equal.
    """
    radii = radii[None, :]
    centre, half_width = 0.0, 4.0
    for _ in range(3):
        offsets = np.linspace(centre - half_width, centre + half_width, 201)[:, None]
        mass = _mixture_cdf(offsets, weights, means)
        side_a = (st.norm.cdf(st.norm.ppf(mass) + radii / lip) - mass
                  - (_mixture_cdf(offsets + radii, weights, means) - mass))
        side_b = (st.norm.cdf(st.norm.ppf(1 - mass) + radii / lip) - (1 - mass)
                  - (mass - _mixture_cdf(offsets - radii, weights, means)))
        score = np.minimum(side_a.max(axis=1), side_b.max(axis=1))
        centre, half_width = float(offsets[np.argmax(score), 0]), half_width / 50
    return np.max(score)


def test_lipschitz_bisection_matches_grid():
    code = _block("def lipschitz_needed")
    printed, _ = _run(code, {"isobounds": isobounds, "GaussianMixture": GaussianMixture})
    _check_comments(code, printed)
    found = float(printed[0])

    # The same bisection on a brute-force grid of rays and radii, from a bracket
    # that the grid confirms.
    radii = np.geomspace(0.3, 5.0, 500)
    low, high = 5.0, 8.0
    assert _brute_force_tv_bound(low, (0.3, 0.7), (-3.0, 3.0), radii) > 0.05
    assert _brute_force_tv_bound(high, (0.3, 0.7), (-3.0, 3.0), radii) < 0.05
    for _ in range(16):
        mid = (low + high) / 2
        low, high = (mid, high) if _brute_force_tv_bound(mid, (0.3, 0.7), (-3.0, 3.0), radii) > 0.05 else (low, mid)
    assert found == pytest.approx(low, rel=2e-4)


def test_lipschitz_for_tv_r5_mpmath():
    torch = pytest.importorskip("torch")
    m1, m2 = torch.zeros(5), torch.tensor([3.0, 4.0, 0.0, 0.0, 0.0])    # D = 5
    value = isobounds.lipschitz_lower_bound_for_tv(m1, m2, 0.5, 0.05, sharp=True)

    # sup_r r / Phi^-1(1/2 + tv + S(r)), S(r) = (1/2)[Phi((D/2 + r)/s) - Phi((D/2 - r)/s)].
    with mpmath.workdps(40):
        def ratio(r):
            shell = (mpmath.ncdf((mpmath.mpf(5) / 2 + r) / mpmath.mpf("0.5"))
                     - mpmath.ncdf((mpmath.mpf(5) / 2 - r) / mpmath.mpf("0.5"))) / 2
            return r / (mpmath.sqrt(2) * mpmath.erfinv(2 * (mpmath.mpf("0.55") + shell) - 1))

        grid = [mpmath.mpf(k) / 200 for k in range(1, 400)]
        start = max(grid, key=ratio)
        peak = mpmath.findroot(lambda r: mpmath.diff(ratio, r), start)
        reference = ratio(peak)
    assert abs(value / reference - 1) < 1e-12


def test_half_spaces_r5_match_projection():
    means = np.array([[0, 0, 0, 0, 0], [6, 0, 0, 0, 0], [0, 6, 0, 0, 0]], dtype=float)
    weights = (0.5, 0.25, 0.25)
    target = GaussianMixture(list(weights), means, 1.0)
    best = isobounds.maximize_tv_over_half_spaces(3.0, target=target)

    # Projected on the unit normal u, the mixture is univariate with means <u, m_i>.
    normal = np.array([float(x) for x in best.region.normal])
    offset = float(best.region.offset) / np.linalg.norm(normal)
    projected = means @ normal / np.linalg.norm(normal)
    r_a, r_b = (float(r) for r in best.radius)
    mass = _mixture_cdf(offset, weights, projected)
    side_a = st.norm.cdf(st.norm.ppf(mass) + r_a / 3) - mass - (_mixture_cdf(offset + r_a, weights, projected) - mass)
    side_b = (st.norm.cdf(st.norm.ppf(1 - mass) + r_b / 3) - (1 - mass)
              - (mass - _mixture_cdf(offset - r_b, weights, projected)))
    assert float(best.value) == pytest.approx(min(side_a, side_b), rel=1e-9)

    # At least the brute-force best over the half-spaces normal to each difference of means.
    for i, j in [(0, 1), (0, 2), (1, 2)]:
        direction = (means[j] - means[i]) / np.linalg.norm(means[j] - means[i])
        assert float(best.value) >= _brute_force_tv_bound(3.0, weights, means @ direction) - 1e-6


def test_samples_and_scipy_laws():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    data = np.concatenate([rng.normal(-3, 1, 500), rng.normal(3, 1, 500)])
    A = HalfSpace([1.0], 0.0)
    from_numpy = isobounds.maximize_tv_over_radius(A, 13.2, target=EmpiricalMeasure(data))
    from_torch = isobounds.maximize_tv_over_radius(A, 13.2, target=EmpiricalMeasure(torch.from_numpy(data).float()))
    r_a, r_b = from_numpy.radius
    # Counts of samples: A = (-inf, 0], its shell (0, r_a], the other shell [-r_b, 0).
    # The best radius lies just below a sample (the closed shell takes in the
    # sample at r = x), so compare with the mpf radius: float(r_a) can round
    # onto the sample.
    in_a = sum(1 for x in data if 0 < x and mpmath.mpf(x) <= r_a)
    in_b = sum(1 for x in data if x < 0 and mpmath.mpf(x) >= -r_b)
    mass = np.count_nonzero(data <= 0) / 1000    # 499: one sample of N(-3, 1) lies above 0
    side_a = st.norm.cdf(st.norm.ppf(mass) + float(r_a) / 13.2) - mass - in_a / 1000
    side_b = st.norm.cdf(st.norm.ppf(1 - mass) + float(r_b) / 13.2) - (1 - mass) - in_b / 1000
    assert float(from_numpy.value) == pytest.approx(min(side_a, side_b), rel=1e-12)
    assert float(from_torch.value) == pytest.approx(float(from_numpy.value), rel=1e-6)
    with pytest.raises(TypeError, match="maximize_tv_over_radius|Gaussian mixture"):
        isobounds.maximize_tv_over_intervals(13.2, target=EmpiricalMeasure(data))

    frozen = st.t(df=3, loc=1)
    with pytest.raises(TypeError, match="target"):
        isobounds.tv_lower_bound(HalfSpace([1.0], 1.0), 1.0, 2.0, target=frozen)
    bound = isobounds.maximize_tv_over_radius(HalfSpace([1.0], 1.0), 2.0, target=UnivariateDistribution(frozen))
    radius = float(bound.radius[0])
    assert float(bound.value) == pytest.approx(st.norm.cdf(radius / 2) - 0.5 - (frozen.cdf(1 + radius) - 0.5), rel=1e-9)

    # tv_distance takes the frozen law directly. N(1, 1) against t(3) centred at 1:
    # the densities cross at 1 -+ c, and TV is the integral of their difference between.
    from isobounds.pushforward import PiecewiseLinearMap, tv_distance

    result = tv_distance(PiecewiseLinearMap([0.0], [1.0], 1.0, 1.0), frozen)
    with mpmath.workdps(40):
        def t_pdf(y):
            return 2 / (mpmath.sqrt(3) * mpmath.pi) * (1 + (y - 1) ** 2 / 3) ** -2

        def difference(y):
            return mpmath.npdf(y, 1, 1) - t_pdf(y)

        crossing = mpmath.findroot(difference, (-1, mpmath.mpf("0.5")), solver="anderson")
        reference = mpmath.quad(difference, [crossing, 1, 2 - crossing])
    assert abs(result.value - float(reference)) <= max(result.error, 1e-13)


def test_sympy_bound_and_property_test():
    hypothesis = pytest.importorskip("hypothesis")
    import sympy

    import isobounds.symbolic as sb
    from isobounds.pushforward import tv_distance
    from isobounds.testing import tight_bound_cases

    # Corollary 6 as a sympy expression, lambdified, against its closed form in mpmath.
    D, sigma, L = sympy.symbols("D sigma L", positive=True)
    corollary6 = sympy.lambdify((D, sigma, L), sb.formula("tv_lower_bound_two_gaussians"), "mpmath")
    with mpmath.workdps(30):
        closed = (mpmath.ncdf(mpmath.mpf(10) / 40) - mpmath.mpf(1) / 2
                  - (mpmath.ncdf(mpmath.mpf(30) / 4) - mpmath.ncdf(mpmath.mpf(10) / 4)) / 2)
        assert abs(corollary6(10, 1, 10) / closed - 1) < 1e-25

    # A float64 Theorem 4 written by the user never exceeds the exact TV on nearly tight cases.
    def my_bound(case):
        lip = float(case.map.lipschitz_constant())
        weights = [float(w) for w in case.target.weights]
        means = case.target.means_array[:, 0]
        sigmas = [float(s) for s in case.target.sigmas]

        def cdf(x):
            return sum(w * st.norm.cdf((x - m) / s) for w, m, s in zip(weights, means, sigmas))

        a, b = float(case.region.a), float(case.region.b)
        r = case.radius
        if np.isinf(a):            # A = (-inf, b]: the shell is (b, b + r]
            mass, shell = cdf(b), cdf(b + r) - cdf(b)
        else:                      # A = [a, inf): the shell is [a - r, a)
            mass, shell = 1 - cdf(a), cdf(a) - cdf(a - r)
        model_mass = float(case.map.pushforward().mass(case.region))
        return st.norm.cdf(st.norm.ppf(model_mass) + r / lip) - min(model_mass, mass) - shell

    @hypothesis.settings(max_examples=25, deadline=None, database=None)
    @hypothesis.given(tight_bound_cases(max_perturbation=0.001))
    def property_test(case):
        exact = tv_distance(case.map, case.target)
        assert my_bound(case) <= exact.value + exact.error + 1e-12

    property_test()
