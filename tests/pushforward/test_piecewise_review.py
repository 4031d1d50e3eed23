"""Review of from_mlp, PushforwardMeasure and RidgeMap against computations written out here.

The references are exact forward passes in rationals (fractions.Fraction) for
networks with small integer weights and mpmath sums of Gaussian masses over the
pieces of the map. Others are scipy quadrature of the density plus the atoms
of the flat pieces, and Monte Carlo frequencies with their standard errors.
"""

import tracemalloc
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from scipy import integrate

from isobounds.pushforward import PiecewiseLinearMap, RidgeMap

# Negative slopes of the activation: ReLU, the LeakyReLU(0.2) of Salmona et
# al. (2022), a negative slope and one above 1 (a non-monotone activation).
NEGATIVE_SLOPES = [Fraction(0), Fraction(1, 5), Fraction(-1, 2), Fraction(3, 2)]


def exact_network(weights, biases, negative_slope, x):
    """Forward pass of the MLP at the rational point ``x`` in exact rational arithmetic."""
    features = [Fraction(x)]
    for k, (w, b) in enumerate(zip(weights, biases)):
        out = []
        for i in range(w.shape[0]):
            total = Fraction(int(b[i]))
            for j in range(w.shape[1]):
                total += Fraction(int(w[i, j])) * features[j]
            out.append(total)
        if k < len(weights) - 1:
            out = [u if u >= 0 else negative_slope * u for u in out]
        features = out
    return features[0]


def random_integer_mlp(rng):
    """Return ``(weights, biases)`` of an MLP with 1 to 3 hidden layers of width 1 to 5 and integer entries in [-4, 4]."""
    depth = int(rng.integers(2, 5))
    widths = [1, *rng.integers(1, 6, size=depth - 1), 1]
    weights = [rng.integers(-4, 5, size=(widths[i + 1], widths[i])).astype(float) for i in range(depth)]
    biases = [rng.integers(-4, 5, size=widths[i + 1]).astype(float) for i in range(depth)]
    return weights, biases


def gaussian_mass_of_preimage(knots, values, left_slope, right_slope, scale, a, b):
    """Return N(0, scale^2) of ``{z : a <= g(z) <= b}``, summed piece by piece with mpmath at 40 digits."""
    with mpmath.workdps(40):
        return _gaussian_mass_of_preimage(knots, values, left_slope, right_slope, scale, a, b)


def _gaussian_mass_of_preimage(knots, values, left_slope, right_slope, scale, a, b):
    t = [mpmath.mpf(float(x)) for x in knots]
    v = [mpmath.mpf(float(x)) for x in values]
    pieces = [(-mpmath.inf, t[0], t[0], v[0], mpmath.mpf(left_slope))]
    for k in range(1, len(t)):
        pieces.append((t[k - 1], t[k], t[k - 1], v[k - 1], (v[k] - v[k - 1]) / (t[k] - t[k - 1])))
    pieces.append((t[-1], mpmath.inf, t[-1], v[-1], mpmath.mpf(right_slope)))

    a, b, s = mpmath.mpf(a), mpmath.mpf(b), mpmath.mpf(scale)
    total = mpmath.mpf(0)
    for lower, upper, anchor, value, slope in pieces:
        if slope == 0:
            if a <= value <= b:
                total += mpmath.ncdf(upper / s) - mpmath.ncdf(lower / s)
            continue
        ends = [anchor + (y - value) / slope if mpmath.isfinite(y) else y * mpmath.sign(slope) for y in (a, b)]
        lo, hi = max(lower, min(ends)), min(upper, max(ends))
        if lo < hi:
            total += mpmath.ncdf(hi / s) - mpmath.ncdf(lo / s)
    return total


