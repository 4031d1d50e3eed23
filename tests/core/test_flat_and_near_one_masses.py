"""Bounds whose informative digits lie far below 1: set masses within 1e-300 of 1, and a maximum within 1e-19 of 1/2.

References are computed here at 600 digits straight from the definitions,
with the quantile found by Newton steps on Phi, so that ``1 - mass`` keeps
every digit without the library's complement route. The optimal radius
of the two-mode bound comes from a closed form of its first-order condition.
"""

from fractions import Fraction

import mpmath
import pytest

from isobounds import tv_lower_bound
from isobounds.bounds import (
    maximize_tv_over_half_spaces,
    maximize_tv_over_intervals,
    maximize_tv_two_gaussians,
    tv_lower_bound_disconnected,
)
from isobounds.measures import GaussianMixture
from isobounds.sets import HalfSpace, Interval

TINY = Fraction(1, 10**300)


def _Phi(x):
    return mpmath.erfc(-x / mpmath.sqrt(2)) / 2


def _quantile(p):
    """Phi^-1(p) by Newton's method on Phi, started from the leading term of the tail."""
    tail = min(p, 1 - p)
    x = mpmath.sqrt(-2 * mpmath.log(tail)) * (1 if p > 0.5 else -1)
    for _ in range(200):
        step = (_Phi(x) - p) / mpmath.npdf(x)
        x -= step
        if abs(step) < mpmath.mpf(10) ** (-mpmath.mp.dps + 10):
            return x
    raise AssertionError(f"Newton's method did not converge for p={p}")


def _mixture_mass(weights, means, a, b):
    return sum(w * (_Phi(b - m) - _Phi(a - m)) for w, m in zip(weights, means))


def _reference_ray_bound(weights, means, t, r, lip):
    """min over A = (-inf, t] and its complement of beta(nu(S), r / lip) - nu(S_r minus S), at 600 digits."""
    with mpmath.workdps(600):
        weights = [mpmath.mpf(w.numerator) / w.denominator if isinstance(w, Fraction) else mpmath.mpf(w)
                   for w in weights]
        means = [mpmath.mpf(m) for m in means]
        t, r, c = mpmath.mpf(t), mpmath.mpf(r), mpmath.mpf(r) / lip
        below = _mixture_mass(weights, means, -mpmath.inf, t)
        above = _mixture_mass(weights, means, t, mpmath.inf)
        side_a = _Phi(c + _quantile(below)) - below - _mixture_mass(weights, means, t, t + r)
        side_b = _Phi(c + _quantile(above)) - above - _mixture_mass(weights, means, t - r, t)
        return +min(side_a, side_b)


@pytest.mark.parametrize("weights, t, expected_order", [
    ((0.5, 0.5), -137, -483),
    ((TINY, 1 - TINY), 0, -300),
])
def test_complement_side_keeps_its_tiny_remainder(weights, t, expected_order):
    target = GaussianMixture(list(weights), [-100, 100], 1)
    value = tv_lower_bound(HalfSpace([1.0], t), 10, 1, target=target, clip=False)
    expected = _reference_ray_bound(weights, (-100, 100), t, 10, 1)
    assert int(mpmath.floor(mpmath.log10(expected))) == expected_order
    assert value > 0
    assert abs(value - expected) <= abs(expected) * mpmath.mpf(10) ** -25


def test_complement_side_at_more_digits():
    target = GaussianMixture([0.5, 0.5], [-100, 100], 1)
    value = tv_lower_bound(HalfSpace([1.0], -137), 10, 1, target=target, clip=False, dps=60)
    expected = _reference_ray_bound((0.5, 0.5), (-100, 100), -137, 10, 1)
    assert abs(value - expected) <= abs(expected) * mpmath.mpf(10) ** -55


@pytest.mark.parametrize("search", [maximize_tv_over_half_spaces, maximize_tv_over_intervals])
def test_searches_find_a_bound_of_1e_300(search):
    # The light component's weight is the most that any side can show: the model may put
    # everything on the heavy mode except a mass of about 1e-300.
    weights = (TINY, 1 - TINY)
    result = search(1, target=GaussianMixture(list(weights), [-100, 100], 1))
    at_midpoint = _reference_ray_bound(weights, (-100, 100), 0, 10, 1)
    assert at_midpoint > mpmath.mpf("0.99e-300")
    assert result.value >= at_midpoint * (1 - mpmath.mpf(10) ** -6)
    assert result.value <= mpmath.mpf("1.000001e-300")


