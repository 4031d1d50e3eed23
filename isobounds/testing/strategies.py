"""Hypothesis strategies for masses, Lipschitz constants, targets, maps and sets.

Every strategy draws valid arguments of isobounds, including extreme but
valid ones (masses of 1e-300, Lipschitz constants up to 1e300), and shrinks
towards simple ones (masses near 1/2, few pieces, unit slopes).
"""

import fractions
import math

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
]

EXTREME_PROBABILITIES = (5e-324, 1e-300, 1e-100, 1e-16, 1e-8, 0.5, 1 - 1e-8, 1 - 1e-16, 1.0 - 2.0**-53)
"""Masses at which tail-unsafe code fails: subnormal, deep tails, and the floats closest to 1."""


def _check_range(name_low, low, name_high, high):
    if not (math.isfinite(low) and math.isfinite(high) and low <= high):
        raise ValueError(f"{name_low} and {name_high} must be finite with {name_low} <= {name_high}, got {low} and {high}")


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
    """Positive finite Lipschitz constants, log-uniform over ``[min_value, max_value]`` plus 1 and the ends.

    Parameters
    ----------
    min_value, max_value : positive finite float, ``min_value <= max_value``
    """
    _check_range("min_value", min_value, "max_value", max_value)
    if min_value <= 0:
        raise ValueError(f"min_value must be positive, got min_value={min_value}")
    low, high = math.log10(min_value), math.log10(max_value)
    log_uniform = st.floats(min_value=low, max_value=high).map(lambda e: min(max(10.0**e, min_value), max_value))
    ends = [x for x in (1.0, min_value, max_value) if min_value <= x <= max_value]
    return st.one_of(st.sampled_from(ends), log_uniform)


def radii(*, max_value=20.0, min_positive=0.0):
    """Nonnegative radii ``r`` of extensions: 0, or in ``[min_positive, max_value]`` (tiny ones included by default)."""
    _check_range("min_positive", min_positive, "max_value", max_value)
    small = [r for r in (1e-300, 1e-12, 1e-6) if min_positive <= r <= max_value]
    positive = st.floats(min_value=min_positive, max_value=max_value, exclude_min=min_positive == 0.0)
    return st.one_of(st.just(0.0), positive, *([st.sampled_from(small)] if small else []))


def unit_vectors(dim):
    """Unit vectors of R^dim (normalised Gaussian-like draws; the zero vector is redrawn)."""
    dim = _check_dim(dim)
    coordinates = st.lists(st.floats(min_value=-1.0, max_value=1.0), min_size=dim, max_size=dim)
    return coordinates.filter(lambda v: math.fsum(x * x for x in v) > 1e-12).map(
        lambda v: tuple(np.asarray(v) / math.sqrt(math.fsum(x * x for x in v)))
    )


def _check_dim(dim):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got dim={dim!r}")
    return int(dim)


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
    _check_range("min_sigma", min_sigma, "max_sigma", max_sigma)
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


