"""Corollary 5 lambdified to float64 keeps the digits of a tiny or near-1 weight."""

import pytest
import sympy

import isobounds
import isobounds.symbolic as sb


@pytest.mark.parametrize("weight", [1e-20, 1e-300, 1 - 1e-16, 0.5, 0.25])
def test_corollary_5_lambdified_weights(weight):
    lam, D, L = sympy.symbols("lambda D L", positive=True)
    function = sympy.lambdify((lam, D, L), sb.formula("tv_lower_bound_disconnected"), "numpy")
    expected = float(isobounds.tv_lower_bound_disconnected(weight, 1, 1))
    assert function(weight, 1.0, 1.0) == pytest.approx(expected, rel=1e-13)


def test_corollary_5_tiny_weight_value():
    # The numeric core and a 1500-digit mpmath evaluation give 9.9183290223461e-21 at lambda = 1e-20, D = L = 1.
    lam, D, L = sympy.symbols("lambda D L", positive=True)
    function = sympy.lambdify((lam, D, L), sb.formula("tv_lower_bound_disconnected"), "numpy")
    assert function(1e-20, 1.0, 1.0) == pytest.approx(9.9183290223461e-21, rel=1e-12)
