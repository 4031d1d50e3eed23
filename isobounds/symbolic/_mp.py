"""mpmath kernels behind ``evalf`` and ``lambdify(..., "mpmath")``.

Every kernel takes and returns ``mpmath.mpf`` at the current mpmath precision
and works with guard bits inside. The quantile is found by Newton's method on
``log Phi`` in the lower tail and on ``erf`` near the median, because
``sqrt(2) * erfinv(2 p - 1)`` rounds ``2 p - 1`` to ``-1`` for tiny ``p``.
Lower tails ``Phi(x)`` with ``x < -1e150`` come from
:func:`isobounds.gaussian.Phi`, because mpmath's own ``ncdf`` and ``erfc``
raise OverflowError below about ``-1.6e154``.
"""

import mpmath
from mpmath.libmp import prec_to_dps

from .. import gaussian
from .._precision import MAX_DPS

__all__ = [
    "normal_pdf",
    "normal_cdf",
    "normal_quantile",
    "lower_quantile",
    "central_quantile",
    "gaussian_isoperimetric_profile",
    "normal_interval_mass",
    "binary_kl_divergence",
    "binary_kl_divergence_of_masses",
    "binary_kl_divergence_of_gap",
    "exact_sum",
]

GUARD_BITS = 20
_MAX_NEWTON_STEPS = 200
# Bits of the first Newton solve, and bits added at each doubling because a step loses a few.
_START_BITS = 64
_LADDER_MARGIN_BITS = 8
_MAX_PRECISION_STEPS = 40

# mpmath 1.3's erfc, behind ncdf, multiplies the square of the integer part of
# its argument by a float to decide whether its asymptotic series converges.
# That raises OverflowError once the square exceeds the largest double, so
# ncdf(x) fails for x below about -1.6e154. The threshold keeps a margin.
_NCDF_LIMIT = mpmath.mpf("1e150")

# isobounds.gaussian.Phi rounds its result to a number of decimal digits.
# Requesting 3 digits more than the current binary precision represents keeps
# that rounding well below one unit in the last bit.
_DECIMAL_GUARD_DIGITS = 3
_LOG10_2 = 0.30103  # Rounded, for the decimal exponent in an error message.


def normal_pdf(x):
    """Return the standard Gaussian density at ``x``."""
    return mpmath.npdf(x)


def normal_cdf(x):
    """Return the standard Gaussian distribution function at ``x``, accurate in both tails.

    Below ``-1e150`` the lower tail is taken from :func:`isobounds.gaussian.Phi`,
    because ``mpmath.ncdf`` raises OverflowError below about ``-1.6e154``.

    NOTE: :func:`isobounds.gaussian.Phi` works with at most ``MAX_DPS``
    (100,000) digits. The callers in :mod:`isobounds.symbolic.functions` add
    about ``2 log10 |x|`` digits so that ``exp(-x^2 / 2)`` keeps its relative
    precision, so ``x`` below about ``-1e50000`` raises ValueError.
    """
    if x < -_NCDF_LIMIT:
        dps = prec_to_dps(mpmath.mp.prec) + _DECIMAL_GUARD_DIGITS
        if dps > MAX_DPS:
            # The message gives the decimal exponent, because mpmath.nstr(x) exceeds
            # Python's limit of 4300 digits on integer string conversion here.
            exponent = int(mpmath.mag(x) * _LOG10_2)
            raise ValueError(
                f"Phi(x) for x near -1e{exponent} needs {dps} significant digits, more than the "
                f"{MAX_DPS} that isobounds.gaussian.Phi allows"
            )
        value = gaussian.Phi(x, dps=dps)
        return +value
    return mpmath.ncdf(x)


