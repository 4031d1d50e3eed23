r"""Measure trained univariate generative models: Lipschitz constants, masses, TV and KL.

Push-forward models (GAN generators, VAE decoders). A LeakyReLU MLP with one
input and one output is a continuous piecewise-linear map ``g : R -> R``, and
its push-forward ``rho = g#N(0, 1)`` has exact masses and an explicit density.
All of this is computed by :mod:`isobounds.pushforward`; this module only
connects a torch module to it:

- :func:`piecewise_linear_from_module` reads the weights and the skip wiring
  of the module (:func:`isobounds_models.networks.describe_mlp`) and returns
  :meth:`isobounds.pushforward.PiecewiseLinearMap.from_mlp` of them, whose
  ``lipschitz_constant()`` is the exact constant and whose ``pushforward()``
  gives the masses ``rho.mass((a, b))``;
- :func:`two_mode_target` is the target ``(1/2)[N(-m, s^2) + N(m, s^2)]`` as an
  :class:`isobounds.GaussianMixture`;
- :func:`exact_distances` returns the TV and KL of ``rho`` to that target from
  :func:`isobounds.pushforward.tv_distance` and
  :func:`isobounds.pushforward.kl_divergence`, each with an error estimate.

The grid-slope estimate of Salmona et al., 2022 (appendix S5.1: slopes of the
network between neighbouring points of a grid of [-10, 10]) is
:func:`grid_lipschitz`; it is a lower estimate of the exact constant.

Score models. At a fixed noise level the score network is a map of ``x`` alone;
:func:`score_lipschitz_per_level` takes the maximum of ``|d s(x, sigma)/dx|``
over a grid of ``x`` at each trained level (never at ``sigma = 0``, which the
network never saw). Samples of the Langevin sampler are compared with the
target by :func:`sample_distances`, a stated KDE estimator with bootstrap
error bars. It compares the KDE with the target smoothed by the same kernel,
so it estimates distances between smoothed laws, which lie below the true
ones. Sampling noise biases the estimates upward, and
:func:`kde_estimator_floor` measures that bias: the estimator's value for
samples of the target itself, the value a perfect sampler would get.
:func:`langevin_lipschitz` measures the local Lipschitz constant of the
whole sampler ``(z_0, z_1, ..., z_N) -> x_N`` along sampled trajectories,
which is the constant the isoperimetric bounds see.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import copy
import math
from dataclasses import dataclass

import numpy as np
import scipy.special as sc
import torch

from isobounds._validation import check_finite, check_nonnegative, check_positive, tensor_to_numpy
from isobounds.measures import GaussianMixture
from isobounds.pushforward import PiecewiseLinearMap, kl_divergence, tv_distance
from isobounds.vectorized import gaussian_mass

from .data import _check_count, _check_seed
from .sampling import _checked_score, check_sigmas

__all__ = [
    "piecewise_linear_from_module",
    "two_mode_target",
    "exact_distances",
    "grid_lipschitz",
    "mixture_log_pdf",
    "mixture_mass",
    "SampleDistances",
    "sample_distances",
    "target_samples",
    "kde_estimator_floor",
    "smoothing_bandwidth",
    "score_lipschitz_per_level",
    "langevin_schedule",
    "LangevinLipschitz",
    "langevin_lipschitz",
]


# ----------------------------------------------------------------------------
# Push-forward models, measured by isobounds.pushforward
# ----------------------------------------------------------------------------


def piecewise_linear_from_module(module):
    """Return the exact piecewise-linear map of an exported one-run LeakyReLU MLP.

    Parameters
    ----------
    module : nn.Sequential or SkipMLP
        ``nn.Linear`` layers separated by ``nn.LeakyReLU`` (or ``nn.ReLU``,
        slope 0) of one common slope, with one input and one output, as exported by :func:`isobounds_models.networks.export_mlp`
        (plain, resnet or densenet wiring).

    Returns
    -------
    isobounds.pushforward.PiecewiseLinearMap
        :meth:`~isobounds.pushforward.PiecewiseLinearMap.from_mlp` of the
        module's float64 weights, with the wiring of
        :func:`isobounds_models.networks.describe_mlp`.

    Raises
    ------
    TypeError
        For a module that is neither an ``nn.Sequential`` nor a ``SkipMLP``.
    ValueError
        For a network without exactly one input and one output.
    """
    from .networks import describe_mlp

    description = describe_mlp(module)
    weights = [weight for weight, _ in description["layers"]]
    biases = [bias for _, bias in description["layers"]]
    return PiecewiseLinearMap.from_mlp(weights, biases, description["negative_slope"],
                                       inputs=description["inputs"], adds=description["adds"])


def two_mode_target(m, sigma=1.0):
    """Return the target ``(1/2)[N(-m, sigma^2) + N(m, sigma^2)]`` as an :class:`isobounds.GaussianMixture`.

    Parameters
    ----------
    m : float
        Half distance between the modes, ``m >= 0`` (``m = 0`` gives ``N(0, sigma^2)``).
    sigma : float
        Standard deviation of both modes, ``sigma > 0``.

    Raises
    ------
    TypeError
        When ``m`` or ``sigma`` is not a real number.
    ValueError
        When ``m`` is negative or not finite, or ``sigma`` is not positive and finite.
    """
    m, sigma = _check_target(m, sigma)
    return GaussianMixture([0.5, 0.5], [-m, m], sigma)


def exact_distances(g, m, sigma=1.0):
    """Return the TV and KL between ``g#N(0, 1)`` and :func:`two_mode_target` ``(m, sigma)``.

    Parameters
    ----------
    g : isobounds.pushforward.PiecewiseLinearMap
        The generator, e.g. from :func:`piecewise_linear_from_module`.
    m, sigma : float
        Target parameters, as in :func:`two_mode_target`.

    Returns
    -------
    tuple of isobounds.pushforward.DistanceResult
        ``(tv, kl)``, each with ``value`` and ``error`` (an estimate of the
        absolute error). ``kl.value`` is ``inf`` when ``g`` has a flat piece
        (an atom of the push-forward).
    """
    target = two_mode_target(m, sigma)
    rho = g.pushforward()
    return tv_distance(rho, target), kl_divergence(rho, target)


def grid_lipschitz(function, low=-10.0, high=10.0, n_points=20_001):
    """Estimate a 1D map's Lipschitz constant from slopes between neighbouring grid points.

    This is the estimate of Salmona et al., 2022 (appendix S5.1), on
    ``n_points`` equally spaced points of ``[low, high]``. It is a lower
    estimate: it misses pieces shorter than the spacing and any piece outside
    the grid.

    Parameters
    ----------
    function : callable
        A torch module mapping a tensor of shape ``(n, 1)`` to ``(n, 1)``,
        evaluated in float64 on a copy (the module itself is not changed), or
        a callable mapping a float64 array to an array (an
        :class:`isobounds.pushforward.PiecewiseLinearMap`).
    low, high : float
        Ends of the grid, finite with ``low < high``.
    n_points : int
        Grid points, ``>= 2``.
    """
    _check_interval(low, high)
    n_points = _check_points("n_points", n_points)
    grid = np.linspace(low, high, n_points)
    if isinstance(function, torch.nn.Module):
        values = _evaluate_module_float64(function, grid)
    else:
        values = np.asarray(function(grid), dtype=np.float64).reshape(-1)
    if values.size != grid.size:
        raise ValueError(f"function must return one value per grid point, got {values.size} values for "
                         f"n_points={n_points} points")
    return float(np.max(np.abs(np.diff(values)) / np.diff(grid)))


def _check_interval(low, high):
    """Raise TypeError unless ``low`` and ``high`` are real numbers, ValueError unless finite with ``low < high``."""
    low_value = float(check_finite("low", low))
    high_value = float(check_finite("high", high))
    if not low_value < high_value:
        raise ValueError(f"low and high must be finite with low < high, got low={low}, high={high}")


def _evaluate_module_float64(module, points, chunk=65_536):
    """Evaluate a one-input torch module at ``points`` in float64, in chunks to bound memory.

    The copy in float64 leaves the caller's module unchanged. A module without
    parameters (an activation alone) runs on the CPU.
    """
    reference = next(module.parameters(), None)
    device = torch.device("cpu") if reference is None else reference.device
    double = copy.deepcopy(module).to(torch.float64)
    with torch.no_grad():
        values = [
            double(torch.as_tensor(part, dtype=torch.float64, device=device).reshape(-1, 1)).reshape(-1).cpu().numpy()
            for part in np.array_split(points, max(1, math.ceil(points.size / chunk)))
        ]
    return np.concatenate(values)


# ----------------------------------------------------------------------------
# Target mixture (vectorised, for the sample estimates and the figures)
# ----------------------------------------------------------------------------


def mixture_log_pdf(x, m, sigma=1.0):
    """Log-density of ``(1/2)[N(-m, sigma^2) + N(m, sigma^2)]`` at ``x`` (float64, any shape), without underflow."""
    return two_mode_target(m, sigma).logpdf(np.asarray(x, dtype=np.float64))


def mixture_mass(a, b, m, sigma=1.0):
    """Mass ``nu([a, b])`` of ``(1/2)[N(-m, sigma^2) + N(m, sigma^2)]``, tail-safe (no CDF differences).

    ``a``, ``b``, ``m`` and ``sigma`` broadcast together, with ``a <= b``
    elementwise (infinite ends allowed). Raises ValueError for ``a > b``, NaN,
    ``m`` negative or infinite, or ``sigma`` not positive and finite.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if not np.all(np.isfinite(m) & (m >= 0)):
        raise ValueError(f"m must contain nonnegative finite numbers, got m={m[~(np.isfinite(m) & (m >= 0))].flat[0]}")
    if not np.all(np.isfinite(sigma) & (sigma > 0)):
        bad = sigma[~(np.isfinite(sigma) & (sigma > 0))].flat[0]
        raise ValueError(f"sigma must contain positive finite numbers, got sigma={bad}")
    if np.any(np.isnan(a)) or np.any(np.isnan(b)):
        raise ValueError("a and b must not contain NaN")
    reversed_ends = a > b
    if np.any(reversed_ends):
        first_a, first_b = np.broadcast_arrays(a, b)
        raise ValueError(f"a must not exceed b, got a={first_a[reversed_ends].flat[0]} > "
                         f"b={first_b[reversed_ends].flat[0]}")
    first = gaussian_mass((a + m) / sigma, (b + m) / sigma)
    second = gaussian_mass((a - m) / sigma, (b - m) / sigma)
    return 0.5 * (first + second)