# ----------------------------------------------------------------------
# from_mlp against exact rational forward passes.
# ----------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(4))
def test_from_mlp_matches_exact_rational_network(seed):
    rng = np.random.default_rng(seed)
    for trial in range(12):
        weights, biases = random_integer_mlp(rng)
        negative_slope = NEGATIVE_SLOPES[trial % len(NEGATIVE_SLOPES)]
        g = PiecewiseLinearMap.from_mlp(weights, biases, float(negative_slope))

        # The values at the knots are those of the network.
        for t, v in zip(g.knots, g.values):
            expected = exact_network(weights, biases, negative_slope, float(t))
            assert v == pytest.approx(float(expected), rel=1e-12, abs=1e-12)

        # Each piece is linear with the slope of the network: the exact
        # difference quotient between its ends (or over a unit step for the
        # unbounded pieces) equals the slope, and so does the one between
        # its first and second thirds.
        lower, upper = g.piece_bounds()
        exact_slopes = []
        for k in range(g.n_pieces):
            lo = Fraction(float(lower[k])) if np.isfinite(lower[k]) else Fraction(float(upper[k])) - 1
            hi = Fraction(float(upper[k])) if np.isfinite(upper[k]) else Fraction(float(lower[k])) + 1
            whole = (exact_network(weights, biases, negative_slope, hi) - exact_network(weights, biases, negative_slope, lo)) / (hi - lo)
            third = (hi - lo) / 3
            inner = (exact_network(weights, biases, negative_slope, lo + 2 * third)
                     - exact_network(weights, biases, negative_slope, lo + third)) / third
            assert float(whole) == pytest.approx(float(inner), rel=1e-12, abs=1e-12)
            assert g.slopes[k] == pytest.approx(float(whole), rel=1e-9, abs=1e-12)
            exact_slopes.append(abs(whole))

        assert float(g.lipschitz_constant()) == pytest.approx(float(max(exact_slopes)), rel=1e-12, abs=1e-12)


# ----------------------------------------------------------------------
# Masses, distribution function, density and atoms.
# ----------------------------------------------------------------------

def test_mass_cdf_and_density_with_atoms():
    # Random maps with flat pieces: integer values repeat, and the unbounded
    # pieces are often flat. The mass of [a, b] must equal the mpmath sum
    # over pieces, and the integral of the density plus the atoms in [a, b].
    rng = np.random.default_rng(11)
    for trial in range(25):
        n = int(rng.integers(1, 7))
        knots = np.sort(rng.uniform(-3.0, 3.0, n))
        values = rng.integers(-2, 3, n).astype(float)
        left_slope, right_slope = (float(s) for s in rng.choice([0.0, -1.0, 0.5, 2.0], size=2))
        scale = float(rng.choice([0.5, 1.0, 3.0]))
        rho = PiecewiseLinearMap(knots, values, left_slope, right_slope).pushforward(scale)

        a, b = sorted(rng.uniform(-3.0, 3.0, 2))
        if trial % 3 == 0:
            a = float(values[0])  # an end on a possible atom
        a, b = min(a, b), max(a, b)
        expected = gaussian_mass_of_preimage(knots, values, left_slope, right_slope, scale, a, b)
        assert abs(rho.mass((a, b), dps=30) - expected) < mpmath.mpf("1e-28")

        atoms = sum(float(mass) for location, mass in rho.atoms if a <= location <= b)
        edges = [a, *sorted({float(v) for v in values if a < v < b}), b]
        density = sum(integrate.quad(lambda y: float(rho.pdf(y)), lo, hi, epsabs=1e-13, limit=200)[0]
                      for lo, hi in zip(edges[:-1], edges[1:]))
        assert density + atoms == pytest.approx(float(expected), abs=1e-11)

        below = gaussian_mass_of_preimage(knots, values, left_slope, right_slope, scale, -mpmath.inf, b)
        assert float(rho.cdf(b)) == pytest.approx(float(below), abs=1e-15)
        assert rho.cdf(np.array([b]))[0] == pytest.approx(float(below), abs=1e-14)