def lower_quantile(p):
    """Solve ``Phi(x) = p`` for ``0 < p <= 1/2`` by Newton's method on ``log Phi``.

    ``log Phi`` is concave and increasing, so Newton's method converges from
    any starting point; the start ``-sqrt(-2 log p)`` is within a few steps.
    """
    with mpmath.extraprec(GUARD_BITS):
        log_p = mpmath.log(p)

    def newton_step(x):
        cdf = normal_cdf(x)
        return (log_p - mpmath.log(cdf)) * cdf / mpmath.npdf(x)

    start = -mpmath.sqrt(-2 * log_p)
    return _newton_solve(newton_step, start, lambda: f"p={mpmath.nstr(p, 15)}")


def central_quantile(d):
    """Solve ``Phi(x) - 1/2 = d`` for ``|d| <= 1/4`` without forming ``1/2 + d``.

    The start ``sqrt(2 pi) d`` lies between 0 and the root, where
    ``Phi - 1/2`` is concave (``d > 0``) or convex (``d < 0``), so the
    iterates move monotonically to the root.
    """
    if d == 0:
        return mpmath.mpf(0)

    def newton_step(x):
        return (d - mpmath.erf(x / mpmath.sqrt(2)) / 2) / mpmath.npdf(x)

    start = mpmath.sqrt(2 * mpmath.pi) * d
    return _newton_solve(newton_step, start, lambda: f"p=1/2+{mpmath.nstr(d, 15)}")


