"""Arguments of Phi beyond 1e154, where mpmath 1.3's ncdf and erfc raise OverflowError.

References are closed forms derived by hand, compared in log space with
mpmath at 1200 digits:

* the Mills-ratio series ``Phi(-x) = phi(x)/x (1 - 1/x^2 + 3/x^4 - ...)``,
  alternating for large x, so truncating after ``3/x^4`` leaves a relative
  error below ``15/x^6``:
  ``log Phi(-x) = -x^2/2 - log x - log(2 pi)/2 + log(1 - 1/x^2 + 3/x^4)``;
* bounds whose tail terms are below ``10**-(10**300)``, which equal simple
  numbers such as ``1 - mass`` to any precision used here.

The bounds are also compared with the numeric core :mod:`isobounds.bounds`.
"""

import mpmath
import pytest
import sympy
from sympy import Rational, S

import isobounds
from isobounds.symbolic import (
    Phi,
    Phi_inv,
    gaussian_mass,
    isoperimetric_profile,
    kl_lower_bound_two_gaussians,
    shell_mass_lower_bound,
    tv_lower_bound_two_gaussians,
)

LOG_DPS = 1200
LOG_BITS = 4000
DIGITS = 30


@pytest.fixture(autouse=True)
def high_mpmath_precision():
    """Run the references at LOG_DPS digits. The library sets its own precision inside."""
    saved = mpmath.mp.prec
    mpmath.mp.dps = LOG_DPS
    yield
    mpmath.mp.prec = saved


def exact_mpf(value):
    """Convert an mpf, an integer, a Rational or a sympy Float to mpf without rounding."""
    if isinstance(value, mpmath.mpf):
        return value
    value = sympy.sympify(value)
    if value.is_Float:
        return mpmath.mpf(value._mpf_)
    with mpmath.workprec(4 * max(value.p.bit_length(), value.q.bit_length()) + LOG_BITS):
        return mpmath.mpf(value.p) / value.q


def log_lower_tail(x):
    """``log Phi(-x)`` from the Mills-ratio series to the ``3/x^4`` term, relative error below ``15/x^6``."""
    x = exact_mpf(x)
    series = 1 - 1 / x**2 + 3 / x**4
    return -x**2 / 2 - mpmath.log(x) - mpmath.log(2 * mpmath.pi) / 2 + mpmath.log(series)


def assert_log_close(value, log_reference, digits=DIGITS - 2):
    """Assert ``|log(value) - log_reference| <= 10**-digits``, a relative error of about ``10**-digits``."""
    value = exact_mpf(value)
    assert value > 0, value
    gap = abs(mpmath.log(value) - log_reference)
    assert gap <= mpmath.mpf(10) ** -digits, mpmath.nstr(gap, 5)


def assert_relative(value, reference, digits=DIGITS - 2):
    value, reference = exact_mpf(value), exact_mpf(reference)
    assert abs(value - reference) <= mpmath.mpf(10) ** -digits * abs(reference), (value, reference)


# ---------------------------------------------------------------------------
# Phi and gaussian_mass in the far lower tail.
# ---------------------------------------------------------------------------

TAIL_ARGUMENTS = [2 * 10**154, 10**155, 10**160, Rational(7, 3) * 10**250, 10**300]
TAIL_IDS = ["2e154", "1e155", "1e160", "7/3e250", "1e300"]


@pytest.mark.parametrize("x", TAIL_ARGUMENTS, ids=TAIL_IDS)
def test_Phi_far_lower_tail_matches_mills_series(x):
    value = Phi(-x).evalf(DIGITS)
    assert_log_close(value, log_lower_tail(x))


@pytest.mark.parametrize("x", [10**149, 10**150], ids=["1e149", "1e150"])
def test_Phi_below_threshold_matches_mills_series(x):
    # Just inside the range where mpmath's ncdf still works, for continuity.
    assert_log_close(Phi(-x).evalf(DIGITS), log_lower_tail(x))


@pytest.mark.parametrize("x", [10**155, 10**200], ids=["1e155", "1e200"])
def test_gaussian_mass_far_tails(x):
    # Phi(-3x) / Phi(-x) is about exp(-4 x^2), so both masses equal Phi(-x) to any precision.
    reference = log_lower_tail(x)
    assert_log_close(gaussian_mass(-3 * x, -x).evalf(DIGITS), reference)
    assert_log_close(gaussian_mass(x, 3 * x).evalf(DIGITS), reference)
    assert_log_close(gaussian_mass(x, sympy.oo).evalf(DIGITS), reference)


