r"""Lower bounds on the total variation distance between a Lipschitz push-forward and a target.

Theorem 4 turns the isoperimetric inequality of Theorem 1 into a bound on
:math:`d_{TV}(\rho, \nu)` from the target's mass of a set and of its shell;
Corollaries 5 and S11 specialise it to targets carried by disjoint pieces,
and Corollary 6 to a balanced mixture of two Gaussians.

References
----------
A. Salmona, V. De Bortoli, J. Delon, A. Desolneux, "Can Push-forward
Generative Models Fit Multimodal Distributions?", NeurIPS 2022, Theorem 4,
Corollaries 5, 6 and S11.
"""

import typing

import mpmath
import numpy as np

from .._precision import GUARD_DIGITS, workdps
from .._validation import (
    check_finite,
    check_nonnegative,
    check_positive,
    check_probability,
    check_weights,
)
from ..gaussian import _gaussian_mass, _Phi_c, _Phi_inv
from ._common import (
    check_model_mass,
    check_dimensions,
    complement_mass,
    exact_complement,
    check_flag,
    check_region,
    check_target,
    evaluate,
    separation,
    set_mass,
    settle,
)
from .isoperimetry import _shell_mass

__all__ = [
    "tv_lower_bound",
    "tv_lower_bound_disconnected",
    "tv_lower_bound_two_gaussians",
    "DisconnectedBound",
    "MAX_PIECES",
]

MAX_PIECES = 40
"""Largest number of pieces accepted by :func:`tv_lower_bound_disconnected`."""

# Float64 subset sums closer to 1/2 than the best one by less than this are
# re-checked with mpmath, so rounding cannot pick a worse subset.
_SUBSET_SUM_TOLERANCE = 1e-12
_MAX_RECHECKED_SUBSETS = 256

# Each raise of the precision in Corollary 6 adds the digits lost so far.
_MAX_PRECISION_RAISES = 6
_MAX_SERIES_TERMS = 200


# ---------------------------------------------------------------------------
# Theorem 4.
# ---------------------------------------------------------------------------

def _model_free_side(region, r, c, target):
    """sup-free bracket for one side: beta(nu(S), r / L) - nu(S_r minus S)."""
    return _model_free_side_terms(region, r, c, target)[0]


def _model_free_side_terms(region, r, c, target):
    """Return the bracket of :func:`_model_free_side` and the largest magnitude among its terms."""
    mass = set_mass(target, region)
    return _side_terms(region, mass, complement_mass(target, region, mass), r, c, target)


def _side_terms(region, mass, rest, r, c, target):
    """Return ``(bracket, scale)`` of one side from the masses ``nu(S)`` and, or ``None``, ``1 - nu(S)``."""
    shell = set_mass(target, region.shell(r))
    beta = _shell_mass(mass, c, rest)
    return beta - shell, max(abs(beta), shell)


def _model_free_terms(region, r_a, r_b, L, target):
    """Return ``(bracket, scale)`` of model-free Theorem 4: the smaller side, for ``region`` at ``r_a`` and its complement at ``r_b``.

    The masses of the set and of its complement are evaluated once and
    serve both sides, each as the other's ``1 - nu``.
    """
    complement = region.complement()
    mass, rest = set_mass(target, region), set_mass(target, complement)
    return min(
        _side_terms(region, mass, exact_complement(mass, rest), r_a, r_a / L, target),
        _side_terms(complement, rest, exact_complement(rest, mass), r_b, r_b / L, target),
    )


def _theorem4_bracket(rho, nu, c, shell):
    """alpha(rho, c) - min(rho, nu) - shell, with alpha - rho taken as the cancellation-free beta."""
    return _theorem4_terms(rho, nu, c, shell)[0]


def _theorem4_terms(rho, nu, c, shell):
    """Return the bracket of :func:`_theorem4_bracket` and the largest magnitude among its terms."""
    beta = _shell_mass(rho, c)
    if rho <= nu:
        return beta - shell, max(abs(beta), shell)
    return beta + (rho - nu) - shell, max(abs(beta), shell, nu)


