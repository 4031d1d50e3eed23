r"""Float64 Gaussian functions and Theorem 1 quantities on numpy arrays.

The same names as :mod:`isobounds.gaussian`, evaluated elementwise with
``scipy.special`` (``ndtr``, ``ndtri``, ``log_ndtr``, ``ndtri_exp``) on
float64 arrays, with each quantity taken from the tail where it does not
cancel. :mod:`isobounds.gaussian` dispatches array input here, so
``isobounds.Phi(np.array([...]))`` and ``isobounds.vectorized.Phi([...])``
return the same array.

NOTE: double precision underflows. Results below 2.2e-308 are subnormal,
with fewer significant bits, and results below 5e-324 round to 0.
``shell_mass_lower_bound`` and ``extension_mass_lower_bound`` keep subnormal
tails, so ``shell_mass_lower_bound`` at ``p = 1/2`` is 0 only once
``r / lip`` is below about 1e-323. ``Phi`` and ``Phi_c`` return scipy's
``ndtr`` unchanged, which is 0 below ``x ~ -37.68`` instead of
``x ~ -38.47``, and has a relative error of about 6e-14 at ``x = -30``
and 2.3e-13 at ``x = -37.26`` (scipy 1.17, measured against mpmath on a
step of 0.01). ``log_Phi(x)`` for ``x > 0`` has the same relative
error as ``Phi_c(x)``, because it is about ``-Phi_c(x)`` there.
``gaussian_mass`` takes its tails from ``erfcx`` instead. The float64
search of ``ot_lipschitz_constant`` divides
such masses by a density, and a mass of one or two subnormal units would
make that ratio wrong by a factor of 2.
Conditioning also costs digits in the tails. The quantile ``x = ndtri(p)``
carries a relative error of one rounding, which ``Phi`` amplifies by
``x^2``: ``extension_mass_lower_bound`` at ``p = 1e-300`` is good to about
2e-13, and a comparison with mpmath at 1e5 random ``p`` down to 1e-323 found
at most 6.2e-13 (7e-13 for ``shell_mass_lower_bound``), near ``p = 4e-277``. The difference ``Phi(x + c) - p`` amplifies it by a further
``1 / (c |x|)``: ``shell_mass_lower_bound`` at ``p = 1e-100``, ``c = 1e-4``
is good to about 2e-11. Use the scalar (mpmath) functions when those digits
matter.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022, Theorem 1.
"""

import math

import numpy as np
import scipy.special as sc

from ._validation import _entry, check_array, check_probability_array

__all__ = [
    "phi",
    "Phi",
    "Phi_c",
    "log_Phi",
    "Phi_inv",
    "Phi_c_inv",
    "isoperimetric_profile",
    "gaussian_mass",
    "extension_mass_lower_bound",
    "shell_mass_lower_bound",
]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)

# Below this value of u = c * (|x| + c) the Taylor series of Phi(x + c) - Phi(x)
# is used. Its terms fall like u**n / (n + 1)! for large |x| and like
# (c**2 / 2)**k / k! near x = 0, so _SERIES_TERMS terms leave a relative error
# below 1e-17. Above it, the larger tail of a difference exceeds the smaller
# by a factor of at least about exp(u) ~ 1.6, so the difference loses about
# one bit at most.
_SERIES_THRESHOLD = 0.5
_SERIES_TERMS = 30

# Beyond this |x| the density phi(x) underflows to 0 (phi(38.6) ~ 5e-324), so
# the series is not needed, and its Hermite polynomials could overflow.
_SERIES_MAX_ABS_X = 40.0


def _ndtr_keeping_subnormals(x):
    """Return ``scipy.special.ndtr(x)`` with the subnormal part of the lower tail restored.

    scipy's ndtr (1.17) returns 0 once ``x^2 / 2`` exceeds ``log(DBL_MAX)``
    (about 709.78), that is for ``x < -37.677``, although ``Phi(x)`` is a
    subnormal double down to ``x ~ -38.47``. Where it returned 0 the value
    is taken as ``exp(log_ndtr(x))``. Its relative error, about
    ``|log Phi(x)| * 2^-53 ~ 1e-13``, is at most a few spacings of
    subnormals (5e-324) there, because ``Phi(x)`` is below 6e-311.
    """
    x = np.asarray(x)
    values = sc.ndtr(x)
    flushed = (values == 0) & (x > -np.inf)
    if flushed.any():
        values = np.array(values)
        values[flushed] = np.exp(sc.log_ndtr(x[flushed]))
        # ndtr returns a scalar for a 0-d input; values[()] does the same.
        values = values[()]
    return values


