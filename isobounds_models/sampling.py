"""Sampling: push-forward generators and annealed Langevin dynamics.

A GAN generator or a VAE decoder mean ``g`` is sampled as ``g(z)``,
``z ~ N(0, I_p)``. A score model is sampled by annealed Langevin dynamics
(Song and Ermon, 2019), with the schedule of Salmona et al., 2022
(appendix S5.1):

    x_0 = z_0,
    x_{k+1} = x_k + (a_k / 2) s(x_k, sigma_k) + sqrt(a_k) z_{k+1},
    a_k = eps sigma_k^2 / sigma_last^2,

10 noise levels in geometric progression from 1 to 0.01, 100 steps per
level, ``eps = 2e-5``. The denominator is the last (smallest) level, as
in Song and Ermon (2019), so the steps go from ``eps / 0.01^2 = 0.2`` down
to ``eps``. The paper's Section S2.2 writes ``sigma_0^2`` there. With the
largest level in the denominator, no step would exceed ``eps``, and the
noise of all 1000 steps would add up to a standard deviation of 0.06. The chain is the push-forward of ``N(0, I)`` in dimension
``d (N + 1)`` by the map ``(z_0, ..., z_N) -> x_N``.
:func:`annealed_langevin` takes the injected noise as tensors and uses only
out-of-place differentiable operations, so ``torch.func.jacrev`` or
``torch.func.jvp`` can differentiate the whole chain with respect to
``x0`` and ``noise``.

References
----------
Y. Song, S. Ermon, "Generative Modeling by Estimating Gradients of the Data
Distribution", NeurIPS 2019.
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import math

import torch
from tqdm.auto import tqdm

from isobounds._validation import check_positive

from .data import _check_count, as_generator

__all__ = [
    "SIGMA_MAX",
    "SIGMA_MIN",
    "N_LEVELS",
    "STEPS_PER_LEVEL",
    "LANGEVIN_EPS",
    "geometric_sigmas",
    "check_sigmas",
    "langevin_step_sizes",
    "annealed_langevin",
    "langevin_noise",
    "sample_pushforward",
    "ScoreFunction",
]

SIGMA_MAX = 1.0
SIGMA_MIN = 0.01
N_LEVELS = 10
STEPS_PER_LEVEL = 100
LANGEVIN_EPS = 2e-5
SCORE_CHUNK = 2048
"""Samples per score network evaluation when no gradient is recorded."""


def geometric_sigmas(sigma_max=SIGMA_MAX, sigma_min=SIGMA_MIN, n_levels=N_LEVELS):
    """Return the noise levels ``sigma_i = sigma_max (sigma_min / sigma_max)^(i / (L - 1))``, ``i = 0..L-1``.

    Parameters
    ----------
    sigma_max, sigma_min : float
        First and last level, ``sigma_max >= sigma_min > 0``.
    n_levels : int
        Number of levels ``L >= 1`` (``L = 1`` gives ``[sigma_max]``).

    Returns
    -------
    torch.Tensor
        Float64 tensor of shape ``(L,)``, decreasing.
    """
    sigma_max = float(check_positive("sigma_max", sigma_max))
    sigma_min = float(check_positive("sigma_min", sigma_min))
    n_levels = _check_count("n_levels", n_levels)
    if sigma_min > sigma_max:
        raise ValueError(f"sigma_min must not exceed sigma_max, got sigma_min={sigma_min}, sigma_max={sigma_max}")
    if n_levels == 1:
        return torch.tensor([sigma_max], dtype=torch.float64)
    exponents = torch.arange(n_levels, dtype=torch.float64) / (n_levels - 1)
    return sigma_max * (sigma_min / sigma_max) ** exponents


def check_sigmas(sigmas):
    """Return ``sigmas`` as a float64 tensor after checking that they are noise levels of annealed Langevin dynamics.

    Raises TypeError when ``sigmas`` does not convert to a float64 tensor
    (strings, ``None`` entries, complex numbers), and ValueError unless it is
    a non-empty one-dimensional sequence of positive finite numbers that
    never increases (the levels run from the largest to the smallest).
    """
    try:
        levels = torch.as_tensor(sigmas, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"sigmas must be a one-dimensional sequence of real numbers, got sigmas={sigmas!r}") from None
    if levels.ndim != 1 or levels.numel() == 0:
        raise ValueError(f"sigmas must be a non-empty one-dimensional sequence of noise levels, got shape "
                         f"{tuple(levels.shape)}")
    if not bool(torch.all(torch.isfinite(levels) & (levels > 0))):
        raise ValueError(f"sigmas must be positive finite noise levels, got sigmas={levels.tolist()}")
    if bool(torch.any(levels[1:] > levels[:-1])):
        raise ValueError(f"sigmas must decrease from the largest level to the smallest, got sigmas={levels.tolist()}")
    return levels


def langevin_step_sizes(sigmas, eps=LANGEVIN_EPS):
    """Return the step sizes ``a_i = eps sigma_i^2 / sigma_last^2`` of each level (float64 tensor)."""
    eps = float(check_positive("eps", eps))
    sigmas = check_sigmas(sigmas)
    return eps * sigmas**2 / sigmas[-1] ** 2


def langevin_noise(shape, n_steps, generator=None, device="cpu", dtype=torch.float32):
    """Draw ``(x0, noise)`` for :func:`annealed_langevin`, of shapes ``shape`` and ``(n_steps, *shape)``.

    The draw is made on the CPU from ``generator`` (a ``torch.Generator``, an
    int seed or ``None``), so it does not depend on ``device``. ``n_steps`` is
    a positive integer. The noise is drawn in one call, so it differs from
    the noise that :func:`annealed_langevin` draws one step at a time from
    the same generator.
    """
    n_steps = _check_count("n_steps", n_steps)
    generator = as_generator(generator)
    x0 = torch.randn(shape, generator=generator, dtype=dtype)
    noise = torch.randn((n_steps, *shape), generator=generator, dtype=dtype)
    return x0.to(device), noise.to(device)


def annealed_langevin(score, x0, sigmas=None, steps_per_level=STEPS_PER_LEVEL, eps=LANGEVIN_EPS,
                      noise=None, generator=None, progress=False):
    """Run annealed Langevin dynamics from ``x0`` and return the last state ``x_N``.

    Parameters
    ----------
    score : callable
        ``score(x, sigma)`` returns the score at noise level ``sigma`` (a
        Python float), with the shape of ``x``. If ``score`` has a method
        ``at_level(sigma)`` returning a callable ``x -> score``, it is called
        once per level (this lets a network precompute its noise embedding).
    x0 : torch.Tensor
        Initial state ``x_0 = z_0``, any shape (for example ``(n, d)``, or
        ``(R, n, d)`` for a batched score).
    sigmas : sequence of float, optional
        Noise levels, decreasing; default :func:`geometric_sigmas` ``()``.
    steps_per_level : int
        Steps at each level (100 in the paper).
    eps : float
        Step size at the last level, ``eps > 0`` (2e-5 in the paper).
    noise : torch.Tensor, optional
        Injected noise ``z_1 .. z_N``, shape ``(N, *x0.shape)`` with
        ``N = len(sigmas) * steps_per_level``. Give it (with ``x0``) to make
        the chain a deterministic, differentiable function of its inputs.
    generator : torch.Generator or int, optional
        Source of the noise when ``noise`` is not given (drawn on the CPU,
        one step at a time, then moved to the device of ``x0``).
    progress : bool
        Show a tqdm bar over the levels.

    Returns
    -------
    torch.Tensor
        ``x_N``, with the shape of ``x0``.

    Raises
    ------
    TypeError
        When ``x0`` is not a floating-point tensor or ``noise`` is given but
        not a floating-point tensor.
    ValueError
        For invalid ``sigmas``, ``steps_per_level`` or ``eps``, ``noise`` of
        the wrong shape, or a score whose shape differs from that of ``x``.
    """
    if not (isinstance(x0, torch.Tensor) and x0.is_floating_point()):
        raise TypeError(f"x0 must be a floating-point torch.Tensor, got x0 of type {type(x0).__name__}"
                        f"{' and dtype ' + str(x0.dtype) if isinstance(x0, torch.Tensor) else ''}")
    sigmas = geometric_sigmas() if sigmas is None else check_sigmas(sigmas)
    steps_per_level = _check_count("steps_per_level", steps_per_level)
    step_sizes = langevin_step_sizes(sigmas, eps)
    n_steps = len(sigmas) * steps_per_level
    if noise is not None and not (isinstance(noise, torch.Tensor) and noise.is_floating_point()):
        raise TypeError(f"noise must be a floating-point torch.Tensor or None, got noise of type {type(noise).__name__}"
                        f"{' and dtype ' + str(noise.dtype) if isinstance(noise, torch.Tensor) else ''}")
    if noise is not None and tuple(noise.shape) != (n_steps, *x0.shape):
        raise ValueError(
            f"noise must have shape {(n_steps, *x0.shape)} (steps, *x0.shape), got noise of shape {tuple(noise.shape)}"
        )
    generator = as_generator(generator) if noise is None else None

    x = x0
    step = 0
    for level in tqdm(range(len(sigmas)), desc="Langevin levels", disable=not progress):
        sigma = float(sigmas[level])
        a = float(step_sizes[level])
        level_score = score.at_level(sigma) if hasattr(score, "at_level") else _fixed_level(score, sigma)
        for _ in range(steps_per_level):
            z = noise[step] if noise is not None else _standard_normal_like(x, generator)
            x = x + (0.5 * a) * _checked_score(level_score(x), x, sigma) + math.sqrt(a) * z
            step += 1
    return x


def sample_pushforward(generator_module, n, latent_dim=1, seed=None, device="cpu"):
    """Return ``g(z)`` for ``n`` latent draws ``z ~ N(0, I_p)`` as a tensor of shape ``(n, d)``.

    ``generator_module`` is a plain ``torch.nn.Module`` mapping ``(n, p)`` to
    ``(n, d)``; ``seed`` is an int, a ``torch.Generator`` or ``None``;
    ``n`` and ``latent_dim`` (``p``) are positive integers. ``z`` is drawn in
    float32 on the CPU, then converted to the dtype of the module's first
    parameter (float32 for a module without parameters) and moved to
    ``device``, so the draw is the same for float32 and float64 modules.
    """
    n = _check_count("n", n)
    latent_dim = _check_count("latent_dim", latent_dim)
    parameter = next(generator_module.parameters(), None)
    dtype = torch.float32 if parameter is None or not parameter.is_floating_point() else parameter.dtype
    z = torch.randn(n, latent_dim, generator=as_generator(seed)).to(device=device, dtype=dtype)
    with torch.no_grad():
        return generator_module(z)


def _checked_score(value, x, sigma, name="score"):
    """Return ``value``, the score at ``x``, after checking that it has the shape of ``x`` (another shape would broadcast).

    ``name`` is the argument that computed it, for the message.
    """
    if value.shape != x.shape:
        raise ValueError(f"{name} must return a tensor of the shape of x, {tuple(x.shape)}, got shape "
                         f"{tuple(value.shape)} at sigma={sigma}")
    return value


def _fixed_level(score, sigma):
    return lambda x: score(x, sigma)


def _standard_normal_like(x, generator):
    return torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)


class ScoreFunction:
    """The score ``s(x, sigma)`` of a :class:`~isobounds_models.networks.BatchedScoreNet` as a plain callable.

    Parameters
    ----------
    network : BatchedScoreNet
        With ``R`` runs. For ``R = 1`` (a network from ``select_run``), ``x``
        may have any shape ``(..., d)``; otherwise ``x`` must be ``(R, n, d)``.

    Notes
    -----
    ``score(x, sigma)`` and ``score.at_level(sigma)(x)`` are differentiable
    in ``x`` and usable inside ``torch.func.jacrev`` / ``torch.func.jvp``.
    ``sigma`` is a Python float or a 0-d tensor.
    """

    def __init__(self, network):
        self.network = network
        self.runs = network.layer_1.runs

    def __call__(self, x, sigma):
        return self.at_level(sigma)(x)

    def at_level(self, sigma):
        """Return ``x -> s(x, sigma)`` with the noise embedding of ``sigma`` computed once."""
        device = self.network.layer_1.weight.device
        dtype = self.network.layer_1.weight.dtype
        sigmas = torch.full((self.runs, 1), float(sigma), dtype=dtype, device=device)
        biases = self.network.embedding_biases(self.network.embed(sigmas))
        if self.runs > 1:
            return lambda x: self._evaluate(x, biases)
        return lambda x: self._evaluate(x.reshape(1, -1, self.network.dim), biases).reshape(x.shape)

    def _evaluate(self, x, biases):
        # Without autograd, samples go through in chunks so that the hidden
        # activations stay in cache (about 3 times faster on a CPU for 50,000 samples).
        if torch.is_grad_enabled() or x.shape[1] <= SCORE_CHUNK:
            return self.network.forward_biased(x, *biases)
        chunks = [self.network.forward_biased(chunk, *biases) for chunk in x.split(SCORE_CHUNK, dim=1)]
        return torch.cat(chunks, dim=1)
