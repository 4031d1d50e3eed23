"""Hand-written score-matching gradients against autograd (isobounds_models.score_gradients)."""

import pytest

torch = pytest.importorskip("torch")

from isobounds_models.networks import BatchedMLP, BatchedScoreNet  # noqa: E402
from isobounds_models.sampling import geometric_sigmas  # noqa: E402
from isobounds_models import score_gradients  # noqa: E402
from isobounds_models.score_gradients import level_features, score_matching_gradients  # noqa: E402
from isobounds_models.training import denoising_score_matching_loss  # noqa: E402


def _network(runs, dim, n_levels=10, negative_slope=0.2, seed=0):
    network = BatchedScoreNet(runs, dim, 1.0, 0.01, n_levels, negative_slope).double()
    generators = [torch.Generator().manual_seed(seed + r) for r in range(runs)]
    network.reset_parameters(generators)
    return network


def _problem(runs, dim, batch, n_levels, seed=1):
    generator = torch.Generator().manual_seed(seed)
    x = 3.0 * torch.randn(runs, batch, dim, generator=generator, dtype=torch.float64)
    levels = torch.randint(n_levels, (runs, batch), generator=generator)
    noise = torch.randn(runs, batch, dim, generator=generator, dtype=torch.float64)
    return x, levels, noise


def _autograd_reference(network, x, levels, noise, sigmas):
    """Loss and gradients through the per-sample ``forward`` (the noise embedding evaluated at each sample)."""
    network.zero_grad(set_to_none=True)
    sigma = sigmas[levels]
    score = network(x + sigma.unsqueeze(-1) * noise, sigma)
    loss = denoising_score_matching_loss(score, sigma, noise).mean(1)
    loss.sum().backward()
    gradients = {name: parameter.grad.clone() for name, parameter in network.named_parameters()}
    network.zero_grad(set_to_none=True)
    return loss.detach(), gradients


def _assert_gradients_match(network, expected):
    for name, parameter in network.named_parameters():
        torch.testing.assert_close(parameter.grad, expected[name], rtol=1e-10, atol=1e-14, msg=name)


@pytest.mark.parametrize(
    "runs, dim, n_levels, negative_slope",
    [(1, 1, 10, 0.2), (3, 1, 10, 0.2), (2, 2, 4, 0.2), (2, 1, 7, 0.05)],
)
def test_gradients_match_autograd(runs, dim, n_levels, negative_slope):
    network = _network(runs, dim, n_levels, negative_slope)
    sigmas = geometric_sigmas(1.0, 0.01, n_levels)
    x, levels, noise = _problem(runs, dim, 300, n_levels)
    expected_loss, expected = _autograd_reference(network, x, levels, noise, sigmas)

    loss = score_matching_gradients(network, x, levels, noise, sigmas, level_features(network, sigmas))

    torch.testing.assert_close(loss, expected_loss, rtol=1e-12, atol=0.0)
    _assert_gradients_match(network, expected)


def test_unused_levels_match_autograd():
    # Only levels 0 and 3 occur, so the level rows of the other eight get no
    # sample and contribute nothing to the embedding gradients.
    network = _network(2, 1)
    sigmas = geometric_sigmas(1.0, 0.01, 10)
    x, levels, noise = _problem(2, 1, 200, 10)
    levels = torch.where(levels < 5, 0, 3)
    _, expected = _autograd_reference(network, x, levels, noise, sigmas)

    score_matching_gradients(network, x, levels, noise, sigmas, level_features(network, sigmas))

    _assert_gradients_match(network, expected)


def test_runs_get_gradients_of_their_own_loss():
    # Run 1 alone gets the gradient that run 1 gets inside a batch of three.
    network = _network(3, 1)
    sigmas = geometric_sigmas(1.0, 0.01, 10)
    x, levels, noise = _problem(3, 1, 100, 10)
    score_matching_gradients(network, x, levels, noise, sigmas, level_features(network, sigmas))
    batched = {name: parameter.grad[1].clone() for name, parameter in network.named_parameters()}

    alone = network.select_run(1).train()
    score_matching_gradients(alone, x[1:2], levels[1:2], noise[1:2], sigmas, level_features(alone, sigmas))

    for name, parameter in alone.named_parameters():
        torch.testing.assert_close(parameter.grad[0], batched[name], rtol=1e-12, atol=1e-15, msg=name)


