"""Tests of ``verify()``: it passes, its report keeps proofs and numerical checks apart, and it can fail."""

import pytest
import sympy
from sympy import S

from isobounds.symbolic import Check, VerificationReport, verify
from isobounds.symbolic.verification import CHECKED, PROVED, _identity_check, _inequality_check, _Sampler


@pytest.fixture(scope="module")
def report():
    return verify()


def test_verify_passes(report):
    assert isinstance(report, VerificationReport)
    assert report.passed, str(report)


def test_report_covers_every_result(report):
    topics = {check.topic for check in report.checks}
    for topic in ("Theorem 1", "Corollary 2", "Corollary 3", "Corollary 5", "Corollary 6", "Theorem 7", "Corollary 8"):
        assert topic in topics


@pytest.mark.parametrize(
    "fragment",
    [
        "(2) implies (1)",
        "sigma sqrt(2 pi) I(lambda)",
        "the sharp bound",
        "tends to 1/2 as D -> infinity",
        "tends to 0 as L -> infinity",
        "solves dJ/dzeta = 0",
        "J(zeta*) = kl(beta || v)",
        "zeta* >= 0 exactly when beta >= v",
        "Theorem 4's bracket",
        "Theorem 7's corrected bracket",
        "I(F(0))/p(0)",
        "is concave on (0, 1)",
    ],
)
def test_report_contains_check(report, fragment):
    assert any(fragment in check.claim for check in report.checks), fragment


def test_methods_are_proof_or_numeric(report):
    assert {check.method for check in report.checks} <= {PROVED, CHECKED}
    assert set(report.proved) | set(report.checked_numerically) == set(report.checks)


def test_sharp_bound_is_only_checked_numerically(report):
    sharp = [check for check in report.checks if "sharp bound I(nu(H))" in check.claim]
    assert len(sharp) == 1
    assert sharp[0].method == CHECKED
    assert not sharp[0].proved


def test_report_text_separates_sections(report):
    text = str(report)
    proved_at = text.index("Proved symbolically")
    numeric_at = text.index("Checked numerically at 50 random points at 50 digits, not proved")
    assert proved_at < numeric_at
    for check in report.checked_numerically:
        assert text.index(check.claim) > numeric_at
    for check in report.proved:
        assert text.index(check.claim) < numeric_at


def test_numeric_fallback_catches_false_identity():
    # sin(x)^2 + cos(x)^2 - 1 + x/10**40 is not 0; at 50 digits the 1e-40 term is visible.
    sampler = _Sampler(seed=1, points=50, dps=50)
    x = sympy.Symbol("x", positive=True)
    lhs = sympy.sin(x) ** 2 + sympy.cos(x) ** 2 + x / sympy.Integer(10) ** 40
    check = _identity_check(sampler, "test", "false identity", lhs, S.One, {x: (1, 2)}, "unused", closed_form=False)
    assert check.method == CHECKED
    assert not check.passed


def test_numeric_inequality_catches_violation():
    sampler = _Sampler(seed=2, points=50, dps=50)
    x = sympy.Symbol("x", positive=True)
    check = _inequality_check(sampler, "test", "x >= 1/2", x, S.Half, {x: (0, 1)}, "unused")
    assert check.method == CHECKED
    assert not check.passed


def test_symbolic_proof_of_true_identity():
    sampler = _Sampler(seed=0, points=50, dps=50)
    x = sympy.Symbol("x", real=True)
    check = _identity_check(sampler, "test", "identity", sympy.sin(x) ** 2 + sympy.cos(x) ** 2, S.One, {x: (0, 1)}, "trig")
    assert check == Check("test", "identity", PROVED, True, "trig")


def test_failed_report_marks_failure():
    failing = Check("test", "claim", CHECKED, False, "detail")
    report = VerificationReport((failing,), dps=50, points=50, seed=0)
    assert not report.passed
    assert "1 FAILED" in str(report)
    assert "[FAIL]" in str(report)


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"dps": True}, TypeError, r"dps must be an integer >= 15, got dps=True of type bool"),
        ({"dps": 20.0}, TypeError, r"dps must be an integer >= 15, got dps=20.0 of type float"),
        ({"dps": 14}, ValueError, r"dps must be an integer >= 15, got dps=14"),
        ({"points": "5"}, TypeError, r"points must be an integer >= 1, got points='5' of type str"),
        ({"points": 0}, ValueError, r"points must be an integer >= 1, got points=0"),
    ],
)
def test_verify_argument_errors(arguments, error, message):
    with pytest.raises(error, match=message):
        verify(**arguments)
