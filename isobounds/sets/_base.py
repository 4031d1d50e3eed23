"""Base class of the sets, the empty set, the whole space and disjoint unions.

Every set is an immutable subset of R^dim. Its parameters are stored as
``mpmath.mpf`` numbers converted at the working precision plus guard digits
at construction time, so build a set inside :func:`isobounds.precision` to
keep more digits of a string such as ``"1e-300"``. Membership tests
(``contains``) take numpy arrays of float64 points. They compare each point
with the exact parameters, so in one dimension a point on or next to an
endpoint is placed correctly. In more dimensions the projection or the
distance of a point is rounded to float64 before the comparison.
"""

import abc

import mpmath
import numpy as np

from .._precision import GUARD_DIGITS, get_dps, workdps
from .._validation import check_array, check_finite, check_nonnegative

__all__ = ["Set", "EmptySet", "WholeSpace", "SetUnion"]


def _construction_precision():
    """Context in which set parameters are converted to mpf."""
    return workdps(get_dps() + GUARD_DIGITS)


def _add_exact(x, y):
    """Return ``x + y`` without rounding, so that a radius far below the
    precision of ``x`` still gives a distinct endpoint (and a nonempty shell)."""
    if mpmath.isfinite(x) and mpmath.isfinite(y):
        return mpmath.fadd(x, y, exact=True)
    return x + y


def _sub_exact(x, y):
    """Return ``x - y`` without rounding (see :func:`_add_exact`)."""
    if mpmath.isfinite(x) and mpmath.isfinite(y):
        return mpmath.fsub(x, y, exact=True)
    return x - y


def _double_at_most(level):
    """Return the largest float64 that does not exceed the mpf ``level`` (``-inf`` below the float64 range)."""
    value = float(level)
    if mpmath.mpf(value) > level:
        value = float(np.nextafter(value, -np.inf))
    return value


def _double_at_least(level):
    """Return the smallest float64 that is not below the mpf ``level`` (``inf`` above the float64 range)."""
    value = float(level)
    if mpmath.mpf(value) < level:
        value = float(np.nextafter(value, np.inf))
    return value


def _at_least(t, level, closed):
    """Tell, without rounding, which float64 values of ``t`` satisfy ``t >= level`` (``t > level`` if not ``closed``).

    Rounding ``level`` to the nearest float64 would misplace a point lying
    between ``level`` and its rounded value: ``1.0 > 1 - 1e-30`` is true,
    but ``1.0 > float(1 - 1e-30)`` is false. Rounding ``level`` in the
    direction that keeps every float64 on the same side compares exactly.
    """
    if closed:
        return t >= _double_at_least(level)
    return t > _double_at_most(level)


def _at_most(t, level, closed):
    """Tell, without rounding, which float64 values of ``t`` satisfy ``t <= level`` (``t < level`` if not ``closed``)."""
    if closed:
        return t <= _double_at_most(level)
    return t < _double_at_least(level)


def _check_dim(dim):
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be a positive integer, got dim={dim!r}")
    if dim < 1:
        raise ValueError(f"dim must be a positive integer, got dim={dim}")
    return int(dim)


def _check_radius_r(r):
    """Convert the extension radius ``r`` to mpf and require ``0 <= r < inf``."""
    with _construction_precision():
        return check_nonnegative("r", r)


def _check_vector(name, values):
    """Convert a scalar or a 1D sequence of finite reals to a tuple of mpf."""
    if isinstance(values, bytes):
        raise TypeError(f"{name} must be a real number or a vector of real numbers, got {name}={values!r}")
    if isinstance(values, str):
        # A decimal string is a scalar, as it is for the radius or the offset: Ball("0.1", "0.2").
        values = [values]
    array = np.asarray(values, dtype=object)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a scalar or a 1D vector, got an array of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must have at least one coordinate, got an empty {name}")
    with _construction_precision():
        return tuple(check_finite(f"{name}[{i}]", v) for i, v in enumerate(array))


def _fmt(x):
    """Short decimal form of an mpf for reprs."""
    if mpmath.isinf(x):
        return "inf" if x > 0 else "-inf"
    return mpmath.nstr(x, 17, min_fixed=-4, max_fixed=17)


