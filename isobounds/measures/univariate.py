"""Univariate targets given by a frozen scipy.stats continuous distribution."""

import warnings

import mpmath
import numpy as np
import scipy.integrate
import scipy.stats

from .._validation import check_array, check_real
from ..sets import as_intervals
from ._base import Measure, _check_sample_size, _generator, _is_scalar

__all__ = ["UnivariateDistribution"]

_CANCELLATION_RATIO = 1e-3
"""Ratio of an interval's mass to the larger tail below which the density is integrated instead."""

_TAIL_RELATIVE_ERROR = 1e-15
"""Relative error assumed for scipy's float64 ``cdf`` and ``sf``, which bounds a difference of two tails."""

_QUAD_RELATIVE_TOLERANCE = 1e-13


class UnivariateDistribution(Measure):
    """Target on R given by a frozen ``scipy.stats`` continuous distribution.

    Masses are computed from scipy's float64 (double precision) ``cdf``,
    ``sf`` and ``pdf`` and returned as ``mpmath.mpf``: they are not exact at
    the working precision.

    - An interval above the median gets a difference of upper tails
      (``sf``), one below it a difference of distribution functions
      (``cdf``). So tails keep the relative precision of scipy's ``sf`` and
      ``cdf`` down to the smallest double (about 1e-13 for
      ``scipy.stats.norm`` at 30 standard deviations, scipy 1.17).
    - An interval that contains the median gets one minus the two tails, so
      the mass of its complement keeps their relative precision.
    - When the difference of the two tails would lose more than three
      digits, the mass is the integral of the density over the interval
      (``scipy.integrate.quad``) instead, whenever the integral's error
      estimate is smaller. So a shell far thinner than the spacing of
      float64 numbers at its position, such as ``[0.5, 0.5 + 1e-17]``, gets
      the mass ``pdf(0.5) * 1e-17`` and not 0.

    NOTE: bounds against this target inherit the float64 rounding of its
    masses. A model whose push-forward equals the target can get a total
    variation bound of about 1e-17 and a Kullback-Leibler bound of about
    1e-32 instead of 0. Use :class:`isobounds.measures.GaussianMixture` for
    Gaussian targets, whose masses are exact at the working precision.

    Parameters
    ----------
    frozen : scipy.stats frozen continuous distribution
        For example ``scipy.stats.t(df=3, loc=1)``.

    Examples
    --------
    >>> import scipy.stats
    >>> from isobounds.measures import UnivariateDistribution
    >>> from isobounds.sets import Interval
    >>> nu = UnivariateDistribution(scipy.stats.norm())
    >>> print(f"{float(nu.mass(Interval(30, 31))):.6e}")
    4.906714e-198
    """

    def __init__(self, frozen):
        if not isinstance(getattr(frozen, "dist", None), scipy.stats.rv_continuous):
            raise TypeError(
                "frozen must be a frozen scipy.stats continuous distribution such as "
                f"scipy.stats.norm(0, 1), got frozen={frozen!r}"
            )
        median = float(frozen.median())
        if not np.isfinite(median):
            raise ValueError(
                f"frozen must have a finite median, got median={median}; scipy returns nan for invalid "
                "parameters such as a negative scale"
            )
        self._frozen = frozen
        self._median = median

    @property
    def dim(self):
        return 1

    @property
    def frozen(self):
        """The wrapped frozen scipy.stats distribution."""
        return self._frozen

    def __repr__(self):
        args = ", ".join(repr(a) for a in self._frozen.args)
        kwds = ", ".join(f"{k}={v!r}" for k, v in self._frozen.kwds.items())
        inner = ", ".join(part for part in (args, kwds) if part)
        return f"UnivariateDistribution(scipy.stats.{self._frozen.dist.name}({inner}))"

    def _tail_difference(self, a, b):
        """Return the mass of ``[a, b]`` (float endpoints) from float64 tails, and the largest term, as mpf."""
        if a >= self._median:
            upper = mpmath.mpf(self._frozen.sf(a))
            return upper - mpmath.mpf(self._frozen.sf(b)), upper
        if b <= self._median:
            upper = mpmath.mpf(self._frozen.cdf(b))
            return upper - mpmath.mpf(self._frozen.cdf(a)), upper

        # One minus both tails, so that the mass of the complement, two small
        # tails, keeps their relative precision.
        return 1 - mpmath.mpf(self._frozen.cdf(a)) - mpmath.mpf(self._frozen.sf(b)), mpmath.mpf(1)

    def _interval_mass(self, a, b):
        """Return the mass of ``[a, b]`` (mpf endpoints), integrating the density when the tails cancel."""
        low, high = float(a), float(b)
        mass, upper = self._tail_difference(low, high)
        if not (np.isfinite(low) and np.isfinite(high)) or mass >= _CANCELLATION_RATIO * upper:
            return mass

        # The width comes from the mpf endpoints, because float(b) - float(a)
        # rounds a width below the float64 spacing at a to 0 or to that spacing.
        width = float(b - a)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.integrate.IntegrationWarning)
            integral, error = scipy.integrate.quad(lambda t: self._frozen.pdf(low + t), 0.0, width,
                                                   epsabs=0.0, epsrel=_QUAD_RELATIVE_TOLERANCE)
        # A density that underflows to 0 far in a heavy tail gives the integral 0 with error 0,
        # where the difference of the tails is still positive and accurate.
        tails_error = _TAIL_RELATIVE_ERROR * upper
        if integral > 0 and error < tails_error:
            return mpmath.mpf(integral)
        return mass

    def _mass_of(self, subset):
        union = as_intervals(subset)
        total = mpmath.fsum(self._interval_mass(p.a, p.b) for p in union.intervals)
        # Float rounding can push a sum of pieces slightly outside [0, 1].
        return min(max(total, mpmath.mpf(0)), mpmath.mpf(1))

    def _evaluate(self, function, x):
        # NaN raises ValueError naming x, as for the other measures; scipy returned NaN.
        if _is_scalar(x):
            return mpmath.mpf(float(function(float(check_real("x", x)))))
        return function(check_array("x", x, allow_inf=True))

    def pdf(self, x):
        """Density (float64): mpf for a scalar, numpy array for an array."""
        return self._evaluate(self._frozen.pdf, x)

    def logpdf(self, x):
        """Log-density (float64): mpf for a scalar, numpy array for an array."""
        return self._evaluate(self._frozen.logpdf, x)

    def cdf(self, x):
        """Distribution function (float64): mpf for a scalar, numpy array for an array."""
        return self._evaluate(self._frozen.cdf, x)

    def sf(self, x):
        """Upper tail ``P(X > x)`` (float64, scipy's ``sf``)."""
        return self._evaluate(self._frozen.sf, x)

    def sample(self, n, rng=None):
        """Draw ``n`` samples, shape (n,)."""
        n = _check_sample_size(n)
        return np.asarray(self._frozen.rvs(size=n, random_state=_generator(rng)), dtype=np.float64).reshape(n)
