"""Gaussian mixture samplers of isobounds_models.data."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from scipy import stats  # noqa: E402

from isobounds_models.data import (  # noqa: E402
    PAPER_N_SAMPLES,
    MixtureSpec,
    make_dataset,
    sample_gaussian_mixture,
    two_mode_mixture,
)



def test_dataset_shape_and_dtype():
    x = make_dataset(3.0, seed=0)
    assert x.shape == (PAPER_N_SAMPLES, 1)
    assert x.dtype == torch.float32


def test_dataset_same_seed_same_draw():
    assert torch.equal(make_dataset(2.0, 1000, seed=5), make_dataset(2.0, 1000, seed=5))


def test_dataset_other_seed_other_draw():
    assert not torch.equal(make_dataset(2.0, 1000, seed=5), make_dataset(2.0, 1000, seed=6))


@pytest.mark.parametrize("m", [0.0, 1.0, 3.0, 10.0])
def test_two_mode_moments(m):
    # Exact moments of (1/2)[N(-m, 1) + N(m, 1)]: mean 0, variance 1 + m^2,
    # P(X > 0) = 1/2. Tolerances are 5 Monte Carlo standard errors.
    n = PAPER_N_SAMPLES
    x = make_dataset(m, n, seed=1).double().numpy()[:, 0]
    variance = 1 + m**2
    fourth_moment = 3 + 6 * m**2 + m**4
    assert abs(x.mean()) < 5 * np.sqrt(variance / n)
    assert abs(x.var() - variance) < 5 * np.sqrt((fourth_moment - variance**2) / n)
    assert abs((x > 0).mean() - 0.5) < 5 * np.sqrt(0.25 / n)


@pytest.mark.parametrize("m", [0.5, 4.0])
def test_two_mode_ks_statistic(m):
    # Kolmogorov-Smirnov distance to the exact CDF (1/2)[Phi(x + m) + Phi(x - m)];
    # with 50,000 samples a correct sampler has D < 1.63 / sqrt(n) with
    # probability 0.99 (Kolmogorov distribution quantile).
    x = make_dataset(m, seed=2).double().numpy()[:, 0]
    result = stats.kstest(x, lambda t: 0.5 * (stats.norm.cdf(t + m) + stats.norm.cdf(t - m)))
    assert result.statistic < 1.63 / np.sqrt(x.size)


def test_multivariate_mixture_weights_and_spread():
    weights = (0.2, 0.8)
    means = ((5.0, 0.0, -1.0), (-5.0, 2.0, 0.0))
    n = 40_000
    x = sample_gaussian_mixture(weights, means, 0.5, n, generator=3).double().numpy()
    assert x.shape == (n, 3)

    # Components are 20 standard deviations apart on axis 0, so the sign
    # of x[:, 0] identifies the component.
    first = x[:, 0] > 0
    assert abs(first.mean() - 0.2) < 5 * np.sqrt(0.2 * 0.8 / n)
    residual = x[first] - np.array(means[0])
    assert np.all(np.abs(residual.mean(axis=0)) < 5 * 0.5 / np.sqrt(first.sum()))
    assert np.all(np.abs(residual.std(axis=0) - 0.5) < 0.02)


def test_two_mode_mixture_in_dimension_three():
    mixture = two_mode_mixture(2.0, dim=3)
    assert mixture.dim == 3
    assert mixture.means == ((-2.0, 0.0, 0.0), (2.0, 0.0, 0.0))
    assert mixture.sample(10, 0).shape == (10, 3)


def test_generator_object_accepted():
    first = sample_gaussian_mixture((1.0,), ((0.0,),), 1.0, 5, torch.Generator().manual_seed(9))
    second = sample_gaussian_mixture((1.0,), ((0.0,),), 1.0, 5, 9)
    assert torch.equal(first, second)


def test_negative_m_rejected():
    with pytest.raises(ValueError, match="m=-1"):
        two_mode_mixture(-1.0)


def test_infinite_m_rejected():
    with pytest.raises(ValueError, match="m"):
        make_dataset(float("inf"), 10)


def test_weights_not_summing_rejected():
    with pytest.raises(ValueError, match="weights"):
        MixtureSpec((0.3, 0.3), ((0.0,), (1.0,)), 1.0)


def test_means_rows_must_match_weights():
    with pytest.raises(ValueError, match="means"):
        MixtureSpec((0.5, 0.5), ((0.0,), (1.0,), (2.0,)), 1.0)


def test_nonpositive_sigma_rejected():
    with pytest.raises(ValueError, match="sigma"):
        two_mode_mixture(1.0, sigma=0.0)


def test_zero_samples_rejected():
    with pytest.raises(ValueError, match="n=0"):
        make_dataset(1.0, 0)


def test_negative_seed_rejected():
    with pytest.raises(ValueError, match="generator=-3"):
        make_dataset(1.0, 10, seed=-3)