def test_cdf_sf_and_mass_at_infinite_ends():
    # The empty subsets {y <= -inf} and {y > inf} of R have mass 0. The
    # preimage on a piece used to take an infinite lower end as -inf and an
    # infinite upper end as +inf, so cdf(-inf) and sf(inf) were
    # Phi(1) = 0.841 for this map instead of 0.
    g = PiecewiseLinearMap([0.0, 1.0], [0.0, 1.0], 1.0, 0.0)  # an atom at 1 of mass 1 - Phi(1)
    rho = g.pushforward()

    assert rho.cdf(-np.inf) == 0
    assert rho.sf(np.inf) == 0
    assert rho.mass((-np.inf, -np.inf)) == 0
    assert rho.mass((np.inf, np.inf)) == 0
    assert rho.preimage((-np.inf, -np.inf)) == []
    assert rho.cdf(np.inf) == 1
    assert rho.sf(-np.inf) == 1
    np.testing.assert_array_equal(rho.cdf(np.array([-np.inf, np.inf])), [0.0, 1.0])
    np.testing.assert_array_equal(rho.sf(np.array([-np.inf, np.inf])), [1.0, 0.0])
    assert abs(rho.mass((1.0, np.inf)) - (1 - mpmath.ncdf(1))) < mpmath.mpf("1e-14")


