r"""Theorem 1: Gaussian isoperimetry of Lipschitz push-forwards.

For a model :math:`\rho = g\#N(0, I_p)` with :math:`\mathrm{Lip}(g) \le L`,
every Borel set :math:`A` and every radius :math:`r \ge 0`,

.. math::

    L\,\rho^+(\partial A) \ge I(\rho(A)), \qquad
    \rho(A_r) \ge \alpha = \Phi\big(r/L + \Phi^{-1}(\rho(A))\big),

and :math:`\beta = \alpha - \rho(A)` bounds the shell mass
:math:`\rho(A_r \setminus A)` from below.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022, Theorem 1.
"""

import mpmath
import numpy as np

from .. import vectorized
from .._precision import resolve_dps, workdps
from .._validation import (
    check_array,
    check_nonnegative,
    check_positive,
    check_probability,
    check_probability_array,
)
from ..gaussian import (
    _SERIES_THRESHOLD,
    _gaussian_mass,
    _isoperimetric_profile,
    _Phi,
    _Phi_inv,
    _shifted_mass_series,
)
from ._common import evaluate, is_array, reject_booleans

__all__ = ["surface_area_lower_bound", "extension_mass_lower_bound", "shell_mass_lower_bound"]

# ---------------------------------------------------------------------------
# Kernels: mpf in, mpf out, at the current mpmath precision.
# ---------------------------------------------------------------------------

def _extension_mass(p, c):
    """alpha = Phi(c + Phi_inv(p)) for a mass ``p`` and a shift ``c = r / L >= 0``."""
    if p == 0:
        return mpmath.mpf(0)
    if p == 1:
        return mpmath.mpf(1)
    return _Phi(c + _Phi_inv(p))


class _ShellMass:
    """beta(p, c) = Phi(c + Phi_inv(p)) - p for one mass ``p`` and many shifts ``c``.

    The quantile ``x = Phi_inv(p)`` is cached at the highest precision
    requested so far, so that searches over the radius solve for it once.
    With ``x`` the shell bound is the Gaussian mass of ``[x, x + c]``.
    Rounding ``x + c`` costs ``log10(|x| / c)`` digits when ``c`` is small,
    so ``x`` is taken with that many extra digits. When ``c (|x| + c)`` is
    tiny, the Taylor series at ``x`` is used instead, because it only needs
    about ``log10(1 + x^2)`` extra digits.

    ``complement``, when given, is ``1 - p`` computed on its own (the mass
    of the complement of a set). For ``p > 1/2`` the quantile is then
    ``-Phi_inv(complement)``, because ``p`` rounded near 1 has lost the
    digits of ``1 - p``: a mass ``1 - 1e-300`` is exactly 1 at 30 digits.
    """

    def __init__(self, p, complement=None):
        self.p = p
        self.complement = complement if complement is not None and p > mpmath.mpf(1) / 2 else None
        self._x = None
        self._digits = 0

    def quantile(self, digits):
        if self._digits < digits:
            with workdps(digits):
                self._x = _Phi_inv(self.p) if self.complement is None else -_Phi_inv(self.complement)
            self._digits = digits
        return self._x

    def __call__(self, c):
        p = self.p
        # A set of full mass has beta = 0. Its complement's mass decides when it is given,
        # because p can round below 1 while the complement is exactly empty.
        full = p == 1 if self.complement is None else self.complement == 0
        if p == 0 or c == 0 or full:
            return mpmath.mpf(0)

        digits = mpmath.mp.dps
        x = self.quantile(digits)
        u = c * (abs(x) + c)
        if u < _SERIES_THRESHOLD:
            extra = int(mpmath.log10(1 + x * x)) + 3
            with workdps(digits + extra):
                mass = _shifted_mass_series(self.quantile(digits + extra), c)
            return +mass

        extra = max(0, int(mpmath.log10(max(1, abs(x)) / c))) + 3
        with workdps(digits + extra):
            x = self.quantile(digits + extra)
            mass = _gaussian_mass(x, x + c)
        return +mass


def _shell_mass(p, c, complement=None):
    """beta = Phi(c + Phi_inv(p)) - p, computed without cancellation (see :class:`_ShellMass`)."""
    return _ShellMass(p, complement)(c)


def _theorem1_args(mass, r, lip):
    p = check_probability("mass", mass)
    r = check_nonnegative("r", r)
    lip = check_positive("lip", lip)
    return p, r / lip


def _array_args(mass, r, lip):
    """Check array arguments under their public names before the float64 path.

    Booleans are rejected, ``mass`` must lie in [0, 1], ``r`` must be finite
    and >= 0 (as on the scalar path) and ``lip`` positive and finite; the
    three are broadcast against each other.
    """
    for name, value in (("mass", mass), ("r", r), ("lip", lip)):
        reject_booleans(name, value)
    mass = check_probability_array("mass", mass)
    r = check_array("r", r)
    if (r < 0).any():
        raise ValueError(f"r must be a nonnegative finite number in [0, inf), got r={r[r < 0].flat[0]}")
    return _broadcast(("mass", mass), ("r", r), ("lip", _positive_array(lip)))


