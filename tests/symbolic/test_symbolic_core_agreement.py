"""``.evalf(50)`` of each symbolic bound agrees with the numeric core at 50 digits.

The two sides share no code: the core evaluates its own mpmath kernels, the
symbolic layer goes through sympy's adaptive ``evalf`` and the kernels of
``isobounds.symbolic``. Extreme cases (masses of 1e-300, 100 standard
deviations between the modes, Lipschitz constants of 1e300) are included.

Arguments close to 1, and pairs of arguments close to each other, are
powers of 2 here. The core rounds its arguments to its working precision
before computing, while sympy keeps ``1 - 10**-40`` exact. For such numbers
the two evaluate slightly different inputs and differ beyond the twentieth
digit.
"""

import mpmath
import pytest
import sympy
from sympy import Rational, S

import isobounds
import isobounds.symbolic as symbolic

DIGITS = 50
TINY = Rational(1, 10**300)

CASES = [
    ("surface_area_lower_bound", (Rational(1, 3), Rational(7, 2)), {}),
    ("surface_area_lower_bound", (TINY, 2), {}),
    ("extension_mass_lower_bound", (Rational(1, 3), S.Half, Rational(7, 2)), {}),
    ("extension_mass_lower_bound", (TINY, 10, 1), {}),
    ("shell_mass_lower_bound", (TINY, S.Half, 1), {}),
    ("shell_mass_lower_bound", (1 - Rational(1, 2**130), 3, 2), {}),
    ("shell_mass_lower_bound", (Rational(9, 10), Rational(1, 4), 7), {}),
    ("lipschitz_lower_bound_two_gaussians", (-5, 5, 1), {}),
    ("lipschitz_lower_bound_two_gaussians", (-50, 50, 1), {}),
    ("lipschitz_lower_bound_two_gaussians", (0, 3, Rational(1, 2), Rational(1, 5)), {}),
    ("lipschitz_lower_bound_two_gaussians", ([0, 1, 2], [3, -1, 5], 2, Rational(9, 10)), {}),
    ("lipschitz_lower_bound_two_gaussians", (-5, 5, 1, Rational(1, 5), True), {}),
    ("lipschitz_lower_bound_two_gaussians", (-50, 50, 1, Rational(1, 5), True), {}),
    ("tv_lower_bound_two_gaussians", (0, 20, 1, 100), {}),
    ("tv_lower_bound_two_gaussians", (-5, 5, 1, 3), {}),
    ("tv_lower_bound_two_gaussians", (0, 200, 1, 10), {}),
    ("tv_lower_bound_two_gaussians", ([0, 0], [3, 4], Rational(1, 3), 1), {}),
    ("tv_lower_bound_disconnected", (Rational(1, 3), 4, 3), {}),
    ("tv_lower_bound_disconnected", (S.Half, 4, 10**300), {}),
    ("tv_lower_bound_disconnected", ([Rational(1, 4), Rational(3, 4)], [[0, 3], [3, 0]], 10**300), {}),
    ("shell_mass_lower_bound", (S.Half, 1, 10**300), {}),
    ("shell_mass_lower_bound", (Rational(1, 3), 1, 10**300), {}),
    ("tv_lower_bound_two_gaussians", (0, 100, 1, 10**300), {}),
    ("tv_lower_bound_two_gaussians", (0, 200, 1, 10**300), {}),
    ("tv_lower_bound_disconnected", ([Rational(1, 5), Rational(3, 10), S.Half], [[0, 2, 7], [2, 0, 3], [7, 3, 0]], 2), {}),
    ("kl_lower_bound_two_gaussians", (0, 10, 1, 3, Rational(2, 5)), {}),
    ("kl_lower_bound_two_gaussians", (0, 12, 2, 2, Rational(7, 10)), {}),
    ("kl_lower_bound_two_gaussians", (0, 80, 1, 2, S.Half), {}),
    ("kl_lower_bound_two_gaussians", (-1, 1, 1, 1000, S.Half), {}),
    ("kl_bin", (Rational(1, 3), Rational(1, 7)), {}),
    ("kl_bin", (Rational(1, 4), Rational(3, 8)), {}),
    # Definition at 300 digits: 1.6594707407629711219050837476723725235516298042560e-60.
    ("kl_bin", (Rational(1, 4), Rational(1, 4) + Rational(1, 2**100)), {}),
]


@pytest.mark.parametrize("name, args, evalf_options", CASES)
def test_evalf_agrees_with_core(name, args, evalf_options):
    expr = getattr(symbolic, name)(*args)
    value = sympy.Float(expr.evalf(DIGITS, **evalf_options), DIGITS + 10)
    core = getattr(isobounds, name)(*args, dps=DIGITS)
    with mpmath.workdps(DIGITS + 10):
        difference = abs(mpmath.mpf(value) - core)
        assert difference <= mpmath.mpf(10) ** (2 - DIGITS) * abs(core), (value, core)