def phi(x):
    """Standard Gaussian density, elementwise."""
    x = check_array("x", x, allow_inf=True)
    # _exp_half_square avoids the rounding error of x * x (5e-14 relative at |x| = 32)
    # and the overflow warning of x * x beyond |x| ~ 1.3e154.
    return _INV_SQRT_2PI * _exp_half_square(x)


def Phi(x):
    """Standard Gaussian distribution function, elementwise (``scipy.special.ndtr``)."""
    return sc.ndtr(check_array("x", x, allow_inf=True))


def Phi_c(x):
    """Upper Gaussian tail ``Phi(-x)``, elementwise, without ``1 - Phi(x)``."""
    return sc.ndtr(-check_array("x", x, allow_inf=True))


def log_Phi(x):
    """Logarithm of the Gaussian distribution function (``scipy.special.log_ndtr``)."""
    return sc.log_ndtr(check_array("x", x, allow_inf=True))


def Phi_inv(p):
    """Gaussian quantile function, elementwise (``scipy.special.ndtri``)."""
    return sc.ndtri(check_probability_array("p", p))


def Phi_c_inv(q):
    """Inverse upper tail, elementwise: ``-ndtri(q)``, computed from q itself."""
    return -sc.ndtri(check_probability_array("q", q))


def isoperimetric_profile(p):
    """Gaussian isoperimetric profile ``phi(Phi_inv(min(p, 1 - p)))``, elementwise.

    ``x = ndtri(q)`` with ``q = min(p, 1 - p)`` carries a relative error of
    about one rounding, which ``phi(x)`` amplifies by ``x^2`` (4e-13 near
    ``q = 1e-280``). One Newton step removes it: with the residual
    ``e = q - Phi(x)``, the true quantile is ``x + e / phi(x)`` to first
    order, and ``phi`` there is ``phi(x) - x e``. ``Phi(x)`` is taken from
    ``erfcx`` (:func:`_lower_tail`), accurate to a few roundings.
    """
    p = check_probability_array("p", p)
    q = np.minimum(p, 1.0 - p)  # 1 - p is exact for p >= 1/2
    x = sc.ndtri(q)
    with np.errstate(invalid="ignore", over="ignore"):
        density = _INV_SQRT_2PI * _exp_half_square(x)
        corrected = density - x * (q - _lower_tail(x))
    # At q = 0, x = -inf and the correction is NaN, but the density 0 is exact there.
    return np.where(np.isfinite(corrected), corrected, density)[()]


def gaussian_mass(a, b):
    """Gaussian mass ``Phi(b) - Phi(a)`` of intervals, elementwise and tail-safe.

    Both bounds in the upper half-line: ``Phi_c(a) - Phi_c(b)``; both in
    the lower: ``Phi(b) - Phi(a)``; straddling 0: ``(erf(b/sqrt2) -
    erf(a/sqrt2)) / 2``, which has no cancellation. A tail is taken as
    ``erfcx(|x|/sqrt2) exp(-x^2/2) / 2`` with ``x^2`` split exactly into
    two doubles, so it keeps its relative accuracy out to ``|x| ~ 38``. A
    short interval on one side of 0 (``(b - a) (|a| + b - a) < 0.5``) takes
    the Taylor series of its mass at ``a``, so a width far below the
    spacing of doubles near ``a`` keeps its digits. As in the scalar
    :func:`isobounds.gaussian_mass`, the mass is negative where ``a > b``:
    it is then minus the mass of ``[b, a]``.
    """
    a = check_array("a", a, allow_inf=True)
    b = check_array("b", b, allow_inf=True)
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        raise ValueError(
            f"a and b must broadcast to one shape, got a of shape {a.shape} and b of shape {b.shape}"
        ) from None
    # The tail formulas below need a <= b, so a reversed interval gets minus the mass of [b, a].
    swapped = a > b
    low, high = np.where(swapped, b, a), np.where(swapped, a, b)
    with np.errstate(invalid="ignore"):
        width = high - low
    mass = _interval_mass(low, high, _lower_tail)
    mass = _with_series(mass, low, width, straddling=(low < 0) & (high > 0))
    return np.where(swapped, -mass, mass)[()]


