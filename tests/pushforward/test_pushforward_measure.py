"""PushforwardMeasure: exact masses, distribution function, density and atoms."""

import mpmath
import numpy as np
import pytest
from scipy import integrate

import isobounds
from isobounds.pushforward import PiecewiseLinearMap
from isobounds.sets import HalfSpace, Interval, IntervalUnion

# A map with a fold, a flat piece (atom at 1.0) and unequal slopes.
FOLDED = PiecewiseLinearMap([-1.0, 0.0, 0.5, 1.5], [0.0, 2.0, 1.0, 1.0], 0.5, 3.0)


def test_mass_of_absolute_value_map():
    g = PiecewiseLinearMap([0.0], [0.0], -1.0, 1.0)
    rho = g.pushforward()
    with isobounds.precision(40):
        mass = rho.mass(Interval(0, "0.7"))
    with mpmath.workdps(60):
        # |Z| <= 0.7 has probability erf(0.7 / sqrt 2).
        expected = mpmath.erf(mpmath.mpf("0.7") / mpmath.sqrt(2))
        assert abs(mass - expected) < mpmath.mpf(10) ** -38


def test_mass_far_in_the_tail_is_exact():
    # g(z) = 2 z + 1, so rho([41, 43]) = Phi(21) - Phi(20), about 2.75e-89.
    g = PiecewiseLinearMap([0.0], [1.0], 2.0, 2.0)
    with isobounds.precision(30):
        mass = g.pushforward().mass(Interval(41, 43))
    with mpmath.workdps(80):
        expected = mpmath.ncdf(-20) - mpmath.ncdf(-21)
        assert abs(mass / expected - 1) < mpmath.mpf(10) ** -28


def _integrate_pdf(rho, a, b, kinks=(0.0, 1.0, 2.0)):
    """scipy.integrate.quad of the density over [a, b], split at the knot images."""
    ends = [a, *[k for k in kinks if a < k < b], b]
    return sum(integrate.quad(lambda y: float(rho.pdf(np.array([y]))[0]), lo, hi, limit=200, epsabs=1e-13)[0]
               for lo, hi in zip(ends[:-1], ends[1:]))


@pytest.mark.parametrize("r", ["1e-25", "1e-60", "1e-300", 5e-324])
def test_mass_of_thin_shell(r):
    # g(z) = 0.5 + 3.5 z on [-1, 0] and 0.5 + 1.5 z on [0, 1]: the shell of [-1, 1] at r has
    # the latent preimages [-3/7 - r/3.5, -3/7] and [1/3, 1/3 + r/1.5], whose two ends
    # used to round together once r fell below the working precision.
    g = PiecewiseLinearMap([-1.0, 0.0, 1.0], [-3.0, 0.5, 2.0], 0.5, 2.0)
    value = g.pushforward().mass(Interval(-1, 1).shell(r), dps=30)
    with mpmath.workdps(1500):
        width = mpmath.mpf(r)
        left = (mpmath.erfc((1.5 / mpmath.mpf(3.5)) / mpmath.sqrt(2))
                - mpmath.erfc((1.5 + width) / 3.5 / mpmath.sqrt(2))) / 2
        right = (mpmath.erfc((mpmath.mpf(0.5) / 1.5) / mpmath.sqrt(2))
                 - mpmath.erfc((0.5 + width) / 1.5 / mpmath.sqrt(2))) / 2
        expected = left + right
        assert abs(value / expected - 1) < mpmath.mpf(10) ** -28


def test_mass_with_knot_beyond_float64():
    # g(z) = 1e200 (z - 1e200), so rho([0, 1]) is the N(0, 1) mass of [1e200, 1e200 + 1e-200],
    # about phi(1e200) 1e-200; its logarithm is -x^2/2 - log(sqrt(2 pi)) - 200 log(10).
    g = PiecewiseLinearMap([1e200], [0.0], 1e200, 1e200)
    value = g.pushforward().mass((0.0, 1.0))
    with mpmath.workdps(60):
        x = mpmath.mpf(1e200)
        expected_log = -x**2 / 2 - mpmath.log(mpmath.sqrt(2 * mpmath.pi)) + mpmath.log(mpmath.mpf(1e-200) / mpmath.mpf(1e200) * x)
        assert value > 0
        assert abs(mpmath.log(value) / expected_log - 1) < mpmath.mpf(10) ** -25


