r"""Noncentral chi-square distribution function and upper tail at mpmath precision.

For :math:`X \sim \chi'^2_k(\lambda)` (k degrees of freedom, noncentrality
:math:`\lambda`), with :math:`a = k/2`, :math:`y = x/2`, :math:`\mu = \lambda/2`,
Poisson weights :math:`w_j = e^{-\mu} \mu^j / j!`, their partial sums
:math:`W_i = \sum_{j \le i} w_j` and :math:`d_s = y^{a+s} e^{-y} / \Gamma(a+s+1)`
(so that :math:`P(a+s, y) - P(a+s+1, y) = d_s` for the regularized incomplete
gamma functions P and Q),

.. math::

    P(X \le x) = \sum_{j \ge 0} w_j P(a + j, y) = \sum_{i \ge 0} d_i W_i, \qquad
    P(X > x) = \sum_{j \ge 0} w_j Q(a + j, y).

The second form of the distribution function exchanges the two sums of
:math:`\sum_j w_j \sum_{i \ge j} d_i`. Both results are sums of positive
terms, so neither cancels and a tiny value (a far ball, or the complement
of a large one) keeps its relative precision. There is no ``1 - cdf``.

Method. Both term sequences are log-concave in their index: :math:`w_j` and
:math:`d_i` are, :math:`W_i` is the distribution function of a log-concave
law, and :math:`Q(a + j, y)` is log-concave in j because
:math:`Q(s+1, y) / Q(s, y) = 1 + d / Q(s, y)` and
:math:`s\,\Gamma(s, y) / (y^s e^{-y}) = y \int_0^\infty (1 + v)^s e^{-yv} dv - 1`
grows with s. So the ratio of consecutive terms never increases, and the
sum is done over one window of indices around the largest term:

1. a float64 estimate of the log-terms (Poisson and gamma laws to leading
   order of Temme's uniform expansion) on a grid picks the first index;
2. there, one regularized upper incomplete gamma function gives
   ``Q(a + lo, y)`` or ``W_lo = Q(lo + 1, mu)``: for shapes from 16 a
   series of positive terms with a rigorous remainder bound
   (:func:`_gamma_series`), below that ``mpmath.gammainc``;
3. the terms then follow from recurrences run upwards, where they only add
   positive numbers, in block floating point on Python integers (one
   mantissa exponent for the running quantities, renormalized as they
   grow), about 1 microsecond a term;
4. truncation: once the ratio ``rho`` of two consecutive terms is below 1
   after the last kept term ``t``, the neglected right tail is at most
   ``t rho / (1 - rho)``. The neglected left tail below the first index is
   at most ``t_lo rho_lo / (1 - rho_lo)``, with ``rho_lo = t_{lo-1} / t_lo``
   evaluated exactly. Both bounds are made smaller than ``2^-(prec + 10)``
   times the sum, and the window is widened if the left bound fails.

The integer arithmetic keeps ``prec + 2 log2(max(lambda, x)) + 50`` bits,
which leaves the rounding error of the additions (at most one unit of that
precision per term) far below one unit in the last place. The window holds
about ``c sqrt(lambda)`` terms with c of order ``sqrt(prec)``, and so do
the gamma series of step 2. In R^3 the complement of the ball of radius
2 10^4 centred 10^4 standard deviations away takes about 0.3 s at 40
digits (measured on a 2-core CPU).

Far from the mean, where the window would be long, :func:`_quadrature`
integrates along the direction of the mean instead (for ``1 < df <= 1000``,
chosen by the cost model of :func:`_use_quadrature`). Its tanh-sinh error
is only estimated. In R^3 a ball 1e20 standard deviations away took 0.3 to
1 s at 40 digits (measured on a 2-core CPU).

mpmath 1.3.0's ``gammainc`` is not used for large shapes: it raises
``NoConvergence`` for non-integer shapes above about 1e7 and took more than
30 s for ``Q(8000001, 4.75e6)``. Before the gamma series replaced it, the
example above took 100 s, and ``df = 3``, ``lambda = 9.5e6``,
``x = 1.6e7`` did not finish in a minute. Should a call still raise
``NoConvergence``, the upper tail is ``1 - cdf`` where the cdf is at most
1/2 (no cancellation), and otherwise starts from ``Q(a + lo, y) = 0`` with
a rigorous bound on what that drops.
"""

