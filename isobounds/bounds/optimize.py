r"""Sharper bounds: Theorem 4 and Theorem 7 maximised over the radius and over sets.

Every bound of Theorems 4 and 7 holds for each set ``A`` and radius ``r``,
so the best bound is a supremum. The searches here are global. A grid
(log-spaced in ``r``) is evaluated in full, and the few best local maxima
are refined by golden-section search. The largest refined value wins, so
the search never stops at the first decrease. Searches over sets score
their candidates in float64 first. Every search runs at 20 significant
digits (or the working precision if lower), and only the final evaluation
at the arguments found uses the working precision. The returned value is
therefore the bound evaluated at the returned arguments, a valid bound
even where the search misses the true supremum; those arguments carry at
most 20 significant digits, so their rounding to ``dps >= 20`` digits
does not change them.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022, Theorems 4
and 7, Corollary 6.
"""

import dataclasses
import itertools
import numbers

import mpmath
import numpy as np
import scipy.optimize

from .. import vectorized
from .._precision import workdps
from .._validation import check_positive, check_probability
from ..gaussian import _gaussian_mass, _Phi_inv
from ..sets import HalfSpace, Interval
from ._common import (
    check_dimensions,
    check_region,
    check_target,
    evaluate,
    golden_section,
    separation,
    set_mass,
    settle,
)
from ._mixture import check_gaussian_mixture, is_gaussian_mixture, mixture_from_target
from .isoperimetry import _shell_mass, _ShellMass
from .kl import _corrected_kl, _corrected_kl_terms
from .tv import _model_free_side_terms, _theorem4_bracket, _theorem4_terms

__all__ = [
    "OptimizedBound",
    "maximize_tv_over_radius",
    "maximize_kl_over_radius",
    "maximize_tv_two_gaussians",
    "maximize_tv_over_half_spaces",
    "maximize_tv_over_intervals",
]

_GRID_POINTS_PER_DECADE = 6
_MAX_GRID_POINTS = 240
_REFINED_CANDIDATES = 2
_GOLDEN_ITERATIONS = 32
_OFFSET_GRID_POINTS = 41
_FLOAT_RADIUS_POINTS = 400

# Searches run at this many digits; the working precision only evaluates the
# bound at the arguments they return.
_SEARCH_DPS = 20

# Offsets (and intervals) whose float64 score is within this relative distance
# of the best one are re-scored at _SEARCH_DPS digits: the float64 scores use a
# discrete radius grid, whose error is about 1e-3 relative.
_FLOAT_SCORE_TOLERANCE = 1e-2

# A float64 bracket below this is rounding noise of its O(1) terms, not a positive bound.
_FLOAT_BRACKET_NOISE = 1e-12

# Directions whose best grid score is within this relative distance of the
# best direction's have their offset refined (the refinement gains far less).
_DIRECTION_TOLERANCE = 0.2


@dataclasses.dataclass(frozen=True)
class OptimizedBound:
    """A bound together with the arguments that attain it.

    Attributes
    ----------
    value : mpmath.mpf
        The bound, evaluated at ``radius`` and ``region``; clipped at 0.
    radius : mpmath.mpf or tuple of two mpf
        The maximising radius; in the model-free form of Theorem 4 the pair
        ``(r_A, r_B)`` of the radii used for the set and for its complement.
    region : set from :mod:`isobounds.sets`, or None
        The maximising set when the search runs over sets.
    """

    value: mpmath.mpf
    radius: object
    region: object = None


# ---------------------------------------------------------------------------
# One-dimensional global search.
# ---------------------------------------------------------------------------

def _maximize_on_grid(f, grid, candidates=_REFINED_CANDIDATES, iterations=_GOLDEN_ITERATIONS):
    """Global maximum of ``f`` over a sorted grid, refined around the best local maxima.

    ``grid`` contains values of the search variable (``log r`` or an offset); the
    returned pair is ``(value, argument)``.
    """
    values = [f(x) for x in grid]
    n = len(grid)
    peaks = [i for i in range(n) if (i == 0 or values[i] >= values[i - 1]) and (i == n - 1 or values[i] >= values[i + 1])]
    peaks.sort(key=lambda i: values[i], reverse=True)
    best = (values[peaks[0]], grid[peaks[0]])
    for i in peaks[:candidates]:
        left, right = grid[max(i - 1, 0)], grid[min(i + 1, n - 1)]
        if left == right:
            continue
        candidate = golden_section(f, left, right, iterations)
        if candidate[0] > best[0]:
            best = candidate
    return best