def test_mass_against_integrated_density_and_atoms():
    rho = FOLDED.pushforward()
    for a, b in [(-3.0, 0.5), (0.2, 1.0), (0.9, 1.1), (1.0, 2.5), (1.5, 9.0), (-np.inf, np.inf)]:
        density_part = _integrate_pdf(rho, a, b)
        atom_part = sum(float(m) for x, m in rho.atoms if a <= x <= b)
        assert float(rho.mass(Interval(a, b))) == pytest.approx(density_part + atom_part, abs=1e-10)


def test_mass_against_monte_carlo():
    rho = FOLDED.pushforward()
    rng = np.random.default_rng(0)
    samples = rho.sample(400_000, rng)
    for a, b in [(0.0, 1.0), (1.0, 1.0), (0.5, 1.7), (1.2, 3.0)]:
        frequency = np.mean((samples >= a) & (samples <= b))
        error_bar = np.sqrt(frequency * (1 - frequency) / samples.size)
        assert abs(float(rho.mass(Interval(a, b))) - frequency) < 5 * error_bar + 1e-12


def test_atom_of_flat_piece():
    rho = FOLDED.pushforward()
    (location, mass), = rho.atoms
    assert location == 1.0
    with mpmath.workdps(50):
        # The flat piece [0.5, 1.5] carries Phi(1.5) - Phi(0.5).
        assert abs(mass - (mpmath.ncdf(1.5) - mpmath.ncdf(0.5))) < mpmath.mpf(10) ** -28


def test_open_end_excludes_atom():
    rho = FOLDED.pushforward()
    closed = rho.mass(Interval(1.0, 1.5))
    opened = rho.mass(Interval(1.0, 1.5, left_closed=False))
    atom = rho.atoms[0][1]
    with mpmath.workdps(40):
        assert abs(closed - opened - atom) < mpmath.mpf(10) ** -28


def test_interval_union_and_half_space():
    rho = FOLDED.pushforward()
    union = IntervalUnion([Interval(-2, 0.3), Interval(1.2, 4)])
    with mpmath.workdps(40):
        assert abs(rho.mass(union) - rho.mass(Interval(-2, 0.3)) - rho.mass(Interval(1.2, 4))) < mpmath.mpf(10) ** -28
        assert abs(rho.mass(HalfSpace([1.0], 0.8)) - rho.cdf(0.8)) < mpmath.mpf(10) ** -28


def test_cdf_and_sf_sum_to_one():
    rho = FOLDED.pushforward()
    for y in [-4.0, 0.0, 1.0, 1.7, 6.0]:
        with mpmath.workdps(40):
            assert abs(rho.cdf(y) + rho.sf(y) - 1) < mpmath.mpf(10) ** -28


