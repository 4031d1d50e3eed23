r"""Half-spaces, slabs, balls, annuli and ball complements in R^d.

Boundary convention: a half-space and a ball are closed, a slab is
``{lower < <u, x> <= upper}``, an annulus ``{inner < |x - c| <= outer}`` and
a ball complement ``{|x - c| > radius}``, so that the shell of a half-space
is a slab and the shell of a ball an annulus, exactly.

NOTE: beyond that the boundaries are not tracked, in one dimension as in
more: the extension and shell of a ball complement, of a slab and of an
annulus (whose closed r-extensions would need a closed lower level), the
outer rim of the shell of a slab or annulus complement, and the complement
of a half-space or a slab, differ from the exact set by a hyperplane or a
sphere (two points in one dimension). That changes no mass of a measure
with a density, but an :class:`~isobounds.measures.EmpiricalMeasure`
counts a sample lying exactly on such a boundary by the ``contains`` rule
of the returned set: in R, ``Slab(1, 0, 1).extension(0.5)`` is
``(-0.5, 1.5]`` and misses a sample at -0.5. In one dimension, convert to
intervals first (:func:`isobounds.sets.as_intervals`), whose extension,
shell and complement are exact.
"""

import mpmath
import numpy as np

from .._precision import exact_dot, workprec
from .._validation import check_finite, check_nonnegative
from ._base import (
    EmptySet,
    Set,
    SetUnion,
    WholeSpace,
    _add_exact,
    _at_least,
    _at_most,
    _check_radius_r,
    _check_vector,
    _construction_precision,
    _fmt,
    _fmt_vector,
    _points,
    _sub_exact,
)

__all__ = ["HalfSpace", "Slab", "SlabComplement", "Ball", "Annulus", "AnnulusComplement", "BallComplement"]


def _unit_normal(normal):
    """Return ``(u, |normal|)`` with ``u = normal / |normal|``; a unit vector is kept as is."""
    length = mpmath.sqrt(mpmath.fsum(c * c for c in normal))
    if length == 0:
        raise ValueError(f"normal must be a nonzero vector, got normal={_fmt_vector(normal)}")
    if len(normal) == 1:
        # In one dimension the unit normal is exactly +1 or -1, so that ``<u, x>`` is
        # exact and the set agrees with its intervals (``as_intervals``).
        (c,) = normal
        return (mpmath.mpf(1 if c > 0 else -1),), (c if c > 0 else mpmath.fneg(c, exact=True))
    if abs(length - 1) <= 4 * mpmath.eps:
        return normal, mpmath.mpf(1)
    return tuple(c / length for c in normal), length


def _divide_keeping_bits(values, length):
    """Return the tuple of ``value / length`` without rounding away the bits of the values.

    Decimal strings keep all their digits on conversion, so a thin slab
    such as ``(10, "10.000000000000000000001")`` has endpoints with more bits
    than the working precision. A length of 1 leaves them as they are. Any
    other length divides all of them with as many extra bits as the longest
    mantissa among them, so the difference of two quotients keeps the
    relative accuracy of ``length``.
    """
    if length == 1:
        return tuple(values)
    extra_bits = max(value._mpf_[3] for value in values)
    with workprec(mpmath.mp.prec + extra_bits):
        return tuple(value / length for value in values)


def _within_1d(points, center, low, low_closed, high, high_closed):
    """Tell which points of shape (n, 1) lie at a distance from ``center`` between ``low`` and ``high``, exactly.

    The distance ``|t - c|`` rounded to float64 misplaces points next to
    ``c +- low`` or ``c +- high``, so ``t`` is compared with the exact
    endpoints instead. Each bound is included when its flag is set, and
    ``high`` may be ``inf``, which no finite distance reaches.
    """
    t = points[:, 0]
    (c,) = center
    inside = np.zeros(t.shape, dtype=bool)
    left = _at_least(t, _sub_exact(c, high), high_closed) & _at_most(t, _sub_exact(c, low), low_closed)
    right = _at_least(t, _add_exact(c, low), low_closed) & _at_most(t, _add_exact(c, high), high_closed)
    inside |= left | right
    if high == mpmath.inf:
        # An infinite point is at infinite distance, beyond every finite ``low``.
        inside |= np.isinf(t)
    return inside


