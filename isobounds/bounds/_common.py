"""Shared machinery of the bound functions: precision handling and argument checks.

Every scalar bound converts its arguments at ``dps + GUARD_DIGITS`` digits,
computes at that precision and rounds the result to ``dps`` digits on
return, like the functions of :mod:`isobounds.gaussian`.
"""

import mpmath
import numpy as np

from .._precision import GUARD_DIGITS, is_tensor, resolve_dps, workdps
from .._validation import check_finite, check_probability, is_array_input, tensor_to_numpy
from ..sets import EmptySet, WholeSpace

__all__ = [
    "reject_booleans",
    "check_flag",
    "check_target",
    "check_region",
    "golden_section", "evaluate", "settle", "is_array", "round_to", "separation", "check_means", "check_dimensions",
    "set_mass"]

# settle() first re-evaluates with this many more digits, and raises the
# precision at most this many times before it calls a value zero.
_SETTLE_CHECK_DIGITS = 8
_MAX_SETTLE_RAISES = 8
# A set's mass and its complement's that add up to more than 1 + _BOUNDARY_ATOMS share
# atoms on the boundary (see complement_mass). A smaller excess is the rounding of the
# target's weights when it was created: a weight 1 - 1e-300 stored at 30 digits is 1.
_BOUNDARY_ATOMS = mpmath.mpf("1e-12")
# settle never works with more than this many times the working digits.
_SETTLE_MAX_FACTOR = 16


def reject_booleans(name, x):
    """Raise TypeError when ``x`` is a boolean or an array, list or tuple containing booleans."""
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, not a boolean, got {name}={x!r}")
    if is_array(x):
        array = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
        if array.dtype == bool or (array.dtype == object and any(isinstance(v, (bool, np.bool_)) for v in array.flat)):
            raise TypeError(f"{name} must contain real numbers, not booleans, got {name}={x!r}")


