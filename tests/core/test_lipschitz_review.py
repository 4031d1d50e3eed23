"""Review checks of the Lipschitz bounds and of the float64 Theorem 1 functions against mpmath references.

The references are written here from the formulas: the monotone transport
constant ``sup_y I(F(y)) / p(y)`` by a grid and a golden-section search on
a mixture evaluated directly with mpmath, and the quantile by Newton steps
on ``log Phi``.
"""

import math

import mpmath
import numpy as np
import pytest

from isobounds import vectorized
from isobounds.bounds.lipschitz import ot_lipschitz_constant
from isobounds.measures import GaussianMixture


class _ParametersOnly:
    """A target given only by weights, means and sigmas."""

    def __init__(self, weights, means, sigmas):
        self.weights, self.means, self.sigmas = weights, means, sigmas


def _lower_quantile(q):
    """Return x with Phi(x) = q for 0 < q <= 1/2, by Newton steps on log Phi."""
    if q > mpmath.mpf("1e-6"):
        with mpmath.workdps(mpmath.mp.dps + 10):
            return -mpmath.sqrt(2) * mpmath.erfinv(1 - 2 * q)
    x = -mpmath.sqrt(-2 * mpmath.log(q))
    for _ in range(100):
        cdf = mpmath.ncdf(x)
        step = (mpmath.log(cdf) - mpmath.log(q)) * cdf / mpmath.npdf(x)
        x -= step
        if abs(step) < abs(x) * mpmath.mpf(10) ** (5 - mpmath.mp.dps):
            break
    return x


def _transport_ratio(weights, means, sigmas, y):
    """Return I(min(F(y), 1 - F(y))) / p(y) for a univariate Gaussian mixture, in mpmath."""
    components = list(zip(weights, means, sigmas))
    cdf = mpmath.fsum(w * mpmath.ncdf((y - m) / s) for w, m, s in components)
    sf = mpmath.fsum(w * mpmath.ncdf((m - y) / s) for w, m, s in components)
    pdf = mpmath.fsum(w * mpmath.npdf(y, m, s) for w, m, s in components)
    return mpmath.npdf(_lower_quantile(min(cdf, sf))) / pdf


def _reference_ot_constant(weights, means, sigmas, low, high, points=160):
    """Return the maximum of the transport ratio on [low, high], by a grid and a golden-section search."""
    weights, means, sigmas = ([mpmath.mpf(v) for v in values] for values in (weights, means, sigmas))
    # Float weights such as 0.3 and 0.7 sum to 1 - 5.6e-17 in binary, and the mixture divides them by their sum.
    total = mpmath.fsum(weights)
    weights = [w / total for w in weights]

    def ratio(y):
        return _transport_ratio(weights, means, sigmas, y)

    grid = [low + (high - low) * mpmath.mpf(i) / points for i in range(points + 1)]
    values = [ratio(y) for y in grid]
    best = max(range(1, points), key=lambda i: values[i])
    left, right = grid[best - 1], grid[best + 1]
    golden = (mpmath.sqrt(5) - 1) / 2
    for _ in range(120):
        inner_left, inner_right = right - golden * (right - left), left + golden * (right - left)
        if ratio(inner_left) > ratio(inner_right):
            right = inner_right
        else:
            left = inner_left
    return ratio((left + right) / 2)


# ---------------------------------------------------------------------------
# ot_lipschitz_constant: components of weight 0.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("far_mean", [1e16, 1e20])
def test_ot_zero_weight_far_component(far_mean):
    # The component of weight 0 carries no mass, so the constant is that of 0.3 N(0, 1) + 0.7 N(6, 1).
    # Before it was dropped, its mean set the centre and the float64 search lost the real modes.
    result = ot_lipschitz_constant(GaussianMixture([0.3, 0.7, 0.0], [0.0, 6.0, far_mean], 1.0), dps=20)
    with mpmath.workdps(40):
        reference = _reference_ot_constant([0.3, 0.7], [0, 6], [1, 1], mpmath.mpf(-4), mpmath.mpf(12))
        error = abs(result.value / reference - 1)
    assert error < mpmath.mpf("1e-18")
    assert abs(result.maximiser - mpmath.mpf("2.8418732028")) < mpmath.mpf("1e-9")


def test_ot_zero_weight_far_component_projected():
    # Projected on (1, 1) / sqrt(2), the components of positive weight have means 0 and 6 / sqrt(2).
    means = [[0.0, 0.0], [3.0, 3.0], [1e20, 1e20]]
    target = GaussianMixture([0.3, 0.7, 0.0], means, 1.0)
    result = ot_lipschitz_constant(target, direction=[1, 1], dps=20)
    with mpmath.workdps(40):
        projected = 6 / mpmath.sqrt(2)
        reference = _reference_ot_constant([0.3, 0.7], [0, projected], [1, 1], mpmath.mpf(-4), mpmath.mpf(10))
        error = abs(result.value / reference - 1)
    assert error < mpmath.mpf("1e-18")


