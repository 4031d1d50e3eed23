r"""The bounds of Salmona et al. (2022) as sympy expressions.

Each function has the name and argument order of the numeric core's bound
and returns a sympy expression of whatever it receives. Symbols give the
formula, and exact numbers give an exact expression that ``.evalf(n)``
evaluates to ``n`` digits. A mix gives a partly evaluated formula.

Arguments whose value is known to be out of range raise ``ValueError``:
numbers out of range, and symbols whose assumptions contradict the range
(``Symbol("L", negative=True)`` as a Lipschitz constant).

Strings are parsed as exact decimal numbers (``"1e-300"``, ``"0.25"``,
``"1/3"``), as the numeric core parses them; pass symbols as
``sympy.Symbol``.

Every difference of two values of :math:`\Phi` in a bound, such as
:math:`\beta = \Phi(\Phi^{-1}(p) + r/L) - p`, is built as a
:class:`~isobounds.symbolic.functions.gaussian_mass`, which evaluates it from
the width of the interval. ``.evalf(n)`` and ``sympy.lambdify`` therefore
keep their digits for extreme inputs such as ``lip=10**300``, where the two
values of :math:`\Phi` agree to 300 digits. Maxima, minima and the
condition of the KL bracket between numbers are decided when the bound is
built, by the sign of a difference evaluated with up to 2000 more digits
where sympy's own low-precision comparison fails.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022.
"""

import itertools
import numbers

import sympy
from sympy import S

from .functions import (
    _PROBABILITY_FACTS,
    Phi,
    Phi_inv,
    _real_value,
    assumption_reason,
    gaussian_mass,
    isoperimetric_profile,
    kl_bin,
    parse_number,
    phi,
    shown,
)

__all__ = [
    "surface_area_lower_bound",
    "extension_mass_lower_bound",
    "shell_mass_lower_bound",
    "lipschitz_lower_bound_two_gaussians",
    "tv_bracket",
    "tv_lower_bound_two_gaussians",
    "tv_lower_bound_disconnected",
    "kl_bracket",
    "kl_lower_bound_two_gaussians",
    "two_gaussian_shell_mass",
    "formula",
    "latex",
    "FORMULA_NAMES",
]

MAX_PIECES = 12
"""Largest number of pieces of :func:`tv_lower_bound_disconnected` (the expression has 2**(N-1) - 1 terms)."""

_FLOAT_SUM_TOLERANCE = 1e-12
_COMPARISON_BITS = 64


# ---------------------------------------------------------------------------
# Argument conversion and checks.
# ---------------------------------------------------------------------------

_POSITIVE_FACTS = (
    (lambda x: x.is_extended_negative, "negative"),
    (lambda x: x.is_zero, "zero"),
    (lambda x: x.is_extended_nonpositive, "nonpositive"),
    (lambda x: x.is_infinite, "infinite"),
)
_NONNEGATIVE_FACTS = ((lambda x: x.is_extended_negative, "negative"), (lambda x: x.is_infinite, "infinite"))
_FINITE_FACTS = ((lambda x: x.is_infinite, "infinite"),)
_OPEN_PROBABILITY_FACTS = (
    (lambda x: x.is_extended_nonpositive, "nonpositive"),
    (lambda x: (1 - x).is_extended_nonpositive, "at least 1"),
)