def _log_radius_grid(r_low, r_high):
    decades = float(mpmath.log10(r_high / r_low))
    count = int(min(_MAX_GRID_POINTS, max(24, decades * _GRID_POINTS_PER_DECADE)))
    return list(mpmath.linspace(mpmath.log(r_low), mpmath.log(r_high), count))


def _maximize_over_radius(f, r_low, r_high, terms=None):
    """Maximise ``f(r)`` over ``[r_low, r_high]`` on a log-spaced grid; return ``(value, r)``.

    The search runs at :data:`_SEARCH_DPS` digits (at most the working
    precision); ``value`` is the bound at the returned radius, evaluated at
    the working precision. With ``terms`` (a function of ``r`` returning
    ``(difference, scale[, result])`` from exact inputs, see
    :func:`isobounds.bounds._common.settle`) that evaluation takes as many
    more digits as the cancellation in the bound needs; otherwise it is
    ``f(r)``.
    """
    with workdps(min(mpmath.mp.dps, _SEARCH_DPS)):
        _, log_r = _maximize_on_grid(lambda t: f(mpmath.exp(t)), _log_radius_grid(r_low, r_high))
        r = mpmath.exp(log_r)
    if terms is None:
        return f(r), r
    return settle(lambda: terms(r)), r


def _default_radius_range(L, masses, lengths):
    """Radii from far below the target's scale and ``L`` up to where the bracket can no longer grow.

    Beyond ``r = L (|Phi_inv(mass)| + 12)`` beta grows by less than
    ``Phi_c(12) ~ 2e-33``. For a Gaussian mixture, a shell wider than 100
    times its extent contains all the target's mass outside the set except
    tails below ``Phi_c(4000)``, and beta never exceeds that mass, so the
    bracket is below that tail there. The larger ``100 * scale`` keeps the
    target's own length scale in the range when ``L`` is small.
    """
    scale, extent = lengths
    reach = max((abs(_Phi_inv(m)) for m in masses if 0 < m < 1), default=mpmath.mpf(0))
    r_low = min(L, scale) * mpmath.mpf("1e-6")
    r_high = max(min(L * (reach + 12), 100 * extent), 100 * scale)
    return r_low, r_high


def _check_radius_range(radius_range, L, masses, lengths):
    if radius_range is None:
        return _default_radius_range(L, masses, lengths)
    return _radius_pair(radius_range)


def _radius_pair(radius_range):
    """Validate ``radius_range``: a pair ``(low, high)`` of finite numbers with ``0 < low < high``."""
    if radius_range is None:
        return None
    if isinstance(radius_range, (str, bytes)) or np.ndim(radius_range) != 1 or len(radius_range) != 2:
        raise ValueError(
            f"radius_range must be a pair (low, high) of finite numbers with 0 < low < high, "
            f"got radius_range={radius_range!r}"
        )
    low = check_positive("radius_range[0]", radius_range[0])
    high = check_positive("radius_range[1]", radius_range[1])
    if not low < high:
        raise ValueError(f"radius_range must satisfy low < high, got radius_range=({low}, {high})")
    return low, high


def _mixture_lengths(mixture):
    """Return ``(scale, extent)``: the smallest standard deviation, and the spread of the means plus 40 largest ones."""
    return min(mixture.sigmas), max(mixture.means) - min(mixture.means) + 40 * max(mixture.sigmas)


def _target_lengths(target):
    """Return ``(scale, extent)`` of a target, from its components for a Gaussian mixture, else ``(1, 1e10)``."""
    if not is_gaussian_mixture(target):
        # NOTE: without mixture parameters the extent is a guess; pass radius_range
        # for targets spread over more than about 1e10 length units.
        return mpmath.mpf(1), mpmath.mpf("1e10")
    sigmas = [check_positive("target.sigmas", s) for s in np.ravel(np.asarray(target.sigmas, dtype=object))]
    rows = np.asarray(target.means, dtype=object).reshape(len(np.ravel(np.asarray(target.weights, dtype=object))), -1)
    spread = max(
        (mpmath.sqrt(mpmath.fsum((mpmath.mpf(a) - mpmath.mpf(b)) ** 2 for a, b in zip(u, v))) for u in rows for v in rows),
        default=mpmath.mpf(0),
    )
    return min(sigmas), spread + 40 * max(sigmas)


