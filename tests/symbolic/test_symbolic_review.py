"""Corollaries 6 and 8 for sigma < 1/2 and far modes, where the slab mass and the model mass are both near 1/2.

For ``sigma < 1/2`` the slab of Corollaries 6 and 8 reaches beyond the far
mean, so its mass is ``1/2 - [Phi(-u) + Phi(l)]/2`` with
``u = D (1 - 2 sigma) / (4 sigma^2)``. For ``D = 60`` and ``sigma = 1/4``,
``u = 120`` and ``Phi(-120)`` is about ``4e-3130``. The bounds are the
difference of that slab mass and a model mass near 1/2 (Corollary 6), or
the binary KL divergence between the two (Corollary 8, weight 1/2). Before
the fix, both came out 0 there, because the two values near 1/2 cancel
beyond what ``evalf`` resolves with 2000 extra digits. The references are
the published formulas evaluated in arb balls (python-flint) with enough
digits to absorb the cancellation, or, far beyond that, the leading term of
the bound in mpmath.
"""

import flint
import mpmath
import pytest
import sympy
from sympy import Rational, S

import isobounds
from isobounds import symbolic
from isobounds.symbolic import Phi, kl_bin

DIGITS = 30
TOLERANCE = mpmath.mpf(10) ** (5 - DIGITS)


def _value(expr):
    """Return the sympy number ``expr`` evaluated to DIGITS digits as an mpf."""
    value = expr.evalf(DIGITS)
    assert value.is_Float, expr
    return value._to_mpmath(200)


def _close(found, expected, tolerance=TOLERANCE):
    return abs(found - expected) <= tolerance * abs(expected)


def _arb(x):
    x = sympy.Rational(x)
    return flint.arb(x.p) / x.q


def _arb_Phi(x):
    return (-x / flint.arb(2).sqrt()).erfc() / 2


def _to_mpf(ball):
    """Return the midpoint of an arb ball whose radius is below 1e-40 of it, as an mpf."""
    assert ball.rad() < abs(ball.mid()) * flint.arb("1e-40") or ball == 0, ball
    with mpmath.workdps(60):
        return mpmath.mpf(ball.mid().str(50, radius=False))


def _published_corollary_6(D, s, L, dps):
    """Corollary 6 as published, in arb balls at ``dps`` digits."""
    old = flint.ctx.dps
    flint.ctx.dps = dps
    try:
        D, s, L = _arb(D), _arb(s), _arb(L)
        slab = (_arb_Phi(D * (2 * s + 1) / (4 * s**2)) - _arb_Phi(D * (2 * s - 1) / (4 * s**2))) / 2
        bracket = _arb_Phi(D / (4 * s * L)) - flint.arb(1) / 2 - slab
        return mpmath.mpf(0) if bracket < 0 else _to_mpf(bracket)
    finally:
        flint.ctx.dps = old


def _published_corollary_8(D, s, L, dps):
    """Corollary 8 as corrected, weight 1/2, in arb balls at ``dps`` digits."""
    old = flint.ctx.dps
    flint.ctx.dps = dps
    try:
        D, s, L = _arb(D), _arb(s), _arb(L)
        a = _arb_Phi(D / (4 * s * L)) - flint.arb(1) / 2
        b = (_arb_Phi(D * (2 * s + 1) / (4 * s**2)) - _arb_Phi(D * (2 * s - 1) / (4 * s**2))) / 2
        if a < b:
            return mpmath.mpf(0)
        return _to_mpf(a * (a / b).log() + (1 - a) * ((1 - a) / (1 - b)).log())
    finally:
        flint.ctx.dps = old


def test_corollary_6_far_modes_small_sigma_matches_arb():
    # About 2.0e-3130: Phi(-120)/2, the published form needs 3130 digits to resolve it.
    expected = _published_corollary_6(60, Rational(1, 4), Rational(1, 10), dps=3250)
    assert 0 < expected < mpmath.mpf(10) ** -3000
    found = _value(symbolic.tv_lower_bound_two_gaussians(0, 60, Rational(1, 4), Rational(1, 10)))
    assert _close(found, expected)
    numeric = isobounds.tv_lower_bound_two_gaussians(0, 60, "0.25", "0.1", dps=DIGITS)
    assert _close(numeric, expected, mpmath.mpf(10) ** (2 - DIGITS))


def test_corollary_8_far_modes_small_sigma_matches_arb():
    # About 8.0e-6260: kl(a || b) of two masses within 2e-3130 of each other near 1/2.
    expected = _published_corollary_8(60, Rational(1, 4), Rational(1, 10), dps=6400)
    assert 0 < expected < mpmath.mpf(10) ** -6000
    for weight in (S.Half, "0.5", 0.5):
        found = _value(symbolic.kl_lower_bound_two_gaussians(0, 60, Rational(1, 4), Rational(1, 10), weight))
        assert _close(found, expected), weight
    numeric = isobounds.kl_lower_bound_two_gaussians(0, 60, "0.25", "0.1", "0.5", dps=DIGITS)
    assert _close(numeric, expected, mpmath.mpf(10) ** (2 - DIGITS))


