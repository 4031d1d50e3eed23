r"""Lower bounds on the Lipschitz constant needed to push N(0, I_p) onto a target, exactly or within a total variation.

Corollary 2 bounds it for a two-component Gaussian mixture in closed form;
Corollary 3 gives the exact minimum in one dimension, the Lipschitz constant
of the monotone (optimal transport) map :math:`F_\nu^{-1} \circ \Phi`.
:func:`lipschitz_lower_bound_for_tv` inverts the total variation bounds of
Corollary 6 and Theorem 4: the constant needed to come within a given total
variation of a balanced two-Gaussian mixture, not only to fit it exactly.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022,
Corollaries 2, 3 and 6 and Theorem 4.
"""

import math
import typing

import mpmath
import numpy as np
import scipy.optimize
import scipy.special as sc

from .._precision import GUARD_DIGITS, to_mpf, workdps
from .._validation import check_positive, check_probability
from ..gaussian import _gaussian_mass, _half_erf_inv, _isoperimetric_profile, _Phi, _phi, _Phi_c, _Phi_c_inv, _Phi_inv
from ._common import check_flag, evaluate, golden_section, separation
from .optimize import _final_radius, _maximize_over_radius
from .tv import _corollary6_input_bits, _corollary6_shell_bits, _corollary6_target_shell
from ..measures.gaussian_mixture import _component_crossings
from ._mixture import _parameters, centered_mixture, is_gaussian_mixture, mixture_from_target, shift_back

