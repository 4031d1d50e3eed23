"""Gaussian layer against independent computations.

References are computed with mpmath at 80 digits through routes the library
does not use: ``mpmath.ncdf``, ``erfinv`` where it is well conditioned,
``findroot`` on ``erfc`` and quadrature with break points.
"""

import fractions

import mpmath
import numpy as np
import pytest
import scipy.special as sc
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import isobounds
from isobounds import Phi, Phi_c, Phi_c_inv, Phi_inv, gaussian_mass, isoperimetric_profile, log_Phi, phi


def ref(f, dps=80):
    with mpmath.workdps(dps):
        return f()


def rel_err(value, reference):
    with mpmath.workdps(80):
        if reference == 0:
            return abs(value)
        return abs((value - reference) / reference)


# Tolerance of "a few units in the last place" at 30 digits.
ULPS_30 = mpmath.mpf("1e-29")


def ref_Phi(x):
    return ref(lambda: mpmath.erfc(-mpmath.mpf(x) / mpmath.sqrt(2)) / 2)


def ref_quantile(p):
    """Solve Phi(x) = p with findroot on the lower tail at 80 digits."""
    def solve():
        p_mp = mpmath.mpf(p)
        start = float(sc.ndtri_exp(float(mpmath.log(p_mp))))
        return mpmath.findroot(lambda x: mpmath.log(mpmath.erfc(-x / mpmath.sqrt(2)) / 2) - mpmath.log(p_mp), start)
    return ref(solve)


@pytest.mark.parametrize("x", ["-40", "-38.5", "-5", "-0.1", "0", "0.3", "2", "8", "37"])
def test_Phi_matches_ncdf(x):
    reference = ref(lambda: mpmath.ncdf(mpmath.mpf(x)))
    assert rel_err(Phi(x), reference) < ULPS_30


def test_Phi_deep_lower_tail():
    # mpmath.ncdf(-40) at 80 digits is 3.6558935409150297037...e-350
    value = Phi(-40)
    assert value > 0
    assert rel_err(value, ref(lambda: mpmath.ncdf(-40))) < ULPS_30


@pytest.mark.parametrize("x", ["-3", "0", "5", "40", "1e3"])
def test_Phi_c_is_upper_tail(x):
    reference = ref(lambda: mpmath.ncdf(-mpmath.mpf(x)))
    assert rel_err(Phi_c(x), reference) < ULPS_30


@pytest.mark.parametrize("x", ["-1e5", "-40", "-1", "0", "3", "40"])
def test_log_Phi(x):
    reference = ref(lambda: mpmath.log(mpmath.ncdf(mpmath.mpf(x))))
    assert rel_err(log_Phi(x), reference) < ULPS_30


@pytest.mark.parametrize("x", ["-50", "-1", "0", "2.5", "30"])
def test_phi(x):
    reference = ref(lambda: mpmath.npdf(mpmath.mpf(x)))
    assert rel_err(phi(x), reference) < ULPS_30


@pytest.mark.parametrize("p", ["1e-300", "1e-100", "1e-20", "0.001", "0.25", "0.4999", "0.5001", "0.9", "0.999999"])
def test_Phi_inv_against_root_finding(p):
    value = Phi_inv(p)
    assert rel_err(value, ref_quantile(p)) < ULPS_30


@pytest.mark.parametrize("p", ["0.1", "0.3", "0.7", "0.95"])
def test_Phi_inv_against_erfinv(p):
    # Away from the tails sqrt(2) erfinv(2p - 1) is well conditioned at 80 digits.
    reference = ref(lambda: mpmath.sqrt(2) * mpmath.erfinv(2 * mpmath.mpf(p) - 1))
    assert rel_err(Phi_inv(p), reference) < ULPS_30


def test_Phi_c_inv_tiny_tail_from_q():
    value = Phi_c_inv("1e-300")
    assert rel_err(value, ref(lambda: -ref_quantile("1e-300"))) < ULPS_30
    assert 37 < value < 37.1


def test_Phi_inv_extremes():
    assert Phi_inv(0) == -mpmath.inf
    assert Phi_inv(1) == mpmath.inf
    assert Phi_inv("0.5") == 0
    # log p = -230258.5...; the root lies near -678.6
    value = Phi_inv("1e-100000")
    with mpmath.workdps(60):
        residual = isobounds.log_Phi(value, dps=60) - mpmath.log(mpmath.mpf("1e-100000"))
    assert abs(residual) < mpmath.mpf("1e-20")


def test_Phi_inv_round_trip_at_high_precision():
    with isobounds.precision(100):
        p = mpmath.mpf(1) / 7
        x = Phi_inv(p)
        assert abs(Phi(x) - p) < mpmath.mpf("1e-98")


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=1e-308, max_value=1 - 1e-16))
def test_Phi_inv_inverts_Phi(p):
    x = Phi_inv(p)
    assert rel_err(Phi(x), mpmath.mpf(p)) < mpmath.mpf("1e-27")


