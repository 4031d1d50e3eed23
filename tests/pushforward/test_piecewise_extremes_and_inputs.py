"""Review of PiecewiseLinearMap, from_mlp and RidgeMap at the edges of float64 and of their inputs.

The references are exact rationals (fractions.Fraction of the float64 inputs),
closed-form Gaussian masses, float64 forward passes written out by hand,
Monte Carlo frequencies with their error bars, and brute-force difference
quotients on a fine grid.
"""

import math
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from scipy.special import ndtr

from isobounds.pushforward import PiecewiseLinearMap, RidgeMap, from_mlp, tv_distance
from isobounds.measures import GaussianMixture
from isobounds.testing import piecewise_linear_maps

QUICK = settings(max_examples=40, database=None, deadline=None, suppress_health_check=list(HealthCheck))


# ----------------------------------------------------------------------
# Slopes between knots beyond the float64 range.
# ----------------------------------------------------------------------

def test_slope_below_normal_range_raises():
    # The exact slope 5e-324 / 4 is about 1.2e-324, and its float64 value was 0.
    # The float64 paths then saw a flat piece (an atom at 0 of mass Phi(4) - 1/2),
    # while the exact quantities saw a moving piece.
    exact = (Fraction(5e-324) - Fraction(0.0)) / (Fraction(4.0) - Fraction(0.0))
    assert 0 < exact < Fraction(np.finfo(np.float64).tiny)
    with pytest.raises(ValueError, match=r"values must give slopes of magnitude 0 or at least .*knots\[0\]=0\.0 and knots\[1\]=4\.0"):
        PiecewiseLinearMap([0.0, 4.0], [0.0, 5e-324], 1.0, 1.0)


def test_equal_values_still_give_flat_piece():
    g = PiecewiseLinearMap([0.0, 4.0], [5e-324, 5e-324], 1.0, 1.0)
    assert g.slopes[1] == 0.0
    assert float(g.pushforward().atoms[0][1]) == pytest.approx(ndtr(4.0) - 0.5, rel=1e-14)


def test_overflowing_differences_give_exact_slopes():
    # t_1 - t_0 = 2e308 and v_1 - v_0 = 2e308 overflow float64, but the slope is 1.
    g = PiecewiseLinearMap([-1e308, 1e308], [-1e308, 1e308], 1.0, 1.0)
    assert g.slopes[1] == 1.0

    # Here only the knot gap overflows: the float64 quotient was 1e300 / inf = 0.
    h = PiecewiseLinearMap([-1e308, 1e308], [0.0, 1e300], 2.0, 2.0)
    exact = (Fraction(1e300) - Fraction(0.0)) / (Fraction(1e308) - Fraction(-1e308))
    assert h.slopes[1] == float(exact)
    # {h <= y} for y = 1e300 / 2 is z <= 0 (up to the mass below -1e308):
    # exactly 1/2, from the exact and from the float64 paths alike.
    rho = h.pushforward()
    y = 0.5e300
    assert float(rho.cdf(y)) == pytest.approx(0.5, abs=1e-15)
    assert rho.cdf(np.array([y]))[0] == pytest.approx(0.5, abs=1e-15)
    assert rho.atoms == []


def test_slope_beyond_float64_range_raises():
    with pytest.raises(ValueError, match=r"values must give finite float64 slopes.*knots\[0\]"):
        PiecewiseLinearMap([0.0, 1e-300], [-1e308, 1e308], 1.0, 1.0)


def test_from_mlp_reports_subnormal_slope_as_weight_problem():
    # a(x) * 1e-310 - a(x - 1) * 1e-310 with ReLU: slope 1e-310 on [0, 1].
    weights = [np.array([[1.0], [1.0]]), np.array([[1e-310, -1e-310]])]
    biases = [np.array([0.0, -1.0]), np.array([0.0])]
    with pytest.raises(ValueError, match="weights and biases must keep the network's slopes"):
        from_mlp(weights, biases)