def _broadcast(*named):
    """Broadcast the ``(name, array)`` pairs against each other; ValueError naming them and their shapes if impossible."""
    arrays = [array for _, array in named]
    try:
        return np.broadcast_arrays(*arrays)
    except ValueError:
        names = [name for name, _ in named]
        shapes = [str(array.shape) for array in arrays]
        raise ValueError(
            f"{', '.join(names[:-1])} and {names[-1]} must broadcast to a common shape, "
            f"got shapes {', '.join(shapes[:-1])} and {shapes[-1]}"
        ) from None


def _any_array(*values):
    return any(is_array(value) for value in values)


# ---------------------------------------------------------------------------
# Public functions.
# ---------------------------------------------------------------------------

def surface_area_lower_bound(mass, lip, *, dps=None):
    r"""Lower bound on the model's surface area: :math:`\rho^+(\partial A) \ge I(\rho(A)) / L`.

    Parameters
    ----------
    mass : real number in [0, 1], or array_like
        Model mass :math:`\rho(A)` of the set. Pass tiny masses as strings or
        mpf (``"1e-300"``) to keep their digits.
    lip : positive finite real number
        Lipschitz constant :math:`L` of the generator.
    dps : int, optional
        Significant digits of the result (default: the working precision).
        Checked but unused on the float64 array path.

    Returns
    -------
    mpmath.mpf, or numpy.ndarray (float64) when ``mass`` or ``lip`` is an
    array, list or tuple.

    References
    ----------
    Salmona et al., 2022, Theorem 1 (first inequality).
    """
    if _any_array(mass, lip):
        resolve_dps(dps)
        reject_booleans("mass", mass)
        mass = check_probability_array("mass", mass)
        mass, lip = _broadcast(("mass", mass), ("lip", _positive_array(lip)))
        return vectorized.isoperimetric_profile(mass) / lip

    def compute():
        p = check_probability("mass", mass)
        return _isoperimetric_profile(p) / check_positive("lip", lip)

    return evaluate(compute, dps)


def _positive_array(lip):
    reject_booleans("lip", lip)
    lip = check_array("lip", lip)
    if (lip <= 0).any():
        raise ValueError(f"lip must be a positive finite number in (0, inf), got lip={lip[lip <= 0].flat[0]}")
    return lip


def extension_mass_lower_bound(mass, r, lip, *, dps=None):
    r"""Lower bound on the model mass of the extension: :math:`\alpha = \Phi(r/L + \Phi^{-1}(\rho(A)))`.

    Parameters
    ----------
    mass : real number in [0, 1], or array_like
        Model mass :math:`\rho(A)`. ``mass = 0`` gives 0 and ``mass = 1`` gives 1.
    r : finite real number >= 0, or array_like
        Radius of the closed extension :math:`A_r = \{x : d(x, A) \le r\}`.
    lip : positive finite real number, or array_like
        Lipschitz constant :math:`L` of the generator.
    dps : int, optional
        Significant digits of the result. Checked but unused on the
        float64 array path.

    Returns
    -------
    mpmath.mpf, or numpy.ndarray (float64) when any of ``mass``, ``r`` and
    ``lip`` is an array, list or tuple: the three are then broadcast and
    :func:`isobounds.vectorized.extension_mass_lower_bound` computes the
    result. ``r = inf`` is rejected on both paths.

    References
    ----------
    Salmona et al., 2022, Theorem 1 (second inequality).
    """
    if _any_array(mass, r, lip):
        resolve_dps(dps)
        return vectorized.extension_mass_lower_bound(*_array_args(mass, r, lip))

    def compute():
        return _extension_mass(*_theorem1_args(mass, r, lip))

    return evaluate(compute, dps)


def shell_mass_lower_bound(mass, r, lip, *, dps=None):
    r"""Lower bound on the model mass of the shell: :math:`\beta = \alpha - \rho(A) \le \rho(A_r \setminus A)`.

    :math:`\beta = \Phi(x + c) - \Phi(x)` with :math:`x = \Phi^{-1}(\rho(A))`
    and :math:`c = r / L`, evaluated as the Gaussian mass of
    :math:`[x, x + c]` without subtracting two nearly equal numbers: with
    ``lip = 1e300`` and ``r = 1`` the result is about
    ``1e-300 * I(mass)``, correct to the working precision.

    Parameters
    ----------
    mass : real number in [0, 1], or array_like
        Model mass :math:`\rho(A)`. Masses near 1 are handled through their
        complement; ``mass = 0`` and ``mass = 1`` give 0.
    r : finite real number >= 0, or array_like
        Radius of the extension.
    lip : positive finite real number, or array_like
        Lipschitz constant :math:`L` of the generator.
    dps : int, optional
        Significant digits of the result. Checked but unused on the
        float64 array path.

    Returns
    -------
    mpmath.mpf (>= 0), or numpy.ndarray (float64) when any of ``mass``,
    ``r`` and ``lip`` is an array, list or tuple (broadcast together).
    ``r = inf`` is rejected on both paths.

    References
    ----------
    Salmona et al., 2022, Theorem 1.
    """
    if _any_array(mass, r, lip):
        resolve_dps(dps)
        return vectorized.shell_mass_lower_bound(*_array_args(mass, r, lip))

    def compute():
        return _shell_mass(*_theorem1_args(mass, r, lip))

    return evaluate(compute, dps)
