"""Corollary 8 lambdified to float64 where the slab mass underflows: the kl kernel forms the masses in mpmath."""

import mpmath
import numpy as np
import pytest
import sympy

import isobounds
import isobounds.symbolic as sb

SYMBOLS = sympy.symbols("D sigma L lambda", positive=True)


@pytest.mark.parametrize("modules", ["numpy", "mpmath", None])
@pytest.mark.parametrize("distance", [10.0, 100.0, 160.0, 300.0])
def test_corollary_8_lambdified_matches_numeric(modules, distance):
    # For sigma = 1 and L = 10 the slab mass underflows float64 from D = 154 on
    # (1.8e-350 at D = 160); the numeric core is a separate mpmath implementation.
    arguments = {} if modules is None else {"modules": modules}
    function = sympy.lambdify(SYMBOLS, sb.formula("kl_lower_bound_two_gaussians"), **arguments)
    value = float(function(distance, 1.0, 10.0, 0.5))
    expected = float(isobounds.kl_lower_bound_two_gaussians(0, distance, 1, 10, 0.5))
    assert np.isfinite(value)
    assert value == pytest.approx(expected, rel=1e-13)


def test_corollary_8_at_160_is_402():
    function = sympy.lambdify(SYMBOLS, sb.formula("kl_lower_bound_two_gaussians"), "numpy")
    assert function(160.0, 1.0, 10.0, 0.5) == pytest.approx(401.932142517223, rel=1e-13)


def test_corollary_8_numpy_array_input():
    function = sympy.lambdify(SYMBOLS, sb.formula("kl_lower_bound_two_gaussians"), "numpy")
    distances = np.array([100.0, 160.0, 300.0])
    values = function(distances, 1.0, 10.0, 0.5)
    expected = [float(isobounds.kl_lower_bound_two_gaussians(0, d, 1, 10, 0.5)) for d in distances]
    np.testing.assert_allclose(values, expected, rtol=1e-13)


def test_kl_bin_of_mass_matches_mpmath():
    # kl(1/2 || m/2) for the mass m of [-40, -39], about 3.7e-334, which is 0 in float64.
    a, x = sympy.symbols("a x", real=True)
    function = sympy.lambdify((a, x), sb.kl_bin(a, sb.gaussian_mass(x, x + 1) / 2), "numpy")
    with mpmath.workdps(50):
        mass = (mpmath.ncdf(-39) - mpmath.ncdf(-40)) / 2
        half = mpmath.mpf(1) / 2
        expected = half * mpmath.log(half / mass) + half * mpmath.log(half / (1 - mass))
    assert function(0.5, -40.0) == pytest.approx(float(expected), rel=1e-13)
