"""Working precision of the scalar (mpmath) path and conversion of inputs.

Every scalar function of isobounds computes with mpmath at the working
precision plus ``GUARD_DIGITS`` and rounds its result to the working
precision on return. The working precision is a context variable, so it is
local to a thread or an asyncio task.

mpmath keeps one precision for the whole process. So that threads do not
change it under each other, isobounds changes it only through
:func:`workdps` and :func:`workprec`, which hold one process-wide
reentrant lock for as long as the raised precision is in force.
"""

import contextlib
import contextvars
import decimal
import fractions
import numbers
import re
import threading

import mpmath
import numpy as np

__all__ = [
    "DEFAULT_DPS", "GUARD_DIGITS", "exact_one_minus", "get_dps", "is_tensor", "precision", "resolve_dps", "to_mpf", "workdps",
    "workprec",
]

DEFAULT_DPS = 30
"""Default working precision, in significant decimal digits."""

GUARD_DIGITS = 10
"""Extra decimal digits carried inside every scalar computation."""

MAX_DPS = 100_000

_working_dps = contextvars.ContextVar("isobounds_working_dps", default=DEFAULT_DPS)

_MPMATH_LOCK = threading.RLock()

# Blocks of precision() still open in any thread, oldest first, and the mpmath
# precision (in bits) from before the first of them.
_OPEN_BLOCKS = []
_PREC_OUTSIDE_BLOCKS = [mpmath.mp.prec]


@contextlib.contextmanager
def workdps(dps):
    """Set mpmath's precision to ``dps`` digits inside the block, holding the mpmath lock."""
    with _MPMATH_LOCK, mpmath.workdps(dps):
        yield


@contextlib.contextmanager
def workprec(prec):
    """Set mpmath's precision to ``prec`` bits inside the block, holding the mpmath lock."""
    with _MPMATH_LOCK, mpmath.workprec(prec):
        yield


def _check_dps(dps):
    if isinstance(dps, bool) or not isinstance(dps, numbers.Integral):
        raise TypeError(f"dps must be an integer number of decimal digits, got dps={dps!r}")
    if not 1 <= dps <= MAX_DPS:
        raise ValueError(f"dps must lie in [1, {MAX_DPS}], got dps={dps}")
    return int(dps)


def get_dps():
    """Return the working precision in significant decimal digits (default 30)."""
    return _working_dps.get()


def resolve_dps(dps=None):
    """Return ``dps`` checked, or the working precision when ``dps`` is None."""
    if dps is None:
        return _working_dps.get()
    return _check_dps(dps)


@contextlib.contextmanager
def precision(dps):
    """Set the working precision of isobounds inside a ``with`` block.

    Parameters
    ----------
    dps : int
        Significant decimal digits, in [1, 100000]. Results of scalar
        functions are correct to a few units in the last of these digits.

    Notes
    -----
    Inside the block ``mpmath.mp.dps`` is set to ``dps`` as well, so that
    arithmetic on the returned ``mpf`` values and their printing use the same
    precision. Both settings are restored on exit.

    NOTE: mpmath's precision is process-wide, so while one thread is inside
    this block, mpmath arithmetic written by the user in other threads runs
    at ``dps`` too. The functions of isobounds are unaffected: they set
    their own precision under a lock. Blocks of several threads may overlap
    and end in any order. ``mpmath.mp`` then takes the precision of the
    latest block still open, and once every block has ended, the precision
    it had before the first one began.

    Examples
    --------
    >>> import isobounds
    >>> with isobounds.precision(50):
    ...     print(isobounds.Phi(-40))
    3.6558935409150297037489858026882836650539446199774e-350
    """
    dps = _check_dps(dps)
    token = _working_dps.set(dps)
    with _MPMATH_LOCK:
        if not _OPEN_BLOCKS:
            _PREC_OUTSIDE_BLOCKS[0] = mpmath.mp.prec
        entry = [dps]
        _OPEN_BLOCKS.append(entry)
        mpmath.mp.dps = dps
    try:
        yield dps
    finally:
        with _MPMATH_LOCK:
            # Remove this block's own entry: list.remove compares by value, and
            # so would take out an older block of the same precision instead.
            del _OPEN_BLOCKS[next(i for i, e in enumerate(_OPEN_BLOCKS) if e is entry)]
            if _OPEN_BLOCKS:
                mpmath.mp.dps = _OPEN_BLOCKS[-1][0]
            else:
                mpmath.mp.prec = _PREC_OUTSIDE_BLOCKS[0]
        _working_dps.reset(token)


def _nan_error(name, requirement):
    """Return the ValueError for a NaN argument, stating ``requirement`` (the allowed values) when given."""
    message = f"{name} must not be NaN, got {name}=nan"
    if requirement is not None:
        message += f". It must be {requirement}"
    return ValueError(message)


