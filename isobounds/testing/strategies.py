"""Hypothesis strategies for masses, Lipschitz constants, targets, maps and sets.

Every strategy draws valid arguments of isobounds, including extreme but
valid ones (masses of 1e-300, Lipschitz constants up to 1e300), and shrinks
towards simple ones (masses near 1/2, few pieces, unit slopes).
"""

import fractions
import math
import typing

import numpy as np

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "isobounds.testing needs hypothesis; install it with `pip install isobounds[testing]`"
    ) from error

__all__ = [
    "EXTREME_PROBABILITIES",
    "probabilities",
    "lipschitz_constants",
    "radii",
    "unit_vectors",
    "gaussian_mixtures",
    "piecewise_linear_maps",
    "intervals",
    "half_spaces",
    "BoundCase",
    "tight_bound_cases",
]

EXTREME_PROBABILITIES = (5e-324, 1e-300, 1e-100, 1e-16, 1e-8, 0.5, 1 - 1e-8, 1 - 1e-16, 1.0 - 2.0**-53)
"""Masses at which tail-unsafe code fails: subnormal, deep tails, and the floats closest to 1."""


def _check_range(name_low, low, name_high, high):
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"{name_low} and {name_high} must be finite with {name_low} <= {name_high}, got {low} and {high}")


