"""Empirical measures: the uniform law on a finite sample."""

import fractions

import mpmath
import numpy as np

from .._validation import check_array
from ._base import Measure, _check_sample_size, _generator, _is_scalar

__all__ = ["EmpiricalMeasure"]


class EmpiricalMeasure(Measure):
    r"""Empirical measure :math:`\frac1n \sum_i \delta_{x_i}` of a sample.

    Parameters
    ----------
    samples : array_like of shape (n,) or (n, d), n >= 1
        Finite points; shape (n,) and (n, 1) both give d = 1.

    Notes
    -----
    The mass of a set is the fraction ``count / n`` of samples it contains
    (by the set's ``contains``, evaluated in float64), rounded once to the
    working precision; :meth:`fraction` returns it as an exact
    ``fractions.Fraction``. Samples lying exactly on the boundary of a set
    count by the boundary convention of that set.
    """

    def __init__(self, samples):
        array = check_array("samples", samples)
        if array.ndim == 2 and array.shape[1] == 1:
            array = array[:, 0]
        if array.ndim not in (1, 2) or array.shape[0] == 0 or array.size == 0:
            raise ValueError(f"samples must have shape (n,) or (n, d) with n >= 1, got shape {array.shape}")
        array = array.copy()
        array.setflags(write=False)
        self._samples = array

    @property
    def dim(self):
        return 1 if self._samples.ndim == 1 else self._samples.shape[1]

    @property
    def samples(self):
        """The sample points, a read-only float64 array."""
        return self._samples

    @property
    def n_samples(self):
        """Number n of sample points."""
        return self._samples.shape[0]

    def __repr__(self):
        return f"EmpiricalMeasure(n_samples={self.n_samples}, dim={self.dim})"

    def _count(self, subset):
        return int(np.count_nonzero(subset.contains(self._samples)))

    def _mass_of(self, subset):
        return mpmath.mpf(self._count(subset)) / self.n_samples

    def _mass(self, subset):
        # Counting with contains() also handles the empty set, the whole space and unions.
        return self._mass_of(subset)

    def fraction(self, set):  # noqa: A002 - the name of the mathematical argument
        """Return the mass of a set as an exact ``fractions.Fraction`` ``count / n``."""
        self.check_set(set)
        return fractions.Fraction(self._count(set), self.n_samples)

    def cdf(self, x):
        """Empirical distribution function (one dimension): mpf for a scalar, float64 for an array."""
        if self.dim != 1:
            raise ValueError(f"cdf is defined for one-dimensional samples, but these have dimension {self.dim}")
        # NaN would count as above every sample (searchsorted puts it last), giving cdf(nan) = 1.
        points = check_array("x", x, allow_inf=True)
        ordered = np.sort(self._samples)
        counts = np.searchsorted(ordered, points, side="right")
        if _is_scalar(x):
            return mpmath.mpf(int(counts)) / self.n_samples
        return counts / self.n_samples

    def sample(self, n, rng=None):
        """Resample ``n`` points with replacement."""
        n = _check_sample_size(n)
        indices = _generator(rng).integers(0, self.n_samples, size=n)
        return self._samples[indices]
