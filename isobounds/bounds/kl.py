r"""Lower bounds on the Kullback-Leibler divergence of a Lipschitz push-forward from a target.

Theorem 7 bounds :math:`d_{KL}(\rho \| \nu)` by a binary KL divergence
between the isoperimetric lower bound on the model's shell mass and the
target's shell mass; Corollary 8 specialises it to a balanced mixture of two
Gaussians. Both are implemented with a corrected validity condition (see
:func:`kl_lower_bound`).

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022, Theorem 7
and Corollary 8.
"""

import mpmath
import numpy as np

from .._precision import GUARD_DIGITS, exact_one_minus, workdps
from .._validation import check_nonnegative, check_positive, check_probability
from ._common import (
    check_model_mass,
    check_dimensions,
    check_flag,
    check_region,
    check_target,
    evaluate,
    separation,
    set_mass,
    settle,
)
from .isoperimetry import _shell_mass
from .tv import _corollary6_input_bits, _corollary6_target_shell, _corollary6_terms, _corollary6_value

__all__ = ["kl_bin", "kl_lower_bound", "kl_lower_bound_two_gaussians"]

# Each raise roughly doubles the digits while a - b is still unresolved, so
# 12 raises reach about 4000 times the working digits.
_MAX_PRECISION_RAISES = 12

# |t| below which g(t) = (1 + t) log1p(t) - t is summed as a series (the closed form loses
# log10(2 / |t|) digits, at most 1.3 at this limit).
_EXCESS_SERIES_LIMIT = mpmath.mpf("0.1")


# ---------------------------------------------------------------------------
# Binary Kullback-Leibler divergence.
# ---------------------------------------------------------------------------

def _kl_bin_terms(a, b, a_c, b_c):
    """Return the terms a log(a/b) and (1-a) log((1-a)/(1-b)), with 0 log 0 = 0.

    ``a_c`` and ``b_c`` are the complements ``1 - a`` and ``1 - b``. The
    difference ``d = a - b`` is formed as ``b_c - a_c`` when both lie above
    1/2, where the complements carry the digits. A term whose ratio is near
    1 (``|d|`` at most half its denominator) takes its logarithm as
    ``log1p`` of the relative difference, so that it keeps full relative
    precision when ``a`` is close to ``b`` (a difference of two logarithms
    would lose ``log10(|log b| / |a - b|)`` digits). Otherwise the logarithm
    of the ratio is taken directly. That matters when ``a`` rounds to 1 while
    its exact complement does not: ``log1p(-d / b_c)`` would then be
    ``log1p(-1) = -inf``.
    """
    difference = b_c - a_c if (a > 0.5 and b > 0.5) else a - b
    first = mpmath.mpf(0) if a == 0 else a * _log_ratio(a, b, difference)
    second = mpmath.mpf(0) if a_c == 0 else a_c * _log_ratio(a_c, b_c, -difference)
    return first, second


def _log_ratio(x, y, difference):
    """Return ``log(x / y)`` given ``difference = x - y``, by ``log1p`` when ``|difference| <= y / 2``."""
    if abs(difference) <= y / 2:
        return mpmath.log1p(difference / y)
    return mpmath.log(x / y)