# ----------------------------------------------------------------------------
# Distances from samples (score models)
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleDistances:
    """TV and KL of two kernel-smoothed laws, estimated from samples, with bootstrap errors and floors.

    ``tv`` and ``kl`` estimate ``TV(rho_h, nu_h)`` and ``KL(rho_h || nu_h)``,
    where ``rho_h`` and ``nu_h`` are the model and the target convolved with
    ``N(0, bandwidth^2)`` (see :func:`sample_distances`). ``mass_between`` is
    the fraction of samples in ``[-m/2, m/2]`` with its binomial standard
    error ``mass_between_se`` (``sqrt(max(p (1 - p), 1/n) / n)``, kept above
    zero when no sample or every sample lies there). ``mass_negative`` is the
    fraction of samples at or below 0. ``tv_floor`` and ``kl_floor`` are what
    the same estimator returns for ``n_samples`` samples of the target itself
    (:func:`kde_estimator_floor`), that is the values a perfect sampler would
    get.
    """

    tv: float
    tv_se: float
    kl: float
    kl_se: float
    mass_between: float
    mass_between_se: float
    mass_negative: float
    bandwidth: float
    n_samples: int
    n_bootstrap: int
    tv_floor: float = math.nan
    kl_floor: float = math.nan


def smoothing_bandwidth(n, sigma=1.0):
    """Return the kernel bandwidth of :func:`sample_distances`: ``h = 0.9 sigma n^(-1/5)``.

    Silverman's rule for one mode of the target, whose standard deviation is
    ``sigma``. It depends on ``n`` and ``sigma`` only, not on the samples or
    on ``m``, so the estimates of different models and values of ``m`` use the
    same smoothing.

    Raises
    ------
    TypeError
        When ``n`` is not an integer.
    ValueError
        When ``n < 1`` or ``sigma`` is not a positive finite number.
    """
    n = _check_count("n", n)
    sigma = float(check_positive("sigma", sigma))
    return 0.9 * sigma * n ** (-0.2)