def tv_lower_bound(A, r, lip, *, target, model_mass=None, clip=True, dps=None):
    r"""Lower bound on :math:`d_{TV}(g\#N(0, I_p), \nu)` from one set and one radius.

    With the model mass :math:`\rho(A)` known,

    .. math::

        d_{TV}(\rho, \nu) \ge \alpha(\rho(A), r) - \min(\rho(A), \nu(A))
        - \nu(A_r \setminus A),
        \quad \alpha(m, r) = \Phi(r/L + \Phi^{-1}(m)).

    With ``model_mass=None`` only ``lip`` and the target are known. For the
    complement ``B`` of ``A``, either :math:`\rho(A) \ge \nu(A)` or
    :math:`\rho(B) \ge \nu(B)`, so

    .. math::

        d_{TV} \ge \min\big(\beta(\nu(A), r) - \nu(A_r \setminus A),\;
        \beta(\nu(B), r) - \nu(B_r \setminus B)\big),
        \quad \beta(m, r) = \alpha(m, r) - m,

    with the same ``r`` on both sides, or with ``r = (r_A, r_B)`` one radius
    for each side. The bound of the theorem is the supremum over ``A`` and
    ``r``. In the model-free form it is the minimum of the two suprema,
    where each side takes its own best radius:
    :func:`isobounds.bounds.maximize_tv_over_radius` computes it and returns
    the pair ``(r_A, r_B)``, which this function accepts back.

    Parameters
    ----------
    A : set from :mod:`isobounds.sets`
        Any set with ``extension(r)``, ``shell(r)``, ``complement()`` and ``dim``.
    r : finite real number >= 0, or a pair of them
        Radius of the extension, in the units of the target's space. With
        ``model_mass=None`` a pair ``(r_A, r_B)`` gives ``A`` and its
        complement their own radii.
    lip : positive finite real number
        Lipschitz constant :math:`L` of the generator.
    target : measure from :mod:`isobounds.measures`
        Anything with ``mass(set, dps=...)`` and ``dim``.
    model_mass : real number in [0, 1], optional
        The model's mass :math:`\rho(A)`, taken as exact. A mass rounded
        to the working precision, such as ``target.mass(A)`` for a model
        equal to the target, differs from the true mass in its last digits,
        and the bound is then that of the rounded mass, which can be about
        ``10^-dps`` where the bound of the true mass is 0. Pass the mass
        with more digits (``mass(A, dps=...)``) to get the bound of the
        true mass.
    clip : bool, default True
        Return ``max(bracket, 0)``. ``clip=False`` returns the raw bracket,
        which may be negative (then the bound is the trivial 0).
    dps : int, optional
        Significant digits of the result. The bracket is a difference of
        terms that can cancel (a model close to the target); it is computed
        with as many more digits as the cancellation takes, and a bracket
        that is zero to within the rounding of its terms is returned as 0
        (see :func:`isobounds.bounds._common.settle`).

    Returns
    -------
    mpmath.mpf

    Raises
    ------
    ValueError
        For ``r < 0``, ``lip <= 0``, ``model_mass`` outside [0, 1], a set
        whose dimension differs from the target's, or a pair of radii with
        ``model_mass`` given or of another length than 2.

    References
    ----------
    Salmona et al., 2022, Theorem 4.
    """

    clip = check_flag("clip", clip)
    check_target(target)
    check_region(A, ("shell", "dim") if model_mass is not None else ("shell", "complement", "dim"))

    def bracket():
        radius_a, radius_b = _side_radii(r, model_free=model_mass is None)
        L = check_positive("lip", lip)
        if model_mass is not None:
            rho = check_model_mass(A, model_mass)
            nu = set_mass(target, A)
            shell = set_mass(target, A.shell(radius_a))
            return _theorem4_terms(rho, nu, radius_a / L, shell)
        return _model_free_terms(A, radius_a, radius_b, L, target)

    def compute():
        check_dimensions(A, target)
        value = settle(bracket)
        return max(value, mpmath.mpf(0)) if clip else value

    return evaluate(compute, dps)


