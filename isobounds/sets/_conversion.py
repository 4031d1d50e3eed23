"""Conversion of one-dimensional sets to unions of intervals."""

import mpmath

from ._base import EmptySet, Set, SetUnion, WholeSpace, _add_exact, _construction_precision, _sub_exact
from .euclidean import Annulus, Ball, BallComplement, HalfSpace, Slab
from .intervals import Interval, IntervalUnion

__all__ = ["as_intervals"]


# The endpoints below are computed without rounding, as the extensions and shells of
# the sets are. Rounded to the working precision, ``c - radius`` turns a ball of
# radius 1e-40 around 1 into the point 1 and a thin annulus into the empty set.


def _negated(x):
    """Return ``-x`` exactly (unary minus rounds to the working precision)."""
    return mpmath.fneg(x, exact=True)


def _half_space_intervals(s):
    if s.normal[0] > 0:
        return [Interval(-mpmath.inf, s.offset)]
    return [Interval(_negated(s.offset), mpmath.inf)]


def _slab_intervals(s):
    if s.normal[0] > 0:
        return [Interval(s.lower, s.upper, left_closed=False)]
    return [Interval(_negated(s.upper), _negated(s.lower), right_closed=False)]


def _ball_intervals(s):
    c = s.center[0]
    return [Interval(_sub_exact(c, s.radius), _add_exact(c, s.radius))]


def _annulus_intervals(s):
    c = s.center[0]
    return [
        Interval(_sub_exact(c, s.outer), _sub_exact(c, s.inner), right_closed=False),
        Interval(_add_exact(c, s.inner), _add_exact(c, s.outer), left_closed=False),
    ]


def _ball_complement_intervals(s):
    c = s.center[0]
    return [
        Interval(-mpmath.inf, _sub_exact(c, s.radius), right_closed=False),
        Interval(_add_exact(c, s.radius), mpmath.inf, left_closed=False),
    ]


def _pieces(s):
    if isinstance(s, Interval):
        return [s]
    if isinstance(s, IntervalUnion):
        return list(s.intervals)
    if isinstance(s, EmptySet):
        return []
    if isinstance(s, WholeSpace):
        return [Interval(-mpmath.inf, mpmath.inf)]
    if isinstance(s, SetUnion):
        return [piece for part in s.pieces for piece in _pieces(part)]
    converters = {
        HalfSpace: _half_space_intervals,
        Slab: _slab_intervals,
        Ball: _ball_intervals,
        Annulus: _annulus_intervals,
        BallComplement: _ball_complement_intervals,
    }
    for kind, convert in converters.items():
        if isinstance(s, kind):
            return convert(s)
    raise TypeError(f"set has no conversion to intervals, got set={s!r}")


def as_intervals(set_):
    """Return a one-dimensional set as an :class:`IntervalUnion`, endpoints included exactly.

    Parameters
    ----------
    set_ : Set of dimension 1
        Any set of this module in R, including half-spaces (normal +1 or -1),
        balls, annuli, slabs, ball complements and their unions.

    Raises
    ------
    ValueError
        If the set does not live in one dimension.
    """
    if not isinstance(set_, Set):
        raise TypeError(f"set_ must be an isobounds set, got set_={set_!r}")
    if set_.dim != 1:
        raise ValueError(f"as_intervals needs a set of dimension 1, got a set of dimension {set_.dim}")
    with _construction_precision():
        return IntervalUnion(_pieces(set_))