def test_cdf_array_matches_scalar():
    rho = FOLDED.pushforward()
    y = np.linspace(-5, 8, 53)
    expected = np.array([float(rho.cdf(float(t))) for t in y])
    np.testing.assert_allclose(rho.cdf(y), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(rho.sf(y), 1 - expected, rtol=0, atol=1e-15)


def test_pdf_is_derivative_of_cdf():
    rho = FOLDED.pushforward()
    for y in [-0.7, 0.3, 1.6, 2.4, 5.0]:
        # Central difference of the exact cdf at 60 digits, step 1e-12
        # (truncation error about 1e-24 relative).
        with mpmath.workdps(60):
            h = mpmath.mpf("1e-12")
            derivative = (rho.cdf(y + h, dps=60) - rho.cdf(y - h, dps=60)) / (2 * h)
        assert float(rho.pdf(np.array([y]))[0]) == pytest.approx(float(derivative), rel=1e-9)


def test_pdf_integrates_to_continuous_mass():
    rho = FOLDED.pushforward()
    total = _integrate_pdf(rho, -np.inf, np.inf)
    assert total == pytest.approx(1 - float(rho.atom_mass()), abs=1e-10)


def test_scale_of_latent_gaussian():
    g = PiecewiseLinearMap([0.0], [0.0], 1.0, 1.0)
    rho = g.pushforward(scale=3.0)
    with mpmath.workdps(50):
        expected = mpmath.ncdf(2 / mpmath.mpf(3)) - mpmath.ncdf(-1 / mpmath.mpf(3))
        assert abs(rho.mass(Interval(-1, 2)) - expected) < mpmath.mpf(10) ** -28


@pytest.mark.parametrize("region, error", [((2.0, 1.0), ValueError), ("abc", TypeError), ((0.0, np.nan), ValueError)])
def test_invalid_region_raises(region, error):
    with pytest.raises(error, match="region"):
        FOLDED.pushforward().mass(region)


@pytest.mark.parametrize("region, error, match", [
    ([(0, 1, 2)], ValueError, r"region=\(0, 1, 2\) with 3 entries"),
    ((0, 1, 2), ValueError, r"region=\(0, 1, 2\) with 3 entries"),
    ([(0, 1), 3], TypeError, r"entry 3 in region=\[\(0, 1\), 3\]"),
])
def test_invalid_region_message_names_region(region, error, match):
    with pytest.raises(error, match=match):
        FOLDED.pushforward().mass(region)


def test_pdf_next_to_knot_image():
    # Knot t = 1.4588 with value v = -3.08e-27, slope -2.67 on its left and a
    # flat piece on its right. The preimage of y = -1e-132 lies about 1.2e-27
    # left of the knot, which rounds onto the knot in float64. The density
    # there is phi(z / s) / (s |slope|), and the flat piece adds none.
    knot, value, slope, scale = 1.45877263, -3.07837274e-27, -2.66836831, 284.71691119399304
    g = PiecewiseLinearMap([knot], [value], slope, 0.0)
    y = -1.0195441188829216e-132
    with mpmath.workdps(60):
        z = mpmath.mpf(knot) + (mpmath.mpf(y) - mpmath.mpf(value)) / mpmath.mpf(slope)
        assert z < knot
        expected = mpmath.npdf(z / scale) / (scale * abs(mpmath.mpf(slope)))
    assert float(g.pushforward(scale=scale).pdf(np.array([y]))[0]) == pytest.approx(float(expected), rel=1e-14)


def _reference_pdf(g, y):
    """Density of g#N(0,1) at y from the exact preimages at 700 digits, each piece on its half-open [t_{k-1}, t_k).

    700 digits resolve a preimage 1e-300 from a knot of order 1.
    """
    with mpmath.workdps(700):
        knots = [mpmath.mpf(float(t)) for t in g.knots]
        values = [mpmath.mpf(float(v)) for v in g.values]
        lower = [-mpmath.inf] + knots
        upper = knots + [mpmath.inf]
        anchors = [(knots[0], values[0])] + list(zip(knots, values))
        slopes = [mpmath.mpf(g.left_slope)]
        slopes += [(values[k] - values[k - 1]) / (knots[k] - knots[k - 1]) for k in range(1, len(knots))]
        slopes += [mpmath.mpf(g.right_slope)]
        total = mpmath.mpf(0)
        for lo, hi, (t, v), slope in zip(lower, upper, anchors, slopes):
            if slope != 0:
                z = t + (mpmath.mpf(y) - v) / slope
                if lo <= z < hi:
                    total += mpmath.npdf(z) / abs(slope)
        return float(total)


@pytest.mark.parametrize("offset", [0.0, -1e-30, 1e-30, -1e-300, 1e-300, -1e-12, 1e-12])
def test_pdf_at_and_beside_knot_images(offset):
    # At the image of a knot the piece whose half-open [t_{k-1}, t_k) contains
    # the preimage counts; beside it, every piece with a preimage counts.
    rho = FOLDED.pushforward()
    for image in [0.0, 1.0, 2.0]:
        y = image + offset
        assert float(rho.pdf(np.array([y]))[0]) == pytest.approx(_reference_pdf(FOLDED, y), rel=1e-12), y


def test_invalid_scale_raises():
    with pytest.raises(ValueError, match="scale"):
        FOLDED.pushforward(scale=-1.0)
