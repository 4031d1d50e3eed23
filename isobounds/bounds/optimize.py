r"""Sharper bounds: Theorem 4 and Theorem 7 maximised over the radius (over sets: :mod:`.set_search`).

Every bound of Theorems 4 and 7 holds for each set ``A`` and radius ``r``,
so the best bound is a supremum. The searches here are global. A grid
(log-spaced in ``r``) is evaluated in full, and the few best local maxima
are refined by golden-section search and a parabolic step. The largest
refined value wins, so the search never stops at the first decrease. For a
one-dimensional target whose density jumps (the disconnected supports of
Corollary 5), the radii at which a shell reaches a jump are candidates
too, because the maximum can sit at such a kink. Searches over sets score
their candidates in float64 first. Every search runs at 20 significant
digits (or the working precision if lower). The radii found are then
refined by parabolic steps at the working precision and rounded to the
output digits, and the bound is evaluated there at the working precision.
The returned value is therefore the bound evaluated at the returned
arguments, a valid bound even where the search misses the true supremum.
The offsets and ends of the sets found are float64 numbers, which rounding to
``dps >= 16`` digits leaves unchanged.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022, Theorems 4
and 7, Corollaries 5 and 6.
"""

import dataclasses

import mpmath
import numpy as np

from .._precision import GUARD_DIGITS, resolve_dps, workdps
from .._validation import check_positive
from ..gaussian import _gaussian_mass, _Phi_inv
from ..measures import DisconnectedSupport, UnivariateDistribution
from ..sets import HalfSpace, as_intervals
from ._common import (
    check_means,
    check_model_mass,
    complement_mass,
    check_dimensions,
    check_region,
    check_target,
    evaluate,
    separation,
    set_mass,
    settle,
)
from ._mixture import is_gaussian_mixture
from .isoperimetry import _shell_mass, _ShellMass
from .kl import _corrected_kl, _corrected_kl_terms
from .tv import _model_free_side_terms, _theorem4_bracket, _theorem4_terms

__all__ = [
    "OptimizedBound",
    "maximize_tv_over_radius",
    "maximize_kl_over_radius",
    "maximize_tv_two_gaussians",
]

_GRID_POINTS_PER_DECADE = 6
_MAX_GRID_POINTS = 240
_REFINED_CANDIDATES = 2
_GOLDEN_ITERATIONS = 32
# Golden-section steps allowed beyond _GOLDEN_ITERATIONS while the two inner values differ
# by more than _RESOLVED_DIGITS digits above the rounding of the precision (see _refine_peak).
_KINK_ITERATIONS = 80
_RESOLVED_DIGITS = 3

# Searches run at this many digits; the working precision only evaluates the
# bound at the arguments they return.
_SEARCH_DPS = 20

# Candidate radii whose search-precision value is within this relative distance of
# the best are all evaluated at the working precision, which then picks the winner.
_SEARCH_TIE = mpmath.mpf(10) ** (4 - _SEARCH_DPS)

# A maximum is flat at the search precision when f moves by less than this many digits
# above its rounding over this step in log r. The search then runs again with twice the
# digits, up to the working precision.
_FLAT_DIGITS = 5
_FLAT_STEP = mpmath.mpf("1e-3")

# The polish of a radius at the working precision takes at most this many parabolic
# steps, and needs the second difference of its stencil resolved to this many digits.
_POLISH_STEPS = 16
_POLISH_RESOLVED_DIGITS = 10


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
        left, right = max(i - 1, 0), min(i + 1, n - 1)
        if left == right:
            continue
        candidate = _refine_peak(f, (grid[left], values[left]), (grid[right], values[right]), iterations)
        if candidate[0] > best[0]:
            best = candidate
    return best