@pytest.mark.parametrize("p", ["1e-300", "0.01", "0.5", "0.77"])
def test_isoperimetric_profile(p):
    reference = ref(lambda: mpmath.npdf(ref_quantile(p)))
    assert rel_err(isoperimetric_profile(p), reference) < ULPS_30


def test_isoperimetric_profile_symmetric_and_maximal():
    assert isoperimetric_profile(0) == 0
    assert isoperimetric_profile(1) == 0
    half = isoperimetric_profile("0.5")
    assert rel_err(half, ref(lambda: 1 / mpmath.sqrt(2 * mpmath.pi))) < ULPS_30
    assert rel_err(isoperimetric_profile("0.2"), isoperimetric_profile("0.8")) < ULPS_30


def test_gaussian_mass_far_upper_tail():
    # Difference of erfc at 80 digits: 4.906713927147917534525689206572...e-198.
    # mpmath.quad over [30, 31] without break points is wrong in the 5th digit.
    reference = ref(lambda: (mpmath.erfc(30 / mpmath.sqrt(2)) - mpmath.erfc(31 / mpmath.sqrt(2))) / 2)
    assert rel_err(gaussian_mass(30, 31), reference) < ULPS_30


def test_gaussian_mass_against_quadrature():
    # phi(30 + s) = phi(30) exp(-30 s - s^2 / 2): a smooth integrand on [0, 1].
    def integral():
        body = mpmath.quad(lambda s: mpmath.exp(-30 * s - s * s / 2), [0, 0.05, 0.2, 1])
        return mpmath.npdf(30) * body
    reference = ref(integral, dps=50)
    assert rel_err(gaussian_mass(30, 31), reference) < mpmath.mpf("1e-28")


def test_gaussian_mass_short_interval_keeps_digits():
    a = mpmath.mpf(2)
    width = "1e-39"
    b = "2.000000000000000000000000000000000000001"
    # Over so short an interval the mass is width * phi(mid) to ~1e-78 relative error.
    reference = ref(lambda: mpmath.mpf(width) * mpmath.npdf(a + mpmath.mpf(width) / 2), dps=120)
    assert rel_err(gaussian_mass(a, b), reference) < ULPS_30


@pytest.mark.parametrize("a, b", [(-2, 3), (-50, -49), (-1e-10, 1e-10), ("-inf", 0), (0, "inf"), (5, 5)])
def test_gaussian_mass_cases(a, b):
    reference = ref(lambda: mpmath.ncdf(mpmath.mpf(b)) - mpmath.ncdf(mpmath.mpf(a)), dps=400)
    assert rel_err(gaussian_mass(a, b), reference) < ULPS_30


def test_gaussian_mass_reversed_interval_is_negative():
    with mpmath.workdps(60):
        assert gaussian_mass(1, 0) == -gaussian_mass(0, 1)


def test_precision_context_and_keyword():
    with isobounds.precision(60):
        assert isobounds.get_dps() == 60
        value = Phi_inv("0.1")
        reference = ref(lambda: mpmath.sqrt(2) * mpmath.erfinv(mpmath.mpf("-0.8")))
        assert rel_err(value, reference) < mpmath.mpf("1e-58")
    assert isobounds.get_dps() == 30
    value = Phi_inv("0.1", dps=45)
    assert rel_err(value, ref(lambda: mpmath.sqrt(2) * mpmath.erfinv(mpmath.mpf("-0.8")))) < mpmath.mpf("1e-43")


def test_precision_restores_mpmath_after_error():
    dps_before = mpmath.mp.dps
    with pytest.raises(RuntimeError):
        with isobounds.precision(50):
            raise RuntimeError("inside")
    assert mpmath.mp.dps == dps_before
    assert isobounds.get_dps() == 30


@pytest.mark.parametrize("value", [1, 0.25, "0.25", fractions.Fraction(1, 4), sympy.Rational(1, 4), mpmath.mpf("0.25"), np.float64(0.25)])
def test_input_kinds(value):
    assert Phi_inv(value) == Phi_inv(mpmath.mpf(1) / 4) or value == 1


def test_sympy_exact_input_keeps_digits():
    # Fraction(1, 3) is exact; the float 1/3 is not.
    exact = Phi_inv(sympy.Rational(1, 3))
    reference = ref(lambda: mpmath.sqrt(2) * mpmath.erfinv(mpmath.mpf(2) / 3 - 1))
    assert rel_err(exact, reference) < ULPS_30
    assert rel_err(Phi_inv(1 / 3), reference) > mpmath.mpf("1e-20")


@pytest.mark.parametrize(
    "func, arg, name",
    [(Phi_inv, 1.5, "p"), (Phi_inv, -0.1, "p"), (Phi_c_inv, 2, "q"), (isoperimetric_profile, -1e-9, "p"), (Phi, float("nan"), "x")],
)
def test_bad_values_raise_with_name(func, arg, name):
    with pytest.raises(ValueError, match=rf"{name}"):
        func(arg)


