r"""Mixtures of isotropic Gaussian laws and their exact masses.

Every mass is a weighted sum over the components, each computed on the side
where it does not cancel. So in a mixture with modes at -100 and +100
standard deviations, the far component keeps its contribution (about
1e-545) to :math:`\nu([-50, 50])`.

- Intervals and unions of intervals (one dimension): tail-safe Gaussian
  masses :math:`\Phi((b - m)/s) - \Phi((a - m)/s)`.
- Half-spaces and slabs: the projection :math:`\langle u, X \rangle` of a
  component is :math:`N(\langle u, m \rangle, s^2)`.
- Balls, annuli, ball complements (d >= 2): :math:`|X - c|^2 / s^2` follows
  the noncentral chi-square law with d degrees of freedom and noncentrality
  :math:`|m - c|^2 / s^2`; a ball complement uses its upper tail directly.
  In one dimension these sets are intervals.
"""

import itertools
import math

import mpmath
import numpy as np
import scipy.special as sc

from .._precision import GUARD_DIGITS, resolve_dps, workdps, workprec
from .._validation import (
    check_array,
    check_finite,
    check_weights,
    check_positive,
    check_probability,
    check_real,
    reject_unordered,
)
from ..gaussian import _gaussian_mass, _Phi, _phi
from ..sets import (
    Annulus,
    Ball,
    BallComplement,
    HalfSpace,
    Interval,
    Slab,
    as_intervals,
)
from ._base import (
    Measure,
    MixtureWeights,
    _check_sample_size,
    _construction_precision,
    _generator,
    _is_scalar,
    stable_difference,
)
from ._noncentral_chi2 import ncx2_cdf, ncx2_sf

__all__ = ["GaussianMixture"]


def _parse_means(means):
    """Return the means as a tuple of k tuples of d mpf."""
    if isinstance(means, (str, bytes)):
        raise TypeError(f"means must be a list of scalars or a (k, d) array, got means={means!r}")
    array = np.asarray(means, dtype=object)
    if array.size == 0:
        raise ValueError("means must contain at least one component, got an empty means")
    if array.ndim == 1 and any(not _is_scalar(m) for m in array):
        raise ValueError("means must be a list of scalars or a (k, d) array with rows of equal length")
    if array.ndim == 1:
        return tuple((check_finite(f"means[{i}]", m),) for i, m in enumerate(array))
    if array.ndim != 2:
        raise ValueError(f"means must be a list of scalars or a (k, d) array, got an array of shape {array.shape}")
    return tuple(
        tuple(check_finite(f"means[{i}, {j}]", m) for j, m in enumerate(row)) for i, row in enumerate(array)
    )


def _parse_sigmas(sigma, k):
    """Return one positive finite mpf per component from a scalar or a sequence of k.

    A 0-d numpy array counts as a scalar, like a numpy scalar or a float.
    """
    reject_unordered("sigma", sigma, f"a positive number or a sequence of k={k} positive numbers")
    if isinstance(sigma, np.ndarray) and sigma.ndim == 0:
        sigma = sigma[()]
    if _is_scalar(sigma):
        return (check_positive("sigma", sigma),) * k
    if isinstance(sigma, np.ndarray) and sigma.ndim != 1:
        raise ValueError(
            f"sigma must be a scalar or a 1-D sequence with one entry per component (k={k}), "
            f"got an array of shape {sigma.shape}: sigma={sigma!r}"
        )
    if len(sigma) != k:
        raise ValueError(f"sigma must be a scalar or have one entry per component (k={k}), got {len(sigma)} entries")
    return tuple(check_positive(f"sigma[{i}]", s) for i, s in enumerate(sigma))


def _parse_vector(name, value):
    array = np.asarray(value, dtype=object)
    if array.ndim == 0:
        return [value]
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a scalar or a nonempty 1D vector, got an array of shape {array.shape}")
    return list(array)