def test_disconnected_bound_with_a_tiny_piece():
    # Corollary 5: lam = (1e-300, 1 - 1e-300), pieces 100 apart, L = 1: beta(1 - 1e-300, 50) is
    # 1e-300 - Phi_c(Phi_c_inv(1e-300) + 50), so 1e-300 to 16 digits.
    value = tv_lower_bound_disconnected([TINY, 1 - TINY], [[0, 100], [100, 0]], 1)
    assert abs(value - mpmath.mpf(10) ** -300) <= mpmath.mpf(10) ** -315


def _two_gaussian_bracket(r, half_distance, lip):
    """Phi(r / L) - 1/2 - (1/2)(Phi(D/2 + r) - Phi(D/2 - r)) for sigma = 1, written with upper tails."""
    upper = lambda x: mpmath.erfc(x / mpmath.sqrt(2)) / 2  # noqa: E731
    return (mpmath.mpf(1) / 2 - upper(r / lip) - upper(half_distance - r) / 2 + upper(half_distance + r) / 2)


@pytest.mark.parametrize("dps", [None, 50])
def test_two_gaussians_radius_near_one_half(dps):
    # Modes at -100 and 100, L = 10: the derivative vanishes where phi(r / 10) / 10 = phi(100 - r) / 2
    # (phi(100 + r) is below 1e-8000), that is 99 r^2 - 20000 r + 10^6 - 200 log 5 = 0.
    result = maximize_tv_two_gaussians(-100, 100, 1, 10, dps=dps)
    with mpmath.workdps(80):
        r_star = (20000 - mpmath.sqrt(4 * 10**8 - 4 * 99 * (10**6 - 200 * mpmath.log(5)))) / 198
        gap_at_optimum = mpmath.mpf(1) / 2 - _two_gaussian_bracket(r_star, 100, 10)
        gap = mpmath.mpf(1) / 2 - result.value
    assert abs(result.radius - r_star) < 1e-12
    # 1/2 - value is 6.2e-20: the returned value must carry its digits, not those of another radius.
    assert mpmath.mpf("6.2e-20") < gap_at_optimum < mpmath.mpf("6.3e-20")
    assert abs(gap - gap_at_optimum) <= gap_at_optimum * mpmath.mpf(10) ** -8


def test_degenerate_interval_whose_complement_rounds_below_one():
    # The complement of [0, 0] has mass 1, which the mixture's weights 1/6 and 5/6 can round
    # to just below 1 while [0, 0] itself has mass exactly 0. A model-free bound is then 0.
    target = GaussianMixture([1 / 6, 5 / 6], [0.0, 0.0], 1)
    assert tv_lower_bound(Interval(0.0, 0.0), 1.0, 19, target=target) == 0
    assert tv_lower_bound(Interval(0.0, 0.0).complement(), 1.0, 19, target=target) == 0


def test_boundary_atoms_keep_own_quantile():
    # Eight of ten samples sit on the boundary 0, so HalfSpace (-inf, 0] and its closed
    # complement [0, inf) both have mass 0.9. Side A is beta(0.9, r) - nu((0, r]) with the
    # quantile of 0.9, and here it is at most beta(0.9, 1.2816) = Phi(2.5631) - 0.9 = 0.0948.
    from isobounds.measures import EmpiricalMeasure

    target = EmpiricalMeasure([-1.0] + [0.0] * 8 + [5.0])
    value = tv_lower_bound(HalfSpace([1.0], 0.0), 1.2816, 1, target=target, clip=False)
    with mpmath.workdps(40):
        side_a = _Phi(mpmath.mpf("1.2816") + _quantile(mpmath.mpf("0.9"))) - mpmath.mpf("0.9")
    assert value <= side_a
    assert abs(side_a - mpmath.mpf("0.0948")) < mpmath.mpf("1e-4")


def test_settle_deep_cancellation():
    # The light component at 20 puts 1e-300 on [10, inf), and the heavy one's tail there is 7.6e-24.
    # So the bracket loses 277 digits, and settle must recover them at every output precision.
    weights = (TINY, 1 - TINY)
    target = GaussianMixture(list(weights), [20.0, 0.0], 1.0)
    expected = _reference_ray_bound(weights, (20, 0), 10, 3, 1)
    assert mpmath.mpf("0.99e-300") < expected < mpmath.mpf("1.01e-300")
    # The mixture stores the weight 1 - 1e-300 as 1, which moves the bound by 1.8e-39 of itself.
    for dps, digits in ((15, 13), (30, 28), (100, 37)):
        value = tv_lower_bound(HalfSpace([1.0], 10), 3, 1, target=target, clip=False, dps=dps)
        assert abs(value - expected) <= abs(expected) * mpmath.mpf(10) ** -digits