def _exp_half_square(x):
    """Return ``exp(-x^2 / 2)`` without the rounding error of ``x * x``.

    ``x * x`` is split into its double ``square`` and the exact rounding
    error ``error`` (Dekker's product), and ``exp(-error / 2)`` is taken as
    ``1 - error / 2``. A rounded ``x * x`` would cost a relative error of
    ``x^2 / 2`` units in the last place, about 5e-14 at ``|x| = 30``.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        square = x * x
        split = 134217729.0 * x  # 2**27 + 1 splits a double into two 26-bit halves
        head = split - (split - x)
        tail = x - head
        error = ((head * head - square) + 2.0 * head * tail) + tail * tail
        # Beyond |x| = 1000 the exponential is 0 and the split may overflow.
        error = np.where(np.abs(x) < 1000.0, error, 0.0)
        return np.exp(-0.5 * square) * (1.0 - 0.5 * error)


def _lower_tail(x):
    """Return ``Phi(x)`` for ``x <= 0`` as ``erfcx(-x/sqrt2) exp(-x^2/2) / 2`` (meaningless for ``x > 0``)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return 0.5 * sc.erfcx(-x / math.sqrt(2.0)) * _exp_half_square(x)


def _with_series(mass, x, c, straddling=False):
    """Replace ``mass`` by the Taylor series of ``Phi(x + c) - Phi(x)`` where the interval is short.

    The series is used where ``0 <= c``, ``c (|x| + c) < _SERIES_THRESHOLD``,
    ``|x| < _SERIES_MAX_ABS_X`` and the interval does not straddle 0
    (``straddling``), and is computed only there.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        short = (
            (c >= 0)
            & (np.abs(x) < _SERIES_MAX_ABS_X)
            & (c * (np.abs(x) + c) < _SERIES_THRESHOLD)
            & ~np.asarray(straddling)
        )
    if not short.any():
        return mass
    mass = np.array(mass, dtype=np.float64)
    mass[short] = _series_mass(x[short], c[short])
    return mass[()]


def _series_mass(x, c):
    """Return ``Phi(x + c) - Phi(x)`` as ``phi(x) sum_n (-1)^n He_n(x) c^(n+1) / (n+1)!``.

    He_n are the probabilists' Hermite polynomials (``He_(n+1) = x He_n - n
    He_(n-1)``), summed to ``_SERIES_TERMS`` terms. For ``c (|x| + c) <
    _SERIES_THRESHOLD`` the terms have one sign for ``x < 0`` and alternate
    with a sum of at least a third of the first term for ``x > 0``, so the
    sum loses no digits.
    """
    hermite_previous = np.ones_like(x)
    hermite = x.copy()
    power = c.copy()  # c^(n+1) / (n+1)!
    series = power.copy()
    for n in range(1, _SERIES_TERMS):
        power = power * c / (n + 1)
        series += (-1) ** n * hermite * power
        hermite, hermite_previous = x * hermite - n * hermite_previous, hermite
    return _INV_SQRT_2PI * _exp_half_square(x) * series


def _interval_mass(a, b, cdf):
    """Return the mass of :func:`gaussian_mass`, with ``cdf`` as the distribution function.

    ``cdf`` is evaluated only at arguments ``<= 0`` in the branch that is kept.
    """
    a, b = np.broadcast_arrays(a, b)

    with np.errstate(invalid="ignore"):
        upper = cdf(-a) - cdf(-b)
        lower = cdf(b) - cdf(a)
        middle = 0.5 * (sc.erf(b / math.sqrt(2.0)) - sc.erf(a / math.sqrt(2.0)))

    return np.where(a >= 0, upper, np.where(b <= 0, lower, middle))


def _shifted_mass(x, c):
    """Return ``Phi(x + c) - Phi(x)`` for ``c >= 0``, tail-safe and cancellation-free.

    A short interval takes the Taylor series of :func:`_series_mass`;
    otherwise the mass is an interval mass, with subnormal tails kept.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        mass = _interval_mass(x, x + c, _ndtr_keeping_subnormals)
    return _with_series(mass, x, c)