def _fmt_vector(v):
    if len(v) == 1:
        return _fmt(v[0])
    return "(" + ", ".join(_fmt(c) for c in v) + ")"


def _points(x, dim):
    """Return ``x`` as a float64 array of shape (n, dim) and the shape of the result.

    In one dimension every entry of ``x`` is a point. In higher dimension
    the last axis holds the coordinates, so a single point of shape (dim,)
    gives a result of shape ().
    """
    array = check_array("x", x, allow_inf=True)
    if dim == 1:
        if array.ndim >= 1 and array.shape[-1:] == (1,) and array.ndim == 2:
            return array.reshape(-1, 1), array.shape[:-1]
        return array.reshape(-1, 1), array.shape
    if array.ndim == 0 or array.shape[-1] != dim:
        raise ValueError(f"x must have its last axis of length dim={dim}, got x of shape {array.shape}")
    return array.reshape(-1, dim), array.shape[:-1]


def _rebuild_set(cls, fields):
    """Rebuild a pickled set of class ``cls`` from its slot values ``fields``."""
    instance = cls.__new__(cls)
    instance._init(**fields)
    return instance


class Set(abc.ABC):
    """Subset of R^dim with its closed r-extension, shell and complement.

    Subclasses define ``dim``, ``contains``, ``extension``, ``shell``,
    ``complement`` and ``_key`` (the tuple that ``==`` and ``hash`` compare).
    Instances are immutable.
    """

    __slots__ = ()

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable; build a new set instead")

    # An immutable set is its own copy. Pickling stores the slot values and restores
    # them without the setter above, which the default protocol for slots would call.

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        names = [name for klass in type(self).__mro__ for name in getattr(klass, "__slots__", ())]
        fields = {name: getattr(self, name) for name in names if hasattr(self, name)}
        return _rebuild_set, (type(self), fields)

    @classmethod
    def _from_unit(cls, normal, **fields):
        """Build a set from an already normalised ``normal`` and exact fields, without rounding them."""
        instance = cls.__new__(cls)
        instance._init(normal=normal, **fields)
        return instance

    def _init(self, **fields):
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def _interiors_overlap(self, other):
        """Tell whether the interiors of ``self`` and ``other`` meet; None when this pair is not checked."""
        return None

    @property
    @abc.abstractmethod
    def dim(self):
        """Dimension d of the ambient space R^d."""

    @abc.abstractmethod
    def contains(self, x):
        """Return a boolean array telling which points of ``x`` lie in the set.

        ``x`` has shape (n,) (or any shape) in one dimension and (n, dim)
        otherwise; the result has shape (n,). The points are float64 and are
        compared with the exact parameters (see the module docstring).
        """

    @abc.abstractmethod
    def extension(self, r):
        """Closed r-extension ``A_r = {x : dist(x, A) <= r}``, ``r >= 0``."""

    @abc.abstractmethod
    def shell(self, r):
        r"""Shell ``A_r \ A`` of width ``r >= 0`` (empty for ``r = 0`` and a closed set)."""

    @abc.abstractmethod
    def complement(self):
        """Complement ``R^d \\ A``."""

    @abc.abstractmethod
    def _key(self):
        """Tuple of the parameters compared by ``==``."""

    def __eq__(self, other):
        if type(self) is not type(other):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash((type(self).__name__, self._key()))


class EmptySet(Set):
    """The empty subset of R^dim.

    Parameters
    ----------
    dim : int, >= 1
    """

    __slots__ = ("_dim",)

    def __init__(self, dim=1):
        self._init(_dim=_check_dim(dim))

    @property
    def dim(self):
        return self._dim

    def contains(self, x):
        points, shape = _points(x, self._dim)
        return np.zeros(shape, dtype=bool)

    def extension(self, r):
        _check_radius_r(r)
        return self

    def shell(self, r):
        _check_radius_r(r)
        return self

    def complement(self):
        return WholeSpace(self._dim)

    def _key(self):
        return (self._dim,)

    def __repr__(self):
        return f"EmptySet(dim={self._dim})"