def _sympy_to_mpf(x, name, requirement=None):
    if type(x).__name__ == "NaN":
        # sympy.nan, checked by name so that this module does not import sympy.
        raise _nan_error(name, requirement)
    if not getattr(x, "is_number", False) or x.is_extended_real is False:
        raise TypeError(f"{name} must be a real number, got {name}={x!r}")
    if x.is_infinite:
        return mpmath.inf if x.is_extended_positive else -mpmath.inf
    if x.is_Rational:
        return _fraction_to_mpf(fractions.Fraction(int(x.p), int(x.q)))
    value = x.evalf(mpmath.mp.dps + 5)
    if not hasattr(value, "_mpf_"):
        raise TypeError(f"{name} must be a real number, got {name}={x!r}")
    return mpmath.mpf(value._mpf_)


def _fraction_to_mpf(q):
    """Convert a fraction keeping all its digits, as :func:`_parse_decimal` does for decimal strings.

    The quotient is rounded at the working precision plus the bits of the
    denominator. So the difference between ``q`` and a number of small
    denominator, such as ``1 - q`` near 1 or ``1/2 - q`` near 1/2, is
    correct to the working precision: ``Fraction(1, 2) + Fraction(1, 10**60)``
    does not become 1/2.

    An integer-valued fraction is converted exactly, and any other one
    gets ``2 log2 |q|`` more bits when ``|q| > 1``, as a huge decimal string
    does: a Gaussian tail at ``x`` has relative condition number about
    ``x^2``, so ``Phi(-(10**40 + 1))`` needs every bit of the argument.
    """
    if q.denominator == 1:
        return _int_to_mpf(q.numerator)
    magnitude_bits = max(0, q.numerator.bit_length() - q.denominator.bit_length() + 1)
    with workprec(mpmath.mp.prec + q.denominator.bit_length() + 2 * magnitude_bits + 20):
        return mpmath.mpf(q.numerator) / q.denominator


def _int_to_mpf(n):
    """Convert an integer exactly, with as many bits as it has when that exceeds the working precision.

    Rounding ``10**40 + 1`` to 40 digits drops the final 1, which
    multiplies ``Phi(-x)`` by about ``exp(1e40)``. A decimal string keeps
    all its digits (see :func:`_parse_decimal`), and so does an integer.
    """
    with workprec(max(mpmath.mp.prec, n.bit_length())):
        return mpmath.mpf(n)


def _binary_float_to_mpf(x):
    """Convert a numpy floating scalar exactly, a long double included.

    ``float(x)`` would round an 80-bit ``numpy.longdouble`` to 53 bits.
    """
    if not np.isfinite(x):
        return mpmath.mpf(float(x))
    numerator, denominator = x.as_integer_ratio()
    # The denominator is a power of 2, so the quotient is exact at the numerator's bit length.
    with workprec(max(mpmath.mp.prec, numerator.bit_length())):
        return mpmath.ldexp(mpmath.mpf(numerator), 1 - denominator.bit_length())


# Python (3.11 and later) rejects int() of a decimal string over 4300 digits (sys.get_int_max_str_digits),
# and mpmath 1.3 parses through int(). So longer plain decimals are converted in chunks below that limit.
_INT_CHUNK_DIGITS = 4000
_PLAIN_DECIMAL = re.compile(r"([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,18}))?")


def _digits_to_int(digits):
    """Return the integer written by a string of decimal digits, of any length."""
    value = 0
    for start in range(0, len(digits), _INT_CHUNK_DIGITS):
        chunk = digits[start:start + _INT_CHUNK_DIGITS]
        value = value * 10 ** len(chunk) + int(chunk)
    return value


def _text_to_mpf(text):
    """Return ``mpmath.mpf(text)`` at the current precision, also for a plain decimal of over 4300 digits."""
    match = _PLAIN_DECIMAL.fullmatch(text) if len(text) > _INT_CHUNK_DIGITS else None
    if match is None or not (match.group(2) or match.group(3)):
        return mpmath.mpf(text)
    sign, whole, fraction, exponent = match.groups()
    fraction = fraction or ""
    mantissa = _digits_to_int(whole + fraction)
    value = mpmath.mpf(mantissa) * mpmath.power(10, int(exponent or 0) - len(fraction))
    return -value if sign == "-" else value