def _refine_peak(f, left, right, iterations):
    """Maximise ``f`` between the points ``left = (x, f(x))`` and ``right``; return ``(f(x), x)``.

    Golden-section search shrinks the bracket by ``0.618**iterations``
    (about 2e-7 for 32 steps). It goes on, for at most
    :data:`_KINK_ITERATIONS` more steps, while the two inner values still
    differ by more than the rounding of the current precision. Near a
    smooth maximum they differ by the square of the bracket's width, so a
    few more steps end it. At a kink they differ by its width, which
    golden-section search shrinks only linearly: there the extra steps take
    the value from about 1e-8 below the maximum (two modes of standard
    deviation 1e-20, whose shells give the bound a kink) to the search
    precision. One parabolic step through the best point and its two
    neighbours then locates a smooth maximum to about the square of that
    width, and is kept only when it is better.
    """
    ratio = (mpmath.sqrt(5) - 1) / 2
    (a, fa), (b, fb) = left, right
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    rounding = mpmath.mpf(10) ** (_RESOLVED_DIGITS - mpmath.mp.dps)
    for step in range(iterations + _KINK_ITERATIONS):
        if step >= iterations and not abs(fc - fd) > rounding * max(abs(fc), abs(fd)):
            break
        if fc >= fd:
            b, fb, d, fd = d, fd, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, fa, c, fc = c, fc, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    if fc >= fd:
        best, points = (fc, c), ((a, fa), (c, fc), (d, fd))
    else:
        best, points = (fd, d), ((c, fc), (d, fd), (b, fb))
    vertex = _parabola_vertex(*points)
    if vertex is not None and points[0][0] < vertex < points[2][0]:
        value = f(vertex)
        if value > best[0]:
            best = (value, vertex)
    return best


def _parabola_vertex(first, middle, last):
    """Return the abscissa of the vertex of the parabola through three points ``(x, y)``, or None when they are collinear."""
    (x0, y0), (x1, y1), (x2, y2) = first, middle, last
    numerator = (x1 - x0) ** 2 * (y1 - y2) - (x1 - x2) ** 2 * (y1 - y0)
    denominator = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0)
    if denominator == 0:
        return None
    return x1 - numerator / (2 * denominator)


def _log_radius_grid(r_low, r_high):
    decades = float(mpmath.log10(r_high / r_low))
    count = int(min(_MAX_GRID_POINTS, max(24, decades * _GRID_POINTS_PER_DECADE)))
    return list(mpmath.linspace(mpmath.log(r_low), mpmath.log(r_high), count))


def _maximize_over_radius(f, r_low, r_high, terms=None, kinks=()):
    """Maximise ``f(r)`` over ``[r_low, r_high]`` on a log-spaced grid; return ``(value, r)``.

    The search runs at :data:`_SEARCH_DPS` digits (at most the working
    precision). Without ``terms``, ``value`` is ``f(r)`` at the current
    precision, for the searches over sets that call this function at the
    search precision.

    With ``terms`` (a function of ``r`` returning ``(difference, scale[,
    result])`` from exact inputs, see :func:`isobounds.bounds._common.settle`)
    the caller runs at the working precision of a public function, the
    output digits plus ``GUARD_DIGITS``. The radii in ``kinks`` that lie in
    the range are then candidates too, kept at the working precision,
    because at a kink of ``f`` golden-section search converges only
    linearly. The grid's maximum is polished at the working precision
    (:func:`_polish_log_radius`). The candidates within
    :data:`_SEARCH_TIE` of the best search value are rounded to the output
    digits and evaluated with ``terms``, which takes as many more digits as
    the cancellation in the bound needs, and the largest value wins. So
    ``value`` is the bound at the returned radius.
    """
    digits = mpmath.mp.dps
    search_digits = min(digits, _SEARCH_DPS)
    while True:
        with workdps(search_digits):
            value, log_r = _maximize_on_grid(lambda t: f(mpmath.exp(t)), _log_radius_grid(r_low, r_high))
            flat = _is_flat(f, value, log_r)
        if not flat or search_digits >= digits:
            break
        search_digits = min(2 * search_digits, digits)
    with workdps(search_digits):
        candidates = [(value, mpmath.exp(log_r))]
        candidates += [(f(r), r) for r in kinks if r_low <= r <= r_high]
    if terms is None:
        r = max(candidates, key=lambda candidate: candidate[0])[1]
        return f(r), r

    best = max(value for value, _ in candidates)
    if best > 0:
        radii = [r for value, r in candidates if value >= best * (1 - _SEARCH_TIE)]
    else:
        radii = [max(candidates, key=lambda candidate: candidate[0])[1]]
    if radii[0] is candidates[0][1]:
        radii[0] = _final_radius(f, radii[0], r_low, r_high)
    return max((_best_output_radius(terms, r, r_low, r_high) for r in radii), key=lambda candidate: candidate[0])