# ---------------------------------------------------------------------------
# Theorems 4 and 7 over the radius, for a given set.
# ---------------------------------------------------------------------------

def _side_over_radius(region, L, target, radius_range):
    """sup_r beta(nu(S), r / L) - nu(S_r minus S) for one set ``S``."""
    mass = set_mass(target, region)
    low, high = _check_radius_range(radius_range, L, [mass], _target_lengths(target))
    beta = _ShellMass(mass)

    def bracket(r):
        return beta(r / L) - set_mass(target, region.shell(r))

    return _maximize_over_radius(bracket, low, high, lambda r: _model_free_side_terms(region, r, r / L, target))


def maximize_tv_over_radius(A, lip, *, target, model_mass=None, radius_range=None, dps=None):
    r"""Theorem 4 for one set ``A``, maximised over the radius ``r``.

    With ``model_mass`` the bound is
    :math:`\sup_r [\alpha(\rho(A), r) - \min(\rho(A), \nu(A)) - \nu(A_r \setminus A)]`;
    without it, the model-free form
    :math:`\min(\sup_{r_A} [\beta(\nu(A), r_A) - \nu(A_{r_A} \setminus A)],
    \sup_{r_B} [\beta(\nu(B), r_B) - \nu(B_{r_B} \setminus B)])` with ``B``
    the complement of ``A``: each side takes its own best radius.

    Parameters
    ----------
    A : set from :mod:`isobounds.sets`
    lip : positive finite real number
        Lipschitz constant of the generator.
    target : measure from :mod:`isobounds.measures`
    model_mass : real number in [0, 1], optional
        The model's mass :math:`\rho(A)`.
    radius_range : (low, high), optional
        Search interval for ``r``: two finite numbers with
        ``0 < low < high`` (the grid is log-spaced). By default from
        ``1e-6 * min(lip, scale)`` to
        ``max(min(lip * (|Phi_inv(m)| + 12), 100 * extent), 100 * scale)``
        for the masses ``m`` involved. For a Gaussian mixture target,
        ``scale`` is the smallest component standard deviation and
        ``extent`` the spread of the means plus 40 of the largest standard
        deviations. For other targets they are 1 and 1e10.
    dps : int, optional
        Significant digits of the value.

    Returns
    -------
    OptimizedBound
        ``value`` clipped at 0, ``radius`` (a pair in the model-free form),
        ``region = A``.

    References
    ----------
    Salmona et al., 2022, Theorem 4.
    """

    check_target(target)
    check_region(A, ("shell", "dim") if model_mass is not None else ("shell", "complement", "dim"))
    _radius_pair(radius_range)

    def compute():
        L = check_positive("lip", lip)
        check_dimensions(A, target)
        if model_mass is None:
            value_a, r_a = _side_over_radius(A, L, target, radius_range)
            value_b, r_b = _side_over_radius(A.complement(), L, target, radius_range)
            return max(min(value_a, value_b), mpmath.mpf(0)), (r_a, r_b)

        rho = check_probability("model_mass", model_mass)
        nu = set_mass(target, A)
        low, high = _check_radius_range(radius_range, L, [rho, nu], _target_lengths(target))

        def bracket(r):
            return _theorem4_bracket(rho, nu, r / L, set_mass(target, A.shell(r)))

        def terms(r):
            rho_now = check_probability("model_mass", model_mass)
            return _theorem4_terms(rho_now, set_mass(target, A), r / L, set_mass(target, A.shell(r)))

        value, r = _maximize_over_radius(bracket, low, high, terms)
        return max(value, mpmath.mpf(0)), r

    return _result(compute, dps, A)