def _parse_decimal(text):
    """Parse a decimal string with enough precision to keep all its digits.

    ``"2.000000000000000000000000000000000000001"`` differs from 2 in the
    40th digit, so parsing it at 30 digits would lose the difference that
    an interval such as ``[2, text]`` is about. The string is parsed with
    its own digits plus the working precision, so that such a difference
    is itself correct to the working precision.
    """
    digits = sum(ch.isdigit() for ch in text.lower().split("e")[0])
    with workdps(digits + mpmath.mp.dps + 5):
        value = _text_to_mpf(text)

    # Gaussian functions of x have relative condition number about x^2, so a
    # huge argument such as "-1e99" needs 2 log10|x| more digits.
    if mpmath.isfinite(value) and abs(value) > 1:
        extra = 2 * int(mpmath.log10(abs(value))) + 2
        with workdps(digits + mpmath.mp.dps + 5 + extra):
            value = _text_to_mpf(text)
    return value


def is_tensor(x):
    """Return whether ``x`` looks like a torch tensor (it has ``detach`` and ``cpu`` methods).

    The test needs no torch import, so the core library does not depend on torch.
    """
    return callable(getattr(x, "detach", None)) and callable(getattr(x, "cpu", None))


def to_mpf(x, name, requirement=None):
    """Convert a real number to ``mpmath.mpf`` at the current mpmath precision.

    Parameters
    ----------
    x : int, float, str, fractions.Fraction, decimal.Decimal, numpy scalar or 0-d array, 0-d torch tensor, sympy number or mpf
        The value. Strings are parsed by mpmath, so ``"1e-300"`` is exact to
        the working precision where the float ``1e-300`` is not. Decimal
        strings, fractions and sympy rationals keep all their digits (see
        :func:`_parse_decimal` and :func:`_fraction_to_mpf`), so the result
        can carry more bits than the working precision.
    name : str
        Argument name used in error messages.
    requirement : str, optional
        The allowed values, such as ``"a probability in [0, 1]"``, which the
        message for NaN states.

    Raises
    ------
    TypeError
        For booleans, complex numbers, symbols and other non-numbers.
    ValueError
        For NaN and unparsable strings.
    """
    if isinstance(x, np.ndarray) and x.ndim == 0:
        x = x.item()
    if is_tensor(x) and x.ndim == 0:
        # item() returns a Python float (exact: every torch float dtype fits in float64), int or bool.
        x = x.item()
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got the boolean {name}={x!r}")
    if isinstance(x, decimal.Decimal):
        # A Decimal is an exact decimal number, so it keeps its digits like a decimal string.
        if x.is_nan():
            raise _nan_error(name, requirement)
        x = float(x) if x.is_infinite() else str(x)
    if isinstance(x, mpmath.mpf):
        value = x
    elif isinstance(x, numbers.Integral):
        value = _int_to_mpf(int(x))
    elif isinstance(x, fractions.Fraction):
        value = _fraction_to_mpf(x)
    elif isinstance(x, np.floating):
        value = _binary_float_to_mpf(x)
    elif isinstance(x, float) or (isinstance(x, numbers.Real) and type(x).__module__ == "numpy"):
        value = mpmath.mpf(float(x))
    elif isinstance(x, str):
        text = x.strip()
        if text.lower().lstrip("+-") == "infinity":
            # Python's float() and Decimal accept "Infinity", but mpmath 1.3 accepts only "inf".
            text = text[:-len("infinity")] + "inf"
        try:
            value = _parse_decimal(text)
        except ZeroDivisionError:
            raise ValueError(f"{name} must be a decimal number, got the string {name}={x!r}, a fraction with denominator 0") from None
        except (ValueError, TypeError):
            raise ValueError(f"{name} must be a decimal number, got the string {name}={x!r}") from None
    elif type(x).__module__.startswith("sympy"):
        value = _sympy_to_mpf(x, name, requirement)
    elif isinstance(x, numbers.Real):
        value = mpmath.mpf(float(x))
    else:
        raise TypeError(f"{name} must be a real number, got {name}={x!r} of type {type(x).__name__}")
    if mpmath.isnan(value):
        raise _nan_error(name, requirement)
    return value


_EXACT_MAG_LIMIT = -100_000
"""Below ``2^-100000`` the exact ``1 - x`` would take over 100,000 bits, and rounding it loses nothing."""


def exact_dot(u, v):
    """Return the inner product of two sequences of mpf, computed exactly (with as many bits as it needs)."""
    total = mpmath.mpf(0)
    for a, b in zip(u, v):
        total = mpmath.fadd(total, mpmath.fmul(a, b, exact=True), exact=True)
    return total


def exact_one_minus(value):
    """Return ``1 - value`` for an mpf, exact unless ``|value| < 2^-100000`` (then rounded, which loses nothing).

    The exact difference keeps every bit of ``value``, so a caller that
    later raises the precision still gets the true complement.
    """
    if value == 0 or mpmath.mag(value) > _EXACT_MAG_LIMIT:
        return mpmath.fsub(1, value, exact=True)
    return 1 - value
