"""Every digit that the command line prints is correctly rounded.

The references are the formulas of Corollary 5, Theorem 1 and Corollary 8 of
Salmona et al. (2022), evaluated with plain mpmath at 80 digits, where
the deep-tail differences of Phi are written as differences of upper tails.
"""

import json

import mpmath
import pytest

from isobounds.cli import main

REFERENCE_DPS = 80


def _run_json(capsys, *argv):
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _run_table(capsys, *argv):
    assert main(list(argv)) == 0
    lines = capsys.readouterr().out.splitlines()
    header, values = lines[0].split(), lines[2].split()
    return dict(zip(header, values))


def _inverse_phi(p):
    """Phi^-1(p) for p <= 1/2 by Newton's method on log Phi, started at the tail asymptote."""
    if p == mpmath.mpf(1) / 2:
        return mpmath.mpf(0)
    return mpmath.findroot(lambda x: mpmath.log(mpmath.ncdf(x)) - mpmath.log(p), -mpmath.sqrt(-2 * mpmath.log(p)))


def _disconnected(weight, distance, lip):
    """Corollary 5: Phi(D/(2L) + Phi^-1(lam)) - lam with lam = max(w, 1 - w)."""
    with mpmath.workdps(REFERENCE_DPS):
        small = min(mpmath.mpf(weight), 1 - mpmath.mpf(weight))
        # With c = Phi^-1(1 - small) = -Phi^-1(small): Phi(x + c) - (1 - small) = small - Phi(-x - c).
        return small - mpmath.ncdf(_inverse_phi(small) - mpmath.mpf(distance) / (2 * mpmath.mpf(lip)))


def _kl_balanced(m2, sigma, lip, model_weight):
    """Corrected Corollary 8 with m1 = 0: kl_bin(a || b) when a >= b, else 0."""
    with mpmath.workdps(REFERENCE_DPS):
        D, s, L, lam = (mpmath.mpf(x) for x in (m2, sigma, lip, model_weight))
        a = mpmath.ncdf(D / (4 * s * L) + _inverse_phi(lam)) - lam
        b = (mpmath.ncdf(-D * (2 * s - 1) / (4 * s**2)) - mpmath.ncdf(-D * (2 * s + 1) / (4 * s**2))) / 2
        if a < b:
            return mpmath.mpf(0)
        return a * mpmath.log(a / b) + (1 - a) * mpmath.log((1 - a) / (1 - b))


def _shell(mass, r, lip):
    """Theorem 1: beta = Phi(r/L + Phi^-1(mass)) - mass, for mass <= 1/2."""
    with mpmath.workdps(REFERENCE_DPS):
        p = mpmath.mpf(mass)
        return mpmath.ncdf(mpmath.mpf(r) / mpmath.mpf(lip) + _inverse_phi(p)) - p


def _nstr(value, digits):
    with mpmath.workdps(REFERENCE_DPS):
        return mpmath.nstr(value, digits)


# Each value lies within 0.01 of a unit in the last printed digit from a
# rounding boundary (see the digits after the printed ones), but more than
# 0.001 away. A value rounded to the working precision in binary before
# printing fell on the wrong side of the boundary.
CASES = [
    # Last digits 0.1351605103112707529293095147974925...: the 30th digit is 7, not 8.
    (("disconnected", "--weight", "0.236", "--distance", "31.0", "--lip", "27.8"), "tv_bound", 30,
     lambda: _disconnected("0.236", "31.0", "27.8")),
    # 8.9470226445271049155e-22: the 15th digit is 0, not 1.
    (("disconnected", "--weight", "1e-20", "--distance", "3", "--lip", "150"), "tv_bound", 15,
     lambda: _disconnected("1e-20", "3", "150")),
    # 0.99600673912041050345...: the 15th digit is 1 (...411), not 0.
    (("kl", "--m1", "0", "--m2", "7.5", "--sigma", "2", "--lip", "0.3", "--model-weight", "0.5"), "kl_bound", 15,
     lambda: _kl_balanced("7.5", "2", "0.3", "0.5")),
    # 0.8169857917472317498920512728085011...: the 30th digit is 9, not 8.
    (("isoperimetry", "--mass", "0.175", "--r", "11.7", "--lip", "3.5"), "beta", 30,
     lambda: _shell("0.175", "11.7", "3.5")),
]


@pytest.mark.parametrize("argv, column, digits, reference", CASES, ids=[case[0][0] + str(i) for i, case in enumerate(CASES)])
def test_json_digits_are_correctly_rounded(capsys, argv, column, digits, reference):
    # --json prints --dps digits. They used to come from a value rounded to --dps digits in binary,
    # so the last one was off by one in 7 of 450 random outputs at the default --dps 30.
    out = _run_json(capsys, *argv, "--dps", str(digits))
    assert out[column] == _nstr(reference(), digits)


@pytest.mark.parametrize("argv, column, digits, reference", CASES, ids=[case[0][0] + str(i) for i, case in enumerate(CASES)])
def test_table_digits_are_correctly_rounded(capsys, argv, column, digits, reference):
    # --digits above the default --dps used to be computed at exactly --digits digits.
    row = _run_table(capsys, *argv, "--digits", str(digits), "--dps", str(digits))
    assert row[column] == _nstr(reference(), digits)