import math

import mpmath
import numpy as np
import scipy.special as sc
from mpmath.libmp import NoConvergence

from .._precision import workprec

__all__ = ["ncx2_cdf", "ncx2_sf"]

_GRID_POINTS = 4001


def _log_q_estimate(s, x):
    """Float64 estimate of ``log Q(s, x)`` (leading order of Temme's uniform expansion)."""
    s = np.maximum(s, 1e-300)
    ratio = x / s
    gap = np.maximum(ratio - 1 - np.log(ratio), 0.0)
    eta = np.sign(x - s) * np.sqrt(2 * s * gap)
    return sc.log_ndtr(-eta)


def _log_terms_estimate(kind, k, a, y, mu):
    """Float64 estimate of the log of term k of the ``"sf"`` or ``"cdf"`` series."""
    if kind == "sf":
        log_weight = -mu + k * math.log(mu) - sc.gammaln(k + 1)
        return log_weight + _log_q_estimate(a + k, y)
    log_density = (a + k) * math.log(y) - y - sc.gammaln(a + k + 1)
    return log_density + _log_q_estimate(k + 1, mu)


def _first_index(kind, a, y, mu, cut):
    """Largest grid index below the window where the estimated log-term is within ``cut`` of its maximum."""
    top = max(mu, y)
    low, high = 0.0, top + 60 * math.sqrt(top) + 4 * cut + 100
    for _ in range(2):  # a coarse grid, then a fine one between its last two points
        grid = np.unique(np.floor(np.linspace(low, high, _GRID_POINTS)))
        log_terms = _log_terms_estimate(kind, grid, a, y, mu)
        inside = np.nonzero(log_terms >= log_terms.max() - cut)[0]
        low, high = grid[max(inside[0] - 1, 0)], grid[inside[0]]
    return int(low)


# NOTE: the series needs a window of up to about sqrt(prec * max(lambda, x)) terms at
# about 1 microsecond each (minutes 10^6 standard deviations from the mean). Where that
# is slow, ncx2_cdf and ncx2_sf use _quadrature instead, but only for 1 < df <= 1000.
# For other degrees of freedom the sum still stops with NotImplementedError after this
# many terms (a few minutes) instead of hanging.
_MAX_WINDOW_TERMS = 10**8


def _window_too_long(terms, a, y, mu):
    """Return the error for a series stopped after ``terms`` terms (more than ``_MAX_WINDOW_TERMS``)."""
    return NotImplementedError(
        f"the noncentral chi-square series for df={float(2 * a):.6g}, noncentrality={float(2 * mu):.6g}, x={float(2 * y):.6g} "
        f"was stopped after {float(terms):.3g} terms (the limit): with df <= 1 or df > 1000 a ball or ball "
        "complement about 1e6 standard deviations or more from a component's mean is not supported; "
        "use a half-space or slab there, whose masses are exact at any distance"
    )


# From this shape up, Q(s, x) is summed by :func:`_gamma_series` instead of mpmath's gammainc.
_SERIES_SHAPE = 16


def _common_integers(*values):
    """Return integers ``N_i`` and ``D = 2^F`` with ``values[i] = N_i / D`` exactly (mpf inputs)."""
    parts = [mpmath.mpf(v).man_exp for v in values]
    shift = min(min(exponent for _, exponent in parts), 0)
    return [int(man) << (exponent - shift) for man, exponent in parts], 1 << -shift


