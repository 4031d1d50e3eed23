"""PiecewiseLinearMap: evaluation, exact slopes, and the exact conversion of MLPs."""

from fractions import Fraction

import mpmath
import numpy as np
import pytest

from isobounds.pushforward import PiecewiseLinearMap, from_mlp, skip_wiring


def _reference_forward(x, weights, biases, negative_slope, inputs, adds):
    """Plain numpy forward pass of the wiring ``f_k = W_k concat(a(f_j)) + b_k + sum(f_j)``."""
    features = [x[:, None]]
    activated = [x[:, None]]
    for w, b, read, add in zip(weights, biases, inputs, adds):
        out = np.concatenate([activated[j] for j in read], axis=1) @ w.T + b
        for j in add:
            out = out + features[j]
        features.append(out)
        activated.append(np.where(out >= 0, out, negative_slope * out))
    return features[-1][:, 0]


def _random_mlp(rng, sizes, skip=None):
    inputs, adds = skip_wiring([(o, i) for i, o in zip(sizes[:-1], sizes[1:])], skip)
    widths = list(sizes)
    weights, biases = [], []
    for k in range(1, len(sizes)):
        in_width = sum(widths[j] for j in inputs[k - 1])
        bound = 1.0 / np.sqrt(in_width)
        weights.append(rng.uniform(-bound, bound, (sizes[k], in_width)))
        biases.append(rng.uniform(-bound, bound, sizes[k]))
    return weights, biases, inputs, adds


# ----------------------------------------------------------------------
# Evaluation and exact quantities.
# ----------------------------------------------------------------------

def test_call_matches_interpolation_and_extension():
    g = PiecewiseLinearMap([-1.0, 0.5, 2.0], [3.0, -1.0, 0.0], -2.0, 0.25)
    x = np.linspace(-5, 6, 1001)
    inside = np.interp(x, g.knots, g.values)
    expected = np.where(x < -1, 3.0 - 2.0 * (x + 1), np.where(x > 2, 0.25 * (x - 2), inside))
    np.testing.assert_allclose(g(x), expected, rtol=0, atol=1e-14)


def test_call_scalar_returns_float():
    g = PiecewiseLinearMap([0.0], [1.0], 2.0, -1.0)
    assert isinstance(g(1.5), float)
    assert g(1.5) == -0.5
    assert g(-1.0) == -1.0


def test_lipschitz_constant_is_exact_rational_slope():
    knots = [0.0, 0.1, 0.3]
    values = [0.0, 0.7, 0.71]
    g = PiecewiseLinearMap(knots, values, 1.0, -3.0)
    # Fractions of the exact binary values: the steepest piece is the first inner one.
    exact = (Fraction(0.7) - Fraction(0.0)) / (Fraction(0.1) - Fraction(0.0))
    with mpmath.workdps(60):
        assert abs(g.lipschitz_constant(dps=50) - mpmath.mpf(exact.numerator) / exact.denominator) < mpmath.mpf(10) ** -48


def test_slopes_of_map_with_one_knot():
    g = PiecewiseLinearMap([2.0], [1.0], 0.5, -4.0)
    np.testing.assert_array_equal(g.slopes, [0.5, -4.0])
    assert g.lipschitz_constant() == 4


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(knots=[1.0, 0.0], values=[0, 0], left_slope=1, right_slope=1), "strictly increasing"),
        (dict(knots=[], values=[], left_slope=1, right_slope=1), "nonempty"),
        (dict(knots=[0.0, 1.0], values=[0.0], left_slope=1, right_slope=1), "shape"),
        (dict(knots=[0.0, np.nan], values=[0, 0], left_slope=1, right_slope=1), "knots"),
        (dict(knots=[0.0], values=[0.0], left_slope=np.inf, right_slope=1), "left_slope"),
    ],
)
def test_invalid_map_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PiecewiseLinearMap(**kwargs)


# ----------------------------------------------------------------------
# from_mlp.
# ----------------------------------------------------------------------

