"""Edge cases of from_mlp, PiecewiseLinearMap and the distances at the limits of float64.

The references are closed forms (Gaussian masses and entropies), scipy.integrate.quad
on densities written out from the network weights by hand, and torch's forward pass.
"""

import doctest
import math
import warnings

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import ndtr
from scipy.stats import norm

import isobounds.pushforward
from isobounds.measures import GaussianMixture
from isobounds.pushforward import PiecewiseLinearMap, from_mlp, kl_divergence, tv_distance
from isobounds.pushforward import distances, measure, piecewise

STANDARD = GaussianMixture([1.0], [0.0], [1.0])

# A ReLU net whose two hidden units are both off on (x2, x1): a flat piece in the middle.
DEAD_W = [np.array([[2.20201485], [-1.65369372]]), np.array([[0.10794165, 2.5864724]])]
DEAD_B = [np.array([-2.80846365, -2.45676798]), np.array([-1.8656577])]


def test_dead_zone_gives_exact_atom():
    g = from_mlp(DEAD_W, DEAD_B)
    flat_mass = ndtr(2.80846365 / 2.20201485) - ndtr(-2.45676798 / 1.65369372)

    assert g.slopes[1] == 0.0
    atoms = g.pushforward().atoms
    assert len(atoms) == 1
    assert atoms[0][0] == pytest.approx(-1.8656577, abs=1e-15)
    assert float(atoms[0][1]) == pytest.approx(flat_mass, rel=1e-12)
    assert math.isinf(kl_divergence(g, GaussianMixture([1.0], [-1.8656577], [1.0])).value)


def test_dead_zone_tv_matches_quad():
    target = GaussianMixture([1.0], [-1.8656577], [1.0])
    # The net by hand: g = c + a1 (z - x1) on z > x1, c + a2 (z - x2) on z < x2, c between.
    (w1, w2), (b1, b2) = DEAD_W[0][:, 0], DEAD_B[0]
    (u1, u2), c = DEAD_W[1][0], DEAD_B[1][0]
    x1, x2 = -b1 / w1, -b2 / w2
    a1, a2 = u1 * w1, u2 * w2

    def model_density(y):
        return norm.pdf(x1 + (y - c) / a1) / abs(a1) + norm.pdf(x2 + (y - c) / a2) / abs(a2)

    def excess(y):
        return max(model_density(y) - norm.pdf(y, loc=c), 0.0)

    continuous, _ = quad(excess, c, c + 60.0, epsabs=1e-14, epsrel=1e-12, limit=400)
    expected = ndtr(x1) - ndtr(x2) + continuous
    result = tv_distance(from_mlp(DEAD_W, DEAD_B), target)
    assert result.value == pytest.approx(expected, abs=1e-9)
    assert result.error < 1e-8


def test_piece_two_spacings_wide():
    g = PiecewiseLinearMap([-1.0, 1.0], [3.0, 3.0 + 1e-15], 1.0, 1.0)
    target = GaussianMixture([1.0], [3.0], [1.0])
    inner = ndtr(1.0) - ndtr(-1.0)
    phi_1 = norm.pdf(1.0)
    slope = (3.0 + 1e-15 - 3.0) / 2.0

    # TV: the outer pieces are N(4, 1) on y < 3 and N(2, 1) on y > 3, both
    # below the target N(3, 1) there, so only the narrow piece counts.
    tv = tv_distance(g, target)
    assert tv.value == pytest.approx(inner, abs=1e-13)
    assert abs(tv.value - inner) <= tv.error + 1e-15

    # KL: int_{-1}^{1} phi (log phi - log slope - log phi(0)) plus the outer parts, in closed form.
    exact = -0.5 * inner - phi_1 + ndtr(-1.0) - inner * math.log(slope)
    kl = kl_divergence(g, target)
    assert kl.value == pytest.approx(exact, rel=1e-10)
    assert abs(kl.value - exact) <= kl.error + 1e-12 * exact


def test_kink_beyond_two_to_53():
    weights = [np.array([[1.3060512886296992e-16]]), np.array([[1.0]])]
    biases = [np.array([6.26955273239182]), np.array([0.0])]
    g = from_mlp(weights, biases)
    x = np.array([-10.0, 0.0, 10.0])
    expected = np.maximum(1.3060512886296992e-16 * x + 6.26955273239182, 0.0)
    np.testing.assert_allclose(g(x), expected, rtol=1e-15)
    assert g.slopes[-1] == pytest.approx(1.3060512886296992e-16, rel=1e-12)


@pytest.mark.parametrize("slope", [1e-303, 1e-300, 1e-100, 1e100])
def test_extreme_slopes_kl_closed_form(slope):
    g = PiecewiseLinearMap([0.0], [0.0], slope, slope)
    exact = -math.log(slope) + 0.5 * slope**2 - 0.5  # KL(N(0, s^2) || N(0, 1))
    result = kl_divergence(g, STANDARD)
    assert result.value == pytest.approx(exact, rel=1e-12)


