"""Sets of R^d with their closed r-extensions, shells and complements.

The isoperimetric bounds compare the masses of a set ``A``, of its closed
r-extension ``A_r = {x : dist(x, A) <= r}`` and of its shell ``A_r \\ A``.
The sets here are the ones whose masses the targets of
:mod:`isobounds.measures` compute exactly: intervals and finite unions of
intervals on R, half-spaces, slabs, balls, annuli and ball complements in
R^d, the empty set and the whole space.
"""

from ._base import EmptySet, Set, SetUnion, WholeSpace
from ._conversion import as_intervals
from .euclidean import Annulus, AnnulusComplement, Ball, BallComplement, HalfSpace, Slab, SlabComplement
from .intervals import Interval, IntervalUnion

__all__ = [
    "Set",
    "EmptySet",
    "WholeSpace",
    "SetUnion",
    "Interval",
    "IntervalUnion",
    "HalfSpace",
    "Slab",
    "SlabComplement",
    "Ball",
    "Annulus",
    "AnnulusComplement",
    "BallComplement",
    "as_intervals",
]