def test_ot_negative_weight_raises():
    with pytest.raises(ValueError, match=r"target.weights must be nonnegative, got target.weights\[0\]=-0.5"):
        ot_lipschitz_constant(_ParametersOnly([-0.5, 1.5], [0.0, 1.0], 1.0))


def test_ot_all_zero_weights_raise():
    with pytest.raises(ValueError, match="target.weights must contain a positive weight"):
        ot_lipschitz_constant(_ParametersOnly([0.0, 0.0], [0.0, 1.0], 1.0))


# ---------------------------------------------------------------------------
# ot_lipschitz_constant: cases checked against the reference without a defect.
# ---------------------------------------------------------------------------

def test_ot_tiny_weight_switch_far_in_tail():
    # A component of weight 1e-300 at 3 leads again near y = 233.7, where the ratio peaks above
    # the tail limit 1. The reference searches a window around that switch, (log(1e300) + 4.5) / 3.
    result = ot_lipschitz_constant(GaussianMixture([1.0, "1e-300"], [0.0, 3.0], 1.0), dps=20)
    with mpmath.workdps(40):
        reference = _reference_ot_constant([1, mpmath.mpf("1e-300")], [0, 3], [1, 1],
                                           mpmath.mpf(225), mpmath.mpf(245), points=100)
        error = abs(result.value / reference - 1)
    assert reference > 1
    assert error < mpmath.mpf("1e-18")


def test_ot_equal_means_unequal_sigmas():
    # N(7, 4) and N(7, 9) in equal parts: the ratio peaks about 7.86 from the mean, above the tail limit 3.
    result = ot_lipschitz_constant(GaussianMixture([0.5, 0.5], [7.0, 7.0], [2.0, 3.0]), dps=20)
    with mpmath.workdps(40):
        reference = _reference_ot_constant([0.5, 0.5], [7, 7], [2, 3], mpmath.mpf(-30), mpmath.mpf(7))
        error = abs(result.value / reference - 1)
    assert reference > 3
    assert error < mpmath.mpf("1e-18")


# ---------------------------------------------------------------------------
# vectorized: argument checks of the Theorem 1 functions.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("function", [vectorized.shell_mass_lower_bound, vectorized.extension_mass_lower_bound])
def test_theorem1_arrays_name_bad_entry(function):
    with pytest.raises(ValueError, match=r"r must contain nonnegative finite numbers in \[0, inf\), got r\[1\]=-2.0"):
        function(0.5, [1.0, -2.0], 1.0)
    with pytest.raises(ValueError, match=r"lip must contain positive finite numbers in \(0, inf\), got lip\[0, 1\]=0.0"):
        function(0.5, 1.0, [[1.0, 0.0]])
    with pytest.raises(ValueError, match=r"lip must contain positive finite numbers in \(0, inf\), got lip=inf"):
        function(0.5, 1.0, math.inf)


def test_theorem1_arrays_shape_mismatch():
    with pytest.raises(ValueError, match=r"got p of shape \(3,\), r of shape \(2,\) and lip of shape \(\)"):
        vectorized.shell_mass_lower_bound(np.full(3, 0.5), np.ones(2), 1.0)


def test_shell_mass_against_mpmath():
    # Relative accuracy away from subnormal results. The module notes allow up to 7e-13 in the far tail.
    p = np.array([1e-300, 1e-100, 1e-20, 0.1, 0.5, 0.9, 1 - 1e-10])
    c = np.array([1e-12, 0.3, 2.0, 1e-8, 40.0, 0.5, 1e-3])
    beta = vectorized.shell_mass_lower_bound(p, c, 1.0)
    for i in range(len(p)):
        with mpmath.workdps(60):
            q = mpmath.mpf(float(p[i]))
            x = _lower_quantile(q) if q <= 0.5 else -_lower_quantile(1 - q)
            reference = mpmath.ncdf(x + mpmath.mpf(float(c[i]))) - q
            error = abs(beta[i] / reference - 1)
        assert error < 1e-12, (p[i], c[i])


def test_array_none_entry_raises_type_error():
    # numpy turns None into NaN in a float64 array, which was reported as "x must not contain NaN".
    with pytest.raises(TypeError, match=r"x must be an array of real numbers, got None in x=\[0, None\]"):
        vectorized.Phi([0, None])