def sample_distances(samples, m, sigma=1.0, n_bootstrap=30, seed=0, grid_size=4096):
    r"""Estimate TV and KL between the law of ``samples`` and the target mixture, both kernel-smoothed.

    Estimator (stated because the numbers depend on it). Let ``K_h`` be the
    law ``N(0, h^2)`` with ``h`` from :func:`smoothing_bandwidth`,
    ``rho_h = rho * K_h`` the model's law smoothed by it and
    ``nu_h = nu * K_h`` the smoothed target, which is again a mixture:
    ``(1/2)[N(-m, sigma^2 + h^2) + N(m, sigma^2 + h^2)]``. The Gaussian kernel
    density estimate ``p_hat`` of the samples (linear binning on a grid and an
    FFT convolution) has expectation ``rho_h``, and it is compared with the
    exact density of ``nu_h``:

    .. math::

        \widehat{TV} = \tfrac12 \int |\hat p - p_{\nu_h}|, \qquad
        \widehat{KL} = \int \hat p \log(\hat p / p_{\nu_h}),

    both by the trapezoidal rule on the grid. Error bars: standard deviation
    over ``n_bootstrap`` resamples with replacement.

    Direction of the bias. Convolution with ``K_h`` is a Markov kernel, so by
    the data-processing inequality ``TV(rho_h, nu_h) <= TV(rho, nu)`` and
    ``KL(rho_h || nu_h) <= KL(rho || nu)``: the estimated quantities lie below
    the model's true distances, but their estimates need not (below).
    Smoothing both laws, instead of comparing ``p_hat`` with the unsmoothed target, removes the
    kernel's upward bias, which grew with ``m`` (a perfect sampler got TV
    0.22 at ``m = 10`` with 20,000 samples and Silverman's bandwidth of the
    whole sample). What remains is the sampling noise of ``p_hat``, which
    biases ``|p_hat - p_nu_h|`` upward. ``tv_floor`` and ``kl_floor`` measure
    it: the same estimator applied to ``n`` samples of the target
    (:func:`kde_estimator_floor`, seeded by ``seed``), 0.005 to 0.01 in TV for
    50,000 samples (the smaller values at ``m = 0``). They are one draw, so they carry sampling
    noise of about ``tv_se`` and ``kl_se`` themselves.

    For a model near the target this bias dominates, and the bootstrap
    error bars do not cover it. In 40 replicates of 20,000 samples of the
    target itself (``m = 4``, 30 bootstrap resamples), every TV and KL
    estimate was positive, and ``estimate +- 1.96 se`` covered the true 0 in
    none of them for TV and in 2 for KL. For models whose distance to the
    target was 0.1 or more, ``+- 1.96 se`` covered the true TV and KL in
    88 % to 100 % of the replicates.

    Parameters
    ----------
    samples : array_like or torch.Tensor, shape (n,) or (n, 1)
        Samples of the model, ``n >= 10``, finite (a tensor is detached and
        copied to the CPU).
    m : float
        Half distance between the target's modes, ``m >= 0``.
    sigma : float
        Standard deviation of each target mode, ``> 0``.
    n_bootstrap : int
        Bootstrap resamples of the error bars, ``>= 2``.
    seed : int
        Seed of the bootstrap resamples and of the target samples of the floor.
    grid_size : int
        Minimum number of grid points, from 2 to ``2^22``. The grid is spaced by at most ``h / 4``
        and covers ``[-m - 10 sigma, m + 10 sigma]`` and every sample, padded
        by ``6 h``, as long as that takes at most ``2^22`` points. Samples
        farther out (a sampler that diverged for a few points) are counted
        as escaped instead, see Notes.

    Returns
    -------
    SampleDistances

    Raises
    ------
    TypeError
        For samples that are not real numbers (complex or boolean entries,
        or entries that do not convert to float64), ``m`` or ``sigma`` not
        a real number, and ``n_bootstrap``, ``seed`` or ``grid_size`` not an
        integer.
    ValueError
        For fewer than 10 samples, samples of more than one dimension,
        non-finite samples, invalid ``m``, ``sigma``, ``n_bootstrap`` or
        ``seed``, a ``grid_size`` outside ``[2, 2^22]``, and for ``m / sigma``
        so large that the target alone needs more than ``2^22`` grid points
        (``m / sigma`` above about 5.4e4 at 50,000 samples and 6.5e4 at 20,000).

    Notes
    -----
    Escaped samples. When covering every sample would take more than
    ``2^22`` grid points, the grid covers the target and extends toward the
    samples by the points left over. On each side of the grid, the
    fraction ``p_out`` of samples beyond it and the smoothed target's mass
    ``nu_out`` beyond it add ``|p_out - nu_out| / 2`` to TV and
    ``p_out log(p_out / nu_out)`` to KL. Both are lower bounds on that
    region's share of the smoothed distances (the triangle inequality and the
    log-sum inequality).
    """
    x = _check_samples(samples)
    m, sigma = _check_target(m, sigma)
    if _check_count("n_bootstrap", n_bootstrap) < 2:
        raise ValueError(f"n_bootstrap must be an integer >= 2 (a standard deviation needs two resamples), "
                         f"got n_bootstrap={n_bootstrap!r}")
    seed = _check_seed(seed)
    grid_size = _check_grid_size(grid_size)

    grid, h = _kde_grid(x, m, sigma, grid_size)
    target = _SmoothedTarget(grid, m, math.hypot(sigma, h))

    tv, kl = _kde_distances(x, grid, h, target)
    rng = np.random.default_rng(seed)
    boot = np.array([_kde_distances(x[rng.integers(0, x.size, size=x.size)], grid, h, target)
                     for _ in range(n_bootstrap)])
    tv_floor, kl_floor, _ = kde_estimator_floor(x.size, m, sigma, seed, grid_size)

    between = np.mean(np.abs(x) <= m / 2)
    return SampleDistances(
        tv=tv,
        tv_se=float(boot[:, 0].std(ddof=1)),
        kl=kl,
        kl_se=float(boot[:, 1].std(ddof=1)),
        mass_between=float(between),
        mass_between_se=float(math.sqrt(max(between * (1 - between), 1.0 / x.size) / x.size)),
        mass_negative=float(np.mean(x <= 0)),
        bandwidth=h,
        n_samples=int(x.size),
        n_bootstrap=int(n_bootstrap),
        tv_floor=tv_floor,
        kl_floor=kl_floor,
    )