def _projection(points, u):
    return points @ np.array([float(c) for c in u])


def _distance(points, center):
    """Euclidean distances from the rows of ``points`` to ``center``, in float64.

    The differences are scaled by their largest magnitude before squaring, so
    that a distance near the float64 limit (``1e308``) does not overflow to inf
    through its square.

    NOTE: a difference that itself exceeds the float64 range is inf, and a
    distance in the subnormal range (below about 2.2e-308) keeps only the
    few bits of a subnormal: the point (5e-324, 5e-324) is at the computed
    distance 5e-324 from the origin, so ``Ball((0, 0), 5e-324)`` contains it.
    One-dimensional balls, annuli and ball complements do not use this
    function and compare exactly.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        difference = points - np.array([float(c) for c in center])
        scale = np.max(np.abs(difference), axis=1)
        safe = np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
        distance = safe * np.sqrt(np.sum((difference / safe[:, None]) ** 2, axis=1))
    return np.where(np.isfinite(scale), distance, np.inf)


class HalfSpace(Set):
    r"""Closed half-space :math:`\{x \in R^d : \langle n, x \rangle \le \text{offset}\}`.

    Stored with the unit normal ``u = n / |n|`` and the offset divided by
    ``|n|``, so ``HalfSpace((2, 0), 2) == HalfSpace((1, 0), 1)``.

    Parameters
    ----------
    normal : scalar or vector of finite reals, nonzero
        Outer normal ``n``; its length is the dimension d (a scalar means d = 1).
    offset : finite real
        Right-hand side of the inequality.

    Attributes
    ----------
    normal : tuple of mpf
        Unit normal u.
    offset : mpf
        Offset in units of u: the set is ``{<u, x> <= offset}``.
    """

    __slots__ = ("normal", "offset")

    def __init__(self, normal, offset):
        normal = _check_vector("normal", normal)
        with _construction_precision():
            offset = check_finite("offset", offset)
            u, length = _unit_normal(normal)
            (offset,) = _divide_keeping_bits((offset,), length)
            self._init(normal=u, offset=offset)

    @property
    def dim(self):
        return len(self.normal)

    def contains(self, x):
        points, shape = _points(x, self.dim)
        return _at_most(_projection(points, self.normal), self.offset, True).reshape(shape)

    def extension(self, r):
        """Return ``HalfSpace(u, offset + r)``."""
        r = _check_radius_r(r)
        with _construction_precision():
            return HalfSpace._from_unit(self.normal, offset=_add_exact(self.offset, r))

    def shell(self, r):
        """Return ``Slab(u, offset, offset + r)``, or the empty set for ``r = 0``."""
        r = _check_radius_r(r)
        if r == 0:
            return EmptySet(self.dim)
        with _construction_precision():
            return Slab._from_unit(self.normal, lower=self.offset, upper=_add_exact(self.offset, r))

    def complement(self):
        """Return the opposite closed half-space ``{<u, x> >= offset}``, which shares the boundary."""
        with _construction_precision():
            # Exact negation, so the complement's normal is exactly -u and its offset exactly -offset.
            return HalfSpace._from_unit(_negated(self.normal), offset=mpmath.fneg(self.offset, exact=True))

    def _interiors_overlap(self, other):
        if isinstance(other, Ball):
            return _ball_meets_flat(other, self)
        return _flat_interiors_overlap(self, other)

    def _key(self):
        return (self.normal, self.offset)

    def __repr__(self):
        return f"HalfSpace(normal={_fmt_vector(self.normal)}, offset={_fmt(self.offset)})"


class Slab(Set):
    r"""Slab :math:`\{x \in R^d : \text{lower} < \langle n, x \rangle \le \text{upper}\}`.

    Stored with the unit normal ``u = n / |n|`` and the bounds divided by
    ``|n|``: ``Slab((1, 1), 0, 2)`` is stored as ``{0 < <u, x> <= sqrt(2)}``
    with ``u = (1, 1) / sqrt(2)``.

    Parameters
    ----------
    normal : scalar or vector of finite reals, nonzero
        Normal direction ``n``; its length is the dimension d.
    lower, upper : finite reals, ``lower <= upper``
        Bounds on ``<n, x>``. The slab is empty when they are equal.

    Attributes
    ----------
    normal : tuple of mpf
        Unit normal u.
    lower, upper : mpf
        Bounds in units of u: the set is ``{lower < <u, x> <= upper}``.
    """

    __slots__ = ("normal", "lower", "upper")

    def __init__(self, normal, lower, upper):
        normal = _check_vector("normal", normal)
        with _construction_precision():
            lower = check_finite("lower", lower)
            upper = check_finite("upper", upper)
            if lower > upper:
                raise ValueError(f"lower must not exceed upper, got lower={_fmt(lower)} and upper={_fmt(upper)}")
            u, length = _unit_normal(normal)
            lower, upper = _divide_keeping_bits((lower, upper), length)
            self._init(normal=u, lower=lower, upper=upper)

    @property
    def dim(self):
        return len(self.normal)

    @property
    def width(self):
        """Width ``upper - lower`` along the unit normal."""
        return self.upper - self.lower

    def contains(self, x):
        points, shape = _points(x, self.dim)
        t = _projection(points, self.normal)
        return (_at_least(t, self.lower, False) & _at_most(t, self.upper, True)).reshape(shape)

    def extension(self, r):
        """Return ``Slab(u, lower - r, upper + r)``, or the empty set when the slab is empty."""
        r = _check_radius_r(r)
        if self.lower == self.upper:
            # The empty set has no point within distance r.
            return EmptySet(self.dim)
        with _construction_precision():
            return Slab._from_unit(self.normal, lower=_sub_exact(self.lower, r), upper=_add_exact(self.upper, r))

    def shell(self, r):
        """Return the two slabs of width r on either side, as a :class:`SetUnion` (empty for an empty slab)."""
        r = _check_radius_r(r)
        if r == 0 or self.lower == self.upper:
            return EmptySet(self.dim)
        with _construction_precision():
            below = Slab._from_unit(self.normal, lower=_sub_exact(self.lower, r), upper=self.lower)
            above = Slab._from_unit(self.normal, lower=self.upper, upper=_add_exact(self.upper, r))
        return SetUnion([below, above])

    def complement(self):
        """Return ``{<u, x> <= lower} U {<u, x> >= upper}`` as a :class:`SlabComplement`, or the whole space."""
        if self.lower == self.upper:
            return WholeSpace(self.dim)
        return SlabComplement(self)

    # The same pairs as for a half-space, decided by the same functions.
    _interiors_overlap = HalfSpace._interiors_overlap

    def _key(self):
        return (self.normal, self.lower, self.upper)

    def __repr__(self):
        return f"Slab(normal={_fmt_vector(self.normal)}, lower={_fmt(self.lower)}, upper={_fmt(self.upper)})"


def _check_radius(name, radius):
    with _construction_precision():
        return check_nonnegative(name, radius)


class Ball(Set):
    r"""Closed ball :math:`\{x : |x - c| \le \text{radius}\}` in R^d.

    Parameters
    ----------
    center : scalar or vector of finite reals
        Centre c; its length is the dimension.
    radius : finite real, >= 0
        A zero radius gives the single point c.
    """

    __slots__ = ("center", "radius")

    def __init__(self, center, radius):
        self._init(center=_check_vector("center", center), radius=_check_radius("radius", radius))

    @property
    def dim(self):
        return len(self.center)

    def contains(self, x):
        points, shape = _points(x, self.dim)
        if self.dim == 1:
            return _within_1d(points, self.center, mpmath.mpf(0), True, self.radius, True).reshape(shape)
        return (_distance(points, self.center) <= float(self.radius)).reshape(shape)

    def extension(self, r):
        """Return ``Ball(c, radius + r)``."""
        r = _check_radius_r(r)
        with _construction_precision():
            return Ball(self.center, _add_exact(self.radius, r))

    def shell(self, r):
        """Return ``Annulus(c, radius, radius + r)``, or the empty set for ``r = 0``."""
        r = _check_radius_r(r)
        if r == 0:
            return EmptySet(self.dim)
        with _construction_precision():
            return Annulus(self.center, self.radius, _add_exact(self.radius, r))

    def complement(self):
        """Return ``BallComplement(c, radius)``."""
        return BallComplement(self.center, self.radius)

    def _interiors_overlap(self, other):
        if isinstance(other, (HalfSpace, Slab)):
            return _ball_meets_flat(self, other)
        if not isinstance(other, Ball):
            return None
        if self.radius == 0 or other.radius == 0:
            return False
        # Exact arithmetic, so that balls that only touch are never taken to overlap.
        difference = [mpmath.fsub(u, v, exact=True) for u, v in zip(self.center, other.center)]
        squared_distance = exact_dot(difference, difference)
        reach = mpmath.fadd(self.radius, other.radius, exact=True)
        return squared_distance < mpmath.fmul(reach, reach, exact=True)

    def _key(self):
        return (self.center, self.radius)

    def __repr__(self):
        return f"Ball(center={_fmt_vector(self.center)}, radius={_fmt(self.radius)})"


class Annulus(Set):
    r"""Spherical shell :math:`\{x : \text{inner} < |x - c| \le \text{outer}\}`.

    Parameters
    ----------
    center : scalar or vector of finite reals
    inner, outer : finite reals, ``0 <= inner <= outer``
        The annulus is empty when they are equal.
    """

    __slots__ = ("center", "inner", "outer")

    def __init__(self, center, inner, outer):
        center = _check_vector("center", center)
        inner = _check_radius("inner", inner)
        outer = _check_radius("outer", outer)
        if inner > outer:
            raise ValueError(f"inner must not exceed outer, got inner={_fmt(inner)} and outer={_fmt(outer)}")
        self._init(center=center, inner=inner, outer=outer)

    @property
    def dim(self):
        return len(self.center)

    def contains(self, x):
        points, shape = _points(x, self.dim)
        if self.dim == 1:
            return _within_1d(points, self.center, self.inner, False, self.outer, True).reshape(shape)
        distance = _distance(points, self.center)
        return ((distance > float(self.inner)) & (distance <= float(self.outer))).reshape(shape)

    def extension(self, r):
        """Return ``Annulus(c, inner - r, outer + r)``, or ``Ball(c, outer + r)`` once ``r >= inner``.

        An empty annulus (``inner == outer``) has the empty set as extension.
        """
        r = _check_radius_r(r)
        if self.inner == self.outer:
            return EmptySet(self.dim)
        with _construction_precision():
            if r >= self.inner:
                return Ball(self.center, _add_exact(self.outer, r))
            return Annulus(self.center, _sub_exact(self.inner, r), _add_exact(self.outer, r))

    def shell(self, r):
        """Return the inner and outer rims of width r, as a :class:`SetUnion`.

        The inner rim is ``Annulus(c, inner - r, inner)``, or ``Ball(c, inner)``
        once ``r >= inner`` (the centre point when ``inner = 0``).
        """
        r = _check_radius_r(r)
        if r == 0 or self.inner == self.outer:
            return EmptySet(self.dim)
        with _construction_precision():
            outside = Annulus(self.center, self.outer, _add_exact(self.outer, r))
            # With inner = 0 the centre is at distance 0 from the annulus but not in it, so the
            # inner rim is the point Ball(c, 0), as for the shell of BallComplement(c, 0).
            if r >= self.inner:
                inside = Ball(self.center, self.inner)
            else:
                inside = Annulus(self.center, _sub_exact(self.inner, r), self.inner)
        return SetUnion([inside, outside])

    def complement(self):
        """Return ``Ball(c, inner) U BallComplement(c, outer)`` as an :class:`AnnulusComplement`, or the whole space."""
        if self.inner == self.outer:
            return WholeSpace(self.dim)
        return AnnulusComplement(self)

    def _key(self):
        return (self.center, self.inner, self.outer)

    def __repr__(self):
        return f"Annulus(center={_fmt_vector(self.center)}, inner={_fmt(self.inner)}, outer={_fmt(self.outer)})"


class BallComplement(Set):
    r"""Open complement of a ball, :math:`\{x : |x - c| > \text{radius}\}`.

    Parameters
    ----------
    center : scalar or vector of finite reals
    radius : finite real, >= 0
    """

    __slots__ = ("center", "radius")

    def __init__(self, center, radius):
        self._init(center=_check_vector("center", center), radius=_check_radius("radius", radius))

    @property
    def dim(self):
        return len(self.center)

    def contains(self, x):
        points, shape = _points(x, self.dim)
        if self.dim == 1:
            return _within_1d(points, self.center, self.radius, False, mpmath.inf, True).reshape(shape)
        return (_distance(points, self.center) > float(self.radius)).reshape(shape)

    def extension(self, r):
        """Return ``BallComplement(c, radius - r)``, or the whole space once ``r >= radius``."""
        r = _check_radius_r(r)
        if r >= self.radius:
            return WholeSpace(self.dim)
        with _construction_precision():
            return BallComplement(self.center, _sub_exact(self.radius, r))

    def shell(self, r):
        """Return ``Annulus(c, radius - r, radius)``, or ``Ball(c, radius)`` once ``r >= radius``."""
        r = _check_radius_r(r)
        if r == 0:
            return EmptySet(self.dim)
        if r >= self.radius:
            return Ball(self.center, self.radius)
        with _construction_precision():
            return Annulus(self.center, _sub_exact(self.radius, r), self.radius)

    def complement(self):
        """Return ``Ball(c, radius)``."""
        return Ball(self.center, self.radius)

    def _key(self):
        return (self.center, self.radius)

    def __repr__(self):
        return f"BallComplement(center={_fmt_vector(self.center)}, radius={_fmt(self.radius)})"


class _BandComplement(SetUnion):
    """Complement of a band (a slab or an annulus) between the levels ``low < high`` of one coordinate.

    The coordinate is ``<u, x>`` for a slab and ``|x - c|`` for an annulus.
    The r-extension is the complement of the band narrowed by ``r`` on each
    side, or the whole space once ``2 r >= high - low``. The shell is the two
    rims of width ``r`` inside the band, or the whole band once the rims
    meet. Subclasses give the levels (:meth:`_levels`) and build a band of
    their kind between two levels (:meth:`_band_between`).
    """

    __slots__ = ("_band",)

    def __init__(self, band, pieces):
        super().__init__(pieces)
        self._init(_band=band)

    def _levels(self):
        raise NotImplementedError

    @staticmethod
    def _rims_meet(r, low, high):
        """Tell whether ``2 r >= high - low``, in exact arithmetic.

        The rounded width ``high - low`` of a band whose levels carry more
        bits than the working precision (a thin slab built from decimal
        strings) can equal ``2 r`` when the exact width exceeds it.
        """
        return mpmath.fmul(2, r, exact=True) >= mpmath.fsub(high, low, exact=True)

    def _band_between(self, low, high):
        raise NotImplementedError

    def extension(self, r):
        """Return the complement of the band narrowed by ``r`` on each side, or the whole space once they meet."""
        r = _check_radius_r(r)
        low, high = self._levels()
        if self._rims_meet(r, low, high):
            return WholeSpace(self.dim)
        with _construction_precision():
            narrowed = self._band_between(_add_exact(low, r), _sub_exact(high, r))
        return type(self)(narrowed)

    def shell(self, r):
        """Return the two rims of width ``r`` inside the band, or the band once they meet."""
        r = _check_radius_r(r)
        low, high = self._levels()
        if r == 0:
            return EmptySet(self.dim)
        if self._rims_meet(r, low, high):
            return self._band
        with _construction_precision():
            low_rim = self._band_between(low, _add_exact(low, r))
            high_rim = self._band_between(_sub_exact(high, r), high)
        return SetUnion([low_rim, high_rim])

    def complement(self):
        """Return the band."""
        return self._band

    def _key(self):
        return self._band._key()

    def __repr__(self):
        return f"{type(self).__name__}({self._band!r})"


class SlabComplement(_BandComplement):
    r"""Complement :math:`\{\langle u, x \rangle \le \text{lower}\} \cup \{\langle u, x \rangle \ge \text{upper}\}` of a slab.

    A :class:`SetUnion` of two half-spaces (so every measure takes its mass
    as theirs) that also has an extension and a shell. The r-extension is
    the complement of the slab narrowed by ``r`` on each side. The shell is
    the two rims of width ``r`` inside the slab, or the whole slab once
    ``2 r >= upper - lower``. Built by :meth:`Slab.complement`.

    Parameters
    ----------
    slab : Slab
        The slab left out, with ``lower < upper``.
    """

    __slots__ = ()

    def __init__(self, slab):
        if not isinstance(slab, Slab):
            raise TypeError(f"slab must be a Slab with lower < upper, got slab={slab!r} of type {type(slab).__name__}")
        if not slab.lower < slab.upper:
            raise ValueError(f"slab must be a Slab with lower < upper, got slab={slab!r}")
        with _construction_precision():
            below = HalfSpace._from_unit(slab.normal, offset=slab.lower)
            above = HalfSpace._from_unit(_negated(slab.normal), offset=mpmath.fneg(slab.upper, exact=True))
        super().__init__(slab, [below, above])

    @property
    def slab(self):
        """The slab left out."""
        return self._band

    def _levels(self):
        return self._band.lower, self._band.upper

    def _band_between(self, low, high):
        return Slab._from_unit(self._band.normal, lower=low, upper=high)


class AnnulusComplement(_BandComplement):
    r"""Complement :math:`\{|x - c| \le \text{inner}\} \cup \{|x - c| > \text{outer}\}` of an annulus.

    A :class:`SetUnion` of a ball and a ball complement that also has an
    extension and a shell. The r-extension is the complement of the annulus
    narrowed by ``r`` on each side. The shell is the two rims of width ``r``
    inside the annulus, or the whole annulus once ``2 r >= outer - inner``.
    With ``inner = 0`` the ball is the centre point, whose r-extension is
    the ball of radius ``r``, so the inner rim is ``Annulus(c, 0, r)``.
    Built by :meth:`Annulus.complement`.

    Parameters
    ----------
    annulus : Annulus
        The annulus left out, with ``inner < outer``.
    """

    __slots__ = ()

    def __init__(self, annulus):
        if not isinstance(annulus, Annulus):
            raise TypeError(
                f"annulus must be an Annulus with inner < outer, got annulus={annulus!r} of type {type(annulus).__name__}"
            )
        if not annulus.inner < annulus.outer:
            raise ValueError(f"annulus must be an Annulus with inner < outer, got annulus={annulus!r}")
        super().__init__(annulus, [Ball(annulus.center, annulus.inner), BallComplement(annulus.center, annulus.outer)])

    @property
    def annulus(self):
        """The annulus left out."""
        return self._band

    def _levels(self):
        return self._band.inner, self._band.outer

    def _band_between(self, low, high):
        return Annulus(self._band.center, low, high)


def _open_interval_along(piece, u):
    """Return the interior of a half-space or slab with normal ``+-u`` as an open interval of ``<u, x>``, else None.

    ``None`` also covers a normal that is not exactly ``u`` or ``-u``. The
    interval is ``(low, high)`` with infinite ends allowed.
    """
    if isinstance(piece, HalfSpace):
        low, high = mpmath.ninf, piece.offset
    elif isinstance(piece, Slab):
        low, high = piece.lower, piece.upper
    else:
        return None
    if _same_direction(piece.normal, u):
        return low, high
    if _same_direction(_negated(piece.normal), u):
        return mpmath.fneg(high, exact=True), mpmath.fneg(low, exact=True)
    return None


def _negated(vector):
    """Return ``-vector`` as a tuple of mpf, exactly (``-x`` would round to the working precision)."""
    return tuple(mpmath.fneg(c, exact=True) for c in vector)


def _same_direction(u, v):
    """Tell whether two stored unit normals are equal.

    The comparison is exact: stored normals that differ in any bit are not
    parallel, and the hyperplanes of two such sets cross. Complements keep
    exactly negated normals, so a set and its complement stay disjoint.
    """
    return tuple(u) == tuple(v)


def _flat_interiors_overlap(first, second):
    """Tell whether the interiors of two half-spaces or slabs meet, in exact arithmetic; None for other pieces.

    With normals ``u`` and ``+-u`` the sets are intervals of ``<u, x>``.
    Other normals are not parallel, and in two or more dimensions two
    nonempty sets bounded by crossing hyperplanes always meet.
    """
    if not (isinstance(first, (HalfSpace, Slab)) and isinstance(second, (HalfSpace, Slab))):
        return None
    for piece in (first, second):
        if isinstance(piece, Slab) and piece.lower == piece.upper:
            return False
    a = _open_interval_along(first, first.normal)
    b = _open_interval_along(second, first.normal)
    if b is None:
        return True
    return max(a[0], b[0]) < min(a[1], b[1])


def _ball_meets_flat(ball, piece):
    """Tell whether the open ball meets the interior of a half-space or slab, in exact arithmetic; None for other pieces.

    With ``p = <u, c>`` for the stored normal ``u`` (unit up to rounding),
    the ball's projection is the open interval ``p +- R |u|``. The test
    compares squares, so a ball that only touches the boundary never counts.

    NOTE: the test is exact for the stored unit normal, which is rounded. A
    ball tangent to a slab with normal (3, 4) can then overlap the stored slab
    by a rounding error (about 1e-41 at the default precision) and raise in
    :class:`SetUnion`. A normal whose unit vector is exact in binary, such as
    (1, 0), avoids that.
    """
    interval = _open_interval_along(piece, piece.normal)
    if interval is None or not isinstance(ball, Ball):
        return None
    low, high = interval
    if ball.radius == 0 or low >= high:
        return False

    position = exact_dot(piece.normal, ball.center)
    reach_squared = mpmath.fmul(mpmath.fmul(ball.radius, ball.radius, exact=True), exact_dot(piece.normal, piece.normal), exact=True)

    def within_reach(gap):
        # True when the open ball extends past a boundary at distance ``gap >= 0`` (in units of <u, x>).
        return mpmath.fmul(gap, gap, exact=True) < reach_squared

    above_low = low == mpmath.ninf or position > low or within_reach(mpmath.fsub(low, position, exact=True))
    below_high = high == mpmath.inf or position < high or within_reach(mpmath.fsub(position, high, exact=True))
    return bool(above_low and below_high)