@pytest.mark.parametrize("D", ["1e3", "1e100"])
def test_corollary_6_extreme_separation(D):
    # sigma = 1/4, L = 1/10: u = 2 D, l = -6 D, c = 10 D. The bound is
    # Phi(-u)/2 + Phi(l)/2 - Phi(-c), and the last two are below 1e-(1e6) relative to the first.
    # exp(-u^2 / 2) needs the digits of u^2 / 2 (201 for D = 1e100) on top of 60.
    with mpmath.workdps(300):
        expected = mpmath.ncdf(-2 * mpmath.mpf(D)) / 2
    found = _value(symbolic.tv_lower_bound_two_gaussians(0, D, "0.25", "0.1"))
    assert _close(found, expected)
    numeric = isobounds.tv_lower_bound_two_gaussians(0, D, "0.25", "0.1", dps=DIGITS)
    assert _close(numeric, expected, mpmath.mpf(10) ** (2 - DIGITS))


@pytest.mark.parametrize("D", ["1e3", "1e11"])
def test_corollary_8_extreme_separation(D):
    # a = 1/2 - Phi(-c), b = 1/2 - T with T = Phi(-u)/2 + Phi(l)/2, and
    # kl(a || b) = (a - b)^2 / (2 b (1 - b)) (1 + O(T)) = 2 T^2 (1 + O(T)).
    with mpmath.workdps(100):
        expected = 2 * (mpmath.ncdf(-2 * mpmath.mpf(D)) / 2) ** 2
    found = _value(symbolic.kl_lower_bound_two_gaussians(0, D, "0.25", "0.1", "0.5"))
    assert _close(found, expected)
    numeric = isobounds.kl_lower_bound_two_gaussians(0, D, "0.25", "0.1", "0.5", dps=DIGITS)
    assert _close(numeric, expected, mpmath.mpf(10) ** (2 - DIGITS))


def test_small_sigma_negative_bracket_is_zero():
    # L = 10^6: Phi(c) - 1/2 is about 2.4e-5, far below the slab mass, about 1/2.
    assert _published_corollary_6(60, Rational(1, 4), 10**6, dps=50) == 0
    assert symbolic.tv_lower_bound_two_gaussians(0, 60, Rational(1, 4), 10**6) == 0
    assert _published_corollary_8(60, Rational(1, 4), 10**6, dps=50) == 0
    assert symbolic.kl_lower_bound_two_gaussians(0, 60, Rational(1, 4), 10**6, S.Half) == 0


def test_small_sigma_moderate_point():
    # D = 10, sigma = 1/4, L = 1/10: the bounds are 1.4e-89 and 3.8e-178, which arb
    # at 400 digits resolves in the published form.
    assert _close(_value(symbolic.tv_lower_bound_two_gaussians(0, 10, Rational(1, 4), Rational(1, 10))),
                  _published_corollary_6(10, Rational(1, 4), Rational(1, 10), dps=400))
    assert _close(_value(symbolic.kl_lower_bound_two_gaussians(0, 10, Rational(1, 4), Rational(1, 10), S.Half)),
                  _published_corollary_8(10, Rational(1, 4), Rational(1, 10), dps=400))
    L = sympy.Symbol("L", positive=True)
    partly_symbolic = symbolic.tv_lower_bound_two_gaussians(0, 10, Rational(1, 4), L)
    assert _close(_value(partly_symbolic.subs(L, Rational(1, 10))),
                  _published_corollary_6(10, Rational(1, 4), Rational(1, 10), dps=400))


def test_kl_bin_tiny_gap_near_half():
    # kl(1/2 - Phi(-200) || 1/2 - Phi(-100)): the gap Phi(-100) - Phi(-200) is about 1.3e-2174.
    old = flint.ctx.dps
    flint.ctx.dps = 4500
    try:
        half = flint.arb(1) / 2
        a, b = half - _arb_Phi(flint.arb(-200)), half - _arb_Phi(flint.arb(-100))
        expected = _to_mpf(a * (a / b).log() + (1 - a) * ((1 - a) / (1 - b)).log())
    finally:
        flint.ctx.dps = old
    found = _value(kl_bin(S.Half - Phi(-200), S.Half - Phi(-100)))
    assert _close(found, expected)


def test_kl_bin_far_apart_skips_near_equal_path(monkeypatch):
    # The Taylor path needs |a - b| below 2^-(prec + guard bits): for a gap of about 0.7
    # its three strict evaluations only cost time (5 times the whole evaluation).
    from isobounds.symbolic import functions

    calls = []
    original = functions._kl_near_equal

    def counting(*args):
        calls.append(args)
        return original(*args)

    monkeypatch.setattr(functions, "_kl_near_equal", counting)
    found = _value(kl_bin(Phi(Rational(-1, 2)), Phi(Rational(-3, 2)) / 3))
    assert calls == []
    with mpmath.workdps(60):
        a, b = mpmath.ncdf(-mpmath.mpf(1) / 2), mpmath.ncdf(-mpmath.mpf(3) / 2) / 3
        expected = a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))
    assert _close(found, expected)

    # A gap of about 1e-89 still takes the Taylor path.
    near = _value(kl_bin(S.Half - Phi(-40), S.Half - Phi(-20) / 2 - Phi(-60) / 2))
    assert len(calls) >= 1
    with mpmath.workdps(400):
        a = mpmath.mpf(1) / 2 - mpmath.ncdf(-40)
        b = mpmath.mpf(1) / 2 - mpmath.ncdf(-20) / 2 - mpmath.ncdf(-60) / 2
        expected = a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))
    assert _close(near, expected)
