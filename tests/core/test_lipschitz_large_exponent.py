"""Corollary 2 with a huge exponent D^2 / (8 s^2), against mpmath at 2000 digits.

The references evaluate the formulas of Corollary 2 directly:
``s exp(D^2 / (8 s^2) - Phi^{-1}(lam)^2 / 2)`` with the quantile from
``erfinv``, and the sharp form ``I(nu(H)) / nu^+(dH)`` with ``ncdf``. At
2000 digits an exponent of 1e23 still has more than 1900 correct digits.
"""

import functools

import mpmath
import pytest

from isobounds import lipschitz_lower_bound_two_gaussians

REF_DPS = 2000


def exact(value):
    """The input as mpf at REF_DPS digits (floats are exact binary numbers)."""
    return mpmath.mpf(value)


def ref_quantile(lam):
    return mpmath.sqrt(2) * mpmath.erfinv(2 * lam - 1)


def ref_separation(m1, m2):
    first = m1 if isinstance(m1, (list, tuple)) else [m1]
    second = m2 if isinstance(m2, (list, tuple)) else [m2]
    return mpmath.sqrt(mpmath.fsum((exact(b) - exact(a)) ** 2 for a, b in zip(first, second)))


def ref_closed_form(m1, m2, sigma, lam):
    with mpmath.workdps(REF_DPS):
        D, s, lam = ref_separation(m1, m2), exact(sigma), exact(lam)
        return s * mpmath.exp(D**2 / (8 * s**2) - ref_quantile(lam) ** 2 / 2)


def ref_sharp_form(m1, m2, sigma, lam):
    with mpmath.workdps(REF_DPS):
        D, s, lam = ref_separation(m1, m2), exact(sigma), exact(lam)
        t = D / (2 * s)
        mass = lam * mpmath.ncdf(-t) + (1 - lam) * mpmath.ncdf(t)
        smaller = min(mass, 1 - mass)
        profile = mpmath.npdf(ref_quantile(smaller))
        return profile * s * mpmath.sqrt(2 * mpmath.pi) * mpmath.exp(D**2 / (8 * s**2))


def rel_err(value, reference):
    with mpmath.workdps(REF_DPS):
        return abs(value / reference - 1)


def tolerance(dps):
    return mpmath.mpf(10) ** (1 - dps)


CASES = [
    # (m1, m2, sigma, weight): exponents D^2 / (8 s^2) from 450 to 1.3e23.
    (0, "1e8", "1e-4", "0.3"),
    (0, "123456789", "0.000123", "0.71"),
    ("-3e7", "0", "1.7e-4", "0.5"),
    ([0, "2e6"], ["5e6", 0], "3e-5", "0.05"),
    (0, 1e8, 1e-4, 0.3),
    (-30, 30, 1, "0.2"),
]


@functools.cache
def reference(index, sharp):
    """Reference of CASES[index], computed once for all precisions."""
    form = ref_sharp_form if sharp else ref_closed_form
    return form(*CASES[index])


@pytest.mark.parametrize("dps", [15, 30, 50])
@pytest.mark.parametrize("index", range(len(CASES)))
def test_closed_form_with_huge_exponent(index, dps):
    value = lipschitz_lower_bound_two_gaussians(*CASES[index], dps=dps)
    assert rel_err(value, reference(index, False)) < tolerance(dps)


@pytest.mark.parametrize("dps", [15, 30])
@pytest.mark.parametrize("index", range(len(CASES)))
def test_sharp_form_with_huge_exponent(index, dps):
    value = lipschitz_lower_bound_two_gaussians(*CASES[index], sharp=True, dps=dps)
    assert rel_err(value, reference(index, True)) < tolerance(dps)


def test_reported_case():
    value = lipschitz_lower_bound_two_gaussians(0, "1e8", "1e-4", "0.3", dps=15)
    with mpmath.workdps(REF_DPS):
        mantissa = value / mpmath.mpf(10) ** mpmath.floor(mpmath.log10(value))
    assert abs(mantissa - mpmath.mpf("1.13540283731385")) < mpmath.mpf("1e-13")


def test_moderate_exponent_balanced_case():
    # lam = 1/2: L >= s exp(D^2 / (8 s^2)) = exp(m^2 / 2) for means -m, +m and s = 1.
    value = lipschitz_lower_bound_two_gaussians(-7, 7, 1, dps=40)
    with mpmath.workdps(REF_DPS):
        reference = mpmath.exp(mpmath.mpf(49) / 2)
    assert rel_err(value, reference) < tolerance(40)
