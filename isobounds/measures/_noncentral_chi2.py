r"""Noncentral chi-square distribution function and upper tail at mpmath precision.

For :math:`X \sim \chi'^2_k(\lambda)` (k degrees of freedom, noncentrality
:math:`\lambda`), with :math:`a = k/2`, :math:`y = x/2`, :math:`\mu = \lambda/2`,

.. math::

    P(X \le x) = \sum_{j \ge 0} e^{-\mu} \frac{\mu^j}{j!} P(a + j, y), \qquad
    P(X > x) = \sum_{j \ge 0} e^{-\mu} \frac{\mu^j}{j!} Q(a + j, y),

where P and Q are the regularized lower and upper incomplete gamma
functions (the Poisson mixture of central chi-square laws). All terms are
positive, so neither sum cancels, and each keeps its relative precision
however small it is. One incomplete gamma value is computed by
``mpmath.gammainc``. The others follow from the recurrences
``P(s, y) = P(s + 1, y) + y^s e^{-y} / Gamma(s + 1)``, run downwards, and
``Q(s + 1, y) = Q(s, y) + y^s e^{-y} / Gamma(s + 1)``, run upwards: in those
directions they only add positive numbers.

NOTE: the cost grows linearly with the noncentrality (about ``lambda / 2``
terms, and up to ``x`` terms where ``mpmath.gammainc`` fails near its
transition region). In R^3 at 30 digits a ball 100 standard deviations away
takes about 0.1 s and one 300 away about 1 s (measured on a 2-core CPU).
"""

import mpmath
from mpmath.libmp import NoConvergence

__all__ = ["ncx2_cdf", "ncx2_sf"]


def _extra_bits(mu, y):
    """Bits that absorb the rounding of the recurrences, about log2 of the number of terms."""
    return int(mpmath.log(mu + y + 2, 2)) + 10


def _log_poisson(j, mu):
    return -mu + j * mpmath.log(mu) - mpmath.loggamma(j + 1)


def _span(mu, factor):
    """Number of terms kept on one side of the Poisson mode."""
    sigmas = mpmath.sqrt(2 * mpmath.log(2) * (mpmath.mp.prec + 20))
    return int(mpmath.ceil(factor * sigmas * mpmath.sqrt(mu))) + 10


def _lower_series(a, y, mu, j_top):
    """Sum ``sum_{j=0}^{j_top} Pois(j; mu) P(a + j, y)`` and return it with its last term."""
    p = mpmath.gammainc(a + j_top, 0, y, regularized=True)
    weight = mpmath.exp(_log_poisson(j_top, mu))
    top_term = weight * p

    # increment = y^(a + j - 1) e^(-y) / Gamma(a + j), added to step from P(a + j) to P(a + j - 1).
    increment = mpmath.exp((a + j_top - 1) * mpmath.log(y) - y - mpmath.loggamma(a + j_top))
    # Plain additions of positive terms: the rounding error grows like (number of terms) * eps,
    # which the caller's extra bits absorb. mpmath.fsum would be exact but builds integers as
    # long as the exponent range of the terms, which reaches 1e5 decimal digits for far balls.
    total = top_term
    for j in range(j_top, 0, -1):
        p += increment
        weight *= j / mu
        increment *= (a + j - 1) / y
        total += weight * p
    return total, top_term


def ncx2_cdf(df, nc, x):
    """Distribution function ``P(X <= x)`` of the noncentral chi-square law, at the current precision.

    Parameters
    ----------
    df : mpf, > 0
        Degrees of freedom k.
    nc : mpf, >= 0
        Noncentrality lambda.
    x : mpf
        Any real number or +inf.
    """
    if x <= 0:
        return mpmath.mpf(0)
    if mpmath.isinf(x):
        return mpmath.mpf(1)
    a, y, mu = df / 2, x / 2, nc / 2
    if mu == 0:
        return mpmath.gammainc(a, 0, y, regularized=True)

    with mpmath.workprec(mpmath.mp.prec + _extra_bits(mu, y)):
        j_top = int(mpmath.ceil(mu)) + _span(mu, 1)
        factor = 1
        while True:
            try:
                total, top_term = _lower_series(a, y, mu, j_top)
            except NoConvergence:
                # mpmath's incomplete gamma can fail for a large shape close to y; its
                # series converges quickly once the shape exceeds 2 y.
                j_top = max(2 * j_top, int(mpmath.ceil(2 * y)) + 10)
                continue
            # Beyond j_top, Pois(j + 1) / Pois(j) <= rho and P(a + j, y) decreases, so the
            # neglected tail is at most top_term * rho / (1 - rho).
            rho = mu / (j_top + 2)
            if top_term * rho / (1 - rho) <= mpmath.eps * total:
                break
            factor *= 2
            j_top += _span(mu, factor)
    return +total


def _upper_series(a, y, mu, j_bottom):
    """Sum ``Pois(j; mu) Q(a + j, y)`` from ``j_bottom`` upwards until the Poisson tail is negligible.

    Returns the sum and the first term ``Pois(j_bottom) Q(a + j_bottom, y)``.
    """
    q = mpmath.gammainc(a + j_bottom, y, mpmath.inf, regularized=True)
    weight = mpmath.exp(_log_poisson(j_bottom, mu))
    bottom_term = weight * q

    # increment = y^(a + j) e^(-y) / Gamma(a + j + 1), added to step from Q(a + j) to Q(a + j + 1).
    increment = mpmath.exp((a + j_bottom) * mpmath.log(y) - y - mpmath.loggamma(a + j_bottom + 1))
    total = bottom_term
    j = j_bottom
    while True:
        q += increment
        weight *= mu / (j + 1)
        j += 1
        increment *= y / (a + j)
        total += weight * q
        # For k > j the Poisson weights shrink by at least rho per step and Q <= 1.
        rho = mu / (j + 2)
        if rho < 1 and weight * rho / (1 - rho) <= mpmath.eps * total:
            break
    return total, bottom_term


def ncx2_sf(df, nc, x):
    """Upper tail ``P(X > x)`` of the noncentral chi-square law, summed directly (no ``1 - cdf``).

    Parameters are those of :func:`ncx2_cdf`.
    """
    if x <= 0:
        return mpmath.mpf(1)
    if mpmath.isinf(x):
        return mpmath.mpf(0)
    a, y, mu = df / 2, x / 2, nc / 2
    if mu == 0:
        return mpmath.gammainc(a, y, mpmath.inf, regularized=True)

    with mpmath.workprec(mpmath.mp.prec + _extra_bits(mu, y)):
        j_bottom = max(0, int(mpmath.floor(mu)) - _span(mu, 1))
        factor = 1
        while True:
            try:
                total, bottom_term = _upper_series(a, y, mu, j_bottom)
            except NoConvergence:
                # mpmath's incomplete gamma can fail for a large shape close to y; a smaller
                # shape (down to df / 2) moves away from that region.
                j_bottom //= 2
                continue
            if j_bottom == 0:
                break
            # Below j_bottom, Pois(j - 1) / Pois(j) <= rho and Q(a + j, y) decreases, so the
            # neglected head is at most bottom_term * rho / (1 - rho).
            rho = j_bottom / mu
            if bottom_term * rho / (1 - rho) <= mpmath.eps * total:
                break
            factor *= 2
            j_bottom = max(0, j_bottom - _span(mu, factor))
    return +total