@pytest.mark.parametrize("arg", [True, 1j, "abc", sympy.Symbol("x"), None, [object()]])
def test_bad_kinds_raise(arg):
    with pytest.raises((TypeError, ValueError)):
        Phi(arg)


def test_bad_dps():
    with pytest.raises(ValueError, match="dps"):
        Phi(1, dps=0)
    with pytest.raises(TypeError, match="dps"):
        Phi(1, dps=2.5)
    with pytest.raises(ValueError, match="dps"):
        with isobounds.precision(-3):
            pass


def test_array_input_dispatches_to_float64():
    x = np.array([-40.0, -1.0, 0.0, 2.0])
    out = Phi(x)
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, sc.ndtr(x), rtol=0, atol=0)
    np.testing.assert_array_equal(Phi([0.0, 1.0]), sc.ndtr(np.array([0.0, 1.0])))


@pytest.mark.parametrize("use_flint", [True, False])
@pytest.mark.parametrize("q", ["1e-300", "1e-30", "0.3", "0.4999999"])
def test_Phi_c_inv_both_backends(monkeypatch, use_flint, q):
    from isobounds import gaussian

    if use_flint:
        pytest.importorskip("flint")
    else:
        monkeypatch.setattr(gaussian, "flint", None)
    with isobounds.precision(50):
        value = Phi_c_inv(q)
    assert rel_err(value, ref(lambda: -ref_quantile(q))) < mpmath.mpf("1e-49")


@pytest.mark.parametrize("x", ["1e150", "1e160", "1e300", "-1e300"])
def test_Phi_huge_arguments(x):
    # log Phi(-t) = -t^2/2 - log(t sqrt(2 pi)) + log(1 - 1/t^2 + ...): the
    # correction is below 1e-300 here, so the first two terms are exact to 30 digits.
    t = ref(lambda: abs(mpmath.mpf(x)))
    reference = ref(lambda: -t * t / 2 - mpmath.log(t * mpmath.sqrt(2 * mpmath.pi)))
    tail = Phi_c(x) if x[0] != "-" else Phi(x)
    assert rel_err(log_Phi(ref(lambda: -t)), reference) < ULPS_30
    assert rel_err(ref(lambda: mpmath.log(tail)), reference) < ULPS_30
    assert gaussian_mass(0, x) == (mpmath.mpf("0.5") if x[0] != "-" else -mpmath.mpf("0.5"))


@pytest.mark.parametrize("x", ["-1e6", "-1e8", "-1e10", "-1e50", "-1e99"])
def test_Phi_far_tail_keeps_relative_precision(x):
    # The result's relative condition number is x^2, so the reference needs
    # 2 log10|x| more digits than the 30 requested.
    t = mpmath.mpf(x)
    digits = 40 + 2 * int(mpmath.log10(-t)) + 10
    reference = ref(lambda: mpmath.ncdf(mpmath.mpf(x)), dps=digits)
    assert rel_err(Phi(x), reference) < ULPS_30
    assert rel_err(phi(x), ref(lambda: mpmath.npdf(mpmath.mpf(x)), dps=digits)) < ULPS_30


def test_threads_do_not_disturb_each_other():
    import threading

    reference = isobounds.gaussian_mass("0.3", "0.3000000000000000000001", dps=60)
    wrong = []

    def high():
        for _ in range(200):
            value = isobounds.gaussian_mass("0.3", "0.3000000000000000000001", dps=60)
            if value != reference:
                wrong.append(value)

    def low():
        for _ in range(200):
            Phi_inv("0.3", dps=5)

    threads = [threading.Thread(target=f) for f in (high, low, high, low)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
    assert mpmath.mp.dps == 15


def test_overlapping_precision_blocks_restore_mpmath():
    # Thread A opens precision(50), then thread B opens precision(20), with
    # mpmath.mp.prec set to 80 bits beforehand. A ends first and B last.
    import threading

    steps = [threading.Event() for _ in range(4)]
    seen = {}

    def block_a():
        with isobounds.precision(50):
            steps[0].set()
            steps[1].wait(10)
        seen["after A"] = mpmath.mp.dps
        steps[2].set()

    def block_b():
        steps[0].wait(10)
        with isobounds.precision(20):
            steps[1].set()
            steps[2].wait(10)
            seen["inside B"] = mpmath.mp.dps
        steps[3].set()

    original = mpmath.mp.prec
    mpmath.mp.prec = 80
    try:
        threads = [threading.Thread(target=f) for f in (block_a, block_b)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert steps[3].is_set()
        assert seen["after A"] == 20
        assert seen["inside B"] == 20
        assert mpmath.mp.prec == 80
    finally:
        mpmath.mp.prec = original