def test_float64_paths_do_not_warn_on_overflowing_preimages():
    # With slope 1e-100 on (-inf, 0], the preimage of y = -1e100 is -1e200,
    # whose square and (for y = -1e300) the preimage itself overflow float64.
    # The values are still right, but numpy warned about the overflow.
    rho = PiecewiseLinearMap([0.0], [0.0], 1e-100, 1.0).pushforward()
    y = np.array([-1e300, -1e100, -1e-100, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pdf, cdf, sf = rho.pdf(y), rho.cdf(y), rho.sf(y)

    expected_cdf = [0.0, 0.0, float(mpmath.ncdf(-1)), float(mpmath.ncdf(1))]
    expected_pdf = [0.0, 0.0, float(mpmath.npdf(-1) * mpmath.mpf(10) ** 100), float(mpmath.npdf(1))]
    np.testing.assert_allclose(cdf, expected_cdf, rtol=1e-14)
    np.testing.assert_allclose(sf, 1.0 - np.array(expected_cdf), rtol=1e-14)
    np.testing.assert_allclose(pdf, expected_pdf, rtol=1e-13)


def test_density_and_cdf_memory_stays_bounded():
    # A sawtooth of 1001 pieces evaluated at 3000 points. With all (point,
    # piece) pairs at once the peak was about 200 MB for pdf and 560 MB for
    # cdf and sf, and 650 MB and 1.9 GB at 2001 pieces and 5000 points.
    # The values are checked against sums over the pieces written out here.
    knots = np.linspace(-5.0, 5.0, 1000)
    values = np.sin(7.0 * knots)
    rho = PiecewiseLinearMap(knots, values, 1.0, 1.0).pushforward()
    y = np.linspace(-2.0, 2.0, 3000)

    results = {}
    for name in ("pdf", "cdf", "sf"):
        tracemalloc.start()
        results[name] = getattr(rho, name)(y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert results[name].shape == y.shape
        assert peak < 50e6, f"{name} peak {peak / 1e6:.0f} MB"

    slopes = np.concatenate([[1.0], np.diff(values) / np.diff(knots), [1.0]])
    lower = np.concatenate([[-np.inf], knots])
    upper = np.concatenate([knots, [np.inf]])
    anchor_t = np.concatenate([knots[:1], knots])
    anchor_v = np.concatenate([values[:1], values])
    for i in [0, 1500, 2400]:
        z = anchor_t + (y[i] - anchor_v) / slopes
        inside = (z >= lower) & (z < upper)
        density = np.sum(np.exp(-0.5 * z[inside] ** 2) / np.sqrt(2 * np.pi) / np.abs(slopes[inside]))
        assert results["pdf"][i] == pytest.approx(density, rel=1e-12)
        below = gaussian_mass_of_preimage(knots, values, 1.0, 1.0, 1.0, -mpmath.inf, y[i])
        assert results["cdf"][i] == pytest.approx(float(below), abs=1e-13)
        assert results["sf"][i] == pytest.approx(float(1 - below), abs=1e-13)


# ----------------------------------------------------------------------
# Ridge maps: the latent dimension reduces to the norm of the direction.
# ----------------------------------------------------------------------

def test_ridge_mass_with_atoms_against_monte_carlo():
    # g(z) = clip(<w, z>, -1, 1) for Z ~ N(0, I_5): atoms at -1 and 1 of mass
    # Phi(-1 / |w|) each, and N(0, |w|^2) mass in between.
    direction = np.array([1.0, -2.0, 0.5, 3.0, 0.1])
    g = RidgeMap(direction, PiecewiseLinearMap([-1.0, 1.0], [-1.0, 1.0], 0.0, 0.0))
    rho = g.pushforward()
    norm = mpmath.sqrt(mpmath.fsum(mpmath.mpf(float(x)) ** 2 for x in direction))

    samples = g(np.random.default_rng(3).standard_normal((200_000, direction.size)))
    for a, b in [(1.0, 1.0), (-1.0, -1.0), (-0.5, 0.3), (-1.0, 0.0)]:
        lo = -mpmath.inf if a == -1.0 else a / norm
        hi = mpmath.inf if b == 1.0 else b / norm
        exact = mpmath.ncdf(hi) - mpmath.ncdf(lo) if a < b else mpmath.ncdf(-1 / norm)
        assert abs(rho.mass((a, b)) - exact) < mpmath.mpf("1e-14")
        frequency = np.mean((samples >= a) & (samples <= b))
        error = np.sqrt(float(exact) * (1 - float(exact)) / samples.size)
        assert abs(frequency - float(exact)) < 5 * error


# ----------------------------------------------------------------------
# Invalid inputs.
# ----------------------------------------------------------------------

def test_none_entries_raise_type_error():
    # numpy turns None into NaN, which was reported as "knots must not contain NaN".
    with pytest.raises(TypeError, match=r"knots must be an array of real numbers, got None"):
        PiecewiseLinearMap([None, 1.0], [0.0, 1.0], 0.0, 0.0)
    with pytest.raises(TypeError, match=r"weights\[1\] must be an array of real numbers, got None"):
        PiecewiseLinearMap.from_mlp([np.ones((2, 1)), [[1.0, None]]], [np.zeros(2), np.zeros(1)])


def test_from_mlp_wiring_types_named():
    weights, biases = [np.ones((3, 1)), np.ones((1, 3))], [np.zeros(3), np.zeros(1)]
    with pytest.raises(TypeError, match=r"inputs\[1\] must contain integer feature indices, got 0\.5"):
        PiecewiseLinearMap.from_mlp(weights, biases, inputs=[[0], [0.5]])
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a list of integer feature indices, got inputs\[1\]=1"):
        PiecewiseLinearMap.from_mlp(weights, biases, inputs=[[0], 1])
    with pytest.raises(TypeError, match=r"adds\[0\] must contain integer feature indices, got True"):
        PiecewiseLinearMap.from_mlp(weights, biases, inputs=[[0], [1]], adds=[[True], []])
    with pytest.raises(TypeError, match=r"weights must be a sequence of 2-D arrays, one per layer, got weights of type dict"):
        PiecewiseLinearMap.from_mlp({"w1": weights[0], "w2": weights[1]}, biases)

    # numpy integers are valid feature indices.
    g = PiecewiseLinearMap.from_mlp(weights, biases, inputs=[[np.int64(0)], [np.int64(1)]])
    assert g(2.0) == 6.0