class GaussianMixture(Measure):
    r"""Mixture :math:`\sum_i w_i N(m_i, s_i^2 I_d)` of isotropic Gaussian laws.

    Parameters
    ----------
    weights : sequence of k reals in [0, 1] summing to 1
        Mixture weights (floats may miss 1 by 1e-12). :attr:`weights`
        divides them by their sum at the precision in force, so float
        weights such as 0.3 and 0.7 give masses correct to the digits
        requested, however many.
    means : list of k finite scalars (d = 1) or a (k, d) array of finite reals
        Component means.
    sigma : positive finite real, or a sequence of k of them
        Standard deviation of each component (the same for all if a scalar;
        numpy scalars and 0-d arrays count as scalars).

    Raises
    ------
    TypeError
        When ``weights`` or ``sigma`` is a dict, a set or a dict view
        (which has no component order), or ``weights`` is not a 1-D sequence.
    ValueError
        When a weight lies outside [0, 1], the weights do not sum to 1 (the
        message shows the sum with enough digits to see the difference), a
        standard deviation is not positive and finite, or the lengths differ.

    Attributes
    ----------
    weights : tuple of mpf
        The weights divided by their sum at the current precision.
    means : tuple of k tuples of d mpf
        The component means at the working precision (plus guard digits) of
        construction; ``means_array`` is the same as a float64 (k, d) array.
    sigmas : tuple of mpf
        One standard deviation per component.

    Notes
    -----
    :meth:`mass` is exact to a few units in the last place at the working
    precision for intervals and their unions (one dimension), half-spaces,
    slabs, balls, annuli and ball complements (any dimension), the empty set,
    the whole space and disjoint unions. Parameters given as strings
    (``"1e-300"``) keep the digits of the precision in force when the
    mixture is built.

    Examples
    --------
    >>> from isobounds.measures import GaussianMixture
    >>> from isobounds.sets import Interval
    >>> nu = GaussianMixture.two_gaussians(-5, 5, 1)
    >>> nu.mass(Interval(-2.5, 2.5), dps=15)
    mpf('0.0062096653257442264')
    """

    def __init__(self, weights, means, sigma):
        with _construction_precision():
            means = _parse_means(means)
            k = len(means)
            weights = MixtureWeights(check_weights("weights", weights, normalize=False))
            if len(weights) != k:
                raise ValueError(f"weights has {len(weights)} entries but means has {k} components")
            sigmas = _parse_sigmas(sigma, k)

        self._weight_values = weights
        self._means = means
        self._sigmas = sigmas
        self._dim = len(means[0])
        self.means_array = np.array([[float(c) for c in m] for m in means])
        self.sigmas_array = np.array([float(s) for s in sigmas])
        self.weights_array = weights.as_float64()

    @classmethod
    def _from_parameters(cls, weights, means, sigmas):
        """Build a mixture from mpf parameters taken as they are, without the checks of ``__init__``.

        For parameters of a mixture that was already built or accepted,
        such as a translated copy: checking its weights again would apply
        the 1e-12 tolerance of mpf weights to weights that arrived as float32.
        ``means`` is a sequence of k sequences of d mpf, ``sigmas`` k mpf.
        ``weights`` is a :class:`MixtureWeights` or a sequence of k mpf;
        both are kept as they are.
        """
        mixture = cls.__new__(cls)
        if not isinstance(weights, MixtureWeights):
            weights = MixtureWeights(weights, divide=False)
        mixture._weight_values = weights
        mixture._means = tuple(tuple(row) for row in means)
        mixture._sigmas = tuple(sigmas)
        mixture._dim = len(mixture._means[0])
        mixture.means_array = np.array([[float(c) for c in m] for m in mixture._means])
        mixture.sigmas_array = np.array([float(s) for s in mixture._sigmas])
        mixture.weights_array = weights.as_float64()
        return mixture

    @classmethod
    def two_gaussians(cls, m1, m2, sigma, weight=0.5):
        r"""Build :math:`w N(m_1, s^2 I) + (1 - w) N(m_2, s^2 I)`.

        Parameters
        ----------
        m1, m2 : scalars or vectors of the same length
            The two means.
        sigma : positive finite real
            Common standard deviation.
        weight : real in [0, 1], default 1/2
            Weight of the component at ``m1``.
        """
        m1 = _parse_vector("m1", m1)
        m2 = _parse_vector("m2", m2)
        if len(m1) != len(m2):
            raise ValueError(f"m1 and m2 must have the same length, got len(m1)={len(m1)} and len(m2)={len(m2)}")
        with _construction_precision():
            weight = check_probability("weight", weight)
            weights = [weight, 1 - weight]
        means = [m1[0], m2[0]] if len(m1) == 1 else [m1, m2]
        return cls(weights, means, sigma)

    @property
    def dim(self):
        return self._dim

    @property
    def weights(self):
        """Mixture weights, a tuple of mpf summing to 1 at the current precision."""
        return self._weight_values.current()

    @property
    def means(self):
        """Component means, a tuple of k tuples of d mpf."""
        return self._means

    @property
    def sigmas(self):
        """Standard deviations, a tuple of k mpf."""
        return self._sigmas

    @property
    def n_components(self):
        """Number k of components."""
        return len(self._weight_values)

    def __repr__(self):
        weights = ", ".join(mpmath.nstr(w, 12) for w in self.weights)
        if self._dim == 1:
            means = ", ".join(mpmath.nstr(m[0], 12) for m in self._means)
        else:
            means = ", ".join("(" + ", ".join(mpmath.nstr(c, 12) for c in m) + ")" for m in self._means)
        sigmas = ", ".join(mpmath.nstr(s, 12) for s in self._sigmas)
        return f"GaussianMixture(weights=[{weights}], means=[{means}], sigma=[{sigmas}])"

    # -- masses ---------------------------------------------------------------

    def _components(self):
        return zip(self.weights, self._means, self._sigmas)

    def _mass_of(self, subset):
        if self._dim == 1:
            return self._interval_union_mass(as_intervals(subset))
        if isinstance(subset, HalfSpace):
            return self._sum(lambda m, s: _Phi((subset.offset - _dot(subset.normal, m)) / s))
        if isinstance(subset, Slab):
            return self._sum(lambda m, s: _slab_mass(subset, m, s))
        if isinstance(subset, Ball):
            return self._sum(lambda m, s: ncx2_cdf(*self._chi2_args(subset.center, subset.radius, m, s)))
        if isinstance(subset, BallComplement):
            return self._sum(lambda m, s: ncx2_sf(*self._chi2_args(subset.center, subset.radius, m, s)))
        if isinstance(subset, Annulus):
            return self._sum(lambda m, s: self._annulus_mass(subset, m, s))
        raise NotImplementedError(f"GaussianMixture cannot measure a {type(subset).__name__} in dimension {self._dim}")

    def _sum(self, component_mass):
        return mpmath.fsum(w * component_mass(m, s) for w, m, s in self._components() if w != 0)

    def _interval_union_mass(self, union):
        def component_mass(m, s):
            return mpmath.fsum(_standardized_mass(p.a, p.b, m[0], s) for p in union.intervals)

        return self._sum(component_mass)

    def _chi2_args(self, center, radius, m, s):
        """Degrees of freedom, noncentrality and threshold of ``|X - c|^2 / s^2``.

        The masses depend on ``exp(-(sqrt(nc) - sqrt(x))^2 / 2)``, whose exponent
        can be 1e40 (a ball 1e20 standard deviations away). So both arguments
        are computed with ``2 log2`` of their size in extra bits, and their
        rounding changes that exponent by less than a unit of the working
        precision.
        """
        with workprec(64):
            size = max(mpmath.fsum((a - b) ** 2 for a, b in zip(m, center)), radius**2) / s**2
        extra = 2 * max(int(mpmath.log(size + 1, 2)), 0) + 20
        with workprec(mpmath.mp.prec + extra):
            noncentrality = mpmath.fsum((a - b) ** 2 for a, b in zip(m, center)) / s**2
            threshold = (radius / s) ** 2
        return mpmath.mpf(self._dim), noncentrality, threshold

    def _annulus_mass(self, annulus, m, s):
        # An empty annulus has two equal tails, whose difference stable_difference
        # could only find to be 0 after raising the precision to its maximum.
        if annulus.inner == annulus.outer:
            return mpmath.mpf(0)

        # The thresholds are recomputed inside each evaluation, so that a thin annulus gets
        # its width at the raised precision of stable_difference.
        def thresholds():
            df, nc, inner = self._chi2_args(annulus.center, annulus.inner, m, s)
            return df, nc, inner, (annulus.outer / s) ** 2

        def lower_tails():
            df, nc, inner, outer = thresholds()
            return ncx2_cdf(df, nc, outer), ncx2_cdf(df, nc, inner)

        def upper_tails():
            df, nc, inner, outer = thresholds()
            return ncx2_sf(df, nc, inner), ncx2_sf(df, nc, outer)

        df, nc, inner, _ = thresholds()
        tails = lower_tails if ncx2_cdf(df, nc, inner) <= 0.5 else upper_tails
        return max(stable_difference(tails), mpmath.mpf(0))

    # -- densities and sampling ---------------------------------------------------

    def _require_1d(self, function_name):
        if self._dim != 1:
            raise ValueError(f"{function_name} is defined for a one-dimensional mixture, but this one has dimension {self._dim}")

    def pdf(self, x, *, dps=None):
        """Density at ``x``: an mpf for a scalar (one dimension), float64 for an array.

        Arrays hold points along the last axis of length ``dim`` (any shape
        in one dimension). ``dps`` sets the digits of a scalar result.
        """
        if _is_scalar(x) and self._dim == 1:
            return self._scalar(self._pdf_mp, x, dps)
        return np.exp(self.logpdf(x))

    def logpdf(self, x, *, dps=None):
        """Log-density at ``x`` (finite far in the tails): mpf for a scalar, float64 for an array."""
        if _is_scalar(x) and self._dim == 1:
            return self._scalar(lambda t: mpmath.log(self._pdf_mp(t)), x, dps)
        points, shape = _as_points(x, self._dim)
        # Standardize before squaring: sigma**2 overflows for sigma = 1e200 and underflows to 0
        # for sigma = 1e-200, which made every value NaN. A standardized square that overflows
        # is +inf, so its component drops out, as its density (below 1e-300) does.
        with np.errstate(over="ignore", invalid="ignore"):
            standardized = (points[:, None, :] - self.means_array[None, :, :]) / self.sigmas_array[None, :, None]
            squared = (standardized**2).sum(axis=-1)
        with np.errstate(divide="ignore"):
            log_weights = np.log(self.weights_array)
        log_terms = log_weights - 0.5 * squared - self._dim * (np.log(self.sigmas_array) + 0.5 * math.log(2 * math.pi))
        return sc.logsumexp(log_terms, axis=1).reshape(shape)

    def cdf(self, x, *, dps=None):
        """Distribution function (one dimension): mpf for a scalar, float64 for an array."""
        self._require_1d("cdf")
        if _is_scalar(x):
            return self._scalar(self._mass_below, x, dps)
        z = (check_array("x", x, allow_inf=True)[..., None] - self.means_array[:, 0]) / self.sigmas_array
        return (self.weights_array * sc.ndtr(z)).sum(axis=-1)

    def sf(self, x, *, dps=None):
        """Upper tail ``P(X > x)`` (one dimension), computed without ``1 - cdf``."""
        self._require_1d("sf")
        if _is_scalar(x):
            return self._scalar(self._mass_above, x, dps)
        z = (check_array("x", x, allow_inf=True)[..., None] - self.means_array[:, 0]) / self.sigmas_array
        return (self.weights_array * sc.ndtr(-z)).sum(axis=-1)

    def _mass_below(self, t):
        """Return ``P(X <= t)``, which is 0 at ``t = -inf``, where ``Interval(-inf, t)`` would be invalid."""
        if t == mpmath.ninf:
            return mpmath.mpf(0)
        return self._mass(Interval(-mpmath.inf, t))

    def _mass_above(self, t):
        """Return ``P(X > t)``, which is 0 at ``t = inf``, where ``Interval(t, inf)`` would be invalid."""
        if t == mpmath.inf:
            return mpmath.mpf(0)
        return self._mass(Interval(t, mpmath.inf, left_closed=False))

    def _pdf_mp(self, t):
        return mpmath.fsum(w * _phi((t - m[0]) / s) / s for w, m, s in self._components())

    def _scalar(self, function, x, dps):
        """Evaluate ``function`` at the scalar ``x`` with guard digits and round to ``dps``."""
        dps = resolve_dps(dps)
        with workdps(dps + GUARD_DIGITS):
            value = function(check_real("x", x))
        with workdps(dps):
            return +value

    def sample(self, n, rng=None):
        """Draw ``n`` samples (shape (n,) in one dimension, (n, dim) otherwise).

        Parameters
        ----------
        n : int, >= 0
        rng : numpy.random.Generator, int seed or None
        """
        n = _check_sample_size(n)
        rng = _generator(rng)
        probabilities = self.weights_array / self.weights_array.sum()
        labels = rng.choice(len(probabilities), size=n, p=probabilities)
        noise = rng.standard_normal((n, self._dim))
        points = self.means_array[labels] + self.sigmas_array[labels, None] * noise
        return points[:, 0] if self._dim == 1 else points