def maximize_kl_over_radius(A, lip, *, target, model_mass, radius_range=None, dps=None):
    r"""Corrected Theorem 7 for one set ``A``, maximised over the radius ``r``.

    :math:`\sup_r \mathrm{kl}(\beta(\rho(A), r) \| \nu(A_r \setminus A))`
    over the radii where :math:`\beta \ge \nu(A_r \setminus A)`, 0 when there
    is none (see :func:`isobounds.bounds.kl_lower_bound` for the correction).

    Parameters
    ----------
    A : set from :mod:`isobounds.sets`
    lip : positive finite real number
    target : measure from :mod:`isobounds.measures`
    model_mass : real number in [0, 1]
        The model's mass :math:`\rho(A)`.
    radius_range : (low, high), optional
        As in :func:`maximize_tv_over_radius`.
    dps : int, optional

    Returns
    -------
    OptimizedBound

    References
    ----------
    Salmona et al., 2022, Theorem 7 (with the validity condition added).
    """

    check_target(target)
    check_region(A)
    _radius_pair(radius_range)

    def compute():
        L = check_positive("lip", lip)
        rho = check_probability("model_mass", model_mass)
        check_dimensions(A, target)
        low, high = _check_radius_range(radius_range, L, [rho], _target_lengths(target))
        beta = _ShellMass(rho)

        def bound(r):
            return _corrected_kl(beta(r / L), set_mass(target, A.shell(r)), True)

        def terms(r):
            rho_now = check_probability("model_mass", model_mass)
            return _corrected_kl_terms(_shell_mass(rho_now, r / L), set_mass(target, A.shell(r)), True)

        return _maximize_over_radius(bound, low, high, terms)

    return _result(compute, dps, A)


def _result(compute, dps, region):
    value, radius = evaluate(compute, dps)
    return OptimizedBound(value, radius, region)


# ---------------------------------------------------------------------------
# Gaussian mixtures: bisecting and general half-spaces.
# ---------------------------------------------------------------------------

def _ray_brackets(mixture, t, L):
    """Both sides of model-free Theorem 4 for the ray ``(-inf, t]``, as functions of their radius.

    Returns ``(side_a, side_b, masses)``; the masses of the ray and of its
    complement are taken at the current precision, so the functions must be
    used at that precision.
    """
    lower, upper = mixture.cdf(t), mixture.sf(t)
    beta_a, beta_b = _ShellMass(lower), _ShellMass(upper)

    def side_a(r):
        return beta_a(r / L) - mixture.mass(t, t + r)

    def side_b(r):
        return beta_b(r / L) - mixture.mass(t - r, t)

    return side_a, side_b, [lower, upper]


def _ray_sides(mixture, t, L, radius_range):
    """Model-free Theorem 4 for the ray ``(-inf, t]`` of a univariate mixture: ``(value, r_A, r_B)``."""
    side_a, side_b, masses = _ray_brackets(mixture, t, L)
    low, high = _check_radius_range(radius_range, L, masses, _mixture_lengths(mixture))
    value_a, r_a = _maximize_over_radius(side_a, low, high)
    value_b, r_b = _maximize_over_radius(side_b, low, high)
    return min(value_a, value_b), r_a, r_b


def _ray_value(mixture, t, L, r_a, r_b):
    """Model-free Theorem 4 for the ray ``(-inf, t]`` at the radii ``r_a``, ``r_b``, at the current precision."""
    side_a, side_b, _ = _ray_brackets(mixture, t, L)
    return min(side_a(r_a), side_b(r_b))


def maximize_tv_two_gaussians(m1, m2, sigma, lip, *, dps=None):
    r"""Corollary 6 with its radius optimised: Theorem 4 on the bisecting half-space, best ``r``.

    For :math:`\nu = \tfrac12 [N(m_1, s^2 I) + N(m_2, s^2 I)]` and the
    half-space ``H`` bisecting the means (:math:`\nu(H) = 1/2`), the bound is

    .. math::

        \sup_{r > 0} \big[\Phi(r / L) - \tfrac12
        - \tfrac12 (\Phi((D/2 + r)/s) - \Phi((D/2 - r)/s))\big],

    which equals Corollary 6 at :math:`r = D/(4s)` and is therefore at least
    as large.

    Parameters
    ----------
    m1, m2 : real numbers or equal-length sequences of real numbers
    sigma : positive finite real number
    lip : positive finite real number
    dps : int, optional

    Returns
    -------
    OptimizedBound
        ``radius`` is the optimal ``r`` (the same for ``H`` and its
        complement, by symmetry); ``region`` is None.

    References
    ----------
    Salmona et al., 2022, Corollary 6 and Theorem 4.
    """

    def compute():
        D = separation(m1, m2)
        s = check_positive("sigma", sigma)
        L = check_positive("lip", lip)
        half = mpmath.mpf(1) / 2
        low, high = _default_radius_range(L, [half], (s, D + 40 * s))
        beta = _ShellMass(half)

        def bracket(r):
            shell = (_gaussian_mass((D / 2 - r) / s, (D / 2 + r) / s)) / 2
            return beta(r / L) - shell

        def terms(r):
            D_now, s_now, L_now = separation(m1, m2), check_positive("sigma", sigma), check_positive("lip", lip)
            shell = (_gaussian_mass((D_now / 2 - r) / s_now, (D_now / 2 + r) / s_now)) / 2
            beta_now = _shell_mass(mpmath.mpf(1) / 2, r / L_now)
            return beta_now - shell, max(beta_now, shell)

        value, r = _maximize_over_radius(bracket, low, high, terms)
        return max(value, mpmath.mpf(0)), r

    return _result(compute, dps, None)