@pytest.mark.parametrize("skip, sizes", [(None, (1, 16, 32, 1)), ("resnet", (1, 24, 24, 24, 1)), ("densenet", (1, 12, 12, 12, 1))])
@pytest.mark.parametrize("negative_slope", [0.0, 0.2, -0.5])
def test_from_mlp_matches_forward_pass(skip, sizes, negative_slope):
    rng = np.random.default_rng(len(sizes) * 100 + int(10 * negative_slope))
    weights, biases, inputs, adds = _random_mlp(rng, sizes, skip)
    g = from_mlp(weights, biases, negative_slope, skip=skip)

    x = np.concatenate([np.linspace(-30, 30, 20001), g.knots, g.knots + 1e-7, g.knots - 1e-7])
    expected = _reference_forward(x, weights, biases, negative_slope, inputs, adds)
    scale = 1.0 + np.abs(expected).max()
    np.testing.assert_allclose(g(x), expected, rtol=0, atol=1e-12 * scale)


@pytest.mark.parametrize("skip, sizes", [(None, (1, 16, 32, 1)), ("resnet", (1, 24, 24, 24, 1)), ("densenet", (1, 12, 12, 12, 1))])
def test_from_mlp_is_linear_between_knots(skip, sizes):
    rng = np.random.default_rng(7)
    weights, biases, inputs, adds = _random_mlp(rng, sizes, skip)
    g = from_mlp(weights, biases, 0.2, skip=skip)

    # The network's slope at the middle of every piece (central differences on
    # a step far below the piece width) equals the piece slope.
    lower, upper = g.piece_bounds()
    lower = np.where(np.isinf(lower), upper - 2.0, lower)
    upper = np.where(np.isinf(upper), lower + 2.0, upper)
    middle = 0.5 * (lower + upper)
    step = 1e-3 * (upper - lower)
    forward = _reference_forward(np.concatenate([middle + step, middle - step]), weights, biases, 0.2, inputs, adds)
    slope = (forward[: middle.size] - forward[middle.size :]) / (2 * step)
    np.testing.assert_allclose(slope, g.slopes, rtol=1e-6, atol=1e-9)


def test_from_mlp_matches_torch_module():
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    net = torch.nn.Sequential(
        torch.nn.Linear(1, 32), torch.nn.LeakyReLU(0.2), torch.nn.Linear(32, 64), torch.nn.LeakyReLU(0.2), torch.nn.Linear(64, 1)
    ).double()
    linears = [m for m in net if isinstance(m, torch.nn.Linear)]
    g = from_mlp([m.weight.detach().numpy() for m in linears], [m.bias.detach().numpy() for m in linears], 0.2)

    x = np.linspace(-20, 20, 40001)
    with torch.no_grad():
        expected = net(torch.from_numpy(x)[:, None]).numpy()[:, 0]
    np.testing.assert_allclose(g(x), expected, rtol=0, atol=1e-13)


def test_from_mlp_lipschitz_bounds_grid_estimate():
    rng = np.random.default_rng(11)
    weights, biases, inputs, adds = _random_mlp(rng, (1, 32, 64, 1))
    g = from_mlp(weights, biases, 0.2)

    # Grid slopes (the estimate of Salmona et al. on [-10, 10]) never exceed
    # the exact constant.
    x = np.linspace(-10, 10, 200001)
    y = _reference_forward(x, weights, biases, 0.2, inputs, adds)
    grid_estimate = np.max(np.abs(np.diff(y) / np.diff(x)))
    exact = float(g.lipschitz_constant())
    assert grid_estimate <= exact * (1 + 1e-9)

    # The exact constant is attained: the network's difference quotient over
    # the inner half of the steepest piece equals it.
    k = int(np.argmax(np.abs(g.slopes)))
    lower, upper = g.piece_bounds()
    lo = lower[k] if np.isfinite(lower[k]) else upper[k] - 4.0
    hi = upper[k] if np.isfinite(upper[k]) else lower[k] + 4.0
    ends = np.array([0.75 * lo + 0.25 * hi, 0.25 * lo + 0.75 * hi])
    forward = _reference_forward(ends, weights, biases, 0.2, inputs, adds)
    assert abs(forward[1] - forward[0]) / (ends[1] - ends[0]) == pytest.approx(exact, rel=1e-7)


