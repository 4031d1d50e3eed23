r"""Theorem 4 maximised over sets: half-spaces and intervals for Gaussian-mixture targets.

:func:`maximize_tv_over_half_spaces` and :func:`maximize_tv_over_intervals`
score many candidate sets in float64 over a grid of radii, compare the best
few at 20 digits and evaluate the winner at the working precision with the
radius search of :mod:`.optimize`. The returned value is the bound at the
returned set and radius, so it is a valid bound even where the search
misses the best set.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022, Theorem 4.
"""

import itertools
import numbers

import mpmath
import numpy as np
import scipy.optimize
import scipy.special as sc

from .._precision import to_mpf, workdps
from .._validation import check_positive
from ..sets import HalfSpace, Interval
from ._common import evaluate, settle
from ._mixture import centered_mixture, check_gaussian_mixture, mixture_from_target, shift_back
from .isoperimetry import _ShellMass
from .optimize import (
    _SEARCH_DPS,
    OptimizedBound,
    _check_radius_range,
    _final_radius,
    _maximize_over_radius,
    _mixture_lengths,
    _polished_ray_radii,
    _radius_pair,
    _ray_sides,
)
from .tv import _model_free_terms

__all__ = ["maximize_tv_over_half_spaces", "maximize_tv_over_intervals"]

# A float64 bracket below this is rounding noise of its O(1) terms, not a positive bound.
_FLOAT_BRACKET_NOISE = 1e-12

# When r / L stays below this over the radius grid, beta(p, r / L) <= r / (L sqrt(2 pi))
# is below about 4e-11, so the float64 scores of sets are rounding noise although the
# bound can be positive. The searches then compare their candidates at 20 digits.
_UNDERFLOW_SHIFT = 1e-10

# Float64 scores of sets: log-spaced radii of refined scores, every
# _COARSE_RADIUS_STRIDE-th of them for coarse scores (65 radii), parabolic steps
# refining each radius, and the largest array (in elements) built at once.
_FLOAT_RADIUS_POINTS = 385
_COARSE_RADIUS_STRIDE = 6
_PARABOLIC_STEPS = 6
_FLOAT_CHUNK_ELEMENTS = 1 << 20

# Sets whose refined float64 score is within this relative distance of the best
# are compared at 20 digits, at most _MAX_PRECISE_CANDIDATES of them.
_FINE_SCORE_TOLERANCE = 1e-6
# A bracket within this many digits of the rounding of its terms ranks as unresolved (see _rank).
_RANK_DIGITS = 5
_MAX_PRECISE_CANDIDATES = 4

# Directions whose coarse score is within this relative distance of the best
# direction's get their symmetric offsets scored.
_DIRECTION_TOLERANCE = 0.2

# Directions tried for half-spaces: offsets per direction, angles over a half-turn
# in a plane, and in a span of 3 or more dimensions random directions (per
# dimension, at most, and the seed of the generator).
_COARSE_OFFSET_POINTS = 25
_ANGLE_GRID_POINTS = 60
_RANDOM_DIRECTIONS_PER_DIM = 32
_MAX_RANDOM_DIRECTIONS = 256
_DIRECTION_SEED = 20220527

# Directions refined by Nelder-Mead when their score is within _DIRECTION_TOLERANCE
# of the best: at most 2 in a plane, and 4 in a span of 3 or more dimensions, whose
# sparser random directions rank the basins less reliably. Then the most
# evaluations of Nelder-Mead per start.
_REFINED_DIRECTIONS = 2
_REFINED_DIRECTIONS_ABOVE_PLANE = 4

# Directions whose coarse score is within this relative distance of the best get
# their offset refined, by this many steps of a shrinking stencil.
_OFFSET_REFINE_TOLERANCE = 0.5
_OFFSET_REFINE_STEPS = 24

# Best coarse directions scored again with refined radii to pick the starts.
_RESCORED_DIRECTIONS = 24
_NELDER_MEAD_EVALUATIONS = 300
# In a plane, when Nelder-Mead stops at its evaluation limit, _refine_angle refines the angle
# by a bounded Brent search to this tolerance in radians, with at most this many iterations.
_ANGLE_TOLERANCE = 1e-6
_ANGLE_ITERATIONS = 30
# In 3 or more dimensions _refine_direction moves the direction by Nelder-Mead on the sphere,
# to _ANGLE_TOLERANCE, with at most this many evaluations per dimension of the sphere.
_DIRECTION_EVALUATIONS = 60
# _crossing_offset locates a crossing of the two sides to this tolerance relative to its search reach.
_CROSSING_TOLERANCE = 1e-14
# Illinois false-position steps locating each crossing of the two sides on the coarse offset grid.
_CROSSING_SECANT_STEPS = 6

# Refinement starts closer than this angle (radians, 3 steps of the angle grid)
# lie in one basin, and only the better one is refined.
_DISTINCT_ANGLE = 3 * np.pi / _ANGLE_GRID_POINTS

# _zoom_search: largest stencil, most steps, and final spacing relative to the first.
_MAX_STENCIL_POINTS = 729
_ZOOM_STEPS = 80
_ZOOM_TOLERANCE = 1e-7

# Enough brentq iterations to bisect from the largest float64 interval down to
# the smallest subnormal spacing (about 2100 halvings).
_MEDIAN_MAX_ITERATIONS = 2200

# Two half-spaces are the same when 1 - |cos| of their normals is below
# _SAME_DIRECTION and their offsets differ by less than _SAME_OFFSET standard deviations.
_SAME_DIRECTION = 1e-10
_SAME_OFFSET = 1e-5

# Float64 radii start no lower than _FLOAT_SMALLEST_RADIUS, and 1 / lip is capped at
# _MAX_INVERSE_LIP, so that a lip below the float64 range keeps the scores finite.
_FLOAT_SMALLEST_RADIUS = 1e-290
_MAX_INVERSE_LIP = 1e300

# Largest grid_points of maximize_tv_over_intervals, whose pairs of endpoints are all scored.
_MAX_INTERVAL_GRID_POINTS = 2001

# Tail endpoints on each side of the core grid of the interval search.
_TAIL_POINTS = 8


# Float64 scores overflow to inf or nan for modes more than about 1e154
# standard deviations apart. They only choose the candidate sets, which are
# then scored and ranked in mpmath.
# NOTE: where they overflow, that choice can miss the best set.
_FLOAT64_OVERFLOW_IGNORED = {"over": "ignore", "invalid": "ignore", "divide": "ignore"}


