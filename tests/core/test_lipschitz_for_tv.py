"""The Lipschitz constant needed to come within a total variation of two Gaussians.

References are written here from the formulas with mpmath's ``ncdf`` and
``erfinv``, at 40 to 400 digits, and share no code with the library. For
Corollary 6 the reference is its closed form solved for ``L``. For the
radius-optimised form it is a golden-section search over ``log r``.
"""

import mpmath
import pytest

import isobounds
from isobounds import lipschitz_lower_bound_for_tv


def _close(value, expected, tolerance):
    assert abs(value - expected) <= tolerance * abs(expected), (mpmath.nstr(value, 40), mpmath.nstr(expected, 40))


def _quantile_above_half(q):
    """x with Phi(x) = 1/2 + q, from erfinv (q < 1/2)."""
    return mpmath.sqrt(2) * mpmath.erfinv(2 * q)


def _target_shell(D, s, r):
    """(1/2) nu-mass of the shell of width r beyond the bisecting hyperplane: (1/2)[Phi((D/2 + r)/s) - Phi((D/2 - r)/s)]."""
    return (mpmath.ncdf((D / 2 + r) / s) - mpmath.ncdf((D / 2 - r) / s)) / 2


def _reference_corollary6(D, s, eps):
    D, s, eps = mpmath.mpf(D), mpmath.mpf(s), mpmath.mpf(eps)
    q = eps + _target_shell(D, s, D / (4 * s))
    return D / (4 * s * _quantile_above_half(q)) if q < 0.5 else mpmath.mpf(0)


def _reference_sharp(D, s, eps, bracket):
    """Golden-section search of r / Phi_inv(1/2 + eps + S(r)) over log r in ``bracket``."""
    D, s, eps = mpmath.mpf(D), mpmath.mpf(s), mpmath.mpf(eps)

    def ratio(t):
        r = mpmath.exp(t)
        q = eps + _target_shell(D, s, r)
        return r / _quantile_above_half(q) if q < 0.5 else mpmath.mpf(0)

    a, b = (mpmath.log(x) for x in bracket)
    golden = (mpmath.sqrt(5) - 1) / 2
    c, d = b - golden * (b - a), a + golden * (b - a)
    for _ in range(300):
        if ratio(c) >= ratio(d):
            b, d = d, c
            c = b - golden * (b - a)
        else:
            a, c = c, d
            d = a + golden * (b - a)
    return ratio((a + b) / 2)


# (D, s, eps): moderate modes, small and large eps, wide and narrow components.
CASES = [(6, 1, "0.1"), (6, 1, "0.01"), (2, 2, "0.05"), (20, 1, "1e-5"), (6, "0.001", "0.3")]


@pytest.mark.parametrize("D, s, eps", CASES)
def test_corollary6_inverse_against_closed_form(D, s, eps):
    with mpmath.workdps(60):
        expected = _reference_corollary6(D, s, eps)
    value = lipschitz_lower_bound_for_tv(0, D, s, eps, dps=30)
    if expected == 0:
        assert value == 0
    else:
        _close(value, expected, mpmath.mpf("1e-29"))


@pytest.mark.parametrize("D, s, eps, bracket", [
    (6, 1, "0.1", (1, 5)),
    (6, 1, "0.01", (0.5, 4)),
    (2, 2, "0.05", (0.05, 3)),
    (20, 1, "1e-5", (5, 9.9)),
    (6, "0.001", "0.3", (2.5, 3.5)),
])
def test_sharp_inverse_against_golden_section(D, s, eps, bracket):
    # Each bracket contains the maximum of the ratio in its interior (a search that ends at a
    # bracket's end would disagree with the library's value).
    with mpmath.workdps(50):
        expected = _reference_sharp(D, s, eps, bracket)
    value = lipschitz_lower_bound_for_tv(0, D, s, eps, sharp=True, dps=30)
    _close(value, expected, mpmath.mpf("1e-28"))


@pytest.mark.parametrize("D, s, eps", CASES)
def test_sharp_never_below_corollary6(D, s, eps):
    # Corollary 6 is the ratio at r = D / (4 s), one term of the supremum.
    assert lipschitz_lower_bound_for_tv(0, D, s, eps, sharp=True) >= lipschitz_lower_bound_for_tv(0, D, s, eps)


@pytest.mark.parametrize("D, s, eps", [(6, 1, "0.1"), (2, 2, "0.05"), (20, 1, "1e-5")])
def test_bounds_at_the_returned_constant_equal_tv(D, s, eps):
    # The returned L is where the TV bound comes down to eps: at L the bound equals eps, and a
    # constant 1e-6 smaller forces a total variation above eps.
    eps = mpmath.mpf(eps)
    closed = lipschitz_lower_bound_for_tv(0, D, s, eps, dps=30)
    _close(isobounds.tv_lower_bound_two_gaussians(0, D, s, closed, clip=False, dps=30), eps, mpmath.mpf("1e-25"))
    assert isobounds.tv_lower_bound_two_gaussians(0, D, s, closed * (1 - mpmath.mpf("1e-6"))) > eps
    sharp = lipschitz_lower_bound_for_tv(0, D, s, eps, sharp=True, dps=30)
    _close(isobounds.maximize_tv_two_gaussians(0, D, s, sharp, dps=30).value, eps, mpmath.mpf("1e-25"))
    assert isobounds.maximize_tv_two_gaussians(0, D, s, sharp * (1 - mpmath.mpf("1e-6"))).value > eps


