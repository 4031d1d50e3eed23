"""Gaussian mixture data sets, sampled vectorised and seeded.

The univariate experiment of Salmona et al., 2022 (appendix S5.1) fits
``nu = (1/2)[N(-m, 1) + N(m, 1)]`` from 50,000 samples, for ``m`` in 0..10.
:func:`two_mode_mixture` builds that target (in any dimension, along the first
axis) and :func:`make_dataset` draws its training set.

Every sampler takes a ``torch.Generator`` (or an integer seed) and returns a
float32 tensor; one call draws all samples at once, with no Python loop over
samples.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

from dataclasses import dataclass

import numpy as np
import torch

from isobounds._validation import check_array, check_nonnegative, check_positive, check_weights

__all__ = [
    "MixtureSpec",
    "two_mode_mixture",
    "sample_gaussian_mixture",
    "make_dataset",
    "as_generator",
    "PAPER_N_SAMPLES",
]

PAPER_N_SAMPLES = 50_000
"""Training set size of the univariate experiment (Salmona et al., 2022, appendix S5.1)."""


@dataclass(frozen=True)
class MixtureSpec:
    """Float parameters of an isotropic Gaussian mixture ``sum_i w_i N(mu_i, sigma^2 I_d)``, for sampling in torch.

    The exact measure with masses at any precision is
    :class:`isobounds.GaussianMixture`; this record only draws training data.

    Parameters
    ----------
    weights : tuple of float
        Mixture weights ``w_i`` in [0, 1], summing to 1.
    means : tuple of tuple of float
        Component means ``mu_i``, one row of length ``d`` per component.
    sigma : float
        Common standard deviation, ``sigma > 0``.
    """

    weights: tuple
    means: tuple
    sigma: float

    def __post_init__(self):
        # check_weights gets the weights unconverted and rejects a dict or a set, which
        # list() would turn into the dict's keys or into an arbitrary order.
        weights = [float(w) for w in check_weights("weights", self.weights)]
        means = check_array("means", self.means)
        if means.ndim == 1:
            means = means[:, None]
        if means.ndim != 2 or means.shape[0] != len(weights):
            raise ValueError(
                "means must have one row per weight, got means of shape "
                f"{np.shape(self.means)} for {len(weights)} weights"
            )
        if means.shape[1] == 0:
            raise ValueError(f"means must have at least one coordinate per row, got means of shape {means.shape}")
        sigma = float(check_positive("sigma", self.sigma))
        if sigma == 0.0:
            raise ValueError(f"sigma must be a positive float64 number, got sigma={self.sigma!r}, which rounds to 0")
        reach = float(np.abs(means).max()) + _FLOAT32_SIGMAS * sigma
        if not reach <= _FLOAT32_MAX:
            raise ValueError(
                f"means and sigma must keep the float32 samples finite: max |means| + {_FLOAT32_SIGMAS:g} sigma "
                f"must be at most {_FLOAT32_MAX:.4g}, got max |means| = {float(np.abs(means).max()):g} and "
                f"sigma={sigma:g}"
            )
        object.__setattr__(self, "weights", tuple(weights))
        object.__setattr__(self, "means", tuple(tuple(float(v) for v in row) for row in means))
        object.__setattr__(self, "sigma", sigma)

    @property
    def dim(self):
        """Dimension ``d`` of the ambient space."""
        return len(self.means[0])

    def sample(self, n, generator=None):
        """Draw ``n`` samples as a float32 tensor of shape ``(n, d)``; see :func:`sample_gaussian_mixture`."""
        return sample_gaussian_mixture(self, None, None, n, generator)


def two_mode_mixture(m, dim=1, sigma=1.0):
    """Return the balanced mixture ``(1/2)[N(-m e_1, sigma^2 I_d) + N(m e_1, sigma^2 I_d)]``.

    Parameters
    ----------
    m : float
        Half distance between the means, ``m >= 0`` (``m = 0`` is one Gaussian).
    dim : int
        Dimension ``d >= 1``; the means differ along the first axis only.
    sigma : float
        Standard deviation of each component, ``sigma > 0``.

    Returns
    -------
    MixtureSpec
        The target of the univariate experiment of Salmona et al., 2022 for
        ``dim = 1`` and ``sigma = 1``.
    """
    m = float(check_nonnegative("m", m))
    dim = _check_dim(dim)
    first = [-m] + [0.0] * (dim - 1)
    second = [m] + [0.0] * (dim - 1)
    return MixtureSpec((0.5, 0.5), (tuple(first), tuple(second)), sigma)


def sample_gaussian_mixture(weights, means, sigma, n, generator=None):
    """Draw ``n`` samples of ``sum_i w_i N(mu_i, sigma^2 I_d)`` in one vectorised call.

    Parameters
    ----------
    weights : sequence of float or MixtureSpec
        Mixture weights in [0, 1], summing to 1 (a dict or a set raises
        TypeError). A :class:`MixtureSpec` gives the whole mixture, and
        ``means`` and ``sigma`` must then be None.
    means : array_like, shape (k, d) or (k,)
        Component means.
    sigma : float
        Common standard deviation, ``sigma > 0``. The samples must stay
        within float32 range: ``max |means| + 64 sigma <= 3.4e38``.
    n : int
        Number of samples, ``n >= 1``.
    generator : torch.Generator or int or None
        Source of randomness (an int in ``[0, 2**64 - 1]`` is used as a
        seed); ``None`` uses torch's global generator.

    Returns
    -------
    torch.Tensor
        Float32 CPU tensor of shape ``(n, d)``. Components are chosen by
        ``torch.multinomial`` and the Gaussian noise is drawn in float64
        before the cast, so the mixture is exact up to float32 rounding.
    """
    if isinstance(weights, MixtureSpec):
        if means is not None or sigma is not None:
            raise ValueError("means and sigma must be None when weights is a MixtureSpec, which contains them, got "
                             f"means={means!r}, sigma={sigma!r}")
        mixture = weights
    else:
        mixture = MixtureSpec(weights, means, sigma)
    n = _check_count("n", n)
    generator = as_generator(generator)

    probabilities = torch.tensor(mixture.weights, dtype=torch.float64)
    labels = torch.multinomial(probabilities, n, replacement=True, generator=generator)

    centres = torch.tensor(mixture.means, dtype=torch.float64)[labels]
    noise = torch.randn(n, mixture.dim, dtype=torch.float64, generator=generator)
    return (centres + mixture.sigma * noise).to(torch.float32)


def make_dataset(m, n=PAPER_N_SAMPLES, seed=0, dim=1):
    """Draw the training set of the univariate experiment for one value of ``m``.

    Parameters
    ----------
    m : float
        Half distance between the modes, ``m >= 0``.
    n : int
        Number of samples (the paper uses 50,000).
    seed : int or torch.Generator or None
        Seed of the draw, an int in ``[0, 2**64 - 1]``; ``None`` draws from
        torch's global generator.
    dim : int
        Dimension of the data (1 in the paper).

    Returns
    -------
    torch.Tensor
        Float32 tensor of shape ``(n, dim)`` drawn from ``two_mode_mixture(m, dim)``.
    """
    return two_mode_mixture(m, dim).sample(n, seed)


def as_generator(generator):
    """Return a CPU ``torch.Generator`` from a generator or an int seed, or ``None`` for ``None``.

    Torch functions given ``generator=None`` draw from torch's global
    generator, which ``torch.manual_seed`` fixes.
    """
    if isinstance(generator, torch.Generator):
        return generator
    if generator is None:
        return None
    if isinstance(generator, (bool, float)) or not isinstance(generator, (int, np.integer)):
        raise TypeError(f"generator must be a torch.Generator, an int seed or None, got generator={generator!r}")
    if not 0 <= generator <= _MAX_SEED:
        raise ValueError(f"generator seed must be an integer in [0, 2**64 - 1], got generator={generator}")
    result = torch.Generator()
    result.manual_seed(int(generator))
    return result


_FLOAT32_MAX = float(np.finfo(np.float32).max)
_FLOAT32_SIGMAS = 64.0
"""Multiple of ``sigma`` kept below the float32 maximum. A standard normal draw lies
beyond 40 with probability below 1e-300, so 64 leaves a wide margin."""

_MAX_SEED = 2**64 - 1
"""Largest seed that ``torch.Generator.manual_seed`` accepts."""


def _check_integer(name, value, low):
    """Return ``value`` as an int: TypeError unless an integer, ValueError below ``low`` (0 or 1)."""
    kind = "positive" if low == 1 else "nonnegative"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be a {kind} integer, got {name}={value!r}")
    if value < low:
        raise ValueError(f"{name} must be a {kind} integer, got {name}={value}")
    return int(value)


def _check_count(name, n):
    return _check_integer(name, n, 1)


def _check_seed(seed):
    return _check_integer("seed", seed, 0)


def _check_dim(dim):
    return _check_count("dim", dim)


MAX_M = 1e6
"""Largest ``m`` trained on: float32 data near ``1e6`` are spaced by 0.0625, which still
resolves modes of standard deviation 1. Near ``1e8`` the spacing is 8, and near ``3.4e38``
the data overflow to infinity."""


def _check_m(m):
    """Return ``m`` as a float, raising ValueError unless ``0 <= m <= MAX_M``."""
    value = float(check_nonnegative("m", m))
    if not value <= MAX_M:
        raise ValueError(f"m must be a nonnegative number of at most {MAX_M:g} (float32 training data), got m={m}")
    return value
