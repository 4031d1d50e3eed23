"""One-dimensional Gaussian mixtures evaluated with mpmath, tail-safe.

Used by the Corollary 3 search and by the optimisers over half-spaces: a
mixture of isotropic Gaussians projected on a unit vector ``u`` is the
univariate mixture with means ``<u, m_k>`` and the same standard deviations.
"""

import math

import mpmath
import numpy as np
import scipy.special as sc

from .._precision import exact_dot, to_mpf
from .._validation import check_positive
from ..gaussian import _gaussian_mass, _Phi, _phi
from ..measures.gaussian_mixture import GaussianMixture

__all__ = ["Mixture1D", "centered_mixture", "mixture_from_target", "is_gaussian_mixture", "shift_back"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)

# Standardised arguments beyond this are replaced by infinities before
# calling Phi: mpmath's erfc fails on arguments above about 1e154, and the
# tail mass beyond 1e100 standard deviations is below 10**(-10**199).
_FAR_TAIL = mpmath.mpf("1e100")


def _standardise(y, m, s):
    z = (y - m) / s
    if z > _FAR_TAIL:
        return mpmath.inf
    if z < -_FAR_TAIL:
        return -mpmath.inf
    return z


class Mixture1D:
    """Univariate mixture ``sum_k w_k N(m_k, s_k^2)`` with mpf parameters and positive weights."""

    def __init__(self, weights, means, sigmas):
        kept = [(w, m, s) for w, m, s in zip(weights, means, sigmas) if w > 0]
        self.weights = [w for w, _, _ in kept]
        self.means = [m for _, m, _ in kept]
        self.sigmas = [s for _, _, s in kept]

    # -- mpmath evaluations at the current precision --------------------

    def cdf(self, y):
        return mpmath.fsum(w * _Phi(_standardise(y, m, s)) for w, m, s in self._components())

    def sf(self, y):
        return mpmath.fsum(w * _Phi(-_standardise(y, m, s)) for w, m, s in self._components())

    def pdf(self, y):
        return mpmath.fsum(w * _phi((y - m) / s) / s for w, m, s in self._components())

    def pdf_derivative(self, y):
        return -mpmath.fsum(w * (y - m) * _phi((y - m) / s) / s**3 for w, m, s in self._components())

    def mass(self, a, b):
        """Mass of the interval ``[a, b]`` (endpoints may be infinite), summed per component from the tail side."""
        if a >= b:
            return mpmath.mpf(0)
        return mpmath.fsum(
            w * _gaussian_mass(_standardise(a, m, s), _standardise(b, m, s)) for w, m, s in self._components()
        )

    def _components(self):
        return zip(self.weights, self.means, self.sigmas)

    # -- float64 evaluations for coarse grid searches --------------------

    def float_parameters(self):
        return (
            np.array([float(w) for w in self.weights]),
            np.array([float(m) for m in self.means]),
            np.array([float(s) for s in self.sigmas]),
        )

    def log_pdf_cdf_sf(self, y):
        """Return ``log pdf``, ``log cdf`` and ``log sf`` on a float64 grid, without underflow."""
        w, m, s = self.float_parameters()
        z = (y[:, None] - m[None, :]) / s[None, :]
        log_w = np.log(w)[None, :]
        log_pdf = sc.logsumexp(log_w - 0.5 * z * z - np.log(s)[None, :] - _LOG_SQRT_2PI, axis=1)
        log_cdf = sc.logsumexp(log_w + sc.log_ndtr(z), axis=1)
        log_sf = sc.logsumexp(log_w + sc.log_ndtr(-z), axis=1)
        return log_pdf, log_cdf, log_sf


def is_gaussian_mixture(target):
    """Tell whether ``target`` exposes the ``weights``, ``means`` and ``sigmas`` of a Gaussian mixture."""
    return all(hasattr(target, name) for name in ("weights", "means", "sigmas"))


def check_gaussian_mixture(target):
    """Raise TypeError unless ``target`` is a Gaussian mixture (see :func:`is_gaussian_mixture`)."""
    if not is_gaussian_mixture(target):
        raise TypeError(f"target must be a Gaussian mixture with weights, means and sigmas, got {type(target).__name__}")