def _to_sympy(name, value):
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number or a sympy expression, got the boolean {name}={value!r}")
    if isinstance(value, str):
        return parse_number(name, value)
    try:
        expr = sympy.sympify(value, strict=True)
    except (sympy.SympifyError, TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or a sympy expression, got {name}={value!r}") from None
    if not isinstance(expr, sympy.Expr):
        raise TypeError(f"{name} must be a real number or a sympy expression, got {name}={value!r}")
    if expr is S.NaN or expr.is_extended_real is False:
        raise ValueError(f"{name} must be a real number, got {name}={shown(expr)}")
    return expr


def _finite(name, value):
    expr = _to_sympy(name, value)
    if expr.is_infinite:
        raise ValueError(f"{name} must be a finite real number, got {name}={shown(expr)}"
                         f"{assumption_reason(expr, _FINITE_FACTS)}")
    return expr


def _positive(name, value):
    expr = _to_sympy(name, value)
    if expr.is_extended_positive is False or expr.is_infinite:
        raise ValueError(f"{name} must be a positive finite number in (0, inf), got {name}={shown(expr)}"
                         f"{assumption_reason(expr, _POSITIVE_FACTS)}")
    return expr


def _nonnegative(name, value):
    expr = _to_sympy(name, value)
    if expr.is_extended_negative or expr.is_infinite:
        raise ValueError(f"{name} must be a nonnegative finite number in [0, inf), got {name}={shown(expr)}"
                         f"{assumption_reason(expr, _NONNEGATIVE_FACTS)}")
    return expr


def _probability(name, value, open_interval=False):
    expr = _to_sympy(name, value)
    if open_interval:
        outside = expr.is_extended_positive is False or (1 - expr).is_extended_positive is False
        interval, facts = "(0, 1)", _OPEN_PROBABILITY_FACTS
    else:
        outside = expr.is_extended_negative or (1 - expr).is_extended_negative
        interval, facts = "[0, 1]", _PROBABILITY_FACTS
    if outside:
        raise ValueError(f"{name} must be a probability in {interval}, got {name}={shown(expr)}"
                         f"{assumption_reason(expr, facts)}")
    return expr


def _check_flag(name, value):
    """Raise TypeError unless ``value`` is True or False, as the numeric core does."""
    if value is not True and value is not False:
        raise TypeError(f"{name} must be True or False, got {name}={value!r}")


def _max(*args):
    """Return ``sympy.Max(*args)``; numbers that sympy cannot compare are compared by :func:`_extremum`."""
    return _extremum(sympy.Max, args, sign=1)


def _min(*args):
    """Return ``sympy.Min(*args)``; numbers that sympy cannot compare are compared by :func:`_extremum`."""
    return _extremum(sympy.Min, args, sign=-1)


def _extremum(function, args, sign):
    """Build ``function(*args)``, deciding between numbers that sympy cannot compare.

    sympy compares numbers by evaluating them at low precision, and raises
    ValueError ("not comparable") for a number whose value it cannot
    separate from 0 there, such as an exact 0 that it cannot prove, or a
    difference whose terms agree to many digits. Such numbers are compared
    here by the sign of their difference, evaluated adaptively with up to
    2000 more digits; a difference that is 0 to that precision counts as 0.
    """
    args = [sympy.sympify(argument) for argument in args]
    try:
        return function(*args)
    except ValueError:
        pass

    numbers = [argument for argument in args if argument.is_number]
    others = [argument for argument in args if not argument.is_number]
    best = numbers[0]
    for candidate in numbers[1:]:
        if sign * _real_value(candidate - best, _COMPARISON_BITS) > 0:
            best = candidate
    if not others:
        return best
    return function(best, *others, evaluate=False)


def _is_sequence(value):
    if isinstance(value, sympy.MatrixBase):
        return True
    if isinstance(value, (str, bytes, sympy.Basic, numbers.Number)):
        return False
    return hasattr(value, "__len__") and hasattr(value, "__getitem__")


def _mean_distance(m1, m2):
    r"""Return :math:`D = \lVert m_2 - m_1 \rVert` for scalar or vector means."""
    if _is_sequence(m1) != _is_sequence(m2):
        raise ValueError(f"m1 and m2 must both be scalars or both be vectors, got m1={m1!r}, m2={m2!r}")
    if not _is_sequence(m1):
        return sympy.Abs(_finite("m2", m2) - _finite("m1", m1))

    first = [_finite(f"m1[{i}]", x) for i, x in enumerate(m1)]
    second = [_finite(f"m2[{i}]", x) for i, x in enumerate(m2)]
    if not first or len(first) != len(second):
        raise ValueError(f"m1 and m2 must be nonempty vectors of equal length, got lengths {len(first)} and {len(second)}")
    return sympy.sqrt(sum((b - a) ** 2 for a, b in zip(first, second)))


# ---------------------------------------------------------------------------
# Theorem 1.
# ---------------------------------------------------------------------------

def surface_area_lower_bound(mass, lip):
    r"""Lower bound on the surface area of a set under a Lipschitz push-forward.

    .. math:: \rho^+(\partial A) \ge \frac{\mathcal{I}(\rho(A))}{L}

    Parameters
    ----------
    mass : number or sympy expression
        :math:`\rho(A)`, the model's mass of ``A``, in [0, 1].
    lip : number or sympy expression
        Lipschitz constant ``L > 0`` of the generator.

    Returns
    -------
    sympy.Expr

    References
    ----------
    Salmona et al., 2022, Theorem 1, inequality (1).
    """
    mass = _probability("mass", mass)
    lip = _positive("lip", lip)
    return isoperimetric_profile(mass) / lip


def extension_mass_lower_bound(mass, r, lip):
    r"""Lower bound :math:`\alpha` on the model's mass of the closed r-extension :math:`A_r`.

    .. math:: \rho(A_r) \ge \alpha = \Phi\left(\frac{r}{L} + \Phi^{-1}(\rho(A))\right)

    Parameters
    ----------
    mass : number or sympy expression
        :math:`\rho(A)` in [0, 1].
    r : number or sympy expression
        Radius ``r >= 0`` of the extension.
    lip : number or sympy expression
        Lipschitz constant ``L > 0``.

    Returns
    -------
    sympy.Expr

    References
    ----------
    Salmona et al., 2022, Theorem 1, inequality (2).
    """
    mass = _probability("mass", mass)
    r = _nonnegative("r", r)
    lip = _positive("lip", lip)
    return Phi(r / lip + Phi_inv(mass))


def shell_mass_lower_bound(mass, r, lip):
    r"""Lower bound :math:`\beta = \alpha - \rho(A)` on the model's mass of the shell :math:`A_r \setminus A`.

    .. math:: \rho(A_r \setminus A) \ge \beta = \Phi\left(\frac{r}{L} + \Phi^{-1}(\rho(A))\right) - \rho(A)

    Built as ``gaussian_mass(Phi_inv(mass), Phi_inv(mass) + r / lip)``, the
    Gaussian mass of an interval of width ``r / lip``, so that ``evalf`` and
    ``lambdify`` keep the digits of :math:`\beta` when ``r / lip`` is tiny;
    ``rewrite(Phi)`` gives the difference above.

    Parameters
    ----------
    mass, r, lip
        As in :func:`extension_mass_lower_bound`.

    Returns
    -------
    sympy.Expr

    References
    ----------
    Salmona et al., 2022, Theorem 1 and the definition of beta before Theorem 4.
    """
    mass = _probability("mass", mass)
    r = _nonnegative("r", r)
    lip = _positive("lip", lip)
    return _shifted_mass(Phi_inv(mass), r / lip)


def _shifted_mass(x, shift):
    """Return ``Phi(x + shift) - Phi(x)`` as a :class:`gaussian_mass`."""
    return gaussian_mass(x, x + shift)


# ---------------------------------------------------------------------------
# Corollary 2.
# ---------------------------------------------------------------------------

def lipschitz_lower_bound_two_gaussians(m1, m2, sigma, weight=S.Half, sharp=False):
    r"""Lower bound on the Lipschitz constant of a map pushing :math:`N(0, I_p)` onto a two-Gaussian mixture.

    For :math:`\nu = \lambda N(m_1, \sigma^2 I) + (1 - \lambda) N(m_2, \sigma^2 I)`
    and :math:`D = \lVert m_2 - m_1 \rVert`,

    .. math:: L \ge \sigma \exp\left(\frac{D^2}{8\sigma^2} - \frac{\Phi^{-1}(\lambda)^2}{2}\right).

    With ``sharp=True``, the intermediate bound of the proof,
    :math:`\mathcal{I}(\nu(H)) / \nu^+(\partial H)` for the half-space
    :math:`H` bisecting the means on the side of :math:`m_2`, with
    :math:`t = D/(2\sigma)`, :math:`\nu(H) = \lambda\Phi(-t) + (1-\lambda)\Phi(t)`
    and :math:`\nu^+(\partial H) = \varphi(t)/\sigma`; it is never smaller.

    Parameters
    ----------
    m1, m2 : number, sympy expression, or sequences of them of equal length
        Means of the two components.
    sigma : number or sympy expression
        Common standard deviation ``sigma > 0``.
    weight : number or sympy expression, optional
        :math:`\lambda` in (0, 1), the weight of the component at ``m1``
        (default 1/2, exact).
    sharp : bool, optional
        Return the proof's intermediate bound instead of the closed form.

    Returns
    -------
    sympy.Expr

    References
    ----------
    Salmona et al., 2022, Corollary 2 and its proof.
    """
    _check_flag("sharp", sharp)
    distance = _mean_distance(m1, m2)
    sigma = _positive("sigma", sigma)
    weight = _probability("weight", weight, open_interval=True)
    if not sharp:
        return sigma * sympy.exp(distance**2 / (8 * sigma**2) - Phi_inv(weight) ** 2 / 2)

    t = distance / (2 * sigma)
    half_space_mass = weight * Phi(-t) + (1 - weight) * Phi(t)
    return sigma * isoperimetric_profile(half_space_mass) / phi(t)


# ---------------------------------------------------------------------------
# Theorem 4, Corollaries 5, S11 and 6.
# ---------------------------------------------------------------------------

def tv_bracket(target_mass, target_shell_mass, r, lip, model_mass=None):
    r"""Bracket of Theorem 4 for one set :math:`A` and one radius ``r``, in terms of masses.

    .. math::

        d_{TV}(\rho, \nu) \ge \Phi\left(\frac{r}{L} + \Phi^{-1}(\rho(A))\right)
            - \min(\rho(A), \nu(A)) - \nu(A_r \setminus A).

    Without ``model_mass``, :math:`\rho(A)` is replaced by :math:`\nu(A)`:
    that is the bracket of the model-free form for the one of :math:`A` and
    its complement whose model mass is at least its target mass. The
    bracket is returned as it is and can be negative, where the bound is the
    trivial 0. It is built as
    :math:`\beta(\rho(A)) + \max(0, \rho(A) - \nu(A)) - \nu(A_r \setminus A)`,
    with :math:`\beta` of :func:`shell_mass_lower_bound`, which equals the
    expression above and does not cancel when :math:`r/L` is tiny.

    Parameters
    ----------
    target_mass : number or sympy expression
        :math:`\nu(A)` in [0, 1].
    target_shell_mass : number or sympy expression
        :math:`\nu(A_r \setminus A)` in [0, 1].
    r : number or sympy expression
        Radius ``r >= 0``.
    lip : number or sympy expression
        Lipschitz constant ``L > 0``.
    model_mass : number or sympy expression, optional
        :math:`\rho(A)` in [0, 1].

    Returns
    -------
    sympy.Expr

    References
    ----------
    Salmona et al., 2022, Theorem 4.
    """
    target_mass = _probability("target_mass", target_mass)
    target_shell_mass = _probability("target_shell_mass", target_shell_mass)
    if model_mass is None:
        return shell_mass_lower_bound(target_mass, r, lip) - target_shell_mass

    model_mass = _probability("model_mass", model_mass)
    beta = shell_mass_lower_bound(model_mass, r, lip)
    return beta + _max(0, model_mass - target_mass) - target_shell_mass


def tv_lower_bound_disconnected(weights, distances, lip):
    r"""Lower bound on the total variation to a target carried by disjoint pieces.

    Two pieces at distance :math:`D` with masses :math:`\lambda` and
    :math:`1 - \lambda` (Corollary 5):

    .. math:: d_{TV} \ge \Phi\left(\frac{D}{2L} + \Phi^{-1}(\lambda^*)\right) - \lambda^*,
        \quad \lambda^* = \max(\lambda, 1 - \lambda),

    always positive. For N pieces (Corollary S11), the maximum of that
    expression over the nonempty proper subsets :math:`I` of pieces, with
    :math:`\lambda^*_I = \max(w(I), 1 - w(I))` and :math:`D_I` the least
    distance between a piece in :math:`I` and one outside.

    The expression is built from the smaller mass
    :math:`\lambda_* = \min(\lambda, 1 - \lambda) = 1 - \lambda^*`, as the
    Gaussian mass of :math:`[-\Phi^{-1}(\lambda_*), -\Phi^{-1}(\lambda_*) + D/(2L)]`,
    which equals the expression above because
    :math:`\Phi^{-1}(\lambda^*) = -\Phi^{-1}(\lambda_*)` and
    :math:`\Phi(-\Phi^{-1}(\lambda_*)) = \lambda^*`. So ``lambdify`` never
    forms :math:`1 - \lambda` for a tiny :math:`\lambda`, which rounds to 1
    in float64. N symbolic weights whose sum sympy cannot reduce to 1 are
    kept apart: :math:`1 - w(I)` is written as the sum of the weights
    outside :math:`I`, so that every weight appears in the result.

    Parameters
    ----------
    weights : number, sympy expression, or sequence of them
        Two pieces: the mass :math:`\lambda` of one piece, in [0, 1] (a
        weight below 1/2 stands for the other piece; 0 and 1 give 0). N pieces: the N masses,
        summing to 1, with ``2 <= N <= MAX_PIECES``.
    distances : number, sympy expression, or N x N array
        Two pieces: the distance ``D > 0`` between them. N pieces: the
        symmetric matrix of pairwise distances (the diagonal is ignored).
    lip : number or sympy expression
        Lipschitz constant ``L > 0``.

    Returns
    -------
    sympy.Expr

    References
    ----------
    Salmona et al., 2022, Corollary 5 and Corollary S11.
    """
    lip = _positive("lip", lip)
    if not _is_sequence(weights):
        weight = _probability("weights", weights)
        if _is_sequence(distances):
            raise ValueError("distances must be a single distance when weights is a single weight")
        distance = _positive("distances", distances)
        return _two_piece_bound(weight, 1 - weight, distance, lip)

    weights, distances = _pieces(weights, distances)
    count = len(weights)
    total = sum(weights)
    sums_to_one = total.is_number or sympy.simplify(total - 1) == 0
    terms = []
    for size in range(1, count):
        for subset in itertools.combinations(range(1, count), size - 1):
            inside = (0, *subset)
            outside = [j for j in range(count) if j not in inside]
            gap = _min(*(distances[i][j] for i in inside for j in outside))
            inside_weight = sum(weights[i] for i in inside)
            outside_weight = 1 - inside_weight if sums_to_one else sum(weights[j] for j in outside)
            terms.append(_two_piece_bound(inside_weight, outside_weight, gap, lip))
    return _max(*terms)


def _two_piece_bound(weight, other_weight, distance, lip):
    """Return Corollary 5's bound for two pieces of masses ``weight`` and ``other_weight`` at ``distance``.

    ``Phi(D/(2L) + Phi_inv(larger)) - larger`` is built from the smaller
    mass ``m`` as ``gaussian_mass(-Phi_inv(m), -Phi_inv(m) + D/(2L))``, equal
    to it when the two masses sum to 1, and free of ``1 - m`` for a tiny ``m``.
    """
    start = -Phi_inv(_min(weight, other_weight))
    return _shifted_mass(start, distance / (2 * lip))


def _pieces(weights, distances):
    """Check and convert the weights and distance matrix of :func:`tv_lower_bound_disconnected`."""
    weights = [_probability(f"weights[{i}]", w) for i, w in enumerate(weights)]
    count = len(weights)
    if not 2 <= count <= MAX_PIECES:
        raise ValueError(f"weights must have between 2 and {MAX_PIECES} entries, got {count}")

    total = sum(weights)
    if total.is_number:
        tolerance = _FLOAT_SUM_TOLERANCE if total.has(sympy.Float) else 0
        if abs(total - 1) > tolerance:
            raise ValueError(f"weights must sum to 1, got sum(weights)={total}")

    if count == 2 and not _is_sequence(distances):
        gap = _positive("distances", distances)
        return weights, [[S.Zero, gap], [gap, S.Zero]]
    if not _is_sequence(distances) or len(distances) != count or any(len(row) != count for row in distances):
        raise ValueError(f"distances must be a {count} x {count} matrix for {count} weights, got distances={distances!r}")

    matrix = [[_to_sympy(f"distances[{i}][{j}]", distances[i][j]) for j in range(count)] for i in range(count)]
    for i, j in itertools.combinations(range(count), 2):
        _positive(f"distances[{i}][{j}]", matrix[i][j])
        if (matrix[i][j] - matrix[j][i]).is_zero is False:
            raise ValueError(f"distances must be symmetric, got distances[{i}][{j}]={matrix[i][j]} and distances[{j}][{i}]={matrix[j][i]}")
    return weights, matrix


def two_gaussian_shell_mass(distance, sigma, r):
    r"""Mass of the slab :math:`H_r \setminus H` under the balanced two-Gaussian mixture.

    For :math:`\nu = \frac12[N(m_1, \sigma^2 I) + N(m_2, \sigma^2 I)]`,
    :math:`D = \lVert m_2 - m_1 \rVert` and :math:`H` the half-space bisecting
    the means,

    .. math::

        \nu(H_r \setminus H) = \frac12\left[\Phi\left(\frac{r - D/2}{\sigma}\right)
            - \Phi\left(-\frac{r + D/2}{\sigma}\right)\right],

    written with the lower tails so that no two terms near 1 cancel; it
    equals the textbook form
    :math:`\frac12[\Phi(\frac{D/2 + r}{\sigma}) - \Phi(\frac{D/2 - r}{\sigma})]`.
    The difference is a :class:`gaussian_mass`, evaluated from the width
    :math:`2r/\sigma` of the interval, so a thin slab keeps its digits.

    Parameters
    ----------
    distance : number or sympy expression
        :math:`D \ge 0`.
    sigma : number or sympy expression
        ``sigma > 0``.
    r : number or sympy expression
        Width ``r >= 0`` of the slab.

    Returns
    -------
    sympy.Expr
    """
    distance = _nonnegative("distance", distance)
    sigma = _positive("sigma", sigma)
    r = _nonnegative("r", r)
    upper, lower = _slab_ends(distance, sigma, r)
    return gaussian_mass(lower, upper) / 2


def tv_lower_bound_two_gaussians(m1, m2, sigma, lip):
    r"""Lower bound on the total variation to a balanced two-Gaussian mixture.

    For :math:`\nu = \frac12[N(m_1, \sigma^2 I) + N(m_2, \sigma^2 I)]` and
    :math:`D = \lVert m_2 - m_1 \rVert`,

    .. math::

        d_{TV} \ge \max\left(0,\ \Phi\left(\frac{D}{4\sigma L}\right) - \frac12
            - \frac12\left[\Phi\left(\frac{D(2\sigma+1)}{4\sigma^2}\right)
            - \Phi\left(\frac{D(2\sigma-1)}{4\sigma^2}\right)\right]\right),

    Theorem 4 applied to the half-space bisecting the means with
    ``r = D / (4 sigma)``. The bracket is clipped at 0, the trivial bound.
    The slab mass is written as in :func:`two_gaussian_shell_mass`. Where
    :math:`u = D(1 - 2\sigma)/(4\sigma^2) \ge 1` and
    :math:`c = D/(4\sigma L) \ge 1`, both terms of the published bracket are
    close to 1/2, so the bracket is written as the equal
    :math:`[\Phi(-u) + \Phi(l)]/2 - \Phi(-c)` with
    :math:`l = -D(1 + 2\sigma)/(4\sigma^2)` (:func:`_far_tails_condition`).
    For numbers the form is chosen when the bound is built. For symbols the
    bracket is a ``Piecewise`` on the two conditions, so that ``subs`` of
    numbers selects the form that keeps the digits.

    Parameters
    ----------
    m1, m2 : number, sympy expression, or sequences of them of equal length
        Means of the two components.
    sigma : number or sympy expression
        ``sigma > 0`` (the published statement allows 0, where the formula is undefined).
    lip : number or sympy expression
        Lipschitz constant ``L > 0``.

    Returns
    -------
    sympy.Expr

    References
    ----------
    Salmona et al., 2022, Corollary 6.
    """
    distance = _mean_distance(m1, m2)
    sigma = _positive("sigma", sigma)
    radius = distance / (4 * sigma)
    shell = two_gaussian_shell_mass(distance, sigma, radius)
    published = tv_bracket(S.Half, shell, radius, lip)
    lip = _positive("lip", lip)
    upper, lower = _slab_ends(distance, sigma, radius)
    shift = radius / lip
    far = _far_tails_condition(upper, shift)
    # Phi(c) - 1/2 - shell = 1/2 - Phi(-c) - (1/2 - tails), written without the two halves.
    tails = (Phi(-upper) + Phi(lower)) / 2 - Phi(-shift)
    return _max(0, _select(far, tails, published))


def _slab_ends(distance, sigma, radius):
    r"""Return the ends :math:`u = (r - D/2)/\sigma` and :math:`l = -(r + D/2)/\sigma` of the slab in standard units.

    The slab :math:`H_r \setminus H` has the mass
    :math:`\frac12[\Phi(u) - \Phi(l)]`, which equals
    :math:`\frac12 - \frac12[\Phi(-u) + \Phi(l)]`.
    """
    upper = sympy.factor((radius - distance / 2) / sigma)
    lower = sympy.factor(-(radius + distance / 2) / sigma)
    return upper, lower


def _far_tails_condition(*points):
    r"""Return the condition that every point is at least 1, as ``S.true`` or ``S.false`` when the points are numbers.

    Corollaries 6 and 8 compare the slab mass
    :math:`\frac12 - \frac12[\Phi(-u) + \Phi(l)]` with a model mass
    :math:`\Phi(x) - \lambda`. For far modes both are within a tiny tail
    of 1/2 and agree to thousands of digits, beyond what ``evalf`` and
    sympy's comparisons resolve. Where :math:`u \ge 1` and :math:`x \ge 1`,
    each tail is below :math:`\Phi(-1) < 0.16`, so the difference
    :math:`\frac12 - \lambda + \frac12[\Phi(-u) + \Phi(l)] - \Phi(-x)` is
    formed from the tails. Elsewhere a tail is at least
    :math:`\Phi(-1)/2 > 0.079`, so the tail form, with a term that large,
    keeps no more digits than the published difference of masses. Numbers
    are compared here with up to 2000 more digits, as in :func:`_extremum`.
    """
    conditions = []
    for point in points:
        if point.is_number:
            if _real_value(point - 1, _COMPARISON_BITS) < 0:
                return S.false
        else:
            conditions.append(point >= 1)
    return sympy.And(*conditions)


def _select(condition, chosen, other):
    """Return ``chosen`` where ``condition`` is true and ``other`` elsewhere, as one flat ``Piecewise`` for symbols.

    A ``Piecewise`` argument contributes its branches, each under
    ``condition`` for ``chosen``. ``Piecewise.subs`` substitutes into a branch
    only while no earlier condition has become True, so after ``subs`` the
    branch not selected is never evaluated.
    """
    if condition is S.true:
        return chosen
    if condition is S.false:
        return other
    first = [(expr, sympy.And(condition, cond)) for expr, cond in _branches(chosen)]
    return sympy.Piecewise(*first, *_branches(other))


def _branches(expr):
    """Return the ``(expression, condition)`` pairs of a ``Piecewise``, or ``[(expr, True)]``."""
    if isinstance(expr, sympy.Piecewise):
        return [tuple(pair) for pair in expr.args]
    return [(expr, S.true)]


# ---------------------------------------------------------------------------
# Theorem 7 and Corollary 8, corrected.
# ---------------------------------------------------------------------------

def kl_bracket(target_shell_mass, r, lip, model_mass):
    r"""Corrected bracket of Theorem 7 for one set :math:`A` and one radius ``r``, in terms of masses.

    With :math:`\beta = \Phi(r/L + \Phi^{-1}(\rho(A))) - \rho(A)` and
    :math:`v = \nu(A_r \setminus A)`,

    .. math::

        d_{KL}(\rho \,\|\, \nu) \ge
        \begin{cases} \operatorname{kl}(\beta \,\|\, v) & \beta \ge v \\ 0 & \text{otherwise.} \end{cases}

    Correction: the published statement takes :math:`\operatorname{kl}(\beta \,\|\, v)`
    for every :math:`(A, r)`, but its proof bounds :math:`\zeta\rho(A_r \setminus A)`
    below by :math:`\zeta\beta`, valid only for :math:`\zeta \ge 0`, and the
    optimal :math:`\zeta` is nonnegative exactly when :math:`\beta \ge v`.

    Parameters
    ----------
    target_shell_mass : number or sympy expression
        :math:`\nu(A_r \setminus A)` in [0, 1].
    r : number or sympy expression
        Radius ``r >= 0``.
    lip : number or sympy expression
        Lipschitz constant ``L > 0``.
    model_mass : number or sympy expression
        :math:`\rho(A)` in [0, 1].

    Returns
    -------
    sympy.Piecewise, or a number when the condition is decided.

    References
    ----------
    Salmona et al., 2022, Theorem 7 (with the validity condition above).
    """
    shell = _probability("target_shell_mass", target_shell_mass)
    model_mass = _probability("model_mass", model_mass)
    return _corrected_kl(shell_mass_lower_bound(model_mass, r, lip), shell)


def _corrected_kl(beta, shell):
    """Return ``kl_bin(beta, shell)`` where ``beta >= shell`` and 0 elsewhere, decided now between numbers."""
    if beta.is_number and shell.is_number:
        # Decided here, because sympy's low-precision test of beta >= v can
        # take the wrong branch when beta and v agree to many digits. A
        # difference that evaluates to 0 (sympy could not separate it from 0)
        # takes the 0 branch, which is also kl(beta || v) when beta = v.
        return kl_bin(beta, shell) if _real_value(beta - shell, _COMPARISON_BITS) > 0 else S.Zero
    return sympy.Piecewise((kl_bin(beta, shell), beta >= shell), (0, True))


def kl_lower_bound_two_gaussians(m1, m2, sigma, lip, model_weight):
    r"""Corrected lower bound on the KL divergence to a balanced two-Gaussian mixture.

    With :math:`\lambda = \rho(H_1)` the model's mass of the half-space on
    the side of :math:`m_1`, exchanged for :math:`1 - \lambda` when above 1/2,

    .. math::

        a = \Phi\left(\frac{D}{4\sigma L} + \Phi^{-1}(\lambda)\right) - \lambda, \quad
        b = \frac12\left[\Phi\left(\frac{D(2\sigma+1)}{4\sigma^2}\right)
            - \Phi\left(\frac{D(2\sigma-1)}{4\sigma^2}\right)\right],

    and :math:`d_{KL} \ge \operatorname{kl}(a \,\|\, b)` if :math:`a \ge b`,
    else 0. Correction: the published statement omits the condition
    :math:`a \ge b` (see :func:`kl_bracket`). ``b`` is written as in
    :func:`two_gaussian_shell_mass`. Where
    :math:`u = D(1 - 2\sigma)/(4\sigma^2) \ge 1` and
    :math:`D/(4\sigma L) + \Phi^{-1}(\lambda) \ge 1`, ``a`` and ``b`` are
    written as numbers minus lower tails, so that ``a - b`` does not cancel
    (:func:`_far_tails_condition`). For symbols that choice is a
    ``Piecewise`` on the two conditions, decided by ``subs``.

    Parameters
    ----------
    m1, m2 : number, sympy expression, or sequences of them of equal length
        Means of the two components.
    sigma : number or sympy expression
        ``sigma > 0``.
    lip : number or sympy expression
        Lipschitz constant ``L > 0``.
    model_weight : number or sympy expression
        :math:`\rho(H_1)` in [0, 1]. A symbol becomes
        :math:`\min(\lambda, 1 - \lambda)`.

    Returns
    -------
    sympy.Piecewise, or a number when the condition is decided.

    References
    ----------
    Salmona et al., 2022, Corollary 8 (with the validity condition above).
    """
    distance = _mean_distance(m1, m2)
    sigma = _positive("sigma", sigma)
    weight = _probability("model_weight", model_weight)
    weight = _min(weight, 1 - weight)
    radius = distance / (4 * sigma)
    shell = two_gaussian_shell_mass(distance, sigma, radius)
    lip = _positive("lip", lip)
    upper, lower = _slab_ends(distance, sigma, radius)
    end = Phi_inv(weight) + radius / lip
    far = _far_tails_condition(upper, end)
    if far is S.false:
        return kl_bracket(shell, radius, lip, weight)
    # a = Phi(end) - lambda and b = 1/2 - tails, each written as a number minus
    # lower tails, so that sympy forms a - b = 1/2 - lambda + tails - Phi(-end)
    # without the two values near 1/2.
    model_shell = 1 - weight - Phi(-end)
    target_shell = S.Half - (Phi(-upper) + Phi(lower)) / 2
    tails = _corrected_kl(model_shell, target_shell)
    if far is S.true:
        # The published form is not built: deciding its condition a >= b here
        # would spend up to 2000 more digits on a difference it cannot resolve.
        return tails
    return _select(far, tails, kl_bracket(shell, radius, lip, weight))


# ---------------------------------------------------------------------------
# Formulas in the notation of Salmona et al. (2022).
# ---------------------------------------------------------------------------

def _formula_builders():
    p, r, L, sigma, D = sympy.symbols("p r L sigma D", positive=True)
    lam = sympy.Symbol("lambda", positive=True)
    rho_A, nu_A, v = sympy.symbols("rho_A nu_A v", positive=True)
    a, b = sympy.symbols("a b", positive=True)
    return {
        "surface_area_lower_bound": lambda: surface_area_lower_bound(p, L),
        "extension_mass_lower_bound": lambda: extension_mass_lower_bound(p, r, L),
        "shell_mass_lower_bound": lambda: shell_mass_lower_bound(p, r, L),
        "lipschitz_lower_bound_two_gaussians": lambda: lipschitz_lower_bound_two_gaussians(0, D, sigma, lam),
        "lipschitz_lower_bound_two_gaussians_sharp": lambda: lipschitz_lower_bound_two_gaussians(0, D, sigma, lam, sharp=True),
        "tv_bracket": lambda: tv_bracket(nu_A, v, r, L, model_mass=rho_A),
        "tv_lower_bound_disconnected": lambda: tv_lower_bound_disconnected(lam, D, L),
        "tv_lower_bound_two_gaussians": lambda: tv_lower_bound_two_gaussians(0, D, sigma, L),
        "kl_bin": lambda: kl_bin(a, b).rewrite(sympy.log),
        "kl_bracket": lambda: kl_bracket(v, r, L, rho_A),
        "kl_lower_bound_two_gaussians": lambda: kl_lower_bound_two_gaussians(0, D, sigma, L, lam),
    }


FORMULA_NAMES = tuple(_formula_builders())
"""Names accepted by :func:`formula` and :func:`latex`."""


def formula(name):
    r"""Return a bound as a sympy expression in the notation of Salmona et al. (2022).

    All symbols are positive. ``p`` is the model's mass of a set, ``r`` a
    radius, ``L`` the Lipschitz constant, ``sigma`` a standard deviation and
    ``D`` the distance between the means or pieces. ``lambda`` is a mixture
    weight, ``rho_A`` and ``nu_A`` are the model and target masses of ``A``,
    and ``v`` is the target mass of the shell :math:`A_r \setminus A`. The
    binary KL uses ``a`` and ``b``. The two-Gaussian bounds take ``m1 = 0``
    and ``m2 = D``.

    Parameters
    ----------
    name : str
        One of :data:`FORMULA_NAMES`: a bound function's name, or
        ``"lipschitz_lower_bound_two_gaussians_sharp"``, or ``"kl_bin"``.

    Returns
    -------
    sympy.Expr
    """
    builders = _formula_builders()
    if name not in builders:
        raise ValueError(f"name must be one of {', '.join(builders)}; got name={name!r}")
    return builders[name]()


def latex(name, **settings):
    r"""Return the LaTeX of a bound given by name, or of any sympy expression.

    Parameters
    ----------
    name : str or sympy.Expr
        A name from :data:`FORMULA_NAMES` (see :func:`formula` for the
        symbols), or an expression, printed as ``sympy.latex`` does.
    **settings
        Passed to ``sympy.latex``.

    Returns
    -------
    str

    Examples
    --------
    >>> latex("extension_mass_lower_bound")
    '\\Phi\\left(\\Phi^{-1}\\left(p\\right) + \\frac{r}{L}\\right)'
    """
    if isinstance(name, str):
        return sympy.latex(formula(name), **settings)
    if not isinstance(name, sympy.Basic):
        raise TypeError(f"name must be a name from FORMULA_NAMES or a sympy expression, got name={name!r} "
                        f"of type {type(name).__name__}")
    return sympy.latex(name, **settings)