def _side_radii(r, model_free):
    """Return the radii of ``A`` and of its complement from one radius or, model-free, a pair ``(r_A, r_B)``."""
    if isinstance(r, (tuple, list)) or (isinstance(r, np.ndarray) and r.ndim > 0):
        if not model_free:
            raise ValueError(f"r must be one radius when model_mass is given, got r={r!r}; a pair (r_A, r_B) "
                             "applies to the model-free bound (model_mass=None)")
        if len(r) != 2:
            raise ValueError(f"r must be one radius or a pair (r_A, r_B), got {len(r)} values: r={r!r}")
        return check_nonnegative("r[0]", r[0]), check_nonnegative("r[1]", r[1])
    radius = check_nonnegative("r", r)
    return radius, radius


# ---------------------------------------------------------------------------
# Corollaries 5 and S11.
# ---------------------------------------------------------------------------

class DisconnectedBound(typing.NamedTuple):
    """Corollary S11 bound with the subset of pieces that attains it.

    ``subset`` contains the indices of the pieces in the maximising set ``I``
    (the side of mass ``lam_I >= 1/2``), ``distance`` is :math:`D_I`.
    """

    value: mpmath.mpf
    subset: tuple
    distance: mpmath.mpf


def _scalar(x):
    """Unwrap a 0-d numpy array into its element, so that it is checked as a scalar."""
    return x.item() if isinstance(x, np.ndarray) and x.ndim == 0 else x


def _two_pieces(weight, distance, lip):
    w = check_probability("weights", weight)
    D = check_positive("distances", distance)
    L = check_positive("lip", lip)
    subset = (0,) if w >= 1 - w else (1,)
    return _complement_shell_mass(min(w, 1 - w), D / (2 * L)), subset, D


def _complement_shell_mass(q, c):
    """Return beta(1 - q, c) = Phi(c + Phi_inv(1 - q)) - (1 - q) from the small mass ``q``.

    By symmetry it is the Gaussian mass of ``[x - c, x]`` with
    ``x = Phi_inv(q)``, so a ``q`` of 1e-300 keeps its digits instead of
    vanishing in ``1 - q``. ``x - c`` is rounded with
    ``log10(|x| / c)`` extra digits, as in :class:`isobounds.bounds.isoperimetry._ShellMass`.
    """
    if q == 0 or c == 0:
        return mpmath.mpf(0)
    digits = mpmath.mp.dps
    with workdps(15):
        rough_x = _Phi_inv(q)
    extra = max(0, int(mpmath.log10(max(1, abs(rough_x)) / c))) + 3
    with workdps(digits + extra):
        x = _Phi_inv(q)
        mass = _gaussian_mass(x - c, x)
    return +mass


def _check_distance_matrix(distances, count):
    matrix = np.asarray(distances, dtype=object)
    if matrix.shape != (count, count):
        raise ValueError(
            f"distances must be a {count} x {count} matrix (one row per weight), got shape {matrix.shape}"
        )
    values = [[check_finite(f"distances[{i}, {j}]", matrix[i, j]) for j in range(count)] for i in range(count)]
    for i in range(count):
        if values[i][i] != 0:
            raise ValueError(f"distances must have a zero diagonal, got distances[{i}, {i}]={values[i][i]}")
        for j in range(i + 1, count):
            d, d_t = values[i][j], values[j][i]
            if d <= 0:
                raise ValueError(
                    f"distances between distinct pieces must be positive (disjoint closed pieces), "
                    f"got distances[{i}, {j}]={d}"
                )
            if abs(d - d_t) > mpmath.mpf(10) ** -12 * max(abs(d), abs(d_t)):
                raise ValueError(
                    f"distances must be symmetric, got distances[{i}, {j}]={d} and distances[{j}, {i}]={d_t}"
                )
    return values


def _subset_sums(weights):
    """Enumerate the subset sums of ``weights`` in float64, with their bit masks."""
    sums = np.zeros(1)
    masks = np.zeros(1, dtype=np.int64)
    for i, w in enumerate(weights):
        sums = np.concatenate((sums, sums + w))
        masks = np.concatenate((masks, masks | (1 << i)))
    return sums, masks


