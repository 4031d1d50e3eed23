"""Review of the exact distances: honest error estimates, finite quadrature intervals, argument checks.

Every number is checked against a computation written out here, independent
of isobounds. That is ``mpmath.quad`` at 30 digits on explicit densities, a
closed form, or ``scipy.integrate.quad`` in the latent variable ``z`` with
the densities evaluated in numpy long double (64-bit significand on x86-64).
"""

import math
import warnings

import mpmath
import numpy as np
import pytest
from scipy import integrate, optimize, stats

from isobounds.measures import GaussianMixture
from isobounds.pushforward import PiecewiseLinearMap, distances, kl_divergence, tv_distance

LD = np.longdouble
# log(sqrt(2 pi)) to 39 digits, parsed at long double precision.
LOG_SQRT_2PI_LD = np.longdouble("0.918938533204672741780329736405617639861")

# Absolute discrepancy allowed on top of the reported error, relative to
# max(1, |reference|): what the long double reference itself may miss (it
# agreed with mpmath.quad at 30 digits to 8e-16 on the 36 random cases).
REFERENCE_SLACK = 1e-14

# The latent reference needs more precision than float64 (x86-64 long double
# has a 64-bit significand; on some platforms long double is float64).
needs_long_double = pytest.mark.skipif(np.finfo(LD).nmant < 63, reason="numpy long double is no wider than float64 here")


# ----------------------------------------------------------------------
# Independent reference: latent quadrature in long double.
# ----------------------------------------------------------------------

class _LatentReference:
    r"""KL and TV of g#N(0, 1) against w N(m1, s^2) + (1 - w) N(m2, s^2), integrated over the latent z.

    KL = E[log p(g(Z)) - log q(g(Z))] and TV = E[(1 - q(g(Z)) / p(g(Z)))_+]
    for Z ~ N(0, 1). Each linear piece of g is integrated separately in z by
    ``scipy.integrate.quad``, split where g(z) meets the image of a knot
    (where p jumps) or a mean, and, for TV, where p = q. The densities are
    evaluated in long double, and on its own piece the latent point is z
    itself.

    NOTE: checked against mpmath only for the laws of :func:`_random_case`.
    With target components much narrower than the pieces, a dip of q above
    p can fall between the 257 grid points that look for p = q, and the TV
    reference is then wrong.
    """

    def __init__(self, g, weight, m1, m2, sigma):
        t = np.asarray(g.knots, dtype=LD)
        v = np.asarray(g.values, dtype=LD)
        inner = (v[1:] - v[:-1]) / (t[1:] - t[:-1])
        self.slope = np.concatenate([[LD(g.left_slope)], inner, [LD(g.right_slope)]])
        self.lower = np.concatenate([[LD(-np.inf)], t])
        self.upper = np.concatenate([t, [LD(np.inf)]])
        self.anchor_t = np.concatenate([t[:1], t])
        self.anchor_v = np.concatenate([v[:1], v])
        # Where p jumps (knot images) and where q peaks (the means): split points.
        self.split_values = np.concatenate([v, np.array([m1, m2], dtype=LD)])
        self.weights = np.array([weight, 1.0 - weight], dtype=LD)
        self.means = np.array([m1, m2], dtype=LD)
        self.sigma = LD(sigma)

    def image(self, z, k):
        return self.anchor_v[k] + self.slope[k] * (LD(z) - self.anchor_t[k])

    def log_p(self, z, k):
        """log p(g(z)) for z on piece k."""
        y = self.image(z, k)
        with np.errstate(divide="ignore", invalid="ignore"):
            latent = self.anchor_t + (y - self.anchor_v) / self.slope
        latent[k] = LD(z)
        inside = (self.lower <= latent) & (latent < self.upper) & (self.slope != 0)
        inside[k] = True
        terms = -0.5 * latent[inside] ** 2 - LOG_SQRT_2PI_LD - np.log(np.abs(self.slope[inside]))
        return _logsumexp_ld(terms)

    def log_q(self, z, k):
        """log q(g(z)) for z on piece k."""
        y = self.image(z, k)
        u = (y - self.means) / self.sigma
        return _logsumexp_ld(np.log(self.weights) - 0.5 * u * u - LOG_SQRT_2PI_LD - np.log(self.sigma))

    def pieces(self):
        """Latent intervals (a, b, k), split at the preimages of the knot images and means, unbounded ends cut at |z| = 40."""
        for k in range(self.slope.size):
            a = max(float(self.lower[k]), -40.0)
            b = min(float(self.upper[k]), 40.0)
            if a >= b:
                continue
            points = [a, b]
            if self.slope[k] != 0:
                preimages = self.anchor_t[k] + (self.split_values - self.anchor_v[k]) / self.slope[k]
                points += [float(x) for x in preimages if a < x < b]
            points = sorted(set(points))
            for lo, hi in zip(points[:-1], points[1:]):
                yield lo, hi, k

    def kl(self):
        def integrand(z, k):
            return _phi(z) * float(self.log_p(z, k) - self.log_q(z, k))

        return math.fsum(_quad(integrand, a, b, k) for a, b, k in self.pieces())

    def tv(self):
        def gap(z, k):
            return float(self.log_p(z, k) - self.log_q(z, k))

        def integrand(z, k):
            return _phi(z) * max(0.0, -float(np.expm1(self.log_q(z, k) - self.log_p(z, k))))

        total = []
        for a, b, k in self.pieces():
            grid = np.linspace(a, b, 257)
            signs = np.sign([gap(z, k) for z in grid])
            roots = [optimize.brentq(gap, grid[i], grid[i + 1], args=(k,), xtol=1e-300, rtol=4 * np.finfo(float).eps)
                     for i in np.flatnonzero(signs[1:] * signs[:-1] < 0)]
            points = [a, *roots, b]
            total += [_quad(integrand, lo, hi, k) for lo, hi in zip(points[:-1], points[1:])]
        return math.fsum(total)