def _gamma_series(kind, s, x):
    r"""Sum of the series of ``P(s, x)`` (kind ``"lower"``, ``x <= s``) or ``Q(s, x)`` (``"upper"``, ``x > s``).

    Returns the sum without its prefactor, or None when the upper series
    reaches index ``s - 1`` (where its terms change sign) before it has
    converged. At the current precision ``prec``, with remainders bounded
    rigorously:

    - ``"lower"``: :math:`P(s, x) = \frac{x^s e^{-x}}{\Gamma(s + 1)} \sum_{k \ge 0} t_k`,
      :math:`t_k = \frac{x^k}{(s + 1) \cdots (s + k)}`. The ratios
      ``r_k = x / (s + k)`` fall, so the rest after ``t_k`` is at most
      ``t_k r / (1 - r)`` with ``r = r_{k+1}``.
    - ``"upper"``: :math:`\Gamma(s, x) = x^{s-1} e^{-x} \sum_{k \ge 0} t_k`,
      :math:`t_k = \frac{(s - 1) \cdots (s - k)}{x^k}`. The rest after
      ``t_n`` is exactly :math:`(s-1) \cdots (s-n-1) \Gamma(s-n-1, x)`,
      and :math:`\Gamma(u, x) \le x^{u-1} e^{-x} \max(1, x / (x - u + 1))`
      for ``u - 1 < x`` (bound ``t^{u-1}`` by its tangent exponential at
      ``x``), so the rest is at most ``t_{n+1} max(1, x / (x - s + n + 2))``.

    Both run on integers scaled by ``2^(prec + 40)`` (one unit of rounding
    a term, far below the ``2^-(prec + 10)`` truncation). For ``x`` near
    ``s`` they take about ``sqrt(2 s prec)`` terms, 60,000 for ``s = 10^7``
    at 60 digits.
    """
    target = mpmath.mp.prec + 10
    (s_int, x_int), unit = _common_integers(s, x)
    term = total = 1 << (mpmath.mp.prec + 40)
    k = 0
    if kind == "lower":
        while True:
            k += 1
            term = term * x_int // (s_int + k * unit)
            total += term
            # Rest <= term * X / (S + (k + 1) D - X).
            if (term * x_int) << target <= total * (s_int + (k + 1) * unit - x_int) or term == 0:
                return mpmath.ldexp(total, -(mpmath.mp.prec + 40))
    while True:
        k += 1
        if s_int - k * unit <= 0:
            return None
        term = term * (s_int - k * unit) // x_int
        total += term
        # Rest <= t_(k+1) max(1, x / (x - s + k + 2)), t_(k+1) = t_k (s - k - 1) / x < t_k.
        gap = x_int - s_int + (k + 2) * unit
        if term == 0 or (gap >= x_int and term << target <= total) or (term * x_int) << target <= total * gap:
            return mpmath.ldexp(total, -(mpmath.mp.prec + 40))


def _upper_gamma(s, x):
    """Regularized upper incomplete gamma function ``Q(s, x)`` for ``s > 0``, ``x > 0``, at the current precision.

    For ``s >= _SERIES_SHAPE``, the series of :func:`_gamma_series`: ``1 -
    P(s, x)`` for ``x <= s``, where ``P(s, x) <= P(s, s) < 0.6`` so the
    subtraction loses at most two bits, and the upper series for ``x > s``.
    Otherwise (or should the upper series fail to converge) mpmath's
    ``gammainc``. In mpmath 1.3.0 that took more than 30 s for
    ``Q(8000001, 4.75e6)`` and raises ``NoConvergence`` for non-integer
    shapes from about 1e7, which :func:`_series` turned into windows of
    tens of millions of terms (1e4 standard deviations in R^3 took 100 s).
    """
    if s >= _SERIES_SHAPE:
        # The exponent of the prefactor is of order s log x: it loses about log2(s log x) bits.
        with workprec(mpmath.mp.prec + 2 * int(mpmath.log(s + x, 2)) + 20):
            if x <= s:
                total = _gamma_series("lower", s, x)
                value = 1 - total * mpmath.exp(s * mpmath.log(x) - x - mpmath.loggamma(s + 1))
            else:
                total = _gamma_series("upper", s, x)
                value = None if total is None else total * mpmath.exp((s - 1) * mpmath.log(x) - x - mpmath.loggamma(s))
        if value is not None:
            return +value
    return mpmath.gammainc(s, x, mpmath.inf, regularized=True)


def _start_values(kind, lo, a, y, mu):
    """Terms ``T_lo`` and ``E_lo`` (see :func:`_window_sum`) as mpf, at the current precision.

    Kind ``"sf0"`` is ``"sf"`` with ``Q(a + lo, y)`` replaced by 0, so ``T_lo = 0``.
    """
    log_y, log_mu = mpmath.log(y), mpmath.log(mu)
    if kind in ("sf", "sf0"):
        weight = mpmath.exp(-mu + lo * log_mu - mpmath.loggamma(lo + 1))
        density = mpmath.exp((a + lo) * log_y - y - mpmath.loggamma(a + lo + 1))
        if kind == "sf0":
            return mpmath.mpf(0), weight * density
        q = _upper_gamma(a + lo, y)
        return weight * q, weight * density
    density = mpmath.exp((a + lo) * log_y - y - mpmath.loggamma(a + lo + 1))
    next_weight = mpmath.exp(-mu + (lo + 1) * log_mu - mpmath.loggamma(lo + 2))
    partial = _upper_gamma(mpmath.mpf(lo + 1), mu)
    return density * partial, density * next_weight


