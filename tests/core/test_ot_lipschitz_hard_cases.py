"""ot_lipschitz_constant on targets whose maximum is hard to find, against independent references.

The references are closed forms or a dense mpmath grid refined by
golden-section search, written here with mpmath's ``ncdf``, ``npdf`` and
``erfinv`` and none of the isobounds kernels.
"""

import warnings

import mpmath
import numpy as np
import pytest

import isobounds

from isobounds.bounds import ot_lipschitz_constant
from isobounds.measures import GaussianMixture

REFERENCE_DPS = 50


def reference_ratio(weights, means, sigmas):
    """Return y -> I(F(y)) / p(y) for a univariate Gaussian mixture, with I(q) = phi(Phi^{-1}(q))."""
    weights = [mpmath.mpf(w) for w in weights]
    means = [mpmath.mpf(m) for m in means]
    sigmas = [mpmath.mpf(s) for s in sigmas]

    def ratio(y):
        pdf = mpmath.fsum(w * mpmath.npdf(y, m, s) for w, m, s in zip(weights, means, sigmas))
        cdf = mpmath.fsum(w * mpmath.ncdf((y - m) / s) for w, m, s in zip(weights, means, sigmas))
        sf = mpmath.fsum(w * mpmath.ncdf((m - y) / s) for w, m, s in zip(weights, means, sigmas))
        quantile = mpmath.sqrt(2) * mpmath.erfinv(2 * min(cdf, sf) - 1)
        return mpmath.npdf(quantile) / pdf

    return ratio


def reference_supremum(weights, means, sigmas, low, high, points=400, iterations=160):
    """Maximum of the ratio over [low, high]: the best point of a uniform grid, then golden-section search around it."""
    with mpmath.workdps(REFERENCE_DPS):
        ratio = reference_ratio(weights, means, sigmas)
        low, high = mpmath.mpf(low), mpmath.mpf(high)
        grid = [low + (high - low) * k / points for k in range(points + 1)]
        best = max(range(points + 1), key=lambda k: ratio(grid[k]))
        a, b = grid[max(best - 1, 0)], grid[min(best + 1, points)]

        golden = (mpmath.sqrt(5) - 1) / 2
        c, d = b - golden * (b - a), a + golden * (b - a)
        fc, fd = ratio(c), ratio(d)
        for _ in range(iterations):
            if fc > fd:
                b, d, fd = d, c, fc
                c = b - golden * (b - a)
                fc = ratio(c)
            else:
                a, c, fc = c, d, fd
                d = a + golden * (b - a)
                fd = ratio(d)
        return ratio((a + b) / 2)


def relative_error(value, expected):
    with mpmath.workdps(REFERENCE_DPS):
        return abs(mpmath.mpf(value) / expected - 1)


@pytest.mark.parametrize("delta", ["1e-7", "5e-8", "2e-8"])
def test_split_component_keeps_central_peak(delta):
    # (1/2)[N(-5, 1) + N(5, 1)] with the left component split into two halves
    # at -5 and -5 + delta: the constant stays near exp(25 / 2) = 268337.
    weights, sigmas = ["0.25", "0.25", "0.5"], [1, 1, 1]
    with mpmath.workdps(REFERENCE_DPS):
        means = [mpmath.mpf(-5), mpmath.mpf(-5) + mpmath.mpf(delta), mpmath.mpf(5)]
    result = ot_lipschitz_constant(GaussianMixture(weights, means, 1), dps=30)
    expected = reference_supremum(weights, means, sigmas, -8, 8)

    assert expected > 268000
    assert relative_error(result.value, expected) < mpmath.mpf("1e-25")
    assert abs(result.maximiser) < 1e-3


@pytest.mark.parametrize("delta", ["1e-7", "1e-10"])
def test_split_component_three_modes(delta):
    # 0.3 N(0, 1) + 0.3 N(delta, 1) + 0.4 N(3, 1): the peak lies between the modes, near y = 1.67.
    weights, sigmas = ["0.3", "0.3", "0.4"], [1, 1, 1]
    with mpmath.workdps(REFERENCE_DPS):
        means = [mpmath.mpf(0), mpmath.mpf(delta), mpmath.mpf(3)]
    result = ot_lipschitz_constant(GaussianMixture(weights, means, sigmas), dps=30)
    expected = reference_supremum(weights, means, sigmas, -6, 9)

    assert expected > 3
    assert relative_error(result.value, expected) < mpmath.mpf("1e-25")


@pytest.mark.parametrize("delta", ["1e-4", "2e-4", "1e-6"])
def test_close_equal_components_closed_form(delta):
    # Two unit components delta apart with equal weights: the ratio peaks at the
    # midpoint, where F = 1/2, I = 1/sqrt(2 pi) and p = phi(delta / 2), so the
    # constant is exp(delta^2 / 8).
    result = ot_lipschitz_constant(GaussianMixture([0.5, 0.5], [0, delta], 1), dps=30)
    with mpmath.workdps(REFERENCE_DPS):
        expected = mpmath.exp(mpmath.mpf(delta) ** 2 / 8)
        excess = result.value / expected - 1

    # The ratio is flat to about delta^4 around the midpoint, where the search
    # also evaluates it, so the value is the maximum rounded to 30 digits
    # (it can round up by half a unit in the last digit).
    assert relative_error(result.value, expected) < mpmath.mpf("1e-29")
    assert excess <= mpmath.mpf("1e-30")