def _dot(u, m):
    return mpmath.fsum(a * b for a, b in zip(u, m))


def _slab_mass(slab, m, s):
    return _standardized_mass(slab.lower, slab.upper, _dot(slab.normal, m), s)


def _standardized_mass(a, b, m, s):
    """``Phi((b - m) / s) - Phi((a - m) / s)`` with the standardized width kept to full precision.

    Rounding ``(a - m) / s`` and ``(b - m) / s`` costs an absolute error of
    one unit of their magnitude. That is a large relative error on the width
    of a thin interval far from ``m``, so the endpoints are standardized with
    ``log2(|endpoint - m| / (b - a))`` extra bits.
    """
    extra_bits = 0
    if mpmath.isfinite(a) and mpmath.isfinite(b) and b > a:
        scale = max(abs(a - m), abs(b - m))
        if scale > b - a:
            extra_bits = int(mpmath.log(scale / (b - a), 2)) + 1
    with workprec(mpmath.mp.prec + extra_bits):
        return _gaussian_mass((a - m) / s, (b - m) / s)


def _as_points(x, dim):
    # NaN raises here, as in isobounds.vectorized, instead of giving a NaN density.
    array = check_array("x", x, allow_inf=True)
    if dim == 1:
        return array.reshape(-1, 1), array.shape
    if array.ndim == 0 or array.shape[-1] != dim:
        raise ValueError(f"x must have its last axis of length dim={dim}, got x of shape {array.shape}")
    return array.reshape(-1, dim), array.shape[:-1]