def test_huge_integer_slope_raises_value_error():
    with pytest.raises(ValueError, match="left_slope must be a finite real number"):
        PiecewiseLinearMap([0.0], [0.0], 10**400, 1.0)
    with pytest.raises(ValueError, match="negative_slope must be a finite real number"):
        from_mlp([np.ones((1, 1))], [np.zeros(1)], -(10**400))


# ----------------------------------------------------------------------
# from_mlp with breakpoints near the end of the float64 range.
# ----------------------------------------------------------------------

def test_from_mlp_breakpoints_beyond_9e307():
    # Layer-1 breaks at 1e308 and 1.5e308, whose sum overflows. The layer-2
    # unit with zero weights and bias 1 is 1 everywhere. The midpoint of
    # (1e308, 1.5e308) was inf, so 0 * inf = NaN read as a negative unit and
    # ReLU switched it off on that piece.
    weights = [np.array([[1.0], [1.0]]), np.array([[0.0, 0.0], [1.0, 0.0]]), np.array([[1.0, 1e-300]])]
    biases = [np.array([-1e308, -1.5e308]), np.array([1.0, 0.0]), np.array([0.0])]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        g = from_mlp(weights, biases)
    # By hand: g(x) = 1 + 1e-300 * max(x - 1e308, 0).
    x = np.array([0.0, 1e308, 1.2e308, 1.5e308, 1.7e308])
    expected = 1.0 + 1e-300 * np.maximum(x - 1e308, 0.0)
    np.testing.assert_allclose(g(x), expected, rtol=1e-15)


# ----------------------------------------------------------------------
# torch inputs.
# ----------------------------------------------------------------------

def test_tensors_that_require_grad_are_accepted():
    torch = pytest.importorskip("torch")
    knots = torch.tensor([0.0, 1.0], dtype=torch.float64, requires_grad=True)
    values = torch.tensor([0.0, 2.0], dtype=torch.float64, requires_grad=True)
    slope = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    g = PiecewiseLinearMap(knots, values, slope, -1.0)
    np.testing.assert_array_equal(g.slopes, [0.5, 2.0, -1.0])
    np.testing.assert_array_equal(g(torch.tensor([-2.0, 0.5, 3.0], requires_grad=True)), [-1.0, 1.0, 0.0])

    ridge = RidgeMap(torch.tensor([3.0, 4.0], dtype=torch.float64, requires_grad=True), g)
    assert ridge.lipschitz_constant() == 10
    z = torch.tensor([[0.1, 0.0], [0.0, 0.25]], dtype=torch.float64, requires_grad=True)
    np.testing.assert_allclose(ridge(z), [g(0.3), g(1.0)], rtol=1e-15)


def test_from_mlp_accepts_bfloat16_weights():
    torch = pytest.importorskip("torch")
    w1 = torch.tensor([[1.5], [-0.7]], dtype=torch.bfloat16)
    b1 = torch.tensor([0.3, 0.9], dtype=torch.bfloat16)
    w2 = torch.tensor([[1.1, 2.3]], dtype=torch.bfloat16)
    b2 = torch.tensor([-0.2], dtype=torch.bfloat16)
    g = from_mlp([w1, w2], [b1, b2], 0.2)
    # The same network in float64 from the exact bfloat16 numbers (tolist gives them as Python floats).
    weights = [np.array(w.tolist()) for w in (w1, w2)]
    biases = [np.array(b.tolist()) for b in (b1, b2)]
    x = np.linspace(-5.0, 5.0, 1001)
    hidden = x[:, None] @ weights[0].T + biases[0]
    expected = (np.where(hidden >= 0, hidden, 0.2 * hidden) @ weights[1].T + biases[1])[:, 0]
    np.testing.assert_allclose(g(x), expected, rtol=0, atol=1e-14)


# ----------------------------------------------------------------------
# Exact push-forward against Monte Carlo, and Lipschitz constants by brute force.
# ----------------------------------------------------------------------

