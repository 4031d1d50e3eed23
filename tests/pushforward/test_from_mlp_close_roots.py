"""from_mlp when a unit's root falls within a few float64 spacings of an earlier breakpoint.

The reference is the float64 forward pass and the autograd slope of the same
network in torch. The networks are built so that a layer-2 unit changes sign
at a chosen relative offset from a layer-1 breakpoint, on either side, while
another layer-2 unit adds a root elsewhere.
"""

import numpy as np
import pytest

from isobounds.pushforward import PiecewiseLinearMap

torch = pytest.importorskip("torch")

# Relative offsets of the new root from the old breakpoint: below, at and above
# the merge tolerance of from_mlp (8 float64 epsilons relative to 1 + |x|).
OFFSETS = [1e-16, 5e-16, 1e-15, 4e-15, 1e-13, 1e-11, 1e-9]


def _torch_network(weights, biases, negative_slope):
    """Float64 torch MLP with these layers and LeakyReLU(negative_slope) between them."""
    modules = []
    for k, (w, b) in enumerate(zip(weights, biases)):
        linear = torch.nn.Linear(w.shape[1], w.shape[0]).double()
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if k < len(weights) - 1:
            modules.append(torch.nn.LeakyReLU(negative_slope))
    return torch.nn.Sequential(*modules)


def _torch_values_and_slopes(net, x):
    """Return the torch forward pass and its autograd derivative at the points ``x``."""
    inputs = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    outputs = net(inputs[:, None])[:, 0]
    outputs.sum().backward()
    return outputs.detach().numpy(), inputs.grad.numpy()


def _check_equals_network(g, weights, biases, negative_slope, centre):
    """Assert that ``g`` equals the torch network on a dense grid, near every knot, and in slope."""
    net = _torch_network(weights, biases, negative_slope)
    near = np.concatenate([g.knots + d for d in (-1e-6, -1e-9, -1e-12, 0.0, 1e-12, 1e-9, 1e-6)])
    x = np.concatenate([np.linspace(centre - 5.0, centre + 5.0, 10001), near])
    expected, _ = _torch_values_and_slopes(net, x)
    scale = 1.0 + np.abs(expected).max()
    np.testing.assert_allclose(g(x), expected, rtol=0, atol=1e-12 * scale)

    # Pieces wider than 1e-4: the slope of a piece of width h carries an
    # error of order 1e-16 |g| / h, far below the tolerance.
    lower, upper = g.piece_bounds()
    lower = np.where(np.isinf(lower), upper - 2.0, lower)
    upper = np.where(np.isinf(upper), lower + 2.0, upper)
    wide = upper - lower > 1e-4
    _, slopes = _torch_values_and_slopes(net, 0.5 * (lower + upper)[wide])
    np.testing.assert_allclose(g.slopes[wide], slopes, rtol=1e-9, atol=1e-12)


def test_from_mlp_root_just_below_break():
    # A layer-2 root at 0.1 - 1e-16, just below the layer-1 break at 0.1, and
    # one at 1.1. Dropping the break at 0.1 gave (0.1, 1.1) the slope 0.72.
    weights = [np.array([[1.0]]), np.array([[1.0], [1.0]]), np.array([[1.0, 1.0]])]
    biases = [np.array([-0.1]), np.array([1e-16, -1.0]), np.array([0.0])]
    g = PiecewiseLinearMap.from_mlp(weights, biases, 0.2)

    assert g.n_pieces == 3
    np.testing.assert_allclose(g.slopes, [0.08, 1.2, 2.0], rtol=1e-12)
    assert g(0.5) == pytest.approx(0.28, rel=1e-12)
    _check_equals_network(g, weights, biases, 0.2, 0.5)


@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("side", [-1.0, 1.0])
@pytest.mark.parametrize("other", ["left", "right"])
@pytest.mark.parametrize("negative_slope", [0.2, -0.5])
def test_from_mlp_root_beside_break(offset, side, other, negative_slope):
    # Layer 1: one unit with its break at c. Layer 2: unit 1 changes sign at
    # c + side * offset * (1 + |c|); unit 2 at c - 1 or c + 1.
    c = 1.7
    shift = offset * (1.0 + abs(c))
    a = negative_slope if side < 0 else 1.0  # activation slope on the side of the new root
    w = 1.3
    weights = [np.array([[1.0]]), np.array([[w], [1.0]]), np.array([[1.5, -0.7]])]
    other_bias = negative_slope if other == "left" else -1.0
    biases = [np.array([-c]), np.array([-w * a * side * shift, other_bias]), np.array([0.25])]
    g = PiecewiseLinearMap.from_mlp(weights, biases, negative_slope)

    assert np.any(np.abs(g.knots - c) <= 8 * np.finfo(float).eps * (1 + c))
    _check_equals_network(g, weights, biases, negative_slope, c)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("offset", [1e-16, 1e-15, 3e-15, 1e-12, 1e-9])
def test_from_mlp_random_roots_beside_breaks(seed, offset):
    # Random 1-6-6-1 networks whose layer-2 units each change sign next to a
    # layer-1 break, on a random side: b2 is set so that the unit is zero at
    # the chosen point (up to rounding).
    rng = np.random.default_rng(seed)
    negative_slope = (0.0, 0.2, -0.5)[seed % 3]
    w1 = rng.uniform(-2.0, 2.0, (6, 1))
    b1 = rng.uniform(-3.0, 3.0, 6)
    breaks = -b1 / w1[:, 0]
    w2 = rng.uniform(-1.0, 1.0, (6, 6))

    chosen = breaks[rng.integers(0, 6, 6)]
    points = chosen + rng.choice([-1.0, 1.0], 6) * offset * (1.0 + np.abs(chosen))
    hidden = points[:, None] @ w1.T + b1
    activated = np.where(hidden >= 0, hidden, negative_slope * hidden)
    b2 = -np.einsum("ij,ij->i", w2, activated)
    w3 = rng.uniform(-1.0, 1.0, (1, 6))
    b3 = rng.uniform(-1.0, 1.0, 1)

    weights, biases = [w1, w2, w3], [b1, b2, b3]
    g = PiecewiseLinearMap.from_mlp(weights, biases, negative_slope)
    _check_equals_network(g, weights, biases, negative_slope, 0.0)