def _component_crossings(level, curvature, means, roots=None):
    """Yield ``(i, j, y, slope)`` for each real ``y`` where components ``i < j`` of a univariate mixture cross.

    Component ``k`` has the weighted log-density
    ``level[k] - curvature[k] (y - means[k])^2`` up to a shared constant,
    with ``level = log w - log sigma`` and ``curvature = 1 / (2 sigma^2)``.
    Two components cross where the difference of theirs, the quadratic
    ``a y^2 + b y + c`` (linear for equal standard deviations), is 0.
    ``slope = |2 a y + b|`` is the rate at which the log ratio of the two
    densities changes there. The arguments are float64 arrays, solved by
    :func:`_real_roots`, or sequences of mpf with ``roots`` a solver at
    that precision.
    """
    roots = _real_roots if roots is None else roots
    for i, j in itertools.combinations(range(len(means)), 2):
        a = curvature[j] - curvature[i]
        b = 2 * (curvature[i] * means[i] - curvature[j] * means[j])
        c = level[i] - level[j] - curvature[i] * means[i] ** 2 + curvature[j] * means[j] ** 2
        for y in roots(a, b, c):
            yield i, j, y, abs(2 * a * y + b)


def _real_roots(a, b, c):
    """Return the real roots of ``a y^2 + b y + c`` (of ``b y + c`` when ``a = 0``) in float64, without cancellation.

    Roots beyond the float64 range (components whose means differ by a
    subnormal number cross near 1e312) are left out.
    """
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        if a == 0:
            roots = [-c / b] if b != 0 else []
        else:
            discriminant = b * b - 4.0 * a * c
            if not discriminant >= 0:
                return []
            q = -0.5 * (b + math.copysign(math.sqrt(discriminant), b))
            roots = [0.0] if q == 0 else [q / a, c / q]
    return [y for y in roots if math.isfinite(y)]
