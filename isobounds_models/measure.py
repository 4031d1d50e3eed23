r"""Measure trained univariate generative models: Lipschitz constants, masses, TV and KL.

Push-forward models (GAN generators, VAE decoders). A LeakyReLU MLP with one
input and one output is a continuous piecewise-linear map ``g : R -> R``.
:func:`piecewise_linear_from_layers` finds it exactly, by following every
feature of the network as a piecewise-linear function of the latent ``z`` and
adding a knot wherever a pre-activation changes sign (never by sampling a
grid). The exact map gives

- the exact Lipschitz constant ``max |slope|`` (:meth:`PiecewiseLinear1D.lipschitz_constant`);
- exact masses ``rho(I) = mu(g^{-1}(I))`` of intervals under ``rho = g#N(0, 1)``;
- the total variation and Kullback-Leibler distances to the target mixture,
  by Gauss-Legendre quadrature between the images of the knots, where both
  densities are smooth, with an error estimate from two quadrature orders.

The grid-slope estimate of Salmona et al., 2022 (appendix S5.1: slopes of the
network between neighbouring points of a grid of [-10, 10]) is
:func:`grid_lipschitz`; it is a lower estimate of the exact constant.

Score models. At a fixed noise level the score network is a map of ``x`` alone;
:func:`score_lipschitz_per_level` takes the maximum of ``|d s(x, sigma)/dx|``
over a grid of ``x`` at each trained level (never at ``sigma = 0``, which the
network never saw). Samples of the Langevin sampler are compared with the
target by :func:`sample_distances`, a stated KDE estimator with bootstrap
error bars. :func:`langevin_lipschitz` measures the local Lipschitz constant
of the whole sampler ``(z_0, z_1, ..., z_N) -> x_N`` along sampled
trajectories, which is the constant the isoperimetric bounds see.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import math
from dataclasses import dataclass

import numpy as np
import scipy.special as sc
import torch

from isobounds.vectorized import gaussian_mass

__all__ = [
    "LATENT_CUTOFF",
    "PiecewiseLinear1D",
    "piecewise_linear_from_layers",
    "piecewise_linear_from_module",
    "grid_lipschitz",
    "mixture_log_pdf",
    "mixture_mass",
    "SampleDistances",
    "sample_distances",
    "score_lipschitz_per_level",
    "langevin_schedule",
    "LangevinLipschitz",
    "langevin_lipschitz",
]

LATENT_CUTOFF = 12.0
"""Latent range ``[-12, 12]`` kept by the quadrature; N(0, 1) gives ``2 Phi(-12) ~ 3.6e-33`` to the rest."""

_GAUSS_ORDER = 24
_MAX_CELL_WIDTH = 0.25
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# ----------------------------------------------------------------------------
# Exact piecewise-linear maps of LeakyReLU MLPs
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PiecewiseLinear1D:
    """Continuous piecewise-linear map ``g : R -> R``.

    Attributes
    ----------
    knots : numpy.ndarray, shape (K,)
        Increasing knots ``t_1 < ... < t_K`` (``K >= 1``).
    values : numpy.ndarray, shape (K,)
        ``g(t_i)``.
    left_slope, right_slope : float
        Slopes of ``g`` on ``(-inf, t_1]`` and ``[t_K, inf)``.
    """

    knots: np.ndarray
    values: np.ndarray
    left_slope: float
    right_slope: float

    def __call__(self, z):
        """Evaluate ``g`` elementwise (linear extrapolation beyond the end knots)."""
        z = np.asarray(z, dtype=np.float64)
        inside = np.interp(z, self.knots, self.values)
        left = self.values[0] + self.left_slope * (z - self.knots[0])
        right = self.values[-1] + self.right_slope * (z - self.knots[-1])
        return np.where(z < self.knots[0], left, np.where(z > self.knots[-1], right, inside))

    def slopes(self):
        """Return the slopes of the ``K + 1`` pieces, from left to right."""
        inner = np.diff(self.values) / np.diff(self.knots)
        return np.concatenate([[self.left_slope], inner, [self.right_slope]])

    def lipschitz_constant(self):
        """Return the exact Lipschitz constant ``max |slope|``."""
        return float(np.max(np.abs(self.slopes())))

    def segments(self, cutoff=LATENT_CUTOFF):
        """Return ``(z_lo, z_hi, g_lo, g_hi)`` of the pieces restricted to ``[-cutoff, cutoff]``."""
        edges = np.concatenate([[-cutoff], self.knots[(self.knots > -cutoff) & (self.knots < cutoff)], [cutoff]])
        image = self(edges)
        return edges[:-1], edges[1:], image[:-1], image[1:]

    def mass(self, a, b):
        """Return ``rho([a, b]) = mu({z : a <= g(z) <= b})`` exactly, for ``rho = g#N(0, 1)``.

        Each piece is affine, so the preimage of ``[a, b]`` in it is an
        interval whose standard Gaussian mass is summed. ``a`` and ``b`` may be
        infinite. A flat piece counts fully when its value lies in ``[a, b]``.
        """
        edges = np.concatenate([[-np.inf], self.knots, [np.inf]])
        slopes = self.slopes()
        z_ref = np.concatenate([[self.knots[0]], self.knots])
        g_ref = np.concatenate([[self.values[0]], self.values])

        flat = slopes == 0.0
        safe = np.where(flat, 1.0, slopes)
        with np.errstate(invalid="ignore"):
            za = z_ref + (a - g_ref) / safe
            zb = z_ref + (b - g_ref) / safe
        lo = np.maximum(edges[:-1], np.minimum(za, zb))
        hi = np.minimum(edges[1:], np.maximum(za, zb))
        inside_flat = flat & (g_ref >= a) & (g_ref <= b)
        lo = np.where(flat, np.where(inside_flat, edges[:-1], 0.0), lo)
        hi = np.where(flat, np.where(inside_flat, edges[1:], 0.0), hi)
        return float(np.sum(gaussian_mass(lo, np.maximum(lo, hi))))

    def atom_mass(self, cutoff=LATENT_CUTOFF):
        """Return the latent mass of the flat pieces (atoms of ``rho``)."""
        z_lo, z_hi, g_lo, g_hi = self.segments(cutoff)
        flat = g_lo == g_hi
        return float(np.sum(gaussian_mass(z_lo[flat], z_hi[flat])))

    def pdf(self, x, cutoff=LATENT_CUTOFF):
        """Return the density of the continuous part of ``g#N(0, 1)`` at ``x`` (sum over preimages)."""
        x = np.asarray(x, dtype=np.float64)
        order = np.argsort(x.ravel())
        density = np.zeros(x.size)
        density[order] = _sorted_pushforward_pdf(self, x.ravel()[order], cutoff)
        return density.reshape(x.shape)

    def distances(self, m, sigma=1.0, order=_GAUSS_ORDER):
        """Return exact TV and KL of ``g#N(0, 1)`` to ``(1/2)[N(-m, sigma^2) + N(m, sigma^2)]``.

        Returns
        -------
        dict
            ``tv``, ``kl`` (``inf`` when ``rho`` has atoms), and ``tv_error``,
            ``kl_error``: the difference between Gauss-Legendre orders
            ``order`` and ``order // 2`` on the same cells plus the latent mass
            beyond ``|z| = 12``, an estimate of the quadrature error.

        Notes
        -----
        Both densities are smooth between consecutive images of the knots,
        so the real line is cut there and into cells at most 0.25 wide. The
        cells are cut again at every crossing of the two densities, found by
        sampling each cell at 9 points and bisecting. Each cell then gets a Gauss-Legendre rule on a
        smooth integrand. NOTE: two crossings closer than an eighth of a cell
        are missed; the error estimate then grows, because ``|p_rho - p_nu|``
        has a kink inside that cell.
        """
        cells = _split_at_crossings(self, _quadrature_cells(self, m, sigma), m, sigma)
        fine = _integrate_distances(self, cells, m, sigma, order)
        coarse = _integrate_distances(self, cells, m, sigma, max(order // 2, 2))
        atoms = self.atom_mass()
        tail = 2.0 * sc.ndtr(-LATENT_CUTOFF)
        tv = fine["tv"] + 0.5 * atoms
        kl = math.inf if atoms > 0 else fine["kl"]
        return {
            "tv": min(tv, 1.0),
            "kl": kl,
            "tv_error": float(abs(fine["tv"] - coarse["tv"]) + tail),
            "kl_error": float(abs(fine["kl"] - coarse["kl"]) + tail),
        }


def piecewise_linear_from_layers(layers, negative_slope, inputs=None, adds=None):
    """Build the exact piecewise-linear map of a one-input, one-output LeakyReLU MLP.

    Parameters
    ----------
    layers : list of (weight, bias)
        Linear layers, weight in the ``(out_features, in_features)`` layout of
        ``torch.nn.Linear``; the first layer has one input and the last one
        output.
    negative_slope : float
        LeakyReLU slope on negative inputs (0 gives ReLU).
    inputs, adds : list of list of int, optional
        Skip wiring: with ``f_0`` the input and ``f_k`` the output of layer
        ``k``, layer ``k`` computes ``W_k concat(a(f_j), j in inputs[k-1]) + b_k
        + sum(f_j, j in adds[k-1])``, where ``a`` is the LeakyReLU and
        ``a(f_0) = f_0``. ``None`` means a plain MLP.

    Returns
    -------
    PiecewiseLinear1D
        The network as a function of its input, exact up to float64 rounding.
    """
    n_layers = len(layers)
    if n_layers == 0:
        raise ValueError("layers must contain at least one (weight, bias) pair, got an empty list")
    if inputs is None:
        inputs = [[k] for k in range(n_layers)]
    if adds is None:
        adds = [[] for _ in range(n_layers)]
    if len(inputs) != n_layers or len(adds) != n_layers:
        raise ValueError(
            f"inputs and adds must have one entry per layer ({n_layers}), got {len(inputs)} and {len(adds)}"
        )
    weights = [np.asarray(w, dtype=np.float64) for w, _ in layers]
    biases = [np.asarray(b, dtype=np.float64) for _, b in layers]
    if weights[0].shape[1] != 1 or weights[-1].shape[0] != 1:
        raise ValueError(
            "the network must have one input and one output, got first weight of shape "
            f"{weights[0].shape} and last weight of shape {weights[-1].shape}"
        )

    # Each feature is stored by its values at the knots and its two end slopes.
    state = _FeatureState(np.zeros(1), [np.zeros((1, 1))], [np.ones(1)], [np.ones(1)])
    activated = [0]
    for k in range(n_layers):
        state.apply_linear(weights[k], biases[k], inputs[k], adds[k], activated)
        if k < n_layers - 1:
            state.add_sign_changes(len(state.values) - 1)
            activated.append(state.activate(len(state.values) - 1, negative_slope))

    values = state.values[-1][:, 0]
    return _deduplicate(state.knots, values, float(state.left[-1][0]), float(state.right[-1][0]))


def piecewise_linear_from_module(module):
    """Build the exact piecewise-linear map of an exported one-run MLP.

    ``module`` is an ``nn.Sequential`` of ``nn.Linear`` and ``nn.LeakyReLU`` or
    a skip network, as exported by :func:`isobounds_models.networks.export_mlp`.
    """
    from .networks import describe_mlp

    description = describe_mlp(module)
    inputs = description["inputs"] if description["skip"] != "plain" else None
    adds = description["adds"] if description["skip"] != "plain" else None
    return piecewise_linear_from_layers(description["layers"], description["negative_slope"], inputs, adds)


class _FeatureState:
    """Features of an MLP as piecewise-linear functions of its input.

    ``values[s]`` has shape ``(K, width)`` (values at the knots) and
    ``left[s]``, ``right[s]`` are the end slopes of slot ``s``. ``raw[j]`` is the
    slot of ``f_j`` (before the activation).
    """

    def __init__(self, knots, values, left, right):
        self.knots = knots
        self.values = values
        self.left = left
        self.right = right
        self.raw = [0]

    def apply_linear(self, weight, bias, read, add, activated):
        """Append the output of a linear layer reading ``activated[j]`` for ``j`` in ``read``."""
        slots = [activated[j] for j in read]
        x_values = np.concatenate([self.values[s] for s in slots], axis=1)
        x_left = np.concatenate([self.left[s] for s in slots])
        x_right = np.concatenate([self.right[s] for s in slots])
        out_values = x_values @ weight.T + bias
        out_left = weight @ x_left
        out_right = weight @ x_right

        for j in add:
            out_values = out_values + self.values[self.raw[j]]
            out_left = out_left + self.left[self.raw[j]]
            out_right = out_right + self.right[self.raw[j]]

        self.raw.append(len(self.values))
        self.values.append(out_values)
        self.left.append(out_left)
        self.right.append(out_right)

    def add_sign_changes(self, j):
        """Insert a knot wherever feature ``j`` changes sign, then re-evaluate every feature there."""
        h = self.values[j]
        t = self.knots
        new = []

        lo, hi = h[:-1], h[1:]
        crossing = (lo * hi) < 0
        if crossing.any():
            seg, unit = np.nonzero(crossing)
            frac = lo[seg, unit] / (lo[seg, unit] - hi[seg, unit])
            new.append(t[seg] + frac * (t[seg + 1] - t[seg]))

        with np.errstate(divide="ignore", invalid="ignore"):
            left_zero = t[0] - h[0] / self.left[j]
            right_zero = t[-1] - h[-1] / self.right[j]
        new.append(left_zero[np.isfinite(left_zero) & (left_zero < t[0])])
        new.append(right_zero[np.isfinite(right_zero) & (right_zero > t[-1])])

        points = np.unique(np.concatenate(new))
        points = points[~np.isin(points, t)]
        if points.size:
            self._insert(points)

    def _insert(self, points):
        knots = np.concatenate([self.knots, points])
        order = np.argsort(knots, kind="stable")
        for i in range(len(self.values)):
            extra = _evaluate_pl(self.knots, self.values[i], self.left[i], self.right[i], points)
            self.values[i] = np.concatenate([self.values[i], extra])[order]
        self.knots = knots[order]

    def activate(self, j, negative_slope):
        """Append the LeakyReLU of feature ``j`` (knots at its sign changes already) and return its slot."""
        h = self.values[j]
        values = np.where(h >= 0, h, negative_slope * h)
        # No sign change lies beyond the end knots, so the slope fixes the sign there.
        left_sign = np.where(self.left[j] != 0, -self.left[j], h[0])
        right_sign = np.where(self.right[j] != 0, self.right[j], h[-1])
        left = np.where(left_sign > 0, self.left[j], negative_slope * self.left[j])
        right = np.where(right_sign > 0, self.right[j], negative_slope * self.right[j])
        self.values.append(values)
        self.left.append(left)
        self.right.append(right)
        return len(self.values) - 1


def _evaluate_pl(knots, values, left, right, points):
    """Evaluate piecewise-linear features ``(K, w)`` at ``points`` (linear beyond the end knots)."""
    index = np.clip(np.searchsorted(knots, points) - 1, 0, max(len(knots) - 2, 0))
    if len(knots) == 1:
        slope = np.where((points < knots[0])[:, None], left[None, :], right[None, :])
        return values[0][None, :] + slope * (points - knots[0])[:, None]
    t0, t1 = knots[index], knots[index + 1]
    w = ((points - t0) / (t1 - t0))[:, None]
    inner = (1.0 - w) * values[index] + w * values[index + 1]
    below = values[0][None, :] + left[None, :] * (points - knots[0])[:, None]
    above = values[-1][None, :] + right[None, :] * (points - knots[-1])[:, None]
    return np.where((points < knots[0])[:, None], below, np.where((points > knots[-1])[:, None], above, inner))


def _deduplicate(knots, values, left, right):
    keep = np.concatenate([[True], np.diff(knots) > 0])
    return PiecewiseLinear1D(knots[keep].copy(), values[keep].copy(), left, right)


def grid_lipschitz(function, low=-10.0, high=10.0, n_points=20_001):
    """Estimate a 1D map's Lipschitz constant from slopes between neighbouring grid points.

    This is the estimate of Salmona et al., 2022 (appendix S5.1), on
    ``n_points`` equally spaced points of ``[low, high]``. It is a lower
    estimate: it misses pieces shorter than the spacing and any piece outside
    the grid.

    Parameters
    ----------
    function : callable
        Maps a float32 tensor of shape ``(n, 1)`` to ``(n, 1)`` (a torch module)
        or a float64 array to an array (a :class:`PiecewiseLinear1D`).
    """
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"low and high must be finite with low < high, got low={low}, high={high}")
    if n_points < 2:
        raise ValueError(f"n_points must be an integer >= 2, got n_points={n_points}")
    grid = np.linspace(low, high, int(n_points))
    if isinstance(function, torch.nn.Module):
        values = _evaluate_module_float64(function, grid)
    else:
        values = np.asarray(function(grid), dtype=np.float64).reshape(-1)
    return float(np.max(np.abs(np.diff(values)) / np.diff(grid)))


def _evaluate_module_float64(module, points, chunk=65_536):
    """Evaluate a one-input torch module at ``points`` in float64, in chunks to bound memory."""
    reference = next(module.parameters())
    dtype, device = reference.dtype, reference.device
    copy = module.to(torch.float64)
    try:
        with torch.no_grad():
            values = [
                copy(torch.as_tensor(part, dtype=torch.float64, device=device).reshape(-1, 1))
                .reshape(-1).cpu().numpy()
                for part in np.array_split(points, max(1, math.ceil(points.size / chunk)))
            ]
    finally:
        module.to(dtype)
    return np.concatenate(values)


# ----------------------------------------------------------------------------
# Target mixture and quadrature of TV and KL
# ----------------------------------------------------------------------------


def mixture_log_pdf(x, m, sigma=1.0):
    """Log-density of ``(1/2)[N(-m, sigma^2) + N(m, sigma^2)]`` at ``x``, without underflow."""
    x = np.asarray(x, dtype=np.float64)
    terms = np.stack([-0.5 * ((x + m) / sigma) ** 2, -0.5 * ((x - m) / sigma) ** 2])
    return sc.logsumexp(terms, axis=0) + math.log(0.5) - _LOG_SQRT_2PI - math.log(sigma)


def mixture_mass(a, b, m, sigma=1.0):
    """Mass ``nu([a, b])`` of ``(1/2)[N(-m, sigma^2) + N(m, sigma^2)]``, tail-safe (no CDF differences)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    first = gaussian_mass((a + m) / sigma, (b + m) / sigma)
    second = gaussian_mass((a - m) / sigma, (b - m) / sigma)
    return 0.5 * (first + second)


def _quadrature_cells(pl, m, sigma):
    _, _, g_lo, g_hi = pl.segments()
    reach = m + 12.0 * sigma
    points = np.concatenate([g_lo, g_hi, [-reach, reach]])
    points = np.unique(points)
    widths = np.diff(points)
    pieces = np.maximum(np.ceil(widths / _MAX_CELL_WIDTH), 1).astype(int)
    starts = np.repeat(points[:-1], pieces)
    steps = np.repeat(widths / pieces, pieces)
    offsets = np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    lo = starts + offsets * steps
    return lo, lo + steps


def _split_at_crossings(pl, cells, m, sigma, n_samples=9, n_bisections=60):
    """Split the cells ``(lo, hi)`` at the points where ``p_rho - p_nu`` changes sign."""
    lo, hi = cells
    width = hi - lo
    # Nudged ends: p_rho jumps at images of knots, which are cell ends.
    fractions = np.linspace(1e-9, 1.0 - 1e-9, n_samples)
    points = lo[:, None] + width[:, None] * fractions[None, :]
    difference = _density_difference(pl, points, m, sigma)

    cell, left = np.nonzero(np.sign(difference[:, :-1]) * np.sign(difference[:, 1:]) < 0)
    if cell.size == 0:
        return cells
    a, b = points[cell, left], points[cell, left + 1]
    fa = difference[cell, left]
    for _ in range(n_bisections):
        middle = 0.5 * (a + b)
        fm = _density_difference(pl, middle, m, sigma)
        same = np.sign(fm) == np.sign(fa)
        a, fa = np.where(same, middle, a), np.where(same, fm, fa)
        b = np.where(same, b, middle)
    roots = 0.5 * (a + b)

    edges = np.sort(np.concatenate([lo, hi[-1:], roots]))
    return edges[:-1], edges[1:]


def _density_difference(pl, x, m, sigma):
    flat = x.ravel()
    return (pl.pdf(flat) - np.exp(mixture_log_pdf(flat, m, sigma))).reshape(x.shape)


def _sorted_pushforward_pdf(pl, x, cutoff):
    """Push-forward density at increasing points ``x``: ``sum_i phi(z_i(x)) / |s_i|`` over the pieces."""
    z_lo, z_hi, g_lo, g_hi = pl.segments(cutoff)
    moving = g_lo != g_hi
    z_lo, z_hi, g_lo, g_hi = z_lo[moving], z_hi[moving], g_lo[moving], g_hi[moving]
    slope = (g_hi - g_lo) / (z_hi - z_lo)
    y_min, y_max = np.minimum(g_lo, g_hi), np.maximum(g_lo, g_hi)

    first = np.searchsorted(x, y_min, side="left")
    last = np.searchsorted(x, y_max, side="right")
    counts = last - first
    piece = np.repeat(np.arange(slope.size), counts)
    point = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(first, counts)

    z = z_lo[piece] + (x[point] - g_lo[piece]) / slope[piece]
    contribution = np.exp(-0.5 * z * z - _LOG_SQRT_2PI) / np.abs(slope[piece])
    return np.bincount(point, weights=contribution, minlength=x.size)


def _integrate_distances(pl, cells, m, sigma, order):
    nodes, weights = np.polynomial.legendre.leggauss(order)
    lo, hi = cells
    half = 0.5 * (hi - lo)
    x = (0.5 * (hi + lo))[:, None] + half[:, None] * nodes[None, :]
    w = half[:, None] * weights[None, :]

    x_flat = x.ravel()
    p_rho = pl.pdf(x_flat)
    log_nu = mixture_log_pdf(x_flat, m, sigma)
    p_nu = np.exp(log_nu)

    tv = 0.5 * np.sum(w.ravel() * np.abs(p_rho - p_nu))
    # Mass of nu outside the cells, where rho has (numerically) none.
    outside = 1.0 - float(np.sum(w.ravel() * p_nu))
    tv += 0.5 * max(outside, 0.0)
    positive = p_rho > 0
    kl_terms = np.zeros_like(p_rho)
    kl_terms[positive] = p_rho[positive] * (np.log(p_rho[positive]) - log_nu[positive])
    return {"tv": float(tv), "kl": float(np.sum(w.ravel() * kl_terms))}


# ----------------------------------------------------------------------------
# Distances from samples (score models)
# ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleDistances:
    """TV and KL estimated from samples, with bootstrap standard errors.

    ``mass_between`` is the fraction of samples in ``[-m/2, m/2]`` with its
    binomial standard error ``mass_between_se``.
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


def sample_distances(samples, m, sigma=1.0, n_bootstrap=30, seed=0, grid_size=4096):
    r"""Estimate TV and KL between the law of ``samples`` and the target mixture.

    Estimator (stated because the numbers depend on it): a Gaussian kernel
    density estimate ``p_hat`` with Silverman's bandwidth
    ``h = 0.9 min(sd, IQR/1.34) n^(-1/5)``, computed by linear binning on a
    ``grid_size``-point grid and an FFT convolution, against the exact target
    density ``p_nu``:

    .. math::

        \widehat{TV} = \tfrac12 \int |\hat p - p_\nu|, \qquad
        \widehat{KL} = \int \hat p \log(\hat p / p_\nu),

    both by the trapezoidal rule on the grid. Error bars: standard deviation
    over ``n_bootstrap`` resamples (with replacement, the bandwidth recomputed
    each time).

    NOTE: the bootstrap measures sampling noise only. Kernel smoothing widens
    each mode by ``h``, a bias of order ``h^2`` in TV and KL that the error
    bar does not include.

    Parameters
    ----------
    samples : array_like, shape (n,) or (n, 1)
        Samples of the model, ``n >= 10``.
    m : float
        Half distance between the target's modes, ``m >= 0``.
    """
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size < 10:
        raise ValueError(f"samples must contain at least 10 points, got {x.size}")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite, got NaN or infinite values (the sampler diverged)")
    if not (m >= 0 and math.isfinite(m)):
        raise ValueError(f"m must be a nonnegative finite number, got m={m}")

    lo = min(x.min(), -m - 10 * sigma) - 1.0
    hi = max(x.max(), m + 10 * sigma) + 1.0
    grid = np.linspace(lo, hi, grid_size)
    log_nu = mixture_log_pdf(grid, m, sigma)

    tv, kl, h = _kde_distances(x, grid, log_nu)
    rng = np.random.default_rng(seed)
    resampled = x[rng.integers(0, x.size, size=(n_bootstrap, x.size))]
    boot = np.array([_kde_distances(row, grid, log_nu)[:2] for row in resampled])

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
    )