def _check_flag(name, value):
    """Raise ``TypeError`` unless ``value`` is a bool (a string such as "no" would count as True)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {name}={value!r}")


def probabilities(*, allow_zero=False, allow_one=False):
    """Masses in (0, 1), with the extreme tails of :data:`EXTREME_PROBABILITIES` drawn often.

    Parameters
    ----------
    allow_zero, allow_one : bool, default False
        Also draw exactly 0 (resp. 1).

    Returns
    -------
    hypothesis strategy of float
    """
    _check_flag("allow_zero", allow_zero)
    _check_flag("allow_one", allow_one)
    extremes = [p for p in EXTREME_PROBABILITIES if p < 1.0]
    if allow_zero:
        extremes.append(0.0)
    if allow_one:
        extremes.append(1.0)
    uniform = st.floats(min_value=0.0, max_value=1.0, exclude_min=not allow_zero, exclude_max=not allow_one)
    log_tail = st.floats(min_value=-300.0, max_value=-1.0).map(lambda e: 10.0**e)
    upper_tail = st.floats(min_value=-16.0, max_value=-1.0).map(lambda e: 1.0 - 10.0**e)
    return st.one_of(uniform, st.sampled_from(extremes), log_tail, upper_tail)


def lipschitz_constants(*, min_value=1e-3, max_value=1e300):
    """Positive finite Lipschitz constants from ``min_value`` to ``max_value``, with 1 and the ends drawn often.

    A draw picks a side of the constant nearest to 1 in the range (1
    itself by default), then a distance in log10 from it, uniform in
    hypothesis's sense: so constants below 1 are drawn about as often as
    constants above 1, and each side is spread over its decades. One draw in
    four or so is that nearest constant, and one in four or so the end of
    the range on the drawn side.

    Shrinks towards 1, or towards a constant near 1 that a failing test
    still accepts (``0.1`` for a test that fails on constants below 0.5,
    ``10`` for one that fails on constants above 5), or to the end of the
    range nearest to 1 when the range does not contain 1.

    Parameters
    ----------
    min_value, max_value : positive finite float, ``min_value <= max_value``
    """
    _check_range("min_value", min_value, "max_value", max_value)
    if min_value <= 0:
        raise ValueError(f"min_value must be positive, got min_value={min_value}")
    min_value, max_value = float(min_value), float(max_value)
    low, high = math.log10(min_value), math.log10(max_value)
    # The exponent nearest to 0, and its constant, given exactly.
    anchor = min(max(0.0, low), high)
    if anchor == 0.0:
        nearest = 1.0
    elif anchor == low:
        nearest = min_value
    else:
        nearest = max_value
    return _lipschitz_constant(low, high, anchor, nearest, min_value, max_value)


@st.composite
def _lipschitz_constant(draw, low, high, anchor, nearest, min_value, max_value):
    """Draw one constant for :func:`lipschitz_constants`.

    The draws are a side, a distance from ``anchor`` in log10 on that side,
    and a choice: 0 or 1 for ``10**(anchor -+ distance)``, 2 for ``nearest``,
    3 for the end of the range on the side. A distance of 0 gives
    ``nearest`` whatever the choice. So while an end fails the test, the
    shrinker can move the distance only to a simple nonzero value such as 1.
    It then lowers the choice to 0, which gives ``10**-1`` or ``10**1``
    times ``nearest`` when the test still fails there.
    """
    below = draw(st.booleans()) if low < anchor < high else anchor == high
    distance = draw(st.floats(min_value=0.0, max_value=anchor - low if below else high - anchor))
    choice = draw(st.integers(min_value=0, max_value=3))
    if choice == 2 or distance == 0:
        return nearest
    if choice == 3:
        return min_value if below else max_value
    exponent = anchor - distance if below else anchor + distance
    # 10**exponent overflows for exponents above about 308.25, which only a max_value near 1.8e308 allows.
    try:
        value = 10.0**exponent
    except OverflowError:
        value = max_value
    return min(max(value, min_value), max_value)


def radii(*, max_value=20.0, min_positive=0.0):
    """Nonnegative radii ``r`` of extensions: 0, or in ``[min_positive, max_value]`` (tiny ones included by default).

    Parameters
    ----------
    max_value : finite float >= 0
        Largest radius; with ``max_value = 0`` only 0 is drawn.
    min_positive : finite float in ``[0, max_value]``
        Smallest positive radius.
    """
    _check_range("min_positive", min_positive, "max_value", max_value)
    if min_positive < 0:
        raise ValueError(f"min_positive must be nonnegative (radii are at least 0), got min_positive={min_positive}")
    if max_value == 0:
        return st.just(0.0)
    small = [r for r in (1e-300, 1e-12, 1e-6) if min_positive <= r <= max_value]
    positive = st.floats(min_value=min_positive, max_value=max_value, exclude_min=min_positive == 0.0)
    return st.one_of(st.just(0.0), positive, *([st.sampled_from(small)] if small else []))


def unit_vectors(dim):
    """Unit vectors of R^dim: coordinates drawn in [-1, 1], divided by their norm.

    Vectors of squared norm at most 1e-12 are redrawn. The directions are not
    uniform on the sphere (the draws are not even uniform in the cube), but
    every direction can be drawn.
    """
    dim = _check_dim(dim)
    coordinates = st.lists(st.floats(min_value=-1.0, max_value=1.0), min_size=dim, max_size=dim)
    return coordinates.filter(lambda v: math.fsum(x * x for x in v) > 1e-12).map(
        lambda v: tuple(np.asarray(v) / math.sqrt(math.fsum(x * x for x in v)))
    )


def _check_dim(dim):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got dim={dim!r}")
    return int(dim)


def _check_count(name, value, least):
    """Return ``value`` as an int, or raise ``ValueError`` unless it is an integer of at least ``least``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ValueError(f"{name} must be an integer >= {least}, got {name}={value!r}")
    return int(value)