def _left_ratio(kind, lo, a, y, mu, t0, e0):
    """Ratio ``t_{lo-1} / t_lo``, which bounds every ratio further left (log-concavity)."""
    if lo == 0:
        return mpmath.mpf(0)
    if kind == "sf":
        # t_{j-1} / t_j = (j / mu) (1 - d_{j-1} / Q(a + j, y)), d_{j-1} = d_j (a + j) / y.
        outer, inner = lo / mu, (a + lo) / y
    else:
        # u_{i-1} / u_i = ((a + i) / y) (1 - w_i / W_i), w_i = w_{i+1} (i + 1) / mu.
        outer, inner = (a + lo) / y, (lo + 1) / mu
    return outer * max(1 - (e0 / t0) * inner, 0) + mpmath.eps


def _upper_gamma_bound(lo, a, y, mu, e0):
    r"""Upper bound on ``Q(s, y)``, ``s = a + lo``, from ``E_lo = w_lo d_lo`` (``inf`` if none applies).

    For ``s - 1 < y``, :math:`t^{s-1} \le y^{s-1} e^{(s-1)(t-y)/y}` on :math:`t \ge y` gives
    :math:`\Gamma(s, y) \le y^{s-1} e^{-y} \max(1, y / (y - s + 1))`, that is
    ``Q(s, y) <= d_lo (s / y) max(1, y / (y - s + 1))``.
    """
    s = a + lo
    if s - 1 >= y:
        return mpmath.inf
    weight = mpmath.exp(-mu + lo * mpmath.log(mu) - mpmath.loggamma(lo + 1))
    return (e0 / weight) * (s / y) * max(1, y / (y - s + 1))


def _to_fixed(value, bits):
    """Integer ``round(value * 2^e)`` with ``bits`` significant bits, and ``e``."""
    exponent = bits - int(mpmath.frexp(value)[1])
    return int(mpmath.ldexp(value, exponent)), exponent


def _window_sum(kind, lo, a, y, mu, bits, target_bits):
    r"""Sum the terms from index ``lo`` upwards; return the sum (mpf) and the first ``T_lo``, ``E_lo``.

    With ``alpha_k = X / p_k`` and ``beta_k = mu y / (p_k q_k)``, the terms obey
    ``T_{k+1} = alpha_k (T_k + E_k)``, ``E_{k+1} = beta_k E_k``:

    - ``"sf"``: ``T_j = w_j Q(a + j, y)``, ``E_j = w_j d_j``, ``X = mu``,
      ``p = j + 1``, ``q = a + j + 1``;
    - ``"cdf"``: ``T_i = d_i W_i``, ``E_i = d_i w_{i+1}``, ``X = y``,
      ``p = a + i + 1``, ``q = i + 2``.
    """
    t0, e0 = _start_values(kind, lo, a, y, mu)
    if t0 > 0:
        t, exponent = _to_fixed(t0, bits)
        e = int(mpmath.ldexp(e0, exponent))
    else:
        e, exponent = _to_fixed(e0, bits)
        t = 0

    # Doubled denominators 2 p and 2 q are integers when the degrees of freedom 2 a are;
    # otherwise they carry `shape_bits` fractional bits.
    df = 2 * a
    shape_bits = 0 if mpmath.isint(df) else bits + 20
    shape = int(mpmath.ldexp(df, shape_bits))
    plain_step = 2 << shape_bits
    if kind != "cdf":
        x_value, p2, q2, p_step, q_step = mu, 2 * (lo + 1) << shape_bits, shape + (2 * (lo + 1) << shape_bits), plain_step, plain_step
    else:
        x_value, p2, q2, p_step, q_step = y, shape + (2 * (lo + 1) << shape_bits), 2 * (lo + 2) << shape_bits, plain_step, plain_step
    # Fixed-point numerators with enough bits that the shifts below stay nonnegative.
    alpha_num, alpha_shift = _to_fixed(2 * x_value, bits + 20 + shape_bits)
    beta_num, beta_shift = _to_fixed(4 * mu * y, bits + 20 + 2 * shape_bits)
    alpha_shift -= shape_bits
    beta_shift -= 2 * shape_bits

    total = t
    renormalize_at = 1 << (bits + 64)
    count = 0
    while True:
        count += 1
        if count > _MAX_WINDOW_TERMS:
            raise _window_too_long(count, a, y, mu)
        t_next = ((t + e) * alpha_num >> alpha_shift) // p2
        e = (e * beta_num >> beta_shift) // (p2 * q2)
        p2 += p_step
        q2 += q_step
        total += t_next
        if t_next > renormalize_at:
            # Growing phase: keep `bits` significant bits (block floating point).
            drop = t_next.bit_length() - bits
            t_next, e, total, exponent = t_next >> drop, e >> drop, total >> drop, exponent - drop
        # Right tail after t_next: at most t_next rho / (1 - rho), rho = t_next / t.
        if 0 < t_next < t and (t_next << target_bits) <= total or t_next == t == 0:
            if (t_next * t_next) << target_bits <= total * (t - t_next):
                break
        t = t_next
    return mpmath.ldexp(total, -exponent), t0, e0