_FLOOR_STREAM = 1
"""Second entry of the seed of the floor's target samples, so they are independent of the bootstrap draws."""


def target_samples(n, m, sigma=1.0, seed=0):
    """Draw ``n`` samples of ``(1/2)[N(-m, sigma^2) + N(m, sigma^2)]`` (float64 array, shape ``(n,)``).

    Each sample picks its mode with probability 1/2, as a perfect sampler
    would, so the number in each mode is binomial. ``n`` is a positive
    integer (TypeError otherwise, ValueError below 1), ``m`` and ``sigma``
    are as in :func:`two_mode_target`, and ``seed`` is anything
    :func:`numpy.random.default_rng` accepts.
    """
    n = _check_count("n", n)
    m, sigma = _check_target(m, sigma)
    rng = np.random.default_rng(seed)
    modes = np.where(rng.random(n) < 0.5, -m, m)
    return modes + sigma * rng.standard_normal(n)


def kde_estimator_floor(n, m, sigma=1.0, seed=0, grid_size=4096):
    """Return what :func:`sample_distances` measures for a perfect sampler: ``(tv, kl, bandwidth)``.

    The estimator of :func:`sample_distances` (same bandwidth and grid rule)
    is applied to ``n`` samples of the target itself, drawn by
    :func:`target_samples` with the seed ``(seed, 1)``. Both laws are
    smoothed alike, so the result is the upward bias of the sampling noise
    plus one draw of that noise: a model's estimate near this floor is as
    close to the target as the estimator can tell.
    """
    if _check_count("n", n) < _MIN_SAMPLES:
        raise ValueError(f"n must be an integer >= {_MIN_SAMPLES}, as in sample_distances, got n={n!r}")
    grid_size = _check_grid_size(grid_size)
    x = target_samples(n, m, sigma, seed=(int(_check_seed(seed)), _FLOOR_STREAM))
    grid, h = _kde_grid(x, m, sigma, grid_size)
    tv, kl = _kde_distances(x, grid, h, _SmoothedTarget(grid, m, math.hypot(sigma, h)))
    return tv, kl, h