@st.composite
def gaussian_mixtures(draw, dim=1, *, max_components=3, max_mean=10.0, min_sigma=0.1, max_sigma=5.0, min_weight=1e-3):
    """Gaussian mixture targets :class:`isobounds.measures.GaussianMixture` in R^dim.

    Parameters
    ----------
    dim : int, >= 1
        Dimension of the mixture.
    max_components : int, >= 1
        Largest number of components.
    max_mean : positive float
        Mean coordinates lie in ``[-max_mean, max_mean]``.
    min_sigma, max_sigma : positive floats
        Range of the component standard deviations (one per component).
    min_weight : float in (0, 1 / max_components]
        Smallest weight. Each weight is a fraction ``c_i / sum(c)`` with
        integers ``1 <= c_i <= R``, exact as rationals, where ``R`` is the
        largest resolution that keeps every weight at least ``min_weight``
        for the drawn number ``k`` of components:
        ``R = floor((1 / min_weight - 1) / (k - 1))``.
    """
    from isobounds.measures import GaussianMixture

    dim = _check_dim(dim)
    max_components = _check_count("max_components", max_components, least=1)
    _check_range("min_sigma", min_sigma, "max_sigma", max_sigma)
    if min_sigma <= 0:
        raise ValueError(f"min_sigma must be positive (standard deviations are positive), got min_sigma={min_sigma}")
    if not (max_mean >= 0 and math.isfinite(max_mean)):
        raise ValueError(f"max_mean must be a finite number >= 0, got max_mean={max_mean}")
    if not 0 < min_weight <= 1 / max_components:
        raise ValueError(
            f"min_weight must lie in (0, 1 / max_components] = (0, {1 / max_components:g}], "
            f"got min_weight={min_weight}"
        )
    k = draw(st.integers(min_value=1, max_value=max_components))
    # Rational weights sum to 1 exactly, so the mixture's total mass is 1 to
    # the working precision (float weights would miss it by about 1e-16).
    # The smallest weight is at least 1 / (1 + (k - 1) R) >= min_weight.
    resolution = 1 if k == 1 else max(1, math.floor((1.0 / min_weight - 1.0) / (k - 1)))
    counts = draw(st.lists(st.integers(min_value=1, max_value=resolution), min_size=k, max_size=k))
    weights = [fractions.Fraction(c, sum(counts)) for c in counts]
    coordinate = st.floats(min_value=-max_mean, max_value=max_mean)
    means = [draw(st.lists(coordinate, min_size=dim, max_size=dim)) for _ in range(k)]
    sigmas = draw(st.lists(st.floats(min_value=min_sigma, max_value=max_sigma), min_size=k, max_size=k))
    return GaussianMixture(weights, [m[0] for m in means] if dim == 1 else means, sigmas)


# Smallest max_lip accepted by piecewise_linear_maps: the smallest drawn slope,
# 1e-3 max_lip, stays a normal float64 number.
_MIN_MAX_LIP = 1e-300