def centered_mixture(target):
    """Translate a Gaussian mixture so that its means lie around the origin.

    Returns ``(centered, center)``: a
    :class:`isobounds.measures.GaussianMixture` of ``X - c`` for
    ``X ~ target``, with the same weights and standard deviations, and
    ``c`` as a list of mpf. Each coordinate of ``c`` is the exact midpoint
    of the extreme means, and the differences ``m - c`` are computed
    exactly. The float64 stages of the searches then see
    means at the scale of their spread: modes at ``1e12 +- 5`` would
    otherwise lose about 12 of the 16 float64 digits to the offset, and
    modes at ``1e40 +- 5`` would collapse to one point. The target is
    returned unchanged, with ``c = 0``, when its means are already centred.
    Components of weight 0 carry no mass and do not move ``c``, because a
    far one would pull the modes that matter to where float64 spacings are
    coarse (thousands at 1e20).
    """
    weights, rows, sigmas = _parameters(target)
    weighted_rows = [row for w, row in zip(weights, rows) if w > 0] or rows
    # The exact midpoint: rounded to the working precision, it could lie farther from the
    # means than their spread (1e40 at 25 digits is off by up to 1e15).
    center = [mpmath.ldexp(mpmath.fadd(min(column), max(column), exact=True), -1) for column in zip(*weighted_rows)]
    if all(c == 0 for c in center):
        return target, center

    shifted = [[mpmath.fsub(m, c, exact=True) for m, c in zip(row, center)] for row in rows]
    # The copy takes the target's parameters as mixture_from_target does, without the checks of
    # GaussianMixture, which could reject float32 weights that the target itself accepted.
    if isinstance(target, GaussianMixture):
        # Keep the weights undivided, so that the copy divides them at the precision of each use.
        weights = target._weight_values
    return GaussianMixture._from_parameters(weights, shifted, sigmas), center


def shift_back(location, normal, center):
    """Return ``location + <normal, center>`` computed exactly, the inverse of :func:`centered_mixture` for a set.

    The result carries as many bits as it needs, so a set returned at
    ``dps`` digits keeps its place between modes whose offset from the
    origin exceeds ``10**dps`` times their spread.
    """
    return mpmath.fadd(location, exact_dot(normal, center), exact=True)


def _parameters(target):
    """Return the target's weights, rows of means and one standard deviation per component, as mpf.

    The target validated its weights when it was built, so they are taken
    as they are.
    """
    weights = [to_mpf(w, "target.weights") for w in np.ravel(np.asarray(target.weights, dtype=object))]
    rows = _rows(target.means, len(weights))
    sigmas = np.ravel(np.asarray(target.sigmas, dtype=object))
    if sigmas.size == 1:
        sigmas = np.repeat(sigmas, len(weights))
    return weights, rows, [check_positive("target.sigmas", s) for s in sigmas]


def _rows(means, count):
    array = np.asarray(means, dtype=object)
    if array.ndim == 1:
        array = array.reshape(count, -1) if array.size != count else array.reshape(count, 1)
    return [[to_mpf(v, "target.means") for v in row] for row in array.reshape(count, -1)]


def mixture_from_target(target, direction=None, direction_name="direction"):
    """Build the univariate mixture of ``<u, X>`` for ``X ~ target`` at the current precision.

    ``direction`` is required when the mixture lives in more than one
    dimension; it is normalised to a unit vector.
    """
    weights, rows, sigmas = _parameters(target)
    dim = len(rows[0])

    if direction is None:
        if dim != 1:
            raise ValueError(
                f"{direction_name} is required for a target in dimension {dim}; "
                f"pass a vector of length {dim} to project on"
            )
        return Mixture1D(weights, [row[0] for row in rows], sigmas)

    u = [to_mpf(v, f"{direction_name}[{i}]") for i, v in enumerate(np.ravel(np.asarray(direction, dtype=object)))]
    if len(u) != dim:
        raise ValueError(f"{direction_name} must have length {dim} (the target's dimension), got length {len(u)}")
    norm = mpmath.sqrt(mpmath.fsum(v * v for v in u))
    if norm == 0 or not mpmath.isfinite(norm):
        raise ValueError(f"{direction_name} must be a nonzero finite vector, got {direction_name}={list(u)}")
    projected = [mpmath.fsum(a * b for a, b in zip(u, row)) / norm for row in rows]
    return Mixture1D(weights, projected, sigmas)