def _series(kind, a, y, mu):
    """Sum of the ``kind`` series to the current precision (see the module docstring)."""
    target_bits = mpmath.mp.prec + 10
    size = max(mu, y) + 2
    bits = target_bits + 2 * int(mpmath.log(size, 2)) + 40
    cut = (target_bits + 20) * math.log(2)
    with workprec(bits + 2 * int(mpmath.log(size, 2)) + 20):
        a, y, mu = +a, +y, +mu
        # Floats only steer the window; clamping an underflowing mu costs time, not accuracy.
        lo = _first_index(kind, float(a), float(y), max(float(mu), 1e-300), cut)
        step = max(int(4 * mpmath.sqrt(mu + y)), 16)
        while True:
            try:
                total, t0, e0 = _window_sum(kind, lo, a, y, mu, bits, target_bits)
            except NoConvergence:
                # mpmath's incomplete gamma fails for some large shapes (non-integer ones from
                # about 1e7 in mpmath 1.3.0). The cdf moves to a smaller shape (at shape 1 it is
                # elementary). The sf is 1 - cdf where cdf <= 1/2; elsewhere it drops
                # Q(a + lo, y) and bounds it instead.
                if kind == "sf":
                    cdf = _series("cdf", a, y, mu)
                    if cdf <= 0.5:
                        return 1 - cdf  # loses at most one bit
                    kind = "sf0"
                else:
                    lo, step = max(0, lo - step), 2 * step
                continue
            if kind == "sf0":
                # All neglected terms together are at most Q(a + lo, y) (the weights sum to 1).
                if _upper_gamma_bound(lo, a, y, mu, e0) <= mpmath.ldexp(total, -target_bits):
                    return total
                lo, step = max(0, lo - step), 2 * step
                continue
            rho = _left_ratio(kind, lo, a, y, mu, t0, e0)
            if rho < 1 and t0 * rho / (1 - rho) <= mpmath.ldexp(total, -target_bits):
                return total
            # The left tail is not negligible: move the first index down.
            lo, step = max(0, lo - step), 2 * step


def _use_quadrature(df, nc, x):
    """Estimate whether :func:`_quadrature` is faster than :func:`_series` (a float64 cost model).

    Measured on a 2-core CPU: the series takes about
    ``1e-6 s * sqrt(max(nc, x)) * (prec + 10) / 12`` (0.14 s for ``nc = 1e8`` at 40 digits),
    the quadrature about ``0.6 s * ((prec + 10) / 143)^2``, twice that for ``df != 3``
    (0.2 to 1.5 s at 40 digits, 2 to 37 s at 200 digits, at any distance).
    The quadrature needs ``df > 1`` and small shapes for mpmath's ``gammainc``.
    """
    if not 1 < df <= _QUADRATURE_MAX_DF:
        return False
    bits = mpmath.mp.prec + 10
    series_seconds = 1e-6 * math.sqrt(float(max(nc, x, df))) * bits / 12
    quadrature_seconds = 0.6 * (bits / 143) ** 2 * (1 if df == 3 else 2)
    return series_seconds > quadrature_seconds


_QUADRATURE_MAX_DF = 1000