@st.composite
def piecewise_linear_maps(draw, *, max_pieces=6, max_lip=10.0, min_gap=1e-2, allow_flat=True, max_knot=5.0):
    """Continuous piecewise-linear maps :class:`isobounds.pushforward.PiecewiseLinearMap`.

    Parameters
    ----------
    max_pieces : int, >= 2
        Largest number of linear pieces (knots + 1).
    max_lip : float, >= 1e-300
        Every drawn slope has magnitude 0 (flat pieces) or in
        ``[1e-3 max_lip, (1 - 1e-9) max_lip]``. The slope of a piece between
        two knots is recomputed from the values, each rounded once to
        float64, so the Lipschitz constant can exceed ``max_lip`` by about
        ``1e-15 max_lip (5 + 2 max_knot) / gap`` for a piece of length
        ``gap``; that stays below ``max_lip`` for gaps above
        ``1e-6 (5 + 2 max_knot)``.
    min_gap : positive float
        Smallest distance between consecutive knots (exact float64
        differences). A smaller value is raised to
        ``64 eps (5 + 2 max_knot)``, with ``eps`` the float64 machine
        epsilon (about 2e-13 for the default ``max_knot``): on a shorter
        piece a slope of ``1e-3 max_lip`` is lost in the rounding of the
        values, and consecutive knots of size ``max_knot`` can round to
        the same float64.
    allow_flat : bool, default True
        Draw flat pieces (atoms of the push-forward) as well, each piece
        with chance 1/8. With False, every piece has a nonzero exact slope.
        A flat piece makes the KL divergence infinite, so KL property tests
        should pass ``allow_flat=False``: with the default, a quarter to a
        third of the maps have a flat piece (hypothesis draws the
        choice of each piece, so the rate is not exactly 1/8).
    max_knot : positive float, with ``2 max_knot max_lip <= 1e307``
        Knots lie in ``[-max_knot, max_knot]``.

    Notes
    -----
    The value at the first knot is drawn in ``[-5, 5] min(1, max_lip)``,
    and the other values are the exact sums of slope times gap, rounded
    once to float64. A drawn slope below ``16 q / gap``, with ``q`` a bound
    on the float64 spacing of the values, is raised to that, so that a
    piece drawn with a nonzero slope keeps one after the rounding.
    """
    from isobounds.pushforward import PiecewiseLinearMap

    _check_map_arguments(max_pieces, max_lip, min_gap, max_knot)
    _check_flag("allow_flat", allow_flat)
    value_bound = 5.0 * min(1.0, max_lip) + 2.0 * max_knot * max_lip
    quantum = max(2.0 * _EPS * value_bound, _SMALLEST_SUBNORMAL)

    min_gap = max(min_gap, 64 * _EPS * (5.0 + 2.0 * max_knot))
    layout_gap = _layout_gap(min_gap, max_knot)
    # At most 2 max_knot / layout_gap + 1 knots fit in [-max_knot, max_knot].
    max_knots = max(1, min(max_pieces - 1, int(2 * max_knot / layout_gap) + 1))
    n_knots = draw(st.integers(min_value=1, max_value=max_knots))
    knots = _spaced_points(draw, n_knots, -max_knot, max_knot, layout_gap)
    gaps = [fractions.Fraction(b) - fractions.Fraction(a) for a, b in zip(knots[:-1], knots[1:])]

    # Minimum magnitude of each piece's slope, from left to right.
    inner = [max(max_lip * 1e-3, 16 * quantum / float(gap)) for gap in gaps]
    least = [max_lip * 1e-3, *inner, max_lip * 1e-3]
    slopes = [draw(_slope(low, max_lip, allow_flat)) for low in least]
    if not any(slopes):
        # A constant map is not a generator with a positive Lipschitz constant.
        slopes[draw(st.integers(min_value=0, max_value=n_knots))] = max_lip / 2

    first = draw(st.floats(min_value=-5.0, max_value=5.0)) * min(1.0, max_lip)
    values = _exact_values(first, slopes[1:-1], gaps)
    return PiecewiseLinearMap(knots, values, slopes[0], slopes[-1])


_EPS = float(np.finfo(np.float64).eps)
_SMALLEST_SUBNORMAL = 2.0**-1074


def _check_map_arguments(max_pieces, max_lip, min_gap, max_knot):
    _check_count("max_pieces", max_pieces, least=2)
    if not (_MIN_MAX_LIP <= max_lip and math.isfinite(max_lip)):
        raise ValueError(f"max_lip must be finite and at least {_MIN_MAX_LIP:g}, got max_lip={max_lip}")
    if not (min_gap > 0 and math.isfinite(min_gap)):
        raise ValueError(f"min_gap must be a positive finite number, got min_gap={min_gap}")
    if not (max_knot > 0 and math.isfinite(max_knot)):
        raise ValueError(f"max_knot must be a positive finite number, got max_knot={max_knot}")
    if 2 * max_knot * max_lip > 1e307:
        raise ValueError(f"2 max_knot max_lip must be at most 1e307, so that the values stay finite, got max_knot={max_knot} and max_lip={max_lip}")


# With allow_flat, one slope in this many is drawn flat (0).
_FLAT_ODDS = 8