def maximize_tv_over_half_spaces(lip, *, target, radius_range=None, dps=None):
    r"""Model-free Theorem 4 for a Gaussian mixture, searched over half-spaces and radii.

    The half-spaces are :math:`\{x : \langle u, x \rangle \le t\}`.
    Projected on ``u`` an isotropic Gaussian mixture is a univariate
    mixture, so each half-space and its shells have exact masses. A
    direction matters only through the projected means, which are those of
    its part in the span ``S`` of the differences of the means. The
    directions tried are:

    - in one dimension, ``u = 1``;
    - when all means are equal, the first axis, because every ``u`` gives
      the same projection;
    - in two dimensions, and when ``S`` is a plane, 60 directions evenly
      spread over a half-turn of that plane (a half-space and its
      complement give the same bound);
    - when ``S`` has 3 or more dimensions, 32 random unit vectors of ``S``
      per dimension (at most 256, from a fixed seed);
    - in 3 or more dimensions, one direction orthogonal to ``S`` when there
      is one;
    - always the difference of every pair of means.

    Each direction is scored in float64 with 25 offsets ``t`` spanning the
    projected means plus three of the largest standard deviations on each
    side, the midpoints of consecutive projected means and their centre, and
    with 65 log-spaced radii. The 24 best are scored again at their best
    offset with 385 radii, each refined by parabolic steps. Nelder-Mead
    then refines the direction and the offset together (only the offset
    when the direction is fixed), with those refined scores. In a plane,
    when Nelder-Mead stops at its evaluation limit (it can stall on the
    ridge where the two sides are equal), a bounded search over the angle,
    each angle with its best offset, follows that ridge. When ``S`` has 3
    or more dimensions, Nelder-Mead on the unit sphere of ``S``, each
    direction with the offset where the two sides cross, follows it from
    the best Nelder-Mead result. Where the two sides cross next to the best
    offset of a fixed direction, Brent's method locates that crossing.
    Nelder-Mead starts from the best direction and from the best other
    local maximum within 20 % of it, or the three best others when ``S``
    has 3 or more dimensions.
    Before the local maxima are taken, every direction within 50 % of the
    best moves its offset by a shrinking stencil from its best grid offset,
    so that a narrow peak between two grid offsets is not lost. The refined
    half-spaces and the differences of means scoring within 20 % of the
    best are scored again, together with their offsets at the midpoints of
    consecutive projected means, the centre ``(min + max) / 2`` and the
    median. There the bound is largest for a symmetric mixture, at a kink of
    the minimum of the two sides, which a smooth search locates only
    roughly. The half-spaces whose float64 score is within ``1e-6`` of the
    best (at most 4) are compared at 20 digits with both radii optimised,
    and the winner is evaluated at the working precision. There a value
    within the rounding of its terms ranks below every resolved positive
    one, as in :func:`maximize_tv_over_intervals`.

    The value is the bound at the returned half-space and radii, so it is
    always a valid lower bound on the total variation distance. It is also
    a lower bound on the maximum over half-spaces, equal to it when the
    search finds the best half-space.

    NOTE: the search can miss the best half-space when its basin lies
    between the directions tried and neither refinement starts there. In
    three or more dimensions the only direction tilted out of ``S`` is the
    orthogonal one. A tilted direction scales the projected means by the
    cosine of its angle to ``S``, which could give a higher bound, but no
    case of it is known. When ``r / lip``
    stays below ``1e-10`` over the radius range (a huge ``lip``), float64
    cannot rank the half-spaces, and every difference of means is tried
    with its symmetric offsets at 20 digits, which is slow for many
    components. The half-space is located in float64, so the value can fall
    short of the maximum over half-spaces (by at most 6e-13 relative on
    29 random mixtures of 2 to 5 components in 3 to 6 dimensions, against a
    brute-force search), and by more where Nelder-Mead stops at a kink of
    the score away from the ridge. In one dimension, where half-spaces are rays,
    :func:`maximize_tv_over_intervals` compares these rays with intervals.

    Parameters
    ----------
    lip : positive finite real number
        Lipschitz constant of the generator.
    target : Gaussian mixture
        Any object with ``weights``, ``means`` (one row per component) and
        ``sigmas``, such as :class:`isobounds.measures.GaussianMixture`, in
        any dimension, with one or more components. In one dimension the
        half-spaces are the rays :math:`(-\infty, t]`.
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
        centered, center = centered_mixture(target)
        results = []
        with workdps(min(mpmath.mp.dps, _SEARCH_DPS)), np.errstate(**_FLOAT64_OVERFLOW_IGNORED):
            for direction, t in _half_space_candidates(centered, L):
                mixture = mixture_from_target(centered, direction)
                results.append((*_ray_sides(mixture, t, L, radius_range), t, direction))
            _, r_a, r_b, t, direction = max(results, key=lambda result: _rank(
                result[0], HalfSpace(tuple(result[4]), result[3]), result[1:3], L, centered))

        mixture = mixture_from_target(centered, direction)
        r_a, r_b = _polished_ray_radii(mixture, t, L, r_a, r_b, radius_range)
        norm = mpmath.sqrt(mpmath.fsum(d * d for d in direction))
        # The lists stay unrounded by evaluate, and the offset moves back exactly below.
        return (r_a, r_b), [d / norm for d in direction], t, center, centered

    radii, normal, t, center, centered = evaluate(compute, dps)
    # The bound does not change under translation, so it is evaluated on the centred target,
    # where the sets' ends are not rounded at the modes' offset.
    value = _settled_value(HalfSpace(tuple(normal), t), radii, lip, centered, dps)
    return OptimizedBound(value, radii, HalfSpace(tuple(normal), shift_back(t, normal, center)))


# ---------------------------------------------------------------------------
# Float64 scores of rays and intervals of univariate Gaussian mixtures.
# ---------------------------------------------------------------------------

def _mass_above(z, below, above, steps):
    """Return the Gaussian mass of ``[z, z + steps]`` in float64, from ``below = Phi(z)`` and ``above = Phi(-z)``, on the tail side."""
    end = z + steps
    return np.where(end <= 0, sc.ndtr(end) - below, above - sc.ndtr(-end))


def _mass_below(z, below, above, steps):
    """Return the Gaussian mass of ``[z - steps, z]`` in float64, on the tail side."""
    start = z - steps
    return np.where(start >= 0, sc.ndtr(-start) - above, below - sc.ndtr(start))


class _FloatSides:
    """Both sides of model-free Theorem 4 for many sets of a univariate mixture, in float64.

    ``brackets(radii)`` returns ``beta(mass_k, r / L) - shell_k(r)`` for the
    set (``k = 0``) and its complement (``k = 1``) on the first axis, one
    row per set on the second. ``radii`` has the same two leading axes, or
    one row for all sets. Subclasses call :meth:`set_masses` and define
    ``shells``, which maps radii in standard deviations (one per component
    on a last axis) to the component masses of both shells.
    """

    def __init__(self, weights, sigmas, L):
        self.weights, self.sigmas = weights, sigmas
        # NOTE: for lip above about 1e308 the shifts r / L underflow to 0 in float64,
        # so beta is 0 and the scores cannot rank the sets.
        # 1 / L is capped so that a lip below 1e-300 gives large finite shifts instead of inf.
        self.inverse_lip = float(min(1 / L, mpmath.mpf(_MAX_INVERSE_LIP)))

    def set_masses(self, inside, outside):
        """Store the masses of the set and of its complement, each computed on its tail side, and their quantiles."""
        inside, outside = np.clip(inside, 0.0, 1.0), np.clip(outside, 0.0, 1.0)
        self.masses = np.stack((inside, outside))
        self.complements = np.stack((outside, inside))
        # beta(p, c) = Phi(x + c) - Phi(x) with x = Phi_inv(p), taken from the smaller of p and 1 - p.
        with np.errstate(divide="ignore"):
            self.quantiles = np.where(self.masses <= self.complements, sc.ndtri(self.masses), -sc.ndtri(self.complements))

    def brackets(self, radii):
        shells = (self.weights * self.shells(radii[..., None] / self.sigmas)).sum(axis=-1)
        beta = _mass_above(self.quantiles, self.masses, self.complements, radii * self.inverse_lip)
        return beta - shells


class _FloatRays(_FloatSides):
    """The rays ``(-inf, t]``: ``means`` has one row of projected means per ray, ``offsets`` one ``t`` per ray."""

    def __init__(self, weights, sigmas, means, offsets, L):
        super().__init__(weights, sigmas, L)
        self.z = ((offsets[:, None] - means) / sigmas)[:, None, :]
        self.below, self.above = sc.ndtr(self.z), sc.ndtr(-self.z)
        self.set_masses((weights * self.below).sum(axis=-1), (weights * self.above).sum(axis=-1))

    def shells(self, steps):
        steps = np.broadcast_to(steps, (2,) + steps.shape[1:])
        return np.stack((
            _mass_above(self.z, self.below, self.above, steps[0]),
            _mass_below(self.z, self.below, self.above, steps[1]),
        ))


class _FloatIntervals(_FloatSides):
    """The intervals ``[a, b]`` of a univariate mixture (endpoints may be infinite, but not both)."""

    def __init__(self, weights, sigmas, means, a, b, L):
        super().__init__(weights, sigmas, L)
        self.za = ((a[:, None] - means) / sigmas)[:, None, :]
        self.zb = ((b[:, None] - means) / sigmas)[:, None, :]
        self.half_widths = ((b - a) / 2)[:, None, None] / sigmas
        self.below_a, self.above_a = sc.ndtr(self.za), sc.ndtr(-self.za)
        self.below_b, self.above_b = sc.ndtr(self.zb), sc.ndtr(-self.zb)
        inside = np.where(self.za >= 0, self.above_a - self.above_b, self.below_b - self.below_a)
        self.set_masses((weights * inside).sum(axis=-1), (weights * (self.below_a + self.above_b)).sum(axis=-1))

    def shells(self, steps):
        steps = np.broadcast_to(steps, (2,) + steps.shape[1:])
        outer = _mass_below(self.za, self.below_a, self.above_a, steps[0]) + _mass_above(self.zb, self.below_b, self.above_b, steps[0])
        reach = np.minimum(steps[1], self.half_widths)
        inner = _mass_above(self.za, self.below_a, self.above_a, reach) + _mass_below(self.zb, self.below_b, self.above_b, reach)
        return np.stack((outer, inner))


def _float_scores(sides, radii, refine=True):
    """Maximise both sides of model-free Theorem 4 over the radius for every set of ``sides`` (first axis: side).

    With ``refine`` both sides are evaluated on the log-spaced ``radii``,
    and each best radius is refined by :data:`_PARABOLIC_STEPS` parabolic
    steps in ``log r``. Each side is then the largest value evaluated, within
    about 1e-15 of the maximum over the range in tests on random mixtures,
    unless a peak narrower than the grid step is missed. Without it each
    side is :func:`_parabolic_peak` on every :data:`_COARSE_RADIUS_STRIDE`-th
    radius, good to about 1e-3, which is enough to rank sets.
    """
    if not refine:
        return _parabolic_peak(sides.brackets(radii[None, None, ::_COARSE_RADIUS_STRIDE]))
    values = sides.brackets(radii[None, None, :])
    log_radii = np.log(radii)
    best = values.max(axis=-1)
    log_r = log_radii[values.argmax(axis=-1)]
    step = np.full(log_r.shape, log_radii[1] - log_radii[0])
    for _ in range(_PARABOLIC_STEPS):
        trial = log_r[..., None] + step[..., None] * np.array([-1.0, 0.0, 1.0])
        values = sides.brackets(np.exp(trial))
        before, middle, after = values[..., 0], values[..., 1], values[..., 2]
        best = np.maximum(best, values.max(axis=-1))
        curvature = before - 2 * middle + after
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = step * (before - after) / (2 * curvature)
        bracketed = (curvature < 0) & (np.abs(shift) <= step)
        # Without a bracketed maximum the step moves towards the larger neighbour.
        shift = np.where(bracketed, shift, np.where(after > before, step, -step))
        log_r = np.clip(log_r + shift, log_radii[0], log_radii[-1])
        step = np.where(bracketed, step / 4, step)
    final = sides.brackets(np.exp(log_r)[..., None])[..., 0]
    return np.maximum(best, final)


def _parabolic_peak(values):
    """Estimate the maximum over the last axis of values on a uniform grid by the vertex of the parabola through its top three.

    On a grid of step ``h`` the error of the plain maximum is of order
    ``h^2`` at a smooth peak, and that of the vertex of order ``h^3``. At
    the ends of the grid the plain maximum is kept.
    """
    count = values.shape[-1]
    top = np.argmax(values, axis=-1)
    middle = np.clip(top, 1, count - 2)[..., None]
    before = np.take_along_axis(values, middle - 1, axis=-1)[..., 0]
    peak = np.take_along_axis(values, middle, axis=-1)[..., 0]
    after = np.take_along_axis(values, middle + 1, axis=-1)[..., 0]
    curvature = 2 * peak - before - after
    interior = (top == middle[..., 0]) & (curvature > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = peak + (before - after) ** 2 / (8 * curvature)
    return np.where(interior, vertex, values.max(axis=-1))


def _float_radius_grid(L, lengths, points=_FLOAT_RADIUS_POINTS):
    """Return log-spaced float64 radii covering the range of :func:`_default_radius_range`, for ``lengths = (scale, extent)``."""
    scale, extent = (mpmath.mpf(length) for length in lengths)
    low = min(L, scale) * mpmath.mpf("1e-6")
    high = max(min(L * 50, 100 * extent), 100 * scale)
    # Radii below the float64 range (a lip near 1e-308 or below) start at _FLOAT_SMALLEST_RADIUS,
    # where r / L is still beyond 1e10, so beta has reached its limit as it has at smaller radii.
    low = max(float(low), _FLOAT_SMALLEST_RADIUS)
    high = max(float(high), 1e6 * low)
    return np.geomspace(low, high, points)


def _chunks(count, size):
    """Split ``range(count)`` into slices of ``size`` elements (the last one shorter)."""
    return [slice(start, start + size) for start in range(0, count, size)]


def _score_rays(mixture, means, offsets, radii, L, refine=True, both=False):
    """Score in float64 the rays ``(-inf, t]``, given one row of projected ``means`` and one offset per ray.

    The score is the smaller side, or with ``both`` the two sides (first axis).
    """
    weights, sigmas = mixture
    size = max(1, _FLOAT_CHUNK_ELEMENTS // (radii.size * weights.size))
    scores = [
        _float_scores(_FloatRays(weights, sigmas, means[part], offsets[part], L), radii, refine)
        for part in _chunks(len(offsets), size)
    ]
    scores = np.concatenate(scores, axis=1) if scores else np.zeros((2, 0))
    return scores if both else scores.min(axis=0)


def _score_intervals(mixture, means, a, b, radii, L, refine=True):
    """Score in float64 the intervals ``[a, b]`` (arrays of endpoints) of the univariate mixture with these means."""
    weights, sigmas = mixture
    size = max(1, _FLOAT_CHUNK_ELEMENTS // (radii.size * weights.size))
    scores = [
        _float_scores(_FloatIntervals(weights, sigmas, means, a[part], b[part], L), radii, refine).min(axis=0)
        for part in _chunks(len(a), size)
    ]
    return np.concatenate(scores) if scores else np.zeros(0)


def _shifts_underflow(radii, L):
    """Tell whether beta is below about 4e-11 at every radius, so that float64 scores cannot rank the sets."""
    return radii.max() * float(1 / L) < _UNDERFLOW_SHIFT


def _shortlist(candidates, tolerance):
    """Select the candidates ``(score, ...)`` worth comparing at 20 digits.

    Those within ``tolerance`` (relative) of the best float64 score. When
    no float64 score is above :data:`_FLOAT_BRACKET_NOISE` (underflow for a
    huge ``lip`` or far modes, or rounding noise) the scores cannot rank the
    candidates, and all are kept.
    """
    best = max(candidate[0] for candidate in candidates)
    if not best > _FLOAT_BRACKET_NOISE:
        return candidates
    return [candidate for candidate in candidates if candidate[0] >= best * (1 - tolerance)]


# ---------------------------------------------------------------------------
# Half-spaces of Gaussian mixtures.
# ---------------------------------------------------------------------------

def _half_space_candidates(target, L):
    """List the half-spaces ``(direction, t)`` to compare at 20 digits, with directions as lists of mpf and offsets as mpf.

    See :func:`maximize_tv_over_half_spaces` for the search. The candidates
    are listed exact ones first (differences of means, symmetric offsets).
    Of near-identical half-spaces only the first is kept, so that a
    symmetric optimum is returned exactly.
    """
    weights, means, sigmas = _float_mixture(target)
    mixture = (weights, sigmas)
    dim = means.shape[1]
    radii = _float_radius_grid(L, _lengths_of(means, sigmas))
    exact = _mean_directions(target) if dim > 1 else [[mpmath.mpf(1)]]
    basis, orthogonal = _direction_space(means)
    if not exact:
        # All means are equal: every direction gives the same projected mixture.
        exact = [[mpmath.mpf(1)] + [mpmath.mpf(0)] * (dim - 1)]
    exact_units = _unit_rows(exact)

    trial = [exact_units]
    if dim > 1 and basis.shape[0] > 0:
        trial.append(_trial_directions(basis))
    if orthogonal is not None:
        trial.append(orthogonal[None, :])
    trial = np.concatenate(trial)
    coarse, coarse_offsets = _coarse_direction_scores(mixture, means, sigmas, trial, radii, L)

    best = coarse.max()
    if not best > _FLOAT_BRACKET_NOISE and _shifts_underflow(radii, L):
        # The float64 scores cannot rank the half-spaces: every difference of means is
        # tried with its symmetric offsets.
        return [
            (direction, mpmath.mpf(t))
            for direction, unit in zip(exact, exact_units)
            for t in _symmetric_offsets(weights, means @ unit, sigmas)
        ]

    found = []
    if best > _FLOAT_BRACKET_NOISE:
        projected = trial @ means.T
        coarse, coarse_offsets = _refine_offsets(mixture, projected, coarse, coarse_offsets,
                                                 _coarse_offset_spacing(projected, sigmas), radii, L)
        # The coarse scores can be off by about 1e-3 (more where a side has narrow
        # peaks in r), so the best of them are scored again with refined radii.
        allowed = _local_maxima_mask(coarse, len(exact), basis.shape[0] == 2)
        rescored = [i for i in np.argsort(coarse)[::-1] if allowed[i]][:_RESCORED_DIRECTIONS]
        starts = np.full(coarse.shape, -np.inf)
        starts[rescored] = _score_rays(mixture, trial[rescored] @ means.T, coarse_offsets[rescored], radii, L)
        count = _REFINED_DIRECTIONS if basis.shape[0] <= 2 else _REFINED_DIRECTIONS_ABOVE_PLANE
        for index in _distinct_best(starts, trial, count):
            if not starts[index] >= starts.max() * (1 - _DIRECTION_TOLERANCE):
                break
            found.append(_refine_half_space(mixture, means, sigmas, radii, L, basis, trial[index], coarse_offsets[index]))
        if basis.shape[0] > 2 and found:
            found = _refine_best_direction(mixture, means, sigmas, radii, L, basis, found)
        promising = [i for i in range(len(exact)) if coarse[i] >= best * (1 - _DIRECTION_TOLERANCE)]
    else:
        # The bound is at most about the rounding noise: only the best coarse direction goes on.
        top = int(np.argmax(coarse))
        promising = [top] if top < len(exact) else []
        found = [] if promising else [(trial[top], coarse_offsets[top])]

    # (direction as given, unit direction, offset), exact ones first.
    candidates = []
    for i in promising:
        projected = means @ exact_units[i]
        candidates += [(exact[i], exact_units[i], t) for t in _symmetric_offsets(weights, projected, sigmas)]
        candidates.append((exact[i], exact_units[i], coarse_offsets[i]))
    for unit, t in found:
        direction = [mpmath.mpf(float(x)) for x in unit]
        candidates += [(direction, unit, s) for s in _symmetric_offsets(weights, means @ unit, sigmas)]
        candidates.append((direction, unit, t))

    units = np.array([unit for _, unit, _ in candidates])
    offsets = np.array([t for _, _, t in candidates])
    scores = _score_rays(mixture, units @ means.T, offsets, radii, L)
    ranked = _shortlist([(float(score), i) for i, score in enumerate(scores)], _FINE_SCORE_TOLERANCE)
    # Exact directions come first and win ties with a near-duplicate, but a later near-duplicate
    # that scores higher is kept as well, so that the 20-digit comparison decides between them.
    kept = []
    for _, i in sorted(ranked, key=lambda item: item[1]):
        direction, unit, t = candidates[i]
        if not any(_same_half_space(unit, t, candidates[j][1], candidates[j][2], sigmas.max()) and scores[j] >= scores[i]
                   for j in kept):
            kept.append(i)
    kept = sorted(kept, key=lambda i: scores[i], reverse=True)[:_MAX_PRECISE_CANDIDATES]
    return [(candidates[i][0], mpmath.mpf(float(candidates[i][2]))) for i in kept]


def _same_half_space(unit, t, other_unit, other_t, scale):
    """Tell whether two half-spaces (or one and the complement of the other) nearly coincide."""
    cosine = float(np.dot(unit, other_unit))
    if abs(cosine) < 1 - _SAME_DIRECTION:
        return False
    return abs(t - np.sign(cosine) * other_t) <= _SAME_OFFSET * scale


def _float_mixture(target):
    """Return float64 ``(weights, means, sigmas)`` of a Gaussian mixture with means as rows, without components of weight 0."""
    weights = np.array([float(to_mpf(w, "target.weights")) for w in np.ravel(np.asarray(target.weights, dtype=object))])
    count = weights.size
    rows = np.asarray(target.means, dtype=object).reshape(count, -1)
    means = np.array([[float(to_mpf(v, "target.means")) for v in row] for row in rows])
    sigmas = np.array([float(to_mpf(v, "target.sigmas")) for v in np.ravel(np.asarray(target.sigmas, dtype=object))])
    sigmas = np.broadcast_to(sigmas, (count,))
    keep = weights > 0
    return weights[keep], means[keep], sigmas[keep]


def _lengths_of(means, sigmas):
    """Return ``(scale, extent)`` as :func:`_mixture_lengths` does, for float64 means (rows) and standard deviations."""
    spread = max(float(np.linalg.norm(u - v)) for u in means for v in means)
    return sigmas.min(), spread + 40 * sigmas.max()


def _unit_rows(directions):
    """Return float64 unit vectors (rows) along directions given as lists of mpf."""
    rows = np.array([[float(x) for x in direction] for direction in directions])
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _direction_space(means):
    """Return orthonormal rows spanning the directions searched, and a unit vector orthogonal to the differences of means.

    In two dimensions the rows span the plane, so the angles tried cover
    every direction. Otherwise they span the differences of the means. The
    orthogonal vector is None when the rows span the whole space.
    """
    dim = means.shape[1]
    _, singular, rows = np.linalg.svd(means - means[0])
    rank = int((singular > 1e-12 * singular.max(initial=0.0)).sum()) if singular.size else 0
    if dim == 2:
        return (np.eye(2) if rank else np.zeros((0, 2))), None
    if rank == 0 or rank == dim:
        return rows[:rank], None
    return rows[:rank], rows[rank]


def _trial_directions(basis):
    """Return the unit directions tried in the span of ``basis``: angles over a half-turn in a plane, random ones above."""
    size = basis.shape[0]
    if size == 1:
        return basis.copy()
    if size == 2:
        angles = np.linspace(0.0, np.pi, _ANGLE_GRID_POINTS, endpoint=False)
        return np.cos(angles)[:, None] * basis[0] + np.sin(angles)[:, None] * basis[1]
    count = min(_RANDOM_DIRECTIONS_PER_DIM * size, _MAX_RANDOM_DIRECTIONS)
    coordinates = np.random.default_rng(_DIRECTION_SEED).standard_normal((count, size))
    coordinates /= np.linalg.norm(coordinates, axis=1, keepdims=True)
    return coordinates @ basis


def _coarse_direction_scores(mixture, means, sigmas, directions, radii, L):
    """Score each direction coarsely at its best offset; return the scores and those offsets.

    The offsets are a grid of :data:`_COARSE_OFFSET_POINTS` spanning the
    projected means plus three of the largest standard deviations on each
    side, the midpoints of consecutive projected means and their centre.
    A positive bound can be confined to a narrow range of offsets near a
    midpoint. Every crossing of the two sides on the grid is located by
    :func:`_secant_crossings` and scored with refined radii, because the
    coarse scores can be 1e-3 off and rank the wrong basin. For weights
    0.16, 0.729 and 0.111, means 0.029, -0.04 and -0.326, standard
    deviations 0.565, 1.862 and 0.527 and lip 1.289, the crossing near the
    best grid offset gave 0.0426456 and another one gives 0.0429521.
    """
    projected = directions @ means.T
    low, high = _coarse_offset_range(projected, sigmas)
    grid = low[:, None] + (high - low)[:, None] * np.linspace(0.0, 1.0, _COARSE_OFFSET_POINTS)
    ordered = np.sort(projected, axis=1)
    midpoints = 0.5 * (ordered[:, 1:] + ordered[:, :-1])
    centre = 0.5 * (ordered[:, :1] + ordered[:, -1:])
    offsets = np.concatenate((grid, midpoints, centre), axis=1)
    count = offsets.shape[1]
    sides = _score_rays(mixture, np.repeat(projected, count, axis=0), offsets.ravel(), radii, L, refine=False, both=True)
    sides = sides.reshape(2, len(directions), count)
    scores = sides.min(axis=0)
    rows = np.arange(len(directions))
    best = np.argmax(scores, axis=1)
    best_scores, best_offsets = scores[rows, best], offsets[rows, best]

    # The best offset is often the kink where the two sides cross, between two grid
    # offsets. Linear interpolation of their difference locates every crossing on the
    # grid, and each is scored: the best crossing can lie in another basin than the best
    # grid offset, with a sharper and higher peak.
    order = np.argsort(offsets, axis=1)
    ordered = np.take_along_axis(offsets, order, axis=1)
    difference = np.take_along_axis(sides[0] - sides[1], order, axis=1)
    d0, d1 = difference[:, :-1], difference[:, 1:]
    t0, t1 = ordered[:, :-1], ordered[:, 1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        crossings = t0 + (t1 - t0) * d0 / (d0 - d1)
    row, column = np.nonzero((d0 * d1 < 0) & np.isfinite(crossings))
    if row.size:
        crossings = _secant_crossings(mixture, projected[row], t0[row, column], t1[row, column],
                                      d0[row, column], d1[row, column], radii, L)
        crossing_scores = _score_rays(mixture, projected[row], crossings, radii, L)
        for k in np.argsort(crossing_scores):
            if crossing_scores[k] > best_scores[row[k]]:
                best_scores[row[k]], best_offsets[row[k]] = crossing_scores[k], crossings[k]
    return best_scores, best_offsets


def _secant_crossings(mixture, projected, t0, t1, d0, d1, radii, L):
    """Locate the crossings of the two sides in the brackets ``[t0, t1]`` by Illinois false-position steps on coarse scores.

    ``d0`` and ``d1`` are the differences of the sides at the ends, of
    opposite signs. On a coarse grid the difference is far from linear, so
    one interpolation can land a few hundredths of a standard deviation off
    the crossing, where a sharp peak of the score is already much lower.
    """
    t0, t1, d0, d1 = (np.array(x, dtype=float) for x in (t0, t1, d0, d1))
    for _ in range(_CROSSING_SECANT_STEPS):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = t0 + (t1 - t0) * d0 / (d0 - d1)
        t = np.where(np.isfinite(t), t, 0.5 * (t0 + t1))
        sides = _score_rays(mixture, projected, t, radii, L, both=True)
        d = sides[0] - sides[1]
        same = d * d0 > 0
        # Illinois: halve the value kept at the end that stays, so that the bracket shrinks from both sides.
        d1 = np.where(same, 0.5 * d1, d)
        t1 = np.where(same, t1, t0)
        d1 = np.where(same, d1, d0)
        t0, d0 = t, d
    with np.errstate(divide="ignore", invalid="ignore"):
        t = t0 + (t1 - t0) * d0 / (d0 - d1)
    return np.where(np.isfinite(t), t, t0)


def _coarse_offset_range(projected, sigmas):
    """Return the ends of the offset grid of :func:`_coarse_direction_scores`, one per row of projected means."""
    spread = 3.0 * sigmas.max()
    return projected.min(axis=1) - spread, projected.max(axis=1) + spread


def _coarse_offset_spacing(projected, sigmas):
    """Return the step of the offset grid of :func:`_coarse_direction_scores` for each direction (rows of projected means)."""
    low, high = _coarse_offset_range(projected, sigmas)
    return (high - low) / (_COARSE_OFFSET_POINTS - 1)


def _refine_offsets(mixture, projected, scores, offsets, spacing, radii, L):
    """Refine the best offset of every promising direction at once, by a shrinking stencil on coarse scores.

    The coarse offsets are a grid, and a narrow peak of a direction's score
    between two grid offsets would leave the direction far below its best
    and, on the angle grid, below its neighbours, so that no refinement
    starts there. Directions scoring within :data:`_OFFSET_REFINE_TOLERANCE`
    of the best move their offset by a stencil of 5 points spanning one grid
    step, halved when no point improves or the best point is inside, for
    :data:`_OFFSET_REFINE_STEPS` steps. Returns the new scores and offsets.
    """
    scores, offsets = scores.copy(), offsets.copy()
    rows = np.flatnonzero(scores >= scores.max() * (1 - _OFFSET_REFINE_TOLERANCE))
    step = spacing[rows]
    stencil = np.linspace(-1.0, 1.0, 5)
    for _ in range(_OFFSET_REFINE_STEPS):
        trial = offsets[rows, None] + step[:, None] * stencil
        values = _score_rays(mixture, np.repeat(projected[rows], stencil.size, axis=0), trial.ravel(), radii, L,
                             refine=False).reshape(trial.shape)
        index = np.argmax(values, axis=1)
        value = values[np.arange(rows.size), index]
        moved = value > scores[rows]
        scores[rows] = np.where(moved, value, scores[rows])
        offsets[rows] = np.where(moved, trial[np.arange(rows.size), index], offsets[rows])
        at_edge = np.abs(stencil[index]) == 1
        step = np.where(moved & at_edge, step, step / 2)
    return scores, offsets


def _local_maxima_mask(scores, exact_count, angle_grid):
    """Mark the directions that may start a refinement: all except, on an angle grid, those below a neighbour.

    The first ``exact_count`` scores are those of the differences of means,
    and with ``angle_grid`` the next :data:`_ANGLE_GRID_POINTS` are the angle
    grid over a half-turn, whose ends are neighbours.
    """
    mask = np.ones(scores.shape, dtype=bool)
    if angle_grid:
        grid = scores[exact_count:exact_count + _ANGLE_GRID_POINTS]
        peaks = (grid >= np.roll(grid, 1)) & (grid >= np.roll(grid, -1))
        mask[exact_count:exact_count + _ANGLE_GRID_POINTS] = peaks
    return mask


def _distinct_best(scores, directions, count):
    """Return the indices of the ``count`` best-scoring directions, each more than :data:`_DISTINCT_ANGLE` from those taken before."""
    chosen = []
    threshold = np.cos(_DISTINCT_ANGLE)
    for i in np.argsort(scores)[::-1]:
        if all(abs(float(np.dot(directions[i], directions[j]))) < threshold for j in chosen):
            chosen.append(int(i))
        if len(chosen) == count:
            break
    return chosen


def _refine_half_space(mixture, means, sigmas, radii, L, basis, direction, offset):
    """Refine a coarse optimum by Nelder-Mead on the direction and the offset together; return ``(unit direction, offset)``.

    The direction is an angle in a plane, or coordinates in ``basis``
    (normalised in the objective) when the span has 3 or more dimensions.
    With one direction only the offset moves, by :func:`_zoom_search`. The
    scores are those of :func:`_score_rays` with refined radii. The optimum
    often lies on the ridge where the two sides are equal, which the
    simplex follows better than a search along fixed axes.
    """
    size = basis.shape[0]
    scale = float(sigmas.max())
    if size < 2:
        _, t = _best_offset(mixture, direction @ means.T, radii, L, offset, 0.25 * scale)
        return direction, t

    if size == 2:
        start = [float(np.arctan2(basis[1] @ direction, basis[0] @ direction))]

        def unit(x):
            return np.cos(x[0]) * basis[0] + np.sin(x[0]) * basis[1]

    else:
        start = list(basis @ direction)

        def unit(x):
            vector = x[:-1] @ basis
            return vector / np.linalg.norm(vector)

    def negative_score(x):
        if size > 2 and not np.linalg.norm(x[:-1]) > 0:
            return 1.0
        return -float(_score_rays(mixture, (unit(x) @ means.T)[None, :], np.array([x[-1]]), radii, L)[0])

    # The first simplex spans half a step of the angle grid and a tenth of the largest sigma.
    start = np.array(start + [offset])
    steps = [0.5 * np.pi / _ANGLE_GRID_POINTS] * (start.size - 1) + [0.1 * scale]
    simplex = np.array([start] + [start + np.eye(start.size)[k] * step for k, step in enumerate(steps)])
    options = {"initial_simplex": simplex, "xatol": 1e-7 * max(scale, 1.0), "fatol": 1e-13, "maxfev": _NELDER_MEAD_EVALUATIONS}
    found = scipy.optimize.minimize(negative_score, start, method="Nelder-Mead", options=options)
    negative_start = negative_score(start)
    x = found.x if found.fun <= negative_start else start
    # On 40 random planar mixtures of 2 to 4 components, the angle search gained at most 7e-14
    # after a converged simplex and up to 2.4e-6 after a stall. It doubled the time of the whole
    # call, so it runs only when Nelder-Mead stops at its evaluation limit.
    if size == 2 and not found.success:
        x = _refine_angle(mixture, means, radii, L, unit, x, -min(found.fun, negative_start), scale)
    return unit(x), float(x[-1])


def _refine_angle(mixture, means, radii, L, unit, x, score, scale):
    """Maximise over the angle the score at the best offset of each angle, near the Nelder-Mead result ``x = (angle, offset)``.

    The optimum often lies on the ridge where the two sides are equal.
    That ridge is a kink, along which Nelder-Mead creeps until it stops at
    its evaluation limit short of the maximum. It stopped 4.8e-7 short for
    weights 0.444, 0.171, 0.240 and 0.145, means (5.31, -1.62), (-4.73,
    1.55), (5.13, -0.72) and (5.46, 0), standard deviations 1.02, 1.35,
    1.99 and 1.91, and ``L = 1.506``. Here each angle takes its best
    offset, found by :func:`_zoom_search`, so the function of the angle
    has no kink, and a bounded Brent search maximises it within half a
    step of the angle grid. The result replaces ``x`` only when it scores
    above ``score``.
    """
    def best_offset(angle):
        return _best_offset(mixture, unit(np.array([angle, 0.0])) @ means.T, radii, L, x[-1], 0.05 * scale)

    half_step = 0.5 * np.pi / _ANGLE_GRID_POINTS
    found = scipy.optimize.minimize_scalar(lambda angle: -best_offset(angle)[0], bounds=(x[0] - half_step, x[0] + half_step),
                                           method="bounded", options={"xatol": _ANGLE_TOLERANCE, "maxiter": _ANGLE_ITERATIONS})
    value, offset = best_offset(found.x)
    return np.array([found.x, offset]) if value > score else x


def _refine_best_direction(mixture, means, sigmas, radii, L, basis, found):
    """Follow the ridge from the best Nelder-Mead result ``(unit direction, offset)`` of ``found``, which it replaces in the returned copy.

    In 3 or more dimensions Nelder-Mead on the direction and the offset
    together stops at its evaluation limit, often on the ridge where the two
    sides are equal. It stopped up to 7e-6 (relative) short of the maximum
    on 30 random mixtures. :func:`_refine_direction` then moves the direction
    along that ridge. It starts from the best result only, because it costs
    about as much as the Nelder-Mead runs of all starts together.
    """
    projected = np.array([unit @ means.T for unit, _ in found])
    offsets = np.array([t for _, t in found])
    scores = _score_rays(mixture, projected, offsets, radii, L)
    best = int(np.argmax(scores))
    unit, t = found[best]
    x = np.append(basis @ unit, t)
    x = _refine_direction(mixture, means, radii, L, basis, x, float(scores[best]), float(sigmas.max()))
    direction = x[:-1] @ basis
    found = list(found)
    found[best] = (direction / np.linalg.norm(direction), float(x[-1]))
    return found


def _refine_direction(mixture, means, radii, L, basis, x, score, scale):
    """Maximise over unit directions of the span of ``basis`` the score at each direction's best offset, near ``x``.

    ``x`` contains the coordinates of a direction in ``basis``, then an
    offset, and ``score`` is its float64 score. Each direction takes the
    offset where the two sides cross near that of ``x``
    (:func:`_ridge_offset`), so the score follows the ridge and has no
    kink there. Nelder-Mead moves the direction on the unit sphere, in
    coordinates of the plane tangent to it at ``x``. Its first simplex
    spans a tenth of a step of the angle grid, and it stops when the
    direction moves by less than :data:`_ANGLE_TOLERANCE` radians or after
    :data:`_DIRECTION_EVALUATIONS` evaluations per dimension of that plane.
    The result replaces ``x`` only when it scores above ``score``.
    """
    centre = x[:-1] / np.linalg.norm(x[:-1])
    # The right singular vectors of one row after the first span the vectors orthogonal to it.
    tangent = np.linalg.svd(centre[None, :])[2][1:]

    def coordinates(y):
        vector = centre + y @ tangent
        return vector / np.linalg.norm(vector)

    def ridge(y):
        return _ridge_offset(mixture, coordinates(y) @ basis @ means.T, radii, L, x[-1], scale)

    size = tangent.shape[0]
    simplex = np.concatenate((np.zeros((1, size)), 0.1 * np.pi / _ANGLE_GRID_POINTS * np.eye(size)))
    options = {"initial_simplex": simplex, "xatol": _ANGLE_TOLERANCE, "fatol": 1e-15,
               "maxfev": _DIRECTION_EVALUATIONS * size}
    found = scipy.optimize.minimize(lambda y: -ridge(y)[0], np.zeros(size), method="Nelder-Mead", options=options)
    value, offset = ridge(found.x)
    return np.append(coordinates(found.x), offset) if value > score else x


def _float_ray_sides(mixture, projected, offsets, radii, L):
    """Return the float64 scores of both sides (rows) of the rays ``(-inf, t]`` of one direction, one per offset."""
    projected = np.asarray(projected, dtype=float)[None, :]
    return _score_rays(mixture, np.repeat(projected, len(offsets), axis=0), np.asarray(offsets, dtype=float), radii, L, both=True)


def _crossing_offset(mixture, projected, radii, L, start, reach):
    """Return ``(score, offset)`` at the best crossing of the two sides within ``reach`` of ``start``, or None without one.

    The crossing is located by Brent's method to the rounding of float64.
    """
    ends = np.array([start - reach, start, start + reach])
    sides = _float_ray_sides(mixture, projected, ends, radii, L)
    difference = sides[0] - sides[1]

    def side_difference(offset):
        a, b = _float_ray_sides(mixture, projected, [offset], radii, L)[:, 0]
        return float(a - b)

    best = None
    for k in (0, 1):
        if not difference[k] * difference[k + 1] < 0:
            continue
        crossing = scipy.optimize.brentq(side_difference, ends[k], ends[k + 1], xtol=_CROSSING_TOLERANCE * reach,
                                         rtol=4 * np.finfo(float).eps)
        value = float(_float_ray_sides(mixture, projected, [crossing], radii, L).min())
        if best is None or value > best[0]:
            best = (value, crossing)
    return best


def _ridge_offset(mixture, projected, radii, L, start, scale):
    """Return ``(score, offset)`` at the crossing of the two sides near ``start``, or at the best offset without one.

    The crossing is sought within a tenth of ``scale`` (the largest standard
    deviation), which is cheaper than :func:`_best_offset` and enough near
    a point of the ridge. Without a crossing there, :func:`_best_offset`
    searches.
    """
    crossing = _crossing_offset(mixture, projected, radii, L, start, 0.1 * scale)
    if crossing is not None:
        return crossing
    return _best_offset(mixture, projected, radii, L, start, 0.05 * scale)


def _best_offset(mixture, projected, radii, L, start, spacing):
    """Maximise over the offset the float64 score of the rays with these projected means, from ``start``; return ``(score, offset)``.

    :func:`_zoom_search` locates the maximum to :data:`_ZOOM_TOLERANCE`
    times ``spacing``. The maximum is often the kink where the two sides
    cross, and there an offset error costs its product with the slope of
    the sides (up to 4e-9 relative in tests). So a crossing within a few
    final steps of the zoom replaces its result when it scores higher.
    """
    t = _zoom_search(lambda x: _float_ray_sides(mixture, projected, x[:, 0], radii, L).min(axis=0), np.array([start]),
                     np.array([spacing]), _ZOOM_TOLERANCE)
    t = float(t[0])
    best = (float(_float_ray_sides(mixture, projected, [t], radii, L).min()), t)
    crossing = _crossing_offset(mixture, projected, radii, L, t, 4 * _ZOOM_TOLERANCE * spacing)
    return crossing if crossing is not None and crossing[0] > best[0] else best


def _zoom_search(scores, start, spacing, tolerance):
    """Maximise ``scores`` (rows of arguments to scores) around ``start`` with a shrinking stencil.

    Each step scores a stencil of 5 points per axis (3 when there are more
    than 4 axes, and at most 729 points, the rest drawn from a fixed seed)
    around the best point so far, all at once. The spacing is halved when
    no point of the stencil improves on the best one, or when the best one
    lies inside the stencil. Otherwise the stencil moves to its edge point.
    The search stops when every spacing is below ``tolerance`` times its
    start, or after :data:`_ZOOM_STEPS` steps. No smoothness is assumed,
    so it suits one-dimensional searches through the kink of the minimum of
    the two sides. In more dimensions a ridge of that minimum that runs
    across the axes can stop it early, where Nelder-Mead goes on.
    """
    size = start.size
    points = 5 if size <= 4 else 3
    stencil = np.array(list(itertools.product(np.linspace(-1.0, 1.0, points), repeat=size)))
    if len(stencil) > _MAX_STENCIL_POINTS:
        rows = np.random.default_rng(_DIRECTION_SEED).choice(len(stencil), _MAX_STENCIL_POINTS, replace=False)
        stencil = np.concatenate((np.zeros((1, size)), np.eye(size), -np.eye(size), stencil[rows]))
    x, best = start.astype(float), float(scores(start[None, :].astype(float))[0])
    step, final = spacing.astype(float), spacing * tolerance
    for _ in range(_ZOOM_STEPS):
        trial = x + stencil * step
        values = scores(trial)
        index = int(np.argmax(values))
        moved = values[index] > best
        if moved:
            x, best = trial[index], float(values[index])
        if not moved or np.abs(stencil[index]).max() < 1:
            step = step / 2
        if (step <= final).all():
            break
    return x


def _symmetric_offsets(weights, means, sigmas):
    """Offsets that are optimal for symmetric mixtures: midpoints of consecutive means, the centre and the median.

    For a mixture symmetric about ``c`` the two sides of the ray ``(-inf, c]``
    are equal. Moving the offset raises one side and lowers the other, so
    the minimum of the two is largest at ``c``. That maximum is a kink, which
    a smooth one-dimensional search locates only roughly. The arguments are float64
    arrays of a univariate mixture.
    """
    ordered = np.unique(means)
    offsets = list(0.5 * (ordered[1:] + ordered[:-1]))
    offsets.append(0.5 * (means.min() + means.max()))

    def cdf_minus_half(t):
        return float((weights * sc.ndtr((t - means) / sigmas)).sum()) - 0.5

    spread = 40.0 * sigmas.max()
    low, high = means.min() - spread, means.max() + spread
    if cdf_minus_half(low) < 0 < cdf_minus_half(high):
        # Means 1e300 apart with sigma 1e-300 need about 2040 bisections to
        # reach xtol, far more than the 100 iterations brentq allows by default.
        offsets.append(
            scipy.optimize.brentq(
                cdf_minus_half, low, high, xtol=1e-14 * spread, rtol=4 * np.finfo(float).eps, maxiter=_MEDIAN_MAX_ITERATIONS
            )
        )
    return offsets


def _mean_directions(target):
    """Return the differences of the mixture's means, one per distinct direction, as lists of mpf."""
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
    beta_a, beta_b = _ShellMass(inside, outside), _ShellMass(outside, inside)

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