def check_flag(name, value):
    """Require a real boolean (``True``/``False`` or a numpy bool) and return it as ``bool``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {name}={value!r}")
    return bool(value)


def check_target(target, name="target"):
    """Require an isobounds measure: an object with a callable ``mass(set, dps=...)`` and a ``dim``."""
    if not callable(getattr(target, "mass", None)) or not hasattr(target, "dim"):
        hint = ""
        if callable(getattr(target, "cdf", None)) and callable(getattr(target, "sf", None)):
            # A frozen scipy.stats law has cdf and sf but no mass.
            hint = "; wrap a scipy.stats law in isobounds.measures.UnivariateDistribution"
        raise TypeError(
            f"{name} must be a measure from isobounds.measures (an object with .mass(set) and .dim), "
            f"got {name}={target!r}{hint}"
        )


def check_region(region, needs=("shell", "dim"), name="A"):
    """Require a set from isobounds.sets: an object with the methods and attributes in ``needs``."""
    missing = [attribute for attribute in needs if not hasattr(region, attribute)]
    if missing:
        raise TypeError(
            f"{name} must be a set from isobounds.sets (with {', '.join(needs)}), "
            f"got {name}={region!r} without {', '.join(missing)}"
        )


def check_model_mass(region, model_mass):
    """Check ``model_mass`` as a probability and against the sets whose mass every model fixes.

    Every probability measure gives the whole space mass 1 and the empty
    set mass 0, so another ``model_mass`` there describes no model.
    """
    rho = check_probability("model_mass", model_mass)
    if isinstance(region, WholeSpace) and rho != 1:
        raise ValueError(f"model_mass must be 1 for the whole space, got model_mass={mpmath.nstr(rho, 15)}")
    if isinstance(region, EmptySet) and rho != 0:
        raise ValueError(f"model_mass must be 0 for the empty set, got model_mass={mpmath.nstr(rho, 15)}")
    return rho


def is_array(x):
    """Tell whether ``x`` takes the float64 vectorised path (numpy array, list, tuple or torch tensor)."""
    return is_array_input(x)


def evaluate(compute, dps):
    """Run ``compute()`` at ``dps + GUARD_DIGITS`` digits and round its mpf result(s) to ``dps``.

    Returns what ``compute`` returned, with every ``mpmath.mpf`` inside
    (nested) tuples rounded.
    """
    dps = resolve_dps(dps)
    with workdps(dps + GUARD_DIGITS):
        result = compute()
    return round_to(result, dps)


def settle(f):
    """Evaluate ``f()`` at rising precision until two successive values agree; return the last one.

    ``f()`` returns ``(value, scale)`` or ``(value, scale, result)``:
    ``value`` is a difference of terms whose largest magnitude is ``scale``,
    and ``result`` (default ``value``) is what the caller wants back.

    A bound that is a small difference of large terms (``beta - shell``
    when the model fits the target closely, ``a - b`` in the KL bounds)
    loses about ``log10(scale / |value|)`` digits. When the true difference
    is 0, its computed value is rounding noise of either sign, or an exact 0
    when the terms round to the same number. ``f`` is evaluated
    at the working precision and again with more digits: at least
    :data:`_SETTLE_CHECK_DIGITS` more, and as many more as the digits lost.
    The result is returned once two successive nonzero values agree to all
    but the last ``GUARD_DIGITS / 2`` working digits. ``scale = 0`` means the
    difference is exactly 0.

    ``f`` must compute everything from its exact inputs at the current
    precision (no mass or quantile rounded at a lower precision may be
    captured), or the values agree while carrying the same error.

    NOTE: sets and mixtures store their parameters as converted when they
    were created. A decimal string that binary cannot represent exactly (an
    offset of "2.2", a weight of "1e-30") keeps that rounding at every
    precision. A bound that is exactly 0 in theory can then settle at a
    value of the size of that rounding, about 1e-45 with the default 30
    digits.

    Returns
    -------
    mpmath.mpf or the type of ``result``
        The last ``result``. It is 0 when the values still disagree, or are
        still exactly 0, after :data:`_MAX_SETTLE_RAISES` raises or at
        :data:`_SETTLE_MAX_FACTOR` times the working digits. The difference
        is then zero to within the rounding of its terms at that precision,
        so 0 is the bound that is certain, because a TV or KL divergence is
        never negative. At the largest precision a single value is kept
        unconfirmed when it lies more than the required digits above the
        rounding of its terms.
    """
    required_digits = mpmath.mp.dps - GUARD_DIGITS // 2
    digits = previous_digits = mpmath.mp.dps
    max_digits = _SETTLE_MAX_FACTOR * mpmath.mp.dps
    previous = None
    for _ in range(_MAX_SETTLE_RAISES + 2):
        with workdps(digits):
            value, scale, *result = f()
        result = result[0] if result else value
        if scale == 0:
            return result
        if value != 0 and previous is not None and _agree(previous, value, required_digits):
            return result
        # A difference that is still exactly 0 has lost all digits so far: the next pass
        # has about three times as many, so a value 1e-300 below its terms is reached.
        lost = 2 * digits if value == 0 else int(mpmath.log10(scale / abs(value))) + 1
        if previous is not None and value != 0:
            lost = max(lost, previous_digits - _agreeing_digits(previous, value))
        previous, previous_digits = value, digits
        raised = min(max(digits + _SETTLE_CHECK_DIGITS, required_digits + lost + GUARD_DIGITS), max_digits)
        if raised <= digits:
            # No pass can confirm the value, so it is kept only if it lies far above the rounding of its terms.
            correct_digits = digits - int(mpmath.log10(scale / abs(value))) - 1 if value != 0 else 0
            return result if correct_digits >= required_digits + GUARD_DIGITS else mpmath.mpf(0)
        digits = raised
    return mpmath.mpf(0)


def _agree(u, v, digits):
    """Tell whether ``u`` and ``v`` agree to ``digits`` significant digits."""
    if u == v:
        return True
    if u == 0 or v == 0:
        return False
    return abs(u - v) <= abs(v) * mpmath.mpf(10) ** (-digits)


def _agreeing_digits(u, v):
    """Return how many leading significant digits ``u`` and ``v`` share (0 if either is zero or their signs differ)."""
    if u == 0 or v == 0 or (u > 0) != (v > 0):
        return 0
    if u == v:
        return mpmath.mp.dps
    return max(0, int(-mpmath.log10(abs(u - v) / abs(v))))


def round_to(value, dps):
    """Round an mpf, or every mpf inside nested tuples, to ``dps`` significant digits."""
    if isinstance(value, mpmath.mpf):
        with workdps(dps):
            return +value
    if isinstance(value, tuple):
        return tuple(round_to(v, dps) for v in value)
    return value


def _as_components(name, m):
    """Convert a mean (a scalar, or a sequence, array or torch tensor of scalars) to a list of finite mpf."""
    if is_tensor(m) and getattr(m, "ndim", 0) > 0:
        # A 0-d tensor is a scalar, which check_finite reads at its exact value.
        m = tensor_to_numpy(m)
    if isinstance(m, (list, tuple, np.ndarray)):
        array = np.asarray(m, dtype=object)
        if array.ndim > 1:
            raise ValueError(f"{name} must be a scalar or a 1-D vector, got an array of shape {array.shape}")
        values = list(np.ravel(array))
        if not values:
            raise ValueError(f"{name} must contain at least one coordinate, got an empty {name}")
        return [check_finite(f"{name}[{i}]", v) for i, v in enumerate(values)]
    return [check_finite(name, m)]


def check_means(m1, m2):
    """Convert two means to equal-length lists of finite mpf.

    Raises
    ------
    ValueError
        When a mean is empty, contains NaN or infinities, or when the two
        lengths differ.
    """
    first = _as_components("m1", m1)
    second = _as_components("m2", m2)
    if len(first) != len(second):
        raise ValueError(
            f"m1 and m2 must have the same dimension, got len(m1)={len(first)} and len(m2)={len(second)}"
        )
    return first, second


def separation(m1, m2):
    """Euclidean distance ``D = ||m2 - m1||`` between two means, as mpf."""
    first, second = check_means(m1, m2)
    return mpmath.sqrt(mpmath.fsum((b - a) ** 2 for a, b in zip(first, second)))


def set_mass(measure, region, name="target"):
    """Mass of ``region`` under ``measure`` at the current precision, as mpf.

    ``measure.mass(region, dps=...)`` is the contract of :mod:`isobounds.measures`.
    """
    value = measure.mass(region, dps=mpmath.mp.dps)
    if not isinstance(value, mpmath.mpf):
        value = mpmath.mpf(value) if not isinstance(value, (float, np.floating)) else mpmath.mpf(float(value))
    if mpmath.isnan(value) or not 0 <= value <= 1 + mpmath.mpf(10) ** (3 - mpmath.mp.dps):
        raise ValueError(f"{name}.mass returned {value} for {region!r}, which is not a probability in [0, 1]")
    return min(value, mpmath.mpf(1))


def complement_mass(measure, region, mass):
    """Return the mass of the complement of ``region`` when ``mass`` (its own mass) exceeds 1/2, else ``None``.

    Above 1/2 the quantile of ``mass`` is taken from this complement mass
    (see :class:`isobounds.bounds.isoperimetry._ShellMass`), because ``1 - mass``
    has lost the digits that a mass of ``1 - 1e-300`` needs. ``None`` also
    when the two masses do not add up to 1 (atoms on the boundary).

    NOTE: a target with atoms on the boundary of a set (an empirical measure
    with samples there) gives them to both the set and its closed
    complement. Model-free Theorem 4 takes the complement as a set, whose
    masses add up to 1. With such a target the bound uses the closed
    complement's mass instead, which the theorem does not state, and whether
    the value is still a lower bound there has not been established. Atoms
    on the boundary that weigh less than 1e-12 in all go undetected.
    """
    complement = getattr(region, "complement", None)
    if complement is None or not mass > mpmath.mpf(1) / 2:
        return None
    return exact_complement(mass, set_mass(measure, complement()))


def exact_complement(mass, rest):
    """Return ``rest``, the mass of a set's complement, when it is ``1 - mass``; ``None`` when it is not.

    The complements of closed sets are closed, so atoms on the boundary (the
    samples of an empirical measure) count in both. The two masses then add
    up to more than 1, and the quantile must come from ``mass`` itself.
    """
    if abs(mass + rest - 1) > _BOUNDARY_ATOMS:
        return None
    return rest


def check_dimensions(region, target, region_name="A"):
    """Raise ValueError when the set and the target live in different dimensions."""
    region_dim = getattr(region, "dim", None)
    target_dim = getattr(target, "dim", None)
    if region_dim is not None and target_dim is not None and region_dim != target_dim:
        raise ValueError(
            f"{region_name} and target must have the same dimension, "
            f"got {region_name}.dim={region_dim} and target.dim={target_dim}"
        )


def golden_section(f, left, right, iterations):
    """Maximise ``f`` on ``[left, right]`` by golden-section search; return ``(f(x), x)`` at the best point.

    Each iteration shrinks the bracket by the factor 0.618; ``f`` is assumed
    unimodal on the bracket.
    """
    ratio = (mpmath.sqrt(5) - 1) / 2
    a, b = left, right
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(iterations):
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = f(d)
    return (fc, c) if fc >= fd else (fd, d)
