"""Phi and gaussian_mass skip the guard bits of an end whose digits cannot change the value.

Before, every end got about 2 log2|x| guard bits: Corollary 8 with
L = 1e-300 took 19 s, and the shell mass with L = 1e-100000 did not finish
building in 60 s. Speed is measured in benchmarks, so these tests check
the values only.
"""

import mpmath
import pytest
import sympy

import isobounds
import isobounds.symbolic as sb

Q = sympy.Rational


def test_corollary_8_tiny_lipschitz():
    bound = sb.kl_lower_bound_two_gaussians(0, 3, 1, Q("1e-300"), Q("1e-300")).evalf(15)
    expected = isobounds.kl_lower_bound_two_gaussians(0, 3, 1, "1e-300", "1e-300", dps=15)
    assert abs(bound - sympy.Float(str(expected))) < 1e-13


@pytest.mark.parametrize("lip", ["1e-10000", "1e-100000"])
def test_shell_mass_huge_ratio(lip):
    # r / L is far beyond Phi_inv(0.3), so alpha = 1 and beta = 1 - 0.3 to every digit.
    value = sb.shell_mass_lower_bound(Q(3, 10), 1, lip).evalf(15)
    assert value == sympy.Float("0.7", 15)


def test_far_tail_digits_kept():
    # Ends on the same side still need the tail's relative precision.
    with mpmath.workdps(60):
        expected_mass = mpmath.ncdf(-40) - mpmath.ncdf(-40 - mpmath.mpf(10) ** -20)
        expected_tail = mpmath.ncdf(-1000)
    mass = sb.gaussian_mass(40, 40 + Q(1, 10**20)).evalf(30)
    assert abs(mass._to_mpmath(200) / expected_mass - 1) < mpmath.mpf(10) ** -28
    tail = sb.Phi(-1000).evalf(30)
    assert abs(tail._to_mpmath(200) / expected_tail - 1) < mpmath.mpf(10) ** -28
    assert sb.gaussian_mass(40, Q(10) ** 300).evalf(20) == sb.Phi(-40).evalf(20)
    assert abs(sb.Phi(Q(10) ** 300).evalf(30) - 1) < 1e-29
