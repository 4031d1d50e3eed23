"""Array arguments given as torch tensors or as integers beyond float64.

A tensor that requires grad made numpy's conversion raise torch's
RuntimeError, and an integer such as 10**400 raised OverflowError without
naming the argument. References are mpmath's normal CDF.
"""

import mpmath
import numpy as np
import pytest
import scipy.stats

import isobounds
from isobounds import EmpiricalMeasure, Interval
from isobounds import vectorized as vz

torch = pytest.importorskip("torch")


def test_tensor_requiring_grad_is_accepted():
    x = torch.tensor([-1.0, 0.5, 3.0], dtype=torch.float64, requires_grad=True)
    got = vz.Phi(x)
    for value, point in zip(got, [-1.0, 0.5, 3.0]):
        assert value == pytest.approx(float(mpmath.ncdf(point)), rel=1e-15)


def test_bfloat16_tensor_is_widened_exactly():
    # 0.5078125 = 65/128 is a bfloat16 number, so the widened value is exact.
    got = vz.Phi(torch.tensor([0.5078125], dtype=torch.bfloat16))
    assert got[0] == pytest.approx(float(mpmath.ncdf(mpmath.mpf(65) / 128)), rel=1e-15)


def test_empirical_measure_from_grad_tensor():
    samples = torch.tensor([-2.0, -0.5, 0.25, 1.0], requires_grad=True)
    measure = EmpiricalMeasure(samples)
    assert measure.mass(Interval(-1.0, 1.0)) == mpmath.mpf(3) / 4


@pytest.mark.parametrize("x", [10**400, [0.0, -(10**400)], np.array([10**400], dtype=object)])
def test_integer_beyond_float64_raises_value_error(x):
    with pytest.raises(ValueError, match=r"x must contain real numbers within the float64 range"):
        vz.Phi(x)


def test_fraction_beyond_float64_message_says_number():
    from fractions import Fraction

    with pytest.raises(ValueError, match="got a number beyond it in x"):
        vz.Phi([Fraction(10**400, 3)])


def test_public_functions_take_tensor_arrays():
    x = torch.tensor([-1.5, 0.25, 2.0], dtype=torch.float64)
    points = [-1.5, 0.25, 2.0]
    phi_values = isobounds.Phi(x)
    for value, point in zip(phi_values, points):
        assert value == pytest.approx(float(mpmath.ncdf(point)), rel=1e-15)
    quantiles = isobounds.Phi_inv(torch.tensor([0.1, 0.9], dtype=torch.float64))
    assert quantiles[0] == pytest.approx(float(-mpmath.sqrt(2) * mpmath.erfinv(mpmath.mpf(0.8))), rel=1e-14)
    target = isobounds.GaussianMixture([0.5, 0.5], [-1.0, 1.0], 1.0)
    for value, point in zip(target.cdf(x), points):
        reference = (mpmath.ncdf(point + 1) + mpmath.ncdf(point - 1)) / 2
        assert value == pytest.approx(float(reference), rel=1e-14)


def test_scalar_tensor_keeps_its_exact_value():
    # float32 0.1 is 0.100000001490116..., and kl_bin receives exactly that number.
    a, b = torch.tensor(0.1), torch.tensor(0.3)
    got = isobounds.kl_bin(a, b, dps=30)
    with mpmath.workdps(50):
        x, y = mpmath.mpf(float(a)), mpmath.mpf(float(b))
        reference = x * mpmath.log(x / y) + (1 - x) * mpmath.log((1 - x) / (1 - y))
        assert abs(got / reference - 1) < mpmath.mpf(10) ** -28


def test_two_gaussian_means_as_tensors():
    # lipschitz_lower_bound_for_tv raised "m1 must be a real number" for 1-D tensors of means.
    m1 = torch.tensor([0.1, -2.0, 0.0], dtype=torch.float32)
    m2 = torch.tensor([1.0, 0.5, 3.0], dtype=torch.float32)
    from_lists = isobounds.lipschitz_lower_bound_for_tv([float(v) for v in m1], [float(v) for v in m2], 1, 0.01)
    assert isobounds.lipschitz_lower_bound_for_tv(m1, m2, 1, 0.01) == from_lists
    assert isobounds.lipschitz_lower_bound_for_tv(m1[0], m2[0], 1, 0.01) == isobounds.lipschitz_lower_bound_for_tv(
        float(m1[0]), float(m2[0]), 1, 0.01)


def test_scipy_law_as_target_names_the_wrapper():
    with pytest.raises(TypeError, match="wrap a scipy.stats law in isobounds.measures.UnivariateDistribution"):
        isobounds.tv_lower_bound(isobounds.HalfSpace([1.0], 0.0), 1.0, 2.0, target=scipy.stats.norm())