def _polished_interval_radii(mixture, a, b, L, r_a, r_b, radius_range):
    """Polish the radii of ``[a, b]`` found at the search precision (see :func:`_final_radius`)."""
    side_a, side_b, masses = _interval_brackets(mixture, a, b, L)
    low, high = _check_radius_range(radius_range, L, masses, _mixture_lengths(mixture))
    return _final_radius(side_a, r_a, low, high), _final_radius(side_b, r_b, low, high)


def _endpoint_grid(weights, means, sigmas, L, grid_points):
    """Return the ends tried for the intervals: a uniform core grid, geometric tails and the infinities.

    The core spans the means plus three of the largest standard deviations
    ``s`` on each side, with ``grid_points`` points. An end far in a tail
    pays off when the shells of the interval and of its complement reach no
    mass there. So beyond the core, up to :data:`_TAIL_POINTS` ends on each
    side are spaced by powers of 2 times ``s``. They reach out to ``8 s``
    plus the smaller of ``8 L`` and the core's width plus ``10 s``, because
    radii above about ``8 L`` add little to beta. The infinite ends give the
    rays.
    """
    scale = sigmas.max()
    low, high = means.min() - 3 * scale, means.max() + 3 * scale
    reach = 8 * scale + min(8 * float(L), high - low + 10 * scale)
    distances = scale * 2.0 ** np.arange(0, 64)
    distances = distances[distances <= reach][:_TAIL_POINTS]
    core = np.linspace(low, high, grid_points)
    return np.concatenate(([-np.inf], low - distances[::-1], core, high + distances, [np.inf]))


