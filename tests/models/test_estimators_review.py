"""Sample-based and score-model measurements against independent computations.

The kernel estimator of ``sample_distances`` is checked on samples of a known
law against the smoothed TV and KL computed by scipy quadrature. The score
Lipschitz estimates are checked against the closed-form derivative of the
score of a two-Gaussian mixture, and ``langevin_lipschitz`` against central
differences of the chain written here in float64. The remaining tests cover
the argument checks.
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

torch = pytest.importorskip("torch")

from _training_helpers import tiny_config  # noqa: E402
from isobounds_models.measure import (  # noqa: E402
    grid_lipschitz,
    langevin_lipschitz,
    langevin_schedule,
    sample_distances,
    score_lipschitz_per_level,
    smoothing_bandwidth,
)
from isobounds_models.sampling import annealed_langevin, check_sigmas  # noqa: E402
from isobounds_models.training import train  # noqa: E402


def _mixture_score(m):
    """Exact score of ``(1/2)[N(-m, 1) + N(m, 1)]`` convolved with ``N(0, sigma^2)``, written in torch."""
    def score(x, sigma):
        variance = 1.0 + sigma**2
        return -x / variance + (m / variance) * torch.tanh(m * x / variance)
    return score


def _mixture_score_slope_max(m, sigma):
    """``max_x |d score/dx|``: ``-1/v + (m^2/v^2) sech^2(m x / v)`` is extreme at ``x = 0`` or as ``|x| -> inf``."""
    variance = 1.0 + sigma**2
    return max(1.0 / variance, abs(m**2 / variance**2 - 1.0 / variance))


def _smoothed_distances(m, shift, scale, weight, h):
    """TV and KL between the smoothed model and target laws by scipy quadrature.

    The model is ``weight N(-m + shift, scale^2) + (1 - weight) N(m + shift, scale^2)``
    and the target ``(1/2)[N(-m, 1) + N(m, 1)]``, both convolved with ``N(0, h^2)``.
    """
    model_scale = math.hypot(scale, h)
    target_scale = math.hypot(1.0, h)

    def model(x):
        return (weight * stats.norm.pdf(x, -m + shift, model_scale)
                + (1 - weight) * stats.norm.pdf(x, m + shift, model_scale))

    def target(x):
        return 0.5 * stats.norm.pdf(x, -m, target_scale) + 0.5 * stats.norm.pdf(x, m, target_scale)

    def kl_integrand(x):
        p = model(x)
        return 0.0 if p == 0.0 else p * (math.log(p) - math.log(target(x)))

    reach = m + abs(shift) + 15 * max(model_scale, target_scale)
    points = sorted({-m, m, -m + shift, m + shift})
    tv = 0.5 * integrate.quad(lambda x: abs(model(x) - target(x)), -reach, reach, points=points, limit=500)[0]
    kl = integrate.quad(kl_integrand, -reach, reach, points=points, limit=500)[0]
    return tv, kl


# ----------------------------------------------------------------------------
# Kernel estimator of sample_distances
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("m, shift, scale, weight", [(3.0, 0.3, 1.0, 0.5), (2.0, 0.0, 1.3, 0.5), (4.0, 0.0, 1.0, 0.3)])
def test_kde_distances_match_quadrature(m, shift, scale, weight):
    n, replicates = 5000, 40
    tv_true, kl_true = _smoothed_distances(m, shift, scale, weight, smoothing_bandwidth(n))

    estimates = []
    for replicate in range(replicates):
        rng = np.random.default_rng(100 + replicate)
        samples = np.where(rng.random(n) < weight, -m, m) + shift + scale * rng.standard_normal(n)
        estimates.append(sample_distances(samples, m, n_bootstrap=20, seed=replicate))
    tv = np.array([d.tv for d in estimates])
    tv_se = np.array([d.tv_se for d in estimates])
    kl = np.array([d.kl for d in estimates])
    kl_se = np.array([d.kl_se for d in estimates])

    # The mean over replicates lies within one bootstrap error bar of the smoothed distance.
    assert abs(tv.mean() - tv_true) <= tv_se.mean()
    assert abs(kl.mean() - kl_true) <= kl_se.mean()
    # estimate +- 1.96 se covered the smoothed distance in 90 % to 94 % of 200 replicates of 20,000 samples.
    # At 40 replicates, a count of 30 lies 4 binomial standard deviations below 90 %.
    assert np.count_nonzero(np.abs(tv - tv_true) <= 1.96 * tv_se) >= 30
    assert np.count_nonzero(np.abs(kl - kl_true) <= 1.96 * kl_se) >= 30


def test_sample_distances_rejects_complex_samples():
    samples = np.random.default_rng(0).standard_normal(50) + 1j
    with pytest.raises(TypeError, match="samples must be real numbers, got an array of dtype complex128"):
        sample_distances(samples, 1.0)


def test_sample_distances_rejects_boolean_samples():
    with pytest.raises(TypeError, match="samples must be real numbers, got an array of dtype bool"):
        sample_distances(np.ones(50, dtype=bool), 1.0)


def test_sample_distances_rejects_text_samples():
    with pytest.raises(TypeError, match="samples must be real numbers, got an array of dtype <U1"):
        sample_distances(["a"] * 50, 1.0)


@pytest.mark.parametrize("name, arguments", [
    ("m", dict(m=None)),
    ("m", dict(m=np.array([1.0, 2.0]))),
    ("sigma", dict(m=1.0, sigma=torch.tensor([1.0, 2.0]))),
], ids=["m-none", "m-array", "sigma-tensor"])
def test_sample_distances_names_non_real_target(name, arguments):
    samples = np.random.default_rng(0).standard_normal(50)
    with pytest.raises(TypeError, match=f"{name} must be a real number"):
        sample_distances(samples, **arguments)


def test_sample_distances_accepts_tensor_m():
    samples = np.random.default_rng(0).standard_normal(50)

    from_tensor = sample_distances(samples, torch.tensor(2.0), sigma=torch.tensor(1.0), n_bootstrap=2)
    from_float = sample_distances(samples, 2.0, sigma=1.0, n_bootstrap=2)

    assert from_tensor == from_float


# ----------------------------------------------------------------------------
# Score Lipschitz constants
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("m", [0.0, 1.0, 2.0, 4.0, 8.0])
def test_score_lipschitz_of_mixture_score(m, dtype):
    sigmas = [1.0, 0.3, 0.1, 0.01]
    expected = np.array([_mixture_score_slope_max(m, sigma) for sigma in sigmas])

    estimate = score_lipschitz_per_level(_mixture_score(m), sigmas, dtype=dtype)

    # The grid of [-15, 15] contains x = 0, and at |x| = 15 the slope is within 1e-6 of its limit.
    np.testing.assert_allclose(estimate, expected, rtol=1e-5)


@pytest.mark.parametrize("shape_of", [lambda x: x.sum(), lambda x: x.reshape(-1)], ids=["scalar", "flat"])
def test_score_lipschitz_rejects_score_of_other_shape(shape_of):
    with pytest.raises(ValueError, match=r"score_fn must return a tensor of the shape of x, \(4001, 1\)"):
        score_lipschitz_per_level(lambda x, sigma: shape_of(x**2), [1.0])


def test_score_lipschitz_rejects_non_tensor_score():
    with pytest.raises(TypeError, match="score_fn must return a torch.Tensor, got ndarray"):
        score_lipschitz_per_level(lambda x, sigma: x.detach().numpy(), [1.0])


def test_grid_lipschitz_rejects_wrong_output_size():
    with pytest.raises(ValueError, match="function must return one value per grid point, got 3 values"):
        grid_lipschitz(lambda grid: grid[:3], 0.0, 1.0, 10)


def test_grid_lipschitz_names_non_real_low():
    with pytest.raises(TypeError, match="low must be a real number"):
        grid_lipschitz(np.sin, None, 1.0, 10)


# ----------------------------------------------------------------------------
# Lipschitz constant of the Langevin sampler
# ----------------------------------------------------------------------------


def _chain_float64(z, m, levels, steps):
    """The Langevin chain of the mixture score in plain float64 arithmetic, ``z = (z_0, ..., z_N)``."""
    x = z[0]
    for k in range(levels.size):
        variance = 1.0 + levels[k] ** 2
        score = -x / variance + (m / variance) * math.tanh(m * x / variance)
        x = x + 0.5 * steps[k] * score + math.sqrt(steps[k]) * z[k + 1]
    return x


@pytest.mark.parametrize("n_candidates", [None, 200])
def test_langevin_lipschitz_matches_finite_differences(n_candidates):
    m, sigmas, steps_per_level, step_size, seed = 3.0, [1.0, 0.5, 0.1], 5, 0.02, 3
    levels, steps = langevin_schedule(sigmas, steps_per_level, step_size)
    result = langevin_lipschitz(_mixture_score(m), sigmas, steps_per_level, step_size, n_trajectories=8, seed=seed,
                                n_candidates=n_candidates, dtype=torch.float64)

    # The inputs as langevin_lipschitz draws them: one float32 draw of shape (N + 1, draws, 1).
    draws = 8 if n_candidates is None else n_candidates
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(levels.size + 1, draws, 1, generator=generator).double().numpy()[:, :, 0]
    assert result.indices.size == 8

    delta = 1e-6
    for position, index in enumerate(result.indices):
        z = inputs[:, index]
        gradient = np.empty(z.size)
        for i in range(z.size):
            step = np.zeros(z.size)
            step[i] = delta
            gradient[i] = (_chain_float64(z + step, m, levels, steps)
                           - _chain_float64(z - step, m, levels, steps)) / (2 * delta)
        assert result.samples[position] == pytest.approx(_chain_float64(z, m, levels, steps), rel=1e-12, abs=1e-12)
        assert result.local[position] == pytest.approx(np.linalg.norm(gradient), rel=1e-7)
        assert result.initial_gain[position] == pytest.approx(abs(gradient[0]), rel=1e-6)


def test_langevin_lipschitz_of_linear_score():
    variance, sigmas, steps_per_level, step_size, scale = 2.0, [1.0, 0.5, 0.1], 5, 0.02, 1.7
    levels, steps = langevin_schedule(sigmas, steps_per_level, step_size)
    factors = 1.0 - steps / (2.0 * variance)
    terms = [scale * np.prod(factors)] + [math.sqrt(steps[j]) * np.prod(factors[j + 1:]) for j in range(steps.size)]

    result = langevin_lipschitz(lambda x, sigma: -x / variance, sigmas, steps_per_level, step_size,
                                n_trajectories=4, init_scale=scale, dtype=torch.float64)

    np.testing.assert_allclose(result.local, np.linalg.norm(terms), rtol=1e-12)
    np.testing.assert_allclose(result.initial_gain, terms[0], rtol=1e-12)


@pytest.mark.parametrize("n_trajectories", [1, 3])
def test_langevin_lipschitz_rejects_score_of_other_shape(n_trajectories):
    with pytest.raises(ValueError, match=r"score_fn must return a tensor of the shape of x"):
        langevin_lipschitz(lambda x, sigma: -x.reshape(-1), [1.0], 2, 0.1, n_trajectories=n_trajectories)


def test_langevin_lipschitz_names_non_real_boundary():
    with pytest.raises(TypeError, match="boundary must be a real number"):
        langevin_lipschitz(lambda x, sigma: -x, [1.0], 2, 0.1, boundary=None)


# ----------------------------------------------------------------------------
# Annealed Langevin sampler
# ----------------------------------------------------------------------------


def test_annealed_langevin_rejects_array_noise():
    with pytest.raises(TypeError, match="noise must be a floating-point torch.Tensor or None, got noise of type "
                                        "ndarray"):
        annealed_langevin(lambda x, sigma: -x, torch.zeros(4, 1), [1.0], 2, 0.1, noise=np.zeros((2, 4, 1)))


def test_annealed_langevin_rejects_score_of_other_shape():
    # One step would broadcast (4, 1) + (4,) to (4, 4) without the check.
    with pytest.raises(ValueError, match=r"score must return a tensor of the shape of x, \(4, 1\), got shape \(4,\)"):
        annealed_langevin(lambda x, sigma: -x.reshape(-1), torch.zeros(4, 1), [1.0], 1, 0.1)


@pytest.mark.parametrize("sigmas", ["ab", [1.0, None]], ids=["text", "none-entry"])
def test_check_sigmas_names_non_numeric_levels(sigmas):
    with pytest.raises(TypeError, match="sigmas must be a one-dimensional sequence of real numbers"):
        check_sigmas(sigmas)


# ----------------------------------------------------------------------------
# TrainedModels.sample_all
# ----------------------------------------------------------------------------


def test_sample_all_rows_use_own_latents():
    trained = train("gan", ms=[2.0], seeds=[0, 1, 2], config=tiny_config(epochs=1), progress=False)
    n, seed = 500, 7

    rows = trained.sample_all(n, seed=seed)
    latents = torch.randn(3, n, 1, generator=torch.Generator().manual_seed(seed))
    for run in range(3):
        with torch.no_grad():
            expected = trained.get_generator(run)(latents[run]).double().numpy()[:, 0]
        np.testing.assert_allclose(rows[run], expected, rtol=1e-5, atol=1e-5)

    # sample() draws for one run at a time, so one seed gives every run the same latents.
    single = torch.randn(1, n, 1, generator=torch.Generator().manual_seed(seed))[0]
    for run in range(3):
        with torch.no_grad():
            expected = trained.get_generator(run)(single).double().numpy()[:, 0]
        np.testing.assert_allclose(trained.sample(run, n, seed=seed), expected, rtol=1e-5, atol=1e-5)


def test_evaluate_run_draws_each_run_separately():
    # Two score-model runs of one m with different seeds. With one shared sample seed their
    # Langevin chains start from the same latent draw, and their samples have a rank
    # correlation of about 0.9997. The sampling errors of a sweep then do not average out.
    from scipy import stats

    from isobounds_models import experiments, train

    settings = experiments.experiment_settings("micro", "cpu")
    trained = train("sgm", ms=[3.0], seeds=[0, 1], config=settings.training, progress=False)
    _, first = experiments.evaluate_run(trained, 0, settings.evaluation)
    _, second = experiments.evaluate_run(trained, 1, settings.evaluation)

    correlation = stats.spearmanr(first, second).statistic
    # Independent draws of 500 points: the rank correlation has standard deviation about 0.045.
    assert abs(correlation) < 0.25