def _small_side(kind, df, nc, x):
    """Compute the ``kind`` mass on its small side, by the series or, where that is slow, the quadrature."""
    if _use_quadrature(df, nc, x):
        return _quadrature(kind, df, nc, x)
    return _series(kind, df / 2, x / 2, nc / 2)


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
    if x > df + nc:
        # Above the mean the distribution function is at least about 1/2, so
        # 1 - sf keeps its precision, and the series of the small side is fast.
        # Summing the cdf there took minutes (df = 2, lambda = 9.5e6, x = 1.6e7, 40 digits).
        return 1 - ncx2_sf(df, nc, x)
    return +_small_side("cdf", df, nc, x)


def ncx2_sf(df, nc, x):
    """Upper tail ``P(X > x)`` of the noncentral chi-square law, summed directly above the mean ``df + nc``.

    Parameters are those of :func:`ncx2_cdf`.
    """
    if x <= 0:
        return mpmath.mpf(1)
    if mpmath.isinf(x):
        return mpmath.mpf(0)
    a, y, mu = df / 2, x / 2, nc / 2
    if mu == 0:
        return mpmath.gammainc(a, y, mpmath.inf, regularized=True)
    if x <= df + nc:
        # The mirror of ncx2_cdf: below the mean the upper tail is at least
        # about 1/2, and summing it directly took 19 s (lambda = 6.25e6, x = 5e6).
        return 1 - ncx2_cdf(df, nc, x)
    return +_small_side("sf", df, nc, x)


# -- quadrature along the direction of the mean -----------------------------------------


def _chi2_part(kind, h, z):
    """``F_k(z)`` (kind ``"cdf"``) or ``1 - F_k(z)`` (``"sf"``), central chi-square with ``k = 2 h + 1``."""
    y = z / 2
    if kind == "cdf":
        return mpmath.gammainc(h, 0, y, regularized=True)
    if y < h and not mpmath.isint(h):
        # P(h, y) <= P(h, h) < 0.6 there, so 1 - P loses at most two bits; mpmath's upper
        # function took 1 to 6 ms at small y for non-integer shapes, its lower one 0.1 ms.
        return 1 - mpmath.gammainc(h, 0, y, regularized=True)
    return mpmath.gammainc(h, y, mpmath.inf, regularized=True)


class _EndIntegrand:
    r"""Integrand of the one-dimensional reduction near one end of ``[-r, r]``, in units of its largest value.

    Along the mean, ``X = T e_1 + S`` with ``T ~ N(delta, 1)`` and ``|S|^2 ~ chi^2_{k}``,
    ``k = df - 1``, independent, so for ``x = r^2``

    .. math::

        P(|X|^2 \le x) = \int_{-r}^{r} \phi(t - \delta) F_k(x - t^2) dt, \qquad
        P(|X|^2 > x) = P(|T| > r) + \int_{-r}^{r} \phi(t - \delta) (1 - F_k(x - t^2)) dt.

    With ``w`` the distance to the end (``t = r - w`` at the right end, ``t = w - r`` at
    the left one), ``x - t^2 = w (2 r - w)`` and
    ``phi(t - delta) = phi(g) exp(E(w))``, ``g = r - delta``, where
    ``E(w) = g w - w^2 / 2`` (right) or ``-2 r delta + (r + delta) w - w^2 / 2`` (left):
    the factor ``phi(g)``, which can be far below any float, stays outside.
    """

    def __init__(self, kind, side, h, r, delta, g, wp):
        self.kind, self.h, self.r, self.wp = kind, h, r, wp
        self.offset = mpmath.mpf(0) if side == "right" else -2 * r * delta
        self.slope = g if side == "right" else r + delta
        self.log_scale = mpmath.mpf(0)

    def log_value(self, w):
        """``E(w) + log G(w (2 r - w))`` at the current precision (``-inf`` where G is 0)."""
        part = _chi2_part(self.kind, self.h, w * (2 * self.r - w))
        exponent = self.offset + self.slope * w - w * w / 2
        return exponent + mpmath.log(part) if part > 0 else mpmath.ninf

    def __call__(self, w):
        with workprec(self.wp):
            exponent = self.offset + self.slope * w - w * w / 2 - self.log_scale
            value = mpmath.exp(exponent) * _chi2_part(self.kind, self.h, w * (2 * self.r - w))
        return +value


