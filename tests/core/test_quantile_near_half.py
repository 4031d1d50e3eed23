"""Quantiles near p = 1/2 against mpmath at 250 digits.

The reference is ``sqrt(2) erfinv(2p - 1)``, with ``2p - 1`` formed exactly
from the decimal string at 250 digits. A second route, ``findroot`` on
``ncdf``, cross-checks it. The library uses neither at the working precision.
"""

import functools

import mpmath
import pytest

import isobounds
from isobounds import Phi_c_inv, Phi_inv, gaussian

REF_DPS = 250
KS = range(1, 61)


def half_minus(k):
    """Decimal string of exactly 1/2 - 10^-k."""
    return "0.4" + "9" * (k - 1)


def half_plus(k):
    """Decimal string of exactly 1/2 + 10^-k."""
    return "0.6" if k == 1 else "0.5" + "0" * (k - 2) + "1"


@functools.cache
def ref_quantile(p):
    """Phi^{-1}(p) at REF_DPS digits, from the exact decimal p.

    ``erfinv(2p - 1)`` for moderate p; for a tiny p, where ``2p - 1`` rounds
    to -1, the root of ``log(erfc(-x / sqrt(2)) / 2) = log p``.
    """
    with mpmath.workdps(REF_DPS):
        p = mpmath.mpf(p)
        if p > mpmath.mpf("1e-20"):
            return mpmath.sqrt(2) * mpmath.erfinv(2 * p - 1)
        log_p = mpmath.log(p)
        start = -mpmath.sqrt(-2 * log_p)
        return mpmath.findroot(lambda x: mpmath.log(mpmath.erfc(-x / mpmath.sqrt(2)) / 2) - log_p, start)


def ref_upper_quantile(q):
    """Phi_c^{-1}(q) = -Phi^{-1}(q), negated at REF_DPS digits."""
    with mpmath.workdps(REF_DPS):
        return -ref_quantile(q)


def ref_quantile_findroot(p):
    """Second route: solve ncdf(x) = p at REF_DPS digits."""
    with mpmath.workdps(REF_DPS):
        p = mpmath.mpf(p)
        return mpmath.findroot(lambda x: mpmath.ncdf(x) - p, mpmath.sqrt(2 * mpmath.pi) * (p - mpmath.mpf(0.5)))


def rel_err(value, reference):
    with mpmath.workdps(REF_DPS):
        return abs(value / reference - 1)


def tolerance(dps):
    """A few units in the last of ``dps`` digits."""
    return mpmath.mpf(10) ** (1 - dps)


@pytest.fixture(params=["flint", "newton"])
def backend(request, monkeypatch):
    if request.param == "flint":
        pytest.importorskip("flint")
    else:
        monkeypatch.setattr(gaussian, "flint", None)
    return request.param


def test_reference_routes_agree():
    for k in (1, 7, 30, 60):
        for p in (half_minus(k), half_plus(k)):
            assert rel_err(ref_quantile_findroot(p), ref_quantile(p)) < mpmath.mpf(10) ** (-REF_DPS + 70)


@pytest.mark.parametrize("dps", [15, 30, 50])
def test_Phi_inv_near_one_half(backend, dps):
    for k in KS:
        for p in (half_minus(k), half_plus(k)):
            value = Phi_inv(p, dps=dps)
            assert rel_err(value, ref_quantile(p)) < tolerance(dps), (p, dps, value)


@pytest.mark.parametrize("dps", [15, 30, 50])
def test_Phi_c_inv_near_one_half(backend, dps):
    # Phi_c_inv(q) = -Phi^{-1}(q).
    for k in KS:
        for q in (half_minus(k), half_plus(k)):
            value = Phi_c_inv(q, dps=dps)
            assert rel_err(value, ref_upper_quantile(q)) < tolerance(dps), (q, dps, value)


def test_reported_cases(backend):
    with mpmath.workdps(REF_DPS):
        first = -mpmath.sqrt(2 * mpmath.pi) * mpmath.mpf("1e-28")
        second = -mpmath.sqrt(2 * mpmath.pi) * mpmath.mpf("1e-35")
    assert rel_err(Phi_inv("0.4999999999999999999999999999", dps=15), first) < tolerance(15)
    assert rel_err(Phi_inv("0.49999999999999999999999999999999999", dps=30), second) < tolerance(30)


def test_odd_symmetry_is_exact(backend):
    for k in (3, 20, 45):
        with mpmath.workdps(REF_DPS):
            assert Phi_inv(half_plus(k), dps=30) + Phi_inv(half_minus(k), dps=30) == 0


def test_below_double_range(backend):
    # 1/2 - 10^-400: the distance to 1/2 is below the smallest double.
    # Phi^{-1}(1/2 - d) = -sqrt(2 pi) d (1 + O(d^2)).
    with mpmath.workdps(REF_DPS):
        reference = -mpmath.sqrt(2 * mpmath.pi) * mpmath.mpf(10) ** -400
    assert rel_err(Phi_inv(half_minus(400), dps=30), reference) < tolerance(30)


def test_mpf_input_keeps_extra_bits(backend):
    # An mpf input keeps all its bits: p = 1/2 - 2^-200 (201 bits) at 30 digits.
    with mpmath.workprec(400):
        p = mpmath.mpf(0.5) - mpmath.mpf(2) ** -200
    with mpmath.workdps(REF_DPS):
        reference = -mpmath.sqrt(2 * mpmath.pi) * mpmath.mpf(2) ** -200
    assert rel_err(Phi_inv(p, dps=30), reference) < tolerance(30)


@pytest.mark.parametrize("p", ["0.25", "0.2499999999", "0.2500000001", "0.75", "0.7500000001", "0.2", "0.9", "1e-300"])
def test_both_sides_of_the_central_range(backend, p):
    for dps in (15, 50):
        assert rel_err(Phi_inv(p, dps=dps), ref_quantile(p)) < tolerance(dps)


def test_flint_fast_path_is_used(monkeypatch):
    pytest.importorskip("flint")
    calls = []
    original = gaussian._arb_scaled_inverse

    def spy(value, method):
        result = original(value, method)
        calls.append((method, result is not None))
        return result

    monkeypatch.setattr(gaussian, "_arb_scaled_inverse", spy)
    with isobounds.precision(30):
        tail = Phi_inv("1e-300")
        central = Phi_inv("0.3")
    assert calls == [("erfcinv", True), ("erfinv", True)]
    assert rel_err(tail, ref_quantile("1e-300")) < tolerance(30)
    assert rel_err(central, ref_quantile("0.3")) < tolerance(30)