def _mean_directions(target):
    """Unit directions of the differences of the mixture's means (one per distinct pair)."""
    rows = np.asarray(target.means, dtype=object)
    count = len(np.ravel(np.asarray(target.weights, dtype=object)))
    rows = rows.reshape(count, -1)
    directions, seen = [], set()
    for i, j in itertools.combinations(range(count), 2):
        difference = [mpmath.mpf(b) - mpmath.mpf(a) for a, b in zip(rows[i], rows[j])]
        if all(d == 0 for d in difference):
            continue
        # Opposite directions give the same pairs (half-space, complement).
        sign = 1 if next(d for d in difference if d != 0) > 0 else -1
        norm = mpmath.sqrt(mpmath.fsum(d * d for d in difference))
        key = tuple(round(float(sign * d / norm), 12) for d in difference)
        if key not in seen:
            seen.add(key)
            directions.append([sign * d for d in difference])
    return directions


def maximize_tv_over_half_spaces(lip, *, target, radius_range=None, dps=None):
    r"""Model-free Theorem 4 for a Gaussian mixture, maximised over half-spaces and radii.

    The half-spaces are :math:`\{x : \langle u, x \rangle \le t\}` with
    ``u`` along the difference of two of the mixture's means (every pair is
    tried). Projected on ``u`` an isotropic Gaussian mixture is a univariate
    mixture, so each half-space and its shells have exact masses. For each
    direction the offsets ``t`` of a grid spanning the projected means are
    scored in float64; in the directions scoring within 20 % of the best one
    the best offset is refined. The candidates include the midpoints of
    consecutive means, the centre ``(min + max) / 2`` of the means and the
    median, where the bound is largest for a symmetric mixture (a kink of
    the minimum of the two sides, which a smooth search locates only
    roughly). The candidates scoring within 1 % of the best are compared at
    20 digits with both radii optimised, and the winner is evaluated at the
    working precision.

    NOTE: a direction whose coarse float64 score is more than 20 % below the
    best is not refined, and when no float64 score is positive (underflow)
    every direction's symmetric candidates are scored at 20 digits, which is
    slow for many components.

    Parameters
    ----------
    lip : positive finite real number
        Lipschitz constant of the generator.
    target : Gaussian mixture
        Any object with ``weights``, ``means`` (one row per component) and
        ``sigmas``, such as :class:`isobounds.measures.GaussianMixture`, in
        any dimension. In one dimension the half-spaces are the rays
        :math:`(-\infty, t]`.
    radius_range : (low, high), optional
        Search interval for the radii.
    dps : int, optional

    Returns
    -------
    OptimizedBound
        ``region`` is the maximising :class:`isobounds.sets.HalfSpace`,
        ``radius`` the pair ``(r_A, r_B)``.

    References
    ----------
    Salmona et al., 2022, Theorem 4.
    """
    check_gaussian_mixture(target)

    _radius_pair(radius_range)

    def compute():
        L = check_positive("lip", lip)
        directions = _mean_directions(target)
        if not directions:
            raise ValueError("target must have at least two distinct means to define a half-space direction")
        mixtures = [mixture_from_target(target, direction) for direction in directions]
        grids = [_offset_grid(mixture, L) for mixture in mixtures]
        # Only the directions whose grid score is near the best are refined.
        promising = _shortlist([(values.max(), index) for index, (_, values) in enumerate(grids)], _DIRECTION_TOLERANCE)
        rays = []
        for _, index in promising:
            mixture, (grid, values) = mixtures[index], grids[index]
            rays += [(score, t, mixture, directions[index]) for t, score in _ray_candidates(mixture, L, grid, values)]

        with workdps(min(mpmath.mp.dps, _SEARCH_DPS)):
            scored = [(*_ray_sides(mixture, t, L, radius_range), t, mixture, d) for _, t, mixture, d in _shortlist(rays)]
        _, r_a, r_b, t, mixture, direction = max(scored, key=lambda result: result[0])

        value = _ray_value(mixture, t, L, r_a, r_b)
        norm = mpmath.sqrt(mpmath.fsum(d * d for d in direction))
        return max(value, mpmath.mpf(0)), (r_a, r_b), [d / norm for d in direction], t

    value, radii, normal, t = evaluate(compute, dps)
    return OptimizedBound(value, radii, HalfSpace(tuple(normal), t))


