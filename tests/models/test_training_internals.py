"""Training internals: seeds, input checks, score gradients at edge shapes, resume of model variants."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from isobounds_models import training  # noqa: E402
from isobounds_models.batched import BatchedLinear, select_runs  # noqa: E402
from isobounds_models.data import as_generator, make_dataset  # noqa: E402
from isobounds_models.networks import (  # noqa: E402
    BatchedMLP,
    BatchedScoreNet,
    count_parameters,
    export_mlp,
    sinusoidal_embedding,
)
from isobounds_models.sampling import geometric_sigmas  # noqa: E402
from isobounds_models.score_gradients import level_features, score_matching_gradients  # noqa: E402
from isobounds_models.training import (  # noqa: E402
    RunSpec,
    TrainingConfig,
    denoising_score_matching_loss,
    generator_gradient_penalty,
    train,
    vae_loss_terms,
)


def _generators(runs, seed=0):
    return [torch.Generator().manual_seed(seed + r) for r in range(runs)]


def _score_network(runs, dim, n_levels, dtype=torch.float64):
    network = BatchedScoreNet(runs, dim, 1.0, 0.01, n_levels).to(dtype)
    network.reset_parameters(_generators(runs, 5))
    return network


# Seeds of nearby values of m.


def test_nearby_m_values_get_distinct_data_and_weights():
    # train() accepts m = 1 and m = 1 + 1e-9 as two runs, so they must not be copies of each other.
    config = TrainingConfig.profile("quick", n_samples=50, device="cpu")
    runs = [RunSpec(0, 1.0, 0), RunSpec(1, 1.0 + 1e-9, 0)]
    data = training._stack_datasets("gan", runs, config)
    # With one seed the two data sets would agree to 1e-9, that is exactly in float32.
    assert not torch.equal(data[0], data[1])
    first = training._seeded(runs[0], "gan", training._STREAM_INIT)
    second = training._seeded(runs[1], "gan", training._STREAM_INIT)
    assert not torch.equal(torch.rand(8, generator=first), torch.rand(8, generator=second))


@pytest.mark.parametrize("m", [0.0, 1.0, 2.5, 10.0, 0.123456])
def test_seeds_of_m_with_six_decimals_are_unchanged(m):
    # The seed of earlier versions, rebuilt here from its definition: SeedSequence of (seed, m * 1e6, model, stream).
    key = [3, int(round(m * 1_000_000)), training.MODELS.index("vae"), 2]
    expected = int(np.random.SeedSequence(key).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    assert training._derive_seed(3, m, "vae", 2) == expected


# Score gradients: integer dtypes of the levels and edge shapes.


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.uint8])
def test_score_gradients_accept_any_integer_level_dtype(dtype):
    network = _score_network(2, 1, 10)
    sigmas = geometric_sigmas(1.0, 0.01, 10)
    features = level_features(network, sigmas)
    generator = torch.Generator().manual_seed(2)
    x = torch.randn(2, 7, 1, generator=generator, dtype=torch.float64)
    levels = torch.randint(10, (2, 7), generator=generator)
    noise = torch.randn(2, 7, 1, generator=generator, dtype=torch.float64)

    # Reference: the sigma^2-weighted loss written out from the per-sample noise levels.
    sigma = sigmas[levels]
    perturbed = x + sigma.unsqueeze(-1) * noise
    with torch.no_grad():
        expected = 0.5 * ((sigma.unsqueeze(-1) * network(perturbed, sigma) + noise) ** 2).sum(-1).mean(1)

    loss = score_matching_gradients(network, x, levels.to(dtype), noise, sigmas, features)
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=0.0)
    with torch.no_grad():
        torch.testing.assert_close(network.forward_levels(perturbed, levels.to(dtype)), network(perturbed, sigma),
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("runs, batch, dim, n_levels", [(1, 1, 1, 10), (1, 1, 3, 2), (2, 1, 1, 1), (3, 2, 2, 10)])
def test_score_gradients_match_autograd_at_edge_shapes(runs, batch, dim, n_levels):
    network = BatchedScoreNet(runs, dim, 1.0, 0.5, n_levels).double()
    network.reset_parameters(_generators(runs, 9))
    sigmas = geometric_sigmas(1.0, 0.5, n_levels)
    generator = torch.Generator().manual_seed(4)
    x = 2.0 * torch.randn(runs, batch, dim, generator=generator, dtype=torch.float64)
    levels = torch.randint(n_levels, (runs, batch), generator=generator)
    noise = torch.randn(runs, batch, dim, generator=generator, dtype=torch.float64)

    sigma = sigmas[levels]
    residual = sigma.unsqueeze(-1) * network(x + sigma.unsqueeze(-1) * noise, sigma) + noise
    expected_loss = 0.5 * (residual**2).sum(-1).mean(1)
    expected_loss.sum().backward()
    expected = {name: parameter.grad.clone() for name, parameter in network.named_parameters()}

    loss = score_matching_gradients(network, x, levels, noise, sigmas, level_features(network, sigmas))
    torch.testing.assert_close(loss, expected_loss.detach(), rtol=1e-12, atol=1e-15)
    for name, parameter in network.named_parameters():
        torch.testing.assert_close(parameter.grad, expected[name], rtol=1e-10, atol=1e-14, msg=name)


# Input checks.


def test_seed_beyond_64_bits_rejected_with_range():
    with pytest.raises(ValueError, match=r"in \[0, 2\*\*64 - 1\], got generator=18446744073709551616"):
        make_dataset(1.0, 5, 2**64)
    assert as_generator(2**64 - 1).initial_seed() == 2**64 - 1


@pytest.mark.parametrize("count", [1, 3])
def test_reset_needs_one_generator_per_run(count):
    mlp = BatchedMLP(2, (1, 4, 1))
    with pytest.raises(ValueError, match=f"one torch.Generator per run, 2 in all, got {count}"):
        mlp.reset_parameters(_generators(count))


def test_reset_rejects_non_generators():
    with pytest.raises(TypeError, match="torch.Generator"):
        BatchedLinear(1, 2, 2).reset_parameters([0])


def test_dsm_loss_rejects_mismatched_shapes():
    score = torch.zeros(2, 3, 1)
    with pytest.raises(ValueError, match=r"noise.shape=\(2, 3, 2\)"):
        denoising_score_matching_loss(score, torch.ones(2, 3), torch.zeros(2, 3, 2))
    with pytest.raises(ValueError, match=r"sigma.shape=\(2, 1\)"):
        denoising_score_matching_loss(score, torch.ones(2, 1), torch.zeros(2, 3, 1))


def test_dsm_loss_formula():
    # (1/2) sigma^2 ||s + z / sigma||^2 by hand, for s = 1, z = 2, sigma = 0.5: 0.125 * (1 + 4)^2 = 3.125.
    loss = denoising_score_matching_loss(torch.ones(1, 1, 1), torch.full((1, 1), 0.5), torch.full((1, 1, 1), 2.0))
    assert loss.item() == pytest.approx(3.125)


@pytest.mark.parametrize("c", [0.0, -0.1, float("nan")])
def test_vae_loss_rejects_nonpositive_c(c):
    x = torch.zeros(1, 2, 1)
    with pytest.raises(ValueError, match="c must"):
        vae_loss_terms(x, x, x, x, c)


def test_vae_negative_elbo_against_hand_formula():
    # x = 1, f(z) = 0.8, c = 0.1: 0.2^2 / (2 * 0.01) = 2; mu = 0.5, sigma^2 = e: (0.25 + e - 1 - 1) / 2.
    reconstruction, kl = vae_loss_terms(torch.ones(1, 1), torch.full((1, 1), 0.8), torch.full((1, 1), 0.5),
                                        torch.ones(1, 1), 0.1)
    assert reconstruction.item() == pytest.approx(2.0, rel=1e-5)
    assert kl.item() == pytest.approx((0.25 + np.e - 2.0) / 2, rel=1e-6)


def test_gradient_penalty_needs_three_axes():
    with pytest.raises(ValueError, match=r"gradients must have shape \(R, B, p\), got gradients.shape=\(3, 1\)"):
        generator_gradient_penalty(torch.ones(3, 1), 1.0)


@pytest.mark.parametrize("form, expected", [("norm", (3.0 - 2.0) ** 2), ("squared", (10 / 4) * (9.0 - 2.0) ** 2)])
def test_gradient_penalty_uses_largest_slope(form, expected):
    gradients = torch.tensor([[[0.5], [-3.0], [1.0]]])
    assert generator_gradient_penalty(gradients, 2.0, form).item() == pytest.approx(expected)


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: BatchedLinear(0, 2, 3), ValueError, "runs must be a positive integer, got runs=0"),
        (lambda: BatchedLinear(1.5, 2, 3), TypeError, "runs must be a positive integer, got runs=1.5"),
        (lambda: BatchedLinear(1, 0, 3), ValueError, "in_features must be a positive integer, got in_features=0"),
        (lambda: BatchedMLP(1, (1,)), ValueError, r"at least an input and an output width, got sizes=\(1,\)"),
        (lambda: BatchedMLP(1, (1, 0, 1)), ValueError, r"got sizes=\(1, 0, 1\) \(width 0\)"),
        (lambda: BatchedScoreNet(1, 1, 1.0, 0.1, 0), ValueError, "n_levels must be a positive integer, got n_levels=0"),
        (lambda: BatchedScoreNet(1, 0, 1.0, 0.1, 3), ValueError, "dim must be a positive integer, got dim=0"),
        (lambda: sinusoidal_embedding(torch.zeros(2), 15), ValueError, "positive even integer, got n_features=15"),
    ],
)
def test_constructors_reject_bad_sizes(build, error, message):
    with pytest.raises(error, match=message):
        build()


def test_run_indices_are_checked():
    mlp = BatchedMLP(2, (1, 4, 1))
    mlp.reset_parameters(_generators(2))
    score = _score_network(2, 1, 3, torch.float32)
    with pytest.raises(TypeError, match="run=1.5"):
        export_mlp(mlp, 1.5)
    with pytest.raises(TypeError, match="run=True"):
        export_mlp(mlp, True)
    with pytest.raises(TypeError, match="run=1.5"):
        score.select_run(1.5)
    with pytest.raises(ValueError, match=r"indices\[1\] must be an index in \[0, 1\], got indices\[1\]=-1"):
        select_runs(mlp, [0, -1])
    with pytest.raises(ValueError, match="at least one run"):
        select_runs(mlp, [])


def test_parameter_count_per_run_needs_a_divisor():
    mlp = BatchedMLP(2, (1, 4, 1))
    # Per run: (1 + 1) * 4 + (4 + 1) * 1 = 13, so 26 in all.
    assert count_parameters(mlp, runs=2) == 13
    with pytest.raises(ValueError, match="runs must divide the 26 trainable parameters"):
        count_parameters(mlp, runs=3)


def test_epoch_loss_is_a_mean_over_samples(monkeypatch):
    # Each step reports its batch size as its loss: 30 samples in batches of 12 give batches of 12, 12 and 6,
    # whose mean over samples is (12 * 12 + 12 * 12 + 6 * 6) / 30 = 10.8 (a mean over batches would give 10).
    def step(self, x, generators):
        return {"loss": torch.full((x.shape[0],), float(x.shape[1]))}

    monkeypatch.setattr(training._VAETask, "step", step)
    config = TrainingConfig.profile("quick", epochs=1, n_samples=30, batch_size=12, device="cpu")
    trained = train("vae", ms=[1.0], seeds=[0], config=config, progress=False)
    assert trained.history["loss"][0, 0] == pytest.approx(10.8, rel=1e-6)


def test_spectral_norm_generator_stays_near_one_lipschitz():
    from isobounds_models.networks import mlp_weights

    config = TrainingConfig.profile("quick", epochs=2, n_samples=400, batch_size=50, lr=1e-2, device="cpu",
                                    generator_spectral_norm=True)
    trained = train("gan", ms=[4.0], seeds=[0], config=config, progress=False)
    generator = trained.get_generator(0)
    layers, _ = mlp_weights(generator)
    # The estimate u^T W v never exceeds the largest singular value, so each layer norm is 1 or a little above.
    norms = [np.linalg.norm(weight, 2) for weight, _ in layers]
    for norm in norms:
        assert 1.0 - 1e-6 <= norm <= 1.01
    # LeakyReLU(0.2) is 1-Lipschitz, so the slopes on a fine grid stay below the product of the layer norms.
    z = np.linspace(-10.0, 10.0, 20_001)
    with torch.no_grad():
        g = generator.double()(torch.from_numpy(z)[:, None]).numpy()[:, 0]
    assert np.abs(np.diff(g) / np.diff(z)).max() <= np.prod(norms) * (1 + 1e-9)


def test_training_without_progress_bar_logs_epochs(caplog):
    # Without tqdm (standard error not a terminal) the log shows the start and each checkpoint epoch.
    config = TrainingConfig.profile("quick", epochs=4, n_samples=40, batch_size=20, checkpoint_every=2, device="cpu")
    with caplog.at_level("INFO", logger="isobounds_models.training"):
        train("gan", ms=[1.0], seeds=[0], config=config, progress=False)
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "training gan: 1 run(s) on cpu, 4 of 4 epochs to go",
        "trained gan: epoch 2 of 4",
        "trained gan: epoch 4 of 4",
    ]