@pytest.mark.parametrize("slope", [1e-303, 1e-300, 1e300])
def test_extreme_slopes_tv_closed_form(slope):
    g = PiecewiseLinearMap([0.0], [0.0], slope, slope)
    # N(0, s^2) and N(0, 1) cross at +-y with y^2 = 2 s^2 log(s) / (s^2 - 1); TV = 2 |Phi(y / s) - Phi(y)|.
    # Computed in logarithms, the crossing is near 37 s for s = 1e-300 and near 1590 for s = 1e300.
    log_s = math.log(slope)
    if slope < 1:
        y_over_s = math.sqrt(2 * log_s / (slope**2 - 1))
        exact = 2 * (ndtr(y_over_s) - ndtr(y_over_s * slope))
    else:
        y = math.sqrt(2 * log_s / (1 - slope**-2))
        exact = 2 * (ndtr(y) - ndtr(y / slope))
    result = tv_distance(g, STANDARD)
    assert result.value == pytest.approx(exact, abs=1e-12)
    assert result.error < 1e-10


def test_merged_step_warns():
    weights = [np.array([[1.0], [1.0]]), np.array([[1e20, -1e20]])]
    biases = [np.array([0.0, -1e-16]), np.array([0.0])]
    # The net is 0 for x < 0 and 1e20 * 1e-16 = 1e4 for x > 1e-16.
    with pytest.warns(RuntimeWarning, match="merged breakpoints"):
        from_mlp(weights, biases)


def test_close_roots_without_step_do_not_warn():
    weights = [np.array([[1.0], [1.0]]), np.array([[1.0, 1.0]])]
    biases = [np.array([0.0, -1e-16]), np.array([0.0])]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        g = from_mlp(weights, biases)
    np.testing.assert_allclose(g([-1.0, 1.0]), [0.0, 2.0 - 1e-16], rtol=1e-15)


def test_flat_outer_pieces_at_infinity():
    g = PiecewiseLinearMap([-1.0, 1.0], [-1.0, 1.0], 0.0, 0.0)
    np.testing.assert_array_equal(g(np.array([-np.inf, np.inf])), [-1.0, 1.0])
    assert g(np.inf) == 1.0


def test_repr_rebuilds_map():
    g = PiecewiseLinearMap([-1.0, 0.1, 1.0 / 3.0], [3.0, 3.0 + 1e-15, -2.5], 1e-300, -7.0)
    rebuilt = eval(repr(g), {"PiecewiseLinearMap": PiecewiseLinearMap})
    np.testing.assert_array_equal(rebuilt.knots, g.knots)
    np.testing.assert_array_equal(rebuilt.values, g.values)
    assert (rebuilt.left_slope, rebuilt.right_slope) == (g.left_slope, g.right_slope)


BIASES = [np.zeros(2), np.zeros(1)]


@pytest.mark.parametrize(
    ("weights", "error", "pattern"),
    [
        ([np.array([[1j], [1.0]]), np.ones((1, 2))], TypeError, r"weights\[0\] must be an array of real numbers"),
        ("abc", TypeError, "weights must be a sequence"),
        ([[[1.0], [1.0, 2.0]], np.ones((1, 2))], ValueError, r"weights\[0\] must be a rectangular array"),
        ([np.array([[1e200], [1.0]]), np.array([[1e200, 1.0]])], ValueError, "weights and biases must keep"),
    ],
)
def test_from_mlp_rejects_invalid_weights(weights, error, pattern):
    with pytest.raises(error, match=pattern):
        from_mlp(weights, BIASES)


def test_from_mlp_detaches_tensors_with_grad():
    torch = pytest.importorskip("torch")
    weights = [torch.tensor([[1.0], [-1.0]], dtype=torch.float64, requires_grad=True), torch.tensor([[1.0, 2.0]], dtype=torch.float64, requires_grad=True)]
    biases = [torch.zeros(2, dtype=torch.float64, requires_grad=True), torch.zeros(1, dtype=torch.float64, requires_grad=True)]
    g = from_mlp(weights, biases)
    np.testing.assert_array_equal(g([-1.0, 1.0]), [2.0, 1.0])  # relu(x) + 2 relu(-x)


@pytest.mark.parametrize("scale", ["1", b"1", True])
def test_pushforward_rejects_non_numeric_scale(scale):
    g = PiecewiseLinearMap([0.0], [0.0], 1.0, 1.0)
    with pytest.raises(TypeError, match="scale must be a positive real number"):
        g.pushforward(scale=scale)


@pytest.mark.parametrize("module", [distances, measure, piecewise, isobounds.pushforward])
def test_docstring_examples_run(module):
    failures, attempted = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert attempted > 0
    assert failures == 0