def _is_flat(f, value, log_r):
    """Tell whether ``f(exp(t))`` stays within the rounding of the current precision around ``t = log_r``.

    A bound that is ``1/2 - 6e-20`` over a wide range of radii (modes 200
    standard deviations apart) varies only in digits that 20-digit values
    have lost, so the search's maximum there is any point of the range.
    """
    tolerance = abs(value) * mpmath.mpf(10) ** (_FLAT_DIGITS - mpmath.mp.dps)
    return all(abs(f(mpmath.exp(log_r + step)) - value) <= tolerance for step in (-_FLAT_STEP, _FLAT_STEP))


def _final_radius(f, r, r_low, r_high):
    """Polish a radius found at the search precision (see :func:`_polish_log_radius`) and round it to the output digits."""
    if mpmath.mp.dps > _SEARCH_DPS:
        r = mpmath.exp(_polish_log_radius(f, mpmath.log(r), r_low, r_high))
    return _output_radius(r)


def _best_output_radius(terms, r, r_low, r_high):
    """Return ``(value, radius)`` at ``r`` rounded to the output digits, or at a neighbour there if clearly better.

    A maximum at a kink of the bound is approached from its good side, but
    rounding to fewer digits can put the radius on the kink or past it. For
    two modes of standard deviation 1e-20 at -1 and 1, a radius 4e-18 below
    1 rounds to 1 at 15 digits. There the shell takes half a mode, and the
    bound drops by 0.25. The neighbours one unit below and above in the last
    output digit are evaluated too, and one replaces the rounded radius only
    when its value is larger by more than the output digits resolve, so
    that rounding noise does not move a radius off an exact kink.
    """
    rounded = _output_radius(r)
    best = (settle(lambda: terms(rounded)), rounded)
    output_digits = _output_digits()
    with workdps(output_digits):
        neighbours = [+(rounded * (1 - 2 * mpmath.eps)), +(rounded * (1 + 2 * mpmath.eps))]
    margin = abs(best[0]) * mpmath.mpf(10) ** -output_digits
    for radius in neighbours:
        if r_low <= radius <= r_high and radius != rounded:
            value = settle(lambda: terms(radius))
            if value > best[0] + margin:
                best = (value, radius)
    return best


def _output_digits():
    """Return the output digits: the working precision less ``GUARD_DIGITS``, at least 1."""
    return max(mpmath.mp.dps - GUARD_DIGITS, 1)


def _output_radius(r):
    """Round ``r`` to the output digits, so that the value is the bound at the returned radius."""
    with workdps(_output_digits()):
        return +r