@pytest.mark.parametrize("dps", [30, 80])
@pytest.mark.parametrize("m", [5, 20])
def test_symmetric_mixture_closed_form(m, dps):
    # (1/2)[N(-m, 1) + N(m, 1)] peaks at y = 0 by symmetry, where F = 1/2, so
    # the constant is I(1/2) / p(0) = exp(m^2 / 2).
    result = ot_lipschitz_constant(GaussianMixture([0.5, 0.5], [-m, m], 1), dps=dps)
    with mpmath.workdps(dps + 20):
        expected = mpmath.exp(mpmath.mpf(m) ** 2 / 2)
        error = abs(result.value / expected - 1)

    assert error < mpmath.mpf(10) ** (2 - dps)


@pytest.mark.parametrize("offset", ["1e12", "1e18", "1e40"])
def test_symmetric_mixture_far_from_origin(offset):
    # The constant does not change under translation, so (1/2)[N(c - 5, 1) + N(c + 5, 1)]
    # keeps the closed form exp(25 / 2) and the maximiser c. Before the search centred the
    # means, float64 saw one mode from c = 1e18 on and returned the tail limit 1.
    with isobounds.precision(60):
        center = mpmath.mpf(offset)
        target = GaussianMixture([0.5, 0.5], [center - 5, center + 5], 1)
    result = ot_lipschitz_constant(target, dps=30)
    with mpmath.workdps(60):
        expected = mpmath.exp(mpmath.mpf(25) / 2)
        error = abs(result.value / expected - 1)
        shift = result.maximiser - center

    assert error < mpmath.mpf("1e-28")
    assert abs(shift) < mpmath.mpf("1e-10")


def test_projected_mixture_far_from_origin():
    # Means (1e12 - 3, 2e12) and (1e12 + 3, 2e12 + 4) project on (3, 4) / 5 to
    # 2.2e12 - 1.8 and 2.2e12 + 5, 6.8 apart, so equal weights give
    # exp(3.4^2 / 2) = exp(5.78) at their midpoint 2.2e12 + 1.6.
    target = GaussianMixture([0.5, 0.5], [[1e12 - 3, 2e12], [1e12 + 3, 2e12 + 4]], 1)
    result = ot_lipschitz_constant(target, direction=[3, 4], dps=30)
    with mpmath.workdps(60):
        expected = mpmath.exp(mpmath.mpf("3.4") ** 2 / 2)
        error = abs(result.value / expected - 1)
        midpoint = mpmath.mpf("2.2e12") + mpmath.mpf("1.6")

    assert error < mpmath.mpf("1e-28")
    assert abs(result.maximiser - midpoint) < mpmath.mpf("1e-6")


@pytest.mark.parametrize("target", ["normal", None, 3.0])
def test_non_distribution_target_raises_type_error(target):
    with pytest.raises(TypeError, match="target must be a distribution"):
        ot_lipschitz_constant(target)


def test_generic_search_skips_subnormal_tails():
    # rho = N(0, s^2) through a linear map: the transport map is z -> s z, of constant s.
    # The search range reaches 38 standard deviations, where F is subnormal and the float64
    # ratio I(F)/p came out as 2 s.
    from isobounds.pushforward import PiecewiseLinearMap

    s = 0.03125
    g = PiecewiseLinearMap([0.0], [0.0], s, s)
    found = ot_lipschitz_constant(g.pushforward(), bounds=(-1.25, 1.25))
    assert found.value <= s * (1 + 1e-9)
    assert found.value >= s * (1 - 1e-9)


def test_generic_search_rejects_range_beyond_float64_tails():
    import scipy.stats

    from isobounds.measures import UnivariateDistribution

    target = UnivariateDistribution(scipy.stats.norm(0, 1))
    with pytest.raises(ValueError, match="tail mass is below"):
        ot_lipschitz_constant(target, bounds=(40.0, 50.0))


@pytest.mark.parametrize("separation", ["1e8", "1e10", "1e14", "1e300"])
def test_ot_constant_modes_far_apart_in_standard_deviations(separation):
    # Two equal components at +-m with m / s = separation: the constant is
    # s exp(m^2 / (2 s^2)) at y = 0, with exponents up to 5e599. The reference
    # carries 60 digits beyond those of the exponent. float64 can neither resolve
    # the peak (width about s^2 / m) nor, at 1e300, square m / s.
    m = mpmath.sqrt(mpmath.mpf(separation)) * mpmath.mpf(2) ** -10
    s = m / mpmath.mpf(separation)
    m, s = float(m), float(s)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = ot_lipschitz_constant(GaussianMixture([0.5, 0.5], [-m, m], s))
    with mpmath.workdps(60 + 2 * int(mpmath.log10(mpmath.mpf(separation)))):
        reference = mpmath.mpf(s) * mpmath.exp(mpmath.mpf(m) ** 2 / (2 * mpmath.mpf(s) ** 2))
        assert abs(result.value / reference - 1) < mpmath.mpf("1e-29")
    assert abs(result.maximiser) < s