@st.composite
def _slope(draw, least, max_lip, allow_flat):
    """Draw one slope: magnitude in ``[least, (1 - 1e-9) max_lip]``, either sign, or 0 with chance 1/8 when ``allow_flat``.

    Shrinks towards a positive slope of magnitude 1, or the end of the range
    nearest to 1.
    """
    largest = max(least, max_lip * (1 - 1e-9))
    unit = min(max(1.0, least), largest)
    magnitude = draw(st.one_of(st.just(unit), st.floats(min_value=least, max_value=largest)))
    negative = draw(st.booleans())
    # Drawn last, so that a flat slope does not shorten the draws, which
    # hypothesis would count as simpler; the integer shrinks to 0, not flat.
    if allow_flat and draw(st.integers(min_value=0, max_value=_FLAT_ODDS - 1)) == _FLAT_ODDS - 1:
        return 0.0
    return -magnitude if negative else magnitude


def _exact_values(first, inner_slopes, gaps):
    """Return ``first + sum(slope * gap)`` at every knot, summed as exact rationals and rounded once to float64."""
    total = fractions.Fraction(first)
    values = [first]
    for slope, gap in zip(inner_slopes, gaps):
        total += fractions.Fraction(slope) * gap
        values.append(float(total))
    return np.array(values)


def _layout_gap(min_gap, max_knot):
    """Return the gap at which to lay out knots so that their float64 gaps stay at least ``min_gap``.

    Each knot is rounded once from an exact position, which moves a gap by
    at most one float64 spacing at ``max_knot``. The float64 room left for
    the first knot, and the clipping of the last knot to ``max_knot``, can
    take up to two more.
    """
    return min_gap + 4 * float(np.spacing(max_knot))


def _spaced_points(draw, n, low, high, min_gap):
    """Draw ``n`` increasing float64 points of ``[low, high]`` whose exact gaps are at least ``min_gap``.

    The first point and the gaps are drawn freely (gaps up to 2). When the
    last point would pass ``high``, the part of each gap above ``min_gap``
    is shrunk by one common factor, so shrinking by hypothesis still moves
    toward equal small gaps. The positions are summed as exact rationals and
    rounded once, so a float64 gap is at least ``min_gap`` minus three
    float64 spacings at ``max(|low|, |high|)`` (see :func:`_layout_gap`).
    """
    least_span = (n - 1) * min_gap
    start = draw(st.floats(min_value=low, max_value=max(low, high - least_span)))
    gaps = draw(st.lists(st.floats(min_value=min_gap, max_value=max(2.0, min_gap)), min_size=n - 1, max_size=n - 1))

    exact_gap = fractions.Fraction(min_gap)
    # The room is 0 when start was drawn at its largest value, which rounding
    # can put slightly above high - least_span.
    room = max(fractions.Fraction(high) - fractions.Fraction(start) - (n - 1) * exact_gap, fractions.Fraction(0))
    extra = [fractions.Fraction(gap) - exact_gap for gap in gaps]
    total_extra = sum(extra)
    if total_extra > room:
        extra = [e * room / total_extra for e in extra]
    position = fractions.Fraction(start)
    points = [start]
    for e in extra:
        position += exact_gap + e
        points.append(float(position))
    return np.minimum(np.array(points), high)


def intervals(*, max_abs=15.0, allow_infinite=True, min_length=0.0):
    """Closed intervals :class:`isobounds.sets.Interval` ``[a, b]`` of R.

    A finite interval has the shortest length, ``min_length`` (a single
    point by default), in about one draw in ten. Otherwise its length is
    drawn log-uniformly, in hypothesis's sense, between
    ``max(min_length, 1e-6 max_abs)`` and ``2 max_abs``, and then its left
    end. Half-lines take about half of the draws.

    Parameters
    ----------
    max_abs : positive float
        Finite ends lie in ``[-max_abs, max_abs]``.
    allow_infinite : bool, default True
        Also draw half-lines ``(-inf, b]`` and ``[a, inf)``.
    min_length : float >= 0
        Smallest length ``b - a``, exact: ``b`` is at least the smallest
        float64 number not below ``a + min_length``.
    """
    from isobounds.sets import Interval

    if not (max_abs > 0 and math.isfinite(max_abs)):
        raise ValueError(f"max_abs must be a positive finite number, got max_abs={max_abs}")
    _check_flag("allow_infinite", allow_infinite)
    if not 0 <= min_length <= 2 * max_abs:
        raise ValueError(f"min_length must lie in [0, 2 max_abs] = [0, {2 * max_abs}], got min_length={min_length}")

    end = st.floats(min_value=-max_abs, max_value=max_abs)
    finite = _finite_interval(float(max_abs), float(min_length)).map(lambda ends: Interval(*ends))
    if not allow_infinite:
        return finite
    left = end.map(lambda b: Interval(-math.inf, b))
    right = end.map(lambda a: Interval(a, math.inf))
    return st.one_of(finite, left, right)