def _newton_solve(newton_step, start, describe):
    """Run Newton's method to the working precision plus ``GUARD_BITS``, doubling the precision at each step.

    The root is first found to about ``_START_BITS`` bits. Each later step at
    twice the precision doubles the correct bits (quadratic convergence), so
    only the last two steps, the second of which checks convergence, run at
    full precision. At 2000 bits, where ``Phi`` near -37 costs about 35 ms
    in mpmath, ``Phi_inv(1e-300)`` evaluates ``Phi`` twice at full
    precision and once each at about 1/2, 1/4 and 1/8 of it. Newton's
    method at full precision throughout took 8 steps.

    Every precision keeps ``2 log2 |start|`` bits beyond its share of the
    ladder, because ``exp(-x^2 / 2)`` loses that many bits of ``x`` to the
    exponent. The callers add them to the working precision for that reason.
    """
    final = mpmath.mp.prec + GUARD_BITS
    exponent_bits = min(2 * max(int(mpmath.mag(start)), 0), final)
    ladder = [final - exponent_bits]
    while ladder[-1] > 2 * _START_BITS:
        ladder.append(ladder[-1] // 2 + _LADDER_MARGIN_BITS)
    x = mpmath.mpf(start)
    for index, bits in enumerate(reversed(ladder)):
        last = index == len(ladder) - 1
        with mpmath.workprec(bits + exponent_bits):
            # The first and the last precisions iterate to convergence; those between take one step.
            if index == 0 or last:
                x, converged = _iterate_to_noise(newton_step, x)
                if last and not converged:
                    raise ArithmeticError(f"Newton's method for Phi_inv did not converge at {describe()}")
            else:
                x += newton_step(x)
    return +x


def _iterate_to_noise(newton_step, x):
    """Take Newton steps at the current precision; return ``(x, converged)``.

    The steps stop when one is below ``4 eps |x|``, or when one no longer
    shrinks after the steps have reached the square root of the precision:
    then they are rounding noise. Near ``p = 1/2`` the root ``x`` is small,
    and the noise of ``log p - log Phi(x)``, a few ``eps`` of ``log p``,
    can exceed ``eps |x|``.
    """
    tolerance = 4 * mpmath.eps
    previous = mpmath.inf
    for _ in range(_MAX_NEWTON_STEPS):
        step = newton_step(x)
        x += step
        size = abs(step)
        if size <= tolerance * abs(x):
            return x, True
        if size >= previous and previous <= mpmath.sqrt(mpmath.eps) * max(abs(x), 1):
            return x, True
        previous = size
    return x, False


def normal_quantile(p):
    """Return ``Phi_inv(p)`` for ``0 <= p <= 1`` (``-inf`` at 0, ``+inf`` at 1).

    ``1 - p`` and ``p - 1/2`` are exact in binary floating point on the
    ranges where they are used (Sterbenz's lemma), so no digit of ``p`` is
    lost by the change of variable.
    """
    p = mpmath.mpf(p)
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got p={mpmath.nstr(p, 15)}")
    if p == 0:
        return mpmath.ninf
    if p == 1:
        return mpmath.inf
    if p <= 0.25:
        return lower_quantile(p)
    if p >= 0.75:
        return -lower_quantile(1 - p)
    return central_quantile(p - mpmath.mpf(0.5))


def gaussian_isoperimetric_profile(p):
    """Return ``I(p) = phi(Phi_inv(p))`` for ``0 <= p <= 1``, computed from the smaller of ``p`` and ``1 - p``."""
    p = mpmath.mpf(p)
    if not 0 <= p <= 1:
        raise ValueError(f"p must be a probability in [0, 1], got p={mpmath.nstr(p, 15)}")
    if p == 0 or p == 1:
        return mpmath.mpf(0)
    with mpmath.extraprec(GUARD_BITS):
        x = normal_quantile(min(p, 1 - p))
        value = mpmath.npdf(x)
    return +value


def normal_interval_mass(a, width):
    """Return ``Phi(a + width) - Phi(a)``, the Gaussian mass of ``[a, a + width]`` (negative for ``width < 0``).

    The width is passed apart from ``a`` so that a short interval keeps its
    digits: for ``a = 0`` and ``width = 1e-300`` the two values of ``Phi``
    agree to 300 digits. The kernel takes the interval on the side of 0
    where the two tails are small, measures how many bits the difference of
    the tails loses on a first pass, and recomputes with that many more.
    """
    a, width = mpmath.mpf(a), mpmath.mpf(width)
    if mpmath.isnan(a) or mpmath.isnan(width):
        return mpmath.nan
    if width == 0:
        return mpmath.mpf(0)
    if width < 0:
        return -normal_interval_mass(-a, -width)
    if mpmath.isinf(a):
        return mpmath.mpf(0) if mpmath.isfinite(width) or a > 0 else mpmath.mpf(1)
    if mpmath.isinf(width):
        return normal_cdf(-a)

    # Forming a + width keeps the bits of the width only with about
    # log2|a| more bits, and Phi amplifies the rounding of a + width by |a|.
    extra = GUARD_BITS + 2 * max(0, mpmath.mag(a))
    for _ in range(_MAX_PRECISION_STEPS):
        with mpmath.extraprec(extra):
            mass, scale = _interval_mass_and_scale(a, width)
        if mass > 0 and scale <= 2 ** (extra - GUARD_BITS) * mass:
            return +mass
        lost_bits = int(mpmath.log(scale / mass, 2)) if mass > 0 else mpmath.mp.prec + extra
        extra += lost_bits + GUARD_BITS
    raise ArithmeticError(
        f"normal_interval_mass lost all digits at a={mpmath.nstr(a, 15)}, width={mpmath.nstr(width, 15)}"
    )


def _interval_mass_and_scale(a, width):
    """Return the mass of ``[a, a + width]`` and the size of the terms it is the difference of."""
    low, high = a, a + width
    if low + high > 0:
        # The mirror interval [-high, -low] has the same mass and lies mostly below 0.
        low, high = -high, -low
    if high <= 0:
        upper = normal_cdf(high)
        return upper - normal_cdf(low), upper
    root2 = mpmath.sqrt(2)
    mass = (mpmath.erf(high / root2) + mpmath.erf(-low / root2)) / 2
    return mass, mass


def binary_kl_divergence(a, b, a_complement=None, b_complement=None):
    """Return ``a log(a/b) + (1-a) log((1-a)/(1-b))`` with ``0 log 0 = 0``, for ``a, b`` in [0, 1].

    ``a_complement`` and ``b_complement`` are ``1 - a`` and ``1 - b``, for a
    caller that computed them more precisely than ``a`` and ``b``
    (``a = 1 - 10**-300`` rounds to 1). They default to ``1 - a`` and
    ``1 - b`` formed here. Where both parameters of a ratio exceed 1/2, its
    logarithm is taken from the complements, as
    ``log(a / b) = log1p((b_c - a_c) / b)``.

    The two terms cancel to second order when ``a`` is close to ``b``. Each
    carries an absolute rounding error of about ``(|term| + 1) * eps`` from
    its logarithm, so the kernel compares that error with the total and
    recomputes with as many extra bits as were lost.
    """
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    supplied = [None if value is None else mpmath.mpf(value) for value in (a_complement, b_complement)]
    for name, value in (("a", a), ("b", b), ("1 - a", supplied[0]), ("1 - b", supplied[1])):
        if value is not None and not 0 <= value <= 1:
            raise ValueError(f"{name} must be a probability in [0, 1], got {name}={mpmath.nstr(value, 15)}")
    if a == b and supplied[0] == supplied[1]:
        return mpmath.mpf(0)
    extra = GUARD_BITS
    while True:
        with mpmath.extraprec(extra):
            # Formed at each pass, so that a recomputation with more bits
            # also resolves 1 - a and 1 - b of arguments with many bits.
            a_complement = 1 - a if supplied[0] is None else supplied[0]
            b_complement = 1 - b if supplied[1] is None else supplied[1]
            first = _kl_term(a, b, a_complement, b_complement)
            second = _kl_term(a_complement, b_complement, a, b)
            total = first + second
            error_scale = max(abs(first), abs(second)) + 1
        if not mpmath.isfinite(total):
            return total
        if total != 0 and error_scale <= 2 ** (extra - GUARD_BITS) * abs(total):
            return +total
        lost_bits = mpmath.mp.prec if total == 0 else int(mpmath.log(error_scale / abs(total), 2))
        extra += lost_bits + GUARD_BITS


def binary_kl_divergence_of_masses(a_scale, a_low, a_width, b_scale, b_low, b_width):
    """Return ``kl(a || b)`` for ``a = a_scale * (Phi(a_low + a_width) - Phi(a_low))`` and ``b`` alike.

    The masses are formed here, in mpmath, whose exponent range has no
    practical limit. So a mass below the smallest float64 keeps its value,
    such as ``1.8e-350`` for the slab of two Gaussians 160 standard
    deviations apart. A float64 ``b`` would be 0 there, and ``kl(a || 0)``
    infinite. A
    plain value ``x`` is passed as ``(x, -inf, inf)``, the mass of the whole
    line being 1. The masses carry ``GUARD_BITS`` more bits than the
    working precision.
    """
    with mpmath.extraprec(GUARD_BITS):
        a = a_scale * normal_interval_mass(a_low, a_width)
        b = b_scale * normal_interval_mass(b_low, b_width)
    return binary_kl_divergence(a, b)


def _kl_term(x, y, x_complement, y_complement):
    """Return ``x log(x / y)`` with ``0 log 0 = 0``, given ``1 - x`` and ``1 - y``."""
    if x == 0:
        return mpmath.mpf(0)
    if y == 0:
        return mpmath.inf
    if x > 0.5 and y > 0.5:
        return x * mpmath.log1p((y_complement - x_complement) / y)
    return x * mpmath.log(x / y)


def exact_sum(*terms):
    """Return the sum of ``terms`` rounded once to the working precision.

    The terms are added exactly in order of decreasing magnitude, so
    ``1/2 - 1/2 + Phi(-100)/2`` keeps every digit of ``Phi(-100)/2``, where
    Python's left-to-right sum ``Phi(-100)/2 - 1/2 + 1/2`` gives 0. The
    addition stops once the partial sum exceeds the rest by more than the
    working precision: the rest cannot change its rounded value then.
    """
    values = sorted((mpmath.mpf(term) for term in terms), key=lambda value: -mpmath.mag(value) if value else mpmath.inf)
    if any(mpmath.isnan(value) or mpmath.isinf(value) for value in values):
        return mpmath.fsum(values)
    margin = mpmath.mp.prec + GUARD_BITS + len(values).bit_length()
    total = mpmath.mpf(0)
    for value in values:
        if value == 0:
            break
        if total != 0 and mpmath.mag(total) - mpmath.mag(value) > margin:
            break
        total = mpmath.fadd(total, value, exact=True)
    return +total


def binary_kl_divergence_of_gap(b, b_complement, gap):
    """Return ``kl(a || b)`` for ``a = b + gap``, given ``b``, ``1 - b`` and ``gap = a - b``.

    With ``x = gap / b``, ``y = -gap / (1 - b)`` and
    ``g(t) = (1 + t) log(1 + t) - t``,

    ``kl(a || b) = b g(x) + (1 - b) g(y)``,

    because ``b x + (1 - b) y = 0``. Both terms are nonnegative, so they do
    not cancel, and ``g`` is summed as a series near 0 (:func:`_kl_excess`).
    So the divergence keeps its digits when ``a`` and ``b`` agree beyond the
    working precision, as for far modes in Corollary 8 of Salmona et al.
    (2022), where it is about ``2 gap^2`` with ``gap`` near ``1e-2175``.
    Domain: ``b`` and ``1 - b`` in [0, 1] and ``a`` in [0, 1]; an ``a``
    outside [0, 1] by a few units in the last place of ``b`` or ``1 - b``
    (rounding of the arguments) is taken as 0 or 1.
    """
    b, b_complement, gap = mpmath.mpf(b), mpmath.mpf(b_complement), mpmath.mpf(gap)
    if mpmath.isnan(b) or mpmath.isnan(b_complement) or mpmath.isnan(gap):
        return mpmath.nan
    for name, value in (("b", b), ("1 - b", b_complement)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be a probability in [0, 1], got {name}={mpmath.nstr(value, 15)}")
    if gap == 0:
        return mpmath.mpf(0)
    if (gap > 0 and b_complement == 0) or (gap < 0 and b == 0):
        raise ValueError(f"a = b + (a - b) must lie in [0, 1], got b={mpmath.nstr(b, 15)}, "
                         f"a - b={mpmath.nstr(gap, 15)}")
    if b == 0 or b_complement == 0:
        return mpmath.inf
    with mpmath.extraprec(GUARD_BITS):
        x = _clamped_ratio("(a - b)/b", gap / b)
        y = _clamped_ratio("(b - a)/(1 - b)", -gap / b_complement)
        value = b * _kl_excess(x) + b_complement * _kl_excess(y)
    return +value


def _clamped_ratio(name, ratio):
    """Return ``ratio`` of :func:`binary_kl_divergence_of_gap`, raised to -1 when it is below by rounding only."""
    if ratio >= -1:
        return ratio
    if ratio >= -1 - 2 ** (GUARD_BITS + 4 - mpmath.mp.prec):
        return mpmath.mpf(-1)
    raise ValueError(f"a must be a probability in [0, 1], got {name}={mpmath.nstr(ratio, 15)} < -1")


_SERIES_LIMIT = mpmath.mpf(0.25)


def _kl_excess(t):
    """Return ``g(t) = (1 + t) log(1 + t) - t`` for ``t >= -1``, with ``g(-1) = 1``.

    For ``|t| < 1/4`` the value is the series
    ``sum_{k >= 2} (-t)^k / (k (k - 1))``, whose terms fall at least 4 times
    at each step. Elsewhere it is the closed form, which there loses at most
    about 4 bits to cancellation.
    """
    if t == -1:
        return mpmath.mpf(1)
    if abs(t) >= _SERIES_LIMIT:
        return (1 + t) * mpmath.log1p(t) - t
    total = mpmath.mpf(0)
    power = t * t
    k = 2
    while True:
        term = power / (k * (k - 1))
        total += term
        if abs(term) <= mpmath.eps * abs(total):
            return total
        power *= -t
        k += 1