def _logsumexp_ld(terms):
    top = np.max(terms)
    return top + np.log(np.sum(np.exp(terms - top)))


def _phi(z):
    return math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def _quad(integrand, a, b, k):
    # quad warns of roundoff on a few pieces where its tolerance is below the
    # rounding of the integrand; the results still agree with mpmath.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        value, _ = integrate.quad(integrand, a, b, args=(k,), epsabs=0.0, epsrel=1e-13, limit=200)
    return value


def _random_case(seed):
    """Return a random LeakyReLU MLP (1, h[, h], 1) and a random two-Gaussian target ``(g, w, m1, m2, sigma)``."""
    rng = np.random.default_rng(seed)
    width = int(rng.integers(2, 7))
    depth = int(rng.integers(1, 3))
    sizes = [1] + [width] * depth + [1]
    weights = [rng.normal(0, 1.5, (n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    biases = [rng.normal(0, 1.0, n_out) for n_out in sizes[1:]]
    g = PiecewiseLinearMap.from_mlp(weights, biases, float(rng.uniform(0.05, 0.5)))
    m1, m2 = sorted(rng.uniform(-4, 4, 2))
    sigma = float(rng.uniform(0.3, 2.0))
    weight = float(rng.uniform(0.2, 0.8))
    return g, weight, float(m1), float(m2), sigma


def _assert_within_error(result, reference):
    slack = REFERENCE_SLACK * max(1.0, abs(reference))
    assert abs(result.value - reference) <= max(result.error, slack), (result, reference)


# ----------------------------------------------------------------------
# The reported defect and its mechanism.
# ----------------------------------------------------------------------

FOLD = PiecewiseLinearMap([0.0], [0.0], -1.0, 1.0)  # g(z) = |z|, density 2 phi(y) on y > 0
CLOSE_MODES = GaussianMixture.two_gaussians(-0.5, 0.5, 1)


def _close_modes_density(y):
    return (mpmath.npdf(y, -0.5, 1) + mpmath.npdf(y, 0.5, 1)) / 2


def _folded_gap(y):
    """p - q for the folded model, p = 2 phi on y > 0."""
    return 2 * mpmath.npdf(y) - _close_modes_density(y)


def _folded_kl():
    """KL of the folded model at the working mpmath precision: int_0^inf 2 phi log(2 phi / q)."""
    def integrand(y):
        p = 2 * mpmath.npdf(y)
        return p * mpmath.log(p / _close_modes_density(y))

    return mpmath.quad(integrand, [0, 0.5, 1, 2, 4, 8, 16, 32, mpmath.inf])


def _folded_tv():
    """TV of the folded model: int_0^c (p - q), with p > q exactly on (0, c)."""
    crossing = mpmath.findroot(_folded_gap, 1.5)
    return mpmath.quad(_folded_gap, [0, crossing])


def test_kl_folded_gaussian_mpmath():
    # scipy 1.17's tanhsinh on [0.5, inf) returned 0.39578031336 (error 2.8e-13)
    # for 0.39578019528; the divergence was then off by 1.2e-7.
    with mpmath.workdps(30):
        expected = _folded_kl()
    result = kl_divergence(FOLD, CLOSE_MODES)
    assert abs(result.value - float(expected)) <= result.error
    assert result.error < 1e-11
    assert float(expected) == pytest.approx(0.705235177772451, abs=1e-15)


def test_tv_folded_gaussian_mpmath():
    with mpmath.workdps(30):
        crossing = mpmath.findroot(_folded_gap, 1.5)
        expected = _folded_tv()
    assert 0 < crossing < 3
    assert _folded_gap(crossing / 2) > 0
    assert _folded_gap(2 * crossing) < 0
    result = tv_distance(FOLD, CLOSE_MODES)
    assert abs(result.value - float(expected)) <= max(result.error, 1e-15)
    assert result.error < 1e-11


@needs_long_double
@pytest.mark.parametrize("seed", range(36))
def test_random_networks_latent_reference(seed):
    g, weight, m1, m2, sigma = _random_case(seed)
    target = GaussianMixture([weight, 1 - weight], [m1, m2], sigma)
    reference = _LatentReference(g, weight, m1, m2, sigma)
    _assert_within_error(kl_divergence(g, target), reference.kl())
    _assert_within_error(tv_distance(g, target), reference.tv())


def test_no_infinite_quadrature_interval(monkeypatch):
    seen = []

    def finite_only(f, a, b, **options):
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        seen.append(a.size)
        assert np.isfinite(a).all()
        assert np.isfinite(b).all()
        return integrate.tanhsinh(f, a, b, **options)

    monkeypatch.setattr(distances, "tanhsinh", finite_only)
    g, weight, m1, m2, sigma = _random_case(6)
    target = GaussianMixture([weight, 1 - weight], [m1, m2], sigma)
    kl_divergence(g, target)
    tv_distance(g, target)
    kl_divergence(FOLD, CLOSE_MODES)
    assert len(seen) >= 5


@needs_long_double
def test_false_convergence_caught_by_kronrod(monkeypatch):
    # A tanhsinh that reports convergence with a relative error of 1e-7 and an
    # estimate of 1e-15, as scipy 1.17 did on half-lines.
    def overconfident(f, a, b, **options):
        result = integrate.tanhsinh(f, a, b, **options)
        result.integral = result.integral * (1 + 1e-7)
        result.error = np.abs(result.integral) * 1e-15
        return result

    g, weight, m1, m2, sigma = _random_case(3)
    target = GaussianMixture([weight, 1 - weight], [m1, m2], sigma)
    reference = _LatentReference(g, weight, m1, m2, sigma)
    expected_kl, expected_tv = reference.kl(), reference.tv()
    monkeypatch.setattr(distances, "tanhsinh", overconfident)
    kl = kl_divergence(g, target)
    tv = tv_distance(g, target)
    _assert_within_error(kl, expected_kl)
    _assert_within_error(tv, expected_tv)
    assert kl.error < 1e-6 * expected_kl


def test_kl_flat_piece_node_rounding():
    # This network has a piece of slope -1.2e-4. Its y segment is 1.5e-5 wide
    # near y = 5.29, where one ulp of y moves z by 8e-12, so the float64 nodes
    # alone shift the integral by about 1.4e-12.
    g, weight, m1, m2, sigma = _random_case(6)
    assert np.min(np.abs(g.slopes)) < 2e-4
    target = GaussianMixture([weight, 1 - weight], [m1, m2], sigma)
    with mpmath.workdps(30):
        expected = _mp_kl(g, weight, m1, m2, sigma)
    result = kl_divergence(g, target)
    assert abs(result.value - float(expected)) <= result.error
    assert result.error < 1e-10


def _mp_kl(g, weight, m1, m2, sigma):
    """mpmath.quad of p log(p / q) over y, split at the knot images, the means and 5 points per segment."""
    p = _mp_model_density(g)
    values = [mpmath.mpf(float(v)) for v in g.values]
    reach = 40 * max(abs(float(s)) for s in g.slopes)

    def integrand(y):
        density = p(y)
        q = weight * mpmath.npdf(y, m1, sigma) + (1 - weight) * mpmath.npdf(y, m2, sigma)
        return density * mpmath.log(density / q) if density > 0 else mpmath.mpf(0)

    cuts = sorted({*values, mpmath.mpf(float(g(0.0))), mpmath.mpf(m1), mpmath.mpf(m2)})
    cuts = [cuts[0] - reach, *cuts, cuts[-1] + reach]
    points = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        points += mpmath.linspace(a, b, 5)[:-1]
    return mpmath.quad(integrand, [-mpmath.inf, *points, cuts[-1], mpmath.inf])


class _StudentTarget:
    """Student t law with 5 degrees of freedom and scale 1.5: ``pdf`` and ``cdf`` only (no ``logpdf``)."""

    law = stats.t(5, 0.0, 1.5)

    def pdf(self, y):
        return self.law.pdf(y)

    def cdf(self, y):
        return self.law.cdf(y)

    @staticmethod
    def mp_pdf(y):
        scale = mpmath.mpf(1.5)
        constant = mpmath.gamma(3) / (mpmath.sqrt(5 * mpmath.pi) * mpmath.gamma(mpmath.mpf(5) / 2) * scale)
        return constant * (1 + (y / scale) ** 2 / 5) ** -3


def test_scaled_latent_generic_target():
    # rho = g#N(0, 2^2) for a zigzag g: p(y) = sum over preimages z of phi(z / 2) / (2 |s_k|).
    g = PiecewiseLinearMap([-2.0, -0.5, 0.3, 1.0], [-4.0, 1.0, -1.0, 2.5], -1.0, 0.8)
    rho = g.pushforward(2.0)
    target = _StudentTarget()
    kl = kl_divergence(rho, target)
    tv = tv_distance(rho, target)
    with mpmath.workdps(25):
        p = _mp_model_density(g, scale=2)

        def kl_integrand(y):
            density = p(y)
            return density * mpmath.log(density / target.mp_pdf(y)) if density > 0 else mpmath.mpf(0)

        cuts = sorted({-4.0, 1.0, -1.0, 2.5, float(g(0.0)), *tv.crossings})
        points = [-mpmath.inf, -200, -40, *mpmath.linspace(cuts[0], cuts[-1], 60), *cuts, 40, 200, mpmath.inf]
        points = sorted(set(mpmath.mpf(x) for x in points))
        expected_kl = mpmath.quad(kl_integrand, points)
        expected_tv = mpmath.quad(lambda y: abs(p(y) - target.mp_pdf(y)) / 2, points)
    _assert_within_error(kl, float(expected_kl))
    _assert_within_error(tv, float(expected_tv))
    assert kl.error < 1e-11
    assert tv.error < 1e-11


def _mp_model_density(g, scale=1):
    """Density of g#N(0, scale^2) in mpmath: sum of phi(z / scale) / (scale |s_k|) over the preimages z."""
    knots = [mpmath.mpf(float(t)) for t in g.knots]
    values = [mpmath.mpf(float(v)) for v in g.values]
    slopes = [mpmath.mpf(float(g.left_slope))]
    slopes += [(values[k] - values[k - 1]) / (knots[k] - knots[k - 1]) for k in range(1, len(knots))]
    slopes += [mpmath.mpf(float(g.right_slope))]
    ends = [-mpmath.inf, *knots, mpmath.inf]

    def density(y):
        total = mpmath.mpf(0)
        for k, s in enumerate(slopes):
            anchor = max(k - 1, 0)
            z = knots[anchor] + (y - values[anchor]) / s
            if ends[k] <= z < ends[k + 1]:
                total += mpmath.npdf(z / scale) / (scale * abs(s))
        return total

    return density


# ----------------------------------------------------------------------
# The pieces of the quadrature.
# ----------------------------------------------------------------------

def test_gauss_kronrod_rule_degrees():
    # K15 integrates x^d exactly on [-1, 1] up to d = 23, G7 up to d = 13, and
    # both integrate every odd power exactly (to 0) by symmetry.
    nodes, kronrod, gauss = distances._NODES_15, distances._KRONROD_15, distances._GAUSS_7
    for degree in range(26):
        exact = 2.0 / (degree + 1) if degree % 2 == 0 else 0.0
        kronrod_error = abs(kronrod @ nodes**degree - exact)
        gauss_error = abs(gauss @ nodes**degree - exact)
        assert (kronrod_error < 1e-15) == (degree <= 23 or degree % 2 == 1), degree
        assert (gauss_error < 1e-15) == (degree <= 13 or degree % 2 == 1), degree
    np.testing.assert_allclose(nodes[1::2], np.polynomial.legendre.leggauss(7)[0], atol=1e-16)


def test_gauss_kronrod_integrates_gaussian_pieces():
    lo = np.array([-5.0, 0.0, 2.0, -40.0])
    hi = np.array([3.0, 1e-6, 37.0, 40.0])

    def integrand(y, seg):
        return np.exp(-0.5 * y * y) / math.sqrt(2 * math.pi) * (1 + seg)

    integrals, magnitudes, converged, _ = distances._gauss_kronrod(integrand, lo, hi, np.arange(4.0), 1e-12)
    with mpmath.workdps(30):
        masses = [float(mpmath.ncdf(b) - mpmath.ncdf(a)) for a, b in zip(lo, hi)]
    expected = np.array(masses) * (1 + np.arange(4.0))
    assert converged.all()
    np.testing.assert_allclose(integrals, expected, rtol=1e-14)
    np.testing.assert_allclose(magnitudes, expected, rtol=1e-14)


def test_kl_tail_bound_covers_tail():
    # Model N(0, 1), target N(0, 0.5^2): the cut is at +-37 and the tail is
    # 2 int_37^inf phi(y) log(phi(y) / q(y)) dy, about 2.4e-296.
    model = PiecewiseLinearMap([0.0], [0.0], 1.0, 1.0).pushforward()
    target = GaussianMixture([1.0], [0.0], 0.5)
    segments = distances._Segments(model, distances._extra_edges(target, None))
    assert segments.tail_cuts() == (-37.0, 37.0)
    with mpmath.workdps(30):
        tail = 2 * mpmath.quad(lambda y: mpmath.npdf(y) * mpmath.log(mpmath.npdf(y) / mpmath.npdf(y, 0, 0.5)), [37, 40, mpmath.inf])
    bound = distances._kl_tail_bound(segments, target)
    assert float(tail) <= bound
    assert bound < 1e3 * float(tail)


def test_tv_target_tail_beyond_cut():
    # Model N(0, 0.01^2) against N(0, 1): the model's cut is at +-0.37, and the
    # target mass beyond enters the quadrature check through its cdf. Closed
    # form with the crossings +-c: TV = erf(c / (a sqrt 2)) - erf(c / sqrt 2).
    a = 0.01
    c = math.sqrt(2 * math.log(1 / a) / (1 / a**2 - 1))
    expected = math.erf(c / (a * math.sqrt(2))) - math.erf(c / math.sqrt(2))
    result = tv_distance(PiecewiseLinearMap([0.0], [0.0], a, a), GaussianMixture([1.0], [0.0], 1.0))
    assert abs(result.value - expected) <= result.error
    assert result.error < 1e-12


# ----------------------------------------------------------------------
# Argument checks.
# ----------------------------------------------------------------------

@pytest.mark.parametrize("grid_size, error", [(0, ValueError), (-3, ValueError), (1, ValueError), (7, ValueError), ("a", TypeError), (8.0, TypeError), (True, TypeError), (None, TypeError)])
def test_tv_rejects_bad_grid_size(grid_size, error):
    with pytest.raises(error, match=rf"grid_size must be an integer >= 8, got grid_size={grid_size!r}"):
        tv_distance(FOLD, CLOSE_MODES, grid_size=grid_size)


def test_tv_smallest_grid_size_is_accurate():
    with mpmath.workdps(30):
        expected = _folded_tv()
    result = tv_distance(FOLD, CLOSE_MODES, grid_size=np.int64(8))
    assert abs(result.value - float(expected)) <= max(result.error, 1e-15)


@pytest.mark.parametrize("function", [tv_distance, kl_divergence])
@pytest.mark.parametrize("rtol, error", [(math.nan, ValueError), (-1e-3, ValueError), (0.0, ValueError), (1e-16, ValueError), (1.0, ValueError), (math.inf, ValueError), ("1e-9", TypeError), (True, TypeError), (None, TypeError)])
def test_rejects_bad_rtol(function, rtol, error):
    with pytest.raises(error, match=r"rtol must be a real number in \[1e-15, 1\), got rtol="):
        function(FOLD, CLOSE_MODES, rtol=rtol)


def test_map_methods_check_rtol():
    with pytest.raises(ValueError, match="rtol=nan"):
        FOLD.tv_distance(CLOSE_MODES, rtol=math.nan)
    with pytest.raises(ValueError, match="rtol=nan"):
        FOLD.kl_divergence(CLOSE_MODES, rtol=math.nan)


@pytest.mark.parametrize("rtol", [1e-15, 1e-6, np.float32(1e-3)])
def test_accepted_rtol_error_honest(rtol):
    with mpmath.workdps(30):
        expected = _folded_kl()
    result = kl_divergence(FOLD, CLOSE_MODES, rtol=rtol)
    assert abs(result.value - float(expected)) <= result.error


@pytest.mark.parametrize("name, position", [("left_slope", 2), ("right_slope", 3)])
@pytest.mark.parametrize("bad, error", [([1, 2], TypeError), ([1.0], TypeError), ("a", TypeError), (None, TypeError), (True, TypeError), (math.nan, ValueError), (math.inf, ValueError)])
def test_map_rejects_bad_slopes(name, position, bad, error):
    args = [[0.0], [0.0], 1.0, 1.0]
    args[position] = bad
    with pytest.raises(error, match=rf"{name} must be a finite real number \(a scalar\), got {name}="):
        PiecewiseLinearMap(*args)


def test_map_accepts_numpy_scalar_slopes():
    g = PiecewiseLinearMap([0.0], [0.0], np.float32(2.0), np.array(-0.5))
    assert g.left_slope == 2.0
    assert g.right_slope == -0.5
    assert g(-1.0) == -2.0
    assert g(2.0) == -1.0


def test_from_mlp_rejects_sequence_negative_slope():
    with pytest.raises(TypeError, match=r"negative_slope must be a finite real number \(a scalar\), got negative_slope=\[0.1, 0.2\]"):
        PiecewiseLinearMap.from_mlp([np.ones((2, 1)), np.ones((1, 2))], [np.zeros(2), np.zeros(1)], negative_slope=[0.1, 0.2])


@pytest.mark.parametrize("n, error", [(-1, ValueError), (2.5, TypeError), ("3", TypeError), (True, TypeError)])
def test_sample_rejects_bad_sizes(n, error):
    with pytest.raises(error, match=r"n must be a nonnegative integer number of samples"):
        FOLD.pushforward().sample(n, 0)


def test_nearly_equal_means_no_overflow():
    # Means 1e-245 apart put the switch between the components near y = 1e245. The map
    # sends all mass to [0, inf) with density phi(y) + phi(y / 19) / 19 >= phi(y) there, so
    # TV = (1/2)(1/2 + 1/2) = 1/2 to the (numerically) standard normal target.
    target = GaussianMixture([1 / 3, 2 / 3], [0.0, 1.28526618614e-245], 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = tv_distance(PiecewiseLinearMap([0.0], [0.0], -1.0, 19.0), target)
    assert abs(result.value - 0.5) <= max(result.error, 1e-13)
