r"""The standard Gaussian density, distribution function and their inverses.

Scalars are computed with mpmath at the working precision (see
:func:`isobounds.precision`) and returned as ``mpmath.mpf``. Numpy arrays,
lists and tuples are dispatched to the float64 functions of
:mod:`isobounds.vectorized`, which return numpy arrays.

Every function is evaluated on the side of the distribution where it does
not cancel: the upper tail :math:`\Phi_c(x) = \Phi(-x)` never goes through
``1 - Phi(x)``; in the tails (``p < 1/4`` or ``p > 3/4``)
:math:`\Phi^{-1}(p)` is found by Newton's method on :math:`\log \Phi`
instead of ``erfinv(2p - 1)`` (which returns :math:`-\infty` for
``p = 1e-300`` at 50 digits), while in the central range it is
``sqrt(2) erfinv(2p - 1)``, with ``p - 1/2`` formed in one rounding; and
:math:`\Phi(b) - \Phi(a)` is a difference of two lower or two upper tails,
with extra digits when the two terms are close.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import mpmath
import scipy.special as sc

try:  # python-flint (extra "certified"): arb ball arithmetic with erfcinv.
    import flint
except ImportError:  # pragma: no cover - exercised when the extra is absent
    flint = None

from . import vectorized
from ._precision import GUARD_DIGITS, resolve_dps, workdps, workprec
from ._validation import check_probability, check_real, is_array_input

__all__ = [
    "phi",
    "Phi",
    "Phi_c",
    "log_Phi",
    "Phi_inv",
    "Phi_c_inv",
    "isoperimetric_profile",
    "gaussian_mass",
]

_MAX_NEWTON_STEPS = 200

# Below this value of u = c (|x| + c) the mass Phi(x + c) - Phi(x) is summed
# from its Taylor series at x. Near x = 0, Cramer's bound
# |He_n(x)| <= 1.09 sqrt(n!) e^(x^2/4) puts term n below about
# c^(n+1) / sqrt((n+1)!), so each term gains at least log2(1/c) > 5 bits. For
# large |x|, He_n(x) is close to x^n while n < x^2, and the terms fall like
# (c |x|)^n / n! with c |x| < 1e-3. The loop allows the working precision in
# bits plus _MIN_SERIES_TERMS terms, more than either case needs.
_SERIES_THRESHOLD = mpmath.mpf("1e-3")
_MIN_SERIES_TERMS = 400


# ---------------------------------------------------------------------------
# Kernels: mpf in, mpf out, at the current mpmath precision.
# ---------------------------------------------------------------------------

def _exponent_guard_bits(x):
    """Extra bits that keep ``exp(-x^2 / 2)`` at full relative precision.

    Rounding ``x^2 / 2`` to p bits leaves an absolute error of about
    ``x^2 2^-p`` in the exponent, that is a relative error of ``x^2 2^-p``
    in the result, so ``2 log2 |x|`` more bits are needed.
    """
    if not mpmath.isfinite(x) or abs(x) <= 1:
        return 0
    return 2 * int(mpmath.mag(x)) + 4


def _phi(x):
    """Return ``exp(-x^2 / 2) / sqrt(2 pi)`` as ``2^n exp(r) / sqrt(2 pi)``.

    With ``y = -x^2 / 2``, ``n = nint(y / log 2)`` and ``r = y - n log 2``.
    Forming ``y`` and ``r`` needs the extra bits of
    :func:`_exponent_guard_bits`, but ``|r| <= log(2) / 2``, so ``exp(r)``
    only needs the working precision. mpmath 1.3 would instead evaluate
    ``exp(y)`` for an integer-valued ``y`` above 600 bits of precision as
    the power ``e^y`` by repeated squaring: ``phi("1e5000")``, where
    ``x^2 / 2`` is an integer, took over 100 s that way.

    NOTE: the cost still grows with ``|x|``, because ``log 2`` is needed to
    ``2 log2 |x|`` bits, over 600,000 bits at ``|x| = 1e100000``, which is
    slow with mpmath's pure-Python backend.
    """
    if not mpmath.isfinite(x):
        return mpmath.mpf(0)
    prec = mpmath.mp.prec
    with workprec(prec + _exponent_guard_bits(x)):
        y = -x * x / 2
        n = mpmath.nint(y / mpmath.ln2)
        r = y - n * mpmath.ln2
    with workprec(prec + 10):
        value = mpmath.ldexp(mpmath.exp(r), int(n)) / mpmath.sqrt(2 * mpmath.pi)
    return +value


# Beyond this |x| mpmath's erfc overflows a float internally (near 1e155);
# the asymptotic series of the Mills ratio is used instead.
_ASYMPTOTIC_THRESHOLD = mpmath.mpf("1e100")


def _lower_tail(t):
    """Return ``Phi(-t)`` for ``t >= 0``, by erfc or, for huge t, the Mills ratio series.

    ``Phi(-t) = phi(t) / t * sum_n (-1)^n (2n - 1)!! / t^(2n)``; for
    ``t > 1e100`` each term is below the previous by a factor ``1e-200``.
    """
    if t <= _ASYMPTOTIC_THRESHOLD:
        with workprec(mpmath.mp.prec + _exponent_guard_bits(t)):
            value = mpmath.erfc(t / mpmath.sqrt(2)) / 2
        return +value

    terms = mpmath.mp.dps // 200 + 2
    total, term = mpmath.mpf(1), mpmath.mpf(1)
    for n in range(1, terms):
        term *= -(2 * n - 1) / (t * t)
        total += term
    return _phi(t) / t * total


def _negate(x):
    """Return ``-x`` without rounding, so that arguments with extra digits keep them."""
    return mpmath.fneg(x, exact=True)


def _Phi(x):
    if x <= 0:
        return _lower_tail(_negate(x))
    return 1 - _lower_tail(x)


def _Phi_c(x):
    return _Phi(_negate(x))


def _log_Phi(x):
    if x <= 0:
        return mpmath.log(_lower_tail(_negate(x)))
    return mpmath.log1p(-_lower_tail(x))


# Central range of Phi_c_inv: q in [1/4, 3/4], where x = Phi_c_inv(q) lies in
# about [-0.674, 0.674] and 1/2 - q is computed with a single rounding.
_CENTRAL_LOW = mpmath.mpf(0.25)
_CENTRAL_HIGH = mpmath.mpf(0.75)
_HALF = mpmath.mpf(0.5)
_HALF_SQRT_PI = 0.886226925452758  # sqrt(pi) / 2 in float64


def _Phi_c_inv(q):
    """Return the ``x`` with ``Phi_c(x) = q``, for ``0 <= q <= 1``.

    In the central range ``1/4 <= q <= 3/4`` the root is computed from
    ``d = 1/2 - q`` by :func:`_half_erf_inv`. That subtraction rounds once,
    from all the bits that ``q`` carries (a decimal string or a fraction
    keeps all its digits). So ``d`` and ``x`` keep full relative precision
    even for ``q = 1/2 - 1e-60``. In the tails the root is found from
    ``log q`` by :func:`_tail_quantile`; ``q > 3/4`` uses
    ``Phi_c_inv(q) = -Phi_c_inv(1 - q)``.
    """
    if q == 0:
        return mpmath.inf
    if q == 1:
        return -mpmath.inf
    if _CENTRAL_LOW <= q <= _CENTRAL_HIGH:
        return _half_erf_inv(_HALF - q)
    if q > 0.5:
        return -_tail_quantile(1 - q)
    return _tail_quantile(q)


def _half_erf_inv(d):
    """Return the ``x`` with ``Phi(x) - 1/2 = erf(x / sqrt(2)) / 2 = d``, for ``|d| <= 1/4``.

    That is ``x = sqrt(2) erfinv(2 d)``, taken from python-flint's ``erfinv``
    when it is installed and accurate enough, else found by Newton's method
    on ``erf(x / sqrt(2)) / 2 - d``, whose derivative is ``phi(x)``. The
    residual and ``x`` both have the size of ``d``, so each step keeps full
    relative precision, unlike Newton on ``log Phi_c``, whose residual
    ``log q - log Phi_c(x)`` cancels near ``q = 1/2``.
    """
    if d == 0:
        return mpmath.mpf(0)
    if flint is not None:
        x = _arb_scaled_inverse(d, "erfinv")
        if x is not None:
            return x

    x = _half_erf_inv_start(d)
    sqrt2 = mpmath.sqrt(2)
    tolerance = mpmath.eps * 4
    for _ in range(_MAX_NEWTON_STEPS):
        step = (d - mpmath.erf(x / sqrt2) / 2) / _phi(x)
        x += step
        if abs(step) <= tolerance * abs(x):
            return x
    raise ArithmeticError(f"Phi_c_inv failed to converge in the central range, for 1/2 - q={mpmath.nstr(d, 20)}")


def _half_erf_inv_start(d):
    """Return a starting point for :func:`_half_erf_inv`, accurate to float64 for any ``|d| <= 1/4``.

    ``sqrt(2) erfinv(2 d) = sqrt(2 pi) d r(2 d)`` with
    ``r(y) = erfinv(y) / (y sqrt(pi) / 2)`` near 1. ``r`` is taken from
    ``scipy.special.erfinv`` in float64; below ``1e-300``, where ``2 d``
    would be a subnormal double, ``r = 1`` to double precision.
    """
    y = float(2 * d)
    ratio = 1.0
    if abs(y) > 1e-300:
        ratio = float(sc.erfinv(y)) / (y * _HALF_SQRT_PI)
    return mpmath.sqrt(2 * mpmath.pi) * d * ratio


def _tail_quantile(q):
    """Solve ``Phi_c(x) = q`` for ``0 < q < 1/4`` by Newton's method on ``log Phi_c``.

    The float64 starting point ``-ndtri_exp(log q)`` exists for every q whose
    logarithm is a finite double (q > 10**-(10**307)), and each Newton step on
    the logarithm doubles the number of correct digits. ``x`` is above 0.67
    here, so the absolute error of one unit of ``log q`` in the residual is
    also a relative error of about one unit in ``x``.
    """
    if flint is not None:
        x = _arb_scaled_inverse(q, "erfcinv")
        if x is not None:
            return x

    log_q = mpmath.log(q)
    x = mpmath.mpf(-float(sc.ndtri_exp(float(log_q))))
    tolerance = mpmath.eps * 4
    for _ in range(_MAX_NEWTON_STEPS):
        log_tail = _log_Phi(-x)
        tail = mpmath.exp(log_tail)
        step = (log_tail - log_q) * tail / _phi(x)
        x += step
        if abs(step) <= tolerance * abs(x):
            return x
    raise ArithmeticError(f"Phi_c_inv did not converge for q={mpmath.nstr(q, 20)}")


def _arb_scaled_inverse(value, method):
    """Return ``sqrt(2) f(2 value)`` from python-flint, or None if its ball is too wide.

    ``f`` is the arb method named ``method`` (``"erfcinv"`` for the tails,
    ``"erfinv"`` for the central range). ``2 value`` is exact, and the ball
    is computed with 20 extra bits. Its midpoint is accepted only when the
    radius is below one unit in the last place of the current mpmath
    precision, so the result is as accurate as the Newton iteration.
    NOTE: ``flint.ctx.prec`` is process-global, so concurrent threads that
    also use python-flint may see it changed for the duration of the call.
    """
    saved = flint.ctx.prec
    flint.ctx.prec = mpmath.mp.prec + 20
    try:
        # mpf.man is the unsigned mantissa.
        mantissa = -int(value.man) if value < 0 else int(value.man)
        argument = flint.arb((mantissa, int(value.exp) + 1))
        ball = getattr(argument, method)() * flint.arb(2).sqrt()
        man, exp = ball.mid().man_exp()
        rad_man, rad_exp = ball.rad().man_exp()
    finally:
        flint.ctx.prec = saved

    x = mpmath.mpf((int(man), int(exp)))
    radius = mpmath.mpf((int(rad_man), int(rad_exp)))
    if x == 0 or radius > abs(x) * mpmath.eps:
        return None
    return x


def _Phi_inv(p):
    return -_Phi_c_inv(p)


def _isoperimetric_profile(p):
    if p == 0 or p == 1:
        return mpmath.mpf(0)
    return _phi(_Phi_c_inv(min(p, 1 - p)))


def _gaussian_mass_once(a, b):
    """Return ``(Phi(b) - Phi(a), larger term)`` for ``a <= b`` without tail cancellation."""
    if a >= 0:
        upper = _Phi_c(a)
        return upper - _Phi_c(b), upper
    if b <= 0:
        upper = _Phi(b)
        return upper - _Phi(a), upper
    sqrt2 = mpmath.sqrt(2)
    return (mpmath.erf(b / sqrt2) - mpmath.erf(a / sqrt2)) / 2, mpmath.mpf(1)


def _gaussian_mass(a, b):
    """Gaussian mass of ``[a, b]``; a negative number when ``a > b``.

    When ``a`` and ``b`` lie on the same side of 0 and are close, the
    difference of the two tails loses ``log10(tail / mass)`` digits. A thin
    interval, ``h (|a| + h) < 1e-3`` with ``h = b - a``, is therefore summed
    from the Taylor series at ``a`` (:func:`_thin_gaussian_mass`). For the
    others the kernel measures the loss on a first pass and recomputes with
    as many extra digits.
    """
    if a > b:
        return -_gaussian_mass(b, a)
    if a == b:
        return mpmath.mpf(0)
    if mpmath.isfinite(a) and mpmath.isfinite(b):
        # The width is exact in the ends' own bits, which may exceed the working precision.
        width = mpmath.fsub(b, a, exact=True)
        if width * (abs(a) + width) < _SERIES_THRESHOLD:
            return _thin_gaussian_mass(a, width)

    mass, upper = _gaussian_mass_once(a, b)
    if mass <= 0 or upper / mass > 2 ** (GUARD_DIGITS * 3):
        lost_bits = 2 * mpmath.mp.prec if mass <= 0 else int(mpmath.log(upper / mass, 2)) + 1
        with workprec(mpmath.mp.prec + lost_bits + 20):
            mass, _ = _gaussian_mass_once(a, b)
            if mass <= 0 and b - a > 0:
                mass = _gaussian_mass_series(a, b)
    return +mass


def _shifted_mass_series(x, c):
    """Phi(x + c) - Phi(x) = phi(x) sum_n (-1)^n He_n(x) c^(n+1) / (n+1)!, for small c (|x| + c)."""
    hermite_prev, hermite = mpmath.mpf(0), mpmath.mpf(1)
    power = c
    total = mpmath.mpf(0)
    tolerance = mpmath.eps
    previous_small = False
    for n in range(mpmath.mp.prec + _MIN_SERIES_TERMS):
        term = (-1) ** n * hermite * power
        total += term
        # He_n(x) can vanish at one n (every odd n at x = 0), never at two
        # consecutive ones, so the sum stops after two negligible terms.
        small = abs(term) <= tolerance * abs(total)
        if small and previous_small:
            break
        previous_small = small
        hermite_prev, hermite = hermite, x * hermite - n * hermite_prev
        power = power * c / (n + 2)
    return _phi(x) * total


def _thin_gaussian_mass(x, width):
    """Return ``Phi(x + width) - Phi(x)`` from the Taylor series at ``x``, for ``width (|x| + width) < 1e-3``.

    The series takes no difference of tails, so a width as small as
    ``1e-300`` costs no extra precision, where the two tails would agree to
    about 1000 bits. ``phi(x)`` amplifies a rounding of ``x`` by ``x^2``, so
    the series runs with ``2 log2 |x|`` more bits, and ``x`` and ``width``
    should carry them.
    """
    with workprec(mpmath.mp.prec + 2 * max(0, mpmath.mag(x)) + 20):
        return +_shifted_mass_series(x, width)


def _gaussian_mass_series(a, b):
    """Integrate phi over a very short interval, relative to its width.

    With ``h = b - a`` and ``t = h s``, ``phi(a + t) / phi(a) =
    exp(-a h s - (h s)^2 / 2)``, so the mass is ``h phi(a) int_0^1
    exp(-a h s - h^2 s^2 / 2) ds``. The integral over [0, 1] is of order 1,
    so mpmath.quad's absolute error target is a relative one here.
    """
    h = b - a
    integral = mpmath.quad(lambda s: mpmath.exp(-a * h * s - (h * s) ** 2 / 2), [0, 1])
    return h * _phi(a) * integral


# ---------------------------------------------------------------------------
# Public functions.
# ---------------------------------------------------------------------------

def _is_array(x):
    return is_array_input(x)


def _evaluate(kernel, args, dps):
    """Run ``kernel`` at ``dps + GUARD_DIGITS`` digits and round to ``dps``.

    ``args`` are ``(name, value, checker)`` triples; values are converted
    at the raised precision so that strings and fractions keep their digits.
    """
    dps = resolve_dps(dps)
    with workdps(dps + GUARD_DIGITS):
        values = [check(name, value) for name, value, check in args]
        result = kernel(*values)
    with workdps(dps):
        return +result


def phi(x, *, dps=None):
    r"""Standard Gaussian density :math:`\varphi(x) = e^{-x^2/2} / \sqrt{2\pi}`.

    Parameters
    ----------
    x : real number or array_like
        Any real number; ``phi(+-inf) = 0``.
    dps : int, optional
        Significant digits of the result (default: the working precision).

    Returns
    -------
    mpmath.mpf, or numpy.ndarray for array input.
    """
    if _is_array(x):
        return vectorized.phi(x)
    return _evaluate(_phi, [("x", x, check_real)], dps)


def Phi(x, *, dps=None):
    r"""Standard Gaussian distribution function :math:`\Phi(x) = \int_{-\infty}^x \varphi`.

    Computed as ``erfc(-x / sqrt(2)) / 2`` for ``x <= 0``, so the lower tail
    keeps full relative precision: ``Phi(-40)`` is about ``3.66e-350``,
    far below the smallest double.

    NOTE: at huge arguments the value is fast but printing it is not:
    ``Phi("-1e5000")`` returns in milliseconds, while ``str()`` of the
    result makes mpmath compute a power of 10 with a 10,000-digit exponent
    (and Python refuses to print that exponent beyond 4,300 digits). Use
    :func:`log_Phi` to see such values.

    Parameters
    ----------
    x : real number or array_like
        Any real number, infinities included.
    dps : int, optional
        Significant digits of the result.
    """
    if _is_array(x):
        return vectorized.Phi(x)
    return _evaluate(_Phi, [("x", x, check_real)], dps)


def Phi_c(x, *, dps=None):
    r"""Upper Gaussian tail :math:`\Phi_c(x) = 1 - \Phi(x) = \Phi(-x)`, without the subtraction.

    Parameters
    ----------
    x : real number or array_like
        Any real number, infinities included.
    dps : int, optional
        Significant digits of the result.

    Notes
    -----
    NOTE: the result for a huge ``x`` has a huge binary exponent, and
    mpmath's conversion to decimal (``print``, ``str``, ``repr``,
    ``mpmath.nstr``) grows faster than linearly with its length.
    ``Phi_c(1e1000)``, about ``10^(-2.2e1999)``, takes about 2 s to print
    on a 2-core machine, and ``Phi_c(1e5000)`` more than a minute, though
    each is computed in well under a second. Print :func:`log_Phi` of
    ``-x`` instead, which is about ``-x^2 / 2``.
    """
    if _is_array(x):
        return vectorized.Phi_c(x)
    return _evaluate(_Phi_c, [("x", x, check_real)], dps)


def log_Phi(x, *, dps=None):
    r"""Logarithm of the Gaussian distribution function, :math:`\log \Phi(x)`.

    Finite for every finite ``x``: ``log_Phi(-1e5)`` is about ``-5e9``.
    For ``x > 0`` it is ``log1p(-Phi_c(x))``, accurate where ``Phi(x)`` is
    within rounding of 1.
    """
    if _is_array(x):
        return vectorized.log_Phi(x)
    return _evaluate(_log_Phi, [("x", x, check_real)], dps)


def Phi_inv(p, *, dps=None):
    r"""Gaussian quantile function :math:`\Phi^{-1}(p)`.

    Parameters
    ----------
    p : real number in [0, 1], or array_like
        ``Phi_inv(0) = -inf`` and ``Phi_inv(1) = +inf``. Pass tiny masses as
        strings or mpf (``"1e-300"``) to keep digits that a float would lose.
    dps : int, optional
        Significant digits of the result.

    Notes
    -----
    Uses ``Phi_inv(p) = -Phi_c_inv(p)``. For ``p < 1/4`` (and ``1 - p``
    when ``p > 3/4``) the root of ``log Phi_c(x) = log p`` is found by
    Newton's method from the double-precision value of
    ``scipy.special.ndtri_exp(log p)``, or taken from python-flint's
    ``erfcinv`` when that is installed. So ``p = 1e-300`` and even
    ``p = 1e-100000`` keep full relative precision. For
    ``1/4 <= p <= 3/4`` the result is ``sqrt(2) erfinv(2p - 1)`` (python-flint,
    or Newton's method on ``erf``), with ``p - 1/2`` formed in one rounding,
    so ``p = 1/2 - 1e-60`` keeps full relative precision as well. For a
    ``fractions.Fraction`` or sympy ``Rational``, ``p`` keeps the bits of its
    denominator, so ``Fraction(1, 2) + Fraction(1, 10**60)`` gives about
    ``2.5e-60`` and not 0.

    Examples
    --------
    >>> import isobounds
    >>> print(isobounds.Phi_inv("1e-300", dps=15))
    -37.0470962993612
    """
    if _is_array(p):
        return vectorized.Phi_inv(p)
    return _evaluate(_Phi_inv, [("p", p, check_probability)], dps)


def Phi_c_inv(q, *, dps=None):
    r"""Inverse of the upper tail: the ``x`` with :math:`\Phi_c(x) = q`.

    Computed from ``q`` itself, never from ``1 - q``, so that
    ``Phi_c_inv("1e-300")`` is about 37.05 to full precision, and from
    ``1/2 - q`` in the central range ``[1/4, 3/4]``, so that
    ``Phi_c_inv("0.5000000000000000000000000000000000001")`` is about
    ``-2.5e-37`` to full precision. As in :func:`Phi_inv`, a
    ``fractions.Fraction`` or sympy ``Rational`` keeps the bits of its
    denominator.

    Parameters
    ----------
    q : real number in [0, 1], or array_like
        ``Phi_c_inv(0) = +inf`` and ``Phi_c_inv(1) = -inf``.
    dps : int, optional
        Significant digits of the result.
    """
    if _is_array(q):
        return vectorized.Phi_c_inv(q)
    return _evaluate(_Phi_c_inv, [("q", q, check_probability)], dps)


def isoperimetric_profile(p, *, dps=None):
    r"""Gaussian isoperimetric profile :math:`I(p) = \varphi(\Phi^{-1}(p))`.

    Symmetric (``I(p) = I(1 - p)``), zero at 0 and 1, maximal at
    ``p = 1/2`` where it equals :math:`1/\sqrt{2\pi}`. Evaluated at
    ``min(p, 1 - p)`` so that masses near 1 do not lose digits.

    Parameters
    ----------
    p : real number in [0, 1], or array_like
    dps : int, optional
        Significant digits of the result.

    References
    ----------
    Salmona et al., 2022, Theorem 1 (the profile in the Gaussian
    isoperimetric inequality).
    """
    if _is_array(p):
        return vectorized.isoperimetric_profile(p)
    return _evaluate(_isoperimetric_profile, [("p", p, check_probability)], dps)


def gaussian_mass(a, b, *, dps=None):
    r"""Standard Gaussian mass of the interval: :math:`\Phi(b) - \Phi(a)`.

    Computed from the tail side (``Phi_c(a) - Phi_c(b)`` when ``a >= 0``)
    with extra digits when the interval is short compared to its distance
    from 0, so that ``gaussian_mass(30, 31)`` (about ``4.9e-198``) and
    ``gaussian_mass(2, "2.000000000000000000000000000000000000001")``
    are correct to the working precision.

    Parameters
    ----------
    a, b : real numbers (infinities allowed), or array_like
        The result is negative when ``a > b``.
    dps : int, optional
        Significant digits of the result.
    """
    if _is_array(a) or _is_array(b):
        return vectorized.gaussian_mass(a, b)
    return _evaluate(_gaussian_mass, [("a", a, check_real), ("b", b, check_real)], dps)