@st.composite
def piecewise_linear_maps(draw, *, max_pieces=6, max_lip=10.0, min_gap=1e-2, allow_flat=True, max_knot=5.0):
    """Continuous piecewise-linear maps :class:`isobounds.pushforward.PiecewiseLinearMap`.

    Parameters
    ----------
    max_pieces : int, >= 2
        Largest number of linear pieces (knots + 1).
    max_lip : positive float
        Every slope lies in ``[-max_lip, max_lip]``, so the Lipschitz
        constant is at most ``max_lip`` (up to one rounding of the values).
    min_gap : positive float
        Smallest distance between consecutive knots. A gap below 8 float64
        spacings at ``max_knot`` is raised to that, because smaller gaps
        between float64 knots of that size can round to 0.
    allow_flat : bool, default True
        Draw flat pieces (atoms of the push-forward) as well.
    max_knot : positive float
        Knots lie in ``[-max_knot, max_knot]``.
    """
    from isobounds.pushforward import PiecewiseLinearMap

    if max_pieces < 2:
        raise ValueError(f"max_pieces must be at least 2, got max_pieces={max_pieces}")
    if not max_lip > 0:
        raise ValueError(f"max_lip must be positive, got max_lip={max_lip}")
    if not (min_gap > 0 and math.isfinite(min_gap)):
        raise ValueError(f"min_gap must be a positive finite number, got min_gap={min_gap}")
    if not (max_knot > 0 and math.isfinite(max_knot)):
        raise ValueError(f"max_knot must be a positive finite number, got max_knot={max_knot}")

    min_gap = max(min_gap, 8 * float(np.spacing(max_knot)))
    # At most 2 max_knot / min_gap + 1 knots fit in [-max_knot, max_knot] at the least gap.
    max_knots = min(max_pieces - 1, int(2 * max_knot / min_gap) + 1)
    n_knots = draw(st.integers(min_value=1, max_value=max_knots))
    knots = _spaced_points(draw, n_knots, -max_knot, max_knot, min_gap)

    magnitude = st.floats(min_value=max_lip * 1e-3, max_value=max_lip * (1 - 1e-9))
    slope = st.one_of(magnitude, magnitude.map(lambda s: -s), *([st.just(0.0)] if allow_flat else []))
    slopes = np.array(draw(st.lists(slope, min_size=n_knots + 1, max_size=n_knots + 1)))
    if not slopes.any():
        # A constant map is not a generator with a positive Lipschitz constant.
        slopes[draw(st.integers(min_value=0, max_value=n_knots))] = max_lip / 2

    first = draw(st.floats(min_value=-5.0, max_value=5.0))
    values = first + np.concatenate([[0.0], np.cumsum(slopes[1:-1] * np.diff(knots))])
    return PiecewiseLinearMap(knots, values, slopes[0], slopes[-1])


def _spaced_points(draw, n, low, high, min_gap):
    """Draw ``n`` increasing points of ``[low, high]`` whose consecutive gaps are at least ``min_gap``.

    The first point and the gaps are drawn freely (gaps up to 2). When the
    last point would pass ``high``, the part of each gap above ``min_gap``
    is shrunk by one common factor, so shrinking by hypothesis still moves
    toward equal small gaps.
    """
    least_span = (n - 1) * min_gap
    start = draw(st.floats(min_value=low, max_value=high - least_span))
    gaps = np.array(draw(st.lists(st.floats(min_value=min_gap, max_value=max(2.0, min_gap)),
                                  min_size=n - 1, max_size=n - 1)))
    # Rounding can make the room slightly negative when start is drawn at its largest value.
    room = max(high - start - least_span, 0.0)
    extra = gaps - min_gap
    if extra.sum() > room:
        extra *= room / extra.sum()
    points = start + np.concatenate([[0.0], np.cumsum(min_gap + extra)])
    return np.minimum(points, high)


def intervals(*, max_abs=15.0, allow_infinite=True, min_length=0.0):
    """Closed intervals :class:`isobounds.sets.Interval` ``[a, b]`` of R.

    Parameters
    ----------
    max_abs : positive float
        Finite ends lie in ``[-max_abs, max_abs]``.
    allow_infinite : bool, default True
        Also draw half-lines ``(-inf, b]`` and ``[a, inf)``.
    min_length : float >= 0
        Smallest length ``b - a``.
    """
    from isobounds.sets import Interval

    if not (max_abs > 0 and math.isfinite(max_abs)):
        raise ValueError(f"max_abs must be a positive finite number, got max_abs={max_abs}")
    if not 0 <= min_length <= 2 * max_abs:
        raise ValueError(f"min_length must lie in [0, 2 max_abs] = [0, {2 * max_abs}], got min_length={min_length}")

    end = st.floats(min_value=-max_abs, max_value=max_abs)
    finite = st.floats(min_value=-max_abs, max_value=max_abs - min_length).flatmap(
        lambda a: st.floats(min_value=a + min_length, max_value=max_abs).map(lambda b: Interval(a, b))
    )
    if not allow_infinite:
        return finite
    left = end.map(lambda b: Interval(-math.inf, b))
    right = end.map(lambda a: Interval(a, math.inf))
    return st.one_of(finite, left, right)


def half_spaces(dim, *, max_offset=10.0):
    """Closed half-spaces :class:`isobounds.sets.HalfSpace` ``{x : <u, x> <= c}`` of R^dim with unit normal ``u``."""
    from isobounds.sets import HalfSpace

    offsets = st.floats(min_value=-max_offset, max_value=max_offset)
    return st.builds(HalfSpace, unit_vectors(dim), offsets)