def test_relu_network_cdf_against_monte_carlo():
    # A ReLU network with dead zones (flat pieces, atoms), sampled through its
    # own float64 forward pass, not through the map.
    rng = np.random.default_rng(5)
    weights = [rng.standard_normal((6, 1)), rng.standard_normal((5, 6)), rng.standard_normal((1, 5))]
    biases = [rng.standard_normal(6), rng.standard_normal(5), rng.standard_normal(1)]
    g = from_mlp(weights, biases, 0.0)
    assert g.pushforward().atoms, "the network should have a flat piece"

    z = rng.standard_normal(200_000)
    samples = z[:, None]
    for k, (w, b) in enumerate(zip(weights, biases)):
        samples = samples @ w.T + b
        if k < len(weights) - 1:
            samples = np.maximum(samples, 0.0)
    samples = samples[:, 0]
    rho = g.pushforward()
    # Beside the atom rather than on it: the forward pass rounds the flat piece's value.
    atoms = [location + side for location, _ in rho.atoms for side in (-1e-9, 1e-9)]
    for y in [*np.quantile(samples, [0.05, 0.3, 0.6, 0.95]), *atoms]:
        frequency = np.mean(samples <= y)
        error_bar = math.sqrt(max(frequency * (1 - frequency), 1e-4) / samples.size)
        assert abs(float(rho.cdf(float(y))) - frequency) < 5 * error_bar


@QUICK
@given(piecewise_linear_maps(max_pieces=8, max_lip=5.0))
def test_lipschitz_constant_is_sup_of_grid_quotients(g):
    # Difference quotients on a grid that contains every knot never exceed
    # the constant, and those inside the steepest piece reach it.
    lower = g.knots[0] - 3.0
    upper = g.knots[-1] + 3.0
    x = np.unique(np.concatenate([np.linspace(lower, upper, 20001), g.knots]))
    y = g(x)
    steps = np.diff(x)
    quotients = np.abs(np.diff(y)) / steps
    constant = float(g.lipschitz_constant())

    # A grid point within 1e-16 of a knot gives a step that the rounding of y
    # (a few ulps of |y|) can dominate, so each quotient gets that allowance.
    rounding = 4 * np.finfo(np.float64).eps * np.abs(y).max() / steps
    assert (quotients <= constant * (1 + 1e-9) + rounding).all()
    assert quotients.max() >= constant * (1 - 1e-6)


# ----------------------------------------------------------------------
# RidgeMap in p > 1 dimensions.
# ----------------------------------------------------------------------

PROFILE = PiecewiseLinearMap([-1.0, 0.0, 2.0], [1.0, 0.0, 0.0], -1.0, 0.5)  # flat on [0, 2]: an atom at 0


@pytest.mark.parametrize("direction", [[5.0], [3.0, 4.0], [0.0, 0.0, -5.0, 0.0], [1.0, 2.0, 2.0, 4.0]])
def test_ridge_pushforward_depends_only_on_norm(direction):
    # Every direction has |w| = 5: the law is h(5 Z), Z ~ N(0, 1). By hand,
    # h <= 1/2 on z in [-1/2, 3] (slope -1 on [-1, 0], flat on [0, 2], slope 1/2 after).
    rho = RidgeMap(direction, PROFILE).pushforward()
    with mpmath.workdps(30):
        expected = mpmath.ncdf(mpmath.mpf(3) / 5) - mpmath.ncdf(mpmath.mpf(-1) / 10)
        assert abs(rho.mass((-10.0, 0.5), dps=25) - expected) < mpmath.mpf(10) ** -22
    assert rho.atoms[0][0] == 0.0
    assert float(rho.atoms[0][1]) == pytest.approx(ndtr(0.4) - 0.5, rel=1e-14)


def test_ridge_cdf_against_monte_carlo_in_four_dimensions():
    direction = np.array([0.5, -1.0, 2.0, 0.25])
    g = RidgeMap(direction, PROFILE)
    rng = np.random.default_rng(8)
    samples = g(rng.standard_normal((200_000, 4)))
    rho = g.pushforward()
    for y in (-0.5, 0.0, 0.3, 1.0, 2.0):
        frequency = np.mean(samples <= y)
        error_bar = math.sqrt(max(frequency * (1 - frequency), 1e-4) / samples.size)
        assert abs(float(rho.cdf(y)) - frequency) < 5 * error_bar