def _kde_distances(x, grid, log_nu):
    from scipy.signal import fftconvolve

    n = x.size
    iqr = np.subtract(*np.percentile(x, [75, 25]))
    spread = min(x.std(ddof=1), iqr / 1.34) if iqr > 0 else x.std(ddof=1)
    h = max(0.9 * spread * n ** (-0.2), 2.0 * (grid[1] - grid[0]))

    dx = grid[1] - grid[0]
    position = (x - grid[0]) / dx
    left = np.clip(np.floor(position).astype(int), 0, grid.size - 2)
    frac = position - left
    counts = np.bincount(left, weights=1.0 - frac, minlength=grid.size)
    counts += np.bincount(left + 1, weights=frac, minlength=grid.size)

    half_width = int(math.ceil(6 * h / dx))
    offsets = np.arange(-half_width, half_width + 1) * dx
    kernel = np.exp(-0.5 * (offsets / h) ** 2) / (h * math.sqrt(2 * math.pi))
    p_hat = np.clip(fftconvolve(counts / n, kernel, mode="same"), 0.0, None)

    p_nu = np.exp(log_nu)
    tv = 0.5 * np.trapezoid(np.abs(p_hat - p_nu), grid)
    positive = p_hat > 1e-300
    integrand = np.zeros_like(p_hat)
    integrand[positive] = p_hat[positive] * (np.log(p_hat[positive]) - log_nu[positive])
    kl = np.trapezoid(integrand, grid)
    return float(tv), float(kl), float(h)


