"""Intervals of the real line and finite unions of them.

An interval records whether each finite endpoint belongs to it, so that the
shell ``A_r \\ A`` and the complement are exact sets, and an
:class:`~isobounds.measures.EmpiricalMeasure` counts samples on an endpoint
correctly. Infinite endpoints are never included.
"""

import mpmath
import numpy as np

from .._validation import check_real
from ._base import (
    Set,
    _add_exact,
    _at_least,
    _at_most,
    _check_radius_r,
    _construction_precision,
    _fmt,
    _points,
    _sub_exact,
)

__all__ = ["Interval", "IntervalUnion"]


class Interval(Set):
    """Interval of R with endpoints ``a <= b`` (either may be infinite).

    Parameters
    ----------
    a, b : real numbers or +-inf, ``a <= b``
        Endpoints.
    left_closed, right_closed : bool, default True
        Whether ``a`` (resp. ``b``) belongs to the interval; ignored for an
        infinite endpoint. ``Interval(a, b)`` is the closed interval [a, b].

    Examples
    --------
    >>> from isobounds.sets import Interval
    >>> Interval(-1, 1).shell(0.5)
    IntervalUnion([Interval(-1.5, -1.0, right_closed=False), Interval(1.0, 1.5, left_closed=False)])
    """

    __slots__ = ("a", "b", "left_closed", "right_closed")

    def __init__(self, a, b, *, left_closed=True, right_closed=True):
        with _construction_precision():
            a = check_real("a", a)
            b = check_real("b", b)
        if a > b:
            raise ValueError(f"a must not exceed b, got a={_fmt(a)} and b={_fmt(b)}")
        if a == mpmath.inf or b == -mpmath.inf:
            raise ValueError(f"an interval needs a < inf and b > -inf, got a={_fmt(a)} and b={_fmt(b)}")
        for name, flag in (("left_closed", left_closed), ("right_closed", right_closed)):
            # Only genuine booleans are accepted, because bool("no") is True.
            if not isinstance(flag, (bool, np.bool_)):
                raise TypeError(f"{name} must be True or False, got {name}={flag!r}")
        self._init(
            a=a,
            b=b,
            left_closed=bool(left_closed) and mpmath.isfinite(a),
            right_closed=bool(right_closed) and mpmath.isfinite(b),
        )

    @property
    def dim(self):
        return 1

    @property
    def length(self):
        """Length ``b - a`` (an mpf, possibly inf)."""
        return self.b - self.a

    def is_empty(self):
        """Return whether the interval contains no point (``a == b`` with an open end)."""
        return self.a == self.b and not (self.left_closed and self.right_closed)

    def contains(self, x):
        points, shape = _points(x, 1)
        t = points[:, 0]
        # Exact comparisons: an endpoint such as 1 - 1e-30 rounds to the float64 1.0,
        # which lies inside the open interval (1 - 1e-30, 2) but above float(1 - 1e-30).
        above = _at_least(t, self.a, self.left_closed)
        below = _at_most(t, self.b, self.right_closed)
        return (above & below).reshape(shape)

    def extension(self, r):
        """Return ``[a - r, b + r]``, or an empty :class:`IntervalUnion` for an empty interval."""
        r = _check_radius_r(r)
        if self.is_empty():
            return IntervalUnion()
        with _construction_precision():
            return Interval(_sub_exact(self.a, r), _add_exact(self.b, r))

    def shell(self, r):
        return IntervalUnion([self]).shell(r)

    def complement(self):
        return IntervalUnion([self]).complement()

    def _key(self):
        return (self.a, self.b, self.left_closed, self.right_closed)

    def __repr__(self):
        flags = ""
        if mpmath.isfinite(self.a) and not self.left_closed:
            flags += ", left_closed=False"
        if mpmath.isfinite(self.b) and not self.right_closed:
            flags += ", right_closed=False"
        return f"Interval({_fmt(self.a)}, {_fmt(self.b)}{flags})"


