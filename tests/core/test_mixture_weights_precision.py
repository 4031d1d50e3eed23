"""Float mixture weights are divided by their sum at the precision of each use.

Float weights such as 0.3 and 0.7 are binary fractions whose sum misses 1.
Divided once at the precision of construction (40 digits by default), they
left masses and bounds asked at ``dps=60`` wrong by about 1e-42 relative.
The references below are mpmath formulas at 100 digits, or the same target
built at 150 digits, whose weights then carry far more than 60 digits.
"""

from fractions import Fraction

import mpmath
import pytest

import isobounds
from isobounds import DisconnectedSupport, GaussianMixture, Interval

RAW = (0.3, 0.7)


def _exact_weights():
    """The weights 0.3 and 0.7 (as floats) divided by their exact sum, as Fractions."""
    values = [Fraction(w) for w in RAW]
    total = sum(values)
    return [v / total for v in values]


def _relative(a, b):
    with mpmath.workdps(100):
        return abs(mpmath.mpf(a) - mpmath.mpf(b)) / abs(mpmath.mpf(b))


def test_mixture_mass_at_60_digits():
    nu = GaussianMixture(list(RAW), [-1.0, 1.0], 1.0)
    got = nu.mass(Interval(-mpmath.inf, 0.0), dps=60)
    with mpmath.workdps(100):
        w1, w2 = (mpmath.mpf(w.numerator) / w.denominator for w in _exact_weights())
        reference = w1 * mpmath.ncdf(1) + w2 * mpmath.ncdf(-1)
    assert _relative(got, reference) < 1e-58


def test_weights_sum_at_use_precision():
    nu = GaussianMixture(list(RAW), [-1.0, 1.0], 1.0)
    with mpmath.workdps(100):
        exact = [mpmath.mpf(w.numerator) / w.denominator for w in _exact_weights()]
    with isobounds.precision(80):
        weights = nu.weights
        assert abs(mpmath.fsum(weights) - 1) < mpmath.mpf(10) ** -78
    for got, want in zip(weights, exact):
        assert _relative(got, want) < 1e-78


def test_weights_summing_to_one_kept():
    nu = GaussianMixture([0.25, 0.75], [0.0, 3.0], 1.0)
    with isobounds.precision(80):
        assert nu.weights == (mpmath.mpf(0.25), mpmath.mpf(0.75))


def test_weights_array_correctly_rounded():
    nu = GaussianMixture(list(RAW), [-1.0, 1.0], 1.0)
    assert list(nu.weights_array) == [float(w) for w in _exact_weights()]


@pytest.mark.parametrize(
    "bound",
    [
        lambda t: isobounds.maximize_tv_over_half_spaces(1.0, target=t, dps=60).value,
        lambda t: isobounds.maximize_tv_over_intervals(1.0, target=t, dps=60).value,
    ],
    ids=["half_spaces", "intervals"],
)
def test_bounds_at_60_digits(bound):
    means = [-4.0, 4.0]
    default = GaussianMixture(list(RAW), means, 1.0)
    with isobounds.precision(150):
        reference = GaussianMixture(list(RAW), means, 1.0)
    assert _relative(bound(default), bound(reference)) < 1e-57


def test_disconnected_mass_at_60_digits():
    nu = DisconnectedSupport([Interval(0.0, 1.0), Interval(2.0, 3.0)], list(RAW))
    got = nu.mass(Interval(0.0, 0.5), dps=60)
    reference = _exact_weights()[0] / 2
    with mpmath.workdps(100):
        assert _relative(got, mpmath.mpf(reference.numerator) / reference.denominator) < 1e-58
