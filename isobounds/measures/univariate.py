"""Univariate targets given by a frozen scipy.stats continuous distribution."""

import math
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

_ACCEPTED_RELATIVE_ERROR = 1e-11
"""Relative error bound of a difference of tails above which the density is integrated instead.

Tails in the float64 range never reach it once the mass exceeds ``_CANCELLATION_RATIO`` times the
larger tail. Tails taken from their logarithms (below about 1e-308) can reach it.
"""

_QUAD_RELATIVE_TOLERANCE = 1e-13

_SMALLEST_NORMAL = float(np.finfo(np.float64).tiny)
"""Smallest positive normal float64; a tail below it is taken from its logarithm."""

_DENSITY_FLOOR = 1e-300
"""Endpoint density below which the density is integrated relative to its value there, through ``logpdf``."""


class UnivariateDistribution(Measure):
    """Target on R given by a frozen ``scipy.stats`` continuous distribution.

    Masses are computed from scipy's float64 (double precision) ``cdf``,
    ``sf`` and ``pdf`` and returned as ``mpmath.mpf``: they are not exact at
    the working precision.

    - An interval above the median gets a difference of upper tails
      (``sf``), one below it a difference of distribution functions
      (``cdf``). So tails keep the relative precision of scipy's ``sf`` and
      ``cdf`` (about 1e-13 for ``scipy.stats.norm`` at 30 standard
      deviations, scipy 1.17). Below the normal float64 range (about
      1e-308) they come from ``logsf`` and ``logcdf``, where scipy has
      accurate ones: ``scipy.stats.norm`` gives the mass of
      ``[1000, inf)``, about 1e-217151, to about 1e-10 relative.
    - An interval that contains the median gets one minus the two tails, so
      the mass of its complement keeps their relative precision.
    - When the difference of the two tails would lose more than three
      digits, or its error bound exceeds 1e-11 relative, the mass is the
      integral of the density over the interval (``scipy.integrate.quad``)
      instead, whenever the integral's error estimate is smaller. So a
      shell far thinner than the spacing of float64 numbers at its
      position, such as ``[0.5, 0.5 + 1e-17]``, gets the mass
      ``pdf(0.5) * 1e-17`` and not 0.

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

    def _tail(self, x, upper):
        """Return ``P(X > x)`` (``upper``) or ``P(X <= x)`` as mpf, and a bound on its absolute error.

        A tail below the normal float64 range (about 2.2e-308) is 0 or a
        subnormal number with few bits, so it is taken from scipy's
        ``logsf`` or ``logcdf`` where that is finite: ``norm.logsf(40)`` is
        -804.6, the tail 3.7e-350. The logarithm's rounding error of about
        ``eps |log|`` becomes the relative error of the tail. Where the
        logarithm is not finite, the tail gets the absolute error 2.2e-308,
        so that a mass made of two such tails is integrated from the
        density instead.

        NOTE: scipy laws whose ``logsf`` or ``logcdf`` is ``log(sf)`` or
        ``log(cdf)`` (``scipy.stats.t`` or ``gamma`` in scipy 1.17) still
        give a tail of 0 below about 1e-308, or a subnormal one with a
        relative error bound that it does not have.
        """
        # Far in a tail some scipy laws overflow on the way to 0 or -inf (gumbel_r's cdf at -1e3).
        with np.errstate(over="ignore", divide="ignore", under="ignore"):
            value = float(self._frozen.sf(x) if upper else self._frozen.cdf(x))
            if value >= _SMALLEST_NORMAL:
                return mpmath.mpf(value), _TAIL_RELATIVE_ERROR * mpmath.mpf(value)
            log_value = float(self._frozen.logsf(x) if upper else self._frozen.logcdf(x))
        if not math.isfinite(log_value):
            return mpmath.mpf(value), mpmath.mpf(_SMALLEST_NORMAL)
        tail = mpmath.exp(log_value)
        return tail, _TAIL_RELATIVE_ERROR * max(1.0, -log_value) * tail

    def _tail_difference(self, a, b):
        """Return the mass of ``[a, b]`` (float endpoints) from float64 tails, the largest term and the error bound.

        All three are mpf. The error bound is the sum of the tails' absolute errors.
        """
        if a >= self._median or b <= self._median:
            upper = a >= self._median
            near, far = (a, b) if upper else (b, a)
            larger, larger_error = self._tail(near, upper)
            smaller, smaller_error = self._tail(far, upper)
            return larger - smaller, larger, larger_error + smaller_error

        # One minus both tails, so that the mass of the complement, two small
        # tails, keeps their relative precision.
        left, left_error = self._tail(a, False)
        right, right_error = self._tail(b, True)
        return 1 - left - right, mpmath.mpf(1), _TAIL_RELATIVE_ERROR + left_error + right_error

    def _density_integral(self, low, high, width):
        """Integrate the density over ``[low, low + width]``; return the integral and its error estimate as mpf.

        ``high`` is the float64 upper endpoint. Where the density at both
        endpoints is below 1e-300, the integrand is ``exp(logpdf - L)``
        with ``L`` the larger endpoint log-density. The integral is then
        multiplied by ``exp(L)`` in mpmath, because the normal density at
        40 standard deviations underflows in float64 but its logarithm
        does not. The logarithm's rounding error of ``eps |L|`` is added to
        the error estimate there.
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.integrate.IntegrationWarning)
            if max(float(self._frozen.pdf(low)), float(self._frozen.pdf(high))) >= _DENSITY_FLOOR:
                integral, error = scipy.integrate.quad(lambda t: self._frozen.pdf(low + t), 0.0, width,
                                                       epsabs=0.0, epsrel=_QUAD_RELATIVE_TOLERANCE)
                return mpmath.mpf(integral), mpmath.mpf(error)
            # A density that exceeds its endpoint values by more than the float64 range inside the
            # interval gives an infinite integrand. The integral is then infinite or NaN, and the caller discards it.
            with np.errstate(over="ignore", divide="ignore", under="ignore", invalid="ignore"):
                log_scale = max(float(self._frozen.logpdf(low)), float(self._frozen.logpdf(high)))
                if not math.isfinite(log_scale):
                    return mpmath.mpf(0), mpmath.inf
                integral, error = scipy.integrate.quad(lambda t: np.exp(self._frozen.logpdf(low + t) - log_scale),
                                                       0.0, width, epsabs=0.0, epsrel=_QUAD_RELATIVE_TOLERANCE)
        scale = mpmath.exp(log_scale)
        error += integral * _TAIL_RELATIVE_ERROR * max(1.0, -log_scale)
        return mpmath.mpf(integral) * scale, mpmath.mpf(error) * scale

    def _interval_mass(self, a, b):
        """Return the mass of ``[a, b]`` (mpf endpoints), integrating the density when the tails cancel."""
        low, high = float(a), float(b)
        mass, upper, tails_error = self._tail_difference(low, high)
        accurate = mass >= _CANCELLATION_RATIO * upper and tails_error <= _ACCEPTED_RELATIVE_ERROR * mass
        if not (np.isfinite(low) and np.isfinite(high)) or accurate:
            return mass

        # The width comes from the mpf endpoints, because float(b) - float(a)
        # rounds a width below the float64 spacing at a to 0 or to that spacing.
        integral, error = self._density_integral(low, high, float(b - a))
        # A density that underflows to 0 far in a heavy tail gives the integral 0 with error 0,
        # where the difference of the tails is still positive and accurate.
        if mpmath.isfinite(integral) and integral > 0 and error < tails_error:
            return integral
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