def _independent_ratio(weights, means, sigmas, y):
    """I(F(y)) / p(y) from the mixture's parameters, with F taken on the side of the smaller tail."""
    cdf = mpmath.fsum(w * mpmath.ncdf((y - m) / s) for w, m, s in zip(weights, means, sigmas))
    sf = mpmath.fsum(w * mpmath.ncdf((m - y) / s) for w, m, s in zip(weights, means, sigmas))
    density = mpmath.fsum(w * mpmath.npdf((y - m) / s) / s for w, m, s in zip(weights, means, sigmas))
    x = mpmath.findroot(lambda t: mpmath.ncdf(t) - min(cdf, sf), 0)
    return mpmath.npdf(x) / density


def _switch_reference(weights, means, sigmas):
    """Largest ratio near the crossing of the two weighted log-densities between the means, by golden section."""
    level = [mpmath.log(w / s) for w, s in zip(weights, sigmas)]
    curvature = [1 / (2 * s * s) for s in sigmas]
    a = curvature[1] - curvature[0]
    b = 2 * (curvature[0] * means[0] - curvature[1] * means[1])
    c = level[0] - level[1] - curvature[0] * means[0] ** 2 + curvature[1] * means[1] ** 2
    roots = [(-b + sign * mpmath.sqrt(b * b - 4 * a * c)) / (2 * a) for sign in (-1, 1)] if a else [-c / b]
    switch = min(roots, key=lambda y: abs(y - (means[0] + means[1]) / 2))
    width = 60 / abs(2 * a * switch + b)
    low, high = switch - width, switch + width
    golden = (mpmath.sqrt(5) - 1) / 2
    for _ in range(400):
        left, right = high - golden * (high - low), low + golden * (high - low)
        if _independent_ratio(weights, means, sigmas, left) > _independent_ratio(weights, means, sigmas, right):
            high = right
        else:
            low = left
    return switch, _independent_ratio(weights, means, sigmas, (low + high) / 2)


@pytest.mark.parametrize("means, sigmas", [
    # Unequal sigmas 2e100 apart: the second crossing of the two log-densities lies
    # about 1e100 standard deviations out, beyond every tail the search considers.
    (["0", "2e100"], ["1", "2"]),
    # Sigmas equal to 24 digits: the quadratic's leading coefficient is about 1e-24,
    # and the textbook root formula cancels.
    (["0", "1e8"], ["1", "1.000000000000000000000001"]),
])
def test_ot_constant_far_switches_of_unequal_sigmas(means, sigmas):
    # Built with 80 digits: the exponents reach 2e200, so the rounding of "2e100" to
    # the default 40 construction digits alone would change the constant's 24th digit.
    with isobounds.precision(80):
        target = GaussianMixture(["0.5", "0.5"], means, sigmas)
    result = ot_lipschitz_constant(target, dps=30)
    with mpmath.workdps(80 + 2 * int(mpmath.log10(mpmath.mpf(means[1])))):
        parameters = ([mpmath.mpf("0.5")] * 2, [mpmath.mpf(m) for m in means], [mpmath.mpf(s) for s in sigmas])
        switch, reference = _switch_reference(*parameters)
        assert abs(result.value / reference - 1) < mpmath.mpf("1e-28")
        assert abs(result.maximiser / switch - 1) < mpmath.mpf("1e-20")


class _ParametersOnly:
    """A target given only by weights, means and sigmas, as the docstring allows."""

    def __init__(self, weights, means, sigmas):
        self.weights, self.means, self.sigmas = weights, means, sigmas


def test_parameters_only_target_off_centre():
    # Equal unit components 2 apart: exp(1^2 / 2) at their midpoint 1, with a scalar sigma.
    result = ot_lipschitz_constant(_ParametersOnly([0.5, 0.5], [0, 2], 1.0), dps=30)
    with mpmath.workdps(60):
        error = abs(result.value / mpmath.exp(mpmath.mpf(1) / 2) - 1)
    assert error < mpmath.mpf("1e-28")
    assert abs(result.maximiser - 1) < mpmath.mpf("1e-10")


@pytest.mark.parametrize("weights", [np.array([0.1, 0.2, 0.7], dtype=np.float32), [0.3, 0.7000001, 0.0]])
def test_parameters_only_weights_taken_as_given(weights):
    # Weights off 1 by float32 rounding or by 1e-7 are used as given, as for centred means,
    # where no translation takes place. The two placements must agree.
    means = np.array([-3.0, 0.0, 4.0])
    centred = ot_lipschitz_constant(_ParametersOnly(weights, means - 0.5, [1.0, 1.0, 1.0]), dps=20)
    shifted = ot_lipschitz_constant(_ParametersOnly(weights, means + 1000.0, [1.0, 1.0, 1.0]), dps=20)
    assert relative_error(shifted.value, centred.value) < mpmath.mpf("1e-18")