# ----------------------------------------------------------------------------
# Score networks and the Langevin sampler
# ----------------------------------------------------------------------------


def score_lipschitz_per_level(score_fn, sigmas, low=-15.0, high=15.0, n_points=4001):
    """Return ``max_x |d s(x, sigma)/dx|`` over a grid of ``x``, for each trained noise level.

    Parameters
    ----------
    score_fn : callable
        ``score_fn(x, sigma)`` maps a float32 tensor ``x`` of shape ``(n, 1)``
        and a float ``sigma`` to the score, shape ``(n, 1)``.
    sigmas : sequence of float
        Trained noise levels (all ``> 0``; ``sigma = 0`` lies outside the
        training range and is rejected).

    Returns
    -------
    numpy.ndarray
        One Lipschitz estimate per level: the exact derivative (autograd) at
        every grid point, maximised, so a lower estimate of the constant on
        ``[low, high]``.
    """
    sigmas = [float(s) for s in sigmas]
    if any(not (s > 0 and math.isfinite(s)) for s in sigmas):
        raise ValueError(f"sigmas must be positive finite noise levels (the trained ones), got sigmas={sigmas}")
    x = torch.linspace(low, high, n_points).reshape(-1, 1)
    result = []
    for sigma in sigmas:
        point = x.clone().requires_grad_(True)
        score = score_fn(point, sigma)
        (derivative,) = torch.autograd.grad(score.sum(), point)
        result.append(float(derivative.abs().max()))
    return np.array(result)