def _float_radius_grid(L, mixture):
    """Log-spaced float64 radii covering the range of :func:`_default_radius_range`."""
    scale, extent = _mixture_lengths(mixture)
    low = min(L, scale) * mpmath.mpf("1e-6")
    high = max(min(L * 50, 100 * extent), 100 * scale)
    return np.geomspace(float(low), float(high), _FLOAT_RADIUS_POINTS)


def _float_interval_mass(weights, means, sigmas, a, b):
    """Mixture mass of ``[a, b]`` in float64 for broadcast arrays of endpoints (last axis: components)."""
    lower = (a[..., None] - means) / sigmas
    upper = (b[..., None] - means) / sigmas
    return (weights * vectorized.gaussian_mass(lower, upper)).sum(axis=-1)


def _float_side(mass, shell_mass, radii, L):
    """max over the radius grid of beta(mass, r / L) - shell mass, in float64 (rows: sets)."""
    # NOTE: for lip above about 1e308 the shifts r / L underflow to 0 in float64,
    # so beta is 0 in the coarse search and its choice of set is arbitrary.
    shifts = radii * float(1 / L)
    beta = vectorized.shell_mass_lower_bound(mass[:, None], shifts[None, :], 1.0)
    return (beta - shell_mass).max(axis=1)


def _float_ray_objective(mixture, L, offsets):
    """Model-free Theorem 4 of the rays ``(-inf, t]``, maximised over a radius grid, in float64."""
    weights, means, sigmas = mixture.float_parameters()
    radii = _float_radius_grid(L, mixture)
    t = np.asarray(offsets, dtype=float)[:, None]
    r = radii[None, :]
    lower = (weights * vectorized.Phi((t - means) / sigmas)).sum(axis=-1)
    upper = (weights * vectorized.Phi((means - t) / sigmas)).sum(axis=-1)
    side_a = _float_side(lower, _float_interval_mass(weights, means, sigmas, t + 0 * r, t + r), radii, L)
    side_b = _float_side(upper, _float_interval_mass(weights, means, sigmas, t - r, t + 0 * r), radii, L)
    return np.minimum(side_a, side_b)


def _symmetric_offsets(mixture):
    """Offsets that are optimal for symmetric mixtures: midpoints of consecutive means, the centre and the median.

    For a mixture symmetric about ``c`` the two sides of the ray ``(-inf, c]``
    are equal, and moving the offset raises one side and lowers the other,
    so the minimum of the two is largest at ``c``, a kink that a smooth
    one-dimensional search locates only roughly.
    """
    weights, means, sigmas = mixture.float_parameters()
    offsets = [float(t) for t in _midpoints(mixture)]
    offsets.append(0.5 * (means.min() + means.max()))

    def cdf_minus_half(t):
        return float((weights * vectorized.Phi((t - means) / sigmas)).sum()) - 0.5

    spread = 40.0 * sigmas.max()
    low, high = means.min() - spread, means.max() + spread
    if cdf_minus_half(low) < 0 < cdf_minus_half(high):
        offsets.append(scipy.optimize.brentq(cdf_minus_half, low, high, xtol=1e-14 * spread, rtol=4 * np.finfo(float).eps))
    return offsets