def test_ridge_lipschitz_constant_by_brute_force():
    direction = np.array([0.5, -1.0, 2.0, 0.25])
    g = RidgeMap(direction, PROFILE)
    norm = math.sqrt(math.fsum(direction**2))
    constant = float(g.lipschitz_constant())
    assert constant == pytest.approx(norm * 1.0, rel=1e-15)
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 50_000, 4)) * 0.3
    quotients = np.abs(g(a) - g(b)) / np.linalg.norm(a - b, axis=1)
    assert quotients.max() <= constant * (1 + 1e-12)
    # Along w inside the piece of slope -1 the quotient is the constant.
    u = direction / norm
    assert abs(g(-0.5 / norm * u) - g(-0.25 / norm * u)) / (0.25 / norm) == pytest.approx(constant, rel=1e-12)


def test_ridge_tv_equals_rescaled_profile_for_any_direction_of_norm_five():
    target = GaussianMixture([0.5, 0.5], [-1.0, 3.0], 1.0)
    values = [tv_distance(RidgeMap(w, PROFILE).pushforward(), target).value for w in ([5.0], [3.0, 4.0], [0.0, 4.0, 0.0, 3.0])]
    # z -> h(5 z) is the map with knots / 5 and outer slopes * 5.
    rescaled = PiecewiseLinearMap(PROFILE.knots / 5, PROFILE.values, 5 * PROFILE.left_slope, 5 * PROFILE.right_slope)
    reference = tv_distance(rescaled, target).value
    assert values == pytest.approx([reference] * 3, abs=1e-12)


def test_ridge_norm_beyond_float64_raises_naming_direction():
    g = RidgeMap([1.5e308, 1.5e308], PROFILE)
    assert math.isinf(float(g.direction_norm()))  # about 2.1e308
    with pytest.raises(ValueError, match=r"direction must have a norm \|w\| representable in float64"):
        g.pushforward()


def test_flat_pieces_skip_the_exact_slope_path(monkeypatch):
    # Equal values give an exact zero slope; recomputing each in mpmath made 1e5 flat pieces take seconds.
    from isobounds.pushforward import piecewise

    def fail(*args, **kwargs):
        raise AssertionError("an exact slope was recomputed for a flat piece")

    monkeypatch.setattr(piecewise, "workdps", fail)
    g = PiecewiseLinearMap(np.arange(1000.0), np.repeat([0.0, 1.0], 500), 0.0, 0.0)
    assert np.count_nonzero(g.slopes) == 1
    assert g.slopes[500] == 1.0


def test_from_mlp_two_dimensional_latent_points_to_ridge_map():
    # A first layer with two input features is a network from R^2, which from_mlp cannot represent.
    weights = [np.ones((4, 2)), np.ones((1, 4))]
    biases = [np.zeros(4), np.zeros(1)]
    with pytest.raises(ValueError, match=r"weights\[0\] must have shape \(width, 1\).*got shape \(4, 2\).*RidgeMap") as error:
        PiecewiseLinearMap.from_mlp(weights, biases)
    # The caller passed no inputs, so the message should not name them.
    assert "inputs" not in str(error.value)


def test_from_mlp_densenet_width_error():
    # With densenet wiring the last layer reads features 1 and 2 (widths 3 and 2), so it needs 5 input columns.
    weights = [np.ones((3, 1)), np.ones((2, 3)), np.ones((1, 4))]
    biases = [np.zeros(3), np.zeros(2), np.zeros(1)]
    with pytest.raises(ValueError, match=r"weights\[2\] must have 5 input features.*inputs\[2\]=\[1, 2\].*\(1, 4\)"):
        PiecewiseLinearMap.from_mlp(weights, biases, skip="densenet")