def _interval_candidates(mixture, L, grid_points):
    """List the intervals ``(a, b)`` (mpf, possibly infinite) to compare at 20 digits, best float64 score first.

    Every pair of grid endpoints is scored coarsely. The best finite
    interval and the best interval with an infinite end on each side (a
    ray) are refined by :func:`_refine_interval`. The refined intervals and
    their starts are scored again with refined radii, and those within
    ``1e-6`` of the best go on.
    """
    weights, means, sigmas = mixture.float_parameters()
    parameters = (weights, sigmas)
    radii = _float_radius_grid(L, _mixture_lengths(mixture))
    grid = _endpoint_grid(weights, means, sigmas, L, grid_points)
    a, b = np.array([(x, y) for x, y in itertools.combinations(grid, 2) if not (np.isinf(x) and np.isinf(y))]).T
    coarse = _score_intervals(parameters, means, a, b, radii, L, refine=False)

    starts = []
    for kind in (np.isfinite(a) & np.isfinite(b), np.isinf(a), np.isinf(b)):
        if kind.any():
            index = int(np.flatnonzero(kind)[np.argmax(coarse[kind])])
            starts.append((a[index], b[index]))
    candidates = list(starts)
    resolved = coarse.max() > _FLOAT_BRACKET_NOISE
    if resolved:
        candidates += [_refine_interval(parameters, means, sigmas, radii, L, start) for start in starts]
    else:
        # No float64 score is clearly positive, because beta underflows (a huge L) or the bound
        # is below the rounding of the masses (a weight such as 1e-300). So the rays and the
        # intervals from far outside the means to each midpoint are all tried at 20 digits.
        far = 60 * sigmas.max()
        for t in _symmetric_offsets(weights, means, sigmas):
            candidates += [(-np.inf, t), (t, np.inf), (means.min() - far, t), (t, means.max() + far)]

    ends = np.array(candidates, dtype=float)
    scores = _score_intervals(parameters, means, ends[:, 0], ends[:, 1], radii, L)
    ranked = sorted(_shortlist([(float(score), i) for i, score in enumerate(scores)], _FINE_SCORE_TOLERANCE), reverse=True)
    kept = []
    for _, i in ranked:
        if not any(_same_interval(candidates[i], candidates[j], sigmas.max()) for j in kept):
            kept.append(i)
    if resolved:
        kept = kept[:_MAX_PRECISE_CANDIDATES]
    return [tuple(mpmath.mpf(float(x)) for x in candidates[i]) for i in kept]