def _offset_grid(mixture, L):
    """Offsets spanning the means (with those of :func:`_symmetric_offsets`) and their float64 scores."""
    means = sorted(float(m) for m in mixture.means)
    scale = float(max(mixture.sigmas))
    grid = np.linspace(means[0] - 3.0 * scale, means[-1] + 3.0 * scale, _OFFSET_GRID_POINTS)
    grid = np.unique(np.concatenate((grid, _symmetric_offsets(mixture))))
    return grid, _float_ray_objective(mixture, L, grid)


def _ray_candidates(mixture, L, grid, values):
    """Candidate offsets ``t`` of the ray ``(-inf, t]`` with their float64 scores.

    The candidates are the best point of the offset grid, that point
    refined by a bounded scalar search (to ``1e-10`` of the largest standard
    deviation), and the offsets of :func:`_symmetric_offsets`. The score is
    model-free Theorem 4 maximised over a float64 radius grid.
    """
    scale = float(max(mixture.sigmas))
    symmetric = _symmetric_offsets(mixture)
    best = int(np.argmax(values))
    left, right = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    found = scipy.optimize.minimize_scalar(
        lambda x: -float(_float_ray_objective(mixture, L, [x])[0]),
        bounds=(left, right),
        method="bounded",
        options={"xatol": 1e-10 * scale},
    )
    offsets = np.unique(np.concatenate(([float(found.x), grid[best]], symmetric)))
    scores = _float_ray_objective(mixture, L, offsets)
    return [(mpmath.mpf(float(t)), float(score)) for t, score in zip(offsets, scores)]


def _shortlist(candidates, tolerance=_FLOAT_SCORE_TOLERANCE):
    """Candidates ``(score, ...)`` worth scoring at higher precision.

    Those within ``tolerance`` (relative) of the best float64 score. When no float64 score is positive (underflow for a huge ``lip`` or
    far modes) the scores cannot rank the candidates, and all are kept.
    """
    best = max(candidate[0] for candidate in candidates)
    if not best > 0:
        return candidates
    return [candidate for candidate in candidates if candidate[0] >= best * (1 - tolerance)]


def _midpoints(mixture):
    means = sorted(mixture.means)
    return [(a + b) / 2 for a, b in zip(means, means[1:]) if a != b]


# ---------------------------------------------------------------------------
# One dimension: intervals.
# ---------------------------------------------------------------------------

def _interval_brackets(mixture, a, b, L):
    """Both sides of model-free Theorem 4 for ``A = [a, b]``, as functions of their radius, and the two masses."""
    inside = mixture.mass(a, b)
    outside = mixture.cdf(a) + mixture.sf(b)
    beta_a, beta_b = _ShellMass(inside), _ShellMass(outside)

    def side_a(r):
        return beta_a(r / L) - mixture.mass(a - r, a) - mixture.mass(b, b + r)

    def side_b(r):
        half_width = (b - a) / 2
        if r >= half_width:
            return beta_b(r / L) - inside
        return beta_b(r / L) - mixture.mass(a, a + r) - mixture.mass(b - r, b)

    return side_a, side_b, [inside, outside]


def _interval_sides(mixture, a, b, L, radius_range):
    """Model-free Theorem 4 for ``A = [a, b]`` of a univariate mixture: ``(value, r_A, r_B)``."""
    side_a, side_b, masses = _interval_brackets(mixture, a, b, L)
    low, high = _check_radius_range(radius_range, L, masses, _mixture_lengths(mixture))
    value_a, r_a = _maximize_over_radius(side_a, low, high)
    value_b, r_b = _maximize_over_radius(side_b, low, high)
    return min(value_a, value_b), r_a, r_b


def _interval_value(mixture, a, b, L, r_a, r_b):
    """Model-free Theorem 4 for ``[a, b]`` at the radii ``r_a``, ``r_b``, at the current precision."""
    side_a, side_b, _ = _interval_brackets(mixture, a, b, L)
    return min(side_a(r_a), side_b(r_b))