_MAX_GRID_SIZE = 2**22
"""Maximum number of grid points of the KDE. Samples beyond the grid's reach are counted as escaped."""

_TARGET_REACH = 10.0
"""The grid covers the target's modes by this many standard deviations (its mass beyond is below 1e-23)."""

_KERNEL_REACH = 6.0
"""Kernels are cut at this many bandwidths, and the grid is padded by as much."""


_MIN_SAMPLES = 10
"""Minimum number of samples that :func:`sample_distances` accepts."""


def _check_grid_size(grid_size):
    grid_size = _check_count("grid_size", grid_size)
    if not 2 <= grid_size <= _MAX_GRID_SIZE:
        raise ValueError(f"grid_size must be an integer from 2 to 2^22 = {_MAX_GRID_SIZE}, got grid_size={grid_size}")
    return grid_size


def _check_points(name, n_points):
    """Return ``n_points`` as an int: TypeError unless an integer (a float such as 100.0 included), ValueError below 2."""
    if isinstance(n_points, bool) or not isinstance(n_points, (int, np.integer)):
        raise TypeError(f"{name} must be an integer >= 2, got {name}={n_points!r} of type {type(n_points).__name__}")
    if n_points < 2:
        raise ValueError(f"{name} must be an integer >= 2, got {name}={n_points!r}")
    return int(n_points)


def _check_samples(samples):
    """Return ``samples`` as a flat float64 array, or raise TypeError or ValueError naming ``samples``."""
    if isinstance(samples, torch.Tensor):
        # Detached, on the CPU, and bfloat16 widened to float64, which numpy lacks.
        samples = tensor_to_numpy(samples)
    try:
        raw = np.asarray(samples)
    except ValueError as error:
        raise ValueError(f"samples must be an array of shape (n,) or (n, 1), got {error}") from None
    # Casting would drop an imaginary part with only a warning and read booleans as 0 and 1.
    if raw.dtype == np.bool_ or np.issubdtype(raw.dtype, np.complexfloating):
        raise TypeError(f"samples must be real numbers, got an array of dtype {raw.dtype}")
    try:
        x = raw.astype(np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"samples must be real numbers, got an array of dtype {raw.dtype} that does not "
                        f"convert to float64") from None
    if x.ndim > 2 or (x.ndim == 2 and x.shape[1] != 1):
        raise ValueError(f"samples must have shape (n,) or (n, 1) (one-dimensional samples), got shape {x.shape}")
    x = x.reshape(-1)
    if x.size < _MIN_SAMPLES:
        raise ValueError(f"samples must contain at least {_MIN_SAMPLES} points, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite, got NaN or infinite values (the sampler diverged)")
    return x


def _check_target(m, sigma):
    """Return ``(m, sigma)`` as floats after checking that they are finite real numbers with ``m >= 0`` and ``sigma > 0``."""
    return float(check_nonnegative("m", m)), float(check_positive("sigma", sigma))


def _kde_grid(x, m, sigma, grid_size):
    """Return the evaluation grid and the bandwidth ``h`` of :func:`sample_distances`.

    The grid is spaced by at most ``h / 4``, so that linear binning changes
    the estimate far less than the sampling noise does. It covers the target
    (``m + 10 sigma`` on each side) and every sample, padded by ``6 h``,
    unless that takes more than ``2^22`` points. Then it covers the target
    and extends toward the samples by half of the remaining points on each
    side, and the samples beyond are escaped.
    """
    h = smoothing_bandwidth(x.size, sigma)
    spacing = h / 4
    pad = _KERNEL_REACH * h
    core = m + _TARGET_REACH * sigma + pad
    if 2 * core / spacing + 1 > _MAX_GRID_SIZE:
        raise ValueError(
            f"m / sigma = {m / sigma:.3g} is too large for the kernel estimator: the target alone needs more than "
            f"2^22 grid points at the spacing h / 4 = {spacing:.3g} (h = 0.9 sigma n^(-1/5), n = {x.size})"
        )

    lo = min(x.min() - pad, -core)
    hi = max(x.max() + pad, core)
    if (hi - lo) / spacing + 1 > _MAX_GRID_SIZE:
        extension = ((_MAX_GRID_SIZE - 1) * spacing - 2 * core) / 2
        lo = max(lo, -core - extension)
        hi = min(hi, core + extension)
    size = max(int(grid_size), int(math.ceil((hi - lo) / spacing)) + 1)
    return np.linspace(lo, hi, size), h