__all__ = [
    "lipschitz_lower_bound_two_gaussians",
    "lipschitz_lower_bound_for_tv",
    "ot_lipschitz_constant",
    "OTLipschitzConstant",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
_CANDIDATES = 4

# Grid windows around the switches of the leading component: half-width in units
# of the length over which the log ratio of the two densities changes by 1, point
# count, and largest distance from the means in largest standard deviations.
_SWITCH_WINDOW_WIDTHS = 60.0
_SWITCH_WINDOW_POINTS = 1201
_SWITCH_REACH = 1e4

# Beyond this many digits lost to the Gaussian exponents (modes about 1e7
# standard deviations apart), float64 no longer resolves the peaks of I(F)/p
# at the switches of the leading component, so they are also located in mpmath.
_FLOAT64_EXPONENT_DIGITS = 13

# The maximiser of I(F)/p is searched at this many digits; the working precision
# only polishes it and evaluates the ratio.
_SEARCH_DPS = 20

# Relative margin, in units of float64 eps times (1 + x^2), subtracted from
# float64 ratios so that the value returned for a scipy law is a lower bound.
_ULP_MARGIN = 64
_SMALLEST_NORMAL = float(np.finfo(float).tiny)


# ---------------------------------------------------------------------------
# Corollary 2.
# ---------------------------------------------------------------------------

def _check_weight(weight):
    try:
        lam = check_probability("weight", weight)
    except ValueError as error:
        # Corollary 2 needs both components, so the range is open. NaN and strings keep their message.
        raise ValueError(str(error).replace("a probability in [0, 1]", "in the open interval (0, 1)")) from None
    if lam == 0 or lam == 1:
        raise ValueError(f"weight must lie in the open interval (0, 1), got weight={lam}")
    return lam


def _closed_form(D, s, lam):
    """Return the bound of Corollary 2, ``s exp(D^2 / (8 s^2) - Phi_inv(lam)^2 / 2)``."""
    x = _Phi_inv(lam)
    return s * mpmath.exp(D * D / (8 * s * s) - x * x / 2)


# Exponent terms below 2**_TOLERATED_EXPONENT_BITS (about 1e5) cost at most half of
# the guard digits, so the working precision is kept for them.
_TOLERATED_EXPONENT_BITS = int(GUARD_DIGITS / 2 * math.log2(10))


def _exponent_guard_digits(D, s, lam):
    """Return the extra digits that keep ``exp(D^2 / (8 s^2) - Phi_inv(lam)^2 / 2)`` at full relative precision.

    A relative error ``e`` in ``D``, ``s`` or in the exponent's terms is an
    absolute error of about ``2 E e`` in the exponent, so a relative error
    ``2 E e`` in the result, with ``E`` the larger term. So ``log10(E)``
    more digits are needed, as :func:`isobounds.gaussian._phi` adds
    ``2 log2 |x|`` bits to ``exp(-x^2 / 2)``. Returns 0 when ``E`` is below
    ``2**_TOLERATED_EXPONENT_BITS``, whose loss the guard digits absorb.

    ``log2 E`` is estimated from binary exponents only, to within a few
    bits: ``D^2 / (8 s^2)`` by ``2 (mag(D) - mag(s))``, and
    ``Phi_inv(lam)^2 / 2`` by its bound ``-log(q) <= (1 - mag(q)) log(2)``
    with ``q = min(lam, 1 - lam)``, which is true because
    ``Phi_c(x) <= exp(-x^2 / 2) / 2`` for ``x >= 0``.

    NOTE: the cost grows with the exponent. ``D / s = 1e1000`` needs
    about 2000 more digits, and every argument is converted again at them.
    """
    separation_bits = 2 * (mpmath.mag(D) - mpmath.mag(s)) if D else 0
    quantile_bits = max(1 - mpmath.mag(min(lam, 1 - lam)), 1).bit_length()
    bits = max(separation_bits, quantile_bits)
    if bits <= _TOLERATED_EXPONENT_BITS:
        return 0
    return int(bits * math.log10(2)) + 2


def _with_exponent_guard(parse, form):
    """Evaluate ``form(*parse())`` with :func:`_exponent_guard_digits` more digits.

    ``parse`` converts the arguments and is called again at the raised
    precision, so that decimal strings such as ``"1e-4"`` get the extra
    digits too: the rounding of ``s`` itself is multiplied by the exponent.
    """
    D, s, lam = parse()
    extra = _exponent_guard_digits(D, s, lam)
    if extra == 0:
        return form(D, s, lam)
    with workdps(mpmath.mp.dps + extra):
        value = form(*parse())
    return +value


def _bisecting_half_space_form(D, s, lam):
    """I(nu(H)) / nu^+(dH) with H the half-space bisecting the means on the side of m2."""
    t = D / (2 * s)
    lower, upper = _Phi(-t), _Phi(t)
    mass = lam * lower + (1 - lam) * upper
    complement = lam * upper + (1 - lam) * lower
    boundary_density = _phi(t) / s
    return _isoperimetric_profile(min(mass, complement)) / boundary_density


def lipschitz_lower_bound_two_gaussians(m1, m2, sigma, weight=0.5, sharp=False, *, dps=None):
    r"""Lipschitz constant needed to push :math:`N(0, I_p)` exactly onto a two-Gaussian mixture.

    For :math:`\nu = \lambda N(m_1, s^2 I_d) + (1 - \lambda) N(m_2, s^2 I_d)`
    and :math:`D = \|m_2 - m_1\|`, any :math:`g` with :math:`g\#N(0, I_p) = \nu`
    has

    .. math::

        \mathrm{Lip}(g) \ge s \exp\big(D^2 / (8 s^2) - \Phi^{-1}(\lambda)^2 / 2\big).

    With ``sharp=True`` the function returns the intermediate step of the
    proof, :math:`I(\nu(H)) / \nu^+(\partial H)`, with :math:`H` the
    half-space bisecting the two means, :math:`t = D / (2s)`,
    :math:`\nu(H) = \lambda \Phi(-t) + (1 - \lambda) \Phi(t)` and
    :math:`\nu^+(\partial H) = \varphi(t) / s`. It is never smaller than the
    closed form.

    Parameters
    ----------
    m1, m2 : real numbers or equal-length sequences of real numbers
        Means of the two components, in any dimension. ``m1 = m2`` is
        accepted: the target is then one Gaussian, and the bound (at most
        ``sigma``) stays valid because pushing :math:`N(0, I_p)` onto
        :math:`N(m, s^2 I_d)` needs a Lipschitz constant of at least ``s``.
    sigma : positive finite real number
        Common standard deviation ``s`` of the components.
    weight : real number in (0, 1), default 1/2
        Weight :math:`\lambda` of the component at ``m1``.
    sharp : bool, default False
        Return the sharper intermediate bound instead of the closed form.
    dps : int, optional
        Significant digits of the result.

    Returns
    -------
    mpmath.mpf
        Finite for any finite input: ``m1 = -50``, ``m2 = 50``, ``sigma = 1``
        gives :math:`e^{1250} \approx 10^{542.9}`.

    References
    ----------
    Salmona et al., 2022, Corollary 2.
    """

    sharp = check_flag("sharp", sharp)

    def parse():
        return separation(m1, m2), check_positive("sigma", sigma), _check_weight(weight)

    form = _bisecting_half_space_form if sharp else _closed_form
    return evaluate(lambda: _with_exponent_guard(parse, form), dps)


# ---------------------------------------------------------------------------
# Corollary 6 and its radius-optimised form, inverted in the Lipschitz constant.
# ---------------------------------------------------------------------------

def lipschitz_lower_bound_for_tv(m1, m2, sigma, tv, *, sharp=False, dps=None):
    r"""Return the Lipschitz constant needed to come within total variation ``tv`` of two balanced Gaussians.

    For :math:`\nu = \tfrac12 [N(m_1, s^2 I) + N(m_2, s^2 I)]` and
    :math:`D = \|m_2 - m_1\|`, any :math:`g` with
    :math:`d_{TV}(g\#N(0, I_p), \nu) \le \varepsilon` has
    :math:`\mathrm{Lip}(g) \ge` the returned value. It inverts the total
    variation bounds in ``L``:

    - ``sharp=False``, Corollary 6:
      :math:`\mathrm{Lip}(g) \ge D / (4 s\, \Phi^{-1}(\tfrac12 + \varepsilon + b))`
      with :math:`b = \tfrac12 [\Phi(D(2s+1)/(4s^2)) - \Phi(D(2s-1)/(4s^2))]`.
    - ``sharp=True``, Theorem 4 on the bisecting half-space at every radius
      (the bound of :func:`isobounds.maximize_tv_two_gaussians`): each
      ``r > 0`` gives :math:`\Phi(r / L) \le \tfrac12 + \varepsilon + S(r)`
      with :math:`S(r) = \tfrac12 [\Phi((D/2 + r)/s) - \Phi((D/2 - r)/s)]`,
      so :math:`\mathrm{Lip}(g) \ge \sup_{r > 0} r / \Phi^{-1}(\tfrac12 + \varepsilon + S(r))`.
      Corollary 6 is the term ``r = D/(4s)``, so this value is never smaller.
      At :math:`\varepsilon = 0` the supremum includes the limit
      :math:`r \to 0`, :math:`s \exp(D^2 / (8 s^2))`, which is Corollary 2
      for equal weights.

    A radius where :math:`\tfrac12 + \varepsilon + S(r) \ge 1` constrains
    nothing, and the value is 0 when every radius is such (a large ``tv``).

    Parameters
    ----------
    m1, m2 : real numbers or equal-length sequences of real numbers
        Means of the two components, in any dimension.
    sigma : positive finite real number
        Common standard deviation ``s`` of the components.
    tv : real number in [0, 1]
        The total variation :math:`\varepsilon` that the generator reaches.
    sharp : bool, default False
        Invert the radius-optimised bound instead of Corollary 6.
    dps : int, optional
        Significant digits of the result.

    Returns
    -------
    mpmath.mpf
        The lower bound on the Lipschitz constant, finite for finite input.

    NOTE: with ``sharp=True`` and ``tv > 0`` the supremum over ``r`` is a
    numerical search (a log-spaced grid, golden-section refinement and a
    polish at the working precision). The value returned is the ratio at
    the radius found, so it is a valid bound even where the search falls
    short of the supremum.

    References
    ----------
    Salmona et al., 2022, Corollaries 2 and 6 and Theorem 4.
    """

    sharp = check_flag("sharp", sharp)

    def parse():
        return separation(m1, m2), check_positive("sigma", sigma), check_probability("tv", tv)

    def compute():
        D, s, eps = parse()
        if D == 0 and not sharp:
            # Corollary 6 is D / (4 s x) with x > 0, so 0. The radius-optimised form stays positive for
            # one Gaussian (s at tv = 0), so it is computed as for distinct modes.
            return mpmath.mpf(0)
        # The target shell b is a Gaussian tail when the modes are far apart, so the rounding of
        # D and s is amplified as in Corollary 6 (L = inf drops the model's term).
        extra = _corollary6_input_bits(D, s, mpmath.inf)
        with mpmath.extraprec(extra):
            D, s, eps = parse()
            form = _sharp_lipschitz_for_tv if sharp else _corollary6_lipschitz_for_tv
            value = form(D, s, eps)
        return +value

    return evaluate(compute, dps)


def _quantile_above_half(eps, shell, remainder):
    """Return ``x`` with ``Phi(x) = 1/2 + eps + shell``, or None when that sum is at least 1.

    ``remainder`` is ``1/2 - shell``, computed by the caller from Gaussian
    tails, so that it keeps its relative precision when ``shell`` lies
    within rounding of 1/2. The sum is never formed: for ``eps + shell <=
    1/4`` the root comes from ``Phi(x) - 1/2 = eps + shell`` (full relative
    precision when the sum is tiny), and otherwise from the upper tail
    ``Phi_c(x) = 1/2 - eps - shell``. That tail is formed as ``(1/2 - eps)
    - shell`` when ``shell <= 1/4`` and as ``remainder - eps`` otherwise,
    so that the two terms subtracted are the two that may be close and no
    other rounding enters: ``1/2 - shell`` formed from ``shell`` would have
    no correct digit where it is below the rounding of 1/2 (Corollary 6
    with ``D = 0.05``, ``s = 0.01`` has ``1/2 - b`` of about ``1e-3400``,
    where that gives 0 instead of 0.0102), and ``remainder - eps`` with
    ``eps`` within rounding of 1/2 would lose a small ``shell``.
    """
    q = eps + shell
    if q <= mpmath.mpf(1) / 4:
        return _half_erf_inv(q)
    half = mpmath.mpf(1) / 2
    rest = (half - eps) - shell if shell <= half / 2 else remainder - eps
    if rest <= 0:
        return None
    return _Phi_c_inv(rest)


def _corollary6_lipschitz_for_tv(D, s, eps):
    """Return ``D / (4 s Phi_inv(1/2 + eps + b))`` (0 when the quantile is infinite)."""
    # D > 0, so b > 0 (mpmath does not underflow) and the quantile is positive.
    # 1/2 - b = (1/2)[Phi_c(D(2s+1)/(4s^2)) + Phi(D(2s-1)/(4s^2))], with the arguments formed
    # at the extra precision of _corollary6_target_shell.
    with mpmath.extraprec(_corollary6_shell_bits(D, s)):
        remainder = (_Phi_c(D * (2 * s + 1) / (4 * s * s)) + _Phi(D * (2 * s - 1) / (4 * s * s))) / 2
    x = _quantile_above_half(eps, _corollary6_target_shell(D, s), +remainder)
    if x is None:
        return mpmath.mpf(0)
    return D / (4 * s * x)


def _sharp_lipschitz_for_tv(D, s, eps):
    """Return ``sup_r r / Phi_inv(1/2 + eps + S(r))``, by a search over ``log r`` (see the public docstring)."""
    corollary2 = s * mpmath.exp(D * D / (8 * s * s))

    def ratio(r):
        # The ends (D/2 -+ r)/s are rounded to the precision in use, which leaves the width 2r/s only
        # its bits beyond log2(D/r): at 20 digits, r = 1e-8 and D = 6 keep 12 digits of S(r), and
        # r < 3e-20 gives S(r) = 0, a ratio above the true one. So the ends carry that many more bits.
        extra = max(0, mpmath.mag(D) - mpmath.mag(r)) + 8 if D else 0
        with mpmath.extraprec(extra):
            upper, lower = (D / 2 + r) / s, (D / 2 - r) / s
            shell = _gaussian_mass(lower, upper) / 2
            # 1/2 - S(r) = (1/2)[Phi_c((D/2 + r)/s) + Phi((D/2 - r)/s)], both tails without cancellation.
            remainder = (_Phi_c(upper) + _Phi(lower)) / 2
        x = _quantile_above_half(eps, +shell, +remainder)
        return mpmath.mpf(0) if x is None or x == 0 else r / x

    if eps >= mpmath.mpf(1) / 2:
        # 1/2 + eps + S(r) > 1 for every r > 0, so no radius constrains L.
        return mpmath.mpf(0)
    # Below r_low the target shell S(r) <= r / (s sqrt(2 pi)) is below a 1e-3 fraction of both eps
    # and 1/2 - eps, so the quantile is close to Phi_inv(1/2 + eps) and the ratio grows with r.
    # (With eps near 1/2 the maximum lies where S(r) is of order 1/2 - eps: for eps = 0.4999999,
    # D = 6, s = 1 it is at r ~ 2e-5, so a lower end scaled by eps alone misses it.) Beyond r_high,
    # 1/2 + eps + S(r) reaches 1 when eps > 0, and the ratio tends to s when eps = 0.
    r_low = s * (min(eps, mpmath.mpf(1) / 2 - eps) * mpmath.mpf("1e-3") if eps > 0 else mpmath.mpf("1e-8"))
    reach = _Phi_c_inv(min(2 * eps, mpmath.mpf(1) / 2)) if eps > 0 else mpmath.mpf(40)
    r_high = D / 2 + s * (reach + 2)
    if not r_low < r_high:
        return mpmath.mpf(0)
    _, r = _maximize_over_radius(ratio, r_low, r_high)
    value = ratio(_final_radius(ratio, r, r_low, r_high))
    if eps == 0:
        value = max(value, corollary2)
    return value


# ---------------------------------------------------------------------------
# Corollary 3.
# ---------------------------------------------------------------------------

class OTLipschitzConstant(typing.NamedTuple):
    """Lipschitz constant of the monotone transport map and where it is attained.

    ``maximiser`` is the point ``y`` of the target's line where
    ``I(F(y)) / p(y)`` is largest, or ``+inf`` when the supremum is the
    limit in the tails (the largest component standard deviation of a
    Gaussian mixture).
    """

    value: mpmath.mpf
    maximiser: mpmath.mpf


def _ratio(mixture, y):
    """I(F(y)) / p(y) with I evaluated on the smaller of F(y) and 1 - F(y)."""
    q = min(mixture.cdf(y), mixture.sf(y))
    return _isoperimetric_profile(q) / mixture.pdf(y)


def _log_ratio_slope(mixture, y):
    """Minus the derivative of log(I(F)/p): Phi_inv(F) p / I(F) + p' / p.

    The logarithmic form keeps the function of order 1 to ``|y - m_k| / s_k^2``
    even where ``p`` is as small as ``exp(-1250)``, so a root finder's
    absolute tolerance stays meaningful.
    """
    cdf, sf = mixture.cdf(y), mixture.sf(y)
    quantile = _Phi_inv(cdf) if cdf <= sf else _Phi_c_inv(sf)
    p = mixture.pdf(y)
    return quantile * p / _isoperimetric_profile(min(cdf, sf)) + mixture.pdf_derivative(y) / p


def _search_grid(mixture):
    """Build the float64 grid on which the maximum of I(F)/p is searched.

    It covers every component to +-40 standard deviations, denser near each
    mean, and adds a window around each switch of the leading component
    (:func:`_leading_switches`). A light component leads again far in a
    tail, about ``|log w| s^2 / D`` from the means (``w`` its weight, ``D``
    the distance between the means), and the ratio peaks near that switch.
    """
    _, means, sigmas = mixture.float_parameters()
    spread = 40.0 * sigmas.max()
    pieces = [np.linspace(means.min() - spread, means.max() + spread, 4001)]
    pieces += [m + s * np.linspace(-40.0, 40.0, 1601) for m, s in zip(means, sigmas)]
    # A window is clipped to _SWITCH_REACH standard deviations from the means,
    # because beyond that float64 rounding of the log ratio exceeds its features.
    # Nearly coincident components would otherwise get windows of 1e8 or more.
    reach = _SWITCH_REACH * sigmas.max()
    low, high = means.min() - reach, means.max() + reach
    for y, half_width in _leading_switches(mixture):
        left, right = max(y - half_width, low), min(y + half_width, high)
        pieces.append(np.linspace(left, right, _SWITCH_WINDOW_POINTS))
    grid = np.unique(np.concatenate(pieces))
    distinct = np.diff(grid) > 1e-6 * sigmas.min()
    return grid[np.concatenate(([True], distinct))]


def _log_weights(mixture):
    """Return float64 logarithms of the weights, taken in mpmath so that weights below 1e-308 stay finite."""
    return np.array([float(mpmath.log(w)) for w in mixture.weights])


def _leading_switches(mixture):
    """Return the points where the leading component of the density changes, each with the half-width of its grid window.

    Components ``i`` and ``j`` have equal densities where
    ``c_i - (y - m_i)^2 / (2 s_i^2) = c_j - (y - m_j)^2 / (2 s_j^2)``
    with ``c = log w - log s``, a quadratic (linear for equal standard
    deviations) in ``y``. A root is kept when no other component's density
    exceeds those two by more than a factor ``e`` there. Across the switch
    the log ratio of the two densities changes by 1 over ``1 / |g|``, with
    ``g`` the difference of their log-density slopes, so the window spans
    :data:`_SWITCH_WINDOW_WIDTHS` such lengths on each side.

    NOTE: switches more than :data:`_SWITCH_REACH` of the largest standard
    deviations beyond the means are skipped. There the float64 log ratio
    (rounding about ``eps * z^2 / 2`` for ``z`` standard deviations) is
    too coarse to locate the peak, whose excess over the tail limit is
    about ``|log w| / z^2``.
    """
    _, means, sigmas = mixture.float_parameters()
    curvature = 0.5 / sigmas**2
    level = _log_weights(mixture) - np.log(sigmas)
    reach = _SWITCH_REACH * sigmas.max()
    switches = []
    for i, _, y, slope in _component_crossings(level, curvature, means):
        if not means.min() - reach <= y <= means.max() + reach:
            continue
        logs = level - curvature * (y - means) ** 2
        if logs.max() > logs[i] + 1.0:
            continue
        if slope > 0:
            switches.append((y, _SWITCH_WINDOW_WIDTHS / slope))
    return switches


def _log_ratio_on_grid(mixture, grid):
    """Evaluate log(I(F)/p) on a float64 grid, from log-sum-exp sums so that no tail underflows.

    Returns the log ratio and an estimated bound on its rounding error at each point.
    The log ratio is the difference of ``x^2 / 2`` and ``-log p``, both
    about ``z^2 / 2`` for ``z`` standard deviations from the leading mean,
    so its rounding error grows like ``eps * z^2``. The bound is
    :data:`_ULP_MARGIN` ulps of the larger of the two terms, plus 1.
    """
    _, means, sigmas = mixture.float_parameters()
    z = (grid[:, None] - means[None, :]) / sigmas[None, :]
    log_w = _log_weights(mixture)[None, :]
    log_pdf = sc.logsumexp(log_w - 0.5 * z * z - np.log(sigmas)[None, :] - _LOG_SQRT_2PI, axis=1)
    log_cdf = sc.logsumexp(log_w + sc.log_ndtr(z), axis=1)
    log_sf = sc.logsumexp(log_w + sc.log_ndtr(-z), axis=1)
    log_q = np.minimum(log_cdf, log_sf)
    x = sc.ndtri_exp(np.minimum(log_q, math.log(0.5)))
    half_square = 0.5 * x * x
    rounding = _ULP_MARGIN * np.finfo(float).eps * (1.0 + np.maximum(half_square, np.abs(log_pdf)))
    return -half_square - _LOG_SQRT_2PI - log_pdf, rounding


def _local_maxima(values, count, rank=None):
    """Indices of the ``count`` interior local maxima (plateaus included) of ``values`` largest in ``rank`` (default ``values``)."""
    if rank is None:
        rank = values
    interior = np.arange(1, len(values) - 1)
    is_peak = (values[interior] >= values[interior - 1]) & (values[interior] >= values[interior + 1])
    peaks = interior[is_peak]
    if peaks.size == 0:
        peaks = np.array([int(np.argmax(values))])
    order = np.argsort(rank[peaks])[::-1]
    return peaks[order[:count]]


def _refine_maximum(mixture, left, right):
    """Locate the maximum of I(F)/p inside ``[left, right]`` at the working precision.

    A bracketed root of the logarithmic derivative converges fast. The
    root is kept only when it lies inside the bracket and beats both ends.
    Otherwise golden-section search on the ratio finds the maximum.
    """
    left, right = mpmath.mpf(left), mpmath.mpf(right)
    if _log_ratio_slope(mixture, left) < 0 < _log_ratio_slope(mixture, right):
        try:
            y = mpmath.findroot(lambda t: _log_ratio_slope(mixture, t), (left, right), solver="anderson")
        except (ValueError, ZeroDivisionError):
            y = None
        if y is not None and left <= y <= right:
            value = _ratio(mixture, y)
            if value >= _ratio(mixture, left) and value >= _ratio(mixture, right):
                return y
    # Enough iterations to shrink the bracket to the working precision.
    iterations = int(mpmath.mp.prec * 1.45) + 10
    _, y = golden_section(lambda t: _ratio(mixture, t), left, right, iterations)
    return y


def _polish(mixture, y, left, right, extra_digits=0, scale=None):
    """Refine the maximiser ``y`` (found at :data:`_SEARCH_DPS` digits) for the working precision.

    Newton steps on the logarithmic derivative, with a finite-difference
    slope, double the correct digits of ``y`` at each step; each step runs
    at twice the digits of the previous one, up to half the working
    precision plus guard digits (the ratio is flat at its maximum, so an
    error ``e`` in ``y`` costs only about ``e^2`` in the value). Digits
    count relative to ``scale`` (default the largest standard deviation),
    not to ``|y|``, so a maximiser at or near 0 is refined like any other. A slope that rounds
    to exactly 0, or a step that would leave ``[left, right]``, leaves
    ``y`` unchanged at that precision, and the next step runs at more
    digits. Whatever point is returned, the ratio there is a valid lower
    bound on the supremum. Starts from half the search digits, the
    accuracy of a float64-seeded root. Every step carries ``extra_digits``
    more, the cost of the Gaussian exponents (:func:`_exponent_digits`),
    and ``log10(|y| / scale)`` more for the position of ``y``.
    """
    target_digits = mpmath.mp.dps // 2 + 10
    digits = _SEARCH_DPS // 2
    scale = max(mixture.sigmas) if scale is None else scale
    # Digits of y itself above the scale, so that y + step stays distinct from y.
    extra_digits += max(0, int(mpmath.log10(abs(y) / scale)) + 1) if y != 0 else 0
    while digits < target_digits:
        # The slope difference over this step keeps about ``digits`` correct digits.
        step = scale * mpmath.mpf(10) ** (-digits)
        digits = min(2 * digits, target_digits)
        with workdps(digits + extra_digits):
            slope = _log_ratio_slope(mixture, y)
            derivative = (_log_ratio_slope(mixture, y + step) - slope) / step
            if slope == 0 or derivative == 0:
                continue
            candidate = y - slope / derivative
        if left <= candidate <= right:
            y = candidate
    return y


def _exponent_digits(mixture):
    """Return the decimal digits that the Gaussian exponents between the means cost.

    The density at a point ``z`` standard deviations from a mean carries
    ``exp(-z^2 / 2)``, whose relative rounding error is ``z^2 / 2`` times
    that of ``z``. Between the extreme means ``z`` reaches their spread over
    the smallest standard deviation: with modes 1e14 standard deviations
    apart, 28 digits go to the exponent alone.
    """
    largest = ((max(mixture.means) - min(mixture.means)) / min(mixture.sigmas)) ** 2 / 2
    return int(mpmath.log10(largest)) + 1 if largest > 1 else 0


def _projection(vector, direction):
    """Return ``<u, vector> / |u|`` for ``u = direction``, or the only coordinate of ``vector`` when ``direction`` is None."""
    if direction is None:
        return vector[0]
    u = [to_mpf(v, f"direction[{i}]") for i, v in enumerate(np.ravel(np.asarray(direction, dtype=object)))]
    return mpmath.fdot(u, vector) / mpmath.sqrt(mpmath.fdot(u, u))


def _check_mixture_weights(target):
    """Check that the weights of the Gaussian mixture ``target`` are nonnegative and not all 0.

    A :class:`GaussianMixture` checks its weights when it is built, but
    another object with mixture parameters may not. Components of weight 0
    are left in place, because neither the centre of
    :func:`centered_mixture` nor the univariate mixture depends on them.

    Raises
    ------
    ValueError
        When a weight is negative or no weight is positive.
    """
    weights, _, _ = _parameters(target)
    for i, w in enumerate(weights):
        if w < 0:
            raise ValueError(f"target.weights must be nonnegative, got target.weights[{i}]={mpmath.nstr(w, 17)}")
    if not any(w > 0 for w in weights):
        raise ValueError("target.weights must contain a positive weight, got only zeros")


def _mixture_ot_constant(mixture):
    """Locate the maximiser at :data:`_SEARCH_DPS` digits, then polish it and evaluate at the working precision.

    Both run with :func:`_exponent_digits` more digits, so that the
    densities keep their relative precision between far-apart modes.
    Candidates whose search values agree with the best to the search
    precision are all polished, and the working precision ranks them.
    """
    digits = mpmath.mp.dps
    extra = _exponent_digits(mixture)
    with workdps(min(digits, _SEARCH_DPS) + extra):
        candidates = _mixture_ot_search(mixture, extra)
    tail_limit = max(mixture.sigmas)
    if not candidates:
        return tail_limit, mpmath.inf
    best_search_value = candidates[0][0]
    best_value, best_point = None, None
    for search_value, point, scale in candidates:
        if search_value < best_search_value * (1 - mpmath.mpf(10) ** (3 - _SEARCH_DPS)):
            break
        if digits > _SEARCH_DPS:
            width = scale * mpmath.mpf(10) ** (-_SEARCH_DPS // 2)
            point = _polish(mixture, point, point - width, point + width, extra, scale)
        with workdps(digits + extra):
            value = _ratio(mixture, point)
        if best_value is None or value > best_value:
            best_value, best_point = value, point
    if tail_limit > best_value:
        return tail_limit, mpmath.inf
    return best_value, best_point


def _exact_switches(mixture):
    """Return ``(left, right)`` brackets, in mpmath, around the switches of the leading component.

    The same switches as :func:`_leading_switches`, within the same reach
    of the means, located from the mixture's own parameters instead of
    float64 ones. With modes more than about 1e7 standard deviations
    apart, float64 can no longer resolve the peak of the ratio at a switch
    (its width is about ``s^2 / D``), or even locate the switch once
    ``D^2 / s^2`` overflows. Only the :data:`_CANDIDATES` brackets with the
    largest ratio at their centre are returned, because each costs a
    refinement at the full exponent precision.
    """
    level = [mpmath.log(w) - mpmath.log(s) for w, s in zip(mixture.weights, mixture.sigmas)]
    curvature = [1 / (2 * s * s) for s in mixture.sigmas]
    means = mixture.means
    reach = _SWITCH_REACH * max(mixture.sigmas)
    low, high = min(means) - reach, max(means) + reach
    ranked = []
    for i, _, y, slope in _component_crossings(level, curvature, means, roots=_quadratic_roots):
        logs = [level[k] - curvature[k] * (y - means[k]) ** 2 for k in range(len(means))]
        if not low <= y <= high or slope == 0 or max(logs) > logs[i] + 1:
            continue
        half_width = _SWITCH_WINDOW_WIDTHS / slope
        if not y - half_width < y + half_width:
            continue
        ranked.append((_ratio(mixture, y), y - half_width, y + half_width))
    ranked.sort(key=lambda entry: entry[0], reverse=True)
    return [(left, right) for _, left, right in ranked[:_CANDIDATES]]


def _quadratic_roots(a, b, c):
    """Return the real roots of ``a y^2 + b y + c`` (of ``b y + c`` when ``a = 0``) in mpmath, without cancellation."""
    if a == 0:
        return [-c / b] if b != 0 else []
    discriminant = b * b - 4 * a * c
    if discriminant < 0:
        return []
    q = -(b + mpmath.sign(b) * mpmath.sqrt(discriminant)) / 2 if b != 0 else -mpmath.sqrt(discriminant) / 2
    return [0] if q == 0 else [q / a, c / q]


def _mixture_ot_search(mixture, exponent_digits):
    """Return the refined candidates ``(value, point, scale)`` above the tail limit, largest value first.

    ``scale`` is the length scale of the candidate's peak: the largest
    standard deviation, or for a peak at a switch located in mpmath the
    width of its bracket, which can be far smaller (about ``120 s^2 / D``).
    Candidates not above the tail limit ``max(sigmas)`` are left out.
    ``exponent_digits`` is :func:`_exponent_digits` of the mixture.
    """
    candidates = []
    if exponent_digits > _FLOAT64_EXPONENT_DIGITS:
        for left, right in _exact_switches(mixture):
            # Enough extra bits to tell the ends of the bracket apart from its centre.
            extra = max(0, max(mpmath.mag(left), mpmath.mag(right)) - mpmath.mag(right - left)) + 20
            with mpmath.extraprec(extra):
                y = _refine_maximum(mixture, left, right)
                candidates.append((_ratio(mixture, y), y, min(right - left, max(mixture.sigmas))))

    # Modes about 1e150 standard deviations apart overflow the float64 log
    # ratio. Its points that are not finite are left out of the search.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        grid = _search_grid(mixture)
        log_ratio, rounding = _log_ratio_on_grid(mixture, grid)
        finite = np.isfinite(log_ratio) & np.isfinite(rounding)
    grid, log_ratio, rounding = grid[finite], log_ratio[finite], rounding[finite]
    # Far from the means, rounding noise of order eps * z^2 makes spurious
    # local maxima that can outrank a shallow peak in the bulk of the mass.
    # Ranking also by the log ratio less its rounding bound keeps the peaks
    # that are real among the refined candidates. The search compares the
    # refined candidates by the ratio evaluated with mpmath.
    peaks = []
    if grid.size >= 3:
        peaks = np.union1d(_local_maxima(log_ratio, _CANDIDATES),
                           _local_maxima(log_ratio, _CANDIDATES, rank=log_ratio - rounding))
    for i in peaks:
        # Two grid steps on each side keep the maximum inside the bracket
        # despite rounding in the float64 values.
        left, right = grid[max(i - 2, 0)], grid[min(i + 2, len(grid) - 1)]
        y = _refine_maximum(mixture, left, right)
        candidates.append((_ratio(mixture, y), y, max(mixture.sigmas)))

    # A mixture symmetric about a midpoint of two means peaks there exactly. The
    # peak can be too flat for the grid and the refinement to place: two equal
    # components 2e-4 s apart are flat to about 1e-20 over 0.1 s.
    ordered = sorted(set(mixture.means))
    for a, b in zip(ordered[:-1], ordered[1:]):
        y = (a + b) / 2
        candidates.append((_ratio(mixture, y), y, max(mixture.sigmas)))

    tail_limit = max(mixture.sigmas)
    candidates = [candidate for candidate in candidates if candidate[0] > tail_limit]
    return sorted(candidates, key=lambda candidate: candidate[0], reverse=True)


def _generic_ot_constant(target, bounds):
    """Float64 search for targets known only through ``pdf`` and ``cdf`` (and ``sf``, ``ppf`` if present).

    A target wrapping a frozen ``scipy.stats`` law (``target.frozen``) is
    evaluated through that law. Where the density vanishes inside the
    support's range the ratio is infinite, and so is the returned value.
    Points whose tail mass ``min(F, 1 - F)`` is below the smallest normal
    float64 (about 2.2e-308) are skipped: there ``F`` is subnormal or 0 and
    has lost its relative precision, so the ratio is noise (a model
    ``N(0, s^2)`` gave twice ``s`` at 38 standard deviations).
    """
    law = getattr(target, "frozen", target)
    if not (hasattr(law, "pdf") and hasattr(law, "cdf")):
        raise TypeError(
            "target must be a distribution: a Gaussian mixture with weights, means and sigmas,"
            " or a univariate law with pdf and cdf methods such as a frozen scipy.stats distribution;"
            f" got target={target!r} of type {type(target).__name__}"
        )
    if bounds is None:
        if not hasattr(law, "ppf"):
            raise ValueError("bounds=(low, high) is required for a target without ppf or mixture parameters")
        bounds = (float(law.ppf(1e-12)), float(law.ppf(1 - 1e-12)))
    low, high = (float(b) for b in bounds)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"bounds must be two finite numbers with low < high, got bounds={bounds!r}")

    def ratio(y):
        y = np.asarray(y, dtype=float)
        cdf = np.asarray(law.cdf(y), dtype=float)
        sf = np.asarray(law.sf(y), dtype=float) if hasattr(law, "sf") else 1.0 - cdf
        tail = np.minimum(cdf, sf)
        profile = np.exp(-0.5 * sc.ndtri(tail) ** 2 - _LOG_SQRT_2PI)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(profile > 0, profile / np.asarray(law.pdf(y), dtype=float), 0.0)
        return np.where(tail >= _SMALLEST_NORMAL, ratio, np.nan)

    grid = np.linspace(low, high, 20001)
    values = ratio(grid)
    if np.isposinf(values).any():
        return mpmath.inf, mpmath.mpf(float(grid[np.argmax(values)]))
    values = np.nan_to_num(values, nan=-np.inf)

    best_value, best_point = -np.inf, None
    for i in _local_maxima(values, _CANDIDATES):
        left, right = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
        found = scipy.optimize.minimize_scalar(
            lambda y: -float(np.nan_to_num(ratio(y), nan=-np.inf)), bounds=(left, right), method="bounded",
            options={"xatol": 1e-13}
        )
        candidates = [(float(-found.fun), float(found.x)), (float(values[i]), float(grid[i]))]
        for value, point in candidates:
            if value > best_value:
                best_value, best_point = value, point
    if best_point is None:
        raise ValueError(f"bounds={bounds!r} lie where the target's tail mass is below {_SMALLEST_NORMAL:.3g}, "
                         "where float64 cannot evaluate the ratio; choose bounds that reach into the bulk of the target")
    return _round_down(best_value, law, best_point), mpmath.mpf(best_point)


def _round_down(value, law, point):
    """Lower ``value = I(F(y)) / p(y)`` (float64) by the margin that covers its rounding errors.

    With ``x = Phi_inv(min(F(y), 1 - F(y)))``, errors of a few ulps in
    ``F``, ``p`` and ``Phi_inv`` change ``exp(-x^2 / 2) / p`` by a relative
    amount of at most a few ``(1 + x^2)`` ulps, so the margin
    ``_ULP_MARGIN * eps * (1 + x^2)`` keeps the result below the exact ratio.
    """
    cdf = float(law.cdf(point))
    sf = float(law.sf(point)) if hasattr(law, "sf") else 1.0 - cdf
    x = float(sc.ndtri(min(cdf, sf)))
    margin = _ULP_MARGIN * np.finfo(float).eps * (1.0 + x * x)
    return mpmath.mpf(value) * (1 - mpmath.mpf(margin))


def ot_lipschitz_constant(target, *, direction=None, bounds=None, dps=None):
    r"""Lipschitz constant of the monotone transport map onto a univariate target.

    For :math:`\nu` on :math:`\mathbb{R}` with density :math:`p_\nu > 0` and
    distribution function :math:`F_\nu`, every :math:`g` with
    :math:`g\#N(0, I_p) = \nu` satisfies

    .. math::

        \mathrm{Lip}(g) \ge \mathrm{Lip}(F_\nu^{-1} \circ \Phi)
        = \sup_y I(F_\nu(y)) / p_\nu(y),

    and the monotone map attains it. In higher dimension the bound applies
    to the law of :math:`\langle u, X \rangle` for a unit vector ``u``,
    because projecting is 1-Lipschitz.

    The supremum is found by a global search. The ratio is evaluated on a
    float64 grid in logarithms, so no tail underflows. The grid covers the
    components to 40 standard deviations and a window around every point
    where the leading component of the density changes. A light component
    (weight ``w``) leads again about ``|log w| s^2 / D`` from the means,
    with ``D`` the distance between the means, and the ratio peaks there
    above its tail limit. The grid values carry rounding errors of about
    ``eps * z^2`` at ``z`` standard deviations from the means, so the local
    maxima refined are the few largest and the few largest less that error
    bound. Refinement runs at the working precision by a bracketed root of
    the derivative (golden-section search as a fallback), and the largest
    refined value wins. Search and refinement carry ``log10(z^2 / 2)``
    more digits for the largest ``z`` between the means, because the
    density's exponent turns the rounding of ``z`` into a relative error
    ``z^2 / 2`` times larger. Beyond about 1e7 standard deviations between
    modes, float64 can no longer resolve the peaks at the switches of the
    leading component, so they are also located and refined in mpmath.

    NOTE: the search can miss a peak that no grid local maximum brackets,
    such as two peaks closer than the grid step (``sigma_min / 20`` near the
    means), or a peak whose height above its surroundings is below the
    grid's rounding error bound. It also skips the peak of a light
    component that leads again more than ``_SWITCH_REACH`` (1e4) of the
    largest standard deviations beyond the means. There the peak exceeds
    the tail limit by only about ``|log w| / z^2`` (relative), which float64
    cannot resolve. In all these cases the value returned is the ratio at
    the returned point (or the tail limit), so a lower bound on the constant.

    NOTE: where the maximum is very flat, the 20-digit search locates the
    maximiser only roughly, and the polish cannot recover it, so the value
    can fall short by more than ``dps`` digits allow. Two equal components
    ``D`` apart have a ratio flat to about ``(D / s)^4``, but their maximum
    lies at the midpoint of the means, which the search always evaluates:
    for ``D = 1e-4 s`` and ``dps=30`` all 30 digits are correct. A flat
    maximum elsewhere gets no such help.

    NOTE: for a law with tails heavier than Gaussian (logistic, Student)
    the ratio grows without bound in the tails, so the supremum is infinite.
    The float64 search only returns the largest value inside ``bounds``.

    Parameters
    ----------
    target : object
        A Gaussian mixture exposing ``weights``, ``means`` and ``sigmas``
        (such as :class:`isobounds.measures.GaussianMixture`) is evaluated
        with mpmath at the working precision. Any other univariate law with
        vectorised ``pdf`` and ``cdf`` (and optionally ``sf`` and ``ppf``),
        such as a frozen ``scipy.stats`` distribution or an
        :class:`isobounds.measures.UnivariateDistribution`, is evaluated
        in float64. A density that vanishes between parts of the support gives
        ``+inf``, because the transport map jumps there.
    direction : sequence of real numbers, optional
        Direction ``u`` to project a multivariate Gaussian mixture on
        (normalised internally). Required when the mixture's dimension is
        above 1.
    bounds : (float, float), optional
        Search interval for a target given by ``pdf`` and ``cdf`` only.
        Defaults to ``(ppf(1e-12), ppf(1 - 1e-12))``.
    dps : int, optional
        Significant digits of the result (mixtures only; other targets are
        computed in float64).

    Returns
    -------
    OTLipschitzConstant
        ``(value, maximiser)`` as mpf. For a target evaluated in float64 the
        value is the float64 ratio at the maximiser lowered by the relative
        margin ``64 * eps * (1 + x^2)`` (``eps`` the float64 machine epsilon,
        ``x = Phi_inv(min(F(y), 1 - F(y)))`` at the maximiser), which covers
        the rounding errors of a law whose ``cdf``, ``sf`` and ``pdf`` are
        accurate to a few ulps; so it never exceeds the exact constant.

    References
    ----------
    Salmona et al., 2022, Corollary 3.
    """

    def compute():
        if is_gaussian_mixture(target):
            # The constant is invariant under translation, and the float64 search needs means
            # near the origin (see centered_mixture). The maximiser moves back by <u, c> / |u|.
            _check_mixture_weights(target)
            centered, center = centered_mixture(target)
            mixture = mixture_from_target(centered, direction)
            return (*_mixture_ot_constant(mixture), [_projection(center, direction)])
        if direction is not None:
            raise ValueError("direction applies to Gaussian mixtures only; got a target without mixture parameters")
        return (*_generic_ot_constant(target, bounds), [0])

    value, maximiser, shift = evaluate(compute, dps)
    return OTLipschitzConstant(value, shift_back(maximiser, [1], shift))