# One finite interval in this many has the shortest length.
_SHORTEST_ODDS = 8


@st.composite
def _finite_interval(draw, max_abs, min_length):
    """Draw the ends ``(a, b)`` of a finite interval for :func:`intervals`: a length, then ``a``.

    The length is not drawn as a right end above ``a``, because hypothesis
    reuses values drawn earlier in a test case. With hypothesis 6.170,
    ``floats(a, max_abs)`` gave ``b = a``, or the next float64 number, in
    about half of the draws, and in four draws in five with ``a`` excluded.
    A set of one point, or of length 1e-15, has mass 0 or nearly so under a
    model without atoms, so most checks on such intervals are trivial.

    The choice of the shortest length is drawn last, so that it does not
    shorten the draws, which hypothesis would count as simpler: intervals
    shrink towards ``[0, 1]``.
    """
    span = fractions.Fraction(max_abs) * 2
    exact_min = fractions.Fraction(min_length)
    # 2 max_abs can overflow to inf in float64, so the exponents come from max_abs and 2 separately.
    high = math.log10(max_abs) + math.log10(2.0)
    low = min(high, max(math.log10(min_length) if min_length > 0 else -math.inf, math.log10(max_abs) - 6.0))
    exponent = draw(st.floats(min_value=low, max_value=high))
    length = min(max(fractions.Fraction(10.0**exponent) if exponent < 308 else span, exact_min), span)
    a = draw(st.floats(min_value=-max_abs, max_value=_float_at_most(fractions.Fraction(max_abs) - length)))
    if draw(st.integers(min_value=0, max_value=_SHORTEST_ODDS - 1)) == _SHORTEST_ODDS - 1:
        length = exact_min
    # a <= max_abs - length, so the smallest float64 number not below a + length is at most max_abs.
    return a, _float_at_least(fractions.Fraction(a) + length)


def _float_at_least(x):
    """Return the smallest float64 number not below the rational ``x``."""
    nearest = float(x)
    return nearest if fractions.Fraction(nearest) >= x else math.nextafter(nearest, math.inf)


def _float_at_most(x):
    """Return the largest float64 number not above the rational ``x``."""
    nearest = float(x)
    return nearest if fractions.Fraction(nearest) <= x else math.nextafter(nearest, -math.inf)


class BoundCase(typing.NamedTuple):
    """A generator, a target, and a set and radius at which bounds of Theorems 4 and 7 can be nearly attained.

    Attributes
    ----------
    map : isobounds.pushforward.PiecewiseLinearMap
        The generator ``g``.
    target : isobounds.measures.GaussianMixture
        The one-dimensional target ``nu``.
    region : isobounds.sets.Interval
        The set ``A``, a half-line.
    radius : float
        The radius ``r`` of the extension ``A_r``.
    """

    map: object
    target: object
    region: object
    radius: float