def test_float32_gradients_match_float64():
    network = _network(1, 1)
    sigmas = geometric_sigmas(1.0, 0.01, 10)
    x, levels, noise = _problem(1, 1, 1000, 10)
    _, expected = _autograd_reference(network, x, levels, noise, sigmas)

    single = network.float()
    sigmas_32 = sigmas.float()
    score_matching_gradients(single, x.float(), levels, noise.float(), sigmas_32, level_features(single, sigmas_32))

    for name, parameter in single.named_parameters():
        scale = expected[name].abs().max().item()
        error = (parameter.grad.double() - expected[name]).abs().max().item()
        assert error <= 1e-5 * scale, f"{name}: error {error:.3g} against a gradient of size {scale:.3g}"


def test_non_score_network_rejected():
    mlp = BatchedMLP(1, (1, 8, 1))
    sigmas = geometric_sigmas()
    x = torch.zeros(1, 4, 1)
    with pytest.raises(TypeError, match="BatchedScoreNet"):
        score_matching_gradients(mlp, x, torch.zeros(1, 4, dtype=torch.long), x, sigmas, torch.zeros(1, 10, 16))


def _valid_inputs(runs=2, dim=1, batch=6, n_levels=10):
    network = _network(runs, dim, n_levels)
    sigmas = geometric_sigmas(1.0, 0.01, n_levels)
    x, levels, noise = _problem(runs, dim, batch, n_levels)
    return network, x, levels, noise, sigmas, level_features(network, sigmas)


@pytest.mark.parametrize("run, level", [(1, -1), (0, -1), (1, 10), (0, 10)])
def test_level_out_of_range_rejected(run, level):
    # A negative level in run 1 would otherwise read a row of run 0.
    network, x, levels, noise, sigmas, features = _valid_inputs()
    levels[run, 0] = level
    with pytest.raises(ValueError, match=r"levels must lie in \[0, 9\]"):
        score_matching_gradients(network, x, levels, noise, sigmas, features)


def test_float_levels_rejected():
    network, x, levels, noise, sigmas, features = _valid_inputs()
    with pytest.raises(TypeError, match="levels must be an integer tensor"):
        score_matching_gradients(network, x, levels.double(), noise, sigmas, features)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda inputs: {**inputs, "x": inputs["x"][:1], "noise": inputs["noise"][:1]}, "x must have shape"),
        (lambda inputs: {**inputs, "x": inputs["x"][:, :0], "noise": inputs["noise"][:, :0],
                         "levels": inputs["levels"][:, :0]}, "batch >= 1"),
        (lambda inputs: {**inputs, "noise": inputs["noise"][:, :3]}, "noise must have the shape of x"),
        (lambda inputs: {**inputs, "levels": inputs["levels"][:, :3]}, "levels must have shape"),
        (lambda inputs: {**inputs, "sigmas": torch.cat([inputs["sigmas"], inputs["sigmas"][:1]])},
         "features of shape"),
    ],
)
def test_mismatched_shapes_rejected(change, message):
    network, x, levels, noise, sigmas, features = _valid_inputs()
    inputs = change({"x": x, "levels": levels, "noise": noise, "sigmas": sigmas, "features": features})
    with pytest.raises(ValueError, match=message):
        score_matching_gradients(network, **inputs)


def test_frozen_parameter_keeps_its_grad():
    network, x, levels, noise, sigmas, features = _valid_inputs()
    network.embed_1.weight.requires_grad_(False)
    score_matching_gradients(network, x, levels, noise, sigmas, features)
    assert network.embed_1.weight.grad is None
    assert network.embed_1.bias.grad is not None


def test_one_hot_sum_matches_index_add():
    # The one-hot form, used off the CPU for reproducible sums, against index_add_.
    generator = torch.Generator().manual_seed(3)
    values = torch.randn(3, 50, 7, generator=generator, dtype=torch.float64)
    rows = torch.randint(12, (150,), generator=generator)
    expected = torch.zeros(12, 7, dtype=torch.float64).index_add_(0, rows, values.reshape(-1, 7))
    torch.testing.assert_close(score_gradients._one_hot_sum(values.reshape(-1, 7), rows, 12), expected)