def _grid(r, scale):
    """Points ``0 < w_0 < ... < w_J = r`` growing by a factor ``sqrt(2)`` from ``scale / 1024``."""
    lowest = min(scale, r) / 1024
    count = max(int(2 * mpmath.log(r / lowest, 2)) + 1, 1)
    return [lowest * mpmath.mpf(2) ** (j / mpmath.mpf(2)) for j in range(count)] + [r]


def _quadrature(kind, df, nc, x):
    r"""The small side (``"cdf"`` for ``x <= df + nc``, ``"sf"`` otherwise) by the one-dimensional reduction.

    See :class:`_EndIntegrand`. Each end of ``[-r, r]`` gets a grid growing
    geometrically from the smallest scale of the integrand (``1 / (2 r)``
    for ``G``, ``1 / |g|`` and ``1 / (r + delta)`` for the exponential, 1
    for the Gaussian). The log-integrand is evaluated there at 64 bits. The
    part within ``cut`` of the largest value is integrated by tanh-sinh
    (``mpmath.quad``) between grid points a factor 2 apart, so the algebraic
    behaviour of ``G`` at ``w = 0`` falls on the endpoint of the first
    piece. The parts left out are bounded by their largest grid value times
    their length.

    NOTE: the error of tanh-sinh is estimated (``mpmath.quad``'s difference
    between levels, required below ``2^-(prec + 5)`` of the sum), not
    bounded rigorously, unlike the series. The bound on the parts left out
    holds where the integrand decreases away from the kept part: for the
    cdf it is log-concave in t (``F_k`` is log-concave and increasing,
    ``x - t^2`` concave), for the sf this is checked on the grid only.
    """
    prec = mpmath.mp.prec
    target = prec + 10
    size = max(nc, x, 1)
    wp = prec + 2 * int(mpmath.log(size, 2)) + 40
    with workprec(wp):
        h = (df - 1) / 2
        r, delta = mpmath.sqrt(x), mpmath.sqrt(nc)
        g = (x - nc) / (r + delta)  # r - delta without cancellation
        scale = min(1 / (2 * r + 1), 1 / (abs(g) + 1), 1 / (r + delta + 1))
        grid = _grid(r, scale)
        cut = (target + 20) * mpmath.log(2) + mpmath.log(len(grid) * r / grid[0])
        ends = [_EndIntegrand(kind, side, h, r, delta, g, wp) for side in ("right", "left")]
        with workprec(64):
            logs = [[end.log_value(w) for w in grid] for end in ends]
        top = max(max(values) for values in logs)
        # mpmath.quad's tolerance is absolute: scale the integrand so that its integral is near 1.
        with workprec(64):
            rough = sum(
                mpmath.exp(v - top) * (b - a) for values in logs for a, b, v in zip([0] + grid, grid, values) if v > mpmath.ninf
            )
        top += mpmath.log(rough)
        total, error, dropped = mpmath.mpf(0), mpmath.mpf(0), mpmath.mpf(0)
        for end, values in zip(ends, logs):
            kept = [j for j, v in enumerate(values) if v >= top - cut]
            if not kept:
                dropped += r * mpmath.exp(max(values) - top)
                continue
            first, last = max(kept[0] - 1, 0), min(kept[-1] + 1, len(grid) - 1)
            points = ([mpmath.mpf(0)] if first == 0 else []) + grid[first:last:2] + [grid[last]]
            if first > 0:
                dropped += grid[first] * mpmath.exp(values[first] - top)
            if last < len(grid) - 1:
                dropped += r * mpmath.exp(values[last] - top)
            end.log_scale = top
            with workprec(prec + 30):
                value, estimate = mpmath.quad(end, points, error=True)
            total += value
            error += estimate
        if not (error + dropped) <= mpmath.ldexp(total, -target + 5):
            raise NoConvergence(
                f"quadrature of the noncentral chi-square {kind}: error estimate {mpmath.nstr(error, 3)}, "
                f"parts left out {mpmath.nstr(dropped, 3)}, sum {mpmath.nstr(total, 3)}"
            )
        result = total * mpmath.exp(top - g * g / 2) / mpmath.sqrt(2 * mpmath.pi)
        if kind == "sf":
            result += mpmath.ncdf(-g) + mpmath.ncdf(-r - delta)
    return +result
