"""Argument checks shared by every public function.

Each check raises ``ValueError`` (or ``TypeError`` for a wrong kind of
object) with a message that names the argument, shows its value and states
the allowed range, and returns the value converted to ``mpmath.mpf``.
"""

import collections.abc
import numbers

import mpmath
import numpy as np

from ._precision import is_tensor, to_mpf

__all__ = [
    "check_finite",
    "check_nonnegative",
    "check_positive",
    "check_probability",
    "check_real",
    "check_weights",
    "reject_unordered",
    "check_array",
    "check_probability_array",
    "is_array_input",
    "is_tensor",
    "tensor_to_numpy",
]


def _shown(x, value):
    """Return ``x`` as an error message quotes it: as the caller wrote it, or ``value`` to 17 digits.

    A float such as -0.1 reads as typed, rather than as the 40 digits of its
    binary value that the mpf conversion shows. Strings with surrounding
    spaces are quoted, so that the spaces show, and an mpf is written to 15
    digits, as mpmath prints it.
    """
    if isinstance(x, str):
        return x if x.strip() == x else repr(x)
    if isinstance(x, mpmath.mpf):
        return mpmath.nstr(x, 15)
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            return str(x)
        except ValueError:
            # Python refuses to write an integer of more than 4300 digits in decimal.
            pass
    return mpmath.nstr(value, 17)


def check_real(name, x):
    """Convert ``x`` to mpf; infinities allowed, NaN rejected."""
    return to_mpf(x, name)


def check_finite(name, x):
    """Convert ``x`` to mpf and require it to be finite."""
    value = to_mpf(x, name, "a finite real number")
    if not mpmath.isfinite(value):
        raise ValueError(f"{name} must be a finite real number, got {name}={_shown(x, value)}")
    return value