def langevin_schedule(sigmas, steps_per_level, step_size):
    """Return the per-step ``(sigma_k, a_k)`` of annealed Langevin dynamics.

    ``a_k = step_size * sigma_k^2 / sigma_last^2`` with ``sigma_k`` the level
    of step ``k`` (levels from the largest to the smallest, ``steps_per_level``
    steps each), as in the push-forward form of the sampler.
    """
    sigmas = np.asarray(sigmas, dtype=np.float64)
    levels = np.repeat(sigmas, int(steps_per_level))
    return levels, step_size * levels**2 / sigmas[-1] ** 2


def _score_and_derivative(score_fn, x, sigma, method):
    """Return ``s(x, sigma)`` and the elementwise ``ds/dx`` for independent 1D points ``x``."""
    if method == "jvp":
        with torch.no_grad():
            return torch.func.jvp(lambda point: score_fn(point, sigma), (x,), (torch.ones_like(x),))
    if method != "autograd":
        raise ValueError(f"method must be 'autograd' or 'jvp', got method={method!r}")
    point = x.detach().requires_grad_(True)
    with torch.enable_grad():
        score = score_fn(point, sigma)
        (derivative,) = torch.autograd.grad(score.sum(), point)
    return score.detach(), derivative


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
                       method="autograd", n_candidates=None, boundary=0.0):
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
        Trajectories differentiated.
    init_scale : float
        ``c``, the scale of the initial state (1: ``x_0 = z_0``, as the sampler does).
    method : {"autograd", "jvp"}
        How ``ds/dx`` is computed (above).
    n_candidates : int, optional
        Input draws screened before the selection; ``None`` differentiates the
        first ``n_trajectories`` draws.
    boundary : float
        Output value near which trajectories are selected (0 for two modes at ``-m`` and ``m``).
    """
    levels, steps = langevin_schedule(sigmas, steps_per_level, step_size)
    c = float(init_scale)
    n_draws = n_trajectories if n_candidates is None else max(int(n_candidates), n_trajectories)
    generator = torch.Generator().manual_seed(int(seed))
    noise = torch.randn(levels.size + 1, n_draws, 1, generator=generator)

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
            x = x + 0.5 * a * score_fn(x, float(sigma)) + math.sqrt(a) * noise[k]
    return x.reshape(-1).double().numpy()


def _select_trajectories(final, count, boundary, seed):
    """Return ``count`` indices: half with outputs closest to ``boundary``, half random among the others."""
    order = np.argsort(np.abs(final - boundary), kind="stable")
    closest = order[: count // 2]
    rest = order[count // 2:]
    random = np.random.default_rng(seed).choice(rest, size=count - closest.size, replace=False)
    return np.sort(np.concatenate([closest, random]))
