"""Batched training, losses, determinism and resume (isobounds_models.training)."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from scipy import stats  # noqa: E402

from isobounds_models.checkpoint import load_checkpoint  # noqa: E402
from isobounds_models.measure import piecewise_linear_from_module  # noqa: E402
from isobounds_models.training import (  # noqa: E402
    TrainedModels,
    TrainingConfig,
    denoising_score_matching_loss,
    generator_gradient_penalty,
    resolve_device,
    train,
    vae_loss_terms,
)
from _training_helpers import tiny_config, trained_state  # noqa: E402

MODELS = ["vae", "gan", "sgm"]


class _Interrupt(Exception):
    pass


def _interrupt_at(epoch_to_stop):
    def callback(epoch, trained):
        if epoch == epoch_to_stop:
            raise _Interrupt

    return callback


# Losses against independent formulas.


def test_vae_kl_term_matches_torch_distributions():
    # The KL term uses the variance sigma^2 = exp(log_var), not sigma^4.
    mu = torch.tensor([[0.3], [-1.2], [2.0]], dtype=torch.float64)
    log_var = torch.tensor([[0.5], [-2.0], [1.3]], dtype=torch.float64)
    x = torch.zeros(3, 1, dtype=torch.float64)
    _, kl = vae_loss_terms(x, x, mu, log_var, 0.1)
    posterior = torch.distributions.Normal(mu, torch.exp(0.5 * log_var))
    prior = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    assert torch.allclose(kl, torch.distributions.kl_divergence(posterior, prior).sum(-1), rtol=1e-12)


def test_vae_reconstruction_is_gaussian_negative_log_likelihood():
    c = 0.1
    x = torch.tensor([[0.4], [-3.0]], dtype=torch.float64)
    decoded = torch.tensor([[0.1], [-2.5]], dtype=torch.float64)
    zeros = torch.zeros(2, 1, dtype=torch.float64)
    reconstruction, _ = vae_loss_terms(x, decoded, zeros, zeros, c)
    negative_log_likelihood = -torch.distributions.Normal(decoded, c).log_prob(x).sum(-1)
    constant = math.log(c * math.sqrt(2 * math.pi))
    assert torch.allclose(reconstruction, negative_log_likelihood - constant, rtol=1e-12)


def test_dsm_loss_is_minimised_by_true_score():
    # Data N(0, s0^2): the perturbed score is -x / (s0^2 + sigma^2). The
    # expected loss of the true score is below that of scaled versions.
    generator = torch.Generator().manual_seed(0)
    n = 200_000
    s0 = 0.7
    x = s0 * torch.randn(n, 1, generator=generator, dtype=torch.float64)
    noise = torch.randn(n, 1, generator=generator, dtype=torch.float64)
    sigma = torch.full((n,), 0.5, dtype=torch.float64)
    perturbed = x + 0.5 * noise

    def mean_loss(scale):
        score = -scale * perturbed / (s0**2 + 0.25)
        return denoising_score_matching_loss(score, sigma, noise).mean().item()

    assert mean_loss(1.0) < mean_loss(0.8)
    assert mean_loss(1.0) < mean_loss(1.2)


def test_dsm_loss_weighting_is_sigma_squared():
    score = torch.tensor([[2.0]], dtype=torch.float64)
    noise = torch.tensor([[0.5]], dtype=torch.float64)
    sigma = torch.tensor([0.1], dtype=torch.float64)
    # (1/2) sigma^2 (s + z/sigma)^2 = 0.5 * 0.01 * (2 + 5)^2
    assert denoising_score_matching_loss(score, sigma, noise).item() == pytest.approx(0.5 * 0.01 * 49.0)


def test_gradient_penalty_forms():
    gradients = torch.tensor([[[1.0], [3.0], [-2.0]]], dtype=torch.float64)
    lip = 5.0
    # squared: (10 / 25) * max((1 - 5)^2, (9 - 5)^2, (4 - 5)^2) = 0.4 * 16
    assert generator_gradient_penalty(gradients, lip, "squared").item() == pytest.approx(6.4)
    # norm: (max |g'| - 5)^2 = (3 - 5)^2
    assert generator_gradient_penalty(gradients, lip, "norm").item() == pytest.approx(4.0)


@pytest.mark.parametrize("form, expected", [("norm", 16.0), ("squared", 4.0)])
def test_gradient_penalty_steers_the_exact_lipschitz_constant(form, expected):
    # The norm form pulls max |g'| to the target 16; the written form pulls max g'^2 to 16, so |g'| to 4.
    config = TrainingConfig.profile("quick", ms=(5.0,), seeds=(0,), epochs=3, n_samples=10_000, device="cpu",
                                    gradient_penalty_lip=16.0, gradient_penalty_form=form)
    trained = train("gan", config=config, progress=False)
    lip = piecewise_linear_from_module(trained.get_generator(0)).lipschitz_constant()
    assert float(lip) == pytest.approx(expected, rel=0.15)


def test_gradient_penalty_default_reaches_the_target():
    assert TrainingConfig().gradient_penalty_form == "norm"


def test_gradient_penalty_of_exported_generator_matches_finite_differences():
    trained = train("gan", ms=[1.0], seeds=[0], config=tiny_config(epochs=1), progress=False)
    generator = trained.get_generator(0).double()
    z = torch.linspace(-3, 3, 61, dtype=torch.float64).reshape(1, -1, 1).requires_grad_(True)
    (gradients,) = torch.autograd.grad(generator(z[0]).sum(), z)
    h = 1e-6
    with torch.no_grad():
        slopes = (generator(z[0] + h) - generator(z[0] - h)) / (2 * h)
    squared = (10 / 4.0) * ((slopes**2 - 2.0) ** 2).max()
    norm = (slopes.abs().max() - 2.0) ** 2
    assert generator_gradient_penalty(gradients, 2.0, "squared").item() == pytest.approx(squared.item(), rel=1e-5)
    assert generator_gradient_penalty(gradients, 2.0, "norm").item() == pytest.approx(norm.item(), rel=1e-5)


# Learning.


@pytest.mark.parametrize("model", MODELS)
def test_loss_falls(model):
    trained = train(model, ms=[2.0], seeds=[0], config=tiny_config(epochs=6), progress=False)
    name = "generator" if model == "gan" else "loss"
    history = trained.history[name][0]
    assert history.shape == (6,)
    if model == "gan":
        # The adversarial losses need not fall, but the discriminator must
        # learn: its loss starts near 2 log 2 and moves away from it.
        assert abs(trained.history["discriminator"][0, -1] - 2 * math.log(2)) > 1e-3
    else:
        assert history[-1] < history[0]


@pytest.mark.parametrize("model", ["vae", "sgm"])
def test_unimodal_target_is_fitted(model):
    # m = 0 is N(0, 1). The Kolmogorov-Smirnov statistic of 4,000 samples
    # of an exact fit is below 0.03 with probability 0.99; a bad fit shows
    # far larger values (an untrained VAE decoder gives about 0.4).
    config = tiny_config(epochs=20, n_samples=2000, batch_size=200, lr=2e-3, steps_per_level=20, langevin_eps=1e-4)
    trained = train(model, ms=[0.0], seeds=[0], config=config, progress=False)
    samples = trained.sample(0, 4000, seed=1)
    assert abs(samples.mean()) < 0.1
    assert abs(samples.std() - 1.0) < 0.1
    assert stats.kstest(samples, "norm").statistic < 0.06


def test_gan_generator_spreads_towards_target():
    # The initial generator maps N(0, 1) to a narrow band (standard deviation
    # about 0.1); a few adversarial steps on N(0, 1) data must widen it.
    # A GAN is not expected to fit in so few steps, so only the spread is checked.
    config = tiny_config(epochs=4, n_samples=2000, batch_size=100, lr=2e-4)
    before = train("gan", ms=[0.0], seeds=[0], config=tiny_config(epochs=1, lr=1e-12), progress=False)
    after = train("gan", ms=[0.0], seeds=[0], config=config, progress=False)
    std_before = before.sample(0, 4000, seed=1).std()
    std_after = after.sample(0, 4000, seed=1).std()
    assert std_after > 2 * std_before
    assert abs(std_after - 1.0) < abs(std_before - 1.0)


# Batching, determinism and resume.


@pytest.mark.parametrize("model", MODELS)
def test_batched_run_equals_run_alone(model):
    config = tiny_config(epochs=2)
    batched = train(model, ms=[0.0, 2.0, 5.0], seeds=[1], config=config, progress=False)
    alone = train(model, ms=[2.0], seeds=[1], config=config, progress=False)
    batched_state, alone_state = trained_state(batched), trained_state(alone)
    # Batched and single products round differently, and Adam's first steps
    # move each weight by about lr * sign(gradient), so weights whose gradient
    # is near 0 may differ by up to lr. Hence a relative-norm tolerance; mixing
    # up runs' data or randomness gives differences of order 1.
    for name, value in alone_state.items():
        difference = (batched_state[name][1] - value[0]).norm() / value[0].norm().clamp_min(1e-12)
        assert difference < 5e-3, name
    for name, values in alone.history.items():
        assert np.allclose(batched.history[name][1], values[0], rtol=1e-3, atol=1e-4), name
    assert np.allclose(batched.sample(1, 200, seed=0), alone.sample(0, 200, seed=0), rtol=1e-2, atol=1e-2)


def test_adam_falls_back_without_fused_kernel(monkeypatch):
    from isobounds_models.training import _VAETask

    adam = torch.optim.Adam

    def adam_without_fused(parameters, fused=None, **options):
        if fused:
            raise RuntimeError("`fused=True` requires all the params to be on a supported device")
        return adam(parameters, **options)

    config = tiny_config()
    fused = _VAETask(config, 1, torch.device("cpu")).optimizers["vae"]
    monkeypatch.setattr(torch.optim, "Adam", adam_without_fused)
    fallback = _VAETask(config, 1, torch.device("cpu")).optimizers["vae"]
    assert fallback.defaults["foreach"] is True
    assert not fallback.defaults["fused"]
    assert fallback.defaults["lr"] == fused.defaults["lr"]
    assert fallback.defaults["betas"] == fused.defaults["betas"]


@pytest.mark.parametrize("model", MODELS)
def test_same_seed_same_weights(model):
    first = train(model, ms=[3.0], seeds=[2], config=tiny_config(epochs=2), progress=False)
    second = train(model, ms=[3.0], seeds=[2], config=tiny_config(epochs=2), progress=False)
    for name, value in trained_state(first).items():
        assert torch.equal(value, trained_state(second)[name]), name


def test_other_seed_other_weights():
    first = train("vae", ms=[3.0], seeds=[2], config=tiny_config(epochs=1), progress=False)
    second = train("vae", ms=[3.0], seeds=[3], config=tiny_config(epochs=1), progress=False)
    assert not torch.equal(trained_state(first)["vae.decoder.layers.0.weight"], trained_state(second)["vae.decoder.layers.0.weight"])


@pytest.mark.parametrize("model", MODELS)
def test_resume_equals_uninterrupted(model, tmp_path):
    config = tiny_config(epochs=5, checkpoint_every=2)
    uninterrupted = train(model, ms=[1.0, 4.0], seeds=[0], config=config, progress=False)

    with pytest.raises(_Interrupt):
        train(model, ms=[1.0, 4.0], seeds=[0], config=config, checkpoint_dir=tmp_path, progress=False,
              callback=_interrupt_at(3))
    assert load_checkpoint(tmp_path)["epoch"] == 2
    resumed = train(model, ms=[1.0, 4.0], seeds=[0], config=config, checkpoint_dir=tmp_path, resume=True,
                    progress=False)

    assert resumed.epochs_completed == 5
    for name, value in trained_state(uninterrupted).items():
        assert torch.equal(value, trained_state(resumed)[name]), name
    for name, values in uninterrupted.history.items():
        assert np.array_equal(values, resumed.history[name]), name


@pytest.mark.parametrize(
    "model, overrides",
    [
        ("gan", {"generator_spectral_norm": True, "gradient_penalty_lip": 3.0, "gan_loss": "hinge"}),
        ("gan", {"generator_hidden": (8, 8, 8), "generator_skip": "densenet", "gradient_penalty_lip": 2.0,
                 "gradient_penalty_form": "squared"}),
        ("vae", {"generator_spectral_norm": True, "generator_hidden": (8, 8), "generator_skip": "resnet"}),
    ],
)
def test_resume_of_variants_equals_uninterrupted(model, overrides, tmp_path):
    config = TrainingConfig.profile("quick", epochs=3, n_samples=30, batch_size=12, checkpoint_every=1,
                                    device="cpu", **overrides)
    arguments = {"ms": [1.0, 3.0], "seeds": [0], "config": config, "progress": False}
    uninterrupted = train(model, **arguments)
    with pytest.raises(_Interrupt):
        train(model, checkpoint_dir=tmp_path, callback=_interrupt_at(2), **arguments)
    assert load_checkpoint(tmp_path)["epoch"] == 1
    resumed = train(model, checkpoint_dir=tmp_path, resume=True, **arguments)

    # The spectral-normalisation vectors u, v are buffers, so they are compared too.
    for name, value in trained_state(uninterrupted).items():
        assert torch.equal(value, trained_state(resumed)[name]), name
    for name, values in uninterrupted.history.items():
        assert np.array_equal(values, resumed.history[name]), name


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    fresh = train("sgm", ms=[1.0], seeds=[0], config=tiny_config(epochs=1), checkpoint_dir=tmp_path, resume=True,
                  progress=False)
    assert fresh.epochs_completed == 1
    assert load_checkpoint(tmp_path)["epoch"] == 1


def test_resume_extends_training(tmp_path):
    train("vae", ms=[1.0], seeds=[0], config=tiny_config(epochs=2), checkpoint_dir=tmp_path, progress=False)
    extended = train("vae", ms=[1.0], seeds=[0], config=tiny_config(epochs=3), checkpoint_dir=tmp_path, resume=True,
                     progress=False)
    straight = train("vae", ms=[1.0], seeds=[0], config=tiny_config(epochs=3), progress=False)
    for name, value in trained_state(straight).items():
        assert torch.equal(value, trained_state(extended)[name]), name


def test_resume_rejects_other_configuration(tmp_path):
    train("vae", ms=[1.0], seeds=[0], config=tiny_config(epochs=1), checkpoint_dir=tmp_path, progress=False)
    with pytest.raises(ValueError, match="lr"):
        train("vae", ms=[1.0], seeds=[0], config=tiny_config(epochs=1, lr=0.5), checkpoint_dir=tmp_path, resume=True,
              progress=False)


def test_save_and_load_round_trip(tmp_path):
    trained = train("gan", ms=[2.0], seeds=[0, 1], config=tiny_config(epochs=1), progress=False)
    trained.save(tmp_path)
    loaded = TrainedModels.load(tmp_path)
    assert loaded.runs == trained.runs
    assert np.array_equal(loaded.sample(1, 100, seed=3), trained.sample(1, 100, seed=3))
    assert np.array_equal(loaded.history["generator"], trained.history["generator"])


# Sampling through the trained object.


def test_sample_matches_exported_generator():
    trained = train("vae", ms=[2.0, 3.0], seeds=[0], config=tiny_config(epochs=1), progress=False)
    run = trained.run_index(m=3.0, seed=0)
    z = torch.randn(1, 50, 1, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = trained.get_generator(run)(z[0]).double().numpy()[:, 0]
    assert np.allclose(trained.sample(run, 50, seed=5), expected, rtol=1e-6, atol=1e-6)


def test_sample_all_matches_sample():
    trained = train("sgm", ms=[1.0, 3.0], seeds=[0], config=tiny_config(epochs=1), progress=False)
    assert np.allclose(trained.sample_all(30, seed=2, runs=[1])[0], trained.sample(1, 30, seed=2))


def test_score_fn_is_differentiable():
    trained = train("sgm", ms=[2.0], seeds=[0], config=tiny_config(epochs=1), progress=False)
    score = trained.score_fn(0)
    x = torch.linspace(-2, 2, 7).reshape(7, 1)
    jacobian = torch.func.jacrev(lambda y: score(y, 0.1))(x)
    h = 1e-2
    with torch.no_grad():
        finite = (score(x + h, 0.1) - score(x - h, 0.1)) / (2 * h)
    # The network is piecewise linear in x, so a central difference is exact
    # away from kinks; allow for a kink inside the step.
    diagonal = torch.diagonal(jacobian[:, 0, :, 0])
    assert torch.allclose(diagonal, finite[:, 0], rtol=0.05, atol=0.05)


def test_langevin_sampler_matches_sample():
    trained = train("sgm", ms=[2.0], seeds=[0], config=tiny_config(epochs=1), progress=False)
    steps = trained.config.n_levels * trained.config.steps_per_level
    # sample() draws x0 and then one noise tensor per step from the same seed.
    expected = trained.sample(0, 25, seed=4)
    replay = torch.Generator().manual_seed(4)
    replay_x0 = torch.randn(1, 25, 1, generator=replay)
    replay_noise = torch.stack([torch.randn(1, 25, 1, generator=replay) for _ in range(steps)])
    with torch.no_grad():
        replayed = trained.langevin_sampler(0)(replay_x0[0], replay_noise[:, 0])
    assert replayed.shape == (25, 1)
    assert np.allclose(replayed.double().numpy()[:, 0], expected, rtol=1e-5, atol=1e-5)


def test_history_shapes_per_model():
    trained = train("gan", ms=[1.0, 2.0], seeds=[0, 1, 2], config=tiny_config(epochs=2, gradient_penalty_lip=5.0),
                    progress=False)
    assert set(trained.history) == {"discriminator", "generator", "penalty"}
    assert all(values.shape == (6, 2) for values in trained.history.values())
    assert trained.loss_history(4)["penalty"].shape == (2,)
    assert trained.config.ms == (1.0, 2.0)
    assert trained.config.seeds == (0, 1, 2)


@pytest.mark.parametrize("skip", ["resnet", "densenet"])
def test_generator_variants_train(skip):
    config = tiny_config(epochs=1, generator_hidden=(32, 32, 32), generator_skip=skip, generator_spectral_norm=True)
    trained = train("gan", ms=[2.0], seeds=[0], config=config, progress=False)
    assert type(trained.get_generator(0)).__name__ == "SkipMLP"
    assert np.isfinite(trained.sample(0, 20, seed=0)).all()


def test_profiles():
    quick, paper = TrainingConfig.profile("quick"), TrainingConfig.profile("paper")
    assert (paper.epochs, paper.batch_size, paper.n_samples, paper.lr, paper.beta1) == (400, 1000, 50_000, 1e-4, 0.9)
    assert len(paper.seeds) == 10
    assert paper.ms == tuple(float(m) for m in range(11))
    assert max(quick.ms) == 10.0
    assert TrainingConfig.from_dict(quick.to_dict()) == quick


# Bad input.


def test_unknown_model_rejected():
    with pytest.raises(ValueError, match="model='flow'"):
        train("flow", ms=[1.0], seeds=[0], config=tiny_config())


def test_negative_m_rejected():
    with pytest.raises(ValueError, match="m=-1"):
        train("vae", ms=[-1.0], seeds=[0], config=tiny_config())


def test_negative_seed_rejected():
    with pytest.raises(ValueError, match="seed=-2"):
        train("vae", ms=[1.0], seeds=[-2], config=tiny_config())


def test_unknown_device_rejected():
    with pytest.raises(ValueError, match="device='tpu'"):
        TrainingConfig(device="tpu")


def test_unknown_profile_rejected():
    with pytest.raises(ValueError, match="name='slow'"):
        TrainingConfig.profile("slow")


def test_unknown_gan_loss_rejected():
    with pytest.raises(ValueError, match="gan_loss='wasserstein'"):
        TrainingConfig(gan_loss="wasserstein")


def test_resume_needs_folder():
    with pytest.raises(ValueError, match="checkpoint_dir"):
        train("vae", ms=[1.0], seeds=[0], config=tiny_config(), resume=True)


def test_score_fn_of_gan_rejected():
    trained = train("gan", ms=[1.0], seeds=[0], config=tiny_config(epochs=1), progress=False)
    with pytest.raises(ValueError, match="model='sgm'"):
        trained.score_fn(0)


def test_run_out_of_range_rejected():
    trained = train("vae", ms=[1.0], seeds=[0], config=tiny_config(epochs=1), progress=False)
    with pytest.raises(ValueError, match="run=3"):
        trained.sample(3, 10)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown when CUDA is missing")
def test_cuda_without_cuda_rejected():
    with pytest.raises(ValueError, match="device='cuda'"):
        resolve_device("cuda")


# GPU.


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("model", MODELS)
def test_cuda_training_follows_cpu(model):
    cpu = train(model, ms=[2.0], seeds=[0], config=tiny_config(epochs=2, device="cpu"), progress=False)
    cuda = train(model, ms=[2.0], seeds=[0], config=tiny_config(epochs=2, device="cuda"), progress=False)
    cuda_state = trained_state(cuda)
    for name, value in trained_state(cpu).items():
        assert torch.allclose(cuda_state[name].cpu(), value, rtol=1e-3, atol=1e-4), name
    assert np.allclose(cuda.sample(0, 100, seed=1), cpu.sample(0, 100, seed=1), rtol=1e-3, atol=1e-3)
