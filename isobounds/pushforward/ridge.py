r"""Ridge maps :math:`\mathbb{R}^p \to \mathbb{R}`, :math:`z \mapsto h(\langle w, z \rangle)` with ``h`` piecewise linear.

For :math:`Z \sim N(0, I_p)`, :math:`\langle w, Z \rangle \sim N(0, |w|^2)`, so
the push-forward is :math:`h \# N(0, |w|^2)` and every exact quantity of the
one-dimensional case applies. The Lipschitz constant (for the Euclidean norm
on :math:`\mathbb{R}^p`) is :math:`|w| \,\mathrm{Lip}(h)`: the gradient is
:math:`h'(\langle w, z \rangle) w` wherever it exists.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import mpmath
import numpy as np

from .._precision import GUARD_DIGITS, resolve_dps, workdps
from .._validation import check_array
from .piecewise import PiecewiseLinearMap, _as_real_array

__all__ = ["RidgeMap"]


class RidgeMap:
    r"""The map :math:`g(z) = h(\langle w, z \rangle)` from :math:`\mathbb{R}^p` to :math:`\mathbb{R}`.

    Parameters
    ----------
    direction : array_like, shape (p,)
        The vector ``w``; finite, not all zero.
    profile : PiecewiseLinearMap
        The map ``h``.

    Examples
    --------
    >>> h = PiecewiseLinearMap([0.0], [0.0], 1.0, 2.0)
    >>> g = RidgeMap([3.0, 4.0], h)
    >>> float(g.lipschitz_constant())
    10.0
    """

    def __init__(self, direction, profile):
        direction = check_array("direction", _as_real_array("direction", direction))
        if direction.ndim != 1 or direction.size == 0:
            raise ValueError(f"direction must be a nonempty one-dimensional array, got shape {direction.shape}")
        if not np.any(direction):
            raise ValueError("direction must not be the zero vector, got direction=0")
        if not isinstance(profile, PiecewiseLinearMap):
            raise TypeError(f"profile must be a PiecewiseLinearMap, got profile of type {type(profile).__name__}")
        self._direction = direction.copy()
        self._direction.setflags(write=False)
        self._profile = profile

    @property
    def direction(self):
        """The vector ``w`` (read-only float64 array)."""
        return self._direction

    @property
    def profile(self):
        """The one-dimensional map ``h``."""
        return self._profile

    @property
    def dim(self):
        """Latent dimension ``p``."""
        return self._direction.size

    def __call__(self, z):
        """Evaluate ``g`` on points ``z`` of shape ``(..., p)``."""
        z = check_array("z", z)
        if z.shape[-1:] != (self.dim,):
            raise ValueError(f"z must have last dimension {self.dim}, got shape {z.shape}")
        return self._profile(z @ self._direction)

    def direction_norm(self, dps=None):
        """Return ``|w|`` as ``mpmath.mpf``, exact to the working precision."""
        dps = resolve_dps(dps)
        with workdps(dps + GUARD_DIGITS):
            norm = mpmath.sqrt(mpmath.fsum(mpmath.mpf(float(x)) ** 2 for x in self._direction))
        with workdps(dps):
            return +norm

    def lipschitz_constant(self, dps=None):
        r"""Return the exact Lipschitz constant :math:`|w| \max_k |s_k|` as ``mpmath.mpf``."""
        dps = resolve_dps(dps)
        with workdps(dps + GUARD_DIGITS):
            value = self.direction_norm(dps + GUARD_DIGITS) * self._profile.lipschitz_constant(dps + GUARD_DIGITS)
        with workdps(dps):
            return +value

    def pushforward(self):
        r"""Return :math:`g \# N(0, I_p) = h \# N(0, |w|^2)` as a :class:`PushforwardMeasure`.

        Raises
        ------
        ValueError
            When ``|w|`` exceeds the float64 range (about 1.8e308): the
            measure's float64 paths need the latent scale as a float.
        """
        from .measure import PushforwardMeasure

        with workdps(resolve_dps(None) + GUARD_DIGITS):
            norm = self.direction_norm(resolve_dps(None) + GUARD_DIGITS)
        if norm > np.finfo(np.float64).max:
            raise ValueError(
                f"direction must have a norm |w| representable in float64 (at most {np.finfo(np.float64).max!r}) "
                f"for the push-forward h#N(0, |w|^2), got |w|={mpmath.nstr(norm, 17)}; rescale w and the knots of h"
            )
        return PushforwardMeasure(self._profile, scale=norm)

    def tv_distance(self, target, **options):
        """Return the total variation distance between ``g#N(0, I_p)`` and ``target``."""
        from .distances import tv_distance

        return tv_distance(self.pushforward(), target, **options)

    def kl_divergence(self, target, **options):
        """Return ``KL(g#N(0, I_p) || target)``."""
        from .distances import kl_divergence

        return kl_divergence(self.pushforward(), target, **options)