def test_Phi_beyond_precision_limit_raises():
    # 2 log10(1e60000) = 120000 guard digits exceed the 100,000 digits of isobounds.gaussian.Phi.
    with pytest.raises(ValueError, match=r"x near -1e60000 needs \d+ significant digits, more than the 100000"):
        Phi(-10**60000).evalf(15)


def test_Phi_far_upper_tail_is_one():
    assert_relative(Phi(10**200).evalf(DIGITS), 1)


def test_Phi_lambdify_mpmath_far_tail():
    x = sympy.Symbol("x", real=True)
    function = sympy.lambdify(x, Phi(x), "mpmath")
    with mpmath.workdps(DIGITS):
        argument = -mpmath.mpf(10) ** 200
        value = function(argument)
    # The reference is taken at the rounded argument that the function received.
    assert_log_close(value, log_lower_tail(-argument))


def test_lambdify_numpy_far_tail():
    x = sympy.Symbol("x", real=True)
    p, r, L = sympy.symbols("p r L", positive=True)
    assert sympy.lambdify(x, Phi(x), "numpy")(-1e200) == 0.0
    assert sympy.lambdify((p, r, L), shell_mass_lower_bound(p, r, L), "numpy")(0.5, 1e200, 1.0) == 0.5


def test_quantile_and_profile_of_far_tail_mass():
    # y = -Phi_inv(2 Phi(-t)) solves log Phi(-y) = log 2 + log Phi(-t). The Mills
    # series gives y^2 = t^2 - 2 log 2 + O(t^-2), so y = t to 30 digits and
    # log I(2 Phi(-t)) = log phi(y) = -t^2/2 + log 2 - log(2 pi)/2 + O(t^-2).
    t = 10**200
    mass = 2 * Phi(-t)
    assert_relative(Phi_inv(mass).evalf(DIGITS), -exact_mpf(t))
    log_profile = -exact_mpf(t) ** 2 / 2 + mpmath.log(2) - mpmath.log(2 * mpmath.pi) / 2
    assert_log_close(isoperimetric_profile(mass).evalf(DIGITS), log_profile)


# ---------------------------------------------------------------------------
# Bounds with r/L or D beyond 1e154.
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("mass", [S.Half, Rational(1, 3), Rational(9, 10)])
@pytest.mark.parametrize(
    "r, lip",
    [(10**154, 1), (10**155, 1), (10**200, 1), (1, Rational(1, 10**200))],
    ids=["r=1e154", "r=1e155", "r=1e200", "lip=1e-200"],
)
def test_shell_mass_huge_ratio(mass, r, lip):
    # beta = Phi(r/L + Phi_inv(mass)) - mass = 1 - mass - Phi(-(r/L + Phi_inv(mass))), and that tail is below 10**-(10**300).
    reference = 1 - exact_mpf(mass)
    assert_relative(shell_mass_lower_bound(mass, r, lip).evalf(DIGITS), reference)
    assert_relative(isobounds.shell_mass_lower_bound(mass, r, lip, dps=DIGITS), reference)


@pytest.mark.parametrize("distance", [10**160, 10**200], ids=["1e160", "1e200"])
def test_tv_two_gaussians_huge_distance(distance):
    # With sigma = L = 1 and r = D/4 the bracket is
    # Phi(D/4) - 1/2 - (Phi(-D/4) - Phi(-3D/4))/2 = 1/2 - (3/2) Phi(-D/4) + Phi(-3D/4)/2,
    # which is 1/2 up to terms below 10**-(10**300).
    expr = tv_lower_bound_two_gaussians(0, distance, 1, 1)
    assert_relative(expr.evalf(DIGITS), S.Half)
    assert_relative(isobounds.tv_lower_bound_two_gaussians(0, distance, 1, 1, dps=DIGITS), S.Half)


@pytest.mark.parametrize("distance", [10**160, 10**200], ids=["1e160", "1e200"])
def test_kl_two_gaussians_huge_distance(distance):
    # a = Phi(D/4) - 1/2 = 1/2 - e and b = (e - Phi(-3D/4))/2 with e = Phi(-D/4). Up to terms
    # of relative size e and Phi(-3D/4)/e, kl(a || b) = -log(e)/2 - log(2)/2, and by the
    # Mills series -log e = D^2/32 + log(D/4) + log(2 pi)/2 + O(D^-2).
    D = exact_mpf(distance)
    reference = (D**2 / 32 + mpmath.log(D / 4) + mpmath.log(2 * mpmath.pi) / 2) / 2 - mpmath.log(2) / 2
    expr = kl_lower_bound_two_gaussians(0, distance, 1, 1, S.Half)
    assert_relative(expr.evalf(DIGITS), reference)
    assert_relative(isobounds.kl_lower_bound_two_gaussians(0, distance, 1, 1, S.Half, dps=DIGITS), reference)