def _check_theorem1_args(p, r, lip):
    p = check_probability_array("p", p)
    r = check_array("r", r)
    lip = check_array("lip", lip, allow_inf=True)
    if (r < 0).any():
        index = tuple(int(i) for i in np.argwhere(r < 0)[0])
        raise ValueError(f"r must contain nonnegative finite numbers in [0, inf), got {_entry('r', index)}={r[index]}")
    bad = (lip <= 0) | np.isinf(lip)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"lip must contain positive finite numbers in (0, inf), got {_entry('lip', index)}={lip[index]}")
    try:
        return np.broadcast_arrays(p, r, lip)
    except ValueError:
        raise ValueError(
            f"p, r and lip must broadcast to one shape, got p of shape {p.shape}, "
            f"r of shape {r.shape} and lip of shape {lip.shape}"
        ) from None


def extension_mass_lower_bound(p, r, lip):
    r"""Theorem 1 (2): :math:`\alpha = \Phi(r / L + \Phi^{-1}(p))`, elementwise.

    Parameters
    ----------
    p : array_like in [0, 1]
        Model mass ``rho(A)`` of the set.
    r : array_like, finite and >= 0
        Radius of the extension ``A_r``.
    lip : array_like, > 0
        Lipschitz constant of the generator.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Lower bound on ``rho(A_r)``, of the broadcast shape of the
        arguments. A numpy scalar when all of them are 0-d, as numpy
        ufuncs return.

    Raises
    ------
    ValueError
        When an argument is out of range or the shapes do not broadcast.
    """
    p, r, lip = _check_theorem1_args(p, r, lip)

    # alpha = p + beta with the shell bound beta >= 0: exactly p at r = 0, never below p, and
    # for a short shift accurate to the digits of beta, not those of Phi(ndtri(p) + r / lip).
    alpha = p + shell_mass_lower_bound(p, r, lip)
    return np.minimum(alpha, 1.0)[()]


def shell_mass_lower_bound(p, r, lip):
    r"""Theorem 1: :math:`\beta = \Phi(r/L + \Phi^{-1}(p)) - p`, elementwise.

    The lower bound on the shell mass ``rho(A_r \ A)``. Computed as the
    Gaussian mass of ``[Phi_inv(p), Phi_inv(p) + r / L]`` with a Taylor
    series when that interval is short, so it does not vanish when
    ``r / lip`` is tiny and does not cancel when ``p`` is near 1 (there
    ``Phi_inv(p)`` is taken as ``-ndtri(1 - p)``). The module notes give its
    accuracy in the tails.

    Parameters
    ----------
    p : array_like in [0, 1]
        Model mass ``rho(A)`` of the set.
    r : array_like, finite and >= 0
        Width of the shell.
    lip : array_like, > 0
        Lipschitz constant of the generator.

    Returns
    -------
    numpy.ndarray or numpy.float64
        Lower bound on ``rho(A_r \ A)``, of the broadcast shape of the
        arguments. A numpy scalar when all of them are 0-d, as numpy
        ufuncs return.

    Raises
    ------
    ValueError
        When an argument is out of range or the shapes do not broadcast.
    """
    p, r, lip = _check_theorem1_args(p, r, lip)
    # r / lip may overflow to inf, which gives the right bound Phi(inf) - p = 1 - p.
    with np.errstate(over="ignore"):
        c = r / lip
    with np.errstate(divide="ignore"):
        x = np.where(p <= 0.5, sc.ndtri(p), -sc.ndtri(1.0 - p))

    beta = _shifted_mass(x, c)
    return np.where(p == 0, 0.0, np.where(p == 1, 0.0, beta))[()]