def _closest_to_half_candidates(weights):
    """Masks of subsets containing item 0 whose float64 sums are nearest to 1/2 (meet in the middle)."""
    k = len(weights)
    half = max(1, k // 2)
    sums_a, masks_a = _subset_sums(weights[1:half])
    sums_a, masks_a = sums_a + weights[0], (masks_a << 1) | 1
    sums_b, masks_b = _subset_sums(weights[half:])
    masks_b = masks_b << half

    order = np.argsort(sums_b, kind="stable")
    sums_b, masks_b = sums_b[order], masks_b[order]
    position = np.searchsorted(sums_b, 0.5 - sums_a)
    found_masks, found_gaps = [], []
    for shift in (-1, 0):
        index = np.clip(position + shift, 0, len(sums_b) - 1)
        found_masks.append(masks_a | masks_b[index])
        found_gaps.append(np.abs(sums_a + sums_b[index] - 0.5))
    masks = np.concatenate(found_masks)
    gaps = np.concatenate(found_gaps)

    full = (1 << k) - 1
    gaps = np.where(masks == full, np.inf, gaps)
    near = np.flatnonzero(gaps <= gaps.min() + _SUBSET_SUM_TOLERANCE)
    near = near[np.argsort(gaps[near])][:_MAX_RECHECKED_SUBSETS]
    return np.unique(masks[near]) if near.size else np.array([1], dtype=np.int64)


def _balanced_union(component_weights):
    """Mask of a union of components (containing component 0) with mass nearest to 1/2, checked in mpf."""
    floats = np.array([float(w) for w in component_weights])
    best_mask, best_gap = None, None
    for mask in _closest_to_half_candidates(floats):
        mass = mpmath.fsum(w for i, w in enumerate(component_weights) if (int(mask) >> i) & 1)
        gap = abs(mass - mpmath.mpf(1) / 2)
        if best_gap is None or gap < best_gap:
            best_mask, best_gap = int(mask), gap
    return best_mask


def _minimum_spanning_edges(distances):
    """Kruskal's algorithm: the edges ``(d, i, j)`` of a minimum spanning tree, by increasing ``d``."""
    count = len(distances)
    parent = list(range(count))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    edges = sorted((distances[i][j], i, j) for i in range(count) for j in range(i + 1, count))
    tree = []
    for d, i, j in edges:
        a, b = root(i), root(j)
        if a != b:
            parent[a] = b
            tree.append((d, i, j))
    return tree


def _components_below(tree, count, threshold):
    """Connected components of the graph whose edges are the tree edges shorter than ``threshold``."""
    parent = list(range(count))

    def root(i):
        while parent[i] != i:
            i = parent[i]
        return i

    for d, i, j in tree:
        if d < threshold:
            parent[root(i)] = root(j)
    groups = {}
    for i in range(count):
        groups.setdefault(root(i), []).append(i)
    return sorted(groups.values())


def _many_pieces(weights, distances, lip):
    """Exact maximum of Corollary S11 over the nonempty proper subsets of pieces.

    A subset with ``D_I >= delta`` is a union of connected components of the
    graph joining pieces closer than ``delta``, and the bound decreases in
    ``lam_I`` on [1/2, 1] and increases in ``D_I``. The optimum is therefore
    attained at a threshold ``delta`` equal to an edge length of a minimum
    spanning tree (the lightest edge across any cut has such a length), with
    the union of components whose mass is nearest to 1/2.
    """
    L = check_positive("lip", lip)
    lam_values = check_weights("weights", weights)
    count = len(lam_values)
    if count < 2:
        raise ValueError(f"weights must describe at least 2 pieces, got {count}")
    if count > MAX_PIECES:
        raise ValueError(
            f"at most {MAX_PIECES} pieces are supported (the exact search is exponential), got {count} weights; "
            "merge pieces that are close to each other first"
        )
    D = _check_distance_matrix(distances, count)

    tree = _minimum_spanning_edges(D)
    best = None
    for threshold in sorted({d for d, _, _ in tree}):
        components = _components_below(tree, count, threshold)
        component_weights = [mpmath.fsum(lam_values[i] for i in group) for group in components]
        mask = _balanced_union(component_weights)
        inside = sorted(i for k, group in enumerate(components) if (mask >> k) & 1 for i in group)
        outside = [i for i in range(count) if i not in inside]
        mass = mpmath.fsum(lam_values[i] for i in inside)
        rest = mpmath.fsum(lam_values[i] for i in outside)
        if mass < rest:
            inside, outside, mass, rest = outside, inside, rest, mass
        gap = min(D[i][j] for i in inside for j in outside)
        value = _shell_mass(mass, gap / (2 * L), rest)
        if best is None or value > best[0]:
            best = (value, tuple(inside), gap)
    return best


def tv_lower_bound_disconnected(weights, distances, lip, *, return_subset=False, dps=None):
    r"""Total variation bound for a target carried by disjoint pieces.

    Two pieces (Corollary 5): with :math:`\lambda = \max(w, 1 - w)` the
    mass of the heavier piece and :math:`D` the distance between the pieces,

    .. math::

        d_{TV}(\rho, \nu) \ge \Phi\big(D / (2L) + \Phi^{-1}(\lambda)\big) - \lambda.

    N pieces (Corollary S11): for a nonempty proper subset :math:`I` of the
    pieces, :math:`\lambda_I = \max(w(I), 1 - w(I))` and
    :math:`D_I = \min_{i \in I, j \notin I} d_{ij}`; the bound is the
    maximum over :math:`I` of the same expression. The maximum is exact.
    The search runs over the edge lengths of a minimum spanning tree of the
    pieces and, for each length, over the unions of the groups of pieces
    closer than that length. The subset-sum step uses meet in the middle.

    Parameters
    ----------
    weights : real number in [0, 1], or sequence of N probabilities summing to 1
        A scalar is the mass of one of two pieces (a weight below 1/2 means
        the other piece is heavier). N >= 2 weights describe N pieces,
        N at most ``MAX_PIECES`` (40).
    distances : positive finite real number, or N x N matrix
        Distance between the two pieces, or the matrix of pairwise
        distances: symmetric, zero on the diagonal, positive elsewhere.
    lip : positive finite real number
        Lipschitz constant of the generator.
    return_subset : bool, default False
        Return a :class:`DisconnectedBound` (value, maximising subset,
        its distance :math:`D_I`) instead of the value alone.
    dps : int, optional
        Significant digits of the value.

    Examples
    --------
    For a :class:`isobounds.measures.DisconnectedSupport` ``nu``:
    ``tv_lower_bound_disconnected(nu.weights, nu.pairwise_distances(), lip)``.

    Returns
    -------
    mpmath.mpf or DisconnectedBound
        The value is computed as the Gaussian mass of
        :math:`[\Phi^{-1}(\lambda), \Phi^{-1}(\lambda) + D/(2L)]`, so it keeps
        its relative precision for huge ``lip``. It is 0 only when
        :math:`\lambda = 1`.

    References
    ----------
    Salmona et al., 2022, Corollary 5 and Corollary S11 (appendix).
    """

    return_subset = check_flag("return_subset", return_subset)

    def compute():
        if np.ndim(weights) == 0:
            return _two_pieces(_scalar(weights), _scalar(distances), lip)
        return _many_pieces(weights, distances, lip)

    value, subset, distance = evaluate(compute, dps)
    if return_subset:
        return DisconnectedBound(value, subset, distance)
    return value


# ---------------------------------------------------------------------------
# Corollary 6.
# ---------------------------------------------------------------------------

def _corollary6_series(D, s, L):
    """Taylor series in ``D`` of the Corollary 6 expression, for ``D max(1/(4sL), (2s+1)/(4s^2)) < 1/2``.

    With ``Phi(x) - 1/2 = phi(0) sum_k (-1)^k x^(2k+1) / (2^k k! (2k+1))``, the
    expression is ``phi(0) sum_k (-1)^k D^(2k+1) c_k / (2^k k! (2k+1))`` with
    ``c_k = a^(2k+1) - (b_+^(2k+1) - b_-^(2k+1)) / 2``, ``a = 1/(4sL)`` and
    ``b_+- = (2s +- 1)/(4s^2)``. Returns ``(value, scale)``, ``scale`` being
    the largest term before the cancellation inside ``c_k``.
    """
    a = 1 / (4 * s * L)
    b_plus, b_minus = (2 * s + 1) / (4 * s * s), (2 * s - 1) / (4 * s * s)
    total, scale = mpmath.mpf(0), mpmath.mpf(0)
    for k in range(_MAX_SERIES_TERMS):
        n = 2 * k + 1
        factor = D**n / (2**k * mpmath.factorial(k) * n)
        parts = (a**n, b_plus**n / 2, b_minus**n / 2)
        term = (-1) ** k * factor * (parts[0] - parts[1] + parts[2])
        total += term
        scale = max(scale, factor * max(abs(p) for p in parts))
        if factor * max(abs(p) for p in parts) <= mpmath.eps * scale:
            break
    density = 1 / mpmath.sqrt(2 * mpmath.pi)
    return density * total, density * scale


def _corollary6_direct(D, s, L):
    """Return ``(value, scale)`` of the Corollary 6 expression, from the tails when both terms are near 1/2.

    For ``s < 1/2`` the lower end ``b_- = D(2s-1)/(4s^2)`` is negative, and
    with ``a = D/(4sL)`` the expression equals
    ``-Phi_c(a) + Phi_c(b_+)/2 + Phi_c(-b_-)/2``. When ``a >= 1`` that sum of
    tails keeps the digits that the difference of two numbers close to 1/2
    loses (all of them when the modes are 100 standard deviations apart).
    """
    a = D / (4 * s * L)
    b_plus, b_minus = D * (2 * s + 1) / (4 * s * s), D * (2 * s - 1) / (4 * s * s)
    if b_minus < 0 and a >= 1:
        tails = (_Phi_c(a), _Phi_c(b_plus) / 2, _Phi_c(-b_minus) / 2)
        return tails[1] + tails[2] - tails[0], max(tails)
    gain, target_shell = _corollary6_terms(D, s, L)
    return gain - target_shell, max(abs(gain), abs(target_shell))


def _corollary6_raw(D, s, L):
    """Corollary 6 expression, with extra digits while its terms cancel.

    For a small ``D`` both terms are about ``D phi(0) / (4 s)``. When
    ``L = s`` their difference is ``phi(0) D^3 / 32`` (for ``s = 1``), so a
    subtraction loses ``log10(term / result)`` digits. Small ``D`` is summed
    from the Taylor series in ``D`` (only the parameters then cancel), and
    in both routes the loss is measured and the terms are recomputed with
    that many more digits until the result keeps the working precision.
    """
    small = D * max(1 / (4 * s * L), (2 * s + 1) / (4 * s * s)) < mpmath.mpf(1) / 2
    kernel = _corollary6_series if small else _corollary6_direct
    digits = mpmath.mp.dps
    for _ in range(_MAX_PRECISION_RAISES):
        with workdps(digits):
            value, scale = kernel(D, s, L)
        if scale == 0:
            return mpmath.mpf(0)
        lost = digits if value == 0 else int(mpmath.log10(scale / abs(value))) + 1
        if lost + GUARD_DIGITS // 2 <= digits - mpmath.mp.dps + GUARD_DIGITS:
            return +value
        digits += lost + GUARD_DIGITS
    return +value


def _corollary6_input_bits(D, s, L):
    """Return the bits by which Corollary 6 amplifies relative errors in ``D``, ``s`` and ``L``.

    The Gaussian tail ``Phi_c(x)`` turns a relative error ``e`` in ``x`` into
    a relative error of about ``x^2 e``, and the arguments ``D/(4sL)`` and
    ``D(2s +- 1)/(4s^2)`` carry the errors of the inputs twice at most
    (``s`` is squared). With ``s = 1e-10`` and ``D = 1e-8`` the arguments
    reach 2.5e11, so rounding the inputs to the working precision would cost
    23 digits of the result.
    """
    a = D / (4 * s * L)
    b = D * (2 * s + 1) / (4 * s * s)
    # A relative error e in a costs about a^2 e Phi_c(a), which for a >= 2 b > 2 stays below
    # e Phi_c(b), the size of the other tails (b >= |D (2s - 1) / (4 s^2)|). So a huge a,
    # from a tiny lip, needs no extra bits.
    largest = b if a >= 2 * b else max(a, b)
    if largest <= 1:
        return 0
    return 2 * mpmath.mag(largest) + 4


def _corollary6_terms(D, s, L):
    """Return ``(Phi(D/(4sL)) - 1/2, (1/2)[Phi(D(2s+1)/(4s^2)) - Phi(D(2s-1)/(4s^2))])``."""
    # Phi(x) - 1/2 = erf(x / sqrt(2)) / 2 for x >= 0, one special function and no cancellation.
    gain = mpmath.erf(D / (4 * s * L * mpmath.sqrt(2))) / 2
    return gain, _corollary6_target_shell(D, s)


def _corollary6_target_shell(D, s):
    """Return ``(1/2)[Phi(D(2s+1)/(4s^2)) - Phi(D(2s-1)/(4s^2))]`` with the endpoints formed at extra precision.

    The interval has centre ``c = D/(2s)`` and width ``D/(2s^2) = c/s``, so
    rounding its endpoints at the working precision would keep only
    ``dps - log10(s)`` digits of the width (none once ``s > 10^dps``). A
    rounding of ``c`` is also amplified by up to ``c^2`` in the tail mass.
    The endpoints are therefore formed with ``log2(s) + 2 log2(c)`` more bits
    (:func:`_corollary6_shell_bits`).
    """
    with mpmath.extraprec(_corollary6_shell_bits(D, s)):
        mass = _gaussian_mass(D * (2 * s - 1) / (4 * s * s), D * (2 * s + 1) / (4 * s * s))
    return mass / 2


def _corollary6_shell_bits(D, s):
    """Return the extra bits with which the ends ``D(2s +- 1)/(4s^2)`` of the target shell are formed."""
    center = D / (2 * s)
    return 4 * GUARD_DIGITS + max(0, mpmath.mag(s)) + 2 * max(0, mpmath.mag(center))


def tv_lower_bound_two_gaussians(m1, m2, sigma, lip, *, clip=True, dps=None):
    r"""Total variation bound for a balanced mixture of two Gaussians.

    For :math:`\nu = \tfrac12 [N(m_1, s^2 I) + N(m_2, s^2 I)]` and
    :math:`D = \|m_2 - m_1\|`,

    .. math::

        d_{TV}(\rho, \nu) \ge \big[\Phi(D / (4 s L)) - \tfrac12\big]
        - \tfrac12 \big[\Phi(D(2s+1)/(4s^2)) - \Phi(D(2s-1)/(4s^2))\big].

    It is Theorem 4 for the half-space bisecting the means with the radius
    ``r = D / (4s)``. That radius is arbitrary (and mixes units when
    ``s != 1``); :func:`isobounds.bounds.maximize_tv_two_gaussians` optimises
    it and returns a bound at least as large. Both differences of ``Phi`` are
    computed as Gaussian masses from the tail side, so they keep their
    relative precision when the modes are far apart.

    Parameters
    ----------
    m1, m2 : real numbers or equal-length sequences of real numbers
        Means of the two components; ``m1 = m2`` gives 0.
    sigma : positive finite real number
        Standard deviation ``s`` of both components. The paper allows
        ``s >= 0``, but ``s = 0`` divides by zero and a mixture of two point
        masses has no density, so ``sigma`` must be positive.
    lip : positive finite real number
        Lipschitz constant of the generator.
    clip : bool, default True
        Return ``max(bound, 0)``; ``clip=False`` returns the raw expression.
    dps : int, optional
        Significant digits of the result.

    Returns
    -------
    mpmath.mpf

    References
    ----------
    Salmona et al., 2022, Corollary 6.
    """

    clip = check_flag("clip", clip)

    def compute():
        value = _corollary6_value(m1, m2, sigma, lip)
        return max(value, mpmath.mpf(0)) if clip else value

    return evaluate(compute, dps)


def _corollary6_value(m1, m2, sigma, lip):
    """Check the arguments of Corollary 6 and return its raw expression at the current precision."""

    def parse():
        return separation(m1, m2), check_positive("sigma", sigma), check_positive("lip", lip)

    D, s, L = parse()
    extra = _corollary6_input_bits(D, s, L)
    if not extra:
        return _corollary6_raw(D, s, L)
    # Decimal strings are parsed again with the extra bits, so that their rounding does not
    # dominate the Gaussian tails either.
    with mpmath.extraprec(extra):
        return _corollary6_raw(*parse())
