"""Annealed Langevin dynamics and push-forward sampling (isobounds_models.sampling)."""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from isobounds_models.sampling import (  # noqa: E402
    annealed_langevin,
    geometric_sigmas,
    langevin_noise,
    langevin_step_sizes,
    sample_pushforward,
)



def _gaussian_score(mean, variance):
    """Exact score of N(mean, variance) convolved with N(0, sigma^2)."""
    return lambda x, sigma: -(x - mean) / (variance + sigma**2)


def _gaussian_chain_moments(mean, variance, x0_mean, x0_variance, sigmas, steps_per_level, eps):
    """Mean and variance of the Langevin chain for a Gaussian target, by the exact scalar recursion.

    With the linear score, x_{k+1} = (1 - a/(2v)) x_k + a mean/(2v) + sqrt(a) z,
    v = variance + sigma^2, so the mean and variance follow in closed form.
    """
    m, s2 = x0_mean, x0_variance
    for sigma in sigmas:
        a = eps * sigma**2 / sigmas[-1] ** 2
        contraction = 1 - a / (2 * (variance + sigma**2))
        for _ in range(steps_per_level):
            m = contraction * m + (1 - contraction) * mean
            s2 = contraction**2 * s2 + a
    return m, s2


def test_geometric_sigmas_endpoints_and_ratio():
    sigmas = geometric_sigmas(1.0, 0.01, 10).numpy()
    assert np.allclose(sigmas, np.geomspace(1.0, 0.01, 10), rtol=1e-14)


def test_single_level_ladder():
    assert geometric_sigmas(0.5, 0.5, 1).tolist() == [0.5]


def test_step_sizes_formula():
    sigmas = geometric_sigmas()
    steps = langevin_step_sizes(sigmas, 2e-5).numpy()
    assert steps[-1] == pytest.approx(2e-5, rel=1e-14)
    assert steps[0] == pytest.approx(2e-5 * 1.0 / 0.01**2, rel=1e-12)


def test_chain_moments_match_exact_recursion():
    mean, variance = 1.5, 0.25
    sigmas = geometric_sigmas().tolist()
    x0, noise = langevin_noise((40_000, 1), 1000, generator=0, dtype=torch.float64)
    x = annealed_langevin(_gaussian_score(mean, variance), x0, sigmas, noise=noise).numpy()[:, 0]

    expected_mean, expected_variance = _gaussian_chain_moments(mean, variance, 0.0, 1.0, sigmas, 100, 2e-5)
    n = x.size
    # Tolerances: 5 Monte Carlo standard errors of the mean and variance of a Gaussian.
    assert abs(x.mean() - expected_mean) < 5 * math.sqrt(expected_variance / n)
    assert abs(x.var() - expected_variance) < 5 * expected_variance * math.sqrt(2 / n)


def test_chain_reaches_target_with_long_levels():
    # With a large step at every level the chain mixes, so x_N ~ N(mean, variance + sigma_last^2).
    mean, variance = -2.0, 1.0
    x0, noise = langevin_noise((20_000, 1), 3 * 200, generator=1, dtype=torch.float64)
    x = annealed_langevin(_gaussian_score(mean, variance), x0, [1.0, 0.5, 0.1], 200, eps=0.05, noise=noise)
    x = x.numpy()[:, 0]
    assert abs(x.mean() - mean) < 0.05
    assert abs(x.var() - (variance + 0.01)) < 0.06


def test_generator_draws_are_reproducible():
    score = _gaussian_score(0.0, 1.0)
    x0 = torch.zeros(100, 1)
    first = annealed_langevin(score, x0, [1.0, 0.1], 5, generator=7)
    second = annealed_langevin(score, x0, [1.0, 0.1], 5, generator=7)
    assert torch.equal(first, second)


def test_jacobian_in_initial_state_is_product_of_contractions():
    # For the linear score, dx_N/dx_0 is the product of (1 - a_k/(2 v_k)).
    mean, variance = 0.3, 0.5
    sigmas = [1.0, 0.3, 0.05]
    steps = 20
    eps = 1e-3
    x0, noise = langevin_noise((3, 1), len(sigmas) * steps, generator=2, dtype=torch.float64)
    score = _gaussian_score(mean, variance)

    jacobian = torch.func.jacrev(lambda start: annealed_langevin(score, start, sigmas, steps, eps, noise=noise))(x0)
    expected = 1.0
    for sigma in sigmas:
        a = eps * sigma**2 / sigmas[-1] ** 2
        expected *= (1 - a / (2 * (variance + sigma**2))) ** steps
    assert jacobian.shape == (3, 1, 3, 1)
    assert torch.allclose(jacobian[:, 0, :, 0], expected * torch.eye(3, dtype=torch.float64), rtol=1e-12)


def test_jvp_in_injected_noise():
    # Perturbing only the last injected noise by t moves x_N by sqrt(a_last) t.
    sigmas = [1.0, 0.1]
    steps = 4
    eps = 1e-2
    x0, noise = langevin_noise((2, 1), len(sigmas) * steps, generator=3, dtype=torch.float64)
    score = _gaussian_score(0.0, 1.0)
    tangent = torch.zeros_like(noise)
    tangent[-1] = 1.0
    _, derivative = torch.func.jvp(
        lambda z: annealed_langevin(score, x0, sigmas, steps, eps, noise=z), (noise,), (tangent,)
    )
    assert torch.allclose(derivative, torch.full_like(x0, math.sqrt(eps)), rtol=1e-12)


def test_at_level_used_once_per_level():
    calls = []

    class Score:
        def __call__(self, x, sigma):
            raise AssertionError("at_level should be used")

        def at_level(self, sigma):
            calls.append(sigma)
            return lambda x: -x

    annealed_langevin(Score(), torch.zeros(4, 1), [1.0, 0.5, 0.25], 3, generator=0)
    assert calls == [1.0, 0.5, 0.25]


def test_noise_shape_checked():
    with pytest.raises(ValueError, match="noise must have shape"):
        annealed_langevin(_gaussian_score(0, 1), torch.zeros(4, 1), [1.0], 3, noise=torch.zeros(2, 4, 1))


def test_bad_ladder_rejected():
    with pytest.raises(ValueError, match="sigma_min"):
        geometric_sigmas(0.1, 1.0, 5)


@pytest.mark.parametrize("sigmas,message", [
    ([0.1, 1.0], "sigmas must decrease"),
    ([], "sigmas must be a non-empty"),
    ([[1.0, 0.1]], "sigmas must be a non-empty one-dimensional"),
    ([1.0, 0.0], "sigmas must be positive finite"),
    ([float("inf"), 1.0], "sigmas must be positive finite"),
])
def test_bad_noise_levels_rejected(sigmas, message):
    with pytest.raises(ValueError, match=message):
        annealed_langevin(_gaussian_score(0, 1), torch.zeros(4, 1), sigmas, 3)


def test_bad_eps_rejected():
    with pytest.raises(ValueError, match="eps"):
        langevin_step_sizes([1.0, 0.1], -1.0)


def test_pushforward_sampler_is_seeded():
    module = torch.nn.Linear(1, 1)
    first = sample_pushforward(module, 50, seed=4)
    assert first.shape == (50, 1)
    assert torch.equal(first, sample_pushforward(module, 50, seed=4))