class _SmoothedTarget:
    """The smoothed target ``nu_h`` on a grid: its log-density there and the log-masses below and above the grid."""

    def __init__(self, grid, m, scale):
        self.log_density = mixture_log_pdf(grid, m, scale)
        below = [sc.log_ndtr((grid[0] + m) / scale), sc.log_ndtr((grid[0] - m) / scale)]
        above = [sc.log_ndtr(-(grid[-1] + m) / scale), sc.log_ndtr(-(grid[-1] - m) / scale)]
        self.log_mass_below = float(sc.logsumexp(below) - math.log(2.0))
        self.log_mass_above = float(sc.logsumexp(above) - math.log(2.0))


def _kde_distances(x, grid, h, target):
    """Return ``(tv, kl)`` between the KDE of ``x`` with bandwidth ``h`` and the smoothed target.

    Samples within ``6 h`` of the grid's ends or beyond are escaped, with the
    contributions stated in the Notes of :func:`sample_distances`. The grid
    is built so that this happens only when it could not cover every sample.
    """
    from scipy.signal import fftconvolve

    pad = _KERNEL_REACH * h
    below = x < grid[0] + pad * (1 - 1e-9)
    above = x > grid[-1] - pad * (1 - 1e-9)
    kept = x[~(below | above)]

    dx = grid[1] - grid[0]
    position = (kept - grid[0]) / dx
    left = np.clip(np.floor(position).astype(int), 0, grid.size - 2)
    frac = position - left
    counts = np.bincount(left, weights=1.0 - frac, minlength=grid.size)
    counts += np.bincount(left + 1, weights=frac, minlength=grid.size)

    half_width = int(math.ceil(_KERNEL_REACH * h / dx))
    offsets = np.arange(-half_width, half_width + 1) * dx
    kernel = np.exp(-0.5 * (offsets / h) ** 2) / (h * math.sqrt(2 * math.pi))
    p_hat = np.clip(fftconvolve(counts / x.size, kernel, mode="same"), 0.0, None)

    tv = 0.5 * np.trapezoid(np.abs(p_hat - np.exp(target.log_density)), grid)
    positive = p_hat > 1e-300
    integrand = np.zeros_like(p_hat)
    integrand[positive] = p_hat[positive] * (np.log(p_hat[positive]) - target.log_density[positive])
    kl = np.trapezoid(integrand, grid)
    for side, log_nu_side in ((below, target.log_mass_below), (above, target.log_mass_above)):
        p_side = np.count_nonzero(side) / x.size
        tv += 0.5 * abs(p_side - math.exp(log_nu_side))
        if p_side > 0:
            kl += p_side * (math.log(p_side) - log_nu_side)
    return float(min(tv, 1.0)), float(kl)


# ----------------------------------------------------------------------------
# Score networks and the Langevin sampler
# ----------------------------------------------------------------------------


def score_lipschitz_per_level(score_fn, sigmas, low=-15.0, high=15.0, n_points=4001, dtype=torch.float32):
    """Return ``max_x |d s(x, sigma)/dx|`` over a grid of ``x``, for each trained noise level.

    Parameters
    ----------
    score_fn : callable
        ``score_fn(x, sigma)`` maps a tensor ``x`` of shape ``(n, 1)`` and
        dtype ``dtype`` and a float ``sigma`` to the score, shape ``(n, 1)``.
    sigmas : sequence of float
        Trained noise levels, at least one (all ``> 0``; ``sigma = 0`` lies
        outside the training range and is rejected).
    low, high : float
        Ends of the grid of ``x``, finite with ``low < high``.
    n_points : int
        Grid points, ``>= 2``.
    dtype : torch.dtype
        ``torch.float32`` (the dtype of the trained networks) or ``torch.float64``.

    Returns
    -------
    numpy.ndarray
        One Lipschitz estimate per level: the exact derivative (autograd) at
        every grid point, maximised, so a lower estimate of the constant on
        ``[low, high]``. A score that does not depend on ``x`` gets 0. The
        derivatives are taken with autograd enabled, also when the caller
        runs under ``torch.no_grad()``.

    Raises
    ------
    TypeError
        When ``score_fn`` returns something other than a tensor, or ``low``
        or ``high`` is not a real number.
    ValueError
        When ``score_fn`` returns a tensor whose shape differs from that of
        ``x`` (one score per point is needed for the per-point derivative),
        or for invalid ``sigmas``, ``low``, ``high``, ``n_points`` or ``dtype``.
    """
    sigmas = _check_levels(sigmas)
    _check_interval(low, high)
    dtype = _check_dtype(dtype)
    x = torch.linspace(low, high, _check_points("n_points", n_points), dtype=dtype).reshape(-1, 1)
    result = []
    for sigma in sigmas:
        _, derivative = _score_and_derivative(score_fn, x, sigma, "autograd")
        result.append(float(derivative.abs().max()))
    return np.array(result)