def _intersect(first, second):
    """Return the intersection of two intervals, or None when it is empty."""
    if first.a > second.a or (first.a == second.a and not first.left_closed):
        a, left_closed = first.a, first.left_closed
    else:
        a, left_closed = second.a, second.left_closed
    if first.b < second.b or (first.b == second.b and not first.right_closed):
        b, right_closed = first.b, first.right_closed
    else:
        b, right_closed = second.b, second.right_closed
    if a > b:
        return None
    piece = Interval(a, b, left_closed=left_closed, right_closed=right_closed)
    return None if piece.is_empty() else piece


def _merge(intervals):
    """Sort intervals and merge those that overlap or touch at an included point."""
    pieces = sorted((p for p in intervals if not p.is_empty()), key=lambda p: (p.a, not p.left_closed))
    merged = []
    for piece in pieces:
        if merged:
            last = merged[-1]
            touching = piece.a < last.b or (piece.a == last.b and (last.right_closed or piece.left_closed))
            if touching:
                if piece.b > last.b:
                    b, right_closed = piece.b, piece.right_closed
                elif piece.b == last.b:
                    b, right_closed = last.b, last.right_closed or piece.right_closed
                else:
                    b, right_closed = last.b, last.right_closed
                merged[-1] = Interval(last.a, b, left_closed=last.left_closed, right_closed=right_closed)
                continue
        merged.append(piece)
    return tuple(merged)


class IntervalUnion(Set):
    """Finite union of intervals of R, normalised to sorted disjoint pieces.

    Parameters
    ----------
    intervals : iterable of Interval
        Any intervals; overlapping ones and ones that touch at an included
        point are merged. An empty iterable gives the empty subset of R.

    Attributes
    ----------
    intervals : tuple of Interval
        The sorted, pairwise disjoint pieces.
    """

    __slots__ = ("intervals",)

    def __init__(self, intervals=()):
        if isinstance(intervals, Interval):
            raise TypeError(f"intervals must be an iterable of Interval, got the single interval {intervals!r}; wrap it in a list")
        try:
            intervals = tuple(intervals)
        except TypeError:
            raise TypeError(f"intervals must be an iterable of Interval, got intervals={intervals!r}") from None
        for i, piece in enumerate(intervals):
            if not isinstance(piece, Interval):
                raise TypeError(f"intervals[{i}] must be an Interval, got {piece!r}")
        self._init(intervals=_merge(intervals))

    @property
    def dim(self):
        return 1

    def is_empty(self):
        """Return whether the union has no piece."""
        return not self.intervals

    def contains(self, x):
        points, shape = _points(x, 1)
        result = np.zeros(points.shape[0], dtype=bool)
        for piece in self.intervals:
            result |= piece.contains(points[:, 0])
        return result.reshape(shape)

    def extension(self, r):
        r = _check_radius_r(r)
        return IntervalUnion(piece.extension(r) for piece in self.intervals)

    def complement(self):
        gaps = []
        a, left_closed = -mpmath.inf, False
        for piece in self.intervals:
            if piece.a > a or (piece.a == a and left_closed and not piece.left_closed):
                gaps.append(Interval(a, piece.a, left_closed=left_closed, right_closed=not piece.left_closed))
            a, left_closed = piece.b, not piece.right_closed
        if a < mpmath.inf:
            gaps.append(Interval(a, mpmath.inf, left_closed=left_closed))
        return IntervalUnion(gaps)

    def intersection(self, other):
        """Return the intersection with another Interval or IntervalUnion, as an IntervalUnion."""
        if not isinstance(other, (Interval, IntervalUnion)):
            raise TypeError(f"other must be an Interval or an IntervalUnion, got other={other!r}")
        others = other.intervals if isinstance(other, IntervalUnion) else (other,)
        pieces = (_intersect(p, q) for p in self.intervals for q in others)
        return IntervalUnion(p for p in pieces if p is not None)

    def shell(self, r):
        return self.extension(r).intersection(self.complement())

    def _key(self):
        return self.intervals

    def __repr__(self):
        return "IntervalUnion([" + ", ".join(repr(p) for p in self.intervals) + "])"