def _same_interval(first, second, scale):
    return all(x == y or abs(x - y) <= _SAME_OFFSET * scale for x, y in zip(first, second))


def _refine_interval(mixture, means, sigmas, radii, L, start):
    """Refine an interval ``start = (a, b)`` in float64 with refined radii; an infinite endpoint stays.

    Nelder-Mead moves both ends of a finite interval. A ray moves its finite
    end by :func:`_zoom_search`.
    """
    a, b = start
    scale = float(sigmas.max())
    if np.isinf(a) or np.isinf(b):
        def scores(x):
            finite = x[:, 0]
            ends = (np.full_like(finite, a), finite) if np.isinf(a) else (finite, np.full_like(finite, b))
            return _score_intervals(mixture, means, *ends, radii, L)

        x = _zoom_search(scores, np.array([b if np.isinf(a) else a]), np.array([0.25 * scale]), _ZOOM_TOLERANCE)
        return (a, float(x[0])) if np.isinf(a) else (float(x[0]), b)

    def negative_score(x):
        if not x[0] < x[1]:
            return 1.0
        return -float(_score_intervals(mixture, means, x[:1], x[1:], radii, L)[0])

    start = np.array([a, b])
    simplex = np.array([start, start + [0.25 * scale, 0.0], start + [0.0, 0.25 * scale]])
    options = {"initial_simplex": simplex, "xatol": 1e-8 * scale, "fatol": 1e-13, "maxfev": _NELDER_MEAD_EVALUATIONS}
    found = scipy.optimize.minimize(negative_score, start, method="Nelder-Mead", options=options)
    if found.fun <= negative_score(start):
        return float(found.x[0]), float(found.x[1])
    return a, b