# NOTE: a NamedTuple drops docstrings written under its fields, so help() would show "Alias for field number k".
BoundCase.map.__doc__ = "The generator ``g``, a :class:`isobounds.pushforward.PiecewiseLinearMap`."
BoundCase.target.__doc__ = "The target ``nu``, a one-dimensional :class:`isobounds.measures.GaussianMixture`."
BoundCase.region.__doc__ = "The set ``A``, a half-line :class:`isobounds.sets.Interval`."
BoundCase.radius.__doc__ = "The radius ``r`` of the extension ``A_r``."


@st.composite
def tight_bound_cases(draw, *, max_far_components=2, max_far_weight=0.5, max_perturbation=1e-3):
    r"""Generators and targets whose total variation and KL lower bounds can be nearly tight.

    Independent draws of a generator and a target are almost never close, so
    a property test on them cannot tell a bound from an inflated one. Here
    the target is built around the generator. The description below puts
    the far components on the right of ``m``. Mirrored cases put them on
    the left, with every set and shell mirrored too.

    - ``g`` is affine, ``g(z) = m + s z`` with ``m in [-5, 5]`` and
      ``s in [0.1, 5]``, on latent ``[-K, K]`` with ``K in [9, 12]``, and
      has nonzero slopes of magnitude at most ``s`` outside. So
      :math:`\rho = g\#N(0, 1)` is :math:`N(m, s^2)` up to a mass of
      :math:`2 \Phi(-9) \approx 2e-19`, and :math:`\mathrm{Lip}(g) = s` up
      to one rounding of the values.
    - The target is :math:`(1 - w) N(m + \delta s, (1 + \epsilon)^2 s^2)`
      plus up to ``max_far_components`` components of total weight
      ``w <= max_far_weight``, each with its mean at least 8 of its
      standard deviations to the right of ``m + 2 H s``, ``H in [20, 30]``.
      The perturbations ``delta`` and ``epsilon`` are 0 or at most
      ``max_perturbation`` in magnitude.
    - Either the "split" set ``A = (-inf, m + H s]`` with
      ``r / s in [10, H - 8]``. Then Theorem 4, model-free or with the
      model mass, is about ``w``, as is the total variation when the
      target is not perturbed.
    - Or the "cover" set ``A = (-inf, m - K_1 s]`` with
      ``r = (K_1 + K_2) s`` and ``K_1, K_2 in [7, 9]``, so that the shell
      :math:`A_r \setminus A` covers the near component. Then corrected
      Theorem 7 is about :math:`-\log(1 - w)`, as is the KL divergence when
      the target is not perturbed.

    With ``w = 0`` and a perturbation the target is a near-target
    Gaussian, at a total variation below about ``max_perturbation``.

    Parameters
    ----------
    max_far_components : int, >= 0
        Largest number of far components.
    max_far_weight : float in [0, 1/2]
        Largest total weight ``w`` of the far components, drawn as a
        multiple of 1/1000 (exact rational weights). Fewer components than
        ``max_far_components`` are drawn when ``1000 max_far_weight`` is
        smaller.
    max_perturbation : float in [0, 0.1]
        Largest relative perturbation of the near component's mean and
        standard deviation.

    Returns
    -------
    hypothesis strategy of :class:`BoundCase`
    """
    from isobounds.measures import GaussianMixture
    from isobounds.pushforward import PiecewiseLinearMap
    from isobounds.sets import Interval

    _check_case_arguments(max_far_components, max_far_weight, max_perturbation)
    s = draw(st.floats(min_value=0.1, max_value=5.0))
    m = draw(st.floats(min_value=-5.0, max_value=5.0))
    side = draw(st.sampled_from([1.0, -1.0]))
    bulk = draw(st.floats(min_value=9.0, max_value=12.0))
    outer = [draw(_slope(s * 1e-3, s, allow_flat=False)) for _ in range(2)]
    g = PiecewiseLinearMap([-bulk, bulk], [m - s * bulk, m + s * bulk], *outer)

    near_mean, near_sigma = _near_component(draw, m, s, max_perturbation)
    half_gap = draw(st.floats(min_value=20.0, max_value=30.0))
    far_weights, far_means, far_sigmas = _far_components(draw, m + side * 2 * half_gap * s, side, s,
                                                         max_far_components, max_far_weight)
    weights = [1 - sum(far_weights, fractions.Fraction(0)), *far_weights]
    target = GaussianMixture(weights, [near_mean, *far_means], [near_sigma, *far_sigmas])

    if draw(st.sampled_from(["split", "cover"])) == "split":
        end = m + side * half_gap * s
        radius = draw(st.floats(min_value=10.0, max_value=half_gap - 8.0)) * s
    else:
        before = draw(st.floats(min_value=7.0, max_value=9.0))
        after = draw(st.floats(min_value=7.0, max_value=9.0))
        end = m - side * before * s
        radius = (before + after) * s
    # The set lies on the near component's side of its end, so its extension
    # grows towards the far components.
    region = Interval(-math.inf, end) if side > 0 else Interval(end, math.inf)
    return BoundCase(g, target, region, radius)