def _float_interval_objective(mixture, L, a, b):
    """Model-free Theorem 4 of the intervals ``[a, b]`` (1-D arrays), maximised over a radius grid, in float64."""
    weights, means, sigmas = mixture.float_parameters()
    radii = _float_radius_grid(L, mixture)
    a, b = np.asarray(a, dtype=float)[:, None], np.asarray(b, dtype=float)[:, None]
    r = radii[None, :]
    zero = 0 * r
    inside = _float_interval_mass(weights, means, sigmas, a, b)[:, 0]
    outside = np.clip(1.0 - inside, 0.0, 1.0)
    shell_a = _float_interval_mass(weights, means, sigmas, a - r, a + zero) + _float_interval_mass(
        weights, means, sigmas, b + zero, b + r
    )
    reach = np.minimum(r, (b - a) / 2)
    shell_b = _float_interval_mass(weights, means, sigmas, a + zero, a + reach) + _float_interval_mass(
        weights, means, sigmas, b - reach, b + zero
    )
    return np.minimum(_float_side(inside, shell_a, radii, L), _float_side(outside, shell_b, radii, L))


def _best_interval_candidates(mixture, L, grid_points):
    """Candidate endpoints ``(a, b)`` of the best interval, located in float64: grid of pairs, then Nelder-Mead."""
    means = sorted(float(m) for m in mixture.means)
    spread = 3.0 * float(max(mixture.sigmas))
    grid = np.linspace(means[0] - spread, means[-1] + spread, grid_points)
    a, b = np.array(list(itertools.combinations(grid, 2))).T
    values = _float_interval_objective(mixture, L, a, b)
    best = int(np.argmax(values))

    def negative(x):
        if x[0] >= x[1]:
            return 1.0
        return -float(_float_interval_objective(mixture, L, [x[0]], [x[1]])[0])

    found = scipy.optimize.minimize(negative, [a[best], b[best]], method="Nelder-Mead", options={"xatol": 1e-8})
    if -found.fun >= values[best]:
        candidates = [(mpmath.mpf(float(found.x[0])), mpmath.mpf(float(found.x[1])))]
    else:
        candidates = [(mpmath.mpf(float(a[best])), mpmath.mpf(float(b[best])))]
    if values[best] <= _FLOAT_BRACKET_NOISE:
        # No float64 bound is clearly positive (underflow for huge lip or far modes, or
        # rounding noise), so intervals from far outside the means to each midpoint are
        # tried at full precision.
        far = 60 * max(mixture.sigmas)
        low, high = min(mixture.means) - far, max(mixture.means) + far
        for t in _midpoints(mixture):
            candidates += [(low, t), (t, high)]
    return candidates


def maximize_tv_over_intervals(lip, *, target, grid_points=41, radius_range=None, dps=None):
    r"""Model-free Theorem 4 for a univariate Gaussian mixture, maximised over intervals ``[a, b]``.

    The endpoints are located in float64. Every pair of points of a grid
    spanning the means (plus three of the largest standard deviations on
    each side) is scored with both radii (for ``[a, b]`` and for its
    complement) maximised over a log-spaced grid. Nelder-Mead then refines
    the best pair. The radii of that interval are then optimised at the
    working precision. Rays are covered by :func:`maximize_tv_over_half_spaces`.

    Parameters
    ----------
    lip : positive finite real number
    target : univariate Gaussian mixture (``weights``, ``means``, ``sigmas``)
    grid_points : int, default 41
        Endpoint grid size; the cost grows like its square.
    radius_range : (low, high), optional
    dps : int, optional

    Returns
    -------
    OptimizedBound
        ``region`` is the maximising :class:`isobounds.sets.Interval`,
        ``radius`` the pair ``(r_A, r_B)``.

    References
    ----------
    Salmona et al., 2022, Theorem 4.
    """
    check_gaussian_mixture(target)
    _radius_pair(radius_range)
    if isinstance(grid_points, (bool, np.bool_)) or not isinstance(grid_points, numbers.Integral) or grid_points < 3:
        raise ValueError(f"grid_points must be an integer >= 3, got grid_points={grid_points!r}")

    def compute():
        L = check_positive("lip", lip)
        mixture = mixture_from_target(target)
        candidates = _best_interval_candidates(mixture, L, grid_points)
        with workdps(min(mpmath.mp.dps, _SEARCH_DPS)):
            results = [(*_interval_sides(mixture, a, b, L, radius_range), a, b) for a, b in candidates]
        _, r_a, r_b, a, b = max(results, key=lambda result: result[0])
        value = _interval_value(mixture, a, b, L, r_a, r_b)
        return max(value, mpmath.mpf(0)), (r_a, r_b), a, b

    value, radii, a, b = evaluate(compute, dps)
    return OptimizedBound(value, radii, Interval(a, b))