def check_positive(name, x, allow_inf=False):
    """Convert ``x`` to mpf and require ``0 < x < inf`` (``x = inf`` if ``allow_inf``)."""
    requirement = "a positive number in (0, inf]" if allow_inf else "a positive finite number in (0, inf)"
    value = to_mpf(x, name, requirement)
    if value <= 0 or (mpmath.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be {requirement}, got {name}={_shown(x, value)}")
    return value


def check_nonnegative(name, x, allow_inf=False):
    """Convert ``x`` to mpf and require ``0 <= x < inf`` (``x = inf`` if ``allow_inf``)."""
    requirement = f"a nonnegative number in [0, {'inf]' if allow_inf else 'inf)'}"
    value = to_mpf(x, name, requirement)
    if value < 0 or (mpmath.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be {requirement}, got {name}={_shown(x, value)}")
    return value


def check_probability(name, x):
    """Convert ``x`` to mpf and require ``0 <= x <= 1``."""
    value = to_mpf(x, name, "a probability in [0, 1]")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be a probability in [0, 1], got {name}={_shown(x, value)}")
    return value


def reject_unordered(name, x, expected):
    """Raise TypeError when ``x`` is a mapping, a set or a dict view.

    Iterating over a dict yields its keys and a set has no order, so neither
    can be matched to components by position. ``expected`` describes what
    is allowed, for the message (``"a sequence of k probabilities"``).
    """
    unordered = (collections.abc.Mapping, collections.abc.Set, collections.abc.MappingView)
    if isinstance(x, unordered):
        raise TypeError(
            f"{name} must be {expected} in component order (a list, tuple or 1-D array), "
            f"got a {type(x).__name__}: {name}={x!r}"
        )


def _sum_digits(total):
    """Significant digits that show how ``total`` differs from 1.

    At least 17, and three more than the position of the first digit that
    differs from 1, at most the working precision: a sum of
    ``1 + 1e-30`` is shown as ``1.000000000000000000000000000001``.
    """
    deviation = abs(total - 1)
    if deviation == 0:
        return 17
    return max(17, min(mpmath.mp.dps, int(-mpmath.log10(deviation)) + 3))


# Largest sum tolerance granted to float32 or float16 weights: beyond it the
# weights describe another mixture, however coarse their type.
_MAX_COARSE_WEIGHT_TOLERANCE = 1e-3


def _default_weight_tolerance(weights):
    """Return the allowed deviation of ``sum(weights)`` from 1 described in :func:`check_weights`."""
    entries = np.ravel(np.asarray(weights, dtype=object))
    coarse_eps = [float(np.finfo(w.dtype).eps) for w in entries
                  if isinstance(w, np.floating) and np.finfo(w.dtype).eps > np.finfo(np.float64).eps]
    if isinstance(weights, np.ndarray) and np.issubdtype(weights.dtype, np.floating):
        if np.finfo(weights.dtype).eps > np.finfo(np.float64).eps:
            coarse_eps.append(float(np.finfo(weights.dtype).eps))
    if coarse_eps:
        return min(max(1e-12, 4 * len(entries) * max(coarse_eps)), _MAX_COARSE_WEIGHT_TOLERANCE)
    if any(isinstance(w, (float, np.floating, mpmath.mpf)) for w in entries):
        return 1e-12
    return 10 * mpmath.eps


def check_weights(name, weights, atol=None, normalize=True):
    """Check mixture weights matched to components by position; return them as mpf rescaled to sum 1.

    Each weight must lie in [0, 1] and their sum must be 1 to within
    ``atol``. Mappings, sets and dict views raise TypeError, because a dict
    would be read through its keys. So do 0-d arrays and arrays of more
    than one dimension. A sum that misses 1 is printed with enough digits to
    show the difference (see :func:`_sum_digits`), next to the allowed
    deviation.

    Parameters
    ----------
    name : str
        Argument name used in error messages.
    weights : sequence of reals in [0, 1]
        One weight per component, in component order.
    atol : float, optional
        Allowed deviation of the sum from 1. Defaults to ``1e-12`` when any
        weight is a float or an mpf, because 0.1 + 0.2 + 0.7 does not sum
        exactly to 1, nor do three copies of mpf(1)/3. Weights of a coarser
        float type (float32 or float16, as from a softmax) get ``4 k eps`` of
        that type for ``k`` weights, for example 4.8e-6 for ten float32
        weights, and at most 1e-3. Exact weights (int, str, Fraction, sympy Rational) get ten
        units of the working precision.
    """
    expected = "a sequence of probabilities in [0, 1]"
    reject_unordered(name, weights, expected)
    if isinstance(weights, (str, bytes)) or not hasattr(weights, "__len__"):
        raise TypeError(f"{name} must be {expected}, got {name}={weights!r}")
    if isinstance(weights, np.ndarray) and weights.ndim != 1:
        raise TypeError(f"{name} must be {expected}, got an array of shape {weights.shape}: {name}={weights!r}")
    if len(weights) == 0:
        raise ValueError(f"{name} must contain at least one weight, got an empty {name}")
    values = [check_probability(f"{name}[{i}]", w) for i, w in enumerate(weights)]
    if atol is None:
        atol = _default_weight_tolerance(weights)
    total = mpmath.fsum(values)
    if abs(total - 1) > atol:
        allowed = mpmath.nstr(mpmath.mpf(atol), 3)
        raise ValueError(
            f"{name} must sum to 1, got sum({name})={mpmath.nstr(total, _sum_digits(total))}, "
            f"which differs from 1 by {mpmath.nstr(total - 1, 3)} (allowed deviation: {allowed})"
        )

    # Float weights such as (0.1, 0.2, 0.7) miss 1 by a rounding error;
    # dividing by their sum keeps every mass computed from them within [0, 1].
    if not normalize:
        return values
    return [value / total for value in values]


def is_array_input(x):
    """Return whether ``x`` takes the float64 array path: a numpy array, a list, a tuple or a torch tensor."""
    return isinstance(x, (np.ndarray, list, tuple)) or is_tensor(x)


def tensor_to_numpy(x):
    """Return a torch tensor as a numpy array: detached, on the CPU, bfloat16 widened to float64 exactly.

    numpy has no bfloat16, so ``tensor.numpy()`` raises TypeError for it. Every
    bfloat16 number is a float64 number.
    """
    x = x.detach().cpu()
    try:
        return x.numpy()
    except TypeError:
        if callable(getattr(x, "is_floating_point", None)) and x.is_floating_point():
            return x.double().numpy()
        raise


_BOOLEAN_TYPES = frozenset((bool, np.bool_))


def _contains_booleans(x, raw):
    """Tell whether ``x``, which numpy converted to ``raw``, has boolean entries (bool or numpy.bool_)."""
    if raw.dtype == np.bool_:
        return True
    if raw.dtype == object:
        entries = raw.flat
    elif isinstance(x, (list, tuple)):
        # numpy turns [True, 0.5] into the floats [1.0, 0.5]; the entries as given show the booleans.
        # A flat sequence is scanned as it is, a nested one through an object array.
        entries = x if raw.ndim == 1 else np.asarray(x, dtype=object).flat
    else:
        return False
    # isdisjoint over map(type, ...) runs at C speed. Exact types suffice because neither type can be subclassed.
    return not _BOOLEAN_TYPES.isdisjoint(map(type, entries))


def check_array(name, x, allow_inf=False):
    """Convert ``x`` to a float64 array and reject NaN (and infinities unless allowed).

    Torch tensors are detached and moved to the CPU first. Python integers
    beyond the float64 range raise ``ValueError``, and so do strings and
    other objects (``"1e5000"``, ``mpf("1e-400")``) that float64 would round
    to inf or 0.
    """
    if is_tensor(x):
        x = tensor_to_numpy(x)
    try:
        raw = np.asarray(x)
    except ValueError:
        # Ragged nesting: numpy cannot build an array of one shape from it.
        raise ValueError(f"{name} must be a rectangular array of real numbers, got ragged {name}={x!r}") from None
    if _contains_booleans(x, raw):
        raise TypeError(f"{name} must be an array of real numbers, got booleans in {name}={x!r}")
    if raw.dtype == object and any(entry is None for entry in raw.ravel()):
        # numpy turns None into NaN in a float64 array, which would be reported as a NaN entry.
        raise TypeError(f"{name} must be an array of real numbers, got None in {name}={x!r}")
    try:
        array = np.asarray(x, dtype=np.float64)
    except OverflowError:
        raise ValueError(
            f"{name} must contain real numbers within the float64 range (about 1.8e308), "
            f"got a number beyond it in {name}; pass such a scalar to the mpmath functions instead"
        ) from None
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of real numbers, got {name}={x!r}") from None
    if raw.dtype.kind in "OUS":
        _check_float64_rounding(name, raw, array)
    bad = np.isnan(array) if allow_inf else ~np.isfinite(array)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        what = "NaN" if allow_inf else "NaN or infinite values"
        raise ValueError(f"{name} must not contain {what}, got {_entry(name, index)}={array[index]}")
    return array


def _check_float64_rounding(name, raw, array):
    """Reject entries of strings or objects (``"1e5000"``, ``mpf("1e-400")``) that float64 rounds to inf or 0.

    numpy converts them without a warning, so ``Phi(["1e5000"])`` would
    silently become ``Phi(inf)``. Only the entries that came out infinite or
    zero are read again, at the working precision.
    """
    for index in np.argwhere(np.isinf(array) | (array == 0)):
        index = tuple(int(i) for i in index)
        entry = raw[index]
        value = to_mpf(entry, _entry(name, index))
        if mpmath.isinf(value) or value == 0:
            continue
        entry_repr = repr(str(entry)) if isinstance(entry, str) else repr(entry)
        raise ValueError(
            f"{name} must contain real numbers within the float64 range (nonzero sizes from about 5e-324 "
            f"to 1.8e308), got {_entry(name, index)}={entry_repr}, which float64 rounds to {array[index]}; "
            "pass such a scalar to the mpmath functions instead"
        )


def check_probability_array(name, x):
    """Convert ``x`` to a float64 array with every entry in [0, 1]."""
    array = check_array(name, x, allow_inf=True)
    bad = (array < 0) | (array > 1)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must contain probabilities in [0, 1], got {_entry(name, index)}={array[index]}")
    return array


def _entry(name, index):
    """Name of one array entry, ``p[2, 0]``, or ``p`` itself for a 0-d array."""
    if not index:
        return name
    return f"{name}[{', '.join(str(i) for i in index)}]"