def _check_levels(sigmas):
    """Return the noise levels ``sigmas`` as a list of floats, or raise ValueError unless they are positive and finite."""
    message = "sigmas must be positive finite noise levels (the trained ones), a one-dimensional sequence of at least one"
    try:
        array = np.asarray(sigmas, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{message}, got sigmas={sigmas!r}") from None
    if array.ndim != 1 or array.size == 0 or not np.all(np.isfinite(array) & (array > 0)):
        raise ValueError(f"{message}, got sigmas={sigmas!r}")
    return [float(s) for s in array]


def _check_dtype(dtype):
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype must be torch.float32 or torch.float64, got dtype={dtype!r}")
    return dtype


def langevin_schedule(sigmas, steps_per_level, step_size):
    """Return the per-step ``(sigma_k, a_k)`` of annealed Langevin dynamics.

    ``a_k = step_size * sigma_k^2 / sigma_last^2`` with ``sigma_k`` the level
    of step ``k`` (levels from the largest to the smallest, ``steps_per_level``
    steps each), as in the push-forward form of the sampler. ``sigmas``
    must decrease, ``steps_per_level`` is a positive integer and
    ``step_size`` a positive finite number.
    """
    sigmas = check_sigmas(sigmas).numpy()
    steps_per_level = _check_count("steps_per_level", steps_per_level)
    step_size = float(check_positive("step_size", step_size))
    levels = np.repeat(sigmas, steps_per_level)
    return levels, step_size * levels**2 / sigmas[-1] ** 2


def _score_and_derivative(score_fn, x, sigma, method):
    """Return ``s(x, sigma)`` and the elementwise ``ds/dx`` for independent 1D points ``x``.

    A score that does not depend on ``x`` (no autograd graph back to it) has derivative 0.
    """
    if method == "jvp":
        with torch.no_grad():
            return torch.func.jvp(lambda point: _evaluate_score(score_fn, point, sigma), (x,),
                                  (torch.ones_like(x),))
    _check_method(method)
    point = x.detach().requires_grad_(True)
    with torch.enable_grad():
        score = _evaluate_score(score_fn, point, sigma)
        if not score.requires_grad:
            return score.detach(), torch.zeros_like(x)
        (derivative,) = torch.autograd.grad(score.sum(), point, allow_unused=True)
    if derivative is None:
        derivative = torch.zeros_like(x)
    return score.detach(), derivative


def _evaluate_score(score_fn, x, sigma):
    """Return ``score_fn(x, sigma)`` after checking that it is a tensor of the shape of ``x``.

    The derivative of the summed score is the per-point derivative only for
    a score of one value per point, and a score of another shape would
    broadcast in the Langevin update, so other shapes are rejected.
    """
    score = score_fn(x, sigma)
    if not isinstance(score, torch.Tensor):
        raise TypeError(f"score_fn must return a torch.Tensor, got {type(score).__name__} at sigma={sigma}")
    return _checked_score(score, x, sigma, name="score_fn")


def _check_method(method):
    if method not in ("autograd", "jvp"):
        raise ValueError(f"method must be 'autograd' or 'jvp', got method={method!r}")


@dataclass(frozen=True)
class LangevinLipschitz:
    """Local Lipschitz constants of the Langevin sampler along trajectories.

    ``local`` contains ``||grad_{(z_0, ..., z_N)} x_N||`` for each trajectory
    (the sampler's output is one number, so its Jacobian is one row and the
    operator norm is that row's length). ``max`` is their maximum, a lower
    estimate of the sampler's global Lipschitz constant. ``initial_gain`` is
    ``|d x_N / d z_0|`` alone. ``samples`` are the outputs of the differentiated
    trajectories and ``indices`` their positions among the screened draws, so
    ``samples`` are not a sample of the model when trajectories were selected.
    """

    local: np.ndarray
    initial_gain: np.ndarray
    max: float
    median: float
    samples: np.ndarray
    indices: np.ndarray


def langevin_lipschitz(score_fn, sigmas, steps_per_level, step_size, n_trajectories=256, seed=0, init_scale=1.0,
                       method="autograd", n_candidates=None, boundary=0.0, dtype=torch.float32):
    r"""Run annealed Langevin dynamics and differentiate the output along each trajectory.

    The chain ``x_0 = c z_0``, ``x_{k+1} = x_k + (a_k/2) s(x_k, sigma_k) + sqrt(a_k) z_{k+1}``
    is a map of the ``N + 1`` inputs ``(z_0, ..., z_N)``. Its Jacobian at a
    trajectory is, with ``J_k = 1 + (a_k / 2) ds/dx(x_k, sigma_k)``,

    .. math::

        \frac{\partial x_N}{\partial z_0} = c \prod_{k=0}^{N-1} J_k, \qquad
        \frac{\partial x_N}{\partial z_{j+1}} = \sqrt{a_j} \prod_{k=j+1}^{N-1} J_k.

    The derivatives ``ds/dx`` are computed at each step for all trajectories
    at once, and the products are taken as sums of logarithms in float64.
    With ``method="autograd"`` they are the gradient of ``sum_i s(x_i)``,
    which is ``ds/dx(x_i)`` for each trajectory because the trajectories
    do not interact. ``method="jvp"`` uses ``torch.func.jvp`` with a tangent of
    ones. It gives the same numbers (tested) but was about ten times slower
    on a 2-core CPU for a network of the score model's size (torch 2.13).

    Trajectory selection. The sampler is steepest where a small change of
    its inputs moves the output from one mode to the other, that is on the
    trajectories that end between the modes, which are rare. With
    ``n_candidates > n_trajectories``, the chain is first run without
    derivatives on ``n_candidates`` input draws. Then half of the
    ``n_trajectories`` differentiated draws are those whose output is closest
    to ``boundary``, and the other half are drawn at random from the rest.

    Parameters
    ----------
    score_fn : callable
        ``score_fn(x, sigma)`` as in :func:`score_lipschitz_per_level`.
    sigmas : sequence of float
        Noise levels from the largest to the smallest.
    steps_per_level : int
        Langevin steps per level.
    step_size : float
        ``eps`` in ``a_k = eps sigma_k^2 / sigma_last^2``.
    n_trajectories : int
        Trajectories differentiated, ``>= 1``.
    seed : int
        Seed of the input draws and of the random half of the selection.
    init_scale : float
        ``c > 0``, the scale of the initial state (1: ``x_0 = z_0``, as the sampler does).
    method : {"autograd", "jvp"}
        How ``ds/dx`` is computed (above).
    n_candidates : int, optional
        Input draws screened before the selection (a positive integer);
        ``None`` differentiates the first ``n_trajectories`` draws.
    boundary : float
        Output value near which trajectories are selected (0 for two modes at
        ``-m`` and ``m``), finite.
    dtype : torch.dtype
        dtype of the chain, ``torch.float32`` (that of the sampler) or
        ``torch.float64``. The inputs are drawn in float32 and converted, so
        both dtypes run the chain from the same inputs.

    Raises
    ------
    TypeError
        When ``score_fn`` returns something other than a tensor, or an
        argument has the wrong type (a non-integer count or seed, a
        non-real ``boundary``).
    ValueError
        When ``score_fn`` returns a tensor whose shape differs from that of
        ``x``, or for invalid ``sigmas``, ``steps_per_level``, ``step_size``,
        ``n_trajectories``, ``seed``, ``init_scale``, ``method``,
        ``n_candidates``, ``boundary`` or ``dtype``.

    Notes
    -----
    Each entry of ``local`` is a lower estimate of the global constant up to
    rounding. In float32 each step adds a relative error of about 1e-7 to the
    state, which equals a change of the injected noise by about
    ``1e-7 |x_k| / sqrt(a_k)``. So ``local`` is the gradient norm at inputs that
    close to the drawn ones. A norm above about 1e308 overflows to ``inf``.
    """
    levels, steps = langevin_schedule(sigmas, steps_per_level, step_size)
    c = float(check_positive("init_scale", init_scale))
    n_trajectories = _check_count("n_trajectories", n_trajectories)
    seed = _check_seed(seed)
    boundary = float(check_finite("boundary", boundary))
    _check_method(method)
    dtype = _check_dtype(dtype)
    n_draws = n_trajectories if n_candidates is None else max(_check_count("n_candidates", n_candidates),
                                                              n_trajectories)
    generator = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(levels.size + 1, n_draws, 1, generator=generator).to(dtype)

    indices = np.arange(n_trajectories)
    if n_draws > n_trajectories:
        final = _run_chain(score_fn, c * noise[0], noise[1:], levels, steps)
        indices = _select_trajectories(final, n_trajectories, boundary, seed)
    noise = noise[:, torch.as_tensor(indices)]

    x = c * noise[0]
    log_gain = np.zeros((levels.size, n_trajectories))
    for k, (sigma, a) in enumerate(zip(levels, steps)):
        score, derivative = _score_and_derivative(score_fn, x, float(sigma), method)
        jacobian = 1.0 + 0.5 * a * derivative.reshape(-1).double().numpy()
        log_gain[k] = np.log(np.abs(jacobian))
        x = x + 0.5 * a * score + math.sqrt(a) * noise[k + 1]

    # suffix[j] = log prod_{k >= j} |J_k|, with suffix[N] = 0.
    suffix = np.concatenate([np.cumsum(log_gain[::-1], axis=0)[::-1], np.zeros((1, n_trajectories))])
    log_terms = np.concatenate([np.log(c) + suffix[:1], 0.5 * np.log(steps)[:, None] + suffix[1:]])
    log_norm = 0.5 * sc.logsumexp(2.0 * log_terms, axis=0)
    local = np.exp(log_norm)
    return LangevinLipschitz(
        local=local,
        initial_gain=np.exp(log_terms[0]),
        max=float(local.max()),
        median=float(np.median(local)),
        samples=x.reshape(-1).double().numpy(),
        indices=indices,
    )


def _run_chain(score_fn, x, noise, levels, steps):
    """Return the final states of the Langevin chain, without derivatives."""
    with torch.no_grad():
        for k, (sigma, a) in enumerate(zip(levels, steps)):
            x = x + 0.5 * a * _evaluate_score(score_fn, x, float(sigma)) + math.sqrt(a) * noise[k]
    return x.reshape(-1).double().numpy()


def _select_trajectories(final, count, boundary, seed):
    """Return ``count`` indices: half with outputs closest to ``boundary``, half random among the others."""
    order = np.argsort(np.abs(final - boundary), kind="stable")
    closest = order[: count // 2]
    rest = order[count // 2:]
    random = np.random.default_rng(seed).choice(rest, size=count - closest.size, replace=False)
    return np.sort(np.concatenate([closest, random]))