def _polish_log_radius(f, log_r, r_low, r_high):
    """Refine a smooth maximum of ``f(exp(t))``, located at the search precision, at the working precision.

    Each step fits a parabola through ``t - h``, ``t`` and ``t + h`` and
    moves ``t`` to its vertex: a Newton step with a finite-difference
    slope and curvature, which leaves an error of about ``e**2 + h**2``
    (times the scale of the third derivative) from an error ``e`` in
    ``t``, plus rounding of about ``10**-dps |f| / (|f''| h)``. So ``h``
    is set once, as small as the rounding allows: the second difference
    ``|f''| h**2`` is made :data:`_POLISH_RESOLVED_DIGITS` + 2 digits
    above the rounding of ``f``, from a first stencil at ``h = 1e-9``
    (widened by factors of 100, up to :data:`_FLAT_STEP`, while its
    second difference is not resolved to :data:`_POLISH_RESOLVED_DIGITS`
    digits).

    The vertex may lie outside the stencil, because the search's error
    in ``t``, about ``sqrt(10**-20 |f| / |f''|)``, can exceed ``h`` far:
    two modes 1e-10 apart with ``L = 1e-10`` have ``|f''| / |f| ~ 2e-8``
    at the maximum and a search error of 2e-8, so steps confined to a
    stencil of width 1e-9 would leave 7 of 30 digits wrong. A step is kept
    only when it raises the value, so the point returned is never worse
    than ``log_r``. Refinement also stops when the parabola is not
    concave (a kink or a minimum), or when a stencil or the vertex
    leaves ``[r_low, r_high]``.
    """
    log_low, log_high = mpmath.log(r_low), mpmath.log(r_high)
    t = log_r
    value = f(mpmath.exp(t))
    rounding = abs(value) * mpmath.mpf(10) ** (_POLISH_RESOLVED_DIGITS - mpmath.mp.dps)

    def stencil(h):
        left, right = t - h, t + h
        if not (log_low <= left and right <= log_high):
            return None
        return (left, f(mpmath.exp(left))), (right, f(mpmath.exp(right)))

    h = mpmath.mpf(10) ** (1 - _SEARCH_DPS // 2)
    while True:
        ends = stencil(h)
        if ends is None:
            return t
        curvature = ends[0][1] + ends[1][1] - 2 * value
        if abs(curvature) > rounding or h >= _FLAT_STEP:
            break
        h *= 100
    if not -curvature > rounding:
        return t
    smallest = h * mpmath.sqrt(100 * rounding / -curvature)
    if smallest < h:
        h = smallest
        ends = stencil(h)

    for _ in range(_POLISH_STEPS):
        if ends is None:
            return t
        (left, f_left), (right, f_right) = ends
        if not -(f_left + f_right - 2 * value) > rounding:
            return t
        vertex = _parabola_vertex((left, f_left), (t, value), (right, f_right))
        if vertex is None or not log_low <= vertex <= log_high:
            return t
        vertex_value = f(mpmath.exp(vertex))
        if not vertex_value > value:
            return t
        t, value = vertex, vertex_value
        ends = stencil(h)
    return t


def _density_breakpoints(target):
    """Return the points of a one-dimensional target where its density may jump.

    These are the ends of the pieces of a :class:`DisconnectedSupport` and
    the finite ends of the support of a :class:`UnivariateDistribution`.
    Other targets give none.
    """
    if getattr(target, "dim", None) != 1:
        return []
    if isinstance(target, DisconnectedSupport):
        return [end for piece in target.pieces for interval in as_intervals(piece).intervals for end in (interval.a, interval.b)]
    if isinstance(target, UnivariateDistribution):
        return [mpmath.mpf(float(end)) for end in target.frozen.support() if np.isfinite(end)]
    return []


def _kink_radii(region, target):
    """Return the radii where the target mass of the shell of ``region`` may change slope (one dimension only).

    The shell of a union of intervals grows from its finite ends, so its
    mass changes slope when the shell reaches a point where the target's
    density jumps, at a distance ``|end - point|``. There the bound of
    Theorem 4 can have its maximum at a kink, as in the disconnected
    supports of Corollary 5. The radii are computed at the working
    precision. In higher dimension the target's pieces are balls, whose
    mass in a shell has a continuous slope, so none are returned.
    """
    points = _density_breakpoints(target)
    if not points or getattr(region, "dim", None) != 1:
        return []
    try:
        intervals = as_intervals(region).intervals
    except TypeError:
        return []
    ends = [end for interval in intervals for end in (interval.a, interval.b) if mpmath.isfinite(end)]
    return sorted({abs(end - point) for end in ends for point in points} - {0})


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
    """Return ``(scale, extent)`` of a target.

    For a Gaussian mixture they come from its components. For a
    one-dimensional target with density jumps they are the smallest gap
    and the span of the jump points (the ends of the pieces of a
    :class:`DisconnectedSupport`), and for a :class:`UnivariateDistribution`
    also its standard deviation. For a :class:`DisconnectedSupport` of balls
    in higher dimension they are the smallest radius or gap between balls,
    and the largest distance between centres plus the largest diameter.
    Other targets get ``(1, 1e10)``.
    """
    if not is_gaussian_mixture(target):
        return _jump_lengths(target)
    sigmas = [check_positive("target.sigmas", s) for s in np.ravel(np.asarray(target.sigmas, dtype=object))]
    rows = np.asarray(target.means, dtype=object).reshape(len(np.ravel(np.asarray(target.weights, dtype=object))), -1)
    spread = max(
        (mpmath.sqrt(mpmath.fsum((mpmath.mpf(a) - mpmath.mpf(b)) ** 2 for a, b in zip(u, v))) for u in rows for v in rows),
        default=mpmath.mpf(0),
    )
    return min(sigmas), spread + 40 * max(sigmas)


def _jump_lengths(target):
    """``(scale, extent)`` of a target that is not a Gaussian mixture (see :func:`_target_lengths`)."""
    if isinstance(target, DisconnectedSupport) and target.dim > 1:
        return _ball_lengths(target)
    points = sorted(set(_density_breakpoints(target)))
    gaps = [b - a for a, b in zip(points, points[1:])]
    spread = points[-1] - points[0] if points else mpmath.mpf(0)
    if isinstance(target, UnivariateDistribution):
        std = float(target.frozen.std())
        if np.isfinite(std) and std > 0:
            return min([mpmath.mpf(std), *gaps]), spread + 40 * mpmath.mpf(std)
    if gaps:
        return min(gaps), spread
    # NOTE: without a length scale of the target the extent is a guess; pass
    # radius_range for targets spread over more than about 1e10 length units.
    return mpmath.mpf(1), mpmath.mpf("1e10")


def _ball_lengths(target):
    """``(scale, extent)`` of a :class:`DisconnectedSupport` of balls: the smallest radius or gap, and its span."""
    balls = target.pieces
    radii = [mpmath.mpf(ball.radius) for ball in balls]
    distances = target.pairwise_distances()
    gaps = [mpmath.mpf(distances[i, j]) for i in range(len(balls)) for j in range(i + 1, len(balls))]
    centres = [[mpmath.mpf(x) for x in ball.center] for ball in balls]
    span = max((mpmath.sqrt(mpmath.fsum((a - b) ** 2 for a, b in zip(u, v))) for u in centres for v in centres),
               default=mpmath.mpf(0))
    return min(radii + gaps), span + 2 * max(radii)


# ---------------------------------------------------------------------------
# Theorems 4 and 7 over the radius, for a given set.
# ---------------------------------------------------------------------------

def _side_over_radius(region, L, target, radius_range):
    """sup_r beta(nu(S), r / L) - nu(S_r minus S) for one set ``S``."""
    mass = set_mass(target, region)
    low, high = _check_radius_range(radius_range, L, [mass], _target_lengths(target))
    beta = _ShellMass(mass, complement_mass(target, region, mass))

    def bracket(r):
        return beta(r / L) - set_mass(target, region.shell(r))

    def terms(r):
        return _model_free_side_terms(region, r, r / L, target)

    return _maximize_over_radius(bracket, low, high, terms, _kink_radii(region, target))


def maximize_tv_over_radius(A, lip, *, target, model_mass=None, radius_range=None, dps=None):
    r"""Theorem 4 for one set ``A``, maximised over the radius ``r``.

    With ``model_mass`` the bound is
    :math:`\sup_r [\alpha(\rho(A), r) - \min(\rho(A), \nu(A)) - \nu(A_r \setminus A)]`;
    without it, the model-free form
    :math:`\min(\sup_{r_A} [\beta(\nu(A), r_A) - \nu(A_{r_A} \setminus A)],
    \sup_{r_B} [\beta(\nu(B), r_B) - \nu(B_{r_B} \setminus B)])` with ``B``
    the complement of ``A``: each side takes its own best radius.

    For a one-dimensional target whose density jumps (a
    :class:`isobounds.measures.DisconnectedSupport`, or a
    :class:`isobounds.measures.UnivariateDistribution` whose support has a
    finite end), the radii at which a shell reaches a jump are tried too. So
    a maximum at such a kink, as in Corollary 5, is found exactly.

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
        deviations. For a :class:`DisconnectedSupport` they are its smallest
        gap or piece size and its span, for a
        :class:`UnivariateDistribution` also its standard deviation, and
        for other targets 1 and 1e10.
    dps : int, optional
        Significant digits of the value.

    Returns
    -------
    OptimizedBound
        ``value`` clipped at 0, ``radius`` (a pair in the model-free form),
        ``region = A``. With ``model_mass`` above :math:`\nu(A)` the radius
        can be 0: the bracket tends to :math:`\rho(A) - \nu(A)` as
        :math:`r \to 0` and is largest there when the target's mass near the
        boundary of ``A`` grows faster than beta (``model_mass = 1`` always).

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

        rho = check_model_mass(A, model_mass)
        nu = set_mass(target, A)
        low, high = _check_radius_range(radius_range, L, [rho, nu], _target_lengths(target))

        def bracket(r):
            return _theorem4_bracket(rho, nu, r / L, set_mass(target, A.shell(r)))

        def terms(r):
            rho_now = check_model_mass(A, model_mass)
            return _theorem4_terms(rho_now, set_mass(target, A), r / L, set_mass(target, A.shell(r)))

        value, r = _maximize_over_radius(bracket, low, high, terms, _kink_radii(A, target))
        # When rho(A) > nu(A) the bracket tends to rho(A) - nu(A) as r -> 0, and it can be
        # largest there (rho(A) = 1 makes beta vanish, so the bracket only falls with r).
        # The grid starts at r_low > 0, so that limit, the bound at r = 0, is a candidate too.
        zero = mpmath.mpf(0)
        value_at_zero = settle(lambda: terms(zero))
        if value_at_zero > max(value, zero):
            value, r = value_at_zero, zero
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
        rho = check_model_mass(A, model_mass)
        check_dimensions(A, target)
        low, high = _check_radius_range(radius_range, L, [rho], _target_lengths(target))
        beta = _ShellMass(rho)

        def bound(r):
            return _corrected_kl(beta(r / L), set_mass(target, A.shell(r)), True)

        def terms(r):
            rho_now = check_model_mass(A, model_mass)
            return _corrected_kl_terms(_shell_mass(rho_now, r / L), set_mass(target, A.shell(r)), True)

        return _maximize_over_radius(bound, low, high, terms, _kink_radii(A, target))

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
    beta_a, beta_b = _ShellMass(lower, upper), _ShellMass(upper, lower)

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


def _polished_ray_radii(mixture, t, L, r_a, r_b, radius_range):
    """Polish the radii of the ray ``(-inf, t]`` found at the search precision (see :func:`_final_radius`)."""
    side_a, side_b, masses = _ray_brackets(mixture, t, L)
    low, high = _check_radius_range(radius_range, L, masses, _mixture_lengths(mixture))
    return _final_radius(side_a, r_a, low, high), _final_radius(side_b, r_b, low, high)


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
        complement, by symmetry). ``region`` is ``H``, the half-space on the
        side of ``m1``, :math:`\{x : \langle m_2 - m_1, x - (m_1 + m_2)/2 \rangle \le 0\}`,
        or None when ``m1 = m2`` (the bound is then 0 for every set).

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

    value, radius = evaluate(compute, dps)
    with workdps(resolve_dps(dps) + GUARD_DIGITS):
        region = _bisecting_half_space(m1, m2)
    return OptimizedBound(value, radius, region)


def _bisecting_half_space(m1, m2):
    """Return the half-space of the points closer to ``m1`` than to ``m2``, or None when they are equal."""
    first, second = check_means(m1, m2)
    normal = [b - a for a, b in zip(first, second)]
    if not any(normal):
        return None
    midpoint = mpmath.fsum(n * (a + b) for n, a, b in zip(normal, first, second)) / 2
    return HalfSpace(tuple(normal), midpoint)