@pytest.mark.parametrize("D, s", [(6, 1), (100, 1), (2, "0.5"), ("0.002", 1)])
def test_sharp_at_zero_tv_is_corollary2(D, s):
    # eps = 0 is an exact fit: the limit r -> 0 of the ratio is s exp(D^2 / (8 s^2)).
    D, s = mpmath.mpf(D), mpmath.mpf(s)
    with mpmath.workdps(60):
        expected = s * mpmath.exp(D**2 / (8 * s**2))
    _close(lipschitz_lower_bound_for_tv(0, D, s, 0, sharp=True, dps=30), expected, mpmath.mpf("1e-29"))


def test_far_modes_and_tiny_tv():
    # Modes 100 standard deviations apart: b = Phi_c(25) / 2 ~ 1.5e-138 in Corollary 6, far below
    # double precision, and eps = 1e-300 below b. The reference works at 400 digits.
    D, s, eps = 100, 1, mpmath.mpf("1e-300")
    with mpmath.workdps(400):
        expected = _reference_corollary6(D, s, eps)
    _close(lipschitz_lower_bound_for_tv(0, D, s, eps, dps=30), expected, mpmath.mpf("1e-29"))
    # The sharp form at eps = 1e-300 lies between Corollary 6 and the exact-fit value of Corollary 2.
    sharp = lipschitz_lower_bound_for_tv(0, D, s, eps, sharp=True, dps=30)
    assert expected < sharp < mpmath.exp(mpmath.mpf(D) ** 2 / 8)
    _close(isobounds.maximize_tv_two_gaussians(0, D, s, sharp, dps=30).value, eps, mpmath.mpf("1e-25"))


@pytest.mark.parametrize("sharp", [False, True])
def test_large_tv_needs_no_constant(sharp):
    # A generator that fits one mode exactly (L = sigma) is within total variation 1/2 of the
    # mixture, so tv >= 1/2 needs no constant. Equal means give a single Gaussian.
    assert lipschitz_lower_bound_for_tv(-3, 3, 1, "0.5", sharp=sharp) == 0
    assert lipschitz_lower_bound_for_tv(-3, 3, 1, 1, sharp=sharp) == 0
    if not sharp:
        # Corollary 6 is D / (4 s x), so 0 for equal means (the sharp form is tested below).
        assert lipschitz_lower_bound_for_tv(2, 2, 1, "0.1") == 0


@pytest.mark.parametrize("D, s, eps, bracket, dps", [
    # tv near 1/2: the maximum lies at r ~ 2e-5, below s * eps * 1e-3, so a search that starts
    # there returns 0.
    (6, 1, "0.4999999", (1e-6, 1e-4), 50),
    # Tiny tv: the maximum lies at r ~ 2e-8, where the ends 3 -+ r rounded to 20 digits keep only
    # 12 digits of S(r). So a search on such values returns 88.83 instead of 90.0171...
    (6, 1, "1e-25", (1e-9, 1e-6), 60),
    # Nearly equal modes: near r_high, 1/2 - S(r) formed from S(r) has no correct digit, and a
    # search on it settles there with 0.18702 instead of 0.187046.
    ("0.0027450129256673464", "0.18704138961570657", "2.7691232e-24", (1e-7, 1e-4), 60),
    # One Gaussian (m1 = m2): the bound is positive, not 0.
    (0, 1, "0.1", (0.3, 3), 50),
])
def test_sharp_search_finds_the_maximum(D, s, eps, bracket, dps):
    with mpmath.workdps(dps):
        expected = _reference_sharp(D, s, eps, bracket)
    value = lipschitz_lower_bound_for_tv(0, D, s, eps, sharp=True, dps=30)
    _close(value, expected, mpmath.mpf("1e-28"))


def test_sharp_equal_means_at_zero_tv_is_sigma():
    # An exact fit of N(m, s^2) needs a constant of at least s; the ratio is s at every radius.
    with mpmath.workdps(40):
        expected = mpmath.mpf("0.3")
    _close(lipschitz_lower_bound_for_tv([1, 2], [1, 2], "0.3", 0, sharp=True, dps=30), expected, mpmath.mpf("1e-29"))


def test_corollary6_target_shell_within_rounding_of_half():
    # D = 0.05, s = 0.01: b = 1/2 - (1/2)[Phi_c(127.5) + Phi_c(122.5)], within 1e-3000 of 1/2. The
    # difference 1/2 - b formed from b is 0. The reference solves Phi_c(x) = 1/2 - b from the tails.
    D, s = mpmath.mpf("0.05"), mpmath.mpf("0.01")
    with mpmath.workdps(60):
        rest = (mpmath.ncdf(-D * (2 * s + 1) / (4 * s * s)) + mpmath.ncdf(D * (2 * s - 1) / (4 * s * s))) / 2
        x = mpmath.findroot(lambda t: mpmath.log(mpmath.ncdf(-t)) - mpmath.log(rest), 122)
        expected = D / (4 * s * x)
    _close(lipschitz_lower_bound_for_tv(0, D, s, 0, dps=30), expected, mpmath.mpf("1e-29"))


@pytest.mark.parametrize("kwargs, message", [
    ({"tv": -0.1}, r"tv must be a probability in \[0, 1\], got tv=-0.1"),
    ({"tv": 1.5}, r"tv must be a probability in \[0, 1\], got tv=1.5"),
    ({"tv": float("nan")}, r"tv"),
    ({"sigma": 0}, r"sigma must be a positive finite number"),
    ({"sharp": "yes"}, r"sharp"),
])
def test_bad_input_names_the_argument(kwargs, message):
    arguments = {"m1": -3, "m2": 3, "sigma": 1, "tv": 0.1, **kwargs}
    sharp = arguments.pop("sharp", False)
    error = TypeError if "sharp" in kwargs else ValueError
    with pytest.raises(error, match=message):
        lipschitz_lower_bound_for_tv(**arguments, sharp=sharp)