def maximize_tv_over_intervals(lip, *, target, grid_points=41, radius_range=None, dps=None):
    r"""Model-free Theorem 4 for a univariate Gaussian mixture, searched over intervals ``[a, b]``.

    The intervals include the rays :math:`(-\infty, b]` and
    :math:`[a, \infty)`, the limits of long intervals. The endpoints are
    located in float64. Every pair of endpoints of a grid is scored with
    both radii (for ``[a, b]`` and for its complement) maximised over 65
    log-spaced radii. The grid has ``grid_points`` points spanning the means
    plus three of the largest standard deviations ``s`` on each side, up to
    8 more on each side at ``s``, ``2 s``, ``4 s``, ... beyond them, out to
    ``8 s`` plus the smaller of ``8 lip`` and the width of the core grid
    plus ``10 s``, and the infinities. An end that far out leaves the shells
    empty there, so the best end of a long interval can lie deep in a tail.
    Nelder-Mead refines the best finite interval, and a one-dimensional
    search the finite end of the best ray on each side, with each radius
    refined by parabolic steps. The candidates whose float64 score is
    within ``1e-6`` of the best (at most 4) are compared at 20 digits with
    both radii optimised, together with the rays that
    :func:`maximize_tv_over_half_spaces` compares, so the result is at least
    the half-space search's. The winner is evaluated at the working
    precision. A value within the rounding of its terms at 20 digits ranks
    below every resolved positive one, so that the noise of a side that a
    ``lip``-Lipschitz map fits exactly cannot hide a bound as small as
    1e-300.

    The value is the bound at the returned interval and radii, so it is a
    valid lower bound on the total variation distance. It is also a lower
    bound on the maximum over intervals, equal to it when the search finds
    the best interval.

    NOTE: an interval whose basin lies between the grid points, away from
    the three refined starts, can be missed. When ``r / lip`` stays below
    ``1e-10`` over the radius range (a huge ``lip``), float64 cannot rank
    the intervals, and rays and long intervals ending at the midpoints of
    the means, their centre and the median are compared at 20 digits. The
    same happens when no float64 score exceeds 1e-12, because float64 cannot
    resolve a bound that small (a component of weight 1e-300).

    Parameters
    ----------
    lip : positive finite real number
    target : univariate Gaussian mixture (``weights``, ``means``, ``sigmas``)
    grid_points : int, default 41
        Points of the endpoint grid between the means minus and plus three
        standard deviations, from 3 to 2001. The cost grows like the square
        of the total number of endpoints: 2001 points score about 2 million
        intervals.
    radius_range : (low, high), optional
    dps : int, optional

    Returns
    -------
    OptimizedBound
        ``region`` is the maximising :class:`isobounds.sets.Interval`,
        possibly with an infinite endpoint, and ``radius`` the pair
        ``(r_A, r_B)``.

    References
    ----------
    Salmona et al., 2022, Theorem 4.
    """
    check_gaussian_mixture(target)
    _check_univariate(target)
    _radius_pair(radius_range)
    if (isinstance(grid_points, (bool, np.bool_)) or not isinstance(grid_points, numbers.Integral)
            or not 3 <= grid_points <= _MAX_INTERVAL_GRID_POINTS):
        raise ValueError(f"grid_points must be an integer from 3 to {_MAX_INTERVAL_GRID_POINTS}, got grid_points={grid_points!r}")

    def compute():
        L = check_positive("lip", lip)
        centered, center = centered_mixture(target)
        mixture = mixture_from_target(centered)
        with np.errstate(**_FLOAT64_OVERFLOW_IGNORED):
            candidates = _interval_candidates(mixture, L, grid_points)
            # The rays that maximize_tv_over_half_spaces compares are intervals too, so the
            # result is never below the half-space search, also where the float64 scores of
            # the endpoint grid misrank the intervals (modes thousands of sigmas apart).
            candidates += [(mpmath.ninf, t) for _, t in _half_space_candidates(centered, L)]
        with workdps(min(mpmath.mp.dps, _SEARCH_DPS)):
            results = [(*_interval_sides(mixture, a, b, L, radius_range), a, b) for a, b in candidates]
            _, r_a, r_b, a, b = max(results, key=lambda result: _rank(
                result[0], Interval(result[3], result[4]), result[1:3], L, centered))
        r_a, r_b = _polished_interval_radii(mixture, a, b, L, r_a, r_b, radius_range)
        return (r_a, r_b), a, b, center, centered

    radii, a, b, center, centered = evaluate(compute, dps)
    # Evaluated on the centred target, as in maximize_tv_over_half_spaces.
    value = _settled_value(Interval(a, b), radii, lip, centered, dps)
    return OptimizedBound(value, radii, Interval(shift_back(a, [1], center), shift_back(b, [1], center)))


