"""Base class of the target measures and shared helpers."""

import abc
import numbers

import mpmath
import numpy as np

from .._precision import GUARD_DIGITS, get_dps, resolve_dps, workdps, workprec
from .._validation import is_array_input
from ..sets import EmptySet, Set, SetUnion, WholeSpace

__all__ = ["Measure", "MixtureWeights"]

# Bits that a difference of two nearly equal values may lose before it is
# recomputed with more precision: GUARD_DIGITS bits, about a third of the guard digits.
_ALLOWED_LOSS_BITS = GUARD_DIGITS


def _construction_precision():
    """Context in which measure parameters are converted to mpf."""
    return workdps(get_dps() + GUARD_DIGITS)


class MixtureWeights:
    """Mixture weights kept as converted and divided by their sum at the precision of each use.

    Float weights such as 0.3 and 0.7 are exact binary fractions whose sum
    is not exactly 1. Dividing them by their sum once, at the precision of
    construction, would fix the weights to that many digits, so a mass asked
    at ``dps=60`` of a mixture built at the default precision would be off
    by about 1e-42 relative. Here each call of :meth:`current` sums and
    divides at the precision in force (the sum with 64 extra bits), caching
    one tuple per precision. Weights whose sum is 1 at that precision are
    returned as they are.

    Parameters
    ----------
    values : sequence of mpf
        The checked weights, not yet divided by their sum.
    divide : bool, default True
        When False, the weights are used as given, for parameters of a
        target that was accepted without a check of its sum.
    """

    def __init__(self, values, divide=True):
        self._values = tuple(values)
        self._divide = divide
        self._by_precision = {}

    def __len__(self):
        return len(self._values)

    def as_float64(self):
        """Return a new float64 array of the weights, each the correctly rounded quotient."""
        with workprec(53):
            return np.array([float(w) for w in self.current()])

    def current(self):
        """Return the weights divided by their sum at the current precision, a tuple of mpf."""
        if not self._divide:
            return self._values
        prec = mpmath.mp.prec
        weights = self._by_precision.get(prec)
        if weights is None:
            weights = self._by_precision[prec] = self._divided()
        return weights

    def _divided(self):
        # NOTE: an exact sum would need as many bits as the exponents of the
        # weights span (3e8 for a weight of 1e-100000000), so the sum is
        # rounded with 64 bits more than the working precision instead.
        with mpmath.workprec(mpmath.mp.prec + 64):
            total = mpmath.fsum(self._values)
        if total == 1:
            return self._values
        return tuple(mpmath.fdiv(value, total) for value in self._values)


def _is_scalar(x):
    return not is_array_input(x)


def _check_sample_size(n):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n must be a nonnegative integer number of samples, got n={n!r}")
    if n < 0:
        raise ValueError(f"n must be a nonnegative integer number of samples, got n={n}")
    return int(n)


def _generator(rng):
    """Return ``rng`` as a numpy Generator (a seed, None or a Generator are accepted)."""
    try:
        return np.random.default_rng(rng)
    except (TypeError, ValueError):
        raise TypeError(f"rng must be a numpy.random.Generator or an integer seed, got rng={rng!r}") from None


# Beyond this many extra bits (about 30,000 digits) a difference that is
# still 0 is taken to be 0.
_MAX_EXTRA_PRECISION_BITS = 100_000


def stable_difference(compute):
    """Return ``first - second`` from ``compute() -> (first, second)`` without cancellation.

    ``compute`` evaluates both terms at the current mpmath precision. When
    the difference is smaller than the larger term by more than
    ``2**_ALLOWED_LOSS_BITS``, both are recomputed with as many extra bits as
    were lost, and the precision is doubled for as long as the difference
    comes out as 0 (up to ``_MAX_EXTRA_PRECISION_BITS`` more bits, beyond
    which a zero difference is returned as 0).

    NOTE: a difference that is exactly 0, as for two equal inputs, is
    recomputed up to that maximum, which takes minutes for the
    noncentral chi-square tails. ``compute`` returns only the two values, not
    whether its inputs are equal, so callers return 0 themselves for equal
    inputs (an empty annulus or slab).
    """
    extra_bits = 0
    while True:
        with workprec(mpmath.mp.prec + extra_bits):
            first, second = compute()
            difference = first - second
        scale = max(abs(first), abs(second))
        if scale == 0 or (difference != 0 and scale / abs(difference) < 2 ** (_ALLOWED_LOSS_BITS + extra_bits)):
            return +difference
        if extra_bits > _MAX_EXTRA_PRECISION_BITS:
            return +difference
        if difference == 0:
            extra_bits = 2 * extra_bits + mpmath.mp.prec
        else:
            extra_bits += int(mpmath.log(scale / abs(difference), 2)) + 20


class Measure(abc.ABC):
    """Probability measure on R^dim whose masses of sets can be computed.

    Subclasses define ``dim``, ``_mass_of`` (mass of a set at the current
    mpmath precision, which :meth:`mass` raises by the guard digits) and
    ``sample``.
    """

    @property
    @abc.abstractmethod
    def dim(self):
        """Dimension d of the space R^d carrying the measure."""

    @abc.abstractmethod
    def _mass_of(self, subset):
        """Mass of a set of the right dimension, at the current mpmath precision."""

    @abc.abstractmethod
    def sample(self, n, rng=None):
        """Draw ``n`` independent samples: shape (n,) in one dimension, (n, dim) otherwise."""

    def check_set(self, subset):
        """Raise unless ``subset`` is an isobounds set of dimension ``self.dim``."""
        if not isinstance(subset, Set):
            raise TypeError(
                f"set must be an isobounds.sets set such as Interval, HalfSpace or Ball, got set={subset!r}"
            )
        if subset.dim != self.dim:
            raise ValueError(
                f"set has dimension {subset.dim} but the {type(self).__name__} has dimension {self.dim}; "
                f"pass a set in R^{self.dim}"
            )

    def mass(self, set, *, dps=None):  # noqa: A002 - the name of the mathematical argument
        """Return the mass of a set as an ``mpmath.mpf`` at the working precision.

        Parameters
        ----------
        set : isobounds.sets.Set
            A set of dimension ``self.dim``.
        dps : int, optional
            Significant digits of the result (default: the working precision).

        Raises
        ------
        TypeError
            If ``set`` is not an isobounds set.
        ValueError
            If its dimension differs from ``self.dim``.
        NotImplementedError
            For a kind of set that this measure cannot measure exactly.
        """
        self.check_set(set)
        dps = resolve_dps(dps)
        with workdps(dps + GUARD_DIGITS):
            value = self._mass(set)

        # Rounding in a sum of component masses can step just outside [0, 1].
        value = min(max(value, mpmath.mpf(0)), mpmath.mpf(1))
        with workdps(dps):
            return +value

    def _mass(self, subset):
        if isinstance(subset, EmptySet):
            return mpmath.mpf(0)
        if isinstance(subset, WholeSpace):
            return mpmath.mpf(1)
        if isinstance(subset, SetUnion) and self.dim > 1:
            return mpmath.fsum(self._mass(piece) for piece in subset.pieces)
        return self._mass_of(subset)