def _kl_bin(a, b, convert=None):
    """Binary KL divergence at the current precision, with extra digits when the two terms cancel.

    The complements ``1 - a`` and ``1 - b`` are formed exactly
    (:func:`isobounds._precision.exact_one_minus`), so they keep every bit
    that ``a`` and ``b`` carry, such as the digits of a decimal string or a
    fraction near 1.

    When ``a`` is close to ``b`` the result is about ``(a - b)^2 / (2 b (1 - b))``
    while each term is about ``|a - b|``, so the sum loses
    ``log10(|term| / result)`` digits. The kernel measures the loss and
    recomputes with that many more digits.

    Parameters
    ----------
    a, b : mpmath.mpf in [0, 1]
        The arguments as converted at the current precision.
    convert : callable, optional
        Returns ``(a, b)`` converted again from the exact inputs at the
        current precision. It is called at every raised precision, so that
        ``a - b`` keeps the digits that a decimal string or a fraction has
        beyond the first conversion. Without it, ``a`` and ``b`` are taken as
        exact, as :func:`isobounds.bounds._common.settle` needs, because it
        recomputes them at rising precision itself.
    """
    digits = mpmath.mp.dps
    if convert is not None and a == b:
        # Distinct exact inputs can round to the same mpf, such as 1/3 and
        # the binary fraction nearest it. More digits tell them apart.
        with workdps(digits + GUARD_DIGITS):
            a, b = convert()
    for attempt in range(_MAX_PRECISION_RAISES):
        with workdps(digits):
            if convert is not None and attempt > 0:
                a, b = convert()
            a_c = exact_one_minus(a)
            b_c = exact_one_minus(b)
            if a == b and a_c == b_c:
                return mpmath.mpf(0)
            if (b == 0 and a > 0) or (b_c == 0 and a_c > 0):
                return mpmath.inf
            first, second = _kl_bin_terms(a, b, a_c, b_c)
            value = first + second
        scale = max(abs(first), abs(second))
        if value > 0 and scale / value < mpmath.mpf(10) ** (digits - mpmath.mp.dps + GUARD_DIGITS // 2):
            return +value
        lost = digits if value <= 0 else int(mpmath.log10(scale / value)) + 1
        digits += lost + GUARD_DIGITS
    # NOTE: after the last raise the value is returned unconfirmed, or 0 when it is
    # not positive (a - b still unresolved), because 0 is a certain lower bound.
    return +value if value > 0 else mpmath.mpf(0)


def kl_bin(a, b, *, dps=None):
    r"""Binary Kullback-Leibler divergence :math:`a \log(a/b) + (1-a) \log((1-a)/(1-b))`.

    The divergence between the Bernoulli laws of parameters ``a`` and ``b``,
    with :math:`0 \log 0 = 0`. The second term uses ``log1p`` so that small
    ``a`` and ``b`` keep their digits, and extra digits are used when ``a``
    is close to ``b``. Decimal strings, fractions and sympy rationals keep
    all their digits, and ``1 - a`` and ``1 - b`` are formed exactly, so
    ``kl_bin("0.5", 1 - Fraction(1, 10**400))`` is finite (about 459.8).

    Parameters
    ----------
    a, b : real numbers in [0, 1]
        ``b = 0`` with ``a > 0`` (or ``b = 1`` with ``a < 1``) gives ``+inf``.
    dps : int, optional
        Significant digits of the result.

    Returns
    -------
    mpmath.mpf, >= 0 (possibly ``+inf``).
    """

    def convert():
        return check_probability("a", a), check_probability("b", b)

    def compute():
        return _kl_bin(*convert(), convert=convert)

    return evaluate(compute, dps)


# ---------------------------------------------------------------------------
# Theorem 7 and Corollary 8.
# ---------------------------------------------------------------------------

def _corrected_kl(beta, v, corrected):
    """kl_bin(beta || v) when beta >= v; 0 otherwise (unless ``corrected`` is False)."""
    if corrected and beta < v:
        return mpmath.mpf(0)
    return _kl_bin(beta, v)


def _corrected_kl_terms(beta, v, corrected):
    """Return ``(beta - v, max(beta, v), kl)`` for :func:`isobounds.bounds._common.settle`.

    The difference ``beta - v`` decides the condition and, when small, the
    size of the divergence, about ``(beta - v)^2 / (2 v (1 - v))``, so it is
    the quantity whose digits must be certain.
    """
    return beta - v, max(beta, v), _corrected_kl(beta, v, corrected)


def kl_lower_bound(A, r, lip, *, target, model_mass, corrected=True, dps=None):
    r"""Lower bound on :math:`d_{KL}(g\#N(0, I_p) \| \nu)` from one set and one radius.

    With :math:`\beta = \Phi(r/L + \Phi^{-1}(\rho(A))) - \rho(A)` and
    :math:`v = \nu(A_r \setminus A)`,

    .. math::

        d_{KL}(\rho \| \nu) \ge
        \begin{cases} \mathrm{kl}(\beta \| v) & \beta \ge v, \\ 0 & \beta < v. \end{cases}

    Correction: the theorem as published takes :math:`\mathrm{kl}(\beta \| v)`
    for every ``(A, r)``. Its proof replaces :math:`\rho(A_r \setminus A)`
    by the lower bound :math:`\beta` inside a term multiplied by the optimal
    dual variable, which is valid only when that variable is nonnegative,
    that is when :math:`\beta \ge v`. A target pushed forward exactly by a
    very steep map (``beta`` near 0, divergence 0) violates the uncorrected
    formula, whose value :math:`-\log(1 - v)` is then positive.

    Parameters
    ----------
    A : set from :mod:`isobounds.sets`
        Any set with ``shell(r)`` and ``dim``.
    r : finite real number >= 0
        Radius of the extension.
    lip : positive finite real number
        Lipschitz constant :math:`L` of the generator.
    target : measure from :mod:`isobounds.measures`
        Anything with ``mass(set, dps=...)`` and ``dim``.
    model_mass : real number in [0, 1]
        The model's mass :math:`\rho(A)`.
    corrected : bool, default True
        ``False`` returns the uncorrected (invalid) formula
        :math:`\mathrm{kl}(\beta \| v)` for every case, to demonstrate the
        erratum. Never use it as a bound.
    dps : int, optional
        Significant digits of the result. When :math:`\beta` is close to
        ``v`` their difference, which decides both the condition
        :math:`\beta \ge v` and the size of the result, is computed with as
        many more digits as the cancellation takes; a difference that is zero
        to within rounding gives 0.

    Returns
    -------
    mpmath.mpf, >= 0
        ``+inf`` when :math:`v = 0 < \beta`: the model must then put mass
        where the target has none (an empirical target and a small ``r``,
        for instance), so the divergence is infinite.

    References
    ----------
    Salmona et al., 2022, Theorem 7 (with the validity condition
    :math:`\beta \ge v` added).
    """

    corrected = check_flag("corrected", corrected)
    check_target(target)
    check_region(A)
    if isinstance(r, (tuple, list)) or (isinstance(r, np.ndarray) and r.ndim > 0):
        raise TypeError(f"r must be one radius, got r={r!r}; a pair (r_A, r_B) applies only to the model-free "
                        "total-variation bound (tv_lower_bound with model_mass=None)")

    def bound():
        radius = check_nonnegative("r", r)
        c = radius / check_positive("lip", lip)
        rho = check_model_mass(A, model_mass)
        v = set_mass(target, A.shell(radius))
        return _corrected_kl_terms(_shell_mass(rho, c), v, corrected)

    def compute():
        check_dimensions(A, target)
        return settle(bound)

    return evaluate(compute, dps)


def kl_lower_bound_two_gaussians(m1, m2, sigma, lip, model_weight, *, corrected=True, dps=None):
    r"""KL bound for a balanced mixture of two Gaussians, from the model's mass of one half-space.

    For :math:`\nu = \tfrac12 [N(m_1, s^2 I) + N(m_2, s^2 I)]`,
    :math:`D = \|m_2 - m_1\|` and :math:`\lambda = \rho(H_1)` the model's
    mass of the half-space :math:`H_1` on the side of ``m1`` of the
    bisecting hyperplane (after exchanging the means when
    :math:`\lambda > 1/2`, which replaces :math:`\lambda` by
    :math:`1 - \lambda`),

    .. math::

        a = \Phi\big(D/(4sL) + \Phi^{-1}(\lambda)\big) - \lambda, \quad
        b = \tfrac12 \big[\Phi(D(2s+1)/(4s^2)) - \Phi(D(2s-1)/(4s^2))\big],

    and :math:`d_{KL}(\rho \| \nu) \ge \mathrm{kl}(a \| b)` when
    :math:`a \ge b`, 0 otherwise. ``a`` equals
    :math:`\int_{-\Phi^{-1}(1-\lambda)}^{D/(4sL) - \Phi^{-1}(1-\lambda)} \varphi`
    and is computed as that Gaussian mass, without cancellation. For
    :math:`\lambda = 1/2`, ``a - b`` is the expression of Corollary 6 and is
    summed from the Gaussian tails, so the bound keeps its digits when
    ``a`` and ``b`` both lie within ``1e-1000`` of 1/2 (far modes, ``s < 1/2``).

    Correction: as for Theorem 7, the published statement omits the
    condition :math:`a \ge b`, without which the proof's dual variable is
    negative and the formula can exceed the true divergence.

    Parameters
    ----------
    m1, m2 : real numbers or equal-length sequences of real numbers
        Means of the two components; ``m1 = m2`` gives 0.
    sigma : positive finite real number
        Standard deviation of both components.
    lip : positive finite real number
        Lipschitz constant of the generator.
    model_weight : real number in [0, 1]
        :math:`\rho(H_1)`, the model's mass on the side of ``m1``.
    corrected : bool, default True
        ``False`` drops the condition :math:`a \ge b` (the invalid published
        form), for demonstrations only.
    dps : int, optional
        Significant digits of the result.

    Returns
    -------
    mpmath.mpf, >= 0.

    References
    ----------
    Salmona et al., 2022, Corollary 8 (with the validity condition
    :math:`a \ge b` added).
    """

    corrected = check_flag("corrected", corrected)

    def bound():
        D = separation(m1, m2)
        s = check_positive("sigma", sigma)
        L = check_positive("lip", lip)
        lam = check_probability("model_weight", model_weight)
        lam = min(lam, 1 - lam)
        a = _shell_mass(lam, D / (4 * s * L))
        _, b = _corollary6_terms(D, s, L)
        return _corrected_kl_terms(a, b, corrected)

    def compute():
        if check_probability("model_weight", model_weight) * 2 == 1:
            return _balanced_corollary8(m1, m2, sigma, lip, corrected)
        # NOTE: for other weights a - b is the difference of two masses computed separately.
        # settle() raises the precision to at most 16 times the working digits, so a difference
        # below about 1e-590 (at the default 30 digits) gives 0, a valid but weaker bound.
        return settle(bound)

    return evaluate(compute, dps)


def _balanced_corollary8(m1, m2, sigma, lip, corrected):
    """Corollary 8 for a model weight of exactly 1/2, from the difference ``a - b`` in closed form.

    With ``lambda = 1/2``, ``a - b`` is the expression of Corollary 6,
    which :func:`isobounds.bounds.tv._corollary6_value` computes from the
    Gaussian tails. When the modes are far apart and ``s < 1/2``, ``a`` and
    ``b`` are both within ``1e-1000`` of 1/2, so subtracting them would
    need thousands of digits.
    """
    d = _corollary6_value(m1, m2, sigma, lip)
    if corrected and d < 0:
        return mpmath.mpf(0)
    # b is a Gaussian tail when the modes are far apart, as sensitive to the rounding of D and s as d.
    extra = _corollary6_input_bits(separation(m1, m2), check_positive("sigma", sigma), check_positive("lip", lip))
    with mpmath.extraprec(extra):
        b = _corollary6_target_shell(separation(m1, m2), check_positive("sigma", sigma))
    return _kl_bin_from_difference(b, d)


def _kl_bin_from_difference(b, d):
    """Return ``kl_bin(b + d || b)`` from ``b`` and the difference ``d``, without cancellation.

    ``kl_bin(b + d || b) = b g(d / b) + (1 - b) g(-d / (1 - b))`` with
    ``g(t) = (1 + t) log(1 + t) - t >= 0``: the terms linear in ``d`` of the
    two halves cancel exactly, so both terms are nonnegative and each keeps
    the relative precision of ``d``.
    """
    if d == 0:
        return mpmath.mpf(0)
    b_c = exact_one_minus(b)
    if (b == 0 and d > 0) or (b_c == 0 and d < 0):
        return mpmath.inf
    first = b * _excess(d / b) if b != 0 else mpmath.mpf(0)
    second = b_c * _excess(-d / b_c) if b_c != 0 else mpmath.mpf(0)
    return first + second


def _excess(t):
    """Return ``g(t) = (1 + t) log1p(t) - t`` for ``t >= -1``, by its Taylor series for small ``|t|``."""
    if t == -1:
        return mpmath.mpf(1)
    if abs(t) >= _EXCESS_SERIES_LIMIT:
        return (1 + t) * mpmath.log1p(t) - t
    # g(t) = sum_{k >= 2} (-1)^k t^k / (k (k - 1)); the terms fall by at least a factor 10.
    total, power, k = mpmath.mpf(0), -t, 1
    while True:
        k += 1
        power *= -t
        term = power / (k * (k - 1))
        total += term
        if abs(term) <= mpmath.eps * abs(total):
            return total