def _check_univariate(target):
    """Raise ValueError when the means of ``target`` have more than one coordinate."""
    means = np.asarray(target.means, dtype=object)
    dim = 1 if means.ndim <= 1 else means.shape[-1]
    if dim != 1:
        raise ValueError(f"maximize_tv_over_intervals needs a univariate target, got a target in dimension {dim}; "
                         "use maximize_tv_over_half_spaces for a target in R^d")


def _rank(value, region, radii, L, target):
    """Return the sort key of a set scored ``value`` at the current precision with radii ``(r_A, r_B)``.

    A bracket below the rounding of its terms (a side that a
    ``L``-Lipschitz map fits exactly) is noise of either sign, which can
    exceed a true but tiny bound such as 1e-300. Such a value ranks as 0,
    after every resolved positive one, and the raw value breaks ties.
    """
    bracket, scale = _model_free_terms(region, *radii, L, target)
    noise = scale * mpmath.mpf(10) ** (_RANK_DIGITS - mpmath.mp.dps)
    return (bracket if abs(bracket) > noise else mpmath.mpf(0)), value


def _settled_value(region, radii, lip, target, dps):
    """Evaluate model-free Theorem 4 at the returned set and radii ``(r_A, r_B)``, clipped at 0.

    The search scores sets at the working precision, where a bound that is
    0 in theory (a target that a ``lip``-Lipschitz map reaches) comes out as
    rounding noise of either sign. :func:`settle` raises the precision until
    the difference is resolved, as :func:`isobounds.tv_lower_bound` does, so
    noise is not reported as a positive bound.
    """
    def terms():
        return _model_free_terms(region, *radii, check_positive("lip", lip), target)

    return evaluate(lambda: max(settle(terms), mpmath.mpf(0)), dps)