def _check_case_arguments(max_far_components, max_far_weight, max_perturbation):
    if isinstance(max_far_components, bool) or not isinstance(max_far_components, (int, np.integer)) or max_far_components < 0:
        raise ValueError(f"max_far_components must be a nonnegative integer, got max_far_components={max_far_components!r}")
    if not 0 <= max_far_weight <= 0.5:
        raise ValueError(f"max_far_weight must lie in [0, 0.5], got max_far_weight={max_far_weight}")
    if not 0 <= max_perturbation <= 0.1:
        raise ValueError(f"max_perturbation must lie in [0, 0.1], got max_perturbation={max_perturbation}")


def _near_component(draw, m, s, max_perturbation):
    """Draw the mean ``m + delta s`` and standard deviation ``(1 + epsilon) s`` of the near component."""
    size = st.floats(min_value=-max_perturbation, max_value=max_perturbation)
    perturbation = st.one_of(st.just(0.0), size) if max_perturbation > 0 else st.just(0.0)
    delta, epsilon = draw(perturbation), draw(perturbation)
    return m + delta * s, (1 + epsilon) * s


def _far_components(draw, start, side, s, max_count, max_weight):
    """Draw up to ``max_count`` components beyond ``start`` on ``side``, as ``(weights, means, sigmas)`` lists.

    Each component's mean lies at least 8 of its standard deviations beyond
    ``start``. The weights are exact positive fractions whose sum is a
    multiple of 1/1000 of at most ``max_weight``, and there are at most
    ``1000 max_weight`` of them.
    """
    total = math.floor(1000 * max_weight)
    # Each component takes at least 1/1000 of the weight, so at most `total` of them fit.
    count = draw(st.integers(min_value=0, max_value=min(max_count, total))) if total > 0 else 0
    if count == 0:
        return [], [], []
    shares = draw(st.lists(st.integers(min_value=1, max_value=total), min_size=count, max_size=count))
    scale = draw(st.integers(min_value=count, max_value=total))
    weights = [fractions.Fraction(share * scale, 1000 * sum(shares)) for share in shares]
    sigmas = [draw(st.floats(min_value=0.1, max_value=2.0)) * s for _ in range(count)]
    means = [start + side * (8 * sigma + draw(st.floats(min_value=0.0, max_value=10.0)) * s) for sigma in sigmas]
    return weights, means, sigmas


def half_spaces(dim, *, max_offset=10.0):
    """Closed half-spaces :class:`isobounds.sets.HalfSpace` ``{x : <u, x> <= c}`` of R^dim with unit normal ``u``."""
    from isobounds.sets import HalfSpace

    if not (max_offset >= 0 and math.isfinite(max_offset)):
        raise ValueError(f"max_offset must be a finite number >= 0, got max_offset={max_offset}")
    offsets = st.floats(min_value=-max_offset, max_value=max_offset)
    return st.builds(HalfSpace, unit_vectors(dim), offsets)