def test_from_mlp_relu_dead_units_give_flat_piece():
    # a(x - 1) - a(x - 2) with ReLU: 0 left of 1, slope 1 on [1, 2], 1 right of 2.
    weights = [np.array([[1.0], [1.0]]), np.array([[1.0, -1.0]])]
    biases = [np.array([-1.0, -2.0]), np.array([0.0])]
    g = from_mlp(weights, biases, 0.0)
    np.testing.assert_array_equal(g.knots, [1.0, 2.0])
    np.testing.assert_array_equal(g.slopes, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(g.values, [0.0, 1.0])


def test_from_mlp_affine_network_has_one_piece():
    weights = [np.array([[2.0]]), np.array([[3.0]])]
    biases = [np.array([1.0]), np.array([-1.0])]
    g = from_mlp(weights, biases, 1.0)
    np.testing.assert_array_equal(g.slopes, [6.0, 6.0])
    assert g(0.0) == 2.0


def test_from_mlp_explicit_wiring_equals_named():
    rng = np.random.default_rng(5)
    weights, biases, inputs, adds = _random_mlp(rng, (1, 8, 8, 8, 1), "densenet")
    named = from_mlp(weights, biases, 0.2, skip="densenet")
    explicit = from_mlp(weights, biases, 0.2, inputs=inputs, adds=adds)
    np.testing.assert_array_equal(named.knots, explicit.knots)
    np.testing.assert_array_equal(named.values, explicit.values)


@pytest.mark.parametrize(
    "weights, biases, skip, match",
    [
        ([np.ones((4, 2)), np.ones((1, 4))], [np.ones(4), np.ones(1)], None, r"must have shape \(width, 1\)"),
        ([np.ones((4, 1)), np.ones((2, 4))], [np.ones(4), np.ones(2)], None, "one output"),
        ([np.ones((4, 1)), np.ones((1, 4))], [np.ones(3), np.ones(1)], None, "biases"),
        ([np.ones((4, 1)), np.ones((1, 4))], [np.ones(4)], None, "biases"),
        ([np.ones((4, 1)), np.ones((1, 4))], [np.ones(4), np.ones(1)], "highway", "skip"),
        ([], [], None, "at least one layer"),
    ],
)
def test_from_mlp_invalid_input_raises(weights, biases, skip, match):
    with pytest.raises(ValueError, match=match):
        from_mlp(weights, biases, 0.2, skip=skip)


def test_from_mlp_torch_module_raises_with_hint():
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Linear(1, 2), torch.nn.LeakyReLU(0.2), torch.nn.Linear(2, 1))
    with pytest.raises(TypeError, match="torch module Sequential.*piecewise_linear_from_module"):
        from_mlp(module, [np.zeros(2), np.zeros(1)], 0.2)


@pytest.mark.parametrize("skip", ["plain", "resnet", "densenet"])
def test_from_mlp_matches_exported_generator(skip):
    # The generators of isobounds_models, exported as torch modules, described
    # layer by layer with their wiring, and evaluated by torch.
    torch = pytest.importorskip("torch")
    networks = pytest.importorskip("isobounds_models.networks")
    mlp = networks.BatchedMLP(1, (1, 16, 16, 16, 1), skip)
    mlp.reset_parameters([torch.Generator().manual_seed(4)])
    module = networks.export_mlp(mlp, 0).double()
    description = networks.describe_mlp(module)
    weights = [w for w, _ in description["layers"]]
    biases = [b for _, b in description["layers"]]

    g = from_mlp(weights, biases, description["negative_slope"], inputs=description["inputs"], adds=description["adds"])
    named = from_mlp(weights, biases, description["negative_slope"], skip=skip)
    x = np.concatenate([np.linspace(-15, 15, 30001), g.knots])
    with torch.no_grad():
        expected = module(torch.from_numpy(x)[:, None]).numpy()[:, 0]
    np.testing.assert_allclose(g(x), expected, rtol=0, atol=1e-12 * (1 + np.abs(expected).max()))
    np.testing.assert_array_equal(named.knots, g.knots)