class WholeSpace(Set):
    """The whole space R^dim.

    Parameters
    ----------
    dim : int, >= 1
    """

    __slots__ = ("_dim",)

    def __init__(self, dim=1):
        self._init(_dim=_check_dim(dim))

    @property
    def dim(self):
        return self._dim

    def contains(self, x):
        points, shape = _points(x, self._dim)
        return np.ones(shape, dtype=bool)

    def extension(self, r):
        _check_radius_r(r)
        return self

    def shell(self, r):
        _check_radius_r(r)
        return EmptySet(self._dim)

    def complement(self):
        return EmptySet(self._dim)

    def _key(self):
        return (self._dim,)

    def __repr__(self):
        return f"WholeSpace(dim={self._dim})"


def _check_disjoint(pieces):
    """Raise ValueError when two pieces in more than one dimension have overlapping interiors.

    Only the pairs that ``_interiors_overlap`` decides (balls, half-spaces
    and slabs) are checked; it returns None for the others.
    """
    if pieces[0].dim == 1:
        return
    for i, first in enumerate(pieces):
        for j in range(i + 1, len(pieces)):
            overlap = first._interiors_overlap(pieces[j])
            if overlap is None:
                overlap = pieces[j]._interiors_overlap(first)
            if overlap:
                raise ValueError(
                    "pieces must be pairwise disjoint, because in more than one dimension the measures add their "
                    f"masses, but pieces[{i}]={first!r} and pieces[{j}]={pieces[j]!r} overlap; merge them into one "
                    "set or split them into disjoint parts"
                )


class SetUnion(Set):
    """Union of sets of the same dimension, pairwise disjoint in more than one dimension.

    In more than one dimension the measures other than
    :class:`~isobounds.measures.EmpiricalMeasure` take the mass of a
    ``SetUnion`` as the sum of the masses of its pieces. So there the pieces
    must be pairwise disjoint, up to a boundary of Lebesgue measure zero for
    measures with a density, and two balls, half-spaces or slabs (in any
    pairing) whose interiors meet raise ValueError. In one dimension every
    measure merges the pieces into disjoint intervals first, and an
    ``EmpiricalMeasure`` counts the points in the union in any dimension,
    so overlaps are harmless there. Shells
    and complements of slabs and annuli are returned in this form.

    NOTE: in more than one dimension, pairs involving other pieces
    (annuli, ball complements, nested unions) are not checked for overlap.

    Parameters
    ----------
    pieces : sequence of Set
        At least one set; all of the same dimension.

    Notes
    -----
    ``extension``, ``shell`` and ``complement`` raise
    ``NotImplementedError``: the extensions of disjoint pieces may overlap,
    so the union of extensions is not a disjoint union any more.
    """

    __slots__ = ("_pieces",)

    def __init__(self, pieces):
        pieces = tuple(pieces)
        if not pieces:
            raise ValueError("pieces must contain at least one set, got an empty sequence")
        for i, piece in enumerate(pieces):
            if not isinstance(piece, Set):
                raise TypeError(f"pieces[{i}] must be an isobounds set, got {piece!r}")
            if piece.dim != pieces[0].dim:
                raise ValueError(
                    f"pieces must share one dimension, got pieces[0].dim={pieces[0].dim} "
                    f"and pieces[{i}].dim={piece.dim}"
                )
        _check_disjoint(pieces)
        self._init(_pieces=pieces)

    @property
    def dim(self):
        return self._pieces[0].dim

    @property
    def pieces(self):
        """The sets of the union, a tuple (pairwise disjoint in more than one dimension)."""
        return self._pieces

    def contains(self, x):
        result = self._pieces[0].contains(x)
        for piece in self._pieces[1:]:
            result = result | piece.contains(x)
        return result

    def _not_implemented(self, what):
        raise NotImplementedError(
            f"SetUnion.{what} is not implemented: the {what}s of disjoint pieces may overlap; "
            "build the set from Interval/IntervalUnion in one dimension or handle the pieces one by one"
        )

    def extension(self, r):
        self._not_implemented("extension")

    def shell(self, r):
        self._not_implemented("shell")

    def complement(self):
        self._not_implemented("complement")

    def _key(self):
        return self._pieces

    def __repr__(self):
        return "SetUnion([" + ", ".join(repr(p) for p in self._pieces) + "])"
